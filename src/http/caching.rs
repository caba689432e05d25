//! HTTP caching for schema documents: strong `ETag`s from fingerprints,
//! `If-None-Match`, and `Cache-Control` by how stable the answer is.
//!
//! The two fetch routes a consumer hits on every start (`/schemas/{id}` and
//! `…/versions/{selector}/schema`) answer from a [`ServedSchema`] built once per schema
//! id: its body shares the registry's cached text and its tag is a ready header
//! value, so an answer costs no copy and no formatting.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::FromRequestParts;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::cache::{Bounded, CacheStats};
use crate::registry::Registry;
use crate::store::SchemaRecord;

/// For answers that can never change: exact live versions (schema and version JSON)
/// and schema ids.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For answers that move when a version is registered or deleted: `latest`, ranges,
/// and deleted versions.
pub const SHORT: &str = "public, max-age=5";

/// The bound on schemas kept ready to serve: 64 MiB of documents (their text is
/// shared with the registry's schema cache while both hold it), in eight shards.
const SERVED_BYTES: u64 = 64 << 20;

/// The strong entity tag for a fingerprint: `"<fingerprint>"`.
pub fn etag(fingerprint: &str) -> HeaderValue {
    // A fingerprint is lowercase hex; anything else would be a store defect, and an
    // empty tag then matches nothing.
    HeaderValue::from_str(&format!("\"{fingerprint}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// The `accord-version` header value of a version.
pub fn version_header(version: &semver::Version) -> Option<HeaderValue> {
    if !version.pre.is_empty() || !version.build.is_empty() {
        return HeaderValue::from_str(&version.to_string()).ok();
    }
    let mut text = [0u8; 3 * 20 + 2];
    let mut len = 0;
    for (i, n) in [version.major, version.minor, version.patch]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            text[len] = b'.';
            len += 1;
        }
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(n).as_bytes();
        text[len..len + digits.len()].copy_from_slice(digits);
        len += digits.len();
    }
    HeaderValue::from_bytes(&text[..len]).ok()
}

/// The request's `If-None-Match` values (usually none), without copying the rest of
/// the headers.
pub struct IfNoneMatch(Vec<HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .headers
                .get_all(IF_NONE_MATCH)
                .iter()
                .cloned()
                .collect(),
        ))
    }
}

impl IfNoneMatch {
    /// Whether the client already holds `tag` (weak comparison, `*` matches).
    pub fn matches(&self, tag: &HeaderValue) -> bool {
        let tag = tag.as_bytes();
        self.0.iter().filter_map(|v| v.to_str().ok()).any(|list| {
            list.split(',').map(str::trim).any(|candidate| {
                candidate == "*" || candidate.trim_start_matches("W/").as_bytes() == tag
            })
        })
    }
}

/// A JSON body with caching headers, or a 304 when the client already has it.
pub fn cached(
    conditional: &IfNoneMatch,
    tag: HeaderValue,
    cache_control: &'static str,
    body: impl Into<Body>,
) -> Response {
    let not_modified = conditional.matches(&tag);
    let mut response = if not_modified {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(body.into());
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        r
    };
    let headers = response.headers_mut();
    headers.insert(ETAG, tag);
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    response
}

/// A schema document ready to serve.
pub struct ServedSchema {
    /// Its entity tag, from the fingerprint.
    pub etag: HeaderValue,
    /// The text as first submitted, shared with the registry's record.
    pub body: Bytes,
}

impl ServedSchema {
    fn of(record: Arc<SchemaRecord>) -> Self {
        struct Text(Arc<SchemaRecord>);
        impl AsRef<[u8]> for Text {
            fn as_ref(&self) -> &[u8] {
                self.0.original.as_bytes()
            }
        }
        Self {
            etag: etag(&record.fingerprint),
            body: Bytes::from_owner(Text(record)),
        }
    }

    /// The answer to a fetch of this document.
    pub fn respond(&self, conditional: &IfNoneMatch, cache_control: &'static str) -> Response {
        cached(
            conditional,
            self.etag.clone(),
            cache_control,
            self.body.clone(),
        )
    }
}

/// Served schemas by id (immutable, so never invalidated).
pub struct ServedSchemas(Bounded<i64, Arc<ServedSchema>>);

impl Default for ServedSchemas {
    fn default() -> Self {
        Self(Bounded::new("served", SERVED_BYTES, 4096, 8))
    }
}

impl ServedSchemas {
    /// Schema `id` ready to serve, built on first use.
    pub async fn get(
        &self,
        registry: &Registry,
        id: i64,
    ) -> Result<Arc<ServedSchema>, crate::registry::RegistryError> {
        if let Some(hit) = self.0.get(&id) {
            return Ok(hit);
        }
        let served = Arc::new(ServedSchema::of(registry.schema(id).await?));
        let weight = served.body.len() as u64 + crate::cache::ENTRY_OVERHEAD;
        self.0.insert(id, Arc::clone(&served), weight);
        Ok(served)
    }

    /// Its hit and miss counts.
    pub fn stats(&self) -> CacheStats {
        self.0.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_inm(v: &str) -> IfNoneMatch {
        IfNoneMatch(vec![HeaderValue::from_str(v).unwrap()])
    }

    #[test]
    fn version_headers_spell_the_version() {
        for v in [
            "0.0.0",
            "1.4.2",
            "18446744073709551615.1.0",
            "2.0.0-rc.1+build.5",
        ] {
            let header = version_header(&semver::Version::parse(v).unwrap()).unwrap();
            assert_eq!(header.to_str().unwrap(), v);
        }
    }

    #[test]
    fn if_none_match_matches_its_tag_in_a_list_weakly_or_by_star() {
        let tag = HeaderValue::from_static("\"abc\"");
        assert!(with_inm("\"abc\"").matches(&tag));
        assert!(with_inm("\"x\", W/\"abc\"").matches(&tag));
        assert!(with_inm("*").matches(&tag));
        assert!(!with_inm("\"abd\"").matches(&tag));
        assert!(!IfNoneMatch(Vec::new()).matches(&tag));
    }
}
