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

use super::{StoreError, VersionRecord};

/// How many version records are kept in all (a record is about 150 bytes, so some
/// 30 MB at most). When a list does not fit, arbitrary others are dropped; a dropped
/// list costs one read on its contract's next registration. A single list longer than
/// this is not kept at all.
const CAPACITY: usize = 200_000;

/// Remembered version lists by contract name, with the revision they were read at.
#[derive(Default)]
pub(super) struct VersionMemo {
    inner: Mutex<Lists>,
}

#[derive(Default)]
struct Lists {
    by_name: HashMap<ContractName, (i64, Vec<VersionRecord>)>,
    /// The number of records in `by_name`, all lists together.
    records: usize,
}

impl VersionMemo {
    /// The list of `name` at `revision`, if it is remembered at that revision.
    pub(super) fn get(&self, name: &ContractName, revision: i64) -> Option<Vec<VersionRecord>> {
        let lists = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match lists.by_name.get(name) {
            Some((r, versions)) if *r == revision => Some(versions.clone()),
            _ => None,
        }
    }

    /// The list of `name` at `revision`: the remembered one, or else the one `read`
    /// returns, remembered from now on.
    pub(super) async fn get_or_read(
        &self,
        name: &ContractName,
        revision: i64,
        read: impl AsyncFnOnce() -> Result<Vec<VersionRecord>, StoreError>,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        if let Some(versions) = self.get(name, revision) {
            return Ok(versions);
        }
        let versions = read().await?;
        self.put(name, revision, versions.clone());
        Ok(versions)
    }

    /// Remembers the list after a committed registration: the list read at `revision`
    /// plus the new version (the commit bumped the revision by one).
    pub(super) fn registered(
        &self,
        revision: i64,
        mut versions: Vec<VersionRecord>,
        new: &VersionRecord,
    ) {
        versions.push(new.clone());
        // IMPORT may give a seq below the others; the list stays in seq order.
        versions.sort_by_key(|v| v.seq);
        self.put(&new.contract, revision + 1, versions);
    }

    /// Remembers `versions` as the list of `name` at `revision`.
    fn put(&self, name: &ContractName, revision: i64, versions: Vec<VersionRecord>) {
        let mut lists = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = lists.by_name.remove(name) {
            lists.records -= old.len();
        }
        if versions.len() > CAPACITY {
            return;
        }
        while lists.records + versions.len() > CAPACITY {
            let Some(victim) = lists.by_name.keys().next().cloned() else {
                break;
            };
            if let Some((_, dropped)) = lists.by_name.remove(&victim) {
                lists.records -= dropped.len();
            }
        }
        lists.records += versions.len();
        lists.by_name.insert(name.clone(), (revision, versions));
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
    fn the_memo_never_holds_more_records_than_its_capacity() {
        let memo = VersionMemo::default();
        let big = |n: &ContractName, len: usize| (1..=len as i64).map(|s| version(n, s)).collect();
        memo.put(&name(0), 1, big(&name(0), CAPACITY / 2));
        memo.put(&name(1), 1, big(&name(1), CAPACITY / 2));
        memo.put(&name(2), 1, big(&name(2), 10));
        let lists = memo.inner.lock().unwrap();
        let held: usize = lists.by_name.values().map(|(_, v)| v.len()).sum();
        assert_eq!(held, lists.records);
        assert!(held <= CAPACITY);
        assert!(
            lists.by_name.contains_key(&name(2)),
            "the newest list is kept"
        );
        drop(lists);
        memo.put(&name(3), 1, big(&name(3), CAPACITY + 1));
        assert!(
            memo.get(&name(3), 1).is_none(),
            "a list over the capacity is not kept"
        );
    }
}
