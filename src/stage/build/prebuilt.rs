//! The prebuilt builder: binaries made elsewhere, found by a templated path.

use super::{Step, build_dir};
use crate::config::Build;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::plan::PlannedBuild;

/// Where the prebuilt binary for one target is; it must exist.
pub fn step(ctx: &Context, b: &Build, pb: &PlannedBuild) -> Result<Step> {
    let key = format!("builds[{}].path", pb.index);
    let rendered = ctx.templates.render(&key, b.path.as_deref().unwrap_or_default(), &pb.vars)?;
    let path = build_dir(ctx, b).join(&rendered);
    if !path.is_file() {
        return Err(Error::Build(format!(
            "build `{}` for {}: prebuilt binary {} does not exist (from `{key}`)",
            pb.id,
            pb.target.name(),
            path.display()
        )));
    }
    Ok(Step::Copy(path))
}
