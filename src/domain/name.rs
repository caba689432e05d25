use std::fmt;
use std::str::FromStr;

/// A contract name such as `orders.order_placed`.
///
/// Native names follow `[a-z0-9][a-z0-9._-]{0,199}`. The Confluent API accepts any
/// subject a client sends; it builds names with [`ContractName::confluent`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ContractName(String);

/// Why a string is not a contract name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid contract name {name:?}: {reason}")]
pub struct InvalidName {
    /// The rejected input (cut to 200 characters).
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl ContractName {
    /// Parses a native contract name.
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        let fail = |reason| InvalidName {
            name: s.chars().take(200).collect(),
            reason,
        };
        let mut chars = s.chars();
        match chars.next() {
            None => return Err(fail("it is empty")),
            Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
            Some(_) => return Err(fail("it must start with a lowercase letter or a digit")),
        }
        if s.len() > 200 {
            return Err(fail("it is longer than 200 characters"));
        }
        if !chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(fail(
                "only lowercase letters, digits, '.', '_' and '-' are allowed",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Builds a name from a Confluent subject: any non-empty string without control
    /// characters, at most 255 bytes.
    pub fn confluent(s: &str) -> Result<Self, InvalidName> {
        let fail = |reason| InvalidName {
            name: s.chars().take(200).collect(),
            reason,
        };
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if s.len() > 255 {
            return Err(fail("it is longer than 255 bytes"));
        }
        if s.chars().any(char::is_control) {
            return Err(fail("it contains a control character"));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContractName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ContractName {
    type Err = InvalidName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_lowercase_names_are_accepted() {
        assert!(ContractName::parse("orders.order_placed").is_ok());
        assert!(ContractName::parse("a-1.b_2").is_ok());
    }

    #[test]
    fn uppercase_empty_and_leading_punctuation_are_rejected() {
        assert!(ContractName::parse("").is_err());
        assert!(ContractName::parse("Orders").is_err());
        assert!(ContractName::parse(".orders").is_err());
        assert!(ContractName::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn confluent_subjects_allow_any_printable_text() {
        assert!(ContractName::confluent("Orders-Value").is_ok());
        assert!(ContractName::confluent("a\u{7}b").is_err());
    }
}
