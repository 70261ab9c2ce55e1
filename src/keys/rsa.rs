//! RSA keys in PEM (PKCS#1 `RSA PRIVATE KEY`, PKCS#8 `PRIVATE KEY`, or encrypted PKCS#8 with a
//! passphrase, as `openssl genpkey -aes256` writes), for apk's package signatures: PKCS#1
//! v1.5 over SHA-1 of the control segment, which is what apk-tools 2 verifies for a
//! `.SIGN.RSA.` entry. PKCS#1 v1.5 is deterministic, so signatures reproduce.

use super::Origin;
use crate::error::{Error, Result};
use pkcs8::DecodePrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::EncodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha1::{Digest, Sha1};

/// A loaded RSA private key.
#[derive(Clone)]
pub struct Key {
    key: RsaPrivateKey,
    origin: Origin,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rsa::Key({})", self.origin)
    }
}

impl Key {
    /// Parse a PEM private key, decrypting it with `passphrase` when it is encrypted.
    pub fn load(bytes: &[u8], passphrase: &str, origin: Origin) -> Result<Key> {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            Error::Failed(format!("{origin}: is not a PEM RSA private key (not text)"))
        })?;
        let parsed = if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
            if passphrase.is_empty() {
                return Err(Error::Failed(format!(
                    "{origin}: the key is encrypted and no passphrase is set"
                )));
            }
            RsaPrivateKey::from_pkcs8_encrypted_pem(text, passphrase.as_bytes())
                .map_err(|e| format!("cannot decrypt it (wrong passphrase?): {e}"))
        } else if text.contains("BEGIN RSA PRIVATE KEY") {
            RsaPrivateKey::from_pkcs1_pem(text).map_err(|e| e.to_string())
        } else {
            RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| e.to_string())
        };
        let key = parsed.map_err(|e| {
            Error::Failed(format!("{origin}: is not a usable RSA private key: {e}"))
        })?;
        Ok(Key { key, origin })
    }

    /// The PKCS#1 v1.5 signature of the SHA-1 digest of `data`.
    pub fn sign_sha1(&self, data: &[u8]) -> Result<Vec<u8>> {
        let digest = Sha1::digest(data);
        self.key
            .sign(Pkcs1v15Sign::new::<Sha1>(), &digest)
            .map_err(|e| Error::Failed(format!("{}: cannot sign: {e}", self.origin)))
    }

    /// The public key in PEM (`PUBLIC KEY`), as apk installs it in `/etc/apk/keys`.
    pub fn public_pem(&self) -> Result<String> {
        self.key
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| {
                Error::Failed(format!(
                    "{}: cannot export the public key: {e}",
                    self.origin
                ))
            })
    }
}
