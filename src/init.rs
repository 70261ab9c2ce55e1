//! `rel init`: a starter config for the project in the current folder, one that releases as
//! it is.
//!
//! It says what it detected, writes a commented `.release.yaml` (what each section does, the
//! next command, where the docs are), and adds `dist/` (and `target/` for cargo) to
//! `.gitignore`, since a snapshot's `dist/` would otherwise make the first tagged release stop
//! on a dirty tree. Cargo projects are read with `cargo metadata`, so workspaces work and each
//! build names the real `[[bin]]` target rather than the package.

use crate::cargo_meta::{CargoBin, cargo_bins};
use crate::error::{Error, IoContext, Result};
use std::path::Path;

/// The schema comment, pinned to this rel's version so it resolves to the keys this rel reads.
fn schema_line() -> String {
    format!(
        "# yaml-language-server: $schema=https://raw.githubusercontent.com/rel-dev/rel/v{}/schemas/release.schema.json\n# (or offline: `rel schema > release.schema.json` and point the comment at that file)\n",
        env!("CARGO_PKG_VERSION")
    )
}

const HEAD: &str = "# rel's release config. Check it with `rel check`; try it with `rel release --snapshot --clean`
# (builds everything into dist/, publishes nothing); see what a release would do with
# `rel release --dry-run`; then push a tag (v1.2.3) and run `rel release` (or `rel ci github`).
# Every key: SPEC.md in rel's repository, or `rel schema`.
version: 1
";

const TAIL: &str = "
# Archives of each target's binaries (zip on Windows) with README and LICENSE files when
# present, and a checksum file beside them.
archives:
  - formats: [tar.gz]
    format_overrides: [{goos: windows, formats: [zip]}]

# Release notes from conventional commits since the previous tag.
changelog:
  sort: asc
  filters: {exclude: [\"^docs:\", \"^test:\", \"^chore:\"]}
";

/// The Go main packages: `cmd/<name>/` folders with a `main.go`, else the module root.
fn go_mains(root: &Path) -> Vec<(String, String)> {
    let mut mains = vec![];
    if let Ok(rd) = std::fs::read_dir(root.join("cmd")) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if e.path().join("main.go").is_file() {
                mains.push((name.clone(), format!("./cmd/{name}")));
            }
        }
    }
    mains.sort();
    if mains.is_empty() || root.join("main.go").is_file() {
        let name = root
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "app".into());
        mains.insert(0, (name, ".".into()));
    }
    mains
}

fn go_config(mains: &[(String, String)]) -> String {
    let mut s = String::from(
        "
# Run before building (a failing hook stops the release).
before:
  hooks: [\"go mod tidy\"]

# One entry per binary. rel cross-compiles every goos × goarch pair in parallel; with
# CGO_ENABLED=0 all of them build on one Linux machine.
builds:
",
    );
    for (name, main) in mains {
        s.push_str(&format!(
            "  - id: {name}\n    main: {main}\n    binary: {name}\n    env: [\"CGO_ENABLED=0\"]\n    goos: [linux, darwin, windows]\n    goarch: [amd64, arm64]\n    flags: [\"-trimpath\"]\n    ldflags: [\"-s -w -X main.version={{{{ version }}}} -X main.commit={{{{ commit }}}} -X main.date={{{{ commit_date }}}}\"]\n    mod_timestamp: \"{{{{ commit_timestamp }}}}\"\n"
        ));
    }
    s
}

fn cargo_config(bins: &[CargoBin]) -> String {
    let mut s = String::from(
        "
# One entry per [[bin]] target (from `cargo metadata`). Each Rust target triple needs its
# toolchain (`rustup target add …`) and, for other OSes, a linker; `rel ci github` runs each
# on a runner of its own OS.
builds:
",
    );
    for b in bins {
        s.push_str(&format!(
            "  - id: {}\n    builder: cargo\n    main: {}   # the [[bin]] of package `{}`\n    binary: {}\n    targets: [x86_64-unknown-linux-gnu]\n    # targets: [x86_64-unknown-linux-gnu, aarch64-apple-darwin, x86_64-pc-windows-msvc]\n    mod_timestamp: \"{{{{ commit_timestamp }}}}\"\n",
            b.name, b.name, b.package, b.name
        ));
    }
    s
}

/// Add `entries` to `.gitignore` (created if missing); returns the ones added.
fn ignore(root: &Path, entries: &[&str]) -> Result<Vec<String>> {
    let path = root.join(".gitignore");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let have: Vec<&str> = text.lines().map(str::trim).collect();
    let mut added = vec![];
    let mut out = text.clone();
    for e in entries {
        let bare = e.trim_end_matches('/');
        let present = have
            .iter()
            .any(|l| *l == *e || *l == bare || *l == format!("/{e}") || *l == format!("/{bare}"));
        if !present {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(e);
            out.push('\n');
            added.push(e.to_string());
        }
    }
    if !added.is_empty() {
        std::fs::write(&path, out).ctx("cannot write", &path)?;
    }
    Ok(added)
}

/// Write `.release.yaml` for the project in `root`.
pub fn run(root: &Path, force: bool) -> Result<()> {
    let path = root.join(".release.yaml");
    if path.exists() && !force {
        return Err(Error::Usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    let (body, detected, ignores): (String, String, Vec<&str>) = if root.join("go.mod").is_file() {
        let mains = go_mains(root);
        let names: Vec<&str> = mains.iter().map(|(n, _)| n.as_str()).collect();
        (
            go_config(&mains),
            format!(
                "a Go module with {} ({})",
                plural(mains.len(), "main package"),
                names.join(", ")
            ),
            vec!["dist/"],
        )
    } else if root.join("Cargo.toml").is_file() {
        let bins = cargo_bins(root)?;
        if bins.is_empty() {
            return Err(Error::Usage(
                    "found Cargo.toml, but no binary target in the workspace: rel releases programs ([[bin]] targets or src/main.rs)".into(),
                ));
        }
        let names: Vec<String> = bins
            .iter()
            .map(|b| format!("{} (package {} {})", b.name, b.package, b.version))
            .collect();
        (
            cargo_config(&bins),
            format!(
                "a cargo project with {}: {}",
                plural(bins.len(), "binary"),
                names.join(", ")
            ),
            vec!["dist/", "target/"],
        )
    } else {
        return Err(Error::Usage(format!(
            "found neither go.mod nor Cargo.toml in {}; rel init writes a starter config for Go or Rust projects",
            root.display()
        )));
    };
    let text = format!("{}{HEAD}{body}{TAIL}", schema_line());
    std::fs::write(&path, text).ctx("cannot write", &path)?;
    let added = ignore(root, &ignores)?;
    eprintln!("detected {detected}");
    eprintln!("wrote {}", path.display());
    if !added.is_empty() {
        eprintln!("added {} to .gitignore", added.join(" and "));
    }
    eprintln!("next: `rel check`, then `rel release --snapshot --clean`");
    Ok(())
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else if let Some(stem) = word.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_gets_what_is_missing_once() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(".gitignore"), "/target\n*.log").unwrap();
        assert_eq!(
            ignore(d.path(), &["dist/", "target/"]).unwrap(),
            vec!["dist/"]
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join(".gitignore")).unwrap(),
            "/target\n*.log\ndist/\n"
        );
        assert!(ignore(d.path(), &["dist/"]).unwrap().is_empty());
    }

    #[test]
    fn go_mains_are_found_under_cmd() {
        let d = tempfile::tempdir().unwrap();
        for n in ["b", "a"] {
            std::fs::create_dir_all(d.path().join("cmd").join(n)).unwrap();
            std::fs::write(d.path().join("cmd").join(n).join("main.go"), "package main").unwrap();
        }
        assert_eq!(
            go_mains(d.path()),
            vec![
                ("a".into(), "./cmd/a".into()),
                ("b".into(), "./cmd/b".into())
            ]
        );
        assert_eq!(plural(2, "binary"), "2 binaries");
    }
}
