//! Signatures: every signature asset is the one in `dist/` (when there is one) and verifies,
//! with the public half of the key the config signs with, against the bytes the release
//! serves for what it signs.
//!
//! The config holds the signing (secret) key; its public half is what checks: OpenPGP's is
//! read without the passphrase, minisign and Sigstore keys are opened with the passphrase the
//! sign stage uses (`REL_<ID>_SIGN_PASSPHRASE`, `REL_SIGN_PASSPHRASE`). A signature made by a
//! command (`gpg`, `cosign`) has no key rel can read: it is compared with `dist/` and said to
//! be unverified, as is one whose key cannot be opened here.

use super::{Report, Session, Signed};
use crate::artifact::Kind;
use crate::keys;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::path::{Path, PathBuf};

/// The signatures of the release and what each signs: those recorded in `artifacts.json`,
/// or, from the tag alone, each asset whose name a `signs` entry's `signature` template gives
/// for another asset.
pub fn pairs(s: &Session) -> Vec<Signed> {
    let entry_of = |id: &str| {
        s.ctx
            .config
            .signs
            .iter()
            .position(|e| e.id.as_deref().unwrap_or_default() == id)
    };
    if s.recorded.is_some() {
        return s
            .recorded_of(Kind::Signature)
            .into_iter()
            .map(|a| {
                let text = |k: &str| {
                    a.extra
                        .get(k)
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_string()
                };
                Signed {
                    signature: a.name.clone(),
                    subject: text("signs"),
                    signer: text("signer"),
                    entry: entry_of(&text("id")),
                }
            })
            .collect();
    }
    let mut out: Vec<Signed> = vec![];
    for (i, e) in s.ctx.config.signs.iter().enumerate() {
        if e.artifacts.as_deref() == Some("none") {
            continue;
        }
        let template = e
            .signature
            .clone()
            .unwrap_or_else(|| default_signature(e.signer.as_deref(), e.armor));
        for subject in s.assets.keys() {
            let Ok(name) = s.render(
                &format!("signs[{i}].signature"),
                &template,
                &[
                    ("artifact", subject.clone()),
                    ("artifact_id", String::new()),
                ],
            ) else {
                continue;
            };
            let name = name.replace("${artifact}", subject);
            let name = name.rsplit('/').next().unwrap_or(&name).to_string();
            if name != *subject
                && s.assets.contains_key(&name)
                && !out.iter().any(|p| p.signature == name)
            {
                out.push(Signed {
                    signature: name,
                    subject: subject.clone(),
                    signer: e.signer.clone().unwrap_or_else(|| "cmd".into()),
                    entry: Some(i),
                });
            }
        }
    }
    // A signature is never itself the subject of another found the same way (`a.sig.sig`).
    let names: Vec<String> = out.iter().map(|p| p.signature.clone()).collect();
    out.retain(|p| !names.contains(&p.subject));
    out
}

/// The sign stage's default signature name for an entry (`artifacts: binary` signatures carry
/// the target and are never found from asset names alone).
fn default_signature(signer: Option<&str>, armor: bool) -> String {
    let ext = match (signer, armor) {
        (Some("minisign"), _) => "minisig",
        (Some("sigstore"), _) => "sigstore.json",
        (_, true) => "asc",
        _ => "sig",
    };
    format!("{{{{ artifact }}}}.{ext}")
}

/// What a cryptographic check came to.
enum Crypto {
    /// It verifies; with what.
    Valid(String),
    /// It does not verify: a mismatch.
    Invalid(String),
    /// It could not be checked here, and why.
    Cannot(String),
}

/// Verify every signature.
pub fn check(s: &mut Session, r: &mut Report) {
    if s.signed.is_empty() {
        if s.release.is_some() && !s.ctx.config.signs.is_empty() && s.recorded.is_none() {
            r.unchecked(
                "signature",
                &s.head.tag,
                "no asset of the release is named as a `signs` entry names its signatures",
            );
        }
        return;
    }
    for p in s.signed.clone() {
        one(s, r, &p);
    }
}

fn one(s: &Session, r: &mut Report, p: &Signed) {
    let name = &p.signature;
    let Some(sig) = s.downloaded.get(name).and_then(|d| d.kept.clone()) else {
        r.fail(
            "signature",
            name,
            "not on the release (or not downloadable): nothing to verify",
        );
        return;
    };
    let mut notes = vec![];
    // The signature the release serves is the one the release made.
    if let Some(local) = recorded_path(s, name)
        && local.is_file()
    {
        let same = std::fs::read(&local).ok() == std::fs::read(&sig).ok();
        if !same {
            r.fail(
                "signature",
                name,
                format!(
                    "the release serves other bytes than {}",
                    s.ctx.rel_path(&local)
                ),
            );
            return;
        }
        notes.push(format!("same bytes as {}", s.ctx.rel_path(&local)));
    }
    // What it signs, as the release serves it, else (a binary, never uploaded) from dist/.
    let subject = match s.downloaded.get(&p.subject).and_then(|d| d.kept.clone()) {
        Some(f) => Some(f),
        None => recorded_path(s, &p.subject)
            .filter(|f| f.is_file())
            .inspect(|f| {
                notes.push(format!(
                    "{} is not a release asset: checked against {}",
                    p.subject,
                    s.ctx.rel_path(f)
                ))
            }),
    };
    let crypto = match subject {
        None => Crypto::Cannot(format!(
            "{} is neither on the release nor in dist/",
            p.subject
        )),
        Some(subject) => crypto(s, p, &sig, &subject),
    };
    let notes = if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    };
    match crypto {
        Crypto::Valid(how) => r.pass(
            "signature",
            name,
            format!("{} of {} verifies {how}{notes}", p.signer, p.subject),
        ),
        Crypto::Invalid(why) => r.fail(
            "signature",
            name,
            format!("{} of {} does not verify: {why}", p.signer, p.subject),
        ),
        Crypto::Cannot(why) => r.unchecked(
            "signature",
            name,
            format!("not verified cryptographically: {why}{notes}"),
        ),
    }
}

/// The file `artifacts.json` records for `name`, when it does.
fn recorded_path(s: &Session, name: &str) -> Option<PathBuf> {
    s.recorded
        .iter()
        .flatten()
        .find(|a| a.name == name && !a.path.is_empty())
        .map(|a| s.ctx.root.join(&a.path))
}

/// Check `sig` over `subject` with the public half of the entry's key.
fn crypto(s: &Session, p: &Signed, sig: &Path, subject: &Path) -> Crypto {
    let Some(i) = p.entry else {
        return Crypto::Cannot("no `signs` entry of the config made it".into());
    };
    let entry = &s.ctx.config.signs[i];
    let kind = entry.signer.as_deref().unwrap_or("cmd");
    if kind == "cmd" || p.signer == "cmd" {
        return Crypto::Cannot(format!(
            "`signs[{i}]` signs with the command `{}`, whose public key rel does not hold",
            entry.cmd.as_deref().unwrap_or("gpg")
        ));
    }
    let at = format!("signs[{i}].key_file");
    let key = entry
        .key_file
        .as_deref()
        .ok_or_else(|| format!("`signs[{i}]` has no key_file"))
        .and_then(|t| s.render(&at, t, &[]).map_err(|e| e.to_string()))
        .and_then(|v| keys::read(&s.ctx.root, &at, &v).map_err(|e| e.to_string()));
    let (bytes, origin) = match key {
        Ok(k) => k,
        Err(e) => return Crypto::Cannot(format!("cannot read the key: {e}")),
    };
    let sig_bytes = match std::fs::read(sig) {
        Ok(b) => b,
        Err(e) => return Crypto::Cannot(format!("cannot read the downloaded signature: {e}")),
    };
    let passphrase = || {
        keys::passphrase(&[
            format!(
                "REL_{}_SIGN_PASSPHRASE",
                keys::env_part(entry.id.as_deref().unwrap_or_default())
            ),
            "REL_SIGN_PASSPHRASE".into(),
        ])
    };
    let result = match kind {
        "openpgp" => openpgp(&bytes, &sig_bytes, subject),
        "minisign" => match keys::minisign::Key::load(&bytes, &passphrase(), origin.clone()) {
            Ok(k) => minisign(&k, &sig_bytes, subject),
            Err(e) => return Crypto::Cannot(format!("cannot open the key: {e}")),
        },
        "sigstore" => match keys::sigstore::Key::load(&bytes, &passphrase(), origin.clone()) {
            Ok(k) => sigstore(&k, &sig_bytes, subject),
            Err(e) => return Crypto::Cannot(format!("cannot open the key: {e}")),
        },
        other => return Crypto::Cannot(format!("unknown signer `{other}`")),
    };
    match result {
        Ok(how) => Crypto::Valid(format!("{how} of {origin}")),
        Err(why) => Crypto::Invalid(why),
    }
}

/// An OpenPGP detached signature (binary or armored) against the primary key or a subkey;
/// the public half is read from the secret key without unlocking it.
fn openpgp(key: &[u8], sig: &[u8], subject: &Path) -> Result<String, String> {
    use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey, SignedSecretKey};
    use pgp::types::KeyDetails;
    let armored = key.trim_ascii_start().starts_with(b"-----BEGIN");
    let public: SignedPublicKey = if armored {
        SignedSecretKey::from_armor_single(key)
            .map(|(k, _)| k.to_public_key())
            .or_else(|_| SignedPublicKey::from_armor_single(key).map(|(k, _)| k))
    } else {
        SignedSecretKey::from_bytes(key)
            .map(|k| k.to_public_key())
            .or_else(|_| SignedPublicKey::from_bytes(key))
    }
    .map_err(|e| format!("the key is not an OpenPGP key: {e}"))?;
    let parsed = if sig.trim_ascii_start().starts_with(b"-----BEGIN") {
        DetachedSignature::from_armor_single(sig).map(|(s, _)| s)
    } else {
        DetachedSignature::from_bytes(sig)
    }
    .map_err(|e| format!("not an OpenPGP signature: {e}"))?;
    let open = || {
        std::fs::File::open(subject)
            .map(std::io::BufReader::new)
            .map_err(|e| format!("cannot read {}: {e}", subject.display()))
    };
    let id = |k: &dyn KeyDetails| crate::hash::hex(k.legacy_key_id().as_ref()).to_uppercase();
    if parsed.signature.verify(&public, open()?).is_ok() {
        return Ok(format!("with key {}", id(&public.primary_key)));
    }
    for sub in &public.public_subkeys {
        if parsed.signature.verify(sub, open()?).is_ok() {
            return Ok(format!("with subkey {}", id(&sub.key)));
        }
    }
    Err("it verifies with no key of the configured certificate".into())
}

/// A minisign signature (prehashed `ED`): the signature over the file's BLAKE2b-512 and the
/// global signature over signature and trusted comment.
fn minisign(key: &keys::minisign::Key, sig: &[u8], subject: &Path) -> Result<String, String> {
    use blake2::{Blake2b512, Digest};
    use ed25519_dalek::Verifier;
    let text = std::str::from_utf8(sig).map_err(|_| "the signature is not text".to_string())?;
    let lines: Vec<&str> = text.lines().collect();
    let (Some(line), Some(trusted), Some(global)) = (lines.get(1), lines.get(2), lines.get(3))
    else {
        return Err("not a minisign signature (too few lines)".into());
    };
    let raw = B64
        .decode(line.trim())
        .map_err(|e| format!("not a minisign signature: {e}"))?;
    if raw.len() != 74 || &raw[..2] != b"ED" {
        return Err("not a prehashed (ED) minisign signature".into());
    }
    let (keynum, public) = key.public();
    if raw[2..10] != keynum {
        return Err(format!(
            "made by key {}, the configured key is {}",
            crate::hash::hex(&raw[2..10]).to_uppercase(),
            crate::hash::hex(&keynum).to_uppercase()
        ));
    }
    let signature = ed25519_dalek::Signature::from_slice(&raw[10..])
        .map_err(|e| format!("not a minisign signature: {e}"))?;
    let mut h = Blake2b512::new();
    crate::hash::stream(subject, &mut |b| h.update(b)).map_err(|e| e.to_string())?;
    public
        .verify(&h.finalize(), &signature)
        .map_err(|_| "the signature does not match the file's bytes".to_string())?;
    let comment = trusted
        .strip_prefix("trusted comment: ")
        .ok_or("no trusted comment")?;
    let global = B64
        .decode(global.trim())
        .ok()
        .and_then(|g| ed25519_dalek::Signature::from_slice(&g).ok())
        .ok_or("the global signature does not parse")?;
    let mut signed = raw[10..].to_vec();
    signed.extend_from_slice(comment.as_bytes());
    public
        .verify(&signed, &global)
        .map_err(|_| "the trusted comment was altered".to_string())?;
    Ok(format!(
        "with key {}",
        crate::hash::hex(&keynum).to_uppercase()
    ))
}

/// A keyed Sigstore bundle: the key hint is the configured key's, the message digest is the
/// file's SHA-256, and the ECDSA signature checks over that digest.
fn sigstore(key: &keys::sigstore::Key, sig: &[u8], subject: &Path) -> Result<String, String> {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use pkcs8::DecodePublicKey;
    if key.is_ed25519() {
        return Err("the configured key is Ed25519, which signs no Sigstore blob bundle".into());
    }
    let bundle: serde_json::Value =
        serde_json::from_slice(sig).map_err(|e| format!("not a Sigstore bundle: {e}"))?;
    let hint = key.hint().map_err(|e| e.to_string())?;
    let theirs = bundle["verificationMaterial"]["publicKey"]["hint"]
        .as_str()
        .unwrap_or_default();
    if theirs != hint {
        return Err(format!(
            "made by the key with hint {theirs}, the configured key's is {hint}"
        ));
    }
    let (digest, _) = crate::hash::sha256_file(subject).map_err(|e| e.to_string())?;
    let digest = hex_bytes(&digest);
    let m = &bundle["messageSignature"];
    let stated = B64
        .decode(m["messageDigest"]["digest"].as_str().unwrap_or_default())
        .unwrap_or_default();
    if stated != digest {
        return Err("the bundle's message digest is not the SHA-256 of the file".into());
    }
    let der = B64
        .decode(m["signature"].as_str().unwrap_or_default())
        .map_err(|e| format!("the bundle's signature is not base64: {e}"))?;
    let signature = p256::ecdsa::Signature::from_der(&der)
        .map_err(|e| format!("the bundle's signature is not ECDSA: {e}"))?;
    let public = p256::ecdsa::VerifyingKey::from_public_key_der(
        &key.public_der().map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    public
        .verify_prehash(&digest, &signature)
        .map_err(|_| "the signature does not match the file's bytes".to_string())?;
    Ok(format!("with key hint {hint}"))
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> keys::Origin {
        keys::Origin {
            key: "signs[0].key_file".into(),
            source: "test".into(),
        }
    }

    #[test]
    fn a_sigstore_bundle_verifies_and_a_changed_file_does_not() {
        let d = tempfile::tempdir().unwrap();
        use pkcs8::EncodePrivateKey;
        let pem = p256::SecretKey::from_slice(&[7u8; 32])
            .unwrap()
            .to_pkcs8_pem(pkcs8::LineEnding::LF)
            .unwrap();
        let key = keys::sigstore::Key::load(pem.as_bytes(), "", origin()).unwrap();
        let file = d.path().join("sums.txt");
        std::fs::write(&file, b"abc  a.tar.gz\n").unwrap();
        let bundle = serde_json::to_vec(&key.message_bundle(b"abc  a.tar.gz\n").unwrap()).unwrap();
        assert!(sigstore(&key, &bundle, &file).is_ok());
        std::fs::write(&file, b"abd  a.tar.gz\n").unwrap();
        assert!(sigstore(&key, &bundle, &file).is_err());
    }

    #[test]
    fn tag_mode_finds_default_signature_names() {
        assert_eq!(
            default_signature(Some("minisign"), false),
            "{{ artifact }}.minisig"
        );
        assert_eq!(default_signature(None, true), "{{ artifact }}.asc");
        assert_eq!(hex_bytes("0aff"), vec![0x0a, 0xff]);
    }
}
