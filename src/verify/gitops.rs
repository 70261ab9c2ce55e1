//! GitOps config repositories: every file the release moved to a digest still holds that
//! reference on its branch. A file someone (or a later release) changed back is a mismatch,
//! named by repository, branch and file.
//!
//! The file is read with the same credentials the run used: the recorded artifact names its
//! config entry (`gitops[0]`), whose repository, token or key are rendered for this tag.

use super::{Report, Session};
use crate::artifact::Kind;
use crate::git_remote::Remote;
use crate::github::Token;

/// What one recorded file should hold, and where it is.
struct Expected {
    entry: usize,
    repository: String,
    branch: String,
    file: String,
    reference: String,
    digest: String,
}

fn expected(s: &Session) -> Vec<Expected> {
    s.recorded_of(Kind::Gitops)
        .into_iter()
        .filter_map(|a| {
            let get = |k: &str| a.extra.get(k).and_then(|v| v.as_str()).map(String::from);
            let entry = get("entry")?
                .strip_prefix("gitops[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            Some(Expected {
                entry,
                repository: get("repository")?,
                branch: get("branch")?,
                file: get("file")?,
                reference: get("reference")?,
                digest: get("digest")?,
            })
        })
        .collect()
}

/// The file as its repository holds it now.
fn read(s: &Session, e: &Expected) -> std::result::Result<Option<Vec<u8>>, String> {
    let Some(g) = s.ctx.config.gitops.get(e.entry) else {
        return Err(format!("the config has no gitops[{}] any more", e.entry));
    };
    let key = format!("gitops[{}]", e.entry);
    let r = &g.repository;
    if let Some(git) = &r.git {
        let url = s
            .render(
                &format!("{key}.repository.git.url"),
                git.url.as_deref().unwrap_or_default(),
                &[],
            )
            .map_err(|err| err.to_string())?;
        let private_key = git
            .private_key
            .as_deref()
            .map(|k| s.render(&format!("{key}.repository.git.private_key"), k, &[]))
            .transpose()
            .map_err(|err| err.to_string())?;
        let remote = Remote::open(
            &s.ctx.root,
            &key,
            &url,
            private_key.as_deref(),
            git.ssh_command.as_deref(),
        )
        .map_err(|err| err.to_string())?;
        return s.git_file(&remote, &e.branch, &e.file);
    }
    let own = r
        .token
        .as_deref()
        .map(|t| {
            let k = format!("{key}.repository.token");
            s.render(&k, t, &[]).map(|v| (v, k))
        })
        .transpose()
        .map_err(|err| err.to_string())?;
    let (token, _) = crate::github::token_for(own, |k| s.ctx.env.get(k).cloned());
    let token =
        Token::given(&token).ok_or_else(|| format!("reading {} needs its token", e.repository))?;
    let client = s.github_client(token)?;
    s.github_file(&client, &e.repository, &e.file, Some(&e.branch))
}

/// Check every recorded GitOps file.
pub fn check(s: &mut Session, report: &mut Report) {
    let list = expected(s);
    if list.is_empty() && !s.ctx.config.gitops.is_empty() && s.recorded.is_none() {
        report.unchecked(
            "gitops",
            "config repositories",
            "the digests written are recorded in dist/artifacts.json only",
        );
    }
    for e in list {
        let subject = format!("{}@{}:{}", e.repository, e.branch, e.file);
        match read(s, &e) {
            Err(why) => report.fail("gitops", &subject, format!("cannot read it: {why}")),
            Ok(None) => report.fail("gitops", &subject, "the file is not there"),
            Ok(Some(bytes)) => {
                let text = String::from_utf8_lossy(&bytes);
                if text.contains(&e.reference) {
                    report.pass("gitops", &subject, format!("holds {}", e.reference));
                } else if text.contains(&e.digest) {
                    report.pass("gitops", &subject, format!("holds {}", e.digest));
                } else {
                    report.fail(
                        "gitops",
                        &subject,
                        format!("does not hold {} any more", e.reference),
                    );
                }
            }
        }
    }
}
