//! Talking to one OCI registry: HEAD before upload, cross-repository mounts, POST-then-PUT
//! uploads streamed from the layout, manifests by digest, retries.
//!
//! Built on `oci-client`: its `blob_exists` is the HEAD check, `mount_blob` the mount, and
//! `push_blob_stream` with `use_monolithic_push` the POST (open a session) followed by one PUT
//! of the streamed file (the reference registry does not complete a single-POST upload).
//! Every call is retried under the one retry policy (5xx, 429, timeouts, connection
//! failures; see `crate::retry`); because
//! each blob is checked before it is sent, a re-run after any failure only sends what is
//! missing.

use super::Descriptor;
use super::auth::{self, Credentials};
use crate::error::{Error, Result};
use crate::retry::Policy;
use futures::TryStreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::{Client, Reference, RegistryOperation};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a push did, for the log and for checking that a re-push sends nothing.
#[derive(Debug, Default)]
pub struct Stats {
    /// Blobs sent.
    pub uploaded: AtomicU64,
    /// Bytes sent.
    pub uploaded_bytes: AtomicU64,
    /// Blobs the registry already had.
    pub present: AtomicU64,
    /// Blobs mounted from another repository.
    pub mounted: AtomicU64,
    /// Manifests and indexes written.
    pub manifests: AtomicU64,
}

/// Whether plain HTTP is used for `host`: only when asked, or for the local machine.
pub fn plain_http(host: &str, insecure: bool) -> bool {
    let name = host
        .rsplit_once(':')
        .filter(|(h, p)| !h.ends_with(']') || p.is_empty())
        .map(|x| x.0)
        .unwrap_or(host);
    let name = if host.starts_with('[') {
        host.split(']')
            .next()
            .unwrap_or(host)
            .trim_start_matches('[')
    } else {
        name
    };
    insecure || matches!(name, "localhost" | "127.0.0.1" | "::1")
}

/// One registry host with its credentials.
pub struct Registry {
    client: Client,
    plain_http: bool,
    /// The host (with port).
    pub host: String,
    creds: Credentials,
    /// Counters.
    pub stats: Stats,
}

/// The HTTP status an error carries, if any.
fn status_of(e: &OciDistributionError) -> Option<u16> {
    match e {
        OciDistributionError::RequestError(r) => r.status().map(|s| s.as_u16()),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => Some(401),
        OciDistributionError::RegistryError { envelope, .. } => {
            let s = format!("{envelope:?}").to_lowercase();
            if s.contains("unauthorized") {
                Some(401)
            } else if s.contains("denied") {
                Some(403)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn retryable(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(r) if r.status().is_none() => {
            r.is_connect() || r.is_timeout() || r.is_request() || r.is_body()
        }
        OciDistributionError::IoError(_) => true,
        _ => matches!(status_of(e), Some(s) if s >= 500 || s == 429),
    }
}

fn is_connect(e: &OciDistributionError) -> bool {
    matches!(e, OciDistributionError::RequestError(r) if r.is_connect())
}

impl Registry {
    /// A client for `host`, TLS unless `insecure` or local.
    pub fn new(host: &str, insecure: bool) -> Registry {
        let plain_http = plain_http(host, insecure);
        Registry {
            client: Self::client(plain_http),
            plain_http,
            host: host.to_string(),
            creds: auth::resolve(host),
            stats: Stats::default(),
        }
    }

    fn client(plain_http: bool) -> Client {
        let protocol = if plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        };
        Client::new(ClientConfig {
            protocol,
            use_monolithic_push: true,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(120)),
            user_agent: concat!("rel/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        })
    }

    /// Where the credentials came from (safe to print).
    pub fn credentials_source(&self) -> &str {
        &self.creds.source
    }

    /// An error a person can act on: what failed, on which reference, and what to do.
    pub fn explain(&self, doing: &str, what: &str, e: &OciDistributionError) -> Error {
        let host = &self.host;
        let msg = match status_of(e) {
            Some(401) => format!(
                "the registry {host} answered 401 Unauthorized: the credentials from {} were refused or are missing; set REL_REGISTRY_USERNAME and REL_REGISTRY_PASSWORD, or run `docker login {host}`",
                self.creds.source
            ),
            Some(403) => format!(
                "the registry {host} answered 403 Forbidden: the credentials from {} may not push to this repository",
                self.creds.source
            ),
            Some(404) => format!("not found on {host}"),
            _ if is_connect(e) => format!(
                "cannot connect to the registry {host} ({e}); is it running and reachable? Re-run to finish: what was already pushed is kept"
            ),
            _ => format!("{e}; re-run to finish: what was already pushed is kept"),
        };
        Error::Failed(format!("{doing} {what}: {msg}"))
    }

    /// A registry call under the one retry policy ([`crate::retry`]): 5xx, 429, timeouts
    /// and connection failures are retried; the last error is returned as it came.
    async fn retry<T, F, Fut>(
        &self,
        label: &str,
        f: F,
    ) -> std::result::Result<T, OciDistributionError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, OciDistributionError>>,
    {
        let classify = |e: &OciDistributionError| retryable(e).then_some(None);
        crate::retry::run_with(Policy::registry(), None, label, classify, f)
            .await
            .map_err(|stopped| {
                if stopped.exhausted {
                    tracing::debug!("{label}: {}", stopped.detail);
                }
                stopped.error
            })
    }

    /// Authenticate for `op` on the repository of `r` (a bearer token when the registry
    /// asks for one, else basic or anonymous).
    pub async fn login(&self, r: &Reference, op: RegistryOperation) -> Result<()> {
        if matches!(
            self.creds.auth,
            oci_client::secrets::RegistryAuth::Anonymous
        ) {
            // oci-client asks `/v2/` again before every request of a client that holds
            // anonymous credentials but got no token. Probe with a separate client and keep
            // the working one credential-free unless the registry hands out anonymous tokens.
            let probe = Self::client(self.plain_http);
            let token = self
                .retry("auth", || probe.auth(r, &self.creds.auth, op))
                .await
                .map_err(|e| self.explain("cannot authenticate to", &r.whole(), &e))?;
            if token.is_none() {
                return Ok(());
            }
        }
        self.retry("auth", || self.client.auth(r, &self.creds.auth, op))
            .await
            .map(|_| ())
            .map_err(|e| self.explain("cannot authenticate to", &r.whole(), &e))
    }

    /// Make sure `blob` (stored at `path`) is in the repository of `target`: HEAD, then a
    /// mount from `mount_from` (same registry), then a POST+PUT upload. Without a `path`,
    /// returns `false` when neither HEAD nor the mount found it.
    pub async fn ensure_blob(
        &self,
        target: &Reference,
        blob: &Descriptor,
        path: Option<&Path>,
        mount_from: Option<&Reference>,
    ) -> Result<bool> {
        let what = format!("{} in {}", blob.digest, target.repository());
        let exists = self
            .retry("HEAD blob", || {
                self.client.blob_exists(target, &blob.digest)
            })
            .await
            .map_err(|e| self.explain("cannot check blob", &what, &e))?;
        if exists {
            self.stats.present.fetch_add(1, Ordering::Relaxed);
            return Ok(true);
        }
        if let Some(src) = mount_from.filter(|s| {
            s.resolve_registry() == target.resolve_registry()
                && s.repository() != target.repository()
        }) {
            match self.client.mount_blob(target, src, &blob.digest).await {
                Ok(()) => {
                    self.stats.mounted.fetch_add(1, Ordering::Relaxed);
                    return Ok(true);
                }
                Err(e) => tracing::debug!(
                    "mount of {} from {} failed ({e}); uploading",
                    blob.digest,
                    src.repository()
                ),
            }
        }
        let Some(path) = path else {
            return Ok(false);
        };
        self.retry("upload blob", || async {
            let file = tokio::fs::File::open(path).await?;
            let stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20)
                .map_err(OciDistributionError::from);
            self.client
                .push_blob_stream(target, stream, &blob.digest, Some(blob.size))
                .await
        })
        .await
        .map_err(|e| self.explain("cannot upload blob", &what, &e))?;
        self.stats.uploaded.fetch_add(1, Ordering::Relaxed);
        self.stats
            .uploaded_bytes
            .fetch_add(blob.size, Ordering::Relaxed);
        Ok(true)
    }

    /// PUT a manifest or index (exact bytes) at `r` (a tag or a digest reference).
    pub async fn put_manifest(&self, r: &Reference, media_type: &str, bytes: &[u8]) -> Result<()> {
        let body = bytes::Bytes::copy_from_slice(bytes);
        let ct: reqwest::header::HeaderValue =
            media_type.parse().expect("media type is a valid header");
        self.retry("PUT manifest", || {
            self.client.push_manifest_raw(r, body.clone(), ct.clone())
        })
        .await
        .map_err(|e| self.explain("cannot push manifest", &r.whole(), &e))?;
        self.stats.manifests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// GET a manifest or index: its bytes and digest.
    pub async fn get_manifest(&self, r: &Reference) -> Result<(bytes::Bytes, String)> {
        use super::media::*;
        let accept = [INDEX, MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];
        self.retry("GET manifest", || {
            self.client.pull_manifest_raw(r, &self.creds.auth, &accept)
        })
        .await
        .map_err(|e| self.explain("cannot read the manifest of", &r.whole(), &e))
    }

    /// GET a blob into `path` (the digest is verified while it streams).
    pub async fn get_blob_to(&self, r: &Reference, digest: &str, path: &Path) -> Result<()> {
        self.retry("GET blob", || async {
            let file = tokio::fs::File::create(path).await?;
            let mut w = tokio::io::BufWriter::new(file);
            self.client.pull_blob(r, digest, &mut w).await?;
            tokio::io::AsyncWriteExt::flush(&mut w).await?;
            Ok(())
        })
        .await
        .map_err(|e| {
            self.explain(
                "cannot download blob",
                &format!("{digest} of {}", r.whole()),
                &e,
            )
        })
    }

    /// Make sure the small blob `bytes` (with `digest`) is in the repository of `target`.
    pub async fn put_blob(&self, target: &Reference, digest: &str, bytes: &[u8]) -> Result<()> {
        let what = format!("{digest} in {}", target.repository());
        let exists = self
            .retry("HEAD blob", || self.client.blob_exists(target, digest))
            .await
            .map_err(|e| self.explain("cannot check blob", &what, &e))?;
        if exists {
            self.stats.present.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let body = bytes::Bytes::copy_from_slice(bytes);
        self.retry("upload blob", || {
            self.client.push_blob(target, body.clone(), digest)
        })
        .await
        .map_err(|e| self.explain("cannot upload blob", &what, &e))?;
        self.stats.uploaded.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// GET a manifest or index that may not exist: `None` when the registry answers 404.
    pub async fn find_manifest(&self, r: &Reference) -> Result<Option<(bytes::Bytes, String)>> {
        use super::media::*;
        let accept = [INDEX, MANIFEST];
        match self
            .client
            .pull_manifest_raw(r, &self.creds.auth, &accept)
            .await
        {
            Ok(found) => Ok(Some(found)),
            Err(OciDistributionError::ImageManifestNotFoundError(_)) => Ok(None),
            Err(e) if status_of(&e) == Some(404) => Ok(None),
            Err(e)
                if format!("{e} {e:?}")
                    .to_lowercase()
                    .replace('_', " ")
                    .contains("manifest unknown") =>
            {
                Ok(None)
            }
            Err(e) => Err(self.explain("cannot read the manifest of", &r.whole(), &e)),
        }
    }

    /// GET a small blob into memory.
    pub async fn get_blob(&self, r: &Reference, digest: &str) -> Result<Vec<u8>> {
        self.retry("GET blob", || async {
            let mut out = Vec::new();
            self.client.pull_blob(r, digest, &mut out).await?;
            Ok(out)
        })
        .await
        .map_err(|e| {
            self.explain(
                "cannot download blob",
                &format!("{digest} of {}", r.whole()),
                &e,
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: u16) -> OciDistributionError {
        OciDistributionError::ServerError {
            url: "http://127.0.0.1:1/v2/x/blobs/uploads/".into(),
            code,
            message: "m".into(),
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        for code in [500, 502, 503, 429] {
            assert!(retryable(&server(code)), "{code}");
        }
        for code in [400, 401, 403, 404] {
            assert!(!retryable(&server(code)), "{code}");
        }
    }

    #[test]
    fn a_401_names_the_registry_and_what_to_set() {
        let reg = Registry::new("127.0.0.1:1", false);
        let msg = reg
            .explain(
                "cannot upload blob",
                "sha256:00 in acme/hello",
                &server(401),
            )
            .to_string();
        assert!(msg.starts_with("cannot upload blob sha256:00 in acme/hello: the registry 127.0.0.1:1 answered 401 Unauthorized"), "{msg}");
        assert!(msg.contains("REL_REGISTRY_USERNAME"), "{msg}");
    }

    #[test]
    fn plain_http_only_for_local_or_insecure() {
        assert!(plain_http("127.0.0.1:5000", false));
        assert!(plain_http("localhost", false));
        assert!(plain_http("[::1]:5000", false));
        assert!(!plain_http("ghcr.io", false));
        assert!(!plain_http("localhost.example.com:5000", false));
        assert!(plain_http("registry.lan:5000", true));
    }
}
