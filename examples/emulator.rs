//! The WorkOS emulator, standalone: a local User Management API, JWKS and
//! AuthKit login page for offline development.
//!
//! ```text
//! cargo run --example emulator                                  # demo seed, any free port
//! cargo run --example emulator -- --port 4000 --seed seed.json
//! ```
//!
//! It prints the base URL, API key, client id and the seeded users, then the
//! codes and links of every email it would have sent, until Ctrl-C.
//!
//! The `authkit-emulator` binary does the same with more options (TOML
//! seeds, `--host`, `--access-token-ttl`): `cargo run -p authkit-emulator --
//! --help`. This example shows the in-process way.

use std::process::ExitCode;
use std::time::Duration;

use authkit_axum::emulator::{EmailKind, Emulator, EmulatorExt, ExposeSecret, Seed};

const USAGE: &str = "\
usage: cargo run --example emulator -- [options]

options:
  --port <port>           port on 127.0.0.1 (default: any free port)
  --seed <file.json>      users, organizations and memberships (default: a demo)
  --api-key <key>         the API key to accept (default: sk_test_emulator)
  --client-id <id>        the client id (default: client_emulator)
  --redirect-uri <uri>    an allowed redirect URI besides loopback ones (repeatable)
  -h, --help              this help";

#[derive(Debug, Default)]
struct Args {
    port: u16,
    seed: Option<String>,
    api_key: Option<String>,
    client_id: Option<String>,
    redirect_uris: Vec<String>,
}

/// `--name value` and `--name=value`, by hand.
fn parse_args(raw: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args::default();
    let mut raw = raw.into_iter();
    while let Some(arg) = raw.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(None);
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| raw.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "--port" => {
                let v = value()?;
                args.port = v
                    .parse()
                    .map_err(|_| format!("--port: {v:?} is not a port"))?;
            }
            "--seed" => args.seed = Some(value()?),
            "--api-key" => args.api_key = Some(value()?),
            "--client-id" => args.client_id = Some(value()?),
            "--redirect-uri" => args.redirect_uris.push(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(args))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let seed = match &args.seed {
        Some(path) => match Seed::from_json_file(path) {
            Ok(seed) => seed,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Seed::demo(),
    };
    let mut builder = Emulator::builder()
        .with_seed(seed.clone())
        .with_port(args.port)
        .with_redirect_uris(args.redirect_uris);
    if let Some(key) = args.api_key {
        builder = builder.with_api_key(key);
    }
    if let Some(id) = args.client_id {
        builder = builder.with_client_id(id);
    }
    let emu = match builder.start().await {
        Ok(emu) => emu,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(&emu, &seed);

    let mut printed = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick() => {
                let emails = emu.sent_emails();
                for email in &emails[printed..] {
                    let what = match email.kind {
                        EmailKind::MagicAuth => "magic auth code",
                        EmailKind::EmailVerification => "email verification code",
                        EmailKind::PasswordReset => "password reset",
                        EmailKind::Invitation => "invitation",
                        _ => "email",
                    };
                    match &email.link {
                        Some(link) => println!("✉  {what} for {}: {link}", email.to),
                        None => println!("✉  {what} for {}: {}", email.to, email.secret.expose_secret()),
                    }
                }
                printed = emails.len();
            }
        }
    }
    println!("\nstopping");
    emu.stop().await;
    ExitCode::SUCCESS
}

fn print_banner(emu: &Emulator, seed: &Seed) {
    let port = emu.base_url().rsplit(':').next().unwrap_or_default();
    println!("WorkOS emulator listening on {}\n", emu.base_url());
    println!("  API key     {}", emu.api_key());
    println!("  client id   {}", emu.client_id());
    println!("  JWKS        {}", emu.client().get_jwks_url());
    println!("\nPoint an app at it:\n");
    println!("  export WORKOS_API_KEY={}", emu.api_key());
    println!("  export WORKOS_CLIENT_ID={}", emu.client_id());
    println!(
        "  export WORKOS_API_HOSTNAME=127.0.0.1 WORKOS_API_PORT={port} WORKOS_API_HTTPS=false"
    );
    println!("\nUsers:");
    if seed.users.is_empty() {
        println!("  (none: sign up on the hosted page, or create users through the API)");
    }
    for user in &seed.users {
        let id = emu
            .user_by_email(&user.email)
            .map(|u| u.id)
            .unwrap_or_default();
        let password = user
            .password
            .as_deref()
            .unwrap_or("(no password: magic auth only)");
        let mut notes = Vec::new();
        if user.require_email_verification {
            notes.push("must verify email".to_owned());
        }
        if let Some(secret) = &user.totp_secret {
            notes.push(format!("TOTP secret {secret}"));
        }
        if user.require_mfa {
            notes.push("must enroll MFA".to_owned());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  [{}]", notes.join(", "))
        };
        println!("  {:<28} password: {password}  ({id}){notes}", user.email);
    }
    if !seed.organizations.is_empty() {
        println!("\nOrganizations:");
        for org in emu.organizations() {
            let members: Vec<String> = seed
                .memberships
                .iter()
                .filter(|m| m.organization == org.id || m.organization == org.name)
                .map(|m| {
                    let roles: Vec<&str> =
                        m.role.iter().chain(&m.roles).map(String::as_str).collect();
                    let roles = if roles.is_empty() {
                        "member".to_owned()
                    } else {
                        roles.join("+")
                    };
                    format!("{} ({roles})", m.user)
                })
                .collect();
            println!(
                "  {:<28} {}  members: {}",
                org.name,
                org.id,
                members.join(", ")
            );
        }
    }
    println!(
        "\nHosted login: {}/user_management/authorize?client_id={}&redirect_uri=http://localhost:3000/callback&response_type=code&provider=authkit",
        emu.base_url(),
        emu.client_id()
    );
    println!("\nCtrl-C to stop.\n");
}
