//! `POST /api/v1/contracts/{name}/versions/{selector}/validate`: check payloads
//! against a contract version on the server, with the consumer library's validator
//! ([`crate::schema::build_validator`], compiled once per schema id by the registry).
//!
//! - `application/json`: the body is one document, read under the router's body
//!   limit; the answer lists its violations ([`DocumentValidation`]).
//! - `application/x-ndjson`: the body is streamed, never buffered whole. Bytes are
//!   gathered until about [`CHUNK_BYTES`] of whole lines are in hand, and each chunk
//!   is checked on the blocking pool, so a large body does not hold a runtime
//!   thread. A line longer than [`Limits::max_validate_line_bytes`] is skipped as it
//!   arrives (only its length is kept); a body longer than
//!   [`Limits::max_validate_bytes`] is answered 413. The answer is a summary
//!   ([`StreamValidation`]) listing at most [`MAX_LISTED_LINES`] rejected lines.
//!
//! Line numbers count from 1 and include blank lines, which are not records, as in
//! `accord validate`.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, HttpBody};
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath};
use crate::domain::{ContractName, VersionSelector};
use crate::limits::Limits;
use crate::schema::ndjson::{Line, Lines};
use crate::schema::{Violation, violations};
use crate::store::VersionRecord;

/// How many bytes of whole lines one blocking task checks.
pub const CHUNK_BYTES: usize = 1 << 20;
/// How many rejected lines an NDJSON summary lists (`errors_total` counts them all).
pub const MAX_LISTED_LINES: usize = 100;

/// The contract version a payload was checked against.
#[derive(Debug, Serialize)]
pub struct ValidatedContract {
    /// The contract.
    pub name: String,
    /// The version the selector resolved to.
    pub version: String,
    /// Its global schema id.
    pub schema_id: i64,
}

impl From<&VersionRecord> for ValidatedContract {
    fn from(v: &VersionRecord) -> Self {
        Self {
            name: v.contract.to_string(),
            version: v.version.to_string(),
            schema_id: v.schema_id,
        }
    }
}

/// The answer for one JSON document.
#[derive(Debug, Serialize)]
pub struct DocumentValidation {
    /// Whether the document satisfies the contract.
    pub valid: bool,
    /// The first violations (empty when valid), at most `--max-errors-per-record`.
    pub errors: Vec<Violation>,
    /// How many violations the document has (`errors` lists the first ones).
    pub errors_total: usize,
    /// What it was checked against.
    pub contract: ValidatedContract,
}

/// One rejected NDJSON line: its violations, or why it could not be read.
#[derive(Debug, Serialize)]
pub struct LineErrors {
    /// The line number, from 1.
    pub line: u64,
    /// The first violations of a line that parsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<Violation>>,
    /// How many violations the line has (`errors` lists the first ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors_total: Option<usize>,
    /// Why a line is not a JSON document (not JSON, not UTF-8, too long).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
}

/// The answer for an NDJSON stream.
#[derive(Debug, Default, Serialize)]
pub struct StreamValidation {
    /// What it was checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract: Option<ValidatedContract>,
    /// Non-blank lines.
    pub records: u64,
    /// Records that satisfy the contract.
    pub valid: u64,
    /// Records that parsed and do not satisfy it.
    pub invalid: u64,
    /// Lines that are not a JSON document.
    pub unparsable: u64,
    /// Rejected lines in all (`invalid + unparsable`); `errors` lists the first ones.
    pub errors_total: u64,
    /// The first rejected lines, in input order: at most [`MAX_LISTED_LINES`], and
    /// no more once they hold `--max-validate-answer-bytes` of messages.
    pub errors: Vec<LineErrors>,
    /// The bytes of messages and pointers the listed lines hold.
    #[serde(skip)]
    listed_bytes: usize,
}

impl LineErrors {
    /// About how many bytes the line takes in the answer.
    fn size(&self) -> usize {
        let violations = self
            .errors
            .iter()
            .flatten()
            .map(|v| v.message.len() + v.instance_path.len() + v.schema_path.len() + 64);
        64 + self.parse_error.as_ref().map_or(0, String::len) + violations.sum::<usize>()
    }
}

/// Room left in a stream's listing of rejected lines.
#[derive(Debug, Clone, Copy)]
struct Room {
    lines: usize,
    bytes: usize,
}

impl Room {
    fn of(summary: &StreamValidation, limits: &Limits) -> Self {
        Self {
            lines: MAX_LISTED_LINES.saturating_sub(summary.errors.len()),
            bytes: limits
                .max_validate_answer_bytes
                .saturating_sub(summary.listed_bytes),
        }
    }

    fn left_in(self, part: &StreamValidation) -> bool {
        part.errors.len() < self.lines && part.listed_bytes < self.bytes
    }
}

impl StreamValidation {
    /// Adds a part checked with the room this summary had (so its listing fits).
    fn merge(&mut self, part: StreamValidation) {
        self.records += part.records;
        self.valid += part.valid;
        self.invalid += part.invalid;
        self.unparsable += part.unparsable;
        self.errors_total += part.errors_total;
        self.listed_bytes += part.listed_bytes;
        self.errors.extend(part.errors);
    }

    fn list(&mut self, line: LineErrors) {
        self.listed_bytes += line.size();
        self.errors.push(line);
    }

    fn reject_unparsable(&mut self, line: u64, why: String, listed: bool) {
        self.records += 1;
        self.unparsable += 1;
        self.errors_total += 1;
        if listed {
            self.list(LineErrors {
                line,
                errors: None,
                errors_total: None,
                parse_error: Some(why),
            });
        }
    }
}

/// What the body is, by its `Content-Type`.
enum Media {
    Json,
    Ndjson,
}

fn media(headers: &HeaderMap) -> Result<Media, ApiError> {
    let essence = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => Ok(Media::Json),
        Some("application/x-ndjson" | "application/ndjson") => Ok(Media::Ndjson),
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send Content-Type: application/json (one document) or application/x-ndjson (one document per line)",
        )),
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "validation task failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; the cause is in the server log",
    )
}

/// `POST /contracts/{name}/versions/{selector}/validate`: check one JSON document or
/// an NDJSON stream against a version.
pub async fn validate_payload(
    State(state): State<AppState>,
    ApiPath((name, sel)): ApiPath<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    let media = media(request.headers())?;
    let name = super::native::existing_name(&name)?;
    let sel = super::native::selector(&sel)?;
    let (version, validator) = resolve(&state, &name, &sel).await?;
    match media {
        Media::Json => {
            // Through `Json`: the router's body limit (413) and JSON syntax (400) apply.
            let document = match ApiJson::<Value>::from_request(request, &state).await {
                Ok(ApiJson(document)) => document,
                Err(e) => {
                    if e.status == StatusCode::BAD_REQUEST {
                        record(&state, &name, 0, 0, 1);
                    }
                    return Err(e);
                }
            };
            let caps = state.limits.violation_caps();
            let errors = tokio::task::spawn_blocking(move || {
                let mut errors = violations(&validator, &document, false, caps);
                if errors.is_empty() && !validator.is_valid(&document) {
                    errors.push(unexplained());
                }
                errors
            })
            .await
            .map_err(internal)?;
            let valid = u64::from(errors.is_empty());
            record(&state, &name, valid, 1 - valid, 0);
            Ok(Json(DocumentValidation {
                valid: errors.is_empty(),
                errors_total: errors.total,
                errors: errors.listed,
                contract: (&version).into(),
            })
            .into_response())
        }
        Media::Ndjson => {
            let mut summary =
                validate_stream(request.into_body(), validator, *state.limits).await?;
            record(
                &state,
                &name,
                summary.valid,
                summary.invalid,
                summary.unparsable,
            );
            summary.contract = Some((&version).into());
            Ok(Json(summary).into_response())
        }
    }
}

/// Counts checked records in `/metrics` (the contract exists: it was resolved).
fn record(state: &AppState, name: &ContractName, valid: u64, invalid: u64, unparsable: u64) {
    if let Some(metrics) = &state.metrics {
        metrics.validated(name.as_str(), valid, invalid, unparsable);
    }
}

async fn resolve(
    state: &AppState,
    name: &ContractName,
    sel: &VersionSelector,
) -> Result<(VersionRecord, Arc<jsonschema::Validator>), ApiError> {
    let version = state.registry.find_version(name, sel).await?;
    let validator = state.registry.validator(version.schema_id).await?;
    Ok((version, validator))
}

/// A violation for the rare record that `is_valid` rejects and `iter_errors` does
/// not explain, so that a rejected record never comes without a reason.
fn unexplained() -> Violation {
    Violation {
        instance_path: String::new(),
        schema_path: String::new(),
        message: "the record does not satisfy the schema".to_owned(),
    }
}

fn too_long(len: u64, limits: Limits) -> String {
    format!(
        "the line is {len} bytes long, more than the limit of {} bytes",
        limits.max_validate_line_bytes
    )
}

/// Reads the body frame by frame and checks its lines chunk by chunk.
async fn validate_stream(
    mut body: Body,
    validator: Arc<jsonschema::Validator>,
    limits: Limits,
) -> Result<StreamValidation, ApiError> {
    let mut summary = StreamValidation::default();
    // Unchecked bytes: whole lines, then the start of a line (from `partial`).
    let mut buf: Vec<u8> = Vec::new();
    let mut partial = 0;
    // The number of the first line in `buf`.
    let mut line_no: u64 = 1;
    // The length so far of an over-long line being skipped.
    let mut skipping: Option<u64> = None;
    let mut total: usize = 0;

    while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| {
            if super::error::is_body_timeout(&e) {
                return super::error::body_timeout();
            }
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body-read-failed",
                format!("cannot read the request body: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if total > limits.max_validate_bytes {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                format!(
                    "the NDJSON body is larger than {} bytes (--max-validate-bytes)",
                    limits.max_validate_bytes
                ),
            ));
        }
        let mut data = &data[..];
        if let Some(len) = skipping.as_mut() {
            match memchr::memchr(b'\n', data) {
                None => {
                    *len += data.len() as u64;
                    continue;
                }
                Some(i) => {
                    let len = *len + i as u64;
                    let listed = Room::of(&summary, &limits).left_in(&StreamValidation::default());
                    summary.reject_unparsable(line_no, too_long(len, limits), listed);
                    line_no += 1;
                    skipping = None;
                    data = &data[i + 1..];
                }
            }
        }
        let old_len = buf.len();
        buf.extend_from_slice(data);
        if let Some(i) = memchr::memrchr(b'\n', data) {
            partial = old_len + i + 1;
        }
        let over_long = buf.len() - partial > limits.max_validate_line_bytes;
        if partial >= CHUNK_BYTES || (over_long && partial > 0) {
            let rest = buf.split_off(partial);
            let whole = std::mem::replace(&mut buf, rest);
            partial = 0;
            line_no = check_chunk(&mut summary, &validator, whole, line_no, limits).await?;
        }
        if over_long {
            skipping = Some(buf.len() as u64);
            buf.clear();
        }
    }
    if let Some(len) = skipping {
        let listed = Room::of(&summary, &limits).left_in(&StreamValidation::default());
        summary.reject_unparsable(line_no, too_long(len, limits), listed);
    } else if !buf.is_empty() {
        check_chunk(&mut summary, &validator, buf, line_no, limits).await?;
    }
    Ok(summary)
}

/// Checks whole lines on the blocking pool; returns the number of the next line.
async fn check_chunk(
    summary: &mut StreamValidation,
    validator: &Arc<jsonschema::Validator>,
    chunk: Vec<u8>,
    first_line: u64,
    limits: Limits,
) -> Result<u64, ApiError> {
    let validator = Arc::clone(validator);
    let room = Room::of(summary, &limits);
    let (part, next) = tokio::task::spawn_blocking(move || {
        check_lines(&validator, &chunk, first_line, room, limits)
    })
    .await
    .map_err(internal)?;
    summary.merge(part);
    Ok(next)
}

/// Checks every line of `data` (the last one may lack its newline), listing rejected
/// lines while there is `room`; violations are collected only for listed lines, the
/// others take the fast `is_valid` path.
fn check_lines(
    validator: &jsonschema::Validator,
    data: &[u8],
    first_line: u64,
    room: Room,
    limits: Limits,
) -> (StreamValidation, u64) {
    let mut out = StreamValidation::default();
    let mut lines = Lines::new(data, first_line);
    for Line {
        number: this_line,
        start,
        end,
    } in lines.by_ref()
    {
        let line = &data[start..end];
        let listed = room.left_in(&out);
        if line.len() > limits.max_validate_line_bytes {
            out.reject_unparsable(this_line, too_long(line.len() as u64, limits), listed);
            continue;
        }
        let value: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                let why = match std::str::from_utf8(line) {
                    Err(u) => format!("not UTF-8: {u}"),
                    Ok(_) => format!("not JSON: {e}"),
                };
                out.reject_unparsable(this_line, why, listed);
                continue;
            }
        };
        out.records += 1;
        if validator.is_valid(&value) {
            out.valid += 1;
            continue;
        }
        out.invalid += 1;
        out.errors_total += 1;
        if listed {
            let mut errors = violations(validator, &value, false, limits.violation_caps());
            if errors.is_empty() {
                errors.push(unexplained());
            }
            out.list(LineErrors {
                line: this_line,
                errors_total: Some(errors.total),
                errors: Some(errors.listed),
                parse_error: None,
            });
        }
    }
    (out, lines.next_number())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{NoResolver, ParseOptions, Schema, build_validator};
    use serde_json::json;

    fn validator() -> jsonschema::Validator {
        let schema = Schema::from_value(
            json!({"type": "object", "required": ["id"], "properties": {"email": {"format": "email"}}}),
            &ParseOptions::default(),
            &NoResolver,
        )
        .unwrap();
        build_validator(&schema, true).unwrap()
    }

    fn lines(lines: usize) -> Room {
        Room {
            lines,
            bytes: usize::MAX,
        }
    }

    fn limits() -> Limits {
        Limits {
            max_validate_bytes: 1 << 20,
            max_validate_line_bytes: 64,
            ..Limits::default()
        }
    }

    #[test]
    fn lines_are_counted_by_outcome_and_numbered_with_blank_lines() {
        let data =
            b"{\"id\":1}\n\n{\"x\":1}\nnope\n{\"id\":2,\"email\":\"Jane <j@example.com>\"}\n";
        let (out, next) = check_lines(&validator(), data, 1, lines(10), limits());
        assert_eq!(
            (out.records, out.valid, out.invalid, out.unparsable),
            (4, 1, 2, 1)
        );
        assert_eq!(next, 6);
        let lines: Vec<u64> = out.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(
            out.errors[1]
                .parse_error
                .as_deref()
                .unwrap()
                .starts_with("not JSON")
        );
        assert_eq!(
            out.errors[2].errors.as_ref().unwrap()[0].instance_path,
            "/email"
        );
    }

    /// A body that hands out its bytes `size` at a time, one frame each.
    struct Frames {
        data: Vec<u8>,
        size: usize,
    }

    impl HttpBody for Frames {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            if self.data.is_empty() {
                return std::task::Poll::Ready(None);
            }
            let n = self.size.min(self.data.len());
            let rest = self.data.split_off(n);
            let frame = std::mem::replace(&mut self.data, rest);
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(frame.into()))))
        }
    }

    fn summarise(body: &[u8], size: usize, limits: Limits) -> Value {
        let body = Body::new(Frames {
            data: body.to_vec(),
            size,
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let summary = rt
            .block_on(validate_stream(body, Arc::new(validator()), limits))
            .unwrap();
        serde_json::to_value(summary).unwrap()
    }

    #[test]
    fn the_summary_does_not_depend_on_how_the_body_is_cut_into_frames() {
        let long = format!("{{\"id\": 1, \"pad\": \"{}\"}}", "x".repeat(100));
        let body = format!(
            "{{\"id\":1}}\n{long}\n\n{{\"x\":1}}\n{long}\nnope\n{long}\n{{\"id\":2}}\n{long}"
        );
        let whole = summarise(body.as_bytes(), body.len(), limits());
        assert_eq!(whole["records"], 8);
        assert_eq!(whole["valid"], 2);
        assert_eq!(whole["invalid"], 1);
        assert_eq!(whole["unparsable"], 5);
        let lines: Vec<&Value> = whole["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["line"])
            .collect();
        assert_eq!(
            lines,
            [
                &json!(2),
                &json!(4),
                &json!(5),
                &json!(6),
                &json!(7),
                &json!(9)
            ]
        );
        assert!(
            whole["errors"][0]["parse_error"]
                .as_str()
                .unwrap()
                .contains("120 bytes long")
        );
        for size in 1..=body.len() {
            assert_eq!(
                summarise(body.as_bytes(), size, limits()),
                whole,
                "frames of {size} bytes"
            );
        }
    }

    #[test]
    fn only_the_first_rejected_lines_are_listed_but_all_are_counted() {
        let data = "{}\n".repeat(5);
        let (out, _) = check_lines(&validator(), data.as_bytes(), 1, lines(2), limits());
        assert_eq!((out.invalid, out.errors_total, out.errors.len()), (5, 5, 2));
    }
}
