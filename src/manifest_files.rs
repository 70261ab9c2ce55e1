//! Where each package manifest is committed: the path in its repository, the copy under
//! `dist/`, the repository ([`Place`]), the branch and the pull request, for every Homebrew
//! formula and cask, Scoop and winget manifest and AUR package of the config.
//!
//! One rule for the tap stage, which writes the files, and for `rel verify`, which reads them
//! back: a rule written twice drifts, and a verify that looks where the tap did not write
//! reports a good release as stale.

use crate::config::{CommitAuthor, ManifestRepository, SkipUpload};
use crate::context::Context;
use crate::error::Result;
use crate::git_remote::{Place, pull_request_base};
use std::path::PathBuf;

/// One committed manifest file.
#[derive(Debug, Clone)]
pub struct ManifestFile {
    /// The config entry (`brews[0]`).
    pub key: String,
    /// Its path in the repository.
    pub path: String,
    /// The copy rel writes under `dist/`.
    pub dist: PathBuf,
    /// The repository, its templates rendered.
    pub place: Place,
    /// The branch: for a GitHub place, `None` is the repository's default branch; a git
    /// remote always has one (`main`, `master` for AUR).
    pub branch: Option<String>,
    /// The pull request from `branch` that the commit opens, if the entry asks for one.
    pub pull_request: Option<PullRequest>,
    /// The commit message template (the entry's own, else the kind's default).
    pub message: String,
    /// The entry's `commit_author`.
    pub author: Option<CommitAuthor>,
}

/// A pull request a manifest commit opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// `owner/name` of the repository the pull request goes to.
    pub base_repo: String,
    /// Its branch; `None` is that repository's default branch.
    pub base_branch: Option<String>,
    pub draft: bool,
    /// The body template (`pull_request.body`), not yet rendered.
    pub body: Option<String>,
    /// Tick the checkboxes of the base repository's pull request template.
    pub check_boxes: bool,
}

/// Whether `skip_upload` holds the manifest back for `version` (`auto`: prereleases).
pub fn skipped(s: &Option<SkipUpload>, version: &str) -> bool {
    match s {
        Some(SkipUpload::Bool(b)) => *b,
        Some(SkipUpload::Word(w)) => w == "auto" && version.contains('-'),
        None => false,
    }
}

/// One manifest entry before its repository is resolved.
struct Entry<'a> {
    key: String,
    repo: &'a ManifestRepository,
    paths: Vec<(String, String)>,
    default_branch: Option<String>,
    message: &'a Option<String>,
    default_message: &'static str,
    author: &'a Option<CommitAuthor>,
}

/// Every manifest file the config commits for this release, in config order (brews, casks,
/// scoops, winget, AUR); entries without a repository or held back by `skip_upload` are
/// left out.
pub fn manifest_files(ctx: &Context) -> Result<Vec<ManifestFile>> {
    let c = &ctx.config;
    let project = c.project_name.clone().unwrap_or_default();
    let version = &ctx.version;
    let mut entries: Vec<Entry> = vec![];
    // A single-file entry: its key, and its path in the repository and under `dist/DIR/`.
    let one = |kind: &str, dir: &str, i: usize, path: String| {
        let dist = format!("{dir}/{path}");
        (format!("{kind}[{i}]"), vec![(path, dist)])
    };
    for (i, b) in c.brews.iter().enumerate() {
        let (Some(repo), false) = (&b.repository, skipped(&b.skip_upload, version)) else {
            continue;
        };
        let name = b.name.clone().unwrap_or_else(|| project.clone());
        let dir = b.directory.clone().unwrap_or_else(|| "Formula".into());
        let (key, paths) = one("brews", "homebrew", i, format!("{dir}/{name}.rb"));
        entries.push(Entry {
            key,
            repo,
            paths,
            default_branch: None,
            message: &b.commit_msg_template,
            default_message: "Brew formula update for {{ project_name }} version {{ tag }}",
            author: &b.commit_author,
        });
    }
    for (i, b) in c.homebrew_casks.iter().enumerate() {
        let (Some(repo), false) = (&b.repository, skipped(&b.skip_upload, version)) else {
            continue;
        };
        let name = b.name.clone().unwrap_or_else(|| project.clone());
        let dir = b.directory.clone().unwrap_or_else(|| "Casks".into());
        let (key, paths) = one("homebrew_casks", "homebrew", i, format!("{dir}/{name}.rb"));
        entries.push(Entry {
            key,
            repo,
            paths,
            default_branch: None,
            message: &b.commit_msg_template,
            default_message: "Brew cask update for {{ project_name }} version {{ tag }}",
            author: &b.commit_author,
        });
    }
    for (i, s) in c.scoops.iter().enumerate() {
        let (Some(repo), false) = (&s.repository, skipped(&s.skip_upload, version)) else {
            continue;
        };
        let name = s.name.clone().unwrap_or_else(|| project.clone());
        let dir = s
            .directory
            .as_deref()
            .map(|d| format!("{}/", d.trim_matches('/')))
            .unwrap_or_default();
        let (key, paths) = one("scoops", "scoop", i, format!("{dir}{name}.json"));
        entries.push(Entry {
            key,
            repo,
            paths,
            default_branch: None,
            message: &s.commit_msg_template,
            default_message: "Scoop update for {{ project_name }} version {{ tag }}",
            author: &s.commit_author,
        });
    }
    for (i, w) in c.winget.iter().enumerate() {
        let (Some(repo), false) = (&w.repository, skipped(&w.skip_upload, version)) else {
            continue;
        };
        let name = w.name.clone().unwrap_or_else(|| project.clone());
        let publisher = w.publisher.clone().unwrap_or_default();
        let id = w
            .package_identifier
            .clone()
            .unwrap_or_else(|| format!("{}.{}", publisher.replace(' ', ""), name.replace(' ', "")));
        let first = id.chars().next().unwrap_or('x').to_ascii_lowercase();
        let folder = format!("manifests/{first}/{}/{version}", id.replace('.', "/"));
        let paths = [
            format!("{id}.yaml"),
            format!("{id}.installer.yaml"),
            format!("{id}.locale.en-US.yaml"),
        ]
        .into_iter()
        .map(|f| {
            let path = format!("{folder}/{f}");
            (path.clone(), format!("winget/{path}"))
        })
        .collect();
        entries.push(Entry {
            key: format!("winget[{i}]"),
            repo,
            paths,
            // winget-pkgs takes one pull request per package version, from its own branch.
            default_branch: Some(format!("{id}-{version}")),
            message: &w.commit_msg_template,
            default_message: "New version: {{ project_name }} {{ version }}",
            author: &w.commit_author,
        });
    }
    let mut out = vec![];
    for e in entries {
        resolve(ctx, &project, e, &mut out)?;
    }
    out.extend(aur_files(ctx, &project)?);
    Ok(out)
}

/// The files of one entry, its repository and branch rendered.
fn resolve(ctx: &Context, project: &str, e: Entry, out: &mut Vec<ManifestFile>) -> Result<()> {
    let place = Place::of(ctx, &e.key, e.repo)?;
    let branch_key = format!("{}.repository.branch", e.key);
    let own_branch = e
        .repo
        .branch
        .as_deref()
        .map(|b| ctx.render(&branch_key, b))
        .transpose()?;
    let (branch, pull_request) = match &place {
        Place::Git { .. } => (
            Some(
                own_branch
                    .or(e.default_branch)
                    .unwrap_or_else(|| "main".into()),
            ),
            None,
        ),
        Place::GitHub { owner, name, .. } => {
            let pr = match &e.repo.pull_request {
                Some(p) if p.enabled => {
                    let base = p.base.as_ref();
                    Some(PullRequest {
                        base_repo: pull_request_base(ctx, &e.key, base, owner, name)?,
                        base_branch: base.and_then(|b| b.branch.clone()),
                        draft: p.draft,
                        body: p.body.clone(),
                        check_boxes: p.check_boxes,
                    })
                }
                _ => None,
            };
            let branch = match (own_branch, &pr, e.default_branch) {
                (Some(b), _, _) => Some(b),
                (None, _, Some(d)) => Some(d),
                (None, Some(_), None) => Some(format!("rel-{project}-{}", ctx.version)),
                (None, None, None) => None,
            };
            (branch, pr)
        }
    };
    let message = e
        .message
        .as_deref()
        .unwrap_or(e.default_message)
        .to_string();
    for (path, dist) in e.paths {
        out.push(ManifestFile {
            key: e.key.clone(),
            path,
            dist: ctx.dist.join(dist),
            place: place.clone(),
            branch: branch.clone(),
            pull_request: pull_request.clone(),
            message: message.clone(),
            author: e.author.clone(),
        });
    }
    Ok(())
}

/// The PKGBUILD and .SRCINFO of every `aurs` entry with a `git_url`, pushed to `master`.
fn aur_files(ctx: &Context, project: &str) -> Result<Vec<ManifestFile>> {
    let mut out = vec![];
    for (i, a) in ctx.config.aurs.iter().enumerate() {
        let (Some(url), false) = (&a.git_url, skipped(&a.skip_upload, &ctx.version)) else {
            continue;
        };
        let key = format!("aurs[{i}]");
        let name = a.name.clone().unwrap_or_else(|| format!("{project}-bin"));
        let place = Place::Git {
            url: ctx.render(&format!("{key}.git_url"), url)?,
            private_key: a
                .private_key
                .as_deref()
                .map(|k| ctx.render(&format!("{key}.private_key"), k))
                .transpose()?
                .filter(|k| !k.trim().is_empty()),
            ssh_command: None,
        };
        for f in ["PKGBUILD", ".SRCINFO"] {
            out.push(ManifestFile {
                key: key.clone(),
                path: f.into(),
                dist: ctx.dist.join(format!("aur/{name}/{f}")),
                place: place.clone(),
                branch: Some("master".into()),
                pull_request: None,
                message: a
                    .commit_msg_template
                    .clone()
                    .unwrap_or_else(|| "Update to {{ tag }}".into()),
                author: a.commit_author.clone(),
            });
        }
    }
    Ok(out)
}
