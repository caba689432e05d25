//! [`FieldPath`]: a place in an instance that a consumer declares it reads, written as
//! a JSON pointer whose `*` segments stand for any array item or object member
//! (`/amount`, `/items/*/sku`), the same notation as the engine's instance paths.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The longest field path accepted, in bytes.
pub const MAX_FIELD_PATH_BYTES: usize = 1000;
/// The most segments a field path may have.
pub const MAX_FIELD_PATH_SEGMENTS: usize = 64;

/// An instance path a consumer reads: `/amount`, `/items/*/sku`. Each segment is a
/// JSON pointer token (`~0` for `~`, `~1` for `/`); `*` matches any item or member.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldPath(String);

/// Why a string is not a field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid field path {given:?}: {reason}")]
pub struct InvalidFieldPath {
    /// The rejected input (cut to 100 characters).
    pub given: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FieldPath {
    /// Parses a field path: `/` followed by segments separated by `/`, none empty, at
    /// most [`MAX_FIELD_PATH_SEGMENTS`] of them and [`MAX_FIELD_PATH_BYTES`] in all,
    /// `~` only in the escapes `~0` and `~1`.
    pub fn parse(s: &str) -> Result<Self, InvalidFieldPath> {
        let fail = |reason| InvalidFieldPath {
            given: s.chars().take(100).collect(),
            reason,
        };
        let Some(rest) = s.strip_prefix('/') else {
            return Err(fail(
                "it must start with '/' (a JSON pointer into the instance, e.g. /amount)",
            ));
        };
        if s.len() > MAX_FIELD_PATH_BYTES {
            return Err(fail("it is longer than 1000 bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(fail("it contains a control character"));
        }
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.len() > MAX_FIELD_PATH_SEGMENTS {
            return Err(fail("it has more than 64 segments"));
        }
        if segments.iter().any(|seg| seg.is_empty()) {
            return Err(fail("it has an empty segment"));
        }
        for seg in &segments {
            let mut chars = seg.chars();
            while let Some(c) = chars.next() {
                if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                    return Err(fail(
                        "'~' must be followed by 0 or 1 (the JSON pointer escapes)",
                    ));
                }
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, still escaped (`~0`, `~1`), so they compare with the engine's
    /// instance paths as written.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0[1..].split('/')
    }

    /// The segments unescaped: the property names and item indexes they stand for
    /// (`*` stays `*`).
    pub fn tokens(&self) -> impl Iterator<Item = Cow<'_, str>> + '_ {
        self.segments().map(|seg| {
            if seg.contains('~') {
                Cow::Owned(seg.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(seg)
            }
        })
    }

    /// Whether this path and an instance path (`""` for the whole instance, else
    /// `/a/*/b`) touch the same data: one is a prefix of the other, segment by segment,
    /// `*` on either side matching any segment. A change at `/items` touches a reader
    /// of `/items/*/sku`; a change at `/amount/currency` touches a reader of `/amount`.
    pub fn touches(&self, instance_path: &str) -> bool {
        let other = instance_path.strip_prefix('/').map(|p| p.split('/'));
        let Some(other) = other else {
            // The whole instance (or a malformed path, taken as the whole).
            return true;
        };
        self.segments()
            .zip(other)
            .all(|(a, b)| a == b || a == "*" || b == "*")
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for FieldPath {
    type Err = InvalidFieldPath;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for FieldPath {
    type Error = InvalidFieldPath;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<FieldPath> for String {
    fn from(f: FieldPath) -> Self {
        f.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> FieldPath {
        FieldPath::parse(s).unwrap()
    }

    #[test]
    fn pointers_with_wildcards_are_field_paths() {
        assert_eq!(f("/amount").segments().collect::<Vec<_>>(), ["amount"]);
        assert_eq!(
            f("/items/*/sku").segments().collect::<Vec<_>>(),
            ["items", "*", "sku"]
        );
        assert_eq!(f("/a~1b/c~0d").tokens().collect::<Vec<_>>(), ["a/b", "c~d"]);
    }

    #[test]
    fn malformed_paths_are_refused_with_a_reason() {
        for bad in ["", "amount", "/", "/a//b", "/a/", "/a~2", "/a~", "/a\u{7}"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("/{}", vec!["a"; 65].join("/"));
        assert!(FieldPath::parse(&long).is_err());
        assert!(
            FieldPath::parse("amount")
                .unwrap_err()
                .to_string()
                .contains("must start with '/'")
        );
    }

    #[test]
    fn a_path_touches_its_ancestors_and_descendants_but_not_its_siblings() {
        let sku = f("/items/*/sku");
        assert!(sku.touches(""));
        assert!(sku.touches("/items"));
        assert!(sku.touches("/items/*"));
        assert!(sku.touches("/items/*/sku"));
        assert!(sku.touches("/items/3/sku/extra"));
        assert!(sku.touches("/*"));
        assert!(!sku.touches("/items/*/price"));
        assert!(!sku.touches("/amount"));
        assert!(f("/amount").touches("/amount/currency"));
        assert!(!f("/amount").touches("/amount_cents"));
        assert!(!f("/order_id").touches("/amount"));
    }
}
