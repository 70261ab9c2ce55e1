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
    /// The tag a snapshot builds on: the first of HEAD's tags, else of the nearest tagged
    /// commit below it (git orders), or the highest reachable tag (semver orders).
    pub last_tag: Option<String>,
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

/// How tags are ordered when one must win (the config's `git.tag_sort`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TagOrder {
    /// Highest semver first; a stable release's previous tag passes over prereleases.
    #[default]
    SmartSemver,
    /// Highest semver first; the previous tag is the next lower one.
    Semver,
    /// git's `-version:refname`; the previous tag is on the nearest tagged ancestor.
    Refname,
    /// Most recently created first (ties by `-version:refname`); the previous tag is on
    /// the nearest tagged ancestor.
    CreatorDate,
}

/// Which tags count and which wins among several: the config's `git` section, rendered.
/// Only semver tags ever count (a version is read from the tag).
#[derive(Debug, Clone, Default)]
pub struct TagRules {
    /// The order.
    pub order: TagOrder,
    /// git's `versionsort.suffix`, for the git orders.
    pub prerelease_suffix: Option<String>,
    /// Tags matching one of these globs never count.
    pub ignore: Vec<globset::GlobMatcher>,
    /// Tags starting with one of these never count.
    pub ignore_prefixes: Vec<String>,
}

impl TagRules {
    /// Whether `tag` is left out by `ignore_tags` or `ignore_tag_prefixes`.
    pub fn ignores(&self, tag: &str) -> bool {
        self.ignore.iter().any(|g| g.is_match(tag))
            || self
                .ignore_prefixes
                .iter()
                .any(|p| !p.is_empty() && tag.starts_with(p.as_str()))
    }

    /// The semver tags pointing at `rev` that count, the winner first.
    pub fn tags_at(&self, dir: &Path, rev: &str) -> Result<Vec<String>> {
        let suffix = self
            .prerelease_suffix
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| format!("versionsort.suffix={s}"));
        let mut args: Vec<&str> = vec![];
        if let (Some(s), true) = (&suffix, self.by_describe()) {
            args.extend(["-c", s]);
        }
        args.extend(["tag", "--points-at", rev]);
        // git's last `--sort` is the primary key. Its `version:creatordate` would compare
        // the dates' text (weekday names first), so creation order is sorted as a date.
        match self.order {
            TagOrder::Refname => args.push("--sort=-version:refname"),
            TagOrder::CreatorDate => {
                args.extend(["--sort=-version:refname", "--sort=-creatordate"])
            }
            TagOrder::SmartSemver | TagOrder::Semver => {}
        }
        let kept = git(dir, &args)?
            .lines()
            .filter(|t| !self.ignores(t))
            .map(String::from)
            .collect::<Vec<_>>();
        Ok(if self.by_describe() {
            kept.into_iter()
                .filter(|t| tag_version(t, "").is_some())
                .collect()
        } else {
            sort_tags(kept, "")
        })
    }

    /// The tags that count on the nearest commit at or below `rev` that has one, the winner
    /// first (`git describe`, as GoReleaser finds tags); empty when there is none.
    pub fn nearest(&self, dir: &Path, rev: &str) -> Result<Vec<String>> {
        let mut exclude: Vec<String> = vec![];
        loop {
            let mut args = vec!["describe", "--tags", "--abbrev=0", rev];
            let flags: Vec<String> = exclude.iter().map(|t| format!("--exclude={t}")).collect();
            args.extend(flags.iter().map(String::as_str));
            let found = match git(dir, &args) {
                Ok(t) => t,
                Err(Error::Failed(m))
                    if m.contains("No names found") || m.contains("No tags can describe") =>
                {
                    return Ok(vec![]);
                }
                Err(e) => return Err(e),
            };
            let commit = git(dir, &["rev-parse", &format!("{found}^{{commit}}")])?;
            let tags = self.tags_at(dir, &commit)?;
            if !tags.is_empty() {
                return Ok(tags);
            }
            // Every tag there is ignored or not semver: look further down.
            let there = git(dir, &["tag", "--points-at", &commit])?;
            let before = exclude.len();
            exclude.extend(there.lines().map(String::from));
            if exclude.len() == before {
                return Ok(vec![]);
            }
        }
    }

    /// For the git orders, the previous tag of `tag`: the winner on the nearest tagged
    /// commit below `tag`'s commit.
    pub fn previous_by_describe(&self, dir: &Path, tag: &str) -> Result<Option<String>> {
        let parent = format!("{tag}^{{commit}}^");
        if git(dir, &["rev-parse", "--verify", "-q", &parent]).is_err() {
            return Ok(None);
        }
        Ok(self.nearest(dir, &parent)?.into_iter().next())
    }

    /// Whether git orders the tags and `git describe` finds the previous one (the git
    /// orders), rather than semver.
    pub fn by_describe(&self) -> bool {
        matches!(self.order, TagOrder::Refname | TagOrder::CreatorDate)
    }
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
    /// Read the repository state of `dir`, counting the tags `rules` lets count. A folder
    /// outside git gives `is_repo: false`.
    pub fn read(dir: &Path, rules: &TagRules) -> Result<GitInfo> {
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
        let head_tags = rules.tags_at(dir, "HEAD")?;
        let reachable_tags = sort_tags(
            git(dir, &["tag", "--merged", "HEAD"])?
                .lines()
                .filter(|t| !rules.ignores(t))
                .map(String::from),
            "",
        );
        let last_tag = if rules.by_describe() {
            rules.nearest(dir, "HEAD")?.into_iter().next()
        } else {
            reachable_tags.first().cloned()
        };
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
            last_tag,
            dirty: !dirty_files.is_empty(),
            dirty_files,
            remote_url,
        })
    }

    /// The highest semver tag at HEAD.
    pub fn tag(&self) -> Option<&str> {
        self.head_tags.first().map(String::as_str)
    }

    /// The tag a snapshot builds on.
    pub fn last_tag(&self) -> Option<&str> {
        self.last_tag.as_deref()
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
    fn ignores_tags_by_glob_and_prefix_and_never_by_an_empty_prefix() {
        let rules = TagRules {
            ignore: vec![globset::Glob::new("*-nightly").unwrap().compile_matcher()],
            ignore_prefixes: vec!["legacy/".into(), String::new()],
            ..Default::default()
        };
        assert!(rules.ignores("v1.0.0-nightly"));
        assert!(rules.ignores("legacy/v1.0.0"));
        assert!(!rules.ignores("v1.0.0"));
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
