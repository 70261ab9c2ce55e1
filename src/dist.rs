//! The `dist/` folder: preparing it, and writing files into it safely.

use crate::error::{Error, IoContext, Result};

use std::io::Write;
use std::path::Path;

/// Make `dist` ready: removed first with `clean`, otherwise it must be absent or empty.
pub fn prepare(dist: &Path, clean: bool) -> Result<()> {
    if dist.exists() {
        if clean {
            std::fs::remove_dir_all(dist).ctx("cannot remove", dist)?;
        } else if std::fs::read_dir(dist)
            .ctx("cannot read", dist)?
            .next()
            .is_some()
        {
            return Err(Error::State(format!(
                "{} is not empty; pass --clean to remove it first",
                dist.display()
            )));
        }
    }
    std::fs::create_dir_all(dist).ctx("cannot create", dist)
}

/// Write `bytes` to `path` through a temporary file and a rename, so a reader never sees
/// a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).ctx("cannot create", dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
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
    fn refuses_non_empty_dist_without_clean() {
        let d = tempfile::tempdir().unwrap();
        let dist = d.path().join("dist");
        prepare(&dist, false).unwrap();
        std::fs::write(dist.join("x"), "1").unwrap();
        let e = prepare(&dist, false).unwrap_err();
        assert!(e.to_string().contains("--clean"), "{e}");
        prepare(&dist, true).unwrap();
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
