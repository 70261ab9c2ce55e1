//! Assemble one `images` entry into the OCI layout: base, layer, config and manifest per
//! platform, then the image index shared by every tag.

use super::base::{self, BaseImage};
use super::config;
use super::layer::{self, Entry};
use super::layout::{Descriptor, Layout, media};
use super::platform::Platform;
use super::push::{Assembled, PlatformImage};
use super::registry::Registry;
use super::spec::ImageSpec;
use crate::context::Context;
use crate::error::Result;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn annotations(spec: &ImageSpec) -> Option<Value> {
    (!spec.annotations.is_empty()).then(|| json!(spec.annotations))
}

/// An image whose layout is started and whose base is resolved, waiting for its layers.
pub struct Started {
    layout: Layout,
    bases: BTreeMap<Platform, BaseImage>,
    mtime: i64,
}

/// Create `dist/images/<id>/` and resolve the base image: the part that needs no binary, so
/// it runs while the builds do.
pub fn start(ctx: &Context, spec: &ImageSpec, rt: &tokio::runtime::Runtime) -> Result<Started> {
    let layout = Layout::create(&ctx.dist.join("images").join(&spec.id))?;
    let wanted: Vec<Platform> = spec.platforms.iter().map(|(p, _)| p.clone()).collect();
    let bases: BTreeMap<Platform, BaseImage> = match &spec.base {
        Some(r) => {
            let insecure = spec.insecure && spec.repository.starts_with(r.registry());
            let reg = Registry::new(r.resolve_registry(), insecure);
            rt.block_on(base::resolve(&reg, r, &wanted, &layout))?
        }
        None => BTreeMap::new(),
    };
    let mtime = crate::context::reproducible_time(&ctx.git)?;
    Ok(Started {
        layout,
        bases,
        mtime,
    })
}

/// The layer of platform `p` of `spec`: its binaries and `files`, written as soon as that
/// platform's binaries are built.
pub fn layer(
    ctx: &Context,
    spec: &ImageSpec,
    started: &Started,
    bins: &[crate::artifact::Artifact],
) -> Result<layer::Layer> {
    let mut entries: BTreeMap<String, Entry> = spec
        .files
        .iter()
        .map(|(k, (src, mode))| (k.clone(), Entry::file(src.clone(), *mode)))
        .collect();
    for b in bins {
        entries.insert(b.name.clone(), Entry::file(ctx.root.join(&b.path), 0o755));
    }
    layer::write(&started.layout, &entries, started.mtime)
}

/// Build `spec` into `dist/images/<id>/` at once (every binary is there).
pub fn assemble(
    ctx: &Context,
    spec: &ImageSpec,
    rt: &tokio::runtime::Runtime,
) -> Result<Assembled> {
    let started = start(ctx, spec, rt)?;
    // Layers are built on the run's one pool, so `-p` bounds them like every other CPU task.
    let layers: Vec<layer::Layer> = ctx.pool()?.install(|| {
        (0..spec.platforms.len())
            .into_par_iter()
            .map(|p| layer(ctx, spec, &started, &spec.platforms[p].1))
            .collect::<Result<_>>()
    })?;
    finish(spec, started, layers)
}

/// Configs, manifests and the index of `spec` over its layers (one per platform, in order).
pub fn finish(spec: &ImageSpec, started: Started, layers: Vec<layer::Layer>) -> Result<Assembled> {
    let Started { layout, bases, .. } = started;
    let mut images = vec![];
    for ((platform, bins), layer) in spec.platforms.iter().zip(layers) {
        let base = bases.get(platform);
        let names: Vec<&str> = bins.iter().map(|b| b.name.as_str()).collect();
        let comment = format!("rel: {}", names.join(", "));
        let cfg = config::build(
            base.map(|b| &b.config),
            platform,
            &spec.settings,
            &layer.diff_id,
            &comment,
        );
        let (cfg_d, _) = layout.put_json(media::CONFIG, &cfg)?;
        let mut layers: Vec<Descriptor> = base.map(|b| b.layers.clone()).unwrap_or_default();
        let base_layers = layers.iter().map(|l| l.digest.clone()).collect();
        layers.push(layer.blob.clone());
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": media::MANIFEST,
            "config": cfg_d.to_json(),
            "layers": layers.iter().map(Descriptor::to_json).collect::<Vec<_>>(),
        });
        if let Some(a) = annotations(spec) {
            manifest["annotations"] = a;
        }
        let (m_d, m_bytes) = layout.put_json(media::MANIFEST, &manifest)?;
        let mut blobs = vec![cfg_d];
        blobs.extend(layers);
        images.push(PlatformImage {
            platform: platform.clone(),
            manifest: m_d,
            manifest_bytes: m_bytes,
            blobs,
            base_layers,
        });
    }
    let entries: Vec<Value> = images
        .iter()
        .map(|i| {
            let mut e = i.manifest.to_json();
            e["platform"] = i.platform.to_json();
            e
        })
        .collect();
    let mut index = json!({"schemaVersion": 2, "mediaType": media::INDEX, "manifests": entries});
    if let Some(a) = annotations(spec) {
        index["annotations"] = a;
    }
    let (index_d, index_bytes) = layout.put_json(media::INDEX, &index)?;
    layout.write_index(
        &spec
            .tags
            .iter()
            .map(|t| (t.clone(), index_d.clone()))
            .collect::<Vec<_>>(),
    )?;
    Ok(Assembled {
        layout,
        images,
        index: index_d,
        index_bytes,
    })
}
