//! The emulator's hosted AuthKit flow over real HTTP, as a browser sees it
//! (no redirects followed): authorize → login page → redirect with a code →
//! code exchange with PKCE → an access token that verifies against the JWKS.

use std::time::Duration;

use crate::support::emulator::*;
use authkit_axum::client::{AuthenticateWithCode, Error, OAuthErrorCode};
use authkit_axum::emulator::Emulator;
use authkit_axum::emulator::EmulatorExt;

fn is_invalid_grant(e: &Error) -> bool {
    matches!(e, Error::OAuth(o) if o.error == OAuthErrorCode::InvalidGrant)
}

async fn exchange(
    emu: &Emulator,
    code: &str,
    verifier: Option<&str>,
) -> Result<authkit_axum::client::AuthenticationResponse, Error> {
    emu.client()
        .authenticate_with_code(&AuthenticateWithCode {
            code: code.into(),
            code_verifier: verifier.map(Into::into),
            ..Default::default()
        })
        .await
}

/// Signs in through the pages with PKCE; returns (code, verifier).
async fn code_for(emu: &Emulator, email: &str, password: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let response = hosted_login(
        emu,
        &authorize_url(emu, Some(&challenge), "st"),
        email,
        password,
    )
    .await;
    assert_eq!(response.status(), 303);
    (location_param(&response, "code").unwrap(), verifier)
}

#[tokio::test]
async fn hosted_sign_in_with_pkce_yields_a_code_whose_token_verifies_against_the_jwks() {
    let emu = start().await;
    let (verifier, challenge) = pkce();
    let browser = browser();

    let page = browser
        .get(authorize_url(&emu, Some(&challenge), "state-123/&="))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<form method=\"post\""), "{html}");
    assert!(html.contains("name=\"email\"") && html.contains("name=\"password\""));
    assert!(
        !html.contains("<script"),
        "the page must work without JavaScript"
    );
    let id = input_value(&html, "authorization_id").unwrap();

    let redirect = post_form(
        &browser,
        &form_action(&emu, &html),
        &[
            ("authorization_id", &id),
            ("email", ALICE),
            ("password", ALICE_PASSWORD),
        ],
    )
    .await;
    assert!(matches!(redirect.status().as_u16(), 302 | 303));
    let location = redirect.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(
        location_param(&redirect, "state").as_deref(),
        Some("state-123/&=")
    );
    let code = location_param(&redirect, "code").unwrap();

    let auth = exchange(&emu, &code, Some(&verifier)).await.unwrap();
    assert_eq!(auth.user.email, ALICE);
    assert_eq!(auth.organization_id.as_deref(), Some(ACME));

    let verified = sessions(&emu)
        .verify_access_token(auth.access_token.expose())
        .await
        .expect("the token verifies against the emulator's JWKS");
    assert_eq!(verified.sub, auth.user.id);
    assert_eq!(verified.org_id.as_deref(), Some(ACME));
    assert_eq!(verified.role.as_deref(), Some("admin"));
    assert_eq!(verified.permissions, ["widgets:read", "widgets:write"]);
    assert_eq!(verified.entitlements, ["audit-logs"]);
    assert_eq!(verified.feature_flags, ["beta-dashboard"]);
    assert!(verified.sid.starts_with("session_"));
}

#[tokio::test]
async fn a_code_works_once() {
    let emu = start().await;
    let (code, verifier) = code_for(&emu, ALICE, ALICE_PASSWORD).await;
    exchange(&emu, &code, Some(&verifier)).await.unwrap();
    let again = exchange(&emu, &code, Some(&verifier)).await.unwrap_err();
    assert!(is_invalid_grant(&again), "{again:?}");
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_is_invalid_grant() {
    let emu = start().await;
    let (code, _) = code_for(&emu, ALICE, ALICE_PASSWORD).await;
    let (other_verifier, _) = pkce();
    let wrong = exchange(&emu, &code, Some(&other_verifier))
        .await
        .unwrap_err();
    assert!(is_invalid_grant(&wrong), "{wrong:?}");

    let (code, _) = code_for(&emu, ALICE, ALICE_PASSWORD).await;
    let missing = exchange(&emu, &code, None).await.unwrap_err();
    assert!(is_invalid_grant(&missing), "{missing:?}");
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes_of_emulator_time() {
    let emu = start().await;
    let (code, verifier) = code_for(&emu, ALICE, ALICE_PASSWORD).await;
    emu.clock().advance(Duration::from_secs(11 * 60));
    let expired = exchange(&emu, &code, Some(&verifier)).await.unwrap_err();
    assert!(is_invalid_grant(&expired), "{expired:?}");
}

#[tokio::test]
async fn a_flow_without_pkce_needs_the_client_secret() {
    let emu = start().await;
    let response = hosted_login(&emu, &authorize_url(&emu, None, "s"), ALICE, ALICE_PASSWORD).await;
    let code = location_param(&response, "code").unwrap();
    let auth = exchange(&emu, &code, None).await.unwrap();
    assert_eq!(auth.user.email, ALICE);
}

#[tokio::test]
async fn a_redirect_uri_outside_the_allow_list_gets_an_error_page_not_a_redirect() {
    let emu = start().await;
    let url = authorize_url(&emu, None, "s").replace(
        &url::form_urlencoded::byte_serialize(CALLBACK.as_bytes()).collect::<String>(),
        "https%3A%2F%2Fevil.example%2Fcallback",
    );
    assert!(url.contains("evil.example"));
    let response = browser().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("not an allowed redirect URI"), "{html}");
    assert!(!html.contains("name=\"password\""));

    let unknown_client = url.replace(emu.client_id(), "client_someone_else");
    let response = browser().get(&unknown_client).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

#[tokio::test]
async fn an_allow_listed_redirect_uri_and_loopback_variants_are_accepted() {
    let emu = builder()
        .with_redirect_uris(["https://app.example.com/callback"])
        .start()
        .await
        .unwrap();
    for uri in [
        "https://app.example.com/callback",
        "http://127.0.0.1:8080/cb",
        "http://[::1]:9000/cb",
    ] {
        let url = format!(
            "{}/user_management/authorize?client_id={}&redirect_uri={}&response_type=code&provider=authkit",
            emu.base_url(),
            emu.client_id(),
            url::form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
        );
        let response = browser().get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{uri}");
    }
    let strict = builder()
        .with_loopback_redirects(false)
        .start()
        .await
        .unwrap();
    let response = browser()
        .get(authorize_url(&strict, None, "s"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn errors_after_the_redirect_uri_is_checked_go_back_to_it_with_the_state() {
    let emu = start().await;
    let url =
        authorize_url(&emu, None, "keep-me").replace("response_type=code", "response_type=token");
    let response = browser().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        location_param(&response, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(
        location_param(&response, "state").as_deref(),
        Some("keep-me")
    );
    assert!(location_param(&response, "code").is_none());

    let plain = authorize_url(&emu, Some("abc"), "s").replace("S256", "plain");
    let response = browser().get(&plain).send().await.unwrap();
    assert_eq!(
        location_param(&response, "error").as_deref(),
        Some("invalid_request")
    );
}

#[tokio::test]
async fn a_wrong_password_is_shown_on_the_page_without_redirecting() {
    let emu = start().await;
    let response = hosted_login(&emu, &authorize_url(&emu, None, "s"), ALICE, "nope").await;
    assert_eq!(response.status(), 401);
    assert!(response.headers().get("location").is_none());
    let html = response.text().await.unwrap();
    assert!(html.contains("Incorrect password."), "{html}");
    assert!(
        html.contains("name=\"password\""),
        "the form is shown again"
    );
    assert_eq!(input_value(&html, "email").as_deref(), Some(ALICE));
}

#[tokio::test]
async fn an_unknown_user_is_shown_on_the_page_html_escaped() {
    let emu = start().await;
    let evil = "<script>alert('x')</script>@example.com";
    let response = hosted_login(&emu, &authorize_url(&emu, None, "s"), evil, "pw").await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains(
        "There is no account for &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;@example.com."
    ));
}

#[tokio::test]
async fn login_hint_prefills_the_email_escaped() {
    let emu = start().await;
    let url = format!(
        "{}&login_hint=%22%3E%3Cb%3Ehi",
        authorize_url(&emu, None, "s")
    );
    let html = browser()
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("value=\"&quot;&gt;&lt;b&gt;hi\""), "{html}");
    assert!(!html.contains("<b>hi"));
}

#[tokio::test]
async fn the_sign_up_screen_creates_the_user_and_signs_them_in() {
    let emu = start().await;
    let (verifier, challenge) = pkce();
    let url = format!(
        "{}&screen_hint=sign-up",
        authorize_url(&emu, Some(&challenge), "s")
    );
    let browser = browser();
    let html = browser
        .get(&url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Create your account"));
    assert!(html.contains("name=\"first_name\"") && html.contains("name=\"password\""));
    let id = input_value(&html, "authorization_id").unwrap();
    let action = form_action(&emu, &html);

    let short = post_form(
        &browser,
        &action,
        &[
            ("authorization_id", &id),
            ("email", "new@example.com"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(short.status(), 400);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 8 characters")
    );

    let taken = post_form(
        &browser,
        &action,
        &[
            ("authorization_id", &id),
            ("email", ALICE),
            ("password", "long-enough-pw"),
        ],
    )
    .await;
    assert_eq!(taken.status(), 400);
    assert!(taken.text().await.unwrap().contains("already exists"));

    let created = post_form(
        &browser,
        &action,
        &[
            ("authorization_id", &id),
            ("first_name", "Nova"),
            ("last_name", "Newcomer"),
            ("email", "new@example.com"),
            ("password", "long-enough-pw"),
        ],
    )
    .await;
    assert_eq!(created.status(), 303);
    let code = location_param(&created, "code").unwrap();
    let auth = exchange(&emu, &code, Some(&verifier)).await.unwrap();
    assert_eq!(auth.user.email, "new@example.com");
    assert_eq!(auth.user.first_name.as_deref(), Some("Nova"));
    assert!(!auth.user.email_verified);
    assert_eq!(auth.organization_id, None);
    let stored = emu.user_by_email("new@example.com").unwrap();
    assert_eq!(stored.id, auth.user.id);
    // And the new password works against the API too.
    sign_in(&emu.client(), "new@example.com", "long-enough-pw")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_user_in_several_organizations_picks_one_and_it_lands_in_the_token() {
    let emu = start().await;
    let globex = org(&emu, "Globex");
    let (verifier, challenge) = pkce();
    let picker = hosted_login(
        &emu,
        &authorize_url(&emu, Some(&challenge), "s"),
        MULTI,
        MULTI_PASSWORD,
    )
    .await;
    assert_eq!(picker.status(), 200);
    let html = picker.text().await.unwrap();
    assert!(html.contains("Choose an organization"), "{html}");
    assert!(html.contains(">Acme<") && html.contains(">Globex<"));
    let id = input_value(&html, "authorization_id").unwrap();
    let browser = browser();

    let outsider = post_form(
        &browser,
        &form_action(&emu, &html),
        &[
            ("authorization_id", &id),
            ("organization_id", "org_not_mine"),
        ],
    )
    .await;
    assert_eq!(outsider.status(), 403);
    assert!(outsider.text().await.unwrap().contains("not a member"));

    let chosen = post_form(
        &browser,
        &form_action(&emu, &html),
        &[("authorization_id", &id), ("organization_id", &globex)],
    )
    .await;
    assert_eq!(chosen.status(), 303);
    assert_eq!(location_param(&chosen, "state").as_deref(), Some("s"));
    let code = location_param(&chosen, "code").unwrap();
    let auth = exchange(&emu, &code, Some(&verifier)).await.unwrap();
    assert_eq!(auth.organization_id.as_deref(), Some(globex.as_str()));
    let claims = claims(auth.access_token.expose());
    assert_eq!(claims["org_id"], globex);
    assert_eq!(claims["role"], "admin");
    assert_eq!(
        claims["permissions"],
        serde_json::json!(["globex:everything"])
    );
}

#[tokio::test]
async fn an_organization_in_the_authorize_request_skips_the_picker() {
    let emu = start().await;
    let url = format!("{}&organization_id={ACME}", authorize_url(&emu, None, "s"));
    let response = hosted_login(&emu, &url, MULTI, MULTI_PASSWORD).await;
    assert_eq!(response.status(), 303);
    let auth = exchange(&emu, &location_param(&response, "code").unwrap(), None)
        .await
        .unwrap();
    assert_eq!(auth.organization_id.as_deref(), Some(ACME));
    assert_eq!(claims(auth.access_token.expose())["role"], "member");

    // A user outside that organization is told so on the page.
    let response = hosted_login(&emu, &url, SOLO, SOLO_PASSWORD).await;
    assert_eq!(response.status(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("not a member of Acme")
    );
}

#[tokio::test]
async fn a_code_exchange_still_answers_the_users_challenges() {
    let emu = start().await;
    let response = hosted_login(
        &emu,
        &authorize_url(&emu, None, "s"),
        UNVERIFIED,
        UNVERIFIED_PASSWORD,
    )
    .await;
    let code = location_param(&response, "code").unwrap();
    let err = exchange(&emu, &code, None).await.unwrap_err();
    assert!(
        matches!(err, Error::EmailVerificationRequired(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stale_authorization_page_cannot_be_submitted() {
    let emu = start().await;
    let browser = browser();
    let html = browser
        .get(authorize_url(&emu, None, "s"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = input_value(&html, "authorization_id").unwrap();
    emu.clock().advance(Duration::from_secs(11 * 60));
    let response = post_form(
        &browser,
        &form_action(&emu, &html),
        &[
            ("authorization_id", &id),
            ("email", ALICE),
            ("password", ALICE_PASSWORD),
        ],
    )
    .await;
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
    assert!(response.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn the_logout_url_ends_the_session_and_redirects_to_return_to() {
    let emu = start().await;
    let client = emu.client();
    let auth = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    let sid = claims(auth.access_token.expose())["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    let logout = client.get_logout_url(&sid, Some("http://localhost:3000/bye"));
    let response = browser().get(&logout).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()["location"].to_str().unwrap(),
        "http://localhost:3000/bye"
    );
    let refreshed = client
        .authenticate_with_refresh_token(&authkit_axum::client::AuthenticateWithRefreshToken {
            refresh_token: auth.refresh_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(is_invalid_grant(&refreshed), "{refreshed:?}");

    let open_redirect = client.get_logout_url(&sid, Some("https://evil.example/"));
    let response = browser().get(&open_redirect).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.headers().get("location").is_none());
}

/// `POST /user_management/authenticate` without a client secret.
async fn public_grant(emu: &Emulator, mut body: serde_json::Value) -> (u16, serde_json::Value) {
    body["client_id"] = emu.client_id().into();
    let response = reqwest::Client::new()
        .post(format!("{}/user_management/authenticate", emu.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn public_clients_use_pkce_instead_of_the_client_secret() {
    let emu = start().await;
    let (code, verifier) = code_for(&emu, ALICE, ALICE_PASSWORD).await;
    let (status, auth) = public_grant(
        &emu,
        serde_json::json!({"grant_type": "authorization_code", "code": code, "code_verifier": verifier}),
    )
    .await;
    assert_eq!(status, 200, "{auth}");
    let (status, refreshed) = public_grant(
        &emu,
        serde_json::json!({"grant_type": "refresh_token", "refresh_token": auth["refresh_token"]}),
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");

    // Without PKCE, or for a session a confidential client began, the secret is required.
    let response = hosted_login(&emu, &authorize_url(&emu, None, "s"), ALICE, ALICE_PASSWORD).await;
    let code = location_param(&response, "code").unwrap();
    let (status, body) = public_grant(
        &emu,
        serde_json::json!({"grant_type": "authorization_code", "code": code, "code_verifier": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let confidential = sign_in(&emu.client(), ALICE, ALICE_PASSWORD).await.unwrap();
    let (status, body) = public_grant(
        &emu,
        serde_json::json!({"grant_type": "refresh_token",
                           "refresh_token": confidential.refresh_token.expose()}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = public_grant(
        &emu,
        serde_json::json!({"grant_type": "password", "email": ALICE, "password": ALICE_PASSWORD}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}
