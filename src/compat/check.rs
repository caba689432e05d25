//! Modes, transitivity and the required bump, on top of the pairwise diff.

use crate::domain::{Bump, Direction, Mode, Policy};
use crate::schema::Schema;

use super::diff::diff;
use super::{Change, CompatError, Previous, Report};

/// Checks `candidate` against `previous` (newest first) under `mode` and `policy`.
///
/// Non-transitive modes compare with `previous[0]` only; transitive modes compare with
/// every entry, newest first, and stop at the first that fails (its label is
/// `failed_version`). With no previous version everything is compatible and the bump is
/// `minor` (a first version). The changes are always given old → new; the bump is
/// derived from the changes against the newest version.
pub fn check(candidate: &Schema, previous: &[Previous<'_>], mode: Mode, policy: Policy) -> Result<Report, CompatError> {
    let Some(newest) = previous.first() else {
        return Ok(Report {
            compatible: true,
            mode,
            policy,
            required_bump: Bump::Minor,
            changes: Vec::new(),
            failed_version: None,
            checked_versions: Vec::new(),
        });
    };
    let targets: &[Previous<'_>] = if mode.is_transitive() { previous } else { &previous[..1] };
    let mut checked_versions = Vec::new();
    let mut newest_changes = None;
    for (i, prev) in targets.iter().enumerate() {
        checked_versions.push(prev.label.to_owned());
        let changes = diff(prev.schema, candidate, policy)?;
        let ok = is_compatible(&changes, mode);
        if i == 0 {
            newest_changes = Some(changes.clone());
        }
        if !ok {
            let newest_changes = newest_changes.unwrap_or_default();
            let required_bump = if i == 0 { Bump::Major } else { bump_for(newest.schema, candidate, &newest_changes, mode).max(Bump::Major) };
            return Ok(Report {
                compatible: false,
                mode,
                policy,
                required_bump,
                changes,
                failed_version: Some(prev.label.to_owned()),
                checked_versions,
            });
        }
    }
    let changes = newest_changes.unwrap_or_default();
    let required_bump = bump_for(newest.schema, candidate, &changes, mode);
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

/// Compares two schemas as a report under `mode` (no transitivity: one old version).
pub fn compare(old: &Schema, new: &Schema, mode: Mode, policy: Policy) -> Result<Report, CompatError> {
    check(new, &[Previous { label: "old", schema: old }], mode, policy)
}

/// Whether a list of old → new changes is allowed by `mode`.
pub fn is_compatible(changes: &[Change], mode: Mode) -> bool {
    changes.iter().all(|c| {
        !(mode.checks_backward() && c.breaks.contains(&Direction::Backward) || mode.checks_forward() && c.breaks.contains(&Direction::Forward))
    })
}

/// The bump for old → new changes, per DESIGN.md §2.
fn bump_for(old: &Schema, new: &Schema, changes: &[Change], mode: Mode) -> Bump {
    if old.fingerprint() == new.fingerprint() {
        Bump::None
    } else if !is_compatible(changes, mode) {
        Bump::Major
    } else if changes.iter().all(|c| c.annotation) {
        Bump::Patch
    } else {
        Bump::Minor
    }
}
