//! Three replicas behind a real load balancer: three processes of
//! `examples/replica.rs` (sharing nothing but the cookie password and
//! WorkOS) behind nginx, round-robin, no stickiness. Users sign in through
//! the balancer like browsers (the login and its callback land on whichever
//! replica nginx picks), then a few thousand concurrent requests run while
//! their 5-second access tokens expire again and again.
//!
//! WorkOS is the emulator, in this process; each replica reaches it through
//! its own [`Tap`] (a forwarding front door), so refresh calls are counted
//! per replica and per refresh token.
//!
//! Counted and asserted: no user is ever signed out (every answer is 200
//! with the user's own identity and session, no cookie is cleared), no 5xx
//! (from a replica or from nginx, which never retries on another replica
//! here), and at most one refresh call per expiry per replica (per replica,
//! each refresh token is spent at most once: single flight within a
//! process; across replicas WorkOS's replay window makes them agree).
//!
//! A second test is `bench/load.sh`'s refresh storm through two replicas:
//! one expired session, 200 requests at once, at most one refresh call per
//! replica and none failed.
//!
//! A third test puts nginx in front of one app answering on two origins,
//! plain HTTP and TLS, as a reverse proxy (not a balancer): with the
//! forwarded headers trusted, each origin signs in with its own redirect URI
//! and gets cookies that are `Secure` exactly on the https one.
//!
//! Needs nginx (`apt-get install -y nginx`, or `NGINX=/path/to/nginx`),
//! `openssl` (the third test's throwaway certificate) and the built
//! example, so all are ignored by default. `.ci/run` does:
//!
//! ```text
//! cargo build --example replica
//! cargo test --test balancer -- --ignored --nocapture
//! ```
//!
//! `BALANCER_REQUESTS` (default 4000) and `BALANCER_SECONDS` (default 30)
//! size the run.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authkit_axum::emulator::{Emulator, Seed, SeedUser};
use reqwest::header::{ACCEPT, COOKIE};
use serde_json::Value;

use support::app::{Jar, http_client};
use support::deployments::{CookieChange, session_change};
use support::process::{Proc, TempDir, example, find_program, free_port, wait_until_answering};
use support::remote;
use support::tap::{RefreshCall, Tap};

const REPLICAS: [&str; 3] = ["a", "b", "c"];
const USERS: usize = 20;
/// Each user's browser sends its requests in bursts of this many at once
/// (a page firing its API calls), all with the same cookie: spread over
/// three replicas, some replica gets two of them, so when the cookie has
/// expired, one replica sees it twice at the same moment.
const BURST: usize = 4;
const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(5);
const COOKIE_PASSWORD: &str = "balancer-test-cookie-password-shared-by-all-replicas";
const REPLICA_HEADER: &str = "x-replica";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}: expected a number, got {v:?}"))
        })
        .unwrap_or(default)
}

fn email(user: usize) -> String {
    format!("user{user:02}@example.com")
}

fn password(user: usize) -> String {
    format!("password-of-user-{user:02}")
}

/// nginx, or a panic saying how to get it.
fn nginx() -> std::path::PathBuf {
    let configured = std::env::var("NGINX").ok();
    let candidates: Vec<&str> = match &configured {
        Some(path) => vec![path.as_str()],
        None => vec!["nginx", "/usr/sbin/nginx"],
    };
    find_program(&candidates).unwrap_or_else(|| {
        panic!(
            "nginx not found ({}): this test puts the replicas behind a real nginx; \
             install it with `apt-get install -y nginx` or set NGINX=/path/to/nginx",
            candidates.join(", ")
        )
    })
}

/// nginx's configuration: round-robin over the replicas (nginx's default,
/// no stickiness of any kind), keep-alive connections to them as in
/// production, and no retry on another replica (`proxy_next_upstream off`),
/// so a replica's failure reaches the client instead of being hidden.
fn nginx_conf(dir: &std::path::Path, listen: u16, replicas: &[u16]) -> String {
    let d = dir.display();
    let servers: String = replicas
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p};\n"))
        .collect();
    format!(
        "daemon off;\n\
         worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log stderr warn;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n\
         access_log off;\n\
         client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n\
         upstream replicas {{\n{servers}    keepalive 32;\n  }}\n\
         server {{\n\
         listen 127.0.0.1:{listen};\n\
         location / {{\n\
         proxy_pass http://replicas;\n\
         proxy_http_version 1.1;\n\
         proxy_set_header Connection \"\";\n\
         proxy_set_header Host $http_host;\n\
         proxy_next_upstream off;\n\
         proxy_read_timeout 30s;\n\
         }}\n\
         }}\n\
         }}\n"
    )
}

/// What the load saw, over all users.
#[derive(Default, Debug)]
struct Tally {
    requests: u64,
    ok: u64,
    /// 200s that carried a new session cookie (a refresh happened for them).
    refreshed: u64,
    /// Of those, the ones that shared a refresh with another request of the
    /// same burst on the same replica (the same new cookie): single flight.
    shared_in_flight: u64,
    by_replica: BTreeMap<String, u64>,
    five_xx: u64,
    /// 401, or a cleared session cookie.
    signed_out: u64,
    /// 200 with someone else's identity or session.
    wrong_identity: u64,
    other: u64,
    /// The first few failures, for the log.
    failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, what: String) {
        if self.failures.len() < 20 {
            self.failures.push(what);
        }
    }
}

struct User {
    email: String,
    session_id: String,
    jar: Mutex<Jar>,
}

/// One request of the load: `GET /api/me` through the balancer, as the
/// browser of `user` (its jar now), keeping whatever cookie comes back.
/// Returns the replica that answered and the new session cookie, if any.
async fn request(
    http: &reqwest::Client,
    origin: &str,
    user: &User,
    tally: &Mutex<Tally>,
) -> Option<(String, String)> {
    let cookies = user.jar.lock().unwrap().header();
    let sent = Instant::now();
    let result = http
        .get(format!("{origin}/api/me"))
        .header(ACCEPT, "application/json")
        .header(COOKIE, cookies)
        .send()
        .await;
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            let mut t = tally.lock().unwrap();
            t.requests += 1;
            t.other += 1;
            t.fail(format!("{}: transport error {e}", user.email));
            return None;
        }
    };
    let status = r.status();
    let replica = r
        .headers()
        .get(REPLICA_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none (nginx)")
        .to_owned();
    let change = session_change(&r);
    user.jar.lock().unwrap().absorb(&r);
    let body = r.text().await.unwrap_or_default();
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);

    let mut t = tally.lock().unwrap();
    t.requests += 1;
    *t.by_replica.entry(replica.clone()).or_default() += 1;
    let what = || {
        format!(
            "{} on {replica} after {:?}: {status} {change:?} {body}",
            user.email,
            sent.elapsed()
        )
    };
    if status.is_server_error() {
        t.five_xx += 1;
        t.fail(what());
    } else if status == 401 || change == CookieChange::Cleared {
        t.signed_out += 1;
        t.fail(what());
    } else if status != 200 {
        t.other += 1;
        t.fail(what());
    } else if json["email"] != user.email.as_str() || json["session_id"] != user.session_id.as_str()
    {
        t.wrong_identity += 1;
        t.fail(what());
    } else {
        t.ok += 1;
        if let CookieChange::Set(cookie) = change {
            t.refreshed += 1;
            return Some((replica, cookie));
        }
    }
    None
}

/// A burst of [`BURST`] requests at once for `user`.
async fn burst(http: &reqwest::Client, origin: &str, user: &User, tally: &Mutex<Tally>) {
    let answers =
        futures_util::future::join_all((0..BURST).map(|_| request(http, origin, user, tally)))
            .await;
    let refreshed: Vec<_> = answers.into_iter().flatten().collect();
    let distinct: BTreeSet<_> = refreshed.iter().collect();
    tally.lock().unwrap().shared_in_flight += (refreshed.len() - distinct.len()) as u64;
}

/// What the taps saw for one replica.
struct ReplicaRefreshes {
    calls: Vec<RefreshCall>,
    /// Calls per refresh token.
    per_token: BTreeMap<String, usize>,
}

/// Replicas behind nginx: one process of `examples/replica.rs` a name, each
/// reaching `emulator` through its own [`Tap`], refreshing only once the
/// access token has expired, behind nginx's round-robin.
struct Deployment {
    /// One a replica, in the order of the names.
    taps: Vec<Tap>,
    replicas: Vec<Proc>,
    balancer: Proc,
    /// The balancer's origin, the replicas' public origin.
    origin: String,
    /// nginx's configuration and temporary files.
    dir: TempDir,
}

async fn replicas_behind_nginx(
    emulator: &Emulator,
    names: &[&str],
    nginx: &std::path::Path,
    replica_binary: &std::path::Path,
) -> Deployment {
    let mut taps = Vec::new();
    for _ in names {
        taps.push(Tap::start(emulator.base_url()).await);
    }

    // The replicas: the balancer's address as their public origin,
    // refreshing only once the access token has expired.
    let listen = free_port();
    let origin = format!("http://127.0.0.1:{listen}");
    let mut replicas = Vec::new();
    let mut ports = Vec::new();
    for (name, tap) in names.iter().zip(&taps) {
        let port = free_port();
        let mut command = Command::new(replica_binary);
        for (var, _) in std::env::vars_os() {
            if var.to_string_lossy().starts_with("WORKOS_") {
                command.env_remove(var);
            }
        }
        command
            .env("WORKOS_API_KEY", emulator.api_key())
            .env("WORKOS_CLIENT_ID", emulator.client_id())
            .env("WORKOS_API_HOSTNAME", "127.0.0.1")
            .env("WORKOS_API_PORT", tap.port.to_string())
            .env("WORKOS_API_HTTPS", "false")
            .env("WORKOS_COOKIE_PASSWORD", COOKIE_PASSWORD)
            .env("WORKOS_REDIRECT_URI", format!("{origin}/auth/callback"))
            .env("PORT", port.to_string())
            .env("REPLICA_NAME", name)
            .env("REFRESH_BUFFER_SECS", "0")
            .env("RUST_LOG", "warn");
        replicas.push(Proc::spawn(format!("replica {name}"), &mut command));
        ports.push(port);
    }
    for (proc, port) in replicas.iter_mut().zip(&ports) {
        wait_until_answering(proc, &format!("http://127.0.0.1:{port}/"), WAIT).await;
    }

    // The balancer.
    let dir = TempDir::new("authkit-balancer-test");
    let conf = dir.path().join("nginx.conf");
    std::fs::write(&conf, nginx_conf(dir.path(), listen, &ports)).unwrap();
    let mut balancer = Proc::spawn(
        "nginx",
        Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            // Errors to stderr from the start (not to the compiled-in
            // /var/log/nginx/error.log), so a failing test shows them.
            .args(["-e", "stderr"]),
    );
    wait_until_answering(&mut balancer, &format!("{origin}/"), WAIT).await;
    Deployment {
        taps,
        replicas,
        balancer,
        origin,
        dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs nginx and `cargo build --example replica`: see .ci/run"]
async fn three_replicas_behind_nginx_keep_every_user_signed_in_through_expiries() {
    let total_requests = env_or("BALANCER_REQUESTS", 4000) as usize;
    let run = Duration::from_secs(env_or("BALANCER_SECONDS", 30));
    let nginx = nginx();
    let replica_binary = example("replica");
    let started = Instant::now();

    // WorkOS: the emulator, with USERS users and short access tokens, and a
    // tap per replica in front of it.
    let seed = Seed {
        users: (0..USERS)
            .map(|u| SeedUser::new(email(u), password(u)))
            .collect(),
        ..Seed::default()
    };
    let emulator: Emulator = Emulator::builder()
        .with_seed(seed)
        .with_access_token_ttl(ACCESS_TOKEN_TTL)
        .start()
        .await
        .unwrap();
    let Deployment {
        taps,
        mut replicas,
        mut balancer,
        origin,
        dir: _dir,
    } = replicas_behind_nginx(&emulator, &REPLICAS, &nginx, &replica_binary).await;
    let startup = started.elapsed();

    let http = http_client();
    // Round-robin: consecutive requests visit every replica.
    let mut seen = BTreeSet::new();
    for _ in 0..6 {
        let r = http.get(format!("{origin}/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        seen.insert(r.headers()[REPLICA_HEADER].to_str().unwrap().to_owned());
    }
    assert_eq!(seen.len(), 3, "nginx spreads requests over the replicas");
    // The route is protected: 401 without a session.
    let r = http.get(format!("{origin}/api/me")).send().await.unwrap();
    assert_eq!(r.status(), 401, "/api/me without a session");

    // Sign every user in through the balancer, like a browser.
    let mut users = Vec::new();
    let mut crossed = 0;
    for u in 0..USERS {
        let signed = remote::sign_in(&http, &origin, &email(u), &password(u), REPLICA_HEADER).await;
        crossed += usize::from(signed.login_by != signed.callback_by);
        let r = http
            .get(format!("{origin}/api/me"))
            .header(ACCEPT, "application/json")
            .header(COOKIE, signed.jar.header())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{} right after signing in", email(u));
        let me: Value = r.json().await.unwrap();
        assert_eq!(me["email"], email(u).as_str());
        users.push(Arc::new(User {
            email: email(u),
            session_id: me["session_id"].as_str().unwrap().to_owned(),
            jar: Mutex::new(signed.jar),
        }));
    }
    assert!(
        crossed > 0,
        "some callbacks landed on another replica than their login"
    );
    assert_eq!(
        emulator.grant_count("refresh_token"),
        0,
        "nothing expired yet"
    );

    // The load: bursts from every user, paced so that they spread over
    // `run` (several access-token lifetimes).
    let bursts = total_requests.div_ceil(USERS * BURST);
    let pause = run / bursts as u32;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let load_started = Instant::now();
    let mut tasks = Vec::new();
    for (u, user) in users.iter().enumerate() {
        let (http, origin, user, tally) =
            (http.clone(), origin.clone(), user.clone(), tally.clone());
        // Staggered starts, so that the users do not fire in lockstep.
        let offset = pause * u as u32 / USERS as u32;
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(offset).await;
            let mut next = tokio::time::Instant::now();
            for _ in 0..bursts {
                burst(&http, &origin, &user, &tally).await;
                next += pause;
                tokio::time::sleep_until(next).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let load_time = load_started.elapsed();
    for proc in replicas.iter_mut().chain([&mut balancer]) {
        proc.assert_running();
    }

    // The refresh calls, per replica and per token.
    let per_replica: Vec<ReplicaRefreshes> = taps
        .iter()
        .map(|tap| {
            let calls = tap.refresh_calls();
            let mut per_token = BTreeMap::new();
            for call in &calls {
                *per_token.entry(call.token.clone()).or_default() += 1;
            }
            ReplicaRefreshes { calls, per_token }
        })
        .collect();
    let all_calls: Vec<&RefreshCall> = per_replica.iter().flat_map(|r| &r.calls).collect();
    // Expiries: the refresh tokens spent, per user (each spent token is one
    // access-token lifetime that ended).
    let mut tokens_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut calls_of: BTreeMap<&str, usize> = BTreeMap::new();
    // Per spent token: the replicas that spent it, and the new tokens they got.
    let mut spent_by: BTreeMap<&str, (BTreeSet<usize>, BTreeSet<Option<&str>>)> = BTreeMap::new();
    for (i, r) in per_replica.iter().enumerate() {
        for call in &r.calls {
            let email = call.email.as_deref().unwrap_or("?");
            tokens_of.entry(email).or_default().insert(&call.token);
            *calls_of.entry(email).or_default() += 1;
            let entry = spent_by.entry(&call.token).or_default();
            entry.0.insert(i);
            entry.1.insert(call.new_token.as_deref());
        }
    }
    let expiries: usize = tokens_of.values().map(BTreeSet::len).sum();
    let shared_tokens = spent_by.values().filter(|(r, _)| r.len() > 1).count();
    let replays = all_calls.len() - spent_by.len();
    let failed_refreshes: Vec<&&RefreshCall> =
        all_calls.iter().filter(|c| c.status != 200).collect();
    let max_per_token = per_replica
        .iter()
        .flat_map(|r| r.per_token.values())
        .copied()
        .max()
        .unwrap_or(0);

    let t = tally.lock().unwrap();
    let mut report = String::new();
    let _ = writeln!(
        report,
        "balancer: nginx round-robin over {} replica processes; {USERS} users \
         (bursts of {BURST} requests), access tokens of {ACCESS_TOKEN_TTL:?}",
        REPLICAS.len()
    );
    let _ = writeln!(
        report,
        "  sign-ins: {USERS} through the balancer, {crossed} with the callback on another replica than the login"
    );
    let _ = writeln!(
        report,
        "  requests: {} in {load_time:.1?} ({:.0}/s): {} × 200 ({} with a refreshed cookie, {} of them sharing \
         one refresh with another request of their burst), {} × 5xx, {} sign-outs, {} wrong identity, {} other",
        t.requests,
        t.requests as f64 / load_time.as_secs_f64(),
        t.ok,
        t.refreshed,
        t.shared_in_flight,
        t.five_xx,
        t.signed_out,
        t.wrong_identity,
        t.other
    );
    let _ = writeln!(report, "  requests per replica: {:?}", t.by_replica);
    let _ = writeln!(
        report,
        "  expiries: {expiries} ({:.1} per user, min {}, max {})",
        expiries as f64 / USERS as f64,
        tokens_of.values().map(BTreeSet::len).min().unwrap_or(0),
        tokens_of.values().map(BTreeSet::len).max().unwrap_or(0),
    );
    for (name, r) in REPLICAS.iter().zip(&per_replica) {
        let _ = writeln!(
            report,
            "  replica {name}: {} refresh calls for {} tokens (at most {} per token)",
            r.calls.len(),
            r.per_token.len(),
            r.per_token.values().max().copied().unwrap_or(0)
        );
    }
    let _ = writeln!(
        report,
        "  refresh calls: {} in all (emulator: {}), ≤ {} allowed (3 per expiry); \
         {shared_tokens} tokens refreshed by more than one replica, {replays} replays answered \
         within WorkOS's window, {} failed",
        all_calls.len(),
        emulator.grant_count("refresh_token"),
        3 * expiries,
        failed_refreshes.len()
    );
    let _ = writeln!(
        report,
        "  wall time: {:.1?} (start-up {startup:.1?}, sign-ins {:.1?}, load {load_time:.1?})",
        started.elapsed(),
        load_started - started - startup
    );
    for f in &t.failures {
        let _ = writeln!(report, "  failure: {f}");
    }
    println!("{report}");

    assert_eq!(
        t.requests as usize,
        bursts * USERS * BURST,
        "every request answered"
    );
    assert_eq!(t.five_xx, 0, "no 5xx\n{report}");
    assert_eq!(t.signed_out, 0, "no user signed out\n{report}");
    assert_eq!(
        t.wrong_identity, 0,
        "every answer for its own user\n{report}"
    );
    assert_eq!(t.other, 0, "no other status or transport error\n{report}");
    assert_eq!(t.ok, t.requests);
    for name in REPLICAS {
        let served = t.by_replica.get(name).copied().unwrap_or(0);
        assert!(
            served * 4 >= t.requests,
            "round-robin: replica {name} served {served} of {}",
            t.requests
        );
    }
    // The refreshes: every one succeeded, the taps saw all the emulator saw.
    assert!(failed_refreshes.is_empty(), "{failed_refreshes:?}");
    assert_eq!(
        all_calls.len() as u64,
        emulator.grant_count("refresh_token"),
        "every refresh went through a replica's tap"
    );
    // Tokens did expire mid-run, for every user, several times.
    let min_expiries = (run.as_secs() / ACCESS_TOKEN_TTL.as_secs() / 2) as usize;
    for u in 0..USERS {
        let e = tokens_of.get(email(u).as_str()).map_or(0, BTreeSet::len);
        assert!(
            e >= min_expiries,
            "{}: {e} expiries, expected at least {min_expiries}",
            email(u)
        );
        let calls = calls_of.get(email(u).as_str()).copied().unwrap_or(0);
        assert!(
            calls <= REPLICAS.len() * e,
            "{}: {calls} refresh calls for {e} expiries",
            email(u)
        );
    }
    // At most one refresh call per expiry per replica, although replicas did
    // see one expired cookie several times at once.
    assert!(
        t.shared_in_flight > 0,
        "no replica saw an expired cookie twice in a burst\n{report}"
    );
    assert_eq!(
        max_per_token, 1,
        "a replica spent one refresh token more than once\n{report}"
    );
    // Replicas that spent the same token got the same new one.
    for (token, (_, new_tokens)) in &spent_by {
        assert_eq!(
            new_tokens.len(),
            1,
            "{token}: replicas got different new refresh tokens"
        );
    }
}

/// The refresh storm of `bench/load.sh` through a balancer: one user's
/// session, its access token expired, and [`STORM_REQUESTS`] requests with
/// that cookie at the same moment through nginx, spread over two replica
/// processes. Each replica refreshes at most once (single flight within a
/// process), so WorkOS sees at most two refresh calls, and every request
/// answers 200 for its own user and session.
const STORM_REQUESTS: usize = 200;
const STORM_REPLICAS: [&str; 2] = ["a", "b"];
const STORM_TOKEN_TTL: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs nginx and `cargo build --example replica`: see .ci/run"]
async fn a_storm_of_one_expired_session_through_two_replicas_makes_at_most_two_refresh_calls() {
    let nginx = nginx();
    let replica_binary = example("replica");
    let emulator: Emulator = Emulator::builder()
        .with_seed(Seed {
            users: vec![SeedUser::new(email(0), password(0))],
            ..Seed::default()
        })
        .with_access_token_ttl(STORM_TOKEN_TTL)
        .start()
        .await
        .unwrap();
    let Deployment {
        taps,
        mut replicas,
        mut balancer,
        origin,
        dir: _dir,
    } = replicas_behind_nginx(&emulator, &STORM_REPLICAS, &nginx, &replica_binary).await;

    let http = http_client();
    let signed = remote::sign_in(&http, &origin, &email(0), &password(0), REPLICA_HEADER).await;
    let cookie = signed.jar.header();
    let me: Value = http
        .get(format!("{origin}/api/me"))
        .header(ACCEPT, "application/json")
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session_id = me["session_id"].as_str().unwrap().to_owned();
    // The access token expires (the replicas read the real clock).
    tokio::time::sleep(STORM_TOKEN_TTL + Duration::from_millis(1500)).await;
    assert_eq!(emulator.grant_count("refresh_token"), 0, "no refresh yet");

    let start_line = Arc::new(tokio::sync::Barrier::new(STORM_REQUESTS));
    let answers = futures_util::future::join_all((0..STORM_REQUESTS).map(|_| {
        let (http, origin, cookie, start_line) = (
            http.clone(),
            origin.clone(),
            cookie.clone(),
            start_line.clone(),
        );
        async move {
            start_line.wait().await;
            let r = http
                .get(format!("{origin}/api/me"))
                .header(ACCEPT, "application/json")
                .header(COOKIE, cookie)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let replica = r
                .headers()
                .get(REPLICA_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none (nginx)")
                .to_owned();
            let change = session_change(&r);
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, replica, change, body)
        }
    }))
    .await;
    for proc in replicas.iter_mut().chain([&mut balancer]) {
        proc.assert_running();
    }

    let mut by_replica = BTreeMap::<String, usize>::new();
    let mut refreshed = 0;
    for (status, replica, change, body) in &answers {
        *by_replica.entry(replica.clone()).or_default() += 1;
        assert_eq!(*status, 200, "{replica}: {body}");
        assert_ne!(
            *change,
            CookieChange::Cleared,
            "{replica} signed the user out"
        );
        assert_eq!(body["email"], email(0).as_str(), "{replica}: {body}");
        assert_eq!(body["session_id"], session_id.as_str(), "{replica}: {body}");
        refreshed += usize::from(matches!(change, CookieChange::Set(_)));
    }
    let calls: Vec<Vec<RefreshCall>> = taps.iter().map(Tap::refresh_calls).collect();
    let total: usize = calls.iter().map(Vec::len).sum();
    println!(
        "storm: {STORM_REQUESTS} requests through nginx, per replica {by_replica:?}, \
         {refreshed} with a refreshed cookie; refresh calls per replica {:?}",
        calls.iter().map(Vec::len).collect::<Vec<_>>()
    );
    for name in STORM_REPLICAS {
        assert!(
            by_replica.get(name).copied().unwrap_or(0) >= STORM_REQUESTS / 4,
            "round-robin: replica {name} served {by_replica:?}"
        );
    }
    assert_eq!(
        refreshed, STORM_REQUESTS,
        "every answer carries the refreshed session"
    );
    for (name, calls) in STORM_REPLICAS.iter().zip(&calls) {
        assert!(
            calls.len() <= 1,
            "replica {name} refreshed {} times",
            calls.len()
        );
        assert!(
            calls.iter().all(|c| c.status == 200),
            "replica {name}: a refresh failed"
        );
    }
    assert!(
        (1..=STORM_REPLICAS.len()).contains(&total),
        "{total} refresh calls for one expired session on {} replicas",
        STORM_REPLICAS.len()
    );
    assert_eq!(total as u64, emulator.grant_count("refresh_token"));
    let new_tokens: BTreeSet<_> = calls
        .iter()
        .flatten()
        .map(|c| c.new_token.clone())
        .collect();
    assert_eq!(
        new_tokens.len(),
        1,
        "both replicas got the same new refresh token"
    );
}

/// How long a process may take to start answering.
const WAIT: Duration = Duration::from_secs(20);

/// nginx in front of one app on two origins: plain HTTP on
/// `127.0.0.1:<http>` and TLS (a throwaway self-signed certificate) on
/// `localhost:<https>`, each telling the app what the browser asked for, as
/// a deployment would. The upstream `Host` is nginx's default, the app's own
/// address, which is on neither origin.
fn two_origins_conf(dir: &std::path::Path, http: u16, https: u16, app: u16) -> String {
    let d = dir.display();
    let location = format!(
        "location / {{\n\
         proxy_pass http://127.0.0.1:{app};\n\
         proxy_set_header X-Forwarded-Host $host;\n\
         proxy_set_header X-Forwarded-Proto $scheme;\n\
         proxy_set_header X-Forwarded-Port $server_port;\n\
         }}\n"
    );
    format!(
        "daemon off;\n\
         worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log stderr warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         access_log off;\n\
         client_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n\
         uwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n\
         server {{\n\
         listen 127.0.0.1:{http};\n\
         server_name 127.0.0.1;\n\
         {location}\
         }}\n\
         server {{\n\
         listen 127.0.0.1:{https} ssl;\n\
         server_name localhost;\n\
         ssl_certificate {d}/cert.pem;\n\
         ssl_certificate_key {d}/key.pem;\n\
         {location}\
         }}\n\
         }}\n"
    )
}

/// The `redirect_uri` of the authorize URL a login answer redirects to, and
/// whether the flow cookie it sets is `Secure`.
fn login_answer(r: &reqwest::Response) -> (String, bool) {
    assert_eq!(r.status(), 303);
    let authorize = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let redirect_uri = authorize
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    (redirect_uri, set_cookie_is_secure(r, "wos-auth-verifier-"))
}

fn set_cookie_is_secure(r: &reqwest::Response, prefix: &str) -> bool {
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(prefix) && !c.contains("Max-Age=0"))
        .unwrap_or_else(|| panic!("no {prefix} cookie set"));
    cookie.split(';').any(|a| a.trim() == "Secure")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nginx and openssl: see .ci/run"]
async fn two_origins_behind_nginx_each_get_their_own_redirect_uri_and_cookies() {
    use authkit_axum::emulator::DEMO_PASSWORD;
    use authkit_axum::{AuthKit, AuthUser};
    use axum::{Router, routing::get};

    let nginx = nginx();
    let openssl = find_program(&["openssl"]).expect("openssl, to make the proxy's certificate");
    let (http_port, https_port) = (free_port(), free_port());
    let plain = format!("http://127.0.0.1:{http_port}");
    let tls = format!("https://localhost:{https_port}");
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_redirect_uris([format!("{tls}/auth/callback")])
        .start()
        .await
        .unwrap();

    // The app, trusting its proxy, with both origins' redirect URIs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_port = listener.local_addr().unwrap().port();
    let authkit = AuthKit::builder()
        .with_emulator(&emulator)
        .with_cookie_password(COOKIE_PASSWORD)
        .with_redirect_uris([
            format!("{plain}/auth/callback"),
            format!("{tls}/auth/callback"),
        ])
        .with_trust_forwarded_headers(true)
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/api/me",
            get(|user: AuthUser| async move { user.user.email.clone() }),
        )
        .merge(authkit.routes())
        .layer(authkit.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The proxy.
    let dir = TempDir::new("authkit-origins-test");
    let made = Command::new(&openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost"])
        .arg("-keyout")
        .arg(dir.path().join("key.pem"))
        .arg("-out")
        .arg(dir.path().join("cert.pem"))
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        two_origins_conf(dir.path(), http_port, https_port, app_port),
    )
    .unwrap();
    let mut proxy = Proc::spawn(
        "nginx",
        Command::new(&nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .args(["-e", "stderr"]),
    );
    wait_until_answering(&mut proxy, &format!("{plain}/"), WAIT).await;

    // A browser: `localhost` is the proxy's TLS port, whose certificate is
    // the throwaway one.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", ([127, 0, 0, 1], https_port).into())
        .tls_danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for (origin, secure) in [(&plain, false), (&tls, true)] {
        // A client's own X-Forwarded-Host is replaced by nginx's.
        let r = http
            .get(format!("{origin}/auth/login"))
            .header("x-forwarded-host", "evil.example")
            .send()
            .await
            .unwrap();
        let (redirect_uri, flow_secure) = login_answer(&r);
        assert_eq!(redirect_uri, format!("{origin}/auth/callback"));
        assert_eq!(flow_secure, secure, "{origin}: the flow cookie's Secure");

        // The whole sign-in: AuthKit sends the browser back to this origin.
        let signed =
            remote::sign_in(&http, origin, support::app::EMAIL, DEMO_PASSWORD, "x-none").await;
        let me = |jar: &Jar| {
            http.get(format!("{origin}/api/me"))
                .header(ACCEPT, "application/json")
                .header(COOKIE, jar.header())
                .send()
        };
        let r = me(&signed.jar).await.unwrap();
        assert_eq!(r.status(), 200, "{origin}");
        // The layer's refreshed cookie follows the origin too.
        emulator.clock().advance(Duration::from_secs(6 * 60));
        let r = me(&signed.jar).await.unwrap();
        assert_eq!(r.status(), 200, "{origin} after an expiry");
        assert_eq!(
            set_cookie_is_secure(&r, "wos-session"),
            secure,
            "{origin}: the refreshed session cookie's Secure"
        );
    }
    proxy.assert_running();
}
