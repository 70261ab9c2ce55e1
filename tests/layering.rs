//! The import rules of ARCHITECTURE.md, checked on the source: no stage imports another
//! stage, the config imports no stage, plan, context or pipeline, only the command layer
//! knows the command line, and the modules form no circle.
//!
//! Every `crate::…` and `super::…` path in `src/` is an edge from the file's module to the
//! module it names (a stage counts as `stage::NAME`, everything else by its top-level name).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The node a file belongs to: `stage::archive` for `src/stage/archive/writer.rs`, `stage`
/// for `src/stage/mod.rs`, `config` for `src/config/load.rs`.
fn node_of(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.as_slice() {
        [one] => one.clone(),
        [first, second, ..] if first == "stage" && second != "mod" => format!("stage::{second}"),
        [first, ..] => first.clone(),
        [] => unreachable!(),
    }
}

/// The module path of a file: `["stage", "archive", "writer"]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut v: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if v.last().is_some_and(|l| l == "mod" || l == "lib") {
        v.pop();
    }
    v
}

/// The stage modules: every file and folder in `src/stage` but `mod.rs`.
fn stage_modules() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/stage");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .filter(|n| n != "mod")
        .collect()
}

/// A path's target node: the first segment, or `stage::X` for a stage module's items.
fn node_of_path(segs: &[String], stages: &BTreeSet<String>) -> Option<String> {
    let first = segs.first()?;
    if first == "stage" {
        return Some(match segs.get(1) {
            Some(s) if stages.contains(s) => format!("stage::{s}"),
            _ => "stage".into(),
        });
    }
    Some(first.clone())
}

/// Code without comments and string literals (so doc text naming a module is no edge).
fn strip(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // a char literal such as '"'
            out.push_str("' '");
            i += 3;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Every path that starts with `crate::` or `super::` in `code`, resolved to absolute
/// segments; `use a::{b, c::{d}}` groups are expanded.
fn paths(code: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![];
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let boundary = i == 0
            || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
        if boundary && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let (list, end) = parse_tree(&chars, i);
            for p in list {
                if let Some(abs) = resolve(&p, here) {
                    out.push(abs);
                }
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Parse `a::b::{c, d::e}` from `i`: every leaf path, and where parsing stopped.
fn parse_tree(c: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix: Vec<String> = vec![];
    loop {
        let start = i;
        while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
            i += 1;
        }
        if i > start {
            prefix.push(c[start..i].iter().collect());
        }
        if i + 1 < c.len() && c[i] == ':' && c[i + 1] == ':' {
            i += 2;
            while i < c.len() && c[i].is_whitespace() {
                i += 1;
            }
            if i < c.len() && c[i] == '{' {
                i += 1;
                let mut all = vec![];
                loop {
                    while i < c.len() && (c[i].is_whitespace() || c[i] == ',') {
                        i += 1;
                    }
                    if i >= c.len() || c[i] == '}' {
                        break;
                    }
                    let (sub, end) = parse_tree(c, i);
                    for s in sub {
                        let mut p = prefix.clone();
                        p.extend(s);
                        all.push(p);
                    }
                    i = end;
                    // skip ` as name`
                    while i < c.len() && c[i] != ',' && c[i] != '}' {
                        i += 1;
                    }
                }
                return (all, i + 1);
            }
            continue;
        }
        return (vec![prefix], i);
    }
}

fn resolve(p: &[String], here: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = here.to_vec();
    let mut rest = p;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().filter(|s| *s != "self").cloned());
    Some(base)
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module graph of `src/`: node → (node it imports → a file and path that shows it).
fn graph() -> BTreeMap<String, BTreeMap<String, String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    rs_files(&src, &mut files);
    let stages = stage_modules();
    let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap().to_path_buf();
        if rel == Path::new("main.rs") || rel == Path::new("lib.rs") {
            continue;
        }
        let from = node_of(&rel);
        let here = module_path(&rel);
        let code = strip(&std::fs::read_to_string(&f).unwrap());
        // Unit tests may reach anywhere.
        let code = match code.find("#[cfg(test)]") {
            Some(i) => &code[..i],
            None => &code,
        };
        let entry = g.entry(from.clone()).or_default();
        for p in paths(code, &here) {
            if let Some(to) = node_of_path(&p, &stages)
                && to != from
            {
                entry
                    .entry(to)
                    .or_insert_with(|| format!("{} ({})", rel.display(), p.join("::")));
            }
        }
    }
    g
}

#[test]
fn no_stage_imports_another_stage() {
    let mut bad = vec![];
    for (from, tos) in graph() {
        if !from.starts_with("stage::") {
            continue;
        }
        for (to, at) in tos {
            if to.starts_with("stage::") {
                bad.push(format!("{from} -> {to}: {at}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "stages import each other:\n{}",
        bad.join("\n")
    );
}

#[test]
fn lower_layers_do_not_import_upper_ones() {
    // What each module may never import (ARCHITECTURE.md, "Layers").
    let upper = ["commands", "pipeline", "cli", "ci", "split", "init"];
    let rules: Vec<(&str, Vec<&str>)> = vec![
        (
            "config",
            [&["stage", "plan", "context", "artifact"][..], &upper].concat(),
        ),
        (
            "plan",
            [&["stage", "context", "artifact"][..], &upper].concat(),
        ),
        ("context", [&["stage"][..], &upper].concat()),
        (
            "artifact",
            [&["stage", "context", "plan", "config"][..], &upper].concat(),
        ),
        (
            "changelog",
            [&["stage", "context", "plan"][..], &upper].concat(),
        ),
        (
            "template",
            [&["config", "stage", "context", "plan"][..], &upper].concat(),
        ),
        (
            "fileset",
            [&["stage", "context", "plan"][..], &upper].concat(),
        ),
        (
            "hash",
            [&["stage", "context", "plan", "dist"][..], &upper].concat(),
        ),
        (
            "options",
            [&["stage", "context", "plan", "config"][..], &upper].concat(),
        ),
        (
            "target",
            [&["stage", "context", "plan", "config"][..], &upper].concat(),
        ),
        // `rel verify` reads the published release from the outside: it shares the helper
        // modules with the stages (github, oci, keys, git_remote), never a stage itself.
        ("verify", [&["stage"][..], &upper].concat()),
    ];
    let g = graph();
    let mut bad = vec![];
    for (from, tos) in &g {
        let base = from.split("::").next().unwrap();
        let forbidden: Vec<&str> = rules
            .iter()
            .filter(|(m, _)| *m == base)
            .flat_map(|(_, f)| f.iter().copied())
            .chain(if from.starts_with("stage") {
                upper.to_vec()
            } else {
                vec![]
            })
            .collect();
        for (to, at) in tos {
            let tbase = to.split("::").next().unwrap();
            if forbidden.contains(&tbase) {
                bad.push(format!("{from} -> {to}: {at}"));
            }
        }
    }
    assert!(bad.is_empty(), "layering broken:\n{}", bad.join("\n"));
    // Only the command layer reads the command line.
    for (from, tos) in &g {
        if tos.contains_key("cli") {
            assert_eq!(from, "commands", "{from} imports cli: {}", tos["cli"]);
        }
    }
}

#[test]
fn modules_form_no_circle() {
    let g = graph();
    // Depth-first search; a grey node reached again closes a circle.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeMap<String, String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        found: &mut BTreeSet<String>,
    ) {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for to in g
            .get(n)
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            match state.get(&to).copied().unwrap_or(0) {
                0 => visit(&to, g, state, stack, found),
                1 => {
                    let i = stack.iter().position(|s| *s == to).unwrap();
                    let mut cycle: Vec<String> = stack[i..].to_vec();
                    cycle.push(to.clone());
                    let shown: Vec<String> = cycle
                        .windows(2)
                        .map(|w| format!("{} -> {} [{}]", w[0], w[1], g[&w[0]][&w[1]]))
                        .collect();
                    found.insert(shown.join("\n  "));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    let mut found = BTreeSet::new();
    for n in g.keys() {
        if state.get(n).copied().unwrap_or(0) == 0 {
            visit(n, &g, &mut state, &mut vec![], &mut found);
        }
    }
    assert!(
        found.is_empty(),
        "import circles:\n  {}",
        found.into_iter().collect::<Vec<_>>().join("\n\n  ")
    );
}

#[test]
fn the_parser_sees_grouped_and_relative_imports() {
    let here: Vec<String> = vec!["stage".into(), "checksum".into()];
    let code = strip(
        "use crate::{a::B, stage::{archive::x, Stage}};\nlet s = \"crate::nope\"; // crate::no\nsuper::publish::f();",
    );
    let got: Vec<String> = paths(&code, &here).iter().map(|p| p.join("::")).collect();
    assert_eq!(
        got,
        [
            "a::B",
            "stage::archive::x",
            "stage::Stage",
            "stage::publish::f"
        ]
    );
    assert_eq!(
        node_of(Path::new("stage/archive/writer.rs")),
        "stage::archive"
    );
    assert_eq!(node_of(Path::new("stage/mod.rs")), "stage");
    assert_eq!(node_of(Path::new("config/load.rs")), "config");
}
