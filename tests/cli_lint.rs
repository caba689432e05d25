//! `accord lint` end to end: each rule found where it applies, with its position, and
//! the exit code set by errors only.

use std::process::Command;

use serde_json::Value;

#[test]
fn each_rule_is_reported_at_its_node_and_errors_fail_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let schema = r#"{
  "description": "An event.",
  "type": "object",
  "additionalProperties": false,
  "required": ["id", "missing"],
  "properties": {
    "id": {"type": "string", "description": "The id."},
    "kind": {"type": "string", "enum": [1, 2], "description": "A kind."},
    "none": {"enum": [], "description": "Nothing."},
    "meta": {"type": "object", "properties": {}}
  }
}"#;
    std::fs::create_dir(dir.path().join("contracts")).unwrap();
    std::fs::write(dir.path().join("contracts/e.json"), schema).unwrap();
    std::fs::write(
        dir.path().join("contracts/e.contract.yaml"),
        "name: e\nversion: 1.0.0\nowner: o\ndescription: d\nschema: e.json\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["lint", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["pointer"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let has = |rule: &str, pointer: &str| found.iter().any(|(r, p, _)| r == rule && p == pointer);
    assert!(has("required-not-in-properties", ""), "{found:?}");
    assert!(
        has("type-enum-contradiction", "/properties/kind"),
        "{found:?}"
    );
    assert!(has("enum-empty", "/properties/none"), "{found:?}");
    assert!(
        has("additional-properties-implicit", "/properties/meta"),
        "{found:?}"
    );
    assert!(has("description-missing", "/properties/meta"), "{found:?}");
    assert!(!has("description-missing", ""), "{found:?}");
    assert!(!has("additional-properties-implicit", ""), "{found:?}");
    let kind = found
        .iter()
        .find(|(r, _, _)| r == "type-enum-contradiction")
        .unwrap();
    assert_eq!(kind.2, 8, "{found:?}");
    assert_eq!(doc["errors"], 3);
    assert!(
        doc["findings"][0]["hint"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
}
