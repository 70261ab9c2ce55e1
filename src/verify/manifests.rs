//! Package manifests: every Homebrew formula or cask, Scoop and winget manifest and AUR
//! package the release committed is read back from its repository — through GitHub's
//! contents API, or with `git` for git remotes — and must name the release's version, point
//! only at assets the release has, and carry only SHA-256s of those assets.
//!
//! Where each file went is worked out by the tap stage's own rule ([`crate::manifest_files`]:
//! repository, branch, path and token are templates, rendered for the release's tag), so a
//! manifest that a later commit replaced, or that was never committed, is reported by file
//! and repository.

use super::{Report, Session};
use crate::git_remote::{Place, Remote};
use crate::github::Token;
use crate::manifest_files::manifest_files;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Where one manifest file was committed.
#[derive(Debug, Clone)]
enum Location {
    /// A GitHub repository, read through the contents API.
    Api {
        repo: String,
        branch: Option<String>,
        token: String,
        token_key: String,
        /// The pull request's base repository, where the file lands once merged.
        base: Option<String>,
    },
    /// A git remote (AUR, `repository.git`).
    Git {
        url: String,
        private_key: Option<String>,
        ssh_command: Option<String>,
        branch: String,
    },
}

/// One committed manifest file.
#[derive(Debug, Clone)]
struct Target {
    /// The config entry (`brews[0]`).
    key: String,
    location: Location,
    /// Its path in the repository.
    path: String,
    /// The copy rel wrote under `dist/`.
    dist: PathBuf,
}

impl Target {
    fn subject(&self) -> String {
        match &self.location {
            Location::Api { repo, branch, .. } => match branch {
                Some(b) => format!("{} in {repo} ({b})", self.path),
                None => format!("{} in {repo}", self.path),
            },
            Location::Git { url, branch, .. } => {
                format!("{} in {} ({branch})", self.path, crate::redact::redact(url))
            }
        }
    }
}

/// Every committed manifest file, where the tap stage put it ([`manifest_files`]).
fn targets(s: &Session) -> crate::error::Result<Vec<Target>> {
    Ok(manifest_files(s.ctx)?
        .into_iter()
        .map(|f| Target {
            location: match f.place {
                Place::Git {
                    url,
                    private_key,
                    ssh_command,
                } => Location::Git {
                    url,
                    private_key,
                    ssh_command,
                    branch: f.branch.unwrap_or_else(|| "main".into()),
                },
                Place::GitHub {
                    owner,
                    name,
                    token,
                    token_key,
                } => Location::Api {
                    repo: format!("{owner}/{name}"),
                    branch: f.branch,
                    token,
                    token_key,
                    base: f.pull_request.map(|p| p.base_repo),
                },
            },
            key: f.key,
            path: f.path,
            dist: f.dist,
        })
        .collect())
}

/// Check every committed manifest.
pub fn check(s: &mut Session, r: &mut Report) {
    let targets = match targets(s) {
        Ok(t) => t,
        Err(e) => {
            r.fail(
                "manifest",
                &s.head.tag,
                format!("cannot tell where the manifests went: {e}"),
            );
            return;
        }
    };
    for t in targets {
        let subject = t.subject();
        match read(s, &t) {
            Err(e) => r.fail(
                "manifest",
                &subject,
                format!("{}: cannot read it: {e}", t.key),
            ),
            Ok(None) => r.fail(
                "manifest",
                &subject,
                format!("{}: the file is not there", t.key),
            ),
            Ok(Some(bytes)) => {
                let text = String::from_utf8_lossy(&bytes);
                let problems = stale(s, &t.path, &text);
                if problems.is_empty() {
                    let same = std::fs::read(&t.dist).ok().is_some_and(|d| d == bytes);
                    r.pass(
                        "manifest",
                        &subject,
                        format!(
                            "{}: names {} and only assets of {} with their sha256{}",
                            t.key,
                            s.head.version,
                            s.head.tag,
                            if same { " (same as dist/)" } else { "" }
                        ),
                    );
                } else {
                    r.fail(
                        "manifest",
                        &subject,
                        format!("{}: stale: {}", t.key, problems.join("; ")),
                    );
                }
            }
        }
    }
}

/// The committed bytes of `t`, or `None` when the file is not there.
fn read(s: &Session, t: &Target) -> Result<Option<Vec<u8>>, String> {
    match &t.location {
        Location::Api {
            repo,
            branch,
            token,
            token_key,
            base,
        } => {
            let token = Token::given(token)
                .filter(Token::is_sendable)
                .ok_or_else(|| format!("`{token_key}` is empty or not a token"))?;
            let client = s.github_client(token)?;
            let found = s.github_file(&client, repo, &t.path, branch.as_deref())?;
            match (found, base) {
                // Merged and its branch deleted: the file is on the base's default branch.
                (None, Some(base)) => s.github_file(&client, base, &t.path, None),
                (found, _) => Ok(found),
            }
        }
        Location::Git {
            url,
            private_key,
            ssh_command,
            branch,
        } => {
            let remote = Remote::open(
                &s.ctx.root,
                &t.key,
                url,
                private_key.as_deref(),
                ssh_command.as_deref(),
            )
            .map_err(|e| e.to_string())?;
            s.git_file(&remote, branch, &t.path)
        }
    }
}

/// Why a manifest's text is not this release's: the version it names, download URLs of the
/// release repository that name no asset (or another tag), SHA-256s that are no asset's.
fn stale(s: &Session, path: &str, text: &str) -> Vec<String> {
    let mut problems = vec![];
    let want = &s.head.version;
    match version_of(path, text) {
        None => problems.push(format!("names no version (the release is {want})")),
        Some(v) if v != *want && v != want.replace('-', "_") => {
            problems.push(format!("names version {v}, the release is {want}"))
        }
        Some(_) => {}
    }
    let download = format!("/{}/releases/download/", s.head.repository).to_ascii_lowercase();
    let mut bad_urls = BTreeSet::new();
    for url in urls(text) {
        let lower = url.to_ascii_lowercase();
        let Some(at) = lower.find(&download) else {
            continue;
        };
        let rest = &url[at + download.len()..];
        let (tag, name) = rest.split_once('/').unwrap_or((rest, ""));
        let decode = |x: &str| {
            percent_encoding::percent_decode_str(x)
                .decode_utf8_lossy()
                .into_owned()
        };
        let (tag, name) = (decode(tag), decode(name));
        if tag != s.head.tag {
            bad_urls.insert(format!("{url} (tag {tag})"));
        } else if !s.assets.contains_key(&name) {
            bad_urls.insert(format!("{url} (no such asset)"));
        }
    }
    if !bad_urls.is_empty() {
        problems.push(format!(
            "{} download URL(s) name no asset of {}: {}",
            bad_urls.len(),
            s.head.tag,
            bad_urls.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let known: BTreeSet<String> = s.assets.keys().filter_map(|n| s.asset_sha256(n)).collect();
    let unknown: BTreeSet<String> = sha256s(text)
        .into_iter()
        .filter(|h| !known.contains(h))
        .collect();
    if !unknown.is_empty() {
        problems.push(format!(
            "{} sha256(s) are no asset's: {}",
            unknown.len(),
            unknown
                .iter()
                .map(|h| super::short(h).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    problems
}

/// The version a manifest names, read the way its package manager reads it.
fn version_of(path: &str, text: &str) -> Option<String> {
    let unquote = |v: &str| v.trim().trim_matches(['"', '\'']).to_string();
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix).map(unquote))
    };
    let file = path.rsplit('/').next().unwrap_or(path);
    if file.ends_with(".rb") {
        field("version ")
    } else if file.ends_with(".json") {
        serde_json::from_str::<serde_json::Value>(text).ok()?["version"]
            .as_str()
            .map(String::from)
    } else if file == "PKGBUILD" {
        field("pkgver=")
    } else if file == ".SRCINFO" {
        field("pkgver = ")
    } else if file.ends_with(".yaml") || file.ends_with(".yml") {
        field("PackageVersion:")
    } else {
        None
    }
}

/// Every http(s) URL in a text, without template placeholders (`$version`, `#{version}`).
fn urls(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("http") {
        let tail = &rest[i..];
        if tail.starts_with("https://") || tail.starts_with("http://") {
            let end = tail
                .find(|c: char| c.is_whitespace() || "\"'<>()[]{},`".contains(c))
                .unwrap_or(tail.len());
            let url = &tail[..end];
            if !url.contains('$') && !url.contains("#{") {
                out.push(url.to_string());
            }
            rest = &tail[end..];
        } else {
            rest = &tail[4..];
        }
    }
    out
}

/// Every 64-hex-digit word in a text (lower case): the SHA-256s a manifest carries.
fn sha256s(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() == 64 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_urls_and_digests_are_read_as_package_managers_write_them() {
        let formula = "class Tool < Formula\n  version \"1.2.0\"\n  url \"https://github.com/acme/demo/releases/download/v1.2.0/tool_1.2.0_darwin_arm64.tar.gz\"\n  sha256 \"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\"\nend\n";
        assert_eq!(
            version_of("Formula/tool.rb", formula).as_deref(),
            Some("1.2.0")
        );
        assert_eq!(
            urls(formula),
            [
                "https://github.com/acme/demo/releases/download/v1.2.0/tool_1.2.0_darwin_arm64.tar.gz"
            ]
        );
        assert_eq!(
            sha256s(formula).into_iter().collect::<Vec<_>>(),
            ["abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"]
        );
        let scoop = r#"{"version": "1.2.0", "autoupdate": {"url": "https://github.com/acme/demo/releases/download/v$version/t.zip"}}"#;
        assert_eq!(version_of("tool.json", scoop).as_deref(), Some("1.2.0"));
        assert!(urls(scoop).is_empty(), "placeholders are not release URLs");
        assert_eq!(
            version_of(
                "m/a/Acme/Tool/1.2.0/Acme.Tool.yaml",
                "PackageIdentifier: \"Acme.Tool\"\nPackageVersion: \"1.2.0\"\n"
            )
            .as_deref(),
            Some("1.2.0")
        );
        assert_eq!(
            version_of("PKGBUILD", "pkgname=tool-bin\npkgver=1.2.0_rc.1\n").as_deref(),
            Some("1.2.0_rc.1")
        );
        assert_eq!(
            version_of(".SRCINFO", "pkgbase = tool-bin\n\tpkgver = 1.2.0\n").as_deref(),
            Some("1.2.0")
        );
    }
}
