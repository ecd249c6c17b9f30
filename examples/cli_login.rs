//! A command-line tool that signs its user in with CLI Auth (WorkOS's device
//! authorization flow) and calls an API with the access token:
//! `cargo run --example cli_login` (no WorkOS account needed).
//!
//! What a real CLI does: start a device authorization, print the code and
//! the URL (never the device code), wait while the person signs in in a
//! browser — polling every `interval`, slower after a `slow_down`, until
//! approved, denied or expired; Ctrl-C stops it — then call the API with
//! `Authorization: Bearer <access token>`. Tokens are never printed.
//!
//! Here everything runs in one process: the embedded WorkOS emulator, a
//! small API behind the AuthKit layer, and — standing in for the person at
//! the browser, since this demo has nobody to ask — a task that opens the
//! emulator's device page over HTTP, signs in as the demo user and clicks
//! "Approve". With `WORKOS_API_KEY` and `WORKOS_CLIENT_ID` set, the CLI
//! runs against your WorkOS environment instead and waits for a real
//! person (turn CLI Auth on in the dashboard first).

use std::error::Error;
use std::time::Duration;

use authkit_axum::client::{DeviceAuthorization, UserManagement, base_url_from_env};
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
use authkit_axum::{AuthClaims, AuthKit, AuthUser};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// The API the CLI talks to: who is calling, from the Bearer token.
async fn me(claims: AuthClaims, user: AuthUser) -> Json<Value> {
    Json(json!({
        "email": user.user.email,
        "organization_id": claims.organization_id(),
        "permissions": claims.permissions(),
    }))
}

/// Serves the API on a free port, Bearer tokens only; returns its base URL.
async fn start_api(client: UserManagement) -> Result<String, Box<dyn Error>> {
    let authkit = AuthKit::builder()
        .with_client(client)
        .with_session_cookies(false)
        // Required by the builder, unused without cookies and auth routes.
        .with_cookie_password("an-unused-cookie-password-of-32-chars")
        .with_redirect_uri("http://localhost:3000/auth/callback")
        .build()?;
    let api = Router::new()
        .route("/api/me", get(me))
        .layer(authkit.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, api).await });
    Ok(base)
}

#[tokio::main]
async fn main() {
    // Display, not Debug: the message, not a dump of the error's fields.
    if let Err(error) = run().await {
        eprintln!("Error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    // Your WorkOS, or the emulator (with a 1 s interval to keep the demo short).
    // The CLI holds no secret: a public client (no API key). The API it
    // calls, a server, has the key.
    let (client, api_client, emulator) = if std::env::var_os("WORKOS_API_KEY").is_some() {
        let client_id = std::env::var("WORKOS_CLIENT_ID")?;
        let cli = UserManagement::public_builder(client_id)
            .with_base_url(base_url_from_env()?)
            .build()?;
        (cli, UserManagement::from_env()?, None)
    } else {
        let emulator = Emulator::builder()
            .with_seed(Seed::demo())
            .with_device_code_interval(Duration::from_secs(1))
            .start()
            .await?;
        let cli = UserManagement::public_builder(emulator.client_id())
            .with_base_url(emulator.base_url())
            .build()?;
        (cli, emulator.client(), Some(emulator))
    };
    let api = start_api(api_client).await?;

    // 1. Ask for a device authorization; show the person what to do.
    let device = client.authorize_device().await?;
    println!("To sign in, open {}", device.verification_uri);
    println!("and enter the code {}", device.user_code);
    println!("(or open {} directly)", device.browser_url());
    println!("Waiting for you to approve… (Ctrl-C to cancel)");

    if let Some(emulator) = &emulator {
        // The demo's stand-in for the person at the browser.
        tokio::spawn(approve_as_the_demo_user(emulator.clone(), device.clone()));
    }

    // 2. Wait for the approval; Ctrl-C drops the poll, which stops it.
    let polled = tokio::select! {
        polled = client.poll_device_authorization(&device) => polled,
        _ = tokio::signal::ctrl_c() => {
            println!("Cancelled.");
            return Ok(());
        }
    };
    let signed_in = match polled {
        Ok(signed_in) => signed_in,
        Err(e) if e.code() == Some("access_denied") => {
            println!("The sign-in was denied.");
            return Ok(());
        }
        Err(e) if e.code() == Some("expired_token") => {
            println!("The code expired before it was approved: run the command again.");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    println!("Signed in as {}.", signed_in.user.email);

    // 3. Call the API with the access token (a real CLI would keep the
    //    refresh token in the OS keychain, and refresh the access token).
    let r = reqwest::Client::new()
        .get(format!("{api}/api/me"))
        .bearer_auth(signed_in.access_token.expose())
        .send()
        .await?;
    println!("GET /api/me → {} {}", r.status(), r.text().await?);
    Ok(())
}

/// Does in the background what the person would do in a browser: open the
/// device page, continue with the prefilled code, sign in, approve.
async fn approve_as_the_demo_user(
    emulator: Emulator,
    device: DeviceAuthorization,
) -> Result<(), reqwest::Error> {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    println!("  [demo] the demo user opens the page, signs in and approves");
    let browser = reqwest::Client::new();
    let base = emulator.base_url();
    let page = browser
        .get(device.browser_url())
        .send()
        .await?
        .text()
        .await?;
    let code = input_value(&page, "user_code").unwrap_or_default();
    let page = browser
        .post(format!("{base}/emulator/device"))
        .form(&[("user_code", code.as_str())])
        .send()
        .await?
        .text()
        .await?;
    let id = input_value(&page, "authorization_id").unwrap_or_default();
    browser
        .post(format!("{base}/emulator/login"))
        .form(&[
            ("authorization_id", id.as_str()),
            ("email", "demo@example.com"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await?;
    browser
        .post(format!("{base}/emulator/device/confirm"))
        .form(&[("authorization_id", id.as_str()), ("decision", "approve")])
        .send()
        .await?;
    Ok(())
}

/// The `value` of the input named `name` in a page.
fn input_value(html: &str, name: &str) -> Option<String> {
    let rest = &html[html.find(&format!("name=\"{name}\""))?..];
    let start = rest.find("value=\"")? + "value=\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_owned())
}
