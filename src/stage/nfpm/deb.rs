//! The `.deb` format, written in-process: an `ar` archive of `debian-binary`,
//! `control.tar.gz` (control, md5sums, conffiles, maintainer scripts) and `data.tar.gz`.
//!
//! Byte-reproducible: every time is the commit time, entries are sorted, owners are
//! root:root, gzip headers carry no name or time, and nothing about the host is read.
//! Lintian-clean by default: `/usr/share/doc/<package>/copyright` and the changelog
//! (`changelog.gz`, or `changelog.Debian.gz` with a Debian revision) are written when the
//! contents do not bring their own.

use crate::error::{Error, IoContext, Result};
use flate2::{Compression, GzBuilder};
use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What a package entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A file from the project (or a binary), with its mode.
    File { source: PathBuf, mode: u32 },
    /// Bytes rel generates (copyright, changelog), mode 0644.
    Generated(Vec<u8>),
    /// A folder.
    Dir { mode: u32 },
    /// A symlink to `target`.
    Symlink { target: String },
    /// A path the package owns but does not ship (rpm `%ghost`; left out of other formats).
    Ghost,
}

/// Owner, group and time of an entry; `None` is root, root and the commit time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Owner name.
    pub owner: Option<String>,
    /// Group name.
    pub group: Option<String>,
    /// Modification time, seconds since the epoch.
    pub mtime: Option<i64>,
}

impl Attrs {
    /// The owner's name.
    pub fn owner(&self) -> &str {
        self.owner.as_deref().unwrap_or("root")
    }

    /// The group's name.
    pub fn group(&self) -> &str {
        self.group.as_deref().unwrap_or("root")
    }

    /// The entry's time, the commit time `mt` when unset.
    pub fn time(&self, mt: u64) -> u64 {
        self.mtime.map(|t| t.max(0) as u64).unwrap_or(mt)
    }
}

/// One entry, by absolute path in the installed system (`/usr/bin/hello`).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Absolute path.
    pub path: String,
    /// What it is.
    pub kind: Kind,
    /// A configuration file (listed in `conffiles`).
    pub config: bool,
    /// A configuration file kept as it is on upgrade (rpm `%config(noreplace)`).
    pub noreplace: bool,
    /// Documentation (rpm `%doc`).
    pub doc: bool,
    /// Owner, group and time.
    pub attrs: Attrs,
}

impl Entry {
    /// A plain entry owned by root at the commit time.
    pub fn new(path: impl Into<String>, kind: Kind) -> Entry {
        Entry {
            path: path.into(),
            kind,
            config: false,
            noreplace: false,
            doc: false,
            attrs: Attrs::default(),
        }
    }
}

/// How a deb's signature is made: debsigs' `_gpg<role>` member, a detached OpenPGP
/// signature over `debian-binary`, `control.tar.*` and `data.tar.*` in that order.
pub struct Signing<'a> {
    /// The key.
    pub key: &'a crate::keys::openpgp::Key,
    /// `origin`, `maint` or `archive`.
    pub role: String,
}

/// Everything the control file says.
#[derive(Debug, Clone, Default)]
pub struct Control {
    /// Package name.
    pub package: String,
    /// The Debian version (`[epoch:]upstream[~pre][-release]`).
    pub version: String,
    /// Debian architecture (`amd64`, `arm64`, `armhf`, `i386`).
    pub arch: String,
    /// `Name <email>`.
    pub maintainer: String,
    /// First line of the description.
    pub summary: String,
    /// The paragraphs after it.
    pub long: String,
    /// Section.
    pub section: String,
    /// Priority.
    pub priority: String,
    /// Homepage.
    pub homepage: Option<String>,
    /// Relationship fields, in Debian's order (`Depends`, `Recommends`, …), non-empty ones.
    pub relations: Vec<(&'static str, Vec<String>)>,
    /// License, for the generated copyright file.
    pub license: Option<String>,
    /// Vendor, for the generated copyright file.
    pub vendor: Option<String>,
    /// More control fields (`deb.fields`), written after the standard ones.
    pub fields: BTreeMap<String, String>,
    /// `data.tar` compression: `gzip`, `xz`, `zstd` or `none`.
    pub compression: String,
    /// The `triggers` control file, when any.
    pub triggers: Option<String>,
}

impl Control {
    /// The packages of a relationship field (`Depends`, `Recommends`, …), empty when unset.
    pub fn relation(&self, field: &str) -> Vec<String> {
        self.relations
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }
}

/// The Debian architecture of a Go os/arch/arm.
pub fn arch(arch: &str, arm: Option<&str>) -> Option<&'static str> {
    Some(match (arch, crate::target::arm_version(arm)) {
        ("amd64", _) => "amd64",
        ("arm64", _) => "arm64",
        ("386", _) => "i386",
        ("arm", Some("5")) => "armel",
        ("arm", _) => "armhf",
        ("ppc64le", _) => "ppc64el",
        ("s390x", _) => "s390x",
        ("riscv64", _) => "riscv64",
        ("mips64le", _) => "mips64el",
        ("mipsle", _) => "mipsel",
        ("loong64", _) => "loong64",
        _ => return None,
    })
}

/// A compressed stream for `data.tar`: gzip, xz, zstd or none, each reproducible.
fn compressor<'a, W: Write + 'a>(kind: &str, out: W) -> Result<Box<dyn Finish<W> + 'a>> {
    Ok(match kind {
        "xz" => Box::new(liblzma::write::XzEncoder::new(out, 6)),
        "zstd" => Box::new(zstd::Encoder::new(out, 9).map_err(tar_err)?),
        "none" => Box::new(Plain(out)),
        _ => Box::new(
            GzBuilder::new()
                .mtime(0)
                .operating_system(3)
                .write(out, Compression::new(9)),
        ),
    })
}

/// A compressing writer that hands back its inner writer when done.
trait Finish<W>: Write {
    fn done(self: Box<Self>) -> std::io::Result<W>;
}

impl<W: Write> Finish<W> for flate2::write::GzEncoder<W> {
    fn done(self: Box<Self>) -> std::io::Result<W> {
        self.finish()
    }
}

impl<W: Write> Finish<W> for liblzma::write::XzEncoder<W> {
    fn done(self: Box<Self>) -> std::io::Result<W> {
        self.finish()
    }
}

impl<W: Write> Finish<W> for zstd::Encoder<'_, W> {
    fn done(self: Box<Self>) -> std::io::Result<W> {
        self.finish()
    }
}

struct Plain<W>(W);

impl<W: Write> Write for Plain<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write> Finish<W> for Plain<W> {
    fn done(self: Box<Self>) -> std::io::Result<W> {
        Ok(self.0)
    }
}

/// The member name suffix of a `data.tar` compression.
fn data_member(kind: &str) -> &'static str {
    match kind {
        "xz" => "data.tar.xz",
        "zstd" => "data.tar.zst",
        "none" => "data.tar",
        _ => "data.tar.gz",
    }
}

/// A tar.gz of `entries` (relative names, sorted by the caller) written to `out`,
/// reproducible; files on disk are streamed, never held whole.
fn tar_gz<W: Write>(entries: &[(String, TarItem, Attrs)], mtime: u64, out: W) -> Result<W> {
    tar_with(entries, mtime, "gzip", out)
}

/// [`tar_gz`] with the compression of `data.tar`.
fn tar_with<W: Write>(
    entries: &[(String, TarItem, Attrs)],
    mtime: u64,
    compression: &str,
    out: W,
) -> Result<W> {
    let gz = compressor(compression, out)?;
    let mut b = tar::Builder::new(gz);
    b.mode(tar::HeaderMode::Deterministic);
    for (name, item, attrs) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(attrs.time(mtime));
        h.set_uid(0);
        h.set_gid(0);
        h.set_username(attrs.owner()).map_err(tar_err)?;
        h.set_groupname(attrs.group()).map_err(tar_err)?;
        let mut disk: Option<std::fs::File> = None;
        let (data, size): (&[u8], u64) = match item {
            TarItem::Dir(mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                (&[], 0)
            }
            TarItem::File(mode, bytes) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                (bytes.as_slice(), bytes.len() as u64)
            }
            TarItem::Disk(mode, path, len) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                disk = Some(std::fs::File::open(path).ctx("cannot read", path)?);
                (&[], *len)
            }
            TarItem::Link(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_link_name(target).map_err(tar_err)?;
                (&[], 0)
            }
        };
        h.set_size(size);
        // Debian's own tools write `./usr/bin/x`; the tar crate's path setters drop the
        // `./`, so short names go into the header as they are (longer ones take the GNU
        // long-name record, where the crate keeps them as given).
        let reader: Box<dyn Read> = match disk {
            Some(f) => Box::new(f.take(size)),
            None => Box::new(data),
        };
        if name.len() < 100 {
            let field = &mut h.as_old_mut().name;
            field.fill(0);
            field[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, reader).map_err(tar_err)?;
        } else {
            b.append_data(&mut h, name, reader).map_err(tar_err)?;
        }
    }
    let gz = b.into_inner().map_err(tar_err)?;
    gz.done().map_err(tar_err)
}

fn tar_err(e: std::io::Error) -> Error {
    Error::Failed(format!("cannot write a package: {e}"))
}

enum TarItem {
    Dir(u32),
    File(u32, Vec<u8>),
    /// A file streamed from disk: mode, path, size.
    Disk(u32, PathBuf, u64),
    Link(String),
}

/// MD5 and size of a file, streamed.
fn md5_file(p: &Path) -> Result<(String, u64)> {
    let mut h = Md5::new();
    let size = crate::hash::stream(p, &mut |b| h.update(b))?;
    Ok((crate::dist::hex(&h.finalize()), size))
}

/// The control file's text.
fn control_text(c: &Control, installed_kib: u64) -> String {
    let mut s = format!(
        "Package: {}\nVersion: {}\nSection: {}\nPriority: {}\nArchitecture: {}\nMaintainer: {}\nInstalled-Size: {installed_kib}\n",
        c.package, c.version, c.section, c.priority, c.arch, c.maintainer
    );
    for (field, list) in &c.relations {
        if !list.is_empty() {
            s.push_str(&format!("{field}: {}\n", list.join(", ")));
        }
    }
    if let Some(h) = &c.homepage {
        s.push_str(&format!("Homepage: {h}\n"));
    }
    for (k, v) in &c.fields {
        s.push_str(&format!("{k}: {v}\n"));
    }
    s.push_str(&format!("Description: {}\n", c.summary));
    for line in c.long.trim().lines() {
        if line.trim().is_empty() {
            s.push_str(" .\n");
        } else {
            s.push_str(&format!(" {}\n", line.trim_end()));
        }
    }
    s
}

/// The copyright file lintian wants, in the machine-readable format, with the commit's year.
fn copyright(c: &Control, mtime: i64) -> Vec<u8> {
    let holder = c.vendor.clone().unwrap_or_else(|| c.maintainer.clone());
    let license = c.license.clone().unwrap_or_else(|| "unknown".into());
    let year = jiff::Timestamp::from_second(mtime)
        .map(|t| t.strftime("%Y").to_string())
        .unwrap_or_default();
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: {}\n\nFiles: *\nCopyright: {year} {holder}\nLicense: {license}\n",
        c.package
    )
    .into_bytes()
}

/// `changelog.Debian.gz` for a version with a Debian revision, else `changelog.gz` (a native
/// package, as policy names it).
fn changelog_name(version: &str) -> &'static str {
    if version.contains('-') {
        "changelog.Debian.gz"
    } else {
        "changelog.gz"
    }
}

/// A one-entry Debian changelog, gzipped, dated at the commit.
fn changelog(c: &Control, mtime: i64) -> Result<Vec<u8>> {
    let date = jiff::Timestamp::from_second(mtime)
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string())
        .unwrap_or_default();
    let text = format!(
        "{} ({}) unstable; urgency=medium\n\n  * Release {}.\n\n -- {}  {date}\n",
        c.package, c.version, c.version, c.maintainer
    );
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), Compression::new(9));
    gz.write_all(text.as_bytes()).map_err(tar_err)?;
    gz.finish().map_err(tar_err)
}

/// Write the package for `control` with `entries` and `scripts` (`preinst`, … → text) to
/// `out`, through a temporary file, signed when `sign` is given.
pub fn write(
    control: &Control,
    entries: &[Entry],
    scripts: &BTreeMap<&'static str, Vec<u8>>,
    mtime: i64,
    sign: Option<&Signing>,
    out: &Path,
) -> Result<()> {
    let mt = mtime.max(0) as u64;
    let doc = format!("/usr/share/doc/{}", control.package);
    let mut all: BTreeMap<String, (TarItem, bool, Attrs)> = BTreeMap::new();
    let mut dirs: BTreeMap<String, (u32, Attrs)> = BTreeMap::new();
    let add_parents = |path: &str, dirs: &mut BTreeMap<String, (u32, Attrs)>| {
        let mut p = String::new();
        let comps: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        for comp in &comps[..comps.len().saturating_sub(1)] {
            p.push('/');
            p.push_str(comp);
            dirs.entry(p.clone()).or_insert((0o755, Attrs::default()));
        }
    };
    let mut with_docs: Vec<Entry> = entries.to_vec();
    if !entries.iter().any(|e| e.path == format!("{doc}/copyright")) {
        with_docs.push(Entry::new(
            format!("{doc}/copyright"),
            Kind::Generated(copyright(control, mtime)),
        ));
    }
    let log = format!("{doc}/{}", changelog_name(&control.version));
    if !entries.iter().any(|e| e.path == log) {
        with_docs.push(Entry::new(log, Kind::Generated(changelog(control, mtime)?)));
    }
    for e in &with_docs {
        add_parents(&e.path, &mut dirs);
        let item = match &e.kind {
            Kind::File { source, mode } => {
                let len = std::fs::metadata(source).ctx("cannot read", source)?.len();
                TarItem::Disk(*mode, source.clone(), len)
            }
            Kind::Generated(b) => TarItem::File(0o644, b.clone()),
            Kind::Dir { mode } => {
                dirs.insert(
                    e.path.trim_end_matches('/').to_string(),
                    (*mode, e.attrs.clone()),
                );
                continue;
            }
            Kind::Symlink { target } => TarItem::Link(target.clone()),
            Kind::Ghost => continue,
        };
        if all
            .insert(e.path.clone(), (item, e.config, e.attrs.clone()))
            .is_some()
        {
            return Err(Error::Config(format!(
                "two package entries would be installed at {}",
                e.path
            )));
        }
    }
    // Installed-Size as dpkg counts it: each file's size rounded up to KiB, one per other entry.
    let mut installed = 0u64;
    let mut md5sums = String::new();
    let mut conffiles = String::new();
    for (path, (item, config, _)) in &all {
        match item {
            TarItem::File(_, bytes) => {
                installed += (bytes.len() as u64).div_ceil(1024);
                md5sums.push_str(&format!(
                    "{}  {}\n",
                    crate::dist::hex(&Md5::digest(bytes)),
                    path.trim_start_matches('/')
                ));
            }
            TarItem::Disk(_, source, _) => {
                let (md5, size) = md5_file(source)?;
                installed += size.div_ceil(1024);
                md5sums.push_str(&format!("{md5}  {}\n", path.trim_start_matches('/')));
            }
            _ => installed += 1,
        }
        if *config {
            conffiles.push_str(&format!("{path}\n"));
        }
    }
    installed += dirs.len() as u64;
    // data.tar: "./", the folders, then the files, by path.
    let mut data: Vec<(String, TarItem, Attrs)> =
        vec![("./".into(), TarItem::Dir(0o755), Attrs::default())];
    let mut names: BTreeMap<String, (TarItem, Attrs)> = BTreeMap::new();
    for (d, (mode, attrs)) in &dirs {
        names.insert(format!(".{d}/"), (TarItem::Dir(*mode), attrs.clone()));
    }
    for (p, (item, _, attrs)) in all {
        names.insert(format!(".{p}"), (item, attrs));
    }
    data.extend(names.into_iter().map(|(n, (i, a))| (n, i, a)));
    let name_of = |suffix: &str| crate::dist::temp_beside(out, suffix);
    // data.tar goes through a temporary file: memory stays flat whatever the binaries weigh.
    let data_tmp = name_of("data.tmp");
    let data_file = std::fs::File::create(&data_tmp).ctx("cannot create", &data_tmp)?;
    let result = tar_with(
        &data,
        mt,
        &control.compression,
        std::io::BufWriter::new(data_file),
    )
    .and_then(|w| w.into_inner().map_err(|e| tar_err(e.into_error())))
    .and_then(|_| {
        let control_gz = ctl_gz_of(control, installed, &md5sums, &conffiles, scripts, mt)?;
        let signature = match sign {
            Some(s) => {
                let data = std::fs::File::open(&data_tmp).ctx("cannot read", &data_tmp)?;
                let signed = std::io::Read::chain(
                    std::io::Read::chain(&b"2.0\n"[..], control_gz.as_slice()),
                    std::io::BufReader::new(data),
                );
                Some((format!("_gpg{}", s.role), s.key.detached(signed, mtime)?))
            }
            None => None,
        };
        write_ar(
            &name_of("tmp"),
            out,
            &control_gz,
            (data_member(&control.compression), &data_tmp),
            signature.as_ref().map(|(n, b)| (n.as_str(), b.as_slice())),
            mt,
        )
    });
    let _ = std::fs::remove_file(&data_tmp);
    result
}

/// The control entries, packed.
fn ctl_gz_of(
    control: &Control,
    installed: u64,
    md5sums: &str,
    conffiles: &str,
    scripts: &BTreeMap<&'static str, Vec<u8>>,
    mt: u64,
) -> Result<Vec<u8>> {
    let mut ctl: Vec<(String, TarItem)> = vec![("./".into(), TarItem::Dir(0o755))];
    if let Some(t) = &control.triggers {
        ctl.push((
            "./triggers".into(),
            TarItem::File(0o644, t.clone().into_bytes()),
        ));
    }
    let mut ctl_files: BTreeMap<String, TarItem> = BTreeMap::new();
    ctl_files.insert(
        "./control".into(),
        TarItem::File(0o644, control_text(control, installed).into_bytes()),
    );
    ctl_files.insert(
        "./md5sums".into(),
        TarItem::File(0o644, md5sums.as_bytes().to_vec()),
    );
    if !conffiles.is_empty() {
        ctl_files.insert(
            "./conffiles".into(),
            TarItem::File(0o644, conffiles.as_bytes().to_vec()),
        );
    }
    for (name, text) in scripts {
        ctl_files.insert(format!("./{name}"), TarItem::File(0o755, text.clone()));
    }
    ctl.extend(ctl_files);
    ctl.sort_by(|a, b| a.0.cmp(&b.0));
    let ctl: Vec<(String, TarItem, Attrs)> = ctl
        .into_iter()
        .map(|(n, i)| (n, i, Attrs::default()))
        .collect();
    tar_gz(&ctl, mt, Vec::new())
}

/// The `ar` archive of a package, streamed from `data` (member name, file) into `tmp`,
/// with the debsigs signature member last when given, then renamed to `out`.
fn write_ar(
    tmp: &Path,
    out: &Path,
    control_gz: &[u8],
    data: (&str, &Path),
    signature: Option<(&str, &[u8])>,
    mt: u64,
) -> Result<()> {
    let (data_name, data) = data;
    let file = std::fs::File::create(tmp).ctx("cannot create", tmp)?;
    let mut ar = ar::Builder::new(std::io::BufWriter::new(file));
    let header = |name: &str, size: u64| {
        let mut h = ar::Header::new(name.as_bytes().to_vec(), size);
        h.set_mtime(mt);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mode(0o100644);
        h
    };
    let written = (|| -> std::io::Result<()> {
        ar.append(&header("debian-binary", 4), &b"2.0\n"[..])?;
        ar.append(
            &header("control.tar.gz", control_gz.len() as u64),
            control_gz,
        )?;
        let len = std::fs::metadata(data)?.len();
        ar.append(&header(data_name, len), std::fs::File::open(data)?)?;
        if let Some((name, bytes)) = signature {
            ar.append(&header(name, bytes.len() as u64), bytes)?;
        }
        let mut w = ar.into_inner()?;
        w.flush()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(tmp);
        return Err(Error::io("cannot write", tmp, e));
    }
    std::fs::rename(tmp, out).ctx("cannot write", out)
}
