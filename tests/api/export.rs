//! `accord export` and `accord import`: a registry moved from one database to another,
//! on either backend, keeps every record (ids, seqs, versions, deleted state,
//! configuration), so consumers see the same answers and ETags; imports refuse a
//! non-empty database unless merging, stop at a conflicting record, and refuse a cut
//! dump, writing nothing.

use std::path::Path;
use std::process::Output;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_db, spawn_app, spawn_app_at};

const NEEDS_URL: &str = "ACCORD_TEST_POSTGRES_URL is set when the tests are built and run";

fn accord(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(args)
        .env("ACCORD_LOG", "warn")
        .env_remove("ACCORD_DATABASE_URL")
        .output()
        .expect("run accord")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn export(database: &str, file: &Path) {
    ok(&accord(&[
        "export",
        "--database",
        database,
        "--out",
        file.to_str().unwrap(),
    ]));
}

/// The dump's records without the header line (which says when it was written).
fn records(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).expect("dump");
    let mut lines = text.lines();
    let header: Value = serde_json::from_str(lines.next().expect("header")).unwrap();
    assert_eq!(header["kind"], "header");
    assert_eq!(header["format"], 1);
    lines.map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn object(n: usize) -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}}, "description": format!("step {n}")})
}

/// Fills a registry with every kind of record: metadata, overrides, a changed global
/// configuration, a shared schema, references, a soft-deleted and a permanently
/// deleted version, a breaking change, and a subject registered through the Confluent
/// API.
async fn populate(app: &TestApp) {
    let put = app
        .put(
            "/api/v1/config",
            &json!({"mode": "FULL", "policy": "lenient"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let first = app
        .register_with(
            "orders.order_placed",
            &object(0),
            json!({"owner": "team-orders", "description": "an order", "tags": ["pii", "core"]}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    for n in 1..4 {
        let a = app.register("orders.order_placed", &object(n)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    }
    // Soft-delete 1.0.2; soft- then permanently delete 1.0.3 (seq 4 is never reused).
    for (v, permanent) in [("1.0.2", false), ("1.0.3", false), ("1.0.3", true)] {
        let path =
            format!("/api/v1/contracts/orders.order_placed/versions/{v}?permanent={permanent}");
        let d = app.delete(&path).await;
        assert!(d.status.is_success(), "{path}: {} {}", d.status, d.text);
    }
    let cfg = app
        .put(
            "/api/v1/contracts/customers.customer/config",
            &json!({"mode": "NONE"}),
        )
        .await;
    assert_eq!(cfg.status, StatusCode::OK, "{}", cfg.text);
    let c = app.register("customers.customer", &object(0)).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let broken = app
        .register_with(
            "customers.customer",
            &json!({"type": "string"}),
            json!({"allow_breaking": true}),
        )
        .await;
    assert_eq!(broken.status, StatusCode::CREATED, "{}", broken.text);
    // A schema referring to another contract.
    let address = json!({"$id": "https://example.com/address.json", "type": "object", "properties": {"city": {"type": "string"}}});
    let a = app.register("shared.address", &address).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let with_ref = app
        .register_with(
            "shipping.label",
            &json!({"type": "object", "properties": {"to": {"$ref": "https://example.com/address.json"}}}),
            json!({"references": [{"name": "https://example.com/address.json", "contract": "shared.address", "version": "latest"}]}),
        )
        .await;
    assert_eq!(with_ref.status, StatusCode::CREATED, "{}", with_ref.text);
    // Through the Confluent API, with a name the native API would refuse.
    let confluent = app
        .request(
            reqwest::Method::POST,
            "/subjects/Orders-Value/versions",
            Some(&json!({"schemaType": "JSON", "schema": object(0).to_string()})),
            &[("content-type", "application/vnd.schemaregistry.v1+json")],
        )
        .await;
    assert_eq!(confluent.status, StatusCode::OK, "{}", confluent.text);
}

/// Every read a consumer makes, with the headers caches key on.
async fn observe(app: &TestApp) -> Vec<(String, StatusCode, Option<String>, String)> {
    let mut paths = vec![
        "/api/v1/config".to_owned(),
        "/api/v1/contracts".to_owned(),
        "/config".to_owned(),
        "/subjects".to_owned(),
        "/subjects/Orders-Value/versions/1".to_owned(),
    ];
    for name in [
        "orders.order_placed",
        "customers.customer",
        "shared.address",
        "shipping.label",
    ] {
        paths.push(format!("/api/v1/contracts/{name}"));
        paths.push(format!("/api/v1/contracts/{name}/config"));
        for selector in ["latest", "1.0.0", "1.0.1", "1.0.2", "2.0.0", "%5E1"] {
            paths.push(format!("/api/v1/contracts/{name}/versions/{selector}"));
            paths.push(format!(
                "/api/v1/contracts/{name}/versions/{selector}/schema"
            ));
        }
    }
    for id in 1..=8 {
        paths.push(format!("/api/v1/schemas/{id}"));
        paths.push(format!("/schemas/ids/{id}"));
    }
    let mut seen = Vec::new();
    for path in paths {
        let a = app.get(&path).await;
        let etag = a
            .headers
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        seen.push((path, a.status, etag, a.text));
    }
    seen
}

async fn round_trip(from: Backend, to: Backend) {
    let source = spawn_app(from).await.expect(NEEDS_URL);
    let target = fresh_db(to).await.expect(NEEDS_URL);
    populate(&source).await;
    let before = observe(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.ndjson");
    export(&source._db.url, &first);

    let out = ok(&accord(&[
        "import",
        first.to_str().unwrap(),
        "--database",
        &target.url,
    ]));
    assert!(out.contains("imported 5 contracts"), "{out}");
    let second = dir.path().join("second.ndjson");
    export(&target.url, &second);
    let (a, b) = (records(&first), records(&second));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "a record changed on the way");
    }
    let deleted: Vec<&Value> = a
        .iter()
        .filter(|r| r["kind"] == "version" && r["deleted"] == true)
        .collect();
    assert_eq!(deleted.len(), 1, "the soft-deleted version travels");

    // Consumers see the same answers, byte for byte, with the same ETags.
    let moved = spawn_app_at(target).await;
    let after = observe(&moved).await;
    for (x, y) in before.iter().zip(&after) {
        assert_eq!(x, y, "{} answers differently after the move", x.0);
    }
    // New registrations continue the ids and seqs, never reusing one.
    let next = moved.register("orders.order_placed", &object(9)).await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.text);
    assert_eq!(
        next.json["seq"], 5,
        "seq 4 was deleted for good and stays unused"
    );
    let max_id = a
        .iter()
        .filter(|r| r["kind"] == "schema")
        .map(|r| r["id"].as_i64().unwrap())
        .max()
        .unwrap();
    assert!(
        next.json["schema_id"].as_i64().unwrap() > max_id,
        "{}",
        next.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_moves_from_sqlite_to_sqlite_unchanged() {
    round_trip(Backend::Sqlite, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_registry_moves_from_sqlite_to_postgres_unchanged() {
    round_trip(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_registry_moves_from_postgres_to_sqlite_unchanged() {
    round_trip(Backend::Postgres, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_registry_moves_from_postgres_to_postgres_unchanged() {
    round_trip(Backend::Postgres, Backend::Postgres).await;
}

async fn imports_refuse_what_they_cannot_take_whole(backend: Backend) {
    let source = spawn_app(backend).await.expect(NEEDS_URL);
    populate(&source).await;
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.ndjson");
    export(&source._db.url, &dump);
    let dump = dump.to_str().unwrap();

    // Into the very registry it came from: not empty.
    let refused = accord(&["import", dump, "--database", &source._db.url]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("not empty") && stderr.contains("--merge"),
        "{stderr}"
    );

    // Merged into it: everything is already there.
    let merged = ok(&accord(&[
        "import",
        dump,
        "--database",
        &source._db.url,
        "--merge",
        "--format",
        "json",
    ]));
    let summary: Value = serde_json::from_str(merged.trim()).unwrap();
    assert_eq!(summary["inserted"]["versions"], 0, "{summary}");
    assert_eq!(summary["skipped"]["versions"], 8, "{summary}");

    // A dump whose record differs from the stored one stops the merge, writing nothing.
    let changed = source.register("zzz.new_contract", &object(0)).await;
    assert_eq!(changed.status, StatusCode::CREATED);
    let text = std::fs::read_to_string(dump).unwrap();
    let conflicting = text.replace("\"owner\":\"team-orders\"", "\"owner\":\"someone-else\"");
    assert_ne!(conflicting, text);
    let conflicting_file = dir.path().join("conflicting.ndjson");
    std::fs::write(&conflicting_file, &conflicting).unwrap();
    let before = records_of(&source._db.url, dir.path());
    let stopped = accord(&[
        "import",
        conflicting_file.to_str().unwrap(),
        "--database",
        &source._db.url,
        "--merge",
    ]);
    assert_eq!(stopped.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        stderr.contains("orders.order_placed") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    assert_eq!(records_of(&source._db.url, dir.path()), before);

    // A cut dump is refused and leaves an empty database empty.
    let empty = fresh_db(backend).await.expect(NEEDS_URL);
    let cut: Vec<&str> = text.lines().collect();
    let cut_file = dir.path().join("cut.ndjson");
    std::fs::write(&cut_file, cut[..cut.len() - 1].join("\n")).unwrap();
    let refused = accord(&[
        "import",
        cut_file.to_str().unwrap(),
        "--database",
        &empty.url,
    ]);
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("cut short"), "{stderr}");
    let after = records_of(&empty.url, dir.path());
    assert!(
        after.iter().all(|r| r["kind"] == "global"),
        "a refused import wrote records: {after:?}"
    );

    // Not a dump at all.
    let other = dir.path().join("other.ndjson");
    std::fs::write(&other, "{\"hello\": 1}\n").unwrap();
    let refused = accord(&["import", other.to_str().unwrap(), "--database", &empty.url]);
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("dump header"), "{stderr}");
}

fn records_of(database: &str, dir: &Path) -> Vec<Value> {
    let file = dir.join(format!("check-{}.ndjson", rand_suffix()));
    export(database, &file);
    let mut all = records(&file);
    all.pop(); // the end line
    all
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imports_refuse_what_they_cannot_take_whole_on_sqlite() {
    imports_refuse_what_they_cannot_take_whole(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn imports_refuse_what_they_cannot_take_whole_on_postgres() {
    imports_refuse_what_they_cannot_take_whole(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_through_the_registry_equals_one_from_its_database() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    populate(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let direct = dir.path().join("direct.ndjson");
    export(&app._db.url, &direct);
    let served = dir.path().join("served.ndjson");
    let base = app.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        accord(&[
            "export",
            "--registry",
            &base,
            "--out",
            served.to_str().unwrap(),
            "--format",
            "json",
        ])
    })
    .await
    .unwrap();
    let summary: Value = serde_json::from_str(ok(&out).trim()).unwrap();
    assert_eq!(summary["contracts"], 5, "{summary}");
    assert_eq!(records(&direct), records(&dir.path().join("served.ndjson")));
    let answer = app.get("/api/v1/export").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.headers["content-type"], "application/x-ndjson",
        "{:?}",
        answer.headers
    );
}
