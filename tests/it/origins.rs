//! One app answering on several origins, over real HTTP on loopback
//! against the emulator: `http://localhost:<port>` and
//! `http://127.0.0.1:<port>` (both really reach the app), and an https
//! origin reached through forwarded headers, as behind a TLS-terminating
//! proxy. Each origin signs in with its own redirect URI and gets its own
//! cookies; forwarded headers count only from a trusted proxy; a forged
//! host never shows up in an answer.

use std::time::Duration;

use authkit_axum::emulator::{Emulator, Seed};
use authkit_axum::{AuthKitBuilder, AuthUser};
use axum::Router;
use axum::routing::get;
use reqwest::header::{ACCEPT, COOKIE, HOST, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::support::app::{
    self, COOKIE_PASSWORD, EMAIL, Jar, PASSWORD, absolute, location, post_login_form,
};
use crate::support::remote;

/// The https origin reached only through forwarded headers.
const SECURE: &str = "https://secure.test";

struct Site {
    port: u16,
    http: reqwest::Client,
    emulator: Emulator,
}

impl Site {
    fn localhost(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    fn loopback(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `GET path` on the app itself (127.0.0.1), as a browser navigation,
    /// with `headers` (forwarded ones, a forged Host).
    async fn get(&self, jar: &mut Jar, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .http
            .get(format!("{}{path}", self.loopback()))
            .header(ACCEPT, "text/html")
            .header(COOKIE, jar.header());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let r = request.send().await.unwrap();
        jar.absorb(&r);
        r
    }
}

async fn account(user: AuthUser) -> String {
    user.user.email.clone()
}

/// The app on a free port of 127.0.0.1, configured by `configure` (which
/// gets that port); a client that reaches it as `localhost` too.
async fn start(
    emulator: Emulator,
    configure: impl FnOnce(u16, AuthKitBuilder) -> AuthKitBuilder,
) -> Site {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let builder = app::builder(&emulator, &format!("http://127.0.0.1:{}", addr.port()))
        .with_cookie_password(COOKIE_PASSWORD);
    let authkit = configure(addr.port(), builder).build().unwrap();
    let router = Router::new()
        .route("/account", get(account))
        .merge(authkit.routes())
        .layer(authkit.layer());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .resolve("localhost", addr)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Site {
        port: addr.port(),
        http,
        emulator,
    }
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .with_seed(Seed::demo())
        .with_redirect_uris([format!("{SECURE}/auth/callback")])
        .start()
        .await
        .unwrap()
}

/// The two loopback origins, `localhost` first (the default).
fn two_origins(trust: bool) -> impl FnOnce(u16, AuthKitBuilder) -> AuthKitBuilder {
    move |port, b| {
        b.with_redirect_uris([
            format!("http://localhost:{port}/auth/callback"),
            format!("http://127.0.0.1:{port}/auth/callback"),
        ])
        .with_trust_forwarded_headers(trust)
    }
}

/// The `redirect_uri` of the authorize URL a login answer sends the browser to.
fn redirect_uri_of(login: &reqwest::Response) -> String {
    assert_eq!(login.status(), 303);
    let authorize = url::Url::parse(&location(login)).unwrap();
    authorize
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .expect("a redirect_uri")
}

/// Whether the response's cookie `name` (set, not cleared) is `Secure`.
fn secure(r: &reqwest::Response, name_prefix: &str) -> bool {
    let cookie = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(name_prefix) && !c.contains("Max-Age=0"))
        .unwrap_or_else(|| panic!("no {name_prefix} cookie set"));
    cookie.split(';').any(|a| a.trim() == "Secure")
}

/// A sign-in through the app at 127.0.0.1 with `headers` on every request
/// to it, as through a proxy; the callback AuthKit sends the browser to must
/// be on `public`. Returns the jar, the login's and the callback's answers.
async fn sign_in_via(
    site: &Site,
    headers: &[(&str, &str)],
    public: &str,
) -> (Jar, reqwest::Response, reqwest::Response) {
    let mut jar = Jar::default();
    let login = site.get(&mut jar, "/auth/login", headers).await;
    assert_eq!(redirect_uri_of(&login), format!("{public}/auth/callback"));
    let mut page = location(&login);
    let html = loop {
        let r = site.http.get(&page).send().await.unwrap();
        if r.status().is_redirection() {
            let origin = url::Url::parse(&page)
                .unwrap()
                .origin()
                .ascii_serialization();
            page = absolute(&origin, &location(&r));
            continue;
        }
        break r.text().await.unwrap();
    };
    let marker = "name=\"authorization_id\" value=\"";
    let start = html.find(marker).expect("the login form") + marker.len();
    let id = &html[start..start + html[start..].find('"').unwrap()];
    let emulator = url::Url::parse(&page)
        .unwrap()
        .origin()
        .ascii_serialization();
    let r = post_login_form(&site.http, &emulator, id, EMAIL, PASSWORD).await;
    let callback = location(&r);
    let path = callback
        .strip_prefix(public)
        .unwrap_or_else(|| panic!("{callback} is not on {public}"));
    assert!(path.starts_with("/auth/callback?"), "{callback}");
    let done = site.get(&mut jar, path, headers).await;
    assert_eq!(done.status(), 303, "callback");
    assert!(jar.session().is_some(), "signed in");
    (jar, login, done)
}

#[tokio::test]
async fn each_origin_signs_in_with_its_own_redirect_uri_and_stays_signed_in_there() {
    let site = start(emulator().await, two_origins(false)).await;
    for origin in [site.localhost(), site.loopback()] {
        let r = site
            .http
            .get(format!("{origin}/auth/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(redirect_uri_of(&r), format!("{origin}/auth/callback"));
        // The whole way: AuthKit sends the browser back to this origin's
        // callback (remote::sign_in checks it), whose cookie is this origin's.
        let signed = remote::sign_in(&site.http, &origin, EMAIL, PASSWORD, "x-none").await;
        let r = site
            .http
            .get(format!("{origin}/account"))
            .header(COOKIE, signed.jar.header())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{origin}");
        assert_eq!(r.text().await.unwrap(), EMAIL);
    }
}

#[tokio::test]
async fn a_trusted_proxys_forwarded_host_picks_its_origin_an_untrusted_one_is_ignored() {
    let emulator = emulator().await;
    let trusted = start(emulator.clone(), two_origins(true)).await;
    let untrusted = start(emulator, two_origins(false)).await;
    for (site, picks_second) in [(&trusted, true), (&untrusted, false)] {
        let second = format!("127.0.0.1:{}", site.port);
        let as_localhost = format!("localhost:{}", site.port);
        for forwarded in [
            vec![("x-forwarded-host", second.clone())],
            vec![
                ("x-forwarded-host", second.clone()),
                ("x-forwarded-proto", "http".to_owned()),
            ],
            vec![(
                "forwarded",
                format!("for=192.0.2.7;host=\"{second}\";proto=http"),
            )],
        ] {
            let mut request = site
                .http
                .get(format!("{}/auth/login", site.localhost()))
                .header(HOST, &as_localhost);
            for (name, value) in &forwarded {
                request = request.header(*name, value);
            }
            let r = request.send().await.unwrap();
            let expected = if picks_second {
                site.loopback()
            } else {
                site.localhost()
            };
            assert_eq!(
                redirect_uri_of(&r),
                format!("{expected}/auth/callback"),
                "{forwarded:?}, trusted: {picks_second}"
            );
        }
    }
    // Through the trusted proxy, the whole sign-in lands on the forwarded origin.
    let headers = [
        (HOST.as_str(), format!("localhost:{}", trusted.port)),
        ("x-forwarded-host", format!("127.0.0.1:{}", trusted.port)),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let (mut jar, _, _) = sign_in_via(&trusted, &headers, &trusted.loopback()).await;
    let r = trusted.get(&mut jar, "/account", &headers).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_forged_host_never_appears_in_a_location_a_redirect_uri_or_a_page() {
    let emulator = emulator().await;
    let trusted = start(emulator.clone(), two_origins(true)).await;
    let untrusted = start(emulator, two_origins(false)).await;
    let forged = "evil.example";
    for (site, trusts) in [(&trusted, true), (&untrusted, false)] {
        for headers in [
            vec![(HOST.as_str(), forged)],
            vec![(HOST.as_str(), "evil.example:80")],
            vec![("x-forwarded-host", forged)],
            vec![("x-forwarded-host", forged), ("x-forwarded-proto", "https")],
            vec![("forwarded", "host=evil.example;proto=https")],
            vec![("x-forwarded-host", "localhost@evil.example")],
        ] {
            let mut jar = Jar::default();
            let login = site
                .get(&mut jar, "/auth/login?return_to=/account", &headers)
                .await;
            // The default when the host that counts is forged; untrusted
            // forwarded headers leave the real Host (127.0.0.1) to decide.
            let forged_counts = trusts || headers.iter().any(|(n, _)| *n == "host");
            let expected = if forged_counts {
                site.localhost()
            } else {
                site.loopback()
            };
            assert_eq!(
                redirect_uri_of(&login),
                format!("{expected}/auth/callback"),
                "{headers:?}"
            );
            let mut answers = vec![login];
            answers.push(site.get(&mut jar, "/account", &headers).await);
            answers.push(
                site.get(&mut jar, "/auth/callback?code=c&state=s", &headers)
                    .await,
            );
            let mut logout = site.http.post(format!("{}/auth/logout", site.loopback()));
            for (name, value) in &headers {
                logout = logout.header(*name, *value);
            }
            answers.push(logout.send().await.unwrap());
            for r in answers {
                let status = r.status();
                let location = r
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_owned())
                    .unwrap_or_default();
                let cookies: Vec<String> = r
                    .headers()
                    .get_all(SET_COOKIE)
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                let body = r.text().await.unwrap();
                for text in [&location, &body].into_iter().chain(&cookies) {
                    assert!(
                        !text.contains("evil"),
                        "{headers:?}: {status} shows the forged host: {text}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn an_https_origin_gets_secure_cookies_and_a_plain_http_one_does_not() {
    let site = start(emulator().await, |port, b| {
        b.with_redirect_uris([
            format!("http://127.0.0.1:{port}/auth/callback"),
            format!("{SECURE}/auth/callback"),
        ])
        .with_trust_forwarded_headers(true)
    })
    .await;
    // Through the TLS-terminating proxy: https, Secure, from the flow cookie
    // to the session cookie.
    let proxied = [
        ("x-forwarded-host", "secure.test"),
        ("x-forwarded-proto", "https"),
    ];
    let (mut jar, login, callback) = sign_in_via(&site, &proxied, SECURE).await;
    assert!(secure(&login, "wos-auth-verifier-"), "flow cookie");
    assert!(secure(&callback, "wos-session"), "session cookie");
    let r = site.get(&mut jar, "/account", &proxied).await;
    assert_eq!(r.status(), 200);
    // The layer's own writes too: the refreshed cookie after an expiry.
    site.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = site.get(&mut jar, "/account", &proxied).await;
    assert_eq!(r.status(), 200);
    assert!(secure(&r, "wos-session"), "refreshed session cookie");
    // Logout comes home to the https origin.
    let logout = site
        .http
        .post(format!("{}/auth/logout", site.loopback()))
        .header(COOKIE, jar.header())
        .header(ORIGIN, SECURE)
        .header("x-forwarded-host", "secure.test")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 303);
    let workos = url::Url::parse(&location(&logout)).unwrap();
    let return_to = workos.query_pairs().find(|(k, _)| k == "return_to");
    assert_eq!(return_to.unwrap().1, format!("{SECURE}/"));

    // Straight to the app on plain HTTP: not Secure (a browser would drop
    // a Secure cookie set over http).
    let (mut jar, login, callback) = sign_in_via(&site, &[], &site.loopback()).await;
    assert!(!secure(&login, "wos-auth-verifier-"), "flow cookie");
    assert!(!secure(&callback, "wos-session"), "session cookie");
    site.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = site.get(&mut jar, "/account", &[]).await;
    assert_eq!(r.status(), 200);
    assert!(!secure(&r, "wos-session"), "refreshed session cookie");
}

#[tokio::test]
async fn logout_from_another_configured_origin_is_refused_as_cross_site() {
    let site = start(emulator().await, two_origins(false)).await;
    let signed = remote::sign_in(&site.http, &site.localhost(), EMAIL, PASSWORD, "x-none").await;
    let logout = |origin: String| {
        site.http
            .post(format!("{}/auth/logout", site.localhost()))
            .header(COOKIE, signed.jar.header())
            .header(ORIGIN, origin)
            .send()
    };
    let r = logout(site.loopback()).await.unwrap();
    assert_eq!(r.status(), 403, "a page of the other origin");
    assert!(!app::clears_session(&r));
    let r = logout(site.localhost()).await.unwrap();
    assert_eq!(r.status(), 303, "the request's own origin");
    assert!(app::clears_session(&r));
    let workos = url::Url::parse(&location(&r)).unwrap();
    let return_to = workos.query_pairs().find(|(k, _)| k == "return_to");
    assert_eq!(return_to.unwrap().1, format!("{}/", site.localhost()));
}

#[tokio::test]
async fn an_http2_request_is_on_the_origin_of_its_authority() {
    let site = start(emulator().await, two_origins(false)).await;
    // HTTP/2 has no Host header: `:authority` says where the request goes.
    let h2 = reqwest::Client::builder()
        .redirect(Policy::none())
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2
        .get(format!("{}/auth/login", site.loopback()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(
        redirect_uri_of(&r),
        format!("{}/auth/callback", site.loopback())
    );
}

#[tokio::test]
async fn sign_out_return_to_is_made_absolute_on_the_requests_origin_and_may_name_another_configured_one()
 {
    let site = start(emulator().await, two_origins(false)).await;
    let signed = remote::sign_in(&site.http, &site.loopback(), EMAIL, PASSWORD, "x-none").await;
    let logout = |return_to: String| {
        site.http
            .post(format!("{}/auth/logout", site.loopback()))
            .header(COOKIE, signed.jar.header())
            .form(&[("return_to", return_to)])
            .send()
    };
    let return_to_of = |r: &reqwest::Response| {
        let workos = url::Url::parse(&location(r)).unwrap();
        workos
            .query_pairs()
            .find(|(k, _)| k == "return_to")
            .map(|(_, v)| v.into_owned())
    };
    // A path: on the origin the request came to, not the default's.
    let r = logout("/goodbye".into()).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        return_to_of(&r).as_deref(),
        Some(format!("{}/goodbye", site.loopback()).as_str())
    );
    // The other configured origin is one of the app's own.
    let other = format!("{}/bye", site.localhost());
    let r = logout(other.clone()).await.unwrap();
    assert_eq!(return_to_of(&r).as_deref(), Some(other.as_str()));
    // An origin that is not configured: the request's after-logout URL.
    let r = logout("http://evil.example/".into()).await.unwrap();
    assert_eq!(
        return_to_of(&r).as_deref(),
        Some(format!("{}/", site.loopback()).as_str())
    );
}
