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
