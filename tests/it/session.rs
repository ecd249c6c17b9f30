//! Sealed sessions end to end: cookies sealed and unsealed, access tokens
//! verified against a JWKS served over HTTP on 127.0.0.1, refresh and logout.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::fake_workos::{
    FakeWorkos, KID_1, KID_2, claims, now_secs, private_key, sign, sign_with, user_json,
};
use authkit_axum::Secret;
use authkit_axum::client::{AuthenticationResponse, RetryPolicy, User, UserManagement};
use authkit_axum::seal::{self, Passwords, SealOptions};
use authkit_axum::session::{
    Authentication, JwksCache, RefreshError, RefreshOptions, SessionData, SessionManager,
    UnauthenticatedReason,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

const PASSWORD: &str = "a-test-cookie-password-that-is-long-enough";
const OTHER_PASSWORD: &str = "another-cookie-password-also-long-enough!!";

fn client(fake: &FakeWorkos) -> UserManagement {
    UserManagement::builder("sk_test_session", "client_123")
        .with_base_url(&fake.base_url)
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn manager(fake: &FakeWorkos) -> SessionManager {
    SessionManager::new(client(fake), Passwords::single(PASSWORD).unwrap())
}

fn data(user_id: &str, access_token: String, refresh_token: String) -> SessionData {
    SessionData {
        access_token: access_token.into(),
        refresh_token: refresh_token.into(),
        user: serde_json::from_value::<User>(user_json(user_id)).unwrap(),
        impersonator: None,
        authentication_method: None,
        organization_id: None,
    }
}

async fn signed_in_cookie(
    fake: &FakeWorkos,
    sessions: &SessionManager,
    org: Option<&str>,
) -> String {
    let (at, rt) = fake.sign_in("user_1", org);
    sessions.seal(&data("user_1", at, rt)).unwrap()
}

async fn reason(sessions: &SessionManager, cookie: Option<&str>) -> UnauthenticatedReason {
    match sessions.authenticate(cookie).await.unwrap() {
        Authentication::Authenticated(s) => panic!("unexpectedly authenticated as {}", s.user.id),
        Authentication::Unauthenticated(u) => u.reason,
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[tokio::test]
async fn valid_cookie_authenticates_with_every_claim() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, Some("org_1")).await;
    let Authentication::Authenticated(s) = sessions.authenticate(Some(&cookie)).await.unwrap()
    else {
        panic!("not authenticated")
    };
    assert_eq!(s.user.id, "user_1");
    assert_eq!(s.session_id(), "session_0");
    assert_eq!(s.organization_id(), Some("org_1"));
    assert_eq!(s.role(), Some("member"));
    assert_eq!(s.roles(), ["member"]);
    assert_eq!(s.permissions(), ["posts:read"]);
    assert!(s.has_permission("posts:read") && !s.has_permission("posts:write"));
    assert_eq!(s.entitlements(), ["audit-logs"]);
    assert_eq!(s.feature_flags(), ["beta"]);
    assert_eq!(s.claims.iss.as_deref(), Some("https://api.workos.com"));
    assert!(s.expires_at() > SystemTime::now());
    // The key was fetched once and is cached for the next request.
    sessions.authenticate(Some(&cookie)).await.unwrap();
    assert_eq!(fake.jwks_fetches(), 1);
}

#[tokio::test]
async fn custom_claims_are_readable_with_types() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let mut c = claims("user_1", "session_x", None, 300);
    c["tenant"] = json!({"tier": "gold", "seats": 12});
    let cookie = sessions
        .seal(&data("user_1", sign(&c, KID_1), "rt".into()))
        .unwrap();
    let Authentication::Authenticated(s) = sessions.authenticate(Some(&cookie)).await.unwrap()
    else {
        panic!()
    };
    #[derive(serde::Deserialize, PartialEq, Debug)]
    struct Tenant {
        tier: String,
        seats: u32,
    }
    let tenant: Tenant = s.claims.custom("tenant").unwrap().unwrap();
    assert_eq!(
        tenant,
        Tenant {
            tier: "gold".into(),
            seats: 12
        }
    );
}

#[tokio::test]
async fn missing_or_empty_cookie_is_no_session_cookie_provided() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    assert_eq!(
        reason(&sessions, None).await,
        UnauthenticatedReason::NoSessionCookieProvided
    );
    assert_eq!(
        reason(&sessions, Some("")).await,
        UnauthenticatedReason::NoSessionCookieProvided
    );
    assert_eq!(fake.jwks_fetches(), 0);
}

#[tokio::test]
async fn flipping_any_byte_of_a_real_seal_makes_it_invalid() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    // The genuine cookie is authenticated (and so cached) first: a cookie
    // differing from it in one byte must still be checked in full.
    assert!(matches!(
        sessions.authenticate(Some(&cookie)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    let bytes = cookie.as_bytes();
    for i in 0..bytes.len() {
        let mut tampered = bytes.to_vec();
        tampered[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let outcome = sessions.authenticate(Some(&tampered)).await.unwrap();
        match outcome {
            Authentication::Unauthenticated(u) => {
                assert_eq!(
                    u.reason,
                    UnauthenticatedReason::InvalidSessionCookie,
                    "byte {i}"
                )
            }
            // Changing the version suffix `~2` to `~A`/`~B` is rejected too,
            // so nothing may authenticate.
            Authentication::Authenticated(_) => panic!("byte {i} flipped still authenticates"),
            other => panic!("byte {i}: unexpected outcome {other:?}"),
        }
    }
    // Only the untouched cookie needed a key.
    assert_eq!(fake.jwks_fetches(), 1);
}

#[tokio::test]
async fn wrong_password_unknown_id_expired_seal_and_foreign_formats_are_invalid() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let (at, rt) = fake.sign_in("user_1", None);
    let d = data("user_1", at.clone(), rt);
    let other = Passwords::single(OTHER_PASSWORD).unwrap();
    let wrong_password = seal::seal(&d, &other, SealOptions::default()).unwrap();
    let unknown_id = seal::seal(
        &d,
        &Passwords::new([("7", PASSWORD)]).unwrap(),
        SealOptions::default(),
    )
    .unwrap();
    let expired_seal = seal::seal(
        &d,
        &Passwords::single(PASSWORD).unwrap(),
        SealOptions::default()
            .with_ttl(Duration::from_secs(60))
            .with_now(SystemTime::now() - Duration::from_secs(3600)),
    )
    .unwrap();
    let not_a_session = sessions.passwords().clone();
    let sealed_other_json = seal::seal(
        &json!({"hello": "world"}),
        &not_a_session,
        SealOptions::default(),
    )
    .unwrap();
    for cookie in [
        wrong_password.as_str(),
        unknown_id.as_str(),
        expired_seal.as_str(),
        sealed_other_json.as_str(),
        at.as_str(),
        "Fe26.2*1*garbage",
        "Fe26.2**********",
        "%%%%",
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        assert_eq!(
            reason(&sessions, Some(cookie)).await,
            UnauthenticatedReason::InvalidSessionCookie,
            "{cookie}"
        );
    }
}

#[tokio::test]
async fn rotated_passwords_unseal_old_cookies_and_seal_with_the_newest() {
    let fake = FakeWorkos::start().await;
    let old = manager(&fake);
    let cookie = signed_in_cookie(&fake, &old, None).await;
    let rotated = SessionManager::new(
        client(&fake),
        Passwords::new([("1", PASSWORD), ("2", OTHER_PASSWORD)]).unwrap(),
    );
    assert!(matches!(
        rotated.authenticate(Some(&cookie)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    let (at, rt) = fake.sign_in("user_1", None);
    let resealed = rotated.seal(&data("user_1", at, rt)).unwrap();
    assert!(resealed.starts_with("Fe26.2*2*"));
    // Once the old password is dropped, old cookies stop working.
    let only_new = SessionManager::new(
        client(&fake),
        Passwords::new([("2", OTHER_PASSWORD)]).unwrap(),
    );
    assert_eq!(
        reason(&only_new, Some(&cookie)).await,
        UnauthenticatedReason::InvalidSessionCookie
    );
    assert!(matches!(
        only_new.authenticate(Some(&resealed)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
}

fn cookie_with_token(sessions: &SessionManager, user: &str, token: String) -> String {
    sessions.seal(&data(user, token, "rt".into())).unwrap()
}

#[tokio::test]
async fn alg_none_tokens_are_invalid_jwt() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    use base64::Engine;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let token = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "kid": KID_1, "typ": "JWT"})),
        b64(claims("user_1", "s", None, 300))
    );
    let cookie = cookie_with_token(&sessions, "user_1", token);
    assert_eq!(
        reason(&sessions, Some(&cookie)).await,
        UnauthenticatedReason::InvalidJwt
    );
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_invalid_jwt() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    // The classic key-confusion attack: HMAC with the RSA public key as secret.
    let jwk = crate::support::fake_workos::jwk(KID_1);
    for secret in [jwk.to_string(), jwk["n"].as_str().unwrap().to_owned()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(KID_1.into());
        let token = jsonwebtoken::encode(
            &header,
            &claims("user_1", "s", None, 300),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        let cookie = cookie_with_token(&sessions, "user_1", token);
        assert_eq!(
            reason(&sessions, Some(&cookie)).await,
            UnauthenticatedReason::InvalidJwt
        );
    }
}

#[tokio::test]
async fn other_rsa_algorithms_missing_kid_and_wrong_key_are_invalid_jwt() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let c = claims("user_1", "s", None, 300);
    let mut rs512 = Header::new(Algorithm::RS512);
    rs512.kid = Some(KID_1.into());
    let tokens = [
        jsonwebtoken::encode(&rs512, &c, &private_key(KID_1)).unwrap(),
        sign_with(&c, None, &private_key(KID_1)),
        // Signed by key 2 but claiming to be key 1.
        sign_with(&c, Some(KID_1), &private_key(KID_2)),
        "not.a.jwt".to_owned(),
    ];
    for token in tokens {
        let cookie = cookie_with_token(&sessions, "user_1", token.clone());
        assert_eq!(
            reason(&sessions, Some(&cookie)).await,
            UnauthenticatedReason::InvalidJwt,
            "{token}"
        );
    }
}

#[tokio::test]
async fn token_for_another_user_than_the_cookie_is_rejected() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let token = sign(&claims("user_2", "s", None, 300), KID_1);
    let cookie = cookie_with_token(&sessions, "user_1", token);
    assert_eq!(
        reason(&sessions, Some(&cookie)).await,
        UnauthenticatedReason::InvalidSessionCookie
    );
}

#[tokio::test]
async fn expired_token_is_refreshable_and_not_yet_valid_is_invalid() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let expired = cookie_with_token(
        &sessions,
        "user_1",
        sign(&claims("user_1", "s", None, -5), KID_1),
    );
    match sessions.authenticate(Some(&expired)).await.unwrap() {
        Authentication::Unauthenticated(u) => {
            assert_eq!(u.reason, UnauthenticatedReason::Expired);
            assert!(u.reason.is_refreshable());
            assert_eq!(u.session.unwrap().user.id, "user_1");
            assert_eq!(u.claims.unwrap().sid, "s");
        }
        other => panic!("{other:?}"),
    }
    let mut future = claims("user_1", "s", None, 600);
    future["nbf"] = json!(now_secs() + 300);
    let cookie = cookie_with_token(&sessions, "user_1", sign(&future, KID_1));
    assert_eq!(
        reason(&sessions, Some(&cookie)).await,
        UnauthenticatedReason::InvalidJwt
    );
}

#[tokio::test]
async fn leeway_accepts_a_token_that_just_expired() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake).with_leeway(Duration::from_secs(30));
    let cookie = cookie_with_token(
        &sessions,
        "user_1",
        sign(&claims("user_1", "s", None, -5), KID_1),
    );
    assert!(matches!(
        sessions.authenticate(Some(&cookie)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
}

#[tokio::test]
async fn injected_clock_decides_expiry() {
    let fake = FakeWorkos::start().await;
    let later: Arc<dyn Fn() -> SystemTime + Send + Sync> =
        Arc::new(|| SystemTime::now() + Duration::from_secs(3600));
    let sessions = manager(&fake).with_clock(later);
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    assert_eq!(
        reason(&sessions, Some(&cookie)).await,
        UnauthenticatedReason::Expired
    );
}

#[tokio::test]
async fn new_kid_is_accepted_after_one_refetch() {
    let fake = FakeWorkos::start().await;
    let sessions = SessionManager::new(client(&fake), Passwords::single(PASSWORD).unwrap())
        .with_jwks(JwksCache::new(client(&fake)).with_min_refetch_interval(Duration::ZERO));
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    assert!(matches!(
        sessions.authenticate(Some(&cookie)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    assert_eq!(fake.jwks_fetches(), 1);
    let generation = sessions.jwks().generation();
    // WorkOS rotates: key 2 is published and signs new tokens.
    fake.with(|s| {
        s.published = vec![KID_1.into(), KID_2.into()];
        s.signing_kid = KID_2.into();
    });
    let rotated = signed_in_cookie(&fake, &sessions, None).await;
    assert!(matches!(
        sessions.authenticate(Some(&rotated)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    assert_eq!(fake.jwks_fetches(), 2);
    assert_ne!(sessions.jwks().generation(), generation);
    // Both keys are now cached.
    sessions.authenticate(Some(&cookie)).await.unwrap();
    sessions.authenticate(Some(&rotated)).await.unwrap();
    assert_eq!(fake.jwks_fetches(), 2);
}

#[tokio::test]
async fn unknown_kid_storm_is_throttled_to_one_refetch() {
    let fake = FakeWorkos::start().await;
    let sessions = Arc::new(
        SessionManager::new(client(&fake), Passwords::single(PASSWORD).unwrap()).with_jwks(
            JwksCache::new(client(&fake)).with_min_refetch_interval(Duration::from_millis(400)),
        ),
    );
    let good = signed_in_cookie(&fake, &sessions, None).await;
    sessions.authenticate(Some(&good)).await.unwrap();
    assert_eq!(fake.jwks_fetches(), 1);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let mut tasks = Vec::new();
    for i in 0..100 {
        let forged = sign_with(
            &claims("user_1", "s", None, 300),
            Some(&format!("forged_kid_{i}")),
            &private_key(KID_1),
        );
        let cookie = cookie_with_token(&sessions, "user_1", forged);
        let sessions = sessions.clone();
        tasks.push(tokio::spawn(async move {
            reason(&sessions, Some(&cookie)).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), UnauthenticatedReason::InvalidJwt);
    }
    assert_eq!(
        fake.jwks_fetches(),
        2,
        "100 unknown kids caused more than one refetch"
    );
    // Legitimate traffic kept working throughout.
    assert!(matches!(
        sessions.authenticate(Some(&good)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    // After the interval, one more refetch is allowed.
    tokio::time::sleep(Duration::from_millis(450)).await;
    let forged = sign_with(
        &claims("user_1", "s", None, 300),
        Some("late_kid"),
        &private_key(KID_1),
    );
    let cookie = cookie_with_token(&sessions, "user_1", forged);
    assert_eq!(
        reason(&sessions, Some(&cookie)).await,
        UnauthenticatedReason::InvalidJwt
    );
    assert_eq!(fake.jwks_fetches(), 3);
}

#[tokio::test]
async fn cached_keys_keep_working_while_workos_is_unreachable() {
    let fake = FakeWorkos::start().await;
    // Without the verified-token cache, so every request needs the key.
    let sessions = SessionManager::new(client(&fake), Passwords::single(PASSWORD).unwrap())
        .with_token_cache_capacity(0)
        .with_session_cache_capacity(0)
        .with_jwks(
            JwksCache::new(client(&fake))
                .with_min_refetch_interval(Duration::ZERO)
                .with_max_age(Duration::ZERO),
        );
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    sessions.authenticate(Some(&cookie)).await.unwrap();
    fake.with(|s| s.jwks_fail = true);
    // The set is stale (max age 0) and every refetch fails: the cached key still verifies.
    for _ in 0..3 {
        assert!(matches!(
            sessions.authenticate(Some(&cookie)).await.unwrap(),
            Authentication::Authenticated(_)
        ));
    }
    // The stale set is refetched in the background (stale-while-revalidate).
    tokio::time::timeout(Duration::from_secs(10), async {
        while fake.jwks_fetches() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a background refetch was attempted");
}

#[tokio::test]
async fn unreachable_jwks_with_nothing_cached_is_an_outage_not_a_logout() {
    let fake = FakeWorkos::start().await;
    fake.with(|s| s.jwks_fail = true);
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    let err = sessions.authenticate(Some(&cookie)).await.unwrap_err();
    assert!(err.0.is_transient(), "{err}");
}

#[tokio::test]
async fn refresh_rotates_the_cookie_and_keeps_the_organization() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, Some("org_1")).await;
    let refreshed = sessions
        .refresh(Some(&cookie), RefreshOptions::default())
        .await
        .unwrap();
    assert_ne!(refreshed.sealed, cookie);
    assert_eq!(refreshed.session.organization_id(), Some("org_1"));
    assert_eq!(refreshed.data.refresh_token.expose(), "rt_0_next");
    let sent = fake.with(|s| s.last_refresh_body.clone()).unwrap();
    assert_eq!(sent["grant_type"], "refresh_token");
    assert_eq!(sent["refresh_token"], "rt_0");
    assert_eq!(sent["organization_id"], "org_1");
    // The new cookie authenticates.
    assert!(matches!(
        sessions
            .authenticate(Some(&refreshed.sealed))
            .await
            .unwrap(),
        Authentication::Authenticated(_)
    ));
    // The old refresh token is spent.
    let err = sessions
        .refresh(Some(&cookie), RefreshOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RefreshError::Rejected(_)) && err.is_terminal(),
        "{err:?}"
    );
}

#[tokio::test]
async fn refresh_can_switch_organization() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, Some("org_1")).await;
    let refreshed = sessions
        .refresh(
            Some(&cookie),
            RefreshOptions {
                organization_id: Some("org_2".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(refreshed.session.organization_id(), Some("org_2"));
    assert_eq!(refreshed.data.organization_id.as_deref(), Some("org_2"));
}

#[tokio::test]
async fn refresh_failures_say_whether_they_are_terminal() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    let cases: Vec<(u16, serde_json::Value, Option<u64>, bool)> = vec![
        (
            400,
            json!({"error": "invalid_grant", "error_description": "Invalid refresh token."}),
            None,
            true,
        ),
        (
            403,
            json!({"code": "mfa_enrollment", "message": "m", "pending_authentication_token": "p", "user": user_json("user_1")}),
            None,
            true,
        ),
        (
            403,
            json!({"error": "sso_required", "error_description": "d", "connection_ids": ["conn_1"], "email": "a@b.c"}),
            None,
            true,
        ),
        (429, json!({"message": "slow down"}), Some(7), false),
        (408, json!({"message": "timeout"}), None, false),
        (500, json!({"message": "boom"}), None, false),
        (503, json!({"message": "down"}), None, false),
    ];
    for (status, body, retry_after, terminal) in cases {
        fake.with(|s| s.refresh_faults.push((status, body.clone(), retry_after)));
        let err = sessions
            .refresh(Some(&cookie), RefreshOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.is_terminal(), terminal, "{status} {body}: {err:?}");
        if let Some(secs) = retry_after {
            assert_eq!(err.retry_after(), Some(Duration::from_secs(secs)));
        }
    }
    // The session survived every transient failure: the refresh token is unspent.
    assert!(
        sessions
            .refresh(Some(&cookie), RefreshOptions::default())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn refresh_with_workos_unreachable_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    let offline = SessionManager::new(
        UserManagement::builder("sk", "client_123")
            .with_base_url(format!("http://127.0.0.1:{port}"))
            .with_retry_policy(RetryPolicy::none())
            .build()
            .unwrap(),
        Passwords::single(PASSWORD).unwrap(),
    );
    let err = offline
        .refresh(Some(&cookie), RefreshOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, RefreshError::Unavailable(_)) && !err.is_terminal(),
        "{err:?}"
    );
}

#[tokio::test]
async fn refresh_of_a_bad_cookie_is_terminal() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let err = sessions
        .refresh(Some("Fe26.2*nope"), RefreshOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RefreshError::InvalidSessionCookie) && err.is_terminal());
    let err = sessions
        .refresh(None, RefreshOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, RefreshError::NoSessionCookieProvided));
    assert_eq!(fake.refresh_calls(), 0);
}

#[tokio::test]
async fn logout_url_names_the_session_and_return_to() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    let url = sessions
        .load_sealed_session(Some(&cookie))
        .get_logout_url(Some("https://app.example.com/bye?x=1"))
        .unwrap();
    let url = url::Url::parse(&url).unwrap();
    assert_eq!(url.path(), "/user_management/sessions/logout");
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["session_id"], "session_0");
    assert_eq!(q["return_to"], "https://app.example.com/bye?x=1");
    assert!(sessions.logout_url(Some("garbage"), None).is_err());
    assert!(sessions.logout_url(None, None).is_err());
}

#[tokio::test]
async fn authentication_response_seals_straight_into_a_session() {
    let fake = FakeWorkos::start().await;
    let sessions = manager(&fake);
    let (at, rt) = fake.sign_in("user_1", None);
    let auth: AuthenticationResponse = serde_json::from_value(json!({
        "user": user_json("user_1"), "access_token": at, "refresh_token": rt,
        "impersonator": {"email": "admin@example.com", "reason": "support"},
        "authentication_method": "Password"
    }))
    .unwrap();
    let sealed = auth.seal_session(sessions.passwords()).unwrap();
    let Authentication::Authenticated(s) = sessions.authenticate(Some(&sealed)).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(s.impersonator.as_ref().unwrap().email, "admin@example.com");
    // The cookie's JSON is the camelCase shape the Node SDKs write.
    let raw: serde_json::Value =
        seal::unseal(&sealed, sessions.passwords(), Default::default()).unwrap();
    for key in [
        "accessToken",
        "refreshToken",
        "user",
        "impersonator",
        "authenticationMethod",
    ] {
        assert!(raw.get(key).is_some(), "missing {key} in {raw}");
    }
}

#[test]
fn session_data_reads_the_node_sdk_shape() {
    // @workos-inc/node writes {accessToken, refreshToken, user, impersonator}.
    let v = json!({"accessToken": "a", "refreshToken": "r", "user": user_json("user_9"), "impersonator": null});
    let d: SessionData = serde_json::from_value(v).unwrap();
    assert_eq!(d.user.id, "user_9");
    assert_eq!(d.access_token, Secret::from("a"));
    assert!(!format!("{d:?}").contains("\"r\""));
}

#[tokio::test]
async fn verified_tokens_are_cached_until_the_key_set_changes() {
    let fake = FakeWorkos::start().await;
    let sessions = SessionManager::new(client(&fake), Passwords::single(PASSWORD).unwrap())
        .with_jwks(JwksCache::new(client(&fake)).with_min_refetch_interval(Duration::ZERO));
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    for _ in 0..5 {
        assert!(matches!(
            sessions.authenticate(Some(&cookie)).await.unwrap(),
            Authentication::Authenticated(_)
        ));
    }
    assert_eq!(fake.jwks_fetches(), 1);
    // WorkOS retires key 1: once the new set is fetched (here because a
    // token names key 2), tokens verified under key 1 are checked again,
    // and fail.
    fake.with(|s| {
        s.published = vec![KID_2.into()];
        s.signing_kid = KID_2.into();
    });
    let rotated = signed_in_cookie(&fake, &sessions, None).await;
    assert!(matches!(
        sessions.authenticate(Some(&rotated)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    assert_eq!(
        reason(&sessions, Some(&cookie)).await,
        UnauthenticatedReason::InvalidJwt
    );
}

#[tokio::test]
async fn a_cached_token_still_expires_on_time() {
    let fake = FakeWorkos::start().await;
    let now = Arc::new(std::sync::Mutex::new(SystemTime::now()));
    let clock_now = now.clone();
    let sessions = manager(&fake).with_clock(Arc::new(move || *clock_now.lock().unwrap()));
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    assert!(matches!(
        sessions.authenticate(Some(&cookie)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    *now.lock().unwrap() += Duration::from_secs(301);
    assert_eq!(
        reason(&sessions, Some(&cookie)).await,
        UnauthenticatedReason::Expired
    );
}

#[tokio::test]
async fn refresh_keeps_the_user_signed_in_when_this_clock_runs_ahead_of_workos() {
    let fake = FakeWorkos::start().await;
    let ahead: Arc<dyn Fn() -> SystemTime + Send + Sync> =
        Arc::new(|| SystemTime::now() + Duration::from_secs(3600));
    let sessions = manager(&fake).with_clock(ahead);
    let cookie = signed_in_cookie(&fake, &sessions, None).await;
    // The fresh token reads as expired by this clock, but WorkOS just issued it.
    let refreshed = sessions
        .refresh(Some(&cookie), RefreshOptions::default())
        .await
        .unwrap();
    assert_eq!(refreshed.session.user.id, "user_1");
}

#[tokio::test]
async fn a_jwks_without_a_usable_key_is_an_incident_and_the_cached_keys_stay() {
    let fake = FakeWorkos::start().await;
    let sessions = SessionManager::new(client(&fake), Passwords::single(PASSWORD).unwrap())
        .with_token_cache_capacity(0)
        .with_session_cache_capacity(0)
        .with_jwks(JwksCache::new(client(&fake)).with_min_refetch_interval(Duration::ZERO));
    let good = signed_in_cookie(&fake, &sessions, None).await;
    assert!(matches!(
        sessions.authenticate(Some(&good)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
    // WorkOS answers its JWKS with no key at all; a token naming an unknown
    // key makes the cache refetch it.
    fake.with(|s| s.published = Vec::new());
    let unknown = sign_with(
        &claims("user_1", "s", None, 300),
        Some("a_new_kid"),
        &private_key(KID_1),
    );
    let cookie = cookie_with_token(&sessions, "user_1", unknown);
    assert!(
        sessions.authenticate(Some(&cookie)).await.is_err(),
        "an outage, not a verdict"
    );
    // The keys it had still verify the sessions signed with them.
    assert!(matches!(
        sessions.authenticate(Some(&good)).await.unwrap(),
        Authentication::Authenticated(_)
    ));
}
