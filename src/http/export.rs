//! `GET /api/v1/export`: the whole registry as a dump (NDJSON, the format of
//! `store::dump`), read from one consistent snapshot and streamed as it is read, so
//! `accord export --registry URL` backs up a registry it cannot reach the database of.
//!
//! A dump holds every schema, so it is no more secret than the read API; it is still
//! a bulk read, and once tokens exist it needs an administrator's.
//!
//! The answer is committed to 200 before the first record is read: a database failure
//! part-way ends the body without the dump's end line (and logs why), which
//! `accord export` and `accord import` report as a cut dump.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures_util::StreamExt;

use super::AppState;
use super::error::ApiError;
use crate::registry::RegistryError;
use crate::store::dump;

/// Streams the dump; 503 when the database does not answer before it starts.
pub async fn export_registry(State(state): State<AppState>) -> Result<Response, ApiError> {
    state
        .registry
        .store()
        .ping()
        .await
        .map_err(|e| ApiError::from(RegistryError::from(e)))?;
    let records = dump::document(state.registry.store().export());
    let lines = records
        .map(|record| match record {
            Ok(record) => match serde_json::to_vec(&record) {
                Ok(mut line) => {
                    line.push(b'\n');
                    Some(Bytes::from(line))
                }
                Err(e) => {
                    tracing::error!(error = %e, "export: a record did not serialise");
                    None
                }
            },
            Err(e) => {
                tracing::error!(error = %e, "export failed part-way; the dump is cut short");
                None
            }
        })
        .take_while(|line| std::future::ready(line.is_some()))
        .map(|line| Ok::<_, std::convert::Infallible>(line.unwrap_or_default()));
    let mut response = Response::new(Body::from_stream(lines));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
