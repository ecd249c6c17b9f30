//! `POST /auth/logout`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};

use super::csrf::is_cross_site;
use super::pages;
use crate::cookies;
use crate::shared::Shared;

pub(crate) async fn logout(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let config = &shared.settings;
    if is_cross_site(&shared.settings, &headers) {
        return pages::error_page(
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "Sign-out must be requested from this site.",
            "/",
        );
    }
    // The first of the session cookies (host-only, `Domain=`, chunked) that
    // names a session ends it at WorkOS too.
    let target = cookies::read_session(&headers, &config.cookie.name)
        .iter()
        .find_map(|cookie| {
            shared
                .sessions
                .logout_url(Some(cookie), Some(&config.after_logout))
                .ok()
        })
        .unwrap_or_else(|| config.after_logout.clone());
    let mut response = Redirect::to(&target).into_response();
    for value in cookies::clear_session(&config.cookie, &headers) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
