//! The publish stage: a GitHub Release with every uploadable artifact, published last.
//!
//! The stage is the last of `rel release`. It reads the artifact registry generically (every
//! kind that is `uploadable()`), adds `release.extra_files`, and hands a resolved [`flow::Plan`]
//! to the async flow. The token is checked before any side effect ([`preflight`]), and it
//! never reaches a log, an error or a file: it lives only inside [`client::Token`].

pub use crate::github as client;
pub mod flow;
pub mod upload;

use super::Stage;
use crate::artifact::{Filter, Kind};
use crate::config::model::{Auto, ReleaseText};
use crate::context::Context;
use crate::error::{Error, Result};
use client::{Client, Token, Urls};
use flow::{Plan, Progress};
use std::collections::BTreeMap;
use std::path::PathBuf;
use upload::Local;

/// Uploads in flight at once unless `release.upload_concurrency` says otherwise.
pub const DEFAULT_UPLOAD_CONCURRENCY: usize = 8;

/// The publish stage.
pub struct Publish;

impl Stage for Publish {
    fn name(&self) -> &'static str {
        "publish"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        ctx.publish_skip_reason()
    }

    fn defaults(&self, config: &mut crate::config::Config, _d: &super::Defaults) {
        if config.release.name_template.is_none() {
            config.release.name_template = Some("{{ tag }}".into());
        }
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        check(c);
    }

    /// The repository and the rendered release name: a bad template or a missing
    /// repository stops the release before anything is built.
    fn plan(&self, ctx: &Context, plan: &mut crate::plan::Plan) -> Result<()> {
        plan.release = Some(crate::plan::PlannedRelease {
            repo: repository(ctx)?,
            tag: ctx.tag.clone(),
            name: release_name(ctx)?,
        });
        // Rendered now so that a bad template or a missing header file stops the release
        // before anything is built; the run renders them again, with the same variables.
        body_part(ctx, "header", ctx.config.release.header.as_ref())?;
        body_part(ctx, "footer", ctx.config.release.footer.as_ref())?;
        target_commitish(ctx)?;
        skip_upload(ctx)?;
        Ok(())
    }

    /// Publishing starts with the release notes: the draft is made at once and each asset
    /// is uploaded as it lands; the release is published once every earlier stage is done.
    fn waits_for(&self) -> super::Waits {
        super::Waits::Only(&["before", "changelog"])
    }

    /// The token is checked before any side effect.
    fn preflight(&self, ctx: &Context) -> Result<()> {
        token(ctx).map(|_| ())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let token = token(ctx)?;
        let Some(release) = ctx.plan.release.clone() else {
            return Err(Error::Failed("publish: the release was not planned".into()));
        };
        let repo = release.repo.clone();
        let plan = plan(ctx, &release)?;
        let skip_upload = skip_upload(ctx)?;
        let rt = runtime()?;
        // The HTTP client spawns its connection workers inside the runtime.
        let _guard = rt.enter();
        let client = Client::new(token, urls(ctx)).map_err(Error::Failed)?;
        let progress = std::sync::Arc::new(Progress::default());
        // If --timeout or a signal ends the process mid-way, it still says what was done.
        {
            let (plan, progress) = (plan.clone(), progress.clone());
            crate::interrupt::set_summary(Box::new(move || {
                failure_message(
                    &plan,
                    &progress,
                    &crate::retry::Failure::Exhausted("stopped before publishing finished".into()),
                )
            }));
        }
        tracing::info!(
            "publish: to {} ({}); {}",
            repo,
            plan.tag,
            if skip_upload {
                "no asset is uploaded (release.skip_upload)"
            } else {
                "each asset is uploaded as soon as it is made"
            }
        );
        // `Some(asset)`, then `None` once every asset has been handed over: a channel that
        // closes without it (the feeder failed) fails the flow before anything is published.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Option<Local>>();
        let assets = futures_util::stream::unfold(Some(rx), |rx| async move {
            let mut rx = rx?;
            match rx.recv().await {
                Some(Some(a)) => Some((Ok(a), Some(rx))),
                Some(None) => None,
                None => Some((
                    Err(crate::retry::Failure::Fatal(
                        "the list of assets to upload could not be completed".into(),
                    )),
                    None,
                )),
            }
        });
        // Set when the flow has ended early, so the feeder stops waiting.
        let flow_ended = std::sync::atomic::AtomicBool::new(false);
        let (result, fed) = std::thread::scope(|scope| {
            // The feeder waits in the registry for uploadable artifacts and hands each to
            // the flow; it ends when every stage before this one has finished.
            let feeder = scope.spawn(|| feed(ctx, tx, &flow_ended, skip_upload));
            let flow = flow::publish(&client, &plan, &progress, assets);
            // `None`: another task failed first; the uploads in flight are dropped.
            let result = rt.block_on(async {
                tokio::select! {
                    r = flow => Some(r),
                    () = cancelled(ctx) => None,
                }
            });
            flow_ended.store(true, std::sync::atomic::Ordering::SeqCst);
            (result, feeder.join().expect("feeder"))
        });
        crate::interrupt::clear_summary();
        let Some(result) = result else {
            let done = progress.done.lock().expect("progress").join("; ");
            if !done.is_empty() {
                tracing::warn!(
                    "publish: stopped because another task failed; done so far: {done}. The release is still a draft: a re-run finishes it"
                );
            }
            return Err(Error::Cancelled(
                "publish: cancelled because another task failed".into(),
            ));
        };
        // The feeder's own error is the cause when it failed.
        fed?;
        match result {
            Ok(url) => {
                let _ = ctx.release_url.set(url);
                Ok(())
            }
            Err(e) => Err(Error::Failed(
                client.redact(&failure_message(&plan, &progress, &e)),
            )),
        }
    }
}

/// Resolves once the run is cancelled (another task failed).
async fn cancelled(ctx: &Context) {
    while !ctx.cancel.load(std::sync::atomic::Ordering::SeqCst) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Hand every uploadable artifact to the flow as it is registered, until every stage before
/// publishing has finished (with `skip_upload`, none: the release is still published only
/// then). Two different files under one name are an error.
fn feed(
    ctx: &Context,
    tx: tokio::sync::mpsc::UnboundedSender<Option<Local>>,
    flow_ended: &std::sync::atomic::AtomicBool,
    skip_upload: bool,
) -> Result<()> {
    let mut sent: BTreeMap<String, PathBuf> = BTreeMap::new();
    loop {
        let (new, last) = ctx.artifacts.wait_for("publish", |reg, board| {
            if ctx.cancel.load(std::sync::atomic::Ordering::SeqCst)
                || flow_ended.load(std::sync::atomic::Ordering::SeqCst)
            {
                return Some((vec![], true));
            }
            let last = board.earlier_finished("publish");
            let new: Vec<_> = reg
                .select(&Filter::Uploadable)
                .into_iter()
                .filter(|a| !skip_upload && sent.get(&a.name) != Some(&ctx.root.join(&a.path)))
                .collect();
            (last || !new.is_empty()).then_some((new, last))
        })?;
        for a in new {
            let path: PathBuf = ctx.root.join(&a.path);
            if let Some(prev) = sent.get(&a.name) {
                return Err(Error::Failed(format!(
                    "two files would be uploaded as `{}`: {} and {}; give one another name",
                    a.name,
                    ctx.rel_path(prev),
                    a.path
                )));
            }
            let (sha256, size) = match (&a.sha256, a.size) {
                (Some(h), Some(s)) => (h.clone(), s),
                _ => crate::hash::sha256_file(&path)?,
            };
            sent.insert(a.name.clone(), path.clone());
            // The flow has stopped (it failed): nothing more to hand over.
            if tx
                .send(Some(Local {
                    name: a.name,
                    path,
                    size,
                    sha256,
                }))
                .is_err()
            {
                return Ok(());
            }
        }
        if last {
            // Cancelled: the channel closes without the end mark, so nothing is published.
            if !ctx.cancel.load(std::sync::atomic::Ordering::SeqCst) {
                let _ = tx.send(None);
            }
            return Ok(());
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
fn failure_message(plan: &Plan, progress: &Progress, failure: &crate::retry::Failure) -> String {
    let cause = failure.message();
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
    let rerun = if matches!(failure, crate::retry::Failure::Exhausted(_)) {
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
    let t = Token::from_env(|k| ctx.env.get(k).cloned()).ok_or_else(|| {
        Error::Usage(
            "publishing a GitHub release needs a token: set GITHUB_TOKEN (or GH_TOKEN) to a token with `contents: write` on the repository, or skip publishing with `--skip publish`".into(),
        )
    })?;
    if !t.is_sendable() {
        return Err(Error::Usage(
            "GITHUB_TOKEN (or GH_TOKEN) holds a character a token cannot have (a control character, space or non-ASCII letter, often from pasting): set it again".into(),
        ));
    }
    Ok(t)
}

/// `owner/name` from `release.github`, else from the `origin` remote.
/// `owner` and `name` are templates (`{{ env.REPOSITORY_OWNER }}` releases to a fork).
fn repository(ctx: &Context) -> Result<String> {
    ctx.release_repo()
}

/// An http(s) URL with a host, as the GitHub client needs.
fn check_url(u: &str) -> std::result::Result<(), String> {
    let uri: http::Uri = u
        .trim()
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(h)) if !h.is_empty() => Ok(()),
        (Some(s), _) if s != "http" && s != "https" => {
            Err(format!("the scheme `{s}` is not http or https"))
        }
        _ => Err("it needs http:// or https:// and a host".into()),
    }
}

fn urls(ctx: &Context) -> Urls {
    Urls::of(ctx.config.release.github_urls.as_ref())
}

/// The release name, from `release.name_template`.
fn release_name(ctx: &Context) -> Result<String> {
    ctx.render(
        "release.name_template",
        ctx.config
            .release
            .name_template
            .as_deref()
            .unwrap_or("{{ tag }}"),
    )
}

/// `release.header` or `.footer` rendered: the text, or a file's text, as a template.
fn body_part(ctx: &Context, key: &str, part: Option<&ReleaseText>) -> Result<String> {
    let (name, template) = match part {
        None => return Ok(String::new()),
        Some(ReleaseText::Text(t)) => (format!("release.{key}"), t.clone()),
        Some(ReleaseText::From(from)) => match (&from.from_file, &from.from_url) {
            (Some(f), _) => {
                let path = ctx.render(&format!("release.{key}.from_file.path"), &f.path)?;
                let full = ctx.root.join(path.trim());
                let text = std::fs::read_to_string(&full).map_err(|e| {
                    Error::Config(format!(
                        "release.{key}.from_file: cannot read {}: {e}",
                        path.trim()
                    ))
                })?;
                (format!("release.{key}.from_file {}", path.trim()), text)
            }
            // `check` refuses these; a config built in code gets the same answer.
            (None, Some(u)) => return Err(Error::Config(from_url_refused(key, &u.url))),
            (None, None) => return Ok(String::new()),
        },
    };
    ctx.render(&name, &template)
}

fn from_url_refused(key: &str, url: &str) -> String {
    format!(
        "release.{key}.from_url ({url}): rel does not download release text, so a release never depends on a server it cannot check before building; save the text in the project and use `from_file: {{path: ...}}`"
    )
}

/// The release body: header, notes, footer, each header and footer followed or preceded by
/// a line break (GoReleaser's layout).
pub fn compose_body(header: &str, notes: &str, footer: &str) -> String {
    let mut body = String::new();
    if !header.is_empty() {
        body.push_str(header);
        body.push('\n');
    }
    body.push_str(notes);
    if !footer.is_empty() {
        body.push('\n');
        body.push_str(footer);
    }
    body
}

/// Where GitHub creates a missing tag: `release.target_commitish` rendered, else (or when it
/// renders empty) the commit being released.
fn target_commitish(ctx: &Context) -> Result<String> {
    let rendered = match &ctx.config.release.target_commitish {
        Some(t) => ctx.render("release.target_commitish", t)?,
        None => String::new(),
    };
    let rendered = rendered.trim();
    Ok(if rendered.is_empty() {
        ctx.git.commit.clone()
    } else {
        rendered.to_string()
    })
}

/// `release.skip_upload`, rendered.
fn skip_upload(ctx: &Context) -> Result<bool> {
    ctx.truthy(
        "release.skip_upload",
        ctx.config.release.skip_upload.as_ref(),
    )
}

/// The checks of a `header` or `footer`.
fn check_body_part(c: &mut crate::config::validate::Checker, key: &str, part: &ReleaseText) {
    let globals = crate::config::validate::globals();
    let at = |rest: &[&str]| {
        let mut v: Vec<crate::config::locate::Seg> = vec!["release".into(), key.into()];
        v.extend(rest.iter().map(|s| (*s).into()));
        v
    };
    match part {
        ReleaseText::Text(t) => c.template(at(&[]), t, &globals),
        ReleaseText::From(from) => match (&from.from_file, &from.from_url) {
            (Some(f), _) => {
                let p = f.path.trim();
                if p.is_empty() || p.starts_with('/') || p.split('/').any(|s| s == "..") {
                    c.push(
                        at(&["from_file", "path"]),
                        format!("`{p}` is not a path inside the project"),
                        Some("give a path relative to the project root".into()),
                    );
                }
                c.template(at(&["from_file", "path"]), &f.path, &globals);
            }
            (None, Some(u)) => c.push(at(&["from_url"]), from_url_refused(key, &u.url), None),
            (None, None) => c.push(
                at(&[]),
                format!("release.{key} needs the text itself or `from_file: {{path: ...}}`"),
                None,
            ),
        },
    }
}

/// The checks of a `true`/`false`-or-template setting.
fn check_truthy(
    c: &mut crate::config::validate::Checker,
    key: &str,
    v: Option<&crate::config::BoolOrTemplate>,
) {
    if let Some(crate::config::BoolOrTemplate::Template(t)) = v {
        c.template(
            vec!["release".into(), key.into()],
            t,
            &crate::config::validate::globals(),
        );
    }
}

/// Every problem of `release`.
fn check(c: &mut crate::config::validate::Checker) {
    let release = &c.config.release;
    if let Some(t) = &release.name_template {
        c.template(
            vec!["release".into(), "name_template".into()],
            t,
            &crate::config::validate::globals(),
        );
    }
    for (key, part) in [("header", &release.header), ("footer", &release.footer)] {
        if let Some(p) = part {
            check_body_part(c, key, p);
        }
    }
    if let Some(t) = &release.target_commitish {
        c.template(
            vec!["release".into(), "target_commitish".into()],
            t,
            &crate::config::validate::globals(),
        );
    }
    if release
        .discussion_category_name
        .as_deref()
        .is_some_and(|d| d.trim().is_empty())
    {
        c.push(
            vec!["release".into(), "discussion_category_name".into()],
            "release.discussion_category_name is empty",
            Some("name a discussion category of the repository, or remove the key".into()),
        );
    }
    check_truthy(c, "skip_upload", release.skip_upload.as_ref());
    check_truthy(c, "disable", release.disable.as_ref());
    if let Some(gh) = &release.github {
        if gh.owner.is_empty()
            || gh.name.is_empty()
            || gh.owner.contains('/')
            || gh.name.contains('/')
        {
            c.push(
                vec!["release".into(), "github".into()],
                "release.github needs a plain `owner` and `name`",
                None,
            );
        }
        for (k, v) in [("owner", &gh.owner), ("name", &gh.name)] {
            c.template(
                vec!["release".into(), "github".into(), k.into()],
                v,
                &crate::config::validate::globals(),
            );
        }
    }
    if let Some(urls) = &release.github_urls {
        for (k, v) in [("api", &urls.api), ("uploads", &urls.uploads)] {
            if let Some(u) = v
                && let Err(why) = check_url(u)
            {
                c.push(
                    vec!["release".into(), "github_urls".into(), k.into()],
                    format!("`{u}` is not a URL: {why}"),
                    Some("e.g. https://ghe.example.com/api/v3/".into()),
                );
            }
        }
    }
    if release.upload_concurrency == Some(0) {
        c.push(
            vec!["release".into(), "upload_concurrency".into()],
            "release.upload_concurrency must be at least 1",
            None,
        );
    }
}

/// The release notes: the registered notes file, or empty when the changelog did not run.
/// Only the registry says what this run made; a file left in `dist/` says nothing.
fn notes(ctx: &Context) -> Result<String> {
    match ctx
        .artifacts
        .select(&Filter::kind(Kind::ReleaseNotes))
        .first()
    {
        Some(a) => {
            let path = ctx.root.join(&a.path);
            std::fs::read_to_string(&path)
                .map_err(|e| Error::io("cannot read release notes", &path, e))
        }
        None => Ok(String::new()),
    }
}

/// Resolve everything the flow needs.
fn plan(ctx: &Context, release: &crate::plan::PlannedRelease) -> Result<Plan> {
    let r = &ctx.config.release;
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
    let body = compose_body(
        &body_part(ctx, "header", r.header.as_ref())?,
        &notes(ctx)?,
        &body_part(ctx, "footer", r.footer.as_ref())?,
    );
    Ok(Plan {
        repo: release.repo.clone(),
        tag: release.tag.clone(),
        commit: target_commitish(ctx)?,
        name: release.name.clone(),
        notes: body,
        discussion_category_name: r.discussion_category_name.clone(),
        prerelease,
        make_latest,
        draft: r.draft,
        mode: r.mode,
        replace: r.replace_existing_artifacts,
        concurrency: r.upload_concurrency.unwrap_or(DEFAULT_UPLOAD_CONCURRENCY),
        policy: crate::retry::Policy::default(),
        deadline: ctx.options.deadline,
        run: ctx
            .env
            .get("GITHUB_RUN_ID")
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "local".into()),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    })
}

/// `rel release --dry-run`: check token, access and the existing release with read-only
/// calls, and list every call a real run would make. Returns the text and the checks' result.
pub fn dry_run(ctx: &Context) -> (String, Result<()>) {
    let mut out = String::from("\npublish:\n");
    if let Some(reason) = ctx.publish_skip_reason() {
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
        Ok::<_, crate::retry::Failure>((push, found))
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
        .select(&Filter::Uploadable)
        .into_iter()
        .map(|a| a.name)
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
                target_commitish(ctx)?
            ));
            "{release_id}".to_string()
        }
    };
    if skip_upload(ctx)? {
        out.push_str("    (no asset uploaded: release.skip_upload)\n");
    } else {
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
    }
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
