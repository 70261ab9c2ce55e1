//! Global `before.hooks`: commands run once, in order, before any build.

use super::Stage;
use crate::context::Context;
use crate::error::Result;
use crate::exec::{self, Invocation};
use std::sync::atomic::AtomicBool;

/// The before-hooks stage.
pub struct Before;

impl Stage for Before {
    fn name(&self) -> &'static str {
        "before"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.before.hooks.is_empty() {
            return Some("no hooks".into());
        }
        super::skipped_by_flag(ctx, "before")
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        c.commands(
            vec!["before".into(), "hooks".into()],
            &c.config.before.hooks,
            &crate::config::validate::globals(),
        );
    }

    fn preflight(&self, ctx: &Context) -> Result<()> {
        for (i, hook) in ctx.config.before.hooks.iter().enumerate() {
            exec::split(&ctx.render(&format!("before.hooks[{i}]"), hook)?)?;
        }
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        for (i, hook) in ctx.config.before.hooks.iter().enumerate() {
            let key = format!("before.hooks[{i}]");
            let cmd = ctx.render(&key, hook)?;
            let inv = Invocation {
                stdin: None,
                argv: exec::split(&cmd)?,
                env: ctx.env.clone().into_iter().collect(),
                dir: ctx.root.clone(),
            };
            tracing::info!("before: running `{}`", inv.display());
            exec::run(
                &format!("hook `{}`", inv.display()),
                &inv,
                &AtomicBool::new(false),
                ctx.options.deadline,
            )?;
        }
        Ok(())
    }
}
