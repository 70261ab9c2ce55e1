//! What goes into one archive: a sorted list of entries with normalised metadata.
//!
//! Everything that could differ between two machines (owner, mode bits beyond "executable",
//! time, the order a file system lists a folder in) is decided here, once, so the writers for
//! each format only translate these entries and cannot reintroduce host-specific state.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The kind of an entry and where its content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A folder (written so extracting gives it mode 0755 rather than the umask's).
    Dir,
    /// A regular file copied from `source`.
    File {
        /// Where the bytes are.
        source: PathBuf,
        /// Stored as 0755 when true, 0644 otherwise.
        executable: bool,
    },
    /// A symbolic link whose target is stored as written (always relative, inside the archive).
    Symlink {
        /// The link's target.
        target: String,
    },
}

/// What an archive's config says of a file's metadata (GoReleaser's `builds_info` and
/// `files[].info`); unset fields keep the normalised defaults (root, 0755/0644, commit time).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Info {
    /// Owner name stored in tar headers (uid stays 0).
    pub owner: Option<String>,
    /// Group name stored in tar headers (gid stays 0).
    pub group: Option<String>,
    /// Permission bits.
    pub mode: Option<u32>,
    /// Modification time, unix seconds.
    pub mtime: Option<i64>,
}

/// One entry: a `/`-separated relative path inside the archive and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, without a leading or trailing `/`.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Metadata the config sets for it.
    pub info: Info,
}

impl Entry {
    /// The Unix mode of the entry: the configured one, else the normalised one.
    pub fn mode(&self) -> u32 {
        if let Some(m) = self.info.mode {
            return m;
        }
        match &self.kind {
            EntryKind::Dir => 0o755,
            EntryKind::File {
                executable: true, ..
            } => 0o755,
            EntryKind::File {
                executable: false, ..
            } => 0o644,
            EntryKind::Symlink { .. } => 0o777,
        }
    }
}

/// Collects entries, rejects two different contents at one path, adds the parent folders and
/// returns everything sorted by path (so a parent always precedes its children).
#[derive(Debug, Default)]
pub struct EntrySet {
    items: BTreeMap<String, (EntryKind, String)>,
    info: BTreeMap<String, Info>,
}

impl EntrySet {
    /// Add `kind` at `path`; `origin` describes where it came from for collision messages.
    /// Adding the same content at the same path twice is harmless (two globs matching one file).
    pub fn add(&mut self, path: &str, kind: EntryKind, origin: &str) -> Result<()> {
        let path = path.trim_matches('/').to_string();
        if path.is_empty()
            || path
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(Error::Failed(format!(
                "{origin}: `{path}` is not a valid path inside an archive"
            )));
        }
        match self.items.get(&path) {
            Some((existing, _)) if *existing == kind => Ok(()),
            Some((_, first)) => Err(Error::Failed(format!(
                "two different files would be stored at `{path}`: {first} and {origin}"
            ))),
            None => {
                self.items.insert(path, (kind, origin.to_string()));
                Ok(())
            }
        }
    }

    /// [`EntrySet::add`] with configured metadata.
    pub fn add_with(
        &mut self,
        path: &str,
        kind: EntryKind,
        origin: &str,
        info: Info,
    ) -> Result<()> {
        self.add(path, kind, origin)?;
        if info != Info::default() {
            self.info.insert(path.trim_matches('/').to_string(), info);
        }
        Ok(())
    }

    /// Every entry, parents included, sorted by path.
    pub fn into_sorted(self) -> Result<Vec<Entry>> {
        let mut dirs: BTreeMap<String, ()> = BTreeMap::new();
        for path in self.items.keys() {
            let mut parts: Vec<&str> = path.split('/').collect();
            parts.pop();
            for i in 1..=parts.len() {
                dirs.insert(parts[..i].join("/"), ());
            }
        }
        let mut out: Vec<Entry> = vec![];
        for d in dirs.into_keys() {
            if let Some((kind, origin)) = self.items.get(&d)
                && *kind != EntryKind::Dir
            {
                return Err(Error::Failed(format!(
                    "`{d}` ({origin}) would be both a file and a folder in the archive"
                )));
            }
            out.push(Entry {
                path: d,
                kind: EntryKind::Dir,
                info: Info::default(),
            });
        }
        let mut info = self.info;
        for (path, (kind, _)) in self.items {
            if !out.iter().any(|e| e.path == path) {
                let info = info.remove(&path).unwrap_or_default();
                out.push(Entry { path, kind, info });
            }
        }
        // Byte order of the path: stable on every platform and locale.
        out.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(p: &str) -> EntryKind {
        EntryKind::File {
            source: PathBuf::from(p),
            executable: false,
        }
    }

    #[test]
    fn sorted_with_parents_first() {
        let mut s = EntrySet::default();
        s.add("w/docs/b.md", file("b"), "b").unwrap();
        s.add("w/a-b", file("x"), "x").unwrap();
        s.add("w/bin", file("bin"), "bin").unwrap();
        let paths: Vec<String> = s
            .into_sorted()
            .unwrap()
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["w", "w/a-b", "w/bin", "w/docs", "w/docs/b.md"]);
    }

    #[test]
    fn same_file_twice_is_fine_different_is_an_error() {
        let mut s = EntrySet::default();
        s.add("README.md", file("README.md"), "files[0]").unwrap();
        s.add("README.md", file("README.md"), "files[1]").unwrap();
        let e = s
            .add("README.md", file("docs/README.md"), "files[2]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("files[0]") && e.contains("files[2]"), "{e}");
    }

    #[test]
    fn file_and_folder_at_one_path_is_an_error() {
        let mut s = EntrySet::default();
        s.add("docs", file("docs"), "a").unwrap();
        s.add("docs/x", file("x"), "b").unwrap();
        assert!(
            s.into_sorted()
                .unwrap_err()
                .to_string()
                .contains("both a file and a folder")
        );
    }

    #[test]
    fn rejects_dot_dot() {
        let mut s = EntrySet::default();
        assert!(s.add("a/../b", file("b"), "x").is_err());
    }

    #[test]
    fn modes_are_normalised() {
        let e = |kind| {
            Entry {
                path: "x".into(),
                kind,
                info: Info::default(),
            }
            .mode()
        };
        assert_eq!(e(EntryKind::Dir), 0o755);
        assert_eq!(e(file("x")), 0o644);
        assert_eq!(
            e(EntryKind::File {
                source: "x".into(),
                executable: true
            }),
            0o755
        );
        assert_eq!(e(EntryKind::Symlink { target: "x".into() }), 0o777);
    }
}
