//! The audit log: every change is recorded with its outcome, in the same transaction,
//! and rows can be neither updated nor deleted.

use accord::domain::{AuditAction, AuditOutcome};
use accord::store::{AuditQuery, AuditRecord};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

const ORDERS: &str = "orders.order_placed";

fn schema(props: &[&str]) -> serde_json::Value {
    let properties: serde_json::Map<String, serde_json::Value> = props
        .iter()
        .map(|p| ((*p).to_owned(), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": properties, "required": ["id"], "additionalProperties": false})
}

async fn rows(app: &TestApp) -> Vec<AuditRecord> {
    app.store
        .audit_log(&AuditQuery {
            limit: 1000,
            ..AuditQuery::default()
        })
        .await
        .expect("read the audit log")
}

async fn registrations_are_recorded_as_accepted_unchanged_and_refused(app: TestApp) {
    let a = app.register(ORDERS, &schema(&["id", "sku"])).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let b = app.register(ORDERS, &schema(&["id", "sku"])).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text);
    // Removing a property from a closed schema breaks readers: refused.
    let c = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/contracts/{ORDERS}/versions"),
            Some(&json!({"schema": schema(&["id"]), "version": "1.0.1"})),
            &[("x-request-id", "req-refused-1")],
        )
        .await;
    assert_eq!(c.status, StatusCode::CONFLICT, "{}", c.text);

    let log = rows(&app).await;
    let outcomes: Vec<(AuditAction, AuditOutcome, Option<&str>)> = log
        .iter()
        .map(|r| (r.action, r.outcome, r.version.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (
                AuditAction::RegisterVersion,
                AuditOutcome::Refused,
                Some("1.0.1")
            ),
            (
                AuditAction::RegisterVersion,
                AuditOutcome::Unchanged,
                Some("1.0.0")
            ),
            (
                AuditAction::RegisterVersion,
                AuditOutcome::Accepted,
                Some("1.0.0")
            ),
        ],
        "newest first"
    );
    let refused = &log[0];
    assert_eq!(refused.contract.as_deref(), Some(ORDERS));
    assert_eq!(refused.principal, "anonymous");
    assert_eq!(refused.principal_id, None);
    assert_eq!(refused.request_id, "req-refused-1");
    assert_eq!(refused.client.as_deref(), Some("127.0.0.1"));
    let detail = refused.detail.as_ref().expect("refusal detail");
    assert_eq!(detail["refusal"], "version-too-small", "{detail}");
    assert!(
        detail["rules"]
            .as_array()
            .is_some_and(|r| !r.is_empty() && r.iter().all(|id| id.is_string())),
        "the refusing rule ids: {detail}"
    );
    assert!(log.iter().all(|r| !r.request_id.is_empty()));
    assert!(log[1].id < log[0].id && log[2].id < log[1].id);
}

async fn deletes_and_configuration_changes_are_recorded(app: TestApp) {
    app.register(ORDERS, &schema(&["id"])).await;
    let put = app
        .put(
            &format!("/api/v1/contracts/{ORDERS}/config"),
            &json!({"mode": "FULL"}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let global = app
        .put("/api/v1/config", &json!({"policy": "lenient"}))
        .await;
    assert_eq!(global.status, StatusCode::OK, "{}", global.text);
    let patch = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/contracts/{ORDERS}"),
            Some(&json!({"owner": "team-orders"})),
            &[],
        )
        .await;
    assert_eq!(patch.status, StatusCode::OK, "{}", patch.text);
    let soft = app
        .delete(&format!("/api/v1/contracts/{ORDERS}/versions/1.0.0"))
        .await;
    assert_eq!(soft.status, StatusCode::OK, "{}", soft.text);
    let hard = app
        .delete(&format!(
            "/api/v1/contracts/{ORDERS}/versions/1.0.0?permanent=true"
        ))
        .await;
    assert_eq!(hard.status, StatusCode::NO_CONTENT, "{}", hard.text);
    // A refused delete changes nothing and records nothing.
    let again = app
        .delete(&format!("/api/v1/contracts/{ORDERS}/versions/1.0.0"))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.text);
    let mode = app
        .request(
            reqwest::Method::PUT,
            "/mode/other.subject",
            Some(&json!({"mode": "READONLY"})),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(mode.status, StatusCode::OK, "{}", mode.text);

    let log = rows(&app).await;
    let actions: Vec<AuditAction> = log.iter().rev().map(|r| r.action).collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::RegisterVersion,
            AuditAction::ConfigureContract,
            AuditAction::ConfigureRegistry,
            AuditAction::UpdateContract,
            AuditAction::DeleteVersion,
            AuditAction::PurgeVersion,
            AuditAction::SetContractMode,
        ]
    );
    let config = log
        .iter()
        .find(|r| r.action == AuditAction::ConfigureContract)
        .unwrap();
    assert_eq!(config.detail.as_ref().unwrap()["mode"], "FULL");
    let purge = &log[1];
    assert_eq!(purge.version.as_deref(), Some("1.0.0"));
    assert_eq!(purge.contract.as_deref(), Some(ORDERS));
}

async fn filters_and_the_cursor_page_through_the_log(app: TestApp) {
    for n in 0..5 {
        let name = format!("c{n}.events");
        app.register(&name, &schema(&["id"])).await;
    }
    let only = app
        .store
        .audit_log(&AuditQuery {
            contract: Some("c3.events".into()),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].contract.as_deref(), Some("c3.events"));
    let first = app
        .store
        .audit_log(&AuditQuery {
            limit: 2,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let second = app
        .store
        .audit_log(&AuditQuery {
            limit: 2,
            before: Some(first[1].id),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let names: Vec<_> = first
        .iter()
        .chain(&second)
        .map(|r| r.contract.clone().unwrap())
        .collect();
    assert_eq!(names, ["c4.events", "c3.events", "c2.events", "c1.events"]);
    let later = app
        .store
        .audit_log(&AuditQuery {
            since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(later.is_empty());
    let until = app
        .store
        .audit_log(&AuditQuery {
            until: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            action: Some(AuditAction::RegisterVersion),
            limit: 10,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(until.len(), 5);
}

on_both_backends!(
    registrations_are_recorded_as_accepted_unchanged_and_refused,
    deletes_and_configuration_changes_are_recorded,
    filters_and_the_cursor_page_through_the_log,
);

/// No one, not even a direct SQL statement, can update or delete an audit row.
async fn audit_rows_cannot_be_updated_or_deleted(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        eprintln!("ACCORD_TEST_POSTGRES_URL not set; skipped");
        return;
    };
    app.register(ORDERS, &schema(&["id"])).await;
    assert_eq!(rows(&app).await.len(), 1);
    let url = app._db.url.clone();
    let (update, delete) = match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let u = sqlx::query("UPDATE audit_log SET outcome = 'done'")
                .execute(&pool)
                .await;
            let d = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
            (u.map(|_| ()), d.map(|_| ()))
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let u = sqlx::query("UPDATE audit_log SET outcome = 'done'")
                .execute(&pool)
                .await;
            let d = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
            (u.map(|_| ()), d.map(|_| ()))
        }
    };
    for (what, result) in [("update", update), ("delete", delete)] {
        let e = result.expect_err(what).to_string();
        assert!(e.contains("append-only"), "{what}: {e}");
    }
    assert_eq!(rows(&app).await[0].outcome, AuditOutcome::Accepted);
}

#[tokio::test]
async fn audit_rows_cannot_be_updated_or_deleted_on_sqlite() {
    audit_rows_cannot_be_updated_or_deleted(Backend::Sqlite).await;
}

#[tokio::test]
async fn audit_rows_cannot_be_updated_or_deleted_on_postgres() {
    audit_rows_cannot_be_updated_or_deleted(Backend::Postgres).await;
}
