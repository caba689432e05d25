//! The consumer library (`accord::client::Client`) and `accord validate --registry`
//! against the real server: ranges, validation that agrees with the server's
//! validate endpoint, HTTP caching (immutable exact versions, 304 revalidation of
//! `latest`) and the offline start from the disk cache.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use accord::client::{Client, ClientError, Origin};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

const NAME: &str = "billing.invoice_paid";

fn schema(extra: Option<&str>) -> Value {
    let mut properties = json!({
        "invoice_id": {"type": "string"},
        "payer_email": {"type": "string", "format": "email"}
    });
    if let Some(p) = extra {
        properties[p] = json!({"type": "string"});
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["invoice_id", "payer_email"],
        "additionalProperties": false,
        "properties": properties
    })
}

/// Registers 1.0.0 and 1.1.0 (an optional property added to a closed object is a
/// minor change).
async fn register(app: &TestApp) {
    for (extra, version) in [(None, "1.0.0"), (Some("note"), "1.1.0")] {
        let a = app.register(NAME, &schema(extra)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        assert_eq!(a.json["version"], version, "{}", a.text);
    }
}

fn client(app: &TestApp, cache: &Path) -> Client {
    Client::builder(&app.base)
        .cache_dir(cache)
        .build()
        .expect("client")
}

/// Makes every answer in the disk cache look fetched long ago, as a consumer
/// restarted after `max-age` would find it (instead of sleeping past `max-age`).
fn age_disk_cache(dir: &Path) {
    let mut aged = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read cache dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let mut answer: Value =
                    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                answer["freshness"]["fetched_at"] = json!(0);
                std::fs::write(&path, serde_json::to_vec(&answer).unwrap()).unwrap();
                aged += 1;
            }
        }
    }
    assert!(aged > 0, "no cached answers under {}", dir.display());
}

async fn a_range_is_fetched_and_records_are_judged_as_the_server_judges_them(app: TestApp) {
    register(&app).await;
    let cache = tempfile::tempdir().unwrap();
    let fetched = client(&app, cache.path()).fetch(NAME, "^1").await.unwrap();
    assert_eq!(fetched.origin, Origin::Registry);
    let contract = fetched.contract;
    assert_eq!(contract.version().unwrap().to_string(), "1.1.0");
    assert!(contract.schema_id().is_some());

    let good = json!({"invoice_id": "INV-1", "payer_email": "a@example.com"});
    let bad = json!({"invoice_id": 7, "payer_email": "Jane <jane@example.com>"});
    assert!(contract.validate(&good).is_empty());
    let client_says = contract.validate(&bad);
    assert_eq!(client_says.len(), 2, "{client_says:?}");

    let server = app
        .post(
            &format!("/api/v1/contracts/{NAME}/versions/%5E1/validate"),
            &bad,
        )
        .await;
    assert_eq!(server.status, StatusCode::OK, "{}", server.text);
    assert_eq!(server.json["valid"], false);
    assert_eq!(
        server.json["contract"]["schema_id"],
        json!(contract.schema_id())
    );
    assert_eq!(
        server.json["errors"],
        serde_json::to_value(&client_says.listed).unwrap()
    );
}

async fn an_exact_version_is_not_refetched_and_latest_is_revalidated_after_max_age(
    mut app: TestApp,
) {
    register(&app).await;
    let cache = tempfile::tempdir().unwrap();
    let c = client(&app, cache.path());
    assert_eq!(
        c.fetch(NAME, "1.0.0").await.unwrap().origin,
        Origin::Registry
    );
    assert_eq!(
        c.fetch(NAME, "latest").await.unwrap().origin,
        Origin::Registry
    );
    assert_eq!(c.fetch(NAME, "1.0.0").await.unwrap().origin, Origin::Cache);

    // `latest` is fresh for max-age=5 only; past it, the client asks with its ETag
    // and the server answers 304.
    age_disk_cache(cache.path());
    let restarted = client(&app, cache.path());
    let latest = restarted.fetch(NAME, "latest").await.unwrap();
    assert_eq!(latest.origin, Origin::Revalidated);
    assert_eq!(latest.contract.version().unwrap().to_string(), "1.1.0");
    // The exact version is immutable: even aged, it is used without a request, which
    // the stopped server proves.
    app.stop().await;
    let exact = restarted.fetch(NAME, "1.0.0").await.unwrap();
    assert_eq!(exact.origin, Origin::Cache);
    assert!(exact.warnings.is_empty(), "{:?}", exact.warnings);
}

async fn a_consumer_starts_from_the_disk_cache_while_the_registry_is_down(mut app: TestApp) {
    register(&app).await;
    let cache = tempfile::tempdir().unwrap();
    let base = app.base.clone();
    let first = client(&app, cache.path()).fetch(NAME, "^1").await.unwrap();
    assert_eq!(first.origin, Origin::Registry);
    app.stop().await;
    age_disk_cache(cache.path());

    let offline = Client::builder(&base)
        .cache_dir(cache.path())
        .build()
        .unwrap()
        .fetch(NAME, "^1")
        .await
        .unwrap();
    assert!(
        matches!(offline.origin, Origin::Offline { .. }),
        "{:?}",
        offline.origin
    );
    assert_eq!(offline.contract.version().unwrap().to_string(), "1.1.0");
    assert!(
        offline
            .warnings
            .iter()
            .any(|w| w.contains("unreachable") && w.contains(&format!("{NAME} 1.1.0"))),
        "{:?}",
        offline.warnings
    );

    let empty = tempfile::tempdir().unwrap();
    let err = Client::builder(&base)
        .cache_dir(empty.path())
        .build()
        .unwrap()
        .fetch(NAME, "^1")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("no cached copy"), "{err}");
}

/// Runs `accord validate` off the async runtime, so the server keeps serving.
async fn accord_validate(app: &TestApp, cache: &Path, stdin: String) -> Output {
    let args = [
        "validate".to_owned(),
        "--registry".to_owned(),
        app.base.clone(),
        "--contract".to_owned(),
        format!("{NAME}@^1"),
        "--cache-dir".to_owned(),
        cache.display().to_string(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_accord"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("accord starts");
        let mut pipe = child.stdin.take().expect("stdin is piped");
        std::thread::spawn(move || pipe.write_all(stdin.as_bytes()));
        child.wait_with_output().expect("accord runs")
    })
    .await
    .unwrap()
}

async fn accord_validate_checks_records_against_a_range_from_the_real_server(app: TestApp) {
    register(&app).await;
    let cache = tempfile::tempdir().unwrap();
    let good = json!({"invoice_id": "INV-1", "payer_email": "a@example.com"}).to_string();
    let bad = json!({"invoice_id": "INV-2", "payer_email": "nope"}).to_string();

    let out = accord_validate(&app, cache.path(), format!("{good}\n{good}\n")).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).expect("one JSON summary");
    assert_eq!(summary["contract"]["name"], NAME);
    assert_eq!(summary["contract"]["version"], "1.1.0");
    assert_eq!(
        (&summary["records"], &summary["valid"]),
        (&json!(2), &json!(2))
    );

    // The default breaker trips on any rejected record: exit 1.
    let out = accord_validate(&app, cache.path(), format!("{good}\n{bad}\n")).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).expect("one JSON summary");
    assert_eq!(
        (&summary["valid"], &summary["invalid"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(summary["breaker_tripped"], true);
}

/// `orders` refers to `customers`, which refers to `addresses`, each by `$id`.
async fn a_schema_that_refers_to_other_contracts_is_compiled_from_the_documents_sent_along(
    app: TestApp,
) {
    const ADDRESS: &str = "https://schemas.example.com/address.json";
    const CUSTOMER: &str = "https://schemas.example.com/customer.json";
    let address = json!({"$id": ADDRESS, "type": "object",
        "properties": {"zip": {"type": "string"}}, "required": ["zip"]});
    let customer = json!({"$id": CUSTOMER, "type": "object",
        "properties": {"id": {"type": "string"}, "address": {"$ref": ADDRESS}}});
    let order = json!({"type": "object", "required": ["customer"],
        "properties": {"customer": {"$ref": CUSTOMER}}});
    let refer = |uri: &str, contract: &str| json!({"references": [{"name": uri, "contract": contract, "version": "^1"}]});
    let a = app.register("shared.address", &address).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let c = app
        .register_with(
            "shared.customer",
            &customer,
            refer(ADDRESS, "shared.address"),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    let o = app
        .register_with(NAME, &order, refer(CUSTOMER, "shared.customer"))
        .await;
    assert_eq!(o.status, StatusCode::CREATED, "{}", o.text);

    let version = app
        .get(&format!("/api/v1/contracts/{NAME}/versions/latest"))
        .await;
    let mut uris: Vec<&String> = version.json["documents"]
        .as_object()
        .expect("documents")
        .keys()
        .collect();
    uris.sort();
    assert_eq!(uris, [ADDRESS, CUSTOMER]);
    assert_eq!(version.json["documents"][ADDRESS], address);

    let cache = tempfile::tempdir().unwrap();
    let contract = client(&app, cache.path())
        .contract(NAME, "^1")
        .await
        .expect("a contract with references loads");
    let good = json!({"customer": {"id": "c-1", "address": {"zip": "10115"}}});
    let bad = json!({"customer": {"id": "c-1", "address": {"zip": 10115}}});
    assert!(contract.validate(&good).is_empty());
    let client_says = contract.validate(&bad);
    assert_eq!(client_says.len(), 1, "{client_says:?}");
    let server = app
        .post(
            &format!("/api/v1/contracts/{NAME}/versions/latest/validate"),
            &bad,
        )
        .await;
    assert_eq!(
        server.json["errors"],
        serde_json::to_value(&client_says.listed).unwrap(),
        "the client and the server judge a referring schema alike"
    );
    assert_eq!(
        server.json["errors"][0]["instance_path"],
        "/customer/address/zip"
    );
}

on_both_backends!(
    a_schema_that_refers_to_other_contracts_is_compiled_from_the_documents_sent_along,
    a_range_is_fetched_and_records_are_judged_as_the_server_judges_them,
    an_exact_version_is_not_refetched_and_latest_is_revalidated_after_max_age,
    a_consumer_starts_from_the_disk_cache_while_the_registry_is_down,
    accord_validate_checks_records_against_a_range_from_the_real_server,
);
