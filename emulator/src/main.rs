//! `authkit-emulator`: an offline WorkOS on 127.0.0.1, for development and
//! for any language's tests. See `authkit-emulator --help` and the README.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use authkit_emulator::{
    DEFAULT_API_KEY, DEFAULT_CLIENT_ID, EmailKind, Emulator, ExposeSecret, Seed,
};
use clap::Parser;

/// An offline WorkOS: the User Management API, AuthKit's hosted login page
/// and the JWKS. Prints its base URL, API key, client id and the seeded
/// users' credentials, then the codes and links of every email it would
/// have sent, until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "authkit-emulator", version)]
struct Args {
    /// The host or IP address to listen on (`0.0.0.0` serves the network).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The port (0: any free port; the URL printed names the one bound).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Users, organizations, memberships and TOTP factors: a `.toml` file,
    /// or JSON (any other name). Default: a demo user in a demo organization.
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// How long access tokens live: seconds (`300`) or with a unit
    /// (`90s`, `5m`, `2h`, `1d`).
    #[arg(long, value_name = "DURATION", default_value = "300", value_parser = parse_duration)]
    access_token_ttl: Duration,
    /// The API key (and client secret) to accept.
    #[arg(long, default_value = DEFAULT_API_KEY)]
    api_key: String,
    /// The client id to answer to.
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    client_id: String,
    /// A redirect URI the hosted login may send browsers to, besides any
    /// `http://localhost`/`127.0.0.1`/`[::1]` one (repeatable).
    #[arg(long = "redirect-uri", value_name = "URI")]
    redirect_uris: Vec<String>,
    /// An endpoint to send webhooks to (repeatable), signed with
    /// `--webhook-secret`.
    #[arg(long = "webhook", value_name = "URL", requires = "webhook_secret")]
    webhooks: Vec<String>,
    /// The secret webhooks are signed with.
    #[arg(long, value_name = "SECRET")]
    webhook_secret: Option<String>,
}

/// `300`, `300s`, `5m`, `2h`, `1d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 300, 90s, 5m, 2h)"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => return Err(format!("unknown unit {other:?} (use s, m, h or d)")),
    };
    let secs = number
        .checked_mul(scale)
        .filter(|&s| s > 0)
        .ok_or_else(|| format!("{text:?} is not a usable duration"))?;
    Ok(Duration::from_secs(secs))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let seed = match &args.seed {
        Some(path) => match Seed::from_file(path) {
            Ok(seed) => seed,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Seed::demo(),
    };
    let mut builder = Emulator::builder();
    for url in &args.webhooks {
        let secret = args.webhook_secret.clone().unwrap_or_default();
        builder = builder.with_webhook(url, secret);
    }
    let started = builder
        .with_seed(seed.clone())
        .with_host(&args.host)
        .with_port(args.port)
        .with_api_key(&args.api_key)
        .with_client_id(&args.client_id)
        .with_access_token_ttl(args.access_token_ttl)
        .with_redirect_uris(args.redirect_uris)
        .start()
        .await;
    let emulator = match started {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(&emulator, &seed);
    serve_until_stopped(&emulator).await;
    println!("\nstopping");
    emulator.stop().await;
    ExitCode::SUCCESS
}

/// Prints the emails the emulator "sends" until Ctrl-C (or SIGTERM).
async fn serve_until_stopped(emulator: &Emulator) {
    let mut printed = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick.tick() => {
                let emails = emulator.sent_emails();
                for email in &emails[printed..] {
                    let what = match email.kind {
                        EmailKind::MagicAuth => "magic auth code",
                        EmailKind::EmailVerification => "email verification code",
                        EmailKind::PasswordReset => "password reset",
                        EmailKind::Invitation => "invitation",
                        EmailKind::EmailChange => "email change code",
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
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                tokio::signal::ctrl_c().await.ok();
            }
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.ok();
}

fn print_banner(emulator: &Emulator, seed: &Seed) {
    let base = emulator.base_url();
    let (host, port) = base
        .trim_start_matches("http://")
        .rsplit_once(':')
        .unwrap_or_default();
    println!("WorkOS emulator listening on {base}\n");
    println!("  API key     {}", emulator.api_key());
    println!("  client id   {}", emulator.client_id());
    println!("  JWKS        {base}/sso/jwks/{}", emulator.client_id());
    println!("\nPoint an app at it:\n");
    println!("  export WORKOS_API_KEY={}", emulator.api_key());
    println!("  export WORKOS_CLIENT_ID={}", emulator.client_id());
    println!("  export WORKOS_API_HOSTNAME={host} WORKOS_API_PORT={port} WORKOS_API_HTTPS=false");
    println!("\nUsers:");
    if seed.users.is_empty() {
        println!("  (none: sign up on the hosted page, or create users through the API)");
    }
    for user in &seed.users {
        let id = emulator
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
        println!("  {} / {password}  ({id}){notes}", user.email);
    }
    if !seed.organizations.is_empty() {
        println!("\nOrganizations:");
        for org in emulator.organizations() {
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
                "  {}  {}  members: {}",
                org.name,
                org.id,
                members.join(", ")
            );
        }
    }
    println!(
        "\nHosted login: {base}/user_management/authorize?client_id={}&redirect_uri=http://localhost:3000/callback&response_type=code&provider=authkit",
        emulator.client_id()
    );
    println!("\nCtrl-C to stop.\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_seconds_and_units() {
        assert_eq!(parse_duration("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
    }

    #[test]
    fn the_arguments_parse() {
        let args = Args::try_parse_from([
            "authkit-emulator",
            "--port",
            "4100",
            "--access-token-ttl",
            "5m",
            "--seed",
            "seed.toml",
        ])
        .unwrap();
        assert_eq!(args.port, 4100);
        assert_eq!(args.host, "127.0.0.1");
        assert_eq!(args.access_token_ttl, Duration::from_secs(300));
    }
}
