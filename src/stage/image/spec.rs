//! What one `images` entry means for this run, rendered and checked: repository and tags,
//! the platforms and the binaries that go into each, entrypoint, env, user, labels, files.
//!
//! Pure apart from reading `files` globs, so the dry run uses the same code as the real run
//! (with the planned binaries instead of the built ones).

use super::base;
use super::config::{self, Settings};
use super::platform::Platform;
use crate::artifact::{Artifact, Kind};
use crate::config::{ArchiveFile, Image};
use crate::context::Context;
use crate::error::{Error, Result};
use oci_client::Reference;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One image, ready to assemble.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Position in `images`.
    pub index: usize,
    /// The id (the layout folder name).
    pub id: String,
    /// The rendered repository, e.g. `ghcr.io/acme/hello`.
    pub repository: String,
    /// Rendered tags.
    pub tags: Vec<String>,
    /// The base image, `None` for scratch.
    pub base: Option<Reference>,
    /// Plain HTTP allowed.
    pub insecure: bool,
    /// Each platform with the binaries that go into its layer.
    pub platforms: Vec<(Platform, Vec<Artifact>)>,
    /// The config settings.
    pub settings: Settings,
    /// Index and manifest annotations.
    pub annotations: BTreeMap<String, String>,
    /// Extra files: path in the image (no leading `/`) → (file, mode).
    pub files: BTreeMap<String, (PathBuf, u32)>,
}

impl ImageSpec {
    /// `repository:tag`.
    pub fn tag_ref(&self, tag: &str) -> String {
        format!("{}:{tag}", self.repository)
    }
}

/// The id of `images[i]`: its `id`, else the project name (suffixed when several images
/// have none).
pub fn image_id(ctx: &Context, i: usize) -> String {
    match &ctx.config.images[i].id {
        Some(id) if !id.is_empty() => id.clone(),
        _ => {
            let p = ctx
                .config
                .project_name
                .clone()
                .unwrap_or_else(|| "image".into());
            if ctx.config.images.iter().filter(|m| m.id.is_none()).count() > 1 {
                format!("{p}-{i}")
            } else {
                p
            }
        }
    }
}

pub use crate::oci_ref::check_reference;

/// The linux binaries of `img`'s builds, grouped by platform and filtered by `platforms`.
pub fn select(
    img: &Image,
    label: &str,
    binaries: &[Artifact],
) -> Result<Vec<(Platform, Vec<Artifact>)>> {
    let mut by_platform: BTreeMap<Platform, Vec<Artifact>> = BTreeMap::new();
    let mut bins: Vec<&Artifact> = binaries
        .iter()
        .filter(|a| a.kind == Kind::Binary && a.os.as_deref() == Some("linux"))
        .filter(|a| {
            img.builds.is_empty() || a.build_id.as_ref().is_some_and(|b| img.builds.contains(b))
        })
        .collect();
    // amd64 levels: the lowest one built serves `linux/amd64`.
    bins.sort_by(|a, b| a.amd64.cmp(&b.amd64));
    for a in bins {
        let Some(p) = Platform::of_binary(a) else {
            continue;
        };
        let list = by_platform.entry(p).or_default();
        if !list.iter().any(|x| x.build_id == a.build_id) {
            list.push(a.clone());
        }
    }
    // Binaries in the order of `builds` (then build id), so the entrypoint default is stable.
    for list in by_platform.values_mut() {
        list.sort_by_key(|a| {
            (
                img.builds
                    .iter()
                    .position(|b| Some(b) == a.build_id.as_ref())
                    .unwrap_or(usize::MAX),
                a.build_id.clone(),
            )
        });
    }
    let built: Vec<String> = by_platform.keys().map(|p| p.to_string()).collect();
    if by_platform.is_empty() {
        return Err(Error::Failed(format!(
            "{label}: no linux binaries were built by {}; images need `goos: [linux]` (or a linux target)",
            if img.builds.is_empty() {
                "any build".to_string()
            } else {
                format!("builds [{}]", img.builds.join(", "))
            }
        )));
    }
    if img.platforms.is_empty() {
        return Ok(by_platform.into_iter().collect());
    }
    let mut out = vec![];
    for s in &img.platforms {
        let p = Platform::parse(s).ok_or_else(|| Error::Usage(format!("{label}: unsupported platform `{s}` (use linux/ARCH, e.g. linux/amd64, linux/arm/v7)")))?;
        let bins = by_platform.get(&p).ok_or_else(|| {
            Error::Failed(format!("{label}: platform {p} was not built (built linux platforms: {}); add it to the build's goarch/goarm or remove it from `platforms`", built.join(", ")))
        })?;
        if !out.iter().any(|(q, _)| q == &p) {
            out.push((p, bins.clone()));
        }
    }
    Ok(out)
}

/// The image's `files`, resolved by the same rules as archive files (globs relative to the
/// project, `dst`, `strip_parent`, nothing from `dist/` or outside the project).
fn expand_files(
    ctx: &Context,
    files: &[ArchiveFile],
    label: &str,
) -> Result<BTreeMap<String, (PathBuf, u32)>> {
    use crate::fileset::{self as archive_files, entry::EntryKind};
    let mut out = BTreeMap::new();
    if files.is_empty() {
        return Ok(out);
    }
    let root = ctx
        .root
        .canonicalize()
        .map_err(|e| Error::io("cannot resolve", &ctx.root, e))?;
    let dist = root.join(&ctx.config.dist);
    for r in archive_files::resolve(&root, std::slice::from_ref(&dist), Some(files), label)? {
        match r.kind {
            EntryKind::File { source, executable } => {
                out.insert(r.dest, (source, if executable { 0o755 } else { 0o644 }));
            }
            EntryKind::Dir => {}
            EntryKind::Symlink { .. } => {
                tracing::warn!(
                    "{label}.files: {} is a symlink; image layers hold files only, so it is left out",
                    r.dest
                )
            }
        }
    }
    Ok(out)
}

/// The OCI labels/annotations rel adds from git: source, revision, version, created, title.
pub fn oci_labels(ctx: &Context, created: &str) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    if let Some(src) = ctx.git.remote_url.as_deref().and_then(config::source_url) {
        l.insert("org.opencontainers.image.source".into(), src);
    }
    if ctx.git.is_repo {
        l.insert(
            "org.opencontainers.image.revision".into(),
            ctx.git.commit.clone(),
        );
    }
    l.insert(
        "org.opencontainers.image.version".into(),
        ctx.version.clone(),
    );
    l.insert(
        "org.opencontainers.image.created".into(),
        created.to_string(),
    );
    if let Some(p) = &ctx.config.project_name {
        l.insert("org.opencontainers.image.title".into(), p.clone());
    }
    l
}

/// Render and check every `images` entry against `binaries`.
pub fn specs(ctx: &Context, binaries: &[Artifact]) -> Result<Vec<ImageSpec>> {
    let time = crate::context::reproducible_time(&ctx.git)?;
    let created = jiff::Timestamp::from_second(time)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut out = vec![];
    for (i, img) in ctx.config.images.iter().enumerate() {
        let key = format!("images[{i}]");
        let id = image_id(ctx, i);
        let label = format!("images[{i}] ({id})");
        let repository = ctx.render(&format!("{key}.repository"), &img.repository)?;
        let tag_templates = if img.tags.is_empty() {
            vec!["{{ version }}".to_string()]
        } else {
            img.tags.clone()
        };
        let mut tags = vec![];
        for (j, t) in tag_templates.iter().enumerate() {
            let tag = ctx.render(&format!("{key}.tags[{j}]"), t)?;
            check_reference(&format!("{key}.repository"), &repository, &tag)?;
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let base = match img.base.as_deref() {
            b if base::is_scratch(b) => None,
            Some(b) => Some(base::parse_ref(
                &ctx.render(&format!("{key}.base"), b)?,
                &format!("{key}.base"),
            )?),
            None => None,
        };
        let platforms = select(img, &label, binaries)?;
        let first = platforms[0].1[0].name.clone();
        let render_list = |name: &str, l: &[String]| -> Result<Vec<String>> {
            l.iter()
                .enumerate()
                .map(|(j, v)| ctx.render(&format!("{key}.{name}[{j}]"), v))
                .collect()
        };
        let entrypoint = if img.entrypoint.is_empty() {
            vec![format!("/{first}")]
        } else {
            render_list("entrypoint", &img.entrypoint)?
        };
        let mut labels = oci_labels(ctx, &created);
        labels.extend(ctx.render_map(&format!("{key}.labels"), &img.labels)?);
        let mut annotations = oci_labels(ctx, &created);
        annotations.extend(ctx.render_map(&format!("{key}.annotations"), &img.annotations)?);
        let settings = Settings {
            entrypoint,
            cmd: render_list("cmd", &img.cmd)?,
            env: render_list("env", &img.env)?,
            user: img
                .user
                .clone()
                .unwrap_or_else(|| config::DEFAULT_USER.into()),
            workdir: img.workdir.clone(),
            labels,
            created: created.clone(),
        };
        out.push(ImageSpec {
            index: i,
            id,
            repository,
            tags,
            base,
            insecure: img.insecure,
            platforms,
            settings,
            annotations,
            files: expand_files(ctx, &img.files, &key)?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    use super::*;

    fn bin(build: &str, arch: &str, arm: Option<&str>) -> Artifact {
        let mut a = Artifact::new(
            Kind::Binary,
            build,
            format!("dist/{build}_linux_{arch}/{build}"),
        );
        a.build_id = Some(build.into());
        a.os = Some("linux".into());
        a.arch = Some(arch.into());
        a.arm = arm.map(String::from);
        a
    }

    #[test]
    fn selects_platforms_and_reports_missing() {
        let bins = vec![
            bin("hello", "amd64", None),
            bin("hello", "arm", Some("7")),
            bin("other", "arm64", None),
        ];
        let img = Image {
            builds: vec!["hello".into()],
            ..Default::default()
        };
        let got: Vec<String> = select(&img, "x", &bins)
            .unwrap()
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        assert_eq!(got, vec!["linux/amd64", "linux/arm/v7"]);
        let img = Image {
            builds: vec!["hello".into()],
            platforms: vec!["linux/arm64".into()],
            ..Default::default()
        };
        let err = select(&img, "x", &bins).unwrap_err().to_string();
        assert!(err.contains("platform linux/arm64 was not built (built linux platforms: linux/amd64, linux/arm/v7)"), "{err}");
    }

    #[test]
    fn references_are_checked() {
        assert!(check_reference("k", "127.0.0.1:5000/acme/hello", "1.0.0").is_ok());
        for bad in [
            "Acme/Hello",
            "ghcr.io/acme/hello:tag",
            "ghcr.io/acme/hello@sha256:00",
            "bad repo",
            "",
        ] {
            assert!(
                check_reference("k", bad, "1.0.0").is_err(),
                "{bad} should be rejected"
            );
        }
        assert!(check_reference("k", "ghcr.io/acme/hello", "bad tag!").is_err());
    }
}
