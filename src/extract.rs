//! Extractors: [`AuthUser`] (required) and `Option<AuthUser>` (optional).
//! They read the [`AuthState`] the layer put in the request; without a
//! session, [`AuthUser`] rejects with an [`AuthRejection`].

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;

use crate::rejection::{AuthRejection, Forbidden, ForbiddenReason};
use crate::session::AuthenticatedSession;
use crate::state::{AuthState, AuthStatus};

/// The signed-in user of a request. Requires [`AuthKit::layer`](crate::AuthKit::layer).
///
/// Derefs to [`AuthenticatedSession`]: `user.user` (the [`User`](crate::client::User)),
/// `user.session_id()`, `user.organization_id()`, `user.role()`, `user.roles()`,
/// `user.permissions()`, `user.entitlements()`, `user.feature_flags()`,
/// `user.impersonator`, `user.access_token`, `user.claims`.
///
/// Without a session it rejects with [`AuthRejection`]: a redirect to login
/// for browser navigations, 401 JSON for API calls. Take `Option<AuthUser>`
/// where signing in is optional.
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

impl AuthUser {
    /// `Ok` when the session's roles grant `permission`, else a 403 rejection.
    pub fn require_permission(&self, permission: &str) -> Result<(), Forbidden> {
        if self.has_permission(permission) {
            Ok(())
        } else {
            Err(Forbidden::because(ForbiddenReason::MissingPermission(
                permission.to_owned(),
            )))
        }
    }

    /// `Ok` when the session has `role` (as its role or among its roles).
    pub fn require_role(&self, role: &str) -> Result<(), Forbidden> {
        if self.role() == Some(role) || self.roles().iter().any(|r| r == role) {
            Ok(())
        } else {
            Err(Forbidden::because(ForbiddenReason::MissingRole(
                role.to_owned(),
            )))
        }
    }

    /// `Ok` when the session is scoped to `organization_id`.
    pub fn require_organization(&self, organization_id: &str) -> Result<(), Forbidden> {
        if self.organization_id() == Some(organization_id) {
            Ok(())
        } else {
            Err(Forbidden::because(ForbiddenReason::WrongOrganization))
        }
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
            _ => Err(AuthRejection::from_state(state, parts)),
        }
    }
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
        Ok(state.session().map(|s| AuthUser(s.clone())))
    }
}
