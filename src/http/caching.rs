//! HTTP caching for schema documents: strong `ETag`s from fingerprints,
//! `If-None-Match`, and `Cache-Control` by how stable the answer is.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// For answers that can never change: exact live versions (schema and version JSON)
/// and schema ids.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For answers that move when a version is registered or deleted: `latest`, ranges,
/// and deleted versions.
pub const SHORT: &str = "public, max-age=5";

/// The strong entity tag for a fingerprint: `"<fingerprint>"`.
pub fn etag(fingerprint: &str) -> String {
    format!("\"{fingerprint}\"")
}

/// Whether the request's `If-None-Match` matches `tag` (weak comparison, `*` matches).
pub fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|list| {
            list.split(',')
                .map(str::trim)
                .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
        })
}

/// A JSON body with caching headers, or a 304 when the client already has it.
pub fn cached(
    headers: &HeaderMap,
    tag: &str,
    cache_control: &'static str,
    body: String,
) -> Response {
    let tag_value = HeaderValue::from_str(tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    let cache = HeaderValue::from_static(cache_control);
    if not_modified(headers, tag) {
        return (
            StatusCode::NOT_MODIFIED,
            [(ETAG, tag_value), (CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (ETAG, tag_value),
            (CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_inm(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn if_none_match_matches_its_tag_in_a_list_weakly_or_by_star() {
        assert!(not_modified(&with_inm("\"abc\""), "\"abc\""));
        assert!(not_modified(&with_inm("\"x\", W/\"abc\""), "\"abc\""));
        assert!(not_modified(&with_inm("*"), "\"abc\""));
        assert!(!not_modified(&with_inm("\"abd\""), "\"abc\""));
        assert!(!not_modified(&HeaderMap::new(), "\"abc\""));
    }
}
