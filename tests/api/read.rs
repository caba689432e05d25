//! Reading: selectors, schema documents with HTTP caching, listings, metadata, diff.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_shape, contract};
use crate::on_both_backends;

const ORDERS: &str = "orders.order_placed";

async fn register_orders(app: &TestApp) {
    for v in ["1.0.0", "1.1.0", "1.1.1"] {
        let a = app.register(ORDERS, &contract(ORDERS, v)).await;
        assert_eq!(a.json["version"], v, "{}", a.text);
    }
}

async fn selectors_resolve_to_the_highest_matching_live_version(app: TestApp) {
    register_orders(&app).await;
    // A second major line.
    app.register_with(
        ORDERS,
        &json!({"type": "object"}),
        json!({"version": "2.0.0"}),
    )
    .await;
    for (selector, expected) in [
        ("latest", "2.0.0"),
        ("1.1.0", "1.1.0"),
        ("%5E1.0", "1.1.1"),
        ("~1.1", "1.1.1"),
        ("1", "1.1.1"),
        ("%3E%3D1.0%2C%20%3C1.1", "1.0.0"),
        (">=1.2,%20<3", "2.0.0"),
    ] {
        let a = app
            .get(&format!("/api/v1/contracts/{ORDERS}/versions/{selector}"))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{selector}: {}", a.text);
        assert_shape(&a.json, "Version");
        assert_eq!(a.json["version"], expected, "{selector}");
        assert!(a.headers.contains_key("etag"));
    }
    let none = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions/%5E3"))
        .await;
    assert_eq!(
        (none.status, none.code()),
        (StatusCode::NOT_FOUND, "version-not-found")
    );
    let bad = app
        .get(&format!(
            "/api/v1/contracts/{ORDERS}/versions/not-a-version"
        ))
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid-version-selector")
    );
    let unknown = app
        .get("/api/v1/contracts/nobody.here/versions/latest")
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "contract-not-found")
    );
}

async fn the_version_json_carries_the_fields_consumers_rely_on(app: TestApp) {
    register_orders(&app).await;
    let a = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions/1.0.0"))
        .await;
    for field in [
        "name",
        "version",
        "seq",
        "schema_id",
        "fingerprint",
        "schema",
        "created_at",
        "deleted",
    ] {
        assert!(a.json.get(field).is_some(), "missing {field}: {}", a.text);
    }
    assert_eq!(a.json["schema"], contract(ORDERS, "1.0.0"));
    assert_eq!(
        a.headers["etag"].to_str().unwrap(),
        format!("\"{}\"", a.json["fingerprint"].as_str().unwrap())
    );
}

async fn schema_documents_are_served_as_submitted_with_caching_headers(app: TestApp) {
    let text = std::fs::read_to_string(
        crate::helpers::root().join("contracts/orders.order_placed/1.0.0.json"),
    )
    .unwrap();
    // Sent as raw text: a `serde_json::Value` would sort the keys before they left.
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/contracts/{ORDERS}/versions")))
        .header("content-type", "application/json")
        .body(format!("{{\"schema\": {text}}}"))
        .send()
        .await
        .unwrap();
    let created = crate::helpers::answer(resp).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.json["schema_id"].as_i64().unwrap();
    let fingerprint = created.json["fingerprint"].as_str().unwrap().to_owned();

    let by_id = app.get(&format!("/api/v1/schemas/{id}")).await;
    assert_eq!(by_id.status, StatusCode::OK);
    assert_eq!(by_id.headers["content-type"], "application/json");
    assert_eq!(
        by_id.headers["etag"].to_str().unwrap(),
        format!("\"{fingerprint}\"")
    );
    assert_eq!(
        by_id.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // Key order as submitted: `$schema` first, `$id` second, as in the file.
    assert!(
        by_id
            .text
            .starts_with(r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"#),
        "{}",
        by_id.text
    );

    let exact = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions/1.0.0/schema"))
        .await;
    assert_eq!(
        exact.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(exact.text, by_id.text);
    let latest = app
        .get(&format!(
            "/api/v1/contracts/{ORDERS}/versions/latest/schema"
        ))
        .await;
    assert_eq!(latest.headers["cache-control"], "public, max-age=5");
    assert_eq!(latest.text, by_id.text);

    // The version JSON (what the client library fetches): immutable for an exact
    // version, short for `latest` and ranges, with the fingerprint as ETag throughout.
    let tag = format!("\"{fingerprint}\"");
    for (selector, cache) in [
        ("1.0.0", "public, max-age=31536000, immutable"),
        ("latest", "public, max-age=5"),
        ("%5E1", "public, max-age=5"),
    ] {
        let path = format!("/api/v1/contracts/{ORDERS}/versions/{selector}");
        let version = app.get(&path).await;
        assert_eq!(version.status, StatusCode::OK, "{path}: {}", version.text);
        assert_eq!(version.headers["cache-control"], cache, "{path}");
        assert_eq!(version.headers["etag"].to_str().unwrap(), tag, "{path}");
        let again = app
            .request(Method::GET, &path, None, &[("if-none-match", &tag)])
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers["cache-control"], cache, "{path}");
    }

    let tag = format!("\"{fingerprint}\"");
    for path in [
        format!("/api/v1/schemas/{id}"),
        format!("/api/v1/contracts/{ORDERS}/versions/latest/schema"),
        format!("/api/v1/contracts/{ORDERS}/versions/latest"),
    ] {
        let not_modified = app
            .request(Method::GET, &path, None, &[("if-none-match", &tag)])
            .await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(not_modified.text.is_empty());
        let stale = app
            .request(
                Method::GET,
                &path,
                None,
                &[("if-none-match", "\"something-else\"")],
            )
            .await;
        assert_eq!(stale.status, StatusCode::OK, "{path}");
    }
    let missing = app.get("/api/v1/schemas/999999").await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "schema-not-found")
    );
    let garbage = app.get("/api/v1/schemas/abc").await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
}

async fn contracts_are_listed_by_prefix_and_page(app: TestApp) {
    for name in ["orders.a", "orders.b", "orders.c", "payments.a"] {
        app.register(name, &json!({"type": "object"})).await;
    }
    let all = app.get("/api/v1/contracts").await;
    assert_shape(&all.json, "ContractList");
    assert_eq!(all.json["contracts"].as_array().map(Vec::len), Some(4));
    let page = app.get("/api/v1/contracts?prefix=orders.&limit=2").await;
    let names: Vec<&str> = page.json["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders.a", "orders.b"]);
    assert_eq!(page.json["next_offset"], 2);
    let rest = app
        .get("/api/v1/contracts?prefix=orders.&limit=2&offset=2")
        .await;
    assert_eq!(rest.json["contracts"][0]["name"], "orders.c");
    assert_eq!(rest.json["next_offset"], serde_json::Value::Null);
    let bad = app.get("/api/v1/contracts?limit=0").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

async fn contract_metadata_is_shown_and_patched(app: TestApp) {
    app.register_with(
        ORDERS,
        &contract(ORDERS, "1.0.0"),
        json!({"owner": "team-orders", "tags": ["pii"]}),
    )
    .await;
    let c = app.get(&format!("/api/v1/contracts/{ORDERS}")).await;
    assert_eq!(c.status, StatusCode::OK);
    assert_shape(&c.json, "Contract");
    assert_eq!(
        (c.json["owner"].as_str(), c.json["latest_version"].as_str()),
        (Some("team-orders"), Some("1.0.0"))
    );
    assert_eq!(c.json["config"]["mode"], "BACKWARD");
    let patched = app
        .request(
            Method::PATCH,
            &format!("/api/v1/contracts/{ORDERS}"),
            Some(&json!({"description": "Orders at checkout", "tags": ["pii", "gold"]})),
            &[],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_shape(&patched.json, "ContractMetadata");
    assert_eq!(
        (
            patched.json["owner"].as_str(),
            patched.json["description"].as_str()
        ),
        (Some("team-orders"), Some("Orders at checkout"))
    );
    assert_eq!(patched.json["tags"], json!(["pii", "gold"]));
    let missing = app
        .request(
            Method::PATCH,
            "/api/v1/contracts/nobody",
            Some(&json!({"owner": "x"})),
            &[],
        )
        .await;
    assert_eq!(
        (missing.status, missing.code()),
        (StatusCode::NOT_FOUND, "contract-not-found")
    );
}

async fn the_diff_between_two_versions_is_the_engines_report(app: TestApp) {
    register_orders(&app).await;
    let d = app
        .get(&format!(
            "/api/v1/contracts/{ORDERS}/diff?from=1.0.0&to=1.1.0"
        ))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_shape(&d.json, "Diff");
    assert_eq!(d.json["report"]["required_bump"], "minor");
    let rules: Vec<&str> = d.json["report"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"enum-value-added"), "{rules:?}");
    let missing = app
        .get(&format!(
            "/api/v1/contracts/{ORDERS}/diff?from=1.0.0&to=9.0.0"
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_query = app.get(&format!("/api/v1/contracts/{ORDERS}/diff")).await;
    assert_eq!(no_query.status, StatusCode::BAD_REQUEST);
}

async fn health_and_readiness_answer(app: TestApp) {
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.json["status"], "ready");
}

async fn every_example_contract_registers_in_order(app: TestApp) {
    for dir in std::fs::read_dir(crate::helpers::root().join("contracts")).unwrap() {
        let dir = dir.unwrap().path();
        // contracts/ also holds the `*.contract.yaml` files of `accord check`.
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let mut versions: Vec<semver::Version> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|f| {
                f.ok()?
                    .path()
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")
                    .and_then(|v| v.parse().ok())
            })
            .collect();
        versions.sort();
        assert!(versions.len() >= 2, "{name} has fewer than two versions");
        for v in versions {
            let a = app
                .register_with(
                    &name,
                    &contract(&name, &v.to_string()),
                    json!({"version": v.to_string()}),
                )
                .await;
            assert_eq!(a.status, StatusCode::CREATED, "{name} {v}: {}", a.text);
        }
    }
}

on_both_backends!(
    selectors_resolve_to_the_highest_matching_live_version,
    the_version_json_carries_the_fields_consumers_rely_on,
    schema_documents_are_served_as_submitted_with_caching_headers,
    contracts_are_listed_by_prefix_and_page,
    contract_metadata_is_shown_and_patched,
    the_diff_between_two_versions_is_the_engines_report,
    health_and_readiness_answer,
    every_example_contract_registers_in_order,
);
