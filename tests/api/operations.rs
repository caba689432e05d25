//! Operating the server: `/metrics` (what it counts, who may read it, turned off),
//! request ids, and compressed answers.

use std::io::Read;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_configured};

/// The value of the sample named exactly `series` (name and labels as printed).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        value.split(' ').next()?.parse().ok()
    })
}

fn expect_sample(metrics: &str, series: &str) -> f64 {
    sample(metrics, series).unwrap_or_else(|| panic!("no sample {series} in:\n{metrics}"))
}

async fn scrape(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let a = app.request(Method::GET, "/metrics", None, headers).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        a.headers
    );
    a.text
}

fn schema() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}, "qty": {"type": "integer"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_template_and_what_the_registry_did() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app(backend).await else {
            continue;
        };
        let name = "orders.placed";
        assert_eq!(
            app.register(name, &schema()).await.status,
            StatusCode::CREATED
        );
        assert_eq!(app.register(name, &schema()).await.status, StatusCode::OK);
        // `qty` becomes a string: old records no longer pass.
        let breaking = json!({"type": "object", "properties": {"id": {"type": "string"}, "qty": {"type": "string"}}});
        let refused = app.register(name, &breaking).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
        let rules: Vec<&str> = refused.json["error"]["details"]["report"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["rule"].as_str().unwrap())
            .collect();
        assert!(!rules.is_empty(), "{}", refused.text);
        let invalid = app.register(name, &json!({"type": 12})).await;
        assert_eq!(
            invalid.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            invalid.text
        );
        let id = app
            .get(&format!("/api/v1/contracts/{name}/versions/latest"))
            .await
            .json["schema_id"]
            .as_i64()
            .unwrap();
        for _ in 0..3 {
            let a = app.get(&format!("/api/v1/schemas/{id}")).await;
            assert_eq!(a.status, StatusCode::OK);
        }
        assert_eq!(
            app.get("/api/v1/schemas/987654").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/no/such/route/x1").await.status,
            StatusCode::NOT_FOUND
        );
        let validate = format!("/api/v1/contracts/{name}/versions/latest/validate");
        let a = app.post(&validate, &json!({"id": "a", "qty": 2})).await;
        assert_eq!(a.json["valid"], json!(true), "{}", a.text);
        let a = app.post(&validate, &json!({"id": "a", "qty": "two"})).await;
        assert_eq!(a.json["valid"], json!(false), "{}", a.text);
        let ndjson = "{\"id\": \"b\", \"qty\": 1}\n{\"id\": \"c\", \"qty\": 2}\nnot json\n";
        let a = app
            .client
            .post(app.url(&validate))
            .header("content-type", "application/x-ndjson")
            .body(ndjson)
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), StatusCode::OK);

        let m = scrape(&app, &[]).await;
        let requests = |route: &str, method: &str, status: u16| {
            sample(
                &m,
                &format!(
                    "accord_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
                ),
            )
        };
        assert_eq!(
            requests("/api/v1/schemas/{id}", "GET", 200),
            Some(3.0),
            "{m}"
        );
        assert_eq!(
            requests("/api/v1/schemas/{id}", "GET", 404),
            Some(1.0),
            "{m}"
        );
        assert_eq!(
            requests("/api/v1/contracts/{name}/versions", "POST", 201),
            Some(1.0),
            "{m}"
        );
        assert_eq!(requests("unmatched", "GET", 404), Some(1.0), "{m}");
        assert!(
            !m.contains("987654") && !m.contains("/no/such") && !m.contains("/schemas/1\""),
            "a raw path reached a label:\n{m}"
        );
        assert!(
            expect_sample(
                &m,
                "accord_http_request_duration_seconds_count{route=\"/api/v1/schemas/{id}\"}"
            ) >= 4.0
        );
        for (outcome, n) in [
            ("created", 1.0),
            ("unchanged", 1.0),
            ("refused", 1.0),
            ("invalid", 1.0),
        ] {
            assert_eq!(
                sample(
                    &m,
                    &format!("accord_registrations_total{{outcome=\"{outcome}\"}}")
                ),
                Some(n),
                "{outcome}:\n{m}"
            );
        }
        for rule in &rules {
            assert_eq!(
                sample(
                    &m,
                    &format!(
                        "accord_registration_refusals_total{{refusal=\"incompatible-change\",rule=\"{rule}\"}}"
                    )
                ),
                Some(1.0),
                "{rule}:\n{m}"
            );
        }
        assert!(expect_sample(&m, "accord_compatibility_check_duration_seconds_count") >= 1.0);
        let records = |outcome: &str| {
            sample(
                &m,
                &format!(
                    "accord_validation_records_total{{contract=\"{name}\",outcome=\"{outcome}\"}}"
                ),
            )
        };
        assert_eq!(records("valid"), Some(3.0), "{m}");
        assert_eq!(records("invalid"), Some(1.0), "{m}");
        assert_eq!(records("unparsable"), Some(1.0), "{m}");
        assert_eq!(sample(&m, "accord_ready"), Some(1.0), "{m}");
        assert_eq!(sample(&m, "accord_contracts"), Some(1.0), "{m}");
        assert_eq!(sample(&m, "accord_versions"), Some(1.0), "{m}");
        assert_eq!(sample(&m, "accord_live_versions"), Some(1.0), "{m}");
        assert!(expect_sample(&m, "accord_db_pool_connections") >= 1.0);
        assert!(
            sample(&m, "accord_db_pool_idle_connections").is_some(),
            "{m}"
        );
        assert!(
            expect_sample(&m, "accord_cache_hits_total{cache=\"served\"}") >= 1.0,
            "repeated fetches of one schema are answered from memory:\n{m}"
        );
        assert!(sample(&m, "accord_cache_misses_total{cache=\"latest\"}").is_some());
        assert_eq!(
            sample(
                &m,
                &format!(
                    "accord_build_info{{version=\"{}\"}}",
                    env!("CARGO_PKG_VERSION")
                )
            ),
            Some(1.0),
            "{m}"
        );
    }
}

/// An admin token made through the API of a registry that has none yet.
async fn first_admin(app: &TestApp) -> String {
    let a = app
        .post("/api/v1/tokens", &json!({"name": "admin", "role": "admin"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.json["token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_a_token_once_tokens_exist_unless_public_and_are_off_with_no_metrics() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let admin = first_admin(&app).await;
    let reader = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": "scraper", "role": "reader"})),
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    let reader = reader.json["token"].as_str().unwrap().to_owned();
    let refused = app.get("/metrics").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // The native error body, as openapi.yaml says: /metrics is Accord's own path, not
    // the Confluent API's (which shares the root).
    assert_eq!(refused.code(), "unauthenticated", "{}", refused.text);
    let m = scrape(&app, &[("authorization", &format!("Bearer {reader}"))]).await;
    assert!(m.contains("accord_http_requests_total"), "{m}");

    let public = spawn_app_configured(Backend::Sqlite, |s| s.with_public_metrics())
        .await
        .unwrap();
    first_admin(&public).await;
    let m = scrape(&public, &[]).await;
    assert!(
        m.contains("route=\"/api/v1/tokens\",method=\"POST\",status=\"201\""),
        "{m}"
    );
    assert_eq!(
        public.get("/api/v1/contracts").await.status,
        StatusCode::UNAUTHORIZED,
        "only /metrics is public"
    );

    let off = spawn_app_configured(Backend::Sqlite, |s| s.without_metrics())
        .await
        .unwrap();
    let a = off.get("/metrics").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.code(), "metrics-off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_id_is_echoed_kept_in_the_audit_log_and_made_when_missing_or_malformed() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let a = app
        .request(
            Method::POST,
            "/api/v1/contracts/orders.placed/versions",
            Some(&json!({"schema": schema()})),
            &[("x-request-id", "deploy-42.a:b")],
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.headers["x-request-id"], "deploy-42.a:b");
    let audit = app.get("/api/v1/audit").await;
    let rows = audit.json["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", audit.text));
    assert!(
        rows.iter()
            .any(|r| r["request_id"] == json!("deploy-42.a:b")
                && r["action"] == json!("version.register")),
        "{}",
        audit.text
    );
    for bad in ["has space", "x".repeat(65).as_str(), "<script>"] {
        let a = app
            .request(Method::GET, "/healthz", None, &[("x-request-id", bad)])
            .await;
        let id = a.headers["x-request-id"].to_str().unwrap();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 16, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    let one = app.get("/healthz").await.headers["x-request-id"].clone();
    let two = app.get("/healthz").await.headers["x-request-id"].clone();
    assert_ne!(one, two);
}

/// A schema document of about `bytes` bytes: many properties with descriptions.
fn large_schema(bytes: usize) -> Value {
    let mut properties = serde_json::Map::new();
    let mut i = 0;
    while serde_json::to_string(&properties).unwrap().len() < bytes {
        for _ in 0..100 {
            properties.insert(
                format!("field_{i:05}"),
                json!({"type": "string", "maxLength": 64, "description": format!("The value of field {i} as the producer sent it, trimmed.")}),
            );
            i += 1;
        }
    }
    json!({"type": "object", "properties": properties})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_schema_travels_compressed_when_the_client_accepts_it() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let big = large_schema(250_000);
    let a = app.register("catalog.items", &big).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let path = "/api/v1/contracts/catalog.items/versions/latest/schema";
    let plain = app.get(path).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.headers.get("content-encoding").is_none());
    assert!(plain.text.len() >= 250_000, "{}", plain.text.len());

    let gzip = app
        .client
        .get(app.url(path))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    let wire = gzip.bytes().await.unwrap();
    assert!(
        wire.len() * 5 < plain.text.len(),
        "{} bytes compressed of {}",
        wire.len(),
        plain.text.len()
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(&wire[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, plain.text, "the same document once decompressed");

    let br = app
        .client
        .get(app.url(path))
        .header("accept-encoding", "br;q=1.0, gzip;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    let wire = br.bytes().await.unwrap();
    assert!(wire.len() * 5 < plain.text.len(), "{}", wire.len());

    // A small answer is not worth compressing.
    assert_eq!(
        app.register("tiny.one", &schema()).await.status,
        StatusCode::CREATED
    );
    let small = app
        .client
        .get(app.url("/api/v1/contracts/tiny.one/versions/latest/schema"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), StatusCode::OK);
    assert!(small.headers().get("content-encoding").is_none());
}
