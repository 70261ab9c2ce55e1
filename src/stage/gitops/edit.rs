//! Byte-preserving edits of image references in the files of a config repository (what
//! Argo CD and Flux reconcile).
//!
//! A deployment follows from these files and people review every change to them as a diff,
//! so nothing here goes through a YAML library and back (that would re-quote, re-indent and
//! drop comments). The file is read line by line, only as far as needed to find the scalars
//! (or the one map) to change; only the bytes of those scalars change, or whole lines are
//! added or removed. Comments, key order, quoting, indentation, blank lines, CRLF line
//! endings, a byte-order mark and a missing final newline are kept.
//!
//! What the scanner knows of YAML: block mappings and sequences by indentation; plain,
//! single- and double-quoted scalars on one line; trailing comments; anchors and tags before
//! a value. Block scalars (`|`, `>`), quoted scalars and flow collections over several lines
//! and plain scalars continued on the next lines are recognised, so that their text is
//! never taken for keys or markers, but they are not edited: a target in one of them is an
//! error that says where.

use regex::{Regex, RegexBuilder};
use similar::TextDiff;
use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

/// The reference to write.
///
/// The digest is what makes the deployment exact (a tag can be moved, a digest cannot); the
/// tag is written next to it only when wanted, for the people and tools that read tags.
#[derive(Debug, Clone, Copy)]
pub struct NewImage<'a> {
    /// The repository, without tag or digest (`ghcr.io/acme/api`).
    pub repository: &'a str,
    /// The tag rel pushed, written only when `with_tag` is set.
    pub tag: &'a str,
    /// The digest rel pushed (`sha256:…`).
    pub digest: &'a str,
    /// Whether the tag is written next to the digest.
    pub with_tag: bool,
}

impl NewImage<'_> {
    /// The full reference: `repository:tag@digest` with the tag, else `repository@digest`.
    /// An empty tag counts as no tag, so no reference ends in a bare `:`.
    pub fn reference(&self) -> String {
        match self.tag() {
            Some(tag) => format!("{}:{tag}@{}", self.repository, self.digest),
            None => format!("{}@{}", self.repository, self.digest),
        }
    }

    /// The tag to write, when one is wanted and there is one.
    fn tag(&self) -> Option<&str> {
        (self.with_tag && !self.tag.is_empty()).then_some(self.tag)
    }
}

/// Where in a file the reference goes: the shapes config repositories hold image references
/// in, each found the way the tool that reads the file finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// kustomization.yaml `images:` list entry whose `name:` equals `name`: kustomize's own
    /// override, which rewrites every matching image of the resources it builds.
    Kustomize {
        /// The `name:` of the entry (the image name used in the resources).
        name: String,
    },
    /// Helm values: `path` is the dotted path of the image map (default "image"), holding
    /// repository/tag/digest, the keys charts conventionally read (with `registry` when the
    /// chart splits the host off).
    Helm {
        /// Dotted path of the map, e.g. `image` or `app.image`.
        path: String,
    },
    /// Any scalar whose line ends with a marker comment: `# {"$rel": "<marker>"}` or Flux's
    /// `# {"$imagepolicy": "<ns>:<name>"}`; a `:tag`, `:name` or `:digest` suffix after the
    /// marker picks the part written. Flux's setters work this way, so files already set up
    /// for Flux image automation work unchanged.
    Marker {
        /// The marker, without a part suffix.
        marker: String,
    },
    /// A regular expression with exactly one capture group; the group's text is replaced by
    /// the full reference. The way out for files that are not YAML (Dockerfiles, Terraform).
    Regex {
        /// The pattern; `^` and `$` match at line boundaries (also before `\r\n`).
        pattern: String,
    },
}

/// Why a file cannot be edited, and where: a config repository is fixed by hand, so the
/// message names the line and column to look at whenever there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    /// 1-based line, 0 when the problem is the file as a whole.
    pub line: usize,
    /// 1-based column in characters, 0 when unknown.
    pub column: usize,
    /// What is wrong, naming the entry, path, marker or pattern looked for.
    pub message: String,
}

impl EditError {
    /// An error at a place.
    fn at(line: usize, column: usize, message: impl Into<String>) -> Self {
        EditError {
            line,
            column,
            message: message.into(),
        }
    }

    /// An error about the file as a whole.
    fn whole(message: impl Into<String>) -> Self {
        EditError::at(0, 0, message)
    }
}

/// Displays as `line:column: message`, `line: message` or ` message`: made to follow a
/// `path:`, so `format!("{path}:{err}")` reads like a compiler's `path:line:column: message`.
impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, " {}", self.message),
            (line, 0) => write!(f, "{line}: {}", self.message),
            (line, column) => write!(f, "{line}:{column}: {}", self.message),
        }
    }
}

impl std::error::Error for EditError {}

/// How many places `format` resolves to in `text` (preflight: must be exactly 1 for
/// kustomize/helm/regex; >=1 for markers; errors when the file is not the shape expected).
///
/// For kustomize, helm and regex anything but exactly one place is itself an error that
/// says where (no entry, no path, a second match…), so those give `Ok(1)` or an error; for
/// markers it is the number of marked scalars, 0 when there is none.
pub fn locate(text: &str, format: &Format) -> Result<usize, EditError> {
    match format {
        Format::Regex { pattern } => regex_place(text, pattern).map(|_| 1),
        Format::Kustomize { name } => {
            let doc = Doc::new(text);
            let entry = kustomize_entry(&doc, name)?;
            for probe in PROBES {
                kustomize_edits(&doc, &entry, &probe, &mut Edits::default())?;
            }
            Ok(1)
        }
        Format::Helm { path } => {
            let doc = Doc::new(text);
            let map = helm_map(&doc, path)?;
            for probe in PROBES {
                helm_edits(&doc, &map, path, &probe, &mut Edits::default())?;
            }
            Ok(1)
        }
        Format::Marker { marker } => markers(&Doc::new(text), marker).map(|m| m.len()),
    }
}

/// Images that `locate` edits in its head, with and without a tag: whatever `apply` could
/// stumble on in the place found (a second `tag`, a `newTag` that is a block) is found in
/// preflight too.
const PROBES: [NewImage<'static>; 2] = [
    NewImage {
        repository: "probe.invalid/probe",
        tag: "probe",
        digest: "sha256:0",
        with_tag: true,
    },
    NewImage {
        repository: "probe.invalid/probe",
        tag: "probe",
        digest: "sha256:0",
        with_tag: false,
    },
];

/// The edited text (same as input when already up to date).
///
/// Idempotent: a value that already holds what would be written is not touched, so running
/// it again on its own output gives the same text (and no commit).
pub fn apply(text: &str, format: &Format, img: &NewImage) -> Result<String, EditError> {
    let doc = match format {
        Format::Regex { pattern } => {
            let (start, end) = regex_place(text, pattern)?;
            let reference = img.reference();
            if text[start..end] == reference {
                return Ok(text.to_string());
            }
            return Ok(format!("{}{reference}{}", &text[..start], &text[end..]));
        }
        _ => Doc::new(text),
    };
    let mut edits = Edits::default();
    match format {
        Format::Kustomize { name } => {
            let entry = kustomize_entry(&doc, name)?;
            kustomize_edits(&doc, &entry, img, &mut edits)?;
        }
        Format::Helm { path } => {
            let map = helm_map(&doc, path)?;
            helm_edits(&doc, &map, path, img, &mut edits)?;
        }
        Format::Marker { marker } => {
            let found = markers(&doc, marker)?;
            if found.is_empty() {
                return Err(EditError::whole(format!(
                    "no value is marked `# {{\"$rel\": \"{marker}\"}}` or `# {{\"$imagepolicy\": \"{marker}\"}}`"
                )));
            }
            for (line, part) in found {
                let value = match part {
                    Part::Full => Cow::Owned(img.reference()),
                    Part::Tag => Cow::Borrowed(img.tag),
                    Part::Name => Cow::Borrowed(img.repository),
                    Part::Digest => Cow::Borrowed(img.digest),
                };
                replace_value(&doc, line, &value, "the marked value", &mut edits)?;
            }
        }
        Format::Regex { .. } => unreachable!("handled above"),
    }
    Ok(doc.render(text, &edits))
}

/// A unified diff (`--- a/<path>` / `+++ b/<path>`, 3 lines of context), empty when equal:
/// what a dry run prints and a snapshot writes, in the form reviewers already read.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

// ---------------------------------------------------------------------------------------
// Lines

/// How a scalar is quoted: kept when its value is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// A scalar on one line: its bytes `start..end` (quotes included) and its value.
#[derive(Debug, Clone)]
struct Scalar {
    start: usize,
    end: usize,
    style: Style,
    value: String,
}

/// What follows a key (or a sequence dash) on its line. Positions are byte offsets in the
/// line.
#[derive(Debug, Clone)]
enum Value {
    /// Nothing: a nested block follows, or the value is null. `at` is where a value would be
    /// written (right after the `:`, the `-` or the last anchor or tag).
    Empty { at: usize },
    /// A complete scalar.
    Scalar(Scalar),
    /// A flow collection (`{…}`, `[…]`), `closed` on this line or not.
    Flow { at: usize, closed: bool },
    /// A block scalar (`|`, `>`).
    Block { at: usize },
    /// An alias (`*name`).
    Alias { at: usize },
    /// A quoted scalar that goes on over the next lines.
    Open { at: usize, quote: u8 },
}

impl Value {
    /// Where the value starts, for messages.
    fn at(&self) -> usize {
        match self {
            Value::Empty { at }
            | Value::Flow { at, .. }
            | Value::Block { at }
            | Value::Alias { at }
            | Value::Open { at, .. } => *at,
            Value::Scalar(s) => s.start,
        }
    }

    /// What it is, for messages.
    fn describe(&self) -> &'static str {
        match self {
            Value::Empty { .. } => "no value",
            Value::Scalar(_) => "a scalar",
            Value::Flow { .. } => "a flow collection",
            Value::Block { .. } => "a block scalar",
            Value::Alias { .. } => "an alias",
            Value::Open { .. } => "a quoted scalar over several lines",
        }
    }
}

/// A mapping key on a line: its value (unquoted) and its column.
#[derive(Debug, Clone)]
struct Key {
    name: String,
    col: usize,
}

/// What a line is, as far as the block structure goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Only whitespace.
    Blank,
    /// Only a comment.
    Comment,
    /// `---`, `...` or a `%` directive: ends every block.
    Boundary,
    /// Anything else: a key, a sequence item, a scalar.
    Node,
}

/// One line of the file, as far as it is understood.
#[derive(Debug, Clone)]
struct Line<'t> {
    content: &'t str,
    eol: &'t str,
    kind: Kind,
    /// Leading spaces.
    indent: usize,
    /// Columns of the sequence dashes that open the line (`- - x` has two).
    dashes: Vec<usize>,
    key: Option<Key>,
    value: Value,
    /// Byte offset of the trailing comment's `#`.
    comment: Option<usize>,
    /// Inside a multi-line scalar or flow collection that starts on an earlier line.
    cont: bool,
}

impl Line<'_> {
    /// Whether the line opens with a sequence item at its indentation.
    fn is_item(&self) -> bool {
        self.kind == Kind::Node && self.dashes.first() == Some(&self.indent)
    }

    /// 1-based character column of byte `at`.
    fn column(&self, at: usize) -> usize {
        self.content[..at.min(self.content.len())].chars().count() + 1
    }
}

/// YAML's white space inside a line.
fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The first index from `i` that is not white space.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i
}

/// The index after the quote that closes the scalar opened at `start`, on this line.
fn quoted_end(b: &[u8], start: usize) -> Option<usize> {
    quote_close(b, start + 1, b[start])
}

/// The index after the `quote` that closes a quoted scalar whose text goes on at `from`.
fn quote_close(b: &[u8], from: usize, quote: u8) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
            c if c == quote => return Some(i + 1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The state of a flow collection read across lines.
#[derive(Debug, Default)]
struct FlowScan {
    depth: usize,
    quote: Option<u8>,
}

impl FlowScan {
    /// Reads `b` from `from`: the index after the bracket that closes the collection, or
    /// `None` when it is still open at the end of the line (a comment ends the line).
    fn feed(&mut self, b: &[u8], from: usize) -> Option<usize> {
        // A quote opens a scalar only where a scalar can start.
        let mut prev = b',';
        let mut i = from;
        while i < b.len() {
            let c = b[i];
            if let Some(q) = self.quote {
                match c {
                    b'\\' if q == b'"' => i += 1,
                    b'\'' if q == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
                    _ if c == q => self.quote = None,
                    _ => {}
                }
            } else {
                match c {
                    b'"' | b'\'' if matches!(prev, b'[' | b'{' | b',' | b':') => {
                        self.quote = Some(c)
                    }
                    b'[' | b'{' => self.depth += 1,
                    b']' | b'}' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    b'#' if i == 0 || is_ws(b[i - 1]) => return None,
                    _ => {}
                }
                if !is_ws(c) {
                    prev = c;
                }
            }
            i += 1;
        }
        None
    }
}

/// Reads one line (without its line ending).
fn parse_line<'t>(content: &'t str, eol: &'t str) -> Line<'t> {
    let b = content.as_bytes();
    let n = b.len();
    let indent = b.iter().take_while(|&&c| c == b' ').count();
    let mut line = Line {
        content,
        eol,
        kind: Kind::Node,
        indent,
        dashes: vec![],
        key: None,
        value: Value::Empty { at: n },
        comment: None,
        cont: false,
    };
    let start = skip_ws(b, indent);
    if start == n {
        line.kind = Kind::Blank;
        return line;
    }
    if b[start] == b'#' {
        line.kind = Kind::Comment;
        line.comment = Some(start);
        return line;
    }
    let marker = |m: &str| {
        content
            .strip_prefix(m)
            .is_some_and(|r| r.is_empty() || is_ws(r.as_bytes()[0]))
    };
    if indent == 0 && (marker("---") || marker("...") || content.starts_with('%')) {
        line.kind = Kind::Boundary;
        return line;
    }
    let mut p = indent;
    let mut at = indent;
    while p < n && b[p] == b'-' && (p + 1 == n || is_ws(b[p + 1])) {
        line.dashes.push(p);
        at = p + 1;
        p = skip_ws(b, p + 1);
    }
    let mut from = p;
    if let Some((name, colon)) = key_at(content, p) {
        line.key = Some(Key { name, col: p });
        from = colon + 1;
        at = colon + 1;
    }
    let (value, comment) = parse_value(content, from, at);
    line.value = value;
    line.comment = comment;
    line
}

/// The key that starts at `p`, unquoted, and the offset of its `:`.
fn key_at(s: &str, p: usize) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let n = b.len();
    if p >= n {
        return None;
    }
    let colon_at = |c: usize| c < n && b[c] == b':' && (c + 1 == n || is_ws(b[c + 1]));
    match b[p] {
        b'"' | b'\'' => {
            let end = quoted_end(b, p)?;
            let c = skip_ws(b, end);
            colon_at(c).then(|| (unquote(&s[p..end]), c))
        }
        b'{' | b'[' | b']' | b'}' | b',' | b'|' | b'>' | b'*' | b'&' | b'!' | b'?' | b'#'
        | b'%' | b'@' | b'`' => None,
        _ => {
            for i in p..n {
                if colon_at(i) {
                    return Some((s[p..i].trim_end().to_string(), i));
                }
                if b[i] == b'#' && i > p && is_ws(b[i - 1]) {
                    return None;
                }
            }
            None
        }
    }
}

/// The value that starts at or after `from` (after whitespace, anchors and tags), and the
/// offset of a trailing comment. `at` is where an absent value would be written.
fn parse_value(s: &str, from: usize, mut at: usize) -> (Value, Option<usize>) {
    let b = s.as_bytes();
    let n = b.len();
    let mut q = skip_ws(b, from);
    while q < n && (b[q] == b'&' || b[q] == b'!') {
        let mut e = q;
        while e < n && !is_ws(b[e]) {
            e += 1;
        }
        at = e;
        q = skip_ws(b, e);
    }
    // A comment after the value: the first `#` after whitespace from `i` on.
    let comment_from = |i: usize| (i..n).find(|&j| b[j] == b'#' && j > 0 && is_ws(b[j - 1]));
    if q >= n {
        return (Value::Empty { at }, None);
    }
    match b[q] {
        b'#' => (Value::Empty { at }, Some(q)),
        b'"' | b'\'' => match quoted_end(b, q) {
            Some(end) => {
                let style = if b[q] == b'"' {
                    Style::Double
                } else {
                    Style::Single
                };
                let scalar = Scalar {
                    start: q,
                    end,
                    style,
                    value: unquote(&s[q..end]),
                };
                (Value::Scalar(scalar), comment_from(end))
            }
            None => (Value::Open { at: q, quote: b[q] }, None),
        },
        b'{' | b'[' => {
            let mut scan = FlowScan::default();
            match scan.feed(b, q) {
                Some(end) => (
                    Value::Flow {
                        at: q,
                        closed: true,
                    },
                    comment_from(end),
                ),
                None => (
                    Value::Flow {
                        at: q,
                        closed: false,
                    },
                    None,
                ),
            }
        }
        b'|' | b'>' => (Value::Block { at: q }, comment_from(q)),
        b'*' => (Value::Alias { at: q }, comment_from(q)),
        _ => {
            let comment = comment_from(q);
            let mut end = comment.unwrap_or(n);
            while end > q && is_ws(b[end - 1]) {
                end -= 1;
            }
            let scalar = Scalar {
                start: q,
                end,
                style: Style::Plain,
                value: s[q..end].to_string(),
            };
            (Value::Scalar(scalar), comment)
        }
    }
}

/// The value of a scalar as written (quotes included).
fn unquote(raw: &str) -> String {
    match raw.as_bytes().first() {
        Some(b'\'') if raw.len() >= 2 => raw[1..raw.len() - 1].replace("''", "'"),
        Some(b'"') if raw.len() >= 2 => unescape(&raw[1..raw.len() - 1]),
        _ => raw.to_string(),
    }
}

/// The escapes of a double-quoted scalar.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars, n: usize| {
            let digits: String = chars.by_ref().take(n).collect();
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
        };
        let decoded = match chars.next() {
            Some('0') => Some('\0'),
            Some('a') => Some('\x07'),
            Some('b') => Some('\x08'),
            Some('t') | Some('\t') => Some('\t'),
            Some('n') => Some('\n'),
            Some('v') => Some('\x0b'),
            Some('f') => Some('\x0c'),
            Some('r') => Some('\r'),
            Some('e') => Some('\x1b'),
            Some('N') => Some('\u{85}'),
            Some('_') => Some('\u{a0}'),
            Some('L') => Some('\u{2028}'),
            Some('P') => Some('\u{2029}'),
            Some('x') => hex(&mut chars, 2),
            Some('u') => hex(&mut chars, 4),
            Some('U') => hex(&mut chars, 8),
            Some(c @ (' ' | '"' | '/' | '\\')) => Some(c),
            Some(other) => {
                out.push('\\');
                Some(other)
            }
            None => Some('\\'),
        };
        out.extend(decoded);
    }
    out
}

/// `v` written as a scalar in `style`, or double-quoted when `style` cannot hold it: a plain
/// `1.10` would be read back as the number 1.1, a plain `true` as a boolean.
fn render_scalar(v: &str, style: Style) -> String {
    match style {
        Style::Plain if plain_safe(v) => v.to_string(),
        Style::Single if !v.chars().any(char::is_control) => format!("'{}'", v.replace('\'', "''")),
        _ => double_quoted(v),
    }
}

/// `v` as a double-quoted scalar: the style that can hold any string.
fn double_quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Plain scalars that YAML 1.1 or 1.2 (Helm and Flux read 1.1, kustomize 1.2) resolve to
/// something other than a string: null, booleans, integers, floats, timestamps, merge keys.
static NON_STRING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:
          ~ | null | Null | NULL
        | y | Y | yes | Yes | YES | n | N | no | No | NO
        | true | True | TRUE | false | False | FALSE | on | On | ON | off | Off | OFF
        | [-+]? (?: 0b[01_]+ | 0o[0-7_]+ | 0x[0-9a-fA-F_]+ | [0-9][0-9_]* )
        | [-+]? [0-9][0-9_]* (?: :[0-5]?[0-9] )+ (?: \.[0-9_]* )?
        | [-+]? (?: [0-9][0-9_]* )? \.[0-9_]* (?: [eE][-+]?[0-9]+ )?
        | [-+]? [0-9][0-9_]* [eE][-+]?[0-9]+
        | [-+]? \.(?: inf | Inf | INF ) | \.(?: nan | NaN | NAN )
        | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2} (?: [Tt\ ].* )?
        | << | =
        )$",
    )
    .expect("static pattern")
});

/// Whether `v` can be written unquoted and still be read back as the same string.
fn plain_safe(v: &str) -> bool {
    let Some(first) = v.chars().next() else {
        return false;
    };
    let b = v.as_bytes();
    if v.starts_with([' ', '\t']) || v.ends_with([' ', '\t', ':']) {
        return false;
    }
    if v.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    if "[]{},#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && (b.len() == 1 || is_ws(b[1])) {
        return false;
    }
    if v.contains(": ") || v.contains(":\t") || v.contains(" #") || v.contains("\t#") {
        return false;
    }
    !NON_STRING.is_match(v)
}

// ---------------------------------------------------------------------------------------
// The file

/// The file's lines and their structure.
struct Doc<'t> {
    /// A byte-order mark, kept in front of the first line.
    bom: &'t str,
    lines: Vec<Line<'t>>,
}

/// A block mapping: the lines of its keys, their column, and the last line that belongs to
/// it (where a new key goes after).
#[derive(Debug)]
struct Map {
    /// Lines of its keys.
    entries: Vec<usize>,
    /// Column of its keys.
    col: usize,
    /// Its last line (nested values and continuation lines included).
    last: usize,
}

impl<'t> Doc<'t> {
    fn new(text: &'t str) -> Doc<'t> {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (&text[..3], rest),
            None => ("", text),
        };
        let mut lines: Vec<Line<'t>> = body
            .split_inclusive('\n')
            .map(|raw| {
                let (content, eol) = if let Some(c) = raw.strip_suffix("\r\n") {
                    (c, &raw[c.len()..])
                } else if let Some(c) = raw.strip_suffix('\n') {
                    (c, &raw[c.len()..])
                } else {
                    (raw, "")
                };
                parse_line(content, eol)
            })
            .collect();
        mark_continuations(&mut lines);
        Doc { bom, lines }
    }

    /// Whether line `i` takes part in the block structure (not blank, not a comment, not
    /// inside a scalar that started above).
    fn structural(&self, i: usize) -> bool {
        let l = &self.lines[i];
        !l.cont && matches!(l.kind, Kind::Node | Kind::Boundary)
    }

    /// The block nested under the node at `line` whose column is `col`: its first line (None
    /// when nothing is nested) and the last line of the node, its continuation lines
    /// included. With `compact`, a sequence at `col` itself belongs to it (YAML lets a
    /// key's list start at the key's own column).
    fn block(&self, line: usize, col: usize, compact: bool) -> (Option<usize>, usize) {
        let mut first = None;
        let mut last = line;
        let mut compact_seq = false;
        for j in line + 1..self.lines.len() {
            let l = &self.lines[j];
            if l.cont {
                last = j;
                continue;
            }
            if !self.structural(j) {
                continue;
            }
            let node = l.kind == Kind::Node;
            let inside = node
                && (l.indent > col
                    || (l.indent == col
                        && l.is_item()
                        && (first.is_none() && compact || compact_seq)));
            if !inside {
                break;
            }
            if first.is_none() {
                first = Some(j);
                compact_seq = l.indent == col;
            }
            last = j;
        }
        (first, last)
    }

    /// The keys of a block mapping at column `col` in lines `first..=last` (a key on a
    /// line that opens with a dash belongs to the item, not to this mapping).
    fn map_entries(&self, first: usize, last: usize, col: usize) -> Vec<usize> {
        (first..=last)
            .filter(|&j| {
                let l = &self.lines[j];
                self.structural(j)
                    && l.kind == Kind::Node
                    && l.dashes.is_empty()
                    && l.indent == col
                    && l.key.is_some()
            })
            .collect()
    }

    /// The key of entry line `i`.
    fn key(&self, i: usize) -> &Key {
        self.lines[i].key.as_ref().expect("an entry line has a key")
    }

    /// The entry of `map` named `key`; two are an error, since either could be what the
    /// reader takes.
    fn find(&self, map: &Map, key: &str) -> Result<Option<usize>, EditError> {
        let mut found = map
            .entries
            .iter()
            .copied()
            .filter(|&e| self.key(e).name == key);
        let first = found.next();
        if let (Some(a), Some(b)) = (first, found.next()) {
            return Err(EditError::at(
                b + 1,
                self.lines[b].column(self.key(b).col),
                format!(
                    "`{key}` appears twice in one map (lines {} and {})",
                    a + 1,
                    b + 1
                ),
            ));
        }
        Ok(first)
    }

    /// The scalar value of the entry at `i`, if it has one.
    fn scalar(&self, i: usize) -> Option<&Scalar> {
        match &self.lines[i].value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a flow collection starting on line `i` at `at`, with its continuation
    /// lines.
    fn flow_text(&self, i: usize, at: usize) -> String {
        let mut text = self.lines[i].content[at..].to_string();
        for l in self.lines[i + 1..].iter().take_while(|l| l.cont) {
            text.push('\n');
            text.push_str(l.content);
        }
        text
    }

    /// The line ending written after a new line that follows line `i`: that line's, else
    /// the file's first, else `\n`.
    fn eol_after(&self, i: usize) -> &'t str {
        let own = self.lines.get(i).map_or("", |l| l.eol);
        if !own.is_empty() {
            return own;
        }
        self.lines
            .iter()
            .map(|l| l.eol)
            .find(|e| !e.is_empty())
            .unwrap_or("\n")
    }

    /// The text with `edits` made: untouched lines are copied byte for byte, and the file
    /// keeps ending with a newline or not, as it did.
    fn render(&self, text: &str, edits: &Edits) -> String {
        if edits.is_empty() {
            return text.to_string();
        }
        let n = self.lines.len();
        let mut content: Vec<Cow<str>> = self
            .lines
            .iter()
            .map(|l| Cow::Borrowed(l.content))
            .collect();
        let mut replaces: Vec<&(usize, usize, usize, String)> = edits.replace.iter().collect();
        // From the right, so earlier offsets on the same line stay valid.
        replaces.sort_by_key(|r| (r.0, std::cmp::Reverse(r.1)));
        for (line, start, end, with) in replaces {
            content[*line].to_mut().replace_range(*start..*end, with);
        }
        let mut out: Vec<(String, &str)> = Vec::with_capacity(n + 2);
        for i in 0..n {
            if !edits.remove.contains(&i) {
                let text = match edits.join.iter().find(|j| j.0 == i) {
                    Some(&(_, from, col)) => format!(
                        "{}{}",
                        &content[i][..col],
                        &content[from][self.lines[from].indent..]
                    ),
                    None => content[i].to_string(),
                };
                out.push((text, self.lines[i].eol));
            }
            for (_, added) in edits.insert.iter().filter(|ins| ins.0 == i) {
                for a in added {
                    out.push((a.clone(), self.eol_after(i)));
                }
            }
        }
        let eol = self.eol_after(usize::MAX);
        let count = out.len();
        for (k, (_, e)) in out.iter_mut().enumerate() {
            if k + 1 < count && e.is_empty() {
                *e = eol;
            }
        }
        if let Some((_, e)) = out.last_mut() {
            if text.ends_with('\n') {
                if e.is_empty() {
                    *e = eol;
                }
            } else {
                *e = "";
            }
        }
        let mut result = String::with_capacity(text.len() + 128);
        result.push_str(self.bom);
        for (c, e) in out {
            result.push_str(&c);
            result.push_str(e);
        }
        result
    }
}

/// Finds the lines that continue a scalar or a flow collection of an earlier line, so their
/// text is never read as keys, items or markers.
fn mark_continuations(lines: &mut [Line]) {
    let mut i = 0;
    while i < lines.len() {
        if lines[i].kind != Kind::Node || lines[i].cont {
            i += 1;
            continue;
        }
        // The column the node's content must be indented beyond.
        let level = lines[i]
            .key
            .as_ref()
            .map(|k| k.col)
            .or(lines[i].dashes.last().copied());
        let mut j = i + 1;
        match lines[i].value.clone() {
            Value::Block { .. } => {
                while j < lines.len() {
                    let l = &lines[j];
                    let body = match level {
                        Some(level) => l.kind == Kind::Blank || l.indent > level,
                        None => l.kind != Kind::Boundary,
                    };
                    if !body {
                        break;
                    }
                    lines[j].cont = true;
                    j += 1;
                }
            }
            Value::Open { quote, .. } => {
                while j < lines.len() {
                    lines[j].cont = true;
                    j += 1;
                    if quote_close(lines[j - 1].content.as_bytes(), 0, quote).is_some() {
                        break;
                    }
                }
            }
            Value::Flow { at, closed: false } => {
                let mut scan = FlowScan::default();
                scan.feed(lines[i].content.as_bytes(), at);
                while j < lines.len() {
                    lines[j].cont = true;
                    j += 1;
                    if scan.feed(lines[j - 1].content.as_bytes(), 0).is_some() {
                        break;
                    }
                }
            }
            Value::Scalar(Scalar {
                style: Style::Plain,
                ..
            }) if lines[i].comment.is_none() => {
                // A plain scalar goes on over more-indented lines (a comment ends it).
                let Some(level) = level else {
                    i += 1;
                    continue;
                };
                let mut k = j;
                while k < lines.len() {
                    match lines[k].kind {
                        Kind::Blank => k += 1,
                        Kind::Node if lines[k].indent > level => {
                            lines[k].cont = true;
                            k += 1;
                            j = k;
                        }
                        _ => break,
                    }
                }
            }
            _ => {}
        }
        i = j.max(i + 1);
    }
}

/// The changes to make, by line of the original text.
#[derive(Debug, Default)]
struct Edits {
    /// (line, start, end, text): bytes `start..end` of the line replaced.
    replace: Vec<(usize, usize, usize, String)>,
    /// (line, lines): new lines after the line.
    insert: Vec<(usize, Vec<String>)>,
    /// Lines dropped.
    remove: Vec<usize>,
    /// (line, from, col): the line keeps its first `col` bytes, followed by line `from`
    /// without its indentation (a key moved up onto a sequence dash).
    join: Vec<(usize, usize, usize)>,
}

impl Edits {
    /// Nothing to change: the file is up to date.
    fn is_empty(&self) -> bool {
        self.replace.is_empty()
            && self.insert.is_empty()
            && self.remove.is_empty()
            && self.join.is_empty()
    }
}

/// Makes the value of the entry (or item) on line `i` be `value`, keeping its quoting;
/// nothing when it already is. `what` names it in errors.
fn replace_value(
    doc: &Doc,
    i: usize,
    value: &str,
    what: &str,
    edits: &mut Edits,
) -> Result<(), EditError> {
    let l = &doc.lines[i];
    match &l.value {
        Value::Scalar(s) => {
            if s.value != value {
                edits
                    .replace
                    .push((i, s.start, s.end, render_scalar(value, s.style)));
            }
            Ok(())
        }
        Value::Empty { at } => {
            let col = l
                .key
                .as_ref()
                .map(|k| k.col)
                .or(l.dashes.last().copied())
                .unwrap_or(0);
            if let (Some(nested), _) = doc.block(i, col, true) {
                let n = &doc.lines[nested];
                return Err(EditError::at(
                    nested + 1,
                    n.column(n.indent),
                    format!("{what} holds a nested block, not a single value"),
                ));
            }
            edits.replace.push((
                i,
                *at,
                *at,
                format!(" {}", render_scalar(value, Style::Plain)),
            ));
            Ok(())
        }
        other => Err(EditError::at(
            i + 1,
            l.column(other.at()),
            format!(
                "{what} is {}; only a scalar on one line can be written",
                other.describe()
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Kustomize

/// `name: x` inside a flow mapping, for entries written `- {name: x, newTag: y}`.
static FLOW_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?:^|[{,\s])["']?name["']?\s*:\s*(?:"([^"]*)"|'([^']*)'|([^,}\s][^,}]*?))\s*(?:[,}]|$)"#,
    )
    .expect("static pattern")
});

/// Whether the flow collection `text` has an entry with `name: <name>`: enough to tell a
/// flow-style entry rel does not edit from one that is not the image at all.
fn flow_names(text: &str, name: &str) -> bool {
    FLOW_NAME.captures_iter(text).any(|c| {
        let v = c
            .get(1)
            .or(c.get(2))
            .or(c.get(3))
            .map_or("", |m| m.as_str());
        v.trim() == name
    })
}

/// The block-style entry of the top-level `images:` list named `name`.
fn kustomize_entry(doc: &Doc, name: &str) -> Result<Map, EditError> {
    let tops: Vec<usize> = (0..doc.lines.len())
        .filter(|&i| {
            let l = &doc.lines[i];
            doc.structural(i)
                && l.kind == Kind::Node
                && l.indent == 0
                && l.dashes.is_empty()
                && l.key.as_ref().is_some_and(|k| k.name == "images")
        })
        .collect();
    let images = match tops.as_slice() {
        [] => {
            return Err(EditError::whole(format!(
                "no top-level `images:` list, so no entry named `{name}`"
            )));
        }
        [one] => *one,
        [a, b, ..] => {
            return Err(EditError::at(
                b + 1,
                1,
                format!(
                    "a second top-level `images:` (the first is on line {})",
                    a + 1
                ),
            ));
        }
    };
    let not_found = || {
        EditError::at(
            images + 1,
            1,
            format!("the `images:` list has no entry with `name: {name}`"),
        )
    };
    let l = &doc.lines[images];
    match &l.value {
        Value::Empty { .. } => {}
        Value::Flow { at, .. } => {
            return Err(if flow_names(&doc.flow_text(images, *at), name) {
                EditError::at(
                    images + 1,
                    l.column(*at),
                    format!(
                        "the `images:` list is in flow style; rel edits block-style entries: write the entry for `{name}` as `- name: {name}` on lines of its own"
                    ),
                )
            } else {
                not_found()
            });
        }
        other => {
            return Err(EditError::at(
                images + 1,
                l.column(other.at()),
                format!("`images:` is {}, not a list", other.describe()),
            ));
        }
    }
    let (Some(first), last) = doc.block(images, 0, true) else {
        return Err(not_found());
    };
    let seq = doc.lines[first].indent;
    if !doc.lines[first].is_item() {
        return Err(EditError::at(
            first + 1,
            seq + 1,
            "`images:` is a map, not a list",
        ));
    }
    let mut hits: Vec<(usize, Option<Map>)> = vec![];
    for j in first..=last {
        let item = &doc.lines[j];
        if !doc.structural(j) || !item.is_item() || item.indent != seq || item.dashes.len() > 1 {
            continue;
        }
        let (nested, end) = doc.block(j, seq, false);
        let map = if let Some(k) = &item.key {
            let mut entries = vec![j];
            if let Some(f) = nested {
                entries.extend(doc.map_entries(f, end, k.col));
            }
            Map {
                entries,
                col: k.col,
                last: end,
            }
        } else {
            match &item.value {
                Value::Flow { at, .. } => {
                    if flow_names(&doc.flow_text(j, *at), name) {
                        hits.push((j, None));
                    }
                    continue;
                }
                Value::Empty { .. } => {
                    let Some(f) = nested else { continue };
                    let col = doc.lines[f].indent;
                    Map {
                        entries: doc.map_entries(f, end, col),
                        col,
                        last: end,
                    }
                }
                _ => continue,
            }
        };
        if let Some(e) = doc.find(&map, "name")?
            && doc.scalar(e).is_some_and(|s| s.value == name)
        {
            hits.push((j, Some(map)));
        }
    }
    let mut hits = hits.into_iter();
    match (hits.next(), hits.next()) {
        (None, _) => Err(not_found()),
        (Some((a, _)), Some((b, _))) => Err(EditError::at(
            b + 1,
            seq + 1,
            format!(
                "two `images:` entries are named `{name}` (lines {} and {})",
                a + 1,
                b + 1
            ),
        )),
        (Some((j, None)), None) => Err(EditError::at(
            j + 1,
            doc.lines[j].column(doc.lines[j].value.at()),
            format!(
                "the `images:` entry named `{name}` is in flow style; rel edits block-style entries: write it as `- name: {name}` with one key a line"
            ),
        )),
        (Some((_, Some(map))), None) => Ok(map),
    }
}

/// newName, newTag (or its removal) and digest in the entry.
fn kustomize_edits(
    doc: &Doc,
    entry: &Map,
    img: &NewImage,
    edits: &mut Edits,
) -> Result<(), EditError> {
    // New keys follow the quoting of the entry's name.
    let style = doc
        .find(entry, "name")?
        .and_then(|e| doc.scalar(e))
        .map_or(Style::Plain, |s| s.style);
    let mut added = vec![];
    set(
        doc,
        entry,
        "newName",
        img.repository,
        style,
        edits,
        &mut added,
    )?;
    match img.tag() {
        Some(tag) => set(doc, entry, "newTag", tag, style, edits, &mut added)?,
        None => {
            if let Some(e) = doc.find(entry, "newTag")? {
                remove_entry(doc, entry, e, edits)?;
            }
        }
    }
    set(doc, entry, "digest", img.digest, style, edits, &mut added)?;
    add_keys(entry, added, edits);
    Ok(())
}

/// Sets `key` of `map` to `value`: replaced where it is, else added (in `style`) after the
/// map's last line.
fn set(
    doc: &Doc,
    map: &Map,
    key: &str,
    value: &str,
    style: Style,
    edits: &mut Edits,
    added: &mut Vec<String>,
) -> Result<(), EditError> {
    match doc.find(map, key)? {
        Some(e) => replace_value(doc, e, value, &format!("`{key}`"), edits),
        None => {
            added.push(format!("{key}: {}", render_scalar(value, style)));
            Ok(())
        }
    }
}

/// New `key: value` lines after the map's last line, at its keys' indentation, so they
/// read as part of the same map.
fn add_keys(map: &Map, added: Vec<String>, edits: &mut Edits) {
    if !added.is_empty() {
        let indent = " ".repeat(map.col);
        let lines = added.into_iter().map(|a| format!("{indent}{a}")).collect();
        edits.insert.push((map.last, lines));
    }
}

/// Removes the entry at `e` (with what is nested under it). On a line that opens the
/// sequence item, the item's next key moves up onto the dash instead.
fn remove_entry(doc: &Doc, map: &Map, e: usize, edits: &mut Edits) -> Result<(), EditError> {
    let (_, end) = doc.block(e, map.col, true);
    if doc.lines[e].dashes.is_empty() {
        edits.remove.extend(e..=end);
        return Ok(());
    }
    let Some(next) = map.entries.iter().copied().filter(|&x| x > end).min() else {
        let l = &doc.lines[e];
        return Err(EditError::at(
            e + 1,
            l.column(map.col),
            "the entry would be left with no key",
        ));
    };
    edits.join.push((e, next, map.col));
    edits.remove.extend(e + 1..=end);
    edits.remove.push(next);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Helm

/// The block mapping at the dotted `path`.
fn helm_map(doc: &Doc, path: &str) -> Result<Map, EditError> {
    let segs: Vec<&str> = path.split('.').collect();
    if segs.iter().any(|s| s.trim().is_empty()) {
        return Err(EditError::whole(format!(
            "`{path}` is not a dotted path of keys (like `image` or `app.image`)"
        )));
    }
    let Some(top) =
        (0..doc.lines.len()).find(|&i| doc.structural(i) && doc.lines[i].kind == Kind::Node)
    else {
        return Err(EditError::whole(format!(
            "the file holds no values, so no `{path}`"
        )));
    };
    if doc.lines[top].is_item() {
        return Err(EditError::at(
            top + 1,
            doc.lines[top].indent + 1,
            format!("the file is a list, not a map of values, so it has no `{path}`"),
        ));
    }
    let col = doc.lines[top].indent;
    let last = doc.lines.len() - 1;
    let mut map = Map {
        entries: doc.map_entries(top, last, col),
        col,
        last,
    };
    let mut parent: Option<usize> = None;
    for (k, seg) in segs.iter().enumerate() {
        let sofar = segs[..=k].join(".");
        let Some(e) = doc.find(&map, seg)? else {
            return Err(match parent {
                None => EditError::whole(format!("no `{path}`: there is no top-level key `{seg}`")),
                Some(p) => EditError::at(
                    p + 1,
                    doc.lines[p].column(doc.key(p).col),
                    format!("no `{path}`: `{}` has no key `{seg}`", segs[..k].join(".")),
                ),
            });
        };
        let l = &doc.lines[e];
        let kc = doc.key(e).col;
        match &l.value {
            Value::Empty { .. } => match doc.block(e, kc, true) {
                (Some(first), end) => {
                    let f = &doc.lines[first];
                    if f.is_item() {
                        return Err(EditError::at(
                            first + 1,
                            f.indent + 1,
                            format!("`{sofar}` is a list, not a map"),
                        ));
                    }
                    map = Map {
                        entries: doc.map_entries(first, end, f.indent),
                        col: f.indent,
                        last: end,
                    };
                }
                (None, end) if k + 1 == segs.len() => {
                    // An empty map: its keys go one level in.
                    map = Map {
                        entries: vec![],
                        col: kc + 2,
                        last: end,
                    };
                }
                (None, _) => {
                    return Err(EditError::at(
                        e + 1,
                        l.column(kc),
                        format!("no `{path}`: `{sofar}` is empty"),
                    ));
                }
            },
            Value::Flow { at, .. } => {
                return Err(EditError::at(
                    e + 1,
                    l.column(*at),
                    format!(
                        "`{sofar}` is in flow style; rel edits block mappings: write it with one key a line"
                    ),
                ));
            }
            other => {
                return Err(EditError::at(
                    e + 1,
                    l.column(other.at()),
                    format!("`{sofar}` is {}, not a map", other.describe()),
                ));
            }
        }
        parent = Some(e);
    }
    Ok(map)
}

/// `host/rest` of a repository: the host when its first part names one (a dot, a port or
/// `localhost`), else Docker Hub's.
fn split_registry(repository: &str) -> (&str, &str) {
    match repository.split_once('/') {
        Some((host, rest)) if host.contains(['.', ':']) || host == "localhost" => (host, rest),
        _ => ("docker.io", repository),
    }
}

/// repository (and registry when the chart has one), tag when wanted, digest.
fn helm_edits(
    doc: &Doc,
    map: &Map,
    path: &str,
    img: &NewImage,
    edits: &mut Edits,
) -> Result<(), EditError> {
    let style = doc
        .find(map, "repository")?
        .and_then(|e| doc.scalar(e))
        .map_or(Style::Plain, |s| s.style);
    let mut added = vec![];
    // A chart with a non-empty `registry` joins it in front of `repository`.
    let registry = doc
        .find(map, "registry")?
        .filter(|&e| doc.scalar(e).is_some_and(|s| !s.value.is_empty()));
    let repository = match registry {
        Some(r) => {
            let (host, rest) = split_registry(img.repository);
            replace_value(doc, r, host, &format!("`{path}.registry`"), edits)?;
            rest
        }
        None => img.repository,
    };
    let mut put = |key: &str, value: &str, edits: &mut Edits| -> Result<(), EditError> {
        match doc.find(map, key)? {
            Some(e) => replace_value(doc, e, value, &format!("`{path}.{key}`"), edits),
            None => {
                added.push(format!("{key}: {}", render_scalar(value, style)));
                Ok(())
            }
        }
    };
    put("repository", repository, edits)?;
    if let Some(tag) = img.tag() {
        put("tag", tag, edits)?;
    }
    put("digest", img.digest, edits)?;
    add_keys(map, added, edits);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Markers

/// The part of the reference a marker asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Full,
    Tag,
    Name,
    Digest,
}

/// A whole trailing comment holding `{"$rel": "…"}` or `{"$imagepolicy": "…"}`.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^#\s*\{\s*"\$(?:rel|imagepolicy)"\s*:\s*"([^"\\]*)"\s*\}\s*$"#)
        .expect("static pattern")
});

/// The lines whose scalar is marked `marker`, with the part each asks for.
fn markers(doc: &Doc, marker: &str) -> Result<Vec<(usize, Part)>, EditError> {
    let mut found = vec![];
    for (i, l) in doc.lines.iter().enumerate() {
        if !doc.structural(i) || l.kind != Kind::Node {
            continue;
        }
        let Some(c) = l.comment else { continue };
        let Some(caps) = MARKER.captures(&l.content[c..]) else {
            continue;
        };
        let m = &caps[1];
        let part = if m == marker {
            Part::Full
        } else {
            match m.rsplit_once(':') {
                Some((base, "tag")) if base == marker => Part::Tag,
                Some((base, "name")) if base == marker => Part::Name,
                Some((base, "digest")) if base == marker => Part::Digest,
                _ => continue,
            }
        };
        match &l.value {
            Value::Scalar(_) => found.push((i, part)),
            Value::Empty { .. } => {
                return Err(EditError::at(
                    i + 1,
                    l.column(c),
                    format!("the marker `{m}` follows no value: write the current value before it"),
                ));
            }
            other => {
                return Err(EditError::at(
                    i + 1,
                    l.column(other.at()),
                    format!(
                        "the marker `{m}` follows {}; only a scalar on one line can be written",
                        other.describe()
                    ),
                ));
            }
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------
// Regex

/// 1-based line and column of byte `at` of `text`.
fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let start = before.rfind('\n').map_or(0, |p| p + 1);
    (
        before.matches('\n').count() + 1,
        before[start..].chars().count() + 1,
    )
}

/// The bytes of the one group of the one match of `pattern`.
fn regex_place(text: &str, pattern: &str) -> Result<(usize, usize), EditError> {
    let re = RegexBuilder::new(pattern)
        .multi_line(true)
        .crlf(true)
        .build()
        .map_err(|e| EditError::whole(format!("invalid pattern `{pattern}`: {e}")))?;
    let groups = re.captures_len() - 1;
    if groups != 1 {
        return Err(EditError::whole(format!(
            "the pattern `{pattern}` has {groups} capture groups; it needs exactly one, around the reference to replace (use `(?:…)` for the others)"
        )));
    }
    let mut spans = vec![];
    for caps in re.captures_iter(text) {
        let whole = caps.get(0).expect("group 0 is the match");
        match caps.get(1) {
            Some(g) => spans.push((g.start(), g.end())),
            None => {
                let (line, column) = position(text, whole.start());
                return Err(EditError::at(
                    line,
                    column,
                    format!("the pattern `{pattern}` matches here without its group"),
                ));
            }
        }
    }
    match spans.as_slice() {
        [] => Err(EditError::whole(format!(
            "the pattern `{pattern}` matches nothing"
        ))),
        [one] => Ok(*one),
        [a, b, ..] => {
            let (la, _) = position(text, a.0);
            let (lb, cb) = position(text, b.0);
            Err(EditError::at(
                lb,
                cb,
                format!(
                    "the pattern `{pattern}` matches {} places (lines {la} and {lb}…); it must match exactly one",
                    spans.len()
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use similar::ChangeTag;

    const DIGEST: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    /// Input and expected text of a golden case under `tests/fixtures/gitops/`.
    macro_rules! fixture {
        ($case:literal) => {
            fixture!($case, "input.yaml", "expected.yaml")
        };
        ($case:literal, $input:literal, $expected:literal) => {
            (
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/gitops/",
                    $case,
                    "/",
                    $input
                )),
                include_str!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/fixtures/gitops/",
                    $case,
                    "/",
                    $expected
                )),
            )
        };
    }

    fn api(with_tag: bool) -> NewImage<'static> {
        NewImage {
            repository: "ghcr.io/acme/api",
            tag: "1.2.3",
            digest: DIGEST,
            with_tag,
        }
    }

    fn kustomize(name: &str) -> Format {
        Format::Kustomize { name: name.into() }
    }

    fn helm(path: &str) -> Format {
        Format::Helm { path: path.into() }
    }

    fn marker(m: &str) -> Format {
        Format::Marker { marker: m.into() }
    }

    fn regex(p: &str) -> Format {
        Format::Regex { pattern: p.into() }
    }

    /// Every YAML document of `text`, parsed: the edit must leave a file the tools can read.
    fn parse(text: &str) -> Vec<serde_json::Value> {
        serde_saphyr::from_multiple::<serde_json::Value>(text)
            .unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
    }

    /// Only the 1-based lines `changed` of `old` differ in `new` (every other line is kept,
    /// in order, byte for byte), and `new` has `delta` more lines.
    fn assert_only_changed(old: &str, new: &str, changed: &[usize], delta: isize) {
        let diff = TextDiff::from_lines(old, new);
        for op in diff.ops() {
            for change in diff.iter_changes(op) {
                if change.tag() == ChangeTag::Delete {
                    let line = change.old_index().expect("a deleted line has an index") + 1;
                    assert!(
                        changed.contains(&line),
                        "line {line} changed: {:?}",
                        change.value()
                    );
                }
            }
        }
        let count = |s: &str| s.split_inclusive('\n').count() as isize;
        assert_eq!(count(new) - count(old), delta, "lines added or removed");
    }

    /// The golden check: `locate` finds `places`, `apply` gives `expected` byte for byte with
    /// only `changed` lines of the input touched, and applying again changes nothing.
    fn golden(
        (input, expected): (&str, &str),
        format: &Format,
        img: &NewImage,
        places: usize,
        changed: &[usize],
        delta: isize,
    ) -> String {
        assert_eq!(locate(input, format), Ok(places));
        let out = apply(input, format, img).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(
            out == expected,
            "output differs from expected:\n{}",
            unified_diff("expected", expected, &out)
        );
        assert_only_changed(input, &out, changed, delta);
        assert_eq!(
            apply(&out, format, img).as_deref(),
            Ok(out.as_str()),
            "not idempotent"
        );
        assert_eq!(locate(&out, format), Ok(places));
        out
    }

    fn golden_yaml(
        case: (&str, &str),
        format: &Format,
        img: &NewImage,
        places: usize,
        changed: &[usize],
        delta: isize,
    ) -> Vec<serde_json::Value> {
        parse(case.0);
        let out = golden(case, format, img, places, changed, delta);
        parse(&out)
    }

    // ---- reference, errors, diff

    #[test]
    fn reference_with_and_without_tag() {
        assert_eq!(
            api(true).reference(),
            format!("ghcr.io/acme/api:1.2.3@{DIGEST}")
        );
        assert_eq!(api(false).reference(), format!("ghcr.io/acme/api@{DIGEST}"));
        let untagged = NewImage {
            tag: "",
            ..api(true)
        };
        assert_eq!(untagged.reference(), format!("ghcr.io/acme/api@{DIGEST}"));
    }

    #[test]
    fn error_display_follows_a_path() {
        let e = |line, column| EditError::at(line, column, "bad");
        assert_eq!(format!("f.yaml:{}", e(3, 7)), "f.yaml:3:7: bad");
        assert_eq!(format!("f.yaml:{}", e(3, 0)), "f.yaml:3: bad");
        assert_eq!(format!("f.yaml:{}", e(0, 0)), "f.yaml: bad");
    }

    #[test]
    fn unified_diff_has_headers_context_and_nothing_when_equal() {
        assert_eq!(unified_diff("k.yaml", "a\n", "a\n"), "");
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(
            unified_diff("deploy/k.yaml", old, new),
            "--- a/deploy/k.yaml\n+++ b/deploy/k.yaml\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
        let d = unified_diff("v.yaml", "a: 1", "a: 2");
        assert!(d.contains("\\ No newline at end of file"), "{d}");
    }

    // ---- kustomize

    #[test]
    fn kustomize_sets_name_tag_and_adds_digest() {
        let docs = golden_yaml(
            fixture!("kustomize"),
            &kustomize("ghcr.io/acme/api"),
            &api(true),
            1,
            &[13, 14],
            1,
        );
        let entry = &docs[0]["images"][1];
        assert_eq!(entry["newName"], "ghcr.io/acme/api");
        assert_eq!(entry["newTag"], "1.2.3");
        assert_eq!(entry["digest"], DIGEST);
    }

    #[test]
    fn kustomize_adds_missing_keys_in_the_entry_quoting() {
        let web = NewImage {
            repository: "ghcr.io/acme/web",
            tag: "2.0",
            ..api(true)
        };
        let docs = golden_yaml(
            fixture!("kustomize_add"),
            &kustomize("ghcr.io/acme/web"),
            &web,
            1,
            &[8],
            2,
        );
        // "2.0" is quoted, or it would be read as a number.
        assert_eq!(docs[0]["images"][1]["newTag"], "2.0");
        assert_eq!(docs[0]["images"][1]["digest"], DIGEST);
    }

    #[test]
    fn kustomize_without_tag_removes_new_tag() {
        let docs = golden_yaml(
            fixture!("kustomize_digest"),
            &kustomize("ghcr.io/acme/api"),
            &api(false),
            1,
            &[5, 6],
            0,
        );
        assert!(docs[0]["images"][0].get("newTag").is_none());
    }

    #[test]
    fn kustomize_crlf_keeps_line_endings() {
        let case = fixture!("crlf");
        assert!(case.0.contains("\r\n") && !case.0.replace("\r\n", "").contains('\n'));
        let docs = golden_yaml(case, &kustomize("ghcr.io/acme/api"), &api(true), 1, &[4], 2);
        assert_eq!(docs[0]["images"][0]["digest"], DIGEST);
    }

    #[test]
    fn kustomize_new_tag_on_the_dash_line_gives_way_to_the_next_key() {
        let text = "images:\n  - newTag: v1 # old\n    name: api\n    newName: old\nx: 1\n";
        let out = apply(text, &kustomize("api"), &api(false)).unwrap();
        assert_eq!(
            out,
            format!(
                "images:\n  - name: api\n    newName: ghcr.io/acme/api\n    digest: {DIGEST}\nx: 1\n"
            )
        );
        parse(&out);
    }

    #[test]
    fn kustomize_removal_at_the_end_of_a_file_without_final_newline() {
        let text = format!(
            "images:\n- name: api\n  digest: {DIGEST}\n  newName: ghcr.io/acme/api\n  newTag: v1"
        );
        let out = apply(&text, &kustomize("api"), &api(false)).unwrap();
        assert_eq!(
            out,
            format!("images:\n- name: api\n  digest: {DIGEST}\n  newName: ghcr.io/acme/api")
        );
    }

    #[test]
    fn kustomize_up_to_date_is_identical() {
        let (_, expected) = fixture!("kustomize");
        assert_eq!(
            apply(expected, &kustomize("ghcr.io/acme/api"), &api(true)).unwrap(),
            expected
        );
    }

    #[test]
    fn kustomize_errors() {
        let k = kustomize("api");
        let e = locate("resources:\n  - a.yaml\n", &k).unwrap_err();
        assert_eq!((e.line, e.column), (0, 0));
        assert!(
            e.message.contains("`images:`") && e.message.contains("`api`"),
            "{e}"
        );

        let text = "kind: Kustomization\nimages:\n  - name: web\n    newTag: v1\n";
        let e = apply(text, &k, &api(true)).unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("name: api"), "{e}");

        let text = "images:\n  - name: api\n    newTag: v1\n  - name: web\n  - name: 'api'\n";
        let e = locate(text, &k).unwrap_err();
        assert_eq!((e.line, e.column), (5, 3));
        assert!(e.message.contains("lines 2 and 5"), "{e}");

        let text = "images:\n  - name: web\n  - {name: api, newTag: v1}\n";
        let e = locate(text, &k).unwrap_err();
        assert_eq!((e.line, e.column), (3, 5));
        assert!(e.message.contains("flow style"), "{e}");

        let text = "images: [{name: web}, {name: \"api\", newTag: v1}]\n";
        let e = locate(text, &k).unwrap_err();
        assert_eq!((e.line, e.column), (1, 9));
        assert!(e.message.contains("flow style"), "{e}");
        let e = locate("images: [{name: web}]\n", &k).unwrap_err();
        assert!(e.message.contains("no entry"), "{e}");

        let e = locate("images:\n  name: api\n", &k).unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));

        let e = locate("images: api\n", &k).unwrap_err();
        assert_eq!((e.line, e.column), (1, 9));

        let text = "images:\n  - name: api\n    newTag: |\n      v1\n";
        let e = apply(text, &k, &api(true)).unwrap_err();
        assert_eq!((e.line, e.column), (3, 13));
        assert!(e.message.contains("block scalar"), "{e}");

        let text = "images:\n  - name: api\n    newTag: v1\n    newTag: v2\n";
        let e = apply(text, &k, &api(true)).unwrap_err();
        assert_eq!((e.line, e.column), (4, 5));
    }

    #[test]
    fn kustomize_ignores_look_alikes() {
        // `images:` nested elsewhere, and inside a block scalar, is not the list.
        let text = "patches:\n  - patch: |\n      images:\n      - name: api\n    target: {}\nimages:\n  - name: api\n";
        let out = apply(text, &kustomize("api"), &api(false)).unwrap();
        assert!(
            out.ends_with(&format!(
                "  - name: api\n    newName: ghcr.io/acme/api\n    digest: {DIGEST}\n"
            )),
            "{out}"
        );
        assert_only_changed(text, &out, &[], 2);
    }

    // ---- helm

    #[test]
    fn helm_nested_path() {
        let docs = golden_yaml(
            fixture!("helm"),
            &helm("app.image"),
            &api(true),
            1,
            &[11, 12],
            1,
        );
        let image = &docs[0]["app"]["image"];
        assert_eq!(image["repository"], "ghcr.io/acme/api");
        assert_eq!(image["tag"], "1.2.3");
        assert_eq!(image["digest"], DIGEST);
        assert_eq!(docs[0]["image"]["repository"], "nginx");
    }

    #[test]
    fn helm_registry_split_and_tag_left_alone() {
        let docs = golden_yaml(
            fixture!("helm_registry"),
            &helm("image"),
            &api(false),
            1,
            &[3, 4, 6],
            0,
        );
        assert_eq!(docs[0]["image"]["tag"], "1.25.3-debian-11-r0");
    }

    #[test]
    fn helm_no_trailing_newline() {
        let case = fixture!("no_trailing_newline");
        assert!(!case.0.ends_with('\n') && !case.1.ends_with('\n'));
        golden_yaml(case, &helm("image"), &api(true), 1, &[5, 6], 1);
    }

    #[test]
    fn helm_fills_empty_values_and_maps() {
        let text = "image:\n  repository:\n  tag: # set on release\n";
        let out = apply(text, &helm("image"), &api(true)).unwrap();
        assert_eq!(
            out,
            format!(
                "image:\n  repository: ghcr.io/acme/api\n  tag: 1.2.3 # set on release\n  digest: {DIGEST}\n"
            )
        );
        let text = "app:\n  image:\nother: 1\n";
        let out = apply(text, &helm("app.image"), &api(true)).unwrap();
        assert_eq!(
            out,
            format!(
                "app:\n  image:\n    repository: ghcr.io/acme/api\n    tag: 1.2.3\n    digest: {DIGEST}\nother: 1\n"
            )
        );
        parse(&out);
        // Numbers-looking tags get quotes; a double-quoted one keeps them.
        let v110 = NewImage {
            tag: "1.10",
            ..api(true)
        };
        let out = apply("image:\n  tag: v1\n", &helm("image"), &v110).unwrap();
        assert!(out.contains("  tag: \"1.10\"\n"), "{out}");
        assert_eq!(parse(&out)[0]["image"]["tag"], "1.10");
    }

    #[test]
    fn helm_errors() {
        let text = "image:\n  repository: x\napp:\n  name: a\n";
        let e = locate(text, &helm("app.image")).unwrap_err();
        assert_eq!((e.line, e.column), (3, 1));
        assert!(
            e.message.contains("`app.image`") && e.message.contains("no key `image`"),
            "{e}"
        );

        let e = locate(text, &helm("backend.image")).unwrap_err();
        assert_eq!((e.line, e.column), (0, 0));
        assert!(e.message.contains("`backend.image`"), "{e}");

        let e = locate("image: nginx:1\n", &helm("image")).unwrap_err();
        assert_eq!((e.line, e.column), (1, 8));
        assert!(e.message.contains("not a map"), "{e}");

        let e = locate("image: {repository: x, tag: y}\n", &helm("image")).unwrap_err();
        assert_eq!((e.line, e.column), (1, 8));
        assert!(e.message.contains("flow style"), "{e}");

        let e = locate("image:\n  - a\n", &helm("image")).unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));

        let e = locate("- a\n", &helm("image")).unwrap_err();
        assert_eq!(e.line, 1);

        let e = locate("app:\nimage:\n", &helm("app.image")).unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
        assert!(e.message.contains("is empty"), "{e}");

        let e = locate("image:\n  tag: a\n  tag: b\n", &helm("image")).unwrap_err();
        assert_eq!((e.line, e.column), (3, 3));

        let e = locate("a: 1\n", &helm("app..image")).unwrap_err();
        assert!(e.message.contains("dotted path"), "{e}");

        let e = apply("image:\n  repository: *repo\n", &helm("image"), &api(true)).unwrap_err();
        assert_eq!((e.line, e.column), (2, 15));
        assert!(e.message.contains("alias"), "{e}");
    }

    // ---- markers

    #[test]
    fn marker_rel_full_and_parts() {
        let docs = golden_yaml(
            fixture!("marker_rel"),
            &marker("api"),
            &api(true),
            6,
            &[10, 15, 17, 29, 30, 31],
            0,
        );
        assert_eq!(docs[1]["data"]["digest"], DIGEST);
        assert_eq!(
            docs[0]["spec"]["template"]["spec"]["initContainers"][0]["args"][0],
            format!("ghcr.io/acme/api:1.2.3@{DIGEST}")
        );
    }

    #[test]
    fn marker_flux_image_policy() {
        golden_yaml(
            fixture!("marker_flux"),
            &marker("flux-system:api"),
            &api(true),
            3,
            &[7, 8, 30],
            0,
        );
    }

    #[test]
    fn marker_errors_and_absence() {
        let m = marker("api");
        let text = "image: nginx # {\"$rel\": \"web\"}\n# {\"$rel\": \"api\"}\n";
        assert_eq!(locate(text, &m), Ok(0));
        let e = apply(text, &m, &api(true)).unwrap_err();
        assert!(
            e.message.contains("`api`") || e.message.contains("\"api\""),
            "{e}"
        );

        let e = locate("a:\n  image: # {\"$rel\": \"api\"}\n", &m).unwrap_err();
        assert_eq!((e.line, e.column), (2, 10));

        let e = locate("image: [a, b] # {\"$rel\": \"api\"}\n", &m).unwrap_err();
        assert_eq!((e.line, e.column), (1, 8));
        assert!(e.message.contains("flow collection"), "{e}");
    }

    #[test]
    fn marker_value_with_quotes_and_escapes() {
        let text = "image: \"it's \\\"old\\\"\" # {\"$rel\": \"api\"}\nx: 'a''b' # {\"$rel\": \"api:tag\"}\n";
        let img = NewImage {
            tag: "it's",
            ..api(false)
        };
        let out = apply(text, &marker("api"), &img).unwrap();
        assert_eq!(
            out,
            format!(
                "image: \"ghcr.io/acme/api@{DIGEST}\" # {{\"$rel\": \"api\"}}\nx: 'it''s' # {{\"$rel\": \"api:tag\"}}\n"
            )
        );
        assert_eq!(parse(&out)[0]["x"], "it's");
    }

    // ---- regex

    #[test]
    fn regex_terraform() {
        golden(
            fixture!("regex_terraform", "input.tf", "expected.tf"),
            &regex(r#"image\s*=\s*"([^"]+)""#),
            &api(false),
            1,
            &[5],
            0,
        );
    }

    #[test]
    fn regex_dockerfile() {
        golden(
            fixture!(
                "regex_dockerfile",
                "input.Dockerfile",
                "expected.Dockerfile"
            ),
            &regex(r"^FROM (\S+) AS app$"),
            &api(true),
            1,
            &[2],
            0,
        );
    }

    #[test]
    fn regex_crlf_lines() {
        let text = "FROM a:1 AS app\r\nRUN x\r\n";
        let out = apply(text, &regex(r"^FROM (.+) AS app$"), &api(false)).unwrap();
        assert_eq!(
            out,
            format!("FROM ghcr.io/acme/api@{DIGEST} AS app\r\nRUN x\r\n")
        );
        let out = apply(text, &regex(r"^RUN (.*)$"), &api(false)).unwrap();
        assert!(
            out.ends_with(
                "@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\r\n"
            ),
            "{out:?}"
        );
    }

    #[test]
    fn regex_errors() {
        let text = "image = \"a:1\"\nimage = \"b:2\"\n";
        let e = locate(text, &regex("image = \"(")).unwrap_err();
        assert_eq!((e.line, e.column), (0, 0));
        assert!(e.message.starts_with("invalid pattern"), "{e}");

        let e = locate(text, &regex(r#"(image) = "([^"]+)""#)).unwrap_err();
        assert!(e.message.contains("2 capture groups"), "{e}");
        let e = locate(text, &regex(r#"image = "[^"]+""#)).unwrap_err();
        assert!(e.message.contains("0 capture groups"), "{e}");

        let e = apply(text, &regex(r#"image = "([^"]+)""#), &api(true)).unwrap_err();
        assert_eq!((e.line, e.column), (2, 10));
        assert!(e.message.contains("lines 1 and 2"), "{e}");

        let e = locate(text, &regex(r#"tag = "([^"]+)""#)).unwrap_err();
        assert!(e.message.contains("matches nothing"), "{e}");

        let e = locate(text, &regex(r#"image = "(x)?a:1""#)).unwrap_err();
        assert_eq!((e.line, e.column), (1, 1));
    }

    // ---- the scanner

    #[test]
    fn plain_scalars_that_would_change_type_are_quoted() {
        for v in [
            "1.0",
            "1.10",
            "10",
            "0x1f",
            "1e3",
            "true",
            "yes",
            "Off",
            "null",
            "~",
            "",
            "1:20",
            "2024-01-01",
            ".inf",
        ] {
            assert!(!plain_safe(v), "{v}");
        }
        for v in [
            "1.2.3",
            "v1.0",
            "latest",
            "sha256:abc",
            "ghcr.io/acme/api",
            "1.25.3-debian-11-r0",
            "2.0-rc1",
        ] {
            assert!(plain_safe(v), "{v}");
        }
        for v in ["- x", "a: b", "a #b", "#x", "'q", "x:", "@x"] {
            assert!(!plain_safe(v), "{v}");
        }
    }

    #[test]
    fn lines_are_read_as_yaml_reads_them() {
        let l = parse_line("  - \"a: b\": 'c''d' # note", "\n");
        assert_eq!(l.dashes, vec![2]);
        assert_eq!(l.key.as_ref().map(|k| k.name.as_str()), Some("a: b"));
        let Value::Scalar(s) = &l.value else {
            panic!("{l:?}")
        };
        assert_eq!((s.value.as_str(), s.style), ("c'd", Style::Single));
        assert_eq!(l.comment, Some(19));

        let l = parse_line("url: http://x#y # c", "");
        let Value::Scalar(s) = &l.value else {
            panic!("{l:?}")
        };
        assert_eq!(s.value, "http://x#y");

        let l = parse_line("tag: &t !!str 1.0", "");
        let Value::Scalar(s) = &l.value else {
            panic!("{l:?}")
        };
        assert_eq!(s.value, "1.0");

        assert_eq!(unquote(r#""a\"b\\c\x41\u00e9""#), "a\"b\\cAé");

        // Multi-line values hide their text from keys and markers.
        let doc = Doc::new("a: \"x\n  b: y\"\nc: [1,\n  d: 2]\ne: f\n  g: h\ni: j\n");
        let conts: Vec<bool> = doc.lines.iter().map(|l| l.cont).collect();
        assert_eq!(conts, vec![false, true, false, true, false, true, false]);
    }

    #[test]
    fn byte_order_mark_is_kept() {
        let text = "\u{feff}images:\n- name: api\n";
        let out = apply(text, &kustomize("api"), &api(false)).unwrap();
        assert_eq!(
            out,
            format!(
                "\u{feff}images:\n- name: api\n  newName: ghcr.io/acme/api\n  digest: {DIGEST}\n"
            )
        );
    }
}
