//! The compatibility engine: what changed between two schemas, which direction each
//! change breaks, whether a mode and policy allow it, and the semantic-version bump
//! it requires.
//!
//! A breaking change is data ([`Change`] in a [`Report`]), never an error;
//! [`CompatError`] means the comparison itself could not be completed.

mod check;
mod diff;
mod report;

pub use check::{check, compare, is_compatible};
pub use diff::diff;
pub use report::{Change, CompatError, Previous, Report};
