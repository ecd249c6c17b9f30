//! Configuration mistakes as a developer meets them: the quickstart run
//! with a bad environment prints every mistake at once, in words, and
//! starts nothing.

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::process::{example, free_port};

/// Runs the quickstart binary with only `vars` set (and `PATH`); returns
/// whether it succeeded, and its stderr and stdout.
fn quickstart_with(vars: &[(&str, &str)]) -> (bool, String, String) {
    run_example("quickstart", vars)
}

/// Runs the example `name` with only `vars` set (and `PATH`, `PORT`).
fn run_example(name: &str, vars: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = Command::new(example(name));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("PORT", free_port().to_string())
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("the example starts");
    let pid = child.id();
    // A safety net, not a timing: a quickstart that went on to serve would
    // never exit, and the test would hang instead of failing.
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(120)).is_err() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    let output = child.wait_with_output().expect("the example's output");
    let _ = done.send(());
    watchdog.join().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_quickstart_prints_every_config_mistake_by_variable_and_starts_nothing() {
    const PASSWORD: &str = "hunter2-pw";
    const REDIRECT: &str = "app.example.test/cb";
    let (ok, stderr, stdout) = quickstart_with(&[
        // WorkOS chosen by the key, but no WORKOS_CLIENT_ID.
        ("WORKOS_API_KEY", "sk_test_quickstart_key"),
        ("WORKOS_COOKIE_PASSWORD", PASSWORD),
        ("WORKOS_REDIRECT_URI", REDIRECT),
    ]);
    assert!(!ok, "it must fail; stderr:\n{stderr}");
    for var in [
        "WORKOS_CLIENT_ID",
        "WORKOS_COOKIE_PASSWORD",
        "WORKOS_REDIRECT_URI",
    ] {
        assert!(stderr.contains(var), "{var} not named:\n{stderr}");
    }
    // Display, one mistake a line: no Debug dump of the error's fields.
    assert!(
        stderr.contains("WORKOS_COOKIE_PASSWORD (`with_cookie_password`) is invalid: must be at least 32 characters long (it is 10)"),
        "{stderr}"
    );
    assert!(stderr.lines().count() >= 3, "{stderr}");
    for debug in ["Missing {", "Invalid {", "Config(", "ConfigErrors"] {
        assert!(!stderr.contains(debug), "Debug form ({debug}):\n{stderr}");
    }
    // Never a value, and nothing started before the check.
    for value in [PASSWORD, REDIRECT, "sk_test_quickstart_key"] {
        assert!(
            !stderr.contains(value) && !stdout.contains(value),
            "{value} shown"
        );
    }
    assert!(!stdout.contains("Listening"), "{stdout}");
    assert!(!stdout.contains("emulator"), "{stdout}");
}

#[test]
fn the_quickstart_checks_the_environment_before_starting_an_emulator() {
    // No WORKOS_API_KEY: the emulator would be chosen, but the cookie
    // password is refused first.
    let (ok, stderr, stdout) = quickstart_with(&[("WORKOS_COOKIE_PASSWORD", "too-short")]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("WORKOS_COOKIE_PASSWORD"), "{stderr}");
    assert!(!stdout.contains("emulator"), "{stdout}");
}

#[test]
fn from_env_reports_every_bad_variable_in_one_run() {
    // The replica example is configured by AuthKitBuilder::from_env alone.
    let (ok, stderr, _) = run_example(
        "replica",
        &[
            ("WORKOS_API_KEY", "sk_test_replica_key"),
            ("WORKOS_COOKIE_PASSWORD", "hunter2-pw"),
            ("WORKOS_REDIRECT_URI", "http://localhost:3000/auth/callback"),
            ("WORKOS_COOKIE_MAX_AGE", "a-week"),
            ("WORKOS_COOKIE_SAMESITE", "sideways"),
            ("WORKOS_API_PORT", "eighty"),
            ("WORKOS_API_HOSTNAME", "https://api.example.com/"),
            ("WORKOS_API_HTTPS", "maybe"),
        ],
    );
    assert!(!ok, "{stderr}");
    let named: Vec<&str> = [
        "WORKOS_CLIENT_ID",
        "WORKOS_COOKIE_PASSWORD",
        "WORKOS_API_PORT",
        "WORKOS_API_HOSTNAME",
        "WORKOS_API_HTTPS",
        "WORKOS_COOKIE_MAX_AGE",
        "WORKOS_COOKIE_SAMESITE",
    ]
    .into_iter()
    .filter(|var| stderr.lines().any(|line| line.contains(var)))
    .collect();
    assert_eq!(named.len(), 7, "one line each expected:\n{stderr}");
    for value in [
        "hunter2-pw",
        "a-week",
        "sideways",
        "eighty",
        "api.example.com",
        "maybe",
        "sk_test_replica_key",
    ] {
        assert!(!stderr.contains(value), "{value} shown:\n{stderr}");
    }
}
