//! No secret ever shows: every `tracing` event (TRACE and up, captured into a
//! buffer by a subscriber installed for the test), every response header and
//! body of a full flow (login → callback → protected page → expiry → refresh
//! → organization switch → logout, and the error paths), and the `Debug` of
//! the public types are searched for the API key, the cookie password, and
//! every access token, refresh token, authorization code, PKCE verifier and
//! pending authentication token the flow produced.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::app::{self, App, COOKIE_PASSWORD, EMAIL, Jar, PASSWORD, location};
use authkit_axum::client::{AuthenticateWithPassword, RetryPolicy};
use authkit_axum::emulator::{
    Emulator, EmulatorExt, ExposeSecret, Fault, Seed, SeedMembership, SeedOrganization, SeedRole,
    SeedUser,
};
use authkit_axum::seal::{self, Passwords, UnsealOptions};
use authkit_axum::session::{RefreshOptions, SessionData};
use authkit_axum::{AuthKitBuilder, AuthUser, CallbackError};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use reqwest::header::{COOKIE, ORIGIN};
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

const API_KEY: &str = "sk_test_secrets_suite_5f3c9a7e1d2b4c6a";
const WEBHOOK_SECRET: &str = "whsec_secrets_suite_3a9e51c07b";
const UNVERIFIED: &str = "unverified@example.com";
const SOLO: &str = "solo@example.com";

/// A `MakeWriter` appending every log line to a shared buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Everything the outside world saw, and every secret the flow produced.
#[derive(Default)]
struct Evidence {
    /// (where, text): responses, Debug strings.
    seen: Vec<(String, String)>,
    /// (kind, value).
    secrets: Vec<(&'static str, String)>,
}

impl Evidence {
    fn secret(&mut self, kind: &'static str, value: &str) {
        if !value.is_empty() && !self.secrets.iter().any(|(_, v)| v == value) {
            self.secrets.push((kind, value.to_owned()));
        }
    }

    /// Records a response of the app (status, every header, the body) and
    /// harvests the secrets its cookies carry.
    async fn keep(&mut self, what: &str, r: reqwest::Response) -> (u16, String) {
        let status = r.status().as_u16();
        let mut text = format!("{what}: {status}\n");
        for (name, value) in r.headers() {
            text.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        for (name, value, cleared) in app::set_cookies(&r) {
            if cleared {
                continue;
            }
            if name == "wos-session" {
                let data = unseal::<SessionData>(&value);
                self.secret("access token", data.access_token.expose());
                self.secret("refresh token", data.refresh_token.expose());
            } else if name.starts_with("wos-auth-verifier-") {
                let pending = unseal::<Value>(&value);
                self.secret("PKCE verifier", pending["verifier"].as_str().unwrap());
            }
        }
        let body = r.text().await.unwrap_or_default();
        text.push_str(&body);
        self.seen.push((format!("response of {what}"), text));
        (status, body)
    }

    fn debug(&mut self, what: &str, dbg: String) {
        self.seen.push((format!("Debug of {what}"), dbg));
    }
}

fn unseal<T: serde::de::DeserializeOwned>(sealed: &str) -> T {
    seal::unseal(
        sealed,
        &Passwords::single(COOKIE_PASSWORD).unwrap(),
        // The emulator's clock may be ahead: seals are checked for integrity here.
        UnsealOptions::default().with_now(std::time::SystemTime::now()),
    )
    .unwrap()
}

#[derive(Clone, Default)]
struct Hooked {
    /// Debug and Display of AuthUser and CallbackError, pending tokens.
    debug: Arc<Mutex<Vec<(String, String)>>>,
    pending_tokens: Arc<Mutex<Vec<String>>>,
}

async fn debug_user(State(h): State<Hooked>, user: AuthUser) -> &'static str {
    h.debug
        .lock()
        .unwrap()
        .push(("AuthUser".into(), format!("{user:?} {:?}", user.0)));
    "ok"
}

async fn start(hooked: &Hooked) -> App {
    let seed = Seed::demo()
        .with_organization(
            SeedOrganization::new("Second Org").with_role(SeedRole::new("member", ["a:read"])),
        )
        .with_membership(SeedMembership::new(EMAIL, "Second Org", "member"))
        .with_user(SeedUser::new(SOLO, PASSWORD))
        .with_user(SeedUser {
            require_email_verification: true,
            ..SeedUser::new(UNVERIFIED, PASSWORD)
        });
    let emulator = Emulator::builder()
        .with_api_key(API_KEY)
        .with_seed(seed)
        .start()
        .await
        .unwrap();
    let client = emulator
        .client_builder()
        .with_retry_policy(
            RetryPolicy::default()
                .with_base_delay(Duration::from_millis(5))
                .with_max_delay(Duration::from_millis(50)),
        )
        .build()
        .unwrap();
    let h = hooked.clone();
    let configure = move |b: AuthKitBuilder| {
        b.with_client(client)
            .with_on_callback_error(move |e: &CallbackError| {
                let mut debug = h.debug.lock().unwrap();
                debug.push(("CallbackError".into(), format!("{e:?} / {e}")));
                if let CallbackError::Exchange(inner) = e {
                    debug.push(("client Error".into(), format!("{inner:?} / {inner}")));
                    if let Some(t) = inner.pending_authentication_token() {
                        h.pending_tokens.lock().unwrap().push(t.expose().to_owned());
                    }
                }
                None
            })
    };
    let hook = Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |authkit_axum::webhooks::Webhook(event): authkit_axum::webhooks::Webhook| async move {
                    event.id
                },
            ),
        )
        .with_state(authkit_axum::webhooks::WebhookVerifier::new(WEBHOOK_SECRET));
    let extra = Router::new()
        .route("/debug", get(debug_user))
        .with_state(hooked.clone())
        .merge(hook);
    app::start_with(emulator, configure, extra).await
}

/// The login route through the emulator's form; returns the callback URL
/// (and records the login response).
async fn to_callback(
    app: &App,
    ev: &mut Evidence,
    jar: &mut Jar,
    login: &str,
    email: &str,
) -> String {
    let r = app.get(jar, login).await;
    let authorize = location(&r);
    assert_eq!(ev.keep(login, r).await.0, 303);
    let id = app.open_login_page(&authorize).await;
    let mut r = app.submit_login(&id, email, PASSWORD).await;
    if r.status() == 200 {
        // The organization picker: take the first organization.
        let org = app.emulator.organizations()[0].id.clone();
        r = app
            .http
            .post(format!("{}/emulator/organization", app.emulator.base_url()))
            .form(&[("authorization_id", id.as_str()), ("organization_id", &org)])
            .send()
            .await
            .unwrap();
    }
    let callback = location(&r);
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    ev.secret("authorization code", &code);
    callback
}

async fn post(app: &App, jar: &mut Jar, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .header(COOKIE, jar.header())
        .header(ORIGIN, &app.base)
        .form(form)
        .send()
        .await
        .unwrap();
    jar.absorb(&r);
    r
}

/// Asserts no secret occurs in any text; names the place and kind if one does.
fn assert_clean(ev: &Evidence, logs: &str) {
    let mut needles: Vec<(&str, String)> = Vec::new();
    for (kind, value) in &ev.secrets {
        needles.push((kind, value.clone()));
        // A JWT's signature alone is as bad as the token.
        if kind.ends_with("access token") {
            needles.push((
                "access token signature",
                value.rsplit('.').next().unwrap().to_owned(),
            ));
        }
    }
    let mut leaks = Vec::new();
    let places = ev
        .seen
        .iter()
        .map(|(w, t)| (w.as_str(), t.as_str()))
        .chain([("tracing output", logs)]);
    for (place, text) in places {
        for (kind, needle) in &needles {
            if let Some(at) = text.find(needle.as_str()) {
                let from = text[..at]
                    .char_indices()
                    .rev()
                    .nth(60)
                    .map_or(0, |(i, _)| i);
                leaks.push(format!(
                    "{kind} in {place}: …{}…",
                    text[from..at].replace('\n', " ")
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

fn kinds(ev: &Evidence) -> Vec<&'static str> {
    let mut k: Vec<_> = ev.secrets.iter().map(|(k, _)| *k).collect();
    k.sort();
    k.dedup();
    k
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_appears_in_logs_responses_or_debug_output() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        // The spans' fields as recorded by their end, too.
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _guard = crate::support::logs::capture(subscriber);

    let hooked = Hooked::default();
    let app = start(&hooked).await;
    let mut ev = Evidence::default();
    ev.secret("API key", API_KEY);
    ev.secret("cookie password", COOKIE_PASSWORD);
    let orgs = app.emulator.organizations();
    let (org1, org2) = (orgs[0].id.clone(), orgs[1].id.clone());

    // Login → callback → protected pages.
    let mut jar = Jar::default();
    let callback = to_callback(
        &app,
        &mut ev,
        &mut jar,
        &format!("/auth/login?organization_id={org1}&return_to=%2Faccount"),
        EMAIL,
    )
    .await;
    let r = app.get(&mut jar, &callback).await;
    assert_eq!(ev.keep("callback", r).await.0, 303);
    let r = app.get_json(&mut jar, "/account").await;
    let (status, body) = ev.keep("account", r).await;
    assert_eq!(status, 200, "{body}");
    let sid = serde_json::from_str::<Value>(&body).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.get(&mut jar, "/debug").await;
    assert_eq!(ev.keep("debug", r).await.0, 200);

    // Expiry → transparent refresh.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(ev.keep("account after expiry", r).await.0, 200);

    // Organization switch.
    let r = post(
        &app,
        &mut jar,
        "/auth/switch-organization",
        &[("organization_id", &org2), ("return_to", "/account")],
    )
    .await;
    assert_eq!(ev.keep("switch", r).await.0, 303);
    let r = app.get_json(&mut jar, "/account").await;
    let (_, body) = ev.keep("account after switch", r).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["org"],
        org2.as_str()
    );

    // Error paths: a bad code with a genuine state, missing parameters, a
    // provider error.
    let mut other = Jar::default();
    let callback = to_callback(&app, &mut ev, &mut other, "/auth/login", EMAIL).await;
    let state = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    for (what, path) in [
        (
            "bad code",
            format!("/auth/callback?code=not-a-real-code&state={state}"),
        ),
        ("missing state", "/auth/callback?code=x".to_owned()),
        (
            "provider error",
            "/auth/callback?error=access_denied&error_description=denied".to_owned(),
        ),
    ] {
        let r = app.get(&mut other, &path).await;
        assert_eq!(ev.keep(what, r).await.0, 400, "{what}");
    }

    // WorkOS 500 during a refresh: 503, then back.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(500).forever().for_grant("refresh_token"),
    );
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(ev.keep("account during a WorkOS 500", r).await.0, 503);
    app.emulator.faults().clear();
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(ev.keep("account after recovery", r).await.0, 200);

    // invalid_grant: WorkOS refuses the refresh token; and a revoked session.
    let mut refused = jar.clone();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(400)
            .with_body(serde_json::json!({"error": "invalid_grant", "error_description": "Session has already ended."}))
            .for_grant("refresh_token"),
    );
    let r = app.get_json(&mut refused, "/account").await;
    assert_eq!(ev.keep("account with invalid_grant", r).await.0, 401);
    let mut revoked = Jar::default();
    let callback = to_callback(&app, &mut ev, &mut revoked, "/auth/login", EMAIL).await;
    let r = app.get(&mut revoked, &callback).await;
    ev.keep("second callback", r).await;
    let r = app.get_json(&mut revoked, "/account").await;
    let (_, body) = ev.keep("second account", r).await;
    let sid2 = serde_json::from_str::<Value>(&body).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    app.emulator.client().revoke_session(&sid2).await.unwrap();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = app.get_json(&mut revoked, "/account").await;
    assert_eq!(ev.keep("account of a revoked session", r).await.0, 401);

    // A sign-in that needs email verification: the pending token.
    let mut unverified = Jar::default();
    let callback = to_callback(&app, &mut ev, &mut unverified, "/auth/login", UNVERIFIED).await;
    let r = app.get(&mut unverified, &callback).await;
    assert_eq!(ev.keep("callback needing verification", r).await.0, 400);

    // Logout.
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(ev.keep("account before logout", r).await.0, 200);
    let r = post(&app, &mut jar, "/auth/logout", &[]).await;
    assert_eq!(ev.keep("logout", r).await.0, 303);

    // Direct client calls, and the Debug of every public type.
    let client = app.emulator.client();
    let auth = client
        .authenticate_with_password(&AuthenticateWithPassword {
            email: SOLO.into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // Sent as a Bearer credential below, and only there.
    ev.secret("Bearer access token", auth.access_token.expose());
    ev.secret("refresh token", auth.refresh_token.expose());
    ev.debug("AuthenticationResponse", format!("{auth:?}"));
    // The same access token as a Bearer credential: accepted, refused when
    // tampered; neither answer nor log shows it.
    let token = auth.access_token.expose();
    for (what, bearer) in [
        ("Bearer account", token.to_owned()),
        ("Bearer debug", token.to_owned()),
        ("tampered Bearer", format!("{token}x")),
    ] {
        let path = if what == "Bearer debug" {
            "/debug"
        } else {
            "/account"
        };
        let r = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        let (status, _) = ev.keep(what, r).await;
        assert_eq!(
            status,
            if what.starts_with("tampered") {
                401
            } else {
                200
            },
            "{what}"
        );
    }
    // A webhook, signed and forged: its secret shows nowhere either.
    ev.secret("webhook secret", WEBHOOK_SECRET);
    let body = br#"{"id":"event_1","event":"user.deleted","created_at":"t","data":{}}"#;
    let now = std::time::SystemTime::now();
    for (what, header, expected) in [
        (
            "signed webhook",
            authkit_axum::webhooks::WebhookVerifier::new(WEBHOOK_SECRET)
                .signature_header(body, now),
            200,
        ),
        (
            "forged webhook",
            authkit_axum::webhooks::WebhookVerifier::new("whsec_other").signature_header(body, now),
            401,
        ),
    ] {
        let r = app
            .http
            .post(format!("{}/hook", app.base))
            .header("WorkOS-Signature", header)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(ev.keep(what, r).await.0, expected, "{what}");
    }
    let data = SessionData::from(&auth);
    ev.debug("SessionData", format!("{data:?}"));
    let sealed = app.authkit.sessions().seal(&data).unwrap();
    let refreshed = app
        .authkit
        .sessions()
        .refresh(Some(&sealed), RefreshOptions::default())
        .await
        .unwrap();
    ev.secret("access token", refreshed.data.access_token.expose());
    ev.secret("refresh token", refreshed.data.refresh_token.expose());
    ev.debug("Refreshed", format!("{refreshed:?}"));
    let err = client
        .authenticate_with_password(&AuthenticateWithPassword {
            email: UNVERIFIED.into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    ev.secret(
        "pending authentication token",
        err.pending_authentication_token().unwrap().expose(),
    );
    ev.debug("client Error", format!("{err:?} / {err}"));
    ev.debug("AuthKit", format!("{:?}", app.authkit));
    ev.debug("SessionManager", format!("{:?}", app.authkit.sessions()));
    ev.debug("UserManagement", format!("{:?}", app.authkit.client()));
    ev.debug("emulator UserManagement", format!("{client:?}"));
    ev.debug("Emulator", format!("{:?}", app.emulator));
    for (what, dbg) in hooked.debug.lock().unwrap().iter() {
        ev.debug(what, dbg.clone());
    }
    for t in hooked.pending_tokens.lock().unwrap().iter() {
        ev.secret("pending authentication token", t);
    }
    for email in app.emulator.sent_emails() {
        ev.secret("emailed code", email.secret.expose_secret());
    }

    let logs = capture.text();
    // The capture works, and the flow did what it says.
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "{logs}");
    assert!(
        logs.contains("authkit_axum"),
        "no event of the crate captured"
    );
    assert!(logs.contains("refresh"), "the refresh paths logged nothing");
    // The crate's own events of this flow were on, with their fields.
    let has = |message: &str, field: &str| {
        logs.lines()
            .any(|l| l.contains(message) && l.contains(field))
    };
    assert!(
        has("user signed in", &format!("user_id={user_id}")),
        "no sign-in event with the user id"
    );
    assert!(has("session refreshed", &format!("session_id={sid}")));
    assert!(has("user signed out", "user_id="));
    assert!(has("workos request", "status=200"));
    assert!(has("authenticate", "source=\"bearer\""), "no Bearer span");
    assert!(has("webhook verified", "event_id=event_1"));
    assert!(has("webhook refused", "outcome="));
    let lines = logs.lines().filter(|l| l.contains("authkit_axum")).count();
    assert!(
        lines >= 50,
        "only {lines} lines of the crate's were captured"
    );
    assert!(
        hooked
            .debug
            .lock()
            .unwrap()
            .iter()
            .any(|(w, _)| w == "AuthUser"),
        "the handler saw the user"
    );
    assert!(
        !hooked.pending_tokens.lock().unwrap().is_empty(),
        "the verification challenge reached the callback"
    );
    assert!(!sid.is_empty());
    let kinds = kinds(&ev);
    for kind in [
        "API key",
        "Bearer access token",
        "PKCE verifier",
        "access token",
        "authorization code",
        "cookie password",
        "pending authentication token",
        "refresh token",
        "webhook secret",
    ] {
        assert!(kinds.contains(&kind), "no {kind} was collected: {kinds:?}");
    }
    eprintln!(
        "secrets: {} secrets ({kinds:?}) searched in {} responses/Debug strings and {} bytes of logs",
        ev.secrets.len(),
        ev.seen.len(),
        logs.len()
    );
    assert_clean(&ev, &logs);
}

/// WorkOS's `invalid_grant` for a code says "The code '<code>' has expired or
/// is invalid." The callback must not repeat that code in its page or logs.
#[tokio::test(flavor = "current_thread")]
async fn a_refused_code_is_not_echoed_in_the_error_page_or_logs() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = crate::support::logs::capture(subscriber);
    let hooked = Hooked::default();
    let app = start(&hooked).await;
    let mut ev = Evidence::default();
    let mut jar = Jar::default();
    let callback = to_callback(&app, &mut ev, &mut jar, "/auth/login", EMAIL).await;
    let copied = jar.clone();
    let r = app.get(&mut jar, &callback).await;
    assert_eq!(ev.keep("callback", r).await.0, 303);
    // The same callback replayed with the flow cookie: WorkOS refuses the used code.
    let mut replay = copied;
    let r = app.get(&mut replay, &callback).await;
    assert_eq!(ev.keep("replayed callback", r).await.0, 400);
    for (what, dbg) in hooked.debug.lock().unwrap().iter() {
        ev.debug(what, dbg.clone());
    }
    // Only the page and the logs are checked here: the client error itself
    // carries WorkOS's description.
    ev.seen.retain(|(w, _)| w.starts_with("response"));
    assert_clean(&ev, &capture.text());
}

/// The webhook secret shows nowhere: not in the emulator's or the app's
/// logs while deliveries are made and refused, not in the 401 answers, not
/// in the `Debug` of the verifier, the emulator's builder, the errors.
#[tokio::test(flavor = "current_thread")]
async fn the_webhook_secret_is_in_no_log_answer_or_debug_output() {
    use authkit_axum::webhooks::{Webhook, WebhookVerifier};
    const WEBHOOK_SECRET: &str = "whsec_secrets_suite_3a9e51c07b";
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = crate::support::logs::capture(subscriber);
    let mut ev = Evidence::default();
    ev.secret("webhook secret", WEBHOOK_SECRET);

    let verifier = WebhookVerifier::new(WEBHOOK_SECRET);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route(
            "/hook",
            axum::routing::post(|Webhook(event): Webhook| async move { event.id }),
        )
        .with_state(verifier.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let builder = Emulator::builder()
        .with_seed(Seed::demo())
        .with_webhook(&url, WEBHOOK_SECRET);
    ev.debug("EmulatorBuilder", format!("{builder:?}"));
    let emulator = builder.start().await.unwrap();
    emulator
        .client()
        .create_user(&authkit_axum::client::CreateUser {
            email: "hooked@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), emulator.webhooks_settled())
        .await
        .unwrap();
    assert!(emulator.webhook_deliveries()[0].delivered);

    let body = br#"{"id":"event_1","event":"user.deleted","created_at":"t","data":{}}"#;
    let wrong =
        WebhookVerifier::new("whsec_other").signature_header(body, std::time::SystemTime::now());
    for (what, header) in [("wrong signature", wrong.as_str()), ("malformed", "t=1")] {
        let r = reqwest::Client::new()
            .post(&url)
            .header("WorkOS-Signature", header)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(ev.keep(what, r).await.0, 401);
        let err = verifier.verify(body, header).unwrap_err();
        ev.debug(what, format!("{err} {err:?}"));
    }
    ev.debug("WebhookVerifier", format!("{verifier:?}"));
    ev.debug(
        "Emulator",
        format!("{emulator:?} {:?}", emulator.webhook_deliveries()),
    );
    assert_clean(&ev, &capture.text());
}
