//! The Tower layer: loads, verifies and refreshes the session once per
//! request, hands the result to extractors, and writes the cookie back.
//!
//! ```text
//! request ─▶ read `wos-session` ─▶ unseal + verify ─▶ expiring? refresh (single flight)
//!         ─▶ AuthState in the request's extensions ─▶ handler (AuthUser / Option<AuthUser>)
//! response ◀─ Set-Cookie (rotated or cleared), Cache-Control: no-store, Vary: Cookie
//! ```

pub(crate) mod cookies;
pub(crate) mod refresh;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, UNIX_EPOCH};

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Request, header};
use tower_layer::Layer;
use tower_service::Service;

use crate::authkit::{AuthKit, Inner};
use crate::extract::AuthRejection;
use crate::session::{
    AuthenticatedSession, Authentication, RefreshOptions, SessionData, UnauthenticatedReason,
};

/// What the layer found out about a request; extractors read it.
#[derive(Clone)]
pub struct AuthState {
    pub(crate) status: AuthStatus,
    pub(crate) authkit: Arc<Inner>,
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
}

/// The layer; make it with [`AuthKit::layer`].
#[derive(Clone, Debug)]
pub struct AuthKitLayer {
    authkit: AuthKit,
}

impl AuthKit {
    /// The layer that authenticates every request (see [`crate::middleware`]).
    pub fn layer(&self) -> AuthKitLayer {
        AuthKitLayer {
            authkit: self.clone(),
        }
    }
}

impl<S> Layer<S> for AuthKitLayer {
    type Service = AuthKitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthKitService {
            inner,
            authkit: self.authkit.clone(),
        }
    }
}

/// The service the layer wraps around the app.
#[derive(Clone, Debug)]
pub struct AuthKitService<S> {
    inner: S,
    authkit: AuthKit,
}

/// The response future of [`AuthKitService`].
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S, B> Service<Request<B>> for AuthKitService<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was driven to readiness is the one to call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let authkit = self.authkit.inner.clone();
        Box::pin(async move {
            let resolved = resolve(&authkit, request.headers()).await;
            let state = AuthState {
                status: resolved.status,
                authkit: authkit.clone(),
            };
            let signed_in = matches!(state.status, AuthStatus::Authenticated(_));
            let mut response = if !signed_in && requires_session(&authkit, request.uri().path()) {
                let (parts, _) = Request::new(()).into_parts();
                let mut parts = parts;
                parts.method = request.method().clone();
                parts.uri = request.uri().clone();
                parts.headers = request.headers().clone();
                parts.extensions.insert(state.clone());
                AuthRejection::from_state(&state, &parts).into_response()
            } else {
                request.extensions_mut().insert(state);
                inner.call(request).await?
            };
            finish(&authkit, &mut response, resolved.set_cookie, signed_in);
            Ok(response)
        })
    }
}

/// Whether the layer itself must refuse a request without a session.
fn requires_session(authkit: &Inner, path: &str) -> bool {
    let config = &authkit.config;
    if !config.protect_by_default {
        return false;
    }
    // The auth routes, callback included, are always public: a
    // misconfiguration must not make login redirect to login.
    if path == config.callback_path
        || path == config.base_path
        || path.starts_with(&format!("{}/", config.base_path))
    {
        return false;
    }
    !config
        .public_paths
        .iter()
        .any(|p| match p.strip_suffix("/*") {
            Some(prefix) => path == prefix || path.starts_with(&format!("{prefix}/")),
            None => path == p,
        })
}

/// Appends the session cookie and the caching headers.
fn finish(authkit: &Inner, response: &mut Response, set_cookie: Vec<HeaderValue>, signed_in: bool) {
    let name = &authkit.config.cookie.name;
    let headers = response.headers_mut();
    // A route that set the session cookie itself (login, logout, organization
    // switch) knows better than the layer.
    if !set_cookie.is_empty() && !cookies::response_sets_session(headers, name) {
        for value in set_cookie {
            headers.append(header::SET_COOKIE, value);
        }
    }
    if signed_in || headers.contains_key(header::SET_COOKIE) {
        // Personalised responses and cookie changes must not be cached by
        // shared caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.append(header::VARY, HeaderValue::from_static("Cookie"));
    }
}

pub(crate) struct Resolved {
    pub(crate) status: AuthStatus,
    pub(crate) set_cookie: Vec<HeaderValue>,
}

/// Authenticates a request's cookie, refreshing when the token is expired or
/// about to expire.
pub(crate) async fn resolve(authkit: &Arc<Inner>, headers: &http::HeaderMap) -> Resolved {
    let config = &authkit.config;
    let cookie = cookies::read_session(headers, &config.cookie.name);
    let sessions = &authkit.sessions;
    let outcome = match sessions.authenticate(cookie.as_deref()).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(error = %e, "session could not be verified; keeping the cookie");
            return unavailable(None);
        }
    };
    match outcome {
        Authentication::Authenticated(session) => {
            if !expires_soon(authkit, &session) {
                return authenticated(session, Vec::new());
            }
            let data = session.to_data();
            match refresh(authkit, data).await.as_ref() {
                Ok(r) => authenticated(
                    Arc::new(r.session.clone()),
                    cookies::write_session(&config.cookie, &r.sealed, headers),
                ),
                Err(e) if e.is_terminal() => {
                    tracing::info!(error = %e, "refresh refused; signing out");
                    signed_out(authkit, headers, UnauthenticatedReason::InvalidJwt, true)
                }
                // Still valid for a while: carry on with it.
                Err(_) => authenticated(session, Vec::new()),
            }
        }
        Authentication::Unauthenticated(u) => match (u.reason, u.session) {
            (UnauthenticatedReason::Expired, Some(data)) => {
                match refresh(authkit, *data).await.as_ref() {
                    Ok(r) => authenticated(
                        Arc::new(r.session.clone()),
                        cookies::write_session(&config.cookie, &r.sealed, headers),
                    ),
                    Err(e) if e.is_terminal() => {
                        tracing::info!(error = %e, "refresh refused; signing out");
                        signed_out(authkit, headers, UnauthenticatedReason::Expired, true)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "refresh failed; keeping the cookie");
                        unavailable(e.retry_after())
                    }
                }
            }
            (reason @ UnauthenticatedReason::InvalidSessionCookie, _) => {
                signed_out(authkit, headers, reason, true)
            }
            (reason, _) => signed_out(authkit, headers, reason, false),
        },
    }
}

async fn refresh(authkit: &Arc<Inner>, data: SessionData) -> refresh::Outcome {
    let sessions = authkit.sessions.clone();
    let token = data.refresh_token.expose().to_owned();
    authkit
        .refreshes
        .run(&token, async move {
            sessions
                .refresh_data(&data, RefreshOptions::default())
                .await
        })
        .await
}

fn expires_soon(authkit: &Inner, session: &AuthenticatedSession) -> bool {
    let claims = &session.claims;
    let lifetime = claims.exp.saturating_sub(claims.iat);
    let buffer = authkit.config.refresh_buffer.unwrap_or(if lifetime <= 300 {
        Duration::from_secs(30)
    } else {
        Duration::from_secs(60)
    });
    let now = authkit
        .sessions
        .now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    claims.exp - now <= buffer.as_secs() as i64
}

fn authenticated(session: Arc<AuthenticatedSession>, set_cookie: Vec<HeaderValue>) -> Resolved {
    Resolved {
        status: AuthStatus::Authenticated(session),
        set_cookie,
    }
}

fn signed_out(
    authkit: &Inner,
    request: &http::HeaderMap,
    reason: UnauthenticatedReason,
    clear: bool,
) -> Resolved {
    Resolved {
        status: AuthStatus::Unauthenticated(reason),
        set_cookie: if clear {
            cookies::clear_session(&authkit.config.cookie, request)
        } else {
            Vec::new()
        },
    }
}

fn unavailable(retry_after: Option<Duration>) -> Resolved {
    Resolved {
        status: AuthStatus::Unavailable { retry_after },
        set_cookie: Vec::new(),
    }
}
