//! Where the subschemas of a schema object are: the one table both the `$ref`
//! index and the compatibility model use, so they always agree on what a schema
//! position is.

use serde_json::{Map, Value};

use super::Draft;

/// Calls `f(path, subschema)` for every direct subschema of `obj`, where `path` is the
/// one or two JSON-pointer segments from `obj` to the subschema.
pub(crate) fn for_each_subschema<'v>(
    obj: &'v Map<String, Value>,
    draft: Draft,
    mut f: impl FnMut(&[&str], &'v Value),
) {
    for (key, value) in obj {
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
            | "contentSchema" => {
                if is_schema(value) {
                    f(&[key], value);
                }
            }
            "additionalItems" => {
                if draft < Draft::Draft202012 && is_schema(value) {
                    f(&[key], value);
                }
            }
            "items" => match value {
                Value::Array(items) if draft < Draft::Draft202012 => {
                    for (i, item) in items.iter().enumerate() {
                        f(&[key, &i.to_string()], item);
                    }
                }
                v if is_schema(v) => f(&[key], v),
                _ => {}
            },
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(items) = value {
                    for (i, item) in items.iter().enumerate() {
                        f(&[key, &i.to_string()], item);
                    }
                }
            }
            "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas"
            | "dependencies" => {
                if let Value::Object(map) = value {
                    for (name, sub) in map {
                        if is_schema(sub) {
                            f(&[key, name], sub);
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
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1")
    } else {
        token.to_owned()
    }
}

/// Appends tokens to a JSON pointer.
pub(crate) fn join_pointer(base: &str, tokens: &[&str]) -> String {
    let mut out = String::with_capacity(base.len() + 16);
    out.push_str(base);
    for t in tokens {
        out.push('/');
        out.push_str(&escape_token(t));
    }
    out
}
