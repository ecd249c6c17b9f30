//! `POST /auth/logout`.

use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, header};

use super::{RouteState, is_cross_site, pages};
use crate::middleware::cookies;

pub(crate) async fn logout(
    axum::extract::State(inner): RouteState,
    headers: HeaderMap,
) -> Response {
    let config = &inner.config;
    if is_cross_site(&inner, &headers) {
        return pages::error_page(
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "Sign-out must be requested from this site.",
            "/",
        );
    }
    let cookie = cookies::read_session(&headers, &config.cookie.name);
    let target = match inner
        .sessions
        .logout_url(cookie.as_deref(), Some(&config.after_logout))
    {
        Ok(workos_logout) => workos_logout,
        Err(_) => config.after_logout.clone(),
    };
    let mut response = Redirect::to(&target).into_response();
    for value in cookies::clear_session(&config.cookie, &headers) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
