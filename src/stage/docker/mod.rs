//! The dockers stage: images from Dockerfiles (GoReleaser's `dockers_v2`, `dockers` and,
//! through the images stage, `docker_manifests`).
//!
//! Each platform's Dockerfile is read first. One that only copies files onto a base is built
//! by rel itself with the OCI machinery of `images` (no engine, reproducible digests); any
//! other goes to buildah, docker or podman, whose result is read back as an OCI layout. Either
//! way the images land in `dist/images/<id>/`, and rel pushes them and writes the index with
//! its own registry client. The plan says which path each platform takes and why.

pub mod analyze;
mod check;
pub mod dockerfile;
pub mod engine;
pub mod native;
pub mod spec;

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::oci::base;
use crate::oci::layout::{Layout, media};
use crate::oci::push::{self, Assembled, PlatformImage};
use crate::oci::registry::Registry;
use crate::plan::{PlannedDocker, PlannedDockerPlatform};
use serde_json::{Value, json};
use spec::{Job, PlatformJob, Route};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The dockers stage.
pub struct DockerStage;

fn planned(job: &Job) -> PlannedDocker {
    PlannedDocker {
        key: job.key.clone(),
        id: job.id.clone(),
        references: job.references(),
        platforms: job
            .platforms
            .iter()
            .map(|p| {
                let (builder, why) = match &p.route {
                    Route::Rel => ("rel".to_string(), None),
                    Route::Engine(e, why) => (e.name().to_string(), why.clone()),
                };
                PlannedDockerPlatform {
                    platform: p.platform.to_string(),
                    dockerfile: p.dockerfile.clone(),
                    builder,
                    why,
                }
            })
            .collect(),
        single: job.v1,
        push: job.push,
    }
}

impl Stage for DockerStage {
    fn name(&self) -> &'static str {
        "dockers"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        super::skipped_by_flag(ctx, "images")
            .or_else(|| super::skipped_by_flag(ctx, "dockers"))
            .or_else(|| {
                (ctx.config.dockers_v2.is_empty() && ctx.config.dockers.is_empty())
                    .then(|| "no dockers or dockers_v2 configured".into())
            })
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        check::check(c);
    }

    /// Read every Dockerfile and decide who builds each platform, so a Dockerfile that needs
    /// a missing engine stops the release before anything is built.
    fn plan(&self, ctx: &Context, plan: &mut crate::plan::Plan) -> Result<()> {
        for job in spec::jobs(ctx, &super::planned_binaries(ctx, plan))? {
            for p in &job.platforms {
                preflight_platform(&job, p)?;
            }
            plan.dockers.push(planned(&job));
        }
        Ok(())
    }

    /// Dockerfile images need the binaries and Linux packages only: they build while archives are written and uploaded.
    fn waits_for(&self) -> super::Waits {
        super::Waits::Only(&["before", "build", "nfpm"])
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let artifacts = ctx
            .artifacts
            .select(&Filter::kinds(&[Kind::Binary, Kind::LinuxPackage]));
        if artifacts.iter().all(|a| a.kind != Kind::Binary) {
            tracing::info!("dockers: nothing to build (no binaries in this run)");
            return Ok(());
        }
        let jobs = spec::jobs(ctx, &artifacts)?;
        for job in &jobs {
            let p = planned(job);
            if ctx.plan.dockers.iter().find(|d| d.key == job.key) != Some(&p) {
                return Err(Error::Failed(format!(
                    "{}: {} differs from the plan",
                    job.key,
                    job.references().join(", ")
                )));
            }
        }
        let rt = super::runtime(ctx)?;
        let mut elsewhere = BTreeMap::new();
        for job in &jobs {
            let (built, bases) = assemble(ctx, job, &rt)?;
            let pushed = job.push && !ctx.options.snapshot;
            if pushed {
                for (repo, tags) in &job.refs {
                    let target = crate::oci_ref::check_reference(&job.key, repo, &tags[0])?;
                    let base = bases.first().filter(|_| bases.len() == 1);
                    let dest = push::Destination {
                        target: target.clone(),
                        repository: repo,
                        tags,
                        insecure: job.insecure,
                        base,
                        single: job.v1,
                    };
                    super::block_on(
                        ctx,
                        &rt,
                        &format!("pushing {repo}"),
                        push::push(&dest, &built, &elsewhere),
                    )?;
                    for img in &built.images {
                        for b in &img.blobs {
                            elsewhere
                                .entry(b.digest.clone())
                                .or_insert_with(|| target.clone());
                        }
                    }
                }
            } else {
                tracing::info!(
                    "dockers: built {} ({}) into {}{}",
                    job.id,
                    job.references().join(", "),
                    ctx.rel_path(&built.layout.root),
                    if ctx.options.snapshot {
                        " (snapshot: not pushed)"
                    } else {
                        " (skip: not pushed)"
                    }
                );
            }
            for a in artifacts_of(ctx, job, &built, pushed) {
                ctx.artifacts.add(a);
            }
        }
        Ok(())
    }
}

/// Stop before building when a platform cannot be built here: an engine that is missing, or
/// a `RUN` step for a platform this machine cannot run.
fn preflight_platform(job: &Job, p: &PlatformJob) -> Result<()> {
    if let Route::Engine(e, why) = &p.route {
        if !e.available() {
            return Err(Error::Failed(format!(
                "{}: {} for {} needs {}, which is not available here{}",
                job.key,
                p.dockerfile,
                p.platform,
                e.name(),
                if *e == engine::Engine::Docker {
                    " (no docker daemon answered)"
                } else {
                    " (not on PATH)"
                }
            )));
        }
        let runs = why.as_deref().is_some_and(|w| w.contains("`RUN`"))
            || p.parsed.instructions.iter().any(|i| i.keyword == "RUN");
        if runs && !engine::can_run(&p.platform) {
            let line = p
                .parsed
                .instructions
                .iter()
                .find(|i| i.keyword == "RUN")
                .map(|i| i.line)
                .unwrap_or(1);
            return Err(Error::Failed(format!(
                "{}: {}:{line}: `RUN` for {} needs emulation of {} programs, and this machine has none (install qemu-user-static with binfmt support, or build {} on a {} runner)",
                job.key, p.dockerfile, p.platform, p.platform.arch, p.platform, p.platform.arch
            )));
        }
    }
    Ok(())
}

fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).ctx("cannot create", parent)?;
    }
    let _ = std::fs::remove_file(to);
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).ctx("cannot copy", from)?;
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        for e in std::fs::read_dir(from).ctx("cannot read", from)? {
            let e = e.ctx("cannot read", from)?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else {
        link_or_copy(from, to)
    }
}

/// The build context of one platform, under `dist/docker/<id>/<platform>/`: its binaries and
/// packages (under `<os>/<arch>[/<variant>]/` for `dockers_v2`, at the top for `dockers`, as
/// GoReleaser lays them out) and the `extra_files`.
fn prepare_context(ctx: &Context, job: &Job, p: &PlatformJob) -> Result<PathBuf> {
    let dir = ctx
        .dist
        .join("docker")
        .join(&job.id)
        .join(p.platform.slug());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).ctx("cannot clean", &dir)?;
    }
    std::fs::create_dir_all(&dir).ctx("cannot create", &dir)?;
    let prefix = if job.v1 {
        PathBuf::new()
    } else {
        PathBuf::from(p.platform.to_string())
    };
    for a in &p.artifacts {
        let name = Path::new(&a.path)
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| a.name.clone().into());
        link_or_copy(&ctx.root.join(&a.path), &dir.join(&prefix).join(name))?;
    }
    for f in &job.extra_files {
        let src = ctx.root.join(f);
        if !src.exists() {
            return Err(Error::Usage(format!(
                "{}.extra_files: {f} does not exist",
                job.key
            )));
        }
        copy_tree(&src, &dir.join(f.trim_start_matches("./")))?;
    }
    Ok(dir)
}

/// Build every platform of `job` into `dist/images/<id>/` and write its index; returns it
/// with the base images the layers came from (for mounting).
fn assemble(
    ctx: &Context,
    job: &Job,
    rt: &tokio::runtime::Runtime,
) -> Result<(Assembled, Vec<oci_client::Reference>)> {
    let layout_dir = ctx.dist.join("images").join(&job.id);
    if layout_dir.exists() {
        std::fs::remove_dir_all(&layout_dir).ctx("cannot clean", &layout_dir)?;
    }
    let layout = Layout::create(&layout_dir)?;
    let epoch = crate::context::reproducible_time(&ctx.git)?;
    let contexts = job
        .platforms
        .iter()
        .map(|p| prepare_context(ctx, job, p))
        .collect::<Result<Vec<_>>>()?;
    // rel's own builds compress their layers on the run's pool, all platforms at once;
    // engine builds run one after the other (the engine parallelises inside).
    let native: Vec<Option<Result<NativeBuild>>> = ctx.pool()?.install(|| {
        use rayon::prelude::*;
        job.platforms
            .par_iter()
            .zip(&contexts)
            .map(|(p, context)| {
                (p.route == Route::Rel).then(|| build_native(job, p, context, &layout, rt, epoch))
            })
            .collect()
    });
    let mut images: Vec<PlatformImage> = vec![];
    let mut bases: Vec<oci_client::Reference> = vec![];
    for ((p, context), native) in job.platforms.iter().zip(&contexts).zip(native) {
        let start = std::time::Instant::now();
        let img = match (native, &p.route) {
            (Some(built), _) => {
                let (img, base) = built?;
                if let Some(b) = base
                    && !bases.contains(&b)
                {
                    bases.push(b);
                }
                img
            }
            (None, Route::Engine(e, _)) => {
                let out = ctx
                    .dist
                    .join("docker")
                    .join(&job.id)
                    .join(format!("{}.oci", p.platform.slug()));
                let b = engine::Build {
                    engine: *e,
                    platform: &p.platform,
                    dockerfile: &p.dockerfile_path,
                    context,
                    build_args: &job.build_args,
                    labels: &job.labels,
                    annotations: &job.annotations,
                    flags: &job.flags,
                    insecure: job.insecure,
                    epoch,
                    name: format!(
                        "localhost/rel-{}:{}",
                        job.id.to_ascii_lowercase(),
                        p.platform.slug()
                    ),
                    out: out.clone(),
                };
                let log = engine::build(&b, ctx.options.deadline)?;
                tracing::debug!("dockers: {} output:\n{}", e.name(), log.trim_end());
                let img = engine::import(&out, &layout, &p.platform)?;
                let _ = std::fs::remove_dir_all(&out);
                tracing::info!(
                    "dockers: {} {} built by {} in {:.2?}",
                    job.id,
                    p.platform,
                    e.name(),
                    start.elapsed()
                );
                img
            }
            (None, Route::Rel) => unreachable!("rel's builds are done above"),
        };
        images.push(img);
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
    if !job.annotations.is_empty() {
        index["annotations"] = json!(job.annotations);
    }
    let (index_d, index_bytes) = layout.put_json(media::INDEX, &index)?;
    let tags: Vec<(String, crate::oci::layout::Descriptor)> = job
        .refs
        .iter()
        .flat_map(|(_, tags)| tags.iter())
        .map(|t| {
            let d = match (job.v1, images.first()) {
                (true, Some(i)) => i.manifest.clone(),
                _ => index_d.clone(),
            };
            (t.clone(), d)
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let tags: Vec<_> = tags
        .into_iter()
        .filter(|(t, _)| seen.insert(t.clone()))
        .collect();
    layout.write_index(&tags)?;
    Ok((
        Assembled {
            layout,
            images,
            index: index_d,
            index_bytes,
        },
        bases,
    ))
}

/// One platform built by rel, with the base image it stands on.
type NativeBuild = (PlatformImage, Option<oci_client::Reference>);

/// rel's build of one copy-only platform: the files resolved in its context, the base
/// image's platform read from its registry, then layer, config and manifest.
fn build_native(
    job: &Job,
    p: &PlatformJob,
    context: &Path,
    layout: &Layout,
    rt: &tokio::runtime::Runtime,
    epoch: i64,
) -> Result<NativeBuild> {
    let start = std::time::Instant::now();
    let mut args = analyze::platform_args(&p.platform.to_string());
    args.extend(job.build_args.clone());
    let plan = analyze::analyze(&p.parsed, &args, Some(context)).map_err(|b| {
        Error::Failed(format!(
            "{}: {}:{}: {}",
            job.key, p.dockerfile, b.line, b.reason
        ))
    })?;
    let (base_image, base_ref) = match &plan.base {
        None => (None, None),
        Some(b) => {
            let r = base::parse_ref(b, &format!("{} FROM", p.dockerfile))?;
            let reg = Registry::new(r.resolve_registry(), job.insecure);
            let mut got = rt.block_on(base::resolve(
                &reg,
                &r,
                std::slice::from_ref(&p.platform),
                layout,
            ))?;
            (got.remove(&p.platform), Some(r))
        }
    };
    let img = native::build(
        layout,
        &p.platform,
        &plan,
        base_image.as_ref(),
        &job.labels,
        &job.annotations,
        epoch,
    )?;
    tracing::info!(
        "dockers: {} {} built by rel in {:.2?}",
        job.id,
        p.platform,
        start.elapsed()
    );
    Ok((img, base_ref))
}

/// `artifacts.json` entries: each platform's image in every repository, and for
/// `dockers_v2` each tag's index.
fn artifacts_of(ctx: &Context, job: &Job, built: &Assembled, pushed: bool) -> Vec<Artifact> {
    let path = ctx.rel_path(&built.layout.root);
    let mut out = vec![];
    for (repo, tags) in &job.refs {
        for (img, p) in built.images.iter().zip(&job.platforms) {
            let mut a = Artifact::new(
                Kind::Image,
                format!("{repo}@{}", img.manifest.digest),
                path.clone(),
            );
            if let Some(b) = p.artifacts.iter().find(|a| a.kind == Kind::Binary) {
                a.build_id = b.build_id.clone();
                a.target = b.target.clone();
                a.arm = b.arm.clone();
            }
            a.os = Some(img.platform.os.clone());
            a.arch = Some(img.platform.arch.clone());
            a.size = Some(img.manifest.size);
            a.extra.insert("id".into(), job.id.clone().into());
            a.extra
                .insert("digest".into(), img.manifest.digest.clone().into());
            a.extra.insert("repository".into(), repo.clone().into());
            a.extra
                .insert("platform".into(), img.platform.to_string().into());
            a.extra.insert("media_type".into(), media::MANIFEST.into());
            a.extra
                .insert("dockerfile".into(), p.dockerfile.clone().into());
            a.extra.insert(
                "builder".into(),
                match &p.route {
                    Route::Rel => "rel",
                    Route::Engine(e, _) => e.name(),
                }
                .into(),
            );
            if job.v1 {
                a.extra.insert("tags".into(), json!(tags));
            }
            a.extra.insert("pushed".into(), pushed.into());
            out.push(a);
        }
        if job.v1 {
            continue;
        }
        for tag in tags {
            let mut a = Artifact::new(Kind::ImageIndex, format!("{repo}:{tag}"), path.clone());
            a.size = Some(built.index.size);
            a.extra.insert("id".into(), job.id.clone().into());
            a.extra
                .insert("digest".into(), built.index.digest.clone().into());
            a.extra.insert("repository".into(), repo.clone().into());
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
            a.extra.insert("media_type".into(), media::INDEX.into());
            a.extra.insert("pushed".into(), pushed.into());
            out.push(a);
        }
    }
    out
}
