//! Consumers end to end through the command line, against a real `accord serve` on
//! SQLite and on PostgreSQL (when `ACCORD_TEST_POSTGRES_URL` is set): two consumers
//! deployed in `prod`, one reading only `/order_id`, one `/amount`; removing `/amount`
//! under NONE breaks the second and not the first (`check`, `can-i-deploy`), `block`
//! refuses it (`publish`), and the old line cannot be retired while the second is
//! deployed against it. And docs/consumers.md's walkthrough, run as written.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{Server, accord, stdout, write};
use serde_json::{Value, json};

/// Where a test's registry keeps its data.
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL schema in the database `ACCORD_TEST_POSTGRES_URL` names, dropped
/// on drop.
struct PgSchema {
    base: String,
    name: String,
}

impl PgSchema {
    fn create() -> PgSchema {
        let base = std::env::var("ACCORD_TEST_POSTGRES_URL")
            .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
        let name = format!(
            "ccli_consumers_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        run_sql(&base, &format!("CREATE SCHEMA {name}"));
        PgSchema { base, name }
    }

    fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options[search_path]={}", self.base, self.name)
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        run_sql(
            &self.base,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

fn run_sql(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(url)
            .await
            .expect("connect to ACCORD_TEST_POSTGRES_URL");
        sqlx::query(sql).execute(&pool).await.expect(sql);
        pool.close().await;
    });
}

/// A registry on a fresh database of `backend`, and what keeps that database.
fn registry(backend: Backend) -> (Server, Option<PgSchema>) {
    match backend {
        Backend::Sqlite => (Server::start(), None),
        Backend::Postgres => {
            let schema = PgSchema::create();
            (Server::start_on(&schema.url()), Some(schema))
        }
    }
}

fn send(method: reqwest::Method, url: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::blocking::Client::new();
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().expect("request");
    let status = response.status().as_u16();
    let text = response.text().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn orders(version: &str, properties: &str) -> String {
    format!(
        "name: orders\nversion: {version}\nowner: team-orders\ndescription: An order was placed.\ncompatibility: NONE\nschema:\n  type: object\n  properties:\n{properties}  required: [order_id]\n"
    )
}

const V1: &str = "    order_id: {type: string}\n    amount: {type: number}\n";
const WITHOUT_AMOUNT: &str = "    order_id: {type: string}\n";
const V2: &str = "    order_id: {type: string}\n    amount_cents: {type: integer}\n";

fn consumer(name: &str, range: &str, field: &str) -> String {
    format!(
        "name: {name}\nowner: team-{name}\nreads:\n  - contract: orders\n    range: \"{range}\"\n    fields: [{field}]\n"
    )
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout(out)
}

fn json_of(out: &Output) -> Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            stdout(out),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn scenario(backend: Backend) {
    let (server, _db) = registry(backend);
    let api = format!("{}/api/v1", server.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = server.url.as_str();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--registry", url]);
        accord(d, &all)
    };

    write(d, "contracts/orders.contract.yaml", &orders("1.0.0", V1));
    ok(&run(&["publish", "contracts"]));
    let (status, _) = send(
        reqwest::Method::PUT,
        &format!("{api}/environments/prod"),
        Some(json!({"protected": true})),
    );
    assert!(status == 200 || status == 201, "{status}");

    write(
        d,
        "shipping.consumer.yaml",
        &consumer("shipping.labels", "^1", "/order_id"),
    );
    write(
        d,
        "billing.consumer.yaml",
        &consumer("billing.export", "^1", "/amount"),
    );
    let out = run(&[
        "publish",
        "shipping.consumer.yaml",
        "billing.consumer.yaml",
        "--app-version",
        "v1",
    ]);
    let text = ok(&out);
    assert!(
        text.contains("consumer billing.export at v1: declared"),
        "{text}"
    );
    assert!(
        text.contains("consumer shipping.labels at v1: declared"),
        "{text}"
    );
    for name in ["shipping.labels", "billing.export"] {
        let out = run(&[
            "record-deployment",
            "--consumer",
            name,
            "--version",
            "v1",
            "--environment",
            "prod",
        ]);
        let text = ok(&out);
        assert!(text.contains("orders -> 1.0.0"), "{text}");
    }
    let matrix = json_of(&run(&["consumers", "orders", "--format", "json"]));
    let rows = matrix["consumers"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{matrix:#}");
    assert!(
        rows.iter()
            .all(|r| r["resolved_version"] == "1.0.0" && r["environment"] == "prod"),
        "{matrix:#}"
    );

    // A consumer file naming a field no version has is an error at its line and column.
    write(
        d,
        "typo.consumer.yaml",
        &consumer("billing.export", "^1", "/amout"),
    );
    let out = run(&["check", "typo.consumer.yaml", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc = json_of(&out);
    let f = &doc["contracts"][0]["findings"][0];
    assert_eq!(f["rule"], "consumer-field-unknown", "{doc:#}");
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("typo.consumer.yaml"), Some(6), Some(14)),
        "{doc:#}"
    );
    std::fs::remove_file(d.join("typo.consumer.yaml")).unwrap();

    // Removing /amount under NONE: the mode allows it; it breaks billing, not shipping.
    write(
        d,
        "contracts/orders.contract.yaml",
        &orders("1.1.0", WITHOUT_AMOUNT),
    );
    let out = run(&["check", "contracts", "--format", "json"]);
    let doc = json_of(&out);
    let section = doc["contracts"][0]["consumers"]
        .as_array()
        .expect("a consumers section")
        .clone();
    let row = |name: &str| {
        section
            .iter()
            .find(|r| r["consumer"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {doc:#}"))
    };
    assert_eq!(
        (
            row("billing.export")["receives"].clone(),
            row("billing.export")["breaks"].clone()
        ),
        (json!(true), json!(true)),
        "{doc:#}"
    );
    assert_eq!(
        (
            row("shipping.labels")["receives"].clone(),
            row("shipping.labels")["breaks"].clone()
        ),
        (json!(true), json!(false)),
        "{doc:#}"
    );
    let breaks: Vec<&Value> = doc["contracts"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "consumer-breaks")
        .collect();
    assert_eq!(breaks.len(), 1, "{doc:#}");
    assert!(
        breaks[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("billing.export in prod"),
        "{doc:#}"
    );
    for format in ["text", "markdown", "junit", "github"] {
        let out = run(&["check", "contracts", "--format", format]);
        let text = stdout(&out);
        assert!(
            text.contains("billing.export") && text.contains("shipping.labels"),
            "{format}: {text}"
        );
    }

    let can = |schema: &str| {
        run(&[
            "can-i-deploy",
            "--contract",
            "orders",
            "--schema",
            schema,
            "--environment",
            "prod",
            "--format",
            "json",
        ])
    };
    let out = can("contracts/orders.contract.yaml");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let answer = json_of(&out);
    let verdict = |name: &str| {
        answer["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["subject"].as_str().unwrap().starts_with(name))
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {answer:#}"))
    };
    assert_eq!(verdict("billing.export")["ok"], false, "{answer:#}");
    assert_eq!(verdict("shipping.labels")["ok"], true, "{answer:#}");
    // Another environment has nobody deployed: yes.
    let (status, _) = send(
        reqwest::Method::PUT,
        &format!("{api}/environments/dev"),
        Some(json!({"protected": false})),
    );
    assert!(status == 200 || status == 201, "{status}");
    let out = run(&[
        "can-i-deploy",
        "--contract",
        "orders",
        "--schema",
        "contracts/orders.contract.yaml",
        "--environment",
        "dev",
    ]);
    ok(&out);

    // Under block, publishing it is refused, naming billing.
    let (status, body) = send(
        reqwest::Method::PUT,
        &format!("{api}/contracts/orders/config"),
        Some(json!({"consumer_protection": "block"})),
    );
    assert_eq!(status, 200, "{body}");
    let out = run(&["publish", "contracts"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("refused"), "{}", stdout(&out));
    let out = run(&["check", "contracts", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let doc = json_of(&out);
    assert!(
        doc["contracts"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "consumer-breaks" && f["level"] == "error"),
        "{doc:#}"
    );
    let (_, versions) = send(
        reqwest::Method::GET,
        &format!("{api}/contracts/orders"),
        None,
    );
    assert_eq!(
        versions["versions"].as_array().unwrap().len(),
        1,
        "{versions:#}"
    );

    // The change ships as 2.0.0 instead; ^1 readers do not receive it.
    write(d, "contracts/orders.contract.yaml", &orders("2.0.0", V2));
    ok(&can("contracts/orders.contract.yaml"));
    ok(&run(&["publish", "contracts"]));

    // Shipping moves to ^2; billing is still deployed against 1.0.0: retiring refused.
    write(
        d,
        "shipping.consumer.yaml",
        &consumer("shipping.labels", "^2", "/order_id"),
    );
    ok(&run(&[
        "can-i-deploy",
        "--consumer",
        "shipping.consumer.yaml",
        "--environment",
        "prod",
    ]));
    ok(&run(&[
        "publish",
        "shipping.consumer.yaml",
        "--app-version",
        "v2",
    ]));
    ok(&run(&[
        "record-deployment",
        "--consumer",
        "shipping.labels",
        "--version",
        "v2",
        "--environment",
        "prod",
    ]));
    let (status, body) = send(
        reqwest::Method::POST,
        &format!("{api}/contracts/orders/lines/1/retire"),
        None,
    );
    assert_eq!(status, 409, "{body:#}");
    let in_the_way: Vec<&str> = body["error"]["details"]["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["consumer"].as_str().unwrap())
        .collect();
    assert_eq!(in_the_way, ["billing.export"], "{body:#}");

    // Billing on ^2 still asking for /amount cannot deploy; reading /amount_cents it can.
    write(
        d,
        "billing.consumer.yaml",
        &consumer("billing.export", "^2", "/amount"),
    );
    let out = run(&[
        "can-i-deploy",
        "--consumer",
        "billing.consumer.yaml",
        "--environment",
        "prod",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("/amount"), "{}", stdout(&out));
    write(
        d,
        "billing.consumer.yaml",
        &consumer("billing.export", "^2", "/amount_cents"),
    );
    ok(&run(&[
        "can-i-deploy",
        "--consumer",
        "billing.consumer.yaml",
        "--environment",
        "prod",
    ]));
    ok(&run(&[
        "publish",
        "billing.consumer.yaml",
        "--app-version",
        "v2",
    ]));
    ok(&run(&[
        "record-deployment",
        "--consumer",
        "billing.export",
        "--version",
        "v2",
        "--environment",
        "prod",
    ]));
    let (status, body) = send(
        reqwest::Method::POST,
        &format!("{api}/contracts/orders/lines/1/retire"),
        None,
    );
    assert_eq!(status, 200, "{body:#}");
}

#[test]
fn removing_a_field_breaks_only_its_reader_is_blocked_and_holds_the_old_line_on_sqlite() {
    scenario(Backend::Sqlite);
}

#[test]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
fn removing_a_field_breaks_only_its_reader_is_blocked_and_holds_the_old_line_on_postgres() {
    scenario(Backend::Postgres);
}

#[test]
fn a_consumer_file_with_a_mistake_is_refused_with_its_position_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "b.consumer.yaml",
        "name: b\nowner: o\nreads:\n  - contract: orders\n    range: \"^1\"\n    feilds: [/amount]\n",
    );
    // No registry listens there: the file is refused before any request.
    let out = accord(
        dir.path(),
        &[
            "publish",
            "b.consumer.yaml",
            "--app-version",
            "x",
            "--registry",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("b.consumer.yaml:6:5: unknown field `feilds`; did you mean `fields`?"),
        "{err}"
    );
    // Outside a git repository, without --app-version, publish says where the version comes from.
    write(
        dir.path(),
        "b.consumer.yaml",
        "name: b\nowner: o\nreads:\n  - {contract: orders, range: \"^1\"}\n",
    );
    let out = accord(
        dir.path(),
        &[
            "publish",
            "b.consumer.yaml",
            "--registry",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pass --app-version"), "{err}");
    // Usage errors exit 2.
    let out = accord(
        dir.path(),
        &[
            "can-i-deploy",
            "--environment",
            "prod",
            "--registry",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = accord(
        dir.path(),
        &[
            "record-deployment",
            "--consumer",
            "B",
            "--version",
            "x",
            "--environment",
            "prod",
            "--registry",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    // An unreachable registry: cannot tell, 3.
    let out = accord(
        dir.path(),
        &[
            "can-i-deploy",
            "--consumer",
            "b.consumer.yaml",
            "--environment",
            "prod",
            "--registry",
            "http://127.0.0.1:9",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn the_walkthrough_in_docs_consumers_md_runs_as_written() {
    for tool in ["bash", "curl", "jq", "sed"] {
        let found = Command::new(tool).arg("--version").output().is_ok();
        assert!(
            found,
            "the walkthrough needs {tool}; install it to run this test"
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/consumers.md")).unwrap();
    let blocks = common::sh_blocks(&doc, "Walkthrough");
    assert!(blocks.len() >= 8, "{blocks:#?}");
    let server = Server::start();
    let work = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_accord")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = format!("set -euo pipefail\n{}\n", blocks.join("\n"))
        .replace("http://127.0.0.1:8081", &server.url);
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(work.path())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("ACCORD_REGISTRY")
        .env_remove("ACCORD_CONSUMER")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    // What the comments in the document say each step answers.
    for expected in [
        "{\"name\":\"prod\",\"protected\":true}",
        "consumer shipping.labels at s1: declared what it reads: orders ^1",
        "  orders -> 1.0.0",
        "[consumer-field-unknown]  typo.consumer.yaml:4:46",
        "billing.export in prod (protected) (^1, deployed against 1.0.0): receives it and BREAKS",
        "shipping.labels in prod (protected) (^1, deployed against 1.0.0): receives it, nothing it reads breaks",
        "can orders 1.1.0 be deployed to prod: no",
        "orders 1.1.0: refused",
        "{\"major\":1,\"sunset\":\"2027-03-01\",\"successor\":2}",
        "{\"code\":\"consumers-deployed\",\"consumers\":[\"billing.export\"]}",
        "no  orders ^2: 2.0.0 has no field /amount",
        "{\"major\":1,\"retired\":[\"1.0.0\"]}",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
    }
    assert!(
        stderr.contains("warning: orders: the registry deprecates the major line"),
        "--- stderr\n{stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("CONSUMER"))
        .expect("the matrix");
    assert!(
        lines[header + 1].starts_with("billing.export") && lines[header + 1].contains("1.0.0"),
        "{stdout}"
    );
}
