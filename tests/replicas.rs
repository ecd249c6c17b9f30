//! Many replicas, no sticky routing: two instances of one app, built
//! separately and served on their own ports, share nothing but the cookie
//! password and WorkOS (the embedded emulator). A cookie from one works on
//! the other, and when both see the same expired cookie at once, both
//! refresh and WorkOS's replay window makes them agree on the new tokens.

use std::sync::Arc;
use std::time::Duration;

use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
use authkit_axum::{AuthKit, AuthUser};
use axum::routing::get;
use axum::{Json, Router};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

const EMAIL: &str = "demo@example.com";
const COOKIE_PASSWORD: &str = "replicas-test-cookie-password-32-chars-min";
/// The app's public origin, as a load balancer in front of the replicas
/// would expose it. Nothing listens there and nothing connects to it: the
/// test routes every request to a replica of its choosing.
const PUBLIC_ORIGIN: &str = "http://127.0.0.1:9";
/// Longer than the emulator's 5-minute access tokens.
const PAST_EXPIRY: Duration = Duration::from_secs(6 * 60);

async fn account(user: AuthUser) -> Json<Value> {
    Json(json!({"email": user.user.email, "sid": user.session_id(), "exp": user.claims.exp}))
}

/// One instance of the app.
struct Replica {
    base: String,
    authkit: AuthKit,
}

async fn replica(emulator: &Emulator) -> Replica {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let authkit = AuthKit::builder()
        .with_client(emulator.client())
        .with_cookie_password(COOKIE_PASSWORD)
        .with_redirect_uri(format!("{PUBLIC_ORIGIN}/auth/callback"))
        .with_clock(emulator.session_clock())
        .build()
        .unwrap();
    let app = Router::new()
        .route("/account", get(account))
        .merge(authkit.routes())
        .layer(authkit.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Replica { base, authkit }
}

struct Cluster {
    emulator: Emulator,
    replicas: [Replica; 2],
    http: reqwest::Client,
}

async fn cluster() -> Cluster {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    let a = replica(&emulator).await;
    let b = replica(&emulator).await;
    Cluster {
        emulator,
        replicas: [a, b],
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
    }
}

/// What a response did to the session cookie.
#[derive(Debug, Clone, PartialEq)]
enum CookieChange {
    Kept,
    Set(String),
    Cleared,
}

fn cookie_change(r: &reqwest::Response, name: &str) -> CookieChange {
    let mut change = CookieChange::Kept;
    for v in r.headers().get_all(SET_COOKIE) {
        let s = v.to_str().unwrap();
        let Some((n, rest)) = s.split_once('=') else {
            continue;
        };
        if n != name {
            continue;
        }
        let value = rest.split(';').next().unwrap();
        change = if value.is_empty() || s.contains("Max-Age=0") {
            CookieChange::Cleared
        } else {
            CookieChange::Set(value.to_owned())
        };
    }
    change
}

fn location(r: &reqwest::Response) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

/// The path and query of an absolute URL on the public origin.
fn path_on_public_origin(url: &str) -> String {
    url.strip_prefix(PUBLIC_ORIGIN)
        .unwrap_or_else(|| panic!("{url} is not on {PUBLIC_ORIGIN}"))
        .to_owned()
}

struct Answer {
    status: StatusCode,
    cookie: CookieChange,
    body: Value,
}

impl Cluster {
    /// `GET /account` as an API call on replica `i`, with this session cookie.
    async fn account(&self, i: usize, cookie: &str) -> Answer {
        let r = self
            .http
            .get(format!("{}/account", self.replicas[i].base))
            .header(COOKIE, format!("wos-session={cookie}"))
            .header(ACCEPT, "application/json")
            .send()
            .await
            .unwrap();
        let status = r.status();
        let cookie = cookie_change(&r, "wos-session");
        let body = r.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            cookie,
            body,
        }
    }

    /// Signs in the way a browser behind a round-robin load balancer would:
    /// the login starts on replica `start`, the callback lands on replica
    /// `finish`. Returns the session cookie.
    async fn sign_in(&self, start: usize, finish: usize) -> String {
        let r = self
            .http
            .get(format!("{}/auth/login", self.replicas[start].base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        // The PKCE flow cookie, sealed with the shared password.
        let flow: Vec<String> = r
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .collect();
        assert!(!flow.is_empty(), "the login route sets a flow cookie");
        let mut url = location(&r);
        assert!(url.starts_with(self.emulator.base_url()), "{url}");
        let authorization_id = loop {
            let r = self.http.get(&url).send().await.unwrap();
            if r.status().is_redirection() {
                let next = location(&r);
                url = if next.starts_with("http") {
                    next
                } else {
                    format!("{}{next}", self.emulator.base_url())
                };
                continue;
            }
            assert_eq!(r.status(), 200, "{url}");
            let html = r.text().await.unwrap();
            let marker = "name=\"authorization_id\" value=\"";
            let start = html.find(marker).expect("hidden authorization id") + marker.len();
            let end = start + html[start..].find('"').unwrap();
            break html[start..end].to_owned();
        };
        let r = self
            .http
            .post(format!("{}/emulator/login", self.emulator.base_url()))
            .form(&[
                ("authorization_id", authorization_id.as_str()),
                ("email", EMAIL),
                ("password", DEMO_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        let callback = path_on_public_origin(&location(&r));
        assert!(callback.starts_with("/auth/callback?"), "{callback}");
        let r = self
            .http
            .get(format!("{}{callback}", self.replicas[finish].base))
            .header(COOKIE, flow.join("; "))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
        match cookie_change(&r, "wos-session") {
            CookieChange::Set(cookie) => cookie,
            other => panic!("the callback did not set the session cookie: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_replicas_refresh_the_same_expired_cookie_at_once_and_agree() {
    let cluster = Arc::new(cluster().await);

    // No sticky routing: the login starts on A and the callback lands on B.
    let cookie = cluster.sign_in(0, 1).await;
    let mut sid = None;
    for i in [0, 1] {
        let a = cluster.account(i, &cookie).await;
        assert_eq!(a.status, 200, "replica {i}: {}", a.body);
        assert_eq!(
            a.cookie,
            CookieChange::Kept,
            "replica {i}: nothing to refresh"
        );
        assert_eq!(a.body["email"], EMAIL);
        let this = a.body["sid"].as_str().unwrap().to_owned();
        assert_eq!(sid.get_or_insert(this.clone()), &this, "the same session");
    }
    let sid = sid.unwrap();
    assert_eq!(cluster.emulator.grant_count("refresh_token"), 0);

    // The access token expires; 50 requests hit each replica at once, all
    // carrying the same expired cookie.
    cluster.emulator.clock().advance(PAST_EXPIRY);
    let mut tasks = Vec::new();
    for n in 0..100 {
        let cluster = cluster.clone();
        let cookie = cookie.clone();
        tasks.push(tokio::spawn(async move {
            let i = n % 2;
            (i, cluster.account(i, &cookie).await)
        }));
    }
    let mut new_cookies: [Vec<String>; 2] = Default::default();
    for t in tasks {
        let (i, a) = t.await.unwrap();
        assert_eq!(a.status, 200, "replica {i}: {}", a.body);
        assert_eq!(a.body["sid"], sid.as_str(), "replica {i}: same session");
        match a.cookie {
            CookieChange::Set(c) => new_cookies[i].push(c),
            other => panic!("replica {i} answered an expired cookie with {other:?}"),
        }
    }
    // Each replica refreshed once (its own single flight) and handed every
    // request the outcome of that one refresh.
    for (i, cookies) in new_cookies.iter_mut().enumerate() {
        assert_eq!(cookies.len(), 50);
        cookies.dedup();
        assert_eq!(cookies.len(), 1, "replica {i} handed out one new cookie");
    }
    let [from_a, from_b] = [new_cookies[0][0].clone(), new_cookies[1][0].clone()];
    // Two calls at most: one per replica, no more. (Each replica has its
    // own single flight, and both did refresh, so exactly two.)
    let refreshes = cluster.emulator.grant_count("refresh_token");
    assert!(refreshes <= 2, "{refreshes} refresh calls");
    assert_eq!(refreshes, 2, "each replica refreshed once");

    // The second refresh was a replay within WorkOS's 30-second window, so
    // both replicas sealed the same new pair (each with its own salts: the
    // cookie strings differ, their contents do not).
    let sessions = cluster.replicas[0].authkit.sessions();
    let old = sessions.unseal(&cookie).unwrap();
    let a = sessions.unseal(&from_a).unwrap();
    let b = cluster.replicas[1]
        .authkit
        .sessions()
        .unseal(&from_b)
        .unwrap();
    assert_eq!(a.refresh_token, b.refresh_token, "same new refresh token");
    assert_eq!(a.access_token, b.access_token, "same new access token");
    assert_ne!(a.refresh_token, old.refresh_token, "the token was rotated");
    assert_ne!(a.access_token, old.access_token);

    // Still signed in, with either new cookie on either replica, and
    // nothing left to refresh.
    for cookie in [&from_a, &from_b] {
        for i in [0, 1] {
            let r = cluster.account(i, cookie).await;
            assert_eq!(r.status, 200, "replica {i}: {}", r.body);
            assert_eq!(r.cookie, CookieChange::Kept);
            assert_eq!(r.body["sid"], sid.as_str());
        }
    }
    assert_eq!(cluster.emulator.grant_count("refresh_token"), 2);

    // The shared new refresh token is a live one: the next expiry refreshes
    // A's cookie on B.
    cluster.emulator.clock().advance(PAST_EXPIRY);
    let r = cluster.account(1, &from_a).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(matches!(r.cookie, CookieChange::Set(_)), "{:?}", r.cookie);
    assert_eq!(cluster.emulator.grant_count("refresh_token"), 3);
}

/// A replay after WorkOS's window. WorkOS answers a replayed refresh token
/// with the same new pair only within 30 seconds of its first use; later it
/// is `invalid_grant`, which AuthKit (like the WorkOS SDKs) takes as "this
/// session is over": the replica that sees the stale cookie clears it and
/// the request is not signed in. That is WorkOS's behaviour, not something
/// a replica can paper over: it cannot tell a stale copy of a cookie from a
/// stolen one. A browser reaches it only by sending a cookie it should
/// already have replaced (a lost response, a second tab restored from an old
/// snapshot, ...), more than 30 seconds after another replica refreshed it.
/// The session itself lives on at WorkOS: the cookie that did get the new
/// pair keeps working everywhere.
#[tokio::test]
async fn a_replay_after_the_window_signs_that_request_out_but_not_the_session() {
    let cluster = cluster().await;
    let cookie = cluster.sign_in(0, 0).await;
    cluster.emulator.clock().advance(PAST_EXPIRY);

    let r = cluster.account(0, &cookie).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let CookieChange::Set(refreshed) = r.cookie else {
        panic!("replica A did not refresh: {:?}", r.cookie)
    };
    assert_eq!(cluster.emulator.grant_count("refresh_token"), 1);

    // More than 30 s (emulator time) later, replica B sees the old cookie.
    cluster.emulator.clock().advance(Duration::from_secs(31));
    let r = cluster.account(1, &cookie).await;
    assert_eq!(r.status, 401, "invalid_grant: not signed in");
    assert_eq!(
        r.cookie,
        CookieChange::Cleared,
        "the dead cookie is cleared"
    );
    assert_eq!(cluster.emulator.grant_count("refresh_token"), 2);

    // The cookie that got the new pair is unaffected, on both replicas.
    for i in [0, 1] {
        let r = cluster.account(i, &refreshed).await;
        assert_eq!(r.status, 200, "replica {i}: {}", r.body);
        assert_eq!(r.cookie, CookieChange::Kept);
    }
    // (Replica A itself would still answer the old cookie for a few seconds
    // of real time: its single flight reuses a finished refresh for 20 s by
    // the wall clock, which the emulator's clock does not move.)
}
