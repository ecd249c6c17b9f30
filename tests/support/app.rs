//! An axum app with AuthKit in front of the embedded emulator, over real
//! HTTP on 127.0.0.1, and a browser-like cookie jar to drive it: shared by
//! the flow, attack, secrets and fault suites, and by the deployments of
//! [`super::deployments`].

use std::collections::BTreeMap;
use std::time::Duration;

use authkit_axum::emulator::EmulatorExt;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, Seed};
use authkit_axum::{AuthKit, AuthKitBuilder, AuthUser};
use axum::Router;
use axum::routing::get;
use reqwest::header::{ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = DEMO_PASSWORD;
pub const COOKIE_PASSWORD: &str = "hardening-suite-cookie-password-with-32+chars";

pub struct App {
    /// Where the app listens.
    pub base: String,
    /// Where its callback is (`base`, or the public origin of replicas).
    pub origin: String,
    pub emulator: Emulator,
    pub authkit: AuthKit,
    pub http: reqwest::Client,
}

async fn account(user: AuthUser) -> axum::Json<Value> {
    axum::Json(json!({
        "id": user.user.id, "email": user.user.email, "sid": user.session_id(),
        "org": user.organization_id(), "exp": user.claims.exp,
        "role": user.role(), "permissions": user.permissions(),
    }))
}

async fn whoami(user: Option<AuthUser>) -> String {
    match user {
        Some(u) => format!("signed in as {}", u.user.email),
        None => "anonymous".into(),
    }
}

/// The builder every app starts from: the emulator's client and clock, and
/// the callback on `origin`; the cookie password is the caller's to set.
pub fn builder(emulator: &Emulator, origin: &str) -> AuthKitBuilder {
    AuthKit::builder()
        .with_client(emulator.client())
        .with_redirect_uri(format!("{origin}/auth/callback"))
        .with_clock(emulator.session_clock())
}

/// Serves `/account` (AuthUser, JSON), `/whoami` (Option<AuthUser>), the
/// auth routes and `extra`, behind the layer.
pub async fn start_with(
    emulator: Emulator,
    configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder,
    extra: Router,
) -> App {
    start_at(
        emulator,
        None,
        |b| configure(b.with_cookie_password(COOKIE_PASSWORD)),
        extra,
    )
    .await
}

/// [`start_with`] on a new emulator with the demo seed, and no extra routes.
pub async fn start_demo(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    start_with(emulator, configure, Router::new()).await
}

/// Like [`start_with`], from [`builder`] (the cookie passwords are
/// `configure`'s to set), with the callback on `public_origin` when given (a
/// load balancer's address, for replicas) instead of the app's own address.
pub async fn start_at(
    emulator: Emulator,
    public_origin: Option<&str>,
    configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder,
    extra: Router,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let origin = public_origin.map_or_else(|| base.clone(), str::to_owned);
    let authkit = configure(builder(&emulator, &origin)).build().unwrap();
    let app = Router::new()
        .route("/account", get(account))
        .route("/whoami", get(whoami))
        .merge(extra)
        .merge(authkit.routes())
        .layer(authkit.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    App {
        base,
        origin,
        emulator,
        authkit,
        http: http_client(),
    }
}

/// Serves the router `make` builds from the app's [`AuthKit`] (built like
/// [`start_with`]'s), for suites whose router is the point: nesting, guards.
pub async fn serve(
    emulator: Emulator,
    configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder,
    make: impl FnOnce(&AuthKit) -> Router,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let builder = builder(&emulator, &base).with_cookie_password(COOKIE_PASSWORD);
    let authkit = configure(builder).build().unwrap();
    let app = make(&authkit);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    App {
        origin: base.clone(),
        base,
        emulator,
        authkit,
        http: http_client(),
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A browser's cookie jar for the app's origin.
#[derive(Default, Clone, Debug)]
pub struct Jar(pub BTreeMap<String, String>);

impl Jar {
    /// A jar holding only this session cookie.
    pub fn with_session(cookie: &str) -> Jar {
        Jar(BTreeMap::from([(
            "wos-session".to_owned(),
            cookie.to_owned(),
        )]))
    }

    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn absorb(&mut self, response: &reqwest::Response) {
        for (name, value, cleared) in set_cookies(response) {
            if cleared {
                self.0.remove(&name);
            } else {
                self.0.insert(name, value);
            }
        }
    }

    pub fn session(&self) -> Option<&String> {
        self.0.get("wos-session")
    }

    /// The pending-flow cookies (`wos-auth-verifier-…`).
    pub fn flows(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| k.starts_with("wos-auth-verifier-"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// Every Set-Cookie of a response: (name, value, whether it deletes).
pub fn set_cookies(response: &reqwest::Response) -> Vec<(String, String, bool)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            let s = v.to_str().unwrap();
            let (name, rest) = s.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap();
            (
                name.to_owned(),
                value.to_owned(),
                value.is_empty() || s.contains("Max-Age=0"),
            )
        })
        .collect()
}

/// Whether the response sets (not clears) the session cookie.
pub fn sets_session(response: &reqwest::Response) -> bool {
    set_cookies(response)
        .iter()
        .any(|(n, _, cleared)| n == "wos-session" && !cleared)
}

/// Whether the response clears the session cookie.
pub fn clears_session(response: &reqwest::Response) -> bool {
    set_cookies(response)
        .iter()
        .any(|(n, _, cleared)| n == "wos-session" && *cleared)
}

pub fn location(r: &reqwest::Response) -> String {
    r.headers()[LOCATION].to_str().unwrap().to_owned()
}

pub fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_owned()
    } else {
        format!("{base}{location}")
    }
}

/// Where a login flow stands once the emulator sent the browser back.
pub struct Pending {
    pub jar: Jar,
    /// The callback URL, with `code` and `state`.
    pub callback: String,
}

impl Pending {
    pub fn query(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(&self.callback).unwrap();
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

impl App {
    pub async fn get(&self, jar: &mut Jar, path: &str) -> reqwest::Response {
        let r = self
            .http
            .get(absolute(&self.base, path))
            .header(ACCEPT, "text/html")
            .header(COOKIE, jar.header())
            .send()
            .await
            .unwrap();
        jar.absorb(&r);
        r
    }

    pub async fn get_json(&self, jar: &mut Jar, path: &str) -> reqwest::Response {
        let r = self
            .http
            .get(absolute(&self.base, path))
            .header(ACCEPT, "application/json")
            .header(COOKIE, jar.header())
            .send()
            .await
            .unwrap();
        jar.absorb(&r);
        r
    }

    /// Follows the emulator's redirects to its login page; returns the
    /// authorization id of the form.
    pub async fn open_login_page(&self, authorize_url: &str) -> String {
        let mut url = authorize_url.to_owned();
        for _ in 0..5 {
            let r = self.http.get(&url).send().await.unwrap();
            if r.status().is_redirection() {
                url = absolute(self.emulator.base_url(), &location(&r));
                continue;
            }
            assert_eq!(r.status(), 200, "{url}");
            let html = r.text().await.unwrap();
            let marker = "name=\"authorization_id\" value=\"";
            let start = html.find(marker).expect("hidden authorization id") + marker.len();
            let end = start + html[start..].find('"').unwrap();
            return html[start..end].to_owned();
        }
        panic!("too many redirects from {authorize_url}");
    }

    /// Posts credentials to the emulator's login form.
    pub async fn submit_login(&self, id: &str, email: &str, password: &str) -> reqwest::Response {
        post_login_form(&self.http, self.emulator.base_url(), id, email, password).await
    }

    /// `login_path` (e.g. `/auth/login?return_to=…`) through the emulator's
    /// form, up to (not including) the callback.
    pub async fn start_login(&self, mut jar: Jar, login_path: &str, email: &str) -> Pending {
        let r = self.get(&mut jar, login_path).await;
        assert_eq!(r.status(), 303, "{login_path}");
        let authorize = location(&r);
        assert!(
            authorize.starts_with(self.emulator.base_url()),
            "{authorize}"
        );
        let id = self.open_login_page(&authorize).await;
        let r = self.submit_login(&id, email, PASSWORD).await;
        assert!(r.status().is_redirection(), "{}", r.status());
        let callback = location(&r);
        assert!(
            callback.starts_with(&format!("{}/auth/callback?", self.origin)),
            "{callback}"
        );
        Pending { jar, callback }
    }

    /// The callback of a pending login, on this app (which need not be the
    /// one the login started on: replicas share the origin); returns the jar
    /// and the callback's Location.
    pub async fn finish_login(&self, pending: Pending) -> (Jar, String) {
        let Pending { mut jar, callback } = pending;
        let path = callback
            .strip_prefix(&self.origin)
            .unwrap_or_else(|| panic!("{callback} is not on {}", self.origin));
        let r = self.get(&mut jar, path).await;
        assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
        let landed = location(&r);
        assert!(
            jar.0.keys().any(|k| k.starts_with("wos-session")),
            "the callback set the session cookie (whole or in chunks)"
        );
        (jar, landed)
    }

    /// A whole sign-in; returns the jar and the callback's Location.
    pub async fn sign_in(&self, jar: Jar, login_path: &str, email: &str) -> (Jar, String) {
        let pending = self.start_login(jar, login_path, email).await;
        self.finish_login(pending).await
    }
}

/// Posts credentials to the login form of the emulator at `emulator`.
pub async fn post_login_form(
    http: &reqwest::Client,
    emulator: &str,
    id: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    http.post(format!("{emulator}/emulator/login"))
        .form(&[
            ("authorization_id", id),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}
