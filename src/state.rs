//! What the layer found out about a request, put in its extensions for the
//! extractors and rejections to read: a leaf that the layer writes and
//! nothing below it reads back.

use std::sync::Arc;
use std::time::Duration;

use crate::session::{AuthenticatedSession, UnauthenticatedReason};
use crate::settings::Settings;

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
///         AuthStatus::Authenticated(_) => "signed in",
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
    pub(crate) settings: Arc<Settings>,
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("status", &self.status)
            .finish()
    }
}

/// Signed in, signed out, or unknown because WorkOS is unavailable.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthStatus {
    /// A verified session (possibly just refreshed).
    Authenticated(Arc<AuthenticatedSession>),
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
    pub(crate) fn new(status: AuthStatus, settings: Arc<Settings>) -> Self {
        AuthState { status, settings }
    }

    /// The status.
    pub fn status(&self) -> &AuthStatus {
        &self.status
    }

    /// The session, when signed in.
    pub fn session(&self) -> Option<&Arc<AuthenticatedSession>> {
        match &self.status {
            AuthStatus::Authenticated(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the request is signed in.
    pub fn is_authenticated(&self) -> bool {
        matches!(self.status, AuthStatus::Authenticated(_))
    }
}
