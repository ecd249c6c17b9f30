//! The bounded map behind the session, token, user and organization caches.
//!
//! [`quick_cache`]'s sharded S3-FIFO cache: each insert into a full cache
//! evicts in O(1) (no sweep of the map under a lock), an entry that is hit
//! again is kept over a scan of keys seen once, and each shard has its own
//! lock, so concurrent requests rarely wait on one another.
//! [`bounded`] sizes it so that it never holds more than the capacity asked
//! for, and answers `None` for 0: the cache is off.

use std::hash::Hash;

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{DefaultHashBuilder, OptionsBuilder, UnitWeighter};

/// A cache of at most `capacity` entries; `None` for 0 (the cache is off).
///
/// quick_cache splits the capacity among its shards rounding each share up;
/// the shares here are rounded down instead (at most one entry a shard is
/// lost, and a shard holds at least 32), so the total is a hard bound.
pub(crate) fn bounded<K: Eq + Hash, V: Clone>(capacity: usize) -> Option<Cache<K, V>> {
    if capacity == 0 {
        return None;
    }
    let build = |weight: usize| {
        let options = OptionsBuilder::new()
            .estimated_items_capacity(capacity)
            .weight_capacity(weight as u64)
            .build()
            .expect("both capacities are set");
        Cache::with_options(
            options,
            UnitWeighter,
            DefaultHashBuilder::default(),
            DefaultLifecycle::default(),
        )
    };
    let cache = build(capacity);
    if cache.capacity() <= capacity as u64 {
        return Some(cache);
    }
    // The shard count depends on the item estimate only, which is unchanged.
    let shards = cache.num_shards();
    Some(build(capacity / shards * shards))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_capacity_never_exceeds_the_one_asked_for() {
        assert!(bounded::<u32, u32>(0).is_none());
        for capacity in [1, 7, 31, 33, 100, 1_000, 1_023, 4_096, 10_000, 10_007] {
            let cache = bounded::<u32, u32>(capacity).unwrap();
            assert!(cache.capacity() <= capacity as u64, "{capacity}");
            // Rounding down loses less than one entry a shard.
            assert!(cache.capacity() + cache.num_shards() as u64 > capacity as u64);
            for i in 0..(capacity as u32 * 3) {
                cache.insert(i, i);
                assert!(cache.len() <= capacity, "{capacity}: {}", cache.len());
            }
        }
    }
}
