//! Several deployments of one app, built separately and served on their own
//! ports, against one emulator: replicas behind a load balancer (one cookie
//! password, one public origin), or the versions of a rolling deploy (their
//! own cookie passwords). Each is an [`App`] of [`super::app`].

use authkit_axum::emulator::{Emulator, Seed};
use axum::Router;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::Value;

use super::app::{self, App, EMAIL, Jar};

/// The emulator the deployments share, with the demo user ([`EMAIL`]).
pub async fn emulator() -> Emulator {
    Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap()
}

/// One replica of an app whose public address is `public_origin`: its
/// callback is there, and it seals with `cookie_password` (id 1).
pub async fn replica(emulator: &Emulator, cookie_password: &str, public_origin: &str) -> App {
    app::start_at(
        emulator.clone(),
        Some(public_origin),
        |b| b.with_cookie_password(cookie_password),
        Router::new(),
    )
    .await
}

/// One deployment with these cookie passwords, `(id, password)`: new
/// cookies are sealed with the last, any of them unseals.
pub async fn deploy(emulator: &Emulator, passwords: &[(&str, &str)]) -> App {
    app::start_at(
        emulator.clone(),
        None,
        |mut b| {
            for (id, password) in passwords {
                b = b.with_additional_cookie_password(*id, *password);
            }
            b
        },
        Router::new(),
    )
    .await
}

/// Signs [`EMAIL`] in the way a browser behind a round-robin load balancer
/// would: the login starts on `start`, the callback lands on `finish` (the
/// same app, or another replica). Returns the session cookie.
pub async fn sign_in(start: &App, finish: &App) -> String {
    let pending = start
        .start_login(Jar::default(), "/auth/login", EMAIL)
        .await;
    // The PKCE flow cookie, sealed with the cookie password.
    assert!(
        !pending.jar.flows().is_empty(),
        "the login route sets a flow cookie"
    );
    let (jar, _) = finish.finish_login(pending).await;
    jar.session()
        .cloned()
        .expect("the callback set the session cookie")
}

/// What a response did to the session cookie.
#[derive(Debug, Clone, PartialEq)]
pub enum CookieChange {
    Kept,
    Set(String),
    Cleared,
}

/// The last word of a response on `wos-session`.
pub fn session_change(response: &reqwest::Response) -> CookieChange {
    app::set_cookies(response)
        .into_iter()
        .filter(|(name, _, _)| name == "wos-session")
        .fold(CookieChange::Kept, |_, (_, value, cleared)| {
            if cleared {
                CookieChange::Cleared
            } else {
                CookieChange::Set(value)
            }
        })
}

/// A response, read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub cookie: CookieChange,
    pub location: Option<String>,
    pub body: String,
}

impl Answer {
    /// The body as JSON (`null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

impl App {
    /// `GET path` with only this session cookie (or none), as a browser
    /// navigation or as an API call.
    pub async fn answer(&self, path: &str, session: Option<&str>, api: bool) -> Answer {
        let mut jar = session.map(Jar::with_session).unwrap_or_default();
        let r = if api {
            self.get_json(&mut jar, path).await
        } else {
            self.get(&mut jar, path).await
        };
        Answer {
            status: r.status(),
            cookie: session_change(&r),
            location: r
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: r.text().await.unwrap(),
        }
    }
}
