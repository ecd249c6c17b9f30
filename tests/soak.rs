//! A bounded soak: many requests from a pool of concurrent clients against
//! one app and the embedded emulator, mixing valid, expired, tampered,
//! foreign and missing cookies while the clock moves (so sessions refresh)
//! and WorkOS briefly fails refreshes (500s, 429s).
//!
//! Asserted: no 5xx but the documented 503 (WorkOS unavailable, for an
//! expired session, while a fault is active), no sign-out of a valid
//! session, every forged cookie refused, no panic, no failed request, and
//! resident memory bounded (the session cookie cache keeps at most 2048
//! entries and the token cache at most 10 000).
//!
//! Run by `.ci/run`:
//! `SOAK_REQUESTS=50000 cargo test --test soak -- --ignored --nocapture`.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use authkit_axum::client::AuthenticateWithPassword;
use authkit_axum::emulator::EmulatorExt;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, Fault, Seed};
use authkit_axum::seal::{self, Passwords, SealOptions};
use authkit_axum::session::{
    DEFAULT_SESSION_CACHE_CAPACITY, DEFAULT_TOKEN_CACHE_CAPACITY, SessionData,
};
use authkit_axum::{AuthKit, AuthUser};
use axum::routing::get;
use axum::{Json, Router};
use reqwest::header::{ACCEPT, COOKIE, RETRY_AFTER, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

const COOKIE_PASSWORD: &str = "soak-test-cookie-password-at-least-32-chars";
const OTHER_PASSWORD: &str = "someone-elses-cookie-password-32-chars-min";
/// Requests when `SOAK_REQUESTS` is not set.
const DEFAULT_REQUESTS: u64 = 3_000;
/// Concurrent clients.
const CLIENTS: usize = 32;
/// Signed-in sessions, shared out among the clients. Few enough that the
/// emulator's own memory stays small: it keeps every refresh token it
/// issued, with its answer for replays (about 6 KiB per refresh, measured),
/// and it shares this process. The session cookie cache is filled beyond
/// its bound by fresh seals of these sessions instead.
const SESSIONS: usize = 32;
/// How many times the clock jumps past the access tokens' lifetime.
const EXPIRIES: u64 = 50;
/// The fixed margin allowed over the starting resident memory.
const RSS_MARGIN: u64 = 64 << 20;
/// Allowed growth from the midway sample to the end: the caches are full
/// by then, so only the emulator's own records (a few KiB per refresh it
/// answers, kept for replays) should still grow.
const RSS_SECOND_HALF_MARGIN: u64 = 24 << 20;
/// How long after a fault burst was used up a 503 may still be reported
/// (the request that got the fault finishes a little later).
const FAULT_GRACE: Duration = Duration::from_secs(1);

static PANICS: AtomicUsize = AtomicUsize::new(0);

async fn home(user: Option<AuthUser>) -> Json<Value> {
    Json(json!({"exp": user.map(|u| u.claims.exp)}))
}

/// Resident memory of this process, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
}

/// A cheap deterministic mix of a request number (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The client's current session cookie, on a protected API route.
    Session,
    /// A fresh seal of the same session (a distinct cookie: fills the
    /// session cookie cache).
    Resealed,
    /// The session cookie on a public page.
    SessionPublic,
    /// The session cookie with one character changed.
    Tampered,
    /// A session sealed with another password.
    Foreign,
    /// Not a seal, or a malformed one.
    Garbage,
    /// No cookie, protected route.
    NoCookie,
    /// No cookie, public page.
    NoCookiePublic,
}

impl Kind {
    fn pick(roll: u64) -> Kind {
        match roll % 100 {
            0..45 => Kind::Session,
            45..60 => Kind::Resealed,
            60..65 => Kind::SessionPublic,
            65..75 => Kind::Tampered,
            75..80 => Kind::Foreign,
            80..85 => Kind::Garbage,
            85..95 => Kind::NoCookie,
            _ => Kind::NoCookiePublic,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Kind::SessionPublic | Kind::NoCookiePublic => "/",
            _ => "/account",
        }
    }

    /// Whether the request carries the client's own valid session.
    fn is_session(self) -> bool {
        matches!(self, Kind::Session | Kind::Resealed | Kind::SessionPublic)
    }
}

/// One session held by a client: its latest cookie and its token's expiry.
struct Held {
    cookie: String,
    exp: i64,
}

/// A period during which refreshes may fail: from the injection of a burst
/// until it was used up.
struct FaultWindow {
    start: Instant,
    end: Option<Instant>,
}

struct Soak {
    base: String,
    http: reqwest::Client,
    authkit: AuthKit,
    emulator: Emulator,
    total: u64,
    advance_every: u64,
    next: AtomicU64,
    windows: Mutex<Vec<FaultWindow>>,
    mid_rss: AtomicU64,
    faults_injected: AtomicU64,
    foreign: Vec<String>,
    done: AtomicBool,
    /// Held (shared) by every request in flight, and exclusively by a
    /// clock jump: time jumps between requests, never during one (a jump of
    /// five minutes in the middle of a refresh would make WorkOS's fresh
    /// token look expired to the app, which no real clock does).
    time: tokio::sync::RwLock<()>,
}

#[derive(Default)]
struct Tally {
    statuses: BTreeMap<(Kind, u16), u64>,
    documented_503: u64,
    retry_after_503: u64,
    refreshed: u64,
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, what: String) {
        if self.failures.len() < 20 {
            self.failures.push(what);
        }
    }

    fn merge(&mut self, other: Tally) {
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.documented_503 += other.documented_503;
        self.retry_after_503 += other.retry_after_503;
        self.refreshed += other.refreshed;
        for f in other.failures {
            self.fail(f);
        }
    }
}

impl Soak {
    fn now_secs(&self) -> i64 {
        self.emulator
            .clock()
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    /// Moves the clock past every access token's lifetime; every third time
    /// also makes WorkOS fail the next refreshes for a moment.
    async fn expire_everything(&self, n: u64) {
        let _exclusive = self.time.write().await;
        self.emulator
            .clock()
            .advance(Duration::from_secs(5 * 60 + 10));
        let (burst, times) = match n % 6 {
            1 => (Fault::status(500), 12),
            4 => (
                Fault::status(429).with_retry_after(Duration::from_secs(2)),
                6,
            ),
            _ => return,
        };
        let burst = burst.times(times);
        self.faults_injected
            .fetch_add(u64::from(times), Ordering::Relaxed);
        self.windows.lock().unwrap().push(FaultWindow {
            start: Instant::now(),
            end: None,
        });
        self.emulator.faults().inject(
            "/user_management/authenticate",
            burst.for_grant("refresh_token"),
        );
    }

    /// Whether `[t0, t1]` overlaps a fault window.
    fn during_faults(&self, t0: Instant, t1: Instant) -> bool {
        self.windows
            .lock()
            .unwrap()
            .iter()
            .any(|w| w.start <= t1 && w.end.is_none_or(|end| t0 <= end + FAULT_GRACE))
    }

    /// Closes fault windows once their burst is used up.
    async fn watch_faults(self: Arc<Self>) {
        while !self.done.load(Ordering::Relaxed) {
            if self.emulator.faults().pending() == 0 {
                let now = Instant::now();
                for w in self.windows.lock().unwrap().iter_mut() {
                    w.end.get_or_insert(now);
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn client(self: Arc<Self>, mut held: Vec<Held>) -> Tally {
        let mut tally = Tally::default();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.total {
                break;
            }
            if i > 0 && i.is_multiple_of(self.advance_every) {
                self.expire_everything(i / self.advance_every).await;
            }
            if i == self.total / 2 {
                self.mid_rss.store(rss(), Ordering::Relaxed);
            }
            let roll = mix(i);
            let kind = Kind::pick(roll);
            let which = (roll >> 8) as usize % held.len();
            let cookie: Option<String> = match kind {
                Kind::Session | Kind::SessionPublic => Some(held[which].cookie.clone()),
                Kind::Resealed => {
                    let sessions = self.authkit.sessions();
                    let data = sessions.unseal(&held[which].cookie).unwrap();
                    Some(sessions.seal(&data).unwrap())
                }
                Kind::Tampered => Some(tamper(&held[which].cookie, roll >> 16)),
                Kind::Foreign => Some(self.foreign[which % self.foreign.len()].clone()),
                Kind::Garbage => Some(garbage(roll >> 16)),
                Kind::NoCookie | Kind::NoCookiePublic => None,
            };
            let mut request = self
                .http
                .get(format!("{}{}", self.base, kind.path()))
                .header(ACCEPT, "application/json");
            if let Some(cookie) = &cookie {
                request = request.header(COOKIE, format!("wos-session={cookie}"));
            }
            let in_flight = self.time.read().await;
            let t0 = Instant::now();
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) => {
                    tally.fail(format!("#{i} {kind:?}: request failed: {e}"));
                    *tally.statuses.entry((kind, 0)).or_default() += 1;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key(RETRY_AFTER);
            let mut set = None;
            let mut cleared = false;
            for v in response.headers().get_all(SET_COOKIE) {
                let s = v.to_str().unwrap();
                if let Some(rest) = s.strip_prefix("wos-session=") {
                    let value = rest.split(';').next().unwrap();
                    if value.is_empty() || s.contains("Max-Age=0") {
                        cleared = true;
                    } else {
                        set = Some(value.to_owned());
                    }
                }
            }
            let body = response.bytes().await;
            let t1 = Instant::now();
            drop(in_flight);
            *tally.statuses.entry((kind, status)).or_default() += 1;
            let body: Value = match body {
                Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
                Err(e) => {
                    tally.fail(format!("#{i} {kind:?}: body failed: {e}"));
                    continue;
                }
            };

            let expected = match kind {
                Kind::Session | Kind::Resealed => status == 200,
                Kind::SessionPublic | Kind::NoCookiePublic => status == 200,
                Kind::Tampered | Kind::Foreign | Kind::Garbage | Kind::NoCookie => status == 401,
            };
            if status == 503 && kind.is_session() {
                let expired = held[which].exp <= self.now_secs();
                if expired && self.during_faults(t0, t1) {
                    tally.documented_503 += 1;
                    tally.retry_after_503 += u64::from(retry_after);
                } else {
                    tally.fail(format!(
                        "#{i} {kind:?}: 503 (expired: {expired}, faults: {})",
                        self.during_faults(t0, t1)
                    ));
                }
            } else if !expected {
                tally.fail(format!("#{i} {kind:?}: unexpected {status}: {body}"));
            }
            if kind.is_session() {
                if cleared {
                    tally.fail(format!("#{i} {kind:?}: a valid session was signed out"));
                }
                if let Some(new) = set {
                    tally.refreshed += 1;
                    held[which].cookie = new;
                    match body["exp"].as_i64() {
                        Some(exp) => held[which].exp = exp,
                        None => tally.fail(format!("#{i} {kind:?}: refreshed without a user")),
                    }
                }
            } else if set.is_some() {
                tally.fail(format!(
                    "#{i} {kind:?}: a forged or absent cookie got a session"
                ));
            }
        }
        tally
    }
}

/// The cookie with one character of its salts, IV, ciphertext or MAC
/// changed (to another character valid in hex and base64url alike).
fn tamper(cookie: &str, roll: u64) -> String {
    let header = "Fe26.2*".len() + cookie["Fe26.2*".len()..].find('*').unwrap() + 1;
    let body = cookie.len() - "~2".len();
    let positions: Vec<usize> = (header..body)
        .filter(|&p| cookie.as_bytes()[p] != b'*')
        .collect();
    let p = positions[roll as usize % positions.len()];
    let mut bytes = cookie.as_bytes().to_vec();
    bytes[p] = if bytes[p] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

fn garbage(roll: u64) -> String {
    match roll % 6 {
        0 => "garbage".into(),
        1 => "Fe26.2*1*".into(),
        2 => "Fe26.2*1*a*b*c**d*e~2".into(),
        3 => "Fe26.2*999*x*y*z**w*v~2".into(),
        4 => "A".repeat(3000),
        _ => format!("Fe26.2*1*{:064x}*AAAA*AAAA**{:064x}*AAAA~2", roll, !roll),
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: run by .ci/run"]
async fn soak_mixed_traffic_with_refreshes_and_faults() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let total: u64 = std::env::var("SOAK_REQUESTS")
        .ok()
        .map(|v| v.parse().expect("SOAK_REQUESTS is a number"))
        .unwrap_or(DEFAULT_REQUESTS);

    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    // The shared app (its `/account` answers the claims' `exp`), with a
    // public `/` that does too.
    let app = support::app::start_at(
        emulator.clone(),
        None,
        |b| b.with_cookie_password(COOKIE_PASSWORD),
        Router::new().route("/", get(home)),
    )
    .await;
    let (base, authkit) = (app.base.clone(), app.authkit.clone());

    // Sign the sessions in (as the callback would, without the browser).
    let other = Passwords::single(OTHER_PASSWORD).unwrap();
    let mut held = Vec::new();
    let mut foreign = Vec::new();
    for _ in 0..SESSIONS {
        let auth = emulator
            .client()
            .authenticate_with_password(&AuthenticateWithPassword {
                email: "demo@example.com".into(),
                password: DEMO_PASSWORD.into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let data = SessionData::from(&auth);
        let exp = authkit
            .sessions()
            .verify_access_token(auth.access_token.expose())
            .await
            .unwrap()
            .exp;
        if foreign.len() < 8 {
            foreign.push(seal::seal(&data, &other, SealOptions::default()).unwrap());
        }
        held.push(Held {
            cookie: authkit.sessions().seal(&data).unwrap(),
            exp,
        });
    }

    let soak = Arc::new(Soak {
        base,
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(CLIENTS * 2)
            .build()
            .unwrap(),
        authkit,
        advance_every: (total / (EXPIRIES + 1)).max(25),
        total,
        next: AtomicU64::new(0),
        windows: Mutex::new(Vec::new()),
        mid_rss: AtomicU64::new(0),
        faults_injected: AtomicU64::new(0),
        foreign,
        done: AtomicBool::new(false),
        time: tokio::sync::RwLock::new(()),
        emulator: emulator.clone(),
    });
    let watcher = tokio::spawn(soak.clone().watch_faults());

    let rss_start = rss();
    let started = Instant::now();
    let mut clients = Vec::new();
    let per_client = SESSIONS / CLIENTS;
    for _ in 0..CLIENTS {
        let mine: Vec<Held> = held.drain(..per_client).collect();
        assert!(!mine.is_empty());
        clients.push(tokio::spawn(soak.clone().client(mine)));
    }
    let mut tally = Tally::default();
    let limit = Duration::from_secs(600);
    for client in clients {
        let t = tokio::time::timeout(limit.saturating_sub(started.elapsed()), client)
            .await
            .expect("the soak finished within 10 minutes")
            .expect("no client task panicked");
        tally.merge(t);
    }
    let elapsed = started.elapsed();
    let rss_end = rss();
    let rss_mid = soak.mid_rss.load(Ordering::Relaxed);
    soak.done.store(true, Ordering::Relaxed);
    watcher.await.unwrap();

    let requests: u64 = tally.statuses.values().sum();
    let refresh_calls = emulator.grant_count("refresh_token");
    println!(
        "soak: {requests} requests from {CLIENTS} clients in {:.2} s: {:.0} requests/s",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    println!(
        "soak: {} clock jumps, {} fault bursts ({} faults injected), {} cookies refreshed, {refresh_calls} refresh calls at WorkOS",
        total / soak.advance_every,
        soak.windows.lock().unwrap().len(),
        soak.faults_injected.load(Ordering::Relaxed),
        tally.refreshed,
    );
    println!(
        "soak: {} documented 503s ({} with Retry-After)",
        tally.documented_503, tally.retry_after_503
    );
    for ((kind, status), n) in &tally.statuses {
        println!("soak:   {kind:?} -> {status}: {n}");
    }
    println!(
        "soak: resident memory start {}, midway {}, end {} (caches: {} cookies, {} tokens)",
        mib(rss_start),
        mib(rss_mid),
        mib(rss_end),
        DEFAULT_SESSION_CACHE_CAPACITY,
        DEFAULT_TOKEN_CACHE_CAPACITY,
    );

    assert_eq!(requests, total, "every request was answered");
    assert!(
        tally.failures.is_empty(),
        "unexpected answers:\n{}",
        tally.failures.join("\n")
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "no panics");
    assert!(
        tally.statuses.keys().all(|(_, s)| *s < 500 || *s == 503),
        "no 5xx but 503"
    );
    assert!(tally.refreshed > 0, "sessions were refreshed");
    assert_eq!(
        tally.retry_after_503, tally.documented_503,
        "every 503 says when to retry"
    );
    // One call per refreshed cookie (each client's sessions are its own,
    // so no two clients share a refresh), plus the calls faults answered.
    let faults_injected = soak.faults_injected.load(Ordering::Relaxed);
    assert!(
        refresh_calls >= tally.refreshed && refresh_calls <= tally.refreshed + faults_injected,
        "{refresh_calls} refresh calls for {} refreshed cookies and {faults_injected} faults",
        tally.refreshed
    );
    assert!(
        rss_end <= rss_start + RSS_MARGIN,
        "resident memory grew from {} to {}",
        mib(rss_start),
        mib(rss_end)
    );
    assert!(rss_mid > 0, "the midway sample was taken");
    assert!(
        rss_end <= rss_mid + RSS_SECOND_HALF_MARGIN,
        "resident memory grew from {} midway to {} at the end",
        mib(rss_mid),
        mib(rss_end)
    );
}
