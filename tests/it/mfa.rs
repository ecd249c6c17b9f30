//! The client's MFA calls against the emulator, in the MFA API's documented
//! shapes (workos-node's `mfa` module): `POST /auth/factors/{id}/challenge`
//! → `authentication_challenge`; `POST /auth/challenges/{id}/verify` →
//! `{challenge, valid}`; `GET` / `DELETE /auth/factors/{id}`.

use authkit_axum::client::{
    AuthenticateWithPassword, AuthenticateWithTotp, ChallengeAuthFactor, EnrollAuthFactor, Error,
    VerifyAuthChallenge,
};
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed, SeedUser};

const SECRET: &str = "JBSWY3DPEHPK3PXP";

async fn emulator() -> Emulator {
    Emulator::builder()
        .with_seed(
            Seed::default()
                .with_user(SeedUser {
                    totp_secret: Some(SECRET.into()),
                    ..SeedUser::new("totp@example.com", DEMO_PASSWORD)
                })
                .with_user(SeedUser {
                    require_mfa: true,
                    ..SeedUser::new("enroll@example.com", DEMO_PASSWORD)
                }),
        )
        .start()
        .await
        .unwrap()
}

fn password(email: &str) -> AuthenticateWithPassword {
    AuthenticateWithPassword {
        email: email.into(),
        password: DEMO_PASSWORD.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_mfa_challenge_is_answered_by_challenging_its_factor_then_the_totp_grant() {
    let emulator = emulator().await;
    let workos = emulator.client();
    let e = workos
        .authenticate_with_password(&password("totp@example.com"))
        .await
        .unwrap_err();
    let Error::MfaChallenge(challenge) = e else {
        panic!("{e:?}")
    };
    assert_eq!(challenge.user.as_ref().unwrap().email, "totp@example.com");
    assert!(
        challenge.authentication_challenge.is_none(),
        "WorkOS sends factors, not a challenge"
    );
    let factor = challenge
        .totp_factor()
        .expect("the user's TOTP factor")
        .clone();
    let issued = workos
        .challenge_auth_factor(&ChallengeAuthFactor::new(&factor.id))
        .await
        .unwrap();
    assert_eq!(issued.authentication_factor_id, factor.id);
    assert!(issued.expires_at.is_some());
    assert!(issued.code.is_none(), "TOTP challenges carry no code");
    let auth = workos
        .authenticate_with_totp(&AuthenticateWithTotp {
            code: emulator.totp_code(SECRET).unwrap().into(),
            authentication_challenge_id: issued.id,
            pending_authentication_token: challenge.pending_authentication_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.email, "totp@example.com");
}

#[tokio::test]
async fn an_mfa_enrollment_names_the_user_to_enroll_and_the_enrollments_challenge_signs_in() {
    let emulator = emulator().await;
    let workos = emulator.client();
    let e = workos
        .authenticate_with_password(&password("enroll@example.com"))
        .await
        .unwrap_err();
    let Error::MfaEnrollment(enrollment) = e else {
        panic!("{e:?}")
    };
    let user_id = enrollment.user_id().expect("the user").to_owned();
    let enrolled = workos
        .enroll_auth_factor(&EnrollAuthFactor::totp(&user_id))
        .await
        .unwrap();
    let secret = enrolled.authentication_factor.totp.unwrap().secret.unwrap();
    let auth = workos
        .authenticate_with_totp(&AuthenticateWithTotp {
            code: emulator.totp_code(secret.expose()).unwrap().into(),
            authentication_challenge_id: enrolled.authentication_challenge.id,
            pending_authentication_token: enrollment.pending_authentication_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.id, user_id);
}

#[tokio::test]
async fn verify_get_and_delete_a_factor() {
    let emulator = emulator().await;
    let workos = emulator.client();
    let user = emulator.user_by_email("enroll@example.com").unwrap();
    let enrolled = workos
        .enroll_auth_factor(&EnrollAuthFactor::totp(&user.id))
        .await
        .unwrap();
    let factor_id = enrolled.authentication_factor.id.clone();
    let secret = enrolled.authentication_factor.totp.unwrap().secret.unwrap();

    let got = workos.get_auth_factor(&factor_id).await.unwrap();
    assert_eq!(got.user_id.as_deref(), Some(user.id.as_str()));
    assert!(
        got.totp.unwrap().secret.is_none(),
        "the secret is shown at enrollment only"
    );

    let challenge = workos
        .challenge_auth_factor(&ChallengeAuthFactor::new(&factor_id))
        .await
        .unwrap();
    let verify = |code: String| VerifyAuthChallenge {
        authentication_challenge_id: challenge.id.clone(),
        code: code.into(),
    };
    let wrong = workos
        .verify_auth_challenge(&verify("000000".into()))
        .await
        .unwrap();
    assert!(!wrong.valid);
    assert_eq!(wrong.challenge.id, challenge.id);
    let code = emulator.totp_code(secret.expose()).unwrap();
    assert!(
        workos
            .verify_auth_challenge(&verify(code.clone()))
            .await
            .unwrap()
            .valid
    );
    let again = workos
        .verify_auth_challenge(&verify(code))
        .await
        .unwrap_err();
    assert_eq!(
        again.code(),
        Some("authentication_challenge_previously_verified")
    );
    assert_eq!(again.status().map(|s| s.as_u16()), Some(422));

    workos.delete_auth_factor(&factor_id).await.unwrap();
    let gone = workos.get_auth_factor(&factor_id).await.unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(gone.code(), Some("entity_not_found"));
    let gone = workos
        .challenge_auth_factor(&ChallengeAuthFactor::new(&factor_id))
        .await
        .unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
}
