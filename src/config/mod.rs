//! The config: finding, loading, defaults and validation of `.release.yaml`.

pub mod diag;
mod keys;
mod load;
pub mod locate;
pub mod model;
pub mod validate;

pub use load::from_yaml;
pub use model::*;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Config file names looked for, in order.
pub const DEFAULT_NAMES: &[&str] = &[
    ".release.yaml",
    ".release.yml",
    "release.yaml",
    "release.yml",
];

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

/// The project folder for a command started in `cwd`: the nearest folder, from `cwd` up to
/// the git repository's root, that holds a config file; `cwd` when none does (so `rel init`
/// and the "no config found" message speak of the folder the user is in).
pub fn project_root(cwd: &Path) -> PathBuf {
    for dir in cwd.ancestors() {
        if DEFAULT_NAMES.iter().any(|n| dir.join(n).is_file()) {
            return dir.to_path_buf();
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    cwd.to_path_buf()
}

/// Find the config: `explicit` if given, else the first default name present in `root`.
pub fn find(root: &Path, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        let why = match std::fs::metadata(p) {
            Err(_) => Some("does not exist"),
            Ok(m) if m.is_dir() => Some("is a folder, not a config file"),
            Ok(m) if !m.is_file() => Some("is not a regular file (a device or a pipe)"),
            Ok(_) => None,
        };
        if let Some(why) = why {
            return Err(Error::Usage(format!("--config {}: {why}", p.display())));
        }
        return Ok(p.to_path_buf());
    }
    DEFAULT_NAMES
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            // A GoReleaser config is the common case of a project new to rel.
            if let Some(g) = [".goreleaser.yaml", ".goreleaser.yml", "goreleaser.yaml", "goreleaser.yml"]
                .iter()
                .find(|n| root.join(n).is_file())
            {
                return Error::Usage(format!(
                    "no rel config in {}, but {g} is there: run `rel import` to write .release.yaml from it, or pass `--config {g}` to use it as it is",
                    root.display()
                ));
            }
            Error::Usage(format!(
                "no config found in {} (looked for {}); run `rel init` to write one, or pass --config FILE",
                root.display(),
                DEFAULT_NAMES.join(", ")
            ))
        })
}

/// Read and parse a config file.
pub fn load(file: &Path) -> Result<Loaded> {
    load_bytes(file, read_bytes(file)?)
}

fn read_bytes(file: &Path) -> Result<Vec<u8>> {
    std::fs::read(file)
        .map_err(|e| Error::Usage(format!("cannot read config {}: {e}", file.display())))
}

/// Parse config text `src` that came from `file` (a config made in memory, such as one
/// imported from GoReleaser's, names where it came from).
pub fn load_text(file: &Path, src: String) -> Result<Loaded> {
    load_bytes(file, src.into_bytes())
}

fn load_bytes(file: &Path, bytes: Vec<u8>) -> Result<Loaded> {
    let src = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = good.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
            return Err(Error::Config(format!(
                "error: {}:{line}:{column}: the config is not UTF-8 text (byte 0x{:02x}); save it as UTF-8",
                file.display(),
                e.as_bytes()[good.len()]
            )));
        }
    };
    let config: Config = if src.trim().is_empty()
        || src
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        Config {
            version: 1,
            dist: "dist".into(),
            ..Default::default()
        }
    } else {
        load::config_from_yaml(file, &src)?
    };
    Ok(Loaded {
        config,
        file: file.to_path_buf(),
        src,
    })
}
