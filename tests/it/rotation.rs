//! Rotating the cookie password with zero logouts, step by step as the
//! runbook in `src/seal.rs` says: deploy old + new (ids 1 and 2), let
//! sessions be re-sealed as they refresh, then drop the old password.
//! Each "deployment" is its own `AuthKit` served on its own port, against
//! one emulator.

use std::time::Duration;

use authkit_axum::seal::SealError;
use reqwest::header::COOKIE;
use serde_json::Value;

use crate::support::app::{App, EMAIL};
use crate::support::deployments::{self, CookieChange, deploy, sign_in};

const OLD_PASSWORD: &str = "rotation-test-old-cookie-password-32-chars";
const NEW_PASSWORD: &str = "rotation-test-new-cookie-password-32-chars";
/// Longer than the emulator's 5-minute access tokens.
const PAST_EXPIRY: Duration = Duration::from_secs(6 * 60);

fn password_id(cookie: &str) -> &str {
    let mut fields = cookie.split('*');
    assert_eq!(fields.next(), Some("Fe26.2"), "{cookie}");
    fields.next().unwrap()
}

/// Asserts the cookie is "not signed in" everywhere, never an error.
async fn assert_signed_out(deployment: &App, cookie: &str) {
    let page = deployment.answer("/account", Some(cookie), false).await;
    assert_eq!(page.status, 307, "a browser is sent to login");
    assert!(
        page.location.as_deref().unwrap().starts_with("/auth/login"),
        "{:?}",
        page.location
    );
    assert_eq!(page.cookie, CookieChange::Cleared, "the dead cookie goes");
    let api = deployment.answer("/account", Some(cookie), true).await;
    assert_eq!(api.status, 401, "an API call is unauthorized");
    assert_eq!(api.cookie, CookieChange::Cleared);
    let public = deployment.answer("/whoami", Some(cookie), false).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.body, "anonymous");
    let r = deployment
        .http
        .post(format!("{}/auth/logout", deployment.base))
        .header(COOKIE, format!("wos-session={cookie}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "logout: {}", r.status());
}

/// Asserts the cookie is signed in, returning the replacement cookie
/// when the request refreshed it.
async fn assert_signed_in(deployment: &App, cookie: &str) -> Option<String> {
    let r = deployment.answer("/account", Some(cookie), true).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["email"], EMAIL);
    match r.cookie {
        CookieChange::Kept => None,
        CookieChange::Set(new) => Some(new),
        CookieChange::Cleared => panic!("signed in, yet the cookie was cleared"),
    }
}

#[tokio::test]
async fn rotating_the_cookie_password_signs_nobody_out() {
    let emulator = deployments::emulator().await;

    // Before: one password, id 1. Two users' sessions: one active through
    // the rotation, one idle throughout.
    let v1 = deploy(&emulator, &[("1", OLD_PASSWORD)]).await;
    let active = sign_in(&v1, &v1).await;
    let idle = sign_in(&v1, &v1).await;
    assert_eq!(password_id(&active), "1");
    assert_eq!(password_id(&idle), "1");
    assert_eq!(assert_signed_in(&v1, &active).await, None);

    // Step 1: deploy old + new. Id-1 cookies keep working as they are;
    // new seals use id 2.
    let v2 = deploy(&emulator, &[("1", OLD_PASSWORD), ("2", NEW_PASSWORD)]).await;
    assert_eq!(assert_signed_in(&v2, &active).await, None, "no re-seal yet");
    assert_eq!(assert_signed_in(&v2, &idle).await, None);
    let newcomer = sign_in(&v2, &v2).await;
    assert_eq!(password_id(&newcomer), "2", "new sign-ins use id 2");
    // An id-2 cookie means nothing to the old deployment (still running
    // during a rolling deploy): not signed in, never an error.
    assert_signed_out(&v1, &newcomer).await;

    // Step 2: the active session's access token expires; its next request
    // refreshes it and re-seals the cookie with id 2.
    emulator.clock().advance(PAST_EXPIRY);
    let rotated = assert_signed_in(&v2, &active)
        .await
        .expect("an expired session is refreshed and re-sealed");
    assert!(rotated.starts_with("Fe26.2*2*"), "{rotated}");
    assert!(rotated.ends_with("~2"), "{rotated}");
    assert_eq!(emulator.grant_count("refresh_token"), 1);
    // The re-sealed cookie holds the new pair.
    let before = v2.authkit.sessions().unseal(&active).unwrap();
    let after = v2.authkit.sessions().unseal(&rotated).unwrap();
    assert_ne!(before.refresh_token, after.refresh_token);
    assert_eq!(before.user.id, after.user.id);

    // Step 3: deploy without the old password.
    let v3 = deploy(&emulator, &[("2", NEW_PASSWORD)]).await;
    // The rotated cookie works as it is (its token is fresh)...
    assert_eq!(assert_signed_in(&v3, &rotated).await, None);
    // ...and an id-2 cookie whose token expired is refreshed, still id 2.
    let renewed = assert_signed_in(&v3, &newcomer)
        .await
        .expect("the newcomer's token expired in step 2");
    assert!(renewed.starts_with("Fe26.2*2*"), "{renewed}");
    // Id-1 cookies (the idle session, and the active one's pre-rotation
    // copy) are now simply "not signed in": their users sign in again.
    for old in [&idle, &active] {
        assert!(matches!(
            v3.authkit.sessions().unseal(old),
            Err(SealError::UnknownPasswordId { ref id }) if id == "1"
        ));
        assert_signed_out(&v3, old).await;
    }
    // No refresh was attempted for them.
    assert_eq!(emulator.grant_count("refresh_token"), 2);
    // And a new sign-in on the final deployment uses id 2.
    let latest = sign_in(&v3, &v3).await;
    assert_eq!(password_id(&latest), "2");
    assert_eq!(assert_signed_in(&v3, &latest).await, None);
}

/// Step 2 covers idle sessions too, as long as they come back before the
/// old password is removed: whenever their first request arrives, the
/// expired token is refreshed and the cookie re-sealed with the new id.
#[tokio::test]
async fn an_idle_session_is_re_sealed_on_its_first_request_after_the_rollout() {
    let emulator = deployments::emulator().await;
    let v1 = deploy(&emulator, &[("1", OLD_PASSWORD)]).await;
    let idle = sign_in(&v1, &v1).await;
    let v2 = deploy(&emulator, &[("1", OLD_PASSWORD), ("2", NEW_PASSWORD)]).await;
    // Away for a day.
    emulator.clock().advance(Duration::from_secs(24 * 3600));
    let rotated = assert_signed_in(&v2, &idle).await.expect("refreshed");
    assert_eq!(password_id(&rotated), "2");
    let v3 = deploy(&emulator, &[("2", NEW_PASSWORD)]).await;
    assert_eq!(assert_signed_in(&v3, &rotated).await, None);
    assert_signed_out(&v3, &idle).await;
}
