//! What the crate tells while it works: the `tracing` events of a sign-in,
//! an automatic refresh (shared by concurrent requests), a rejected cookie
//! and a sign-out, with their fields; the layer's span per authentication;
//! and, with the `metrics` feature, the counters and histograms they move.
//!
//! Both the subscriber and the metrics recorder are this thread's only (a
//! current-thread runtime runs the app, the emulator and the refresh task
//! on it), so suites running beside these do not mix into what is counted.

use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar, location};
use crate::support::logs::{Logged, Logs};
use futures_util::future::join_all;
use reqwest::header::{ACCEPT, COOKIE, ORIGIN};

async fn start() -> App {
    app::start_demo(|b| b).await
}

async fn sign_in(app: &App) -> Jar {
    let mut jar = Jar::default();
    let r = app.get(&mut jar, "/account").await;
    assert_eq!(r.status(), 307);
    app.sign_in(jar, &location(&r), EMAIL).await.0
}

/// The session cookie with one character of its ciphertext changed: its
/// MAC no longer matches.
fn tampered(cookie: &str) -> String {
    let mut fields: Vec<String> = cookie.split('*').map(str::to_owned).collect();
    let ciphertext = &mut fields[4];
    let first = if ciphertext.starts_with('A') {
        "B"
    } else {
        "A"
    };
    ciphertext.replace_range(0..1, first);
    fields.join("*")
}

async fn account(app: &App, cookie: &str) -> u16 {
    app.http
        .get(format!("{}/account", app.base))
        .header(COOKIE, format!("wos-session={cookie}"))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Runs the flow every test here checks: a sign-in, a request on the
/// session, expiry and ten concurrent requests (one refresh shared by the
/// others), a tampered cookie, and a sign-out. Returns the user and
/// session ids.
async fn flow(app: &App) -> (String, String) {
    let mut jar = sign_in(app).await;
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(r.status(), 200);
    let me: serde_json::Value = r.json().await.unwrap();
    let cookie = jar.session().cloned().unwrap();

    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let statuses = join_all((0..10).map(|_| account(app, &cookie))).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.emulator.grant_count("refresh_token"), 1);

    assert_eq!(account(app, &tampered(&cookie)).await, 401);

    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, jar.header())
        .header(ORIGIN, &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    (
        me["id"].as_str().unwrap().to_owned(),
        me["sid"].as_str().unwrap().to_owned(),
    )
}

fn only<'a>(logs: &Logs, events: &'a [Logged], what: &str) -> &'a Logged {
    assert_eq!(events.len(), 1, "one {what}: {}", logs.text());
    &events[0]
}

#[tokio::test(flavor = "current_thread")]
async fn sign_in_refresh_rejected_cookie_and_sign_out_are_logged_at_debug_with_their_ids() {
    let logs = Logs::default();
    let _guard = crate::support::logs::capture(logs.subscriber(tracing::Level::DEBUG));
    let app = start().await;
    let (user_id, session_id) = flow(&app).await;

    let signed_in = logs.events("user signed in");
    let signed_in = only(&logs, &signed_in, "sign-in");
    assert_eq!(signed_in.level, tracing::Level::INFO);
    assert_eq!(signed_in.target, "authkit_axum::session_cookies");
    assert_eq!(signed_in.field("user_id"), Some(user_id.as_str()));
    assert_eq!(signed_in.field("authentication_method"), Some("Password"));
    assert!(
        signed_in.field("organization_id").is_some(),
        "{signed_in:?}"
    );

    let refreshed = logs.events("session refreshed");
    assert_eq!(refreshed.len(), 10, "one a request: {}", logs.text());
    for r in &refreshed {
        assert_eq!(r.field("session_id"), Some(session_id.as_str()));
        assert_eq!(r.field("user_id"), Some(user_id.as_str()));
        assert!(r.field("duration").is_some(), "{r:?}");
    }
    let started = refreshed
        .iter()
        .filter(|r| r.field("shared") == Some("false"));
    assert_eq!(started.count(), 1, "one request made the refresh");
    let joined = refreshed
        .iter()
        .filter(|r| r.field("shared") == Some("true"));
    assert_eq!(joined.count(), 9, "the others shared it");
    // One info line per refresh made: the requests that joined it are debug.
    for r in &refreshed {
        let level = if r.field("shared") == Some("false") {
            tracing::Level::INFO
        } else {
            tracing::Level::DEBUG
        };
        assert_eq!(r.level, level, "{r:?}");
    }

    let rejected = logs.events("session cookie rejected");
    let rejected = only(&logs, &rejected, "rejected cookie");
    assert_eq!(rejected.level, tracing::Level::DEBUG);
    assert_eq!(rejected.field("reason"), Some("tampered"));

    let signed_out = logs.events("user signed out");
    let signed_out = only(&logs, &signed_out, "sign-out");
    assert_eq!(signed_out.field("user_id"), Some(user_id.as_str()));
    assert_eq!(signed_out.field("session_id"), Some(session_id.as_str()));

    // The WorkOS calls: the code exchange and the refresh, with a status
    // and WorkOS's request id, and never a query string.
    let calls = logs.events("workos request");
    let grants: Vec<_> = calls
        .iter()
        .filter(|c| c.field("path") == Some("/user_management/authenticate"))
        .collect();
    assert_eq!(grants.len(), 2, "{}", logs.text());
    for c in &grants {
        assert_eq!(c.field("method"), Some("POST"));
        assert_eq!(c.field("status"), Some("200"));
        assert_eq!(c.field("attempt"), Some("1"));
        assert!(c.field("duration").is_some());
        assert!(c.field("request_id").is_some(), "{c:?}");
    }
    assert!(
        calls
            .iter()
            .all(|c| !c.field("path").unwrap().contains('?'))
    );
    let jwks = logs.events("fetched the WorkOS JWKS");
    assert!(!jwks.is_empty(), "{}", logs.text());
    assert!(!logs.events("the WorkOS key set changed").is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn the_layer_opens_a_debug_span_per_authentication_with_its_outcome_and_cache() {
    let logs = Logs::default();
    let _guard = crate::support::logs::capture(logs.subscriber(tracing::Level::DEBUG));
    let app = start().await;
    let mut jar = sign_in(&app).await;
    for _ in 0..2 {
        assert_eq!(app.get_json(&mut jar, "/account").await.status(), 200);
    }
    let cookie = jar.session().cloned().unwrap();
    assert_eq!(account(&app, &tampered(&cookie)).await, 401);
    let r = app
        .http
        .get(format!("{}/account", app.base))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let spans = logs.spans("authenticate");
    let account: Vec<_> = spans
        .iter()
        .filter(|s| s.field("source") == Some("cookie"))
        .collect();
    assert!(account.iter().all(|s| s.level == tracing::Level::DEBUG));
    assert!(
        account
            .iter()
            .all(|s| s.target == "authkit_axum::middleware::service"),
        "{account:?}"
    );
    let signed_in: Vec<_> = account
        .iter()
        .filter(|s| s.field("outcome") == Some("authenticated"))
        .collect();
    assert_eq!(signed_in.len(), 2, "{}", logs.text());
    assert_eq!(signed_in[0].field("cache"), Some("miss"));
    assert_eq!(signed_in[1].field("cache"), Some("hit"));
    for s in &signed_in {
        assert!(s.field("user_id").is_some_and(|u| u.starts_with("user_")));
        assert!(
            s.field("session_id")
                .is_some_and(|u| u.starts_with("session_"))
        );
    }
    let refused = account
        .iter()
        .find(|s| s.field("outcome") == Some("invalid_session_cookie"))
        .unwrap_or_else(|| panic!("no span of the tampered cookie: {}", logs.text()));
    assert_eq!(refused.field("cache"), Some("miss"));
    assert_eq!(refused.field("user_id"), None);
    let bearer = spans
        .iter()
        .find(|s| s.field("source") == Some("bearer"))
        .unwrap_or_else(|| panic!("no span of the Bearer request: {}", logs.text()));
    assert_eq!(bearer.field("outcome"), Some("invalid_bearer_token"));
    // Anonymous requests (the first /account) have a span with no source.
    assert!(
        spans.iter().any(|s| s.field("source").is_none()
            && s.field("outcome") == Some("no_session_cookie_provided"))
    );
}

#[cfg(feature = "metrics")]
mod metrics {
    use super::*;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    /// `(name, labels sorted as "k=v")` → counter value or histogram count.
    fn snapshot(recorder: &DebuggingRecorder) -> Vec<(String, Vec<String>, u64)> {
        recorder
            .snapshotter()
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let key = key.key();
                let mut labels: Vec<String> = key
                    .labels()
                    .map(|l| format!("{}={}", l.key(), l.value()))
                    .collect();
                labels.sort();
                let value = match value {
                    DebugValue::Counter(n) => n,
                    DebugValue::Histogram(v) => v.len() as u64,
                    DebugValue::Gauge(g) => g.into_inner() as u64,
                };
                (key.name().to_owned(), labels, value)
            })
            .collect()
    }

    fn value(metrics: &[(String, Vec<String>, u64)], name: &str, labels: &[&str]) -> u64 {
        metrics
            .iter()
            .filter(|(n, l, _)| n == name && labels.iter().all(|x| l.iter().any(|y| y == x)))
            .map(|(_, _, v)| v)
            .sum()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sign_in_refresh_rejected_cookie_sign_out_and_workos_calls_move_their_metrics() {
        let recorder = DebuggingRecorder::new();
        let _guard = ::metrics::set_default_local_recorder(&recorder);
        authkit_axum::telemetry::describe_metrics();
        let app = start().await;
        flow(&app).await;

        let m = snapshot(&recorder);
        let dump = format!("{m:#?}");
        assert_eq!(value(&m, "authkit_sign_ins_total", &[]), 1, "{dump}");
        assert_eq!(value(&m, "authkit_sign_outs_total", &[]), 1, "{dump}");
        // Ten requests, one refresh made.
        assert_eq!(
            value(&m, "authkit_refreshes_total", &["outcome=ok"]),
            1,
            "{dump}"
        );
        assert_eq!(value(&m, "authkit_refreshes_total", &[]), 1, "{dump}");
        assert_eq!(value(&m, "authkit_refresh_duration_seconds", &[]), 1);
        assert_eq!(
            value(&m, "authkit_rejected_cookies_total", &["reason=tampered"]),
            1,
            "{dump}"
        );
        assert_eq!(value(&m, "authkit_rejected_cookies_total", &[]), 1);
        // The code exchange and the refresh are POSTs; the JWKS a GET.
        let posts = value(
            &m,
            "authkit_workos_requests_total",
            &["method=POST", "status=200"],
        );
        assert_eq!(posts, 2, "{dump}");
        assert!(
            value(
                &m,
                "authkit_workos_requests_total",
                &["method=GET", "status=200"]
            ) >= 1
        );
        let all = value(&m, "authkit_workos_requests_total", &[]);
        assert_eq!(
            value(&m, "authkit_workos_request_duration_seconds", &[]),
            all,
            "a duration for each request"
        );
        // No label holds an id.
        for (name, labels, _) in &m {
            assert!(
                labels
                    .iter()
                    .all(|l| !l.contains("user_") && !l.contains("session_")),
                "{name} {labels:?}"
            );
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_refresh_workos_refuses_counts_as_session_ended() {
        let recorder = DebuggingRecorder::new();
        let _guard = ::metrics::set_default_local_recorder(&recorder);
        let app = start().await;
        let mut jar = sign_in(&app).await;
        app.emulator.clock().advance(Duration::from_secs(6 * 60));
        app.emulator.faults().inject(
            "/user_management/authenticate",
            authkit_axum::emulator::Fault::status(400)
                .with_body(serde_json::json!({"error": "invalid_grant", "error_description": "Session has already ended."}))
                .for_grant("refresh_token"),
        );
        assert_eq!(app.get_json(&mut jar, "/account").await.status(), 401);
        let m = snapshot(&recorder);
        assert_eq!(
            value(&m, "authkit_refreshes_total", &["outcome=session_ended"]),
            1,
            "{m:#?}"
        );
        assert_eq!(
            value(
                &m,
                "authkit_workos_requests_total",
                &["method=POST", "status=400"]
            ),
            1,
            "{m:#?}"
        );
    }
}

/// `examples/metrics.rs`, run as a user would (no environment: the
/// emulator): a sign-in shows on its `/metrics` page in Prometheus's format.
#[tokio::test]
async fn the_metrics_example_serves_a_sign_in_in_prometheus_format() {
    use crate::support::process::{Proc, example, free_port, wait_until_answering};
    use crate::support::remote;
    let port = free_port();
    let mut command = std::process::Command::new(example("metrics"));
    command.env("PORT", port.to_string());
    for (name, _) in std::env::vars() {
        if name.starts_with("WORKOS_") {
            command.env_remove(name);
        }
    }
    let mut proc = Proc::spawn("the metrics example", &mut command);
    let origin = format!("http://localhost:{port}");
    wait_until_answering(&mut proc, &format!("{origin}/"), Duration::from_secs(60)).await;
    let http = app::http_client();
    remote::sign_in(&http, &origin, EMAIL, app::PASSWORD, "x-none").await;
    let page = http
        .get(format!("{origin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("# TYPE authkit_sign_ins_total counter"),
        "{page}"
    );
    assert!(page.contains("\nauthkit_sign_ins_total 1\n"), "{page}");
    assert!(
        page.contains(r#"authkit_workos_requests_total{method="POST",status="200"} 1"#),
        "{page}"
    );
}

/// Each way a session cookie is refused is named, and only named: the
/// event carries the reason and no field holds the cookie.
#[tokio::test(flavor = "current_thread")]
async fn a_refused_cookie_is_logged_with_why_it_was_refused_and_never_its_value() {
    use authkit_axum::seal::{self, Passwords, SealOptions, UnsealOptions};
    use authkit_axum::session::SessionData;
    let logs = Logs::default();
    let _guard = crate::support::logs::capture(logs.subscriber(tracing::Level::DEBUG));
    let app = start().await;
    let jar = sign_in(&app).await;
    let passwords = Passwords::single(app::COOKIE_PASSWORD).unwrap();
    let cookie = jar.session().cloned().unwrap();
    let data: SessionData = seal::unseal(
        &cookie,
        &passwords,
        UnsealOptions::default().with_now(std::time::SystemTime::now()),
    )
    .unwrap();
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    let mut someone_else = data.clone();
    someone_else.user.id = "user_someone_else".into();
    let cases = [
        ("tampered", tampered(&cookie)),
        (
            "unknown_password_id",
            seal::seal(
                &data,
                &Passwords::new([("9", app::COOKIE_PASSWORD)]).unwrap(),
                SealOptions::default(),
            )
            .unwrap(),
        ),
        (
            "expired_seal",
            seal::seal(
                &data,
                &passwords,
                SealOptions::default()
                    .with_ttl(Duration::from_secs(60))
                    .with_now(an_hour_ago),
            )
            .unwrap(),
        ),
        ("malformed", "Fe26.2*1*not-a-seal".to_owned()),
        (
            "user_mismatch",
            seal::seal(&someone_else, &passwords, SealOptions::default()).unwrap(),
        ),
    ];
    for (reason, value) in &cases {
        assert_eq!(account(&app, value).await, 401, "{reason}");
    }
    let reasons: Vec<_> = logs
        .events("session cookie rejected")
        .iter()
        .map(|e| e.field("reason").unwrap_or_default().to_owned())
        .collect();
    let expected: Vec<_> = cases.iter().map(|(r, _)| r.to_string()).collect();
    assert_eq!(reasons, expected, "{}", logs.text());
    for logged in logs.all() {
        for value in logged.fields.values() {
            assert!(!value.contains("Fe26.2"), "a seal in {logged:?}");
        }
    }
}
