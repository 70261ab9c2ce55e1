//! Images: every image index the release pushed still resolves, by its tag, to the digest
//! the release recorded, and that index lists every recorded platform, each of whose
//! manifests the registry still holds.
//!
//! A tag pushed over by something else afterwards is the failure this catches: it is named
//! with both digests.

use super::{Report, Session};
use crate::artifact::{Artifact, Kind};
use crate::oci::registry::Registry;
use oci_client::{Reference, RegistryOperation};
use std::collections::BTreeMap;

/// Check every pushed image index.
pub fn check(s: &mut Session, r: &mut Report) {
    let c = &s.ctx.config;
    let configured = !(c.images.is_empty()
        && c.dockers_v2.is_empty()
        && c.dockers.is_empty()
        && c.manifests.is_empty()
        && c.docker_manifests.is_empty());
    if s.recorded.is_none() {
        if configured {
            r.unchecked(
                "image",
                &s.head.tag,
                "without dist/artifacts.json no digest is recorded to compare the registries' tags with",
            );
        }
        return;
    }
    let pushed: Vec<Artifact> = s
        .recorded_of(Kind::ImageIndex)
        .into_iter()
        .filter(|a| a.extra.get("pushed").and_then(|v| v.as_bool()) == Some(true))
        .cloned()
        .collect();
    let mut registries: BTreeMap<String, Registry> = BTreeMap::new();
    for a in pushed {
        let text = |k: &str| {
            a.extra
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let (repository, tag, digest) = (text("repository"), text("tag"), text("digest"));
        let platforms: Vec<String> = a
            .extra
            .get("platforms")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(String::from))
            .collect();
        let subject = format!("{repository}:{tag}");
        let reference = match crate::oci_ref::parse(&subject) {
            Ok(r) => r,
            Err(e) => {
                r.fail("image", &subject, format!("not a reference: {e}"));
                continue;
            }
        };
        let host = reference.resolve_registry().to_string();
        let reg = registries
            .entry(host.clone())
            .or_insert_with(|| Registry::new(&host, insecure(s, &host)));
        match s.rt.block_on(one(reg, &reference, &digest, &platforms)) {
            Ok(detail) => r.pass("image", &subject, detail),
            Err(why) => r.fail("image", &subject, why),
        }
    }
}

/// Whether the config pushes to `host` with `insecure: true` (plain HTTP; local hosts are
/// plain HTTP anyway).
fn insecure(s: &Session, host: &str) -> bool {
    let c = &s.ctx.config;
    let on_host = |name: &str| name.split('/').next() == Some(host);
    c.images
        .iter()
        .any(|i| i.insecure && on_host(&i.repository))
        || c.dockers_v2
            .iter()
            .any(|d| d.insecure && d.images.iter().any(|n| on_host(n)))
        || c.dockers
            .iter()
            .any(|d| d.insecure && d.image_templates.iter().any(|n| on_host(n)))
        || c.manifests
            .iter()
            .any(|m| m.insecure && on_host(&m.name_template))
        || c.docker_manifests
            .iter()
            .any(|m| m.insecure && on_host(&m.name_template))
}

/// `os/arch[/variant]` of each entry of an index.
fn platforms_of(index: &serde_json::Value) -> Vec<(String, String)> {
    index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let p = &m["platform"];
            let mut name = format!(
                "{}/{}",
                p["os"].as_str().unwrap_or_default(),
                p["architecture"].as_str().unwrap_or_default()
            );
            if let Some(v) = p["variant"].as_str() {
                name.push_str(&format!("/{v}"));
            }
            (name, m["digest"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

/// The tag resolves to `digest`, whose index lists `platforms`, each manifest present.
async fn one(
    reg: &Registry,
    tag: &Reference,
    digest: &str,
    platforms: &[String],
) -> Result<String, String> {
    reg.login(tag, RegistryOperation::Pull)
        .await
        .map_err(|e| e.to_string())?;
    let now = match reg.find_manifest(tag).await.map_err(|e| e.to_string())? {
        None => {
            return Err(format!(
                "the tag is gone from the registry (the release pushed {digest})"
            ));
        }
        Some((bytes, _)) => crate::oci::digest_of(&bytes),
    };
    let by_digest = Reference::with_digest(
        tag.resolve_registry().to_string(),
        tag.repository().to_string(),
        digest.to_string(),
    );
    let recorded = reg
        .find_manifest(&by_digest)
        .await
        .map_err(|e| e.to_string())?;
    if now != digest {
        return Err(format!(
            "re-pointed: the tag resolves to {now}, the release pushed {digest}{}",
            if recorded.is_none() {
                " (which the registry no longer holds)"
            } else {
                ""
            }
        ));
    }
    let Some((bytes, _)) = recorded else {
        return Err(format!("the registry no longer holds {digest}"));
    };
    let index: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{digest} is not JSON: {e}"))?;
    let listed = platforms_of(&index);
    let mut problems = vec![];
    for p in platforms {
        match listed.iter().find(|(name, _)| name == p) {
            None => problems.push(format!("the index lists no {p}")),
            Some((_, d)) => {
                let r = Reference::with_digest(
                    tag.resolve_registry().to_string(),
                    tag.repository().to_string(),
                    d.clone(),
                );
                if reg
                    .find_manifest(&r)
                    .await
                    .map_err(|e| e.to_string())?
                    .is_none()
                {
                    problems.push(format!("the {p} manifest {d} is gone"));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(format!("{digest}: {}", problems.join("; ")));
    }
    Ok(format!(
        "{digest} with {}",
        if platforms.is_empty() {
            "no recorded platforms".to_string()
        } else {
            platforms.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_read_with_their_variant() {
        let index = serde_json::json!({"manifests": [
            {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
        ]});
        assert_eq!(
            platforms_of(&index),
            [
                ("linux/amd64".to_string(), "sha256:a".to_string()),
                ("linux/arm/v7".to_string(), "sha256:b".to_string())
            ]
        );
    }
}
