//! Bases for witnesses of schemas with `if`/`then`/`else`: a change inside `then`
//! shows only on an instance that satisfies `if`, one inside `else` only on an
//! instance that fails it, and a changed `if` only on an instance the two conditions
//! judge differently. The accepting schema's example is neutral about conditions, so
//! for every conditional on the way to the change (in either schema) this builds
//! variants of it: the value there merged with a fragment that satisfies or fails each
//! `if` (an example of the `if`, or one of its properties set to a value it names or
//! to another value), alone and with an example of the accepting side's `then` or
//! `else` (their required properties filled). The search validates every variant.

use serde_json::{Map, Value, json};

use super::candidates::Local;
use super::example::{deref, example, examples};
use super::{place, schema_at};

/// The most fragments derived from the conditionals at one place.
const MAX_FRAGMENTS: usize = 16;
/// The most variants of one base.
pub(super) const MAX_VARIANTS: usize = 48;

/// Variants of `base` (an instance `accepts` probably accepts) for the conditionals of
/// `accepts` and `rejects` at `path` and above it; empty when there are none.
pub(super) fn variants(
    base: &Value,
    accepts: &Value,
    rejects: &Value,
    path: &[String],
) -> Vec<Value> {
    let mut out = Vec::new();
    for depth in (0..=path.len()).rev() {
        let prefix = &path[..depth];
        let here = |root: &Value| {
            schema_at(root, prefix)
                .and_then(|s| deref(s, root, 0))
                .and_then(Value::as_object)
                .cloned()
        };
        let (Some(a), b) = (here(accepts), here(rejects)) else {
            continue;
        };
        let ifs: Vec<&Value> = [Some(&a), b.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("if"))
            .collect();
        if ifs.is_empty() {
            continue;
        }
        let branches: Vec<Map<String, Value>> = ["then", "else"]
            .iter()
            .filter_map(|k| a.get(*k))
            .filter_map(|s| example(s, accepts))
            .filter_map(|v| v.as_object().cloned())
            .collect();
        for fragment in fragments(&ifs, &a, accepts) {
            let with = |extra: Option<&Map<String, Value>>| {
                let mut m = extra.cloned().unwrap_or_default();
                m.extend(fragment.clone());
                place(base, prefix, Local::Merge(m), accepts)
            };
            out.extend(with(None));
            for b in &branches {
                out.extend(with(Some(b)));
            }
            if out.len() >= MAX_VARIANTS {
                out.truncate(MAX_VARIANTS);
                return out;
            }
        }
    }
    out
}

/// Object fragments that satisfy or fail the `if`s: each one's example, and each
/// property an `if` names set to a value some `if` names there (`const`, `enum`), to
/// an example of the accepting schema's own property, or to a value of another kind.
fn fragments(
    ifs: &[&Value],
    accepting: &Map<String, Value>,
    root: &Value,
) -> Vec<Map<String, Value>> {
    let mut out: Vec<Map<String, Value>> = Vec::new();
    let push = |m: Map<String, Value>, out: &mut Vec<Map<String, Value>>| {
        if !m.is_empty() && !out.contains(&m) && out.len() < MAX_FRAGMENTS {
            out.push(m);
        }
    };
    for c in ifs {
        if let Some(Value::Object(m)) = example(c, root) {
            push(m, &mut out);
        }
    }
    let names: Vec<&String> = ifs
        .iter()
        .filter_map(|c| c.get("properties").and_then(Value::as_object))
        .flat_map(|p| p.keys())
        .collect();
    for name in names {
        let mut values: Vec<Value> = Vec::new();
        for c in ifs {
            if let Some(s) = c.get("properties").and_then(|p| p.get(name)) {
                values.extend(s.get("const").cloned());
                values.extend(
                    s.get("enum")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
            }
        }
        if let Some(s) = accepting.get("properties").and_then(|p| p.get(name)) {
            values.extend(examples(s, root).into_iter().take(2));
        }
        values.extend([json!("x"), json!(0), Value::Null]);
        for v in values {
            push(Map::from_iter([(name.clone(), v)]), &mut out);
        }
    }
    out
}
