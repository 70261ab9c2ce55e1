//! The build stage: every planned target built on one bounded pool.
//!
//! Builders only describe what to run (`Invocation`s), so the same code serves the dry-run
//! printout and the real run. The first failure cancels the builds still running.

mod cargo;
mod check;
mod command;
mod go;
mod gomod;
mod prebuilt;

use super::Stage;
use crate::artifact::{Artifact, Kind};
use crate::config::{Build, Builder};
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::exec::{self, Invocation};
use crate::hash::sha256_file;
use crate::plan::{Plan, PlannedBuild};
use crate::progress::Progress;
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a builder does for one target.
pub enum Step {
    /// Run this command; the binary then is at `produced` (or must be found in the output).
    Run(Invocation, Produced),
    /// Copy this existing file.
    Copy(PathBuf),
}

/// Where a builder's binary appears.
pub enum Produced {
    /// Directly at the planned output path.
    AtOutput,
    /// cargo: read the executable path from `--message-format=json` output.
    CargoJson(String),
}

/// Render the per-build environment: process env, config env, build env (in that order).
pub fn build_env(ctx: &Context, b: &Build, pb: &PlannedBuild) -> Result<Vec<(String, String)>> {
    let mut env = ctx.env.clone();
    for (i, e) in b.env.iter().enumerate() {
        let r = ctx
            .templates
            .render(&format!("builds[{}].env[{i}]", pb.index), e, &pb.vars)?;
        if let Some((k, v)) = r.split_once('=') {
            env.insert(k.into(), v.into());
        }
    }
    Ok(env.into_iter().collect())
}

/// Render a list of templated flags.
pub fn render_list(
    ctx: &Context,
    pb: &PlannedBuild,
    key: &str,
    list: &[String],
) -> Result<Vec<String>> {
    list.iter()
        .enumerate()
        .map(|(i, f)| {
            ctx.templates
                .render(&format!("builds[{}].{key}[{i}]", pb.index), f, &pb.vars)
        })
        .collect()
}

/// The build's working folder.
pub fn build_dir(ctx: &Context, b: &Build) -> PathBuf {
    match &b.dir {
        Some(d) => ctx.root.join(d),
        None => ctx.root.clone(),
    }
}

/// What to do for one planned build.
pub fn step(ctx: &Context, pb: &PlannedBuild) -> Result<Step> {
    let b = &ctx.config.builds[pb.index];
    match pb.builder {
        Builder::Go => go::step(ctx, b, pb),
        Builder::Cargo => cargo::step(ctx, b, pb),
        Builder::Command => command::step(ctx, b, pb),
        Builder::Prebuilt => prebuilt::step(ctx, b, pb),
    }
}

fn hooks(
    ctx: &Context,
    pb: &PlannedBuild,
    which: &str,
    list: &[String],
    cancel: &AtomicBool,
) -> Result<()> {
    let b = &ctx.config.builds[pb.index];
    let mut vars = pb.vars.clone();
    vars.insert(
        "output".into(),
        minijinja::Value::from(pb.output.to_string_lossy().into_owned()),
    );
    for (i, h) in list.iter().enumerate() {
        let cmd = ctx.templates.render(
            &format!("builds[{}].hooks.{which}[{i}]", pb.index),
            h,
            &vars,
        )?;
        let inv = Invocation {
            stdin: None,
            argv: exec::split(&cmd)?,
            env: build_env(ctx, b, pb)?,
            dir: build_dir(ctx, b),
        };
        exec::run(
            &format!("{which}-hook of {}", label(pb)),
            &inv,
            cancel,
            ctx.options.deadline,
        )?;
    }
    Ok(())
}

fn label(pb: &PlannedBuild) -> String {
    format!("build `{}` for {}", pb.id, pb.target.name())
}

fn find_cargo_executable(json: &str, bin: &str) -> Option<PathBuf> {
    json.lines()
        .rev()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact" && v["target"]["name"] == bin)
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
}

fn build_one(ctx: &Context, pb: &PlannedBuild, cancel: &AtomicBool) -> Result<Artifact> {
    let b = &ctx.config.builds[pb.index];
    let dir = pb.output.parent().expect("output has a folder");
    std::fs::create_dir_all(dir).ctx("cannot create", dir)?;
    hooks(ctx, pb, "pre", &b.hooks.pre, cancel)?;
    match step(ctx, pb)? {
        Step::Copy(src) => {
            std::fs::copy(&src, &pb.output).ctx("cannot copy prebuilt binary", &src)?;
        }
        Step::Run(inv, produced) => {
            tracing::debug!("{}: {}", label(pb), inv.shell_line());
            let out = exec::run(&label(pb), &inv, cancel, ctx.options.deadline)?;
            if let Produced::CargoJson(bin) = produced {
                let exe = find_cargo_executable(&out, &bin).ok_or_else(|| {
                    Error::Build(format!("{}: cargo reported no executable named `{bin}`; is `main` the name of a [[bin]]?", label(pb)))
                })?;
                std::fs::copy(&exe, &pb.output).ctx("cannot copy", &exe)?;
            }
            if !pb.output.is_file() {
                return Err(Error::Build(format!(
                    "{}: `{}` succeeded but wrote no binary at {}",
                    label(pb),
                    inv.display(),
                    pb.output.display()
                )));
            }
        }
    }
    if let Some(ts) = &b.mod_timestamp {
        set_mtime(ctx, pb, ts)?;
    }
    hooks(ctx, pb, "post", &b.hooks.post, cancel)?;
    let (sha, size) = sha256_file(&pb.output)?;
    let mut a = Artifact::new(Kind::Binary, pb.binary.clone(), ctx.rel_path(&pb.output));
    a.build_id = Some(pb.id.clone());
    a.set_target(&pb.target);
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert(
        "binary".into(),
        pb.vars
            .get("binary")
            .map(|v| v.to_string())
            .unwrap_or_default()
            .into(),
    );
    Ok(a)
}

fn mod_time(ctx: &Context, pb: &PlannedBuild, template: &str) -> Result<u64> {
    let key = format!("builds[{}].mod_timestamp", pb.index);
    let s = ctx.templates.render(&key, template, &pb.vars)?;
    s.trim().parse().map_err(|_| Error::Template {
        key,
        template: template.into(),
        message: format!("rendered `{s}`, which is not unix seconds"),
    })
}

fn set_mtime(ctx: &Context, pb: &PlannedBuild, template: &str) -> Result<()> {
    let secs = mod_time(ctx, pb, template)?;
    let f = std::fs::File::options()
        .write(true)
        .open(&pb.output)
        .ctx("cannot open", &pb.output)?;
    let time = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(secs))
        .ok_or_else(|| Error::Template {
            key: format!("builds[{}].mod_timestamp", pb.index),
            template: template.into(),
            message: format!("{secs} is not a representable time"),
        })?;
    f.set_modified(time)
        .ctx("cannot set the modification time of", &pb.output)
}

/// Render every template a build will use (command, hooks, mod_timestamp) without running
/// anything, so a template error stops the release before any side effect.
pub fn prerender(ctx: &Context, plan: &Plan) -> Result<()> {
    for pb in &plan.builds {
        if pb.builder == Builder::Prebuilt {
            // The file may be made by a hook, so only its path template is checked now.
            let b = &ctx.config.builds[pb.index];
            let key = format!("builds[{}].path", pb.index);
            ctx.templates
                .render(&key, b.path.as_deref().unwrap_or_default(), &pb.vars)?;
        } else {
            step(ctx, pb)?;
        }
        let b = &ctx.config.builds[pb.index];
        let mut vars = pb.vars.clone();
        vars.insert(
            "output".into(),
            minijinja::Value::from(pb.output.to_string_lossy().into_owned()),
        );
        for (which, list) in [("pre", &b.hooks.pre), ("post", &b.hooks.post)] {
            for (i, h) in list.iter().enumerate() {
                exec::split(&ctx.templates.render(
                    &format!("builds[{}].hooks.{which}[{i}]", pb.index),
                    h,
                    &vars,
                )?)?;
            }
        }
        if let Some(ts) = &b.mod_timestamp {
            mod_time(ctx, pb, ts)?;
        }
    }
    Ok(())
}

/// Build every planned target on a pool of `ctx.options.parallelism` workers. Each binary
/// is registered the moment it is built, so the stages that stream from the build
/// (archives, uploads) start on it while other targets still build.
pub fn run_plan(ctx: &Context, plan: &Plan) -> Result<()> {
    let pool = ctx.pool()?;
    // The run's one cancellation flag: a failed build stops the others, and any other
    // failed stage of a pipelined run stops the builds.
    let cancel = &ctx.cancel;
    // `gomod.proxy`: each build's module is resolved once, before its targets build.
    let mut prepared = std::collections::HashSet::new();
    for pb in &plan.builds {
        if gomod::applies(ctx, &ctx.config.builds[pb.index]) && prepared.insert(pb.index) {
            gomod::prepare(ctx, pb, cancel)?;
        }
    }
    let mut progress = Progress::new(plan.builds.len() as u64, "building");
    let results: Vec<Result<Artifact>> = pool.install(|| {
        plan.builds
            .par_iter()
            .map(|pb| {
                let _slot = ctx.slots.acquire(crate::slots::Priority::Build);
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::Cancelled(format!(
                        "{}: cancelled because another task failed",
                        label(pb)
                    )));
                }
                let start = std::time::Instant::now();
                let name = format!("{} {}", pb.id, pb.target.name());
                progress.started(&name);
                let r = build_one(ctx, pb, cancel);
                progress.ended(&name);
                match &r {
                    Ok(a) => {
                        progress.done(&format!(
                            "built {} {} ({:.1?})",
                            pb.id,
                            pb.target.name(),
                            start.elapsed()
                        ));
                        ctx.artifacts.add(a.clone());
                    }
                    Err(_) => cancel.store(true, Ordering::Relaxed),
                }
                r
            })
            .collect()
    });
    progress.finish();
    // Report the first real failure, not the cancellations it caused.
    let mut errors: Vec<Error> = results.into_iter().filter_map(Result::err).collect();
    errors.sort_by_key(|e| matches!(e, Error::Cancelled(_)));
    errors.into_iter().next().map_or(Ok(()), Err)
}

/// The build stage.
pub struct BuildStage;

impl Stage for BuildStage {
    fn name(&self) -> &'static str {
        "build"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        super::skipped_by_flag(ctx, "build")
    }

    fn defaults(&self, config: &mut crate::config::Config, d: &super::Defaults) {
        check::defaults(config, d);
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        check::check(c);
    }

    /// The builds are the plan's first part (the context expands them); here every command,
    /// hook and timestamp is rendered so a template error stops the release before any build.
    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        prerender(ctx, plan)?;
        if plan
            .builds
            .iter()
            .any(|pb| gomod::applies(ctx, &ctx.config.builds[pb.index]))
        {
            plan.claim(
                gomod::FOLDER,
                "the module proxy builds (gomod.proxy)",
                "rename the other output",
            )?;
        }
        warn_crate_version(ctx);
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        run_plan(ctx, &ctx.plan)
    }
}

/// A tagged cargo release whose crate version differs from the tag would ship binaries that
/// report the crate's version (`CARGO_PKG_VERSION`): say so while planning (the dry run too).
fn warn_crate_version(ctx: &Context) {
    if ctx.options.snapshot {
        return;
    }
    let cargo: Vec<&crate::config::Build> = ctx
        .config
        .builds
        .iter()
        .filter(|b| b.builder == crate::config::Builder::Cargo)
        .collect();
    if cargo.is_empty() {
        return;
    }
    let Ok(bins) = crate::cargo_meta::cargo_bins(&ctx.root) else {
        return;
    };
    for b in cargo {
        let id = b.id.clone().unwrap_or_default();
        let name = b.main.clone().unwrap_or(id);
        if let Some(bin) = bins.iter().find(|x| x.name == name)
            && bin.version != ctx.version
        {
            tracing::warn!(
                "the tag says {} but package `{}` is version {} in its Cargo.toml, so `{}` will report {}; set `version = \"{}\"` and tag again",
                ctx.version,
                bin.package,
                bin.version,
                bin.name,
                bin.version,
                ctx.version
            );
        }
    }
}

/// The dry-run description of a planned build: the command, or what is copied. A
/// prebuilt binary that does not exist yet is reported, not an error, in a dry run.
pub fn describe_dry(ctx: &Context, pb: &PlannedBuild) -> String {
    match step(ctx, pb) {
        Ok(Step::Run(inv, _)) => inv.display(),
        Ok(Step::Copy(src)) => format!("copy {}", ctx.rel_path(&src)),
        Err(e) => format!("(cannot build yet: {e})"),
    }
}
