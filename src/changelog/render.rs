//! Turning commits into markdown: filters, groups, the breaking-changes section, a template.
//!
//! Grouping follows GoReleaser: groups are tried in the order they are declared and the
//! first whose regexp matches the subject takes the commit; a group without a regexp takes
//! every commit still unclaimed at its turn; commits no group takes are left out; the
//! groups are then shown by their `order`. Breaking commits are also listed, first, in a
//! built-in "Breaking changes" section, so a reader cannot miss them whatever the groups.

use super::commits::Commit;
use crate::config::model::{Changelog, ChangelogUse, Sort};
use crate::error::{Error, Result};
use minijinja::{Environment, Value};
use regex::Regex;
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

/// The built-in template.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../templates/changelog.md.j2");

/// Variables a changelog template receives.
pub const VARIABLES: &[&str] = &[
    "all",
    "tag",
    "version",
    "previous_tag",
    "date",
    "compare_url",
    "breaking",
    "groups",
    "commits",
    "logins",
];

/// A commit's line in the built-in layout when `changelog.format` is not set (GoReleaser's
/// `{{ .SHA }} {{ .Message }}`).
pub const DEFAULT_FORMAT: &str = "{{ short_sha }} {{ subject }}";

/// The line for `use: github`: GoReleaser's, which credits the author's GitHub account, or
/// names them when GitHub knows no account for the commit.
pub const GITHUB_FORMAT: &str = "{{ short_sha }}: {{ subject }} ({% if author.login %}@{{ author.login }}{% else %}{{ author.name }} <{{ author.email }}>{% endif %})";

/// The `changelog.format` in effect.
pub fn format_of(cfg: &Changelog) -> &str {
    match (&cfg.format, cfg.r#use) {
        (Some(f), _) => f,
        (None, ChangelogUse::Github) => GITHUB_FORMAT,
        (None, _) => DEFAULT_FORMAT,
    }
}

/// Groups used when the config declares none: conventional features and fixes, then the rest.
pub fn default_groups() -> Vec<crate::config::model::Group> {
    use crate::config::model::Group;
    vec![
        Group {
            title: "Features".into(),
            regexp: Some(r"^feat(\([^)]*\))?!?:".into()),
            order: 0,
        },
        Group {
            title: "Bug fixes".into(),
            regexp: Some(r"^fix(\([^)]*\))?!?:".into()),
            order: 1,
        },
        Group {
            title: "Others".into(),
            regexp: None,
            order: 999,
        },
    ]
}

/// One release's worth of commits, before filtering and grouping.
#[derive(Debug, Clone, Default)]
pub struct Release {
    /// The tag (`None`: unreleased commits).
    pub tag: Option<String>,
    /// The version of the tag, without prefix and `v`.
    pub version: Option<String>,
    /// The previous tag, if any.
    pub previous_tag: Option<String>,
    /// `YYYY-MM-DD` of the release's last commit.
    pub date: String,
    /// A link comparing the previous tag with this one (GitHub remotes only).
    pub compare_url: Option<String>,
    /// The commits, newest first, merges included (they are dropped here).
    pub commits: Vec<Arc<Commit>>,
}

/// The commits that count, in git order: merges dropped (they repeat what they bring in),
/// and a revert whose target is in the same range dropped together with its target.
pub fn effective(commits: &[Arc<Commit>]) -> Vec<&Arc<Commit>> {
    let in_range: HashSet<&str> = commits
        .iter()
        .filter(|c| !c.is_merge())
        .map(|c| c.sha.as_str())
        .collect();
    // Newest first: a revert whose target is in the range cancels it and itself; a revert
    // that was itself cancelled (a revert of a revert) cancels nothing.
    let mut cancelled: HashSet<&str> = HashSet::new();
    let mut kept = Vec::with_capacity(commits.len());
    for c in commits.iter().filter(|c| !c.is_merge()) {
        if cancelled.contains(c.sha.as_str()) {
            continue;
        }
        if let Some(target) = c.reverts.as_deref()
            && let Some(t) = in_range.iter().find(|s| s.starts_with(target))
        {
            cancelled.insert(t);
            continue;
        }
        kept.push(c);
    }
    kept.retain(|c| !cancelled.contains(c.sha.as_str()));
    kept
}

/// The compiled changelog config: regexps and the template, built once for many releases.
pub struct Renderer {
    include: Vec<Regex>,
    exclude: Vec<Regex>,
    groups: Vec<(String, Option<Regex>, i64)>,
    sort: Sort,
    env: Environment<'static>,
    lines: Lines,
}

/// How commits become lines (`changelog.format` and `changelog.abbrev`).
struct Lines {
    /// `changelog.abbrev`.
    abbrev: i32,
    /// The compiled format; `None` for [`DEFAULT_FORMAT`], which is joined directly: a
    /// template per commit of a 20,000-commit CHANGELOG.md would cost more than reading it.
    format: Option<Environment<'static>>,
}

impl Lines {
    fn new(format: &str, abbrev: i32) -> std::result::Result<Lines, minijinja::Error> {
        let format = if format == DEFAULT_FORMAT {
            None
        } else {
            let mut env = crate::template::base_environment(true);
            env.add_template_owned("format", format.to_string())?;
            Some(env)
        };
        Ok(Lines { abbrev, format })
    }

    /// Make the release's variables (`version`, `is_nightly`, `env`, …) visible to the
    /// format beside the commit's fields, as GoReleaser's format sees its template fields.
    fn globals(&mut self, vars: &crate::template::Vars) {
        if let Some(env) = &mut self.format {
            for (k, v) in vars {
                if !COMMIT_FIELDS.contains(&k.as_str()) {
                    env.add_global(k.clone(), v.clone());
                }
            }
        }
    }

    /// The line of `c`, whose hash is `hash`. Without a hash (`abbrev: -1`) the separator
    /// the format put after it is dropped too, so a line never starts with `: `.
    fn line(&self, c: &Arc<Commit>) -> std::result::Result<String, minijinja::Error> {
        let hash = abbreviated(c, self.abbrev);
        let line = match &self.format {
            None if hash.is_empty() => return Ok(c.subject.clone()),
            None => return Ok(format!("{hash} {}", c.subject)),
            Some(env) => env
                .get_template("format")?
                .render(Value::from_object(CommitView {
                    c: Arc::clone(c),
                    abbrev: self.abbrev,
                    line: None,
                }))?,
        };
        Ok(if hash.is_empty() {
            line.trim_start_matches([' ', ':']).to_string()
        } else {
            line
        })
    }
}

/// The hash as `changelog.abbrev` wants it: git's abbreviation (0), none (-1), or the first
/// N characters of the full hash.
fn abbreviated(c: &Commit, abbrev: i32) -> &str {
    match abbrev {
        0 => &c.short_sha,
        n if n < 0 => "",
        n => c.sha.get(..n as usize).unwrap_or(&c.sha),
    }
}

struct GroupData<'a> {
    title: &'a str,
    order: i64,
    commits: Vec<&'a Arc<Commit>>,
}

/// The position of each shown commit, by the address of its `Commit`.
type Positions = std::collections::HashMap<*const Commit, usize>;

/// A commit as a template sees it: each field becomes a value only when the template reads
/// it. Serialising every commit of a 20,000-commit history into maps up front cost more
/// than reading the history from git.
#[derive(Debug)]
struct CommitView {
    c: Arc<Commit>,
    /// `changelog.abbrev`, which decides `short_sha`.
    abbrev: i32,
    /// The rendered `changelog.format`; `None` inside the format itself (a line cannot
    /// contain itself), and for the default format, which is joined when read.
    line: Option<String>,
}

/// The fields of [`CommitView`], as `Commit` serialises them.
const COMMIT_FIELDS: &[&str] = &[
    "sha",
    "short_sha",
    "author",
    "timestamp",
    "subject",
    "message",
    "conventional",
    "type",
    "scope",
    "breaking",
    "breaking_description",
    "description",
    "body",
    "footers",
    "reverts",
    "logins",
    "line",
];

impl minijinja::value::Object for CommitView {
    fn repr(self: &Arc<Self>) -> minijinja::value::ObjectRepr {
        minijinja::value::ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let c = &self.c;
        let text = |s: &str| Value::from(s);
        let opt = |s: &Option<String>| s.as_deref().map(Value::from).unwrap_or(Value::from(()));
        Some(match key.as_str()? {
            "sha" => text(&c.sha),
            "short_sha" => text(abbreviated(c, self.abbrev)),
            "author" => Value::from(minijinja::value::Serde(&c.author)),
            "timestamp" => Value::from(c.timestamp),
            "subject" => text(&c.subject),
            "message" => text(&c.message),
            "conventional" => Value::from(c.conventional),
            "type" => opt(&c.kind),
            "scope" => opt(&c.scope),
            "breaking" => Value::from(c.breaking),
            "breaking_description" => opt(&c.breaking_description),
            "description" => text(&c.description),
            "body" => opt(&c.body),
            "footers" => Value::from(minijinja::value::Serde(&c.footers)),
            "reverts" => opt(&c.reverts),
            "logins" => Value::from(c.logins.clone()),
            "line" => Value::from(self.line.clone()?),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Str(COMMIT_FIELDS)
    }
}

fn compile(key: &str, re: &str) -> Result<Regex> {
    Regex::new(re).map_err(|e| {
        Error::Usage(format!(
            "changelog.{key}: invalid regular expression `{re}`: {e}"
        ))
    })
}

/// A minijinja environment for changelog templates: strict, block tags own their lines.
pub fn environment(
    template: String,
) -> std::result::Result<Environment<'static>, minijinja::Error> {
    let mut env = crate::template::base_environment(true);
    env.add_template_owned("changelog", template)?;
    Ok(env)
}

/// Read a user template (relative to `base`); `None` gives the built-in one. A value of more
/// than one line is the template itself (a file name never spans lines), so a config can
/// carry its layout inline, as `rel import` writes GoReleaser's flat notes.
pub fn load_template(base: &Path, template: Option<&str>) -> Result<(String, String)> {
    match template {
        None => Ok((
            "built-in changelog template".into(),
            DEFAULT_TEMPLATE.into(),
        )),
        Some(t) if t.contains('\n') => Ok(("changelog.template".into(), t.to_string())),
        Some(t) => {
            let p = base.join(t);
            let text = std::fs::read_to_string(&p).map_err(|e| {
                Error::Usage(format!(
                    "changelog.template: cannot read {}: {e}",
                    p.display()
                ))
            })?;
            Ok((t.to_string(), text))
        }
    }
}

/// Check a template: it parses and renders sample data (unknown variables, attributes and
/// filters are found here, before anything runs). Returns the message of the first problem.
pub fn check_template(text: &str) -> std::result::Result<(), String> {
    let env = environment(text.to_string()).map_err(|e| describe(&e))?;
    let sample = Commit::from_record("0123456789abcdef0123456789abcdef01234567\x1f0123456\x1f\x1fAnn\x1fann@example.com\x1f0\x1ffeat(api)!: sample\n\nBody.\n\nRefs: #1")
        .expect("sample record parses");
    let r = Renderer {
        include: vec![],
        exclude: vec![],
        groups: vec![("Features".into(), None, 0)],
        sort: Sort::Git,
        env,
        lines: Lines {
            abbrev: 0,
            format: None,
        },
    };
    let release = Release {
        tag: Some("v1.1.0".into()),
        version: Some("1.1.0".into()),
        previous_tag: Some("v1.0.0".into()),
        date: "2024-01-01".into(),
        compare_url: Some("https://github.com/o/r/compare/v1.0.0...v1.1.0".into()),
        commits: vec![Arc::new(sample)],
    };
    for all in [false, true] {
        r.render_one(&release, all).map_err(|e| describe(&e))?;
    }
    Ok(())
}

/// Check a `changelog.format`: it parses and renders a sample commit (an unknown field is
/// found here, before anything runs), with `globals` (the release's variables) defined.
/// Returns the message of the first problem.
pub fn check_format(format: &str, globals: &[&str]) -> std::result::Result<(), String> {
    let mut lines = Lines::new(format, 0).map_err(|e| describe(&e))?;
    let sample: crate::template::Vars = globals
        .iter()
        .map(|g| (g.to_string(), crate::template::sample_value(g)))
        .collect();
    lines.globals(&sample);
    let mut sample = Commit::from_record("0123456789abcdef0123456789abcdef01234567\x1f0123456\x1f\x1fAnn\x1fann@example.com\x1f0\x1ffeat(api)!: sample\n\nBody.\n\nRefs: #1")
        .expect("sample record parses");
    sample.author.login = Some("ann".into());
    sample.logins = vec!["@ann".into()];
    lines.line(&Arc::new(sample)).map_err(|e| describe(&e))?;
    Ok(())
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    if let Some(d) = e.detail()
        && !s.contains(d)
    {
        s.push_str(&format!(": {d}"));
    }
    s
}

impl Renderer {
    /// Compile `cfg`; the template text comes from [`load_template`].
    pub fn new(cfg: &Changelog, template_name: &str, template: String) -> Result<Renderer> {
        let include = cfg
            .filters
            .include
            .iter()
            .map(|r| compile("filters.include", r))
            .collect::<Result<_>>()?;
        let exclude = cfg
            .filters
            .exclude
            .iter()
            .map(|r| compile("filters.exclude", r))
            .collect::<Result<_>>()?;
        let groups_cfg = if cfg.groups.is_empty() {
            default_groups()
        } else {
            cfg.groups.clone()
        };
        let groups = groups_cfg
            .iter()
            .map(|g| {
                Ok((
                    g.title.clone(),
                    g.regexp
                        .as_deref()
                        .map(|r| compile("groups.regexp", r))
                        .transpose()?,
                    g.order,
                ))
            })
            .collect::<Result<_>>()?;
        let env = environment(template.clone()).map_err(|e| Error::Template {
            key: "changelog.template".into(),
            template: template_name.into(),
            message: describe(&e),
        })?;
        let format = format_of(cfg);
        let lines = Lines::new(format, cfg.abbrev).map_err(|e| Error::Template {
            key: "changelog.format".into(),
            template: format.into(),
            message: describe(&e),
        })?;
        Ok(Renderer {
            include,
            exclude,
            groups,
            sort: cfg.sort,
            env,
            lines,
        })
    }

    /// Let `changelog.format` read the release's variables too (see [`Lines::globals`]).
    pub fn with_globals(mut self, vars: &crate::template::Vars) -> Self {
        self.lines.globals(vars);
        self
    }

    /// The commits that appear, in display order: merges dropped, reverted pairs dropped,
    /// filters applied, sorted.
    pub fn select<'a>(&self, commits: &'a [Arc<Commit>]) -> Vec<&'a Arc<Commit>> {
        let mut kept = effective(commits);
        kept.retain(|c| {
            (self.include.is_empty() || self.include.iter().any(|r| r.is_match(&c.subject)))
                && !self.exclude.iter().any(|r| r.is_match(&c.subject))
        });
        match self.sort {
            Sort::Asc => kept.sort_by(|a, b| a.subject.cmp(&b.subject)),
            Sort::Desc => kept.sort_by(|a, b| b.subject.cmp(&a.subject)),
            Sort::Git => {}
        }
        kept
    }

    fn groups<'a>(&'a self, commits: &[&'a Arc<Commit>]) -> Vec<GroupData<'a>> {
        let mut taken = vec![false; commits.len()];
        let mut out: Vec<GroupData> = Vec::with_capacity(self.groups.len());
        for (title, re, order) in &self.groups {
            let mut g = GroupData {
                title,
                order: *order,
                commits: vec![],
            };
            for (i, c) in commits.iter().enumerate() {
                if !taken[i] && re.as_ref().is_none_or(|r| r.is_match(&c.subject)) {
                    taken[i] = true;
                    g.commits.push(c);
                }
            }
            if !g.commits.is_empty() {
                out.push(g);
            }
        }
        out.sort_by_key(|g| g.order);
        out
    }

    fn render_one(&self, r: &Release, all: bool) -> std::result::Result<String, minijinja::Error> {
        let commits = self.select(&r.commits);
        // One view per shown commit, shared by every list it appears in: its line is
        // rendered once.
        let views: Vec<Value> = commits
            .iter()
            .map(|c| {
                Ok(Value::from_object(CommitView {
                    c: Arc::clone(c),
                    abbrev: self.lines.abbrev,
                    line: Some(self.lines.line(c)?),
                }))
            })
            .collect::<std::result::Result<_, minijinja::Error>>()?;
        let positions: Positions = commits
            .iter()
            .enumerate()
            .map(|(i, c)| (Arc::as_ptr(c), i))
            .collect();
        let view = |c: &Arc<Commit>| views[positions[&Arc::as_ptr(c)]].clone();
        let breaking: Vec<Value> = commits
            .iter()
            .filter(|c| c.breaking)
            .map(|c| view(c))
            .collect();
        let groups: Vec<Value> = self
            .groups(&commits)
            .iter()
            .map(|g| {
                minijinja::context! {
                    title => g.title,
                    order => g.order,
                    commits => g.commits.iter().map(|c| view(c)).collect::<Vec<_>>(),
                }
            })
            .collect();
        // Every GitHub account credited in these notes, once, in the order they appear.
        let mut logins: Vec<String> = vec![];
        for l in commits.iter().flat_map(|c| &c.logins) {
            if !logins.contains(l) {
                logins.push(l.clone());
            }
        }
        let ctx = minijinja::context! {
            all => all,
            tag => r.tag.clone().unwrap_or_default(),
            version => r.version.clone().unwrap_or_default(),
            previous_tag => r.previous_tag.clone().unwrap_or_default(),
            date => r.date.clone(),
            compare_url => r.compare_url.clone().unwrap_or_default(),
            breaking => breaking,
            groups => groups,
            commits => views,
            logins => logins,
        };
        self.env.get_template("changelog")?.render(ctx)
    }

    /// The release notes of one release.
    pub fn render(&self, r: &Release, template_name: &str) -> Result<String> {
        self.render_one(r, false)
            .map_err(|e| template_error(template_name, &e))
    }

    /// A whole CHANGELOG.md: a title, then each release (newest first) as a section.
    /// Sections are rendered on two threads (each a contiguous half of the commits), then
    /// joined in order.
    pub fn render_all(&self, releases: &[Release], template_name: &str) -> Result<String> {
        let total: usize = releases.iter().map(|r| r.commits.len()).sum();
        let mut acc = 0;
        let split = releases
            .iter()
            .position(|r| {
                acc += r.commits.len();
                acc * 2 >= total
            })
            .map_or(releases.len(), |i| i + 1);
        let (first, second) = releases.split_at(split);
        let part = |rs: &[Release]| -> Result<String> {
            let mut out = String::new();
            for r in rs {
                out.push('\n');
                out.push_str(
                    &self
                        .render_one(r, true)
                        .map_err(|e| template_error(template_name, &e))?,
                );
            }
            Ok(out)
        };
        let (a, b) = std::thread::scope(|scope| {
            let b = scope.spawn(|| part(second));
            (part(first), b.join().expect("render"))
        });
        Ok(format!("# Changelog\n{}{}", a?, b?))
    }
}

fn template_error(name: &str, e: &minijinja::Error) -> Error {
    Error::Template {
        key: "changelog.template".into(),
        template: name.into(),
        message: describe(e),
    }
}

/// `YYYY-MM-DD` (UTC) of a unix time.
pub fn day(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The folder a `changelog.template` path is relative to: the config file's folder.
pub fn template_base(config_file: &Path) -> &Path {
    config_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{Filters, Group};

    fn c(sha: &str, msg: &str) -> Arc<Commit> {
        Arc::new(
            Commit::from_record(&format!(
                "{sha}\x1f{}\x1fp\x1fA\x1fa@x\x1f0\x1f{msg}",
                &sha[..7]
            ))
            .unwrap(),
        )
    }

    fn renderer(cfg: &Changelog) -> Renderer {
        Renderer::new(cfg, "t", DEFAULT_TEMPLATE.into()).unwrap()
    }

    #[test]
    fn first_match_wins_and_order_sorts_sections() {
        // GoReleaser's documented example: declared order decides who takes a commit.
        let cfg = Changelog {
            groups: vec![
                Group {
                    title: "Deps".into(),
                    regexp: Some(r"^.*?(feat|fix)\(deps\)!?:.+$".into()),
                    order: 300,
                },
                Group {
                    title: "Features".into(),
                    regexp: Some(r"^.*?feat(\([[:word:]]+\))??!?:.+$".into()),
                    order: 100,
                },
                Group {
                    title: "Others".into(),
                    regexp: None,
                    order: 9999,
                },
            ],
            ..Default::default()
        };
        let commits = [
            c("1111111aaaa", "feat(deps): bump x"),
            c("2222222bbbb", "feat(cli): add y"),
            c("3333333cccc", "chore: z"),
        ];
        let r = renderer(&cfg);
        let sel = r.select(&commits);
        let g = r.groups(&sel);
        let titles: Vec<(&str, usize)> = g.iter().map(|g| (g.title, g.commits.len())).collect();
        assert_eq!(titles, [("Features", 1), ("Deps", 1), ("Others", 1)]);
        assert_eq!(g[1].commits[0].subject, "feat(deps): bump x");
    }

    #[test]
    fn filters_and_sort() {
        let cfg = Changelog {
            sort: Sort::Asc,
            filters: Filters {
                exclude: vec!["^docs:".into()],
                include: vec![],
            },
            ..Default::default()
        };
        let commits = [
            c("1111111aaaa", "fix: b"),
            c("2222222bbbb", "docs: x"),
            c("3333333cccc", "feat: a"),
        ];
        let r = renderer(&cfg);
        let subjects: Vec<&str> = r
            .select(&commits)
            .iter()
            .map(|c| c.subject.as_str())
            .collect();
        assert_eq!(subjects, ["feat: a", "fix: b"]);
    }

    #[test]
    fn revert_pairs_cancel() {
        let commits = [
            c(
                "3333333cccc",
                "Revert \"Revert \\\"feat: a\\\"\"\n\nThis reverts commit 2222222bbbb.",
            ),
            c(
                "2222222bbbb",
                "Revert \"feat: a\"\n\nThis reverts commit 1111111aaaa.",
            ),
            c("1111111aaaa", "feat: a"),
            c(
                "4444444dddd",
                "Revert \"feat: old\"\n\nThis reverts commit 9999999999.",
            ),
        ];
        let r = renderer(&Changelog::default());
        let subjects: Vec<&str> = r
            .select(&commits)
            .iter()
            .map(|c| c.subject.as_str())
            .collect();
        assert_eq!(subjects, ["feat: a", "Revert \"feat: old\""]);
    }

    #[test]
    fn templates_are_checked() {
        assert!(check_template(DEFAULT_TEMPLATE).is_ok());
        assert!(check_template("{% for g in groups %}{{ g.title }}{% endfor %}").is_ok());
        assert!(
            check_template("{{ nosuch }}")
                .unwrap_err()
                .contains("undefined"),
            "{:?}",
            check_template("{{ nosuch }}")
        );
        assert!(check_template("{% for c in commits %}{{ c.nope }}{% endfor %}").is_err());
        assert!(check_template("{% if %}").is_err());
    }
}
