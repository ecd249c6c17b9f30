//! [`AuthKitService`]: authenticates a request, runs the app, writes the
//! cookie back.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Request, header};
use tower_service::Service;
use tracing::Instrument;
use tracing::field::Empty;

use super::finish::Finish;
use super::future::ResponseFuture;
use super::resolve::{Resolved, resolve, resolve_cached};
use crate::rejection::{AuthRejection, PageJudge, original_uri};
use crate::shared::Shared;
use crate::state::{AuthState, AuthStatus, CredentialSource};

/// The service [`AuthKitLayer`](super::AuthKitLayer) wraps around the app.
///
/// For every request it reads the credential — an `Authorization: Bearer`
/// access token, or else the session cookie —, verifies it (refreshing a
/// cookie's access token when it is about to expire), puts an
/// [`AuthState`] in the request's extensions, calls the app, and appends the
/// rotated or cleared cookie to the response with `Cache-Control: no-store`.
/// Under [`with_protect_by_default`](crate::AuthKitBuilder::with_protect_by_default)
/// it answers a request without a session itself, with an [`AuthRejection`].
///
/// **The `Authorization` header wins over the cookie.** A request that
/// carries a Bearer token is judged by the token alone: the cookie is
/// neither read, refreshed nor cleared, and no `Set-Cookie` is added. The
/// header is an explicit credential of this one request while the cookie is
/// ambient (the browser adds it to everything); falling back to the cookie
/// when the token is bad would hide the client's mistake and could mix two
/// identities, and a client that sends both means the token. A header of
/// another scheme (`Basic …`) is not a Bearer token and is ignored.
///
/// It wraps any [`Service`] of `http::Request<B>` whose response is an
/// `http::Response` of any body (axum's `Router`, a `tower::service_fn`, a
/// tonic or hyper service): the inner body is wrapped in axum's
/// [`Body`], and the inner service's errors are passed on.
///
/// ```
/// # fn run(authkit: authkit_axum::AuthKit) {
/// use std::convert::Infallible;
/// use authkit_axum::AuthState;
/// use tower_layer::Layer;
///
/// // A plain tower service, no axum router: the layer's AuthState is in the
/// // request's extensions.
/// let service = authkit.layer().layer(tower::service_fn(|request: http::Request<String>| async move {
///     let state = request.extensions().get::<AuthState>().cloned();
///     let user = state.as_ref().and_then(|s| s.claims()).map(|c| c.sub.clone());
///     Ok::<_, Infallible>(http::Response::new(user.unwrap_or_default()))
/// }));
/// # let _ = service;
/// # }
/// ```
#[derive(Clone)]
pub struct AuthKitService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> AuthKitService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        AuthKitService { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for AuthKitService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKitService")
            .field("inner", &self.inner)
            .field("authkit", &self.shared)
            .finish()
    }
}

impl<S, B, ResBody> Service<Request<B>> for AuthKitService<S>
where
    S: Service<Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResBody: HttpBody<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        host_from_authority(&mut request);
        // A layer further out (on the router this one is nested in) has
        // authenticated the request already: once is enough.
        if request.extensions().get::<AuthState>().is_some() {
            return ResponseFuture::passthrough(self.inner.call(request));
        }
        // Signing out needs the session's id, not a fresh token: an expired
        // one is not refreshed on the way to the logout route. The path is
        // the one the client asked for, not what `nest` left of it.
        let path = original_uri(request.extensions(), request.uri()).path();
        let refresh = !self.shared.settings.is_logout_route(path);
        let span = authenticate_span();
        // The common case first, without a future: a credential the caches
        // vouch for that needs no refresh.
        let cached = if span.is_disabled() {
            resolve_cached(&self.shared, request.headers(), refresh)
        } else {
            let cached = span.in_scope(|| resolve_cached(&self.shared, request.headers(), refresh));
            if let Ok(resolved) = &cached {
                record(&span, resolved);
            }
            cached
        };
        let known_miss = match cached {
            Ok(resolved) => {
                return match prepare(&self.shared, resolved, &mut request) {
                    // Called now: the service driven to readiness.
                    Ok(finish) => ResponseFuture::inner(self.inner.call(request), finish),
                    Err(answer) => ResponseFuture::ready(*answer),
                };
            }
            Err(known_miss) => known_miss,
        };
        // Called later, from the future: the clone that was driven to
        // readiness goes with it, a fresh one stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        ResponseFuture::boxed(async move {
            // Awaited in place when the span is off: instrumenting would
            // move the (large) future into a wrapper on every request.
            let resolved = if span.is_disabled() {
                resolve(&shared, request.headers(), refresh, known_miss).await
            } else {
                let resolved = resolve(&shared, request.headers(), refresh, known_miss)
                    .instrument(span.clone())
                    .await;
                record(&span, &resolved);
                resolved
            };
            Ok(match prepare(&shared, resolved, &mut request) {
                Ok(finish) => finish.apply(inner.call(request).await?.map(Body::new)),
                Err(answer) => *answer,
            })
        })
    }
}

/// Puts the request's [`AuthState`] in its extensions, for the app (then
/// what the response needs on its way out), or answers it when it needs a
/// session it does not have
/// ([`with_protect_by_default`](crate::AuthKitBuilder::with_protect_by_default)).
fn prepare<B>(
    shared: &Arc<Shared>,
    resolved: Resolved,
    request: &mut Request<B>,
) -> Result<Finish, Box<Response>> {
    let source = resolved.source;
    let state = AuthState::in_context(resolved.status, shared.context.clone()).with_source(source);
    let signed_in = state.is_authenticated();
    let uri = original_uri(request.extensions(), request.uri());
    let pages = PageJudge::new(
        &shared.settings,
        uri,
        request.headers(),
        source == Some(CredentialSource::Bearer),
        shared.hooks.error_page.is_some(),
    );
    let hooks = &shared.hooks;
    let needs_shared =
        !resolved.set_cookie.is_empty() || hooks.error_page.is_some() || hooks.page.is_some();
    let finish = Finish {
        shared: needs_shared.then(|| shared.clone()),
        pages,
        set_cookie: resolved.set_cookie,
        signed_in,
        source,
    };
    if !signed_in && shared.settings.requires_session(uri.path()) {
        let (mut parts, _) = Request::new(()).into_parts();
        parts.method = request.method().clone();
        parts.uri = uri.clone();
        parts.headers = request.headers().clone();
        let response = AuthRejection::from_state(&state, &parts).into_response();
        return Err(Box::new(finish.apply(response)));
    }
    request.extensions_mut().insert(state);
    Ok(finish)
}

/// The span of one request's authentication: its fields are recorded once
/// known (the cookie cache's `cache` by the session manager).
fn authenticate_span() -> tracing::Span {
    // Nothing but a level check when debug is off everywhere.
    if !tracing::level_enabled!(tracing::Level::DEBUG) {
        return tracing::Span::none();
    }
    tracing::debug_span!(
        "authenticate",
        source = Empty,
        outcome = Empty,
        user_id = Empty,
        session_id = Empty,
        cache = Empty,
    )
}

/// What the request's authentication found, into its span.
fn record(span: &tracing::Span, resolved: &Resolved) {
    match resolved.source {
        Some(CredentialSource::Cookie) => span.record("source", "cookie"),
        Some(CredentialSource::Bearer) => span.record("source", "bearer"),
        _ => span,
    };
    let claims = match &resolved.status {
        AuthStatus::Authenticated(session) => Some(&session.claims),
        AuthStatus::Bearer { claims, .. } => Some(claims),
        AuthStatus::Unauthenticated(reason) => {
            span.record("outcome", reason.as_str());
            None
        }
        AuthStatus::Unavailable { .. } => {
            span.record("outcome", "unavailable");
            None
        }
    };
    if let Some(claims) = claims {
        span.record("outcome", "authenticated");
        span.record("user_id", claims.sub.as_str());
        span.record("session_id", claims.sid.as_str());
    }
}

/// Gives an HTTP/2 (or absolute-form) request without a `Host` header one
/// from its URI's authority, as an HTTP/2-to-1.1 proxy would (RFC 9113
/// §8.3.1): the layer, the routes and the app then read the request's host
/// in one place.
fn host_from_authority<B>(request: &mut Request<B>) {
    if request.headers().contains_key(header::HOST) {
        return;
    }
    if let Some(host) = request
        .uri()
        .authority()
        .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    {
        request.headers_mut().insert(header::HOST, host);
    }
}
