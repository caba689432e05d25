//! `POST /contracts/{name}/versions` and `/compatibility`: semver rules,
//! idempotency, refusals and bad input.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_shape, contract};
use crate::on_both_backends;

const ORDERS: &str = "orders.order_placed";

fn closed(props: &[&str]) -> Value {
    let properties: serde_json::Map<String, Value> = props
        .iter()
        .map(|p| ((*p).to_owned(), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": properties, "required": ["id"], "additionalProperties": false})
}

async fn a_first_version_is_one_point_oh_and_reregistering_it_writes_nothing(app: TestApp) {
    let first = app.register(ORDERS, &contract(ORDERS, "1.0.0")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_shape(&first.json, "Registration");
    assert_eq!(first.json["version"], "1.0.0");
    assert_eq!(first.json["seq"], 1);
    assert_eq!(first.json["name"], ORDERS);
    assert_eq!(first.json["fingerprint"].as_str().map(str::len), Some(64));

    let again = app.register(ORDERS, &contract(ORDERS, "1.0.0")).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json["version"], "1.0.0");
    assert_eq!(again.json["required_bump"], "none");
    let versions = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions"))
        .await;
    assert_eq!(versions.json["versions"].as_array().map(Vec::len), Some(1));
}

async fn the_same_schema_with_other_key_order_and_spacing_is_the_same_version(app: TestApp) {
    let a = app
        .register(
            ORDERS,
            &json!({"type": "object", "properties": {"id": {"type": "string"}}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let body = r#"{"schema": {"properties": {"id": {"type": "string"}},   "type": "object"}}"#;
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/contracts/{ORDERS}/versions")))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

async fn compatible_changes_get_a_minor_and_annotations_a_patch(app: TestApp) {
    assert_eq!(
        app.register(ORDERS, &contract(ORDERS, "1.0.0"))
            .await
            .status,
        StatusCode::CREATED
    );
    let minor = app.register(ORDERS, &contract(ORDERS, "1.1.0")).await;
    assert_eq!(minor.status, StatusCode::CREATED, "{}", minor.text);
    assert_eq!(
        (
            minor.json["version"].as_str(),
            minor.json["required_bump"].as_str()
        ),
        (Some("1.1.0"), Some("minor"))
    );
    assert!(!minor.json["changes"].as_array().unwrap().is_empty());
    let patch = app.register(ORDERS, &contract(ORDERS, "1.1.1")).await;
    assert_eq!(
        (
            patch.json["version"].as_str(),
            patch.json["required_bump"].as_str()
        ),
        (Some("1.1.1"), Some("patch"))
    );
    assert_eq!(patch.json["seq"], 3);
}

async fn a_breaking_change_is_refused_with_the_report(app: TestApp) {
    app.register(ORDERS, &closed(&["id", "sku"])).await;
    let refused = app.register(ORDERS, &closed(&["id"])).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.code(), "incompatible-change");
    assert_shape(&refused.json, "Error");
    let details = &refused.json["error"]["details"];
    assert_eq!(details["failed_version"], "1.0.0");
    assert_eq!(details["report"]["compatible"], false);
    assert!(
        details["report"]["changes"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    let versions = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions"))
        .await;
    assert_eq!(
        versions.json["versions"].as_array().map(Vec::len),
        Some(1),
        "nothing was written"
    );
}

async fn allow_breaking_registers_a_breaking_change_as_the_next_major(app: TestApp) {
    app.register(ORDERS, &closed(&["id", "sku"])).await;
    app.register(ORDERS, &closed(&["id", "sku", "note"])).await;
    let major = app
        .register_with(ORDERS, &closed(&["id"]), json!({"allow_breaking": true}))
        .await;
    assert_eq!(major.status, StatusCode::CREATED, "{}", major.text);
    assert_eq!(
        (
            major.json["version"].as_str(),
            major.json["required_bump"].as_str()
        ),
        (Some("2.0.0"), Some("major"))
    );
    // The next change is compared with the 2.x line only (against 1.1.0 it would break).
    let minor = app.register(ORDERS, &closed(&["id", "extra"])).await;
    assert_eq!(minor.json["version"], "2.1.0", "{}", minor.text);
}

async fn declaring_a_minor_version_for_a_breaking_change_is_refused(app: TestApp) {
    app.register_with(ORDERS, &closed(&["id", "sku"]), json!({"version": "1.2.0"}))
        .await;
    let refused = app
        .register_with(
            ORDERS,
            &closed(&["id"]),
            json!({"version": "1.3.0", "allow_breaking": true}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "version-too-small");
    assert_eq!(refused.json["error"]["details"]["required_bump"], "major");
    assert_eq!(
        refused.json["error"]["details"]["report"]["compatible"],
        false
    );
}

async fn a_declared_version_must_be_big_enough_and_greater_than_every_other(app: TestApp) {
    app.register_with(ORDERS, &closed(&["id"]), json!({"version": "1.2.0"}))
        .await;
    let patch = app
        .register_with(ORDERS, &closed(&["id", "a"]), json!({"version": "1.2.1"}))
        .await;
    assert_eq!(
        (patch.status, patch.code()),
        (StatusCode::CONFLICT, "version-too-small"),
        "{}",
        patch.text
    );
    let older = app
        .register_with(ORDERS, &closed(&["id", "a"]), json!({"version": "1.1.0"}))
        .await;
    assert_eq!(
        (older.status, older.code()),
        (StatusCode::CONFLICT, "version-not-greater")
    );
    let skip = app
        .register_with(ORDERS, &closed(&["id", "a"]), json!({"version": "1.5.0"}))
        .await;
    assert_eq!(
        (skip.status, skip.json["version"].as_str()),
        (StatusCode::CREATED, Some("1.5.0"))
    );
}

async fn a_declared_new_major_starts_a_fresh_line_without_a_check(app: TestApp) {
    app.register(ORDERS, &closed(&["id", "sku"])).await;
    let fresh = app
        .register_with(
            ORDERS,
            &json!({"type": "integer"}),
            json!({"version": "2.0.0"}),
        )
        .await;
    assert_eq!(
        (fresh.status, fresh.json["version"].as_str()),
        (StatusCode::CREATED, Some("2.0.0")),
        "{}",
        fresh.text
    );
}

async fn invalid_schemas_are_unprocessable_and_name_the_pointer(app: TestApp) {
    let regex = app
        .register(
            ORDERS,
            &json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(["}}}),
        )
        .await;
    assert_eq!(
        regex.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        regex.text
    );
    assert_shape(&regex.json, "Error");
    assert_eq!(
        regex.json["error"]["details"]["pointer"],
        "/properties/a/pattern"
    );
    let draft = app
        .register(
            ORDERS,
            &json!({"$schema": "https://example.com/draft-99", "type": "object"}),
        )
        .await;
    assert_eq!(
        (draft.status, draft.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown-draft")
    );
    let dangling = app
        .register(ORDERS, &json!({"$ref": "#/$defs/missing"}))
        .await;
    assert_eq!(
        (dangling.status, dangling.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unresolved-ref")
    );
    let meta = app.register(ORDERS, &json!({"type": 12})).await;
    assert_eq!(meta.status, StatusCode::UNPROCESSABLE_ENTITY);
    let version = app
        .register_with(ORDERS, &json!({}), json!({"version": "v1"}))
        .await;
    assert_eq!(
        (version.status, version.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-version")
    );
}

async fn malformed_bodies_and_names_are_bad_requests(app: TestApp) {
    let resp = app
        .client
        .post(app.url("/api/v1/contracts/orders.x/versions"))
        .header("content-type", "application/json")
        .body("{\"schema\": ")
        .send()
        .await
        .unwrap();
    let a = crate::helpers::answer(resp).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::BAD_REQUEST, "malformed-json")
    );
    assert_shape(&a.json, "Error");
    let name = app.register("Orders", &json!({})).await;
    assert_eq!(
        (name.status, name.code()),
        (StatusCode::BAD_REQUEST, "invalid-contract-name")
    );
    let missing = app
        .post(
            "/api/v1/contracts/orders.x/versions",
            &json!({"version": "1.0.0"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = app.get("/api/v1/nothing-here").await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "route-not-found")
    );
}

async fn a_dry_run_reports_without_writing_and_an_unknown_contract_is_compatible(app: TestApp) {
    let path = format!("/api/v1/contracts/{ORDERS}/compatibility");
    let fresh = app.post(&path, &json!({"schema": closed(&["id"])})).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
    assert_shape(&fresh.json, "Compatibility");
    assert_eq!(
        (
            fresh.json["compatible"].as_bool(),
            fresh.json["version"].as_str()
        ),
        (Some(true), Some("1.0.0"))
    );
    assert_eq!(
        app.get(&format!("/api/v1/contracts/{ORDERS}")).await.status,
        StatusCode::NOT_FOUND,
        "nothing written"
    );

    app.register(ORDERS, &closed(&["id", "sku"])).await;
    let breaking = app.post(&path, &json!({"schema": closed(&["id"])})).await;
    assert_eq!(breaking.json["compatible"], false);
    assert_eq!(breaking.json["outcome"], "refused");
    assert_eq!(breaking.json["required_bump"], "major");
    let minor = app
        .post(&path, &json!({"schema": closed(&["id", "sku", "more"])}))
        .await;
    assert_eq!(
        (
            minor.json["outcome"].as_str(),
            minor.json["version"].as_str()
        ),
        (Some("create"), Some("1.1.0"))
    );
    let same = app
        .post(&path, &json!({"schema": closed(&["id", "sku"])}))
        .await;
    assert_eq!(
        (same.json["outcome"].as_str(), same.json["version"].as_str()),
        (Some("existing"), Some("1.0.0"))
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, 1024)
        .await
        .expect("app");
    let big = json!({"type": "object", "description": "x".repeat(4096)});
    let a = app.register(ORDERS, &big).await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
        "{}",
        a.text
    );
    assert!(a.text.contains("--max-body-bytes"), "{}", a.text);
}

async fn the_same_schema_under_two_contracts_has_one_id(app: TestApp) {
    let a = app.register("a.one", &closed(&["id"])).await;
    let b = app.register("b.two", &closed(&["id"])).await;
    assert_eq!(a.json["schema_id"], b.json["schema_id"]);
    assert_eq!(b.status, StatusCode::CREATED);
}

async fn a_schema_may_refer_to_another_registered_contract(app: TestApp) {
    let customer = json!({"$id": "https://schemas.example.com/customer.json", "type": "object",
        "properties": {"id": {"type": "string"}}, "required": ["id"]});
    assert_eq!(
        app.register("customers.customer", &customer).await.status,
        StatusCode::CREATED
    );
    let order = json!({"type": "object", "properties": {
        "customer": {"$ref": "https://schemas.example.com/customer.json"}}});
    let unresolved = app.register(ORDERS, &order).await;
    assert_eq!(
        unresolved.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unresolved.text
    );
    let reference = json!({"references": [{"name": "https://schemas.example.com/customer.json",
        "contract": "customers.customer", "version": "^1"}]});
    let created = app.register_with(ORDERS, &order, reference.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    // A reference to a contract that does not exist is the contract's 404.
    let missing = json!({"references": [{"name": "https://schemas.example.com/customer.json",
        "contract": "customers.nobody", "version": "latest"}]});
    assert_eq!(
        app.register_with(ORDERS, &order, missing).await.status,
        StatusCode::NOT_FOUND
    );
}

on_both_backends!(
    a_schema_may_refer_to_another_registered_contract,
    a_first_version_is_one_point_oh_and_reregistering_it_writes_nothing,
    the_same_schema_with_other_key_order_and_spacing_is_the_same_version,
    compatible_changes_get_a_minor_and_annotations_a_patch,
    a_breaking_change_is_refused_with_the_report,
    allow_breaking_registers_a_breaking_change_as_the_next_major,
    declaring_a_minor_version_for_a_breaking_change_is_refused,
    a_declared_version_must_be_big_enough_and_greater_than_every_other,
    a_declared_new_major_starts_a_fresh_line_without_a_check,
    invalid_schemas_are_unprocessable_and_name_the_pointer,
    malformed_bodies_and_names_are_bad_requests,
    a_dry_run_reports_without_writing_and_an_unknown_contract_is_compatible,
    the_same_schema_under_two_contracts_has_one_id,
);
