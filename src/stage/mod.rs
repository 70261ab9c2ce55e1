//! Stages: the steps of a release, run in order over one context and artifact registry.
//!
//! Each stage is a module that knows nothing of the others; it reads what earlier stages
//! registered and adds its own artifacts. Skipping is a value (`Some(reason)`), not an error.

pub mod archive;
pub mod before;
pub mod build;
pub mod changelog;
pub mod checksum;
pub mod docker;
pub mod extra;
pub mod gitops;
pub mod image;
pub mod milestone;
pub mod nfpm;
pub mod pkgmgr;
pub mod provenance;
pub mod publish;
pub mod referrers;
pub mod repository;
pub mod sbom;
pub mod sign;
pub mod source;
pub mod tap;
pub mod universal;

use crate::config::Config;
use crate::config::validate::Checker;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::plan::Plan;
use std::path::Path;

/// What a stage's defaults may depend on besides the config.
pub struct Defaults<'a> {
    /// The project name (config, `origin` remote, or the folder's name).
    pub project_name: &'a str,
    /// The project root.
    pub root: &'a Path,
}

/// What a stage needs finished before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waits {
    /// Every stage before it in the run's order (most stages: they read all of a kind).
    Earlier,
    /// Only these stages (those of them in the run); the stage waits in the registry for
    /// each of its other inputs as it lands (archives per target, uploads per file).
    Only(&'static [&'static str]),
}

impl Waits {
    /// The stages among `earlier` (those before this one in the run) that must finish first.
    pub fn among<'a>(self, earlier: &[&'a str]) -> Vec<&'a str> {
        earlier
            .iter()
            .copied()
            .filter(|n| match self {
                Waits::Earlier => true,
                Waits::Only(list) => list.contains(n),
            })
            .collect()
    }
}

/// One step of the pipeline.
pub trait Stage: Sync {
    /// The name used in logs and `--skip`.
    fn name(&self) -> &'static str;
    /// Why this stage does not run this time, if it does not.
    fn skip(&self, ctx: &Context) -> Option<String>;
    /// Fill in the defaults of this stage's config section.
    fn defaults(&self, _config: &mut Config, _d: &Defaults) {}
    /// Check this stage's config section (with every default applied); `rel check` and every
    /// run check every stage's section, whether or not the stage runs.
    fn check(&self, _c: &mut Checker) {}
    /// Add this stage's outputs (names, paths, references) to the plan, computed once before
    /// any work; `--dry-run` prints the plan and the run takes its names from it.
    fn plan(&self, _ctx: &Context, _plan: &mut Plan) -> Result<()> {
        Ok(())
    }
    /// Checks that need only the plan (names, templates), run for every stage that will run
    /// before the first one starts, so such errors stop the release before any work.
    fn preflight(&self, _ctx: &Context) -> Result<()> {
        Ok(())
    }
    /// What must be finished before this stage starts (see [`Waits`]).
    fn waits_for(&self) -> Waits {
        Waits::Earlier
    }
    /// Do the work.
    fn run(&self, ctx: &Context) -> Result<()>;
}

/// How long each stage that ran took, in the run's order.
pub type Timings = Vec<(String, std::time::Duration)>;

/// Run `stages`: pipelined (every stage starts as soon as what it waits for is finished, so
/// a target's archive and upload overlap the other targets' builds), or one after another
/// with `--no-pipeline`. Outputs are the same either way: names come from the plan and the
/// registry sorts. The first failure stops the rest and is the error returned.
pub fn run_all(ctx: &Context, stages: &[&dyn Stage]) -> (Result<()>, Timings) {
    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    ctx.artifacts.begin(&names);
    let mut runnable = vec![];
    for (i, stage) in stages.iter().enumerate() {
        match stage.skip(ctx) {
            Some(reason) => {
                tracing::info!("{}: skipped ({reason})", stage.name());
                ctx.artifacts.finish(stage.name());
            }
            None => runnable.push((i, *stage)),
        }
    }
    if ctx.options.sequential {
        let mut timings = vec![];
        for (_, stage) in runnable {
            let start = std::time::Instant::now();
            let result = stage.run(ctx);
            tracing::debug!("{}: done in {:.2?}", stage.name(), start.elapsed());
            timings.push((stage.name().to_string(), start.elapsed()));
            if let Err(e) = result {
                stop(ctx);
                return (Err(e), timings);
            }
            ctx.artifacts.finish(stage.name());
        }
        return (Ok(()), timings);
    }
    let errors: std::sync::Mutex<Vec<Error>> = Default::default();
    let timings: std::sync::Mutex<Vec<(usize, String, std::time::Duration)>> = Default::default();
    std::thread::scope(|scope| {
        for &(i, stage) in &runnable {
            let (names, errors, timings) = (&names, &errors, &timings);
            scope.spawn(move || {
                let needs = stage.waits_for().among(&names[..i]);
                let ready = ctx.artifacts.wait_for(stage.name(), |_, board| {
                    needs.iter().all(|n| board.finished(n)).then_some(())
                });
                let result = ready.and_then(|()| {
                    tracing::debug!("{}: started", stage.name());
                    let start = std::time::Instant::now();
                    let r = stage.run(ctx);
                    // Benchmarks read a stage's own time from this line (`rel -v`).
                    tracing::debug!("{}: done in {:.2?}", stage.name(), start.elapsed());
                    timings.lock().expect("timings").push((
                        i,
                        stage.name().to_string(),
                        start.elapsed(),
                    ));
                    r
                });
                match result {
                    Ok(()) => ctx.artifacts.finish(stage.name()),
                    Err(e) => {
                        // The first failure wins; what it cancelled comes after it.
                        errors.lock().expect("errors").push(e);
                        stop(ctx);
                    }
                }
            });
        }
    });
    let mut timings = timings.into_inner().expect("timings");
    timings.sort_by_key(|t| t.0);
    let timings = timings.into_iter().map(|(_, n, d)| (n, d)).collect();
    let mut errors = errors.into_inner().expect("errors");
    // Report the first real failure, not the cancellations it caused.
    let first = errors
        .iter()
        .position(|e| !matches!(e, Error::Cancelled(_)))
        .unwrap_or(0);
    if errors.is_empty() {
        (Ok(()), timings)
    } else {
        (Err(errors.swap_remove(first)), timings)
    }
}

/// The first failure: running processes are killed, waiting stages give up.
fn stop(ctx: &Context) {
    ctx.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
    ctx.artifacts.abort();
}

/// Add every stage's outputs to `ctx.plan`, in order; a stage that will not run records why.
pub fn plan_all(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    let mut plan = std::mem::take(&mut ctx.plan);
    plan.skipped.clear();
    let result = stages.iter().try_for_each(|s| match s.skip(ctx) {
        Some(reason) => {
            plan.skipped.push((s.name().to_string(), reason));
            Ok(())
        }
        None => s.plan(ctx, &mut plan),
    });
    ctx.plan = plan;
    result
}

/// The preflight checks of every stage that will run, before any of them starts.
pub fn preflight_all(ctx: &Context, stages: &[&dyn Stage]) -> Result<()> {
    for stage in stages {
        if stage.skip(ctx).is_none() {
            stage.preflight(ctx)?;
        }
    }
    Ok(())
}

/// The planned binaries, standing in for the built ones before the build (for stages that
/// plan from binaries: images, Dockerfile images).
pub fn planned_binaries(ctx: &Context, plan: &Plan) -> Vec<crate::artifact::Artifact> {
    plan.builds
        .iter()
        .map(|pb| {
            let mut a = crate::artifact::Artifact::new(
                crate::artifact::Kind::Binary,
                pb.binary.clone(),
                ctx.rel_path(&pb.output),
            );
            a.build_id = Some(pb.id.clone());
            a.set_target(&pb.target);
            a
        })
        .collect()
}

/// The network runtime of a stage that pushes images: at most 4 workers, within `-p`.
pub fn runtime(ctx: &Context) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(ctx.options.parallelism.clamp(1, 4))
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the network runtime: {e}")))
}

/// Run a network future, within `--timeout` when one was given.
pub fn block_on<T>(
    ctx: &Context,
    rt: &tokio::runtime::Runtime,
    what: &str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match ctx.time_left() {
        None => rt.block_on(fut),
        Some(left) => rt.block_on(async {
            tokio::time::timeout(left, fut).await.map_err(|_| {
                Error::Failed(format!(
                    "--timeout reached while {what}; re-run to finish: what was already pushed is kept"
                ))
            })?
        }),
    }
}

/// The common skip rule: `--skip NAME` on the command line.
pub fn skipped_by_flag(ctx: &Context, name: &str) -> Option<String> {
    ctx.options.skips(name).then(|| "--skip".to_string())
}

/// Exit 2 unless `program` can be run: a path that exists, or a name found on `PATH`
/// (checked while planning, so a missing tool stops the run before any work).
pub fn on_path(program: &str, key: &str) -> Result<()> {
    let found = if program.contains('/') {
        std::path::Path::new(program).is_file()
    } else {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
            .unwrap_or(false)
    };
    if found {
        Ok(())
    } else {
        Err(crate::error::Error::Config(format!(
            "`{key}`: `{program}` is not on PATH"
        )))
    }
}

/// Give every entry of a config list without an id the default one: `default` when it is
/// alone, `default-<index>` when there are several (GoReleaser's rule).
pub fn fill_ids<T>(items: &mut [T], id: impl Fn(&mut T) -> &mut Option<String>) {
    let multi = items.len() > 1;
    for (i, item) in items.iter_mut().enumerate() {
        let slot = id(item);
        if slot.is_none() {
            *slot = Some(if multi {
                format!("default-{i}")
            } else {
                "default".into()
            });
        }
    }
}

/// Produce `count` outputs of stage `stage` as their inputs land, on up to `workers`
/// threads: `ready(i, registry, board)` says whether item `i` can start (it is taken the
/// moment it can, so a target's output does not wait for the other targets' builds), and
/// `work(i)` makes it while holding a packaging CPU slot; each artifact is registered at
/// once, so checksums and uploads can pick it up. The first failure cancels the run and is
/// returned.
pub fn stream(
    ctx: &Context,
    stage: &str,
    count: usize,
    workers: usize,
    ready: impl Fn(usize, &crate::artifact::Registry, &crate::artifact::Board) -> bool + Sync,
    work: impl Fn(usize) -> Result<crate::artifact::Artifact> + Sync,
) -> Result<()> {
    stream_map(ctx, stage, count, workers, ready, |i| {
        work(i).map(|a| ctx.artifacts.add(a))
    })
    .map(drop)
}

/// [`stream`] for intermediate results that are not artifacts (an image's layers): the
/// results come back in item order, whatever order the items finished in.
pub fn stream_map<T: Send>(
    ctx: &Context,
    stage: &str,
    count: usize,
    workers: usize,
    ready: impl Fn(usize, &crate::artifact::Registry, &crate::artifact::Board) -> bool + Sync,
    work: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    use std::sync::atomic::Ordering;
    let todo = std::sync::Mutex::new((0..count).collect::<Vec<usize>>());
    let first_error: std::sync::Mutex<Option<Error>> = Default::default();
    let done: std::sync::Mutex<Vec<(usize, T)>> = Default::default();
    std::thread::scope(|scope| {
        for _ in 0..workers.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    let next = ctx.artifacts.wait_for(stage, |reg, board| {
                        let mut todo = todo.lock().expect("todo");
                        if todo.is_empty() || ctx.cancel.load(Ordering::SeqCst) {
                            return Some(None);
                        }
                        let pos = todo.iter().position(|&i| ready(i, reg, board))?;
                        Some(Some(todo.remove(pos)))
                    });
                    let i = match next {
                        Ok(Some(i)) => i,
                        Ok(None) => return,
                        Err(e) => {
                            first_error.lock().expect("errors").get_or_insert(e);
                            return;
                        }
                    };
                    let r = {
                        let _slot = ctx.slots.acquire(crate::slots::Priority::Package);
                        work(i)
                    };
                    match r {
                        Ok(v) => done.lock().expect("results").push((i, v)),
                        Err(e) => {
                            ctx.cancel.store(true, Ordering::SeqCst);
                            let mut first = first_error.lock().expect("errors");
                            if first
                                .as_ref()
                                .is_none_or(|f| matches!(f, Error::Cancelled(_)))
                            {
                                *first = Some(e);
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    match first_error.into_inner().expect("errors") {
        Some(e) => Err(e),
        None => {
            let mut done = done.into_inner().expect("results");
            if done.len() < count {
                return Err(Error::Cancelled(format!(
                    "{stage}: cancelled because another task failed"
                )));
            }
            done.sort_by_key(|(i, _)| *i);
            Ok(done.into_iter().map(|(_, v)| v).collect())
        }
    }
}
