//! CLI Auth (RFC 8628's device authorization grant) as any client sees it:
//! `POST /user_management/authorize/device`, the device page, and the
//! `device_code` grant of the authenticate endpoint. The shapes follow
//! WorkOS's CLI Auth reference (https://workos.com/docs/reference/authkit/cli-auth):
//! `client_id` alone, no API key, and the four polling error codes
//! (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`),
//! which the recorded fixtures do not hold.

mod support;

use std::time::Duration;

use authkit_emulator::Emulator;
use serde_json::{Value, json};
use support::*;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `POST /user_management/authorize/device` with only the client id, no API key.
async fn authorize_device(emu: &Emulator) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}{UM}/authorize/device", emu.base_url()))
        .json(&json!({"client_id": emu.client_id()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// One poll of the token endpoint, as a public client: no secret, no API key.
async fn poll(emu: &Emulator, device_code: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{UM}/authenticate", emu.base_url()))
        .json(&json!({
            "grant_type": DEVICE_GRANT,
            "client_id": emu.client_id(),
            "device_code": device_code,
        }))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Waits out the interval on the emulator's clock, then polls.
async fn poll_later(emu: &Emulator, device_code: &str, wait: u64) -> (u16, Value) {
    emu.clock().advance(Duration::from_secs(wait));
    poll(emu, device_code).await
}

/// Through the device page as a person would: open `verification_uri_complete`,
/// continue with the prefilled code, sign in, and answer the approve-or-deny
/// page with `decision`. Returns the final page's status and HTML.
async fn through_the_page(
    emu: &Emulator,
    authorization: &Value,
    email: &str,
    password: &str,
    decision: &str,
) -> (u16, String) {
    let browser = browser();
    let page = browser
        .get(authorization["verification_uri_complete"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let code = input_value(&html, "user_code").expect("the code field");
    assert_eq!(code, authorization["user_code"], "prefilled");
    let login = browser
        .post(form_action(emu, &html))
        .form(&[("user_code", code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(html.contains("Sign in"), "{html}");
    let id = input_value(&html, "authorization_id").unwrap();
    let mut next = browser
        .post(form_action(emu, &html))
        .form(&[
            ("authorization_id", id.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    if next.contains("Choose an organization") {
        let org = input_value(&next, "organization_id").unwrap();
        next = browser
            .post(form_action(emu, &next))
            .form(&[("authorization_id", id.as_str()), ("organization_id", &org)])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    assert!(next.contains("Approve this device?"), "{next}");
    assert!(
        next.contains(authorization["user_code"].as_str().unwrap()),
        "the confirmation shows the code again"
    );
    let done = browser
        .post(form_action(emu, &next))
        .form(&[("authorization_id", id.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    (done.status().as_u16(), done.text().await.unwrap())
}

#[tokio::test]
async fn a_device_authorization_answers_workos_shape_without_an_api_key() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    let device_code = a["device_code"].as_str().unwrap();
    assert!(device_code.len() >= 40 && device_code.bytes().all(|b| b.is_ascii_alphanumeric()));
    let user_code = a["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    let uri = format!("{}/emulator/device", emu.base_url());
    assert_eq!(a["verification_uri"], uri);
    assert_eq!(
        a["verification_uri_complete"],
        format!("{uri}?user_code={user_code}")
    );
    assert_eq!(a["expires_in"], 300);
    assert_eq!(a["interval"], 5);
}

#[tokio::test]
async fn a_form_body_works_as_in_workos_curl_examples_and_an_unknown_client_is_refused() {
    let emu = start().await;
    let http = reqwest::Client::new();
    let url = format!("{}{UM}/authorize/device", emu.base_url());
    let r = http
        .post(&url)
        .form(&[("client_id", emu.client_id())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a: Value = r.json().await.unwrap();
    // The grant takes a form too.
    let r = http
        .post(format!("{}{UM}/authenticate", emu.base_url()))
        .form(&[
            ("grant_type", DEVICE_GRANT),
            ("client_id", emu.client_id()),
            ("device_code", a["device_code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "authorization_pending");
    assert_eq!(
        emu.grant_count(DEVICE_GRANT),
        1,
        "forms are counted per grant too"
    );

    let r = http
        .post(&url)
        .json(&json!({"client_id": "client_someone_else"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn approving_on_the_page_turns_the_next_poll_into_tokens_once() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    let device_code = a["device_code"].as_str().unwrap();
    let (status, body) = poll(&emu, device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );

    let (status, html) = through_the_page(&emu, &a, ALICE, ALICE_PASSWORD, "approve").await;
    assert_eq!(status, 200);
    assert!(html.contains("Device approved"), "{html}");

    let (status, tokens) = poll_later(&emu, device_code, 5).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["user"]["email"], ALICE);
    assert_eq!(tokens["organization_id"], ACME, "her only organization");
    let claims = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], user_id(&emu, ALICE));
    assert_eq!(claims["org_id"], ACME);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );

    // The device code is spent.
    let (status, body) = poll_later(&emu, device_code, 5).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A public client's session refreshes without a secret.
    let r = reqwest::Client::new()
        .post(format!("{}{UM}/authenticate", emu.base_url()))
        .json(&json!({
            "grant_type": "refresh_token",
            "client_id": emu.client_id(),
            "refresh_token": tokens["refresh_token"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_user_in_several_organizations_picks_one_on_the_page() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    let (status, _) = through_the_page(&emu, &a, MULTI, MULTI_PASSWORD, "approve").await;
    assert_eq!(status, 200);
    let (status, tokens) = poll(&emu, a["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(
        tokens["organization_id"]
            .as_str()
            .is_some_and(|o| o.starts_with("org_"))
    );
}

#[tokio::test]
async fn denying_on_the_page_is_access_denied_on_every_later_poll() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    let (status, html) = through_the_page(&emu, &a, ALICE, ALICE_PASSWORD, "deny").await;
    assert_eq!(status, 200);
    assert!(html.contains("denied"), "{html}");
    let device_code = a["device_code"].as_str().unwrap();
    for _ in 0..2 {
        let (status, body) = poll_later(&emu, device_code, 5).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("access_denied"))
        );
    }
}

#[tokio::test]
async fn polling_within_the_interval_is_slow_down_and_adds_five_seconds() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    let device_code = a["device_code"].as_str().unwrap();
    // The first poll is judged by nothing before it.
    let (_, body) = poll(&emu, device_code).await;
    assert_eq!(body["error"], "authorization_pending");
    let (status, body) = poll_later(&emu, device_code, 1).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("slow_down")));
    // Now 10 s are needed: 5 are still too soon, 10 are enough.
    let (_, body) = poll_later(&emu, device_code, 5).await;
    assert_eq!(body["error"], "slow_down", "the interval grew to 10 s");
    let (_, body) = poll_later(&emu, device_code, 15).await;
    assert_eq!(body["error"], "authorization_pending");
}

#[tokio::test]
async fn after_expires_in_polls_are_expired_token_and_the_page_refuses_the_code() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    emu.clock().advance(Duration::from_secs(301));
    let (status, body) = poll(&emu, a["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );

    let browser = browser();
    let r = browser
        .post(format!("{}/emulator/device", emu.base_url()))
        .form(&[("user_code", a["user_code"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("not valid, or it has expired")
    );
}

#[tokio::test]
async fn the_page_reads_the_code_however_it_is_typed_and_escapes_what_it_shows() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    let typed = a["user_code"]
        .as_str()
        .unwrap()
        .replace('-', " ")
        .to_lowercase();
    let browser = browser();
    let url = format!("{}/emulator/device", emu.base_url());
    let r = browser
        .post(&url)
        .form(&[("user_code", typed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("name=\"authorization_id\"")
    );

    let evil = "\"><script>alert(1)</script>";
    let with_code = reqwest::Url::parse_with_params(&url, [("user_code", evil)]).unwrap();
    let r = browser.get(with_code).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    let r = browser
        .post(&url)
        .form(&[("user_code", evil)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(!r.text().await.unwrap().contains("<script>"));
}

#[tokio::test]
async fn unknown_device_codes_are_invalid_grant_and_a_missing_one_is_422() {
    let emu = start().await;
    let (status, body) = poll(&emu, "not-a-device-code").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = authenticate(&emu, DEVICE_GRANT, json!({})).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_confirmation_before_signing_in_decides_nothing() {
    let emu = start().await;
    let a = authorize_device(&emu).await;
    let browser = browser();
    let r = browser
        .post(format!("{}/emulator/device", emu.base_url()))
        .form(&[("user_code", a["user_code"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    let id = input_value(&html, "authorization_id").unwrap();
    let confirm = format!("{}/emulator/device/confirm", emu.base_url());
    // Not signed in yet: no decision is taken.
    let r = browser
        .post(&confirm)
        .form(&[("authorization_id", id.as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (_, body) = poll(&emu, a["device_code"].as_str().unwrap()).await;
    assert_eq!(body["error"], "authorization_pending");
}
