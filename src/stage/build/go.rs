//! The Go builder: `go build` with GOOS/GOARCH/GOARM/GOAMD64 and templated ldflags.

use super::{Produced, Step, build_dir, build_env, gomod, render_list};
use crate::config::Build;
use crate::context::Context;
use crate::error::Result;
use crate::exec::Invocation;
use crate::plan::PlannedBuild;

/// The `go build` invocation for one target.
pub fn step(ctx: &Context, b: &Build, pb: &PlannedBuild) -> Result<Step> {
    let mut env = build_env(ctx, b, pb)?;
    let t = &pb.target;
    env.retain(|(k, _)| {
        !matches!(
            k.as_str(),
            "GOOS" | "GOARCH" | "GOARM" | "GOAMD64" | "GOMIPS" | "GOMIPS64"
        )
    });
    env.push(("GOOS".into(), t.os.clone()));
    env.push(("GOARCH".into(), t.arch.clone()));
    if let Some(arm) = &t.arm {
        env.push(("GOARM".into(), arm.clone()));
    }
    if let Some(v) = &t.amd64 {
        env.push(("GOAMD64".into(), v.clone()));
    }
    if let Some(v) = &t.mips {
        let var = if t.arch.starts_with("mips64") {
            "GOMIPS64"
        } else {
            "GOMIPS"
        };
        env.push((var.into(), v.clone()));
    }
    let mut argv = vec![
        b.gobinary.clone().unwrap_or_else(|| "go".into()),
        "build".into(),
    ];
    argv.extend(render_list(ctx, pb, "flags", &b.flags.items())?);
    let ldflags = render_list(ctx, pb, "ldflags", &b.ldflags.items())?;
    if !ldflags.is_empty() {
        argv.push(format!("-ldflags={}", ldflags.join(" ")));
    }
    argv.push("-o".into());
    argv.push(pb.output.to_string_lossy().into_owned());
    // `gomod.proxy`: the main package by import path, from the module resolved at the tag.
    let (dir, main) = if gomod::applies(ctx, b) {
        env.extend(gomod::env(ctx, pb)?);
        gomod::location(ctx, b, &pb.id)?
    } else {
        (
            build_dir(ctx, b),
            b.main.clone().unwrap_or_else(|| ".".into()),
        )
    };
    argv.push(main);
    Ok(Step::Run(
        Invocation {
            stdin: None,
            argv,
            env,
            dir,
        },
        Produced::AtOutput,
    ))
}
