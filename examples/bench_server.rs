//! The servers behind `bench/load.sh`, in one binary with three modes.
//!
//! ```text
//! bench_server emulator --port P --out FILE [--sessions N --sessions-out FILE2]
//!     The WorkOS emulator on 127.0.0.1:P (demo seed, 2 h access tokens).
//!     Signs the demo user in, seals the session cookie with a fixed bench
//!     password and writes {base_url, api_key, client_id, cookie_password,
//!     cookie} as JSON to FILE. With --sessions, also seeds N more users
//!     and signs each in once by password (through the client, over HTTP,
//!     64 at a time), writing one line per session to FILE2:
//!     `<user id> TAB <sealed cookie> TAB <access token>`. Then serves
//!     until killed.
//!
//! bench_server app --mode none|layer|authkit|authkit-nocache --port P --config FILE
//! bench_server app --mode floor --port P --config FILE --sessions FILE2
//!     On 127.0.0.1:P, answering {"ok":true,"user":…}:
//!     GET /api/ping (the session cookie; AuthUser) and GET /api/claims
//!     (a Bearer token or the cookie; AuthClaims, no user fetch).
//!     none: no authentication (the ceiling; a constant user).
//!     layer: the same behind one `Extension` layer (an `Arc`), its
//!     responses carrying the two headers the AuthKit layer adds to a
//!     signed-in request's (`Cache-Control: no-store`, and `Vary: Cookie`,
//!     or `Authorization` on /api/claims): the shape of any layer that hands
//!     the handler a value and marks the answer personal, authentication
//!     aside.
//!     authkit: the AuthKit layer against the emulator in FILE.
//!     authkit-nocache: the same with the session and token caches off
//!     (every request unsealed and its token verified).
//!     floor: no authentication layer, but every request pays the crypto
//!     floor on its own credential, as `benches/cold.rs` times it: the
//!     sessions of FILE2 taken apart at start (keys derived, fields
//!     decoded), a request's cookie found by its last bytes, then
//!     HMAC-SHA256 over its MAC base, AES-256-CBC decryption of its
//!     ciphertext and one RS256 verification of its access token (a Bearer
//!     request: the RS256 verification alone). Left out, as from the
//!     floor: iron's two key derivations, base64 and JSON, which a real
//!     unseal cannot skip. It answers with the session's own user, or 401
//!     when a check fails or the credential is not byte for byte a minted
//!     one: the ceiling plus the floor under the cold modes' very load.
//!
//! bench_server storm [--requests N] [--replicas 2 --nginx PATH]
//!     In-process emulator and AuthKit app; one session whose access token
//!     has expired; N (default 200) concurrent requests with that cookie.
//!     With --replicas R, R AuthKit apps (each its own caches and refresh
//!     single flight, as R processes would have) behind a real nginx
//!     (round-robin), the requests going through nginx.
//!     Prints {requests, ok, errors, upstream_refresh_calls, …} as JSON.
//! ```
//!
//! Everything listens on 127.0.0.1 only.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authkit_axum::client::AuthenticateWithPassword;
use authkit_axum::client::UserManagement;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed, SeedUser};
use authkit_axum::seal::Passwords;
use authkit_axum::{AuthClaims, AuthKit, AuthKitBuilder, AuthUser};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

type BoxError = Box<dyn Error + Send + Sync>;

/// The cookie password every bench server shares (at least 32 characters).
const BENCH_COOKIE_PASSWORD: &str = "authkit-axum-bench-cookie-password-0123456789";
/// The user the `none` mode pretends is signed in: an id as long as a WorkOS one (`user_` and
/// a 26-character ULID, as the emulator mints them), so the ceiling's
/// answers are the same size as the layer's.
const NONE_USER: &str = "user_01NOAUTH0CEILING0000000000";
const _: () = assert!(NONE_USER.len() == "user_".len() + 26);
/// The session cookie's name (the SDKs' default).
const COOKIE_NAME: &str = "wos-session";

/// The password of every user seeded for `--sessions`.
const SESSION_USER_PASSWORD: &str = "bench-user-password-0123";
/// How many sign-ins `--sessions` runs at once.
const MINT_CONCURRENCY: usize = 64;

const USAGE: &str = "usage:
  bench_server emulator --port P --out FILE [--sessions N --sessions-out FILE2]
  bench_server app --mode none|layer|authkit|authkit-nocache --port P --config FILE
  bench_server app --mode floor --port P --config FILE --sessions FILE2
  bench_server storm [--requests N] [--replicas R --nginx PATH]";

/// What the emulator mode writes for the app servers and the load generator.
#[derive(Debug, Serialize, Deserialize)]
struct BenchConfig {
    base_url: String,
    api_key: String,
    client_id: String,
    cookie_password: String,
    cookie: String,
}

impl BenchConfig {
    /// The config the emulator mode wrote to `path`.
    fn read(path: &str) -> Result<BenchConfig, BoxError> {
        Ok(serde_json::from_slice(&std::fs::read(path)?)?)
    }

    /// A client of the emulator it names.
    fn client(&self) -> Result<UserManagement, BoxError> {
        Ok(UserManagement::builder(&self.api_key, &self.client_id)
            .with_base_url(&self.base_url)
            .build()?)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, rest)) = args.split_first() else {
        fail(USAGE);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("could not start tokio: {e}")));
    let result = match mode.as_str() {
        "emulator" => {
            let port = flag(rest, "--port").and_then(parse_port);
            let out = flag(rest, "--out");
            let (Some(port), Some(out)) = (port, out) else {
                fail(USAGE);
            };
            let sessions = match (flag(rest, "--sessions"), flag(rest, "--sessions-out")) {
                (None, None) => None,
                (Some(n), Some(file)) => Some((n.parse().unwrap_or_else(|_| fail(USAGE)), file)),
                _ => fail(USAGE),
            };
            runtime.block_on(run_emulator(port, out, sessions))
        }
        "app" => {
            let mode = flag(rest, "--mode");
            let port = flag(rest, "--port").and_then(parse_port);
            let config = flag(rest, "--config");
            match (mode, port, config) {
                (Some("none"), Some(port), _) => runtime.block_on(run_app(port, App::Ceiling)),
                (Some("layer"), Some(port), _) => {
                    runtime.block_on(run_app(port, App::CeilingWithExtension))
                }
                (Some("authkit"), Some(port), Some(config)) => runtime.block_on(run_app(
                    port,
                    App::AuthKit {
                        config,
                        caches: true,
                    },
                )),
                (Some("authkit-nocache"), Some(port), Some(config)) => runtime.block_on(run_app(
                    port,
                    App::AuthKit {
                        config,
                        caches: false,
                    },
                )),
                (Some("floor"), Some(port), Some(config)) => {
                    let Some(sessions) = flag(rest, "--sessions") else {
                        fail(USAGE);
                    };
                    runtime.block_on(run_app(port, App::Floor { config, sessions }))
                }
                _ => fail(USAGE),
            }
        }
        "storm" => {
            let requests = match flag(rest, "--requests") {
                None => 200,
                Some(n) => n.parse().unwrap_or_else(|_| fail(USAGE)),
            };
            let balancer = match (flag(rest, "--replicas"), flag(rest, "--nginx")) {
                (None, None) => None,
                (Some(n), Some(nginx)) => {
                    let replicas: usize = n.parse().unwrap_or_else(|_| fail(USAGE));
                    if replicas == 0 {
                        fail(USAGE);
                    }
                    Some((replicas, nginx))
                }
                _ => fail(USAGE),
            };
            runtime.block_on(run_storm(requests, balancer))
        }
        _ => fail(USAGE),
    };
    if let Err(e) = result {
        fail(&format!("bench_server {mode}: {e}"));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2)
}

/// The value after `name` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).map(String::as_str)
}

fn parse_port(s: &str) -> Option<u16> {
    s.parse().ok()
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

// ---------------------------------------------------------------- emulator

fn session_user_email(i: usize) -> String {
    format!("bench{i:05}@bench.example")
}

async fn run_emulator(
    port: u16,
    out: &str,
    sessions: Option<(usize, &str)>,
) -> Result<(), BoxError> {
    let mut seed = Seed::demo();
    for i in 0..sessions.map_or(0, |(n, _)| n) {
        seed = seed.with_user(SeedUser::new(session_user_email(i), SESSION_USER_PASSWORD));
    }
    let emulator = Emulator::builder()
        .with_seed(seed)
        .with_access_token_ttl(Duration::from_secs(2 * 3600))
        .with_port(port)
        .start()
        .await?;
    let cookie = sign_in(&emulator).await?;
    if let Some((n, file)) = sessions {
        mint_sessions(&emulator, n, file).await?;
    }
    let config = BenchConfig {
        base_url: emulator.base_url().to_owned(),
        api_key: emulator.api_key().to_owned(),
        client_id: emulator.client_id().to_owned(),
        cookie_password: BENCH_COOKIE_PASSWORD.to_owned(),
        cookie,
    };
    // Written whole, then renamed, so a reader never sees half a file.
    let tmp = format!("{out}.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&config)?)?;
    std::fs::rename(&tmp, out)?;
    println!(
        "emulator on {} (client {}); cookie password {BENCH_COOKIE_PASSWORD:?}; \
         session cookie ({} bytes) written to {out}",
        config.base_url,
        config.client_id,
        config.cookie.len()
    );
    shutdown_signal().await;
    emulator.stop().await;
    Ok(())
}

/// Signs the demo user in by password and seals the session cookie.
async fn sign_in(emulator: &Emulator) -> Result<String, BoxError> {
    let auth = emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "demo@example.com".into(),
            password: DEMO_PASSWORD.into(),
            ..Default::default()
        })
        .await?;
    Ok(auth.seal_session(&Passwords::single(BENCH_COOKIE_PASSWORD)?)?)
}

/// Signs the `n` seeded bench users in once each (password grant through
/// the client, [`MINT_CONCURRENCY`] at a time), seals their sessions with
/// the bench password and writes `<user id>\t<cookie>\t<access token>`
/// lines to `file` (written whole, then renamed).
async fn mint_sessions(emulator: &Emulator, n: usize, file: &str) -> Result<(), BoxError> {
    use futures_util::StreamExt as _;
    let started = Instant::now();
    let client = emulator.client();
    let passwords = Passwords::single(BENCH_COOKIE_PASSWORD)?;
    let mut minted = futures_util::stream::iter(0..n)
        .map(|i| {
            let (client, passwords) = (client.clone(), passwords.clone());
            async move {
                let auth = client
                    .authenticate_with_password(&AuthenticateWithPassword {
                        email: session_user_email(i),
                        password: SESSION_USER_PASSWORD.into(),
                        ..Default::default()
                    })
                    .await?;
                let cookie = auth.seal_session(&passwords)?;
                Ok::<_, BoxError>(format!(
                    "{}\t{cookie}\t{}\n",
                    auth.user.id,
                    auth.access_token.expose()
                ))
            }
        })
        .buffered(MINT_CONCURRENCY);
    let mut lines = String::new();
    while let Some(line) = minted.next().await {
        lines.push_str(&line?);
    }
    let tmp = format!("{file}.tmp");
    std::fs::write(&tmp, lines)?;
    std::fs::rename(&tmp, file)?;
    println!(
        "{n} sessions minted (one password sign-in each) in {:.1} s, written to {file}",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------- app

async fn ping_none() -> Json<Value> {
    Json(json!({"ok": true, "user": NONE_USER}))
}

/// The ceiling's answer with the headers the AuthKit layer adds for a
/// signed-in request judged by `vary`.
fn personal(vary: &'static str) -> impl axum::response::IntoResponse {
    (
        [
            (
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("no-store"),
            ),
            (http::header::VARY, http::HeaderValue::from_static(vary)),
        ],
        Json(json!({"ok": true, "user": NONE_USER})),
    )
}

async fn ping_personal() -> impl axum::response::IntoResponse {
    personal("Cookie")
}

async fn claims_personal() -> impl axum::response::IntoResponse {
    personal("Authorization")
}

async fn ping_authkit(user: AuthUser) -> Json<Value> {
    Json(json!({"ok": true, "user": user.user.id}))
}

async fn claims_authkit(claims: AuthClaims) -> Json<Value> {
    Json(json!({"ok": true, "user": claims.user_id()}))
}

fn authkit_router(authkit: &AuthKit) -> Router {
    Router::new()
        .route("/api/ping", get(ping_authkit))
        .route("/api/claims", get(claims_authkit))
        .layer(authkit.layer())
}

/// The AuthKit settings both the app and the storm use.
fn bench_authkit(client: UserManagement, port: u16, password: &str) -> AuthKitBuilder {
    AuthKit::builder()
        .with_client(client)
        .with_cookie_password(password.to_owned())
        .with_redirect_uri(format!("http://127.0.0.1:{port}/auth/callback"))
        // Unauthenticated /api requests answer 401, never a redirect, so the
        // load generator counts them as failures.
        .with_api_prefix("/api")
}

/// The app servers `bench/load.sh` compares.
enum App<'a> {
    /// No authentication: the ceiling.
    Ceiling,
    /// The ceiling behind one `Extension` layer, answering with the AuthKit
    /// layer's two response headers: any such layer's shape.
    CeilingWithExtension,
    /// The AuthKit layer against the emulator of the config file at `config`.
    AuthKit { config: &'a str, caches: bool },
    /// The ceiling plus the crypto floor on each request's own credential,
    /// one of the minted `sessions`.
    Floor { config: &'a str, sessions: &'a str },
}

async fn run_app(port: u16, app: App<'_>) -> Result<(), BoxError> {
    let ceiling = || {
        Router::new()
            .route("/api/ping", get(ping_none))
            .route("/api/claims", get(ping_none))
    };
    let (app, what) = match app {
        App::Ceiling => (ceiling(), "none"),
        App::CeilingWithExtension => (
            Router::new()
                .route("/api/ping", get(ping_personal))
                .route("/api/claims", get(claims_personal))
                .layer(axum::Extension(std::sync::Arc::new(port))),
            "none, one Extension layer, Cache-Control and Vary",
        ),
        App::Floor { config, sessions } => {
            let config = BenchConfig::read(config)?;
            let floor = floor::Floor::load(&config, &std::fs::read_to_string(sessions)?).await?;
            (
                Router::new()
                    .route("/api/ping", get(floor::ping))
                    .route("/api/claims", get(floor::claims))
                    .with_state(Arc::new(floor)),
                "none, the crypto floor per request",
            )
        }
        App::AuthKit {
            config: path,
            caches,
        } => {
            let config = BenchConfig::read(path)?;
            let mut builder = bench_authkit(config.client()?, port, &config.cookie_password);
            if !caches {
                builder = builder
                    .with_session_cache_capacity(0)
                    .with_token_cache_capacity(0);
            }
            let authkit = builder.build()?;
            (
                authkit_router(&authkit),
                if caches {
                    "authkit"
                } else {
                    "authkit, caches off"
                },
            )
        }
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "bench app ({what}) on http://127.0.0.1:{port}/api/ping, {} worker threads",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

// ---------------------------------------------------------------- floor

/// The `floor` mode: the ceiling plus, on every request, the crypto floor
/// of the request's own credential (what `benches/cold.rs` sums as the
/// floor), with everything else done once at start.
mod floor {
    use std::collections::HashMap;
    use std::sync::Arc;

    use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
    use aws_lc_rs::signature::{
        ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
    };
    use axum::Json;
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use hmac::{Hmac, Mac};
    use jsonwebtoken::jwk::AlgorithmParameters;
    use serde_json::json;
    use sha2::Sha256;

    use super::{BenchConfig, BoxError, COOKIE_NAME};

    type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

    /// How many of a credential's last bytes find its session: the end of
    /// the seal's MAC and its `~2`, or the end of the token's signature.
    const TAIL: usize = 32;

    /// The longest ciphertext taken: a request decrypts into a buffer of
    /// this size on the stack, as unsealing decrypts into a buffer of its own.
    const MAX_CIPHERTEXT: usize = 4096;

    /// One minted session, taken apart at start.
    struct Session {
        user: String,
        /// The length of the seal's first six fields (what its MAC covers).
        mac_base_len: usize,
        /// The rest of the cookie (`*<MAC salt>*<MAC>~2`): a request's must
        /// be these very bytes, as the MAC key and the MAC come from them.
        mac_fields: Vec<u8>,
        mac_key: [u8; 32],
        /// The seal's MAC, decoded.
        mac: Vec<u8>,
        ciphertext: Vec<u8>,
        enc_key: [u8; 32],
        iv: [u8; 16],
        /// The access token's signing input (`header.payload`) and its
        /// signature, decoded: a cookie's token is inside its ciphertext.
        message: Vec<u8>,
        signature: Vec<u8>,
        /// The signature as the token carries it: a Bearer request's must be
        /// these very bytes, as the signature verified is the decoded one.
        signature_b64: Vec<u8>,
    }

    /// The minted sessions, found by their cookies' and tokens' tails, and
    /// the emulator's signing key, parsed.
    pub(super) struct Floor {
        sessions: Vec<Session>,
        by_cookie: HashMap<[u8; TAIL], usize>,
        by_token: HashMap<[u8; TAIL], usize>,
        key: ParsedPublicKey,
    }

    fn tail(bytes: &[u8]) -> Option<[u8; TAIL]> {
        bytes.get(bytes.len().checked_sub(TAIL)?..)?.try_into().ok()
    }

    /// iron's key derivation: PBKDF2-HMAC-SHA1, one round, over the salt's characters.
    fn derive(password: &str, salt: &str) -> [u8; 32] {
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.as_bytes(), salt.as_bytes(), 1, &mut key);
        key
    }

    impl Floor {
        /// The sessions of `lines` (`<user id> TAB <sealed cookie> TAB
        /// <access token>`), each checked once here as a request will be.
        pub(super) async fn load(config: &BenchConfig, lines: &str) -> Result<Floor, BoxError> {
            let jwks = config.client()?.get_jwks().await?;
            // The key the first session's token names (the emulator signs
            // every token with one key).
            let kid = {
                let token = lines.split('\t').nth(2).ok_or("no session to take apart")?;
                let header = token.split('.').next().unwrap_or_default();
                let header: serde_json::Value =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header)?)?;
                header["kid"]
                    .as_str()
                    .ok_or("a minted token names no key")?
                    .to_owned()
            };
            let mut floor = Floor {
                sessions: Vec::new(),
                by_cookie: HashMap::new(),
                by_token: HashMap::new(),
                key: {
                    let Some(AlgorithmParameters::RSA(rsa)) = jwks.find(&kid).map(|k| &k.algorithm)
                    else {
                        return Err("the emulator's JWKS has no RSA key of the tokens' kid".into());
                    };
                    let (n, e) = (
                        URL_SAFE_NO_PAD.decode(&rsa.n)?,
                        URL_SAFE_NO_PAD.decode(&rsa.e)?,
                    );
                    RsaPublicKeyComponents { n: &n, e: &e }
                        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                        .map_err(|_| "the emulator's RSA key does not parse")?
                },
            };
            for line in lines.lines() {
                let mut cols = line.split('\t');
                let (Some(user), Some(cookie), Some(token)) =
                    (cols.next(), cols.next(), cols.next())
                else {
                    return Err(format!("not a session line: {line:?}").into());
                };
                // Fe26.2*id*enc_salt*iv*ciphertext*expiration*mac_salt*mac~2
                let body = cookie.split('~').next().unwrap_or(cookie);
                let fields: Vec<&str> = body.split('*').collect();
                if fields.len() != 8 {
                    return Err("a minted cookie is not an iron seal".into());
                }
                let (message, signature) = token
                    .rsplit_once('.')
                    .ok_or("a minted token is not a JWT")?;
                let mac_base_len = fields[..6].iter().map(|f| f.len() + 1).sum::<usize>() - 1;
                let session = Session {
                    user: user.to_owned(),
                    mac_base_len,
                    mac_fields: cookie.as_bytes()[mac_base_len..].to_vec(),
                    mac_key: derive(&config.cookie_password, fields[6]),
                    mac: URL_SAFE_NO_PAD.decode(fields[7])?,
                    ciphertext: URL_SAFE_NO_PAD.decode(fields[4])?,
                    enc_key: derive(&config.cookie_password, fields[2]),
                    iv: URL_SAFE_NO_PAD
                        .decode(fields[3])?
                        .try_into()
                        .map_err(|_| "an iron IV is 16 bytes")?,
                    message: message.as_bytes().to_vec(),
                    signature: URL_SAFE_NO_PAD.decode(signature)?,
                    signature_b64: signature.as_bytes().to_vec(),
                };
                if session.ciphertext.len() > MAX_CIPHERTEXT {
                    return Err("a minted cookie's ciphertext is too long for the floor".into());
                }
                // The cookie's plaintext holds this very token: the work a
                // request repeats is the work of this session.
                let mut buffer = [0u8; MAX_CIPHERTEXT];
                let plain = floor
                    .check_cookie(&session, cookie.as_bytes(), &mut buffer)
                    .ok_or("a minted cookie fails the floor's checks")?;
                if memchr::memmem::find(plain, token.as_bytes()).is_none() {
                    return Err("a minted cookie does not seal its token".into());
                }
                let index = floor.sessions.len();
                floor.sessions.push(session);
                let (Some(c), Some(t)) = (tail(cookie.as_bytes()), tail(token.as_bytes())) else {
                    return Err("a minted credential is too short".into());
                };
                if floor.by_cookie.insert(c, index).is_some()
                    || floor.by_token.insert(t, index).is_some()
                {
                    return Err("two minted credentials share their last bytes".into());
                }
            }
            Ok(floor)
        }

        /// The floor of a cookie: its MAC checked, its ciphertext decrypted
        /// (into `buffer`), its token's signature verified; the plaintext
        /// when all pass.
        fn check_cookie<'b>(
            &self,
            session: &Session,
            cookie: &[u8],
            buffer: &'b mut [u8; MAX_CIPHERTEXT],
        ) -> Option<&'b [u8]> {
            let (base, rest) = cookie.split_at_checked(session.mac_base_len)?;
            if rest != session.mac_fields {
                return None;
            }
            let mut mac = Hmac::<Sha256>::new_from_slice(&session.mac_key).ok()?;
            mac.update(base);
            mac.verify_slice(&session.mac).ok()?;
            let plain = Aes256CbcDec::new(&session.enc_key.into(), &session.iv.into())
                .decrypt_padded_b2b_mut::<Pkcs7>(&session.ciphertext, buffer)
                .ok()?;
            self.key
                .verify_sig(&session.message, &session.signature)
                .ok()?;
            Some(plain)
        }
    }

    fn user(session: Option<&Session>) -> Response {
        match session {
            Some(s) => Json(json!({"ok": true, "user": s.user})).into_response(),
            None => StatusCode::UNAUTHORIZED.into_response(),
        }
    }

    /// `GET /api/ping`: the request's session cookie.
    pub(super) async fn ping(State(floor): State<Arc<Floor>>, request: Request) -> Response {
        // The cold modes send the session cookie alone.
        let cookie = request
            .headers()
            .get(axum::http::header::COOKIE)
            .and_then(|v| v.as_bytes().strip_prefix(COOKIE_NAME.as_bytes()))
            .and_then(|v| v.strip_prefix(b"="));
        let session = cookie.and_then(|cookie| {
            let session = &floor.sessions[*floor.by_cookie.get(&tail(cookie)?)?];
            let mut buffer = [0u8; MAX_CIPHERTEXT];
            floor
                .check_cookie(session, cookie, &mut buffer)
                .map(|_| session)
        });
        user(session)
    }

    /// `GET /api/claims`: the request's Bearer token.
    pub(super) async fn claims(State(floor): State<Arc<Floor>>, request: Request) -> Response {
        let token = request
            .headers()
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
        let session = token.and_then(|token| {
            let session = &floor.sessions[*floor.by_token.get(&tail(token)?)?];
            let dot = memchr::memrchr(b'.', token)?;
            if token[dot + 1..] != session.signature_b64 {
                return None;
            }
            floor
                .key
                .verify_sig(&token[..dot], &session.signature)
                .ok()
                .map(|()| session)
        });
        user(session)
    }
}

// ---------------------------------------------------------------- storm

async fn run_storm(requests: usize, balancer: Option<(usize, &str)>) -> Result<(), BoxError> {
    let ttl = Duration::from_secs(300);
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_access_token_ttl(ttl)
        .start()
        .await?;
    let cookie = sign_in(&emulator).await?;
    let user_id = emulator
        .user_by_email("demo@example.com")
        .ok_or("the demo user is missing")?
        .id;

    // One app, or `replicas` apps that share nothing but the cookie
    // password and WorkOS (each its own AuthKit: caches, single flight).
    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..balancer.map_or(1, |(replicas, _)| replicas) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let authkit = bench_authkit(emulator.client(), port, BENCH_COOKIE_PASSWORD)
            .with_clock(emulator.session_clock())
            .build()?;
        servers.push(tokio::spawn(
            axum::serve(listener, authkit_router(&authkit)).into_future(),
        ));
        ports.push(port);
    }
    let (mut nginx, port) = match balancer {
        None => (None, ports[0]),
        Some((_, program)) => {
            let (nginx, port) = start_nginx(program, &ports).await?;
            (Some(nginx), port)
        }
    };

    // The access token is now expired for both the emulator and the layer.
    emulator.clock().advance(ttl + Duration::from_secs(60));
    let refreshes_before = emulator.grant_count("refresh_token");

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(requests)
        .build()?;
    let url = format!("http://127.0.0.1:{port}/api/ping");
    let header = format!("{COOKIE_NAME}={cookie}");
    let start_line = Arc::new(tokio::sync::Barrier::new(requests));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..requests {
        let (http, url, header, start_line) = (
            http.clone(),
            url.clone(),
            header.clone(),
            start_line.clone(),
        );
        tasks.spawn(async move {
            start_line.wait().await;
            let response = http
                .get(&url)
                .header(reqwest::header::COOKIE, header)
                .send()
                .await?;
            let status = response.status().as_u16();
            let new_cookie = response
                .headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find(|v| v.starts_with(&format!("{COOKIE_NAME}=")))
                .map(|v| v.split(';').next().unwrap_or_default().to_owned());
            let body: Value = response.json().await.unwrap_or(Value::Null);
            Ok::<_, reqwest::Error>((status, body, new_cookie))
        });
    }
    let (mut ok, mut errors, mut rotated) = (0usize, 0usize, 0usize);
    let mut cookies = std::collections::HashSet::new();
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok((status, body, new_cookie))) => {
                *statuses.entry(status.to_string()).or_default() += 1;
                if status == 200 && body["user"] == user_id.as_str() {
                    ok += 1;
                } else {
                    errors += 1;
                }
                if let Some(c) = new_cookie {
                    rotated += 1;
                    cookies.insert(c);
                }
            }
            Ok(Err(e)) => {
                *statuses.entry(format!("error: {e}")).or_default() += 1;
                errors += 1;
            }
            Err(e) => {
                *statuses.entry(format!("panic: {e}")).or_default() += 1;
                errors += 1;
            }
        }
    }
    let elapsed = started.elapsed();
    let report = json!({
        "replicas": ports.len(),
        "through": if nginx.is_some() { "nginx (round-robin)" } else { "direct" },
        "requests": requests,
        "ok": ok,
        "errors": errors,
        "upstream_refresh_calls": emulator.grant_count("refresh_token") - refreshes_before,
        "rotated_cookies": rotated,
        "distinct_new_cookies": cookies.len(),
        "statuses": statuses,
        "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
    });
    println!("{report}");
    if let Some(nginx) = &mut nginx {
        nginx.stop();
    }
    for server in servers {
        server.abort();
    }
    emulator.stop().await;
    if errors > 0 {
        return Err(format!("{errors} of {requests} storm requests failed").into());
    }
    // Single flight: at most one refresh call per process holding the
    // expired session (WorkOS's replay window lets a second replica's call
    // with the same refresh token succeed).
    let calls = report["upstream_refresh_calls"]
        .as_u64()
        .unwrap_or(u64::MAX);
    if calls == 0 || calls > ports.len() as u64 {
        return Err(format!(
            "{calls} refresh calls for one expired session on {} replica(s)",
            ports.len()
        )
        .into());
    }
    Ok(())
}

/// nginx, started as a child process, stopped (and its directory removed)
/// on [`Nginx::stop`] or drop.
struct Nginx {
    program: String,
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Nginx {
    /// `nginx -s stop`: the master stops its workers, then exits (a SIGKILL
    /// to the master would leave the workers running).
    fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = std::process::Command::new(&self.program)
                .arg("-p")
                .arg(&self.dir)
                .arg("-c")
                .arg(self.dir.join("nginx.conf"))
                .args(["-e", "stderr", "-s", "stop"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
            for _ in 0..50 {
                if self.child.try_wait().ok().flatten().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `program` (nginx) on a free 127.0.0.1 port, balancing
/// round-robin (no stickiness, no retry on another upstream) over the
/// `upstreams` ports with keep-alive connections; returns once it answers.
async fn start_nginx(program: &str, upstreams: &[u16]) -> Result<(Nginx, u16), BoxError> {
    let port = {
        let probe = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        probe.local_addr()?.port()
    };
    let dir = std::env::temp_dir().join(format!("authkit-bench-nginx-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let d = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|p| format!("    server 127.0.0.1:{p};\n"))
        .collect();
    let conf = format!(
        "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log stderr warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         upstream replicas {{\n{servers}    keepalive 64;\n  }}\n\
         server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://replicas;\n\
         proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_next_upstream off;\n\
         proxy_read_timeout 30s;\n    }}\n  }}\n}}\n"
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let child = std::process::Command::new(program)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf_path)
        .args(["-e", "stderr"])
        .stdin(std::process::Stdio::null())
        // Not our stdout (the storm's JSON report), which a reader waits on
        // until every holder has closed it.
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start nginx ({program}): {e}"))?;
    let mut nginx = Nginx {
        program: program.to_owned(),
        child,
        dir,
    };
    let url = format!("http://127.0.0.1:{port}/api/ping");
    let http = reqwest::Client::builder().no_proxy().build()?;
    for _ in 0..200 {
        if let Some(status) = nginx.child.try_wait()? {
            return Err(format!("nginx exited at start ({status})").into());
        }
        // Without a cookie the app answers 401: nginx and the app are up.
        if let Ok(r) = http.get(&url).send().await
            && r.status() == reqwest::StatusCode::UNAUTHORIZED
        {
            return Ok((nginx, port));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nginx.stop();
    Err("nginx did not answer in 10 s".into())
}
