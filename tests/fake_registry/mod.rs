//! A stand-in for the registry's native version route, exactly as the client
//! expects it, so client tests do not depend on the real server:
//!
//! `GET /api/v1/contracts/{name}/versions/{latest|1.2.3|%5E1}` answers the version
//! JSON with `ETag: "<fingerprint>"`; exact versions are `immutable`, `latest` and
//! ranges get `max-age` (0 here by default, so every fetch revalidates without
//! sleeping); `If-None-Match` gives 304; unknown names and versions give 404 with
//! `{"error":{"code","message"}}`; a configured token is required as a bearer. The
//! `Accord-Consumer` header of every request is recorded; versions of a deprecated
//! major line are answered with `Deprecation`, `Sunset` and a successor `Link`.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helper"
)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

/// One registered version.
#[derive(Debug, Clone)]
pub struct Version {
    pub name: String,
    pub version: semver::Version,
    pub schema_id: i64,
    pub schema: Value,
}

impl Version {
    pub fn new(name: &str, version: &str, schema_id: i64, schema: Value) -> Self {
        Self {
            name: name.to_owned(),
            version: version.parse().expect("a semver version"),
            schema_id,
            schema,
        }
    }

    fn fingerprint(&self) -> String {
        accord::schema::Schema::from_value(
            self.schema.clone(),
            &Default::default(),
            &accord::schema::NoResolver,
        )
        .expect("a valid test schema")
        .fingerprint()
        .to_owned()
    }
}

#[derive(Default)]
struct Shared {
    versions: Mutex<Vec<Version>>,
    token: Option<String>,
    requests: AtomicUsize,
    not_modified: AtomicUsize,
    failing: AtomicBool,
    consumers: Mutex<Vec<Option<String>>>,
    deprecated: Mutex<Vec<u64>>,
}

/// A running fake registry on 127.0.0.1 with a free port.
pub struct FakeRegistry {
    pub url: String,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeRegistry {
    pub async fn start(versions: Vec<Version>, token: Option<&str>) -> Self {
        let shared = Arc::new(Shared {
            versions: Mutex::new(versions),
            token: token.map(str::to_owned),
            ..Shared::default()
        });
        let app = Router::new()
            .route(
                "/api/v1/contracts/{name}/versions/{selector}",
                get(find_version),
            )
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .expect("fake registry serves");
        });
        Self {
            url,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// Requests answered so far (any status).
    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// 304 answers so far.
    pub fn not_modified(&self) -> usize {
        self.shared.not_modified.load(Ordering::SeqCst)
    }

    pub fn add(&self, version: Version) {
        self.shared
            .versions
            .lock()
            .expect("versions lock")
            .push(version);
    }

    /// The `Accord-Consumer` header of each request so far, in order.
    pub fn consumers_seen(&self) -> Vec<Option<String>> {
        self.shared
            .consumers
            .lock()
            .expect("consumers lock")
            .clone()
    }

    /// Answers versions of major line `major` as deprecated from now on.
    pub fn deprecate(&self, major: u64) {
        self.shared
            .deprecated
            .lock()
            .expect("deprecated lock")
            .push(major);
    }

    /// Make every request fail with 503 (or stop failing).
    pub fn fail(&self, yes: bool) {
        self.shared.failing.store(yes, Ordering::SeqCst);
    }

    /// Stops the server and waits until its port is closed.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("fake registry stops cleanly");
        }
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

async fn find_version(
    State(shared): State<Arc<Shared>>,
    Path((name, selector)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    shared.consumers.lock().expect("consumers lock").push(
        headers
            .get("accord-consumer")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    );
    if shared.failing.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is down",
        );
    }
    if let Some(token) = &shared.token {
        let expected = format!("Bearer {token}");
        if headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            != Some(expected.as_str())
        {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required",
            );
        }
    }
    let versions: Vec<Version> = shared
        .versions
        .lock()
        .expect("versions lock")
        .iter()
        .filter(|v| v.name == name)
        .cloned()
        .collect();
    if versions.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "contract-not-found",
            &format!("no contract named {name}"),
        );
    }
    let (found, immutable) = if selector == "latest" {
        (
            versions.iter().max_by(|a, b| a.version.cmp(&b.version)),
            false,
        )
    } else if let Ok(exact) = semver::Version::parse(&selector) {
        (versions.iter().find(|v| v.version == exact), true)
    } else if let Ok(req) = semver::VersionReq::parse(&selector) {
        (
            versions
                .iter()
                .filter(|v| req.matches(&v.version))
                .max_by(|a, b| a.version.cmp(&b.version)),
            false,
        )
    } else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid-selector",
            &format!("bad selector {selector:?}"),
        );
    };
    let Some(v) = found else {
        return error(
            StatusCode::NOT_FOUND,
            "version-not-found",
            &format!("no version of {name} matches {selector}"),
        );
    };
    let fingerprint = v.fingerprint();
    let etag = format!("\"{fingerprint}\"");
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=0"
    };
    let mut tagged = HeaderMap::new();
    tagged.insert(header::ETAG, etag.parse().expect("etag header"));
    tagged.insert(header::CACHE_CONTROL, cache.parse().expect("cache header"));
    if shared
        .deprecated
        .lock()
        .expect("deprecated lock")
        .contains(&v.version.major)
    {
        tagged.insert("deprecation", "@1796083200".parse().expect("header"));
        tagged.insert(
            "sunset",
            "Fri, 01 Jan 2027 00:00:00 GMT".parse().expect("header"),
        );
        tagged.insert(
            header::LINK,
            format!(
                "</api/v1/contracts/{name}/versions/%5E{}>; rel=\"successor-version\"",
                v.version.major + 1
            )
            .parse()
            .expect("header"),
        );
    }
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        == Some(etag.as_str())
    {
        shared.not_modified.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::NOT_MODIFIED, tagged).into_response();
    }
    let body = json!({
        "name": v.name, "version": v.version.to_string(), "seq": 1, "schema_id": v.schema_id,
        "fingerprint": fingerprint, "schema": v.schema, "created_at": "2026-01-01T00:00:00Z", "deleted": false,
    });
    (StatusCode::OK, tagged, axum::Json(body)).into_response()
}
