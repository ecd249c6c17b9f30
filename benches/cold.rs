//! The cold path, part by part, next to the crypto it cannot do without.
//!
//! A cookie this process has not seen costs an unseal (iron: HMAC-SHA256 over
//! the seal's first six fields, AES-256-CBC decryption, JSON) and a token
//! check (one RS256 verification, JSON). This bench times those parts with
//! the caches off, and beside them the primitives alone: HMAC-SHA256 over a
//! real seal's MAC base with its key already derived, AES-256-CBC decryption
//! of its ciphertext, RS256 verification of its access token with a key
//! parsed beforehand. Their sum is the floor: what no implementation of the
//! same checks can go under on this machine. After criterion's runs it prints
//! each part's distance to the floor, timed again by a plain loop (the best
//! of five rounds), so the gap is read, not worked out by hand.
//!
//! `cargo bench --bench cold` (criterion's filters work: `cargo bench
//! --bench cold -- primitive`). The emulator provides a real RS256-signed
//! token and JWKS on 127.0.0.1; nothing leaves the machine.
//!
//! For instruction counts (steadier than time on a shared machine):
//! `COLD_PART=authenticate COLD_ITERS=n` runs only `n` calls of one part
//! (`hmac`, `aes`, `rs256`, `unseal`, `verify`, `authenticate`) and exits;
//! run it under `valgrind --tool=callgrind` with two values of `n` and
//! divide the difference of the totals by the difference of the `n`s, or
//! count only the loop with `--toggle-collect='cold::run_part*'`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use authkit_axum::emulator::{Emulator, EmulatorExt};
use authkit_axum::seal::{self, Passwords, UnsealOptions};
use authkit_axum::session::{Authentication, SessionData, SessionManager};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::Criterion;
use hmac::{Hmac, Mac};
use jsonwebtoken::jwk::AlgorithmParameters;
use sha2::Sha256;

mod common;

use common::PASSWORD;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// A real session, its seal taken apart, and the token's key parsed.
struct Fixture {
    _emulator: Emulator,
    cookie: String,
    token: String,
    passwords: Passwords,
    /// Both caches off: every call does the whole work.
    cold: SessionManager,
    /// The seal's first six fields (what its MAC covers) and the MAC key.
    mac_base: String,
    mac_key: [u8; 32],
    /// The seal's ciphertext, decoded, with its key and IV.
    ciphertext: Vec<u8>,
    enc_key: [u8; 32],
    iv: [u8; 16],
    /// The token's `header.payload`, its signature decoded, and its key.
    message: Vec<u8>,
    signature: Vec<u8>,
    key: ParsedPublicKey,
}

/// iron's key derivation: PBKDF2-HMAC-SHA1, one round, over the salt's characters.
fn derive(salt: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(PASSWORD.as_bytes(), salt.as_bytes(), 1, &mut key);
    key
}

async fn fixture() -> Fixture {
    let (emulator, auth) = common::demo().await;
    let client = emulator.client();
    let passwords = Passwords::single(PASSWORD).unwrap();
    let cookie = auth.seal_session(&passwords).unwrap();
    let token = auth.access_token.expose().to_owned();

    // Fe26.2*id*enc_salt*iv*ciphertext*expiration*mac_salt*mac~2
    let body = cookie.split('~').next().unwrap();
    let fields: Vec<&str> = body.split('*').collect();
    assert_eq!(fields.len(), 8, "an iron seal has eight fields");
    let mac_base = fields[..6].join("*");
    let iv: [u8; 16] = URL_SAFE_NO_PAD
        .decode(fields[3])
        .unwrap()
        .try_into()
        .unwrap();

    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    let kid = {
        let header = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let jwks = client.get_jwks().await.unwrap();
    let jwk = jwks.find(&kid).expect("the token's key is in the JWKS");
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        panic!("the emulator signs with RSA");
    };
    let (n, e) = (
        URL_SAFE_NO_PAD.decode(&rsa.n).unwrap(),
        URL_SAFE_NO_PAD.decode(&rsa.e).unwrap(),
    );
    let key = RsaPublicKeyComponents { n: &n, e: &e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .unwrap();

    let cold = SessionManager::new(client.clone(), passwords.clone())
        .with_token_cache_capacity(0)
        .with_session_cache_capacity(0);
    // The JWKS fetched once, as a running server has it.
    cold.verify_access_token(&token).await.unwrap();

    Fixture {
        cookie: cookie.clone(),
        passwords,
        cold,
        mac_key: derive(fields[6]),
        mac_base,
        ciphertext: URL_SAFE_NO_PAD.decode(fields[4]).unwrap(),
        enc_key: derive(fields[2]),
        iv,
        message: signing_input.as_bytes().to_vec(),
        signature: URL_SAFE_NO_PAD.decode(signature).unwrap(),
        key,
        token,
        _emulator: emulator,
    }
}

/// One call of each part; each checks its result, so none is optimized away
/// or timed while failing.
impl Fixture {
    fn hmac(&self) {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.mac_key).unwrap();
        mac.update(black_box(self.mac_base.as_bytes()));
        black_box(mac.finalize().into_bytes());
    }

    /// Decrypts into a buffer of the crate's own (one copy, as unsealing
    /// decodes into its buffer): the decryption alone, no allocation.
    fn aes(&self, out: &mut [u8]) {
        let plain = Aes256CbcDec::new(&self.enc_key.into(), &self.iv.into())
            .decrypt_padded_b2b_mut::<Pkcs7>(black_box(&self.ciphertext), out)
            .unwrap();
        assert_eq!(plain.first(), Some(&b'{'));
    }

    fn rs256(&self) {
        self.key
            .verify_sig(black_box(&self.message), black_box(&self.signature))
            .unwrap();
    }

    fn unseal(&self) {
        black_box(
            seal::unseal::<SessionData>(
                black_box(&self.cookie),
                &self.passwords,
                UnsealOptions::default(),
            )
            .unwrap(),
        );
    }

    async fn verify(&self) {
        black_box(
            self.cold
                .verify_access_token(black_box(&self.token))
                .await
                .unwrap(),
        );
    }

    async fn authenticate(&self) {
        let outcome = self
            .cold
            .authenticate(Some(black_box(&self.cookie)))
            .await
            .unwrap();
        assert!(matches!(outcome, Authentication::Authenticated(_)));
        black_box(outcome);
    }
}

fn criterion_runs(c: &mut Criterion, rt: &tokio::runtime::Runtime, fx: &Fixture) {
    let mut out = vec![0u8; fx.ciphertext.len()];
    let mut primitives = c.benchmark_group("primitive");
    primitives.bench_function("HMAC-SHA256 over the seal's MAC base", |b| {
        b.iter(|| fx.hmac())
    });
    primitives.bench_function("AES-256-CBC decrypt of the seal's ciphertext", |b| {
        b.iter(|| fx.aes(&mut out))
    });
    primitives.bench_function("RS256 verify, key parsed beforehand", |b| {
        b.iter(|| fx.rs256())
    });
    primitives.finish();

    let mut parts = c.benchmark_group("cold");
    parts.bench_function("unseal session cookie", |b| b.iter(|| fx.unseal()));
    parts.bench_function("verify access token (no cache)", |b| {
        b.to_async(rt).iter(|| fx.verify())
    });
    parts.bench_function("authenticate (caches off)", |b| {
        b.to_async(rt).iter(|| fx.authenticate())
    });
    parts.finish();
}

/// The mean of one call of `f`, in µs: the best of five rounds of `n` calls.
fn time(n: u32, mut f: impl FnMut()) -> f64 {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min)
}

/// [`time`] for an async part: each round's `n` calls in one `block_on`
/// (as criterion's async runs), so the runtime's entry is not counted.
fn time_async<'a, F: Future<Output = ()> + 'a>(
    rt: &tokio::runtime::Runtime,
    n: u32,
    mut f: impl FnMut() -> F,
) -> f64 {
    (0..5)
        .map(|_| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..n {
                    f().await;
                }
                start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
            })
        })
        .fold(f64::INFINITY, f64::min)
}

fn print_floor(rt: &tokio::runtime::Runtime, fx: &Fixture) {
    let mut out = vec![0u8; fx.ciphertext.len()];
    let hmac = time(20_000, || fx.hmac());
    let aes = time(20_000, || fx.aes(&mut out));
    let rs256 = time(2_000, || fx.rs256());
    let floor = hmac + aes + rs256;
    let unseal = time(5_000, || fx.unseal());
    let verify = time_async(rt, 2_000, || fx.verify());
    let authenticate = time_async(rt, 2_000, || fx.authenticate());
    println!();
    println!(
        "crypto floor {floor:.1} µs = HMAC-SHA256 {hmac:.2} + AES-256-CBC {aes:.2} + RS256 {rs256:.1}"
    );
    println!(
        "unseal {unseal:.1} µs: {:+.1} µs over its crypto (HMAC + AES)",
        unseal - hmac - aes
    );
    println!(
        "verify access token {verify:.1} µs: {:+.1} µs over RS256",
        verify - rs256
    );
    println!(
        "authenticate (caches off) {authenticate:.1} µs: {:+.1} µs over the floor",
        authenticate - floor
    );
}

/// `COLD_PART=<part> COLD_ITERS=<n>`: only `n` calls of one part, for
/// instruction counts (not inlined, so callgrind can count it alone:
/// `--toggle-collect='cold::run_part*'`).
#[inline(never)]
fn run_part(rt: &tokio::runtime::Runtime, fx: &Fixture, part: &str, n: u32) {
    let mut out = vec![0u8; fx.ciphertext.len()];
    rt.block_on(async {
        for _ in 0..n {
            match part {
                "hmac" => fx.hmac(),
                "aes" => fx.aes(&mut out),
                "rs256" => fx.rs256(),
                "unseal" => fx.unseal(),
                "verify" => fx.verify().await,
                "authenticate" => fx.authenticate().await,
                other => panic!("COLD_PART: no part {other:?}"),
            }
        }
    });
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let fx = rt.block_on(fixture());
    if let Ok(part) = std::env::var("COLD_PART") {
        let n = std::env::var("COLD_ITERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1_000);
        run_part(&rt, &fx, &part, n);
        return;
    }
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    criterion_runs(&mut c, &rt, &fx);
    c.final_summary();
    // Only when benchmarking (`cargo bench` passes `--bench`): `cargo test
    // --benches` runs each benchmark once, in criterion's test mode.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list") {
        print_floor(&rt, &fx);
    }
}
