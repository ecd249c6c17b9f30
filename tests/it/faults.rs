//! WorkOS misbehaving, through the emulator's fault injection: 5xx, 429 and
//! hangs longer than the client's timeout during the callback's code
//! exchange, during refresh and during the first JWKS fetch; and a JWKS key
//! rotation while requests are in flight (against the fake WorkOS of
//! `tests/support/fake_workos.rs`, since the emulator cannot rotate its
//! key). Nothing panics, no session is lost, and every faulted request
//! answers within a bound.

use std::time::{Duration, Instant};

use crate::support::app::{self, App, EMAIL, Jar, sets_session};
use crate::support::fake_workos::{FakeWorkos, KID_1, KID_2, user_json};
use authkit_axum::client::{RetryPolicy, User, UserManagement};
use authkit_axum::emulator::{Emulator, EmulatorExt, Fault, Seed};
use authkit_axum::session::{JwksCache, SessionData};
use authkit_axum::{AuthKit, AuthUser};
use axum::Router;
use axum::routing::get;
use reqwest::header::{ACCEPT, COOKIE, RETRY_AFTER};

/// The client's timeout for one attempt.
const TIMEOUT: Duration = Duration::from_millis(300);
/// Timeout, retries and a generous margin for a loaded 2-core CI machine.
const BOUND: Duration = Duration::from_secs(5);
/// Longer than the client's timeout: looks like a hung WorkOS.
const HANG: Duration = Duration::from_millis(1500);

fn client(emulator: &Emulator) -> UserManagement {
    emulator
        .client_builder()
        .with_timeout(TIMEOUT)
        .with_retry_policy(
            RetryPolicy::default()
                .with_base_delay(Duration::from_millis(10))
                .with_max_delay(Duration::from_millis(100)),
        )
        .build()
        .unwrap()
}

async fn start() -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    let c = client(&emulator);
    app::start_with(emulator, |b| b.with_client(c), Router::new()).await
}

/// The seconds a fault of [`faults`] asks to wait, when it says.
fn asked_retry_after(what: &str) -> Option<u64> {
    let (_, secs) = what.split_once("Retry-After ")?;
    Some(secs.parse().unwrap())
}

/// The faults WorkOS may throw at us, each outlasting the client's retries.
fn faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("500", Fault::status(500).forever()),
        ("502", Fault::status(502).forever()),
        ("503", Fault::status(503).forever()),
        (
            "503 with Retry-After 30",
            Fault::status(503)
                .with_retry_after(Duration::from_secs(30))
                .forever(),
        ),
        (
            "429 with Retry-After 9",
            Fault::status(429)
                .with_retry_after(Duration::from_secs(9))
                .forever(),
        ),
        ("429 without Retry-After", Fault::status(429).forever()),
        ("hang", Fault::hang(HANG).forever()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workos_failing_the_code_exchange_gives_a_clear_error_page_quickly() {
    let app = start().await;
    for (what, fault) in faults() {
        let pending = app.start_login(Jar::default(), "/auth/login", EMAIL).await;
        app.emulator.faults().clear();
        app.emulator.faults().inject(
            "/user_management/authenticate",
            fault.for_grant("authorization_code"),
        );
        let mut jar = pending.jar;
        let started = Instant::now();
        let r = app.get(&mut jar, &pending.callback).await;
        let elapsed = started.elapsed();
        let status = r.status().as_u16();
        let set = sets_session(&r);
        let retry = r
            .headers()
            .get(RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = r.text().await.unwrap();
        eprintln!("code exchange, WorkOS {what}: {status} in {elapsed:?}");
        assert!(elapsed < BOUND, "{what}: took {elapsed:?}");
        assert!(
            status == 502 || status == 503,
            "{what}: {status} (only 502/503 for a WorkOS outage)"
        );
        assert!(
            body.to_lowercase().contains("unavailable"),
            "{what}: the page says why: {body}"
        );
        assert!(body.contains("/auth/login"), "{what}: a way to retry");
        assert!(!set && jar.session().is_none(), "{what}: not signed in");
        if status == 503 {
            let retry_after: u64 = retry.expect("a 503 says when to retry").parse().unwrap();
            assert_eq!(
                retry_after,
                asked_retry_after(what).unwrap_or(5),
                "{what}: WorkOS's Retry-After is passed on"
            );
        }
    }
    // Once WorkOS is back, signing in works.
    app.emulator.faults().clear();
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    assert_eq!(app.get_json(&mut jar, "/account").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workos_failing_a_refresh_keeps_the_session_and_answers_503() {
    let app = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let cookie = jar.session().unwrap().clone();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    for (what, fault) in faults() {
        app.emulator.faults().clear();
        app.emulator.faults().inject(
            "/user_management/authenticate",
            fault.for_grant("refresh_token"),
        );
        for (kind, accept) in [("API", "application/json"), ("browser", "text/html")] {
            let started = Instant::now();
            let r = app
                .http
                .get(format!("{}/account", app.base))
                .header(ACCEPT, accept)
                .header(COOKIE, jar.header())
                .send()
                .await
                .unwrap();
            let elapsed = started.elapsed();
            jar.absorb(&r);
            eprintln!(
                "refresh, WorkOS {what}, {kind}: {} in {elapsed:?}",
                r.status()
            );
            assert!(elapsed < BOUND, "{what}: took {elapsed:?}");
            assert_eq!(r.status(), 503, "{what} {kind}: not a logout");
            let retry_after: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
            assert!(retry_after >= 1, "{what}");
            if let Some(asked) = asked_retry_after(what) {
                assert_eq!(
                    retry_after, asked,
                    "{what}: WorkOS's Retry-After is passed on"
                );
            }
            assert!(
                app::set_cookies(&r)
                    .iter()
                    .all(|(n, _, _)| n != "wos-session"),
                "{what}: the cookie is left alone"
            );
            assert_eq!(jar.session(), Some(&cookie), "{what}: cookie kept");
        }
    }
    // WorkOS recovers: signed in again, with a rotated cookie.
    app.emulator.faults().clear();
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(r.status(), 200, "signed in once WorkOS is back");
    assert_ne!(jar.session(), Some(&cookie), "the cookie was rotated");
}

#[tokio::test]
async fn a_key_fetch_answers_workos_wait_at_once_instead_of_sleeping_it_out() {
    let signer = start().await;
    let (jar, _) = signer.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    // A fresh app (no keys) whose client has the default retry policy: it
    // would wait out a 3 s Retry-After (under its 10 s max_delay) three
    // times, past the 5 s a request waits for the keys.
    let c = signer.emulator.client_builder().build().unwrap();
    assert_eq!(c.retry_policy(), &RetryPolicy::default());
    let app = app::start_with(signer.emulator.clone(), |b| b.with_client(c), Router::new()).await;
    app.emulator.faults().inject(
        format!("/sso/jwks/{}", app.emulator.client_id()),
        Fault::status(503)
            .with_retry_after(Duration::from_secs(3))
            .forever(),
    );
    let r = app
        .http
        .get(format!("{}/account", app.base))
        .header(ACCEPT, "application/json")
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.headers()[RETRY_AFTER],
        "3",
        "WorkOS's wait, not a timeout's default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_authkit_whose_first_jwks_fetch_fails_answers_503_and_recovers() {
    let signer = start().await;
    let (jar, _) = signer.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let cookie = jar.session().unwrap().clone();
    // Another instance of the app (a fresh AuthKit: nothing cached), sharing
    // the cookie password and the emulator. Its JWKS refetch interval is
    // short so recovery is quick to observe (the default is 10 s).
    let c = client(&signer.emulator);
    let jwks = JwksCache::new(c.clone()).with_min_refetch_interval(Duration::from_millis(50));
    let app = app::start_with(
        signer.emulator.clone(),
        |b| b.with_client(c).with_jwks(jwks),
        Router::new(),
    )
    .await;
    let jwks_path = format!("/sso/jwks/{}", app.emulator.client_id());
    for (what, fault) in [
        ("500", Fault::status(500).forever()),
        ("hang", Fault::hang(HANG).forever()),
        ("429", Fault::status(429).forever()),
    ] {
        app.emulator.faults().clear();
        app.emulator.faults().inject("/sso/jwks", fault);
        tokio::time::sleep(Duration::from_millis(60)).await;
        let mut jar = jar.clone();
        let started = Instant::now();
        let r = app.get_json(&mut jar, "/account").await;
        let elapsed = started.elapsed();
        eprintln!(
            "first JWKS fetch, WorkOS {what}: {} in {elapsed:?}",
            r.status()
        );
        assert!(elapsed < BOUND, "{what}: took {elapsed:?}");
        assert_eq!(r.status(), 503, "{what}: unavailable, not signed out");
        assert!(r.headers().contains_key(RETRY_AFTER));
        assert!(!app::clears_session(&r), "{what}: cookie kept");
        assert_eq!(jar.session(), Some(&cookie));
    }
    assert!(app.emulator.request_count(&jwks_path) >= 3);
    app.emulator.faults().clear();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let mut jar = jar.clone();
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(r.status(), 200, "signed in once the JWKS is back");
}

async fn account(user: AuthUser) -> String {
    user.user.id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_key_rotation_mid_traffic_keeps_every_session_working() {
    let fake = FakeWorkos::start().await;
    let client = UserManagement::builder("sk_test_rotation", "client_123")
        .with_base_url(&fake.base_url)
        .with_timeout(TIMEOUT)
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let authkit = AuthKit::builder()
        .with_client(client.clone())
        .with_cookie_password(app::COOKIE_PASSWORD)
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .with_jwks(JwksCache::new(client).with_min_refetch_interval(Duration::ZERO))
        .build()
        .unwrap();
    let app = Router::new()
        .route("/account", get(account))
        .layer(authkit.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let seal = |fake: &FakeWorkos| {
        let (at, rt) = fake.sign_in("user_1", None);
        authkit
            .sessions()
            .seal(&SessionData {
                access_token: at.into(),
                refresh_token: rt.into(),
                user: serde_json::from_value::<User>(user_json("user_1")).unwrap(),
                impersonator: None,
                authentication_method: None,
                organization_id: None,
            })
            .unwrap()
    };
    let old = seal(&fake);
    let http = app::http_client();
    let fire = |cookie: String| {
        let (http, base) = (http.clone(), base.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let r = http
                .get(format!("{base}/account"))
                .header(ACCEPT, "application/json")
                .header(COOKIE, format!("wos-session={cookie}"))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), started.elapsed())
        })
    };
    let mut tasks = Vec::new();
    for _ in 0..100 {
        tasks.push(fire(old.clone()));
    }
    // WorkOS rotates while those are in flight: both keys are published,
    // and new tokens are signed with the new one.
    tokio::task::yield_now().await;
    fake.with(|s| {
        s.published = vec![KID_1.into(), KID_2.into()];
        s.signing_kid = KID_2.into();
    });
    let new = seal(&fake);
    for i in 0..100 {
        tasks.push(fire(if i % 2 == 0 { new.clone() } else { old.clone() }));
    }
    let mut slowest = Duration::ZERO;
    let total = tasks.len();
    for t in tasks {
        let (status, elapsed) = t.await.expect("no request panicked");
        assert_eq!(status, 200);
        slowest = slowest.max(elapsed);
    }
    eprintln!(
        "rotation: {total} requests, all 200, slowest {slowest:?}, {} JWKS fetches",
        fake.jwks_fetches()
    );
    assert!(slowest < BOUND);
    // The old key's tokens keep working while it is still published.
    let (status, _) = fire(old.clone()).await.unwrap();
    assert_eq!(status, 200);
}
