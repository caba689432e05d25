//! The semantic-versioning rules of a registration (DESIGN.md §2), as pure functions
//! over a contract's [`History`]: which versions the candidate is checked against, and
//! which version it gets once the engine has reported.

use semver::Version;

use crate::compat::Report;
use crate::domain::{Bump, Direction, Mode};
use crate::store::{History, VersionRecord};

use super::Refusal;

/// What to do before running the engine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// The schema is canonically identical to this live version: answer it, write nothing.
    Existing(VersionRecord),
    /// Refused without a comparison (a declared version that is not greater).
    Refuse(Refusal),
    /// Compare with these live versions of the target line, newest first (empty for a
    /// first version or a new major line).
    Check(Vec<VersionRecord>),
}

/// The first version of a contract when the request declares none.
pub(crate) fn first_version() -> Version {
    Version::new(1, 0, 0)
}

/// Decides what a candidate with `fingerprint` (and optionally a declared version) is
/// compared against.
///
/// The target line is the newest major line that still has a live version: a line
/// whose versions are all soft-deleted is passed over as if it had never been, except
/// that its numbers stay taken ([`floor`], [`line_max`]).
pub(crate) fn first_step(history: &History, fingerprint: &str, declared: Option<&Version>) -> Step {
    let existing = history
        .versions
        .iter()
        .filter(|v| !v.deleted && v.fingerprint == fingerprint)
        .max_by(|a, b| a.version.cmp(&b.version));
    if let Some(v) = existing {
        return Step::Existing(v.clone());
    }
    if history.highest_version.is_none() {
        return Step::Check(Vec::new());
    }
    let Some(live_line) = live_line(history) else {
        // Every version is deleted: nothing to compare with.
        if let Some(d) = declared {
            let floor = floor(history, d.major);
            if *d <= floor {
                return Step::Refuse(Refusal::VersionNotGreater {
                    declared: d.clone(),
                    highest: floor,
                });
            }
        }
        return Step::Check(Vec::new());
    };
    if let Some(d) = declared {
        let floor = floor(history, d.major);
        if *d <= floor {
            return Step::Refuse(Refusal::VersionNotGreater {
                declared: d.clone(),
                highest: floor,
            });
        }
        // A declared new major starts a fresh line: no comparison with the old one.
        if d.major > live_line {
            return Step::Check(Vec::new());
        }
    }
    let mut previous: Vec<VersionRecord> = history
        .versions
        .iter()
        .filter(|v| !v.deleted && v.version.major == live_line)
        .cloned()
        .collect();
    previous.sort_by(|a, b| b.version.cmp(&a.version));
    Step::Check(previous)
}

/// The newest major line with a live version.
fn live_line(history: &History) -> Option<u64> {
    history
        .versions
        .iter()
        .filter(|v| !v.deleted)
        .map(|v| v.version.major)
        .max()
}

/// The highest number ever used in major line `major`: remaining versions, live or
/// soft-deleted, and the highest version ever registered when it is in that line.
fn line_max(history: &History, major: u64) -> Option<Version> {
    history
        .versions
        .iter()
        .map(|v| &v.version)
        .chain(history.highest_version.as_ref())
        .filter(|v| v.major == major)
        .max()
        .cloned()
}

/// What a declared version in major line `major` must be greater than: the newest live
/// version (or, when none is live, the highest ever registered) and every number
/// already used in its own line.
fn floor(history: &History, major: u64) -> Version {
    let live = history
        .versions
        .iter()
        .filter(|v| !v.deleted)
        .map(|v| &v.version)
        .max()
        .or(history.highest_version.as_ref())
        .cloned()
        .unwrap_or_else(|| Version::new(0, 0, 0));
    match line_max(history, major) {
        Some(m) if m > live => m,
        _ => live,
    }
}

/// The version to register after the engine's `report` against `previous`, or why not.
pub(crate) fn conclude(
    history: &History,
    previous: &[VersionRecord],
    report: &Report,
    declared: Option<&Version>,
    allow_breaking: bool,
) -> Result<Version, Refusal> {
    let Some(highest) = &history.highest_version else {
        return Ok(declared.cloned().unwrap_or_else(first_version));
    };
    let Some(base) = previous.first() else {
        // A fresh major line, or a contract whose versions are all deleted.
        return Ok(declared
            .cloned()
            .unwrap_or_else(|| Bump::Minor.apply(highest)));
    };
    // An undeclared version grows from the highest number its line has used (so a
    // deleted 1.3.0 is not given again); a new major from the highest ever (so a
    // deleted 2.0.0 is not either).
    let next = |bump: Bump| match bump {
        Bump::Major => Bump::Major.apply(highest),
        _ => bump
            .apply(&line_max(history, base.version.major).unwrap_or_else(|| base.version.clone())),
    };
    // `Bump::None` cannot reach here (an identical live version answers `Existing`);
    // treat it as the smallest real bump rather than reuse a version. Under NONE nothing
    // is refused, but a change that breaks readers is still a breaking change: it takes
    // the next major, so a consumer pinned to `^1` never receives it (DESIGN.md §2).
    let breaks_readers = report.mode == Mode::None
        && report
            .changes
            .iter()
            .any(|c| c.breaks.contains(&Direction::Backward));
    let required = if breaks_readers {
        Bump::Major
    } else {
        report.required_bump.max(Bump::Patch)
    };
    match declared {
        Some(d) => {
            let given = Bump::between(&base.version, d);
            if !report.compatible || given.is_none_or(|g| g < required) {
                return Err(Refusal::VersionTooSmall {
                    declared: d.clone(),
                    base: base.version.clone(),
                    required: if report.compatible {
                        required
                    } else {
                        Bump::Major
                    },
                    report: Box::new(report.clone()),
                });
            }
            Ok(d.clone())
        }
        None if !report.compatible => {
            if allow_breaking {
                Ok(next(Bump::Major))
            } else {
                Err(Refusal::Incompatible {
                    report: Box::new(report.clone()),
                })
            }
        }
        None => Ok(next(required)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::domain::{ContractName, Mode, Policy};
    use crate::store::GlobalConfig;

    fn record(seq: i64, version: &str, fingerprint: &str, deleted: bool) -> VersionRecord {
        VersionRecord {
            contract: ContractName::parse("orders.order_placed").unwrap(),
            seq,
            version: Version::parse(version).unwrap(),
            schema_id: seq,
            fingerprint: fingerprint.to_owned(),
            created_at: Utc::now(),
            deleted,
        }
    }

    fn history(versions: Vec<VersionRecord>) -> History {
        let highest_version = versions.iter().map(|v| v.version.clone()).max();
        History {
            contract: None,
            versions,
            highest_version,
            global: GlobalConfig::default(),
            revision: 0,
        }
    }

    fn report(compatible: bool, required_bump: Bump) -> Report {
        Report {
            compatible,
            mode: Mode::Backward,
            policy: Policy::Strict,
            required_bump,
            changes: Vec::new(),
            changes_total: 0,
            truncated: false,
            failed_version: None,
            checked_versions: Vec::new(),
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn a_first_version_is_one_point_oh_unless_declared() {
        let h = history(Vec::new());
        assert_eq!(first_step(&h, "a", None), Step::Check(Vec::new()));
        assert_eq!(
            conclude(&h, &[], &report(true, Bump::Minor), None, false).unwrap(),
            v("1.0.0")
        );
        assert_eq!(
            conclude(
                &h,
                &[],
                &report(true, Bump::Minor),
                Some(&v("0.3.0")),
                false
            )
            .unwrap(),
            v("0.3.0")
        );
    }

    #[test]
    fn an_identical_live_schema_answers_the_existing_version() {
        let h = history(vec![
            record(1, "1.0.0", "a", false),
            record(2, "1.1.0", "b", false),
        ]);
        assert_eq!(
            first_step(&h, "a", None),
            Step::Existing(h.versions[0].clone())
        );
    }

    #[test]
    fn an_identical_but_deleted_schema_is_registered_again() {
        let h = history(vec![
            record(1, "1.0.0", "a", true),
            record(2, "1.1.0", "b", false),
        ]);
        assert_eq!(
            first_step(&h, "a", None),
            Step::Check(vec![h.versions[1].clone()])
        );
    }

    #[test]
    fn compatible_changes_bump_the_highest_version_even_when_it_is_deleted() {
        let h = history(vec![
            record(1, "1.0.0", "a", false),
            record(2, "1.1.0", "b", true),
        ]);
        let Step::Check(prev) = first_step(&h, "c", None) else {
            panic!()
        };
        assert_eq!(prev[0].version, v("1.0.0"));
        assert_eq!(
            conclude(&h, &prev, &report(true, Bump::Minor), None, false).unwrap(),
            v("1.2.0")
        );
        assert_eq!(
            conclude(&h, &prev, &report(true, Bump::Patch), None, false).unwrap(),
            v("1.1.1")
        );
    }

    #[test]
    fn a_breaking_change_needs_allow_breaking_to_get_the_next_major() {
        let h = history(vec![
            record(1, "1.0.0", "a", false),
            record(2, "1.3.0", "b", false),
        ]);
        let Step::Check(prev) = first_step(&h, "c", None) else {
            panic!()
        };
        assert!(matches!(
            conclude(&h, &prev, &report(false, Bump::Major), None, false),
            Err(Refusal::Incompatible { .. })
        ));
        assert_eq!(
            conclude(&h, &prev, &report(false, Bump::Major), None, true).unwrap(),
            v("2.0.0")
        );
    }

    #[test]
    fn declaring_a_minor_version_for_a_breaking_change_is_refused() {
        let h = history(vec![record(1, "1.2.0", "a", false)]);
        let Step::Check(prev) = first_step(&h, "c", Some(&v("1.3.0"))) else {
            panic!()
        };
        let refusal = conclude(
            &h,
            &prev,
            &report(false, Bump::Major),
            Some(&v("1.3.0")),
            true,
        )
        .unwrap_err();
        assert!(
            matches!(
                refusal,
                Refusal::VersionTooSmall {
                    required: Bump::Major,
                    ..
                }
            ),
            "{refusal:?}"
        );
    }

    #[test]
    fn declaring_a_patch_for_a_compatible_change_is_refused_and_a_minor_accepted() {
        let h = history(vec![record(1, "1.2.0", "a", false)]);
        let prev = vec![h.versions[0].clone()];
        assert!(
            conclude(
                &h,
                &prev,
                &report(true, Bump::Minor),
                Some(&v("1.2.1")),
                false
            )
            .is_err()
        );
        assert_eq!(
            conclude(
                &h,
                &prev,
                &report(true, Bump::Minor),
                Some(&v("1.4.0")),
                false
            )
            .unwrap(),
            v("1.4.0")
        );
    }

    #[test]
    fn a_declared_version_must_be_greater_than_every_existing_one() {
        let h = history(vec![record(1, "1.2.0", "a", true)]);
        assert!(matches!(
            first_step(&h, "b", Some(&v("1.2.0"))),
            Step::Refuse(Refusal::VersionNotGreater { .. })
        ));
    }

    #[test]
    fn a_declared_new_major_starts_a_fresh_line() {
        let h = history(vec![record(1, "1.2.0", "a", false)]);
        assert_eq!(
            first_step(&h, "b", Some(&v("2.0.0"))),
            Step::Check(Vec::new())
        );
        assert_eq!(
            conclude(
                &h,
                &[],
                &report(true, Bump::Minor),
                Some(&v("2.0.0")),
                false
            )
            .unwrap(),
            v("2.0.0")
        );
    }

    #[test]
    fn a_deleted_newest_line_is_passed_over_but_its_numbers_stay_taken() {
        let h = history(vec![
            record(1, "1.0.0", "a", false),
            record(2, "1.1.0", "b", false),
            record(3, "1.2.0", "c", false),
            record(4, "2.0.0", "d", true),
        ]);
        let Step::Check(prev) = first_step(&h, "e", None) else {
            panic!()
        };
        assert_eq!(prev[0].version, v("1.2.0"));
        assert_eq!(
            conclude(&h, &prev, &report(true, Bump::Minor), None, false).unwrap(),
            v("1.3.0")
        );
        assert_eq!(
            conclude(&h, &prev, &report(false, Bump::Major), None, true).unwrap(),
            v("3.0.0")
        );
        assert!(matches!(
            first_step(&h, "e", Some(&v("2.0.0"))),
            Step::Refuse(Refusal::VersionNotGreater { .. })
        ));
        assert_eq!(
            first_step(&h, "e", Some(&v("2.0.1"))),
            Step::Check(Vec::new())
        );
        assert_eq!(
            first_step(&h, "e", Some(&v("1.3.0"))),
            Step::Check(prev.clone())
        );
    }

    #[test]
    fn a_deleted_number_in_the_live_line_is_not_given_again() {
        let h = history(vec![
            record(1, "1.0.0", "a", false),
            record(2, "1.1.0", "b", true),
            record(3, "2.0.0", "c", true),
        ]);
        let Step::Check(prev) = first_step(&h, "e", None) else {
            panic!()
        };
        assert_eq!(
            conclude(&h, &prev, &report(true, Bump::Minor), None, false).unwrap(),
            v("1.2.0")
        );
        assert!(matches!(
            first_step(&h, "e", Some(&v("1.1.0"))),
            Step::Refuse(Refusal::VersionNotGreater { .. })
        ));
    }

    #[test]
    fn only_the_latest_major_line_is_compared() {
        let h = history(vec![
            record(1, "1.0.0", "a", false),
            record(2, "2.0.0", "b", false),
            record(3, "2.1.0", "c", false),
        ]);
        let Step::Check(prev) = first_step(&h, "d", None) else {
            panic!()
        };
        assert_eq!(
            prev.iter()
                .map(|p| p.version.to_string())
                .collect::<Vec<_>>(),
            ["2.1.0", "2.0.0"]
        );
    }
}
