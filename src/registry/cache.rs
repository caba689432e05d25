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
