//! Accepting known breaks: `accord-accept.yaml`.
//!
//! ```yaml
//! accept:
//!   - fingerprint: 3f9c0d2a41b7e655   # from the check's output
//!     reason: "consumers migrated, JIRA-123"
//!     expires: 2026-10-01             # optional; after this day the finding fails again
//! ```
//!
//! A finding's fingerprint hashes its rule, schema pointer and old and new values, so
//! it survives rebases and unrelated edits; the contract name is part of it too, so one
//! entry never silences the same change in another contract.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::cli::contract_file::tree;
use crate::compat::Change;

/// The default file name, looked for in the current directory.
pub const DEFAULT_FILE: &str = "accord-accept.yaml";

/// One acceptance.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The finding's fingerprint.
    pub fingerprint: String,
    /// Why the break is acceptable.
    pub reason: String,
    /// The last day the acceptance holds (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<NaiveDate>,
    /// Who approved it (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// A ticket (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AcceptFile {
    #[serde(default)]
    accept: Vec<Entry>,
}

/// Reads an acceptance file.
pub fn load(path: &Path) -> Result<Vec<Entry>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let root = tree::from_yaml(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let file: AcceptFile =
        serde_json::from_value(root.to_value()).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(file.accept)
}

/// The stable fingerprint of a finding: the first 16 hex digits of the sha256 of the
/// contract, rule, schema pointer, old and new values.
pub fn fingerprint(contract: &str, change: &Change) -> String {
    let pointer = change
        .new_pointer
        .as_deref()
        .or(change.old_pointer.as_deref())
        .unwrap_or_default();
    let show =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let mut h = Sha256::new();
    for part in [
        contract,
        change.rule,
        pointer,
        &show(&change.old),
        &show(&change.new),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())[..16].to_owned()
}

/// Whether an entry has expired on `today` (it holds through its `expires` day).
pub fn expired(entry: &Entry, today: NaiveDate) -> bool {
    entry.expires.is_some_and(|d| today > d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(new: i64) -> Change {
        Change {
            rule: "max-length-decreased",
            breaks: vec![],
            annotation: false,
            old_pointer: Some("/properties/name/maxLength".into()),
            new_pointer: Some("/properties/name/maxLength".into()),
            instance_path: "/name".into(),
            old: Some(100.into()),
            new: Some(new.into()),
            message: "any message".into(),
            witness: None,
            witnesses: None,
            forward_hint: None,
        }
    }

    #[test]
    fn a_fingerprint_depends_on_the_values_but_not_on_the_message() {
        let a = fingerprint("orders", &change(50));
        let mut b = change(50);
        b.message = "reworded".into();
        assert_eq!(a, fingerprint("orders", &b));
        assert_ne!(a, fingerprint("orders", &change(40)));
        assert_ne!(a, fingerprint("payments", &change(50)));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn an_acceptance_holds_through_its_expiry_day() {
        let e = Entry {
            fingerprint: "x".into(),
            reason: "r".into(),
            expires: NaiveDate::from_ymd_opt(2026, 10, 1),
            approver: None,
            ticket: None,
        };
        assert!(!expired(&e, NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()));
        assert!(expired(&e, NaiveDate::from_ymd_opt(2026, 10, 2).unwrap()));
    }
}
