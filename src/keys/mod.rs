//! Signing keys for packages and repositories: read once, before any work, from a file in
//! the project or from the text of an environment variable, with passphrases from the
//! environment.
//!
//! Keys and passphrases never reach output: errors name the key's config key and source,
//! never its bytes, and a passphrase is only ever handed to the key's decryption.

pub mod minisign;
pub mod openpgp;
pub mod rsa;
pub mod sigstore;

use crate::error::{Error, Result};
use std::path::Path;

/// Where a key came from, for messages (never the key itself).
#[derive(Debug, Clone)]
pub struct Origin {
    /// The config key that named it, e.g. `nfpms[0].deb.signature.key_file`.
    pub key: String,
    /// `file keys/sign.asc` or `the text given inline`.
    pub source: String,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` ({})", self.key, self.source)
    }
}

/// The bytes of a key named by a rendered `key_file` value: a path relative to the project,
/// or — when the value is itself an armored or PEM key, as `{{ env.SIGNING_KEY }}` gives in
/// CI — the key's text. A missing file is a config error (exit 2).
pub fn read(root: &Path, key: &str, value: &str) -> Result<(Vec<u8>, Origin)> {
    let trimmed = value.trim();
    if trimmed.starts_with("-----BEGIN") {
        return Ok((
            trimmed.as_bytes().to_vec(),
            Origin {
                key: key.to_string(),
                source: "the key text given inline".into(),
            },
        ));
    }
    if trimmed.is_empty() {
        return Err(Error::Config(format!("`{key}` is empty: name a key file")));
    }
    let path = root.join(trimmed);
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::Config(format!(
            "`{key}`: cannot read the key file {trimmed}: {}",
            e.kind()
        ))
    })?;
    Ok((
        bytes,
        Origin {
            key: key.to_string(),
            source: format!("file {trimmed}"),
        },
    ))
}

/// The first of the environment variables `names` that is set, as the key's passphrase.
/// An unset passphrase is the empty one (an unprotected key).
pub fn passphrase(names: &[String]) -> String {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok())
        .unwrap_or_default()
}

/// The conventional environment variable part for an id: upper case, `-` and `.` as `_`.
pub fn env_part(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}
