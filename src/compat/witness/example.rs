//! Small instances a schema probably accepts, built from its keywords: required
//! properties filled with minimal values, arrays at their minimum length, numbers at
//! their lower bound, strings drawn from their pattern. "Probably": the caller checks
//! every instance with the real validator.

use serde_json::{Map, Value, json};

use super::pattern;

/// How deep examples nest before giving up (a `$ref` cycle, a very deep schema).
const DEPTH_LIMIT: usize = 24;
/// The most items or properties an example holds.
const WIDTH_LIMIT: usize = 64;

/// The JSON types in the order examples try them.
pub(super) const TYPES: [&str; 7] = [
    "object", "array", "string", "integer", "number", "boolean", "null",
];

/// A value `schema` probably accepts (`root` resolves local `$ref`s).
pub(super) fn example(schema: &Value, root: &Value) -> Option<Value> {
    typed(schema, root, 0, None)
}

/// Several values `schema` probably accepts: one per type it allows, and one per member
/// of its `anyOf`/`oneOf`, so that the search has alternatives when the first is not
/// what tells two schemas apart.
pub(super) fn examples(schema: &Value, root: &Value) -> Vec<Value> {
    let (first, more) = example_and_more(schema, root);
    first.into_iter().chain(more).collect()
}

/// [`example`], and the rest of [`examples`]: one call where both are needed.
pub(super) fn example_and_more(schema: &Value, root: &Value) -> (Option<Value>, Vec<Value>) {
    let first = example(schema, root);
    let more = more_examples(schema, root, first.as_ref());
    (first, more)
}

/// The examples of [`examples`] after `first`.
fn more_examples(schema: &Value, root: &Value, first: Option<&Value>) -> Vec<Value> {
    let mut out = Vec::new();
    let Some(s) = deref(schema, root, 0).and_then(Value::as_object) else {
        return out;
    };
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(members)) = s.get(key) {
            out.extend(members.iter().take(16).filter_map(|m| example(m, root)));
        }
    }
    // An example of each declared type; the first example already is one of its type
    // when no combinator chose it (the same value again would only be built twice).
    let chosen = (!["allOf", "anyOf", "oneOf"]
        .iter()
        .any(|k| s.contains_key(*k)))
    .then(|| first.map(type_of))
    .flatten();
    for ty in declared_types(s) {
        if chosen != Some(ty) {
            out.extend(typed(schema, root, 0, Some(ty)));
        }
    }
    mentioned(s, root, 0, &mut out);
    out
}

/// The `const` and `enum` values of a schema and of its `allOf`/`anyOf`/`oneOf`
/// members (nested up to three levels).
fn mentioned(s: &Map<String, Value>, root: &Value, depth: usize, out: &mut Vec<Value>) {
    if depth > 3 || out.len() > WIDTH_LIMIT {
        return;
    }
    out.extend(s.get("const").cloned());
    out.extend(
        s.get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(WIDTH_LIMIT)
            .cloned(),
    );
    for key in ["allOf", "anyOf", "oneOf"] {
        for m in s
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .take(16)
        {
            if let Some(m) = deref(m, root, 0).and_then(Value::as_object) {
                mentioned(m, root, depth + 1, out);
            }
        }
    }
}

/// The JSON type of `v` as `type` names it (an integer-valued number is an integer).
fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The types a schema object names in `type`.
pub(super) fn declared_types(s: &Map<String, Value>) -> Vec<&'static str> {
    let names: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Vec::new(),
    };
    TYPES
        .iter()
        .copied()
        .filter(|t| names.contains(t))
        .collect()
}

/// `v`, or the schema its local `$ref` points at (followed up to 16 times).
pub(super) fn deref<'v>(v: &'v Value, root: &'v Value, depth: usize) -> Option<&'v Value> {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) if depth < 16 => {
            let pointer = r.strip_prefix('#')?;
            deref(root.pointer(pointer)?, root, depth + 1)
        }
        Some(_) => None,
        None => Some(v),
    }
}

/// An example of `schema`, of type `want` when given.
fn typed(schema: &Value, root: &Value, depth: usize, want: Option<&str>) -> Option<Value> {
    if depth > DEPTH_LIMIT {
        return None;
    }
    let schema = deref(schema, root, 0)?;
    let obj = match schema {
        Value::Bool(true) => return Some(json!("x")),
        Value::Bool(false) => return None,
        Value::Object(o) => o,
        _ => return None,
    };
    if let Some(c) = obj.get("const") {
        return Some(c.clone());
    }
    if let Some(Value::Array(values)) = obj.get("enum") {
        return values.first().cloned();
    }
    if want.is_none() {
        if let Some(v) = combined(obj, root, depth) {
            return Some(v);
        }
    }
    let ty = match want {
        Some(t) => t,
        None => guess_type(obj)?,
    };
    Some(match ty {
        "null" => Value::Null,
        "boolean" => json!(true),
        "string" => string(obj),
        "integer" | "number" => number(obj, ty == "integer"),
        "array" => array(obj, root, depth),
        "object" => object(obj, root, depth),
        _ => json!("x"),
    })
}

/// An example from `allOf` (object examples merged), `anyOf` or `oneOf` (the first
/// member that has one).
fn combined(obj: &Map<String, Value>, root: &Value, depth: usize) -> Option<Value> {
    if let Some(Value::Array(members)) = obj.get("allOf") {
        let mut merged = Map::new();
        let mut last = None;
        for m in members {
            match typed(m, root, depth + 1, None) {
                Some(Value::Object(o)) => merged.extend(o),
                other => last = other,
            }
        }
        if let Some(Value::Object(own)) = obj
            .contains_key("properties")
            .then(|| object(obj, root, depth))
        {
            merged.extend(own);
        }
        if !merged.is_empty() {
            return Some(Value::Object(merged));
        }
        if last.is_some() {
            return last;
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(members)) = obj.get(key) {
            if let Some(v) = members.iter().find_map(|m| typed(m, root, depth + 1, None)) {
                return Some(v);
            }
        }
    }
    None
}

/// The type an example of `obj` takes: the first declared one that is not `null`, or
/// the one its keywords suggest.
fn guess_type(obj: &Map<String, Value>) -> Option<&'static str> {
    let declared = declared_types(obj);
    if let Some(t) = declared.iter().find(|t| **t != "null") {
        return Some(t);
    }
    if !declared.is_empty() {
        return Some("null");
    }
    let has = |keys: &[&str]| keys.iter().any(|k| obj.contains_key(*k));
    Some(
        if has(&[
            "properties",
            "required",
            "additionalProperties",
            "minProperties",
        ]) {
            "object"
        } else if has(&["items", "prefixItems", "minItems", "contains"]) {
            "array"
        } else if has(&["minLength", "maxLength", "pattern", "format"]) {
            "string"
        } else if has(&[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ]) {
            "number"
        } else {
            "string"
        },
    )
}

fn string(obj: &Map<String, Value>) -> Value {
    let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
    if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
        if let Some(s) = pattern::samples(p, 1).into_iter().next() {
            return json!(s);
        }
    }
    match obj.get("format").and_then(Value::as_str) {
        Some(f) => format_example(f),
        None => json!("a".repeat(min.clamp(1, WIDTH_LIMIT))),
    }
}

/// A value of a well-known `format`.
pub(super) fn format_example(format: &str) -> Value {
    json!(match format {
        "date-time" => "2024-01-01T00:00:00Z",
        "date" => "2024-01-01",
        "time" => "00:00:00Z",
        "duration" => "P1D",
        "email" | "idn-email" => "a@example.com",
        "hostname" | "idn-hostname" => "example.com",
        "uuid" => "00000000-0000-4000-8000-000000000000",
        "uri" | "iri" | "uri-reference" | "iri-reference" => "https://example.com/",
        "ipv4" => "192.0.2.1",
        "ipv6" => "2001:db8::1",
        "json-pointer" => "/a",
        "relative-json-pointer" => "0",
        "regex" => "a",
        _ => "a",
    })
}

fn number(obj: &Map<String, Value>, integer: bool) -> Value {
    let f = |k: &str| obj.get(k).and_then(Value::as_f64);
    let exclusive_flag = |k: &str| obj.get(k).and_then(Value::as_bool).unwrap_or(false);
    let step = if integer { 1.0 } else { 0.5 };
    // Draft 4 writes exclusive bounds as booleans beside `minimum`/`maximum`.
    let lo = match (f("minimum"), f("exclusiveMinimum")) {
        (Some(m), _) if exclusive_flag("exclusiveMinimum") => Some((m + step).floor().max(m + 0.5)),
        (Some(m), Some(e)) => Some(m.max(e.floor() + 1.0)),
        (Some(m), None) => Some(m),
        (None, Some(e)) => Some(e.floor() + 1.0),
        (None, None) => None,
    };
    let hi = match (f("maximum"), f("exclusiveMaximum")) {
        (Some(m), _) if exclusive_flag("exclusiveMaximum") => Some((m - step).ceil().min(m - 0.5)),
        (Some(m), Some(e)) => Some(m.min(e.ceil() - 1.0)),
        (Some(m), None) => Some(m),
        (None, Some(e)) => Some(e.ceil() - 1.0),
        (None, None) => None,
    };
    let mut v = match (lo, hi) {
        (Some(l), _) => l.ceil(),
        (None, Some(h)) => h.floor().min(0.0),
        (None, None) => 0.0,
    };
    if let Some(m) = f("multipleOf").filter(|m| *m > 0.0) {
        v = (v / m).ceil() * m;
    }
    super::num(v)
}

fn array(obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
    let mut items: Vec<Value> = obj
        .get("prefixItems")
        .or_else(|| obj.get("items").filter(|i| i.is_array()))
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .take(WIDTH_LIMIT)
                .filter_map(|s| typed(s, root, depth + 1, None))
                .collect()
        })
        .unwrap_or_default();
    let item = obj
        .get("items")
        .filter(|i| !i.is_array())
        .and_then(|s| typed(s, root, depth + 1, None))
        .or_else(|| {
            obj.get("contains")
                .and_then(|s| typed(s, root, depth + 1, None))
        })
        .unwrap_or(Value::Null);
    if items.is_empty() && obj.contains_key("contains") {
        items.push(item.clone());
    }
    while items.len() < min.min(WIDTH_LIMIT) {
        items.push(super::distinct(&item, items.len()));
    }
    Value::Array(items)
}

fn object(obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let mut out = Map::new();
    let props = obj.get("properties").and_then(Value::as_object);
    if let Some(Value::Array(required)) = obj.get("required") {
        for name in required.iter().filter_map(Value::as_str).take(WIDTH_LIMIT) {
            let v = props
                .and_then(|p| p.get(name))
                .and_then(|s| typed(s, root, depth + 1, None))
                .unwrap_or(json!("x"));
            out.insert(name.to_owned(), v);
        }
    }
    let min = obj
        .get("minProperties")
        .and_then(Value::as_u64)
        .unwrap_or(0) as usize;
    if out.len() < min {
        for (name, s) in props.into_iter().flatten() {
            if out.len() >= min.min(WIDTH_LIMIT) {
                break;
            }
            if let Some(v) = typed(s, root, depth + 1, None) {
                out.entry(name.clone()).or_insert(v);
            }
        }
    }
    Value::Object(out)
}
