//! Extractors: [`AuthUser`] (required) and `Option<AuthUser>` (optional), and
//! their rejection, which redirects browsers to login and answers APIs 401.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};

use crate::middleware::{AuthState, AuthStatus};
use crate::session::AuthenticatedSession;

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
            Err(Forbidden::new(format!("missing permission {permission}")))
        }
    }

    /// `Ok` when the session has `role` (as its role or among its roles).
    pub fn require_role(&self, role: &str) -> Result<(), Forbidden> {
        if self.role() == Some(role) || self.roles().iter().any(|r| r == role) {
            Ok(())
        } else {
            Err(Forbidden::new(format!("missing role {role}")))
        }
    }

    /// `Ok` when the session is scoped to `organization_id`.
    pub fn require_organization(&self, organization_id: &str) -> Result<(), Forbidden> {
        if self.organization_id() == Some(organization_id) {
            Ok(())
        } else {
            Err(Forbidden::new(
                "this page belongs to another organization".to_owned(),
            ))
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

/// How a router wants unauthenticated requests answered; insert it with
/// `Router::layer(Extension(RejectionMode::Api))` to override per router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionMode {
    /// Decide per request: browsers are redirected, APIs get 401 (default).
    Auto,
    /// Always 401 JSON (for `/api` routers).
    Api,
    /// Always redirect to login.
    Redirect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// Redirect to the login route.
    Redirect {
        status: StatusCode,
        location: String,
    },
    /// 401 with a JSON body.
    Unauthorized,
    /// 503: WorkOS is unavailable; the session is kept.
    Unavailable { retry_after: Option<Duration> },
    /// 500: the layer is missing (a programming error).
    MissingLayer,
}

/// Why [`AuthUser`] was refused. Has a `status()` and a `body_text()`, and
/// answers as: 307/303 to the login route with `return_to` (browser
/// navigations), 401 JSON with `WWW-Authenticate` (API calls), 503 with
/// `Retry-After` (WorkOS unavailable: not a logout), 500 (layer missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRejection {
    kind: Kind,
}

impl AuthRejection {
    fn missing_layer() -> Self {
        AuthRejection {
            kind: Kind::MissingLayer,
        }
    }

    pub(crate) fn from_state(state: &AuthState, parts: &Parts) -> Self {
        if let AuthStatus::Unavailable { retry_after } = state.status {
            return AuthRejection {
                kind: Kind::Unavailable { retry_after },
            };
        }
        let config = &state.authkit.config;
        let path = parts.uri.path();
        let mode = parts
            .extensions
            .get::<RejectionMode>()
            .copied()
            .unwrap_or(RejectionMode::Auto);
        let api_route = config
            .api_prefixes
            .iter()
            .any(|p| path == p || path.starts_with(&format!("{}/", p.trim_end_matches('/'))));
        let redirect = match mode {
            RejectionMode::Api => false,
            RejectionMode::Redirect => true,
            RejectionMode::Auto => !api_route && is_browser_navigation(parts),
        };
        if !redirect {
            return AuthRejection {
                kind: Kind::Unauthorized,
            };
        }
        let return_to = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/");
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", return_to)
            .finish();
        let location = format!("{}/login?{query}", config.base_path);
        let status = if parts.method == Method::GET || parts.method == Method::HEAD {
            StatusCode::TEMPORARY_REDIRECT
        } else {
            StatusCode::SEE_OTHER
        };
        AuthRejection {
            kind: Kind::Redirect { status, location },
        }
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        match &self.kind {
            Kind::Redirect { status, .. } => *status,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Kind::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A human-readable explanation.
    pub fn body_text(&self) -> String {
        match &self.kind {
            Kind::Redirect { .. } | Kind::Unauthorized => "Sign in to continue.".into(),
            Kind::Unavailable { .. } => {
                "Authentication is temporarily unavailable; please retry shortly.".into()
            }
            Kind::MissingLayer => {
                "AuthUser needs the authkit layer: add `.layer(authkit.layer())` to the router"
                    .into()
            }
        }
    }

    /// The login URL a browser is sent to, if this is a redirect.
    pub fn location(&self) -> Option<&str> {
        match &self.kind {
            Kind::Redirect { location, .. } => Some(location),
            _ => None,
        }
    }
}

fn is_browser_navigation(parts: &Parts) -> bool {
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if header("x-requested-with").eq_ignore_ascii_case("xmlhttprequest") {
        return false;
    }
    if matches!(header("sec-fetch-mode"), "cors" | "no-cors" | "same-origin") {
        return false;
    }
    let accept = header("accept");
    accept.contains("text/html") || accept.contains("application/xhtml+xml")
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body_text();
        match self.kind {
            Kind::Redirect { location, .. } => {
                let mut response = (status, body).into_response();
                if let Ok(v) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, v);
                }
                response
            }
            Kind::Unauthorized => {
                let mut response = (
                    status,
                    axum::Json(serde_json::json!({
                        "error": "unauthorized",
                        "message": body,
                    })),
                )
                    .into_response();
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Cookie realm=\"authkit\""),
                );
                response
            }
            Kind::Unavailable { retry_after } => {
                let secs = retry_after.map_or(5, |d| d.as_secs().max(1));
                let mut response = (
                    status,
                    axum::Json(serde_json::json!({
                        "error": "authentication_unavailable",
                        "message": body,
                    })),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                response
            }
            Kind::MissingLayer => {
                tracing::error!("{body}");
                (status, body).into_response()
            }
        }
    }
}

/// 403: signed in, but not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    reason: String,
}

impl Forbidden {
    /// A 403 with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Forbidden {
            reason: reason.into(),
        }
    }

    /// Always 403.
    pub fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    /// Why.
    pub fn body_text(&self) -> String {
        format!("Forbidden: {}", self.reason)
    }
}

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        (
            self.status(),
            axum::Json(serde_json::json!({"error": "forbidden", "message": self.body_text()})),
        )
            .into_response()
    }
}
