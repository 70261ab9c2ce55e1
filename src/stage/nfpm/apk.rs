//! Alpine's apk v2 packages: concatenated gzip streams — an optional signature tar, the
//! control tar (`.PKGINFO` and scripts) and the data tar — as `abuild` writes them.
//!
//! The control and signature tars are "cut" (no end-of-archive blocks), so that the three
//! streams read as one tar. `.PKGINFO` carries `datahash`, the SHA-256 of the gzipped data
//! stream; every file carries an `APK-TOOLS.checksum.SHA1` PAX record; the signature is RSA
//! PKCS#1 v1.5 over the SHA-1 of the gzipped control stream, in `.SIGN.RSA.<key name>`.
//! Times are the commit time, owners root, entries sorted: byte-reproducible.

use super::deb::{Entry, Kind};
use crate::error::{Error, IoContext, Result};
use crate::keys::rsa::Key;
use flate2::{Compression, GzBuilder};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What `.PKGINFO` says besides the files.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// Package name.
    pub name: String,
    /// apk version (`1.2.3_rc1-r1`).
    pub version: String,
    /// apk architecture.
    pub arch: String,
    /// One-line description.
    pub summary: String,
    /// Homepage.
    pub url: Option<String>,
    /// Maintainer.
    pub maintainer: String,
    /// License.
    pub license: Option<String>,
    /// `depend`, `provides`, `replaces` lines (conflicts are `depend = !name`).
    pub relations: Vec<(&'static str, Vec<String>)>,
}

/// The apk architecture of a Go arch/arm.
pub fn arch(arch: &str, arm: Option<&str>) -> Option<&'static str> {
    Some(match (arch, crate::target::arm_version(arm)) {
        ("amd64", _) => "x86_64",
        ("arm64", _) => "aarch64",
        ("386", _) => "x86",
        ("arm", Some("7")) => "armv7",
        ("arm", _) => "armhf",
        ("ppc64le", _) => "ppc64le",
        ("s390x", _) => "s390x",
        ("riscv64", _) => "riscv64",
        ("loong64", _) => "loongarch64",
        _ => return None,
    })
}

/// apk's version of a semver version: the prerelease as a suffix without separators
/// (`1.2.0_rc1`, which apk sorts before `1.2.0`), then `-r<release>`.
pub fn pkgver(version: &str, prerelease: Option<&str>, release: &str) -> String {
    let (core, pre) = match version.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (version, None),
    };
    let mut v = core.to_string();
    if let Some(p) = prerelease.filter(|p| !p.is_empty()).or(pre) {
        v.push('_');
        v.extend(p.chars().filter(|c| c.is_ascii_alphanumeric()));
    }
    let r = release.trim_start_matches('r');
    v.push_str(&format!("-r{}", if r.is_empty() { "0" } else { r }));
    v
}

fn apk_err(e: impl std::fmt::Display) -> Error {
    Error::Failed(format!("cannot write an apk package: {e}"))
}

/// A PAX extended header record, `"<len> key=value\n"` with `len` counting itself.
fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while len.to_string().len() + body.len() != len {
        len = len.to_string().len() + body.len();
    }
    format!("{len}{body}")
}

/// A tar written in memory, entry by entry, with apk's checksums.
struct Tar<W: Write> {
    b: tar::Builder<W>,
    mtime: u64,
}

impl Tar<Vec<u8>> {
    fn new(mtime: u64) -> Self {
        Tar::to(Vec::new(), mtime)
    }

    /// The tar, whole (`cut: false`) or without its end-of-archive blocks.
    fn finish(self, cut: bool) -> std::io::Result<Vec<u8>> {
        let mut v = self.b.into_inner()?;
        if cut {
            v.truncate(v.len() - 1024);
        }
        Ok(v)
    }
}

impl<W: Write> Tar<W> {
    fn to(w: W, mtime: u64) -> Self {
        let mut b = tar::Builder::new(w);
        b.mode(tar::HeaderMode::Deterministic);
        Tar { b, mtime }
    }

    fn header(&self, kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(size);
        h.set_mtime(self.mtime);
        h.set_uid(0);
        h.set_gid(0);
        let _ = h.set_username("root");
        let _ = h.set_groupname("root");
        h
    }

    /// The PAX header that carries `APK-TOOLS.checksum.SHA1` for the next entry.
    fn checksum(&mut self, name: &str, sha1: &str) -> std::io::Result<()> {
        let rec = pax_record("APK-TOOLS.checksum.SHA1", sha1);
        let mut h = self.header(tar::EntryType::XHeader, 0o644, rec.len() as u64);
        let short: String = format!("PaxHeaders/{name}").chars().take(99).collect();
        h.set_path(&short)?;
        h.set_cksum();
        self.b.append(&h, rec.as_bytes())
    }

    fn file(
        &mut self,
        name: &str,
        mode: u32,
        data: &mut dyn Read,
        size: u64,
        sha1: &str,
    ) -> std::io::Result<()> {
        self.checksum(name, sha1)?;
        let mut h = self.header(tar::EntryType::Regular, mode, size);
        self.b.append_data(&mut h, name, data.take(size))
    }

    fn plain(&mut self, name: &str, mode: u32, data: &[u8]) -> std::io::Result<()> {
        let mut h = self.header(tar::EntryType::Regular, mode, data.len() as u64);
        self.b.append_data(&mut h, name, data)
    }

    fn dir(&mut self, name: &str, mode: u32) -> std::io::Result<()> {
        let mut h = self.header(tar::EntryType::Directory, mode, 0);
        self.b
            .append_data(&mut h, format!("{name}/"), std::io::empty())
    }

    fn link(&mut self, name: &str, target: &str) -> std::io::Result<()> {
        self.checksum(name, &crate::hash::hex(&Sha1::digest(target.as_bytes())))?;
        let mut h = self.header(tar::EntryType::Symlink, 0o777, 0);
        self.b.append_link(&mut h, name, target)
    }
}

fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), Compression::new(9));
    gz.write_all(data)?;
    gz.finish()
}

enum Item {
    Dir(u32),
    File(u32, PathBuf),
    Bytes(u32, Vec<u8>),
    Link(String),
}

/// SHA-1 of a file, streamed.
fn sha1_file(p: &Path) -> Result<String> {
    let mut h = Sha1::new();
    crate::hash::stream(p, &mut |b| h.update(b))?;
    Ok(crate::hash::hex(&h.finalize()))
}

/// Write the package to `out` through a temporary file; `sign` is the RSA key and the key
/// name (`…​.rsa.pub`) users install.
pub fn write(
    meta: &Meta,
    entries: &[Entry],
    scripts: &BTreeMap<&'static str, Vec<u8>>,
    mtime: i64,
    sign: Option<(&Key, &str)>,
    out: &Path,
) -> Result<()> {
    let mt = mtime.max(0) as u64;
    let mut items: BTreeMap<String, Item> = BTreeMap::new();
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
            Kind::File { source, mode } => Item::File(*mode, source.clone()),
            Kind::Generated(b) => Item::Bytes(0o644, b.clone()),
            Kind::Dir { mode } => Item::Dir(*mode),
            Kind::Symlink { target } => Item::Link(target.clone()),
            Kind::Ghost => continue,
        };
        items.insert(rel, item);
    }
    // The data stream, through a temporary file so memory stays flat.
    let data_tmp = crate::dist::temp_beside(out, "data.tmp");
    let data = (|| -> Result<(Vec<u8>, u64)> {
        let mut size = 0u64;
        let file = std::fs::File::create(&data_tmp).ctx("cannot create", &data_tmp)?;
        let gz = GzBuilder::new()
            .mtime(0)
            .operating_system(3)
            .write(std::io::BufWriter::new(file), Compression::new(9));
        let mut t = Tar::to(gz, mt);
        for (path, item) in &items {
            match item {
                Item::Dir(mode) => t.dir(path, *mode),
                Item::File(mode, src) => {
                    let len = std::fs::metadata(src).ctx("cannot read", src)?.len();
                    size += len;
                    let sum = sha1_file(src)?;
                    let mut f = std::fs::File::open(src).ctx("cannot read", src)?;
                    t.file(path, *mode, &mut f, len, &sum)
                }
                Item::Bytes(mode, b) => {
                    size += b.len() as u64;
                    let sum = crate::hash::hex(&Sha1::digest(b));
                    t.file(path, *mode, &mut b.as_slice(), b.len() as u64, &sum)
                }
                Item::Link(target) => t.link(path, target),
            }
            .map_err(apk_err)?;
        }
        let gz = t.b.into_inner().map_err(apk_err)?;
        let w = gz.finish().map_err(apk_err)?;
        w.into_inner()
            .map_err(|e| apk_err(e.into_error()))?
            .sync_all()
            .ok();
        // datahash: the SHA-256 of the gzipped data stream.
        let mut h = Sha256::new();
        let mut f = std::fs::File::open(&data_tmp).ctx("cannot read", &data_tmp)?;
        std::io::copy(&mut f, &mut h).ctx("cannot read", &data_tmp)?;
        Ok((h.finalize().to_vec(), size))
    })();
    let result = data.and_then(|(datahash, size)| {
        let mut info = format!(
            "# Generated by rel\npkgname = {}\npkgver = {}\npkgdesc = {}\n",
            meta.name, meta.version, meta.summary
        );
        if let Some(u) = &meta.url {
            info.push_str(&format!("url = {u}\n"));
        }
        info.push_str(&format!(
            "builddate = {mt}\npackager = {}\nsize = {size}\narch = {}\norigin = {}\nmaintainer = {}\n",
            meta.maintainer, meta.arch, meta.name, meta.maintainer
        ));
        if let Some(l) = &meta.license {
            info.push_str(&format!("license = {l}\n"));
        }
        for (key, list) in &meta.relations {
            for v in list {
                info.push_str(&format!("{key} = {v}\n"));
            }
        }
        info.push_str(&format!("datahash = {}\n", crate::hash::hex(&datahash)));
        let mut ctl = Tar::new(mt);
        ctl.plain(".PKGINFO", 0o644, info.as_bytes()).map_err(apk_err)?;
        for (name, apk_name) in [
            ("preinst", ".pre-install"),
            ("postinst", ".post-install"),
            ("prerm", ".pre-deinstall"),
            ("postrm", ".post-deinstall"),
        ] {
            if let Some(text) = scripts.get(name) {
                let sum = crate::hash::hex(&Sha1::digest(text));
                ctl.file(apk_name, 0o755, &mut text.as_slice(), text.len() as u64, &sum)
                    .map_err(apk_err)?;
            }
        }
        let control_gz = gzip(&ctl.finish(true).map_err(apk_err)?).map_err(apk_err)?;
        let signature_gz = match sign {
            Some((key, name)) => {
                let sig = key.sign_sha1(&control_gz)?;
                let mut s = Tar::new(mt);
                s.plain(&format!(".SIGN.RSA.{name}"), 0o644, &sig).map_err(apk_err)?;
                Some(gzip(&s.finish(true).map_err(apk_err)?).map_err(apk_err)?)
            }
            None => None,
        };
        let tmp = crate::dist::temp_beside(out, "tmp");
        let written = (|| -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            if let Some(s) = &signature_gz {
                f.write_all(s)?;
            }
            f.write_all(&control_gz)?;
            std::io::copy(&mut std::fs::File::open(&data_tmp)?, &mut f)?;
            f.flush()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io("cannot write", &tmp, e));
        }
        std::fs::rename(&tmp, out).ctx("cannot write", out)
    });
    let _ = std::fs::remove_file(&data_tmp);
    result
}
