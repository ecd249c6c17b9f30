//! Ready-made auth routes: `GET /auth/login`, `GET /auth/signup`, the
//! callback (at the redirect URI's path), `POST /auth/logout` (a `GET` of it
//! answers 405 with a sign-out button, unless sign-out by `GET` is on),
//! `POST /auth/switch-organization`, `GET /auth/access-token`, and
//! `POST /auth/organization-selection` (the callback's organization picker
//! posts there when WorkOS asks which organization to sign in to).
//!
//! Login and sign-up create a random `state` and a PKCE verifier, keep them
//! sealed in a short-lived cookie named per flow (`wos-auth-verifier-<hash>`,
//! 10 minutes, at most 5 pending per browser), and redirect to AuthKit. The
//! callback checks the state against that cookie in constant time, exchanges
//! the code with the verifier, sets the session cookie and redirects to the
//! saved `return_to` — a same-origin path, or `/`.

mod access_token;
mod callback;
mod csrf;
mod failure;
mod login;
mod logout;
mod options;
mod organization;
mod pkce;
mod return_to;
mod switch;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::shared::Shared;

pub(crate) use csrf::is_cross_site;

/// The auth routes, with `shared` as their state.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(shared: Arc<Shared>) -> Router<S> {
    let config = &shared.settings;
    let base = &config.base_path;
    let mut logout = post(logout::logout);
    logout = if config.logout_via_get {
        logout.get(logout::logout)
    } else {
        logout.get(logout::confirm)
    };
    let router = Router::new()
        .route(&format!("{base}/login"), get(login::login))
        .route(&format!("{base}/signup"), get(login::signup))
        .route(&config.callback_path, get(callback::callback))
        .route(&format!("{base}/logout"), logout)
        .route(
            &format!("{base}/switch-organization"),
            post(switch::switch_organization),
        )
        .route(
            &format!("{base}/organization-selection"),
            post(organization::choose),
        );
    let router = if config.access_token_route {
        router.route(
            &format!("{base}/access-token"),
            get(access_token::access_token),
        )
    } else {
        router
    };
    router.with_state(shared.clone())
}
