use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A compatibility mode, with Confluent's names and meanings.
///
/// BACKWARD: every instance valid under the old schema is valid under the new one
/// (readers upgrade first). FORWARD: every instance valid under the new schema is valid
/// under the old one (writers upgrade first). FULL: both. Transitive modes check every
/// live version of the major line instead of only the newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// No checks at all.
    None,
    /// New accepts everything the newest old version accepted.
    #[default]
    Backward,
    /// Backward against every live version of the line.
    BackwardTransitive,
    /// Old accepts everything the new version accepts.
    Forward,
    /// Forward against every live version of the line.
    ForwardTransitive,
    /// Backward and forward against the newest version.
    Full,
    /// Backward and forward against every live version of the line.
    FullTransitive,
}

impl Mode {
    /// Every mode, in the order the documentation lists them.
    pub const ALL: [Mode; 7] = [
        Mode::None,
        Mode::Backward,
        Mode::BackwardTransitive,
        Mode::Forward,
        Mode::ForwardTransitive,
        Mode::Full,
        Mode::FullTransitive,
    ];

    /// Whether this mode requires backward compatibility.
    pub fn checks_backward(self) -> bool {
        matches!(
            self,
            Mode::Backward | Mode::BackwardTransitive | Mode::Full | Mode::FullTransitive
        )
    }

    /// Whether this mode requires forward compatibility.
    pub fn checks_forward(self) -> bool {
        matches!(
            self,
            Mode::Forward | Mode::ForwardTransitive | Mode::Full | Mode::FullTransitive
        )
    }

    /// Whether this mode checks every live version of the line, not only the newest.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Mode::BackwardTransitive | Mode::ForwardTransitive | Mode::FullTransitive
        )
    }

    /// The Confluent spelling, e.g. `BACKWARD_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::None => "NONE",
            Mode::Backward => "BACKWARD",
            Mode::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Mode::Forward => "FORWARD",
            Mode::ForwardTransitive => "FORWARD_TRANSITIVE",
            Mode::Full => "FULL",
            Mode::FullTransitive => "FULL_TRANSITIVE",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown mode or policy name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}; expected one of {expected}")]
pub struct UnknownName {
    pub(super) what: &'static str,
    pub(super) given: String,
    pub(super) expected: &'static str,
}

impl FromStr for Mode {
    type Err = UnknownName;
    /// Case-insensitive, as Confluent accepts it; `-` may stand for `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_uppercase().replace('-', "_");
        Mode::ALL.into_iter().find(|m| m.as_str() == norm).ok_or_else(|| UnknownName {
            what: "compatibility mode",
            given: s.to_owned(),
            expected: "NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE",
        })
    }
}

/// How object properties are judged (Confluent's `compatibilityPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Confluent STRICT: judged by what the schemas accept; optional properties cannot be
    /// added to or removed from open objects.
    #[default]
    Strict,
    /// Confluent LENIENT: object properties behave like Avro fields; optional ones may be
    /// added and removed freely and `additionalProperties` may be tightened.
    Lenient,
}

impl Policy {
    /// The lowercase name used by the native API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Strict => "strict",
            Policy::Lenient => "lenient",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Policy {
    type Err = UnknownName;
    /// Case-insensitive: `strict`, `STRICT`, `lenient`, `LENIENT`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "strict" => Ok(Policy::Strict),
            "lenient" => Ok(Policy::Lenient),
            _ => Err(UnknownName {
                what: "compatibility policy",
                given: s.to_owned(),
                expected: "strict, lenient",
            }),
        }
    }
}

/// The semantic-version bump a change requires (DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Canonically identical: nothing to register.
    None,
    /// Only annotations changed.
    Patch,
    /// Compatible under the mode and policy.
    Minor,
    /// Breaks the mode.
    Major,
}

impl Bump {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        }
    }

    /// The smallest version after `v` that carries this bump (`None` gives `v`).
    pub fn apply(self, v: &semver::Version) -> semver::Version {
        match self {
            Bump::None => v.clone(),
            Bump::Patch => semver::Version::new(v.major, v.minor, v.patch + 1),
            Bump::Minor => semver::Version::new(v.major, v.minor + 1, 0),
            Bump::Major => semver::Version::new(v.major + 1, 0, 0),
        }
    }

    /// The bump that `to` represents over `from`, or `None` when `to` is not greater.
    pub fn between(from: &semver::Version, to: &semver::Version) -> Option<Bump> {
        if to <= from {
            return None;
        }
        Some(if to.major != from.major {
            Bump::Major
        } else if to.minor != from.minor {
            Bump::Minor
        } else {
            Bump::Patch
        })
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A direction of compatibility that a change can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Old data read with the new schema.
    Backward,
    /// New data read with the old schema.
    Forward,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_case_insensitively() {
        assert_eq!(
            "backward_transitive".parse::<Mode>().unwrap(),
            Mode::BackwardTransitive
        );
        assert_eq!("Full".parse::<Mode>().unwrap(), Mode::Full);
        assert!("SIDEWAYS".parse::<Mode>().is_err());
    }

    #[test]
    fn full_checks_both_directions_and_none_checks_neither() {
        assert!(Mode::Full.checks_backward() && Mode::Full.checks_forward());
        assert!(!Mode::None.checks_backward() && !Mode::None.checks_forward());
        assert!(Mode::FullTransitive.is_transitive() && !Mode::Full.is_transitive());
    }

    #[test]
    fn bumps_apply_and_are_recognised() {
        let v = semver::Version::new(1, 4, 2);
        assert_eq!(Bump::Minor.apply(&v), semver::Version::new(1, 5, 0));
        assert_eq!(Bump::Major.apply(&v), semver::Version::new(2, 0, 0));
        assert_eq!(
            Bump::between(&v, &semver::Version::new(1, 4, 3)),
            Some(Bump::Patch)
        );
        assert_eq!(Bump::between(&v, &semver::Version::new(1, 4, 2)), None);
        assert_eq!(
            Bump::between(&v, &semver::Version::new(3, 0, 0)),
            Some(Bump::Major)
        );
    }
}
