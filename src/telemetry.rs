//! What the crate tells about itself: its `tracing` events and spans, and,
//! with the `metrics` feature, counters and histograms through the
//! [`metrics`](https://docs.rs/metrics) facade (which every exporter —
//! Prometheus, StatsD, OpenTelemetry — plugs into).
//!
//! ## Tracing
//!
//! Every event's target is the module that emits it (`authkit_axum::…`), its
//! fields are structured, and no field ever holds a token, a cookie, a
//! password or a key. With `RUST_LOG=authkit_axum=debug`:
//!
//! | level | message | fields | target |
//! |---|---|---|---|
//! | debug span | `authenticate` | `source` (`cookie`, `bearer`, or empty: no credential), `outcome` (`authenticated`, `unavailable`, or the [reason](crate::session::UnauthenticatedReason::as_str) it is not), `user_id`, `session_id`, `cache` (`hit`, `miss`) | `authkit_axum::middleware::service` |
//! | info | `user signed in` | `user_id`, `organization_id`, `authentication_method` | `authkit_axum::session_cookies` |
//! | info (debug for requests that joined another's) | `session refreshed` | `user_id`, `session_id`, `duration` (this request's wait), `shared` (whether another request's refresh answered it): one info line per refresh the layer made; the organization switch's refreshes are counted by the metrics only | `authkit_axum::middleware::resolve` |
//! | info | `user signed out` | `user_id`, `session_id` | `authkit_axum::routes::logout` |
//! | debug | `session cookie rejected` | `reason`: `tampered` (MAC mismatch: wrong password or altered value), `expired_seal`, `unknown_password_id`, `malformed`, `token_invalid` (a token that does not verify), `unknown_key` (signed by a key WorkOS does not publish), `user_mismatch` | `authkit_axum::session` |
//! | debug | `fetched the WorkOS JWKS` | `keys` | `authkit_axum::session::jwks` |
//! | info | `the WorkOS key set changed` | `keys`, `generation` | `authkit_axum::session::jwks` |
//! | debug | `workos request` | `method`, `path` (no query string), `status` (none on a transport error), `attempt` (from 1), `duration`, `request_id` (WorkOS's `X-Request-ID`) | `authkit_axum::client` |
//!
//! Failures keep their warnings (a refresh WorkOS could not answer, JWKS
//! outages). The per-request span and the cookie events are at debug: when
//! that level is off they cost a level check, nothing is formatted or
//! allocated.
//!
//! ## Metrics (feature `metrics`)
//!
//! Recorded into whatever recorder the app installs (none: nothing is
//! recorded). No label holds an id, so their number stays small.
//!
//! | metric | kind | labels | counts |
//! |---|---|---|---|
//! | `authkit_sign_ins_total` | counter | — | sessions saved (the callback, the organization picker, [`AuthKit::save_session`](crate::AuthKit::save_session)) |
//! | `authkit_sign_outs_total` | counter | — | sign-outs through the logout route |
//! | `authkit_refreshes_total` | counter | `outcome`: `ok`, `session_ended` (WorkOS refused the refresh token), `unavailable` (WorkOS could not answer) | refreshes made at WorkOS (a refresh shared by concurrent requests counts once) |
//! | `authkit_refresh_duration_seconds` | histogram | — | how long those refreshes took |
//! | `authkit_rejected_cookies_total` | counter | `reason`: as the `session cookie rejected` event's | session cookies refused |
//! | `authkit_workos_requests_total` | counter | `method`, `status` (the HTTP status, or `error` when no answer came) | HTTP requests to WorkOS, each attempt of a retried call |
//! | `authkit_workos_request_duration_seconds` | histogram | `method` | how long each attempt took |
//!
//! [`describe_metrics`] gives each its unit and description (an exporter's
//! `# HELP` line); `examples/metrics.rs` in the repository serves them in
//! Prometheus's text format.

use std::time::Duration;

/// `authkit_sign_ins_total`.
pub const SIGN_INS: &str = "authkit_sign_ins_total";
/// `authkit_sign_outs_total`.
pub const SIGN_OUTS: &str = "authkit_sign_outs_total";
/// `authkit_refreshes_total{outcome}`.
pub const REFRESHES: &str = "authkit_refreshes_total";
/// `authkit_refresh_duration_seconds`.
pub const REFRESH_DURATION: &str = "authkit_refresh_duration_seconds";
/// `authkit_rejected_cookies_total{reason}`.
pub const REJECTED_COOKIES: &str = "authkit_rejected_cookies_total";
/// `authkit_workos_requests_total{method,status}`.
pub const WORKOS_REQUESTS: &str = "authkit_workos_requests_total";
/// `authkit_workos_request_duration_seconds{method}`.
pub const WORKOS_REQUEST_DURATION: &str = "authkit_workos_request_duration_seconds";

/// Registers the unit and description of every metric of the crate with the
/// installed recorder (what a Prometheus exporter prints as `# HELP`). Call
/// it once, after installing the recorder; metrics are recorded without it
/// too.
///
/// ```
/// // With a recorder installed (metrics_exporter_prometheus, …):
/// authkit_axum::telemetry::describe_metrics();
/// ```
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(SIGN_INS, Unit::Count, "Sessions saved after a sign-in.");
    describe_counter!(
        SIGN_OUTS,
        Unit::Count,
        "Sign-outs through the logout route."
    );
    describe_counter!(
        REFRESHES,
        Unit::Count,
        "Session refreshes made at WorkOS, by outcome."
    );
    describe_histogram!(
        REFRESH_DURATION,
        Unit::Seconds,
        "How long a session refresh at WorkOS took."
    );
    describe_counter!(
        REJECTED_COOKIES,
        Unit::Count,
        "Session cookies refused, by reason."
    );
    describe_counter!(
        WORKOS_REQUESTS,
        Unit::Count,
        "HTTP requests to WorkOS (each attempt), by method and status."
    );
    describe_histogram!(
        WORKOS_REQUEST_DURATION,
        Unit::Seconds,
        "How long one HTTP request to WorkOS took."
    );
}

/// A session was saved after a sign-in.
pub(crate) fn sign_in() {
    #[cfg(feature = "metrics")]
    metrics::counter!(SIGN_INS).increment(1);
}

/// A user signed out through the logout route.
pub(crate) fn sign_out() {
    #[cfg(feature = "metrics")]
    metrics::counter!(SIGN_OUTS).increment(1);
}

/// A refresh made at WorkOS: `outcome` is `ok`, `session_ended` or
/// `unavailable`.
pub(crate) fn refresh(outcome: &'static str, took: Duration) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!(REFRESHES, "outcome" => outcome).increment(1);
        metrics::histogram!(REFRESH_DURATION).record(took.as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (outcome, took);
}

/// A session cookie refused, and why.
pub(crate) fn rejected_cookie(reason: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(REJECTED_COOKIES, "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// One HTTP request to WorkOS: its method, its status (`None`: no answer
/// came), how long it took.
pub(crate) fn workos_request(method: &http::Method, status: Option<u16>, took: Duration) {
    #[cfg(feature = "metrics")]
    {
        let method = method_label(method);
        let status = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        metrics::counter!(WORKOS_REQUESTS, "method" => method, "status" => status).increment(1);
        metrics::histogram!(WORKOS_REQUEST_DURATION, "method" => method).record(took.as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (method, status, took);
}

/// The method as a label of few values.
#[cfg(feature = "metrics")]
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        _ => "other",
    }
}
