//! Git state through the `git` command line.
//!
//! Shelling out is fast (a few ms a call), matches exactly what the user's git sees
//! (config, worktrees, safe.directory), and needs no libgit2. Every call goes through
//! [`git`] so a failure always names the command that failed.

use crate::error::{Error, Result};
use semver::Version;
use std::path::Path;
use std::process::Command;

/// Run `git args…` in `dir` and return trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| Error::Failed(format!("cannot run git ({e}); is git installed?")))?;
    if !out.status.success() {
        return Err(Error::Failed(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// What rel needs to know about the repository.
#[derive(Debug, Clone, Default)]
pub struct GitInfo {
    /// Whether the folder is inside a git work tree with at least one commit.
    pub is_repo: bool,
    /// Full commit hash of HEAD.
    pub commit: String,
    /// Abbreviated commit hash.
    pub short_commit: String,
    /// Current branch, or `HEAD` when detached.
    pub branch: String,
    /// Commit time of HEAD, unix seconds.
    pub commit_timestamp: i64,
    /// Semver tags pointing at HEAD, highest first.
    pub head_tags: Vec<String>,
    /// Semver tags reachable from HEAD, highest first.
    pub reachable_tags: Vec<String>,
    /// Uncommitted changes exist.
    pub dirty: bool,
    /// The `git status --porcelain` lines, for the error message.
    pub dirty_files: Vec<String>,
    /// URL of the `origin` remote.
    pub remote_url: Option<String>,
}

/// Parse a tag as semver, allowing a leading `v` and an optional prefix ending in `/`.
pub fn tag_version(tag: &str, prefix: &str) -> Option<Version> {
    let rest = tag.strip_prefix(prefix)?;
    Version::parse(rest.strip_prefix('v').unwrap_or(rest)).ok()
}

/// Sort semver tags, highest first; non-semver tags are dropped.
pub fn sort_tags(tags: impl IntoIterator<Item = String>, prefix: &str) -> Vec<String> {
    let mut v: Vec<(Version, String)> = tags
        .into_iter()
        .filter_map(|t| tag_version(&t, prefix).map(|v| (v, t)))
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(&a.1)));
    v.into_iter().map(|(_, t)| t).collect()
}

impl GitInfo {
    /// Read the repository state of `dir`. A folder outside git gives `is_repo: false`.
    pub fn read(dir: &Path) -> Result<GitInfo> {
        let head = match git(dir, &["log", "-1", "--format=%H%n%h%n%ct"]) {
            Ok(h) => h,
            Err(_) => return Ok(GitInfo::default()),
        };
        let mut lines = head.lines();
        let commit = lines.next().unwrap_or_default().to_string();
        let short_commit = lines.next().unwrap_or_default().to_string();
        let commit_timestamp = lines.next().unwrap_or("0").parse().unwrap_or(0);
        let branch =
            git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_else(|_| "HEAD".into());
        let head_tags = sort_tags(
            git(dir, &["tag", "--points-at", "HEAD"])?
                .lines()
                .map(String::from),
            "",
        );
        let reachable_tags = sort_tags(
            git(dir, &["tag", "--merged", "HEAD"])?
                .lines()
                .map(String::from),
            "",
        );
        let status = git(dir, &["status", "--porcelain"])?;
        let dirty_files: Vec<String> = status.lines().map(String::from).collect();
        let remote_url = git(dir, &["remote", "get-url", "origin"])
            .ok()
            .filter(|s| !s.is_empty());
        Ok(GitInfo {
            is_repo: true,
            commit,
            short_commit,
            branch,
            commit_timestamp,
            head_tags,
            reachable_tags,
            dirty: !dirty_files.is_empty(),
            dirty_files,
            remote_url,
        })
    }

    /// The highest semver tag at HEAD.
    pub fn tag(&self) -> Option<&str> {
        self.head_tags.first().map(String::as_str)
    }

    /// The highest reachable semver tag (a snapshot's base).
    pub fn last_tag(&self) -> Option<&str> {
        self.reachable_tags.first().map(String::as_str)
    }
}

/// The first `n` characters of a hash for messages (by characters: the text may come from a
/// file or a server and need not be ASCII).
pub fn short_hash(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A git remote URL taken apart: the host (no user, no port) and the repository path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// `github.com`.
    pub host: String,
    /// `acme/hello` (no `.git`).
    pub path: String,
}

impl Remote {
    /// Parse `https://user@host/owner/name.git`, `ssh://git@host:22/a/b`, `git://…` or the
    /// scp-like `git@host:owner/name.git`; `None` for a local path. The one remote parser:
    /// release links, image labels and the project name all read remotes through it.
    pub fn parse(url: &str) -> Option<Remote> {
        let r = url.trim().trim_end_matches('/').trim_end_matches(".git");
        let (host, path) = if let Some((_, rest)) = r.split_once("://") {
            let rest = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
            let (host, path) = rest.split_once('/')?;
            (host.split(':').next().unwrap_or(host), path)
        } else if let Some((userhost, path)) = r.split_once(':') {
            (
                userhost.rsplit_once('@').map(|x| x.1).unwrap_or(userhost),
                path,
            )
        } else {
            return None;
        };
        let path = path.trim_matches('/');
        (!host.is_empty() && !path.is_empty() && !host.contains('/')).then(|| Remote {
            host: host.to_string(),
            path: path.to_string(),
        })
    }

    /// The last two path segments: `owner` and `name`.
    pub fn owner_name(&self) -> Option<(String, String)> {
        let mut parts = self.path.rsplitn(3, '/');
        let name = parts.next()?.to_string();
        let owner = parts.next()?.to_string();
        (!owner.is_empty() && !name.is_empty()).then_some((owner, name))
    }

    /// `https://host/path`, the repository's web address.
    pub fn web_url(&self) -> String {
        format!("https://{}/{}", self.host, self.path)
    }
}

/// `owner/name` of a GitHub-style remote URL (https, ssh or scp-like).
pub fn owner_name(url: &str) -> Option<(String, String)> {
    Remote::parse(url)?.owner_name()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_remotes() {
        let want = Some(("acme".to_string(), "hello".to_string()));
        assert_eq!(owner_name("https://github.com/acme/hello.git"), want);
        assert_eq!(owner_name("git@github.com:acme/hello.git"), want);
        assert_eq!(owner_name("ssh://git@github.com/acme/hello"), want);
        assert_eq!(owner_name("/tmp/local"), None);
    }

    #[test]
    fn sorts_tags_by_semver_not_name() {
        let tags = ["v1.10.0", "v1.9.0", "v1.10.0-rc.1", "nightly", "v2.0.0"].map(String::from);
        assert_eq!(
            sort_tags(tags, ""),
            ["v2.0.0", "v1.10.0", "v1.10.0-rc.1", "v1.9.0"]
        );
    }
}
