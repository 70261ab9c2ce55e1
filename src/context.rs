//! The release context: config with defaults, git state, version and template variables.
//!
//! Built once, before any side effect, so that every config, template and state error is
//! found before a build starts (exit 2, or 1 for an untagged/dirty repository).

use crate::artifact::Registry;
use crate::config::{BoolOrTemplate, Config, Loaded, TagSort};
use crate::error::{Error, Result};
use crate::git::{self, GitInfo};
pub use crate::options::{Options, Phase};
use crate::plan::Plan;
use crate::template::{Templates, Vars};
use minijinja::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Everything a stage can read.
pub struct Context {
    /// The project root (the folder rel runs in).
    pub root: PathBuf,
    /// The config with defaults applied.
    pub config: Config,
    /// The loaded file and its source, for locations.
    pub loaded: Loaded,
    /// Command-line options.
    pub options: Options,
    /// Repository state.
    pub git: GitInfo,
    /// The tag being released (for snapshots, the last tag or `v0.0.0`).
    pub tag: String,
    /// The previous tag, if any.
    pub previous_tag: Option<String>,
    /// The version (no leading `v`).
    pub version: String,
    /// Template environment.
    pub templates: Templates,
    /// Global template variables.
    pub vars: Vars,
    /// Merged environment (process, then config `env`) given to builds and hooks.
    pub env: BTreeMap<String, String>,
    /// The `dist/` folder.
    pub dist: PathBuf,
    /// The artifact registry.
    pub artifacts: Registry,
    /// The plan: computed once, before any work (builds here, the rest by the stages).
    pub plan: Plan,
    /// How long each stage that ran took, in order (for the summary).
    pub timings: Vec<(String, std::time::Duration)>,
    /// The one pool for CPU-bound work, `--parallelism` threads, made when first used.
    pool: OnceLock<rayon::ThreadPool>,
    /// `--parallelism` slots that CPU-bound tasks of stages running at once share.
    pub slots: crate::slots::Slots,
    /// Set by the first failure: running processes are killed, waiting tasks give up.
    pub cancel: std::sync::atomic::AtomicBool,
    /// The published release's page, once the publish stage has made it.
    pub release_url: OnceLock<String>,
    /// `release.disable`, rendered: a template error stops the run before any work.
    pub release_disabled: bool,
}

/// A config file as loaded, the config with every default applied and checked, and the
/// template environment it was checked with (what `pipeline::load_config` returns).
pub type Checked = (Loaded, Config, Templates);

/// The project name: `project_name`, else the `origin` remote's repository name, else the
/// folder's name.
pub fn project_name(root: &Path, cfg: &Config, remote: Option<&str>) -> String {
    if let Some(n) = &cfg.project_name {
        return n.clone();
    }
    let remote = remote
        .map(String::from)
        .or_else(|| git::git(root, &["remote", "get-url", "origin"]).ok());
    if let Some((_, name)) = remote.as_deref().and_then(git::owner_name) {
        return name;
    }
    root.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        // A hidden folder's leading dots would make every default file name hidden.
        .map(|n| n.trim_start_matches('.').to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "project".into())
}

fn rfc3339(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The time used for `date`/`timestamp` and archive entries: `SOURCE_DATE_EPOCH` when set,
/// else the commit time, so two runs of one commit agree.
pub fn reproducible_time(git: &GitInfo) -> Result<i64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if !s.trim().is_empty() => s.trim().parse().map_err(|_| {
            Error::Usage(format!(
                "SOURCE_DATE_EPOCH `{s}` is not a number of seconds"
            ))
        }),
        _ => Ok(git.commit_timestamp),
    }
}

impl Context {
    /// Build the context: load config, read git, work out the version, check everything.
    pub fn new(root: &Path, checked: Checked, options: Options) -> Result<Context> {
        let (loaded, mut cfg, templates) = checked;
        let rules = tag_rules(&cfg, &templates)?;
        let git = GitInfo::read(root, &rules)?;
        if !git.is_repo && !options.snapshot {
            return Err(Error::State(format!(
                "{} is not a git repository with a commit; a release needs a tagged commit (use --snapshot to build without one)",
                root.display()
            )));
        }
        let (tag, version, previous_tag) = if options.snapshot {
            let last = git.last_tag().map(String::from);
            let base = last
                .as_deref()
                .and_then(|t| git::tag_version(t, ""))
                .map(|v| v.to_string())
                .unwrap_or_else(|| "0.0.0".into());
            let tag = last.clone().unwrap_or_else(|| "v0.0.0".into());
            // The same rule as a release of that tag: a stable tag's previous tag skips its
            // prereleases and tags on its own commit.
            let prev = match &last {
                Some(t) => previous_tag(root, &git, &rules, t)?,
                None => None,
            };
            (tag, base, prev)
        } else {
            let from_ci = std::env::var("GITHUB_REF")
                .ok()
                .and_then(|r| r.strip_prefix("refs/tags/").map(String::from));
            if let Some(t) = &from_ci
                && !git.head_tags.contains(t)
                && !options.skips("validate")
            {
                return Err(Error::State(format!(
                    "GITHUB_REF names tag {t}, but HEAD ({}) is {}: check out the tagged commit (actions/checkout does this on a tag push)",
                    git.short_commit,
                    match git.tag() {
                        Some(h) => format!("tagged {h}"),
                        None => "not tagged".into(),
                    }
                )));
            }
            let from_ci = from_ci.filter(|t| git.head_tags.contains(t));
            let Some(tag) = from_ci.as_deref().or(git.tag()) else {
                let hint = match git.reachable_tags.first() {
                    Some(t) => format!(
                        "the last tag, {t}, is not on HEAD ({}); tag this commit (e.g. `git tag v{}`)",
                        git.short_commit,
                        git::tag_version(t, "")
                            .map(|v| crate::template::incpatch(&v))
                            .unwrap_or_default()
                    ),
                    None => {
                        "there are no semver tags; tag this commit, e.g. `git tag v0.1.0`".into()
                    }
                };
                return Err(Error::State(format!(
                    "HEAD is not tagged with a semver tag: {hint}, or run with --snapshot"
                )));
            };
            if git.dirty && !options.skips("validate") {
                let shown: Vec<&str> = git
                    .dirty_files
                    .iter()
                    .take(10)
                    .map(String::as_str)
                    .collect();
                return Err(Error::State(format!(
                    "the git tree is dirty, so the release would not match tag {tag}:\n  {}\ncommit or stash these changes (or add them to .gitignore), run with --snapshot, or pass --skip validate to release anyway",
                    shown.join("\n  ")
                )));
            }
            let v = git::tag_version(tag, "")
                .expect("head tags are semver")
                .to_string();
            (tag.to_string(), v, previous_tag(root, &git, &rules, tag)?)
        };

        let project = project_name(root, &loaded.config, git.remote_url.as_deref());
        cfg.project_name = Some(project.clone());
        let time = reproducible_time(&git)?;
        let mut env: BTreeMap<String, String> = std::env::vars().collect();
        let mut vars = Vars::new();
        let commit = if git.is_repo {
            git.commit.clone()
        } else {
            "none".into()
        };
        let short = if git.is_repo {
            git.short_commit.clone()
        } else {
            "none".into()
        };
        vars.insert("project_name".into(), Value::from(project.clone()));
        vars.insert("tag".into(), Value::from(tag.clone()));
        vars.insert(
            "previous_tag".into(),
            Value::from(previous_tag.clone().unwrap_or_default()),
        );
        vars.insert("commit".into(), Value::from(commit.clone()));
        vars.insert("full_commit".into(), Value::from(commit));
        vars.insert("short_commit".into(), Value::from(short));
        vars.insert("branch".into(), Value::from(git.branch.clone()));
        vars.insert(
            "commit_date".into(),
            Value::from(rfc3339(git.commit_timestamp)),
        );
        vars.insert("commit_timestamp".into(), Value::from(git.commit_timestamp));
        vars.insert("date".into(), Value::from(rfc3339(time)));
        vars.insert("timestamp".into(), Value::from(time));
        vars.insert("is_snapshot".into(), Value::from(options.snapshot));
        vars.insert("is_git_dirty".into(), Value::from(git.dirty));
        vars.insert("release_url".into(), Value::from(""));
        // GoReleaser's `.IsNightly` (rel has no nightly releases), `.Runtime` (the machine
        // rel runs on) and `.Summary` (`git describe --tags --dirty --always`).
        vars.insert("is_nightly".into(), Value::from(false));
        let (host_os, host_arch) = crate::target::Target::host_os_arch();
        vars.insert(
            "runtime".into(),
            Value::from_pairs(vec![("goos", host_os), ("goarch", host_arch)]),
        );
        let summary = if !git.is_repo {
            "none".to_string()
        } else if options.snapshot {
            // Described from the tag rel chose (`ignore_tags` applied), not git's own pick.
            crate::git::git(
                root,
                &["describe", "--tags", "--dirty", "--always", "--match", &tag],
            )
            .unwrap_or_else(|_| git.short_commit.clone())
        } else if git.dirty {
            format!("{tag}-dirty")
        } else {
            tag.clone()
        };
        vars.insert("summary".into(), Value::from(summary));
        vars.insert("env".into(), env_value(&env));
        set_version(&mut vars, &version);
        let version = if options.snapshot {
            let t = cfg.snapshot.version_template.clone().unwrap_or_default();
            let v = templates.render("snapshot.version_template", &t, &vars)?;
            set_version(&mut vars, &v);
            v
        } else {
            version
        };
        // Config env, templated in order: each entry sees the ones before it.
        for (i, e) in cfg.env.iter().enumerate() {
            let rendered = templates.render(&format!("env[{i}]"), e, &vars)?;
            if let Some((k, v)) = rendered.split_once('=') {
                env.insert(k.to_string(), v.to_string());
                vars.insert("env".into(), env_value(&env));
            }
        }
        if git.is_repo {
            refuse_tracked_dist(root, &cfg.dist)?;
        }
        let mut dist = root.join(&cfg.dist);
        if let Some(share) = &options.share {
            dist = dist.join(&share.name);
        }
        let plan = Plan::new(&cfg, &options, &vars, &templates, &dist)?;
        let release_disabled = truthy(
            &templates,
            &vars,
            "release.disable",
            cfg.release.disable.as_ref(),
        )?;
        let slots = crate::slots::Slots::new(options.parallelism);
        Ok(Context {
            plan,
            timings: vec![],
            pool: OnceLock::new(),
            root: root.to_path_buf(),
            config: cfg,
            loaded,
            options,
            git,
            tag,
            previous_tag,
            version,
            templates,
            vars,
            env,
            dist,
            artifacts: Registry::default(),
            slots,
            cancel: Default::default(),
            release_url: OnceLock::new(),
            release_disabled,
        })
    }

    /// The pool for CPU-bound work (builds, archives, hashing, image layers): `-p` bounds all
    /// of them together, and nothing uses rayon's global pool.
    pub fn pool(&self) -> Result<&rayon::ThreadPool> {
        if let Some(p) = self.pool.get() {
            return Ok(p);
        }
        let p = rayon::ThreadPoolBuilder::new()
            .num_threads(self.options.parallelism.max(1))
            .build()
            .map_err(|e| Error::Failed(format!("cannot start worker threads: {e}")))?;
        Ok(self.pool.get_or_init(|| p))
    }

    /// Whether this run publishes a GitHub release (not a snapshot, not `release.disable`,
    /// not `--skip publish`).
    pub fn publish_skip_reason(&self) -> Option<String> {
        if self.options.snapshot {
            return Some("snapshot".into());
        }
        if self.release_disabled {
            return Some("release.disable".into());
        }
        self.options.skips("publish").then(|| "--skip".to_string())
    }

    /// The GitHub repository releases go to, `owner/name`: `release.github`, else the
    /// `origin` remote.
    pub fn release_repo(&self) -> Result<String> {
        if let Some(gh) = &self.config.release.github {
            let owner = self.render("release.github.owner", &gh.owner)?;
            let name = self.render("release.github.name", &gh.name)?;
            let plain = |s: &str| !s.trim().is_empty() && !s.contains(['/', ' ']);
            if !plain(&owner) || !plain(&name) {
                return Err(Error::Config(format!(
                    "`release.github` renders to `{owner}/{name}`: owner and name must each be one plain word"
                )));
            }
            return Ok(format!("{owner}/{name}"));
        }
        self.git
        .remote_url
        .as_deref()
        .and_then(crate::git::owner_name)
        .map(|(o, n)| format!("{o}/{n}"))
        .ok_or_else(|| Error::Usage("cannot tell which GitHub repository to publish to: set `release.github: {owner: ..., name: ...}` or add an `origin` remote".into()))
    }

    /// Render a config value with the global variables.
    /// A `builds_info` / `files[].info` block as archive entry metadata; `mtime` is rendered
    /// and read as RFC 3339.
    pub fn file_info(
        &self,
        key: &str,
        info: &crate::config::NfpmFileInfo,
    ) -> Result<crate::fileset::entry::Info> {
        let mtime = match &info.mtime {
            None => None,
            Some(t) => {
                let k = format!("{key}.mtime");
                let s = self.render(&k, t)?;
                let ts = s
                    .trim()
                    .parse::<jiff::Timestamp>()
                    .map_err(|e| Error::Template {
                        key: k,
                        template: t.clone(),
                        message: format!("rendered `{s}`, which is not an RFC 3339 time ({e})"),
                    })?;
                Some(ts.as_second())
            }
        };
        Ok(crate::fileset::entry::Info {
            owner: info.owner.clone(),
            group: info.group.clone(),
            mode: info.mode.map(|m| m & 0o7777),
            mtime,
        })
    }

    pub fn render(&self, key: &str, template: &str) -> Result<String> {
        self.templates.render(key, template, &self.vars)
    }

    /// A `true`/`false`-or-template setting; unset is false.
    pub fn truthy(&self, key: &str, v: Option<&BoolOrTemplate>) -> Result<bool> {
        truthy(&self.templates, &self.vars, key, v)
    }

    /// Render every value of a map of templates (`labels`, `build_args`, …), each under
    /// `key.<name>` in errors.
    pub fn render_map(
        &self,
        key: &str,
        m: &std::collections::BTreeMap<String, String>,
    ) -> Result<std::collections::BTreeMap<String, String>> {
        m.iter()
            .map(|(k, v)| Ok((k.clone(), self.render(&format!("{key}.{k}"), v)?)))
            .collect()
    }

    /// Time left before `--timeout`, if one was given.
    pub fn time_left(&self) -> Option<Duration> {
        self.options
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// A path relative to the project root, for artifacts.json and messages.
    pub fn rel_path(&self, p: &Path) -> String {
        p.strip_prefix(&self.root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    }
}

/// `--clean` deletes `dist`: a folder holding files git tracks (`dist: docs`) is refused,
/// naming them, before anything happens (exit 2).
fn refuse_tracked_dist(root: &Path, dist: &str) -> Result<()> {
    let listed = git::git(root, &["ls-files", "--", dist]).unwrap_or_default();
    let tracked: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    if tracked.is_empty() {
        return Ok(());
    }
    let more = if tracked.len() > 10 {
        format!("\n  … and {} more", tracked.len() - 10)
    } else {
        String::new()
    };
    Err(Error::Config(format!(
        "`dist: {dist}` holds files git tracks, which `--clean` would delete:\n  {}{more}\nuse a folder of its own, such as `dist: dist` (and add it to .gitignore)",
        tracked
            .iter()
            .take(10)
            .copied()
            .collect::<Vec<_>>()
            .join("\n  ")
    )))
}

/// A `true`/`false`-or-template setting (GoReleaser's templated booleans): a template must
/// render to `true`, `false` or nothing (false).
fn truthy(
    templates: &Templates,
    vars: &Vars,
    key: &str,
    v: Option<&BoolOrTemplate>,
) -> Result<bool> {
    Ok(match v {
        None => false,
        Some(BoolOrTemplate::Bool(b)) => *b,
        Some(BoolOrTemplate::Template(t)) => {
            let r = templates.render(key, t, vars)?;
            match r.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" | "" => false,
                other => {
                    return Err(Error::Template {
                        key: key.into(),
                        template: t.clone(),
                        message: format!("rendered `{other}`; it must give true or false"),
                    });
                }
            }
        }
    })
}

/// The `git` section as rules for finding tags. `ignore_tags` and `ignore_tag_prefixes`
/// see only `env` and `is_nightly`: every other variable depends on the tag they help to find.
fn tag_rules(cfg: &Config, templates: &Templates) -> Result<git::TagRules> {
    let vars = tagless_vars();
    let mut rules = git::TagRules {
        order: match cfg.git.tag_sort {
            TagSort::SmartSemver => git::TagOrder::SmartSemver,
            TagSort::Semver => git::TagOrder::Semver,
            TagSort::VersionRefname => git::TagOrder::Refname,
            TagSort::VersionCreatordate => git::TagOrder::CreatorDate,
        },
        prerelease_suffix: cfg.git.prerelease_suffix.clone(),
        ..Default::default()
    };
    for (i, t) in cfg.git.ignore_tags.iter().enumerate() {
        let key = format!("git.ignore_tags[{i}]");
        let pattern = templates.render(&key, t, &vars)?;
        let pattern = pattern.trim();
        // `{{ env.NIGHTLY_TAG }}` left empty ignores nothing.
        if pattern.is_empty() {
            continue;
        }
        let glob = globset::Glob::new(pattern).map_err(|e| Error::Template {
            key: key.clone(),
            template: t.clone(),
            message: format!("rendered `{pattern}`, which is not a glob: {e}"),
        })?;
        rules.ignore.push(glob.compile_matcher());
    }
    for (i, t) in cfg.git.ignore_tag_prefixes.iter().enumerate() {
        let prefix = templates.render(&format!("git.ignore_tag_prefixes[{i}]"), t, &vars)?;
        if !prefix.is_empty() {
            rules.ignore_prefixes.push(prefix);
        }
    }
    Ok(rules)
}

/// The tag a release's notes start from, by `git.tag_sort`: `smartsemver` passes over a
/// stable release's prereleases (see `changelog::previous_of`), `semver` takes the next
/// lower tag on another commit, the git orders the nearest tagged ancestor (as GoReleaser).
fn previous_tag(
    root: &Path,
    git: &GitInfo,
    rules: &git::TagRules,
    tag: &str,
) -> Result<Option<String>> {
    match rules.order {
        git::TagOrder::SmartSemver => {
            crate::changelog::previous_of(root, &git.reachable_tags, tag, "")
        }
        git::TagOrder::Semver => {
            let Some(v) = git::tag_version(tag, "") else {
                return Ok(None);
            };
            let commit_of = |t: &str| git::git(root, &["rev-parse", &format!("{t}^{{commit}}")]);
            let at = commit_of(tag)?;
            for t in &git.reachable_tags {
                if git::tag_version(t, "").is_some_and(|x| x < v) && commit_of(t)? != at {
                    return Ok(Some(t.clone()));
                }
            }
            Ok(None)
        }
        git::TagOrder::Refname | git::TagOrder::CreatorDate => {
            rules.previous_by_describe(root, tag)
        }
    }
}

/// Set `version` and its semver parts.
fn set_version(vars: &mut Vars, version: &str) {
    vars.insert("version".into(), Value::from(version));
    let parsed = semver::Version::parse(version).ok();
    let (major, minor, patch, pre) = parsed
        .map(|v| (v.major, v.minor, v.patch, v.pre.to_string()))
        .unwrap_or((0, 0, 0, String::new()));
    vars.insert("major".into(), Value::from(major));
    vars.insert("minor".into(), Value::from(minor));
    vars.insert("patch".into(), Value::from(patch));
    vars.insert("prerelease".into(), Value::from(pre));
}

/// The variables a template sees before any tag is known: `env` (the process's) and
/// `is_nightly` (always false).
pub fn tagless_vars() -> Vars {
    let mut vars = Vars::new();
    vars.insert("env".into(), env_value(&std::env::vars().collect()));
    vars.insert("is_nightly".into(), Value::from(false));
    vars
}

/// The `env` template variable.
fn env_value(env: &BTreeMap<String, String>) -> Value {
    Value::from_pairs(env.iter().map(|(k, v)| (k.clone(), v.clone())))
}
