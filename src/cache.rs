//! The server's bounded in-memory caches, each with its hit and miss counts.
//!
//! Every cache of the server (schemas by id in `registry`, the version lists behind
//! `latest` in `registry::cache`, the version memo in `store::memo`, the served
//! documents in `http::caching`) is a [`Bounded`]: quick_cache's concurrent cache,
//! bounded by weight (about the bytes an entry holds, so one large schema document
//! counts for many small ones), with S3-FIFO eviction. S3-FIFO keeps an entry that is
//! read again in its "hot" queue and lets one-off entries pass through a small
//! probation queue, so a stream of cold lookups (a consumer walking every schema id
//! once) cannot push out the schema every producer fetches; the hand-written maps
//! this replaces dropped an arbitrary entry when full.
//!
//! quick_cache rather than moka: a read is one sharded read lock and a clone, with no
//! background work and no read buffer to drain (the fetch routes answer from these
//! caches on every request), the eviction policy is scan resistant, and its
//! dependencies are already in the tree. moka's time-based expiry is not needed: the
//! one cache whose entries age (`registry::cache::Recent`) keeps the time it read
//! each entry and decides itself.
//!
//! An entry heavier than its shard's share of the bound (the bound divided by the
//! number of shards) is not kept at all: it is read again each time.
//!
//! What a cache lets go of is freed after its shard's lock is released, and an entry
//! of [`HEAVY`] weight or more on the runtime's blocking pool: freeing a large parsed
//! schema and its compiled validator takes milliseconds, which the request whose
//! insertion evicted it should not wait for.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

/// What one cache holds and how it has been used since the process started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheStats {
    /// Which cache (`schemas`, `parsed`, `validators`, `served`, `latest`, `memo`).
    pub name: &'static str,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to read the database (or build the value).
    pub misses: u64,
    /// Entries held now.
    pub entries: u64,
    /// Their weight now (about bytes; see each cache's bound).
    pub weight: u64,
    /// The most weight the cache holds.
    pub capacity: u64,
}

/// A value with the weight it was inserted with.
#[derive(Clone)]
struct Weighed<V> {
    value: V,
    weight: u64,
}

/// Reads the weight stored beside each value.
#[derive(Clone, Copy)]
struct ByWeight;

impl<K, V> quick_cache::Weighter<K, Weighed<V>> for ByWeight {
    fn weight(&self, _: &K, val: &Weighed<V>) -> u64 {
        val.weight
    }
}

/// Gathers the entries an operation evicts (or refuses, being too heavy), for
/// [`free_entries`].
#[derive(Clone, Copy, Default)]
struct Evictions;

impl<K, V> quick_cache::Lifecycle<K, Weighed<V>> for Evictions {
    type RequestState = Vec<Weighed<V>>;

    fn on_evict(&self, evicted: &mut Self::RequestState, _: K, value: Weighed<V>) {
        evicted.push(value);
    }
}

/// The weight from which what is let go of is freed off the caller's thread (a
/// parsed schema weighs 8 per byte of its text, so a schema of 32 KB or more).
pub const HEAVY: u64 = 256 << 10;

/// Frees `value`: on the runtime's blocking pool when it weighs [`HEAVY`] or more and
/// there is a runtime, here otherwise.
fn free<T: Send + 'static>(value: T, weight: u64) {
    if weight >= HEAVY
        && let Ok(runtime) = tokio::runtime::Handle::try_current()
    {
        runtime.spawn_blocking(move || drop(value));
    }
}

/// Frees entries a cache let go of, as [`free`] does.
fn free_entries<V: Send + 'static>(evicted: Vec<Weighed<V>>) {
    let weight = evicted.iter().map(|e| e.weight).sum();
    free(evicted, weight);
}

/// A value that is freed as [`free`] does when it goes: on the runtime's blocking pool
/// when it weighs [`HEAVY`] or more, so that a request that parsed a large schema
/// answers without waiting for its tree and compiled validator to be freed.
#[derive(Debug, Clone)]
pub struct FreedOffThread<T: Send + 'static> {
    /// Always `Some` until dropped.
    value: Option<T>,
    weight: u64,
}

impl<T: Send + 'static> FreedOffThread<T> {
    /// `value`, weighing `weight` (about its bytes, as a cache weighs it).
    pub fn new(value: T, weight: u64) -> Self {
        Self {
            value: Some(value),
            weight,
        }
    }
}

impl<T: Send + 'static> std::ops::Deref for FreedOffThread<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.value
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only when dropped"))
    }
}

impl<T: Send + 'static> Drop for FreedOffThread<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            free(value, self.weight);
        }
    }
}

/// A concurrent cache bounded by weight, counting its hits and misses.
pub struct Bounded<K, V> {
    name: &'static str,
    capacity: u64,
    inner: quick_cache::sync::Cache<
        K,
        Weighed<V>,
        ByWeight,
        quick_cache::DefaultHashBuilder,
        Evictions,
    >,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone + Send + 'static> Bounded<K, V> {
    /// An empty cache called `name` holding at most `capacity` in weight, in `shards`
    /// independently locked parts (an entry heavier than `capacity / shards` is not
    /// kept). `typical` is the weight of a typical entry, to size the tables.
    pub fn new(name: &'static str, capacity: u64, typical: u64, shards: usize) -> Self {
        let items = usize::try_from(capacity / typical.max(1)).unwrap_or(usize::MAX);
        let options = quick_cache::OptionsBuilder::new()
            .estimated_items_capacity(items.max(1))
            .weight_capacity(capacity)
            .shards(shards.max(1))
            .build()
            .unwrap_or_else(|_| unreachable!("both capacities are set"));
        Self {
            name,
            capacity,
            inner: quick_cache::sync::Cache::with_options(
                options,
                ByWeight,
                Default::default(),
                Default::default(),
            ),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The value for `key`, counted as a hit or a miss.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        let found = self.inner.get(key).map(|w| w.value);
        self.count(found.is_some());
        found
    }

    /// The value for `key` without counting the lookup (for a caller that judges the
    /// value itself and then calls [`count`](Self::count)).
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        self.inner.get(key).map(|w| w.value)
    }

    /// Counts one lookup.
    pub fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps `value` for `key`, weighing `weight` (at least 1).
    pub fn insert(&self, key: K, value: V, weight: u64) {
        let mut evicted = Vec::new();
        self.inner.insert_with_lifecycle(
            key,
            Weighed {
                value,
                weight: weight.max(1),
            },
            &mut evicted,
        );
        free_entries(evicted);
    }

    /// Forgets `key`.
    pub fn remove<Q>(&self, key: &Q)
    where
        Q: Hash + quick_cache::Equivalent<K> + ?Sized,
    {
        if let Some((_, removed)) = self.inner.remove(key) {
            let weight = removed.weight;
            free(removed, weight);
        }
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.inner.clear();
    }

    /// What the cache holds and its counts.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            name: self.name,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.inner.len() as u64,
            weight: self.inner.weight(),
            capacity: self.capacity,
        }
    }
}

/// The weight of a string key: its bytes plus the bookkeeping of an entry.
pub fn key_weight(key: impl Borrow<str>) -> u64 {
    key.borrow().len() as u64 + ENTRY_OVERHEAD
}

/// What an entry costs beyond its value (the table slot, the key's allocation).
pub const ENTRY_OVERHEAD: u64 = 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hot_entry_survives_a_stream_of_cold_ones() {
        // Room for 100 entries, filled with cold ones first. Then the hot one is read
        // (and put back when missing, as the registry does) between every 10 cold ids,
        // as a schema every producer fetches would be while a consumer walks every id
        // once. A map that evicts an arbitrary entry drops it about once per 100
        // insertions (some 100 times here).
        let cache = Bounded::new("test", 100, 1, 1);
        for id in 1..=100_i64 {
            cache.insert(id, "cold", 1);
        }
        let mut hot_misses = 0;
        for id in 101..=10_100_i64 {
            if cache.get(&id).is_none() {
                cache.insert(id, "cold", 1);
            }
            if id % 10 == 0 && cache.get(&0).is_none() {
                hot_misses += 1;
                cache.insert(0, "hot", 1);
            }
        }
        assert!(
            hot_misses <= 2,
            "the hot entry was dropped {hot_misses} times"
        );
        let stats = cache.stats();
        assert!(stats.entries <= 100, "{stats:?}");
        assert_eq!(stats.misses, 10_000 + hot_misses, "{stats:?}");
        assert_eq!(stats.hits, 1000 - hot_misses, "{stats:?}");
    }

    #[test]
    fn the_bound_is_a_weight_so_large_entries_count_for_many_small_ones() {
        let cache = Bounded::new("test", 1000, 10, 1);
        for id in 0..100_i64 {
            cache.insert(id, (), 10);
        }
        cache.insert(1000, (), 500);
        let stats = cache.stats();
        assert!(stats.weight <= 1000, "{stats:?}");
        assert!(stats.entries < 100, "{stats:?}");
        // Heavier than the whole bound: not kept.
        cache.insert(2000, (), 5000);
        assert_eq!(cache.get(&2000), None);
        assert!(cache.stats().weight <= 1000);
    }

    #[test]
    fn removal_and_clearing_forget_entries() {
        let cache = Bounded::new("test", 100, 1, 2);
        cache.insert("a".to_owned(), 1, 1);
        cache.insert("b".to_owned(), 2, 1);
        cache.remove("a");
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("b"), Some(2));
        cache.clear();
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.stats().entries, 0);
    }

    /// Reports the thread it is dropped on.
    #[derive(Clone)]
    struct Tracked(std::sync::mpsc::Sender<std::thread::ThreadId>);

    impl Drop for Tracked {
        fn drop(&mut self) {
            let _ = self.0.send(std::thread::current().id());
        }
    }

    fn dropped_on(
        freed: &std::sync::mpsc::Receiver<std::thread::ThreadId>,
    ) -> std::thread::ThreadId {
        freed
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the value was freed")
    }

    #[test]
    fn a_heavy_entry_evicted_by_an_insertion_is_freed_off_the_inserting_thread() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let inside = runtime.enter();
        let here = std::thread::current().id();
        // Room for one heavy entry: the second insertion lets one go.
        let (sender, freed) = std::sync::mpsc::channel();
        let cache = Bounded::new("test", HEAVY, HEAVY, 1);
        cache.insert(1, Tracked(sender.clone()), HEAVY);
        cache.insert(2, Tracked(sender), HEAVY);
        assert_ne!(
            dropped_on(&freed),
            here,
            "a heavy entry is freed on the blocking pool"
        );

        // A light one is freed at once, by the caller.
        let (sender, freed) = std::sync::mpsc::channel();
        let cache = Bounded::new("test", 1, 1, 1);
        cache.insert(1, Tracked(sender.clone()), 1);
        cache.insert(2, Tracked(sender), 1);
        assert_eq!(
            freed.try_recv(),
            Ok(here),
            "a light entry is freed where it is evicted"
        );

        // So is a heavy one removed outside a runtime.
        drop(inside);
        let (sender, freed) = std::sync::mpsc::channel();
        let cache = Bounded::new("test", 2 * HEAVY, HEAVY, 1);
        cache.insert(1, Tracked(sender), HEAVY);
        cache.remove(&1);
        assert_eq!(freed.try_recv(), Ok(here));
    }

    #[test]
    fn a_heavy_value_is_freed_off_the_thread_that_lets_it_go() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let here = std::thread::current().id();
        let (sender, freed) = std::sync::mpsc::channel();
        {
            let _inside = runtime.enter();
            let heavy = FreedOffThread::new(Tracked(sender.clone()), HEAVY);
            let light = FreedOffThread::new(Tracked(sender.clone()), HEAVY - 1);
            drop(light);
            assert_eq!(freed.try_recv(), Ok(here), "a light value is freed here");
            drop(heavy);
            assert_ne!(
                dropped_on(&freed),
                here,
                "a heavy value is freed on the blocking pool"
            );
        }
        drop(FreedOffThread::new(Tracked(sender), HEAVY));
        assert_eq!(freed.try_recv(), Ok(here), "without a runtime, here");
    }
}
