//! The HTTP server: the router, its state and its per-request limits, and [`serve`]
//! (in `server.rs`), which runs until the shutdown future resolves and then drains
//! in-flight requests within a deadline.
//!
//! Every native route is declared once, in [`routes`]; the router is built from that
//! table and [`route_table`] lists it, so the test that compares the router with
//! `openapi.yaml` compares the real thing. The Confluent-compatible API
//! ([`confluent::routes`]) is merged next to it at the root; it is not described in
//! `openapi.yaml` (Confluent's own API reference describes it), so it is not in the
//! table either.

pub mod auth;
mod caching;
pub mod confluent;
pub mod error;
mod export;
mod malformed;
mod native;
mod server;
mod tls;
mod validate;

pub use server::{serve, serve_tls};
pub use tls::{Tls, TlsError};

use std::sync::Arc;

use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};
use axum::{BoxError, Router};
use tower::ServiceBuilder;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::limits::Limits;
use crate::registry::Registry;
use error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The use cases.
    pub registry: Arc<Registry>,
    /// Every limit and timeout the handlers enforce.
    pub limits: Arc<Limits>,
    /// Schema documents ready to serve, by id.
    served: Arc<caching::ServedSchemas>,
}

impl AppState {
    /// The state of a server over `registry`, enforcing `limits`.
    pub fn new(registry: Arc<Registry>, limits: Limits) -> Self {
        Self {
            registry,
            limits: Arc::new(limits),
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
        (
            "DELETE",
            "/api/v1/contracts/{name}",
            delete(native::delete_contract),
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
        ("GET", "/api/v1/export", get(export::export_registry)),
    ]
}

/// The native `(method, path)` pairs the router answers, for the OpenAPI conformance
/// test (the Confluent routes are not in it).
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    routes().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The application: every route; the body limit, body read timeout and request
/// deadline of `state`'s limits; request logs when enabled; JSON 404/405 answers.
pub fn router(state: AppState) -> Router {
    let max_body_bytes = state.limits.max_body_bytes;
    let mut router = Router::new();
    for (_, path, handler) in routes() {
        router = router.route(path, handler);
    }
    let router = router
        .merge(confluent::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(auth::identify))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(
            *state.limits.body_read_timeout,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(request_timed_out))
                .timeout(*state.limits.request_timeout),
        );
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
        // A native path without its prefix (`/contracts/…`) is the usual slip.
        let native = format!("/api/v1{}", uri.path());
        let hint = if uri.path().starts_with("/contracts") || uri.path().starts_with("/schemas/") {
            format!("; the native API is under /api/v1: did you mean {native}?")
        } else {
            "; this is the Confluent-compatible API (/subjects, /schemas, /config, /mode, /compatibility); the native API is under /api/v1 (see openapi.yaml)".to_owned()
        };
        return confluent::ConfluentError::new(404, format!("HTTP 404 Not Found{hint}"))
            .into_response();
    }
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route-not-found",
        "no such route; see openapi.yaml",
    )
    .into_response()
}

/// A request past its deadline ([`Limits::request_timeout`]) is answered 503 with
/// `Retry-After`, in the error shape of its API; the handler is dropped (a registration
/// in progress rolls back).
async fn request_timed_out(uri: Uri, error: BoxError) -> Response {
    if !error.is::<tower::timeout::error::Elapsed>() {
        tracing::error!(error = %error, "request failed in a layer");
    }
    let message = "the request did not finish within the server's request deadline \
                   (--request-timeout); retry later";
    if confluent::owns_path(uri.path()) {
        return confluent::ConfluentError::new(503, message)
            .retry_after(RETRY_AFTER_SECS)
            .into_response();
    }
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "request-timeout", message)
        .retry_after(RETRY_AFTER_SECS)
        .into_response()
}

/// The `Retry-After` of answers that say the server is too busy right now.
pub(crate) const RETRY_AFTER_SECS: u32 = 1;

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
