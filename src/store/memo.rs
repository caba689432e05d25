//! Lists remembered between registrations, each tagged with the revision it was read
//! at: a contract's versions ([`VersionMemo`]) and the consumers deployed against it
//! ([`ReadersMemo`]).
//!
//! A registration reads the contract's whole version list under its write lock (the
//! plan needs every fingerprint and the target line). Re-reading a long list costs
//! microseconds per row, so a contract with a thousand versions paid milliseconds per
//! registration. Every change to a contract's versions bumps `contracts.revision` in
//! the same transaction, so a list read at revision R is exactly the list while the
//! revision is R: the store reads the revision under the lock and reuses the list when
//! it has not moved. Another process's write, or a delete, moves it and the list is
//! read again.
//!
//! The deployed readers of a contract (a join over four consumer tables, parsed row by
//! row) are what every registration to a read contract needs for its consumers
//! section. Triggers on those tables bump one registry-wide `consumer_revision` in the
//! writing transaction, so a list read after reading revision R is at least as new as
//! R, and is reused only while the revision is still R. The revision is read before
//! the list: a write committed in between leaves the list tagged with the older
//! revision, and it is read again next time.

use std::sync::Arc;

use crate::cache::{Bounded, CacheStats, key_weight};
use crate::domain::ContractName;

use super::consumers::DeployedReader;
use super::{StoreError, VersionRecord};

/// The bound on remembered version lists: 64 MiB, a record weighing
/// [`RECORD_WEIGHT`]. One shard, so one list may take the whole bound (a contract of
/// some 250,000 versions); a longer one is not kept and its contract's registrations
/// read it each time.
const CAPACITY: u64 = 64 << 20;

/// The weight of one version record (about its bytes in memory).
const RECORD_WEIGHT: u64 = 256;

/// The bound on remembered reader lists (a reader weighing [`READER_WEIGHT`]).
const READERS_CAPACITY: u64 = 16 << 20;

/// The weight of one deployed reader (its names, range and fields).
const READER_WEIGHT: u64 = 512;

/// Lists by contract name, with the revision they were read at.
pub(super) struct Memo<T> {
    lists: Bounded<ContractName, Arc<(i64, Vec<T>)>>,
    weight: u64,
}

/// Remembered version lists, tagged with their contract's revision.
pub(super) type VersionMemo = Memo<VersionRecord>;

/// Remembered deployed readers, tagged with the registry's consumer revision.
pub(super) type ReadersMemo = Memo<DeployedReader>;

impl Default for VersionMemo {
    fn default() -> Self {
        Self {
            lists: Bounded::new("memo", CAPACITY, 64 * RECORD_WEIGHT, 1),
            weight: RECORD_WEIGHT,
        }
    }
}

impl Default for ReadersMemo {
    fn default() -> Self {
        Self {
            lists: Bounded::new("readers", READERS_CAPACITY, 16 * READER_WEIGHT, 1),
            weight: READER_WEIGHT,
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Memo<T> {
    /// The list of `name` at `revision`, if it is remembered at that revision.
    pub(super) fn get(&self, name: &ContractName, revision: i64) -> Option<Vec<T>> {
        let found = self
            .lists
            .peek(name)
            .filter(|list| list.0 == revision)
            .map(|list| list.1.clone());
        self.lists.count(found.is_some());
        found
    }

    /// The list of `name` at `revision`: the remembered one, or else the one `read`
    /// returns, remembered from now on.
    pub(super) async fn get_or_read(
        &self,
        name: &ContractName,
        revision: i64,
        read: impl AsyncFnOnce() -> Result<Vec<T>, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        if let Some(versions) = self.get(name, revision) {
            return Ok(versions);
        }
        let versions = read().await?;
        self.put(name, revision, versions.clone());
        Ok(versions)
    }

    /// Remembers `versions` as the list of `name` at `revision`.
    fn put(&self, name: &ContractName, revision: i64, versions: Vec<T>) {
        let weight = versions.len() as u64 * self.weight + key_weight(name.as_str());
        // An older list is replaced, or removed when the new one is too heavy to keep.
        self.lists.remove(name);
        self.lists
            .insert(name.clone(), Arc::new((revision, versions)), weight);
    }

    /// Its hit and miss counts.
    pub(super) fn stats(&self) -> CacheStats {
        self.lists.stats()
    }
}

impl VersionMemo {
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
    fn the_memo_never_holds_more_than_its_bound() {
        let memo = VersionMemo::default();
        let records = (CAPACITY / RECORD_WEIGHT) as usize;
        let big = |n: &ContractName, len: usize| (1..=len as i64).map(|s| version(n, s)).collect();
        memo.put(&name(0), 1, big(&name(0), records / 2));
        memo.put(&name(1), 1, big(&name(1), records / 2));
        memo.put(&name(2), 1, big(&name(2), 10));
        let stats = memo.stats();
        assert!(stats.weight <= CAPACITY, "{stats:?}");
        assert!(memo.get(&name(2), 1).is_some(), "the newest list is kept");
        memo.put(&name(3), 1, big(&name(3), records + 1));
        assert!(
            memo.get(&name(3), 1).is_none(),
            "a list over the bound is not kept"
        );
    }
}
