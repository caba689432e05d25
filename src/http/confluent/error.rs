//! The Confluent error body, `{"error_code": 40401, "message": "…"}`, and its mapping
//! from the same registry errors the native API maps (reference §1.5). The HTTP status
//! is the code's first three digits; framework-level errors carry the status itself.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::compat;
use crate::registry::{Refusal, RegistryError};
use crate::store::StoreError;

/// An error answer of the Confluent API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfluentError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Confluent's `error_code`, e.g. 40401.
    pub code: u32,
    /// The message.
    pub message: String,
    /// Seconds after which a retry may succeed, sent as `Retry-After` (503 answers).
    pub retry_after: Option<u32>,
}

impl ConfluentError {
    /// An error with a Confluent code; the status is derived from it (40401 → 404).
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        let status_digits = if code >= 1000 { code / 100 } else { code };
        let status = u16::try_from(status_digits)
            .ok()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// The same code answered with another HTTP status (503 for a store that is
    /// unavailable, where Confluent answers 500: clients retry a 503).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds a `Retry-After` header of `seconds`.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 40901: a refused registration, naming the Confluent version (`seq`) it is
    /// incompatible with when known, with each breaking change and its witness.
    pub fn incompatible(refusal: &Refusal, seq: Option<i64>) -> Self {
        let details = refusal
            .report()
            .map(breaking_messages)
            .unwrap_or_default()
            .join(", ");
        let against = match seq {
            Some(seq) => format!(" (version {seq})"),
            None => String::new(),
        };
        let message = match refusal {
            Refusal::Incompatible { .. } => format!(
                "Schema being registered is incompatible with an earlier schema{against}; details: [{details}]"
            ),
            other => format!("{other}; details: [{details}]"),
        };
        Self::new(40901, message)
    }

    /// 40401: the subject does not exist (or has no version to show).
    pub fn subject_not_found(subject: &str) -> Self {
        Self::new(40401, format!("Subject '{subject}' not found."))
    }

    /// 40402: no such version.
    pub fn version_not_found(version: impl std::fmt::Display) -> Self {
        Self::new(40402, format!("Version {version} not found."))
    }

    /// 42201: the schema (or its type, or its references) is not acceptable.
    pub fn invalid_schema(message: impl Into<String>) -> Self {
        Self::new(42201, message)
    }

    /// 40301: the caller's role or scopes do not allow the request.
    pub fn forbidden(denied: &crate::domain::Denied) -> Self {
        Self::new(40301, format!("User is denied operation: {denied}"))
    }

    /// 40101: no valid credential.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(40101, message)
    }

    fn internal() -> Self {
        Self::new(500, "Internal Server Error")
    }
}

impl IntoResponse for ConfluentError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error_code": self.code, "message": self.message })),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The breaking changes of a report as Confluent-style messages (one per change).
pub fn breaking_messages(report: &compat::Report) -> Vec<String> {
    report
        .changes
        .iter()
        .filter(|c| !compat::is_compatible(std::slice::from_ref(c), report.mode))
        .map(|c| {
            let at = c
                .new_pointer
                .as_deref()
                .or(c.old_pointer.as_deref())
                .unwrap_or("");
            match &c.witness {
                Some(w) => format!(
                    "{{errorType:'{}', description:'{}', path:'#{}', witness:'{}'}}",
                    c.rule, c.message, at, w
                ),
                None => format!(
                    "{{errorType:'{}', description:'{}', path:'#{}'}}",
                    c.rule, c.message, at
                ),
            }
        })
        .collect()
}

impl From<RegistryError> for ConfluentError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::InvalidSchema(e) => Self::invalid_schema(format!("Invalid schema: {e}")),
            RegistryError::TooComplex(e) => Self::invalid_schema(e.to_string()),
            RegistryError::InvalidReference(_) => Self::invalid_schema(e.to_string()),
            RegistryError::Refused(refusal) => Self::incompatible(&refusal, None),
            RegistryError::ContractNotFound(name) => Self::subject_not_found(&name),
            RegistryError::VersionNotFound { selector, .. } => Self::version_not_found(selector),
            RegistryError::SchemaNotFound(id) => Self::new(40403, format!("Schema {id} not found")),
            RegistryError::SchemaNotRegistered(_) => Self::new(40403, "Schema not found"),
            RegistryError::ContractAlreadyDeleted(_) => Self::new(40404, e.to_string()),
            RegistryError::ContractNotSoftDeleted(_) => Self::new(40405, e.to_string()),
            RegistryError::AlreadyDeleted { .. } => Self::new(40406, e.to_string()),
            RegistryError::NotSoftDeleted { .. } => Self::new(40407, e.to_string()),
            RegistryError::ReadOnly(_) | RegistryError::NotPermitted(_) => {
                Self::new(42205, e.to_string())
            }
            RegistryError::Referenced { .. } => Self::new(42206, e.to_string()),
            RegistryError::IdMismatch { .. } => Self::new(42207, e.to_string()),
            RegistryError::Forbidden(denied) => Self::forbidden(&denied),
            // A registration refused to protect deployed consumers (`block`), or a
            // permanent delete of a version they resolve to: 409, as Confluent
            // answers a change it refuses.
            RegistryError::Consumers(c) => Self::new(409, c.to_string()),
            RegistryError::Saturated { .. } => {
                Self::new(503, e.to_string()).retry_after(crate::http::RETRY_AFTER_SECS)
            }
            RegistryError::Store(StoreError::Unavailable(why)) => {
                tracing::error!(error = %why, "database unavailable");
                Self::new(
                    50001,
                    "Error in the backend data store: unavailable; retry later",
                )
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
                .retry_after(crate::http::RETRY_AFTER_SECS)
            }
            RegistryError::Store(StoreError::Full(why)) => {
                tracing::error!(error = %why, "database full");
                Self::new(
                    50001,
                    "Error in the backend data store: no space left; nothing was written",
                )
                .with_status(StatusCode::INSUFFICIENT_STORAGE)
            }
            other => {
                tracing::error!(error = %other, "request failed");
                Self::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_is_the_first_three_digits_of_the_code() {
        assert_eq!(
            ConfluentError::new(40401, "x").status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(ConfluentError::new(40901, "x").status, StatusCode::CONFLICT);
        assert_eq!(
            ConfluentError::new(42201, "x").status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            ConfluentError::new(415, "x").status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }
}
