//! Candidate local values for a witness: what to place at a change's instance path.
//!
//! They come, most specific first, from the walk's hint (the removed enum value, the
//! bound to cross), then from the two local subschemas: values the accepting side
//! allows (its examples, enum values, pattern samples), values at and around every
//! bound either side declares, objects with one more property (declared on either
//! side, or undeclared), arrays with one more or one repeated item, and last a small
//! palette of one value of each kind. None is trusted: the search validates each.

use serde_json::{Map, Value, json};

use super::super::language;
use super::example::{declared_types, deref, example, examples, format_example};
use super::{distinct, num, pattern};

/// The most local values derived from one change and direction.
pub(super) const MAX_LOCAL: usize = 160;
/// The most properties of one object tried one by one.
const MAX_PROPERTIES_TRIED: usize = 24;

/// One local value: placed at the instance path, removed from its parent, or merged
/// into the object there.
#[derive(Debug, Clone)]
pub(super) enum Local {
    Value(Value),
    Absent,
    Merge(Map<String, Value>),
}

/// A side of the comparison: a local subschema and the document it lives in.
#[derive(Clone, Copy)]
pub(super) struct Side<'v> {
    pub local: &'v Value,
    pub root: &'v Value,
}

/// Local values for a witness accepted by `accepts` and rejected by `rejects`, with
/// the walk's hint first when there is one.
pub(super) fn local_values(
    hint: Option<&Value>,
    quoted: &[&Value],
    accepts: Side<'_>,
    rejects: Side<'_>,
) -> Vec<Local> {
    local_values_within(hint, quoted, accepts, rejects, usize::MAX).0
}

/// [`local_values`] without the object candidates that cannot fit in `room` bytes of
/// JSON text (each is the accepting example with a property more or changed, so none
/// fits when the example alone does not), and whether any were left out for that.
/// On a big nested schema the example of an enclosing object holds every level
/// below it: building a copy per property only to find each one over the witness
/// size cap was most of a report's time.
pub(super) fn local_values_within(
    hint: Option<&Value>,
    quoted: &[&Value],
    accepts: Side<'_>,
    rejects: Side<'_>,
    room: usize,
) -> (Vec<Local>, bool) {
    let mut out = Vec::new();
    let mut left_out = false;
    if let Some(h) = hint {
        out.extend(from_hint(h, accepts));
    }
    // The values the change quotes (an enum value added, a `const`), as they are.
    out.extend(quoted.iter().map(|v| Local::Value((*v).clone())));
    let a = deref(accepts.local, accepts.root, 0).unwrap_or(&Value::Bool(true));
    let b = deref(rejects.local, rejects.root, 0).unwrap_or(&Value::Bool(true));
    let base = example(a, accepts.root);
    if let (Some(ao), Some(bo)) = (a.as_object(), b.as_object()) {
        patterns(ao, bo, base.as_ref(), &mut out);
    }
    out.extend(examples(a, accepts.root).into_iter().map(Local::Value));
    if let Some(ao) = a.as_object() {
        // A rejecting schema that is not an object (`true`, `false`) has no keywords.
        let none = Map::new();
        let bo = b.as_object().unwrap_or(&none);
        numbers(ao, bo, &mut out);
        strings(ao, bo, &mut out);
        arrays(ao, bo, accepts.root, &mut out);
        if base.as_ref().is_some_and(|b| !super::fits(b, room)) {
            left_out = true;
        } else {
            objects(ao, bo, base.as_ref(), accepts.root, &mut out);
        }
    }
    out.extend(palette().into_iter().map(Local::Value));
    out.push(Local::Absent);
    out.truncate(MAX_LOCAL);
    (out, left_out)
}

/// One value of each kind, for changes the specific candidates miss (a type that
/// changed, a subschema added).
pub(super) fn palette() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(0.5),
        json!(1_000_000),
        json!(""),
        json!("a"),
        json!("A b #1"),
        json!([]),
        json!([null]),
        json!({}),
        json!({ "x_extra": null }),
    ]
}

/// The walk's hint made concrete: a count to reach, a bound to cross, a value to use.
fn from_hint(hint: &Value, accepts: Side<'_>) -> Vec<Local> {
    let local = deref(accepts.local, accepts.root, 0).unwrap_or(&Value::Bool(true));
    let get = |k: &str| hint.as_object().and_then(|o| o.get(k));
    if hint == "<absent>" {
        return vec![Local::Absent];
    }
    if let Some(count) = get("$count").and_then(Value::as_u64) {
        let count = count.min(64) as usize;
        let keyword = get("$keyword").and_then(Value::as_str).unwrap_or("");
        let item = local
            .get("items")
            .and_then(|s| example(s, accepts.root))
            .unwrap_or(Value::Null);
        let v = match keyword {
            "minLength" | "maxLength" => json!("a".repeat(count)),
            "minItems" | "maxItems" => {
                Value::Array((0..count).map(|i| distinct(&item, i)).collect())
            }
            "minContains" | "maxContains" => {
                let c = local
                    .get("contains")
                    .and_then(|s| example(s, accepts.root))
                    .unwrap_or(Value::Null);
                Value::Array(vec![c; count])
            }
            "minProperties" | "maxProperties" => {
                Value::Object((0..count).map(|i| (format!("p{i}"), Value::Null)).collect())
            }
            _ => return Vec::new(),
        };
        return vec![Local::Value(v)];
    }
    if let Some(side) = get("$bound").and_then(Value::as_str) {
        let Some(v) = get("$value").and_then(Value::as_f64) else {
            return Vec::new();
        };
        let exclusive = get("$exclusive").and_then(Value::as_bool).unwrap_or(false);
        let step = |d: f64| if side == "below" { v - d } else { v + d };
        let mut out = Vec::new();
        if exclusive {
            out.push(num(v));
        }
        out.extend([1.0, 0.5, 0.001].map(|d| num(step(d))));
        return out.into_iter().map(Local::Value).collect();
    }
    if get("$fraction").is_some() {
        return vec![Local::Value(json!(0.5)), Local::Value(json!(1.5))];
    }
    if get("$pattern").is_some() || get("$example").is_some() {
        // The generic candidates below cover these.
        return Vec::new();
    }
    if let Some(m) = get("$merge").and_then(Value::as_object) {
        return vec![Local::Merge(m.clone())];
    }
    vec![Local::Value(hint.clone())]
}

/// Numbers at and around every bound and multiple either side declares.
fn numbers(a: &Map<String, Value>, b: &Map<String, Value>, out: &mut Vec<Local>) {
    let mut points = Vec::new();
    for s in [a, b] {
        for k in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
            if let Some(v) = s.get(k).and_then(Value::as_f64) {
                points.extend([v, v - 1.0, v + 1.0, v - 0.5, v + 0.5, v - 0.001, v + 0.001]);
            }
        }
    }
    let multiple = |s: &Map<String, Value>| {
        s.get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|m| *m > 0.0)
    };
    if let Some(m) = multiple(a) {
        let lo = a.get("minimum").and_then(Value::as_f64).unwrap_or(0.0);
        let start = (lo / m).ceil();
        points.extend((0..8).map(|i| (start + f64::from(i)) * m));
    } else if multiple(b).is_some() || a.get("type").is_some_and(|t| t == "number") {
        points.extend([0.5, 1.5, 1.0, 3.0, 7.0]);
    }
    out.extend(
        points
            .into_iter()
            .filter(|p| p.is_finite())
            .map(|p| Local::Value(num(p))),
    );
}

/// Strings from the accepting pattern, at and around every length bound, and of the
/// accepting format.
fn strings(a: &Map<String, Value>, b: &Map<String, Value>, out: &mut Vec<Local>) {
    if let Some(p) = a.get("pattern").and_then(Value::as_str) {
        out.extend(
            pattern::samples(p, 12)
                .into_iter()
                .map(|s| Local::Value(json!(s))),
        );
    }
    if let Some(f) = a.get("format").and_then(Value::as_str) {
        out.push(Local::Value(format_example(f)));
    }
    for s in [a, b] {
        for k in ["minLength", "maxLength"] {
            if let Some(n) = s.get(k).and_then(Value::as_u64) {
                for len in [n.saturating_sub(1), n, n + 1] {
                    out.push(Local::Value(json!("a".repeat(len.min(256) as usize))));
                }
            }
        }
    }
    if b.contains_key("format") || b.contains_key("pattern") {
        for s in ["", "a", "not a value of that format", "2024-13-45", "-"] {
            out.push(Local::Value(json!(s)));
        }
    }
}

/// Arrays with a repeated item, items of other kinds, and lengths around the bounds.
fn arrays(a: &Map<String, Value>, b: &Map<String, Value>, root: &Value, out: &mut Vec<Local>) {
    let is_array = a.contains_key("items")
        || a.contains_key("prefixItems")
        || declared_types(a).contains(&"array")
        || b.contains_key("items")
        || b.contains_key("uniqueItems")
        || b.contains_key("contains");
    if !is_array {
        return;
    }
    let item = a
        .get("items")
        .filter(|i| !i.is_array())
        .or_else(|| a.get("additionalItems"))
        .and_then(|s| example(s, root))
        .unwrap_or(json!(1));
    out.push(Local::Value(json!([item.clone()])));
    out.push(Local::Value(json!([item.clone(), item.clone()])));
    let base = example(&Value::Object(a.clone()), root)
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    for extra in [
        item.clone(),
        Value::Null,
        json!(0),
        json!("a"),
        json!({}),
        json!(true),
    ] {
        let mut v = base.clone();
        v.push(extra.clone());
        out.push(Local::Value(Value::Array(v.clone())));
        v.push(extra);
        out.push(Local::Value(Value::Array(v)));
    }
    for s in [a, b] {
        for k in ["minItems", "maxItems"] {
            if let Some(n) = s.get(k).and_then(Value::as_u64) {
                for len in [n.saturating_sub(1), n + 1] {
                    let v = (0..len.min(64) as usize)
                        .map(|i| distinct(&item, i))
                        .collect();
                    out.push(Local::Value(Value::Array(v)));
                }
            }
        }
    }
}

/// Objects: the accepting example with one more property (each declared one on either
/// side, with the accepting side's example and with values of other kinds, or an
/// undeclared one), with every declared property, or with more properties.
fn objects(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    base: Option<&Value>,
    root: &Value,
    out: &mut Vec<Local>,
) {
    let types = declared_types(a);
    let empty = Map::new();
    let base = match base {
        Some(Value::Object(o)) => o,
        // A schema that allows objects but whose example is of another kind
        // (`dependencies` alone, `maxProperties` alone): start from `{}`.
        _ if types.is_empty() || types.contains(&"object") => &empty,
        _ => return,
    };
    let ap = match a.get("properties") {
        Some(Value::Object(props)) => props,
        _ => &empty,
    };
    let bp = match b.get("properties") {
        Some(Value::Object(props)) => props,
        _ => &empty,
    };
    let with = |name: &str, v: Value| {
        let mut o = base.clone();
        o.insert(name.to_owned(), v);
        Local::Value(Value::Object(o))
    };
    let mut all = base.clone();
    for (name, s) in ap.iter().take(MAX_PROPERTIES_TRIED) {
        for v in examples(s, root).into_iter().take(3) {
            all.entry(name.clone()).or_insert_with(|| v.clone());
            out.push(with(name, v));
        }
    }
    out.push(Local::Value(Value::Object(all)));
    for v in [Value::Null, json!(0), json!("x"), json!({})] {
        out.push(with("x_extra", v));
    }
    for (name, s) in bp.iter().take(MAX_PROPERTIES_TRIED) {
        if let Some(v) = example(s, root) {
            out.push(with(name, v));
        }
        for v in [
            Value::Null,
            json!(0),
            json!("x"),
            json!(true),
            json!({}),
            json!([]),
        ] {
            out.push(with(name, v));
        }
    }
    for s in [a, b] {
        for key in ["dependentRequired", "dependencies", "dependentSchemas"] {
            for name in s
                .get(key)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
            {
                let v = ap
                    .get(name)
                    .and_then(|s| example(s, root))
                    .unwrap_or(json!("x"));
                out.push(with(name, v));
            }
        }
        for k in ["minProperties", "maxProperties"] {
            if let Some(n) = s.get(k).and_then(Value::as_u64) {
                let mut o = base.clone();
                for i in 0..(n + 1).min(64) {
                    o.entry(format!("p{i}")).or_insert(Value::Null);
                }
                out.push(Local::Value(Value::Object(o)));
            }
        }
    }
    for name in ["", "A B", "0", "x_extra"] {
        out.push(with(name, Value::Null));
    }
}

/// When a pattern changed, the shortest string one accepts and the other rejects
/// (found on the two patterns' automata, exact when it exists): as the value, and, for
/// `propertyNames`, as a property name added to the accepting example. First, so that
/// the witness shows this change rather than another one the examples happen to show.
fn patterns(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    base: Option<&Value>,
    out: &mut Vec<Local>,
) {
    if let Some(s) = pattern_difference(a, b) {
        out.push(Local::Value(json!(s)));
    }
    let names = |s: &Map<String, Value>| {
        s.get("propertyNames")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    if let Some(name) = pattern_difference(&names(a), &names(b)) {
        let base = base.and_then(Value::as_object).cloned().unwrap_or_default();
        for v in [Value::Null, json!("x")] {
            let mut o = base.clone();
            o.insert(name.clone(), v);
            out.push(Local::Value(Value::Object(o)));
        }
    }
}

/// A string the `pattern` of `a` accepts and that of `b` rejects (a missing pattern
/// accepts everything), when either declares one. Each comparison gets its own
/// pattern budget: it is bounded anyway by the DFAs' sizes and the pairs it may visit,
/// and the witness search bounds how many candidates it makes.
fn pattern_difference(a: &Map<String, Value>, b: &Map<String, Value>) -> Option<String> {
    let pa = a.get("pattern").and_then(Value::as_str);
    let pb = b.get("pattern").and_then(Value::as_str);
    if pa == pb {
        return None;
    }
    language::accepted_not_rejected(pa, pb, &mut language::PatternWork::default())
}
