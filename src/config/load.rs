//! Loading YAML into the config model: the one place YAML is parsed.
//!
//! serde-saphyr gives locations for syntax and type errors and handles anchors and merge
//! keys; this module turns its errors into rel's diagnostic shape with a "did you mean".

use super::diag::{self, Pos};
use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde_saphyr::{Error as YamlError, RenderOptions, SnippetMode, UserMessageFormatter};
use std::path::Path;

/// Parse `src` (read from `file`) into `T`, rendering any error for a person.
pub fn from_yaml<T: DeserializeOwned>(file: &Path, src: &str) -> Result<T> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    serde_saphyr::from_str_with_options::<T>(src, options)
        .map_err(|e| Error::Config(render(file, src, &e)))
}

/// Parse a whole config. When a key is unknown, every unknown key is reported at once (up to
/// 20), each at its place, not only the first one the parser met.
pub fn config_from_yaml(file: &Path, src: &str) -> Result<super::Config> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    let err = match serde_saphyr::from_str_with_options::<super::Config>(src, options) {
        Ok(c) => return Ok(c),
        Err(e) => e,
    };
    if matches!(innermost(&err), YamlError::SerdeUnknownField { .. })
        && let Ok(data) = serde_saphyr::from_str::<serde_json::Value>(src)
        && let Ok(schema) = serde_json::to_value(schemars::schema_for!(super::Config))
    {
        let unknown = super::keys::unknown_keys(&data, &schema);
        if unknown.len() > 1 {
            // In the order they appear, each pointing at the key itself.
            let mut placed: Vec<(Option<Pos>, &super::keys::Unknown)> = unknown
                .iter()
                .map(|u| {
                    let pos = super::locate::locate(src, &u.path).map(|mut p| {
                        if let Some(line) = src.lines().nth(p.line.saturating_sub(1))
                            && let Some(i) = line.find(u.key.as_str())
                        {
                            p.column = line[..i].chars().count() + 1;
                        }
                        p.width = u.key.chars().count().max(1);
                        p
                    });
                    (pos, u)
                })
                .collect();
            placed.sort_by_key(|(p, _)| p.map(|p| (p.line, p.column)));
            let shown: Vec<String> = placed
                .iter()
                .take(20)
                .map(|(pos, u)| {
                    let expected: Vec<&str> = u.expected.iter().map(String::as_str).collect();
                    let hint = goreleaser_hint(&u.key, &expected).or_else(|| {
                        diag::did_you_mean(&u.key, expected.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"))
                    });
                    diag::render(
                        file,
                        src,
                        *pos,
                        &format!("unknown key `{}`", u.key),
                        hint.as_deref(),
                    )
                })
                .collect();
            let more = if unknown.len() > 20 {
                format!("\n\n… and {} more unknown keys", unknown.len() - 20)
            } else {
                String::new()
            };
            return Err(Error::Config(format!("{}{more}", shown.join("\n\n"))));
        }
    }
    Err(Error::Config(render(file, src, &err)))
}

fn innermost(mut err: &YamlError) -> &YamlError {
    while let YamlError::AliasError { error, .. } | YamlError::WithSnippet { error, .. } = err {
        err = error;
    }
    err
}

fn pos(err: &YamlError, src: &str) -> Option<Pos> {
    let loc = err.location()?;
    if loc.line() == 0 {
        return None;
    }
    let (line, column) = (loc.line() as usize, loc.column() as usize);
    // Underline the word at the location (a key or a scalar).
    let width = src
        .lines()
        .nth(line - 1)
        .map(|l| {
            l.chars()
                .skip(column.saturating_sub(1))
                .take_while(|c| !c.is_whitespace() && !matches!(c, ':' | ',' | ']' | '}'))
                .count()
        })
        .unwrap_or(1);
    Some(Pos {
        line,
        column,
        width,
    })
}

fn render(file: &Path, src: &str, err: &YamlError) -> String {
    let inner = innermost(err);
    let (message, hint) = match inner {
        YamlError::SerdeUnknownField {
            field, expected, ..
        } => (
            format!("unknown key `{field}`"),
            Some(match goreleaser_hint(field, expected) {
                Some(h) => h,
                None => match diag::did_you_mean(field, expected.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("valid keys here: {}", expected.join(", ")),
                },
            }),
        ),
        YamlError::SerdeUnknownVariant {
            variant, expected, ..
        } => (
            format!("invalid value `{variant}`"),
            Some(
                match diag::did_you_mean(variant, expected.iter().copied()) {
                    Some(s) => format!(
                        "did you mean `{s}`? (expected one of: {})",
                        expected.join(", ")
                    ),
                    None => format!("expected one of: {}", expected.join(", ")),
                },
            ),
        ),
        other => {
            let mut opts = RenderOptions::new(&UserMessageFormatter);
            opts.snippets = SnippetMode::Off;
            let text = other.render_with_options(opts);
            let first = text.lines().next().unwrap_or("invalid YAML").to_string();
            let msg = strip_location(&first);
            let hint = friendlier(&msg);
            (msg, hint)
        }
    };
    diag::render(file, src, pos(err, src), &message, hint.as_deref())
}

/// GoReleaser keys that rel spells differently, or does not have: a user coming from a
/// `.goreleaser.yaml` gets the real answer rather than the nearest spelling.
fn goreleaser_hint(field: &str, expected: &[&str]) -> Option<String> {
    let has = |k: &str| expected.contains(&k);
    let renamed = |theirs: &str, ours: &str| {
        format!("`{theirs}` is GoReleaser's name for what rel calls `{ours}`")
    };
    Some(match field {
        _ if field == "includes" || field == "variables" => format!(
            "`{field}` is GoReleaser's; `rel import` resolves it into a rel config (and `--config .goreleaser.yaml` does so in memory)"
        ),
        "ids" if has("builds") => renamed("ids", "builds"),
        "format" if has("formats") => renamed("format", "formats: [..]"),
        "kos" if has("images") => renamed(field, "images"),
        "name_template" if has("version_template") => renamed("name_template", "version_template"),
        "nix" | "krews" | "chocolateys" | "snapcrafts" | "binary_signs" | "notarize" | "upx"
        | "announce" | "blobs" | "uploads" | "publishers" | "artifactories" | "nightly"
        | "partial" | "env_files" | "dockerhub" | "furies" | "cloudsmiths" | "npms"
        | "makeselfs" | "flatpaks" => {
            format!(
                "GoReleaser's `{field}` has no equivalent in rel yet; `rel schema` lists every key rel reads"
            )
        }
        _ => return None,
    })
}

/// A plain-words hint for the parser's terser type messages.
fn friendlier(msg: &str) -> Option<String> {
    let m = msg.to_ascii_lowercase();
    let hint = if m.contains("expected sequence") {
        "a list is expected here, e.g. `[linux, darwin]` or one `- item` per line"
    } else if m.contains("expected mapping")
        || m.contains("expected struct")
        || m.contains("expected map")
    {
        "a mapping of `key: value` lines is expected here"
    } else if m.contains("invalid bool") {
        "use `true` or `false`"
    } else if m.contains("invalid u") || m.contains("invalid i") {
        "a whole number is expected here"
    } else if m.contains("did not match any variant of untagged enum") {
        "this key takes a value of another shape; `rel schema` prints the shape of every key"
    } else {
        return None;
    };
    Some(hint.to_string())
}

/// serde-saphyr appends "at line N, column M" to messages; the diagnostic shows it already.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].trim_end_matches(',').to_string(),
        None => msg.to_string(),
    }
}
