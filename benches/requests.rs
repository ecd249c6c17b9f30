//! One request at a time through in-process routers, for instruction counts:
//! the layer's own cost is what `callgrind` counts in `run` for a part minus
//! the `ceiling`'s.
//!
//! ```text
//! cargo bench --bench requests                       # ns a request, each part
//! REQUESTS_PART=cookie REQUESTS_ITERS=4000 valgrind --tool=callgrind \
//!   --collect-atstart=no --toggle-collect='requests::run' target/release/deps/requests-<hash>
//! ```
//!
//! Parts: `ceiling` (no layer), `extension` (one `Extension` layer: what axum
//! charges any layer with state), `cookie` (the layer, one cached session
//! cookie), `bearer` (the layer, one cached Bearer token), `uncached` (the
//! layer with its caches off: every request unsealed and verified). Every
//! router's state is fixed (`with_state`), as `axum::serve` fixes it.
//! Valgrind's CPU has no SHA or AVX-512 extensions, so crypto counts high
//! there; compare the parts' non-crypto work, and time with `bench/load.sh`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use authkit_axum::emulator::EmulatorExt;
use authkit_axum::seal::Passwords;
use authkit_axum::{AuthClaims, AuthKit, AuthKitBuilder, AuthUser};
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Json, Router};
use http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;

mod common;

use common::PASSWORD;

async fn ping_none() -> Json<Value> {
    // As long as a WorkOS id, as `examples/bench_server.rs`'s `NONE_USER`.
    Json(json!({"ok": true, "user": "user_01NOAUTH0CEILING0000000000"}))
}

async fn ping_user(user: AuthUser) -> Json<Value> {
    Json(json!({"ok": true, "user": user.user.id}))
}

async fn ping_claims(claims: AuthClaims) -> Json<Value> {
    Json(json!({"ok": true, "user": claims.user_id()}))
}

/// `n` requests to `app`, each built from `header` (name, value).
#[inline(never)]
fn run(runtime: &tokio::runtime::Runtime, app: &Router, header: (&str, &str), n: usize) {
    for _ in 0..n {
        let request = Request::get("/api/ping")
            .header("host", "127.0.0.1:8080")
            .header(header.0, header.1)
            .body(Body::empty())
            .unwrap();
        let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        black_box(response);
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (emulator, cached, uncached, cookie, token) = runtime.block_on(async {
        let (emulator, auth) = common::demo().await;
        let cookie = auth
            .seal_session(&Passwords::single(PASSWORD).unwrap())
            .unwrap();
        let builder = || -> AuthKitBuilder {
            AuthKit::builder()
                .with_client(emulator.client())
                .with_cookie_password(PASSWORD)
                .with_redirect_uri("http://127.0.0.1:8080/auth/callback")
                .with_api_prefix("/api")
        };
        let cached = builder().build().unwrap();
        let uncached = builder()
            .with_session_cache_capacity(0)
            .with_token_cache_capacity(0)
            .build()
            .unwrap();
        let token = auth.access_token.expose().to_owned();
        (emulator, cached, uncached, cookie, token)
    });
    let cookie = format!("wos-session={cookie}");
    let bearer = format!("Bearer {token}");
    let layered = |authkit: &AuthKit, claims: bool| {
        let route = if claims {
            get(ping_claims)
        } else {
            get(ping_user)
        };
        Router::new()
            .route("/api/ping", route)
            .layer(authkit.layer())
            .with_state(())
    };
    let parts: [(&str, Router, (&str, &str)); 5] = [
        (
            "ceiling",
            Router::new()
                .route("/api/ping", get(ping_none))
                .with_state(()),
            ("cookie", &cookie),
        ),
        (
            "extension",
            Router::new()
                .route("/api/ping", get(ping_none))
                .layer(Extension(Arc::new(0_u64)))
                .with_state(()),
            ("cookie", &cookie),
        ),
        ("cookie", layered(&cached, false), ("cookie", &cookie)),
        ("bearer", layered(&cached, true), ("authorization", &bearer)),
        ("uncached", layered(&uncached, false), ("cookie", &cookie)),
    ];
    let only = std::env::var("REQUESTS_PART").ok();
    let iters: usize = std::env::var("REQUESTS_ITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    for (name, app, header) in &parts {
        if only.as_deref().is_some_and(|part| part != *name) {
            continue;
        }
        // Warm: the caches filled, the keys fetched.
        run(&runtime, app, *header, 10);
        let n = if *name == "uncached" {
            iters / 10
        } else {
            iters
        };
        let started = Instant::now();
        run(&runtime, app, *header, n);
        let ns = started.elapsed().as_nanos() as f64 / n as f64;
        println!("{name:>9}: {ns:7.0} ns a request ({n} requests)");
    }
    drop(emulator);
}
