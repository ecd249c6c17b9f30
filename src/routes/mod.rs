//! Ready-made auth routes: `GET /auth/login`, `GET /auth/signup`, the
//! callback (at the redirect URI's path), `POST /auth/logout` and
//! `POST /auth/switch-organization`.
//!
//! Login and sign-up create a random `state` and a PKCE verifier, keep them
//! sealed in a short-lived cookie named per flow (`wos-auth-verifier-<hash>`,
//! 10 minutes, at most 5 pending per browser), and redirect to AuthKit. The
//! callback checks the state against that cookie in constant time, exchanges
//! the code with the verifier, sets the session cookie and redirects to the
//! saved `return_to` — a same-origin path, or `/`.

mod callback;
mod login;
mod logout;
pub(crate) mod pages;
pub(crate) mod pkce;
pub(crate) mod return_to;
mod switch;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use http::HeaderMap;

pub use callback::CallbackError;

use crate::authkit::{AuthKit, Inner};

impl AuthKit {
    /// The auth routes, to `merge` into the app's router (they need the
    /// layer too, so mount them inside it).
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let config = &self.inner.config;
        let base = &config.base_path;
        let mut logout = post(logout::logout);
        if config.logout_via_get {
            logout = logout.get(logout::logout);
        }
        Router::new()
            .route(&format!("{base}/login"), get(login::login))
            .route(&format!("{base}/signup"), get(login::signup))
            .route(&config.callback_path, get(callback::callback))
            .route(&format!("{base}/logout"), logout)
            .route(
                &format!("{base}/switch-organization"),
                post(switch::switch_organization),
            )
            .with_state(self.inner.clone())
    }
}

pub(crate) type RouteState = axum::extract::State<Arc<Inner>>;

/// The path both the login route and the callback see, for the verifier cookies.
pub(crate) fn verifier_cookie_path(inner: &Inner) -> String {
    let login = format!("{}/login", inner.config.base_path);
    let callback = &inner.config.callback_path;
    let mut common = String::from("/");
    for (a, b) in login.split('/').zip(callback.split('/')).skip(1) {
        if a != b {
            break;
        }
        // Only whole segments that both paths continue past.
        if login.len() > common.len() + a.len() && callback.len() > common.len() + a.len() {
            common.push_str(a);
            common.push('/');
        }
    }
    if common.len() > 1 {
        common.pop();
    }
    common
}

/// Refuses cross-site state-changing requests (logout, organization switch):
/// `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither the request's
/// own host nor the redirect URI's origin.
pub(crate) fn is_cross_site(inner: &Inner, headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    let Some(origin) = header("origin") else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return true; // `Origin: null` and garbage.
    };
    let redirect = &inner.config.redirect_uri;
    let same_as_redirect = origin.scheme() == redirect.scheme()
        && origin.host_str() == redirect.host_str()
        && origin.port_or_known_default() == redirect.port_or_known_default();
    let host = header("host");
    // The Host header carries no scheme: the app's scheme is the redirect URI's.
    let same_as_host = origin.scheme() == redirect.scheme()
        && host.is_some_and(|h| {
            let authority = match origin.port() {
                Some(port) => format!("{}:{port}", origin.host_str().unwrap_or_default()),
                None => origin.host_str().unwrap_or_default().to_owned(),
            };
            h.eq_ignore_ascii_case(&authority)
        });
    !(same_as_redirect || same_as_host)
}
