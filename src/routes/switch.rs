//! `POST /auth/switch-organization`: refresh the session into another
//! organization, or send the user through AuthKit when that organization
//! demands SSO or MFA.
//!
//! The switch refreshes from the session the layer resolved, not from the
//! request's raw cookie: when the access token had expired, the layer has
//! already spent the cookie's refresh token, and only the session it
//! resolved holds the fresh one.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::csrf::is_cross_site;
use super::return_to;
use crate::client::Error as ClientError;
use crate::cookies;
use crate::pages::{self, PageKind};
use crate::rejection::retry_after_secs;
use crate::session::{Authentication, RefreshError, RefreshOptions, Refreshed};
use crate::shared::Shared;
use crate::state::{AuthState, AuthStatus};

/// The form (or query) of the switch.
#[derive(Debug, Deserialize)]
pub(crate) struct SwitchForm {
    organization_id: String,
    return_to: Option<String>,
}

pub(crate) async fn switch_organization(
    State(shared): State<Arc<Shared>>,
    state: Option<Extension<AuthState>>,
    headers: HeaderMap,
    Form(form): Form<SwitchForm>,
) -> Response {
    let config = &shared.settings;
    let login = config.login_path();
    if is_cross_site(&shared.settings, &headers) {
        return pages::error_page(
            shared.hooks.page.as_ref(),
            PageKind::SwitchRefused,
            StatusCode::FORBIDDEN,
            "Switch refused",
            "Organization switches must be requested from this site.",
            &login,
        );
    }
    let return_to = return_to::sanitize(form.return_to.as_deref(), &config.after_login);
    let options = RefreshOptions {
        organization_id: Some(form.organization_id.clone()),
        ..Default::default()
    };
    let outcome = match state.as_ref().map(|Extension(state)| state.status()) {
        // What the layer resolved, possibly just refreshed: its refresh token
        // is the live one.
        Some(AuthStatus::Authenticated(session)) => {
            shared.refresh(&session.to_data(), options).await
        }
        Some(AuthStatus::Unavailable { retry_after }) => {
            return unavailable(&shared, &login, *retry_after);
        }
        // A Bearer token is not a session to switch.
        Some(AuthStatus::Unauthenticated(_) | AuthStatus::Bearer { .. }) => {
            return Redirect::to(&login).into_response();
        }
        // The routes without the layer: the cookie is all there is.
        None => {
            let candidates = cookies::read_session(&headers, &config.cookie.name);
            match shared
                .sessions
                .authenticate_candidates(&candidates, None)
                .await
            {
                Ok(Authentication::Authenticated(session)) => {
                    shared.refresh(&session.to_data(), options).await
                }
                Ok(Authentication::Unauthenticated(u)) => match u.session {
                    Some(data) => shared.refresh(&data, options).await,
                    None => return Redirect::to(&login).into_response(),
                },
                Err(e) => return unavailable(&shared, &login, e.retry_after()),
            }
        }
    };
    answer(&shared, &headers, &form, return_to, &login, outcome)
}

fn answer(
    shared: &Shared,
    headers: &HeaderMap,
    form: &SwitchForm,
    return_to: &str,
    login: &str,
    outcome: Result<Refreshed, RefreshError>,
) -> Response {
    let config = &shared.settings;
    match outcome {
        Ok(refreshed) => {
            let mut response = Redirect::to(return_to).into_response();
            for value in
                cookies::write_session(&config.cookie_for(headers), &refreshed.sealed, headers)
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(RefreshError::Rejected(e)) if needs_interactive_login(&e) => {
            // The organization needs SSO or MFA: sign in again, scoped to it.
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("organization_id", &form.organization_id)
                .append_pair("return_to", return_to)
                .finish();
            Redirect::to(&format!("{login}?{query}")).into_response()
        }
        Err(RefreshError::NoSessionCookieProvided | RefreshError::InvalidSessionCookie) => {
            Redirect::to(login).into_response()
        }
        // WorkOS answered, and not with a pair: the switch is refused (e.g.
        // not a member), though the session lives on.
        // WorkOS's own text can quote what was sent: the page names only its
        // error code.
        Err(e @ RefreshError::Unexpected(_)) => pages::error_page(
            shared.hooks.page.as_ref(),
            PageKind::SwitchRefused,
            StatusCode::FORBIDDEN,
            "Switch refused",
            &format!(
                "WorkOS did not allow switching to this organization ({}).",
                e.client_error().and_then(|c| c.code()).unwrap_or("refused")
            ),
            login,
        ),
        Err(e) if !e.is_terminal() => {
            let mut response = unavailable(shared, login, e.retry_after());
            // A new pair WorkOS gave that could not be verified yet is kept.
            if let Some(sealed) = e.new_session_cookie() {
                for value in cookies::write_session(&config.cookie_for(headers), sealed, headers) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        // The session is over (its refresh token refused for good): say so
        // and clear it, as the layer would.
        Err(e) => {
            tracing::info!(error = %e, "organization switch refused for good; signing out");
            let mut response = pages::error_page(
                shared.hooks.page.as_ref(),
                PageKind::SwitchRefused,
                StatusCode::FORBIDDEN,
                "Switch refused",
                "Your session has ended. Sign in again to switch organizations.",
                login,
            );
            for value in cookies::clear_session(&config.cookie_for(headers), headers) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
    }
}

fn unavailable(shared: &Shared, login: &str, retry_after: Option<Duration>) -> Response {
    let mut response = pages::error_page(
        shared.hooks.page.as_ref(),
        PageKind::SwitchRefused,
        StatusCode::SERVICE_UNAVAILABLE,
        "Switch failed",
        "WorkOS is unavailable; please retry shortly.",
        login,
    );
    // As every 503 of the crate: when to try again.
    response.headers_mut().insert(
        header::RETRY_AFTER,
        http::HeaderValue::from(retry_after_secs(retry_after)),
    );
    response
}

fn needs_interactive_login(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::SsoRequired(_)
            | ClientError::MfaEnrollment(_)
            | ClientError::MfaChallenge(_)
            | ClientError::EmailVerificationRequired(_)
    ) || matches!(
        e.code(),
        Some("sso_required" | "mfa_enrollment" | "mfa_challenge")
    )
}
