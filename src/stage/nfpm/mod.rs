//! The nfpm stage: Linux packages of the linux binaries, with GoReleaser's `nfpms` keys.
//!
//! rel writes the formats itself (no nFPM, no dpkg-deb), reproducibly: the package is a pure
//! function of the binaries, the config and the commit time. This version writes `.deb`,
//! `.rpm` and Arch Linux packages; `apk` is refused by the config check rather than skipped.
//! Package names come from the plan; binaries from the registry; each package is a
//! `linux_package` artifact, so checksums, publishing, split/merge and `artifacts.json`
//! take it like an archive.

pub mod arch;
mod check;
pub mod deb;
pub mod rpm;

use super::Stage;
use crate::artifact::{Artifact, Filter, Kind};
use crate::config::{Config, Nfpm};
use crate::context::{Context, reproducible_time};
use crate::error::{Error, Result};
use crate::hash::sha256_file;
use crate::plan::{Plan, PlannedBuild, PlannedPackage};
use minijinja::Value;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The nfpm stage.
pub struct NfpmStage;

/// The formats rel writes.
pub const WRITTEN: &[&str] = &["deb", "rpm", "archlinux"];
/// GoReleaser's formats that rel does not write yet.
pub const NOT_YET: &[&str] = &["apk", "ipk"];

/// The file extension of a format.
fn extension(format: &str) -> &'static str {
    match format {
        "rpm" => "rpm",
        "archlinux" => "pkg.tar.zst",
        _ => "deb",
    }
}

/// The Debian version of a semver version: `[epoch:]X.Y.Z[~pre][-release]`, the prerelease
/// after `~` so that 1.2.0~rc.1 sorts before 1.2.0.
pub fn deb_version(version: &str, n: &Nfpm) -> String {
    let (core, pre) = match version.split_once('-') {
        Some((c, p)) => (c, Some(p.to_string())),
        None => (version, None),
    };
    let pre = n.prerelease.clone().or(pre).filter(|p| !p.is_empty());
    let mut v = String::new();
    if let Some(e) = n.epoch.as_deref().filter(|e| !e.is_empty()) {
        v.push_str(&format!("{e}:"));
    }
    v.push_str(core);
    if let Some(p) = pre {
        v.push('~');
        v.push_str(&p.replace('-', "."));
    }
    if let Some(r) = n.release.as_deref().filter(|r| !r.is_empty()) {
        v.push_str(&format!("-{r}"));
    }
    v
}

/// A package's architecture, full version and conventional file name (no extension), each
/// in its format's own spelling.
fn naming(
    format: &str,
    t: &crate::target::Target,
    n: &Nfpm,
    package: &str,
    version: &str,
) -> (String, String, String) {
    let lookup = match format {
        "archlinux" => arch::arch,
        "rpm" => rpm::arch,
        _ => deb::arch,
    };
    let arch = lookup(&t.arch, t.arm.as_deref())
        .map(String::from)
        .unwrap_or_else(|| t.arch.clone());
    let release = n.release.clone().unwrap_or_else(|| "1".into());
    let pre = n.prerelease.as_deref();
    match format {
        "archlinux" => {
            let v = arch::pkgver(version, pre);
            let epoch = n
                .epoch
                .as_deref()
                .filter(|e| !e.is_empty())
                .map(|e| format!("{e}:"))
                .unwrap_or_default();
            let file = format!("{package}-{v}-{release}-{arch}");
            (arch, format!("{epoch}{v}-{release}"), file)
        }
        "rpm" => {
            let v = rpm::version(version, pre);
            let file = format!("{package}-{v}-{release}.{arch}");
            (arch, format!("{v}-{release}"), file)
        }
        _ => {
            let v = deb_version(version, n);
            let file = format!("{package}_{}_{arch}", v.replace(':', "%3a"));
            (arch, v, file)
        }
    }
}

fn plan_one(ctx: &Context, plan: &Plan, index: usize, out: &mut Vec<PlannedPackage>) -> Result<()> {
    let n = &ctx.config.nfpms[index];
    let id = n.id.clone().unwrap_or_default();
    let package = ctx.render(
        &format!("nfpms[{index}].package_name"),
        n.package_name.as_deref().unwrap_or_default(),
    )?;
    let mut groups: BTreeMap<String, Vec<&PlannedBuild>> = BTreeMap::new();
    for pb in plan
        .builds
        .iter()
        .filter(|pb| pb.target.os == "linux" && (n.builds.is_empty() || n.builds.contains(&pb.id)))
    {
        groups.entry(pb.target.name()).or_default().push(pb);
    }
    for group in groups.values() {
        let first = group[0];
        let t = &first.target;
        for format in &n.formats {
            let (arch, version, conventional) = naming(format, t, n, &package, &ctx.version);
            let base = match &n.file_name_template {
                Some(tpl) => {
                    let mut vars = first.vars.clone();
                    vars.insert("package_name".into(), Value::from(package.clone()));
                    vars.insert("conventional_file_name".into(), Value::from(conventional));
                    vars.insert("package_arch".into(), Value::from(arch.clone()));
                    ctx.templates.render(
                        &format!("nfpms[{index}].file_name_template"),
                        tpl,
                        &vars,
                    )?
                }
                None => conventional,
            };
            let name = format!("{base}.{}", extension(format));
            if name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(Error::Config(format!(
                    "`nfpms[{index}].file_name_template` gives `{name}`, which is not a plain file name"
                )));
            }
            out.push(PlannedPackage {
                index,
                id: id.clone(),
                format: format.clone(),
                path: ctx.dist.join(&name),
                name,
                target: t.clone(),
                binaries: group.iter().map(|pb| (*pb).clone()).collect(),
                package: package.clone(),
                version: version.clone(),
                arch,
            });
        }
    }
    Ok(())
}

fn describe(p: &PlannedPackage) -> String {
    format!("package `{}` ({}, {})", p.id, p.format, p.target.name())
}

/// A project file named in the config, relative to the root.
fn project_file(ctx: &Context, key: &str, rel: &str) -> Result<PathBuf> {
    let p = ctx.root.join(rel);
    if !p.is_file() {
        return Err(Error::Config(format!(
            "`{key}`: {rel} is not a file in the project"
        )));
    }
    Ok(p)
}

/// Every entry of package `p`: its binaries from the registry, then `contents`.
fn entries(ctx: &Context, p: &PlannedPackage) -> Result<Vec<deb::Entry>> {
    let n = &ctx.config.nfpms[p.index];
    let bindir = n
        .bindir
        .as_deref()
        .unwrap_or("/usr/bin")
        .trim_end_matches('/');
    let mut out = vec![];
    for pb in &p.binaries {
        let input = Filter::kind(Kind::Binary)
            .and(Filter::build_id(&pb.id))
            .and(Filter::target(&p.target.name()));
        let found = ctx.artifacts.select(&input);
        let Some(a) = found.first() else {
            return Err(Error::Failed(format!(
                "{}: the binary of build `{}` for {} is missing; was it built?",
                describe(p),
                pb.id,
                p.target.name()
            )));
        };
        out.push(deb::Entry {
            path: format!("{bindir}/{}", a.name),
            kind: deb::Kind::File {
                source: ctx.root.join(&a.path),
                mode: 0o755,
            },
            config: false,
        });
    }
    for (j, c) in n.contents.iter().enumerate() {
        let key = format!("nfpms[{}].contents[{j}]", p.index);
        let kind = c.kind.as_deref().unwrap_or("file");
        let mode = c.file_info.as_ref().and_then(|f| f.mode);
        let dst = ctx.render(&format!("{key}.dst"), &c.dst)?;
        match kind {
            "dir" => out.push(deb::Entry {
                path: dst,
                kind: deb::Kind::Dir {
                    mode: mode.unwrap_or(0o755),
                },
                config: false,
            }),
            "symlink" => out.push(deb::Entry {
                path: dst,
                kind: deb::Kind::Symlink {
                    target: ctx.render(&format!("{key}.src"), &c.src)?,
                },
                config: false,
            }),
            _ => {
                let src = ctx.render(&format!("{key}.src"), &c.src)?;
                let matches = crate::fileset::glob_files(&ctx.root, &src)
                    .map_err(|e| Error::Config(format!("{key}.src: {e}")))?;
                if matches.is_empty() {
                    return Err(Error::Failed(format!(
                        "{key}: `{src}` matches no file in the project"
                    )));
                }
                let many = matches.len() > 1 || src.contains(['*', '?', '[', '{']);
                for m in matches {
                    let source = ctx.root.join(&m);
                    let path = if many {
                        let file = m.rsplit('/').next().unwrap_or(&m);
                        format!("{}/{file}", dst.trim_end_matches('/'))
                    } else {
                        dst.clone()
                    };
                    let file_mode = mode.unwrap_or_else(|| {
                        use std::os::unix::fs::PermissionsExt;
                        let exec = std::fs::metadata(&source)
                            .map(|m| m.permissions().mode() & 0o111 != 0)
                            .unwrap_or(false);
                        if exec { 0o755 } else { 0o644 }
                    });
                    out.push(deb::Entry {
                        path,
                        kind: deb::Kind::File {
                            source,
                            mode: file_mode,
                        },
                        config: kind.starts_with("config"),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The control data of package `p`.
fn control(ctx: &Context, p: &PlannedPackage) -> Result<deb::Control> {
    let n = &ctx.config.nfpms[p.index];
    let key = |k: &str| format!("nfpms[{}].{k}", p.index);
    let description = match &n.description {
        Some(d) => ctx.render(&key("description"), d)?,
        None => format!("{} {}", p.package, ctx.version),
    };
    let (summary, long) = match description.trim().split_once('\n') {
        Some((a, b)) => (a.trim().to_string(), b.to_string()),
        None => (description.trim().to_string(), String::new()),
    };
    let render_all = |k: &str, list: &[String]| -> Result<Vec<String>> {
        list.iter()
            .enumerate()
            .map(|(i, v)| ctx.render(&format!("{}[{i}]", key(k)), v))
            .collect()
    };
    Ok(deb::Control {
        package: p.package.clone(),
        version: p.version.clone(),
        arch: p.arch.clone(),
        maintainer: n
            .maintainer
            .clone()
            .or_else(|| n.vendor.clone())
            .unwrap_or_else(|| p.package.clone()),
        summary,
        long,
        section: n.section.clone().unwrap_or_else(|| "utils".into()),
        priority: n.priority.clone().unwrap_or_else(|| "optional".into()),
        homepage: n
            .homepage
            .as_deref()
            .map(|h| ctx.render(&key("homepage"), h))
            .transpose()?,
        relations: vec![
            ("Depends", render_all("dependencies", &n.dependencies)?),
            ("Recommends", render_all("recommends", &n.recommends)?),
            ("Suggests", render_all("suggests", &n.suggests)?),
            ("Conflicts", render_all("conflicts", &n.conflicts)?),
            ("Replaces", render_all("replaces", &n.replaces)?),
            ("Provides", render_all("provides", &n.provides)?),
        ],
        license: n.license.clone(),
        vendor: n.vendor.clone(),
    })
}

/// The maintainer scripts of nfpms[i], read from the project.
fn scripts(ctx: &Context, i: usize) -> Result<BTreeMap<&'static str, Vec<u8>>> {
    let s = &ctx.config.nfpms[i].scripts;
    let mut out = BTreeMap::new();
    for (name, key, path) in [
        ("preinst", "preinstall", &s.preinstall),
        ("postinst", "postinstall", &s.postinstall),
        ("prerm", "preremove", &s.preremove),
        ("postrm", "postremove", &s.postremove),
    ] {
        if let Some(p) = path {
            let file = project_file(ctx, &format!("nfpms[{i}].scripts.{key}"), p)?;
            out.insert(
                name,
                std::fs::read(&file).map_err(|e| Error::io("cannot read", &file, e))?,
            );
        }
    }
    Ok(out)
}

/// pacman's `.INSTALL`: the maintainer scripts as its hook functions.
fn pacman_install(scripts: &BTreeMap<&'static str, Vec<u8>>) -> Option<Vec<u8>> {
    if scripts.is_empty() {
        return None;
    }
    let mut out = String::new();
    for (name, func) in [
        ("preinst", "pre_install"),
        ("postinst", "post_install"),
        ("prerm", "pre_remove"),
        ("postrm", "post_remove"),
    ] {
        if let Some(text) = scripts.get(name) {
            let body: Vec<&str> = std::str::from_utf8(text)
                .unwrap_or_default()
                .lines()
                .filter(|l| !l.starts_with("#!"))
                .collect();
            out.push_str(&format!("{func}() {{\n{}\n}}\n\n", body.join("\n")));
        }
    }
    Some(out.into_bytes())
}

/// The `.PKGINFO` data of package `p`.
fn arch_meta(p: &PlannedPackage, c: &deb::Control) -> arch::Meta {
    let rel = |field: &str| c.relation(field);
    arch::Meta {
        name: p.package.clone(),
        version: p.version.clone(),
        summary: c.summary.clone(),
        url: c.homepage.clone(),
        packager: c.maintainer.clone(),
        arch: p.arch.clone(),
        license: c.license.clone(),
        relations: vec![
            ("depend", rel("Depends")),
            ("optdepend", rel("Recommends")),
            ("conflict", rel("Conflicts")),
            ("replaces", rel("Replaces")),
            ("provides", rel("Provides")),
        ],
    }
}

/// The rpm header data of package `p`, from the same control data as a deb.
fn rpm_meta(ctx: &Context, p: &PlannedPackage, c: &deb::Control) -> rpm::Meta {
    let n = &ctx.config.nfpms[p.index];
    let (version, release) = p
        .version
        .rsplit_once('-')
        .map(|(v, r)| (v.to_string(), r.to_string()))
        .unwrap_or_else(|| (p.version.clone(), "1".into()));
    let rel = |field: &str| c.relation(field);
    let mut relations = std::collections::BTreeMap::new();
    relations.insert("requires", rel("Depends"));
    relations.insert("recommends", rel("Recommends"));
    relations.insert("suggests", rel("Suggests"));
    relations.insert("conflicts", rel("Conflicts"));
    relations.insert("obsoletes", rel("Replaces"));
    relations.insert("provides", rel("Provides"));
    rpm::Meta {
        name: p.package.clone(),
        version,
        release,
        epoch: n.epoch.as_deref().and_then(|e| e.parse().ok()),
        arch: p.arch.clone(),
        license: n.license.clone().unwrap_or_else(|| "unknown".into()),
        summary: c.summary.clone(),
        description: if c.long.trim().is_empty() {
            c.summary.clone()
        } else {
            format!("{}\n{}", c.summary, c.long.trim())
        },
        vendor: n.vendor.clone(),
        packager: Some(c.maintainer.clone()),
        url: c.homepage.clone(),
        relations,
    }
}

fn produce(ctx: &Context, p: &PlannedPackage, mtime: i64) -> Result<Artifact> {
    let control = control(ctx, p)?;
    let entries = entries(ctx, p)?;
    let scripts = scripts(ctx, p.index)?;
    match p.format.as_str() {
        "rpm" => rpm::write(
            &rpm_meta(ctx, p, &control),
            &entries,
            &scripts,
            mtime,
            &p.path,
        )?,
        "archlinux" => {
            let install = pacman_install(&scripts);
            arch::write(
                &arch_meta(p, &control),
                &entries,
                install.as_deref(),
                mtime,
                &p.path,
            )?
        }
        _ => deb::write(&control, &entries, &scripts, mtime, &p.path)?,
    }
    let (sha, size) = sha256_file(&p.path)?;
    let mut a = Artifact::new(Kind::LinuxPackage, p.name.clone(), ctx.rel_path(&p.path));
    let ids: Vec<String> = p.binaries.iter().map(|b| b.id.clone()).collect();
    a.build_id = (ids.len() == 1).then(|| ids[0].clone());
    a.set_target(&p.target);
    a.size = Some(size);
    a.sha256 = Some(sha);
    a.extra.insert("id".into(), p.id.clone().into());
    a.extra.insert("format".into(), p.format.clone().into());
    a.extra.insert("package".into(), p.package.clone().into());
    a.extra.insert("version".into(), p.version.clone().into());
    a.extra.insert("package_arch".into(), p.arch.clone().into());
    Ok(a)
}

impl Stage for NfpmStage {
    fn name(&self) -> &'static str {
        "nfpm"
    }

    fn skip(&self, ctx: &Context) -> Option<String> {
        if ctx.config.nfpms.is_empty() {
            return Some("no nfpms configured".into());
        }
        super::skipped_by_flag(ctx, "nfpm")
    }

    fn defaults(&self, config: &mut Config, d: &super::Defaults) {
        check::defaults(config, d);
    }

    fn check(&self, c: &mut crate::config::validate::Checker) {
        check::check(c);
    }

    fn plan(&self, ctx: &Context, plan: &mut Plan) -> Result<()> {
        let mut out = vec![];
        for i in 0..ctx.config.nfpms.len() {
            plan_one(ctx, plan, i, &mut out)?;
            // Scripts and content files are checked now: a missing one stops the release
            // before anything is built.
            scripts(ctx, i)?;
        }
        for p in &out {
            plan.claim(
                &p.name,
                &describe(p),
                &format!(
                    "make `nfpms[{}].file_name_template` tell them apart (e.g. add {{{{ arch }}}})",
                    p.index
                ),
            )?;
        }
        plan.packages = out;
        Ok(())
    }

    fn run(&self, ctx: &mut Context) -> Result<()> {
        let planned = ctx.plan.packages.clone();
        if ctx.artifacts.select(&Filter::kind(Kind::Binary)).is_empty() || planned.is_empty() {
            tracing::info!("nfpm: nothing to package (no linux binaries in this run)");
            return Ok(());
        }
        let mtime = reproducible_time(&ctx.git)?;
        let ctx_ref: &Context = ctx;
        let results: Vec<Result<Artifact>> = ctx_ref.pool()?.install(|| {
            planned
                .par_iter()
                .map(|p| produce(ctx_ref, p, mtime))
                .collect()
        });
        let mut first_error = None;
        for r in results {
            match r {
                Ok(a) => {
                    tracing::info!("nfpm: {} ({} bytes)", a.name, a.size.unwrap_or_default());
                    ctx.artifacts.add(a);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
