//! U+0000 in stored text (issue 10): PostgreSQL answered 500 and SQLite stored it.
//! Both backends now refuse it alike, 422 naming the field, and write nothing; a NUL
//! inside a schema's own values is data, kept as sent.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Answer, TestApp};
use crate::on_both_backends;

fn assert_refused(a: &Answer, field: &str) {
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert_eq!(a.code(), "invalid-request", "{}", a.text);
    assert_eq!(a.json["error"]["details"]["path"], field, "{}", a.text);
    let message = a.json["error"]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("U+0000") && message.contains(field),
        "{message}"
    );
}

async fn a_nul_in_owner_description_or_tags_is_refused_naming_the_field(app: TestApp) {
    let schema = json!({"type": "object"});
    for (field, value) in [
        ("owner", json!("team\u{0}a")),
        ("description", json!("\u{0}")),
        ("tags", json!(["ok", "b\u{0}d"])),
    ] {
        let a = app
            .register_with("orders.placed", &schema, json!({ field: value }))
            .await;
        assert_refused(&a, field);
    }
    // Nothing was written.
    let a = app.get("/api/v1/contracts/orders.placed").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);

    let a = app
        .register_with("orders.placed", &schema, json!({"owner": "team a"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = app
        .request(
            Method::PATCH,
            "/api/v1/contracts/orders.placed",
            Some(&json!({"description": "x\u{0}"})),
            &[],
        )
        .await;
    assert_refused(&a, "description");
    let a = app.get("/api/v1/contracts/orders.placed").await;
    assert_eq!(a.json["owner"], "team a", "{}", a.text);
    assert!(a.json["description"].is_null(), "{}", a.text);
}

async fn a_nul_in_a_confluent_reference_name_is_refused(app: TestApp) {
    let a = app
        .register("orders.customer", &json!({"type": "object"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = app
        .post(
            "/subjects/orders.placed/versions",
            &json!({
                "schemaType": "JSON",
                "schema": "{\"$ref\": \"customer.json\"}",
                "references": [{"name": "customer\u{0}.json", "subject": "orders.customer", "version": 1}],
            }),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    assert_eq!(a.json["error_code"], 42201, "{}", a.text);
    let message = a.json["message"].as_str().unwrap_or("");
    assert!(
        message.contains("U+0000") && message.contains("name"),
        "{message}"
    );
}

async fn a_nul_inside_a_schema_value_is_kept_as_sent(app: TestApp) {
    let schema = json!({"type": "string", "enum": ["a\u{0}b"], "description": "\u{0}"});
    let a = app.register("orders.placed", &schema).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = app
        .get("/api/v1/contracts/orders.placed/versions/latest")
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["schema"], schema, "{}", a.text);
}

on_both_backends!(
    a_nul_in_owner_description_or_tags_is_refused_naming_the_field,
    a_nul_in_a_confluent_reference_name_is_refused,
    a_nul_inside_a_schema_value_is_kept_as_sent,
);
