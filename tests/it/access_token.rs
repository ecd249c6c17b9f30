//! `GET /auth/access-token` over real HTTP against the emulator: the token
//! for the page's own scripts, never for another site's, refreshed first
//! when it is about to expire.

use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar, clears_session, sets_session};
use crate::support::emulator::user_id;
use authkit_axum::emulator::{Emulator, Fault, Seed};
use axum::Router;
use reqwest::header::{ACCEPT, CACHE_CONTROL, COOKIE, ORIGIN, RETRY_AFTER};
use serde_json::Value;

async fn start() -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    app::start_with(emulator, |b| b, Router::new()).await
}

/// A fetch from the page's own scripts.
async fn fetch(app: &App, jar: &mut Jar, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .http
        .get(format!("{}/auth/access-token", app.base))
        .header(COOKIE, jar.header())
        .header(ACCEPT, "*/*");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let r = request.send().await.unwrap();
    jar.absorb(&r);
    r
}

const SAME_ORIGIN: [(&str, &str); 2] = [
    ("sec-fetch-site", "same-origin"),
    ("sec-fetch-mode", "cors"),
];

#[tokio::test]
async fn a_signed_in_page_gets_a_token_that_verifies_with_its_expiry_never_cached() {
    let app = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = fetch(&app, &mut jar, &SAME_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    let body: Value = r.json().await.unwrap();
    let token = body["accessToken"].as_str().unwrap();
    let claims = app
        .authkit
        .sessions()
        .verify_access_token(token)
        .await
        .expect("the token WorkOS issued verifies");
    assert_eq!(claims.sub, user_id(&app.emulator, EMAIL));
    assert_eq!(
        body["expiresAt"].as_i64(),
        Some(claims.exp),
        "seconds since the epoch"
    );
    // A same-origin Origin (a POST-like fetch) is fine too.
    let origin = app.base.clone();
    let r = fetch(&app, &mut jar, &[("origin", origin.as_str())]).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn signed_out_is_401_json_even_for_a_browser_navigation() {
    let app = start().await;
    let mut jar = Jar::default();
    let r = fetch(&app, &mut jar, &[("accept", "text/html")]).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");
}

#[tokio::test]
async fn cross_site_requests_are_refused_without_the_token() {
    let app = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "http://evil.example")],
        vec![("origin", "null")],
    ] {
        let r = fetch(&app, &mut jar, &headers).await;
        assert_eq!(r.status(), 403, "{headers:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "forbidden");
        assert!(body.get("accessToken").is_none());
    }
    let r = app
        .http
        .get(format!("{}/auth/access-token", app.base))
        .header(COOKIE, jar.header())
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        !r.text().await.unwrap().contains("eyJ"),
        "no JWT in the answer"
    );
}

#[tokio::test]
async fn a_token_about_to_expire_comes_back_refreshed_with_the_new_cookie() {
    let app = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let first: Value = fetch(&app, &mut jar, &SAME_ORIGIN)
        .await
        .json()
        .await
        .unwrap();
    // Tokens live 5 minutes; the buffer for them is 30 s: 20 s left is "about to expire".
    app.emulator
        .clock()
        .advance(Duration::from_secs(5 * 60 - 20));
    let r = fetch(&app, &mut jar, &SAME_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert!(
        sets_session(&r),
        "the refreshed session's cookie is written"
    );
    let second: Value = r.json().await.unwrap();
    assert_ne!(second["accessToken"], first["accessToken"]);
    assert!(second["expiresAt"].as_i64() > first["expiresAt"].as_i64());
    assert_eq!(app.emulator.grant_count("refresh_token"), 1);
    let claims = app
        .authkit
        .sessions()
        .verify_access_token(second["accessToken"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(Some(claims.exp), second["expiresAt"].as_i64());
}

#[tokio::test]
async fn an_expired_token_while_workos_is_down_is_503_and_the_cookie_is_kept() {
    let app = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(500).times(10).for_grant("refresh_token"),
    );
    let r = fetch(&app, &mut jar, &SAME_ORIGIN).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key(RETRY_AFTER));
    assert!(!clears_session(&r));
    assert!(jar.session().is_some());
}

#[tokio::test]
async fn a_bearer_request_is_not_handed_a_token_it_already_holds() {
    let app = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let token = app
        .authkit
        .sessions()
        .unseal(jar.session().unwrap())
        .unwrap()
        .access_token
        .expose()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let r = fetch(
        &app,
        &mut jar,
        &[SAME_ORIGIN[0], SAME_ORIGIN[1], ("authorization", &bearer)],
    )
    .await;
    assert_eq!(r.status(), 401);
    assert!(!clears_session(&r) && !sets_session(&r));
    let body: Value = r.json().await.unwrap();
    assert!(body.get("accessToken").is_none(), "{body}");
}

#[tokio::test]
async fn the_route_is_gone_when_the_app_turns_it_off_and_answers_are_never_sniffed() {
    let app = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = fetch(&app, &mut jar, &SAME_ORIGIN).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");

    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    let off = app::start_with(
        emulator,
        |b| b.with_access_token_route(false),
        Router::new(),
    )
    .await;
    let (mut jar, _) = off.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = fetch(&off, &mut jar, &SAME_ORIGIN).await;
    assert_eq!(r.status(), 404);
}
