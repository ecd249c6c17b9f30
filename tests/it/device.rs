//! Command-line sign-in (CLI Auth, RFC 8628's device authorization grant)
//! over real HTTP on 127.0.0.1: the client starts a device authorization,
//! a person approves it on the emulator's device page, the poller gets the
//! tokens and an API behind the layer accepts the access token as Bearer.
//!
//! The wire shapes follow WorkOS's CLI Auth reference
//! (https://workos.com/docs/reference/authkit/cli-auth) and workos-node's
//! `DeviceAuthorizationResponse` / `DeviceCodeSessionAuthenticateRequest`;
//! the recorded fixtures hold no device flow.
//!
//! No test waits real seconds: the poller's sleep is handed to the test
//! ([`Steps`]), which moves the emulator's clock by what the poller asked
//! for (or by something else) and lets it go on.

use std::time::Duration;

use crate::support::emulator::{
    ALICE, ALICE_PASSWORD, MULTI, browser, builder, form_action, input_value, start,
};
use crate::support::recording::{API_KEY, CLIENT_ID, MockServer};
use authkit_axum::client::{
    AuthenticateWithDeviceCode, AuthenticationResponse, DEVICE_CODE_GRANT_TYPE,
    DeviceAuthorization, Error, OAuthErrorCode, UserManagement,
};
use authkit_axum::emulator::{Emulator, EmulatorExt};
use authkit_axum::{AuthClaims, AuthKit, AuthUser};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The waits a poller asks for, handed to the test one by one.
struct Steps(mpsc::UnboundedReceiver<(Duration, oneshot::Sender<()>)>);

impl Steps {
    /// The next wait the poller asks for; `go` lets it poll.
    async fn next(&mut self) -> (Duration, oneshot::Sender<()>) {
        // A guard against a hung test, not a timing assertion.
        tokio::time::timeout(Duration::from_secs(30), self.0.recv())
            .await
            .expect("the poller asks to wait")
            .expect("the poller is running")
    }

    /// Whether the poller asks for no more waits (it ended or was dropped).
    async fn finished(&mut self) -> bool {
        self.0.recv().await.is_none()
    }
}

/// Starts polling `authorization` on a task, its sleep stepped by the test.
fn poll_stepped(
    client: &UserManagement,
    authorization: &DeviceAuthorization,
) -> (JoinHandle<Result<AuthenticationResponse, Error>>, Steps) {
    let (tx, rx) = mpsc::unbounded_channel();
    let poll = client
        .poll_device_authorization(authorization)
        .with_sleep(move |wait| {
            let tx = tx.clone();
            async move {
                let (go, gone) = oneshot::channel();
                if tx.send((wait, go)).is_err() || gone.await.is_err() {
                    // The test is gone: never poll again.
                    std::future::pending::<()>().await;
                }
            }
        });
    (tokio::spawn(poll.into_future()), Steps(rx))
}

/// Lets the poller wait `wait` on the emulator's clock, then poll.
fn step(emu: &Emulator, wait: Duration, go: oneshot::Sender<()>) {
    emu.clock().advance(wait);
    go.send(()).expect("the poller waits");
}

fn device_polls(emu: &Emulator) -> u64 {
    emu.grant_count(DEVICE_CODE_GRANT_TYPE)
}

/// A person at the device page: opens `verification_uri_complete`, keeps
/// the prefilled code, signs in, picks the first organization if asked,
/// and answers `decision` (`approve` or `deny`).
async fn at_the_device_page(
    emu: &Emulator,
    authorization: &DeviceAuthorization,
    email: &str,
    password: &str,
    decision: &str,
) {
    let browser = browser();
    let html = browser
        .get(authorization.browser_url())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = input_value(&html, "user_code").expect("the code, prefilled");
    assert_eq!(code, authorization.user_code);
    let html = browser
        .post(form_action(emu, &html))
        .form(&[("user_code", code.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = input_value(&html, "authorization_id").expect("the sign-in form");
    let mut html = browser
        .post(form_action(emu, &html))
        .form(&[
            ("authorization_id", id.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    if let Some(org) = input_value(&html, "organization_id") {
        html = browser
            .post(form_action(emu, &html))
            .form(&[("authorization_id", id.as_str()), ("organization_id", &org)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(html.contains(&authorization.user_code), "{html}");
    let r = browser
        .post(form_action(emu, &html))
        .form(&[("authorization_id", id.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// An API behind the layer that takes Bearer tokens only (as a CLI's backend).
async fn bearer_api(emu: &Emulator) -> String {
    async fn me(claims: AuthClaims, user: AuthUser) -> Json<Value> {
        Json(
            json!({"user_id": claims.user_id(), "email": user.user.email,
            "org": claims.organization_id()}),
        )
    }
    let authkit = AuthKit::builder()
        .with_client(emu.client())
        .with_clock(emu.session_clock())
        .with_session_cookies(false)
        .with_cookie_password("an-unused-cookie-password-of-32-chars")
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .build()
        .unwrap();
    let app = Router::new()
        .route("/api/me", get(me))
        .layer(authkit.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn oauth_code(result: &Result<AuthenticationResponse, Error>) -> Option<OAuthErrorCode> {
    match result {
        Err(Error::OAuth(e)) => Some(e.error.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn the_cli_signs_in_through_the_device_page_and_the_api_accepts_its_token() {
    let emu = start().await;
    let client = emu.client();
    let authorization = client.authorize_device().await.unwrap();
    assert_eq!(authorization.poll_interval(), Duration::from_secs(5));
    let (poll, mut steps) = poll_stepped(&client, &authorization);

    // Nobody has approved yet: one poll, pending.
    let (wait, go) = steps.next().await;
    assert_eq!(
        wait,
        Duration::from_secs(5),
        "it waits before the first poll"
    );
    step(&emu, wait, go);
    let (wait, go) = steps.next().await;
    assert_eq!(device_polls(&emu), 1);

    // The person approves; the next poll gets the tokens.
    at_the_device_page(&emu, &authorization, ALICE, ALICE_PASSWORD, "approve").await;
    step(&emu, wait, go);
    let signed_in = poll.await.unwrap().expect("signed in");
    assert_eq!(signed_in.user.email, ALICE);
    assert_eq!(device_polls(&emu), 2);
    assert!(steps.finished().await, "no poll after the tokens");
    // A client that holds the API key still sends it with neither device
    // call: CLI Auth is documented for clients without a secret.
    assert_eq!(
        emu.authorized_request_count("/user_management/authorize/device"),
        0
    );
    assert_eq!(
        emu.authorized_request_count("/user_management/authenticate"),
        0
    );

    let api = bearer_api(&emu).await;
    let r = reqwest::Client::new()
        .get(format!("{api}/api/me"))
        .bearer_auth(signed_in.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["email"], ALICE);
    assert_eq!(me["user_id"], signed_in.user.id);
    assert_eq!(me["org"], json!(signed_in.organization_id));
    // Without the token, the API refuses.
    let r = reqwest::Client::new()
        .get(format!("{api}/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn slow_down_makes_the_poller_wait_five_seconds_more_from_then_on() {
    let emu = start().await;
    let client = emu.client();
    let authorization = client.authorize_device().await.unwrap();
    let (poll, mut steps) = poll_stepped(&client, &authorization);

    let (wait, go) = steps.next().await;
    step(&emu, wait, go); // pending
    // WorkOS's clock sees less than the interval go by (a skewed clock, a
    // busy server): it answers slow_down.
    let (wait, go) = steps.next().await;
    assert_eq!(wait, Duration::from_secs(5));
    step(&emu, Duration::from_secs(2), go);
    let (wait, go) = steps.next().await;
    assert_eq!(wait, Duration::from_secs(10), "5 s more after slow_down");
    step(&emu, wait, go); // pending
    let (wait, go) = steps.next().await;
    assert_eq!(wait, Duration::from_secs(10), "and it stays slower");
    at_the_device_page(&emu, &authorization, MULTI, "multi-password", "approve").await;
    step(&emu, wait, go);
    let signed_in = poll.await.unwrap().expect("signed in");
    assert_eq!(signed_in.user.email, MULTI);
    assert!(signed_in.organization_id.is_some(), "picked on the page");
    assert_eq!(device_polls(&emu), 4);
}

#[tokio::test]
async fn a_denied_device_ends_the_poll_with_access_denied() {
    let emu = start().await;
    let client = emu.client();
    let authorization = client.authorize_device().await.unwrap();
    let (poll, mut steps) = poll_stepped(&client, &authorization);
    let (wait, go) = steps.next().await;
    step(&emu, wait, go);
    let (wait, go) = steps.next().await;
    at_the_device_page(&emu, &authorization, ALICE, ALICE_PASSWORD, "deny").await;
    step(&emu, wait, go);
    let result = poll.await.unwrap();
    assert_eq!(oauth_code(&result), Some(OAuthErrorCode::AccessDenied));
    assert_eq!(result.unwrap_err().code(), Some("access_denied"));
    assert!(steps.finished().await, "no poll after the denial");
    assert_eq!(device_polls(&emu), 2);
}

#[tokio::test]
async fn a_code_workos_expired_ends_the_poll_with_expired_token() {
    let emu = builder()
        .with_device_code_ttl(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let client = emu.client();
    let authorization = client.authorize_device().await.unwrap();
    assert_eq!(authorization.expires_in, 60);
    let (poll, mut steps) = poll_stepped(&client, &authorization);
    let (wait, go) = steps.next().await;
    // The person went for coffee: WorkOS's clock passes the code's life.
    step(&emu, wait + Duration::from_secs(60), go);
    let result = poll.await.unwrap();
    assert_eq!(oauth_code(&result), Some(OAuthErrorCode::ExpiredToken));
    assert_eq!(device_polls(&emu), 1);
}

#[tokio::test]
async fn the_poller_stops_at_expires_in_however_workos_answers_and_never_polls_unasked() {
    let emu = builder()
        .with_device_code_ttl(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let client = emu.client();
    let authorization = client.authorize_device().await.unwrap();
    let (poll, mut steps) = poll_stepped(&client, &authorization);
    // The emulator's clock never moves: after the first poll every answer
    // is slow_down, and WorkOS never says the code expired.
    let mut waits = Vec::new();
    while let Some((wait, go)) = steps.0.recv().await {
        waits.push(wait);
        go.send(()).unwrap();
    }
    let result = poll.await.unwrap();
    assert_eq!(oauth_code(&result), Some(OAuthErrorCode::ExpiredToken));
    let secs: Vec<u64> = waits.iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [5, 5, 10, 15, 20, 25], "one more step per slow_down");
    assert!(secs.iter().sum::<u64>() >= 60);
    assert!(secs[..secs.len() - 1].iter().sum::<u64>() < 60);
    assert_eq!(
        device_polls(&emu),
        waits.len() as u64,
        "one poll per wait, no more"
    );
}

#[tokio::test]
async fn dropping_the_poll_stops_polling() {
    let emu = start().await;
    let client = emu.client();
    let authorization = client.authorize_device().await.unwrap();
    let (poll, mut steps) = poll_stepped(&client, &authorization);
    let (wait, go) = steps.next().await;
    step(&emu, wait, go);
    let (_wait, go) = steps.next().await;
    poll.abort();
    assert!(poll.await.unwrap_err().is_cancelled());
    assert!(go.send(()).is_err(), "the poller is gone");
    assert!(steps.finished().await);
    assert_eq!(device_polls(&emu), 1);
}

#[tokio::test]
async fn device_calls_send_the_documented_bodies_without_the_api_key_or_a_secret() {
    let server = MockServer::start().await;
    server.reply_json(
        200,
        json!({"device_code": "dc_secret", "user_code": "BCDF-GHJK",
            "verification_uri": "https://auth.example.com/device",
            "verification_uri_complete": "https://auth.example.com/device?user_code=BCDF-GHJK",
            "expires_in": 300, "interval": 5}),
    );
    server.reply_json(
        400,
        json!({"error": "authorization_pending", "error_description": "Pending."}),
    );
    // A CLI holds no secret: a public client.
    let client = server.public_client();
    let authorization = client.authorize_device().await.unwrap();
    assert_eq!(authorization.device_code.expose(), "dc_secret");
    assert_eq!(authorization.user_code, "BCDF-GHJK");
    let e = client
        .authenticate_with_device_code(&AuthenticateWithDeviceCode {
            device_code: authorization.device_code.clone(),
            user_agent: Some("mycli/1.0".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("authorization_pending"));
    assert!(!e.is_transient());

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].path, "/user_management/authorize/device");
    assert_eq!(requests[0].body, Some(json!({"client_id": CLIENT_ID})));
    assert_eq!(requests[1].path, "/user_management/authenticate");
    assert_eq!(
        requests[1].body,
        Some(
            json!({"client_id": CLIENT_ID, "grant_type": DEVICE_CODE_GRANT_TYPE,
            "device_code": "dc_secret", "user_agent": "mycli/1.0"})
        )
    );
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert!(r.header("authorization").is_none(), "no API key");
        let shown = format!("{:?}", r.body);
        assert!(!shown.contains(API_KEY), "no client secret");
    }
}
