//! `POST /auth/logout`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};

use super::csrf::is_cross_site;
use crate::cookies;
use crate::pages;
use crate::shared::Shared;
use crate::state::AuthState;

pub(crate) async fn logout(
    State(shared): State<Arc<Shared>>,
    state: Option<Extension<AuthState>>,
    headers: HeaderMap,
) -> Response {
    let config = &shared.settings;
    if is_cross_site(&shared.settings, &headers) {
        return pages::error_page(
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "Sign-out must be requested from this site.",
            "/",
        );
    }
    // The session the layer resolved is the one to end at WorkOS (of several
    // session cookies, a stale copy may be sent first). Without it (signed
    // out, WorkOS unavailable, the routes mounted without the layer), the
    // first of the cookies that names a session.
    let after_logout = config.after_logout_for(&headers);
    let resolved = state.as_ref().and_then(|Extension(state)| state.session());
    let target = match resolved {
        Some(session) => shared
            .sessions
            .client()
            .get_logout_url(session.session_id(), Some(&after_logout)),
        None => cookies::read_session(&headers, &config.cookie.name)
            .iter()
            .find_map(|cookie| {
                shared
                    .sessions
                    .logout_url(Some(cookie), Some(&after_logout))
                    .ok()
            })
            .unwrap_or_else(|| after_logout.clone().into_owned()),
    };
    let mut response = Redirect::to(&target).into_response();
    for value in cookies::clear_session(&config.cookie_for(&headers), &headers) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
