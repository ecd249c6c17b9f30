//! Shared by the emulator's own test binaries: the seeded emulator, raw
//! API calls (no WorkOS client library: the emulator is tested as any
//! language's client sees it), a browser, PKCE and small readers.
#![allow(dead_code, unreachable_pub)]

use authkit_emulator::{Emulator, Seed};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};

pub const ALICE: &str = "alice@example.com";
pub const ALICE_PASSWORD: &str = "alice-password";
pub const MULTI: &str = "multi@example.com";
pub const MULTI_PASSWORD: &str = "multi-password";
pub const MFA: &str = "mfa@example.com";
pub const MFA_PASSWORD: &str = "mfa-password";
pub const SOLO: &str = "solo@example.com";
pub const SOLO_PASSWORD: &str = "solo-password";
pub const ACME: &str = "org_01HACMEEMULATORSEED00000A";
pub const CALLBACK: &str = "http://localhost:3000/auth/callback";
pub const UM: &str = "/user_management";

/// `tests/fixtures/seed.json`.
pub fn seed() -> Seed {
    Seed::from_json_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/seed.json"
    ))
    .expect("the test seed loads")
}

pub async fn start() -> Emulator {
    Emulator::builder()
        .with_seed(seed())
        .start()
        .await
        .expect("the emulator starts")
}

pub fn user_id(emu: &Emulator, email: &str) -> String {
    emu.user_by_email(email)
        .unwrap_or_else(|| panic!("no user {email}"))
        .id
}

/// One HTTP client per emulator (one connection pool), in its extension slot.
#[derive(Clone)]
struct Http(reqwest::Client);

/// A raw API call with the emulator's key: (status, JSON body or `null`).
pub async fn api(emu: &Emulator, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    api_with_key(emu, emu.api_key(), method, path, body).await
}

/// A raw API call with `key` as the API key: (status, JSON body or `null`).
pub async fn api_with_key(
    emu: &Emulator,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let Http(http) = emu.extension(|| Http(reqwest::Client::new()));
    let mut request = http
        .request(method, format!("{}{path}", emu.base_url()))
        .bearer_auth(key);
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

/// [`api`], expecting a 2xx answer.
pub async fn api_ok(emu: &Emulator, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = api(emu, method.clone(), path, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// `POST /user_management/authenticate` with the client id and secret.
pub async fn authenticate(emu: &Emulator, grant_type: &str, mut body: Value) -> (u16, Value) {
    body["grant_type"] = json!(grant_type);
    body["client_id"] = json!(emu.client_id());
    body["client_secret"] = json!(emu.api_key());
    api(emu, Method::POST, &format!("{UM}/authenticate"), Some(body)).await
}

/// The password grant: (status, answer or error body).
pub async fn sign_in(emu: &Emulator, email: &str, password: &str) -> (u16, Value) {
    authenticate(
        emu,
        "password",
        json!({"email": email, "password": password}),
    )
    .await
}

/// The password grant, expecting success.
pub async fn signed_in(emu: &Emulator, email: &str, password: &str) -> Value {
    let (status, body) = sign_in(emu, email, password).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A browser: no redirects followed, so tests see them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The hosted flow's authorize URL for [`CALLBACK`] (no PKCE).
pub fn authorize_url(emu: &Emulator, state: &str) -> String {
    reqwest::Url::parse_with_params(
        &format!("{}{UM}/authorize", emu.base_url()),
        [
            ("client_id", emu.client_id()),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("provider", "authkit"),
            ("state", state),
        ],
    )
    .unwrap()
    .to_string()
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
    reqwest::Url::parse(location)
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
    browser
        .post(form_action(emu, &html))
        .form(&[
            ("authorization_id", id.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// The verified-by-nobody claims of a JWT.
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Creates a challenge for a factor: `POST /auth/factors/{id}/challenge`.
pub async fn challenge(emu: &Emulator, factor_id: &str) -> String {
    let (status, body) = api(
        emu,
        Method::POST,
        &format!("/auth/factors/{factor_id}/challenge"),
        None,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}
