//! OCI content shared by the stages that talk to registries: media types, descriptors,
//! canonical JSON and digests, the registry client (`registry`) and credentials (`auth`).
//! The image stage pushes images with it; the referrers stage attaches signatures and SBOMs.

pub mod auth;
pub mod base;
pub mod config;
pub mod layer;
pub mod layout;
pub mod platform;
pub mod push;
pub mod registry;

use crate::dist::hex;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// OCI media types used here.
pub mod media {
    /// Image index.
    pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Image manifest.
    pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// Image config.
    pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Gzip layer.
    pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// Docker manifest list (read from base images only).
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker image manifest (read from base images only).
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// Media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
}

impl Descriptor {
    /// The descriptor as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

/// Serialise with keys sorted at every level and no whitespace, whatever map type
/// serde_json was built with.
pub fn canonical(v: &Value) -> Vec<u8> {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    // With or without serde_json's `preserve_order`, a map built by inserting sorted keys
    // serialises in that order.
    serde_json::to_vec(&sort(v)).expect("json serialises")
}

/// `sha256:<hex>` of bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}
