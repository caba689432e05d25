//! The HTTP server: the router, its state and its per-request limits, and [`serve`]
//! (in `server.rs`), which runs until the shutdown future resolves and then drains
//! in-flight requests within a deadline.
//!
//! Every native route is declared once, in [`routes`]; the router is built from that
//! table and [`route_table`] lists it, so the test that compares the router with
//! `openapi.yaml` compares the real thing. The Confluent-compatible API
//! ([`confluent::route_table`]) is merged next to it at the root; it is not described
//! in `openapi.yaml` (Confluent's own API reference describes it).
//!
//! Every route of both tables carries its access [`auth::Rule`], checked before its
//! handler runs; [`access_table`] lists them all, for the tests that walk every route
//! with every kind of caller and compare the roles with `openapi.yaml`.

mod access;
pub mod auth;
mod caching;
pub mod confluent;
mod consumers;
pub mod error;
mod export;
mod malformed;
pub mod metrics;
mod native;
pub mod requests;
mod server;
mod tls;
mod validate;

pub use access::expiry as token_expiry;
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
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::timeout::RequestBodyTimeoutLayer;

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
    /// Authentication: the token cache and its settings.
    pub gate: Arc<auth::Gate>,
    /// What `/metrics` reports; `None` with `--no-metrics` (nothing is recorded).
    pub metrics: metrics::SharedMetrics,
    /// Whether `/metrics` answers without a token (`--metrics-public`).
    pub metrics_public: bool,
}

impl AppState {
    /// The state of a server over `registry`, enforcing `limits`.
    pub fn new(registry: Arc<Registry>, limits: Limits) -> Self {
        let gate = Arc::new(auth::Gate::new(
            Arc::clone(registry.store()),
            auth::AuthConfig::default(),
        ));
        let metrics = Arc::new(metrics::Metrics::new(&registry, route_templates()));
        Self {
            registry,
            limits: Arc::new(limits),
            served: Arc::default(),
            gate,
            metrics: Some(metrics),
            metrics_public: false,
        }
    }

    /// The same recording no metrics (`--no-metrics`): `/metrics` answers 404.
    pub fn without_metrics(mut self) -> Self {
        self.metrics = None;
        self
    }

    /// The same with `/metrics` open to requests without a token (`--metrics-public`).
    pub fn with_public_metrics(mut self) -> Self {
        self.metrics_public = true;
        self
    }

    /// The same with other authentication settings.
    pub fn with_auth(mut self, config: auth::AuthConfig) -> Self {
        self.gate = Arc::new(auth::Gate::new(Arc::clone(self.registry.store()), config));
        self
    }

    /// The hit and miss counts, entries and weight of every in-memory cache of the
    /// server: the registry's and its store's, and the documents ready to serve.
    pub fn cache_stats(&self) -> Vec<crate::cache::CacheStats> {
        let mut stats = self.registry.cache_stats();
        stats.push(self.served.stats());
        stats
    }
}

/// One route: method (upper case), path template (OpenAPI and axum share `{param}`),
/// what it needs of its caller, and its handler.
type Route = (
    &'static str,
    &'static str,
    auth::Rule,
    MethodRouter<AppState>,
);

/// Every native route the server answers, each with its access rule.
fn routes() -> Vec<Route> {
    use crate::domain::Action::{
        Configure, DeclareConsumer, Delete, DeprecateLine, Export, ManageTokens, Read, ReadAudit,
        RecordDeployment, Register, UpdateMetadata, Validate,
    };
    use auth::Rule;
    const V: &str = "/api/v1/contracts/{name}/versions";
    const C: &str = "/api/v1/contracts/{name}";
    const SEL: &str = "/api/v1/contracts/{name}/versions/{selector}";
    let named = |action| Rule::contract(action, "name");
    vec![
        ("GET", "/healthz", Rule::probe(), get(native::health)),
        ("GET", "/readyz", Rule::probe(), get(native::ready)),
        (
            "GET",
            METRICS_PATH,
            Rule::registry(Read),
            get(metrics::metrics),
        ),
        (
            "GET",
            "/api/v1/contracts",
            Rule::registry(Read),
            get(native::list_contracts),
        ),
        ("GET", C, named(Read), get(native::find_contract)),
        (
            "PATCH",
            C,
            named(UpdateMetadata),
            patch(native::update_contract),
        ),
        ("DELETE", C, named(Delete), delete(native::delete_contract)),
        ("POST", V, named(Register), post(native::create_version)),
        ("GET", V, named(Read), get(native::list_versions)),
        ("GET", SEL, named(Read), get(native::find_version)),
        ("DELETE", SEL, named(Delete), delete(native::delete_version)),
        (
            "GET",
            "/api/v1/contracts/{name}/versions/{selector}/schema",
            named(Read),
            get(native::find_version_schema),
        ),
        (
            "POST",
            "/api/v1/contracts/{name}/versions/{selector}/validate",
            named(Validate),
            post(validate::validate_payload),
        ),
        (
            "POST",
            "/api/v1/contracts/{name}/compatibility",
            named(Register),
            post(native::check_compatibility),
        ),
        (
            "GET",
            "/api/v1/contracts/{name}/diff",
            named(Read),
            get(native::diff_versions),
        ),
        (
            "GET",
            "/api/v1/contracts/{name}/config",
            named(Read),
            get(native::find_contract_config),
        ),
        (
            "PUT",
            "/api/v1/contracts/{name}/config",
            named(Configure),
            put(native::update_contract_config),
        ),
        (
            "DELETE",
            "/api/v1/contracts/{name}/config",
            named(Configure),
            delete(native::delete_contract_config),
        ),
        (
            "GET",
            "/api/v1/config",
            Rule::registry(Read),
            get(native::find_global_config),
        ),
        (
            "PUT",
            "/api/v1/config",
            Rule::registry(Configure),
            put(native::update_global_config),
        ),
        (
            "GET",
            "/api/v1/schemas/{id}",
            Rule::schema("id"),
            get(native::find_schema),
        ),
        (
            "GET",
            "/api/v1/export",
            Rule::registry(Export),
            get(export::export_registry),
        ),
        (
            "POST",
            "/api/v1/tokens",
            Rule::registry(ManageTokens),
            post(access::create_token),
        ),
        (
            "GET",
            "/api/v1/tokens",
            Rule::registry(ManageTokens),
            get(access::list_tokens),
        ),
        (
            "DELETE",
            "/api/v1/tokens/{id}",
            Rule::registry(ManageTokens),
            delete(access::revoke_token),
        ),
        (
            "GET",
            "/api/v1/audit",
            Rule::registry(ReadAudit),
            get(access::audit_log),
        ),
        // Consumers are scoped by their own name, as contracts are.
        (
            "GET",
            "/api/v1/consumers",
            Rule::registry(Read),
            get(consumers::list_consumers),
        ),
        (
            "GET",
            "/api/v1/consumers/{name}",
            named(Read),
            get(consumers::find_consumer),
        ),
        (
            "PUT",
            "/api/v1/consumers/{name}",
            named(DeclareConsumer),
            put(consumers::declare_consumer),
        ),
        (
            "POST",
            "/api/v1/consumers/{name}/deployments",
            named(RecordDeployment),
            post(consumers::record_deployment),
        ),
        (
            "POST",
            "/api/v1/consumers/{name}/can-i-deploy",
            named(Read),
            post(consumers::can_i_deploy),
        ),
        (
            "GET",
            "/api/v1/environments",
            Rule::registry(Read),
            get(consumers::list_environments),
        ),
        (
            "PUT",
            "/api/v1/environments/{name}",
            Rule::registry(Configure),
            put(consumers::put_environment),
        ),
        (
            "GET",
            "/api/v1/contracts/{name}/consumers",
            named(Read),
            get(consumers::contract_consumers),
        ),
        (
            "POST",
            "/api/v1/contracts/{name}/lines/{major}/deprecate",
            named(DeprecateLine),
            post(consumers::deprecate_line),
        ),
        (
            "POST",
            "/api/v1/contracts/{name}/lines/{major}/retire",
            named(Delete),
            post(consumers::retire_line),
        ),
    ]
}

/// Every route template of both APIs (the `route` label of the request metrics).
fn route_templates() -> Vec<&'static str> {
    let native = routes().into_iter().map(|(_, p, _, _)| p);
    let confluent = confluent::route_table().into_iter().map(|(_, p, _, _)| p);
    native.chain(confluent).collect()
}

/// The native `(method, path)` pairs the router answers, for the OpenAPI conformance
/// test (the Confluent routes are not in it).
pub fn route_table() -> Vec<(&'static str, &'static str)> {
    routes().into_iter().map(|(m, p, _, _)| (m, p)).collect()
}

/// Which API a route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The native API (`/api/v1`, the probes), described in `openapi.yaml`.
    Native,
    /// The Confluent-compatible API.
    Confluent,
}

/// Every route of both APIs with its access rule: `(api, method, path, rule)`.
pub fn access_table() -> Vec<(Api, &'static str, &'static str, auth::Rule)> {
    let native = routes()
        .into_iter()
        .map(|(m, p, rule, _)| (Api::Native, m, p, rule));
    let confluent = confluent::route_table()
        .into_iter()
        .map(|(m, p, rule, _)| (Api::Confluent, m, p, rule));
    native.chain(confluent).collect()
}

/// A route's handler behind the guard of its rule.
fn guarded(
    state: &AppState,
    rule: auth::Rule,
    handler: MethodRouter<AppState>,
) -> MethodRouter<AppState> {
    handler.route_layer(axum::middleware::from_fn_with_state(
        auth::Guarded {
            rule,
            state: state.clone(),
        },
        auth::guard,
    ))
}

/// The application: every route; the body limit, body read timeout and request
/// deadline of `state`'s limits; request logs when enabled; JSON 404/405 answers.
pub fn router(state: AppState) -> Router {
    let max_body_bytes = state.limits.max_body_bytes;
    let mut router = Router::new();
    for (_, path, rule, handler) in routes() {
        // `--metrics-public`: scrapers need no token.
        let rule = if path == METRICS_PATH && state.metrics_public {
            auth::Rule::probe()
        } else {
            rule
        };
        router = router.route(path, guarded(&state, rule, handler));
    }
    let mut confluent = Router::new();
    for (_, path, rule, handler) in confluent::route_table() {
        confluent = confluent.route(path, guarded(&state, rule, handler));
    }
    let router = router
        .merge(confluent::with_negotiation(confluent))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::identify,
        ))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(RequestBodyTimeoutLayer::new(
            *state.limits.body_read_timeout,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(request_timed_out))
                .timeout(*state.limits.request_timeout),
        );
    // Outermost: the request id, span, log line and metrics (`requests.rs`), so the
    // duration and status are those the client sees.
    router
        .layer(CompressionLayer::new().compress_when(worth_compressing()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            requests::observe,
        ))
        .with_state(state)
}

/// The path of the metrics endpoint.
pub(crate) const METRICS_PATH: &str = "/metrics";

/// Answers smaller than this are sent as they are: compressing a fetch of a few
/// hundred bytes saves less than it costs in time.
pub const MIN_COMPRESSED_BYTES: u16 = 1024;

/// Which answers are compressed (when the client accepts gzip or brotli): those of at
/// least [`MIN_COMPRESSED_BYTES`] (or of unknown length, the export's stream), not
/// images or event streams.
fn worth_compressing() -> impl Predicate {
    SizeAbove::new(MIN_COMPRESSED_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
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
