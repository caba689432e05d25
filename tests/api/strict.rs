//! Issue 12: unknown input is refused by name. Every native request body and query is
//! parsed strictly; an unknown field is a 422 (a query parameter a 400) naming it and
//! the closest allowed one, and every 4xx has the JSON error body.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_shape};
use crate::on_both_backends;

const NAME: &str = "orders.order_placed";

async fn an_unknown_config_field_is_refused_and_changes_nothing(app: TestApp) {
    let put = app
        .put("/api/v1/config", &json!({"compatibility": "FULL"}))
        .await;
    assert_eq!(
        (put.status, put.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        "{}",
        put.text
    );
    assert_shape(&put.json, "Error");
    assert_eq!(put.json["error"]["details"]["field"], "compatibility");
    assert_eq!(put.json["error"]["details"]["suggestion"], "mode");
    let message = put.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`compatibility`") && message.contains("`mode`"),
        "{message}"
    );
    assert_eq!(app.get("/api/v1/config").await.json["mode"], "BACKWARD");
}

async fn a_camel_case_registration_field_is_refused_with_its_snake_case_name(app: TestApp) {
    app.register(NAME, &json!({"type": "string", "maxLength": 5}))
        .await;
    let r = app
        .register_with(
            NAME,
            &json!({"type": "string", "maxLength": 3}),
            json!({"allowBreaking": true}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid-request"),
        "{}",
        r.text
    );
    assert_eq!(r.json["error"]["details"]["suggestion"], "allow_breaking");
    let nested = app
        .register_with(
            NAME,
            &json!({"type": "string"}),
            json!({"references": [{"name": "a", "contrct": NAME, "version": "1.0.0"}]}),
        )
        .await;
    assert_eq!(
        nested.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nested.text
    );
    assert_eq!(nested.json["error"]["details"]["path"], "references[0]");
    assert_eq!(nested.json["error"]["details"]["suggestion"], "contract");
    let wrong_type = app
        .register_with(
            NAME,
            &json!({"type": "string"}),
            json!({"allow_breaking": "yes"}),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong_type.json["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("`allow_breaking`: invalid type"),
        "{}",
        wrong_type.text
    );
}

async fn an_unknown_query_parameter_is_refused_with_the_closest_one(app: TestApp) {
    app.register(NAME, &json!({"type": "string"})).await;
    let r = app
        .delete(&format!(
            "/api/v1/contracts/{NAME}/versions/1.0.0?permanant=true"
        ))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "invalid-query"),
        "{}",
        r.text
    );
    assert_eq!(r.json["error"]["details"]["suggestion"], "permanent");
    let live = app
        .get(&format!("/api/v1/contracts/{NAME}/versions/1.0.0"))
        .await;
    assert_eq!(live.json["deleted"], false, "nothing was deleted");
}

async fn malformed_and_mistyped_bodies_get_the_json_error_body(app: TestApp) {
    let path = format!("/api/v1/contracts/{NAME}/versions");
    let broken = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/json")
        .body("{\"schema\": ")
        .send()
        .await
        .unwrap();
    let broken = crate::helpers::answer(broken).await;
    assert_eq!(
        (broken.status, broken.code()),
        (StatusCode::BAD_REQUEST, "malformed-json")
    );
    assert_shape(&broken.json, "Error");
    let text = app
        .request(Method::POST, &path, None, &[("content-type", "text/plain")])
        .await;
    assert_eq!(
        (text.status, text.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
    );
    assert!(
        text.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
}

/// The registration carries the mode it is checked under: refused, it writes neither;
/// created, it writes both (what `accord publish` relies on).
async fn a_registration_and_its_mode_are_written_together_or_not_at_all(app: TestApp) {
    app.register(NAME, &json!({"type": "string", "maxLength": 5}))
        .await;
    let refused = app
        .register_with(
            NAME,
            &json!({"type": "string", "maxLength": 3}),
            json!({"mode": "NONE", "version": "1.0.0"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    let config = app.get(&format!("/api/v1/contracts/{NAME}/config")).await;
    assert_eq!(config.json["mode_override"], json!(null), "{}", config.text);

    let created = app
        .register_with(
            NAME,
            &json!({"type": "string", "maxLength": 3}),
            json!({"mode": "NONE"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let config = app.get(&format!("/api/v1/contracts/{NAME}/config")).await;
    assert_eq!(config.json["mode_override"], "NONE");
}

on_both_backends!(
    an_unknown_config_field_is_refused_and_changes_nothing,
    a_camel_case_registration_field_is_refused_with_its_snake_case_name,
    an_unknown_query_parameter_is_refused_with_the_closest_one,
    malformed_and_mistyped_bodies_get_the_json_error_body,
    a_registration_and_its_mode_are_written_together_or_not_at_all,
);
