//! Single-flight refresh: concurrent requests carrying the same refresh
//! token share one call to WorkOS.
//!
//! Refresh tokens are single use. Without this, a page that fires ten API
//! calls the moment its access token expires would spend the token ten times;
//! WorkOS forgives replays within a short window, but each is still a request.
//! Here the first request starts the refresh and the others await its result;
//! a result that carries a new token pair is also kept for a short while, so
//! requests that arrive just after it finished (still carrying the old
//! cookie) reuse it.
//!
//! Each refresh runs on a task of its own: a request that is cancelled (its
//! client went away) stops waiting, but the refresh it started still runs to
//! its end, so the token it spent is not lost with it, and its entry always
//! leaves the map (or becomes a finished one). The map never holds more than
//! [`MAX_KEPT`] entries, running ones included: when it is full, a new
//! refresh runs unshared.

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

/// At most this many refreshes, running or finished, are in the map (a
/// finished one is a sealed cookie and its session, a few KiB): about 20 MiB
/// at worst. Beyond it the finished ones are dropped, and when running ones
/// alone fill it a new refresh runs unshared; a request arriving later with
/// an old cookie then refreshes again, which WorkOS's replay window answers
/// the same way.
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

/// Whether an outcome is worth reusing: it holds a new token pair (the old
/// refresh token is spent, so the pair is all there is). Failures without
/// one are not kept: the next request may try again.
fn keep(outcome: &Result<Refreshed, RefreshError>) -> bool {
    match outcome {
        Ok(_) => true,
        Err(e) => e.new_session_cookie().is_some(),
    }
}

impl SingleFlight {
    /// Runs `refresh` for `refresh_token`, unless a refresh of the same
    /// token is running or just finished; then shares its outcome.
    #[cfg_attr(not(test), allow(dead_code, reason = "the layer uses run_joined"))]
    pub(crate) async fn run<F>(self: &Arc<Self>, refresh_token: &str, refresh: F) -> Outcome
    where
        F: Future<Output = Result<Refreshed, RefreshError>> + Send + 'static,
    {
        self.run_joined(refresh_token, refresh).await.0
    }

    /// [`run`](Self::run), and whether the outcome is another caller's
    /// refresh (running or just finished) rather than one this call started.
    pub(crate) async fn run_joined<F>(
        self: &Arc<Self>,
        refresh_token: &str,
        refresh: F,
    ) -> (Outcome, bool)
    where
        F: Future<Output = Result<Refreshed, RefreshError>> + Send + 'static,
    {
        let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
        let shared = {
            let mut entries = self.lock();
            entries.retain(|_, e| match e {
                Entry::Running(_) => true,
                Entry::Done { at, .. } => at.elapsed() < REUSE_WINDOW,
            });
            match entries.get(&key) {
                Some(Entry::Done { outcome, .. }) => return (outcome.clone(), true),
                Some(Entry::Running(shared)) => Ok((shared.clone(), true)),
                None => {
                    if entries.len() >= MAX_KEPT {
                        entries.retain(|_, e| matches!(e, Entry::Running(_)));
                    }
                    if entries.len() < MAX_KEPT {
                        let shared = self.spawn(key, refresh).shared();
                        entries.insert(key, Entry::Running(shared.clone()));
                        Ok((shared, false))
                    } else {
                        Err(refresh)
                    }
                }
            }
        };
        match shared {
            Ok((shared, joined)) => (shared.await, joined),
            Err(refresh) => {
                tracing::warn!(
                    running = MAX_KEPT,
                    "too many refreshes running at once; this one is not shared"
                );
                let outcome = join(tokio::spawn(async move { Arc::new(refresh.await) })).await;
                (outcome, false)
            }
        }
    }

    /// Starts `refresh` on a task of its own, which finishes its entry.
    fn spawn<F>(self: &Arc<Self>, key: [u8; 32], refresh: F) -> BoxFuture<'static, Outcome>
    where
        F: Future<Output = Result<Refreshed, RefreshError>> + Send + 'static,
    {
        let this = Arc::clone(self);
        join(tokio::spawn(async move {
            // Whatever happens to the refresh (even a panic), the entry
            // stops being "running" when the task ends.
            let mut finish = Finish {
                flight: this,
                key,
                outcome: None,
            };
            let outcome = Arc::new(refresh.await);
            finish.outcome = Some(outcome.clone());
            outcome
        }))
        .boxed()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The outcome of a refresh task. A panic in the refresh is the caller's
/// again, as if it had run inline.
async fn join(task: tokio::task::JoinHandle<Outcome>) -> Outcome {
    match task.await {
        Ok(outcome) => outcome,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => panic!("the refresh task was cancelled: the runtime is shutting down"),
    }
}

/// Turns a running entry into a finished one (or removes it) when its task ends.
struct Finish {
    flight: Arc<SingleFlight>,
    key: [u8; 32],
    outcome: Option<Outcome>,
}

impl Drop for Finish {
    fn drop(&mut self) {
        let mut entries = self.flight.lock();
        match self.outcome.take() {
            Some(outcome) if keep(&outcome) => {
                entries.insert(
                    self.key,
                    Entry::Done {
                        at: Instant::now(),
                        outcome,
                    },
                );
            }
            _ => {
                entries.remove(&self.key);
            }
        }
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

    #[tokio::test]
    async fn abandoned_refreshes_never_grow_the_map_past_its_bound() {
        let flight = Arc::new(SingleFlight::default());
        for n in 0..MAX_KEPT + 500 {
            // A refresh that never ends, whose only waiter gives up at once.
            let token = format!("rt_{n}");
            let run = flight.run(&token, std::future::pending());
            assert!(tokio::time::timeout(Duration::ZERO, run).await.is_err());
        }
        assert!(
            flight.len() <= MAX_KEPT,
            "{} entries for a bound of {MAX_KEPT}",
            flight.len()
        );
    }

    #[tokio::test]
    async fn an_abandoned_refresh_still_runs_to_its_end_and_leaves_the_map() {
        let flight = Arc::new(SingleFlight::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let counted = calls.clone();
        let run = flight.run("rt_1", async move {
            counted.fetch_add(1, Ordering::SeqCst);
            let _ = released.await;
            Err(RefreshError::InvalidSessionCookie)
        });
        // The waiter starts the refresh, then goes away (its client hung up).
        assert!(tokio::time::timeout(Duration::ZERO, run).await.is_err());
        release.send(()).unwrap();
        // The refresh ran to its end without anyone waiting and left the map.
        tokio::time::timeout(Duration::from_secs(10), async {
            while flight.len() != 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the abandoned refresh finished and removed its entry");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
