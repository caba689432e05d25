//! `accord publish` end to end against a real `accord serve`: registration, idempotence,
//! metadata updates, dependency order, the first refusal stopping the run, dry runs.

mod common;

use common::{Server, accord, contract, stdout, write};
use serde_json::Value;

const SCHEMA: &str = r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#;

fn publish_json(dir: &std::path::Path, server: &Server, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec![
        "publish",
        "c",
        "--registry",
        &server.url,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = accord(dir, &args);
    let doc = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} {}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), doc)
}

#[test]
fn publishing_twice_changes_nothing_the_second_time_and_says_so() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json"),
    );
    write(dir.path(), "c/a.json", SCHEMA);

    let (code, doc) = publish_json(dir.path(), &server, &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["contracts"][0]["outcome"], "registered");
    let contract = server.get("/contracts/a");
    assert_eq!(contract["owner"], "team-a");
    assert_eq!(contract["config"]["mode_override"], "BACKWARD");

    let (code, doc) = publish_json(dir.path(), &server, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["changed"], 0, "{doc:#}");
    assert_eq!(doc["contracts"][0]["outcome"], "unchanged");
    let out = accord(dir.path(), &["publish", "c", "--registry", &server.url]);
    assert!(stdout(&out).contains("nothing to do"), "{}", stdout(&out));
    assert_eq!(
        server.get("/contracts/a/versions")["versions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_changed_owner_is_updated_without_a_new_version() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json"),
    );
    write(dir.path(), "c/a.json", SCHEMA);
    assert_eq!(publish_json(dir.path(), &server, &[]).0, Some(0));
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json").replace("owner: team-a", "owner: team-new"),
    );
    let (code, doc) = publish_json(dir.path(), &server, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(doc["contracts"][0]["actions"][0], "update owner");
    assert_eq!(server.get("/contracts/a")["owner"], "team-new");
}

#[test]
fn a_dry_run_reports_what_would_happen_and_writes_nothing() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json"),
    );
    write(dir.path(), "c/a.json", SCHEMA);
    let (code, doc) = publish_json(dir.path(), &server, &["--dry-run"]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["contracts"][0]["outcome"], "would-register");
    let missing = reqwest::blocking::get(format!("{}/api/v1/contracts/a", server.url)).unwrap();
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
}

#[test]
fn the_first_refusal_stops_the_run_with_its_report() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json"),
    );
    write(dir.path(), "c/a.json", SCHEMA);
    assert_eq!(publish_json(dir.path(), &server, &[]).0, Some(0));

    // A breaking change declared as a minor, and a later contract that must not be published.
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.1.0", "a.json"),
    );
    write(
        dir.path(),
        "c/a.json",
        r#"{"type": "object", "properties": {"id": {"type": "integer"}}}"#,
    );
    write(
        dir.path(),
        "c/b.contract.yaml",
        &contract("b", "1.0.0", "a.json"),
    );
    let out = accord(dir.path(), &["publish", "c", "--registry", &server.url]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("refused") && text.contains("type-changed"),
        "{text}"
    );
    let b = reqwest::blocking::get(format!("{}/api/v1/contracts/b", server.url)).unwrap();
    assert_eq!(b.status(), reqwest::StatusCode::NOT_FOUND);
}

#[test]
fn a_contract_is_published_after_the_contracts_it_refers_to() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // `a` refers to `z` by its $id: `z` must go first although it sorts last.
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json"),
    );
    write(
        dir.path(),
        "c/a.json",
        r#"{"type": "object", "properties": {"money": {"$ref": "https://example.com/z.json"}}}"#,
    );
    write(
        dir.path(),
        "c/z.contract.yaml",
        &contract("z", "1.0.0", "z.json"),
    );
    write(
        dir.path(),
        "c/z.json",
        r#"{"$id": "https://example.com/z.json", "type": "integer"}"#,
    );
    let (_, doc) = publish_json(dir.path(), &server, &["--dry-run"]);
    let names: Vec<&str> = doc["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "z", "{doc:#}");
    // For real: `z` is registered first and `a` then resolves its `$ref` to it.
    let (code, doc) = publish_json(dir.path(), &server, &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    let outcomes: Vec<(&str, &str)> = doc["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        vec![("z", "registered"), ("a", "registered")],
        "{doc:#}"
    );
}

/// Issue 12: a contract file with `compatibility: NONE` and a version that is not
/// greater was refused but left `mode_override: NONE` behind. A refused publish writes
/// nothing for that contract, and the output lists only what was written.
#[test]
fn a_refused_publish_leaves_neither_the_mode_nor_the_version_behind() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json"),
    );
    write(dir.path(), "c/a.json", SCHEMA);
    assert_eq!(publish_json(dir.path(), &server, &[]).0, Some(0));

    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "1.0.0", "a.json").replace("compatibility: BACKWARD", "compatibility: NONE"),
    );
    write(
        dir.path(),
        "c/a.json",
        r#"{"type": "object", "properties": {"id": {"type": "integer"}}}"#,
    );
    let (code, doc) = publish_json(dir.path(), &server, &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["contracts"][0]["outcome"], "refused");
    assert_eq!(
        doc["contracts"][0]["actions"],
        serde_json::json!([]),
        "{doc:#}"
    );
    let stored = server.get("/contracts/a");
    assert_eq!(stored["config"]["mode_override"], "BACKWARD", "{stored:#}");
    assert_eq!(stored["versions"].as_array().unwrap().len(), 1);

    // Declared as the major it is under NONE, it is registered with its mode, in one step.
    write(
        dir.path(),
        "c/a.contract.yaml",
        &contract("a", "2.0.0", "a.json").replace("compatibility: BACKWARD", "compatibility: NONE"),
    );
    let (code, doc) = publish_json(dir.path(), &server, &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(
        doc["contracts"][0]["actions"],
        serde_json::json!(["register 2.0.0", "set mode NONE"])
    );
    assert_eq!(
        server.get("/contracts/a")["config"]["mode_override"],
        "NONE"
    );
}
