//! The cargo builder: `cargo build --release --target <triple> --bin <main>`.
//!
//! The binary's location is read from cargo's JSON messages rather than guessed, so
//! workspaces and custom target folders need no configuration.

use super::{Produced, Step, build_dir, build_env, render_list};
use crate::config::Build;
use crate::context::Context;
use crate::error::Result;
use crate::exec::Invocation;
use crate::plan::PlannedBuild;

/// The `cargo build` invocation for one target.
pub fn step(ctx: &Context, b: &Build, pb: &PlannedBuild) -> Result<Step> {
    let env = build_env(ctx, b, pb)?;
    let bin = b.main.clone().unwrap_or_else(|| pb.id.clone());
    let triple = pb.target.triple.clone().unwrap_or_else(|| pb.target.name());
    let mut argv: Vec<String> = [
        "cargo",
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
        "--target",
        &triple,
        "--bin",
        &bin,
    ]
    .map(String::from)
    .to_vec();
    argv.extend(render_list(ctx, pb, "flags", &b.flags.items())?);
    Ok(Step::Run(
        Invocation {
            stdin: None,
            argv,
            env,
            dir: build_dir(ctx, b),
        },
        Produced::CargoJson(bin),
    ))
}
