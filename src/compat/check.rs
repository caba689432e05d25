//! Modes, transitivity and the required bump, on top of the pairwise diff.
//!
//! BACKWARD for (old, new) is the walk old → new; FORWARD is the same walk new → old,
//! exactly as Confluent runs it, so "BACKWARD of (a, b)" and "FORWARD of (b, a)" agree
//! by construction. Reports always list the changes old → new, the way people read a
//! changelog; a forward break that no old → new change explains is added from the
//! reverse walk.

use crate::domain::{Bump, Direction, Mode, Policy};
use crate::schema::Schema;

use super::diff::{diff_models, raw};
use super::model::Model;
use super::walk::Finding;
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
    let mut newest_changes: Option<Vec<Change>> = None;
    let candidate_model = Model::build(candidate);
    for prev in targets {
        checked_versions.push(prev.label.to_owned());
        let (changes, ok) = pair(prev.schema, candidate, &candidate_model, mode, policy)?;
        let first = newest_changes.is_none();
        if first {
            newest_changes = Some(changes.clone());
        }
        if !ok {
            return Ok(Report {
                compatible: false,
                mode,
                policy,
                required_bump: Bump::Major,
                changes,
                failed_version: Some(prev.label.to_owned()),
                checked_versions,
            });
        }
    }
    let changes = newest_changes.unwrap_or_default();
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
    Ok(Report {
        compatible: true,
        mode,
        policy,
        required_bump,
        changes,
        failed_version: None,
        checked_versions,
    })
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
fn pair(
    old: &Schema,
    new: &Schema,
    nm: &Model<'_>,
    mode: Mode,
    policy: Policy,
) -> Result<(Vec<Change>, bool), CompatError> {
    let om = Model::build(old);
    let mut changes = diff_models(old, &om, new, nm, policy)?;
    if mode == Mode::None {
        return Ok((changes, true));
    }
    let backward_ok = !mode.checks_backward()
        || changes
            .iter()
            .all(|c| !c.breaks.contains(&Direction::Backward));
    let mut forward_ok = true;
    if mode.checks_forward() {
        let reverse: Vec<_> = raw(new, nm, old, &om, policy)?
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
    Change {
        rule: f.rule.id(),
        breaks: vec![Direction::Forward],
        annotation: false,
        old_pointer: f.new_pointer,
        new_pointer: f.old_pointer,
        instance_path: f.instance_path,
        old: f.new,
        new: f.old,
        message: format!("read with the old schema: {}", f.message),
        witness: None,
    }
}
