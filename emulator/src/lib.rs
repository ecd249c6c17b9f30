//! # authkit-emulator
//!
//! An offline WorkOS: the User Management API, AuthKit's hosted login page
//! and the JWKS, served on 127.0.0.1 for development and tests — in-process
//! from Rust, or as the `authkit-emulator` binary for any language's tests
//! (`cargo install --path emulator`, then `authkit-emulator --port 4100`).
//! It speaks WorkOS's wire format with its own types: any WorkOS client
//! (the Node SDK, `authkit-axum`, curl) works against it.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use authkit_emulator::{DEMO_PASSWORD, Emulator, Seed};
//!
//! let emulator = Emulator::builder().with_seed(Seed::demo()).start().await?;
//! // Any HTTP client speaks to it as to api.workos.com:
//! let auth: serde_json::Value = reqwest::Client::new()
//!     .post(format!("{}/user_management/authenticate", emulator.base_url()))
//!     .json(&serde_json::json!({
//!         "grant_type": "password",
//!         "client_id": emulator.client_id(),
//!         "client_secret": emulator.api_key(),
//!         "email": "demo@example.com",
//!         "password": DEMO_PASSWORD,
//!     }))
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! assert_eq!(auth["user"]["email"], "demo@example.com");
//! assert_eq!(emulator.users()[0].first_name.as_deref(), Some("Demo"));
//! emulator.stop().await;
//! # Ok(()) }
//! ```
//!
//! What it serves:
//!
//! - every endpoint of WorkOS's User Management API: users, organization memberships,
//!   invitations, magic auth, password resets, email verification, sessions,
//!   authentication factors, and `POST /user_management/authenticate` with
//!   the seven grants and their challenges (`email_verification_required`,
//!   `mfa_enrollment`, `mfa_challenge`, `organization_selection_required`),
//!   in the JSON shapes WorkOS answers with (checked against recorded WorkOS
//!   answers by `emulator/tests/shapes.rs`); plus the MFA API a TOTP
//!   sign-in needs: `POST /auth/factors/{id}/challenge` (what answering an
//!   `mfa_challenge` takes), `POST /auth/challenges/{id}/verify`
//!   (`{challenge, valid}`), `GET` and `DELETE /auth/factors/{id}`. API routes want `Authorization: Bearer <api key>`; the
//!   authenticate endpoint checks `client_id` and `client_secret` instead
//!   (the secret may be left out by a code exchange with a PKCE verifier and
//!   by a refresh, as public clients do);
//! - the Organizations API: `/organizations` create (a repeated
//!   `Idempotency-Key` answers the organization the first request made),
//!   get, get by external id, list (with the `domains` filter), update
//!   (a rename reaches the memberships' `organization_name`) and delete
//!   (with its memberships), in the API reference's shapes;
//! - `GET /sso/jwks/{client_id}`: an RSA-2048 public key, which signs RS256
//!   access tokens carrying `sub, sid, org_id, role, roles, permissions,
//!   entitlements, feature_flags, iat, exp, iss, jti`. The key is generated
//!   once per process unless
//!   [`with_fresh_signing_key`](EmulatorBuilder::with_fresh_signing_key);
//! - the hosted AuthKit flow: `GET /user_management/authorize` (client id and
//!   redirect URI checked against an allow-list, PKCE S256, `state`,
//!   `screen_hint=sign-up`, `login_hint`, `organization_id`, `prompt` (from
//!   OpenID Connect's values; `none` is `login_required`, as every sign-in
//!   here is interactive), `max_age`, `invitation_token` (a pending
//!   invitation opens sign-up with its email)) shows a plain
//!   HTML login page (or sign-up page, or an organization picker) that
//!   redirects back with a code: single use, valid 10 minutes, bound to the
//!   client, the redirect URI and the PKCE challenge. The pages check the
//!   password and settle the organization (unless
//!   [`with_hosted_organization_picker(false)`](EmulatorBuilder::with_hosted_organization_picker):
//!   then the code exchange asks); email verification and MFA are
//!   then answered as challenges by the code exchange, as by the API;
//! - CLI Auth (the OAuth 2.0 device authorization grant, RFC 8628):
//!   `POST /user_management/authorize/device` (`client_id` only, JSON or a
//!   form) answers a device code and a `XXXX-XXXX` user code; the device
//!   page at its `verification_uri` (`/emulator/device`, the code prefilled
//!   from `verification_uri_complete`) signs the user in through the hosted
//!   pages and asks to approve or deny; the authenticate endpoint's
//!   `urn:ietf:params:oauth:grant-type:device_code` grant (no client secret)
//!   answers `authorization_pending`, `slow_down` (a poll within the
//!   [interval](EmulatorBuilder::with_device_code_interval) of the previous
//!   one; the interval then grows by 5 s), `access_denied`, `expired_token`,
//!   or, once, the tokens;
//! - `GET /user_management/sessions/logout?session_id&return_to` ends a
//!   session (its refresh tokens stop working) and redirects to `return_to`,
//!   which must be an allowed redirect URI.
//!
//! Sign-ins pass WorkOS's gates in order: email verification (seed users
//! with `require_email_verification`), MFA (users with a TOTP factor, or
//! `require_mfa` ones without), organization selection (users in several
//! organizations, when none was asked for). Refresh tokens rotate: each
//! works once, a replay within 30 seconds answers the same new pair, and a
//! later one is `invalid_grant`. Spent refresh tokens are forgotten once
//! their replay window is over, so memory stays bounded in a long run.
//!
//! Every change (users, memberships, sessions, sign-ins) is an event: listed by
//! `GET /events` (`events`, `organization_id`, `range_start`, `range_end`,
//! `limit`, `after`; oldest first) and, after start, posted as a signed
//! webhook to each [`with_webhook`](EmulatorBuilder::with_webhook) endpoint.
//! Organization events are not emitted (organizations come from the seed).
//!
//! For tests, the handle offers a movable [clock](Emulator::clock) that every
//! expiry reads, [fault injection](Emulator::faults), request
//! [counters](Emulator::request_count) and the [emails](Emulator::sent_emails)
//! the emulator would have sent.
//!
//! Not emulated: SSO and OAuth providers (any `provider` gets the email and
//! password page), impersonation (`act`, `impersonator`), passkeys,
//! roles CRUD (they come from the [`Seed`]; organizations have their API too), importing
//! password hashes, `oauth_tokens`, Radar, and QR code images for TOTP
//! enrollment (`qr_code` is `null`; the `otpauth://` URI is there).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod clock;
mod device;
mod events;
mod faults;
mod grants;
mod handlers;
mod hosted;
mod ids;
mod keys;
mod organizations;
mod pages;
mod paths;
mod profile;
mod reply;
mod secret;
mod seed;
mod server;
mod store;
mod totp;
mod webhooks;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub use clock::EmulatorClock;
pub use faults::{Fault, Faults};
pub use secrecy::{ExposeSecret, SecretString};
pub use seed::{
    DEMO_PASSWORD, Seed, SeedError, SeedMembership, SeedOrganization, SeedRole, SeedUser,
};
pub use seed::{SeedGroup, SeedIdentity};
pub use totp::totp_code;
pub use webhooks::WebhookDelivery;

use faults::Counters;
use keys::SigningKey;
use serde::{Deserialize, Serialize};
use store::State;

/// The API key the emulator accepts unless told otherwise.
pub const DEFAULT_API_KEY: &str = "sk_test_emulator";
/// The client id the emulator answers to unless told otherwise.
pub const DEFAULT_CLIENT_ID: &str = "client_emulator";
/// The issuer named by TOTP factors.
pub(crate) const DEFAULT_TOTP_ISSUER: &str = "WorkOS Emulator";

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound.
    #[error("could not listen on {host}:{port}: {source}")]
    Bind {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The seed is inconsistent.
    #[error(transparent)]
    Seed(#[from] SeedError),
    /// A setting is unusable (an unparsable redirect URI, an empty API key, …).
    #[error("invalid emulator setting: {0}")]
    Config(String),
    /// The signing key could not be generated.
    #[error("could not create the signing key: {0}")]
    Keys(String),
}

/// What kind of email the emulator "sent".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailKind {
    /// A magic-auth code.
    MagicAuth,
    /// An email verification code.
    EmailVerification,
    /// A password reset link.
    PasswordReset,
    /// An invitation.
    Invitation,
    /// A code confirming a change of email address (sent to the new one).
    EmailChange,
}

/// An email the emulator would have sent (it sends none).
#[derive(Debug, Clone)]
pub struct SentEmail {
    /// The recipient.
    pub to: String,
    /// What it is.
    pub kind: EmailKind,
    /// The code or token it carries (read it with
    /// [`expose_secret`](ExposeSecret::expose_secret)).
    pub secret: SecretString,
    /// The link it carries (password reset, invitation).
    pub link: Option<String>,
    /// When it was sent (emulator time).
    pub sent_at: SystemTime,
    /// The language it was written in, when the API call named one
    /// (an invitation's `locale`).
    pub locale: Option<String>,
}

/// A user as the emulator's API writes it (the fields of WorkOS's `user`
/// object that tests look at; the API itself answers every field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// The id (`user_…`).
    pub id: String,
    /// The email address.
    pub email: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Whether the email address is verified.
    pub email_verified: bool,
    /// Your own identifier for the user.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Key-value metadata.
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
    /// When the user was created (RFC 3339).
    pub created_at: String,
    /// When the user was last updated (RFC 3339).
    pub updated_at: String,
}

/// An organization of the emulator: its id, name, external id and domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Organization {
    /// The id (`org_…`).
    pub id: String,
    /// The name.
    pub name: String,
    /// Your own identifier for it.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Its domain names.
    #[serde(default)]
    pub domains: Vec<String>,
}

/// The emulator's settings, fixed at start.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) api_key: SecretString,
    pub(crate) client_id: String,
    pub(crate) base_url: String,
    pub(crate) access_token_ttl: Duration,
    pub(crate) session_ttl: Duration,
    /// CLI Auth: the least time between polls, and how long a device code lives.
    pub(crate) device_interval: Duration,
    pub(crate) device_code_ttl: Duration,
    redirect_uris: Vec<Url>,
    loopback_redirects: bool,
    /// Whether the hosted pages ask a user of several organizations to pick
    /// one (else the code exchange answers `organization_selection_required`).
    pub(crate) hosted_organization_picker: bool,
}

impl Config {
    /// Whether the hosted flow may redirect to `uri`: an allow-listed URI, or
    /// (unless disabled) any `http://localhost`, `127.0.0.1` or `[::1]` one.
    pub(crate) fn redirect_allowed(&self, uri: &str) -> bool {
        let Ok(url) = Url::parse(uri) else {
            return false;
        };
        if url.fragment().is_some() {
            return false;
        }
        if self.redirect_uris.contains(&url) {
            return true;
        }
        self.loopback_redirects
            && url.scheme() == "http"
            && matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
    }
}

/// State shared by the server's handlers and the handle.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) keys: Arc<SigningKey>,
    pub(crate) clock: EmulatorClock,
    store: Mutex<State>,
    pub(crate) faults: Faults,
    pub(crate) counters: Counters,
    /// The webhook deliveries' record (`None` without endpoints).
    webhooks: Option<Arc<webhooks::Hub>>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

/// Configures and starts an [`Emulator`].
#[derive(Debug)]
#[must_use]
pub struct EmulatorBuilder {
    seed: Seed,
    host: String,
    port: u16,
    api_key: String,
    client_id: String,
    access_token_ttl: Duration,
    session_ttl: Duration,
    device_interval: Duration,
    device_code_ttl: Duration,
    redirect_uris: Vec<String>,
    loopback_redirects: bool,
    clock: EmulatorClock,
    fresh_key: bool,
    webhooks: Vec<(String, SecretString)>,
    webhook_retry: webhooks::RetryPolicy,
    hosted_organization_picker: bool,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            seed: Seed::default(),
            host: "127.0.0.1".to_owned(),
            port: 0,
            api_key: DEFAULT_API_KEY.to_owned(),
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            access_token_ttl: Duration::from_secs(300),
            session_ttl: Duration::from_secs(30 * 24 * 3600),
            device_interval: Duration::from_secs(5),
            device_code_ttl: Duration::from_secs(300),
            redirect_uris: Vec::new(),
            loopback_redirects: true,
            clock: EmulatorClock::new(),
            fresh_key: false,
            webhooks: Vec::new(),
            webhook_retry: webhooks::RetryPolicy {
                attempts: 5,
                first_delay: Duration::from_millis(100),
            },
            hosted_organization_picker: true,
        }
    }
}

impl EmulatorBuilder {
    /// The initial users, organizations and memberships (default: none).
    pub fn with_seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }

    /// The host (or IP address) to listen on (default `127.0.0.1`: this
    /// machine only). `0.0.0.0` serves the network, e.g. from a container.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// The port (default 0: any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The API key (and client secret) accepted (default [`DEFAULT_API_KEY`]).
    pub fn with_api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = api_key.into();
        self
    }

    /// The client id (default [`DEFAULT_CLIENT_ID`]).
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// How long access tokens live (default 5 minutes, as WorkOS's).
    pub fn with_access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }

    /// How long sessions (and so their refresh tokens) live (default 30 days).
    pub fn with_session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl;
        self
    }

    /// CLI Auth: the `interval` device authorizations answer, the least time
    /// between two polls of the token endpoint (default 5 s, RFC 8628's
    /// default; whole seconds, at least one). A poll sooner than that after
    /// the previous one is `slow_down`, and adds 5 s to the interval.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = authkit_emulator::Emulator::builder()
    ///     .with_device_code_interval(Duration::from_secs(1));
    /// # let _ = builder;
    /// ```
    pub fn with_device_code_interval(mut self, interval: Duration) -> Self {
        self.device_interval = interval;
        self
    }

    /// CLI Auth: how long a device code (and its user code) lives, its
    /// `expires_in` (default 5 minutes; whole seconds, at least one).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = authkit_emulator::Emulator::builder()
    ///     .with_device_code_ttl(Duration::from_secs(600));
    /// # let _ = builder;
    /// ```
    pub fn with_device_code_ttl(mut self, ttl: Duration) -> Self {
        self.device_code_ttl = ttl;
        self
    }

    /// Redirect URIs the hosted flow (and logout's `return_to`) may send
    /// browsers to, compared exactly, in addition to the loopback ones.
    pub fn with_redirect_uris<I, S>(mut self, uris: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redirect_uris.extend(uris.into_iter().map(Into::into));
        self
    }

    /// Whether any `http://localhost:*`, `http://127.0.0.1:*` and
    /// `http://[::1]:*` URI is an allowed redirect (default `true`).
    pub fn with_loopback_redirects(mut self, allowed: bool) -> Self {
        self.loopback_redirects = allowed;
        self
    }

    /// A clock to share (e.g. with another emulator); default a fresh one.
    pub fn with_clock(mut self, clock: EmulatorClock) -> Self {
        self.clock = clock;
        self
    }

    /// Generate a signing key for this emulator alone. By default the RSA
    /// key is generated once per process and shared by every emulator in it
    /// (each still publishes it at its own JWKS URL), which keeps test suites
    /// that start many emulators fast.
    pub fn with_fresh_signing_key(mut self) -> Self {
        self.fresh_key = true;
        self
    }

    /// Sends webhooks to `url`, signed with `secret` as WorkOS signs them
    /// (`WorkOS-Signature: t=<unix ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`),
    /// for every event after start: `user.created/updated/deleted`,
    /// `organization_membership.created/updated/deleted`,
    /// `session.created/revoked`, `authentication.<method>_succeeded`. Call
    /// it once per endpoint; each gets every event, in order, from a task
    /// of its own, and a failed delivery (no 2xx) is tried again (see
    /// [`with_webhook_retries`](Self::with_webhook_retries)). The seed's
    /// users and memberships are in the Events API, not delivered.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let emulator = authkit_emulator::Emulator::builder()
    ///     .with_webhook("http://127.0.0.1:9/webhooks/workos", "whsec_local")
    ///     .start()
    ///     .await?;
    /// assert!(emulator.webhook_deliveries().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn with_webhook(mut self, url: impl Into<String>, secret: impl Into<String>) -> Self {
        self.webhooks
            .push((url.into(), SecretString::from(secret.into())));
        self
    }

    /// How many times a webhook delivery is tried (default 5) and the wait
    /// after the first failure (default 100 ms), doubling after each, at
    /// most 5 s. WorkOS itself retries for days; the emulator gives up
    /// sooner, so a test settles.
    ///
    /// ```
    /// let builder = authkit_emulator::Emulator::builder()
    ///     .with_webhook_retries(2, std::time::Duration::from_millis(10));
    /// # let _ = builder;
    /// ```
    pub fn with_webhook_retries(mut self, attempts: u32, first_delay: Duration) -> Self {
        self.webhook_retry = webhooks::RetryPolicy {
            attempts: attempts.max(1),
            first_delay,
        };
        self
    }

    /// Whether the hosted sign-in asks a user who belongs to several
    /// organizations to pick one (default `true`, as AuthKit's hosted UI
    /// does). With `false` it finishes without an organization, and the
    /// code exchange answers `organization_selection_required` (with the
    /// organizations and a pending token), as WorkOS does for a sign-in that
    /// leaves the choice to the application — which then calls
    /// `authenticate_with_organization_selection`.
    pub fn with_hosted_organization_picker(mut self, enabled: bool) -> Self {
        self.hosted_organization_picker = enabled;
        self
    }

    /// Binds the host and port (default `127.0.0.1`, any port), loads the seed, generates the signing key (see
    /// [`with_fresh_signing_key`](Self::with_fresh_signing_key)) and serves
    /// on a task of the current tokio runtime.
    pub async fn start(self) -> Result<Emulator, StartError> {
        if self.api_key.is_empty() || self.client_id.trim().is_empty() {
            return Err(StartError::Config(
                "the API key and client id must not be empty".into(),
            ));
        }
        if self.device_interval.as_secs() == 0 || self.device_code_ttl.as_secs() == 0 {
            return Err(StartError::Config(
                "the device code interval and lifetime must be at least one second".into(),
            ));
        }
        let redirect_uris = self
            .redirect_uris
            .iter()
            .map(|u| {
                Url::parse(u).map_err(|e| StartError::Config(format!("redirect URI {u:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut endpoints = Vec::new();
        for (url, secret) in self.webhooks {
            match Url::parse(&url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => {
                    return Err(StartError::Config(format!(
                        "webhook URL {url:?} is not an http(s) URL"
                    )));
                }
            }
            if secret.expose_secret().is_empty() {
                return Err(StartError::Config(format!(
                    "the webhook secret for {url:?} is empty"
                )));
            }
            endpoints.push(webhooks::Endpoint { url, secret });
        }
        let mut state = State::from_seed(&self.seed, self.clock.now())?;
        profile::load_seed(&mut state, &self.seed, self.clock.now())?;
        let hub = if endpoints.is_empty() {
            None
        } else {
            let (outbox, hub) = webhooks::start(endpoints, self.webhook_retry);
            state.webhooks = Some(outbox);
            Some(hub)
        };
        let keys = if self.fresh_key {
            Arc::new(SigningKey::generate().map_err(StartError::Keys)?)
        } else {
            process_key()?
        };
        let bind_error = |source| StartError::Bind {
            host: self.host.clone(),
            port: self.port,
            source,
        };
        let listener = tokio::net::TcpListener::bind((self.host.as_str(), self.port))
            .await
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let base_url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            config: Config {
                api_key: SecretString::from(self.api_key),
                client_id: self.client_id,
                base_url: base_url.clone(),
                access_token_ttl: self.access_token_ttl,
                session_ttl: self.session_ttl,
                device_interval: Duration::from_secs(self.device_interval.as_secs()),
                device_code_ttl: Duration::from_secs(self.device_code_ttl.as_secs()),
                redirect_uris,
                loopback_redirects: self.loopback_redirects,
                hosted_organization_picker: self.hosted_organization_picker,
            },
            keys,
            clock: self.clock,
            store: Mutex::new(state),
            faults: Faults::new(),
            counters: Counters::default(),
            webhooks: hub,
        });
        let app = server::router(shared.clone());
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = signal.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "the WorkOS emulator stopped with an error");
            }
        });
        tracing::debug!(%base_url, "WorkOS emulator listening");
        Ok(Emulator {
            inner: Arc::new(Running {
                shared,
                base_url,
                shutdown: Mutex::new(Some(shutdown)),
                task: Mutex::new(Some(task)),
                extensions: Mutex::new(HashMap::new()),
            }),
        })
    }
}

/// The signing key shared by the emulators of this process.
fn process_key() -> Result<Arc<SigningKey>, StartError> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    if let Some(key) = KEY.get() {
        return Ok(key.clone());
    }
    let key = Arc::new(SigningKey::generate().map_err(StartError::Keys)?);
    Ok(KEY.get_or_init(|| key).clone())
}

struct Running {
    shared: Arc<Shared>,
    base_url: String,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    extensions: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(task) = self
            .task
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            task.abort();
        }
    }
}

/// A running emulator. Cheap to clone; the server stops with
/// [`stop`](Self::stop), or when the last clone is dropped.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Running>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.inner.base_url)
            .field("client_id", &self.client_id())
            .field("clock", &self.inner.shared.clock)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts configuring an emulator.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:49152` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The API key it accepts (also the client secret).
    pub fn api_key(&self) -> &str {
        self.inner.shared.config.api_key.expose_secret()
    }

    /// The client id it answers to.
    pub fn client_id(&self) -> &str {
        &self.inner.shared.config.client_id
    }

    /// The value of type `T` kept with this emulator (shared by every clone
    /// of the handle), made by `init` on first use. This is how a client
    /// library keeps one client (one connection pool) per emulator: e.g.
    /// `authkit_emulator::EmulatorExt::client`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_emulator::Emulator;
    ///
    /// #[derive(Clone)]
    /// struct Http(reqwest::Client);
    ///
    /// let emulator = Emulator::builder().start().await?;
    /// let first = emulator.extension(|| Http(reqwest::Client::new()));
    /// let again = emulator.clone().extension(|| -> Http { unreachable!() });
    /// # let _ = (first, again);
    /// # Ok(()) }
    /// ```
    pub fn extension<T>(&self, init: impl FnOnce() -> T) -> T
    where
        T: Clone + Send + Sync + 'static,
    {
        let mut extensions = self
            .inner
            .extensions
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        extensions
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(init()))
            .downcast_ref::<T>()
            .expect("extensions are keyed by their type")
            .clone()
    }

    /// The `iss` of the access tokens it issues:
    /// `<base URL>/user_management/<client id>`, as WorkOS's are
    /// `https://api.workos.com/user_management/<client id>`.
    pub fn issuer(&self) -> String {
        format!("{}/user_management/{}", self.base_url(), self.client_id())
    }

    /// For tests: an RS256 JWT of exactly `claims`, signed with the key the
    /// emulator publishes in its JWKS, as if it had issued it. This is how a
    /// test makes a token a real sign-in cannot give: another issuer, no
    /// `iss`, a custom claim, an `act`, a `nbf` in the future.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_emulator::Emulator;
    ///
    /// let emulator = Emulator::builder().start().await?;
    /// let token = emulator.sign_access_token(&serde_json::json!({
    ///     "iss": "https://someone-else.example", "sub": "user_1", "sid": "session_1",
    ///     "iat": 0, "exp": 4_000_000_000u64,
    /// }));
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok(()) }
    /// ```
    pub fn sign_access_token(&self, claims: &serde_json::Value) -> String {
        self.inner.shared.keys.sign(claims)
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &EmulatorClock {
        &self.inner.shared.clock
    }

    /// Fault injection.
    pub fn faults(&self) -> &Faults {
        &self.inner.shared.faults
    }

    /// How many requests arrived for exactly `path` (e.g.
    /// `/user_management/authenticate`), faulted ones included.
    pub fn request_count(&self, path: &str) -> u64 {
        self.inner.shared.counters.path(path)
    }

    /// How many authenticate requests arrived with this `grant_type`
    /// (`refresh_token`, `password`, …), faulted ones included.
    pub fn grant_count(&self, grant_type: &str) -> u64 {
        self.inner.shared.counters.grant(grant_type)
    }

    /// How many requests for exactly `path` carried an `Authorization`
    /// header (a public client's sends none).
    pub fn authorized_request_count(&self, path: &str) -> u64 {
        self.inner.shared.counters.authorized(path)
    }

    /// Zeroes the request counters.
    pub fn reset_counters(&self) {
        self.inner.shared.counters.reset();
    }

    /// The current TOTP code for a base32 secret, at the emulator's time.
    pub fn totp_code(&self, secret: &str) -> Option<String> {
        totp_code(secret, self.clock().now())
    }

    /// Every user, oldest first, as the API would answer them.
    pub fn users(&self) -> Vec<User> {
        let now = self.clock().now();
        self.inner
            .shared
            .lock()
            .users
            .iter()
            .filter_map(|u| serde_json::from_value(store::Entity::json(u, now)).ok())
            .collect()
    }

    /// The user with this email address.
    pub fn user_by_email(&self, email: &str) -> Option<User> {
        let now = self.clock().now();
        let st = self.inner.shared.lock();
        let user = st.user_by_email(email)?;
        serde_json::from_value(store::Entity::json(user, now)).ok()
    }

    /// Every organization, oldest first (the seeded ones in seed order).
    pub fn organizations(&self) -> Vec<Organization> {
        self.inner
            .shared
            .lock()
            .organizations
            .iter()
            .map(|o| Organization {
                id: o.id.clone(),
                name: o.name.clone(),
                external_id: o.external_id.clone(),
                domains: o.domains.iter().map(|d| d.domain.clone()).collect(),
            })
            .collect()
    }

    /// How many refresh tokens the emulator holds: the live ones, plus the
    /// spent ones still inside their 30-second replay window. For tests that
    /// pin the emulator's memory; spent tokens are dropped as new ones are
    /// issued once their window is over.
    pub fn stored_refresh_tokens(&self) -> usize {
        self.inner.shared.lock().refresh_tokens.len()
    }

    /// The emails the emulator would have sent, oldest first.
    pub fn sent_emails(&self) -> Vec<SentEmail> {
        self.inner.shared.lock().outbox.clone()
    }

    /// The last email sent to `to`, if any.
    pub fn last_email_to(&self, to: &str) -> Option<SentEmail> {
        self.inner
            .shared
            .lock()
            .outbox
            .iter()
            .rev()
            .find(|e| e.to.eq_ignore_ascii_case(to))
            .cloned()
    }

    /// Every event in the log (what `GET /events` lists), oldest first, as
    /// the Events API writes them: `{"object": "event", "id", "event",
    /// "data", "created_at"}`. The log keeps the latest 10,000.
    pub fn events(&self) -> Vec<serde_json::Value> {
        let now = self.clock().now();
        self.inner
            .shared
            .lock()
            .events
            .iter()
            .map(|e| store::Entity::json(e, now))
            .collect()
    }

    /// The webhook deliveries finished so far (delivered or given up), in
    /// the order they finished.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.inner
            .shared
            .webhooks
            .as_ref()
            .map(|hub| hub.deliveries())
            .unwrap_or_default()
    }

    /// Waits until every webhook for the events so far has been delivered
    /// or given up on (at once without endpoints). For tests: make a
    /// change, await this, then look at what the app did.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let emulator = authkit_emulator::Emulator::builder().start().await?;
    /// emulator.webhooks_settled().await;
    /// # Ok(()) }
    /// ```
    pub async fn webhooks_settled(&self) {
        if let Some(hub) = &self.inner.shared.webhooks {
            hub.settled().await;
        }
    }

    /// Stops the server (for every clone of the handle): no new connections,
    /// requests in flight get up to a second to finish.
    pub async fn stop(self) {
        let shutdown = self
            .inner
            .shutdown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(shutdown) = shutdown {
            let _ = shutdown.send(());
        }
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(mut task) = task
            && tokio::time::timeout(Duration::from_secs(1), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}
