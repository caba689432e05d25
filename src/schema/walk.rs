//! Where the subschemas of a schema object are: the one table both the `$ref`
//! index and the compatibility model use, so they always agree on what a schema
//! position is.

use serde_json::{Map, Value};

use super::Draft;

/// The keywords that refer to another schema. A schema object holding one means what
/// its target means: the `$ref` index resolves them, and the compatibility model
/// follows them (and never takes two objects holding one as the same).
pub(crate) const REFERENCE_KEYWORDS: [&str; 3] = ["$ref", "$dynamicRef", "$recursiveRef"];

/// Calls `f(path, subschema)` for every direct subschema of `obj`, where `path` is the
/// one or two JSON-pointer tokens from `obj` to the subschema, borrowed from the
/// document.
fn subschema_tokens<'v>(
    obj: &'v Map<String, Value>,
    draft: Draft,
    mut f: impl FnMut([Option<Token<'v>>; 2], &'v Value),
) {
    for (key, value) in obj {
        let here = Some(Token::Key(key.as_str()));
        match key.as_str() {
            "additionalProperties"
            | "not"
            | "propertyNames"
            | "contains"
            | "if"
            | "then"
            | "else"
            | "unevaluatedItems"
            | "unevaluatedProperties"
            | "contentSchema"
                if is_schema(value) =>
            {
                f([here, None], value);
            }
            "additionalItems" if draft < Draft::Draft202012 && is_schema(value) => {
                f([here, None], value);
            }
            "items" => match value {
                Value::Array(items) if draft < Draft::Draft202012 => {
                    for (i, item) in items.iter().enumerate() {
                        f([here, Some(Token::Index(i))], item);
                    }
                }
                v if is_schema(v) => f([here, None], v),
                _ => {}
            },
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(items) = value {
                    for (i, item) in items.iter().enumerate() {
                        f([here, Some(Token::Index(i))], item);
                    }
                }
            }
            "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas"
            | "dependencies" => {
                if let Value::Object(map) = value {
                    for (name, sub) in map {
                        if is_schema(sub) {
                            f([here, Some(Token::Key(name.as_str()))], sub);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn is_schema(v: &Value) -> bool {
    matches!(v, Value::Object(_) | Value::Bool(_))
}

/// Escapes one JSON-pointer reference token (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    push_escaped(&mut out, token);
    out
}

/// Appends `token` to `out`, escaped as a JSON-pointer reference token, without an
/// allocation of its own.
fn push_escaped(out: &mut String, token: &str) {
    if !token.contains(['~', '/']) {
        out.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Appends tokens to a JSON pointer.
pub(crate) fn join_pointer(base: &str, tokens: &[&str]) -> String {
    let len = base.len() + tokens.iter().map(|t| t.len() + 1).sum::<usize>();
    let mut out = String::with_capacity(len);
    out.push_str(base);
    for t in tokens {
        out.push('/');
        push_escaped(&mut out, t);
    }
    out
}

/// One reference token of a JSON pointer, borrowed from the document.
#[derive(Clone, Copy)]
enum Token<'v> {
    Key(&'v str),
    Index(usize),
}

/// Calls `enter(obj, pointer, depth)` for every schema object of the document
/// `root`, parents before children, with its JSON pointer.
///
/// The walk is depth first on an explicit stack (any nesting depth): one list of the
/// children still to visit for each object of the current path, so the lists stay as
/// small as one object's children (a single list of every pending child grows, by
/// doubling, to hundreds of KiB in a big document, and an allocator gives each such
/// size a fresh region). The lists are reused as the walk moves. The pointer is kept in
/// one buffer, cut back and extended as the walk moves: a big document costs no string
/// per position (the `$ref` index only keeps the few pointers it needs, where an
/// `$id`, an anchor or a `$ref` is).
pub(crate) fn visit_schemas<'v>(
    root: &'v Value,
    draft: Draft,
    mut enter: impl FnMut(&'v Map<String, Value>, &str, usize),
) {
    use std::fmt::Write as _;
    type Children<'v> = Vec<([Option<Token<'v>>; 2], &'v Value)>;
    // `levels[d]`: the children still to visit of the object at depth `d - 1` of the
    // current path (the root alone at 0), last first, and that object's pointer length.
    let mut levels: Vec<(Children<'v>, usize)> = vec![(vec![([None; 2], root)], 0)];
    let mut spare: Vec<Children<'v>> = Vec::new();
    let mut pointer = String::new();
    while let Some((pending, parent_end)) = levels.last_mut() {
        let Some((tokens, value)) = pending.pop() else {
            if let Some((list, _)) = levels.pop() {
                spare.push(list);
            }
            continue;
        };
        pointer.truncate(*parent_end);
        let depth = levels.len() - 1;
        for token in tokens.into_iter().flatten() {
            pointer.push('/');
            match token {
                Token::Key(k) => push_escaped(&mut pointer, k),
                Token::Index(i) => {
                    let _ = write!(pointer, "{i}");
                }
            }
        }
        let Value::Object(obj) = value else { continue };
        enter(obj, &pointer, depth);
        let mut children = spare.pop().unwrap_or_default();
        subschema_tokens(obj, draft, |tokens, sub| children.push((tokens, sub)));
        if children.is_empty() {
            spare.push(children);
        } else {
            levels.push((children, pointer.len()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn visited_pointers_are_the_joined_paths_of_every_schema_object() {
        let doc = json!({
            "properties": {"a/b": {"items": [{"type": "string"}, true, {"not": {}}]},
                           "c~": {"anyOf": [{"$ref": "#"}, {"properties": {"d": {}}}]}},
            "$defs": {"e": {"additionalProperties": {"minLength": 1}}}
        });
        let mut expected = vec![
            "",
            "/$defs/e",
            "/$defs/e/additionalProperties",
            "/properties/a~1b",
            "/properties/a~1b/items/0",
            "/properties/a~1b/items/2",
            "/properties/a~1b/items/2/not",
            "/properties/c~0",
            "/properties/c~0/anyOf/0",
            "/properties/c~0/anyOf/1",
            "/properties/c~0/anyOf/1/properties/d",
        ];
        let mut seen = Vec::new();
        visit_schemas(&doc, Draft::Draft7, |_, pointer, depth| {
            assert_eq!(depth, pointer.matches('/').count().div_ceil(2), "{pointer}");
            seen.push(pointer.to_owned());
        });
        expected.sort();
        seen.sort();
        assert_eq!(seen, expected);
        assert!(seen.contains(&"/properties/a~1b/items/2/not".to_owned()));
        assert!(seen.contains(&"/properties/c~0/anyOf/1/properties/d".to_owned()));
    }
}
