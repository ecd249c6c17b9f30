//! A bounded, expiring cache of values fetched from WorkOS by key, shared
//! by the user cache (Bearer requests' users) and the organization cache
//! (the session's organization).
//!
//! A value is kept for a while (`ttl`); concurrent misses for one key share
//! one fetch; a failed fetch is not kept (the next request tries again).
//! Memory bound: at most `capacity` entries (a fetch in flight counts as
//! one), evicted S3-FIFO ([`bounded`](super::bounded)): O(1) per insert,
//! values in use kept over keys asked once. An expired value stays until it
//! is evicted or asked for again (then it is fetched anew).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use quick_cache::sync::{Cache, EntryAction, EntryResult};

use super::bounded::bounded;
use crate::client::Error as ClientError;

pub(crate) type Fetched<T> = Result<Arc<T>, Arc<ClientError>>;

type Fetch<T> = Shared<BoxFuture<'static, Fetched<T>>>;

enum Entry<T> {
    Ready { value: Arc<T>, at: SystemTime },
    Fetching(Fetch<T>),
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        match self {
            Entry::Ready { value, at } => Entry::Ready {
                value: value.clone(),
                at: *at,
            },
            Entry::Fetching(fetch) => Entry::Fetching(fetch.clone()),
        }
    }
}

/// What a lookup found under the shard's lock.
enum Found<T> {
    Value(Arc<T>),
    Join(Fetch<T>),
}

/// Values fetched by key, kept for `ttl`, at most `capacity` of them.
pub(crate) struct FetchCache<T> {
    /// `None`: the cache is off.
    entries: Option<Cache<String, Entry<T>>>,
    ttl: Duration,
}

impl<T: Send + Sync + 'static> FetchCache<T> {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        FetchCache {
            entries: if ttl.is_zero() {
                None
            } else {
                bounded(capacity)
            },
            ttl,
        }
    }

    fn fresh(&self, at: SystemTime, now: SystemTime) -> bool {
        // A clock set back makes an entry look younger, never older.
        now.duration_since(at).map_or(true, |age| age < self.ttl)
    }

    /// The value of `key`, from the cache or from the future `fetch` makes
    /// (one fetch for concurrent misses).
    ///
    /// `fetch` is called only on a miss, and its future is boxed: a client
    /// call's future is kilobytes, and held here by value it would make
    /// every caller's future (an extractor's, on every request) as large.
    pub(crate) async fn get_or_fetch<M, F>(
        &self,
        key: &str,
        now: SystemTime,
        fetch: M,
    ) -> Fetched<T>
    where
        M: FnOnce() -> F,
        F: Future<Output = Result<T, ClientError>> + Send + 'static,
    {
        let Some(entries) = &self.entries else {
            return Box::pin(fetch()).await.map(Arc::new).map_err(Arc::new);
        };
        // A fresh value under the shard's read lock: the common case.
        if let Some(Entry::Ready { value, at }) = entries.get(key)
            && self.fresh(at, now)
        {
            return Ok(value);
        }
        let mut fetch = Some(fetch);
        let mut start = || -> Fetch<T> {
            (fetch.take().expect("one fetch started at most"))()
                .map(|r| r.map(Arc::new).map_err(Arc::new))
                .boxed()
                .shared()
        };
        // Under the shard's write lock: join a fetch in flight, or start one
        // in place of an expired value.
        let found = entries
            .entry_async(key, |_, entry| match entry {
                Entry::Ready { value, at } if self.fresh(*at, now) => {
                    EntryAction::Retain(Found::Value(value.clone()))
                }
                Entry::Fetching(shared) => EntryAction::Retain(Found::Join(shared.clone())),
                Entry::Ready { .. } => {
                    let shared = start();
                    *entry = Entry::Fetching(shared.clone());
                    EntryAction::Retain(Found::Join(shared))
                }
            })
            .await;
        let shared = match found {
            EntryResult::Retained(Found::Value(value)) => return Ok(value),
            EntryResult::Retained(Found::Join(shared)) => shared,
            EntryResult::Vacant(guard) => {
                let shared = start();
                // Refused only if `forget` removed the placeholder meanwhile:
                // the fetch (not started yet) still answers this request.
                let _ = guard.insert(Entry::Fetching(shared.clone()));
                shared
            }
            // The callback neither removes nor replaces, and waits have no timeout.
            EntryResult::Removed(..) | EntryResult::Replaced(..) | EntryResult::Timeout => start(),
        };
        let fetched = shared.clone().await;
        // Only the first waiter to finish replaces its own fetch; the others
        // find it done already. A fetch that `forget` dropped (and another
        // may have replaced) is not written back: its value may be stale.
        let mine =
            |entry: &Entry<T>| matches!(entry, Entry::Fetching(f) if Shared::ptr_eq(f, &shared));
        match &fetched {
            Ok(value) => {
                // No wait for a placeholder (another request is starting a
                // fetch after a `forget`: not ours), and a vacant key is left
                // vacant (the guard is dropped unfilled).
                let _ = entries.entry(key, Some(Duration::ZERO), |_, entry| {
                    if mine(entry) {
                        *entry = Entry::Ready {
                            value: value.clone(),
                            at: now,
                        };
                    }
                    EntryAction::Retain(())
                });
            }
            Err(_) => {
                entries.remove_if(key, mine);
            }
        }
        fetched
    }

    /// Drops `key`'s value (or fetch in flight): the next request fetches anew.
    pub(crate) fn forget(&self, key: &str) {
        if let Some(entries) = &self.entries {
            entries.remove(key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, Cache::len)
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

    /// A fetch made already, handed over on a miss.
    fn lazy<F>(fetch: F) -> impl FnOnce() -> F {
        move || fetch
    }

    #[tokio::test]
    async fn a_user_is_fetched_once_until_it_expires() {
        let cache = UserCache::new(10, Duration::from_secs(60));
        let calls = Arc::new(AtomicUsize::new(0));
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        for _ in 0..3 {
            let u = cache
                .get_or_fetch("u1", t0, lazy(counted(&calls, "u1")))
                .await
                .unwrap();
            assert_eq!(u.id, "u1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let later = t0 + Duration::from_secs(61);
        cache
            .get_or_fetch("u1", later, lazy(counted(&calls, "u1")))
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
            (0..8).map(|_| cache.get_or_fetch("u1", now, lazy(counted(&calls, "u1")))),
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
            .get_or_fetch("u1", now, lazy(counted(&calls, "u1")))
            .await
            .unwrap();
        cache.forget("u1");
        cache.forget("never-seen");
        cache
            .get_or_fetch("u1", now, lazy(counted(&calls, "u1")))
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
                    .get_or_fetch("u1", now, move || async move {
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
                    .get_or_fetch("u1", now, move || async move {
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
            .get_or_fetch("u1", now, lazy(counted(&calls, "unused")))
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
            .get_or_fetch("u1", now, || async { Err(ClientError::Timeout) })
            .await;
        assert!(failed.is_err());
        assert_eq!(cache.len(), 0);
        let calls = Arc::new(AtomicUsize::new(0));
        cache
            .get_or_fetch("u1", now, lazy(counted(&calls, "u1")))
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
                .get_or_fetch(&id, now, lazy(counted(&calls, &id)))
                .await
                .unwrap();
            assert!(cache.len() <= 20);
        }
    }
}
