//! `GET /auth/login` and `GET /auth/signup`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::Query;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::pkce::{self, MAX_PENDING, PendingLogin, VERIFIER_COOKIE_PREFIX};
use super::return_to;
use crate::client::{AuthorizationUrl, Provider, ScreenHint};
use crate::config::SameSite;
use crate::cookies::{self, CookieSpec};
use crate::pages;
use crate::seal::{self, SealOptions, UnsealOptions};
use crate::shared::Shared;

/// How long a sign-in may take between the login route and the callback.
pub(crate) const FLOW_TTL: Duration = Duration::from_secs(600);

/// Query of the login and sign-up routes.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    return_to: Option<String>,
    organization_id: Option<String>,
    login_hint: Option<String>,
}

pub(crate) async fn login(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    start(state, headers, query, None)
}

pub(crate) async fn signup(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    start(state, headers, query, Some(ScreenHint::SignUp))
}

fn start(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: LoginQuery,
    screen_hint: Option<ScreenHint>,
) -> Response {
    let config = &shared.settings;
    let cookie = config.cookie_for(&headers);
    let state = pkce::random_token();
    let verifier = pkce::random_token();
    let return_to = return_to::sanitize(query.return_to.as_deref(), &config.after_login).to_owned();
    let url = shared
        .sessions
        .client()
        .authorization_url(&AuthorizationUrl {
            redirect_uri: config.redirect_uri_for(&headers).to_string(),
            provider: Some(Provider::AuthKit),
            organization_id: query.organization_id,
            login_hint: query.login_hint,
            screen_hint,
            state: Some(state.clone()),
            code_challenge: Some(pkce::challenge(&verifier)),
            ..Default::default()
        });
    let url = match url {
        Ok(url) => url,
        Err(e) => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "Cannot start sign-in",
                &e.to_string(),
                "/",
            );
        }
    };
    let now = shared.sessions.now();
    let pending = PendingLogin {
        state: state.clone(),
        verifier,
        return_to,
        created_ms: now
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64,
    };
    let sealed = match seal::seal(
        &pending,
        shared.sessions.passwords(),
        SealOptions::default().with_ttl(FLOW_TTL).with_now(now),
    ) {
        Ok(sealed) => sealed,
        Err(e) => {
            tracing::error!(error = %e, "could not seal the login state");
            return pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot start sign-in",
                "Please try again.",
                "/",
            );
        }
    };
    let path = shared.settings.verifier_cookie_path();
    let mut response = Redirect::to(&url).into_response();
    let set_cookies = response.headers_mut();
    for name in evictions(&shared, &headers, now) {
        set_cookies.append(
            header::SET_COOKIE,
            cookies::clear_cookie(&cookie, &name, &path, SameSite::Lax),
        );
    }
    set_cookies.append(
        header::SET_COOKIE,
        cookies::set_cookie_header(
            &cookie,
            CookieSpec {
                name: &pkce::cookie_name(&state),
                value: &sealed,
                path: &path,
                max_age: Some(FLOW_TTL),
                // Never Strict: the callback is a navigation from AuthKit's
                // site, and a Strict cookie would not come along.
                same_site: SameSite::Lax,
            },
        ),
    );
    set_cookies.insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
    response
}

/// The pending-flow cookies to delete so that, with the new one, at most
/// [`MAX_PENDING`] remain: unreadable or expired ones, then the oldest.
fn evictions(shared: &Shared, headers: &HeaderMap, now: SystemTime) -> Vec<String> {
    let mut pending: Vec<(u64, String)> = Vec::new();
    let mut evict = Vec::new();
    for (name, value) in cookies::request_cookies(headers) {
        if !name.starts_with(VERIFIER_COOKIE_PREFIX) {
            continue;
        }
        match seal::unseal::<PendingLogin>(
            value,
            shared.sessions.passwords(),
            UnsealOptions::default().with_now(now),
        ) {
            Ok(p) => pending.push((p.created_ms, name.to_owned())),
            Err(_) => evict.push(name.to_owned()),
        }
    }
    pending.sort();
    let excess = (pending.len() + 1).saturating_sub(MAX_PENDING);
    evict.extend(pending.into_iter().take(excess).map(|(_, name)| name));
    evict
}
