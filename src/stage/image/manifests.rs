//! The `manifests` section: one image index over images that already exist, each pinned by
//! digest.
//!
//! Every listed image is read from the registry (an index contributes all its platform
//! entries); images from another repository of the same registry are copied into the index's
//! repository first (blobs mounted, manifest written by digest), because a registry only
//! accepts an index whose manifests live in its own repository.

use super::base::parse_ref;
use super::layout::{Descriptor, media};
use super::platform::Platform;
use super::registry::Registry;
use crate::artifact::{Artifact, Kind};
use crate::context::Context;
use crate::error::{Error, Result};
use oci_client::{Reference, RegistryOperation};
use serde_json::{Value, json};

/// One rendered `manifests` entry.
#[derive(Debug, Clone)]
pub struct ManifestSpec {
    /// Position in `manifests`.
    pub index: usize,
    /// The index reference.
    pub name: Reference,
    /// The images it lists.
    pub images: Vec<Reference>,
    /// Plain HTTP allowed.
    pub insecure: bool,
}

/// The images an index lists: each template rendered and parsed, on the index's registry.
/// Empty renderings are left out when `skip_empty` (GoReleaser's `docker_manifests` rule).
fn listed(
    ctx: &Context,
    key: &str,
    name: &Reference,
    templates: &[String],
    skip_empty: bool,
) -> Result<Vec<Reference>> {
    let mut images = vec![];
    for (j, t) in templates.iter().enumerate() {
        let k = format!("{key}[{j}]");
        let rendered = ctx.render(&k, t)?;
        if skip_empty && rendered.trim().is_empty() {
            continue;
        }
        let r = parse_ref(rendered.trim(), &k)?;
        if r.resolve_registry() != name.resolve_registry() {
            return Err(Error::Usage(format!(
                "{k}: {} is on another registry than the index {}; an index can only list images of its own registry",
                r.whole(),
                name.whole()
            )));
        }
        images.push(r);
    }
    if images.is_empty() {
        return Err(Error::Usage(format!("{key}: list at least one image")));
    }
    Ok(images)
}

/// Render and check every `manifests` and `docker_manifests` entry.
pub fn specs(ctx: &Context) -> Result<Vec<ManifestSpec>> {
    let mut out = vec![];
    for (i, m) in ctx.config.manifests.iter().enumerate() {
        let key = format!("manifests[{i}]");
        let name = parse_ref(
            &ctx.render(&format!("{key}.name_template"), &m.name_template)?,
            &format!("{key}.name_template"),
        )?;
        let images = listed(ctx, &format!("{key}.images"), &name, &m.images, false)?;
        out.push(ManifestSpec {
            index: i,
            name,
            images,
            insecure: m.insecure,
        });
    }
    // GoReleaser's `docker_manifests`: the same index over the `dockers` images, which the
    // dockers stage pushed before this one runs. Empty names are left out, as GoReleaser does.
    for (i, m) in ctx.config.docker_manifests.iter().enumerate() {
        let key = format!("docker_manifests[{i}]");
        let skip = match &m.skip_push {
            None | Some(crate::config::SkipUpload::Bool(false)) => false,
            Some(crate::config::SkipUpload::Bool(true)) => true,
            Some(crate::config::SkipUpload::Word(w)) => w == "auto" && ctx.version.contains('-'),
        };
        let rendered = ctx.render(&format!("{key}.name_template"), &m.name_template)?;
        if skip || rendered.trim().is_empty() {
            continue;
        }
        let name = parse_ref(rendered.trim(), &format!("{key}.name_template"))?;
        let images = listed(
            ctx,
            &format!("{key}.image_templates"),
            &name,
            &m.image_templates,
            true,
        )?;
        out.push(ManifestSpec {
            index: ctx.config.manifests.len() + i,
            name,
            images,
            insecure: m.insecure,
        });
    }
    Ok(out)
}

fn descriptor(v: &Value) -> Option<Descriptor> {
    Some(Descriptor {
        media_type: v.get("mediaType")?.as_str()?.to_string(),
        digest: v.get("digest")?.as_str()?.to_string(),
        size: v.get("size")?.as_u64()?,
    })
}

/// Copy the manifest `m` (digest `d`) from `src` into `target`'s repository.
async fn copy_into(
    reg: &Registry,
    src: &Reference,
    target: &Reference,
    d: &Descriptor,
    bytes: &[u8],
) -> Result<()> {
    if src.repository() == target.repository() {
        return Ok(());
    }
    let m: Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::Failed(format!("{} has an unreadable manifest: {e}", src.whole())))?;
    let mut blobs: Vec<Descriptor> = m.get("config").and_then(descriptor).into_iter().collect();
    blobs.extend(
        m.get("layers")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(descriptor).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    for b in blobs {
        // Present or mountable: done. Otherwise through a temporary file.
        if reg.ensure_blob(target, &b, None, Some(src)).await? {
            continue;
        }
        let tmp = tempfile::NamedTempFile::new()
            .map_err(|e| Error::Failed(format!("cannot create a temporary file: {e}")))?;
        reg.get_blob_to(src, &b.digest, tmp.path()).await?;
        reg.ensure_blob(target, &b, Some(tmp.path()), None).await?;
    }
    let r = Reference::with_digest(
        target.registry().into(),
        target.repository().into(),
        d.digest.clone(),
    );
    reg.put_manifest(&r, &d.media_type, bytes).await
}

/// Create and push one index; returns its artifact.
pub async fn push(spec: &ManifestSpec) -> Result<Artifact> {
    let reg = Registry::new(spec.name.resolve_registry(), spec.insecure);
    reg.login(&spec.name, RegistryOperation::Push).await?;
    let mut entries: Vec<Value> = vec![];
    let mut platforms = vec![];
    for img in &spec.images {
        reg.login(img, RegistryOperation::Pull).await?;
        let (bytes, digest) = reg.get_manifest(img).await?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Failed(format!("{} has an unreadable manifest: {e}", img.whole()))
        })?;
        let mt = v
            .get("mediaType")
            .and_then(Value::as_str)
            .unwrap_or(media::MANIFEST)
            .to_string();
        let children: Vec<(Descriptor, Platform, Vec<u8>)> =
            if mt == media::INDEX || mt == media::DOCKER_LIST {
                let mut c = vec![];
                for e in v
                    .get("manifests")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
                {
                    let (Some(d), Some(p)) = (
                        descriptor(&e),
                        e.get("platform").and_then(Platform::from_json),
                    ) else {
                        continue;
                    };
                    let (b, _) = reg
                        .get_manifest(&img.clone_with_digest(d.digest.clone()))
                        .await?;
                    c.push((d, p, b.to_vec()));
                }
                c
            } else {
                let cfg = v
                    .get("config")
                    .and_then(descriptor)
                    .ok_or_else(|| Error::Failed(format!("{} has no config", img.whole())))?;
                let cfg: Value = serde_json::from_slice(&reg.get_blob(img, &cfg.digest).await?)
                    .unwrap_or(Value::Null);
                let p = Platform::from_json(&cfg).ok_or_else(|| {
                    Error::Failed(format!(
                        "{} does not say its platform (os/architecture)",
                        img.whole()
                    ))
                })?;
                vec![(
                    Descriptor {
                        media_type: mt,
                        digest,
                        size: bytes.len() as u64,
                    },
                    p,
                    bytes.to_vec(),
                )]
            };
        for (d, p, b) in children {
            if platforms.contains(&p) {
                return Err(Error::Failed(format!(
                    "manifests[{}]: two images for {p} in {}",
                    spec.index,
                    spec.name.whole()
                )));
            }
            copy_into(&reg, img, &spec.name, &d, &b).await?;
            let mut e = d.to_json();
            e["platform"] = p.to_json();
            entries.push(e);
            platforms.push(p);
        }
    }
    let index = json!({"schemaVersion": 2, "mediaType": media::INDEX, "manifests": entries});
    let bytes = super::layout::canonical(&index);
    let digest = super::layout::digest_of(&bytes);
    reg.put_manifest(&spec.name, media::INDEX, &bytes).await?;
    tracing::info!(
        "manifests: pushed {} ({}) = {digest}",
        spec.name.whole(),
        platforms
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut a = Artifact::new(Kind::ImageIndex, spec.name.whole(), "");
    a.extra.insert("digest".into(), digest.into());
    a.extra.insert(
        "repository".into(),
        format!("{}/{}", spec.name.registry(), spec.name.repository()).into(),
    );
    a.extra
        .insert("tag".into(), spec.name.tag().unwrap_or_default().into());
    a.extra.insert(
        "platforms".into(),
        json!(platforms.iter().map(|p| p.to_string()).collect::<Vec<_>>()),
    );
    a.extra.insert("pushed".into(), true.into());
    Ok(a)
}
