//! Command handlers: turn parsed CLI arguments into a context and run what was asked.

use crate::cli::{BuildArgs, Cli, Command, Global, ReleaseArgs};
use crate::context::{self, Context, Options};
use crate::error::{Error, Result};
use crate::pipeline;
use crate::plan::Plan;
use std::path::Path;
use std::time::Instant;

fn options(g: &Global, snapshot: bool) -> Result<Options> {
    let deadline = match &g.timeout {
        Some(t) => {
            let d = humantime::parse_duration(t).map_err(|e| Error::Usage(format!("--timeout {t}: {e} (e.g. 30m, 1h30m, 90s)")))?;
            Some(Instant::now() + d)
        }
        None => None,
    };
    if g.parallelism == Some(0) {
        return Err(Error::Usage("--parallelism must be at least 1".into()));
    }
    Ok(Options {
        snapshot,
        clean: g.clean,
        parallelism: g.parallelism.unwrap_or_else(context::default_parallelism),
        skip: context::parse_skip(&g.skip)?,
        deadline,
        ..Default::default()
    })
}

/// Run the parsed command in `root`.
pub fn run(cli: Cli, root: &Path) -> Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Check => {
            let (loaded, _, _) = context::load_config(root, g.config.as_deref())?;
            eprintln!("{} is valid", loaded.file.display());
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::schema::json());
            Ok(())
        }
        Command::Init(a) => crate::init::run(root, a.force),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "rel", &mut std::io::stdout());
            Ok(())
        }
        Command::Build(a) => build(g, &a, root),
        Command::Release(a) => release(g, &a, root),
        Command::Changelog(_) | Command::NextVersion(_) => Err(Error::Usage("this command is not available yet in this version of rel".into())),
        Command::Continue(_) => Err(Error::Usage("`rel continue --merge` is not available yet in this version of rel".into())),
    }
}

fn build(g: &Global, a: &BuildArgs, root: &Path) -> Result<()> {
    let mut opts = options(g, a.snapshot)?;
    opts.single_target = a.single_target;
    opts.ids = a.ids.clone();
    let mut ctx = Context::new(root, g.config.as_deref(), opts)?;
    tracing::info!("building {} {}", ctx.config.project_name.as_deref().unwrap_or_default(), ctx.version);
    pipeline::run(&mut ctx, &pipeline::build_stages())?;
    tracing::info!("done: {} binaries in {}", ctx.artifacts.of_kind(crate::artifact::Kind::Binary).len(), ctx.rel_path(&ctx.dist));
    Ok(())
}

fn release(g: &Global, a: &ReleaseArgs, root: &Path) -> Result<()> {
    if a.split {
        return Err(Error::Usage("`rel release --split` is not available yet in this version of rel".into()));
    }
    let mut opts = options(g, a.snapshot)?;
    opts.dry_run = a.dry_run;
    let mut ctx = Context::new(root, g.config.as_deref(), opts)?;
    if a.dry_run {
        print!("{}", dry_run(&ctx)?);
        return Ok(());
    }
    tracing::info!("releasing {} {}{}", ctx.config.project_name.as_deref().unwrap_or_default(), ctx.version, if a.snapshot { " (snapshot)" } else { "" });
    pipeline::run(&mut ctx, &pipeline::release_stages())?;
    tracing::info!("release done: {}", ctx.rel_path(&ctx.dist));
    Ok(())
}

/// The plan as text: every target, output path and command.
pub fn dry_run(ctx: &Context) -> Result<String> {
    let plan = Plan::new(ctx)?;
    let mut out = String::new();
    out.push_str(&format!(
        "project: {}\nversion: {}\ntag: {}\nprevious tag: {}\ncommit: {}\nsnapshot: {}\ndist: {}\n",
        ctx.config.project_name.as_deref().unwrap_or_default(),
        ctx.version,
        ctx.tag,
        ctx.previous_tag.as_deref().unwrap_or("(none)"),
        ctx.git.commit,
        ctx.options.snapshot,
        ctx.rel_path(&ctx.dist),
    ));
    out.push_str(&format!("\nbuilds ({}):\n", plan.builds.len()));
    for pb in &plan.builds {
        out.push_str(&format!(
            "  {} {} -> {}\n    {}\n",
            pb.id,
            pb.target.name(),
            ctx.rel_path(&pb.output),
            crate::stage::build::describe_dry(ctx, pb)
        ));
    }
    out.push_str(&crate::stage::archive::describe_dry(ctx, &plan)?);
    out.push_str(&crate::stage::checksum::describe_dry(ctx)?);
    Ok(out)
}
