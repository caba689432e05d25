//! A document tree with the position of every node, built from YAML (through saphyr's
//! marked nodes) or from JSON text (through a small scanner here), so that a JSON
//! pointer from the engine can be turned into a line and column.
//!
//! `serde_json` gives no positions, and the schema must also be parsed by
//! [`crate::schema::Schema::from_text`]; the scanner below only records where things
//! are, and leaves validation to `serde_json`.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Number, Value};

/// A line and column, both from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The line, from 1.
    pub line: usize,
    /// The column (in characters), from 1.
    pub column: usize,
}

/// A node with its position.
#[derive(Debug, Clone)]
pub struct Node {
    /// Where the node starts.
    pub at: Position,
    /// What it holds.
    pub kind: Kind,
}

/// The shape of a node.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A string, number, boolean or null.
    Scalar(Value),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order: key, where the key is, value.
    Map(Vec<(String, Position, Node)>),
}

impl Node {
    /// The member `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(entries) => entries.iter().find(|(k, _, _)| k == key).map(|e| &e.2),
            _ => None,
        }
    }

    /// The position of the node a JSON pointer names: the key of a mapping member (where
    /// people look for `maxLength: 50`), an element of a sequence, or this node for `""`.
    /// When the pointer goes further than the tree, the deepest node on the way.
    pub fn locate(&self, pointer: &str) -> Position {
        let mut node = self;
        let mut at = self.at;
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.kind {
                Kind::Map(entries) => entries
                    .iter()
                    .find(|(k, _, _)| *k == token)
                    .map(|(_, key_at, n)| (*key_at, n)),
                Kind::Seq(items) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|n| (n.at, n)),
                Kind::Scalar(_) => None,
            };
            match next {
                Some((p, n)) => {
                    at = p;
                    node = n;
                }
                None => break,
            }
        }
        at
    }

    /// Whether a JSON pointer names a node of this tree.
    pub fn contains(&self, pointer: &str) -> bool {
        let mut node = self;
        for raw in pointer.split('/').skip(1) {
            let token = raw.replace("~1", "/").replace("~0", "~");
            let next = match &node.kind {
                Kind::Map(entries) => entries.iter().find(|(k, _, _)| *k == token).map(|e| &e.2),
                Kind::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                Kind::Scalar(_) => None,
            };
            match next {
                Some(n) => node = n,
                None => return false,
            }
        }
        true
    }

    /// The JSON value of the tree.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            Kind::Scalar(v) => v.clone(),
            Kind::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Kind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, _, n)| (k.clone(), n.to_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// Compact JSON text of the tree, keys in document order (the registry keeps the
    /// submitted order for readers; `serde_json`'s map would sort them).
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match &self.kind {
            Kind::Scalar(v) => out.push_str(&v.to_string()),
            Kind::Seq(items) => {
                out.push('[');
                for (i, n) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    n.write_json(out);
                }
                out.push(']');
            }
            Kind::Map(entries) => {
                out.push('{');
                for (i, (k, _, n)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    n.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// Parses YAML text (one document) into a positioned tree.
pub fn from_yaml(text: &str) -> Result<Node, String> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| e.to_string())?;
    let mut docs = docs.into_iter();
    let doc = docs.next().ok_or_else(|| "the file is empty".to_owned())?;
    if docs.next().is_some() {
        return Err("the file holds more than one YAML document".to_owned());
    }
    convert(&doc, 0)
}

/// The deepest YAML nesting accepted (schemas themselves stop at 128).
const MAX_YAML_DEPTH: usize = 160;

fn position(m: &saphyr::Marker) -> Position {
    Position {
        line: m.line(),
        column: m.col() + 1,
    }
}

fn convert(node: &MarkedYaml<'_>, depth: usize) -> Result<Node, String> {
    let at = position(&node.span.start);
    if depth > MAX_YAML_DEPTH {
        return Err(format!("line {}: nesting too deep", at.line));
    }
    let kind = match &node.data {
        YamlData::Value(s) => Kind::Scalar(scalar(s).ok_or_else(|| {
            format!(
                "line {}, column {}: a number JSON cannot hold",
                at.line, at.column
            )
        })?),
        YamlData::Representation(text, _, _) => Kind::Scalar(Value::String(text.to_string())),
        YamlData::Sequence(items) => Kind::Seq(
            items
                .iter()
                .map(|n| convert(n, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                let key = match &k.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(s) => match scalar(s) {
                        Some(Value::String(s)) => s,
                        Some(v) => v.to_string(),
                        None => String::new(),
                    },
                    _ => {
                        let p = position(&k.span.start);
                        return Err(format!(
                            "line {}, column {}: mapping keys must be plain scalars",
                            p.line, p.column
                        ));
                    }
                };
                entries.push((key, position(&k.span.start), convert(v, depth + 1)?));
            }
            Kind::Map(entries)
        }
        YamlData::Tagged(_, inner) => return convert(inner, depth),
        YamlData::Alias(_) => {
            return Err(format!(
                "line {}, column {}: YAML aliases are not supported in contract files",
                at.line, at.column
            ));
        }
        YamlData::BadValue => {
            return Err(format!(
                "line {}, column {}: a value YAML cannot read",
                at.line, at.column
            ));
        }
    };
    Ok(Node { at, kind })
}

fn scalar(s: &Scalar<'_>) -> Option<Value> {
    Some(match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Number((*i).into()),
        Scalar::FloatingPoint(f) => Value::Number(Number::from_f64(f.into_inner())?),
        Scalar::String(s) => Value::String(s.to_string()),
    })
}

/// Records the positions of the nodes of JSON text. The text must already be known to
/// be valid JSON (`serde_json` decides that); this only finds where things are.
pub fn from_json(text: &str) -> Result<Node, String> {
    let mut s = Scanner {
        chars: text.chars().collect(),
        i: 0,
        line: 1,
        col: 1,
    };
    let node = s.value(0)?;
    Ok(node)
}

struct Scanner {
    chars: Vec<char>,
    i: usize,
    line: usize,
    col: usize,
}

impl Scanner {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn here(&self) -> Position {
        Position {
            line: self.line,
            column: self.col,
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("line {}, column {}: {what}", self.line, self.col))
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_YAML_DEPTH {
            return self.fail("nesting too deep");
        }
        self.ws();
        let at = self.here();
        let kind = match self.peek() {
            Some('{') => {
                self.bump();
                let mut entries = Vec::new();
                loop {
                    self.ws();
                    match self.peek() {
                        Some('}') => {
                            self.bump();
                            break;
                        }
                        Some(',') => {
                            self.bump();
                        }
                        Some('"') => {
                            let key_at = self.here();
                            let key = self.string()?;
                            self.ws();
                            if self.bump() != Some(':') {
                                return self.fail("expected ':'");
                            }
                            let v = self.value(depth + 1)?;
                            entries.push((key, key_at, v));
                        }
                        _ => return self.fail("expected a key"),
                    }
                }
                Kind::Map(entries)
            }
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                loop {
                    self.ws();
                    match self.peek() {
                        Some(']') => {
                            self.bump();
                            break;
                        }
                        Some(',') => {
                            self.bump();
                        }
                        Some(_) => items.push(self.value(depth + 1)?),
                        None => return self.fail("unterminated array"),
                    }
                }
                Kind::Seq(items)
            }
            Some('"') => Kind::Scalar(Value::String(self.string()?)),
            Some(_) => {
                // A number, true, false or null: the values are not needed for locating.
                while matches!(self.peek(), Some(c) if !matches!(c, ',' | '}' | ']' | ' ' | '\t' | '\n' | '\r'))
                {
                    self.bump();
                }
                Kind::Scalar(Value::Null)
            }
            None => return self.fail("unexpected end"),
        };
        Ok(Node { at, kind })
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.i;
        self.bump();
        loop {
            match self.bump() {
                Some('\\') => {
                    self.bump();
                }
                Some('"') => break,
                Some(_) => {}
                None => return self.fail("unterminated string"),
            }
        }
        let raw: String = self.chars[start..self.i].iter().collect();
        serde_json::from_str(&raw).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_pointer_finds_the_key_of_the_member_in_json_text() {
        let text = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"a/b\": {\"maxLength\": 5},\n    \"list\": [1, {\"x\": 2}]\n  }\n}";
        let tree = from_json(text).unwrap();
        assert_eq!(
            tree.locate("/properties/a~1b/maxLength"),
            Position {
                line: 4,
                column: 13
            }
        );
        assert_eq!(
            tree.locate("/properties/list/1/x"),
            Position {
                line: 5,
                column: 18
            }
        );
        assert_eq!(tree.locate(""), Position { line: 1, column: 1 });
    }

    #[test]
    fn a_pointer_past_the_tree_stops_at_the_deepest_node_found() {
        let tree = from_json(r#"{"properties": {"a": {}}}"#).unwrap();
        assert_eq!(
            tree.locate("/properties/a/enum/3"),
            Position {
                line: 1,
                column: 17
            }
        );
        assert!(!tree.contains("/properties/a/enum"));
        assert!(tree.contains("/properties/a"));
    }

    #[test]
    fn yaml_nodes_keep_their_lines_and_columns_and_key_order() {
        let text = "schema:\n  type: object\n  properties:\n    zeta: {type: string}\n    alpha:\n      maxLength: 5\n";
        let tree = from_yaml(text).unwrap();
        let schema = tree.get("schema").unwrap();
        assert_eq!(
            schema.locate("/properties/alpha/maxLength"),
            Position { line: 6, column: 7 }
        );
        assert_eq!(
            schema.to_json_text(),
            r#"{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"maxLength":5}}}"#
        );
    }

    #[test]
    fn yaml_scalars_become_json_scalars() {
        let tree = from_yaml("a: 1\nb: 1.5\nc: true\nd: null\ne: '1'\nf: 2026-10-01\n").unwrap();
        assert_eq!(
            tree.to_value(),
            serde_json::json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "1", "f": "2026-10-01"})
        );
    }
}
