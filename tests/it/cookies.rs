//! The `Cookie` request header as browsers really send it, against a running
//! app: bytes that are not UTF-8 next to the session, several cookies of the
//! session's name (a stale host-only one beside a `Domain=` one), and sealed
//! sessions whose token can never verify (an earlier emulator run's).

use std::time::Duration;

use crate::support::app::{self, App, COOKIE_PASSWORD, EMAIL, Jar, clears_session, sets_session};
use authkit_axum::emulator::{Emulator, Seed};
use authkit_axum::seal::{self, Passwords, SealOptions, UnsealOptions};
use authkit_axum::session::SessionData;
use axum::Router;
use reqwest::header::{ACCEPT, COOKIE, HeaderValue, LOCATION, ORIGIN, SET_COOKIE};

async fn start() -> App {
    start_configured(|b| b).await
}

async fn start_configured(
    configure: impl FnOnce(authkit_axum::AuthKitBuilder) -> authkit_axum::AuthKitBuilder,
) -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    app::start_with(emulator, configure, Router::new()).await
}

/// `GET path` with exactly these `Cookie` header bytes.
async fn get_raw(app: &App, path: &str, cookie: &[u8]) -> reqwest::Response {
    app.http
        .get(app::absolute(&app.base, path))
        .header(ACCEPT, "text/html")
        .header(COOKIE, HeaderValue::from_bytes(cookie).unwrap())
        .send()
        .await
        .unwrap()
}

/// The session cookie deletions of a response: (whether it names a Domain).
fn session_deletions(r: &reqwest::Response) -> Vec<bool> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .filter(|s| s.starts_with("wos-session=") && s.contains("Max-Age=0"))
        .map(|s| s.contains("Domain="))
        .collect()
}

#[tokio::test]
async fn a_cookie_with_bytes_above_0x7f_neither_signs_the_user_out_nor_breaks_sign_in() {
    let app = start().await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let session = jar.session().unwrap().clone();
    // A page's script wrote `x=é` (UTF-8 and Latin-1), a sibling subdomain a
    // lone 0xff: only those pairs are unreadable.
    for junk in [&b"x=\xc3\xa9"[..], b"x=\xe9", b"\xff", b"x=\"\xe9\""] {
        let mut header = junk.to_vec();
        header.extend_from_slice(format!("; wos-session={session}; y=1").as_bytes());
        let r = get_raw(&app, "/whoami", &header).await;
        assert_eq!(r.status(), 200);
        assert!(!clears_session(&r), "{junk:?}: the session was cleared");
        assert_eq!(
            r.text().await.unwrap(),
            format!("signed in as {EMAIL}"),
            "{junk:?}"
        );
    }

    // A sign-in started with such a cookie in the jar completes: the
    // callback still finds its flow cookie.
    let pending = app.start_login(Jar::default(), "/auth/login", EMAIL).await;
    let mut header = b"x=\xe9; ".to_vec();
    header.extend_from_slice(pending.jar.header().as_bytes());
    let path = pending.callback.strip_prefix(&app.origin).unwrap();
    let r = get_raw(&app, path, &header).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert!(sets_session(&r), "the callback signed the user in");
}

/// The session value a response sets (not a deletion), if any.
fn session_written(r: &reqwest::Response) -> Option<String> {
    r.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let s = v.to_str().ok()?;
        let value = s.strip_prefix("wos-session=")?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_owned())
    })
}

#[tokio::test]
async fn an_older_copy_of_the_session_sent_first_neither_wins_nor_signs_out_after_a_refresh() {
    let app = start_configured(|b| b.with_cookie_domain("127.0.0.1")).await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let old = jar.session().unwrap().clone();
    // The token expires; a refresh writes the newer copy and spends the old
    // copy's refresh token.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = get_raw(&app, "/whoami", format!("wos-session={old}").as_bytes()).await;
    assert_eq!(r.status(), 200);
    let newer = session_written(&r).expect("the refreshed session");
    // Past the replay window and the newer token's expiry too, the browser
    // still sends the stale host-only copy first, to another replica (whose
    // single flight has not seen the first refresh).
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let replica = app::start_with(
        app.emulator.clone(),
        |b| b.with_cookie_domain("127.0.0.1"),
        Router::new(),
    )
    .await;
    let header = format!("wos-session={old}; wos-session={newer}");
    let r = get_raw(&replica, "/whoami", header.as_bytes()).await;
    assert_eq!(r.status(), 200);
    assert!(
        !session_deletions(&r).contains(&true),
        "the Domain= session was deleted"
    );
    assert!(
        session_written(&r).is_some(),
        "refreshed from the newer copy"
    );
    assert_eq!(r.text().await.unwrap(), format!("signed in as {EMAIL}"));
}

#[tokio::test]
async fn logout_ends_the_session_the_layer_resolved_not_a_stale_copy_sent_first() {
    let app = start_configured(|b| b.with_cookie_domain("127.0.0.1")).await;
    let sid = |cookie: String| {
        let app = &app;
        async move {
            let r = app
                .http
                .get(app::absolute(&app.base, "/account"))
                .header(COOKIE, format!("wos-session={cookie}"))
                .send()
                .await
                .unwrap();
            r.json::<serde_json::Value>().await.unwrap()["sid"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let (first, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let older = first.session().unwrap().clone();
    // A later sign-in: a newer session, in a newer cookie.
    app.emulator.clock().advance(Duration::from_secs(5));
    let (second, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let newer = second.session().unwrap().clone();
    let (older_sid, newer_sid) = (sid(older.clone()).await, sid(newer.clone()).await);
    assert_ne!(older_sid, newer_sid);
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, format!("wos-session={older}; wos-session={newer}"))
        .header(ORIGIN, &app.base)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()[LOCATION].to_str().unwrap();
    assert!(location.contains(&newer_sid), "{location}");
}

#[tokio::test]
async fn a_stale_session_cookie_beside_a_valid_one_neither_wins_nor_deletes_it() {
    let app = start_configured(|b| b.with_cookie_domain("127.0.0.1")).await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let valid = jar.session().unwrap().clone();
    // A garbage cookie, and a sibling app's session (sealed with another
    // password) — each sent before and after the valid one.
    let data: SessionData = seal::unseal(
        &valid,
        &Passwords::single(COOKIE_PASSWORD).unwrap(),
        UnsealOptions::default().with_now(app.emulator.clock().now()),
    )
    .unwrap();
    let sibling = seal::seal(
        &data,
        &Passwords::single("a sibling app's cookie password, 32+ chars").unwrap(),
        SealOptions::default(),
    )
    .unwrap();
    for stale in ["garbage", sibling.as_str()] {
        for header in [
            format!("wos-session={stale}; wos-session={valid}"),
            format!("wos-session={valid}; wos-session={stale}"),
        ] {
            let r = get_raw(&app, "/whoami", header.as_bytes()).await;
            assert_eq!(r.status(), 200);
            assert!(
                session_deletions(&r).is_empty(),
                "the valid session was deleted"
            );
            assert_eq!(r.text().await.unwrap(), format!("signed in as {EMAIL}"));
        }
    }
    // The chunked form is a candidate too.
    let header = format!("wos-session=garbage; wos-session.0={valid}");
    let r = get_raw(&app, "/whoami", header.as_bytes()).await;
    assert_eq!(r.text().await.unwrap(), format!("signed in as {EMAIL}"));

    // When none authenticates, both forms are deleted: the `Domain=` cookie
    // and the host-only one.
    let r = get_raw(&app, "/whoami", b"wos-session=garbage; wos-session=junk").await;
    let mut deletions = session_deletions(&r);
    deletions.sort();
    assert_eq!(deletions, [false, true], "host-only and Domain= deletions");
}

#[tokio::test]
async fn a_session_whose_token_names_a_key_workos_no_longer_publishes_is_cleared() {
    // A cookie of an earlier emulator run: sealed with the same password,
    // its token signed by a key the new emulator never had.
    let earlier = start().await;
    let (jar, _) = earlier.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let cookie = jar.session().unwrap().clone();
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_fresh_signing_key()
        .start()
        .await
        .unwrap();
    let app = app::start_with(emulator, |b| b, Router::new()).await;
    let r = get_raw(&app, "/account", format!("wos-session={cookie}").as_bytes()).await;
    assert!(r.status().is_redirection(), "signed out: sent to sign in");
    assert!(clears_session(&r), "cleared, like garbage");
    let r = get_raw(&app, "/account", b"wos-session=garbage").await;
    assert!(clears_session(&r), "garbage is cleared too");
}
