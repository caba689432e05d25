//! Witnesses: small instances that the old schema accepts and the new one rejects.
//!
//! The walk leaves a local hint on narrowing findings (a removed enum value, a count
//! or bound to violate, "the old kind of value"). Here each hint becomes a whole
//! instance: a generated valid instance of the old schema with the hint placed at the
//! finding's instance path. Every candidate is checked with real validators of both
//! schemas and dropped unless the old accepts it and the new rejects it, so a witness
//! is never wrong, only sometimes missing.

use serde_json::{Map, Value, json};

use crate::schema::Schema;

use super::Change;

/// Replaces the local hints in `changes` by verified witnesses (or removes them).
pub fn attach(old: &Schema, new: &Schema, changes: &mut [Change]) {
    if changes.iter().all(|c| c.witness.is_none()) {
        return;
    }
    let (ov, nv) = (old.validator(), new.validator());
    let base = example(old.value(), old.value(), 0).unwrap_or(json!({}));
    for c in changes.iter_mut() {
        let Some(hint) = c.witness.take() else {
            continue;
        };
        let path: Vec<&str> = c.instance_path.split('/').skip(1).collect();
        let local_schema = schema_at(old.value(), &path);
        for local in candidates(
            &hint,
            local_schema.unwrap_or(&Value::Bool(true)),
            old.value(),
        ) {
            let Some(candidate) = place(&base, &path, local) else {
                continue;
            };
            if ov.is_valid(&candidate) && !nv.is_valid(&candidate) {
                c.witness = Some(candidate);
                break;
            }
        }
    }
}

/// Concrete local values for a hint.
fn candidates(hint: &Value, local: &Value, root: &Value) -> Vec<LocalValue> {
    let obj = hint.as_object();
    let get = |k: &str| obj.and_then(|o| o.get(k));
    if hint == "<absent>" {
        return vec![LocalValue::Absent];
    }
    if let Some(count) = get("$count").and_then(Value::as_u64) {
        let count = count.min(64) as usize;
        let keyword = get("$keyword").and_then(Value::as_str).unwrap_or("");
        let item = local
            .get("items")
            .and_then(|s| example(s, root, 0))
            .unwrap_or(Value::Null);
        let v = match keyword {
            "minLength" | "maxLength" => json!("a".repeat(count)),
            "minItems" | "maxItems" => {
                Value::Array((0..count).map(|i| distinct(&item, i)).collect())
            }
            "minContains" | "maxContains" => {
                let c = local
                    .get("contains")
                    .and_then(|s| example(s, root, 0))
                    .unwrap_or(Value::Null);
                Value::Array(vec![c; count])
            }
            "minProperties" | "maxProperties" => {
                Value::Object((0..count).map(|i| (format!("p{i}"), Value::Null)).collect())
            }
            _ => return Vec::new(),
        };
        return vec![LocalValue::Value(v)];
    }
    if let Some(side) = get("$bound").and_then(Value::as_str) {
        let Some(v) = get("$value").and_then(Value::as_f64) else {
            return Vec::new();
        };
        let exclusive = get("$exclusive").and_then(Value::as_bool).unwrap_or(false);
        let step = |d: f64| if side == "below" { v - d } else { v + d };
        let mut out = Vec::new();
        if exclusive {
            out.push(json!(v));
        }
        for d in [1.0, 0.5, 0.001] {
            out.push(num(step(d)));
        }
        return out.into_iter().map(LocalValue::Value).collect();
    }
    if get("$fraction").is_some() {
        return vec![LocalValue::Value(json!(0.5)), LocalValue::Value(json!(1.5))];
    }
    if get("$pattern").is_some() {
        let base = example(local, root, 0);
        let mut out: Vec<Value> = ["", "a", "A", "0", "-", "x y", "aaaaaaaaaa", "#"]
            .iter()
            .map(|s| json!(s))
            .collect();
        if let Some(b) = base {
            out.insert(0, b);
        }
        return out.into_iter().map(LocalValue::Value).collect();
    }
    if let Some(m) = get("$merge").and_then(Value::as_object) {
        return vec![LocalValue::Merge(m.clone())];
    }
    if get("$example").is_some() {
        return example(local, root, 0)
            .map(LocalValue::Value)
            .into_iter()
            .collect();
    }
    vec![LocalValue::Value(hint.clone())]
}

fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        json!(f as i64)
    } else {
        json!(f)
    }
}

fn distinct(item: &Value, i: usize) -> Value {
    match item {
        Value::Null => json!(i),
        Value::String(s) => json!(format!("{s}{i}")),
        Value::Number(_) => json!(i),
        other => other.clone(),
    }
}

enum LocalValue {
    Value(Value),
    Absent,
    Merge(Map<String, Value>),
}

/// `base` with `local` placed at `path` (`*` means "the first item" or "an extra
/// property").
fn place(base: &Value, path: &[&str], local: LocalValue) -> Option<Value> {
    let mut root = base.clone();
    if path.is_empty() {
        return match local {
            LocalValue::Value(v) => Some(v),
            LocalValue::Absent => None,
            LocalValue::Merge(m) => {
                let mut obj = root.as_object().cloned().unwrap_or_default();
                obj.extend(m);
                Some(Value::Object(obj))
            }
        };
    }
    let (last, parents) = path.split_last()?;
    let mut cur = &mut root;
    for seg in parents {
        let seg = unescape(seg);
        cur = match cur {
            Value::Object(o) => o
                .entry(if seg == "*" {
                    "x_extra".to_owned()
                } else {
                    seg
                })
                .or_insert(json!({})),
            Value::Array(a) => {
                let i = if seg == "*" { 0 } else { seg.parse().ok()? };
                while a.len() <= i {
                    a.push(json!({}));
                }
                &mut a[i]
            }
            _ => return None,
        };
    }
    let last = unescape(last);
    match (cur, local) {
        (Value::Object(o), LocalValue::Absent) => {
            o.remove(&last);
        }
        (Value::Object(o), LocalValue::Value(v)) => {
            o.insert(
                if last == "*" {
                    "x_extra".to_owned()
                } else {
                    last
                },
                v,
            );
        }
        (Value::Object(o), LocalValue::Merge(m)) => {
            let target = o.entry(last).or_insert(json!({}));
            if let Value::Object(t) = target {
                t.extend(m);
            }
        }
        (Value::Array(a), LocalValue::Value(v)) => {
            let i = if last == "*" { 0 } else { last.parse().ok()? };
            while a.len() <= i {
                a.push(Value::Null);
            }
            a[i] = v;
        }
        _ => return None,
    }
    Some(root)
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

/// The subschema of `root` that applies at an instance path, following `properties`,
/// `items`/`prefixItems` and local `$ref`s (best effort).
fn schema_at<'v>(root: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut cur = deref(root, root, 0)?;
    for seg in path {
        let seg = unescape(seg);
        let next = cur
            .get("properties")
            .and_then(|p| p.get(&seg))
            .or_else(|| {
                cur.get("prefixItems")
                    .and_then(|p| seg.parse::<usize>().ok().and_then(|i| p.get(i)))
            })
            .or_else(|| {
                cur.get("items").and_then(|p| {
                    if p.is_array() {
                        seg.parse::<usize>().ok().and_then(|i| p.get(i))
                    } else {
                        Some(p)
                    }
                })
            })
            .or_else(|| cur.get("additionalProperties").filter(|v| v.is_object()))?;
        cur = deref(next, root, 0)?;
    }
    Some(cur)
}

fn deref<'v>(v: &'v Value, root: &'v Value, depth: usize) -> Option<&'v Value> {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) if depth < 16 => {
            let pointer = r.strip_prefix('#')?;
            deref(root.pointer(pointer)?, root, depth + 1)
        }
        Some(_) => None,
        None => Some(v),
    }
}

/// A value the schema probably accepts (checked by the caller).
fn example(schema: &Value, root: &Value, depth: usize) -> Option<Value> {
    if depth > 24 {
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
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(members)) = obj.get(key) {
            if key == "allOf" {
                // Merge object examples of all members; else the first member's example.
                let mut merged = Map::new();
                let mut last = None;
                for m in members {
                    match example(m, root, depth + 1) {
                        Some(Value::Object(o)) => merged.extend(o),
                        other => last = other,
                    }
                }
                if !merged.is_empty() {
                    return Some(Value::Object(merged));
                }
                if last.is_some() {
                    return last;
                }
            } else if let Some(v) = members.iter().find_map(|m| example(m, root, depth + 1)) {
                return Some(v);
            }
        }
    }
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if obj.contains_key("properties") || obj.contains_key("required") => "object",
        _ if obj.contains_key("items") || obj.contains_key("prefixItems") => "array",
        _ if obj.contains_key("minLength")
            || obj.contains_key("pattern")
            || obj.contains_key("format") =>
        {
            "string"
        }
        _ if obj.contains_key("minimum")
            || obj.contains_key("maximum")
            || obj.contains_key("multipleOf") =>
        {
            "number"
        }
        _ => return Some(json!("x")),
    };
    Some(match ty {
        "null" => Value::Null,
        "boolean" => json!(true),
        "string" => {
            let format = obj.get("format").and_then(Value::as_str);
            let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(1) as usize;
            match format {
                Some("date-time") => json!("2024-01-01T00:00:00Z"),
                Some("date") => json!("2024-01-01"),
                Some("time") => json!("00:00:00Z"),
                Some("email") => json!("a@example.com"),
                Some("uuid") => json!("00000000-0000-4000-8000-000000000000"),
                Some("uri") => json!("https://example.com/"),
                Some("ipv4") => json!("192.0.2.1"),
                _ => json!("a".repeat(min.clamp(1, 64))),
            }
        }
        "integer" | "number" => {
            let lo = obj.get("minimum").and_then(Value::as_f64).or_else(|| {
                obj.get("exclusiveMinimum")
                    .and_then(Value::as_f64)
                    .map(|v| v.floor() + 1.0)
            });
            let v = lo
                .unwrap_or(0.0)
                .max(0.0_f64.min(obj.get("maximum").and_then(Value::as_f64).unwrap_or(0.0)));
            let v = match obj.get("multipleOf").and_then(Value::as_f64) {
                Some(m) if m > 0.0 => (v / m).ceil() * m,
                _ => v,
            };
            num(v)
        }
        "array" => {
            let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
            let mut items: Vec<Value> = obj
                .get("prefixItems")
                .or_else(|| obj.get("items").filter(|i| i.is_array()))
                .and_then(Value::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(|s| example(s, root, depth + 1))
                        .collect()
                })
                .unwrap_or_default();
            let item = obj
                .get("items")
                .filter(|i| !i.is_array())
                .and_then(|s| example(s, root, depth + 1))
                .unwrap_or(Value::Null);
            while items.len() < min.min(64) {
                items.push(distinct(&item, items.len()));
            }
            Value::Array(items)
        }
        "object" => {
            let mut out = Map::new();
            let props = obj.get("properties").and_then(Value::as_object);
            if let Some(Value::Array(required)) = obj.get("required") {
                for name in required.iter().filter_map(Value::as_str) {
                    let v = props
                        .and_then(|p| p.get(name))
                        .and_then(|s| example(s, root, depth + 1))
                        .unwrap_or(json!("x"));
                    out.insert(name.to_owned(), v);
                }
            }
            Value::Object(out)
        }
        _ => json!("x"),
    })
}
