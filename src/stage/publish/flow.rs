//! The publish flow: find or create the draft, upload, verify, publish last.
//!
//! Every step is idempotent and re-reads what it depends on, so a step can be retried after
//! any failure and a later `rel release` finishes what an earlier one started. The release is
//! published (undrafted) only after the asset list has been read back and found complete,
//! so nobody ever sees a published release with missing assets.

use super::client::Client;
use super::upload::{self, Compared, Local, Remote, Uploaded};
use crate::config::model::NotesMode;
pub use crate::github::{Release, find, list_assets};
use crate::retry::{self, Failure, Policy};
use futures_util::StreamExt;
use http::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Everything the flow needs, resolved from the config before any request.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `owner/name`.
    pub repo: String,
    /// The tag.
    pub tag: String,
    /// The commit the tag points to (GitHub creates the tag there if it is missing).
    pub commit: String,
    /// Release title.
    pub name: String,
    /// The release body: header, release notes, footer (may be empty).
    pub notes: String,
    /// A discussion category: publishing opens a discussion there (as GoReleaser, sent
    /// with the publish, since GitHub opens discussions of published releases).
    pub discussion_category_name: Option<String>,
    /// Prerelease flag.
    pub prerelease: bool,
    /// `Some` to force "latest" on or off; `None` lets GitHub decide.
    pub make_latest: Option<bool>,
    /// Leave the release a draft.
    pub draft: bool,
    /// How the notes combine with an existing body.
    pub mode: NotesMode,
    /// Replace assets with other content instead of failing.
    pub replace: bool,
    /// Uploads in flight at once.
    pub concurrency: usize,
    /// Retry policy for each step.
    pub policy: Policy,
    /// `--timeout`.
    pub deadline: Option<Instant>,
    /// Which run this is (`GITHUB_RUN_ID` in GitHub Actions, `local` elsewhere), for the
    /// marker a draft carries while this run fills it.
    pub run: String,
    /// Unix seconds now.
    pub now: u64,
}

/// How long another run's draft counts as being filled: within it, a second run stops
/// instead of uploading into the same draft or making a second one.
pub const FRESH: u64 = 15 * 60;

/// The marker a draft's body carries while a run fills it (an HTML comment: invisible on
/// the release page, and removed when the release is published).
pub fn marker(run: &str, at: u64) -> String {
    format!("<!-- rel: run {run} at {at} -->")
}

/// The run and time of a draft's marker, if it has one.
pub fn read_marker(body: &str) -> Option<(String, u64)> {
    let start = body.rfind("<!-- rel: run ")?;
    let rest = &body[start + "<!-- rel: run ".len()..];
    let end = rest.find(" -->")?;
    let (run, at) = rest[..end].rsplit_once(" at ")?;
    Some((run.to_string(), at.parse().ok()?))
}

/// `body` without the marker (and the line break put before it), as it was before.
pub fn strip_marker(body: &str) -> String {
    match body.rfind("<!-- rel: run ") {
        Some(i) if body[i..].contains(" -->") => {
            let end = i + body[i..].find(" -->").unwrap_or(0) + " -->".len();
            let head = body[..i].strip_suffix('\n').unwrap_or(&body[..i]);
            format!("{head}{}", &body[end..])
        }
        _ => body.to_string(),
    }
}

/// A stop when `rel` is a draft another run is filling now.
fn another_run(plan: &Plan, rel: &Release) -> Option<Failure> {
    let (run, at) = read_marker(&rel.body)?;
    let age = plan.now.saturating_sub(at);
    (rel.draft && run != plan.run && age < FRESH).then(|| {
        Failure::Fatal(format!(
            "another rel run ({}) created draft release {} for {} {} min ago and may still be publishing it; this run stopped before uploading anything. Wait for that run to finish; if it died, re-run after {} more min or delete the draft",
            if run == "local" { "outside CI".to_string() } else { format!("GitHub run {run}") },
            rel.id,
            plan.tag,
            age / 60,
            (FRESH - age).div_ceil(60)
        ))
    })
}

/// What has been done so far, for the final message.
#[derive(Debug, Default)]
pub struct Progress {
    /// Steps done, in order.
    pub done: Mutex<Vec<String>>,
    /// Whether the release was published by this run (or already was).
    pub published: Mutex<Option<bool>>,
}

impl Progress {
    fn note(&self, s: impl Into<String>) {
        let s = s.into();
        tracing::info!("publish: {s}");
        self.done.lock().expect("progress").push(s);
    }
}

/// The body of an existing release after applying `mode`.
pub fn merged_body(mode: NotesMode, existing: &str, notes: &str) -> String {
    if notes.trim().is_empty() {
        return existing.to_string();
    }
    match mode {
        NotesMode::KeepExisting if !existing.trim().is_empty() => existing.to_string(),
        NotesMode::KeepExisting | NotesMode::Replace => notes.to_string(),
        // Idempotent: a re-run does not add the notes a second time.
        NotesMode::Append if existing.contains(notes.trim()) => existing.to_string(),
        NotesMode::Prepend if existing.contains(notes.trim()) => existing.to_string(),
        NotesMode::Append => format!("{}\n\n{}", existing.trim_end(), notes),
        NotesMode::Prepend => format!("{}\n\n{}", notes.trim_end(), existing),
    }
}

async fn step<T, F, Fut>(plan: &Plan, what: &str, f: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    retry::run(plan.policy, plan.deadline, what, f).await
}

/// Find or create the draft; returns it and whether it was created now.
async fn ensure_release(client: &Client, plan: &Plan) -> Result<(Release, bool), Failure> {
    let found = step(plan, "finding or creating the release", || async {
        if let Some(r) = find(client, &plan.repo, &plan.tag).await? {
            if let Some(stop) = another_run(plan, &r) {
                return Err(stop);
            }
            return Ok((r, false));
        }
        let mut body = json!({
            "tag_name": plan.tag,
            "target_commitish": plan.commit,
            "name": plan.name,
            "body": format!("{}\n{}", plan.notes, marker(&plan.run, plan.now)),
            "draft": true,
            "prerelease": plan.prerelease,
        });
        if plan.draft
            && let Some(l) = plan.make_latest
        {
            body["make_latest"] = json!(l.to_string());
        }
        let url = client.api(&format!("/repos/{}/releases", plan.repo));
        let r = client.json(Method::POST, &url, Some(&body)).await?;
        let rel = Release::from_json(&r.json()?)
            .ok_or_else(|| Failure::Fatal(format!("POST {url}: unexpected response")))?;
        Ok((rel, true))
    })
    .await?;
    if found.1 {
        // Two runs that looked at the same moment both made a draft: the older one wins,
        // the newer one removes its own and stops.
        let first = step(plan, "checking for a second draft", || {
            find(client, &plan.repo, &plan.tag)
        })
        .await?;
        if let Some(first) = first
            && first.id != found.0.id
        {
            let url = client.api(&format!("/repos/{}/releases/{}", plan.repo, found.0.id));
            step(plan, "removing this run's second draft", || {
                client.json(Method::DELETE, &url, None)
            })
            .await?;
            return Err(another_run(plan, &first).unwrap_or_else(|| {
                Failure::Fatal(format!(
                    "another run created release {} for {} at the same moment; this run removed its own draft and stopped",
                    first.id, plan.tag
                ))
            }));
        }
    }
    Ok(found)
}

/// Bring name, prerelease and body of an existing release in line with the config.
/// Returns the body the release has afterwards.
async fn update_existing(client: &Client, plan: &Plan, rel: &Release) -> Result<String, Failure> {
    let body = merged_body(plan.mode, &rel.body, &plan.notes);
    let mut patch = serde_json::Map::new();
    if rel.name != plan.name {
        patch.insert("name".into(), json!(plan.name));
    }
    if rel.prerelease != plan.prerelease {
        patch.insert("prerelease".into(), json!(plan.prerelease));
    }
    if body != rel.body {
        patch.insert("body".into(), json!(body));
    }
    if patch.is_empty() {
        return Ok(body);
    }
    let url = client.api(&format!("/repos/{}/releases/{}", plan.repo, rel.id));
    let patch = Value::Object(patch);
    step(plan, "updating the release", || {
        client.json(Method::PATCH, &url, Some(&patch))
    })
    .await?;
    Ok(body)
}

/// What happened to one asset.
#[derive(Debug, PartialEq, Eq)]
enum AssetResult {
    Uploaded,
    AlreadyThere,
}

/// Make sure `local` is on the release with its content: skip, upload, or replace.
async fn ensure_asset(
    client: &Client,
    plan: &Plan,
    release_id: u64,
    local: &Local,
    remote: &Mutex<BTreeMap<String, Remote>>,
) -> Result<AssetResult, Failure> {
    let what = format!("uploading {}", local.name);
    step(plan, &what, || async {
        let existing = remote.lock().expect("assets").get(&local.name).cloned();
        if let Some(r) = existing {
            match upload::compare(client, &plan.repo, local, &r).await? {
                Compared::Same => return Ok(AssetResult::AlreadyThere),
                Compared::Incomplete => {
                    tracing::info!("publish: {} is an unfinished upload on GitHub; uploading it again", local.name);
                    upload::delete(client, &plan.repo, &r).await?;
                }
                Compared::Different(how) if plan.replace => {
                    tracing::info!("publish: replacing {} ({how})", local.name);
                    upload::delete(client, &plan.repo, &r).await?;
                }
                Compared::Different(how) => {
                    return Err(Failure::Fatal(format!(
                        "asset {} already exists on the release with other content ({how}); delete it, or set `release.replace_existing_artifacts: true` to replace it",
                        local.name
                    )));
                }
            }
            remote.lock().expect("assets").remove(&local.name);
        }
        match upload::upload(client, &plan.repo, release_id, local).await? {
            Uploaded::Done(r) => {
                remote.lock().expect("assets").insert(r.name.clone(), r);
                Ok(AssetResult::Uploaded)
            }
            Uploaded::AlreadyExists => {
                // An earlier attempt may have reached GitHub after all: read the assets again
                // and let the next attempt compare.
                let fresh = list_assets(client, &plan.repo, release_id).await?;
                *remote.lock().expect("assets") = fresh;
                Err(Failure::Transient { message: format!("{} already exists on GitHub; comparing it", local.name), wait: Some(Duration::ZERO) })
            }
        }
    })
    .await
}

/// Run the flow over `assets`, which arrive while it runs (each is uploaded as it comes, so
/// uploads overlap the builds of a pipelined release); the release is published only after
/// the stream has ended and GitHub lists every asset complete. Returns its web URL.
pub async fn publish(
    client: &Client,
    plan: &Plan,
    progress: &Progress,
    assets: impl futures_util::Stream<Item = Result<Local, Failure>>,
) -> Result<String, Failure> {
    let (rel, created) = ensure_release(client, plan).await?;
    // The body as it stands, known without asking again.
    let mut current_body = rel.body.clone();
    let state = if rel.draft {
        "draft"
    } else {
        "published release"
    };
    if created {
        progress.note(format!("created draft release {} for {}", rel.id, plan.tag));
    } else {
        progress.note(format!(
            "found existing {state} {} for {}",
            rel.id, plan.tag
        ));
        current_body = update_existing(client, plan, &rel).await?;
    }
    *progress.published.lock().expect("progress") = Some(!rel.draft);

    let remote = if created {
        BTreeMap::new()
    } else {
        step(plan, "listing assets", || {
            list_assets(client, &plan.repo, rel.id)
        })
        .await?
    };
    let immutable = rel.immutable && !rel.draft;
    let remote = Mutex::new(remote);
    // Every asset that arrived, for the final check.
    let received: Mutex<Vec<Local>> = Mutex::new(vec![]);
    let (mut uploaded, mut kept) = (0usize, 0usize);
    let mut failed: Vec<String> = vec![];
    let results = assets
        .map(|item| {
            let (remote, received) = (&remote, &received);
            async move {
                // The list of assets could not be completed: nothing may be published.
                let a = match item {
                    Ok(a) => a,
                    Err(e) => return ("the list of assets".to_string(), Err(e)),
                };
                received.lock().expect("assets").push(a.clone());
                let r = if immutable && !remote.lock().expect("assets").contains_key(&a.name) {
                    Err(Failure::Fatal(format!(
                        "release {} is published and immutable, so assets cannot be added (missing: {}); delete the release or release a new tag",
                        plan.tag, a.name
                    )))
                } else {
                    ensure_asset(client, plan, rel.id, &a, remote).await
                };
                (a.name, r)
            }
        })
        .buffer_unordered(plan.concurrency.max(1));
    let mut results = std::pin::pin!(results);
    // The first failed asset ends the flow: the uploads still in flight are dropped, and
    // the release stays a draft that a re-run finishes.
    while let Some((name, r)) = results.next().await {
        match r {
            Ok(AssetResult::Uploaded) => uploaded += 1,
            Ok(AssetResult::AlreadyThere) => kept += 1,
            Err(e) => {
                failed.push(format!("{name}: {}", e.message()));
                break;
            }
        }
    }
    progress.note(format!(
        "assets: {uploaded} uploaded, {kept} already there, {} failed",
        failed.len()
    ));
    if !failed.is_empty() {
        return Err(Failure::Fatal(failed.join("\n  ")));
    }
    let assets = std::mem::take(&mut *received.lock().expect("assets"));

    // Read the list back: publish only what GitHub confirms complete.
    let now = step(plan, "verifying assets", || {
        list_assets(client, &plan.repo, rel.id)
    })
    .await?;
    let missing: Vec<&str> = assets
        .iter()
        .filter(|a| {
            !now.get(&a.name)
                .is_some_and(|r| r.state == "uploaded" && r.size == a.size)
        })
        .map(|a| a.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Failure::Fatal(format!(
            "GitHub does not list these assets as complete after uploading them: {}",
            missing.join(", ")
        )));
    }

    // The body without this run's marker.
    let clean_body = strip_marker(&current_body);
    if !rel.draft || plan.draft {
        if clean_body != current_body {
            let url = client.api(&format!("/repos/{}/releases/{}", plan.repo, rel.id));
            let patch = json!({"body": clean_body});
            step(plan, "removing the run marker", || {
                client.json(Method::PATCH, &url, Some(&patch))
            })
            .await?;
        }
        if plan.draft {
            progress.note("left as a draft (release.draft: true)");
        }
        return Ok(rel.html_url);
    }
    let mut body = json!({"draft": false});
    if clean_body != current_body {
        body["body"] = json!(clean_body);
    }
    if let Some(l) = plan.make_latest {
        body["make_latest"] = json!(l.to_string());
    }
    if let Some(c) = &plan.discussion_category_name {
        body["discussion_category_name"] = json!(c);
    }
    let url = client.api(&format!("/repos/{}/releases/{}", plan.repo, rel.id));
    let r = step(plan, "publishing the release", || {
        client.json(Method::PATCH, &url, Some(&body))
    })
    .await?;
    let published = Release::from_json(&r.json()?)
        .ok_or_else(|| Failure::Fatal(format!("PATCH {url}: unexpected response")))?;
    *progress.published.lock().expect("progress") = Some(true);
    progress.note(format!("published {}", published.html_url));
    Ok(published.html_url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_strip() {
        let body = format!("## Notes\n\n- x\n\n{}", marker("12345", 1_700_000_000));
        assert_eq!(read_marker(&body), Some(("12345".into(), 1_700_000_000)));
        assert_eq!(strip_marker(&body), "## Notes\n\n- x\n");
        assert_eq!(strip_marker("no marker"), "no marker");
        assert_eq!(read_marker(&marker("local", 5)), Some(("local".into(), 5)));
        assert_eq!(strip_marker(&format!("\n{}", marker("local", 5))), "");
    }

    #[test]
    fn merges_bodies_by_mode_and_idempotently() {
        assert_eq!(merged_body(NotesMode::KeepExisting, "old", "new"), "old");
        assert_eq!(merged_body(NotesMode::KeepExisting, "", "new"), "new");
        assert_eq!(merged_body(NotesMode::Replace, "old", "new"), "new");
        assert_eq!(merged_body(NotesMode::Append, "old", "new"), "old\n\nnew");
        assert_eq!(merged_body(NotesMode::Prepend, "old", "new"), "new\n\nold");
        assert_eq!(
            merged_body(NotesMode::Append, "old\n\nnew", "new"),
            "old\n\nnew",
            "a re-run adds nothing"
        );
        assert_eq!(
            merged_body(NotesMode::Replace, "old", ""),
            "old",
            "no notes: body untouched"
        );
    }
}
