//! The callback: AuthKit sends the browser here with `code` and `state`.

use std::sync::Arc;

use axum::extract::Query;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, header};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::failure::error_response;
use super::organization::{self, PendingSelection};
use super::pkce::{self, PendingLogin};
use super::return_to;
use crate::client::{AuthenticateWithCode, AuthenticationResponse, Error as ClientError};
use crate::config::SameSite;
use crate::cookies;
use crate::hooks::CallbackError;
use crate::seal::{self, UnsealOptions};
use crate::session_cookies;
use crate::shared::Shared;

/// The callback's query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub(crate) async fn callback(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let config = &shared.settings;
    let flow_cookie = query.state.as_deref().map(pkce::cookie_name);
    let mut response = match complete(&shared, &headers, query).await {
        Ok(Exchanged::SignedIn {
            auth,
            return_to,
            app_state,
        }) => {
            match session_cookies::save(&shared, &auth, &headers, app_state, return_to.clone())
                .await
            {
                Ok(cookies) => (cookies, Redirect::to(&return_to)).into_response(),
                Err(_) => error_response(&shared, CallbackError::Seal),
            }
        }
        Ok(Exchanged::ChooseOrganization { pending, error }) => {
            organization::picker_response(&shared, &headers, &pending, &error)
        }
        Err(e) => error_response(&shared, e),
    };
    // The flow is over either way: its cookie goes.
    if let Some(name) = flow_cookie {
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::clear_cookie(
                &config.cookie_for(&headers),
                &name,
                &shared.settings.verifier_cookie_path(),
                SameSite::Lax,
            ),
        );
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How a code exchange ended.
enum Exchanged {
    /// Signed in: the session to save, and where to go.
    SignedIn {
        auth: Box<AuthenticationResponse>,
        return_to: String,
        app_state: Option<String>,
    },
    /// WorkOS asks which organization: the picker, and the sign-in waiting
    /// for the choice.
    ChooseOrganization {
        pending: PendingSelection,
        error: CallbackError,
    },
}

async fn complete(
    shared: &Shared,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<Exchanged, CallbackError> {
    if let Some(error) = query.error {
        // Anyone can write these into a link: never on the page, and only
        // at debug in the logs.
        tracing::debug!(
            error = ?error,
            description = ?query.error_description,
            "sign-in callback carries an OAuth error"
        );
        return Err(CallbackError::Provider {
            error,
            description: query.error_description,
        });
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return Err(CallbackError::MissingParameters);
    };
    let name = pkce::cookie_name(&state);
    let Some((_, value)) = cookies::request_cookies(headers).find(|(n, _)| *n == name) else {
        let redirect_host = shared
            .settings
            .redirect_uri_for(headers)
            .host_str()
            .unwrap_or_default()
            .to_owned();
        tracing::info!(
            redirect_uri_host = %redirect_host,
            request_host = ?headers.get(header::HOST),
            "no sign-in in progress in this browser for this host; the redirect URI's host is {redirect_host} \
             (a sign-in started on another host, e.g. 127.0.0.1 vs localhost, keeps its cookie there), \
             or the sign-in expired or was finished already"
        );
        return Err(CallbackError::NoSignInInProgress { redirect_host });
    };
    let pending: PendingLogin = seal::unseal(
        value,
        shared.sessions.passwords(),
        UnsealOptions::default().with_now(shared.sessions.now()),
    )
    .map_err(|_| CallbackError::UnknownState)?;
    if !bool::from(pending.state.as_bytes().ct_eq(state.as_bytes())) {
        return Err(CallbackError::UnknownState);
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let exchanged = shared
        .sessions
        .client()
        .authenticate_with_code(&AuthenticateWithCode {
            code: code.into(),
            code_verifier: Some(pending.verifier.into()),
            user_agent,
            ..Default::default()
        })
        .await;
    let return_to =
        return_to::sanitize(Some(&pending.return_to), &shared.settings.after_login).to_owned();
    match exchanged {
        Ok(auth) => Ok(Exchanged::SignedIn {
            auth: Box::new(auth),
            return_to,
            app_state: pending.app_state,
        }),
        Err(ClientError::OrganizationSelectionRequired(choice)) => {
            let choice = *choice;
            Ok(Exchanged::ChooseOrganization {
                pending: PendingSelection {
                    token: choice.pending_authentication_token.clone(),
                    organization_ids: choice.organizations.iter().map(|o| o.id.clone()).collect(),
                    email: choice.user.as_ref().map(|u| u.email.clone()),
                    return_to,
                    app_state: pending.app_state,
                },
                error: CallbackError::OrganizationSelectionRequired {
                    organizations: choice.organizations,
                    email: choice.user.map(|u| u.email),
                },
            })
        }
        Err(e) if e.is_transient() => Err(CallbackError::Unavailable(e)),
        Err(e) => Err(CallbackError::Exchange(e)),
    }
}
