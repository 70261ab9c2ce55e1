//! The one layer rel adds to an image: the binaries and `files`, as a reproducible tar.gz.
//!
//! Entries are sorted, owned by 0:0 with empty names, have fixed modes (0755 binaries and
//! executables, 0644 other files) and one fixed time, and the gzip header carries no name or
//! time, so the same commit always gives the same layer digest. The tar is streamed through
//! two hashers (the uncompressed `diff_id` the config needs and the compressed blob digest)
//! straight into the layout, so a large binary is never held in memory.

use super::layout::{Descriptor, Layout, media};
use crate::error::{Error, IoContext, Result};
use crate::hash::Sha256Writer;
use flate2::{Compression, GzBuilder};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// A file (or folder) to put in the layer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The file on disk; `None` for a folder.
    pub src: Option<PathBuf>,
    /// Its mode in the image.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
}

impl Entry {
    /// A root-owned file.
    pub fn file(src: PathBuf, mode: u32) -> Entry {
        Entry {
            src: Some(src),
            mode,
            uid: 0,
            gid: 0,
        }
    }
}

/// A written layer.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The compressed blob.
    pub blob: Descriptor,
    /// `sha256:` of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: String,
}

fn header(
    mode: u32,
    size: u64,
    mtime: u64,
    kind: tar::EntryType,
    owner: (u64, u64),
) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(owner.0);
    h.set_gid(owner.1);
    h.set_mtime(mtime);
    h.set_size(size);
    h.set_username("")
        .and_then(|_| h.set_groupname(""))
        .map_err(|e| Error::Failed(format!("tar header: {e}")))?;
    Ok(h)
}

/// Write a layer holding `entries` (image path without leading `/` → file) into `layout`.
pub fn write(layout: &Layout, entries: &BTreeMap<String, Entry>, mtime: i64) -> Result<Layer> {
    let mtime = mtime.max(0) as u64;
    let tmp = layout.temp()?;
    let file =
        std::io::BufWriter::with_capacity(1 << 20, tmp.reopen().ctx("cannot open", tmp.path())?);
    let compressed = Sha256Writer::new(file);
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(compressed, Compression::default());
    let mut tar = tar::Builder::new(Sha256Writer::new(gz));
    tar.mode(tar::HeaderMode::Deterministic);
    // Parent folders first (sorted with the files, as a BTreeMap of paths sorts them).
    let mut dirs = std::collections::BTreeSet::new();
    for path in entries.keys() {
        let mut p = path.as_str();
        while let Some((parent, _)) = p.rsplit_once('/') {
            if !entries.contains_key(parent) {
                dirs.insert(format!("{parent}/"));
            }
            p = parent;
        }
    }
    let mut all: Vec<(String, Option<&Entry>)> = dirs.into_iter().map(|d| (d, None)).collect();
    all.extend(entries.iter().map(|(p, e)| match e.src {
        Some(_) => (p.clone(), Some(e)),
        None => (format!("{p}/"), Some(e)),
    }));
    all.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, entry) in all {
        match entry.map(|e| (e, e.src.as_ref())) {
            None => {
                let mut h = header(0o755, 0, mtime, tar::EntryType::Directory, (0, 0))?;
                tar.append_data(&mut h, &path, std::io::empty())
                    .ctx("cannot write layer entry", &path)?;
            }
            Some((e, None)) => {
                let mut h = header(e.mode, 0, mtime, tar::EntryType::Directory, (e.uid, e.gid))?;
                tar.append_data(&mut h, &path, std::io::empty())
                    .ctx("cannot write layer entry", &path)?;
            }
            Some((e, Some(src))) => {
                let f = std::fs::File::open(src).ctx("cannot read", src)?;
                let size = f.metadata().ctx("cannot read", src)?.len();
                let mut h = header(e.mode, size, mtime, tar::EntryType::Regular, (e.uid, e.gid))?;
                tar.append_data(&mut h, &path, f)
                    .ctx("cannot write layer entry for", src)?;
            }
        }
    }
    let (gz, diff_id, _) = tar
        .into_inner()
        .ctx("cannot finish layer in", &layout.root)?
        .finish();
    let compressed = gz.finish().ctx("cannot compress layer in", &layout.root)?;
    let (mut file, digest, size) = compressed.finish();
    let (digest, diff_id) = (format!("sha256:{digest}"), format!("sha256:{diff_id}"));
    file.flush().ctx("cannot write", tmp.path())?;
    drop(file);
    layout.commit(tmp, &digest)?;
    Ok(Layer {
        blob: Descriptor {
            media_type: media::LAYER_GZIP.into(),
            digest,
            size,
        },
        diff_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer_in(dir: &std::path::Path, src: &std::path::Path) -> Layer {
        let layout = Layout::create(dir).unwrap();
        let mut e = BTreeMap::new();
        e.insert("hello".to_string(), Entry::file(src.join("hello"), 0o755));
        e.insert(
            "etc/hello/conf.txt".to_string(),
            Entry::file(src.join("conf.txt"), 0o644),
        );
        write(&layout, &e, 1_700_000_000).unwrap()
    }

    #[test]
    fn same_input_same_digest_and_readable_tar() {
        let src = tempfile::tempdir().unwrap();
        std::fs::write(src.path().join("hello"), b"#!/bin/sh\necho hi\n").unwrap();
        std::fs::write(src.path().join("conf.txt"), b"x=1\n").unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let la = layer_in(a.path(), src.path());
        let lb = layer_in(b.path(), src.path());
        assert_eq!(la.blob, lb.blob);
        assert_eq!(la.diff_id, lb.diff_id);
        // Read it back with the tar crate: sorted entries, modes, owners and times.
        let f = std::fs::File::open(
            Layout {
                root: a.path().into(),
            }
            .blob_path(&la.blob.digest),
        )
        .unwrap();
        let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
        let got: Vec<(String, u32, u64, u64)> = ar
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                    h.mtime().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("etc/".into(), 0o755, 0, 1_700_000_000),
                ("etc/hello/".into(), 0o755, 0, 1_700_000_000),
                ("etc/hello/conf.txt".into(), 0o644, 0, 1_700_000_000),
                ("hello".into(), 0o755, 0, 1_700_000_000),
            ]
        );
    }
}
