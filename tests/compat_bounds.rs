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
    let text = format!("{}{{}}{}", r#"{"properties":{"a":"#.repeat(10_000), "}}".repeat(10_000));
    let err = Schema::from_text(&text, &ParseOptions::default(), &NoResolver).unwrap_err();
    assert_eq!(err, SchemaError::TooDeep);
    assert!(err.to_string().contains("deeper than"));
}

#[test]
fn a_ref_cycle_terminates_and_equals_itself() {
    let cyclic = json!({"$ref": "#/definitions/a", "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}});
    let s = parse(cyclic);
    assert!(compat::diff(&s, &s, Policy::Strict).unwrap().is_empty());
    let list = json!({"type": "object", "properties": {"v": {"type": "number"}, "next": {"$ref": "#"}}});
    let narrowed = json!({"type": "object", "properties": {"v": {"type": "integer"}, "next": {"$ref": "#"}}});
    let report = compat::compare(&parse(list), &parse(narrowed), Mode::FullTransitive, Policy::Strict).unwrap();
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
