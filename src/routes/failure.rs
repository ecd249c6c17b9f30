//! The page of a failed sign-in step (the callback's, the organization
//! picker's): the app's `on_callback_error` page, or the built-in one.

use axum::response::Response;
use http::{HeaderValue, header};

use crate::hooks::CallbackError;
use crate::pages::{self, PageKind};
use crate::rejection::retry_after_secs;
use crate::shared::Shared;

/// The page of a failed callback: the app's, or the built-in one.
pub(super) fn error_response(shared: &Shared, e: CallbackError) -> Response {
    match &e {
        CallbackError::Unavailable(_) | CallbackError::Seal => {
            tracing::warn!(error = %e, "sign-in callback failed")
        }
        // Logged where it was found, with the hosts.
        CallbackError::NoSignInInProgress { .. } => {}
        _ => tracing::info!(error = %e, "sign-in callback refused"),
    }
    let custom = shared
        .hooks
        .on_callback_error
        .as_ref()
        .and_then(|hook| hook(&e));
    custom.unwrap_or_else(|| {
        let mut page = pages::error_page(
            shared.hooks.page.as_ref(),
            PageKind::CallbackError,
            e.status(),
            "Sign-in failed",
            &sentence(&e.to_string()),
            &shared.settings.login_path(),
        );
        if e.status() == http::StatusCode::SERVICE_UNAVAILABLE {
            let asked = match &e {
                CallbackError::Unavailable(client) => client.retry_after(),
                _ => None,
            };
            page.headers_mut()
                .entry(header::RETRY_AFTER)
                .or_insert(HeaderValue::from(retry_after_secs(asked)));
        }
        page
    })
}

/// An error message as a sentence for a page: capitalised, with a full stop.
pub(super) fn sentence(message: &str) -> String {
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
