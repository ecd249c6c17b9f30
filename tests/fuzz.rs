//! Bounded fuzzing with property tests (stable Rust, no libFuzzer): the
//! parsers that see attacker-controlled input must never panic and never
//! accept a forgery.
//!
//! * `unseal`: arbitrary strings and bytes, seal-shaped token soup, and
//!   mutations of a real seal (byte flips, truncations, insertions, field
//!   swaps, duplicated `*`, growth up to ~100 KiB);
//! * the layer's `Cookie` header parsing, through an axum app;
//! * `SessionManager::verify_access_token`: arbitrary strings, JWT-shaped
//!   tokens with hostile headers, and mutations of a real emulator token;
//! * the callback and login routes with arbitrary queries and cookies, and
//!   `return_to` values carried through complete logins at the emulator.
//!
//! `FUZZ_CASES` sets the number of cases per target (default 256; the login
//! round trips run a twenty-fifth of it). Each target prints how many inputs
//! it ran.

use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use authkit_axum::AuthKit;
use authkit_axum::AuthUser;
use authkit_axum::client::AuthenticateWithPassword;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
use authkit_axum::seal::{Passwords, SealOptions, UnsealOptions, seal, unseal};
use authkit_axum::session::{SessionData, TokenError};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const COOKIE_PASSWORD: &str = "fuzz-test-cookie-password-of-at-least-32-chars";
const EMAIL: &str = "demo@example.com";
const SESSION_COOKIE: &str = "wos-session";
/// Never contacted: the tests drive the app in process and read the
/// emulator's redirects themselves.
const REDIRECT_URI: &str = "http://127.0.0.1:9/auth/callback";
const APP_PATHS: &[&str] = &["/", "/whoami"];
const ROUTE_PATHS: &[&str] = &["/auth/callback", "/auth/login", "/auth/signup"];
const QUERY_SEPARATORS: &[&str] = &["&", "&&", ";", "&amp;"];
const RETURN_TO_STARTS: &[&str] = &["", "/", "/a", "//", "/\\"];

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// Cases for a target: `FUZZ_CASES` (default 256) divided by `divisor`.
fn cases(divisor: u32) -> u32 {
    let total = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .unwrap_or(256);
    (total / divisor).max(8)
}

/// Runs `test` on `cases` inputs from `strategy`; on failure, panics with
/// the shrunk (minimal) input. A panic inside `test` is caught by proptest,
/// shrunk, and reported the same way.
fn fuzz<S>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
    S::Value: Debug,
{
    let inputs = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    });
    let started = Instant::now();
    let result = runner.run(&strategy, |input| {
        inputs.fetch_add(1, Ordering::Relaxed);
        test(input)
    });
    let n = inputs.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    match result {
        Ok(()) => eprintln!("fuzz {name}: {n} inputs, 0 panics, 0 forgeries ({elapsed:.1?})"),
        Err(e) => panic!("fuzz {name}: FAILED after {n} inputs ({elapsed:.1?}): {e}"),
    }
}

/// A multi-threaded runtime for the async targets.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An app with the AuthKit layer and routes, backed by a demo emulator, and
/// one real signed-in session.
struct App {
    emulator: Emulator,
    authkit: AuthKit,
    router: Router,
    /// A valid `wos-session` value for the demo user.
    session_seal: String,
    /// The access token inside it.
    access_token: String,
    user_id: String,
}

async fn whoami(user: Option<AuthUser>) -> String {
    match user {
        Some(user) => format!("user:{}", user.user.id),
        None => "anon".to_owned(),
    }
}

async fn start_app() -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        // Long-lived tokens: no refresh happens during a run.
        .with_access_token_ttl(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let authkit = AuthKit::builder()
        .with_client(emulator.client())
        .with_cookie_password(COOKIE_PASSWORD)
        .with_redirect_uri(REDIRECT_URI)
        .with_clock(emulator.session_clock())
        .build()
        .unwrap();
    let router = Router::new()
        .route("/", get(whoami))
        .route("/whoami", get(whoami))
        .merge(authkit.routes())
        .layer(authkit.layer());
    let auth = emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: EMAIL.into(),
            password: DEMO_PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let session_seal = auth.seal_session(authkit.sessions().passwords()).unwrap();
    let access_token = auth.access_token.expose().to_owned();
    let user_id = auth.user.id.clone();
    let app = App {
        emulator,
        authkit,
        router,
        session_seal,
        access_token,
        user_id,
    };
    // The oracles below are only meaningful if the untouched inputs work.
    let (status, _, body) = app
        .get("/", &[format!("{SESSION_COOKIE}={}", app.session_seal)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, format!("user:{}", app.user_id));
    let (status, _, body) = app.get("/", &[] as &[&str]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "anon"));
    app.authkit
        .sessions()
        .verify_access_token(&app.access_token)
        .await
        .unwrap();
    app
}

impl App {
    /// `GET uri` through the app, with one `Cookie` header per entry.
    async fn get(
        &self,
        uri: &str,
        cookies: &[impl AsRef<[u8]>],
    ) -> (StatusCode, Vec<(String, String)>, String) {
        let mut request = Request::get(uri).header(header::ACCEPT, "text/html");
        for cookie in cookies {
            request = request.header(
                header::COOKIE,
                HeaderValue::from_bytes(cookie.as_ref()).unwrap(),
            );
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        read(response).await
    }
}

/// Status, `Set-Cookie` (name, value) pairs plus `Location` (as a pair named
/// `location`), and body.
async fn read(response: Response<Body>) -> (StatusCode, Vec<(String, String)>, String) {
    let status = response.status();
    let mut headers = Vec::new();
    for v in response.headers().get_all(header::SET_COOKIE) {
        let s = String::from_utf8_lossy(v.as_bytes());
        let pair = s.split(';').next().unwrap_or_default();
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    if let Some(v) = response.headers().get(header::LOCATION) {
        headers.push((
            "location".to_owned(),
            String::from_utf8_lossy(v.as_bytes()).into_owned(),
        ));
    }
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn sets_session(set_cookies: &[(String, String)]) -> Option<&str> {
    set_cookies
        .iter()
        .find(|(name, value)| name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| value.as_str())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode_lossy(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------
// Mutations of a valid input
// ---------------------------------------------------------------------------

/// One edit of a valid seal or token. Positions are taken modulo the length.
#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite a byte.
    Set(usize, u8),
    /// Flip one bit of a byte.
    Flip(usize, u8),
    /// Keep only the first `n` bytes.
    Truncate(usize),
    /// Remove `len` bytes.
    Remove(usize, usize),
    /// Insert bytes.
    Insert(usize, Vec<u8>),
    /// Insert `count` copies of a byte (up to ~100 KiB).
    Grow(usize, usize, u8),
    /// Swap two fields (split on the separator).
    SwapFields(usize, usize),
    /// Replace a field.
    ReplaceField(usize, String),
    /// Duplicate a separator.
    DuplicateSeparator(usize),
    /// Remove a separator, merging two fields.
    MergeFields(usize),
    /// Duplicate a whole field (with its separator).
    DuplicateField(usize),
    /// Upper/lower-case the ASCII letters of a field.
    ToggleCase(usize),
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        4 => prop::sample::select(b"*~.=-_+/0129aAfFzZ \"%;\\".to_vec()),
    ]
}

fn field_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[0-9a-fA-F]{0,80}",
        "[A-Za-z0-9_-]{0,64}",
        "[0-9]{0,30}",
        "[ -~]{0,24}",
        any::<String>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        6 => (any::<usize>(), interesting_byte()).prop_map(|(i, b)| Mutation::Set(i, b)),
        4 => (any::<usize>(), 0u8..8).prop_map(|(i, bit)| Mutation::Flip(i, bit)),
        2 => any::<usize>().prop_map(Mutation::Truncate),
        2 => (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Remove(i, n)),
        3 => (any::<usize>(), prop::collection::vec(interesting_byte(), 1..8))
            .prop_map(|(i, bytes)| Mutation::Insert(i, bytes)),
        1 => (any::<usize>(), 1usize..100 * 1024, interesting_byte())
            .prop_map(|(i, n, b)| Mutation::Grow(i, n, b)),
        2 => (0usize..10, 0usize..10).prop_map(|(a, b)| Mutation::SwapFields(a, b)),
        3 => (0usize..10, field_text()).prop_map(|(i, f)| Mutation::ReplaceField(i, f)),
        2 => (0usize..10).prop_map(Mutation::DuplicateSeparator),
        1 => (0usize..10).prop_map(Mutation::MergeFields),
        1 => (0usize..10).prop_map(Mutation::DuplicateField),
        1 => (0usize..10).prop_map(Mutation::ToggleCase),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..5)
}

/// Applies the edits to `original`, with `sep` as the field separator.
fn mutate(original: &str, edits: &[Mutation], sep: u8) -> String {
    let mut bytes = original.as_bytes().to_vec();
    for edit in edits {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % len };
        let at_or_end = |i: usize| i % (len + 1);
        match edit {
            Mutation::Set(i, b) if len > 0 => bytes[at(*i)] = *b,
            Mutation::Flip(i, bit) if len > 0 => bytes[at(*i)] ^= 1 << bit,
            Mutation::Set(..) | Mutation::Flip(..) => {}
            Mutation::Truncate(i) => bytes.truncate(at_or_end(*i)),
            Mutation::Remove(i, n) => {
                let start = at_or_end(*i);
                let end = (start + n).min(len);
                bytes.drain(start..end);
            }
            Mutation::Insert(i, new) => {
                let pos = at_or_end(*i);
                bytes.splice(pos..pos, new.iter().copied());
            }
            Mutation::Grow(i, n, b) => {
                let pos = at_or_end(*i);
                bytes.splice(pos..pos, std::iter::repeat_n(*b, *n));
            }
            Mutation::SwapFields(..)
            | Mutation::ReplaceField(..)
            | Mutation::DuplicateSeparator(_)
            | Mutation::MergeFields(_)
            | Mutation::DuplicateField(_)
            | Mutation::ToggleCase(_) => {
                let mut fields: Vec<Vec<u8>> =
                    bytes.split(|&c| c == sep).map(<[u8]>::to_vec).collect();
                let n = fields.len();
                let mut glue: Vec<Vec<u8>> = vec![vec![sep]; n.saturating_sub(1)];
                match edit {
                    Mutation::SwapFields(a, b) => fields.swap(a % n, b % n),
                    Mutation::ReplaceField(i, f) => fields[i % n] = f.as_bytes().to_vec(),
                    Mutation::DuplicateSeparator(i) if !glue.is_empty() => {
                        let k = i % glue.len();
                        glue[k] = vec![sep, sep];
                    }
                    Mutation::MergeFields(i) if !glue.is_empty() => {
                        let k = i % glue.len();
                        glue[k].clear();
                    }
                    Mutation::DuplicateField(i) => {
                        let k = i % n;
                        let copy = fields[k].clone();
                        fields.insert(k, copy);
                        glue.insert(k.min(glue.len()), vec![sep]);
                    }
                    Mutation::ToggleCase(i) => {
                        for c in &mut fields[i % n] {
                            if c.is_ascii_alphabetic() {
                                *c ^= 0x20;
                            }
                        }
                    }
                    _ => {}
                }
                let mut out = Vec::with_capacity(bytes.len() + 16);
                for (k, field) in fields.iter().enumerate() {
                    out.extend_from_slice(field);
                    if let Some(g) = glue.get(k) {
                        out.extend_from_slice(g);
                    }
                }
                bytes = out;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Free-form and structured garbage strings.
fn garbage(tokens: &'static [&'static str]) -> impl Strategy<Value = String> {
    let soup = prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(tokens).prop_map(str::to_owned),
            2 => field_text(),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat());
    prop_oneof![
        2 => any::<String>(),
        2 => prop::collection::vec(any::<u8>(), 0..512)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        4 => soup,
        1 => (prop::sample::select(tokens), 0usize..100 * 1024)
            .prop_map(|(t, n)| t.repeat(n.div_ceil(t.len().max(1)))),
    ]
}

// ---------------------------------------------------------------------------
// 1. unseal
// ---------------------------------------------------------------------------

const SEAL_TOKENS: &[&str] = &[
    "Fe26.2",
    "Fe26.1",
    "*",
    "**",
    "~2",
    "~",
    "~02",
    "1",
    "default",
    "=",
    "==",
    "+",
    "/",
    "%2A",
    "\0",
    "-1",
    "99999999999999999999999",
];

#[test]
fn fuzz_unseal() {
    let passwords = Passwords::single(COOKIE_PASSWORD).unwrap();
    let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000);
    let value = json!({
        "accessToken": "header.payload.signature",
        "refreshToken": "refresh_01",
        "user": {"id": "user_01", "email": "demo@example.com"},
        "n": 42,
        "padding": "x".repeat(100),
    });
    let sealed = [
        seal(
            &value,
            &passwords,
            SealOptions::default()
                .with_ttl(Duration::from_secs(3600))
                .with_now(now),
        )
        .unwrap(),
        seal(&value, &passwords, SealOptions::default().with_now(now)).unwrap(),
    ];
    let options = UnsealOptions::default().with_now(now);
    for good in &sealed {
        assert_eq!(unseal::<Value>(good, &passwords, options).unwrap(), value);
    }

    let originals = sealed.clone();
    let input = prop_oneof![
        1 => garbage(SEAL_TOKENS),
        3 => (0usize..2, mutations())
            .prop_map(move |(which, edits)| mutate(&originals[which], &edits, b'*')),
    ];
    fuzz("unseal", cases(1), input, |input| {
        // The untouched seal, and the same without iron-session's `~2`
        // suffix (iron's own format), are the only accepted inputs.
        let genuine = sealed
            .iter()
            .any(|good| input == *good || Some(input.as_str()) == good.strip_suffix("~2"));
        match unseal::<Value>(&input, &passwords, options) {
            Ok(got) => {
                prop_assert!(genuine, "FORGERY: {input:?} unsealed to {got}");
                prop_assert_eq!(got, value.clone());
            }
            Err(_) => prop_assert!(!genuine, "the genuine seal was refused"),
        }
        // The session type the layer unseals into: never panics either.
        let _ = unseal::<SessionData>(&input, &passwords, options);
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// 2. Cookie header parsing, through the layer
// ---------------------------------------------------------------------------

fn cookie_piece(seal: String) -> impl Strategy<Value = Vec<u8>> {
    let tokens: &'static [&'static str] = &[
        "wos-session=",
        "wos-session",
        " wos-session = ",
        "WOS-SESSION=",
        "wos-auth-verifier-0011223344556677=",
        ";",
        "; ",
        ";;",
        "=",
        "==",
        "\"",
        "%",
        "%2",
        "%zz",
        "%7E",
        "%2A",
        "%FF",
        "%C3%A9",
        "%00",
        "Fe26.2*1*",
        "*",
        "~2",
        " ",
        "\t",
        "a=b",
    ];
    let encoded = percent_encode(&seal);
    let flipped = seal.clone();
    prop_oneof![
        8 => prop::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
        3 => "[ -~]{0,24}".prop_map(String::into_bytes),
        2 => prop::collection::vec(any::<u8>(), 0..16),
        1 => Just(seal.clone().into_bytes()),
        1 => Just(encoded.into_bytes()),
        2 => mutations().prop_map(move |edits| mutate(&flipped, &edits, b'*').into_bytes()),
        1 => (1usize..4096).prop_map(|n| ";".repeat(n).into_bytes()),
        1 => (1usize..2048).prop_map(|n| "wos-session=x; ".repeat(n).into_bytes()),
        1 => (0usize..70 * 1024).prop_map(|n| "A".repeat(n).into_bytes()),
    ]
}

/// Makes bytes a valid header value: control characters (but tab) become `x`.
fn header_safe(mut bytes: Vec<u8>) -> Vec<u8> {
    for b in &mut bytes {
        if (*b < 0x20 && *b != b'\t') || *b == 0x7f {
            *b = b'x';
        }
    }
    bytes
}

fn cookie_headers(seal: String) -> impl Strategy<Value = Vec<Vec<u8>>> {
    let soup = prop::collection::vec(
        prop::collection::vec(cookie_piece(seal.clone()), 0..24)
            .prop_map(|p| header_safe(p.concat())),
        0..4,
    );
    // A single session cookie around a genuine, encoded, quoted or mutated
    // seal: the near misses an attacker would try.
    let near = {
        let seal = seal.clone();
        (
            prop::sample::select(&["", "a=b; ", "wos-session; ", " ", "x=%zz; "][..]),
            0u8..4,
            mutations(),
            prop::sample::select(&["", ";", "; a=b", "; wos-session=other", "\""][..]),
        )
            .prop_map(move |(before, shape, edits, after)| {
                let value = match shape {
                    0 => seal.clone(),
                    1 => percent_encode(&seal),
                    2 => format!("\"{seal}\""),
                    _ => mutate(&seal, &edits, b'*'),
                };
                vec![header_safe(
                    format!("{before}{SESSION_COOKIE}={value}{after}").into_bytes(),
                )]
            })
    };
    prop_oneof![2 => soup, 1 => near]
}

#[test]
fn fuzz_cookie_header() {
    let rt = runtime();
    let app = rt.block_on(start_app());
    let strategy = (
        prop::sample::select(APP_PATHS),
        cookie_headers(app.session_seal.clone()),
    );
    let authenticated = AtomicUsize::new(0);
    fuzz("cookie header", cases(1), strategy, |(path, headers)| {
        let (status, set_cookies, body) = rt.block_on(app.get(path, &headers));
        prop_assert!(
            !status.is_server_error(),
            "{status} for Cookie {headers:?}: {body}"
        );
        prop_assert_eq!(status, StatusCode::OK);
        if body != "anon" {
            prop_assert_eq!(&body, &format!("user:{}", app.user_id));
            // Authenticated only when the genuine seal is in the header.
            let decoded: Vec<String> = headers
                .iter()
                .map(|h| percent_decode_lossy(&String::from_utf8_lossy(h)))
                .collect();
            // (iron's format without the `~2` suffix is the same seal.)
            let genuine = app.session_seal.strip_suffix("~2").unwrap();
            prop_assert!(
                decoded.iter().any(|h| h.contains(genuine)),
                "FORGERY: authenticated by Cookie {headers:?}"
            );
            authenticated.fetch_add(1, Ordering::Relaxed);
        }
        prop_assert!(
            sets_session(&set_cookies).is_none(),
            "a session cookie was set for Cookie {headers:?}"
        );
        Ok(())
    });
    eprintln!(
        "fuzz cookie header: {} inputs carried the genuine seal and authenticated",
        authenticated.load(Ordering::Relaxed)
    );
}

// ---------------------------------------------------------------------------
// 3. Access tokens
// ---------------------------------------------------------------------------

const JWT_TOKENS: &[&str] = &[
    "eyJ",
    ".",
    "..",
    "=",
    "-",
    "_",
    "+",
    "/",
    "eyJhbGciOiJub25lIn0",
    "e30",
    "null",
    "W10",
];

/// A JWT header with hostile variations, base64url-encoded.
fn jwt_header(real_kid: String) -> impl Strategy<Value = String> {
    let alg = prop_oneof![
        Just(json!("RS256")),
        Just(json!("rs256")),
        Just(json!("none")),
        Just(json!("HS256")),
        Just(json!("ES256")),
        Just(json!("PS256")),
        Just(json!("EdDSA")),
        Just(json!(null)),
        Just(json!(256)),
        any::<String>().prop_map(Value::from),
    ];
    let kid = prop_oneof![
        Just(Some(json!(real_kid))),
        Just(None),
        Just(Some(json!(null))),
        Just(Some(json!(1))),
        Just(Some(json!(""))),
        any::<String>().prop_map(|s| Some(Value::from(s))),
    ];
    let extra = prop_oneof![
        Just(None),
        Just(Some(("typ", json!("JWT")))),
        Just(Some(("crit", json!(["exp"])))),
        Just(Some(("jku", json!("http://evil.example/jwks")))),
        Just(Some(("jwk", json!({"kty": "oct", "k": "AAAA"})))),
        Just(Some(("x5u", json!("http://evil.example/cert")))),
        Just(Some(("b64", json!(false)))),
    ];
    (alg, kid, extra, any::<bool>()).prop_map(|(alg, kid, extra, as_array)| {
        let mut header = serde_json::Map::new();
        header.insert("alg".into(), alg);
        if let Some(kid) = kid {
            header.insert("kid".into(), kid);
        }
        if let Some((name, value)) = extra {
            header.insert(name.into(), value);
        }
        let header = if as_array {
            Value::Array(vec![Value::Object(header)])
        } else {
            Value::Object(header)
        };
        URL_SAFE_NO_PAD.encode(header.to_string())
    })
}

fn jwt_payload(real: String) -> impl Strategy<Value = String> {
    prop_oneof![
        Just(real),
        Just(URL_SAFE_NO_PAD.encode(r#"{"sub":"user_evil","sid":"s","exp":99999999999}"#)),
        Just(URL_SAFE_NO_PAD.encode("{}")),
        Just(URL_SAFE_NO_PAD.encode("[]")),
        Just(URL_SAFE_NO_PAD.encode(r#"{"sub":1,"exp":"x"}"#)),
        any::<String>().prop_map(|s| URL_SAFE_NO_PAD.encode(s)),
        "[A-Za-z0-9_=+/-]{0,40}",
    ]
}

#[test]
fn fuzz_access_token() {
    let rt = runtime();
    let app = rt.block_on(start_app());
    let good = app.access_token.clone();
    let parts: Vec<&str> = good.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap().to_owned();
    let (payload, signature) = (parts[1].to_owned(), parts[2].to_owned());
    let signature_choices = prop_oneof![
        Just(signature.clone()),
        Just(String::new()),
        "[A-Za-z0-9_-]{0,400}",
        prop::collection::vec(any::<u8>(), 256).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
    ];
    let shaped = (jwt_header(kid), jwt_payload(payload), signature_choices)
        .prop_map(|(h, p, s)| format!("{h}.{p}.{s}"));
    let mutated = {
        let good = good.clone();
        mutations().prop_map(move |edits| mutate(&good, &edits, b'.'))
    };
    let input = prop_oneof![
        1 => garbage(JWT_TOKENS),
        2 => shaped,
        3 => mutated,
    ];
    let sessions = app.authkit.sessions();
    fuzz("access token", cases(1), input, |token| {
        let verified = match rt.block_on(sessions.verify_access_token(&token)) {
            Ok(claims) => Some(claims),
            Err(TokenError::Expired(claims)) => Some(claims),
            Err(_) => None,
        };
        if let Some(claims) = verified {
            prop_assert!(
                token == good,
                "FORGERY: {token:?} verified with claims {claims:?}"
            );
        } else {
            prop_assert!(token != good, "the genuine token was refused");
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------
// 4. Callback and login routes
// ---------------------------------------------------------------------------

fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>().prop_map(|s| percent_encode(&s)),
        3 => "[A-Za-z0-9%&=+._~*/:?@!$'(),;-]{0,40}",
        1 => Just("%".to_owned()),
        1 => Just("%zz".to_owned()),
        1 => Just("%FF%FE".to_owned()),
        1 => (0usize..20 * 1024).prop_map(|n| "a".repeat(n)),
    ]
}

fn query(real_state: String) -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("code".to_owned()),
        Just("state".to_owned()),
        Just("error".to_owned()),
        Just("error_description".to_owned()),
        Just("return_to".to_owned()),
        Just("organization_id".to_owned()),
        Just("login_hint".to_owned()),
        "[a-z_%]{0,8}",
    ];
    let value = prop_oneof![
        6 => query_value(),
        1 => Just(real_state),
    ];
    let pair = (key, value, 0u8..4).prop_map(|(k, v, shape)| match shape {
        0 => k,
        1 => format!("{k}="),
        _ => format!("{k}={v}"),
    });
    (
        prop::collection::vec(pair, 0..8),
        prop::sample::select(QUERY_SEPARATORS),
    )
        .prop_map(|(pairs, sep)| pairs.join(sep))
}

#[test]
fn fuzz_callback_and_login_queries() {
    let rt = runtime();
    let app = rt.block_on(start_app());
    // A real pending sign-in: its state and verifier cookie, so that some
    // cases reach the code exchange (with a code that is never valid).
    let (status, set_cookies, _) = rt.block_on(app.get("/auth/login", &[] as &[&str]));
    assert!(status.is_redirection());
    let location = &set_cookies.iter().find(|(n, _)| n == "location").unwrap().1;
    let state = location
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("state="))
        .unwrap()
        .to_owned();
    let verifier_cookie = set_cookies
        .iter()
        .find(|(n, _)| n.starts_with("wos-auth-verifier-"))
        .map(|(n, v)| format!("{n}={v}"))
        .unwrap();

    let strategy = (
        prop::sample::select(ROUTE_PATHS),
        query(state),
        prop_oneof![
            2 => cookie_headers(app.session_seal.clone()),
            1 => Just(vec![verifier_cookie.clone().into_bytes()]),
        ],
    );
    fuzz(
        "callback/login query",
        cases(2),
        strategy,
        |(path, query, headers)| {
            let uri = format!("{path}?{query}");
            prop_assume!(uri.parse::<axum::http::Uri>().is_ok());
            let (status, set_cookies, body) = rt.block_on(app.get(&uri, &headers));
            prop_assert!(
                !status.is_server_error(),
                "{status} for {uri:?} with Cookie {headers:?}: {body}"
            );
            prop_assert!(
                sets_session(&set_cookies).is_none(),
                "FORGERY: a session cookie was set for {uri:?} with Cookie {headers:?}"
            );
            Ok(())
        },
    );
}

/// Why `location` is not a same-origin path, if it is not.
fn not_same_origin(location: &str) -> Option<&'static str> {
    let plain = |p: &str| -> Option<&'static str> {
        if !p.starts_with('/') {
            return Some("does not start with '/'");
        }
        if p.starts_with("//") || p.starts_with("/\\") {
            return Some("starts with // or /\\");
        }
        if p.contains('\\') {
            return Some("contains a backslash");
        }
        if p.chars().any(char::is_control) {
            return Some("contains a control character");
        }
        None
    };
    if let Some(why) = plain(location) {
        return Some(why);
    }
    if location.chars().any(char::is_whitespace) {
        return Some("contains whitespace");
    }
    if reqwest::Url::parse(location).is_ok() {
        return Some("is an absolute URL");
    }
    let base = reqwest::Url::parse("http://app.invalid/").unwrap();
    match base.join(location) {
        Ok(url) if url.host_str() != Some("app.invalid") => {
            return Some("resolves to another host");
        }
        Ok(url) if !url.username().is_empty() => return Some("resolves with credentials"),
        Ok(url) if url.path().starts_with("//") => return Some("resolves to a // path"),
        Ok(_) => {}
        Err(_) => return Some("does not resolve"),
    }
    let mut current = location.to_owned();
    for _ in 0..3 {
        current = percent_decode_lossy(&current);
        if plain(&current).is_some() {
            return Some("decodes to a non-plain path");
        }
    }
    None
}

#[test]
fn the_same_origin_oracle_flags_open_redirects() {
    for bad in [
        "",
        "evil.example",
        "//evil.example",
        "/\\evil.example",
        "/a\\b",
        "https://evil.example",
        "javascript:alert(1)",
        "/%2f%2fevil.example",
        "/%252f%252fevil.example",
        "/%5cevil.example",
        "/\t/evil.example",
        "/ ",
        "/\u{85}",
    ] {
        assert!(not_same_origin(bad).is_some(), "{bad:?}");
    }
    for good in [
        "/",
        "/account?tab=1#x",
        "/search?q=//not-a-host",
        "/%E2%9C%93",
    ] {
        assert_eq!(not_same_origin(good), None, "{good:?}");
    }
}

fn return_to() -> impl Strategy<Value = String> {
    let pieces: &'static [&'static str] = &[
        "/",
        "//",
        "///",
        "\\",
        "/\\",
        "%2f",
        "%2F",
        "%5c",
        "%5C",
        "%252f",
        "%255c",
        "%25",
        "%",
        "%09",
        "%0a",
        "%00",
        "\t",
        "\n",
        "\r",
        " ",
        "\0",
        "\u{7f}",
        "\u{85}",
        "\u{a0}",
        "\u{2028}",
        "\u{3000}",
        "\u{feff}",
        "\u{ff0f}",
        "\u{2215}",
        "http:",
        "https:",
        "https://evil.example",
        "javascript:",
        "data:",
        "evil.example",
        "@",
        ":",
        ".",
        "..",
        "./",
        "../",
        "?",
        "#",
        "&",
        "=",
        "+",
        "a",
        "account",
    ];
    let piece = prop_oneof![
        6 => prop::sample::select(pieces).prop_map(str::to_owned),
        2 => "[a-z0-9]{1,6}",
        1 => any::<char>().prop_map(String::from),
    ];
    (
        prop::sample::select(RETURN_TO_STARTS),
        prop::collection::vec(piece, 0..10),
    )
        .prop_map(|(start, rest)| format!("{start}{}", rest.concat()))
}

fn location_of(set_cookies: &[(String, String)]) -> Option<&str> {
    set_cookies
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.as_str())
}

impl App {
    /// A complete sign-in starting at `/auth/login?return_to=…`: the
    /// emulator's login page and form, then the callback. Returns where the
    /// callback sent the browser.
    async fn login_returning_to(
        &self,
        http: &reqwest::Client,
        return_to: &str,
    ) -> Result<String, String> {
        let (status, set_cookies, body) = self
            .get(
                &format!("/auth/login?return_to={}", percent_encode(return_to)),
                &[] as &[&str],
            )
            .await;
        if !status.is_redirection() {
            return Err(format!("login answered {status}: {body}"));
        }
        let mut url = location_of(&set_cookies).ok_or("no location")?.to_owned();
        let cookie = set_cookies
            .iter()
            .filter(|(n, v)| n.starts_with("wos-auth-verifier-") && !v.is_empty())
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        // The emulator's hosted login page.
        let mut authorization_id = None;
        for _ in 0..5 {
            let r = http.get(&url).send().await.map_err(|e| e.to_string())?;
            if r.status().is_redirection() {
                let next = r.headers()[header::LOCATION].to_str().unwrap().to_owned();
                url = if next.starts_with("http") {
                    next
                } else {
                    format!("{}{next}", self.emulator.base_url())
                };
                continue;
            }
            let html = r.text().await.map_err(|e| e.to_string())?;
            let marker = "name=\"authorization_id\" value=\"";
            let start = html.find(marker).ok_or("no authorization id")? + marker.len();
            let end = start + html[start..].find('"').ok_or("unterminated id")?;
            authorization_id = Some(html[start..end].to_owned());
            break;
        }
        let authorization_id = authorization_id.ok_or("too many redirects")?;
        let r = http
            .post(format!("{}/emulator/login", self.emulator.base_url()))
            .form(&[
                ("authorization_id", authorization_id.as_str()),
                ("email", EMAIL),
                ("password", DEMO_PASSWORD),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let callback = r
            .headers()
            .get(header::LOCATION)
            .ok_or("the login form did not redirect")?
            .to_str()
            .unwrap()
            .to_owned();
        let path = callback
            .strip_prefix("http://127.0.0.1:9")
            .ok_or_else(|| format!("unexpected callback {callback}"))?;
        let (status, set_cookies, body) = self.get(path, &[cookie]).await;
        if !status.is_redirection() {
            return Err(format!("callback answered {status}: {body}"));
        }
        if sets_session(&set_cookies).is_none() {
            return Err("the callback set no session".to_owned());
        }
        Ok(location_of(&set_cookies)
            .ok_or("callback without location")?
            .to_owned())
    }
}

#[test]
fn fuzz_return_to_through_a_real_login() {
    let rt = runtime();
    let app = rt.block_on(start_app());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let kept = AtomicUsize::new(0);
    fuzz("return_to login", cases(25), return_to(), |return_to| {
        let landed = rt
            .block_on(app.login_returning_to(&http, &return_to))
            .map_err(TestCaseError::fail)?;
        if let Some(why) = not_same_origin(&landed) {
            return Err(TestCaseError::fail(format!(
                "OPEN REDIRECT: return_to {return_to:?} landed on {landed:?}, which {why}"
            )));
        }
        if landed == return_to {
            kept.fetch_add(1, Ordering::Relaxed);
        } else {
            prop_assert_eq!(landed.as_str(), "/", "neither kept nor the fallback");
        }
        Ok(())
    });
    eprintln!(
        "fuzz return_to login: {} return_to values kept as given, the rest fell back to /",
        kept.load(Ordering::Relaxed)
    );
}
