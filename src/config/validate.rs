//! Semantic checks and defaults, run after the YAML has loaded into the model.
//!
//! Every problem is reported at once, each with its location, so a user fixes a config in
//! one pass rather than one error per run.

use super::diag::{self, did_you_mean};
use super::locate::{self, Seg};
use super::{Builder, Config, Loaded};
use crate::error::{Error, Result};
use crate::plan::matrix;
use crate::template::{GLOBALS, TARGET_VARS, Templates};
use std::collections::HashSet;
use std::path::Path;

/// Default archive name template (GoReleaser's).
pub const DEFAULT_ARCHIVE_NAME: &str =
    "{{ project_name }}_{{ version }}_{{ os }}_{{ arch }}{% if arm %}v{{ arm }}{% endif %}";
/// Default checksum file name.
pub const DEFAULT_CHECKSUM_NAME: &str = "{{ project_name }}_{{ version }}_checksums.txt";
/// Default snapshot version.
pub const DEFAULT_SNAPSHOT_VERSION: &str = "{{ version }}-SNAPSHOT-{{ short_commit }}";

struct Problem {
    path: Vec<Seg>,
    message: String,
    hint: Option<String>,
}

struct Checker<'a> {
    loaded: &'a Loaded,
    templates: &'a Templates,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn push(&mut self, path: Vec<Seg>, message: impl Into<String>, hint: Option<String>) {
        self.problems.push(Problem {
            path,
            message: message.into(),
            hint,
        });
    }

    fn template(&mut self, path: Vec<Seg>, text: &str, known: &[&str]) {
        let key = locate::display(&path);
        if let Err(Error::Template { message, .. }) =
            self.templates.check(&key, text, known.iter().copied())
        {
            self.push(path, format!("template error in `{key}`: {message}"), None);
        }
    }

    fn env_list(&mut self, base: Vec<Seg>, list: &[String], known: &[&str]) {
        for (i, e) in list.iter().enumerate() {
            let mut p = base.clone();
            p.push(i.into());
            if !e.contains('=') || e.starts_with('=') {
                self.push(p.clone(), format!("env entry `{e}` is not KEY=value"), None);
            }
            self.template(p, e, known);
        }
    }

    fn commands(&mut self, base: Vec<Seg>, list: &[String], known: &[&str]) {
        for (i, c) in list.iter().enumerate() {
            let mut p = base.clone();
            p.push(i.into());
            if let Err(e) = shell_words::split(c) {
                self.push(
                    p.clone(),
                    format!("cannot split command `{c}`: {e}"),
                    Some("close the quote".into()),
                );
            }
            self.template(p, c, known);
        }
    }

    fn regex(&mut self, path: Vec<Seg>, re: &str) {
        if let Err(e) = regex::Regex::new(re) {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            self.push(
                path,
                format!("invalid regular expression `{re}`: {first}"),
                None,
            );
        }
    }

    fn render(self) -> Result<()> {
        if self.problems.is_empty() {
            return Ok(());
        }
        let text: Vec<String> = self
            .problems
            .iter()
            .map(|p| {
                let pos = locate::locate(&self.loaded.src, &p.path);
                diag::render(
                    &self.loaded.file,
                    &self.loaded.src,
                    pos,
                    &p.message,
                    p.hint.as_deref(),
                )
            })
            .collect();
        Err(Error::Config(text.join("\n\n")))
    }
}

fn p(parts: &[Seg]) -> Vec<Seg> {
    parts.to_vec()
}

/// Whether `dist` names a folder of its own inside the project: `--clean` removes it, so it
/// must not be the project, its parent, an absolute path, or inside `.git`.
pub fn dist_is_safe(dist: &str) -> bool {
    use std::path::Component;
    let comps: Vec<Component> = Path::new(dist.trim()).components().collect();
    comps.iter().any(|c| matches!(c, Component::Normal(_)))
        && comps
            .iter()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && comps
            .iter()
            .find(|c| matches!(c, Component::Normal(_)))
            .is_none_or(|c| c.as_os_str() != ".git")
}

/// Check `config` (already defaulted) against the source it came from.
pub fn validate(loaded: &Loaded, config: &Config, templates: &Templates) -> Result<()> {
    let mut c = Checker {
        loaded,
        templates,
        problems: vec![],
    };
    let globals: Vec<&str> = GLOBALS.to_vec();
    let mut per_target: Vec<&str> = GLOBALS.to_vec();
    per_target.extend_from_slice(TARGET_VARS);
    let mut with_output = per_target.clone();
    with_output.push("output");

    if config.version != 1 {
        c.push(
            p(&["version".into()]),
            format!("unsupported config version {}", config.version),
            Some("use `version: 1`".into()),
        );
    }
    if !dist_is_safe(&config.dist) {
        c.push(
            p(&["dist".into()]),
            format!("`dist: {:?}` must name a folder of its own", config.dist),
            Some("use `dist: dist`".into()),
        );
    }
    if let Some(n) = &config.project_name {
        c.template(p(&["project_name".into()]), n, &[]);
    }
    c.env_list(p(&["env".into()]), &config.env, &globals);
    c.commands(
        p(&["before".into(), "hooks".into()]),
        &config.before.hooks,
        &globals,
    );

    let mut ids = HashSet::new();
    let build_ids: Vec<String> = config.builds.iter().filter_map(|b| b.id.clone()).collect();
    for (i, b) in config.builds.iter().enumerate() {
        let base = |rest: &[Seg]| {
            let mut v = vec![Seg::from("builds"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        let id = b.id.clone().unwrap_or_default();
        if !ids.insert(id.clone()) {
            c.push(
                base(&["id".into()]),
                format!("duplicate build id `{id}`"),
                Some("give each build its own `id`".into()),
            );
        }
        if id.contains('/') || id.contains("..") || id.is_empty() {
            c.push(
                base(&["id".into()]),
                format!("build id `{id}` must be a non-empty name without `/`"),
                None,
            );
        }
        match b.builder {
            Builder::Command if b.command.is_empty() => c.push(
                base(&["builder".into()]),
                "builder `command` needs a `command` list",
                Some("add `command: [make, build, \"OUT={{ output }}\"]`".into()),
            ),
            Builder::Prebuilt if b.path.is_none() => c.push(
                base(&["builder".into()]),
                "builder `prebuilt` needs a `path`",
                Some("add `path: \"prebuilt/{{ os }}_{{ arch }}/hello\"`".into()),
            ),
            _ => {}
        }
        if let Err(errors) = matrix::expand(b) {
            for e in errors {
                let hint = did_you_mean(&e.word, e.candidates.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                c.push(base(&e.path), e.message, hint);
            }
        }
        if let Some(t) = &b.binary {
            c.template(base(&["binary".into()]), t, &per_target);
        }
        for (key, list) in [("flags", &b.flags), ("ldflags", &b.ldflags)] {
            match list {
                super::StringList::One(f) => c.template(base(&[key.into()]), f, &per_target),
                super::StringList::Many(v) => {
                    for (j, f) in v.iter().enumerate() {
                        c.template(base(&[key.into(), j.into()]), f, &per_target);
                    }
                }
            }
        }
        c.env_list(base(&["env".into()]), &b.env, &per_target);
        for (j, a) in b.command.iter().enumerate() {
            c.template(base(&["command".into(), j.into()]), a, &with_output);
        }
        if let Some(t) = &b.path {
            c.template(base(&["path".into()]), t, &per_target);
        }
        if let Some(t) = &b.mod_timestamp {
            c.template(base(&["mod_timestamp".into()]), t, &per_target);
        }
        c.commands(
            base(&["hooks".into(), "pre".into()]),
            &b.hooks.pre,
            &per_target,
        );
        c.commands(
            base(&["hooks".into(), "post".into()]),
            &b.hooks.post,
            &with_output,
        );
    }

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
        for (j, bid) in a.builds.iter().enumerate() {
            if !build_ids.contains(bid) {
                let hint = did_you_mean(bid, build_ids.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                c.push(
                    base(&["builds".into(), j.into()]),
                    format!("archive refers to unknown build id `{bid}`"),
                    hint,
                );
            }
        }
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
        if let super::Wrap::Name(t) = &a.wrap_in_directory {
            c.template(base(&["wrap_in_directory".into()]), t, &per_target);
        }
        for (j, f) in a.files.iter().flatten().enumerate() {
            let (src, dst, at) = match f {
                super::ArchiveFile::Glob(g) => {
                    (g.as_str(), None, base(&["files".into(), j.into()]))
                }
                super::ArchiveFile::Spec(s) => (
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
    if let Some(t) = &config.checksum.name_template {
        c.template(p(&["checksum".into(), "name_template".into()]), t, &globals);
    }
    if let Some(t) = &config.snapshot.version_template {
        c.template(
            p(&["snapshot".into(), "version_template".into()]),
            t,
            &globals,
        );
    }
    for (i, re) in config.changelog.filters.exclude.iter().enumerate() {
        c.regex(
            p(&[
                "changelog".into(),
                "filters".into(),
                "exclude".into(),
                i.into(),
            ]),
            re,
        );
    }
    for (i, re) in config.changelog.filters.include.iter().enumerate() {
        c.regex(
            p(&[
                "changelog".into(),
                "filters".into(),
                "include".into(),
                i.into(),
            ]),
            re,
        );
    }
    for (i, g) in config.changelog.groups.iter().enumerate() {
        if let Some(re) = &g.regexp {
            c.regex(
                p(&[
                    "changelog".into(),
                    "groups".into(),
                    i.into(),
                    "regexp".into(),
                ]),
                re,
            );
        }
    }
    if let Some(t) = &config.changelog.template {
        let base = crate::changelog::render::template_base(&loaded.file);
        let problem = match crate::changelog::render::load_template(base, Some(t)) {
            Ok((_, text)) => crate::changelog::render::check_template(&text)
                .err()
                .map(|m| format!("changelog template {t}: {m}")),
            Err(e) => Some(e.to_string()),
        };
        if let Some(m) = problem {
            c.push(p(&["changelog".into(), "template".into()]), m, None);
        }
    }
    if let Some(t) = &config.release.name_template {
        c.template(p(&["release".into(), "name_template".into()]), t, &globals);
    }
    if let Some(gh) = &config.release.github
        && (gh.owner.is_empty()
            || gh.name.is_empty()
            || gh.owner.contains('/')
            || gh.name.contains('/'))
    {
        c.push(
            p(&["release".into(), "github".into()]),
            "release.github needs a plain `owner` and `name`",
            None,
        );
    }
    if config.release.upload_concurrency == Some(0) {
        c.push(
            p(&["release".into(), "upload_concurrency".into()]),
            "release.upload_concurrency must be at least 1",
            None,
        );
    }
    for (i, f) in config.release.extra_files.iter().enumerate() {
        if let Some(t) = &f.name_template {
            c.template(
                p(&[
                    "release".into(),
                    "extra_files".into(),
                    i.into(),
                    "name_template".into(),
                ]),
                t,
                &[globals.as_slice(), &["filename"]].concat(),
            );
        }
        if let Err(e) = globset::Glob::new(&f.glob) {
            c.push(
                p(&[
                    "release".into(),
                    "extra_files".into(),
                    i.into(),
                    "glob".into(),
                ]),
                format!("invalid glob: {e}"),
                None,
            );
        }
    }
    for (i, img) in config.images.iter().enumerate() {
        let base = |rest: &[Seg]| {
            let mut v = vec![Seg::from("images"), Seg::from(i)];
            v.extend_from_slice(rest);
            v
        };
        for (j, bid) in img.builds.iter().enumerate() {
            if !build_ids.contains(bid) {
                let hint = did_you_mean(bid, build_ids.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                c.push(
                    base(&["builds".into(), j.into()]),
                    format!("image refers to unknown build id `{bid}`"),
                    hint,
                );
            }
        }
        for (j, pl) in img.platforms.iter().enumerate() {
            let parts: Vec<&str> = pl.split('/').collect();
            let ok = match parts.as_slice() {
                ["linux", arch] => crate::target::valid_pair("linux", arch),
                ["linux", "arm", v] => matches!(*v, "v5" | "v6" | "v7"),
                ["linux", "arm64", "v8"] => true,
                _ => false,
            };
            if !ok {
                c.push(
                    base(&["platforms".into(), j.into()]),
                    format!("unsupported image platform `{pl}`"),
                    Some("use linux/ARCH, e.g. linux/amd64, linux/arm64, linux/arm/v7".into()),
                );
            }
        }
        c.template(base(&["repository".into()]), &img.repository, &globals);
        if !img.repository.contains("{{")
            && !img.repository.contains("{%")
            && let Err(msg) = crate::oci_ref::check_repository_syntax(&img.repository)
        {
            c.push(
                base(&["repository".into()]),
                msg,
                Some(
                    "a repository is lowercase, like ghcr.io/owner/name, without a tag or digest"
                        .into(),
                ),
            );
        }
        for (j, t) in img.tags.iter().enumerate() {
            c.template(base(&["tags".into(), j.into()]), t, &globals);
        }
    }
    for (i, m) in config.manifests.iter().enumerate() {
        c.template(
            p(&["manifests".into(), i.into(), "name_template".into()]),
            &m.name_template,
            &globals,
        );
        for (j, t) in m.images.iter().enumerate() {
            c.template(
                p(&["manifests".into(), i.into(), "images".into(), j.into()]),
                t,
                &globals,
            );
        }
    }
    c.render()
}

/// Fill in the defaults that depend on nothing but the config, the project name and root.
pub fn apply_defaults(config: &mut Config, project_name: &str, root: &Path) {
    config.project_name = Some(project_name.to_string());
    if config.builds.is_empty() {
        let cargo = root.join("Cargo.toml").is_file() && !root.join("go.mod").is_file();
        config.builds.push(super::Build {
            builder: if cargo { Builder::Cargo } else { Builder::Go },
            main: Some(if cargo {
                project_name.to_string()
            } else {
                ".".to_string()
            }),
            ..Default::default()
        });
    }
    let single = config.builds.len() == 1;
    for (i, b) in config.builds.iter_mut().enumerate() {
        if b.id.is_none() {
            b.id = Some(if single || i == 0 {
                project_name.to_string()
            } else {
                format!("{project_name}-{i}")
            });
        }
        if b.binary.is_none() {
            b.binary = Some(b.id.clone().unwrap_or_default());
        }
        if b.main.is_none() {
            b.main = Some(match b.builder {
                Builder::Cargo => b.binary.clone().unwrap_or_default(),
                _ => ".".into(),
            });
        }
    }
    if config.archives.is_empty() {
        config.archives.push(super::Archive::default());
    }
    let multi = config.archives.len() > 1;
    for (i, a) in config.archives.iter_mut().enumerate() {
        if a.id.is_none() {
            a.id = Some(if multi {
                format!("default-{i}")
            } else {
                "default".into()
            });
        }
        if a.formats.is_empty() {
            a.formats.push(super::Format::TarGz);
        }
        if a.name_template.is_none() {
            a.name_template = Some(DEFAULT_ARCHIVE_NAME.into());
        }
    }
    if config.checksum.name_template.is_none() {
        config.checksum.name_template = Some(DEFAULT_CHECKSUM_NAME.into());
    }
    if config.snapshot.version_template.is_none() {
        config.snapshot.version_template = Some(DEFAULT_SNAPSHOT_VERSION.into());
    }
    if config.release.name_template.is_none() {
        config.release.name_template = Some("{{ tag }}".into());
    }
}
