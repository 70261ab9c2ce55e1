//! Push an assembled image: blobs (deduplicated, HEAD first, mounted from the base's
//! repository when it is on the same registry), then each platform's manifest by digest,
//! then the index at every tag. Indexes go last so a tag never points at missing content.

use super::assemble::Assembled;
use super::layout::media;
use super::registry::Registry;
use super::spec::ImageSpec;
use crate::error::Result;
use futures::{StreamExt, TryStreamExt};
use oci_client::{Reference, RegistryOperation};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// Blobs in flight at once.
const CONCURRENT_BLOBS: usize = 4;

/// Push `built` to `spec.repository`; returns the registry (its stats say what was sent).
///
/// `elsewhere` maps blob digests to a repository that already holds them (images pushed
/// earlier in this run): a blob found there is mounted instead of uploaded again.
pub async fn push(
    spec: &ImageSpec,
    built: &Assembled,
    elsewhere: &BTreeMap<String, Reference>,
) -> Result<Registry> {
    let target = super::spec::check_reference(
        &format!("images[{}].repository", spec.index),
        &spec.repository,
        &spec.tags[0],
    )?;
    let reg = Registry::new(target.resolve_registry(), spec.insecure);
    reg.login(&target, RegistryOperation::Push).await?;
    let mut blobs = BTreeMap::new();
    for img in &built.images {
        for b in &img.blobs {
            let from_base = img.base_layers.contains(&b.digest);
            blobs
                .entry(b.digest.clone())
                .or_insert((b.clone(), from_base));
        }
    }
    let reg_ref = &reg;
    let target_ref = &target;
    futures::stream::iter(blobs.into_values().map(Ok))
        .try_for_each_concurrent(CONCURRENT_BLOBS, |(b, from_base)| async move {
            let mount = if from_base {
                spec.base.as_ref()
            } else {
                elsewhere.get(&b.digest)
            };
            let path = built.layout.blob_path(&b.digest);
            reg_ref
                .ensure_blob(target_ref, &b, Some(&path), mount)
                .await
                .map(|_| ())
        })
        .await?;
    let registry = target.registry().to_string();
    let repository = target.repository().to_string();
    futures::stream::iter(&built.images)
        .map(|img| {
            let r = Reference::with_digest(
                registry.clone(),
                repository.clone(),
                img.manifest.digest.clone(),
            );
            async move {
                reg_ref
                    .put_manifest(&r, media::MANIFEST, &img.manifest_bytes)
                    .await
            }
        })
        .buffer_unordered(CONCURRENT_BLOBS)
        .try_collect::<Vec<()>>()
        .await?;
    for tag in &spec.tags {
        let r = Reference::with_tag(registry.clone(), repository.clone(), tag.clone());
        reg.put_manifest(&r, media::INDEX, &built.index_bytes)
            .await?;
    }
    tracing::info!(
        "images: pushed {} ({} platforms) as {}: {} blobs uploaded ({:.1} MB), {} already present, {} mounted",
        spec.repository,
        built.images.len(),
        spec.tags.join(", "),
        reg.stats.uploaded.load(Ordering::Relaxed),
        reg.stats.uploaded_bytes.load(Ordering::Relaxed) as f64 / 1e6,
        reg.stats.present.load(Ordering::Relaxed),
        reg.stats.mounted.load(Ordering::Relaxed),
    );
    Ok(reg)
}
