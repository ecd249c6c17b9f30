//! Extractors: [`AuthUser`] (the full user; required) and `Option<AuthUser>`
//! (optional), and [`AuthClaims`] / `Option<AuthClaims>` (the verified
//! token's claims, for a session cookie or a Bearer token alike). They read
//! the [`AuthState`] the layer put in the request; without a session they
//! reject with an [`AuthRejection`]. [`CurrentOrganization`] (and
//! `Option<…>`) is the session's organization, fetched and cached.

use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::client::Organization;
use crate::rejection::{AuthRejection, Forbidden, ForbiddenReason};
use crate::secret::Secret;
use crate::session::{
    AccessTokenClaims, AuthenticatedSession, OrganizationLookupError, UnauthenticatedReason,
    UserLookupError,
};
use crate::state::{AuthState, AuthStatus, CredentialSource};

/// The signed-in user of a request. Requires [`AuthKit::layer`](crate::AuthKit::layer).
///
/// Derefs to [`AuthenticatedSession`]: `user.user` (the [`User`](crate::client::User)),
/// `user.session_id()`, `user.organization_id()`, `user.role()`, `user.roles()`,
/// `user.permissions()`, `user.entitlements()`, `user.feature_flags()`,
/// `user.impersonator`, `user.access_token`, `user.claims`.
///
/// Without a session it rejects with [`AuthRejection`]: a redirect to login
/// for browser navigations, 401 JSON for API calls. Take `Option<AuthUser>`
/// where signing in is optional: it is `None` without a session, but a
/// Bearer token that was sent and refused (expired, tampered, malformed) is
/// still answered 401 `invalid_token`, so a client's bad token is never
/// served as anonymous.
///
/// For a request signed in with a Bearer token, which carries only the
/// user's id, the user is fetched from WorkOS
/// (`GET /user_management/users/{id}`) and cached for a minute: at most one
/// call per user per minute (see
/// [`SessionManager::bearer_session`](crate::session::SessionManager::bearer_session)).
/// If WorkOS cannot answer, the request gets 503 with `Retry-After`; if the
/// user no longer exists, 401 `invalid_token`. The session has no refresh
/// token. A handler that needs only ids, roles and permissions should take
/// [`AuthClaims`], which costs no call.
///
/// ```
/// use authkit_axum::{AuthUser, Forbidden};
/// use axum::{Json, Router, routing::get};
/// use serde_json::{Value, json};
///
/// // Signed in or redirected to /auth/login.
/// async fn account(user: AuthUser) -> String {
///     format!("{} ({})", user.user.email, user.organization_id().unwrap_or("no organization"))
/// }
///
/// // Signed in or not: both are fine.
/// async fn home(user: Option<AuthUser>) -> String {
///     match user {
///         Some(user) => format!("welcome back, {}", user.user.email),
///         None => "welcome".into(),
///     }
/// }
///
/// // Signed in *and* allowed, or 403.
/// async fn admin(user: AuthUser) -> Result<Json<Value>, Forbidden> {
///     user.require_role("admin")?;
///     Ok(Json(json!({"permissions": user.permissions()})))
/// }
///
/// let app: Router = Router::new()
///     .route("/account", get(account))
///     .route("/", get(home))
///     .route("/admin", get(admin));
/// ```
#[derive(Clone, Debug)]
pub struct AuthUser(pub Arc<AuthenticatedSession>);

impl Deref for AuthUser {
    type Target = AuthenticatedSession;

    fn deref(&self) -> &AuthenticatedSession {
        &self.0
    }
}

/// `Ok` when the claims' roles grant `permission`, else a 403 rejection.
fn require_permission(claims: &AccessTokenClaims, permission: &str) -> Result<(), Forbidden> {
    if claims.has_permission(permission) {
        Ok(())
    } else {
        Err(Forbidden::because(ForbiddenReason::MissingPermission(
            permission.to_owned(),
        )))
    }
}

/// `Ok` when the claims have `role` (as their role or among their roles).
fn require_role(claims: &AccessTokenClaims, role: &str) -> Result<(), Forbidden> {
    if claims.has_role(role) {
        Ok(())
    } else {
        Err(Forbidden::because(ForbiddenReason::MissingRole(
            role.to_owned(),
        )))
    }
}

/// `Ok` when the claims are scoped to `organization_id`.
fn require_organization(
    claims: &AccessTokenClaims,
    organization_id: &str,
) -> Result<(), Forbidden> {
    if claims.is_in_organization(organization_id) {
        Ok(())
    } else {
        Err(Forbidden::because(ForbiddenReason::WrongOrganization))
    }
}

impl AuthUser {
    /// `Ok` when the session's roles grant `permission`, else a 403 rejection.
    pub fn require_permission(&self, permission: &str) -> Result<(), Forbidden> {
        require_permission(&self.claims, permission)
    }

    /// `Ok` when the session has `role` (as its role or among its roles).
    pub fn require_role(&self, role: &str) -> Result<(), Forbidden> {
        require_role(&self.claims, role)
    }

    /// `Ok` when the session is scoped to `organization_id`.
    pub fn require_organization(&self, organization_id: &str) -> Result<(), Forbidden> {
        require_organization(&self.claims, organization_id)
    }

    /// Whether an admin is impersonating the user.
    pub fn is_impersonated(&self) -> bool {
        self.impersonator.is_some()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(state) = parts.extensions.get::<AuthState>() else {
            return Err(AuthRejection::missing_layer());
        };
        match &state.status {
            AuthStatus::Authenticated(session) => Ok(AuthUser(session.clone())),
            AuthStatus::Bearer {
                access_token,
                claims,
            } => Box::pin(bearer_user(state, parts, access_token, claims)).await,
            _ => Err(AuthRejection::from_state(state, parts)),
        }
    }
}

/// The user of a Bearer request, fetched (and cached) through the client.
/// Boxed by its callers: its future (a cache lookup that may join a fetch)
/// would otherwise make every `AuthUser`'s, a cookie's too, ten times larger.
async fn bearer_user(
    state: &AuthState,
    parts: &Parts,
    access_token: &Secret,
    claims: &Arc<AccessTokenClaims>,
) -> Result<AuthUser, AuthRejection> {
    let Some(sessions) = state.sessions() else {
        return Err(AuthRejection::missing_layer());
    };
    let status = match sessions.bearer_session(access_token, claims.clone()).await {
        Ok(session) => return Ok(AuthUser(session)),
        Err(UserLookupError::NotFound) => {
            AuthStatus::Unauthenticated(UnauthenticatedReason::UserNotFound)
        }
        Err(e) => AuthStatus::Unavailable {
            retry_after: e.retry_after(),
        },
    };
    let refused = AuthState {
        status,
        ..state.clone()
    };
    Err(AuthRejection::from_state(&refused, parts))
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthUser {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let Some(state) = parts.extensions.get::<AuthState>() else {
            return Err(AuthRejection::missing_layer());
        };
        match &state.status {
            AuthStatus::Authenticated(session) => Ok(Some(AuthUser(session.clone()))),
            // A valid token whose user cannot be had is not "signed out":
            // answer why.
            AuthStatus::Bearer {
                access_token,
                claims,
            } => Box::pin(bearer_user(state, parts, access_token, claims))
                .await
                .map(Some),
            _ => refused_bearer(state, parts).map_or(Ok(None), Err),
        }
    }
}

/// A Bearer token that was sent but refused is not "signed out" either:
/// optional extractors answer it (401 `invalid_token`), so a client's bad
/// token is not silently served as anonymous.
fn refused_bearer(state: &AuthState, parts: &Parts) -> Option<AuthRejection> {
    let refused = state.source == Some(CredentialSource::Bearer) && !state.is_authenticated();
    refused.then(|| AuthRejection::from_state(state, parts))
}

/// The verified access token's claims: who is signed in, in which
/// organization, with which roles and permissions, for a session cookie and
/// a Bearer token alike. Requires [`AuthKit::layer`](crate::AuthKit::layer).
///
/// It costs nothing beyond the layer's check (no call to WorkOS), so it is
/// what API handlers take; take [`AuthUser`] where the full
/// [`User`](crate::client::User) (email, name, …) is needed. Without a
/// session it rejects as [`AuthUser`] does; `Option<AuthClaims>` where
/// signing in is optional (`None` without credentials; a refused Bearer
/// token is still 401, as for `Option<AuthUser>`).
///
/// ```
/// use authkit_axum::{AuthClaims, Forbidden};
/// use axum::{Json, Router, routing::get};
/// use serde_json::{Value, json};
///
/// // Called by a front end with `Authorization: Bearer <access token>`, or
/// // by a browser holding the session cookie.
/// async fn widgets(claims: AuthClaims) -> Result<Json<Value>, Forbidden> {
///     claims.require_permission("widgets:read")?;
///     let tier: Option<String> = claims.custom("tier").and_then(Result::ok);
///     Ok(Json(json!({
///         "user": claims.user_id(),
///         "organization": claims.organization_id(),
///         "tier": tier,
///     })))
/// }
///
/// let api: Router = Router::new().route("/api/widgets", get(widgets));
/// ```
#[derive(Clone)]
pub struct AuthClaims {
    source: CredentialSource,
    access_token: AccessToken,
    claims: Arc<AccessTokenClaims>,
}

/// Where [`AuthClaims::access_token`] is read from: a cookie's session is
/// shared (no copy of the token per request), a Bearer token is its own.
#[derive(Clone)]
enum AccessToken {
    Session(Arc<AuthenticatedSession>),
    Bearer(Secret),
}

impl std::fmt::Debug for AuthClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthClaims")
            .field("source", &self.source)
            .field("access_token", self.access_token())
            .field("claims", &self.claims)
            .finish()
    }
}

impl AuthClaims {
    fn from_status(status: &AuthStatus) -> Option<Self> {
        match status {
            AuthStatus::Authenticated(session) => Some(AuthClaims {
                source: CredentialSource::Cookie,
                access_token: AccessToken::Session(session.clone()),
                claims: session.claims.clone(),
            }),
            AuthStatus::Bearer {
                access_token,
                claims,
            } => Some(AuthClaims {
                source: CredentialSource::Bearer,
                access_token: AccessToken::Bearer(access_token.clone()),
                claims: claims.clone(),
            }),
            _ => None,
        }
    }

    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        &self.claims.sub
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

    /// A custom claim of your JWT template, parsed into your type: `None`
    /// when absent, `Some(Err(_))` when of another shape (see
    /// [`AccessTokenClaims::custom`]).
    pub fn custom<T: DeserializeOwned>(&self, name: &str) -> Option<Result<T, serde_json::Error>> {
        self.claims.custom(name)
    }

    /// Every verified claim.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.claims
    }

    /// Where the token came from: the session cookie or a Bearer header.
    pub fn source(&self) -> CredentialSource {
        self.source
    }

    /// The verified access token (to call another API on the user's behalf).
    pub fn access_token(&self) -> &Secret {
        match &self.access_token {
            AccessToken::Session(session) => &session.access_token,
            AccessToken::Bearer(token) => token,
        }
    }

    /// When the access token expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.claims.exp.max(0) as u64)
    }

    /// The impersonating admin's email, when an admin is impersonating the user.
    pub fn impersonator(&self) -> Option<&str> {
        self.claims.act.as_ref().map(|a| a.sub.as_str())
    }

    /// `Ok` when the roles grant `permission`, else a 403 rejection.
    pub fn require_permission(&self, permission: &str) -> Result<(), Forbidden> {
        require_permission(&self.claims, permission)
    }

    /// `Ok` when the token has `role` (as its role or among its roles).
    pub fn require_role(&self, role: &str) -> Result<(), Forbidden> {
        require_role(&self.claims, role)
    }

    /// `Ok` when the token is scoped to `organization_id`.
    pub fn require_organization(&self, organization_id: &str) -> Result<(), Forbidden> {
        require_organization(&self.claims, organization_id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthClaims {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(state) = parts.extensions.get::<AuthState>() else {
            return Err(AuthRejection::missing_layer());
        };
        AuthClaims::from_status(&state.status)
            .ok_or_else(|| AuthRejection::from_state(state, parts))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthClaims {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let Some(state) = parts.extensions.get::<AuthState>() else {
            return Err(AuthRejection::missing_layer());
        };
        match AuthClaims::from_status(&state.status) {
            Some(claims) => Ok(Some(claims)),
            None => refused_bearer(state, parts).map_or(Ok(None), Err),
        }
    }
}

// ---- the session's organization ----

/// The organization the request's session is in (its `org_id`), with its
/// name, domains and metadata: what a page shows. Requires
/// [`AuthKit::layer`](crate::AuthKit::layer).
///
/// Derefs to [`Organization`]: `org.name`, `org.id`, `org.domains`,
/// `org.external_id`, `org.metadata`. The organization is fetched from
/// WorkOS (`GET /organizations/{id}`) and cached, bounded and expiring (by
/// default 1 024 organizations for 5 minutes:
/// [`with_organization_cache_capacity`](crate::AuthKitBuilder::with_organization_cache_capacity),
/// [`with_organization_cache_ttl`](crate::AuthKitBuilder::with_organization_cache_ttl)),
/// so it costs no call per request, and concurrent misses share one call
/// ([`SessionManager::organization`](crate::session::SessionManager::organization)).
/// Session cookies and Bearer tokens alike: both carry `org_id`.
///
/// It rejects with an [`OrganizationRejection`]: without a session as
/// [`AuthUser`] does (a redirect to login, or 401); 403
/// ([`ForbiddenReason::NoOrganization`]) when the session is in no
/// organization or its organization no longer exists; 503 with
/// `Retry-After` when WorkOS cannot answer (the session is kept).
/// `Option<CurrentOrganization>` is `None` without a session or an
/// organization, and still answers 503 and a refused Bearer token's 401.
///
/// ```
/// use authkit_axum::{AuthUser, CurrentOrganization};
/// use axum::{Router, routing::get};
///
/// async fn dashboard(user: AuthUser, org: CurrentOrganization) -> String {
///     format!("{} at {}", user.user.email, org.name)
/// }
///
/// async fn header(org: Option<CurrentOrganization>) -> String {
///     org.map_or_else(|| "personal account".to_owned(), |org| org.name.clone())
/// }
///
/// let app: Router = Router::new()
///     .route("/dashboard", get(dashboard))
///     .route("/header", get(header));
/// ```
#[derive(Clone, Debug)]
pub struct CurrentOrganization(pub Arc<Organization>);

impl Deref for CurrentOrganization {
    type Target = Organization;

    fn deref(&self) -> &Organization {
        &self.0
    }
}

/// Why [`CurrentOrganization`] was refused: the [`AuthRejection`] of a
/// request without a session (or of WorkOS being unavailable: 503), or the
/// [`Forbidden`] of a session in no organization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OrganizationRejection {
    /// No session (a redirect to login, or 401), or WorkOS unavailable (503).
    Auth(AuthRejection),
    /// 403: the session is in no organization, or it no longer exists.
    Forbidden(Forbidden),
}

impl OrganizationRejection {
    /// The status it answers with.
    pub fn status(&self) -> http::StatusCode {
        match self {
            OrganizationRejection::Auth(r) => r.status(),
            OrganizationRejection::Forbidden(f) => f.status(),
        }
    }

    /// A human-readable explanation.
    pub fn body_text(&self) -> String {
        match self {
            OrganizationRejection::Auth(r) => r.body_text(),
            OrganizationRejection::Forbidden(f) => f.body_text(),
        }
    }
}

impl std::fmt::Display for OrganizationRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.body_text())
    }
}

impl std::error::Error for OrganizationRejection {}

impl From<AuthRejection> for OrganizationRejection {
    fn from(r: AuthRejection) -> Self {
        OrganizationRejection::Auth(r)
    }
}

impl From<Forbidden> for OrganizationRejection {
    fn from(f: Forbidden) -> Self {
        OrganizationRejection::Forbidden(f)
    }
}

impl axum::response::IntoResponse for OrganizationRejection {
    fn into_response(self) -> axum::response::Response {
        match self {
            OrganizationRejection::Auth(r) => r.into_response(),
            OrganizationRejection::Forbidden(f) => f.into_response(),
        }
    }
}

/// The session's organization: `Ok(None)` when the session has none or it
/// no longer exists, `Err` (503) when WorkOS cannot answer. Boxed by its
/// callers, as [`bearer_user`] is.
async fn session_organization(
    state: &AuthState,
    parts: &Parts,
    claims: &AccessTokenClaims,
) -> Result<Option<CurrentOrganization>, OrganizationRejection> {
    let Some(organization_id) = claims.org_id.as_deref() else {
        return Ok(None);
    };
    let Some(sessions) = state.sessions() else {
        return Err(AuthRejection::missing_layer().into());
    };
    match sessions.organization(organization_id).await {
        Ok(organization) => Ok(Some(CurrentOrganization(organization))),
        Err(OrganizationLookupError::NotFound) => {
            tracing::debug!(
                organization_id,
                "the session's organization no longer exists"
            );
            Ok(None)
        }
        Err(e) => {
            let unavailable = AuthState {
                status: AuthStatus::Unavailable {
                    retry_after: e.retry_after(),
                },
                ..state.clone()
            };
            Err(AuthRejection::from_state(&unavailable, parts).into())
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentOrganization {
    type Rejection = OrganizationRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(state) = parts.extensions.get::<AuthState>() else {
            return Err(AuthRejection::missing_layer().into());
        };
        let Some(claims) = state.claims() else {
            return Err(AuthRejection::from_state(state, parts).into());
        };
        match Box::pin(session_organization(state, parts, claims)).await? {
            Some(organization) => Ok(organization),
            None => Err(Forbidden::because(ForbiddenReason::NoOrganization)
                .for_request(state.settings(), parts)
                .into()),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentOrganization {
    type Rejection = OrganizationRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let Some(state) = parts.extensions.get::<AuthState>() else {
            return Err(AuthRejection::missing_layer().into());
        };
        match state.claims() {
            Some(claims) => Box::pin(session_organization(state, parts, claims)).await,
            None => refused_bearer(state, parts).map_or(Ok(None), |r| Err(r.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extractors_futures_stay_small() {
        // A handler's future holds its extractors' and axum boxes it on
        // every request: a user or organization fetch held inline made
        // `AuthUser`'s 5 KB, for a cookie that needs no fetch at all.
        fn size<F: Future>(_future: F) -> usize {
            size_of::<F>()
        }
        let (mut parts, _) = http::Request::new(()).into_parts();
        let p = &mut parts;
        let sizes = [
            size(<AuthUser as FromRequestParts<()>>::from_request_parts(
                p,
                &(),
            )),
            size(<AuthUser as OptionalFromRequestParts<()>>::from_request_parts(p, &())),
            size(<AuthClaims as FromRequestParts<()>>::from_request_parts(
                p,
                &(),
            )),
            size(<CurrentOrganization as FromRequestParts<()>>::from_request_parts(p, &())),
            size(<CurrentOrganization as OptionalFromRequestParts<()>>::from_request_parts(p, &())),
        ];
        assert!(sizes.iter().all(|&n| n <= 128), "{sizes:?} bytes");
    }

    fn claims(json: serde_json::Value) -> AuthClaims {
        AuthClaims {
            source: CredentialSource::Bearer,
            access_token: AccessToken::Bearer("t".into()),
            claims: Arc::new(serde_json::from_value(json).unwrap()),
        }
    }

    #[test]
    fn claims_grant_what_their_roles_and_organization_say_and_nothing_else() {
        let c = claims(serde_json::json!({
            "sub": "user_1", "sid": "s", "exp": 10, "org_id": "org_1", "role": "member",
            "roles": ["member", "billing"], "permissions": ["widgets:read"]
        }));
        assert!(c.require_permission("widgets:read").is_ok());
        assert!(c.require_role("member").is_ok());
        assert!(c.require_role("billing").is_ok());
        assert!(c.require_organization("org_1").is_ok());
        assert_eq!(
            c.require_permission("widgets:write").unwrap_err().reason(),
            &ForbiddenReason::MissingPermission("widgets:write".into())
        );
        assert_eq!(
            c.require_role("admin").unwrap_err().reason(),
            &ForbiddenReason::MissingRole("admin".into())
        );
        assert_eq!(
            c.require_organization("org_2").unwrap_err().reason(),
            &ForbiddenReason::WrongOrganization
        );
        let none = claims(serde_json::json!({"sub": "u", "sid": "s", "exp": 10}));
        assert!(none.require_organization("org_1").is_err());
        assert_eq!(none.expires_at(), UNIX_EPOCH + Duration::from_secs(10));
    }
}
