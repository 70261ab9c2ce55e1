//! A git remote that rel writes to (AUR packages, manifests on a `git:` repository, GitOps
//! config repositories): `git` run with the remote's own SSH key, which goes through
//! `GIT_SSH_COMMAND` from a private temporary file and never onto a command line or into
//! output.

use crate::error::{Error, Result};
use std::path::Path;
use std::process::{Command, Output};

/// One remote and the credentials to reach it.
pub struct Remote {
    /// The config key it comes from (`aurs[0]`), for messages.
    pub key: String,
    /// The remote URL (`file://`, `ssh://`, `git@host:path`, `https://`).
    pub url: String,
    keyfile: Option<tempfile::NamedTempFile>,
    ssh_command: Option<String>,
}

impl Remote {
    /// The remote at `url`; `private_key` is the key's text or a file of the project at `root`.
    pub fn open(
        root: &Path,
        key: &str,
        url: &str,
        private_key: Option<&str>,
        ssh_command: Option<&str>,
    ) -> Result<Remote> {
        let keyfile = match private_key.filter(|k| !k.trim().is_empty()) {
            None => None,
            Some(k) => {
                let text = if k.trim_start().starts_with("-----BEGIN") {
                    k.to_string()
                } else {
                    std::fs::read_to_string(root.join(k.trim())).map_err(|e| {
                        Error::Failed(format!(
                            "`{key}` private_key: cannot read {}: {}",
                            k.trim(),
                            e.kind()
                        ))
                    })?
                };
                let f = tempfile::NamedTempFile::new().map_err(|e| Error::Failed(e.to_string()))?;
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| Error::Failed(e.to_string()))?;
                std::fs::write(f.path(), format!("{}\n", text.trim()))
                    .map_err(|e| Error::Failed(e.to_string()))?;
                Some(f)
            }
        };
        Ok(Remote {
            key: key.to_string(),
            url: url.to_string(),
            keyfile,
            ssh_command: ssh_command.map(String::from),
        })
    }

    /// `git args` in `dir` with this remote's credentials; the raw output, whatever the exit.
    pub fn output(&self, dir: &Path, args: &[&str]) -> Result<Output> {
        let mut c = Command::new("git");
        c.args(args)
            .current_dir(dir)
            .env("GIT_TERMINAL_PROMPT", "0");
        if let Some(k) = &self.keyfile {
            let path = k.path().display().to_string();
            let command = match &self.ssh_command {
                Some(c) => c
                    .replace("{{ key_path }}", &path)
                    .replace("{{key_path}}", &path),
                None => format!(
                    "ssh -i {path} -o StrictHostKeyChecking=accept-new -o BatchMode=yes -F /dev/null"
                ),
            };
            c.env("GIT_SSH_COMMAND", command);
        } else if let Some(command) = &self.ssh_command {
            c.env("GIT_SSH_COMMAND", command);
        }
        c.output()
            .map_err(|e| Error::Failed(format!("{}: cannot run git: {e}", self.key)))
    }

    /// `git args` in `dir`; its standard output, or an error naming the remote and git's own
    /// (redacted) message.
    pub fn git(&self, dir: &Path, args: &[&str]) -> Result<String> {
        let out = self.output(dir, args)?;
        if !out.status.success() {
            return Err(self.failure(args, &out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The error of a failed `git args`.
    pub fn failure(&self, args: &[&str], out: &Output) -> Error {
        Error::Failed(format!(
            "`{}`: git {} failed for {}: {}",
            self.key,
            args.first().copied().unwrap_or_default(),
            crate::redact::redact(&self.url),
            crate::redact::redact(String::from_utf8_lossy(&out.stderr).trim())
        ))
    }
}

/// Where a `repository:` block (taps, manifests, GitOps) points, its templates rendered: one
/// rule for the stages that write there and for `rel verify`, which reads back.
#[derive(Debug, Clone)]
pub enum Place {
    /// A GitHub repository, reached through its API.
    GitHub {
        owner: String,
        name: String,
        token: String,
        /// Where the token came from (`brews[0].repository.token`, `GITHUB_TOKEN`).
        token_key: String,
    },
    /// Any git remote, reached by clone and push.
    Git {
        url: String,
        private_key: Option<String>,
        ssh_command: Option<String>,
    },
}

impl Place {
    /// The place of `repo`, the block at `key` (`brews[0]`).
    pub fn of(
        ctx: &crate::context::Context,
        key: &str,
        repo: &crate::config::ManifestRepository,
    ) -> Result<Place> {
        if let Some(g) = &repo.git {
            let url = g
                .url
                .as_deref()
                .ok_or_else(|| Error::Config(format!("`{key}.repository.git` needs a `url`")))?;
            return Ok(Place::Git {
                url: ctx.render(&format!("{key}.repository.git.url"), url)?,
                private_key: g
                    .private_key
                    .as_deref()
                    .map(|k| ctx.render(&format!("{key}.repository.git.private_key"), k))
                    .transpose()?
                    .filter(|k| !k.trim().is_empty()),
                ssh_command: g.ssh_command.clone(),
            });
        }
        let owner = ctx.render(
            &format!("{key}.repository.owner"),
            repo.owner.as_deref().unwrap_or_default(),
        )?;
        let name = ctx.render(
            &format!("{key}.repository.name"),
            repo.name.as_deref().unwrap_or_default(),
        )?;
        if owner.trim().is_empty() || name.trim().is_empty() {
            return Err(Error::Config(format!(
                "`{key}.repository` needs `owner` and `name`"
            )));
        }
        let own = repo
            .token
            .as_deref()
            .map(|t| {
                let k = format!("{key}.repository.token");
                Ok::<_, Error>((ctx.render(&k, t)?, k))
            })
            .transpose()?;
        let (token, token_key) = crate::github::token_for(own, |k| ctx.env.get(k).cloned());
        Ok(Place::GitHub {
            owner,
            name,
            token,
            token_key,
        })
    }
}

/// The `owner/name` a pull request of `repo` (at `key`, itself `owner/name`) goes to: its
/// `pull_request.base`, each part defaulting to the repository's own.
pub fn pull_request_base(
    ctx: &crate::context::Context,
    key: &str,
    base: Option<&crate::config::PullRequestBase>,
    owner: &str,
    name: &str,
) -> Result<String> {
    let render = |part: &str, v: &Option<String>, default: &str| match v {
        Some(t) => ctx.render(&format!("{key}.repository.pull_request.base.{part}"), t),
        None => Ok(default.to_string()),
    };
    let (o, n) = match base {
        Some(b) => (
            render("owner", &b.owner, owner)?,
            render("name", &b.name, name)?,
        ),
        None => (owner.to_string(), name.to_string()),
    };
    Ok(format!("{o}/{n}"))
}
