//! The `archives` section: its defaults and its checks, run by `rel check` and every run.

use crate::config::locate::Seg;
use crate::config::validate::{Checker, per_target};
use crate::config::{Archive, ArchiveFile, Config, Format, Wrap};
use crate::suggest::did_you_mean;
use std::collections::HashSet;

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
