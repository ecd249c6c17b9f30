//! The JWKS cache: the public keys that sign access tokens.
//!
//! Keys are cached by `kid`. A token naming an unknown `kid` forces one
//! refetch (WorkOS rotated its keys), but forced refetches are throttled to
//! one per interval (10 s by default), so a flood of forged `kid`s cannot turn
//! into a flood of requests to WorkOS. When WorkOS is unreachable the cached
//! keys keep working. Fetches are single-flight: concurrent misses share one
//! request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};

use crate::client::{Error as ClientError, UserManagement};

/// Why a key could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The JWKS has no key with this `kid` (after a refetch, or while refetches are throttled).
    #[error("no signing key with this kid")]
    UnknownKid,
    /// The JWKS could not be fetched and no cached key matches.
    #[error("the JWKS could not be fetched: {0}")]
    Unavailable(#[source] ClientError),
    /// The JWKS could not be fetched recently and refetching is throttled.
    #[error("the JWKS is unavailable (refetch throttled)")]
    Throttled,
}

impl JwksError {
    /// Whether WorkOS being unreachable is the cause (so a user must not be logged out).
    pub fn is_transient(&self) -> bool {
        matches!(self, JwksError::Unavailable(_) | JwksError::Throttled)
    }
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched_at: Option<Instant>,
    /// Bumped whenever the set of kids changes, so caches keyed on verified
    /// tokens can drop themselves.
    generation: u64,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
    last_failed: bool,
}

/// A cache of the signing keys at `/sso/jwks/<client_id>`.
pub struct JwksCache {
    client: UserManagement,
    keys: RwLock<Arc<KeySet>>,
    fetch: tokio::sync::Mutex<FetchState>,
    min_refetch_interval: Duration,
    max_age: Duration,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.current();
        let mut kids: Vec<&String> = keys.keys.keys().collect();
        kids.sort();
        f.debug_struct("JwksCache")
            .field("url", &self.client.get_jwks_url())
            .field("kids", &kids)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .finish()
    }
}

impl JwksCache {
    /// A cache fetching from `client`'s JWKS URL.
    pub fn new(client: UserManagement) -> Self {
        JwksCache {
            client,
            keys: RwLock::new(Arc::new(KeySet::default())),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
            min_refetch_interval: Duration::from_secs(10),
            max_age: Duration::from_secs(3600),
        }
    }

    /// The least time between two fetches (default 10 s).
    pub fn with_min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// How long a fetched set is used before it is refreshed on the next use
    /// (default 1 h). A failed refresh keeps the old keys.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    fn current(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// A number that changes whenever the set of keys changes.
    pub fn generation(&self) -> u64 {
        self.current().generation
    }

    /// The key for `kid`, fetching the JWKS when needed.
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, JwksError> {
        let current = self.current();
        let stale = current
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.max_age);
        let cached = current.keys.get(kid).cloned();
        drop(current);
        match cached {
            Some(key) if !stale => Ok(key),
            // A known key in a stale set: refresh if nobody else is, but never
            // make this request wait for (or fail because of) the refresh.
            Some(key) => {
                if let Ok(mut state) = self.fetch.try_lock()
                    && !state.throttled(self.min_refetch_interval)
                    && let Ok(set) = self.fetch_now(&mut state).await
                {
                    // A key WorkOS no longer publishes is no longer trusted.
                    return set.keys.get(kid).cloned().ok_or(JwksError::UnknownKid);
                }
                Ok(key)
            }
            None => {
                let mut state = self.fetch.lock().await;
                // Another task may have fetched while this one waited.
                if let Some(key) = self.current().keys.get(kid) {
                    return Ok(key.clone());
                }
                if state.throttled(self.min_refetch_interval) {
                    return Err(if state.last_failed {
                        JwksError::Throttled
                    } else {
                        JwksError::UnknownKid
                    });
                }
                let set = self.fetch_now(&mut state).await?;
                set.keys.get(kid).cloned().ok_or(JwksError::UnknownKid)
            }
        }
    }

    async fn fetch_now(&self, state: &mut FetchState) -> Result<Arc<KeySet>, JwksError> {
        state.last_attempt = Some(Instant::now());
        match self.client.get_jwks().await {
            Ok(set) => {
                state.last_failed = false;
                Ok(self.install(set))
            }
            Err(e) => {
                state.last_failed = true;
                tracing::warn!(error = %e, "could not fetch the WorkOS JWKS; keeping cached keys");
                Err(JwksError::Unavailable(e))
            }
        }
    }

    fn install(&self, set: JwkSet) -> Arc<KeySet> {
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), AlgorithmParameters::RSA(_)) = (&jwk.common.key_id, &jwk.algorithm)
            else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid.clone(), Arc::new(key));
            }
        }
        let mut guard = self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let same_kids =
            guard.keys.len() == keys.len() && keys.keys().all(|k| guard.keys.contains_key(k));
        let generation = if same_kids {
            guard.generation
        } else {
            guard.generation + 1
        };
        let next = Arc::new(KeySet {
            keys,
            fetched_at: Some(Instant::now()),
            generation,
        });
        *guard = next.clone();
        next
    }
}

impl FetchState {
    fn throttled(&self, interval: Duration) -> bool {
        self.last_attempt.is_some_and(|at| at.elapsed() < interval)
    }
}
