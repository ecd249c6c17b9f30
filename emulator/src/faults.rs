//! Fault injection and request counters, applied by one middleware in front
//! of every route.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;

/// The path whose requests are also counted per `grant_type`.
pub(crate) const AUTHENTICATE_PATH: &str = "/user_management/authenticate";

/// A misbehaviour to inject: answer a status, or hang before answering.
///
/// A fault applies to the next request (or the next [`times`](Self::times)
/// requests) whose path starts with the prefix given to [`Faults::inject`];
/// [`for_grant`](Self::for_grant) narrows it to one grant type of the
/// authenticate endpoint.
///
/// ```
/// use std::time::Duration;
/// use authkit_emulator::Fault;
///
/// let flaky = Fault::status(503).times(2).with_retry_after(Duration::from_secs(1));
/// let slow_refresh = Fault::hang(Duration::from_secs(5)).for_grant("refresh_token");
/// # let _ = (flaky, slow_refresh);
/// ```
#[derive(Clone, PartialEq)]
#[must_use]
pub struct Fault {
    kind: FaultKind,
    remaining: Option<u32>,
    grant_type: Option<String>,
}

#[derive(Clone, PartialEq)]
enum FaultKind {
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Option<Value>,
    },
    Hang(Duration),
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Fault");
        match &self.kind {
            FaultKind::Status {
                status,
                retry_after,
                ..
            } => d
                .field("status", &status.as_u16())
                .field("retry_after", retry_after),
            FaultKind::Hang(duration) => d.field("hang", duration),
        };
        d.field("remaining", &self.remaining)
            .field("grant_type", &self.grant_type)
            .finish()
    }
}

impl Fault {
    /// Answer `status` (with a WorkOS-shaped `{"message": …}` body) instead of
    /// handling the request. Once, unless [`times`](Self::times) says otherwise.
    ///
    /// # Panics
    /// When `status` is not a valid HTTP status code (100–999).
    pub fn status(status: u16) -> Self {
        Fault {
            kind: FaultKind::Status {
                status: StatusCode::from_u16(status).expect("a valid HTTP status code"),
                retry_after: None,
                body: None,
            },
            remaining: Some(1),
            grant_type: None,
        }
    }

    /// Wait `duration` (real time) before handling the request normally:
    /// longer than a client's timeout, it looks like a hung server.
    pub fn hang(duration: Duration) -> Self {
        Fault {
            kind: FaultKind::Hang(duration),
            remaining: Some(1),
            grant_type: None,
        }
    }

    /// Apply to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Apply to every matching request until [`Faults::clear`].
    pub fn forever(mut self) -> Self {
        self.remaining = None;
        self
    }

    /// Send `Retry-After: <seconds>` with the status.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        if let FaultKind::Status { retry_after, .. } = &mut self.kind {
            *retry_after = Some(after);
        }
        self
    }

    /// Answer this JSON body instead of `{"message": <reason>}`.
    pub fn with_body(mut self, json: Value) -> Self {
        if let FaultKind::Status { body, .. } = &mut self.kind {
            *body = Some(json);
        }
        self
    }

    /// Apply only to authenticate calls with this `grant_type`
    /// (`refresh_token`, `password`, `authorization_code`, …).
    pub fn for_grant(mut self, grant_type: impl Into<String>) -> Self {
        self.grant_type = Some(grant_type.into());
        self
    }
}

#[derive(Debug)]
struct Rule {
    prefix: String,
    fault: Fault,
}

/// The faults waiting to be applied. Get it with
/// [`Emulator::faults`](super::Emulator::faults).
#[derive(Clone)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Rule>>>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faults")
            .field("rules", &*self.lock())
            .finish()
    }
}

impl Faults {
    pub(crate) fn new() -> Self {
        Faults {
            rules: Arc::new(Mutex::new(Vec::new())),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Rule>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `fault` to requests whose path starts with `path_prefix`
    /// (e.g. `/user_management/authenticate`, `/sso/jwks`, `/`). Faults are
    /// tried in the order injected; the first that matches is used.
    pub fn inject(&self, path_prefix: impl Into<String>, fault: Fault) {
        self.lock().push(Rule {
            prefix: path_prefix.into(),
            fault,
        });
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// How many faults are still waiting (a [`forever`](Fault::forever) one counts once).
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// The fault for this request, used up by one.
    fn take(&self, path: &str, grant_type: Option<&str>) -> Option<FaultKind> {
        let mut rules = self.lock();
        let i = rules.iter().position(|r| {
            path.starts_with(&r.prefix)
                && r.fault
                    .grant_type
                    .as_deref()
                    .is_none_or(|g| Some(g) == grant_type)
        })?;
        let kind = rules[i].fault.kind.clone();
        if let Some(n) = &mut rules[i].fault.remaining {
            *n = n.saturating_sub(1);
            if *n == 0 {
                rules.remove(i);
            }
        }
        Some(kind)
    }
}

/// Requests seen, per path and per `grant_type`.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    paths: Mutex<HashMap<String, u64>>,
    grants: Mutex<HashMap<String, u64>>,
    /// Per path, the requests that carried an `Authorization` header.
    authorized: Mutex<HashMap<String, u64>>,
}

impl Counters {
    fn record(&self, path: &str, grant_type: Option<&str>, authorized: bool) {
        *lock(&self.paths).entry(path.to_owned()).or_default() += 1;
        if authorized {
            *lock(&self.authorized).entry(path.to_owned()).or_default() += 1;
        }
        if let Some(grant) = grant_type {
            *lock(&self.grants).entry(grant.to_owned()).or_default() += 1;
        }
    }

    pub(crate) fn path(&self, path: &str) -> u64 {
        lock(&self.paths).get(path).copied().unwrap_or(0)
    }

    pub(crate) fn grant(&self, grant_type: &str) -> u64 {
        lock(&self.grants).get(grant_type).copied().unwrap_or(0)
    }

    pub(crate) fn authorized(&self, path: &str) -> u64 {
        lock(&self.authorized).get(path).copied().unwrap_or(0)
    }

    pub(crate) fn reset(&self) {
        lock(&self.authorized).clear();
        lock(&self.paths).clear();
        lock(&self.grants).clear();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The middleware: counts the request, applies a fault if one matches, and
/// stamps an `X-Request-ID` on the answer.
pub(crate) async fn layer(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let (request, grant_type) = if path == AUTHENTICATE_PATH {
        read_grant_type(request).await
    } else {
        (request, None)
    };
    let authorized = request
        .headers()
        .contains_key(axum::http::header::AUTHORIZATION);
    shared
        .counters
        .record(&path, grant_type.as_deref(), authorized);
    let mut response = match shared.faults.take(&path, grant_type.as_deref()) {
        Some(FaultKind::Status {
            status,
            retry_after,
            body,
        }) => {
            let body = body.unwrap_or_else(
                || json!({"message": status.canonical_reason().unwrap_or("Injected fault")}),
            );
            let mut response = (status, Json(body)).into_response();
            if let Some(after) = retry_after {
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    HeaderValue::from(after.as_secs()),
                );
            }
            response
        }
        Some(FaultKind::Hang(duration)) => {
            tokio::time::sleep(duration).await;
            next.run(request).await
        }
        None => next.run(request).await,
    };
    if let Ok(id) = HeaderValue::from_str(&super::ids::token(32)) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// Buffers the body to read its `grant_type`, then puts it back.
async fn read_grant_type(request: Request) -> (Request, Option<String>) {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return (Request::from_parts(parts, Body::empty()), None);
    };
    let body = if super::reply::is_form(&parts.headers) {
        Some(super::reply::form_object(&bytes))
    } else {
        serde_json::from_slice::<Value>(&bytes).ok()
    };
    let grant = body.and_then(|v| v.get("grant_type")?.as_str().map(str::to_owned));
    (Request::from_parts(parts, Body::from(bytes)), grant)
}
