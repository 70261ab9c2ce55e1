//! Scoop manifests: `version`, `architecture` (`64bit`, `32bit`, `arm64`) with `url`,
//! `hash` and `bin`, plus `checkver`/`autoupdate` so the manifest can go into community
//! buckets, which require them.

use super::{Download, pick};
use serde_json::{Map, Value, json};

/// What the manifest says besides the downloads.
pub struct Manifest {
    pub version: String,
    pub description: Option<String>,
    pub homepage: Option<String>,
    pub license: Option<String>,
    pub persist: Vec<String>,
    pub depends: Vec<String>,
    /// The GitHub repository URL, for `checkver`.
    pub checkver: Option<String>,
}

/// The manifest's JSON text (keys sorted, so the bytes reproduce).
pub fn render(m: &Manifest, all: &[Download]) -> Result<String, String> {
    let mut arch = Map::new();
    let mut auto = Map::new();
    for (key, goarch) in [("64bit", "amd64"), ("32bit", "386"), ("arm64", "arm64")] {
        let Some(d) = pick(all, "windows", goarch) else {
            continue;
        };
        if d.binaries.is_empty() {
            return Err(format!("{} holds no binary", d.name));
        }
        arch.insert(
            key.into(),
            json!({"url": d.url, "hash": d.sha256, "bin": d.binaries}),
        );
        auto.insert(
            key.into(),
            json!({"url": d.url.replace(&m.version, "$version")}),
        );
    }
    if arch.is_empty() {
        return Err("no windows archive for amd64, 386 or arm64".into());
    }
    let mut doc = Map::new();
    doc.insert("version".into(), json!(m.version));
    if let Some(d) = &m.description {
        doc.insert("description".into(), json!(d.trim()));
    }
    if let Some(h) = &m.homepage {
        doc.insert("homepage".into(), json!(h));
    }
    if let Some(l) = &m.license {
        doc.insert("license".into(), json!(l));
    }
    if !m.depends.is_empty() {
        doc.insert("depends".into(), json!(m.depends));
    }
    doc.insert("architecture".into(), Value::Object(arch));
    if !m.persist.is_empty() {
        doc.insert("persist".into(), json!(m.persist));
    }
    if let Some(repo) = &m.checkver {
        doc.insert("checkver".into(), json!({"github": repo}));
        doc.insert(
            "autoupdate".into(),
            json!({"architecture": Value::Object(auto)}),
        );
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(doc)).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(text)
}
