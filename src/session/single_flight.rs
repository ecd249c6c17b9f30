//! Single-flight refresh: concurrent requests carrying the same refresh
//! token share one call to WorkOS.
//!
//! Refresh tokens are single use. Without this, a page that fires ten API
//! calls the moment its access token expires would spend the token ten times;
//! WorkOS forgives replays within a short window, but each is still a request.
//! Here the first request starts the refresh and the others await its result;
//! a successful result is also kept for a short while, so requests that
//! arrive just after it finished (still carrying the old cookie) reuse it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use sha2::{Digest, Sha256};

use super::{RefreshError, Refreshed};

/// How long a finished refresh answers for its old refresh token: shorter
/// than WorkOS's replay window, so reusing it never outlives what WorkOS
/// itself would answer.
const REUSE_WINDOW: Duration = Duration::from_secs(20);

/// At most this many finished refreshes are kept for reuse (each a sealed
/// cookie and its session, a few KiB): about 20 MiB at worst. Beyond it the
/// finished ones are dropped; a request arriving later with an old cookie
/// then refreshes again, which WorkOS's replay window answers the same way.
const MAX_KEPT: usize = 4096;

pub(crate) type Outcome = Arc<Result<Refreshed, RefreshError>>;

enum Entry {
    Running(Shared<BoxFuture<'static, Outcome>>),
    Done { at: Instant, outcome: Outcome },
}

/// In-process single flight, keyed by a hash of the refresh token (so the
/// map never holds a token itself).
#[derive(Default)]
pub(crate) struct SingleFlight {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
}

impl SingleFlight {
    /// Runs `refresh` for `refresh_token`, unless a refresh of the same
    /// token is running or just finished; then shares its outcome.
    pub(crate) async fn run<F>(self: &Arc<Self>, refresh_token: &str, refresh: F) -> Outcome
    where
        F: Future<Output = Result<Refreshed, RefreshError>> + Send + 'static,
    {
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let shared = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries.retain(|_, e| match e {
                Entry::Running(_) => true,
                Entry::Done { at, .. } => at.elapsed() < REUSE_WINDOW,
            });
            if entries.len() >= MAX_KEPT {
                entries.retain(|_, e| matches!(e, Entry::Running(_)));
            }
            match entries.get(&key) {
                Some(Entry::Done { outcome, .. }) => return outcome.clone(),
                Some(Entry::Running(shared)) => shared.clone(),
                None => {
                    let this = Arc::clone(self);
                    let fut: BoxFuture<'static, Outcome> = async move {
                        let outcome = Arc::new(refresh.await);
                        let mut entries = this.entries.lock().unwrap_or_else(|p| p.into_inner());
                        if outcome.is_ok() {
                            entries.insert(
                                key,
                                Entry::Done {
                                    at: Instant::now(),
                                    outcome: outcome.clone(),
                                },
                            );
                        } else {
                            // Failures are not reused: the next request may try again.
                            entries.remove(&key);
                        }
                        outcome
                    }
                    .boxed();
                    let shared = fut.shared();
                    entries.insert(key, Entry::Running(shared.clone()));
                    shared
                }
            }
        };
        shared.await
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_share_one_refresh_and_failures_are_not_kept() {
        let flight = Arc::new(SingleFlight::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let flight = flight.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                flight
                    .run("rt_1", async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Err(RefreshError::InvalidSessionCookie)
                    })
                    .await
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().is_err());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(flight.len(), 0, "a failed refresh must not be reused");
    }
}
