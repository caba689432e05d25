//! `GET /metrics`: the server's counters in the Prometheus text format (OpenMetrics
//! 1.0, which Prometheus reads natively), through the Prometheus project's Rust client.
//!
//! Two kinds of metric:
//! - kept up to date as things happen: requests (in [`super::requests`]), validated
//!   records, and the registry's registrations and check durations
//!   ([`crate::registry::Outcomes`]); the metrics registry holds clones of their
//!   handles, so a scrape copies nothing;
//! - computed when scraped: readiness (as `/readyz`), contract and version counts
//!   (three counts in the database, at most once per [`COUNTS_FRESH`] however often
//!   the endpoint is scraped), the database pool, the in-memory caches and the build
//!   version. A database that does not answer within [`DATABASE_DEADLINE`] gives
//!   `accord_ready 0` and no counts, never a failed scrape.
//!
//! Every label is bounded: route templates (axum's `MatchedPath`, never a raw path:
//! `unmatched` for anything that matched no route), a fixed list of methods, status
//! codes, outcome names, refusal codes and rule ids. The one label that carries a
//! contract name (validated records) is set only after the contract was found, so
//! the number of contracts bounds it. docs/operations.md lists every metric.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry as MetricsRegistry, Unit};

use super::AppState;
use super::error::ApiError;
use crate::registry::Registry;
use crate::store::{Counts, Readiness};

/// How long the database counts are served before a scrape counts again.
const COUNTS_FRESH: Duration = Duration::from_secs(10);

/// How long a scrape waits for the database (readiness, counts): a scrape answers
/// even when the database hangs, with `accord_ready 0` and without the counts.
const DATABASE_DEADLINE: Duration = Duration::from_millis(800);

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// The labels of a served request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template (`/api/v1/schemas/{id}`), or `unmatched`.
    pub route: &'static str,
    /// The method (`GET`, …; `other` for methods no route answers).
    pub method: &'static str,
    /// The answer's status code.
    pub status: u16,
}

/// The label of a request duration.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The route template, or `unmatched`.
    pub route: &'static str,
}

/// The labels of validated records.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ValidationLabels {
    /// The contract (one that exists: the number of contracts bounds this label).
    pub contract: String,
    /// `valid`, `invalid` or `unparsable`.
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabel {
    cache: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabel {
    version: &'static str,
}

fn request_histogram() -> Histogram {
    // 0.1 ms to about 6.5 s: a cached fetch answers in well under a millisecond, a
    // registration in milliseconds, a hostile check within the request deadline.
    Histogram::new(exponential_buckets(0.000_1, 4.0, 9))
}

/// The server's metrics.
pub struct Metrics {
    registry: MetricsRegistry,
    /// Route templates as `'static` strings, so a request's labels borrow instead of
    /// allocating.
    routes: HashSet<&'static str>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabel, Histogram, fn() -> Histogram>,
    validated: Family<ValidationLabels, Counter>,
    counts: Mutex<Option<(Instant, Counts)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// The metrics of a server answering `routes` (templates) over `registry`.
    pub fn new(registry: &Registry, routes: impl IntoIterator<Item = &'static str>) -> Self {
        let mut metrics = MetricsRegistry::with_prefix("accord");
        let requests = Family::<RequestLabels, Counter>::default();
        metrics.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let durations: Family<RouteLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(request_histogram);
        metrics.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer's headers, by route template",
            Unit::Seconds,
            durations.clone(),
        );
        let validated = Family::<ValidationLabels, Counter>::default();
        metrics.register(
            "validation_records",
            "Records checked by the validate endpoint, by contract and outcome",
            validated.clone(),
        );
        let outcomes = registry.outcomes();
        metrics.register(
            "registrations",
            "Registrations by outcome (created, unchanged, refused, invalid, failed)",
            outcomes.registrations.clone(),
        );
        metrics.register(
            "registration_refusals",
            "Refused registrations, once per compatibility rule id that refused them",
            outcomes.refusals.clone(),
        );
        metrics.register_with_unit(
            "compatibility_check_duration",
            "Time a compatibility check against previous versions took",
            Unit::Seconds,
            outcomes.check_seconds.clone(),
        );
        metrics.register(
            "build",
            "The running binary's version",
            Info::new(VersionLabel {
                version: env!("CARGO_PKG_VERSION"),
            }),
        );
        Self {
            registry: metrics,
            routes: routes.into_iter().collect(),
            requests,
            durations,
            validated,
            counts: Mutex::new(None),
        }
    }

    /// The `'static` form of a matched route template (`unmatched` for any other text).
    pub fn route(&self, matched: Option<&str>) -> &'static str {
        matched
            .and_then(|m| self.routes.get(m).copied())
            .unwrap_or(UNMATCHED)
    }

    /// Counts an answered request and its duration.
    pub fn request(&self, labels: &RequestLabels, took: Duration) {
        self.requests.get_or_create(labels).inc();
        self.durations
            .get_or_create(&RouteLabel {
                route: labels.route,
            })
            .observe(took.as_secs_f64());
    }

    /// Counts records the validate endpoint checked against `contract` (an existing
    /// contract's name).
    pub fn validated(&self, contract: &str, valid: u64, invalid: u64, unparsable: u64) {
        for (outcome, n) in [
            ("valid", valid),
            ("invalid", invalid),
            ("unparsable", unparsable),
        ] {
            if n > 0 {
                self.validated
                    .get_or_create(&ValidationLabels {
                        contract: contract.to_owned(),
                        outcome,
                    })
                    .inc_by(n);
            }
        }
    }

    /// The database counts, read again when older than [`COUNTS_FRESH`]; `None` when
    /// the database does not answer within [`DATABASE_DEADLINE`].
    async fn counts(&self, registry: &Registry) -> Option<Counts> {
        if let Some((at, counts)) = *self.counts.lock().unwrap_or_else(PoisonError::into_inner)
            && at.elapsed() < COUNTS_FRESH
        {
            return Some(counts);
        }
        let counts = match tokio::time::timeout(DATABASE_DEADLINE, registry.store().counts()).await
        {
            Ok(Ok(counts)) => counts,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot count contracts and versions for /metrics");
                return None;
            }
            Err(_) => {
                tracing::warn!(
                    "the database did not count contracts and versions in time for /metrics"
                );
                return None;
            }
        };
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), counts));
        Some(counts)
    }

    /// Whether the database answers and holds this binary's migrations, as `/readyz`.
    async fn ready(registry: &Registry) -> bool {
        matches!(
            tokio::time::timeout(DATABASE_DEADLINE, registry.store().readiness()).await,
            Ok(Ok(Readiness::Ready))
        )
    }

    /// The text of a scrape.
    async fn render(
        &self,
        registry: &Registry,
        cache_stats: Vec<crate::cache::CacheStats>,
    ) -> Result<String, ApiError> {
        let mut now = MetricsRegistry::with_prefix("accord");
        let gauge = |value: i64| {
            let g = Gauge::<i64>::default();
            g.set(value);
            g
        };
        let ready = Self::ready(registry).await;
        now.register(
            "ready",
            "1 when the database answers and holds this binary's migrations (as /readyz), else 0",
            gauge(i64::from(ready)),
        );
        // Without the database the counts are left out; the rest still answers.
        if let Some(counts) = self.counts(registry).await {
            now.register(
                "contracts",
                "Contracts in the database",
                gauge(counts.contracts),
            );
            now.register(
                "versions",
                "Versions in the database, soft-deleted ones included",
                gauge(counts.versions),
            );
            now.register(
                "live_versions",
                "Versions in the database that are not soft-deleted",
                gauge(counts.live_versions),
            );
        }
        let pool = registry.store().pool_state();
        now.register(
            "db_pool_connections",
            "Open database connections, in use or idle",
            gauge(i64::from(pool.size)),
        );
        now.register(
            "db_pool_idle_connections",
            "Open database connections not in use",
            gauge(i64::from(pool.idle)),
        );
        let hits = Family::<CacheLabel, Counter>::default();
        let misses = Family::<CacheLabel, Counter>::default();
        let entries = Family::<CacheLabel, Gauge>::default();
        for stats in cache_stats {
            let label = CacheLabel { cache: stats.name };
            hits.get_or_create(&label).inc_by(stats.hits);
            misses.get_or_create(&label).inc_by(stats.misses);
            entries
                .get_or_create(&label)
                .set(i64::try_from(stats.entries).unwrap_or(i64::MAX));
        }
        now.register(
            "cache_hits",
            "Lookups answered from an in-memory cache",
            hits,
        );
        now.register(
            "cache_misses",
            "Lookups an in-memory cache could not answer",
            misses,
        );
        now.register("cache_entries", "Entries an in-memory cache holds", entries);
        let mut text = String::with_capacity(16 * 1024);
        encode_registry(&mut text, &self.registry)
            .and_then(|()| encode_registry(&mut text, &now))
            .and_then(|()| encode_eof(&mut text))
            .map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the metrics could not be encoded",
                )
            })?;
        Ok(text)
    }
}

/// The content type of the OpenMetrics text format.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(metrics) = &state.metrics else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "metrics-off",
            "this server runs with --no-metrics: it records no metrics",
        ));
    };
    let text = metrics.render(&state.registry, state.cache_stats()).await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS))],
        text,
    )
        .into_response())
}

/// Shared handle, as the state holds it.
pub type SharedMetrics = Option<Arc<Metrics>>;
