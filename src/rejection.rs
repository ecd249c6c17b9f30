//! The answers the crate gives when a request may not go on: [`AuthRejection`]
//! (no session: a redirect to login for browsers, 401 for APIs, 503 when
//! WorkOS is unavailable) and [`Forbidden`] (signed in, but not allowed), and
//! the policy that chooses between a redirect and a 401.
//!
//! Like axum's own rejections, each is a `Display` + `Error` type with a
//! `status()`, a `body_text()` and a `reason()`, and emits a trace event
//! (target `authkit_axum::rejection`) when it answers.

use std::fmt;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use crate::session::UnauthenticatedReason;
use crate::state::{AuthState, AuthStatus};

/// How a router wants unauthenticated requests answered; insert it with
/// `Router::layer(Extension(RejectionMode::Api))` to override per router.
///
/// ```
/// use authkit_axum::{AuthUser, RejectionMode};
/// use axum::{Extension, Router, routing::get};
///
/// async fn me(user: AuthUser) -> String {
///     user.user.email.clone()
/// }
///
/// // Every route of this router answers 401 JSON without a session, even
/// // to a browser navigation.
/// let api: Router = Router::new()
///     .route("/me", get(me))
///     .layer(Extension(RejectionMode::Api));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectionMode {
    /// Decide per request: browsers are redirected, APIs get 401 (default).
    Auto,
    /// Always 401 JSON (for `/api` routers).
    Api,
    /// Always redirect to login.
    Redirect,
}

/// Why an [`AuthRejection`] was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthRejectionReason {
    /// The request has no usable session (none sent, tampered, expired and
    /// not refreshable, or refused by WorkOS).
    Unauthenticated(UnauthenticatedReason),
    /// WorkOS is unavailable, so the session could not be checked or
    /// refreshed; it was kept, and the client should retry.
    Unavailable {
        /// How long WorkOS asked to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The router lacks [`AuthKit::layer`](crate::AuthKit::layer): a
    /// programming error, answered 500.
    MissingLayer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// Redirect to the login route.
    Redirect {
        status: StatusCode,
        location: String,
    },
    /// 401 with a JSON body.
    Unauthorized,
    /// 503 with `Retry-After`.
    Unavailable,
    /// 500.
    MissingLayer,
}

/// Why [`AuthUser`](crate::AuthUser) was refused.
///
/// It answers as: 307/303 to the login route with `return_to` (browser
/// navigations), 401 JSON with `WWW-Authenticate` (API calls), 503 with
/// `Retry-After` (WorkOS unavailable: not a logout), 500 (layer missing).
/// Take `Result<AuthUser, AuthRejection>` to answer it your own way:
///
/// ```
/// use authkit_axum::{AuthRejection, AuthRejectionReason, AuthUser};
/// use axum::response::{IntoResponse, Response};
///
/// async fn page(user: Result<AuthUser, AuthRejection>) -> Response {
///     match user {
///         Ok(user) => format!("hello {}", user.user.email).into_response(),
///         Err(rejection) if matches!(rejection.reason(), AuthRejectionReason::Unavailable { .. }) => {
///             (rejection.status(), "Sign-in is down for a moment; try again soon.").into_response()
///         }
///         Err(rejection) => rejection.into_response(),
///     }
/// }
/// # let _: axum::Router = axum::Router::new().route("/", axum::routing::get(page));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRejection {
    reason: AuthRejectionReason,
    answer: Answer,
}

impl AuthRejection {
    pub(crate) fn missing_layer() -> Self {
        AuthRejection {
            reason: AuthRejectionReason::MissingLayer,
            answer: Answer::MissingLayer,
        }
    }

    /// 401 JSON, whatever the request (for routes that only answer scripts).
    pub(crate) fn unauthorized(reason: UnauthenticatedReason) -> Self {
        AuthRejection {
            reason: AuthRejectionReason::Unauthenticated(reason),
            answer: Answer::Unauthorized,
        }
    }

    /// 503 with `Retry-After`: WorkOS is unavailable.
    pub(crate) fn unavailable(retry_after: Option<Duration>) -> Self {
        AuthRejection {
            reason: AuthRejectionReason::Unavailable { retry_after },
            answer: Answer::Unavailable,
        }
    }

    /// The rejection of a request without a session, as its state and the
    /// router's [`RejectionMode`] decide.
    pub(crate) fn from_state(state: &AuthState, parts: &Parts) -> Self {
        let reason = match state.status {
            AuthStatus::Unavailable { retry_after } => {
                return AuthRejection {
                    reason: AuthRejectionReason::Unavailable { retry_after },
                    answer: Answer::Unavailable,
                };
            }
            AuthStatus::Unauthenticated(reason) => reason,
            // A signed-in request is only refused by a misplaced call; treat
            // it as having no session rather than panic.
            AuthStatus::Authenticated(_) => UnauthenticatedReason::InvalidJwt,
        };
        let settings = &state.settings;
        let mode = parts
            .extensions
            .get::<RejectionMode>()
            .copied()
            .unwrap_or(RejectionMode::Auto);
        let redirect = match mode {
            RejectionMode::Api => false,
            RejectionMode::Redirect => true,
            RejectionMode::Auto => {
                !settings.is_api_path(parts.uri.path()) && is_browser_navigation(&parts.headers)
            }
        };
        let answer = if redirect {
            let return_to = parts
                .uri
                .path_and_query()
                .map(|pq| pq.as_str())
                .unwrap_or("/");
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", return_to)
                .finish();
            Answer::Redirect {
                status: redirect_status(&parts.method),
                location: format!("{}?{query}", settings.login_path()),
            }
        } else {
            Answer::Unauthorized
        };
        AuthRejection {
            reason: AuthRejectionReason::Unauthenticated(reason),
            answer,
        }
    }

    /// Why the request was refused.
    pub fn reason(&self) -> AuthRejectionReason {
        self.reason
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        match &self.answer {
            Answer::Redirect { status, .. } => *status,
            Answer::Unauthorized => StatusCode::UNAUTHORIZED,
            Answer::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Answer::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A human-readable explanation.
    pub fn body_text(&self) -> String {
        match &self.answer {
            Answer::Redirect { .. } | Answer::Unauthorized => "Sign in to continue.".into(),
            Answer::Unavailable => {
                "Authentication is temporarily unavailable; please retry shortly.".into()
            }
            Answer::MissingLayer => {
                "AuthUser needs the authkit layer: add `.layer(authkit.layer())` to the router"
                    .into()
            }
        }
    }

    /// The login URL a browser is sent to, if this is a redirect.
    pub fn location(&self) -> Option<&str> {
        match &self.answer {
            Answer::Redirect { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// A redirect that keeps the method for GET and HEAD (307), and turns
/// anything else into a GET of the login page (303).
fn redirect_status(method: &Method) -> StatusCode {
    if method == Method::GET || method == Method::HEAD {
        StatusCode::TEMPORARY_REDIRECT
    } else {
        StatusCode::SEE_OTHER
    }
}

/// Whether a request is a browser navigating to a page (which is sent to
/// login) rather than a script or an API client (which gets 401): it
/// accepts HTML, and neither `X-Requested-With: XMLHttpRequest` nor a
/// `Sec-Fetch-Mode` of `cors`, `no-cors` or `same-origin` says it is a fetch.
pub(crate) fn is_browser_navigation(headers: &HeaderMap) -> bool {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if header("x-requested-with").eq_ignore_ascii_case("xmlhttprequest") {
        return false;
    }
    if matches!(header("sec-fetch-mode"), "cors" | "no-cors" | "same-origin") {
        return false;
    }
    let accept = header("accept");
    accept.contains("text/html") || accept.contains("application/xhtml+xml")
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body_text())
    }
}

impl std::error::Error for AuthRejection {}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body_text();
        match self.answer {
            Answer::MissingLayer => tracing::error!(target: "authkit_axum::rejection", "{body}"),
            _ => tracing::trace!(
                target: "authkit_axum::rejection",
                status = status.as_u16(),
                reason = ?self.reason,
                "rejecting request",
            ),
        }
        match self.answer {
            Answer::Redirect { location, .. } => {
                let mut response = (status, body).into_response();
                if let Ok(v) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, v);
                }
                response
            }
            Answer::Unauthorized => {
                let mut response = json(status, "unauthorized", &body);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Cookie realm=\"authkit\""),
                );
                response
            }
            Answer::Unavailable => {
                let retry_after = match self.reason {
                    AuthRejectionReason::Unavailable { retry_after } => retry_after,
                    _ => None,
                };
                let secs = retry_after.map_or(5, |d| d.as_secs().max(1));
                let mut response = json(status, "authentication_unavailable", &body);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                response
            }
            Answer::MissingLayer => (status, body).into_response(),
        }
    }
}

fn json(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"error": error, "message": message})),
    )
        .into_response()
}

/// Why a [`Forbidden`] was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForbiddenReason {
    /// The session's roles do not grant this permission.
    MissingPermission(String),
    /// The session has neither this role nor it among its roles.
    MissingRole(String),
    /// The session is scoped to another organization (or to none).
    WrongOrganization,
    /// The app's own reason, from [`Forbidden::new`].
    Other(String),
}

/// 403: signed in, but not allowed.
///
/// [`AuthUser::require_permission`](crate::AuthUser::require_permission) and
/// its siblings return it; handlers can make their own with
/// [`Forbidden::new`]:
///
/// ```
/// use authkit_axum::{AuthUser, Forbidden};
///
/// async fn delete_widget(user: AuthUser) -> Result<&'static str, Forbidden> {
///     user.require_permission("widgets:delete")?;
///     if user.is_impersonated() {
///         return Err(Forbidden::new("impersonators may not delete widgets"));
///     }
///     Ok("deleted")
/// }
/// # let _: axum::Router = axum::Router::new().route("/", axum::routing::post(delete_widget));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    reason: ForbiddenReason,
}

impl Forbidden {
    /// A 403 with a reason of the app's own, shown in the body.
    ///
    /// ```
    /// use authkit_axum::Forbidden;
    /// let forbidden = Forbidden::new("trial accounts cannot export");
    /// assert_eq!(forbidden.body_text(), "Forbidden: trial accounts cannot export");
    /// ```
    pub fn new(reason: impl Into<String>) -> Self {
        Forbidden {
            reason: ForbiddenReason::Other(reason.into()),
        }
    }

    pub(crate) fn because(reason: ForbiddenReason) -> Self {
        Forbidden { reason }
    }

    /// Why.
    pub fn reason(&self) -> &ForbiddenReason {
        &self.reason
    }

    /// Always 403.
    pub fn status(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    /// The explanation in the body.
    pub fn body_text(&self) -> String {
        match &self.reason {
            ForbiddenReason::MissingPermission(p) => format!("Forbidden: missing permission {p}"),
            ForbiddenReason::MissingRole(r) => format!("Forbidden: missing role {r}"),
            ForbiddenReason::WrongOrganization => {
                "Forbidden: this page belongs to another organization".into()
            }
            ForbiddenReason::Other(reason) => format!("Forbidden: {reason}"),
        }
    }
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.body_text())
    }
}

impl std::error::Error for Forbidden {}

impl IntoResponse for Forbidden {
    fn into_response(self) -> Response {
        tracing::trace!(
            target: "authkit_axum::rejection",
            status = 403,
            reason = ?self.reason,
            "forbidding request",
        );
        json(self.status(), "forbidden", &self.body_text())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::settings::tests::{headers, settings};

    #[test]
    fn a_page_request_accepting_html_is_a_navigation() {
        assert!(is_browser_navigation(&headers(&[(
            "accept",
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )])));
        assert!(is_browser_navigation(&headers(&[
            ("accept", "application/xhtml+xml"),
            ("sec-fetch-mode", "navigate"),
        ])));
    }

    #[test]
    fn fetches_and_api_clients_are_not_navigations() {
        for h in [
            headers(&[]),
            headers(&[("accept", "application/json")]),
            headers(&[("accept", "*/*")]),
            headers(&[("accept", "text/html"), ("sec-fetch-mode", "cors")]),
            headers(&[("accept", "text/html"), ("sec-fetch-mode", "same-origin")]),
            headers(&[("accept", "text/html"), ("sec-fetch-mode", "no-cors")]),
            headers(&[
                ("accept", "text/html"),
                ("x-requested-with", "XMLHttpRequest"),
            ]),
        ] {
            assert!(!is_browser_navigation(&h), "{h:?}");
        }
    }

    fn parts(method: Method, uri: &str, h: HeaderMap) -> Parts {
        let mut request = http::Request::new(());
        *request.method_mut() = method;
        *request.uri_mut() = uri.parse().unwrap();
        *request.headers_mut() = h;
        request.into_parts().0
    }

    fn signed_out() -> AuthState {
        AuthState::new(
            AuthStatus::Unauthenticated(UnauthenticatedReason::NoSessionCookieProvided),
            Arc::new(settings()),
        )
    }

    #[test]
    fn a_navigation_is_redirected_to_login_with_its_path_and_query() {
        let html = || headers(&[("accept", "text/html")]);
        let get = AuthRejection::from_state(&signed_out(), &parts(Method::GET, "/a?b=c", html()));
        assert_eq!(get.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(get.location(), Some("/auth/login?return_to=%2Fa%3Fb%3Dc"));
        let post = AuthRejection::from_state(&signed_out(), &parts(Method::POST, "/form", html()));
        assert_eq!(post.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            post.reason(),
            AuthRejectionReason::Unauthenticated(UnauthenticatedReason::NoSessionCookieProvided)
        );
    }

    #[test]
    fn api_paths_and_api_mode_answer_401_even_to_a_navigation() {
        let html = || headers(&[("accept", "text/html")]);
        let api = AuthRejection::from_state(&signed_out(), &parts(Method::GET, "/api/me", html()));
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(api.location(), None);
        let mut forced = parts(Method::GET, "/page", html());
        forced.extensions.insert(RejectionMode::Api);
        assert_eq!(
            AuthRejection::from_state(&signed_out(), &forced).status(),
            StatusCode::UNAUTHORIZED
        );
    }

    #[test]
    fn redirect_mode_redirects_even_a_fetch() {
        let mut p = parts(
            Method::GET,
            "/api/x",
            headers(&[("sec-fetch-mode", "cors")]),
        );
        p.extensions.insert(RejectionMode::Redirect);
        let r = AuthRejection::from_state(&signed_out(), &p);
        assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
    }

    #[test]
    fn unavailable_wins_over_every_mode_and_says_when_to_retry() {
        let state = AuthState::new(
            AuthStatus::Unavailable {
                retry_after: Some(Duration::from_secs(7)),
            },
            Arc::new(settings()),
        );
        let mut p = parts(Method::GET, "/", headers(&[("accept", "text/html")]));
        p.extensions.insert(RejectionMode::Redirect);
        let r = AuthRejection::from_state(&state, &p);
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let response = r.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
    }

    #[test]
    fn a_rejection_traces_when_it_answers() {
        use std::sync::{Arc as StdArc, Mutex};

        #[derive(Clone, Default)]
        struct Buffer(StdArc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let state = signed_out();
            let _ = AuthRejection::from_state(&state, &parts(Method::GET, "/api/me", headers(&[])))
                .into_response();
            let _ = Forbidden::new("no").into_response();
        });
        let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
        assert!(
            logged.contains("rejecting request") && logged.contains("status=401"),
            "{logged}"
        );
        assert!(
            logged.contains("forbidding request") && logged.contains("status=403"),
            "{logged}"
        );
    }

    #[test]
    fn rejections_display_their_body_text_and_are_errors() {
        let r = AuthRejection::missing_layer();
        let e: &dyn std::error::Error = &r;
        assert_eq!(e.to_string(), r.body_text());
        assert_eq!(r.reason(), AuthRejectionReason::MissingLayer);
        let f = Forbidden::because(ForbiddenReason::MissingRole("admin".into()));
        assert_eq!(f.to_string(), "Forbidden: missing role admin");
        assert_eq!(f.reason(), &ForbiddenReason::MissingRole("admin".into()));
    }
}
