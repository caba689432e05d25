//! Version lists remembered between registrations, each tagged with the contract's
//! revision.
//!
//! A registration reads the contract's whole version list under its write lock (the
//! plan needs every fingerprint and the target line). Re-reading a long list costs
//! microseconds per row, so a contract with a thousand versions paid milliseconds per
//! registration. Every change to a contract's versions bumps `contracts.revision` in
//! the same transaction, so a list read at revision R is exactly the list while the
//! revision is R: the store reads the revision under the lock and reuses the list when
//! it has not moved. Another process's write, or a delete, moves it and the list is
//! read again.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::ContractName;

use super::VersionRecord;

/// How many contracts' lists are kept. When full, an arbitrary one is dropped; a
/// dropped list costs one read on its contract's next registration.
const CAPACITY: usize = 256;

/// Remembered version lists by contract name, with the revision they were read at.
#[derive(Default)]
pub(super) struct VersionMemo {
    lists: Mutex<HashMap<ContractName, (i64, Vec<VersionRecord>)>>,
}

impl VersionMemo {
    /// The list of `name` at `revision`, if it is remembered at that revision.
    pub(super) fn get(&self, name: &ContractName, revision: i64) -> Option<Vec<VersionRecord>> {
        let lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        match lists.get(name) {
            Some((r, versions)) if *r == revision => Some(versions.clone()),
            _ => None,
        }
    }

    /// Remembers `versions` as the list of `name` at `revision`.
    pub(super) fn put(&self, name: &ContractName, revision: i64, versions: Vec<VersionRecord>) {
        let mut lists = self.lists.lock().unwrap_or_else(|e| e.into_inner());
        if lists.len() >= CAPACITY && !lists.contains_key(name) {
            if let Some(victim) = lists.keys().next().cloned() {
                lists.remove(&victim);
            }
        }
        lists.insert(name.clone(), (revision, versions));
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use semver::Version;

    use super::*;

    fn name(n: usize) -> ContractName {
        ContractName::parse(&format!("memo.c{n}")).unwrap()
    }

    fn version(n: &ContractName, seq: i64) -> VersionRecord {
        VersionRecord {
            contract: n.clone(),
            seq,
            version: Version::new(1, 0, seq as u64),
            schema_id: seq,
            fingerprint: format!("f{seq}"),
            created_at: Utc::now(),
            deleted: false,
        }
    }

    #[test]
    fn a_list_is_reused_only_at_the_revision_it_was_read_at() {
        let memo = VersionMemo::default();
        let n = name(0);
        memo.put(&n, 3, vec![version(&n, 1)]);
        let seqs = |v: Vec<VersionRecord>| v.iter().map(|r| r.seq).collect::<Vec<_>>();
        assert_eq!(memo.get(&n, 3).map(seqs), Some(vec![1]));
        assert!(memo.get(&n, 4).is_none());
        assert!(memo.get(&name(1), 3).is_none());
    }

    #[test]
    fn the_memo_never_holds_more_than_its_capacity() {
        let memo = VersionMemo::default();
        for i in 0..CAPACITY + 10 {
            memo.put(&name(i), 1, Vec::new());
        }
        assert_eq!(memo.lists.lock().unwrap().len(), CAPACITY);
        assert!(memo.get(&name(CAPACITY + 9), 1).is_some());
    }
}
