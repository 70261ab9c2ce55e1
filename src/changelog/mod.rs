//! Changelogs and next versions from conventional commits.
//!
//! Commits come from one streaming `git log` per request ([`commits::log`]); a whole
//! CHANGELOG.md for every tag is one `git log` too, split into tag ranges here from the
//! parent links rather than by running git once per tag. Merge commits are never listed
//! (every commit they bring in is listed once, on whichever side of the merge it was made).
//! A shallow clone whose history is cut inside a range is an error, never a short changelog.

pub mod commits;
pub mod github;
pub mod render;
pub mod version;

use crate::error::{Error, Result};
use crate::git::{self, tag_version};
use commits::Commit;
use render::{Release, day};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// `owner/name` of the GitHub repository, for compare links.
pub fn github_repo(cfg: &crate::config::Config, remote: Option<&str>) -> Option<(String, String)> {
    if let Some(gh) = &cfg.release.github {
        return Some((gh.owner.clone(), gh.name.clone()));
    }
    let url = remote?;
    url.contains("github.com")
        .then(|| git::owner_name(url))
        .flatten()
}

/// The compare link between two refs.
pub fn compare_url(
    repo: Option<&(String, String)>,
    from: Option<&str>,
    to: &str,
) -> Option<String> {
    let (owner, name) = repo?;
    Some(format!(
        "https://github.com/{owner}/{name}/compare/{}...{to}",
        from?
    ))
}

/// Semver tags carrying `prefix`, reachable from `rev`, highest first.
pub fn reachable_tags(repo: &Path, prefix: &str, rev: &str) -> Result<Vec<String>> {
    Ok(git::sort_tags(
        git::git(repo, &["tag", "--merged", rev])?
            .lines()
            .map(String::from),
        prefix,
    ))
}

/// Every semver tag carrying `prefix`, reachable or not, highest first.
pub fn all_tags(repo: &Path, prefix: &str) -> Result<Vec<String>> {
    Ok(git::sort_tags(
        git::git(repo, &["tag", "-l"])?.lines().map(String::from),
        prefix,
    ))
}

/// Semver tags carrying `prefix` that point at `rev`, highest first.
pub fn tags_at(repo: &Path, prefix: &str, rev: &str) -> Result<Vec<String>> {
    Ok(git::sort_tags(
        git::git(repo, &["tag", "--points-at", rev])?
            .lines()
            .map(String::from),
        prefix,
    ))
}

/// The tag a release's notes start from: the highest tag in `tags` (highest first) below
/// `tag` and on another commit, skipping prereleases when `tag` is a stable release, so that
/// v1.1.0 covers everything since v1.0.0, not just since v1.1.0-rc.2.
pub fn previous_of(
    repo: &Path,
    tags: &[String],
    tag: &str,
    prefix: &str,
) -> Result<Option<String>> {
    let Some(v) = tag_version(tag, prefix) else {
        return Ok(None);
    };
    let commit_of = |t: &str| git::git(repo, &["rev-parse", &format!("{t}^{{commit}}")]);
    let at = commit_of(tag)?;
    let candidates = tags.iter().filter(|t| {
        tag_version(t, prefix).is_some_and(|x| x < v && (x.pre.is_empty() || !v.pre.is_empty()))
    });
    for t in candidates {
        if commit_of(t)? != at {
            return Ok(Some(t.clone()));
        }
    }
    Ok(None)
}

fn shallow_error(from: Option<&str>, at: &str) -> Error {
    let short = git::short_hash(at, 12);
    let target = match from {
        Some(t) => format!("the previous tag {t}"),
        None => "the first commit (no earlier tag is in this clone)".to_string(),
    };
    Error::State(format!(
        "this clone is shallow: its history stops at commit {short} before reaching {target}, so the changelog would be incomplete; \
         fetch the whole history with `git fetch --unshallow` (in GitHub Actions, actions/checkout with `fetch-depth: 0`)"
    ))
}

/// The commits of `from..to` (all of `to`'s history without `from`), newest first, merges
/// included, limited to `path`. Errors when a shallow clone cuts the range.
pub fn range(
    repo: &Path,
    from: Option<&str>,
    to: &str,
    path: Option<&str>,
) -> Result<Vec<Arc<Commit>>> {
    let rev = match from {
        Some(f) => format!("{f}..{to}"),
        None => to.to_string(),
    };
    let list = commits::log(repo, std::slice::from_ref(&rev), path)?;
    let boundary = commits::shallow_boundary(repo)?;
    if !boundary.is_empty() {
        let cut = if path.is_some() {
            git::git(repo, &["rev-list", &rev])?
                .lines()
                .find(|s| boundary.contains(*s))
                .map(String::from)
        } else {
            list.iter()
                .find(|c| boundary.contains(&c.sha))
                .map(|c| c.sha.clone())
        };
        if let Some(at) = cut {
            return Err(shallow_error(from, &at));
        }
    }
    Ok(list)
}

/// The commit time of `rev`.
pub fn commit_time(repo: &Path, rev: &str) -> Result<i64> {
    Ok(git::git(repo, &["log", "-1", "--format=%ct", rev])?
        .trim()
        .parse()
        .unwrap_or(0))
}

/// One release (`from..to`) ready to render.
pub fn release(
    repo: &Path,
    from: Option<&str>,
    to: &str,
    tag: Option<&str>,
    prefix: &str,
    path: Option<&str>,
    gh: Option<&(String, String)>,
) -> Result<Release> {
    let commits = range(repo, from, to, path)?;
    Ok(Release {
        tag: tag.map(String::from),
        version: tag
            .and_then(|t| tag_version(t, prefix))
            .map(|v| v.to_string()),
        previous_tag: from.map(String::from),
        date: day(commit_time(repo, to)?),
        compare_url: compare_url(gh, from, tag.unwrap_or(to)),
        commits,
    })
}

/// The length of git's own abbreviation of hashes in `repo` (it grows with the number of
/// objects), so commits from GitHub get the `short_sha` `git log` would give them.
pub fn abbrev_len(repo: &Path) -> usize {
    git::git(repo, &["rev-parse", "--short", "HEAD"])
        .map(|s| s.trim().len())
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or(7)
}

/// A ref GitHub knows for `to`: the tag, else the commit's full hash (`HEAD` or a local
/// branch name means nothing to GitHub).
fn remote_ref(repo: &Path, to: &str, tag: Option<&str>) -> Result<String> {
    match tag {
        Some(t) => Ok(t.to_string()),
        None => Ok(git::git(repo, &["rev-parse", &format!("{to}^{{commit}}")])?
            .trim()
            .to_string()),
    }
}

/// One release (`from...to`) with its commits from GitHub's compare API, so that each has
/// its author's GitHub login. `from` is needed (GitHub compares two refs); limited to `path`
/// with the local history, which GitHub's compare cannot filter by.
#[allow(clippy::too_many_arguments)]
pub fn release_from_github(
    api: &github::Api,
    repo: &Path,
    from: &str,
    to: &str,
    tag: Option<&str>,
    prefix: &str,
    path: Option<&str>,
    gh: Option<&(String, String)>,
) -> Result<Release> {
    let head = remote_ref(repo, to, tag)?;
    let mut commits = api.compare(from, &head, abbrev_len(repo))?;
    if let Some(p) = path {
        let touching = commits::touching(repo, &[format!("{from}..{to}")], p)?;
        commits.retain(|c| touching.contains(&c.sha));
    }
    Ok(Release {
        tag: tag.map(String::from),
        version: tag
            .and_then(|t| tag_version(t, prefix))
            .map(|v| v.to_string()),
        previous_tag: Some(from.to_string()),
        date: day(commit_time(repo, to)?),
        compare_url: compare_url(gh, Some(from), tag.unwrap_or(to)),
        commits,
    })
}

/// Give the commits of `releases` (read from git) their authors' GitHub logins, one compare
/// per release that has a previous tag (`rel changelog --all`: the ranges stay git's, each
/// commit under the first tag that contains it; GitHub only names the authors).
pub fn attach_logins(
    api: &github::Api,
    repo: &Path,
    to: &str,
    releases: &mut [Release],
) -> Result<()> {
    let short = abbrev_len(repo);
    for r in releases.iter_mut() {
        let Some(from) = r.previous_tag.clone() else {
            continue;
        };
        let head = remote_ref(repo, to, r.tag.as_deref())?;
        let found: HashMap<String, Arc<Commit>> = api
            .compare(&from, &head, short)?
            .into_iter()
            .map(|c| (c.sha.clone(), c))
            .collect();
        for c in r.commits.iter_mut() {
            if let Some(g) = found.get(&c.sha) {
                let mut with = (**c).clone();
                with.author.login.clone_from(&g.author.login);
                with.logins.clone_from(&g.logins);
                *c = Arc::new(with);
            }
        }
    }
    Ok(())
}

/// Position of each commit of a history by its hash. Keyed by the hash's first 64 bits (a
/// hash is already uniform: hashing it again, as a `HashMap<&str, _>` does, cost more than
/// the rest of splitting 20,000 commits into ranges); the full hash is compared on lookup.
#[derive(Default)]
struct History {
    commits: Vec<Arc<Commit>>,
    by_key: HashMap<u64, usize, std::hash::BuildHasherDefault<Prefix>>,
}

/// The hasher of [`History`]'s map's maps: the key is already 64 random bits.
#[derive(Default)]
struct Prefix(u64);

impl std::hash::Hasher for Prefix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn sha_key(sha: &str) -> u64 {
    sha.get(..16)
        .and_then(|p| u64::from_str_radix(p, 16).ok())
        .unwrap_or(0)
}

impl History {
    /// Add the next commit (called while `git log` streams, so the map is built meanwhile).
    fn add(&mut self, c: Commit) {
        self.by_key
            .entry(sha_key(&c.sha))
            .or_insert(self.commits.len());
        self.commits.push(Arc::new(c));
    }

    /// The position of the commit `sha`, if it is in the history.
    fn position(&self, sha: &str) -> Option<usize> {
        match self.by_key.get(&sha_key(sha)) {
            Some(&i) if self.commits[i].sha == sha => Some(i),
            Some(_) => self.commits.iter().position(|c| c.sha == sha),
            None => None,
        }
    }
}

/// Every tag range reachable from `to`, newest first (tags ordered by semver), with the
/// commits after the newest tag first when `unreleased`. One `git log` for all of them.
pub fn all_releases(
    repo: &Path,
    to: &str,
    prefix: &str,
    path: Option<&str>,
    unreleased: bool,
    gh: Option<&(String, String)>,
) -> Result<Vec<Release>> {
    // The tags and the shallow boundary are read while `git log` runs.
    let (refs, boundary, history) = std::thread::scope(|scope| {
        let refs = scope.spawn(|| {
            git::git(
                repo,
                &[
                    "for-each-ref",
                    "--format=%(refname:strip=2)\x1f%(objectname)\x1f%(*objectname)",
                    "refs/tags",
                ],
            )
        });
        let boundary = scope.spawn(|| commits::shallow_boundary(repo));
        let mut history = History::default();
        let read = commits::log_each(repo, &[to.to_string()], None, &mut |c| history.add(c));
        let history = read.map(|()| history);
        (
            refs.join().expect("for-each-ref"),
            boundary.join().expect("shallow boundary"),
            history,
        )
    });
    let (history, refs, boundary) = (history?, refs?, boundary?);
    let index = history;
    // Parent positions, flat: those of commit `i` are `links[starts[i]..starts[i + 1]]`.
    let mut starts = Vec::with_capacity(index.commits.len() + 1);
    let mut links = Vec::with_capacity(index.commits.len() + index.commits.len() / 8);
    for c in &index.commits {
        starts.push(links.len());
        links.extend(c.parents.iter().filter_map(|p| index.position(p)));
    }
    starts.push(links.len());
    let parents = |i: usize| &links[starts[i]..starts[i + 1]];
    let history = &index.commits;
    let touching = path
        .map(|p| commits::touching(repo, &[to.to_string()], p))
        .transpose()?;
    // Every tag range down to the first commit needs the whole history.
    if let Some(cut) = history.iter().find(|c| boundary.contains(&c.sha)) {
        return Err(shallow_error(None, &cut.sha));
    }

    // Tag → commit, peeled; only semver tags with the prefix whose commit is in this history.
    let mut tags: Vec<(semver::Version, String, usize)> = refs
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\x1f');
            let (name, obj, peeled) = (f.next()?, f.next()?, f.next().unwrap_or(""));
            let sha = if peeled.is_empty() { obj } else { peeled };
            Some((
                tag_version(name, prefix)?,
                name.to_string(),
                index.position(sha)?,
            ))
        })
        .collect();
    tags.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));

    let mut ends: Vec<(Option<String>, usize)> =
        tags.iter().map(|(_, n, i)| (Some(n.clone()), *i)).collect();
    if unreleased && !history.is_empty() {
        ends.push((None, 0));
    }
    let mut out = Vec::with_capacity(ends.len());
    let mut prev: Option<String> = None;
    // Each commit belongs to the first tag (in semver order) that contains it, as git-cliff
    // does: with release branches merged back, the previous tag alone does not contain
    // everything earlier tags released. A claimed commit's ancestors are claimed too (an
    // earlier tag contains them), so each walk stops there: the whole split is one pass over
    // the history, not one per tag.
    let mut claimed = vec![false; history.len()];
    let mut stack = vec![];
    for (tag, at) in ends {
        let mut picked: Vec<usize> = vec![];
        let mut seen = std::mem::take(&mut claimed);
        stack.push(at);
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut seen[i], true) {
                picked.push(i);
                stack.extend(parents(i).iter().copied().filter(|&p| !seen[p]));
            }
        }
        // History order (newest first), as `git log` gave it.
        picked.sort_unstable();
        claimed = seen;
        let from = prev.clone();
        let commits: Vec<Arc<Commit>> = picked
            .into_iter()
            .filter(|&i| {
                touching
                    .as_ref()
                    .is_none_or(|t: &HashSet<String>| t.contains(&history[i].sha))
            })
            .map(|i| history[i].clone())
            .collect();
        let to_name = tag.clone().unwrap_or_else(|| "HEAD".into());
        out.push(Release {
            version: tag
                .as_deref()
                .and_then(|t| tag_version(t, prefix))
                .map(|v| v.to_string()),
            compare_url: compare_url(gh, from.as_deref(), &to_name),
            previous_tag: from,
            date: day(history[at].timestamp),
            commits,
            tag: tag.clone(),
        });
        if let Some(t) = tag {
            prev = Some(t);
        }
    }
    // An unreleased section with nothing in it is left out.
    if out
        .last()
        .is_some_and(|r| r.tag.is_none() && r.commits.iter().all(|c| c.is_merge()))
    {
        out.pop();
    }
    out.reverse();
    Ok(out)
}
