//! The login and sign-up routes' options over real HTTP against the
//! emulator: passed on to AuthKit when valid, a 400 page when not, and the
//! app's own `state` back in the sign-in hook, never sent to WorkOS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::support::app::{self, App, EMAIL, Jar, location};
use crate::support::emulator::{org, user_id};
use authkit_axum::AuthKitBuilder;
use reqwest::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::Value;

async fn start(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    app::start_demo(configure).await
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn valid_options_reach_authkit_and_the_emulator_honours_them() {
    let app = start(|b| b).await;
    let demo = org(&app.emulator, "Demo Organization");
    let path = format!(
        "/auth/login?organization_id={demo}&login_hint=demo%40example.com&domain_hint=example.com\
         &prompt=login&max_age=0&screen_hint=sign-in&return_to=%2Faccount"
    );
    let mut jar = Jar::default();
    let r = app.get(&mut jar, &path).await;
    assert_eq!(r.status(), 303);
    let authorize = location(&r);
    let q = query(&authorize);
    for (k, v) in [
        ("organization_id", demo.as_str()),
        ("login_hint", EMAIL),
        ("domain_hint", "example.com"),
        ("prompt", "login"),
        ("max_age", "0"),
        ("screen_hint", "sign-in"),
        ("provider", "authkit"),
    ] {
        assert_eq!(q.get(k).map(String::as_str), Some(v), "{k} in {authorize}");
    }
    // The emulator's login page has the hint filled in.
    let page = app.http.get(&authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!("value=\"{EMAIL}\"")), "{html}");
    // And the sign-in lands in that organization.
    let (mut jar, landed) = app.sign_in(Jar::default(), &path, EMAIL).await;
    assert_eq!(landed, "/account");
    let me: Value = app
        .get_json(&mut jar, "/account")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["org"], demo.as_str());
}

#[tokio::test]
async fn sign_up_opens_the_sign_up_screen_with_its_options() {
    let app = start(|b| b).await;
    let mut jar = Jar::default();
    let r = app
        .get(&mut jar, "/auth/signup?login_hint=new%40example.com")
        .await;
    assert_eq!(r.status(), 303);
    let authorize = location(&r);
    assert_eq!(query(&authorize)["screen_hint"], "sign-up");
    let html = app
        .http
        .get(&authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Create account"));
    assert!(html.contains("value=\"new@example.com\""));
    let r = app.get(&mut jar, "/auth/signup?screen_hint=sign-in").await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn bad_options_are_a_400_page_and_never_reach_authkit() {
    let app = start(|b| b).await;
    for bad in [
        "organization_id=acme",
        "organization_id=org_1%27%3E%3Cscript%3E",
        "connection_id=conn_1&provider=GoogleOAuth",
        "provider=facebook",
        "prompt=always",
        "max_age=-5",
        "max_age=ten",
        "invitation_token=a%20b",
        "screen_hint=welcome",
        "login_hint=a%0d%0aSet-Cookie:%20x=1",
        "login_hint=a&login_hint=b",
        "domain_hint=https%3A%2F%2Fevil.example",
        "provider=GitHubOAuth&screen_hint=sign-up",
    ] {
        let mut jar = Jar::default();
        let r = app.get(&mut jar, &format!("/auth/login?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r.headers().get(LOCATION).is_none(), "{bad}");
        assert!(
            r.headers().get(SET_COOKIE).is_none(),
            "no flow started: {bad}"
        );
        assert!(
            r.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = r.text().await.unwrap();
        assert!(
            !page.contains("<script>") && !page.contains("evil"),
            "{page}"
        );
    }
    let long_state = format!("/auth/login?state={}", "s".repeat(513));
    let r = app.get(&mut Jar::default(), &long_state).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn the_apps_state_comes_back_in_the_sign_in_hook_and_never_goes_to_workos() {
    // (user id, the app's state, return_to) of each sign-in.
    type Seen = Vec<(String, Option<String>, String)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let log = seen.clone();
    let app = start(move |b| {
        b.with_on_sign_in(move |sign_in| {
            log.lock().unwrap().push((
                sign_in.user.id.clone(),
                sign_in.state().map(str::to_owned),
                sign_in.return_to().to_owned(),
            ));
            async {}
        })
    })
    .await;
    let app_state = "{\"cart\":\"c_7\",\"plan\":\"pro\"}";
    let path = format!(
        "/auth/login?return_to=%2Fcheckout&state={}",
        url::form_urlencoded::byte_serialize(app_state.as_bytes()).collect::<String>()
    );
    let pending = app.start_login(Jar::default(), &path, EMAIL).await;
    // WorkOS sees only the crate's random state; the app's never leaves the server
    // (the flow cookie holding it is sealed).
    let sent = pending.query("state").unwrap();
    assert_eq!(sent.len(), 43);
    assert!(!pending.callback.contains("cart"));
    for (_, value) in pending.jar.flows() {
        assert!(!value.contains("cart"), "sealed");
    }
    let (_, landed) = app.finish_login(pending).await;
    assert_eq!(landed, "/checkout");
    // Without a state: None.
    app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let seen = seen.lock().unwrap().clone();
    let me = user_id(&app.emulator, EMAIL);
    assert_eq!(
        seen,
        [
            (
                me.clone(),
                Some(app_state.to_owned()),
                "/checkout".to_owned()
            ),
            (me, None, "/".to_owned()),
        ]
    );
}
