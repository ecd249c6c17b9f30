//! What the session and token caches hold on the heap: bytes a cached
//! session and a cached token cost, counted by this bench's allocator (live
//! bytes: allocated minus freed), not estimated.
//!
//! `cargo bench --bench memory`. The emulator signs `N` (default 2 000,
//! under both caches' default capacities; `MEMORY_SESSIONS` to change)
//! users in once each on 127.0.0.1; their cookies are checked through a
//! `SessionManager` with the default caches, their access tokens as Bearer
//! tokens through another, and the live heap is read before and after.
//! Nothing leaves the machine, and nothing here is timed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use authkit_axum::client::UserManagement;
use authkit_axum::emulator::{EmulatorExt, Seed, SeedUser};
use authkit_axum::seal::Passwords;
use authkit_axum::session::{Authentication, SessionManager};

mod common;

use common::PASSWORD;
const USER_PASSWORD: &str = "memory-bench-password-1";

/// Counts live heap bytes (an atomic add per allocation and free).
struct CountingAllocator;

static LIVE: AtomicIsize = AtomicIsize::new(0);
/// Live allocations (made minus freed).
static BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: delegates to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn blocks() -> isize {
    BLOCKS.load(Ordering::Relaxed)
}

fn email(i: usize) -> String {
    format!("mem{i:05}@bench.example")
}

/// The bytes and allocations `check` leaves live per item once everything
/// it returned is dropped: what the caches keep (each allocation also
/// costs the allocator's own header and rounding, 8–24 bytes with glibc).
async fn kept_per_item<F, Fut>(items: &[String], mut check: F) -> (isize, f64)
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (bytes, allocations) = (live(), blocks());
    for item in items {
        check(item.clone()).await;
    }
    let n = items.len() as isize;
    (
        (live() - bytes) / n,
        (blocks() - allocations) as f64 / n as f64,
    )
}

/// Fetches the manager's JWKS (and makes its caches) before counting.
async fn warm(sessions: &SessionManager, cookie: &str) {
    assert!(matches!(
        sessions.authenticate(Some(cookie)).await,
        Ok(Authentication::Authenticated(_))
    ));
}

/// Caches set on a fresh manager.
type Configure = fn(SessionManager) -> SessionManager;

fn manager(client: &UserManagement, configure: Configure) -> SessionManager {
    configure(SessionManager::new(
        client.clone(),
        Passwords::single(PASSWORD).unwrap(),
    ))
}

fn main() {
    let n: usize = std::env::var("MEMORY_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut seed = Seed::demo();
        for i in 0..n {
            seed = seed.with_user(SeedUser::new(email(i), USER_PASSWORD));
        }
        let emulator = common::emulator(seed).await;
        let client = emulator.client();
        let passwords = Passwords::single(PASSWORD).unwrap();
        let (mut cookies, mut tokens) = (Vec::new(), Vec::new());
        for i in 0..n {
            let auth = common::sign_in(&emulator, &email(i), USER_PASSWORD).await;
            cookies.push(auth.seal_session(&passwords).unwrap());
            tokens.push(auth.access_token.expose().to_owned());
        }
        println!(
            "inline sizes: AuthenticatedSession {} bytes (its User {}), AccessTokenClaims {}",
            std::mem::size_of::<authkit_axum::session::AuthenticatedSession>(),
            std::mem::size_of::<authkit_axum::client::User>(),
            std::mem::size_of::<authkit_axum::session::AccessTokenClaims>(),
        );
        let avg = |v: &[String]| v.iter().map(String::len).sum::<usize>() / v.len();
        println!(
            "{n} sessions: cookie {} bytes, access token {} bytes on average",
            avg(&cookies),
            avg(&tokens)
        );

        let cases: [(&str, Configure); 4] = [
            ("default caches", |s| s),
            ("session cache only", |s| s.with_token_cache_capacity(0)),
            ("token cache only", |s| s.with_session_cache_capacity(0)),
            ("caches off", |s| {
                s.with_session_cache_capacity(0).with_token_cache_capacity(0)
            }),
        ];
        for (name, configure) in cases {
            let sessions = manager(&client, configure);
            warm(&sessions, &cookies[0]).await;
            let (kept, allocations) = kept_per_item(&cookies[1..], |cookie| {
                let sessions = &sessions;
                async move {
                    let answer = sessions.authenticate(Some(&cookie)).await;
                    assert!(matches!(answer, Ok(Authentication::Authenticated(_))));
                }
            })
            .await;
            println!(
                "cookie, {name}: {kept} bytes in {allocations:.1} allocations kept a session"
            );
        }

        // One cached session, as it is (the cache's) and as a fresh clone
        // (every String exactly its length): the difference is slack.
        let sessions = manager(&client, |s| s);
        warm(&sessions, &cookies[0]).await;
        if let Ok(Authentication::Authenticated(session)) =
            sessions.authenticate(Some(&cookies[1])).await
        {
            let before = live();
            let copy = (*session).clone();
            println!(
                "one session's own heap, cloned: {} bytes (the tokens, {} bytes of access token, and the claims shared)",
                live() - before,
                copy.access_token.len()
            );
            drop(copy);
            let before = live();
            let claims = (*session.claims).clone();
            println!("one token's claims' own heap, cloned: {} bytes", live() - before);
            drop(claims);
        }

        for (name, configure) in [
            ("default caches", (|s| s) as Configure),
            ("token cache off", |s| s.with_token_cache_capacity(0)),
        ] {
            let sessions = manager(&client, configure);
            warm(&sessions, &cookies[0]).await;
            sessions.verify_bearer_token(&tokens[0]).await.unwrap();
            let (kept, allocations) = kept_per_item(&tokens[1..], |token| {
                let sessions = &sessions;
                async move {
                    sessions.verify_bearer_token(&token).await.unwrap();
                }
            })
            .await;
            println!(
                "Bearer token, {name}: {kept} bytes in {allocations:.1} allocations kept a token"
            );
        }
        emulator.stop().await;
    });
}
