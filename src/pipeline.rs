//! The release pipeline: which stages run, in which order, and what is written at the end.

use crate::context::Context;
use crate::dist;
use crate::error::Result;
use crate::stage::{self, Stage};
use serde_json::json;

/// The stages of `rel release`, in order.
pub fn release_stages() -> Vec<&'static dyn Stage> {
    vec![&stage::before::Before, &stage::build::BuildStage, &stage::archive::ArchiveStage, &stage::checksum::ChecksumStage]
}

/// The stages of `rel build`.
pub fn build_stages() -> Vec<&'static dyn Stage> {
    vec![&stage::before::Before, &stage::build::BuildStage]
}

/// Run `stages`, then write `artifacts.json` and `metadata.json`.
pub fn run(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    stage::preflight_all(ctx, stages)?;
    dist::prepare(&ctx.dist, ctx.options.clean)?;
    let result = stage::run_all(ctx, stages);
    // artifacts.json is written even after a failure: it records what exists, for a re-run.
    ctx.artifacts.write(&ctx.dist.join("artifacts.json"))?;
    result?;
    write_metadata(ctx)
}

/// `dist/metadata.json`.
pub fn write_metadata(ctx: &Context) -> Result<()> {
    let v = |k: &str| ctx.vars.get(k).map(|x| x.to_string()).unwrap_or_default();
    let meta = json!({
        "project_name": ctx.config.project_name,
        "tag": ctx.tag,
        "previous_tag": ctx.previous_tag,
        "version": ctx.version,
        "commit": v("commit"),
        "short_commit": v("short_commit"),
        "branch": v("branch"),
        "date": v("date"),
        "commit_date": v("commit_date"),
        "snapshot": ctx.options.snapshot,
        "release_url": ctx.vars.get("release_url").map(|x| x.to_string()).filter(|s| !s.is_empty()),
    });
    dist::write_atomic(&ctx.dist.join("metadata.json"), serde_json::to_string_pretty(&meta).expect("json").as_bytes())
}
