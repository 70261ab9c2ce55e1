//! The source archive's writer: one sorted list of items, each with its own stored metadata,
//! written as tar, tar.gz, tar.zst or zip.
//!
//! Unlike the binary archives, a source archive's files come from two places (blobs streamed
//! from `git cat-file --batch`, and files of the working tree), and `files[].info` may give an
//! entry its own owner, mode and time; so every item carries what is stored for it, and the
//! bytes come through [`Contents`]. Compressor settings are those of the binary archives,
//! pinned so the output does not depend on the machine: gzip level 6 without name or time
//! (OS byte "unknown"), zstd level 3 through its multi-threaded encoder, zip deflate level 6
//! with DOS times in UTC and no extra time fields.

use crate::config::SourceFormat;
use crate::hash::Sha256Writer;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// gzip and zip deflate level (as `gzip -6`, the binary archives and GoReleaser).
const GZIP_LEVEL: u32 = 6;
/// zstd level (as `zstd` without a level).
const ZSTD_LEVEL: i32 = 3;
/// Buffer between the tar stream and the compressor.
const BUF: usize = 256 * 1024;

/// Where a file's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A blob of the commit: its object id and size.
    Blob { oid: String, size: u64 },
    /// A file on disk.
    Disk(PathBuf),
}

/// What an item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A folder.
    Dir,
    /// A regular file.
    File(Source),
    /// A symbolic link and its target.
    Symlink(String),
}

/// One entry of an archive, with everything that is stored for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `/`-separated path inside the archive, without leading or trailing `/`.
    pub path: String,
    /// What it is.
    pub kind: Kind,
    /// Unix permission bits.
    pub mode: u32,
    /// Modification time, unix seconds.
    pub mtime: i64,
    /// Owner name in tar headers (uid is always 0).
    pub owner: String,
    /// Group name in tar headers (gid is always 0).
    pub group: String,
}

impl Item {
    /// An item with rel's normalised metadata: 0755 folders, 0755/0644 files, 0777 links,
    /// owner and group 0 without names.
    pub fn new(path: String, kind: Kind, executable: bool, mtime: i64) -> Item {
        let mode = match &kind {
            Kind::Dir => 0o755,
            Kind::File(_) if executable => 0o755,
            Kind::File(_) => 0o644,
            Kind::Symlink(_) => 0o777,
        };
        Item {
            path,
            kind,
            mode,
            mtime,
            owner: String::new(),
            group: String::new(),
        }
    }
}

/// Gives the bytes of each file item, in the order the writer asks for them (the items'
/// order).
pub trait Contents {
    /// Call `f` with a reader of exactly the bytes of `source` and their length.
    fn with(
        &mut self,
        source: &Source,
        f: &mut dyn FnMut(&mut dyn Read, u64) -> io::Result<()>,
    ) -> io::Result<()>;
}

/// Files on disk only (the vendored dependencies): each file read as it is written, and an
/// error if it changes size meanwhile.
pub struct DiskOnly;

impl Contents for DiskOnly {
    fn with(
        &mut self,
        source: &Source,
        f: &mut dyn FnMut(&mut dyn Read, u64) -> io::Result<()>,
    ) -> io::Result<()> {
        match source {
            Source::Disk(p) => read_disk(p, f),
            Source::Blob { oid, .. } => Err(io::Error::other(format!(
                "blob {oid} asked of the files on disk"
            ))),
        }
    }
}

/// Call `f` with a reader of the file at `p`, checking it keeps its length.
pub fn read_disk(
    p: &Path,
    f: &mut dyn FnMut(&mut dyn Read, u64) -> io::Result<()>,
) -> io::Result<()> {
    let file = File::open(p)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", p.display())))?;
    let len = file.metadata()?.len();
    let mut r = file.take(len);
    f(&mut r, len)?;
    if r.limit() != 0 || r.into_inner().read(&mut [0u8; 1])? != 0 {
        return Err(io::Error::other(format!(
            "{} changed size while it was being archived",
            p.display()
        )));
    }
    Ok(())
}

/// Write `items` (sorted) as `format` to `out`; the SHA-256 (hex) and size of the file.
pub fn write(
    format: SourceFormat,
    items: &[Item],
    contents: &mut dyn Contents,
    out: &Path,
    threads: u32,
) -> io::Result<(String, u64)> {
    let file = Sha256Writer::new(File::create(out)?);
    let buffered = BufWriter::with_capacity(BUF, file);
    let done = match format {
        SourceFormat::Tar => tar(buffered, items, contents)?,
        SourceFormat::TarGz | SourceFormat::Tgz => {
            let gz = flate2::GzBuilder::new().write(buffered, flate2::Compression::new(GZIP_LEVEL));
            let gz = tar(BufWriter::with_capacity(BUF, gz), items, contents)?;
            gz.into_inner().map_err(|e| e.into_error())?.finish()?
        }
        SourceFormat::TarZst => {
            let mut z = zstd::stream::write::Encoder::new(buffered, ZSTD_LEVEL)?;
            z.include_checksum(true)?;
            // Always the multi-threaded encoder: its output depends on the job size, not on
            // the thread count.
            z.multithread(threads.max(1))?;
            let z = tar(BufWriter::with_capacity(BUF, z), items, contents)?;
            z.into_inner().map_err(|e| e.into_error())?.finish()?
        }
        SourceFormat::Zip => {
            let (f, _, _) = buffered.into_inner().map_err(|e| e.into_error())?.finish();
            let mut w = zip(BufWriter::with_capacity(BUF, f), items, contents)?;
            w.flush()?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            // The zip writer seeks back to patch headers: hash the finished file once.
            return crate::hash::sha256_file(out).map_err(io::Error::other);
        }
    };
    let mut done = done;
    done.flush()?;
    let (f, sha, size) = done.into_inner().map_err(|e| e.into_error())?.finish();
    f.sync_all()?;
    Ok((sha, size))
}

/// The tar stream: GNU headers (long names), uid and gid 0, each item's names, mode and time.
fn tar<W: Write>(w: W, items: &[Item], contents: &mut dyn Contents) -> io::Result<W> {
    let mut b = tar::Builder::new(w);
    for it in items {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(it.mtime.max(0) as u64);
        h.set_uid(0);
        h.set_gid(0);
        h.set_username(&it.owner)?;
        h.set_groupname(&it.group)?;
        h.set_mode(it.mode);
        match &it.kind {
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, format!("{}/", it.path), io::empty())?;
            }
            Kind::File(source) => {
                h.set_entry_type(tar::EntryType::Regular);
                contents.with(source, &mut |r, len| {
                    h.set_size(len);
                    b.append_data(&mut h, &it.path, r)
                })?;
            }
            Kind::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, &it.path, target)?;
            }
        }
    }
    b.into_inner()
}

/// A zip `DateTime` (two-second resolution, years 1980–2107) of unix seconds, in UTC.
pub fn zip_time(ts: i64) -> zip::DateTime {
    let Ok(t) = jiff::Timestamp::from_second(ts) else {
        return zip::DateTime::default();
    };
    let d = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    match d.year() {
        y if y < 1980 => zip::DateTime::default(),
        y if y > 2107 => {
            zip::DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or_default()
        }
        y => zip::DateTime::from_date_and_time(
            y as u16,
            d.month() as u8,
            d.day() as u8,
            d.hour() as u8,
            d.minute() as u8,
            d.second() as u8,
        )
        .unwrap_or_default(),
    }
}

/// The zip file: deflate level 6, each item's DOS time and Unix mode, no extra time fields
/// (zip has no owner names: `info.owner` and `info.group` are tar-only).
fn zip<W: Write + Seek>(w: W, items: &[Item], contents: &mut dyn Contents) -> io::Result<W> {
    let mut z = zip::ZipWriter::new(w);
    let err = |e: zip::result::ZipError| io::Error::other(e.to_string());
    for it in items {
        let opts = zip::write::SimpleFileOptions::default()
            .last_modified_time(zip_time(it.mtime))
            .unix_permissions(it.mode);
        match &it.kind {
            Kind::Dir => z
                .add_directory(
                    format!("{}/", it.path),
                    opts.compression_method(zip::CompressionMethod::Stored),
                )
                .map_err(err)?,
            Kind::File(source) => {
                contents.with(source, &mut |r, len| {
                    let opts = opts
                        .compression_method(zip::CompressionMethod::Deflated)
                        .compression_level(Some(i64::from(GZIP_LEVEL)))
                        .large_file(len >= u64::from(u32::MAX) - (1 << 20));
                    z.start_file(it.path.as_str(), opts).map_err(err)?;
                    io::copy(r, &mut z).map(|_| ())
                })?;
            }
            Kind::Symlink(target) => z.add_symlink(it.path.as_str(), target, opts).map_err(err)?,
        }
    }
    z.finish().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(dir: &Path) -> Vec<Item> {
        std::fs::write(dir.join("a"), "alpha\n").unwrap();
        std::fs::write(dir.join("b"), vec![7u8; 300_000]).unwrap();
        let mut tool = Item::new(
            "p/bin/tool".into(),
            Kind::File(Source::Disk(dir.join("b"))),
            true,
            1_700_000_000,
        );
        tool.owner = "alice".into();
        tool.group = "staff".into();
        vec![
            Item::new("p".into(), Kind::Dir, false, 1_700_000_000),
            Item::new(
                "p/a".into(),
                Kind::File(Source::Disk(dir.join("a"))),
                false,
                1_700_000_000,
            ),
            Item::new("p/bin".into(), Kind::Dir, false, 1_700_000_000),
            tool,
            Item::new(
                "p/l".into(),
                Kind::Symlink("a".into()),
                false,
                1_700_000_000,
            ),
        ]
    }

    #[test]
    fn the_hash_is_the_files_and_the_output_does_not_depend_on_threads() {
        let d = tempfile::tempdir().unwrap();
        let list = items(d.path());
        for f in [
            SourceFormat::Tar,
            SourceFormat::TarGz,
            SourceFormat::TarZst,
            SourceFormat::Zip,
        ] {
            let (a, b) = (d.path().join("x"), d.path().join("y"));
            let wa = write(f, &list, &mut DiskOnly, &a, 1).unwrap();
            let wb = write(f, &list, &mut DiskOnly, &b, 3).unwrap();
            assert_eq!(wa, crate::hash::sha256_file(&a).unwrap(), "{f:?}");
            assert_eq!(wa, wb, "{f:?}");
        }
    }

    #[test]
    fn tar_headers_carry_each_items_metadata() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("x.tar");
        write(SourceFormat::Tar, &items(d.path()), &mut DiskOnly, &out, 1).unwrap();
        let mut ar = tar::Archive::new(File::open(&out).unwrap());
        let got: Vec<(String, u32, String, u64)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.username().unwrap().unwrap_or_default().to_string(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("p/".to_string(), 0o755, String::new(), 1_700_000_000),
                ("p/a".into(), 0o644, String::new(), 1_700_000_000),
                ("p/bin/".into(), 0o755, String::new(), 1_700_000_000),
                ("p/bin/tool".into(), 0o755, "alice".into(), 1_700_000_000),
                ("p/l".into(), 0o777, String::new(), 1_700_000_000),
            ]
        );
    }

    #[test]
    fn a_file_that_grows_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, "abc").unwrap();
        let r = read_disk(&p, &mut |r, _len| {
            io::copy(r, &mut io::sink())?;
            std::fs::write(&p, "abcdef").unwrap();
            Ok(())
        });
        assert!(r.is_err());
    }
}
