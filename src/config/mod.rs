//! The config: finding, loading, defaults and validation of `.release.yaml`.

pub mod diag;
mod load;
pub mod locate;
pub mod model;
pub mod validate;

pub use load::from_yaml;
pub use model::*;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Config file names looked for, in order.
pub const DEFAULT_NAMES: &[&str] = &[".release.yaml", ".release.yml", "release.yaml", "release.yml"];

/// A loaded config with the source it came from (kept for error locations).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The parsed config, before defaults.
    pub config: Config,
    /// The file it came from.
    pub file: PathBuf,
    /// Its text.
    pub src: String,
}

/// Find the config: `explicit` if given, else the first default name present in `root`.
pub fn find(root: &Path, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        if !p.is_file() {
            return Err(Error::Usage(format!("config file {} does not exist", p.display())));
        }
        return Ok(p.to_path_buf());
    }
    DEFAULT_NAMES
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Error::Usage(format!(
                "no config found in {} (looked for {}); run `rel init` to write one, or pass --config FILE",
                root.display(),
                DEFAULT_NAMES.join(", ")
            ))
        })
}

/// Read and parse a config file.
pub fn load(file: &Path) -> Result<Loaded> {
    let src = std::fs::read_to_string(file)
        .map_err(|e| Error::Usage(format!("cannot read config {}: {e}", file.display())))?;
    let config: Config = if src.trim().is_empty() || src.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        Config {
            version: 1,
            dist: "dist".into(),
            ..Default::default()
        }
    } else {
        from_yaml(file, &src)?
    };
    Ok(Loaded {
        config,
        file: file.to_path_buf(),
        src,
    })
}
