//! Semantic checks and defaults, run after the YAML has loaded into the model.
//!
//! This module owns the [`Checker`] (problems with their YAML locations, reported all at
//! once so a user fixes a config in one pass) and the checks and defaults of the top-level
//! keys. Each stage checks and defaults its own section through the `Stage` trait, so the
//! config layer knows nothing of builds, archives or images beyond their types.

use super::diag::{self, did_you_mean};
use super::locate::{self, Seg};
use super::{Config, Loaded};
use crate::error::{Error, Result};
use crate::template::{GLOBALS, TARGET_VARS, Templates};
use std::path::Path;

/// Default snapshot version.
pub const DEFAULT_SNAPSHOT_VERSION: &str = "{{ version }}-SNAPSHOT-{{ short_commit }}";

/// One problem found in the config.
struct Problem {
    path: Vec<Seg>,
    message: String,
    hint: Option<String>,
}

/// Collects every problem of a config with where it is, then reports them together.
pub struct Checker<'a> {
    /// The file as loaded, for locations.
    pub loaded: &'a Loaded,
    /// The config with every default applied.
    pub config: &'a Config,
    templates: &'a Templates,
    problems: Vec<Problem>,
}

/// Template variables known everywhere.
pub fn globals() -> Vec<&'static str> {
    GLOBALS.to_vec()
}

/// Template variables known per target (globals and `os`, `arch`, …).
pub fn per_target() -> Vec<&'static str> {
    let mut v = GLOBALS.to_vec();
    v.extend_from_slice(TARGET_VARS);
    v
}

/// A config path from its segments: `at(&["builds".into(), 0.into()])`.
pub fn at(parts: &[Seg]) -> Vec<Seg> {
    parts.to_vec()
}

impl<'a> Checker<'a> {
    /// A checker with no problems yet.
    pub fn new(loaded: &'a Loaded, config: &'a Config, templates: &'a Templates) -> Self {
        Checker {
            loaded,
            config,
            templates,
            problems: vec![],
        }
    }

    /// Record a problem at `path`.
    pub fn push(&mut self, path: Vec<Seg>, message: impl Into<String>, hint: Option<String>) {
        self.problems.push(Problem {
            path,
            message: message.into(),
            hint,
        });
    }

    /// Check that a template parses and names only `known` variables.
    pub fn template(&mut self, path: Vec<Seg>, text: &str, known: &[&str]) {
        let key = locate::display(&path);
        if let Err(Error::Template { message, .. }) =
            self.templates.check(&key, text, known.iter().copied())
        {
            self.push(path, format!("template error in `{key}`: {message}"), None);
        }
    }

    /// Check a list of `KEY=value` templates.
    pub fn env_list(&mut self, base: Vec<Seg>, list: &[String], known: &[&str]) {
        for (i, e) in list.iter().enumerate() {
            let mut p = base.clone();
            p.push(i.into());
            if !e.contains('=') || e.starts_with('=') {
                self.push(p.clone(), format!("env entry `{e}` is not KEY=value"), None);
            }
            self.template(p, e, known);
        }
    }

    /// Check a list of templated commands (they must split like a shell line).
    pub fn commands(&mut self, base: Vec<Seg>, list: &[String], known: &[&str]) {
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

    /// Check a regular expression.
    pub fn regex(&mut self, path: Vec<Seg>, re: &str) {
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

    /// The unknown-id check shared by every section that names builds.
    pub fn build_ids(&mut self, base: &[Seg], ids: &[String], what: &str) {
        let known: Vec<String> = self
            .config
            .builds
            .iter()
            .filter_map(|b| b.id.clone())
            .collect();
        for (j, bid) in ids.iter().enumerate() {
            if !known.contains(bid) {
                let hint = did_you_mean(bid, known.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                let mut path = base.to_vec();
                path.extend_from_slice(&["builds".into(), j.into()]);
                self.push(
                    path,
                    format!("{what} refers to unknown build id `{bid}`"),
                    hint,
                );
            }
        }
    }

    /// Every problem at once, rendered with its location; `Ok` when there is none.
    pub fn finish(self) -> Result<()> {
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

/// The checks of the top-level keys (`version`, `dist`, `project_name`, `env`, `snapshot`).
pub fn check_globals(c: &mut Checker) {
    let config = c.config;
    let globals = globals();
    if config.version != 1 {
        c.push(
            at(&["version".into()]),
            format!("unsupported config version {}", config.version),
            Some("use `version: 1`".into()),
        );
    }
    if !dist_is_safe(&config.dist) {
        c.push(
            at(&["dist".into()]),
            format!("`dist: {:?}` must name a folder of its own", config.dist),
            Some("use `dist: dist`".into()),
        );
    }
    if let Some(n) = &config.project_name {
        c.template(at(&["project_name".into()]), n, &[]);
    }
    c.env_list(at(&["env".into()]), &config.env, &globals);
    if let Some(t) = &config.snapshot.version_template {
        c.template(
            at(&["snapshot".into(), "version_template".into()]),
            t,
            &globals,
        );
    }
    check_git(c);
    if let Some(t) = &config.metadata.mod_timestamp {
        c.template(
            at(&["metadata".into(), "mod_timestamp".into()]),
            t,
            &globals,
        );
    }
}

/// The checks of `git`: its templates see only `env` and `is_nightly` (the others depend on the
/// tag they help to find), and a glob without a template must compile.
fn check_git(c: &mut Checker) {
    let git = &c.config.git;
    for (i, t) in git.ignore_tags.iter().enumerate() {
        let path = at(&["git".into(), "ignore_tags".into(), i.into()]);
        c.template(path.clone(), t, &["env", "is_nightly"]);
        if !t.contains("{{")
            && !t.contains("{%")
            && let Err(e) = globset::Glob::new(t.trim())
        {
            c.push(path, format!("`{t}` is not a glob: {e}"), None);
        }
    }
    for (i, t) in git.ignore_tag_prefixes.iter().enumerate() {
        c.template(
            at(&["git".into(), "ignore_tag_prefixes".into(), i.into()]),
            t,
            &["env", "is_nightly"],
        );
    }
}

/// The defaults of the top-level keys; each stage defaults its own section.
pub fn apply_defaults(config: &mut Config, project_name: &str) {
    config.project_name = Some(project_name.to_string());
    if config.snapshot.version_template.is_none() {
        config.snapshot.version_template = Some(DEFAULT_SNAPSHOT_VERSION.into());
    }
}
