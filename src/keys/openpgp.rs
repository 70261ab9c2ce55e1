//! OpenPGP v4 signatures with the `pgp` crate (rPGP): detached binary signatures (debsigs'
//! `_gpgorigin`, rpm headers, `Release.gpg`), armored ones and cleartext-signed text
//! (`InRelease`).
//!
//! Every signature carries the commit time as its creation time and RSA (PKCS#1 v1.5) or
//! Ed25519 are deterministic, so a signature is a pure function of key, data and commit.

use super::Origin;
use crate::error::{Error, Result};
use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, Deserializable, DetachedSignature, SignedPublicKey,
    SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{
    PacketTrait, SecretKey, SecretSubkey, Signature, SignatureConfig, SignatureType,
};
use pgp::packet::{Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password, Timestamp};
use std::io::Read;

/// The key that signs: the primary key, or the signing subkey gpg made beside it.
#[derive(Clone, Debug)]
enum Signing {
    Primary(SecretKey),
    Sub(SecretSubkey),
}

/// A loaded, unlocked-on-use OpenPGP secret key.
#[derive(Clone)]
pub struct Key {
    cert: SignedSecretKey,
    signing: Signing,
    passphrase: String,
    origin: Origin,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "openpgp::Key({})", self.origin)
    }
}

fn key_err(origin: &Origin, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Failed(format!("{origin}: {what}: {e}"))
}

impl Key {
    /// Parse an armored or binary secret key and test-sign with `passphrase`, so a wrong
    /// passphrase or an unusable key stops the run before any work.
    pub fn load(bytes: &[u8], passphrase: String, origin: Origin) -> Result<Key> {
        let cert = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            SignedSecretKey::from_armor_single(bytes).map(|(k, _)| k)
        } else {
            SignedSecretKey::from_bytes(bytes)
        }
        .map_err(|e| {
            key_err(
                &origin,
                "is not an OpenPGP secret key (export it with `gpg --export-secret-keys --armor`)",
                e,
            )
        })?;
        let signing = cert
            .secret_subkeys
            .iter()
            .find(|sk| sk.signatures.iter().any(|s| s.key_flags().sign()))
            .map(|sk| Signing::Sub(sk.key.clone()))
            .unwrap_or_else(|| Signing::Primary(cert.primary_key.clone()));
        let key = Key {
            cert,
            signing,
            passphrase,
            origin,
        };
        key.detached(&b"rel"[..], 0).map_err(|e| {
            Error::Failed(format!(
                "{}: cannot sign with this key (wrong passphrase?): {e}",
                key.origin
            ))
        })?;
        Ok(key)
    }

    /// Sign with the primary key or subkey whose key id (or fingerprint) ends with `id`
    /// (`0x` and case ignored), as GoReleaser's `key_id` picks one.
    pub fn select(mut self, id: &str) -> Result<Key> {
        let want = id.trim().trim_start_matches("0x").to_uppercase();
        let matches = |kid: &[u8], fp: &[u8]| {
            let kid = crate::hash::hex(kid).to_uppercase();
            let fp = crate::hash::hex(fp).to_uppercase();
            !want.is_empty() && (kid.ends_with(&want) || fp.ends_with(&want))
        };
        let primary = &self.cert.primary_key;
        if matches(
            primary.legacy_key_id().as_ref(),
            primary.fingerprint().as_bytes(),
        ) {
            self.signing = Signing::Primary(primary.clone());
            return Ok(self);
        }
        if let Some(sk) = self.cert.secret_subkeys.iter().find(|sk| {
            matches(
                sk.key.legacy_key_id().as_ref(),
                sk.key.fingerprint().as_bytes(),
            )
        }) {
            self.signing = Signing::Sub(sk.key.clone());
            return Ok(self);
        }
        Err(Error::Failed(format!(
            "{}: holds no key with id {id}",
            self.origin
        )))
    }

    /// The 16-hex-digit key id of the signing key, upper case.
    pub fn key_id(&self) -> String {
        let id = match &self.signing {
            Signing::Primary(k) => k.legacy_key_id(),
            Signing::Sub(k) => k.legacy_key_id(),
        };
        crate::hash::hex(id.as_ref()).to_uppercase()
    }

    /// The 16-hex-digit key id of the primary key, upper case (what debsig policies name).
    pub fn primary_key_id(&self) -> String {
        crate::hash::hex(self.cert.primary_key.legacy_key_id().as_ref()).to_uppercase()
    }

    /// The armored public key, to publish beside a repository.
    pub fn public_armored(&self) -> Result<String> {
        let public: SignedPublicKey = self.cert.to_public_key();
        public
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| key_err(&self.origin, "cannot export the public key", e))
    }

    fn config(&self, typ: SignatureType, time: i64) -> Result<SignatureConfig> {
        let (alg, fingerprint, id, created) = match &self.signing {
            Signing::Primary(k) => (
                k.algorithm(),
                k.fingerprint(),
                k.legacy_key_id(),
                k.created_at(),
            ),
            Signing::Sub(k) => (
                k.algorithm(),
                k.fingerprint(),
                k.legacy_key_id(),
                k.created_at(),
            ),
        };
        let mut c = SignatureConfig::v4(typ, alg, HashAlgorithm::Sha256);
        // Verifiers refuse a signature older than its key, so an old commit signed with a new
        // key is dated at the key's creation: still a function of key and commit alone.
        let at = Timestamp::from_secs((time.max(0) as u32).max(created.as_secs()));
        let sub = |d| Subpacket::regular(d).map_err(|e| key_err(&self.origin, "signature", e));
        c.hashed_subpackets = vec![
            sub(SubpacketData::SignatureCreationTime(at))?,
            sub(SubpacketData::IssuerFingerprint(fingerprint))?,
        ];
        c.unhashed_subpackets = vec![sub(SubpacketData::IssuerKeyId(id))?];
        Ok(c)
    }

    fn sign(&self, typ: SignatureType, data: impl Read, time: i64) -> Result<Signature> {
        let c = self.config(typ, time)?;
        let pw = Password::from(self.passphrase.as_str());
        match &self.signing {
            Signing::Primary(k) => c.sign(k, &pw, data),
            Signing::Sub(k) => c.sign(k, &pw, data),
        }
        .map_err(|e| key_err(&self.origin, "cannot sign", e))
    }

    /// A binary detached signature packet over `data`, made at `time` (or at the key's
    /// creation, when that is later).
    pub fn detached(&self, data: impl Read, time: i64) -> Result<Vec<u8>> {
        let sig = self.sign(SignatureType::Binary, data, time)?;
        let mut out = Vec::new();
        sig.to_writer_with_header(&mut out)
            .map_err(|e| key_err(&self.origin, "cannot write the signature", e))?;
        Ok(out)
    }

    /// An armored detached signature over `data` (`Release.gpg`, `repomd.xml.asc`).
    pub fn armored(&self, data: impl Read, time: i64) -> Result<String> {
        let sig = self.sign(SignatureType::Binary, data, time)?;
        DetachedSignature::new(sig)
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| key_err(&self.origin, "cannot write the signature", e))
    }

    /// `text` cleartext-signed (`InRelease`).
    pub fn cleartext(&self, text: &str, time: i64) -> Result<String> {
        let c = self.config(SignatureType::Text, time)?;
        let pw = Password::from(self.passphrase.as_str());
        let msg = match &self.signing {
            Signing::Primary(k) => CleartextSignedMessage::new(text, c, k, &pw),
            Signing::Sub(k) => CleartextSignedMessage::new(text, c, k, &pw),
        }
        .map_err(|e| key_err(&self.origin, "cannot sign", e))?;
        msg.to_armored_string(ArmorOptions::default())
            .map_err(|e| key_err(&self.origin, "cannot write the signature", e))
    }
}
