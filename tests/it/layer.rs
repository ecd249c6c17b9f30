//! The axum integration: the layer, the extractors, refresh, and the auth
//! routes, driven in-process with `axum_test::TestServer`, against a fake
//! WorkOS on 127.0.0.1 (the client's side is real HTTP).

use std::sync::Arc;
use std::time::Duration;

use crate::support::fake_workos::{self, FakeWorkos, user_json};
use authkit_axum::client::{RetryPolicy, User, UserManagement};
use authkit_axum::session::SessionData;
use authkit_axum::{AuthKit, AuthUser, RejectionMode};
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, COOKIE, HOST, LOCATION, ORIGIN, RETRY_AFTER, SET_COOKIE, VARY,
};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use axum_test::{TestRequest, TestResponse, TestServer};
use serde_json::{Value, json};

const PASSWORD: &str = "layer-test-cookie-password-at-least-32-chars";

struct App {
    router: Router,
    server: TestServer,
    fake: FakeWorkos,
    authkit: AuthKit,
}

async fn account(user: AuthUser) -> Json<Value> {
    Json(json!({
        "id": user.user.id, "sid": user.session_id(), "org": user.organization_id(),
        "permissions": user.permissions(), "exp": user.claims.exp,
    }))
}

async fn home(user: Option<AuthUser>) -> String {
    match user {
        Some(u) => format!("hello {}", u.user.id),
        None => "hello stranger".into(),
    }
}

async fn admin(user: AuthUser) -> Result<&'static str, authkit_axum::Forbidden> {
    user.require_permission("admin:write")?;
    Ok("admin")
}

async fn start(
    configure: impl FnOnce(authkit_axum::AuthKitBuilder) -> authkit_axum::AuthKitBuilder,
) -> App {
    let fake = FakeWorkos::start().await;
    let client = UserManagement::builder("sk_test_layer", "client_123")
        .with_base_url(&fake.base_url)
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let builder = AuthKit::builder()
        .with_client(client)
        .with_cookie_password(PASSWORD)
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .with_api_prefix("/api");
    let authkit = configure(builder).build().unwrap();
    let api = Router::new()
        .route("/strict", get(account))
        .layer(Extension(RejectionMode::Api));
    let app = Router::new()
        .route("/", get(home))
        .route("/account", get(account))
        .route("/submit", post(account))
        .route("/admin", get(admin))
        .route("/api/me", get(account))
        .route(
            "/varies",
            get(|_: AuthUser| async { ([(VARY, "Cookie")], "personal") }),
        )
        .nest("/scoped", api)
        .merge(authkit.routes())
        .layer(authkit.layer());
    App {
        server: TestServer::new(app.clone()),
        router: app,
        fake,
        authkit,
    }
}

impl App {
    fn cookie_for(&self, access_token: String, refresh_token: String) -> String {
        let data = SessionData {
            access_token: access_token.into(),
            refresh_token: refresh_token.into(),
            user: serde_json::from_value::<User>(user_json("user_1")).unwrap(),
            impersonator: None,
            authentication_method: None,
            organization_id: None,
        };
        self.authkit.sessions().seal(&data).unwrap()
    }

    /// A session whose access token lives `lifetime` seconds (negative: expired).
    fn session(&self, lifetime: i64, org: Option<&str>) -> String {
        let old = self
            .fake
            .with(|s| std::mem::replace(&mut s.token_lifetime, lifetime));
        let (at, rt) = self.fake.sign_in("user_1", org);
        self.fake.with(|s| s.token_lifetime = old);
        self.cookie_for(at, rt)
    }

    /// A request that carries only the cookies the test gives it.
    fn get(&self, path: &str) -> TestRequest {
        self.server.get(path)
    }

    fn post(&self, path: &str) -> TestRequest {
        self.server.post(path)
    }

    /// The same app as a browser sees it: cookies set by a response are sent
    /// with the next requests.
    fn browser(&self) -> TestServer {
        TestServer::builder()
            .save_cookies()
            .build(self.router.clone())
    }
}

fn session_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}")
}

/// The value the response sets for cookie `name` (empty when it deletes it).
fn set_cookie_value(response: &TestResponse, name: &str) -> Option<String> {
    response.headers().get_all(SET_COOKIE).iter().find_map(|v| {
        let s = v.to_str().ok()?;
        let (n, rest) = s.split_once('=')?;
        (n == name).then(|| rest.split(';').next().unwrap_or("").to_owned())
    })
}

#[tokio::test]
async fn browser_navigation_without_session_is_redirected_to_login_with_return_to() {
    let app = start(|b| b).await;
    let r = app
        .get("/account?tab=1")
        .add_header(ACCEPT, "text/html,*/*")
        .await;
    assert_eq!(r.status_code(), 307);
    assert_eq!(
        r.headers()[LOCATION],
        "/auth/login?return_to=%2Faccount%3Ftab%3D1"
    );
    let r = app.post("/submit").add_header(ACCEPT, "text/html").await;
    assert_eq!(r.status_code(), 303);
}

#[tokio::test]
async fn api_requests_without_session_get_401_json() {
    let app = start(|b| b).await;
    for request in [
        app.get("/account").add_header(ACCEPT, "application/json"),
        app.get("/account")
            .add_header(ACCEPT, "text/html")
            .add_header("x-requested-with", "XMLHttpRequest"),
        app.get("/account"),
        // Under the API prefix even a browser gets 401.
        app.get("/api/me").add_header(ACCEPT, "text/html"),
        // So under a router that asked for it.
        app.get("/scoped/strict").add_header(ACCEPT, "text/html"),
    ] {
        let r = request.await;
        assert_eq!(r.status_code(), 401);
        assert!(r.headers().contains_key("www-authenticate"));
        let body: Value = r.json();
        assert_eq!(body["error"], "unauthorized");
    }
}

#[tokio::test]
async fn optional_extractor_sees_nobody_or_the_user() {
    let app = start(|b| b).await;
    let r = app.get("/").await;
    assert_eq!(r.text(), "hello stranger");
    let cookie = app.session(300, None);
    let r = app
        .get("/")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.text(), "hello user_1");
}

#[tokio::test]
async fn signed_in_request_reaches_the_handler_uncached() {
    let app = start(|b| b).await;
    let cookie = app.session(300, Some("org_1"));
    let r = app
        .get("/account")
        .add_header(COOKIE, format!("theme=dark; wos-session={cookie}; other=1"))
        .await;
    assert_eq!(r.status_code(), 200);
    assert_eq!(r.headers()[CACHE_CONTROL], "no-store");
    assert!(r.headers().get_all(VARY).iter().any(|v| v == "Cookie"));
    assert!(
        set_cookie_value(&r, "wos-session").is_none(),
        "no refresh was due"
    );
    let body: Value = r.json();
    assert_eq!(body["id"], "user_1");
    assert_eq!(body["org"], "org_1");
    assert_eq!(body["permissions"], json!(["posts:read"]));
    assert_eq!(app.fake.refresh_calls(), 0);
}

#[tokio::test]
async fn expired_token_is_refreshed_transparently_and_the_handler_sees_the_new_session() {
    let app = start(|b| b).await;
    let cookie = app.session(-30, Some("org_1"));
    let r = app
        .get("/account")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 200);
    let rotated = set_cookie_value(&r, "wos-session").expect("cookie rotated");
    assert!(!rotated.is_empty() && rotated != cookie);
    let body: Value = r.json();
    assert!(
        body["exp"].as_i64().unwrap() > fake_workos::now_secs(),
        "handler saw the old token"
    );
    assert_eq!(body["org"], "org_1", "refresh kept the organization");
    assert_eq!(app.fake.refresh_calls(), 1);
    // The rotated cookie works on its own, without another refresh.
    let r = app
        .get("/account")
        .add_header(COOKIE, session_cookie("wos-session", &rotated))
        .await;
    assert_eq!(r.status_code(), 200);
    assert!(set_cookie_value(&r, "wos-session").is_none());
    assert_eq!(app.fake.refresh_calls(), 1);
}

#[tokio::test]
async fn a_response_that_already_varies_on_cookie_is_not_told_twice() {
    let app = start(|b| b).await;
    let cookie = app.session(300, None);
    let r = app
        .get("/varies")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 200);
    let vary: Vec<_> = r.headers().get_all(VARY).iter().collect();
    assert_eq!(vary, ["Cookie"]);
}

#[tokio::test]
async fn token_about_to_expire_is_refreshed_ahead_of_time() {
    let app = start(|b| b).await;
    // A 5-minute token issued 280 s ago: 20 s left, within its 30 s buffer.
    let (_, rt) = app.fake.sign_in("user_1", None);
    let mut claims = fake_workos::claims("user_1", "session_aging", None, 20);
    claims["iat"] = json!(fake_workos::now_secs() - 280);
    let cookie = app.cookie_for(fake_workos::sign(&claims, fake_workos::KID_1), rt);
    let r = app
        .get("/account")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 200);
    assert!(set_cookie_value(&r, "wos-session").is_some());
    assert_eq!(app.fake.refresh_calls(), 1);
}

#[tokio::test]
async fn a_freshly_issued_short_token_is_not_refreshed_on_every_request() {
    let app = start(|b| b).await;
    // 20 s to live, all of it ahead: the default buffer is at most half of it.
    let cookie = app.session(20, None);
    let r = app
        .get("/account")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 200);
    assert!(set_cookie_value(&r, "wos-session").is_none());
    assert_eq!(app.fake.refresh_calls(), 0);
}

#[tokio::test]
async fn a_hundred_concurrent_requests_with_an_expired_token_share_one_refresh() {
    let app = Arc::new(start(|b| b).await);
    app.fake.with(|s| s.refresh_delay_ms = 200);
    let cookie = app.session(-30, None);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let app = app.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            let r = app
                .get("/account")
                .add_header(COOKIE, session_cookie("wos-session", &cookie))
                .await;
            (
                r.status_code().as_u16(),
                set_cookie_value(&r, "wos-session"),
            )
        }));
    }
    let mut rotated = std::collections::HashSet::new();
    for t in tasks {
        let (status, set) = t.await.unwrap();
        assert_eq!(status, 200);
        rotated.insert(set.expect("every response carries the new cookie"));
    }
    assert_eq!(
        app.fake.refresh_calls(),
        1,
        "one refresh for the whole burst"
    );
    assert_eq!(rotated.len(), 1, "everyone got the same new session");
}

#[tokio::test]
async fn workos_outage_during_refresh_keeps_the_cookie_and_answers_503() {
    let app = start(|b| b).await;
    let cookie = app.session(-30, None);
    for (status, retry_after, expected_retry) in
        [(500, None, "5"), (429, Some(7), "7"), (502, None, "5")]
    {
        app.fake.with(|s| {
            s.refresh_faults
                .push((status, json!({"message": "down"}), retry_after))
        });
        let r = app
            .get("/account")
            .add_header(COOKIE, session_cookie("wos-session", &cookie))
            .await;
        assert_eq!(r.status_code(), 503, "after a {status}");
        assert_eq!(r.headers()[RETRY_AFTER], expected_retry);
        assert!(
            set_cookie_value(&r, "wos-session").is_none(),
            "the cookie must be kept"
        );
    }
    // Once WorkOS is back, the same cookie still works.
    let r = app
        .get("/account")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 200);
}

#[tokio::test]
async fn transient_failure_of_an_early_refresh_serves_the_still_valid_session() {
    let app = start(|b| b).await;
    let cookie = app.session(20, None);
    app.fake
        .with(|s| s.refresh_faults.push((503, json!({}), None)));
    let r = app
        .get("/account")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 200);
    assert!(set_cookie_value(&r, "wos-session").is_none());
}

#[tokio::test]
async fn refused_refresh_signs_out_and_clears_the_cookie() {
    let app = start(|b| b).await;
    let cookie = app.session(-30, None);
    app.fake.with(|s| {
        s.refresh_faults
            .push((400, json!({"error": "invalid_grant"}), None))
    });
    let r = app
        .get("/account")
        .add_header(ACCEPT, "application/json")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 401);
    assert_eq!(set_cookie_value(&r, "wos-session").as_deref(), Some(""));
}

#[tokio::test]
async fn tampered_cookie_is_unauthenticated_not_500() {
    let app = start(|b| b).await;
    let cookie = app.session(300, None);
    let mut bytes = cookie.into_bytes();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(bytes).unwrap();
    for value in [tampered.as_str(), "garbage", "Fe26.2*1*", ""] {
        let r = app
            .get("/account")
            .add_header(ACCEPT, "application/json")
            .add_header(COOKIE, session_cookie("wos-session", value))
            .await;
        assert_eq!(r.status_code(), 401, "{value}");
    }
}

#[tokio::test]
async fn permission_guard_answers_403_with_a_reason() {
    let app = start(|b| b).await;
    let cookie = app.session(300, None);
    let r = app
        .get("/admin")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 403);
    let body: Value = r.json();
    assert!(body["message"].as_str().unwrap().contains("admin:write"));
}

#[tokio::test]
async fn protect_by_default_guards_everything_but_public_paths_and_auth_routes() {
    let app = start(|b| b.with_protect_by_default(true).with_public_path("/")).await;
    assert_eq!(app.get("/").await.status_code(), 200);
    let r = app.get("/account").add_header(ACCEPT, "text/html").await;
    assert_eq!(r.status_code(), 307);
    // The callback stays reachable (it answers its own 400, not a login loop).
    let r = app
        .get("/auth/callback")
        .add_header(ACCEPT, "text/html")
        .await;
    assert_eq!(r.status_code(), 400);
    let r = app.get("/auth/login").await;
    assert_eq!(r.status_code(), 303);
}

#[tokio::test]
async fn layer_coexists_with_the_apps_own_cookie_manager() {
    use tower_cookies::{CookieManagerLayer, Cookies};
    let fake = FakeWorkos::start().await;
    let client = UserManagement::builder("sk", "client_123")
        .with_base_url(&fake.base_url)
        .build()
        .unwrap();
    let authkit = AuthKit::builder()
        .with_client(client)
        .with_cookie_password(PASSWORD)
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .build()
        .unwrap();
    async fn handler(cookies: Cookies, user: AuthUser) -> String {
        cookies.add(tower_cookies::Cookie::new("theme", "dark"));
        user.user.id.clone()
    }
    let app = Router::new()
        .route("/", get(handler))
        .layer(authkit.layer())
        .layer(CookieManagerLayer::new());
    let server = TestServer::new(app);
    let old = fake.with(|s| std::mem::replace(&mut s.token_lifetime, -30));
    let (at, rt) = fake.sign_in("user_1", None);
    fake.with(|s| s.token_lifetime = old);
    let data = SessionData {
        access_token: at.into(),
        refresh_token: rt.into(),
        user: serde_json::from_value(user_json("user_1")).unwrap(),
        impersonator: None,
        authentication_method: None,
        organization_id: None,
    };
    let cookie = authkit.sessions().seal(&data).unwrap();
    let r = server
        .get("/")
        .add_header(COOKIE, format!("wos-session={cookie}"))
        .await;
    assert_eq!(r.status_code(), 200);
    assert_eq!(set_cookie_value(&r, "theme").as_deref(), Some("dark"));
    assert!(
        set_cookie_value(&r, "wos-session").is_some(),
        "the refreshed session cookie is written too"
    );
}

fn location(r: &TestResponse) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// Starts a login and returns (state, verifier cookie "name=value").
async fn begin_login(app: &App, query: &str) -> (String, String) {
    let r = app.get(&format!("/auth/login{query}")).await;
    assert_eq!(r.status_code(), 303);
    let url = url::Url::parse(&location(&r)).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    let state = q["state"].clone();
    let set = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("wos-auth-verifier-") && !v.contains("Max-Age=0"))
        .unwrap();
    (state, set.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn login_redirects_to_authkit_with_pkce_state_and_a_flow_cookie() {
    let app = start(|b| b).await;
    let r = app
        .get("/auth/login?return_to=/account&login_hint=a@b.c")
        .await;
    assert_eq!(r.status_code(), 303);
    let url = url::Url::parse(&location(&r)).unwrap();
    assert_eq!(url.path(), "/user_management/authorize");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["provider"], "authkit");
    assert_eq!(q["client_id"], "client_123");
    assert_eq!(q["redirect_uri"], "http://localhost:3000/auth/callback");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert_eq!(q["state"].len(), 43);
    assert_eq!(q["login_hint"], "a@b.c");
    let flow = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("wos-auth-verifier-"))
        .unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Max-Age=600", "Path=/auth"] {
        assert!(flow.contains(attr), "{flow} lacks {attr}");
    }
    let r = app.get("/auth/signup").await;
    let q: std::collections::HashMap<_, _> = url::Url::parse(&location(&r))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["screen_hint"], "sign-up");
}

#[tokio::test]
async fn at_most_five_sign_ins_are_pending_and_the_oldest_is_evicted() {
    let app = start(|b| b).await;
    // The browser keeps the flow cookies; `pending` follows their names.
    let browser = app.browser();
    let mut pending: Vec<String> = Vec::new();
    for _ in 0..5 {
        let r = browser.get("/auth/login").await;
        for s in r.headers().get_all(SET_COOKIE) {
            let s = s.to_str().unwrap();
            let name = s.split('=').next().unwrap().to_owned();
            pending.retain(|n| *n != name);
            if !s.contains("Max-Age=0") {
                pending.push(name);
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(pending.len(), 5);
    let oldest = &pending[0];
    let r = browser.get("/auth/login").await;
    let deleted: Vec<String> = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|v| v.contains("Max-Age=0"))
        .collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert!(deleted[0].starts_with(&format!("{oldest}=")));
}

#[tokio::test]
async fn callback_signs_in_and_returns_to_the_saved_path() {
    let app = start(|b| b).await;
    let (state, flow) = begin_login(&app, "?return_to=%2Faccount%3Fx%3D1").await;
    let r = app
        .get(&format!("/auth/callback?code=good1&state={state}"))
        .add_header(COOKIE, &flow)
        .await;
    assert_eq!(r.status_code(), 303);
    assert_eq!(location(&r), "/account?x=1");
    let session = set_cookie_value(&r, "wos-session").unwrap();
    let flow_name = flow.split('=').next().unwrap();
    assert_eq!(
        set_cookie_value(&r, flow_name).as_deref(),
        Some(""),
        "flow cookie deleted"
    );
    let r = app
        .get("/account")
        .add_header(COOKIE, format!("wos-session={session}"))
        .await;
    assert_eq!(r.status_code(), 200);
    // Replaying the callback (same code, same flow cookie) fails cleanly.
    let r = app
        .get(&format!("/auth/callback?code=good1&state={state}"))
        .add_header(COOKIE, &flow)
        .await;
    assert_eq!(r.status_code(), 400);
    assert!(set_cookie_value(&r, "wos-session").is_none());
}

#[tokio::test]
async fn callback_refuses_missing_unknown_and_mismatched_state() {
    let app = start(|b| b).await;
    let (state, flow) = begin_login(&app, "").await;
    let (other_state, other_flow) = begin_login(&app, "").await;
    for (query, cookie) in [
        ("?code=good2".to_owned(), flow.clone()),
        (format!("?state={state}"), flow.clone()),
        (format!("?code=good3&state={state}"), String::new()),
        // Another flow's cookie does not fit this state.
        (format!("?code=good4&state={state}"), other_flow.clone()),
        (
            format!("?code=good5&state={other_state}x"),
            other_flow.clone(),
        ),
        (
            "?error=access_denied&error_description=%3Cscript%3Ex%3C%2Fscript%3E".to_owned(),
            flow.clone(),
        ),
    ] {
        let r = app
            .get(&format!("/auth/callback{query}"))
            .add_header(COOKIE, cookie)
            .await;
        assert_eq!(r.status_code(), 400, "{query}");
        assert!(set_cookie_value(&r, "wos-session").is_none());
        let page = r.text();
        assert!(
            !page.contains("<script>x"),
            "unescaped input in the error page"
        );
    }
    assert_eq!(
        app.fake.with(|s| s.used_codes.len()),
        0,
        "no code was exchanged"
    );
}

#[tokio::test]
async fn open_redirects_through_return_to_land_on_the_home_page() {
    let app = start(|b| b).await;
    let attacks = [
        "//evil.com",
        "/\\evil.com",
        "https://evil.com",
        "%2f%2fevil.com",
        "/%2f%2fevil.com",
        "javascript:alert(1)",
        "//user@evil.com",
        "/\t/evil.com",
    ];
    for (i, attack) in attacks.iter().enumerate() {
        let query: String = url::form_urlencoded::Serializer::new(String::from("?"))
            .append_pair("return_to", attack)
            .finish();
        let (state, flow) = begin_login(&app, &query).await;
        let r = app
            .get(&format!(
                "/auth/callback?code=good_redirect_{i}&state={state}"
            ))
            .add_header(COOKIE, &flow)
            .await;
        assert_eq!(r.status_code(), 303);
        assert_eq!(location(&r), "/", "{attack:?}");
    }
}

#[tokio::test]
async fn logout_clears_the_cookie_and_ends_the_workos_session() {
    let app = start(|b| b).await;
    let cookie = app.session(300, None);
    let r = app
        .post("/auth/logout")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 303);
    let url = url::Url::parse(&location(&r)).unwrap();
    assert_eq!(url.path(), "/user_management/sessions/logout");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(q["session_id"].starts_with("session_"));
    assert_eq!(q["return_to"], "http://localhost:3000/");
    assert_eq!(set_cookie_value(&r, "wos-session").as_deref(), Some(""));
    // Without a session it goes straight home.
    let r = app.post("/auth/logout").await;
    assert_eq!(location(&r), "http://localhost:3000/");
    // GET is not a logout unless enabled.
    assert_eq!(app.get("/auth/logout").await.status_code(), 405);
}

#[tokio::test]
async fn cross_site_logout_is_refused() {
    let app = start(|b| b).await;
    let cookie = app.session(300, None);
    // The app's own origin is the one the request names in Host (not the
    // redirect URI's, http://localhost:3000).
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        (ORIGIN.as_str(), "https://evil.example"),
        (ORIGIN.as_str(), "null"),
    ] {
        let r = app
            .post("/auth/logout")
            .add_header(HOST, "app.test:8080")
            .add_header(name, value)
            .add_header(COOKIE, session_cookie("wos-session", &cookie))
            .await;
        assert_eq!(r.status_code(), 403, "{name}: {value}");
        assert!(set_cookie_value(&r, "wos-session").is_none());
    }
    let r = app
        .post("/auth/logout")
        .add_header(HOST, "app.test:8080")
        .add_header(ORIGIN, "http://app.test:8080")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .await;
    assert_eq!(r.status_code(), 303);
}

#[tokio::test]
async fn switch_organization_refreshes_into_the_new_organization() {
    let app = start(|b| b).await;
    let mut browser = app.browser();
    browser.add_cookie(cookie::Cookie::new(
        "wos-session",
        app.session(300, Some("org_1")),
    ));
    let r = browser
        .post("/auth/switch-organization")
        .form(&[("organization_id", "org_2"), ("return_to", "/account")])
        .await;
    assert_eq!(r.status_code(), 303);
    assert_eq!(location(&r), "/account");
    assert!(set_cookie_value(&r, "wos-session").is_some_and(|c| !c.is_empty()));
    // The browser follows with the switched cookie.
    let body: Value = browser.get("/account").await.json();
    assert_eq!(body["org"], "org_2");
}

#[tokio::test]
async fn switch_into_an_sso_organization_goes_through_authkit() {
    let app = start(|b| b).await;
    let cookie = app.session(300, Some("org_1"));
    app.fake.with(|s| s.refresh_faults.push((403, json!({"error": "sso_required", "error_description": "SSO", "connection_ids": ["conn_1"]}), None)));
    let r = app
        .post("/auth/switch-organization")
        .add_header(COOKIE, session_cookie("wos-session", &cookie))
        .form(&[("organization_id", "org_sso")])
        .await;
    assert_eq!(r.status_code(), 303);
    assert_eq!(
        location(&r),
        "/auth/login?organization_id=org_sso&return_to=%2F"
    );
}

#[test]
fn configuration_mistakes_name_the_variable() {
    let base = || {
        AuthKit::builder()
            .with_api_key("sk")
            .with_client_id("client")
            .with_cookie_password(PASSWORD)
            .with_redirect_uri("http://localhost:3000/auth/callback")
    };
    assert!(base().build().is_ok());
    let cases = [
        (
            base().with_cookie_password("short"),
            "WORKOS_COOKIE_PASSWORD",
        ),
        (base().with_redirect_uri("not a url"), "WORKOS_REDIRECT_URI"),
        (
            base().with_redirect_uri("/auth/callback"),
            "WORKOS_REDIRECT_URI",
        ),
        (base().with_cookie_name("bad name;"), "WORKOS_COOKIE_NAME"),
        (
            base().with_same_site(authkit_axum::SameSite::None),
            "WORKOS_COOKIE_SAMESITE",
        ),
        (
            AuthKit::builder()
                .with_client_id("c")
                .with_cookie_password(PASSWORD)
                .with_redirect_uri("http://x/cb"),
            "WORKOS_API_KEY",
        ),
        (
            AuthKit::builder()
                .with_api_key("sk")
                .with_client_id("c")
                .with_redirect_uri("http://x/cb"),
            "WORKOS_COOKIE_PASSWORD",
        ),
    ];
    for (builder, var) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.var(), Some(var), "{err}");
        assert!(err.to_string().contains(var));
        assert!(!err.to_string().contains(PASSWORD));
    }
}

#[test]
fn secure_cookies_follow_the_redirect_uri_scheme() {
    let build = |uri: &str| {
        AuthKit::builder()
            .with_api_key("sk")
            .with_client_id("client")
            .with_cookie_password(PASSWORD)
            .with_redirect_uri(uri)
            .build()
            .unwrap()
    };
    assert!(format!("{:?}", build("https://app.example.com/cb")).contains("secure: true"));
    assert!(format!("{:?}", build("http://localhost:3000/cb")).contains("secure: false"));
}
