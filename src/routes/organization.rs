//! The hosted callback's organization picker: when the code exchange answers
//! `organization_selection_required`, the callback shows the organizations
//! ([`picker_response`]) and keeps the sign-in waiting for the choice sealed
//! in a short-lived cookie; `POST <base>/organization-selection` takes the
//! choice, calls `authenticate_with_organization_selection` and finishes the
//! sign-in as the callback does.

use std::sync::Arc;

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use super::csrf::is_cross_site;
use super::failure::{error_response, sentence};
use super::login::FLOW_TTL;
use crate::client::AuthenticateWithOrganizationSelection;
use crate::config::SameSite;
use crate::cookies::{self, CookieSpec};
use crate::hooks::CallbackError;
use crate::pages::{self, PageKind};
use crate::seal::{self, SealOptions, UnsealOptions};
use crate::secret::Secret;
use crate::session_cookies;
use crate::shared::Shared;

/// The cookie that holds the sign-in waiting for an organization choice.
pub(crate) const SELECTION_COOKIE: &str = "wos-auth-organization-selection";

/// What the selection cookie holds, sealed (10-minute ttl, as WorkOS's
/// pending tokens).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PendingSelection {
    /// WorkOS's pending authentication token (redacted in `Debug`).
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub(crate) token: Secret,
    /// The organizations WorkOS offered: the only ones the form may name.
    pub(crate) organization_ids: Vec<String>,
    /// The user's email address, for the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) email: Option<String>,
    /// Where the browser goes once signed in (sanitized already).
    pub(crate) return_to: String,
    /// The app's own `state` of the login, for the sign-in hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) app_state: Option<String>,
}

/// The path of the picker's form.
fn action(shared: &Shared) -> String {
    format!("{}/organization-selection", shared.settings.base_path)
}

/// The callback's answer to `organization_selection_required`: the app's
/// page from its `on_callback_error` hook, or the built-in picker; either
/// way with the sealed selection cookie.
pub(super) fn picker_response(
    shared: &Shared,
    headers: &HeaderMap,
    pending: &PendingSelection,
    error: &CallbackError,
) -> Response {
    let sealed = match seal::seal(
        pending,
        shared.sessions.passwords(),
        SealOptions::default()
            .with_ttl(FLOW_TTL)
            .with_now(shared.sessions.now()),
    ) {
        Ok(sealed) => sealed,
        Err(e) => {
            tracing::error!(error = %e, "could not seal the pending organization selection");
            return error_response(shared, CallbackError::Seal);
        }
    };
    let custom = shared
        .hooks
        .on_callback_error
        .as_ref()
        .and_then(|hook| hook(error));
    let mut response = custom.unwrap_or_else(|| {
        let choices: Vec<(&str, &str)> = match error {
            CallbackError::OrganizationSelectionRequired { organizations, .. } => organizations
                .iter()
                .map(|o| (o.id.as_str(), o.name.as_str()))
                .collect(),
            _ => Vec::new(),
        };
        pages::organization_picker(
            shared.hooks.page.as_ref(),
            &action(shared),
            pending.email.as_deref(),
            &choices,
        )
    });
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set_cookie_header(
            &shared.settings.cookie_for(headers),
            CookieSpec {
                name: SELECTION_COOKIE,
                value: &sealed,
                path: &shared.settings.base_path,
                max_age: Some(FLOW_TTL),
                same_site: SameSite::Lax,
            },
        ),
    );
    response
}

/// The picker's form.
#[derive(Debug, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    organization_id: String,
}

/// `POST <base>/organization-selection`: the organization chosen on the
/// picker. Same-origin only; the choice must be one WorkOS offered.
pub(crate) async fn choose(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Form(choice): Form<Choice>,
) -> Response {
    let refused = |status: StatusCode, detail: &str| {
        pages::error_page(
            shared.hooks.page.as_ref(),
            PageKind::CallbackError,
            status,
            "Sign-in failed",
            detail,
            &shared.settings.login_path(),
        )
    };
    if is_cross_site(&shared.settings, &headers) {
        tracing::info!("cross-site organization selection refused");
        return refused(
            StatusCode::FORBIDDEN,
            "The organization choice did not come from this site.",
        );
    }
    let pending = cookies::request_cookies(&headers)
        .filter(|(n, _)| *n == SELECTION_COOKIE)
        .find_map(|(_, value)| {
            seal::unseal::<PendingSelection>(
                value,
                shared.sessions.passwords(),
                UnsealOptions::default().with_now(shared.sessions.now()),
            )
            .ok()
        });
    let Some(pending) = pending else {
        return refused(
            StatusCode::BAD_REQUEST,
            "No sign-in is waiting for an organization choice in this browser (they expire after 10 minutes).",
        );
    };
    if !pending.organization_ids.contains(&choice.organization_id) {
        return refused(
            StatusCode::BAD_REQUEST,
            "That organization was not one of the choices.",
        );
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let answer = shared
        .sessions
        .client()
        .authenticate_with_organization_selection(&AuthenticateWithOrganizationSelection {
            organization_id: choice.organization_id,
            pending_authentication_token: pending.token,
            user_agent,
            ..Default::default()
        })
        .await;
    let cookie = shared.settings.cookie_for(&headers);
    let clear = || {
        cookies::clear_cookie(
            &cookie,
            SELECTION_COOKIE,
            &shared.settings.base_path,
            SameSite::Lax,
        )
    };
    let mut response = match answer {
        Ok(auth) => {
            match session_cookies::save(
                &shared,
                &auth,
                &headers,
                pending.app_state,
                pending.return_to.clone(),
            )
            .await
            {
                Ok(cookies) => (cookies, Redirect::to(&pending.return_to)).into_response(),
                Err(_) => error_response(&shared, CallbackError::Seal),
            }
        }
        // The pending token is still good: keep the cookie for a retry.
        Err(e) if e.is_transient() => {
            let mut page = error_response(&shared, CallbackError::Unavailable(e));
            page.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return page;
        }
        Err(e) => {
            let e = CallbackError::Exchange(e);
            tracing::info!(error = %e, "organization selection refused");
            refused(StatusCode::BAD_REQUEST, &sentence(&e.to_string()))
        }
    };
    response.headers_mut().append(header::SET_COOKIE, clear());
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
