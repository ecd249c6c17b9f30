//! A JSON API protected by authkit-axum: `cargo run --example api`.
//!
//! Every unauthenticated request under `/api` gets a 401 JSON answer (never a
//! redirect), and `/api/admin/*` also needs the `widgets:write` permission.
//! Sign in through `/auth/login` in a browser first; the session cookie then
//! authorizes API calls from that browser (e.g. your SPA's `fetch`).

mod support;

use authkit_axum::emulator::{DEMO_PASSWORD, Seed};
use authkit_axum::{AuthUser, Forbidden, RejectionMode};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({"id": user.user.id, "email": user.user.email, "org": user.organization_id()}))
}

async fn list_widgets(user: AuthUser) -> Result<Json<Value>, Forbidden> {
    user.require_permission("widgets:read")?;
    Ok(Json(json!({"widgets": ["sprocket", "gear"]})))
}

async fn create_widget(user: AuthUser, Json(body): Json<Value>) -> Result<Json<Value>, Forbidden> {
    user.require_permission("widgets:write")?;
    Ok(Json(json!({"created": body, "by": user.user.email})))
}

#[tokio::main]
async fn main() -> Result<(), support::Report> {
    let port = support::port();
    let (authkit, emulator) = support::authkit(port, Seed::demo()).await?;
    if emulator.is_some() {
        println!("Demo user: demo@example.com / {DEMO_PASSWORD}");
    }
    let api = Router::new()
        .route("/me", get(me))
        .route("/widgets", get(list_widgets).post(create_widget))
        // Always 401 JSON under this router, whatever the Accept header says.
        .layer(Extension(RejectionMode::Api));
    let app = Router::new()
        .nest("/api", api)
        .route(
            "/",
            get(|| async { "Sign in at /auth/login, then call /api/me" }),
        )
        .route("/ping", post(|| async { "pong" }))
        .merge(authkit.routes())
        .layer(authkit.layer());
    Ok(support::serve(app, port).await?)
}
