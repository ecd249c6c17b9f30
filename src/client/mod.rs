//! A client for the WorkOS User Management API.
//!
//! Every operation of the WorkOS SDKs' `UserManagement` module is one async
//! method on [`UserManagement`]; all of them go through one request path
//! (base URL, `Authorization: Bearer`, `User-Agent`, timeout, retries, error
//! mapping), so a method is just its path, its body type and its answer type.
//!
//! A native app or a command-line tool cannot keep an API key: it is a
//! *public client* ([`UserManagement::public`]), which signs users in with
//! PKCE ([`UserManagement::authorization_url_with_pkce`], then
//! [`authenticate_with_code`](UserManagement::authenticate_with_code) with
//! the verifier), refreshes, and reads the JWKS — with no `Authorization`
//! header and no `client_secret`. Every other call answers
//! [`Error::MissingApiKey`] without sending anything.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authkit_axum::client::{UserManagement, ListUsers};
//! use futures_util::TryStreamExt;
//!
//! let workos = UserManagement::from_env()?; // WORKOS_API_KEY, WORKOS_CLIENT_ID
//! let user = workos.get_user("user_01H7WRJBPAAHX1BYRQHEK7QC4A").await?;
//! println!("{}", user.email);
//!
//! // Every list also walks all its pages for you.
//! let everyone: Vec<_> = workos.list_users_stream(ListUsers::default()).try_collect().await?;
//! # let _ = everyone; Ok(()) }
//! ```

mod auth_factors;
mod authenticate;
// CLI Auth: the device authorization grant.
mod device;
mod email_verification;
mod error;
// Area "the rest of user management" (identities, email change, groups, PKCE).
mod email_change;
mod groups;
mod identities;
// Events (webhooks and the Events API).
mod events;
mod invitations;
mod magic_auth;
mod memberships;
// Organizations (the SDKs' `Organizations` module, on the same client).
mod organizations;
mod pagination;
mod password_reset;
mod pkce;
mod retry;
mod sessions;
mod types;
mod urls;
mod users;

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

pub use auth_factors::{
    ChallengeAuthFactor, EnrollAuthFactor, ListAuthFactors, VerifiedAuthChallenge,
    VerifyAuthChallenge,
};
pub use authenticate::{
    AuthenticateWithCode, AuthenticateWithEmailVerification, AuthenticateWithMagicAuth,
    AuthenticateWithOrganizationSelection, AuthenticateWithPassword, AuthenticateWithRefreshToken,
    AuthenticateWithTotp, REFRESH_REPLAY_WINDOW,
};
// CLI Auth: the device authorization grant.
pub use device::{
    AuthenticateWithDeviceCode, DEVICE_CODE_GRANT_TYPE, DeviceAuthorization, DevicePoll,
};
pub use email_verification::VerifyEmail;
// Events (webhooks and the Events API).
pub use error::{
    ApiError, ChallengeFactor, DecodeError, EmailVerificationRequired, Error, FieldError,
    MfaChallenge, MfaEnrollment, OAuthError, OAuthErrorCode, OrganizationChoice,
    OrganizationSelectionRequired, SsoRequired, TransportError,
};
pub use events::{
    AuthenticationEventData, AuthenticationEventError, AuthenticationEventStatus,
    AuthenticationEventType, EmailVerificationEventData, Event, EventData, InvitationEventData,
    ListEvents, MagicAuthEventData, PasswordResetEventData,
};
pub use invitations::{ListInvitations, SendInvitation};
pub use magic_auth::CreateMagicAuth;
pub use memberships::{
    CreateOrganizationMembership, ListOrganizationMemberships, UpdateOrganizationMembership,
};
// Organizations.
pub use organizations::{
    CreateOrganization, DomainData, ListOrganizations, Organization, OrganizationDomain,
    OrganizationDomainState, OrganizationDomainVerificationStrategy, UpdateOrganization,
};
pub use pagination::{Order, PaginationParams};
pub use password_reset::{ResetPassword, SendPasswordResetEmail};
pub use retry::RetryPolicy;
pub use sessions::ListSessions;
pub use types::*;
pub use urls::{AuthorizationUrl, Provider, ScreenHint};
pub use users::{CreateUser, ListUsers, UpdateUser};
// Area "the rest of user management".
pub use email_change::{EmailChange, EmailChangeConfirmation};
pub use groups::{Group, ListGroupsForOrganizationMembership};
pub use identities::{Identity, IdentityType};
pub use pkce::{Pkce, PkceAuthorizationUrl};

use crate::Secret;
use crate::config::{self, ConfigError, optional_var, parse_bool, required_var};

/// The WorkOS API's default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.workos.com";

/// A WorkOS User Management client. Cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct UserManagement {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    /// `None` for a public client.
    api_key: Option<Secret>,
    /// `Bearer <api key>`, marked sensitive; `None` for a public client.
    authorization: Option<HeaderValue>,
    client_id: String,
    retry: RetryPolicy,
    /// The timeout of one attempt (`None` with a caller's own HTTP client).
    timeout: Option<Duration>,
}

impl fmt::Debug for UserManagement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserManagement")
            .field("base_url", &self.inner.base_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("api_key", &self.inner.api_key)
            .field("retry", &self.inner.retry)
            .finish()
    }
}

impl UserManagement {
    /// Starts a builder with the two things every client needs.
    pub fn builder(
        api_key: impl Into<Secret>,
        client_id: impl Into<String>,
    ) -> UserManagementBuilder {
        UserManagementBuilder {
            api_key: Some(api_key.into()),
            client_id: client_id.into(),
            base_url: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            http: None,
        }
    }

    /// A public client: no API key, for apps that cannot keep one secret
    /// (native, desktop, command-line). It builds authorization URLs, signs
    /// users in with PKCE, refreshes their sessions and reads the JWKS, and
    /// sends no `Authorization` header and no `client_secret` doing so; a
    /// call that needs the key fails with [`Error::MissingApiKey`] before
    /// anything is sent. [`public_builder`](Self::public_builder) sets the
    /// base URL, timeouts and retries.
    ///
    /// ```
    /// use authkit_axum::client::UserManagement;
    /// let workos = UserManagement::public("client_123").unwrap();
    /// assert!(!workos.has_api_key());
    /// ```
    pub fn public(client_id: impl Into<String>) -> Result<Self, ConfigError> {
        Self::public_builder(client_id).build()
    }

    /// Starts a builder for a public client (see [`public`](Self::public)).
    ///
    /// ```
    /// use authkit_axum::client::UserManagement;
    /// let workos = UserManagement::public_builder("client_123")
    ///     .with_base_url("http://127.0.0.1:4100")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(workos.base_url().as_str(), "http://127.0.0.1:4100/");
    /// ```
    pub fn public_builder(client_id: impl Into<String>) -> UserManagementBuilder {
        UserManagementBuilder {
            api_key: None,
            ..Self::builder("", client_id)
        }
    }

    /// Whether the client holds an API key (`false` for a public client).
    pub fn has_api_key(&self) -> bool {
        self.inner.api_key.is_some()
    }

    /// A client configured from the environment, as the other WorkOS SDKs read it:
    /// `WORKOS_API_KEY`, `WORKOS_CLIENT_ID`, and optionally `WORKOS_API_HOSTNAME`,
    /// `WORKOS_API_PORT`, `WORKOS_API_HTTPS` (`false` for plain HTTP).
    pub fn from_env() -> Result<Self, ConfigError> {
        let api_key = required_var(config::API_KEY)?;
        let client_id = required_var(config::CLIENT_ID)?;
        Self::builder(api_key, client_id)
            .with_base_url(base_url_from_env()?)
            .build()
    }

    /// The client id (`client_…`).
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The API key, `None` for a public client.
    pub(crate) fn api_key(&self) -> Option<&Secret> {
        self.inner.api_key.as_ref()
    }

    /// A URL under the base URL, with the path segments escaped.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base_url.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("base URL was checked to be a base in build()");
            path.pop_if_empty();
            for segment in segments {
                path.push(segment);
            }
        }
        url
    }

    /// The one request path every method goes through.
    ///
    /// A call whose answer type is `()` (a delete, a revoke, a "send the
    /// email") ignores the body of a 2xx answer, whatever it holds: WorkOS
    /// answers some of them with `{"success":true}` or other JSON, and the
    /// action has happened by then, so failing to read it would be a lie.
    pub(crate) async fn send<R: DeserializeOwned + 'static>(
        &self,
        call: Call<'_>,
    ) -> Result<R, Error> {
        if call.auth == Auth::Required && self.inner.authorization.is_none() {
            return Err(Error::MissingApiKey {
                call: format!("{} {}", call.method, loggable_path(call.path)),
            });
        }
        let mut url = self.url(call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        let body = match &call.body {
            Some(body) => Some(serde_json::to_vec(body).map_err(|e| {
                Error::InvalidRequest(format!("the request body could not be encoded: {e}"))
            })?),
            None => None,
        };
        let mut attempt: u32 = 0;
        let started = std::time::Instant::now();
        // Whether an earlier attempt failed after WorkOS may have acted on it.
        let mut answer_lost = false;
        loop {
            let mut request = self.request(&call.method, &url, body.as_ref(), call.auth);
            for (name, value) in &call.headers {
                request = request.header(name, value);
            }
            if let Some(timeout) = attempt_timeout(call.retry, self.inner.timeout) {
                request = request.timeout(timeout);
            }
            let sent = std::time::Instant::now();
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = response.bytes().await;
                    attempted(&call, Some(status), &headers, attempt, sent.elapsed());
                    match body {
                        Ok(bytes) if status.is_success() => {
                            let ignore_body = TypeId::of::<R>() == TypeId::of::<()>();
                            let bytes: &[u8] =
                                if ignore_body || bytes.iter().all(u8::is_ascii_whitespace) {
                                    b"null"
                                } else {
                                    &bytes
                                };
                            return serde_json::from_slice(bytes).map_err(|source| Error::Decode {
                                status: status.as_u16(),
                                request_id: error::request_id(&headers),
                                source: DecodeError::new(source),
                            });
                        }
                        Ok(bytes) => Error::from_response(status, &headers, &bytes),
                        Err(e) => transport_error(e),
                    }
                }
                Err(e) => {
                    attempted(
                        &call,
                        None,
                        &http::HeaderMap::new(),
                        attempt,
                        sent.elapsed(),
                    );
                    transport_error(e)
                }
            };
            let delay = self
                .inner
                .retry
                .delay_before_retry(attempt, &outcome, call.retry, started.elapsed())
                .filter(|delay| {
                    call.budget
                        .is_none_or(|budget| started.elapsed().saturating_add(*delay) < budget)
                });
            match delay {
                Some(delay) => {
                    tracing::debug!(
                        method = %call.method,
                        path = %loggable_path(call.path),
                        attempt = attempt + 1,
                        delay_ms = delay.as_millis() as u64,
                        error = %summary(&outcome),
                        "retrying WorkOS request"
                    );
                    answer_lost |= retry::may_have_acted(&outcome);
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => {
                    tracing::debug!(
                        method = %call.method,
                        path = %loggable_path(call.path),
                        error = %summary(&outcome),
                        retry_after_ms = outcome.retry_after().map(|d| d.as_millis() as u64),
                        "WorkOS request failed"
                    );
                    let replayed = matches!(call.retry, Idempotency::ReplayWithin(_));
                    if replayed && answer_lost && outcome.code() == Some("invalid_grant") {
                        return Err(Error::AnswerLost {
                            refused: Box::new(outcome),
                        });
                    }
                    return Err(outcome);
                }
            }
        }
    }
}

impl UserManagement {
    /// One attempt's request, with the API key (when the client has one) in
    /// a sensitive `Authorization` header: HTTP/2 never indexes it (HPACK),
    /// and tracing layers that honour the flag redact it.
    /// A public client's calls, and calls marked [`Auth::Never`], carry no
    /// `Authorization` at all.
    fn request(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&Vec<u8>>,
        auth: Auth,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(http::header::ACCEPT, "application/json");
        if let Some(authorization) = &self.inner.authorization
            && auth != Auth::Never
        {
            request = request.header(http::header::AUTHORIZATION, authorization.clone());
        }
        if let Some(body) = body {
            request = request
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        request
    }
}

/// `Bearer <api key>` as a sensitive header value; `None` when the key holds
/// characters a header cannot carry.
fn authorization(api_key: &Secret) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", api_key.expose())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// One attempt of a call, answered (`status`) or not: a debug event (the
/// path without its query, WorkOS's request id) and its metrics.
fn attempted(
    call: &Call<'_>,
    status: Option<http::StatusCode>,
    headers: &http::HeaderMap,
    attempt: u32,
    took: Duration,
) {
    tracing::debug!(
        method = %call.method,
        path = %LoggablePath(call.path),
        status = status.map(|s| s.as_u16()),
        attempt = attempt + 1,
        duration = ?took,
        request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()),
        "workos request"
    );
    crate::telemetry::workos_request(&call.method, status.map(|s| s.as_u16()), took);
}

/// The path for logs, with the invitation token of `by_token` lookups redacted.
fn loggable_path(segments: &[&str]) -> String {
    LoggablePath(segments).to_string()
}

/// A call's path as logs show it, written only when an event is: the
/// invitation token of `by_token` lookups redacted, never a query string.
struct LoggablePath<'a>(&'a [&'a str]);

impl fmt::Display for LoggablePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut redact_next = false;
        for segment in self.0 {
            f.write_str("/")?;
            f.write_str(if redact_next { "[redacted]" } else { segment })?;
            redact_next = *segment == "by_token";
        }
        Ok(())
    }
}

/// An error for logs: status and code only. WorkOS's messages can quote
/// what was sent (an authorization code, an email address).
fn summary(e: &Error) -> String {
    match (e.status(), e.code()) {
        (Some(status), Some(code)) => format!("{} {code}", status.as_u16()),
        (Some(status), None) => status.as_u16().to_string(),
        _ => e.to_string(),
    }
}

/// The timeout of one attempt, when it differs from the client's: a call
/// repeatable only within a window (a refresh, whose lost answer is
/// repeated only as a replay) gives up after half the window at most, so
/// that its repeat starts inside it.
fn attempt_timeout(retry: Idempotency, client: Option<Duration>) -> Option<Duration> {
    match retry {
        Idempotency::ReplayWithin(window) => {
            let cap = window / 2;
            Some(client.map_or(cap, |t| t.min(cap)))
        }
        _ => None,
    }
}

fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else {
        Error::Transport(TransportError::new(e))
    }
}

/// Which failures a call may be repeated after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Safe to repeat whatever happened (GET, PUT, DELETE, and POSTs whose
    /// repetition WorkOS answers the same way).
    Idempotent,
    /// Repeat only when WorkOS certainly did not act: 429 and failed connects.
    NotIdempotent,
    /// Safe to repeat only within this long of the first attempt (a refresh:
    /// WorkOS answers a replay with the same pair only for a while); a repeat
    /// refused with `invalid_grant` after a lost answer is [`Error::AnswerLost`].
    ReplayWithin(Duration),
}

/// Whether a call needs the API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Refused with [`Error::MissingApiKey`] by a public client.
    Required,
    /// Sent with the key when the client has one, and without any
    /// `Authorization` header by a public client (PKCE code exchange,
    /// refresh, JWKS).
    Optional,
    /// Never sent with the key, whatever the client holds: CLI Auth's
    /// device calls, which WorkOS documents for clients without a secret.
    Never,
}

/// One API call: method, path, query, body.
pub(crate) struct Call<'a> {
    method: Method,
    path: &'a [&'a str],
    query: Vec<(String, String)>,
    body: Option<serde_json::Value>,
    /// Extra headers (an `Idempotency-Key`).
    headers: Vec<(http::HeaderName, HeaderValue)>,
    retry: Idempotency,
    auth: Auth,
    /// How long the call may take, its retries' waits included: a retry
    /// that would end past it is not made (the key cache's fetch, which a
    /// request waits for).
    budget: Option<Duration>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(method: Method, path: &'a [&'a str]) -> Self {
        let retry = if method == Method::POST || method == Method::PATCH {
            Idempotency::NotIdempotent
        } else {
            Idempotency::Idempotent
        };
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            retry,
            auth: Auth::Required,
            budget: None,
        }
    }

    /// No retry whose wait would end after `budget` from the first attempt.
    pub(crate) fn within(mut self, budget: Option<Duration>) -> Self {
        self.budget = budget;
        self
    }

    pub(crate) fn get(path: &'a [&'a str]) -> Self {
        Self::new(Method::GET, path)
    }

    pub(crate) fn post(path: &'a [&'a str]) -> Self {
        Self::new(Method::POST, path)
    }

    pub(crate) fn put(path: &'a [&'a str]) -> Self {
        Self::new(Method::PUT, path)
    }

    pub(crate) fn delete(path: &'a [&'a str]) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Query parameters from a serializable value: nulls are left out,
    /// arrays are joined with commas (as WorkOS expects `statuses=a,b`).
    pub(crate) fn query(mut self, params: &impl Serialize) -> Self {
        self.query = to_query(params);
        self
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_value(body).expect("request types serialize to JSON"));
        self
    }

    /// Adds a header to every attempt.
    pub(crate) fn header(mut self, name: http::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Marks a POST as safe to repeat.
    pub(crate) fn idempotent(mut self) -> Self {
        self.retry = Idempotency::Idempotent;
        self
    }

    /// Marks a call as one a public client may make without the API key.
    pub(crate) fn without_api_key(mut self) -> Self {
        self.auth = Auth::Optional;
        self
    }

    /// Marks a call as one that never carries the API key (CLI Auth).
    pub(crate) fn never_api_key(mut self) -> Self {
        self.auth = Auth::Never;
        self
    }

    /// Marks a POST as safe to repeat within `window` of its first attempt.
    pub(crate) fn replayable_within(mut self, window: Duration) -> Self {
        self.retry = Idempotency::ReplayWithin(window);
        self
    }
}

pub(crate) fn to_query(params: &impl Serialize) -> Vec<(String, String)> {
    let value = serde_json::to_value(params).expect("query types serialize to JSON");
    let serde_json::Value::Object(map) = value else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        match value {
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => out.push((key, s)),
            serde_json::Value::Array(items) => {
                let joined: Vec<String> = items.iter().map(scalar).collect();
                out.push((key, joined.join(",")));
            }
            other => out.push((key, scalar(&other))),
        }
    }
    out
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Builds a [`UserManagement`] client.
#[derive(Debug)]
#[must_use]
pub struct UserManagementBuilder {
    api_key: Option<Secret>,
    client_id: String,
    base_url: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
}

impl UserManagementBuilder {
    /// The API base URL (default `https://api.workos.com`), e.g. an emulator's.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The timeout for one attempt of a request (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The timeout for opening a connection (default 10 s).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The retry policy (default: 3 retries, 500 ms base, 10 s cap).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Uses your own `reqwest::Client` (proxies, custom TLS roots, …); the
    /// builder's timeouts are then the client's business.
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<UserManagement, ConfigError> {
        let authorization = match &self.api_key {
            None => None,
            Some(key) if key.is_empty() => return Err(ConfigError::missing(config::API_KEY)),
            Some(key) => Some(authorization(key).ok_or_else(|| {
                ConfigError::invalid(
                    config::API_KEY,
                    "the API key holds characters an HTTP header cannot carry",
                )
            })?),
        };
        if self.client_id.trim().is_empty() {
            return Err(ConfigError::missing(config::CLIENT_ID));
        }
        let base_url = parse_base_url(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let own_client = self.http.is_none();
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .user_agent(concat!("authkit-axum/", env!("CARGO_PKG_VERSION")))
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| ConfigError::invalid(config::HTTP_CLIENT, e.to_string()))?,
        };
        Ok(UserManagement {
            inner: Arc::new(Inner {
                http,
                base_url,
                api_key: self.api_key,
                authorization,
                client_id: self.client_id,
                retry: self.retry,
                timeout: own_client.then_some(self.timeout),
            }),
        })
    }
}

/// A base URL as the client takes it: an http(s) URL that can be a base.
pub(crate) fn parse_base_url(raw: &str) -> Result<Url, ConfigError> {
    let base_url = Url::parse(raw)
        .map_err(|e| ConfigError::invalid(config::BASE_URL, format!("not a URL ({e})")))?;
    if base_url.cannot_be_a_base() || !matches!(base_url.scheme(), "http" | "https") {
        return Err(ConfigError::invalid(
            config::BASE_URL,
            "expected an http(s) URL such as https://api.workos.com",
        ));
    }
    Ok(base_url)
}

/// The API base URL from `WORKOS_API_HOSTNAME`, `WORKOS_API_PORT` and
/// `WORKOS_API_HTTPS`, defaulting to `https://api.workos.com`.
pub fn base_url_from_env() -> Result<String, ConfigError> {
    base_url_from_env_all().map_err(|mut errors| errors.remove(0))
}

/// [`base_url_from_env`] with every variable's mistake (never empty when
/// `Err`), so a configuration check lists them all at once.
pub(crate) fn base_url_from_env_all() -> Result<String, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let host = config::collect(&mut errors, optional_var(config::API_HOSTNAME)).flatten();
    let port = config::collect(&mut errors, optional_var(config::API_PORT)).flatten();
    let https = match config::collect(&mut errors, optional_var(config::API_HTTPS)).flatten() {
        Some(v) => config::collect(&mut errors, parse_bool(config::API_HTTPS, &v)).unwrap_or(true),
        None => true,
    };
    // Each part on its own, so a bad hostname and a bad port are both named.
    if let Some(host) = &host {
        config::collect(&mut errors, api_hostname(host));
    }
    let port = config::collect(&mut errors, port.as_deref().map(api_port).transpose()).flatten();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(compose_base_url(host.as_deref(), port, https))
}

/// Builds a base URL from a hostname, an optional port and the scheme, as the
/// WorkOS SDKs do.
pub fn base_url_from_parts(
    host: Option<&str>,
    port: Option<&str>,
    https: bool,
) -> Result<String, ConfigError> {
    if let Some(host) = host {
        api_hostname(host)?;
    }
    let port = port.map(api_port).transpose()?;
    Ok(compose_base_url(host, port, https))
}

/// A hostname as `WORKOS_API_HOSTNAME` takes it: bare (no scheme, port or
/// path), and one a URL can hold.
fn api_hostname(host: &str) -> Result<(), ConfigError> {
    if host.contains('/') || host.contains(':') && !host.starts_with('[') {
        return Err(ConfigError::invalid(
            config::API_HOSTNAME,
            "expected a bare hostname such as api.workos.com (no scheme, port or path)",
        ));
    }
    Url::parse(&format!("https://{host}"))
        .map(drop)
        .map_err(|e| ConfigError::invalid(config::API_HOSTNAME, e.to_string()))
}

/// A port as `WORKOS_API_PORT` takes it.
fn api_port(port: &str) -> Result<u16, ConfigError> {
    port.trim()
        .parse()
        .map_err(|_| ConfigError::invalid(config::API_PORT, "expected a port number"))
}

/// The base URL of checked parts (the hostname defaulting to WorkOS's).
fn compose_base_url(host: Option<&str>, port: Option<u16>, https: bool) -> String {
    let host = host.unwrap_or("api.workos.com");
    let scheme = if https { "https" } else { "http" };
    match port {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_base_url_is_refused_without_quoting_it() {
        for bad in ["ftp://user:hunter2@host", "not a url with hunter2"] {
            let err = UserManagement::builder("sk", "client")
                .with_base_url(bad)
                .build()
                .unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
            assert_eq!(err.setting(), "with_base_url");
        }
    }

    #[test]
    fn a_refresh_attempt_gives_up_in_time_for_its_repeat_to_be_a_replay() {
        let window = REFRESH_REPLAY_WINDOW;
        // The default 30 s attempt would outlast the window: capped at half.
        assert_eq!(
            attempt_timeout(
                Idempotency::ReplayWithin(window),
                Some(Duration::from_secs(30))
            ),
            Some(window / 2)
        );
        // A shorter client timeout stands.
        assert_eq!(
            attempt_timeout(
                Idempotency::ReplayWithin(window),
                Some(Duration::from_secs(2))
            ),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            attempt_timeout(Idempotency::ReplayWithin(window), None),
            Some(window / 2)
        );
        assert_eq!(
            attempt_timeout(Idempotency::Idempotent, Some(Duration::from_secs(30))),
            None
        );
    }

    #[test]
    fn logs_carry_codes_not_workos_messages_nor_invitation_tokens() {
        assert_eq!(
            loggable_path(&["user_management", "invitations", "by_token", "tok_secret"]),
            "/user_management/invitations/by_token/[redacted]"
        );
        let e = Error::from_response(
            http::StatusCode::BAD_REQUEST,
            &http::HeaderMap::new(),
            br#"{"error":"invalid_grant","error_description":"The code 'abc123' has expired"}"#,
        );
        assert_eq!(summary(&e), "400 invalid_grant");
    }

    #[test]
    fn debug_never_shows_the_api_key() {
        let c = UserManagement::builder("sk_test_very_secret", "client_1")
            .build()
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("sk_test_very_secret"), "{dbg}");
        assert!(dbg.contains("client_1"));
    }

    #[test]
    fn the_authorization_header_sent_is_marked_sensitive() {
        let c = UserManagement::builder("sk_test_very_secret", "client_1")
            .build()
            .unwrap();
        let url = c.url(&["user_management", "users"]);
        let request = c
            .request(&Method::GET, &url, None, Auth::Required)
            .build()
            .unwrap();
        let value = &request.headers()[http::header::AUTHORIZATION];
        assert_eq!(value.to_str().unwrap(), "Bearer sk_test_very_secret");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?} {request:?}").contains("very_secret"));
    }

    #[test]
    fn a_public_clients_call_carries_no_api_key() {
        let c = UserManagement::public("client_1").unwrap();
        let url = c.url(&["user_management", "authorize", "device"]);
        let request = c
            .request(&Method::POST, &url, None, Auth::Optional)
            .build()
            .unwrap();
        assert!(request.headers().get(http::header::AUTHORIZATION).is_none());
        // A device call never carries it, even from a client that has one.
        let c = UserManagement::builder("sk_test_very_secret", "client_1")
            .build()
            .unwrap();
        let request = c
            .request(&Method::POST, &url, None, Auth::Never)
            .build()
            .unwrap();
        assert!(request.headers().get(http::header::AUTHORIZATION).is_none());
    }

    #[test]
    fn build_refuses_an_api_key_a_header_cannot_carry_without_quoting_it() {
        let err = UserManagement::builder("sk_test_secret\n", "client")
            .build()
            .unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_API_KEY"));
        assert!(
            !format!("{err} {err:?}").contains("sk_test_secret"),
            "{err}"
        );
    }

    #[test]
    fn base_url_parts_follow_the_sdks() {
        assert_eq!(
            base_url_from_parts(None, None, true).unwrap(),
            "https://api.workos.com"
        );
        assert_eq!(
            base_url_from_parts(Some("localhost"), Some("8080"), false).unwrap(),
            "http://localhost:8080"
        );
        let err = base_url_from_parts(Some("localhost"), Some("eighty"), false).unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_API_PORT"));
        let err = base_url_from_parts(Some("https://x"), None, true).unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_API_HOSTNAME"));
    }

    #[test]
    fn build_refuses_empty_credentials_naming_the_variable() {
        let err = UserManagement::builder("", "client").build().unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_API_KEY"));
        let err = UserManagement::builder("sk", " ").build().unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_CLIENT_ID"));
    }

    #[test]
    fn urls_escape_path_segments() {
        let c = UserManagement::builder("sk", "client")
            .with_base_url("http://127.0.0.1:1/prefix/")
            .build()
            .unwrap();
        assert_eq!(
            c.url(&["user_management", "users", "a/b?c"]).as_str(),
            "http://127.0.0.1:1/prefix/user_management/users/a%2Fb%3Fc"
        );
    }

    #[test]
    fn query_leaves_out_nulls_and_joins_arrays() {
        #[derive(Serialize)]
        struct Q {
            a: Option<String>,
            b: Vec<&'static str>,
            limit: u32,
        }
        let q = to_query(&Q {
            a: None,
            b: vec!["x", "y"],
            limit: 5,
        });
        assert_eq!(
            q,
            vec![
                ("b".to_owned(), "x,y".to_owned()),
                ("limit".to_owned(), "5".to_owned())
            ]
        );
    }
}
