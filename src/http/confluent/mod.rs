//! The Confluent-compatible API at the root of the server (`/subjects`, `/schemas`,
//! `/config`, `/mode`, `/compatibility`, `/contexts`), so Kafka serializers and
//! Confluent clients work unchanged. It is a second view of the same registry: a
//! subject is a contract and its Confluent version is the version's `seq`.
//!
//! Behaviour follows the reference as the server really behaves
//! (`shared/reference/confluent.md` §1): responses are
//! `application/vnd.schemaregistry.v1+json` unless only `application/json` is
//! accepted; request bodies may be any of the three JSON types or octet-stream;
//! booleans in query strings are true only when they equal `true` ignoring case
//! (clients send `True`), never an error; errors are `{"error_code", "message"}`.
//! Only JSON Schema is supported: AVRO and PROTOBUF registrations get 42201.
//!
//! Access: HTTP Basic (user: the token's name or id; password: the token) or Bearer;
//! refusals are 40101 and 40301 (see [`crate::http::auth`]).

mod config;
mod error;
mod handlers;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use serde::de::DeserializeOwned;

use super::AppState;
pub use error::ConfluentError;

/// The preferred response type.
const V1: &str = "application/vnd.schemaregistry.v1+json";
/// The unversioned vendor type.
const VENDOR: &str = "application/vnd.schemaregistry+json";
/// Plain JSON, the least preferred.
const JSON: &str = "application/json";
/// What clients that omit a content type end up sending; read as JSON.
const OCTET_STREAM: &str = "application/octet-stream";

/// One Confluent route: method, path, access rule, handler.
pub type Route = (
    &'static str,
    &'static str,
    crate::http::auth::Rule,
    MethodRouter<AppState>,
);

/// Every Confluent route with its access rule. The server merges them next to the
/// native API, behind [`with_negotiation`]; not part of `openapi.yaml`.
pub fn route_table() -> Vec<Route> {
    use crate::domain::Action::{Configure, Delete, Read, Register};
    use crate::http::auth::Rule;
    use handlers as h;
    const SV: &str = "/subjects/{subject}/versions/{version}";
    let subject = |action| Rule::contract(action, "subject");
    let registry = Rule::registry;
    vec![
        ("GET", "/", registry(Read), get(h::root)),
        ("POST", "/", registry(Read), post(h::root)),
        (
            "GET",
            "/schemas/types",
            registry(Read),
            get(h::schema_types),
        ),
        (
            "GET",
            "/schemas/ids/{id}",
            Rule::schema("id"),
            get(h::find_schema),
        ),
        (
            "GET",
            "/schemas/ids/{id}/schema",
            Rule::schema("id"),
            get(h::find_schema_text),
        ),
        (
            "GET",
            "/schemas/ids/{id}/subjects",
            registry(Read),
            get(h::list_schema_subjects),
        ),
        (
            "GET",
            "/schemas/ids/{id}/versions",
            registry(Read),
            get(h::list_schema_versions),
        ),
        ("GET", "/subjects", registry(Read), get(h::list_subjects)),
        (
            "POST",
            "/subjects/{subject}",
            subject(Read),
            post(h::lookup_schema),
        ),
        (
            "DELETE",
            "/subjects/{subject}",
            subject(Delete),
            delete(h::delete_subject),
        ),
        (
            "GET",
            "/subjects/{subject}/versions",
            subject(Read),
            get(h::list_versions),
        ),
        (
            "POST",
            "/subjects/{subject}/versions",
            subject(Register),
            post(h::create_version),
        ),
        ("GET", SV, subject(Read), get(h::find_version)),
        ("DELETE", SV, subject(Delete), delete(h::delete_version)),
        (
            "GET",
            "/subjects/{subject}/versions/{version}/schema",
            subject(Read),
            get(h::find_version_schema),
        ),
        (
            "GET",
            "/subjects/{subject}/versions/{version}/referencedby",
            subject(Read),
            get(h::list_referrers),
        ),
        (
            "POST",
            "/compatibility/subjects/{subject}/versions",
            subject(Register),
            post(h::check_compatibility),
        ),
        (
            "POST",
            "/compatibility/subjects/{subject}/versions/{version}",
            subject(Register),
            post(h::check_version_compatibility),
        ),
        (
            "GET",
            "/config",
            registry(Read),
            get(config::find_global_config),
        ),
        (
            "PUT",
            "/config",
            registry(Configure),
            put(config::update_global_config),
        ),
        (
            "DELETE",
            "/config",
            registry(Configure),
            delete(config::delete_global_config),
        ),
        (
            "GET",
            "/config/{subject}",
            subject(Read),
            get(config::find_subject_config),
        ),
        // Configure, or a producer pinning the level in force (see the handler).
        (
            "PUT",
            "/config/{subject}",
            subject(Register),
            put(config::update_subject_config),
        ),
        (
            "DELETE",
            "/config/{subject}",
            subject(Configure),
            delete(config::delete_subject_config),
        ),
        (
            "GET",
            "/mode",
            registry(Read),
            get(config::find_global_mode),
        ),
        (
            "PUT",
            "/mode",
            registry(Configure),
            put(config::update_global_mode),
        ),
        (
            "DELETE",
            "/mode",
            registry(Configure),
            delete(config::delete_global_mode),
        ),
        (
            "GET",
            "/mode/{subject}",
            subject(Read),
            get(config::find_subject_mode),
        ),
        (
            "PUT",
            "/mode/{subject}",
            subject(Configure),
            put(config::update_subject_mode),
        ),
        (
            "DELETE",
            "/mode/{subject}",
            subject(Configure),
            delete(config::delete_subject_mode),
        ),
        ("GET", "/contexts", registry(Read), get(h::list_contexts)),
    ]
}

/// The Confluent routes with content negotiation.
pub fn with_negotiation(routes: Router<AppState>) -> Router<AppState> {
    routes.layer(middleware::from_fn(negotiate))
}

/// Whether a request path belongs to the Confluent API (everything outside `/api/`,
/// the health endpoints and `/metrics`), so unknown paths answer in its error shape.
pub fn owns_path(path: &str) -> bool {
    !(path.starts_with("/api/")
        || path == "/healthz"
        || path == "/readyz"
        || path == super::METRICS_PATH)
}

/// Refuses request bodies of other media types (415) and answers that no acceptable
/// type exists (406); otherwise labels the response with the negotiated type.
async fn negotiate(request: Request, next: Next) -> Response {
    if let Some(ct) = request.headers().get(header::CONTENT_TYPE) {
        let essence = ct
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let has_body = matches!(*request.method(), Method::POST | Method::PUT);
        if has_body && ![V1, VENDOR, JSON, OCTET_STREAM].contains(&essence.as_str()) {
            return ConfluentError::new(
                415,
                format!(
                    "HTTP 415 Unsupported Media Type: send the body as {V1}, {VENDOR}, {JSON} or {OCTET_STREAM}"
                ),
            )
            .into_response();
        }
    }
    let Some(chosen) = response_type(request.headers()) else {
        return ConfluentError::new(406, "HTTP 406 Not Acceptable").into_response();
    };
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(chosen));
    response
}

/// The response type for an `Accept` header: the best of the three JSON types by the
/// client's q-values times the server's preference (1.0, 0.9, 0.5); the v1 type when
/// there is no header; `None` when nothing is acceptable.
fn response_type(headers: &HeaderMap) -> Option<&'static str> {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let accept = accept.join(",");
    if accept.trim().is_empty() {
        return Some(V1);
    }
    let ranges: Vec<(String, f32)> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse().ok()))
                .next()
                .unwrap_or(1.0);
            (!media.is_empty()).then_some((media, q))
        })
        .collect();
    let client_q = |ours: &str| -> f32 {
        ranges
            .iter()
            .filter(|(media, _)| media == ours || media == "*/*" || media == "application/*")
            .map(|(_, q)| *q)
            .fold(0.0, f32::max)
    };
    [(V1, 1.0), (VENDOR, 0.9), (JSON, 0.5)]
        .into_iter()
        .map(|(media, weight)| (media, client_q(media) * weight))
        .filter(|(_, score)| *score > 0.0)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(media, _)| media)
}

/// Query parameters, read by hand: Confluent's booleans and integers do not follow
/// serde's rules.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses a raw query string (percent-decoded; the first of repeated keys wins).
    pub fn parse(query: Option<&str>) -> Self {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Self(map)
    }

    /// A string parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A boolean the JAX-RS way: true only when it equals `true` ignoring case.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// An integer; one that does not parse is the framework's 404, as in Confluent.
    pub fn int(&self, name: &str, default: i64) -> Result<i64, ConfluentError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                ConfluentError::new(404, format!("HTTP 404 Not Found: {name} is not an integer"))
            }),
        }
    }

    /// One page of `items` by `offset` (default 0) and `limit` (default and any
    /// non-positive value: no limit).
    pub fn page<T>(&self, items: Vec<T>) -> Result<Vec<T>, ConfluentError> {
        let offset = usize::try_from(self.int("offset", 0)?.max(0)).unwrap_or(usize::MAX);
        let limit = self.int("limit", -1)?;
        let items = items.into_iter().skip(offset);
        Ok(match usize::try_from(limit) {
            Ok(limit) if limit > 0 => items.take(limit).collect(),
            _ => items.collect(),
        })
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query()))
    }
}

/// Reads a JSON request body whatever its (already checked) media type: a missing one
/// is 422, malformed JSON 400, an oversized one 413 (as on the native API), one that
/// stopped arriving 408.
pub fn body<T: DeserializeOwned>(
    bytes: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<T, ConfluentError> {
    let bytes = bytes.map_err(|e| {
        if crate::http::error::is_body_timeout(&e) {
            ConfluentError::new(408, crate::http::error::BODY_TIMEOUT_MESSAGE)
        } else if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ConfluentError::new(413, crate::http::error::BODY_TOO_LARGE_MESSAGE)
        } else {
            ConfluentError::new(400, e.body_text())
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ConfluentError::new(422, "the request body is missing"));
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let parsed = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // Stored text holding U+0000 is refused as the native API refuses it: 422,
        // naming the field.
        if inner.to_string().contains(crate::domain::NUL_MESSAGE) {
            return ConfluentError::new(42201, format!("`{path}`: {}", crate::domain::NUL_MESSAGE));
        }
        ConfluentError::new(400, format!("malformed JSON body: {inner}"))
    })?;
    de.end()
        .map_err(|e| ConfluentError::new(400, format!("malformed JSON body: {e}")))?;
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<&'static str> {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        response_type(&headers)
    }

    #[test]
    fn the_v1_type_wins_unless_only_plain_json_is_accepted() {
        assert_eq!(response_type(&HeaderMap::new()), Some(V1));
        assert_eq!(accept("*/*"), Some(V1));
        assert_eq!(accept("application/json"), Some(JSON));
        assert_eq!(
            accept(
                "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json"
            ),
            Some(V1)
        );
        assert_eq!(accept("text/html"), None);
    }

    #[test]
    fn booleans_are_true_only_for_true_in_any_case() {
        let p = Params::parse(Some("a=True&b=1&c=&d=FALSE&e=tRuE"));
        assert!(p.flag("a") && p.flag("e"));
        assert!(!p.flag("b") && !p.flag("c") && !p.flag("d") && !p.flag("missing"));
    }

    #[test]
    fn pages_skip_offset_and_ignore_non_positive_limits() {
        let p = Params::parse(Some("offset=1&limit=2"));
        assert_eq!(p.page(vec![1, 2, 3, 4]).unwrap(), vec![2, 3]);
        let p = Params::parse(Some("limit=0"));
        assert_eq!(p.page(vec![1, 2]).unwrap(), vec![1, 2]);
        assert_eq!(
            Params::parse(Some("limit=x"))
                .page(vec![1])
                .unwrap_err()
                .code,
            404
        );
    }
}
