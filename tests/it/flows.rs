//! Full sign-in flows of an axum app against the embedded WorkOS emulator,
//! over real HTTP on 127.0.0.1: login → AuthKit's login page → callback →
//! protected page → expiry → transparent refresh → logout.

use std::sync::Arc;
use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar, location};
use authkit_axum::emulator::EmulatorExt;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, Fault, Seed, SeedRole};
use axum::Router;
use reqwest::header::{ACCEPT, COOKIE, RETRY_AFTER, SET_COOKIE};
use serde_json::{Value, json};

async fn start() -> App {
    start_with(Seed::demo()).await
}

async fn start_with(seed: Seed) -> App {
    let emulator = Emulator::builder().with_seed(seed).start().await.unwrap();
    app::start_with(emulator, |b| b, Router::new()).await
}

/// Signs in the way a browser gets there: a protected page first, which
/// redirects to login, then AuthKit's form and the callback.
async fn sign_in(app: &App, start_path: &str) -> (Jar, String) {
    let mut jar = Jar::default();
    let r = app.get(&mut jar, start_path).await;
    assert_eq!(r.status(), 307, "protected page redirects to login");
    app.sign_in(jar, &location(&r), EMAIL).await
}

#[tokio::test]
async fn login_callback_account_expiry_refresh_and_logout() {
    let app = start().await;
    let (mut jar, landed) = sign_in(&app, "/account?tab=profile").await;
    assert_eq!(landed, "/account?tab=profile");
    let r = app.get(&mut jar, &landed).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["email"], EMAIL);
    assert_eq!(first["role"], "admin");
    assert_eq!(
        first["permissions"],
        json!(["widgets:read", "widgets:write"])
    );
    assert_eq!(app.emulator.grant_count("refresh_token"), 0);

    // The access token (5 minutes) expires; the next request refreshes it.
    let before = jar.session().cloned().unwrap();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = app.get(&mut jar, "/account").await;
    assert_eq!(r.status(), 200);
    let refreshed: Value = r.json().await.unwrap();
    assert_ne!(jar.session().unwrap(), &before, "cookie rotated");
    assert!(
        refreshed["exp"].as_i64() > first["exp"].as_i64(),
        "handler saw the new token"
    );
    assert_eq!(refreshed["sid"], first["sid"], "same session, new tokens");
    assert_eq!(app.emulator.grant_count("refresh_token"), 1);

    // Sign out: the cookie goes, WorkOS ends the session, and the browser comes home.
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    jar.absorb(&r);
    assert_eq!(r.status(), 303);
    assert!(jar.session().is_none());
    let workos_logout = location(&r);
    assert!(workos_logout.starts_with(&format!(
        "{}/user_management/sessions/logout?",
        app.emulator.base_url()
    )));
    let r = app.http.get(&workos_logout).send().await.unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(location(&r), format!("{}/", app.base));
    let r = app.get(&mut jar, "/account").await;
    assert_eq!(r.status(), 307);
}

#[tokio::test]
async fn a_session_revoked_at_workos_ends_at_the_next_refresh() {
    let app = start().await;
    let (mut jar, _) = sign_in(&app, "/account").await;
    let r = app.get(&mut jar, "/account").await;
    let sid = r.json::<Value>().await.unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    app.emulator.client().revoke_session(&sid).await.unwrap();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = app.get(&mut jar, "/account").await;
    assert_eq!(r.status(), 307, "back to login");
    assert!(
        jar.session().is_none(),
        "the dead session's cookie is cleared"
    );
}

#[tokio::test]
async fn replayed_callback_and_forged_state_do_not_sign_in() {
    let app = start().await;
    let mut jar = Jar::default();
    let r = app.get(&mut jar, "/auth/login").await;
    let authorize = location(&r);
    let id = app.open_login_page(&authorize).await;
    let callback = location(&app.submit_login(&id, EMAIL, DEMO_PASSWORD).await);
    let flow_cookies = jar.clone();
    let r = app.get(&mut jar, &callback).await;
    assert_eq!(r.status(), 303);
    // The same callback again, with the flow cookie an attacker may have kept.
    let mut replay = flow_cookies.clone();
    let r = app.get(&mut replay, &callback).await;
    assert_eq!(r.status(), 400);
    assert!(replay.session().is_none());
    // A code with another state (CSRF): no flow cookie matches.
    let forged = callback.replace("state=", "state=x");
    let mut victim = flow_cookies;
    let r = app.get(&mut victim, &forged).await;
    assert_eq!(r.status(), 400);
    assert!(victim.session().is_none());
}

#[tokio::test]
async fn a_hundred_concurrent_requests_after_expiry_make_one_refresh_call() {
    let app = Arc::new(start().await);
    let (jar, _) = sign_in(&app, "/account").await;
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let app = app.clone();
        let cookie = jar.header();
        tasks.push(tokio::spawn(async move {
            let r = app
                .http
                .get(format!("{}/account", app.base))
                .header(COOKIE, cookie)
                .header(ACCEPT, "application/json")
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    assert_eq!(app.emulator.grant_count("refresh_token"), 1);
}

#[tokio::test]
async fn workos_errors_during_refresh_never_log_the_user_out() {
    let app = start().await;
    let (mut jar, _) = sign_in(&app, "/account").await;
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let cookie = jar.session().cloned().unwrap();
    for (fault, retry_after) in [
        (Fault::status(500).times(10), "5"),
        (
            Fault::status(429)
                .with_retry_after(Duration::from_secs(9))
                .times(10),
            "9",
        ),
    ] {
        app.emulator.faults().clear();
        app.emulator.faults().inject(
            "/user_management/authenticate",
            fault.for_grant("refresh_token"),
        );
        let r = app
            .http
            .get(format!("{}/account", app.base))
            .header(COOKIE, jar.header())
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        jar.absorb(&r);
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[RETRY_AFTER], retry_after);
        assert_eq!(jar.session(), Some(&cookie), "cookie kept");
    }
    app.emulator.faults().clear();
    let r = app.get(&mut jar, "/account").await;
    assert_eq!(r.status(), 200, "signed in once WorkOS is back");
}

#[tokio::test]
async fn wrong_password_stays_on_the_login_page_with_an_error() {
    let app = start().await;
    let mut jar = Jar::default();
    let r = app.get(&mut jar, "/auth/login").await;
    let id = app.open_login_page(&location(&r)).await;
    let r = app.submit_login(&id, EMAIL, "not-the-password").await;
    assert!(!r.status().is_redirection());
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
}

#[tokio::test]
async fn sessions_too_large_for_one_cookie_are_chunked_and_reassembled() {
    // Hundreds of permissions make the access token, and so the cookie, far
    // larger than the 4096 bytes a browser keeps in one cookie.
    let mut seed = Seed::demo();
    let permissions: Vec<String> = (0..300)
        .map(|i| format!("resource-{i:03}:read-write"))
        .collect();
    seed.organizations[0] = seed.organizations[0]
        .clone()
        .with_role(SeedRole::new("admin", permissions.clone()));
    let app = start_with(seed).await;
    let (mut jar, _) = sign_in(&app, "/account").await;
    assert!(jar.session().is_none(), "too large for a single cookie");
    let chunks: Vec<&String> = jar
        .0
        .keys()
        .filter(|k| k.starts_with("wos-session."))
        .collect();
    assert!(chunks.len() >= 3, "{chunks:?}");
    let r = app.get(&mut jar, "/account").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let granted: Vec<&str> = body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(permissions.iter().all(|p| granted.contains(&p.as_str())));

    // A refresh rewrites the chunks; none is ever over the limit.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = app
        .http
        .get(format!("{}/account", app.base))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    for v in r.headers().get_all(SET_COOKIE) {
        assert!(v.len() <= 4096, "Set-Cookie of {} bytes", v.len());
    }
    jar.absorb(&r);
    assert_eq!(r.status(), 200);
    assert_eq!(app.emulator.grant_count("refresh_token"), 1);

    // Logout deletes every chunk.
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    jar.absorb(&r);
    assert!(
        jar.0.keys().all(|k| !k.starts_with("wos-session")),
        "{:?}",
        jar.0.keys()
    );
}
