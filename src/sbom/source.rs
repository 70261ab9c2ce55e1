//! What a source archive is made of: the modules and crates its manifests pin, read from
//! the committed `go.mod`/`go.sum` and `Cargo.lock` (no toolchain, no network).
//!
//! A source archive builds for every platform, so nothing is filtered by target: every module
//! `go.mod` requires (indirect ones included: since Go 1.17 they are the modules that provide
//! the build's packages) with `replace` directives applied and its `h1:` sum from `go.sum`,
//! and every package of `Cargo.lock` from a registry or git, with its checksum. The main
//! components are the Go module and the workspace's own crates.

use super::Component;
use std::collections::BTreeMap;

/// The main module and the dependencies of a `go.mod`, with `go.sum`'s sums; `version` is
/// the main module's (the release tag).
pub fn go(go_mod: &str, go_sum: &str, version: &str) -> (Vec<Component>, Vec<Component>) {
    let mut module = None;
    let mut requires: Vec<(String, String)> = vec![];
    // (path, version or "" for every version) → (new path, new version); a local path
    // replacement has no version and is not a module of its own.
    let mut replaces: BTreeMap<(String, String), Option<(String, String)>> = BTreeMap::new();
    let mut block = "";
    for raw in go_mod.lines() {
        let line = raw.split("//").next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = "";
            continue;
        }
        let (verb, rest) = if block.is_empty() {
            let (v, r) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let r = r.trim();
            if r == "(" {
                block = match v {
                    "require" => "require",
                    "replace" => "replace",
                    _ => "other",
                };
                continue;
            }
            (v, r)
        } else {
            (block, line)
        };
        let words: Vec<String> = rest.split_whitespace().map(unquote).collect();
        match verb {
            "module" => module = words.first().cloned(),
            "require" if words.len() >= 2 => requires.push((words[0].clone(), words[1].clone())),
            "replace" => {
                let Some(arrow) = words.iter().position(|w| w == "=>") else {
                    continue;
                };
                let old = (
                    words[0].clone(),
                    words
                        .get(1)
                        .filter(|_| arrow == 2)
                        .cloned()
                        .unwrap_or_default(),
                );
                let new = match &words[arrow + 1..] {
                    [path, v] => Some((path.clone(), v.clone())),
                    _ => None,
                };
                replaces.insert(old, new);
            }
            _ => {}
        }
    }
    let sums = go_sums(go_sum);
    let deps = requires
        .into_iter()
        .filter_map(|(path, v)| {
            let key = (path.clone(), v.clone());
            let to = match replaces
                .get(&key)
                .or_else(|| replaces.get(&(path.clone(), String::new())))
            {
                Some(Some(to)) => to.clone(),
                Some(None) => return None,
                None => key,
            };
            Some(Component {
                ecosystem: "golang",
                checksum: sums.get(&to).cloned(),
                name: to.0,
                version: to.1,
            })
        })
        .collect();
    let main = module
        .map(|m| Component {
            ecosystem: "golang",
            name: m,
            version: version.to_string(),
            checksum: None,
        })
        .into_iter()
        .collect();
    (main, super::distinct(deps))
}

/// A `go.mod` word without its quotes (paths may be quoted).
fn unquote(w: &str) -> String {
    w.trim_matches(|c| c == '"' || c == '`').to_string()
}

/// `(module, version) → h1:…` from `go.sum` (the module's own line, not its `/go.mod` line).
fn go_sums(text: &str) -> BTreeMap<(String, String), String> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (m, v, h) = (w.next()?, w.next()?, w.next()?);
            (!v.ends_with("/go.mod")).then(|| ((m.to_string(), v.to_string()), h.to_string()))
        })
        .collect()
}

/// The workspace's own crates and the dependencies `Cargo.lock` pins.
pub fn cargo(lock: &str) -> (Vec<Component>, Vec<Component>) {
    let (mut main, mut deps) = (vec![], vec![]);
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut flush = |fields: &mut BTreeMap<String, String>| {
        if let (Some(name), Some(version)) = (fields.get("name"), fields.get("version")) {
            let c = Component {
                ecosystem: "cargo",
                name: name.clone(),
                version: version.clone(),
                checksum: fields.get("checksum").cloned(),
            };
            if fields.contains_key("source") {
                deps.push(c);
            } else {
                main.push(c);
            }
        }
        fields.clear();
    };
    let mut in_package = false;
    for line in lock.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            flush(&mut fields);
            in_package = l == "[[package]]";
            continue;
        }
        if !in_package {
            continue;
        }
        if let Some((k, v)) = l.split_once('=') {
            let k = k.trim();
            if ["name", "version", "source", "checksum"].contains(&k) {
                fields.insert(k.to_string(), v.trim().trim_matches('"').to_string());
            }
        }
    }
    flush(&mut fields);
    (super::distinct(main), super::distinct(deps))
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_mod_requires_with_replacements_and_sums() {
        let go_mod = "module example.com/tool\n\ngo 1.22\n\nrequire github.com/a/b v1.2.0\n\nrequire (\n\tgolang.org/x/sys v0.20.0 // indirect\n\t\"github.com/c/d\" v0.1.0\n\tgithub.com/local/thing v0.0.0\n)\n\nreplace github.com/c/d => github.com/fork/d v0.1.1\n\nreplace (\n\tgithub.com/local/thing => ../thing\n)\n";
        let go_sum = "github.com/a/b v1.2.0 h1:AAA=\ngithub.com/a/b v1.2.0/go.mod h1:BBB=\ngithub.com/fork/d v0.1.1 h1:DDD=\ngolang.org/x/sys v0.20.0/go.mod h1:SYSMOD=\n";
        let (main, deps) = super::go(go_mod, go_sum, "v1.0.0");
        assert_eq!(main.len(), 1);
        assert_eq!(main[0].purl(), "pkg:golang/example.com/tool@v1.0.0");
        let got: Vec<(String, Option<String>)> = deps
            .iter()
            .map(|c| (c.purl(), c.checksum.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "pkg:golang/github.com/a/b@v1.2.0".to_string(),
                    Some("h1:AAA=".to_string())
                ),
                (
                    "pkg:golang/github.com/fork/d@v0.1.1".to_string(),
                    Some("h1:DDD=".to_string())
                ),
                ("pkg:golang/golang.org/x/sys@v0.20.0".to_string(), None),
            ]
        );
    }

    #[test]
    fn cargo_lock_splits_workspace_crates_from_dependencies() {
        let lock = "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"abc\"\ndependencies = [\n \"serde_derive\",\n]\n\n[[package]]\nname = \"tool\"\nversion = \"0.3.0\"\ndependencies = [\n \"serde\",\n]\n\n[[package]]\nname = \"gitdep\"\nversion = \"0.1.0\"\nsource = \"git+https://example.com/g#abcdef\"\n\n[metadata]\nx = \"y\"\n";
        let (main, deps) = super::cargo(lock);
        assert_eq!(
            main.iter().map(|c| c.purl()).collect::<Vec<_>>(),
            ["pkg:cargo/tool@0.3.0"]
        );
        assert_eq!(
            deps.iter()
                .map(|c| (c.purl(), c.checksum.clone()))
                .collect::<Vec<_>>(),
            [
                ("pkg:cargo/gitdep@0.1.0".to_string(), None),
                (
                    "pkg:cargo/serde@1.0.200".to_string(),
                    Some("abc".to_string())
                ),
            ]
        );
    }
}
