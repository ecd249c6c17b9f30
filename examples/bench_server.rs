//! The servers behind `bench/load.sh`, in one binary with three modes.
//!
//! ```text
//! bench_server emulator --port P --out FILE
//!     The WorkOS emulator on 127.0.0.1:P (demo seed, 2 h access tokens).
//!     Signs the demo user in, seals the session cookie with a fixed bench
//!     password and writes {base_url, api_key, client_id, cookie_password,
//!     cookie} as JSON to FILE; then serves until killed.
//!
//! bench_server app --mode none|authkit --port P --config FILE
//!     GET /api/ping on 127.0.0.1:P answering {"ok":true,"user":…}.
//!     none: no authentication (the ceiling; a constant user).
//!     authkit: the AuthKit layer against the emulator in FILE, and an
//!     AuthUser handler answering the signed-in user's id.
//!
//! bench_server storm [--requests N]
//!     In-process emulator and AuthKit app; one session whose access token
//!     has expired; N (default 200) concurrent requests with that cookie.
//!     Prints {requests, ok, errors, upstream_refresh_calls, …} as JSON.
//! ```
//!
//! Everything listens on 127.0.0.1 only.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authkit_axum::client::AuthenticateWithPassword;
use authkit_axum::client::UserManagement;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
use authkit_axum::seal::Passwords;
use authkit_axum::{AuthKit, AuthKitBuilder, AuthUser};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

type BoxError = Box<dyn Error + Send + Sync>;

/// The cookie password every bench server shares (at least 32 characters).
const BENCH_COOKIE_PASSWORD: &str = "authkit-axum-bench-cookie-password-0123456789";
/// The user the `none` mode pretends is signed in.
const NONE_USER: &str = "user_bench_none";
/// The session cookie's name (the SDKs' default).
const COOKIE_NAME: &str = "wos-session";

const USAGE: &str = "usage:
  bench_server emulator --port P --out FILE
  bench_server app --mode none|authkit --port P --config FILE
  bench_server storm [--requests N]";

/// What the emulator mode writes for the app servers and the load generator.
#[derive(Debug, Serialize, Deserialize)]
struct BenchConfig {
    base_url: String,
    api_key: String,
    client_id: String,
    cookie_password: String,
    cookie: String,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        fail(USAGE);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("could not start tokio: {e}")));
    let result = match mode.as_str() {
        "emulator" => {
            let port = flag(rest, "--port").and_then(parse_port);
            let out = flag(rest, "--out");
            let (Some(port), Some(out)) = (port, out) else {
                fail(USAGE);
            };
            runtime.block_on(run_emulator(port, out))
        }
        "app" => {
            let mode = flag(rest, "--mode");
            let port = flag(rest, "--port").and_then(parse_port);
            let config = flag(rest, "--config");
            match (mode, port, config) {
                (Some("none"), Some(port), _) => runtime.block_on(run_app(port, None)),
                (Some("authkit"), Some(port), Some(config)) => {
                    runtime.block_on(run_app(port, Some(config)))
                }
                _ => fail(USAGE),
            }
        }
        "storm" => {
            let requests = match flag(rest, "--requests") {
                None => 200,
                Some(n) => n.parse().unwrap_or_else(|_| fail(USAGE)),
            };
            runtime.block_on(run_storm(requests))
        }
        _ => fail(USAGE),
    };
    if let Err(e) = result {
        fail(&format!("bench_server {mode}: {e}"));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

/// The value after `name` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).map(String::as_str)
}

fn parse_port(s: &str) -> Option<u16> {
    s.parse().ok()
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

// ---------------------------------------------------------------- emulator

async fn run_emulator(port: u16, out: &str) -> Result<(), BoxError> {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_access_token_ttl(Duration::from_secs(2 * 3600))
        .with_port(port)
        .start()
        .await?;
    let cookie = sign_in(&emulator).await?;
    let config = BenchConfig {
        base_url: emulator.base_url().to_owned(),
        api_key: emulator.api_key().to_owned(),
        client_id: emulator.client_id().to_owned(),
        cookie_password: BENCH_COOKIE_PASSWORD.to_owned(),
        cookie,
    };
    // Written whole, then renamed, so a reader never sees half a file.
    let tmp = format!("{out}.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&config)?)?;
    std::fs::rename(&tmp, out)?;
    println!(
        "emulator on {} (client {}); cookie password {BENCH_COOKIE_PASSWORD:?}; \
         session cookie ({} bytes) written to {out}",
        config.base_url,
        config.client_id,
        config.cookie.len()
    );
    shutdown_signal().await;
    emulator.stop().await;
    Ok(())
}

/// Signs the demo user in by password and seals the session cookie.
async fn sign_in(emulator: &Emulator) -> Result<String, BoxError> {
    let auth = emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "demo@example.com".into(),
            password: DEMO_PASSWORD.into(),
            ..Default::default()
        })
        .await?;
    Ok(auth.seal_session(&Passwords::single(BENCH_COOKIE_PASSWORD)?)?)
}

// ---------------------------------------------------------------- app

async fn ping_none() -> Json<Value> {
    Json(json!({"ok": true, "user": NONE_USER}))
}

async fn ping_authkit(user: AuthUser) -> Json<Value> {
    Json(json!({"ok": true, "user": user.user.id}))
}

fn authkit_router(authkit: &AuthKit) -> Router {
    Router::new()
        .route("/api/ping", get(ping_authkit))
        .layer(authkit.layer())
}

/// The AuthKit settings both the app and the storm use.
fn bench_authkit(client: UserManagement, port: u16, password: &str) -> AuthKitBuilder {
    AuthKit::builder()
        .with_client(client)
        .with_cookie_password(password.to_owned())
        .with_redirect_uri(format!("http://127.0.0.1:{port}/auth/callback"))
        // Unauthenticated /api requests answer 401, never a redirect, so the
        // load generator counts them as failures.
        .with_api_prefix("/api")
}

async fn run_app(port: u16, config: Option<&str>) -> Result<(), BoxError> {
    let (app, what) = match config {
        None => (Router::new().route("/api/ping", get(ping_none)), "none"),
        Some(path) => {
            let config: BenchConfig = serde_json::from_slice(&std::fs::read(path)?)?;
            let client = UserManagement::builder(config.api_key, config.client_id)
                .with_base_url(config.base_url)
                .build()?;
            let authkit = bench_authkit(client, port, &config.cookie_password).build()?;
            (authkit_router(&authkit), "authkit")
        }
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "bench app ({what}) on http://127.0.0.1:{port}/api/ping, {} worker threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- storm

async fn run_storm(requests: usize) -> Result<(), BoxError> {
    let ttl = Duration::from_secs(300);
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_access_token_ttl(ttl)
        .start()
        .await?;
    let cookie = sign_in(&emulator).await?;
    let user_id = emulator
        .user_by_email("demo@example.com")
        .ok_or("the demo user is missing")?
        .id;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let port = listener.local_addr()?.port();
    let authkit = bench_authkit(emulator.client(), port, BENCH_COOKIE_PASSWORD)
        .with_clock(emulator.session_clock())
        .build()?;
    let server = tokio::spawn(axum::serve(listener, authkit_router(&authkit)).into_future());

    // The access token is now expired for both the emulator and the layer.
    emulator.clock().advance(ttl + Duration::from_secs(60));
    let refreshes_before = emulator.grant_count("refresh_token");

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(requests)
        .build()?;
    let url = format!("http://127.0.0.1:{port}/api/ping");
    let header = format!("{COOKIE_NAME}={cookie}");
    let start_line = Arc::new(tokio::sync::Barrier::new(requests));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..requests {
        let (http, url, header, start_line) = (
            http.clone(),
            url.clone(),
            header.clone(),
            start_line.clone(),
        );
        tasks.spawn(async move {
            start_line.wait().await;
            let response = http
                .get(&url)
                .header(reqwest::header::COOKIE, header)
                .send()
                .await?;
            let status = response.status().as_u16();
            let new_cookie = response
                .headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with(&format!("{COOKIE_NAME}=")))
                .map(|v| v.split(';').next().unwrap_or_default().to_owned());
            let body: Value = response.json().await.unwrap_or(Value::Null);
            Ok::<_, reqwest::Error>((status, body, new_cookie))
        });
    }
    let (mut ok, mut errors, mut rotated) = (0usize, 0usize, 0usize);
    let mut cookies = std::collections::HashSet::new();
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok((status, body, new_cookie))) => {
                *statuses.entry(status.to_string()).or_default() += 1;
                if status == 200 && body["user"] == user_id.as_str() {
                    ok += 1;
                } else {
                    errors += 1;
                }
                if let Some(c) = new_cookie {
                    rotated += 1;
                    cookies.insert(c);
                }
            }
            Ok(Err(e)) => {
                *statuses.entry(format!("error: {e}")).or_default() += 1;
                errors += 1;
            }
            Err(e) => {
                *statuses.entry(format!("panic: {e}")).or_default() += 1;
                errors += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    let report = json!({
        "requests": requests,
        "ok": ok,
        "errors": errors,
        "upstream_refresh_calls": emulator.grant_count("refresh_token") - refreshes_before,
        "rotated_cookies": rotated,
        "distinct_new_cookies": cookies.len(),
        "statuses": statuses,
        "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
    });
    println!("{report}");
    server.abort();
    emulator.stop().await;
    if errors > 0 {
        return Err(format!("{errors} of {requests} storm requests failed").into());
    }
    Ok(())
}
