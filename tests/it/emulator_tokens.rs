//! The emulator's tokens and sessions: refresh rotation and its 30-second
//! replay window, organization switching, revocation, access token lifetime,
//! TOTP with a code computed here, and the test hooks (faults, counters).

use std::time::Duration;

use crate::support::emulator::*;
use authkit_axum::client::{
    AuthenticateWithRefreshToken, AuthenticateWithTotp, EnrollAuthFactor, Error, ListSessions,
    OAuthErrorCode, RetryPolicy, SessionStatus,
};
use authkit_axum::emulator::{Emulator, EmulatorExt, Fault};
use authkit_axum::session::{Authentication, RefreshOptions, SessionData, UnauthenticatedReason};

fn is_invalid_grant(e: &Error) -> bool {
    matches!(e, Error::OAuth(o) if o.error == OAuthErrorCode::InvalidGrant)
}

fn refresh_params(token: &authkit_axum::Secret, org: Option<&str>) -> AuthenticateWithRefreshToken {
    AuthenticateWithRefreshToken {
        refresh_token: token.clone(),
        organization_id: org.map(str::to_owned),
        ..Default::default()
    }
}

fn sid(token: &authkit_axum::Secret) -> String {
    claims(token.expose())["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn refresh_rotates_and_a_replay_within_30s_answers_the_same_pair() {
    let emu = start().await;
    let client = emu.client();
    let first = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    emu.clock().advance(Duration::from_secs(10));

    let second = client
        .authenticate_with_refresh_token(&refresh_params(&first.refresh_token, None))
        .await
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(sid(&second.access_token), sid(&first.access_token));

    emu.clock().advance(Duration::from_secs(29));
    let replay = client
        .authenticate_with_refresh_token(&refresh_params(&first.refresh_token, None))
        .await
        .unwrap();
    assert_eq!(replay.access_token, second.access_token);
    assert_eq!(replay.refresh_token, second.refresh_token);

    // The new refresh token is itself single use and still good.
    let third = client
        .authenticate_with_refresh_token(&refresh_params(&second.refresh_token, None))
        .await
        .unwrap();
    assert_ne!(third.refresh_token, second.refresh_token);
}

#[tokio::test]
async fn a_replay_after_the_window_is_invalid_grant() {
    let emu = start().await;
    let client = emu.client();
    let first = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    client
        .authenticate_with_refresh_token(&refresh_params(&first.refresh_token, None))
        .await
        .unwrap();
    emu.clock().advance(Duration::from_secs(31));
    let late = client
        .authenticate_with_refresh_token(&refresh_params(&first.refresh_token, None))
        .await
        .unwrap_err();
    assert!(is_invalid_grant(&late), "{late:?}");
    let unknown = client
        .authenticate_with_refresh_token(&refresh_params(&"not-a-token".into(), None))
        .await
        .unwrap_err();
    assert!(is_invalid_grant(&unknown), "{unknown:?}");
}

#[tokio::test]
async fn refresh_switches_organization_only_to_a_membership() {
    let emu = start().await;
    let client = emu.client();
    let globex = org(&emu, "Globex");
    let pick = sign_in(&client, MULTI, MULTI_PASSWORD).await.unwrap_err();
    let token = pick.pending_authentication_token().unwrap().clone();
    let auth = client
        .authenticate_with_organization_selection(
            &authkit_axum::client::AuthenticateWithOrganizationSelection {
                organization_id: ACME.into(),
                pending_authentication_token: token,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(claims(auth.access_token.expose())["role"], "member");

    let refused = client
        .authenticate_with_refresh_token(&refresh_params(
            &auth.refresh_token,
            Some("org_elsewhere"),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("entity_not_found"), "{refused:?}");

    // The refused switch did not spend the token.
    let switched = client
        .authenticate_with_refresh_token(&refresh_params(&auth.refresh_token, Some(&globex)))
        .await
        .unwrap();
    assert_eq!(switched.organization_id.as_deref(), Some(globex.as_str()));
    let c = claims(switched.access_token.expose());
    assert_eq!(c["org_id"], globex);
    assert_eq!(c["role"], "admin");
    assert_eq!(c["sid"], sid(&auth.access_token));

    // Without organization_id the session keeps its (new) organization.
    let kept = client
        .authenticate_with_refresh_token(&refresh_params(&switched.refresh_token, None))
        .await
        .unwrap();
    assert_eq!(claims(kept.access_token.expose())["org_id"], globex);
}

#[tokio::test]
async fn revoking_a_session_ends_its_refresh_tokens() {
    let emu = start().await;
    let client = emu.client();
    let auth = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    let other = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    client
        .revoke_session(&sid(&auth.access_token))
        .await
        .unwrap();

    let dead = client
        .authenticate_with_refresh_token(&refresh_params(&auth.refresh_token, None))
        .await
        .unwrap_err();
    assert!(is_invalid_grant(&dead), "{dead:?}");
    // Another session of the same user is unaffected.
    client
        .authenticate_with_refresh_token(&refresh_params(&other.refresh_token, None))
        .await
        .unwrap();

    let listed = client
        .list_sessions(&ListSessions::new(auth.user.id.clone()))
        .await
        .unwrap();
    let revoked = listed
        .data
        .iter()
        .find(|s| s.id == sid(&auth.access_token))
        .unwrap();
    assert_eq!(revoked.status, SessionStatus::Revoked);
    assert!(revoked.ended_at.is_some());
}

#[tokio::test]
async fn sessions_expire_with_the_session_ttl() {
    let emu = builder()
        .with_session_ttl(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let client = emu.client();
    let auth = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    emu.clock().advance(Duration::from_secs(3601));
    let expired = client
        .authenticate_with_refresh_token(&refresh_params(&auth.refresh_token, None))
        .await
        .unwrap_err();
    assert!(is_invalid_grant(&expired), "{expired:?}");
    let listed = client
        .list_sessions(&ListSessions::new(auth.user.id.clone()))
        .await
        .unwrap();
    assert_eq!(listed.data[0].status, SessionStatus::Expired);
}

#[tokio::test]
async fn access_tokens_live_five_minutes_by_default_on_the_emulator_clock() {
    let emu = start().await;
    let auth = sign_in(&emu.client(), ALICE, ALICE_PASSWORD).await.unwrap();
    let c = claims(auth.access_token.expose());
    let (iat, exp) = (c["iat"].as_i64().unwrap(), c["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 300);
    let now = emu.clock().now();
    let now = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((iat - now).abs() <= 2, "iat is the emulator's now");
    assert_eq!(
        c["iss"],
        format!("{}/user_management/{}", emu.base_url(), emu.client_id())
    );
    assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()));

    // On the shared clock, the session manager sees it expire after 5 minutes.
    let sessions = sessions(&emu);
    let data = SessionData::from(&auth);
    let cookie = sessions.seal(&data).unwrap();
    assert!(matches!(
        sessions.authenticate(Some(&cookie)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    emu.clock().advance(Duration::from_secs(301));
    let Authentication::Unauthenticated(u) = sessions.authenticate(Some(&cookie)).await.unwrap()
    else {
        panic!("the token should have expired");
    };
    assert_eq!(u.reason, UnauthenticatedReason::Expired);

    emu.reset_counters();
    let refreshed = sessions
        .refresh(Some(&cookie), RefreshOptions::default())
        .await
        .unwrap();
    assert_eq!(
        emu.grant_count("refresh_token"),
        1,
        "exactly one refresh call"
    );
    assert_eq!(refreshed.session.organization_id(), Some(ACME));
    let c = claims(refreshed.data.access_token.expose());
    assert_eq!(c["iat"].as_i64().unwrap(), iat + 301);
}

#[tokio::test]
async fn the_access_token_ttl_is_configurable() {
    let emu = builder()
        .with_access_token_ttl(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let auth = sign_in(&emu.client(), ALICE, ALICE_PASSWORD).await.unwrap();
    let c = claims(auth.access_token.expose());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);
}

#[tokio::test]
async fn totp_challenge_accepts_a_code_computed_from_the_seeded_secret() {
    let emu = start().await;
    let client = emu.client();
    let err = sign_in(&client, MFA, MFA_PASSWORD).await.unwrap_err();
    let Error::MfaChallenge(mfa) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(mfa.user.as_ref().unwrap().email, MFA);
    let factor = &mfa.authentication_factors[0];
    let challenge_id = challenge(&emu, &factor.id).await;

    let wrong = client
        .authenticate_with_totp(&AuthenticateWithTotp {
            code: "000000".into(),
            authentication_challenge_id: challenge_id.clone(),
            pending_authentication_token: mfa.pending_authentication_token.clone(),
            ..Default::default()
        })
        .await;
    // 000000 could be right once in a million runs; only a failure is checked.
    if let Err(wrong) = wrong {
        assert!(is_invalid_grant(&wrong), "{wrong:?}");
    }

    let code = totp(MFA_SECRET_BYTES, emu.clock().now());
    assert_eq!(emu.totp_code("JBSWY3DPEHPK3PXP").unwrap(), code);
    let auth = client
        .authenticate_with_totp(&AuthenticateWithTotp {
            code: code.into(),
            authentication_challenge_id: challenge_id,
            pending_authentication_token: mfa.pending_authentication_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.email, MFA);
}

#[tokio::test]
async fn mfa_enrollment_then_enroll_then_totp() {
    let emu = start().await;
    let client = emu.client();
    let err = sign_in(&client, ENROLL, ENROLL_PASSWORD).await.unwrap_err();
    let Error::MfaEnrollment(enrollment) = &err else {
        panic!("{err:?}")
    };
    let user_id = enrollment.user.as_ref().unwrap().id.clone();
    let enrolled = client
        .enroll_auth_factor(&EnrollAuthFactor::totp(user_id))
        .await
        .unwrap();
    let totp_details = enrolled.authentication_factor.totp.unwrap();
    let secret = totp_details.secret.unwrap();
    assert!(
        totp_details
            .uri
            .unwrap()
            .expose()
            .starts_with("otpauth://totp/")
    );
    let code = emu.totp_code(secret.expose()).unwrap();
    let auth = client
        .authenticate_with_totp(&AuthenticateWithTotp {
            code: code.into(),
            authentication_challenge_id: enrolled.authentication_challenge.id,
            pending_authentication_token: enrollment.pending_authentication_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.email, ENROLL);
    // Now enrolled, the next sign-in is a challenge, not an enrollment.
    let next = sign_in(&client, ENROLL, ENROLL_PASSWORD).await.unwrap_err();
    assert!(matches!(next, Error::MfaChallenge(_)), "{next:?}");
}

#[tokio::test]
async fn a_503_twice_then_ok_is_retried_through_and_counted() {
    let emu = start().await;
    let alice = user_id(&emu, ALICE);
    emu.faults().inject(
        "/user_management/users",
        Fault::status(503).times(2).with_retry_after(Duration::ZERO),
    );
    let user = emu.client().get_user(&alice).await.unwrap();
    assert_eq!(user.email, ALICE);
    assert_eq!(
        emu.request_count(&format!("/user_management/users/{alice}")),
        3
    );
    assert_eq!(emu.faults().pending(), 0);
}

#[tokio::test]
async fn a_503_asking_for_longer_than_max_delay_is_not_repeated_and_its_wait_kept() {
    let emu = start().await;
    let alice = user_id(&emu, ALICE);
    emu.faults().inject(
        "/user_management/users",
        Fault::status(503).with_retry_after(Duration::from_secs(30)),
    );
    let e = emu.client().get_user(&alice).await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(
        emu.request_count(&format!("/user_management/users/{alice}")),
        1,
        "not waited out: longer than the client's max_delay (1 s)"
    );
}

#[tokio::test]
async fn a_503_asking_for_a_short_wait_is_repeated_after_it() {
    let emu = start().await;
    let alice = user_id(&emu, ALICE);
    emu.faults().inject(
        "/user_management/users",
        Fault::status(503).with_retry_after(Duration::from_secs(1)),
    );
    let started = std::time::Instant::now();
    let user = emu.client().get_user(&alice).await.unwrap();
    assert_eq!(user.email, ALICE);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the repeat waited what WorkOS asked, not the 10 ms backoff"
    );
    assert_eq!(
        emu.request_count(&format!("/user_management/users/{alice}")),
        2
    );
}

#[tokio::test]
async fn injected_statuses_carry_retry_after_and_a_workos_body() {
    let emu = start().await;
    emu.faults().inject(
        "/sso/jwks",
        Fault::status(429).with_retry_after(Duration::from_secs(7)),
    );
    let response = reqwest::get(emu.client().get_jwks_url()).await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Too Many Requests");
    // Used up: the next request is served.
    assert_eq!(
        reqwest::get(emu.client().get_jwks_url())
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_hang_longer_than_the_client_timeout_is_a_timeout() {
    let emu = start().await;
    emu.faults().inject(
        "/user_management/users",
        Fault::hang(Duration::from_secs(5)),
    );
    let impatient = emu
        .client_builder()
        .with_timeout(Duration::from_millis(200))
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = impatient.get_user(&user_id(&emu, ALICE)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn faults_can_target_one_grant_and_grants_are_counted_apart() {
    let emu = start().await;
    let client = emu.client();
    emu.faults().inject(
        "/user_management/authenticate",
        Fault::status(500).for_grant("refresh_token"),
    );
    let auth = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    assert_eq!(
        emu.faults().pending(),
        1,
        "the password grant was not faulted"
    );
    // Refresh is retried (replay-safe), so the 500 is absorbed.
    client
        .authenticate_with_refresh_token(&refresh_params(&auth.refresh_token, None))
        .await
        .unwrap();
    assert_eq!(emu.grant_count("password"), 1);
    assert_eq!(emu.grant_count("refresh_token"), 2);
    assert_eq!(emu.request_count("/user_management/authenticate"), 3);
    emu.reset_counters();
    assert_eq!(emu.grant_count("refresh_token"), 0);
}

#[tokio::test]
async fn a_non_idempotent_login_is_not_retried_after_a_5xx() {
    let emu = start().await;
    emu.faults().inject(
        "/user_management/authenticate",
        Fault::status(502).forever(),
    );
    let err = sign_in(&emu.client(), ALICE, ALICE_PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(emu.grant_count("password"), 1);
    emu.faults().clear();
    sign_in(&emu.client(), ALICE, ALICE_PASSWORD).await.unwrap();
}

#[tokio::test]
async fn stop_shuts_the_server_down() {
    let emu: Emulator = start().await;
    let url = emu.client().get_jwks_url();
    emu.clone().stop().await;
    assert!(reqwest::get(&url).await.is_err());
}
