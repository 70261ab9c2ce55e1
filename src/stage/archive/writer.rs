//! Writers for each archive format, all reproducible and streaming.
//!
//! Every writer takes the same sorted [`Entry`] list and one timestamp. File contents are
//! copied through fixed-size buffers, never read whole. Compressor settings that could vary
//! between machines are pinned: the gzip header carries no name and no time (OS byte
//! "unknown"), and xz and zstd always run their multi-threaded encoders, whose output depends
//! on the block/job size only and not on how many threads a machine happens to give them.

use crate::config::Format;
use crate::fileset::entry::{Entry, EntryKind};
use crate::hash::Sha256Writer;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::Path;

/// gzip level, the same as `gzip -6` (and GoReleaser).
pub const GZIP_LEVEL: u32 = 6;
/// xz preset, the same as `xz -6`.
pub const XZ_PRESET: u32 = 6;
/// zstd level, the same as `zstd` without a level.
pub const ZSTD_LEVEL: i32 = 3;
/// xz block size; fixed so the output does not depend on the thread count.
const XZ_BLOCK: u64 = 24 << 20;
/// Buffer between the tar stream and the compressor, and the copy buffer for file contents.
const BUF: usize = 256 * 1024;

/// Settings shared by every archive of a run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Modification time of every entry (unix seconds; clamped at 0).
    pub mtime: i64,
    /// Threads an xz or zstd encoder may use (output does not depend on it).
    pub threads: u32,
}

/// The SHA-256 (hex) and size of a written archive.
pub type Written = (String, u64);

/// Write `entries` as `format` to `out`. Returns its SHA-256 and size, taken while writing
/// (tar formats) or read back once (zip, whose writer seeks back to patch headers).
pub fn write(format: Format, entries: &[Entry], out: &Path, s: Settings) -> io::Result<Written> {
    let file = Sha256Writer::new(File::create(out)?);
    match format {
        Format::TarGz => {
            let gz = flate2::GzBuilder::new().write(
                BufWriter::with_capacity(BUF, file),
                flate2::Compression::new(GZIP_LEVEL),
            );
            let gz = tar(BufWriter::with_capacity(BUF, gz), entries, s.mtime)?;
            finish_file(gz.into_inner().map_err(|e| e.into_error())?.finish()?)
        }
        Format::TarXz => {
            let stream = liblzma::stream::MtStreamBuilder::new()
                .preset(XZ_PRESET)
                .threads(s.threads.max(1))
                .block_size(XZ_BLOCK)
                .check(liblzma::stream::Check::Crc64)
                .encoder()
                .map_err(io::Error::other)?;
            let xz =
                liblzma::write::XzEncoder::new_stream(BufWriter::with_capacity(BUF, file), stream);
            let xz = tar(BufWriter::with_capacity(BUF, xz), entries, s.mtime)?;
            finish_file(xz.into_inner().map_err(|e| e.into_error())?.finish()?)
        }
        Format::TarZst => {
            let mut z =
                zstd::stream::write::Encoder::new(BufWriter::with_capacity(BUF, file), ZSTD_LEVEL)?;
            z.include_checksum(true)?;
            z.multithread(s.threads.max(1))?;
            let z = tar(BufWriter::with_capacity(BUF, z), entries, s.mtime)?;
            finish_file(z.into_inner().map_err(|e| e.into_error())?.finish()?)
        }
        Format::Zip => {
            let (file, _, _) = file.finish();
            let mut w = zip(BufWriter::with_capacity(BUF, file), entries, s.mtime)?;
            w.flush()?;
            let f = w.into_inner().map_err(|e| e.into_error())?;
            f.sync_all()?;
            crate::hash::sha256_file(out).map_err(io::Error::other)
        }
        Format::Tar => {
            let t = tar(BufWriter::with_capacity(BUF, file), entries, s.mtime)?;
            finish_file(t)
        }
        Format::Gz => {
            // One file, compressed alone: no name and no time in the gzip header.
            let [entry] = entries else {
                return Err(io::Error::other(format!(
                    "the gz format holds one file, not {}",
                    entries.len()
                )));
            };
            let EntryKind::File { source, .. } = &entry.kind else {
                return Err(io::Error::other("the gz format holds a file"));
            };
            let mut gz = flate2::GzBuilder::new().write(
                BufWriter::with_capacity(BUF, file),
                flate2::Compression::new(GZIP_LEVEL),
            );
            let (mut input, _) = open(source)?;
            io::copy(&mut input, &mut gz)?;
            finish_file(gz.finish()?)
        }
        Format::Binary | Format::None => Err(io::Error::other(
            "the binary and none formats are not archives",
        )),
    }
}

fn finish_file(mut w: BufWriter<Sha256Writer<File>>) -> io::Result<Written> {
    w.flush()?;
    let (f, sha, size) = w.into_inner().map_err(|e| e.into_error())?.finish();
    f.sync_all()?;
    Ok((sha, size))
}

/// A reader that yields exactly `len` bytes and fails if the file is shorter or longer, so a
/// file changing while it is archived is an error rather than a corrupt archive.
struct Exact<R> {
    inner: R,
    left: u64,
    path: String,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? != 0 {
                return Err(io::Error::other(format!(
                    "{} grew while it was being archived",
                    self.path
                )));
            }
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shrank while it was being archived", self.path),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn open(source: &Path) -> io::Result<(Exact<File>, u64)> {
    let f = File::open(source)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", source.display())))?;
    let len = f.metadata()?.len();
    Ok((
        Exact {
            inner: f,
            left: len,
            path: source.display().to_string(),
        },
        len,
    ))
}

/// The tar stream: GNU headers (long names supported), owner 0:0 without names, fixed mtime.
fn tar<W: Write>(w: W, entries: &[Entry], mtime: i64) -> io::Result<W> {
    let mut b = tar::Builder::new(w);
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(e.info.mtime.unwrap_or(mtime).max(0) as u64);
        h.set_uid(0);
        h.set_gid(0);
        h.set_username(e.info.owner.as_deref().unwrap_or(""))?;
        h.set_groupname(e.info.group.as_deref().unwrap_or(""))?;
        h.set_mode(e.mode());
        match &e.kind {
            EntryKind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                b.append_data(&mut h, format!("{}/", e.path), io::empty())?;
            }
            EntryKind::File { source, .. } => {
                let (reader, len) = open(source)?;
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(len);
                b.append_data(&mut h, &e.path, reader)?;
            }
            EntryKind::Symlink { target } => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                b.append_link(&mut h, &e.path, target)?;
            }
        }
    }
    b.into_inner()
}

/// A zip `DateTime` (two-second resolution, years 1980–2107) from unix seconds, in UTC.
pub fn zip_time(ts: i64) -> zip::DateTime {
    let Ok(t) = jiff::Timestamp::from_second(ts) else {
        return zip::DateTime::default();
    };
    let d = t.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    let year = d.year();
    if year < 1980 {
        return zip::DateTime::default();
    }
    if year > 2107 {
        return zip::DateTime::from_date_and_time(2107, 12, 31, 23, 59, 58).unwrap_or_default();
    }
    zip::DateTime::from_date_and_time(
        year as u16,
        d.month() as u8,
        d.day() as u8,
        d.hour() as u8,
        d.minute() as u8,
        d.second() as u8,
    )
    .unwrap_or_default()
}

/// The zip file: deflate level 6, fixed DOS time, Unix permissions, no extra time fields.
fn zip<W: Write + Seek>(w: W, entries: &[Entry], mtime: i64) -> io::Result<W> {
    let mut z = zip::ZipWriter::new(w);
    let base = zip::write::SimpleFileOptions::default().last_modified_time(zip_time(mtime));
    let err = |e: zip::result::ZipError| io::Error::other(e.to_string());
    for e in entries {
        let mut opts = base.unix_permissions(e.mode());
        if let Some(t) = e.info.mtime {
            opts = opts.last_modified_time(zip_time(t));
        }
        match &e.kind {
            EntryKind::Dir => z
                .add_directory(
                    format!("{}/", e.path),
                    opts.compression_method(zip::CompressionMethod::Stored),
                )
                .map_err(err)?,
            EntryKind::File { source, .. } => {
                let (mut reader, len) = open(source)?;
                let opts = opts
                    .compression_method(zip::CompressionMethod::Deflated)
                    .compression_level(Some(i64::from(GZIP_LEVEL)))
                    .large_file(len >= u64::from(u32::MAX) - (1 << 20));
                z.start_file(e.path.as_str(), opts).map_err(err)?;
                io::copy(&mut reader, &mut z)?;
            }
            EntryKind::Symlink { target } => {
                z.add_symlink(e.path.as_str(), target, opts).map_err(err)?
            }
        }
    }
    z.finish().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample(dir: &Path) -> Vec<Entry> {
        let big = dir.join("big");
        // Compressible but not trivial: a repeating ramp with a counter.
        let mut data = Vec::with_capacity(3 << 20);
        for i in 0u32..(3 << 18) {
            data.extend_from_slice(&(i / 7).to_le_bytes());
        }
        std::fs::write(&big, &data).unwrap();
        std::fs::write(dir.join("readme"), "hi\n").unwrap();
        vec![
            Entry {
                info: Default::default(),
                path: "w".into(),
                kind: EntryKind::Dir,
            },
            Entry {
                info: Default::default(),
                path: "w/big".into(),
                kind: EntryKind::File {
                    source: big,
                    executable: true,
                },
            },
            Entry {
                info: Default::default(),
                path: "w/link".into(),
                kind: EntryKind::Symlink {
                    target: "readme".into(),
                },
            },
            Entry {
                info: Default::default(),
                path: "w/readme".into(),
                kind: EntryKind::File {
                    source: dir.join("readme"),
                    executable: false,
                },
            },
        ]
    }

    #[test]
    fn the_hash_taken_while_writing_is_the_written_files() {
        let d = tempfile::tempdir().unwrap();
        let entries = sample(d.path());
        for f in [
            Format::TarGz,
            Format::TarXz,
            Format::TarZst,
            Format::Zip,
            Format::Tar,
        ] {
            let out = d.path().join("out");
            let (sha, size) = write(
                f,
                &entries,
                &out,
                Settings {
                    mtime: 1_700_000_000,
                    threads: 2,
                },
            )
            .unwrap();
            assert_eq!(
                (sha, size),
                crate::hash::sha256_file(&out).unwrap(),
                "{f:?}"
            );
        }
    }

    #[test]
    fn output_does_not_depend_on_thread_count() {
        let d = tempfile::tempdir().unwrap();
        let entries = sample(d.path());
        for f in [
            Format::TarGz,
            Format::TarXz,
            Format::TarZst,
            Format::Zip,
            Format::Tar,
        ] {
            let a = d.path().join("a");
            let b = d.path().join("b");
            write(
                f,
                &entries,
                &a,
                Settings {
                    mtime: 1_700_000_000,
                    threads: 1,
                },
            )
            .unwrap();
            write(
                f,
                &entries,
                &b,
                Settings {
                    mtime: 1_700_000_000,
                    threads: 3,
                },
            )
            .unwrap();
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "{f:?}"
            );
            write(
                f,
                &entries,
                &b,
                Settings {
                    mtime: 1_700_000_002,
                    threads: 1,
                },
            )
            .unwrap();
            assert_ne!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "{f:?}: the time is recorded"
            );
        }
    }

    #[test]
    fn gzip_header_has_no_name_and_no_time() {
        let d = tempfile::tempdir().unwrap();
        let entries = sample(d.path());
        let a = d.path().join("a.tar.gz");
        write(
            Format::TarGz,
            &entries,
            &a,
            Settings {
                mtime: 1_700_000_000,
                threads: 1,
            },
        )
        .unwrap();
        let bytes = std::fs::read(&a).unwrap();
        assert_eq!(&bytes[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(bytes[3], 0, "no FNAME/FCOMMENT/FEXTRA flags");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "MTIME is zero");
        assert_eq!(bytes[9], 255, "OS is 'unknown' on every host");
    }

    #[test]
    fn gz_is_the_one_file_with_a_bare_header() {
        let d = tempfile::tempdir().unwrap();
        let entries = sample(d.path());
        let one = &entries[1..2];
        let s = Settings {
            mtime: 1_700_000_000,
            threads: 1,
        };
        let (a, b) = (d.path().join("a.gz"), d.path().join("b.gz"));
        write(Format::Gz, one, &a, s).unwrap();
        write(Format::Gz, one, &b, Settings { mtime: 1, ..s }).unwrap();
        let bytes = std::fs::read(&a).unwrap();
        assert_eq!(
            bytes,
            std::fs::read(&b).unwrap(),
            "the time is not recorded"
        );
        assert_eq!(bytes[3], 0, "no FNAME/FCOMMENT/FEXTRA flags");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0], "MTIME is zero");
        let mut out = vec![];
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        let EntryKind::File { source, .. } = &one[0].kind else {
            unreachable!()
        };
        assert_eq!(out, std::fs::read(source).unwrap());
        assert!(write(Format::Gz, &entries, &a, s).is_err(), "one file only");
    }

    #[test]
    fn tar_headers_are_normalised() {
        let d = tempfile::tempdir().unwrap();
        let entries = sample(d.path());
        let a = d.path().join("a.tar.gz");
        write(
            Format::TarGz,
            &entries,
            &a,
            Settings {
                mtime: 1_700_000_000,
                threads: 1,
            },
        )
        .unwrap();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(File::open(&a).unwrap()));
        let mut seen = vec![];
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let h = e.header().clone();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.username().unwrap(), Some(""));
            assert_eq!(h.groupname().unwrap(), Some(""));
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            let p = e.path().unwrap().to_string_lossy().into_owned();
            if p == "w/big" {
                let mut n = 0u64;
                let mut buf = vec![0u8; 65536];
                loop {
                    let k = e.read(&mut buf).unwrap();
                    if k == 0 {
                        break;
                    }
                    n += k as u64;
                }
                assert_eq!(n, 3 << 20);
            }
            seen.push((p, h.mode().unwrap()));
        }
        assert_eq!(
            seen,
            [
                ("w/".to_string(), 0o755),
                ("w/big".into(), 0o755),
                ("w/link".into(), 0o777),
                ("w/readme".into(), 0o644)
            ]
        );
    }

    #[test]
    fn long_names_survive() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("f"), "x").unwrap();
        let long = format!("{}/{}", "d".repeat(120), "n".repeat(150));
        let entries = vec![Entry {
            info: Default::default(),
            path: long.clone(),
            kind: EntryKind::File {
                source: d.path().join("f"),
                executable: false,
            },
        }];
        let a = d.path().join("a.tar.zst");
        write(
            Format::TarZst,
            &entries,
            &a,
            Settings {
                mtime: 0,
                threads: 1,
            },
        )
        .unwrap();
        let mut ar =
            tar::Archive::new(zstd::stream::read::Decoder::new(File::open(&a).unwrap()).unwrap());
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [long]);
    }

    #[test]
    fn zip_times_are_utc_and_clamped() {
        let t = zip_time(1_704_164_645); // 2024-01-02T03:04:05Z
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2024, 1, 2, 3, 4, 4)
        );
        let t = zip_time(0);
        assert_eq!((t.year(), t.month(), t.day()), (1980, 1, 1));
    }

    #[test]
    fn a_file_that_changes_size_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, "abc").unwrap();
        let f = File::open(&p).unwrap();
        let mut r = Exact {
            inner: f,
            left: 5,
            path: "f".into(),
        };
        let mut out = vec![];
        assert!(r.read_to_end(&mut out).is_err());
    }
}
