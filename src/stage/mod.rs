//! Stages: the steps of a release, run in order over one context and artifact registry.
//!
//! Each stage is a module that knows nothing of the others; it reads what earlier stages
//! registered and adds its own artifacts. Skipping is a value (`Some(reason)`), not an error.

pub mod archive;
pub mod before;
pub mod build;
pub mod changelog;
pub mod checksum;
pub mod image;
pub mod publish;

use crate::context::Context;
use crate::error::Result;

/// One step of the pipeline.
pub trait Stage {
    /// The name used in logs and `--skip`.
    fn name(&self) -> &'static str;
    /// Why this stage does not run this time, if it does not.
    fn skip(&self, ctx: &Context) -> Option<String>;
    /// Checks that need only the plan (names, templates), run for every stage that will run
    /// before the first one starts, so such errors stop the release before any work.
    fn preflight(&self, _ctx: &Context) -> Result<()> {
        Ok(())
    }
    /// Do the work.
    fn run(&self, ctx: &mut Context) -> Result<()>;
}

/// Run `stages` in order, logging skips.
pub fn run_all(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    for stage in stages {
        if let Some(reason) = stage.skip(ctx) {
            tracing::info!("{}: skipped ({reason})", stage.name());
            continue;
        }
        let start = std::time::Instant::now();
        stage.run(ctx)?;
        tracing::debug!("{}: done in {:.2?}", stage.name(), start.elapsed());
    }
    Ok(())
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

/// The common skip rule: `--skip NAME` on the command line.
pub fn skipped_by_flag(ctx: &Context, name: &str) -> Option<String> {
    ctx.options.skips(name).then(|| "--skip".to_string())
}
