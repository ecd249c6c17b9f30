//! The JWKS cache: the public keys that sign access tokens.
//!
//! Keys are cached by `kid`. A token naming an unknown `kid` forces one
//! refetch (WorkOS rotated its keys), but forced refetches are throttled to
//! one per interval (10 s by default), so a flood of forged `kid`s cannot turn
//! into a flood of requests to WorkOS; only a request that needs an unknown
//! `kid` waits for a fetch, and at most a short while (5 s by default). A set
//! older than its maximum age (1 h) is still served while it is refreshed in
//! the background (stale-while-revalidate), so the hourly refresh never makes
//! a request wait. When WorkOS is unreachable the cached keys keep working.
//! Fetches are single-flight: concurrent misses share one request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
    /// The JWKS could not be fetched recently and refetching is throttled
    /// (for the cache's minimum refetch interval, or as long as WorkOS's
    /// `Retry-After` asked, up to a minute).
    #[error("the JWKS is unavailable (refetch throttled)")]
    Throttled {
        /// What is left of the wait WorkOS asked for, if it did.
        retry_after: Option<Duration>,
    },
    /// The JWKS document holds no usable RS256 key: an incident at WorkOS;
    /// the cached keys are kept.
    #[error("the JWKS holds no usable key")]
    NoUsableKey,
}

impl JwksError {
    /// How long WorkOS asked to wait before fetching the keys again
    /// (`Retry-After` on its 429 or 503), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            JwksError::Unavailable(e) => e.retry_after(),
            JwksError::Throttled { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Whether WorkOS being unreachable is the cause (so a user must not be logged out).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            JwksError::Unavailable(_) | JwksError::Throttled { .. } | JwksError::NoUsableKey
        )
    }
}

/// One RSA key of the JWKS, parsed once when the set is fetched.
pub(crate) struct SigningKey {
    /// For [`JwksCache::key`].
    decoding: Arc<DecodingKey>,
    /// The RSA public key, ready to verify. `None` when its `n`/`e` decode
    /// but do not make an RSA key: such a key verifies nothing (as when it
    /// was rebuilt on every verification), yet its `kid` is still known.
    verifying: Option<ParsedPublicKey>,
}

impl SigningKey {
    fn from_components(n: &[u8], e: &[u8]) -> Self {
        SigningKey {
            decoding: Arc::new(DecodingKey::from_rsa_raw_components(n, e)),
            verifying: RsaPublicKeyComponents { n, e }
                .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                .ok(),
        }
    }

    /// Whether `signature` is this key's RS256 (RSASSA-PKCS1-v1_5 with
    /// SHA-256, a 2048- to 8192-bit key) signature of `message`.
    pub(crate) fn verifies_rs256(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifying
            .as_ref()
            .is_some_and(|key| key.verify_sig(message, signature).is_ok())
    }
}

#[derive(Default)]
struct KeySet {
    keys: HashMap<String, Arc<SigningKey>>,
    fetched_at: Option<Instant>,
    /// Bumped whenever the set of kids changes, so caches keyed on verified
    /// tokens can drop themselves.
    generation: u64,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
    /// Whether the last fetch failed or never finished (it counts as failed
    /// until it succeeds, so one abandoned by a timeout reads as an outage).
    last_failed: bool,
    /// The `Retry-After` of the last fetch's failure, if WorkOS sent one.
    asked: Option<Duration>,
}

/// The longest `Retry-After` the cache waits out before fetching the keys
/// again: a longer one (or a date far ahead) must not keep a fresh
/// deployment without keys for longer.
const MAX_ASKED_WAIT: Duration = Duration::from_secs(60);

/// What the cache and its background refreshes share.
struct Store {
    client: UserManagement,
    keys: RwLock<Arc<KeySet>>,
    /// The current set's generation, read on every request without the
    /// lock (written under it, with the set).
    generation: AtomicU64,
    fetch: Arc<tokio::sync::Mutex<FetchState>>,
}

/// A cache of the signing keys at `/sso/jwks/<client_id>`.
pub struct JwksCache {
    store: Arc<Store>,
    min_refetch_interval: Duration,
    max_age: Duration,
    fetch_wait: Duration,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.store.current();
        let mut kids: Vec<&String> = keys.keys.keys().collect();
        kids.sort();
        f.debug_struct("JwksCache")
            .field("url", &self.store.client.get_jwks_url())
            .field("kids", &kids)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .field("max_age", &self.max_age)
            .field("fetch_wait", &self.fetch_wait)
            .finish()
    }
}

/// Whether a key lookup may skip the refetch throttle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A token from a request: refetches for unknown kids are throttled.
    Throttled,
    /// A token WorkOS itself just answered with (a refresh): it is not an
    /// attack, so an unknown kid refetches even within the throttle interval
    /// (WorkOS may have rotated its keys moments ago).
    FromWorkos,
}

impl JwksCache {
    /// A cache fetching from `client`'s JWKS URL.
    pub fn new(client: UserManagement) -> Self {
        JwksCache {
            store: Arc::new(Store {
                client,
                keys: RwLock::new(Arc::new(KeySet::default())),
                generation: AtomicU64::new(0),
                fetch: Arc::new(tokio::sync::Mutex::new(FetchState::default())),
            }),
            min_refetch_interval: Duration::from_secs(10),
            max_age: Duration::from_secs(3600),
            fetch_wait: Duration::from_secs(5),
        }
    }

    /// The least time between two fetches (default 10 s). After a failed
    /// fetch whose answer asked for a longer wait (`Retry-After`), that wait,
    /// up to a minute.
    pub fn with_min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// How long a fetched set is used before it is refreshed (default 1 h).
    /// The refresh runs in the background: requests keep using the old keys
    /// meanwhile, and a failed refresh keeps them.
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// How long a request that needs a key the cache does not have (an
    /// unknown `kid`, or nothing fetched yet) waits for the JWKS before it
    /// is answered as an outage (default 5 s).
    pub fn with_fetch_wait(mut self, wait: Duration) -> Self {
        self.fetch_wait = wait;
        self
    }

    /// A number that changes whenever the set of keys changes.
    pub fn generation(&self) -> u64 {
        self.store.generation.load(Ordering::Acquire)
    }

    /// The key for `kid`, fetching the JWKS when needed.
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, JwksError> {
        let key = self.lookup(kid, Lookup::Throttled).await?;
        Ok(key.decoding.clone())
    }

    /// The parsed key for `kid`, fetching the JWKS when needed.
    pub(crate) async fn lookup(
        &self,
        kid: &str,
        lookup: Lookup,
    ) -> Result<Arc<SigningKey>, JwksError> {
        let current = self.store.current();
        let stale = current
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.max_age);
        let cached = current.keys.get(kid).cloned();
        drop(current);
        match cached {
            Some(key) => {
                if stale {
                    self.refresh_in_background();
                }
                Ok(key)
            }
            None => {
                match tokio::time::timeout(self.fetch_wait, self.fetch_for(kid, lookup)).await {
                    Ok(found) => found,
                    Err(_) => {
                        tracing::warn!(
                            "the WorkOS JWKS did not answer in time; answering as an outage"
                        );
                        Err(JwksError::Unavailable(ClientError::Timeout))
                    }
                }
            }
        }
    }

    /// A known key in a stale set: refresh it unless a fetch is running or
    /// throttled, without this request waiting for (or failing because of) it.
    fn refresh_in_background(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Ok(mut state) = self.store.fetch.clone().try_lock_owned() else {
            return; // a fetch is already running
        };
        if state.throttled(self.min_refetch_interval) {
            return;
        }
        let store = self.store.clone();
        let budget = self.fetch_wait;
        runtime.spawn(async move {
            // A key WorkOS no longer publishes stops being trusted once installed.
            let _ = store.fetch_now(&mut state, budget).await;
        });
    }

    async fn fetch_for(&self, kid: &str, lookup: Lookup) -> Result<Arc<SigningKey>, JwksError> {
        let mut state = self.store.fetch.lock().await;
        // Another task may have fetched while this one waited.
        if let Some(key) = self.store.current().keys.get(kid) {
            return Ok(key.clone());
        }
        if lookup == Lookup::Throttled && state.throttled(self.min_refetch_interval) {
            return Err(if state.last_failed {
                JwksError::Throttled {
                    retry_after: state.asked_remaining(self.min_refetch_interval),
                }
            } else {
                JwksError::UnknownKid
            });
        }
        let set = self.store.fetch_now(&mut state, self.fetch_wait).await?;
        set.keys.get(kid).cloned().ok_or(JwksError::UnknownKid)
    }
}

impl Store {
    fn current(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Fetches the keys, making no retry whose wait would end after
    /// `budget` (what a request waits for the keys): WorkOS's wait is then
    /// answered at once, and remembered.
    async fn fetch_now(
        &self,
        state: &mut FetchState,
        budget: Duration,
    ) -> Result<Arc<KeySet>, JwksError> {
        state.last_attempt = Some(Instant::now());
        state.last_failed = true;
        state.asked = None;
        let set = match self.client.get_jwks_within(Some(budget)).await {
            Ok(set) => set,
            Err(e) => {
                tracing::warn!(error = %e, "could not fetch the WorkOS JWKS; keeping cached keys");
                state.asked = e.retry_after().map(|wait| wait.min(MAX_ASKED_WAIT));
                return Err(JwksError::Unavailable(e));
            }
        };
        let keys = usable_keys(&set);
        // A document without one usable key is an incident at WorkOS, not a
        // rotation to no keys: installing it would void every session.
        if keys.is_empty() {
            tracing::warn!("the WorkOS JWKS holds no usable RS256 key; keeping cached keys");
            return Err(JwksError::NoUsableKey);
        }
        state.last_failed = false;
        tracing::debug!(keys = keys.len(), "fetched the WorkOS JWKS");
        Ok(self.install(keys))
    }

    fn install(&self, keys: HashMap<String, Arc<SigningKey>>) -> Arc<KeySet> {
        let mut guard = self
            .keys
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let same_kids =
            guard.keys.len() == keys.len() && keys.keys().all(|k| guard.keys.contains_key(k));
        let generation = if same_kids {
            guard.generation
        } else {
            tracing::info!(
                keys = keys.len(),
                generation = guard.generation + 1,
                "the WorkOS key set changed"
            );
            guard.generation + 1
        };
        let next = Arc::new(KeySet {
            keys,
            fetched_at: Some(Instant::now()),
            generation,
        });
        *guard = next.clone();
        self.generation.store(generation, Ordering::Release);
        next
    }
}

impl FetchState {
    /// Whether a fetch now would come too soon after the last: within the
    /// minimum `interval`, or the wait WorkOS asked for after a failure.
    fn throttled(&self, interval: Duration) -> bool {
        let window = interval.max(self.asked.unwrap_or_default());
        self.last_attempt.is_some_and(|at| at.elapsed() < window)
    }

    /// When WorkOS asked for a wait after the last failure: what is left of
    /// the throttle (that wait, or the minimum `interval` if longer), in
    /// whole seconds rounded up.
    fn asked_remaining(&self, interval: Duration) -> Option<Duration> {
        let at = self.last_attempt?;
        let left = interval.max(self.asked?).saturating_sub(at.elapsed());
        Some(Duration::from_secs(
            left.as_secs() + u64::from(left.subsec_nanos() > 0),
        ))
    }
}

/// The RSA keys of a JWKS document that have a `kid` and whose `n` and `e`
/// are base64url, parsed once.
fn usable_keys(set: &JwkSet) -> HashMap<String, Arc<SigningKey>> {
    set.keys
        .iter()
        .filter_map(|jwk| {
            let (Some(kid), AlgorithmParameters::RSA(rsa)) = (&jwk.common.key_id, &jwk.algorithm)
            else {
                return None;
            };
            let n = URL_SAFE_NO_PAD.decode(&rsa.n).ok()?;
            let e = URL_SAFE_NO_PAD.decode(&rsa.e).ok()?;
            Some((kid.clone(), Arc::new(SigningKey::from_components(&n, &e))))
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn workos_wait_stretches_the_throttle_up_to_its_own_length_and_counts_down() {
        let interval = Duration::from_secs(10);
        let mut state = FetchState {
            last_attempt: Some(Instant::now()),
            last_failed: true,
            asked: None,
        };
        assert!(state.throttled(interval));
        assert_eq!(state.asked_remaining(interval), None, "WorkOS said nothing");
        assert!(!state.throttled(Duration::ZERO));
        // WorkOS asked for 30 s: longer than the interval.
        state.asked = Some(Duration::from_secs(30));
        assert!(state.throttled(Duration::ZERO));
        assert_eq!(
            state.asked_remaining(interval),
            Some(Duration::from_secs(30)),
            "rounded up"
        );
        // Asked for less than the interval: the interval is what is left.
        state.asked = Some(Duration::from_secs(3));
        assert_eq!(
            state.asked_remaining(interval),
            Some(Duration::from_secs(10))
        );
        // Long ago: nothing left, and no longer throttled.
        state.last_attempt = Instant::now().checked_sub(Duration::from_secs(31));
        if state.last_attempt.is_some() {
            assert!(!state.throttled(interval));
            assert_eq!(state.asked_remaining(interval), Some(Duration::ZERO));
        }
    }

    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RSA_PKCS1_SHA384};
    use serde_json::json;

    use super::*;

    fn sign(
        pair: &KeyPair,
        alg: &'static dyn aws_lc_rs::signature::RsaEncoding,
        msg: &[u8],
    ) -> Vec<u8> {
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(alg, &SystemRandom::new(), msg, &mut signature)
            .unwrap();
        signature
    }

    #[test]
    fn keys_are_parsed_once_and_verify_only_their_own_rs256_signatures() {
        let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let other = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let set: JwkSet = serde_json::from_value(json!({"keys": [
            {"kty": "RSA", "kid": "k1", "alg": "RS256",
             "n": URL_SAFE_NO_PAD.encode(&public.n), "e": URL_SAFE_NO_PAD.encode(&public.e)},
            // No kid, not RSA, components that are not base64url: not usable.
            {"kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&public.n), "e": "AQAB"},
            {"kty": "oct", "kid": "k2", "k": "AAAA"},
            {"kty": "RSA", "kid": "k3", "n": "not base64url!", "e": "AQAB"},
            // Decodes, but is no RSA key to verify with: known, verifies nothing.
            {"kty": "RSA", "kid": "k4", "n": "AQ", "e": "AQAB"},
        ]}))
        .unwrap();
        let keys = usable_keys(&set);
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort();
        assert_eq!(kids, ["k1", "k4"]);

        let message = b"header.payload";
        let key = &keys["k1"];
        assert!(key.verifies_rs256(message, &sign(&pair, &RSA_PKCS1_SHA256, message)));
        assert!(!key.verifies_rs256(b"header.payloae", &sign(&pair, &RSA_PKCS1_SHA256, message)));
        assert!(!key.verifies_rs256(message, &sign(&other, &RSA_PKCS1_SHA256, message)));
        assert!(!key.verifies_rs256(message, &sign(&pair, &RSA_PKCS1_SHA384, message)));
        assert!(!key.verifies_rs256(message, &[]));
        assert!(!keys["k4"].verifies_rs256(message, &sign(&pair, &RSA_PKCS1_SHA256, message)));
    }
}
