//! Bases for witnesses of schemas with `if`/`then`/`else`: a change inside `then`
//! shows only on an instance that satisfies `if`, one inside `else` only on an
//! instance that fails it, and a changed `if` only on an instance the two conditions
//! judge differently. The accepting schema's example is neutral about conditions, so
//! for every conditional on the way to the change (in either schema) this builds
//! variants of it: the value there merged with a fragment that satisfies or fails each
//! `if` (an example of the `if`, or one of its properties set to a value it names or
//! to another value), alone, with an example of the accepting side's `then` or `else`
//! (their required properties filled), or with one of its declared properties. The
//! conditionals of a schema object's `allOf` members count as its own. The search
//! validates every variant.

use serde_json::{Map, Value, json};

use super::candidates::{self, Local, Side};
use super::example::{deref, example, examples};
use super::{ANYTHING, place, schema_at, schema_below};

/// The most fragments derived from the conditionals at one place.
const MAX_FRAGMENTS: usize = 16;
/// The most variants of one base.
pub(super) const MAX_VARIANTS: usize = 64;
/// The most declared properties added beside a fragment, one at a time.
const MAX_PROPERTIES: usize = 8;
/// The most local values drawn from branches.
const MAX_BRANCH_LOCALS: usize = 64;
/// How deep `allOf` members are searched for conditionals.
const MAX_DEPTH: usize = 2;

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
        let (Some(a), b) = (object_at(accepts, prefix), object_at(rejects, prefix)) else {
            continue;
        };
        let accepting = conditionals(a, accepts, 0);
        let rejecting = b.map(|b| conditionals(b, rejects, 0)).unwrap_or_default();
        let ifs: Vec<&Value> = accepting
            .iter()
            .chain(&rejecting)
            .filter_map(|s| s.get("if"))
            .collect();
        if ifs.is_empty() {
            continue;
        }
        // What to add beside a fragment: an example of each branch of the accepting
        // side (its required properties), or of one of its declared properties.
        let branches = accepting
            .iter()
            .flat_map(|c| ["then", "else"].into_iter().filter_map(|k| c.get(k)))
            .filter_map(|s| example(s, accepts))
            .filter_map(|v| v.as_object().cloned());
        let properties = a
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .take(MAX_PROPERTIES)
            .filter_map(|(name, s)| {
                example(s, accepts).map(|v| Map::from_iter([(name.clone(), v)]))
            });
        let extras: Vec<Map<String, Value>> = branches.chain(properties).collect();
        for fragment in fragments(&ifs, a, accepts) {
            let with = |extra: Option<&Map<String, Value>>| {
                let mut m = extra.cloned().unwrap_or_default();
                m.extend(fragment.clone());
                place(base, prefix, Local::Merge(m), accepts)
            };
            out.extend(with(None));
            for e in &extras {
                out.extend(with(Some(e)));
            }
            if out.len() >= MAX_VARIANTS {
                out.truncate(MAX_VARIANTS);
                return out;
            }
        }
    }
    out
}

/// The schema object that applies at `path` in `root` (after `$ref`s), if any.
fn object_at<'v>(root: &'v Value, path: &[String]) -> Option<&'v Map<String, Value>> {
    schema_at(root, path)
        .and_then(|s| deref(s, root, 0))
        .and_then(Value::as_object)
}

/// Local values for a change inside a branch of a conditional at `path` or above it
/// (a branch change has the instance path of its place in the instance, while the
/// branch that changed is not where [`schema_at`] looks): each branch's subschema
/// for the rest of the path, on either side, against what the other side declares at
/// the path outside its conditionals.
pub(super) fn branch_locals(accepts: &Value, rejects: &Value, path: &[String]) -> Vec<Local> {
    let plain_accepts = schema_at(accepts, path).unwrap_or(&ANYTHING);
    let plain_rejects = schema_at(rejects, path).unwrap_or(&ANYTHING);
    let mut out = Vec::new();
    for depth in (0..=path.len()).rev() {
        let (prefix, rest) = path.split_at(depth);
        for accepting in [true, false] {
            let root = if accepting { accepts } else { rejects };
            let Some(s) = object_at(root, prefix) else {
                continue;
            };
            for c in conditionals(s, root, 0) {
                for key in ["then", "else"] {
                    let Some(sub) = c.get(key).and_then(|b| schema_below(b, root, rest)) else {
                        continue;
                    };
                    let (a, b) = if accepting {
                        (sub, plain_rejects)
                    } else {
                        (plain_accepts, sub)
                    };
                    out.extend(candidates::local_values(
                        None,
                        &[],
                        Side {
                            local: a,
                            root: accepts,
                        },
                        Side {
                            local: b,
                            root: rejects,
                        },
                    ));
                    if out.len() >= MAX_BRANCH_LOCALS {
                        out.truncate(MAX_BRANCH_LOCALS);
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// The schema object `s` and its `allOf` members (nested up to [`MAX_DEPTH`]) that hold
/// an `if`: every one applies to the same instance.
fn conditionals<'v>(
    s: &'v Map<String, Value>,
    root: &'v Value,
    depth: usize,
) -> Vec<&'v Map<String, Value>> {
    let mut out = Vec::new();
    if s.contains_key("if") {
        out.push(s);
    }
    if depth < MAX_DEPTH {
        for m in s
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(m) = deref(m, root, 0).and_then(Value::as_object) {
                out.extend(conditionals(m, root, depth + 1));
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
    let mut names: Vec<&String> = ifs
        .iter()
        .filter_map(|c| c.get("properties").and_then(Value::as_object))
        .flat_map(|p| p.keys())
        .collect();
    names.sort();
    names.dedup();
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
