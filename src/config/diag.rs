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
    let mut out = format!("error: {}\n", shorten(message, 2000));
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
                let (shown, caret_col, room) = window(text, p.column.max(1));
                let caret_at = " ".repeat(caret_col - 1);
                let width = p.width.max(1).min(room.max(1));
                out.push_str(&format!(
                    " {pad} |\n {num} | {shown}\n {pad} | {caret_at}{}\n",
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

/// The widest source line shown whole; longer ones are cut around the caret.
const LINE_MAX: usize = 120;

/// The part of `text` to show around 1-based character `column`: the text, where the caret
/// goes in it (1-based), and how many characters are left after the caret for underlining.
fn window(text: &str, column: usize) -> (String, usize, usize) {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= LINE_MAX {
        return (
            text.to_string(),
            column,
            chars.len().saturating_sub(column - 1),
        );
    }
    let at = (column - 1).min(chars.len());
    let start = at.saturating_sub(LINE_MAX / 3);
    let end = (start + LINE_MAX).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut caret = at - start + 1;
    if start > 0 {
        shown.insert(0, '…');
        caret += 1;
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret, end.saturating_sub(at))
}

/// `text` cut in the middle when longer than `max` characters (a value quoted in a message
/// can be as long as the config's longest line).
pub fn shorten(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max / 2).collect();
    let tail: String = text.chars().skip(n - max / 2).collect();
    format!("{head}…({} characters left out)…{tail}", n - max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let src = format!("a: {}BAD{}\n", "x".repeat(5000), "y".repeat(5000));
        let pos = Pos {
            line: 1,
            column: 5004,
            width: 3,
        };
        let s = render(Path::new("r.yaml"), &src, Some(pos), "bad", None);
        assert!(s.len() < 600, "{}", s.len());
        let lines: Vec<&str> = s.lines().collect();
        let text = lines[3];
        let caret = lines[4];
        let col = caret.find('^').unwrap();
        assert_eq!(
            text.chars().skip(col).take(3).collect::<String>(),
            "BAD",
            "{s}"
        );
        assert!(shorten(&"z".repeat(10_000), 100).len() < 200);
    }

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
