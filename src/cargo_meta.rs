//! What `cargo metadata` says of a workspace: its binaries, their packages and versions.
//!
//! `rel init` names builds after the real `[[bin]]` targets with it, and a tagged release
//! warns when the tag and the crate's version differ (the binary reports the crate's).

use crate::error::{Error, Result};
use std::path::Path;

/// One binary of a cargo project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CargoBin {
    /// The `[[bin]]` name.
    pub name: String,
    /// Its package.
    pub package: String,
    /// The package's version.
    pub version: String,
}

/// The binaries of the cargo workspace (or package) at `root`, from `cargo metadata`.
pub fn cargo_bins(root: &Path) -> Result<Vec<CargoBin>> {
    let out = std::process::Command::new("cargo")
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .map_err(|e| {
            Error::Usage(format!(
                "found Cargo.toml, but cannot run `cargo metadata`: {e}"
            ))
        })?;
    if !out.status.success() {
        return Err(Error::Usage(format!(
            "`cargo metadata` failed in {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::Failed(format!("cannot read `cargo metadata`: {e}")))?;
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str())
        .collect();
    let mut bins = vec![];
    for p in meta["packages"].as_array().into_iter().flatten() {
        if !members.contains(&p["id"].as_str().unwrap_or_default()) {
            continue;
        }
        for t in p["targets"].as_array().into_iter().flatten() {
            let is_bin = t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|x| x == "bin"));
            if is_bin {
                bins.push(CargoBin {
                    name: t["name"].as_str().unwrap_or_default().to_string(),
                    package: p["name"].as_str().unwrap_or_default().to_string(),
                    version: p["version"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
    }
    bins.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(bins)
}

/// The host's Rust triple (`rustc -vV`), asked once.
pub fn host_triple() -> Option<String> {
    static HOST: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        let out = std::process::Command::new("rustc")
            .arg("-vV")
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: ").map(|h| h.trim().to_string()))
    })
    .clone()
}
