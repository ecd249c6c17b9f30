//! A bounded cache of access tokens whose RS256 signature was verified.
//!
//! Verifying an RSA signature costs tens of microseconds; a session's access
//! token is the same on every request for minutes. So a token whose signature
//! checked out is remembered by the SHA-256 of its full text (no collision can
//! forge an entry), together with the JWKS generation it was checked under:
//! when the key set changes, every entry is void. `exp` and `nbf` are still
//! checked on each use against the clock, so a cached token expires exactly
//! when an uncached one would.
//!
//! Memory bound: at most [`DEFAULT_CAPACITY`] entries of a 32-byte key and a
//! shared `Arc` of the claims (typically well under 1 KiB each), so about
//! 10 MiB in the worst case. When full, expired entries are dropped first,
//! then arbitrary ones (a dropped entry only costs one re-verification).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};

use super::AccessTokenClaims;

/// Entries kept at most.
pub const DEFAULT_CAPACITY: usize = 10_000;

pub(crate) type Key = [u8; 32];

struct Entry {
    claims: Arc<AccessTokenClaims>,
    generation: u64,
}

pub(crate) struct TokenCache {
    entries: RwLock<HashMap<Key, Entry>>,
    capacity: usize,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        TokenCache {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// Whether tokens are remembered at all (capacity above 0): when not,
    /// no key need be computed.
    pub(crate) fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    pub(crate) fn key(token: &str) -> Key {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The claims of a token verified under this JWKS generation.
    pub(crate) fn get(&self, key: &Key, generation: u64) -> Option<Arc<AccessTokenClaims>> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation)
            .map(|e| e.claims.clone())
    }

    pub(crate) fn insert(
        &self,
        key: Key,
        claims: Arc<AccessTokenClaims>,
        generation: u64,
        now_secs: i64,
    ) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.claims.exp > now_secs && e.generation == generation);
            if entries.len() >= self.capacity {
                let excess = entries.len() + 1 - self.capacity + self.capacity / 10;
                let victims: Vec<Key> = entries.keys().take(excess).copied().collect();
                for k in victims {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key, Entry { claims, generation });
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
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

    #[test]
    fn entries_are_void_under_another_jwks_generation() {
        let cache = TokenCache::new(10);
        let k = TokenCache::key("token");
        cache.insert(k, claims(100), 1, 0);
        assert!(cache.get(&k, 1).is_some());
        assert!(cache.get(&k, 2).is_none());
        assert!(cache.get(&TokenCache::key("token2"), 1).is_none());
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = TokenCache::new(100);
        for i in 0..1_000 {
            cache.insert(TokenCache::key(&i.to_string()), claims(i64::MAX), 1, 0);
            assert!(cache.len() <= 100);
        }
        // Expired entries go first.
        let cache = TokenCache::new(3);
        for (i, exp) in [5, 5, 500].into_iter().enumerate() {
            cache.insert(TokenCache::key(&i.to_string()), claims(exp), 1, 0);
        }
        cache.insert(TokenCache::key("new"), claims(500), 1, 10);
        assert!(cache.get(&TokenCache::key("2"), 1).is_some());
        assert!(cache.get(&TokenCache::key("new"), 1).is_some());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_zero_capacity_cache_stores_nothing() {
        let cache = TokenCache::new(0);
        let k = TokenCache::key("t");
        cache.insert(k, claims(1), 1, 0);
        assert!(cache.get(&k, 1).is_none());
    }
}
