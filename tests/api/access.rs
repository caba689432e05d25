//! Access control: every route of both APIs walked with every kind of caller, tokens
//! and the audit log through the API, anonymous reads, revocation across processes,
//! and what never reaches a log.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use accord::domain::{AuditAction, Caller, IssuedToken, Principal, Role, Scopes, TokenName};
use accord::http::Api;
use accord::store::{AuditEntry, NewToken};
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, answer, fresh_db, spawn_app};

/// The kinds of caller, in the order of each expectation row.
const CALLERS: [&str; 7] = [
    "none",
    "reader",
    "producer in scope",
    "producer out of scope",
    "admin",
    "expired",
    "revoked",
];

/// What each kind of caller gets, by what the route needs. `ok`: passes access
/// control (the status is the handler's, never 401 or 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Ok,
    Unauthorized,
    Forbidden,
}
use Expect::{Forbidden as F, Ok as K, Unauthorized as U};

/// The expectations of each kind of route (orders.placed is the contract in the
/// paths; the in-scope producer holds `orders.*`, the out-of-scope one `billing.*`).
fn class(name: &str) -> [Expect; 7] {
    match name {
        // health probes: open to all
        "probe" => [K, K, K, K, K, K, K],
        // a read of the registry as a whole (listings are filtered)
        "registry read" => [U, K, K, K, K, U, U],
        // a read or validation of orders.placed (or of a schema it holds)
        "read" => [U, K, K, F, K, U, U],
        // a registration, dry run or metadata change on orders.*
        "produce" => [U, F, K, F, K, U, U],
        // configuration or delete on orders.*, or anything registry-wide but reads
        "admin" => [U, F, F, F, K, U, U],
        // the export: every contract at once
        "export" => [U, K, F, F, K, U, U],
        other => panic!("no class {other}"),
    }
}

/// One route's walk: its (api, method, path template), the request made, the class.
struct Entry {
    api: Api,
    method: &'static str,
    template: &'static str,
    path: &'static str,
    body: Option<Value>,
    class: &'static str,
}

fn schema() -> Value {
    json!({"type": "object", "properties": {"id": {"type": "string"}}})
}

fn table() -> Vec<Entry> {
    let register = json!({ "schema": schema() });
    let confluent_register = json!({ "schema": schema().to_string(), "schemaType": "JSON" });
    let n = |method, template, path, body: Option<Value>, class| Entry {
        api: Api::Native,
        method,
        template,
        path,
        body,
        class,
    };
    let c = |method, template, path, body: Option<Value>, class| Entry {
        api: Api::Confluent,
        method,
        template,
        path,
        body,
        class,
    };
    const C: &str = "/api/v1/contracts/{name}";
    const V: &str = "/api/v1/contracts/{name}/versions";
    const SEL: &str = "/api/v1/contracts/{name}/versions/{selector}";
    const SV: &str = "/subjects/{subject}/versions/{version}";
    vec![
        n("GET", "/healthz", "/healthz", None, "probe"),
        n("GET", "/readyz", "/readyz", None, "probe"),
        n("GET", "/metrics", "/metrics", None, "registry read"),
        n(
            "GET",
            "/api/v1/contracts",
            "/api/v1/contracts",
            None,
            "registry read",
        ),
        n("GET", C, "/api/v1/contracts/orders.placed", None, "read"),
        n(
            "PATCH",
            C,
            "/api/v1/contracts/orders.placed",
            Some(json!({"description": "walked"})),
            "produce",
        ),
        n("DELETE", C, "/api/v1/contracts/orders.gone", None, "admin"),
        n(
            "POST",
            V,
            "/api/v1/contracts/orders.placed/versions",
            Some(register.clone()),
            "produce",
        ),
        n(
            "GET",
            V,
            "/api/v1/contracts/orders.placed/versions",
            None,
            "read",
        ),
        n(
            "GET",
            SEL,
            "/api/v1/contracts/orders.placed/versions/latest",
            None,
            "read",
        ),
        n(
            "DELETE",
            SEL,
            "/api/v1/contracts/orders.gone/versions/1.0.0",
            None,
            "admin",
        ),
        n(
            "GET",
            "/api/v1/contracts/{name}/versions/{selector}/schema",
            "/api/v1/contracts/orders.placed/versions/latest/schema",
            None,
            "read",
        ),
        n(
            "POST",
            "/api/v1/contracts/{name}/versions/{selector}/validate",
            "/api/v1/contracts/orders.placed/versions/latest/validate",
            Some(json!({"id": "a"})),
            "read",
        ),
        n(
            "POST",
            "/api/v1/contracts/{name}/compatibility",
            "/api/v1/contracts/orders.placed/compatibility",
            Some(register.clone()),
            "produce",
        ),
        n(
            "GET",
            "/api/v1/contracts/{name}/diff",
            "/api/v1/contracts/orders.placed/diff?from=1.0.0&to=latest",
            None,
            "read",
        ),
        n(
            "GET",
            "/api/v1/contracts/{name}/config",
            "/api/v1/contracts/orders.placed/config",
            None,
            "read",
        ),
        n(
            "PUT",
            "/api/v1/contracts/{name}/config",
            "/api/v1/contracts/orders.placed/config",
            Some(json!({"policy": "strict"})),
            "admin",
        ),
        n(
            "DELETE",
            "/api/v1/contracts/{name}/config",
            "/api/v1/contracts/orders.placed/config",
            None,
            "admin",
        ),
        n(
            "GET",
            "/api/v1/config",
            "/api/v1/config",
            None,
            "registry read",
        ),
        n(
            "PUT",
            "/api/v1/config",
            "/api/v1/config",
            Some(json!({"policy": "strict"})),
            "admin",
        ),
        n(
            "GET",
            "/api/v1/schemas/{id}",
            "/api/v1/schemas/1",
            None,
            "read",
        ),
        n("GET", "/api/v1/export", "/api/v1/export", None, "export"),
        n(
            "POST",
            "/api/v1/tokens",
            "/api/v1/tokens",
            Some(json!({"name": "walked", "role": "reader"})),
            "admin",
        ),
        n("GET", "/api/v1/tokens", "/api/v1/tokens", None, "admin"),
        n(
            "DELETE",
            "/api/v1/tokens/{id}",
            "/api/v1/tokens/0000000000000000",
            None,
            "admin",
        ),
        n("GET", "/api/v1/audit", "/api/v1/audit", None, "admin"),
        // Consumers are scoped by their own name: orders.reader is in orders.*.
        n(
            "GET",
            "/api/v1/consumers",
            "/api/v1/consumers",
            None,
            "registry read",
        ),
        n(
            "GET",
            "/api/v1/consumers/{name}",
            "/api/v1/consumers/orders.reader",
            None,
            "read",
        ),
        n(
            "PUT",
            "/api/v1/consumers/{name}",
            "/api/v1/consumers/orders.reader",
            Some(json!({"app_version": "abc123", "reads": []})),
            "produce",
        ),
        n(
            "POST",
            "/api/v1/consumers/{name}/deployments",
            "/api/v1/consumers/orders.reader/deployments",
            Some(json!({"app_version": "abc123", "environment": "prod"})),
            "produce",
        ),
        n(
            "POST",
            "/api/v1/consumers/{name}/can-i-deploy",
            "/api/v1/consumers/orders.reader/can-i-deploy",
            Some(json!({"environment": "prod", "reads": []})),
            "read",
        ),
        n(
            "GET",
            "/api/v1/environments",
            "/api/v1/environments",
            None,
            "registry read",
        ),
        n(
            "PUT",
            "/api/v1/environments/{name}",
            "/api/v1/environments/prod",
            Some(json!({"protected": true})),
            "admin",
        ),
        n(
            "GET",
            "/api/v1/contracts/{name}/consumers",
            "/api/v1/contracts/orders.placed/consumers",
            None,
            "read",
        ),
        n(
            "POST",
            "/api/v1/contracts/{name}/lines/{major}/deprecate",
            "/api/v1/contracts/orders.placed/lines/1/deprecate",
            Some(json!({"sunset": "2030-01-01", "reason": "walked"})),
            "admin",
        ),
        n(
            "POST",
            "/api/v1/contracts/{name}/lines/{major}/retire",
            "/api/v1/contracts/orders.gone/lines/1/retire",
            None,
            "admin",
        ),
        c("GET", "/", "/", None, "registry read"),
        c("POST", "/", "/", Some(json!({})), "registry read"),
        c(
            "GET",
            "/schemas/types",
            "/schemas/types",
            None,
            "registry read",
        ),
        c("GET", "/schemas/ids/{id}", "/schemas/ids/1", None, "read"),
        c(
            "GET",
            "/schemas/ids/{id}/schema",
            "/schemas/ids/1/schema",
            None,
            "read",
        ),
        c(
            "GET",
            "/schemas/ids/{id}/subjects",
            "/schemas/ids/1/subjects",
            None,
            "registry read",
        ),
        c(
            "GET",
            "/schemas/ids/{id}/versions",
            "/schemas/ids/1/versions",
            None,
            "registry read",
        ),
        c("GET", "/subjects", "/subjects", None, "registry read"),
        c(
            "POST",
            "/subjects/{subject}",
            "/subjects/orders.placed",
            Some(confluent_register.clone()),
            "read",
        ),
        c(
            "DELETE",
            "/subjects/{subject}",
            "/subjects/orders.gone",
            None,
            "admin",
        ),
        c(
            "GET",
            "/subjects/{subject}/versions",
            "/subjects/orders.placed/versions",
            None,
            "read",
        ),
        c(
            "POST",
            "/subjects/{subject}/versions",
            "/subjects/orders.placed/versions",
            Some(confluent_register.clone()),
            "produce",
        ),
        c(
            "GET",
            SV,
            "/subjects/orders.placed/versions/1",
            None,
            "read",
        ),
        c(
            "DELETE",
            SV,
            "/subjects/orders.gone/versions/1",
            None,
            "admin",
        ),
        c(
            "GET",
            "/subjects/{subject}/versions/{version}/schema",
            "/subjects/orders.placed/versions/1/schema",
            None,
            "read",
        ),
        c(
            "GET",
            "/subjects/{subject}/versions/{version}/referencedby",
            "/subjects/orders.placed/versions/1/referencedby",
            None,
            "read",
        ),
        c(
            "POST",
            "/compatibility/subjects/{subject}/versions",
            "/compatibility/subjects/orders.placed/versions",
            Some(confluent_register.clone()),
            "produce",
        ),
        c(
            "POST",
            "/compatibility/subjects/{subject}/versions/{version}",
            "/compatibility/subjects/orders.placed/versions/1",
            Some(confluent_register),
            "produce",
        ),
        c("GET", "/config", "/config", None, "registry read"),
        c(
            "PUT",
            "/config",
            "/config",
            Some(json!({"compatibility": "BACKWARD"})),
            "admin",
        ),
        c("DELETE", "/config", "/config", None, "admin"),
        c(
            "GET",
            "/config/{subject}",
            "/config/orders.placed",
            None,
            "read",
        ),
        // A producer may pin the level in force on a subject without its own (kafkajs
        // does after a first registration); changing it is admin (tested below).
        c(
            "PUT",
            "/config/{subject}",
            "/config/orders.placed",
            Some(json!({"compatibility": "BACKWARD"})),
            "produce",
        ),
        c(
            "DELETE",
            "/config/{subject}",
            "/config/orders.placed",
            None,
            "admin",
        ),
        c("GET", "/mode", "/mode", None, "registry read"),
        c(
            "PUT",
            "/mode",
            "/mode",
            Some(json!({"mode": "READWRITE"})),
            "admin",
        ),
        c("DELETE", "/mode", "/mode", None, "admin"),
        c(
            "GET",
            "/mode/{subject}",
            "/mode/orders.placed",
            None,
            "read",
        ),
        c(
            "PUT",
            "/mode/{subject}",
            "/mode/orders.placed",
            Some(json!({"mode": "READWRITE"})),
            "admin",
        ),
        c(
            "DELETE",
            "/mode/{subject}",
            "/mode/orders.placed",
            None,
            "admin",
        ),
        c("GET", "/contexts", "/contexts", None, "registry read"),
    ]
}

/// A token made through the API of a registry that is still open (or with `admin`).
async fn create_token(
    app: &TestApp,
    admin: Option<&str>,
    name: &str,
    role: &str,
    scopes: &[&str],
) -> (String, String) {
    let mut headers = Vec::new();
    let bearer;
    if let Some(admin) = admin {
        bearer = format!("Bearer {admin}");
        headers.push(("authorization", bearer.as_str()));
    }
    let a = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": name, "role": role, "scopes": scopes})),
            &headers,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    (
        a.json["token"].as_str().unwrap().to_owned(),
        a.json["id"].as_str().unwrap().to_owned(),
    )
}

/// A token stored with an expiry already past (the API refuses to make one).
async fn expired_token(app: &TestApp) -> String {
    let issued = IssuedToken::generate().unwrap();
    let new = NewToken {
        id: issued.id.clone(),
        name: TokenName::parse("expired").unwrap(),
        role: Role::Admin,
        scopes: Scopes::all(),
        secret_hash: issued.hash(),
        created_by: "test".to_owned(),
        expires_at: Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
    };
    let caller = Caller::local(Principal::local("test"));
    app.store
        .create_token(&new, &AuditEntry::new(&caller, AuditAction::CreateToken))
        .await
        .unwrap();
    issued.text()
}

/// The registry of the walk: two contracts, then one token of each kind.
async fn walked_registry() -> (TestApp, Vec<(String, Option<String>)>) {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    assert_eq!(
        app.register("orders.placed", &schema()).await.status,
        StatusCode::CREATED
    );
    let billing = json!({"type": "object", "properties": {"amount": {"type": "number"}}});
    assert_eq!(
        app.register("billing.invoice", &billing).await.status,
        StatusCode::CREATED
    );
    let (admin, _) = create_token(&app, None, "admin", "admin", &["*"]).await;
    let (reader, _) = create_token(&app, Some(&admin), "reader", "reader", &[]).await;
    let (producer, _) =
        create_token(&app, Some(&admin), "orders-ci", "producer", &["orders.*"]).await;
    let (other, _) =
        create_token(&app, Some(&admin), "billing-ci", "producer", &["billing.*"]).await;
    let expired = expired_token(&app).await;
    let (revoked, revoked_id) = create_token(&app, Some(&admin), "gone", "admin", &[]).await;
    let a = app
        .request(
            Method::DELETE,
            &format!("/api/v1/tokens/{revoked_id}"),
            None,
            &[("authorization", &format!("Bearer {admin}"))],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let callers = vec![
        ("none".to_owned(), None),
        ("reader".to_owned(), Some(reader)),
        ("orders-ci".to_owned(), Some(producer)),
        ("billing-ci".to_owned(), Some(other)),
        ("admin".to_owned(), Some(admin)),
        ("expired".to_owned(), Some(expired)),
        ("gone".to_owned(), Some(revoked)),
    ];
    (app, callers)
}

fn basic(name: &str, token: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{name}:{token}"));
    format!("Basic {pair}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_of_both_apis_answers_each_kind_of_caller_as_its_role_allows() {
    let entries = table();
    let routes: BTreeSet<(String, &str, &str)> = accord::http::access_table()
        .into_iter()
        .map(|(api, m, p, _)| (format!("{api:?}"), m, p))
        .collect();
    let walked: BTreeSet<(String, &str, &str)> = entries
        .iter()
        .map(|e| (format!("{:?}", e.api), e.method, e.template))
        .collect();
    let missing: Vec<_> = routes.difference(&walked).collect();
    let stale: Vec<_> = walked.difference(&routes).collect();
    assert!(
        missing.is_empty(),
        "routes without an entry in the access table: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "entries for routes that do not exist: {stale:?}"
    );

    let (app, callers) = walked_registry().await;
    let mut failures = Vec::new();
    for entry in &entries {
        let expected = class(entry.class);
        for (i, (name, token)) in callers.iter().enumerate() {
            let credential = token.as_ref().map(|t| match entry.api {
                // The Confluent API is walked with Basic (as its clients send it).
                Api::Confluent => basic(name, t),
                Api::Native => format!("Bearer {t}"),
            });
            let mut headers = Vec::new();
            if let Some(c) = &credential {
                headers.push(("authorization", c.as_str()));
            }
            if entry.api == Api::Confluent && entry.body.is_some() {
                headers.push(("content-type", "application/vnd.schemaregistry.v1+json"));
            }
            let method = Method::from_bytes(entry.method.as_bytes()).unwrap();
            let a = app
                .request(method, entry.path, entry.body.as_ref(), &headers)
                .await;
            let got = match a.status {
                StatusCode::UNAUTHORIZED => U,
                StatusCode::FORBIDDEN => F,
                s if s.is_server_error() => {
                    failures.push(format!(
                        "{} {} as {}: {s} {}",
                        entry.method, entry.path, CALLERS[i], a.text
                    ));
                    continue;
                }
                _ => K,
            };
            if got != expected[i] {
                failures.push(format!(
                    "{} {} as {}: expected {:?}, got {} {}",
                    entry.method, entry.path, CALLERS[i], expected[i], a.status, a.text
                ));
            }
            if got == U && !a.headers.contains_key("www-authenticate") {
                failures.push(format!(
                    "{} {} as {}: 401 without WWW-Authenticate",
                    entry.method, entry.path, CALLERS[i]
                ));
            }
            if got != K && entry.api == Api::Confluent {
                let code = a.json["error_code"].as_u64().unwrap_or(0);
                let want = if got == U { 40101 } else { 40301 };
                if code != want {
                    failures.push(format!(
                        "{} {} as {}: error_code {code}, expected {want}",
                        entry.method, entry.path, CALLERS[i]
                    ));
                }
            }
            if got == F && entry.api == Api::Native && a.code() != "forbidden" {
                failures.push(format!(
                    "{} {} as {}: code {}",
                    entry.method,
                    entry.path,
                    CALLERS[i],
                    a.code()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_say_what_was_needed_and_listings_show_only_contracts_in_scope() {
    let (app, callers) = walked_registry().await;
    let token = |name: &str| {
        callers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
            .unwrap()
    };
    let bearer = |t: &str| format!("Bearer {t}");
    let reader = bearer(&token("reader"));
    let a = app
        .request(
            Method::PUT,
            "/api/v1/config",
            Some(&json!({"mode": "NONE"})),
            &[("authorization", &reader)],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(
        a.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("admin role"),
        "{}",
        a.text
    );
    let producer = bearer(&token("orders-ci"));
    let a = app
        .request(
            Method::POST,
            "/api/v1/contracts/billing.invoice/versions",
            Some(&json!({"schema": schema()})),
            &[("authorization", &producer)],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let message = a.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("orders.*") && message.contains("billing.invoice"),
        "{message}"
    );

    let a = app
        .request(
            Method::GET,
            "/api/v1/contracts",
            None,
            &[("authorization", &producer)],
        )
        .await;
    let names: Vec<&str> = a.json["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["orders.placed"]);
    let a = app
        .request(
            Method::GET,
            "/subjects",
            None,
            &[("authorization", &producer)],
        )
        .await;
    assert_eq!(a.json, json!(["orders.placed"]));
    let a = app
        .request(
            Method::GET,
            "/api/v1/contracts",
            None,
            &[("authorization", &reader)],
        )
        .await;
    assert_eq!(a.json["contracts"].as_array().unwrap().len(), 2);

    // Consumers are scoped by their own name: the orders.* producer declares
    // orders.reader, not billing.export, and lists only its own.
    let admin = bearer(&token("admin"));
    for (consumer, auth, status) in [
        ("orders.reader", &producer, StatusCode::CREATED),
        ("billing.export", &producer, StatusCode::FORBIDDEN),
        ("billing.export", &admin, StatusCode::CREATED),
    ] {
        let a = app
            .request(
                Method::PUT,
                &format!("/api/v1/consumers/{consumer}"),
                Some(&json!({"app_version": "sha1", "reads": []})),
                &[("authorization", auth)],
            )
            .await;
        assert_eq!(a.status, status, "{consumer}: {}", a.text);
    }
    let a = app
        .request(
            Method::GET,
            "/api/v1/consumers",
            None,
            &[("authorization", &producer)],
        )
        .await;
    assert_eq!(
        a.json["consumers"][0]["name"], "orders.reader",
        "{}",
        a.text
    );
    assert_eq!(a.json["consumers"].as_array().unwrap().len(), 1);

    // A producer may pin the level in force on a Confluent subject, not change it.
    let basic_producer = basic("orders-ci", &token("orders-ci"));
    for (level, status, code) in [
        ("NONE", StatusCode::FORBIDDEN, Some(40301)),
        ("BACKWARD", StatusCode::OK, None),
    ] {
        let a = app
            .request(
                Method::PUT,
                "/config/orders.placed",
                Some(&json!({"compatibility": level})),
                &[
                    ("authorization", basic_producer.as_str()),
                    ("content-type", "application/json"),
                ],
            )
            .await;
        assert_eq!(a.status, status, "{level}: {}", a.text);
        assert_eq!(a.json["error_code"].as_u64(), code, "{level}: {}", a.text);
    }

    // A producer may not change an existing contract's rules through a registration.
    let a = app
        .request(
            Method::POST,
            "/api/v1/contracts/orders.placed/versions",
            Some(&json!({"schema": {"type": "object"}, "mode": "NONE", "allow_breaking": true})),
            &[("authorization", &producer)],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(a.text.contains("admin role"), "{}", a.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_names_the_token_and_bearer_only_on_the_native_api() {
    let (app, callers) = walked_registry().await;
    let reader = callers[1].1.clone().unwrap();
    let a = app
        .request(
            Method::GET,
            "/subjects",
            None,
            &[("authorization", &basic("reader", &reader))],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let id = &reader["accord_".len().."accord_".len() + 16];
    let a = app
        .request(
            Method::GET,
            "/subjects",
            None,
            &[("authorization", &basic(id, &reader))],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "the id names the token too");
    let a = app
        .request(
            Method::GET,
            "/subjects",
            None,
            &[("authorization", &basic("admin", &reader))],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json["error_code"], 40101);
    let a = app
        .request(
            Method::GET,
            "/subjects",
            None,
            &[("authorization", &format!("Bearer {reader}"))],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = app
        .request(
            Method::GET,
            "/api/v1/contracts",
            None,
            &[("authorization", &basic("reader", &reader))],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.text.contains("Bearer"), "{}", a.text);
    // A wrong secret for a real id is refused like an unknown token.
    let forged = format!(
        "{}{}",
        &reader[..reader.len() - 1],
        if reader.ends_with('0') { '1' } else { '0' }
    );
    let a = app
        .request(
            Method::GET,
            "/api/v1/contracts",
            None,
            &[("authorization", &format!("Bearer {forged}"))],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(!a.text.contains(&reader[20..]), "{}", a.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_listed_without_secrets_and_every_change_is_in_the_audit_log() {
    let (app, callers) = walked_registry().await;
    let admin = format!("Bearer {}", callers[4].1.clone().unwrap());
    let auth = [("authorization", admin.as_str())];
    let a = app
        .request(Method::GET, "/api/v1/tokens", None, &auth)
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let listed = a.text.clone();
    for (_, token) in &callers {
        if let Some(t) = token {
            assert!(
                !listed.contains(&t["accord_".len() + 17..]),
                "a secret is listed"
            );
        }
    }
    let tokens = a.json["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 6);
    let gone = tokens.iter().find(|t| t["name"] == "gone").unwrap();
    assert!(gone["revoked_at"].is_string());

    // A name in use is refused; a revoked token's name may be given again.
    let a = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": "reader", "role": "reader"})),
            &auth,
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (StatusCode::CONFLICT, "token-name-taken")
    );
    let a = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": "gone", "role": "reader", "expires_in": "1d"})),
            &[],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "no credential");
    let a = app
        .request(
            Method::POST,
            "/api/v1/tokens",
            Some(&json!({"name": "gone", "role": "reader", "expires_in": "1d"})),
            &auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);

    // A failed authentication is recorded once per client per minute.
    for _ in 0..3 {
        let a = app
            .request(Method::GET, "/api/v1/contracts", None, &[("authorization", "Bearer accord_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000")])
            .await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let failures = loop {
        let a = app
            .request(
                Method::GET,
                "/api/v1/audit?action=auth.failure",
                None,
                &auth,
            )
            .await;
        let n = a.json["entries"].as_array().unwrap().len();
        if n > 0 || Instant::now() > deadline {
            break a;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let entries = failures.json["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", failures.text);
    assert_eq!(entries[0]["outcome"], "failed");
    assert_eq!(entries[0]["client"], "127.0.0.1");

    // Newest first, in pages joined by the cursor.
    let a = app
        .request(
            Method::GET,
            "/api/v1/audit?action=token.create&limit=2",
            None,
            &auth,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let first = a.json["entries"].as_array().unwrap().clone();
    assert_eq!(first.len(), 2);
    assert!(first[0]["id"].as_i64() > first[1]["id"].as_i64());
    let cursor = a.json["next_cursor"].as_str().unwrap().to_owned();
    let a = app
        .request(
            Method::GET,
            &format!("/api/v1/audit?action=token.create&limit=100&cursor={cursor}"),
            None,
            &auth,
        )
        .await;
    let rest = a.json["entries"].as_array().unwrap();
    assert!(a.json["next_cursor"].is_null());
    // walked_registry made 5 through the API, the test store 1, this test 1.
    assert_eq!(first.len() + rest.len(), 7);
    assert!(rest[0]["id"].as_i64() < first[1]["id"].as_i64());
    let created = first
        .iter()
        .chain(rest)
        .find(|e| e["detail"]["name"] == "orders-ci")
        .unwrap();
    assert_eq!(created["principal"], "admin");
    assert_eq!(created["detail"]["scopes"], json!(["orders.*"]));
    let a = app
        .request(
            Method::GET,
            "/api/v1/audit?principal=admin&action=token.revoke",
            None,
            &auth,
        )
        .await;
    assert_eq!(a.json["entries"].as_array().unwrap().len(), 1);
    let a = app
        .request(Method::GET, "/api/v1/audit?action=nope", None, &auth)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_with_no_token_is_open_and_anonymous_reads_only_read() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    assert_eq!(
        app.register("orders.placed", &schema()).await.status,
        StatusCode::CREATED
    );
    // A scope that is not a glob is refused, whoever asks.
    let a = app
        .post(
            "/api/v1/tokens",
            &json!({"name": "x", "role": "admin", "scopes": ["a b"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (admin, _) = create_token(&app, None, "admin", "admin", &[]).await;
    // From now on a token is needed.
    assert_eq!(
        app.get("/api/v1/contracts").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/healthz").await.status, StatusCode::OK);

    let anonymous = accord::http::router(
        accord::http::AppState::new(
            std::sync::Arc::new(accord::registry::Registry::new(
                app.store.clone(),
                &Default::default(),
            )),
            Default::default(),
        )
        .with_auth(accord::http::auth::AuthConfig {
            anonymous_read: true,
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        accord::http::serve(
            listener,
            anonymous,
            &Default::default(),
            std::future::pending(),
        )
        .await
    });
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{base}{path}")).send();
    assert_eq!(
        get("/api/v1/contracts/orders.placed")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(get("/subjects").await.unwrap().status(), StatusCode::OK);
    let validate = client
        .post(format!(
            "{base}/api/v1/contracts/orders.placed/versions/latest/validate"
        ))
        .json(&json!({"id": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(validate.status(), StatusCode::OK);
    let write = client
        .post(format!("{base}/api/v1/contracts/orders.placed/versions"))
        .json(&json!({"schema": schema()}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        write.status(),
        StatusCode::UNAUTHORIZED,
        "a write still needs a token"
    );
    assert_eq!(
        get("/api/v1/audit").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let with_token = client
        .get(format!("{base}/api/v1/audit"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
}

/// `accord serve` as a child process with logs at debug (request logs included) in
/// `format` (`text` or `json`), its standard error captured.
async fn serve_logged(
    database: &str,
    more: &[&str],
    format: &str,
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
        .args(more)
        .env("ACCORD_LOG", "debug")
        .env("ACCORD_LOG_FORMAT", format)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn accord serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(base) = line.strip_prefix("accord listening on ") {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, base.to_owned());
        }
    }
    panic!("accord serve exited before listening");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_text_and_schema_text_never_reach_the_logs() {
    for format in ["text", "json"] {
        let logs = logs_of_registrations_with_tokens(format).await;
        if format == "json" {
            // One JSON object a line; the request line carries the route template,
            // status, principal and the request's id (from its span).
            let lines: Vec<Value> = logs
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
                .collect();
            let answered = lines
                .iter()
                .find(|l| {
                    l["http.route"] == json!("/api/v1/contracts/{name}/versions")
                        && l["http.status"] == json!(201)
                })
                .unwrap_or_else(|| panic!("no request line for the registration:\n{logs}"));
            assert_eq!(answered["principal"], json!("admin"), "{answered}");
            assert_eq!(answered["http.method"], json!("POST"), "{answered}");
            assert!(answered["duration_ms"].is_number(), "{answered}");
            assert_eq!(
                answered["spans"][0]["request.id"],
                json!("trace-registration-1"),
                "{answered}"
            );
        } else {
            assert!(
                logs.contains("request.id=trace-registration-1"),
                "the request id is on its lines:\n{logs}"
            );
        }
    }
}

/// Registrations and fetches with good and bad credentials on a server logging at
/// debug in `format`: its captured standard error, after checking that neither a
/// token nor the schema text is in it.
async fn logs_of_registrations_with_tokens(format: &str) -> String {
    use tokio::io::AsyncReadExt;
    let db = fresh_db(Backend::Sqlite).await.unwrap();
    // The first admin token, made on the database before anything is served.
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "token",
            "create",
            "--database",
            &db.url,
            "--name",
            "admin",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let admin = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    assert!(admin.starts_with("accord_"), "{admin}");
    let (mut child, base) = serve_logged(&db.url, &[], format).await;
    let client = reqwest::Client::new();
    let marker = "payload-marker-7f3a9c";
    let schema = json!({"type": "object", "description": marker, "properties": {"card": {"type": "string"}}});
    let a = client
        .post(format!("{base}/api/v1/contracts/orders.placed/versions"))
        .bearer_auth(&admin)
        .header("x-request-id", "trace-registration-1")
        .json(&json!({"schema": schema}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::CREATED);
    let made = client
        .post(format!("{base}/api/v1/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"name": "ci", "role": "producer"}))
        .send()
        .await
        .unwrap();
    let made = answer(made).await;
    let ci = made.json["token"].as_str().unwrap().to_owned();
    for credential in [
        format!("Bearer {ci}"),
        format!("Bearer {}0", &ci[..ci.len() - 1]),
        basic("ci", &ci),
        basic("someone-else", &ci),
        "Bearer not-a-token".to_owned(),
    ] {
        client
            .get(format!("{base}/subjects/orders.placed/versions/latest"))
            .header("authorization", &credential)
            .send()
            .await
            .unwrap();
        client
            .post(format!("{base}/api/v1/contracts/orders.placed/versions"))
            .header("authorization", &credential)
            .json(&json!({"schema": {"type": "object", "description": marker}}))
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.start_kill().unwrap();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(
        logs.contains("registered"),
        "the logs were captured: {logs}"
    );
    for (what, secret) in [
        ("the admin token", &admin[20..]),
        ("the ci token", &ci[20..]),
        ("the schema", marker),
    ] {
        assert!(
            !logs.contains(secret),
            "{what} appears in the logs:\n{logs}"
        );
    }
    logs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(accord_postgres),
    ignore = "needs PostgreSQL: set ACCORD_TEST_POSTGRES_URL=postgres://… (an existing database) and run cargo test again"
)]
async fn a_token_revoked_through_one_process_is_refused_by_another_within_a_second() {
    let db = fresh_db(Backend::Postgres)
        .await
        .expect("ACCORD_TEST_POSTGRES_URL is set when the tests are built and run");
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_accord"))
        .args([
            "token",
            "create",
            "--database",
            &db.url,
            "--name",
            "admin",
            "--role",
            "admin",
        ])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let admin = String::from_utf8(made.stdout).unwrap().trim().to_owned();
    let a = crate::process::start_with(&db.url, &[]).await;
    let b = crate::process::start_with(&db.url, &[]).await;
    let client = reqwest::Client::new();
    let made = client
        .post(format!("{}/api/v1/tokens", a.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "ci", "role": "reader"}))
        .send()
        .await
        .unwrap();
    let made = answer(made).await;
    let ci = made.json["token"].as_str().unwrap().to_owned();
    let id = made.json["id"].as_str().unwrap().to_owned();
    let read_on_b = || {
        client
            .get(format!("{}/api/v1/contracts", b.base))
            .bearer_auth(&ci)
            .send()
    };
    assert_eq!(
        read_on_b().await.unwrap().status(),
        StatusCode::OK,
        "b knows the token"
    );
    let revoked = client
        .delete(format!("{}/api/v1/tokens/{id}", a.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let at = Instant::now();
    // Poll b until it refuses: the bar is one second; the poll allows slack for a
    // loaded machine and only fails when b never notices.
    loop {
        let status = read_on_b().await.unwrap().status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            at.elapsed() < Duration::from_secs(10),
            "b still accepts the revoked token"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "revocation seen by the other process after {:?}",
        at.elapsed()
    );
}
