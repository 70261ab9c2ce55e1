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
    crate::stage::fill_ids(&mut config.nfpms, |n| &mut n.id);
    for n in config.nfpms.iter_mut() {
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
                    format!("remove it; rel writes {}", WRITTEN.join(", ")),
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
        formats_blocks(c, n, &base);
        let mut lists: Vec<(Vec<Seg>, &Vec<crate::config::NfpmContent>)> =
            vec![(base(&["contents".into()]), &n.contents)];
        for (format, o) in &n.overrides {
            if let Some(list) = &o.contents {
                lists.push((
                    base(&[
                        "overrides".into(),
                        format.as_str().into(),
                        "contents".into(),
                    ]),
                    list,
                ));
            }
        }
        for (at_list, list) in lists {
            contents(c, &at_list, list);
        }
    }
}

/// The known formats, for the per-format keys.
const FORMATS: &[&str] = &["deb", "rpm", "apk", "archlinux"];

/// `overrides`, `deb`, `rpm`, `apk` and `archlinux` of one entry.
fn formats_blocks(c: &mut Checker, n: &crate::config::Nfpm, base: &dyn Fn(&[Seg]) -> Vec<Seg>) {
    for format in n.overrides.keys() {
        if !FORMATS.contains(&format.as_str()) {
            c.push(
                base(&["overrides".into(), format.as_str().into()]),
                format!("`overrides.{format}` names no package format"),
                Some(
                    did_you_mean(format, FORMATS.iter().copied())
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| format!("formats: {}", FORMATS.join(", "))),
                ),
            );
        }
    }
    for (at, value, allowed) in [
        (
            "deb",
            &n.deb.compression,
            &["gzip", "xz", "zstd", "none"][..],
        ),
        ("rpm", &n.rpm.compression, &["gzip", "xz", "zstd"][..]),
        (
            "deb",
            &n.deb.signature.kind,
            &["origin", "maint", "archive"][..],
        ),
        ("deb", &n.deb.signature.method, &["debsign"][..]),
    ] {
        if let Some(v) = value
            && !allowed.contains(&v.as_str())
        {
            let key = if allowed.contains(&"origin") {
                "signature.type"
            } else if allowed.contains(&"debsign") {
                "signature.method"
            } else {
                "compression"
            };
            let mut path = vec![Seg::from(at)];
            path.extend(key.split('.').map(Seg::from));
            c.push(
                base(&path),
                format!("`{at}.{key}: {v}` is not one rel writes"),
                Some(format!("use one of: {}", allowed.join(", "))),
            );
        }
    }
    if !n.rpm.prefixes.is_empty() {
        c.push(
            base(&["rpm".into(), "prefixes".into()]),
            "rel does not write relocatable rpm packages".to_string(),
            Some("remove `prefixes`; the package installs at its absolute paths".into()),
        );
    }
    for (format, sig) in [
        ("deb", &n.deb.signature),
        ("rpm", &n.rpm.signature),
        ("apk", &n.apk.signature),
    ] {
        let at = |k: &str| base(&[format.into(), "signature".into(), k.into()]);
        if let Some(f) = &sig.key_file {
            c.template(at("key_file"), f, &globals());
        } else if sig.key_id.is_some() || sig.key_name.is_some() {
            c.push(
                at("key_file"),
                format!("`{format}.signature` names no `key_file`"),
                Some("set `key_file` to the secret key (a file, or the key's text)".into()),
            );
        }
        if sig.key_name.is_some() && format != "apk" {
            c.push(
                at("key_name"),
                "`key_name` is for apk signatures".to_string(),
                None,
            );
        }
        if sig.key_id.is_some() && format == "apk" {
            c.push(
                at("key_id"),
                "apk signatures take no `key_id`".to_string(),
                None,
            );
        }
    }
}

/// One `contents` list.
fn contents(c: &mut Checker, at_list: &[Seg], list: &[crate::config::NfpmContent]) {
    {
        let mut dsts = HashSet::new();
        for (j, content) in list.iter().enumerate() {
            let at = |k: &str| {
                let mut v = at_list.to_vec();
                v.push(j.into());
                v.push(k.into());
                v
            };
            let kind = content.kind.as_deref().unwrap_or("file");
            if !matches!(
                kind,
                "file"
                    | "config"
                    | "config|noreplace"
                    | "dir"
                    | "tree"
                    | "symlink"
                    | "doc"
                    | "license"
                    | "readme"
                    | "ghost"
            ) {
                c.push(
                    at("type"),
                    format!("unknown content type `{kind}`"),
                    Some(
                        "use file, config, config|noreplace, dir, tree, symlink, doc, license, readme or ghost"
                            .into(),
                    ),
                );
            }
            if let Some(f) = &content.packager
                && !FORMATS.contains(&f.as_str())
            {
                c.push(
                    at("packager"),
                    format!("`packager: {f}` names no package format"),
                    Some(format!("formats: {}", FORMATS.join(", "))),
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
            } else if !dsts.insert((dst.clone(), content.packager.clone())) && !dst.ends_with('/') {
                c.push(
                    at("dst"),
                    format!("two contents would be installed at {dst}"),
                    None,
                );
            }
            if !matches!(kind, "dir" | "ghost") && content.src.trim().is_empty() {
                c.push(at("src"), "`src` is empty".to_string(), None);
            }
            c.template(at("dst"), dst, &per_target());
            c.template(at("src"), &content.src, &per_target());
        }
    }
}
