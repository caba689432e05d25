//! Bounded work: hostile shapes finish, or are refused with a clear error, without a
//! stack overflow. (How fast is measured by the criterion benchmarks, not here.)

use accord::compat;
use accord::domain::{Mode, Policy};
use accord::schema::{NoResolver, ParseOptions, Schema, SchemaError};
use serde_json::{Value, json};

fn parse(v: Value) -> Schema {
    Schema::from_value(v, &ParseOptions::default(), &NoResolver).expect("valid schema")
}

#[test]
fn a_schema_nested_ten_thousand_levels_deep_is_refused_cleanly() {
    let text = format!(
        "{}{{}}{}",
        r#"{"properties":{"a":"#.repeat(10_000),
        "}}".repeat(10_000)
    );
    let err = Schema::from_text(&text, &ParseOptions::default(), &NoResolver).unwrap_err();
    assert_eq!(err, SchemaError::TooDeep);
    assert!(err.to_string().contains("deeper than"));
}

#[test]
fn a_ref_cycle_terminates_and_equals_itself() {
    let cyclic = json!({"$ref": "#/definitions/a", "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}});
    let s = parse(cyclic);
    assert!(compat::diff(&s, &s, Policy::Strict).unwrap().is_empty());
    let list =
        json!({"type": "object", "properties": {"v": {"type": "number"}, "next": {"$ref": "#"}}});
    let narrowed =
        json!({"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#"}}});
    let report = compat::compare(
        &parse(list),
        &parse(narrowed),
        Mode::FullTransitive,
        Policy::Strict,
    )
    .unwrap();
    assert!(!report.compatible);
}

#[test]
fn one_of_with_64_members_on_each_side_completes() {
    let members = |extra: u64| -> Vec<Value> {
        (0..64u64)
            .map(|i| json!({"type": "object", "properties": {"kind": {"const": format!("k{i}")}, "n": {"type": "integer", "maximum": 100 + i + extra}}, "required": ["kind"]}))
            .collect()
    };
    let old = parse(json!({ "oneOf": members(0) }));
    let mut reversed = members(1);
    reversed.reverse();
    let new = parse(json!({ "oneOf": reversed }));
    let report = compat::compare(&old, &new, Mode::Backward, Policy::Strict).unwrap();
    assert!(report.changes.iter().any(|c| c.rule == "maximum-increased"));
}

#[test]
fn a_one_megabyte_schema_completes() {
    let props: serde_json::Map<String, Value> = (0..12_000)
        .map(|i| (format!("field_{i:05}"), json!({"type": "string", "maxLength": 64, "description": "a field of a very wide record"})))
        .collect();
    let old = json!({"type": "object", "properties": props});
    assert!(old.to_string().len() > 1_000_000);
    let mut new = old.clone();
    new["properties"]["field_00042"]["maxLength"] = json!(32);
    let report = compat::compare(&parse(old), &parse(new), Mode::Backward, Policy::Strict).unwrap();
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].rule, "max-length-decreased");
    assert_eq!(report.changes[0].instance_path, "/field_00042");
}

/// Issue 10's hostile pair: an `allOf` of `members` × `{"oneOf": [integer ≥ j, string
/// of length ≥ j]}`, against the same with every `minimum` raised by one and the
/// members in reverse order, so every member of one is compared with every member of the
/// other.
fn all_of_one_ofs(members: usize) -> (Schema, Schema) {
    let schema = |raise: usize, reverse: bool| {
        let mut all: Vec<Value> = (0..members)
            .map(|j| {
                json!({"oneOf": [
                    {"type": "integer", "minimum": j + raise},
                    {"type": "string", "minLength": j},
                ]})
            })
            .collect();
        if reverse {
            all.reverse();
        }
        parse(json!({ "allOf": all }))
    };
    (schema(0, false), schema(1, true))
}

/// Issue 10's other hostile schema: an `anyOf` of `members` × `integer ≥ j`, against
/// the same with every bound raised by one, in reverse order.
fn any_of_minimums(members: usize) -> (Schema, Schema) {
    let schema = |raise: usize, reverse: bool| {
        let mut any: Vec<Value> = (0..members)
            .map(|j| json!({"type": "integer", "minimum": j + raise}))
            .collect();
        if reverse {
            any.reverse();
        }
        parse(json!({ "anyOf": any }))
    };
    (schema(0, false), schema(1, true))
}

/// Both hostile pairs narrow what is accepted (integers must be one larger), so the
/// only right verdicts are "incompatible" and "too complex"; when too complex, the
/// error says which budget ran out and where the work went.
fn incompatible_or_too_complex(
    old: &Schema,
    new: &Schema,
    mode: Mode,
) -> Option<compat::Exhausted> {
    match compat::compare(old, new, mode, Policy::Strict) {
        Ok(report) => {
            assert!(!report.compatible, "every bound was raised: {report:?}");
            None
        }
        Err(compat::CompatError::Budget(e)) => {
            let at = e.at.as_ref().expect("names where the work went");
            assert_eq!((at.old_pointer.as_str(), at.new_pointer.as_str()), ("", ""));
            assert!(e.pairs_compared > 0);
            let message = compat::CompatError::Budget(e.clone()).to_string();
            assert!(message.contains("too large or too entangled"), "{message}");
            assert!(message.contains(&e.budget), "{message}");
            Some(*e)
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[test]
fn an_all_of_of_1500_one_ofs_against_its_raised_reverse_is_refused_within_the_budgets() {
    let (old, new) = all_of_one_ofs(1500);
    for mode in [Mode::Backward, Mode::Full] {
        let exhausted = incompatible_or_too_complex(&old, &new, mode)
            .expect("2.25 million member pairs are beyond the budget");
        assert!(
            exhausted.at.as_ref().unwrap().old.contains("1500"),
            "{exhausted:?}"
        );
        // What was found so far is listed, each naming the subschemas it compares.
        assert!(!exhausted.found.is_empty());
        assert!(exhausted.found.len() <= 20);
        assert!(
            exhausted
                .found
                .iter()
                .all(|c| c.old_pointer.is_some() || c.new_pointer.is_some())
        );
    }
}

#[test]
fn an_any_of_of_3000_members_against_its_raised_reverse_is_refused_within_the_budgets() {
    let (old, new) = any_of_minimums(3000);
    for mode in [Mode::Backward, Mode::Forward] {
        incompatible_or_too_complex(&old, &new, mode)
            .expect("nine million member pairs are beyond the budget");
    }
}

#[test]
fn smaller_hostile_pairs_still_get_the_right_verdict() {
    let (old, new) = all_of_one_ofs(60);
    let report = compat::compare(&old, &new, Mode::Backward, Policy::Strict).unwrap();
    assert!(!report.compatible);
    let (old, new) = any_of_minimums(200);
    let report = compat::compare(&old, &new, Mode::Backward, Policy::Strict).unwrap();
    assert!(!report.compatible);
    // Read the other way (every bound lowered), both widen: compatible.
    let report = compat::compare(&new, &old, Mode::Backward, Policy::Strict).unwrap();
    assert!(report.compatible, "{:?}", report.changes);
}
