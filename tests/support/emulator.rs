//! For the suites that test the emulator itself (`tests/it/emulator_*.rs`):
//! the seeded emulator, a browser that does not follow redirects, PKCE, and
//! small readers for pages, redirects and tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use authkit_axum::client::{
    AuthenticateWithPassword, AuthenticationResponse, AuthorizationUrl, Error, Provider,
    UserManagement,
};
use authkit_axum::emulator::EmulatorExt;
use authkit_axum::emulator::{Emulator, EmulatorBuilder, Seed};
use authkit_axum::seal::Passwords;
use authkit_axum::session::SessionManager;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const ALICE: &str = "alice@example.com";
pub const ALICE_PASSWORD: &str = "alice-password";
pub const MULTI: &str = "multi@example.com";
pub const MULTI_PASSWORD: &str = "multi-password";
pub const UNVERIFIED: &str = "unverified@example.com";
pub const UNVERIFIED_PASSWORD: &str = "unverified-password";
pub const MFA: &str = "mfa@example.com";
pub const MFA_PASSWORD: &str = "mfa-password";
/// `JBSWY3DPEHPK3PXP` in base32.
pub const MFA_SECRET_BYTES: &[u8] = b"Hello!\xde\xad\xbe\xef";
pub const ENROLL: &str = "enroll@example.com";
pub const ENROLL_PASSWORD: &str = "enroll-password";
pub const SOLO: &str = "solo@example.com";
pub const SOLO_PASSWORD: &str = "solo-password";
pub const ACME: &str = "org_01HACMEEMULATORSEED00000A";
pub const CALLBACK: &str = "http://localhost:3000/auth/callback";
pub const COOKIE_PASSWORD: &str = "an-emulator-test-cookie-password-32+";

pub fn seed() -> Seed {
    Seed::from_json_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/emulator/seed.json"
    ))
    .expect("the test seed loads")
}

pub fn builder() -> EmulatorBuilder {
    Emulator::builder().with_seed(seed())
}

pub async fn start() -> Emulator {
    builder().start().await.expect("the emulator starts")
}

/// The id of the seeded organization named `name`.
pub fn org(emu: &Emulator, name: &str) -> String {
    emu.organizations()
        .into_iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no organization {name}"))
        .id
}

pub fn user_id(emu: &Emulator, email: &str) -> String {
    emu.user_by_email(email)
        .unwrap_or_else(|| panic!("no user {email}"))
        .id
}

pub async fn sign_in(
    client: &UserManagement,
    email: &str,
    password: &str,
) -> Result<AuthenticationResponse, Error> {
    client
        .authenticate_with_password(&AuthenticateWithPassword {
            email: email.into(),
            password: password.into(),
            ..Default::default()
        })
        .await
}

/// A browser: no redirects followed, so tests see them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A PKCE pair: (verifier, S256 challenge).
pub fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The AuthKit authorization URL for the callback, with a state and a challenge.
pub fn authorize_url(emu: &Emulator, challenge: Option<&str>, state: &str) -> String {
    emu.client()
        .authorization_url(&AuthorizationUrl {
            redirect_uri: CALLBACK.into(),
            provider: Some(Provider::AuthKit),
            state: Some(state.into()),
            code_challenge: challenge.map(str::to_owned),
            ..Default::default()
        })
        .unwrap()
}

/// `application/x-www-form-urlencoded`.
pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

pub async fn post_form(
    browser: &reqwest::Client,
    url: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .unwrap()
}

/// The `value` of the first input named `name` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let start = rest.find("value=\"")? + "value=\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_owned())
}

/// The form's `action` (absolute).
pub fn form_action(emu: &Emulator, html: &str) -> String {
    let at = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = html[at..].find('"').unwrap();
    format!("{}{}", emu.base_url(), &html[at..at + end])
}

/// A query parameter of a redirect's `Location`.
pub fn location_param(response: &reqwest::Response, name: &str) -> Option<String> {
    let location = response.headers().get("location")?.to_str().ok()?;
    url::Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Through the hosted page: GET authorize, POST the credentials. Returns the
/// answer to the POST (a redirect, a picker, or the page with an error).
pub async fn hosted_login(
    emu: &Emulator,
    authorize: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let browser = browser();
    let page = browser.get(authorize).send().await.unwrap();
    assert_eq!(page.status(), 200, "authorize should show the login page");
    let html = page.text().await.unwrap();
    let id = input_value(&html, "authorization_id").expect("a hidden authorization id");
    post_form(
        &browser,
        &form_action(emu, &html),
        &[
            ("authorization_id", &id),
            ("email", email),
            ("password", password),
        ],
    )
    .await
}

/// The verified-by-nobody claims of a JWT.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// A session manager against the emulator, on the emulator's clock.
pub fn sessions(emu: &Emulator) -> SessionManager {
    SessionManager::new(emu.client(), Passwords::single(COOKIE_PASSWORD).unwrap())
        .with_clock(emu.session_clock())
}

/// RFC 6238 computed here, independently of the emulator: HMAC-SHA1 over
/// the 30-second step, dynamic truncation, six digits.
pub fn totp(secret: &[u8], at: SystemTime) -> String {
    let step = at.duration_since(UNIX_EPOCH).unwrap().as_secs() / 30;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0xf) as usize;
    let value = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// A raw API call (for the MFA challenge endpoint the client lacks, and for shapes).
pub async fn api(
    emu: &Emulator,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", emu.base_url()))
        .bearer_auth(emu.api_key());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    };
    (status, body)
}

/// Creates a challenge for the user's first factor: `POST /auth/factors/{id}/challenge`.
pub async fn challenge(emu: &Emulator, factor_id: &str) -> String {
    let (status, body) = api(
        emu,
        reqwest::Method::POST,
        &format!("/auth/factors/{factor_id}/challenge"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}
