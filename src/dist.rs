//! The `dist/` folder: preparing it, and writing files into it safely.

use crate::error::{Error, IoContext, Result};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Make `dist` ready: removed first with `clean`, otherwise it must be absent or empty.
pub fn prepare(dist: &Path, clean: bool) -> Result<()> {
    if dist.exists() {
        // The run's lock file stays: it is what keeps a second run out.
        let others: Vec<std::path::PathBuf> = std::fs::read_dir(dist)
            .ctx("cannot read", dist)?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name() != LOCK)
            .map(|e| e.path())
            .collect();
        if clean {
            for p in others {
                let r = if p.is_dir() && !p.is_symlink() {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
                r.ctx("cannot remove", &p)?;
            }
        } else if !others.is_empty() {
            return Err(Error::State(format!(
                "{} is not empty; pass --clean to remove it first",
                dist.display()
            )));
        }
    }
    std::fs::create_dir_all(dist).ctx("cannot create", dist)
}

/// The lock file a run holds inside its `dist/` folder.
pub const LOCK: &str = ".rel.lock";

/// Lock files this process holds, removed on an interrupt too.
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// An exclusive hold on a `dist/` folder for the whole run: two runs in one folder would
/// write each other's files (a checksum file that no longer matches its archives). Dropping
/// it removes the lock file.
#[derive(Debug)]
pub struct DistLock {
    _file: std::fs::File,
    path: PathBuf,
}

impl Drop for DistLock {
    fn drop(&mut self) {
        // Removed while still locked, so no second run can lock this file after we let go.
        let _ = std::fs::remove_file(&self.path);
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| p != &self.path);
    }
}

/// Take the lock of `dist` (creating the folder), or say which process holds it (exit 1).
pub fn lock(dist: &Path) -> Result<DistLock> {
    use std::os::unix::fs::MetadataExt;
    std::fs::create_dir_all(dist).ctx("cannot create", dist)?;
    let path = dist.join(LOCK);
    for _ in 0..10 {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .ctx("cannot open", &path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = std::io::Read::read_to_string(&mut file, &mut holder);
                let holder = holder.trim();
                return Err(Error::State(format!(
                    "{} is in use by another rel run ({}); wait for it to finish, or use another `dist`",
                    dist.display(),
                    if holder.is_empty() {
                        "a process that has just started".to_string()
                    } else {
                        holder.to_string()
                    }
                )));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("cannot lock", &path, e));
            }
        }
        // The holder before us may have removed the file between our open and our lock:
        // then we hold a lock nobody else can see, and try again on the new file.
        let same = std::fs::metadata(&path)
            .ok()
            .zip(file.metadata().ok())
            .is_some_and(|(a, b)| a.ino() == b.ino() && a.dev() == b.dev());
        if !same {
            continue;
        }
        file.set_len(0).ctx("cannot write", &path)?;
        file.write_all(format!("pid {}", std::process::id()).as_bytes())
            .ctx("cannot write", &path)?;
        HELD.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.clone());
        return Ok(DistLock { _file: file, path });
    }
    Err(Error::State(format!("cannot lock {}", path.display())))
}

/// Remove every lock file this process holds (the interrupt handler, before exiting).
pub fn release_locks() {
    for p in HELD.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

/// The hidden temporary name beside `path` that a writer uses before renaming into place:
/// `dist/.x.tar.gz.tmp` (with `suffix` `tmp`). Never a name an output can take.
pub fn temp_beside(path: &Path, suffix: &str) -> PathBuf {
    path.with_file_name(format!(
        ".{}.{suffix}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ))
}

/// Write `bytes` to `path` through a temporary file and a rename, so a reader never sees
/// a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx("cannot create", dir)?;
    let tmp = temp_beside(path, "tmp");
    let mut f = std::fs::File::create(&tmp).ctx("cannot create", &tmp)?;
    f.write_all(bytes).ctx("cannot write", &tmp)?;
    f.sync_all().ctx("cannot write", &tmp)?;
    std::fs::rename(&tmp, path).ctx("cannot write", path)
}

pub use crate::hash::{hex, sha256_file};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_lock_per_dist_and_clean_keeps_it() {
        let d = tempfile::tempdir().unwrap();
        let dist = d.path().join("dist");
        let held = lock(&dist).unwrap();
        let e = lock(&dist).unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{e}"
        );
        std::fs::write(dist.join("x"), "1").unwrap();
        prepare(&dist, true).unwrap();
        assert!(dist.join(LOCK).is_file(), "--clean keeps the lock");
        assert!(!dist.join("x").exists());
        prepare(&dist, false).unwrap();
        drop(held);
        assert!(!dist.join(LOCK).exists());
        let _again = lock(&dist).unwrap();
    }

    #[test]
    fn refuses_non_empty_dist_without_clean() {
        let d = tempfile::tempdir().unwrap();
        let dist = d.path().join("dist");
        prepare(&dist, false).unwrap();
        std::fs::write(dist.join("x"), "1").unwrap();
        let e = prepare(&dist, false).unwrap_err();
        assert!(e.to_string().contains("--clean"), "{e}");
        prepare(&dist, true).unwrap();
        assert_eq!(std::fs::read_dir(&dist).unwrap().count(), 0);
        assert!(std::fs::read_dir(&dist).unwrap().next().is_none());
    }

    #[test]
    fn hashes_like_sha256sum() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a");
        std::fs::write(&f, "abc").unwrap();
        let (h, n) = sha256_file(&f).unwrap();
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(n, 3);
    }
}
