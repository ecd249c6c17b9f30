//! CLI Auth: the OAuth 2.0 device authorization grant (RFC 8628) that
//! WorkOS offers command-line tools and other devices without a browser.
//!
//! The shapes follow WorkOS's CLI Auth reference
//! (<https://workos.com/docs/reference/authkit/cli-auth>) and workos-node's
//! `DeviceAuthorizationResponse` / `DeviceCodeSessionAuthenticateRequest`:
//! `POST /user_management/authorize/device` takes `client_id` and answers
//! `{device_code, user_code, verification_uri, verification_uri_complete,
//! expires_in, interval}`; `POST /user_management/authenticate` with
//! `grant_type=urn:ietf:params:oauth:grant-type:device_code`, `device_code`
//! and `client_id` answers the usual authentication response, or one of
//! RFC 8628 §3.5's errors. Neither call takes the API key: CLI Auth is for
//! public clients, which hold no secret, so neither is sent.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::error::{OAuthError, OAuthErrorCode};
use super::{AuthenticationResponse, Call, Error, UserManagement};
use crate::Secret;

/// The grant type of a device code exchange (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The interval a device authorization without one implies (RFC 8628 §3.2).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// What each `slow_down` adds to the interval (RFC 8628 §3.5).
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// What [`UserManagement::authorize_device`] answers: show the user the
/// [`user_code`](Self::user_code) and the
/// [`verification_uri`](Self::verification_uri) (or open
/// [`verification_uri_complete`](Self::verification_uri_complete) in their
/// browser), then [poll](UserManagement::poll_device_authorization).
/// Never show the device code: it is the device's secret.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct DeviceAuthorization {
    /// What the device polls with (a secret: redacted in `Debug`).
    pub device_code: Secret,
    /// The short code the user enters on the verification page (`ABCD-EFGH`).
    pub user_code: String,
    /// The page where the user signs in and enters the code.
    pub verification_uri: String,
    /// The page with the code filled in, when WorkOS sends it.
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// How long the codes live, in seconds.
    pub expires_in: u64,
    /// The least time between two polls, in seconds (5 when absent).
    #[serde(default)]
    pub interval: Option<u64>,
    /// When the answer arrived: `expires_in` counts from here, however late
    /// polling starts.
    #[serde(skip, default = "Instant::now")]
    received: Instant,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &self.device_code)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

impl DeviceAuthorization {
    /// The least time between two polls: `interval`, or 5 s when WorkOS
    /// sent none, and never less than a second.
    pub fn poll_interval(&self) -> Duration {
        self.interval
            .map_or(DEFAULT_INTERVAL, Duration::from_secs)
            .max(Duration::from_secs(1))
    }

    /// How long the codes live (`expires_in`).
    pub fn lifetime(&self) -> Duration {
        Duration::from_secs(self.expires_in)
    }

    /// The page to open for the user: the one with the code filled in when
    /// there is one, else the plain verification page.
    pub fn browser_url(&self) -> &str {
        self.verification_uri_complete
            .as_deref()
            .unwrap_or(&self.verification_uri)
    }
}

/// Parameters of [`UserManagement::authenticate_with_device_code`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithDeviceCode {
    /// From [`DeviceAuthorization::device_code`].
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub device_code: Secret,
    /// A unique identifier for the device, for WorkOS's session records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The device's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The device's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

#[derive(Serialize)]
struct AuthorizeDevice<'a> {
    client_id: &'a str,
}

#[derive(Serialize)]
struct DeviceGrant<'a> {
    client_id: &'a str,
    grant_type: &'static str,
    #[serde(flatten)]
    params: &'a AuthenticateWithDeviceCode,
}

impl UserManagement {
    /// Starts a CLI sign-in: a device code for the device and a user code
    /// for the user (`POST /user_management/authorize/device`). Sent without
    /// the API key.
    pub async fn authorize_device(&self) -> Result<DeviceAuthorization, Error> {
        let body = AuthorizeDevice {
            client_id: self.client_id(),
        };
        let call = Call::post(&["user_management", "authorize", "device"])
            .json(&body)
            .never_api_key();
        self.send(call).await
    }

    /// One poll of the token endpoint with a device code. Until the user
    /// approves, it fails with [`Error::OAuth`] and
    /// [`OAuthErrorCode::AuthorizationPending`] (or `SlowDown`: wait 5 s
    /// more from then on); `AccessDenied` and `ExpiredToken` end the flow.
    /// [`poll_device_authorization`](Self::poll_device_authorization) does
    /// the waiting. Sent without the API key or a client secret.
    pub async fn authenticate_with_device_code(
        &self,
        params: &AuthenticateWithDeviceCode,
    ) -> Result<AuthenticationResponse, Error> {
        let body = DeviceGrant {
            client_id: self.client_id(),
            grant_type: DEVICE_CODE_GRANT_TYPE,
            params,
        };
        let call = Call::post(&["user_management", "authenticate"])
            .json(&body)
            .never_api_key();
        self.send(call).await
    }

    /// Waits for the user to approve the device: polls every `interval`
    /// (5 s more after each `slow_down`), keeps going on
    /// `authorization_pending` and on transient failures (a dropped
    /// connection, a 5xx, a 429, which also waits its `Retry-After`), and
    /// ends with the tokens, or with [`Error::OAuth`] for `access_denied`,
    /// `expired_token`, or any other refusal. Once `expires_in` has passed it
    /// stops polling with `expired_token`, whatever WorkOS still answers.
    ///
    /// It is a future: drop it (a `tokio::select!` with Ctrl-C, a timeout)
    /// and polling stops.
    ///
    /// ```no_run
    /// # async fn run(workos: authkit_axum::client::UserManagement) -> Result<(), authkit_axum::client::Error> {
    /// let device = workos.authorize_device().await?;
    /// println!("Open {} and enter {}", device.verification_uri, device.user_code);
    /// let signed_in = workos.poll_device_authorization(&device).await?;
    /// println!("Signed in as {}", signed_in.user.email);
    /// # Ok(()) }
    /// ```
    pub fn poll_device_authorization(&self, authorization: &DeviceAuthorization) -> DevicePoll {
        DevicePoll {
            client: self.clone(),
            params: AuthenticateWithDeviceCode {
                device_code: authorization.device_code.clone(),
                ..Default::default()
            },
            interval: authorization.poll_interval(),
            lifetime: authorization.lifetime(),
            started: authorization.received,
            sleep: Arc::new(|d| Box::pin(tokio::time::sleep(d))),
        }
    }
}

type SleepFn = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// The polling of a device authorization, made by
/// [`UserManagement::poll_device_authorization`]: `.await` it (or call
/// [`wait`](Self::wait)) for the tokens.
#[must_use = "a DevicePoll polls nothing until it is awaited"]
pub struct DevicePoll {
    client: UserManagement,
    params: AuthenticateWithDeviceCode,
    interval: Duration,
    lifetime: Duration,
    /// When the authorization arrived.
    started: Instant,
    sleep: SleepFn,
}

impl fmt::Debug for DevicePoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevicePoll")
            .field("params", &self.params)
            .field("interval", &self.interval)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl DevicePoll {
    /// How to wait between polls (default `tokio::time::sleep`). The time
    /// waited also counts toward `expires_in`, so a test can step a fake
    /// clock instead of waiting real seconds.
    ///
    /// ```no_run
    /// # async fn run(workos: authkit_axum::client::UserManagement) -> Result<(), authkit_axum::client::Error> {
    /// let device = workos.authorize_device().await?;
    /// let signed_in = workos
    ///     .poll_device_authorization(&device)
    ///     .with_sleep(|wait| async move {
    ///         eprintln!("next check in {}s", wait.as_secs());
    ///         tokio::time::sleep(wait).await;
    ///     })
    ///     .await?;
    /// # let _ = signed_in; Ok(()) }
    /// ```
    pub fn with_sleep<F, Fut>(mut self, sleep: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.sleep = Arc::new(move |d| Box::pin(sleep(d)));
        self
    }

    /// The device's identifier, IP address and user agent, for WorkOS's
    /// session records (the device code is the authorization's).
    ///
    /// ```no_run
    /// # async fn run(workos: authkit_axum::client::UserManagement) -> Result<(), authkit_axum::client::Error> {
    /// use authkit_axum::client::AuthenticateWithDeviceCode;
    ///
    /// let device = workos.authorize_device().await?;
    /// let signed_in = workos
    ///     .poll_device_authorization(&device)
    ///     .with_params(AuthenticateWithDeviceCode {
    ///         user_agent: Some("mycli/1.0".into()),
    ///         ..Default::default()
    ///     })
    ///     .await?;
    /// # let _ = signed_in; Ok(()) }
    /// ```
    pub fn with_params(mut self, params: AuthenticateWithDeviceCode) -> Self {
        let device_code = std::mem::take(&mut self.params.device_code);
        self.params = AuthenticateWithDeviceCode {
            device_code,
            ..params
        };
        self
    }

    /// Polls until the user approves or denies, or the codes expire.
    pub async fn wait(self) -> Result<AuthenticationResponse, Error> {
        let started = self.started;
        let mut schedule = Schedule::new(self.interval, self.lifetime);
        loop {
            let wait = match schedule.next_wait(started.elapsed()) {
                Some(wait) => wait,
                None => {
                    tracing::debug!(outcome = "expired", "device authorization expired");
                    return Err(expired_locally());
                }
            };
            (self.sleep)(wait).await;
            schedule.waited(wait);
            let outcome = self
                .client
                .authenticate_with_device_code(&self.params)
                .await;
            match schedule.after(&outcome) {
                Step::Done => {
                    tracing::debug!(
                        outcome = if outcome.is_ok() {
                            "signed_in"
                        } else {
                            "ended"
                        },
                        code = outcome.as_ref().err().and_then(Error::code),
                        "device authorization finished"
                    );
                    return outcome;
                }
                Step::Again => {
                    tracing::trace!(
                        code = outcome.as_ref().err().and_then(Error::code),
                        interval_s = schedule.interval.as_secs(),
                        "device authorization pending"
                    );
                }
            }
        }
    }
}

impl IntoFuture for DevicePoll {
    type Output = Result<AuthenticationResponse, Error>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.wait())
    }
}

/// `expired_token` for a flow whose `expires_in` passed while WorkOS still
/// answered otherwise (the status is the one WorkOS gives the real thing).
fn expired_locally() -> Error {
    Error::OAuth(Box::new(OAuthError {
        status: 400,
        error: OAuthErrorCode::ExpiredToken,
        description: Some(
            "the device authorization's expires_in passed before the user approved it".into(),
        ),
        request_id: None,
        retry_after: None,
    }))
}

/// What to do after a poll.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Poll again after the next wait.
    Again,
    /// The flow is over: hand the outcome to the caller.
    Done,
}

/// The polling policy, apart from the HTTP: how long to wait, what an answer
/// means, when to give up.
#[derive(Debug)]
struct Schedule {
    interval: Duration,
    lifetime: Duration,
    /// The sum of the waits: a fake sleep's time counts too.
    waited: Duration,
    /// A wait longer than the interval asked for by a 429's or 503's
    /// `Retry-After`.
    extra: Option<Duration>,
}

impl Schedule {
    fn new(interval: Duration, lifetime: Duration) -> Self {
        Schedule {
            interval: interval.max(Duration::from_secs(1)),
            lifetime,
            waited: Duration::ZERO,
            extra: None,
        }
    }

    /// The wait before the next poll, or `None` once `expires_in` has
    /// passed (by the clock or by the waits, whichever says more).
    fn next_wait(&mut self, elapsed: Duration) -> Option<Duration> {
        let spent = elapsed.max(self.waited);
        if spent >= self.lifetime {
            return None;
        }
        // A `Retry-After` far ahead waits no longer than the flow lives.
        let left = (self.lifetime - spent).max(self.interval);
        let wait = self
            .extra
            .take()
            .map_or(self.interval, |extra| extra.max(self.interval).min(left));
        Some(wait)
    }

    fn waited(&mut self, wait: Duration) {
        self.waited = self.waited.saturating_add(wait);
    }

    fn after(&mut self, outcome: &Result<AuthenticationResponse, Error>) -> Step {
        let Err(e) = outcome else {
            return Step::Done;
        };
        match e {
            Error::OAuth(oauth) => match oauth.error {
                OAuthErrorCode::AuthorizationPending => Step::Again,
                OAuthErrorCode::SlowDown => {
                    self.interval = self.interval.saturating_add(SLOW_DOWN_STEP);
                    Step::Again
                }
                _ if e.is_transient() => {
                    self.extra = e.retry_after();
                    Step::Again
                }
                _ => Step::Done,
            },
            // A 429 too: its `Retry-After`, as a 503's, is waited once.
            _ if e.is_transient() => {
                self.extra = e.retry_after();
                Step::Again
            }
            _ => Step::Done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth(code: &str) -> Result<AuthenticationResponse, Error> {
        Err(Error::from_response(
            http::StatusCode::BAD_REQUEST,
            &http::HeaderMap::new(),
            format!(r#"{{"error":"{code}","error_description":"d"}}"#).as_bytes(),
        ))
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn pending_keeps_the_interval_and_slow_down_adds_five_seconds_for_good() {
        let mut s = Schedule::new(S(5), S(300));
        assert_eq!(s.next_wait(S(0)), Some(S(5)));
        assert_eq!(s.after(&oauth("authorization_pending")), Step::Again);
        assert_eq!(s.next_wait(S(0)), Some(S(5)));
        assert_eq!(s.after(&oauth("slow_down")), Step::Again);
        assert_eq!(s.next_wait(S(0)), Some(S(10)));
        assert_eq!(s.after(&oauth("authorization_pending")), Step::Again);
        assert_eq!(s.next_wait(S(0)), Some(S(10)), "the slower pace stays");
        assert_eq!(s.after(&oauth("slow_down")), Step::Again);
        assert_eq!(s.next_wait(S(0)), Some(S(15)));
    }

    #[test]
    fn denial_expiry_and_other_refusals_end_the_flow() {
        for code in [
            "access_denied",
            "expired_token",
            "invalid_grant",
            "invalid_client",
        ] {
            let mut s = Schedule::new(S(5), S(300));
            assert_eq!(s.after(&oauth(code)), Step::Done, "{code}");
        }
    }

    #[test]
    fn transient_failures_keep_polling_and_a_429_or_503_waits_its_retry_after() {
        let mut s = Schedule::new(S(5), S(300));
        assert_eq!(s.after(&Err(Error::Timeout)), Step::Again);
        let busy = Err(Error::from_response(
            http::StatusCode::SERVICE_UNAVAILABLE,
            &http::HeaderMap::new(),
            b"",
        ));
        assert_eq!(s.after(&busy), Step::Again);
        let limited = Err(Error::RateLimited {
            retry_after: Some(S(30)),
            request_id: None,
        });
        assert_eq!(s.after(&limited), Step::Again);
        assert_eq!(s.next_wait(S(0)), Some(S(30)));
        assert_eq!(s.next_wait(S(0)), Some(S(5)), "once");
        // A 503's wait too.
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "20".parse().unwrap());
        let down = Err(Error::from_response(
            http::StatusCode::SERVICE_UNAVAILABLE,
            &headers,
            b"",
        ));
        assert_eq!(s.after(&down), Step::Again);
        assert_eq!(s.next_wait(S(0)), Some(S(20)));
        assert_eq!(s.next_wait(S(0)), Some(S(5)), "once");
        // A wait past the flow's end is cut to it.
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "3600".parse().unwrap());
        let far = Err(Error::from_response(
            http::StatusCode::SERVICE_UNAVAILABLE,
            &headers,
            b"",
        ));
        assert_eq!(s.after(&far), Step::Again);
        assert_eq!(s.next_wait(S(100)), Some(S(200)));
    }

    #[test]
    fn it_gives_up_at_expires_in_by_the_clock_or_by_the_waits() {
        let mut s = Schedule::new(S(5), S(12));
        assert_eq!(s.next_wait(S(11)), Some(S(5)));
        assert_eq!(s.next_wait(S(12)), None, "by the clock");
        let mut s = Schedule::new(S(5), S(12));
        s.waited(S(10));
        assert!(s.next_wait(S(0)).is_some());
        s.waited(S(5));
        assert_eq!(s.next_wait(S(0)), None, "by the waits");
    }

    #[test]
    fn the_interval_never_drops_below_a_second_so_polling_never_spins() {
        let mut s = Schedule::new(Duration::ZERO, S(60));
        assert_eq!(s.next_wait(S(0)), Some(S(1)));
        let authorization: DeviceAuthorization = serde_json::from_value(serde_json::json!({
            "device_code": "dc", "user_code": "BCDF-GHJK",
            "verification_uri": "https://x/device", "expires_in": 300,
        }))
        .unwrap();
        assert_eq!(authorization.poll_interval(), S(5), "RFC 8628's default");
        assert_eq!(authorization.browser_url(), "https://x/device");
    }

    #[test]
    fn debug_never_shows_the_device_code() {
        let authorization: DeviceAuthorization = serde_json::from_value(serde_json::json!({
            "device_code": "dc_very_secret_device_code", "user_code": "BCDF-GHJK",
            "verification_uri": "https://x/device",
            "verification_uri_complete": "https://x/device?user_code=BCDF-GHJK",
            "expires_in": 300, "interval": 5,
        }))
        .unwrap();
        let shown = format!("{authorization:?}");
        assert!(!shown.contains("very_secret"), "{shown}");
        assert!(shown.contains("BCDF-GHJK"));
        let params = AuthenticateWithDeviceCode {
            device_code: "dc_very_secret_device_code".into(),
            ..Default::default()
        };
        assert!(!format!("{params:?}").contains("very_secret"));
    }
}
