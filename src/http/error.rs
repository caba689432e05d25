//! The one error type of the HTTP layer and its JSON body:
//! `{"error": {"code": "contract-not-found", "message": "…", "details": …}}`.
//!
//! [`ApiError`] owns the mapping from registry errors and extractor rejections to
//! status codes. Bad input is always a 4xx naming what is wrong; a 5xx body says
//! nothing about the cause, which is logged once, here, inside the request's span.

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::compat::CompatError;
use crate::domain::UnknownField;
use crate::registry::{Refusal, RegistryError};
use crate::store::StoreError;

/// An error answer: status, stable kebab-case code, message for people, optional details.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable kebab-case code, e.g. `contract-not-found`.
    pub code: &'static str,
    /// One sentence naming what is wrong.
    pub message: String,
    /// Structured details (the report on 409, the pointer on 422).
    pub details: Option<Value>,
    /// Seconds after which a retry may succeed, sent as `Retry-After` (503 answers).
    pub retry_after: Option<u32>,
}

/// The `error` member of an error body.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// The stable code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// Structured details, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ApiError {
    /// An error without details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// Adds a `Retry-After` header of `seconds`.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Adds details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    /// The body's `error` member.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            details: self.details.clone(),
        }
    }

    fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the cause is in the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let mut response = (status, Json(json!({ "error": self.body() }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// 403: the caller's role or scopes do not allow the request; says which were needed.
pub fn forbidden(denied: &crate::domain::Denied) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", denied.to_string())
}

/// The body of a refusal's 409: the report and what was declared.
pub fn refusal_details(refusal: &Refusal) -> Value {
    match refusal {
        Refusal::Incompatible { report } => {
            json!({ "report": report, "failed_version": report.failed_version })
        }
        Refusal::VersionNotGreater { declared, highest } => {
            json!({ "declared_version": declared.to_string(), "highest_version": highest.to_string() })
        }
        Refusal::VersionTooSmall {
            declared,
            base,
            required,
            report,
        } => json!({
            "declared_version": declared.to_string(),
            "base_version": base.to_string(),
            "required_bump": required,
            "failed_version": report.failed_version,
            "report": report,
        }),
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::InvalidSchema(e) => {
                let details = json!({ "pointer": e.pointer() });
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
                    .with_details(details)
            }
            RegistryError::TooComplex(e) => {
                // What the engine knew when it stopped: which budget, where, what
                // it had found.
                let details = match &e {
                    CompatError::Budget(exhausted) => json!(exhausted),
                    CompatError::TooDeep { limit } => json!({ "depth_limit": limit }),
                };
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "comparison-too-complex",
                    e.to_string(),
                )
                .with_details(details)
            }
            RegistryError::Refused(r) => {
                ApiError::new(StatusCode::CONFLICT, r.code(), r.to_string())
                    .with_details(refusal_details(&r))
            }
            RegistryError::ContractNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "contract-not-found", e.to_string())
            }
            RegistryError::VersionNotFound { .. } => {
                ApiError::new(StatusCode::NOT_FOUND, "version-not-found", e.to_string())
            }
            RegistryError::SchemaNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "schema-not-found", e.to_string())
            }
            RegistryError::AlreadyDeleted { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "version-already-deleted",
                e.to_string(),
            ),
            RegistryError::NotSoftDeleted { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "version-not-soft-deleted",
                e.to_string(),
            ),
            RegistryError::InvalidReference(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-reference",
                e.to_string(),
            ),
            RegistryError::ReadOnly(_) => {
                ApiError::new(StatusCode::CONFLICT, "read-only", e.to_string())
            }
            RegistryError::NotPermitted(_) | RegistryError::IdMismatch { .. } => {
                ApiError::new(StatusCode::CONFLICT, "not-permitted", e.to_string())
            }
            RegistryError::Referenced { .. } => {
                ApiError::new(StatusCode::CONFLICT, "version-referenced", e.to_string())
            }
            RegistryError::SchemaNotRegistered(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "schema-not-found", e.to_string())
            }
            RegistryError::ContractAlreadyDeleted(_) | RegistryError::ContractNotSoftDeleted(_) => {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "contract-delete-refused",
                    e.to_string(),
                )
            }
            RegistryError::Forbidden(denied) => forbidden(&denied),
            RegistryError::Consumers(e) => super::consumers::consumer_error(*e),
            RegistryError::InvalidToken(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-token-request",
                e.to_string(),
            ),
            RegistryError::TokenNameTaken(_) => {
                ApiError::new(StatusCode::CONFLICT, "token-name-taken", e.to_string())
            }
            RegistryError::TokenNotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "token-not-found", e.to_string())
            }
            RegistryError::Saturated { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too-many-checks",
                e.to_string(),
            )
            .retry_after(super::RETRY_AFTER_SECS),
            RegistryError::Store(StoreError::Unavailable(why)) => {
                tracing::error!(error = %why, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry later",
                )
                .retry_after(super::RETRY_AFTER_SECS)
            }
            RegistryError::Store(StoreError::Full(why)) => {
                tracing::error!(error = %why, "database full");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage-full",
                    "the database has no space left for this write; nothing was written",
                )
            }
            RegistryError::Store(StoreError::Conflict(why)) => {
                tracing::warn!(error = %why, "write conflict after retries");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "write-conflict",
                    "concurrent writes conflicted; retry",
                )
            }
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::internal()
            }
        }
    }
}

/// Whether a request body could not be read because the client paused longer than
/// the body read timeout (`--body-read-timeout`).
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// The answer to a request whose body stopped arriving.
pub fn body_timeout() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request-body-timeout",
        BODY_TIMEOUT_MESSAGE,
    )
}

/// Why a body over the size limit was refused (both APIs).
pub const BODY_TOO_LARGE_MESSAGE: &str =
    "the request body is larger than the server accepts (--max-body-bytes)";

/// Why a body that stopped arriving was refused (both APIs).
pub const BODY_TIMEOUT_MESSAGE: &str =
    "the request body stopped arriving for longer than the server waits (--body-read-timeout)";

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        if is_body_timeout(&r) {
            return body_timeout();
        }
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(status, "payload-too-large", BODY_TOO_LARGE_MESSAGE);
        }
        let code = match status {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid-request",
            _ => "malformed-json",
        };
        let status = if status.is_server_error() {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        ApiError::new(status, code, r.body_text())
    }
}

/// Whether a `Content-Type` names JSON: `application/json` or `application/*+json`.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a request body strictly: JSON syntax errors are 400 `malformed-json` with
/// line and column; a body of the wrong shape is 422 `invalid-request` naming the
/// field (an unknown one with the closest allowed name, see [`crate::domain::suggest`]).
pub fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| {
            let path = e.path().to_string();
            (
                if path == "." { String::new() } else { path },
                e.into_inner(),
            )
        })
        .and_then(|v| de.end().map(|()| v).map_err(|e| (String::new(), e)));
    parsed.map_err(|(path, inner)| {
        if !inner.is_data() {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                format!("the body is not valid JSON: {inner}"),
            );
        }
        if let Some(mut unknown) = UnknownField::from_serde(&inner.to_string(), &path) {
            // The path ends with the unknown field itself; name where it was.
            if let Some(container) = unknown.path.strip_suffix(unknown.field.as_str()) {
                unknown.path = container.trim_end_matches('.').to_owned();
            }
            let details = json!({
                "field": unknown.field,
                "path": unknown.path,
                "suggestion": unknown.suggestion,
                "allowed": unknown.expected,
            });
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-request",
                unknown.to_string(),
            )
            .with_details(details);
        }
        // serde_json ends a data error with its position; the path says more.
        let text = inner.to_string();
        let text = text
            .rsplit_once(" at line ")
            .map_or(text.as_str(), |(m, _)| m)
            .to_owned();
        let message = if path.is_empty() {
            text
        } else {
            format!("`{path}`: {text}")
        };
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-request", message)
            .with_details(json!({ "path": path }))
    })
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let text = r.body_text();
        match UnknownField::from_serde(&text, "") {
            Some(unknown) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                unknown
                    .to_string()
                    .replace("unknown field", "unknown query parameter"),
            )
            .with_details(json!({
                "parameter": unknown.field,
                "suggestion": unknown.suggestion,
                "allowed": unknown.expected,
            })),
            None => ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", text),
        }
    }
}

/// A JSON request body, parsed by [`parse_body`]: strictly (every body type denies
/// unknown fields), with every rejection answered in the API's error body.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "send the body with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|r| {
                if is_body_timeout(&r) {
                    return body_timeout();
                }
                let status = r.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(status, "payload-too-large", BODY_TOO_LARGE_MESSAGE)
                } else {
                    ApiError::new(StatusCode::BAD_REQUEST, "malformed-body", r.body_text())
                }
            })?;
        parse_body(&bytes).map(ApiJson)
    }
}

/// `axum::extract::Path` with rejections answered in the API's error body.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query` with rejections answered in the API's error body.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);
