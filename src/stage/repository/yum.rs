//! A static YUM/DNF repository: the `.rpm` files in `Packages/`, and `repodata/` with
//! `primary.xml.gz`, `filelists.xml.gz`, `other.xml.gz` (named by their SHA-256, as
//! createrepo_c names them) and `repomd.xml`, signed as `repomd.xml.asc` when a key is given.
//!
//! The metadata is read from each package's own header with the `rpm` crate; every time in
//! it is the package's build time or the commit time, so the files reproduce.

use super::{copy_into, digests, gzip, write_file};
use crate::error::{Error, Result};
use crate::keys::openpgp::Key;
use rpm::{DependencyFlags, FileType, IndexTag, PackageMetadata};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn yum_err(file: &Path, e: impl std::fmt::Display) -> Error {
    Error::Failed(format!("cannot read the package {}: {e}", file.display()))
}

/// Text escaped for XML.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// `<rpm:entry …/>` lines for a dependency list, rpmlib requirements left out as
/// createrepo_c does.
fn entries(tag: &str, deps: &[rpm::Dependency]) -> String {
    let deps: Vec<&rpm::Dependency> = deps
        .iter()
        .filter(|d| !d.name.starts_with("rpmlib(") && !d.flags.contains(DependencyFlags::RPMLIB))
        .collect();
    if deps.is_empty() {
        return String::new();
    }
    let mut o = format!("      <rpm:{tag}>\n");
    for d in deps {
        let f =
            d.flags & (DependencyFlags::LESS | DependencyFlags::GREATER | DependencyFlags::EQUAL);
        let flag = match f.bits() {
            x if x == DependencyFlags::EQUAL.bits() => "EQ",
            x if x == DependencyFlags::LESS.bits() => "LT",
            x if x == DependencyFlags::GREATER.bits() => "GT",
            x if x == DependencyFlags::LE.bits() => "LE",
            x if x == DependencyFlags::GE.bits() => "GE",
            _ => "",
        };
        if flag.is_empty() || d.version.is_empty() {
            let _ = writeln!(o, "        <rpm:entry name=\"{}\"/>", esc(&d.name));
        } else {
            let (epoch, rest) = match d.version.split_once(':') {
                Some((e, r)) => (e.to_string(), r.to_string()),
                None => ("0".into(), d.version.clone()),
            };
            let (ver, rel) = match rest.split_once('-') {
                Some((v, r)) => (v.to_string(), Some(r.to_string())),
                None => (rest, None),
            };
            let rel = rel
                .map(|r| format!(" rel=\"{}\"", esc(&r)))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "        <rpm:entry name=\"{}\" flags=\"{flag}\" epoch=\"{}\" ver=\"{}\"{rel}/>",
                esc(&d.name),
                esc(&epoch),
                esc(&ver)
            );
        }
    }
    let _ = writeln!(o, "      </rpm:{tag}>");
    o
}

/// Files primary.xml lists (the ones dependencies are commonly on), as createrepo_c picks.
fn primary_file(path: &str) -> bool {
    path.starts_with("/etc/") || path.contains("bin/") || path == "/usr/lib/sendmail"
}

/// The three metadata documents' entries for one package.
struct Docs {
    primary: String,
    filelists: String,
    other: String,
}

fn describe(file: &Path, href: &str) -> Result<Docs> {
    let m = PackageMetadata::open(file).map_err(|e| yum_err(file, e))?;
    let d = digests(file)?;
    let s = |r: std::result::Result<&str, rpm::Error>| esc(r.unwrap_or_default());
    let name = s(m.get_name());
    let arch = s(m.get_arch());
    let epoch = m.get_epoch().unwrap_or(0);
    let version = format!(
        "<version epoch=\"{epoch}\" ver=\"{}\" rel=\"{}\"/>",
        s(m.get_version()),
        s(m.get_release())
    );
    let build = m.get_build_time().unwrap_or(0);
    let offsets = m.get_package_segment_offsets();
    let archive = m
        .header
        .get_entry_data_as_u64(IndexTag::RPMTAG_LONGARCHIVESIZE)
        .or_else(|_| {
            m.header
                .get_entry_data_as_u32(IndexTag::RPMTAG_ARCHIVESIZE)
                .map(u64::from)
        })
        .unwrap_or(0);
    let files = m.get_file_entries().map_err(|e| yum_err(file, e))?;
    let mut primary_files = String::new();
    let mut all_files = String::new();
    for f in &files {
        let path = esc(&f.path().to_string_lossy());
        let dir = f.file_type() == FileType::Dir;
        let line = if dir {
            format!("    <file type=\"dir\">{path}</file>\n")
        } else {
            format!("    <file>{path}</file>\n")
        };
        if primary_file(&path) {
            primary_files.push_str("  ");
            primary_files.push_str(&line);
        }
        all_files.push_str(&line);
    }
    let deps = |r: std::result::Result<Vec<rpm::Dependency>, rpm::Error>| r.unwrap_or_default();
    let mut primary = String::new();
    let _ = write!(
        primary,
        "<package type=\"rpm\">\n  <name>{name}</name>\n  <arch>{arch}</arch>\n  {version}\n  <checksum type=\"sha256\" pkgid=\"YES\">{sha}</checksum>\n  <summary>{summary}</summary>\n  <description>{description}</description>\n  <packager>{packager}</packager>\n  <url>{url}</url>\n  <time file=\"{build}\" build=\"{build}\"/>\n  <size package=\"{size}\" installed=\"{installed}\" archive=\"{archive}\"/>\n  <location href=\"{href}\"/>\n  <format>\n    <rpm:license>{license}</rpm:license>\n    <rpm:vendor>{vendor}</rpm:vendor>\n    <rpm:group>{group}</rpm:group>\n    <rpm:buildhost>{host}</rpm:buildhost>\n    <rpm:sourcerpm>{source}</rpm:sourcerpm>\n    <rpm:header-range start=\"{start}\" end=\"{end}\"/>\n",
        sha = d.sha256,
        summary = s(m.get_summary()),
        description = s(m.get_description()),
        packager = s(m.get_packager()),
        url = s(m.get_url()),
        size = d.size,
        installed = m.get_installed_size().unwrap_or(0),
        href = esc(href),
        license = s(m.get_license()),
        vendor = s(m.get_vendor()),
        group = s(m.get_group()),
        host = s(m.get_build_host()),
        source = s(m.get_source_rpm()),
        start = offsets.header,
        end = offsets.payload,
    );
    primary.push_str(&entries("provides", &deps(m.get_provides())));
    primary.push_str(&entries("requires", &deps(m.get_requires())));
    primary.push_str(&entries("conflicts", &deps(m.get_conflicts())));
    primary.push_str(&entries("obsoletes", &deps(m.get_obsoletes())));
    primary.push_str(&entries("recommends", &deps(m.get_recommends())));
    primary.push_str(&entries("suggests", &deps(m.get_suggests())));
    primary.push_str(&primary_files.replace("      <file", "    <file"));
    primary.push_str("  </format>\n</package>\n");
    let head = format!(
        "<package pkgid=\"{}\" name=\"{name}\" arch=\"{arch}\">\n  {version}\n",
        d.sha256
    );
    let filelists = format!(
        "{head}{}</package>\n",
        all_files.replace("    <file", "  <file")
    );
    let other = format!("{head}</package>\n");
    Ok(Docs {
        primary,
        filelists,
        other,
    })
}

/// Write the repository for `rpms` (sorted, distinct file names) under `root`.
pub fn write(root: &Path, rpms: &[PathBuf], key: Option<&Key>, mtime: i64) -> Result<Vec<PathBuf>> {
    let mut written = vec![];
    let mut docs = vec![];
    for file in rpms {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let href = format!("Packages/{name}");
        let dest = root.join(&href);
        copy_into(file, &dest)?;
        written.push(dest);
        docs.push(describe(file, &href)?);
    }
    let n = docs.len();
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    let primary = format!(
        "{xml}<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"{n}\">\n{}</metadata>\n",
        docs.iter().map(|d| d.primary.as_str()).collect::<String>()
    );
    let filelists = format!(
        "{xml}<filelists xmlns=\"http://linux.duke.edu/metadata/filelists\" packages=\"{n}\">\n{}</filelists>\n",
        docs.iter()
            .map(|d| d.filelists.as_str())
            .collect::<String>()
    );
    let other = format!(
        "{xml}<otherdata xmlns=\"http://linux.duke.edu/metadata/other\" packages=\"{n}\">\n{}</otherdata>\n",
        docs.iter().map(|d| d.other.as_str()).collect::<String>()
    );
    let repodata = root.join("repodata");
    let mut repomd = format!(
        "{xml}<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n  <revision>{mtime}</revision>\n"
    );
    for (kind, text) in [
        ("primary", &primary),
        ("filelists", &filelists),
        ("other", &other),
    ] {
        let gz = gzip(text.as_bytes())?;
        let gz_sha = crate::hash::hex(&sha2::Digest::finalize(sha2::Digest::chain_update(
            sha2::Sha256::default(),
            &gz,
        )));
        let open_sha = crate::hash::hex(&sha2::Digest::finalize(sha2::Digest::chain_update(
            sha2::Sha256::default(),
            text.as_bytes(),
        )));
        let file = format!("{gz_sha}-{kind}.xml.gz");
        let path = repodata.join(&file);
        write_file(&path, &gz)?;
        written.push(path);
        let _ = write!(
            repomd,
            "  <data type=\"{kind}\">\n    <checksum type=\"sha256\">{gz_sha}</checksum>\n    <open-checksum type=\"sha256\">{open_sha}</open-checksum>\n    <location href=\"repodata/{file}\"/>\n    <timestamp>{mtime}</timestamp>\n    <size>{}</size>\n    <open-size>{}</open-size>\n  </data>\n",
            gz.len(),
            text.len()
        );
    }
    repomd.push_str("</repomd>\n");
    let md = repodata.join("repomd.xml");
    write_file(&md, repomd.as_bytes())?;
    written.push(md);
    if let Some(k) = key {
        let asc = repodata.join("repomd.xml.asc");
        write_file(&asc, k.armored(repomd.as_bytes(), mtime)?.as_bytes())?;
        written.push(asc);
    }
    Ok(written)
}
