//! Keyed Sigstore bundles (v0.3), the format cosign v3 writes and verifies: a
//! `messageSignature` over a blob's SHA-256, or a DSSE envelope (in-toto statements), with
//! the public key named by a hint, verifiable offline with the public key alone.
//!
//! Keys are PEM: PKCS#8 (`PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` with a passphrase) or SEC1
//! (`EC PRIVATE KEY`), ECDSA P-256 or Ed25519. ECDSA signs deterministically (RFC 6979) and
//! Ed25519 is deterministic, so bundles reproduce.

use super::Origin;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use p256::ecdsa::signature::Signer as _;
use pkcs8::{DecodePrivateKey, EncodePublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The bundle media type.
pub const MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

#[derive(Clone)]
enum Secret {
    P256(p256::ecdsa::SigningKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// A loaded signing key.
#[derive(Clone)]
pub struct Key {
    secret: Secret,
    origin: Origin,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sigstore::Key({})", self.origin)
    }
}

fn from_der(der: &[u8]) -> Option<Secret> {
    if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
        return Some(Secret::P256(k));
    }
    ed25519_dalek::SigningKey::from_pkcs8_der(der)
        .ok()
        .map(|k| Secret::Ed25519(Box::new(k)))
}

impl Key {
    /// Parse a PEM private key, decrypting it with `passphrase` when it is encrypted.
    pub fn load(bytes: &[u8], passphrase: &str, origin: Origin) -> Result<Key> {
        let bad = |why: String| Error::Failed(format!("{origin}: {why}"));
        let text = std::str::from_utf8(bytes)
            .map_err(|_| bad("is not a PEM private key (not text)".into()))?;
        let (label, doc) = pkcs8::der::SecretDocument::from_pem(text.trim())
            .map_err(|e| bad(format!("is not a PEM private key: {e}")))?;
        let secret = match label {
            "ENCRYPTED PRIVATE KEY" => {
                if passphrase.is_empty() {
                    return Err(bad("the key is encrypted and no passphrase is set".into()));
                }
                let enc = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
                    .map_err(|e| bad(format!("is not an encrypted PKCS#8 key: {e}")))?;
                let plain = enc
                    .decrypt(passphrase.as_bytes())
                    .map_err(|e| bad(format!("cannot decrypt it (wrong passphrase?): {e}")))?;
                from_der(plain.as_bytes())
            }
            "EC PRIVATE KEY" => {
                use p256::elliptic_curve::SecretKey;
                SecretKey::<p256::NistP256>::from_sec1_der(doc.as_bytes())
                    .ok()
                    .map(|k| Secret::P256(k.into()))
            }
            _ => from_der(doc.as_bytes()),
        }
        .ok_or_else(|| bad("is not an ECDSA P-256 or Ed25519 private key".into()))?;
        Ok(Key { secret, origin })
    }

    /// Whether the key is Ed25519 (Sigstore verifiers accept Ed25519 in DSSE envelopes only:
    /// they check message signatures over a SHA-256 digest, which Ed25519 does not sign).
    pub fn is_ed25519(&self) -> bool {
        matches!(self.secret, Secret::Ed25519(_))
    }

    /// The public key, DER SubjectPublicKeyInfo.
    pub fn public_der(&self) -> Result<Vec<u8>> {
        let r = match &self.secret {
            Secret::P256(k) => k.verifying_key().to_public_key_der(),
            Secret::Ed25519(k) => k.verifying_key().to_public_key_der(),
        };
        r.map(|d| d.as_bytes().to_vec()).map_err(|e| {
            Error::Failed(format!(
                "{}: cannot export the public key: {e}",
                self.origin
            ))
        })
    }

    /// The public key, PEM.
    pub fn public_pem(&self) -> Result<String> {
        let der = self.public_der()?;
        let b64 = B64.encode(der);
        let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push('\n');
        }
        out.push_str("-----END PUBLIC KEY-----\n");
        Ok(out)
    }

    /// The key's hint in bundles: the base64 SHA-256 of its public key (DER), which the
    /// verifier maps back to the key.
    pub fn hint(&self) -> Result<String> {
        Ok(B64.encode(Sha256::digest(self.public_der()?)))
    }

    /// A signature over `data`: ECDSA P-256 SHA-256 (DER) or Ed25519.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        match &self.secret {
            Secret::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(data);
                sig.to_der().as_bytes().to_vec()
            }
            Secret::Ed25519(k) => {
                use ed25519_dalek::Signer;
                k.sign(data).to_bytes().to_vec()
            }
        }
    }

    fn material(&self) -> Result<Value> {
        Ok(json!({
            "publicKey": {"hint": self.hint()?},
            "tlogEntries": [],
        }))
    }

    /// The bundle of a blob's signature.
    pub fn message_bundle(&self, data: &[u8]) -> Result<Value> {
        Ok(json!({
            "mediaType": MEDIA_TYPE,
            "verificationMaterial": self.material()?,
            "messageSignature": {
                "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(Sha256::digest(data))},
                "signature": B64.encode(self.sign(data)),
            },
        }))
    }

    /// The bundle of a DSSE envelope around `payload` of type `payload_type`.
    pub fn dsse_bundle(&self, payload_type: &str, payload: &[u8]) -> Result<Value> {
        let sig = self.sign(&pae(payload_type, payload));
        Ok(json!({
            "mediaType": MEDIA_TYPE,
            "verificationMaterial": self.material()?,
            "dsseEnvelope": {
                "payload": B64.encode(payload),
                "payloadType": payload_type,
                "signatures": [{"sig": B64.encode(sig), "keyid": ""}],
            },
        }))
    }
}

/// DSSE's pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    v.extend_from_slice(payload);
    v
}
