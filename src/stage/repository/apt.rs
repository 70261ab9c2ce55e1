//! A static APT repository: `pool/<component>/<letter>/<package>/<file>.deb`, then
//! `dists/<suite>/<component>/binary-<arch>/Packages[.gz]` and `dists/<suite>/Release`,
//! cleartext-signed as `InRelease` and detached as `Release.gpg` when a key is given — the
//! layout `apt` reads through a `deb [signed-by=…] <url> <suite> <component>` line.
//!
//! Every file is a function of the packages, the config and the commit time (the `Date`).

use super::{Digests, copy_into, digests};
use crate::error::{Error, IoContext, Result};
use crate::keys::openpgp::Key;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What the `Release` file says.
pub struct Settings {
    /// Suite and codename.
    pub suite: String,
    /// Component.
    pub component: String,
    /// `Origin`.
    pub origin: String,
    /// `Label`.
    pub label: String,
    /// `Description`.
    pub description: Option<String>,
}

fn apt_err(file: &Path, e: impl std::fmt::Display) -> Error {
    Error::Failed(format!("cannot read the package {}: {e}", file.display()))
}

/// The control paragraph of a `.deb`, read from its `control.tar.*` member.
pub fn control_of(file: &Path) -> Result<String> {
    let f = std::fs::File::open(file).ctx("cannot read", file)?;
    let mut ar = ar::Archive::new(std::io::BufReader::new(f));
    while let Some(entry) = ar.next_entry() {
        let entry = entry.map_err(|e| apt_err(file, e))?;
        let name = String::from_utf8_lossy(entry.header().identifier()).into_owned();
        if !name.starts_with("control.tar") {
            continue;
        }
        let reader: Box<dyn Read> = if name.ends_with(".gz") {
            Box::new(flate2::read::GzDecoder::new(entry))
        } else if name.ends_with(".xz") {
            Box::new(liblzma::read::XzDecoder::new(entry))
        } else if name.ends_with(".zst") {
            Box::new(zstd::Decoder::new(entry).map_err(|e| apt_err(file, e))?)
        } else {
            Box::new(entry)
        };
        let mut tar = tar::Archive::new(reader);
        for e in tar.entries().map_err(|e| apt_err(file, e))? {
            let mut e = e.map_err(|e| apt_err(file, e))?;
            let path = e.path().map_err(|e| apt_err(file, e))?.into_owned();
            if path == Path::new("./control") || path == Path::new("control") {
                let mut text = String::new();
                e.read_to_string(&mut text).map_err(|e| apt_err(file, e))?;
                return Ok(text.trim_end().to_string());
            }
        }
    }
    Err(apt_err(file, "no control file"))
}

/// The value of `field` in a control paragraph (first line only).
fn field<'a>(control: &'a str, name: &str) -> Option<&'a str> {
    control.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

/// One package in the repository.
struct Listed {
    package: String,
    version: String,
    arch: String,
    stanza: String,
}

/// Write the repository for `debs` (sorted, distinct file names) under `root`.
pub fn write(
    root: &Path,
    debs: &[PathBuf],
    s: &Settings,
    key: Option<&Key>,
    mtime: i64,
) -> Result<Vec<PathBuf>> {
    let mut written = vec![];
    let mut listed = vec![];
    for deb in debs {
        let control = control_of(deb)?;
        let package = field(&control, "Package")
            .ok_or_else(|| apt_err(deb, "no Package field"))?
            .to_string();
        let version = field(&control, "Version").unwrap_or_default().to_string();
        let arch = field(&control, "Architecture").unwrap_or("all").to_string();
        let file = deb.file_name().unwrap().to_string_lossy().into_owned();
        let letter = if package.starts_with("lib") && package.len() > 3 {
            package[..4].to_string()
        } else {
            package[..1].to_string()
        };
        let rel = format!("pool/{}/{letter}/{package}/{file}", s.component);
        let dest = root.join(&rel);
        copy_into(deb, &dest)?;
        written.push(dest);
        let d = digests(deb)?;
        let stanza = format!(
            "{control}\nFilename: {rel}\nSize: {}\nMD5sum: {}\nSHA1: {}\nSHA256: {}\n",
            d.size, d.md5, d.sha1, d.sha256
        );
        listed.push(Listed {
            package,
            version,
            arch,
            stanza,
        });
    }
    listed
        .sort_by(|a, b| (&a.package, &a.version, &a.arch).cmp(&(&b.package, &b.version, &b.arch)));
    let mut archs: BTreeSet<String> = listed
        .iter()
        .filter(|l| l.arch != "all")
        .map(|l| l.arch.clone())
        .collect();
    if archs.is_empty() {
        archs.insert("all".into());
    }
    let dist = root.join("dists").join(&s.suite);
    let mut indexes: BTreeMap<String, Digests> = BTreeMap::new();
    for arch in &archs {
        let text: String = listed
            .iter()
            .filter(|l| &l.arch == arch || l.arch == "all")
            .map(|l| l.stanza.clone())
            .collect::<Vec<_>>()
            .join("\n");
        let rel = format!("{}/binary-{arch}/Packages", s.component);
        let plain = dist.join(&rel);
        super::write_file(&plain, text.as_bytes())?;
        indexes.insert(rel.clone(), digests(&plain)?);
        let gz = dist.join(format!("{rel}.gz"));
        super::write_file(&gz, &super::gzip(text.as_bytes())?)?;
        indexes.insert(format!("{rel}.gz"), digests(&gz)?);
        written.extend([plain, gz]);
    }
    let date = jiff::Timestamp::from_second(mtime)
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let mut release = format!(
        "Origin: {}\nLabel: {}\nSuite: {}\nCodename: {}\nDate: {date}\nArchitectures: {}\nComponents: {}\n",
        s.origin,
        s.label,
        s.suite,
        s.suite,
        archs.iter().cloned().collect::<Vec<_>>().join(" "),
        s.component
    );
    if let Some(d) = &s.description {
        release.push_str(&format!("Description: {d}\n"));
    }
    for (title, pick) in [
        (
            "MD5Sum",
            (|d: &Digests| d.md5.clone()) as fn(&Digests) -> String,
        ),
        ("SHA1", |d: &Digests| d.sha1.clone()),
        ("SHA256", |d: &Digests| d.sha256.clone()),
    ] {
        release.push_str(&format!("{title}:\n"));
        for (rel, d) in &indexes {
            release.push_str(&format!(" {} {:>16} {rel}\n", pick(d), d.size));
        }
    }
    let release_path = dist.join("Release");
    super::write_file(&release_path, release.as_bytes())?;
    written.push(release_path);
    if let Some(k) = key {
        let inrelease = dist.join("InRelease");
        super::write_file(&inrelease, k.cleartext(&release, mtime)?.as_bytes())?;
        let gpg = dist.join("Release.gpg");
        super::write_file(&gpg, k.armored(release.as_bytes(), mtime)?.as_bytes())?;
        written.extend([inrelease, gpg]);
    }
    Ok(written)
}
