//! Nested routers (`Router::nest`, twice): the API prefix, the public paths
//! and `return_to` are about the URL the browser asked for, not the path
//! `nest` leaves to the inner router — with the layer on the outer router
//! and on an inner one. Over real HTTP against the emulator.

use crate::support::app::{self, App, EMAIL, Jar, location};
use authkit_axum::emulator::{Emulator, Seed};
use authkit_axum::{AuthKit, AuthKitBuilder, AuthUser};
use axum::Router;
use axum::routing::get;
use serde_json::Value;

async fn me(user: AuthUser) -> axum::Json<Value> {
    axum::Json(serde_json::json!({"email": user.user.email}))
}

async fn page(user: AuthUser) -> String {
    format!("settings of {}", user.user.email)
}

/// `/api/me`, `/api/v1/me` and `/app/v1/settings`: each a route of a
/// router nested once or twice.
fn api() -> Router {
    Router::new()
        .route("/me", get(me))
        .nest("/v1", Router::new().route("/me", get(me)))
}

fn app_pages() -> Router {
    Router::new().nest("/v1", Router::new().route("/settings", get(page)))
}

/// Where the layer goes.
#[derive(Clone, Copy, Debug)]
enum Layer {
    /// `.layer(authkit.layer())` on the outer router.
    Outer,
    /// On each nested router before it is nested (and on the auth routes).
    Inner,
}

fn router(authkit: &AuthKit, layer: Layer) -> Router {
    match layer {
        Layer::Outer => Router::new()
            .nest("/api", api())
            .nest("/app", app_pages())
            .nest("/docs", docs())
            .merge(authkit.routes())
            .layer(authkit.layer()),
        Layer::Inner => Router::new()
            .nest("/api", api().layer(authkit.layer()))
            .nest("/app", app_pages().layer(authkit.layer()))
            .nest("/docs", docs().layer(authkit.layer()))
            .merge(authkit.routes().layer(authkit.layer())),
    }
}

fn docs() -> Router {
    Router::new().route("/intro", get(|| async { "the docs" }))
}

async fn start(layer: Layer, configure: fn(AuthKitBuilder) -> AuthKitBuilder) -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    app::serve(
        emulator,
        |b| configure(b.with_api_prefix("/api")),
        |authkit| router(authkit, layer),
    )
    .await
}

#[tokio::test]
async fn a_browser_navigation_to_a_nested_api_path_gets_401_not_a_redirect() {
    for layer in [Layer::Outer, Layer::Inner] {
        let app = start(layer, |b| b).await;
        for path in ["/api/me", "/api/v1/me"] {
            let r = app.get(&mut Jar::default(), path).await;
            assert_eq!(r.status(), 401, "{layer:?} {path}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["error"], "unauthorized", "{layer:?} {path}");
        }
    }
}

#[tokio::test]
async fn a_doubly_nested_page_redirects_with_its_full_path_and_query_in_return_to() {
    for layer in [Layer::Outer, Layer::Inner] {
        let app = start(layer, |b| b).await;
        let r = app
            .get(&mut Jar::default(), "/app/v1/settings?tab=2&x=%2F")
            .await;
        assert_eq!(r.status(), 307, "{layer:?}");
        assert_eq!(
            location(&r),
            "/auth/login?return_to=%2Fapp%2Fv1%2Fsettings%3Ftab%3D2%26x%3D%252F",
            "{layer:?}"
        );
    }
}

#[tokio::test]
async fn signing_in_from_a_doubly_nested_page_lands_on_that_page() {
    for layer in [Layer::Outer, Layer::Inner] {
        let app = start(layer, |b| b).await;
        let mut jar = Jar::default();
        let r = app.get(&mut jar, "/app/v1/settings?tab=2").await;
        assert_eq!(r.status(), 307, "{layer:?}");
        let (mut jar, landed) = app.sign_in(jar, &location(&r), EMAIL).await;
        assert_eq!(landed, "/app/v1/settings?tab=2", "{layer:?}");
        let r = app.get(&mut jar, &landed).await;
        assert_eq!(r.status(), 200, "{layer:?}");
        assert_eq!(r.text().await.unwrap(), format!("settings of {EMAIL}"));
        let r = app.get_json(&mut jar, "/api/v1/me").await;
        assert_eq!(r.status(), 200, "{layer:?}");
    }
}

#[tokio::test]
async fn protect_by_default_judges_nested_paths_by_their_full_path() {
    for layer in [Layer::Outer, Layer::Inner] {
        let app = start(layer, |b| {
            b.with_protect_by_default(true).with_public_path("/docs/*")
        })
        .await;
        // Public by its full path, though the inner router sees `/intro`.
        let r = app.get(&mut Jar::default(), "/docs/intro").await;
        assert_eq!(r.status(), 200, "{layer:?}");
        // Refused by the layer itself, with the full path to come back to.
        let r = app.get(&mut Jar::default(), "/app/v1/settings?tab=2").await;
        assert_eq!(r.status(), 307, "{layer:?}");
        assert_eq!(
            location(&r),
            "/auth/login?return_to=%2Fapp%2Fv1%2Fsettings%3Ftab%3D2",
            "{layer:?}"
        );
        let r = app.get(&mut Jar::default(), "/api/v1/me").await;
        assert_eq!(r.status(), 401, "{layer:?}");
    }
}
