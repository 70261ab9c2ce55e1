//! The publish stage: a GitHub Release with every uploadable artifact, published last.
//!
//! The stage is the last of `rel release`. It reads the artifact registry generically (every
//! kind that is `uploadable()`), adds `release.extra_files`, and hands a resolved [`flow::Plan`]
//! to the async flow. The token is checked before any side effect ([`preflight`]), and it
//! never reaches a log, an error or a file: it lives only inside [`client::Token`].

pub mod client;
pub mod flow;
pub mod retry;
pub mod upload;

use super::Stage;
use crate::artifact::{Artifact, Kind};
use crate::config::model::Auto;
use crate::context::Context;
use crate::error::{Error, Result};
use client::{Client, Token, Urls};
use flow::{Plan, Progress};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use upload::Local;

/// Uploads in flight at once unless `release.upload_concurrency` says otherwise.
pub const DEFAULT_UPLOAD_CONCURRENCY: usize = 8;

/// The publish stage.
pub struct Publish;

/// Why publishing does not run this time, if it does not.
pub fn skip_reason(ctx: &Context) -> Option<String> {
    if ctx.options.snapshot {
        return Some("snapshot".into());
    }
    if ctx.config.release.disable {
        return Some("release.disable".into());
    }
    super::skipped_by_flag(ctx, "publish")
}

impl Stage for Publish {
    fn name(&self) -> &'static str {
        "publish"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        skip_reason(ctx)
    }

    fn run(&self, ctx: &mut Context) -> Result<()> {
        let token = token(ctx)?;
        let repo = repository(ctx)?;
        register_extra_files(ctx)?;
        let plan = plan(ctx, &repo)?;
        let rt = runtime()?;
        // octocrab spawns its connection workers when built: it needs the runtime entered.
        let _guard = rt.enter();
        let client = Client::new(token, urls(ctx)).map_err(Error::Failed)?;
        let progress = Progress::default();
        tracing::info!(
            "publish: {} assets to {} ({})",
            plan.assets.len(),
            repo,
            plan.tag
        );
        match rt.block_on(flow::publish(&client, &plan, &progress)) {
            Ok(url) => {
                ctx.vars
                    .insert("release_url".into(), minijinja::Value::from(url));
                Ok(())
            }
            Err(e) => Err(Error::Failed(client.redact(&failure_message(
                &plan,
                &progress,
                e.message(),
            )))),
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))
}

/// The final error: the cause, what was done, and that a re-run finishes the job.
fn failure_message(plan: &Plan, progress: &Progress, cause: &str) -> String {
    let done = progress.done.lock().expect("progress").clone();
    let state = match *progress.published.lock().expect("progress") {
        Some(false) => "The release is still a draft, so nobody sees it incomplete.",
        Some(true) => "The release was already published before this run.",
        None => "No release was found or created by this run.",
    };
    let done = if done.is_empty() {
        "nothing".to_string()
    } else {
        done.join("; ")
    };
    // Network trouble and rate limits need nothing but time; anything else needs the cause
    // fixed first (a token, a conflicting asset).
    let rerun = if cause.contains("gave up after") {
        "Re-running `rel release --clean` finishes the job"
    } else {
        "Once the cause above is fixed, re-running `rel release --clean` finishes the job"
    };
    format!(
        "publishing {} to {} did not finish:\n  {cause}\ndone so far: {done}.\n{state} {rerun}: assets already uploaded with the same content are kept.",
        plan.tag, plan.repo
    )
}

/// The token, or a usage error (exit 2) saying how to provide it.
fn token(ctx: &Context) -> Result<Token> {
    Token::from_env(|k| ctx.env.get(k).cloned()).ok_or_else(|| {
        Error::Usage(
            "publishing a GitHub release needs a token: set GITHUB_TOKEN (or GH_TOKEN) to a token with `contents: write` on the repository, or skip publishing with `--skip publish`".into(),
        )
    })
}

/// `owner/name` from `release.github`, else from the `origin` remote.
fn repository(ctx: &Context) -> Result<String> {
    if let Some(gh) = &ctx.config.release.github {
        return Ok(format!("{}/{}", gh.owner, gh.name));
    }
    ctx.git
        .remote_url
        .as_deref()
        .and_then(crate::git::owner_name)
        .map(|(o, n)| format!("{o}/{n}"))
        .ok_or_else(|| Error::Usage("cannot tell which GitHub repository to publish to: set `release.github: {owner: ..., name: ...}` or add an `origin` remote".into()))
}

fn base(url: Option<&str>, default: &str) -> String {
    url.filter(|u| !u.trim().is_empty())
        .unwrap_or(default)
        .trim()
        .trim_end_matches('/')
        .to_string()
}

fn urls(ctx: &Context) -> Urls {
    let u = ctx.config.release.github_urls.clone().unwrap_or_default();
    Urls {
        api: base(u.api.as_deref(), "https://api.github.com"),
        uploads: base(u.uploads.as_deref(), "https://uploads.github.com"),
    }
}

/// Checks that need no network, run before the first stage so that a release without a
/// token stops before building anything.
pub fn preflight(ctx: &Context) -> Result<()> {
    if skip_reason(ctx).is_some() {
        return Ok(());
    }
    token(ctx)?;
    repository(ctx)?;
    // The release name renders now, not after the build.
    ctx.render(
        "release.name_template",
        ctx.config
            .release
            .name_template
            .as_deref()
            .unwrap_or("{{ tag }}"),
    )?;
    Ok(())
}

/// The literal folder a glob starts in, so that matching walks only that folder.
fn glob_root(glob: &str) -> &str {
    let meta = glob.find(['*', '?', '[', '{']).unwrap_or(glob.len());
    match glob[..meta].rfind('/') {
        Some(i) => &glob[..i],
        None => "",
    }
}

/// Files matching `release.extra_files`, as (asset name, path relative to the root).
fn extra_files(ctx: &Context) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (i, f) in ctx.config.release.extra_files.iter().enumerate() {
        let glob = f.glob.trim_start_matches("./");
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::Config(format!("release.extra_files[{i}].glob: {e}")))?
            .compile_matcher();
        let start = ctx.root.join(glob_root(glob));
        let mut found: Vec<String> = walkdir::WalkDir::new(&start)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                e.path()
                    .strip_prefix(&ctx.root)
                    .ok()
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
            })
            .filter(|p| matcher.is_match(p))
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(Error::Failed(format!(
                "release.extra_files[{i}]: `{}` matches no file",
                f.glob
            )));
        }
        for path in found {
            let file = Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let name = match &f.name_template {
                Some(t) => {
                    let mut vars = ctx.vars.clone();
                    vars.insert("filename".into(), minijinja::Value::from(file.clone()));
                    ctx.templates.render(
                        &format!("release.extra_files[{i}].name_template"),
                        t,
                        &vars,
                    )?
                }
                None => file,
            };
            out.push((name, path));
        }
    }
    Ok(out)
}

/// Add `release.extra_files` to the registry (once per path), so `artifacts.json` and the
/// checksum file list them.
pub fn register_extra_files(ctx: &Context) -> Result<()> {
    let known: Vec<String> = ctx
        .artifacts
        .filter(|a| a.kind == Kind::ExtraFile)
        .into_iter()
        .map(|a| a.path)
        .collect();
    for (name, path) in extra_files(ctx)? {
        if !known.contains(&path) {
            ctx.artifacts
                .add(Artifact::new(Kind::ExtraFile, name, path));
        }
    }
    Ok(())
}

/// The release notes: the registered notes file, else `dist/release-notes.md`, else empty.
fn notes(ctx: &Context) -> Result<String> {
    let path = ctx
        .artifacts
        .of_kind(Kind::ReleaseNotes)
        .first()
        .map(|a| ctx.root.join(&a.path))
        .unwrap_or_else(|| ctx.dist.join("release-notes.md"));
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::io("cannot read release notes", &path, e)),
    }
}

/// Every uploadable artifact as a local file with size and SHA-256; duplicate names are an
/// error before any request.
fn assets(ctx: &Context) -> Result<Vec<Local>> {
    let mut by_name: BTreeMap<String, Local> = BTreeMap::new();
    for a in ctx.artifacts.filter(|a| a.kind.uploadable()) {
        let path: PathBuf = ctx.root.join(&a.path);
        let (sha256, size) = match (&a.sha256, a.size) {
            (Some(h), Some(s)) => (h.clone(), s),
            _ => crate::dist::sha256_file(&path)?,
        };
        if let Some(prev) = by_name.get(&a.name)
            && prev.path != path
        {
            return Err(Error::Failed(format!(
                "two files would be uploaded as `{}`: {} and {}; give one another name",
                a.name,
                ctx.rel_path(&prev.path),
                a.path
            )));
        }
        by_name.insert(
            a.name.clone(),
            Local {
                name: a.name,
                path,
                size,
                sha256,
            },
        );
    }
    Ok(by_name.into_values().collect())
}

/// Resolve everything the flow needs.
fn plan(ctx: &Context, repo: &str) -> Result<Plan> {
    let r = &ctx.config.release;
    let name = ctx.render(
        "release.name_template",
        r.name_template.as_deref().unwrap_or("{{ tag }}"),
    )?;
    let prerelease = match r.prerelease {
        Auto::Bool(b) => b,
        Auto::Auto => semver::Version::parse(&ctx.version)
            .map(|v| !v.pre.is_empty())
            .unwrap_or(false),
    };
    let make_latest = match r.make_latest {
        Auto::Bool(b) => Some(b),
        Auto::Auto => None,
    };
    Ok(Plan {
        repo: repo.to_string(),
        tag: ctx.tag.clone(),
        commit: ctx.git.commit.clone(),
        name,
        notes: notes(ctx)?,
        prerelease,
        make_latest,
        draft: r.draft,
        mode: r.mode,
        replace: r.replace_existing_artifacts,
        concurrency: r.upload_concurrency.unwrap_or(DEFAULT_UPLOAD_CONCURRENCY),
        assets: assets(ctx)?,
        policy: retry::Policy::default(),
        deadline: ctx.options.deadline,
    })
}

/// `rel release --dry-run`: check token, access and the existing release with read-only
/// calls, and list every call a real run would make. Returns the text and the checks' result.
pub fn dry_run(ctx: &Context) -> (String, Result<()>) {
    let mut out = String::from("\npublish:\n");
    if let Some(reason) = skip_reason(ctx) {
        out.push_str(&format!("  skipped ({reason})\n"));
        return (out, Ok(()));
    }
    let result = dry_run_checks(ctx, &mut out);
    (out, result)
}

fn dry_run_checks(ctx: &Context, out: &mut String) -> Result<()> {
    let repo = repository(ctx)?;
    let urls = urls(ctx);
    out.push_str(&format!(
        "  repository: {repo}\n  api: {}\n  uploads: {}\n",
        urls.api, urls.uploads
    ));
    let token = match token(ctx) {
        Ok(t) => t,
        Err(e) => {
            out.push_str("  token: missing\n");
            return Err(e);
        }
    };
    out.push_str("  token: set\n");
    let rt = runtime()?;
    let _guard = rt.enter();
    let client = Client::new(token, urls).map_err(Error::Failed)?;
    let tag = ctx.tag.clone();
    let checked = rt.block_on(async {
        let url = client.api(&format!("/repos/{repo}"));
        let r = client.json(http::Method::GET, &url, None).await?;
        let v = r.json()?;
        let push = v["permissions"]["push"].as_bool();
        let found = flow::find(&client, &repo, &tag).await?;
        Ok::<_, retry::Failure>((push, found))
    });
    let (push, found) = checked.map_err(|e| Error::Failed(client.redact(e.message())))?;
    out.push_str(&format!(
        "  check: GET /repos/{repo}: token accepted, repository visible\n"
    ));
    if push == Some(false) {
        out.push_str("  check: the token cannot write to the repository\n");
        return Err(Error::Failed(format!(
            "the token has no write access to {repo}: publishing needs `contents: write`"
        )));
    }
    let names: Vec<String> = ctx
        .artifacts
        .filter(|a| a.kind.uploadable())
        .into_iter()
        .map(|a| a.name)
        .chain(
            extra_files(ctx)
                .unwrap_or_default()
                .into_iter()
                .map(|(n, _)| n),
        )
        .collect();
    match &found {
        Some(r) => out.push_str(&format!(
            "  check: release {} exists ({}, id {})\n",
            tag,
            if r.draft { "draft" } else { "published" },
            r.id
        )),
        None => out.push_str(&format!("  check: no release for {tag} yet\n")),
    }
    out.push_str("  would call:\n");
    out.push_str(&format!(
        "    GET /repos/{repo}/releases?per_page=100&page=1\n"
    ));
    let id = match &found {
        Some(r) => {
            out.push_str(&format!("    PATCH /repos/{repo}/releases/{} (name, prerelease, body by release.mode, when they differ)\n", r.id));
            out.push_str(&format!(
                "    GET /repos/{repo}/releases/{}/assets?per_page=100&page=1\n",
                r.id
            ));
            r.id.to_string()
        }
        None => {
            out.push_str(&format!(
                "    POST /repos/{repo}/releases (draft {tag}, target {})\n",
                ctx.git.commit
            ));
            "{release_id}".to_string()
        }
    };
    for n in &names {
        out.push_str(&format!(
            "    POST {}/repos/{repo}/releases/{id}/assets?name={}\n",
            client.urls.uploads,
            upload::encode_name(n)
        ));
    }
    out.push_str(&format!(
        "    POST {}/repos/{repo}/releases/{id}/assets?name=... for each archive, checksum and other uploadable file the release builds\n",
        client.urls.uploads
    ));
    out.push_str(&format!("    GET /repos/{repo}/releases/{id}/assets?per_page=100&page=1 (verify before publishing)\n"));
    if ctx.config.release.draft {
        out.push_str("    (left as a draft: release.draft is true)\n");
    } else if found.as_ref().is_none_or(|r| r.draft) {
        out.push_str(&format!(
            "    PATCH /repos/{repo}/releases/{id} (publish: draft false)\n"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_root_is_the_literal_prefix() {
        assert_eq!(glob_root("dist/*.sbom.json"), "dist");
        assert_eq!(glob_root("a/b/**/c?.txt"), "a/b");
        assert_eq!(glob_root("*.txt"), "");
        assert_eq!(glob_root("docs/x.md"), "docs");
    }
}
