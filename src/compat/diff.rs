//! The public pairwise diff: builds both models, walks them, and turns findings into
//! [`Change`]s with the directions they break under the policy.

use crate::domain::Policy;
use crate::schema::Schema;

use super::model::Model;
use super::walk::{self, Finding};
use super::witness;
use super::{Change, CompatError};

/// The changes from `old` to `new`, in the BACKWARD sense (old data read with the new
/// schema), each marked with the directions it breaks under `policy`.
pub fn diff(old: &Schema, new: &Schema, policy: Policy) -> Result<Vec<Change>, CompatError> {
    let findings = raw(old, new, policy)?;
    let mut changes: Vec<Change> = findings.into_iter().map(|f| to_change(f, policy)).collect();
    witness::attach(old, new, &mut changes);
    Ok(changes)
}

/// The findings of the walk, before witnesses.
pub(crate) fn raw(old: &Schema, new: &Schema, policy: Policy) -> Result<Vec<Finding>, CompatError> {
    if old.fingerprint() == new.fingerprint()
        && old.external_uris().is_empty()
        && new.external_uris().is_empty()
    {
        return Ok(Vec::new());
    }
    let (om, nm) = (Model::build(old), Model::build(new));
    walk::run(&om, &nm, policy)
}

fn to_change(f: Finding, policy: Policy) -> Change {
    Change {
        rule: f.rule.id(),
        breaks: f.rule.broken_directions(policy),
        annotation: f.rule.is_annotation(),
        old_pointer: f.old_pointer,
        new_pointer: f.new_pointer,
        instance_path: if f.instance_path.is_empty() {
            String::new()
        } else {
            f.instance_path
        },
        old: f.old,
        new: f.new,
        message: f.message,
        witness: f.local_witness,
    }
}
