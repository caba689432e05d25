//! "Did you mean …?": the one place that turns a wrong name (an unknown field of a
//! request body or a contract file, an unknown query parameter) into the right one.
//!
//! A name is matched against the expected ones in three steps: the same letters
//! ignoring case and separators (`allowBreaking` → `allow_breaking`), a known synonym
//! (`compatibility` and Confluent's `compatibilityLevel` → `mode`, and back), then the
//! closest spelling (Jaro-Winkler similarity of at least 0.8, so `permanant` →
//! `permanent` but `foo` → nothing).
//!
//! serde reports an unknown field only as text (`unknown field `x`, expected one of
//! `a`, `b``), so [`UnknownField::from_serde`] reads that text back; its format is
//! serde's `Error::unknown_field`, stable across serde 1.x, and a test holds it.

use std::fmt;

/// Words that name the same thing in the native API, the contract files and
/// Confluent's API, normalised (lower case, letters and digits only).
const SYNONYMS: &[&[&str]] = &[
    &["mode", "compatibility", "compatibilitylevel", "compat"],
    &["policy", "compatibilitypolicy"],
    &["allowbreaking", "force", "breaking"],
    &["schema", "schemadocument", "document"],
    &["name", "contract", "subject"],
    &["owner", "team"],
    &["tags", "labels"],
    &["permanent", "hard"],
];

fn normalise(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The expected name closest to `given`, if one is close enough to suggest.
pub fn closest<'a>(given: &str, expected: &[&'a str]) -> Option<&'a str> {
    let g = normalise(given);
    if let Some(e) = expected.iter().find(|e| normalise(e) == g) {
        return Some(e);
    }
    for group in SYNONYMS {
        if group.contains(&g.as_str()) {
            if let Some(e) = expected
                .iter()
                .find(|e| group.contains(&normalise(e).as_str()))
            {
                return Some(e);
            }
        }
    }
    expected
        .iter()
        .map(|e| (e, strsim::jaro_winkler(&g, &normalise(e))))
        .filter(|(_, score)| *score >= 0.8)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(e, _)| *e)
}

/// An unknown field, with what was expected and the closest expected name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    /// The field as given.
    pub field: String,
    /// Where it was (`references[0]`), empty at the top level.
    pub path: String,
    /// The fields allowed there.
    pub expected: Vec<String>,
    /// The closest allowed field, when one is close.
    pub suggestion: Option<String>,
}

impl UnknownField {
    /// Reads serde's "unknown field" message (anywhere in `message`, which may carry
    /// a prefix or a position suffix); `path` is where the field was.
    pub fn from_serde(message: &str, path: &str) -> Option<UnknownField> {
        let rest = &message[message.find("unknown field `")? + "unknown field `".len()..];
        let (field, rest) = rest.split_once('`')?;
        let mut expected = Vec::new();
        if let Some(list) = rest.strip_prefix(", expected ") {
            let mut parts = list.split('`');
            parts.next();
            // Inside backticks are the names, between them the separators.
            for (i, part) in parts.enumerate() {
                if i % 2 == 0 {
                    expected.push(part.to_owned());
                } else if !(part == ", " || part == " or ") {
                    break;
                }
            }
        }
        let names: Vec<&str> = expected.iter().map(String::as_str).collect();
        let suggestion = closest(field, &names).map(str::to_owned);
        Some(UnknownField {
            field: field.to_owned(),
            path: path.to_owned(),
            expected,
            suggestion,
        })
    }
}

impl fmt::Display for UnknownField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown field `{}`", self.field)?;
        if !self.path.is_empty() {
            write!(f, " in `{}`", self.path)?;
        }
        if let Some(s) = &self.suggestion {
            write!(f, "; did you mean `{s}`?")?;
        }
        match self.expected.as_slice() {
            [] => write!(f, " (no fields are allowed here)"),
            names => write!(
                f,
                " (allowed: {})",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_camel_case_field_suggests_its_snake_case_name() {
        assert_eq!(
            closest("allowBreaking", &["schema", "allow_breaking"]),
            Some("allow_breaking")
        );
    }

    #[test]
    fn a_synonym_suggests_the_name_used_here_in_both_directions() {
        assert_eq!(closest("compatibility", &["mode", "policy"]), Some("mode"));
        assert_eq!(
            closest("mode", &["name", "compatibility", "policy"]),
            Some("compatibility")
        );
    }

    #[test]
    fn a_misspelling_suggests_the_closest_name_and_nonsense_nothing() {
        assert_eq!(
            closest("permanant", &["permanent", "deleted"]),
            Some("permanent")
        );
        assert_eq!(closest("foo", &["permanent", "deleted"]), None);
    }

    #[test]
    fn serdes_unknown_field_messages_are_read_back() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only the error is looked at")]
        struct Three {
            schema: u8,
            version: u8,
            allow_breaking: u8,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only the error is looked at")]
        struct Two {
            mode: u8,
            policy: u8,
        }
        let e = serde_json::from_str::<Three>(r#"{"allowBreaking": 1}"#).unwrap_err();
        let u = UnknownField::from_serde(&e.to_string(), "").unwrap();
        assert_eq!(u.field, "allowBreaking");
        assert_eq!(u.expected, ["schema", "version", "allow_breaking"]);
        assert_eq!(u.suggestion.as_deref(), Some("allow_breaking"));
        let e = serde_json::from_str::<Two>(r#"{"compatibility": 1}"#).unwrap_err();
        let u = UnknownField::from_serde(&e.to_string(), "config").unwrap();
        assert_eq!(u.expected, ["mode", "policy"]);
        assert_eq!(
            u.to_string(),
            "unknown field `compatibility` in `config`; did you mean `mode`? (allowed: `mode`, `policy`)"
        );
    }
}
