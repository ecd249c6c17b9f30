//! A recording HTTP server on 127.0.0.1 for client tests: it records every
//! request exactly as it arrived and answers from a queue of canned replies,
//! and the recorded WorkOS interactions in `tests/fixtures/workos-recorded/`.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authkit_axum::client::{RetryPolicy, UserManagement};
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub const API_KEY: &str = "sk_test_recording_key_123";
pub const CLIENT_ID: &str = "client_123";

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub raw_query: Option<String>,
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    /// The body parsed as JSON; `None` when the body was empty.
    pub body: Option<Value>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A canned reply.
#[derive(Debug, Clone)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub delay: Option<Duration>,
}

impl Canned {
    pub fn json(status: u16, body: Value) -> Self {
        Canned {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: if body.is_null() {
                String::new()
            } else {
                body.to_string()
            },
            delay: None,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    replies: VecDeque<Canned>,
}

pub struct MockServer {
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

impl MockServer {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let handler_state = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = handler_state.clone();
                async move { record(state, method, uri, headers, body).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        MockServer {
            base_url: format!("http://{addr}"),
            state,
        }
    }

    /// Queues a reply; replies are used in order, and an empty queue answers 500.
    pub fn reply(&self, canned: Canned) {
        self.state.lock().unwrap().replies.push_back(canned);
    }

    pub fn reply_json(&self, status: u16, body: Value) {
        self.reply(Canned::json(status, body));
    }

    /// Queues the recorded reply of a fixture in `tests/fixtures/workos-recorded/`.
    pub fn replay(&self, fixture: &str) -> Fixture {
        let fx = Fixture::load(fixture);
        let mut canned = Canned::json(fx.response_status, fx.response_body.clone());
        if let Some(id) = &fx.request_id {
            canned = canned.with_header("x-request-id", id);
        }
        self.reply(canned);
        fx
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The only request received so far.
    pub fn single_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request: {requests:#?}"
        );
        requests.into_iter().next().unwrap()
    }

    /// A client pointed at this server, with fast retries.
    pub fn client(&self) -> UserManagement {
        self.client_from(UserManagement::builder(API_KEY, CLIENT_ID))
    }

    /// A public client (no API key: a CLI, a native app) of this server.
    pub fn public_client(&self) -> UserManagement {
        self.client_from(UserManagement::public_builder(CLIENT_ID))
    }

    fn client_from(&self, builder: authkit_axum::client::UserManagementBuilder) -> UserManagement {
        builder
            .with_base_url(&self.base_url)
            .with_retry_policy(
                RetryPolicy::default()
                    .with_base_delay(Duration::from_millis(5))
                    .with_max_delay(Duration::from_secs(2)),
            )
            .build()
            .unwrap()
    }
}

async fn record(
    state: Arc<Mutex<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: BTreeMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let body = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice(&body).expect("client sent a JSON body"))
    };
    let canned = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded {
            method,
            path: uri.path().to_owned(),
            raw_query: uri.query().map(str::to_owned),
            query,
            headers,
            body,
        });
        state.replies.pop_front()
    };
    let Some(canned) = canned else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "no reply queued").into_response();
    };
    if let Some(delay) = canned.delay {
        tokio::time::sleep(delay).await;
    }
    let mut response = Response::builder().status(canned.status);
    for (k, v) in &canned.headers {
        response = response.header(k, v);
    }
    response.body(canned.body.into()).unwrap()
}

/// One recorded interaction from `tests/fixtures/workos-recorded/`.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    pub request_method: String,
    pub request_path: String,
    pub request_query: BTreeMap<String, String>,
    pub request_body: Value,
    pub response_status: u16,
    pub response_body: Value,
    pub request_id: Option<String>,
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/workos-recorded")
}

impl Fixture {
    pub fn load(name: &str) -> Fixture {
        let path = fixtures_dir().join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let v: Value = serde_json::from_str(&text).unwrap();
        let it = &v["interactions"][0];
        let query = it["request"]["query"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Fixture {
            name: name.to_owned(),
            request_method: it["request"]["method"].as_str().unwrap().to_owned(),
            request_path: it["request"]["path"].as_str().unwrap().to_owned(),
            request_query: query,
            request_body: it["request"]["body"].clone(),
            response_status: it["response"]["status"].as_u64().unwrap() as u16,
            response_body: it["response"]["body"].clone(),
            request_id: it["response"]["headers"]["x-request-id"]
                .as_str()
                .map(str::to_owned),
        }
    }

    /// Every fixture's name.
    pub fn all_names() -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
            .collect();
        names.sort();
        names
    }
}
