//! The vendored dependencies of a source archive: `go mod vendor` and `cargo vendor` run in a
//! temporary copy of exactly what the source archive holds, never in the user's checkout.
//!
//! What the vendor archive holds, below the source archive's prefix, so that unpacking both
//! into one folder gives a tree that builds offline:
//! - Go (a `go.mod` at the project root): `vendor/`, with `vendor/modules.txt`
//!   (`go build -mod=vendor`, the default when `vendor/` is present).
//! - Rust (a `Cargo.toml`): the crates in `vendor/` (`vendor-cargo/` when the project is also
//!   a Go module, whose `vendor/` is Go's and which `go mod vendor` replaces whole), and
//!   `.cargo/config.toml` with the `[source]` replacement `cargo vendor` prints, after the
//!   commit's own `.cargo/config.toml` when there is one; and `Cargo.lock` when the commit
//!   has none, since the vendored crates are the versions of that resolution.

use super::writer::{Item, Kind, Source};
use crate::context::Context;
use crate::error::{Error, IoContext, Result};
use crate::exec::{Invocation, run};
use std::path::Path;

/// The tools a project root needs, from the names at the top of the commit's tree: `go`
/// for `go.mod`, `cargo` for `Cargo.toml`, in that order.
pub fn tools(top_level: &[&str]) -> Vec<String> {
    let mut out = vec![];
    if top_level.contains(&"go.mod") {
        out.push("go".to_string());
    }
    if top_level.contains(&"Cargo.toml") {
        out.push("cargo".to_string());
    }
    out
}

/// Where `cargo vendor` puts the crates.
pub fn cargo_dir(tools: &[String]) -> &'static str {
    if tools.iter().any(|t| t == "go") {
        "vendor-cargo"
    } else {
        "vendor"
    }
}

/// Run every tool in `tree` (a temporary copy of the source) and list what the vendor
/// archive holds: paths relative to the project root, each with what it is.
/// `committed` says whether the commit has a path (`Cargo.lock`, `.cargo/config.toml`).
pub fn vendor(
    ctx: &Context,
    tree: &Path,
    tools: &[String],
    committed: &dyn Fn(&str) -> bool,
    mtime: i64,
) -> Result<Vec<Item>> {
    let env: Vec<(String, String)> = ctx
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        // A go.work above the temporary folder must not pull other modules in.
        .filter(|(k, _)| k != "GOWORK")
        .chain(std::iter::once(("GOWORK".to_string(), "off".to_string())))
        .collect();
    let inv = |argv: &[&str]| Invocation {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: env.clone(),
        dir: tree.to_path_buf(),
        stdin: None,
    };
    let mut roots: Vec<String> = vec![];
    for tool in tools {
        match tool.as_str() {
            "go" => {
                let i = inv(&["go", "mod", "vendor"]);
                tracing::debug!("source: {}", i.shell_line());
                run(
                    "source.vendor: go mod vendor",
                    &i,
                    &ctx.cancel,
                    ctx.options.deadline,
                )?;
                // A module without dependencies gets no vendor/ (go says so and writes none).
                if tree.join("vendor").is_dir() {
                    roots.push("vendor".into());
                }
            }
            "cargo" => {
                let dir = cargo_dir(tools);
                let mut argv = vec!["cargo", "vendor"];
                if committed("Cargo.lock") {
                    // The commit's resolution, or an error: never a silently newer one.
                    argv.push("--locked");
                }
                argv.push(dir);
                let i = inv(&argv);
                tracing::debug!("source: {}", i.shell_line());
                let out = run(
                    "source.vendor: cargo vendor",
                    &i,
                    &ctx.cancel,
                    ctx.options.deadline,
                )?;
                let snippet = config_snippet(&out).ok_or_else(|| {
                    Error::Failed(format!(
                        "source.vendor: `cargo vendor` printed no `[source.…]` configuration:\n{out}"
                    ))
                })?;
                let config = tree.join(".cargo/config.toml");
                let mut text = std::fs::read_to_string(&config).unwrap_or_default();
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&snippet);
                std::fs::create_dir_all(tree.join(".cargo")).ctx("cannot create", tree)?;
                std::fs::write(&config, text).ctx("cannot write", &config)?;
                roots.push(dir.into());
                roots.push(".cargo/config.toml".into());
                if !committed("Cargo.lock") {
                    roots.push("Cargo.lock".into());
                }
            }
            other => unreachable!("unknown vendoring tool {other}"),
        }
    }
    let mut items = vec![];
    for r in roots {
        collect(tree, &tree.join(&r), mtime, &mut items)?;
    }
    Ok(items)
}

/// The TOML `cargo vendor` prints for `.cargo/config.toml`: from its first `[source` table
/// to the end, with a trailing newline.
fn config_snippet(out: &str) -> Option<String> {
    let start = out.find("[source")?;
    let mut s = out[start..].trim_end().to_string();
    s.push('\n');
    Some(s)
}

/// Every file, folder and link at or below `path`, as items named relative to `tree`.
fn collect(tree: &Path, path: &Path, mtime: i64, out: &mut Vec<Item>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for e in walkdir::WalkDir::new(path)
        .follow_links(false)
        .sort_by_file_name()
    {
        let e = e.map_err(|e| {
            Error::Failed(format!(
                "source.vendor: cannot read {}: {e}",
                path.display()
            ))
        })?;
        let rel = e
            .path()
            .strip_prefix(tree)
            .unwrap_or(e.path())
            .to_str()
            .ok_or_else(|| {
                Error::Failed(format!(
                    "source.vendor: {} is not UTF-8",
                    e.path().display()
                ))
            })?
            .to_string();
        let ft = e.file_type();
        let (kind, executable) = if ft.is_dir() {
            (Kind::Dir, false)
        } else if ft.is_symlink() {
            let target = std::fs::read_link(e.path()).ctx("cannot read the link", e.path())?;
            (Kind::Symlink(target.to_string_lossy().into_owned()), false)
        } else {
            let mode = e.metadata().map(|m| m.permissions().mode()).unwrap_or(0);
            (
                Kind::File(Source::Disk(e.path().to_path_buf())),
                mode & 0o111 != 0,
            )
        };
        out.push(Item::new(rel, kind, executable, mtime));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_and_folders_follow_the_project_files() {
        assert_eq!(tools(&["go.mod", "main.go"]), ["go"]);
        assert_eq!(tools(&["Cargo.toml", "go.mod"]), ["go", "cargo"]);
        assert!(tools(&["README.md"]).is_empty());
        assert_eq!(cargo_dir(&["cargo".into()]), "vendor");
        assert_eq!(cargo_dir(&["go".into(), "cargo".into()]), "vendor-cargo");
    }

    #[test]
    fn the_config_snippet_is_cut_from_cargos_output() {
        let out = "warning: something\n[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"vendor\"\n\n";
        assert_eq!(
            config_snippet(out).unwrap(),
            "[source.crates-io]\nreplace-with = \"vendored-sources\"\n\n[source.vendored-sources]\ndirectory = \"vendor\"\n"
        );
        assert_eq!(config_snippet("nothing"), None);
    }
}
