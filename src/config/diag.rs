//! Config diagnostics: `file:line:column`, the offending line with a caret, and a hint.
//!
//! Both YAML/type errors (from serde-saphyr) and semantic errors found after loading (an
//! unknown `goos`, duplicate ids) are rendered by this one function so that every config
//! error a user sees has the same shape.

use std::path::Path;

/// A position in the config source, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub column: usize,
    /// Width of the underlined span, at least 1.
    pub width: usize,
}

/// Render an error with its location, the source line and an optional hint.
pub fn render(
    file: &Path,
    src: &str,
    pos: Option<Pos>,
    message: &str,
    hint: Option<&str>,
) -> String {
    let mut out = format!("error: {message}\n");
    match pos {
        Some(p) if p.line > 0 => {
            out.push_str(&format!(
                "  --> {}:{}:{}\n",
                file.display(),
                p.line,
                p.column
            ));
            if let Some(text) = src.lines().nth(p.line - 1) {
                let num = p.line.to_string();
                let pad = " ".repeat(num.len());
                let caret_at = " ".repeat(p.column.saturating_sub(1));
                let width = p
                    .width
                    .max(1)
                    .min(text.len().saturating_sub(p.column - 1).max(1));
                out.push_str(&format!(
                    " {pad} |\n {num} | {text}\n {pad} | {caret_at}{}\n",
                    "^".repeat(width)
                ));
            }
        }
        _ => out.push_str(&format!("  --> {}\n", file.display())),
    }
    if let Some(h) = hint {
        out.push_str(&format!("   = help: {h}\n"));
    }
    out.trim_end().to_string()
}

pub use crate::suggest::did_you_mean;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(did_you_mean("goso", ["goos", "goarch"]), Some("goos"));
        assert_eq!(
            did_you_mean("ldflag", ["flags", "ldflags"]),
            Some("ldflags")
        );
        assert_eq!(did_you_mean("zzzz", ["goos", "goarch"]), None);
    }

    #[test]
    fn renders_line_and_caret() {
        let src = "a: 1\nbuilds:\n  - goos: [lnux]\n";
        let pos = Pos {
            line: 3,
            column: 12,
            width: 4,
        };
        let s = render(
            Path::new("r.yaml"),
            src,
            Some(pos),
            "unknown goos `lnux`",
            Some("did you mean `linux`?"),
        );
        assert!(s.contains("--> r.yaml:3:12"), "{s}");
        assert!(s.contains(" 3 |   - goos: [lnux]"), "{s}");
        assert!(s.contains("   |            ^^^^"), "{s}");
        assert!(s.ends_with("= help: did you mean `linux`?"), "{s}");
    }
}
