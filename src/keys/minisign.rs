//! minisign signatures (`.minisig`, the prehashed `ED` algorithm): the key file is read and
//! decrypted by the `minisign` crate; the signing itself is done here with Ed25519
//! (`ed25519-dalek`) over the BLAKE2b-512 of the file, because the crate adds random noise to
//! each signature and rel's signatures must reproduce. The trusted comment carries the
//! commit time and the file name, as `minisign -S` writes them.

use super::Origin;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use blake2::{Blake2b512, Digest};
use ed25519_dalek::Signer;
use std::io::Read;

/// A loaded minisign secret key.
#[derive(Clone)]
pub struct Key {
    keynum: [u8; 8],
    key: ed25519_dalek::SigningKey,
}

impl Key {
    /// Parse a minisign secret key file, decrypting it with `passphrase` when it is
    /// encrypted (an empty passphrase for a key made with `minisign -G -W`).
    pub fn load(bytes: &[u8], passphrase: &str, origin: Origin) -> Result<Key> {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            Error::Failed(format!("{origin}: is not a minisign secret key (not text)"))
        })?;
        let b64 = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .unwrap_or_default();
        let decoded = B64.decode(b64).unwrap_or_default();
        if decoded.len() < 158 || &decoded[..2] != b"Ed" {
            return Err(Error::Failed(format!(
                "{origin}: is not a minisign secret key"
            )));
        }
        // An unencrypted key (`minisign -G -W`) is read as it is; an encrypted one is
        // decrypted by the crate (scrypt parameters as libsodium picks them).
        let raw = if decoded[2..4] == [0, 0] {
            decoded
        } else {
            let boxed = minisign::SecretKeyBox::from_string(text).map_err(|e| {
                Error::Failed(format!("{origin}: is not a minisign secret key: {e}"))
            })?;
            let sk = minisign::SecretKey::from_box(boxed, Some(passphrase.to_string())).map_err(
                |e| {
                    Error::Failed(format!(
                        "{origin}: cannot decrypt it (wrong passphrase?): {e}"
                    ))
                },
            )?;
            sk.to_bytes()
        };
        // sig_alg 2, kdf_alg 2, chk_alg 2, salt 32, opslimit 8, memlimit 8, keynum 8, sk 64.
        let keynum: [u8; 8] = raw[54..62].try_into().unwrap_or_default();
        let seed: [u8; 32] = raw[62..94]
            .try_into()
            .map_err(|_| Error::Failed(format!("{origin}: is not a minisign secret key")))?;
        Ok(Key {
            keynum,
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// The key number and the public key: what `minisign -V` (and `rel verify`) checks a
    /// signature with.
    pub fn public(&self) -> ([u8; 8], ed25519_dalek::VerifyingKey) {
        (self.keynum, self.key.verifying_key())
    }

    /// The `.minisig` text of `data`, named `file`, signed at `time`.
    pub fn sign(&self, mut data: impl Read, file: &str, time: i64) -> Result<String> {
        let mut h = Blake2b512::new();
        std::io::copy(&mut data, &mut h)
            .map_err(|e| Error::Failed(format!("cannot read {file}: {e}")))?;
        let digest = h.finalize();
        let sig = self.key.sign(&digest).to_bytes();
        let mut line = b"ED".to_vec();
        line.extend(self.keynum);
        line.extend(sig);
        let trusted = format!("timestamp:{time}\tfile:{file}\thashed");
        let mut global = sig.to_vec();
        global.extend(trusted.as_bytes());
        let global_sig = self.key.sign(&global).to_bytes();
        Ok(format!(
            "untrusted comment: signature from rel secret key\n{}\ntrusted comment: {trusted}\n{}\n",
            B64.encode(line),
            B64.encode(global_sig)
        ))
    }
}
