//! The HTTP server: the router, its state, and [`serve`], which runs until the
//! shutdown future resolves and then drains in-flight requests.
//!
//! Every native route is declared once, in [`routes`]; the router is built from that
//! table and [`route_table`] lists it, so the test that compares the router with
//! `openapi.yaml` compares the real thing. The Confluent-compatible API
//! ([`confluent::routes`]) is merged next to it at the root; it is not described in
//! `openapi.yaml` (Confluent's own API reference describes it), so it is not in the
//! table either.

mod caching;
pub mod confluent;
pub mod error;
mod native;
mod validate;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use tower_http::trace::TraceLayer;

use crate::registry::Registry;
use error::ApiError;

/// The default request-body limit: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The default limit on an NDJSON body sent to the validate endpoint: 256 MiB.
pub const DEFAULT_MAX_VALIDATE_BYTES: usize = 256 * 1024 * 1024;
/// The default limit on one NDJSON line, as in `accord validate`: 16 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Limits of the validate endpoint's NDJSON stream (a JSON document obeys the
/// router's body limit instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidateLimits {
    /// The largest NDJSON body, in bytes; more is answered 413.
    pub max_stream_bytes: usize,
    /// The longest line, in bytes; a longer one is an unparsable record.
    pub max_line_bytes: usize,
}

impl Default for ValidateLimits {
    fn default() -> Self {
        Self {
            max_stream_bytes: DEFAULT_MAX_VALIDATE_BYTES,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub registry: Arc<Registry>,
    /// Limits of the validate endpoint's NDJSON stream.
    pub validate: ValidateLimits,
    /// Schema documents ready to serve, by id.
    served: Arc<caching::ServedSchemas>,
}

impl AppState {
    /// The state of a server over `registry`.
    pub fn new(registry: Arc<Registry>, validate: ValidateLimits) -> Self {
        Self {
            registry,
            validate,
            served: Arc::default(),
        }
    }
}

/// One route: method (upper case), path template (OpenAPI and axum share `{param}`),
/// and its handler.
type Route = (&'static str, &'static str, MethodRouter<AppState>);

/// Every route the server answers.
fn routes() -> Vec<Route> {
    const V: &str = "/api/v1/contracts/{name}/versions";
    vec![
        ("GET", "/healthz", get(native::health)),
        ("GET", "/readyz", get(native::ready)),
        ("GET", "/api/v1/contracts", get(native::list_contracts)),
        (
            "GET",
            "/api/v1/contracts/{name}",
            get(native::find_contract),
        ),
        (
            "PATCH",
            "/api/v1/contracts/{name}",
            patch(native::update_contract),
        ),
        ("POST", V, post(native::create_version)),
        ("GET", V, get(native::list_versions)),
        (
            "GET",
            "/api/v1/contracts/{name}/versions/{selector}",
            get(native::find_version),
        ),
        (
            "DELETE",
            "/api/v1/contracts/{name}/versions/{selector}",
            delete(native::delete_version),
        ),
        (
            "GET",
            "/api/v1/contracts/{name}/versions/{selector}/schema",
            get(native::find_version_schema),
        ),
        (
            "POST",
            "/api/v1/contracts/{name}/versions/{selector}/validate",
            post(validate::validate_payload),
        ),
        (
            "POST",
            "/api/v1/contracts/{name}/compatibility",
            post(native::check_compatibility),
        ),
        (
            "GET",
            "/api/v1/contracts/{name}/diff",
            get(native::diff_versions),
        ),
        (
            "GET",
            "/api/v1/contracts/{name}/config",
            get(native::find_contract_config),
        ),
        (
            "PUT",
            "/api/v1/contracts/{name}/config",
            put(native::update_contract_config),
        ),
        (
            "DELETE",
            "/api/v1/contracts/{name}/config",
            delete(native::delete_contract_config),
        ),
        ("GET", "/api/v1/config", get(native::find_global_config)),
        ("PUT", "/api/v1/config", put(native::update_global_config)),
        ("GET", "/api/v1/schemas/{id}", get(native::find_schema)),
    ]
}

/// The native `(method, path)` pairs the router answers, for the OpenAPI conformance
/// test (the Confluent routes are not in it).
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    routes().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The application: every route, the body limit, request logs when enabled, JSON
/// 404/405 answers.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let mut router = Router::new();
    for (_, path, handler) in routes() {
        router = router.route(path, handler);
    }
    let router = router
        .merge(confluent::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes));
    // Request logs are tower-http's DEBUG events (`ACCORD_LOG=info,tower_http=debug`).
    // When the filter in force at start-up would drop them all, the layer is left
    // out: it would still time and wrap every request for nothing.
    let router = if tracing::enabled!(target: "tower_http::trace", tracing::Level::DEBUG) {
        router.layer(TraceLayer::new_for_http())
    } else {
        router
    };
    router.with_state(state)
}

/// Unknown paths answer in the error shape of the API they would belong to.
async fn not_found(uri: Uri) -> Response {
    if confluent::owns_path(uri.path()) {
        return confluent::ConfluentError::new(404, "HTTP 404 Not Found").into_response();
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route-not-found",
        "no such route; see openapi.yaml",
    )
    .into_response()
}

async fn method_not_allowed(uri: Uri) -> Response {
    if confluent::owns_path(uri.path()) {
        return confluent::ConfluentError::new(405, "HTTP 405 Method Not Allowed").into_response();
    }
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this route does not answer that method; see openapi.yaml",
    )
    .into_response()
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting,
/// lets in-flight requests finish, and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
