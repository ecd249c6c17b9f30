//! The WorkOS emulator in-process, driven through the library's client:
//! `cargo run --example emulator`.
//!
//! It starts an emulator with the demo seed, signs the demo user in by
//! password through [`UserManagement`](authkit_axum::client::UserManagement)
//! (as a custom sign-in form would), prints what it got, and keeps serving
//! until Ctrl-C so you can point anything else at it.
//!
//! For a standalone emulator (any language's tests, TOML seeds, `--host`,
//! `--access-token-ttl`) use the binary instead:
//! `cargo run -p authkit-emulator -- --help`.

use authkit_axum::client::AuthenticateWithPassword;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};

#[tokio::main]
async fn main() {
    // Display, not Debug: the message, not a dump of the error's fields.
    if let Err(error) = run().await {
        eprintln!("Error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_port(port)
        .start()
        .await?;
    println!("WorkOS emulator at {}", emulator.base_url());
    println!("  WORKOS_API_KEY={}", emulator.api_key());
    println!("  WORKOS_CLIENT_ID={}", emulator.client_id());

    let auth = emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "demo@example.com".into(),
            password: DEMO_PASSWORD.into(),
            ..Default::default()
        })
        .await?;
    println!(
        "Signed in {} ({}) by password; the access token is {} bytes.",
        auth.user.email,
        auth.user.id,
        auth.access_token.len()
    );

    println!("Serving until Ctrl-C.");
    tokio::signal::ctrl_c().await?;
    emulator.stop().await;
    Ok(())
}
