//! Walks every case in `tests/fixtures/compat/`: one JSON file per case with the old
//! and new schema, the mode and policy (BACKWARD and strict when absent), the expected
//! verdict, rule ids that must be reported (and, under `absent`, ids that must not be), and optionally the required bump and
//! whether a witness must be given (`"witness": true`, BACKWARD; `"witnesses":
//! {"backward": true, "forward": true}`, per direction).

use std::path::Path;

use accord::compat;
use accord::domain::{Direction, Mode, Policy};
use accord::schema::{NoResolver, ParseOptions, Schema};
use serde_json::Value;

fn schema(v: &Value) -> Schema {
    Schema::from_value(v.clone(), &ParseOptions::default(), &NoResolver)
        .expect("fixture schemas are valid")
}

#[test]
fn every_compatibility_fixture_gives_its_expected_verdict_and_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat");
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture folder exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        count += 1;
        let case: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("readable"))
            .expect("fixture is JSON");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mode: Mode = case
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("BACKWARD")
            .parse()
            .expect("mode");
        let policy: Policy = case
            .get("policy")
            .and_then(Value::as_str)
            .unwrap_or("strict")
            .parse()
            .expect("policy");
        let (old, new) = (schema(&case["old"]), schema(&case["new"]));
        let report = compat::compare(&old, &new, mode, policy).expect("comparison completes");
        let rules: Vec<&str> = report.changes.iter().map(|c| c.rule).collect();
        if report.compatible != case["compatible"].as_bool().expect("compatible is a bool") {
            failures.push(format!(
                "{name}: expected compatible={}, got {} with {rules:?}",
                case["compatible"], report.compatible
            ));
        }
        for rule in case["rules"].as_array().expect("rules is a list") {
            let rule = rule.as_str().expect("rule ids are strings");
            if !rules.contains(&rule) {
                failures.push(format!("{name}: expected rule {rule}, got {rules:?}"));
            }
        }
        for rule in case
            .get("absent")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let rule = rule.as_str().expect("rule ids are strings");
            if rules.contains(&rule) {
                failures.push(format!(
                    "{name}: rule {rule} must not be reported, got {rules:?}"
                ));
            }
        }
        if case["rules"].as_array().is_some_and(|r| r.is_empty())
            && !report.changes.is_empty()
            && case.get("required_bump").is_some_and(|b| b == "none")
        {
            failures.push(format!("{name}: expected no changes, got {rules:?}"));
        }
        if let Some(bump) = case.get("required_bump").and_then(Value::as_str) {
            if report.required_bump.as_str() != bump {
                failures.push(format!(
                    "{name}: expected bump {bump}, got {}",
                    report.required_bump
                ));
            }
        }
        if case.get("witness") == Some(&Value::Bool(true))
            && !report.changes.iter().any(|c| c.witness.is_some())
        {
            failures.push(format!("{name}: expected a witness, got none in {rules:?}"));
        }
        // `"witnesses": {"backward": true, "forward": true}`: some change that breaks
        // that direction carries a witness for it (verified again here).
        for (key, dir) in [
            ("backward", Direction::Backward),
            ("forward", Direction::Forward),
        ] {
            if case.pointer(&format!("/witnesses/{key}")) != Some(&Value::Bool(true)) {
                continue;
            }
            let (accepts, rejects) = match dir {
                Direction::Backward => (&old, &new),
                Direction::Forward => (&new, &old),
            };
            let found = report
                .changes
                .iter()
                .filter(|c| c.breaks.contains(&dir))
                .filter_map(|c| c.witnesses.as_ref()?.get(dir))
                .find(|w| {
                    accepts.validator().unwrap().is_valid(w)
                        && !rejects.validator().unwrap().is_valid(w)
                });
            if found.is_none() {
                failures.push(format!(
                    "{name}: expected a {key} witness, got none in {rules:?}"
                ));
            }
        }
    }
    assert!(
        count >= 40,
        "only {count} fixtures found in {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} fixture failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
