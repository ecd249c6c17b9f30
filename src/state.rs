//! What the layer found out about a request, put in its extensions for the
//! extractors and rejections to read: a leaf that the layer writes and
//! nothing below it reads back.

use std::sync::Arc;
use std::time::Duration;

use crate::secret::Secret;
use crate::session::{
    AccessTokenClaims, AuthenticatedSession, SessionManager, UnauthenticatedReason,
};
use crate::settings::Settings;
use crate::shared::RequestContext;

/// What the layer found out about a request; extractors read it.
///
/// Handlers rarely need it ([`AuthUser`](crate::AuthUser) and
/// `Option<AuthUser>` read it for them), but it is there for middleware of
/// your own that wants to know why a request has no session:
///
/// ```
/// use authkit_axum::{AuthState, AuthStatus};
/// use axum::Extension;
///
/// async fn why(Extension(state): Extension<AuthState>) -> &'static str {
///     match state.status() {
///         AuthStatus::Authenticated(_) => "signed in (session cookie)",
///         AuthStatus::Bearer { .. } => "signed in (Bearer token)",
///         AuthStatus::Unauthenticated(_) => "signed out",
///         AuthStatus::Unavailable { .. } => "WorkOS is unavailable",
///         _ => "unknown",
///     }
/// }
/// # let _: axum::Router = axum::Router::new().route("/why", axum::routing::get(why));
/// ```
#[derive(Clone)]
pub struct AuthState {
    pub(crate) status: AuthStatus,
    pub(crate) source: Option<CredentialSource>,
    /// The settings and session manager, shared by every request.
    pub(crate) context: Arc<RequestContext>,
}

/// Which credential of a request the layer judged it by.
///
/// When a request carries `Authorization: Bearer …`, the token alone
/// decides: the session cookie is neither read, refreshed nor cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// The `wos-session` cookie (whole or in chunks).
    Cookie,
    /// An `Authorization: Bearer <access token>` header.
    Bearer,
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("status", &self.status)
            .field("source", &self.source)
            .finish()
    }
}

/// Signed in, signed out, or unknown because WorkOS is unavailable.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthStatus {
    /// A verified session cookie (possibly just refreshed).
    Authenticated(Arc<AuthenticatedSession>),
    /// A verified Bearer access token. There is no session to refresh, and
    /// the user is only its id (`claims.sub`) until an extractor fetches it.
    Bearer {
        /// The token itself.
        access_token: Secret,
        /// Its verified claims.
        claims: Arc<AccessTokenClaims>,
    },
    /// No usable session.
    Unauthenticated(UnauthenticatedReason),
    /// The session could not be checked or refreshed because WorkOS is
    /// unavailable; the cookie was kept.
    Unavailable {
        /// How long WorkOS asked to wait, if it said.
        retry_after: Option<Duration>,
    },
}

impl AuthState {
    /// A state without a session manager (for what only reads it).
    #[cfg(test)]
    pub(crate) fn new(status: AuthStatus, settings: Arc<Settings>) -> Self {
        Self::in_context(
            status,
            Arc::new(RequestContext {
                settings,
                sessions: None,
            }),
        )
    }

    /// The layer's state of a request.
    pub(crate) fn in_context(status: AuthStatus, context: Arc<RequestContext>) -> Self {
        AuthState {
            status,
            source: None,
            context,
        }
    }

    pub(crate) fn settings(&self) -> &Arc<Settings> {
        &self.context.settings
    }

    /// For what extractors fetch lazily (the user of a Bearer token).
    pub(crate) fn sessions(&self) -> Option<&Arc<SessionManager>> {
        self.context.sessions.as_ref()
    }

    pub(crate) fn with_source(mut self, source: Option<CredentialSource>) -> Self {
        self.source = source;
        self
    }

    /// The credential the request was judged by: `None` when it carried
    /// none (no session cookie, no Bearer token).
    pub fn source(&self) -> Option<CredentialSource> {
        self.source
    }

    /// The status.
    pub fn status(&self) -> &AuthStatus {
        &self.status
    }

    /// The session, when signed in with a session cookie (a Bearer token
    /// has no session of its own: see [`claims`](Self::claims)).
    pub fn session(&self) -> Option<&Arc<AuthenticatedSession>> {
        match &self.status {
            AuthStatus::Authenticated(s) => Some(s),
            _ => None,
        }
    }

    /// The verified access token's claims, when signed in either way.
    pub fn claims(&self) -> Option<&Arc<AccessTokenClaims>> {
        match &self.status {
            AuthStatus::Authenticated(s) => Some(&s.claims),
            AuthStatus::Bearer { claims, .. } => Some(claims),
            _ => None,
        }
    }

    /// Whether the request is signed in (by a session cookie or a Bearer token).
    pub fn is_authenticated(&self) -> bool {
        matches!(
            self.status,
            AuthStatus::Authenticated(_) | AuthStatus::Bearer { .. }
        )
    }
}
