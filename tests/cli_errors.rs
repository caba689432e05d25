//! Errors a newcomer meets in the first hour, end to end: each says what is wrong and
//! what to do, once, in words (no Rust debug shapes), and the forms people naturally
//! type (`/api/v1` on a registry URL, a file with a byte-order mark, `-` for standard
//! input) are accepted.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{Server, accord, contract, repo, write};
use serde_json::{Value, json};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const SCHEMA: &str = r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#;

fn contracts_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "contracts/a.b.contract.yaml",
        &contract("a.b", "1.0.0", "a.json"),
    );
    write(dir.path(), "contracts/a.json", SCHEMA);
    dir
}

#[test]
fn check_with_nothing_to_compare_with_names_both_choices() {
    let dir = contracts_dir();
    let out = accord(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("--registry") && e.contains("--against"), "{e}");
}

#[test]
fn check_against_a_git_ref_outside_a_repository_says_so() {
    let dir = contracts_dir();
    let out = accord(dir.path(), &["check", "--against", "HEAD"]);
    assert_eq!(out.status.code(), Some(3));
    let e = stderr(&out);
    assert!(e.contains("not in a git repository"), "{e}");
}

#[test]
fn a_registry_url_without_a_scheme_gets_the_url_to_write() {
    let dir = contracts_dir();
    for command in ["check", "publish"] {
        let out = accord(dir.path(), &[command, "--registry", "127.0.0.1:8081"]);
        assert_ne!(out.status.code(), Some(0), "{command}");
        let e = stderr(&out);
        assert!(e.contains("http://127.0.0.1:8081"), "{command}: {e}");
    }
    let out = accord(
        dir.path(),
        &[
            "validate",
            "--registry",
            "127.0.0.1:8081",
            "--contract",
            "a.b",
            "-",
        ],
    );
    let e = stderr(&out);
    assert!(e.contains("http://127.0.0.1:8081"), "validate: {e}");
}

#[test]
fn a_registry_url_ending_in_api_v1_works_in_publish_check_and_validate() {
    let server = Server::start();
    let dir = contracts_dir();
    let url = format!("{}/api/v1/", server.url);
    let out = accord(dir.path(), &["publish", "--registry", &url]);
    assert_eq!(out.status.code(), Some(0), "publish: {}", stderr(&out));
    assert_eq!(
        server.get("/contracts/a.b/versions/latest")["version"],
        "1.0.0"
    );
    let out = accord(dir.path(), &["check", "--registry", &url]);
    assert_eq!(out.status.code(), Some(0), "check: {}", stderr(&out));
    write(dir.path(), "records.ndjson", "{\"id\": \"x\"}\n");
    let out = accord(
        dir.path(),
        &[
            "validate",
            "--registry",
            &url,
            "--contract",
            "a.b@^1",
            "records.ndjson",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "validate: {}", stderr(&out));
}

#[test]
fn a_first_registration_requires_no_bump_and_a_break_under_none_requires_major() {
    let server = Server::start();
    let http = reqwest::blocking::Client::new();
    let base = format!("{}/api/v1/contracts/t.none", server.url);
    let put = http
        .put(format!("{base}/config"))
        .json(&json!({"mode": "NONE"}))
        .send()
        .unwrap();
    assert!(put.status().is_success());
    let register = |schema: Value| -> Value {
        http.post(format!("{base}/versions"))
            .json(&json!({ "schema": schema }))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let first = register(json!({"type": "object"}));
    assert_eq!(first["required_bump"], "none", "{first}");
    let second = register(json!({"type": "string"}));
    assert_eq!(second["version"], "2.0.0", "{second}");
    assert_eq!(second["required_bump"], "major", "{second}");
    let diff = server.get("/contracts/t.none/diff?from=1.0.0&to=2.0.0");
    assert_eq!(diff["report"]["required_bump"], "major", "{diff}");
}

fn diff_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn diff_reads_a_byte_order_mark_and_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "old.json", r#"{"type": "object"}"#);
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(br#"{"type": "object", "description": "x"}"#);
    std::fs::write(dir.path().join("bom.json"), &bom).unwrap();
    let out = accord(dir.path(), &["diff", "old.json", "bom.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = diff_stdin(
        dir.path(),
        &["diff", "old.json", "-", "--format", "json"],
        &bom,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["required_bump"], "patch", "{report}");
}

#[test]
fn diff_on_an_unknown_type_names_the_pointer_and_the_allowed_types() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "old.json", r#"{"type": "object"}"#);
    write(
        dir.path(),
        "new.json",
        r#"{"properties": {"a": {"type": "objekt"}}}"#,
    );
    let out = accord(dir.path(), &["diff", "old.json", "new.json"]);
    assert_eq!(out.status.code(), Some(3));
    let e = stderr(&out);
    assert!(e.contains("/properties/a/type"), "{e}");
    assert!(
        e.contains("\"objekt\"") && e.contains("did you mean \"object\""),
        "{e}"
    );
    assert!(e.contains("\"string\"") && !e.contains("anyOf"), "{e}");
}

/// Texts of `message` split at `: `, repeated (a cause printed twice).
fn repeated(message: &str) -> Vec<String> {
    let parts: Vec<&str> = message.split(": ").filter(|p| p.len() > 12).collect();
    let mut seen = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if parts[i + 1..].iter().any(|q| q.contains(p)) {
            seen.push((*p).to_owned());
        }
    }
    seen
}

#[test]
fn failing_commands_print_words_not_debug_shapes_and_each_cause_once() {
    let dir = contracts_dir();
    let git = repo(&[
        (
            "contracts/a.b.contract.yaml",
            &contract("a.b", "1.0", "a.json"),
        ),
        ("contracts/a.json", SCHEMA),
    ]);
    let db_dir = dir.path().to_str().unwrap();
    let runs: Vec<(&Path, Vec<String>)> = vec![
        (
            dir.path(),
            vec![
                "check".into(),
                "--registry".into(),
                "http://127.0.0.1:1".into(),
            ],
        ),
        (
            git.path(),
            vec!["check".into(), "--against".into(), "nope".into()],
        ),
        (
            git.path(),
            vec!["check".into(), "--against".into(), "HEAD".into()],
        ),
        (
            dir.path(),
            vec![
                "diff".into(),
                "missing.json".into(),
                "contracts/a.json".into(),
            ],
        ),
        (
            dir.path(),
            vec![
                "validate".into(),
                "--schema".into(),
                "missing.json".into(),
                "-".into(),
            ],
        ),
        (
            dir.path(),
            vec![
                "serve".into(),
                "--database".into(),
                format!("sqlite://{db_dir}"),
                "--listen".into(),
                "127.0.0.1:0".into(),
            ],
        ),
        (
            dir.path(),
            vec![
                "export".into(),
                "--database".into(),
                format!("sqlite://{db_dir}/no/x.db"),
            ],
        ),
    ];
    let debug_shape =
        regex::Regex::new(r#"[A-Z][A-Za-z]+\(\"|[A-Z][A-Za-z]+ \{ [a-z_]+:"#).unwrap();
    for (cwd, args) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = accord(cwd, &args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        let text = format!("{}{}", stderr(&out), stdout(&out));
        assert!(!text.trim().is_empty(), "{args:?}: says nothing");
        assert!(
            !debug_shape.is_match(&text),
            "{args:?}: debug formatting in {text}"
        );
        for line in text.lines() {
            assert!(
                repeated(line).is_empty(),
                "{args:?}: repeated {:?} in {line}",
                repeated(line)
            );
        }
    }
}
