//! Who is calling: the [`Caller`] of every request (its principal, a request id and
//! the client's address), found once, here, and handed to handlers as an extractor.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::error::ApiError;
use crate::domain::{Caller, Principal};

/// The header a request id is read from (when the client sent a usable one).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Finds the caller of a request and puts it in the request's extensions.
pub async fn identify(mut request: Request, next: Next) -> Response {
    let caller = Caller {
        principal: Arc::new(Principal::open()),
        request_id: request_id(request.headers()),
        client: client_address(&request),
    };
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The client's address, when the server was started with connection info.
fn client_address(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
}

/// The request's id: the client's `x-request-id` when it is 1 to 64 visible ASCII
/// characters, else a fresh one.
fn request_id(headers: &HeaderMap) -> String {
    if let Some(given) = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok())
        && (1..=64).contains(&given.len())
        && given.bytes().all(|b| b.is_ascii_graphic())
    {
        return given.to_owned();
    }
    new_request_id()
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

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Every route passes through the layer that sets it; a route without it is a
        // bug, answered without serving anyone unauthenticated.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("a route was reached without its caller being identified");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error; the cause is in the server log",
            )
        })
    }
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
        headers.insert(REQUEST_ID, "has space".parse().unwrap());
        assert_ne!(request_id(&headers), "has space");
        headers.insert(REQUEST_ID, "x".repeat(65).parse().unwrap());
        assert_eq!(request_id(&headers).len(), 16);
    }
}
