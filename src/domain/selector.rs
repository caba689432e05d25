use std::fmt;
use std::str::FromStr;

use semver::{Version, VersionReq};

/// Which version of a contract a reader asks for: `latest`, an exact version such as
/// `1.4.2`, or a semver requirement (`^1.2`, `~1.4`, `1`, `>=1.2, <2`) that resolves
/// to the highest matching live version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSelector {
    /// The highest live version.
    Latest,
    /// Exactly this version, live or soft-deleted.
    Exact(Version),
    /// The highest live version matching the requirement.
    Range(VersionReq),
}

/// Why a string is not a version selector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid version selector {given:?}: expected `latest`, an exact version like 1.4.2 or a semver requirement like ^1.2 ({reason})"
)]
pub struct InvalidSelector {
    /// The rejected input (cut to 100 characters).
    pub given: String,
    /// What the semver parser said.
    pub reason: String,
}

impl VersionSelector {
    /// Parses a selector. A full `MAJOR.MINOR.PATCH` is exact; anything else that the
    /// `semver` crate reads as a requirement is a range (a bare `1` or `1.2` means `^1`
    /// or `^1.2`, as in Cargo).
    pub fn parse(s: &str) -> Result<Self, InvalidSelector> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("latest") {
            return Ok(VersionSelector::Latest);
        }
        if let Ok(v) = Version::parse(s) {
            return Ok(VersionSelector::Exact(v));
        }
        VersionReq::parse(s)
            .map(VersionSelector::Range)
            .map_err(|e| InvalidSelector {
                given: s.chars().take(100).collect(),
                reason: e.to_string(),
            })
    }

    /// Whether the answer can never change (an exact version), so it may be cached forever.
    pub fn is_immutable(&self) -> bool {
        matches!(self, VersionSelector::Exact(_))
    }

    /// Picks the version this selector names from `(version, live)` pairs: the exact
    /// one (live or not), or the highest live one that matches.
    pub fn select<'a, T>(
        &self,
        candidates: impl IntoIterator<Item = (&'a Version, bool, T)>,
    ) -> Option<T> {
        let mut best: Option<(&Version, T)> = None;
        for (version, live, item) in candidates {
            let matches = match self {
                VersionSelector::Exact(v) => {
                    if v == version {
                        return Some(item);
                    }
                    false
                }
                VersionSelector::Latest => live,
                VersionSelector::Range(req) => live && req.matches(version),
            };
            if matches && best.as_ref().is_none_or(|(b, _)| version > *b) {
                best = Some((version, item));
            }
        }
        best.map(|(_, item)| item)
    }
}

impl fmt::Display for VersionSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSelector::Latest => f.write_str("latest"),
            VersionSelector::Exact(v) => write!(f, "{v}"),
            VersionSelector::Range(r) => write!(f, "{r}"),
        }
    }
}

impl FromStr for VersionSelector {
    type Err = InvalidSelector;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(sel: &str, versions: &[(&str, bool)]) -> Option<String> {
        let parsed: Vec<(Version, bool)> = versions
            .iter()
            .map(|(v, l)| (Version::parse(v).unwrap(), *l))
            .collect();
        VersionSelector::parse(sel)
            .unwrap()
            .select(parsed.iter().map(|(v, l)| (v, *l, v.to_string())))
    }

    const LINE: &[(&str, bool)] = &[
        ("1.0.0", true),
        ("1.2.0", true),
        ("1.4.2", true),
        ("1.5.0", false),
        ("2.0.0", true),
    ];

    #[test]
    fn latest_is_the_highest_live_version() {
        assert_eq!(pick("latest", LINE).as_deref(), Some("2.0.0"));
    }

    #[test]
    fn a_caret_range_never_crosses_a_major_and_skips_deleted_versions() {
        assert_eq!(pick("^1.2", LINE).as_deref(), Some("1.4.2"));
        assert_eq!(pick("1", LINE).as_deref(), Some("1.4.2"));
        assert_eq!(pick(">=1.2, <2", LINE).as_deref(), Some("1.4.2"));
        assert_eq!(pick("~1.4", LINE).as_deref(), Some("1.4.2"));
    }

    #[test]
    fn an_exact_version_is_found_even_when_soft_deleted() {
        assert_eq!(pick("1.5.0", LINE).as_deref(), Some("1.5.0"));
        assert_eq!(pick("1.9.0", LINE), None);
    }

    #[test]
    fn garbage_is_not_a_selector() {
        assert!(VersionSelector::parse("one point two").is_err());
        assert!(VersionSelector::parse("LATEST").is_ok());
    }
}
