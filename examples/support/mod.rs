//! What the examples share: pick a WorkOS (yours, from the environment, or
//! the embedded emulator), and serve an app on localhost.
#![allow(dead_code)]

use std::env;
use std::error::Error;

use authkit_axum::AuthKit;
use authkit_axum::client::UserManagement;
use authkit_axum::emulator::{Emulator, Seed};
use axum::Router;

/// The AuthKit for an example, and the emulator it runs against (if any;
/// keep it alive as long as the app).
pub async fn authkit(port: u16, seed: Seed) -> Result<(AuthKit, Option<Emulator>), Box<dyn Error>> {
    let redirect_uri = env::var("WORKOS_REDIRECT_URI")
        .unwrap_or_else(|_| format!("http://localhost:{port}/auth/callback"));
    let cookie_password = match env::var("WORKOS_COOKIE_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            // A fresh random password: fine for a demo, but sessions do not
            // survive a restart. Set WORKOS_COOKIE_PASSWORD to keep them.
            let mut bytes = [0u8; 24];
            getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let builder = AuthKit::builder()
        .with_cookie_password(cookie_password)
        .with_redirect_uri(redirect_uri)
        .with_api_prefix("/api");
    if env::var("WORKOS_API_KEY").is_ok_and(|k| !k.is_empty()) {
        println!("Using the WorkOS API configured by WORKOS_API_KEY / WORKOS_CLIENT_ID.");
        let authkit = builder.with_client(UserManagement::from_env()?).build()?;
        return Ok((authkit, None));
    }
    let emulator = Emulator::builder().with_seed(seed).start().await?;
    println!(
        "No WORKOS_API_KEY: using the embedded WorkOS emulator at {}",
        emulator.base_url()
    );
    let authkit = builder.with_client(emulator.client()).build()?;
    Ok((authkit, Some(emulator)))
}

/// The port from `PORT`, default 3000.
pub fn port() -> u16 {
    env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000)
}

/// Serves `app` on localhost (IPv4, and IPv6 where available) until Ctrl-C.
pub async fn serve(app: Router, port: u16) -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,authkit_axum=debug".into()),
        )
        .try_init()
        .ok();
    let v4 = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    if let Ok(v6) = tokio::net::TcpListener::bind(("::1", port)).await {
        let app = app.clone();
        tokio::spawn(async move { axum::serve(v6, app).await });
    }
    println!("Listening on http://localhost:{port}");
    axum::serve(v4, app)
        .with_graceful_shutdown(async {
            tokio::signal::ctrl_c().await.ok();
        })
        .await?;
    Ok(())
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A page with the examples' look.
pub fn page(title: &str, body: &str) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}}\
         a,button{{font:inherit;color:#4434d4}}button{{background:none;border:1px solid #4434d4;border-radius:6px;padding:.3rem .8rem;cursor:pointer}}\
         code{{background:#f3f3f6;padding:.1rem .3rem;border-radius:4px}}form{{display:inline}}</style></head>\
         <body>{body}</body></html>",
        title = escape(title),
    ))
}
