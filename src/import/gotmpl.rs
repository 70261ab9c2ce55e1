//! Go `text/template` (GoReleaser's template language) → rel's minijinja templates.
//!
//! [`parse`] is a lexer and recursive-descent parser that follows Go's `text/template/parse`
//! grammar and error messages, so a template Go refuses is refused here too, at the same place.
//! [`translate`] walks the tree and writes the minijinja template that renders the same text:
//! trim markers stay trim markers (with `+` where rel's `trim_blocks`/`lstrip_blocks` would
//! otherwise eat whitespace Go keeps), `with` and `range` rebind `.`, pipelines pass their value
//! as the last argument, and GoReleaser's functions become rel's filters and functions.
//! Whatever has no faithful equivalent is a [`Problem`] with its line and column, and the text
//! still holds the closest translation.

use std::collections::HashMap;
use std::fmt;

// ---------------------------------------------------------------------------------------------
// Syntax tree
// ---------------------------------------------------------------------------------------------

/// One `{{ … }}` delimiter pair: where it starts and whether it trims the text on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// Byte offset of the `{{`.
    pub pos: usize,
    /// `{{- ` trims the whitespace before.
    pub trim_left: bool,
    /// ` -}}` trims the whitespace after.
    pub trim_right: bool,
}

/// A node of a template's body.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Literal text, as written: the trims of the neighbouring tags are not applied.
    Text { pos: usize, text: String },
    /// `{{/* text */}}`.
    Comment { tag: Tag, text: String },
    /// `{{ pipeline }}`, printing its value unless it declares or assigns a variable.
    Action { tag: Tag, pipe: Pipe },
    /// `{{ if }}` with its `{{ else if }}` branches.
    If {
        branches: Vec<Branch>,
        otherwise: Option<(Tag, Vec<Node>)>,
        end: Tag,
    },
    /// `{{ with }}` with its `{{ else with }}` branches.
    With {
        branches: Vec<Branch>,
        otherwise: Option<(Tag, Vec<Node>)>,
        end: Tag,
    },
    /// `{{ range }}`.
    Range {
        branch: Branch,
        otherwise: Option<(Tag, Vec<Node>)>,
        end: Tag,
    },
    /// `{{ break }}`.
    Break(Tag),
    /// `{{ continue }}`.
    Continue(Tag),
    /// `{{ template "name" pipeline }}`.
    Template {
        tag: Tag,
        name: String,
        pipe: Option<Pipe>,
    },
    /// `{{ block "name" pipeline }} … {{ end }}`.
    Block {
        tag: Tag,
        name: String,
        pipe: Pipe,
        body: Vec<Node>,
        end: Tag,
    },
    /// `{{ define "name" }} … {{ end }}` (top level only).
    Define {
        tag: Tag,
        name: String,
        body: Vec<Node>,
        end: Tag,
    },
}

/// The opening tag of a control structure, its pipeline and its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub tag: Tag,
    pub pipe: Pipe,
    pub body: Vec<Node>,
}

/// `$x := cmd | cmd …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipe {
    pub pos: usize,
    /// Declared or assigned variables (`$x`, or `$i, $e` in a range).
    pub decl: Vec<Variable>,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    pub cmds: Vec<Command>,
}

/// A `$name` in a declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub pos: usize,
    pub name: String,
}

/// One stage of a pipeline: a function and its arguments, or a single value.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `.A.B`
    Field { pos: usize, path: Vec<String> },
    /// `$`, `$x`, `$x.A.B`
    Variable {
        pos: usize,
        name: String,
        path: Vec<String>,
    },
    /// `.`
    Dot(usize),
    /// `nil`
    Nil(usize),
    /// `true`, `false`
    Bool(usize, bool),
    /// A number or character constant.
    Number {
        pos: usize,
        text: String,
        value: Number,
    },
    /// An interpreted or raw string, unquoted.
    String { pos: usize, value: String },
    /// A function name.
    Ident { pos: usize, name: String },
    /// `(pipeline).A.B`
    Chain {
        pos: usize,
        base: Box<Arg>,
        path: Vec<String>,
    },
    /// `(pipeline)`
    Pipe(Box<Pipe>),
}

impl Arg {
    /// Byte offset of the operand.
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Bool(pos, _)
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Chain { pos, .. } => *pos,
            Arg::Pipe(p) => p.pos,
        }
    }
}

/// The value of a numeric constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i128),
    Float(f64),
    /// A complex constant (`1i`), which has no minijinja equivalent.
    Complex,
}

/// A template that Go would refuse to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset.
    pub pos: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// 1-based line and column (in characters) of byte offset `pos` in `src`.
pub fn line_col(src: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(src.len());
    let before = &src[..pos];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[start..].chars().count() + 1)
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

#[derive(Debug, Clone, PartialEq)]
enum T {
    Text,
    Left {
        trim: bool,
    },
    Right {
        trim: bool,
    },
    Comment {
        text: String,
        trim_left: bool,
        trim_right: bool,
    },
    Space,
    Pipe,
    Declare,
    Assign,
    LParen,
    RParen,
    Char(char),
    Bool(bool),
    Nil,
    Dot,
    Field(String),
    Var(String),
    Ident(String),
    Kw(Kw),
    Number,
    Str,
    RawStr,
    CharConst,
    Error(String),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
struct Tok {
    t: T,
    pos: usize,
    end: usize,
}

/// Go's `isSpace`: the only characters trim markers and actions treat as space.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// `U+0021 '!'`, as Go's `%#U` prints a rune.
fn fmt_rune(c: char) -> String {
    format!("U+{:04X} '{c}'", c as u32)
}

struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    paren_depth: i32,
    toks: Vec<Tok>,
}

impl<'s> Lexer<'s> {
    fn rest(&self) -> &'s str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn push(&mut self, t: T, start: usize) {
        self.toks.push(Tok {
            t,
            pos: start,
            end: self.pos,
        });
    }

    /// Record an error token and stop.
    fn error(&mut self, pos: usize, msg: impl Into<String>) -> bool {
        self.toks.push(Tok {
            t: T::Error(msg.into()),
            pos,
            end: pos,
        });
        false
    }

    fn run(mut self) -> Vec<Tok> {
        loop {
            match self.rest().find("{{") {
                None => {
                    if !self.rest().is_empty() {
                        let start = self.pos;
                        self.pos = self.src.len();
                        self.push(T::Text, start);
                    }
                    let end = self.src.len();
                    self.push(T::Eof, end);
                    return self.toks;
                }
                Some(x) => {
                    if x > 0 {
                        let start = self.pos;
                        self.pos += x;
                        self.push(T::Text, start);
                    }
                    if !self.left_delim() {
                        return self.toks;
                    }
                }
            }
        }
    }

    /// `-` then a space right after `{{`.
    fn has_left_trim(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() >= 2 && b[0] == b'-' && is_space(b[1] as char)
    }

    /// At `}}` or ` -}}`: (is a delimiter, trims).
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest().as_bytes();
        if r.len() >= 2 && is_space(r[0] as char) && r[1] == b'-' && r[2..].starts_with(b"}}") {
            return (true, true);
        }
        (r.starts_with(b"}}"), false)
    }

    fn left_delim(&mut self) -> bool {
        let start = self.pos;
        self.pos += 2;
        let trim = Self::has_left_trim(self.rest());
        let after = if trim { 2 } else { 0 };
        if self.src[self.pos + after..].starts_with("/*") {
            self.pos += after + 2;
            let Some(x) = self.rest().find("*/") else {
                return self.error(start, "unclosed comment");
            };
            let text = self.rest()[..x].to_string();
            self.pos += x + 2;
            let (delim, trim_right) = self.at_right_delim();
            if !delim {
                return self.error(start, "comment ends before closing delimiter");
            }
            self.pos += if trim_right { 4 } else { 2 };
            self.push(
                T::Comment {
                    text,
                    trim_left: trim,
                    trim_right,
                },
                start,
            );
            return true;
        }
        self.pos += after;
        self.push(T::Left { trim }, start);
        self.paren_depth = 0;
        self.inside_action()
    }

    fn at_terminator(&self) -> bool {
        match self.peek() {
            None => true,
            Some(c) if is_space(c) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            _ => self.rest().starts_with("}}"),
        }
    }

    fn inside_action(&mut self) -> bool {
        loop {
            let (delim, trim) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    let start = self.pos;
                    self.pos += if trim { 4 } else { 2 };
                    self.push(T::Right { trim }, start);
                    return true;
                }
                return self.error(self.pos, "unclosed left paren");
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                return self.error(start, "unclosed action");
            };
            let ok = match c {
                c if is_space(c) => {
                    let mut n = 0;
                    while self.peek().is_some_and(is_space) {
                        self.bump();
                        n += 1;
                    }
                    // A single space before `-}}` belongs to the delimiter.
                    let before = &self.src[self.pos - 1..];
                    if before.len() >= 4
                        && before.as_bytes()[1] == b'-'
                        && before[2..].starts_with("}}")
                    {
                        self.pos -= 1;
                        if n == 1 {
                            continue;
                        }
                    }
                    self.push(T::Space, start);
                    true
                }
                '=' => {
                    self.bump();
                    self.push(T::Assign, start);
                    true
                }
                ':' => {
                    self.bump();
                    if self.bump() != Some('=') {
                        return self.error(start, "expected :=");
                    }
                    self.push(T::Declare, start);
                    true
                }
                '|' => {
                    self.bump();
                    self.push(T::Pipe, start);
                    true
                }
                '"' => self.quote(start, '"', "unterminated quoted string", T::Str),
                '\'' => self.quote(start, '\'', "unterminated character constant", T::CharConst),
                '`' => {
                    self.bump();
                    match self.rest().find('`') {
                        None => return self.error(start, "unterminated raw quoted string"),
                        Some(x) => {
                            self.pos += x + 1;
                            self.push(T::RawStr, start);
                            true
                        }
                    }
                }
                '$' => {
                    self.bump();
                    self.field_or_var(start, true)
                }
                '.' if self.rest()[1..]
                    .bytes()
                    .next()
                    .is_some_and(|b| !b.is_ascii_digit()) =>
                {
                    self.bump();
                    self.field_or_var(start, false)
                }
                '.' | '+' | '-' | '0'..='9' => self.number(start),
                c if is_alnum(c) => self.identifier(start),
                '(' => {
                    self.bump();
                    self.paren_depth += 1;
                    self.push(T::LParen, start);
                    true
                }
                ')' => {
                    self.bump();
                    self.paren_depth -= 1;
                    if self.paren_depth < 0 {
                        return self.error(start, "unexpected right paren");
                    }
                    self.push(T::RParen, start);
                    true
                }
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.bump();
                    self.push(T::Char(c), start);
                    true
                }
                c => {
                    return self.error(
                        start,
                        format!("unrecognized character in action: {}", fmt_rune(c)),
                    );
                }
            };
            if !ok {
                return false;
            }
        }
    }

    fn quote(&mut self, start: usize, q: char, unterminated: &str, t: T) -> bool {
        self.bump();
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some(c) if c != '\n' => {}
                    _ => return self.error(start, unterminated),
                },
                None | Some('\n') => return self.error(start, unterminated),
                Some(c) if c == q => break,
                Some(_) => {}
            }
        }
        self.push(t, start);
        true
    }

    fn field_or_var(&mut self, start: usize, var: bool) -> bool {
        if self.at_terminator() {
            self.push(if var { T::Var("$".into()) } else { T::Dot }, start);
            return true;
        }
        while self.peek().is_some_and(is_alnum) {
            self.bump();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            return self.error(start, format!("bad character {}", fmt_rune(c)));
        }
        let text = &self.src[start..self.pos];
        let t = if var {
            T::Var(text.to_string())
        } else {
            T::Field(text[1..].to_string())
        };
        self.push(t, start);
        true
    }

    fn identifier(&mut self, start: usize) -> bool {
        while self.peek().is_some_and(is_alnum) {
            self.bump();
        }
        if !self.at_terminator() {
            let c = self.peek().unwrap_or('\0');
            return self.error(start, format!("bad character {}", fmt_rune(c)));
        }
        let word = &self.src[start..self.pos];
        let t = match word {
            "block" => T::Kw(Kw::Block),
            "break" => T::Kw(Kw::Break),
            "continue" => T::Kw(Kw::Continue),
            "define" => T::Kw(Kw::Define),
            "else" => T::Kw(Kw::Else),
            "end" => T::Kw(Kw::End),
            "if" => T::Kw(Kw::If),
            "range" => T::Kw(Kw::Range),
            "template" => T::Kw(Kw::Template),
            "with" => T::Kw(Kw::With),
            "nil" => T::Nil,
            "true" => T::Bool(true),
            "false" => T::Bool(false),
            _ => T::Ident(word.to_string()),
        };
        self.push(t, start);
        true
    }

    fn accept(&mut self, set: &str) -> bool {
        match self.peek() {
            Some(c) if set.contains(c) => {
                self.bump();
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, set: &str) {
        while self.accept(set) {}
    }

    /// Go's `scanNumber`: sign, base prefix, digits, fraction, exponent, `i`.
    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if self.peek().is_some_and(is_alnum) {
            self.bump();
            return false;
        }
        true
    }

    fn number(&mut self, start: usize) -> bool {
        if !self.scan_number() {
            let text = self.src[start..self.pos].to_string();
            return self.error(start, format!("bad number syntax: {text:?}"));
        }
        if matches!(self.peek(), Some('+' | '-'))
            && (!self.scan_number() || !self.src[..self.pos].ends_with('i'))
        {
            let text = self.src[start..self.pos].to_string();
            return self.error(start, format!("bad number syntax: {text:?}"));
        }
        self.push(T::Number, start);
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

enum Item {
    Node(Node),
    End(Tag),
    Else(Tag),
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Tok>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    /// Trim flag of the last `}}` consumed.
    last_right_trim: bool,
    /// Where the action being parsed started, for "unclosed action started at".
    action_start: Option<usize>,
}

type PResult<T> = Result<T, ParseError>;

/// Parse `src` as Go's `text/template` does.
pub fn parse(src: &str) -> Result<Vec<Node>, ParseError> {
    let toks = Lexer {
        src,
        pos: 0,
        paren_depth: 0,
        toks: Vec::new(),
    }
    .run();
    let mut p = Parser {
        src,
        toks,
        i: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        last_right_trim: false,
        action_start: None,
    };
    p.parse()
}

impl<'s> Parser<'s> {
    fn err<R>(&self, pos: usize, message: impl Into<String>) -> PResult<R> {
        let (line, column) = line_col(self.src, pos);
        Err(ParseError {
            pos,
            line,
            column,
            message: message.into(),
        })
    }

    fn next(&mut self) -> Tok {
        // Past the end the last token (EOF or an error) repeats; `i` still moves so that
        // `backup` always undoes exactly one `next`.
        let t = self.toks[self.i.min(self.toks.len() - 1)].clone();
        self.i += 1;
        if let T::Right { trim } = t.t {
            self.last_right_trim = trim;
        }
        t
    }

    fn backup(&mut self) {
        self.i -= 1;
    }

    fn peek(&self) -> Tok {
        self.toks[self.i.min(self.toks.len() - 1)].clone()
    }

    fn next_non_space(&mut self) -> Tok {
        loop {
            let t = self.next();
            if t.t != T::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Tok {
        let t = self.next_non_space();
        self.backup();
        t
    }

    /// How Go prints a token in "unexpected …" messages.
    fn describe(&self, t: &Tok) -> String {
        match &t.t {
            T::Eof => "EOF".into(),
            T::Error(m) => m.clone(),
            T::Kw(_) | T::Dot | T::Nil => format!("<{}>", &self.src[t.pos..t.end]),
            T::Right { .. } => "\"}}\"".into(),
            _ => {
                let v = &self.src[t.pos..t.end];
                if v.chars().count() > 10 {
                    let short: String = v.chars().take(10).collect();
                    format!("{short:?}...")
                } else {
                    format!("{v:?}")
                }
            }
        }
    }

    fn unexpected<R>(&self, t: &Tok, context: &str) -> PResult<R> {
        if let T::Error(m) = &t.t {
            let mut msg = m.clone();
            if let Some(start) = self.action_start {
                let (sl, sc) = line_col(self.src, start);
                let (el, _) = line_col(self.src, t.pos);
                if sl != el {
                    if msg.ends_with(" action") {
                        msg.push_str(&format!(" started at {sl}:{sc}"));
                    } else {
                        msg.push_str(&format!(" in action started at {sl}:{sc}"));
                    }
                }
            }
            return self.err(t.pos, msg);
        }
        self.err(
            t.pos,
            format!("unexpected {} in {context}", self.describe(t)),
        )
    }

    fn expect_right(&mut self, context: &str) -> PResult<()> {
        let t = self.next_non_space();
        if !matches!(t.t, T::Right { .. }) {
            return self.unexpected(&t, context);
        }
        Ok(())
    }

    fn parse(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().t != T::Eof {
            let save = self.i;
            if let T::Left { trim } = self.peek().t {
                let left = self.next();
                if self.next_non_space().t == T::Kw(Kw::Define) {
                    root.push(self.define(left.pos, trim)?);
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End(tag) => return self.err(tag.pos, "unexpected {{end}}"),
                Item::Else(tag) => return self.err(tag.pos, "unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn define(&mut self, pos: usize, trim_left: bool) -> PResult<Node> {
        const CONTEXT: &str = "define clause";
        let name_tok = self.next_non_space();
        let name = match name_tok.t {
            T::Str | T::RawStr => self.unquote(&name_tok)?,
            _ => return self.unexpected(&name_tok, CONTEXT),
        };
        self.expect_right(CONTEXT)?;
        let tag = Tag {
            pos,
            trim_left,
            trim_right: self.last_right_trim,
        };
        let saved = (
            std::mem::replace(&mut self.vars, vec!["$".into()]),
            self.range_depth,
        );
        self.range_depth = 0;
        let (body, end) = self.item_list()?;
        self.vars = saved.0;
        self.range_depth = saved.1;
        match end {
            Item::End(end) => Ok(Node::Define {
                tag,
                name,
                body,
                end,
            }),
            Item::Else(t) => self.err(t.pos, format!("unexpected {{{{else}}}} in {CONTEXT}")),
            Item::Node(_) => unreachable!("item_list ends with end or else"),
        }
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Item)> {
        let mut list = Vec::new();
        while self.peek_non_space().t != T::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                end => return Ok((list, end)),
            }
        }
        self.err(self.src.len(), "unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match &t.t {
            T::Text => Ok(Item::Node(Node::Text {
                pos: t.pos,
                text: self.src[t.pos..t.end].to_string(),
            })),
            T::Left { trim } => {
                let trim = *trim;
                self.action_start = Some(t.pos);
                let r = self.action(t.pos, trim);
                self.action_start = None;
                r
            }
            T::Comment {
                text,
                trim_left,
                trim_right,
            } => Ok(Item::Node(Node::Comment {
                tag: Tag {
                    pos: t.pos,
                    trim_left: *trim_left,
                    trim_right: *trim_right,
                },
                text: text.clone(),
            })),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn tag(&self, pos: usize, trim_left: bool) -> Tag {
        Tag {
            pos,
            trim_left,
            trim_right: self.last_right_trim,
        }
    }

    fn action(&mut self, pos: usize, trim: bool) -> PResult<Item> {
        let t = self.next_non_space();
        match t.t {
            T::Kw(Kw::Block) => self.block(pos, trim),
            T::Kw(Kw::Break) | T::Kw(Kw::Continue) => {
                let word = if t.t == T::Kw(Kw::Break) {
                    "break"
                } else {
                    "continue"
                };
                let next = self.next_non_space();
                if !matches!(next.t, T::Right { .. }) {
                    return self.unexpected(&next, &format!("{{{{{word}}}}}"));
                }
                if self.range_depth == 0 {
                    return self.err(t.pos, format!("{{{{{word}}}}} outside {{{{range}}}}"));
                }
                let tag = self.tag(pos, trim);
                Ok(Item::Node(if word == "break" {
                    Node::Break(tag)
                } else {
                    Node::Continue(tag)
                }))
            }
            T::Kw(Kw::Else) => {
                let peek = self.peek_non_space();
                if matches!(peek.t, T::Kw(Kw::If) | T::Kw(Kw::With)) {
                    return Ok(Item::Else(Tag {
                        pos,
                        trim_left: trim,
                        trim_right: false,
                    }));
                }
                self.expect_right("else")?;
                Ok(Item::Else(self.tag(pos, trim)))
            }
            T::Kw(Kw::End) => {
                self.expect_right("end")?;
                Ok(Item::End(self.tag(pos, trim)))
            }
            T::Kw(Kw::If) => {
                let (branches, otherwise, end) = self.control(pos, trim, "if")?;
                Ok(Item::Node(Node::If {
                    branches,
                    otherwise,
                    end,
                }))
            }
            T::Kw(Kw::With) => {
                let (branches, otherwise, end) = self.control(pos, trim, "with")?;
                Ok(Item::Node(Node::With {
                    branches,
                    otherwise,
                    end,
                }))
            }
            T::Kw(Kw::Range) => {
                let (mut branches, otherwise, end) = self.control(pos, trim, "range")?;
                Ok(Item::Node(Node::Range {
                    branch: branches.remove(0),
                    otherwise,
                    end,
                }))
            }
            T::Kw(Kw::Template) => {
                const CONTEXT: &str = "template clause";
                let name_tok = self.next_non_space();
                let name = match name_tok.t {
                    T::Str | T::RawStr => self.unquote(&name_tok)?,
                    _ => return self.unexpected(&name_tok, CONTEXT),
                };
                let pipe = if matches!(self.next_non_space().t, T::Right { .. }) {
                    None
                } else {
                    self.backup();
                    Some(self.pipeline(CONTEXT, false)?)
                };
                Ok(Item::Node(Node::Template {
                    tag: self.tag(pos, trim),
                    name,
                    pipe,
                }))
            }
            _ => {
                self.backup();
                let pipe = self.pipeline("command", false)?;
                Ok(Item::Node(Node::Action {
                    tag: self.tag(pos, trim),
                    pipe,
                }))
            }
        }
    }

    fn block(&mut self, pos: usize, trim: bool) -> PResult<Item> {
        const CONTEXT: &str = "block clause";
        let name_tok = self.next_non_space();
        let name = match name_tok.t {
            T::Str | T::RawStr => self.unquote(&name_tok)?,
            _ => return self.unexpected(&name_tok, CONTEXT),
        };
        let pipe = self.pipeline(CONTEXT, false)?;
        let tag = self.tag(pos, trim);
        let saved = (
            std::mem::replace(&mut self.vars, vec!["$".into()]),
            self.range_depth,
        );
        self.range_depth = 0;
        let start = self.action_start.take();
        let (body, end) = self.item_list()?;
        self.action_start = start;
        self.vars = saved.0;
        self.range_depth = saved.1;
        match end {
            Item::End(end) => Ok(Item::Node(Node::Block {
                tag,
                name,
                pipe,
                body,
                end,
            })),
            Item::Else(t) => self.err(t.pos, format!("unexpected {{{{else}}}} in {CONTEXT}")),
            Item::Node(_) => unreachable!("item_list ends with end or else"),
        }
    }

    #[allow(clippy::type_complexity)]
    fn control(
        &mut self,
        pos: usize,
        trim: bool,
        context: &str,
    ) -> PResult<(Vec<Branch>, Option<(Tag, Vec<Node>)>, Tag)> {
        let vars_len = self.vars.len();
        let pipe = self.pipeline(context, false)?;
        let tag = self.tag(pos, trim);
        self.action_start = None;
        if context == "range" {
            self.range_depth += 1;
        }
        let (body, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut branches = vec![Branch { tag, pipe, body }];
        let (otherwise, end) = match next {
            Item::End(end) => (None, end),
            Item::Else(etag) => {
                let kw = self.peek().t;
                if (context == "if" && kw == T::Kw(Kw::If))
                    || (context == "with" && kw == T::Kw(Kw::With))
                {
                    self.next();
                    let (more, otherwise, end) = self.control(etag.pos, etag.trim_left, context)?;
                    branches.extend(more);
                    (otherwise, end)
                } else {
                    let (body, next) = self.item_list()?;
                    match next {
                        Item::End(end) => (Some((etag, body)), end),
                        Item::Else(t) => {
                            return self.err(t.pos, "expected end; found {{else}}");
                        }
                        Item::Node(_) => unreachable!("item_list ends with end or else"),
                    }
                }
            }
            Item::Node(_) => unreachable!("item_list ends with end or else"),
        };
        self.vars.truncate(vars_len);
        Ok((branches, otherwise, end))
    }

    fn pipeline(&mut self, context: &str, in_parens: bool) -> PResult<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut decl = Vec::new();
        let mut is_assign = false;
        loop {
            let v = self.peek_non_space();
            let T::Var(name) = &v.t else { break };
            let save = self.i;
            self.next();
            let next = self.peek_non_space();
            match next.t {
                T::Assign | T::Declare => {
                    is_assign = next.t == T::Assign;
                    self.next_non_space();
                    decl.push(Variable {
                        pos: v.pos,
                        name: name.clone(),
                    });
                    self.vars.push(name.clone());
                }
                T::Char(',') => {
                    self.next_non_space();
                    decl.push(Variable {
                        pos: v.pos,
                        name: name.clone(),
                    });
                    self.vars.push(name.clone());
                    if context == "range" && decl.len() < 2 {
                        match self.peek_non_space().t {
                            T::Var(_) | T::Right { .. } | T::RParen => continue,
                            _ => return self.err(next.pos, "range can only initialize variables"),
                        }
                    }
                    return self.err(next.pos, format!("too many declarations in {context}"));
                }
                _ => self.i = save,
            }
            break;
        }
        let mut cmds = Vec::new();
        loop {
            let t = self.next_non_space();
            match t.t {
                T::Right { .. } if !in_parens => break,
                T::RParen if in_parens => break,
                T::Bool(_)
                | T::CharConst
                | T::Dot
                | T::Field(_)
                | T::Ident(_)
                | T::Number
                | T::Nil
                | T::RawStr
                | T::Str
                | T::Var(_)
                | T::LParen => {
                    self.backup();
                    cmds.push(self.command()?);
                }
                _ => return self.unexpected(&t, context),
            }
        }
        if cmds.is_empty() {
            return self.err(pos, format!("missing value for {context}"));
        }
        for (i, c) in cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0],
                Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::String { .. }
            ) {
                return self.err(
                    c.pos,
                    format!("non executable command in pipeline stage {}", i + 1),
                );
            }
        }
        Ok(Pipe {
            pos,
            decl,
            is_assign,
            cmds,
        })
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(a) = self.operand()? {
                args.push(a);
            }
            let t = self.next();
            match t.t {
                T::Space => continue,
                T::Right { .. } | T::RParen => self.backup(),
                T::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if args.is_empty() {
            return self.err(pos, "empty command");
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if !matches!(self.peek().t, T::Field(_)) {
            return Ok(Some(node));
        }
        let mut more = Vec::new();
        while let T::Field(f) = self.peek().t {
            self.next();
            more.push(f);
        }
        Ok(Some(match node {
            Arg::Field { pos, mut path } => {
                path.extend(more);
                Arg::Field { pos, path }
            }
            Arg::Variable {
                pos,
                name,
                mut path,
            } => {
                path.extend(more);
                Arg::Variable { pos, name, path }
            }
            Arg::Bool(pos, _)
            | Arg::String { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::Nil(pos)
            | Arg::Dot(pos) => {
                let text = self.src[pos..]
                    .split(|c: char| is_space(c) || c == '.' || c == '}')
                    .next()
                    .unwrap_or_default();
                let text = if text.is_empty() { "." } else { text };
                return self.err(pos, format!("unexpected . after term {text:?}"));
            }
            other => Arg::Chain {
                pos: other.pos(),
                base: Box::new(other),
                path: more,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        Ok(Some(match t.t {
            T::Ident(ref name) => Arg::Ident {
                pos: t.pos,
                name: name.clone(),
            },
            T::Dot => Arg::Dot(t.pos),
            T::Nil => Arg::Nil(t.pos),
            T::Var(ref name) => {
                if !self.vars.iter().any(|v| v == name) {
                    return self.err(t.pos, format!("undefined variable {name:?}"));
                }
                Arg::Variable {
                    pos: t.pos,
                    name: name.clone(),
                    path: Vec::new(),
                }
            }
            T::Field(ref f) => Arg::Field {
                pos: t.pos,
                path: vec![f.clone()],
            },
            T::Bool(b) => Arg::Bool(t.pos, b),
            T::Number | T::CharConst => {
                let text = self.src[t.pos..t.end].to_string();
                let value = if t.t == T::CharConst {
                    match unquote_go(&text) {
                        Some(s) if s.chars().count() == 1 => {
                            Number::Int(s.chars().next().unwrap_or_default() as i128)
                        }
                        _ => {
                            return self
                                .err(t.pos, format!("malformed character constant: {text}"));
                        }
                    }
                } else {
                    match parse_number(&text) {
                        Some(v) => v,
                        None => return self.err(t.pos, format!("illegal number syntax: {text:?}")),
                    }
                };
                Arg::Number {
                    pos: t.pos,
                    text,
                    value,
                }
            }
            T::LParen => Arg::Pipe(Box::new(self.pipeline("parenthesized pipeline", true)?)),
            T::Str | T::RawStr => Arg::String {
                pos: t.pos,
                value: self.unquote(&t)?,
            },
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn unquote(&self, t: &Tok) -> PResult<String> {
        let text = &self.src[t.pos..t.end];
        match unquote_go(text) {
            Some(s) => Ok(s),
            None => self.err(t.pos, "invalid syntax"),
        }
    }
}

/// Go's `strconv.Unquote` for `"…"`, `` `…` `` and `'…'`.
fn unquote_go(s: &str) -> Option<String> {
    let q = s.chars().next()?;
    if s.len() < 2 || !s.ends_with(q) {
        return None;
    }
    let inner = &s[1..s.len() - 1];
    if q == '`' {
        return Some(inner.replace('\r', ""));
    }
    let mut out = String::new();
    let mut it = inner.chars().peekable();
    while let Some(c) = it.next() {
        if c == q || (c == '\n') {
            return None;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it.next()?;
        let hex = |it: &mut std::iter::Peekable<std::str::Chars>, n: usize| -> Option<u32> {
            let mut v = 0u32;
            for _ in 0..n {
                v = v * 16 + it.next()?.to_digit(16)?;
            }
            Some(v)
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '"' if q == '"' => out.push('"'),
            '\'' if q == '\'' => out.push('\''),
            'x' => out.push(char::from_u32(hex(&mut it, 2)?)?),
            'u' => out.push(char::from_u32(hex(&mut it, 4)?)?),
            'U' => out.push(char::from_u32(hex(&mut it, 8)?)?),
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    v = v * 8 + it.next()?.to_digit(8)?;
                }
                if v > 255 {
                    return None;
                }
                out.push(char::from_u32(v)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A Go numeric constant: integers with base prefixes and `_`, floats, complex.
fn parse_number(text: &str) -> Option<Number> {
    if text.ends_with('i') {
        return Some(Number::Complex);
    }
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i128::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        i128::from_str_radix(&lower[1..], 8).ok()
    } else if lower.bytes().all(|b| b.is_ascii_digit()) && !lower.is_empty() {
        lower.parse().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(Number::Int(if neg { -i } else { i }));
    }
    if lower.starts_with("0x") {
        return None;
    }
    let f: f64 = lower.parse().ok()?;
    Some(Number::Float(if neg { -f } else { f }))
}

// ---------------------------------------------------------------------------------------------
// Translation
// ---------------------------------------------------------------------------------------------

/// Something of the Go template that the minijinja text does not reproduce exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the Go template.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    pub message: String,
}

/// A translated template and what it could not translate faithfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    /// The minijinja template (the Go source itself when it does not parse).
    pub text: String,
    pub problems: Vec<Problem>,
}

/// GoReleaser's template fields that rel has, as minijinja expressions; `None` for the rest.
pub fn goreleaser_var(path: &[&str]) -> Option<String> {
    let s = match path {
        ["Runtime", field] => return Some(format!("runtime.{}", field.to_lowercase())),
        ["Env", name] => {
            return Some(if is_identifier(name) {
                format!("env.{name}")
            } else {
                format!("env[{}]", string_literal(name))
            });
        }
        [one] => match *one {
            "ProjectName" => "project_name",
            "Version" => "version",
            "Tag" => "tag",
            "PreviousTag" => "previous_tag",
            "Branch" => "branch",
            "Commit" | "FullCommit" => "commit",
            "ShortCommit" => "short_commit",
            "CommitDate" => "commit_date",
            "CommitTimestamp" => "commit_timestamp",
            "Date" => "date",
            "Timestamp" => "timestamp",
            "Major" => "major",
            "Minor" => "minor",
            "Patch" => "patch",
            "Prerelease" => "prerelease",
            "RawVersion" => "major ~ \".\" ~ minor ~ \".\" ~ patch",
            "IsSnapshot" => "is_snapshot",
            "IsNightly" => "is_nightly",
            "Summary" => "summary",
            "IsGitDirty" => "is_git_dirty",
            "IsGitClean" => "not is_git_dirty",
            "GitTreeState" => "\"dirty\" if is_git_dirty else \"clean\"",
            "ReleaseURL" => "release_url",
            "Env" => "env",
            "Os" => "os",
            "Arch" => "arch",
            "Arm" => "arm",
            "Amd64" => "amd64",
            "Mips" => "mips",
            "Target" => "target",
            "Binary" => "binary",
            "Ext" | "ArtifactExt" => "ext",
            "ArtifactName" => "artifact_name",
            "PackageName" => "package_name",
            "ConventionalFileName" => "conventional_file_name",
            _ => return None,
        },
        _ => return None,
    };
    Some(s.to_string())
}

/// What is known statically about a value's type: Go prints, compares and ranges by type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Int,
    Float,
    Bool,
    List,
    Map,
    Nil,
    Unknown,
}

/// The type of one of GoReleaser's fields.
fn field_kind(path: &[String]) -> Kind {
    match path {
        [one] => match one.as_str() {
            "Major" | "Minor" | "Patch" | "CommitTimestamp" | "Timestamp" => Kind::Int,
            "IsSnapshot" | "IsGitDirty" | "IsGitClean" | "IsNightly" | "IsDraft"
            | "IsSingleTarget" => Kind::Bool,
            "Env" | "Var" | "Runtime" => Kind::Map,
            _ => Kind::Str,
        },
        [first, _] if first == "Env" => Kind::Str,
        _ => Kind::Unknown,
    }
}

// Precedence levels of minijinja's expression grammar, loosest first.
const P_IF: u8 = 0;
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_NOT: u8 = 3;
const P_CMP: u8 = 4;
const P_CONCAT: u8 = 6;
const P_UNARY: u8 = 9;
/// Filters bind tighter than unary operators but cannot be subscripted without parentheses.
const P_FILTER: u8 = 10;
const P_POSTFIX: u8 = 11;

/// A minijinja expression with its precedence and what is known about it.
#[derive(Debug, Clone)]
struct Expr {
    text: String,
    prec: u8,
    kind: Kind,
    /// The string, when the Go operand is a string constant.
    lit: Option<String>,
    /// The GoReleaser field path, when the operand is one (`.Env`, `.Version`).
    path: Option<Vec<String>>,
}

impl Expr {
    fn new(text: impl Into<String>, prec: u8, kind: Kind) -> Self {
        Expr {
            text: text.into(),
            prec,
            kind,
            lit: None,
            path: None,
        }
    }

    fn string(s: &str) -> Self {
        Expr {
            lit: Some(s.to_string()),
            ..Expr::new(string_literal(s), P_POSTFIX, Kind::Str)
        }
    }

    /// The text, parenthesised unless it binds at least as tightly as `min`.
    fn at(&self, min: u8) -> String {
        if self.prec < min {
            format!("({})", self.text)
        } else {
            self.text.clone()
        }
    }

    fn filter(&self, name: &str, args: &[&Expr], kind: Kind) -> Expr {
        let text = if args.is_empty() {
            format!("{}|{name}", self.at(P_FILTER))
        } else {
            let a: Vec<String> = args.iter().map(|a| a.at(P_IF)).collect();
            format!("{}|{name}({})", self.at(P_FILTER), a.join(", "))
        };
        Expr::new(text, P_FILTER, kind)
    }
}

fn call(name: &str, args: &[Expr], kind: Kind) -> Expr {
    let a: Vec<String> = args.iter().map(|a| a.at(P_IF)).collect();
    Expr::new(format!("{name}({})", a.join(", ")), P_POSTFIX, kind)
}

fn binary(a: &Expr, op: &str, b: &Expr, prec: u8, kind: Kind) -> Expr {
    Expr::new(
        format!("{} {op} {}", a.at(prec + 1), b.at(prec + 1)),
        prec,
        kind,
    )
}

/// A boolean as Go prints it (`true`/`false`): minijinja prints `True`/`False`.
fn bool_text(e: Expr) -> Expr {
    if e.kind != Kind::Bool {
        return e;
    }
    let text = format!("\"true\" if {} else \"false\"", e.at(P_OR));
    Expr::new(text, P_IF, Kind::Str)
}

/// Concatenate with `~`; one piece that is not a string becomes one with `|string`.
fn concat(pieces: Vec<Expr>) -> Expr {
    let pieces: Vec<Expr> = pieces.into_iter().map(bool_text).collect();
    match pieces.len() {
        0 => Expr::string(""),
        1 => {
            let p = pieces.into_iter().next().expect("one piece");
            if p.kind == Kind::Str {
                p
            } else {
                p.filter("string", &[], Kind::Str)
            }
        }
        _ => {
            let t: Vec<String> = pieces.iter().map(|p| p.at(P_CONCAT + 1)).collect();
            Expr::new(t.join(" ~ "), P_CONCAT, Kind::Str)
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|f| f == '_' || f.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
}

/// A minijinja string literal for `s`.
fn string_literal(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote`, for `%q` of a constant.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's reference-time layout (`2006-01-02`) as a strftime format, for a UTC time with whole
/// seconds (what `date` is); `None` when some element has no strftime spelling.
pub fn go_layout_to_strftime(layout: &str) -> Option<String> {
    let b = layout.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let starts = |i: usize, s: &str| layout[i..].starts_with(s);
    while i < b.len() {
        let (std, len): (&str, usize) = match b[i] {
            b'J' if starts(i, "January") => ("%B", 7),
            b'J' if starts(i, "Jan") => ("%b", 3),
            b'M' if starts(i, "Monday") => ("%A", 6),
            b'M' if starts(i, "Mon") => ("%a", 3),
            b'M' if starts(i, "MST") => ("UTC", 3),
            b'0' if starts(i, "002") => ("%j", 3),
            b'0' if i + 1 < b.len() && (b'1'..=b'6').contains(&b[i + 1]) => (
                ["%m", "%d", "%I", "%M", "%S", "%y"][(b[i + 1] - b'1') as usize],
                2,
            ),
            b'1' if starts(i, "15") => ("%H", 2),
            b'1' => ("%-m", 1),
            b'2' if starts(i, "2006") => ("%Y", 4),
            b'2' => ("%-d", 1),
            b'_' if starts(i, "_2006") => ("_%Y", 5),
            b'_' if starts(i, "__2") => ("%_j", 3),
            b'_' if starts(i, "_2") => ("%e", 2),
            b'3' => ("%-I", 1),
            b'4' => ("%-M", 1),
            b'5' => ("%-S", 1),
            b'P' if starts(i, "PM") => ("%p", 2),
            b'p' if starts(i, "pm") => ("%P", 2),
            b'-' if starts(i, "-070000") => ("+000000", 7),
            b'-' if starts(i, "-07:00:00") => ("+00:00:00", 9),
            b'-' if starts(i, "-0700") => ("+0000", 5),
            b'-' if starts(i, "-07:00") => ("+00:00", 6),
            b'-' if starts(i, "-07") => ("+00", 3),
            b'Z' if starts(i, "Z070000") => ("Z", 7),
            b'Z' if starts(i, "Z07:00:00") => ("Z", 9),
            b'Z' if starts(i, "Z0700") => ("Z", 5),
            b'Z' if starts(i, "Z07:00") => ("Z", 6),
            b'Z' if starts(i, "Z07") => ("Z", 3),
            b'.' | b',' if i + 1 < b.len() && (b[i + 1] == b'0' || b[i + 1] == b'9') => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    ("", 0)
                } else if ch == b'0' {
                    // Whole seconds: the zero-padded fraction is all zeros.
                    out.push(b[i] as char);
                    out.push_str(&"0".repeat(j - i - 1));
                    i = j;
                    continue;
                } else {
                    // A trimmed fraction of zero prints nothing.
                    i = j;
                    continue;
                }
            }
            _ => ("", 0),
        };
        if len == 0 {
            let c = layout[i..].chars().next()?;
            if c == '%' {
                out.push_str("%%");
            } else {
                out.push(c);
            }
            i += c.len_utf8();
        } else {
            out.push_str(std);
            i += len;
        }
    }
    Some(out)
}

/// What `.` (or a variable) stands for.
#[derive(Debug, Clone)]
enum Binding {
    /// All of GoReleaser's data.
    Root,
    /// One of GoReleaser's fields: `.X` below it is looked up in the variable table.
    Path(Vec<String>),
    /// Any other value.
    Expr(Expr),
    /// A variable set with `{% set %}`, declared at `range_depth`.
    Var { name: String, range_depth: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagKind {
    Var,
    Block,
    Comment,
}

#[derive(Debug, Clone)]
enum Seg {
    Text(String),
    Tag {
        kind: TagKind,
        body: String,
        trim_left: bool,
        trim_right: bool,
    },
}

/// Names a Go variable must not take: minijinja's keywords and rel's variables and functions.
const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "elif",
    "endif",
    "for",
    "endfor",
    "set",
    "endset",
    "with",
    "endwith",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "loop",
    "self",
    "super",
    "block",
    "extends",
    "include",
    "import",
    "from",
    "macro",
    "call",
    "filter",
    "raw",
    "autoescape",
    "do",
    "continue",
    "break",
    "namespace",
    "range",
    "dict",
    "debug",
    "output",
    "env_or",
    "incpatch",
    "incminor",
    "incmajor",
    "package_name",
    "package_arch",
    "conventional_file_name",
    "artifact_name",
    "item",
];

struct Tr<'a> {
    src: &'a str,
    vars: &'a dyn Fn(&[&str]) -> Option<String>,
    problems: Vec<Problem>,
    segs: Vec<Seg>,
    scopes: Vec<Vec<(String, Binding)>>,
    dot: Binding,
    root: Binding,
    range_depth: usize,
    loop_names: Vec<String>,
    defines: HashMap<String, &'a [Node]>,
    inlining: Vec<String>,
}

/// Translate the Go template `src` to rel's minijinja; `vars` maps a GoReleaser field path
/// (`["Version"]`, `["Env", "X"]`) to a minijinja expression, `None` when rel has none.
pub fn translate(src: &str, vars: &dyn Fn(&[&str]) -> Option<String>) -> Translation {
    let tree = match parse(src) {
        Ok(t) => t,
        Err(e) => {
            return Translation {
                text: src.to_string(),
                problems: vec![Problem {
                    line: e.line,
                    column: e.column,
                    message: format!("the Go template does not parse: {}", e.message),
                }],
            };
        }
    };
    let mut tr = Tr {
        src,
        vars,
        problems: Vec::new(),
        segs: Vec::new(),
        scopes: vec![Vec::new()],
        dot: Binding::Root,
        root: Binding::Root,
        range_depth: 0,
        loop_names: Vec::new(),
        defines: HashMap::new(),
        inlining: Vec::new(),
    };
    collect_blocks(&tree, &mut tr.defines);
    for n in &tree {
        if let Node::Define { name, body, .. } = n {
            tr.defines.insert(name.clone(), body);
        }
    }
    tr.list(&tree);
    Translation {
        text: render(tr.segs),
        problems: tr.problems,
    }
}

fn collect_blocks<'a>(nodes: &'a [Node], out: &mut HashMap<String, &'a [Node]>) {
    for n in nodes {
        match n {
            Node::Block { name, body, .. } => {
                out.entry(name.clone()).or_insert(body);
                collect_blocks(body, out);
            }
            Node::Define { body, .. } => collect_blocks(body, out),
            Node::If {
                branches,
                otherwise,
                ..
            }
            | Node::With {
                branches,
                otherwise,
                ..
            } => {
                for b in branches {
                    collect_blocks(&b.body, out);
                }
                if let Some((_, body)) = otherwise {
                    collect_blocks(body, out);
                }
            }
            Node::Range {
                branch, otherwise, ..
            } => {
                collect_blocks(&branch.body, out);
                if let Some((_, body)) = otherwise {
                    collect_blocks(body, out);
                }
            }
            _ => {}
        }
    }
}

fn contains_range(nodes: &[Node]) -> bool {
    nodes.iter().any(|n| match n {
        Node::Range { .. } => true,
        Node::If {
            branches,
            otherwise,
            ..
        }
        | Node::With {
            branches,
            otherwise,
            ..
        } => {
            branches.iter().any(|b| contains_range(&b.body))
                || otherwise.as_ref().is_some_and(|(_, b)| contains_range(b))
        }
        Node::Block { body, .. } => contains_range(body),
        _ => false,
    })
}

impl<'a> Tr<'a> {
    fn problem(&mut self, pos: usize, message: impl Into<String>) {
        let (line, column) = line_col(self.src, pos);
        self.problems.push(Problem {
            line,
            column,
            message: message.into(),
        });
    }

    fn tag(&mut self, kind: TagKind, body: impl Into<String>, tag: Tag) {
        self.segs.push(Seg::Tag {
            kind,
            body: body.into(),
            trim_left: tag.trim_left,
            trim_right: tag.trim_right,
        });
    }

    /// A Go tag that has no minijinja counterpart still trims its neighbours.
    fn placeholder(&mut self, tag: Tag) {
        self.tag(TagKind::Comment, "", tag);
    }

    fn src_of(&self, pos: usize) -> &str {
        let rest = &self.src[pos..];
        let end = rest.find("}}").unwrap_or(rest.len());
        rest[..end].trim_end_matches([' ', '-']).trim()
    }

    // -- names ------------------------------------------------------------------------------

    fn visible(&self, go: &str) -> Option<&Binding> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == go)
            .map(|(_, b)| b)
    }

    fn name_in_use(&self, mj: &str) -> bool {
        RESERVED.contains(&mj)
            || crate::template::GLOBALS.contains(&mj)
            || crate::template::TARGET_VARS.contains(&mj)
            || self.loop_names.iter().any(|n| n == mj)
            || self.scopes.iter().flatten().any(|(_, b)| match b {
                Binding::Var { name, .. } => name == mj,
                _ => false,
            })
    }

    /// A minijinja name for Go's `$base` that nothing visible uses.
    fn fresh(&self, go: &str) -> String {
        let base = go.trim_start_matches('$');
        let base = if base.is_empty() {
            "v".to_string()
        } else if base.starts_with(|c: char| c.is_ascii_digit()) || !is_identifier(base) {
            let cleaned: String = base
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!("v_{cleaned}")
        } else {
            base.to_string()
        };
        if !self.name_in_use(&base) {
            return base;
        }
        (2..)
            .map(|i| format!("{base}_{i}"))
            .find(|n| !self.name_in_use(n))
            .expect("some name is free")
    }

    fn bind(&mut self, go: &str, b: Binding) {
        self.scopes
            .last_mut()
            .expect("a scope")
            .push((go.to_string(), b));
    }

    // -- statements -------------------------------------------------------------------------

    fn list(&mut self, nodes: &'a [Node]) {
        for n in nodes {
            self.node(n);
        }
    }

    fn scoped(&mut self, nodes: &'a [Node]) {
        self.scopes.push(Vec::new());
        self.list(nodes);
        self.scopes.pop();
    }

    fn node(&mut self, n: &'a Node) {
        match n {
            Node::Text { text, .. } => self.segs.push(Seg::Text(text.clone())),
            Node::Comment { tag, text } => {
                let t = text.trim();
                let body = if t.contains("#}") { "" } else { t };
                self.tag(TagKind::Comment, body, *tag);
            }
            Node::Action { tag, pipe } => self.action(*tag, pipe),
            Node::If {
                branches,
                otherwise,
                end,
            } => self.if_with(branches, otherwise, *end, false),
            Node::With {
                branches,
                otherwise,
                end,
            } => self.if_with(branches, otherwise, *end, true),
            Node::Range {
                branch,
                otherwise,
                end,
            } => self.range(branch, otherwise, *end),
            Node::Break(tag) => self.tag(TagKind::Block, "break", *tag),
            Node::Continue(tag) => self.tag(TagKind::Block, "continue", *tag),
            Node::Template { tag, name, pipe } => {
                let dot = match pipe {
                    Some(p) => self.binding_of(p),
                    None => Binding::Expr(Expr::new("none", P_POSTFIX, Kind::Nil)),
                };
                self.inline(*tag, None, name, dot);
            }
            Node::Block {
                tag,
                name,
                pipe,
                end,
                ..
            } => {
                let dot = self.binding_of(pipe);
                self.inline(*tag, Some(*end), name, dot);
            }
            Node::Define { tag, end, .. } => {
                self.placeholder(*tag);
                self.placeholder(*end);
            }
        }
    }

    /// `{{ template }}` and `{{ block }}`: the named body, in place, with `.` rebound.
    fn inline(&mut self, tag: Tag, end: Option<Tag>, name: &str, dot: Binding) {
        let Some(body) = self.defines.get(name).copied() else {
            self.problem(
                tag.pos,
                format!("template {name:?} is not defined in this template"),
            );
            self.placeholder(tag);
            return;
        };
        if self.inlining.iter().any(|n| n == name) {
            self.problem(
                tag.pos,
                format!("template {name:?} calls itself, which minijinja cannot inline"),
            );
            self.placeholder(tag);
            return;
        }
        // The tag's trims apply to the text around it, not to the body's own edges.
        self.tag(
            TagKind::Comment,
            "",
            Tag {
                trim_right: false,
                ..tag
            },
        );
        let saved = (
            std::mem::replace(&mut self.dot, dot.clone()),
            std::mem::replace(&mut self.root, dot),
            std::mem::replace(&mut self.scopes, vec![Vec::new()]),
            std::mem::take(&mut self.loop_names),
        );
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        self.inlining.push(name.to_string());
        self.list(body);
        self.inlining.pop();
        self.range_depth = saved_depth;
        (self.dot, self.root, self.scopes, self.loop_names) = saved;
        let close = end.unwrap_or(tag);
        self.tag(
            TagKind::Comment,
            "",
            Tag {
                trim_left: false,
                ..close
            },
        );
    }

    /// What `.` becomes inside `with PIPE` or `template "x" PIPE`.
    fn binding_of(&mut self, pipe: &Pipe) -> Binding {
        if let [cmd] = pipe.cmds.as_slice()
            && let [arg] = cmd.args.as_slice()
        {
            match arg {
                Arg::Dot(_) => return self.dot.clone(),
                Arg::Variable { name, path, .. } if name == "$" && path.is_empty() => {
                    return self.root.clone();
                }
                Arg::Field { path, .. } => {
                    if let Binding::Root = self.dot {
                        return Binding::Path(path.clone());
                    }
                    if let Binding::Path(p) = &self.dot {
                        let mut full = p.clone();
                        full.extend(path.iter().cloned());
                        return Binding::Path(full);
                    }
                }
                _ => {}
            }
        }
        Binding::Expr(self.pipe_expr(pipe))
    }

    fn action(&mut self, tag: Tag, pipe: &Pipe) {
        if pipe.decl.is_empty() {
            let e = self.pipe_expr(pipe);
            let e = self.printable(e, pipe.pos);
            self.tag(TagKind::Var, e.text, tag);
            return;
        }
        let e = self.pipe_expr(pipe);
        let go = &pipe.decl[0].name;
        if pipe.decl.len() > 1 {
            self.problem(pipe.pos, "only `range` declares two variables");
        }
        let name = if pipe.is_assign {
            match self.visible(go).cloned() {
                Some(Binding::Var { name, range_depth }) => {
                    if range_depth < self.range_depth {
                        self.problem(
                            pipe.decl[0].pos,
                            format!(
                                "`{go} = …` inside `range` changes a variable declared outside it; \
                                 in minijinja the change does not outlive the loop iteration"
                            ),
                        );
                    }
                    name
                }
                _ => {
                    self.problem(
                        pipe.decl[0].pos,
                        format!("`{go}` cannot be assigned here: it is not a plain variable"),
                    );
                    self.fresh(go)
                }
            }
        } else {
            let in_this_scope = self
                .scopes
                .last()
                .and_then(|s| s.iter().rev().find(|(n, _)| n == go))
                .and_then(|(_, b)| match b {
                    Binding::Var { name, .. } => Some(name.clone()),
                    _ => None,
                });
            let name = in_this_scope.unwrap_or_else(|| self.fresh(go));
            let b = Binding::Var {
                name: name.clone(),
                range_depth: self.range_depth,
            };
            self.bind(go, b);
            name
        };
        self.tag(TagKind::Block, format!("set {name} = {}", e.at(P_IF)), tag);
    }

    /// Bind the variables a control pipeline declares to its value.
    fn bind_decl(&mut self, pipe: &Pipe, b: &Binding) {
        for v in &pipe.decl {
            if pipe.is_assign {
                self.problem(
                    v.pos,
                    format!(
                        "assigning `{}` in a condition has no minijinja equivalent",
                        v.name
                    ),
                );
            } else {
                self.bind(&v.name, b.clone());
            }
        }
    }

    fn if_with(
        &mut self,
        branches: &'a [Branch],
        otherwise: &'a Option<(Tag, Vec<Node>)>,
        end: Tag,
        with: bool,
    ) {
        self.scopes.push(Vec::new());
        let saved_dot = self.dot.clone();
        for (i, b) in branches.iter().enumerate() {
            let bound = self.binding_of(&b.pipe);
            let cond = self.binding_expr(&bound, b.pipe.pos);
            let word = if i == 0 { "if" } else { "elif" };
            self.tag(TagKind::Block, format!("{word} {}", cond.at(P_IF)), b.tag);
            self.bind_decl(&b.pipe, &bound);
            if with {
                self.dot = bound;
            }
            self.scoped(&b.body);
            self.dot = saved_dot.clone();
        }
        if let Some((tag, body)) = otherwise {
            self.tag(TagKind::Block, "else", *tag);
            self.scoped(body);
        }
        self.tag(TagKind::Block, "endif", end);
        self.scopes.pop();
    }

    fn range(&mut self, b: &'a Branch, otherwise: &'a Option<(Tag, Vec<Node>)>, end: Tag) {
        let pipe = &b.pipe;
        let value = self.pipe_expr(pipe);
        let (index_go, elem_go) = match pipe.decl.as_slice() {
            [] => (None, None),
            [e] => (None, Some(e.name.clone())),
            [i, e, ..] => (Some(i.name.clone()), Some(e.name.clone())),
        };
        if pipe.is_assign {
            self.problem(
                pipe.pos,
                "`range` assigning to existing variables is not translated",
            );
        }
        self.scopes.push(Vec::new());
        let elem = match &elem_go {
            Some(go) => self.fresh(go),
            None => self.fresh("item"),
        };
        self.loop_names.push(elem.clone());
        let index = index_go.as_ref().map(|go| self.fresh(go));
        if let Some(i) = &index {
            self.loop_names.push(i.clone());
        }
        let (header, index_expr) = match value.kind {
            Kind::Map => {
                let key = index.clone().unwrap_or_else(|| "_key".to_string());
                (
                    format!(
                        "for {key}, {elem} in {}|dictsort(case_sensitive=true)",
                        value.at(P_POSTFIX)
                    ),
                    index.clone().map(|k| Expr::new(k, P_POSTFIX, Kind::Str)),
                )
            }
            Kind::Int => (
                format!("for {elem} in range({})", value.at(P_IF)),
                index
                    .as_ref()
                    .map(|_| Expr::new("loop.index0", P_POSTFIX, Kind::Int)),
            ),
            Kind::Str | Kind::Bool | Kind::Float | Kind::Nil => {
                self.problem(pipe.pos, "Go cannot `range` over this value");
                (format!("for {elem} in {}", value.at(P_POSTFIX)), None)
            }
            _ => (
                format!("for {elem} in {}", value.at(P_POSTFIX)),
                index
                    .as_ref()
                    .map(|_| Expr::new("loop.index0", P_POSTFIX, Kind::Int)),
            ),
        };
        // `loop` is the innermost loop's: an index used inside a nested range needs its own name.
        let needs_set = value.kind != Kind::Map && index.is_some() && contains_range(&b.body);
        let elem_kind = match value.kind {
            Kind::Int => Kind::Int,
            Kind::List => Kind::Str,
            _ => Kind::Unknown,
        };
        let elem_b = Binding::Expr(Expr::new(elem.clone(), P_POSTFIX, elem_kind));
        if needs_set {
            self.tag(
                TagKind::Block,
                header,
                Tag {
                    trim_right: false,
                    ..b.tag
                },
            );
            let i = index.clone().expect("an index");
            self.tag(
                TagKind::Block,
                format!("set {i} = loop.index0"),
                Tag {
                    trim_left: false,
                    ..b.tag
                },
            );
        } else {
            self.tag(TagKind::Block, header, b.tag);
        }
        if let (Some(go), Some(i)) = (&index_go, &index) {
            let ib = if needs_set {
                Binding::Expr(Expr::new(i.clone(), P_POSTFIX, Kind::Int))
            } else {
                Binding::Expr(
                    index_expr.unwrap_or_else(|| Expr::new(i.clone(), P_POSTFIX, Kind::Unknown)),
                )
            };
            self.bind(go, ib);
        }
        if let Some(go) = &elem_go {
            self.bind(go, elem_b.clone());
        }
        let saved_dot = std::mem::replace(&mut self.dot, elem_b);
        self.range_depth += 1;
        self.scoped(&b.body);
        self.range_depth -= 1;
        self.dot = saved_dot;
        self.scopes.pop();
        self.loop_names.pop();
        if index.is_some() {
            self.loop_names.pop();
        }
        if let Some((tag, body)) = otherwise {
            self.tag(TagKind::Block, "else", *tag);
            self.scoped(body);
        }
        self.tag(TagKind::Block, "endfor", end);
    }

    /// How Go prints a value, where minijinja's own printing differs.
    fn printable(&mut self, e: Expr, pos: usize) -> Expr {
        match e.kind {
            Kind::List => {
                let joined = e.filter("join", &[&Expr::string(" ")], Kind::Str);
                concat(vec![Expr::string("["), joined, Expr::string("]")])
            }
            Kind::Map => {
                self.problem(
                    pos,
                    "Go prints a map as `map[k:v]`; minijinja prints it differently",
                );
                e
            }
            Kind::Nil => {
                self.problem(pos, "Go prints nil as `<nil>`; minijinja prints `none`");
                e
            }
            Kind::Bool => bool_text(e),
            _ => e,
        }
    }

    // -- expressions ------------------------------------------------------------------------

    fn pipe_expr(&mut self, pipe: &Pipe) -> Expr {
        let mut acc: Option<Expr> = None;
        for c in &pipe.cmds {
            acc = Some(self.command(c, acc));
        }
        acc.expect("a pipeline has a command")
    }

    fn command(&mut self, c: &Command, piped: Option<Expr>) -> Expr {
        if let Arg::Ident { pos, name } = &c.args[0] {
            let mut args: Vec<Expr> = c.args[1..].iter().map(|a| self.arg(a)).collect();
            args.extend(piped);
            return self.func(*pos, name, args);
        }
        if c.args.len() > 1 || piped.is_some() {
            let what = self.src_of(c.args[0].pos()).to_string();
            self.problem(
                c.pos,
                format!("`{what}` is not a function: it cannot take arguments"),
            );
        }
        self.arg(&c.args[0])
    }

    fn arg(&mut self, a: &Arg) -> Expr {
        match a {
            Arg::Field { pos, path } => {
                let dot = self.dot.clone();
                self.field(&dot, path, *pos)
            }
            Arg::Variable { pos, name, path } => {
                let b = if name == "$" {
                    self.root.clone()
                } else {
                    match self.visible(name) {
                        Some(b) => b.clone(),
                        None => {
                            self.problem(*pos, format!("undefined variable {name}"));
                            Binding::Expr(Expr::new(self.fresh(name), P_POSTFIX, Kind::Unknown))
                        }
                    }
                };
                if path.is_empty() {
                    self.binding_expr(&b, *pos)
                } else {
                    self.field(&b, path, *pos)
                }
            }
            Arg::Dot(pos) => {
                let dot = self.dot.clone();
                self.binding_expr(&dot, *pos)
            }
            Arg::Nil(_) => Expr::new("none", P_POSTFIX, Kind::Nil),
            Arg::Bool(_, b) => Expr::new(if *b { "true" } else { "false" }, P_POSTFIX, Kind::Bool),
            Arg::Number { pos, text, value } => match value {
                Number::Int(i) => Expr::new(
                    i.to_string(),
                    if *i < 0 { P_UNARY } else { P_POSTFIX },
                    Kind::Int,
                ),
                Number::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                    // Go prints an integral float constant without a fraction.
                    let i = *f as i64;
                    Expr::new(
                        i.to_string(),
                        if i < 0 { P_UNARY } else { P_POSTFIX },
                        Kind::Int,
                    )
                }
                Number::Float(f) => Expr::new(
                    format!("{f:?}"),
                    if *f < 0.0 { P_UNARY } else { P_POSTFIX },
                    Kind::Float,
                ),
                Number::Complex => {
                    self.problem(*pos, format!("complex constant `{text}` has no equivalent"));
                    Expr::new("none", P_POSTFIX, Kind::Nil)
                }
            },
            Arg::String { value, .. } => Expr::string(value),
            Arg::Ident { pos, name } => self.func(*pos, name, Vec::new()),
            Arg::Chain { pos, base, path } => {
                let e = self.arg(base);
                self.field(&Binding::Expr(e), path, *pos)
            }
            Arg::Pipe(p) => {
                if !p.decl.is_empty() {
                    self.problem(
                        p.pos,
                        "a variable declared inside parentheses is not translated",
                    );
                }
                self.pipe_expr(p)
            }
        }
    }

    fn binding_expr(&mut self, b: &Binding, pos: usize) -> Expr {
        match b {
            Binding::Root => {
                self.problem(
                    pos,
                    "`.` here is all of GoReleaser's data, which has no minijinja equivalent",
                );
                Expr::new("none", P_POSTFIX, Kind::Unknown)
            }
            Binding::Path(p) => self.resolve(p, pos),
            Binding::Expr(e) => e.clone(),
            Binding::Var { name, .. } => Expr::new(name.clone(), P_POSTFIX, Kind::Unknown),
        }
    }

    fn field(&mut self, b: &Binding, path: &[String], pos: usize) -> Expr {
        match b {
            Binding::Root => self.resolve(path, pos),
            Binding::Path(p) => {
                let mut full = p.clone();
                full.extend(path.iter().cloned());
                self.resolve(&full, pos)
            }
            _ => {
                let base = self.binding_expr(b, pos);
                let mut text = base.at(P_POSTFIX);
                for f in path {
                    text.push('.');
                    text.push_str(f);
                }
                Expr::new(text, P_POSTFIX, Kind::Unknown)
            }
        }
    }

    /// A GoReleaser field path through the variable table.
    fn resolve(&mut self, path: &[String], pos: usize) -> Expr {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        for n in (1..=refs.len()).rev() {
            if let Some(s) = (self.vars)(&refs[..n]) {
                let base = Expr {
                    path: Some(path[..n].to_vec()),
                    ..Expr::new(s.clone(), expr_prec(&s), field_kind(&path[..n]))
                };
                if n == refs.len() {
                    return base;
                }
                let mut text = base.at(P_POSTFIX);
                for f in &refs[n..] {
                    text.push('.');
                    text.push_str(f);
                }
                return Expr::new(text, P_POSTFIX, Kind::Unknown);
            }
        }
        self.problem(
            pos,
            format!("`.{}` has no equivalent in rel", path.join(".")),
        );
        let mut text = snake_case(&path[0]);
        for f in &path[1..] {
            text.push('.');
            text.push_str(f);
        }
        Expr::new(text, P_POSTFIX, Kind::Unknown)
    }

    fn arity(&mut self, pos: usize, name: &str, args: &[Expr], want: usize) -> bool {
        if args.len() == want {
            return true;
        }
        self.problem(
            pos,
            format!(
                "`{name}` takes {want} argument{}, given {}",
                if want == 1 { "" } else { "s" },
                args.len()
            ),
        );
        false
    }

    fn func(&mut self, pos: usize, name: &str, args: Vec<Expr>) -> Expr {
        let fallback = |args: &[Expr]| call(name, args, Kind::Unknown);
        match name {
            "and" | "or" => {
                if args.is_empty() {
                    self.problem(pos, format!("`{name}` needs an argument"));
                    return Expr::new("none", P_POSTFIX, Kind::Nil);
                }
                if args.len() == 1 {
                    return args.into_iter().next().expect("one");
                }
                let prec = if name == "and" { P_AND } else { P_OR };
                let kind = if args.iter().all(|a| a.kind == args[0].kind) {
                    args[0].kind
                } else {
                    Kind::Unknown
                };
                let parts: Vec<String> = args.iter().map(|a| a.at(prec + 1)).collect();
                Expr::new(parts.join(&format!(" {name} ")), prec, kind)
            }
            "not" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                Expr::new(format!("not {}", args[0].at(P_NOT)), P_NOT, Kind::Bool)
            }
            "eq" => {
                if args.len() < 2 {
                    self.problem(pos, "`eq` needs at least two arguments");
                    return fallback(&args);
                }
                if args.len() == 2 {
                    return binary(&args[0], "==", &args[1], P_CMP, Kind::Bool);
                }
                let rest: Vec<String> = args[1..].iter().map(|a| a.at(P_IF)).collect();
                Expr::new(
                    format!("{} in [{}]", args[0].at(P_CMP + 1), rest.join(", ")),
                    P_CMP,
                    Kind::Bool,
                )
            }
            "ne" | "lt" | "le" | "gt" | "ge" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                let op = match name {
                    "ne" => "!=",
                    "lt" => "<",
                    "le" => "<=",
                    "gt" => ">",
                    _ => ">=",
                };
                binary(&args[0], op, &args[1], P_CMP, Kind::Bool)
            }
            "len" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                args[0].filter("length", &[], Kind::Int)
            }
            "index" | "indexOrDefault" => self.index(pos, name, args),
            "slice" => {
                if args.is_empty() || args.len() > 3 {
                    self.problem(pos, "`slice` with more than two indices has no equivalent");
                    return fallback(&args);
                }
                let from = args.get(1).map(|a| a.at(P_IF)).unwrap_or_default();
                let to = args.get(2).map(|a| a.at(P_IF)).unwrap_or_default();
                let kind = if args[0].kind == Kind::Str {
                    Kind::Str
                } else {
                    Kind::Unknown
                };
                Expr::new(
                    format!("{}[{from}:{to}]", args[0].at(P_POSTFIX)),
                    P_POSTFIX,
                    kind,
                )
            }
            "print" => {
                // Sprint puts a space between operands when neither is a string.
                let mut pieces = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        let prev = args[i - 1].kind;
                        let known = |k: Kind| !matches!(k, Kind::Str | Kind::Unknown);
                        if known(prev) && known(a.kind) {
                            pieces.push(Expr::string(" "));
                        }
                    }
                    pieces.push(a.clone());
                }
                concat(pieces)
            }
            "println" => {
                let mut pieces = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        pieces.push(Expr::string(" "));
                    }
                    pieces.push(a.clone());
                }
                pieces.push(Expr::string("\n"));
                concat(merge_literals(pieces))
            }
            "printf" => self.printf(pos, args),
            "html" => {
                self.problem(
                    pos,
                    "`html` is translated to minijinja's `escape`, which also escapes `/` and spells \
                     quotes differently",
                );
                concat(args).filter("escape", &[], Kind::Str)
            }
            "urlquery" => {
                self.problem(
                    pos,
                    "`urlquery` is translated to `urlencode`, which writes a space as `%20`, not `+`",
                );
                concat(args).filter("urlencode", &[], Kind::Str)
            }
            "urlPathEscape" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                self.problem(
                    pos,
                    "`urlPathEscape` is translated to `urlencode`, which keeps `/` where Go writes `%2F`",
                );
                args[0].filter("urlencode", &[], Kind::Str)
            }
            "replace" => {
                if !self.arity(pos, name, &args, 3) {
                    return fallback(&args);
                }
                args[0].filter("replace", &[&args[1], &args[2]], Kind::Str)
            }
            "split" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                if args[1].lit.as_deref() == Some("") {
                    return args[0].filter("list", &[], Kind::List);
                }
                args[0].filter("split", &[&args[1]], Kind::List)
            }
            "contains" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                binary(&args[1], "in", &args[0], P_CMP, Kind::Bool)
            }
            "in" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                binary(&args[1], "in", &args[0], P_CMP, Kind::Bool)
            }
            "list" => {
                let a: Vec<String> = args.iter().map(|a| a.at(P_IF)).collect();
                Expr::new(format!("[{}]", a.join(", ")), P_POSTFIX, Kind::List)
            }
            "map" => {
                if !args.len().is_multiple_of(2) {
                    self.problem(pos, "`map` needs an even number of arguments");
                }
                let pairs: Vec<String> = args
                    .chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| format!("{}: {}", c[0].at(P_IF), c[1].at(P_IF)))
                    .collect();
                Expr::new(format!("{{{}}}", pairs.join(", ")), P_POSTFIX, Kind::Map)
            }
            "tolower" | "toupper" | "trim" | "title" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                let f = match name {
                    "tolower" => "lower",
                    "toupper" => "upper",
                    n => n,
                };
                args[0].filter(f, &[], Kind::Str)
            }
            "trimprefix" | "trimsuffix" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                args[0].filter(name, &[&args[1]], Kind::Str)
            }
            "incpatch" | "incminor" | "incmajor" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                call(name, &args, Kind::Str)
            }
            "envOrDefault" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                call("env_or", &args, Kind::Str)
            }
            "isEnvSet" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                let e = call("env_or", &[args[0].clone(), Expr::string("")], Kind::Str);
                binary(&e, "!=", &Expr::string(""), P_CMP, Kind::Bool)
            }
            "time" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                let date = (self.vars)(&["Date"]).unwrap_or_else(|| "date".to_string());
                let date = Expr::new(date.clone(), expr_prec(&date), Kind::Str);
                match args[0].lit.as_deref().and_then(go_layout_to_strftime) {
                    Some(f) => date.filter("strftime", &[&Expr::string(&f)], Kind::Str),
                    None => {
                        self.problem(pos, "`time` with a layout that is not a constant");
                        date
                    }
                }
            }
            "englishJoin" => {
                if !self.arity(pos, name, &args, 1) {
                    return fallback(&args);
                }
                args[0].filter("english_join", &[], Kind::Str)
            }
            "listExclude" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                args[1].filter("reject_matching", &[&args[0]], Kind::List)
            }
            "filter" | "reverseFilter" => {
                if !self.arity(pos, name, &args, 2) {
                    return fallback(&args);
                }
                let f = if name == "filter" {
                    "lines_matching"
                } else {
                    "lines_not_matching"
                };
                args[0].filter(f, &[&args[1]], Kind::Str)
            }
            "call" | "js" | "dir" | "base" | "abs" | "mdv2escape" | "readFile" | "mustReadFile"
            | "reReplaceAll" | "blake2b" | "blake2s" | "crc32" | "md5" | "sha1" | "sha224"
            | "sha256" | "sha384" | "sha512" | "sha3_224" | "sha3_256" | "sha3_384"
            | "sha3_512" => {
                self.problem(
                    pos,
                    format!("`{name}` has no equivalent in rel's templates"),
                );
                fallback(&args)
            }
            _ => {
                self.problem(pos, format!("unknown function `{name}`"));
                fallback(&args)
            }
        }
    }

    /// `index x k…` (a missing map key gives the zero value) and `indexOrDefault m k d`.
    fn index(&mut self, pos: usize, name: &str, args: Vec<Expr>) -> Expr {
        let (keys, default) = if name == "indexOrDefault" {
            if !self.arity(pos, name, &args, 3) {
                return call(name, &args, Kind::Unknown);
            }
            (&args[1..2], Some(args[2].clone()))
        } else {
            if args.is_empty() {
                self.problem(pos, "`index` needs an argument");
                return Expr::new("none", P_POSTFIX, Kind::Nil);
            }
            (&args[1..], None)
        };
        let base = &args[0];
        if keys.is_empty() {
            return base.clone();
        }
        // A GoReleaser field indexed by constant keys goes through the variable table.
        let mut e = None;
        if let Some(p) = &base.path
            && keys.iter().all(|k| k.lit.is_some())
        {
            let mut full = p.clone();
            full.extend(keys.iter().map(|k| k.lit.clone().expect("a constant")));
            let refs: Vec<&str> = full.iter().map(String::as_str).collect();
            if let Some(s) = (self.vars)(&refs) {
                e = Some(Expr {
                    path: Some(full.clone()),
                    ..Expr::new(s.clone(), expr_prec(&s), field_kind(&full))
                });
            }
        }
        let e = e.unwrap_or_else(|| {
            let mut text = base.at(P_POSTFIX);
            for k in keys {
                text.push_str(&format!("[{}]", k.at(P_IF)));
            }
            Expr::new(text, P_POSTFIX, Kind::Unknown)
        });
        match default {
            Some(d) => e.filter("default", &[&d], Kind::Unknown),
            // A missing key of a map is its zero value, not an error.
            None if base.kind == Kind::Map => e.filter("default", &[&Expr::string("")], Kind::Str),
            None => e,
        }
    }

    fn printf(&mut self, pos: usize, args: Vec<Expr>) -> Expr {
        let Some(fmt) = args.first().and_then(|a| a.lit.clone()) else {
            self.problem(pos, "`printf` with a format that is not a constant string");
            let a: Vec<&Expr> = args.iter().skip(1).collect();
            return match args.first() {
                Some(f) => f.filter("format", &a, Kind::Str),
                None => Expr::string(""),
            };
        };
        let mut pieces: Vec<Expr> = Vec::new();
        let mut lit = String::new();
        let mut next = 1;
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                lit.push('%');
                continue;
            }
            let mut flags = String::new();
            while let Some(&f) = chars.peek() {
                if "+-# 0".contains(f) {
                    flags.push(f);
                    chars.next();
                } else {
                    break;
                }
            }
            let mut width = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '*') {
                width.push(d);
                chars.next();
            }
            let mut precision = None;
            if chars.peek() == Some(&'.') {
                chars.next();
                let mut p = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '*') {
                    p.push(d);
                    chars.next();
                }
                precision = Some(p);
            }
            let Some(verb) = chars.next() else {
                self.problem(pos, "`printf` format ends in the middle of a verb");
                break;
            };
            let spec = format!(
                "%{flags}{width}{}",
                precision
                    .as_ref()
                    .map(|p| format!(".{p}"))
                    .unwrap_or_default()
            );
            let Some(arg) = args.get(next).cloned() else {
                self.problem(pos, format!("`printf` has no argument for `{spec}{verb}`"));
                next += 1;
                continue;
            };
            next += 1;
            let simple = flags.is_empty() && width.is_empty() && precision.is_none();
            let star = width.contains('*') || precision.as_ref().is_some_and(|p| p.contains('*'));
            let piece = match verb {
                's' | 'v' | 'd' | 't' if simple => {
                    if let Some(s) = &arg.lit {
                        lit.push_str(s);
                        continue;
                    }
                    arg
                }
                'q' if simple => {
                    if let Some(s) = &arg.lit {
                        lit.push_str(&go_quote(s));
                        continue;
                    }
                    self.problem(
                        pos,
                        "`%q` is translated to `tojson`, which escapes `<`, `>`, `&` and `'` and \
                         non-ASCII text differently from Go",
                    );
                    arg.filter("tojson", &[], Kind::Str)
                }
                'd' | 's' | 'v' | 't' | 'x' | 'X' | 'o' | 'f' | 'F' | 'e' | 'E' | 'g' | 'G'
                | 'c'
                    if !star && (!flags.contains('#') || matches!(verb, 'x' | 'X')) =>
                {
                    if matches!(verb, 'x' | 'X') && arg.kind == Kind::Str {
                        self.problem(
                            pos,
                            format!("`%{verb}` of a string (hexadecimal bytes) has no equivalent"),
                        );
                    }
                    let v = match verb {
                        'v' | 't' => 's',
                        v => v,
                    };
                    Expr::string(&format!("{spec}{v}")).filter("format", &[&arg], Kind::Str)
                }
                _ => {
                    self.problem(
                        pos,
                        format!("`printf` verb `{spec}{verb}` has no equivalent"),
                    );
                    arg
                }
            };
            if !lit.is_empty() {
                pieces.push(Expr::string(&std::mem::take(&mut lit)));
            }
            pieces.push(piece);
        }
        if next < args.len() {
            self.problem(pos, "`printf` has more arguments than its format uses");
        }
        if !lit.is_empty() {
            pieces.push(Expr::string(&lit));
        }
        concat(pieces)
    }
}

/// Join adjacent string constants into one.
fn merge_literals(pieces: Vec<Expr>) -> Vec<Expr> {
    let mut out: Vec<Expr> = Vec::new();
    for p in pieces {
        if let (Some(last), Some(s)) = (out.last_mut(), &p.lit)
            && let Some(l) = &last.lit
        {
            *last = Expr::string(&format!("{l}{s}"));
            continue;
        }
        out.push(p);
    }
    out
}

/// The precedence of an expression from the variable table: a name, attribute or item chain,
/// or a literal binds tightest; anything else gets parentheses when nested.
fn expr_prec(s: &str) -> u8 {
    let simple = !s.is_empty()
        && s.split('.').all(|part| {
            let name_end = part.find('[').unwrap_or(part.len());
            let (name, rest) = part.split_at(name_end);
            is_identifier(name)
                && (rest.is_empty()
                    || (rest.starts_with("[\"")
                        && rest.ends_with("\"]")
                        && !rest[2..rest.len() - 2].contains('"')))
        });
    let literal = (s.starts_with('"') && s.ends_with('"') && s.len() >= 2 && {
        let inner = &s[1..s.len() - 1];
        !inner.replace("\\\\", "").replace("\\\"", "").contains('"')
    }) || s.parse::<f64>().is_ok_and(|_| !s.starts_with('-'));
    if simple || literal { P_POSTFIX } else { P_IF }
}

fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Go trims these around a trim marker; minijinja trims any Unicode whitespace.
const GO_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// Write the segments as minijinja source.
fn render(segs: Vec<Seg>) -> String {
    // Comments Go drops that trim nothing vanish; adjacent texts join.
    let mut merged: Vec<Seg> = Vec::new();
    for s in segs {
        match s {
            Seg::Tag {
                kind: TagKind::Comment,
                ref body,
                trim_left: false,
                trim_right: false,
            } if body.is_empty() => {}
            Seg::Text(t) => match merged.last_mut() {
                Some(Seg::Text(prev)) => prev.push_str(&t),
                _ => merged.push(Seg::Text(t)),
            },
            s => merged.push(s),
        }
    }
    // Where minijinja's trim would eat more than Go's (Unicode spaces), trim here instead.
    for i in 0..merged.len() {
        let (l, r) = match &merged[i] {
            Seg::Tag {
                trim_left,
                trim_right,
                ..
            } => (*trim_left, *trim_right),
            Seg::Text(_) => continue,
        };
        let mut new_l = l;
        let mut new_r = r;
        if l && i > 0
            && let Seg::Text(t) = &mut merged[i - 1]
        {
            let go = t.trim_end_matches(GO_SPACE);
            if go.trim_end() != go {
                *t = go.to_string();
                new_l = false;
            }
        }
        if r && let Some(Seg::Text(t)) = merged.get_mut(i + 1) {
            let go = t.trim_start_matches(GO_SPACE);
            if go.trim_start() != go {
                *t = go.to_string();
                new_r = false;
            }
        }
        if let Seg::Tag {
            trim_left,
            trim_right,
            ..
        } = &mut merged[i]
        {
            *trim_left = new_l;
            *trim_right = new_r;
        }
    }
    let mut out = String::new();
    for i in 0..merged.len() {
        match &merged[i] {
            Seg::Text(t) => {
                let next_is_tag = matches!(merged.get(i + 1), Some(Seg::Tag { .. }));
                escape_text(&mut out, t, next_is_tag);
            }
            Seg::Tag {
                kind,
                body,
                trim_left,
                trim_right,
            } => {
                let (open, close) = match kind {
                    TagKind::Var => ("{{", "}}"),
                    TagKind::Block => ("{%", "%}"),
                    TagKind::Comment => ("{#", "#}"),
                };
                // `trim_blocks`/`lstrip_blocks` act on block and comment tags: `+` keeps what
                // Go keeps.
                let blockish = *kind != TagKind::Var;
                let left = if *trim_left {
                    "-"
                } else if blockish && lstrip_would_act(&out) {
                    "+"
                } else {
                    ""
                };
                let right = if *trim_right {
                    "-"
                } else if blockish
                    && matches!(merged.get(i + 1), Some(Seg::Text(t)) if t.starts_with(['\n', '\r']))
                {
                    "+"
                } else {
                    ""
                };
                out.push_str(open);
                out.push_str(left);
                out.push(' ');
                if !body.is_empty() {
                    out.push_str(body);
                    out.push(' ');
                }
                out.push_str(right);
                out.push_str(close);
            }
        }
    }
    out
}

/// Whether `lstrip_blocks` would strip spaces before a block tag appended to `out`.
fn lstrip_would_act(out: &str) -> bool {
    let mut n = 0;
    for c in out.chars().rev() {
        if c == '\n' || c == '\r' {
            return n > 0;
        }
        if !c.is_whitespace() {
            return false;
        }
        n += 1;
    }
    n > 0
}

/// Literal text, with what minijinja would read as syntax written as string expressions.
fn escape_text(out: &mut String, t: &str, next_is_tag: bool) {
    let b = t.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        if b[i] == b'{' {
            let pair = b.get(i + 1).filter(|c| matches!(c, b'{' | b'%' | b'#'));
            let last_before_tag = i + 1 == b.len() && next_is_tag;
            if pair.is_some() || last_before_tag {
                out.push_str(&t[start..i]);
                let len = if pair.is_some() { 2 } else { 1 };
                out.push_str(&format!("{{{{ {} }}}}", string_literal(&t[i..i + len])));
                i += len;
                start = i;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&t[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Templates, Vars, base_environment};
    use minijinja::Value;
    use std::collections::BTreeMap;

    fn tag(pos: usize) -> Tag {
        Tag {
            pos,
            trim_left: false,
            trim_right: false,
        }
    }

    fn field(pos: usize, path: &[&str]) -> Arg {
        Arg::Field {
            pos,
            path: path.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn one_pipe(src: &str) -> Pipe {
        match parse(src).unwrap().remove(0) {
            Node::Action { pipe, .. } => pipe,
            n => panic!("not an action: {n:?}"),
        }
    }

    fn err(src: &str) -> (usize, usize, String) {
        let e = parse(src).unwrap_err();
        (e.line, e.column, e.message)
    }

    // -- parser ----------------------------------------------------------------------------

    #[test]
    fn parses_text_and_field_actions() {
        let nodes = parse("a {{ .Env.HOME }} b").unwrap();
        assert_eq!(
            nodes,
            vec![
                Node::Text {
                    pos: 0,
                    text: "a ".into()
                },
                Node::Action {
                    tag: tag(2),
                    pipe: Pipe {
                        pos: 5,
                        decl: vec![],
                        is_assign: false,
                        cmds: vec![Command {
                            pos: 5,
                            args: vec![field(5, &["Env", "HOME"])]
                        }]
                    }
                },
                Node::Text {
                    pos: 17,
                    text: " b".into()
                },
            ]
        );
    }

    #[test]
    fn parses_trim_markers_and_keeps_raw_text() {
        let nodes = parse("a {{- .X -}} b {{-3}}").unwrap();
        let Node::Action { tag, .. } = &nodes[1] else {
            panic!()
        };
        assert!(tag.trim_left && tag.trim_right);
        assert_eq!(
            nodes[2],
            Node::Text {
                pos: 12,
                text: " b ".into()
            }
        );
        // `{{-3}}` is the number -3, not a trim marker: the marker needs a space.
        let Node::Action { tag, pipe } = &nodes[3] else {
            panic!()
        };
        assert!(!tag.trim_left);
        assert!(matches!(
            pipe.cmds[0].args[0],
            Arg::Number {
                value: Number::Int(-3),
                ..
            }
        ));
    }

    #[test]
    fn parses_comments() {
        let nodes = parse("a{{/* one */}}b{{- /* two */ -}}c").unwrap();
        assert_eq!(
            nodes[1],
            Node::Comment {
                tag: tag(1),
                text: " one ".into()
            }
        );
        assert_eq!(
            nodes[3],
            Node::Comment {
                tag: Tag {
                    pos: 15,
                    trim_left: true,
                    trim_right: true
                },
                text: " two ".into()
            }
        );
    }

    #[test]
    fn parses_literals() {
        let p = one_pipe(
            r#"{{ f "a\tb\x41\u00e9\101" `r\n` 'x' '\n' 1.5 0x1F 0o17 017 1_000 true false nil }}"#,
        );
        let args = &p.cmds[0].args;
        assert_eq!(
            args[0],
            Arg::Ident {
                pos: 3,
                name: "f".into()
            }
        );
        let values: Vec<String> = args[1..]
            .iter()
            .map(|a| match a {
                Arg::String { value, .. } => format!("s:{value}"),
                Arg::Number { value, .. } => format!("n:{value:?}"),
                Arg::Bool(_, b) => format!("b:{b}"),
                Arg::Nil(_) => "nil".into(),
                a => panic!("{a:?}"),
            })
            .collect();
        assert_eq!(
            values,
            [
                "s:a\tbAéA",
                "s:r\\n",
                "n:Int(120)",
                "n:Int(10)",
                "n:Float(1.5)",
                "n:Int(31)",
                "n:Int(15)",
                "n:Int(15)",
                "n:Int(1000)",
                "b:true",
                "b:false",
                "nil"
            ]
        );
    }

    #[test]
    fn parses_pipelines_variables_and_chains() {
        let p = one_pipe("{{ $x := .A | f 1 | g }}");
        assert_eq!(p.decl[0].name, "$x");
        assert!(!p.is_assign);
        assert_eq!(p.cmds.len(), 3);
        assert_eq!(p.cmds[1].args.len(), 2);
        let nodes = parse("{{ $x := 1 }}{{ $x = 2 }}{{ $x.F.G }}{{ (f .A).B }}{{ $.V }}").unwrap();
        let Node::Action { pipe, .. } = &nodes[1] else {
            panic!()
        };
        assert!(pipe.is_assign);
        let Node::Action { pipe, .. } = &nodes[2] else {
            panic!()
        };
        assert_eq!(
            pipe.cmds[0].args[0],
            Arg::Variable {
                pos: 28,
                name: "$x".into(),
                path: vec!["F".into(), "G".into()]
            }
        );
        let Node::Action { pipe, .. } = &nodes[3] else {
            panic!()
        };
        let Arg::Chain { base, path, .. } = &pipe.cmds[0].args[0] else {
            panic!("{pipe:?}")
        };
        assert_eq!(path, &["B"]);
        assert!(matches!(**base, Arg::Pipe(_)));
        let Node::Action { pipe, .. } = &nodes[4] else {
            panic!()
        };
        assert!(
            matches!(&pipe.cmds[0].args[0], Arg::Variable { name, path, .. } if name == "$" && path == &["V"])
        );
    }

    #[test]
    fn parses_if_else_if_else() {
        let nodes = parse("{{ if .A }}a{{ else if .B }}b{{ else }}c{{ end }}").unwrap();
        let Node::If {
            branches,
            otherwise,
            end,
        } = &nodes[0]
        else {
            panic!()
        };
        assert_eq!(branches.len(), 2);
        assert_eq!(branches[1].tag.pos, 12);
        assert_eq!(otherwise.as_ref().unwrap().1.len(), 1);
        assert_eq!(end.pos, 40);
    }

    #[test]
    fn parses_with_else_with_and_range_else() {
        let nodes =
            parse("{{ with .A }}a{{ else with .B }}b{{ end }}{{ range $i, $e := .L }}{{ break }}{{ continue }}{{ else }}e{{ end }}")
                .unwrap();
        let Node::With { branches, .. } = &nodes[0] else {
            panic!()
        };
        assert_eq!(branches.len(), 2);
        let Node::Range {
            branch, otherwise, ..
        } = &nodes[1]
        else {
            panic!()
        };
        let names: Vec<&str> = branch.pipe.decl.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["$i", "$e"]);
        assert!(matches!(branch.body[0], Node::Break(_)));
        assert!(matches!(branch.body[1], Node::Continue(_)));
        assert!(otherwise.is_some());
    }

    #[test]
    fn parses_define_template_block() {
        let nodes =
            parse(r#"{{ define "x" }}X{{ end }}{{ template "x" . }}{{ template `y` }}{{ block "z" .V }}Z{{ end }}"#)
                .unwrap();
        assert!(
            matches!(&nodes[0], Node::Define { name, body, .. } if name == "x" && body.len() == 1)
        );
        assert!(matches!(&nodes[1], Node::Template { name, pipe: Some(_), .. } if name == "x"));
        assert!(matches!(&nodes[2], Node::Template { name, pipe: None, .. } if name == "y"));
        assert!(matches!(&nodes[3], Node::Block { name, .. } if name == "z"));
    }

    #[test]
    fn parse_errors_have_go_messages_and_positions() {
        assert_eq!(err("{{ .X"), (1, 6, "unclosed action".into()));
        assert_eq!(err("a\n{{ if .X }}b"), (2, 13, "unexpected EOF".into()));
        assert_eq!(err("x {{ end }}"), (1, 3, "unexpected {{end}}".into()));
        assert_eq!(err("{{ else }}"), (1, 1, "unexpected {{else}}".into()));
        assert_eq!(err("{{ }}"), (1, 4, "missing value for command".into()));
        assert_eq!(
            err("{{ \"abc }}"),
            (1, 4, "unterminated quoted string".into())
        );
        assert_eq!(
            err("{{ `abc }}"),
            (1, 4, "unterminated raw quoted string".into())
        );
        assert_eq!(
            err("{{/* x */ }}"),
            (1, 1, "comment ends before closing delimiter".into())
        );
        assert_eq!(err("{{/* x"), (1, 1, "unclosed comment".into()));
        assert_eq!(err("{{ $x }}"), (1, 4, "undefined variable \"$x\"".into()));
        assert_eq!(
            err("{{ break }}"),
            (1, 4, "{{break}} outside {{range}}".into())
        );
        assert_eq!(
            err("{{ .X.  }}"),
            (1, 6, "unexpected <.> in operand".into())
        );
        assert_eq!(err("{{ (.X }}"), (1, 8, "unclosed left paren".into()));
        assert_eq!(err("{{ .X) }}"), (1, 6, "unexpected right paren".into()));
        assert_eq!(
            err("{{ if .X }}{{ else }}{{ else }}{{ end }}"),
            (1, 22, "expected end; found {{else}}".into())
        );
        assert_eq!(
            err("{{ range $a, $b, $c := .X }}{{ end }}"),
            (1, 16, "too many declarations in range".into())
        );
        assert_eq!(
            err("{{ if .X }}\n{{ .Y\n"),
            (3, 1, "unclosed action started at 2:1".into())
        );
        assert_eq!(
            err("{{ .X | 1 }}"),
            (1, 9, "non executable command in pipeline stage 2".into())
        );
        assert_eq!(err("{{ 1a }}"), (1, 4, "bad number syntax: \"1a\"".into()));
        assert_eq!(
            err("{{ \"a\".X }}"),
            (1, 4, "unexpected . after term \"\\\"a\\\"\"".into())
        );
        assert_eq!(
            err("{{ .X # }}"),
            (1, 7, "unexpected \"#\" in operand".into())
        );
        assert_eq!(err("{{ @ }}"), (1, 4, "unexpected \"@\" in command".into()));
        assert_eq!(
            err("{{ with .X }}{{ else if .Y }}{{ end }}"),
            (1, 22, "unexpected <if> in input".into())
        );
        assert_eq!(
            err("{{ .X ! }}"),
            (1, 7, "unexpected \"!\" in operand".into())
        );
        assert_eq!(err("{{ .Xé€ }}"), (1, 4, "bad character U+20AC '€'".into()));
        // A trailing pipe is accepted, as Go accepts it.
        assert!(parse("{{ .X | }}").is_ok());
    }

    // -- translation -----------------------------------------------------------------------

    /// The data the expected outputs were rendered with (by Go, for GoReleaser's names).
    fn vars() -> Vars {
        let mut v = Vars::new();
        for (k, val) in [
            ("project_name", "rel"),
            ("version", "1.2.3"),
            ("tag", "v1.2.3"),
            ("os", "linux"),
            ("arch", "amd64"),
            ("arm", ""),
            ("amd64", "v1"),
            ("short_commit", "abc1234"),
            ("binary", "rel"),
            ("ext", ""),
            ("prerelease", ""),
            ("date", "2024-03-05T07:08:09Z"),
        ] {
            v.insert(k.into(), Value::from(val));
        }
        v.insert("major".into(), Value::from(1));
        v.insert("minor".into(), Value::from(2));
        v.insert("patch".into(), Value::from(3));
        v.insert("is_snapshot".into(), Value::from(false));
        let env: BTreeMap<String, String> =
            [("HOME", "/root"), ("EMPTY", ""), ("GITHUB_TOKEN", "tok")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
        v.insert("env".into(), Value::from_pairs(env));
        v
    }

    fn tr(go: &str) -> Translation {
        translate(go, &goreleaser_var)
    }

    /// Render the translation as one-line config values are (no trim_blocks) and as multi-line
    /// ones are (trim_blocks, lstrip_blocks): both must give Go's output.
    fn render_both(text: &str, vars: &Vars) -> (String, String) {
        let plain = Templates::new()
            .render("k", text, vars)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let trimming = base_environment(true)
            .render_str(text, vars)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        (plain, trimming)
    }

    /// Translate `go` without problems and render it as Go renders it (`want`).
    #[track_caller]
    fn same(go: &str, want: &str) {
        let t = tr(go);
        assert!(t.problems.is_empty(), "{go}: {:?}\n{}", t.problems, t.text);
        let (plain, trimming) = render_both(&t.text, &vars());
        assert_eq!(plain, want, "{go}\n→ {}", t.text);
        assert_eq!(trimming, want, "with trim_blocks: {go}\n→ {}", t.text);
    }

    #[test]
    fn translates_common_name_templates() {
        // The expected outputs are Go's (text/template with GoReleaser's functions).
        let cases = [
            (
                r#"{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ if eq .Arch "amd64" }}x86_64{{ else if eq .Arch "386" }}i386{{ else }}{{ .Arch }}{{ end }}{{ if .Arm }}v{{ .Arm }}{{ end }}"#,
                "rel_1.2.3_linux_x86_64",
            ),
            ("{{ title .Os }}", "Linux"),
            (
                "{{- if .IsSnapshot }}{{ incpatch .Version }}-next{{ end -}}",
                "",
            ),
            (
                "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}",
                "rel_1.2.3_linux_amd64",
            ),
            (
                r#"{{ .ProjectName }}_{{ .Version }}_{{ title .Os }}_{{ if eq .Arch "amd64" }}x86_64{{ else }}{{ .Arch }}{{ end }}"#,
                "rel_1.2.3_Linux_x86_64",
            ),
            (
                "{{ .ProjectName }}-{{ .Tag }}-{{ .Os }}-{{ .Arch }}{{ with .Arm }}v{{ . }}{{ end }}",
                "rel-v1.2.3-linux-amd64",
            ),
            (
                r#"{{ .Binary }}_{{ .Os }}_{{ .Arch }}{{ if not (eq .Amd64 "v1") }}{{ .Amd64 }}{{ end }}"#,
                "rel_linux_amd64",
            ),
            (
                "{{ .Version }}-SNAPSHOT-{{ .ShortCommit }}",
                "1.2.3-SNAPSHOT-abc1234",
            ),
            ("{{ .Env.GITHUB_TOKEN }}", "tok"),
            ("v{{ .Major }}.{{ .Minor }}", "v1.2"),
        ];
        for (go, want) in cases {
            same(go, want);
        }
        assert_eq!(
            tr(cases[0].0).text,
            r#"{{ project_name }}_{{ version }}_{{ os }}_{% if arch == "amd64" %}x86_64{% elif arch == "386" %}i386{% else %}{{ arch }}{% endif %}{% if arm %}v{{ arm }}{% endif %}"#
        );
        assert_eq!(tr("{{ title .Os }}").text, "{{ os|title }}");
        assert_eq!(
            tr(cases[2].0).text,
            "{%- if is_snapshot %}{{ incpatch(version) }}-next{% endif -%}"
        );
        let mut snap = vars();
        snap.insert("is_snapshot".into(), Value::from(true));
        let (a, b) = render_both(&tr(cases[2].0).text, &snap);
        assert_eq!((a.as_str(), b.as_str()), ("1.2.4-next", "1.2.4-next"));
    }

    #[test]
    fn translates_env_and_index() {
        same(
            r#"{{ index .Env "HOME" }}|{{ index .Env "NOPE" }}|"#,
            "/root||",
        );
        assert_eq!(
            tr(r#"{{ index .Env "HOME" }}"#).text,
            r#"{{ env.HOME|default("") }}"#
        );
        assert_eq!(
            tr(r#"{{ index .Env "MY-VAR" }}"#).text,
            r#"{{ env["MY-VAR"]|default("") }}"#
        );
        same(
            r#"{{ len .Version }}|{{ slice .Version 1 3 }}|{{ index (split .Version ".") 1 }}"#,
            "5|.2|2",
        );
        same(
            r#"{{ indexOrDefault (map "a" "1") "a" "d" }}{{ indexOrDefault (map "a" "1") "b" "d" }}"#,
            "1d",
        );
    }

    #[test]
    fn translates_pipelines_with_the_piped_value_last() {
        // `replace "2" "X"` receives the version last: strings.ReplaceAll("2", "X", version).
        same(
            r#"{{ .Version | replace "2" "X" }}|{{ replace .Version "." "-" }}"#,
            "2|1-2-3",
        );
        assert_eq!(
            tr(r#"{{ .Version | replace "2" "X" }}"#).text,
            r#"{{ "2"|replace("X", version) }}"#
        );
        same(r#"{{ .Tag | trimprefix "v" | toupper }}"#, "V");
        same(
            r#"{{ tolower "ABC" }}{{ "DeF" | tolower | toupper }}"#,
            "abcDEF",
        );
        same(
            r#"{{ (split .Version ".") | len }}|{{ .Version | len }}"#,
            "3|5",
        );
        same(
            r#"{{ .Version | printf "v%s" }}|{{ "a" | printf "%s-%s" "b" }}"#,
            "v1.2.3|b-a",
        );
    }

    #[test]
    fn translates_comparisons_and_logic_with_go_semantics() {
        same(
            r#"{{ if eq .Os "darwin" "linux" }}unix{{ else }}other{{ end }}"#,
            "unix",
        );
        assert_eq!(
            tr(r#"{{ eq .Os "darwin" "linux" }}"#).text,
            r#"{{ "true" if os in ["darwin", "linux"] else "false" }}"#
        );
        // `and`/`or` give an operand, not a boolean.
        same(
            r#"{{ if and .IsSnapshot .Arm }}a{{ else if or .Arm .Os }}b{{ end }}|{{ and .Os .Arch }}|{{ or .Arm .Os }}|{{ or .Arm "" 0 }}|{{ and 1 0 2 }}"#,
            "b|amd64|linux|0|0",
        );
        same(
            r#"{{ if lt .Major 2 }}old{{ end }}{{ if ge .Minor 2 }}new{{ end }}{{ if ne .Os "linux" }}!{{ end }}"#,
            "oldnew",
        );
        same(
            r#"{{ contains .Version "2.3" }}{{ if contains .Tag "v" }}-v{{ end }}"#,
            "true-v",
        );
        assert_eq!(
            tr(r#"{{ not (or .Arm (and .Os .Arch)) }}"#).text,
            r#"{{ "true" if not (arm or os and arch) else "false" }}"#
        );
    }

    #[test]
    fn translates_strings_numbers_and_escapes() {
        same(
            r#"{{ "a\tb\n\"q\" \x41\u00e9" }}|{{ `raw\n{{x}}` }}|{{ 'a' }}"#,
            "a\tb\n\"q\" Aé|raw\\n{{x}}|97",
        );
        same("{{ 1.0 }} {{ 1.5 }} {{ -3 }} {{ 0x1F }}", "1 1.5 -3 31");
    }

    #[test]
    fn comments_and_literal_braces() {
        same("a{{/* a comment */}}b {{- /* trimmed */ -}} c", "abc");
        assert_eq!(tr("a{{/* a comment */}}b").text, "a{# a comment #}b");
        same(
            r#"literal {% raw %} and {# hash #} text {{ "{{" }}"#,
            "literal {% raw %} and {# hash #} text {{",
        );
        // A `{` right before a tag is escaped once the trim marker's spaces are gone.
        same("a{\u{a0} {{- .Os }}", "a{\u{a0}linux");
    }

    #[test]
    fn trim_markers_in_all_positions() {
        same(
            "x  {{- .Os -}}  \n  y {{- .Arch }} z {{ .Arch -}} \n w",
            "xlinuxyamd64 z amd64w",
        );
        same("a \n{{- if true -}}\n b \n{{- end -}}\n c", "abc");
        same("a {{- with .Os -}} [{{ . }}] {{- end }} c", "a[linux] c");
        same(
            "{{ range split \"a,b\" \",\" -}}\n {{ . }}\n{{- end }}",
            "ab",
        );
        // Go trims only spaces, tabs and newlines; minijinja would also eat U+00A0.
        same("a\u{a0} {{- .Os -}} \u{a0}b", "a\u{a0}linux\u{a0}b");
    }

    #[test]
    fn block_tags_keep_whitespace_under_trim_blocks() {
        same(
            "{{ if .Arm }}\n  arm\n{{ else }}\n  {{- .Arch }}\n{{ end }}\n",
            "amd64\n\n",
        );
        same(
            "line1\n  {{ if true }}\n  yes\n  {{ end }}\nline2\n",
            "line1\n  \n  yes\n  \nline2\n",
        );
        assert_eq!(
            tr("line1\n  {{ if true }}\n  yes\n  {{ end }}\n").text,
            "line1\n  {%+ if true +%}\n  yes\n  {%+ endif +%}\n"
        );
    }

    #[test]
    fn nests_if_range_with() {
        same(
            r#"{{ range $i, $e := split "a,b,c" "," }}{{ $i }}={{ $e }};{{ end }}"#,
            "0=a;1=b;2=c;",
        );
        same(
            r#"{{ range split "a,b" "," }}[{{ . }}]{{ else }}none{{ end }}{{ range split "" "," }}({{ . }}){{ end }}"#,
            "[a][b]()",
        );
        same(
            r#"{{ range $x := split "a,b,c" "," }}{{ if eq $x "b" }}{{ continue }}{{ end }}{{ if eq $x "c" }}{{ break }}{{ end }}{{ $x }}{{ end }}"#,
            "a",
        );
        same(
            "{{ with .Arm }}arm{{ . }}{{ else }}noarm{{ end }}{{ with $v := .Version }}{{ $v }}/{{ . }}{{ end }}",
            "noarm1.2.3/1.2.3",
        );
        same(
            r#"{{ range $i, $a := split "a,b" "," }}{{ range split "x,y" "," }}{{ $i }}{{ $a }}{{ . }} {{ end }}{{ end }}"#,
            "0ax 0ay 1bx 1by ",
        );
        same(
            r#"{{ with .Os }}{{ range split "x,y" "," }}{{ if eq . "y" }}{{ $.Arch }}{{ else }}{{ . }}{{ end }}{{ end }}{{ end }}"#,
            "xamd64",
        );
        same(
            "{{ range $k, $v := .Env }}{{ $k }}={{ $v }};{{ end }}",
            "EMPTY=;GITHUB_TOKEN=tok;HOME=/root;",
        );
    }

    #[test]
    fn variables_keep_go_scoping() {
        same(
            r#"{{ $name := .ProjectName }}{{ $name }}-{{ $name = "x" }}{{ $name }}"#,
            "rel-x",
        );
        same(
            "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
            "21",
        );
        // A Go variable named like one of rel's variables gets another name.
        assert_eq!(
            tr("{{ $version := .Tag }}{{ $version }}").text,
            "{% set version_2 = tag %}{{ version_2 }}"
        );
    }

    #[test]
    fn translates_printing_functions() {
        same(
            r#"{{ printf "%s-%d-%v-%q" .Os .Major .IsSnapshot "amd64" }}|{{ printf "%05d|%-4s|%x" 42 "ab" 255 }}"#,
            "linux-1-false-\"amd64\"|00042|ab  |ff",
        );
        // `%q` of a value known only when rendering is an approximation, and says so.
        let t = tr(r#"{{ printf "%q" .Arch }}"#);
        assert_eq!(t.problems.len(), 1, "{:?}", t.problems);
        same(
            r#"{{ print .Major .Minor "x" .Patch }}|{{ println .Os .Arch }}"#,
            "1 2x3|linux amd64\n",
        );
        same(r#"{{ split .Version "." }}"#, "[1 2 3]");
        assert_eq!(
            tr(r#"{{ printf "%s_%s" .ProjectName .Version }}"#).text,
            r#"{{ project_name ~ "_" ~ version }}"#
        );
    }

    #[test]
    fn translates_goreleaser_functions() {
        same(
            r#"{{ envOrDefault "HOME" "d" }}|{{ envOrDefault "NOPE" "d" }}|{{ isEnvSet "HOME" }}|{{ isEnvSet "EMPTY" }}|{{ isEnvSet "NOPE" }}"#,
            "/root|d|true|false|false",
        );
        same(
            r#"{{ time "2006-01-02 15:04:05 Mon Jan _2 3PM" }}|{{ time "20060102" }}"#,
            "2024-03-05 07:08:09 Tue Mar  5 7AM|20240305",
        );
        same(
            r#"{{ if .Arm }}{{ else }}{{ trim "  t  " }}{{ end }}{{ trimsuffix "a.tar.gz" ".gz" }}"#,
            "ta.tar",
        );
        assert_eq!(
            tr(r#"{{ envOrDefault "X" "d" }}"#).text,
            r#"{{ env_or("X", "d") }}"#
        );
        // GoReleaser's own tests' outputs for englishJoin.
        same(
            r#"{{ list "single item" "" | englishJoin }}"#,
            "single item",
        );
        same(
            r#"{{ list "two" "items" "" | englishJoin }}"#,
            "two and items",
        );
        same(
            r#"{{ list "many" "" "more" "items" " " | englishJoin }}"#,
            "many, more, and items",
        );
        same(r#"no items{{ list "" "" | englishJoin }}"#, "no items");
        same(
            r#"{{ list "@a" "@Copilot" "@b" | listExclude "^@Copilot$" | englishJoin }}"#,
            "@a and @b",
        );
        same(
            r#"{{ filter "keep 1\ndrop\nkeep 2" "^keep" }}|{{ reverseFilter "keep 1\ndrop" "^keep" }}"#,
            "keep 1\nkeep 2|drop",
        );
    }

    #[test]
    fn inlines_define_template_and_block() {
        same(
            r#"{{ define "x" }}[{{ .Os }}]{{ end }}a{{ template "x" . }}b{{ block "y" .Version }}<{{ . }}>{{ end }}"#,
            "a[linux]b<1.2.3>",
        );
        same(
            "{{ define \"x\" }} [{{ . }}] {{ end }}a {{- template \"x\" .Os -}} b",
            "a [linux] b",
        );
    }

    fn messages(go: &str) -> Vec<String> {
        tr(go)
            .problems
            .into_iter()
            .map(|p| format!("{}:{}: {}", p.line, p.column, p.message))
            .collect()
    }

    #[test]
    fn reports_what_it_cannot_translate() {
        assert_eq!(
            messages("a\n  {{ .Artifacts }}"),
            ["2:6: `.Artifacts` has no equivalent in rel"]
        );
        assert_eq!(
            messages("{{ nosuch .Version }}"),
            ["1:4: unknown function `nosuch`"]
        );
        assert_eq!(
            messages(r#"{{ template "other" }}"#),
            ["1:1: template \"other\" is not defined in this template"]
        );
        assert_eq!(
            messages("{{ . }}"),
            ["1:4: `.` here is all of GoReleaser's data, which has no minijinja equivalent"]
        );
        assert_eq!(
            messages(r#"{{ dir .Version }}"#),
            ["1:4: `dir` has no equivalent in rel's templates"]
        );
        assert_eq!(
            messages(r#"{{ mdv2escape .Version }}"#),
            ["1:4: `mdv2escape` has no equivalent in rel's templates"]
        );
        assert_eq!(
            messages(r#"{{ printf "%T" .Version }}"#),
            ["1:4: `printf` verb `%T` has no equivalent"]
        );
        assert_eq!(
            messages(r#"{{ $x := 1 }}{{ range split "a" "," }}{{ $x = 2 }}{{ end }}"#).len(),
            1
        );
        let t = tr("{{ if .X");
        assert_eq!(t.text, "{{ if .X");
        assert_eq!(
            t.problems[0].message,
            "the Go template does not parse: unclosed action"
        );
        // The best effort still renders when the names exist.
        let t = tr("{{ .Version }}-{{ .Summary }}");
        assert_eq!(t.text, "{{ version }}-{{ summary }}");
    }

    #[test]
    fn go_layouts_become_strftime() {
        assert_eq!(
            go_layout_to_strftime("2006-01-02T15:04:05Z07:00").unwrap(),
            "%Y-%m-%dT%H:%M:%SZ"
        );
        assert_eq!(
            go_layout_to_strftime("Jan 2, 2006 at 3:04pm (MST) 100%").unwrap(),
            "%b %-d, %Y at %-I:%M%P (UTC) %-m00%%"
        );
        assert_eq!(
            go_layout_to_strftime("15:04:05.000").unwrap(),
            "%H:%M:%S.000"
        );
    }
}
