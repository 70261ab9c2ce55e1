//! Arch Linux packages: a zstd-compressed tar of `.PKGINFO`, `.MTREE` (a gzipped mtree of
//! every entry with its SHA-256), an optional `.INSTALL`, then the files, as `makepkg` writes
//! them. Every time is the commit time, owners are root, entries sorted: byte-reproducible.

use super::deb::{Entry, Kind};
use crate::error::{Error, IoContext, Result};
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What `.PKGINFO` says besides the files.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// Package name.
    pub name: String,
    /// `pkgbase`, the package name unless set.
    pub base: String,
    /// `pkgver-pkgrel`, with the epoch if any.
    pub version: String,
    /// First line of the description.
    pub summary: String,
    /// Homepage.
    pub url: Option<String>,
    /// Packager.
    pub packager: String,
    /// pacman architecture.
    pub arch: String,
    /// License.
    pub license: Option<String>,
    /// `depend`, `optdepend`, `conflict`, `replaces`, `provides` lines.
    pub relations: Vec<(&'static str, Vec<String>)>,
}

/// The pacman architecture of a Go arch/arm.
pub fn arch(arch: &str, arm: Option<&str>) -> Option<&'static str> {
    Some(match (arch, crate::target::arm_version(arm)) {
        ("amd64", _) => "x86_64",
        ("arm64", _) => "aarch64",
        ("386", _) => "i686",
        ("arm", Some("7")) => "armv7h",
        ("arm", Some("5")) => "arm",
        ("arm", _) => "armv6h",
        ("riscv64", _) => "riscv64",
        ("loong64", _) => "loong64",
        _ => return None,
    })
}

/// `pkgver` of a semver version: the prerelease joined with `.` (`1.2.0.rc.1`, which pacman's
/// vercmp sorts before `1.2.0`); `-`, not allowed in pkgver, becomes `.` too.
pub fn pkgver(version: &str, prerelease: Option<&str>) -> String {
    let (core, pre) = match version.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (version, None),
    };
    match prerelease.filter(|p| !p.is_empty()).or(pre) {
        Some(p) => format!("{core}.{}", p.replace('-', ".")),
        None => core.to_string(),
    }
}

/// One entry with its bytes' source, ready for the tar and the mtree.
enum Item {
    Dir(u32),
    File(u32, Source, u64),
    Link(String),
}

enum Source {
    Disk(PathBuf),
    Bytes(Vec<u8>),
}

fn open(src: &Source) -> Result<Box<dyn Read + '_>> {
    Ok(match src {
        Source::Disk(p) => Box::new(std::fs::File::open(p).ctx("cannot read", p)?),
        Source::Bytes(b) => Box::new(b.as_slice()),
    })
}

/// `md5digest=… sha256digest=…` of an entry, as makepkg's mtree lists them (pacman checks
/// backup files by MD5).
fn digests(src: &Source) -> Result<String> {
    let mut r = open(src)?;
    let mut h = Sha256::new();
    let mut m = md5::Md5::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(arch_err)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        m.update(&buf[..n]);
    }
    Ok(format!(
        "md5digest={} sha256digest={}",
        crate::dist::hex(&m.finalize()),
        crate::dist::hex(&h.finalize())
    ))
}

fn arch_err(e: impl std::fmt::Display) -> Error {
    Error::Failed(format!("cannot write an Arch Linux package: {e}"))
}

/// Write the package to `out` through a temporary file.
pub fn write(
    meta: &Meta,
    entries: &[Entry],
    install: Option<&[u8]>,
    mtime: i64,
    out: &Path,
) -> Result<()> {
    let mt = mtime.max(0) as u64;
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
    let mut attrs: BTreeMap<String, super::deb::Attrs> = BTreeMap::new();
    let no_attrs = super::deb::Attrs::default();
    for e in entries {
        let rel = e
            .path
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_string();
        let comps: Vec<&str> = rel.split('/').collect();
        for i in 1..comps.len() {
            items
                .entry(comps[..i].join("/"))
                .or_insert(Item::Dir(0o755));
        }
        let item = match &e.kind {
            Kind::File { source, mode } => {
                let len = std::fs::metadata(source).ctx("cannot read", source)?.len();
                Item::File(*mode, Source::Disk(source.clone()), len)
            }
            Kind::Generated(b) => Item::File(0o644, Source::Bytes(b.clone()), b.len() as u64),
            Kind::Dir { mode } => Item::Dir(*mode),
            Kind::Symlink { target } => Item::Link(target.clone()),
            Kind::Ghost => continue,
        };
        if e.attrs != Default::default() {
            attrs.insert(rel.clone(), e.attrs.clone());
        }
        items.insert(rel, item);
    }
    let size: u64 = items
        .values()
        .map(|i| match i {
            Item::File(_, _, n) => *n,
            _ => 0,
        })
        .sum();
    let mut info = format!(
        "# Generated by rel\npkgname = {}\npkgbase = {}\npkgver = {}\npkgdesc = {}\n",
        meta.name, meta.base, meta.version, meta.summary
    );
    if let Some(u) = &meta.url {
        info.push_str(&format!("url = {u}\n"));
    }
    info.push_str(&format!(
        "builddate = {mt}\npackager = {}\nsize = {size}\narch = {}\n",
        meta.packager, meta.arch
    ));
    if let Some(l) = &meta.license {
        info.push_str(&format!("license = {l}\n"));
    }
    for (key, list) in &meta.relations {
        for v in list {
            info.push_str(&format!("{key} = {v}\n"));
        }
    }
    // Configuration files are kept on upgrade (`backup`), as `config|noreplace` means.
    for e in entries.iter().filter(|e| e.config) {
        info.push_str(&format!("backup = {}\n", e.path.trim_start_matches('/')));
    }
    // .MTREE: every entry (the metadata files too, as makepkg lists them), gzipped.
    let mut mtree = String::from("#mtree\n/set type=file uid=0 gid=0 mode=644\n");
    let meta_files: Vec<(&str, Vec<u8>)> = {
        let mut v = vec![(".PKGINFO", info.clone().into_bytes())];
        if let Some(i) = install {
            v.push((".INSTALL", i.to_vec()));
        }
        v
    };
    for (name, bytes) in &meta_files {
        mtree.push_str(&format!(
            "./{name} time={mt}.0 size={} {}\n",
            bytes.len(),
            digests(&Source::Bytes(bytes.clone()))?
        ));
    }
    for (path, item) in &items {
        let t = attrs.get(path).unwrap_or(&no_attrs).time(mt);
        let who = match attrs.get(path) {
            Some(a) if a.owner.is_some() || a.group.is_some() => {
                format!(" uname={} gname={}", a.owner(), a.group())
            }
            _ => String::new(),
        };
        match item {
            Item::Dir(mode) => mtree.push_str(&format!(
                "./{path} time={t}.0{who} mode={mode:o} type=dir\n"
            )),
            Item::File(mode, src, n) => mtree.push_str(&format!(
                "./{path} time={t}.0{who} mode={mode:o} size={n} {}\n",
                digests(src)?
            )),
            Item::Link(l) => mtree.push_str(&format!(
                "./{path} time={t}.0{who} mode=777 type=link link={l}\n"
            )),
        }
    }
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), Compression::new(9));
    gz.write_all(mtree.as_bytes()).map_err(arch_err)?;
    let mtree_gz = gz.finish().map_err(arch_err)?;

    let tmp = crate::dist::temp_beside(out, "tmp");
    let result = (|| -> std::io::Result<()> {
        let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        // Level 9: most of level 19's ratio on Go binaries at a fraction of its time.
        let zst = zstd::Encoder::new(file, 9)?;
        let mut b = tar::Builder::new(zst);
        b.mode(tar::HeaderMode::Deterministic);
        let header = |kind: tar::EntryType, mode: u32, size: u64| {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(mode);
            h.set_size(size);
            h.set_mtime(mt);
            h.set_uid(0);
            h.set_gid(0);
            let _ = h.set_username("root");
            let _ = h.set_groupname("root");
            h
        };
        let mut h = header(tar::EntryType::Regular, 0o644, mtree_gz.len() as u64);
        b.append_data(&mut h, ".MTREE", mtree_gz.as_slice())?;
        for (name, bytes) in &meta_files {
            let mut h = header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
            b.append_data(&mut h, name, bytes.as_slice())?;
        }
        for (path, item) in &items {
            let a = attrs.get(path).unwrap_or(&no_attrs);
            let header = |kind: tar::EntryType, mode: u32, size: u64| {
                let mut h = header(kind, mode, size);
                h.set_mtime(a.time(mt));
                let _ = h.set_username(a.owner());
                let _ = h.set_groupname(a.group());
                h
            };
            match item {
                Item::Dir(mode) => {
                    let mut h = header(tar::EntryType::Directory, *mode, 0);
                    b.append_data(&mut h, format!("{path}/"), std::io::empty())?;
                }
                Item::File(mode, src, n) => {
                    let mut h = header(tar::EntryType::Regular, *mode, *n);
                    let r = open(src).map_err(|e| std::io::Error::other(e.to_string()))?;
                    b.append_data(&mut h, path, r.take(*n))?;
                }
                Item::Link(t) => {
                    let mut h = header(tar::EntryType::Symlink, 0o777, 0);
                    b.append_link(&mut h, path, t)?;
                }
            }
        }
        let zst = b.into_inner()?;
        let mut file = zst.finish()?;
        file.flush()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("cannot write", &tmp, e));
    }
    std::fs::rename(&tmp, out).ctx("cannot write", out)
}
