//! The app's hooks over real HTTP against the emulator: the refresh hook
//! (once per refresh made, with its outcome) and the sign-out hook.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar};
use crate::support::emulator::{org, user_id};
use authkit_axum::emulator::{EmulatorExt, Fault};
use authkit_axum::{AuthKitBuilder, RefreshEvent, RefreshFailure, SignOut};
use reqwest::header::{ACCEPT, COOKIE};
use serde_json::Value;

type Log<T> = Arc<Mutex<Vec<T>>>;

async fn start(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    app::start_demo(configure).await
}

/// An app whose refresh hook logs every event.
async fn with_refresh_log() -> (App, Log<RefreshEvent>) {
    let log: Log<RefreshEvent> = Arc::default();
    let hook_log = log.clone();
    let app = start(move |b| {
        b.with_on_refresh(move |event| {
            hook_log.lock().unwrap().push(event.clone());
            async {}
        })
    })
    .await;
    (app, log)
}

async fn signed_in(app: &App) -> Jar {
    app.sign_in(Jar::default(), "/auth/login", EMAIL).await.0
}

async fn account(app: &App, jar: &Jar) -> reqwest::Response {
    app.http
        .get(format!("{}/account", app.base))
        .header(COOKIE, jar.header())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_refresh_hook_runs_once_for_twenty_concurrent_requests_on_an_expiring_session() {
    let (app, log) = with_refresh_log().await;
    let app = Arc::new(app);
    let jar = signed_in(&app).await;
    let sid = account(&app, &jar).await.json::<Value>().await.unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(log.lock().unwrap().is_empty(), "no refresh yet");
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, jar) = (app.clone(), jar.clone());
        tasks.push(tokio::spawn(
            async move { account(&app, &jar).await.status() },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(app.emulator.grant_count("refresh_token"), 1);
    let events = log.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let RefreshEvent::Refreshed {
        user_id: user,
        session_id,
        organization_id,
        ..
    } = &events[0]
    else {
        panic!("{events:?}");
    };
    assert_eq!(user, &user_id(&app.emulator, EMAIL));
    assert_eq!(session_id, &sid);
    assert_eq!(
        organization_id.as_deref(),
        Some(org(&app.emulator, "Demo Organization").as_str())
    );
}

#[tokio::test]
async fn a_session_revoked_at_workos_reaches_the_refresh_hook_as_ended() {
    let (app, log) = with_refresh_log().await;
    let jar = signed_in(&app).await;
    let sid = account(&app, &jar).await.json::<Value>().await.unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    app.emulator.client().revoke_session(&sid).await.unwrap();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    assert_eq!(account(&app, &jar).await.status(), 401);
    let events = log.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    match &events[0] {
        RefreshEvent::Failed {
            user_id: user,
            session_id,
            reason,
            error_code,
            ..
        } => {
            assert_eq!(user, &user_id(&app.emulator, EMAIL));
            assert_eq!(session_id.as_deref(), Some(sid.as_str()));
            assert_eq!(*reason, RefreshFailure::SessionEnded);
            assert!(error_code.is_some(), "WorkOS's code is passed on");
        }
        other => panic!("{other:?}"),
    }
    assert!(!events[0].is_success());
}

#[tokio::test]
async fn an_outage_during_a_refresh_reaches_the_refresh_hook_as_unavailable() {
    let (app, log) = with_refresh_log().await;
    let jar = signed_in(&app).await;
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(500).times(10).for_grant("refresh_token"),
    );
    assert_eq!(account(&app, &jar).await.status(), 503);
    let events = log.lock().unwrap().clone();
    assert_eq!(
        events.len(),
        1,
        "one refresh, however many retries: {events:?}"
    );
    assert!(
        matches!(
            events[0],
            RefreshEvent::Failed {
                reason: RefreshFailure::Unavailable,
                ..
            }
        ),
        "{events:?}"
    );
    assert_eq!(events[0].user_id(), user_id(&app.emulator, EMAIL));
}

#[tokio::test]
async fn an_organization_switch_reaches_the_refresh_hook() {
    let (app, log) = with_refresh_log().await;
    let jar = signed_in(&app).await;
    let demo = org(&app.emulator, "Demo Organization");
    let r = app
        .http
        .post(format!("{}/auth/switch-organization", app.base))
        .header(COOKIE, jar.header())
        .form(&[("organization_id", demo.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let events = log.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(events[0].is_success());
    assert!(matches!(
        &events[0],
        RefreshEvent::Refreshed { organization_id: Some(o), .. } if *o == demo
    ));
}

#[tokio::test]
async fn the_sign_out_hook_gets_the_user_and_the_session_ended() {
    let log: Log<SignOut> = Arc::default();
    let hook_log = log.clone();
    let app = start(move |b| {
        b.with_on_sign_out(move |event| {
            hook_log.lock().unwrap().push(event.clone());
            async {}
        })
    })
    .await;
    let jar = signed_in(&app).await;
    let sid = account(&app, &jar).await.json::<Value>().await.unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Signed out already: the hook runs too, knowing nobody.
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let events = log.lock().unwrap().clone();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].user_id, Some(user_id(&app.emulator, EMAIL)));
    assert_eq!(events[0].session_id.as_deref(), Some(sid.as_str()));
    assert_eq!(events[0].return_to, format!("{}/", app.base));
    assert_eq!(
        (events[1].user_id.as_ref(), events[1].session_id.as_ref()),
        (None, None)
    );
}

#[tokio::test]
async fn the_sign_out_hook_knows_the_user_of_an_expired_session_while_workos_is_down() {
    let log: Log<SignOut> = Arc::default();
    let hook_log = log.clone();
    let app = start(move |b| {
        b.with_on_sign_out(move |event| {
            hook_log.lock().unwrap().push(event.clone());
            async {}
        })
    })
    .await;
    let jar = signed_in(&app).await;
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(500).times(10).for_grant("refresh_token"),
    );
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let events = log.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].user_id, Some(user_id(&app.emulator, EMAIL)));
    assert!(events[0].session_id.is_some());
}

#[tokio::test]
async fn signing_out_an_expired_session_ends_it_without_refreshing_it_first() {
    let (app, log) = with_refresh_log().await;
    let jar = signed_in(&app).await;
    let sid = account(&app, &jar).await.json::<Value>().await.unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    app.emulator.reset_counters();
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app::clears_session(&r));
    assert!(
        app::location(&r).contains(&sid),
        "WorkOS's logout URL names the expired session: {}",
        app::location(&r)
    );
    assert_eq!(app.emulator.grant_count("refresh_token"), 0, "no refresh");
    assert!(log.lock().unwrap().is_empty(), "no refresh event");
}
