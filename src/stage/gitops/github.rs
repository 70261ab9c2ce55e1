//! A GitHub config repository changed through the REST API: every file of an entry lands in
//! one commit (git data API: a tree on the branch's tree, a commit, a fast-forward of the
//! branch), which the contents API cannot do. A fast-forward refused because the branch moved
//! (422) is reported as `Ok(None)` so the caller re-reads and re-edits.

use super::{Entry, Pr, Repo};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::github::{Client, Token, Urls};
use crate::retry::Failure;
use http::Method;
use serde_json::{Value, json};

/// One repository, read at one head.
pub struct Api {
    rt: tokio::runtime::Runtime,
    c: Client,
    key: String,
    repo: String,
    token_key: String,
    push: bool,
    branch: String,
    /// The base of a pull request (the default branch unless given).
    base: String,
    pull_request: bool,
    /// The branch's head, or `None` while a pull request's branch does not exist yet.
    head: Option<String>,
    /// The base's head (pull requests).
    base_head: String,
}

fn percent(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

impl Api {
    pub fn open(ctx: &Context, e: &Entry, repo: &str, token: &str, token_key: &str) -> Result<Api> {
        let t = Token::given(token).ok_or_else(|| {
            Error::Failed(format!(
                "`{}`: changing {repo} needs a token: `{token_key}` is empty",
                e.key
            ))
        })?;
        if !t.is_sendable() {
            return Err(Error::Failed(format!(
                "`{token_key}` holds a character a token cannot have"
            )));
        }
        let c = Client::new(t, Urls::of(ctx.config.release.github_urls.as_ref()))
            .map_err(Error::Failed)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Failed(format!("cannot start the async runtime: {e}")))?;
        let mut api = Api {
            rt,
            c,
            key: e.key.clone(),
            repo: repo.to_string(),
            token_key: token_key.to_string(),
            push: false,
            branch: String::new(),
            base: String::new(),
            pull_request: e.pr.is_some(),
            head: None,
            base_head: String::new(),
        };
        let info = api
            .call(Method::GET, &format!("/repos/{repo}"), None)
            .map_err(|err| {
                Error::Failed(format!(
                    "`{}`: cannot read {repo} with `{token_key}`: {err}",
                    e.key
                ))
            })?
            .ok_or_else(|| {
                Error::Failed(format!(
                    "`{}`: {repo} does not exist or `{token_key}` cannot see it",
                    e.key
                ))
            })?;
        let default = info["default_branch"]
            .as_str()
            .unwrap_or("main")
            .to_string();
        api.push = info["permissions"]["push"].as_bool() == Some(true);
        api.branch = e.branch.clone().unwrap_or_else(|| default.clone());
        api.base =
            e.pr.as_ref()
                .and_then(|p| p.base.clone())
                .unwrap_or(default);
        api.refresh()?;
        Ok(api)
    }

    fn fail(&self, f: Failure) -> Error {
        Error::Failed(format!("{}: {}: {}", self.key, self.repo, f.message()))
    }

    /// One API call: the JSON answer, or `None` for 404.
    fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Option<Value>> {
        let url = self.c.api(path);
        let r = self.rt.block_on(async {
            let (headers, b) = match body {
                Some(b) => (
                    vec![("content-type", "application/json".to_string())],
                    crate::github::Body::from(b.to_string()),
                ),
                None => (vec![], crate::github::Body::from(Vec::new())),
            };
            self.c.send(method.clone(), &url, &headers, b).await
        });
        let r = r.map_err(|f| self.fail(f))?;
        if r.status.as_u16() == 404 {
            return Ok(None);
        }
        if !r.status.is_success() {
            return Err(self.fail(self.c.status_error(&method, &url, &r)));
        }
        Ok(Some(r.json().map_err(|f| self.fail(f))?))
    }

    /// The head commit of `branch`, or `None` when it does not exist.
    fn head_of(&self, branch: &str) -> Result<Option<String>> {
        Ok(self
            .call(
                Method::GET,
                &format!("/repos/{}/git/ref/heads/{}", self.repo, branch),
                None,
            )?
            .and_then(|v| v["object"]["sha"].as_str().map(String::from)))
    }
}

impl Repo for Api {
    fn branch(&self) -> &str {
        &self.branch
    }

    fn refresh(&mut self) -> Result<()> {
        self.head = self.head_of(&self.branch)?;
        if self.pull_request {
            self.base_head = self.head_of(&self.base)?.ok_or_else(|| {
                Error::Failed(format!(
                    "`{}`: {} has no branch {}",
                    self.key, self.repo, self.base
                ))
            })?;
        } else if self.head.is_none() {
            return Err(Error::Failed(format!(
                "`{}`: {} has no branch {}",
                self.key, self.repo, self.branch
            )));
        }
        Ok(())
    }

    fn read(&mut self, path: &str) -> Result<Option<String>> {
        let Some(v) = self.call(
            Method::GET,
            &format!(
                "/repos/{}/contents/{}?ref={}",
                self.repo,
                path.split('/').map(percent).collect::<Vec<_>>().join("/"),
                // A branch name, not the head: the contents API reads the branch's tip.
                percent(if self.head.is_some() {
                    &self.branch
                } else {
                    &self.base
                })
            ),
            None,
        )?
        else {
            return Ok(None);
        };
        let bytes = crate::github::contents_bytes(&v)
            .map_err(|e| Error::Failed(format!("{}: {} ({path}): {e}", self.key, self.repo)))?;
        String::from_utf8(bytes).map(Some).map_err(|_| {
            Error::Failed(format!(
                "`{}`: {path} in {} is not UTF-8 text",
                self.key, self.repo
            ))
        })
    }

    fn commit(&mut self, files: &[(String, String)], e: &Entry) -> Result<Option<String>> {
        let parent = match &self.head {
            Some(h) => h.clone(),
            None => {
                // A pull request's branch starts at the base's head.
                let body =
                    json!({"ref": format!("refs/heads/{}", self.branch), "sha": self.base_head});
                self.call(
                    Method::POST,
                    &format!("/repos/{}/git/refs", self.repo),
                    Some(&body),
                )?;
                self.head = Some(self.base_head.clone());
                self.base_head.clone()
            }
        };
        let base_tree = self
            .call(
                Method::GET,
                &format!("/repos/{}/git/commits/{parent}", self.repo),
                None,
            )?
            .and_then(|v| v["tree"]["sha"].as_str().map(String::from))
            .ok_or_else(|| {
                Error::Failed(format!(
                    "{}: {} has no commit {parent}",
                    self.key, self.repo
                ))
            })?;
        let tree: Vec<Value> = files
            .iter()
            .map(|(path, text)| json!({"path": path, "mode": "100644", "type": "blob", "content": text}))
            .collect();
        let tree = self
            .call(
                Method::POST,
                &format!("/repos/{}/git/trees", self.repo),
                Some(&json!({"base_tree": base_tree, "tree": tree})),
            )?
            .and_then(|v| v["sha"].as_str().map(String::from))
            .unwrap_or_default();
        let commit = self
            .call(
                Method::POST,
                &format!("/repos/{}/git/commits", self.repo),
                Some(&json!({
                    "message": e.message,
                    "tree": tree,
                    "parents": [parent],
                    "author": {"name": e.author.0, "email": e.author.1},
                })),
            )?
            .and_then(|v| v["sha"].as_str().map(String::from))
            .unwrap_or_default();
        let url = self.c.api(&format!(
            "/repos/{}/git/refs/heads/{}",
            self.repo, self.branch
        ));
        let body = json!({"sha": commit, "force": false});
        let r = self
            .rt
            .block_on(self.c.send(
                Method::PATCH,
                &url,
                &[("content-type", "application/json".to_string())],
                crate::github::Body::from(body.to_string()),
            ))
            .map_err(|f| self.fail(f))?;
        match r.status.as_u16() {
            200 | 201 => Ok(Some(commit)),
            // Not a fast-forward: the branch moved since it was read.
            409 | 422 => Ok(None),
            _ => Err(self.fail(self.c.status_error(&Method::PATCH, &url, &r))),
        }
    }

    fn can_push(&mut self) -> Result<()> {
        if self.push {
            return Ok(());
        }
        Err(Error::Failed(format!(
            "`{}`: the token in `{}` cannot push to {}: give it `contents: write`{} there",
            self.key,
            self.token_key,
            self.repo,
            if self.pull_request {
                " and `pull-requests: write`"
            } else {
                ""
            }
        )))
    }

    fn pull_request(&mut self, e: &Entry, pr: &Pr) -> Result<Option<String>> {
        let owner = self.repo.split('/').next().unwrap_or_default();
        let head = format!("{owner}:{}", self.branch);
        let open = self
            .call(
                Method::GET,
                &format!(
                    "/repos/{}/pulls?state=open&head={}",
                    self.repo,
                    percent(&head)
                ),
                None,
            )?
            .unwrap_or(Value::Null);
        if let Some(existing) = open.as_array().and_then(|a| a.first()) {
            return Ok(existing["html_url"].as_str().map(String::from));
        }
        let body = pr.body.clone().unwrap_or_else(|| {
            let mut b = format!("{}\n", e.message);
            for u in &e.updates {
                b.push_str(&format!("\n- `{}`: {}:{}", u.file, u.repository, u.tag));
            }
            b.push('\n');
            b
        });
        let made = self
            .call(
                Method::POST,
                &format!("/repos/{}/pulls", self.repo),
                Some(
                    &json!({"title": pr.title, "head": self.branch, "base": self.base,
                             "body": body, "draft": pr.draft}),
                ),
            )?
            .unwrap_or(Value::Null);
        if !pr.labels.is_empty()
            && let Some(n) = made["number"].as_u64()
        {
            self.call(
                Method::POST,
                &format!("/repos/{}/issues/{n}/labels", self.repo),
                Some(&json!({"labels": pr.labels})),
            )?;
        }
        Ok(made["html_url"].as_str().map(String::from))
    }
}
