//! The changelog stage: `dist/release-notes.md` for this release.
//!
//! The range is the previous tag to the tag being released, or the last tag to HEAD for a
//! snapshot (what would go into the next release). The notes are registered as
//! `Kind::ReleaseNotes` so publishing can use them as the release body.
//!
//! With `changelog.use: github` the range's commits come from GitHub's compare API (each
//! with its author's login), with `github-native` GitHub writes the notes. A snapshot never
//! depends on GitHub: without a token, or when GitHub cannot answer (commits not pushed),
//! its notes come from git, with a warning.

use crate::artifact::{Artifact, Kind};
use crate::changelog::{self, github::Api, render};
use crate::config::model::ChangelogUse;
use crate::config::validate::{Checker, at};
use crate::context::Context;
use crate::dist;
use crate::error::{Error, Result};
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
        if let Some(f) = &config.changelog.format
            && let Err(m) = render::check_format(f, &crate::config::validate::globals())
        {
            c.push(
                at(&["changelog".into(), "format".into()]),
                format!("changelog.format: {m}"),
                Some("the format sees one commit's fields (short_sha, sha, subject, author.name, author.email, author.login, logins, type, scope, …) and the release's variables".into()),
            );
        }
        if config.changelog.abbrev < -1 {
            c.push(
                at(&["changelog".into(), "abbrev".into()]),
                format!(
                    "changelog.abbrev is {}: it is a hash length",
                    config.changelog.abbrev
                ),
                Some(
                    "0 keeps git's abbreviation, -1 leaves the hash out, N keeps N characters"
                        .into(),
                ),
            );
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

    /// GitHub's API needs a token; a release without one stops before any work. A snapshot
    /// falls back to git instead (see [`api`]).
    fn preflight(&self, ctx: &Context) -> Result<()> {
        let using = ctx.config.changelog.r#use;
        if using == ChangelogUse::Git || ctx.options.snapshot {
            return Ok(());
        }
        if changelog::github::token(|k| ctx.env.get(k).cloned())?.is_none() {
            return Err(Error::Usage(format!(
                "changelog.use: {} reads the release's commits from GitHub and needs a token: set GITHUB_TOKEN (or GH_TOKEN), or set `changelog.use: git`",
                name_of(using)
            )));
        }
        ctx.release_repo().map(|_| ())
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let source = match ctx.config.changelog.r#use {
            ChangelogUse::Git => "",
            ChangelogUse::Github => ", commits from GitHub's compare API",
            ChangelogUse::GithubNative => ", written by GitHub (releases/generate-notes)",
        };
        plan.release_notes = Some(PlannedFile {
            name: "release-notes.md".into(),
            path: ctx.dist.join("release-notes.md"),
            detail: format!(
                "{} to {}{source}",
                if ctx.options.snapshot {
                    ctx.git.last_tag().map(String::from)
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
        let api = api(ctx)?;
        if cfg.r#use == ChangelogUse::GithubNative
            && let Some(api) = &api
        {
            return native(ctx, api);
        }
        let (name, text) = render::load_template(
            render::template_base(&ctx.loaded.file),
            cfg.template.as_deref(),
        )?;
        let renderer = render::Renderer::new(cfg, &name, text)?.with_globals(&ctx.vars);
        // `release.github` is templated (a fork's owner from the environment): links use the
        // rendered names.
        let gh = match &ctx.config.release.github {
            Some(g) => Some((
                ctx.render("release.github.owner", &g.owner)?,
                ctx.render("release.github.name", &g.name)?,
            )),
            None => changelog::github_repo(&ctx.config, ctx.git.remote_url.as_deref()),
        };
        // `ctx.previous_tag` passes over a stable release's prereleases and over tags on
        // its own commit (see `changelog::previous_of`).
        let (from, to, tag) = if ctx.options.snapshot {
            (ctx.git.last_tag(), "HEAD", None)
        } else {
            (
                ctx.previous_tag.as_deref(),
                ctx.tag.as_str(),
                Some(ctx.tag.as_str()),
            )
        };
        let from_git = || changelog::release(&ctx.root, from, to, tag, "", None, gh.as_ref());
        let release = match (&api, from) {
            (Some(api), Some(from)) => {
                match changelog::release_from_github(
                    api,
                    &ctx.root,
                    from,
                    to,
                    tag,
                    "",
                    None,
                    gh.as_ref(),
                ) {
                    Ok(r) => r,
                    Err(e) if ctx.options.snapshot => {
                        tracing::warn!("{e}; this snapshot's notes come from git instead");
                        from_git()?
                    }
                    Err(e) => return Err(e),
                }
            }
            // GitHub compares two refs; the first release has only one (GoReleaser does
            // the same).
            (Some(_), None) => {
                tracing::warn!(
                    "changelog.use: github: there is no previous tag to compare with, so the notes come from git"
                );
                from_git()?
            }
            (None, _) => from_git()?,
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

/// `changelog.use` as the config spells it.
fn name_of(using: ChangelogUse) -> &'static str {
    match using {
        ChangelogUse::Git => "git",
        ChangelogUse::Github => "github",
        ChangelogUse::GithubNative => "github-native",
    }
}

/// GitHub's API when `changelog.use` needs it and can have it. A snapshot without a token, or
/// with `github-native` (a snapshot has no tag for GitHub to write notes for), falls back to
/// git with a warning: a snapshot never needs a token.
fn api(ctx: &Context) -> Result<Option<Api>> {
    let using = ctx.config.changelog.r#use;
    if using == ChangelogUse::Git {
        return Ok(None);
    }
    if ctx.options.snapshot && using == ChangelogUse::GithubNative {
        tracing::warn!(
            "changelog.use: github-native: GitHub writes notes for a tag, and a snapshot has none; this snapshot's notes come from git"
        );
        return Ok(None);
    }
    let Some(token) = changelog::github::token(|k| ctx.env.get(k).cloned())? else {
        if ctx.options.snapshot {
            tracing::warn!(
                "changelog.use: {}: GITHUB_TOKEN (or GH_TOKEN) is not set, so this snapshot's notes come from git (without GitHub logins)",
                name_of(using)
            );
            return Ok(None);
        }
        return Err(Error::Usage(format!(
            "changelog.use: {} needs a token: set GITHUB_TOKEN (or GH_TOKEN)",
            name_of(using)
        )));
    };
    let urls = crate::github::Urls::of(ctx.config.release.github_urls.as_ref());
    Api::new(token, urls, ctx.release_repo()?).map(Some)
}

/// `github-native`: GitHub's notes are the whole body.
fn native(ctx: &Context, api: &Api) -> Result<()> {
    let cfg = &ctx.config.changelog;
    if !cfg.groups.is_empty()
        || !cfg.filters.include.is_empty()
        || !cfg.filters.exclude.is_empty()
        || cfg.template.is_some()
        || cfg.format.is_some()
        || cfg.sort != crate::config::model::Sort::Git
    {
        tracing::warn!(
            "changelog.use: github-native: GitHub writes the whole notes, so changelog.groups, filters, sort, format and template are not used"
        );
    }
    let notes = api.generate_notes(&ctx.tag, ctx.previous_tag.as_deref())?;
    let path = match &ctx.plan.release_notes {
        Some(p) => p.path.clone(),
        None => ctx.dist.join("release-notes.md"),
    };
    dist::write_atomic(&path, notes.as_bytes())?;
    let mut a = Artifact::new(Kind::ReleaseNotes, "release-notes.md", ctx.rel_path(&path));
    a.size = Some(notes.len() as u64);
    ctx.artifacts.add(a);
    tracing::info!(
        "changelog: {} (written by GitHub for {} since {})",
        ctx.rel_path(&path),
        ctx.tag,
        ctx.previous_tag
            .as_deref()
            .unwrap_or("its previous release")
    );
    Ok(())
}
