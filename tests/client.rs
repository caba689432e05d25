//! The consumer library against a fake registry speaking the native version route:
//! fetching, HTTP caching (immutable versions, 304 revalidation), the compiled
//! validator cache, the on-disk cache for offline starts, errors.

mod fake_registry;

use std::sync::Arc;

use accord::client::{Client, ClientError, Origin};
use fake_registry::{FakeRegistry, Version};
use serde_json::{Value, json};

fn order_schema(required: &[&str]) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": required,
        "properties": {"id": {"type": "integer"}, "email": {"type": "string", "format": "email"}},
    })
}

fn versions() -> Vec<Version> {
    vec![
        Version::new("orders.order_placed", "1.0.0", 1, order_schema(&["id"])),
        Version::new(
            "orders.order_placed",
            "1.1.0",
            2,
            order_schema(&["id", "email"]),
        ),
        Version::new("orders.order_placed", "2.0.0", 3, json!({"type": "string"})),
    ]
}

fn client(registry: &FakeRegistry, cache: &tempfile::TempDir) -> Client {
    Client::builder(&registry.url)
        .cache_dir(cache.path())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_range_resolves_to_the_highest_matching_version_compiled_with_formats() {
    let registry = FakeRegistry::start(versions(), None).await;
    let cache = tempfile::tempdir().unwrap();
    let contract = client(&registry, &cache)
        .contract("orders.order_placed", "^1")
        .await
        .unwrap();
    assert_eq!(contract.name(), "orders.order_placed");
    assert_eq!(
        contract.version().map(ToString::to_string).as_deref(),
        Some("1.1.0")
    );
    assert_eq!(contract.schema_id(), Some(2));
    assert!(contract.is_valid(&json!({"id": 1, "email": "a@example.com"})));
    let violations = contract.validate(&json!({"id": "x", "email": "Ann <a@example.com>"}));
    let paths: Vec<&str> = violations.iter().map(|v| v.schema_path.as_str()).collect();
    assert_eq!(paths.len(), 2, "{violations:?}");
    assert!(
        paths.contains(&"/properties/id/type") && paths.contains(&"/properties/email/format"),
        "{paths:?}"
    );
    registry.stop().await;
}

#[tokio::test]
async fn an_exact_version_is_fetched_once_even_across_processes() {
    let registry = FakeRegistry::start(versions(), None).await;
    let cache = tempfile::tempdir().unwrap();
    let first = client(&registry, &cache);
    let a = first.fetch("orders.order_placed", "1.0.0").await.unwrap();
    let b = first.fetch("orders.order_placed", "1.0.0").await.unwrap();
    assert_eq!((a.origin, b.origin), (Origin::Registry, Origin::Cache));
    assert!(Arc::ptr_eq(&a.contract, &b.contract));
    // A new client (a restarted consumer) finds the immutable copy on disk.
    let c = client(&registry, &cache)
        .fetch("orders.order_placed", "1.0.0")
        .await
        .unwrap();
    assert_eq!(c.origin, Origin::Cache);
    assert_eq!(registry.requests(), 1);
    registry.stop().await;
}

#[tokio::test]
async fn a_stale_range_is_revalidated_with_if_none_match_and_a_304_keeps_the_validator() {
    let registry = FakeRegistry::start(versions(), None).await;
    let cache = tempfile::tempdir().unwrap();
    let client = client(&registry, &cache);
    let a = client.fetch("orders.order_placed", "^1").await.unwrap();
    let b = client.fetch("orders.order_placed", "^1").await.unwrap();
    assert_eq!(
        (a.origin, b.origin),
        (Origin::Registry, Origin::Revalidated)
    );
    assert_eq!((registry.requests(), registry.not_modified()), (2, 1));
    assert!(Arc::ptr_eq(&a.contract, &b.contract));
    assert_eq!(client.compiled_validators(), 1);

    // A new version in range is picked up at the next revalidation.
    registry.add(Version::new(
        "orders.order_placed",
        "1.2.0",
        4,
        order_schema(&[]),
    ));
    let c = client.fetch("orders.order_placed", "^1").await.unwrap();
    assert_eq!(c.origin, Origin::Registry);
    assert_eq!(
        c.contract.version().map(ToString::to_string).as_deref(),
        Some("1.2.0")
    );
    registry.stop().await;
}

#[tokio::test]
async fn validators_are_compiled_once_per_schema_id() {
    let schema = order_schema(&["id"]);
    let registry = FakeRegistry::start(
        vec![
            Version::new("orders.a", "1.0.0", 9, schema.clone()),
            Version::new("orders.b", "3.1.0", 9, schema),
        ],
        None,
    )
    .await;
    let cache = tempfile::tempdir().unwrap();
    let client = client(&registry, &cache);
    let a = client.contract("orders.a", "latest").await.unwrap();
    let b = client.contract("orders.b", "latest").await.unwrap();
    assert_eq!((a.name(), b.name()), ("orders.a", "orders.b"));
    assert!(a.shares_validator_with(&b));
    assert_eq!(client.compiled_validators(), 1);
    registry.stop().await;
}

#[tokio::test]
async fn a_consumer_starts_from_its_disk_cache_while_the_registry_is_down() {
    let registry = FakeRegistry::start(versions(), None).await;
    let url = registry.url.clone();
    let cache = tempfile::tempdir().unwrap();
    client(&registry, &cache)
        .contract("orders.order_placed", "^1")
        .await
        .unwrap();
    registry.stop().await;

    let restarted = Client::builder(&url)
        .cache_dir(cache.path())
        .build()
        .unwrap();
    let fetched = restarted.fetch("orders.order_placed", "^1").await.unwrap();
    assert!(
        matches!(fetched.origin, Origin::Offline { .. }),
        "{:?}",
        fetched.origin
    );
    assert_eq!(
        fetched
            .contract
            .version()
            .map(ToString::to_string)
            .as_deref(),
        Some("1.1.0")
    );
    assert_eq!(fetched.warnings.len(), 1);
    assert!(
        fetched.warnings[0].contains("orders.order_placed 1.1.0"),
        "{}",
        fetched.warnings[0]
    );
    assert!(
        fetched.warnings[0].contains("unreachable"),
        "{}",
        fetched.warnings[0]
    );
}

#[tokio::test]
async fn an_unreachable_registry_without_a_cached_copy_is_an_error_naming_both() {
    let registry = FakeRegistry::start(versions(), None).await;
    let url = registry.url.clone();
    registry.stop().await;
    let cache = tempfile::tempdir().unwrap();
    let err = Client::builder(&url)
        .cache_dir(cache.path())
        .build()
        .unwrap()
        .fetch("orders.order_placed", "^1")
        .await;
    let err = err.unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&url) && text.contains("no cached copy"),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_error_falls_back_to_the_cached_copy() {
    let registry = FakeRegistry::start(versions(), None).await;
    let cache = tempfile::tempdir().unwrap();
    let client = client(&registry, &cache);
    client.fetch("orders.order_placed", "latest").await.unwrap();
    registry.fail(true);
    let fetched = client.fetch("orders.order_placed", "latest").await.unwrap();
    assert!(
        matches!(&fetched.origin, Origin::Offline { reason } if reason.contains("503")),
        "{:?}",
        fetched.origin
    );
    assert_eq!(
        fetched
            .contract
            .version()
            .map(ToString::to_string)
            .as_deref(),
        Some("2.0.0")
    );
    registry.stop().await;
}

#[tokio::test]
async fn unknown_contracts_and_versions_are_not_found_with_the_registrys_code() {
    let registry = FakeRegistry::start(versions(), None).await;
    let cache = tempfile::tempdir().unwrap();
    let client = client(&registry, &cache);
    for (name, req, code) in [
        ("orders.nope", "^1", "contract-not-found"),
        ("orders.order_placed", "^7", "version-not-found"),
    ] {
        match client.fetch(name, req).await {
            Err(ClientError::NotFound { code: got, .. }) => assert_eq!(got, code),
            other => panic!("{name}@{req}: expected NotFound, got {other:?}"),
        }
    }
    assert!(matches!(
        client.fetch("Orders", "^1").await,
        Err(ClientError::InvalidReference { .. })
    ));
    assert!(matches!(
        client.fetch("orders.order_placed", "one").await,
        Err(ClientError::InvalidReference { .. })
    ));
    registry.stop().await;
}

#[tokio::test]
async fn the_token_is_sent_as_a_bearer_header() {
    let registry = FakeRegistry::start(versions(), Some("s3cret")).await;
    let cache = tempfile::tempdir().unwrap();
    let anonymous = Client::builder(&registry.url)
        .cache_dir(cache.path())
        .build()
        .unwrap();
    assert!(matches!(
        anonymous.fetch("orders.order_placed", "^1").await,
        Err(ClientError::Unauthorized { status: 401, .. })
    ));
    let authorised = Client::builder(&registry.url)
        .cache_dir(cache.path())
        .token("s3cret")
        .build()
        .unwrap();
    assert!(authorised.fetch("orders.order_placed", "^1").await.is_ok());
    registry.stop().await;
}

#[tokio::test]
async fn a_configured_consumer_is_named_in_every_fetch_and_a_bad_name_is_refused() {
    let registry = FakeRegistry::start(versions(), None).await;
    let cache = tempfile::tempdir().unwrap();
    let named = Client::builder(&registry.url)
        .cache_dir(cache.path())
        .consumer("billing.export")
        .build()
        .unwrap();
    named.fetch("orders.order_placed", "^1").await.unwrap();
    named.fetch("orders.order_placed", "^1").await.unwrap();
    let seen = registry.consumers_seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen.iter().all(|c| c.as_deref() == Some("billing.export")),
        "{seen:?}"
    );
    let bad = Client::builder(&registry.url)
        .without_disk_cache()
        .consumer("Billing Export")
        .build();
    assert!(matches!(bad, Err(ClientError::InvalidConsumer { .. })));
    registry.stop().await;
}

#[tokio::test]
async fn a_deprecated_line_is_reported_once_per_process_and_contract() {
    let mut all = versions();
    all.push(Version::new(
        "payments.captured",
        "1.0.0",
        9,
        json!({"type": "object"}),
    ));
    let registry = FakeRegistry::start(all, None).await;
    let cache = tempfile::tempdir().unwrap();
    let client = client(&registry, &cache);
    let first = client.fetch("orders.order_placed", "^1").await.unwrap();
    assert!(first.warnings.is_empty(), "{:?}", first.warnings);
    registry.deprecate(1);
    // A revalidation (304) carries the headers too.
    let second = client.fetch("orders.order_placed", "^1").await.unwrap();
    assert_eq!(second.warnings.len(), 1, "{:?}", second.warnings);
    let w = &second.warnings[0];
    assert!(w.contains("orders.order_placed"), "{w}");
    assert!(w.contains("sunset Fri, 01 Jan 2027 00:00:00 GMT"), "{w}");
    assert!(
        w.contains("/api/v1/contracts/orders.order_placed/versions/%5E2"),
        "{w}"
    );
    // Once per process and contract: not again for this contract, even from another
    // client, but for another contract.
    let third = client.fetch("orders.order_placed", "1.0.0").await.unwrap();
    assert!(third.warnings.is_empty(), "{:?}", third.warnings);
    let other = client.fetch("payments.captured", "^1").await.unwrap();
    assert_eq!(other.warnings.len(), 1, "{:?}", other.warnings);
    registry.stop().await;
}

#[test]
fn a_registry_url_must_be_http() {
    assert!(matches!(
        Client::new("ftp://example.com"),
        Err(ClientError::InvalidUrl { .. })
    ));
    assert!(matches!(
        Client::new("not a url"),
        Err(ClientError::InvalidUrl { .. })
    ));
}
