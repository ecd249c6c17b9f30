//! Bearer access tokens, over real HTTP on 127.0.0.1 against the emulator:
//! a front end that signed in with AuthKit calls the API with
//! `Authorization: Bearer <access token>`. The token of a real sign-in is
//! accepted (claims and full user); expired, tampered, another client's and
//! another issuer's tokens are refused with RFC 6750 answers; the header
//! wins over the cookie; nothing is refreshed or set; and the layer wraps a
//! plain hyper service as well as an axum router.

use std::convert::Infallible;
use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar, location, set_cookies};
use authkit_axum::emulator::{Emulator, EmulatorExt, Fault, Seed, SeedUser};
use authkit_axum::session::JwksCache;
use authkit_axum::{AuthClaims, AuthKitBuilder, AuthUser, Forbidden};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, COOKIE, HeaderValue, RETRY_AFTER, VARY, WWW_AUTHENTICATE,
};
use serde_json::{Value, json};

const OTHER: &str = "other@example.com";
/// The harness signs everyone in with the demo password.
const OTHER_PASSWORD: &str = app::PASSWORD;

async fn claims(claims: AuthClaims) -> Json<Value> {
    Json(json!({
        "user": claims.user_id(), "sid": claims.session_id(), "org": claims.organization_id(),
        "role": claims.role(), "roles": claims.roles(), "permissions": claims.permissions(),
        "entitlements": claims.entitlements(), "flags": claims.feature_flags(),
        "source": format!("{:?}", claims.source()),
        "tier": claims.custom::<String>("tier").and_then(Result::ok),
        "impersonator": claims.impersonator(),
    }))
}

async fn user(user: AuthUser) -> Json<Value> {
    Json(json!({
        "id": user.user.id, "email": user.user.email, "org": user.organization_id(),
        "impersonator": user.impersonator.as_ref().map(|i| i.email.clone()),
    }))
}

async fn maybe(claims: Option<AuthClaims>) -> String {
    claims.map_or("anonymous".into(), |c| c.user_id().to_owned())
}

async fn writer(claims: AuthClaims) -> Result<&'static str, Forbidden> {
    claims.require_permission("widgets:delete")?;
    Ok("deleted")
}

fn api() -> Router {
    Router::new()
        .route("/api/claims", get(claims))
        .route("/api/user", get(user))
        .route("/api/maybe", get(maybe))
        .route("/api/delete", get(writer))
        .route("/page", get(user))
}

fn seed() -> Seed {
    Seed::demo().with_user(SeedUser::new(OTHER, OTHER_PASSWORD))
}

async fn start_with(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    let emulator = Emulator::builder().with_seed(seed()).start().await.unwrap();
    app::start_with(emulator, configure, api()).await
}

async fn start() -> App {
    start_with(|b| b).await
}

/// A browser sign-in through the app and AuthKit's page: the jar, and the
/// access token its session cookie holds (what a front end would hold).
async fn sign_in(app: &App, email: &str) -> (Jar, String) {
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", email).await;
    let data = app
        .authkit
        .sessions()
        .unseal(jar.session().expect("a whole session cookie"))
        .unwrap();
    (jar, data.access_token.expose().to_owned())
}

/// An API call with this `Authorization` value (and this cookie header).
async fn call(app: &App, path: &str, authorization: &str, cookie: &str) -> reqwest::Response {
    let mut r = app
        .http
        .get(format!("{}{path}", app.base))
        .header(ACCEPT, "application/json")
        .header(AUTHORIZATION, authorization);
    if !cookie.is_empty() {
        r = r.header(COOKIE, cookie);
    }
    r.send().await.unwrap()
}

async fn bearer(app: &App, path: &str, token: &str) -> reqwest::Response {
    call(app, path, &format!("Bearer {token}"), "").await
}

fn challenges(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn assert_no_set_cookie(r: &reqwest::Response) {
    assert!(
        set_cookies(r).is_empty(),
        "a Bearer answer sets no cookie: {:?}",
        set_cookies(r)
    );
}

/// The payload of a JWT, decoded (not verified).
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn a_bearer_token_from_a_real_sign_in_gives_its_claims_and_its_user() {
    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    let demo = app.emulator.user_by_email(EMAIL).unwrap();

    let r = bearer(&app, "/api/claims", &token).await;
    assert_eq!(r.status(), 200);
    assert_no_set_cookie(&r);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    assert!(
        r.headers()
            .get_all(VARY)
            .iter()
            .any(|v| v == "Authorization")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"], demo.id.as_str());
    assert_eq!(body["source"], "Bearer");
    assert_eq!(body["role"], "admin");
    assert_eq!(
        body["permissions"],
        json!(["widgets:read", "widgets:write"])
    );
    assert_eq!(body["sid"], payload(&token)["sid"]);
    assert!(body["org"].as_str().unwrap().starts_with("org_"));

    let r = bearer(&app, "/api/user", &token).await;
    assert_eq!(r.status(), 200);
    assert_no_set_cookie(&r);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["email"], EMAIL);
    assert_eq!(body["id"], demo.id.as_str());

    // The permission check answers 403 for what the roles do not grant.
    let r = bearer(&app, "/api/delete", &token).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn auth_claims_reads_the_cookie_too_and_option_is_anonymous_without_credentials() {
    let app = start().await;
    let (jar, _) = sign_in(&app, EMAIL).await;
    let r = app
        .http
        .get(format!("{}/api/claims", app.base))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["source"], "Cookie");
    assert_eq!(body["role"], "admin");

    let r = app
        .http
        .get(format!("{}/api/maybe", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "anonymous");
}

#[tokio::test]
async fn the_user_of_bearer_requests_is_fetched_once_and_cached() {
    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    let id = app.emulator.user_by_email(EMAIL).unwrap().id;
    let path = format!("/user_management/users/{id}");
    app.emulator.reset_counters();
    for _ in 0..3 {
        assert_eq!(bearer(&app, "/api/user", &token).await.status(), 200);
    }
    assert_eq!(app.emulator.request_count(&path), 1, "one fetch per user");
    // Claims cost no call at all.
    assert_eq!(bearer(&app, "/api/claims", &token).await.status(), 200);
    assert_eq!(app.emulator.request_count(&path), 1);
}

#[tokio::test]
async fn an_expired_bearer_token_is_401_invalid_token_and_never_refreshed() {
    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    // The emulator's tokens live 5 minutes; the app's clock follows its clock.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    for path in ["/api/claims", "/api/user"] {
        let r = bearer(&app, path, &token).await;
        assert_eq!(r.status(), 401, "{path}");
        assert_no_set_cookie(&r);
        assert_eq!(
            challenges(&r),
            [
                "Bearer realm=\"authkit\", error=\"invalid_token\", error_description=\"the access token expired\""
            ]
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token");
    }
    assert_eq!(app.emulator.grant_count("refresh_token"), 0);
}

#[tokio::test]
async fn a_tampered_bearer_token_is_401_invalid_token() {
    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    let (head, signature) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[10] ^= 0x01;
    let flipped = format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes));
    // And a payload changed under the original signature.
    let (header, rest) = token.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut claims = payload(&token);
    claims["role"] = json!("owner");
    let forged = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    for bad in [flipped, forged, "not.a.jwt".into(), "abc".into()] {
        let r = bearer(&app, "/api/claims", &bad).await;
        assert_eq!(r.status(), 401, "{bad}");
        assert_no_set_cookie(&r);
        assert_eq!(
            challenges(&r),
            ["Bearer realm=\"authkit\", error=\"invalid_token\""]
        );
    }
    // The untouched token still works: the refusals are the tampering's.
    assert_eq!(bearer(&app, "/api/claims", &token).await.status(), 200);
}

#[tokio::test]
async fn a_token_another_client_was_given_is_refused_though_its_signature_verifies() {
    let app = start().await;
    // Another WorkOS app: another client id and base URL. The emulators of
    // one process share their signing key, so only the issuer tells its
    // tokens from ours.
    let other = Emulator::builder()
        .with_seed(seed())
        .with_client_id("client_01HOTHERAPP")
        .start()
        .await
        .unwrap();
    let other_app = app::start_with(other, |b| b, api()).await;
    let (_, foreign) = sign_in(&other_app, EMAIL).await;
    assert_eq!(
        bearer(&other_app, "/api/claims", &foreign).await.status(),
        200
    );
    let r = bearer(&app, "/api/claims", &foreign).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        challenges(&r),
        ["Bearer realm=\"authkit\", error=\"invalid_token\""]
    );
    // A key the app's WorkOS does not publish at all: refused too.
    let rotated = Emulator::builder()
        .with_seed(seed())
        .with_fresh_signing_key()
        .start()
        .await
        .unwrap();
    let unknown_key = rotated.sign_access_token(&payload(&foreign));
    assert_eq!(
        bearer(&app, "/api/claims", &unknown_key).await.status(),
        401
    );
}

/// Claims as the emulator would issue them for the demo user, now.
fn demo_claims(app: &App) -> Value {
    let now = app
        .emulator
        .clock()
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = app.emulator.user_by_email(EMAIL).unwrap().id;
    json!({
        "iss": app.emulator.issuer(), "sub": id, "sid": "session_01HTEST",
        "iat": now, "exp": now + 300, "tier": "gold",
    })
}

#[tokio::test]
async fn a_token_of_another_issuer_client_or_none_is_refused_and_the_issuer_settings_choose_which_are_accepted()
 {
    const CUSTOM: &str = "https://auth.example.com/user_management/client_custom";
    let app = start().await;
    let right = app.emulator.sign_access_token(&demo_claims(&app));
    let r = bearer(&app, "/api/claims", &right).await;
    assert_eq!(r.status(), 200, "the emulator's own issuer is accepted");
    assert_eq!(r.json::<Value>().await.unwrap()["tier"], "gold");

    let mut wrong = demo_claims(&app);
    wrong["iss"] = json!(CUSTOM);
    let mut missing = demo_claims(&app);
    missing.as_object_mut().unwrap().remove("iss");
    for claims in [&wrong, &missing] {
        let token = app.emulator.sign_access_token(claims);
        let r = bearer(&app, "/api/claims", &token).await;
        assert_eq!(r.status(), 401, "{claims}");
        assert_eq!(
            challenges(&r),
            ["Bearer realm=\"authkit\", error=\"invalid_token\""]
        );
    }

    // The same WorkOS, another client id: not this app's token.
    let mut other_client = demo_claims(&app);
    other_client["iss"] = json!(
        app.emulator
            .issuer()
            .replace(app.emulator.client_id(), "client_01HOTHERAPP")
    );
    let token = app.emulator.sign_access_token(&other_client);
    assert_eq!(bearer(&app, "/api/claims", &token).await.status(), 401);

    // What WorkOS environments created before mid-2025 issue: the API base
    // URL itself.
    let mut legacy = demo_claims(&app);
    legacy["iss"] = json!(app.emulator.base_url().trim_end_matches('/'));
    let token = app.emulator.sign_access_token(&legacy);
    assert_eq!(bearer(&app, "/api/claims", &token).await.status(), 200);

    let emulator = app.emulator.clone();
    let custom = app::start_with(emulator, |b| b.with_token_issuer(CUSTOM), api()).await;
    let token = custom.emulator.sign_access_token(&wrong);
    assert_eq!(bearer(&custom, "/api/claims", &token).await.status(), 200);
    let token = custom.emulator.sign_access_token(&missing);
    assert_eq!(bearer(&custom, "/api/claims", &token).await.status(), 401);

    // `with_token_issuers` (WORKOS_ISSUER) accepts exactly its list.
    let emulator = app.emulator.clone();
    let only = app::start_with(emulator, |b| b.with_token_issuers([CUSTOM]), api()).await;
    let token = only.emulator.sign_access_token(&wrong);
    assert_eq!(bearer(&only, "/api/claims", &token).await.status(), 200);
    assert_eq!(bearer(&only, "/api/claims", &right).await.status(), 401);
}

#[tokio::test]
async fn an_impersonators_token_names_the_impersonator() {
    let app = start().await;
    let mut claims = demo_claims(&app);
    claims["act"] = json!({"sub": "admin@example.com"});
    let token = app.emulator.sign_access_token(&claims);
    let body: Value = bearer(&app, "/api/claims", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["impersonator"], "admin@example.com");
    let body: Value = bearer(&app, "/api/user", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["impersonator"], "admin@example.com");
}

#[tokio::test]
async fn malformed_authorization_headers_are_401_invalid_request_not_500() {
    let app = start().await;
    let (jar, _) = sign_in(&app, EMAIL).await;
    let raw: [&[u8]; 7] = [
        b"Bearer",
        b"Bearer ",
        b"Bearer a b",
        b"bearer a,b",
        b"Bearer \"quoted\"",
        b"Bearer tok\xe9n",
        b"BEARER \xff\xfe",
    ];
    for value in raw {
        let r = app
            .http
            .get(format!("{}/api/claims", app.base))
            .header(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap())
            // A valid cookie does not rescue a malformed header.
            .header(COOKIE, jar.header())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{value:?}");
        assert_no_set_cookie(&r);
        assert_eq!(
            challenges(&r),
            ["Bearer realm=\"authkit\", error=\"invalid_request\""],
            "{value:?}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request");
    }
    // Another scheme is not ours: the cookie is used.
    let r = call(&app, "/api/claims", "Basic dXNlcjpwYXNz", &jar.header()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["source"], "Cookie");
}

#[tokio::test]
async fn the_bearer_token_wins_over_the_cookie_and_a_bad_one_is_not_rescued_by_it() {
    let app = start().await;
    let (demo_jar, _) = sign_in(&app, EMAIL).await;
    let (_, other_token) = sign_in(&app, OTHER).await;
    let other = app.emulator.user_by_email(OTHER).unwrap();

    let r = call(
        &app,
        "/api/user",
        &format!("Bearer {other_token}"),
        &demo_jar.header(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_no_set_cookie(&r);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["email"], OTHER, "the token's user, not the cookie's");
    assert_eq!(body["id"], other.id.as_str());

    let r = call(
        &app,
        "/api/claims",
        "Bearer not-a-token",
        &demo_jar.header(),
    )
    .await;
    assert_eq!(r.status(), 401);
    assert_no_set_cookie(&r);
    assert_eq!(
        challenges(&r),
        ["Bearer realm=\"authkit\", error=\"invalid_token\""]
    );

    // The cookie was neither cleared nor spent: it still signs in alone.
    let r = call(&app, "/api/claims", "Basic eA==", &demo_jar.header()).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn an_expiring_cookie_next_to_a_bearer_token_is_not_refreshed() {
    let app = start().await;
    let (jar, _) = sign_in(&app, EMAIL).await;
    let (_, other_token) = sign_in(&app, OTHER).await;
    // Both expire; a fresh token for OTHER comes from a new sign-in.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let (_, fresh) = sign_in(&app, OTHER).await;
    assert_ne!(fresh, other_token);
    app.emulator.reset_counters();
    let r = call(
        &app,
        "/api/claims",
        &format!("Bearer {fresh}"),
        &jar.header(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_no_set_cookie(&r);
    assert_eq!(app.emulator.grant_count("refresh_token"), 0);
}

#[tokio::test]
async fn a_browser_navigation_with_a_bad_bearer_token_gets_401_not_a_redirect() {
    let app = start().await;
    let r = app
        .http
        .get(format!("{}/page", app.base))
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .header("sec-fetch-mode", "navigate")
        .header(AUTHORIZATION, "Bearer expired.or.forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("location").is_none());
    assert_no_set_cookie(&r);
    // Without the header the same navigation is redirected to login.
    let mut jar = Jar::default();
    let r = app.get(&mut jar, "/page").await;
    assert_eq!(r.status(), 307);
    assert!(location(&r).starts_with("/auth/login?return_to="));
}

#[tokio::test]
async fn a_request_without_credentials_is_challenged_for_both_sources() {
    let app = start().await;
    let r = app
        .http
        .get(format!("{}/api/claims", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        challenges(&r),
        ["Bearer realm=\"authkit\"", "Cookie realm=\"authkit\""]
    );
}

#[tokio::test]
async fn with_bearer_tokens_false_ignores_the_header() {
    let app = start_with(|b| b.with_bearer_tokens(false)).await;
    let (jar, token) = sign_in(&app, EMAIL).await;
    let r = bearer(&app, "/api/claims", &token).await;
    assert_eq!(r.status(), 401);
    assert_eq!(challenges(&r), ["Cookie realm=\"authkit\""]);
    // Even a malformed one: it is not looked at.
    let r = call(&app, "/api/claims", "Bearer a b", &jar.header()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["source"], "Cookie");
}

#[tokio::test]
async fn with_session_cookies_false_ignores_the_cookie() {
    let app = start_with(|b| b.with_session_cookies(false)).await;
    let (jar, token) = sign_in(&app, EMAIL).await;
    let r = call(&app, "/api/claims", "Basic eA==", &jar.header()).await;
    assert_eq!(r.status(), 401);
    assert_eq!(challenges(&r), ["Bearer realm=\"authkit\""]);
    assert_eq!(bearer(&app, "/api/claims", &token).await.status(), 200);
}

#[tokio::test]
async fn an_unreachable_jwks_is_503_with_retry_after_for_a_bearer_token() {
    // A fresh app whose keys were never fetched, and WorkOS down.
    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    // Refetches are not throttled, so the keys are fetched as soon as WorkOS is back.
    let jwks = JwksCache::new(app.emulator.client()).with_min_refetch_interval(Duration::ZERO);
    let cold = app::start_with(app.emulator.clone(), |b| b.with_jwks(jwks), api()).await;
    cold.emulator
        .faults()
        .inject("/sso/jwks", Fault::status(503).forever());
    let r = bearer(&cold, "/api/claims", &token).await;
    assert_eq!(r.status(), 503);
    assert_eq!(
        r.headers()[RETRY_AFTER],
        "5",
        "WorkOS said no wait: the default"
    );
    assert_no_set_cookie(&r);
    cold.emulator.faults().clear();
    assert_eq!(bearer(&cold, "/api/claims", &token).await.status(), 200);
}

#[tokio::test]
async fn a_jwks_outage_asking_for_a_wait_is_not_refetched_sooner_and_every_503_says_so() {
    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    // No minimum refetch interval: only WorkOS's wait holds the refetch back.
    let jwks = JwksCache::new(app.emulator.client()).with_min_refetch_interval(Duration::ZERO);
    let cold = app::start_with(app.emulator.clone(), |b| b.with_jwks(jwks), api()).await;
    cold.emulator.faults().inject(
        "/sso/jwks",
        Fault::status(503)
            .with_retry_after(Duration::from_secs(20))
            .forever(),
    );
    let jwks_path = format!("/sso/jwks/{}", cold.emulator.client_id());
    let before = cold.emulator.request_count(&jwks_path);
    let r = bearer(&cold, "/api/claims", &token).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()[RETRY_AFTER], "20", "WorkOS's wait, passed on");
    // Asked again at once: not refetched, and the answer counts down.
    let r = bearer(&cold, "/api/claims", &token).await;
    assert_eq!(r.status(), 503);
    let left: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((19..=20).contains(&left), "{left}");
    assert_eq!(
        cold.emulator.request_count(&jwks_path) - before,
        1,
        "one fetch, not repeated sooner than WorkOS asked"
    );
}

#[tokio::test]
async fn auth_user_is_503_when_workos_cannot_give_the_user_and_401_when_it_is_gone() {
    let app = start().await;
    let (_, token) = sign_in(&app, OTHER).await;
    let id = app.emulator.user_by_email(OTHER).unwrap().id;
    app.emulator.faults().inject(
        format!("/user_management/users/{id}"),
        Fault::status(503).forever(),
    );
    let r = bearer(&app, "/api/user", &token).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key(RETRY_AFTER));
    // The claims need no call, so they carry on.
    assert_eq!(bearer(&app, "/api/claims", &token).await.status(), 200);
    app.emulator.faults().clear();

    app.authkit.client().delete_user(&id).await.unwrap();
    let r = bearer(&app, "/api/user", &token).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        challenges(&r),
        [
            "Bearer realm=\"authkit\", error=\"invalid_token\", error_description=\"the access token's user no longer exists\""
        ]
    );
}

/// A plain hyper service (no axum router), its body hyper's own, behind the
/// layer over real HTTP.
#[tokio::test]
async fn a_plain_hyper_service_is_authenticated_by_a_bearer_token() {
    use authkit_axum::AuthState;
    use axum::body::Bytes;
    use http_body_util::Full;
    use hyper::body::Incoming;
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceBuilder;

    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    let inner = tower::service_fn(|request: http::Request<Incoming>| async move {
        let state = request.extensions().get::<AuthState>().cloned();
        let (status, body) = match state.as_ref().and_then(|s| s.claims()) {
            Some(claims) => (200, format!("hello {}", claims.sub)),
            None => (401, "who are you?".to_owned()),
        };
        let response = http::Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    let service = ServiceBuilder::new()
        .layer(app.authkit.layer())
        .service(inner);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });

    let id = app.emulator.user_by_email(EMAIL).unwrap().id;
    let r = app
        .http
        .get(&base)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(r.text().await.unwrap(), format!("hello {id}"));
    let r = app
        .http
        .get(&base)
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), "who are you?");
}

#[tokio::test]
async fn an_optional_extractor_answers_a_refused_bearer_token_instead_of_serving_it_as_anonymous() {
    let app = start().await;
    let (_, token) = sign_in(&app, EMAIL).await;
    let mut tampered = token.clone();
    tampered.push('x');
    for authorization in [format!("Bearer {tampered}"), "Bearer a b".into()] {
        let r = call(&app, "/api/maybe", &authorization, "").await;
        assert_eq!(r.status(), 401, "{authorization}");
        assert!(challenges(&r)[0].starts_with("Bearer realm=\"authkit\", error="));
    }
    // No credential at all is anonymous, a good token its user.
    let r = call(&app, "/api/maybe", "Basic Zm9vOmJhcg==", "").await;
    assert_eq!(r.text().await.unwrap(), "anonymous");
    let r = bearer(&app, "/api/maybe", &token).await;
    assert_eq!(
        r.text().await.unwrap(),
        app.emulator.user_by_email(EMAIL).unwrap().id
    );
}
