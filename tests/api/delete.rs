//! Soft and permanent deletes; versions and seq numbers are never reused.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, assert_shape};
use crate::on_both_backends;

const NAME: &str = "payments.payment_captured";

fn schema(n: usize) -> serde_json::Value {
    json!({"type": "object", "description": format!("revision {n}")})
}

async fn a_soft_deleted_version_is_hidden_from_latest_but_readable_exactly(app: TestApp) {
    for n in 0..3 {
        app.register(NAME, &schema(n)).await;
    }
    let latest = app
        .get(&format!("/api/v1/contracts/{NAME}/versions/latest"))
        .await;
    assert_eq!(latest.json["version"], "1.0.2");
    let id = latest.json["schema_id"].as_i64().unwrap();

    let deleted = app
        .delete(&format!("/api/v1/contracts/{NAME}/versions/1.0.2"))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    assert_shape(&deleted.json, "VersionSummary");
    assert_eq!(deleted.json["deleted"], true);

    assert_eq!(
        app.get(&format!("/api/v1/contracts/{NAME}/versions/latest"))
            .await
            .json["version"],
        "1.0.1"
    );
    assert_eq!(
        app.get(&format!("/api/v1/contracts/{NAME}/versions/%5E1"))
            .await
            .json["version"],
        "1.0.1"
    );
    let exact = app
        .get(&format!("/api/v1/contracts/{NAME}/versions/1.0.2"))
        .await;
    assert_eq!(
        (exact.status, exact.json["deleted"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_eq!(
        app.get(&format!("/api/v1/schemas/{id}")).await.status,
        StatusCode::OK
    );
    let listed = app.get(&format!("/api/v1/contracts/{NAME}/versions")).await;
    assert_eq!(listed.json["versions"].as_array().map(Vec::len), Some(2));
    let with_deleted = app
        .get(&format!("/api/v1/contracts/{NAME}/versions?deleted=true"))
        .await;
    assert_eq!(
        with_deleted.json["versions"].as_array().map(Vec::len),
        Some(3)
    );

    let again = app
        .delete(&format!("/api/v1/contracts/{NAME}/versions/1.0.2"))
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "version-already-deleted")
    );
}

async fn a_permanent_delete_needs_a_soft_delete_first_and_nothing_is_reused(app: TestApp) {
    app.register(NAME, &schema(0)).await;
    app.register(NAME, &schema(1)).await;
    let live = app
        .delete(&format!(
            "/api/v1/contracts/{NAME}/versions/1.0.1?permanent=true"
        ))
        .await;
    assert_eq!(
        (live.status, live.code()),
        (StatusCode::CONFLICT, "version-not-soft-deleted")
    );
    assert_eq!(
        app.delete(&format!("/api/v1/contracts/{NAME}/versions/1.0.1"))
            .await
            .status,
        StatusCode::OK
    );
    let gone = app
        .delete(&format!(
            "/api/v1/contracts/{NAME}/versions/1.0.1?permanent=true"
        ))
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let missing = app
        .get(&format!("/api/v1/contracts/{NAME}/versions/1.0.1"))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Re-registering the removed schema gets a new version and a new seq.
    let back = app.register(NAME, &schema(1)).await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.text);
    assert_eq!(
        (back.json["version"].as_str(), back.json["seq"].as_i64()),
        (Some("1.0.2"), Some(3))
    );
    let not_found = app
        .delete(&format!("/api/v1/contracts/{NAME}/versions/7.0.0"))
        .await;
    assert_eq!(
        (not_found.status, not_found.code()),
        (StatusCode::NOT_FOUND, "version-not-found")
    );
    let bad = app
        .delete(&format!("/api/v1/contracts/{NAME}/versions/latest"))
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::BAD_REQUEST, "invalid-version")
    );
}

async fn a_soft_deleted_version_is_not_checked_against(app: TestApp) {
    app.register(NAME, &json!({"type": "string", "maxLength": 5}))
        .await;
    assert_eq!(
        app.register(NAME, &json!({"type": "string", "maxLength": 9}))
            .await
            .json["version"],
        "1.1.0"
    );
    // maxLength 7 narrows 1.1.0 (a breaking change) but widens 1.0.0. With 1.1.0
    // deleted, 1.0.0 is the newest live version and the one compared with.
    let narrowing = app
        .post(
            &format!("/api/v1/contracts/{NAME}/compatibility"),
            &json!({"schema": {"type": "string", "maxLength": 7}}),
        )
        .await;
    assert_eq!(narrowing.json["compatible"], false);
    app.delete(&format!("/api/v1/contracts/{NAME}/versions/1.1.0"))
        .await;
    let r = app
        .register(NAME, &json!({"type": "string", "maxLength": 7}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        r.json["version"], "1.2.0",
        "above every version, deleted ones included"
    );
}

/// Issue 12: 1.0.0–1.2.0, then 2.0.0, then 2.0.0 deleted. The next schema is compared
/// with 1.2.0 (not with nothing) and numbered from it; 2.0.0 is never given again.
async fn a_registration_after_the_newest_line_was_deleted_is_checked_against_the_live_one(
    app: TestApp,
) {
    for max in [5, 6, 7] {
        let r = app
            .register(NAME, &json!({"type": "string", "maxLength": max}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let major = app
        .register_with(
            NAME,
            &json!({"type": "integer"}),
            json!({"allow_breaking": true}),
        )
        .await;
    assert_eq!(major.json["version"], "2.0.0", "{}", major.text);
    let deleted = app
        .delete(&format!("/api/v1/contracts/{NAME}/versions/2.0.0"))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);

    // Narrower than 1.2.0: refused, which it could only be if compared with 1.2.0.
    let narrowing = app
        .register(NAME, &json!({"type": "string", "maxLength": 4}))
        .await;
    assert_eq!(
        (narrowing.status, narrowing.code()),
        (StatusCode::CONFLICT, "incompatible-change"),
        "{}",
        narrowing.text
    );
    assert_eq!(
        narrowing.json["error"]["details"]["failed_version"],
        "1.2.0"
    );

    let widening = app
        .register(NAME, &json!({"type": "string", "maxLength": 8}))
        .await;
    assert_eq!(widening.status, StatusCode::CREATED, "{}", widening.text);
    assert_eq!(widening.json["version"], "1.3.0");

    let reused = app
        .register_with(
            NAME,
            &json!({"type": "boolean"}),
            json!({"version": "2.0.0"}),
        )
        .await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::CONFLICT, "version-not-greater"),
        "{}",
        reused.text
    );
    let major = app
        .register_with(
            NAME,
            &json!({"type": "boolean"}),
            json!({"allow_breaking": true}),
        )
        .await;
    assert_eq!(major.json["version"], "3.0.0", "{}", major.text);
}

/// Issue 12: `DELETE /api/v1/contracts/{name}`, soft then permanent, as for versions.
async fn a_contract_is_soft_deleted_then_removed_for_good(app: TestApp) {
    for n in 0..2 {
        app.register(NAME, &schema(n)).await;
    }
    let path = format!("/api/v1/contracts/{NAME}");
    let early = app.delete(&format!("{path}?permanent=true")).await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "contract-delete-refused"),
        "{}",
        early.text
    );

    let soft = app.delete(&path).await;
    assert_eq!(soft.status, StatusCode::OK, "{}", soft.text);
    assert_shape(&soft.json, "VersionList");
    assert_eq!(soft.json["versions"].as_array().unwrap().len(), 2);
    assert!(soft.json["versions"][0]["deleted"].as_bool().unwrap());
    let listed = |a: &crate::helpers::Answer| {
        a.json["contracts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == NAME)
    };
    assert!(!listed(&app.get("/api/v1/contracts").await));
    let with_deleted = app.get("/api/v1/contracts?deleted=true").await;
    assert!(listed(&with_deleted), "{}", with_deleted.text);
    assert_eq!(with_deleted.json["contracts"][0]["deleted"], true);
    let found = app.get(&path).await;
    assert_shape(&found.json, "Contract");
    assert_eq!(
        (
            found.json["deleted"].clone(),
            found.json["latest_version"].clone()
        ),
        (json!(true), json!(null))
    );
    assert_eq!(
        app.get(&format!("{path}/versions/1.0.0")).await.status,
        StatusCode::OK,
        "a soft-deleted version stays readable exactly"
    );
    let again = app.delete(&path).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "contract-delete-refused")
    );

    let gone = app.delete(&format!("{path}?permanent=true")).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text);
    assert_eq!(app.get(&path).await.code(), "contract-not-found");
    assert_eq!(
        app.get(&format!("{path}/config")).await.code(),
        "contract-not-found"
    );
    assert!(!listed(&app.get("/api/v1/contracts?deleted=true").await));
    assert_eq!(app.delete(&path).await.code(), "contract-not-found");

    // Registered again, it starts over as a contract but its numbers are not reused.
    let back = app.register(NAME, &schema(0)).await;
    assert_eq!(back.status, StatusCode::CREATED, "{}", back.text);
    assert_eq!(
        (back.json["version"].clone(), back.json["seq"].clone()),
        (json!("1.1.0"), json!(3))
    );
    assert!(listed(&app.get("/api/v1/contracts").await));
}

/// Issue 12: a Confluent permanent subject delete left the contract listed natively
/// with no versions; both APIs now agree that it is gone.
async fn a_confluent_subject_delete_removes_the_contract_from_the_native_api(app: TestApp) {
    app.register(NAME, &schema(0)).await;
    app.put(
        &format!("/api/v1/contracts/{NAME}/config"),
        &json!({"mode": "FULL"}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("/subjects/{NAME}")).await.json,
        json!([1])
    );
    assert_eq!(
        app.delete(&format!("/subjects/{NAME}?permanent=true"))
            .await
            .json,
        json!([1])
    );
    let list = app.get("/api/v1/contracts?deleted=true").await;
    assert_eq!(list.json["contracts"], json!([]), "{}", list.text);
    assert_eq!(
        app.get(&format!("/api/v1/contracts/{NAME}")).await.code(),
        "contract-not-found"
    );
    assert_eq!(app.get("/subjects?deleted=true").await.json, json!([]));
}

/// A version other schemas refer to blocks the whole contract delete, before any
/// version is deleted.
async fn a_referenced_version_blocks_the_whole_contract_delete(app: TestApp) {
    app.register(NAME, &schema(0)).await;
    app.register(NAME, &schema(1)).await;
    let referrer = app
        .register_with(
            "orders.order_placed",
            &json!({"$ref": "payment.json"}),
            json!({"references": [{"name": "payment.json", "contract": NAME, "version": "1.0.0"}]}),
        )
        .await;
    assert_eq!(referrer.status, StatusCode::CREATED, "{}", referrer.text);
    let refused = app.delete(&format!("/api/v1/contracts/{NAME}")).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "version-referenced"),
        "{}",
        refused.text
    );
    let versions = app.get(&format!("/api/v1/contracts/{NAME}/versions")).await;
    assert_eq!(
        versions.json["versions"].as_array().unwrap().len(),
        2,
        "nothing was deleted"
    );
}

on_both_backends!(
    a_contract_is_soft_deleted_then_removed_for_good,
    a_confluent_subject_delete_removes_the_contract_from_the_native_api,
    a_referenced_version_blocks_the_whole_contract_delete,
    a_registration_after_the_newest_line_was_deleted_is_checked_against_the_live_one,
    a_soft_deleted_version_is_hidden_from_latest_but_readable_exactly,
    a_permanent_delete_needs_a_soft_delete_first_and_nothing_is_reused,
    a_soft_deleted_version_is_not_checked_against,
);
