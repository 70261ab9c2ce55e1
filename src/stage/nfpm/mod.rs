//! The nfpm stage: Linux packages of the linux binaries, with GoReleaser's `nfpms` keys.
//!
//! rel writes the formats itself (no nFPM, no dpkg-deb), reproducibly: the package is a pure
//! function of the binaries, the config and the commit time. It writes `.deb`, `.rpm`,
//! `.apk` and Arch Linux packages, signed when a format's `signature.key_file` is set (keys
//! are loaded and test-signed while planning, before any build).
//! Package names come from the plan; binaries from the registry; each package is a
//! `linux_package` artifact, so checksums, publishing, split/merge and `artifacts.json`
//! take it like an archive.

pub mod apk;
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
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The nfpm stage.
pub struct NfpmStage;

/// The formats rel writes.
pub const WRITTEN: &[&str] = &["deb", "rpm", "apk", "archlinux"];
/// GoReleaser's formats that rel does not write yet.
pub const NOT_YET: &[&str] = &["ipk"];

/// The file extension of a format.
fn extension(format: &str) -> &'static str {
    match format {
        "rpm" => "rpm",
        "apk" => "apk",
        "archlinux" => "pkg.tar.zst",
        _ => "deb",
    }
}

/// nfpms entry `n` as format `format` sees it: `overrides.<format>` replaces what it sets.
pub fn effective(n: &Nfpm, format: &str) -> Nfpm {
    let mut e = n.clone();
    if let Some(o) = n.overrides.get(format) {
        for (dst, src) in [
            (&mut e.dependencies, &o.dependencies),
            (&mut e.recommends, &o.recommends),
            (&mut e.suggests, &o.suggests),
            (&mut e.conflicts, &o.conflicts),
            (&mut e.replaces, &o.replaces),
            (&mut e.provides, &o.provides),
        ] {
            if let Some(v) = src {
                *dst = v.clone();
            }
        }
        if let Some(c) = &o.contents {
            e.contents = c.clone();
        }
        if let Some(sc) = &o.scripts {
            e.scripts = sc.clone();
        }
    }
    e.contents
        .retain(|c| c.packager.as_deref().is_none_or(|f| f == format));
    e
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
    metadata: Option<&str>,
) -> (String, String, String) {
    let lookup = match format {
        "archlinux" => arch::arch,
        "rpm" => rpm::arch,
        "apk" => apk::arch,
        _ => deb::arch,
    };
    let plus = metadata
        .filter(|m| !m.is_empty())
        .map(|m| format!("+{m}"))
        .unwrap_or_default();
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
            let v = format!("{}{plus}", rpm::version(version, pre));
            let file = format!("{package}-{v}-{release}.{arch}");
            (arch, format!("{v}-{release}"), file)
        }
        "apk" => {
            let v = apk::pkgver(version, pre, &release);
            let file = format!("{package}_{v}_{arch}");
            (arch, v, file)
        }
        _ => {
            let mut v = deb_version(version, n);
            if !plus.is_empty() {
                // The metadata belongs to the upstream version, before the Debian revision.
                match v.rsplit_once('-').filter(|_| n.release.is_some()) {
                    Some((up, rev)) => v = format!("{up}{plus}-{rev}"),
                    None => v.push_str(&plus),
                }
            }
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
    let metadata = n
        .version_metadata
        .as_deref()
        .map(|m| ctx.render(&format!("nfpms[{index}].version_metadata"), m))
        .transpose()?;
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
            let (arch, version, conventional) =
                naming(format, t, n, &package, &ctx.version, metadata.as_deref());
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
                binaries: if n.meta {
                    vec![]
                } else {
                    group.iter().map(|pb| (*pb).clone()).collect()
                },
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

/// The owner, group and time of a content entry.
fn attrs_of(key: &str, c: &crate::config::NfpmContent) -> Result<deb::Attrs> {
    let Some(fi) = &c.file_info else {
        return Ok(deb::Attrs::default());
    };
    let mtime = match fi.mtime.as_deref() {
        Some(t) => Some(
            t.parse::<jiff::Timestamp>()
                .map_err(|e| {
                    Error::Config(format!(
                        "`{key}.file_info.mtime: {t}` is not an RFC 3339 time: {e}"
                    ))
                })?
                .as_second(),
        ),
        None => None,
    };
    Ok(deb::Attrs {
        owner: fi.owner.clone(),
        group: fi.group.clone(),
        mtime,
    })
}

/// The default mode of a project file: executable stays executable.
fn mode_of(source: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let exec = std::fs::metadata(source)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    if exec { 0o755 } else { 0o644 }
}

/// Every entry of package `p`: its binaries from the registry, then `contents` (with the
/// format's overrides), then the deb's lintian overrides.
fn entries(ctx: &Context, p: &PlannedPackage) -> Result<Vec<deb::Entry>> {
    let n = &effective(&ctx.config.nfpms[p.index], &p.format);
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
        out.push(deb::Entry::new(
            format!("{bindir}/{}", a.name),
            deb::Kind::File {
                source: ctx.root.join(&a.path),
                mode: 0o755,
            },
        ));
    }
    // `src` and `dst` see the package's target (`{{ arch }}`), as nFPM's do.
    let tvars = crate::plan::target_vars(&ctx.vars, &p.target);
    let render = |k: &str, t: &str| ctx.templates.render(k, t, &tvars);
    for (j, c) in n.contents.iter().enumerate() {
        let key = format!("nfpms[{}].contents[{j}]", p.index);
        let kind = c.kind.as_deref().unwrap_or("file");
        let mode = c.file_info.as_ref().and_then(|f| f.mode);
        let dst = render(&format!("{key}.dst"), &c.dst)?;
        let attrs = attrs_of(&key, c)?;
        let noreplace = kind == "config|noreplace";
        let mut push = |path: String, kind: deb::Kind, config: bool, doc: bool| {
            out.push(deb::Entry {
                path,
                kind,
                config: config || noreplace,
                noreplace,
                doc,
                attrs: attrs.clone(),
            })
        };
        match kind {
            "dir" => push(
                dst,
                deb::Kind::Dir {
                    mode: mode.unwrap_or(0o755),
                },
                false,
                false,
            ),
            "ghost" => {
                if p.format == "rpm" {
                    push(dst, deb::Kind::Ghost, false, false)
                }
            }
            "symlink" => push(
                dst,
                deb::Kind::Symlink {
                    target: render(&format!("{key}.src"), &c.src)?,
                },
                false,
                false,
            ),
            "tree" => {
                let src = render(&format!("{key}.src"), &c.src)?;
                let folder = ctx.root.join(&src);
                if !folder.is_dir() {
                    return Err(Error::Failed(format!(
                        "{key}: `{src}` is not a folder in the project"
                    )));
                }
                let base = dst.trim_end_matches('/').to_string();
                let mut walked: Vec<walkdir::DirEntry> = walkdir::WalkDir::new(&folder)
                    .min_depth(1)
                    .sort_by_file_name()
                    .into_iter()
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| Error::Failed(format!("{key}: cannot read {src}: {e}")))?;
                walked.sort_by(|a, b| a.path().cmp(b.path()));
                for w in walked {
                    let rel = w.path().strip_prefix(&folder).unwrap_or(w.path());
                    let path = format!("{base}/{}", rel.to_string_lossy());
                    let ft = w.file_type();
                    if ft.is_dir() {
                        push(path, deb::Kind::Dir { mode: 0o755 }, false, false);
                    } else if ft.is_symlink() {
                        let target = std::fs::read_link(w.path())
                            .map_err(|e| Error::io("cannot read", w.path(), e))?;
                        push(
                            path,
                            deb::Kind::Symlink {
                                target: target.to_string_lossy().into_owned(),
                            },
                            false,
                            false,
                        );
                    } else {
                        let source = w.path().to_path_buf();
                        let m = mode.unwrap_or_else(|| mode_of(&source));
                        push(path, deb::Kind::File { source, mode: m }, false, false);
                    }
                }
            }
            _ => {
                let src = render(&format!("{key}.src"), &c.src)?;
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
                    let file_mode = mode.unwrap_or_else(|| mode_of(&source));
                    push(
                        path,
                        deb::Kind::File {
                            source,
                            mode: file_mode,
                        },
                        kind == "config",
                        // nFPM's `license` and `readme` are documentation files too.
                        matches!(kind, "doc" | "license" | "readme"),
                    );
                }
            }
        }
    }
    if p.format == "deb" && !n.deb.lintian_overrides.is_empty() {
        let mut text = String::new();
        for l in &n.deb.lintian_overrides {
            text.push_str(l.trim());
            text.push('\n');
        }
        out.push(deb::Entry::new(
            format!("/usr/share/lintian/overrides/{}", p.package),
            deb::Kind::Generated(text.into_bytes()),
        ));
    }
    Ok(out)
}

/// The control data of package `p`.
fn control(ctx: &Context, p: &PlannedPackage) -> Result<deb::Control> {
    let n = &effective(&ctx.config.nfpms[p.index], &p.format);
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
            (
                "Pre-Depends",
                render_all("deb.predepends", &n.deb.predepends)?,
            ),
            ("Depends", render_all("dependencies", &n.dependencies)?),
            ("Recommends", render_all("recommends", &n.recommends)?),
            ("Suggests", render_all("suggests", &n.suggests)?),
            ("Breaks", render_all("deb.breaks", &n.deb.breaks)?),
            ("Conflicts", render_all("conflicts", &n.conflicts)?),
            ("Replaces", render_all("replaces", &n.replaces)?),
            ("Provides", render_all("provides", &n.provides)?),
        ],
        license: n.license.clone(),
        vendor: n.vendor.clone(),
        fields: n
            .deb
            .fields
            .iter()
            .map(|(k, v)| Ok((k.clone(), ctx.render(&key(&format!("deb.fields.{k}")), v)?)))
            .collect::<Result<_>>()?,
        compression: n.deb.compression.clone().unwrap_or_else(|| "gzip".into()),
        triggers: triggers(&n.deb.triggers),
    })
}

/// dpkg's `triggers` control file, one directive a line.
fn triggers(t: &crate::config::NfpmDebTriggers) -> Option<String> {
    let mut out = String::new();
    for (directive, names) in [
        ("interest", &t.interest),
        ("interest-await", &t.interest_await),
        ("interest-noawait", &t.interest_noawait),
        ("activate", &t.activate),
        ("activate-await", &t.activate_await),
        ("activate-noawait", &t.activate_noawait),
    ] {
        for name in names {
            out.push_str(&format!("{directive} {name}\n"));
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The maintainer scripts of nfpms[i] in `format`, read from the project.
fn scripts(ctx: &Context, i: usize, format: &str) -> Result<BTreeMap<&'static str, Vec<u8>>> {
    let s = &effective(&ctx.config.nfpms[i], format).scripts;
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
fn arch_meta(n: &Nfpm, p: &PlannedPackage, c: &deb::Control) -> arch::Meta {
    let rel = |field: &str| c.relation(field);
    arch::Meta {
        name: p.package.clone(),
        base: n
            .archlinux
            .pkgbase
            .clone()
            .unwrap_or_else(|| p.package.clone()),
        version: p.version.clone(),
        summary: c.summary.clone(),
        url: c.homepage.clone(),
        packager: n
            .archlinux
            .packager
            .clone()
            .unwrap_or_else(|| c.maintainer.clone()),
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
fn rpm_meta(n: &Nfpm, p: &PlannedPackage, c: &deb::Control) -> rpm::Meta {
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
        summary: n.rpm.summary.clone().unwrap_or_else(|| c.summary.clone()),
        description: if c.long.trim().is_empty() {
            c.summary.clone()
        } else {
            format!("{}\n{}", c.summary, c.long.trim())
        },
        vendor: n.vendor.clone(),
        packager: Some(
            n.rpm
                .packager
                .clone()
                .unwrap_or_else(|| c.maintainer.clone()),
        ),
        url: c.homepage.clone(),
        relations,
        group: n.rpm.group.clone(),
        buildhost: n.rpm.buildhost.clone(),
        compression: n.rpm.compression.clone().unwrap_or_else(|| "gzip".into()),
    }
}

/// The `.PKGINFO` data of apk package `p`.
fn apk_meta(p: &PlannedPackage, c: &deb::Control) -> apk::Meta {
    let rel = |field: &str| c.relation(field);
    let mut depend = rel("Depends");
    depend.extend(rel("Conflicts").into_iter().map(|d| format!("!{d}")));
    apk::Meta {
        name: p.package.clone(),
        version: p.version.clone(),
        arch: p.arch.clone(),
        summary: c.summary.clone(),
        url: c.homepage.clone(),
        maintainer: c.maintainer.clone(),
        license: c.license.clone(),
        relations: vec![
            ("depend", depend),
            ("provides", rel("Provides")),
            ("replaces", rel("Replaces")),
        ],
    }
}

/// A package's signing key, loaded and test-signed.
pub enum PackageKey {
    /// deb and rpm.
    OpenPgp(Box<crate::keys::openpgp::Key>),
    /// apk, with the key name users install (`….rsa.pub`).
    Rsa(Box<crate::keys::rsa::Key>, String),
}

/// The passphrase variables of nfpms entry `id` in `format`, most specific first.
pub fn passphrase_vars(id: &str, format: &str) -> Vec<String> {
    let id = crate::keys::env_part(id);
    let f = crate::keys::env_part(format);
    vec![
        format!("REL_{id}_{f}_PASSPHRASE"),
        format!("REL_{id}_PASSPHRASE"),
        "REL_NFPM_PASSPHRASE".into(),
        format!("NFPM_{id}_{f}_PASSPHRASE"),
        format!("NFPM_{id}_PASSPHRASE"),
        "NFPM_PASSPHRASE".into(),
    ]
}

/// The signing key of nfpms[i] in `format`, if its `signature.key_file` is set.
fn package_key(ctx: &Context, i: usize, format: &str) -> Result<Option<PackageKey>> {
    let n = &ctx.config.nfpms[i];
    let sig = match format {
        "deb" => &n.deb.signature,
        "rpm" => &n.rpm.signature,
        "apk" => &n.apk.signature,
        _ => return Ok(None),
    };
    let Some(file) = &sig.key_file else {
        return Ok(None);
    };
    let key = format!("nfpms[{i}].{format}.signature.key_file");
    let value = ctx.render(&key, file)?;
    let (bytes, origin) = crate::keys::read(&ctx.root, &key, &value)?;
    let pass = crate::keys::passphrase(&passphrase_vars(
        n.id.as_deref().unwrap_or_default(),
        format,
    ));
    if format == "apk" {
        let name = match &sig.key_name {
            Some(k) => k.clone(),
            None => n
                .maintainer
                .as_deref()
                .and_then(|m| m.split_once('<'))
                .and_then(|(_, r)| r.split_once('>'))
                .map(|(mail, _)| mail.trim().to_string())
                .ok_or_else(|| {
                    Error::Config(format!(
                        "`nfpms[{i}].apk.signature.key_name` is not set and the maintainer has no email address to name the key after"
                    ))
                })?,
        };
        let name = if name.ends_with(".rsa.pub") {
            name
        } else {
            format!("{name}.rsa.pub")
        };
        let k = crate::keys::rsa::Key::load(&bytes, &pass, origin)?;
        k.sign_sha1(b"rel")?;
        return Ok(Some(PackageKey::Rsa(Box::new(k), name)));
    }
    let mut k = crate::keys::openpgp::Key::load(&bytes, pass, origin)?;
    if let Some(id) = &sig.key_id {
        k = k.select(id)?;
    }
    Ok(Some(PackageKey::OpenPgp(Box::new(k))))
}

/// Signing keys by (nfpms index, format), loaded once per run rather than once per package:
/// decrypting a key (S2K, scrypt) and its test signature cost more than signing.
type Keys = BTreeMap<(usize, String), Option<PackageKey>>;

fn produce(ctx: &Context, p: &PlannedPackage, keys: &Keys, mtime: i64) -> Result<Artifact> {
    let n = &effective(&ctx.config.nfpms[p.index], &p.format);
    let control = control(ctx, p)?;
    let entries = entries(ctx, p)?;
    let scripts = scripts(ctx, p.index, &p.format)?;
    let key = keys
        .get(&(p.index, p.format.clone()))
        .and_then(Option::as_ref);
    let pgp = match key {
        Some(PackageKey::OpenPgp(k)) => Some(k.as_ref()),
        _ => None,
    };
    match p.format.as_str() {
        "rpm" => rpm::write(
            &rpm_meta(n, p, &control),
            &entries,
            &scripts,
            mtime,
            pgp,
            &p.path,
        )?,
        "apk" => {
            let sign = match key {
                Some(PackageKey::Rsa(k, name)) => Some((k.as_ref(), name.as_str())),
                _ => None,
            };
            apk::write(
                &apk_meta(p, &control),
                &entries,
                &scripts,
                mtime,
                sign,
                &p.path,
            )?
        }
        "archlinux" => {
            let install = pacman_install(&scripts);
            arch::write(
                &arch_meta(n, p, &control),
                &entries,
                install.as_deref(),
                mtime,
                &p.path,
            )?
        }
        _ => {
            let signing = pgp.map(|k| deb::Signing {
                key: k,
                role: n
                    .deb
                    .signature
                    .kind
                    .clone()
                    .unwrap_or_else(|| "origin".into()),
            });
            deb::write(
                &control,
                &entries,
                &scripts,
                mtime,
                signing.as_ref(),
                &p.path,
            )?
        }
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
            // Scripts and keys are checked now: a missing script, a key that does not load
            // or a wrong passphrase stops the release before anything is built.
            for format in &ctx.config.nfpms[i].formats {
                scripts(ctx, i, format)?;
                package_key(ctx, i, format)?;
            }
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

    /// Packages need their target's binaries only: each is written as soon as they are built,
    /// while the other targets build and archives and uploads run.
    fn waits_for(&self) -> super::Waits {
        super::Waits::Only(&["before"])
    }

    fn run(&self, ctx: &Context) -> Result<()> {
        let planned = ctx.plan.packages.clone();
        if planned.is_empty() {
            tracing::info!("nfpm: nothing to package (no linux binaries in this run)");
            return Ok(());
        }
        let mtime = reproducible_time(&ctx.git)?;
        let mut keys = Keys::new();
        for p in &planned {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                keys.entry((p.index, p.format.clone()))
            {
                slot.insert(package_key(ctx, p.index, &p.format)?);
            }
        }
        // A package is ready when its binaries are registered, or when the build is over
        // (a package whose binary never came fails naming it; with no binary at all, and no
        // meta package, there is nothing to package).
        let ready = |i: usize, reg: &crate::artifact::Registry, board: &crate::artifact::Board| {
            let p = &planned[i];
            let built = board.finished("build") || board.earlier_finished("nfpm");
            let meta = ctx.config.nfpms[p.index].meta;
            meta || built
                || p.binaries.iter().all(|pb| {
                    !reg.select(
                        &Filter::kind(Kind::Binary)
                            .and(Filter::build_id(&pb.id))
                            .and(Filter::target(&pb.target.name())),
                    )
                    .is_empty()
                })
        };
        let work = |i: usize| -> Result<Artifact> {
            let p = &planned[i];
            let start = std::time::Instant::now();
            let a = produce(ctx, p, &keys, mtime)?;
            tracing::info!(
                "nfpm: {} ({} bytes, {:.1?})",
                a.name,
                a.size.unwrap_or_default(),
                start.elapsed()
            );
            Ok(a)
        };
        let metas = planned.iter().all(|p| ctx.config.nfpms[p.index].meta);
        let mut nothing = false;
        if !metas {
            // No linux binary at all once the build is over (a `--single-target` run for
            // another OS): say so instead of failing each package.
            let none = ctx.artifacts.wait_for("nfpm", |reg, board| {
                let built = board.finished("build") || board.earlier_finished("nfpm");
                if !reg.select(&Filter::kind(Kind::Binary)).is_empty() {
                    Some(false)
                } else if built || ctx.cancel.load(std::sync::atomic::Ordering::SeqCst) {
                    Some(true)
                } else {
                    None
                }
            })?;
            nothing = none;
        }
        if nothing {
            tracing::info!("nfpm: nothing to package (no linux binaries in this run)");
            return Ok(());
        }
        super::stream(
            ctx,
            "nfpm",
            planned.len(),
            ctx.options.parallelism.max(1),
            ready,
            work,
        )
    }
}
