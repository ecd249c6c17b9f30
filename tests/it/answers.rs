//! The 403 and 503 answers as pages or JSON: an HTML page for a browser
//! navigation, JSON for a fetch, an XHR or a path under the API prefix —
//! judged as the choice between a redirect to login and a 401 is — and the
//! app's own page through `with_error_page`. Over real HTTP against the
//! emulator.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar, clears_session};
use authkit_axum::client::RetryPolicy;
use authkit_axum::emulator::{Emulator, EmulatorExt, Fault, Seed};
use authkit_axum::{
    AuthKitBuilder, AuthUser, ErrorPageContext, ErrorPageKind, Forbidden, PageAction, PageContext,
    PageKind,
};
use axum::Router;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use reqwest::header::{ALLOW, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, RETRY_AFTER};
use serde_json::Value;

/// A handler's own refusal: `require_role` in the handler, no guard.
async fn owners(user: AuthUser) -> Result<&'static str, Forbidden> {
    user.require_role("owner")?;
    Ok("owners only")
}

/// A handler that answers `Forbidden` with headers of its own.
async fn tagged(user: AuthUser) -> axum::response::Response {
    match user.require_permission("widgets:delete") {
        Ok(()) => "allowed".into_response(),
        Err(refusal) => ([("x-app", "kept")], refusal).into_response(),
    }
}

async fn account(user: AuthUser) -> String {
    user.user.email.clone()
}

async fn start(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    let client = emulator
        .client_builder()
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    app::serve(
        emulator,
        |b| configure(b.with_client(client).with_api_prefix("/api")),
        |authkit| {
            let api = Router::new()
                .route("/owners", get(owners))
                .route("/account", get(account));
            Router::new()
                .route("/owners", get(owners))
                .route("/tagged", get(tagged))
                .route("/account", get(account))
                .nest("/api", api)
                .merge(authkit.routes())
                .layer(authkit.layer())
        },
    )
    .await
}

/// A request with `headers` and the jar's cookies.
async fn send(app: &App, jar: &Jar, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .http
        .get(format!("{}{path}", app.base))
        .header(COOKIE, jar.header());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

const NAVIGATION: &[(&str, &str)] = &[
    ("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    ("sec-fetch-mode", "navigate"),
];

/// Requests that are not navigations, each for its own reason.
const NOT_NAVIGATIONS: &[&[(&str, &str)]] = &[
    &[("accept", "application/json")],
    &[("accept", "*/*")],
    &[("accept", "text/html"), ("sec-fetch-mode", "cors")],
    &[("accept", "text/html"), ("sec-fetch-mode", "same-origin")],
    &[
        ("accept", "text/html"),
        ("x-requested-with", "XMLHttpRequest"),
    ],
];

fn content_type(r: &reqwest::Response) -> String {
    r.headers()[CONTENT_TYPE].to_str().unwrap().to_owned()
}

/// Signs in, then lets the access token expire while WorkOS refuses to
/// refresh it (429, retry in 9 s): every request is then a 503.
async fn signed_in_during_an_outage(app: &App) -> Jar {
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(429)
            .with_retry_after(Duration::from_secs(9))
            .forever()
            .for_grant("refresh_token"),
    );
    jar
}

#[tokio::test]
async fn a_handlers_forbidden_is_a_page_for_a_navigation_and_json_otherwise() {
    let app = start(|b| b).await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;

    let r = send(&app, &jar, "/owners", NAVIGATION).await;
    assert_eq!(r.status(), 403);
    assert!(content_type(&r).starts_with("text/html"), "{r:?}");
    assert!(
        r.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let page = r.text().await.unwrap();
    assert!(page.contains("Forbidden: missing role owner"), "{page}");
    assert!(page.contains("Go to the home page"), "{page}");

    for headers in NOT_NAVIGATIONS {
        let r = send(&app, &jar, "/owners", headers).await;
        assert_eq!(r.status(), 403, "{headers:?}");
        assert!(
            content_type(&r).starts_with("application/json"),
            "{headers:?}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "forbidden");
    }
    // Under the API prefix (a nested router), even a navigation gets JSON.
    let r = send(&app, &jar, "/api/owners", NAVIGATION).await;
    assert_eq!(r.status(), 403);
    assert!(content_type(&r).starts_with("application/json"));
}

#[tokio::test]
async fn a_forbidden_page_keeps_the_handlers_own_headers() {
    let app = start(|b| b).await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = send(&app, &jar, "/tagged", NAVIGATION).await;
    assert_eq!(r.status(), 403);
    assert!(content_type(&r).starts_with("text/html"));
    assert_eq!(r.headers()["x-app"], "kept");
}

#[tokio::test]
async fn workos_unavailable_is_a_page_with_retry_after_for_a_navigation_and_json_otherwise() {
    let app = start(|b| b).await;
    let jar = signed_in_during_an_outage(&app).await;

    let r = send(&app, &jar, "/account?tab=2", NAVIGATION).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()[RETRY_AFTER], "9");
    assert!(!clears_session(&r), "not a logout");
    assert!(content_type(&r).starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Try again"), "{page}");
    assert!(
        page.contains("href=\"/account?tab=2\""),
        "retries the same page: {page}"
    );

    for headers in NOT_NAVIGATIONS {
        let r = send(&app, &jar, "/account", headers).await;
        assert_eq!(r.status(), 503, "{headers:?}");
        assert_eq!(r.headers()[RETRY_AFTER], "9");
        assert!(
            content_type(&r).starts_with("application/json"),
            "{headers:?}"
        );
    }
    let r = send(&app, &jar, "/api/account", NAVIGATION).await;
    assert_eq!(r.status(), 503);
    assert!(content_type(&r).starts_with("application/json"));
}

/// What the hook saw: kind, status, navigation, message, URI.
type Seen = (ErrorPageKind, u16, bool, String, String);

#[tokio::test]
async fn the_apps_error_page_hook_renders_what_it_wants_and_leaves_the_rest_built_in() {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let app = start(move |b| {
        b.with_error_page(move |page: &ErrorPageContext| {
            log.lock().unwrap().push((
                page.kind(),
                page.status().as_u16(),
                page.is_navigation(),
                page.message().to_owned(),
                page.uri().to_string(),
            ));
            // Only the forbidden navigations get the app's page.
            (page.kind() == ErrorPageKind::Forbidden && page.is_navigation())
                .then(|| (page.status(), Html("<h1>Ask an owner for access</h1>")).into_response())
        })
    })
    .await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;

    let r = send(&app, &jar, "/owners", NAVIGATION).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.text().await.unwrap(), "<h1>Ask an owner for access</h1>");
    let r = send(&app, &jar, "/api/owners", NAVIGATION).await;
    assert!(content_type(&r).starts_with("application/json"), "built in");

    let jar = signed_in_during_an_outage(&app).await;
    let r = send(&app, &jar, "/account", NAVIGATION).await;
    assert_eq!(r.status(), 503);
    assert!(content_type(&r).starts_with("text/html"), "built in");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            (
                ErrorPageKind::Forbidden,
                403,
                true,
                "Forbidden: missing role owner".to_owned(),
                "/owners".to_owned()
            ),
            (
                ErrorPageKind::Forbidden,
                403,
                false,
                "Forbidden: missing role owner".to_owned(),
                "/api/owners".to_owned()
            ),
            (
                ErrorPageKind::Unavailable,
                503,
                true,
                "Authentication is temporarily unavailable; please retry shortly.".to_owned(),
                "/account".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn a_page_for_a_503_keeps_retry_after_under_the_apps_page() {
    let app = start(|b| {
        b.with_error_page(|page| {
            (page.kind() == ErrorPageKind::Unavailable)
                .then(|| (page.status(), Html("<h1>Back soon</h1>")).into_response())
        })
    })
    .await;
    let jar = signed_in_during_an_outage(&app).await;
    let r = send(&app, &jar, "/account", &[("accept", "application/json")]).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()[RETRY_AFTER], "9");
    assert!(!clears_session(&r));
    assert_eq!(r.text().await.unwrap(), "<h1>Back soon</h1>");
}

/// What the page renderer saw: kind, status, title, the first action's label.
type SeenPage = (PageKind, u16, String, String);

#[tokio::test]
async fn the_page_renderer_replaces_the_callback_error_the_sign_out_and_the_403_pages() {
    let seen: Arc<Mutex<Vec<SeenPage>>> = Arc::default();
    let log = seen.clone();
    let app = start(move |b| {
        b.with_page_renderer(move |page: &PageContext| {
            let action = page.actions().first().map(PageAction::label).unwrap_or("");
            log.lock().unwrap().push((
                page.kind(),
                page.status().as_u16(),
                page.title().to_owned(),
                action.to_owned(),
            ));
            let body = format!("<h1>Acme: {}</h1>", page.title());
            Some((page.status(), Html(body)).into_response())
        })
    })
    .await;

    let r = send(
        &app,
        &Jar::default(),
        "/auth/callback?error=access_denied",
        NAVIGATION,
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.text().await.unwrap(), "<h1>Acme: Sign-in failed</h1>");

    let r = send(&app, &Jar::default(), "/auth/logout", NAVIGATION).await;
    assert_eq!(r.status(), 405);
    // The method rule stays on the app's page.
    assert_eq!(r.headers()[ALLOW], "POST");
    assert_eq!(r.text().await.unwrap(), "<h1>Acme: Sign out</h1>");

    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = send(&app, &jar, "/owners", NAVIGATION).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.text().await.unwrap(),
        "<h1>Acme: You don't have access to this page</h1>"
    );
    // An API call's 403 is JSON, not a page: the renderer is not asked.
    let r = send(&app, &jar, "/api/owners", NAVIGATION).await;
    assert!(content_type(&r).starts_with("application/json"));

    assert_eq!(
        seen.lock().unwrap().clone(),
        [
            (
                PageKind::CallbackError,
                400,
                "Sign-in failed".to_owned(),
                "Try signing in again".to_owned()
            ),
            (
                PageKind::SignOut,
                405,
                "Sign out".to_owned(),
                "Sign out".to_owned()
            ),
            (
                PageKind::Forbidden,
                403,
                "You don't have access to this page".to_owned(),
                "Go to the home page".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn a_page_renderer_answering_none_keeps_the_built_in_pages() {
    let app = start(|b| b.with_page_renderer(|_| None)).await;
    let r = send(&app, &Jar::default(), "/auth/logout", NAVIGATION).await;
    assert_eq!(r.status(), 405);
    assert!(r.headers().contains_key(CONTENT_SECURITY_POLICY));
    let body = r.text().await.unwrap();
    assert!(body.contains("<main><h1>Sign out</h1>"), "{body}");
}

#[tokio::test]
async fn the_error_page_hook_still_runs_before_the_page_renderer() {
    let app = start(|b| {
        b.with_error_page(|page| {
            (page.kind() == ErrorPageKind::Forbidden)
                .then(|| (page.status(), Html("from with_error_page")).into_response())
        })
        .with_page_renderer(|page| Some((page.status(), Html("from the renderer")).into_response()))
    })
    .await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = send(&app, &jar, "/owners", NAVIGATION).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.text().await.unwrap(), "from with_error_page");
}
