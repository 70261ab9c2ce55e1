//! The `.rpm` format, through the `rpm` crate pinned to the v4 format (the one rpm 4.x
//! verifies), gzip payload, every time the commit time, no build host: byte-reproducible.

use super::deb::{Entry, Kind};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// What the rpm header says besides the files.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// Package name.
    pub name: String,
    /// `X.Y.Z[~pre]`.
    pub version: String,
    /// Release, `1` by default.
    pub release: String,
    /// Epoch, if any.
    pub epoch: Option<u32>,
    /// rpm architecture (`x86_64`, `aarch64`).
    pub arch: String,
    /// License.
    pub license: String,
    /// First line of the description.
    pub summary: String,
    /// The whole description.
    pub description: String,
    /// Vendor.
    pub vendor: Option<String>,
    /// Packager (the maintainer).
    pub packager: Option<String>,
    /// Homepage.
    pub url: Option<String>,
    /// `(requires, recommends, suggests, conflicts, obsoletes (replaces), provides)`.
    pub relations: BTreeMap<&'static str, Vec<String>>,
    /// `Group`.
    pub group: Option<String>,
    /// `Buildhost`, only when the config names one.
    pub buildhost: Option<String>,
    /// Payload compression: `gzip`, `xz` or `zstd`.
    pub compression: String,
}

/// The rpm architecture of a Go arch/arm.
pub fn arch(arch: &str, arm: Option<&str>) -> Option<&'static str> {
    Some(match (arch, crate::target::arm_version(arm)) {
        ("amd64", _) => "x86_64",
        ("arm64", _) => "aarch64",
        ("386", _) => "i386",
        ("arm", Some("7")) => "armv7hl",
        ("arm", Some("5")) => "armv5tel",
        ("arm", _) => "armv6hl",
        ("ppc64le", _) => "ppc64le",
        ("s390x", _) => "s390x",
        ("riscv64", _) => "riscv64",
        ("loong64", _) => "loongarch64",
        ("mipsle", _) => "mipsel",
        ("mips64le", _) => "mips64el",
        ("mips", _) => "mips",
        ("mips64", _) => "mips64",
        _ => return None,
    })
}

/// The rpm version and release of a semver version: the prerelease after `~` in the version
/// (so 1.2.0~rc.1 sorts before 1.2.0), `-` in it as `.`.
pub fn version(version: &str, prerelease: Option<&str>) -> String {
    let (core, pre) = match version.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (version, None),
    };
    match prerelease.filter(|p| !p.is_empty()).or(pre) {
        Some(p) => format!("{core}~{}", p.replace('-', ".")),
        None => core.to_string(),
    }
}

fn rpm_err(e: impl std::fmt::Display) -> Error {
    Error::Failed(format!("cannot write an rpm package: {e}"))
}

/// Write the package to `out` through a temporary file.
pub fn write(
    meta: &Meta,
    entries: &[Entry],
    scripts: &BTreeMap<&'static str, Vec<u8>>,
    mtime: i64,
    sign: Option<&crate::keys::openpgp::Key>,
    out: &Path,
) -> Result<()> {
    let compression = match meta.compression.as_str() {
        "xz" => rpm::CompressionType::Xz,
        "zstd" => rpm::CompressionType::Zstd,
        _ => rpm::CompressionType::Gzip,
    };
    let config = rpm::BuildConfig::v4()
        .compression(compression)
        .source_date(mtime.max(0) as u32);
    let mut b = rpm::PackageBuilder::new(
        &meta.name,
        &meta.version,
        &meta.license,
        &meta.arch,
        &meta.summary,
    );
    b.using_config(config)
        .release(meta.release.clone())
        .description(meta.description.clone());
    if let Some(e) = meta.epoch {
        b.epoch(e);
    }
    if let Some(v) = &meta.vendor {
        b.vendor(v.clone());
    }
    if let Some(p) = &meta.packager {
        b.packager(p.clone());
    }
    if let Some(u) = &meta.url {
        b.url(u.clone());
    }
    if let Some(g) = &meta.group {
        b.group(g.clone());
    }
    if let Some(h) = &meta.buildhost {
        b.build_host(h);
    }
    for (field, list) in &meta.relations {
        for dep in list {
            let d = rpm::Dependency::any(dep.clone());
            match *field {
                "requires" => b.requires(d),
                "recommends" => b.recommends(d),
                "suggests" => b.suggests(d),
                "conflicts" => b.conflicts(d),
                "obsoletes" => b.obsoletes(d),
                _ => b.provides(d),
            };
        }
    }
    // Every entry gets the commit time (or its own): the crate's source date only clamps
    // later times.
    let mt = mtime.max(0) as u64;
    for e in entries {
        let at = rpm::Timestamp::from(e.attrs.time(mt) as u32);
        let own = |o: rpm::FileOptionsBuilder| {
            let o = o
                .user(e.attrs.owner())
                .group(e.attrs.group())
                .modified_at(at);
            let o = if e.doc { o.doc() } else { o };
            match (e.config, e.noreplace) {
                (_, true) => o.config().noreplace(),
                (true, false) => o.config(),
                _ => o,
            }
        };
        match &e.kind {
            Kind::File { source, mode } => {
                let o = own(rpm::FileOptions::new(e.path.clone())
                    .mode(rpm::FileMode::regular(*mode as u16)));
                b.with_file(source, o).map_err(rpm_err)?;
            }
            Kind::Generated(bytes) => {
                let o =
                    own(rpm::FileOptions::new(e.path.clone()).mode(rpm::FileMode::regular(0o644)));
                b.with_file_contents(bytes.clone(), o).map_err(rpm_err)?;
            }
            Kind::Dir { mode } => {
                let o =
                    own(rpm::FileOptions::dir(e.path.clone())
                        .mode(rpm::FileMode::dir(*mode as u16)));
                b.with_dir_entry(o).map_err(rpm_err)?;
            }
            Kind::Symlink { target } => {
                let o = own(rpm::FileOptions::symlink(e.path.clone(), target.clone()));
                b.with_symlink(o).map_err(rpm_err)?;
            }
            Kind::Ghost => {
                b.with_ghost(own(rpm::FileOptions::ghost(e.path.clone())))
                    .map_err(rpm_err)?;
            }
        }
    }
    for (name, text) in scripts {
        let s = String::from_utf8_lossy(text).into_owned();
        match *name {
            "preinst" => b.pre_install_script(s),
            "postinst" => b.post_install_script(s),
            "prerm" => b.pre_uninstall_script(s),
            _ => b.post_uninstall_script(s),
        };
    }
    let mut pkg = b.build().map_err(rpm_err)?;
    if let Some(key) = sign {
        // A header-only OpenPGP signature (rpm's RSA/DSA tag in the v4 format), made at the
        // commit time so that it reproduces.
        let header = pkg.header_bytes().map_err(rpm_err)?;
        let sig = key.detached(header.as_slice(), mtime)?;
        pkg.apply_signature(sig).map_err(rpm_err)?;
    }
    let tmp = crate::dist::temp_beside(out, "tmp");
    if let Err(e) = pkg.write_file(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(rpm_err(e));
    }
    std::fs::rename(&tmp, out).map_err(|e| Error::io("cannot write", out, e))
}
