//! Consumers and where they run: [`ConsumerName`] (named like a contract),
//! [`EnvironmentName`], [`AppVersion`] (the application version a declaration and a
//! deployment are for), and [`Protection`], a contract's `consumer_protection`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{ContractName, UnknownName};

/// An application that reads contracts, named like a contract: `billing.export`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ConsumerName(String);

/// Why a string is not a consumer, environment or application version name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {given:?}: {reason}")]
pub struct InvalidConsumerName {
    /// What was being named.
    pub what: &'static str,
    /// The rejected input (cut to 100 characters).
    pub given: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ConsumerName {
    /// Parses a consumer name: the native contract-name rules,
    /// `[a-z0-9][a-z0-9._-]{0,199}`.
    pub fn parse(s: &str) -> Result<Self, InvalidConsumerName> {
        ContractName::parse(s)
            .map(|n| Self(n.as_str().to_owned()))
            .map_err(|e| InvalidConsumerName {
                what: "consumer name",
                given: e.name,
                reason: e.reason.to_owned(),
            })
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConsumerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ConsumerName {
    type Err = InvalidConsumerName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A deployment target: `dev`, `staging`, `prod`. `[a-z0-9][a-z0-9._-]{0,63}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EnvironmentName(String);

impl EnvironmentName {
    /// Parses an environment name.
    pub fn parse(s: &str) -> Result<Self, InvalidConsumerName> {
        let fail = |reason: &str| InvalidConsumerName {
            what: "environment name",
            given: s.chars().take(100).collect(),
            reason: reason.to_owned(),
        };
        let mut chars = s.chars();
        match chars.next() {
            None => return Err(fail("it is empty")),
            Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
            Some(_) => return Err(fail("it must start with a lowercase letter or a digit")),
        }
        if s.len() > 64 {
            return Err(fail("it is longer than 64 characters"));
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

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvironmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EnvironmentName {
    type Err = InvalidConsumerName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// An application version: a git sha, a release number, any text of 1 to 200
/// visible characters (no whitespace or control characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AppVersion(String);

impl AppVersion {
    /// Parses an application version (surrounding whitespace is dropped).
    pub fn parse(s: &str) -> Result<Self, InvalidConsumerName> {
        let t = s.trim();
        let fail = |reason: &str| InvalidConsumerName {
            what: "application version",
            given: s.chars().take(100).collect(),
            reason: reason.to_owned(),
        };
        if t.is_empty() {
            return Err(fail("it is empty"));
        }
        if t.chars().count() > 200 {
            return Err(fail("it is longer than 200 characters"));
        }
        if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it contains whitespace or a control character"));
        }
        Ok(Self(t.to_owned()))
    }

    /// The version as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contract's `consumer_protection`: what a registration that breaks a deployed
/// consumer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protection {
    /// Consumers are not looked at.
    Off,
    /// Broken consumers are reported; the registration proceeds.
    #[default]
    Warn,
    /// A registration that breaks a consumer deployed in a protected environment is
    /// refused, whatever the mode allows.
    Block,
}

impl Protection {
    /// Every setting.
    pub const ALL: [Protection; 3] = [Protection::Off, Protection::Warn, Protection::Block];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protection::Off => "off",
            Protection::Warn => "warn",
            Protection::Block => "block",
        }
    }
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protection {
    type Err = UnknownName;

    /// Case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Protection::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownName {
                what: "consumer protection",
                given: s.chars().take(100).collect(),
                expected: "off, warn, block",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumers_are_named_like_contracts() {
        assert!(ConsumerName::parse("billing.export").is_ok());
        let e = ConsumerName::parse("Billing").unwrap_err();
        assert!(e.to_string().contains("consumer name"), "{e}");
    }

    #[test]
    fn environment_names_are_short_lowercase_words() {
        assert!(EnvironmentName::parse("prod").is_ok());
        assert!(EnvironmentName::parse("eu-west.prod_2").is_ok());
        assert!(EnvironmentName::parse("").is_err());
        assert!(EnvironmentName::parse("Prod").is_err());
        assert!(EnvironmentName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn application_versions_are_any_visible_text() {
        assert_eq!(AppVersion::parse(" 3f2a9c1 ").unwrap().as_str(), "3f2a9c1");
        assert!(AppVersion::parse("v1.2.3+build.7").is_ok());
        assert!(AppVersion::parse("").is_err());
        assert!(AppVersion::parse("two words").is_err());
        assert!(AppVersion::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn protection_reads_back_from_its_name_and_defaults_to_warn() {
        for p in Protection::ALL {
            assert_eq!(p.as_str().parse::<Protection>().unwrap(), p);
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(Protection::default(), Protection::Warn);
        assert!("strict".parse::<Protection>().is_err());
    }
}
