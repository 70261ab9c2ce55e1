//! A config repository on any git remote (`file://`, ssh, https): a clone in a temporary
//! folder, one commit of every edited file, a push of exactly that commit. A push refused
//! because the branch moved is reported as `Ok(None)`; the caller fetches, re-edits on the
//! new head and pushes again.

use super::{Entry, Pr, Repo};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::git_remote::Remote;
use std::path::PathBuf;

/// One clone of the remote.
pub struct Clone {
    remote: Remote,
    _tmp: tempfile::TempDir,
    work: PathBuf,
    branch: String,
}

impl Clone {
    pub fn open(
        ctx: &Context,
        e: &Entry,
        url: &str,
        private_key: Option<&str>,
        ssh_command: Option<&str>,
    ) -> Result<Clone> {
        let remote = Remote::open(&ctx.root, &e.key, url, private_key, ssh_command)?;
        let tmp = tempfile::tempdir().map_err(|e| Error::Failed(e.to_string()))?;
        let work = tmp.path().join("repo");
        let mut args = vec!["clone", "-q", "--no-tags"];
        if let Some(b) = &e.branch {
            args.extend(["--branch", b.as_str()]);
        }
        args.extend([url, "repo"]);
        remote.git(tmp.path(), &args)?;
        let branch = match &e.branch {
            Some(b) => b.clone(),
            None => remote
                .git(&work, &["rev-parse", "--abbrev-ref", "HEAD"])?
                .trim()
                .to_string(),
        };
        Ok(Clone {
            remote,
            _tmp: tmp,
            work,
            branch,
        })
    }
}

/// Whether git's message says the remote branch moved (the push was not a fast-forward, or
/// the ref changed between the remote's advertisement and its update).
fn moved(stderr: &str) -> bool {
    [
        "non-fast-forward",
        "fetch first",
        "[rejected]",
        "cannot lock ref",
        "failed to update ref",
        "stale info",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

impl Repo for Clone {
    fn branch(&self) -> &str {
        &self.branch
    }

    fn refresh(&mut self) -> Result<()> {
        let r = &self.remote;
        r.git(&self.work, &["fetch", "-q", "origin", &self.branch])?;
        r.git(&self.work, &["reset", "-q", "--hard", "FETCH_HEAD"])?;
        Ok(())
    }

    fn read(&mut self, path: &str) -> Result<Option<String>> {
        let file = self.work.join(path);
        match std::fs::read(&file) {
            Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
                Error::Failed(format!(
                    "`{}`: {path} in {} is not UTF-8 text",
                    self.remote.key,
                    crate::redact::redact(&self.remote.url)
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("cannot read", &file, e)),
        }
    }

    fn commit(&mut self, files: &[(String, String)], e: &Entry) -> Result<Option<String>> {
        let r = &self.remote;
        for (path, text) in files {
            let file = self.work.join(path);
            std::fs::write(&file, text).map_err(|err| Error::io("cannot write", &file, err))?;
            r.git(&self.work, &["add", "--", path])?;
        }
        let name = format!("user.name={}", e.author.0);
        let email = format!("user.email={}", e.author.1);
        r.git(
            &self.work,
            &[
                "-c",
                &name,
                "-c",
                &email,
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "-m",
                &e.message,
            ],
        )?;
        let sha = r
            .git(&self.work, &["rev-parse", "HEAD"])?
            .trim()
            .to_string();
        let to = format!("HEAD:refs/heads/{}", self.branch);
        let args = ["push", "-q", "--porcelain", "origin", to.as_str()];
        let out = r.output(&self.work, &args)?;
        if out.status.success() {
            return Ok(Some(sha));
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if moved(&text) {
            return Ok(None);
        }
        Err(r.failure(&args, &out))
    }

    fn can_push(&mut self) -> Result<()> {
        // A dry-run push of the head to the branch asks the remote for receive rights (ssh
        // hosts refuse a read-only key here) without changing anything.
        let to = format!("HEAD:refs/heads/{}", self.branch);
        self.remote
            .git(&self.work, &["push", "-q", "--dry-run", "origin", &to])
            .map(|_| ())
            .map_err(|e| {
                Error::Failed(format!(
                    "{e}\n  `{}` must be able to push to {}",
                    self.remote.key,
                    crate::redact::redact(&self.remote.url)
                ))
            })
    }

    fn pull_request(&mut self, _e: &Entry, _pr: &Pr) -> Result<Option<String>> {
        // `rel check` refuses pull requests on git remotes.
        Ok(None)
    }
}
