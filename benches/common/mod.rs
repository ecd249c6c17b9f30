//! What the benches share: the embedded emulator, its users signed in, and
//! the cookie password they seal with. Each bench includes it with
//! `mod common;`; not every bench uses all of it.
#![allow(dead_code)]

use std::time::Duration;

use authkit_axum::client::{AuthenticateWithPassword, AuthenticationResponse};
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};

/// The cookie password every bench seals with.
pub const PASSWORD: &str = "benchmark-cookie-password-of-32-chars-or-more";

/// The emulator with `seed`, its access tokens valid for an hour (no
/// refresh during a bench).
pub async fn emulator(seed: Seed) -> Emulator {
    Emulator::builder()
        .with_seed(seed)
        .with_access_token_ttl(Duration::from_secs(3600))
        .start()
        .await
        .unwrap()
}

/// `email` signed in by password.
pub async fn sign_in(emulator: &Emulator, email: &str, password: &str) -> AuthenticationResponse {
    emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: email.into(),
            password: password.into(),
            ..Default::default()
        })
        .await
        .unwrap()
}

/// The demo seed's emulator and its demo user signed in.
pub async fn demo() -> (Emulator, AuthenticationResponse) {
    let emulator = emulator(Seed::demo()).await;
    let auth = sign_in(&emulator, "demo@example.com", DEMO_PASSWORD).await;
    (emulator, auth)
}
