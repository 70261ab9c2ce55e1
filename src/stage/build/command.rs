//! The command builder: any argv, told where to write the binary through `{{ output }}`.

use super::{Produced, Step, build_dir, build_env};
use crate::config::Build;
use crate::context::Context;
use crate::error::Result;
use crate::exec::Invocation;
use crate::plan::PlannedBuild;

/// The templated command for one target.
pub fn step(ctx: &Context, b: &Build, pb: &PlannedBuild) -> Result<Step> {
    let mut vars = pb.vars.clone();
    vars.insert(
        "output".into(),
        minijinja::Value::from(pb.output.to_string_lossy().into_owned()),
    );
    let argv = b
        .command
        .iter()
        .enumerate()
        .map(|(i, a)| {
            ctx.templates
                .render(&format!("builds[{}].command[{i}]", pb.index), a, &vars)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Step::Run(
        Invocation {
            stdin: None,
            argv,
            env: build_env(ctx, b, pb)?,
            dir: build_dir(ctx, b),
        },
        Produced::AtOutput,
    ))
}
