//! The artifact registry: the single list of everything a release produces.
//!
//! Stages add to it and read from it (archives read binaries, checksums read archives, …);
//! `dist/artifacts.json` is its serialisation, and split/merge and resumed publishing read
//! that file back. It is thread-safe so parallel workers can add as they finish.

use crate::error::{IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// What an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A built binary.
    Binary,
    /// An archive of binaries and files.
    Archive,
    /// A binary renamed for upload (`formats: [binary]`).
    UploadableBinary,
    /// The checksum file.
    Checksum,
    /// A per-file checksum sidecar.
    ChecksumSidecar,
    /// A signature.
    Signature,
    /// The release notes.
    ReleaseNotes,
    /// A file from `release.extra_files`.
    ExtraFile,
    /// A per-platform OCI image.
    Image,
    /// A multi-platform OCI image index.
    ImageIndex,
    /// Metadata written by rel.
    Metadata,
}

impl Kind {
    /// Whether artifacts of this kind are uploaded to the release and checksummed.
    pub fn uploadable(self) -> bool {
        matches!(self, Kind::Archive | Kind::UploadableBinary | Kind::Checksum | Kind::ChecksumSidecar | Kind::Signature | Kind::ExtraFile)
    }
}

/// One output of the release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// File name (or image reference).
    pub name: String,
    /// Path relative to the project root (empty for remote-only artifacts).
    pub path: String,
    /// What it is.
    pub kind: Kind,
    /// The build it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// The target name (`linux_amd64_v1`, a Rust triple).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Operating system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// Architecture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// ARM version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
    /// amd64 level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amd64: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// SHA-256 of the file, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Kind-specific data (archive format, image digest, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Artifact {
    /// A new artifact with only name, path and kind set.
    pub fn new(kind: Kind, name: impl Into<String>, path: impl Into<String>) -> Self {
        Artifact {
            name: name.into(),
            path: path.into(),
            kind,
            build_id: None,
            target: None,
            os: None,
            arch: None,
            arm: None,
            amd64: None,
            size: None,
            sha256: None,
            extra: BTreeMap::new(),
        }
    }
}

/// The thread-safe list of artifacts.
#[derive(Debug, Default)]
pub struct Registry {
    items: Mutex<Vec<Artifact>>,
}

impl Registry {
    /// Add one artifact.
    pub fn add(&self, a: Artifact) {
        self.items.lock().expect("registry lock").push(a);
    }

    /// Every artifact matching `pred`, in a stable order (kind, then path, then name).
    pub fn filter(&self, pred: impl Fn(&Artifact) -> bool) -> Vec<Artifact> {
        let mut v: Vec<Artifact> = self.items.lock().expect("registry lock").iter().filter(|a| pred(a)).cloned().collect();
        v.sort_by(|a, b| (a.kind, &a.path, &a.name).cmp(&(b.kind, &b.path, &b.name)));
        v
    }

    /// Every artifact of `kind`.
    pub fn of_kind(&self, kind: Kind) -> Vec<Artifact> {
        self.filter(|a| a.kind == kind)
    }

    /// Everything.
    pub fn all(&self) -> Vec<Artifact> {
        self.filter(|_| true)
    }

    /// Write `artifacts.json` to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.all()).expect("artifacts serialise");
        crate::dist::write_atomic(path, &json)
    }

    /// Read an `artifacts.json`.
    pub fn read(path: &Path) -> Result<Registry> {
        let bytes = std::fs::read(path).ctx("cannot read", path)?;
        let items: Vec<Artifact> = serde_json::from_slice(&bytes)
            .map_err(|e| crate::error::Error::Failed(format!("{} is not a valid artifacts.json: {e}", path.display())))?;
        Ok(Registry { items: Mutex::new(items) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_round_trips() {
        let r = Registry::default();
        let mut b = Artifact::new(Kind::Binary, "hello", "dist/hello_linux_amd64_v1/hello");
        b.os = Some("linux".into());
        r.add(Artifact::new(Kind::Archive, "z.tar.gz", "dist/z.tar.gz"));
        r.add(b.clone());
        assert_eq!(r.of_kind(Kind::Binary), vec![b.clone()]);
        assert_eq!(r.all()[0].kind, Kind::Binary, "sorted by kind");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("artifacts.json");
        r.write(&p).unwrap();
        let back = Registry::read(&p).unwrap();
        assert_eq!(back.all(), r.all());
    }
}
