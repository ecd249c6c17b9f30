//! The emulator stands alone: it depends on nothing of `authkit-axum`, and
//! its memory stays bounded in a long run.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::*;

#[test]
fn the_emulator_does_not_depend_on_authkit_axum() {
    let manifest: toml::Table = toml::from_str(include_str!("../Cargo.toml")).unwrap();
    let mut found = Vec::new();
    find_dependency(&toml::Value::Table(manifest), "", &mut found);
    assert!(found.is_empty(), "authkit-axum in {found:?}");
}

/// Every `*dependencies` table (top level, `[target.*]`), by key or `package = ...`.
fn find_dependency(value: &toml::Value, at: &str, found: &mut Vec<String>) {
    let Some(table) = value.as_table() else {
        return;
    };
    for (key, item) in table {
        let path = format!("{at}.{key}");
        if key.ends_with("dependencies")
            && let Some(deps) = item.as_table()
        {
            for (name, spec) in deps {
                let package = spec.get("package").and_then(toml::Value::as_str);
                if name == "authkit-axum" || package == Some("authkit-axum") {
                    found.push(format!("{path}.{name}"));
                }
            }
        }
        find_dependency(item, &path, found);
    }
}

async fn refresh(emu: &authkit_emulator::Emulator, token: &Value) -> (u16, Value) {
    authenticate(emu, "refresh_token", json!({"refresh_token": token})).await
}

#[tokio::test]
async fn spent_refresh_tokens_are_forgotten_after_their_replay_window() {
    let emu = start().await;
    let first = signed_in(&emu, ALICE, ALICE_PASSWORD).await;
    let mut token = first["refresh_token"].clone();
    let mut most = 0;
    // A long-lived session refreshing every second: only the live token and
    // the ones spent in the last 30 seconds are kept.
    for _ in 0..300 {
        emu.clock().advance(Duration::from_secs(1));
        let (status, answer) = refresh(&emu, &token).await;
        assert_eq!(status, 200, "{answer}");
        token = answer["refresh_token"].clone();
        most = most.max(emu.stored_refresh_tokens());
    }
    assert!(most <= 33, "{most} refresh tokens stored");

    // A burst inside one window keeps its tokens (replays still work) ...
    for _ in 0..100 {
        let (status, answer) = refresh(&emu, &token).await;
        assert_eq!(status, 200, "{answer}");
        token = answer["refresh_token"].clone();
    }
    assert!(emu.stored_refresh_tokens() >= 100);
    // ... until the window is over.
    emu.clock().advance(Duration::from_secs(31));
    let (status, answer) = refresh(&emu, &token).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        emu.stored_refresh_tokens() <= 2,
        "{} refresh tokens stored",
        emu.stored_refresh_tokens()
    );

    // A forgotten token still cannot be replayed.
    let (status, answer) = refresh(&emu, &first["refresh_token"]).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_grant");
}

#[tokio::test]
async fn a_replay_inside_the_window_answers_the_same_pair() {
    let emu = start().await;
    let first = signed_in(&emu, ALICE, ALICE_PASSWORD).await;
    let (_, once) = refresh(&emu, &first["refresh_token"]).await;
    emu.clock().advance(Duration::from_secs(10));
    // Another session's activity prunes, but not tokens inside their window.
    signed_in(&emu, SOLO, SOLO_PASSWORD).await;
    let (status, again) = refresh(&emu, &first["refresh_token"]).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["refresh_token"], once["refresh_token"]);
}
