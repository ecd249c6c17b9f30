//! The `authkit-emulator` binary, as another language's test suite uses it:
//! started as a process with a seed file, its base URL read from stdout, and
//! a sign-in through its hosted login page over plain HTTP, as a browser
//! and an app's backend would do it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const SEED: &str = r#"
[[users]]
email = "grace@example.com"
password = "a-long-enough-password"
first_name = "Grace"

[[organizations]]
name = "Navy"
roles = [{ slug = "admiral", permissions = ["fleet:command"] }]

[[memberships]]
user = "grace@example.com"
organization = "Navy"
role = "admiral"
"#;
const CALLBACK: &str = "http://localhost:3000/auth/callback";

/// The process, killed when the test ends (pass or fail).
struct Running {
    child: Child,
    stdout: Vec<String>,
    base_url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `args` and reads stdout up to its banner's
/// "Ctrl-C to stop." line.
fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authkit-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                let done = line.contains("Ctrl-C to stop");
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(e) => {
                let _ = child.kill();
                panic!("no banner from the binary ({e}); it printed: {lines:#?}");
            }
        }
    }
    let base_url = lines
        .iter()
        .find_map(|l| l.strip_prefix("WorkOS emulator listening on "))
        .expect("the banner names the base URL")
        .trim()
        .to_owned();
    Running {
        child,
        stdout: lines,
        base_url,
    }
}

fn seed_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "authkit-emulator-binary-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The `value` of the input named `name`.
fn input_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no input {name} in {html}"));
    let rest = &html[at..];
    let start = rest.find("value=\"").unwrap() + "value=\"".len();
    let end = rest[start..].find('"').unwrap();
    rest[start..start + end].to_owned()
}

/// The form's `action`.
fn form_action(html: &str) -> String {
    let at = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = html[at..].find('"').unwrap();
    html[at..at + end].replace("&amp;", "&")
}

#[tokio::test]
async fn the_binary_serves_a_seeded_sign_in_through_its_login_page() {
    let seed = seed_file("seed.toml", SEED);
    let emulator = start(&[
        "--port",
        "0",
        "--seed",
        seed.to_str().unwrap(),
        "--access-token-ttl",
        "2m",
        "--client-id",
        "client_binary_test",
    ]);
    let base = emulator.base_url.clone();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(
        !base.ends_with(":0"),
        "the banner names the bound port: {base}"
    );
    let banner = emulator.stdout.join("\n");
    assert!(banner.contains("sk_test_emulator"), "{banner}");
    assert!(banner.contains("client_binary_test"), "{banner}");
    assert!(
        banner.contains("grace@example.com / a-long-enough-password"),
        "{banner}"
    );

    // The browser: GET authorize (PKCE S256), no redirects followed.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (verifier, challenge) = pkce();
    let authorize = reqwest::Url::parse_with_params(
        &format!("{base}/user_management/authorize"),
        [
            ("client_id", "client_binary_test"),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("provider", "authkit"),
            ("state", "xyzzy"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let page = browser.get(authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let authorization_id = input_value(&html, "authorization_id");
    let action = form_action(&html);

    // POST the form, as the browser does.
    let posted = browser
        .post(format!("{base}{action}"))
        .form(&[
            ("authorization_id", authorization_id.as_str()),
            ("email", "grace@example.com"),
            ("password", "a-long-enough-password"),
        ])
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_redirection(), "{}", posted.status());
    let location = posted.headers()["location"].to_str().unwrap().to_owned();
    let location = reqwest::Url::parse(&location).unwrap();
    assert!(location.as_str().starts_with(CALLBACK), "{location}");
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some("xyzzy"));
    let code = param("code").expect("the redirect carries a code");

    // The app's backend exchanges the code (a public client: the verifier, no secret).
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{base}/user_management/authenticate"))
        .json(&json!({
            "grant_type": "authorization_code",
            "client_id": "client_binary_test",
            "code": code,
            "code_verifier": verifier,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let auth: Value = answer.json().await.unwrap();
    assert_eq!(auth["user"]["email"], "grace@example.com");
    assert_eq!(auth["user"]["first_name"], "Grace");
    assert!(
        auth["organization_id"]
            .as_str()
            .unwrap()
            .starts_with("org_")
    );

    // The access token is signed by a key the JWKS publishes.
    let token = auth["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["role"], "admiral");
    assert_eq!(claims["permissions"], json!(["fleet:command"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120,
        "--access-token-ttl 2m"
    );
    let jwks: Value = http
        .get(format!("{base}/sso/jwks/client_binary_test"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(
        kids.contains(&header["kid"].as_str().unwrap()),
        "{kids:?} {header}"
    );
    std::fs::remove_dir_all(seed.parent().unwrap()).ok();
}

#[test]
fn a_bad_seed_file_fails_naming_the_file() {
    let seed = seed_file("broken.json", r#"{"users": [{"emial": "x@example.com"}]}"#);
    let output = Command::new(env!("CARGO_BIN_EXE_authkit-emulator"))
        .args(["--port", "0", "--seed", seed.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.json"), "{stderr}");
    std::fs::remove_dir_all(seed.parent().unwrap()).ok();
}
