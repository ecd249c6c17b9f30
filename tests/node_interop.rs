//! Live interop with the Node SDKs: our sealed `wos-session` cookie against
//! the real `iron-session` and `@workos-inc/node` packages, run in Node 22 by
//! `tests/node/interop.mjs`.
//!
//! These tests need `npm ci` in `tests/node` (which also installs Node 22 as
//! `tests/node/node_modules/.bin/node`), so they are ignored by default;
//! `.ci/run` runs them with `cargo test --test node_interop -- --ignored`.
//!
//! Every run uses fresh random data and passwords (random unicode, nested
//! JSON). The seed is printed; `NODE_INTEROP_SEED=<seed>` replays the data
//! (not the seals' own random salts and IVs).

mod support;

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use authkit_axum::client::UserManagement;
use authkit_axum::seal::{self, Passwords, SealError, SealOptions, UnsealOptions};
use authkit_axum::session::{Authentication, SessionData, SessionManager};
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;

use support::fake_workos::{FakeWorkos, user_json};
use support::recording::{API_KEY, CLIENT_ID};

// ---------------------------------------------------------------- randomness

/// A small deterministic generator (splitmix64) seeded from the OS.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = match std::env::var("NODE_INTEROP_SEED") {
            Ok(s) => s.parse().expect("NODE_INTEROP_SEED must be a u64"),
            Err(_) => getrandom::u64().expect("OS randomness"),
        };
        eprintln!("node_interop seed {seed} (replay with NODE_INTEROP_SEED={seed})");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }

    fn bool(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn in_range(&mut self, lo: u32, hi_exclusive: u32) -> char {
        loop {
            let c = lo + self.below(u64::from(hi_exclusive - lo)) as u32;
            if let Some(c) = char::from_u32(c) {
                return c;
            }
        }
    }

    /// Any Unicode scalar value, weighted towards the troublesome ones:
    /// controls, JSON and seal metacharacters, line separators, BOM,
    /// noncharacters, and 2-, 3- and 4-byte UTF-8 (astral: UTF-16 pairs).
    fn char(&mut self) -> char {
        const SPECIAL: &[char] = &[
            '"',
            '\\',
            '/',
            '*',
            '~',
            '\u{0}',
            '\u{7f}',
            '\u{2028}',
            '\u{2029}',
            '\u{feff}',
            '\u{fffd}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{10ffff}',
            '\u{1f469}',
            '\u{200d}',
        ];
        match self.below(10) {
            0..=3 => self.in_range(0x20, 0x7f),
            4 => self.in_range(0, 0x20),
            5 => SPECIAL[self.below(SPECIAL.len() as u64) as usize],
            6 => self.in_range(0x80, 0x800),
            7 => self.in_range(0x800, 0x1_0000),
            _ => self.in_range(0x1_0000, 0x11_0000),
        }
    }

    fn string(&mut self, max_chars: u64) -> String {
        let len = self.below(max_chars + 1);
        (0..len).map(|_| self.char()).collect()
    }

    /// A password of 32 to 64 characters of random unicode (at least 32
    /// UTF-16 units, as both sides count).
    fn password(&mut self) -> String {
        let len = self.range(32, 64);
        (0..len).map(|_| self.char()).collect()
    }

    fn alnum(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        (0..len)
            .map(|_| char::from(ALPHABET[self.below(ALPHABET.len() as u64) as usize]))
            .collect()
    }

    /// An integer JavaScript holds exactly (|n| < 2^53).
    fn int(&mut self) -> i64 {
        let max = match self.below(3) {
            0 => 1_000,
            1 => u64::from(u32::MAX),
            _ => (1 << 53) - 1,
        };
        let n = self.below(max + 1) as i64;
        if self.bool() { -n } else { n }
    }

    /// A non-integral float with at most 15 significant digits, so both
    /// JavaScript and serde_json print and parse it exactly.
    fn float(&mut self) -> f64 {
        let mut mantissa = self.range(1, 999_999_999_999_999);
        if mantissa.is_multiple_of(10) {
            mantissa += 1;
        }
        let scale = self.range(1, 15) as i32;
        let f = mantissa as f64 / 10f64.powi(scale);
        if self.bool() { -f } else { f }
    }

    fn value(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 5 } else { 7 };
        match self.below(kinds) {
            0 => Value::Null,
            1 => Value::Bool(self.bool()),
            2 => json!(self.int()),
            3 => json!(self.float()),
            4 => Value::String(self.string(40)),
            5 => {
                let len = self.below(6);
                Value::Array((0..len).map(|_| self.value(depth - 1)).collect())
            }
            _ => self.object(depth - 1, 0, 6),
        }
    }

    fn object(&mut self, depth: u32, min: u64, max: u64) -> Value {
        let len = self.range(min, max);
        let mut map = Map::new();
        for _ in 0..len {
            let key = self.string(12);
            let value = self.value(depth);
            map.insert(key, value);
        }
        Value::Object(map)
    }

    /// A random session-like document: a non-empty object.
    fn document(&mut self) -> Value {
        self.object(4, 1, 8)
    }
}

/// Values that have tripped up JSON and cookie code before.
fn edge_cases() -> Vec<Value> {
    let mut deep = json!("bottom");
    for i in 0..40 {
        deep = if i % 2 == 0 {
            json!([deep])
        } else {
            json!({ "d": deep })
        };
    }
    let mut large = Map::new();
    for i in 0..400 {
        large.insert(
            format!("k{i}"),
            json!(format!("{i} ünïcødé 🦀 \u{2028} \"*~\"")),
        );
    }
    vec![
        json!({
            "__proto__": { "polluted": true },
            "constructor": { "prototype": 1 },
            "toString": "x",
            "": "",
            "1": "integer-like key", "10": "sorted first by JS", "-1": "not integer-like",
            "nul": "a\u{0}b",
            "separators": "\u{2028}\u{2029}",
            "bom": "\u{feff}leading",
            "family": "👩\u{200d}👩\u{200d}👧",
            "metachars": "\"\\/*~Fe26.2*~2",
            "max_safe": 9_007_199_254_740_991_i64,
            "min_safe": -9_007_199_254_740_991_i64,
            "tenth": 0.1,
            "tiny": 5e-324,
            "huge": 1.7976931348623157e308,
            "empty_object": {}, "empty_array": [], "null": null, "bools": [true, false],
            "deep": deep,
        }),
        // Several kilobytes: many AES blocks, a seal far beyond one cookie.
        Value::Object(large),
    ]
}

// ------------------------------------------------------------------ node

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// Runs `interop.mjs <command>` with `input` as JSON on stdin, and returns
/// its stdout parsed as JSON. Panics with its stderr when it fails.
async fn node(command: &str, input: &Value) -> Value {
    let dir = node_dir();
    let bin = dir.join("node_modules/.bin/node");
    assert!(
        bin.exists(),
        "{} is missing: run `npm ci` in tests/node first",
        bin.display()
    );
    let mut child = tokio::process::Command::new(&bin)
        .arg(dir.join("interop.mjs"))
        .arg(command)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let mut stdin = child.stdin.take().unwrap();
    // A script that died early closes its stdin: its stderr (below) says why.
    let _ = stdin.write_all(&serde_json::to_vec(input).unwrap()).await;
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("node interop.mjs {command} timed out"))
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "node interop.mjs {command} failed ({}):\n{stderr}",
        output.status
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "node interop.mjs {command} printed no JSON ({e}):\n{}\nstderr:\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The `{ ok }` of a settled Node result, or a panic with its `{ error }`.
fn ok<'a>(result: &'a Value, what: &str) -> &'a Value {
    match result.get("ok") {
        Some(value) => value,
        None => panic!("{what}: Node failed: {}", result["error"]),
    }
}

/// Checks (once) that the packages are the ones this suite is about.
async fn check_versions() {
    static PRINTED: OnceLock<()> = OnceLock::new();
    let versions = node("versions", &json!({})).await;
    let major = |v: &Value| {
        v.as_str()
            .unwrap()
            .trim_start_matches('v')
            .split('.')
            .next()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    assert!(major(&versions["node"]) >= 22, "{versions}");
    assert_eq!(major(&versions["ironSession"]), 8, "{versions}");
    PRINTED.get_or_init(|| eprintln!("node interop against {versions}"));
}

// ------------------------------------------------------------- sessions

fn passwords(list: &[(&str, &str)]) -> Passwords {
    Passwords::new(list.iter().copied()).unwrap()
}

fn password_map(list: &[(&str, &str)]) -> Value {
    Value::Object(
        list.iter()
            .map(|(id, pw)| ((*id).to_owned(), json!(pw)))
            .collect(),
    )
}

fn random_user_id(rng: &mut Rng) -> String {
    format!("user_01{}", rng.alnum(24))
}

fn random_org_id(rng: &mut Rng) -> String {
    format!("org_01{}", rng.alnum(24))
}

/// A user as WorkOS's API returns it, with random names.
fn api_user(rng: &mut Rng, id: &str) -> Value {
    let mut user = user_json(id);
    user["first_name"] = json!(rng.string(20));
    user["last_name"] = json!(rng.string(20));
    user["profile_picture_url"] = json!(format!("https://example.com/{}.png", rng.alnum(8)));
    user
}

/// The same user as `@workos-inc/node`'s `User` type has it (its
/// `deserializeUser`): what the SDK writes into session cookies.
fn sdk_user(api: &Value) -> Value {
    json!({
        "object": "user",
        "id": api["id"],
        "email": api["email"],
        "emailVerified": api["email_verified"],
        "name": null,
        "firstName": api["first_name"],
        "profilePictureUrl": api["profile_picture_url"],
        "lastName": api["last_name"],
        "lastSignInAt": null,
        "locale": null,
        "createdAt": api["created_at"],
        "updatedAt": api["updated_at"],
        "externalId": null,
        "metadata": {},
    })
}

fn manager(fake: &FakeWorkos, passwords: Passwords) -> SessionManager {
    let client = UserManagement::builder(API_KEY, CLIENT_ID)
        .with_base_url(&fake.base_url)
        .build()
        .unwrap();
    SessionManager::new(client, passwords)
}

/// Where the SDK should find the fake WorkOS.
fn api(fake: &FakeWorkos) -> Value {
    let url = url::Url::parse(&fake.base_url).unwrap();
    json!({
        "hostname": url.host_str().unwrap(),
        "port": url.port().unwrap(),
        "apiKey": API_KEY,
        "clientId": CLIENT_ID,
    })
}

/// A signed-in session as this crate seals it.
fn session_data(rng: &mut Rng, fake: &FakeWorkos, user_id: &str, org: &str) -> SessionData {
    let (access_token, refresh_token) = fake.sign_in(user_id, Some(org));
    serde_json::from_value(json!({
        "accessToken": access_token,
        "refreshToken": refresh_token,
        "user": api_user(rng, user_id),
        "impersonator": { "email": format!("{}@example.com", rng.alnum(6)), "reason": rng.string(30) },
        "authenticationMethod": "Password",
        "organizationId": org,
    }))
    .unwrap()
}

async fn authenticated(
    manager: &SessionManager,
    cookie: &str,
) -> std::sync::Arc<authkit_axum::session::AuthenticatedSession> {
    match manager.authenticate(Some(cookie)).await.unwrap() {
        Authentication::Authenticated(session) => session,
        Authentication::Unauthenticated(u) => panic!("Rust refused the cookie: {}", u.reason),
        other => panic!("unexpected outcome {other:?}"),
    }
}

// ------------------------------------------------------------------ tests

/// Rust seals, iron-session's `unsealData` unseals: with a string password
/// and with a rotation map (sealed with the newest id, 2).
#[tokio::test]
#[ignore = "needs Node 22 and npm packages: run by .ci/run after npm ci in tests/node"]
async fn rust_seals_iron_session_unseals() {
    check_versions().await;
    let mut rng = Rng::new();
    let pw1 = rng.password();
    let pw2 = rng.password();
    // Exactly 32 UTF-16 units in 16 characters (64 UTF-8 bytes): the minimum
    // counts as JavaScript counts.
    let astral: String = (0..16).map(|_| rng.in_range(0x1_0000, 0x11_0000)).collect();

    let fake = FakeWorkos::start().await;
    let user_id = random_user_id(&mut rng);
    let org = random_org_id(&mut rng);
    let session = serde_json::to_value(session_data(&mut rng, &fake, &user_id, &org)).unwrap();

    let mut values: Vec<Value> = (0..24).map(|_| rng.document()).collect();
    values.extend(edge_cases());
    values.push(session);

    let single = passwords(&[("1", &pw1)]);
    let rotated = passwords(&[("1", &pw1), ("2", &pw2)]);
    let astral_set = passwords(&[("1", &astral)]);
    let hour = SealOptions::default().with_ttl(Duration::from_secs(3600));

    let mut cases = Vec::new();
    let mut expected = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let options = if i % 2 == 0 {
            SealOptions::default()
        } else {
            hour
        };
        let by_single = seal::seal(value, &single, options).unwrap();
        assert!(by_single.starts_with("Fe26.2*1*"), "{by_single}");
        cases.push(json!({ "sealed": by_single, "password": pw1 }));
        expected.push(value.clone());

        let by_rotated = seal::seal(value, &rotated, options).unwrap();
        assert!(by_rotated.starts_with("Fe26.2*2*"), "{by_rotated}");
        cases.push(json!({
            "sealed": by_rotated,
            "password": password_map(&[("1", &pw1), ("2", &pw2)]),
        }));
        expected.push(value.clone());
    }
    let astral_sealed = seal::seal(&values[0], &astral_set, SealOptions::default()).unwrap();
    cases.push(json!({ "sealed": astral_sealed, "password": astral }));
    expected.push(values[0].clone());

    // Refusals, so an unseal that always answered `{}` could not pass: a
    // wrong password, and a seal with id 2 read with a plain string password
    // (which iron-session maps to id 1). iron-session answers `{}` to both.
    let by_rotated = seal::seal(&values[0], &rotated, SealOptions::default()).unwrap();
    let refusals = [
        json!({ "sealed": cases[0]["sealed"], "password": pw2 }),
        json!({ "sealed": by_rotated, "password": pw2 }),
    ];
    cases.extend(refusals);
    expected.extend([json!({}), json!({})]);

    let out = node("iron-unseal", &json!({ "cases": cases })).await;
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    for (i, (result, want)) in results.iter().zip(&expected).enumerate() {
        let got = ok(result, &format!("case {i}"));
        assert_eq!(
            got, want,
            "case {i}: iron-session unsealed something else from {}",
            cases[i]["sealed"]
        );
    }
}

/// iron-session's `sealData` seals (ttl 0, the default 14-day ttl, a
/// rotation map), Rust unseals.
#[tokio::test]
#[ignore = "needs Node 22 and npm packages: run by .ci/run after npm ci in tests/node"]
async fn iron_session_seals_rust_unseals() {
    check_versions().await;
    let mut rng = Rng::new();
    let pw1 = rng.password();
    let pw2 = rng.password();
    let pw3 = rng.password();
    let pw10 = rng.password();

    let mut values: Vec<Value> = (0..24).map(|_| rng.document()).collect();
    values.extend(edge_cases());

    let rotation = [("1", pw1.as_str()), ("2", pw2.as_str())];
    // iron-session picks the numerically largest id: 10, not "3".
    let numeric = [("3", pw3.as_str()), ("10", pw10.as_str())];
    // (password for Node, ttl for Node, the Rust set, the id the seal must name)
    let variants: Vec<(Value, Option<u64>, Passwords, &str)> = vec![
        (json!(pw1), Some(0), passwords(&[("1", &pw1)]), "1"),
        (json!(pw1), None, passwords(&[("1", &pw1)]), "1"),
        (password_map(&rotation), None, passwords(&rotation), "2"),
        (password_map(&rotation), Some(0), passwords(&rotation), "2"),
        (password_map(&numeric), None, passwords(&numeric), "10"),
    ];
    // Rust's rotation picks the same newest password.
    assert_eq!(passwords(&rotation).current().id(), "2");
    assert_eq!(passwords(&numeric).current().id(), "10");

    let mut cases = Vec::new();
    let mut plan = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let (password, ttl, _, _) = &variants[i % variants.len()];
        let mut case = json!({ "data": value, "password": password });
        if let Some(ttl) = ttl {
            case["ttl"] = json!(ttl);
        }
        cases.push(case);
        plan.push(i % variants.len());
    }
    // A 31-unit password is refused by both; 32 units (16 astral characters)
    // is accepted by both.
    let short: String = std::iter::once('a')
        .chain((0..15).map(|_| rng.in_range(0x1_0000, 0x11_0000)))
        .collect();
    let astral: String = (0..16).map(|_| rng.in_range(0x1_0000, 0x11_0000)).collect();
    cases.push(json!({ "data": values[0], "password": short }));
    cases.push(json!({ "data": values[0], "password": astral }));

    let before = SystemTime::now();
    let out = node("iron-seal", &json!({ "cases": cases })).await;
    let after = SystemTime::now();
    let results = out["results"].as_array().unwrap();
    assert_eq!(results.len(), cases.len());

    let unix_ms = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    };
    let fourteen_days_ms = 14 * 24 * 3600 * 1000;
    for (i, variant) in plan.iter().enumerate() {
        let (_, ttl, set, id) = &variants[*variant];
        let sealed = ok(&results[i], &format!("case {i}")).as_str().unwrap();
        assert!(
            sealed.starts_with(&format!("Fe26.2*{id}*")) && sealed.ends_with("~2"),
            "case {i}: {sealed}"
        );
        let expiration = sealed.split('*').nth(5).unwrap();
        match ttl {
            Some(0) => assert_eq!(expiration, "", "case {i}: ttl 0 means no expiry"),
            _ => {
                let exp: u128 = expiration.parse().unwrap();
                assert!(
                    (unix_ms(before) + fourteen_days_ms..=unix_ms(after) + fourteen_days_ms)
                        .contains(&exp),
                    "case {i}: expiration {exp}"
                );
                // Rust honours Node's expiration (with iron's 60 s skew).
                let late = SystemTime::UNIX_EPOCH + Duration::from_millis(exp as u64 + 60_000);
                let expired =
                    seal::unseal::<Value>(sealed, set, UnsealOptions::default().with_now(late));
                assert!(matches!(expired, Err(SealError::Expired)), "case {i}");
            }
        }
        let back: Value = seal::unseal(sealed, set, UnsealOptions::default())
            .unwrap_or_else(|e| panic!("case {i}: Rust cannot unseal {sealed}: {e}"));
        assert_eq!(back, values[i], "case {i}: {sealed}");
    }

    let refused = &results[plan.len()];
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("too short")),
        "iron-session should refuse a 31-unit password: {refused}"
    );
    assert!(matches!(
        Passwords::single(short.clone()),
        Err(SealError::PasswordTooShort { len: 31, .. })
    ));
    let sealed = ok(&results[plan.len() + 1], "astral password")
        .as_str()
        .unwrap();
    let back: Value = seal::unseal(
        sealed,
        &Passwords::single(astral.clone()).unwrap(),
        UnsealOptions::default(),
    )
    .unwrap();
    assert_eq!(back, values[0]);
}

/// A cookie sealed by `SessionManager::seal` is accepted by
/// `@workos-inc/node`'s `loadSealedSession(...).authenticate()` (and
/// `authenticateWithSessionCookie`), which report the same session.
#[tokio::test]
#[ignore = "needs Node 22 and npm packages: run by .ci/run after npm ci in tests/node"]
async fn workos_node_accepts_rust_session_cookie() {
    check_versions().await;
    let mut rng = Rng::new();
    let fake = FakeWorkos::start().await;
    let password = rng.password();
    let sessions = manager(&fake, Passwords::single(password.clone()).unwrap());
    let user_id = random_user_id(&mut rng);
    let org = random_org_id(&mut rng);
    let data = session_data(&mut rng, &fake, &user_id, &org);
    let cookie = sessions.seal(&data).unwrap();
    let ours = authenticated(&sessions, &cookie).await;

    let out = node(
        "workos-authenticate",
        &json!({ "api": api(&fake), "cookie": cookie, "cookiePassword": password }),
    )
    .await;
    for which in ["cookieSession", "withSessionCookie"] {
        let s = &out[which];
        assert_eq!(s["authenticated"], true, "{which}: {s}");
        assert_eq!(s["user"]["id"], user_id, "{which}");
        assert_eq!(s["sessionId"], ours.session_id(), "{which}");
        assert_eq!(s["organizationId"], org, "{which}");
        assert_eq!(s["role"], "member", "{which}");
        assert_eq!(s["roles"], json!(["member"]), "{which}");
        assert_eq!(s["permissions"], json!(["posts:read"]), "{which}");
        assert_eq!(s["entitlements"], json!(["audit-logs"]), "{which}");
        assert_eq!(s["featureFlags"], json!(["beta"]), "{which}");
        assert_eq!(s["accessToken"], data.access_token.expose(), "{which}");
        assert_eq!(s["authenticationMethod"], "Password", "{which}");
    }
    assert_eq!(
        out["cookieSession"]["impersonator"],
        serde_json::to_value(&data.impersonator).unwrap()
    );
    // The SDK reads back exactly what we wrote.
    assert_eq!(
        out["sessionFromCookie"],
        serde_json::to_value(&data).unwrap()
    );

    // @workos-inc/node unseals only with password id 1 (`{ 1: password }`):
    // a cookie sealed after a rotation (id 2) is invalid to it.
    let rotated = passwords(&[("1", &rng.password()), ("2", &password)]);
    let cookie = seal::seal(&data, &rotated, SealOptions::default()).unwrap();
    let out = node(
        "workos-authenticate",
        &json!({ "api": api(&fake), "cookie": cookie, "cookiePassword": password }),
    )
    .await;
    assert_eq!(
        out["cookieSession"],
        json!({ "authenticated": false, "reason": "invalid_session_cookie" })
    );
}

/// The `user` in a cookie Rust writes has the shape of the SDK's `User` type
/// (`emailVerified`, `firstName`, `createdAt`, …), so Node code reading
/// `session.user.firstName` from a cookie Rust wrote finds it.
#[tokio::test]
#[ignore = "needs Node 22 and npm packages: run by .ci/run after npm ci in tests/node"]
async fn workos_node_sees_its_own_user_shape_in_rust_session_cookie() {
    check_versions().await;
    let mut rng = Rng::new();
    let fake = FakeWorkos::start().await;
    let password = rng.password();
    let sessions = manager(&fake, Passwords::single(password.clone()).unwrap());
    let user_id = random_user_id(&mut rng);
    let org = random_org_id(&mut rng);
    let data = session_data(&mut rng, &fake, &user_id, &org);
    let cookie = sessions.seal(&data).unwrap();

    let out = node(
        "workos-authenticate",
        &json!({ "api": api(&fake), "cookie": cookie, "cookiePassword": password }),
    )
    .await;
    let user = &out["cookieSession"]["user"];
    let want = sdk_user(&serde_json::to_value(&data.user).unwrap_or_default());
    let mut problems = Vec::new();
    for key in [
        "id",
        "email",
        "emailVerified",
        "firstName",
        "lastName",
        "profilePictureUrl",
        "createdAt",
        "updatedAt",
    ] {
        if user.get(key).is_none() {
            problems.push(format!("missing {key}"));
        }
    }
    for key in user.as_object().unwrap().keys() {
        if key.contains('_') {
            problems.push(format!("snake_case key {key}"));
        }
    }
    assert!(
        problems.is_empty(),
        "the user @workos-inc/node reads from our cookie is not its User type ({}):\n got  {user}\n want {want}",
        problems.join(", ")
    );
}

/// Cookies made by `@workos-inc/node` — sealed from a WorkOS answer
/// (`authenticateWithRefreshToken` with `sealSession: true`), by
/// `sealSessionDataFromAuthenticationResponse`, and by `CookieSession#refresh`
/// of a cookie Rust wrote — are accepted by `SessionManager::authenticate`.
#[tokio::test]
#[ignore = "needs Node 22 and npm packages: run by .ci/run after npm ci in tests/node"]
async fn rust_accepts_workos_node_session_cookie() {
    check_versions().await;
    let mut rng = Rng::new();
    let fake = FakeWorkos::start().await;
    let password = rng.password();
    let sessions = manager(&fake, Passwords::single(password.clone()).unwrap());
    let user_id = random_user_id(&mut rng);
    let org = random_org_id(&mut rng);

    // A refresh token for the SDK to redeem at the fake WorkOS, and an
    // access token (minted here) for the hand-built authentication response.
    let (_, refresh_token) = fake.sign_in(&user_id, Some(&org));
    let (access_token, refresh_token_2) = fake.sign_in(&user_id, Some(&org));
    let api_user = api_user(&mut rng, &user_id);
    let impersonator = json!({ "email": "admin@example.com", "reason": rng.string(30) });
    let response = json!({
        "user": sdk_user(&api_user),
        "organizationId": org,
        "accessToken": access_token,
        "refreshToken": refresh_token_2,
        "impersonator": impersonator,
        "authenticationMethod": "GoogleOAuth",
    });
    let out = node(
        "workos-seal",
        &json!({
            "api": api(&fake),
            "cookiePassword": password,
            "refreshToken": refresh_token,
            "authenticationResponse": response,
        }),
    )
    .await;

    // A cookie the SDK refreshed from one Rust wrote.
    let data = session_data(&mut rng, &fake, &user_id, &org);
    let rust_cookie = sessions.seal(&data).unwrap();
    let refreshed = node(
        "workos-refresh",
        &json!({ "api": api(&fake), "cookie": rust_cookie, "cookiePassword": password }),
    )
    .await;
    assert_eq!(refreshed["authenticated"], true, "SDK refresh: {refreshed}");

    // (where the cookie comes from, the cookie, its authentication method,
    // its impersonator, the user: from the fake WorkOS's refresh answers, which
    // have no impersonator, or from the hand-built response)
    let fake_user = user_json(&user_id);
    let cookies = [
        (
            "authenticateWithRefreshToken",
            &out["refreshed"]["sealedSession"],
            "Password",
            None,
            &fake_user,
        ),
        (
            "sealSessionDataFromAuthenticationResponse",
            &out["fromResponse"],
            "GoogleOAuth",
            Some(&impersonator),
            &api_user,
        ),
        (
            "CookieSession#refresh",
            &refreshed["sealedSession"],
            "Password",
            None,
            &fake_user,
        ),
    ];
    let mut failures = Vec::new();
    for (source, cookie, method, impersonator, user) in cookies {
        let cookie = cookie.as_str().unwrap();
        // The seal itself, and the document the SDK wrote.
        let raw: Value = seal::unseal(cookie, sessions.passwords(), UnsealOptions::default())
            .unwrap_or_else(|e| panic!("{source}: Rust cannot unseal the SDK's cookie: {e}"));
        let mut keys: Vec<&str> = raw
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut want_keys = vec![
            "accessToken",
            "authenticationMethod",
            "organizationId",
            "refreshToken",
            "user",
        ];
        if impersonator.is_some() {
            want_keys.push("impersonator");
            want_keys.sort_unstable();
        }
        assert_eq!(
            keys, want_keys,
            "{source}: the SDK's cookie document is {raw}"
        );
        assert_eq!(raw["organizationId"], org, "{source}");
        assert_eq!(raw["authenticationMethod"], method, "{source}");
        assert_eq!(raw["user"]["id"], user_id, "{source}");

        // The session, as this crate reads it.
        if let Err(e) =
            seal::unseal::<SessionData>(cookie, sessions.passwords(), UnsealOptions::default())
        {
            failures.push(format!(
                "{source}: the SDK's cookie is not SessionData: {e}\n  its user: {}",
                raw["user"]
            ));
            continue;
        }
        let session = authenticated(&sessions, cookie).await;
        assert_eq!(session.user.id, user_id, "{source}");
        assert_eq!(session.user.email, user["email"], "{source}");
        assert_eq!(
            session.user.first_name.as_deref(),
            user["first_name"].as_str(),
            "{source}"
        );
        assert_eq!(session.user.created_at, user["created_at"], "{source}");
        assert_eq!(session.organization_id(), Some(org.as_str()), "{source}");
        assert_eq!(session.role(), Some("member"), "{source}");
        assert_eq!(session.permissions(), ["posts:read"], "{source}");
        assert_eq!(
            session.authentication_method.as_ref().map(|m| m.as_str()),
            Some(method),
            "{source}"
        );
        assert_eq!(
            serde_json::to_value(&session.impersonator).unwrap(),
            impersonator.cloned().unwrap_or(Value::Null),
            "{source}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
