//! The client's one error type.
//!
//! WorkOS answers failures in three shapes: API errors (`{code, message,
//! errors[]}`), OAuth errors (`{error, error_description}`) and the
//! authentication challenges (`email_verification_required`, `mfa_challenge`,
//! …), which are not failures so much as "here is the next step". Each gets its
//! own variant carrying what the caller needs; none carries a secret in its
//! `Display` or `Debug`.

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::types::{AuthenticationChallenge, User, string_enum};
use crate::Secret;

/// Everything a User Management call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request did not complete within the configured timeout.
    #[error("request to WorkOS timed out")]
    Timeout,
    /// WorkOS could not be reached (DNS, connection refused, TLS, reset).
    #[error("could not reach WorkOS: {0}")]
    Transport(#[source] TransportError),
    /// WorkOS answered 429 and the retry budget is spent.
    #[error("WorkOS rate limit exceeded{}", retry_after_text(*.retry_after))]
    RateLimited {
        /// How long WorkOS asked to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The `X-Request-ID` of the last attempt.
        request_id: Option<String>,
    },
    /// An API error (`entity_not_found`, 422 validation, 401, 5xx, …).
    #[error("{0}")]
    Api(Box<ApiError>),
    /// An OAuth error from the authenticate endpoint (`invalid_grant`, …).
    #[error("{0}")]
    OAuth(Box<OAuthError>),
    /// The user must verify their email address before signing in.
    #[error("authentication challenge: email verification required")]
    EmailVerificationRequired(Box<EmailVerificationRequired>),
    /// The user must enroll a second factor before signing in.
    #[error("authentication challenge: MFA enrollment required")]
    MfaEnrollment(Box<MfaEnrollment>),
    /// The user must answer a second-factor challenge.
    #[error("authentication challenge: MFA challenge")]
    MfaChallenge(Box<MfaChallenge>),
    /// The user belongs to several organizations and must pick one.
    #[error("authentication challenge: organization selection required")]
    OrganizationSelectionRequired(Box<OrganizationSelectionRequired>),
    /// The user's organization requires single sign-on.
    #[error("authentication challenge: SSO required")]
    SsoRequired(Box<SsoRequired>),
    /// WorkOS answered with a body this crate could not read.
    #[error("could not decode WorkOS response (status {status}): {source}")]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The `X-Request-ID`.
        request_id: Option<String>,
        /// What went wrong, and where in the body.
        source: DecodeError,
    },
    /// The call was refused before any request, because its arguments are
    /// inconsistent (e.g. `role_slug` and `role_slugs` together).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// An attempt's answer was lost (a timeout, a dropped connection, a 5xx
    /// from a proxy) after WorkOS may have acted on it, and the repeat was
    /// refused (`invalid_grant` for a refresh token the first attempt spent).
    /// Transient: the refusal is about the repeat, not about the session.
    #[error("WorkOS's answer was lost and its repeat was refused: {refused}")]
    AnswerLost {
        /// What the repeat was answered with.
        refused: Box<Error>,
    },
    /// The call needs the API key and the client was built without one
    /// ([`UserManagement::public`](super::UserManagement::public)); nothing
    /// was sent. `call` names it (`GET /user_management/users`,
    /// `authenticate_with_code without a code_verifier`, …).
    #[error(
        "{call} needs an API key (WORKOS_API_KEY), and this is a public client built without one"
    )]
    MissingApiKey {
        /// The call that was refused.
        call: String,
    },
}

/// Why WorkOS could not be reached: the HTTP client's error, without the
/// URL (which can carry query parameters), kept behind this type so that
/// the HTTP client is not part of the crate's API.
#[derive(Debug)]
pub struct TransportError(reqwest::Error);

impl TransportError {
    pub(crate) fn new(e: reqwest::Error) -> Self {
        TransportError(e.without_url())
    }

    /// Whether the connection could not be made at all (so the request
    /// certainly did not reach WorkOS, and repeating it is safe).
    pub fn is_connect(&self) -> bool {
        self.0.is_connect()
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Why an answer could not be decoded: the kind of mistake and where, but
/// never the JSON parser's own message, which can quote the value it failed
/// on (a token, a code, an email address).
pub struct DecodeError(serde_json::Error);

impl std::fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DecodeError")
            .field(&crate::secret::redacted_json_error(&self.0))
            .finish()
    }
}

impl DecodeError {
    pub(crate) fn new(e: serde_json::Error) -> Self {
        DecodeError(e)
    }

    /// The line of the body where decoding failed (1-based).
    pub fn line(&self) -> usize {
        self.0.line()
    }

    /// The column of that line (1-based).
    pub fn column(&self) -> usize {
        self.0.column()
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::secret::redacted_json_error(&self.0))
    }
}

impl std::error::Error for DecodeError {}

fn retry_after_text(d: Option<Duration>) -> String {
    d.map(|d| format!(" (retry after {}s)", d.as_secs()))
        .unwrap_or_default()
}

impl Error {
    /// The HTTP status WorkOS answered with, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        let code = match self {
            Error::RateLimited { .. } => 429,
            Error::Api(e) => e.status,
            Error::OAuth(e) => e.status,
            Error::EmailVerificationRequired(e) => e.status,
            Error::MfaEnrollment(e) => e.status,
            Error::MfaChallenge(e) => e.status,
            Error::OrganizationSelectionRequired(e) => e.status,
            Error::SsoRequired(e) => e.status,
            Error::Decode { status, .. } => *status,
            Error::AnswerLost { refused } => return refused.status(),
            Error::Timeout
            | Error::Transport(_)
            | Error::InvalidRequest(_)
            | Error::MissingApiKey { .. } => return None,
        };
        StatusCode::from_u16(code).ok()
    }

    /// The `X-Request-ID` WorkOS sent, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::RateLimited { request_id, .. } | Error::Decode { request_id, .. } => {
                request_id.as_deref()
            }
            Error::Api(e) => e.request_id.as_deref(),
            Error::OAuth(e) => e.request_id.as_deref(),
            Error::EmailVerificationRequired(e) => e.request_id.as_deref(),
            Error::MfaEnrollment(e) => e.request_id.as_deref(),
            Error::MfaChallenge(e) => e.request_id.as_deref(),
            Error::OrganizationSelectionRequired(e) => e.request_id.as_deref(),
            Error::SsoRequired(e) => e.request_id.as_deref(),
            Error::AnswerLost { refused } => refused.request_id(),
            Error::Timeout
            | Error::Transport(_)
            | Error::InvalidRequest(_)
            | Error::MissingApiKey { .. } => None,
        }
    }

    /// The machine-readable error code (`entity_not_found`, `invalid_grant`,
    /// `mfa_challenge`, …), if WorkOS sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.code.as_deref(),
            Error::OAuth(e) => Some(e.error.as_str()),
            Error::EmailVerificationRequired(_) => Some("email_verification_required"),
            Error::MfaEnrollment(_) => Some("mfa_enrollment"),
            Error::MfaChallenge(_) => Some("mfa_challenge"),
            Error::OrganizationSelectionRequired(_) => Some("organization_selection_required"),
            Error::SsoRequired(_) => Some("sso_required"),
            Error::RateLimited { .. } => Some("rate_limit_exceeded"),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: timeouts, transport errors,
    /// 408, 429, 5xx and a repeat refused after a lost answer. Everything
    /// else is the caller's or the user's to fix.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout
            | Error::Transport(_)
            | Error::RateLimited { .. }
            | Error::AnswerLost { .. } => true,
            Error::Api(e) => e.status == 408 || e.status >= 500,
            Error::OAuth(e) => e.status >= 500,
            Error::Decode { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// How long WorkOS asked to wait before trying again: the `Retry-After`
    /// of a 429, or of an API or OAuth error that carried one (a 503).
    ///
    /// ```
    /// use std::time::Duration;
    /// use authkit_axum::client::Error;
    ///
    /// let limited = Error::RateLimited { retry_after: Some(Duration::from_secs(30)), request_id: None };
    /// assert_eq!(limited.retry_after(), Some(Duration::from_secs(30)));
    /// assert_eq!(Error::Timeout.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            Error::Api(e) => e.retry_after,
            Error::OAuth(e) => e.retry_after,
            _ => None,
        }
    }

    /// The pending authentication token of a challenge: what the next
    /// `authenticate_with_*` call takes.
    pub fn pending_authentication_token(&self) -> Option<&Secret> {
        match self {
            Error::EmailVerificationRequired(e) => Some(&e.pending_authentication_token),
            Error::MfaEnrollment(e) => Some(&e.pending_authentication_token),
            Error::MfaChallenge(e) => Some(&e.pending_authentication_token),
            Error::OrganizationSelectionRequired(e) => Some(&e.pending_authentication_token),
            Error::SsoRequired(e) => e.pending_authentication_token.as_ref(),
            _ => None,
        }
    }
}

/// One entry of a 422 validation error's `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldError {
    /// Machine-readable code, e.g. `email_string_required`.
    #[serde(default)]
    pub code: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub message: Option<String>,
    /// The field at fault, when WorkOS names it.
    #[serde(default)]
    pub field: Option<String>,
}

/// An API error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("WorkOS API error {status}{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Machine-readable code (`entity_not_found`, `invalid_request_parameters`, …).
    pub code: Option<String>,
    /// Human-readable message.
    pub message: String,
    /// Validation errors, for 422.
    pub errors: Vec<FieldError>,
    /// The entity that was not found, for 404.
    pub entity_id: Option<String>,
    /// The `X-Request-ID`.
    pub request_id: Option<String>,
    /// How long WorkOS asked to wait before trying again (`Retry-After`,
    /// which a 503 may carry).
    pub retry_after: Option<Duration>,
}

string_enum! {
    /// OAuth error codes (RFC 6749 §5.2, and RFC 8628 §3.5's for the device flow).
    pub enum OAuthErrorCode {
        /// The code, refresh token or pending token is invalid, expired or used.
        InvalidGrant => "invalid_grant",
        /// The client id or secret is wrong.
        InvalidClient => "invalid_client",
        /// A parameter is missing or malformed.
        InvalidRequest => "invalid_request",
        /// The client may not use this grant.
        UnauthorizedClient => "unauthorized_client",
        /// The grant type is not supported.
        UnsupportedGrantType => "unsupported_grant_type",
        /// The requested scope is invalid.
        InvalidScope => "invalid_scope",
        /// Device flow (RFC 8628 §3.5): the user has not approved yet; poll again.
        AuthorizationPending => "authorization_pending",
        /// Device flow: polling too fast; wait 5 s more from now on.
        SlowDown => "slow_down",
        /// Device flow: the user denied the device.
        AccessDenied => "access_denied",
        /// Device flow: the device code expired; start again.
        ExpiredToken => "expired_token",
    }
}

/// An OAuth error answer (`{error, error_description}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("WorkOS OAuth error {status} ({error}){}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct OAuthError {
    /// The HTTP status.
    pub status: u16,
    /// The OAuth error code.
    pub error: OAuthErrorCode,
    /// WorkOS's description.
    pub description: Option<String>,
    /// The `X-Request-ID`.
    pub request_id: Option<String>,
    /// How long WorkOS asked to wait before trying again (`Retry-After`,
    /// which a 503 may carry).
    pub retry_after: Option<Duration>,
}

/// `email_verification_required`: send the user a code, then call
/// `authenticate_with_email_verification`.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailVerificationRequired {
    /// The HTTP status (403).
    pub status: u16,
    /// WorkOS's message.
    pub message: String,
    /// The token the next call takes.
    pub pending_authentication_token: Secret,
    /// The address to verify.
    pub email: Option<String>,
    /// The verification WorkOS created.
    pub email_verification_id: Option<String>,
    /// The user, when WorkOS includes it.
    pub user: Option<User>,
    /// The `X-Request-ID`.
    pub request_id: Option<String>,
}

/// `mfa_enrollment`: the user must set up a second factor. Enroll one for
/// [`user`](Self::user) with
/// [`enroll_auth_factor`](super::UserManagement::enroll_auth_factor) (its
/// answer holds the secret to show and a first challenge), then call
/// `authenticate_with_totp` with that challenge's id, the user's code and the
/// pending token.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaEnrollment {
    /// The HTTP status.
    pub status: u16,
    /// WorkOS's message.
    pub message: String,
    /// The token the next call takes.
    pub pending_authentication_token: Secret,
    /// The user.
    pub user: Option<User>,
    /// The `X-Request-ID`.
    pub request_id: Option<String>,
}

impl MfaEnrollment {
    /// The id of the user to enroll a factor for.
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.id.as_str())
    }
}

/// A factor offered by an `mfa_challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChallengeFactor {
    /// The factor's id.
    pub id: String,
    /// The factor's type.
    #[serde(rename = "type")]
    pub kind: super::types::AuthenticationFactorType,
}

/// `mfa_challenge`: the user has a second factor. Challenge one of
/// [`authentication_factors`](Self::authentication_factors) with
/// [`challenge_auth_factor`](super::UserManagement::challenge_auth_factor)
/// (unless WorkOS sent [`authentication_challenge`](Self::authentication_challenge)
/// already), then call `authenticate_with_totp` with the challenge's id, the
/// user's code and the pending token.
#[derive(Debug, Clone, PartialEq)]
pub struct MfaChallenge {
    /// The HTTP status.
    pub status: u16,
    /// WorkOS's message.
    pub message: String,
    /// The token the next call takes.
    pub pending_authentication_token: Secret,
    /// The user.
    pub user: Option<User>,
    /// The factors the user can answer with.
    pub authentication_factors: Vec<ChallengeFactor>,
    /// A challenge WorkOS already created, when the body carries one
    /// (WorkOS's documented `mfa_challenge` body does not: challenge a factor).
    pub authentication_challenge: Option<AuthenticationChallenge>,
    /// The `X-Request-ID`.
    pub request_id: Option<String>,
}

impl MfaChallenge {
    /// The first TOTP factor offered, the one an authenticator app answers.
    pub fn totp_factor(&self) -> Option<&ChallengeFactor> {
        self.authentication_factors
            .iter()
            .find(|f| f.kind == super::types::AuthenticationFactorType::Totp)
    }
}

/// An organization offered by `organization_selection_required`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrganizationChoice {
    /// The organization's id.
    pub id: String,
    /// The organization's name.
    #[serde(default)]
    pub name: String,
}

/// `organization_selection_required`: let the user pick, then
/// `authenticate_with_organization_selection`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationSelectionRequired {
    /// The HTTP status.
    pub status: u16,
    /// WorkOS's message.
    pub message: String,
    /// The token the next call takes.
    pub pending_authentication_token: Secret,
    /// The user.
    pub user: Option<User>,
    /// The organizations to choose from.
    pub organizations: Vec<OrganizationChoice>,
    /// The `X-Request-ID`.
    pub request_id: Option<String>,
}

/// `sso_required`: send the user through one of the connections.
#[derive(Debug, Clone, PartialEq)]
pub struct SsoRequired {
    /// The HTTP status.
    pub status: u16,
    /// WorkOS's message.
    pub message: String,
    /// The token, when WorkOS sends one.
    pub pending_authentication_token: Option<Secret>,
    /// The user's email address.
    pub email: Option<String>,
    /// The SSO connections that can sign the user in.
    pub connection_ids: Vec<String>,
    /// The `X-Request-ID`.
    pub request_id: Option<String>,
}

/// A WorkOS error body, read field by field: the scalars that decide the
/// variant (`code`, `error`, `message`, the pending token) are taken first,
/// and each nested object (`user`, a factor, an organization, a field error)
/// on its own, left out when it does not parse. One odd field in a nested
/// object must not cost the caller the challenge and its pending token.
#[derive(Default)]
struct ErrorBody(serde_json::Map<String, serde_json::Value>);

impl ErrorBody {
    /// The body's fields; anything but a JSON object reads as no fields.
    fn parse(body: &[u8]) -> Self {
        match serde_json::from_slice(body) {
            Ok(serde_json::Value::Object(map)) => ErrorBody(map),
            _ => ErrorBody::default(),
        }
    }

    /// A string field; `None` when absent or not a string.
    fn string(&self, key: &str) -> Option<String> {
        self.0.get(key)?.as_str().map(str::to_owned)
    }

    /// A nested object; `None` when absent, null or unreadable.
    fn object<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = self.0.get(key).filter(|v| !v.is_null())?;
        lenient(key, value)
    }

    /// An array field, keeping the entries that parse.
    fn array<T: DeserializeOwned>(&self, key: &str) -> Vec<T> {
        match self.0.get(key) {
            Some(serde_json::Value::Array(items)) => {
                items.iter().filter_map(|v| lenient(key, v)).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// Parses `value`, or logs the field's name (never the value nor serde's
/// message, which can quote it) and gives `None`.
fn lenient<T: DeserializeOwned>(key: &str, value: &serde_json::Value) -> Option<T> {
    match T::deserialize(value) {
        Ok(v) => Some(v),
        Err(_) => {
            tracing::debug!(
                field = key,
                "left out an unreadable object of a WorkOS error body"
            );
            None
        }
    }
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `Retry-After` as delta-seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

impl Error {
    /// Turns a non-2xx answer into the matching variant.
    pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
        let request_id = request_id(headers);
        let status_u16 = status.as_u16();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Error::RateLimited {
                retry_after: retry_after(headers),
                request_id,
            };
        }
        let body = ErrorBody::parse(body);
        let code = body.string("code");
        let error = body.string("error");
        let error_description = body.string("error_description");
        let message = body
            .string("message")
            .or_else(|| error_description.clone())
            .unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("unknown error")
                    .to_owned()
            });
        // Challenges are named by `code`, except `sso_required`, which can come as `error`.
        let discriminant = code.as_deref().or(error.as_deref());
        let pending = body
            .string("pending_authentication_token")
            .map(Secret::from);
        match (discriminant, pending) {
            (Some("email_verification_required"), Some(token)) => {
                return Error::EmailVerificationRequired(Box::new(EmailVerificationRequired {
                    status: status_u16,
                    message,
                    pending_authentication_token: token,
                    email: body.string("email"),
                    email_verification_id: body.string("email_verification_id"),
                    user: body.object("user"),
                    request_id,
                }));
            }
            (Some("mfa_enrollment"), Some(token)) => {
                return Error::MfaEnrollment(Box::new(MfaEnrollment {
                    status: status_u16,
                    message,
                    pending_authentication_token: token,
                    user: body.object("user"),
                    request_id,
                }));
            }
            (Some("mfa_challenge"), Some(token)) => {
                return Error::MfaChallenge(Box::new(MfaChallenge {
                    status: status_u16,
                    message,
                    pending_authentication_token: token,
                    user: body.object("user"),
                    authentication_factors: body.array("authentication_factors"),
                    authentication_challenge: body.object("authentication_challenge"),
                    request_id,
                }));
            }
            (Some("organization_selection_required"), Some(token)) => {
                return Error::OrganizationSelectionRequired(Box::new(
                    OrganizationSelectionRequired {
                        status: status_u16,
                        message,
                        pending_authentication_token: token,
                        user: body.object("user"),
                        organizations: body.array("organizations"),
                        request_id,
                    },
                ));
            }
            (Some("sso_required"), token) => {
                return Error::SsoRequired(Box::new(SsoRequired {
                    status: status_u16,
                    message,
                    pending_authentication_token: token,
                    email: body.string("email"),
                    connection_ids: body.array("connection_ids"),
                    request_id,
                }));
            }
            _ => {}
        }
        if code.is_none()
            && let Some(error) = error.as_deref()
        {
            return Error::OAuth(Box::new(OAuthError {
                status: status_u16,
                error: OAuthErrorCode::from(error),
                description: error_description,
                request_id,
                retry_after: retry_after(headers),
            }));
        }
        Error::Api(Box::new(ApiError {
            status: status_u16,
            code,
            message,
            errors: body.array("errors"),
            entity_id: body.string("entity_id"),
            request_id,
            retry_after: retry_after(headers),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decode_error_names_where_it_failed_but_never_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Answer {
            count: u32,
        }
        let body = br#"{"count": "sk_live_the_value_must_not_show"}"#;
        let source = serde_json::from_slice::<Answer>(body).unwrap_err();
        let e = Error::Decode {
            status: 200,
            request_id: None,
            source: DecodeError::new(source),
        };
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("sk_live"), "{shown}");
        assert!(e.to_string().contains("line 1 column"), "{e}");
        assert!(std::error::Error::source(&e).is_some_and(|s| !s.to_string().contains("sk_live")));
    }

    fn parse(status: u16, body: serde_json::Value) -> Error {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req_1".parse().unwrap());
        Error::from_response(
            StatusCode::from_u16(status).unwrap(),
            &headers,
            body.to_string().as_bytes(),
        )
    }

    #[test]
    fn sso_required_is_recognised_under_error_as_well_as_code() {
        let e = parse(
            403,
            serde_json::json!({"error": "sso_required", "error_description": "Use SSO",
                "email": "a@b.c", "connection_ids": ["conn_1"], "pending_authentication_token": "pat"}),
        );
        let Error::SsoRequired(sso) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(sso.connection_ids, ["conn_1"]);
        assert_eq!(e.pending_authentication_token().unwrap().expose(), "pat");
        assert_eq!(e.request_id(), Some("req_1"));
    }

    #[test]
    fn challenge_debug_and_display_do_not_show_the_pending_token() {
        let e = parse(
            403,
            serde_json::json!({"code": "mfa_challenge", "message": "m",
                "pending_authentication_token": "very-secret-pending", "authentication_factors": [{"id": "f", "type": "totp"}]}),
        );
        assert!(matches!(e, Error::MfaChallenge(_)));
        assert!(!format!("{e:?} {e}").contains("very-secret-pending"));
    }

    #[test]
    fn an_mfa_challenge_carries_the_user_the_factors_the_token_and_a_challenge_if_sent() {
        let user = serde_json::json!({"object": "user", "id": "user_1", "email": "a@b.c",
            "email_verified": true, "created_at": "t", "updated_at": "t"});
        let e = parse(
            403,
            serde_json::json!({"code": "mfa_challenge", "message": "m", "user": user,
                "pending_authentication_token": "pat",
                "authentication_factors": [{"id": "sms_1", "type": "sms"}, {"id": "f_1", "type": "totp"}],
                "authentication_challenge": {"id": "c_1", "authentication_factor_id": "f_1",
                    "created_at": "t", "updated_at": "t"}}),
        );
        let Error::MfaChallenge(c) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(c.user.as_ref().unwrap().id, "user_1");
        assert_eq!(c.totp_factor().unwrap().id, "f_1");
        assert_eq!(c.authentication_challenge.as_ref().unwrap().id, "c_1");
        assert_eq!(e.pending_authentication_token().unwrap().expose(), "pat");
        // WorkOS's documented body has no challenge: none, and nothing lost.
        let e = parse(
            403,
            serde_json::json!({"code": "mfa_enrollment", "message": "m", "user": user,
                "pending_authentication_token": "pat"}),
        );
        let Error::MfaEnrollment(m) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(m.user_id(), Some("user_1"));
    }

    #[test]
    fn non_json_bodies_become_api_errors_with_the_status_reason() {
        let e = Error::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>");
        let Error::Api(api) = &e else { panic!() };
        assert_eq!(api.status, 502);
        assert_eq!(api.message, "Bad Gateway");
        assert!(e.is_transient());
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        h.insert(
            "retry-after",
            httpdate::fmt_http_date(later).parse().unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
    }

    #[test]
    fn a_503s_retry_after_is_kept_on_its_api_error() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "42".parse().unwrap());
        let e = Error::from_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &h,
            br#"{"message": "Service Unavailable"}"#,
        );
        let Error::Api(api) = &e else { panic!("{e:?}") };
        assert_eq!(api.status, 503);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(42)));
        assert!(e.is_transient());
        // An OAuth-shaped body (the authenticate endpoint's) keeps it too.
        let e = Error::from_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &h,
            br#"{"error": "temporarily_unavailable", "error_description": "try later"}"#,
        );
        assert!(matches!(e, Error::OAuth(_)), "{e:?}");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(42)));
        // Without the header, nothing is made up.
        let e = Error::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>");
        assert_eq!(e.retry_after(), None);
    }
}
