//! `GET /auth/login` and `GET /auth/signup`: the sign-in options of their
//! query ([`options`](super::options)) into AuthKit's authorization URL, the
//! flow's state, verifier and the app's own `state` into a sealed cookie.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};

use super::options;
use super::pkce::{self, MAX_PENDING, PendingLogin, VERIFIER_COOKIE_PREFIX};
use super::return_to;
use crate::client::AuthorizationUrl;
use crate::config::SameSite;
use crate::cookies::{self, CookieSpec};
use crate::pages::{self, PageKind};
use crate::seal::{self, SealOptions, UnsealOptions};
use crate::shared::Shared;

/// How long a sign-in may take between the login route and the callback.
pub(crate) const FLOW_TTL: Duration = Duration::from_secs(600);

/// The longest flow cookie (name and value) browsers keep whole, with room
/// for its attributes within their 4096 bytes.
const MAX_FLOW_COOKIE: usize = 3900;

pub(crate) async fn login(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    start(state, headers, query, false)
}

pub(crate) async fn signup(
    state: State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    start(state, headers, query, true)
}

fn refused(shared: &Shared, detail: &str) -> Response {
    pages::error_page(
        shared.hooks.page.as_ref(),
        PageKind::SignInRefused,
        StatusCode::BAD_REQUEST,
        "Cannot start sign-in",
        &format!("{}.", capitalised(detail)),
        "/",
    )
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn start(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Option<String>,
    sign_up: bool,
) -> Response {
    let config = &shared.settings;
    let cookie = config.cookie_for(&headers);
    let options = match options::parse(query.as_deref(), sign_up) {
        Ok(options) => options,
        Err(e) => {
            tracing::debug!(error = %e, "sign-in options refused");
            return refused(&shared, &e.to_string());
        }
    };
    let state = pkce::random_token();
    let verifier = pkce::random_token();
    let return_to =
        return_to::sanitize(options.return_to.as_deref(), &config.after_login).to_owned();
    // The crate's random state goes to WorkOS; the app's own stays sealed
    // in the flow cookie.
    let url = shared
        .sessions
        .client()
        .authorization_url(&AuthorizationUrl {
            redirect_uri: config.redirect_uri_for(&headers).to_string(),
            provider: options.provider,
            connection_id: options.connection_id,
            organization_id: options.organization_id,
            login_hint: options.login_hint,
            domain_hint: options.domain_hint,
            screen_hint: options.screen_hint,
            prompt: options.prompt,
            max_age: options.max_age,
            invitation_token: options.invitation_token,
            state: Some(state.clone()),
            code_challenge: Some(pkce::challenge(&verifier)),
            ..Default::default()
        });
    let url = match url {
        Ok(url) => url,
        Err(e) => return refused(&shared, &e.to_string()),
    };
    let now = shared.sessions.now();
    let pending = PendingLogin {
        state: state.clone(),
        verifier,
        return_to,
        app_state: options.app_state,
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
                shared.hooks.page.as_ref(),
                PageKind::SignInRefused,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot start sign-in",
                "Please try again.",
                "/",
            );
        }
    };
    let name = pkce::cookie_name(&state);
    if name.len() + sealed.len() > MAX_FLOW_COOKIE {
        // A browser would drop the cookie, and the callback find no sign-in.
        return refused(
            &shared,
            "the return_to and state given to sign-in are too long together",
        );
    }
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
                name: &name,
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
