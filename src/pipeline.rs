//! The release pipeline: which stages run, in which order, and what is written at the end.

use crate::context::Context;
use crate::dist;
use crate::error::Result;
use crate::stage::{self, Stage};
use serde_json::json;

/// The stages of `rel release`, in order.
pub fn release_stages() -> Vec<&'static dyn Stage> {
    // The changelog needs no build output: it runs first so that a shallow clone or a bad
    // range stops the release before minutes of building.
    vec![
        &stage::before::Before,
        &stage::changelog::ChangelogStage,
        &stage::build::BuildStage,
        &stage::archive::ArchiveStage,
        &stage::checksum::ChecksumStage,
        &stage::image::ImageStage,
        // Last: publishing reads every artifact the stages before it registered.
        &stage::publish::Publish,
    ]
}

/// The stages of `rel release --split`: everything that is per target.
pub fn split_stages() -> Vec<&'static dyn Stage> {
    vec![
        &stage::before::Before,
        &stage::build::BuildStage,
        &stage::archive::ArchiveStage,
    ]
}

/// The stages of `rel continue --merge`: everything that needs all targets.
pub fn merge_stages() -> Vec<&'static dyn Stage> {
    // Images are assembled here, from every share's linux binaries: the bytes are the same
    // as on one machine, so the digests are too.
    vec![
        &stage::checksum::ChecksumStage,
        &stage::changelog::ChangelogStage,
        &stage::image::ImageStage,
        &stage::publish::Publish,
    ]
}

/// The stages of `rel build`.
pub fn build_stages() -> Vec<&'static dyn Stage> {
    vec![&stage::before::Before, &stage::build::BuildStage]
}

/// Run `stages`, then write `artifacts.json` and `metadata.json`.
pub fn run(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    // Everything that can be checked without side effects is checked before dist/ is touched.
    let plan = crate::plan::Plan::new(ctx)?;
    stage::build::prerender(ctx, &plan)?;
    stage::preflight_all(ctx, stages)?;
    dist::prepare(&ctx.dist, ctx.options.clean)?;
    let result = stage::run_all(ctx, stages);
    // artifacts.json is written even after a failure: it records what exists, for a re-run.
    ctx.artifacts.write(&ctx.dist.join("artifacts.json"))?;
    result?;
    write_metadata(ctx)
}

/// Finish a split release: the registry already holds every share's artifacts.
pub fn run_merge(ctx: &mut Context, stages: &[&dyn Stage]) -> Result<()> {
    stage::preflight_all(ctx, stages)?;
    let result = stage::run_all(ctx, stages);
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
    dist::write_atomic(
        &ctx.dist.join("metadata.json"),
        serde_json::to_string_pretty(&meta)
            .expect("json")
            .as_bytes(),
    )
}
