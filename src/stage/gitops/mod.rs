//! The gitops stage: after the images are pushed, moves the image references in config
//! repositories (what Argo CD and Flux reconcile) to the digests rel pushed, with one commit
//! or one pull request per repository.
//!
//! Careful by design, because a deployment follows from what it writes:
//! - references are written by digest (`repo:tag@sha256:…`), the index digest rel pushed;
//! - every other byte of an edited file is kept (comments, order, quoting): see [`edit`];
//! - before the first build (preflight) the repository is read with the credentials the run
//!   will use, push rights are checked, every file must exist and every reference must be
//!   found exactly once (markers: at least once), so a wrong path stops the release early;
//! - the change is idempotent: a file that already holds the reference is not written, so a
//!   re-run after the push (even one killed before it recorded anything) makes no second
//!   commit or pull request; a branch that moved meanwhile is re-read, re-edited and retried.
//!
//! `--snapshot` reads the repository when it can and writes the diffs to `dist/gitops/`;
//! nothing is pushed. `--dry-run` prints each diff with the digest still to be known.

pub mod edit;
mod git;
mod github;

use super::Stage;
use crate::artifact::{Artifact, Kind};
use crate::config::validate::Checker;
use crate::config::{GitopsFormat, GitopsMode};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git_remote::Place;
use crate::plan::{Plan, PlannedGitops};
use std::path::PathBuf;

/// The gitops stage.
pub struct GitopsStage;

/// The pull request of an entry in `pull_request` mode.
#[derive(Debug, Clone)]
struct Pr {
    base: Option<String>,
    title: String,
    body: Option<String>,
    labels: Vec<String>,
    draft: bool,
}

/// One `gitops` entry, rendered and resolved against the plan's images.
#[derive(Debug, Clone)]
struct Entry {
    key: String,
    id: String,
    place: Place,
    /// The branch written to: the configured one (commit mode), rel's own (pull requests), or
    /// `None` for the repository's default branch.
    branch: Option<String>,
    pr: Option<Pr>,
    message: String,
    author: (String, String),
    updates: Vec<Update>,
}

/// One reference to move.
#[derive(Debug, Clone)]
struct Update {
    key: String,
    file: String,
    format: edit::Format,
    /// The image's repository and the tag written next to the digest.
    repository: String,
    tag: String,
    with_tag: bool,
}

impl Entry {
    fn display(&self) -> String {
        match &self.place {
            Place::GitHub { owner, name, .. } => format!("{owner}/{name}"),
            Place::Git { url, .. } => crate::redact::redact(url),
        }
    }
}

/// The image a `gitops` update names: its repository and first tag, from the plan.
fn resolve_image(plan: &Plan, image: &str) -> std::result::Result<(String, String), String> {
    let mut found: Vec<(String, String)> = vec![];
    for i in &plan.images {
        if i.id == image || i.repository == image {
            found.push((
                i.repository.clone(),
                i.tags.first().cloned().unwrap_or_default(),
            ));
        }
    }
    for d in &plan.dockers {
        for r in &d.references {
            let (repo, tag) = split_reference(r);
            if d.id == image || repo == image {
                found.push((repo.to_string(), tag.to_string()));
            }
        }
    }
    for m in &plan.manifests {
        let (repo, tag) = split_reference(&m.name);
        if repo == image {
            found.push((repo.to_string(), tag.to_string()));
        }
    }
    let mut repos: Vec<&String> = found.iter().map(|(r, _)| r).collect();
    repos.sort();
    repos.dedup();
    match repos.len() {
        0 => Err(format!(
            "no image `{image}`: name an `images`, `dockers_v2` or `dockers` id, or a repository rel pushes"
        )),
        1 => Ok(found.swap_remove(0)),
        _ => Err(format!(
            "`{image}` is pushed to {} repositories ({}): name one of them as `image`",
            repos.len(),
            repos
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `registry/repo:tag` → (`registry/repo`, `tag`); a port's colon is not a tag's.
fn split_reference(r: &str) -> (&str, &str) {
    match r.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (r, ""),
    }
}

fn author_of(a: &Option<crate::config::CommitAuthor>) -> (String, String) {
    let a = a.clone().unwrap_or_default();
    (
        a.name.unwrap_or_else(|| "rel".into()),
        a.email
            .unwrap_or_else(|| "rel@users.noreply.github.com".into()),
    )
}

/// Every entry, rendered, with its images resolved in `plan`.
fn entries(ctx: &Context, plan: &Plan) -> Result<Vec<Entry>> {
    let project = ctx.config.project_name.clone().unwrap_or_default();
    let mut out = vec![];
    for (i, g) in ctx.config.gitops.iter().enumerate() {
        let key = format!("gitops[{i}]");
        let repo = &g.repository;
        let place = Place::of(ctx, &key, repo)?;
        let message = ctx.render(
            &format!("{key}.commit_msg_template"),
            g.commit_msg_template
                .as_deref()
                .unwrap_or("chore(deploy): {{ project_name }} {{ tag }}"),
        )?;
        let configured = repo
            .branch
            .as_deref()
            .map(|b| ctx.render(&format!("{key}.repository.branch"), b))
            .transpose()?;
        let (branch, pr) = match g.mode {
            GitopsMode::Commit => (configured, None),
            GitopsMode::PullRequest => {
                let p = &g.pull_request;
                let title = match &p.title {
                    Some(t) => ctx.render(&format!("{key}.pull_request.title"), t)?,
                    None => message.clone(),
                };
                let body = p
                    .body
                    .as_deref()
                    .map(|b| ctx.render(&format!("{key}.pull_request.body"), b))
                    .transpose()?;
                let base = p
                    .base
                    .as_deref()
                    .map(|b| ctx.render(&format!("{key}.pull_request.base"), b))
                    .transpose()?;
                (
                    Some(configured.unwrap_or_else(|| {
                        format!("rel/{}-{}", project, ctx.version)
                            .replace(['~', '^', ':', ' '], "-")
                    })),
                    Some(Pr {
                        base,
                        title,
                        body,
                        labels: p.labels.clone(),
                        draft: p.draft,
                    }),
                )
            }
        };
        let mut updates = vec![];
        for (j, u) in g.updates.iter().enumerate() {
            let ukey = format!("{key}.updates[{j}]");
            let (repository, tag) = resolve_image(plan, &u.image)
                .map_err(|e| Error::Config(format!("`{ukey}.image`: {e}")))?;
            let format = match u.format {
                GitopsFormat::Kustomize => edit::Format::Kustomize {
                    name: u.name.clone().unwrap_or_else(|| repository.clone()),
                },
                GitopsFormat::Helm => edit::Format::Helm {
                    path: u.path.clone().unwrap_or_else(|| "image".into()),
                },
                GitopsFormat::Yaml => edit::Format::Marker {
                    marker: u.marker.clone().unwrap_or_else(|| u.image.clone()),
                },
                GitopsFormat::Regex => edit::Format::Regex {
                    pattern: u.pattern.clone().unwrap_or_default(),
                },
            };
            updates.push(Update {
                key: ukey,
                file: u.file.trim_start_matches("./").to_string(),
                format,
                repository,
                tag,
                with_tag: u.tag,
            });
        }
        let id = g.id.clone().unwrap_or_else(|| match &place {
            Place::GitHub { owner, name, .. } => format!("{owner}/{name}"),
            Place::Git { url, .. } => url
                .trim_end_matches('/')
                .trim_end_matches(".git")
                .rsplit(['/', ':'])
                .next()
                .unwrap_or("config")
                .to_string(),
        });
        out.push(Entry {
            key,
            id,
            place,
            branch,
            pr,
            message,
            author: author_of(&g.commit_author),
            updates,
        });
    }
    Ok(out)
}

/// What a repository holds and how to change it: the GitHub API or a git clone.
trait Repo {
    /// The branch written to (after the default one is known).
    fn branch(&self) -> &str;
    /// The file at `path` on the branch (the base branch for a pull request not made yet).
    fn read(&mut self, path: &str) -> Result<Option<String>>;
    /// Commit `files` (path, new text) on the branch, based on what was read; `Ok(None)`
    /// when the branch moved since (the caller re-reads and retries).
    fn commit(&mut self, files: &[(String, String)], e: &Entry) -> Result<Option<String>>;
    /// Re-read the branch after it moved.
    fn refresh(&mut self) -> Result<()>;
    /// Check that the run may push (preflight).
    fn can_push(&mut self) -> Result<()>;
    /// Open the pull request unless one is open; its URL.
    fn pull_request(&mut self, e: &Entry, pr: &Pr) -> Result<Option<String>>;
}

fn open(ctx: &Context, e: &Entry) -> Result<Box<dyn Repo>> {
    Ok(match &e.place {
        Place::GitHub {
            owner,
            name,
            token,
            token_key,
        } => Box::new(github::Api::open(
            ctx,
            e,
            &format!("{owner}/{name}"),
            token,
            token_key,
        )?),
        Place::Git {
            url,
            private_key,
            ssh_command,
        } => Box::new(git::Clone::open(
            ctx,
            e,
            url,
            private_key.as_deref(),
            ssh_command.as_deref(),
        )?),
    })
}

/// A reference to write: the image, with the digest rel pushed.
struct Written {
    update: Update,
    digest: String,
}

impl Written {
    fn image(&self) -> edit::NewImage<'_> {
        edit::NewImage {
            repository: &self.update.repository,
            tag: &self.update.tag,
            digest: &self.digest,
            with_tag: self.update.with_tag,
        }
    }
}

/// Edit every file of `e` as read from `repo`: (path, old text, new text) of each file, in
/// the order first named, with every update of that file applied.
fn edited(
    repo: &mut dyn Repo,
    e: &Entry,
    written: &[Written],
) -> Result<Vec<(String, String, String)>> {
    let mut files: Vec<(String, String, String)> = vec![];
    for w in written {
        let u = &w.update;
        let i = match files.iter().position(|(f, _, _)| *f == u.file) {
            Some(i) => i,
            None => {
                let text = repo
                    .read(&u.file)?
                    .ok_or_else(|| missing(u, e, repo.branch()))?;
                files.push((u.file.clone(), text.clone(), text));
                files.len() - 1
            }
        };
        let next = edit::apply(&files[i].2, &u.format, &w.image())
            .map_err(|err| Error::Failed(format!("`{}`: {}:{err}", u.key, u.file)))?;
        files[i].2 = next;
    }
    Ok(files)
}

/// A file an update names is not in the repository.
fn missing(u: &Update, e: &Entry, branch: &str) -> Error {
    Error::Failed(format!(
        "`{}.file`: {} holds no {} on {branch}",
        u.key,
        e.display(),
        u.file
    ))
}

/// The digest rel pushed for `u`'s image, from the registry of this run.
fn digest_of(ctx: &Context, u: &Update) -> Result<String> {
    let all = ctx.artifacts.all();
    let index = all.iter().find(|a| {
        a.kind == Kind::ImageIndex
            && a.extra.get("repository").and_then(|v| v.as_str()) == Some(u.repository.as_str())
            && a.extra.get("tag").and_then(|v| v.as_str()) == Some(u.tag.as_str())
    });
    // A single-platform `dockers` image has no index: its tags name the manifest itself.
    let single = || {
        all.iter().find(|a| {
            a.kind == Kind::Image
                && a.extra.get("repository").and_then(|v| v.as_str()) == Some(u.repository.as_str())
                && a.extra
                    .get("tags")
                    .and_then(|v| v.as_array())
                    .is_some_and(|t| t.iter().any(|t| t.as_str() == Some(u.tag.as_str())))
        })
    };
    index
        .or_else(single)
        .and_then(|a| a.extra.get("digest").and_then(|v| v.as_str()))
        .map(String::from)
        .ok_or_else(|| {
            Error::Failed(format!(
                "`{}`: no image {}:{} was made in this run",
                u.key, u.repository, u.tag
            ))
        })
}

/// The diff of every file of `e` with `digest` standing for each image's digest (dry runs
/// and snapshots), or why the repository could not be read.
fn diffs(ctx: &Context, e: &Entry, written: &[Written]) -> Result<String> {
    let mut repo = open(ctx, e)?;
    let files = edited(repo.as_mut(), e, written)?;
    Ok(files
        .iter()
        .map(|(path, old, new)| edit::unified_diff(path, old, new))
        .collect())
}

fn gitops_dir(ctx: &Context, e: &Entry) -> PathBuf {
    ctx.dist.join("gitops").join(sanitize(&e.id))
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What the stage would do, for the dry run: one heading per repository and the diff of
/// each file, with the digest still to be known.
pub fn describe(ctx: &Context) -> Result<Vec<String>> {
    if GitopsStage.skip(ctx).is_some() {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for e in entries(ctx, &ctx.plan)? {
        let what = match &e.pr {
            Some(p) => format!(
                "would open a pull request from {} to {} of {} ({}: {})",
                e.branch.as_deref().unwrap_or_default(),
                p.base.as_deref().unwrap_or("the default branch"),
                e.display(),
                e.key,
                p.title
            ),
            None => format!(
                "would commit to {} on {} ({}: {})",
                e.display(),
                e.branch.as_deref().unwrap_or("the default branch"),
                e.key,
                e.message
            ),
        };
        out.push(what);
        let written: Vec<Written> = e
            .updates
            .iter()
            .map(|u| Written {
                update: u.clone(),
                digest: "sha256:<digest pushed by this release>".into(),
            })
            .collect();
        match diffs(ctx, &e, &written) {
            Ok(d) => out.extend(d.lines().map(|l| format!("  {l}"))),
            Err(err) => out.push(format!("  (cannot read the repository: {err})")),
        }
    }
    Ok(out)
}

impl Stage for GitopsStage {
    fn name(&self) -> &'static str {
        "gitops"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.gitops.is_empty() {
            return Some("no gitops configured".into());
        }
        super::skipped_by_flag(ctx, "gitops")
    }

    fn check(&self, c: &mut Checker) {
        let config = c.config;
        let globals = crate::config::validate::globals();
        for (i, g) in config.gitops.iter().enumerate() {
            let at = |k: &str| -> Vec<crate::config::locate::Seg> {
                vec!["gitops".into(), i.into(), k.into()]
            };
            let r = &g.repository;
            match (&r.git, &r.owner, &r.name) {
                (Some(git), _, _) => {
                    if git.url.as_deref().unwrap_or_default().trim().is_empty() {
                        c.push(
                            vec!["gitops".into(), i.into(), "repository".into(), "git".into()],
                            "`git` needs a `url`",
                            Some("`url: git@host:org/config.git` or `file:///path/to/repo`".into()),
                        );
                    }
                    if g.mode == GitopsMode::PullRequest {
                        c.push(
                            at("mode"),
                            "a pull request needs a GitHub repository (`owner` and `name`), not a `git` remote",
                            None,
                        );
                    }
                }
                (None, Some(_), Some(_)) => {}
                _ => c.push(
                    at("repository"),
                    "a gitops repository needs `owner` and `name`, or `git: {url}`",
                    None,
                ),
            }
            if r.pull_request.is_some() {
                c.push(
                    vec![
                        "gitops".into(),
                        i.into(),
                        "repository".into(),
                        "pull_request".into(),
                    ],
                    "set `mode: pull_request` and the `pull_request` of the gitops entry instead",
                    None,
                );
            }
            if g.updates.is_empty() {
                c.push(
                    at("updates"),
                    "a gitops entry needs at least one update",
                    None,
                );
            }
            for key in ["commit_msg_template"] {
                if let Some(t) = &g.commit_msg_template {
                    c.template(at(key), t, &globals);
                }
            }
            if let Some(t) = &g.pull_request.title {
                c.template(
                    vec![
                        "gitops".into(),
                        i.into(),
                        "pull_request".into(),
                        "title".into(),
                    ],
                    t,
                    &globals,
                );
            }
            if let Some(t) = &g.pull_request.body {
                c.template(
                    vec![
                        "gitops".into(),
                        i.into(),
                        "pull_request".into(),
                        "body".into(),
                    ],
                    t,
                    &globals,
                );
            }
            for (j, u) in g.updates.iter().enumerate() {
                let uat = |k: &str| -> Vec<crate::config::locate::Seg> {
                    vec![
                        "gitops".into(),
                        i.into(),
                        "updates".into(),
                        j.into(),
                        k.into(),
                    ]
                };
                if u.file.trim().is_empty() || u.file.starts_with('/') || u.file.contains("..") {
                    c.push(uat("file"), "`file` is a path inside the repository", None);
                }
                match u.format {
                    GitopsFormat::Regex => match &u.pattern {
                        None => c.push(uat("format"), "`format: regex` needs a `pattern`", None),
                        Some(p) => {
                            c.regex(uat("pattern"), p);
                            if let Ok(re) = regex::Regex::new(p)
                                && re.captures_len() != 2
                            {
                                c.push(
                                    uat("pattern"),
                                    format!(
                                        "the pattern has {} groups; it needs exactly one, the text replaced by the reference",
                                        re.captures_len() - 1
                                    ),
                                    Some("use `(?:…)` for groups that only group".into()),
                                );
                            }
                        }
                    },
                    _ if u.pattern.is_some() => {
                        c.push(uat("pattern"), "`pattern` is for `format: regex`", None)
                    }
                    _ => {}
                }
            }
        }
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let list = entries(ctx, plan)?;
        plan.claim(
            "gitops",
            "gitops diffs",
            "no other output may be named `gitops`",
        )?;
        for e in list {
            plan.gitops.push(PlannedGitops {
                key: e.key.clone(),
                repository: e.display(),
                branch: e.branch.clone(),
                pull_request: e.pr.is_some(),
                files: e
                    .updates
                    .iter()
                    .map(|u| (u.file.clone(), format!("{}:{}", u.repository, u.tag)))
                    .collect(),
            });
        }
        Ok(())
    }

    fn preflight(&self, ctx: &Context) -> Result<()> {
        let snapshot = ctx.options.snapshot;
        for e in entries(ctx, &ctx.plan)? {
            let check = || -> Result<()> {
                let mut repo = open(ctx, &e)?;
                if !snapshot {
                    repo.can_push()?;
                }
                for u in &e.updates {
                    let text = repo
                        .read(&u.file)?
                        .ok_or_else(|| missing(u, &e, repo.branch()))?;
                    let n = edit::locate(&text, &u.format)
                        .map_err(|err| Error::Failed(format!("`{}`: {}:{err}", u.key, u.file)))?;
                    let marker = matches!(u.format, edit::Format::Marker { .. });
                    if n == 0 || (n > 1 && !marker) {
                        return Err(Error::Failed(format!(
                            "`{}`: {} in {} resolves to {n} places; it must resolve to exactly one{}",
                            u.key,
                            u.file,
                            e.display(),
                            if marker { " or more" } else { "" }
                        )));
                    }
                }
                Ok(())
            };
            match check() {
                Ok(()) => {}
                // A snapshot pushes nothing: an unreachable config repository only means no
                // diffs in dist/gitops/.
                Err(err) if snapshot => {
                    tracing::warn!("gitops: {}: {err}", e.key);
                }
                Err(err) => {
                    return Err(Error::Failed(format!(
                        "{err}\n  gitops is checked before the release: fix the config repository or `{}`",
                        e.key
                    )));
                }
            }
        }
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let snapshot = ctx.options.snapshot;
        for e in entries(ctx, &ctx.plan)? {
            let written: Vec<Written> = e
                .updates
                .iter()
                .map(|u| {
                    Ok(Written {
                        update: u.clone(),
                        digest: digest_of(ctx, u)?,
                    })
                })
                .collect::<Result<_>>()?;
            if snapshot {
                snapshot_diffs(ctx, &e, &written)?;
                continue;
            }
            let outcome = apply(ctx, &e, &written)?;
            for w in &written {
                let mut a = Artifact::new(
                    Kind::Gitops,
                    format!("{}:{}", e.display(), w.update.file),
                    "",
                );
                a.extra.insert("id".into(), e.id.clone().into());
                // The config entry, so `rel verify` reads the file with the same credentials.
                a.extra.insert("entry".into(), e.key.clone().into());
                a.extra.insert("repository".into(), e.display().into());
                a.extra
                    .insert("branch".into(), outcome.branch.clone().into());
                a.extra.insert("file".into(), w.update.file.clone().into());
                a.extra
                    .insert("reference".into(), w.image().reference().into());
                a.extra.insert("digest".into(), w.digest.clone().into());
                if let Some(c) = &outcome.commit {
                    a.extra.insert("commit".into(), c.clone().into());
                }
                if let Some(p) = &outcome.pull_request {
                    a.extra.insert("pull_request".into(), p.clone().into());
                }
                ctx.artifacts.add(a);
            }
        }
        Ok(())
    }
}

/// Write the diff of each entry under `dist/gitops/<id>/` (snapshots push nothing).
fn snapshot_diffs(ctx: &Context, e: &Entry, written: &[Written]) -> Result<()> {
    let text = match diffs(ctx, e, written) {
        Ok(t) => t,
        Err(err) => {
            tracing::warn!("gitops: {}: no diff written: {err}", e.key);
            return Ok(());
        }
    };
    let dir = gitops_dir(ctx, e);
    std::fs::create_dir_all(&dir).map_err(|err| Error::io("cannot create", &dir, err))?;
    let path = dir.join("changes.diff");
    std::fs::write(&path, &text).map_err(|err| Error::io("cannot write", &path, err))?;
    let mut a = Artifact::new(
        Kind::Gitops,
        format!("{}:changes.diff", e.display()),
        ctx.rel_path(&path),
    );
    a.extra.insert("id".into(), e.id.clone().into());
    a.extra.insert("repository".into(), e.display().into());
    a.extra.insert(
        "files".into(),
        serde_json::json!(written.iter().map(|w| &w.update.file).collect::<Vec<_>>()),
    );
    ctx.artifacts.add(a);
    tracing::info!("gitops: {} diff written to {}", e.key, ctx.rel_path(&path));
    Ok(())
}

/// What landed for one entry.
struct Outcome {
    branch: String,
    commit: Option<String>,
    pull_request: Option<String>,
}

/// Edit, commit and push (or open the pull request), re-reading when the branch moved.
fn apply(ctx: &Context, e: &Entry, written: &[Written]) -> Result<Outcome> {
    let mut repo = open(ctx, e)?;
    let mut commit = None;
    let mut landed = false;
    for attempt in 0..5 {
        if attempt > 0 {
            repo.refresh()?;
        }
        let files = edited(repo.as_mut(), e, written)?;
        let changed: Vec<(String, String)> = files
            .into_iter()
            .filter(|(_, old, new)| old != new)
            .map(|(path, _, new)| (path, new))
            .collect();
        if changed.is_empty() {
            tracing::info!(
                "gitops: {} on {} already holds every reference",
                e.display(),
                repo.branch()
            );
            landed = true;
            break;
        }
        match repo.commit(&changed, e)? {
            Some(sha) => {
                tracing::info!(
                    "gitops: committed {} file(s) to {} on {} ({})",
                    changed.len(),
                    e.display(),
                    repo.branch(),
                    crate::git::short_hash(&sha, 7)
                );
                commit = Some(sha);
                landed = true;
                break;
            }
            None => tracing::info!(
                "gitops: {} moved on {}; reading it again",
                e.display(),
                repo.branch()
            ),
        }
    }
    if !landed {
        return Err(Error::Failed(format!(
            "{}: {} kept moving while committing; re-run (nothing is committed twice)",
            e.key,
            e.display()
        )));
    }
    // Read back: the branch must now hold every reference.
    repo.refresh()?;
    let files = edited(repo.as_mut(), e, written)?;
    if let Some((path, _, _)) = files.iter().find(|(_, old, new)| old != new) {
        return Err(Error::Failed(format!(
            "{}: {} does not hold what was committed to {path}; re-run",
            e.key,
            e.display()
        )));
    }
    let pull_request = match &e.pr {
        Some(pr) => repo.pull_request(e, pr)?,
        None => None,
    };
    if let Some(url) = &pull_request {
        tracing::info!("gitops: pull request {url}");
    }
    Ok(Outcome {
        branch: repo.branch().to_string(),
        commit,
        pull_request,
    })
}
