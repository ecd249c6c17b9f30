//! The quickstart with metrics: `cargo run --example metrics`, sign in at
//! http://localhost:3000, then read http://localhost:3000/metrics (Prometheus's
//! text format: sign-ins, sign-outs, refreshes, rejected cookies, WorkOS
//! calls and their latencies; the `telemetry` module's docs list them).
//!
//! Needs the crate's `metrics` feature. Like the quickstart it runs against
//! the embedded WorkOS emulator with no environment, or your WorkOS with
//! `WORKOS_API_KEY` and `WORKOS_CLIENT_ID`. In production, serve `/metrics`
//! on an address only the scraper reaches.

mod support;

use authkit_axum::emulator::{Backend, DEMO_PASSWORD, Seed};
use authkit_axum::{AuthKitBuilder, AuthUser};
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use support::{escape, page};

async fn home(user: Option<AuthUser>) -> Html<String> {
    let body = match user {
        Some(user) => format!(
            "<h1>Signed in as {email}</h1>\
             <p><a href=\"/metrics\">/metrics</a></p>\
             <form method=\"post\" action=\"/auth/logout\"><button type=\"submit\">Sign out</button></form>",
            email = escape(&user.user.email),
        ),
        None => "<h1>authkit-axum metrics</h1>\
                 <p><a href=\"/auth/login\">Sign in</a> · <a href=\"/metrics\">/metrics</a></p>"
            .to_owned(),
    };
    page("authkit-axum metrics", &body)
}

async fn metrics(handle: PrometheusHandle) -> String {
    handle.render()
}

#[tokio::main]
async fn main() -> Result<(), support::Report> {
    support::init_tracing();
    // The recorder first: metrics recorded before it is installed are lost.
    let handle = PrometheusBuilder::new().install_recorder()?;
    authkit_axum::telemetry::describe_metrics();
    let port = support::port();
    let (builder, backend) = AuthKitBuilder::from_env_or_emulator(port, Seed::demo()).await?;
    let authkit = builder.build()?;
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
    println!("Metrics at http://localhost:{port}/metrics");
    // The histograms' buckets are kept bounded by the exporter's upkeep.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    let app = Router::new()
        .route("/", get(home))
        .merge(authkit.routes())
        .layer(authkit.layer())
        // Outside the layer: the scraper has no session.
        .route("/metrics", get(move || metrics(handle.clone())));
    Ok(support::serve(app, port).await?)
}
