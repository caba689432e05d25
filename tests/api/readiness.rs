//! `/readyz` (issues 10 and 14): ready only when the database answers, within a
//! second, and holds the tables this binary expects; otherwise 503 `not-ready` whose
//! `details.reason` names what is wrong. `/healthz` (liveness) stays 200 throughout.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Answer, TestApp, assert_shape};
use crate::on_both_backends;

/// Runs `sqlite` or `postgres` (whichever is the app's backend) on its database.
pub(crate) async fn exec(app: &TestApp, sqlite: &str, postgres: &str) {
    let url = &app._db.url;
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("connect");
        sqlx::query(sqlite).execute(&pool).await.expect(sqlite);
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        sqlx::query(postgres).execute(&pool).await.expect(postgres);
        pool.close().await;
    }
}

/// Asserts a 503 `not-ready` answer with `reason`, and returns its details.
pub(crate) fn assert_not_ready(a: &Answer, reason: &str) -> Value {
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert!(a.headers.contains_key("retry-after"), "{:?}", a.headers);
    assert_eq!(a.code(), "not-ready", "{}", a.text);
    assert_eq!(a.json["error"]["details"]["reason"], reason, "{}", a.text);
    assert_shape(&a.json, "Error");
    a.json["error"]["details"].clone()
}

async fn readyz_names_a_migration_the_database_lacks(app: TestApp) {
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    exec(
        &app,
        "DELETE FROM _sqlx_migrations WHERE version = 7",
        "DELETE FROM _sqlx_migrations WHERE version = 7",
    )
    .await;
    let a = app.get("/readyz").await;
    let details = assert_not_ready(&a, "database-older");
    assert_eq!(details["missing"], serde_json::json!([7]), "{}", a.text);
    let message = a.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("0007") && message.contains("accord migrate"),
        "{message}"
    );
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);
}

async fn readyz_names_a_migration_the_binary_does_not_know_and_recovers(app: TestApp) {
    exec(
        &app,
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, X'00', 0)",
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (9999, 'future', TRUE, decode('00', 'hex'), 0)",
    )
    .await;
    let a = app.get("/readyz").await;
    let details = assert_not_ready(&a, "database-newer");
    assert_eq!(details["unknown"], serde_json::json!([9999]), "{}", a.text);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("newer")
    );
    exec(
        &app,
        "DELETE FROM _sqlx_migrations WHERE version = 9999",
        "DELETE FROM _sqlx_migrations WHERE version = 9999",
    )
    .await;
    // No restart: the next probe looks again.
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
}

async fn readyz_says_the_schema_is_missing_when_the_tables_are_gone(app: TestApp) {
    exec(
        &app,
        "DROP TABLE _sqlx_migrations",
        "DROP TABLE _sqlx_migrations",
    )
    .await;
    let a = app.get("/readyz").await;
    assert_not_ready(&a, "schema-missing");
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("accord migrate"),
        "{}",
        a.text
    );
}

on_both_backends!(
    readyz_names_a_migration_the_database_lacks,
    readyz_names_a_migration_the_binary_does_not_know_and_recovers,
    readyz_says_the_schema_is_missing_when_the_tables_are_gone,
);
