//! `accord check` end to end: a temporary git repository (`--against HEAD`) and a real
//! registry (`--registry`), every output format parsed by a real parser, exit codes,
//! positions of findings, acceptances and their expiry.

mod common;

use common::{Server, accord, contract, git, repo, stdout, write};
use serde_json::Value;

const V1: &str = r#"{
  "type": "object",
  "properties": {
    "status": {
      "enum": ["new", "paid", "shipped"]
    },
    "name": {
      "type": "string",
      "maxLength": 100
    }
  }
}
"#;

const NARROWER: &str = r#"{
  "type": "object",
  "properties": {
    "status": {
      "enum": ["new", "paid"]
    },
    "name": {
      "type": "string",
      "maxLength": 50
    }
  }
}
"#;

const WIDER: &str = r#"{
  "type": "object",
  "properties": {
    "status": {
      "enum": ["new", "paid", "shipped", "lost"]
    },
    "name": {
      "type": "string",
      "maxLength": 100
    }
  }
}
"#;

fn orders_repo() -> tempfile::TempDir {
    repo(&[
        (
            "contracts/orders.contract.yaml",
            &contract("orders", "1.0.0", "orders/schema.json"),
        ),
        ("contracts/orders/schema.json", V1),
    ])
}

fn json_check(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["check", "--against", "HEAD", "--format", "json"];
    args.extend_from_slice(extra);
    let out = accord(dir, &args);
    let doc = serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), doc)
}

fn finding<'a>(doc: &'a Value, rule: &str) -> &'a Value {
    doc["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in {doc:#}"))
}

#[test]
fn an_unchanged_repository_is_clean_and_exits_0() {
    let dir = orders_repo();
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["verdict"], "clean");
    assert_eq!(doc["contracts"][0]["status"], "unchanged");
}

#[test]
fn a_breaking_change_without_a_major_bump_exits_1_and_points_at_the_changed_nodes() {
    let dir = orders_repo();
    write(dir.path(), "contracts/orders/schema.json", NARROWER);
    write(
        dir.path(),
        "contracts/orders.contract.yaml",
        &contract("orders", "1.1.0", "orders/schema.json"),
    );
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert_eq!(doc["verdict"], "breaking");
    let c = &doc["contracts"][0];
    assert_eq!(c["status"], "changed");
    assert_eq!(c["required_bump"], "major");
    assert_eq!(c["declared_bump"], "minor");
    assert_eq!(c["required_version"], "2.0.0");

    let max = finding(&doc, "max-length-decreased");
    assert_eq!(max["level"], "error");
    assert_eq!(max["file"], "contracts/orders/schema.json");
    assert_eq!(
        (max["line"].as_u64(), max["column"].as_u64()),
        (Some(9), Some(7))
    );
    assert_eq!(max["schema_pointer"], "/properties/name/maxLength");
    assert_eq!(max["instance_path"], "/name");
    assert_eq!(
        (max["old"].clone(), max["new"].clone()),
        (100.into(), 50.into())
    );
    assert_eq!(max["breaks"], serde_json::json!(["backward"]));
    assert!(max["witness"].is_object(), "{max:#}");
    assert_eq!(max["fingerprint"].as_str().unwrap().len(), 16);

    let en = finding(&doc, "enum-value-removed");
    assert_eq!(
        (en["line"].as_u64(), en["column"].as_u64()),
        (Some(5), Some(7))
    );

    let bump = finding(&doc, "version-bump-too-small");
    assert!(
        bump["message"]
            .as_str()
            .unwrap()
            .contains("declared 1.1.0 (minor) but the changes require 2.0.0 (major)"),
        "{bump:#}"
    );
    assert_eq!(bump["file"], "contracts/orders.contract.yaml");
    assert_eq!(bump["line"], 2);
}

#[test]
fn a_compatible_change_with_a_minor_bump_passes_and_an_unbumped_one_fails() {
    let dir = orders_repo();
    write(dir.path(), "contracts/orders/schema.json", WIDER);
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(1), "same version, new schema: {doc:#}");
    assert_eq!(finding(&doc, "version-not-greater")["level"], "error");

    write(
        dir.path(),
        "contracts/orders.contract.yaml",
        &contract("orders", "1.1.0", "orders/schema.json"),
    );
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["contracts"][0]["required_bump"], "minor");
    // A new enum value breaks old readers of new data (FORWARD), which BACKWARD does not
    // enforce: a warning, which fails only with `--fail-on warning`.
    assert_eq!(finding(&doc, "enum-value-added")["level"], "warning");
    // (--no-lint: the schema's missing descriptions are lint warnings too.)
    assert_eq!(
        json_check(dir.path(), &["--fail-on", "warning", "--no-lint"]).0,
        Some(1)
    );
}

#[test]
fn a_new_major_version_allows_breaking_changes_and_reports_them_as_info() {
    let dir = orders_repo();
    write(dir.path(), "contracts/orders/schema.json", NARROWER);
    write(
        dir.path(),
        "contracts/orders.contract.yaml",
        &contract("orders", "2.0.0", "orders/schema.json"),
    );
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["contracts"][0]["status"], "new-major");
    assert_eq!(finding(&doc, "max-length-decreased")["level"], "info");
}

#[test]
fn a_new_contract_is_an_initial_version_and_a_deleted_one_is_breaking() {
    let dir = orders_repo();
    write(
        dir.path(),
        "contracts/payments.contract.yaml",
        &contract("payments", "1.0.0", "orders/schema.json"),
    );
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    let payments = doc["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "payments")
        .unwrap();
    assert_eq!(payments["status"], "initial");

    std::fs::remove_file(dir.path().join("contracts/orders.contract.yaml")).unwrap();
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    let removed = finding(&doc, "contract-removed");
    assert_eq!(removed["level"], "error");
    assert_eq!(removed["file"], "contracts/orders.contract.yaml");
}

#[test]
fn accepted_findings_pass_expired_ones_fail_and_unused_ones_are_stale() {
    let dir = orders_repo();
    write(dir.path(), "contracts/orders/schema.json", NARROWER);
    write(
        dir.path(),
        "contracts/orders.contract.yaml",
        &contract("orders", "2.0.0", "orders/schema.json"),
    );
    // A major bump passes; go back to a minor one so there is something to accept.
    write(
        dir.path(),
        "contracts/orders.contract.yaml",
        &contract("orders", "1.1.0", "orders/schema.json"),
    );
    let (_, doc) = json_check(dir.path(), &[]);
    let prints: Vec<String> = doc["contracts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "error")
        .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
        .collect();
    assert!(prints.len() >= 3, "{doc:#}");
    let mut accept = String::from("accept:\n");
    for p in &prints {
        accept.push_str(&format!(
            "  - fingerprint: \"{p}\"\n    reason: consumers migrated (JIRA-1)\n    expires: 2999-12-31\n"
        ));
    }
    accept.push_str("  - fingerprint: \"0000000000000000\"\n    reason: an old break\n");
    write(dir.path(), "accord-accept.yaml", &accept);
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(
        doc["summary"]["accepted"].as_u64(),
        Some(prints.len() as u64)
    );
    assert_eq!(
        finding(&doc, "max-length-decreased")["accepted"]["reason"],
        "consumers migrated (JIRA-1)"
    );
    assert_eq!(
        doc["stale_acceptances"][0]["fingerprint"],
        "0000000000000000"
    );

    // The repository's file is found from a directory inside it, too.
    let out = accord(
        &dir.path().join("contracts"),
        &["check", "--against", "HEAD", "--format", "json", "."],
    );
    let inside: Value = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{inside:#}");
    assert_eq!(
        inside["summary"]["accepted"].as_u64(),
        Some(prints.len() as u64)
    );

    // Expired: the same entries, with a day in the past, in a file named on the command line.
    write(
        dir.path(),
        "other-accept.yaml",
        &accept.replace("2999-12-31", "2001-01-01"),
    );
    let (code, doc) = json_check(dir.path(), &["--accept", "other-accept.yaml"]);
    assert_eq!(code, Some(1), "{doc:#}");
    let max = finding(&doc, "max-length-decreased");
    assert!(max["accepted"].is_null());
    assert_eq!(max["expired_acceptance"]["expires"], "2001-01-01");

    // Text output says accepted and stale.
    let out = accord(dir.path(), &["check", "--against", "HEAD"]);
    let text = stdout(&out);
    assert!(
        text.contains("accepted") && text.contains("stale acceptance"),
        "{text}"
    );
}

#[test]
fn junit_github_and_markdown_outputs_parse_and_carry_the_findings() {
    let dir = orders_repo();
    write(dir.path(), "contracts/orders/schema.json", NARROWER);
    write(
        dir.path(),
        "contracts/payments.contract.yaml",
        &contract("payments", "1.0.0", "orders/schema.json"),
    );

    let out = accord(
        dir.path(),
        &["check", "--against", "HEAD", "--format", "junit"],
    );
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 2, "one test case per contract: {xml}");
    let orders = cases
        .iter()
        .find(|c| c.attribute("name") == Some("orders"))
        .unwrap();
    let failure = orders
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("orders fails");
    assert!(failure.text().unwrap().contains("max-length-decreased"));
    let payments = cases
        .iter()
        .find(|c| c.attribute("name") == Some("payments"))
        .unwrap();
    assert!(payments.children().all(|n| !n.is_element()));

    let summary = dir.path().join("summary.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["check", "--against", "HEAD", "--format", "github"])
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("max-length-decreased"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("::error file=contracts/orders/schema.json,line=9,col=7,title="),
        "{line}"
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("| error | `max-length-decreased` |"), "{md}");
    assert!(
        !md.lines().any(|l| l.starts_with('|') && l.contains("``")),
        "an empty code span in {md}"
    );

    let out = accord(
        dir.path(),
        &["check", "--against", "HEAD", "--format", "markdown"],
    );
    let md = stdout(&out);
    assert!(md.starts_with("## ❌ accord check: breaking"), "{md}");
}

#[test]
fn load_failures_exit_3_and_never_claim_there_are_no_breaking_changes() {
    let dir = orders_repo();
    let out = accord(dir.path(), &["check", "--against", "no-such-ref"]);
    assert_eq!(out.status.code(), Some(3));

    write(dir.path(), "contracts/orders/schema.json", "{\"type\": ");
    let out = accord(dir.path(), &["check", "--against", "HEAD"]);
    assert_eq!(out.status.code(), Some(3));
    let text = stdout(&out);
    assert!(!text.contains("no breaking changes"), "{text}");
    assert!(text.contains("could not be checked"), "{text}");

    write(
        dir.path(),
        "contracts/orders.contract.yaml",
        "name: [unclosed\n",
    );
    let (code, doc) = json_check(dir.path(), &[]);
    assert_eq!(code, Some(3));
    assert_eq!(doc["verdict"], "incomplete");

    // A usage error: neither --registry nor --against.
    assert_eq!(accord(dir.path(), &["check"]).status.code(), Some(2));
    // A configuration error: an acceptance file that does not parse.
    git(dir.path(), &["checkout", "-q", "--", "."]);
    write(
        dir.path(),
        "accord-accept.yaml",
        "accept: [{reason: no fingerprint}]\n",
    );
    assert_eq!(
        accord(dir.path(), &["check", "--against", "HEAD"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn against_a_registry_an_inline_yaml_schema_is_located_by_line_and_column() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let v1 = "name: demo.thing\nversion: 1.0.0\nowner: me\ndescription: demo\nschema:\n  type: object\n  properties:\n    status:\n      enum: [a, b, c]\n";
    write(dir.path(), "c/thing.contract.yaml", v1);
    let out = accord(dir.path(), &["publish", "c", "--registry", &server.url]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let out = accord(dir.path(), &["check", "c", "--registry", &server.url]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    let v2 = v1.replace("1.0.0", "1.1.0").replace("[a, b, c]", "[a, b]");
    write(dir.path(), "c/thing.contract.yaml", &v2);
    let out = accord(
        dir.path(),
        &["check", "c", "--registry", &server.url, "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let f = finding(&doc, "enum-value-removed");
    assert_eq!(f["file"], "c/thing.contract.yaml");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(9), Some(7))
    );
    assert_eq!(doc["contracts"][0]["base_version"], "1.0.0");

    // An unreachable registry is a load failure.
    let out = accord(
        dir.path(),
        &["check", "c", "--registry", "http://127.0.0.1:9"],
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_example_contracts_check_clean_against_a_registry_they_were_published_to() {
    let server = Server::start();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = accord(root, &["publish", "contracts", "--registry", &server.url]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = accord(
        root,
        &[
            "check",
            "contracts",
            "--registry",
            &server.url,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["contracts"].as_array().unwrap().len(), 3);
}

#[test]
fn the_example_contract_files_match_the_published_contract_file_schema() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("docs/contract-file.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(root.join("contracts")).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".contract.yaml") {
            continue;
        }
        let doc: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        seen += 1;
    }
    assert_eq!(seen, 3);
    // And the schema refuses a typo.
    let typo = serde_json::json!({"name": "a", "version": "1.0.0", "owner": "o", "description": "d", "schema": {}, "mode": "FULL"});
    assert!(!validator.is_valid(&typo));
}
