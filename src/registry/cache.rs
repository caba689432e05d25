//! The version lists behind `latest` and ranges, kept in memory and forgotten when
//! their contract changes.
//!
//! A list is forgotten at once when this process writes to its contract. What other
//! processes on the same database write reaches this one in one of two ways:
//!
//! - **Pushed** (PostgreSQL): every committed change to a contract announces itself
//!   with `NOTIFY` (a trigger, in the writing transaction, so only on commit), and the
//!   store's listener forgets the contract's list here within milliseconds
//!   ([`Recent::invalidate`]). While that listener is connected a list is trusted for
//!   [`PUSHED_FRESH`], a safety net only.
//! - **Aged** (SQLite, and PostgreSQL while its listener is disconnected): a list is
//!   served for [`VERSIONS_FRESH`], then reread, and never once older than
//!   [`VERSIONS_MAX_AGE`]. When the listener reconnects, every list is forgotten
//!   (changes may have been missed meanwhile) before lists are trusted again.
//!
//! A list read from the database while its contract changed must not be kept: every
//! invalidation bumps an epoch, a reader takes a [`Ticket`] (the epoch) before it
//! reads, and a list whose ticket is older than the epoch once it is in the cache is
//! removed again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::cache::{Bounded, CacheStats, key_weight};
use crate::store::{Change, ChangeSink};

/// How long a contract's version list is served from memory without a second look,
/// while changes are not pushed.
pub(crate) const VERSIONS_FRESH: Duration = Duration::from_millis(400);

/// The oldest a version list may ever be when served while changes are not pushed:
/// after [`VERSIONS_FRESH`] one request rereads it while the others keep being
/// answered from the old list, but never from one older than this. Another process's
/// registration therefore becomes visible within this bound plus one read.
pub(crate) const VERSIONS_MAX_AGE: Duration = Duration::from_millis(800);

/// How long a list is served without a second look while changes are pushed. Every
/// change already removes its contract's list; this only bounds the harm of a
/// notification lost without the connection noticing.
pub(crate) const PUSHED_FRESH: Duration = Duration::from_secs(30);

/// The oldest a list is ever served while changes are pushed.
pub(crate) const PUSHED_MAX_AGE: Duration = Duration::from_secs(60);

/// The weight of one version record in a list (about its bytes in memory).
pub(crate) const VERSION_WEIGHT: u64 = 256;

/// One remembered list: when it was read, whether a reread is under way, the list.
struct Entry<V> {
    read_at: Instant,
    refreshing: AtomicBool,
    value: V,
}

/// The epoch a reader saw before it read a list from the database.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket(u64);

/// Recently read version lists by contract name, for `latest` and range lookups.
///
/// Refreshes are single-flight: when a list goes past its fresh time, the first
/// caller to notice is told to reread it (gets `None`) and every other caller keeps
/// the old list until the reread lands or the list reaches its maximum age. Under load
/// that turns "every request rereads at once" into one reread.
pub(crate) struct Recent<V> {
    lists: Bounded<String, Arc<Entry<V>>>,
    /// Bumped by every invalidation (see the module documentation).
    epoch: AtomicU64,
    /// Whether other processes' changes are pushed to this one now.
    pushed: AtomicBool,
    fresh: Duration,
    max_age: Duration,
}

impl<V: Clone + Send + Sync + 'static> Recent<V> {
    /// An empty cache called `name` holding at most `capacity` in weight, each list
    /// served without a reread for `fresh` and never once older than `max_age` while
    /// changes are not pushed.
    pub(crate) fn new(
        name: &'static str,
        capacity: u64,
        fresh: Duration,
        max_age: Duration,
    ) -> Self {
        Self {
            // Four shards: one list may take a quarter of the bound.
            lists: Bounded::new(name, capacity, 16 * VERSION_WEIGHT, 4),
            epoch: AtomicU64::new(0),
            pushed: AtomicBool::new(false),
            fresh,
            max_age: max_age.max(fresh),
        }
    }

    /// What a reader takes before reading a list from the database, to hand to
    /// [`insert`](Self::insert).
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.epoch.load(Ordering::SeqCst))
    }

    /// The list for `key`, unless the caller should read it afresh: when there is
    /// none, when it is past its maximum age, or when it is past its fresh time and
    /// this caller is the first to notice (it then owes an [`insert`](Self::insert)).
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let found = self.judge(key);
        self.lists.count(found.is_some());
        found
    }

    fn judge(&self, key: &str) -> Option<V> {
        let entry = self.lists.peek(key)?;
        let (fresh, max_age) = if self.pushed.load(Ordering::Acquire) {
            (PUSHED_FRESH, PUSHED_MAX_AGE)
        } else {
            (self.fresh, self.max_age)
        };
        let age = entry.read_at.elapsed();
        if age < fresh {
            return Some(entry.value.clone());
        }
        if age >= max_age {
            return None;
        }
        match entry
            .refreshing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => None,                       // this caller rereads
            Err(_) => Some(entry.value.clone()), // a reread is under way
        }
    }

    /// Remembers `value` for `key`, read just now after taking `ticket`, weighing
    /// `weight`. Not kept if the contract (or everything) was invalidated since the
    /// ticket was taken: the list may predate that change.
    pub(crate) fn insert(&self, key: &str, value: V, weight: u64, ticket: Ticket) {
        let entry = Entry {
            read_at: Instant::now(),
            refreshing: AtomicBool::new(false),
            value,
        };
        self.lists
            .insert(key.to_owned(), Arc::new(entry), weight + key_weight(key));
        // Inserted first, checked after: an invalidation either removes this entry or
        // bumped the epoch before this load sees it.
        if self.epoch.load(Ordering::SeqCst) != ticket.0 {
            self.lists.remove(key);
        }
    }

    /// Forgets `key` (its contract changed, here or in another process).
    pub(crate) fn invalidate(&self, key: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.lists.remove(key);
    }

    /// Forgets every list.
    pub(crate) fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.lists.clear();
    }

    /// Whether changes are pushed from now on. Becoming pushed forgets every list
    /// first: changes made while they were not pushed may not have been seen.
    pub(crate) fn set_pushed(&self, pushed: bool) {
        if pushed {
            self.invalidate_all();
        }
        self.pushed.store(pushed, Ordering::Release);
    }

    /// Its hit and miss counts.
    pub(crate) fn stats(&self) -> CacheStats {
        self.lists.stats()
    }
}

impl<V: Clone + Send + Sync + 'static> ChangeSink for Recent<V> {
    fn changed(&self, change: &Change) {
        match change {
            Change::Contract(name) => self.invalidate(name.as_str()),
            Change::Everything => self.invalidate_all(),
        }
    }

    fn pushed(&self, pushed: bool) {
        self.set_pushed(pushed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: u64 = 1 << 20;

    #[test]
    fn entries_are_served_until_fresh_time_and_forgotten_on_invalidation() {
        let cache = Recent::new("test", BIG, Duration::ZERO, Duration::ZERO);
        cache.insert("a", 1, 1, cache.ticket());
        assert_eq!(cache.get("a"), None, "a zero maximum age never serves");
        let cache = Recent::new(
            "test",
            BIG,
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        cache.insert("a", 1, 1, cache.ticket());
        assert_eq!(cache.get("a"), Some(1));
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 1));
    }

    #[test]
    fn past_fresh_time_one_caller_rereads_while_the_others_get_the_old_list() {
        let cache = Recent::new("test", BIG, Duration::ZERO, Duration::from_secs(60));
        cache.insert("a", 1, 1, cache.ticket());
        assert_eq!(cache.get("a"), None, "the first caller is told to reread");
        assert_eq!(cache.get("a"), Some(1), "the next ones keep the old list");
        assert_eq!(cache.get("a"), Some(1));
        cache.insert("a", 2, 1, cache.ticket());
        assert_eq!(
            cache.get("a"),
            None,
            "a new reread after the next fresh time"
        );
        assert_eq!(cache.get("a"), Some(2));
    }

    #[test]
    fn a_list_past_its_maximum_age_is_never_served() {
        let cache = Recent::new("test", BIG, Duration::ZERO, Duration::from_millis(20));
        cache.insert("a", 1, 1, cache.ticket());
        assert_eq!(cache.get("a"), None);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get("a"), None, "even while a reread is under way");
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn a_list_read_before_an_invalidation_is_not_kept() {
        let cache = Recent::new(
            "test",
            BIG,
            Duration::from_secs(60),
            Duration::from_secs(60),
        );
        let ticket = cache.ticket();
        // Another process's change lands while this reader is at the database.
        cache.invalidate("a");
        cache.insert("a", 1, 1, ticket);
        assert_eq!(cache.get("a"), None, "the old list was not kept");
        cache.insert("a", 2, 1, cache.ticket());
        assert_eq!(cache.get("a"), Some(2));
    }

    #[test]
    fn pushed_lists_are_trusted_past_the_aged_bound_and_reconnecting_forgets_them() {
        let cache = Recent::new("test", BIG, Duration::ZERO, Duration::ZERO);
        cache.set_pushed(true);
        cache.insert("a", 1, 1, cache.ticket());
        assert_eq!(cache.get("a"), Some(1), "trusted while pushed");
        cache.set_pushed(false);
        assert_eq!(cache.get("a"), None, "aged again once the listener is lost");
        cache.insert("a", 2, 1, cache.ticket());
        let before = cache.ticket();
        cache.set_pushed(true);
        assert_eq!(cache.get("a"), None, "forgotten on reconnection");
        cache.insert("a", 3, 1, before);
        assert_eq!(
            cache.get("a"),
            None,
            "a read from before reconnection is not kept"
        );
    }
}
