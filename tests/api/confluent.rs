//! The Confluent-compatible API at the root: error codes for each documented failure,
//! media types, lenient booleans, pagination, references, write modes, and that the
//! native API sees the same data.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Answer, TestApp, answer};
use crate::on_both_backends;

const V1: &str = "application/vnd.schemaregistry.v1+json";

fn order() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": false})
}

fn order_v2() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}}, "additionalProperties": false})
}

fn broken() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "integer"}}, "additionalProperties": false})
}

fn request(schema: &Value) -> Value {
    json!({"schemaType": "JSON", "schema": schema.to_string()})
}

/// Sends `body` as raw text with a content type, as the Confluent clients do.
async fn send(app: &TestApp, method: Method, path: &str, body: Option<&str>, ct: &str) -> Answer {
    let mut req = app.client.request(method, app.url(path));
    if let Some(body) = body {
        req = req.header("content-type", ct).body(body.to_owned());
    }
    answer(req.send().await.expect("request sent")).await
}

async fn register(app: &TestApp, subject: &str, schema: &Value) -> Answer {
    app.post(&format!("/subjects/{subject}/versions"), &request(schema))
        .await
}

fn code(a: &Answer) -> (StatusCode, i64) {
    (a.status, a.json["error_code"].as_i64().unwrap_or(0))
}

async fn responses_use_the_vendor_type_unless_only_json_is_accepted(app: TestApp) {
    let root = app.get("/").await;
    assert_eq!((root.status, &root.json), (StatusCode::OK, &json!({})));
    assert_eq!(root.headers["content-type"], V1);
    let plain = app
        .request(
            Method::GET,
            "/subjects",
            None,
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(plain.headers["content-type"], "application/json");
    let listed = app
        .request(
            Method::GET,
            "/subjects",
            None,
            &[("accept", "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json")],
        )
        .await;
    assert_eq!(listed.headers["content-type"], V1);
    let refused = app
        .request(Method::GET, "/subjects", None, &[("accept", "text/html")])
        .await;
    assert_eq!(code(&refused), (StatusCode::NOT_ACCEPTABLE, 406));
}

async fn bodies_may_be_any_json_type_or_octet_stream_and_nothing_else(app: TestApp) {
    let body = request(&order()).to_string();
    for (i, ct) in [
        V1,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    ]
    .into_iter()
    .enumerate()
    {
        let a = send(
            &app,
            Method::POST,
            &format!("/subjects/s{i}/versions"),
            Some(&body),
            ct,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{ct}: {}", a.text);
        assert_eq!(a.json["version"], 1);
    }
    let refused = send(
        &app,
        Method::POST,
        "/subjects/s9/versions",
        Some(&body),
        "text/plain",
    )
    .await;
    assert_eq!(code(&refused), (StatusCode::UNSUPPORTED_MEDIA_TYPE, 415));
    let malformed = send(&app, Method::POST, "/subjects/s9/versions", Some("{"), V1).await;
    assert_eq!(code(&malformed), (StatusCode::BAD_REQUEST, 400));
    let empty = send(&app, Method::POST, "/subjects/s9/versions", Some(""), V1).await;
    assert_eq!(code(&empty), (StatusCode::UNPROCESSABLE_ENTITY, 422));
}

async fn query_booleans_are_lenient_and_never_an_error(app: TestApp) {
    register(&app, "s", &order()).await;
    let d = app.delete("/subjects/s/versions/1").await;
    assert_eq!(d.json, json!(1));
    // `True` is true (Python's spelling); `1` and `yes` are false, not 400.
    let shown = app.get("/subjects/s/versions?deleted=True").await;
    assert_eq!(shown.json, json!([1]));
    for v in ["1", "yes", "", "False"] {
        let hidden = app.get(&format!("/subjects/s/versions?deleted={v}")).await;
        assert_eq!(code(&hidden), (StatusCode::NOT_FOUND, 40401), "deleted={v}");
    }
    let negative = app.get("/subjects/s/versions?deletedAsNegative=TRUE").await;
    assert_eq!(negative.json, json!([-1]));
    let listed = app.get("/subjects?deleted=tRuE").await;
    assert_eq!(listed.json, json!(["s"]));
    assert_eq!(app.get("/subjects").await.json, json!([]));
}

async fn lists_page_by_offset_and_limit(app: TestApp) {
    for s in ["a", "b", "c", "d"] {
        register(&app, s, &order()).await;
    }
    assert_eq!(app.get("/subjects").await.json, json!(["a", "b", "c", "d"]));
    assert_eq!(
        app.get("/subjects?offset=1&limit=2").await.json,
        json!(["b", "c"])
    );
    assert_eq!(
        app.get("/subjects?limit=0").await.json,
        json!(["a", "b", "c", "d"])
    );
    assert_eq!(
        app.get("/subjects?subjectPrefix=c").await.json,
        json!(["c"])
    );
    let bad = app.get("/subjects?limit=many").await;
    assert_eq!(code(&bad), (StatusCode::NOT_FOUND, 404));
    register(&app, "a", &order_v2()).await;
    assert_eq!(
        app.get("/subjects/a/versions?offset=1").await.json,
        json!([2])
    );
    let id = app.get("/subjects/a/versions/1").await.json["id"].clone();
    let pairs = app
        .get(&format!("/schemas/ids/{id}/versions?limit=2"))
        .await;
    assert_eq!(
        pairs.json,
        json!([{"subject": "a", "version": 1}, {"subject": "b", "version": 1}])
    );
    let subjects = app
        .get(&format!("/schemas/ids/{id}/subjects?offset=3"))
        .await;
    assert_eq!(subjects.json, json!(["d"]));
}

async fn registration_is_idempotent_shares_ids_and_keeps_the_text(app: TestApp) {
    // Key order as submitted, whitespace compacted, nothing added.
    let text = r#"{ "type": "object",  "$id": "urn:o", "properties": {"id": {"type": "string"}}, "additionalProperties": false }"#;
    let first = app
        .post(
            "/subjects/Orders%2FValue/versions",
            &json!({"schemaType": "JSON", "schema": text}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let id = first.json["id"].as_i64().unwrap();
    let compact = r#"{"type":"object","$id":"urn:o","properties":{"id":{"type":"string"}},"additionalProperties":false}"#;
    assert_eq!(first.json["schema"], compact);
    assert_eq!(
        app.get(&format!("/schemas/ids/{id}/schema")).await.text,
        compact
    );
    assert_eq!(app.get("/subjects").await.json, json!(["Orders/Value"]));
    let by_id = app.get(&format!("/schemas/ids/{id}")).await;
    assert_eq!(by_id.json, json!({"schemaType": "JSON", "schema": compact}));

    // Any live version, not only the latest, answers itself without a check.
    let v2 = register(&app, "Orders%2FValue", &order_v2()).await;
    assert_eq!(v2.json["version"], 2);
    app.put("/config/Orders%2FValue", &json!({"compatibility": "FULL"}))
        .await;
    let again = app
        .post(
            "/subjects/Orders%2FValue/versions",
            &json!({"schemaType": "JSON", "schema": text}),
        )
        .await;
    assert_eq!(
        (again.json["id"].as_i64(), again.json["version"].as_i64()),
        (Some(id), Some(1))
    );
    let elsewhere = app
        .post(
            "/subjects/other/versions",
            &json!({"schemaType": "JSON", "schema": text}),
        )
        .await;
    assert_eq!(elsewhere.json["id"].as_i64(), Some(id));

    // The native API reads the same contract; its versions are semantic.
    let native = app.get("/api/v1/contracts/Orders%2FValue/versions").await;
    assert_eq!(native.status, StatusCode::OK, "{}", native.text);
    let numbers: Vec<&str> = native.json["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["1.0.0", "1.1.0"]);
}

async fn only_json_schema_is_accepted(app: TestApp) {
    let avro = app
        .post(
            "/subjects/s/versions",
            &json!({"schema": "{\"type\":\"string\"}"}),
        )
        .await;
    assert_eq!(code(&avro), (StatusCode::UNPROCESSABLE_ENTITY, 42201));
    assert!(
        avro.json["message"].as_str().unwrap().contains("AVRO"),
        "{}",
        avro.text
    );
    let proto = app
        .post(
            "/subjects/s/versions",
            &json!({"schemaType": "PROTOBUF", "schema": "syntax = \"proto3\";"}),
        )
        .await;
    assert_eq!(code(&proto), (StatusCode::UNPROCESSABLE_ENTITY, 42201));
    let invalid = app
        .post(
            "/subjects/s/versions",
            &json!({"schemaType": "JSON", "schema": "{\"type\": 5}"}),
        )
        .await;
    assert_eq!(code(&invalid), (StatusCode::UNPROCESSABLE_ENTITY, 42201));
    assert_eq!(app.get("/schemas/types").await.json, json!(["JSON"]));
}

async fn every_documented_read_failure_has_its_code(app: TestApp) {
    assert_eq!(
        code(&app.get("/subjects/nobody/versions").await),
        (StatusCode::NOT_FOUND, 40401)
    );
    assert_eq!(
        code(&app.get("/subjects/nobody/versions/latest").await),
        (StatusCode::NOT_FOUND, 40401)
    );
    register(&app, "s", &order()).await;
    assert_eq!(
        code(&app.get("/subjects/s/versions/7").await),
        (StatusCode::NOT_FOUND, 40402)
    );
    for bad in ["0", "-2", "one", "2147483648"] {
        let a = app.get(&format!("/subjects/s/versions/{bad}")).await;
        assert_eq!(code(&a), (StatusCode::UNPROCESSABLE_ENTITY, 42202), "{bad}");
    }
    assert_eq!(
        app.get("/subjects/s/versions/%20LATEST%20").await.json["version"],
        1
    );
    assert_eq!(app.get("/subjects/s/versions/-1").await.json["version"], 1);
    assert_eq!(
        code(&app.get("/schemas/ids/999").await),
        (StatusCode::NOT_FOUND, 40403)
    );
    assert_eq!(
        code(&app.get("/schemas/ids/999/schema").await),
        (StatusCode::NOT_FOUND, 40403)
    );
    assert_eq!(
        code(&app.get("/schemas/ids/x").await),
        (StatusCode::NOT_FOUND, 404)
    );
    let missing = app.post("/subjects/s", &request(&order_v2())).await;
    assert_eq!(code(&missing), (StatusCode::NOT_FOUND, 40403));
    let unknown = app.post("/subjects/nobody", &request(&order())).await;
    assert_eq!(code(&unknown), (StatusCode::NOT_FOUND, 40401));
    let found = app.post("/subjects/s", &request(&order())).await;
    assert_eq!(
        (
            found.json["subject"].as_str(),
            found.json["version"].as_i64()
        ),
        (Some("s"), Some(1))
    );
    assert_eq!(
        code(&app.get("/no/such/route").await),
        (StatusCode::NOT_FOUND, 404)
    );
    assert_eq!(
        code(&app.get("/subjects/__GLOBAL/versions").await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42208)
    );
}

async fn incompatible_registrations_are_409_and_checks_explain_with_verbose(app: TestApp) {
    register(&app, "s", &order()).await;
    let refused = register(&app, "s", &broken()).await;
    assert_eq!(code(&refused), (StatusCode::CONFLICT, 40901));
    let plain = app
        .post(
            "/compatibility/subjects/s/versions/latest",
            &request(&broken()),
        )
        .await;
    assert_eq!(plain.json, json!({"is_compatible": false}));
    let verbose = app
        .post(
            "/compatibility/subjects/s/versions/1?verbose=True",
            &request(&broken()),
        )
        .await;
    assert_eq!(verbose.json["is_compatible"], false);
    assert!(
        !verbose.json["messages"].as_array().unwrap().is_empty(),
        "{}",
        verbose.text
    );
    let ok = app
        .post(
            "/compatibility/subjects/s/versions?verbose=true",
            &request(&order_v2()),
        )
        .await;
    assert_eq!(ok.json, json!({"is_compatible": true, "messages": []}));
    let all = app
        .post("/compatibility/subjects/s/versions", &request(&broken()))
        .await;
    assert_eq!(all.json, json!({"is_compatible": false}));
    // An unknown subject is compatible; a missing numbered version is 40402.
    let fresh = app
        .post(
            "/compatibility/subjects/nobody/versions/latest",
            &request(&broken()),
        )
        .await;
    assert_eq!(fresh.json, json!({"is_compatible": true}));
    let missing = app
        .post("/compatibility/subjects/s/versions/9", &request(&broken()))
        .await;
    assert_eq!(code(&missing), (StatusCode::NOT_FOUND, 40402));
    let bad_version = app
        .post(
            "/compatibility/subjects/s/versions/zero",
            &request(&broken()),
        )
        .await;
    assert_eq!(
        code(&bad_version),
        (StatusCode::UNPROCESSABLE_ENTITY, 42202)
    );
    let unparsable = json!({"schemaType": "JSON", "schema": "{"});
    let e = app
        .post("/compatibility/subjects/s/versions/latest", &unparsable)
        .await;
    assert_eq!(code(&e), (StatusCode::UNPROCESSABLE_ENTITY, 42201));
    let v = app
        .post(
            "/compatibility/subjects/s/versions/latest?verbose=true",
            &unparsable,
        )
        .await;
    assert_eq!(v.json["is_compatible"], false);
    // force skips the refusal; the break takes the next major on the native side.
    let forced = app
        .post("/subjects/s/versions?force=True", &request(&broken()))
        .await;
    assert_eq!(forced.json["version"], 2, "{}", forced.text);
    let native = app.get("/api/v1/contracts/s/versions/latest").await;
    assert_eq!(native.json["version"], "2.0.0");
}

async fn config_answers_40408_until_set_and_maps_level_and_policy(app: TestApp) {
    assert_eq!(
        app.get("/config").await.json,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    let unset = app.get("/config/s").await;
    assert_eq!(code(&unset), (StatusCode::NOT_FOUND, 40408));
    let merged = app.get("/config/s?defaultToGlobal=true").await;
    assert_eq!(merged.json, json!({"compatibilityLevel": "BACKWARD"}));
    // Allowed before the subject's first version (kafkajs relies on it).
    let put = app
        .put("/config/s", &json!({"compatibility": "full_transitive"}))
        .await;
    assert_eq!(put.json, json!({"compatibility": "FULL_TRANSITIVE"}));
    assert_eq!(
        app.get("/config/s").await.json,
        json!({"compatibilityLevel": "FULL_TRANSITIVE"})
    );
    let policy = app
        .put("/config/s", &json!({"compatibilityPolicy": "LENIENT"}))
        .await;
    assert_eq!(
        policy.json,
        json!({"compatibility": "FULL_TRANSITIVE", "compatibilityPolicy": "LENIENT"})
    );
    let native = app.get("/api/v1/contracts/s/config").await;
    assert_eq!(
        (native.json["mode"].as_str(), native.json["policy"].as_str()),
        (Some("FULL_TRANSITIVE"), Some("lenient"))
    );
    let cleared = app.put("/config/s", &json!({"compatibility": null})).await;
    assert_eq!(cleared.json, json!({"compatibilityPolicy": "LENIENT"}));
    let bad = app
        .put("/config/s", &json!({"compatibility": "SIDEWAYS"}))
        .await;
    assert_eq!(code(&bad), (StatusCode::UNPROCESSABLE_ENTITY, 42203));
    let removed = app.delete("/config/s").await;
    assert_eq!(removed.json, json!({"compatibilityPolicy": "LENIENT"}));
    assert_eq!(
        code(&app.delete("/config/s").await),
        (StatusCode::NOT_FOUND, 40401)
    );
    let global = app.put("/config", &json!({"compatibility": "NONE"})).await;
    assert_eq!(global.json, json!({"compatibility": "NONE"}));
    assert_eq!(app.get("/api/v1/config").await.json["mode"], "NONE");
    assert_eq!(
        app.delete("/config").await.json,
        json!({"compatibilityLevel": "NONE"})
    );
    assert_eq!(
        app.get("/config").await.json,
        json!({"compatibilityLevel": "BACKWARD"})
    );
}

async fn soft_and_hard_deletes_have_their_codes_and_versions_are_never_reused(app: TestApp) {
    register(&app, "s", &order()).await;
    register(&app, "s", &order_v2()).await;
    assert_eq!(
        code(&app.delete("/subjects/s/versions/2?permanent=true").await),
        (StatusCode::NOT_FOUND, 40407)
    );
    assert_eq!(
        app.delete("/subjects/s/versions/latest").await.json,
        json!(2)
    );
    assert_eq!(
        code(&app.delete("/subjects/s/versions/2").await),
        (StatusCode::NOT_FOUND, 40406)
    );
    assert_eq!(
        app.get("/subjects/s/versions/2?deleted=true").await.json["deleted"],
        true
    );
    assert_eq!(
        app.delete("/subjects/s/versions/2?permanent=true")
            .await
            .json,
        json!(2)
    );
    assert_eq!(
        code(&app.delete("/subjects/s/versions/2").await),
        (StatusCode::NOT_FOUND, 40402)
    );
    // The next version is 3, not 2.
    assert_eq!(register(&app, "s", &order_v2()).await.json["version"], 3);
    assert_eq!(
        code(&app.delete("/subjects/s?permanent=true").await),
        (StatusCode::NOT_FOUND, 40405)
    );
    assert_eq!(app.delete("/subjects/s").await.json, json!([1, 3]));
    assert_eq!(
        code(&app.delete("/subjects/s").await),
        (StatusCode::NOT_FOUND, 40404)
    );
    assert_eq!(
        code(&app.get("/subjects/s/versions").await),
        (StatusCode::NOT_FOUND, 40401)
    );
    assert_eq!(
        app.delete("/subjects/s?permanent=true").await.json,
        json!([1, 3])
    );
    assert_eq!(
        code(&app.delete("/subjects/s").await),
        (StatusCode::NOT_FOUND, 40401)
    );
    assert_eq!(register(&app, "s", &order()).await.json["version"], 4);
}

async fn references_resolve_transitively_and_protect_their_targets(app: TestApp) {
    let address = json!({"type": "object", "properties": {"city": {"type": "string"}}});
    register(&app, "address", &address).await;
    let customer = json!({"type": "object", "properties": {"address": {"$ref": "address.json"}}});
    let with_ref = json!({
        "schemaType": "JSON",
        "schema": customer.to_string(),
        "references": [{"name": "address.json", "subject": "address", "version": -1}],
    });
    let c = app.post("/subjects/customer/versions", &with_ref).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(
        c.json["references"],
        json!([{"name": "address.json", "subject": "address", "version": 1}])
    );
    let order = json!({"type": "object", "properties": {"customer": {"$ref": "customer.json"}}});
    let o = app
        .post(
            "/subjects/order/versions",
            &json!({
                "schemaType": "JSON",
                "schema": order.to_string(),
                "references": [{"name": "customer.json", "subject": "customer", "version": 1}],
            }),
        )
        .await;
    assert_eq!(o.status, StatusCode::OK, "{}", o.text);
    let by_id = app.get(&format!("/schemas/ids/{}", o.json["id"])).await;
    assert_eq!(by_id.json["references"][0]["subject"], "customer");
    // The referring schema is resolved with its references and evolves under the usual
    // rules: an optional property added to an open object breaks STRICT BACKWARD.
    let o2 = app
        .post("/subjects/order/versions", &json!({
            "schemaType": "JSON",
            "schema": json!({"type": "object", "properties": {"customer": {"$ref": "customer.json"}, "n": {"type": "integer"}}}).to_string(),
            "references": [{"name": "customer.json", "subject": "customer", "version": 1}],
        }))
        .await;
    assert_eq!(o2.status, StatusCode::CONFLICT, "{}", o2.text);
    let referrers = app.get("/subjects/customer/versions/1/referencedby").await;
    assert_eq!(referrers.json, json!([o.json["id"]]));
    assert_eq!(
        code(&app.delete("/subjects/customer/versions/1").await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42206)
    );
    assert_eq!(
        code(&app.delete("/subjects/address").await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42206)
    );
    let dangling = json!({
        "schemaType": "JSON",
        "schema": customer.to_string(),
        "references": [{"name": "address.json", "subject": "address", "version": 9}],
    });
    let e = app.post("/subjects/x/versions", &dangling).await;
    assert_eq!(code(&e), (StatusCode::UNPROCESSABLE_ENTITY, 42201));
}

async fn modes_freeze_writes_and_import_keeps_the_given_ids(app: TestApp) {
    assert_eq!(app.get("/mode").await.json, json!({"mode": "READWRITE"}));
    assert_eq!(
        code(&app.get("/mode/s").await),
        (StatusCode::NOT_FOUND, 40409)
    );
    assert_eq!(
        app.get("/mode/s?defaultToGlobal=true").await.json,
        json!({"mode": "READWRITE"})
    );
    register(&app, "s", &order()).await;
    assert_eq!(
        app.put("/mode/s", &json!({"mode": "READONLY"})).await.json,
        json!({"mode": "READONLY"})
    );
    assert_eq!(
        code(&register(&app, "s", &order_v2()).await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205)
    );
    assert_eq!(
        code(&app.delete("/subjects/s/versions/1").await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205)
    );
    assert_eq!(
        code(
            &app.put("/config/s", &json!({"compatibility": "NONE"}))
                .await
        ),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205)
    );
    assert_eq!(
        app.delete("/mode/s").await.json,
        json!({"mode": "READONLY"})
    );
    assert_eq!(
        code(&app.delete("/mode/s").await),
        (StatusCode::NOT_FOUND, 40401)
    );
    let bad = app.put("/mode", &json!({"mode": "SIDEWAYS"})).await;
    assert_eq!(code(&bad), (StatusCode::UNPROCESSABLE_ENTITY, 42204));
    // IMPORT needs force while subjects exist; then ids are given and kept.
    assert_eq!(
        code(&app.put("/mode", &json!({"mode": "IMPORT"})).await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205)
    );
    assert_eq!(
        app.put("/mode?force=True", &json!({"mode": "IMPORT"}))
            .await
            .json,
        json!({"mode": "IMPORT"})
    );
    assert_eq!(
        code(&register(&app, "imp", &order()).await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205)
    );
    let mut body = request(&broken());
    body["id"] = json!(100);
    body["version"] = json!(5);
    let imported = app.post("/subjects/imp/versions", &body).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text);
    assert_eq!(
        (
            imported.json["id"].as_i64(),
            imported.json["version"].as_i64()
        ),
        (Some(100), Some(5))
    );
    let mut taken = request(&order_v2());
    taken["id"] = json!(100);
    assert_eq!(
        code(&app.post("/subjects/imp2/versions", &taken).await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205)
    );
    let mut mismatch = request(&broken());
    mismatch["id"] = json!(101);
    assert_eq!(
        code(&app.post("/subjects/imp3/versions", &mismatch).await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42207)
    );
    assert_eq!(app.delete("/mode").await.json, json!({"mode": "IMPORT"}));
    let mut outside = request(&order_v2());
    outside["id"] = json!(7);
    assert_eq!(
        code(&app.post("/subjects/s/versions", &outside).await),
        (StatusCode::UNPROCESSABLE_ENTITY, 42205)
    );
    // New ids continue after the imported one.
    let next = register(&app, "fresh", &order_v2()).await;
    assert!(next.json["id"].as_i64().unwrap() > 100, "{}", next.text);
    assert_eq!(register(&app, "imp", &broken()).await.json["version"], 5);
    assert_eq!(app.get("/contexts").await.json, json!(["."]));
}

/// Issue 12: the Confluent API's errors say what to do, and it stays lenient where
/// Confluent is (unknown fields are ignored).
async fn errors_name_the_fix_and_unknown_fields_are_still_ignored(app: TestApp) {
    let typed = send(
        &app,
        Method::POST,
        "/subjects/s/versions",
        Some("{}"),
        "text/plain",
    )
    .await;
    assert_eq!(code(&typed).0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let message = typed.json["message"].as_str().unwrap();
    assert!(
        message.contains(V1) && message.contains("application/json"),
        "{message}"
    );

    let native = app.get("/contracts/orders").await;
    assert_eq!(code(&native), (StatusCode::NOT_FOUND, 404));
    assert!(
        native.json["message"]
            .as_str()
            .unwrap()
            .contains("/api/v1/contracts/orders"),
        "{}",
        native.text
    );

    let mut body = request(&order());
    body["metadata"] = json!({"properties": {"owner": "team"}});
    body["unknownField"] = json!(true);
    let first = app.post("/subjects/s/versions", &body).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    register(&app, "s", &order_v2()).await;
    let refused = register(&app, "s", &broken()).await;
    assert_eq!(code(&refused), (StatusCode::CONFLICT, 40901));
    let message = refused.json["message"].as_str().unwrap();
    assert!(
        message.contains("(version 2)"),
        "the Confluent version: {message}"
    );
    assert!(message.contains("witness:"), "{message}");
}

on_both_backends!(
    errors_name_the_fix_and_unknown_fields_are_still_ignored,
    responses_use_the_vendor_type_unless_only_json_is_accepted,
    bodies_may_be_any_json_type_or_octet_stream_and_nothing_else,
    query_booleans_are_lenient_and_never_an_error,
    lists_page_by_offset_and_limit,
    registration_is_idempotent_shares_ids_and_keeps_the_text,
    only_json_schema_is_accepted,
    every_documented_read_failure_has_its_code,
    incompatible_registrations_are_409_and_checks_explain_with_verbose,
    config_answers_40408_until_set_and_maps_level_and_policy,
    soft_and_hard_deletes_have_their_codes_and_versions_are_never_reused,
    references_resolve_transitively_and_protect_their_targets,
    modes_freeze_writes_and_import_keeps_the_given_ids,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_size_limit_is_413_in_confluent_shape() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, 1024)
        .await
        .expect("app");
    let big = json!({"type": "object", "description": "x".repeat(4096)});
    for path in [
        "/subjects/s/versions",
        "/compatibility/subjects/s/versions/latest",
    ] {
        let a = app.post(path, &request(&big)).await;
        assert_eq!(
            code(&a),
            (StatusCode::PAYLOAD_TOO_LARGE, 413),
            "{path}: {}",
            a.text
        );
        let message = a.json["message"].as_str().unwrap();
        assert!(message.contains("--max-body-bytes"), "{}", a.text);
    }
}
