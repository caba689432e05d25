//! A bounded in-memory map for immutable values keyed by schema id.
//!
//! Only immutable things go in here (a schema id always names the same document), so
//! there is nothing to invalidate. When full, an arbitrary entry is evicted: good
//! enough for a cache whose misses cost one indexed read and a parse.

use std::collections::HashMap;
use std::sync::RwLock;

/// A bounded id → value map, safe to share between tasks.
pub(crate) struct Cache<V> {
    capacity: usize,
    map: RwLock<HashMap<i64, V>>,
}

impl<V: Clone> Cache<V> {
    /// An empty cache holding at most `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The value for `id`, if cached.
    pub(crate) fn get(&self, id: i64) -> Option<V> {
        // A poisoned lock only means another thread panicked mid-insert of an
        // immutable value; the map is still usable.
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// Caches `value` for `id`.
    pub(crate) fn insert(&self, id: i64, value: V) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(&id) {
            if let Some(victim) = map.keys().next().copied() {
                map.remove(&victim);
            }
        }
        map.insert(id, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = Cache::new(2);
        for id in 0..10 {
            cache.insert(id, id * 10);
        }
        assert_eq!(cache.map.read().unwrap().len(), 2);
        assert_eq!(cache.get(9), Some(90));
    }
}

/// How long a contract's version list is served from memory without a second look.
pub(crate) const VERSIONS_FRESH: std::time::Duration = std::time::Duration::from_millis(400);

/// The oldest a version list may ever be when served: after [`VERSIONS_FRESH`] one
/// request rereads it while the others keep being answered from the old list, but
/// never from one older than this. Another process's registration therefore becomes
/// visible within this bound plus one read (the issue allows one second); this
/// process's own writes invalidate the entry at once.
pub(crate) const VERSIONS_MAX_AGE: std::time::Duration = std::time::Duration::from_millis(800);

/// One remembered list: when it was read, whether a reread is under way, the list.
struct Entry<V> {
    read_at: std::time::Instant,
    refreshing: std::sync::atomic::AtomicBool,
    value: V,
}

/// Recently read version lists by contract name, for `latest` and range lookups.
///
/// Refreshes are single-flight: when a list goes past its fresh time, the first
/// caller to notice is told to reread it (gets `None`) and every other caller keeps
/// the old list until the reread lands or the list reaches its maximum age. Under load
/// that turns "every request rereads at once, every half second" into one reread.
pub(crate) struct Recent<V> {
    capacity: usize,
    fresh: std::time::Duration,
    max_age: std::time::Duration,
    map: RwLock<HashMap<String, Entry<V>>>,
}

impl<V: Clone> Recent<V> {
    /// An empty cache of at most `capacity` lists, each served without a reread for
    /// `fresh` and never once older than `max_age`.
    pub(crate) fn new(
        capacity: usize,
        fresh: std::time::Duration,
        max_age: std::time::Duration,
    ) -> Self {
        Self {
            capacity,
            fresh,
            max_age: max_age.max(fresh),
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The list for `key`, unless the caller should read it afresh: when there is
    /// none, when it is past its maximum age, or when it is past its fresh time and
    /// this caller is the first to notice (it then owes an [`insert`](Self::insert)).
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        use std::sync::atomic::Ordering;
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        let entry = map.get(key)?;
        let age = entry.read_at.elapsed();
        if age < self.fresh {
            return Some(entry.value.clone());
        }
        if age >= self.max_age {
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

    /// Remembers `value` for `key`, read just now.
    pub(crate) fn insert(&self, key: &str, value: V) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(key) {
            let max_age = self.max_age;
            map.retain(|_, e| e.read_at.elapsed() < max_age);
            if map.len() >= self.capacity {
                if let Some(victim) = map.keys().next().cloned() {
                    map.remove(&victim);
                }
            }
        }
        let entry = Entry {
            read_at: std::time::Instant::now(),
            refreshing: std::sync::atomic::AtomicBool::new(false),
            value,
        };
        map.insert(key.to_owned(), entry);
    }

    /// Forgets `key` (after this process wrote to it).
    pub(crate) fn invalidate(&self, key: &str) {
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod recent_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn entries_are_served_until_fresh_time_and_forgotten_on_invalidation() {
        let cache = Recent::new(4, Duration::ZERO, Duration::ZERO);
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), None, "a zero maximum age never serves");
        let cache = Recent::new(4, Duration::from_secs(60), Duration::from_secs(60));
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn past_fresh_time_one_caller_rereads_while_the_others_get_the_old_list() {
        let cache = Recent::new(4, Duration::ZERO, Duration::from_secs(60));
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), None, "the first caller is told to reread");
        assert_eq!(cache.get("a"), Some(1), "the next ones keep the old list");
        assert_eq!(cache.get("a"), Some(1));
        cache.insert("a", 2);
        assert_eq!(
            cache.get("a"),
            None,
            "a new reread after the next fresh time"
        );
        assert_eq!(cache.get("a"), Some(2));
    }

    #[test]
    fn a_list_past_its_maximum_age_is_never_served() {
        let cache = Recent::new(4, Duration::ZERO, Duration::from_millis(20));
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), None);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get("a"), None, "even while a reread is under way");
        assert_eq!(cache.get("a"), None);
    }
}
