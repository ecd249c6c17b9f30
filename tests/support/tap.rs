//! A front door to the emulator for one client: an HTTP server on its own
//! port that forwards every request to the emulator untouched and records
//! each refresh grant (the refresh token spent, what WorkOS answered). Give
//! each replica process its own tap as its WorkOS address and the test can
//! count refresh calls per replica, which the emulator's own counters (one
//! for everyone) cannot.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri, header};
use serde_json::Value;

/// One `POST /user_management/authenticate` with `grant_type=refresh_token`.
#[derive(Debug, Clone)]
pub struct RefreshCall {
    /// When it arrived.
    pub at: Instant,
    /// The refresh token it spent.
    pub token: String,
    /// WorkOS's answer.
    pub status: u16,
    /// The new refresh token and the user, from a successful answer.
    pub new_token: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    http: reqwest::Client,
    calls: Arc<Mutex<Vec<RefreshCall>>>,
}

/// A running tap.
#[derive(Clone)]
pub struct Tap {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub port: u16,
    calls: Arc<Mutex<Vec<RefreshCall>>>,
}

impl Tap {
    /// Starts a tap forwarding to `upstream` (the emulator's base URL).
    pub async fn start(upstream: &str) -> Tap {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            calls: calls.clone(),
        };
        let app = Router::new().fallback(forward).with_state(shared);
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Tap {
            base: format!("http://127.0.0.1:{port}"),
            port,
            calls,
        }
    }

    /// The refresh grants seen so far, in order of arrival.
    pub fn refresh_calls(&self) -> Vec<RefreshCall> {
        self.calls.lock().unwrap().clone()
    }
}

async fn forward(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let refresh_token = (method == Method::POST && uri.path() == "/user_management/authenticate")
        .then(|| serde_json::from_slice::<Value>(&body).ok())
        .flatten()
        .filter(|b| b["grant_type"] == "refresh_token")
        .and_then(|b| b["refresh_token"].as_str().map(str::to_owned));
    let at = Instant::now();
    let mut request = shared
        .http
        .request(method, format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in &headers {
        if name != header::HOST && name != header::CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => {
            return Response::builder()
                .status(502)
                .body(Body::from(format!("tap: {e}")))
                .unwrap();
        }
    };
    let status = answer.status();
    let mut response = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    if let Some(token) = refresh_token {
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        shared.calls.lock().unwrap().push(RefreshCall {
            at,
            token,
            status: status.as_u16(),
            new_token: json["refresh_token"].as_str().map(str::to_owned),
            email: json["user"]["email"].as_str().map(str::to_owned),
        });
    }
    response.body(Body::from(bytes)).unwrap()
}
