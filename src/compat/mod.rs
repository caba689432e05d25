//! The compatibility engine: what changed between two schemas, which direction each
//! change breaks, whether a mode and policy allow it, and the semantic-version bump
//! it requires.
//!
//! A breaking change is data ([`Change`] in a [`Report`]), never an error;
//! [`CompatError`] means the comparison itself could not be completed.
//!
//! - `model`: a schema as a graph of typed nodes (drafts unified, `$ref` transparent).
//! - `walk`: the structural comparison of two graphs, producing findings.
//! - `rules`: the rule table: ids and which directions each rule breaks.
//! - `witness`: verified instances showing each breaking change, per direction.
//! - `check`: modes, transitivity and the required bump.
//! - `language`: `pattern`s compared as regular languages, on DFAs.
//! - `fields`: what a new schema does to a reader of some fields, and which fields a
//!   schema has.

mod check;
mod diff;
mod fields;
mod language;
mod model;
mod report;
pub mod rules;
mod walk;
mod witness;

pub use check::{check, compare, is_compatible};
pub use diff::diff;
pub use fields::{Fields, ReaderCheck, ReaderVerdict, check_reader, has_field};
pub use report::{Change, CompatError, Exhausted, Place, Previous, Report, Witnesses};
pub use rules::Rule;
