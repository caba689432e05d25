use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::UnknownName;

/// Whether a contract (or the whole registry) accepts writes: Confluent's `mode`.
///
/// Not to be confused with [`Mode`](super::Mode), the compatibility mode: this one says
/// who may write, not what a new version must be compatible with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WriteMode {
    /// Normal operation.
    #[default]
    Readwrite,
    /// No registration, deletion or configuration change.
    Readonly,
    /// Confluent's deprecated spelling of read-only; kept so it reads back as written.
    ReadonlyOverride,
    /// Registrations bring their schema id (and may bring their version) and are not
    /// checked: used to copy another registry while keeping its ids.
    Import,
}

impl WriteMode {
    /// Every write mode.
    pub const ALL: [WriteMode; 4] = [
        WriteMode::Readwrite,
        WriteMode::Readonly,
        WriteMode::ReadonlyOverride,
        WriteMode::Import,
    ];

    /// The Confluent spelling, e.g. `READWRITE`.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteMode::Readwrite => "READWRITE",
            WriteMode::Readonly => "READONLY",
            WriteMode::ReadonlyOverride => "READONLY_OVERRIDE",
            WriteMode::Import => "IMPORT",
        }
    }

    /// Whether writes are refused.
    pub fn is_read_only(self) -> bool {
        matches!(self, WriteMode::Readonly | WriteMode::ReadonlyOverride)
    }
}

impl fmt::Display for WriteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WriteMode {
    type Err = UnknownName;
    /// Case-insensitive, as Confluent accepts it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm = s.trim().to_ascii_uppercase();
        WriteMode::ALL
            .into_iter()
            .find(|m| m.as_str() == norm)
            .ok_or_else(|| UnknownName {
                what: "mode",
                given: s.to_owned(),
                expected: "READWRITE, READONLY, READONLY_OVERRIDE, IMPORT",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_modes_parse_case_insensitively_and_only_read_only_ones_refuse_writes() {
        assert_eq!("import".parse::<WriteMode>().unwrap(), WriteMode::Import);
        assert!("READONLY".parse::<WriteMode>().unwrap().is_read_only());
        assert!(!WriteMode::Import.is_read_only());
        assert!("FORWARD".parse::<WriteMode>().is_err());
    }
}
