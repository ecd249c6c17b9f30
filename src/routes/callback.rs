//! The callback: AuthKit sends the browser here with `code` and `state`.

use axum::extract::Query;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::pkce::{self, PendingLogin};
use super::{RouteState, pages, return_to, verifier_cookie_path};
use crate::client::{AuthenticateWithCode, Error as ClientError};
use crate::config::SameSite;
use crate::middleware::cookies;
use crate::seal::{self, UnsealOptions};

/// The callback's query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Why a callback failed; each answers with a clear 4xx (or 502/503) page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// AuthKit redirected back with an OAuth error (`error=access_denied`, …).
    #[error("sign-in was not completed: {error}")]
    Provider {
        /// The `error` parameter.
        error: String,
        /// The `error_description` parameter.
        description: Option<String>,
    },
    /// `code` or `state` is missing.
    #[error("the sign-in response is missing its code or state")]
    MissingParameters,
    /// No pending sign-in matches the state: expired (10 min), started in
    /// another browser, replayed, or forged.
    #[error("this sign-in link has expired or was already used")]
    UnknownState,
    /// WorkOS refused the code (expired, used, wrong verifier). The message
    /// names only WorkOS's error code: WorkOS's own text can quote the code.
    #[error("WorkOS did not accept the sign-in ({})", .0.code().unwrap_or("error"))]
    Exchange(#[source] ClientError),
    /// WorkOS could not be reached.
    #[error("WorkOS is unavailable; please try again shortly")]
    Unavailable(#[source] ClientError),
    /// The session could not be sealed.
    #[error("the session could not be created")]
    Seal,
}

impl CallbackError {
    /// The status of the error page.
    pub fn status(&self) -> StatusCode {
        match self {
            CallbackError::Provider { .. }
            | CallbackError::MissingParameters
            | CallbackError::UnknownState
            | CallbackError::Exchange(_) => StatusCode::BAD_REQUEST,
            CallbackError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            CallbackError::Seal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub(crate) async fn callback(
    axum::extract::State(inner): RouteState,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let config = &inner.config;
    let login = format!("{}/login", config.base_path);
    let flow_cookie = query.state.as_deref().map(pkce::cookie_name);
    let mut response = match complete(&inner, &headers, query).await {
        Ok((sealed, return_to)) => {
            let mut response = Redirect::to(&return_to).into_response();
            for value in cookies::write_session(&config.cookie, &sealed, &headers) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            match &e {
                CallbackError::Unavailable(_) | CallbackError::Seal => {
                    tracing::warn!(error = %e, "sign-in callback failed")
                }
                _ => tracing::info!(error = %e, "sign-in callback refused"),
            }
            let custom = inner
                .hooks
                .on_callback_error
                .as_ref()
                .and_then(|hook| hook(&e));
            custom.unwrap_or_else(|| {
                pages::error_page(
                    e.status(),
                    "Sign-in failed",
                    &sentence(&e.to_string()),
                    &login,
                )
            })
        }
    };
    // The flow is over either way: its cookie goes.
    if let Some(name) = flow_cookie {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::clear_cookie(
                &config.cookie,
                &name,
                &verifier_cookie_path(&inner),
                SameSite::Lax,
            ),
        );
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn complete(
    inner: &crate::authkit::Inner,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<(String, String), CallbackError> {
    if let Some(error) = query.error {
        return Err(CallbackError::Provider {
            error,
            description: query.error_description,
        });
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return Err(CallbackError::MissingParameters);
    };
    let name = pkce::cookie_name(&state);
    let pending: PendingLogin = cookies::request_cookies(headers)
        .find(|(n, _)| *n == name)
        .and_then(|(_, value)| {
            seal::unseal(
                value,
                inner.sessions.passwords(),
                UnsealOptions::default().with_now(inner.sessions.now()),
            )
            .ok()
        })
        .ok_or(CallbackError::UnknownState)?;
    if !bool::from(pending.state.as_bytes().ct_eq(state.as_bytes())) {
        return Err(CallbackError::UnknownState);
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let auth = inner
        .sessions
        .client()
        .authenticate_with_code(&AuthenticateWithCode {
            code: code.into(),
            code_verifier: Some(pending.verifier.into()),
            user_agent,
            ..Default::default()
        })
        .await
        .map_err(|e| {
            if e.is_transient() {
                CallbackError::Unavailable(e)
            } else {
                CallbackError::Exchange(e)
            }
        })?;
    let sealed = auth
        .seal_session(inner.sessions.passwords())
        .map_err(|_| CallbackError::Seal)?;
    if let Some(hook) = &inner.hooks.on_sign_in {
        hook(&auth).await;
    }
    let return_to = return_to::sanitize(Some(&pending.return_to), &inner.config.after_login);
    Ok((sealed, return_to.to_owned()))
}

/// An error message as a sentence for a page: capitalised, with a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
