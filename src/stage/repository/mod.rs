//! The repository stage: static, signed APT and YUM repositories of this release's Linux
//! packages (and, optionally, of earlier releases' packages kept in a project folder), written
//! into `dist/<dir>/` for a user to serve from any static host and point `apt` or `dnf` at.
//!
//! It reads the packages from the registry (never from the nfpm stage), so it works the same
//! on one machine and after a merge. Publishing the folder (a branch, a bucket) is left to
//! the user's workflow; the folder is a `package_repository` artifact in `artifacts.json`.

mod apt;
mod yum;

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::Config;
use crate::config::validate::{Checker, globals};
use crate::context::{Context, reproducible_time};
use crate::error::{Error, IoContext, Result};
use crate::plan::{Plan, PlannedRepository};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The repository stage.
pub struct RepositoryStage;

/// The kinds of repositories rel writes, and the package format each lists.
const FORMATS: &[(&str, &str)] = &[("apt", "deb"), ("yum", "rpm")];

/// Size and the three digests APT lists.
pub(crate) struct Digests {
    size: u64,
    md5: String,
    sha1: String,
    sha256: String,
}

/// The digests of a file, streamed once.
pub(crate) fn digests(p: &Path) -> Result<Digests> {
    let (mut a, mut b, mut c) = (Md5::new(), Sha1::new(), Sha256::new());
    let size = crate::hash::stream(p, &mut |buf| {
        a.update(buf);
        b.update(buf);
        c.update(buf);
    })?;
    Ok(Digests {
        size,
        md5: crate::hash::hex(&a.finalize()),
        sha1: crate::hash::hex(&b.finalize()),
        sha256: crate::hash::hex(&c.finalize()),
    })
}

/// Gzip with no name and no time: the same bytes every run.
pub(crate) fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::new(9));
    gz.write_all(data)
        .and_then(|_| gz.finish())
        .map_err(|e| Error::Failed(format!("cannot compress repository metadata: {e}")))
}

/// Write `bytes` to `path`, creating its folder, through a temporary file.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).ctx("cannot create", parent)?;
    }
    let tmp = crate::dist::temp_beside(path, "tmp");
    std::fs::write(&tmp, bytes).ctx("cannot write", &tmp)?;
    std::fs::rename(&tmp, path).ctx("cannot write", path)
}

/// Put a package at `dest`: a hard link when the file system allows, else a copy.
pub(crate) fn copy_into(src: &Path, dest: &Path) -> Result<()> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).ctx("cannot create", parent)?;
    }
    let _ = std::fs::remove_file(dest);
    if std::fs::hard_link(src, dest).is_err() {
        std::fs::copy(src, dest).ctx("cannot copy", dest)?;
    }
    Ok(())
}

/// The passphrase variables of repository `id`, most specific first.
pub fn passphrase_vars(id: &str) -> Vec<String> {
    vec![
        format!("REL_{}_REPOSITORY_PASSPHRASE", crate::keys::env_part(id)),
        "REL_REPOSITORY_PASSPHRASE".into(),
    ]
}

/// The signing key of repository `i`, loaded and test-signed, if one is set.
fn key(ctx: &Context, i: usize) -> Result<Option<crate::keys::openpgp::Key>> {
    let r = &ctx.config.package_repositories[i];
    let Some(file) = &r.signature.key_file else {
        return Ok(None);
    };
    let at = format!("package_repositories[{i}].signature.key_file");
    let value = ctx.render(&at, file)?;
    let (bytes, origin) = crate::keys::read(&ctx.root, &at, &value)?;
    let pass = crate::keys::passphrase(&passphrase_vars(r.id.as_deref().unwrap_or_default()));
    let mut k = crate::keys::openpgp::Key::load(&bytes, pass, origin)?;
    if let Some(id) = &r.signature.key_id {
        k = k.select(id)?;
    }
    Ok(Some(k))
}

/// Packages of earlier releases in the `include` folder: (file name → path), by extension.
fn included(ctx: &Context, i: usize, ext: &str) -> Result<BTreeMap<String, PathBuf>> {
    let r = &ctx.config.package_repositories[i];
    let mut out = BTreeMap::new();
    let Some(folder) = &r.include else {
        return Ok(out);
    };
    let folder = ctx.render(&format!("package_repositories[{i}].include"), folder)?;
    let dir = ctx.root.join(&folder);
    if !dir.is_dir() {
        return Err(Error::Config(format!(
            "`package_repositories[{i}].include`: {folder} is not a folder in the project"
        )));
    }
    for e in walkdir::WalkDir::new(&dir).sort_by_file_name() {
        let e = e.map_err(|e| Error::Failed(format!("cannot read {folder}: {e}")))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().is_file() && name.ends_with(ext) {
            out.insert(name, e.path().to_path_buf());
        }
    }
    Ok(out)
}

impl Stage for RepositoryStage {
    fn name(&self) -> &'static str {
        "repository"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.package_repositories.is_empty() {
            return Some("no package_repositories configured".into());
        }
        super::skipped_by_flag(ctx, "repository")
            .or_else(|| super::skipped_by_flag(ctx, "nfpm").map(|_| "--skip nfpm".into()))
    }

    fn defaults(&self, config: &mut Config, _d: &super::Defaults) {
        super::fill_ids(&mut config.package_repositories, |r| &mut r.id);
    }

    fn check(&self, c: &mut Checker) {
        let config = c.config;
        let nfpm_ids: Vec<String> = config.nfpms.iter().filter_map(|n| n.id.clone()).collect();
        let mut dirs = std::collections::HashSet::new();
        for (i, r) in config.package_repositories.iter().enumerate() {
            let at = |rest: &[&str]| {
                let mut v = vec!["package_repositories".into(), i.into()];
                v.extend(rest.iter().map(|s| (*s).into()));
                v
            };
            if config.nfpms.is_empty() {
                c.push(
                    at(&[]),
                    "a package repository needs packages, and no `nfpms` are configured",
                    Some("add an `nfpms` entry with `formats: [deb, rpm]`".into()),
                );
            }
            for (j, id) in r.ids.iter().enumerate() {
                if !nfpm_ids.contains(id) {
                    let mut p = at(&["ids"]);
                    p.push(j.into());
                    c.push(
                        p,
                        format!("unknown nfpms id `{id}`"),
                        Some(format!("nfpms ids: {}", nfpm_ids.join(", "))),
                    );
                }
            }
            for (j, f) in r.formats.iter().enumerate() {
                if !FORMATS.iter().any(|(k, _)| k == f) {
                    let mut p = at(&["formats"]);
                    p.push(j.into());
                    c.push(
                        p,
                        format!("unknown repository format `{f}`"),
                        Some("use apt or yum".into()),
                    );
                }
            }
            let dir = r.dir.clone().unwrap_or_else(|| "repository".into());
            if dir.is_empty()
                || dir.starts_with('/')
                || dir.split('/').any(|s| s == ".." || s == ".")
            {
                c.push(
                    at(&["dir"]),
                    format!("`dir: {dir}` must be a folder name inside dist/"),
                    None,
                );
            } else if !dirs.insert(dir.clone()) {
                c.push(
                    at(&["dir"]),
                    format!("two package repositories would be written to dist/{dir}"),
                    Some("give each its own `dir`".into()),
                );
            }
            for (k, v) in [
                ("description", &r.description),
                ("include", &r.include),
                ("signature.key_file", &r.signature.key_file),
            ] {
                if let Some(t) = v {
                    c.template(at(&k.split('.').collect::<Vec<_>>()), t, &globals());
                }
            }
            for (k, set) in [
                ("type", r.signature.kind.is_some()),
                ("method", r.signature.method.is_some()),
                ("key_name", r.signature.key_name.is_some()),
            ] {
                if set {
                    c.push(
                        at(&["signature", k]),
                        format!("`{k}` is for package signatures, not repositories"),
                        None,
                    );
                }
            }
        }
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let mut out = vec![];
        for (i, r) in ctx.config.package_repositories.iter().enumerate() {
            let id = r.id.clone().unwrap_or_default();
            let dir = r.dir.clone().unwrap_or_else(|| "repository".into());
            let mine: Vec<&crate::plan::PlannedPackage> = plan
                .packages
                .iter()
                .filter(|p| r.ids.is_empty() || r.ids.contains(&p.id))
                .collect();
            let formats: Vec<String> = FORMATS
                .iter()
                .filter(|(kind, pkg)| {
                    if r.formats.is_empty() {
                        mine.iter().any(|p| p.format == *pkg)
                    } else {
                        r.formats.iter().any(|f| f == kind)
                    }
                })
                .map(|(k, _)| k.to_string())
                .collect();
            let packages = mine
                .iter()
                .filter(|p| {
                    FORMATS
                        .iter()
                        .any(|(k, f)| p.format == *f && formats.iter().any(|x| x == k))
                })
                .map(|p| p.name.clone())
                .collect();
            // Keys and the include folder are checked now, before anything is built.
            key(ctx, i)?;
            for (_, ext) in FORMATS {
                included(ctx, i, &format!(".{ext}"))?;
            }
            let top = dir.split('/').next().unwrap_or(&dir).to_string();
            plan.claim(
                &top,
                &format!("package repository `{id}`"),
                &format!("set `package_repositories[{i}].dir` to another folder"),
            )?;
            out.push(PlannedRepository {
                index: i,
                id,
                path: ctx.dist.join(&dir),
                formats,
                packages,
            });
        }
        plan.repositories = out;
        Ok(())
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let mtime = reproducible_time(&ctx.git)?;
        for planned in ctx.plan.repositories.clone() {
            let i = planned.index;
            let r = ctx.config.package_repositories[i].clone();
            let key = key(ctx, i)?;
            // A repository is written whole or not at all: into a temporary folder, then
            // renamed over the previous one.
            let tmp = crate::dist::temp_beside(&planned.path, "tmp");
            let _ = std::fs::remove_dir_all(&tmp);
            let mut written = vec![];
            let result = (|| -> Result<()> {
                for (kind, ext) in FORMATS {
                    if !planned.formats.iter().any(|f| f == kind) {
                        continue;
                    }
                    let mut files = included(ctx, i, &format!(".{ext}"))?;
                    let select = Filter::kind(Kind::LinuxPackage);
                    for a in ctx.artifacts.select(&select) {
                        let id = a.extra.get("id").and_then(|v| v.as_str()).unwrap_or("");
                        let format = a.extra.get("format").and_then(|v| v.as_str());
                        if format == Some(ext)
                            && (r.ids.is_empty() || r.ids.iter().any(|x| x == id))
                        {
                            files.insert(a.name.clone(), ctx.root.join(&a.path));
                        }
                    }
                    let list: Vec<PathBuf> = files.into_values().collect();
                    let root = tmp.join(kind);
                    let more = if *kind == "apt" {
                        let settings = apt::Settings {
                            suite: r.suite.clone().unwrap_or_else(|| "stable".into()),
                            component: r.component.clone().unwrap_or_else(|| "main".into()),
                            origin: r.origin.clone().unwrap_or_else(|| {
                                ctx.config.project_name.clone().unwrap_or_default()
                            }),
                            label: r.label.clone().unwrap_or_else(|| {
                                ctx.config.project_name.clone().unwrap_or_default()
                            }),
                            description: r
                                .description
                                .as_deref()
                                .map(|d| {
                                    ctx.render(&format!("package_repositories[{i}].description"), d)
                                })
                                .transpose()?,
                        };
                        apt::write(&root, &list, &settings, key.as_ref(), mtime)?
                    } else {
                        yum::write(&root, &list, key.as_ref(), mtime)?
                    };
                    written.extend(more);
                }
                if let Some(k) = &key {
                    let public = tmp.join("key.asc");
                    write_file(&public, k.public_armored()?.as_bytes())?;
                    written.push(public);
                }
                Ok(())
            })();
            if let Err(e) = result {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
            let _ = std::fs::remove_dir_all(&planned.path);
            if let Some(parent) = planned.path.parent() {
                std::fs::create_dir_all(parent).ctx("cannot create", parent)?;
            }
            std::fs::rename(&tmp, &planned.path).ctx("cannot write", &planned.path)?;
            tracing::info!(
                "repository {}: {} ({} files)",
                planned.id,
                ctx.rel_path(&planned.path),
                written.len()
            );
            let mut a = Artifact::new(
                Kind::PackageRepository,
                planned
                    .path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                ctx.rel_path(&planned.path),
            );
            a.extra.insert("id".into(), planned.id.clone().into());
            a.extra
                .insert("formats".into(), planned.formats.join(",").into());
            ctx.artifacts.add(a);
        }
        Ok(())
    }
}
