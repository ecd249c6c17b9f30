//! A small fake of the WorkOS endpoints sessions need — the JWKS and the
//! refresh grant — with switches for faults and counters for assertions.
//! (The full emulator lives in the crate behind the `emulator` feature.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const KID_1: &str = "test_key_1";
pub const KID_2: &str = "test_key_2";

pub fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

pub fn jwk(kid: &str) -> Value {
    let all: Value = serde_json::from_str(&fixture("keys/jwks.json")).unwrap();
    all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .cloned()
        .unwrap()
}

pub fn private_key(kid: &str) -> EncodingKey {
    let file = match kid {
        KID_1 => "keys/rsa1.pem",
        KID_2 => "keys/rsa2.pem",
        other => panic!("no key {other}"),
    };
    EncodingKey::from_rsa_pem(fixture(file).as_bytes()).unwrap()
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Signs claims with a test key, RS256, naming `kid`.
pub fn sign(claims: &Value, kid: &str) -> String {
    sign_with(claims, Some(kid), &private_key(kid))
}

pub fn sign_with(claims: &Value, kid: Option<&str>, key: &EncodingKey) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

pub fn user_json(id: &str) -> Value {
    json!({"object": "user", "id": id, "email": format!("{id}@example.com"), "email_verified": true,
           "first_name": "Test", "last_name": null, "profile_picture_url": null,
           "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-01-01T00:00:00.000Z"})
}

pub fn claims(user_id: &str, sid: &str, org: Option<&str>, exp_in: i64) -> Value {
    let now = now_secs();
    json!({"sub": user_id, "sid": sid, "org_id": org, "role": "member", "roles": ["member"],
           "permissions": ["posts:read"], "entitlements": ["audit-logs"], "feature_flags": ["beta"],
           "iat": now, "exp": now + exp_in, "iss": "https://api.workos.com"})
}

#[derive(Default)]
pub struct FakeState {
    /// Kids currently published at the JWKS URL.
    pub published: Vec<String>,
    pub jwks_fail: bool,
    pub jwks_fetches: usize,
    /// Refresh token → (user id, session id, org).
    pub refresh_tokens: HashMap<String, (String, String, Option<String>)>,
    /// Queued answers that replace the next refresh grants: (status, body, retry-after).
    pub refresh_faults: Vec<(u16, Value, Option<u64>)>,
    pub refresh_calls: usize,
    pub last_refresh_body: Option<Value>,
    /// Lifetime of minted access tokens, seconds.
    pub token_lifetime: i64,
    pub signing_kid: String,
    pub used_codes: std::collections::HashSet<String>,
    /// Delay before answering a refresh, to widen race windows in tests.
    pub refresh_delay_ms: u64,
    /// Delay before answering the JWKS (a hanging WorkOS).
    pub jwks_delay_ms: u64,
    /// How many of the next refresh grants are acted on (the token is
    /// spent) but answered only after `lost_answer_ms`: a client with a
    /// shorter timeout loses the answer.
    pub lost_answers: usize,
    pub lost_answer_ms: u64,
}

#[derive(Clone)]
pub struct FakeWorkos {
    pub base_url: String,
    pub state: Arc<Mutex<FakeState>>,
    counter: Arc<AtomicUsize>,
}

impl FakeWorkos {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            published: vec![KID_1.to_owned()],
            token_lifetime: 300,
            signing_kid: KID_1.to_owned(),
            ..Default::default()
        }));
        let app = axum::Router::new()
            .route("/sso/jwks/{client_id}", get(jwks))
            .route("/user_management/authenticate", post(authenticate))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeWorkos {
            base_url: format!("http://{addr}"),
            state,
            counter: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut FakeState) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    pub fn jwks_fetches(&self) -> usize {
        self.with(|s| s.jwks_fetches)
    }

    pub fn refresh_calls(&self) -> usize {
        self.with(|s| s.refresh_calls)
    }

    /// Signs a session in: an access token and a refresh token the fake knows.
    pub fn sign_in(&self, user_id: &str, org: Option<&str>) -> (String, String) {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let sid = format!("session_{n}");
        let rt = format!("rt_{n}");
        let (lifetime, kid) = self.with(|s| (s.token_lifetime, s.signing_kid.clone()));
        let at = sign(&claims(user_id, &sid, org, lifetime), &kid);
        self.with(|s| {
            s.refresh_tokens.insert(
                rt.clone(),
                (user_id.to_owned(), sid, org.map(str::to_owned)),
            )
        });
        (at, rt)
    }
}

async fn jwks(State(state): State<Arc<Mutex<FakeState>>>) -> Response {
    let delay = state.lock().unwrap().jwks_delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let mut s = state.lock().unwrap();
    s.jwks_fetches += 1;
    if s.jwks_fail {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let keys: Vec<Value> = s.published.iter().map(|k| jwk(k)).collect();
    Json(json!({ "keys": keys })).into_response()
}

async fn authenticate(
    State(state): State<Arc<Mutex<FakeState>>>,
    Json(body): Json<Value>,
) -> Response {
    let lose = {
        let mut s = state.lock().unwrap();
        let lose = s.lost_answers > 0;
        s.lost_answers = s.lost_answers.saturating_sub(1);
        lose.then_some(s.lost_answer_ms)
    };
    let answer = grant(&state, body).await;
    if let Some(ms) = lose {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    answer
}

async fn grant(state: &Arc<Mutex<FakeState>>, body: Value) -> Response {
    let delay = state.lock().unwrap().refresh_delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let mut s = state.lock().unwrap();
    s.refresh_calls += 1;
    s.last_refresh_body = Some(body.clone());
    if !s.refresh_faults.is_empty() {
        let (status, body, retry_after) = s.refresh_faults.remove(0);
        let mut response = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", secs.to_string().parse().unwrap());
        }
        return response;
    }
    if body["grant_type"] == "authorization_code" {
        // Codes starting with "good" sign user_1 in, once each; the PKCE
        // verifier must be present (the emulator checks it against the challenge).
        let code = body["code"].as_str().unwrap_or_default().to_owned();
        let verifier = body["code_verifier"].as_str().unwrap_or_default();
        if !code.starts_with("good") || verifier.len() < 43 || !s.used_codes.insert(code) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "invalid_grant", "error_description": "The code has expired or is invalid."})),
            )
                .into_response();
        }
        let n = s.refresh_tokens.len() + 1000;
        let (sid, rt) = (format!("session_{n}"), format!("rt_{n}"));
        let at = sign(
            &claims("user_1", &sid, None, s.token_lifetime),
            &s.signing_kid.clone(),
        );
        s.refresh_tokens
            .insert(rt.clone(), ("user_1".into(), sid, None));
        return Json(
            json!({"user": user_json("user_1"), "access_token": at, "refresh_token": rt,
                           "authentication_method": "Password"}),
        )
        .into_response();
    }
    if body["grant_type"] != "refresh_token" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let rt = body["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some((user_id, sid, org)) = s.refresh_tokens.remove(&rt) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "Invalid refresh token."})),
        )
            .into_response();
    };
    let org = body["organization_id"].as_str().map(str::to_owned).or(org);
    let new_rt = format!("{rt}_next");
    let at = sign(
        &claims(&user_id, &sid, org.as_deref(), s.token_lifetime),
        &s.signing_kid.clone(),
    );
    s.refresh_tokens
        .insert(new_rt.clone(), (user_id.clone(), sid, org.clone()));
    Json(json!({
        "user": user_json(&user_id),
        "organization_id": org,
        "access_token": at,
        "refresh_token": new_rt,
        "authentication_method": "Password",
    }))
    .into_response()
}
