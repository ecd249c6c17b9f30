//! What an app plugs into sign-in: a hook run after every successful sign-in,
//! and one that renders the callback's error page, with the
//! [`CallbackError`] it receives; and one that renders the 403 and 503
//! answers, with the [`ErrorPageContext`] it receives.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use futures_util::future::BoxFuture;
use http::{StatusCode, Uri};

use crate::client::{AuthenticationResponse, Error as ClientError};

/// Called after every successful sign-in, before the redirect (e.g. to
/// upsert the user in your database).
pub(crate) type SignInHook =
    Arc<dyn Fn(&AuthenticationResponse) -> BoxFuture<'static, ()> + Send + Sync>;

/// Renders the callback's error page instead of the built-in one.
pub(crate) type CallbackErrorHook = Arc<dyn Fn(&CallbackError) -> Option<Response> + Send + Sync>;

/// Renders a 403 or 503 answer instead of the built-in page or JSON.
pub(crate) type ErrorPageHook = Arc<dyn Fn(&ErrorPageContext) -> Option<Response> + Send + Sync>;

/// The app's hooks, as the builder collected them.
#[derive(Default, Clone)]
pub(crate) struct Hooks {
    pub(crate) on_sign_in: Option<SignInHook>,
    pub(crate) on_callback_error: Option<CallbackErrorHook>,
    pub(crate) error_page: Option<ErrorPageHook>,
}

/// Why a callback failed; each answers with a clear 4xx (or 502/503) page.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// AuthKit redirected back with an OAuth error (`error=access_denied`, …).
    ///
    /// Anyone can put any `error` and `error_description` in a link to the
    /// callback, so the message is a fixed sentence per known OAuth error code
    /// ([`provider_message`](Self::provider_message)), never the query's text;
    /// the raw values are here for the app's hook, and logged at debug only.
    #[error("{}", provider_message(error))]
    Provider {
        /// The `error` parameter, as received (untrusted).
        error: String,
        /// The `error_description` parameter, as received (untrusted).
        description: Option<String>,
    },
    /// `code` or `state` is missing.
    #[error("the sign-in response is missing its code or state")]
    MissingParameters,
    /// The browser carries no pending sign-in for this `state`: it expired
    /// (10 min), was finished already, or started in another browser — or on
    /// another host than the redirect URI's (`127.0.0.1` vs `localhost`),
    /// whose cookies this host never sees.
    #[error(
        "no sign-in is in progress in this browser for this host (they expire after 10 minutes); \
         sign-in must start on the redirect URI's host, {redirect_host}"
    )]
    NoSignInInProgress {
        /// The host of the redirect URI (configuration, not a secret).
        redirect_host: String,
    },
    /// A pending sign-in cookie is there but does not vouch for this
    /// `state`: it does not unseal (tampered, another cookie password) or
    /// names another state (forged).
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
            | CallbackError::NoSignInInProgress { .. }
            | CallbackError::UnknownState
            | CallbackError::Exchange(_) => StatusCode::BAD_REQUEST,
            CallbackError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            CallbackError::Seal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The fixed sentence shown for an OAuth `error` code, whatever the code
    /// (unknown codes get a generic sentence; the code itself is never shown).
    pub fn provider_message(error: &str) -> &'static str {
        provider_message(error)
    }
}

fn provider_message(error: &str) -> &'static str {
    match error {
        "access_denied" => "sign-in was cancelled or access was denied",
        "login_required"
        | "interaction_required"
        | "consent_required"
        | "account_selection_required" => "sign-in needs you to sign in again",
        "invalid_request"
        | "unauthorized_client"
        | "unsupported_response_type"
        | "invalid_scope"
        | "invalid_request_uri"
        | "invalid_request_object" => {
            "the sign-in request was refused: the app's sign-in settings need attention"
        }
        "server_error" | "temporarily_unavailable" => {
            "the sign-in service had a problem; please try again shortly"
        }
        _ => "sign-in was not completed",
    }
}

/// Which refusal an [`ErrorPageContext`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorPageKind {
    /// 403: signed in, but not allowed ([`Forbidden`](crate::Forbidden)).
    Forbidden,
    /// 503: WorkOS is unavailable, the session was kept, retry later
    /// ([`AuthRejectionReason::Unavailable`](crate::AuthRejectionReason::Unavailable)).
    Unavailable,
}

/// What the hook of [`with_error_page`](crate::AuthKitBuilder::with_error_page)
/// receives: a 403 or 503 about to be answered, and whether the request is
/// a browser navigation (which gets an HTML page by default) or an API call
/// (JSON by default).
#[derive(Debug, Clone)]
pub struct ErrorPageContext {
    pub(crate) kind: ErrorPageKind,
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) navigation: bool,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) uri: Uri,
}

impl ErrorPageContext {
    /// Which refusal this is.
    pub fn kind(&self) -> ErrorPageKind {
        self.kind
    }

    /// 403 or 503.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The built-in explanation (`Forbidden: missing permission widgets:write`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether the request is a browser navigation, judged as the choice
    /// between a redirect to login and a 401 is (see
    /// [`RejectionMode`](crate::RejectionMode)).
    pub fn is_navigation(&self) -> bool {
        self.navigation
    }

    /// For a 503, how long to wait before retrying (the answer's
    /// `Retry-After`, which is kept on your page).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The URI the client asked for (before any `Router::nest`), e.g. for a
    /// "try again" link.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_error_shows_a_fixed_sentence_never_the_querys_text() {
        let spoof = "Your account is suspended: call +1-555-0100";
        for (code, expected) in [
            (
                "access_denied",
                "sign-in was cancelled or access was denied",
            ),
            ("login_required", "sign-in needs you to sign in again"),
            (
                "server_error",
                "the sign-in service had a problem; please try again shortly",
            ),
            (spoof, "sign-in was not completed"),
        ] {
            let e = CallbackError::Provider {
                error: code.into(),
                description: Some(spoof.into()),
            };
            assert_eq!(e.to_string(), expected);
            assert!(!format!("{e}").contains("555"));
        }
    }
}
