//! The tap stage: commits the Homebrew formulas (`brews`) and Scoop manifests (`scoops`) the
//! package-manager stage wrote to their repositories through GitHub's contents API, and pushes
//! AUR packages (`aurs`) over git, after the release is published (the manifests point at its
//! assets).
//!
//! Careful by design, because a stale tap is the failure users of other tools meet most:
//! - push rights on every target repository are checked before the first build (preflight),
//!   with the token each repository is given (`repository.token`, else `GITHUB_TOKEN`); a
//!   missing or read-only token stops the release naming the repository and the key;
//! - a file that already holds the new text is not committed again, so a re-run after a
//!   failure commits only what is missing;
//! - a commit refused because the branch moved (409) re-reads the file and tries again;
//! - after each commit the file is read back and compared with what was written.

use super::Stage;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git_remote::{Place, Remote};
use crate::github::{Client, Token, Urls};
use crate::manifest_files::manifest_files;
use crate::retry::Failure;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::Method;
use serde_json::json;
use std::path::PathBuf;

/// The tap stage.
pub struct TapStage;

/// One file to commit.
struct Target {
    key: String,
    repo: String,
    branch: Option<String>,
    path: String,
    file: PathBuf,
    token: String,
    token_key: String,
    message: String,
    author: (String, String),
    /// A pull request from `branch` to open once its files are committed.
    pr: Option<Pr>,
}

/// A pull request to open.
#[derive(Clone, PartialEq, Eq)]
struct Pr {
    base_repo: String,
    base_branch: Option<String>,
    draft: bool,
    title: String,
}

/// The commit author: `commit_author`, else rel.
fn author_of(a: &Option<crate::config::CommitAuthor>) -> (String, String) {
    (
        a.as_ref()
            .and_then(|a| a.name.clone())
            .unwrap_or_else(|| "rel".into()),
        a.as_ref()
            .and_then(|a| a.email.clone())
            .unwrap_or_else(|| "rel@users.noreply.github.com".into()),
    )
}

fn targets(ctx: &Context) -> Result<Vec<Target>> {
    Ok(all_targets(ctx)?.0)
}

fn git_targets(ctx: &Context) -> Result<Vec<GitTarget>> {
    Ok(all_targets(ctx)?.1)
}

/// Manifests committed through the API, one target per file, and those pushed over git,
/// one push per config entry ([`crate::manifest_files`] says where each file goes).
fn all_targets(ctx: &Context) -> Result<(Vec<Target>, Vec<GitTarget>)> {
    let mut out = vec![];
    let mut git_out: Vec<GitTarget> = vec![];
    for f in manifest_files(ctx)? {
        let message = ctx.render(&format!("{}.commit_msg_template", f.key), &f.message)?;
        let author = author_of(&f.author);
        match f.place {
            Place::Git {
                url,
                private_key,
                ssh_command,
            } => {
                let file = (f.dist, f.path);
                match git_out.last_mut() {
                    Some(last) if last.key == f.key && last.url == url => last.files.push(file),
                    _ => git_out.push(GitTarget {
                        key: f.key,
                        url,
                        key_text: private_key,
                        ssh_command,
                        files: vec![file],
                        branch: f.branch.unwrap_or_else(|| "main".into()),
                        message,
                        author,
                    }),
                }
            }
            Place::GitHub {
                owner,
                name,
                token,
                token_key,
            } => out.push(Target {
                repo: format!("{owner}/{name}"),
                branch: f.branch,
                pr: f.pull_request.map(|p| Pr {
                    base_repo: p.base_repo,
                    base_branch: p.base_branch,
                    draft: p.draft,
                    title: message.clone(),
                }),
                path: f.path,
                file: f.dist,
                token,
                token_key,
                message,
                author,
                key: f.key,
            }),
        }
    }
    Ok((out, git_out))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}

fn client(ctx: &Context, t: &Target) -> Result<Client> {
    let token = Token::given(&t.token).ok_or_else(|| {
        Error::Failed(format!(
            "`{}`: committing to {} needs a token: `{}` is empty",
            t.key, t.repo, t.token_key
        ))
    })?;
    if !token.is_sendable() {
        return Err(Error::Failed(format!(
            "`{}` holds a character a token cannot have",
            t.token_key
        )));
    }
    Client::new(token, Urls::of(ctx.config.release.github_urls.as_ref())).map_err(Error::Failed)
}

fn failed(t: &Target, f: Failure) -> Error {
    Error::Failed(format!("{}: {}: {}", t.key, t.repo, f.message()))
}

/// The file at `t.path` on its branch: (text, blob sha), or `None`.
async fn read(c: &Client, t: &Target) -> Result<Option<(Vec<u8>, String)>> {
    let mut url = c.api(&format!("/repos/{}/contents/{}", t.repo, t.path));
    if let Some(b) = &t.branch {
        url.push_str(&format!("?ref={b}"));
    }
    let r = c
        .send(
            Method::GET,
            &url,
            &[],
            crate::github::Body::from(Vec::new()),
        )
        .await
        .map_err(|f| failed(t, f))?;
    if r.status.as_u16() == 404 {
        return Ok(None);
    }
    if !r.status.is_success() {
        return Err(failed(t, c.status_error(&Method::GET, &url, &r)));
    }
    let v = r.json().map_err(|f| failed(t, f))?;
    let bytes = crate::github::contents_bytes(&v)
        .map_err(|e| Error::Failed(format!("{}: {}: {e}", t.key, t.repo)))?;
    Ok(Some((
        bytes,
        v["sha"].as_str().unwrap_or_default().to_string(),
    )))
}

/// Create `branch` in `t.repo` from its default branch when it does not exist yet.
async fn ensure_branch(c: &Client, t: &Target, branch: &str) -> Result<()> {
    let at = |r: &str| c.api(&format!("/repos/{}/git/ref/heads/{r}", t.repo));
    let r = c
        .send(
            Method::GET,
            &at(branch),
            &[],
            crate::github::Body::from(Vec::new()),
        )
        .await
        .map_err(|f| failed(t, f))?;
    if r.status.is_success() {
        return Ok(());
    }
    let repo = c
        .json(Method::GET, &c.api(&format!("/repos/{}", t.repo)), None)
        .await
        .map_err(|f| failed(t, f))?
        .json()
        .map_err(|f| failed(t, f))?;
    let default = repo["default_branch"]
        .as_str()
        .unwrap_or("main")
        .to_string();
    let head = c
        .json(Method::GET, &at(&default), None)
        .await
        .map_err(|f| failed(t, f))?
        .json()
        .map_err(|f| failed(t, f))?;
    let sha = head["object"]["sha"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let body = json!({"ref": format!("refs/heads/{branch}"), "sha": sha});
    c.json(
        Method::POST,
        &c.api(&format!("/repos/{}/git/refs", t.repo)),
        Some(&body),
    )
    .await
    .map_err(|f| failed(t, f))?;
    Ok(())
}

/// Open the pull request from `t.branch` unless one is open already; its URL.
async fn ensure_pr(c: &Client, t: &Target, pr: &Pr) -> Result<String> {
    let branch = t.branch.clone().unwrap_or_default();
    let owner = t.repo.split('/').next().unwrap_or_default();
    let head = format!("{owner}:{branch}");
    let list_url = c.api(&format!(
        "/repos/{}/pulls?state=open&head={}",
        pr.base_repo,
        percent_encoding::utf8_percent_encode(&head, percent_encoding::NON_ALPHANUMERIC)
    ));
    let open = c
        .json(Method::GET, &list_url, None)
        .await
        .map_err(|f| failed(t, f))?
        .json()
        .map_err(|f| failed(t, f))?;
    if let Some(existing) = open.as_array().and_then(|a| a.first()) {
        return Ok(existing["html_url"]
            .as_str()
            .unwrap_or_default()
            .to_string());
    }
    let base = match &pr.base_branch {
        Some(b) => b.clone(),
        None => c
            .json(
                Method::GET,
                &c.api(&format!("/repos/{}", pr.base_repo)),
                None,
            )
            .await
            .map_err(|f| failed(t, f))?
            .json()
            .map_err(|f| failed(t, f))?["default_branch"]
            .as_str()
            .unwrap_or("main")
            .to_string(),
    };
    let body = json!({"title": pr.title, "head": head, "base": base, "draft": pr.draft,
                      "body": "Generated by rel from the release's archives."});
    let made = c
        .json(
            Method::POST,
            &c.api(&format!("/repos/{}/pulls", pr.base_repo)),
            Some(&body),
        )
        .await
        .map_err(|f| failed(t, f))?
        .json()
        .map_err(|f| failed(t, f))?;
    Ok(made["html_url"].as_str().unwrap_or_default().to_string())
}

/// Commit one file: skipped when it already holds `text`; re-read and retried when the
/// branch moved.
async fn commit(c: &Client, t: &Target, text: &[u8]) -> Result<bool> {
    for _ in 0..3 {
        let existing = read(c, t).await?;
        if let Some((have, _)) = &existing
            && have == text
        {
            return Ok(false);
        }
        let mut body = json!({
            "message": t.message,
            "content": B64.encode(text),
            "committer": {"name": t.author.0, "email": t.author.1},
        });
        if let Some((_, sha)) = &existing {
            body["sha"] = json!(sha);
        }
        if let Some(b) = &t.branch {
            body["branch"] = json!(b);
        }
        let url = c.api(&format!("/repos/{}/contents/{}", t.repo, t.path));
        let headers = [("content-type", "application/json".to_string())];
        let r = c
            .send(
                Method::PUT,
                &url,
                &headers,
                crate::github::Body::from(body.to_string()),
            )
            .await
            .map_err(|f| failed(t, f))?;
        match r.status.as_u16() {
            200 | 201 => return Ok(true),
            // The branch moved since the read (409), or the file appeared (422): read again.
            409 | 422 => continue,
            _ => return Err(failed(t, c.status_error(&Method::PUT, &url, &r))),
        }
    }
    Err(Error::Failed(format!(
        "{}: {} kept moving while committing {}; re-run",
        t.key, t.repo, t.path
    )))
}

/// Files to push to a git remote: an AUR package, or a manifest whose `repository` is `git:`.
struct GitTarget {
    key: String,
    url: String,
    key_text: Option<String>,
    ssh_command: Option<String>,
    /// (file in dist/, path in the repository).
    files: Vec<(PathBuf, String)>,
    branch: String,
    message: String,
    author: (String, String),
}

/// The remote of a git target, with its key.
fn remote(ctx: &Context, t: &GitTarget) -> Result<Remote> {
    Remote::open(
        &ctx.root,
        &t.key,
        &t.url,
        t.key_text.as_deref(),
        t.ssh_command.as_deref(),
    )
}

/// Push one target: clone, replace its files, commit when they changed, push to its branch,
/// then read the pushed files back.
fn git_push(ctx: &Context, t: &GitTarget) -> Result<bool> {
    let r = remote(ctx, t)?;
    let tmp = tempfile::tempdir().map_err(|e| Error::Failed(e.to_string()))?;
    let work = tmp.path().join("repo");
    r.git(tmp.path(), &["clone", "-q", &t.url, "repo"])?;
    // An empty remote has no branch yet: commit on the target branch from the start.
    r.git(&work, &["checkout", "-q", "-B", &t.branch])?;
    if r.git(&work, &["ls-remote", "--heads", "origin", &t.branch])?
        .trim()
        .is_empty()
    {
        // nothing to base on
    } else {
        r.git(
            &work,
            &["reset", "-q", "--hard", &format!("origin/{}", t.branch)],
        )?;
    }
    for (src, dst) in &t.files {
        let to = work.join(dst);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p).map_err(|e| Error::io("cannot create", p, e))?;
        }
        std::fs::copy(src, &to).map_err(|e| Error::io("cannot copy", &to, e))?;
        r.git(&work, &["add", dst])?;
    }
    let changed = std::process::Command::new("git")
        .args(["diff", "--cached", "--quiet"])
        .current_dir(&work)
        .status()
        .map(|s| !s.success())
        .unwrap_or(true);
    if changed {
        let name = format!("user.name={}", t.author.0);
        let email = format!("user.email={}", t.author.1);
        r.git(
            &work,
            &["-c", &name, "-c", &email, "commit", "-q", "-m", &t.message],
        )?;
        r.git(
            &work,
            &["push", "-q", "origin", &format!("HEAD:{}", t.branch)],
        )?;
    }
    r.git(&work, &["fetch", "-q", "origin", &t.branch])?;
    for (src, dst) in &t.files {
        let pushed = r.git(&work, &["show", &format!("FETCH_HEAD:{dst}")])?;
        let ours = std::fs::read_to_string(src).unwrap_or_default();
        if pushed != ours {
            return Err(Error::Failed(format!(
                "{}: {} does not hold the {dst} rel wrote; re-run",
                t.key, t.url
            )));
        }
    }
    Ok(changed)
}

/// What the tap stage would commit, one line each, for the dry run (nothing when it is
/// skipped).
pub fn describe(ctx: &Context) -> Result<Vec<String>> {
    if TapStage.skip(ctx).is_some() {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for t in targets(ctx)? {
        let on = t
            .branch
            .as_deref()
            .map(|b| format!(" on {b}"))
            .unwrap_or_default();
        let pr =
            t.pr.as_ref()
                .map(|p| format!(", pull request to {}", p.base_repo))
                .unwrap_or_default();
        out.push(format!(
            "would commit {} to {}{on}{pr} ({})",
            t.path, t.repo, t.key
        ));
    }
    for t in git_targets(ctx)? {
        let files: Vec<&str> = t.files.iter().map(|(_, d)| d.as_str()).collect();
        out.push(format!(
            "would push {} to {} on {} ({})",
            files.join(", "),
            t.url,
            t.branch,
            t.key
        ));
    }
    Ok(out)
}

impl Stage for TapStage {
    fn name(&self) -> &'static str {
        "tap"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        let any = ctx.config.brews.iter().any(|b| b.repository.is_some())
            || ctx
                .config
                .homebrew_casks
                .iter()
                .any(|c| c.repository.is_some())
            || ctx.config.scoops.iter().any(|s| s.repository.is_some())
            || ctx.config.aurs.iter().any(|a| a.git_url.is_some())
            || ctx.config.winget.iter().any(|w| w.repository.is_some());
        if !any {
            return Some("no brews or scoops repository, or aurs git_url, configured".into());
        }
        if let Some(r) = ctx.publish_skip_reason() {
            return Some(format!("not publishing: {r}"));
        }
        super::skipped_by_flag(ctx, "tap")
            .or_else(|| super::skipped_by_flag(ctx, "pkgmgr").map(|_| "--skip pkgmgr".into()))
    }

    fn preflight(&self, ctx: &Context) -> Result<()> {
        for t in git_targets(ctx)? {
            remote(ctx, &t)?.git(&ctx.root, &["ls-remote", "-q", &t.url]).map_err(|e| {
                Error::Failed(format!("{e}\n  the AUR remote of `{}.git_url` must be reachable with `private_key` before the release", t.key))
            })?;
        }
        let list = targets(ctx)?;
        if list.is_empty() {
            return Ok(());
        }
        let rt = runtime()?;
        let _guard = rt.enter();
        for t in &list {
            let c = client(ctx, t)?;
            let url = c.api(&format!("/repos/{}", t.repo));
            let r = rt.block_on(c.json(Method::GET, &url, None)).map_err(|f| {
                Error::Failed(format!(
                    "`{}`: cannot read {} with `{}`: {}",
                    t.key,
                    t.repo,
                    t.token_key,
                    f.message()
                ))
            })?;
            let v = r.json().map_err(|f| failed(t, f))?;
            if v["permissions"]["push"].as_bool() != Some(true) {
                return Err(Error::Failed(format!(
                    "`{}`: the token in `{}` cannot push to {}: give it `contents: write` there",
                    t.key, t.token_key, t.repo
                )));
            }
        }
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let mut done: Vec<String> = vec![];
        let result = run_all(ctx, &mut done);
        result.map_err(|e| {
            // The release is published already: say which repositories hold their manifests,
            // so the re-run (which commits only what is missing) is expected, not feared.
            let done = if done.is_empty() {
                "none".to_string()
            } else {
                done.join(", ")
            };
            Error::Failed(format!(
                "{e}\n  the release is published; manifests already committed: {done}\n  re-run `rel release` to commit the rest (nothing is committed twice)"
            ))
        })
    }
}

/// When a cask replaces a formula of the same name in the same tap (the formula is there and
/// no `brews` entry writes it any more), Homebrew moves installs over through the tap's
/// `tap_migrations.json` (`"name": "name"`, its same-tap formula-to-cask form): add the entry.
async fn migrate(c: &Client, ctx: &Context, t: &Target) -> Result<Option<String>> {
    let Some(name) = t
        .path
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".rb"))
        .map(String::from)
    else {
        return Ok(None);
    };
    let project = ctx.config.project_name.clone().unwrap_or_default();
    if ctx
        .config
        .brews
        .iter()
        .any(|b| b.name.clone().unwrap_or_else(|| project.clone()) == name)
    {
        return Ok(None);
    }
    let formula = Target {
        path: format!("Formula/{name}.rb"),
        ..t.shallow()
    };
    if read(c, &formula).await?.is_none() {
        return Ok(None);
    }
    let migrations = Target {
        path: "tap_migrations.json".into(),
        message: format!("Migrate {name} from a formula to a cask"),
        ..t.shallow()
    };
    let mut map: std::collections::BTreeMap<String, serde_json::Value> =
        match read(c, &migrations).await? {
            Some((bytes, _)) => serde_json::from_slice(&bytes).unwrap_or_default(),
            None => Default::default(),
        };
    if map.get(&name).and_then(|v| v.as_str()) == Some(name.as_str()) {
        return Ok(None);
    }
    map.insert(name.clone(), json!(name));
    let mut text = serde_json::to_vec_pretty(&map).map_err(|e| Error::Failed(e.to_string()))?;
    text.push(b'\n');
    commit(c, &migrations, &text).await?;
    Ok(Some(name))
}

impl Target {
    /// The same repository, branch, token and author, for another file.
    fn shallow(&self) -> Target {
        Target {
            key: self.key.clone(),
            repo: self.repo.clone(),
            branch: self.branch.clone(),
            path: self.path.clone(),
            file: self.file.clone(),
            token: self.token.clone(),
            token_key: self.token_key.clone(),
            message: self.message.clone(),
            author: self.author.clone(),
            pr: self.pr.clone(),
        }
    }
}

/// Commit every target, recording each one done.
fn run_all(ctx: &Context, done: &mut Vec<String>) -> Result<()> {
    let list = targets(ctx)?;
    let rt = runtime()?;
    let _guard = rt.enter();
    let mut branches = std::collections::HashSet::new();
    let mut prs: Vec<(usize, Pr)> = vec![];
    for (n, t) in list.iter().enumerate() {
        let text = std::fs::read(&t.file).map_err(|e| Error::io("cannot read", &t.file, e))?;
        let c = client(ctx, t)?;
        if let (Some(pr), Some(b)) = (&t.pr, &t.branch) {
            if branches.insert((t.repo.clone(), b.clone())) {
                rt.block_on(ensure_branch(&c, t, b))?;
            }
            if !prs
                .iter()
                .any(|(i, p)| p == pr && list[*i].branch == t.branch)
            {
                prs.push((n, pr.clone()));
            }
        }
        let made = rt.block_on(commit(&c, t, &text))?;
        // Read back what the repository now holds: the version, URLs and sha256s are the
        // release's exactly when the bytes are.
        let back = rt.block_on(read(&c, t))?;
        if back.as_ref().map(|(b, _)| b.as_slice()) != Some(text.as_slice()) {
            return Err(Error::Failed(format!(
                "{}: {} does not hold what was committed to {}; re-run",
                t.key, t.repo, t.path
            )));
        }
        done.push(format!("{} ({})", t.repo, t.path));
        if t.key.starts_with("homebrew_casks")
            && let Some(name) = rt.block_on(migrate(&c, ctx, t))?
        {
            tracing::info!(
                "tap: {name} migrates from formula to cask in {} (tap_migrations.json)",
                t.repo
            );
        }
        if made {
            tracing::info!("tap: committed {} to {} ({})", t.path, t.repo, t.message);
        } else {
            tracing::info!("tap: {} in {} is already up to date", t.path, t.repo);
        }
    }
    for (n, pr) in &prs {
        let t = &list[*n];
        let c = client(ctx, t)?;
        let url = rt.block_on(ensure_pr(&c, t, pr))?;
        tracing::info!(
            "tap: pull request for {} to {}: {url}",
            t.repo,
            pr.base_repo
        );
    }
    for t in git_targets(ctx)? {
        let pushed = git_push(ctx, &t)?;
        done.push(t.url.clone());
        if pushed {
            tracing::info!(
                "tap: pushed {} files to {} ({})",
                t.files.len(),
                t.url,
                t.key
            );
        } else {
            tracing::info!("tap: {} is already up to date", t.url);
        }
    }
    Ok(())
}
