//! The cost of authentication per request: sealing, unsealing, verifying the
//! access token (first time and cached), a whole session check, and one
//! request through the layer against the same request without it.
//!
//! `cargo bench --bench auth`. The emulator provides a real RS256-signed
//! token and JWKS on 127.0.0.1; nothing leaves the machine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use authkit_axum::emulator::{Emulator, EmulatorExt};
use authkit_axum::seal::{self, Passwords, SealOptions, UnsealOptions};
use authkit_axum::session::{SessionData, SessionManager};
use authkit_axum::{AuthKit, AuthUser};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use tower::ServiceExt;

mod common;

use common::PASSWORD;

/// Counts heap allocations, to report allocations per request next to the
/// timings (an atomic increment per allocation; both variants pay it).
struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Average allocations of `f` over `n` runs.
fn allocations_per_call(
    rt: &tokio::runtime::Runtime,
    n: usize,
    mut f: impl FnMut() -> BoxFuture,
) -> f64 {
    rt.block_on(f()); // warm caches
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..n {
        rt.block_on(f());
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / n as f64
}

type BoxFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

struct Fixture {
    _emulator: Emulator,
    authkit: AuthKit,
    cookie: String,
    data: SessionData,
    passwords: Passwords,
}

async fn fixture() -> Fixture {
    let (emulator, auth) = common::demo().await;
    let passwords = Passwords::single(PASSWORD).unwrap();
    let data = SessionData::from(&auth);
    let cookie = auth.seal_session(&passwords).unwrap();
    let authkit = AuthKit::builder()
        .with_client(emulator.client())
        .with_cookie_password(PASSWORD)
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .build()
        .unwrap();
    Fixture {
        _emulator: emulator,
        authkit,
        cookie,
        data,
        passwords,
    }
}

async fn ping(user: AuthUser) -> String {
    user.user.id.clone()
}

async fn ping_anonymous() -> &'static str {
    "user_anonymous"
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fx = rt.block_on(fixture());
    let token = fx.data.access_token.expose().to_owned();

    c.bench_function("seal session cookie", |b| {
        b.iter(|| seal::seal(black_box(&fx.data), &fx.passwords, SealOptions::default()).unwrap())
    });
    c.bench_function("unseal session cookie", |b| {
        b.iter(|| {
            seal::unseal::<SessionData>(
                black_box(&fx.cookie),
                &fx.passwords,
                UnsealOptions::default(),
            )
            .unwrap()
        })
    });

    let uncached = SessionManager::new(fx.authkit.client().clone(), fx.passwords.clone())
        .with_token_cache_capacity(0);
    c.bench_function("verify access token (RS256, every time)", |b| {
        b.to_async(&rt).iter(|| async {
            uncached
                .verify_access_token(black_box(&token))
                .await
                .unwrap()
        })
    });
    let sessions = fx.authkit.sessions();
    c.bench_function("verify access token (cached)", |b| {
        b.to_async(&rt).iter(|| async {
            sessions
                .verify_access_token(black_box(&token))
                .await
                .unwrap()
        })
    });
    c.bench_function("session authenticate (unseal + verify)", |b| {
        b.to_async(&rt).iter(|| async {
            sessions
                .authenticate(Some(black_box(&fx.cookie)))
                .await
                .unwrap()
        })
    });

    let with_layer = Router::new()
        .route("/api/ping", get(ping))
        .layer(fx.authkit.layer());
    let without_layer = Router::new().route("/api/ping", get(ping_anonymous));
    let cookie_header = format!("wos-session={}", fx.cookie);
    let request = {
        let cookie_header = cookie_header.clone();
        move || {
            Request::get("/api/ping")
                .header("cookie", &cookie_header)
                .body(Body::empty())
                .unwrap()
        }
    };
    let (with, without, req) = (with_layer.clone(), without_layer.clone(), request.clone());
    let with_allocs = allocations_per_call(&rt, 1000, || {
        let (app, req) = (with.clone(), req());
        Box::pin(async move {
            app.oneshot(req).await.unwrap();
        })
    });
    let without_allocs = allocations_per_call(&rt, 1000, || {
        let (app, req) = (without.clone(), request());
        Box::pin(async move {
            app.oneshot(req).await.unwrap();
        })
    });
    println!(
        "allocations per request (including building it): without authkit {without_allocs:.1}, with authkit layer {with_allocs:.1}"
    );
    let mut group = c.benchmark_group("request");
    group.bench_function("without authkit", |b| {
        b.to_async(&rt).iter(|| async {
            let request = Request::get("/api/ping")
                .header("cookie", &cookie_header)
                .body(Body::empty())
                .unwrap();
            let response = without_layer.clone().oneshot(request).await.unwrap();
            assert!(response.status().is_success());
        })
    });
    group.bench_function("with authkit layer", |b| {
        b.to_async(&rt).iter(|| async {
            let request = Request::get("/api/ping")
                .header("cookie", &cookie_header)
                .body(Body::empty())
                .unwrap();
            let response = with_layer.clone().oneshot(request).await.unwrap();
            assert!(response.status().is_success());
        })
    });
    group.finish();
}

criterion_group! {
    name = auth;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(auth);
