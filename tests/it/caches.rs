//! The cache sizes set on `AuthKitBuilder` reach the layer's
//! `SessionManager`, over real HTTP on 127.0.0.1 against the emulator: the
//! Bearer requests' user cache (counted by the emulator's requests), and
//! the cookie and token caches (a cached check answers the very session
//! or claims it answered before; an uncached one builds them anew).

use std::sync::Arc;
use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar};
use authkit_axum::AuthKitBuilder;
use authkit_axum::session::{AuthenticatedSession, Authentication};
use reqwest::header::{ACCEPT, AUTHORIZATION, COOKIE};

async fn start(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    app::start_demo(configure).await
}

/// A browser sign-in through the app: its session cookie.
async fn session_cookie(app: &App) -> String {
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    jar.session().expect("a whole session cookie").clone()
}

async fn authenticated(app: &App, cookie: &str) -> Arc<AuthenticatedSession> {
    match app.authkit.sessions().authenticate(Some(cookie)).await {
        Ok(Authentication::Authenticated(session)) => session,
        other => panic!("{other:?}"),
    }
}

async fn account(app: &App, header: (reqwest::header::HeaderName, String)) -> u16 {
    app.http
        .get(format!("{}/account", app.base))
        .header(ACCEPT, "application/json")
        .header(header.0, header.1)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_session_and_token_cache_capacities_set_on_the_builder_reach_the_layer() {
    // Defaults: the second check of a cookie is the cached session itself.
    let app = start(|b| b).await;
    let cookie = session_cookie(&app).await;
    assert_eq!(
        account(&app, (COOKIE, format!("wos-session={cookie}"))).await,
        200
    );
    let (first, again) = (
        authenticated(&app, &cookie).await,
        authenticated(&app, &cookie).await,
    );
    assert!(
        Arc::ptr_eq(&first, &again),
        "the cookie cache is on by default"
    );

    // No cookie cache: the cookie is unsealed anew each time, its token's
    // claims still come from the token cache.
    let app = start(|b| b.with_session_cache_capacity(0)).await;
    let cookie = session_cookie(&app).await;
    let (first, again) = (
        authenticated(&app, &cookie).await,
        authenticated(&app, &cookie).await,
    );
    assert!(
        !Arc::ptr_eq(&first, &again),
        "a cookie cache of 0 keeps nothing"
    );
    assert!(
        Arc::ptr_eq(&first.claims, &again.claims),
        "the token cache is still on"
    );
    assert_eq!(first.user.id, again.user.id);

    // Neither: every check verifies the token's signature again, and the
    // layer still signs the user in on every request.
    let app = start(|b| {
        b.with_session_cache_capacity(0)
            .with_token_cache_capacity(0)
    })
    .await;
    let cookie = session_cookie(&app).await;
    let (first, again) = (
        authenticated(&app, &cookie).await,
        authenticated(&app, &cookie).await,
    );
    assert!(!Arc::ptr_eq(&first, &again));
    assert!(
        !Arc::ptr_eq(&first.claims, &again.claims),
        "a token cache of 0 keeps nothing"
    );
    assert_eq!(first.claims.sid, again.claims.sid);
    for _ in 0..3 {
        assert_eq!(
            account(&app, (COOKIE, format!("wos-session={cookie}"))).await,
            200
        );
    }
}

#[tokio::test]
async fn the_user_cache_capacity_and_ttl_set_on_the_builder_reach_the_layer() {
    // How many times the emulator is asked for the user of three Bearer
    // requests, after `wait` between the second and the third.
    async fn fetches(
        configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder,
        wait: Duration,
    ) -> u64 {
        let app = start(configure).await;
        let cookie = session_cookie(&app).await;
        let token = app.authkit.sessions().unseal(&cookie).unwrap().access_token;
        let id = app.emulator.user_by_email(EMAIL).unwrap().id;
        app.emulator.reset_counters();
        let bearer = || (AUTHORIZATION, format!("Bearer {}", token.expose()));
        assert_eq!(account(&app, bearer()).await, 200);
        assert_eq!(account(&app, bearer()).await, 200);
        app.emulator.clock().advance(wait);
        assert_eq!(account(&app, bearer()).await, 200);
        app.emulator
            .request_count(&format!("/user_management/users/{id}"))
    }
    let minute = Duration::from_secs(61);
    assert_eq!(fetches(|b| b, Duration::ZERO).await, 1, "cached by default");
    assert_eq!(fetches(|b| b, minute).await, 2, "for 60 s by default");
    assert_eq!(
        fetches(|b| b.with_user_cache_capacity(0), Duration::ZERO).await,
        3
    );
    assert_eq!(
        fetches(|b| b.with_user_cache_ttl(Duration::ZERO), Duration::ZERO).await,
        3
    );
    let ten_minutes = |b: AuthKitBuilder| b.with_user_cache_ttl(Duration::from_secs(600));
    assert_eq!(fetches(ten_minutes, minute).await, 1);
}

#[tokio::test]
async fn a_cookie_sessions_token_is_remembered_with_its_session_not_in_the_token_cache_too() {
    let app = start(|b| b).await;
    let cookie = session_cookie(&app).await;
    assert_eq!(
        account(&app, (COOKIE, format!("wos-session={cookie}"))).await,
        200
    );
    let session = authenticated(&app, &cookie).await;
    let token = session.access_token.expose().to_owned();
    let sessions = app.authkit.sessions();

    // The same token as Bearer: verified anew (the cookie's check left
    // nothing in the token cache), then remembered there.
    assert_eq!(
        account(&app, (AUTHORIZATION, format!("Bearer {token}"))).await,
        200
    );
    let first = sessions.verify_access_token(&token).await.unwrap();
    let again = sessions.verify_access_token(&token).await.unwrap();
    assert!(
        !Arc::ptr_eq(&first, &session.claims),
        "a cookie the session cache holds keeps its claims there only"
    );
    assert!(Arc::ptr_eq(&first, &again), "a Bearer token is remembered");
    assert_eq!(first.sid, session.claims.sid);

    // The cookie's session, still the cached one.
    assert!(Arc::ptr_eq(&session, &authenticated(&app, &cookie).await));
}

#[tokio::test]
async fn a_refreshed_session_is_remembered_once_in_the_session_cache_else_in_the_token_cache() {
    // (session cache, token cache): whether the new cookie's first check
    // answers the claims the refresh verified, and whether the token
    // cache holds them.
    for (caches, first_check_cached, in_token_cache) in [
        ((None, None), true, false),
        ((Some(0), None), true, true),
        ((Some(0), Some(0)), false, false),
    ] {
        let app = start(|b| {
            let b = match caches.0 {
                Some(capacity) => b.with_session_cache_capacity(capacity),
                None => b,
            };
            match caches.1 {
                Some(capacity) => b.with_token_cache_capacity(capacity),
                None => b,
            }
        })
        .await;
        let cookie = session_cookie(&app).await;
        let sessions = app.authkit.sessions();
        let refreshed = sessions
            .refresh(Some(&cookie), Default::default())
            .await
            .unwrap();
        assert_ne!(refreshed.sealed, cookie);
        let next = authenticated(&app, &refreshed.sealed).await;
        assert_eq!(
            Arc::ptr_eq(&next.claims, &refreshed.session.claims),
            first_check_cached,
            "caches {caches:?}"
        );
        assert_eq!(next.user.id, refreshed.session.user.id);
        let verified = sessions
            .verify_access_token(refreshed.session.access_token.expose())
            .await
            .unwrap();
        assert_eq!(
            Arc::ptr_eq(&verified, &refreshed.session.claims),
            in_token_cache,
            "caches {caches:?}"
        );
        // And the layer signs the user in with it.
        assert_eq!(
            account(&app, (COOKIE, format!("wos-session={}", refreshed.sealed))).await,
            200
        );
    }
}
