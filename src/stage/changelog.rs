//! The changelog stage: `dist/release-notes.md` for this release.
//!
//! The range is the previous tag to the tag being released, or the last tag to HEAD for a
//! snapshot (what would go into the next release). The notes are registered as
//! `Kind::ReleaseNotes` so publishing can use them as the release body.

use crate::artifact::{Artifact, Kind};
use crate::changelog::{self, render};
use crate::config::validate::{Checker, at};
use crate::context::Context;
use crate::dist;
use crate::error::Result;
use crate::plan::{Plan, PlannedFile};
use crate::stage::{Stage, skipped_by_flag};

/// Writes the release notes.
pub struct ChangelogStage;

impl Stage for ChangelogStage {
    fn name(&self) -> &'static str {
        "changelog"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.changelog.disable {
            return Some("changelog.disable".into());
        }
        if !ctx.git.is_repo {
            return Some("not a git repository".into());
        }
        skipped_by_flag(ctx, "changelog")
    }

    fn check(&self, c: &mut Checker) {
        let config = c.config;
        for (i, re) in config.changelog.filters.exclude.iter().enumerate() {
            c.regex(
                at(&[
                    "changelog".into(),
                    "filters".into(),
                    "exclude".into(),
                    i.into(),
                ]),
                re,
            );
        }
        for (i, re) in config.changelog.filters.include.iter().enumerate() {
            c.regex(
                at(&[
                    "changelog".into(),
                    "filters".into(),
                    "include".into(),
                    i.into(),
                ]),
                re,
            );
        }
        for (i, g) in config.changelog.groups.iter().enumerate() {
            if let Some(re) = &g.regexp {
                c.regex(
                    at(&[
                        "changelog".into(),
                        "groups".into(),
                        i.into(),
                        "regexp".into(),
                    ]),
                    re,
                );
            }
        }
        if let Some(t) = &config.changelog.template {
            let base = render::template_base(&c.loaded.file);
            let problem = match render::load_template(base, Some(t)) {
                Ok((_, text)) => render::check_template(&text)
                    .err()
                    .map(|m| format!("changelog template {t}: {m}")),
                Err(e) => Some(e.to_string()),
            };
            if let Some(m) = problem {
                c.push(at(&["changelog".into(), "template".into()]), m, None);
            }
        }
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        plan.release_notes = Some(PlannedFile {
            name: "release-notes.md".into(),
            path: ctx.dist.join("release-notes.md"),
            detail: format!(
                "{} to {}",
                if ctx.options.snapshot {
                    ctx.git.reachable_tags.first().cloned()
                } else {
                    ctx.previous_tag.clone()
                }
                .unwrap_or_else(|| "the first commit".into()),
                if ctx.options.snapshot {
                    "HEAD"
                } else {
                    &ctx.tag
                }
            ),
        });
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let cfg = &ctx.config.changelog;
        let (name, text) = render::load_template(
            render::template_base(&ctx.loaded.file),
            cfg.template.as_deref(),
        )?;
        let renderer = render::Renderer::new(cfg, &name, text)?;
        // `release.github` is templated (a fork's owner from the environment): links use the
        // rendered names.
        let gh = match &ctx.config.release.github {
            Some(g) => Some((
                ctx.render("release.github.owner", &g.owner)?,
                ctx.render("release.github.name", &g.name)?,
            )),
            None => changelog::github_repo(&ctx.config, ctx.git.remote_url.as_deref()),
        };
        let release = if ctx.options.snapshot {
            let last = ctx.git.reachable_tags.first().map(String::as_str);
            changelog::release(&ctx.root, last, "HEAD", None, "", None, gh.as_ref())?
        } else {
            // `ctx.previous_tag` passes over a stable release's prereleases and over tags on
            // its own commit (see `changelog::previous_of`).
            let previous = ctx.previous_tag.clone();
            changelog::release(
                &ctx.root,
                previous.as_deref(),
                &ctx.tag,
                Some(&ctx.tag),
                "",
                None,
                gh.as_ref(),
            )?
        };
        let notes = renderer.render(&release, &name)?;
        let path = match &ctx.plan.release_notes {
            Some(p) => p.path.clone(),
            None => ctx.dist.join("release-notes.md"),
        };
        dist::write_atomic(&path, notes.as_bytes())?;
        let mut a = Artifact::new(Kind::ReleaseNotes, "release-notes.md", ctx.rel_path(&path));
        a.size = Some(notes.len() as u64);
        a.extra.insert(
            "commits".into(),
            serde_json::json!(renderer.select(&release.commits).len()),
        );
        ctx.artifacts.add(a);
        tracing::info!(
            "changelog: {} ({} since {})",
            ctx.rel_path(&path),
            crate::summary::plural(renderer.select(&release.commits).len(), "commit", "commits"),
            release
                .previous_tag
                .as_deref()
                .unwrap_or("the first commit")
        );
        Ok(())
    }
}
