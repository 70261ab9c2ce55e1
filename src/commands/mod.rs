//! Command handlers: turn parsed CLI arguments into a context and run what was asked.

use crate::cli::{BuildArgs, Cli, Command, Global, ReleaseArgs};
use crate::context::{self, Context, Options};
use crate::error::{Error, Result};
use crate::pipeline;
use std::path::Path;

pub mod changelog;
pub mod healthcheck;
pub mod verify;
use std::time::Instant;

fn options(g: &Global, snapshot: bool) -> Result<Options> {
    let deadline = match &g.timeout {
        Some(t) => {
            let d = humantime::parse_duration(t)
                .map_err(|e| Error::Usage(format!("--timeout {t}: {e} (e.g. 30m, 1h30m, 90s)")))?;
            let deadline = Instant::now()
                .checked_add(d + std::time::Duration::from_secs(3))
                .ok_or_else(|| Error::Usage(format!("--timeout {t} is too long")))?;
            watchdog(d, t.clone());
            Some(deadline - std::time::Duration::from_secs(3))
        }
        None => None,
    };
    if g.parallelism == Some(0) {
        return Err(Error::Usage("--parallelism must be at least 1".into()));
    }
    Ok(Options {
        snapshot,
        clean: g.clean,
        parallelism: g
            .parallelism
            .unwrap_or_else(crate::options::default_parallelism),
        skip: crate::options::parse_skip(&g.skip)?,
        sequential: g.no_pipeline,
        deadline,
        ..Default::default()
    })
}

/// Child processes are killed at the deadline by `exec::run`; this is the backstop for work
/// that is not a child process (hashing, uploads), a few seconds later.
fn watchdog(d: std::time::Duration, text: String) {
    std::thread::spawn(move || {
        std::thread::sleep(d + std::time::Duration::from_secs(3));
        if let Some(s) = crate::interrupt::summary() {
            eprintln!("{s}");
        }
        eprintln!(
            "error: --timeout {text} reached; stopping (re-run to finish: completed work is kept)"
        );
        crate::dist::release_locks();
        std::process::exit(1);
    });
}

/// Run the parsed command started in `cwd`. Without `--config`, the project is found from
/// `cwd` up to the git root, so every command works from a subfolder.
pub fn run(cli: Cli, cwd: &Path) -> Result<()> {
    let g = &cli.global;
    let found;
    let root = match (&cli.command, &g.config) {
        (Command::Init(_), _) | (_, Some(_)) => cwd,
        _ => {
            found = crate::config::project_root(cwd);
            found.as_path()
        }
    };
    match cli.command {
        Command::Check(a) => {
            let result = check(g, root);
            if a.json {
                let file = crate::config::find(root, g.config.as_deref())
                    .map(|f| f.display().to_string())
                    .unwrap_or_default();
                let v = match &result {
                    Ok(()) => serde_json::json!({"config": file, "valid": true}),
                    Err(e) => {
                        serde_json::json!({"config": file, "valid": false, "error": crate::redact::redact(&e.to_string())})
                    }
                };
                println!("{v}");
            }
            result
        }
        Command::Schema => {
            print!("{}", crate::schema::json());
            Ok(())
        }
        Command::Init(a) => crate::init::run(root, a.force),
        Command::Healthcheck(a) => healthcheck::run(g, root, a.json),
        Command::Import(a) => import(cwd, &a),
        Command::Verify(a) => verify::run(g, &a, root),
        Command::Man(a) => man(&cwd.join(&a.dir)),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // The values of `--skip` and `--partial-by` are completed too; rel's own checks
            // (with their hints) stay the ones that parse them.
            let stages = clap::builder::PossibleValuesParser::new(crate::options::STAGES);
            let by = clap::builder::PossibleValuesParser::new(["goos", "target"]);
            let mut cmd = Cli::command()
                .mut_arg("skip", |a| a.value_parser(stages.clone()))
                .mut_subcommand("release", |c| {
                    c.mut_arg("partial_by", |a| a.value_parser(by.clone()))
                })
                .mut_subcommand("plan", |c| {
                    c.mut_arg("partial_by", |a| a.value_parser(by.clone()))
                })
                .mut_subcommand("ci", |c| {
                    c.mut_arg("partial_by", |a| a.value_parser(by.clone()))
                });
            clap_complete::generate(shell, &mut cmd, "rel", &mut std::io::stdout());
            Ok(())
        }
        Command::Build(a) => build(g, &a, root),
        Command::Plan(a) => {
            let by = crate::options::PartialBy::parse(&a.partial_by)?;
            let ctx = new_context(g, root, options(g, true)?)?;
            let m = crate::ci::matrix(&ctx.plan, by);
            if a.json {
                println!("{m}");
            } else {
                for s in m["include"].as_array().into_iter().flatten() {
                    println!(
                        "{} ({}): {}",
                        s["share"].as_str().unwrap_or_default(),
                        s["runner"].as_str().unwrap_or_default(),
                        s["targets"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
            }
            Ok(())
        }
        Command::Ci(a) => ci(g, &a, root),
        Command::Release(a) => release(g, &a, root),
        Command::Changelog(a) => changelog::changelog(g, &a, root),
        Command::NextVersion(a) => changelog::next_version(&a, root),
        Command::Continue(a) if a.merge => merge(g, root),
        Command::Continue(_) => Err(Error::Usage("rel continue needs --merge".into())),
    }
}

/// `rel check`: everything a snapshot release checks before its first side effect — every
/// section's checks, every template rendered with the real context, every output name
/// computed and claimed, every hook split — so a config that passes does not stop the run
/// with exit 2. Nothing is built or written.
fn check(g: &Global, root: &Path) -> Result<()> {
    let checked = pipeline::load_config(root, g.config.as_deref())?;
    let file = checked.0.file.clone();
    let mut opts = options(g, true)?;
    opts.dry_run = true;
    let mut ctx = Context::new(root, checked, opts)?;
    let stages = pipeline::release_stages();
    crate::stage::plan_all(&mut ctx, &stages)?;
    crate::stage::preflight_all(&ctx, &stages)?;
    eprintln!("{} is valid", file.display());
    Ok(())
}

/// Load and check the config, then build the context (with the plan's builds).
fn new_context(g: &Global, root: &Path, opts: Options) -> Result<Context> {
    let checked = pipeline::load_config(root, g.config.as_deref())?;
    Context::new(root, checked, opts)
}

fn build(g: &Global, a: &BuildArgs, root: &Path) -> Result<()> {
    let start = Instant::now();
    let mut opts = options(g, a.snapshot)?;
    opts.single_target = a.single_target;
    opts.ids = a.ids.clone();
    let mut ctx = new_context(g, root, opts)?;
    tracing::info!(
        "building {} {}",
        ctx.config.project_name.as_deref().unwrap_or_default(),
        ctx.version
    );
    if a.output.is_some() && ctx.plan.builds.len() != 1 {
        return Err(Error::Usage(format!(
            "-o: {} builds match; choose one with --id",
            ctx.plan.builds.len()
        )));
    }
    pipeline::run(&mut ctx, &pipeline::build_stages())?;
    let bins = ctx.artifacts.of_kind(crate::artifact::Kind::Binary);
    if let (Some(out), Some(bin)) = (&a.output, bins.first()) {
        let dest = root.join(out);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
        }
        std::fs::copy(ctx.root.join(&bin.path), &dest)
            .map_err(|e| Error::io("cannot copy the binary to", &dest, e))?;
        if !a.json {
            println!("{}", dest.display());
        }
    } else if a.single_target
        && !a.json
        && let Some(bin) = bins.first()
    {
        println!("{}", ctx.root.join(&bin.path).display());
    }
    finish(g, &ctx, "build", a.json, start);
    tracing::info!(
        "done: {} in {}",
        plural(bins.len(), "binary", "binaries"),
        ctx.rel_path(&ctx.dist)
    );
    Ok(())
}

use crate::summary::plural;

/// The end of a run: the table of what was made (stderr), or the JSON summary (stdout).
fn finish(g: &Global, ctx: &Context, command: &str, json: bool, start: Instant) {
    if json {
        println!("{}", crate::summary::json(ctx, command, start.elapsed()));
    } else if !g.quiet {
        eprint!("{}", crate::summary::table(ctx, start.elapsed()));
    }
}

fn release(g: &Global, a: &ReleaseArgs, root: &Path) -> Result<()> {
    let start = Instant::now();
    let mut opts = options(g, a.snapshot)?;
    opts.dry_run = a.dry_run;
    opts.single_target = a.single_target;
    if a.split {
        let by = crate::options::PartialBy::parse(a.partial_by.as_deref().unwrap_or("goos"))?;
        let name = match &a.partial_target {
            Some(t) => t.clone(),
            None if by == crate::options::PartialBy::Goos => {
                crate::target::Target::host_os_arch().0.to_string()
            }
            None => {
                return Err(Error::Usage(
                    "--partial-by target needs --partial-target TARGET".into(),
                ));
            }
        };
        opts.phase = context::Phase::Split;
        opts.share = Some(crate::options::Share { by, name });
    } else if a.partial_by.is_some() || a.partial_target.is_some() {
        return Err(Error::Usage(
            "--partial-by and --partial-target go with --split".into(),
        ));
    }
    let mut ctx = new_context(g, root, opts)?;
    if a.dry_run {
        let stages = if ctx.options.share.is_some() {
            pipeline::split_stages()
        } else {
            pipeline::release_stages()
        };
        crate::stage::plan_all(&mut ctx, &stages)?;
        // Registry access is checked once: its lines go in the plan, its result in the exit code.
        let (access, images_ok) = crate::stage::image::dry_run_access(&ctx)?;
        if a.json {
            println!("{}", crate::summary::plan_json(&ctx));
        } else {
            print!("{}", dry_run(&ctx, &access)?);
        }
        // Extra files that exist now are listed among the uploads.
        if crate::stage::Stage::skip(&crate::stage::extra::ExtraFiles, &ctx).is_none() {
            let _ = crate::stage::Stage::run(&crate::stage::extra::ExtraFiles, &ctx);
        }
        let (text, checks) = crate::stage::publish::dry_run(&ctx);
        if !a.json {
            print!("{text}");
        }
        checks?;
        // A refused registry is as much a failed check as a refused GitHub token.
        if !images_ok {
            return Err(Error::Failed(
                "the dry run's access check failed for an image repository (see `access: FAILED` above)".into(),
            ));
        }
        return Ok(());
    }
    tracing::info!(
        "releasing {} {}{}",
        ctx.config.project_name.as_deref().unwrap_or_default(),
        ctx.version,
        if a.snapshot { " (snapshot)" } else { "" }
    );
    if let Some(share) = ctx.options.share.clone() {
        pipeline::run(&mut ctx, &pipeline::split_stages())?;
        crate::split::write_context(&ctx, &share)?;
        tracing::info!(
            "share {} done: {}; copy it into the merge job's dist/ and run `rel continue --merge`",
            share.name,
            ctx.rel_path(&ctx.dist)
        );
        finish(g, &ctx, "release --split", a.json, start);
        return Ok(());
    }
    pipeline::run(&mut ctx, &pipeline::release_stages())?;
    tracing::info!("release done: {}", ctx.rel_path(&ctx.dist));
    finish(g, &ctx, "release", a.json, start);
    if a.verify {
        // The last step: what was published, read back from the outside.
        let args = crate::cli::VerifyArgs {
            tag: Some(ctx.tag.clone()),
            json: false,
        };
        verify::run(g, &args, root)?;
    }
    Ok(())
}

fn merge(g: &Global, root: &Path) -> Result<()> {
    // The shares say whether this release is a snapshot; the merge follows them.
    let checked = pipeline::load_config(root, g.config.as_deref())?;
    let dist = root.join(&checked.1.dist);
    let shares = crate::split::read_shares(&dist)?;
    let snapshot = shares.iter().any(|(_, c)| c.snapshot);
    let mut opts = options(g, snapshot)?;
    opts.phase = context::Phase::Merge;
    let mut ctx = Context::new(root, checked, opts)?;
    // Names, templates and the token are checked before the shares are read.
    crate::stage::plan_all(&mut ctx, &pipeline::merge_stages())?;
    crate::stage::preflight_all(&ctx, &pipeline::merge_stages())?;
    ctx.artifacts = crate::split::gather(&shares, &ctx)?;
    tracing::info!(
        "merging {} artifacts of {} {}",
        ctx.artifacts.all().len(),
        ctx.config.project_name.as_deref().unwrap_or_default(),
        ctx.version
    );
    pipeline::run_merge(&mut ctx, &pipeline::merge_stages())?;
    tracing::info!("release done: {}", ctx.rel_path(&ctx.dist));
    Ok(())
}

/// The plan as text: every target, output name, path, command and reference, read from the
/// one plan object the run takes its names from.
/// `access` is the registry access lines to show under the images.
pub fn dry_run(ctx: &Context, access: &[String]) -> Result<String> {
    let plan = &ctx.plan;
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
    let skipped = |stage: &str| {
        plan.skipped
            .iter()
            .find(|(s, _)| s == stage)
            .map(|(_, r)| r.clone())
    };
    if !plan.universals.is_empty() {
        out.push_str(&format!(
            "\nuniversal binaries ({}):\n",
            plan.universals.len()
        ));
        for u in &plan.universals {
            let from: Vec<String> = u
                .sources
                .iter()
                .map(|s| format!("{} {}", s.id, s.target.name()))
                .collect();
            out.push_str(&format!(
                "  {} {} -> {}\n    joins {}{}\n",
                u.binary.id,
                u.binary.target.name(),
                ctx.rel_path(&u.binary.output),
                from.join(" + "),
                if u.replace {
                    "; replaces them in archives"
                } else {
                    ""
                }
            ));
        }
    }
    match skipped("archive") {
        Some(reason) => out.push_str(&format!("\narchives: skipped ({reason})\n")),
        None => {
            out.push_str(&format!("\narchives ({}):\n", plan.archives.len()));
            for p in &plan.archives {
                let bins: Vec<String> = p
                    .binaries
                    .iter()
                    .map(|b| format!("{}:{}", b.id, b.binary))
                    .collect();
                out.push_str(&format!(
                    "  {} ({}, {}: {})\n",
                    ctx.rel_path(&p.path),
                    crate::stage::archive::format_name(p.format),
                    p.target.name(),
                    bins.join(", ")
                ));
            }
        }
    }
    if ctx.config.source.enabled {
        match (&plan.source, skipped("source")) {
            (Some(p), None) => {
                let lines = crate::stage::source::describe(p);
                out.push_str(&format!("\nsource archives ({}):\n", lines.len()));
                for (path, what) in lines {
                    out.push_str(&format!("  {} ({what})\n", ctx.rel_path(&path)));
                }
            }
            (_, reason) => out.push_str(&format!(
                "\nsource archives: skipped ({})\n",
                reason.unwrap_or_else(|| "not in this run".into())
            )),
        }
    }
    if !plan.packages.is_empty() {
        out.push_str(&format!("\npackages ({}):\n", plan.packages.len()));
        for p in &plan.packages {
            out.push_str(&format!(
                "  {} ({} {} {}, {})\n",
                ctx.rel_path(&p.path),
                p.package,
                p.version,
                p.arch,
                p.target.name()
            ));
        }
    }
    if !plan.sboms.is_empty() {
        out.push_str(&format!("\nsboms ({}):\n", plan.sboms.len()));
        for p in &plan.sboms {
            out.push_str(&format!(
                "  {} ({}, of {})\n",
                ctx.rel_path(&p.path),
                p.format,
                p.subject
            ));
        }
    }
    for r in &plan.repositories {
        out.push_str(&format!(
            "\nrepository {}: {}/ ({}; {} packages of this release)\n",
            r.id,
            ctx.rel_path(&r.path),
            r.formats.join(", "),
            r.packages.len()
        ));
    }
    if !plan.signatures.is_empty() {
        out.push_str(&format!("\nsignatures ({}):\n", plan.signatures.len()));
        for p in &plan.signatures {
            let signer = ctx.config.signs[p.index]
                .signer
                .clone()
                .unwrap_or_else(|| "cmd".into());
            out.push_str(&format!(
                "  {} ({signer}, of {})\n",
                ctx.rel_path(&p.path),
                p.subject
            ));
        }
    }
    if let Some(p) = &plan.provenance {
        out.push_str(&format!(
            "\nprovenance: {} ({})\n",
            ctx.rel_path(&p.path),
            p.detail
        ));
    }
    let gitops = crate::stage::gitops::describe(ctx)?;
    if !gitops.is_empty() {
        out.push_str("\ngitops:\n");
        for t in gitops {
            out.push_str(&format!("  {t}\n"));
        }
    }
    let taps = crate::stage::tap::describe(ctx)?;
    if !taps.is_empty() {
        out.push_str(&format!("\npackage managers ({}):\n", taps.len()));
        for t in taps {
            out.push_str(&format!("  {t}\n"));
        }
    }
    match (&plan.checksum, skipped("checksum")) {
        (Some(c), _) => out.push_str(&format!(
            "\nchecksum: {} ({})\n",
            ctx.rel_path(&c.path),
            c.detail
        )),
        (None, Some(reason)) => out.push_str(&format!("\nchecksum: skipped ({reason})\n")),
        (None, None) => {}
    }
    if let Some(n) = &plan.release_notes {
        out.push_str(&format!(
            "\nrelease notes: {} ({})\n",
            ctx.rel_path(&n.path),
            n.detail
        ));
    }
    out.push_str(&images_dry(ctx, access));
    out.push_str(&graph_dry(ctx));
    Ok(out)
}

/// What waits for what in the real run.
fn graph_dry(ctx: &Context) -> String {
    let stages = if ctx.options.share.is_some() {
        pipeline::split_stages()
    } else {
        pipeline::release_stages()
    };
    let mut out = if ctx.options.sequential {
        "\ngraph (--no-pipeline: each task after the one before it):\n".to_string()
    } else {
        format!(
            "
graph (a task starts once what it waits for is done; CPU work shares {} slots):\n",
            ctx.options.parallelism
        )
    };
    for t in pipeline::graph(ctx, &stages) {
        if t.waits.is_empty() || ctx.options.sequential {
            out.push_str(&format!("  {}\n", t.name));
        } else {
            out.push_str(&format!("  {} <- {}\n", t.name, t.waits.join(", ")));
        }
    }
    out
}

/// `rel man`: rel.1 and a page per command (`rel-release.1`, …), from the same definitions as
/// `--help`.
fn man(dir: &Path) -> Result<()> {
    use clap::CommandFactory;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let cmd = Cli::command();
    clap_mangen::generate_to(cmd, dir)
        .map_err(|e| Error::io("cannot write man pages in", dir, e))?;
    let n = std::fs::read_dir(dir).map(|r| r.count()).unwrap_or(0);
    eprintln!("wrote {n} man pages in {}", dir.display());
    Ok(())
}

/// `rel ci github|gitlab`: write the workflow (never over an existing file without `--force`).
fn ci(g: &Global, a: &crate::cli::CiArgs, root: &Path) -> Result<()> {
    use crate::cli::CiProvider;
    let by = crate::options::PartialBy::parse(&a.partial_by)?;
    let version = env!("CARGO_PKG_VERSION");
    let (output, text) = match a.provider {
        CiProvider::Github => {
            let (_, cfg, _) = pipeline::load_config(root, g.config.as_deref())?;
            let single = a.single_job || (!a.fan_out && crate::ci::single_job_fits(&cfg));
            (
                ".github/workflows/release.yml",
                crate::ci::github_workflow(&cfg, by, single, version),
            )
        }
        CiProvider::Gitlab => {
            let ctx = new_context(g, root, options(g, true)?)?;
            (
                ".gitlab-ci.yml",
                crate::ci::gitlab(&ctx.config, &ctx.plan, by, version),
            )
        }
    };
    let output = a
        .output
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(output));
    if output.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    let path = root.join(&output);
    if path.exists() && !a.force {
        let same = std::fs::read_to_string(&path).is_ok_and(|t| t == text);
        if same {
            eprintln!("{} is up to date", output.display());
            return Ok(());
        }
        return Err(Error::Usage(format!(
            "{} exists and differs from what rel would write; pass --force to overwrite it (or -o - to print)",
            output.display()
        )));
    }
    crate::dist::write_atomic(&path, text.as_bytes())?;
    eprintln!("wrote {}", output.display());
    Ok(())
}

/// The images part of the dry run.
fn images_dry(ctx: &Context, access: &[String]) -> String {
    let plan = &ctx.plan;
    if ctx.config.images.is_empty()
        && ctx.config.manifests.is_empty()
        && ctx.config.dockers_v2.is_empty()
        && ctx.config.dockers.is_empty()
        && ctx.config.docker_manifests.is_empty()
    {
        return String::new();
    }
    let mut lines = vec![];
    if let Some((_, reason)) = plan.skipped.iter().find(|(s, _)| s == "images") {
        lines.push(format!("(skipped: {reason})"));
    }
    let verb = if ctx.options.snapshot {
        "would build (snapshot, not pushed)"
    } else {
        "would push"
    };
    for img in &plan.images {
        let platforms: Vec<&str> = img.platforms.iter().map(|(p, _)| p.as_str()).collect();
        lines.push(format!(
            "{} ({}) on {} -> dist/images/{}/",
            img.id,
            platforms.join(", "),
            img.base,
            img.id
        ));
        for (p, bins) in &img.platforms {
            lines.push(format!(
                "  {verb} {}@sha256:<{p} manifest> ({})",
                img.repository,
                bins.join(", ")
            ));
        }
        for t in &img.tags {
            lines.push(format!("  {verb} {}:{t} (image index)", img.repository));
        }
    }
    for d in &plan.dockers {
        let verb = if !d.push && !ctx.options.snapshot {
            "would build (skip: not pushed)"
        } else {
            verb
        };
        lines.push(format!("{} ({}) -> dist/images/{}/", d.key, d.id, d.id));
        for p in &d.platforms {
            lines.push(format!(
                "  {}: {} built by {}{}",
                p.platform,
                p.dockerfile,
                p.builder,
                match (&p.why, p.builder.as_str()) {
                    (_, "rel") => " (the Dockerfile only copies files: no engine)".to_string(),
                    (Some(w), _) => format!(" (needed: {w})"),
                    (None, _) => " (set by `builder`)".to_string(),
                }
            ));
        }
        for r in &d.references {
            lines.push(format!(
                "  {verb} {r} ({})",
                if d.single {
                    "image manifest"
                } else {
                    "image index"
                }
            ));
        }
    }
    for l in access {
        lines.push(format!("  {l}"));
    }
    for m in &plan.manifests {
        lines.push(format!(
            "manifest {}: index of {}",
            m.name,
            m.images.join(", ")
        ));
    }
    if ctx.options.snapshot
        && !(ctx.config.manifests.is_empty() && ctx.config.docker_manifests.is_empty())
    {
        lines.push("manifests: skipped in a snapshot".into());
    }
    let mut out = String::from("\nimages:\n");
    for l in lines {
        out.push_str(&format!("  {l}\n"));
    }
    out
}

/// `rel import`: write rel's config from GoReleaser's and report every key that is not
/// mapped as it was (`--all`: every key), each with its line.
fn import(cwd: &Path, a: &crate::cli::ImportArgs) -> Result<()> {
    use crate::import::goreleaser;
    let file = match &a.file {
        Some(f) => cwd.join(f),
        None => goreleaser::find(cwd).ok_or_else(|| {
            Error::Usage(format!(
                "no GoReleaser config in {} (looked for {}); name one: `rel import FILE`",
                cwd.display(),
                goreleaser::GORELEASER_NAMES.join(", ")
            ))
        })?,
    };
    let imported = goreleaser::import(&file, true)?;
    let mut report = String::new();
    for item in &imported.items {
        if a.all || !matches!(item.outcome, goreleaser::Outcome::Mapped) {
            report.push_str(&format!("{item}\n"));
        }
    }
    let (approx, dropped) = (imported.approximated().len(), imported.dropped().len());
    report.push_str(&format!(
        "{}: {approx} approximated, {dropped} dropped\n",
        file.display()
    ));
    let out = a.output.clone().unwrap_or_else(|| {
        file.parent()
            .unwrap_or(Path::new("."))
            .join(".release.yaml")
    });
    if out.as_os_str() == "-" {
        print!("{}", imported.yaml);
        eprint!("{report}");
        return Ok(());
    }
    let out = cwd.join(out);
    if out.exists() && !a.force {
        return Err(Error::Usage(format!(
            "{} exists; pass --force to overwrite it, or -o FILE",
            out.display()
        )));
    }
    std::fs::write(&out, &imported.yaml).map_err(|e| Error::io("cannot write", &out, e))?;
    eprint!("{report}");
    eprintln!("wrote {}; check it with `rel check`", out.display());
    Ok(())
}
