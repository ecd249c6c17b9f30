//! One replica of an app meant to run as several behind a load balancer:
//! configured only by the environment, it keeps nothing in memory that the
//! other replicas would need (sessions live in the sealed cookie, refresh
//! single flight is per process). `tests/balancer.rs` runs three of these
//! behind nginx.
//!
//! ```text
//! WORKOS_API_KEY=sk_… WORKOS_CLIENT_ID=client_… \
//! WORKOS_COOKIE_PASSWORD=<the same ≥ 32 characters on every replica> \
//! WORKOS_REDIRECT_URI=https://app.example.com/auth/callback \
//! REPLICA_NAME=a PORT=3001 cargo run --example replica
//! ```
//!
//! Besides the `WORKOS_*` variables of `AuthKit::from_env` (and
//! `WORKOS_API_HOSTNAME/PORT/HTTPS` to point it at the emulator), it reads:
//!
//! - `PORT`: where it listens on localhost (default 3000);
//! - `REPLICA_NAME`: sent back as `X-Replica` on every response, so a client
//!   behind the balancer sees which replica answered;
//! - `REFRESH_BUFFER_SECS`: how long before expiry an access token is
//!   refreshed (default: AuthKit's, 30 or 60 s; `0` waits for the expiry).
//!
//! Routes: `/` (public), `/api/me` (JSON; 401 when signed out) and `/auth/*`.

mod support;

use std::time::Duration;

use authkit_axum::{AuthKitBuilder, AuthUser};
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde_json::{Value, json};

async fn home(user: Option<AuthUser>) -> String {
    user.map_or("hello, stranger".into(), |u| {
        format!("hello {}", u.user.email)
    })
}

async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({
        "email": user.user.email,
        "user_id": user.user.id,
        "session_id": user.session_id(),
        "expires_at": user.claims.exp,
    }))
}

#[tokio::main]
async fn main() -> Result<(), support::Report> {
    let port = support::port();
    let name = std::env::var("REPLICA_NAME").unwrap_or_else(|_| format!("port-{port}"));
    let mut builder = AuthKitBuilder::from_env()?.with_api_prefix("/api");
    if let Ok(secs) = std::env::var("REFRESH_BUFFER_SECS") {
        let secs: u64 = secs
            .trim()
            .parse()
            .map_err(|_| format!("REFRESH_BUFFER_SECS: expected seconds, got {secs:?}"))?;
        builder = builder.with_refresh_buffer(Duration::from_secs(secs));
    }
    let authkit = builder.build()?;
    let replica = HeaderValue::from_str(&name)?;
    println!("Replica {name}");
    let app = Router::new()
        .route("/", get(home))
        .route("/api/me", get(me))
        .merge(authkit.routes())
        .layer(authkit.layer())
        .layer(middleware::map_response(move |mut response: Response| {
            let replica = replica.clone();
            async move {
                response.headers_mut().insert("x-replica", replica);
                response
            }
        }));
    Ok(support::serve(app, port).await?)
}
