//! `rel init`: a starter config for the project in the current folder.

use crate::error::{Error, IoContext, Result};
use std::path::Path;

const GO: &str = r#"# yaml-language-server: $schema=https://raw.githubusercontent.com/rel-dev/rel/main/schemas/release.schema.json
version: 1
before:
  hooks: ["go mod tidy"]
builds:
  - main: .
    env: ["CGO_ENABLED=0"]
    goos: [linux, darwin, windows]
    goarch: [amd64, arm64]
    flags: ["-trimpath"]
    ldflags: ["-s -w -X main.version={{ version }} -X main.commit={{ commit }} -X main.date={{ commit_date }}"]
    mod_timestamp: "{{ commit_timestamp }}"
archives:
  - formats: [tar.gz]
    format_overrides: [{goos: windows, formats: [zip]}]
changelog:
  sort: asc
  filters: {exclude: ["^docs:", "^test:"]}
"#;

const CARGO: &str = r#"# yaml-language-server: $schema=https://raw.githubusercontent.com/rel-dev/rel/main/schemas/release.schema.json
version: 1
builds:
  - builder: cargo
    main: NAME
    # Rust target triples; each needs its toolchain (`rustup target add …`).
    # targets: [x86_64-unknown-linux-gnu, aarch64-apple-darwin]
    mod_timestamp: "{{ commit_timestamp }}"
archives:
  - formats: [tar.gz]
    format_overrides: [{goos: windows, formats: [zip]}]
changelog:
  sort: asc
  filters: {exclude: ["^docs:", "^test:"]}
"#;

fn cargo_name(root: &Path) -> Option<String> {
    let toml = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let mut in_package = false;
    for line in toml.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_package = l == "[package]";
        } else if in_package && let Some(v) = l.strip_prefix("name") {
            let v = v.trim_start().strip_prefix('=')?.trim().trim_matches('"');
            return Some(v.to_string());
        }
    }
    None
}

/// Write `.release.yaml` for the project in `root`.
pub fn run(root: &Path, force: bool) -> Result<()> {
    let path = root.join(".release.yaml");
    if path.exists() && !force {
        return Err(Error::Usage(format!("{} already exists; pass --force to overwrite it", path.display())));
    }
    let text = if root.join("go.mod").is_file() {
        GO.to_string()
    } else if let Some(name) = cargo_name(root) {
        CARGO.replace("NAME", &name)
    } else {
        return Err(Error::Usage(format!(
            "found neither go.mod nor Cargo.toml in {}; rel init writes a starter config for Go or Rust projects",
            root.display()
        )));
    };
    std::fs::write(&path, text).ctx("cannot write", &path)?;
    eprintln!("wrote {}; check it with `rel check`", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_package_name() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("Cargo.toml"), "[workspace]\nname = \"x\"\n[package]\nname = \"tool\"\n").unwrap();
        assert_eq!(cargo_name(d.path()).as_deref(), Some("tool"));
    }
}
