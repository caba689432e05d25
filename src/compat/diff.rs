//! The pairwise diff (placeholder until the structural engine lands: any difference in
//! canonical form is reported as one change that breaks both directions).

use crate::domain::{Direction, Policy};
use crate::schema::Schema;

use super::{Change, CompatError};

/// The changes from `old` to `new`.
pub fn diff(old: &Schema, new: &Schema, _policy: Policy) -> Result<Vec<Change>, CompatError> {
    if old.fingerprint() == new.fingerprint() {
        return Ok(Vec::new());
    }
    Ok(vec![Change {
        rule: "schema-changed",
        breaks: vec![Direction::Backward, Direction::Forward],
        annotation: false,
        old_pointer: Some(String::new()),
        new_pointer: Some(String::new()),
        instance_path: String::new(),
        old: None,
        new: None,
        message: "the schema changed".to_owned(),
        witness: None,
    }])
}
