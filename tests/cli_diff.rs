//! `accord diff` end to end: exit codes, the JSON contract, `--ref`, and colour.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

fn accord(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("accord runs")
}

fn write(dir: &Path, name: &str, v: &Value) {
    std::fs::write(dir.join(name), v.to_string()).unwrap();
}

#[test]
fn a_compatible_change_exits_0_and_a_breaking_one_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "old.json",
        &json!({"type": "object", "properties": {"status": {"enum": ["new", "paid", "shipped"]}}}),
    );
    write(
        dir.path(),
        "wider.json",
        &json!({"type": "object", "properties": {"status": {"enum": ["new", "paid", "shipped", "lost"]}}}),
    );
    write(
        dir.path(),
        "narrower.json",
        &json!({"type": "object", "properties": {"status": {"enum": ["new", "paid"]}}}),
    );
    assert_eq!(
        accord(&["diff", "old.json", "wider.json"], dir.path())
            .status
            .code(),
        Some(0)
    );
    let out = accord(&["diff", "old.json", "narrower.json"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("enum-value-removed") && text.contains("\"shipped\""),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "NO_COLOR output has escape codes: {text:?}"
    );
    // FORWARD flips the verdicts.
    assert_eq!(
        accord(
            &["diff", "old.json", "wider.json", "--mode", "FORWARD"],
            dir.path()
        )
        .status
        .code(),
        Some(1)
    );
}

#[test]
fn the_json_report_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "old.json",
        &json!({"type": "object", "properties": {"qty": {"type": "integer", "minimum": 1}}, "required": ["qty"]}),
    );
    write(
        dir.path(),
        "new.json",
        &json!({"type": "object", "properties": {"qty": {"type": "integer", "minimum": 5}}, "required": ["qty"]}),
    );
    let out = accord(
        &[
            "diff", "old.json", "new.json", "--format", "json", "--policy", "lenient",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(report["compatible"], json!(false));
    assert_eq!(report["mode"], json!("BACKWARD"));
    assert_eq!(report["policy"], json!("lenient"));
    assert_eq!(report["required_bump"], json!("major"));
    let change = &report["changes"][0];
    assert_eq!(change["rule"], json!("minimum-increased"));
    assert_eq!(change["breaks"], json!(["backward"]));
    assert_eq!(change["old_pointer"], json!("/properties/qty/minimum"));
    assert_eq!(change["new_pointer"], json!("/properties/qty/minimum"));
    assert_eq!(change["instance_path"], json!("/qty"));
    assert_eq!(
        (change["old"].clone(), change["new"].clone()),
        (json!(1), json!(5))
    );
    assert!(change["message"].as_str().is_some_and(|m| !m.is_empty()));
    let w = change["witness"]["qty"]
        .as_i64()
        .expect("a witness with qty");
    assert!(
        (1..5).contains(&w),
        "witness {w} is valid before and rejected after"
    );
}

#[test]
fn a_forward_break_shows_its_witness_and_a_change_without_one_says_why() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "old.json",
        &json!({"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 1}, "note": {"properties": {}}}}),
    );
    write(
        dir.path(),
        "new.json",
        &json!({"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 0}, "note": {}}}),
    );
    let out = accord(
        &[
            "diff", "old.json", "new.json", "--mode", "FULL", "--format", "json",
        ],
        dir.path(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let changes = report["changes"].as_array().expect("changes");
    let lowered = changes
        .iter()
        .find(|c| c["rule"] == "minimum-decreased")
        .expect("minimum-decreased reported");
    // Breaks FORWARD only: a forward witness, no backward one, and `witness` left out.
    assert_eq!(lowered["witnesses"]["forward"], json!({"qty": 0}));
    assert!(lowered["witnesses"].get("backward").is_none());
    assert!(lowered.get("witness").is_none());
    // `properties: {}` removed accepts exactly what it did: no instance can show the
    // break the rule table claims, so the change says so instead of staying silent.
    let removed = changes
        .iter()
        .find(|c| c["rule"] == "schema-removed")
        .expect("schema-removed reported");
    assert_eq!(removed["witnesses"]["forward"], Value::Null);
    assert!(
        removed["witnesses"]["missing"]
            .as_str()
            .is_some_and(|m| m.starts_with("forward: ")),
        "{removed}"
    );

    let text = accord(
        &["diff", "old.json", "new.json", "--mode", "FULL"],
        dir.path(),
    );
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(r#"forward witness (valid now, rejected by the old schema): {"qty":0}"#),
        "{text}"
    );
    assert!(text.contains("no witness: forward: "), "{text}");
}

#[test]
fn references_to_other_documents_come_only_from_ref_flags() {
    let dir = tempfile::tempdir().unwrap();
    let schema = json!({"type": "object", "properties": {"price": {"$ref": "https://schemas.example.com/money.json"}}});
    write(dir.path(), "a.json", &schema);
    write(dir.path(), "money-v1.json", &json!({"type": "number"}));
    write(dir.path(), "money-v2.json", &json!({"type": "integer"}));
    let out = accord(&["diff", "a.json", "a.json"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(3),
        "an unresolvable $ref is a load error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("unresolvable $ref"));
    let ok = accord(
        &[
            "diff",
            "a.json",
            "a.json",
            "--ref",
            "https://schemas.example.com/money.json=money-v1.json",
        ],
        dir.path(),
    );
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn usage_and_load_errors_have_their_own_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.json", &json!({"type": "string"}));
    std::fs::write(dir.path().join("broken.json"), "{ not json").unwrap();
    write(
        dir.path(),
        "invalid.json",
        &json!({"type": "string", "minLength": -1}),
    );
    assert_eq!(
        accord(&["diff", "ok.json"], dir.path()).status.code(),
        Some(2)
    );
    assert_eq!(
        accord(
            &["diff", "ok.json", "ok.json", "--mode", "SIDEWAYS"],
            dir.path()
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        accord(&["diff", "ok.json", "missing.json"], dir.path())
            .status
            .code(),
        Some(3)
    );
    let broken = accord(&["diff", "ok.json", "broken.json"], dir.path());
    assert_eq!(broken.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("broken.json"));
    let invalid = accord(&["diff", "ok.json", "invalid.json"], dir.path());
    assert_eq!(invalid.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&invalid.stderr).contains("/minLength"),
        "{}",
        String::from_utf8_lossy(&invalid.stderr)
    );
}

/// The binary sizes mimalloc's first arena and its largest arena object before the
/// runtime starts (src/main.rs), and keeps what the environment says instead. Read
/// from mimalloc's own report of its options (`MIMALLOC_VERBOSE=1`).
#[cfg(target_os = "linux")]
#[test]
fn the_allocator_is_tuned_before_main_unless_the_environment_says_otherwise() {
    let options = |env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_accord"))
            .arg("--version")
            .env("MIMALLOC_VERBOSE", "1")
            .envs(env.iter().copied())
            .output()
            .expect("accord runs");
        assert!(out.status.success());
        String::from_utf8(out.stderr).unwrap()
    };
    let tuned = options(&[]);
    assert!(
        tuned.contains("option 'arena_reserve': 65536 KiB"),
        "{tuned}"
    );
    assert!(
        tuned.contains("option 'arena_max_object_size': 512 KiB"),
        "{tuned}"
    );
    let chosen = options(&[
        ("MIMALLOC_ARENA_RESERVE", "256MiB"),
        ("MIMALLOC_ARENA_MAX_OBJECT_SIZE", "8MiB"),
    ]);
    assert!(
        chosen.contains("option 'arena_reserve': 262144 KiB"),
        "{chosen}"
    );
    assert!(
        chosen.contains("option 'arena_max_object_size': 8192 KiB"),
        "{chosen}"
    );
}
