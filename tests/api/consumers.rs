//! Consumers through the API: declarations, environments, deployments, the consumers
//! matrix, what a change does to each consumer (registration, dry run, diff),
//! `consumer_protection`, deprecating and retiring a line, passive fetches and
//! consumer-side can-i-deploy.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_shape};
use crate::on_both_backends;

const ORDERS: &str = "orders.order_placed";

fn v1() -> Value {
    json!({
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "amount": {"type": "number"}
        },
        "required": ["order_id"]
    })
}

fn without_amount() -> Value {
    json!({
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"]
    })
}

/// Two consumers deployed in a protected `prod`: `shipping.label` reads only
/// `/order_id`, `billing.export` reads `/amount`; the contract is under NONE.
async fn two_consumers_in_prod(app: &TestApp) {
    let r = app.register(ORDERS, &v1()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let c = app
        .put(
            &format!("/api/v1/contracts/{ORDERS}/config"),
            &json!({"mode": "NONE"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    let env = app
        .put("/api/v1/environments/prod", &json!({"protected": true}))
        .await;
    assert_eq!(env.status, StatusCode::CREATED, "{}", env.text);
    assert_shape(&env.json, "Environment");
    for (consumer, field) in [
        ("shipping.label", "/order_id"),
        ("billing.export", "/amount"),
    ] {
        let d = app
            .put(
                &format!("/api/v1/consumers/{consumer}"),
                &json!({
                    "owner": "team",
                    "app_version": "sha1",
                    "reads": [{"contract": ORDERS, "range": ">=1", "fields": [field]}]
                }),
            )
            .await;
        assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
        assert_shape(&d.json, "DeclaredConsumer");
        assert_eq!(d.json["warnings"], json!([]), "{}", d.text);
        let dep = app
            .post(
                &format!("/api/v1/consumers/{consumer}/deployments"),
                &json!({"app_version": "sha1", "environment": "prod"}),
            )
            .await;
        assert_eq!(dep.status, StatusCode::CREATED, "{}", dep.text);
        assert_shape(&dep.json, "Deployment");
        assert_eq!(
            dep.json["resolutions"],
            json!([{"contract": ORDERS, "version": "1.0.0"}])
        );
    }
}

/// Registers the schema without `/amount` as 2.0.0 (the engine alone would call the
/// removal of an optional property from an open object minor).
async fn register_v2(app: &TestApp) -> crate::helpers::Answer {
    app.register_with(ORDERS, &without_amount(), json!({"version": "2.0.0"}))
        .await
}

fn row<'a>(section: &'a Value, consumer: &str) -> &'a Value {
    section["consumers"]
        .as_array()
        .expect("consumers")
        .iter()
        .find(|r| r["consumer"] == consumer)
        .unwrap_or_else(|| panic!("no row for {consumer} in {section:#}"))
}

async fn removing_a_field_breaks_only_the_consumer_that_reads_it(app: TestApp) {
    two_consumers_in_prod(&app).await;
    let dry = app
        .post(
            &format!("/api/v1/contracts/{ORDERS}/compatibility"),
            &json!({"schema": without_amount()}),
        )
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text);
    assert_shape(&dry.json, "Compatibility");
    assert_eq!(dry.json["outcome"], "create", "{}", dry.text);
    assert_eq!(dry.json["consumer_protection"], "warn");
    assert_eq!(dry.json["consumers_total"], 2);
    assert_eq!(dry.json["consumers_breaking"], 1);
    let billing = row(&dry.json, "billing.export");
    assert_eq!(
        (
            &billing["environment"],
            &billing["protected"],
            &billing["deployed_version"],
            &billing["receives"],
            &billing["breaks"]
        ),
        (
            &json!("prod"),
            &json!(true),
            &json!("1.0.0"),
            &json!(true),
            &json!(true)
        ),
        "{billing:#}"
    );
    assert_eq!(billing["missing_fields"], json!(["/amount"]));
    assert!(
        billing["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["instance_path"].as_str().unwrap().starts_with("/amount")),
        "{billing:#}"
    );
    let shipping = row(&dry.json, "shipping.label");
    assert_eq!(shipping["breaks"], false, "{shipping:#}");
    assert_eq!(shipping["changes"], json!([]));

    // Under warn the registration proceeds and says the same.
    let r = register_v2(&app).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_shape(&r.json, "Registration");
    assert_eq!(r.json["version"], "2.0.0");
    assert_eq!(row(&r.json, "billing.export")["breaks"], true);
    assert_eq!(row(&r.json, "shipping.label")["breaks"], false);

    // The diff between the versions says it too.
    let diff = app
        .get(&format!(
            "/api/v1/contracts/{ORDERS}/diff?from=1.0.0&to=2.0.0"
        ))
        .await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.text);
    assert_shape(&diff.json, "Diff");
    assert_eq!(row(&diff.json, "billing.export")["breaks"], true);
    assert_eq!(row(&diff.json, "shipping.label")["breaks"], false);
}

async fn block_refuses_a_change_that_breaks_a_consumer_in_a_protected_environment(app: TestApp) {
    two_consumers_in_prod(&app).await;
    let path = format!("/api/v1/contracts/{ORDERS}/config");
    let bad = app
        .put(&path, &json!({"consumer_protection": "strict"}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let c = app
        .put(&path, &json!({"consumer_protection": "block"}))
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    assert_eq!(c.json["consumer_protection"], "block");
    assert_eq!(c.json["mode"], "NONE", "the mode is kept");
    assert_eq!(app.get(&path).await.json["consumer_protection"], "block");

    let dry = app
        .post(
            &format!("/api/v1/contracts/{ORDERS}/compatibility"),
            &json!({"schema": without_amount()}),
        )
        .await;
    assert_eq!(dry.json["outcome"], "refused", "{}", dry.text);
    assert_eq!(dry.json["error"]["code"], "consumers-broken");

    let refused = app.register(ORDERS, &without_amount()).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.code(), "consumers-broken");
    let listed: Vec<&str> = refused.json["error"]["details"]["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["consumer"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["billing.export"]);
    let versions = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions"))
        .await;
    assert_eq!(versions.json["versions"].as_array().unwrap().len(), 1);

    // A change to a field nobody protected reads passes under block.
    let mut wider = v1();
    wider["properties"]["note"] = json!({"type": "string"});
    let ok = app.register(ORDERS, &wider).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);

    // Unprotecting prod lets the breaking change through (reported, not refused).
    app.put("/api/v1/environments/prod", &json!({"protected": false}))
        .await;
    let through = app.register(ORDERS, &without_amount()).await;
    assert_eq!(through.status, StatusCode::CREATED, "{}", through.text);
    assert_eq!(row(&through.json, "billing.export")["breaks"], true);
}

async fn the_old_line_cannot_be_retired_while_a_consumer_is_deployed_against_it(app: TestApp) {
    two_consumers_in_prod(&app).await;
    assert_eq!(register_v2(&app).await.status, StatusCode::CREATED);
    let matrix = app
        .get(&format!("/api/v1/contracts/{ORDERS}/consumers"))
        .await;
    assert_eq!(matrix.status, StatusCode::OK, "{}", matrix.text);
    assert_shape(&matrix.json, "ConsumersMatrix");
    assert_eq!(
        row(&matrix.json, "billing.export")["resolved_version"],
        "1.0.0"
    );

    let deprecate = app
        .post(
            &format!("/api/v1/contracts/{ORDERS}/lines/1/deprecate"),
            &json!({"sunset": "2027-03-01", "reason": "amount moved to billing", "successor": 2}),
        )
        .await;
    assert_eq!(deprecate.status, StatusCode::OK, "{}", deprecate.text);
    assert_shape(&deprecate.json, "LineDeprecation");
    let fetched = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions/1.0.0/schema"))
        .await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert!(
        fetched.headers["deprecation"]
            .to_str()
            .unwrap()
            .starts_with('@')
    );
    assert_eq!(fetched.headers["sunset"], "Mon, 01 Mar 2027 00:00:00 GMT");
    assert_eq!(
        fetched.headers["link"],
        format!("</api/v1/contracts/{ORDERS}/versions/%5E2>; rel=\"successor-version\"")
    );
    let current = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions/2.0.0"))
        .await;
    assert!(current.headers.get("deprecation").is_none());
    let matrix = app
        .get(&format!("/api/v1/contracts/{ORDERS}/consumers"))
        .await;
    assert_eq!(row(&matrix.json, "billing.export")["deprecated_line"], 1);

    let retire = format!("/api/v1/contracts/{ORDERS}/lines/1/retire");
    let refused = app.post(&retire, &json!(null)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.code(), "consumers-deployed");
    let mut listed: Vec<&str> = refused.json["error"]["details"]["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["consumer"].as_str().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed, ["billing.export", "shipping.label"]);
    // Nor can 1.0.0 be deleted for good.
    let soft = app
        .delete(&format!("/api/v1/contracts/{ORDERS}/versions/1.0.0"))
        .await;
    assert_eq!(soft.status, StatusCode::OK, "{}", soft.text);
    let purge = app
        .delete(&format!(
            "/api/v1/contracts/{ORDERS}/versions/1.0.0?permanent=true"
        ))
        .await;
    assert_eq!(purge.status, StatusCode::CONFLICT, "{}", purge.text);
    assert_eq!(purge.code(), "consumers-deployed");

    // Once both moved to the new line, it can go.
    for consumer in ["shipping.label", "billing.export"] {
        app.put(
            &format!("/api/v1/consumers/{consumer}"),
            &json!({"app_version": "sha2", "reads": [{"contract": ORDERS, "range": "^2"}]}),
        )
        .await;
        let dep = app
            .post(
                &format!("/api/v1/consumers/{consumer}/deployments"),
                &json!({"app_version": "sha2", "environment": "prod"}),
            )
            .await;
        assert_eq!(dep.json["resolutions"][0]["version"], "2.0.0");
    }
    let purge = app
        .delete(&format!(
            "/api/v1/contracts/{ORDERS}/versions/1.0.0?permanent=true"
        ))
        .await;
    assert_eq!(purge.status, StatusCode::NO_CONTENT, "{}", purge.text);
}

async fn an_admin_may_force_a_retirement_and_the_audit_log_says_so(app: TestApp) {
    two_consumers_in_prod(&app).await;
    assert_eq!(register_v2(&app).await.status, StatusCode::CREATED);
    let retire = format!("/api/v1/contracts/{ORDERS}/lines/1/retire?force=true");
    let forced = app.post(&retire, &json!(null)).await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.text);
    assert_shape(&forced.json, "RetiredLine");
    assert_eq!(forced.json["versions"][0]["version"], "1.0.0");
    let latest = app
        .get(&format!("/api/v1/contracts/{ORDERS}/versions/%5E1"))
        .await;
    assert_eq!(latest.status, StatusCode::NOT_FOUND);
    let audit = app.get("/api/v1/audit?action=line.retire").await;
    let entry = &audit.json["entries"][0];
    assert_eq!(entry["detail"]["forced"], true, "{}", audit.text);
    assert_eq!(entry["detail"]["major"], 1);
}

async fn a_deployment_needs_a_declared_version_and_an_existing_environment(app: TestApp) {
    let unknown = app
        .post(
            "/api/v1/consumers/billing.export/deployments",
            &json!({"app_version": "sha1", "environment": "prod"}),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::NOT_FOUND, "consumer-not-found")
    );
    let d = app
        .put(
            "/api/v1/consumers/billing.export",
            &json!({"app_version": "sha1", "reads": [{"contract": "nobody.here", "range": "^1"}]}),
        )
        .await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    assert_eq!(
        d.json["warnings"].as_array().unwrap().len(),
        1,
        "{}",
        d.text
    );
    let again = app
        .put(
            "/api/v1/consumers/billing.export",
            &json!({"app_version": "sha1", "reads": []}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let undeclared = app
        .post(
            "/api/v1/consumers/billing.export/deployments",
            &json!({"app_version": "sha9", "environment": "prod"}),
        )
        .await;
    assert_eq!(
        (undeclared.status, undeclared.code()),
        (StatusCode::NOT_FOUND, "app-version-not-declared")
    );
    let no_env = app
        .post(
            "/api/v1/consumers/billing.export/deployments",
            &json!({"app_version": "sha1", "environment": "prod"}),
        )
        .await;
    assert_eq!(
        (no_env.status, no_env.code()),
        (StatusCode::NOT_FOUND, "environment-not-found")
    );
    for (body, says) in [
        (
            json!({"app_version": "sha1", "reads": [{"contract": "x", "range": "one"}]}),
            "semver range",
        ),
        (
            json!({"app_version": "sha1", "reads": [{"contract": "Bad Name", "range": "^1"}]}),
            "reads[0].contract",
        ),
        (
            json!({"app_version": "two words", "reads": []}),
            "application version",
        ),
        (
            json!({"app_version": "sha1", "reads": [], "extra": 1}),
            "extra",
        ),
    ] {
        let bad = app.put("/api/v1/consumers/billing.export", &body).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(bad.text.contains(says), "{says}: {}", bad.text);
    }
    let list = app.get("/api/v1/consumers").await;
    assert_shape(&list.json, "ConsumerList");
    assert_eq!(list.json["consumers"][0]["name"], "billing.export");
    let one = app.get("/api/v1/consumers/billing.export").await;
    assert_shape(&one.json, "Consumer");
    assert_eq!(one.json["declarations"][0]["app_version"], "sha1");
    assert_eq!(
        app.get("/api/v1/consumers/nobody").await.status,
        StatusCode::NOT_FOUND
    );
    let envs = app.get("/api/v1/environments").await;
    assert_shape(&envs.json, "EnvironmentList");
}

async fn can_i_deploy_checks_ranges_and_fields_against_live_versions(app: TestApp) {
    two_consumers_in_prod(&app).await;
    assert_eq!(register_v2(&app).await.status, StatusCode::CREATED);
    let ask = |consumer: &'static str, body: Value| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/consumers/{consumer}/can-i-deploy"), &body)
                .await
        }
    };
    let ok = ask(
        "shipping.label",
        json!({"environment": "prod", "reads": [{"contract": ORDERS, "range": "^2", "fields": ["/order_id"]}]}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_shape(&ok.json, "CanIDeploy");
    assert_eq!(ok.json["ok"], true, "{}", ok.text);
    let no = ask(
        "billing.export",
        json!({"environment": "prod", "reads": [{"contract": ORDERS, "range": "^2", "fields": ["/amount"]}]}),
    )
    .await;
    assert_eq!(no.json["ok"], false);
    assert_eq!(no.json["reads"][0]["resolved_version"], "2.0.0");
    assert!(
        no.json["reads"][0]["problems"][0]
            .as_str()
            .unwrap()
            .contains("/amount"),
        "{}",
        no.text
    );
    let declared = ask(
        "billing.export",
        json!({"environment": "prod", "app_version": "sha1"}),
    )
    .await;
    // sha1 reads `>=1`, which now resolves to 2.0.0, where /amount is gone.
    assert_eq!(declared.json["ok"], false, "{}", declared.text);
    assert_eq!(declared.json["reads"][0]["resolved_version"], "2.0.0");
    let shipping = ask(
        "shipping.label",
        json!({"environment": "prod", "app_version": "sha1"}),
    )
    .await;
    assert_eq!(shipping.json["ok"], true, "{}", shipping.text);
    let nothing = ask(
        "billing.export",
        json!({"environment": "prod", "reads": [{"contract": ORDERS, "range": "^7"}]}),
    )
    .await;
    assert_eq!(nothing.json["ok"], false);
}

async fn a_declared_consumers_fetches_show_in_the_matrix(app: TestApp) {
    two_consumers_in_prod(&app).await;
    for name in ["billing.export", "made.up"] {
        let f = app
            .request(
                Method::GET,
                &format!("/api/v1/contracts/{ORDERS}/versions/%5E1/schema"),
                None,
                &[("accord-consumer", name)],
            )
            .await;
        assert_eq!(f.status, StatusCode::OK);
    }
    // The note is written off the request path: wait for it, bounded.
    let deadline = Instant::now() + Duration::from_secs(10);
    let matrix = loop {
        let m = app
            .get(&format!("/api/v1/contracts/{ORDERS}/consumers"))
            .await;
        if !row(&m.json, "billing.export")["last_fetch"].is_null() || Instant::now() > deadline {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let billing = row(&matrix.json, "billing.export");
    assert_eq!(billing["last_fetched_version"], "1.0.0", "{}", matrix.text);
    assert!(row(&matrix.json, "shipping.label")["last_fetch"].is_null());
    assert!(
        matrix.json["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["consumer"] != "made.up"),
        "an undeclared name is not recorded"
    );
    let one = app.get("/api/v1/consumers/billing.export").await;
    assert_eq!(one.json["fetches"][0]["version"], "1.0.0", "{}", one.text);
}

async fn protection_off_leaves_consumers_out(app: TestApp) {
    two_consumers_in_prod(&app).await;
    app.put(
        &format!("/api/v1/contracts/{ORDERS}/config"),
        &json!({"consumer_protection": "off"}),
    )
    .await;
    let r = app.register(ORDERS, &without_amount()).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json["consumer_protection"], "off");
    assert_eq!(r.json["consumers"], json!([]));
}

on_both_backends!(
    removing_a_field_breaks_only_the_consumer_that_reads_it,
    block_refuses_a_change_that_breaks_a_consumer_in_a_protected_environment,
    the_old_line_cannot_be_retired_while_a_consumer_is_deployed_against_it,
    an_admin_may_force_a_retirement_and_the_audit_log_says_so,
    a_deployment_needs_a_declared_version_and_an_existing_environment,
    can_i_deploy_checks_ranges_and_fields_against_live_versions,
    a_declared_consumers_fetches_show_in_the_matrix,
    protection_off_leaves_consumers_out,
);
