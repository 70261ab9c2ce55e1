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

/// Whether cargo's config (environment or `.cargo/config[.toml]` from `dir` up) picks a
/// build target of its own, so leaving `--target` out would build for that one instead.
fn sets_build_target(dir: &std::path::Path) -> bool {
    if std::env::var_os("CARGO_BUILD_TARGET").is_some() {
        return true;
    }
    dir.ancestors().any(|d| {
        ["config.toml", "config"].iter().any(|n| {
            std::fs::read_to_string(d.join(".cargo").join(n)).is_ok_and(|t| {
                let mut in_build = false;
                t.lines().any(|l| {
                    let l = l.trim();
                    if l.starts_with('[') {
                        in_build = l == "[build]";
                        false
                    } else {
                        (in_build && l.starts_with("target") && l.contains('='))
                            || l.starts_with("build.target")
                    }
                })
            })
        })
    })
}

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
    ]
    .map(String::from)
    .to_vec();
    // For the host's own triple, no `--target`: cargo then builds into `target/release/`,
    // which a `cargo build --release` (or `cargo run --release -- release …`) already filled,
    // so the binary is not compiled a second time. The code compiled is the same.
    let dir = build_dir(ctx, b);
    if crate::cargo_meta::host_triple().as_deref() != Some(triple.as_str())
        || sets_build_target(&dir)
    {
        argv.extend(["--target".to_string(), triple.clone()]);
    }
    argv.extend(["--bin".to_string(), bin.clone()]);
    argv.extend(render_list(ctx, pb, "flags", &b.flags.items())?);
    Ok(Step::Run(
        Invocation {
            stdin: None,
            argv,
            env,
            dir,
        },
        Produced::CargoJson(bin),
    ))
}
