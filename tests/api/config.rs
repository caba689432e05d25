//! `GET`/`PUT /config` and `GET`/`PUT`/`DELETE /contracts/{name}/config`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_shape};
use crate::on_both_backends;

async fn the_global_default_is_backward_strict_and_can_be_changed(app: TestApp) {
    let c = app.get("/api/v1/config").await;
    assert_shape(&c.json, "GlobalConfig");
    assert_eq!(c.json, json!({"mode": "BACKWARD", "policy": "strict"}));
    let put = app
        .put("/api/v1/config", &json!({"mode": "full_transitive"}))
        .await;
    assert_eq!(
        put.json,
        json!({"mode": "FULL_TRANSITIVE", "policy": "strict"})
    );
    assert_eq!(
        app.get("/api/v1/config").await.json["mode"],
        "FULL_TRANSITIVE"
    );
    let bad = app
        .put("/api/v1/config", &json!({"mode": "SIDEWAYS"}))
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-config")
    );
}

async fn a_contract_override_changes_what_is_compatible_until_deleted(app: TestApp) {
    let name = "orders.order_placed";
    let path = format!("/api/v1/contracts/{name}/config");
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    app.register(name, &json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false})).await;
    let put = app.put(&path, &json!({"mode": "NONE"})).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    assert_shape(&put.json, "ContractConfig");
    assert_eq!(
        (
            put.json["mode"].as_str(),
            put.json["mode_override"].as_str()
        ),
        (Some("NONE"), Some("NONE"))
    );
    // Under NONE a type change is not refused, but it still breaks readers: it takes
    // the next major, so a consumer pinned to ^1 never receives it.
    let anything = app.register(name, &json!({"type": "integer"})).await;
    assert_eq!(anything.status, StatusCode::CREATED, "{}", anything.text);
    assert_eq!(anything.json["version"], "2.0.0");

    let deleted = app.request(Method::DELETE, &path, None, &[]).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        (
            deleted.json["mode"].as_str(),
            deleted.json["mode_override"].as_str()
        ),
        (Some("BACKWARD"), None)
    );
    let refused = app.register(name, &json!({"type": "string"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let unknown = app
        .request(Method::DELETE, "/api/v1/contracts/nobody/config", None, &[])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn a_transitive_mode_checks_the_whole_line(app: TestApp) {
    let name = "customers.customer_updated";
    app.put(
        &format!("/api/v1/contracts/{name}/config"),
        &json!({"mode": "FORWARD_TRANSITIVE"}),
    )
    .await;
    // FORWARD: old readers accept new data. Each step narrows or keeps what is accepted.
    app.register(name, &json!({"type": "string", "maxLength": 10}))
        .await;
    let v2 = app
        .register(name, &json!({"type": "string", "maxLength": 20}))
        .await;
    assert_eq!(
        v2.status,
        StatusCode::CONFLICT,
        "widening breaks FORWARD: {}",
        v2.text
    );
    app.put(
        &format!("/api/v1/contracts/{name}/config"),
        &json!({"mode": "NONE"}),
    )
    .await;
    assert_eq!(
        app.register(name, &json!({"type": "string", "maxLength": 20}))
            .await
            .status,
        StatusCode::CREATED
    );
    app.put(
        &format!("/api/v1/contracts/{name}/config"),
        &json!({"mode": "FORWARD_TRANSITIVE"}),
    )
    .await;
    // maxLength 15 is fine against 1.1.0 (20) but not against 1.0.0 (10).
    let r = app
        .register(name, &json!({"type": "string", "maxLength": 15}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.json["error"]["details"]["failed_version"], "1.0.0");
}

on_both_backends!(
    the_global_default_is_backward_strict_and_can_be_changed,
    a_contract_override_changes_what_is_compatible_until_deleted,
    a_transitive_mode_checks_the_whole_line,
);
