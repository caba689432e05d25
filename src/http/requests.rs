//! What happens around every request, outermost of the router's layers ([`observe`]):
//! its id, the span that carries the id on every log line of the request, the id
//! echoed in the answer's `x-request-id`, one log line when it is answered, and its
//! count and duration in `/metrics`.
//!
//! The request id is the client's `x-request-id` when it is well-formed (1 to 64 of
//! `A-Z a-z 0-9 - _ . : = + /`, enough for UUIDs and tracing headers, nothing a log
//! reader could mistake), otherwise a fresh one. The audit row of a change records it.
//!
//! The log line names the route template, method, status, latency and principal (the
//! token's name, never its text); never a body, a schema, a payload or a credential.
//! It is a DEBUG event of target `accord::request` (`ACCORD_LOG=info,accord::request=debug`):
//! a line per request costs more than the fetch routes' answer itself, so it is off by
//! default. The span is INFO, so warnings and errors inside a request carry its id.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::AppState;
use super::auth::Authentication;
use super::metrics::{RequestLabels, UNMATCHED};

/// The header a request id is read from and echoed in.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client.
const MAX_REQUEST_ID: usize = 64;

/// A request's id, in its extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

/// The outer layer of every request: id, span, log line, metrics.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id: Arc<str> = request_id(request.headers()).into();
    let method = method_label(request.method());
    let matched = request.extensions().get::<MatchedPath>().cloned();
    request.extensions_mut().insert(RequestId(Arc::clone(&id)));
    let span = tracing::info_span!("request", request.id = %id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let took = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let route = matched.as_ref().map(MatchedPath::as_str);
    if let Some(metrics) = &state.metrics {
        let labels = RequestLabels {
            route: metrics.route(route),
            method,
            status,
        };
        metrics.request(&labels, took);
    }
    if tracing::enabled!(target: "accord::request", tracing::Level::DEBUG) {
        let principal = match response.extensions().get::<Authentication>() {
            Some(Authentication::Principal(p)) => p.identity.to_string(),
            Some(Authentication::Refused(_)) => "refused".to_owned(),
            None => "none".to_owned(),
        };
        let _entered = span.enter();
        tracing::debug!(
            target: "accord::request",
            principal,
            http.route = route.unwrap_or(UNMATCHED),
            http.method = method,
            http.status = status,
            duration_ms = took.as_secs_f64() * 1000.0,
            "answered"
        );
    }
    response
}

/// A method as a label: the ones routes answer, and `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The request's id: the client's `x-request-id` when it is well-formed, else a fresh
/// one.
pub(crate) fn request_id(headers: &HeaderMap) -> String {
    if let Some(given) = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok())
        && well_formed(given)
    {
        return given.to_owned();
    }
    new_request_id()
}

fn well_formed(id: &str) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:=+/".contains(&b))
}

/// A fresh request id: 16 hex digits, unique within the process and hard to guess
/// (a counter scrambled by a per-process random key), made without a system call.
fn new_request_id() -> String {
    static KEY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let key = *KEY.get_or_init(|| {
        let mut bytes = [0u8; 8];
        // Without randomness the ids are still unique; only less hard to guess.
        let _ = getrandom::fill(&mut bytes);
        u64::from_le_bytes(bytes)
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", splitmix(n ^ key))
}

/// SplitMix64's finaliser: a bijection on u64, so distinct counters give distinct ids.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_distinct() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn a_usable_client_request_id_is_kept_and_a_bad_one_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, "abc-123".parse().unwrap());
        assert_eq!(request_id(&headers), "abc-123");
        let uuid = "3f2b8c1e-5d4a-4f6b-9c7d-0e1f2a3b4c5d";
        headers.insert(REQUEST_ID, uuid.parse().unwrap());
        assert_eq!(request_id(&headers), uuid);
        for bad in ["has space", "quote\"d", "a{b}", "back\\slash", ""] {
            headers.insert(REQUEST_ID, bad.parse().unwrap());
            assert_ne!(request_id(&headers), bad);
        }
        headers.insert(REQUEST_ID, "x".repeat(65).parse().unwrap());
        assert_eq!(request_id(&headers).len(), 16);
    }
}
