//! A bounded, expiring cache of values fetched from WorkOS by key, shared
//! by the user cache (Bearer requests' users) and the organization cache
//! (the session's organization).
//!
//! A value is kept for a while (`ttl`); concurrent misses for one key share
//! one fetch; a failed fetch is not kept (the next request tries again).
//! Memory bound: at most `capacity` values. When full, expired entries are
//! dropped first, then arbitrary ones (a tenth more, so that a full cache
//! does not sweep on every miss).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::client::Error as ClientError;

pub(crate) type Fetched<T> = Result<Arc<T>, Arc<ClientError>>;

enum Entry<T> {
    Ready { value: Arc<T>, at: SystemTime },
    Fetching(Shared<BoxFuture<'static, Fetched<T>>>),
}

/// Values fetched by key, kept for `ttl`, at most `capacity` of them.
pub(crate) struct FetchCache<T> {
    entries: Mutex<HashMap<String, Entry<T>>>,
    capacity: usize,
    ttl: Duration,
}

impl<T: Send + Sync + 'static> FetchCache<T> {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        FetchCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
            ttl,
        }
    }

    fn fresh(&self, at: SystemTime, now: SystemTime) -> bool {
        // A clock set back makes an entry look younger, never older.
        now.duration_since(at).map_or(true, |age| age < self.ttl)
    }

    /// The value of `key`, from the cache or from `fetch` (one fetch for
    /// concurrent misses).
    pub(crate) async fn get_or_fetch<F>(&self, key: &str, now: SystemTime, fetch: F) -> Fetched<T>
    where
        F: Future<Output = Result<T, ClientError>> + Send + 'static,
    {
        if self.capacity == 0 || self.ttl.is_zero() {
            return fetch.await.map(Arc::new).map_err(Arc::new);
        }
        let shared = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match entries.get(key) {
                Some(Entry::Ready { value, at }) if self.fresh(*at, now) => {
                    return Ok(value.clone());
                }
                Some(Entry::Fetching(shared)) => shared.clone(),
                _ => {
                    let shared = fetch
                        .map(|r| r.map(Arc::new).map_err(Arc::new))
                        .boxed()
                        .shared();
                    self.make_room(&mut entries, now);
                    entries.insert(key.to_owned(), Entry::Fetching(shared.clone()));
                    shared
                }
            }
        };
        let fetched = shared.clone().await;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        // Only the first waiter to finish replaces its own fetch; the others
        // find it done already. A fetch that `forget` dropped (and another
        // may have replaced) is not written back: its value may be stale.
        if matches!(entries.get(key), Some(Entry::Fetching(f)) if Shared::ptr_eq(f, &shared)) {
            match &fetched {
                Ok(value) => {
                    entries.insert(
                        key.to_owned(),
                        Entry::Ready {
                            value: value.clone(),
                            at: now,
                        },
                    );
                }
                Err(_) => {
                    entries.remove(key);
                }
            }
        }
        fetched
    }

    /// Drops `key`'s value (or fetch in flight): the next request fetches anew.
    pub(crate) fn forget(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(key);
    }

    fn make_room(&self, entries: &mut HashMap<String, Entry<T>>, now: SystemTime) {
        if entries.len() < self.capacity {
            return;
        }
        entries.retain(|_, e| match e {
            Entry::Ready { at, .. } => self.fresh(*at, now),
            Entry::Fetching(_) => true,
        });
        if entries.len() >= self.capacity {
            let excess = entries.len() + 1 - self.capacity + self.capacity / 10;
            let victims: Vec<String> = entries.keys().take(excess).cloned().collect();
            for k in victims {
                entries.remove(&k);
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::client::User;

    type UserCache = FetchCache<User>;

    fn user(id: &str) -> User {
        serde_json::from_value(serde_json::json!({"id": id, "email": "e",
            "created_at": "t", "updated_at": "t"}))
        .unwrap()
    }

    fn counted(
        calls: &Arc<AtomicUsize>,
        id: &str,
    ) -> impl Future<Output = Result<User, ClientError>> + Send + 'static {
        let calls = calls.clone();
        let user = user(id);
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(user)
        }
    }

    #[tokio::test]
    async fn a_user_is_fetched_once_until_it_expires() {
        let cache = UserCache::new(10, Duration::from_secs(60));
        let calls = Arc::new(AtomicUsize::new(0));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        for _ in 0..3 {
            let u = cache
                .get_or_fetch("u1", t0, counted(&calls, "u1"))
                .await
                .unwrap();
            assert_eq!(u.id, "u1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let later = t0 + Duration::from_secs(61);
        cache
            .get_or_fetch("u1", later, counted(&calls, "u1"))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_misses_for_one_user_share_one_fetch() {
        let cache = UserCache::new(10, Duration::from_secs(60));
        let calls = Arc::new(AtomicUsize::new(0));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let all = futures_util::future::join_all(
            (0..8).map(|_| cache.get_or_fetch("u1", now, counted(&calls, "u1"))),
        )
        .await;
        assert!(all.iter().all(|r| r.is_ok()));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_forgotten_key_is_fetched_again_before_it_expires() {
        let cache = UserCache::new(10, Duration::from_secs(300));
        let calls = Arc::new(AtomicUsize::new(0));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        cache
            .get_or_fetch("u1", now, counted(&calls, "u1"))
            .await
            .unwrap();
        cache.forget("u1");
        cache.forget("never-seen");
        cache
            .get_or_fetch("u1", now, counted(&calls, "u1"))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_fetch_in_flight_when_forgotten_does_not_write_back_its_stale_value() {
        let cache = Arc::new(UserCache::new(10, Duration::from_secs(300)));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let (release_old, old_done) = tokio::sync::oneshot::channel::<()>();
        let stale = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_or_fetch("u1", now, async move {
                        let _ = old_done.await;
                        Ok(user("stale"))
                    })
                    .await
            })
        };
        tokio::task::yield_now().await; // the stale fetch is in flight
        cache.forget("u1"); // e.g. an organization.updated webhook
        let (release_new, new_done) = tokio::sync::oneshot::channel::<()>();
        let fresh = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get_or_fetch("u1", now, async move {
                        let _ = new_done.await;
                        Ok(user("fresh"))
                    })
                    .await
            })
        };
        tokio::task::yield_now().await; // the fresh fetch is in flight too
        // The stale one finishes first, while the fresh one is still fetching.
        release_old.send(()).unwrap();
        assert_eq!(stale.await.unwrap().unwrap().id, "stale");
        release_new.send(()).unwrap();
        assert_eq!(fresh.await.unwrap().unwrap().id, "fresh");
        let calls = Arc::new(AtomicUsize::new(0));
        let kept = cache
            .get_or_fetch("u1", now, counted(&calls, "unused"))
            .await
            .unwrap();
        assert_eq!(
            kept.id, "fresh",
            "the forgotten fetch's value was written back"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_kept() {
        let cache = UserCache::new(10, Duration::from_secs(60));
        let now = SystemTime::UNIX_EPOCH;
        let failed = cache
            .get_or_fetch("u1", now, async { Err(ClientError::Timeout) })
            .await;
        assert!(failed.is_err());
        assert_eq!(cache.len(), 0);
        let calls = Arc::new(AtomicUsize::new(0));
        cache
            .get_or_fetch("u1", now, counted(&calls, "u1"))
            .await
            .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_cache_never_grows_past_its_capacity() {
        let cache = UserCache::new(20, Duration::from_secs(60));
        let calls = Arc::new(AtomicUsize::new(0));
        let now = SystemTime::UNIX_EPOCH;
        for i in 0..200 {
            let id = format!("u{i}");
            cache
                .get_or_fetch(&id, now, counted(&calls, &id))
                .await
                .unwrap();
            assert!(cache.len() <= 20);
        }
    }
}
