//! Registrations to one contract are serialised in the database.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

const NAME: &str = "orders.order_placed";
const WRITERS: usize = 50;

async fn fifty_concurrent_compatible_registrations_get_fifty_consecutive_seqs(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..WRITERS {
        let app = std::sync::Arc::clone(&app);
        // Annotation-only differences: compatible whatever order they land in.
        let schema = json!({"type": "object", "properties": {"id": {"type": "string"}}, "description": format!("writer {i}")});
        tasks.spawn(async move { app.register(NAME, &schema).await });
    }
    let mut created = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let a = done.unwrap();
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        created.push((
            a.json["seq"].as_i64().unwrap(),
            semver::Version::parse(a.json["version"].as_str().unwrap()).unwrap(),
        ));
    }
    created.sort();
    let seqs: Vec<i64> = created.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, (1..=WRITERS as i64).collect::<Vec<_>>());
    assert!(
        created.windows(2).all(|w| w[0].1 < w[1].1),
        "versions increase with seq: {created:?}"
    );
}

async fn fifty_concurrent_registrations_of_one_schema_yield_one_version(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..WRITERS {
        let app = std::sync::Arc::clone(&app);
        tasks.spawn(async move {
            app.register(NAME, &json!({"type": "object", "title": "same"}))
                .await
        });
    }
    let mut statuses = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let a = done.unwrap();
        assert_eq!(a.json["version"], "1.0.0", "{}", a.text);
        statuses.push(a.status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        WRITERS - 1
    );
    let versions = app.get(&format!("/api/v1/contracts/{NAME}/versions")).await;
    assert_eq!(versions.json["versions"].as_array().map(Vec::len), Some(1));
}

on_both_backends!(
    fifty_concurrent_compatible_registrations_get_fifty_consecutive_seqs,
    fifty_concurrent_registrations_of_one_schema_yield_one_version,
);
