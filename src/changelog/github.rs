//! Commits and release notes from GitHub (`changelog.use: github` and `github-native`).
//!
//! git knows an author's name and email; GitHub knows the account behind them. The compare
//! API (`GET /repos/{owner}/{repo}/compare/{base}...{head}`, paginated) lists the same
//! commits as `git log base..head` with each author's login, so notes can credit `@login`
//! as GoReleaser's do. `releases/generate-notes` is GitHub's own writing of the notes (pull
//! requests, new contributors), used as they come. Both go through the one GitHub client
//! ([`crate::github::Client`]): the token lives only inside it and every error is redacted.

use super::commits::{Author, Commit};
use crate::error::{Error, Result};
use crate::github::{Client, Response, Token, Urls};
use crate::retry::{self, Policy};
use http::Method;
use serde_json::{Value, json};
use std::sync::Arc;

/// Pages of a compare answer rel follows at most (100 commits each): a range larger than
/// this is not a release.
const MAX_PAGES: usize = 1000;

/// GitHub's API for one repository and the runtime its calls run on.
pub struct Api {
    client: Client,
    rt: tokio::runtime::Runtime,
    repo: String,
}

/// The token from `env` (`GITHUB_TOKEN`, else `GH_TOKEN`): `None` when unset, an error (exit
/// 2) when it cannot be sent in a header.
pub fn token(env: impl Fn(&str) -> Option<String>) -> Result<Option<Token>> {
    match Token::from_env(env) {
        Some(t) if !t.is_sendable() => Err(Error::Usage(
            "GITHUB_TOKEN (or GH_TOKEN) holds a character a token cannot have (a control character, space or non-ASCII letter, often from pasting): set it again".into(),
        )),
        t => Ok(t),
    }
}

impl Api {
    /// A client for `repo` (`owner/name`) at `urls`.
    pub fn new(token: Token, urls: Urls, repo: String) -> Result<Api> {
        // One request at a time: a current-thread runtime is all it takes.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
        // The HTTP client spawns its connection workers inside the runtime.
        let client = {
            let _guard = rt.enter();
            Client::new(token, urls).map_err(Error::Failed)?
        };
        Ok(Api { client, rt, repo })
    }

    /// `owner/name`.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// One JSON call under the retry policy of every GitHub call.
    fn call(
        &self,
        what: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Response> {
        self.rt
            .block_on(retry::run(Policy::default(), None, what, || {
                self.client.json(method.clone(), url, body)
            }))
            .map_err(|f| Error::Failed(self.client.redact(&format!("{what}: {}", f.message()))))
    }

    /// The commits of `base...head` (both refs GitHub knows: tags or commit hashes), newest
    /// first like `git log`, merges included; `short_len` is the length of `short_sha`.
    pub fn compare(&self, base: &str, head: &str, short_len: usize) -> Result<Vec<Arc<Commit>>> {
        let what = format!("changelog.use: github: comparing {base}...{head}");
        let mut url = self.client.api(&format!(
            "/repos/{}/compare/{base}...{head}?per_page=100",
            self.repo
        ));
        let mut out = Vec::new();
        for _ in 0..MAX_PAGES {
            let r = self.call(&what, Method::GET, &url, None).map_err(|e| match e {
                Error::Failed(m) if m.contains(": 404 ") => Error::Failed(format!(
                    "{m}; GitHub must know both ends of the range: push the tags (and commits) first"
                )),
                e => e,
            })?;
            let v = r
                .json()
                .map_err(|f| Error::Failed(format!("{what}: {}", f.message())))?;
            for c in v["commits"].as_array().into_iter().flatten() {
                out.push(Arc::new(commit_of(c, short_len).ok_or_else(|| {
                    Error::Failed(format!("{what}: GitHub sent a commit without a hash"))
                })?));
            }
            match next_page(&r, &self.client.urls.api) {
                Some(next) => url = next?,
                None => break,
            }
        }
        // GitHub lists the oldest first; rel's ranges are newest first, as `git log` gives them.
        out.reverse();
        Ok(out)
    }

    /// GitHub's notes for `tag` since `previous` (GitHub picks the previous release when
    /// `None`): the body, as GitHub wrote it.
    pub fn generate_notes(&self, tag: &str, previous: Option<&str>) -> Result<String> {
        let what = format!("changelog.use: github-native: generating the notes of {tag}");
        let mut body = json!({ "tag_name": tag });
        if let Some(p) = previous {
            body["previous_tag_name"] = json!(p);
        }
        let url = self
            .client
            .api(&format!("/repos/{}/releases/generate-notes", self.repo));
        let r = self.call(&what, Method::POST, &url, Some(&body))?;
        let v = r
            .json()
            .map_err(|f| Error::Failed(format!("{what}: {}", f.message())))?;
        v["body"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| Error::Failed(format!("{what}: GitHub's answer has no `body`")))
    }
}

/// The `rel="next"` URL of a `Link` header. A next page on another host than the API's is
/// an error: the token must not follow it there.
fn next_page(r: &Response, api: &str) -> Option<Result<String>> {
    let link = r.headers.get("link")?.to_str().ok()?;
    let next = link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"")
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>'))
    })?;
    Some(if next.starts_with(&format!("{api}/")) {
        Ok(next.to_string())
    } else {
        Err(Error::Failed(format!(
            "GitHub's next page of commits is at {next}, outside the API at {api}"
        )))
    })
}

/// A commit of a compare answer.
fn commit_of(c: &Value, short_len: usize) -> Option<Commit> {
    let sha = c["sha"].as_str()?.to_string();
    let git = &c["commit"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let login = c["author"]["login"]
        .as_str()
        .filter(|l| !l.is_empty())
        .map(String::from);
    // git's commit time (`%ct`) is the committer's.
    let timestamp = git["committer"]["date"]
        .as_str()
        .or(git["author"]["date"].as_str())
        .and_then(|d| d.parse::<jiff::Timestamp>().ok())
        .map_or(0, |t| t.as_second());
    let parents = c["parents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["sha"].as_str().map(String::from))
        .collect();
    let message = git["message"].as_str().unwrap_or_default();
    let short_sha = sha.chars().take(short_len).collect();
    let mut commit = Commit::new(
        sha,
        short_sha,
        parents,
        Author {
            name: text(&git["author"]["name"]),
            email: text(&git["author"]["email"]),
            login: login.clone(),
        },
        timestamp,
        message,
    );
    commit.logins = logins(login.as_deref(), message);
    Some(commit)
}

/// `@login` of the author, then of each `Co-authored-by:` co-author whose email is GitHub's
/// no-reply address (`ID+login@users.noreply.github.com`, the only place a trailer names an
/// account), once each.
pub fn logins(author: Option<&str>, message: &str) -> Vec<String> {
    let co_authors = message.lines().filter_map(|l| {
        let l = l.trim();
        let (key, rest) = l.split_once(':')?;
        if !key.trim().eq_ignore_ascii_case("co-authored-by") {
            return None;
        }
        let email = rest.split_once('<')?.1.split_once('>')?.0.trim();
        let local = email.strip_suffix("@users.noreply.github.com")?;
        let login = local.split_once('+').map_or(local, |(_, l)| l);
        (!login.is_empty()).then_some(login)
    });
    let mut out: Vec<String> = Vec::new();
    for l in author.into_iter().chain(co_authors) {
        let at = format!("@{l}");
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&at)) {
            out.push(at);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_of_author_and_noreply_co_authors() {
        let msg = "feat: x\n\nCo-authored-by: Ann <123+ann@users.noreply.github.com>\nco-authored-by: Bob <bob@example.com>\nCo-Authored-By: Cy <cy@users.noreply.github.com>\nCo-authored-by: Dee <9+dee@users.noreply.github.com>";
        assert_eq!(
            logins(Some("dee"), msg),
            ["@dee", "@ann", "@cy"],
            "the author first, co-authors once, plain emails have no login"
        );
        assert!(logins(None, "fix: y").is_empty());
    }

    #[test]
    fn a_compare_commit() {
        let c = json!({
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "author": {"login": "octocat"},
            "parents": [{"sha": "aa"}, {"sha": "bb"}],
            "commit": {
                "message": "feat(api)!: drop v1\n\nCo-authored-by: M <1+mona@users.noreply.github.com>",
                "author": {"name": "The Octocat", "email": "o@example.com", "date": "2024-01-02T03:04:05Z"},
                "committer": {"name": "GitHub", "email": "noreply@github.com", "date": "2024-01-02T03:04:06Z"}
            }
        });
        let c = commit_of(&c, 9).unwrap();
        assert_eq!(c.short_sha, "012345678");
        assert_eq!(c.author.login.as_deref(), Some("octocat"));
        assert_eq!(c.logins, ["@octocat", "@mona"]);
        assert!(c.breaking && c.is_merge());
        assert_eq!(c.timestamp, 1704164646);
        let ghost = json!({"sha": "ff", "author": null, "parents": [], "commit": {"message": "x"}});
        assert_eq!(commit_of(&ghost, 7).unwrap().author.login, None);
    }
}
