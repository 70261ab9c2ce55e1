//! Base images: `scratch`, or a registry image whose per-platform manifest is picked from
//! its index.
//!
//! The base's layers are kept as they are (same digests), so on the same registry they are
//! mounted rather than uploaded, and its config (env, labels, history) is extended rather
//! than replaced. Layers are also copied into the layout so a snapshot layout is complete.

use super::layout::{Descriptor, Layout, digest_of, media};
use super::platform::Platform;
use super::registry::Registry;
use crate::error::{Error, Result};
use oci_client::{Reference, RegistryOperation};
use serde_json::Value;
use std::collections::BTreeMap;

/// One platform's image of the base.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// The base's config, to extend.
    pub config: Value,
    /// Its layers, in order.
    pub layers: Vec<Descriptor>,
}

/// Whether `base` means "no base".
pub fn is_scratch(base: Option<&str>) -> bool {
    matches!(base.map(str::trim), None | Some("") | Some("scratch"))
}

fn descriptor(v: &Value) -> Option<Descriptor> {
    Some(Descriptor {
        media_type: v.get("mediaType")?.as_str()?.to_string(),
        digest: v.get("digest")?.as_str()?.to_string(),
        size: v.get("size")?.as_u64()?,
    })
}

fn is_index(v: &Value) -> bool {
    let mt = v
        .get("mediaType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    mt == media::INDEX
        || mt == media::DOCKER_LIST
        || (mt.is_empty() && v.get("manifests").is_some())
}

/// Pick the manifest of each wanted platform from `index`, or say which are missing.
pub fn pick(
    index: &Value,
    wanted: &[Platform],
    what: &str,
) -> Result<BTreeMap<Platform, Descriptor>> {
    let entries: Vec<(Platform, Descriptor)> = index
        .get("manifests")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| Some((Platform::from_json(m.get("platform")?)?, descriptor(m)?)))
                .collect()
        })
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for p in wanted {
        // An exact match first; an entry without a variant serves a request without one.
        match entries.iter().find(|(ep, _)| ep == p) {
            Some((_, d)) => {
                out.insert(p.clone(), d.clone());
            }
            None => {
                let have: Vec<String> = entries.iter().map(|(p, _)| p.to_string()).collect();
                return Err(Error::Failed(format!(
                    "the base image {what} has no {p} image (it has: {}); choose a base that supports {p} or remove {p} from the image's platforms",
                    if have.is_empty() {
                        "none".into()
                    } else {
                        have.join(", ")
                    }
                )));
            }
        }
    }
    Ok(out)
}

/// Parse an image reference, with a clear error.
pub fn parse_ref(s: &str, what: &str) -> Result<Reference> {
    crate::oci_ref::parse(s).map_err(|e| Error::Usage(format!("{what}: {e}")))
}

/// Resolve `base` for `platforms`: read its index (or single manifest), each platform's
/// config, and copy its layers into `layout`.
pub async fn resolve(
    reg: &Registry,
    base: &Reference,
    platforms: &[Platform],
    layout: &Layout,
) -> Result<BTreeMap<Platform, BaseImage>> {
    reg.login(base, RegistryOperation::Pull).await?;
    let (bytes, digest) = reg.get_manifest(base).await?;
    let top: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Failed(format!(
            "the base image {} has an unreadable manifest: {e}",
            base.whole()
        ))
    })?;
    let mut manifests: BTreeMap<Platform, (Value, Reference)> = BTreeMap::new();
    if is_index(&top) {
        for (p, d) in pick(&top, platforms, &base.whole())? {
            let r = base.clone_with_digest(d.digest.clone());
            let (b, _) = reg.get_manifest(&r).await?;
            let v: Value = serde_json::from_slice(&b).map_err(|e| {
                Error::Failed(format!(
                    "the base image {} has an unreadable manifest: {e}",
                    r.whole()
                ))
            })?;
            manifests.insert(p, (v, r));
        }
    } else {
        // A single-platform base: its config says which platform it is.
        let r = base.clone_with_digest(digest);
        let cfg_digest = top
            .get("config")
            .and_then(|c| c.get("digest"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let cfg: Value =
            serde_json::from_slice(&reg.get_blob(&r, &cfg_digest).await?).unwrap_or(Value::Null);
        let have = Platform::from_json(&cfg);
        let fake_index = serde_json::json!({"manifests": [{"mediaType": "x", "digest": "x", "size": 0, "platform": have.as_ref().map(Platform::to_json)}]});
        for p in pick(&fake_index, platforms, &base.whole())?.into_keys() {
            manifests.insert(p, (top.clone(), r.clone()));
        }
    }
    let mut out = BTreeMap::new();
    for (p, (m, r)) in manifests {
        let cfg_d = m.get("config").and_then(descriptor).ok_or_else(|| {
            Error::Failed(format!(
                "the base image {} ({p}) has no config",
                base.whole()
            ))
        })?;
        let cfg_bytes = reg.get_blob(&r, &cfg_d.digest).await?;
        if digest_of(&cfg_bytes) != cfg_d.digest {
            return Err(Error::Failed(format!(
                "the base image {} ({p}): config digest mismatch",
                base.whole()
            )));
        }
        let config: Value = serde_json::from_slice(&cfg_bytes).map_err(|e| {
            Error::Failed(format!(
                "the base image {} ({p}) has an unreadable config: {e}",
                base.whole()
            ))
        })?;
        let layers: Vec<Descriptor> = m
            .get("layers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(descriptor).collect())
            .unwrap_or_default();
        for l in &layers {
            if !layout.has(&l.digest) {
                let tmp = layout.temp()?;
                reg.get_blob_to(&r, &l.digest, tmp.path()).await?;
                layout.commit(tmp, &l.digest)?;
            }
        }
        out.insert(p, BaseImage { config, layers });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_platforms_or_names_the_missing_one() {
        let idx = serde_json::json!({"mediaType": media::INDEX, "manifests": [
            {"mediaType": media::MANIFEST, "digest": "sha256:a", "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": media::MANIFEST, "digest": "sha256:b", "size": 2, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        ]});
        let want = [Platform::parse("linux/arm64").unwrap()];
        assert_eq!(pick(&idx, &want, "b").unwrap()[&want[0]].digest, "sha256:b");
        let err = pick(&idx, &[Platform::parse("linux/arm/v7").unwrap()], "base:1")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("has no linux/arm/v7 image (it has: linux/amd64, linux/arm64)"),
            "{err}"
        );
        assert!(is_scratch(Some("scratch")) && is_scratch(None) && !is_scratch(Some("alpine")));
    }
}
