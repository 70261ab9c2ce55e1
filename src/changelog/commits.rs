//! Reading commits: one streaming `git log` call, parsed as conventional commits.
//!
//! `git log` is asked for every commit (merges included, with their parents) in one process,
//! records separated by NUL (`-z`) and fields by the ASCII unit separator, and the output is
//! parsed while git is still writing it, so memory holds only the parsed commits. Merges are
//! read (the parent links are needed to split history into tag ranges and to detect a cut
//! shallow history) but never listed: a merge only repeats the commits it brings in.

use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

/// The `git log --format` of one record; the benchmark compares against this very format.
pub const FORMAT: &str = "%H%x1f%h%x1f%P%x1f%an%x1f%ae%x1f%ct%x1f%B";

/// One footer (`Token: value` or `Token #value`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Footer {
    /// The token (`BREAKING CHANGE`, `Reviewed-by`, `Refs`).
    pub token: String,
    /// The value.
    pub value: String,
}

/// The author of a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// The GitHub account, when the commits came from GitHub (`changelog.use: github`): git
    /// itself knows only a name and an email.
    pub login: Option<String>,
}

/// One commit as the changelog sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    /// Full hash.
    pub sha: String,
    /// Abbreviated hash (git's own abbreviation for this repository).
    pub short_sha: String,
    /// Parent hashes.
    #[serde(skip)]
    pub parents: Vec<String>,
    /// Author.
    pub author: Author,
    /// Commit time, unix seconds.
    pub timestamp: i64,
    /// The first line of the message.
    pub subject: String,
    /// The whole message, trimmed.
    pub message: String,
    /// Whether the message is a conventional commit.
    pub conventional: bool,
    /// Conventional type (`feat`, `fix`, …), lower-cased; `None` for other commits.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Conventional scope.
    pub scope: Option<String>,
    /// `!` after the type/scope, or a `BREAKING CHANGE:` footer.
    pub breaking: bool,
    /// What breaks: the footer's text, else the description.
    pub breaking_description: Option<String>,
    /// The description after `type(scope):`, or the subject for other commits.
    pub description: String,
    /// The body between the subject and the footers.
    pub body: Option<String>,
    /// Footers.
    pub footers: Vec<Footer>,
    /// The commit this one reverts (from git's "This reverts commit X." line).
    pub reverts: Option<String>,
    /// `@login` of the author and of each `Co-authored-by:` co-author GitHub knows, once
    /// each (GoReleaser's `.Logins`); empty for commits read from git.
    pub logins: Vec<String>,
}

impl Commit {
    /// Whether this is a merge commit.
    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }

    /// Parse one `FORMAT` record.
    pub fn from_record(record: &str) -> Option<Commit> {
        let mut f = record.splitn(7, '\x1f');
        let sha = f.next()?.trim_start_matches('\n').to_string();
        let short_sha = f.next()?.to_string();
        let parents = f.next()?.split_whitespace().map(String::from).collect();
        let name = f.next()?.to_string();
        let email = f.next()?.to_string();
        let timestamp = f.next()?.parse().unwrap_or(0);
        let message = f.next()?;
        Some(Commit::new(
            sha,
            short_sha,
            parents,
            Author {
                name,
                email,
                login: None,
            },
            timestamp,
            message,
        ))
    }

    /// A commit from its parts, its message parsed (what `git log` and GitHub's API both
    /// give).
    pub fn new(
        sha: String,
        short_sha: String,
        parents: Vec<String>,
        author: Author,
        timestamp: i64,
        message: &str,
    ) -> Commit {
        let message = message.trim().to_string();
        let mut c = Commit {
            sha,
            short_sha,
            parents,
            author,
            timestamp,
            subject: message
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
            message: String::new(),
            conventional: false,
            kind: None,
            scope: None,
            breaking: false,
            breaking_description: None,
            description: String::new(),
            body: None,
            footers: vec![],
            reverts: reverted_sha(&message),
            logins: vec![],
        };
        c.description = c.subject.clone();
        c.parse_conventional(&message);
        c.message = message;
        c
    }

    /// Fill the conventional fields. A message whose body does not follow the footer rules
    /// still gets its type, scope and `!` from the subject line alone.
    fn parse_conventional(&mut self, message: &str) {
        let parsed = git_conventional::Commit::parse(message)
            .or_else(|_| git_conventional::Commit::parse(&self.subject));
        let Ok(p) = parsed else { return };
        self.conventional = true;
        self.kind = Some(p.type_().as_str().to_ascii_lowercase());
        self.scope = p.scope().map(|s| s.as_str().to_string());
        self.breaking = p.breaking();
        // A trailer's value ends at a blank line (git's trailer rules): what follows a
        // multi-paragraph `BREAKING CHANGE:` (a squash merge's other bullets) is not part of it.
        self.breaking_description = p.breaking_description().map(first_paragraph);
        self.description = p.description().to_string();
        self.body = p.body().map(str::to_string);
        self.footers = p
            .footers()
            .iter()
            .map(|f| Footer {
                token: f.token().as_str().to_string(),
                value: first_paragraph(f.value()),
            })
            .collect();
    }
}

/// The text up to the first blank line, trimmed.
fn first_paragraph(text: &str) -> String {
    let t = text.trim().replace("\r\n", "\n");
    match t.find("\n\n") {
        Some(i) => t[..i].trim_end().to_string(),
        None => t,
    }
}

/// The hash in git's "This reverts commit <sha>." line — only when the commit is a revert:
/// its subject is git's `Revert "…"` (or `Reapply "…"`) or a conventional `revert:` (any
/// scope, `!`). A squash
/// merge whose body quotes a revert among its squashed commits reverts nothing itself.
fn reverted_sha(message: &str) -> Option<String> {
    let subject = message.lines().next().unwrap_or_default().trim();
    let lower = subject.to_ascii_lowercase();
    let conventional_revert = lower.strip_prefix("revert").is_some_and(|rest| {
        let rest = match rest.strip_prefix('(') {
            Some(r) => r.split_once(')').map(|x| x.1).unwrap_or(""),
            None => rest,
        };
        rest.trim_start_matches('!').starts_with(':')
    });
    // git 2.43+ writes `Reapply "…"` when a revert is reverted.
    if !subject.starts_with("Revert \"")
        && !subject.starts_with("Reapply \"")
        && !conventional_revert
    {
        return None;
    }
    message.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("This reverts commit ")?;
        let sha: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        (sha.len() >= 7).then_some(sha)
    })
}

/// How much of `git log`'s output is read at once.
const BATCH: usize = 256 * 1024;

/// Reads `git log`'s pipe in large batches. git writes one record at a time; a reader that
/// takes each as it comes wakes up (and wakes git) for every few hundred bytes, and the
/// context switches cost more than the parsing. Here the pipe is enlarged, and a short read
/// is followed by a pause of a millisecond while git fills the pipe, so each read returns
/// many records and git rarely waits.
struct Batched {
    inner: std::process::ChildStdout,
}

impl Batched {
    fn new(inner: std::process::ChildStdout) -> Self {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // Best effort: the system's limit (1 MiB by default) may refuse it.
            // SAFETY: fcntl on a pipe descriptor this process owns.
            unsafe {
                libc::fcntl(inner.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
            }
        }
        Batched { inner }
    }
}

impl std::io::Read for Batched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 && n < buf.len() / 4 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        Ok(n)
    }
}

/// Run `git log` over `revs` (e.g. `["v1.0.0..v1.1.0"]`), optionally limited to `path`, and
/// return every commit newest first, merges included. Records are parsed as they arrive.
/// Commits are shared (`Arc`): ranges and templates hold them without copying.
pub fn log(repo: &Path, revs: &[String], path: Option<&str>) -> Result<Vec<Arc<Commit>>> {
    let mut commits = Vec::new();
    log_each(repo, revs, path, &mut |c| commits.push(Arc::new(c)))?;
    Ok(commits)
}

/// [`log`], handing each commit to `each` as it is parsed (while git is still writing).
pub fn log_each(
    repo: &Path,
    revs: &[String],
    path: Option<&str>,
    each: &mut dyn FnMut(Commit),
) -> Result<()> {
    let mut cmd = Command::new("git");
    cmd.current_dir(repo)
        .env("GIT_TERMINAL_PROMPT", "0")
        .args([
            "-c",
            "log.showSignature=false",
            "log",
            "-z",
            "--no-color",
            "--encoding=UTF-8",
        ])
        .arg(format!("--format={FORMAT}"))
        .args(revs)
        .arg("--");
    if let Some(p) = path {
        cmd.arg(p);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Failed(format!("cannot run git ({e}); is git installed?")))?;
    let stdout = child.stdout.take().expect("piped stdout");
    // stderr is drained on a thread so a chatty git cannot block on a full pipe.
    let mut stderr = child.stderr.take().expect("piped stderr");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut reader = BufReader::with_capacity(BATCH, Batched::new(stdout));
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        let n = reader
            .read_until(0, &mut buf)
            .map_err(|e| Error::Failed(format!("reading `git log`: {e}")))?;
        if n == 0 {
            break;
        }
        if buf.last() == Some(&0) {
            buf.pop();
        }
        let text = String::from_utf8_lossy(&buf);
        if text.trim().is_empty() {
            continue;
        }
        if let Some(c) = Commit::from_record(&text) {
            each(c);
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::Failed(format!("waiting for git: {e}")))?;
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(Error::Failed(format!(
            "`git log {}` failed: {}",
            revs.join(" "),
            err.trim()
        )));
    }
    Ok(())
}

/// The full hashes of the commits that touch `path`, among `revs`.
pub fn touching(repo: &Path, revs: &[String], path: &str) -> Result<HashSet<String>> {
    let mut args: Vec<&str> = vec!["log", "--format=%H"];
    args.extend(revs.iter().map(String::as_str));
    args.extend(["--", path]);
    Ok(crate::git::git(repo, &args)?
        .lines()
        .map(String::from)
        .collect())
}

/// The commits where a shallow clone's history is cut (empty for a full clone).
pub fn shallow_boundary(repo: &Path) -> Result<HashSet<String>> {
    let file = crate::git::git(repo, &["rev-parse", "--git-path", "shallow"])?;
    let p = repo.join(file);
    Ok(std::fs::read_to_string(p)
        .map(|s| {
            s.lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        })
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(msg: &str) -> Commit {
        Commit::from_record(&format!(
            "aaaaaaaa\x1faaaa\x1fbbbb\x1fAnn\x1fann@example.com\x1f100\x1f{msg}\n"
        ))
        .unwrap()
    }

    #[test]
    fn parses_conventional_fields() {
        let c = rec("feat(api)!: drop v1\n\nLonger text.\n\nRefs: #12\n");
        assert!(c.conventional);
        assert_eq!(c.kind.as_deref(), Some("feat"));
        assert_eq!(c.scope.as_deref(), Some("api"));
        assert!(c.breaking);
        assert_eq!(c.breaking_description.as_deref(), Some("drop v1"));
        assert_eq!(c.description, "drop v1");
        assert_eq!(c.body.as_deref(), Some("Longer text."));
        assert_eq!(
            c.footers,
            vec![Footer {
                token: "Refs".into(),
                value: "#12".into()
            }]
        );
        assert_eq!(c.author.name, "Ann");
        assert_eq!(c.timestamp, 100);
    }

    #[test]
    fn breaking_footer_and_plain_commits() {
        let c = rec("fix: keep config\n\nBREAKING CHANGE: the old key is gone");
        assert!(c.breaking);
        assert_eq!(
            c.breaking_description.as_deref(),
            Some("the old key is gone")
        );
        let o = rec("Update README");
        assert!(!o.conventional);
        assert_eq!(o.kind, None);
        assert_eq!(o.description, "Update README");
    }

    #[test]
    fn a_breaking_footer_ends_at_a_blank_line() {
        let c = Commit::from_record(
            "0123456789abcdef0123456789abcdef01234567\x1f0123456\x1f\x1fA\x1fa@b\x1f1700000000\x1ffeat: squash (#7)\n\n* feat: a\n\nBREAKING CHANGE: the config moved\nto a new file\n\n* fix: b\n\n* fix: c\n",
        );
        let c = c.expect("parses");
        assert!(c.breaking);
        assert_eq!(
            c.breaking_description.as_deref(),
            Some("the config moved\nto a new file")
        );
    }

    #[test]
    fn only_a_revert_subject_makes_a_revert() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let squash = format!(
            "feat(ui): new settings page (#3030)\n\n* feat: page\n\n* Revert \"feat: x\"\n\nThis reverts commit {sha}.\n"
        );
        assert_eq!(reverted_sha(&squash), None);
        for subject in [
            "revert: feat x",
            "revert(ui)!: x",
            "Revert \"feat: x\"",
            "Reapply \"feat: x\"",
        ] {
            assert_eq!(
                reverted_sha(&format!("{subject}\n\nThis reverts commit {sha}.")).as_deref(),
                Some(sha),
                "{subject}"
            );
        }
        assert_eq!(
            reverted_sha(&format!("reverting: x\n\nThis reverts commit {sha}.")),
            None
        );
    }

    #[test]
    fn finds_reverted_commit() {
        let c = rec(
            "Revert \"feat: x\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.",
        );
        assert_eq!(
            c.reverts.as_deref(),
            Some("0123456789abcdef0123456789abcdef01234567")
        );
        assert!(!c.conventional);
    }
}
