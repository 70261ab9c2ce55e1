//! The `nfpms` section: its defaults and its checks, run by `rel check` and every run.

use super::{NOT_YET, WRITTEN};
use crate::config::Config;
use crate::config::locate::Seg;
use crate::config::validate::{Checker, globals, per_target};
use crate::stage::Defaults;
use crate::suggest::did_you_mean;
use std::collections::HashSet;

/// Ids, the `deb` format, the package name (the project's) and `release: 1`-less versions.
pub fn defaults(config: &mut Config, d: &Defaults) {
    let multi = config.nfpms.len() > 1;
    for (i, n) in config.nfpms.iter_mut().enumerate() {
        if n.id.is_none() {
            n.id = Some(if multi {
                format!("default-{i}")
            } else {
                "default".into()
            });
        }
        if n.formats.is_empty() {
            n.formats.push("deb".into());
        }
        if n.package_name.is_none() {
            n.package_name = Some(d.project_name.to_string());
        }
    }
}

/// Every problem of `nfpms`.
pub fn check(c: &mut Checker) {
    let config = c.config;
    let mut ids = HashSet::new();
    for (i, n) in config.nfpms.iter().enumerate() {
        let base = |rest: &[Seg]| {
            let mut v = vec![Seg::from("nfpms"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        let id = n.id.clone().unwrap_or_default();
        if !ids.insert(id.clone()) {
            c.push(
                base(&["id".into()]),
                format!("duplicate nfpms id `{id}`"),
                Some("give each package its own `id`".into()),
            );
        }
        c.build_ids(&base(&[]), &n.builds, "nfpms entry");
        for (j, f) in n.formats.iter().enumerate() {
            if WRITTEN.contains(&f.as_str()) {
                continue;
            }
            let (msg, hint) = if NOT_YET.contains(&f.as_str()) {
                (
                    format!("rel does not write `{f}` packages yet"),
                    "remove it; rel writes `deb` packages".to_string(),
                )
            } else {
                let all: Vec<&str> = WRITTEN.iter().chain(NOT_YET).copied().collect();
                (
                    format!("unknown package format `{f}`"),
                    did_you_mean(f, all.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| format!("formats: {}", WRITTEN.join(", "))),
                )
            };
            c.push(base(&["formats".into(), j.into()]), msg, Some(hint));
        }
        if let Some(name) = &n.package_name {
            c.template(base(&["package_name".into()]), name, &globals());
        }
        if let Some(t) = &n.file_name_template {
            let mut known = per_target();
            known.extend(["package_name", "conventional_file_name", "package_arch"]);
            c.template(base(&["file_name_template".into()]), t, &known);
        }
        for (key, v) in [("description", &n.description), ("homepage", &n.homepage)] {
            if let Some(t) = v {
                c.template(base(&[key.into()]), t, &globals());
            }
        }
        if let Some(b) = &n.bindir
            && !b.starts_with('/')
        {
            c.push(
                base(&["bindir".into()]),
                format!("`bindir: {b}` must be an absolute path"),
                Some("e.g. /usr/bin".into()),
            );
        }
        let mut dsts = HashSet::new();
        for (j, content) in n.contents.iter().enumerate() {
            let at = |k: &str| base(&["contents".into(), j.into(), k.into()]);
            let kind = content.kind.as_deref().unwrap_or("file");
            if !matches!(
                kind,
                "file" | "config" | "config|noreplace" | "dir" | "symlink"
            ) {
                c.push(
                    at("type"),
                    format!("unknown content type `{kind}`"),
                    Some("use file, config, config|noreplace, dir or symlink".into()),
                );
            }
            let dst = &content.dst;
            if !dst.starts_with('/') || dst.split('/').any(|s| s == "..") {
                c.push(
                    at("dst"),
                    format!(
                        "`dst: {dst}` must be an absolute path inside the system, without `..`"
                    ),
                    None,
                );
            } else if !dsts.insert(dst.clone()) && !dst.ends_with('/') {
                c.push(
                    at("dst"),
                    format!("two contents would be installed at {dst}"),
                    None,
                );
            }
            if kind != "dir" && content.src.trim().is_empty() {
                c.push(at("src"), "`src` is empty".to_string(), None);
            }
            c.template(at("dst"), dst, &globals());
            c.template(at("src"), &content.src, &globals());
        }
    }
}
