//! When to repeat a failed request, and how long to wait first.

use std::time::Duration;

use super::{Error, Idempotency};

/// Bounded retries with exponential backoff and jitter.
///
/// Retried: 429 (waiting what `Retry-After` says), and for requests that are
/// safe to repeat also 5xx, 408, timeouts and connection errors. A POST that
/// is not safe to repeat is retried only when WorkOS certainly did not act on
/// it: a 429 or a connection that never opened. A refresh is repeated after
/// a lost answer only while WorkOS would still answer the repeat as a replay
/// (within its replay window, counted from the first attempt). A 5xx's
/// `Retry-After` is honoured as a 429's is: the repeat waits at least that
/// long, and a wait longer than [`with_max_delay`](Self::with_max_delay) is
/// not waited out: the call fails at once with the error, whose
/// [`retry_after`](Error::retry_after) the crate's 503s pass on.
///
/// ```
/// use std::time::Duration;
/// use authkit_axum::client::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .with_max_retries(5)
///     .with_base_delay(Duration::from_millis(200));
/// assert_eq!(policy.max_retries(), 5);
/// assert_eq!(RetryPolicy::none().max_retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How many times a request may be repeated after its first attempt.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// The first backoff; each further retry doubles it.
    pub fn with_base_delay(mut self, base_delay: Duration) -> Self {
        self.base_delay = base_delay;
        self
    }

    /// The longest single wait. A `Retry-After` longer than this (of a 429 or
    /// a 5xx) is not waited out: the call fails with the error
    /// ([`Error::RateLimited`], or [`Error::Api`] / [`Error::OAuth`] for a
    /// 5xx) carrying it
    /// instead.
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// The retry bound.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The wait before retry number `attempt + 1`, or `None` to give up.
    ///
    /// `elapsed` is the time since the first attempt started: a call that is
    /// only [`Idempotency::ReplayWithin`] a window is not repeated after a
    /// possibly acted-on failure once the repeat would land outside it.
    pub(crate) fn delay_before_retry(
        &self,
        attempt: u32,
        error: &Error,
        idempotency: Idempotency,
        elapsed: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_retries {
            return None;
        }
        // A 5xx's `Retry-After`, as a 429's: waited at least, and not
        // waited out when longer than `max_delay` (the call fails at once,
        // carrying it, for the app's 503 to pass on).
        let asked = match error {
            Error::RateLimited { .. } => None,
            other => other.retry_after(),
        };
        if asked.is_some_and(|wait| wait > self.max_delay) {
            return None;
        }
        let idempotent = match idempotency {
            Idempotency::Idempotent => true,
            Idempotency::NotIdempotent => false,
            Idempotency::ReplayWithin(window) => {
                let longest = self.backoff_ceiling(attempt).max(asked.unwrap_or_default());
                elapsed.saturating_add(longest) < window
            }
        };
        let retryable = match error {
            Error::RateLimited { retry_after, .. } => {
                return match retry_after {
                    Some(wait) if *wait > self.max_delay => None,
                    Some(wait) => Some(*wait),
                    None => Some(self.backoff(attempt)),
                };
            }
            Error::Transport(e) => idempotent || e.is_connect(),
            Error::Timeout => idempotent,
            Error::Api(e) => idempotent && (e.status >= 500 || e.status == 408),
            Error::OAuth(e) => idempotent && e.status >= 500,
            Error::Decode { status, .. } => idempotent && *status >= 500,
            _ => false,
        };
        retryable.then(|| self.backoff(attempt).max(asked.unwrap_or_default()))
    }

    /// The longest wait [`backoff`](Self::backoff) may pick for `attempt`.
    fn backoff_ceiling(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.max_delay)
    }

    /// Exponential backoff with "equal jitter": a uniform wait in [d/2, d].
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.backoff_ceiling(attempt);
        let half = exp / 2;
        let jitter_nanos = half.as_nanos() as u64;
        let random = getrandom::u64().unwrap_or(0);
        let extra = if jitter_nanos == 0 {
            0
        } else {
            random % (jitter_nanos + 1)
        };
        half + Duration::from_nanos(extra)
    }
}

/// Whether WorkOS may have acted on an attempt that failed this way (its
/// answer may have been lost): anything but a 429 or a connection that never
/// opened, once the request could have reached WorkOS.
pub(crate) fn may_have_acted(error: &Error) -> bool {
    match error {
        Error::Timeout => true,
        Error::Transport(e) => !e.is_connect(),
        Error::RateLimited { .. } | Error::InvalidRequest(_) => false,
        other => other
            .status()
            .is_some_and(|s| s.is_server_error() || s.as_u16() == 408),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ApiError;

    fn api(status: u16) -> Error {
        Error::Api(Box::new(ApiError {
            status,
            code: None,
            message: String::new(),
            errors: vec![],
            entity_id: None,
            request_id: None,
            retry_after: None,
        }))
    }

    fn unavailable_for(status: u16, secs: u64) -> Error {
        let Error::Api(mut e) = api(status) else {
            unreachable!()
        };
        e.retry_after = Some(Duration::from_secs(secs));
        Error::Api(e)
    }

    #[test]
    fn a_5xx_retry_after_is_waited_at_least_and_a_longer_one_than_max_delay_not_at_all() {
        let p = RetryPolicy::default()
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(5));
        // Longer than the backoff: the repeat waits what WorkOS asked.
        let asked = unavailable_for(503, 2);
        for attempt in 0..3 {
            assert_eq!(
                p.delay_before_retry(attempt, &asked, Idempotency::Idempotent, Duration::ZERO),
                Some(Duration::from_secs(2)),
                "attempt {attempt}"
            );
        }
        // Asked for no wait: the usual backoff.
        let now = unavailable_for(503, 0);
        let d = p
            .delay_before_retry(0, &now, Idempotency::Idempotent, Duration::ZERO)
            .unwrap();
        assert!(
            d >= Duration::from_millis(50) && d <= Duration::from_millis(100),
            "{d:?}"
        );
        // Longer than max_delay: the call fails now, carrying the wait.
        let long = unavailable_for(503, 60);
        assert!(
            p.delay_before_retry(0, &long, Idempotency::Idempotent, Duration::ZERO)
                .is_none()
        );
        assert_eq!(long.retry_after(), Some(Duration::from_secs(60)));
        // Still never repeated when it is not safe to.
        assert!(
            p.delay_before_retry(0, &asked, Idempotency::NotIdempotent, Duration::ZERO)
                .is_none()
        );
        // A replay window the wait would overrun: not repeated; inside it: repeated.
        let within = |elapsed| {
            p.delay_before_retry(
                0,
                &asked,
                Idempotency::ReplayWithin(Duration::from_secs(3)),
                Duration::from_secs(elapsed),
            )
        };
        assert_eq!(within(2), None);
        assert_eq!(within(0), Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_429_still_waits_its_retry_after_up_to_max_delay() {
        let p = RetryPolicy::default().with_max_delay(Duration::from_secs(5));
        for (secs, expected) in [(0, Some(0)), (5, Some(5)), (6, None)] {
            let limited = Error::RateLimited {
                retry_after: Some(Duration::from_secs(secs)),
                request_id: None,
            };
            assert_eq!(
                p.delay_before_retry(0, &limited, Idempotency::NotIdempotent, Duration::ZERO),
                expected.map(Duration::from_secs),
                "{secs} s"
            );
        }
    }

    #[test]
    fn backoff_grows_stays_jittered_and_capped() {
        let p = RetryPolicy::default()
            .with_max_retries(10)
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(1));
        for attempt in 0..10 {
            let d = p
                .delay_before_retry(attempt, &api(503), Idempotency::Idempotent, Duration::ZERO)
                .unwrap();
            let full = (Duration::from_millis(100) * 2u32.pow(attempt)).min(Duration::from_secs(1));
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(
            p.delay_before_retry(10, &api(503), Idempotency::Idempotent, Duration::ZERO)
                .is_none()
        );
    }

    #[test]
    fn unsafe_posts_are_not_repeated_after_a_5xx_but_are_after_a_429() {
        let p = RetryPolicy::default();
        assert!(
            p.delay_before_retry(0, &api(500), Idempotency::NotIdempotent, Duration::ZERO)
                .is_none()
        );
        let limited = Error::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
            request_id: None,
        };
        assert_eq!(
            p.delay_before_retry(0, &limited, Idempotency::NotIdempotent, Duration::ZERO),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn client_errors_and_long_retry_afters_are_not_retried() {
        let p = RetryPolicy::default();
        assert!(
            p.delay_before_retry(0, &api(404), Idempotency::Idempotent, Duration::ZERO)
                .is_none()
        );
        let long = Error::RateLimited {
            retry_after: Some(Duration::from_secs(3600)),
            request_id: None,
        };
        assert!(
            p.delay_before_retry(0, &long, Idempotency::Idempotent, Duration::ZERO)
                .is_none()
        );
    }

    #[test]
    fn a_refresh_is_repeated_after_a_lost_answer_only_inside_the_replay_window() {
        let p = RetryPolicy::default().with_max_retries(3);
        let window = Idempotency::ReplayWithin(Duration::from_secs(30));
        assert!(
            p.delay_before_retry(0, &Error::Timeout, window, Duration::from_secs(1))
                .is_some(),
            "a repeat soon after is a replay WorkOS answers with the same pair"
        );
        assert!(
            p.delay_before_retry(0, &Error::Timeout, window, Duration::from_secs(30))
                .is_none(),
            "a repeat after the window would spend the session"
        );
        assert!(
            p.delay_before_retry(0, &api(503), window, Duration::from_millis(29_900))
                .is_none(),
            "nor one whose backoff ends past the window"
        );
        // A 429 means WorkOS did not act: repeating it is always safe.
        let limited = Error::RateLimited {
            retry_after: Some(Duration::from_secs(1)),
            request_id: None,
        };
        assert!(
            p.delay_before_retry(0, &limited, window, Duration::from_secs(60))
                .is_some()
        );
    }
}
