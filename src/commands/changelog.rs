//! `rel changelog` and `rel next-version`.
//!
//! Both work from the git history alone: they read the config only for its `changelog`
//! section (and `release.github` for links), and without a config file they use the
//! defaults, so they can run in any repository before rel is set up.
//!
//! `changelog.use: github` and `github-native` are honoured when GITHUB_TOKEN (or GH_TOKEN)
//! is set; without one the command still prints git's changelog, with a warning, so a
//! preview never needs a token.

use crate::changelog::github::Api;
use crate::changelog::render::{self, Renderer};
use crate::changelog::version;
use crate::cli::{ChangelogArgs, Global, NextVersionArgs};
use crate::config::model::ChangelogUse;
use crate::config::{self, Config};
use crate::error::{Error, Result};
use crate::git;
use std::path::{Path, PathBuf};

/// The config (defaults when there is no config file and none was named) and its file.
fn config(root: &Path, explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>)> {
    if explicit.is_none() && config::find(root, None).is_err() {
        return Ok((Config::default(), None));
    }
    let (loaded, cfg, _) = crate::pipeline::load_config(root, explicit)?;
    Ok((cfg, Some(loaded.file)))
}

fn require_repo(root: &Path) -> Result<()> {
    git::git(root, &["rev-parse", "--verify", "-q", "HEAD"])
        .map(|_| ())
        .map_err(|_| {
            Error::State(format!(
                "{} is not a git repository with a commit; a changelog needs git history",
                root.display()
            ))
        })
}

fn check_ref(root: &Path, r: &str, flag: &str) -> Result<()> {
    git::git(
        root,
        &["rev-parse", "--verify", "-q", &format!("{r}^{{commit}}")],
    )
    .map(|_| ())
    .map_err(|_| {
        Error::Usage(format!(
            "{flag} {r}: no such commit, tag or branch in this repository"
        ))
    })
}

/// `rel changelog`: the markdown on stdout.
pub fn changelog(g: &Global, a: &ChangelogArgs, root: &Path) -> Result<()> {
    if a.all && a.from.is_some() {
        return Err(Error::Usage(
            "--all covers every tag; it cannot be combined with --from".into(),
        ));
    }
    if a.unreleased && a.from.is_some() {
        return Err(Error::Usage(
            "--unreleased starts at the last tag; it cannot be combined with --from".into(),
        ));
    }
    let (cfg, file) = config(root, g.config.as_deref())?;
    let base = file
        .as_deref()
        .map(crate::changelog::render::template_base)
        .unwrap_or(root);
    let (name, text) = render::load_template(base, cfg.changelog.template.as_deref())?;
    let to = a.to.clone().unwrap_or_else(|| "HEAD".into());
    // `--all` reads the whole history: its `git log` starts at once, while the regular
    // expressions compile and git answers the checks (whose errors, if any, still win).
    let mut history = None;
    let (renderer, remote) = std::thread::scope(|scope| {
        // No tag is chosen here: the format sees `env` and `is_nightly` beside each commit.
        let renderer = scope.spawn(|| {
            Renderer::new(&cfg.changelog, &name, text)
                .map(|r| r.with_globals(&crate::context::tagless_vars()))
        });
        let checks = scope.spawn(|| {
            // Three quick git calls, at once.
            let origin = scope.spawn(|| git::git(root, &["remote", "get-url", "origin"]).ok());
            let from = scope.spawn(|| match &a.from {
                Some(f) => check_ref(root, f, "--from"),
                None => Ok(()),
            });
            require_repo(root)
                .and_then(|()| check_ref(root, &to, "--to"))
                .and_then(|()| from.join().expect("check --from"))
                .map(|()| origin.join().expect("origin"))
        });
        if a.all {
            history = Some(crate::changelog::all_releases(
                root,
                &to,
                a.tag_prefix.as_str(),
                a.path.as_deref(),
                a.unreleased,
                None,
            ));
        }
        (
            renderer.join().expect("renderer"),
            checks.join().expect("checks"),
        )
    });
    let remote = remote?;
    let renderer = renderer?;
    let gh = crate::changelog::github_repo(&cfg, remote.as_deref());
    let api = api(&cfg, gh.as_ref())?;
    let prefix = a.tag_prefix.as_str();
    let path = a.path.as_deref();
    let out = if a.all {
        let mut releases = history.expect("read above")?;
        // The compare links need the remote, which was read meanwhile.
        for r in &mut releases {
            let to_name = r.tag.as_deref().unwrap_or("HEAD");
            r.compare_url =
                crate::changelog::compare_url(gh.as_ref(), r.previous_tag.as_deref(), to_name);
        }
        if let Some(api) = &api {
            if cfg.changelog.r#use == ChangelogUse::GithubNative {
                eprintln!(
                    "warning: changelog.use: github-native writes one release's notes; --all prints git's changelog with GitHub logins"
                );
            }
            crate::changelog::attach_logins(api, root, &to, &mut releases)?;
        }
        let text = renderer.render_all(&releases, &name)?;
        // The process ends after printing: freeing every commit of the history one by one
        // would only add to the time (measured: ~10 ms for 20,000 commits).
        std::mem::forget(releases);
        text
    } else {
        let tags = crate::changelog::reachable_tags(root, prefix, &to)?;
        // The tag this range ends at: `--to TAG`, else the highest tag on the end commit.
        let tag = if a.unreleased {
            None
        } else if git::tag_version(&to, prefix).is_some() && tags.contains(&to) {
            Some(to.clone())
        } else {
            crate::changelog::tags_at(root, prefix, &to)?
                .into_iter()
                .next()
        };
        let from = match (&a.from, &tag) {
            (Some(f), _) => Some(f.clone()),
            (None, Some(t)) => crate::changelog::previous_of(root, &tags, t, prefix)?,
            (None, None) => tags.first().cloned(),
        };
        let native = cfg.changelog.r#use == ChangelogUse::GithubNative;
        match (&api, &from, &tag) {
            (Some(api), _, Some(t)) if native => api.generate_notes(t, from.as_deref())?,
            (Some(api), Some(f), _) if !native => {
                let release = crate::changelog::release_from_github(
                    api,
                    root,
                    f,
                    &to,
                    tag.as_deref(),
                    prefix,
                    path,
                    gh.as_ref(),
                )?;
                renderer.render(&release, &name)?
            }
            (api, _, _) => {
                if api.is_some() {
                    eprintln!(
                        "warning: changelog.use: {}: {}, so the changelog comes from git",
                        if native { "github-native" } else { "github" },
                        if native {
                            "GitHub writes notes for a tag, and this range ends at none"
                        } else {
                            "there is no previous tag to compare with"
                        }
                    );
                }
                let release = crate::changelog::release(
                    root,
                    from.as_deref(),
                    &to,
                    tag.as_deref(),
                    prefix,
                    path,
                    gh.as_ref(),
                )?;
                renderer.render(&release, &name)?
            }
        }
    };
    print!("{out}");
    Ok(())
}

/// GitHub's API when `changelog.use` asks for it and a token is set; without a token, a
/// warning and `None` (the changelog comes from git).
fn api(cfg: &Config, gh: Option<&(String, String)>) -> Result<Option<Api>> {
    let using = match cfg.changelog.r#use {
        ChangelogUse::Git => return Ok(None),
        ChangelogUse::Github => "github",
        ChangelogUse::GithubNative => "github-native",
    };
    let Some(token) = crate::changelog::github::token(|k| std::env::var(k).ok())? else {
        eprintln!(
            "warning: changelog.use: {using}: GITHUB_TOKEN (or GH_TOKEN) is not set, so the changelog comes from git (without GitHub logins)"
        );
        return Ok(None);
    };
    let Some((owner, name)) = gh else {
        return Err(Error::Usage(format!(
            "changelog.use: {using} needs the GitHub repository: set `release.github: {{owner: ..., name: ...}}` or an `origin` remote on github.com"
        )));
    };
    let urls = crate::github::Urls::of(cfg.release.github_urls.as_ref());
    Api::new(token, urls, format!("{owner}/{name}")).map(Some)
}

/// `rel next-version`: the next tag on stdout.
pub fn next_version(a: &NextVersionArgs, root: &Path) -> Result<()> {
    require_repo(root)?;
    let prefix = a.tag_prefix.as_str();
    let tags = crate::changelog::reachable_tags(root, prefix, "HEAD")?;
    let last = tags.first().map(String::as_str);
    let commits = crate::changelog::range(root, last, "HEAD", a.path.as_deref())?;
    let bump = version::bump_of(render::effective(&commits).into_iter().map(|c| &**c));
    let next = match (last, bump) {
        (Some(t), None) => {
            eprintln!(
                "no commits since {t}{}: the version stays {t}",
                a.path
                    .as_deref()
                    .map(|p| format!(" touching {p}"))
                    .unwrap_or_default()
            );
            t.to_string()
        }
        (Some(t), Some(b)) => {
            let v = git::tag_version(t, prefix).expect("reachable tags are semver");
            let v_prefix = if t[prefix.len()..].starts_with('v') {
                "v"
            } else {
                ""
            };
            let all = crate::changelog::all_tags(root, prefix)?;
            let proposed = version::next(&v, b);
            let free = version::past_existing(proposed.clone(), b, &all, prefix);
            if free != proposed {
                eprintln!(
                    "{prefix}{v_prefix}{proposed} already exists (not reachable from HEAD: on another branch); proposing the next free version past it"
                );
            }
            format!("{prefix}{v_prefix}{free}")
        }
        (None, _) => format!("{prefix}v0.1.0"),
    };
    println!("{next}");
    Ok(())
}
