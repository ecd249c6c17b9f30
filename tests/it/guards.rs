//! Guards as route layers (`RequireAuth`): signed out, a browser is sent to
//! login and an API call gets 401; signed in without the permission, role or
//! organization, 403; allowed, the handler runs — and it never runs when the
//! guard refuses. Over real HTTP against the emulator.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar, clears_session, location};
use authkit_axum::client::RetryPolicy;
use authkit_axum::emulator::{Emulator, EmulatorExt, Fault, Seed};
use authkit_axum::{RejectionMode, RequireAuth};
use axum::routing::get;
use axum::{Extension, Router};
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, RETRY_AFTER, WWW_AUTHENTICATE};
use serde_json::Value;

/// How many times the guarded handlers ran.
#[derive(Clone, Default)]
struct Calls(Arc<AtomicUsize>);

impl Calls {
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    /// A handler that counts its calls.
    fn handler(&self) -> axum::routing::MethodRouter {
        let calls = self.0.clone();
        get(move || async move {
            calls.fetch_add(1, Ordering::SeqCst);
            "the handler ran"
        })
    }
}

struct Guarded {
    app: App,
    calls: Calls,
}

/// Each route behind one guard; `/api/delete` under the API prefix, and
/// `/strict/*` under `RejectionMode::Api` and `RejectionMode::Redirect`.
fn routes(calls: &Calls, org: &str) -> Router {
    let guarded = |guard: RequireAuth| Router::new().route("/", calls.handler()).route_layer(guard);
    Router::new()
        .nest("/session", guarded(RequireAuth::session()))
        .nest("/write", guarded(RequireAuth::permission("widgets:write")))
        .nest(
            "/delete",
            guarded(RequireAuth::permission("widgets:delete")),
        )
        .nest("/admin", guarded(RequireAuth::role("admin")))
        .nest("/owner", guarded(RequireAuth::role("owner")))
        .nest("/any", guarded(RequireAuth::any_role(["owner", "admin"])))
        .nest("/org", guarded(RequireAuth::organization(org)))
        .nest(
            "/other-org",
            guarded(RequireAuth::organization("org_other")),
        )
        .nest(
            "/admin-and-delete",
            guarded(RequireAuth::role("admin").and_permission("widgets:delete")),
        )
        // One method of one route, guarded by `MethodRouter::route_layer`.
        .route(
            "/method",
            calls.handler().route_layer(RequireAuth::role("owner")),
        )
        .nest(
            "/api/delete",
            guarded(RequireAuth::permission("widgets:delete")),
        )
        .nest(
            "/strict/api",
            guarded(RequireAuth::permission("widgets:delete")).layer(Extension(RejectionMode::Api)),
        )
        .nest(
            "/strict/redirect",
            guarded(RequireAuth::permission("widgets:delete"))
                .layer(Extension(RejectionMode::Redirect)),
        )
}

async fn start() -> Guarded {
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
    let org = emulator.organizations()[0].id.clone();
    let calls = Calls::default();
    let handlers = calls.clone();
    let app = app::serve(
        emulator,
        |b| b.with_client(client).with_api_prefix("/api"),
        move |authkit| {
            routes(&handlers, &org)
                .merge(authkit.routes())
                .layer(authkit.layer())
        },
    )
    .await;
    Guarded { app, calls }
}

/// A `fetch()` from the page's own script: accepts anything, says it is a
/// CORS-mode fetch.
async fn fetch(app: &App, jar: &Jar, path: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base))
        .header(ACCEPT, "text/html, */*")
        .header("sec-fetch-mode", "cors")
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap()
}

fn content_type(r: &reqwest::Response) -> &str {
    r.headers()[CONTENT_TYPE].to_str().unwrap()
}

#[tokio::test]
async fn signed_out_a_browser_is_sent_to_login_and_the_handler_never_runs() {
    let Guarded { app, calls } = start().await;
    for path in ["/session", "/write", "/org", "/method"] {
        let r = app.get(&mut Jar::default(), &format!("{path}?x=1")).await;
        assert_eq!(r.status(), 307, "{path}");
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", &format!("{path}?x=1"))
            .finish();
        assert_eq!(location(&r), format!("/auth/login?{query}"), "{path}");
    }
    assert_eq!(calls.count(), 0);
}

#[tokio::test]
async fn signed_out_an_api_call_gets_401_json_and_the_handler_never_runs() {
    let Guarded { app, calls } = start().await;
    let jar = Jar::default();
    for r in [
        app.get_json(&mut Jar::default(), "/write").await,
        fetch(&app, &jar, "/admin").await,
        // Under the API prefix even a navigation gets 401.
        app.get(&mut Jar::default(), "/api/delete").await,
        app.get(&mut Jar::default(), "/strict/api").await,
    ] {
        assert_eq!(r.status(), 401);
        assert!(r.headers().contains_key(WWW_AUTHENTICATE));
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
    assert_eq!(calls.count(), 0);
}

#[tokio::test]
async fn signed_in_without_the_permission_role_or_organization_gets_403_and_the_handler_never_runs()
{
    let Guarded { app, calls } = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    for (path, says) in [
        ("/delete", "missing permission widgets:delete"),
        ("/owner", "missing role owner"),
        ("/other-org", "another organization"),
        ("/admin-and-delete", "missing permission widgets:delete"),
        ("/method", "missing role owner"),
    ] {
        let r = app.get_json(&mut jar, path).await;
        assert_eq!(r.status(), 403, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "forbidden", "{path}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{path}: {body}"
        );
    }
    assert_eq!(calls.count(), 0);
}

#[tokio::test]
async fn signed_in_and_allowed_reaches_the_handler_once_per_request() {
    let Guarded { app, calls } = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let allowed = ["/session", "/write", "/admin", "/any", "/org"];
    for path in allowed {
        let r = app.get(&mut jar, path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), "the handler ran");
    }
    assert_eq!(calls.count(), allowed.len());
}

#[tokio::test]
async fn a_guards_403_is_a_page_for_a_navigation_and_json_for_a_fetch_or_an_api_path() {
    let Guarded { app, calls } = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;

    let r = app.get(&mut jar, "/delete").await;
    assert_eq!(r.status(), 403);
    assert!(content_type(&r).starts_with("text/html"), "{r:?}");
    let page = r.text().await.unwrap();
    assert!(page.contains("missing permission widgets:delete"), "{page}");
    assert!(page.contains("href=\"/\""), "a way home: {page}");

    for r in [
        fetch(&app, &jar, "/delete").await,
        app.get(&mut jar, "/api/delete").await,
        // RejectionMode::Api: JSON even for a navigation.
        app.get(&mut jar, "/strict/api").await,
    ] {
        assert_eq!(r.status(), 403);
        assert!(content_type(&r).starts_with("application/json"), "{r:?}");
    }
    // RejectionMode::Redirect: a page even for a fetch.
    let r = fetch(&app, &jar, "/strict/redirect").await;
    assert_eq!(r.status(), 403);
    assert!(content_type(&r).starts_with("text/html"), "{r:?}");
    assert_eq!(calls.count(), 0);
}

#[tokio::test]
async fn workos_unavailable_on_a_guarded_route_is_503_and_keeps_the_session() {
    let Guarded { app, calls } = start().await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(503).forever().for_grant("refresh_token"),
    );
    let page = app.get(&mut jar, "/write").await;
    let json = app.get_json(&mut jar, "/write").await;
    for r in [&page, &json] {
        assert_eq!(r.status(), 503);
        assert!(r.headers().contains_key(RETRY_AFTER));
        assert!(!clears_session(r), "not a logout");
    }
    assert!(content_type(&page).starts_with("text/html"));
    assert!(content_type(&json).starts_with("application/json"));
    assert_eq!(calls.count(), 0);
    // WorkOS is back: the same cookie gets through.
    app.emulator.faults().clear();
    assert_eq!(app.get(&mut jar, "/write").await.status(), 200);
    assert_eq!(calls.count(), 1);
}

#[tokio::test]
async fn a_guard_without_the_layer_answers_500_naming_the_layer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let calls = Calls::default();
    let router = Router::new()
        .route("/", calls.handler())
        .route_layer(RequireAuth::session());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let r = app::http_client().get(&base).send().await.unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("authkit.layer()"));
    assert_eq!(calls.count(), 0);
}

#[tokio::test]
async fn a_bearer_token_passes_a_guard_by_its_claims_and_is_never_answered_with_a_page() {
    let Guarded { app, calls } = start().await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let token = app
        .authkit
        .sessions()
        .unseal(jar.session().unwrap())
        .unwrap()
        .access_token
        .expose()
        .to_owned();
    let bearer = |path: &str| {
        app.http
            .get(format!("{}{path}", app.base))
            // A browser-like Accept: still a token client, never a page.
            .header(ACCEPT, "text/html")
            .header(reqwest::header::AUTHORIZATION, format!("Bearer {token}"))
            .send()
    };
    for allowed in ["/session", "/write", "/admin"] {
        let r = bearer(allowed).await.unwrap();
        assert_eq!(r.status(), 200, "{allowed}");
    }
    assert_eq!(calls.count(), 3);
    // RejectionMode::Redirect asks for pages; a Bearer client gets JSON anyway.
    for refused in ["/delete", "/owner", "/strict/redirect"] {
        let r = bearer(refused).await.unwrap();
        assert_eq!(r.status(), 403, "{refused}");
        assert!(
            content_type(&r).starts_with("application/json"),
            "{refused}: {r:?}"
        );
    }
    assert_eq!(calls.count(), 3);
    // Signed out by a bad token: 401 with RFC 6750's challenge, not a redirect.
    let r = app
        .http
        .get(format!("{}/session", app.base))
        .header(ACCEPT, "text/html")
        .header(reqwest::header::AUTHORIZATION, "Bearer not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()[WWW_AUTHENTICATE].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert_eq!(calls.count(), 3);
}
