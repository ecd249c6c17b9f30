//! The quickstart: `cargo run --example quickstart`, then open
//! http://localhost:3000 and sign in.
//!
//! With no environment it runs against the embedded WorkOS emulator and
//! prints a demo user's credentials. With `WORKOS_API_KEY` and
//! `WORKOS_CLIENT_ID` set it uses your WorkOS environment (and honours
//! `WORKOS_API_HOSTNAME/PORT/HTTPS`, so any WorkOS-compatible server works);
//! `WORKOS_COOKIE_PASSWORD` and `WORKOS_REDIRECT_URI` are used when set.
//!
//! The `/api` routes answer the browser's session cookie and, just as well,
//! `Authorization: Bearer <access token>` from a front end or mobile app
//! that signed in with AuthKit (`cargo run --example api_backend` shows one).

mod support;

use authkit_axum::emulator::{Backend, DEMO_PASSWORD, Seed};
use authkit_axum::{AuthClaims, AuthKitBuilder, AuthUser, Forbidden, RequireAuth};
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use support::{escape, page};

async fn home(user: Option<AuthUser>) -> Html<String> {
    let body = match user {
        Some(user) => format!(
            "<h1>Welcome back, {name}</h1>\
             <p>You are signed in as <strong>{email}</strong>.</p>\
             <p><a href=\"/account\">Your account</a> · <a href=\"/admin\">Admin</a> · \
             <a href=\"/api/me\">/api/me</a></p>\
             <form method=\"post\" action=\"/auth/logout\"><button type=\"submit\">Sign out</button></form>",
            name = escape(user.user.first_name.as_deref().unwrap_or("friend")),
            email = escape(&user.user.email),
        ),
        None => "<h1>authkit-axum quickstart</h1>\
                 <p>You are not signed in.</p>\
                 <p><a href=\"/auth/login\">Sign in</a> · <a href=\"/auth/signup\">Sign up</a> · \
                 <a href=\"/account\">Your account</a> (protected)</p>"
            .to_owned(),
    };
    page("authkit-axum quickstart", &body)
}

async fn account(user: AuthUser) -> Html<String> {
    let impersonation = match &user.impersonator {
        Some(i) => format!(
            "<p><strong>Impersonated by {}</strong></p>",
            escape(&i.email)
        ),
        None => String::new(),
    };
    page(
        "Your account",
        &format!(
            "<h1>Your account</h1>{impersonation}\
             <p>Email: <strong id=\"email\">{email}</strong></p>\
             <p>Organization: <code>{org}</code> · role: <code>{role}</code></p>\
             <p>Permissions: <code>{permissions}</code></p>\
             <p>Session: <code>{sid}</code></p>\
             <p><a href=\"/\">Home</a></p>\
             <form method=\"post\" action=\"/auth/logout\"><button type=\"submit\" id=\"sign-out\">Sign out</button></form>",
            email = escape(&user.user.email),
            org = escape(user.organization_id().unwrap_or("none")),
            role = escape(user.role().unwrap_or("none")),
            permissions = escape(&user.permissions().join(", ")),
            sid = escape(user.session_id()),
        ),
    )
}

// Behind a guard (below): only sessions whose role grants widgets:write get
// here; anyone else signed in gets the crate's 403 page.
async fn admin(user: AuthUser) -> Html<String> {
    page(
        "Admin",
        &format!(
            "<h1>Admin</h1><p>{email} may manage widgets.</p><p><a href=\"/\">Home</a></p>",
            email = escape(&user.user.email),
        ),
    )
}

// The full user: from the cookie, or fetched (and cached for a minute) for
// a Bearer token.
async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({
        "user": user.user,
        "session_id": user.session_id(),
        "organization_id": user.organization_id(),
        "role": user.role(),
        "roles": user.roles(),
        "permissions": user.permissions(),
        "entitlements": user.entitlements(),
        "feature_flags": user.feature_flags(),
        "impersonator": user.impersonator,
        "expires_at": user.claims.exp,
    }))
}

// Only the token's claims: no call to WorkOS, cookie or Bearer token alike.
async fn widgets(claims: AuthClaims) -> Result<Json<Value>, Forbidden> {
    claims.require_permission("widgets:write")?;
    Ok(Json(json!({"widgets": ["sprocket", "gear"]})))
}

#[tokio::main]
async fn main() -> Result<(), support::Report> {
    support::init_tracing(); // before build(): its startup warnings are logs
    let port = support::port();
    // Your WorkOS when WORKOS_API_KEY is set, else a fresh emulator (which
    // `authkit` keeps alive) seeded with a demo user.
    let (builder, backend) = AuthKitBuilder::from_env_or_emulator(port, Seed::demo()).await?;
    let authkit = builder.with_api_prefix("/api").build()?;
    match &backend {
        Backend::Emulator(emulator) => {
            println!(
                "No WORKOS_API_KEY: using the WorkOS emulator at {}",
                emulator.base_url()
            );
            println!("Demo user: demo@example.com / {DEMO_PASSWORD}");
        }
        _ => println!("Using {backend}."),
    }
    // The JSON API is a router of its own, nested under the API prefix:
    // its requests get 401 JSON, never a redirect.
    let api = Router::new()
        .route("/me", get(me))
        .route("/widgets", get(widgets));
    let app = Router::new()
        .route("/", get(home))
        .route("/account", get(account))
        .route(
            "/admin",
            get(admin).route_layer(RequireAuth::permission("widgets:write")),
        )
        .nest("/api", api)
        .merge(authkit.routes())
        .layer(authkit.layer());
    Ok(support::serve(app, port).await?)
}
