//! `rel verify`: re-read everything a release published, from the outside, and list every
//! place where the world differs from what the release recorded.
//!
//! The checks read what anybody else would read — the GitHub release and its downloads, the
//! registries' tags, the committed package manifests — and compare it with
//! `dist/artifacts.json` (or, without one, with the release's own checksum file). They never
//! write anything. Each check is a function over one shared [`Session`] (what was found so
//! far: the release, its assets and their digests) that adds lines to one [`Report`]; a check
//! that cannot reach something records that as a failed line instead of stopping the others,
//! so one run lists every mismatch. [`CHECKS`] is the list, in order: a new kind of check is
//! one module and one line there.

pub mod gitops;
pub mod images;
pub mod manifests;
pub mod release;
pub mod signatures;

use crate::artifact::{Artifact, Kind};
use crate::config::Algorithm;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git_remote::Remote as GitRemote;
use crate::github::{Client, Release, Remote, Token, Urls};
use crate::retry::{Failure, Policy};
use minijinja::Value;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// What was published matches what was recorded.
    Pass,
    /// A mismatch, or something that should be there and cannot be read.
    Fail,
    /// Nothing to compare with (no key to check a signature with, no digest recorded): not a
    /// mismatch, but not a guarantee either, so it is said rather than counted as a pass.
    Unchecked,
}

/// One line of the report: what was checked (`asset`, `signature`, `image`, …), on what (an
/// asset name, an image reference, a file in a repository), and what was found.
#[derive(Debug, Clone)]
pub struct Check {
    /// The kind of check.
    pub name: String,
    /// What it is about.
    pub subject: String,
    /// How it ended.
    pub outcome: Outcome,
    /// What was found: both values of a mismatch, or what matched.
    pub detail: String,
}

/// Every check's line, in the order they ran.
#[derive(Debug, Default)]
pub struct Report {
    /// The lines.
    pub checks: Vec<Check>,
}

impl Report {
    fn add(&mut self, name: &str, subject: &str, outcome: Outcome, detail: String) {
        self.checks.push(Check {
            name: name.to_string(),
            subject: subject.to_string(),
            outcome,
            detail,
        });
    }

    /// A check that matched.
    pub fn pass(&mut self, name: &str, subject: &str, detail: impl Into<String>) {
        self.add(name, subject, Outcome::Pass, detail.into());
    }

    /// A mismatch.
    pub fn fail(&mut self, name: &str, subject: &str, detail: impl Into<String>) {
        self.add(name, subject, Outcome::Fail, detail.into());
    }

    /// Something that could not be compared, and why.
    pub fn unchecked(&mut self, name: &str, subject: &str, detail: impl Into<String>) {
        self.add(name, subject, Outcome::Unchecked, detail.into());
    }

    /// The failed lines.
    pub fn failures(&self) -> Vec<&Check> {
        self.checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .collect()
    }

    /// Whether nothing failed.
    pub fn ok(&self) -> bool {
        self.failures().is_empty()
    }

    fn count(&self, o: Outcome) -> usize {
        self.checks.iter().filter(|c| c.outcome == o).count()
    }

    /// One line per check, then the totals.
    pub fn text(&self, head: &Head) -> String {
        let mut out = format!(
            "verify {} {} ({})\n",
            head.repository,
            head.tag,
            head.source.describe()
        );
        let w = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &self.checks {
            let mark = match c.outcome {
                Outcome::Pass => "ok  ",
                Outcome::Fail => "FAIL",
                Outcome::Unchecked => "skip",
            };
            out.push_str(&format!(
                "{mark}  {:<w$}  {}: {}\n",
                c.name, c.subject, c.detail
            ));
        }
        out.push_str(&format!(
            "{} checks: {} ok, {} failed, {} not checked\n",
            self.checks.len(),
            self.count(Outcome::Pass),
            self.count(Outcome::Fail),
            self.count(Outcome::Unchecked)
        ));
        out
    }

    /// The report as one stable JSON document: `checks` with `name`, `subject`, `ok`,
    /// `checked` (false when there was nothing to compare with) and `detail`.
    pub fn json(&self, head: &Head) -> serde_json::Value {
        json!({
            "command": "verify",
            "repository": head.repository,
            "tag": head.tag,
            "version": head.version,
            "source": head.source.key(),
            "release_url": head.release_url,
            "ok": self.ok(),
            "passed": self.count(Outcome::Pass),
            "failed": self.count(Outcome::Fail),
            "unchecked": self.count(Outcome::Unchecked),
            "checks": self.checks.iter().map(|c| json!({
                "name": c.name,
                "subject": c.subject,
                "ok": c.outcome != Outcome::Fail,
                "checked": c.outcome != Outcome::Unchecked,
                "detail": c.detail,
            })).collect::<Vec<_>>(),
        })
    }
}

/// What the expectations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `dist/artifacts.json` and `dist/metadata.json` of this tag's release.
    Dist,
    /// The tag alone: the release's own checksum file is the record.
    Tag,
}

impl Source {
    fn key(self) -> &'static str {
        match self {
            Source::Dist => "dist",
            Source::Tag => "tag",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Source::Dist => "against dist/artifacts.json",
            Source::Tag => "from the tag alone, against the release's checksum file",
        }
    }
}

/// The report's heading: which release, from which record.
#[derive(Debug, Clone)]
pub struct Head {
    /// `owner/name`.
    pub repository: String,
    /// The tag.
    pub tag: String,
    /// Its version.
    pub version: String,
    /// Where the expectations come from.
    pub source: Source,
    /// The release's page, once found.
    pub release_url: Option<String>,
}

/// A downloaded asset: its digests, computed while it streamed, and the file when a later
/// check needs its bytes (checksum files, signatures and what they sign).
#[derive(Debug, Clone, Default)]
pub struct Downloaded {
    /// SHA-256, hex.
    pub sha256: String,
    /// Other digests asked for (a checksum file in SHA-512 or BLAKE3), by algorithm name.
    pub other: BTreeMap<&'static str, String>,
    /// Bytes received.
    pub size: u64,
    /// Where the bytes were kept, when they were.
    pub kept: Option<PathBuf>,
}

impl Downloaded {
    /// The digest in `algo`, when it was computed.
    pub fn digest(&self, algo: Algorithm) -> Option<&str> {
        match algo {
            Algorithm::Sha256 => Some(&self.sha256),
            a => self
                .other
                .get(crate::hash::algorithm_name(a))
                .map(String::as_str),
        }
    }
}

/// A signature asset and what it signs.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The signature's asset name.
    pub signature: String,
    /// The signed artifact's name.
    pub subject: String,
    /// `openpgp`, `minisign`, `sigstore`, or `cmd` for a command's signature.
    pub signer: String,
    /// The `signs` entry's index in the config, when known.
    pub entry: Option<usize>,
}

/// What every check reads: the release's context (config, templates rendered for its tag),
/// what was recorded, and what earlier checks found.
pub struct Session<'a> {
    /// The config and template variables, set to the release's tag and version.
    pub ctx: &'a Context,
    /// The heading of the report.
    pub head: Head,
    /// `dist/artifacts.json` of this release, when verifying against it.
    pub recorded: Option<Vec<Artifact>>,
    /// The GitHub client of the release repository.
    pub github: Client,
    /// The async runtime every network call runs on.
    pub rt: tokio::runtime::Runtime,
    /// `--timeout`.
    pub deadline: Option<Instant>,
    /// The release, once found.
    pub release: Option<Release>,
    /// Its assets, by name, once listed.
    pub assets: BTreeMap<String, Remote>,
    /// Downloaded assets, by name.
    pub downloaded: BTreeMap<String, Downloaded>,
    /// Signatures and their subjects.
    pub signed: Vec<Signed>,
    /// Where kept downloads and clones go; removed at the end.
    pub scratch: tempfile::TempDir,
}

impl<'a> Session<'a> {
    /// A session for the release of `head.tag` in `head.repository`, with `token`.
    pub fn new(
        ctx: &'a Context,
        head: Head,
        recorded: Option<Vec<Artifact>>,
        token: Token,
    ) -> Result<Session<'a>> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
        // The HTTP client spawns its connection workers inside the runtime.
        let github = {
            let _guard = rt.enter();
            Client::new(token, Urls::of(ctx.config.release.github_urls.as_ref()))
                .map_err(Error::Usage)?
        };
        let scratch = tempfile::tempdir()
            .map_err(|e| Error::Failed(format!("cannot create a temporary folder: {e}")))?;
        Ok(Session {
            ctx,
            head,
            recorded,
            github,
            rt,
            deadline: ctx.options.deadline,
            release: None,
            assets: BTreeMap::new(),
            downloaded: BTreeMap::new(),
            signed: vec![],
            scratch,
        })
    }

    /// Recorded artifacts of `kind` (none without `artifacts.json`).
    pub fn recorded_of(&self, kind: Kind) -> Vec<&Artifact> {
        self.recorded
            .iter()
            .flatten()
            .filter(|a| a.kind == kind)
            .collect()
    }

    /// Run `f` on the runtime under the one retry policy of GitHub calls.
    pub fn github_call<T, F, Fut>(&self, what: &str, f: F) -> std::result::Result<T, String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, Failure>>,
    {
        self.rt
            .block_on(crate::retry::run(Policy::default(), self.deadline, what, f))
            .map_err(|e| self.github.redact(e.message()))
    }

    /// Render a config template with the release's variables plus `extra`.
    pub fn render(&self, key: &str, template: &str, extra: &[(&str, String)]) -> Result<String> {
        let mut vars = self.ctx.vars.clone();
        for (k, v) in extra {
            vars.insert((*k).into(), Value::from(v.clone()));
        }
        self.ctx.templates.render(key, template, &vars)
    }

    /// The SHA-256 of an asset as the world sees it: downloaded, else GitHub's digest.
    pub fn asset_sha256(&self, name: &str) -> Option<String> {
        self.downloaded
            .get(name)
            .map(|d| d.sha256.clone())
            .or_else(|| {
                self.assets
                    .get(name)?
                    .digest
                    .as_deref()?
                    .strip_prefix("sha256:")
                    .map(str::to_ascii_lowercase)
            })
    }
}

impl Session<'_> {
    /// A GitHub client with another repository's token (a tap's, a config repository's), on
    /// the release's API URLs.
    pub fn github_client(&self, token: Token) -> std::result::Result<Client, String> {
        let _guard = self.rt.enter();
        Client::new(
            token,
            Urls::of(self.ctx.config.release.github_urls.as_ref()),
        )
    }

    /// A file of a GitHub repository through the contents API, on `branch` when given (else
    /// the default branch); `None` when it is not there.
    pub fn github_file(
        &self,
        client: &Client,
        repo: &str,
        path: &str,
        branch: Option<&str>,
    ) -> std::result::Result<Option<Vec<u8>>, String> {
        let mut url = client.api(&format!("/repos/{repo}/contents/{path}"));
        if let Some(b) = branch {
            url.push_str(&format!("?ref={b}"));
        }
        let r = self
            .rt
            .block_on(crate::retry::run(
                Policy::default(),
                self.deadline,
                &format!("reading {path} in {repo}"),
                || {
                    client.send(
                        http::Method::GET,
                        &url,
                        &[],
                        crate::github::Body::from(Vec::new()),
                    )
                },
            ))
            .map_err(|e| client.redact(e.message()))?;
        if r.status.as_u16() == 404 {
            return Ok(None);
        }
        if !r.status.is_success() {
            return Err(client
                .status_error(&http::Method::GET, &url, &r)
                .message()
                .to_string());
        }
        let v = r.json().map_err(|e| e.message().to_string())?;
        crate::github::contents_bytes(&v)
            .map(Some)
            .map_err(|e| format!("{repo}: {e}"))
    }

    /// A file at the tip of `branch` of a git remote (one shallow fetch per remote and branch,
    /// kept for the session); `None` when it is not there.
    pub fn git_file(
        &self,
        remote: &GitRemote,
        branch: &str,
        path: &str,
    ) -> std::result::Result<Option<Vec<u8>>, String> {
        use sha2::Digest;
        let key = sha2::Sha256::digest(format!("{}\n{branch}", remote.url).as_bytes());
        let dir = self
            .scratch
            .path()
            .join(format!("git-{}", crate::hash::hex(&key[..8])));
        let fetched = dir.join(".git/rel-fetched");
        if !fetched.is_file() {
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let git = |args: &[&str]| remote.git(&dir, args).map_err(|e| e.to_string());
            git(&["init", "-q"])?;
            git(&["fetch", "-q", "--depth", "1", &remote.url, branch])?;
            std::fs::write(&fetched, b"").map_err(|e| e.to_string())?;
        }
        let out = remote
            .output(&dir, &["show", &format!("FETCH_HEAD:{path}")])
            .map_err(|e| e.to_string())?;
        Ok(out.status.success().then_some(out.stdout))
    }
}

/// A check: reads what it needs from the session (and may add to it for later checks), adds
/// its lines to the report.
pub type CheckFn = fn(&mut Session, &mut Report);

/// Every check, in order: the release and its assets first (later checks read the assets
/// and digests it found), then signatures, images and package manifests. Another kind of
/// check (GitOps config repositories moved to the pushed digests, for one) is a module of its
/// own here and one more line: it reads the recorded artifacts of its kind
/// ([`Session::recorded_of`]), reads the outside world with the session's clients
/// ([`Session::github_file`], [`Session::git_file`], the images check's registry calls) and
/// adds lines to the report.
pub const CHECKS: &[(&str, CheckFn)] = &[
    ("release", release::check),
    ("signatures", signatures::check),
    ("images", images::check),
    ("manifests", manifests::check),
    ("gitops", gitops::check),
];

/// Run every check of [`CHECKS`] over `session`.
pub fn run(session: &mut Session) -> Report {
    let mut report = Report::default();
    for (name, check) in CHECKS {
        tracing::debug!("verify: {name}");
        check(session, &mut report);
    }
    report
}

/// Point `ctx` at the release of `tag`: its tag and version in the template variables, so
/// every name rendered from the config (repositories, manifest paths, signature names) is the
/// one that release used.
pub fn retarget(ctx: &mut Context, tag: &str, version: &str) {
    ctx.tag = tag.to_string();
    ctx.version = version.to_string();
    ctx.options.snapshot = false;
    let parsed = semver::Version::parse(version).ok();
    let (major, minor, patch, pre) = parsed
        .map(|v| (v.major, v.minor, v.patch, v.pre.to_string()))
        .unwrap_or((0, 0, 0, String::new()));
    let vars = &mut ctx.vars;
    vars.insert("tag".into(), Value::from(tag));
    vars.insert("version".into(), Value::from(version));
    vars.insert("major".into(), Value::from(major));
    vars.insert("minor".into(), Value::from(minor));
    vars.insert("patch".into(), Value::from(patch));
    vars.insert("prerelease".into(), Value::from(pre));
    vars.insert("is_snapshot".into(), Value::from(false));
}

/// The first `n` characters of a digest, for messages.
pub fn short(hex: &str) -> &str {
    let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_fails_only_on_mismatches_and_its_json_is_stable() {
        let mut r = Report::default();
        r.pass("asset", "a.tar.gz", "sha256 matches");
        r.unchecked("signature", "a.sig", "not checked: no key");
        assert!(r.ok());
        r.fail("asset", "b.tar.gz", "missing from the release");
        assert!(!r.ok());
        let head = Head {
            repository: "acme/demo".into(),
            tag: "v1.0.0".into(),
            version: "1.0.0".into(),
            source: Source::Tag,
            release_url: None,
        };
        let j = r.json(&head);
        assert_eq!(j["ok"], false);
        assert_eq!(j["source"], "tag");
        assert_eq!(
            (j["passed"].clone(), j["failed"].clone()),
            (json!(1), json!(1))
        );
        let keys: Vec<&String> = j["checks"][1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["checked", "detail", "name", "ok", "subject"]);
        assert_eq!(j["checks"][1]["checked"], false);
        assert_eq!(j["checks"][2]["ok"], false);
        let text = r.text(&head);
        assert!(
            text.contains("FAIL  asset      b.tar.gz: missing from the release"),
            "{text}"
        );
        assert!(
            text.ends_with("3 checks: 1 ok, 1 failed, 1 not checked\n"),
            "{text}"
        );
    }
}
