//! What a request the caches vouch for costs the heap: the layer's fast path
//! (a session cookie or a Bearer token seen before, valid, not due for a
//! refresh) must not box its future, copy the cookie or allocate per header
//! it reads.
//!
//! Counted by this binary's allocator, on the test's thread only, around
//! requests served in process (tower's `oneshot` on a router whose state is
//! fixed, as `axum::serve` fixes it): a count, deterministic, not a timing.
//! The baseline is the same router under a layer that only adds an
//! `Extension` (what axum charges any layer with state), so the figure is
//! the layer's own.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use authkit_axum::emulator::EmulatorExt;
use authkit_axum::seal::Passwords;
use authkit_axum::{AuthClaims, AuthKit, AuthUser};
use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use http::Request;
use tower::ServiceExt;

use support::emulator::{COOKIE_PASSWORD, SOLO, SOLO_PASSWORD};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: never a panic while the thread's locals are torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is passed to the system allocator unchanged; only a
// thread-local counter (no allocation of its own) is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations a request to `app` costs, the request's own construction
/// excluded (the median of several, all equal in practice).
fn per_request(
    runtime: &tokio::runtime::Runtime,
    app: &Router,
    request: impl Fn() -> Request<Body>,
) -> u64 {
    let mut counts: Vec<u64> = (0..9)
        .map(|_| {
            let request = request();
            let app = app.clone();
            let before = ALLOCATIONS.with(Cell::get);
            let response = runtime.block_on(app.oneshot(request)).unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            drop(response);
            ALLOCATIONS.with(Cell::get) - before
        })
        .collect();
    counts.sort_unstable();
    counts[counts.len() / 2]
}

fn get_with(path: &str, name: http::HeaderName, value: &str) -> Request<Body> {
    Request::get(path)
        .header(http::header::HOST, "localhost:3000")
        .header(name, value)
        .body(Body::empty())
        .unwrap()
}

#[test]
fn a_cookie_or_token_the_caches_vouch_for_allocates_nothing_beyond_any_layer() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_emulator, authkit, cookie, token) = runtime.block_on(async {
        let emulator = support::emulator::start().await;
        let auth = support::emulator::sign_in(&emulator.client(), SOLO, SOLO_PASSWORD)
            .await
            .unwrap();
        let cookie = auth
            .seal_session(&Passwords::single(COOKIE_PASSWORD).unwrap())
            .unwrap();
        let token = auth.access_token.expose().to_owned();
        let authkit: AuthKit = support::app::builder(&emulator, "http://localhost:3000")
            .with_cookie_password(COOKIE_PASSWORD)
            .build()
            .unwrap();
        (emulator, authkit, cookie, token)
    });
    let cookie = format!("wos-session={cookie}");
    let bearer = format!("Bearer {token}");
    // Each handler allocates its answer once, as the baseline's does.
    let app = Router::new()
        .route(
            "/me",
            get(|user: AuthUser| async move { user.user.id.clone() }),
        )
        .route(
            "/claims",
            get(|claims: AuthClaims| async move { claims.user_id().to_owned() }),
        )
        .layer(authkit.layer())
        .with_state(());
    let baseline = Router::new()
        .route("/me", get(|| async { String::from("user_01") }))
        .layer(Extension(Arc::new(0_u64)))
        .with_state(());

    let cookie_request = || get_with("/me", http::header::COOKIE, &cookie);
    let bearer_request = || get_with("/claims", http::header::AUTHORIZATION, &bearer);
    // The first of each fills the caches (and fetches the keys).
    per_request(&runtime, &app, cookie_request);
    per_request(&runtime, &app, bearer_request);

    let base = per_request(&runtime, &baseline, cookie_request);
    let by_cookie = per_request(&runtime, &app, cookie_request);
    let by_token = per_request(&runtime, &app, bearer_request);
    println!("allocations a request: baseline {base}, cookie {by_cookie}, Bearer {by_token}");
    // The `AuthState` in the extensions is the one value the baseline's
    // `Extension` is: nothing else may be allocated for a cached cookie.
    assert!(
        by_cookie <= base,
        "a cached cookie: {by_cookie} allocations, the baseline {base}"
    );
    // Nor for a cached Bearer token: its text is shared with the cache, into
    // the request's state and from there into `AuthClaims`, not copied.
    assert!(
        by_token <= base,
        "a cached Bearer token: {by_token} allocations, the baseline {base}"
    );
}
