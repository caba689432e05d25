//! Caching of fetched contracts: HTTP freshness (`Cache-Control`, `ETag`) and the
//! on-disk copy that lets a consumer start while the registry is unreachable.
//!
//! Layout: `<dir>/<registry key>/<contract name>/<selector>.json`, where the registry
//! key is a short hash of the base URL (two registries never share entries), the
//! name is a validated contract name (safe as a file name) and the selector is
//! percent-encoded. Each file holds the registry's answer and its freshness. Files
//! are replaced atomically (write, then rename); an unreadable file is a cache miss.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{CACHE_CONTROL, ETAG, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How long an answer may be used without asking the registry again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Freshness {
    /// The `ETag`, sent back as `If-None-Match` to revalidate.
    pub etag: Option<String>,
    /// When the answer was received or last revalidated (seconds since the epoch).
    pub fetched_at: u64,
    /// `max-age`, in seconds; `None` when the registry gave none (always revalidate).
    pub max_age: Option<u64>,
    /// `immutable`: never asked again.
    pub immutable: bool,
    /// `no-store`: not written to disk.
    #[serde(default)]
    pub no_store: bool,
}

impl Freshness {
    /// Reads `ETag` and `Cache-Control` from a response received at `now`.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        let mut f = Freshness {
            etag: headers
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            fetched_at: unix_seconds(now),
            max_age: None,
            immutable: false,
            no_store: false,
        };
        let mut no_cache = false;
        for directive in headers
            .get_all(CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
        {
            let directive = directive.trim().to_ascii_lowercase();
            match directive.split_once('=') {
                Some(("max-age", secs)) => f.max_age = secs.trim_matches('"').parse().ok(),
                _ if directive == "immutable" => f.immutable = true,
                _ if directive == "no-cache" => no_cache = true,
                _ if directive == "no-store" => f.no_store = true,
                _ => {}
            }
        }
        if no_cache || f.no_store {
            f.max_age = Some(0);
            f.immutable = false;
        }
        f
    }

    /// Whether the answer may be used at `now` without asking the registry.
    pub fn is_fresh(&self, now: SystemTime) -> bool {
        if self.immutable {
            return true;
        }
        let now = unix_seconds(now);
        self.max_age
            .is_some_and(|age| now < self.fetched_at.saturating_add(age))
    }

    /// The same answer, revalidated at `now` with these (304) headers.
    pub fn revalidated(&self, headers: &HeaderMap, now: SystemTime) -> Self {
        let mut f = Freshness::from_headers(headers, now);
        if f.etag.is_none() {
            f.etag.clone_from(&self.etag);
        }
        f
    }

    /// How long ago the answer was fetched, in words ("3 min").
    pub fn age(&self, now: SystemTime) -> String {
        let secs = unix_seconds(now).saturating_sub(self.fetched_at);
        match secs {
            0..60 => format!("{secs} s"),
            60..3600 => format!("{} min", secs / 60),
            3600..86400 => format!("{} h", secs / 3600),
            _ => format!("{} days", secs / 86400),
        }
    }
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The registry's answer for one version (`GET /api/v1/contracts/{name}/versions/{selector}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct VersionBody {
    pub name: String,
    pub version: semver::Version,
    #[serde(default)]
    pub seq: Option<i64>,
    pub schema_id: i64,
    pub fingerprint: String,
    pub schema: Value,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub deleted: bool,
    /// The documents the schema's `$ref`s load, by URI (absent when none).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub documents: std::collections::BTreeMap<String, Value>,
}

/// One cache file: an answer and its freshness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CachedAnswer {
    pub freshness: Freshness,
    pub body: VersionBody,
}

/// The on-disk cache of one registry.
#[derive(Debug, Clone)]
pub(crate) struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    /// The default location: `<user cache dir>/accord/contracts` (for example
    /// `~/.cache/accord/contracts` on Linux), if the platform has one.
    pub fn default_dir() -> Option<PathBuf> {
        dirs::cache_dir().map(|d| d.join("accord").join("contracts"))
    }

    /// The cache under `root` for the registry at `base_url`.
    pub fn new(root: &Path, base_url: &str) -> Self {
        let digest = Sha256::digest(base_url.trim_end_matches('/').as_bytes());
        Self {
            dir: root.join(hex::encode(&digest[..8])),
        }
    }

    /// Where the cache lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `name` must be a validated contract name; `selector` any text.
    fn path(&self, name: &str, selector: &str) -> PathBuf {
        let file =
            percent_encoding::utf8_percent_encode(selector, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        self.dir.join(name).join(format!("{file}.json"))
    }

    /// The cached answer, if there is a readable one.
    pub async fn load(&self, name: &str, selector: &str) -> Option<CachedAnswer> {
        let path = self.path(name, selector);
        let bytes = tokio::fs::read(&path).await.ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(answer) => Some(answer),
            Err(e) => {
                tracing::warn!(cache.path = %path.display(), error = %e, "ignoring an unreadable contract cache file");
                None
            }
        }
    }

    /// Stores an answer, replacing the previous one atomically.
    pub async fn store(
        &self,
        name: &str,
        selector: &str,
        answer: &CachedAnswer,
    ) -> std::io::Result<()> {
        let path = self.path(name, selector);
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        tokio::fs::create_dir_all(parent).await?;
        let bytes = serde_json::to_vec(answer).map_err(std::io::Error::other)?;
        let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(cache_control: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CACHE_CONTROL, HeaderValue::from_str(cache_control).unwrap());
        h.insert(ETAG, HeaderValue::from_static("\"abc\""));
        h
    }

    #[test]
    fn an_immutable_answer_stays_fresh_forever() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        let f = Freshness::from_headers(&headers("public, max-age=31536000, immutable"), t0);
        assert!(f.immutable);
        assert_eq!(f.etag.as_deref(), Some("\"abc\""));
        assert!(f.is_fresh(t0 + Duration::from_secs(10 * 31_536_000)));
    }

    #[test]
    fn a_max_age_answer_goes_stale_after_its_age() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        let f = Freshness::from_headers(&headers("public, max-age=5"), t0);
        assert!(f.is_fresh(t0 + Duration::from_secs(4)));
        assert!(!f.is_fresh(t0 + Duration::from_secs(5)));
    }

    #[test]
    fn no_cache_and_missing_cache_control_always_revalidate() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(!Freshness::from_headers(&headers("no-cache, max-age=60"), t0).is_fresh(t0));
        assert!(!Freshness::from_headers(&HeaderMap::new(), t0).is_fresh(t0));
    }

    #[tokio::test]
    async fn answers_round_trip_through_the_disk_and_registries_do_not_mix() {
        let root = tempfile::tempdir().unwrap();
        let a = DiskCache::new(root.path(), "http://a.example:8081");
        let b = DiskCache::new(root.path(), "http://b.example:8081/");
        let answer = CachedAnswer {
            freshness: Freshness::from_headers(&headers("max-age=5"), SystemTime::now()),
            body: VersionBody {
                name: "orders.placed".into(),
                version: semver::Version::new(1, 2, 3),
                seq: Some(3),
                schema_id: 7,
                fingerprint: "f".repeat(64),
                schema: serde_json::json!({"type": "object"}),
                created_at: None,
                deleted: false,
                documents: [(
                    "https://schemas.example.com/customer.json".to_owned(),
                    serde_json::json!({"type": "string"}),
                )]
                .into(),
            },
        };
        a.store("orders.placed", "^1", &answer).await.unwrap();
        assert_eq!(a.load("orders.placed", "^1").await, Some(answer));
        assert_eq!(a.load("orders.placed", "latest").await, None);
        assert_eq!(b.load("orders.placed", "^1").await, None);
    }
}
