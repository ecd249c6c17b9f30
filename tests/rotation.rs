//! Rotating the cookie password with zero logouts, step by step as the
//! runbook in `src/seal.rs` says: deploy old + new (ids 1 and 2), let
//! sessions be re-sealed as they refresh, then drop the old password.
//! Each "deployment" is its own `AuthKit` served on its own port, against
//! one emulator.

use std::time::Duration;

use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
use authkit_axum::seal::SealError;
use authkit_axum::{AuthKit, AuthUser};
use axum::routing::get;
use axum::{Json, Router};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

const EMAIL: &str = "demo@example.com";
const OLD_PASSWORD: &str = "rotation-test-old-cookie-password-32-chars";
const NEW_PASSWORD: &str = "rotation-test-new-cookie-password-32-chars";
/// Longer than the emulator's 5-minute access tokens.
const PAST_EXPIRY: Duration = Duration::from_secs(6 * 60);

async fn account(user: AuthUser) -> Json<Value> {
    Json(json!({"email": user.user.email, "sid": user.session_id()}))
}

async fn home(user: Option<AuthUser>) -> String {
    match user {
        Some(user) => format!("hello {}", user.user.email),
        None => "hello, stranger".into(),
    }
}

/// The cookie passwords of one deployment: `(id, password)`.
type Passwords = &'static [(&'static str, &'static str)];

struct Deployment {
    base: String,
    authkit: AuthKit,
}

async fn deploy(emulator: &Emulator, passwords: Passwords) -> Deployment {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut builder = AuthKit::builder()
        .with_client(emulator.client())
        .with_redirect_uri(format!("{base}/auth/callback"))
        .with_clock(emulator.session_clock());
    for (id, password) in passwords {
        builder = builder.with_additional_cookie_password(*id, *password);
    }
    let authkit = builder.build().unwrap();
    let app = Router::new()
        .route("/", get(home))
        .route("/account", get(account))
        .merge(authkit.routes())
        .layer(authkit.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Deployment { base, authkit }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// What a response did to the session cookie.
#[derive(Debug, Clone, PartialEq)]
enum CookieChange {
    Kept,
    Set(String),
    Cleared,
}

fn cookie_change(r: &reqwest::Response) -> CookieChange {
    let mut change = CookieChange::Kept;
    for v in r.headers().get_all(SET_COOKIE) {
        let s = v.to_str().unwrap();
        let Some(rest) = s.strip_prefix("wos-session=") else {
            continue;
        };
        let value = rest.split(';').next().unwrap();
        change = if value.is_empty() || s.contains("Max-Age=0") {
            CookieChange::Cleared
        } else {
            CookieChange::Set(value.to_owned())
        };
    }
    change
}

fn password_id(cookie: &str) -> &str {
    let mut fields = cookie.split('*');
    assert_eq!(fields.next(), Some("Fe26.2"), "{cookie}");
    fields.next().unwrap()
}

struct Answer {
    status: StatusCode,
    cookie: CookieChange,
    location: Option<String>,
    body: String,
}

impl Deployment {
    /// `GET path` with this session cookie (or none), as a browser
    /// navigation or an API call.
    async fn get(&self, path: &str, cookie: Option<&str>, api: bool) -> Answer {
        let mut request = http()
            .get(format!("{}{path}", self.base))
            .header(ACCEPT, if api { "application/json" } else { "text/html" });
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, format!("wos-session={cookie}"));
        }
        let r = request.send().await.unwrap();
        Answer {
            status: r.status(),
            cookie: cookie_change(&r),
            location: r
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: r.text().await.unwrap(),
        }
    }

    /// A whole sign-in through the emulator's login page; returns the
    /// session cookie.
    async fn sign_in(&self, emulator: &Emulator) -> String {
        let http = http();
        let r = http
            .get(format!("{}/auth/login", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let flow: Vec<String> = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect();
        let mut url = location(&r);
        let authorization_id = loop {
            let r = http.get(&url).send().await.unwrap();
            if r.status().is_redirection() {
                let next = location(&r);
                url = if next.starts_with("http") {
                    next
                } else {
                    format!("{}{next}", emulator.base_url())
                };
                continue;
            }
            assert_eq!(r.status(), 200, "{url}");
            let html = r.text().await.unwrap();
            let marker = "name=\"authorization_id\" value=\"";
            let start = html.find(marker).expect("hidden authorization id") + marker.len();
            let end = start + html[start..].find('"').unwrap();
            break html[start..end].to_owned();
        };
        let r = http
            .post(format!("{}/emulator/login", emulator.base_url()))
            .form(&[
                ("authorization_id", authorization_id.as_str()),
                ("email", EMAIL),
                ("password", DEMO_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let callback = location(&r);
        assert!(callback.starts_with(&self.base), "{callback}");
        let r = http
            .get(callback)
            .header(COOKIE, flow.join("; "))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
        match cookie_change(&r) {
            CookieChange::Set(cookie) => cookie,
            other => panic!("the callback did not set the session cookie: {other:?}"),
        }
    }

    /// Asserts the cookie is "not signed in" everywhere, never an error.
    async fn assert_signed_out(&self, cookie: &str) {
        let page = self.get("/account", Some(cookie), false).await;
        assert_eq!(page.status, 307, "a browser is sent to login");
        assert!(
            page.location.as_deref().unwrap().starts_with("/auth/login"),
            "{:?}",
            page.location
        );
        assert_eq!(page.cookie, CookieChange::Cleared, "the dead cookie goes");
        let api = self.get("/account", Some(cookie), true).await;
        assert_eq!(api.status, 401, "an API call is unauthorized");
        assert_eq!(api.cookie, CookieChange::Cleared);
        let public = self.get("/", Some(cookie), false).await;
        assert_eq!(public.status, 200);
        assert_eq!(public.body, "hello, stranger");
        let r = http()
            .post(format!("{}/auth/logout", self.base))
            .header(COOKIE, format!("wos-session={cookie}"))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "logout: {}", r.status());
    }

    /// Asserts the cookie is signed in, returning the replacement cookie
    /// when the request refreshed it.
    async fn assert_signed_in(&self, cookie: &str) -> Option<String> {
        let r = self.get("/account", Some(cookie), true).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["email"], EMAIL);
        match r.cookie {
            CookieChange::Kept => None,
            CookieChange::Set(new) => Some(new),
            CookieChange::Cleared => panic!("signed in, yet the cookie was cleared"),
        }
    }
}

#[tokio::test]
async fn rotating_the_cookie_password_signs_nobody_out() {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();

    // Before: one password, id 1. Two users' sessions: one active through
    // the rotation, one idle throughout.
    let v1 = deploy(&emulator, &[("1", OLD_PASSWORD)]).await;
    let active = v1.sign_in(&emulator).await;
    let idle = v1.sign_in(&emulator).await;
    assert_eq!(password_id(&active), "1");
    assert_eq!(password_id(&idle), "1");
    assert_eq!(v1.assert_signed_in(&active).await, None);

    // Step 1: deploy old + new. Id-1 cookies keep working as they are;
    // new seals use id 2.
    let v2 = deploy(&emulator, &[("1", OLD_PASSWORD), ("2", NEW_PASSWORD)]).await;
    assert_eq!(v2.assert_signed_in(&active).await, None, "no re-seal yet");
    assert_eq!(v2.assert_signed_in(&idle).await, None);
    let newcomer = v2.sign_in(&emulator).await;
    assert_eq!(password_id(&newcomer), "2", "new sign-ins use id 2");
    // An id-2 cookie means nothing to the old deployment (still running
    // during a rolling deploy): not signed in, never an error.
    v1.assert_signed_out(&newcomer).await;

    // Step 2: the active session's access token expires; its next request
    // refreshes it and re-seals the cookie with id 2.
    emulator.clock().advance(PAST_EXPIRY);
    let rotated = v2
        .assert_signed_in(&active)
        .await
        .expect("an expired session is refreshed and re-sealed");
    assert!(rotated.starts_with("Fe26.2*2*"), "{rotated}");
    assert!(rotated.ends_with("~2"), "{rotated}");
    assert_eq!(emulator.grant_count("refresh_token"), 1);
    // The re-sealed cookie holds the new pair.
    let before = v2.authkit.sessions().unseal(&active).unwrap();
    let after = v2.authkit.sessions().unseal(&rotated).unwrap();
    assert_ne!(before.refresh_token, after.refresh_token);
    assert_eq!(before.user.id, after.user.id);

    // Step 3: deploy without the old password.
    let v3 = deploy(&emulator, &[("2", NEW_PASSWORD)]).await;
    // The rotated cookie works as it is (its token is fresh)...
    assert_eq!(v3.assert_signed_in(&rotated).await, None);
    // ...and an id-2 cookie whose token expired is refreshed, still id 2.
    let renewed = v3
        .assert_signed_in(&newcomer)
        .await
        .expect("the newcomer's token expired in step 2");
    assert!(renewed.starts_with("Fe26.2*2*"), "{renewed}");
    // Id-1 cookies (the idle session, and the active one's pre-rotation
    // copy) are now simply "not signed in": their users sign in again.
    for old in [&idle, &active] {
        assert!(matches!(
            v3.authkit.sessions().unseal(old),
            Err(SealError::UnknownPasswordId { ref id }) if id == "1"
        ));
        v3.assert_signed_out(old).await;
    }
    // No refresh was attempted for them.
    assert_eq!(emulator.grant_count("refresh_token"), 2);
    // And a new sign-in on the final deployment uses id 2.
    let latest = v3.sign_in(&emulator).await;
    assert_eq!(password_id(&latest), "2");
    assert_eq!(v3.assert_signed_in(&latest).await, None);
}

/// Step 2 covers idle sessions too, as long as they come back before the
/// old password is removed: whenever their first request arrives, the
/// expired token is refreshed and the cookie re-sealed with the new id.
#[tokio::test]
async fn an_idle_session_is_re_sealed_on_its_first_request_after_the_rollout() {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    let v1 = deploy(&emulator, &[("1", OLD_PASSWORD)]).await;
    let idle = v1.sign_in(&emulator).await;
    let v2 = deploy(&emulator, &[("1", OLD_PASSWORD), ("2", NEW_PASSWORD)]).await;
    // Away for a day.
    emulator.clock().advance(Duration::from_secs(24 * 3600));
    let rotated = v2.assert_signed_in(&idle).await.expect("refreshed");
    assert_eq!(password_id(&rotated), "2");
    let v3 = deploy(&emulator, &[("2", NEW_PASSWORD)]).await;
    assert_eq!(v3.assert_signed_in(&rotated).await, None);
    v3.assert_signed_out(&idle).await;
}
