//! An attack suite against a running app (AuthKit + the layer + the routes,
//! backed by the embedded emulator, over real HTTP on 127.0.0.1): tampered
//! and forged session cookies, forged access tokens, oversize headers, open
//! redirects through real logins, CSRF on the callback and on logout, and
//! session fixation. Every attempt is counted; none may be accepted and none
//! may get a 5xx. The totals are printed so CI logs carry them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::app::{self, App, COOKIE_PASSWORD, EMAIL, Jar, PASSWORD, sets_session};
use crate::support::fake_workos::{KID_1, private_key};
use authkit_axum::client::AuthenticateWithPassword;
use authkit_axum::emulator::{Emulator, EmulatorExt, Seed, SeedUser};
use authkit_axum::seal::{self, Passwords, SealOptions, UnsealOptions};
use authkit_axum::session::SessionData;
use axum::Router;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{ACCEPT, COOKIE, ORIGIN};
use serde_json::{Value, json};

const MALLORY: &str = "mallory@example.com";
const OTHER_PASSWORD: &str = "an-attackers-cookie-password-of-32-chars!!";
/// A bound on any single answer, generous for a loaded 2-core CI machine.
const BOUND: Duration = Duration::from_secs(5);

/// What one suite tried and saw.
#[derive(Default)]
struct Tally {
    tried: AtomicUsize,
    accepted: AtomicUsize,
    server_errors: AtomicUsize,
}

impl Tally {
    fn record(&self, status: u16, accepted: bool, what: &str) {
        self.tried.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("5xx ({status}) for {what}");
        }
        if accepted {
            self.accepted.fetch_add(1, Ordering::Relaxed);
            eprintln!("ACCEPTED forgery: {what}");
        }
    }

    fn report(&self, suite: &str) {
        let (tried, accepted, errors) = (
            self.tried.load(Ordering::Relaxed),
            self.accepted.load(Ordering::Relaxed),
            self.server_errors.load(Ordering::Relaxed),
        );
        eprintln!("attacks[{suite}]: {tried} forgeries tried, {accepted} accepted, {errors} 5xx");
        assert!(tried > 0, "{suite}: nothing was tried");
        assert_eq!(errors, 0, "{suite}: 5xx answers");
        assert_eq!(accepted, 0, "{suite}: accepted forgeries");
    }
}

async fn start() -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo().with_user(SeedUser::new(MALLORY, PASSWORD)))
        .start()
        .await
        .unwrap();
    app::start_with(emulator, |b| b, Router::new()).await
}

fn passwords() -> Passwords {
    Passwords::single(COOKIE_PASSWORD).unwrap()
}

fn unseal_session(app: &App, sealed: &str) -> SessionData {
    seal::unseal(
        sealed,
        &passwords(),
        UnsealOptions::default().with_now(app.emulator.clock().now()),
    )
    .unwrap()
}

fn reseal(data: &SessionData) -> String {
    seal::seal(data, &passwords(), SealOptions::default()).unwrap()
}

/// `/whoami` with `wos-session=<cookie>`: (status, signed in?).
async fn probe(app: &App, cookie: &str) -> (u16, bool) {
    let r = app
        .http
        .get(format!("{}/whoami", app.base))
        .header(ACCEPT, "text/html")
        .header(COOKIE, format!("wos-session={cookie}"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    (status, body.starts_with("signed in"))
}

/// Probes every cookie, a few at a time, recording each as a forgery.
async fn probe_all(app: &App, tally: &Tally, cookies: Vec<(String, String)>) {
    futures_util::stream::iter(cookies)
        .for_each_concurrent(16, |(what, cookie)| async move {
            let (status, accepted) = probe(app, &cookie).await;
            tally.record(status, accepted, &what);
        })
        .await;
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// The payload of a JWT, decoded.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flipped_byte_and_truncation_of_a_real_seal_is_not_signed_in() {
    let app = start().await;
    let tally = Tally::default();
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let cookie = jar.session().unwrap().clone();
    // The genuine cookie works (and is now cached by the app).
    assert_eq!(probe(&app, &cookie).await, (200, true));

    let bytes = cookie.as_bytes();
    let mut forged = Vec::new();
    for i in 0..bytes.len() {
        let mut tampered = bytes.to_vec();
        tampered[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        forged.push((
            format!("byte {i} flipped"),
            String::from_utf8(tampered).unwrap(),
        ));
    }
    let step = (bytes.len() / 150).max(1);
    // Without its `~2` suffix a seal is the same iron seal (its MAC covers
    // everything before `~`), which the crate accepts by design: that one
    // cut is checked apart below, every other one is a forgery.
    let unversioned = cookie.strip_suffix("~2").unwrap().to_owned();
    for len in (0..bytes.len())
        .step_by(step)
        .chain(bytes.len() - 8..bytes.len())
    {
        if len != unversioned.len() {
            forged.push((format!("truncated to {len}"), cookie[..len].to_owned()));
        }
    }
    // Extended, doubled, and with the MAC of another seal.
    forged.push(("appended byte".into(), format!("{cookie}A")));
    forged.push(("doubled".into(), format!("{cookie}{cookie}")));
    let flips = bytes.len();
    probe_all(&app, &tally, forged).await;
    assert_eq!(
        probe(&app, &cookie).await,
        (200, true),
        "the genuine cookie still works"
    );
    let (status, _) = probe(&app, &unversioned).await;
    assert_eq!(status, 200, "the unversioned form of the genuine seal");
    eprintln!("attacks[seal-bytes]: {flips} byte flips of a {flips}-byte seal");
    tally.report("seal-bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seals_under_other_passwords_and_forged_tokens_are_not_signed_in() {
    let app = start().await;
    let tally = Tally::default();
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let genuine = unseal_session(&app, jar.session().unwrap());
    let token = genuine.access_token.expose().to_owned();
    let claims = payload(&token);
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let kid = header["kid"].as_str().unwrap().to_owned();
    let mut forged: Vec<(String, String)> = Vec::new();

    // The genuine session, sealed with passwords the app does not have.
    for (label, passwords) in [
        ("other password, id 1", Passwords::single(OTHER_PASSWORD)),
        (
            "other password, id 2",
            Passwords::new([("2", OTHER_PASSWORD)]),
        ),
        (
            "real password under unknown id 9",
            Passwords::new([("9", COOKIE_PASSWORD)]),
        ),
    ] {
        let sealed = seal::seal(&genuine, &passwords.unwrap(), SealOptions::default()).unwrap();
        forged.push((label.into(), sealed));
    }
    // A genuine session sealed already expired.
    let expired_seal = seal::seal(
        &genuine,
        &passwords(),
        SealOptions::default()
            .with_ttl(Duration::from_secs(60))
            .with_now(app.emulator.clock().now() - Duration::from_secs(3600)),
    )
    .unwrap();
    forged.push(("expired seal".into(), expired_seal));
    forged.push(("the bare access token as cookie".into(), token.clone()));

    // Forged access tokens, sealed with the real password (the strongest
    // attacker: only the JWT stands in the way).
    let with_token = |t: String| {
        let mut d = genuine.clone();
        d.access_token = t.into();
        reseal(&d)
    };
    let signature = token.split('.').nth(2).unwrap();
    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = b64(&json!({"alg": alg, "kid": kid, "typ": "JWT"}));
        let p = b64(&claims);
        forged.push((format!("alg {alg}"), with_token(format!("{h}.{p}."))));
        forged.push((
            format!("alg {alg} with the real signature"),
            with_token(format!("{h}.{p}.{signature}")),
        ));
    }
    // HS256 keyed with the RSA public key (key confusion).
    let jwks = app.emulator.client().get_jwks().await.unwrap();
    let jwk = serde_json::to_value(&jwks.keys[0]).unwrap();
    let n = jwk["n"].as_str().unwrap().to_owned();
    for (label, secret) in [
        ("jwk json", jwk.to_string().into_bytes()),
        ("n base64", n.clone().into_bytes()),
        ("n bytes", URL_SAFE_NO_PAD.decode(&n).unwrap()),
    ] {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut h = Header::new(alg);
            h.kid = Some(kid.clone());
            let t = jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(&secret)).unwrap();
            forged.push((format!("{alg:?} keyed with {label}"), with_token(t)));
        }
    }
    // Signed with a key the app never saw, under an unknown kid, the real
    // kid, and no kid; and the RS512 / PS256 confusions.
    let foreign = private_key(KID_1);
    for (label, k, alg) in [
        (
            "unknown kid",
            Some("kid_unknown_to_workos"),
            Algorithm::RS256,
        ),
        (
            "real kid, foreign key",
            Some(kid.as_str()),
            Algorithm::RS256,
        ),
        ("no kid", None, Algorithm::RS256),
        ("RS512, real kid", Some(kid.as_str()), Algorithm::RS512),
        ("PS256, real kid", Some(kid.as_str()), Algorithm::PS256),
    ] {
        let mut h = Header::new(alg);
        h.kid = k.map(str::to_owned);
        let t = jsonwebtoken::encode(&h, &claims, &foreign).unwrap();
        forged.push((label.into(), with_token(t)));
    }
    // The genuine signature over an edited payload.
    for (field, value) in [
        ("sub", json!("user_forged")),
        ("exp", json!(claims["exp"].as_i64().unwrap() + 86_400)),
        ("role", json!("owner")),
        ("sid", json!("session_forged")),
    ] {
        let mut c = claims.clone();
        c[field] = value;
        let t = format!(
            "{}.{}.{signature}",
            token.split('.').next().unwrap(),
            b64(&c)
        );
        forged.push((format!("edited {field}, real signature"), with_token(t)));
    }
    for junk in ["", "a.b.c", "..", "not-a-jwt", "e30.e30.e30"] {
        forged.push((format!("junk token {junk:?}"), with_token(junk.into())));
    }

    // A real token for another user than the cookie's `user`.
    let mallory = app
        .emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: MALLORY.into(),
            password: PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    forged.push((
        "mallory's token in demo's cookie".into(),
        with_token(mallory.access_token.expose().to_owned()),
    ));
    let mut d = genuine.clone();
    d.user = mallory.user.clone();
    forged.push(("demo's token under mallory's user".into(), reseal(&d)));

    probe_all(&app, &tally, forged).await;
    // The JWKS refetches the unknown kid may cause stay throttled.
    assert!(
        app.emulator
            .request_count(&format!("/sso/jwks/{}", app.emulator.client_id()))
            <= 3,
        "forged kids must not flood WorkOS with JWKS fetches"
    );
    tally.report("forged-cookies-and-tokens");
}

#[tokio::test]
async fn an_expired_token_without_a_usable_refresh_token_signs_out_cleanly() {
    let app = start().await;
    let tally = Tally::default();
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let genuine = unseal_session(&app, jar.session().unwrap());
    let (revoked_jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let revoked = revoked_jar.session().unwrap().clone();
    let sid = payload(
        unseal_session(&app, &revoked)
            .access_token
            .expose()
            .to_owned()
            .as_str(),
    )["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    app.emulator.client().revoke_session(&sid).await.unwrap();
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let mut cookies = vec![("revoked session".to_owned(), revoked)];
    for rt in ["", "rt_forged", "x", &"A".repeat(4096)] {
        let mut d = genuine.clone();
        d.refresh_token = rt.into();
        cookies.push((format!("refresh token {:.12?}", rt), reseal(&d)));
    }
    for (what, cookie) in cookies {
        let started = Instant::now();
        let r = app
            .http
            .get(format!("{}/account", app.base))
            .header(ACCEPT, "application/json")
            .header(COOKIE, format!("wos-session={cookie}"))
            .send()
            .await
            .unwrap();
        assert!(started.elapsed() < BOUND, "{what}: {:?}", started.elapsed());
        let status = r.status().as_u16();
        assert_eq!(status, 401, "{what}");
        assert!(app::clears_session(&r), "{what}: the cookie is cleared");
        tally.record(status, status == 200, &what);
    }
    tally.report("expired-without-refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_cookie_headers_are_answered_quickly_without_5xx() {
    let app = start().await;
    let tally = Tally::default();
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let session = jar.session().unwrap().clone();
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "64 KiB + 1 Cookie header",
            vec![format!(
                "wos-session={session}; pad={}",
                "p".repeat(64 * 1024 + 1 - session.len() - 18)
            )],
        ),
        (
            "128 KiB session value",
            vec![format!("wos-session={}", "A".repeat(128 * 1024))],
        ),
        (
            "1 MiB Cookie header",
            vec![format!("wos-session={}", "B".repeat(1024 * 1024))],
        ),
        (
            "6000 tiny cookies then a forged session",
            vec![format!(
                "{}wos-session=Fe26.2*1*forged",
                (0..6000).map(|i| format!("c{i}=v; ")).collect::<String>()
            )],
        ),
        (
            "90 Cookie headers of 4 KiB",
            (0..90)
                .map(|i| format!("k{i}={}", "q".repeat(4096)))
                .collect(),
        ),
        (
            "a 60 KiB percent-encoded session",
            vec![format!("wos-session={}", "%41".repeat(20 * 1024))],
        ),
    ];
    for (what, headers) in cases {
        let mut request = app
            .http
            .get(format!("{}/whoami", app.base))
            .header(ACCEPT, "text/html");
        for h in &headers {
            request = request.header(COOKIE, h);
        }
        let started = Instant::now();
        let outcome = request.send().await;
        let elapsed = started.elapsed();
        assert!(elapsed < BOUND, "{what}: took {elapsed:?}");
        match outcome {
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.text().await.unwrap_or_default();
                eprintln!("{what}: {status} in {elapsed:?}");
                // A header carrying the genuine session may still sign in; a
                // forged or junk one must not.
                let forged = !headers.iter().any(|h| h.contains(&session));
                tally.record(status, forged && body.starts_with("signed in"), what);
            }
            Err(e) => {
                // The server may refuse to read that much and drop the
                // connection: not a 5xx, and quick.
                eprintln!("{what}: connection refused by the server ({e}) in {elapsed:?}");
                tally.record(0, false, what);
            }
        }
    }
    // The server is still fine afterwards.
    assert_eq!(probe(&app, &session).await, (200, true));
    tally.report("oversize-cookies");
}

/// Whether `location` is a same-origin path as a browser reads it.
fn same_origin_path(base: &str, location: &str) -> bool {
    let browser_view: String = location
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect();
    if !browser_view.starts_with('/')
        || browser_view.starts_with("//")
        || location.chars().any(char::is_control)
    {
        return false;
    }
    let base = url::Url::parse(base).unwrap();
    match base.join(location) {
        Ok(u) => {
            u.origin() == base.origin() && u.username().is_empty() && !u.path().starts_with("//")
        }
        Err(_) => false,
    }
}

fn open_redirect_corpus(base: &str) -> Vec<String> {
    let host = base.trim_start_matches("http://");
    let mut corpus: Vec<String> = [
        "//evil.com",
        "///evil.com",
        "////evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "/\\/evil.com",
        "/\\\\evil.com",
        "\\/evil.com",
        "%2f%2fevil.com",
        "/%2f%2fevil.com",
        "/%2F%2Fevil.com",
        "/%5cevil.com",
        "/%5C%5Cevil.com",
        "/%255c%255cevil.com",
        "/%252f%252fevil.com",
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r\n/evil.com",
        "/\u{b}/evil.com",
        "/\u{0}/evil.com",
        "/%09/evil.com",
        "/%0a/evil.com",
        "/%0d%0a/evil.com",
        "/%00/evil.com",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://evil.com",
        "https:evil.com",
        "https:/evil.com",
        "http:evil.com",
        "HTTPS://EVIL.COM",
        "evil.com",
        "//user@evil.com",
        "//evil.com@good.example",
        "/.//evil.com",
        "/..//evil.com",
        "/./..//evil.com",
        "/%2e%2e//evil.com",
        "/%2e//evil.com",
        "/a/../..//evil.com",
        "//ｅｖｉｌ.com",
        "/／evil.com",
        "//evil%E3%80%82com",
        "/\u{3000}/evil.com",
        "/\u{2028}/evil.com",
        " //evil.com",
        "/ /evil.com",
        "",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    corpus.push(format!("http://{host}@evil.com/"));
    corpus.push(format!("http://evil.com#@{host}"));
    corpus.push(format!("//{host}.evil.com/"));
    corpus.push(format!("/{}", "a".repeat(3000)));
    corpus
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_redirects_on_return_to_never_leave_the_origin_through_real_logins() {
    let app = start().await;
    let tally = Tally::default();
    let corpus = open_redirect_corpus(&app.base);
    assert!(corpus.len() >= 30);
    let app = &app;
    let tally = &tally;
    futures_util::stream::iter(corpus.iter().cloned())
        .for_each_concurrent(8, |attack| async move {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", &attack)
                .finish();
            let pending = app
                .start_login(Jar::default(), &format!("/auth/login?{query}"), EMAIL)
                .await;
            let mut jar = pending.jar;
            let r = app.get(&mut jar, &pending.callback).await;
            let status = r.status().as_u16();
            let landed = String::from_utf8_lossy(r.headers()["location"].as_bytes()).into_owned();
            assert_eq!(status, 303, "{attack:?}");
            assert!(jar.session().is_some(), "{attack:?}: signed in");
            let escaped = !same_origin_path(&app.base, &landed);
            if escaped {
                eprintln!("return_to {attack:?} landed on {landed:?}");
            }
            tally.record(status, escaped, &format!("return_to {attack:?}"));
        })
        .await;
    // Legitimate same-origin paths go through untouched.
    for ok in ["/account?tab=1", "/a/b?x=%2F%2F#frag", "/search?q=//x"] {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", ok)
            .finish();
        let (_, landed) = app
            .sign_in(Jar::default(), &format!("/auth/login?{query}"), EMAIL)
            .await;
        assert_eq!(landed, ok);
    }

    // The organization switch sanitizes its return_to the same way.
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let org = app.emulator.organizations()[0].id.clone();
    for attack in corpus.iter().take(40) {
        let r = app
            .http
            .post(format!("{}/auth/switch-organization", app.base))
            .header(COOKIE, jar.header())
            .form(&[("organization_id", org.as_str()), ("return_to", attack)])
            .send()
            .await
            .unwrap();
        jar.absorb(&r);
        let status = r.status().as_u16();
        assert_eq!(status, 303, "switch with {attack:?}");
        let landed = String::from_utf8_lossy(r.headers()["location"].as_bytes()).into_owned();
        tally.record(
            status,
            !same_origin_path(&app.base, &landed),
            &format!("switch return_to {attack:?}"),
        );
    }
    eprintln!(
        "attacks[open-redirect]: corpus of {} variants",
        corpus.len()
    );
    tally.report("open-redirect");
}

#[tokio::test]
async fn callback_csrf_missing_mismatched_replayed_and_foreign_state_never_sign_in() {
    let app = start().await;
    let tally = Tally::default();
    let victim = app.start_login(Jar::default(), "/auth/login", EMAIL).await;
    let attacker = app
        .start_login(Jar::default(), "/auth/login", MALLORY)
        .await;
    let (code_a, state_a) = (
        victim.query("code").unwrap(),
        victim.query("state").unwrap(),
    );
    let (code_b, state_b) = (
        attacker.query("code").unwrap(),
        attacker.query("state").unwrap(),
    );
    let callback = |q: &[(&str, &str)]| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish();
        format!("/auth/callback?{query}")
    };
    let (name_a, value_a) = victim.jar.flows()[0].clone();
    let (name_b, _) = attacker.jar.flows()[0].clone();
    let mut renamed = Jar::default();
    renamed.0.insert(name_b.clone(), value_a.clone());
    let long_state = "s".repeat(10_000);
    let cases: Vec<(&str, Jar, String)> = vec![
        (
            "state missing",
            victim.jar.clone(),
            callback(&[("code", &code_a)]),
        ),
        (
            "code missing",
            victim.jar.clone(),
            callback(&[("state", &state_a)]),
        ),
        ("both missing", victim.jar.clone(), callback(&[])),
        (
            "empty state",
            victim.jar.clone(),
            callback(&[("code", &code_a), ("state", "")]),
        ),
        (
            "10 KB state",
            victim.jar.clone(),
            callback(&[("code", &code_a), ("state", &long_state)]),
        ),
        (
            "mismatched state",
            victim.jar.clone(),
            callback(&[("code", &code_a), ("state", &format!("{state_a}x"))]),
        ),
        (
            "attacker's whole callback in the victim's browser (login CSRF)",
            victim.jar.clone(),
            attacker.callback.clone(),
        ),
        (
            "attacker's callback with no cookies at all",
            Jar::default(),
            attacker.callback.clone(),
        ),
        (
            "victim's code under the attacker's state",
            victim.jar.clone(),
            callback(&[("code", &code_a), ("state", &state_b)]),
        ),
        (
            "another flow's cookie under this flow's name",
            renamed,
            attacker.callback.clone(),
        ),
        (
            "provider error with a valid state",
            victim.jar.clone(),
            callback(&[
                ("error", "access_denied"),
                ("state", &state_a),
                ("code", &code_a),
            ]),
        ),
        (
            "attacker's code under the victim's state (PKCE mismatch)",
            victim.jar.clone(),
            callback(&[("code", &code_b), ("state", &state_a)]),
        ),
    ];
    for (what, mut jar, url) in cases {
        let r = app.get(&mut jar, &url).await;
        let status = r.status().as_u16();
        let accepted = sets_session(&r) || r.status().is_redirection();
        assert!(
            (400..500).contains(&status),
            "{what}: {status} {}",
            r.text().await.unwrap_or_default()
        );
        assert!(jar.session().is_none(), "{what}");
        tally.record(status, accepted, what);
    }
    assert!(!name_a.is_empty());

    // A genuine flow completes, and its callback cannot be replayed, not
    // even with the flow cookie an attacker may have copied.
    let fresh = app.start_login(Jar::default(), "/auth/login", EMAIL).await;
    let copied = fresh.jar.clone();
    let mut jar = fresh.jar;
    let r = app.get(&mut jar, &fresh.callback).await;
    assert_eq!(r.status(), 303);
    for (what, mut jar) in [
        ("replay with the copied flow cookie", copied),
        ("replay by the signed-in browser", jar),
    ] {
        let r = app.get(&mut jar, &fresh.callback).await;
        let status = r.status().as_u16();
        assert_eq!(status, 400, "{what}");
        tally.record(status, sets_session(&r), what);
    }
    tally.report("callback-csrf");
}

#[tokio::test]
async fn cross_site_logout_and_switch_are_refused_and_the_session_survives() {
    let app = start().await;
    let tally = Tally::default();
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let cookie = jar.session().unwrap().clone();
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let host = app.base.trim_start_matches("http://").to_owned();
    let foreign_origins = [
        "https://evil.example".to_owned(),
        "null".to_owned(),
        "garbage".to_owned(),
        format!("http://127.0.0.1.evil.example:{port}"),
        format!("http://127.0.0.1:{}", port.wrapping_add(1)),
        format!("http://evil.example/{host}"),
    ];
    let org = app.emulator.organizations()[0].id.clone();
    for path in ["/auth/logout", "/auth/switch-organization"] {
        let mut attempts: Vec<(String, Vec<(&str, String)>)> = foreign_origins
            .iter()
            .map(|o| (format!("{path} Origin {o}"), vec![("origin", o.clone())]))
            .collect();
        attempts.push((
            format!("{path} Sec-Fetch-Site cross-site"),
            vec![("sec-fetch-site", "cross-site".into())],
        ));
        attempts.push((
            format!("{path} Sec-Fetch-Site cross-site with a same-origin Origin"),
            vec![
                ("sec-fetch-site", "cross-site".into()),
                ("origin", app.base.clone()),
            ],
        ));
        for (what, headers) in attempts {
            let mut request = app
                .http
                .post(format!("{}{path}", app.base))
                .header(COOKIE, jar.header())
                .form(&[("organization_id", org.as_str()), ("return_to", "/")]);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            assert_eq!(status, 403, "{what}");
            let touched = app::set_cookies(&r)
                .iter()
                .any(|(n, _, _)| n == "wos-session");
            tally.record(status, touched, &what);
        }
    }
    // A cross-site image tag: GET is not a logout.
    let r = app.get(&mut jar, "/auth/logout").await;
    tally.record(r.status().as_u16(), app::clears_session(&r), "GET logout");
    assert_eq!(r.status(), 405);
    assert_eq!(jar.session(), Some(&cookie), "the cookie is untouched");
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(r.status(), 200, "still signed in");

    // A same-site logout works.
    let r = app
        .http
        .post(format!("{}/auth/logout", app.base))
        .header(COOKIE, jar.header())
        .header(ORIGIN, &app.base)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(app::clears_session(&r));
    tally.report("logout-csrf");
}

/// Another scheme is another origin: `Origin: https://host` (or `http://`
/// for an https site) is not this site, even with the same host and port.
#[tokio::test]
async fn a_cross_scheme_origin_cannot_log_out() {
    let app = start().await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let host = app.base.trim_start_matches("http://");
    for path in ["/auth/logout", "/auth/switch-organization"] {
        let r = app
            .http
            .post(format!("{}{path}", app.base))
            .header(COOKIE, jar.header())
            .header(ORIGIN, format!("https://{host}"))
            .form(&[("organization_id", "org_x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
}

#[tokio::test]
async fn session_fixation_a_pre_set_cookie_never_survives_a_sign_in() {
    let app = start().await;
    let tally = Tally::default();
    let (attacker, _) = app.sign_in(Jar::default(), "/auth/login", MALLORY).await;
    let attacker_cookie = attacker.session().unwrap().clone();
    let (earlier, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let earlier_cookie = earlier.session().unwrap().clone();
    let mut earlier_jar = earlier.clone();
    let earlier_sid = app
        .get_json(&mut earlier_jar, "/account")
        .await
        .json::<Value>()
        .await
        .unwrap()["sid"]
        .clone();
    for (what, preset) in [
        ("attacker's valid session", attacker_cookie.clone()),
        (
            "attacker-chosen value",
            "attacker-fixed-session-id".to_owned(),
        ),
        ("victim's own earlier session", earlier_cookie.clone()),
    ] {
        let mut jar = Jar::default();
        jar.0.insert("wos-session".into(), preset.clone());
        let (mut jar, _) = app.sign_in(jar, "/auth/login", EMAIL).await;
        let after = jar.session().unwrap().clone();
        let me: Value = app
            .get_json(&mut jar, "/account")
            .await
            .json()
            .await
            .unwrap();
        let fixed = after == preset || me["email"] != EMAIL || me["sid"] == earlier_sid;
        tally.record(200, fixed, what);
        assert_ne!(after, preset, "{what}: the cookie was replaced");
        assert_eq!(me["email"], EMAIL, "{what}");
        assert_ne!(me["sid"], earlier_sid, "{what}: a fresh session");
    }
    tally.report("session-fixation");
}

#[tokio::test]
async fn emulator_sanity_the_suite_can_sign_in() {
    // Guards the suite against passing vacuously.
    let app = start().await;
    let (mut jar, landed) = app
        .sign_in(Jar::default(), "/auth/login?return_to=%2Faccount", EMAIL)
        .await;
    assert_eq!(landed, "/account");
    let r = app.get_json(&mut jar, "/account").await;
    assert_eq!(r.status(), 200);
    let r = app.get(&mut jar, "/whoami").await;
    assert_eq!(r.text().await.unwrap(), format!("signed in as {EMAIL}"));
}
