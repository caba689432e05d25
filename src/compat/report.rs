use serde::Serialize;
use serde_json::Value;

use crate::domain::{Bump, Direction, Mode, Policy};

/// One finding of the diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Stable kebab-case rule id, e.g. `enum-value-removed` (see docs/compatibility.md).
    pub rule: &'static str,
    /// Which directions this change breaks under the report's policy (empty: none).
    pub breaks: Vec<Direction>,
    /// Whether the change only touches annotations (`title`, `description`, …).
    pub annotation: bool,
    /// JSON pointer of the changed node in the old schema, when it exists there.
    pub old_pointer: Option<String>,
    /// JSON pointer of the changed node in the new schema, when it exists there.
    pub new_pointer: Option<String>,
    /// The instance locations affected, as a JSON pointer with `*` for "any item or
    /// property": `/items/*/sku`.
    pub instance_path: String,
    /// The old value (shortened when large).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The new value (shortened when large).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// One line for people.
    pub message: String,
    /// An instance the old schema accepts and the new one rejects, where the engine
    /// can construct one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Value>,
}

/// A previous version to check against.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    /// How the report names it, e.g. `1.4.0`.
    pub label: &'a str,
    /// Its schema.
    pub schema: &'a crate::schema::Schema,
}

/// The answer to "may this schema follow those versions?".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Whether the candidate is compatible under `mode` and `policy`.
    pub compatible: bool,
    /// The mode checked.
    pub mode: Mode,
    /// The policy applied.
    pub policy: Policy,
    /// The bump the changes against the newest previous version require.
    pub required_bump: Bump,
    /// The changes against the newest previous version, or against the version that
    /// failed when a transitive check failed on an older one.
    pub changes: Vec<Change>,
    /// The label of the first version (newest first) the candidate is incompatible with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_version: Option<String>,
    /// The labels of the versions checked, newest first.
    pub checked_versions: Vec<String>,
}

/// The comparison could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompatError {
    /// The schemas are too large or too entangled to compare within the work budget.
    #[error(
        "the comparison needs more than {limit} steps; the schemas are too large or too entangled to compare"
    )]
    Budget {
        /// The step limit.
        limit: usize,
    },
    /// The schemas nest deeper than the engine follows.
    #[error("the schemas nest deeper than {limit} levels (through $ref or directly)")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
}
