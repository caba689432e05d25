//! `accord lint` end to end, and lint inside `accord check`: each rule found where it
//! applies with its position, exit codes set by errors only, `accord.yaml` (severities,
//! enable/disable, ignores for lint and for breaking changes, strict parsing), and every
//! output format parsed by a real parser.

mod common;

use common::{accord, contract, git, repo, stdout, write};
use serde_json::Value;

/// One finding of every rule; line numbers matter to the tests below.
const MESSY: &str = r##"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "description": "An event.",
  "type": "object",
  "additionalProperties": false,
  "required": ["id", "missing"],
  "properties": {
    "id": {"type": "string", "description": "The id."},
    "kind": {"type": "string", "enum": [1, 2], "description": "A kind."},
    "none": {"enum": [], "description": "Nothing."},
    "meta": {"type": "object", "properties": {}},
    "customer_id": {"type": "string", "description": "Who."},
    "placed_at": {"type": "string", "format": "date-time", "description": "When."},
    "orderTotal": {"type": "number", "description": "How much."},
    "ref": {"$ref": "#/definitions/adress"},
    "code": {"type": "string", "format": "postcode", "description": "Where."}
  },
  "definitions": {"address": {"type": "string"}}
}
"##;

/// A schema no rule finds anything in.
const CLEAN: &str = r#"{
  "description": "An order.",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "order_id": {"type": "string", "description": "The id."},
    "status": {"type": "string", "enum": ["new", "paid"], "description": "Where it is."}
  }
}
"#;

fn messy_repo() -> tempfile::TempDir {
    repo(&[
        (
            "contracts/e.contract.yaml",
            &contract("e", "1.0.0", "e/schema.json"),
        ),
        ("contracts/e/schema.json", MESSY),
    ])
}

fn json_lint(dir: &std::path::Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["lint", "--format", "json"];
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

fn findings(doc: &Value) -> Vec<&Value> {
    doc["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .collect()
}

fn one<'a>(doc: &'a Value, rule: &str, pointer: &str) -> &'a Value {
    findings(doc)
        .into_iter()
        .find(|f| f["rule"] == rule && f["schema_pointer"] == pointer)
        .unwrap_or_else(|| panic!("no {rule} at {pointer} in {doc:#}"))
}

fn has(doc: &Value, rule: &str, pointer: &str) -> bool {
    findings(doc)
        .iter()
        .any(|f| f["rule"] == rule && f["schema_pointer"] == pointer)
}

#[test]
fn each_rule_is_reported_at_its_node_and_errors_fail_the_run() {
    let dir = messy_repo();
    let (code, doc) = json_lint(dir.path(), &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    let at = |rule: &str, pointer: &str| {
        let f = one(&doc, rule, pointer);
        assert_eq!(f["file"], "contracts/e/schema.json", "{f}");
        assert_eq!(f["category"], "lint", "{f}");
        assert!(f["hint"].as_str().is_some_and(|h| !h.is_empty()), "{f}");
        (
            f["level"].as_str().unwrap().to_owned(),
            f["line"].as_u64().unwrap(),
        )
    };
    assert_eq!(at("required-not-in-properties", ""), ("error".into(), 1));
    assert_eq!(
        at("type-enum-contradiction", "/properties/kind"),
        ("error".into(), 9)
    );
    assert_eq!(at("enum-empty", "/properties/none"), ("error".into(), 10));
    assert_eq!(
        at("additional-properties-implicit", "/properties/meta"),
        ("warning".into(), 11)
    );
    assert_eq!(
        at("description-missing", "/properties/meta"),
        ("warning".into(), 11)
    );
    assert_eq!(
        at("property-name-case", "/properties/orderTotal"),
        ("warning".into(), 14)
    );
    assert_eq!(
        at("ref-target-missing", "/properties/ref/$ref"),
        ("error".into(), 15)
    );
    assert_eq!(
        at("format-unknown", "/properties/code/format"),
        ("warning".into(), 16)
    );
    assert!(
        one(&doc, "ref-target-missing", "/properties/ref/$ref")["message"]
            .as_str()
            .unwrap()
            .contains("#/definitions/address"),
    );
    assert!(!has(&doc, "format-unknown", "/properties/placed_at/format"));
    assert!(!has(&doc, "property-name-case", "/properties/customer_id"));
    assert!(!has(&doc, "description-missing", ""));
    assert_eq!(doc["summary"]["errors"], 4, "{doc:#}");
    assert_eq!(doc["verdict"], "breaking");

    // Findings read top to bottom.
    let lines: Vec<u64> = findings(&doc)
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn an_unsupported_schema_draft_is_an_error_pointing_at_it() {
    let dir = repo(&[
        (
            "contracts/e.contract.yaml",
            &contract("e", "1.0.0", "e/schema.json"),
        ),
        (
            "contracts/e/schema.json",
            &CLEAN.replacen(
                "{\n",
                "{\n  \"$schema\": \"https://json-schema.org/draft/2021-01/schema\",\n",
                1,
            ),
        ),
    ]);
    let (code, doc) = json_lint(dir.path(), &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    let f = one(&doc, "schema-draft-unsupported", "/$schema");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(3))
    );
}

#[test]
fn a_clean_file_passes_and_warnings_alone_pass_unless_fail_on_warning() {
    let dir = repo(&[
        (
            "contracts/e.contract.yaml",
            &contract("e", "1.0.0", "e/schema.json"),
        ),
        ("contracts/e/schema.json", CLEAN),
    ]);
    let (code, doc) = json_lint(dir.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert!(findings(&doc).is_empty(), "{doc:#}");
    assert_eq!(doc["verdict"], "clean");

    write(
        dir.path(),
        "contracts/e/schema.json",
        &CLEAN.replace("\"description\": \"Where it is.\"", "\"title\": \"Status\""),
    );
    let (code, doc) = json_lint(dir.path(), &[]);
    assert_eq!(code, Some(0), "{doc:#}");
    assert_eq!(doc["summary"]["warnings"], 1, "{doc:#}");
    assert_eq!(json_lint(dir.path(), &["--fail-on", "warning"]).0, Some(1));
}

#[test]
fn accord_yaml_sets_severities_disables_rules_and_ignores_by_rule_and_path() {
    let dir = messy_repo();
    write(
        dir.path(),
        "accord.yaml",
        "lint:\n  case: camelCase\n  disable: [enum-empty]\n  severity:\n    type-enum-contradiction: warning\n    description-missing: off\n  ignore:\n    - rule: ref-target-missing\n      paths: [contracts/e]\n      reason: being renamed\n",
    );
    // Found from a directory inside the repository, too.
    let (code, doc) = json_lint(&dir.path().join("contracts"), &["."]);
    assert!(
        doc["config"]
            .as_str()
            .is_some_and(|c| c.ends_with("accord.yaml")),
        "{doc:#}"
    );
    assert!(!has(&doc, "enum-empty", "/properties/none"), "{doc:#}");
    assert!(
        !has(&doc, "description-missing", "/properties/meta"),
        "{doc:#}"
    );
    assert_eq!(
        one(&doc, "type-enum-contradiction", "/properties/kind")["level"],
        "warning"
    );
    // camelCase configured: the snake_case names are the odd ones now.
    assert!(has(&doc, "property-name-case", "/properties/customer_id"));
    assert!(!has(&doc, "property-name-case", "/properties/orderTotal"));
    let ignored = one(&doc, "ref-target-missing", "/properties/ref/$ref");
    assert_eq!(ignored["ignored"]["reason"], "being renamed", "{ignored}");
    assert_eq!(doc["summary"]["ignored"], 1, "{doc:#}");
    // Left: required-not-in-properties only.
    assert_eq!(doc["summary"]["errors"], 1, "{doc:#}");
    assert_eq!(code, Some(1));

    // The text says the finding is ignored and why.
    let out = accord(dir.path(), &["lint"]);
    let text = stdout(&out);
    assert!(
        text.contains("ignored  [ref-target-missing]") && text.contains("being renamed"),
        "{text}"
    );

    // `enable` runs only the rules it names; --config names another file.
    write(
        dir.path(),
        "other.yaml",
        "lint:\n  enable: [format-unknown]\n",
    );
    let (code, doc) = json_lint(dir.path(), &["--config", "other.yaml"]);
    assert_eq!(code, Some(0), "{doc:#}");
    let rules: Vec<&str> = findings(&doc)
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["format-unknown"], "{doc:#}");
}

#[test]
fn a_bad_accord_yaml_is_a_usage_error_pointing_at_the_problem() {
    let dir = messy_repo();
    for (text, expected) in [
        (
            "lint:\n  disable: [enum-emtpy]\n",
            "accord.yaml:2:13: unknown lint rule `enum-emtpy`; did you mean `enum-empty`?",
        ),
        (
            "lint:\n  severity:\n    enum-empty: fatal\n",
            "accord.yaml:3:5: unknown severity `fatal`",
        ),
        (
            "lnt:\n  disable: []\n",
            "accord.yaml:1:1: unknown field `lnt`",
        ),
        (
            "breaking:\n  ignore:\n    - rule: enum-value-removed\n      path: [x]\n",
            "accord.yaml:4:7: unknown field `path`; did you mean `paths`?",
        ),
    ] {
        write(dir.path(), "accord.yaml", text);
        for command in ["lint", "check"] {
            let args: &[&str] = if command == "lint" {
                &["lint"]
            } else {
                &["check", "--against", "HEAD"]
            };
            let out = accord(dir.path(), args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command}: {err}");
            assert!(err.contains(expected), "{command}: {err}");
        }
    }
    let out = accord(dir.path(), &["lint", "--config", "nope.yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn github_junit_and_markdown_outputs_parse_and_carry_the_lint_findings() {
    let dir = messy_repo();
    let summary = dir.path().join("summary.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["lint", "--format", "github"])
        .current_dir(dir.path())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("[enum-empty]"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("::error file=contracts/e/schema.json,line=10,col=5,title="),
        "{line}"
    );
    assert!(line.contains("%0Afix: "), "{line}");
    let warning = text
        .lines()
        .find(|l| l.contains("[format-unknown]"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(warning.starts_with("::warning "), "{warning}");
    assert!(text.contains("accord lint: breaking"), "{text}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("## ❌ accord lint: breaking"), "{md}");
    assert!(md.contains("| error | `enum-empty` |"), "{md}");

    let out = accord(dir.path(), &["lint", "--format", "markdown"]);
    let md = stdout(&out);
    assert!(md.contains("| warning | `format-unknown` |"), "{md}");
    assert!(md.contains("  - fix: "), "{md}");
    assert!(!md.contains("accord-accept.yaml"), "{md}");

    let out = accord(dir.path(), &["lint", "--format", "junit"]);
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    assert_eq!(case.attribute("name"), Some("e"));
    let failure = case
        .children()
        .find(|n| n.has_tag_name("failure"))
        .expect("e fails");
    assert!(
        failure
            .attribute("message")
            .unwrap()
            .contains("ref-target-missing"),
        "{xml}"
    );
}

#[test]
fn check_reports_lint_findings_in_every_format_and_lint_errors_fail_it() {
    // A `$ref` to nothing stops the check from loading the schema (exit 3); fix it so
    // the schema loads and only lint can fail it.
    let dir = repo(&[
        (
            "contracts/e.contract.yaml",
            &contract("e", "1.0.0", "e/schema.json"),
        ),
        (
            "contracts/e/schema.json",
            &MESSY.replace("definitions/adress", "definitions/address"),
        ),
    ]);
    // The schema is unchanged against HEAD: only lint can fail it.
    let out = accord(
        dir.path(),
        &["check", "--against", "HEAD", "--format", "json"],
    );
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    assert_eq!(doc["contracts"][0]["status"], "unchanged");
    let f = one(&doc, "enum-empty", "/properties/none");
    assert_eq!(
        (f["category"].as_str(), f["level"].as_str()),
        (Some("lint"), Some("error"))
    );

    let out = accord(
        dir.path(),
        &[
            "check",
            "--against",
            "HEAD",
            "--format",
            "json",
            "--no-lint",
        ],
    );
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert!(findings(&doc).is_empty(), "{doc:#}");

    for (format, needle) in [
        ("text", "[enum-empty]"),
        ("github", "[enum-empty]"),
        ("markdown", "`enum-empty`"),
        ("junit", "enum-empty"),
    ] {
        let out = accord(
            dir.path(),
            &["check", "--against", "HEAD", "--format", format],
        );
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(stdout(&out).contains(needle), "{format}: {}", stdout(&out));
    }

    // Warnings alone are shown and do not fail the check.
    write(dir.path(), "contracts/e/schema.json", CLEAN);
    write(
        dir.path(),
        "contracts/e.contract.yaml",
        &contract("e", "2.0.0", "e/schema.json"),
    );
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "clean"]);
    write(
        dir.path(),
        "contracts/e/schema.json",
        &CLEAN.replace("\"description\": \"Where it is.\"", "\"title\": \"Status\""),
    );
    write(
        dir.path(),
        "contracts/e.contract.yaml",
        &contract("e", "2.0.1", "e/schema.json"),
    );
    let out = accord(
        dir.path(),
        &["check", "--against", "HEAD", "--format", "json"],
    );
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(out.status.code(), Some(0), "{doc:#}");
    assert_eq!(
        one(&doc, "description-missing", "/properties/status")["level"],
        "warning"
    );
}

#[test]
fn a_breaking_change_ignored_by_rule_and_path_is_shown_and_passes() {
    let v1 = r#"{"description": "x", "type": "object", "additionalProperties": false,
  "properties": {"status": {"description": "s", "enum": ["new", "paid"]}}}
"#;
    let dir = repo(&[
        (
            "contracts/internal/a.contract.yaml",
            &contract("a", "1.0.0", "a.json"),
        ),
        ("contracts/internal/a.json", v1),
        (
            "contracts/public/b.contract.yaml",
            &contract("b", "1.0.0", "b.json"),
        ),
        ("contracts/public/b.json", v1),
    ]);
    let narrower = v1.replace(", \"paid\"", "");
    write(dir.path(), "contracts/internal/a.json", &narrower);
    write(dir.path(), "contracts/public/b.json", &narrower);
    for (f, name) in [("internal/a", "a"), ("public/b", "b")] {
        write(
            dir.path(),
            &format!("contracts/{f}.contract.yaml"),
            &contract(name, "1.0.1", &format!("{name}.json")),
        );
    }
    write(
        dir.path(),
        "accord.yaml",
        "breaking:\n  ignore:\n    - rule: enum-value-removed\n      paths: ['contracts/internal/**']\n      reason: internal topic\n    - rule: version-bump-too-small\n      paths: [contracts/internal]\n",
    );
    let out = accord(
        dir.path(),
        &["check", "--against", "HEAD", "--format", "json"],
    );
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(out.status.code(), Some(1), "b still breaks: {doc:#}");
    let by_name = |n: &str| {
        doc["contracts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()
    };
    let a = by_name("a");
    let removed = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "enum-value-removed")
        .unwrap_or_else(|| panic!("{a:#}"));
    assert_eq!(removed["ignored"]["reason"], "internal topic");
    assert!(
        a["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["level"] != "error" || !f["ignored"].is_null()),
        "{a:#}"
    );
    let b = by_name("b");
    assert!(
        b["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "enum-value-removed" && f["ignored"].is_null()),
        "{b:#}"
    );

    // Without b, the check passes, and the text shows what was ignored.
    std::fs::remove_dir_all(dir.path().join("contracts/public")).unwrap();
    git(dir.path(), &["rm", "-rq", "--cached", "contracts/public"]);
    git(dir.path(), &["commit", "-q", "-m", "drop b"]);
    let out = accord(dir.path(), &["check", "--against", "HEAD"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ignored  [enum-value-removed]") && text.contains("internal topic"),
        "{text}"
    );
}

#[test]
fn a_contract_files_own_lint_settings_win_over_accord_yaml() {
    let dir = messy_repo();
    write(
        dir.path(),
        "accord.yaml",
        "lint:\n  enable: [enum-empty, description-missing]\n",
    );
    write(
        dir.path(),
        "contracts/e.contract.yaml",
        &(contract("e", "1.0.0", "e/schema.json")
            + "lint:\n  case: camelCase\n  disable: [enum-empty]\n  severity:\n    property-name-case: error\n"),
    );
    let (code, doc) = json_lint(dir.path(), &[]);
    assert_eq!(code, Some(1), "{doc:#}");
    assert!(!has(&doc, "enum-empty", "/properties/none"), "{doc:#}");
    assert!(
        has(&doc, "description-missing", "/properties/meta"),
        "{doc:#}"
    );
    // Named with a severity in the contract file: it runs although `enable` leaves it out.
    assert_eq!(
        one(&doc, "property-name-case", "/properties/customer_id")["level"],
        "error"
    );
    assert!(!has(&doc, "property-name-case", "/properties/orderTotal"));

    write(
        dir.path(),
        "contracts/e.contract.yaml",
        &(contract("e", "1.0.0", "e/schema.json") + "lint:\n  severity:\n    enum-empty: loud\n"),
    );
    let out = accord(dir.path(), &["lint"]);
    let err = String::from_utf8_lossy(&out.stderr);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(3), "{text}{err}");
    assert!(
        text.contains("contracts/e.contract.yaml:10:5: unknown severity `loud`"),
        "{text}{err}"
    );
}
