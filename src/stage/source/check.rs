//! The `source` section: its defaults and its checks, run by `rel check` and every run.

use crate::config::locate::Seg;
use crate::config::validate::{Checker, globals};
use crate::config::{ArchiveFile, Config, SourceFormat};

/// GoReleaser's default name, `{{ .ProjectName }}-{{ .Version }}`, in rel's template syntax.
pub const DEFAULT_NAME: &str = "{{ project_name }}-{{ version }}";

/// The name and the format, always written out so `dist/config.yaml` shows them.
pub fn defaults(config: &mut Config) {
    let s = &mut config.source;
    if s.name_template.is_none() {
        s.name_template = Some(DEFAULT_NAME.into());
    }
    if s.format.is_none() {
        s.format = Some(SourceFormat::TarGz);
    }
}

/// Every problem of `source`: templates, `files` globs and destinations, `info.mtime`, and
/// `vendor` without `enabled`.
pub fn check(c: &mut Checker) {
    let s = &c.config.source;
    let known = globals();
    let at = |rest: &[Seg]| {
        let mut v = vec![Seg::from("source")];
        v.extend_from_slice(rest);
        v
    };
    if let Some(t) = &s.name_template {
        c.template(at(&["name_template".into()]), t, &known);
    }
    if let Some(t) = &s.prefix_template {
        c.template(at(&["prefix_template".into()]), t, &known);
    }
    if s.vendor && !s.enabled {
        c.push(
            at(&["vendor".into()]),
            "`source.vendor` is set but `source.enabled` is not: no source archive is written, so nothing is vendored",
            Some("add `enabled: true` to `source`".into()),
        );
    }
    for (j, f) in s.files.iter().enumerate() {
        let (src, dst, info, path) = match f {
            ArchiveFile::Glob(g) => (g.as_str(), None, None, at(&["files".into(), j.into()])),
            ArchiveFile::Spec(spec) => (
                spec.src.as_str(),
                spec.dst.as_deref(),
                spec.info.as_ref(),
                at(&["files".into(), j.into(), "src".into()]),
            ),
        };
        if let Err(m) = crate::fileset::check_pattern(src, dst) {
            c.push(path, m, None);
        }
        if let Some(t) = info.and_then(|i| i.mtime.as_ref()) {
            let key = at(&["files".into(), j.into(), "info".into(), "mtime".into()]);
            c.template(key.clone(), t, &known);
            // A fixed time is checked here; a templated one when it is rendered.
            if !t.contains("{{")
                && !t.contains("{%")
                && t.trim().parse::<jiff::Timestamp>().is_err()
            {
                c.push(
                    key,
                    format!("`source.files[{j}].info.mtime`: `{t}` is not an RFC 3339 time"),
                    Some("e.g. `2024-01-02T03:04:05Z`, or `{{ commit_date }}`".into()),
                );
            }
        }
    }
}
