//! A finished sign-in into the session cookies, outside the callback too:
//! what [`AuthKit::save_session`](crate::AuthKit::save_session) (the SDKs'
//! `saveSession`), the callback and the organization picker share — the
//! seal, the sign-in hook, and the cookies with the request's attributes —
//! and [`AuthKit::clear_session`](crate::AuthKit::clear_session).

use std::convert::Infallible;
use std::fmt;

use axum::response::{IntoResponse, IntoResponseParts, Response, ResponseParts};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::client::AuthenticationResponse;
use crate::cookies;
use crate::hooks::SignIn;
use crate::seal::SealError;
use crate::shared::Shared;
use crate::telemetry;

/// The `Set-Cookie` headers of a session (or of its deletion), for a
/// response: an [`IntoResponseParts`] that appends them and sets
/// `Cache-Control: no-store`, so a handler answers
/// `(cookies, Redirect::to("/"))`. The layer leaves a response that sets
/// the session cookie alone. Its `Debug` shows how many headers it holds,
/// never their values.
#[must_use = "the cookies do nothing until they are part of a response"]
pub struct SessionCookies {
    values: Vec<HeaderValue>,
}

impl SessionCookies {
    /// How many `Set-Cookie` headers it holds (a large session is written
    /// in chunks, and stale cookies of the other layout are deleted).
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether it holds none (never, for a saved session).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Debug for SessionCookies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCookies")
            .field("set_cookie_headers", &self.values.len())
            .finish()
    }
}

impl IntoResponseParts for SessionCookies {
    type Error = Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Infallible> {
        let headers = res.headers_mut();
        for value in self.values {
            headers.append(header::SET_COOKIE, value);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(res)
    }
}

/// Why [`AuthKit::save_session`](crate::AuthKit::save_session) could not
/// write the session. As a response: 500 with a fixed text (no detail of
/// the session).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveSessionError {
    /// The session could not be sealed with the cookie password.
    #[error("the session could not be sealed")]
    Seal(#[source] SealError),
}

impl SaveSessionError {
    /// The status of the answer: 500.
    pub fn status(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The answer's body.
    pub fn body_text(&self) -> String {
        "The session could not be created; please try signing in again.".to_owned()
    }
}

impl IntoResponse for SaveSessionError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "could not save the session");
        (self.status(), self.body_text()).into_response()
    }
}

/// Seals `auth`, runs the app's sign-in hook, and gives the cookies that
/// store the session with the request's attributes (its origin's `Secure`,
/// chunks when large, stale cookies deleted).
pub(crate) async fn save(
    shared: &Shared,
    auth: &AuthenticationResponse,
    request: &HeaderMap,
    state: Option<String>,
    return_to: String,
) -> Result<SessionCookies, SaveSessionError> {
    let sealed = auth
        .seal_session(shared.sessions.passwords())
        .map_err(SaveSessionError::Seal)?;
    if let Some(hook) = &shared.hooks.on_sign_in {
        hook(&SignIn::new(auth.clone(), state, return_to)).await;
    }
    let values = cookies::write_session(&shared.settings.cookie_for(request), &sealed, request);
    tracing::info!(
        user_id = %auth.user.id,
        organization_id = auth.organization_id.as_deref(),
        authentication_method = auth.authentication_method.as_ref().map(|m| m.as_str()),
        "user signed in"
    );
    telemetry::sign_in();
    Ok(SessionCookies { values })
}

/// The cookies that delete the session (chunks and host-only leftovers too).
pub(crate) fn clear(shared: &Shared, request: &HeaderMap) -> SessionCookies {
    SessionCookies {
        values: cookies::clear_session(&shared.settings.cookie_for(request), request),
    }
}
