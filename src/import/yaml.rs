//! An ordered YAML tree for the importer: GoReleaser files are read into it keeping the
//! order of every mapping (so the written config follows the file it came from), and the
//! imported config is written from it in a plain, always-valid style.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A YAML value whose mappings keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null` or an empty value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A non-integer number.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    List(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Remove `key` from a mapping, returning its value.
    pub fn take(&mut self, key: &str) -> Option<Node> {
        match self {
            Node::Map(m) => {
                let i = m.iter().position(|(k, _)| k == key)?;
                Some(m.remove(i).1)
            }
            _ => None,
        }
    }

    /// Set `key` of a mapping (replacing it in place, or appending).
    pub fn set(&mut self, key: &str, value: Node) {
        if let Node::Map(m) = self {
            match m.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => m.push((key.to_string(), value)),
            }
        }
    }

    /// The text of a scalar (numbers and booleans as YAML writes them).
    pub fn scalar(&self) -> Option<String> {
        match self {
            Node::Str(s) => Some(s.clone()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(f.to_string()),
            Node::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A string or a list of strings, as a list (GoReleaser accepts both in many places).
    pub fn strings(&self) -> Vec<String> {
        match self {
            Node::List(l) => l.iter().filter_map(|n| n.scalar()).collect(),
            Node::Null => vec![],
            other => other.scalar().into_iter().collect(),
        }
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self, Node::Map(_))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = vec![];
        while let Some(v) = seq.next_element::<Node>()? {
            out.push(v);
        }
        Ok(Node::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out: Vec<(String, Node)> = vec![];
        // Keys are read as strings: `n:` or `on:` are names here, whatever YAML 1.1 says.
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value::<Node>()?;
            // A later duplicate wins, as in GoReleaser's reader.
            out.retain(|(existing, _)| *existing != key);
            out.push((key, v));
        }
        Ok(Node::Map(out))
    }
}

/// Whether `s` can be written as a plain scalar and read back as the same string.
fn plain(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let special = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    if special.contains(&lower.as_str()) || s.parse::<f64>().is_ok() || s.starts_with("0x") {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`.".contains(first) {
        return false;
    }
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./+=@".contains(c))
}

/// A string as a YAML scalar: plain when that is unambiguous, else double-quoted (JSON's
/// escapes are YAML's).
fn scalar(s: &str) -> String {
    if plain(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("a string")
    }
}

/// Whether a multi-line string reads back the same from a `|` block at `indent`.
fn block_ok(s: &str) -> bool {
    s.contains('\n')
        && s.ends_with('\n')
        && !s.ends_with("\n\n")
        && !s.starts_with(' ')
        && !s.starts_with('\n')
        && !s.contains('\t')
        && !s.contains('\r')
        && s.lines().all(|l| l.trim_end() == l)
}

/// Write `node` as YAML.
pub fn emit(node: &Node) -> String {
    let mut out = String::new();
    match node {
        Node::Map(m) if !m.is_empty() => write_map(&mut out, m, 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn inline(n: &Node) -> String {
    match n {
        Node::Null => "null".into(),
        Node::Bool(b) => b.to_string(),
        Node::Int(i) => i.to_string(),
        Node::Float(f) => f.to_string(),
        Node::Str(s) => scalar(s),
        Node::List(l) if l.is_empty() => "[]".into(),
        Node::Map(m) if m.is_empty() => "{}".into(),
        Node::List(_) | Node::Map(_) => unreachable!("collections are written as blocks"),
    }
}

fn is_block(n: &Node) -> bool {
    matches!(n, Node::List(l) if !l.is_empty()) || matches!(n, Node::Map(m) if !m.is_empty())
}

fn write_value(out: &mut String, v: &Node, indent: usize) {
    match v {
        Node::Map(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        Node::List(l) if !l.is_empty() => {
            out.push('\n');
            write_list(out, l, indent + 2);
        }
        Node::Str(s) if block_ok(s) => {
            out.push_str(" |\n");
            for line in s.lines() {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&" ".repeat(indent + 2));
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn write_map(out: &mut String, m: &[(String, Node)], indent: usize) {
    for (k, v) in m {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar(k));
        out.push(':');
        write_value(out, v, indent);
    }
}

fn write_list(out: &mut String, l: &[Node], indent: usize) {
    for item in l {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Node::Map(m) if !m.is_empty() => {
                // The first key on the dash line, the rest under it.
                let (k, v) = &m[0];
                out.push(' ');
                out.push_str(&scalar(k));
                out.push(':');
                write_value(out, v, indent + 2);
                write_map(out, &m[1..], indent + 2);
            }
            Node::List(inner) if !inner.is_empty() => {
                out.push('\n');
                write_list(out, inner, indent + 2);
            }
            other if is_block(other) => unreachable!(),
            other => {
                if let Node::Str(s) = other
                    && block_ok(s)
                {
                    write_value(out, other, indent);
                } else {
                    out.push(' ');
                    out.push_str(&inline(other));
                    out.push('\n');
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> Node {
        serde_saphyr::from_str(src).unwrap()
    }

    #[test]
    fn order_is_kept_and_the_output_reads_back_the_same() {
        let src = "z: 1\na:\n  - x\n  - {k: v, b: \"two words\"}\nm: |\n  line one\n  line two\nq: \"yes\"\nt: '{{ .Version }}'\nn: null\ne: []\nf: 1.5\n";
        let n = read(src);
        let Node::Map(m) = &n else { panic!() };
        assert_eq!(
            m.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ["z", "a", "m", "q", "t", "n", "e", "f"]
        );
        let out = emit(&n);
        assert_eq!(read(&out), n, "{out}");
        assert!(
            out.contains("q: \"yes\""),
            "a YAML 1.1 boolean word stays a string: {out}"
        );
        assert!(out.contains("m: |\n  line one\n  line two\n"), "{out}");
    }

    #[test]
    fn awkward_strings_are_quoted() {
        for s in [
            "",
            " lead",
            "trail ",
            "- dash",
            "a: b",
            "# x",
            "1.0",
            "0x10",
            "on",
            "{{ version }}",
            "tab\there",
            "two\n\nblank lines\n\n",
            "quote \" and \\",
        ] {
            let n = Node::Map(vec![("k".into(), Node::Str(s.into()))]);
            assert_eq!(read(&emit(&n)), n, "{s:?}: {}", emit(&n));
        }
    }
}
