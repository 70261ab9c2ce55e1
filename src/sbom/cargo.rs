//! The dependencies of a Rust binary for one target, as cargo resolves them:
//! `cargo metadata --filter-platform <triple>` gives the graph with platform-specific
//! dependencies already chosen, and the walk from the binary's package keeps normal
//! dependencies only (build scripts and dev-dependencies do not ship). Checksums come from
//! `Cargo.lock`, whose `[[package]]` tables are read line by line (three keys; no TOML
//! library is needed for them).

use super::Component;
use crate::error::{Error, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `(name, version) → checksum` from a `Cargo.lock`.
fn lock_checksums(text: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let (mut name, mut version, mut sum) = (String::new(), String::new(), String::new());
    let value = |l: &str| {
        l.split_once('=')
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
            .unwrap_or_default()
    };
    for line in text.lines().chain(std::iter::once("[[package]]")) {
        let l = line.trim();
        if l == "[[package]]" {
            if !sum.is_empty() {
                out.insert((name.clone(), version.clone()), sum.clone());
            }
            name.clear();
            version.clear();
            sum.clear();
        } else if l.starts_with("name =") {
            name = value(l);
        } else if l.starts_with("version =") {
            version = value(l);
        } else if l.starts_with("checksum =") {
            sum = value(l);
        }
    }
    out
}

/// The main crate and the dependencies of binary `bin` built for `triple` from the cargo
/// project in `dir`.
pub fn components(
    dir: &Path,
    bin: Option<&str>,
    triple: &str,
) -> Result<(Vec<Component>, Vec<Component>)> {
    let out = std::process::Command::new("cargo")
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--filter-platform",
            triple,
        ])
        .current_dir(dir)
        .output()
        .map_err(|e| Error::Failed(format!("cannot run `cargo metadata`: {e}")))?;
    if !out.status.success() {
        return Err(Error::Failed(format!(
            "`cargo metadata --filter-platform {triple}` failed in {}:\n{}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let meta: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::Failed(format!("cannot read `cargo metadata` output: {e}")))?;
    let packages: BTreeMap<&str, &Value> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let has_bin = |p: &Value, name: &str| {
        p["targets"].as_array().into_iter().flatten().any(|t| {
            t["name"] == name
                && t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|x| x == "bin"))
        })
    };
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
        .collect();
    let root = members
        .iter()
        .copied()
        .find(|id| bin.is_none_or(|b| packages.get(id).is_some_and(|p| has_bin(p, b))))
        .or_else(|| meta["resolve"]["root"].as_str())
        .ok_or_else(|| {
            Error::Failed(format!(
                "no package of {} builds that binary",
                dir.display()
            ))
        })?;
    let nodes: BTreeMap<&str, &Value> = meta["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut seen = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(id) = todo.pop() {
        let Some(node) = nodes.get(id) else { continue };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if let Some(pkg) = dep["pkg"].as_str()
                && normal
                && seen.insert(pkg)
            {
                todo.push(pkg);
            }
        }
    }
    let lock = std::fs::read_to_string(
        meta["workspace_root"]
            .as_str()
            .map(|r| Path::new(r).join("Cargo.lock"))
            .unwrap_or_else(|| dir.join("Cargo.lock")),
    )
    .unwrap_or_default();
    let sums = lock_checksums(&lock);
    let component = |id: &str| -> Option<Component> {
        let p = packages.get(id)?;
        let name = p["name"].as_str()?.to_string();
        let version = p["version"].as_str()?.to_string();
        Some(Component {
            ecosystem: "cargo",
            checksum: sums.get(&(name.clone(), version.clone())).cloned(),
            name,
            version,
        })
    };
    let main = component(root).into_iter().collect();
    let deps = seen.into_iter().filter_map(component).collect();
    Ok((main, super::distinct(deps)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_lock_checksums() {
        let lock = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+x\"\nchecksum = \"abc\"\n\n[[package]]\nname = \"local\"\nversion = \"0.1.0\"\n";
        let sums = super::lock_checksums(lock);
        assert_eq!(sums.len(), 1);
        assert_eq!(sums[&("a".into(), "1.0.0".into())], "abc");
    }
}
