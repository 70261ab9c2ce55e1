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
    serde_saphyr::from_str_with_options::<T>(src, options).map_err(|e| Error::Config(render(file, src, &e)))
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
    Some(Pos { line, column, width })
}

fn render(file: &Path, src: &str, err: &YamlError) -> String {
    let inner = innermost(err);
    let (message, hint) = match inner {
        YamlError::SerdeUnknownField { field, expected, .. } => (
            format!("unknown key `{field}`"),
            Some(match diag::did_you_mean(field, expected.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("valid keys here: {}", expected.join(", ")),
            }),
        ),
        YamlError::SerdeUnknownVariant { variant, expected, .. } => (
            format!("invalid value `{variant}`"),
            Some(match diag::did_you_mean(variant, expected.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? (expected one of: {})", expected.join(", ")),
                None => format!("expected one of: {}", expected.join(", ")),
            }),
        ),
        other => {
            let mut opts = RenderOptions::new(&UserMessageFormatter);
            opts.snippets = SnippetMode::Off;
            let text = other.render_with_options(opts);
            let first = text.lines().next().unwrap_or("invalid YAML").to_string();
            (strip_location(&first), None)
        }
    };
    diag::render(file, src, pos(err, src), &message, hint.as_deref())
}

/// serde-saphyr appends "at line N, column M" to messages; the diagnostic shows it already.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].trim_end_matches(',').to_string(),
        None => msg.to_string(),
    }
}
