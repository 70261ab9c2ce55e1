//! The GitHub client: reqwest over rustls (the HTTP stack the registry client uses too), one
//! attempt per call, errors without secrets. The publish stage creates releases with it; the
//! tap stage commits package-manager manifests; `rel verify` reads releases, assets and
//! committed manifests back. Reading a release and its assets lives here, not in the publish
//! stage, because both the stage and `rel verify` need it.
//!
//! Every response's status and headers reach the retry logic (rate-limit headers), upload
//! bodies are streams, redirects are followed by the caller, and the token is sent only to the
//! API and upload hosts, never to a host a redirect names.

use crate::retry::{self, Failure};
use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use std::sync::Once;
use std::time::Duration;

/// A request body: bytes, or a stream for uploads.
pub type Body = reqwest::Body;

/// The GitHub token. It has no `Debug` or `Display`, so it cannot be formatted by accident.
pub struct Token(String);

impl Token {
    /// `GITHUB_TOKEN`, else `GH_TOKEN`; empty values count as unset.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<Token> {
        ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .filter_map(|k| env(k))
            .map(|v| v.trim().to_string())
            .find(|v| !v.is_empty())
            .map(Token)
    }

    /// A token given in the config (a templated `token` key); empty counts as unset.
    pub fn given(value: &str) -> Option<Token> {
        let v = value.trim();
        (!v.is_empty()).then(|| Token(v.to_string()))
    }

    /// Whether the token can be sent in an HTTP header: visible ASCII only. A token pasted
    /// with a control character or a line break would otherwise fail deep in the client.
    pub fn is_sendable(&self) -> bool {
        self.0.bytes().all(|b| b.is_ascii_graphic())
    }

    /// Remove the token from a text that may contain it (an error from a lower layer).
    pub fn redact(&self, text: &str) -> String {
        if self.0.len() < 4 {
            text.to_string()
        } else {
            text.replace(&self.0, "***")
        }
    }
}

static PROVIDER: Once = Once::new();

/// Install ring as the process-wide rustls crypto provider, once. Several dependencies can
/// enable rustls backends; with one provider installed explicitly none of them has to guess.
pub fn install_crypto_provider() {
    PROVIDER.call_once(|| {
        // Err means a provider is already installed, which is what we want.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Where the API, uploads and web pages live.
#[derive(Debug, Clone)]
pub struct Urls {
    /// REST API base, without trailing slash.
    pub api: String,
    /// Upload base, without trailing slash.
    pub uploads: String,
}

impl Urls {
    /// The URLs of `release.github_urls`, else GitHub's.
    pub fn of(u: Option<&crate::config::GithubUrls>) -> Urls {
        let base = |url: Option<&str>, default: &str| {
            url.filter(|u| !u.trim().is_empty())
                .unwrap_or(default)
                .trim()
                .trim_end_matches('/')
                .to_string()
        };
        Urls {
            api: base(u.and_then(|u| u.api.as_deref()), "https://api.github.com"),
            uploads: base(
                u.and_then(|u| u.uploads.as_deref()),
                "https://uploads.github.com",
            ),
        }
    }
}

/// A response read whole (API responses are small JSON documents).
#[derive(Debug)]
pub struct Response {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Response {
    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value, Failure> {
        serde_json::from_slice(&self.body)
            .map_err(|e| Failure::Fatal(format!("GitHub sent a response that is not JSON ({e})")))
    }

    /// GitHub's `message` field, for errors.
    pub fn message(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let mut m = v["message"].as_str().unwrap_or("").to_string();
        if let Some(errs) = v["errors"].as_array() {
            let codes: Vec<String> = errs
                .iter()
                .map(|e| {
                    e["code"]
                        .as_str()
                        .or(e["message"].as_str())
                        .unwrap_or("")
                        .to_string()
                })
                .filter(|s| !s.is_empty())
                .collect();
            if !codes.is_empty() {
                m.push_str(&format!(" ({})", codes.join(", ")));
            }
        }
        if m.is_empty() {
            String::from_utf8_lossy(&self.body)
                .chars()
                .take(200)
                .collect()
        } else {
            m
        }
    }
}

/// The client used by the publish flow.
pub struct Client {
    http: reqwest::Client,
    token: Token,
    /// Base URLs.
    pub urls: Urls,
}

impl Client {
    /// A client for `urls` authenticating with `token`.
    pub fn new(token: Token, urls: Urls) -> Result<Client, String> {
        install_crypto_provider();
        for u in [&urls.api, &urls.uploads] {
            u.parse::<http::Uri>()
                .map_err(|e| format!("invalid GitHub URL `{u}`: {e}"))?;
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(300))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("rel/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| token.redact(&format!("cannot create the GitHub client: {e}")))?;
        Ok(Client { http, token, urls })
    }

    /// Redact the token from `text`.
    pub fn redact(&self, text: &str) -> String {
        self.token.redact(text)
    }

    /// An API URL for `path` (which starts with `/`).
    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.urls.api)
    }

    /// A request to `url` with GitHub's headers, and the token when `url` is on the API or
    /// upload host.
    pub fn request(&self, method: Method, url: &str) -> reqwest::RequestBuilder {
        let mut req = self
            .http
            .request(method, url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if url.starts_with(&format!("{}/", self.urls.api))
            || url.starts_with(&format!("{}/", self.urls.uploads))
        {
            req = req.header("authorization", format!("Bearer {}", self.token.0));
        }
        req
    }

    /// One request, one attempt. Transport errors and retryable statuses are `Transient`;
    /// other non-2xx statuses are returned as responses for the caller to interpret.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, String)],
        body: Body,
    ) -> Result<Response, Failure> {
        tracing::debug!("github: {method} {url}");
        let mut req = self.request(method.clone(), url);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let res = req
            .body(body)
            .send()
            .await
            .map_err(|e| Failure::Transient {
                message: self.redact(&format!("{method} {url}: {}", transport(&e))),
                wait: None,
            })?;
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.bytes().await.map_err(|e| Failure::Transient {
            message: self.redact(&format!(
                "{method} {url}: reading the response failed: {}",
                transport(&e)
            )),
            wait: None,
        })?;
        let r = Response {
            status,
            headers,
            body,
        };
        tracing::debug!("github: {method} {url} -> {}", r.status.as_u16());
        if let Some(wait) = retry::classify(
            r.status.as_u16(),
            &r.headers,
            &String::from_utf8_lossy(&r.body),
        ) {
            return Err(Failure::Transient {
                message: self.redact(&format!(
                    "{method} {url}: {} {}",
                    r.status.as_u16(),
                    r.message()
                )),
                wait,
            });
        }
        Ok(r)
    }

    /// A JSON request (or none) expecting a 2xx answer.
    pub async fn json(
        &self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, Failure> {
        let (headers, body) = match body {
            Some(b) => (
                vec![("content-type", "application/json".to_string())],
                Body::from(serde_json::to_vec(b).expect("json")),
            ),
            None => (vec![], Body::from(Vec::new())),
        };
        let r = self.send(method.clone(), url, &headers, body).await?;
        if !r.status.is_success() {
            return Err(self.status_error(&method, url, &r));
        }
        Ok(r)
    }

    /// A non-retryable status as an error a person can act on.
    pub fn status_error(&self, method: &Method, url: &str, r: &Response) -> Failure {
        let hint = match r.status.as_u16() {
            401 => "; the token was rejected: check GITHUB_TOKEN (or GH_TOKEN)",
            403 => "; the token lacks permission: it needs `contents: write` on the repository",
            404 => "; the repository does not exist or the token cannot see it",
            _ => "",
        };
        Failure::Fatal(self.redact(&format!(
            "{method} {url}: {} {}{hint}",
            r.status.as_u16(),
            r.message()
        )))
    }
}

// Releases and their assets: the publish stage fills them, `rel verify` reads them back.

/// A release as GitHub describes it (the fields rel reads).
#[derive(Debug, Clone)]
pub struct Release {
    /// Release id.
    pub id: u64,
    /// Whether it is a draft.
    pub draft: bool,
    /// Title.
    pub name: String,
    /// Body.
    pub body: String,
    /// Prerelease flag.
    pub prerelease: bool,
    /// Web page.
    pub html_url: String,
    /// Published releases can be immutable: no assets can be added.
    pub immutable: bool,
}

impl Release {
    /// Read a release object.
    pub fn from_json(v: &serde_json::Value) -> Option<Release> {
        Some(Release {
            id: v["id"].as_u64()?,
            draft: v["draft"].as_bool().unwrap_or(false),
            name: v["name"].as_str().unwrap_or_default().to_string(),
            body: v["body"].as_str().unwrap_or_default().to_string(),
            prerelease: v["prerelease"].as_bool().unwrap_or(false),
            html_url: v["html_url"].as_str().unwrap_or_default().to_string(),
            immutable: v["immutable"].as_bool().unwrap_or(false),
        })
    }
}

/// An asset as GitHub describes it.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Asset id.
    pub id: u64,
    /// Asset name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// `uploaded`, or `open`/`starter` for an upload that never finished.
    pub state: String,
    /// `sha256:<hex>` when the server provides it.
    pub digest: Option<String>,
}

impl Remote {
    /// Read an asset object.
    pub fn from_json(v: &serde_json::Value) -> Option<Remote> {
        Some(Remote {
            id: v["id"].as_u64()?,
            name: v["name"].as_str()?.to_string(),
            size: v["size"].as_u64().unwrap_or(0),
            state: v["state"].as_str().unwrap_or("uploaded").to_string(),
            digest: v["digest"].as_str().map(String::from),
        })
    }
}

/// Find the release for `tag`. Lists releases (drafts included: get-by-tag does not see
/// drafts) and prefers a published release, then the oldest draft.
pub async fn find(client: &Client, repo: &str, tag: &str) -> Result<Option<Release>, Failure> {
    let mut found: Vec<Release> = Vec::new();
    for page in 1..=10 {
        let url = client.api(&format!("/repos/{repo}/releases?per_page=100&page={page}"));
        let r = client.json(Method::GET, &url, None).await?;
        let list = r.json()?;
        let items = list.as_array().cloned().unwrap_or_default();
        found.extend(
            items
                .iter()
                .filter(|v| v["tag_name"].as_str() == Some(tag))
                .filter_map(Release::from_json),
        );
        if items.len() < 100 {
            break;
        }
    }
    found.sort_by_key(|r| (r.draft, r.id));
    Ok(found.into_iter().next())
}

/// All assets of a release.
pub async fn list_assets(
    client: &Client,
    repo: &str,
    id: u64,
) -> Result<std::collections::BTreeMap<String, Remote>, Failure> {
    let mut out = std::collections::BTreeMap::new();
    for page in 1..=100 {
        let url = client.api(&format!(
            "/repos/{repo}/releases/{id}/assets?per_page=100&page={page}"
        ));
        let r = client.json(Method::GET, &url, None).await?;
        let items = r.json()?.as_array().cloned().unwrap_or_default();
        for a in items.iter().filter_map(Remote::from_json) {
            out.insert(a.name.clone(), a);
        }
        if items.len() < 100 {
            break;
        }
    }
    Ok(out)
}

/// Download an asset (following GitHub's redirect to the file), handing each chunk to `sink`
/// as it arrives, so an asset of any size streams through a fixed amount of memory. One
/// attempt: a caller that retries starts its sink over. A `sink` error stops the download.
pub async fn download(
    client: &Client,
    repo: &str,
    remote: &Remote,
    sink: &mut (dyn FnMut(&[u8]) -> Result<(), String> + Send),
) -> Result<(), Failure> {
    let mut url = client.api(&format!("/repos/{repo}/releases/assets/{}", remote.id));
    for _ in 0..5 {
        tracing::debug!("github: GET {url} (download)");
        // The token goes only to GitHub's own hosts, not to where a redirect points.
        let res = client
            .request(Method::GET, &url)
            .header("accept", "application/octet-stream")
            .send()
            .await
            .map_err(|e| Failure::Transient {
                message: client.redact(&format!("GET {url}: {e}")),
                wait: None,
            })?;
        let status = res.status();
        if status.is_redirection() {
            let loc = res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            if loc.is_empty() {
                return Err(Failure::Fatal(format!(
                    "GET {url}: redirect without a location"
                )));
            }
            url = loc;
            continue;
        }
        if let Some(wait) = retry::classify(status.as_u16(), res.headers(), "") {
            return Err(Failure::Transient {
                message: client.redact(&format!("GET {url}: {status}")),
                wait,
            });
        }
        if !status.is_success() {
            return Err(Failure::Fatal(client.redact(&format!(
                "downloading asset {} failed: GET {url}: {status}",
                remote.name
            ))));
        }
        let mut res = res;
        while let Some(chunk) = res.chunk().await.map_err(|e| Failure::Transient {
            message: client.redact(&format!("GET {url}: {e}")),
            wait: None,
        })? {
            sink(&chunk).map_err(Failure::Fatal)?;
        }
        return Ok(());
    }
    Err(Failure::Fatal(format!(
        "downloading asset {}: too many redirects",
        remote.name
    )))
}

/// The bytes of a file answered by the contents API (`content`, base64 in lines).
pub fn contents_bytes(v: &serde_json::Value) -> std::result::Result<Vec<u8>, String> {
    use base64::Engine;
    let content: String = v["content"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(content)
        .map_err(|e| format!("the contents API sent something that is not base64: {e}"))
}

/// The token for another repository (a tap, a config repository): its own rendered
/// `repository.token` when the config gives one, else GITHUB_TOKEN (or GH_TOKEN); with the
/// name of where it came from, for messages.
pub fn token_for(
    own: Option<(String, String)>,
    env: impl Fn(&str) -> Option<String>,
) -> (String, String) {
    match own {
        Some(t) => t,
        None => (
            env("GITHUB_TOKEN")
                .filter(|v| !v.trim().is_empty())
                .or_else(|| env("GH_TOKEN"))
                .unwrap_or_default(),
            "GITHUB_TOKEN".to_string(),
        ),
    }
}

/// The deepest cause of a transport error, which is the informative part ("connection
/// reset by peer") rather than the wrapper's name.
fn transport(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.contains(&t) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_prefers_github_token_and_redacts() {
        let env = |k: &str| match k {
            "GITHUB_TOKEN" => Some(" ".to_string()),
            "GH_TOKEN" => Some("ghp_secretvalue".to_string()),
            _ => None,
        };
        let t = Token::from_env(env).expect("GH_TOKEN used when GITHUB_TOKEN is blank");
        assert_eq!(t.redact("auth ghp_secretvalue failed"), "auth *** failed");
        assert!(Token::from_env(|_| None).is_none());
    }
}
