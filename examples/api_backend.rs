//! A Rust API called by a front end that holds the access token:
//! `cargo run --example api_backend` (no WorkOS account needed).
//!
//! The front end — a single-page app with authkit-react, a Next.js app with
//! authkit-nextjs, a mobile app — signs the user in with AuthKit and calls
//! this API with `Authorization: Bearer <access token>`. The API has no
//! cookie and no login page of its own: it verifies the token (RS256
//! against WorkOS's keys, expiry, issuer) and answers.
//!
//! Here everything runs in one process against the embedded WorkOS
//! emulator: the API on a free port, and a "front end" that signs the demo
//! user in (with a password, standing in for AuthKit's hosted page) and
//! then calls the API with the token, printing each answer.

use std::time::Duration;

use authkit_axum::client::AuthenticateWithPassword;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
use authkit_axum::{AuthClaims, AuthKit, AuthUser, Forbidden};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// Who is calling, from the token alone: no call to WorkOS.
async fn me(claims: AuthClaims) -> Json<Value> {
    Json(json!({
        "user_id": claims.user_id(),
        "organization_id": claims.organization_id(),
        "role": claims.role(),
        "permissions": claims.permissions(),
    }))
}

/// The full user: fetched from WorkOS for a Bearer token, cached a minute.
async fn profile(user: AuthUser) -> Json<Value> {
    Json(json!({"email": user.user.email, "first_name": user.user.first_name}))
}

/// Allowed by the token's permissions, or 403.
async fn widgets(claims: AuthClaims) -> Result<Json<Value>, Forbidden> {
    claims.require_permission("widgets:read")?;
    Ok(Json(json!({"widgets": ["sprocket", "gear"]})))
}

#[tokio::main]
async fn main() {
    // Display, not Debug: the message, not a dump of the error's fields.
    if let Err(error) = run().await {
        eprintln!("Error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // WorkOS, offline. Against your own environment the API would be built
    // from WORKOS_API_KEY / WORKOS_CLIENT_ID instead.
    let emulator = Emulator::builder().with_seed(Seed::demo()).start().await?;

    // The API: Bearer tokens only (no cookie, so no auth routes to mount).
    let authkit = AuthKit::builder()
        .with_emulator(&emulator)
        .with_session_cookies(false)
        // Required by the builder, unused without cookies and auth routes.
        .with_cookie_password("an-unused-cookie-password-of-32-chars")
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .build()?;
    let api = Router::new()
        .route("/api/me", get(me))
        .route("/api/profile", get(profile))
        .route("/api/widgets", get(widgets))
        .layer(authkit.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, api).await });
    println!("API listening on {base}");

    // The front end: signs in, keeps the access token, calls the API.
    let signed_in = emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "demo@example.com".into(),
            password: DEMO_PASSWORD.into(),
            ..Default::default()
        })
        .await?;
    let token = signed_in.access_token.expose().to_owned();
    let http = reqwest::Client::new();
    let call = |path: &str, token: Option<&str>| {
        let mut request = http.get(format!("{base}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    for path in ["/api/me", "/api/profile", "/api/widgets"] {
        let r = call(path, Some(&token)).await?;
        println!(
            "GET {path} with the token → {} {}",
            r.status(),
            r.text().await?
        );
    }
    let r = call("/api/me", None).await?;
    println!(
        "GET /api/me without a token → {} (WWW-Authenticate: {:?})",
        r.status(),
        r.headers()
            .get_all("www-authenticate")
            .iter()
            .collect::<Vec<_>>()
    );

    // Tokens live minutes; the front end refreshes its own. An expired one
    // is refused, never refreshed by the API.
    emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = call("/api/me", Some(&token)).await?;
    println!(
        "GET /api/me with the expired token → {} (WWW-Authenticate: {:?})",
        r.status(),
        r.headers()["www-authenticate"]
    );
    Ok(())
}
