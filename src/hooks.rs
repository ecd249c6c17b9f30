//! What an app plugs into sign-in: a hook run after every successful sign-in,
//! and one that renders the callback's error page, with the
//! [`CallbackError`] it receives.

use std::sync::Arc;

use axum::response::Response;
use futures_util::future::BoxFuture;
use http::StatusCode;

use crate::client::{AuthenticationResponse, Error as ClientError};

/// Called after every successful sign-in, before the redirect (e.g. to
/// upsert the user in your database).
pub(crate) type SignInHook =
    Arc<dyn Fn(&AuthenticationResponse) -> BoxFuture<'static, ()> + Send + Sync>;

/// Renders the callback's error page instead of the built-in one.
pub(crate) type CallbackErrorHook = Arc<dyn Fn(&CallbackError) -> Option<Response> + Send + Sync>;

/// The app's hooks, as the builder collected them.
#[derive(Default, Clone)]
pub(crate) struct Hooks {
    pub(crate) on_sign_in: Option<SignInHook>,
    pub(crate) on_callback_error: Option<CallbackErrorHook>,
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
