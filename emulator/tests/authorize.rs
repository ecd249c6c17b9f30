//! `GET /user_management/authorize` and the sign-in options it takes:
//! `prompt`, `max_age`, `invitation_token`, `login_hint`, `screen_hint`.

mod support;

use reqwest::Method;
use serde_json::json;
use support::*;

/// The authorize URL with `extra` parameters.
fn with(emu: &authkit_emulator::Emulator, extra: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse(&authorize_url(emu, "st")).unwrap();
    url.query_pairs_mut().extend_pairs(extra);
    url.to_string()
}

async fn invite(emu: &authkit_emulator::Emulator, email: &str) -> String {
    let invitation = api_ok(
        emu,
        Method::POST,
        &format!("{UM}/invitations"),
        Some(json!({"email": email, "organization_id": ACME})),
    )
    .await;
    invitation["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn known_prompts_and_a_max_age_show_the_login_page() {
    let emu = start().await;
    for extra in [
        [("prompt", "login"), ("max_age", "0")],
        [("prompt", "consent select_account"), ("max_age", "3600")],
    ] {
        let page = browser().get(with(&emu, &extra)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{extra:?}");
        assert!(page.text().await.unwrap().contains("Sign in"));
    }
}

#[tokio::test]
async fn bad_prompts_and_max_ages_go_back_as_invalid_request_with_the_state() {
    let emu = start().await;
    for extra in [("prompt", "always"), ("max_age", "-1"), ("max_age", "soon")] {
        let r = browser().get(with(&emu, &[extra])).send().await.unwrap();
        assert_eq!(r.status(), 303, "{extra:?}");
        assert_eq!(
            location_param(&r, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(location_param(&r, "state").as_deref(), Some("st"));
    }
}

#[tokio::test]
async fn prompt_none_is_login_required_since_every_sign_in_here_is_interactive() {
    let emu = start().await;
    let r = browser()
        .get(with(&emu, &[("prompt", "none")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        location_param(&r, "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn an_invitation_opens_sign_up_with_its_email_and_an_unknown_one_is_refused() {
    let emu = start().await;
    let token = invite(&emu, "newcomer@example.com").await;
    let page = browser()
        .get(with(&emu, &[("invitation_token", token.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Create account"), "the sign-up form");
    assert_eq!(
        input_value(&html, "email").as_deref(),
        Some("newcomer@example.com")
    );

    // An invitee who has an account signs in, the email filled in.
    let token = invite(&emu, ALICE).await;
    let html = browser()
        .get(with(&emu, &[("invitation_token", token.as_str())]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sign in"));
    assert_eq!(input_value(&html, "email").as_deref(), Some(ALICE));

    let r = browser()
        .get(with(&emu, &[("invitation_token", "nope")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        location_param(&r, "error").as_deref(),
        Some("invalid_request")
    );
}
