//! `accord import --from-confluent`: copying a Confluent-compatible registry keeps
//! schema ids, version numbers, deleted versions and compatibility levels, replays
//! the engine for semantic versions, orders referenced subjects first, lists
//! non-JSON subjects as skipped, and can be run again safely.
//!
//! Sources: a registry filled through Accord's own Confluent API, and a recorded
//! registry answering in Confluent's documented shapes for what Accord never produces
//! (AVRO and PROTOBUF subjects, answers without `schemaType`, basic auth).

use std::collections::HashMap;
use std::process::Output;

use axum::http::{HeaderMap, StatusCode as AxumStatus, Uri};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, fresh_db, spawn_app, spawn_app_at};

const CT: (&str, &str) = ("content-type", "application/vnd.schemaregistry.v1+json");

async fn accord(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(&args)
            .env("ACCORD_LOG", "warn")
            .output()
            .expect("run accord")
    })
    .await
    .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn confluent(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let a = app.request(method, path, Some(&body), &[CT]).await;
    assert!(a.status.is_success(), "{path}: {} {}", a.status, a.text);
    a.json
}

async fn register(app: &TestApp, subject: &str, schema: Value, references: Value) -> i64 {
    let body =
        json!({"schemaType": "JSON", "schema": schema.to_string(), "references": references});
    confluent(
        app,
        Method::POST,
        &format!("/subjects/{subject}/versions"),
        body,
    )
    .await["id"]
        .as_i64()
        .unwrap()
}

fn object(description: &str) -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"], "description": description})
}

/// A source with a breaking change made under NONE, a soft-deleted version, a
/// subject with its own level, one schema under two subjects, and a reference from a
/// subject that sorts before the one it refers to.
async fn populate(source: &TestApp) {
    confluent(
        source,
        Method::PUT,
        "/config/orders-value",
        json!({"compatibility": "NONE"}),
    )
    .await;
    register(source, "orders-value", object("v1"), json!([])).await;
    register(source, "orders-value", json!({"type": "string"}), json!([])).await;
    confluent(
        source,
        Method::PUT,
        "/config/orders-value",
        json!({"compatibility": "BACKWARD_TRANSITIVE"}),
    )
    .await;
    register(
        source,
        "orders-value",
        json!({"type": "string", "description": "now a string"}),
        json!([]),
    )
    .await;
    register(source, "orders-copy", object("v1"), json!([])).await;

    for n in 1..=3 {
        register(
            source,
            "customers-value",
            object(&format!("c{n}")),
            json!([]),
        )
        .await;
    }
    confluent(
        source,
        Method::DELETE,
        "/subjects/customers-value/versions/3",
        json!(null),
    )
    .await;
    register(source, "customers-value", object("c4"), json!([])).await;

    register(
        source,
        "shared-address",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        json!([]),
    )
    .await;
    register(
        source,
        "a-label",
        json!({"type": "object", "properties": {"to": {"$ref": "address.json"}}}),
        json!([{"name": "address.json", "subject": "shared-address", "version": 1}]),
    )
    .await;
}

/// What a Confluent client reads from a registry, per subject.
async fn view(app: &TestApp, subjects: &[&str]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for s in subjects {
        for path in [
            format!("/subjects/{s}/versions"),
            format!("/subjects/{s}/versions?deleted=true"),
            format!("/config/{s}?defaultToGlobal=true"),
        ] {
            out.push((path.clone(), app.get(&path).await.json));
        }
        let all = app
            .get(&format!("/subjects/{s}/versions?deleted=true"))
            .await
            .json;
        for n in all.as_array().unwrap() {
            let path = format!("/subjects/{s}/versions/{n}?deleted=true");
            let mut v = app.get(&path).await.json;
            // Confluent's `ts` is the registration time here, which an import cannot keep.
            v.as_object_mut().unwrap().remove("ts");
            let id = v["id"].as_i64().unwrap();
            out.push((path, v));
            let path = format!("/schemas/ids/{id}");
            out.push((path.clone(), app.get(&path).await.json));
        }
    }
    out
}

async fn import_from(source: &str, database: &str, more: &[&str]) -> Output {
    let mut args: Vec<String> = ["import", "--from-confluent", source, "--database", database]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(more.iter().map(|s| s.to_string()));
    accord(args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confluent_registry_is_copied_into_sqlite_with_its_ids_versions_and_levels() {
    copy_a_confluent_registry(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_confluent_registry_is_copied_into_postgres_with_its_ids_versions_and_levels() {
    copy_a_confluent_registry(Backend::Postgres).await;
}

async fn copy_a_confluent_registry(backend: Backend) {
    let target = fresh_db(backend)
        .await
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    let source = spawn_app(Backend::Sqlite).await.unwrap();
    populate(&source).await;
    let out = import_from(&source.base, &target.url, &[]).await;
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("SUBJECT") && text.contains("5 subjects imported"),
        "{text}"
    );

    let subjects = [
        "a-label",
        "customers-value",
        "orders-copy",
        "orders-value",
        "shared-address",
    ];
    let url = target.url.clone();
    let copy = spawn_app_at(target).await;
    assert_eq!(view(&source, &subjects).await, view(&copy, &subjects).await);

    // Semantic versions come from replaying the engine under each subject's level:
    // the change to a string breaks BACKWARD_TRANSITIVE, so it takes a major.
    let orders = copy.get("/api/v1/contracts/orders-value/versions").await;
    assert!(orders.status.is_success(), "{}", orders.text);
    let numbers: Vec<&str> = orders.json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1.0.0", "2.0.0", "2.0.1"], "{}", orders.text);
    let customers = copy
        .get("/api/v1/contracts/customers-value/versions?deleted=true")
        .await;
    let deleted: Vec<(Value, Value)> = customers.json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["seq"].clone(), v["deleted"].clone()))
        .collect();
    assert_eq!(
        deleted,
        [
            (json!(1), json!(false)),
            (json!(2), json!(false)),
            (json!(3), json!(true)),
            (json!(4), json!(false))
        ],
        "{}",
        customers.text
    );

    // Running it again finds everything in place and writes nothing.
    let again = import_from(&source.base, &url, &["--format", "json"]).await;
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let summary: Value = serde_json::from_str(stdout(&again).trim()).unwrap();
    for row in summary["subjects"].as_array().unwrap() {
        assert_eq!(row["imported"], 0, "{row}");
        assert_eq!(row["present"], row["versions"], "{row}");
        assert_eq!(row["outcome"], "imported", "{row}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_can_be_chosen_by_glob() {
    let source = spawn_app(Backend::Sqlite).await.unwrap();
    populate(&source).await;
    let target = fresh_db(Backend::Sqlite).await.unwrap();
    let out = import_from(
        &source.base,
        &target.url,
        &["--subjects", "orders-*", "--format", "json"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let names: Vec<&str> = summary["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders-copy", "orders-value"]);
    let copy = spawn_app_at(target).await;
    assert_eq!(
        copy.get("/subjects").await.json,
        json!(["orders-copy", "orders-value"])
    );
}

/// Answers recorded in the shapes Confluent documents, behind basic auth.
async fn recorded_registry() -> (String, tokio::sync::oneshot::Sender<()>) {
    let avro = r#"{"type":"record","name":"Payment","fields":[{"name":"id","type":"string"}]}"#;
    let value = json!({"$id": "https://example.com/value.json", "type": "object", "properties": {"amount": {"type": "number"}}});
    let child = json!({"type": "object", "properties": {"value": {"$ref": "https://example.com/value.json"}}});
    let answers: HashMap<&str, Value> = HashMap::from([
        ("/config", json!({"compatibilityLevel": "FULL"})),
        (
            "/subjects",
            json!([
                "payments-avro",
                "payments-proto",
                "json-value",
                "json-child"
            ]),
        ),
        ("/subjects/payments-avro/versions", json!([1])),
        // Before 2025 Confluent left `schemaType` out for AVRO.
        (
            "/subjects/payments-avro/versions/1",
            json!({"subject": "payments-avro", "version": 1, "id": 1, "schema": avro}),
        ),
        ("/subjects/payments-proto/versions", json!([1])),
        (
            "/subjects/payments-proto/versions/1",
            json!({"subject": "payments-proto", "version": 1, "id": 2, "schemaType": "PROTOBUF", "schema": "syntax = \"proto3\";\nmessage Payment { string id = 1; }\n"}),
        ),
        ("/subjects/json-value/versions", json!([1, 2])),
        (
            "/subjects/json-value/versions/1",
            json!({"subject": "json-value", "version": 1, "id": 100, "schemaType": "JSON", "schema": value.to_string()}),
        ),
        (
            "/subjects/json-value/versions/2",
            json!({"subject": "json-value", "version": 2, "id": 101, "schemaType": "JSON", "schema": json!({"$id": "https://example.com/value.json", "type": "object", "properties": {"amount": {"type": "number"}}, "description": "amounts"}).to_string()}),
        ),
        ("/subjects/json-child/versions", json!([1])),
        (
            "/subjects/json-child/versions/1",
            json!({"subject": "json-child", "version": 1, "id": 102, "schemaType": "JSON", "schema": child.to_string(),
                   "references": [{"name": "https://example.com/value.json", "subject": "json-value", "version": 1}]}),
        ),
        ("/config/json-child", json!({"compatibilityLevel": "NONE"})),
    ]);
    let answers: HashMap<String, Value> = answers
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let answers = answers.clone();
        async move {
            // reader:s3cret
            let authorised = headers
                .get("authorization")
                .is_some_and(|v| v == "Basic cmVhZGVyOnMzY3JldA==");
            if !authorised {
                return (AxumStatus::UNAUTHORIZED, axum::Json(json!({"error_code": 401, "message": "Unauthorized"})));
            }
            match answers.get(uri.path()) {
                Some(v) => (AxumStatus::OK, axum::Json(v.clone())),
                None if uri.path().starts_with("/config/") => (
                    AxumStatus::NOT_FOUND,
                    axum::Json(json!({"error_code": 40408, "message": "Subject does not have subject-level compatibility configured"})),
                ),
                None => (AxumStatus::NOT_FOUND, axum::Json(json!({"error_code": 404, "message": "HTTP 404 Not Found"}))),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (format!("http://{addr}"), tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_and_protobuf_subjects_are_listed_as_skipped_and_json_ones_imported() {
    let (url, _stop) = recorded_registry().await;
    let target = fresh_db(Backend::Sqlite).await.unwrap();

    let refused = import_from(&url, &target.url, &[]).await;
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("401"), "{stderr}");

    let out = import_from(
        &url,
        &target.url,
        &["--basic-auth", "reader:s3cret", "--format", "json"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    let rows: HashMap<String, Value> = summary["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["subject"].as_str().unwrap().to_owned(), r.clone()))
        .collect();
    assert_eq!(rows["payments-avro"]["outcome"], "skipped");
    assert_eq!(rows["payments-avro"]["schema_type"], "AVRO");
    assert_eq!(rows["payments-proto"]["outcome"], "skipped");
    assert_eq!(rows["payments-proto"]["schema_type"], "PROTOBUF");
    assert_eq!(rows["json-value"]["outcome"], "imported", "{summary}");
    assert_eq!(rows["json-child"]["outcome"], "imported", "{summary}");

    let copy = spawn_app_at(target).await;
    assert_eq!(
        copy.get("/subjects").await.json,
        json!(["json-child", "json-value"])
    );
    assert_eq!(
        copy.get("/subjects/json-value/versions/2").await.json["id"],
        101
    );
    let child = copy.get("/subjects/json-child/versions/1").await;
    assert_eq!(child.json["id"], 102, "{}", child.text);
    assert_eq!(child.json["references"][0]["subject"], "json-value");
    // json-value follows the source's global FULL (this registry's is BACKWARD);
    // json-child keeps its own NONE.
    assert_eq!(
        copy.get("/config/json-value").await.json["compatibilityLevel"],
        "FULL"
    );
    assert_eq!(
        copy.get("/config/json-child").await.json["compatibilityLevel"],
        "NONE"
    );
    let a = copy.get("/schemas/ids/1").await;
    assert_eq!(
        a.status,
        StatusCode::NOT_FOUND,
        "the AVRO schema was not imported"
    );
}
