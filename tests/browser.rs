//! The quickstart in a real browser: headless Chromium, driven over WebDriver
//! by chromedriver, against `target/debug/examples/quickstart` (which runs the
//! embedded WorkOS emulator).
//!
//! Needs `chromium` and `chromium-driver` (Debian's `/usr/bin/chromium` and
//! `/usr/bin/chromedriver`; override with `CHROMIUM` / `CHROMEDRIVER`) and a
//! built quickstart, so every test is ignored by default. `.ci/run` does:
//!
//! ```text
//! cargo build --example quickstart --example custom_login
//! cargo test --test browser -- --ignored --test-threads=1
//! ```
//!
//! One scenario signs in through `examples/custom_login.rs` instead: the
//! app's own form, no hosted page. Another drives an app of the shared
//! harness (`tests/support/app.rs`, real HTTP on 127.0.0.1) whose emulator
//! leaves the organization to the app: the crate's organization picker and
//! its 503 page, which the quickstart never shows.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use authkit_axum::emulator::{
    DEFAULT_API_KEY, DEMO_PASSWORD, Emulator, Fault, Seed, SeedMembership, SeedOrganization,
    SeedUser,
};
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value, json};
use url::Url;

mod support;

const DEMO_EMAIL: &str = "demo@example.com";
/// How long any one condition may take to become true.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);
/// How long a whole scenario may take.
const SCENARIO: Duration = Duration::from_secs(60);
const SESSION_COOKIE: &str = "wos-session";

// ---------------------------------------------------------------------------
// Processes

use support::process::{Proc, TempDir, free_port, profile_dir};

/// Polls `check` until it gives `Ok`, for at most [`WAIT`].
async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(why) if Instant::now() >= deadline => {
                panic!("timed out after {WAIT:?} waiting for {what}: {why}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}

async fn http_ok(url: &str) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| e.to_string())?;
    let response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()))
    }
}

/// The running quickstart.
struct Quickstart {
    proc: Proc,
    /// `http://localhost:PORT`
    base: String,
    /// The emulator's base URL, as printed.
    emulator: Url,
    /// The credentials it printed.
    email: String,
    password: String,
}

impl Quickstart {
    async fn start() -> Quickstart {
        Quickstart::start_example("quickstart").await
    }

    /// Starts the built example `name`, which prints what the quickstart
    /// prints (the emulator's URL, the demo user, the address).
    async fn start_example(name: &str) -> Quickstart {
        let binary = profile_dir()
            .join("examples")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        assert!(
            binary.is_file(),
            "{} is missing: run `cargo build --example {name}` first",
            binary.display()
        );
        let port = free_port();
        let mut command = Command::new(&binary);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("WORKOS_") {
                command.env_remove(name);
            }
        }
        command.env("PORT", port.to_string());
        let mut proc = Proc::spawn(name, &mut command);
        let base = format!("http://localhost:{port}");
        eventually("the quickstart to answer", async || {
            proc.assert_running();
            http_ok(&format!("http://127.0.0.1:{port}/")).await
        })
        .await;
        let output = proc.output();
        let line = |prefix: &str| {
            output
                .lines()
                .find_map(|l| l.split_once(prefix).map(|(_, rest)| rest.trim().to_owned()))
                .unwrap_or_else(|| panic!("the quickstart did not print {prefix:?}:\n{output}"))
        };
        let (email, password) = line("Demo user: ")
            .split_once(" / ")
            .map(|(e, p)| (e.to_owned(), p.to_owned()))
            .expect("`Demo user: <email> / <password>`");
        assert_eq!(email, DEMO_EMAIL, "the printed demo user");
        assert_eq!(password, DEMO_PASSWORD, "the printed demo password");
        let emulator =
            Url::parse(&line("using the WorkOS emulator at ")).expect("the emulator's URL");
        assert_eq!(
            line("Listening on "),
            base,
            "the printed address of the app"
        );
        Quickstart {
            proc,
            base,
            emulator,
            email,
            password,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

// ---------------------------------------------------------------------------
// The browser

/// chromedriver, headless Chromium and the WebDriver session.
struct Browser {
    client: Client,
    _driver: Proc,
    _profile: TempDir,
}

/// What the browser shows.
#[derive(Debug)]
struct Page {
    url: Url,
    title: String,
    text: String,
}

impl Browser {
    async fn start() -> Browser {
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        for (what, path) in [("chromedriver", &chromedriver), ("chromium", &chromium)] {
            assert!(
                Path::new(path).exists(),
                "{what} not found at {path}: `apt-get install chromium chromium-driver`"
            );
        }
        let port = free_port();
        let mut driver = Proc::spawn(
            "chromedriver",
            Command::new(&chromedriver).arg(format!("--port={port}")),
        );
        let webdriver = format!("http://127.0.0.1:{port}");
        eventually("chromedriver to answer", async || {
            driver.assert_running();
            http_ok(&format!("{webdriver}/status")).await
        })
        .await;

        let profile = TempDir::new("authkit-browser-test");
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1024,768",
        ]
        .map(String::from)
        .to_vec();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = tokio::time::timeout(
            Duration::from_secs(30),
            ClientBuilder::rustls()
                .expect("rustls")
                .capabilities(capabilities)
                .connect(&webdriver),
        )
        .await
        .expect("timed out starting Chromium")
        .expect("a WebDriver session with headless Chromium");
        client
            .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
                Some(WAIT),
                Some(WAIT),
                Some(Duration::ZERO),
            ))
            .await
            .expect("set the WebDriver timeouts");
        Browser {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Runs `scenario` (for at most [`SCENARIO`]), then always ends the
    /// session (closing Chromium).
    async fn run<F: Future<Output = ()>>(self, scenario: impl FnOnce(Client) -> F) {
        let bounded = async {
            if tokio::time::timeout(SCENARIO, scenario(self.client.clone()))
                .await
                .is_err()
            {
                panic!("the scenario took more than {SCENARIO:?}");
            }
        };
        let outcome = AssertUnwindSafe(bounded).catch_unwind().await;
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.clone().close()).await;
        // (On failure, `self` is dropped while unwinding: chromedriver's output is shown.)
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

async fn page(client: &Client) -> Result<Page, String> {
    let url = client.current_url().await.map_err(|e| e.to_string())?;
    let title = client.title().await.map_err(|e| e.to_string())?;
    let text = client
        .find(Locator::Css("body"))
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    Ok(Page { url, title, text })
}

/// Waits until the page satisfies `ok`.
async fn wait_for_page(client: &Client, what: &str, ok: impl Fn(&Page) -> bool) -> Page {
    eventually(what, async || {
        let page = page(client).await?;
        if ok(&page) {
            Ok(page)
        } else {
            Err(format!(
                "at {} ({:?}) showing {:?}",
                page.url, page.title, page.text
            ))
        }
    })
    .await
}

/// `url` without its query and fragment.
fn url_path(url: &Url) -> String {
    format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path()
}

fn on_emulator(page: &Page, emulator: &Url) -> bool {
    page.url.host_str() == emulator.host_str() && page.url.port() == emulator.port()
}

/// Waits for the emulator's sign-in form (an `email` and a `password` input).
async fn wait_for_login_form(client: &Client, qs: &Quickstart) -> Page {
    wait_for_login_form_of(client, &qs.emulator).await
}

/// Waits for the sign-in form of the emulator at `emulator`.
async fn wait_for_login_form_of(client: &Client, emulator: &Url) -> Page {
    let page = wait_for_page(client, "the emulator's sign-in page", |p| {
        on_emulator(p, emulator) && p.title.contains("Sign in")
    })
    .await;
    for name in ["email", "password"] {
        client
            .find(Locator::Css(&format!("form input[name={name}]")))
            .await
            .unwrap_or_else(|e| panic!("no `{name}` input on the sign-in page {}: {e}", page.url));
    }
    page
}

/// Types the credentials into the sign-in form and submits it.
async fn sign_in(client: &Client, email: &str, password: &str) {
    for (name, value) in [("email", email), ("password", password)] {
        let input = client
            .find(Locator::Css(&format!("form input[name={name}]")))
            .await
            .unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .expect("the sign-in form's submit button")
        .click()
        .await
        .expect("click Sign in");
}

async fn session_cookie(client: &Client) -> Option<fantoccini::cookies::Cookie<'static>> {
    client
        .get_all_cookies()
        .await
        .expect("the browser's cookies")
        .into_iter()
        .find(|c| c.name() == SESSION_COOKIE)
}

/// The JSON the browser shows (Chromium's viewer wraps it in a `<pre>`),
/// once it has loaded and parses.
async fn shown_json(client: &Client, what: &str) -> Value {
    eventually(what, async || {
        let text = match client.find(Locator::Css("pre")).await {
            Ok(pre) => pre.text().await.map_err(|e| e.to_string())?,
            Err(_) => page(client).await?.text,
        };
        serde_json::from_str::<Value>(&text).map_err(|e| format!("{e}: {text:?}"))
    })
    .await
}

/// The user's sessions, from the emulator's API (`GET /user_management/users/{id}/sessions`).
async fn emulator_sessions(qs: &Quickstart, user_id: &str) -> Vec<Value> {
    let url = qs
        .emulator
        .join(&format!("/user_management/users/{user_id}/sessions"))
        .unwrap();
    let list: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(DEFAULT_API_KEY)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("the emulator's session list")
        .json()
        .await
        .expect("the emulator's session list as JSON");
    list["data"].as_array().cloned().unwrap_or_default()
}

/// The emulator's session `id` of the user.
async fn emulator_session(qs: &Quickstart, user_id: &str, id: &str) -> Value {
    let sessions = emulator_sessions(qs, user_id).await;
    sessions
        .iter()
        .find(|s| s["id"] == json!(id))
        .cloned()
        .unwrap_or_else(|| panic!("no session {id} at the emulator: {sessions:?}"))
}

/// The id of the emulator's user `email`.
async fn emulator_user_id(qs: &Quickstart, email: &str) -> String {
    let mut url = qs.emulator.join("/user_management/users").unwrap();
    url.query_pairs_mut().append_pair("email", email);
    let list: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(DEFAULT_API_KEY)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("the emulator's user list")
        .json()
        .await
        .expect("the emulator's user list as JSON");
    list["data"]
        .as_array()
        .and_then(|users| users.iter().find(|u| u["email"] == json!(email)))
        .and_then(|user| user["id"].as_str())
        .unwrap_or_else(|| panic!("no user {email} at the emulator: {list}"))
        .to_owned()
}

// ---------------------------------------------------------------------------
// The scenarios

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run by .ci/run"]
async fn quickstart_sign_in_account_and_sign_out_in_a_real_browser() {
    let started = Instant::now();
    let mut qs = Quickstart::start().await;
    let browser = Browser::start().await;
    eprintln!("quickstart and browser up in {:?}", started.elapsed());
    let qs_ref = &qs;
    browser
        .run(|client: Client| async move {
            let qs = qs_ref;

            // Signed out, the protected page sends the browser to the hosted sign-in.
            client.goto(&qs.url("/account")).await.unwrap();
            let login = wait_for_login_form(&client, qs).await;
            assert_eq!(
                login.url.path(),
                "/user_management/authorize",
                "{}",
                login.url
            );
            let redirect_uri = login
                .url
                .query_pairs()
                .find(|(k, _)| k == "redirect_uri")
                .map(|(_, v)| v.into_owned());
            assert_eq!(
                redirect_uri,
                Some(qs.url("/auth/callback")),
                "{}",
                login.url
            );
            assert!(
                login.text.to_lowercase().contains("workos emulator"),
                "the sign-in page: {:?}",
                login.text
            );

            // Sign in with the printed credentials: back on /account.
            sign_in(&client, &qs.email, &qs.password).await;
            let account = wait_for_page(&client, "the account page", |p| {
                url_path(&p.url) == qs.url("/account") && p.title == "Your account"
            })
            .await;
            assert_eq!(
                account.url.as_str(),
                qs.url("/account"),
                "no leftover query"
            );
            let email = client
                .find(Locator::Css("strong#email"))
                .await
                .expect("#email on the account page")
                .text()
                .await
                .unwrap();
            assert_eq!(email, qs.email);

            let screenshot = client.screenshot().await.expect("a screenshot");
            let shot = profile_dir()
                .parent()
                .expect("the target directory")
                .join("browser-account.png");
            std::fs::write(&shot, screenshot).unwrap();
            eprintln!("account page screenshot: {}", shot.display());

            // The session cookie: set, HttpOnly, and invisible to scripts.
            let cookie = session_cookie(&client)
                .await
                .expect("a wos-session cookie after signing in");
            assert_eq!(cookie.http_only(), Some(true), "{cookie:?}");
            assert_eq!(cookie.path(), Some("/"), "{cookie:?}");
            let script_cookies = client
                .execute("return document.cookie", vec![])
                .await
                .unwrap();
            assert!(
                !script_cookies
                    .as_str()
                    .unwrap_or_default()
                    .contains(SESSION_COOKIE),
                "document.cookie exposes the session: {script_cookies}"
            );

            // The JSON API sees the same user.
            client.goto(&qs.url("/api/me")).await.unwrap();
            let me = shown_json(&client, "/api/me's JSON").await;
            assert_eq!(me["user"]["email"], json!(qs.email), "{me}");
            let (Some(user_id), Some(session_id)) =
                (me["user"]["id"].as_str(), me["session_id"].as_str())
            else {
                panic!("no user id or session id in /api/me: {me}");
            };
            // The emulator knows the session, and that a (headless) Chrome made it.
            let session = emulator_session(qs, user_id, session_id).await;
            assert_eq!(session["status"], json!("active"), "{session}");
            assert!(
                session["user_agent"]
                    .as_str()
                    .is_some_and(|ua| ua.contains("Chrome")),
                "{session}"
            );

            // The account page has its sign-out button…
            client.goto(&qs.url("/account")).await.unwrap();
            client
                .find(Locator::Css("#sign-out"))
                .await
                .expect("the account page's #sign-out button");
            // …and a `GET /auth/logout` (a typed or old link) answers with a
            // page whose button posts the sign-out. Sign out through that
            // one: a real browser's POST from it must pass the cross-site
            // check (a `no-referrer` page would send `Origin: null`).
            client.goto(&qs.url("/auth/logout")).await.unwrap();
            wait_for_page(&client, "the sign-out page", |p| p.title == "Sign out").await;
            client
                .find(Locator::Css("form[method=post] button[type=submit]"))
                .await
                .expect("the sign-out page's button")
                .click()
                .await
                .expect("click Sign out");
            let home = wait_for_page(&client, "the signed-out home page", |p| {
                p.url.as_str() == qs.url("/") && p.text.contains("not signed in")
            })
            .await;
            assert!(home.text.contains("Sign in"), "{:?}", home.text);
            assert!(
                session_cookie(&client).await.is_none(),
                "the wos-session cookie survived signing out"
            );
            // …and the sign-out went through the emulator, which ended the session.
            let session = emulator_session(qs, user_id, session_id).await;
            assert_eq!(
                session["status"],
                json!("revoked"),
                "after signing out: {session}"
            );

            // Signed out for real: the protected page asks to sign in again.
            client.goto(&qs.url("/account")).await.unwrap();
            wait_for_login_form(&client, qs).await;
        })
        .await;
    eprintln!("scenario done in {:?}", started.elapsed());
    // The quickstart stayed up throughout.
    qs.proc.assert_running();
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run by .ci/run"]
async fn a_wrong_password_shows_an_error_and_sets_no_cookie() {
    let started = Instant::now();
    let mut qs = Quickstart::start().await;
    let browser = Browser::start().await;
    let qs_ref = &qs;
    browser
        .run(|client: Client| async move {
            let qs = qs_ref;
            client.goto(&qs.url("/")).await.unwrap();
            wait_for_page(&client, "the home page", |p| {
                p.text.contains("not signed in")
            })
            .await;
            client
                .find(Locator::LinkText("Sign in"))
                .await
                .expect("a Sign in link on the home page")
                .click()
                .await
                .unwrap();
            wait_for_login_form(&client, qs).await;

            sign_in(&client, &qs.email, "not-the-password").await;
            let (page, message) = eventually("the sign-in error", async || {
                let page = page(&client).await?;
                let error = client
                    .find(Locator::Css("[role=alert]"))
                    .await
                    .map_err(|_| format!("no alert at {} showing {:?}", page.url, page.text))?;
                Ok((page, error.text().await.map_err(|e| e.to_string())?))
            })
            .await;
            assert!(
                on_emulator(&page, &qs.emulator),
                "left the emulator: {}",
                page.url
            );
            assert!(
                message.contains("Incorrect password"),
                "the error shown: {message:?}"
            );
            // The form is offered again, with the email kept and the password not.
            let email = client
                .find(Locator::Css("form input[name=email]"))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap();
            assert_eq!(email.as_deref(), Some(qs.email.as_str()));
            let password = client
                .find(Locator::Css("form input[name=password]"))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap();
            assert_eq!(password.as_deref(), Some(""));

            // Back on the app: no session.
            client.goto(&qs.url("/")).await.unwrap();
            wait_for_page(&client, "the home page, still signed out", |p| {
                p.text.contains("not signed in")
            })
            .await;
            assert!(
                session_cookie(&client).await.is_none(),
                "a wos-session cookie was set by a failed sign-in"
            );
            let user_id = emulator_user_id(qs, &qs.email).await;
            let sessions = emulator_sessions(qs, &user_id).await;
            assert!(
                sessions.is_empty(),
                "sessions after a failed sign-in: {sessions:?}"
            );
        })
        .await;
    eprintln!("scenario done in {:?}", started.elapsed());
    qs.proc.assert_running();
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run by .ci/run"]
async fn custom_login_form_signs_in_without_the_hosted_page_in_a_real_browser() {
    let started = Instant::now();
    let mut qs = Quickstart::start_example("custom_login").await;
    let browser = Browser::start().await;
    let qs_ref = &qs;
    browser
        .run(|client: Client| async move {
            let qs = qs_ref;
            client.goto(&qs.url("/")).await.unwrap();
            wait_for_page(&client, "the home page", |p| {
                p.text.contains("not signed in")
            })
            .await;
            client
                .find(Locator::LinkText("Sign in with the app's own form"))
                .await
                .expect("the link to the form")
                .click()
                .await
                .unwrap();
            let form = wait_for_page(&client, "the app's own sign-in form", |p| {
                url_path(&p.url) == qs.url("/login") && p.title == "Sign in"
            })
            .await;
            assert!(!on_emulator(&form, &qs.emulator), "{}", form.url);
            // A real browser's post of the form passes the same-origin check.
            sign_in(&client, &qs.email, &qs.password).await;
            let home = wait_for_page(&client, "the signed-in home page", |p| {
                p.url.as_str() == qs.url("/") && p.text.contains("Signed in")
            })
            .await;
            assert!(home.text.contains(&qs.email), "{:?}", home.text);
            let email = client
                .find(Locator::Css("strong#email"))
                .await
                .expect("#email on the home page")
                .text()
                .await
                .unwrap();
            assert_eq!(email, qs.email);
            let cookie = session_cookie(&client)
                .await
                .expect("a wos-session cookie after signing in");
            assert_eq!(cookie.http_only(), Some(true), "{cookie:?}");
            assert_eq!(cookie.path(), Some("/"), "{cookie:?}");
            // One password sign-in at WorkOS, with the browser's user agent
            // (the example passes it along).
            let user_id = emulator_user_id(qs, &qs.email).await;
            let sessions = emulator_sessions(qs, &user_id).await;
            assert_eq!(sessions.len(), 1, "{sessions:?}");
            assert_eq!(
                sessions[0]["auth_method"],
                json!("password"),
                "{sessions:?}"
            );
            assert!(
                sessions[0]["user_agent"]
                    .as_str()
                    .is_some_and(|ua| ua.contains("Chrome")),
                "{sessions:?}"
            );
        })
        .await;
    eprintln!("scenario done in {:?}", started.elapsed());
    qs.proc.assert_running();
}

/// Shows the crate's page now in the browser: checks the template's heading
/// `title` is visible in its `<main>`, with one action, and saves a
/// screenshot as `target/browser-pages/{name}.png` (a CI artifact).
async fn check_page(client: &Client, name: &str, title: &str) {
    check_page_with_actions(client, name, title, 1).await;
}

/// [`check_page`] for a page of `actions` actions (the organization
/// picker's, one a choice).
async fn check_page_with_actions(client: &Client, name: &str, title: &str, expected: usize) {
    wait_for_page(client, title, |p| p.title == title).await;
    let heading = client
        .find(Locator::Css("main h1"))
        .await
        .unwrap_or_else(|e| panic!("{name}: no heading in a <main>: {e}"));
    assert_eq!(heading.text().await.unwrap(), title, "{name}");
    assert!(
        heading.is_displayed().await.unwrap(),
        "{name}: the heading is not visible"
    );
    let actions = client
        .find_all(Locator::Css("main a[href], main button[type=submit]"))
        .await
        .unwrap();
    assert_eq!(actions.len(), expected, "{name}: {expected} action(s)");
    let dir = profile_dir()
        .parent()
        .expect("the target directory")
        .join("browser-pages");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG screenshot");
    std::fs::write(&path, png).unwrap();
    println!("screenshot of {name}: {}", path.display());
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run by .ci/run"]
async fn the_crates_pages_show_their_heading_and_one_action_in_a_real_browser() {
    let qs = Quickstart::start().await;
    let browser = Browser::start().await;
    let qs_ref = &qs;
    browser
        .run(|client: Client| async move {
            let qs = qs_ref;

            // A failed callback (the provider said no): 400, a link to sign in again.
            client
                .goto(&qs.url("/auth/callback?error=access_denied"))
                .await
                .unwrap();
            check_page(&client, "callback-error", "Sign-in failed").await;

            // A GET of the logout route: 405, a button that posts the sign-out.
            client.goto(&qs.url("/auth/logout")).await.unwrap();
            check_page(&client, "sign-out", "Sign out").await;

            // A sign-out posted from elsewhere (an opaque origin): 403.
            client.goto("about:blank").await.unwrap();
            client
                .execute(
                    "const f = document.createElement('form');\
                     f.method = 'post'; f.action = arguments[0];\
                     document.body.appendChild(f); f.submit();",
                    vec![json!(qs.url("/auth/logout"))],
                )
                .await
                .unwrap();
            check_page(&client, "sign-out-refused", "Sign-out refused").await;

            // Signed in without the permission the quickstart's /admin
            // guard asks for (a user of no organization): 403, a page.
            let (email, password) = ("no-role@example.com", "a password for the 403 page");
            reqwest::Client::new()
                .post(qs.emulator.join("/user_management/users").unwrap())
                .bearer_auth(DEFAULT_API_KEY)
                .json(&json!({"email": email, "password": password, "email_verified": true}))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .expect("a user created at the emulator");
            client.goto(&qs.url("/admin")).await.unwrap();
            wait_for_login_form(&client, qs).await;
            sign_in(&client, email, password).await;
            check_page(&client, "forbidden", "You don't have access to this page").await;
            assert_eq!(
                url_path(&client.current_url().await.unwrap()),
                qs.url("/admin"),
                "the 403 page is /admin's answer"
            );
        })
        .await;
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver: run by .ci/run"]
async fn the_organization_picker_and_the_unavailable_page_in_a_real_browser() {
    // An app of the shared harness (real HTTP on 127.0.0.1) in front of an
    // emulator that leaves the choice of organization to the app, as WorkOS
    // does for a sign-in that answers `organization_selection_required`: the
    // quickstart's emulator picks the organization on its hosted page.
    let seed = Seed {
        users: vec![SeedUser::new(DEMO_EMAIL, DEMO_PASSWORD)],
        organizations: vec![
            SeedOrganization::new("Acme"),
            SeedOrganization::new("Globex"),
        ],
        memberships: vec![
            SeedMembership::new(DEMO_EMAIL, "Acme", "member"),
            SeedMembership::new(DEMO_EMAIL, "Globex", "member"),
        ],
        ..Seed::default()
    };
    let emulator = Emulator::builder()
        .with_seed(seed)
        .with_hosted_organization_picker(false)
        .start()
        .await
        .unwrap();
    let app = support::app::start_with(emulator, |b| b, axum::Router::new()).await;
    let emulator_url = Url::parse(app.emulator.base_url()).unwrap();
    let globex = app
        .emulator
        .organizations()
        .into_iter()
        .find(|o| o.name == "Globex")
        .unwrap()
        .id;
    let browser = Browser::start().await;
    let app_ref = &app;
    browser
        .run(|client: Client| async move {
            let app = app_ref;
            // Signing in: the emulator's hosted page, then the crate's picker.
            client
                .goto(&format!("{}/auth/login?return_to=/account", app.base))
                .await
                .unwrap();
            wait_for_login_form_of(&client, &emulator_url).await;
            sign_in(&client, DEMO_EMAIL, DEMO_PASSWORD).await;
            check_page_with_actions(&client, "organization-picker", "Choose an organization", 2)
                .await;
            let picker = page(&client).await.unwrap();
            assert!(
                picker.text.contains(DEMO_EMAIL),
                "the picker says who is signing in: {}",
                picker.text
            );
            // Choosing Globex signs in to it and lands on the return_to.
            client
                .find(Locator::XPath("//main//button[normalize-space()='Globex']"))
                .await
                .expect("a Globex button")
                .click()
                .await
                .unwrap();
            wait_for_page(&client, "the account, signed in", |p| {
                url_path(&p.url) == format!("{}/account", app.base)
            })
            .await;
            let account = shown_json(&client, "the account's JSON").await;
            assert_eq!(account["email"], DEMO_EMAIL);
            assert_eq!(
                account["org"],
                globex.as_str(),
                "signed in to the chosen one"
            );

            // WorkOS down when the access token needs a refresh: the 503
            // page, one "Try again" link back to the same page, still
            // signed in.
            app.emulator.clock().advance(Duration::from_secs(6 * 60));
            app.emulator.faults().inject(
                "/user_management/authenticate",
                Fault::status(503)
                    .with_retry_after(Duration::from_secs(30))
                    .forever()
                    .for_grant("refresh_token"),
            );
            let kept = session_cookie(&client).await.expect("a session cookie");
            client.goto(&format!("{}/account", app.base)).await.unwrap();
            check_page(&client, "unavailable", "Sign-in is temporarily unavailable").await;
            let link = client
                .find(Locator::Css("main a[href]"))
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap();
            assert_eq!(link.as_deref(), Some("/account"), "retries the same page");
            assert_eq!(
                session_cookie(&client).await.map(|c| c.value().to_owned()),
                Some(kept.value().to_owned()),
                "the session is kept"
            );
            // What the browser was told, which it does not show: WorkOS's wait.
            let told = reqwest::Client::new()
                .get(format!("{}/account", app.base))
                .header("accept", "text/html")
                .header("sec-fetch-mode", "navigate")
                .header("cookie", format!("{SESSION_COOKIE}={}", kept.value()))
                .send()
                .await
                .unwrap();
            assert_eq!(told.status(), 503);
            assert_eq!(
                told.headers()["retry-after"],
                "30",
                "WorkOS's wait, passed on"
            );
            // WorkOS back: "Try again" works, signed in still.
            app.emulator.faults().clear();
            client
                .find(Locator::Css("main a[href]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            let account = shown_json(&client, "the account's JSON again").await;
            assert_eq!(account["email"], DEMO_EMAIL, "still signed in");
        })
        .await;
}
