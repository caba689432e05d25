//! The public pairwise diff: builds both models, walks them, and turns findings into
//! [`Change`]s with the directions they break under the policy.

use crate::domain::Policy;
use crate::schema::Schema;

use super::model::Model;
use super::walk::{self, Budget, Finding};
use super::witness;
use super::{Change, CompatError};

/// The changes from `old` to `new`, in the BACKWARD sense (old data read with the new
/// schema), each marked with the directions it breaks under `policy`.
pub fn diff(old: &Schema, new: &Schema, policy: Policy) -> Result<Vec<Change>, CompatError> {
    let (om, nm) = (Model::build(old), Model::build(new));
    diff_models(old, &om, new, &nm, policy, &mut Budget::default())
}

/// [`diff`] over models built once (the transitive check reuses the candidate's).
pub(crate) fn diff_models<'d>(
    old: &Schema,
    om: &Model<'d>,
    new: &Schema,
    nm: &Model<'d>,
    policy: Policy,
    budget: &mut Budget,
) -> Result<Vec<Change>, CompatError> {
    let mut changes = changes_of(old, om, new, nm, policy, budget)?;
    witness::attach(old, new, &mut changes);
    Ok(changes)
}

/// [`diff_models`] without witnesses: each change keeps the walk's local hint in
/// `witness`, for [`witness::attach`] to verify (or drop) later.
pub(crate) fn changes_of<'d>(
    old: &Schema,
    om: &Model<'d>,
    new: &Schema,
    nm: &Model<'d>,
    policy: Policy,
    budget: &mut Budget,
) -> Result<Vec<Change>, CompatError> {
    let findings = raw(old, om, new, nm, policy, budget)?;
    Ok(findings.into_iter().map(|f| to_change(f, policy)).collect())
}

/// The findings of the walk old → new, before witnesses.
pub(crate) fn raw<'d>(
    old: &Schema,
    om: &Model<'d>,
    new: &Schema,
    nm: &Model<'d>,
    policy: Policy,
    budget: &mut Budget,
) -> Result<Vec<Finding>, CompatError> {
    // Equal documents have no changes. Comparing the values costs no allocation, where
    // the fingerprints would write both canonical texts; documents equal only in
    // their canonical form (`1.0` and `1`) are walked, and the walk finds nothing.
    if old.value() == new.value()
        && old.external_uris().is_empty()
        && new.external_uris().is_empty()
    {
        return Ok(Vec::new());
    }
    walk::run(om, nm, policy, budget)
}

pub(super) fn to_change(f: Finding, policy: Policy) -> Change {
    let (instance_path, f) = f.into_parts();
    Change {
        rule: f.rule.id(),
        breaks: f.rule.broken_directions(policy),
        annotation: f.rule.is_annotation(),
        old_pointer: f.old_pointer,
        new_pointer: f.new_pointer,
        instance_path,
        old: f.old,
        new: f.new,
        message: f.message,
        witness: f.local_witness,
        witnesses: None,
        forward_hint: None,
    }
}
