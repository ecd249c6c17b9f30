//! What an app plugs into sign-in, refresh and sign-out, and into the
//! crate's answers: a hook run after every successful sign-in (with the
//! [`SignIn`] it receives), one that renders the callback's error page (with
//! its [`CallbackError`]), one run after every refresh ([`RefreshEvent`]),
//! one after every sign-out ([`SignOut`]), and one that renders the 403 and
//! 503 answers (with the [`ErrorPageContext`] it receives).

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use futures_util::future::BoxFuture;
use http::{StatusCode, Uri};

use crate::client::{AuthenticationResponse, Error as ClientError, OrganizationChoice};

/// Called after every successful sign-in, before the redirect (e.g. to
/// upsert the user in your database).
pub(crate) type SignInHook = Arc<dyn Fn(&SignIn) -> BoxFuture<'static, ()> + Send + Sync>;

/// Renders the callback's error page instead of the built-in one.
pub(crate) type CallbackErrorHook = Arc<dyn Fn(&CallbackError) -> Option<Response> + Send + Sync>;

/// Renders a 403 or 503 answer instead of the built-in page or JSON.
pub(crate) type ErrorPageHook = Arc<dyn Fn(&ErrorPageContext) -> Option<Response> + Send + Sync>;

/// Called after every refresh made at WorkOS, successful or not.
pub(crate) type RefreshHook = Arc<dyn Fn(&RefreshEvent) -> BoxFuture<'static, ()> + Send + Sync>;

/// Called after the logout route answered a same-origin sign-out (with or
/// without a session).
pub(crate) type SignOutHook = Arc<dyn Fn(&SignOut) -> BoxFuture<'static, ()> + Send + Sync>;

/// The app's hooks, as the builder collected them.
#[derive(Default, Clone)]
pub(crate) struct Hooks {
    pub(crate) on_sign_in: Option<SignInHook>,
    pub(crate) on_callback_error: Option<CallbackErrorHook>,
    pub(crate) error_page: Option<ErrorPageHook>,
    pub(crate) page: Option<crate::pages::PageHook>,
    pub(crate) on_refresh: Option<RefreshHook>,
    pub(crate) on_sign_out: Option<SignOutHook>,
}

/// A finished sign-in, as the sign-in hook
/// ([`with_on_sign_in`](crate::AuthKitBuilder::with_on_sign_in)) receives
/// it: WorkOS's [`AuthenticationResponse`] (which it dereferences to, so
/// `sign_in.user.id` works), the app's own `state` given to the login route,
/// and where the browser goes next.
#[derive(Debug)]
pub struct SignIn {
    auth: AuthenticationResponse,
    state: Option<String>,
    return_to: String,
}

impl SignIn {
    pub(crate) fn new(
        auth: AuthenticationResponse,
        state: Option<String>,
        return_to: String,
    ) -> Self {
        SignIn {
            auth,
            state,
            return_to,
        }
    }

    /// The opaque `state` given to `/auth/login?state=…` (or
    /// `/auth/signup`), back unchanged. It was kept sealed in the browser's
    /// flow cookie and never sent to WorkOS, but whoever made the link chose
    /// it — any site can link to your login route — so treat it as user
    /// input (e.g. a plan to preselect), never as a grant of anything.
    pub fn state(&self) -> Option<&str> {
        self.state.as_deref()
    }

    /// The same-origin path the browser is redirected to now.
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// WorkOS's answer: the user, the organization, the tokens.
    pub fn authentication(&self) -> &AuthenticationResponse {
        &self.auth
    }
}

impl Deref for SignIn {
    type Target = AuthenticationResponse;

    fn deref(&self) -> &AuthenticationResponse {
        &self.auth
    }
}

/// A refresh made at WorkOS, as the refresh hook
/// ([`with_on_refresh`](crate::AuthKitBuilder::with_on_refresh)) receives
/// it: once per refresh actually made, however many requests waited for it.
/// It carries no token and no text of WorkOS's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshEvent {
    /// The session has a new token pair.
    #[non_exhaustive]
    Refreshed {
        /// The user.
        user_id: String,
        /// The session (unchanged by a refresh).
        session_id: String,
        /// The organization of the new access token.
        organization_id: Option<String>,
    },
    /// The refresh failed.
    #[non_exhaustive]
    Failed {
        /// The user the session was for.
        user_id: String,
        /// The session, when its old token names it.
        session_id: Option<String>,
        /// Whether the session is over or WorkOS was unavailable.
        reason: RefreshFailure,
        /// WorkOS's error code (`invalid_grant`, `sso_required`, …) when it
        /// answered with one.
        error_code: Option<String>,
    },
}

impl RefreshEvent {
    /// The user the session is for.
    pub fn user_id(&self) -> &str {
        match self {
            RefreshEvent::Refreshed { user_id, .. } | RefreshEvent::Failed { user_id, .. } => {
                user_id
            }
        }
    }

    /// The session, when known.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            RefreshEvent::Refreshed { session_id, .. } => Some(session_id),
            RefreshEvent::Failed { session_id, .. } => session_id.as_deref(),
        }
    }

    /// Whether the refresh succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, RefreshEvent::Refreshed { .. })
    }
}

/// Why a refresh failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshFailure {
    /// Terminal: WorkOS refused the refresh token for good, or the new
    /// session could not be used. The session is over (a request's cookie is
    /// cleared).
    SessionEnded,
    /// Transient: WorkOS was unreachable, overloaded or answered
    /// unexpectedly. The session is kept; a later request tries again.
    Unavailable,
}

/// A sign-out, as the sign-out hook
/// ([`with_on_sign_out`](crate::AuthKitBuilder::with_on_sign_out)) receives
/// it, after the logout route cleared the cookie: for every same-origin
/// sign-out, also one without a session (then `user_id` and `session_id`
/// are `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignOut {
    /// The user, when the request carried a session cookie.
    pub user_id: Option<String>,
    /// The session ended at WorkOS, when known.
    pub session_id: Option<String>,
    /// Where the browser goes after WorkOS (the chosen `return_to`, or the
    /// after-logout URL).
    pub return_to: String,
}

/// Why a callback failed; each answers with a clear 4xx (or 500/503)
/// page — and the one step a callback can stop at, the organization choice
/// ([`OrganizationSelectionRequired`](Self::OrganizationSelectionRequired), 200).
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
    /// Not a failure but a step: the user belongs to several organizations
    /// and WorkOS asks which one to sign in to (`organization_selection_required`).
    /// The built-in page (200) lists them, each a button posting
    /// `organization_id` to `POST <base>/organization-selection`, which
    /// finishes the sign-in as the callback does. The sign-in waiting for the
    /// choice is kept sealed in a short-lived cookie (10 minutes), never in
    /// the page; a page of your hook's posts the same form to that route.
    #[error("choose the organization to sign in to")]
    OrganizationSelectionRequired {
        /// The organizations to choose from (ids and names, from WorkOS).
        organizations: Vec<OrganizationChoice>,
        /// The user's email address, when WorkOS sent the user.
        email: Option<String>,
    },
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
            CallbackError::OrganizationSelectionRequired { .. } => StatusCode::OK,
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
