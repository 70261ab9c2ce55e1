//! Push an assembled image: blobs (deduplicated, HEAD first, mounted from the base's
//! repository when it is on the same registry), then each platform's manifest by digest,
//! then the index at every tag. Indexes go last so a tag never points at missing content.

use super::layout::{Descriptor, Layout, media};
use super::platform::Platform;
use super::registry::Registry;
use crate::error::Result;
use futures::{StreamExt, TryStreamExt};
use oci_client::{Reference, RegistryOperation};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// One platform's image, in a layout.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    /// Its platform.
    pub platform: Platform,
    /// The manifest descriptor.
    pub manifest: Descriptor,
    /// The manifest's exact bytes.
    pub manifest_bytes: Vec<u8>,
    /// Config and layers, base layers included.
    pub blobs: Vec<Descriptor>,
    /// Digests of layers that come from the base image (mountable from it).
    pub base_layers: Vec<String>,
}

/// A whole image in a layout: its platforms and the index every tag points at.
#[derive(Debug, Clone)]
pub struct Assembled {
    /// The layout it lives in.
    pub layout: Layout,
    /// Per platform.
    pub images: Vec<PlatformImage>,
    /// The image index descriptor.
    pub index: Descriptor,
    /// The index's exact bytes.
    pub index_bytes: Vec<u8>,
}

/// Where an assembled image goes.
#[derive(Debug, Clone)]
pub struct Destination<'a> {
    /// The repository, checked (its tag is the first of `tags`).
    pub target: Reference,
    /// The repository as written, for messages.
    pub repository: &'a str,
    /// Every tag to point at the index.
    pub tags: &'a [String],
    /// Plain HTTP allowed.
    pub insecure: bool,
    /// The base image (its layers are mounted from it).
    pub base: Option<&'a Reference>,
    /// The tags name the one platform's manifest itself rather than an index (GoReleaser's
    /// single-platform `dockers`).
    pub single: bool,
}

/// Blobs in flight at once.
const CONCURRENT_BLOBS: usize = 4;

/// Push `built` to `dest`; returns the registry (its stats say what was sent).
///
/// `elsewhere` maps blob digests to a repository that already holds them (images pushed
/// earlier in this run): a blob found there is mounted instead of uploaded again.
pub async fn push(
    dest: &Destination<'_>,
    built: &Assembled,
    elsewhere: &BTreeMap<String, Reference>,
) -> Result<Registry> {
    let target = dest.target.clone();
    let reg = Registry::new(target.resolve_registry(), dest.insecure);
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
                dest.base
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
    for tag in dest.tags {
        let r = Reference::with_tag(registry.clone(), repository.clone(), tag.clone());
        match (dest.single, built.images.first()) {
            (true, Some(img)) => {
                reg.put_manifest(&r, media::MANIFEST, &img.manifest_bytes)
                    .await?
            }
            _ => {
                reg.put_manifest(&r, media::INDEX, &built.index_bytes)
                    .await?
            }
        }
    }
    tracing::info!(
        "images: pushed {} ({} platforms) as {}: {} blobs uploaded ({:.1} MB), {} already present, {} mounted",
        dest.repository,
        built.images.len(),
        dest.tags.join(", "),
        reg.stats.uploaded.load(Ordering::Relaxed),
        reg.stats.uploaded_bytes.load(Ordering::Relaxed) as f64 / 1e6,
        reg.stats.present.load(Ordering::Relaxed),
        reg.stats.mounted.load(Ordering::Relaxed),
    );
    Ok(reg)
}
