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

/// How long a contract's version list may be served from memory. Another process's
/// registration becomes visible within this time (the issue allows one second); this
/// process's own writes invalidate the entry at once.
pub(crate) const VERSIONS_TTL: std::time::Duration = std::time::Duration::from_millis(500);

/// Recently read version lists by contract name, for `latest` and range lookups.
pub(crate) struct Recent<V> {
    capacity: usize,
    ttl: std::time::Duration,
    map: RwLock<HashMap<String, (std::time::Instant, V)>>,
}

impl<V: Clone> Recent<V> {
    /// An empty cache of at most `capacity` lists, each fresh for `ttl`.
    pub(crate) fn new(capacity: usize, ttl: std::time::Duration) -> Self {
        Self {
            capacity,
            ttl,
            map: RwLock::new(HashMap::new()),
        }
    }

    /// The list for `key` if it was read less than the TTL ago.
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, v)| v.clone())
    }

    /// Remembers `value` for `key`, read just now.
    pub(crate) fn insert(&self, key: &str, value: V) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(key) {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
            if map.len() >= self.capacity {
                if let Some(victim) = map.keys().next().cloned() {
                    map.remove(&victim);
                }
            }
        }
        map.insert(key.to_owned(), (std::time::Instant::now(), value));
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

    #[test]
    fn entries_expire_after_the_ttl_and_on_invalidation() {
        let cache = Recent::new(4, std::time::Duration::from_millis(0));
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), None, "a zero TTL never serves");
        let cache = Recent::new(4, std::time::Duration::from_secs(60));
        cache.insert("a", 1);
        assert_eq!(cache.get("a"), Some(1));
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
    }
}
