//! A bounded cache of access tokens whose RS256 signature was verified.
//!
//! Verifying an RSA signature costs tens of microseconds; a session's access
//! token is the same on every request for minutes. So a token whose signature
//! checked out is remembered by a 128-bit MAC of its full text under a key
//! random for the process ([`digest`](super::digest): no collision can forge
//! an entry), together with the JWKS generation it was checked under:
//! when the key set changes, every entry is void. `exp` and `nbf` are still
//! checked on each use against the clock, so a cached token expires exactly
//! when an uncached one would.
//!
//! Eviction is S3-FIFO ([`bounded`](super::bounded)): O(1) per insert, and a
//! token in use survives a stream of tokens seen once. A dropped entry only
//! costs one re-verification.
//!
//! In front of it, [`front`](super::front) keeps the tokens hit right now
//! whole, with their text as a [`Secret`] to hand on (64 of them), as the
//! session cache does for cookies.
//!
//! What it holds: Bearer tokens, tokens verified through the public
//! `verify_*`/`authenticate_data`, and the tokens of cookies the session
//! cache does not hold (it is off, or the seal has an expiry of its own). A
//! cookie the session cache holds keeps its claims there, with its session,
//! and is neither looked up nor remembered here: a cookie-only app leaves
//! this cache empty instead of keeping every session's claims twice.
//!
//! Memory bound: at most [`DEFAULT_CAPACITY`] entries. An entry is the
//! 16-byte digest, the generation and an `Arc` of the claims, under 256
//! bytes in the cache's slab and index (`an_entry_costs_well_under_a_kilobyte`),
//! plus the claims themselves, a few hundred bytes for a typical token (more
//! with many permissions; about 550 bytes an entry in all, `cargo bench
//! --bench memory`): about 5.5 MB at the default capacity for typical tokens.
//! The front table adds 64 tokens of at most 4 KiB, each with its claims
//! (kept alive while the token is there, evicted behind or not).

use std::sync::Arc;

use quick_cache::sync::Cache;

use super::AccessTokenClaims;
use super::bounded::bounded;
use super::digest::{Digest, Digester};
use super::front::{Front, Held};
use crate::secret::Secret;

/// Entries kept at most.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// A token's cache key.
pub(crate) type Key = Digest;

#[derive(Clone)]
struct Entry {
    claims: Arc<AccessTokenClaims>,
    generation: u64,
}

pub(crate) struct TokenCache {
    /// `None`: the cache is off.
    entries: Option<Cache<Key, Entry>>,
    /// The keys' MAC key, random for this cache.
    digester: Digester,
    /// The tokens in use, by their bytes, each with its text to hand on
    /// (`None` when the cache is off).
    front: Option<Front<Found>>,
}

/// A cached token's claims, and the token itself (a [`Secret`] shares its
/// text: a Bearer request's state gets it without a copy).
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub(crate) claims: Arc<AccessTokenClaims>,
    pub(crate) token: Secret,
}

/// The front table keeps the token once, as the `Secret` it hands out.
impl Held for Found {
    type Out = Found;

    fn bytes(&self) -> &[u8] {
        self.token.expose().as_bytes()
    }

    fn out(&self) -> Found {
        self.clone()
    }
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        let digester = Digester::new();
        let entries = bounded(if digester.is_random() { capacity } else { 0 });
        TokenCache {
            front: entries.as_ref().and_then(|_| Front::new()),
            entries,
            digester,
        }
    }

    /// The token's cache key; `None` when the cache is off.
    #[cfg(test)]
    pub(crate) fn key(&self, token: &[u8]) -> Option<Key> {
        self.entries.as_ref()?;
        self.digester.digest(token)
    }

    /// The claims of a token verified under this JWKS generation, from the
    /// cache alone.
    #[cfg(test)]
    pub(crate) fn get(&self, key: &Key, generation: u64) -> Option<Arc<AccessTokenClaims>> {
        let entry = self.entries.as_ref()?.get(key)?;
        (entry.generation == generation).then_some(entry.claims)
    }

    /// The claims of the token of exactly these bytes, verified under this JWKS generation: from the
    /// [front](super::front) table, else by its key from the cache (and then
    /// offered to the table). `Err` holds the key computed for a miss
    /// (`None` when the cache is off). Any bytes may be looked up: only a
    /// token that was [`insert`](Self::insert)ed can be found.
    pub(crate) fn find(&self, token: &[u8], generation: u64) -> Result<Found, Option<Key>> {
        let (claims, token) = self.lookup(token, generation, true)?;
        Ok(Found {
            claims,
            // Always there when asked for.
            token: token.unwrap_or_default(),
        })
    }

    /// [`find`](Self::find)'s claims alone: the token's text is not copied
    /// unless the front table takes it.
    pub(crate) fn find_claims(
        &self,
        token: &[u8],
        generation: u64,
    ) -> Result<Arc<AccessTokenClaims>, Option<Key>> {
        self.lookup(token, generation, false)
            .map(|(claims, _)| claims)
    }

    /// The claims found, with the token's text when `text` (or when the
    /// front table has it anyway).
    fn lookup(
        &self,
        token: &[u8],
        generation: u64,
        text: bool,
    ) -> Result<(Arc<AccessTokenClaims>, Option<Secret>), Option<Key>> {
        let entries = self.entries.as_ref().ok_or(None)?;
        let front = self.front.as_ref();
        if let Some(found) = front.and_then(|front| front.get(token, generation)) {
            return Ok((found.claims, Some(found.token)));
        }
        let key = self.digester.digest(token).ok_or(None)?;
        match entries.get(&key) {
            Some(entry) if entry.generation == generation => {
                // A token that verified is text.
                let token_text = std::str::from_utf8(token).map_err(|_| Some(key))?;
                let mut made = None;
                if let Some(front) = front {
                    let displaced = front.offer(token, generation, || {
                        let token = Secret::from(token_text);
                        made = Some(token.clone());
                        Found {
                            claims: entry.claims.clone(),
                            token,
                        }
                    });
                    // Its hits were the table's: back into the cache, which
                    // may have let it go meanwhile.
                    if let Some(Found { claims, token }) = displaced
                        && let Some(key) = self.digester.digest(token.expose().as_bytes())
                    {
                        entries.insert(key, Entry { claims, generation });
                    }
                }
                // The text is copied once at most, for the table or for the
                // caller that wants it.
                let token = made.or_else(|| text.then(|| token_text.into()));
                Ok((entry.claims, token))
            }
            _ => Err(Some(key)),
        }
    }

    /// Remembers a verified token (an entry of another generation under the
    /// same key is replaced).
    pub(crate) fn insert(&self, key: Key, claims: Arc<AccessTokenClaims>, generation: u64) {
        if let Some(entries) = &self.entries {
            entries.insert(key, Entry { claims, generation });
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

    fn claims(exp: i64) -> Arc<AccessTokenClaims> {
        Arc::new(
            serde_json::from_value(serde_json::json!({"sub": "u", "sid": "s", "exp": exp}))
                .unwrap(),
        )
    }

    fn key(i: usize) -> Key {
        // Distinct keys; what makes them is `digest`'s to test.
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&(i as u64).to_le_bytes());
        key
    }

    #[test]
    fn entries_are_void_under_another_jwks_generation() {
        let cache = TokenCache::new(10);
        let k = cache.key(b"token").unwrap();
        cache.insert(k, claims(100), 1);
        // Twice: the cache answers the first time, its front table after.
        for _ in 0..2 {
            assert_eq!(cache.find(b"token", 1).unwrap().token.expose(), "token");
            assert!(cache.find(b"token", 2).is_err());
            assert_eq!(
                cache.find(b"token2", 1).unwrap_err(),
                cache.key(b"token2"),
                "a miss gives its key"
            );
            assert!(cache.find(b"tokeN", 1).is_err());
        }
        // Verified again under the new set: valid again.
        cache.insert(k, claims(100), 2);
        for _ in 0..2 {
            assert!(cache.find(b"token", 2).is_ok());
            assert!(cache.find(b"token", 1).is_err());
        }
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_cache_answers_through_its_front_table_or_without_one() {
        let mut cache = TokenCache::new(10);
        cache.insert(cache.key(b"token").unwrap(), claims(100), 1);
        assert_eq!(cache.find(b"token", 1).unwrap().token.expose(), "token");
        let front = cache.front.as_ref().unwrap();
        assert_eq!(front.get(b"token", 1).unwrap().token.expose(), "token");
        assert!(cache.find_claims(b"token", 1).is_ok());
        // Without a front table (no randomness for its seed): the cache
        // behind still answers, the token's text copied for the caller.
        cache.front = None;
        assert_eq!(cache.find(b"token", 1).unwrap().token.expose(), "token");
        assert_eq!(cache.find_claims(b"token", 1).unwrap().exp, 100);
        assert!(cache.find(b"tokeN", 1).is_err());
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        for capacity in [3, 100, 1_000] {
            let cache = TokenCache::new(capacity);
            for i in 0..capacity * 5 {
                cache.insert(key(i), claims(i64::MAX), 1);
                assert!(cache.len() <= capacity);
            }
        }
    }

    #[test]
    fn a_token_in_use_survives_a_scan_of_tokens_seen_once() {
        let cache = TokenCache::new(1_000);
        let hot: Vec<Key> = (0..100).map(|i| key(1_000_000 + i)).collect();
        for k in &hot {
            cache.insert(*k, claims(i64::MAX), 1);
        }
        // Nine new tokens for every round of the hundred in use: twice the
        // capacity in all.
        for round in 0..220 {
            for k in &hot {
                assert!(cache.get(k, 1).is_some(), "a token in use was evicted");
            }
            for j in 0..9 {
                cache.insert(key(round * 9 + j), claims(i64::MAX), 1);
            }
        }
        assert!(hot.iter().all(|k| cache.get(k, 1).is_some()));
        assert!(cache.len() <= 1_000);
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = TokenCache::new(0);
        assert!(
            cache.key(b"t").is_none(),
            "no key is computed for a cache that is off"
        );
        let k = key(7);
        cache.insert(k, claims(1), 1);
        assert!(cache.get(&k, 1).is_none());
        assert_eq!(cache.find(b"t", 1).unwrap_err(), None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn an_entry_costs_well_under_a_kilobyte() {
        let cache = TokenCache::new(DEFAULT_CAPACITY);
        let shared = claims(i64::MAX);
        for i in 0..DEFAULT_CAPACITY * 2 {
            cache.insert(key(i), shared.clone(), 1);
        }
        let entries = cache.entries.as_ref().unwrap();
        let bytes = entries.memory_used().total() / DEFAULT_CAPACITY;
        assert!(bytes <= 256, "{bytes} bytes an entry");
    }
}
