//! Laws of the engine, checked on generated schemas:
//! - soundness: when a change is BACKWARD compatible under strict, no generated instance
//!   valid under the old schema is invalid under the new one; and for conditionals
//!   (changed `if`, branches, added or removed), the same in both directions over
//!   every small instance the conditions tell apart;
//! - `diff(a, a)` is empty;
//! - the BACKWARD verdict of (a, b) equals the FORWARD verdict of (b, a);
//! - canonicalisation is idempotent and ignores key order;
//! - no JSON value given as a schema makes the engine panic.

use accord::compat;
use accord::domain::{Direction, Mode, Policy};
use accord::schema::{Draft, NoResolver, ParseOptions, Schema, canonical_text};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn parse(v: &Value) -> Option<Schema> {
    Schema::from_value(v.clone(), &ParseOptions::default(), &NoResolver).ok()
}

const KEYS: [&str; 3] = ["a", "b", "c"];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(true)),
        Just(json!(false)),
        Just(json!({})),
        prop::sample::select(vec![
            "null", "boolean", "integer", "number", "string", "object", "array"
        ])
        .prop_map(|t| json!({ "type": t })),
        prop::collection::vec(
            prop::sample::select(vec!["null", "integer", "number", "string"]),
            1..3
        )
        .prop_map(|t| json!({ "type": t })),
        (0u64..3, prop::option::of(0u64..4)).prop_map(|(min, max)| {
            let mut o = json!({"type": "string", "minLength": min});
            if let Some(m) = max {
                o["maxLength"] = json!(min + m);
            }
            o
        }),
        (-2i64..3, prop::option::of(0i64..4), any::<bool>()).prop_map(|(min, span, int)| {
            let mut o = json!({"type": if int { "integer" } else { "number" }, "minimum": min});
            if let Some(s) = span {
                o["exclusiveMaximum"] = json!(min + s);
            }
            o
        }),
        prop::sample::select(vec![1.0, 0.5, 2.0, 3.0])
            .prop_map(|m| json!({"type": "number", "multipleOf": m})),
        prop::collection::vec(
            prop::sample::select(vec![
                json!(1),
                json!("a"),
                json!(null),
                json!(2.5),
                json!("b")
            ]),
            1..4
        )
        .prop_map(|v| json!({ "enum": v })),
        prop::sample::select(vec![json!(1), json!("a"), json!(true)])
            .prop_map(|v| json!({ "const": v })),
        prop::sample::select(vec![
            "^a", "a", "^a+$", "b|a", "^(ab|b)", "[ab]c?", ".*", "^$"
        ])
        .prop_map(|p| json!({"type": "string", "pattern": p})),
        Just(json!({"type": "string", "format": "date"})),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (
                prop::collection::btree_map(
                    prop::sample::select(KEYS.to_vec()),
                    inner.clone(),
                    0..3
                ),
                prop::collection::vec(prop::sample::select(KEYS.to_vec()), 0..3),
                prop::option::of(prop_oneof![
                    Just(json!(false)),
                    Just(json!(true)),
                    inner.clone()
                ]),
                any::<bool>(),
            )
                .prop_map(|(props, required, additional, typed)| {
                    let mut o = Map::new();
                    if typed {
                        o.insert("type".into(), json!("object"));
                    }
                    o.insert(
                        "properties".into(),
                        Value::Object(props.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
                    );
                    let mut req: Vec<&str> = required;
                    req.sort();
                    req.dedup();
                    if !req.is_empty() {
                        o.insert("required".into(), json!(req));
                    }
                    if let Some(a) = additional {
                        o.insert("additionalProperties".into(), a);
                    }
                    Value::Object(o)
                }),
            (
                inner.clone(),
                prop::option::of(0u64..3),
                prop::option::of(1u64..4),
                any::<bool>()
            )
                .prop_map(|(items, min, max, unique)| {
                    let mut o = json!({"type": "array", "items": items});
                    if let Some(m) = min {
                        o["minItems"] = json!(m);
                    }
                    if let Some(m) = max {
                        o["maxItems"] = json!(m + min.unwrap_or(0));
                    }
                    if unique {
                        o["uniqueItems"] = json!(true);
                    }
                    o
                }),
            (prop::collection::vec(inner.clone(), 1..3), inner.clone()).prop_map(
                |(prefix, rest)| json!({"type": "array", "items": prefix, "additionalItems": rest})
            ),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({ "anyOf": v })),
            prop::collection::vec(inner.clone(), 1..4).prop_map(|v| json!({ "oneOf": v })),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({ "allOf": v })),
            inner.clone().prop_map(|v| json!({ "not": v })),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(i, t, e)| json!({"if": i, "then": t, "else": e})),
            (inner.clone(), prop::sample::select(KEYS.to_vec())).prop_map(
                |(p, k)| json!({"type": "object", "patternProperties": { format!("^{k}"): p }})
            ),
            (inner.clone(), inner).prop_map(
                |(a, b)| json!({"type": ["string", "null"], "maxLength": 2, "anyOf": [a, b]})
            ),
        ]
    })
}

/// A schema and a small edit of it (edits make compatible pairs common).
fn schema_pair() -> impl Strategy<Value = (Value, Value)> {
    (schema(), schema(), any::<u32>(), 0usize..9).prop_map(|(a, other, seed, edit)| {
        let b = mutate(&a, &other, seed, edit);
        (a, b)
    })
}

fn mutate(v: &Value, other: &Value, seed: u32, edit: usize) -> Value {
    let mut out = v.clone();
    // Walk down to a random object node and edit it.
    let mut node = &mut out;
    let mut s = seed;
    loop {
        let next_key = match node {
            Value::Object(o) if !o.is_empty() && s % 3 != 0 => {
                let keys: Vec<String> = o.keys().cloned().collect();
                let k = keys[(s as usize / 3) % keys.len()].clone();
                if o[&k].is_object() || o[&k].is_array() {
                    Some(k)
                } else {
                    None
                }
            }
            _ => None,
        };
        s /= 7;
        match next_key {
            Some(k) => {
                let is_array = node[&k].as_array().is_some_and(|a| !a.is_empty());
                let child = node.get_mut(&k).expect("key exists");
                node = if is_array {
                    let len = child.as_array().map_or(1, Vec::len);
                    &mut child[(s as usize) % len]
                } else {
                    child
                };
            }
            None => break,
        }
        if s == 0 {
            break;
        }
    }
    match (edit, node) {
        (0, Value::Object(o)) if !o.is_empty() => {
            let k = o
                .keys()
                .nth((seed as usize) % o.len())
                .cloned()
                .expect("non-empty");
            o.remove(&k);
        }
        (1, node) => *node = other.clone(),
        (2, Value::Object(o)) => {
            for v in o.values_mut() {
                if let Some(n) = v.as_i64() {
                    *v = json!(n + 1);
                    break;
                }
            }
        }
        (3, Value::Object(o)) => {
            o.insert("additionalProperties".into(), json!(false));
        }
        (4, Value::Object(o)) => {
            if let Some(Value::Array(e)) = o.get_mut("enum") {
                e.push(json!("z"));
            } else if let Some(Value::Array(r)) = o.get_mut("required") {
                r.pop();
            }
        }
        (5, node) => *node = json!({ "anyOf": [node.clone(), other.clone()] }),
        (6, node) => *node = json!({ "allOf": [node.clone(), other.clone()] }),
        (7, node) => *node = json!(true),
        _ => {}
    }
    if &out == v {
        // The edit did not apply here: fall back to edits that always change something.
        return match seed % 3 {
            0 => json!({ "anyOf": [v.clone(), other.clone()] }),
            1 => other.clone(),
            _ => match v {
                Value::Object(o) if !o.is_empty() => {
                    let mut o = o.clone();
                    let k = o
                        .keys()
                        .nth((seed as usize / 3) % o.len())
                        .cloned()
                        .expect("non-empty");
                    o.remove(&k);
                    Value::Object(o)
                }
                _ => json!({ "not": other.clone() }),
            },
        };
    }
    out
}

fn instance() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(Value::from),
        (-3i64..4).prop_map(Value::from),
        prop::sample::select(vec![0.5, 2.5, -1.5, 3.0]).prop_map(Value::from),
        prop::sample::select(vec!["", "a", "ab", "abc", "b", "2024-01-01", "z"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "b", "c", "d"]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// A small regular expression over `a`, `b`, `c` and digits (ECMA-262 syntax that is also
/// a regular language), anchored or not.
fn regex() -> impl Strategy<Value = String> {
    let atom = prop::sample::select(vec!["a", "b", "c", "[ab]", "[^a]", ".", "\\d", "1"])
        .prop_map(str::to_owned);
    let body = atom.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("{x}{y}")),
            (inner.clone(), inner.clone()).prop_map(|(x, y)| format!("(?:{x}|{y})")),
            inner.clone().prop_map(|x| format!("(?:{x})*")),
            inner.clone().prop_map(|x| format!("(?:{x})?")),
            inner.prop_map(|x| format!("(?:{x}){{1,2}}")),
        ]
    });
    (any::<bool>(), body, any::<bool>()).prop_map(|(start, b, end)| {
        format!(
            "{}{b}{}",
            if start { "^" } else { "" },
            if end { "$" } else { "" }
        )
    })
}

/// Two spellings of one language: pieces each rewritten one of four ways (alternation
/// reordered, a redundant group, a class as an alternation, a counted repetition
/// spelled out), joined, anchored or not.
fn equivalent_patterns() -> impl Strategy<Value = (String, String)> {
    let atom = prop::sample::select(vec!["a", "b", "c", "[0-9]", "\\d", ".", "(?:ab)"]);
    let letter = prop::sample::select(vec!['a', 'b', 'c', '0']);
    let piece = prop_oneof![
        (atom.clone(), atom.clone())
            .prop_map(|(x, y)| (format!("(?:{x}|{y})"), format!("(?:{y}|{x})"))),
        atom.clone().prop_map(|x| (format!("({x})"), x.to_owned())),
        (letter.clone(), letter).prop_map(|(x, y)| (format!("[{x}{y}]"), format!("(?:{x}|{y})"))),
        atom.prop_map(|x| (format!("{x}{{2}}"), format!("{x}{x}"))),
    ];
    (
        prop::collection::vec(piece, 1..4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(pieces, start, end)| {
            let (l, r): (Vec<String>, Vec<String>) = pieces.into_iter().unzip();
            let (s, e) = (if start { "^" } else { "" }, if end { "$" } else { "" });
            (
                format!("{s}{}{e}", l.concat()),
                format!("{s}{}{e}", r.concat()),
            )
        })
}

/// A string over the letters the generated patterns use, with a digit, an Arabic-Indic
/// digit (not ECMA-262's `\d`) and a line terminator (not ECMA-262's `.`).
fn short_string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "c", "1", "\u{661}", "\r", "\n"]),
        0..6,
    )
    .prop_map(|parts| parts.concat())
}

fn string_schema(pattern: &str) -> Value {
    json!({"type": "object", "properties": {"s": {"type": "string", "pattern": pattern}}})
}

fn validator(s: &Schema) -> jsonschema::Validator {
    s.validator_options()
        .should_validate_formats(true)
        .build(s.value())
        .expect("parsed schemas compile")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(400)))]

    #[test]
    fn a_backward_compatible_change_accepts_every_instance_the_old_schema_accepted(
        (a, b) in schema_pair(),
        instances in prop::collection::vec(instance(), 48),
    ) {
        let (Some(old), Some(new)) = (parse(&a), parse(&b)) else { return Ok(()) };
        let report = compat::compare(&old, &new, Mode::Backward, Policy::Strict).expect("completes");
        if report.compatible {
            let (ov, nv) = (validator(&old), validator(&new));
            for i in &instances {
                if ov.is_valid(i) {
                    prop_assert!(nv.is_valid(i), "unsound: {i} valid under {a} but not under {b}; changes {:?}", report.changes.iter().map(|c| c.rule).collect::<Vec<_>>());
                }
            }
        }
    }

    #[test]
    fn every_witness_shown_is_accepted_and_rejected_as_its_direction_says(
        (a, b) in schema_pair(),
        lenient in any::<bool>(),
    ) {
        let (Some(old), Some(new)) = (parse(&a), parse(&b)) else { return Ok(()) };
        let policy = if lenient { Policy::Lenient } else { Policy::Strict };
        let report = compat::compare(&old, &new, Mode::Full, policy).expect("completes");
        let (ov, nv) = (validator(&old), validator(&new));
        for c in &report.changes {
            if let Some(w) = &c.witness {
                prop_assert!(ov.is_valid(w) && !nv.is_valid(w), "bad backward witness {w} for {}", c.rule);
            }
            let Some(ws) = &c.witnesses else {
                prop_assert!(c.breaks.is_empty(), "{} breaks {:?} but says nothing of witnesses", c.rule, c.breaks);
                continue;
            };
            prop_assert_eq!(c.witness.as_ref(), ws.get(Direction::Backward));
            if let Some(w) = ws.get(Direction::Forward) {
                prop_assert!(nv.is_valid(w) && !ov.is_valid(w), "bad forward witness {w} for {}", c.rule);
            }
            for d in [Direction::Backward, Direction::Forward] {
                let asked = match d { Direction::Backward => &ws.backward, Direction::Forward => &ws.forward };
                // A direction the change breaks has a witness or a reason; one it does not
                // break has neither.
                prop_assert_eq!(asked.is_some(), c.breaks.contains(&d));
                if asked.as_ref().is_some_and(Option::is_none) {
                    prop_assert!(ws.missing.is_some(), "{}: no {d:?} witness and no reason", c.rule);
                }
            }
        }
    }

    #[test]
    fn a_pattern_rewritten_to_an_equivalent_one_breaks_nothing((p, q) in equivalent_patterns()) {
        let (Some(old), Some(new)) = (parse(&string_schema(&p)), parse(&string_schema(&q))) else {
            return Ok(());
        };
        for (x, y) in [(&old, &new), (&new, &old)] {
            let report = compat::compare(x, y, Mode::Full, Policy::Strict).expect("completes");
            let broken: Vec<_> = report.changes.iter().filter(|c| !c.breaks.is_empty()).map(|c| (c.rule, &c.message)).collect();
            prop_assert!(report.compatible && broken.is_empty(), "{p} vs {q}: {broken:?}");
        }
    }

    #[test]
    fn a_pattern_change_judged_safe_keeps_every_string_valid(
        p in regex(),
        q in regex(),
        strings in prop::collection::vec(short_string(), 64),
    ) {
        let (Some(old), Some(new)) = (parse(&string_schema(&p)), parse(&string_schema(&q))) else {
            return Ok(());
        };
        let (ov, nv) = (validator(&old), validator(&new));
        for mode in [Mode::Backward, Mode::Forward] {
            let report = compat::compare(&old, &new, mode, Policy::Strict).expect("completes");
            if !report.compatible {
                continue;
            }
            for s in &strings {
                let doc = json!({ "s": s });
                let (before, after) = (ov.is_valid(&doc), nv.is_valid(&doc));
                match mode {
                    Mode::Backward => prop_assert!(!before || after, "unsound BACKWARD: {s:?} matches {p} but not {q}"),
                    _ => prop_assert!(!after || before, "unsound FORWARD: {s:?} matches {q} but not {p}"),
                }
            }
        }
    }

    #[test]
    fn a_schema_has_no_changes_against_itself(a in schema()) {
        let Some(s) = parse(&a) else { return Ok(()) };
        let changes = compat::diff(&s, &s, Policy::Strict).expect("completes");
        prop_assert!(changes.is_empty(), "{a} against itself: {changes:?}");
        let copy = parse(&a).expect("parses twice");
        prop_assert!(compat::diff(&s, &copy, Policy::Strict).expect("completes").is_empty());
    }

    #[test]
    fn backward_of_a_b_equals_forward_of_b_a((a, b) in schema_pair(), lenient in any::<bool>()) {
        let (Some(x), Some(y)) = (parse(&a), parse(&b)) else { return Ok(()) };
        let policy = if lenient { Policy::Lenient } else { Policy::Strict };
        let backward = compat::compare(&x, &y, Mode::Backward, policy).expect("completes").compatible;
        let forward = compat::compare(&y, &x, Mode::Forward, policy).expect("completes").compatible;
        prop_assert_eq!(backward, forward);
    }

    #[test]
    fn a_conditional_change_judged_safe_keeps_every_instance_valid(
        (a, b) in conditional_pair(),
    ) {
        let (Some(old), Some(new)) = (parse(&a), parse(&b)) else { return Ok(()) };
        let (ov, nv) = (validator(&old), validator(&new));
        for (mode, from, to) in [(Mode::Backward, &ov, &nv), (Mode::Forward, &nv, &ov)] {
            // Strict only: lenient deliberately accepts properties added to open
            // models, which these branches do.
            let report = compat::compare(&old, &new, mode, Policy::Strict).expect("completes");
            if report.compatible {
                for i in conditional_instances() {
                    prop_assert!(
                        !from.is_valid(&i) || to.is_valid(&i),
                        "unsound {mode:?}: {i} separates {a} and {b}; changes {:?}",
                        report.changes.iter().map(|c| c.rule).collect::<Vec<_>>()
                    );
                }
            }
        }
    }

    #[test]
    fn canonicalisation_is_idempotent_and_ignores_key_order(a in schema()) {
        let once = canonical_text(&a, Draft::Draft7);
        let reparsed: Value = serde_json::from_str(&once).expect("canonical text is JSON");
        prop_assert_eq!(&canonical_text(&reparsed, Draft::Draft7), &once);
        let reversed = reversed_text(&a);
        let from_reversed: Value = serde_json::from_str(&reversed).expect("JSON");
        prop_assert_eq!(canonical_text(&from_reversed, Draft::Draft7), once);
    }

    #[test]
    fn no_json_value_makes_the_engine_panic(a in any_json(), b in any_json()) {
        if let (Some(x), Some(y)) = (parse(&a), parse(&b)) {
            for mode in Mode::ALL {
                let _ = compat::compare(&x, &y, mode, Policy::Strict);
            }
        }
    }
}

/// An `if` on the property `k`: a value or a type, with `k` required or not.
fn condition() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            json!({"const": 1}),
            json!({"const": 2}),
            json!({"enum": [1, 2]}),
            json!({"type": "integer"}),
            json!({"type": "string"}),
            json!({"minimum": 2}),
        ]),
        any::<bool>(),
    )
        .prop_map(|(k, required)| {
            let mut c = json!({"properties": {"k": k}});
            if required {
                c["required"] = json!(["k"]);
            }
            c
        })
}

/// A `then` or `else` (absent when `None`) constraining `a` and `b`.
fn branch() -> impl Strategy<Value = Option<Value>> {
    prop::option::of(prop::sample::select(vec![
        json!(true),
        json!(false),
        json!({"required": ["a"]}),
        json!({"required": ["b"]}),
        json!({"properties": {"a": {"type": "string"}}}),
        json!({"properties": {"a": {"type": "string", "maxLength": 1}}}),
        json!({"properties": {"a": {"pattern": "^a"}}}),
        json!({"properties": {"a": {"type": "integer"}}, "required": ["a"]}),
        json!({"type": "object", "properties": {"b": {"const": true}}}),
    ]))
}

/// A schema with a conditional, and sometimes object keywords beside it.
fn conditional_schema() -> impl Strategy<Value = Value> {
    (condition(), branch(), branch(), 0u8..3).prop_map(|(c, t, e, outer)| {
        let mut s = match outer {
            0 => json!({}),
            1 => json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            _ => json!({"properties": {"a": {"maxLength": 2}}, "required": ["k"]}),
        };
        s["if"] = c;
        if let Some(t) = t {
            s["then"] = t;
        }
        if let Some(e) = e {
            s["else"] = e;
        }
        s
    })
}

/// Two conditional schemas: unrelated, sharing the `if`, sharing the branches, or
/// one of them without its conditional (added or removed); both laid out the same way
/// (see [`layout`]).
fn conditional_pair() -> impl Strategy<Value = (Value, Value)> {
    (conditional_schema(), conditional_schema(), 0u8..6, 0u8..3).prop_map(|(a, b, how, form)| {
        let (a, b) = edit_conditional(a, b, how);
        (layout(&a, form), layout(&b, form))
    })
}

/// The conditional of a flat schema as written (0), as the one member of an `allOf`
/// beside the other keywords (1), or in `$defs`, used both beside them through `$ref`
/// and under the property `p` (2; draft 2020-12, where `$ref` has siblings).
fn layout(flat: &Value, form: u8) -> Value {
    let mut rest = flat.as_object().cloned().unwrap_or_default();
    let mut cond = Map::new();
    for k in ["if", "then", "else"] {
        if let Some(v) = rest.remove(k) {
            cond.insert(k.to_owned(), v);
        }
    }
    match form {
        0 => return flat.clone(),
        1 => {
            if !cond.is_empty() {
                rest.insert("allOf".into(), json!([cond]));
            }
        }
        _ => {
            rest.insert(
                "$schema".into(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
            rest.insert("$defs".into(), json!({ "c": cond }));
            rest.insert("$ref".into(), json!("#/$defs/c"));
            let props = rest.entry("properties").or_insert_with(|| json!({}));
            if let Value::Object(p) = props {
                p.insert("p".into(), json!({"$ref": "#/$defs/c"}));
            }
        }
    }
    Value::Object(rest)
}

/// `b`, or `b` made to share a part of `a` (see [`conditional_pair`]).
fn edit_conditional(a: Value, mut b: Value, how: u8) -> (Value, Value) {
    let drop = |v: &Value| {
        let mut v = v.clone();
        if let Value::Object(o) = &mut v {
            for k in ["if", "then", "else"] {
                o.remove(k);
            }
        }
        v
    };
    match how {
        0 => (a, b),
        1 => {
            b["if"] = a["if"].clone();
            (a, b)
        }
        2 => {
            for k in ["then", "else"] {
                match a.get(k) {
                    Some(v) => b[k] = v.clone(),
                    None => {
                        b.as_object_mut().map(|o| o.remove(k));
                    }
                }
            }
            (a, b)
        }
        3 => {
            let without = drop(&a);
            (without, a)
        }
        4 => {
            let without = drop(&a);
            (a, without)
        }
        _ => {
            let mut c = a.clone();
            c["if"] = b["if"].clone();
            (a, c)
        }
    }
}

/// Every object over `k`, `a`, `b` and `p` with a few values each, and some non-objects.
fn conditional_instances() -> Vec<Value> {
    let ks = [
        None,
        Some(json!(1)),
        Some(json!(2)),
        Some(json!(3)),
        Some(json!("x")),
    ];
    let as_ = [
        None,
        Some(json!("a")),
        Some(json!("ab")),
        Some(json!("b")),
        Some(json!("abc")),
        Some(json!(1)),
    ];
    let bs = [None, Some(json!(true)), Some(json!(false))];
    let ps = [
        None,
        Some(json!({"k": 1, "a": 1})),
        Some(json!({"k": 2})),
        Some(json!({"a": "ab"})),
    ];
    let mut out = vec![json!(null), json!("a"), json!(1), json!([])];
    for (k, a, b, p) in ks
        .iter()
        .flat_map(|k| as_.iter().map(move |a| (k, a)))
        .flat_map(|(k, a)| bs.iter().map(move |b| (k, a, b)))
        .flat_map(|(k, a, b)| ps.iter().map(move |p| (k, a, b, p)))
    {
        let mut o = Map::new();
        for (name, v) in [("k", k), ("a", a), ("b", b), ("p", p)] {
            if let Some(v) = v {
                o.insert(name.to_owned(), v.clone());
            }
        }
        out.push(Value::Object(o));
    }
    out
}

/// JSON text with every object's keys written in reverse order.
fn reversed_text(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed_text(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(reversed_text).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// Arbitrary JSON biased towards schema keywords with values of any type.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,6}".prop_map(Value::from),
        Just(json!("#")),
        Just(json!("#/definitions/x")),
    ];
    let keys = vec![
        "type",
        "properties",
        "items",
        "prefixItems",
        "additionalItems",
        "additionalProperties",
        "required",
        "enum",
        "const",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "$ref",
        "definitions",
        "minimum",
        "exclusiveMinimum",
        "multipleOf",
        "minLength",
        "pattern",
        "dependencies",
        "patternProperties",
        "contains",
        "x",
        "$schema",
        "format",
        "uniqueItems",
    ];
    leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(prop::sample::select(keys.clone()), inner, 0..5).prop_map(
                |m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
        ]
    })
}
