//! `GET <base>/access-token`: the signed-in session's access token for the
//! browser's own JavaScript, as authkit-nextjs's `useAccessToken` has it.
//!
//! The layer has already done the work: it verified the cookie and, when
//! the token was expired or within the refresh buffer of expiring,
//! refreshed it (the handler sees the new token, and the layer writes the
//! new cookie on this response). The route only answers, as JSON, never
//! cached:
//!
//! - signed in: `200 {"accessToken": "…", "expiresAt": <the token's exp,
//!   seconds since the Unix epoch>}`;
//! - signed out: `401 {"error": "unauthorized", …}`;
//! - WorkOS unavailable and the token expired: the 503 rejection;
//! - a request that sent a Bearer token (it has its token): 401;
//! - a cross-site request (`Sec-Fetch-Site: cross-site`, a foreign
//!   `Origin`): `403 {"error": "forbidden", …}` — another site's scripts
//!   never get the token.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

use super::csrf::is_cross_site;
use crate::rejection::AuthRejection;
use crate::session::UnauthenticatedReason;
use crate::shared::Shared;
use crate::state::{AuthState, AuthStatus};

pub(crate) async fn access_token(
    State(shared): State<Arc<Shared>>,
    state: Option<Extension<AuthState>>,
    headers: HeaderMap,
) -> Response {
    let mut response = answer(&shared, state, &headers);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn answer(shared: &Shared, state: Option<Extension<AuthState>>, headers: &HeaderMap) -> Response {
    if is_cross_site(&shared.settings, headers) {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({
                "error": "forbidden",
                "message": "The access token is only given to this site's own pages.",
            })),
        )
            .into_response();
    }
    let Some(Extension(state)) = state else {
        return AuthRejection::missing_layer().into_response();
    };
    match state.status() {
        AuthStatus::Authenticated(session) => Json(json!({
            "accessToken": session.access_token.expose(),
            "expiresAt": session.claims.exp,
        }))
        .into_response(),
        AuthStatus::Unavailable { retry_after } => {
            AuthRejection::unavailable(*retry_after).into_response()
        }
        AuthStatus::Unauthenticated(reason) => AuthRejection::unauthorized(*reason).into_response(),
        // A Bearer request already holds its token; the route serves the
        // session cookie's to the site's own scripts.
        _ => AuthRejection::unauthorized(UnauthenticatedReason::NoSessionCookieProvided)
            .into_response(),
    }
}
