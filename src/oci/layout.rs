//! The OCI image layout under `dist/images/<id>/`: content-addressed blobs and `index.json`.
//!
//! Every image is first written here, then pushed from here. A snapshot stops after this step
//! (the folder is a complete layout that `skopeo copy oci:…` or `crane` can read); a release
//! streams the same files to the registry, so what is pushed is exactly what was built.
//! JSON documents are written with sorted keys and no whitespace, so digests only depend on
//! content.

use crate::error::{IoContext, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use crate::oci::{Descriptor, canonical, digest_of, media};

/// An OCI image layout folder.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Its root.
    pub root: PathBuf,
}

impl Layout {
    /// Create (or reuse) a layout at `root`.
    pub fn create(root: &Path) -> Result<Layout> {
        let blobs = root.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).ctx("cannot create", &blobs)?;
        crate::dist::write_atomic(
            &root.join("oci-layout"),
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        )?;
        Ok(Layout {
            root: root.to_path_buf(),
        })
    }

    /// Where the blob with `digest` lives.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.root.join("blobs/sha256").join(hex)
    }

    /// Whether the blob is present.
    pub fn has(&self, digest: &str) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Store bytes as a blob; returns its descriptor.
    pub fn put_bytes(&self, media_type: &str, bytes: &[u8]) -> Result<Descriptor> {
        let digest = digest_of(bytes);
        let path = self.blob_path(&digest);
        if !path.is_file() {
            crate::dist::write_atomic(&path, bytes)?;
        }
        Ok(Descriptor {
            media_type: media_type.into(),
            digest,
            size: bytes.len() as u64,
        })
    }

    /// Store a JSON document canonically.
    pub fn put_json(&self, media_type: &str, v: &Value) -> Result<(Descriptor, Vec<u8>)> {
        let bytes = canonical(v);
        Ok((self.put_bytes(media_type, &bytes)?, bytes))
    }

    /// A temporary file inside the layout, to be renamed to its digest once written.
    pub fn temp(&self) -> Result<tempfile::NamedTempFile> {
        let dir = self.root.join("blobs/sha256");
        tempfile::NamedTempFile::new_in(&dir).ctx("cannot create a temporary file in", &dir)
    }

    /// Move a finished temporary file to its digest's path.
    pub fn commit(&self, tmp: tempfile::NamedTempFile, digest: &str) -> Result<()> {
        let path = self.blob_path(digest);
        tmp.persist(&path)
            .map_err(|e| crate::error::Error::io("cannot write", &path, e.error))?;
        Ok(())
    }

    /// Write `index.json`: one entry per tag, each naming the image index it points to.
    pub fn write_index(&self, refs: &[(String, Descriptor)]) -> Result<()> {
        let manifests: Vec<Value> = refs
            .iter()
            .map(|(tag, d)| {
                let mut j = d.to_json();
                j["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": tag});
                j
            })
            .collect();
        let index = serde_json::json!({"schemaVersion": 2, "mediaType": media::INDEX, "manifests": manifests});
        crate::dist::write_atomic(&self.root.join("index.json"), &canonical(&index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_at_every_level() {
        let v = serde_json::json!({"b": 1, "a": {"z": [ {"y": 1, "x": 2} ], "c": "d"}});
        assert_eq!(
            String::from_utf8(canonical(&v)).unwrap(),
            r#"{"a":{"c":"d","z":[{"x":2,"y":1}]},"b":1}"#
        );
    }

    #[test]
    fn blobs_are_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        let l = Layout::create(dir.path()).unwrap();
        let d = l.put_bytes(media::CONFIG, b"{}").unwrap();
        assert_eq!(
            d.digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert!(l.has(&d.digest));
        l.write_index(&[("1.0.0".into(), d)]).unwrap();
        let idx: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(
            idx["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
            "1.0.0"
        );
    }
}
