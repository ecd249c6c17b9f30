//! [`AuthKitService`]: authenticates a request, runs the app, writes the
//! cookie back.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Request, header};
use tower_service::Service;

use super::future::ResponseFuture;
use super::resolve::resolve;
use crate::cookies;
use crate::rejection::{AuthRejection, PageJudge, original_uri};
use crate::shared::Shared;
use crate::state::AuthState;

/// The service [`AuthKitLayer`](super::AuthKitLayer) wraps around the app.
///
/// For every request it reads the session cookie, verifies it (refreshing
/// the access token when it is about to expire), puts an
/// [`AuthState`] in the request's extensions, calls the app, and appends the
/// rotated or cleared cookie to the response with `Cache-Control: no-store`.
/// Under [`with_protect_by_default`](crate::AuthKitBuilder::with_protect_by_default)
/// it answers a request without a session itself, with an [`AuthRejection`].
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
        let shared = self.shared.clone();
        ResponseFuture::new(async move {
            let resolved = resolve(&shared, request.headers()).await;
            let state = AuthState::new(resolved.status, shared.settings.clone());
            let signed_in = state.is_authenticated();
            // The URI the client asked for, not what `nest` left of it.
            let uri = original_uri(request.extensions(), request.uri());
            let pages = PageJudge::new(&shared.settings, uri, request.headers());
            let response = if !signed_in && shared.settings.requires_session(uri.path()) {
                let (mut parts, _) = Request::new(()).into_parts();
                parts.method = request.method().clone();
                parts.uri = uri.clone();
                parts.headers = request.headers().clone();
                AuthRejection::from_state(&state, &parts).into_response()
            } else {
                request.extensions_mut().insert(state);
                inner.call(request).await?
            };
            // A 403 or 503 of the crate's, as a page for a browser navigation.
            let mut response = pages.answer(response, shared.hooks.error_page.as_ref());
            finish(&shared, &mut response, resolved.set_cookie, signed_in);
            Ok(response)
        })
    }
}

/// Appends the session cookie and the caching headers.
fn finish(shared: &Shared, response: &mut Response, set_cookie: Vec<HeaderValue>, signed_in: bool) {
    let name = &shared.settings.cookie.name;
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
        let varies = headers
            .get_all(header::VARY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().eq_ignore_ascii_case("cookie") || v.trim() == "*");
        if !varies {
            headers.append(header::VARY, HeaderValue::from_static("Cookie"));
        }
    }
}
