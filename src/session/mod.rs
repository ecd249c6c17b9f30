//! Sealed sessions: what a request's `wos-session` cookie says about who is
//! signed in.
//!
//! This mirrors the WorkOS SDKs' `loadSealedSession` / `CookieSession`: the
//! cookie is iron-sealed [`SessionData`] (byte-compatible with
//! `@workos-inc/node` and `authkit-nextjs`), its access token is verified
//! against the JWKS (RS256 only, `kid` required), and an expired token can be
//! exchanged for a new one with [`SessionManager::refresh`].
//!
//! ```no_run
//! # async fn run(cookie: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
//! use authkit_axum::client::UserManagement;
//! use authkit_axum::seal::Passwords;
//! use authkit_axum::session::{Authentication, SessionManager};
//!
//! let sessions = SessionManager::new(
//!     UserManagement::from_env()?,
//!     Passwords::single(std::env::var("WORKOS_COOKIE_PASSWORD")?)?,
//! );
//! match sessions.authenticate(cookie).await? {
//!     Authentication::Authenticated(s) => println!("hello {}", s.user.email),
//!     Authentication::Unauthenticated(u) if u.reason.is_refreshable() => {
//!         let refreshed = sessions.refresh(cookie, Default::default()).await?;
//!         println!("new cookie: {} bytes", refreshed.sealed.len());
//!     }
//!     Authentication::Unauthenticated(u) => println!("signed out: {}", u.reason),
//!     _ => {}
//! }
//! # Ok(()) }
//! ```

mod bounded;
mod claims;
mod clock;
mod cookie_cache;
mod digest;
mod fetch_cache;
mod front;
mod jwks;
mod jws;
mod org_cache;
mod single_flight;
mod token_cache;
mod user_cache;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use claims::{AccessTokenClaims, Actor};
pub use cookie_cache::DEFAULT_CAPACITY as DEFAULT_SESSION_CACHE_CAPACITY;
pub(crate) use cookie_cache::Key as CookieKey;
use jwks::Lookup;
pub use jwks::{JwksCache, JwksError};
pub use token_cache::DEFAULT_CAPACITY as DEFAULT_TOKEN_CACHE_CAPACITY;
pub use user_cache::{
    DEFAULT_CAPACITY as DEFAULT_USER_CACHE_CAPACITY, DEFAULT_TTL as DEFAULT_USER_CACHE_TTL,
};

use cookie_cache::CookieCache;
use org_cache::OrganizationCache;
pub use org_cache::{
    DEFAULT_CAPACITY as DEFAULT_ORGANIZATION_CACHE_CAPACITY,
    DEFAULT_TTL as DEFAULT_ORGANIZATION_CACHE_TTL,
};
pub(crate) use single_flight::{Outcome as SingleFlightOutcome, SingleFlight};
use token_cache::TokenCache;
use user_cache::UserCache;

use crate::Secret;
use crate::client::{
    AuthenticateWithRefreshToken, AuthenticationMethod, AuthenticationResponse,
    Error as ClientError, Impersonator, Organization, User, UserManagement,
};
use crate::seal::{self, Passwords, SealError};

/// What the session cookie holds, in the camelCase shape the Node SDKs write.
///
/// Its `Serialize` is the cookie's plaintext and so, unlike every other type
/// of this crate, writes the access and refresh tokens themselves: it is what
/// [`SessionManager::seal`] and [`seal::seal`] seal, byte-compatible with
/// `@workos-inc/node`. Seal it; never answer it to a browser as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionData {
    /// The access token (a JWT).
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub access_token: Secret,
    /// The refresh token (single use).
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub refresh_token: Secret,
    /// The signed-in user. Written in the camelCase shape `@workos-inc/node`
    /// keeps in the cookie (`emailVerified`, `firstName`, …); read in either case.
    #[serde(serialize_with = "cookie_user::serialize")]
    pub user: User,
    /// Who is impersonating the user, if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonator: Option<Impersonator>,
    /// How the user signed in (authkit-nextjs writes it; @workos-inc/node may not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_method: Option<AuthenticationMethod>,
    /// The organization of the session, when written by a client that records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

impl SessionData {
    /// The session id its access token names, read without verifying the
    /// token (the seal vouches for it; it may have expired).
    pub(crate) fn session_id(&self) -> Option<String> {
        unverified_claims(self.access_token.expose()).map(|c| c.sid)
    }
}

impl From<&AuthenticationResponse> for SessionData {
    fn from(auth: &AuthenticationResponse) -> Self {
        SessionData {
            access_token: auth.access_token.clone(),
            refresh_token: auth.refresh_token.clone(),
            user: auth.user.clone(),
            impersonator: auth.impersonator.clone(),
            authentication_method: auth.authentication_method.clone(),
            organization_id: auth.organization_id.clone(),
        }
    }
}

impl AuthenticationResponse {
    /// Seals this sign-in into a session cookie value, as the SDKs'
    /// `session: { sealSession: true, cookiePassword }` option does.
    pub fn seal_session(&self, passwords: &Passwords) -> Result<String, SealError> {
        seal::seal(
            &SessionData::from(self),
            passwords,
            seal::SealOptions::default(),
        )
    }
}

/// Why a request is not signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnauthenticatedReason {
    /// No cookie at all.
    NoSessionCookieProvided,
    /// The cookie could not be unsealed (tampered, other password, expired
    /// seal, foreign format) or does not hold a session.
    InvalidSessionCookie,
    /// The access token is not a valid WorkOS token for this session.
    InvalidJwt,
    /// The access token expired: refresh it.
    Expired,
    /// Neither a session cookie nor a Bearer token (when session cookies
    /// are turned off, so only a token would do).
    NoBearerTokenProvided,
    /// The `Authorization: Bearer` header is malformed: no token, spaces in
    /// it, or characters a token cannot have (RFC 6750 `invalid_request`).
    InvalidAuthorizationHeader,
    /// The Bearer token is not a valid WorkOS access token for this app:
    /// tampered, signed by a key WorkOS does not publish, not yet valid, or
    /// from another issuer (RFC 6750 `invalid_token`).
    InvalidBearerToken,
    /// The Bearer token expired. There is nothing to refresh: the client
    /// must get a new token (RFC 6750 `invalid_token`).
    BearerTokenExpired,
    /// The Bearer token is valid but WorkOS no longer knows its user.
    UserNotFound,
}

impl UnauthenticatedReason {
    /// The SDKs' name for the reason (`no_session_cookie_provided`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            UnauthenticatedReason::NoSessionCookieProvided => "no_session_cookie_provided",
            UnauthenticatedReason::InvalidSessionCookie => "invalid_session_cookie",
            UnauthenticatedReason::InvalidJwt => "invalid_jwt",
            UnauthenticatedReason::Expired => "expired",
            UnauthenticatedReason::NoBearerTokenProvided => "no_bearer_token_provided",
            UnauthenticatedReason::InvalidAuthorizationHeader => "invalid_authorization_header",
            UnauthenticatedReason::InvalidBearerToken => "invalid_bearer_token",
            UnauthenticatedReason::BearerTokenExpired => "bearer_token_expired",
            UnauthenticatedReason::UserNotFound => "user_not_found",
        }
    }

    /// Whether [`SessionManager::refresh`] can turn this into a session.
    pub fn is_refreshable(&self) -> bool {
        matches!(self, UnauthenticatedReason::Expired)
    }
}

impl std::fmt::Display for UnauthenticatedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request that is not signed in, and why.
#[derive(Debug, Clone)]
pub struct Unauthenticated {
    /// Why.
    pub reason: UnauthenticatedReason,
    /// The unsealed cookie, when the reason is [`UnauthenticatedReason::Expired`].
    pub session: Option<Box<SessionData>>,
    /// The expired token's verified claims, when the reason is `Expired` and
    /// its key is published (`None` for a token whose key WorkOS no longer
    /// publishes, which is refreshed all the same).
    pub claims: Option<Arc<AccessTokenClaims>>,
}

/// A verified session.
#[derive(Debug, Clone)]
pub struct AuthenticatedSession {
    /// The signed-in user.
    pub user: User,
    /// Who is impersonating the user, if anyone.
    pub impersonator: Option<Impersonator>,
    /// How the user signed in, when the cookie records it.
    pub authentication_method: Option<AuthenticationMethod>,
    /// The verified access token.
    pub access_token: Secret,
    /// Its verified claims.
    pub claims: Arc<AccessTokenClaims>,
    /// Kept for refreshing; never shown to handlers.
    pub(crate) refresh_token: Secret,
    pub(crate) organization_id: Option<String>,
}

impl AuthenticatedSession {
    /// The cookie contents this session came from.
    pub(crate) fn to_data(&self) -> SessionData {
        SessionData {
            access_token: self.access_token.clone(),
            refresh_token: self.refresh_token.clone(),
            user: self.user.clone(),
            impersonator: self.impersonator.clone(),
            authentication_method: self.authentication_method.clone(),
            organization_id: self.organization_id.clone(),
        }
    }

    /// The session id (`sid`).
    pub fn session_id(&self) -> &str {
        &self.claims.sid
    }

    /// The organization the session is scoped to.
    pub fn organization_id(&self) -> Option<&str> {
        self.claims.org_id.as_deref()
    }

    /// The user's role in that organization.
    pub fn role(&self) -> Option<&str> {
        self.claims.role.as_deref()
    }

    /// All the user's roles in that organization.
    pub fn roles(&self) -> &[String] {
        &self.claims.roles
    }

    /// The permissions the roles grant.
    pub fn permissions(&self) -> &[String] {
        &self.claims.permissions
    }

    /// The organization's entitlements.
    pub fn entitlements(&self) -> &[String] {
        &self.claims.entitlements
    }

    /// Enabled feature flags.
    pub fn feature_flags(&self) -> &[String] {
        &self.claims.feature_flags
    }

    /// Whether the roles grant `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.claims.has_permission(permission)
    }

    /// When the access token expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.claims.exp.max(0) as u64)
    }
}

/// The answer of [`SessionManager::authenticate`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Authentication {
    /// Signed in.
    Authenticated(Arc<AuthenticatedSession>),
    /// Not signed in, and why.
    Unauthenticated(Unauthenticated),
}

impl Authentication {
    fn unauthenticated(reason: UnauthenticatedReason) -> Self {
        Authentication::Unauthenticated(Unauthenticated {
            reason,
            session: None,
            claims: None,
        })
    }
}

/// A session could not be checked because WorkOS's keys are unavailable.
/// This is not "signed out": the caller should answer 503, not log the user out.
#[derive(Debug, thiserror::Error)]
#[error("the session could not be verified: {0}")]
pub struct SessionUnavailable(#[from] pub JwksError);

impl SessionUnavailable {
    /// How long WorkOS asked to wait (`Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after()
    }
}

/// Why [`SessionManager::bearer_session`] has no user for a valid token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserLookupError {
    /// WorkOS answered 404: the user was deleted since the token was issued.
    #[error("the access token's user no longer exists")]
    NotFound,
    /// WorkOS could not be asked (an outage, a rate limit, a
    /// misconfiguration): answer 503, try again later.
    #[error("the access token's user could not be fetched: {0}")]
    Unavailable(#[source] Arc<ClientError>),
}

impl UserLookupError {
    /// How long WorkOS asked to wait (`Retry-After` on its 429 or 503), if
    /// it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            UserLookupError::Unavailable(e) => e.retry_after(),
            UserLookupError::NotFound => None,
        }
    }
}

/// Why [`SessionManager::organization`] has no organization for an id.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OrganizationLookupError {
    /// WorkOS answered 404: the organization was deleted since the token
    /// was issued (or the id is not one of this environment's).
    #[error("the organization no longer exists")]
    NotFound,
    /// WorkOS could not be asked (an outage, a rate limit, a
    /// misconfiguration): answer 503, try again later.
    #[error("the organization could not be fetched: {0}")]
    Unavailable(#[source] Arc<ClientError>),
}

impl OrganizationLookupError {
    /// How long WorkOS asked to wait (`Retry-After` on its 429 or 503), if
    /// it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            OrganizationLookupError::Unavailable(e) => e.retry_after(),
            OrganizationLookupError::NotFound => None,
        }
    }
}

/// Options of [`SessionManager::refresh`].
#[derive(Debug, Clone, Default)]
pub struct RefreshOptions {
    /// Switch the session to this organization (default: keep the current one).
    pub organization_id: Option<String>,
    /// The client's IP address, for WorkOS's records.
    pub ip_address: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

/// A refreshed session.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The new cookie value.
    pub sealed: String,
    /// What it holds.
    pub data: SessionData,
    /// The verified new session.
    pub session: AuthenticatedSession,
}

/// Why a refresh failed. [`RefreshError::is_terminal`] tells whether the
/// session is over (clear the cookie) or WorkOS is briefly unavailable (keep it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// No cookie at all.
    #[error("no session cookie provided")]
    NoSessionCookieProvided,
    /// The cookie could not be unsealed.
    #[error("invalid session cookie")]
    InvalidSessionCookie,
    /// WorkOS refused the refresh token for good (`invalid_grant`) or wants
    /// the user (`sso_required`, `mfa_enrollment`, `mfa_challenge`,
    /// `organization_selection_required`, `email_verification_required`): the
    /// session is over or needs the user.
    #[error("WorkOS refused the refresh: {0}")]
    Rejected(#[source] ClientError),
    /// WorkOS could not be reached or is overloaded (429, 408, 5xx, network),
    /// or a repeated refresh was refused after the first attempt's answer was
    /// lost ([`ClientError::AnswerLost`]).
    #[error("WorkOS is unavailable: {0}")]
    Unavailable(#[source] ClientError),
    /// WorkOS answered in a way that says nothing about the session (401,
    /// 403, 404, 409, a 200 that is not a token pair, …): a misconfiguration
    /// or an incident, not a reason to sign anyone out. The cookie is kept.
    #[error("WorkOS answered the refresh unexpectedly: {0}")]
    Unexpected(#[source] ClientError),
    /// The new access token did not verify.
    #[error("the refreshed access token is invalid")]
    InvalidJwt,
    /// The new access token could not be verified because the keys are
    /// unavailable. The pair came from WorkOS and the old refresh token is
    /// spent, so the pair is kept: [`RefreshError::new_session_cookie`] is the
    /// cookie to write, and the request is answered as an outage.
    #[error("the refreshed session could not be verified: {source}")]
    KeysUnavailable {
        /// Why the keys are unavailable.
        #[source]
        source: JwksError,
        /// The new cookie value, sealed.
        sealed: Secret,
    },
    /// WorkOS answered with a new pair whose access token names a signing key
    /// its JWKS does not publish yet, even after refetching it. The pair came
    /// from WorkOS itself and the old refresh token is spent, so the pair is
    /// kept: [`RefreshError::new_session_cookie`] is the cookie to write. The
    /// request is answered as if WorkOS were unavailable.
    #[error("the refreshed access token's signing key is not published yet")]
    KeyNotYetPublished {
        /// The new cookie value, sealed.
        sealed: Secret,
    },
    /// The new session could not be sealed.
    #[error("could not seal the refreshed session: {0}")]
    Seal(#[source] SealError),
}

impl RefreshError {
    /// Whether the session is over: clear the cookie.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RefreshError::NoSessionCookieProvided
                | RefreshError::InvalidSessionCookie
                | RefreshError::Rejected(_)
                | RefreshError::InvalidJwt
                | RefreshError::Seal(_)
        )
    }

    /// The cookie to write although the refresh failed: the new pair WorkOS
    /// answered with, when it could not be verified yet
    /// ([`RefreshError::KeyNotYetPublished`], [`RefreshError::KeysUnavailable`]).
    pub fn new_session_cookie(&self) -> Option<&str> {
        match self {
            RefreshError::KeyNotYetPublished { sealed }
            | RefreshError::KeysUnavailable { sealed, .. } => Some(sealed.expose()),
            _ => None,
        }
    }

    /// How long WorkOS asked to wait (`Retry-After` on its 429 or 503), if
    /// it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            RefreshError::Unavailable(e) => e.retry_after(),
            RefreshError::KeysUnavailable { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// The client error behind it, if any.
    pub fn client_error(&self) -> Option<&ClientError> {
        match self {
            RefreshError::Rejected(e)
            | RefreshError::Unavailable(e)
            | RefreshError::Unexpected(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a logout URL could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogoutError {
    /// No cookie at all.
    #[error("no session cookie provided")]
    NoSessionCookieProvided,
    /// The cookie could not be unsealed or holds no session id.
    #[error("invalid session cookie")]
    InvalidSessionCookie,
}

/// A clock, injectable for tests.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Loads, verifies, refreshes and seals sessions. Cheap to share behind an `Arc`.
///
/// [`AuthKit`](crate::AuthKit) makes one for its layer
/// ([`AuthKit::sessions`](crate::AuthKit::sessions)); make your own to check
/// a cookie outside axum (a WebSocket upgrade, a job that acts for a user):
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use authkit_axum::client::UserManagement;
/// use authkit_axum::seal::Passwords;
/// use authkit_axum::session::{Authentication, SessionManager, UnauthenticatedReason};
///
/// let sessions = SessionManager::new(
///     UserManagement::builder("sk_test_123", "client_123").build()?,
///     Passwords::single("a cookie password of 32 characters+")?,
/// )
/// .with_leeway(Duration::from_secs(5));
///
/// // No cookie, or one that is not ours: signed out, never an error.
/// for cookie in [None, Some("Fe26.2*garbage")] {
///     match sessions.authenticate(cookie).await? {
///         Authentication::Unauthenticated(u) => assert!(matches!(
///             u.reason,
///             UnauthenticatedReason::NoSessionCookieProvided
///                 | UnauthenticatedReason::InvalidSessionCookie
///         )),
///         other => panic!("{other:?}"),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct SessionManager {
    client: UserManagement,
    passwords: Passwords,
    jwks: Arc<JwksCache>,
    tokens: TokenCache,
    cookies: CookieCache,
    leeway: Duration,
    /// `None`: the system's (seconds read from the coarse clock).
    clock: Option<Clock>,
    issuers: Vec<String>,
    users: UserCache,
    user_cache: (usize, Duration),
    organizations: OrganizationCache,
    organization_cache: (usize, Duration),
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("client", &self.client)
            .field("passwords", &self.passwords)
            .field("jwks", &self.jwks)
            .field("leeway", &self.leeway)
            .field("issuers", &self.issuers)
            .finish()
    }
}

impl SessionManager {
    /// Sessions sealed with `passwords`, verified against `client`'s JWKS.
    pub fn new(client: UserManagement, passwords: Passwords) -> Self {
        SessionManager {
            jwks: Arc::new(JwksCache::new(client.clone())),
            tokens: TokenCache::new(token_cache::DEFAULT_CAPACITY),
            cookies: CookieCache::new(cookie_cache::DEFAULT_CAPACITY),
            issuers: default_issuers(&client),
            users: UserCache::new(user_cache::DEFAULT_CAPACITY, user_cache::DEFAULT_TTL),
            user_cache: (user_cache::DEFAULT_CAPACITY, user_cache::DEFAULT_TTL),
            organizations: OrganizationCache::new(
                org_cache::DEFAULT_CAPACITY,
                org_cache::DEFAULT_TTL,
            ),
            organization_cache: (org_cache::DEFAULT_CAPACITY, org_cache::DEFAULT_TTL),
            client,
            passwords,
            leeway: Duration::ZERO,
            clock: None,
        }
    }

    /// Also accept Bearer tokens issued by `issuer` (e.g. a custom auth
    /// domain's), next to the defaults: the API base URL (what WorkOS
    /// environments created before mid-2025 issue) and
    /// `<API base URL>/user_management/<client id>` (what newer ones issue).
    /// Only Bearer tokens are checked for their issuer: a cookie's token is
    /// vouched for by the seal.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::client::UserManagement;
    /// use authkit_axum::seal::Passwords;
    /// use authkit_axum::session::SessionManager;
    ///
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_token_issuer("https://auth.example.com/user_management/client_123");
    /// assert_eq!(sessions.token_issuers(), [
    ///     "https://api.workos.com",
    ///     "https://api.workos.com/user_management/client_123",
    ///     "https://auth.example.com/user_management/client_123",
    /// ]);
    /// # Ok(()) }
    /// ```
    pub fn with_token_issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        if !self.issuers.contains(&issuer) {
            self.issuers.push(issuer);
        }
        self
    }

    /// Accept Bearer tokens from exactly these issuers, instead of the
    /// defaults (authkit-nextjs's `WORKOS_ISSUER`). An empty list refuses
    /// every Bearer token.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::client::UserManagement;
    /// use authkit_axum::seal::Passwords;
    /// use authkit_axum::session::SessionManager;
    ///
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_token_issuers(["https://api.workos.com/user_management/client_123"]);
    /// assert_eq!(sessions.token_issuers(), ["https://api.workos.com/user_management/client_123"]);
    /// # Ok(()) }
    /// ```
    pub fn with_token_issuers<I, T>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.issuers.clear();
        for issuer in issuers {
            self = self.with_token_issuer(issuer);
        }
        self
    }

    /// The issuers a Bearer token may name in its `iss` claim.
    pub fn token_issuers(&self) -> &[String] {
        &self.issuers
    }

    /// How many users fetched for Bearer requests to remember (default
    /// [`DEFAULT_USER_CACHE_CAPACITY`]; 0 turns the cache off).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use authkit_axum::client::UserManagement;
    /// # use authkit_axum::seal::Passwords;
    /// # use authkit_axum::session::SessionManager;
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_user_cache_capacity(10_000);
    /// # let _ = sessions;
    /// # Ok(()) }
    /// ```
    pub fn with_user_cache_capacity(mut self, capacity: usize) -> Self {
        self.user_cache.0 = capacity;
        self.users = UserCache::new(self.user_cache.0, self.user_cache.1);
        self
    }

    /// How long a user fetched for a Bearer request is kept (default
    /// [`DEFAULT_USER_CACHE_TTL`], 60 s; zero turns the cache off).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use authkit_axum::client::UserManagement;
    /// # use authkit_axum::seal::Passwords;
    /// # use authkit_axum::session::SessionManager;
    /// use std::time::Duration;
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_user_cache_ttl(Duration::from_secs(300));
    /// # let _ = sessions;
    /// # Ok(()) }
    /// ```
    pub fn with_user_cache_ttl(mut self, ttl: Duration) -> Self {
        self.user_cache.1 = ttl;
        self.users = UserCache::new(self.user_cache.0, self.user_cache.1);
        self
    }

    /// How many organizations to remember for
    /// [`organization`](Self::organization) (default
    /// [`DEFAULT_ORGANIZATION_CACHE_CAPACITY`], 1 024; 0 turns the cache off).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use authkit_axum::client::UserManagement;
    /// # use authkit_axum::seal::Passwords;
    /// # use authkit_axum::session::SessionManager;
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_organization_cache_capacity(10_000);
    /// # let _ = sessions;
    /// # Ok(()) }
    /// ```
    pub fn with_organization_cache_capacity(mut self, capacity: usize) -> Self {
        self.organization_cache.0 = capacity;
        self.organizations =
            OrganizationCache::new(self.organization_cache.0, self.organization_cache.1);
        self
    }

    /// How long an organization fetched by
    /// [`organization`](Self::organization) is kept (default
    /// [`DEFAULT_ORGANIZATION_CACHE_TTL`], 5 minutes; zero turns the cache off).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use authkit_axum::client::UserManagement;
    /// # use authkit_axum::seal::Passwords;
    /// # use authkit_axum::session::SessionManager;
    /// use std::time::Duration;
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_organization_cache_ttl(Duration::from_secs(60));
    /// # let _ = sessions;
    /// # Ok(()) }
    /// ```
    pub fn with_organization_cache_ttl(mut self, ttl: Duration) -> Self {
        self.organization_cache.1 = ttl;
        self.organizations =
            OrganizationCache::new(self.organization_cache.0, self.organization_cache.1);
        self
    }

    /// Tolerance for `exp` and `nbf` (default none).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// A JWKS cache of your own (e.g. with another refetch interval).
    pub fn with_jwks(mut self, jwks: JwksCache) -> Self {
        self.jwks = Arc::new(jwks);
        self
    }

    /// A clock of your own, for tests.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How many verified access tokens to remember, so their RS256
    /// signature is checked once rather than on every request (default
    /// [`DEFAULT_TOKEN_CACHE_CAPACITY`]; 0 turns the cache off): the tokens
    /// of [`verify_access_token`](Self::verify_access_token),
    /// [`verify_bearer_token`](Self::verify_bearer_token) and
    /// [`authenticate_data`](Self::authenticate_data), and of cookies the
    /// session cache does not hold (it is off, or the seal has an expiry of
    /// its own). A cookie the session cache holds keeps its token's claims
    /// there only. Memory: the token's MAC and claims, about 550 bytes in
    /// all for a typical token, so about 5.5 MB at the default when full.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use authkit_axum::client::UserManagement;
    /// # use authkit_axum::seal::Passwords;
    /// # use authkit_axum::session::SessionManager;
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_token_cache_capacity(50_000);
    /// # let _ = sessions;
    /// # Ok(()) }
    /// ```
    pub fn with_token_cache_capacity(mut self, capacity: usize) -> Self {
        self.tokens = TokenCache::new(capacity);
        self
    }

    /// How many authenticated cookies to remember, so an unchanged cookie
    /// is not unsealed again on every request (default
    /// [`DEFAULT_SESSION_CACHE_CAPACITY`]; 0 turns the cache off, and the
    /// token cache then remembers the cookies' tokens). Memory: about 80
    /// bytes an entry (a MAC of the cookie, not the cookie) plus the
    /// session it holds (its claims included, kept nowhere else: about
    /// 1.9 KiB for a typical one), about 4 MiB at the default. A refresh
    /// puts the new cookie in with its session.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use authkit_axum::client::UserManagement;
    /// # use authkit_axum::seal::Passwords;
    /// # use authkit_axum::session::SessionManager;
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// )
    /// .with_session_cache_capacity(0); // unseal and verify every time
    /// # let _ = sessions;
    /// # Ok(()) }
    /// ```
    pub fn with_session_cache_capacity(mut self, capacity: usize) -> Self {
        self.cookies = CookieCache::new(capacity);
        self
    }

    /// The client.
    pub fn client(&self) -> &UserManagement {
        &self.client
    }

    /// The JWKS cache.
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// The cookie passwords.
    pub fn passwords(&self) -> &Passwords {
        &self.passwords
    }

    /// The current time, by the (injectable) clock.
    pub fn now(&self) -> SystemTime {
        self.clock
            .as_ref()
            .map_or_else(SystemTime::now, |clock| clock())
    }

    /// Seals session data into a cookie value (with the newest password).
    pub fn seal(&self, data: &SessionData) -> Result<String, SealError> {
        seal::seal(data, &self.passwords, seal::SealOptions::default())
    }

    /// Unseals a cookie value.
    pub fn unseal(&self, cookie: &str) -> Result<SessionData, SealError> {
        seal::unseal(
            cookie,
            &self.passwords,
            seal::UnsealOptions::default().with_now(self.now()),
        )
    }

    /// The SDKs' `loadSealedSession`: a handle on one cookie value.
    pub fn load_sealed_session<'a>(&'a self, cookie: Option<&'a str>) -> CookieSession<'a> {
        CookieSession {
            manager: self,
            cookie,
        }
    }

    /// Authenticates the first of several values the request offers as the
    /// session (a stale host-only cookie next to a newer `Domain=` one, a
    /// sibling subdomain's, the chunked form) that is most useful: the one
    /// that authenticates with the most recently issued token; otherwise an
    /// expired session (to refresh), then WorkOS's keys being unavailable
    /// (keep the cookies), then the first reason to sign out. There is rarely
    /// more than one candidate, and checks of a known cookie are cached.
    ///
    /// `known_miss` is the cache key of a candidate the caller just looked
    /// up and did not find: it is not looked up again.
    pub(crate) async fn authenticate_candidates(
        &self,
        candidates: &[Cow<'_, str>],
        known_miss: Option<(&[u8], CookieKey)>,
    ) -> Result<Authentication, SessionUnavailable> {
        let mut best: Option<Result<Authentication, SessionUnavailable>> = None;
        for candidate in candidates {
            let known = known_miss
                .filter(|(cookie, _)| *cookie == candidate.as_bytes())
                .map(|(_, key)| key);
            let outcome = self.authenticate_keyed(Some(candidate), known).await;
            if best.as_ref().is_none_or(|b| rank(&outcome) > rank(b)) {
                best = Some(outcome);
            }
        }
        match best {
            Some(outcome) => outcome,
            None => self.authenticate(None).await,
        }
    }

    /// Who the cookie says is signed in.
    ///
    /// `Err` only when WorkOS's keys cannot be had (an outage): that is not a
    /// reason to sign anyone out.
    pub async fn authenticate(
        &self,
        cookie: Option<&str>,
    ) -> Result<Authentication, SessionUnavailable> {
        self.authenticate_keyed(cookie, None).await
    }

    /// [`authenticate`](Self::authenticate), `known_miss` being the cookie's
    /// cache key when the caller just missed it in the cache.
    async fn authenticate_keyed(
        &self,
        cookie: Option<&str>,
        known_miss: Option<CookieKey>,
    ) -> Result<Authentication, SessionUnavailable> {
        let Some(cookie) = cookie.filter(|c| !c.is_empty()) else {
            return Ok(Authentication::unauthenticated(
                UnauthenticatedReason::NoSessionCookieProvided,
            ));
        };
        let key = match known_miss {
            Some(key) => Some(key),
            None => match self.cookies.find(cookie.as_bytes(), self.jwks.generation()) {
                Ok(session) => {
                    record_cache("hit");
                    if !self.expired(&session.claims, self.now_secs()) {
                        return Ok(Authentication::Authenticated(session));
                    }
                    // Expired since it was cached: answer as an uncached
                    // check would.
                    return Ok(Authentication::Unauthenticated(Unauthenticated {
                        reason: UnauthenticatedReason::Expired,
                        session: Some(Box::new(session.to_data())),
                        claims: Some(session.claims.clone()),
                    }));
                }
                Err(key) => key,
            },
        };
        record_cache("miss");
        let data = match self.unseal(cookie) {
            Ok(data) => data,
            Err(e) => {
                rejected_cookie(e.reason());
                return Ok(Authentication::unauthenticated(
                    UnauthenticatedReason::InvalidSessionCookie,
                ));
            }
        };
        // A cookie the session cache holds keeps its token's claims there:
        // the token cache is for the others (Bearer tokens, seals with an
        // expiry of their own, a session cache turned off), so a token is
        // remembered once. Boxed: the verification (a key fetch, maybe)
        // would otherwise make the future of every request, cache hits
        // too, kilobytes larger.
        let tokens = if self.cookies.holds(cookie) {
            TokenCaching::Skip
        } else {
            TokenCaching::Use
        };
        let outcome = Box::pin(self.authenticate_unsealed(data, tokens)).await?;
        if let Authentication::Authenticated(session) = &outcome
            && let Some(key) = key
        {
            // The generation the token was verified under (a fetch may have
            // changed it meanwhile).
            let generation = self.jwks.generation();
            self.cookies
                .insert(key, cookie, session.clone(), generation);
        }
        Ok(outcome)
    }

    /// Verifies already-unsealed session data (its token's claims
    /// remembered in the token cache).
    pub async fn authenticate_data(
        &self,
        data: SessionData,
    ) -> Result<Authentication, SessionUnavailable> {
        self.authenticate_unsealed(data, TokenCaching::Use).await
    }

    async fn authenticate_unsealed(
        &self,
        data: SessionData,
        tokens: TokenCaching,
    ) -> Result<Authentication, SessionUnavailable> {
        let verified = self
            .verify_token(data.access_token.expose(), Lookup::Throttled, tokens)
            .await;
        match verified {
            Ok(claims) if claims.sub != data.user.id => {
                rejected_cookie("user_mismatch");
                Ok(Authentication::unauthenticated(
                    UnauthenticatedReason::InvalidSessionCookie,
                ))
            }
            Ok(claims) => Ok(Authentication::Authenticated(Arc::new(
                AuthenticatedSession {
                    user: data.user,
                    impersonator: data.impersonator,
                    authentication_method: data.authentication_method,
                    access_token: data.access_token,
                    claims,
                    refresh_token: data.refresh_token,
                    organization_id: data.organization_id,
                },
            ))),
            Err(TokenError::Expired(claims)) if claims.sub == data.user.id => {
                Ok(Authentication::Unauthenticated(Unauthenticated {
                    reason: UnauthenticatedReason::Expired,
                    session: Some(Box::new(data)),
                    claims: Some(claims),
                }))
            }
            Err(TokenError::Expired(_)) => {
                rejected_cookie("user_mismatch");
                Ok(Authentication::unauthenticated(
                    UnauthenticatedReason::InvalidSessionCookie,
                ))
            }
            Err(TokenError::Invalid) => {
                rejected_cookie("token_invalid");
                Ok(Authentication::unauthenticated(
                    UnauthenticatedReason::InvalidJwt,
                ))
            }
            Err(TokenError::Keys(e)) if e.is_transient() => Err(SessionUnavailable(e)),
            // An expired token whose key WorkOS no longer publishes: a user
            // returning after a key rotation. The seal's MAC vouches that the
            // pair came from WorkOS through us, and the token is expired
            // anyway, so refresh it like any expired token: WorkOS answers
            // with a pair signed by a key it publishes (verified as usual), or
            // refuses the refresh token and the cookie is cleared. An unexpired
            // token with an unknown key is not trusted this way.
            Err(TokenError::Keys(JwksError::UnknownKid))
                if unverified_claims(data.access_token.expose())
                    .is_some_and(|c| c.sub == data.user.id && c.exp <= self.now_secs()) =>
            {
                Ok(Authentication::Unauthenticated(Unauthenticated {
                    reason: UnauthenticatedReason::Expired,
                    session: Some(Box::new(data)),
                    claims: None,
                }))
            }
            Err(TokenError::Keys(e)) => {
                rejected_cookie(match e {
                    JwksError::UnknownKid => "unknown_key",
                    _ => "token_invalid",
                });
                Ok(Authentication::unauthenticated(
                    UnauthenticatedReason::InvalidJwt,
                ))
            }
        }
    }

    /// Verifies an access token: RS256 only, `kid` required and known,
    /// signature, `exp` and `nbf` (with the leeway).
    pub async fn verify_access_token(
        &self,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, TokenError> {
        self.verify_token(token, Lookup::Throttled, TokenCaching::Use)
            .await
    }

    /// Verifies an access token sent as `Authorization: Bearer`: everything
    /// [`verify_access_token`](Self::verify_access_token) checks (through
    /// the same cache), plus that its `iss` is one of
    /// [`token_issuers`](Self::token_issuers). A token without `iss`, or
    /// from another issuer (another client id, another WorkOS environment),
    /// is [`TokenError::Invalid`], expired or not.
    ///
    /// The WorkOS SDKs check only the signature and expiry of such a token;
    /// the issuer check is what refuses a token a sibling app (same WorkOS
    /// keys, another client id) was given.
    pub async fn verify_bearer_token(
        &self,
        token: &str,
    ) -> Result<Arc<AccessTokenClaims>, TokenError> {
        match self.verify_access_token(token).await {
            Ok(claims) if self.issued_here(&claims) => Ok(claims),
            Err(TokenError::Expired(claims)) if self.issued_here(&claims) => {
                Err(TokenError::Expired(claims))
            }
            Ok(_) | Err(TokenError::Expired(_)) => {
                tracing::debug!("a Bearer token from another issuer was refused");
                Err(TokenError::Invalid)
            }
            Err(e) => Err(e),
        }
    }

    /// The session a verified Bearer token stands for, with its user
    /// fetched from WorkOS (`GET /user_management/users/{id}`), cached (by
    /// default 60 s, 1 024 users; concurrent misses share one call). It has
    /// no refresh token (a Bearer client refreshes on its own side) and its
    /// impersonator, if any, comes from the token's `act` claim.
    pub async fn bearer_session(
        &self,
        access_token: &Secret,
        claims: Arc<AccessTokenClaims>,
    ) -> Result<Arc<AuthenticatedSession>, UserLookupError> {
        let client = self.client.clone();
        let id = claims.sub.clone();
        let fetched = self
            .users
            .get_or_fetch(&claims.sub, self.now(), move || async move {
                client.get_user(&id).await
            })
            .await;
        let user = match fetched {
            Ok(user) => user,
            Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => {
                return Err(UserLookupError::NotFound);
            }
            Err(e) => {
                tracing::warn!(error = %e, user_id = %claims.sub, "the user of a Bearer token could not be fetched");
                return Err(UserLookupError::Unavailable(e));
            }
        };
        Ok(Arc::new(AuthenticatedSession {
            user: User::clone(&user),
            impersonator: claims.act.as_ref().map(|act| Impersonator {
                email: act.sub.clone(),
                reason: None,
            }),
            authentication_method: None,
            access_token: access_token.clone(),
            organization_id: claims.org_id.clone(),
            claims,
            refresh_token: Secret::default(),
        }))
    }

    /// The organization `organization_id` (a session's `org_id`), fetched
    /// from WorkOS (`GET /organizations/{id}`) and cached (by default 5
    /// minutes, 1 024 organizations; concurrent misses share one call), so
    /// showing it costs no call per request.
    pub async fn organization(
        &self,
        organization_id: &str,
    ) -> Result<Arc<Organization>, OrganizationLookupError> {
        let client = self.client.clone();
        let id = organization_id.to_owned();
        let fetched = self
            .organizations
            .get_or_fetch(organization_id, self.now(), move || async move {
                match client.get_organization(&id).await {
                    Ok(organization) => Ok(Some(Arc::new(organization))),
                    Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .await;
        match fetched {
            Ok(organization) => match Option::as_ref(&organization) {
                Some(organization) => Ok(organization.clone()),
                None => Err(OrganizationLookupError::NotFound),
            },
            Err(e) => {
                tracing::warn!(error = %e, organization_id, "an organization could not be fetched");
                Err(OrganizationLookupError::Unavailable(e))
            }
        }
    }

    /// Forgets the cached organization `organization_id`, so the next
    /// [`organization`](Self::organization) fetches it anew: call it when
    /// you learn of a change (an `organization.updated` webhook, your own
    /// `update_organization`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use authkit_axum::client::UserManagement;
    /// # use authkit_axum::seal::Passwords;
    /// # use authkit_axum::session::SessionManager;
    /// let sessions = SessionManager::new(
    ///     UserManagement::builder("sk_test_123", "client_123").build()?,
    ///     Passwords::single("a cookie password of 32 characters+")?,
    /// );
    /// sessions.forget_organization("org_01H945H0YD4F97JN9MATX7BYAG");
    /// # Ok(()) }
    /// ```
    pub fn forget_organization(&self, organization_id: &str) {
        self.organizations.forget(organization_id);
    }

    async fn verify_token(
        &self,
        token: &str,
        lookup: Lookup,
        caching: TokenCaching,
    ) -> Result<Arc<AccessTokenClaims>, TokenError> {
        // The token's key only when there is a cache to look it up in.
        let cached = match caching {
            TokenCaching::Use => self
                .tokens
                .find_claims(token.as_bytes(), self.jwks.generation()),
            TokenCaching::Skip => Err(None),
        };
        let claims = match cached {
            Ok(claims) => claims,
            Err(cache_key) => {
                let claims = self.verify_signature(token, lookup).await?;
                if let Some(cache_key) = cache_key {
                    // The set may have changed while fetching a key: record
                    // the generation the key came from.
                    let generation = self.jwks.generation();
                    self.tokens.insert(cache_key, claims.clone(), generation);
                }
                claims
            }
        };
        let now = self.now_secs();
        if self.not_yet_valid(&claims, now) {
            return Err(TokenError::Invalid);
        }
        if self.expired(&claims, now) {
            return Err(TokenError::Expired(claims));
        }
        Ok(claims)
    }

    /// Whether `claims` have expired at `now` (seconds since the epoch),
    /// the leeway allowed.
    fn expired(&self, claims: &AccessTokenClaims, now: i64) -> bool {
        claims.exp + self.leeway.as_secs() as i64 <= now
    }

    /// Whether `claims` are not valid yet at `now` (their `nbf`), the leeway
    /// allowed.
    fn not_yet_valid(&self, claims: &AccessTokenClaims, now: i64) -> bool {
        claims
            .nbf
            .is_some_and(|nbf| nbf > now + self.leeway.as_secs() as i64)
    }

    /// Whether a token was issued for this app (its `iss` one of this
    /// client's issuers).
    fn issued_here(&self, claims: &AccessTokenClaims) -> bool {
        claims
            .iss
            .as_deref()
            .is_some_and(|iss| self.issuers.iter().any(|ok| ok == iss))
    }

    /// Header checks, key lookup and the RS256 signature: the expensive part.
    ///
    /// The compact JWS's header is read for `alg` (RS256 only) and `kid`
    /// (required); the key, parsed once when the JWKS was fetched, verifies
    /// the signature over `header.payload`; then the claims are parsed, once
    /// (`sub` and `exp` required, `exp` a non-negative integer). `exp` and
    /// `nbf` are checked by the caller against the injectable clock, so an
    /// expired token still yields its verified claims for a refresh.
    async fn verify_signature(
        &self,
        token: &str,
        lookup: Lookup,
    ) -> Result<Arc<AccessTokenClaims>, TokenError> {
        let jws = jws::Compact::split(token).ok_or(TokenError::Invalid)?;
        let header_bytes = jws.header_bytes().ok_or(TokenError::Invalid)?;
        let header = jws::Header::parse(&header_bytes).ok_or(TokenError::Invalid)?;
        if !header.is_rs256() {
            return Err(TokenError::Invalid);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::Invalid)?;
        let key = self
            .jwks
            .lookup(kid, lookup)
            .await
            .map_err(TokenError::Keys)?;
        let signature = jws.signature().ok_or(TokenError::Invalid)?;
        if !key.verifies_rs256(jws.signing_input.as_bytes(), signature.as_bytes()) {
            return Err(TokenError::Invalid);
        }
        let payload = jws.payload_bytes().ok_or(TokenError::Invalid)?;
        let claims: AccessTokenClaims =
            serde_json::from_slice(&payload).map_err(|_| TokenError::Invalid)?;
        // A JWT's NumericDate is non-negative (and was read as one before).
        if claims.exp < 0 {
            return Err(TokenError::Invalid);
        }
        Ok(Arc::new(claims))
    }

    /// The session of a cookie that authenticated before and whose access
    /// token is still valid, found without waiting: the layer's fast path.
    /// `None` for anything else — not cached, expired since, another JWKS
    /// generation's — which [`authenticate`](Self::authenticate) then
    /// decides. `cookie` may be any bytes (see `cookies::single_session_value`).
    ///
    /// `Err` holds the cookie's cache key when it was looked up and not
    /// found, for [`authenticate_candidates`](Self::authenticate_candidates).
    /// `now` is [`now`](Self::now) in seconds since the epoch, read once by
    /// the caller for this and its own refresh check.
    pub(crate) fn cached_session(
        &self,
        cookie: &[u8],
        now: i64,
    ) -> Result<Arc<AuthenticatedSession>, Option<CookieKey>> {
        let session = self.cookies.find(cookie, self.jwks.generation())?;
        if self.expired(&session.claims, now) {
            return Err(None);
        }
        record_cache("hit");
        Ok(session)
    }

    /// Whether authenticated cookies are cached at all.
    pub(crate) fn caches_cookies(&self) -> bool {
        self.cookies.is_enabled()
    }

    /// The claims of a Bearer token whose signature verified before and that
    /// is still valid and of this app's issuer, found without waiting: the
    /// layer's fast path. `None` for anything else, which
    /// [`verify_bearer_token`](Self::verify_bearer_token) then decides.
    /// `token` may be any bytes: only a token that verified can be found.
    /// With the claims, the token's text, shared with the cache (no copy).
    pub(crate) fn cached_bearer_claims(
        &self,
        token: &[u8],
    ) -> Option<(Arc<AccessTokenClaims>, Secret)> {
        let found = self.tokens.find(token, self.jwks.generation()).ok()?;
        let claims = &found.claims;
        let now = self.now_secs();
        let valid = !self.not_yet_valid(claims, now) && !self.expired(claims, now);
        (valid && self.issued_here(claims)).then_some((found.claims, found.token))
    }

    /// [`now`](Self::now) in seconds since the epoch.
    pub(crate) fn now_secs(&self) -> i64 {
        match &self.clock {
            // On every request: the cheap read.
            None => clock::unix_secs(),
            Some(clock) => clock()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs() as i64,
        }
    }

    /// Exchanges the cookie's refresh token for a new session, keeping its
    /// organization unless `options` names another.
    pub async fn refresh(
        &self,
        cookie: Option<&str>,
        options: RefreshOptions,
    ) -> Result<Refreshed, RefreshError> {
        let Some(cookie) = cookie.filter(|c| !c.is_empty()) else {
            return Err(RefreshError::NoSessionCookieProvided);
        };
        let data = self
            .unseal(cookie)
            .map_err(|_| RefreshError::InvalidSessionCookie)?;
        self.refresh_data(&data, options).await
    }

    /// [`refresh`](Self::refresh) for already-unsealed session data.
    pub async fn refresh_data(
        &self,
        data: &SessionData,
        options: RefreshOptions,
    ) -> Result<Refreshed, RefreshError> {
        let organization_id = options.organization_id.or_else(|| {
            unverified_claims(data.access_token.expose())
                .and_then(|c| c.org_id)
                .or_else(|| data.organization_id.clone())
        });
        let auth = self
            .client
            .authenticate_with_refresh_token(&AuthenticateWithRefreshToken {
                refresh_token: data.refresh_token.clone(),
                organization_id,
                ip_address: options.ip_address,
                user_agent: options.user_agent,
            })
            .await
            .map_err(|e| {
                if e.is_transient() {
                    RefreshError::Unavailable(e)
                } else if ends_session(&e) {
                    RefreshError::Rejected(e)
                } else {
                    RefreshError::Unexpected(e)
                }
            })?;
        let mut next = SessionData::from(&auth);
        // Refresh answers may omit what only the sign-in knew.
        if next.impersonator.is_none() {
            next.impersonator = data.impersonator.clone();
        }
        if next.authentication_method.is_none() {
            next.authentication_method = data.authentication_method.clone();
        }
        // The new cookie goes into the session cache below (when there is
        // one), with these claims: not into the token cache as well.
        let tokens = if self.cookies.is_enabled() {
            TokenCaching::Skip
        } else {
            TokenCaching::Use
        };
        let verified = self
            .verify_token(next.access_token.expose(), Lookup::FromWorkos, tokens)
            .await;
        let claims = match verified {
            Ok(claims) if claims.sub == next.user.id => claims,
            // WorkOS just issued it, so "expired" means this clock runs ahead
            // of WorkOS's: signing the user out for that would be wrong.
            Err(TokenError::Expired(claims)) if claims.sub == next.user.id => {
                tracing::warn!(
                    "a freshly refreshed access token reads as expired: is this machine's clock ahead?"
                );
                claims
            }
            Ok(_) | Err(TokenError::Invalid) | Err(TokenError::Expired(_)) => {
                return Err(RefreshError::InvalidJwt);
            }
            // WorkOS's keys are unreachable right now: the old refresh token
            // is spent, so keep the new pair and verify it on a later request.
            Err(TokenError::Keys(e)) if e.is_transient() => {
                tracing::warn!(error = %e, "the JWKS is unavailable to verify a freshly refreshed token; keeping the new session");
                let sealed = self.seal(&next).map_err(RefreshError::Seal)?;
                return Err(RefreshError::KeysUnavailable {
                    source: e,
                    sealed: sealed.into(),
                });
            }
            // The JWKS lags the key WorkOS signs with (it was refetched for
            // this token): keep the pair WorkOS just gave, verify it later.
            Err(TokenError::Keys(JwksError::UnknownKid)) => {
                tracing::warn!(
                    "a freshly refreshed access token names a key the JWKS does not publish yet; keeping the new session"
                );
                let sealed = self.seal(&next).map_err(RefreshError::Seal)?;
                return Err(RefreshError::KeyNotYetPublished {
                    sealed: sealed.into(),
                });
            }
            Err(TokenError::Keys(_)) => return Err(RefreshError::InvalidJwt),
        };
        if next.organization_id.is_none() {
            next.organization_id = claims.org_id.clone();
        }
        let sealed = self.seal(&next).map_err(RefreshError::Seal)?;
        let session = AuthenticatedSession {
            user: next.user.clone(),
            impersonator: next.impersonator.clone(),
            authentication_method: next.authentication_method.clone(),
            access_token: next.access_token.clone(),
            claims,
            refresh_token: next.refresh_token.clone(),
            organization_id: next.organization_id.clone(),
        };
        // The next request carries the new cookie: it is a session cache hit,
        // as the old cookie was (not an unseal and a signature check again).
        if self.cookies.holds(&sealed)
            && session.claims.exp > self.now_secs()
            && let Some(key) = self.cookies.key(sealed.as_bytes())
        {
            let generation = self.jwks.generation();
            self.cookies
                .insert(key, &sealed, Arc::new(session.clone()), generation);
        }
        Ok(Refreshed {
            sealed,
            session,
            data: next,
        })
    }

    /// The WorkOS logout URL for the cookie's session.
    pub fn logout_url(
        &self,
        cookie: Option<&str>,
        return_to: Option<&str>,
    ) -> Result<String, LogoutError> {
        let Some(cookie) = cookie.filter(|c| !c.is_empty()) else {
            return Err(LogoutError::NoSessionCookieProvided);
        };
        let data = self
            .unseal(cookie)
            .map_err(|_| LogoutError::InvalidSessionCookie)?;
        // The seal's MAC vouches for the token; its signature need not be
        // re-checked (it may have expired) to learn the session id.
        let claims = unverified_claims(data.access_token.expose())
            .ok_or(LogoutError::InvalidSessionCookie)?;
        Ok(self.client.get_logout_url(&claims.sid, return_to))
    }
}

/// What WorkOS names as the issuer of this client's access tokens: the API
/// base URL (`https://api.workos.com`, environments created before mid-2025)
/// or `<API base URL>/user_management/<client id>` (newer ones). The
/// signature is checked against this client's JWKS either way.
fn default_issuers(client: &UserManagement) -> Vec<String> {
    let base = client.base_url().as_str().trim_end_matches('/');
    vec![
        base.to_owned(),
        format!("{base}/user_management/{}", client.client_id()),
    ]
}

/// Whether a verification looks the token up in the token cache and
/// remembers it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenCaching {
    Use,
    /// The session cache keeps this token's claims with its session.
    Skip,
}

/// Why an access token did not verify.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a valid WorkOS token (bad alg, no kid, bad signature, malformed, not yet valid).
    #[error("invalid access token")]
    Invalid,
    /// Valid but expired; the verified claims are attached.
    #[error("access token expired")]
    Expired(Arc<AccessTokenClaims>),
    /// The signing key could not be had.
    #[error(transparent)]
    Keys(JwksError),
}

/// Whether a refresh answer ends the session: `invalid_grant` (the token is
/// spent, revoked or expired), or a challenge only the user can answer.
/// Anything else (a 401 for a wrong API key, a 404, a 409, an answer this
/// crate cannot read) says nothing about the session.
/// (Each challenge variant reports its code, so the codes cover them.)
fn ends_session(e: &ClientError) -> bool {
    matches!(
        e.code(),
        Some(
            "invalid_grant"
                | "sso_required"
                | "mfa_enrollment"
                | "mfa_challenge"
                | "organization_selection_required"
                | "email_verification_required"
        )
    )
}

/// How useful one candidate's answer is, then how recent its token is (a
/// stale copy of the session next to a newer one holds a spent refresh
/// token); full ties keep the first.
fn rank(outcome: &Result<Authentication, SessionUnavailable>) -> (u8, i64) {
    match outcome {
        Ok(Authentication::Authenticated(s)) => (4, s.claims.iat),
        Ok(Authentication::Unauthenticated(u)) if u.session.is_some() => {
            (3, u.claims.as_ref().map_or(i64::MIN, |c| c.iat))
        }
        Err(_) => (2, 0),
        Ok(_) => (1, 0),
    }
}

/// The claims of a token whose integrity is vouched for otherwise (by the
/// seal's MAC), without checking the signature.
fn unverified_claims(token: &str) -> Option<AccessTokenClaims> {
    let payload = jws::Compact::split(token)?.payload_bytes()?;
    serde_json::from_slice(&payload).ok()
}

/// A handle on one cookie value, as the SDKs' `CookieSession`.
#[derive(Debug, Clone, Copy)]
pub struct CookieSession<'a> {
    manager: &'a SessionManager,
    cookie: Option<&'a str>,
}

impl CookieSession<'_> {
    /// See [`SessionManager::authenticate`].
    pub async fn authenticate(&self) -> Result<Authentication, SessionUnavailable> {
        self.manager.authenticate(self.cookie).await
    }

    /// See [`SessionManager::refresh`].
    pub async fn refresh(&self, options: RefreshOptions) -> Result<Refreshed, RefreshError> {
        self.manager.refresh(self.cookie, options).await
    }

    /// See [`SessionManager::logout_url`].
    pub fn get_logout_url(&self, return_to: Option<&str>) -> Result<String, LogoutError> {
        self.manager.logout_url(self.cookie, return_to)
    }
}

/// The user as the Node SDK writes it into the session cookie: camelCase,
/// borrowed from [`User`] so sealing copies nothing.
mod cookie_user {
    use std::collections::HashMap;

    use serde::{Serialize, Serializer};

    use crate::client::User;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct CookieUser<'a> {
        object: &'a str,
        id: &'a str,
        email: &'a str,
        email_verified: bool,
        first_name: &'a Option<String>,
        last_name: &'a Option<String>,
        profile_picture_url: &'a Option<String>,
        last_sign_in_at: &'a Option<String>,
        external_id: &'a Option<String>,
        metadata: &'a HashMap<String, serde_json::Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        locale: &'a Option<String>,
        created_at: &'a str,
        updated_at: &'a str,
        #[serde(flatten)]
        extra: &'a serde_json::Map<String, serde_json::Value>,
    }

    pub(super) fn serialize<S: Serializer>(user: &User, s: S) -> Result<S::Ok, S::Error> {
        CookieUser {
            object: &user.object,
            id: &user.id,
            email: &user.email,
            email_verified: user.email_verified,
            first_name: &user.first_name,
            last_name: &user.last_name,
            profile_picture_url: &user.profile_picture_url,
            last_sign_in_at: &user.last_sign_in_at,
            external_id: &user.external_id,
            metadata: &user.metadata,
            locale: &user.locale,
            created_at: &user.created_at,
            updated_at: &user.updated_at,
            extra: &user.extra,
        }
        .serialize(s)
    }
}

/// The cookie cache's answer, into the layer's `authenticate` span (when
/// that span is on: else not even the current span is looked up).
fn record_cache(answer: &'static str) {
    if tracing::enabled!(
        target: "authkit_axum::middleware::service",
        tracing::Level::DEBUG
    ) {
        let span = tracing::Span::current();
        // Only the layer's own span: never a field of an app's span that
        // happens to be current when it calls `authenticate` itself.
        if span.metadata().is_some_and(|m| {
            m.name() == "authenticate" && m.target() == "authkit_axum::middleware::service"
        }) {
            span.record("cache", answer);
        }
    }
}

/// A session cookie refused: a debug event and its metric, with the reason
/// only (never the value).
fn rejected_cookie(reason: &'static str) {
    tracing::debug!(reason, "session cookie rejected");
    crate::telemetry::rejected_cookie(reason);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A session with every field set, a user with unknown fields and
    /// metadata of several JSON types.
    fn fixed_session() -> SessionData {
        let user: User = serde_json::from_value(serde_json::json!({
            "object": "user", "id": "user_1", "email": "a@example.com", "email_verified": true,
            "first_name": "Ada", "last_name": null, "profile_picture_url": null,
            "last_sign_in_at": "2024-01-02T00:00:00Z", "external_id": "ext_1",
            "metadata": {"plan": "pro"}, "locale": "en-GB",
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
            "user_type": "managed"
        }))
        .unwrap();
        SessionData {
            access_token: "at.jwt.value".into(),
            refresh_token: "rt_value".into(),
            user,
            impersonator: Some(Impersonator {
                email: "admin@example.com".into(),
                reason: Some("support".into()),
            }),
            authentication_method: Some(AuthenticationMethod::Password),
            organization_id: Some("org_1".into()),
        }
    }

    #[test]
    fn session_data_json_is_the_node_sdks_cookie_shape_byte_for_byte() {
        // What this crate sealed before `Secret` stopped serializing itself:
        // the cookie's plaintext must not change by a byte.
        let want = concat!(
            r#"{"accessToken":"at.jwt.value","refreshToken":"rt_value","#,
            r#""user":{"object":"user","id":"user_1","email":"a@example.com","emailVerified":true,"#,
            r#""firstName":"Ada","lastName":null,"profilePictureUrl":null,"#,
            r#""lastSignInAt":"2024-01-02T00:00:00Z","externalId":"ext_1","metadata":{"plan":"pro"},"#,
            r#""locale":"en-GB","createdAt":"2024-01-01T00:00:00Z","updatedAt":"2024-01-01T00:00:00Z","#,
            r#""user_type":"managed"},"#,
            r#""impersonator":{"email":"admin@example.com","reason":"support"},"#,
            r#""authenticationMethod":"Password","organizationId":"org_1"}"#
        );
        assert_eq!(serde_json::to_string(&fixed_session()).unwrap(), want);
    }

    #[test]
    fn a_cookie_whose_user_metadata_is_not_all_strings_unseals_and_round_trips() {
        let passwords = Passwords::single("a-cookie-password-of-at-least-32-chars!").unwrap();
        let mut value = serde_json::to_value(fixed_session()).unwrap();
        value["user"]["metadata"] = serde_json::json!({"n": 1, "ok": true, "s": "x"});
        let cookie = seal::seal(&value, &passwords, seal::SealOptions::default()).unwrap();
        let data: SessionData =
            seal::unseal(&cookie, &passwords, seal::UnsealOptions::default()).unwrap();
        assert_eq!(data.user.metadata["n"], serde_json::json!(1));
        assert_eq!(data.user.metadata["ok"], serde_json::json!(true));
        assert_eq!(data.user.metadata["s"], "x");
        assert_eq!(serde_json::to_value(&data).unwrap(), value);
    }
}
