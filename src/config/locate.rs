//! Finds where a config path (`builds[0].goos[1]`) stands in the YAML source.
//!
//! Semantic checks run on the typed config, which has lost positions; rather than threading
//! spans through every field (and the JSON Schema), the few errors found after loading look
//! their position up here, from the parser's own events.

use super::diag::Pos;
use serde_saphyr::granit_parser::{Event, Parser, Span};

/// One step of a config path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Shorthand for building paths: `path(&["builds".into(), 0.into()])`.
impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}
impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// Render a path as `builds[0].goos[1]`.
pub fn display(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

enum Node {
    Scalar(Span),
    Seq(Vec<Node>, Span),
    Map(Vec<(String, Span, Node)>, Span),
    Other(Span),
}

impl Node {
    fn span(&self) -> Span {
        match self {
            Node::Scalar(s) | Node::Seq(_, s) | Node::Map(_, s) | Node::Other(s) => *s,
        }
    }
}

fn pos_of(span: Span) -> Pos {
    let width = if span.end.line() == span.start.line() {
        span.end.col().saturating_sub(span.start.col()).max(1)
    } else {
        1
    };
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
        width,
    }
}

fn next_node<'a>(events: &mut impl Iterator<Item = (Event<'a>, Span)>) -> Option<Node> {
    loop {
        let (ev, span) = events.next()?;
        return Some(match ev {
            Event::Scalar(..) => Node::Scalar(span),
            Event::Alias(_) => Node::Other(span),
            Event::SequenceStart(..) => {
                let mut items = vec![];
                while let Some(n) = next_node(events) {
                    items.push(n);
                }
                Node::Seq(items, span)
            }
            Event::MappingStart(..) => {
                let mut entries = vec![];
                while let Some((kev, kspan)) = events.next() {
                    let key = match kev {
                        Event::MappingEnd => break,
                        Event::Scalar(v, ..) => v.to_string(),
                        Event::SequenceStart(..) | Event::MappingStart(..) => {
                            // Complex keys do not occur in a config; skip the key's subtree.
                            let mut depth = 1;
                            while depth > 0 {
                                match events.next() {
                                    Some((Event::SequenceStart(..) | Event::MappingStart(..), _)) => depth += 1,
                                    Some((Event::SequenceEnd | Event::MappingEnd, _)) => depth -= 1,
                                    None => break,
                                    _ => {}
                                }
                            }
                            String::new()
                        }
                        _ => String::new(),
                    };
                    let Some(value) = next_node(events) else { break };
                    entries.push((key, kspan, value));
                }
                Node::Map(entries, span)
            }
            Event::SequenceEnd | Event::MappingEnd | Event::StreamEnd | Event::DocumentEnd => return None,
            _ => continue,
        });
    }
}

/// The position of `path` in `src`, or of its nearest existing ancestor.
pub fn locate(src: &str, path: &[Seg]) -> Option<Pos> {
    let mut parser = Parser::new_from_str(src);
    let mut events = std::iter::from_fn(|| parser.next_event().and_then(|r| r.ok()));
    let root = next_node(&mut events)?;
    let mut node = &root;
    let mut best = node.span();
    for seg in path {
        let next = match (seg, node) {
            (Seg::Key(k), Node::Map(entries, _)) => entries.iter().find(|(key, _, _)| key == k).map(|(_, ks, v)| {
                // Point at the key when the value is a collection, at the value otherwise.
                match v {
                    Node::Scalar(_) => (v, v.span()),
                    _ => (v, *ks),
                }
            }),
            (Seg::Index(i), Node::Seq(items, _)) => items.get(*i).map(|v| (v, v.span())),
            _ => None,
        };
        match next {
            Some((n, span)) => {
                node = n;
                best = span;
            }
            None => break,
        }
    }
    Some(pos_of(best))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let src = "project_name: x\nbuilds:\n  - id: a\n    goos: [linux, lnux]\n";
        let p = locate(src, &["builds".into(), 0.into(), "goos".into(), 1.into()]).unwrap();
        assert_eq!((p.line, p.column, p.width), (4, 19, 4));
        let p = locate(src, &["builds".into(), 0.into(), "id".into()]).unwrap();
        assert_eq!((p.line, p.column), (3, 9));
    }

    #[test]
    fn falls_back_to_nearest_ancestor() {
        let src = "builds:\n  - id: a\n";
        let p = locate(src, &["builds".into(), 0.into(), "goos".into()]).unwrap();
        assert_eq!(p.line, 2);
    }

    #[test]
    fn displays_paths() {
        assert_eq!(display(&["builds".into(), 0.into(), "goos".into()]), "builds[0].goos");
    }
}
