//! The extra-files stage: `release.extra_files` registered as `extra_file` artifacts.
//!
//! A step of its own, before checksums, so the checksum file covers every asset of the
//! release and publishing uploads what the registry holds — no stage reaches into another
//! to find these files. They are registered only when the run publishes: a snapshot's
//! checksum file lists what rel built, nothing else.

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::validate::{Checker, globals};
use crate::context::Context;
use crate::error::Result;

/// Registers `release.extra_files`.
pub struct ExtraFiles;

/// Files matching `release.extra_files`, as (asset name, path relative to the root).
pub fn resolve(ctx: &Context) -> Result<Vec<(String, String)>> {
    crate::fileset::extra_files(
        &ctx.root,
        &ctx.templates,
        &ctx.vars,
        "release.extra_files",
        &ctx.config.release.extra_files,
    )
}

impl Stage for ExtraFiles {
    fn name(&self) -> &'static str {
        "extra_files"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.release.extra_files.is_empty() {
            return Some("no release.extra_files".into());
        }
        ctx.publish_skip_reason()
            .map(|r| format!("not publishing: {r}"))
    }

    fn check(&self, c: &mut Checker) {
        let config = c.config;
        for (i, f) in config.release.extra_files.iter().enumerate() {
            let at = |k: &str| vec!["release".into(), "extra_files".into(), i.into(), k.into()];
            if let Some(t) = &f.name_template {
                c.template(
                    at("name_template"),
                    t,
                    &[globals().as_slice(), &["filename"]].concat(),
                );
            }
            if let Err(e) = globset::Glob::new(&f.glob) {
                c.push(at("glob"), format!("invalid glob: {e}"), None);
            }
        }
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        // Once per path: a merge or a re-run may already hold some.
        let known: Vec<String> = ctx
            .artifacts
            .select(&Filter::kind(Kind::ExtraFile))
            .into_iter()
            .map(|a| a.path)
            .collect();
        let found = resolve(ctx)?;
        let n = found.len();
        for (name, path) in found {
            if !known.contains(&path) {
                ctx.artifacts
                    .add(Artifact::new(Kind::ExtraFile, name, path));
            }
        }
        tracing::info!("extra files: {n} registered");
        Ok(())
    }
}
