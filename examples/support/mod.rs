//! What the examples share: pick a WorkOS (yours, from the environment, or
//! the embedded emulator), and serve an app on localhost.
#![allow(dead_code)]

use std::env;
use std::error::Error;
use std::fmt;

use authkit_axum::emulator::{Emulator, Seed};
use authkit_axum::{AuthKit, AuthKitBuilder};
use axum::Router;

/// The AuthKit for an example (see [`AuthKitBuilder::from_env_or_emulator`])
/// and the emulator it runs against, if any (the AuthKit keeps it alive).
pub async fn authkit(port: u16, seed: Seed) -> Result<(AuthKit, Option<Emulator>), Box<dyn Error>> {
    let (builder, backend) = AuthKitBuilder::from_env_or_emulator(port, seed).await?;
    println!("Using {backend}.");
    let authkit = builder.with_api_prefix("/api").build()?;
    Ok((authkit, backend.emulator().cloned()))
}

/// What an example's `main` returns on failure: its `Debug` (what Rust
/// prints for an error `main` returns) is the error's `Display` and its
/// causes', so a mistake reads `Error: WORKOS_COOKIE_PASSWORD … is invalid: …`
/// rather than a dump of the error's fields.
pub struct Report(Box<dyn Error>);

impl<E: Into<Box<dyn Error>>> From<E> for Report {
    fn from(error: E) -> Self {
        Report(error.into())
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, "\n  caused by: {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// The port from `PORT`, default 3000.
pub fn port() -> u16 {
    env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000)
}

/// Logs to stderr (`RUST_LOG`, else info and the crate's debug): call it
/// before building the `AuthKit`, whose startup warnings are logs too.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,authkit_axum=debug".into()),
        )
        .try_init()
        .ok();
}

/// Serves `app` on localhost (IPv4, and IPv6 where available) until Ctrl-C.
pub async fn serve(app: Router, port: u16) -> Result<(), Box<dyn Error>> {
    init_tracing();
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
