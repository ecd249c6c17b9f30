//! WorkOS webhooks: verify the signature, read the event, answer clearly.
//!
//! WorkOS posts each [`Event`] as JSON with a `WorkOS-Signature: t=<unix
//! ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">` header, keyed by the endpoint's
//! secret. [`WebhookVerifier`] checks it as the WorkOS SDKs do (a timestamp
//! at most 180 s old, the MAC compared in constant time) and parses the
//! event; the [`Webhook`] extractor does it for a handler, with the verifier
//! taken from the router's state.
//!
//! ```
//! use authkit_axum::client::EventData;
//! use authkit_axum::webhooks::{Webhook, WebhookVerifier};
//! use axum::{Router, http::StatusCode, routing::post};
//!
//! async fn workos_webhook(Webhook(event): Webhook) -> StatusCode {
//!     match &event.data {
//!         EventData::UserCreated(user) | EventData::UserUpdated(user) => {
//!             /* upsert `user` (deduplicate by `event.id`: WorkOS retries) */
//!             let _ = user;
//!         }
//!         EventData::UserDeleted(user) => { /* delete it */ let _ = user; }
//!         _ => {} // the rest: ignore, but still answer 2xx
//!     }
//!     StatusCode::OK
//! }
//!
//! let verifier = WebhookVerifier::new("whsec_from_the_dashboard"); // or ::from_env()?
//! let app: Router = Router::new()
//!     .route("/webhooks/workos", post(workos_webhook))
//!     .with_state(verifier);
//! ```
//!
//! With a state of your own, give the verifier to the extractor through
//! `FromRef` (`impl FromRef<AppState> for WebhookVerifier`). A refused
//! request gets JSON `{"error": …, "message": …}`: 401 for a missing,
//! malformed, stale or wrong signature, 400 for a body that is not an event,
//! 413 for one over the size limit ([`WebhookVerifier::with_max_body_size`],
//! 1 MiB by default). The secret and the expected signature are never in an
//! answer, an error or a log.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use http::StatusCode;
use sha2::Sha256;

use crate::Secret;
use crate::client::Event;
use crate::config::{self, ConfigError, required_var};

/// The name of the header WorkOS signs webhooks with.
pub const SIGNATURE_HEADER: &str = "WorkOS-Signature";
/// How old a signature may be by default: 180 s, the WorkOS SDKs' tolerance.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(180);
/// The largest body [`Webhook`] reads by default: 1 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 1024 * 1024;

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Verifies WorkOS webhook signatures and parses the events. Cheap to clone.
///
/// ```
/// use authkit_axum::webhooks::{WebhookError, WebhookVerifier};
///
/// let verifier = WebhookVerifier::new("whsec_test");
/// let body = br#"{"id":"event_1","event":"user.deleted","created_at":"t","data":{}}"#;
/// let header = verifier.signature_header(body, std::time::SystemTime::now());
/// let event = verifier.verify(body, &header).unwrap();
/// assert_eq!(event.event, "user.deleted");
/// assert!(matches!(verifier.verify(b"{}", &header), Err(WebhookError::BadSignature)));
/// ```
#[derive(Clone)]
pub struct WebhookVerifier {
    secret: Secret,
    tolerance: Duration,
    max_body_size: usize,
    clock: Clock,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret", &self.secret)
            .field("tolerance", &self.tolerance)
            .field("max_body_size", &self.max_body_size)
            .finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    /// A verifier for the endpoint's secret (the WorkOS dashboard shows it).
    /// An empty secret refuses every webhook ([`WebhookError::NoSecret`]).
    pub fn new(secret: impl Into<Secret>) -> Self {
        WebhookVerifier {
            secret: secret.into(),
            tolerance: DEFAULT_TOLERANCE,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// A verifier for the secret in `WORKOS_WEBHOOK_SECRET`.
    ///
    /// ```
    /// # fn run() -> Result<(), authkit_axum::ConfigError> {
    /// let verifier = authkit_axum::webhooks::WebhookVerifier::from_env()?;
    /// # let _ = verifier; Ok(()) }
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(required_var(config::WEBHOOK_SECRET)?))
    }

    /// How old (or how far ahead of this clock) a signature's timestamp may
    /// be (default 180 s, as the WorkOS SDKs). The SDKs accept any future
    /// timestamp; this one accepts one at most this far ahead (clock skew),
    /// so a signature made for later cannot be kept and replayed then.
    ///
    /// ```
    /// # use authkit_axum::webhooks::WebhookVerifier;
    /// let strict = WebhookVerifier::new("whsec").with_tolerance(std::time::Duration::from_secs(30));
    /// assert_eq!(strict.tolerance(), std::time::Duration::from_secs(30));
    /// ```
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The largest body the [`Webhook`] extractor reads (default 1 MiB); a
    /// larger one is 413.
    ///
    /// ```
    /// # use authkit_axum::webhooks::WebhookVerifier;
    /// let small = WebhookVerifier::new("whsec").with_max_body_size(64 * 1024);
    /// assert_eq!(small.max_body_size(), 64 * 1024);
    /// ```
    pub fn with_max_body_size(mut self, bytes: usize) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// The clock timestamps are judged by (default the system clock), for tests.
    ///
    /// ```
    /// # use authkit_axum::webhooks::WebhookVerifier;
    /// use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    /// let verifier = WebhookVerifier::new("whsec").with_clock(move || at);
    /// let header = verifier.signature_header(b"{}", at);
    /// assert!(verifier.verify_signature(b"{}", &header).is_ok());
    /// ```
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The tolerance in force.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// The body size limit in force.
    pub fn max_body_size(&self) -> usize {
        self.max_body_size
    }

    /// Checks the signature of `body` (the bytes exactly as received) against
    /// the `WorkOS-Signature` header's value, then parses the event.
    pub fn verify(&self, body: &[u8], signature_header: &str) -> Result<Event, WebhookError> {
        self.verify_signature(body, signature_header)?;
        serde_json::from_slice(body).map_err(|e| WebhookError::BadBody(e.to_string()))
    }

    /// Checks the signature only (for a body you parse yourself).
    pub fn verify_signature(
        &self,
        body: &[u8],
        signature_header: &str,
    ) -> Result<(), WebhookError> {
        if self.secret.expose().trim().is_empty() {
            return Err(WebhookError::NoSecret);
        }
        let header = SignatureHeader::parse(signature_header)?;
        let now = millis((self.clock)());
        let tolerance = i128::try_from(self.tolerance.as_millis()).unwrap_or(i128::MAX);
        let signed = i128::from(header.timestamp);
        if signed < now - tolerance {
            return Err(WebhookError::StaleTimestamp);
        }
        if signed > now + tolerance {
            return Err(WebhookError::FutureTimestamp);
        }
        let mac = self.mac(header.timestamp_text, body);
        // Any of the `v1` values may match (a secret being rotated signs twice).
        let matched = header
            .signatures
            .iter()
            .filter_map(|hex| decode_hex(hex))
            .any(|sig| mac.clone().verify_slice(&sig).is_ok());
        if matched {
            Ok(())
        } else {
            Err(WebhookError::BadSignature)
        }
    }

    /// The `WorkOS-Signature` value WorkOS would send for `body` at `at`:
    /// for testing your own webhook handlers.
    ///
    /// ```
    /// # use authkit_axum::webhooks::WebhookVerifier;
    /// let header = WebhookVerifier::new("whsec").signature_header(b"{}", std::time::UNIX_EPOCH);
    /// assert!(header.starts_with("t=0, v1="));
    /// ```
    pub fn signature_header(&self, body: &[u8], at: SystemTime) -> String {
        let t = millis(at).to_string();
        let hex: String = self
            .mac(&t, body)
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("t={t}, v1={hex}")
    }

    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose().as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// Milliseconds since the epoch (negative before it).
fn millis(at: SystemTime) -> i128 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// A parsed `WorkOS-Signature` value.
#[derive(Debug, PartialEq, Eq)]
struct SignatureHeader<'a> {
    timestamp: u64,
    /// The timestamp as sent: what was signed.
    timestamp_text: &'a str,
    signatures: Vec<&'a str>,
}

impl<'a> SignatureHeader<'a> {
    /// `t=<ms>, v1=<hex>`: comma-separated `key=value` pairs in any order,
    /// spaces around them ignored, one `t`, one or more `v1`, other keys
    /// (later schemes) ignored.
    fn parse(value: &'a str) -> Result<Self, WebhookError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in value.split(',') {
            let Some((key, val)) = part.trim().split_once('=') else {
                return Err(WebhookError::MalformedHeader("expected `key=value` pairs"));
            };
            match key.trim() {
                "t" if timestamp.is_some() => {
                    return Err(WebhookError::MalformedHeader("more than one timestamp"));
                }
                "t" => timestamp = Some(val.trim()),
                "v1" => signatures.push(val.trim()),
                _ => {}
            }
        }
        let timestamp_text =
            timestamp.ok_or(WebhookError::MalformedHeader("no timestamp (`t=`)"))?;
        if timestamp_text.is_empty() || !timestamp_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WebhookError::MalformedHeader(
                "the timestamp is not a number of milliseconds",
            ));
        }
        let timestamp = timestamp_text.parse().map_err(|_| {
            WebhookError::MalformedHeader("the timestamp is not a number of milliseconds")
        })?;
        if signatures.is_empty() {
            return Err(WebhookError::MalformedHeader(
                "no signature with the expected scheme (`v1=`)",
            ));
        }
        Ok(SignatureHeader {
            timestamp,
            timestamp_text,
            signatures,
        })
    }
}

/// Why a webhook was refused. Never quotes the secret or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The request has no `WorkOS-Signature` header (or not one in ASCII).
    #[error("the WorkOS-Signature header is missing")]
    MissingHeader,
    /// The header is not `t=<ms>, v1=<hex>`.
    #[error("the WorkOS-Signature header is malformed: {0}")]
    MalformedHeader(&'static str),
    /// The signature is older than the tolerance (a replay, or a very late delivery).
    #[error("the signature's timestamp is outside the tolerance (too old)")]
    StaleTimestamp,
    /// The signature's timestamp is further ahead than the tolerance.
    #[error("the signature's timestamp is outside the tolerance (in the future)")]
    FutureTimestamp,
    /// No `v1` signature matches the body and the secret.
    #[error("the signature does not match the body")]
    BadSignature,
    /// The body is signed but is not an event.
    #[error("the body is not a WorkOS event: {0}")]
    BadBody(String),
    /// The body is larger than the limit.
    #[error("the body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read from the connection.
    #[error("the body could not be read")]
    UnreadableBody,
    /// The verifier was made with an empty secret: every webhook is
    /// refused, since a MAC under an empty key is one anybody can compute.
    #[error("the webhook secret is empty: set the endpoint's secret from the WorkOS dashboard")]
    NoSecret,
}

impl WebhookError {
    /// The answer's status: 401 for the signature, 400 for the body, 413 for its size,
    /// 500 for a verifier without a secret (a configuration mistake).
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookError::MissingHeader
            | WebhookError::MalformedHeader(_)
            | WebhookError::StaleTimestamp
            | WebhookError::FutureTimestamp
            | WebhookError::BadSignature => StatusCode::UNAUTHORIZED,
            WebhookError::BadBody(_) | WebhookError::UnreadableBody => StatusCode::BAD_REQUEST,
            WebhookError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::NoSecret => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code for the answer's `error` field.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingHeader => "missing_signature",
            WebhookError::MalformedHeader(_) => "malformed_signature",
            WebhookError::StaleTimestamp | WebhookError::FutureTimestamp => "stale_signature",
            WebhookError::BadSignature => "invalid_signature",
            WebhookError::BadBody(_) | WebhookError::UnreadableBody => "invalid_body",
            WebhookError::BodyTooLarge { .. } => "body_too_large",
            WebhookError::NoSecret => "webhook_secret_missing",
        }
    }
}

/// A verified WorkOS event, as a handler argument: reads the body (up to
/// the verifier's limit), checks the `WorkOS-Signature` header and parses
/// the event, or answers with a [`WebhookRejection`]. The
/// [`WebhookVerifier`] comes from the router's state (`FromRef`); see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct Webhook(pub Event);

impl<S> FromRequest<S> for Webhook
where
    WebhookVerifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = WebhookRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = WebhookVerifier::from_ref(state);
        let outcome = verify_request(&verifier, req).await;
        match outcome {
            Ok(event) => {
                tracing::debug!(event_id = %event.id, event = %event.event, "webhook verified");
                Ok(Webhook(event))
            }
            Err(error) => {
                tracing::debug!(outcome = error.code(), error = %error, "webhook refused");
                Err(WebhookRejection { error })
            }
        }
    }
}

async fn verify_request(verifier: &WebhookVerifier, req: Request) -> Result<Event, WebhookError> {
    let header = match req.headers().get(SIGNATURE_HEADER) {
        Some(value) => value
            .to_str()
            .map_err(|_| WebhookError::MalformedHeader("not ASCII"))?
            .to_owned(),
        None => return Err(WebhookError::MissingHeader),
    };
    let body = read_body(req.into_body(), verifier.max_body_size).await?;
    verifier.verify(&body, &header)
}

/// The body, or `BodyTooLarge` as soon as it passes `limit` (a declared
/// `Content-Length` over it is refused before reading anything).
async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, WebhookError> {
    use axum::body::HttpBody as _;
    let too_large = WebhookError::BodyTooLarge { limit };
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large);
    }
    let mut out = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| WebhookError::UnreadableBody)?;
        if out.len() + chunk.len() > limit {
            return Err(too_large);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// How [`Webhook`] refuses a request: JSON `{"error": <code>, "message": …}`
/// with 401, 400 or 413 (see [`WebhookError::status`]).
#[derive(Debug)]
pub struct WebhookRejection {
    error: WebhookError,
}

impl WebhookRejection {
    /// Why.
    pub fn error(&self) -> &WebhookError {
        &self.error
    }

    /// The status it answers with.
    pub fn status(&self) -> StatusCode {
        self.error.status()
    }

    /// The JSON body it answers with.
    pub fn body_text(&self) -> String {
        serde_json::json!({"error": self.error.code(), "message": self.error.to_string()})
            .to_string()
    }
}

impl fmt::Display for WebhookRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for WebhookRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl IntoResponse for WebhookRejection {
    fn into_response(self) -> Response {
        (
            self.status(),
            [(http::header::CONTENT_TYPE, "application/json")],
            self.body_text(),
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: u64 = 1_700_000_000_000;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn verifier_at(ms: u64) -> WebhookVerifier {
        WebhookVerifier::new("whsec_unit").with_clock(move || at(ms))
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() {
        // Computed independently: printf '1700000000000.{}' | openssl dgst -sha256 -hmac whsec_unit
        let header = verifier_at(AT).signature_header(b"{}", at(AT));
        let expected = {
            let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_unit").unwrap();
            mac.update(b"1700000000000.{}");
            mac.finalize().into_bytes()
        };
        let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(header, format!("t=1700000000000, v1={hex}"));
    }

    #[test]
    fn an_empty_secret_refuses_every_webhook_even_one_signed_with_it() {
        for empty in ["", "  "] {
            let verifier = WebhookVerifier::new(empty).with_clock(move || at(AT));
            let header = verifier.signature_header(b"{}", at(AT));
            let err = verifier.verify_signature(b"{}", &header).unwrap_err();
            assert!(matches!(err, WebhookError::NoSecret), "{err:?}");
            assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        }
    }

    #[test]
    fn the_tolerance_edges_are_inclusive_both_ways() {
        let signer = verifier_at(AT);
        let tol = DEFAULT_TOLERANCE.as_millis() as u64;
        for (signed, ok) in [
            (AT - tol, true),
            (AT - tol - 1, false),
            (AT + tol, true),
            (AT + tol + 1, false),
        ] {
            let header = signer.signature_header(b"{}", at(signed));
            let result = signer.verify_signature(b"{}", &header);
            assert_eq!(result.is_ok(), ok, "signed at {signed}: {result:?}");
        }
        let old = signer.signature_header(b"{}", at(AT - tol - 1));
        assert_eq!(
            signer.verify_signature(b"{}", &old),
            Err(WebhookError::StaleTimestamp)
        );
    }

    #[test]
    fn the_header_parser_takes_any_order_spaces_and_several_signatures() {
        let v = verifier_at(AT);
        let good = v.signature_header(b"{}", at(AT));
        let sig = good.split("v1=").nth(1).unwrap();
        for header in [
            format!("v1={sig},t={AT}"),
            format!("  t = {AT} ,  v1 = {sig}  "),
            format!("t={AT}, v1={}, v1={sig}", "00".repeat(32)),
            format!("t={AT}, v0=abc, v1={sig}"),
        ] {
            assert_eq!(v.verify_signature(b"{}", &header), Ok(()), "{header}");
        }
    }

    #[test]
    fn malformed_headers_are_refused_with_a_reason() {
        let v = verifier_at(AT);
        for header in [
            "",
            "garbage",
            "t=, v1=ab",
            "t=12a, v1=ab",
            "t=-5, v1=ab",
            &format!("t={AT}"),
            &format!("t={AT}, t={AT}, v1=ab"),
            "v1=abcd",
            "t=99999999999999999999999999, v1=ab",
        ] {
            assert!(
                matches!(
                    v.verify_signature(b"{}", header),
                    Err(WebhookError::MalformedHeader(_))
                ),
                "{header:?}"
            );
        }
        // Not hex: just a signature that does not match.
        let header = format!("t={AT}, v1=zz");
        assert_eq!(
            v.verify_signature(b"{}", &header),
            Err(WebhookError::BadSignature)
        );
    }

    #[test]
    fn errors_and_debug_never_show_the_secret_or_the_expected_signature() {
        let v = verifier_at(AT);
        let good = v.signature_header(b"{}", at(AT));
        let sig = good.split("v1=").nth(1).unwrap().to_owned();
        let err = v.verify_signature(b"{\"tampered\":1}", &good).unwrap_err();
        let rejection = WebhookRejection { error: err.clone() };
        let shown = format!("{err} {err:?} {v:?} {} {rejection}", rejection.body_text());
        assert!(!shown.contains("whsec_unit"), "{shown}");
        // The signature of the tampered body is nowhere either.
        let expected = v.signature_header(b"{\"tampered\":1}", at(AT));
        let expected_sig = expected.split("v1=").nth(1).unwrap();
        assert!(!shown.contains(expected_sig) && !shown.contains(&sig));
    }

    #[test]
    fn statuses_are_401_for_signatures_400_for_bodies_413_for_size() {
        assert_eq!(
            WebhookError::BadSignature.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            WebhookError::StaleTimestamp.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            WebhookError::BadBody("x".into()).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            WebhookError::BodyTooLarge { limit: 1 }.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }
}
