//! The images stage: multi-platform OCI images of the linux binaries, built and pushed
//! without a container engine (the way ko does it for Go, for every builder).
//!
//! Each `images` entry becomes an OCI layout under `dist/images/<id>/` (one reproducible
//! layer with the binaries on top of `scratch` or a base image, a config and a manifest per
//! platform, one index for all tags). A snapshot stops there; a release pushes the layout's
//! content to the registry and then writes the `manifests` indexes. Every image and index is
//! recorded in `artifacts.json` with its digest.

pub mod assemble;
mod check;
pub mod manifests;
pub use crate::oci::{auth, base, config, layer, layout, platform, push, registry};
pub mod spec;

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::context::Context;
use crate::error::{Error, Result};
use serde_json::json;

/// The images stage.
pub struct ImageStage;

use super::{block_on, runtime};

fn image_artifacts(
    ctx: &Context,
    spec: &spec::ImageSpec,
    built: &push::Assembled,
    pushed: bool,
) -> Vec<Artifact> {
    let path = ctx.rel_path(&built.layout.root);
    let mut out = vec![];
    for (img, (_, bins)) in built.images.iter().zip(&spec.platforms) {
        let mut a = Artifact::new(
            Kind::Image,
            format!("{}@{}", spec.repository, img.manifest.digest),
            path.clone(),
        );
        a.build_id = bins[0].build_id.clone();
        a.target = bins[0].target.clone();
        a.os = Some(img.platform.os.clone());
        a.arch = Some(img.platform.arch.clone());
        a.arm = bins[0].arm.clone();
        a.size = Some(img.manifest.size);
        a.extra.insert("id".into(), spec.id.clone().into());
        a.extra
            .insert("digest".into(), img.manifest.digest.clone().into());
        a.extra
            .insert("repository".into(), spec.repository.clone().into());
        a.extra
            .insert("platform".into(), img.platform.to_string().into());
        a.extra
            .insert("media_type".into(), layout::media::MANIFEST.into());
        a.extra.insert("pushed".into(), pushed.into());
        out.push(a);
    }
    for tag in &spec.tags {
        let mut a = Artifact::new(Kind::ImageIndex, spec.tag_ref(tag), path.clone());
        a.size = Some(built.index.size);
        a.extra.insert("id".into(), spec.id.clone().into());
        a.extra
            .insert("digest".into(), built.index.digest.clone().into());
        a.extra
            .insert("repository".into(), spec.repository.clone().into());
        a.extra.insert("tag".into(), tag.clone().into());
        a.extra.insert(
            "platforms".into(),
            json!(
                built
                    .images
                    .iter()
                    .map(|i| i.platform.to_string())
                    .collect::<Vec<_>>()
            ),
        );
        a.extra
            .insert("media_type".into(), layout::media::INDEX.into());
        a.extra.insert("pushed".into(), pushed.into());
        out.push(a);
    }
    out
}

impl Stage for ImageStage {
    fn name(&self) -> &'static str {
        "images"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        super::skipped_by_flag(ctx, "images").or_else(|| {
            (ctx.config.images.is_empty()
                && ctx.config.manifests.is_empty()
                && ctx.config.docker_manifests.is_empty())
            .then(|| "no images or manifests configured".into())
        })
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        check::check(c);
    }

    /// Render and check every image and manifest against the planned binaries, so a bad
    /// repository, tag or platform stops the release before anything is built.
    fn plan(&self, ctx: &Context, plan: &mut crate::plan::Plan) -> Result<()> {
        for s in spec::specs(ctx, &super::planned_binaries(ctx, plan))? {
            plan.images.push(crate::plan::PlannedImage {
                id: s.id.clone(),
                repository: s.repository.clone(),
                tags: s.tags.clone(),
                base: s
                    .base
                    .as_ref()
                    .map(|b| b.whole())
                    .unwrap_or_else(|| "scratch".into()),
                platforms: s
                    .platforms
                    .iter()
                    .map(|(p, bins)| (p.to_string(), bins.iter().map(|b| b.name.clone()).collect()))
                    .collect(),
            });
        }
        if !ctx.options.snapshot {
            for m in manifests::specs(ctx)? {
                plan.manifests.push(crate::plan::PlannedManifest {
                    name: m.name.whole(),
                    images: m.images.iter().map(|i| i.whole()).collect(),
                });
            }
        }
        Ok(())
    }

    /// Images start with the run: each platform's layer is written the moment that
    /// platform's binaries are in the registry, while other targets still build; configs,
    /// manifests and the index follow once every layer of an image is there.
    fn waits_for(&self) -> super::Waits {
        super::Waits::Only(&["before"])
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        // The plan's binaries: the same list the dry run showed; each is waited for below. A
        // merge builds nothing: its binaries are what the shares built, all there already.
        let planned = if ctx.options.phase == crate::options::Phase::Merge {
            ctx.artifacts.select(&Filter::kind(Kind::Binary))
        } else {
            super::planned_binaries(ctx, &ctx.plan)
        };
        let specs = if ctx.config.images.is_empty() {
            vec![]
        } else {
            let any = ctx.artifacts.wait_for("images", |reg, board| {
                if !reg.select(&Filter::kind(Kind::Binary)).is_empty() {
                    Some(true)
                } else if board.finished("build") || board.earlier_finished("images") {
                    Some(false)
                } else {
                    None
                }
            })?;
            if !any {
                tracing::info!("images: nothing to build (no binaries in this run)");
                return Ok(());
            }
            spec::specs(ctx, &planned)?
        };
        let manifest_specs = manifests::specs(ctx)?;
        let rt = runtime(ctx)?;
        let started: Vec<assemble::Started> = specs
            .iter()
            .map(|s| assemble::start(ctx, s, &rt))
            .collect::<Result<_>>()?;
        let layers = stream_layers(ctx, &specs, &started)?;
        let mut layers = layers.into_iter();
        let mut elsewhere = std::collections::BTreeMap::new();
        for (s, started) in specs.iter().zip(started) {
            let start = std::time::Instant::now();
            let mine: Vec<_> = layers.by_ref().take(s.platforms.len()).collect();
            let built = assemble::finish(s, started, mine)?;
            tracing::debug!("images: assembled {} in {:.2?}", s.id, start.elapsed());
            let pushed = !ctx.options.snapshot;
            if pushed {
                let start = std::time::Instant::now();
                let what = format!("pushing {}", s.repository);
                let target = spec::check_reference(
                    &format!("images[{}].repository", s.index),
                    &s.repository,
                    &s.tags[0],
                )?;
                let dest = push::Destination {
                    target: target.clone(),
                    repository: &s.repository,
                    tags: &s.tags,
                    insecure: s.insecure,
                    base: s.base.as_ref(),
                    single: false,
                };
                block_on(ctx, &rt, &what, push::push(&dest, &built, &elsewhere))?;
                tracing::debug!("images: pushed {} in {:.2?}", s.id, start.elapsed());
                for img in &built.images {
                    for b in &img.blobs {
                        elsewhere
                            .entry(b.digest.clone())
                            .or_insert_with(|| target.clone());
                    }
                }
            } else {
                tracing::info!(
                    "images: built {} ({}) into {} (snapshot: not pushed)",
                    s.id,
                    s.tags.join(", "),
                    ctx.rel_path(&built.layout.root)
                );
            }
            for a in image_artifacts(ctx, s, &built, pushed) {
                ctx.artifacts.add(a);
            }
        }
        if ctx.options.snapshot {
            if !manifest_specs.is_empty() {
                tracing::info!("manifests: skipped (snapshot)");
            }
            return Ok(());
        }
        if !manifest_specs.is_empty() {
            // `docker_manifests` name images of the Dockerfile stage: wait for every stage
            // before this one.
            ctx.artifacts.wait_for("manifests", |_, board| {
                board.earlier_finished("images").then_some(())
            })?;
        }
        for m in &manifest_specs {
            let a = block_on(
                ctx,
                &rt,
                &format!("pushing {}", m.name.whole()),
                manifests::push(m),
            )?;
            ctx.artifacts.add(a);
        }
        Ok(())
    }
}

/// Every layer of every image, in (image, platform) order, each written as soon as its
/// platform's binaries are registered.
fn stream_layers(
    ctx: &Context,
    specs: &[spec::ImageSpec],
    started: &[assemble::Started],
) -> Result<Vec<crate::oci::layer::Layer>> {
    let items: Vec<(usize, usize)> = specs
        .iter()
        .enumerate()
        .flat_map(|(i, s)| (0..s.platforms.len()).map(move |p| (i, p)))
        .collect();
    // A platform's binaries, as registered (by build and target: in a merge they come from
    // the shares), once every one of them is there.
    let landed = |reg: &crate::artifact::Registry, (i, p): (usize, usize)| {
        specs[i].platforms[p]
            .1
            .iter()
            .map(|b| {
                reg.filter(|a| {
                    a.kind == Kind::Binary && a.build_id == b.build_id && a.target == b.target
                })
                .into_iter()
                .next()
            })
            .collect::<Option<Vec<Artifact>>>()
    };
    super::stream_map(
        ctx,
        "images",
        items.len(),
        ctx.options.parallelism.max(1),
        // A binary that never comes (its build skipped) is reported by the work below.
        |n, reg, board| {
            landed(reg, items[n]).is_some()
                || board.finished("build")
                || board.earlier_finished("images")
        },
        |n| {
            let (i, p) = items[n];
            let Some(bins) = landed(&ctx.artifacts, items[n]) else {
                return Err(Error::Failed(format!(
                    "image `{}`: the binaries of {} were not built in this run",
                    specs[i].id, specs[i].platforms[p].0
                )));
            };
            assemble::layer(ctx, &specs[i], &started[i], &bins)
        },
    )
}

/// Whether the repository can be reached with the credentials found (a HEAD of a blob
/// that does not exist: 404 means access works, 401 that the credentials do not).
fn access(ctx: &Context, s: &spec::ImageSpec) -> String {
    let check = async {
        let target = spec::check_reference("repository", &s.repository, &s.tags[0])?;
        let reg = registry::Registry::new(target.resolve_registry(), s.insecure);
        reg.login(&target, oci_client::RegistryOperation::Push)
            .await?;
        let probe = layout::Descriptor {
            media_type: layout::media::CONFIG.into(),
            digest: layout::digest_of(b"rel access check"),
            size: 0,
        };
        reg.ensure_blob(&target, &probe, None, None).await?;
        Ok::<_, Error>(reg.credentials_source().to_string())
    };
    let result = runtime(ctx).and_then(|rt| {
        rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(30), check)
                .await
                .unwrap_or_else(|_| Err(Error::Failed("no answer in 30 s".into())))
        })
    });
    match result {
        Ok(source) => format!("ok (credentials: {source})"),
        Err(e) => format!("FAILED: {e}"),
    }
}

/// The dry run's access check of every repository a release pushes to, one line each, and
/// whether every check passed.
pub fn dry_run_access(ctx: &Context) -> Result<(Vec<String>, bool)> {
    if ctx.options.snapshot || ImageStage.skip(ctx).is_some() {
        return Ok((vec![], true));
    }
    let binaries = super::planned_binaries(ctx, &ctx.plan);
    let mut ok = true;
    let mut lines = vec![];
    for s in spec::specs(ctx, &binaries)? {
        let a = access(ctx, &s);
        ok &= !a.starts_with("FAILED");
        lines.push(format!("{}: access: {a}", s.repository));
    }
    Ok((lines, ok))
}
