//! What the registry counts for `/metrics`: registrations by outcome, refusals by rule
//! id, and how long compatibility checks take.
//!
//! These live in the registry, not in the HTTP layer, because both APIs register
//! through [`Registry::register`](super::Registry::register) and only the registry
//! knows a refusal's rules and a check's duration. They are
//! [`prometheus_client`] handles (atomics behind an `Arc`): the server's metrics
//! registry holds clones of them, so nothing is copied at scrape time. Every label
//! value is a `&'static str` from a fixed set: outcome names, refusal codes and the
//! engine's rule ids.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use super::{Registered, RegistryError, refused_rules};

/// The label of a registration's outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `created`, `unchanged`, `refused`, `invalid` or `failed`.
    pub outcome: &'static str,
}

/// The labels of one rule of a refusal.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// The refusal's code (`incompatible-change`, `version-too-small`,
    /// `version-not-greater`).
    pub refusal: &'static str,
    /// A compatibility rule id, or `none` for a refusal of the declared number alone.
    pub rule: &'static str,
}

/// The registry's counters and histograms.
#[derive(Debug, Clone)]
pub struct Outcomes {
    /// Registrations by outcome.
    pub registrations: Family<OutcomeLabel, Counter>,
    /// Refused registrations, once per rule id of each.
    pub refusals: Family<RefusalLabels, Counter>,
    /// Seconds a compatibility check against previous versions took (first versions,
    /// which compare with nothing, are not counted).
    pub check_seconds: Histogram,
}

impl Default for Outcomes {
    fn default() -> Self {
        // 0.25 ms to about 4 s: most checks take well under a millisecond; the engine's
        // step and memory bounds stop a hostile pair within seconds.
        let buckets = prometheus_client::metrics::histogram::exponential_buckets(0.000_25, 4.0, 8);
        Self {
            registrations: Family::default(),
            refusals: Family::default(),
            check_seconds: Histogram::new(buckets),
        }
    }
}

impl Outcomes {
    /// Counts a registration's result.
    pub(super) fn registered(&self, result: &Result<Registered, RegistryError>) {
        let outcome = match result {
            Ok(Registered::Created { .. }) => "created",
            Ok(Registered::Existing(_)) => "unchanged",
            Err(RegistryError::Refused(refusal)) => {
                let rules = refused_rules(refusal);
                let refusal = refusal.code();
                if rules.is_empty() {
                    self.refusals
                        .get_or_create(&RefusalLabels {
                            refusal,
                            rule: "none",
                        })
                        .inc();
                }
                for rule in rules {
                    self.refusals
                        .get_or_create(&RefusalLabels { refusal, rule })
                        .inc();
                }
                "refused"
            }
            Err(RegistryError::InvalidSchema(_) | RegistryError::TooComplex(_)) => "invalid",
            Err(_) => "failed",
        };
        self.registrations
            .get_or_create(&OutcomeLabel { outcome })
            .inc();
    }

    /// Records a compatibility check's duration.
    pub(super) fn checked(&self, took: Duration) {
        self.check_seconds.observe(took.as_secs_f64());
    }
}
