//! The `archives` section: its defaults and its checks, run by `rel check` and every run.

use crate::config::locate::Seg;
use crate::config::validate::{Checker, per_target};
use crate::config::{Archive, ArchiveFile, Config, Format, Wrap};
use crate::plan::matrix;
use crate::suggest::did_you_mean;
use std::collections::{BTreeMap, HashSet};

/// One `tar.gz` archive of every build when there is none; ids, formats and names.
pub fn defaults(config: &mut Config) {
    if config.archives.is_empty() {
        config.archives.push(Archive::default());
    }
    crate::stage::fill_ids(&mut config.archives, |a| &mut a.id);
    for a in config.archives.iter_mut() {
        if a.formats.is_empty() {
            a.formats.push(Format::TarGz);
        }
        if a.name_template.is_none() {
            a.name_template = Some(super::DEFAULT_NAME.into());
        }
    }
}

/// Every problem of `archives`.
pub fn check(c: &mut Checker) {
    let config = c.config;
    let per_target = per_target();
    let mut archive_ids = HashSet::new();
    for (i, a) in config.archives.iter().enumerate() {
        let base = |rest: &[Seg]| {
            let mut v = vec![Seg::from("archives"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        let id = a.id.clone().unwrap_or_default();
        if !archive_ids.insert(id.clone()) {
            c.push(
                base(&["id".into()]),
                format!("duplicate archive id `{id}`"),
                Some("give each archive its own `id`".into()),
            );
        }
        c.build_ids(&base(&[]), &a.builds, "archive");
        for (j, o) in a.format_overrides.iter().enumerate() {
            let known = crate::target::known_goos();
            if !known.contains(&o.goos.as_str()) {
                let hint = did_you_mean(&o.goos, known.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                c.push(
                    base(&["format_overrides".into(), j.into(), "goos".into()]),
                    format!("unknown goos `{}`", o.goos),
                    hint,
                );
            }
        }
        if let Some(t) = &a.name_template {
            c.template(base(&["name_template".into()]), t, &per_target);
        }
        if let Wrap::Name(t) = &a.wrap_in_directory {
            c.template(base(&["wrap_in_directory".into()]), t, &per_target);
        }
        let gz = a.formats.contains(&Format::Gz)
            || a.format_overrides
                .iter()
                .any(|o| o.formats.contains(&Format::Gz));
        if gz && a.files.as_ref().is_some_and(|f| !f.is_empty()) {
            c.push(
                base(&["files".into()]),
                "the gz format holds the binary alone, so `files` cannot go in it".to_string(),
                Some("use tar.gz for the files, or `files: []`".into()),
            );
        }
        one_binary_per_gz(c, i, a);
        for (j, f) in a.files.iter().flatten().enumerate() {
            let (src, dst, at) = match f {
                ArchiveFile::Glob(g) => (g.as_str(), None, base(&["files".into(), j.into()])),
                ArchiveFile::Spec(s) => (
                    s.src.as_str(),
                    s.dst.as_deref(),
                    base(&["files".into(), j.into(), "src".into()]),
                ),
            };
            if let Err(m) = crate::fileset::check_pattern(src, dst) {
                c.push(at, m, None);
            }
        }
    }
}

/// A `gz` file holds one binary, so two builds of `archives[i]` with a target in common cannot
/// share one. Found here from the builds' matrices, so `rel check` points at the `formats`
/// line that asks for gz; darwin binaries a universal binary replaces are left to the plan,
/// which refuses what only it sees.
fn one_binary_per_gz(c: &mut Checker, i: usize, a: &Archive) {
    let config = c.config;
    let gz = a.formats.contains(&Format::Gz)
        || a.format_overrides
            .iter()
            .any(|o| o.formats.contains(&Format::Gz));
    if !gz {
        return;
    }
    let replaced: HashSet<&str> = config
        .universal_binaries
        .iter()
        .filter(|u| u.replace)
        .flat_map(|u| u.ids.iter().map(String::as_str))
        .collect();
    // Target name → its goos and the ids of the builds that have it.
    let mut targets: BTreeMap<String, (String, Vec<&str>)> = BTreeMap::new();
    for b in config.builds.iter().filter(|b| !b.skip) {
        let Some(id) = b.id.as_deref() else { continue };
        if !a.builds.is_empty() && !a.builds.iter().any(|x| x == id) {
            continue;
        }
        for t in matrix::expand(b).unwrap_or_default() {
            if t.os == "darwin" && replaced.contains(id) {
                continue;
            }
            targets
                .entry(t.name())
                .or_insert_with(|| (t.os.clone(), vec![]))
                .1
                .push(id);
        }
    }
    // One problem per `formats` line, naming the first target that breaks it.
    let mut reported = HashSet::new();
    for (target, (os, ids)) in &targets {
        if ids.len() < 2 {
            continue;
        }
        let over = a.format_overrides.iter().position(|o| &o.goos == os);
        let (at, formats) = match over {
            Some(j) => (
                vec![
                    "archives".into(),
                    i.into(),
                    "format_overrides".into(),
                    j.into(),
                    "formats".into(),
                ],
                &a.format_overrides[j].formats,
            ),
            None => (
                vec!["archives".into(), i.into(), "formats".into()],
                &a.formats,
            ),
        };
        if formats.contains(&Format::Gz) && reported.insert(over) {
            c.push(
                at,
                format!(
                    "the gz format holds one binary, but {target} has {} here ({})",
                    ids.len(),
                    ids.join(", ")
                ),
                Some("use tar.gz, or one build per archive (`builds: [id]`)".into()),
            );
        }
    }
}
