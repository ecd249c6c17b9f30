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

use axum::extract::OriginalUri;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, Uri, header};

use crate::hooks::{ErrorPageContext, ErrorPageHook, ErrorPageKind};
use crate::pages::{self, PageHook, PageKind};
use crate::session::UnauthenticatedReason;
use crate::settings::Settings;
use crate::state::{AuthState, AuthStatus, CredentialSource};

/// How a router wants refusals answered: as to a browser navigation (a
/// redirect to login, HTML pages for 403 and 503) or as to an API call (401,
/// JSON); insert it with `Router::layer(Extension(RejectionMode::Api))` to
/// override per router.
///
/// # How a request is judged a browser navigation
///
/// In [`Auto`](RejectionMode::Auto) mode (the default), a request is a
/// browser navigation when all of these hold:
///
/// 1. its path — the one the client asked for, before any `Router::nest` —
///    is not under an [API prefix](crate::AuthKitBuilder::with_api_prefix);
/// 2. its `Accept` header contains `text/html` or `application/xhtml+xml`;
/// 3. it has no `X-Requested-With: XMLHttpRequest`;
/// 4. its `Sec-Fetch-Mode` is not `cors`, `no-cors` or `same-origin` (a
///    browser's `fetch()` and XHR say so; a navigation says `navigate`).
///
/// A browser navigation without a session is redirected to login (307, or
/// 303 for a form post) and gets HTML pages for 403 and 503; anything else
/// gets 401, 403 and 503 as JSON. [`Api`](RejectionMode::Api) and
/// [`Redirect`](RejectionMode::Redirect) skip the judging.
///
/// Extractors and [guards](crate::RequireAuth) see this extension. The
/// layer, which turns a [`Forbidden`] a *handler* returned into a page, runs
/// before an inner router inserts it, so it judges that one by the list
/// above alone: mount an `Api` router under an API prefix too.
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
    /// 401 with a JSON body and these `WWW-Authenticate` challenges.
    Unauthorized { challenges: Vec<&'static str> },
    /// 503 with `Retry-After`: a page for a browser navigation, else JSON.
    Unavailable {
        page: bool,
        /// The request's [`original_uri`], kept for the page.
        uri: Option<Box<Uri>>,
    },
    /// 500.
    MissingLayer,
}

/// Why [`AuthUser`](crate::AuthUser) was refused.
///
/// It answers as: 307/303 to the login route with `return_to` (browser
/// navigations), 401 JSON with `WWW-Authenticate` (API calls), 503 with
/// `Retry-After` (WorkOS unavailable: not a logout; an HTML page with a
/// "Try again" link for browser navigations, JSON otherwise), 500 (layer
/// missing). [`RejectionMode`] says how a browser navigation is told from an
/// API call; [`with_error_page`](crate::AuthKitBuilder::with_error_page)
/// renders the 503 your way.
///
/// A request that sent a Bearer token is never redirected, even from a
/// browser tab: it gets 401 with RFC 6750's challenge,
/// `Bearer realm="authkit", error="invalid_token"` (with
/// `error_description="the access token expired"` when it expired) or
/// `error="invalid_request"` for a malformed header. A request with no
/// credential at all is challenged for each accepted one
/// (`Bearer realm="authkit"` and `Cookie realm="authkit"`).
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

    /// 401 JSON challenging for the session cookie, whatever the request
    /// (for routes that only answer the site's own scripts).
    pub(crate) fn unauthorized(reason: UnauthenticatedReason) -> Self {
        AuthRejection {
            reason: AuthRejectionReason::Unauthenticated(reason),
            answer: Answer::Unauthorized {
                challenges: vec!["Cookie realm=\"authkit\""],
            },
        }
    }

    /// 503 with `Retry-After`: WorkOS is unavailable.
    pub(crate) fn unavailable(retry_after: Option<Duration>) -> Self {
        AuthRejection {
            reason: AuthRejectionReason::Unavailable { retry_after },
            answer: Answer::Unavailable {
                page: false,
                uri: None,
            },
        }
    }

    /// The rejection of a request without a session, as its state and the
    /// router's [`RejectionMode`] decide.
    pub(crate) fn from_state(state: &AuthState, parts: &Parts) -> Self {
        let settings = state.settings();
        // A Bearer client is not a browser: never a login page, never HTML.
        let bearer = state.source == Some(CredentialSource::Bearer);
        let redirect = !bearer && answers_as_page(settings, parts);
        let reason = match state.status {
            AuthStatus::Unavailable { retry_after } => {
                return AuthRejection {
                    reason: AuthRejectionReason::Unavailable { retry_after },
                    answer: Answer::Unavailable {
                        page: redirect,
                        uri: redirect
                            .then(|| Box::new(original_uri(&parts.extensions, &parts.uri).clone())),
                    },
                };
            }
            AuthStatus::Unauthenticated(reason) => reason,
            // A signed-in request is only refused by a misplaced call; treat
            // it as having no session rather than panic.
            _ => UnauthenticatedReason::InvalidJwt,
        };
        if bearer {
            return AuthRejection {
                reason: AuthRejectionReason::Unauthenticated(reason),
                answer: Answer::Unauthorized {
                    challenges: vec![bearer_challenge(reason)],
                },
            };
        }
        // Under `Router::nest`, `parts.uri` has lost the prefix: `return_to`
        // is the URL the browser asked for.
        let uri = original_uri(&parts.extensions, &parts.uri);
        let answer = if redirect {
            let return_to = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", return_to)
                .finish();
            Answer::Redirect {
                status: redirect_status(&parts.method),
                location: format!("{}?{query}", settings.login_path()),
            }
        } else {
            let mut challenges = Vec::new();
            // No credential at all: say which ones would do.
            if state.source.is_none() && settings.bearer_tokens {
                challenges.push("Bearer realm=\"authkit\"");
            }
            if state.source.is_some() || settings.session_cookies {
                challenges.push("Cookie realm=\"authkit\"");
            }
            Answer::Unauthorized { challenges }
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
            Answer::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Answer::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Answer::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A human-readable explanation.
    pub fn body_text(&self) -> String {
        match &self.answer {
            Answer::Unauthorized { .. } if bearer_error(self.reason).is_some() => {
                match self.reason {
                    AuthRejectionReason::Unauthenticated(
                        UnauthenticatedReason::InvalidAuthorizationHeader,
                    ) => "The Authorization header is malformed: expected `Bearer <access token>`."
                        .into(),
                    AuthRejectionReason::Unauthenticated(
                        UnauthenticatedReason::BearerTokenExpired,
                    ) => "The access token expired; get a new one.".into(),
                    AuthRejectionReason::Unauthenticated(UnauthenticatedReason::UserNotFound) => {
                        "The access token's user no longer exists.".into()
                    }
                    _ => "The access token is invalid.".into(),
                }
            }
            Answer::Redirect { .. } | Answer::Unauthorized { .. } => "Sign in to continue.".into(),
            Answer::Unavailable { .. } => {
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

/// RFC 6750 §3.1's error code for a refused Bearer credential.
fn bearer_error(reason: AuthRejectionReason) -> Option<&'static str> {
    match reason {
        AuthRejectionReason::Unauthenticated(UnauthenticatedReason::InvalidAuthorizationHeader) => {
            Some("invalid_request")
        }
        AuthRejectionReason::Unauthenticated(
            UnauthenticatedReason::InvalidBearerToken
            | UnauthenticatedReason::BearerTokenExpired
            | UnauthenticatedReason::UserNotFound,
        ) => Some("invalid_token"),
        _ => None,
    }
}

/// The `WWW-Authenticate` challenge for a request that sent a Bearer
/// credential (RFC 6750 §3): no secret and nothing of the request in it.
fn bearer_challenge(reason: UnauthenticatedReason) -> &'static str {
    match reason {
        UnauthenticatedReason::InvalidAuthorizationHeader => {
            "Bearer realm=\"authkit\", error=\"invalid_request\""
        }
        UnauthenticatedReason::BearerTokenExpired => {
            "Bearer realm=\"authkit\", error=\"invalid_token\", error_description=\"the access token expired\""
        }
        UnauthenticatedReason::UserNotFound => {
            "Bearer realm=\"authkit\", error=\"invalid_token\", error_description=\"the access token's user no longer exists\""
        }
        UnauthenticatedReason::InvalidBearerToken => {
            "Bearer realm=\"authkit\", error=\"invalid_token\""
        }
        _ => "Bearer realm=\"authkit\"",
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

/// Whether the request of `parts` is answered as a browser navigation (a
/// redirect to login, an HTML page) rather than an API call (401, JSON):
/// its [`RejectionMode`], else [`is_page_request`].
fn answers_as_page(settings: &Settings, parts: &Parts) -> bool {
    // A Bearer client is not a browser, whatever the router's mode says.
    let bearer = parts
        .extensions
        .get::<AuthState>()
        .is_some_and(|state| state.source == Some(CredentialSource::Bearer));
    if bearer {
        return false;
    }
    match parts.extensions.get::<RejectionMode>() {
        Some(RejectionMode::Api) => false,
        Some(RejectionMode::Redirect) => true,
        Some(RejectionMode::Auto) | None => is_page_request(
            settings,
            original_uri(&parts.extensions, &parts.uri),
            &parts.headers,
        ),
    }
}

/// A browser navigation ([`is_browser_navigation`]) to a path outside the
/// API prefixes.
pub(crate) fn is_page_request(settings: &Settings, uri: &Uri, headers: &HeaderMap) -> bool {
    !settings.is_api_path(uri.path()) && is_browser_navigation(headers)
}

/// The URI the client asked for: axum's [`OriginalUri`] when a router has
/// recorded it (every `Router` does, before `nest` strips its prefix), else
/// `uri`.
pub(crate) fn original_uri<'a>(extensions: &'a Extensions, uri: &'a Uri) -> &'a Uri {
    extensions.get::<OriginalUri>().map_or(uri, |o| &o.0)
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
            Answer::Unauthorized { challenges } => {
                let error = bearer_error(self.reason).unwrap_or("unauthorized");
                let mut response = json(status, error, &body);
                for challenge in challenges {
                    response.headers_mut().append(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                }
                response
            }
            Answer::Unavailable { page, uri } => {
                let retry_after = match self.reason {
                    AuthRejectionReason::Unavailable { retry_after } => retry_after,
                    _ => None,
                };
                let secs = retry_after_secs(retry_after);
                let mut response = json(status, "authentication_unavailable", &body);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                response.extensions_mut().insert(Refusal {
                    kind: ErrorPageKind::Unavailable,
                    message: body,
                    retry_after: Some(Duration::from_secs(secs)),
                    page: Some(page),
                    uri,
                });
                response
            }
            Answer::MissingLayer => (status, body).into_response(),
        }
    }
}

/// The `Retry-After` seconds of every 503 of the crate: what WorkOS asked
/// for (at least 1), or 5 when it did not say.
pub(crate) fn retry_after_secs(retry_after: Option<Duration>) -> u64 {
    retry_after.map_or(5, |d| d.as_secs().max(1))
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
    /// The session is in no organization (or its organization no longer
    /// exists), and the page shows the session's organization
    /// ([`CurrentOrganization`](crate::CurrentOrganization)).
    NoOrganization,
    /// The app's own reason, from [`Forbidden::new`].
    Other(String),
}

/// 403: signed in, but not allowed.
///
/// [`AuthUser::require_permission`](crate::AuthUser::require_permission) and
/// its siblings return it, [`RequireAuth`](crate::RequireAuth) answers it,
/// and handlers can make their own with [`Forbidden::new`].
///
/// Its answer is JSON (`{"error": "forbidden", "message": …}`), except for a
/// browser navigation (see [`RejectionMode`]), which gets an HTML page
/// saying why, with a link home: the [layer](crate::AuthKit::layer), which
/// saw the request's headers, turns it into one on the way out (or into the
/// app's own, [`with_error_page`](crate::AuthKitBuilder::with_error_page)).
/// Other headers of the response are kept.
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
    /// Whether to answer with a page, when made from a request (guards);
    /// `None` lets the layer judge from the request it saw.
    page: Option<bool>,
    /// The request's [`original_uri`] when `page`, for the page.
    uri: Option<Box<Uri>>,
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
            page: None,
            uri: None,
        }
    }

    pub(crate) fn because(reason: ForbiddenReason) -> Self {
        Forbidden {
            reason,
            page: None,
            uri: None,
        }
    }

    /// This refusal of the request of `parts`: a page or JSON as that
    /// request decides, [`RejectionMode`] included.
    pub(crate) fn for_request(self, settings: &Settings, parts: &Parts) -> Self {
        let page = answers_as_page(settings, parts);
        Forbidden {
            page: Some(page),
            uri: page.then(|| Box::new(original_uri(&parts.extensions, &parts.uri).clone())),
            ..self
        }
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
            ForbiddenReason::NoOrganization => {
                "Forbidden: this page needs a session in an organization".into()
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
        let message = self.body_text();
        let mut response = json(self.status(), "forbidden", &message);
        response.extensions_mut().insert(Refusal {
            kind: ErrorPageKind::Forbidden,
            message,
            retry_after: None,
            page: self.page,
            uri: self.uri,
        });
        response
    }
}

/// A 403 or 503 of the crate, as an extension of its JSON response: the
/// layer, which saw the request, answers it as a page when it is for a
/// browser navigation, or as the app's [`with_error_page`] hook says.
///
/// [`with_error_page`]: crate::AuthKitBuilder::with_error_page
#[derive(Debug, Clone)]
struct Refusal {
    kind: ErrorPageKind,
    message: String,
    retry_after: Option<Duration>,
    /// Decided where the request was seen whole (guards, extractors);
    /// `None` for a [`Forbidden`] a handler made.
    page: Option<bool>,
    /// The request's [`original_uri`], when `page` says a page (the layer
    /// keeps it only for the requests it judges would get one).
    uri: Option<Box<Uri>>,
}

/// What the layer notes of a request before running the app, to answer its
/// 403s and 503s as pages or JSON.
pub(crate) struct PageJudge {
    navigation: bool,
    /// The request's URI, for a page or the app's hook: only kept for a
    /// navigation or when there is a hook (a clone on every request
    /// otherwise), and boxed (every response future carries the judge).
    uri: Option<Box<Uri>>,
}

impl PageJudge {
    /// `uri` is the [`original_uri`]; a request that sent a Bearer token is
    /// never answered with a page. `hooked`: the app has an error-page hook,
    /// which sees every refusal.
    pub(crate) fn new(
        settings: &Settings,
        uri: &Uri,
        headers: &HeaderMap,
        bearer: bool,
        hooked: bool,
    ) -> Self {
        let navigation = !bearer && is_page_request(settings, uri, headers);
        PageJudge {
            navigation,
            uri: (navigation || hooked).then(|| Box::new(uri.clone())),
        }
    }

    /// `response` itself, unless it is a [`Refusal`]: then the app's answer
    /// (`hook`), the page for a browser navigation (the app's `page_hook`'s,
    /// or the built-in one), or the JSON.
    pub(crate) fn answer(
        &self,
        mut response: Response,
        hook: Option<&ErrorPageHook>,
        page_hook: Option<&PageHook>,
    ) -> Response {
        let Some(refusal) = response.extensions_mut().remove::<Refusal>() else {
            return response;
        };
        let navigation = refusal.page.unwrap_or(self.navigation);
        if !navigation && hook.is_none() {
            return response;
        }
        let context = ErrorPageContext {
            kind: refusal.kind,
            status: response.status(),
            message: refusal.message,
            navigation,
            retry_after: refusal.retry_after,
            // One of the two is kept whenever a page or the hook is due.
            uri: refusal
                .uri
                .or_else(|| self.uri.clone())
                .map_or_else(Uri::default, |uri| *uri),
        };
        let replacement = hook.and_then(|hook| hook(&context)).or_else(|| {
            context
                .navigation
                .then(|| built_in_page(&context, page_hook))
        });
        let Some(mut page) = replacement else {
            return response;
        };
        // Keep what the answer said besides its body (`Retry-After`, the
        // app's own headers), unless the page says otherwise.
        let (parts, _) = response.into_parts();
        for (name, value) in &parts.headers {
            if name != header::CONTENT_TYPE
                && name != header::CONTENT_LENGTH
                && !page.headers().contains_key(name)
            {
                page.headers_mut().append(name.clone(), value.clone());
            }
        }
        page
    }
}

fn built_in_page(context: &ErrorPageContext, hook: Option<&PageHook>) -> Response {
    match context.kind {
        ErrorPageKind::Unavailable => pages::page(
            hook,
            PageKind::Unavailable,
            context.status,
            "Sign-in is temporarily unavailable",
            "We could not check your session just now. You are still signed in; please try again in a moment.",
            pages::same_origin_href(context.uri.path_and_query().map_or("/", |pq| pq.as_str())),
            "Try again",
        ),
        _ => pages::page(
            hook,
            PageKind::Forbidden,
            context.status,
            "You don't have access to this page",
            &context.message,
            "/",
            "Go to the home page",
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::settings::Settings;
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
    fn under_nest_the_api_prefix_and_return_to_use_the_original_uri() {
        let html = || headers(&[("accept", "text/html")]);
        // `Router::nest("/api", …)` strips `/api` and records the original.
        let mut api = parts(Method::GET, "/me", html());
        api.extensions
            .insert(OriginalUri("/api/me".parse().unwrap()));
        assert_eq!(
            AuthRejection::from_state(&signed_out(), &api).status(),
            StatusCode::UNAUTHORIZED
        );
        let mut page = parts(Method::GET, "/settings?tab=2", html());
        page.extensions
            .insert(OriginalUri("/app/v1/settings?tab=2".parse().unwrap()));
        assert_eq!(
            AuthRejection::from_state(&signed_out(), &page).location(),
            Some("/auth/login?return_to=%2Fapp%2Fv1%2Fsettings%3Ftab%3D2")
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

    fn judge(pairs: &[(&'static str, &'static str)], path: &str) -> PageJudge {
        PageJudge::new(
            &settings(),
            &path.parse().unwrap(),
            &headers(pairs),
            false,
            true,
        )
    }

    fn is_html(response: &Response) -> bool {
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    }

    #[test]
    fn the_layer_answers_a_handlers_forbidden_as_a_page_only_to_a_navigation() {
        let html = [("accept", "text/html")];
        let forbidden = || Forbidden::new("no").into_response();
        let page = judge(&html, "/page").answer(forbidden(), None, None);
        assert_eq!(page.status(), StatusCode::FORBIDDEN);
        assert!(is_html(&page));
        assert!(!is_html(&judge(&html, "/api/x").answer(
            forbidden(),
            None,
            None
        )));
        assert!(!is_html(&judge(&[], "/page").answer(
            forbidden(),
            None,
            None
        )));
        // Responses that are not the crate's refusals pass untouched.
        let own = (StatusCode::FORBIDDEN, "mine").into_response();
        let own = judge(&html, "/page").answer(own, None, None);
        assert!(
            own.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
    }

    #[test]
    fn a_refusal_decided_from_its_request_overrides_the_layers_judgement() {
        let mut api = parts(Method::GET, "/page", headers(&[("accept", "text/html")]));
        api.extensions.insert(RejectionMode::Api);
        let refusal = Forbidden::new("no")
            .for_request(&settings(), &api)
            .into_response();
        let judged = judge(&[("accept", "text/html")], "/page").answer(refusal, None, None);
        assert!(!is_html(&judged));
    }

    #[tokio::test]
    async fn a_page_links_back_to_its_request_whichever_side_kept_the_uri() {
        let html = [("accept", "text/html")];
        let unavailable = |path: &str| {
            let state = AuthState::new(
                AuthStatus::Unavailable { retry_after: None },
                Arc::new(settings()),
            );
            let mut p = parts(Method::GET, path, headers(&html));
            p.extensions.insert(RejectionMode::Redirect);
            AuthRejection::from_state(&state, &p).into_response()
        };
        // The layer judged an API request, no hook: it kept no URI, and the
        // refusal, decided a page from its request, brought its own.
        let api = PageJudge::new(
            &settings(),
            &"/api/x".parse().unwrap(),
            &headers(&html),
            false,
            false,
        );
        assert!(api.uri.is_none());
        let page = api.answer(unavailable("/reports?week=3"), None, None);
        assert!(is_html(&page));
        let bytes = axum::body::to_bytes(page.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&bytes).contains("href=\"/reports?week=3\""));
        // The app's hook sees every refusal with the request's URI: the
        // layer kept it, for an API request too, because there is a hook.
        let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let out = seen.clone();
        let hook: ErrorPageHook = Arc::new(move |context: &ErrorPageContext| {
            out.lock().unwrap().push(context.uri().to_string());
            None
        });
        for hooked in [true, false] {
            let judge = PageJudge::new(
                &settings(),
                &"/api/reports?week=3".parse().unwrap(),
                &headers(&[]),
                false,
                hooked,
            );
            assert_eq!(judge.uri.is_some(), hooked);
            let answer = judge.answer(Forbidden::new("no").into_response(), Some(&hook), None);
            assert_eq!(answer.status(), StatusCode::FORBIDDEN);
        }
        // Kept: the hook saw it; not kept (a judge made as if without a hook):
        // the hook would see "/", which is why the layer keeps it for hooks.
        assert_eq!(*seen.lock().unwrap(), ["/api/reports?week=3", "/"]);
        // A navigation keeps it without a hook (for the built-in pages).
        let navigation = PageJudge::new(
            &settings(),
            &"/reports?week=3".parse().unwrap(),
            &headers(&html),
            false,
            false,
        );
        assert_eq!(
            navigation.uri.as_deref().map(|u| u.to_string()).as_deref(),
            Some("/reports?week=3")
        );
        // Neither a navigation nor a hook: the JSON passes as it is.
        let json = api.answer(Forbidden::new("no").into_response(), None, None);
        assert!(!is_html(&json));
        assert!(json.extensions().get::<Refusal>().is_none());
    }

    #[test]
    fn a_rejection_traces_when_it_answers() {
        let logged = crate::settings::tests::logs_of(tracing::Level::TRACE, || {
            let state = signed_out();
            let _ = AuthRejection::from_state(&state, &parts(Method::GET, "/api/me", headers(&[])))
                .into_response();
            let _ = Forbidden::new("no").into_response();
        });
        assert!(
            logged.contains("rejecting request") && logged.contains("status=401"),
            "{logged}"
        );
        assert!(
            logged.contains("forbidding request") && logged.contains("status=403"),
            "{logged}"
        );
    }

    fn challenges_of(state: AuthState, p: &Parts) -> (StatusCode, Vec<String>) {
        let r = AuthRejection::from_state(&state, p);
        let response = r.into_response();
        let challenges = response
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        (response.status(), challenges)
    }

    #[test]
    fn a_refused_bearer_credential_is_a_rfc_6750_401_even_for_a_navigation() {
        let html = || parts(Method::GET, "/page", headers(&[("accept", "text/html")]));
        for (reason, want) in [
            (
                UnauthenticatedReason::InvalidAuthorizationHeader,
                r#"Bearer realm="authkit", error="invalid_request""#,
            ),
            (
                UnauthenticatedReason::InvalidBearerToken,
                r#"Bearer realm="authkit", error="invalid_token""#,
            ),
            (
                UnauthenticatedReason::BearerTokenExpired,
                r#"Bearer realm="authkit", error="invalid_token", error_description="the access token expired""#,
            ),
        ] {
            let state = AuthState::new(AuthStatus::Unauthenticated(reason), Arc::new(settings()))
                .with_source(Some(CredentialSource::Bearer));
            let mut p = html();
            p.extensions.insert(RejectionMode::Redirect);
            let (status, challenges) = challenges_of(state, &p);
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{reason}");
            assert_eq!(challenges, [want], "{reason}");
        }
    }

    #[test]
    fn no_credential_is_challenged_for_each_accepted_source() {
        let api = || parts(Method::GET, "/api/me", headers(&[]));
        let with = |bearer_tokens, session_cookies| {
            let settings = Settings {
                bearer_tokens,
                session_cookies,
                ..settings()
            };
            AuthState::new(
                AuthStatus::Unauthenticated(UnauthenticatedReason::NoSessionCookieProvided),
                Arc::new(settings),
            )
        };
        let both = challenges_of(with(true, true), &api()).1;
        assert_eq!(
            both,
            [r#"Bearer realm="authkit""#, r#"Cookie realm="authkit""#]
        );
        assert_eq!(
            challenges_of(with(false, true), &api()).1,
            [r#"Cookie realm="authkit""#]
        );
        assert_eq!(
            challenges_of(with(true, false), &api()).1,
            [r#"Bearer realm="authkit""#]
        );
        // A refused cookie is answered for the cookie.
        let cookie = with(true, true).with_source(Some(CredentialSource::Cookie));
        assert_eq!(
            challenges_of(cookie, &api()).1,
            [r#"Cookie realm="authkit""#]
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
