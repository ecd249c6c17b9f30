//! A bounded cache of session cookies that unsealed and verified.
//!
//! The same cookie comes back on every request until it is rotated, and
//! unsealing it (two key derivations, HMAC-SHA256 and AES-CBC over a
//! kilobyte or two, then JSON) costs several microseconds. A cookie that
//! authenticated is remembered with its session, keyed by a 128-bit MAC of
//! the whole cookie under a random key of this process ([`digest`](super::digest)):
//! the cache keeps the MAC, not the cookie, and one that differs in any byte has another
//! key, so no collision can forge an entry. Entries are void when
//! the JWKS changes, and the access token's `exp` is still checked on every
//! use (`nbf` was checked before the entry was made, and stays true). Seals carrying their own expiry are not cached.
//!
//! Eviction is S3-FIFO ([`bounded`](super::bounded)): O(1) per insert, and
//! a session in use survives a stream of cookies seen once.
//!
//! In front of it, [`front`](super::front) keeps the cookies hit right now
//! whole (64 of them): [`find`](CookieCache::find) compares a cookie there
//! in full before it computes its MAC, so a session in use costs a
//! comparison, not a GHASH over the cookie. A cookie the table lets go is
//! put back here (its hits were the table's, unseen by S3-FIFO).
//!
//! Memory bound: at most [`DEFAULT_CAPACITY`] entries. An entry is the
//! 16-byte key, the generation and an `Arc` of the session: about 80
//! bytes in the cache's slab and index, ghosts included (quick_cache's own
//! accounting, `MemoryUsed`, over a full cache divided by its capacity;
//! `an_entry_costs_well_under_a_kilobyte` holds it under 256), far under
//! 1 KiB. The session behind the `Arc` (the user, the tokens, the claims,
//! which the token cache does not keep as well: about 1.9 KiB for a typical
//! session, `cargo bench --bench memory`) is the one the request uses
//! anyway, and is freed when the entry is evicted and no slot of the front
//! table holds it. The front table adds 64 cookies of at most 4 KiB and
//! keeps up to 64 sessions alive beyond the capacity. A refresh inserts the
//! new cookie with the session it just verified.

use std::sync::Arc;

use quick_cache::sync::Cache;

use super::AuthenticatedSession;
use super::bounded::bounded;
use super::digest::{Digest, Digester};
use super::front::{Front, Held};

/// Entries kept at most.
pub const DEFAULT_CAPACITY: usize = 2048;

/// A cookie's cache key.
pub(crate) type Key = Digest;

#[derive(Clone)]
struct Entry {
    session: Arc<AuthenticatedSession>,
    generation: u64,
}

pub(crate) struct CookieCache {
    /// `None`: the cache is off.
    entries: Option<Cache<Key, Entry>>,
    /// The keys' MAC key, random for this cache.
    digester: Digester,
    /// The cookies in use, by their bytes (`None` when the cache is off).
    front: Option<Front<InUse>>,
}

/// A cookie in use, kept whole in the front table.
struct InUse {
    cookie: Box<[u8]>,
    session: Arc<AuthenticatedSession>,
}

impl Held for InUse {
    type Out = Arc<AuthenticatedSession>;

    fn bytes(&self) -> &[u8] {
        &self.cookie
    }

    fn out(&self) -> Self::Out {
        self.session.clone()
    }
}

/// Whether a seal has no expiry of its own (`…*<expiry>*<mac salt>*<mac>`,
/// optionally `~2`, with an empty expiry): the only seals worth caching, as
/// a cached one would outlive its expiry.
fn cacheable(cookie: &str) -> bool {
    let body = cookie.strip_suffix("~2").unwrap_or(cookie);
    let mut fields = body.rsplit('*');
    let (Some(mac), Some(_mac_salt), Some(expiry)) = (fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    expiry.is_empty() && mac.len() >= 32
}

impl CookieCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let digester = Digester::new();
        let entries = bounded(if digester.is_random() { capacity } else { 0 });
        CookieCache {
            front: entries.as_ref().and_then(|_| Front::new()),
            entries,
            digester,
        }
    }

    /// Whether the cache is on.
    pub(crate) fn is_enabled(&self) -> bool {
        self.entries.is_some()
    }

    /// The cookie's cache key; `None` when the cache is off. Any bytes may
    /// be keyed: only a cookie that was [`insert`](Self::insert)ed (so one
    /// that was cacheable) can be found.
    pub(crate) fn key(&self, cookie: &[u8]) -> Option<Key> {
        self.entries.as_ref()?;
        self.digester.digest(cookie)
    }

    /// The session the cookie of this key authenticated as under this JWKS
    /// generation, from the cache alone.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &Key, generation: u64) -> Option<Arc<AuthenticatedSession>> {
        let entry = self.entries.as_ref()?.get(key)?;
        (entry.generation == generation).then_some(entry.session)
    }

    /// The session these exact cookie bytes authenticated as under this JWKS generation: from the
    /// [front](super::front) table, else by its key from the cache (and then
    /// offered to the table). `Err` holds the key computed for a miss
    /// (`None` when the cache is off). Any bytes may be looked up: only a
    /// cookie that was [`insert`](Self::insert)ed can be found.
    pub(crate) fn find(
        &self,
        cookie: &[u8],
        generation: u64,
    ) -> Result<Arc<AuthenticatedSession>, Option<Key>> {
        let entries = self.entries.as_ref().ok_or(None)?;
        let front = self.front.as_ref();
        if let Some(found) = front.and_then(|front| front.get(cookie, generation)) {
            return Ok(found);
        }
        let key = self.digester.digest(cookie).ok_or(None)?;
        match entries.get(&key) {
            Some(entry) if entry.generation == generation => {
                if let Some(front) = front {
                    let displaced = front.offer(cookie, generation, || InUse {
                        cookie: cookie.into(),
                        session: entry.session.clone(),
                    });
                    // Its hits were the table's: back into the cache, which
                    // may have let it go meanwhile.
                    if let Some(InUse { cookie, session }) = displaced
                        && let Some(key) = self.digester.digest(&cookie)
                    {
                        entries.insert(
                            key,
                            Entry {
                                session,
                                generation,
                            },
                        );
                    }
                }
                Ok(entry.session)
            }
            _ => Err(Some(key)),
        }
    }

    /// Whether this cookie would be remembered once it authenticates: the
    /// cache is on and the seal has no expiry of its own.
    pub(crate) fn holds(&self, cookie: &str) -> bool {
        self.is_enabled() && cacheable(cookie)
    }

    /// Remembers a cookie that authenticated, `key` being its
    /// [`key`](Self::key) (one of another generation under the same key is
    /// replaced).
    pub(crate) fn insert(
        &self,
        key: Key,
        cookie: &str,
        session: Arc<AuthenticatedSession>,
        generation: u64,
    ) {
        let Some(entries) = &self.entries else { return };
        debug_assert_eq!(
            self.key(cookie.as_bytes()),
            Some(key),
            "the key of another cookie"
        );
        if cacheable(cookie) {
            entries.insert(
                key,
                Entry {
                    session,
                    generation,
                },
            );
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, Cache::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl CookieCache {
        fn put(&self, cookie: &str, session: Arc<AuthenticatedSession>, generation: u64) {
            if let Some(key) = self.key(cookie.as_bytes()) {
                self.insert(key, cookie, session, generation);
            }
        }

        /// The cache alone, not its front table.
        fn cached(&self, cookie: &[u8], generation: u64) -> Option<Arc<AuthenticatedSession>> {
            self.get(&self.key(cookie)?, generation)
        }
    }

    fn session(exp: i64) -> Arc<AuthenticatedSession> {
        let claims: super::super::AccessTokenClaims =
            serde_json::from_value(serde_json::json!({"sub": "u", "sid": "s", "exp": exp}))
                .unwrap();
        let user = serde_json::from_value(serde_json::json!({"id": "u", "email": "e",
            "created_at": "t", "updated_at": "t"}))
        .unwrap();
        Arc::new(AuthenticatedSession {
            user,
            impersonator: None,
            authentication_method: None,
            access_token: Default::default(),
            claims: Arc::new(claims),
            refresh_token: Default::default(),
            organization_id: None,
        })
    }

    fn cookie(i: usize) -> String {
        format!("Fe26.2*1*s*iv*ct**ms*{i:043}~2")
    }

    #[test]
    fn hits_need_the_whole_cookie_and_the_same_jwks_generation() {
        let cache = CookieCache::new(10);
        cache.put(&cookie(1), session(100), 7);
        let same_mac_other_body = cookie(1).replace("*ct*", "*cT*");
        let chunk_marker_dropped = cookie(1).replace("~2", "");
        // Twice: the cache answers the first time, its front table after.
        for _ in 0..2 {
            assert!(cache.find(cookie(1).as_bytes(), 7).is_ok());
            assert!(cache.find(cookie(1).as_bytes(), 8).is_err());
            assert!(cache.find(same_mac_other_body.as_bytes(), 7).is_err());
            assert!(cache.find(chunk_marker_dropped.as_bytes(), 7).is_err());
        }
        assert!(
            cache
                .front
                .as_ref()
                .unwrap()
                .get(cookie(1).as_bytes(), 7)
                .is_some()
        );
        // Verified again under the new key set: a hit again.
        cache.put(&cookie(1), session(100), 8);
        for _ in 0..2 {
            assert!(cache.find(cookie(1).as_bytes(), 8).is_ok());
            assert!(cache.find(cookie(1).as_bytes(), 7).is_err());
        }
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_cookie_the_front_table_lets_go_goes_back_into_the_cache() {
        let cache = CookieCache::new(64);
        let hot = cookie(1_000_000);
        cache.put(&hot, session(i64::MAX), 1);
        assert!(cache.find(hot.as_bytes(), 1).is_ok());
        // Answered by the front table from now on: the cache behind sees no
        // hit and lets it go under a stream of cookies each in use a while
        // (hit in the cache itself, so they outrank it there).
        for i in 0..1_000 {
            assert!(cache.find(hot.as_bytes(), 1).is_ok());
            cache.put(&cookie(i), session(i64::MAX), 1);
            for _ in 0..3 {
                assert!(cache.cached(cookie(i).as_bytes(), 1).is_some());
            }
        }
        assert!(
            cache.cached(hot.as_bytes(), 1).is_none(),
            "still in the cache"
        );
        // Another cookie of its slot, hit twice while the hot one rests,
        // takes the slot: the hot one goes back into the cache.
        let front = cache.front.as_ref().unwrap();
        let other = (2_000_000..)
            .map(cookie)
            .find(|c| front.same_slot(c.as_bytes(), hot.as_bytes()))
            .unwrap();
        cache.put(&other, session(i64::MAX), 1);
        for _ in 0..3 {
            assert!(cache.find(other.as_bytes(), 1).is_ok());
        }
        assert!(!front.holds(hot.as_bytes()), "still in the table");
        assert!(
            cache.cached(hot.as_bytes(), 1).is_some(),
            "back in the cache"
        );
        assert!(cache.find(hot.as_bytes(), 1).is_ok());
    }

    #[test]
    fn without_a_front_table_the_cache_behind_still_answers() {
        let mut cache = CookieCache::new(10);
        cache.front = None;
        cache.put(&cookie(1), session(100), 7);
        assert!(cache.find(cookie(1).as_bytes(), 7).is_ok());
        assert!(cache.find(cookie(2).as_bytes(), 7).is_err());
    }

    #[test]
    fn a_miss_gives_the_key_it_computed_and_a_cache_that_is_off_none() {
        let cache = CookieCache::new(10);
        assert_eq!(
            cache.find(cookie(1).as_bytes(), 0).unwrap_err(),
            cache.key(cookie(1).as_bytes())
        );
        assert!(cache.key(cookie(1).as_bytes()).is_some());
        assert_eq!(
            CookieCache::new(0)
                .find(cookie(1).as_bytes(), 0)
                .unwrap_err(),
            None
        );
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        for capacity in [1, 50, 4_096] {
            let cache = CookieCache::new(capacity);
            for i in 0..capacity * 4 {
                cache.put(&cookie(i), session(i64::MAX), 1);
                assert!(cache.len() <= capacity);
            }
        }
    }

    #[test]
    fn a_session_in_use_survives_a_stream_of_cookies_seen_once() {
        let cache = CookieCache::new(500);
        let in_use: Vec<String> = (0..50).map(|i| cookie(1_000_000 + i)).collect();
        for c in &in_use {
            cache.put(c, session(i64::MAX), 1);
        }
        // Four times the capacity of new cookies, each seen once, while the
        // fifty in use come back between them.
        for round in 0..200 {
            for c in &in_use {
                assert!(
                    cache.cached(c.as_bytes(), 1).is_some(),
                    "a session in use was evicted"
                );
            }
            for j in 0..10 {
                cache.put(&cookie(round * 10 + j), session(i64::MAX), 1);
            }
        }
        assert!(cache.len() <= 500);
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = CookieCache::new(0);
        cache.put(&cookie(1), session(i64::MAX), 1);
        assert!(cache.find(cookie(1).as_bytes(), 1).is_err());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn an_entry_costs_well_under_a_kilobyte() {
        let cache = CookieCache::new(DEFAULT_CAPACITY);
        let shared = session(i64::MAX);
        for i in 0..DEFAULT_CAPACITY * 2 {
            cache.put(&cookie(i), shared.clone(), 1);
        }
        let entries = cache.entries.as_ref().unwrap();
        let bytes = entries.memory_used().total() / DEFAULT_CAPACITY;
        assert!(bytes <= 256, "{bytes} bytes an entry");
    }

    #[test]
    fn only_seals_without_their_own_expiry_are_cached() {
        let mac = "m".repeat(43);
        assert!(cacheable(&format!("Fe26.2*1*s*iv*ct**ms*{mac}~2")));
        assert!(cacheable(&format!("Fe26.2*1*s*iv*ct**ms*{mac}")));
        assert!(!cacheable(&format!("Fe26.2*1*s*iv*ct*123*ms*{mac}~2")));
        assert!(!cacheable("garbage"));
        assert!(!cacheable("Fe26.2*1*s*iv*ct**ms*short"));
        let cache = CookieCache::new(10);
        let expiring = format!("Fe26.2*1*s*iv*ct*123*ms*{mac}~2");
        cache.put(&expiring, session(i64::MAX), 1);
        assert!(cache.find(expiring.as_bytes(), 1).is_err());
        assert_eq!(cache.len(), 0);
    }
}
