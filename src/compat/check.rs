//! Modes, transitivity and the required bump, on top of the pairwise diff.
//!
//! BACKWARD for (old, new) is the walk old → new; FORWARD is the same walk new → old,
//! exactly as Confluent runs it, so "BACKWARD of (a, b)" and "FORWARD of (b, a)" agree
//! by construction. Reports always list the changes old → new, the way people read a
//! changelog; a forward break that no old → new change explains is added from the
//! reverse walk.

use crate::domain::{Bump, Direction, Mode, Policy};
use crate::schema::Schema;

use super::diff::{changes_of, raw};
use super::model::Model;
use super::report::listed;
use super::walk::{Budget, Finding};
use super::witness;
use super::{Change, CompatError, Previous, Report};

/// Checks `candidate` against `previous` (newest first) under `mode` and `policy`.
///
/// Non-transitive modes compare with `previous[0]` only; transitive modes compare with
/// every entry, newest first, and stop at the first that fails (its label is
/// `failed_version`). With no previous version everything is compatible and the bump is
/// `none` (a first version: nothing to bump from). The bump is derived from the changes
/// against the newest version; under NONE, where nothing is refused, a change that breaks
/// readers still requires `major` (it is numbered as the next major line).
pub fn check(
    candidate: &Schema,
    previous: &[Previous<'_>],
    mode: Mode,
    policy: Policy,
) -> Result<Report, CompatError> {
    let Some(newest) = previous.first() else {
        return Ok(Report {
            compatible: true,
            mode,
            policy,
            required_bump: Bump::None,
            changes: Vec::new(),
            changes_total: 0,
            truncated: false,
            failed_version: None,
            checked_versions: Vec::new(),
        });
    };
    let targets: &[Previous<'_>] = if mode.is_transitive() {
        previous
    } else {
        &previous[..1]
    };
    let mut checked_versions = Vec::new();
    let mut newest_changes: Option<(Vec<Change>, &Schema)> = None;
    // A model is cheap to make: its nodes are built as the walks ask for them.
    let candidate_model = Model::build(candidate);
    // One budget for the whole check: every version, both directions.
    let mut budget = Budget::default();
    for prev in targets {
        checked_versions.push(prev.label.to_owned());
        let om = Model::build(prev.schema);
        let (changes, ok) = pair(
            prev.schema,
            &om,
            candidate,
            &candidate_model,
            mode,
            policy,
            &mut budget,
        )?;
        if !ok {
            let (changes, changes_total) = listed(changes);
            return Ok(Report {
                compatible: false,
                mode,
                policy,
                required_bump: Bump::Major,
                truncated: changes_total > changes.len(),
                changes: with_witnesses(prev.schema, candidate, changes),
                changes_total,
                failed_version: Some(prev.label.to_owned()),
                checked_versions,
            });
        }
        if newest_changes.is_none() {
            newest_changes = Some((changes, prev.schema));
        }
    }
    let (changes, old) = newest_changes.unwrap_or((Vec::new(), newest.schema));
    let required_bump = if newest.schema.fingerprint() == candidate.fingerprint() {
        Bump::None
    } else if mode == Mode::None
        && changes
            .iter()
            .any(|c| c.breaks.contains(&Direction::Backward))
    {
        Bump::Major
    } else if changes.iter().all(|c| c.annotation) {
        Bump::Patch
    } else {
        Bump::Minor
    };
    let (changes, changes_total) = listed(changes);
    Ok(Report {
        compatible: true,
        mode,
        policy,
        required_bump,
        truncated: changes_total > changes.len(),
        changes: with_witnesses(old, candidate, changes),
        changes_total,
        failed_version: None,
        checked_versions,
    })
}

/// Replaces the walk's local witness hints in the listed changes by verified
/// witnesses for each direction they break (only the listed ones: each candidate
/// costs two validations).
fn with_witnesses(old: &Schema, new: &Schema, mut changes: Vec<Change>) -> Vec<Change> {
    witness::attach(old, new, &mut changes);
    changes
}

/// Compares two schemas as a report under `mode` (one old version, no transitivity).
pub fn compare(
    old: &Schema,
    new: &Schema,
    mode: Mode,
    policy: Policy,
) -> Result<Report, CompatError> {
    check(
        new,
        &[Previous {
            label: "old",
            schema: old,
        }],
        mode,
        policy,
    )
}

/// Whether a list of old → new changes is allowed by `mode`, judged by the directions
/// each change is marked to break.
pub fn is_compatible(changes: &[Change], mode: Mode) -> bool {
    changes.iter().all(|c| {
        !(mode.checks_backward() && c.breaks.contains(&Direction::Backward)
            || mode.checks_forward() && c.breaks.contains(&Direction::Forward))
    })
}

/// The old → new changes of one pair and whether `mode` allows them.
fn pair<'d>(
    old: &Schema,
    om: &Model<'d>,
    new: &Schema,
    nm: &Model<'d>,
    mode: Mode,
    policy: Policy,
    budget: &mut Budget,
) -> Result<(Vec<Change>, bool), CompatError> {
    let mut changes = changes_of(old, om, new, nm, policy, budget)?;
    if mode == Mode::None {
        return Ok((changes, true));
    }
    let backward_ok = !mode.checks_backward()
        || changes
            .iter()
            .all(|c| !c.breaks.contains(&Direction::Backward));
    let mut forward_ok = true;
    if mode.checks_forward() {
        let reverse: Vec<_> = raw(new, nm, old, om, policy, budget)
            .map_err(CompatError::turned_around)?
            .into_iter()
            .filter(|f| f.rule.breaks(Direction::Backward, policy))
            .collect();
        forward_ok = reverse.is_empty();
        if !forward_ok
            && !changes
                .iter()
                .any(|c| c.breaks.contains(&Direction::Forward))
        {
            // Explain the forward break with the reverse walk's findings, turned around.
            changes.extend(reverse.into_iter().map(turned_around));
        }
    }
    Ok((changes, backward_ok && forward_ok))
}

/// A finding of the reverse walk (new → old) that breaks it, as an old → new change
/// that breaks FORWARD.
pub(super) fn turned_around(f: Finding) -> Change {
    let (instance_path, f) = f.into_parts();
    Change {
        rule: f.rule.id(),
        breaks: vec![Direction::Forward],
        annotation: false,
        old_pointer: f.new_pointer,
        new_pointer: f.old_pointer,
        instance_path,
        old: f.new,
        new: f.old,
        message: format!("read with the old schema: {}", f.message),
        witness: None,
        witnesses: None,
        // The reverse walk's hint is a local value the new schema accepts and the old
        // one rejects: a FORWARD witness once placed.
        forward_hint: f.local_witness,
    }
}
