//! Templates: minijinja with strict undefined, rel's variables, functions and filters.
//!
//! Every templated config value goes through [`Templates::render`], which names the config
//! key and the template text in its error, and names the undefined variable (with a "did you
//! mean") rather than minijinja's generic "undefined value".

use crate::error::{Error, Result};
use crate::suggest::did_you_mean;
use minijinja::{Environment, State, UndefinedBehavior, Value};
use std::collections::BTreeMap;

/// Template variables by name.
pub type Vars = BTreeMap<String, Value>;

/// Global variable names, always defined when templates render.
pub const GLOBALS: &[&str] = &[
    "project_name",
    "version",
    "tag",
    "previous_tag",
    "major",
    "minor",
    "patch",
    "prerelease",
    "commit",
    "short_commit",
    "full_commit",
    "branch",
    "commit_date",
    "commit_timestamp",
    "date",
    "timestamp",
    "is_snapshot",
    "is_git_dirty",
    "is_nightly",
    "summary",
    "runtime",
    "env",
    "release_url",
];

/// Per-target variable names.
pub const TARGET_VARS: &[&str] = &[
    "os", "arch", "arm", "amd64", "mips", "target", "binary", "ext",
];

/// The template environment.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

fn bump(v: &str, which: u8) -> std::result::Result<String, minijinja::Error> {
    let (prefix, rest) = match v.strip_prefix('v') {
        Some(r) => ("v", r),
        None => ("", v),
    };
    let mut ver = semver::Version::parse(rest).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("`{v}` is not a semver version: {e}"),
        )
    })?;
    match which {
        0 => {
            ver = semver::Version::new(ver.major + 1, 0, 0);
        }
        1 => ver = semver::Version::new(ver.major, ver.minor + 1, 0),
        _ => {
            if ver.pre.is_empty() {
                ver.patch += 1;
            }
            ver.pre = semver::Prerelease::EMPTY;
        }
    }
    ver.build = semver::BuildMetadata::EMPTY;
    Ok(format!("{prefix}{ver}"))
}

/// `date|strftime("%Y-%m-%d")`: an RFC 3339 date (or unix seconds) formatted in UTC, so that
/// `date` and `commit_date` can be written in any layout (GoReleaser's `time "2006-01-02"`).
fn strftime(value: Value, format: String) -> std::result::Result<String, minijinja::Error> {
    let invalid = |msg: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg);
    let ts = if let Some(s) = value.as_str() {
        s.parse::<jiff::Timestamp>()
            .map_err(|e| invalid(format!("`{s}` is not an RFC 3339 date: {e}")))?
    } else {
        let secs = i64::try_from(value.clone())
            .map_err(|_| invalid(format!("`{value}` is neither a date nor unix seconds")))?;
        jiff::Timestamp::from_second(secs).map_err(|e| invalid(e.to_string()))?
    };
    jiff::fmt::strtime::format(format.as_str(), &ts.to_zoned(jiff::tz::TimeZone::UTC))
        .map_err(|e| invalid(format!("strftime format `{format}`: {e}")))
}

/// Items joined as English lists them, blank ones left out: `a`, `a and b`,
/// `a, b, and c` (GoReleaser's `englishJoin`).
fn english_join(items: Vec<String>) -> String {
    let items: Vec<&str> = items
        .iter()
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
        .collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// A template's regular expression, its error as a template error.
fn regex(pattern: &str) -> Result<regex::Regex, minijinja::Error> {
    regex::Regex::new(pattern).map_err(|e| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("`{pattern}` is not a regular expression: {e}"),
        )
    })
}

/// The lines of `text` that match `pattern` (`keep`), or that do not (GoReleaser's
/// `filter` and `reverseFilter`).
fn lines_where(text: &str, pattern: &str, keep: bool) -> Result<String, minijinja::Error> {
    let re = regex(pattern)?;
    Ok(text
        .split('\n')
        .filter(|l| re.is_match(l) == keep)
        .collect::<Vec<_>>()
        .join("\n"))
}

/// The next patch version of `v` (used in messages).
pub fn incpatch(v: &semver::Version) -> String {
    bump(&v.to_string(), 2).unwrap_or_default()
}

/// A minijinja environment with rel's rules: strict undefined, trailing newlines kept, and
/// rel's filters and functions. `trim_blocks` (with `lstrip_blocks`) suits multi-line
/// templates such as the changelog; one-line config values keep every character.
pub fn base_environment(trim_blocks: bool) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(trim_blocks)
            .lstrip_blocks(trim_blocks)
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters are valid"),
    );
    env.add_filter("trimprefix", |s: String, p: String| {
        s.strip_prefix(&p).map(String::from).unwrap_or(s)
    });
    env.add_filter("trimsuffix", |s: String, p: String| {
        s.strip_suffix(&p).map(String::from).unwrap_or(s)
    });
    env.add_filter("strftime", strftime);
    env.add_filter("english_join", english_join);
    env.add_filter("reject_matching", |items: Vec<String>, pattern: String| {
        let re = regex(&pattern)?;
        Ok::<_, minijinja::Error>(
            items
                .into_iter()
                .filter(|s| !re.is_match(s))
                .collect::<Vec<_>>(),
        )
    });
    env.add_filter("lines_matching", |text: String, pattern: String| {
        lines_where(&text, &pattern, true)
    });
    env.add_filter("lines_not_matching", |text: String, pattern: String| {
        lines_where(&text, &pattern, false)
    });
    env.add_function("incmajor", |v: String| bump(&v, 0));
    env.add_function("incminor", |v: String| bump(&v, 1));
    env.add_function("incpatch", |v: String| bump(&v, 2));
    env.add_function("env_or", |state: &State, name: String, default: Value| {
        let from_map = state
            .lookup("env")
            .and_then(|m| m.get_attr(&name).ok())
            .filter(|v| !v.is_undefined() && !v.is_none());
        match from_map {
            Some(v) if !v.to_string().is_empty() => v,
            _ => default,
        }
    });
    env
}

impl Templates {
    /// An environment with rel's functions and filters and strict undefined behaviour.
    pub fn new() -> Self {
        let env = base_environment(false);
        Templates { env }
    }

    /// Render `template` (the value of config key `key`) with `vars`.
    pub fn render(&self, key: &str, template: &str, vars: &Vars) -> Result<String> {
        if !template.contains("{{") && !template.contains("{%") && !template.contains("{#") {
            return Ok(template.to_string());
        }
        self.env
            .render_str(template, vars)
            .map_err(|e| self.explain(key, template, vars.keys().map(String::as_str), &e))
    }

    /// Check that `template` parses and uses only `known` variables, without rendering.
    pub fn check<'a>(
        &self,
        key: &str,
        template: &str,
        known: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<()> {
        let tmpl = self
            .env
            .template_from_str(template)
            .map_err(|e| self.explain(key, template, known.clone(), &e))?;
        if let Some(name) = &self.first_unknown(&tmpl, known.clone()) {
            return Err(Error::Template {
                key: key.into(),
                template: template.into(),
                message: undefined_message(name, known),
            });
        }
        // Unknown filters, functions and tests are only found when rendering: render once
        // with sample values and report just those kinds of error.
        let sample: Vars = known
            .into_iter()
            .map(|k| (k.to_string(), sample_value(k)))
            .collect();
        if let Err(e) = tmpl.render(&sample) {
            use minijinja::ErrorKind as K;
            if matches!(
                e.kind(),
                K::UnknownFilter
                    | K::UnknownFunction
                    | K::UnknownTest
                    | K::UnknownMethod
                    | K::TooManyArguments
                    | K::MissingArgument
            ) {
                return Err(Error::Template {
                    key: key.into(),
                    template: template.into(),
                    message: detail(&e),
                });
            }
        }
        Ok(())
    }

    /// The first (alphabetically) variable `tmpl` uses that is neither in `known` nor a
    /// global of the environment.
    fn first_unknown<'a>(
        &self,
        tmpl: &minijinja::Template<'_, '_>,
        known: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Option<String> {
        let mut names: Vec<String> = tmpl
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| {
                !known.clone().into_iter().any(|k| k == v)
                    && self.env.globals().all(|(g, _)| g != v)
            })
            .collect();
        names.sort();
        names.into_iter().next()
    }

    fn explain<'a>(
        &self,
        key: &str,
        template: &str,
        known: impl IntoIterator<Item = &'a str> + Clone,
        e: &minijinja::Error,
    ) -> Error {
        let message = if e.kind() == minijinja::ErrorKind::UndefinedError {
            let missing = self
                .env
                .template_from_str(template)
                .ok()
                .and_then(|t| self.first_unknown(&t, known.clone()));
            match missing {
                Some(name) => undefined_message(&name, known),
                None => format!(
                    "{} (a variable exists but the attribute or item does not)",
                    detail(e)
                ),
            }
        } else {
            detail(e)
        };
        Error::Template {
            key: key.into(),
            template: template.into(),
            message,
        }
    }
}

/// A plausible value for a variable, used to trial-render templates in `rel check`.
pub fn sample_value(name: &str) -> Value {
    match name {
        "version" => Value::from("1.2.3"),
        "tag" | "previous_tag" => Value::from("v1.2.3"),
        "major" | "minor" | "patch" | "commit_timestamp" | "timestamp" => Value::from(1),
        "is_snapshot" | "is_git_dirty" => Value::from(false),
        "env" => Value::from_pairs(std::iter::empty::<(String, String)>()),
        _ => Value::from("x"),
    }
}

fn detail(e: &minijinja::Error) -> String {
    let mut msg = match e.detail() {
        // `{{ env.NAME }}` for a variable that is not set: say which, and how to default it.
        Some(d) if d.starts_with("`env.") && d.contains("` is undefined") => {
            let name = d["`env.".len()..].split('`').next().unwrap_or_default();
            format!(
                "the environment variable `{name}` is not set (set it, or write `{{{{ env.{name} | default(\"\") }}}}`)"
            )
        }
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    };
    if let Some(line) = e.line() {
        msg.push_str(&format!(" (line {line})"));
    }
    msg
}

fn undefined_message<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    match did_you_mean(name, known.iter().copied()) {
        Some(s) => format!("undefined variable `{name}`; did you mean `{s}`?"),
        None => format!(
            "undefined variable `{name}`; available: {}",
            known.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.insert("version".into(), Value::from("1.2.3"));
        v.insert("tag".into(), Value::from("v1.2.3"));
        let env: BTreeMap<String, String> = [("HOME".to_string(), "/root".to_string())].into();
        v.insert("env".into(), Value::from_pairs(env));
        v
    }

    #[test]
    fn an_unset_environment_variable_is_named() {
        let t = Templates::new();
        let e = t
            .render("k", "{{ env.REL_SURELY_UNSET }}", &vars())
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("the environment variable `REL_SURELY_UNSET` is not set"),
            "{e}"
        );
        assert_eq!(
            t.render("k", "{{ env.REL_SURELY_UNSET | default(\"x\") }}", &vars())
                .unwrap(),
            "x"
        );
    }

    #[test]
    fn renders_functions_and_filters() {
        let t = Templates::new();
        let out = t
            .render("k", "{{ incpatch(version) }} {{ incminor(tag) }} {{ incmajor(version) }} {{ tag | trimprefix('v') }} {{ 'a.tar.gz' | trimsuffix('.gz') }}", &vars())
            .unwrap();
        assert_eq!(out, "1.2.4 v1.3.0 2.0.0 1.2.3 a.tar");
        let mut v = vars();
        v.insert("date".into(), Value::from("2024-03-05T07:08:09Z"));
        v.insert("timestamp".into(), Value::from(1_709_622_489));
        assert_eq!(
            t.render(
                "k",
                "{{ date|strftime('%Y%m%d %-I%P %b %Z') }} {{ timestamp|strftime('%F %T') }}",
                &v
            )
            .unwrap(),
            "20240305 7am Mar UTC 2024-03-05 07:08:09"
        );
        assert_eq!(
            t.render(
                "k",
                "{{ env_or('HOME', 'x') }}-{{ env_or('NOPE', 'dflt') }}",
                &vars()
            )
            .unwrap(),
            "/root-dflt"
        );
    }

    #[test]
    fn undefined_variable_is_named_with_suggestion() {
        let t = Templates::new();
        let e = t
            .render("builds[0].ldflags", "-X main.v={{ verison }}", &vars())
            .unwrap_err()
            .to_string();
        assert!(e.contains("`builds[0].ldflags`"), "{e}");
        assert!(
            e.contains("undefined variable `verison`; did you mean `version`?"),
            "{e}"
        );
        assert!(e.contains("-X main.v={{ verison }}"), "{e}");
    }

    #[test]
    fn check_finds_unknown_names_without_rendering() {
        let t = Templates::new();
        assert!(
            t.check(
                "k",
                "{{ version }}{% if arm %}v{{ arm }}{% endif %}",
                ["version", "arm"]
            )
            .is_ok()
        );
        let e = t
            .check("k", "{{ versio }}", ["version"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `version`"), "{e}");
        let e = t
            .check("k", "{{ version | nosuch }}", ["version"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("nosuch"), "{e}");
        let e = t
            .check("k", "{{ version ", ["version"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("syntax error"), "{e}");
    }
}
