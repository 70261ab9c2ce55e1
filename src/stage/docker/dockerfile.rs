//! A Dockerfile reader: instructions with their line numbers, flags and arguments, and the
//! variable substitution Dockerfiles use (`$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR:+word}`).
//!
//! It reads what rel needs to decide whether a Dockerfile only copies files onto a base (and
//! then to build it without an engine), and to name the line that needs an engine otherwise.
//! Written here rather than taken from a crate: the one maintained parser crate brings a PEG
//! runtime for a grammar this small, and rel needs exact line numbers for its messages.

use std::collections::BTreeMap;

/// An instruction's arguments: the JSON (exec) form or the plain (shell) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Args {
    /// `["a", "b"]`.
    Json(Vec<String>),
    /// Everything after the keyword and flags, continuation lines joined.
    Shell(String),
}

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// 1-based line where it starts.
    pub line: usize,
    /// Upper-case keyword (`COPY`).
    pub keyword: String,
    /// `--name=value` flags before the arguments, in order (`--link` has an empty value).
    pub flags: Vec<(String, String)>,
    /// The arguments.
    pub args: Args,
    /// Whether it uses a heredoc (`<<EOF`).
    pub heredoc: bool,
}

impl Instruction {
    /// A flag's value.
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The instruction as one line, for history entries and messages.
    pub fn text(&self) -> String {
        let mut s = self.keyword.clone();
        for (n, v) in &self.flags {
            s.push_str(&format!(" --{n}"));
            if !v.is_empty() {
                s.push_str(&format!("={v}"));
            }
        }
        match &self.args {
            Args::Json(a) => s.push_str(&format!(
                " {}",
                serde_json::to_string(a).unwrap_or_default()
            )),
            Args::Shell(t) if !t.is_empty() => s.push_str(&format!(" {t}")),
            Args::Shell(_) => {}
        }
        s
    }
}

/// A parse error with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// The escape character (`\\`, or `` ` `` by directive).
    pub escape: char,
    /// The instructions, in order.
    pub instructions: Vec<Instruction>,
}

/// Parse a Dockerfile into its instructions.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let mut escape = '\\';
    let mut lines = text.lines().enumerate().peekable();
    // Parser directives: `# key=value` lines before anything else.
    while let Some((_, l)) = lines.peek() {
        let t = l.trim();
        let Some(rest) = t.strip_prefix('#') else {
            break;
        };
        match rest.split_once('=') {
            Some((k, v)) if k.trim().eq_ignore_ascii_case("escape") => {
                escape = match v.trim() {
                    "`" => '`',
                    "\\" => '\\',
                    other => {
                        return Err(ParseError {
                            line: lines.peek().map(|x| x.0 + 1).unwrap_or(1),
                            message: format!("invalid escape directive `{other}`"),
                        });
                    }
                };
                lines.next();
            }
            Some((k, _)) if k.trim().chars().all(|c| c.is_ascii_alphabetic()) => {
                lines.next();
            }
            _ => break,
        }
    }
    let mut out = vec![];
    while let Some((i, line)) = lines.next() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let start = i + 1;
        let mut joined = String::new();
        let mut cur = line.trim_end().to_string();
        loop {
            match cur.strip_suffix(escape) {
                Some(head) => {
                    joined.push_str(head);
                    // The next non-comment line continues this one.
                    let mut next = None;
                    for (_, l) in lines.by_ref() {
                        if l.trim_start().starts_with('#') {
                            continue;
                        }
                        next = Some(l.trim_end().to_string());
                        break;
                    }
                    match next {
                        Some(n) => cur = n,
                        None => break,
                    }
                }
                None => {
                    joined.push_str(&cur);
                    break;
                }
            }
        }
        let joined = joined.trim();
        let (kw, rest) = joined
            .split_once(char::is_whitespace)
            .unwrap_or((joined, ""));
        if !kw.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(ParseError {
                line: start,
                message: format!("`{kw}` is not a Dockerfile instruction"),
            });
        }
        let keyword = kw.to_ascii_uppercase();
        let mut rest = rest.trim_start();
        let mut flags = vec![];
        while let Some(f) = rest.strip_prefix("--") {
            let (word, after) = f.split_once(char::is_whitespace).unwrap_or((f, ""));
            let (n, v) = word.split_once('=').unwrap_or((word, ""));
            flags.push((n.to_string(), v.to_string()));
            rest = after.trim_start();
        }
        let heredoc = rest.contains("<<")
            && matches!(keyword.as_str(), "RUN" | "COPY" | "ADD")
            && rest.split("<<").nth(1).is_some_and(|h| {
                h.trim_start_matches('-')
                    .starts_with(|c: char| c.is_ascii_alphabetic() || c == '"' || c == '\'')
            });
        if heredoc {
            // Skip the heredoc bodies: everything up to each terminator line.
            let words: Vec<String> = rest
                .split("<<")
                .skip(1)
                .filter_map(|h| {
                    let w: String = h
                        .trim_start_matches('-')
                        .trim_matches(|c| c == '"' || c == '\'')
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    (!w.is_empty()).then_some(w)
                })
                .collect();
            for w in words {
                for (_, l) in lines.by_ref() {
                    if l.trim() == w {
                        break;
                    }
                }
            }
        }
        let args = if rest.starts_with('[') {
            match serde_json::from_str::<Vec<String>>(rest) {
                Ok(v) => Args::Json(v),
                Err(_) => Args::Shell(rest.to_string()),
            }
        } else {
            Args::Shell(rest.to_string())
        };
        out.push(Instruction {
            line: start,
            keyword,
            flags,
            args,
            heredoc,
        });
    }
    if !out.iter().any(|i| i.keyword == "FROM") {
        return Err(ParseError {
            line: 1,
            message: "no FROM instruction".into(),
        });
    }
    Ok(Dockerfile {
        escape,
        instructions: out,
    })
}

/// Substitute `$VAR`, `${VAR}`, `${VAR:-word}` and `${VAR:+word}` from `vars`; an unset
/// variable is empty, and `\$` (with the escape character) is a literal `$`.
pub fn expand(s: &str, vars: &BTreeMap<String, String>, escape: char) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == escape && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            let Some(end) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.extend(&chars[i..]);
                break;
            };
            let inner: String = chars[i + 2..i + 2 + end].iter().collect();
            let value = if let Some((name, word)) = inner.split_once(":-") {
                vars.get(name)
                    .filter(|v| !v.is_empty())
                    .cloned()
                    .unwrap_or_else(|| expand(word, vars, escape))
            } else if let Some((name, word)) = inner.split_once(":+") {
                if vars.get(name).is_some_and(|v| !v.is_empty()) {
                    expand(word, vars, escape)
                } else {
                    String::new()
                }
            } else {
                vars.get(&inner).cloned().unwrap_or_default()
            };
            out.push_str(&value);
            i += 3 + end;
        } else {
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if name.is_empty() {
                out.push('$');
                i += 1;
            } else {
                out.push_str(vars.get(&name).map(String::as_str).unwrap_or(""));
                i += 1 + name.chars().count();
            }
        }
    }
    out
}

/// Split `k=v k2="v 2"` (ENV, LABEL, ARG) into pairs, honouring double and single quotes
/// and backslash escapes. The legacy `ENV key value words` form gives one pair.
pub fn pairs(s: &str) -> Vec<(String, String)> {
    let words = words(s);
    if words.first().is_some_and(|w| !w.contains('=')) {
        let key = words[0].clone();
        let value = s.trim()[words_first_len(s)..].trim().to_string();
        return vec![(key, unquote(&value))];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (w, String::new()),
        })
        .collect()
}

fn words_first_len(s: &str) -> usize {
    let t = s.trim();
    t.find(char::is_whitespace).unwrap_or(t.len())
}

fn unquote(s: &str) -> String {
    words(s).join(" ")
}

/// Whitespace-separated words with quotes removed (quotes keep spaces inside a word).
pub fn words(s: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut has = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                has = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                has = true;
            }
            (_, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_instructions_flags_forms_and_continuations() {
        let df = "# syntax=docker/dockerfile:1\n\
                  ARG BASE=scratch\n\
                  FROM ${BASE} AS final\n\
                  # a comment\n\
                  COPY --chmod=0755 --link $TARGETPLATFORM/app \\\n\
                  # inside\n\
                  \x20 /usr/bin/app\n\
                  ENTRYPOINT [\"/usr/bin/app\", \"serve\"]\n\
                  run echo hi\n";
        let got = parse(df).unwrap().instructions;
        assert_eq!(got.len(), 5);
        assert_eq!(got[1].keyword, "FROM");
        assert_eq!(got[1].line, 3);
        assert_eq!(got[2].line, 5);
        assert_eq!(
            got[2].flags,
            vec![
                ("chmod".into(), "0755".into()),
                ("link".into(), String::new())
            ]
        );
        assert_eq!(
            got[2].args,
            Args::Shell("$TARGETPLATFORM/app   /usr/bin/app".into())
        );
        assert_eq!(
            got[3].args,
            Args::Json(vec!["/usr/bin/app".into(), "serve".into()])
        );
        assert_eq!(got[4].keyword, "RUN");
        assert_eq!(got[4].line, 9);
    }

    #[test]
    fn escape_directive_and_heredocs() {
        let df = "# escape=`\nFROM scratch\nCOPY a `\n  b/\nRUN <<EOF\necho hi\nEOF\nCMD x\n";
        let got = parse(df).unwrap().instructions;
        assert_eq!(got[1].args, Args::Shell("a   b/".into()));
        assert!(got[2].heredoc);
        assert_eq!(got[3].keyword, "CMD");
        assert_eq!(got[3].line, 8);
        assert_eq!(
            parse("COPY a b\n").unwrap_err().message,
            "no FROM instruction"
        );
        assert_eq!(parse("FROM x\n%% y\n").unwrap_err().line, 2);
    }

    #[test]
    fn substitutes_variables() {
        let vars: BTreeMap<String, String> = [
            ("TARGETPLATFORM".to_string(), "linux/arm/v7".to_string()),
            ("EMPTY".to_string(), String::new()),
        ]
        .into();
        assert_eq!(
            expand("$TARGETPLATFORM/app", &vars, '\\'),
            "linux/arm/v7/app"
        );
        assert_eq!(expand("${TARGETPLATFORM}x", &vars, '\\'), "linux/arm/v7x");
        assert_eq!(expand("${EMPTY:-def} ${NONE:+alt}.", &vars, '\\'), "def .");
        assert_eq!(expand("\\$HOME $", &vars, '\\'), "$HOME $");
    }

    #[test]
    fn splits_pairs() {
        assert_eq!(
            pairs(r#"A=1 B="two words" C='x y'"#),
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x y".into())
            ]
        );
        assert_eq!(pairs("PATH /a /b"), vec![("PATH".into(), "/a /b".into())]);
    }
}
