//! Release assets: streamed uploads and the "is the asset already there?" comparison.
//!
//! Uploads stream the file from disk in 64 KiB chunks, so memory does not grow with the
//! asset, and the name is URL-encoded for the query. Before uploading, an existing
//! asset of the same name is compared by size and SHA-256 (GitHub's `digest` field, or a
//! download when the server does not give one), so a re-run skips what is already there.

use super::client::Client;
use crate::retry::Failure;
use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Characters left as they are in a query value; everything else is percent-encoded.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode an asset name for the `name` query parameter.
pub fn encode_name(name: &str) -> String {
    utf8_percent_encode(name, QUERY).to_string()
}

/// A file to upload.
#[derive(Debug, Clone)]
pub struct Local {
    /// The asset name.
    pub name: String,
    /// Where it is on disk.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256, hex.
    pub sha256: String,
}

pub use crate::github::Remote;

/// How an existing asset compares with the local file.
#[derive(Debug, PartialEq, Eq)]
pub enum Compared {
    /// Same size and content: nothing to do.
    Same,
    /// An upload that never finished: safe to delete and upload again.
    Incomplete,
    /// Different content; the text says how.
    Different(String),
}

/// Compare an existing asset with the local file.
pub async fn compare(
    client: &Client,
    repo: &str,
    local: &Local,
    remote: &Remote,
) -> Result<Compared, Failure> {
    if remote.state != "uploaded" {
        return Ok(Compared::Incomplete);
    }
    if remote.size != local.size {
        return Ok(Compared::Different(format!(
            "{} bytes on GitHub, {} bytes here",
            remote.size, local.size
        )));
    }
    let theirs = match remote
        .digest
        .as_deref()
        .and_then(|d| d.strip_prefix("sha256:"))
    {
        Some(hex) => hex.to_ascii_lowercase(),
        None => download_sha256(client, repo, remote).await?,
    };
    Ok(if theirs == local.sha256 {
        Compared::Same
    } else {
        Compared::Different(format!(
            "sha256 {} on GitHub, {} here",
            crate::git::short_hash(&theirs, 12),
            crate::git::short_hash(&local.sha256, 12)
        ))
    })
}

/// Download an asset and hash it as it streams.
async fn download_sha256(client: &Client, repo: &str, remote: &Remote) -> Result<String, Failure> {
    let mut h = Sha256::new();
    crate::github::download(client, repo, remote, &mut |chunk| {
        h.update(chunk);
        Ok(())
    })
    .await?;
    Ok(crate::dist::hex(&h.finalize()))
}

/// What an upload attempt ended with.
#[derive(Debug)]
pub enum Uploaded {
    /// The asset was created.
    Done(Remote),
    /// GitHub says an asset of this name exists (422 `already_exists`); the caller re-reads
    /// the assets and compares, since an earlier attempt may have succeeded after all.
    AlreadyExists,
}

/// Upload `local` to release `release_id`, streaming the file.
pub async fn upload(
    client: &Client,
    repo: &str,
    release_id: u64,
    local: &Local,
) -> Result<Uploaded, Failure> {
    let url = format!(
        "{}/repos/{repo}/releases/{release_id}/assets?name={}",
        client.urls.uploads,
        encode_name(&local.name)
    );
    let file = tokio::fs::File::open(&local.path)
        .await
        .map_err(|e| Failure::Fatal(format!("cannot open {}: {e}", local.path.display())))?;
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
    let body = super::client::Body::wrap_stream(stream);
    let headers = [
        ("content-type", "application/octet-stream".to_string()),
        ("content-length", local.size.to_string()),
    ];
    let r = client.send(Method::POST, &url, &headers, body).await?;
    if r.status.is_success() {
        let v = r.json()?;
        return Remote::from_json(&v)
            .map(Uploaded::Done)
            .ok_or_else(|| Failure::Fatal(format!("POST {url}: unexpected response")));
    }
    if r.status.as_u16() == 422 && String::from_utf8_lossy(&r.body).contains("already_exists") {
        return Ok(Uploaded::AlreadyExists);
    }
    Err(client.status_error(&Method::POST, &url, &r))
}

/// Delete an asset (an unfinished upload, or one being replaced).
pub async fn delete(client: &Client, repo: &str, remote: &Remote) -> Result<(), Failure> {
    let url = client.api(&format!("/repos/{repo}/releases/assets/{}", remote.id));
    let r = client
        .send(
            Method::DELETE,
            &url,
            &[],
            super::client::Body::from(Vec::new()),
        )
        .await?;
    match r.status.as_u16() {
        // 404: already gone (an earlier attempt deleted it), which is what we wanted.
        200..=299 | 404 => Ok(()),
        _ => Err(client.status_error(&Method::DELETE, &url, &r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_names_for_the_query() {
        assert_eq!(
            encode_name("hello_1.0.0_linux_amd64.tar.gz"),
            "hello_1.0.0_linux_amd64.tar.gz"
        );
        assert_eq!(encode_name("a b+c&d=é.zip"), "a%20b%2Bc%26d%3D%C3%A9.zip");
    }
}
