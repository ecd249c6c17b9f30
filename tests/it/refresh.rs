//! Refresh and the JWKS under failure (issue 11, items 4–9): which refresh
//! answers sign a user out, a refresh whose answer was lost, a new token
//! signed by a key WorkOS rotated to moments ago, a refresh abandoned by its
//! client, a hanging JWKS, and the organization switch with an expired token.

use std::time::Duration;

use crate::support::app::{self, EMAIL, Jar};
use crate::support::fake_workos::{FakeWorkos, KID_1, KID_2, user_json};
use authkit_axum::client::{CreateOrganizationMembership, RetryPolicy, User, UserManagement};
use authkit_axum::emulator::{Emulator, EmulatorExt, Seed, SeedOrganization, SeedRole};
use authkit_axum::seal::Passwords;
use authkit_axum::session::{Authentication, JwksCache, SessionData, SessionManager};
use authkit_axum::{AuthKit, AuthUser};
use axum::http::header::{ACCEPT, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::routing::get;
use axum::{Json, Router};
use axum_test::{TestResponse, TestServer};
use serde_json::{Value, json};

const PASSWORD: &str = "refresh-test-cookie-password-at-least-32-chars";

/// "Did not hang": far above any wait the code under test may take, far
/// below the hangs the fakes are told to do.
const DID_NOT_HANG: Duration = Duration::from_secs(15);

struct App {
    router: Router,
    server: TestServer,
    fake: FakeWorkos,
    authkit: AuthKit,
}

async fn account(user: AuthUser) -> Json<Value> {
    Json(json!({"id": user.user.id, "org": user.organization_id(), "exp": user.claims.exp}))
}

fn client(fake: &FakeWorkos, retry: RetryPolicy, timeout: Duration) -> UserManagement {
    UserManagement::builder("sk_test_refresh", "client_123")
        .with_base_url(&fake.base_url)
        .with_retry_policy(retry)
        .with_timeout(timeout)
        .build()
        .unwrap()
}

async fn start_with(
    fake: FakeWorkos,
    client: UserManagement,
    jwks: impl FnOnce(JwksCache) -> JwksCache,
) -> App {
    let authkit = AuthKit::builder()
        .with_client(client.clone())
        .with_cookie_password(PASSWORD)
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .with_jwks(jwks(JwksCache::new(client)))
        .build()
        .unwrap();
    let router = Router::new()
        .route("/account", get(account))
        .merge(authkit.routes())
        .layer(authkit.layer());
    App {
        server: TestServer::new(router.clone()),
        router,
        fake,
        authkit,
    }
}

/// Against a fake that rotates strictly, no retries.
async fn start() -> App {
    let fake = FakeWorkos::start().await;
    let client = client(&fake, RetryPolicy::none(), Duration::from_secs(30));
    start_with(fake, client, |j| j).await
}

impl App {
    /// A session whose access token lives `lifetime` seconds (negative: expired).
    fn session(&self, lifetime: i64, org: Option<&str>) -> String {
        let old = self
            .fake
            .with(|s| std::mem::replace(&mut s.token_lifetime, lifetime));
        let (at, rt) = self.fake.sign_in("user_1", org);
        self.fake.with(|s| s.token_lifetime = old);
        let data = SessionData {
            access_token: at.into(),
            refresh_token: rt.into(),
            user: serde_json::from_value::<User>(user_json("user_1")).unwrap(),
            impersonator: None,
            authentication_method: None,
            organization_id: org.map(str::to_owned),
        };
        self.authkit.sessions().seal(&data).unwrap()
    }

    async fn account(&self, cookie: &str) -> TestResponse {
        self.server
            .get("/account")
            .add_header(ACCEPT, "application/json")
            .add_header(COOKIE, format!("wos-session={cookie}"))
            .await
    }
}

/// The value the response sets for the session cookie (empty when it deletes it).
fn session_set(response: &TestResponse) -> Option<String> {
    response.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let s = v.to_str().ok()?;
        let (n, rest) = s.split_once('=')?;
        (n == "wos-session").then(|| rest.split(';').next().unwrap_or("").to_owned())
    })
}

// Item 5: only terminal answers sign out.

#[tokio::test]
async fn refresh_answers_that_say_nothing_about_the_session_keep_the_cookie() {
    let app = start().await;
    let answers = [
        (
            401,
            json!({"code": "unauthorized", "message": "Invalid API key"}),
        ),
        (403, json!({"message": "Forbidden"})),
        (
            404,
            json!({"code": "entity_not_found", "message": "Not found"}),
        ),
        (407, json!({"message": "Proxy authentication required"})),
        (409, json!({"code": "conflict", "message": "Conflict"})),
        (200, json!({"not": "a token pair"})),
    ];
    for (status, body) in answers {
        // Expired: nothing valid to carry on with, so 503 + Retry-After.
        let expired = app.session(-30, None);
        app.fake
            .with(|s| s.refresh_faults.push((status, body.clone(), None)));
        let r = app.account(&expired).await;
        assert_eq!(
            r.status_code(),
            503,
            "expired token, refresh answered {status}"
        );
        assert!(r.headers().contains_key(RETRY_AFTER), "after a {status}");
        assert_eq!(session_set(&r), None, "the cookie is kept after a {status}");
        // Still valid for a while: carry on with it.
        let expiring = app.session(20, None);
        app.fake
            .with(|s| s.refresh_faults.push((status, body.clone(), None)));
        let r = app.account(&expiring).await;
        assert_eq!(
            r.status_code(),
            200,
            "valid token, refresh answered {status}"
        );
        assert_eq!(session_set(&r), None, "the cookie is kept after a {status}");
    }
}

#[tokio::test]
async fn invalid_grant_and_authentication_challenges_sign_out() {
    let app = start().await;
    let answers = [
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid refresh token."}),
        ),
        (
            403,
            json!({"code": "sso_required", "message": "SSO", "connection_ids": ["conn_1"]}),
        ),
        (
            403,
            json!({"code": "mfa_enrollment", "message": "MFA", "pending_authentication_token": "pat_1"}),
        ),
        (
            403,
            json!({"code": "organization_selection_required", "message": "Pick",
                     "pending_authentication_token": "pat_2", "organizations": []}),
        ),
    ];
    for (status, body) in answers {
        let expired = app.session(-30, None);
        app.fake
            .with(|s| s.refresh_faults.push((status, body.clone(), None)));
        let r = app.account(&expired).await;
        assert_eq!(r.status_code(), 401, "{body}");
        assert_eq!(session_set(&r).as_deref(), Some(""), "cleared after {body}");
    }
}

// Item 8: a lost answer is not a sign-out.

#[tokio::test]
async fn a_refresh_whose_answer_was_lost_and_whose_retry_is_refused_keeps_the_cookie() {
    let fake = FakeWorkos::start().await;
    // The first attempt is acted on (the fake spends the token) but answered
    // after the client gave up; the fake does not replay, so the retry is
    // `invalid_grant`.
    fake.with(|s| {
        s.lost_answers = 1;
        s.lost_answer_ms = 5_000;
    });
    let retry = RetryPolicy::default().with_base_delay(Duration::from_millis(10));
    let client = client(&fake, retry, Duration::from_millis(500));
    let app = start_with(fake, client, |j| j).await;
    let expired = app.session(-30, None);
    let r = tokio::time::timeout(DID_NOT_HANG, app.account(&expired))
        .await
        .expect("did not hang");
    assert_eq!(
        app.fake.refresh_calls(),
        2,
        "the lost answer was retried once"
    );
    assert_eq!(
        r.status_code(),
        503,
        "a lost answer is an outage, not a sign-out"
    );
    assert!(r.headers().contains_key(RETRY_AFTER));
    assert_eq!(session_set(&r), None, "the cookie is kept");
}

// Item 6: a token WorkOS itself just returned is not an attack.

#[tokio::test]
async fn a_refresh_signed_by_a_key_rotated_to_moments_ago_keeps_the_user_signed_in() {
    let app = start().await; // the default 10 s JWKS refetch throttle
    let warm = app.session(300, None);
    let expired = app.session(-30, None);
    assert_eq!(app.account(&warm).await.status_code(), 200);
    assert_eq!(app.fake.jwks_fetches(), 1);
    // WorkOS rotates within the throttle interval and signs with the new key.
    app.fake.with(|s| {
        s.published = vec![KID_1.into(), KID_2.into()];
        s.signing_kid = KID_2.into();
    });
    let r = app.account(&expired).await;
    assert_eq!(r.status_code(), 200, "{}", r.text());
    assert!(session_set(&r).is_some_and(|c| !c.is_empty()), "new cookie");
    assert_eq!(app.fake.jwks_fetches(), 2, "one refetch past the throttle");
}

#[tokio::test]
async fn a_refresh_signed_by_a_key_the_jwks_does_not_publish_yet_keeps_the_new_pair() {
    let fake = FakeWorkos::start().await;
    let client = client(&fake, RetryPolicy::none(), Duration::from_secs(30));
    let app = start_with(fake, client, |j| {
        j.with_min_refetch_interval(Duration::ZERO)
    })
    .await;
    let expired = app.session(-30, None);
    // WorkOS signs with a key its JWKS does not publish yet.
    app.fake.with(|s| s.signing_kid = KID_2.into());
    let r = app.account(&expired).await;
    assert_eq!(r.status_code(), 503, "unverifiable for now: an outage");
    let kept = session_set(&r).expect("the new pair is written");
    assert!(
        !kept.is_empty() && kept != expired,
        "not cleared, not the old one"
    );
    // Once the JWKS catches up, the new pair works without another refresh.
    app.fake
        .with(|s| s.published = vec![KID_1.into(), KID_2.into()]);
    let r = app.account(&kept).await;
    assert_eq!(r.status_code(), 200, "{}", r.text());
    assert_eq!(app.fake.refresh_calls(), 1, "the old token was spent once");
}

#[tokio::test]
async fn a_refresh_whose_new_key_cannot_be_fetched_because_the_jwks_is_down_keeps_the_new_pair() {
    let fake = FakeWorkos::start().await;
    let client = client(&fake, RetryPolicy::none(), Duration::from_secs(30));
    let app = start_with(fake, client, |j| {
        j.with_min_refetch_interval(Duration::ZERO)
    })
    .await;
    // The app has WorkOS's current key (a first signed-in request fetched it).
    let fresh = app.session(300, None);
    assert_eq!(app.account(&fresh).await.status_code(), 200);
    let expired = app.session(-30, None);
    // WorkOS rotates to a new key and, at that moment, its JWKS fails.
    app.fake.with(|s| {
        s.signing_kid = KID_2.into();
        s.published = vec![KID_1.into(), KID_2.into()];
        s.jwks_fail = true;
    });
    let r = app.account(&expired).await;
    assert_eq!(r.status_code(), 503, "unverifiable for now: an outage");
    let kept = session_set(&r).expect("the new pair is written, the spent one is not kept");
    assert!(!kept.is_empty() && kept != expired);
    // The JWKS is back: the new pair works without spending another token.
    app.fake.with(|s| s.jwks_fail = false);
    let r = app.account(&kept).await;
    assert_eq!(r.status_code(), 200, "{}", r.text());
    assert_eq!(app.fake.refresh_calls(), 1, "the old token was spent once");
}

#[tokio::test]
async fn a_user_returning_after_a_key_rotation_is_refreshed_not_signed_out() {
    let fake = FakeWorkos::start().await;
    let client = client(&fake, RetryPolicy::none(), Duration::from_secs(30));
    let app = start_with(fake, client, |j| j).await;
    // Signed in under key 1; the token has long expired.
    let expired = app.session(-3600, None);
    // Meanwhile WorkOS rotated: key 1 is no longer published.
    app.fake.with(|s| {
        s.signing_kid = KID_2.into();
        s.published = vec![KID_2.into()];
    });
    let r = app.account(&expired).await;
    assert_eq!(r.status_code(), 200, "{}", r.text());
    let renewed = session_set(&r).expect("the refreshed session is written");
    assert!(!renewed.is_empty() && renewed != expired);
    assert_eq!(app.fake.refresh_calls(), 1);
}

// Item 9: the hourly JWKS refresh never makes a request wait.

fn manager(fake: &FakeWorkos, jwks: JwksCache) -> SessionManager {
    let client = client(fake, RetryPolicy::none(), Duration::from_secs(30));
    // Without the verified-token and cookie caches, so every check needs the key.
    SessionManager::new(client, Passwords::single(PASSWORD).unwrap())
        .with_token_cache_capacity(0)
        .with_session_cache_capacity(0)
        .with_jwks(jwks)
}

fn sealed(fake: &FakeWorkos, sessions: &SessionManager) -> String {
    let (at, rt) = fake.sign_in("user_1", None);
    sessions
        .seal(&SessionData {
            access_token: at.into(),
            refresh_token: rt.into(),
            user: serde_json::from_value::<User>(user_json("user_1")).unwrap(),
            impersonator: None,
            authentication_method: None,
            organization_id: None,
        })
        .unwrap()
}

#[tokio::test]
async fn a_stale_jwks_is_refreshed_in_the_background_while_requests_use_the_cached_keys() {
    let fake = FakeWorkos::start().await;
    let jwks = JwksCache::new(client(&fake, RetryPolicy::none(), Duration::from_secs(60)))
        .with_min_refetch_interval(Duration::ZERO)
        .with_max_age(Duration::ZERO);
    let sessions = manager(&fake, jwks);
    let cookie = sealed(&fake, &sessions);
    sessions.authenticate(Some(&cookie)).await.unwrap();
    // WorkOS hangs; every check now finds the set stale.
    fake.with(|s| s.jwks_delay_ms = 120_000);
    for _ in 0..3 {
        let outcome = tokio::time::timeout(DID_NOT_HANG, sessions.authenticate(Some(&cookie)))
            .await
            .expect("the stale-set refresh made the request wait");
        assert!(matches!(outcome.unwrap(), Authentication::Authenticated(_)));
    }
}

#[tokio::test]
async fn an_unknown_kid_waits_for_a_hanging_jwks_only_briefly_and_is_an_outage() {
    let fake = FakeWorkos::start().await;
    fake.with(|s| s.jwks_delay_ms = 120_000);
    // The client would wait a minute; the cache waits its default 5 s.
    let jwks = JwksCache::new(client(&fake, RetryPolicy::none(), Duration::from_secs(60)));
    let sessions = manager(&fake, jwks);
    let cookie = sealed(&fake, &sessions);
    let outcome = tokio::time::timeout(DID_NOT_HANG, sessions.authenticate(Some(&cookie)))
        .await
        .expect("the request waited for the hanging JWKS");
    let err = outcome.expect_err("nothing cached: the session cannot be checked");
    assert!(err.0.is_transient(), "an outage, not a sign-out: {err}");
}

#[tokio::test]
async fn a_switch_refused_for_good_clears_the_session_and_shows_no_workos_text() {
    let app = start().await;
    let live = app.session(300, Some("org_1"));
    app.fake.with(|s| {
        s.refresh_faults.push((
            400,
            json!({"error": "invalid_grant", "error_description": "Call +1-555-0100 to restore your account"}),
            None,
        ))
    });
    let r = app
        .server
        .post("/auth/switch-organization")
        .add_header(COOKIE, format!("wos-session={live}"))
        .form(&[("organization_id", "org_2"), ("return_to", "/account")])
        .await;
    assert_eq!(r.status_code(), 403);
    assert!(!r.text().contains("555"), "{}", r.text());
    assert_eq!(
        session_set(&r).as_deref(),
        Some(""),
        "the dead session is cleared"
    );
}

#[tokio::test]
async fn a_switch_while_workos_is_down_is_503_with_retry_after_and_keeps_the_session() {
    let app = start().await;
    let live = app.session(300, Some("org_1"));
    // WorkOS gave no wait (the crate's 5 s), then one (passed on).
    for (asked, answered) in [(None, "5"), (Some(40), "40")] {
        app.fake
            .with(|s| s.refresh_faults.push((503, json!({}), asked)));
        let r = app
            .server
            .post("/auth/switch-organization")
            .add_header(COOKIE, format!("wos-session={live}"))
            .form(&[("organization_id", "org_2"), ("return_to", "/account")])
            .await;
        assert_eq!(r.status_code(), 503);
        assert_eq!(r.header(RETRY_AFTER), answered);
        assert_eq!(session_set(&r), None, "the session is kept");
    }
}

// Item 4: the switch uses the session the layer resolved.

#[tokio::test]
async fn switching_organization_with_an_expired_token_lands_in_the_new_organization() {
    let app = start().await;
    // A browser: cookies set by a response go with the next request.
    let mut browser = TestServer::builder()
        .save_cookies()
        .build(app.router.clone());
    browser.add_cookie(cookie::Cookie::new(
        "wos-session",
        app.session(-30, Some("org_1")),
    ));
    let r = browser
        .post("/auth/switch-organization")
        .form(&[("organization_id", "org_2"), ("return_to", "/account")])
        .await;
    assert_eq!(r.status_code(), 303, "{}", r.text());
    let body: Value = browser
        .get("/account")
        .add_header(ACCEPT, "application/json")
        .await
        .json();
    assert_eq!(body["org"], "org_2", "the switch took");
}

#[tokio::test]
async fn switching_organization_with_an_expired_token_against_the_emulator_takes() {
    let emulator = Emulator::builder()
        .with_seed(
            Seed::demo().with_organization(
                SeedOrganization::new("Other Organization")
                    .with_role(SeedRole::new("member", ["widgets:read"])),
            ),
        )
        .start()
        .await
        .unwrap();
    let app = app::start_with(emulator, |b| b, Router::new()).await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let user = app.emulator.user_by_email(EMAIL).unwrap();
    let other = app
        .emulator
        .organizations()
        .into_iter()
        .find(|o| o.name == "Other Organization")
        .unwrap()
        .id;
    app.emulator
        .client()
        .create_organization_membership(&CreateOrganizationMembership {
            user_id: user.id.clone(),
            organization_id: other.clone(),
            role_slug: Some("member".into()),
            role_slugs: None,
        })
        .await
        .unwrap();
    // The access token expires; the switch request is the one that finds out.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = app
        .http
        .post(format!("{}/auth/switch-organization", app.base))
        .header(COOKIE, jar.header())
        .form(&[
            ("organization_id", other.as_str()),
            ("return_to", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    jar.absorb(&r);
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["org"], other.as_str(), "the switch took");
}
