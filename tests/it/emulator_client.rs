//! The client's whole surface against the emulator, end to end over HTTP:
//! every `UserManagement` method with a success and a representative error,
//! the seven grants, and each challenge as its typed `Error` variant.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::emulator::*;
use authkit_axum::Secret;
use authkit_axum::client::{
    AuthenticateWithCode, AuthenticateWithEmailVerification, AuthenticateWithMagicAuth,
    AuthenticateWithOrganizationSelection, AuthenticateWithPassword, AuthenticateWithRefreshToken,
    AuthenticateWithTotp, AuthenticationMethod, CreateMagicAuth, CreateOrganizationMembership,
    CreateUser, EnrollAuthFactor, Error, InvitationState, ListAuthFactors, ListInvitations,
    ListOrganizationMemberships, ListSessions, ListUsers, OAuthErrorCode, Order,
    OrganizationMembershipStatus, PaginationParams, ResetPassword, RetryPolicy, SendInvitation,
    SendPasswordResetEmail, SessionStatus, UpdateOrganizationMembership, UpdateUser,
    UserManagement, VerifyEmail,
};
use authkit_axum::emulator::{EmailKind, Emulator, EmulatorExt, ExposeSecret, Seed, SeedUser};
use futures_util::TryStreamExt;

/// The API error's `code`, asserting the status.
fn api_code(e: &Error, status: u16) -> String {
    let Error::Api(api) = e else {
        panic!("expected an API error, got {e:?}")
    };
    assert_eq!(api.status, status, "{api:?}");
    api.code.clone().unwrap_or_default()
}

fn assert_not_found(e: &Error, entity_id: &str) {
    assert_eq!(api_code(e, 404), "entity_not_found");
    let Error::Api(api) = e else { unreachable!() };
    assert_eq!(api.entity_id.as_deref(), Some(entity_id));
}

fn assert_oauth(e: &Error, code: OAuthErrorCode) {
    assert!(matches!(e, Error::OAuth(o) if o.error == code), "{e:?}");
}

// ---- users ----

#[tokio::test]
async fn users_are_created_read_updated_and_deleted() {
    let emu = start().await;
    let client = emu.client();
    let created = client
        .create_user(&CreateUser {
            password: Some("carol-password".into()),
            first_name: Some("Carol".into()),
            external_id: Some("ext_carol".into()),
            metadata: Some(HashMap::from([("tier".to_owned(), "gold".to_owned())])),
            ..CreateUser::new("carol@example.com")
        })
        .await
        .unwrap();
    assert!(created.id.starts_with("user_") && created.id.len() == "user_".len() + 26);
    assert_eq!(created.email, "carol@example.com");
    assert!(!created.email_verified);
    assert_eq!(created.metadata["tier"], "gold");

    assert_eq!(client.get_user(&created.id).await.unwrap(), created);
    assert_eq!(
        client
            .get_user_by_external_id("ext_carol")
            .await
            .unwrap()
            .id,
        created.id
    );

    let updated = client
        .update_user(
            &UpdateUser::new(&created.id)
                .first_name("Caroline")
                .locale("fr-FR")
                .email_verified(true)
                .clear_external_id(),
        )
        .await
        .unwrap();
    assert_eq!(updated.first_name.as_deref(), Some("Caroline"));
    assert_eq!(updated.locale.as_deref(), Some("fr-FR"));
    assert!(updated.email_verified);
    assert_eq!(updated.external_id, None);
    let moved = client
        .update_user(&UpdateUser::new(&created.id).email("caroline@example.com"))
        .await
        .unwrap();
    assert!(!moved.email_verified, "a new address is unverified");

    sign_in(&client, "caroline@example.com", "carol-password")
        .await
        .unwrap();
    client.delete_user(&created.id).await.unwrap();
    assert_not_found(
        &client.get_user(&created.id).await.unwrap_err(),
        &created.id,
    );
}

#[tokio::test]
async fn user_errors_have_workos_shapes() {
    let emu = start().await;
    let client = emu.client();
    let err = client.create_user(&CreateUser::new("")).await.unwrap_err();
    assert_eq!(api_code(&err, 422), "invalid_request_parameters");
    let Error::Api(api) = &err else {
        unreachable!()
    };
    assert_eq!(api.errors[0].code.as_deref(), Some("email_string_required"));
    assert_eq!(
        api.errors[0].message.as_deref(),
        Some("Email should be a non-empty string.")
    );

    let taken = client
        .create_user(&CreateUser::new(ALICE))
        .await
        .unwrap_err();
    assert_eq!(api_code(&taken, 422), "invalid_request_parameters");

    assert_not_found(
        &client.get_user("user_missing").await.unwrap_err(),
        "user_missing",
    );
    assert_not_found(
        &client.get_user_by_external_id("nobody").await.unwrap_err(),
        "nobody",
    );
    assert_not_found(
        &client
            .update_user(&UpdateUser::new("user_missing").first_name("x"))
            .await
            .unwrap_err(),
        "user_missing",
    );
    assert_not_found(&client.delete_user("invalid").await.unwrap_err(), "invalid");
}

#[tokio::test]
async fn users_are_listed_filtered_and_paginated() {
    let emu = start().await;
    let client = emu.client();
    let all = client.list_users(&ListUsers::default()).await.unwrap();
    assert_eq!(all.data.len(), 6);
    assert_eq!(all.data.last().unwrap().email, ALICE, "newest first");
    assert_eq!(all.list_metadata.after, None);

    let by_email = client
        .list_users(&ListUsers {
            email: Some("MULTI@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_email.data.len(), 1);
    let in_acme = client
        .list_users(&ListUsers {
            organization_id: Some(ACME.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut emails: Vec<_> = in_acme.data.iter().map(|u| u.email.as_str()).collect();
    emails.sort();
    assert_eq!(emails, [ALICE, MULTI]);

    let page = |after: Option<String>, before: Option<String>, order| ListUsers {
        pagination: PaginationParams {
            limit: Some(4),
            after,
            before,
            order,
        },
        ..Default::default()
    };
    let first = client
        .list_users(&page(None, None, Order::Asc))
        .await
        .unwrap();
    assert_eq!(first.data[0].email, ALICE);
    let after = first.list_metadata.after.clone().unwrap();
    let second = client
        .list_users(&page(Some(after), None, Order::Asc))
        .await
        .unwrap();
    assert_eq!(second.data.len(), 2);
    assert_eq!(second.list_metadata.after, None);
    let back = client
        .list_users(&page(None, second.list_metadata.before.clone(), Order::Asc))
        .await
        .unwrap();
    assert_eq!(back.data, first.data);

    let streamed: Vec<_> = client
        .list_users_stream(ListUsers {
            pagination: PaginationParams {
                limit: Some(2),
                ..Default::default()
            },
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, all.data);

    let bad = client
        .list_users(&ListUsers {
            pagination: PaginationParams {
                limit: Some(1000),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(api_code(&bad, 422), "invalid_request_parameters");
}

// ---- organization memberships ----

#[tokio::test]
async fn memberships_have_their_whole_lifecycle() {
    let emu = start().await;
    let client = emu.client();
    let solo = user_id(&emu, SOLO);
    let globex = org(&emu, "Globex");

    let member = client
        .create_organization_membership(&CreateOrganizationMembership {
            user_id: solo.clone(),
            organization_id: ACME.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(member.id.starts_with("om_"));
    assert_eq!(member.role.slug, "member");
    assert_eq!(member.status, OrganizationMembershipStatus::Active);

    let multi_role = client
        .create_organization_membership(&CreateOrganizationMembership {
            user_id: solo.clone(),
            organization_id: globex.clone(),
            role_slugs: Some(vec!["admin".into(), "member".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(multi_role.role.slug, "admin");
    assert_eq!(multi_role.roles.as_ref().unwrap().len(), 2);

    assert_eq!(
        client
            .get_organization_membership(&member.id)
            .await
            .unwrap(),
        member
    );
    let updated = client
        .update_organization_membership(&UpdateOrganizationMembership {
            organization_membership_id: member.id.clone(),
            role_slug: Some("admin".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.role.slug, "admin");

    let inactive = client
        .deactivate_organization_membership(&member.id)
        .await
        .unwrap();
    assert_eq!(inactive.status, OrganizationMembershipStatus::Inactive);
    let only_inactive = client
        .list_organization_memberships(&ListOrganizationMemberships {
            user_id: Some(solo.clone()),
            statuses: vec![OrganizationMembershipStatus::Inactive],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only_inactive.data.len(), 1);
    assert_eq!(only_inactive.data[0].id, member.id);
    let both = client
        .list_organization_memberships(&ListOrganizationMemberships {
            user_id: Some(solo.clone()),
            statuses: vec![
                OrganizationMembershipStatus::Active,
                OrganizationMembershipStatus::Inactive,
            ],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(both.data.len(), 2);
    let reactivated = client
        .reactivate_organization_membership(&member.id)
        .await
        .unwrap();
    assert_eq!(reactivated.status, OrganizationMembershipStatus::Active);

    let in_acme: Vec<_> = client
        .list_organization_memberships_stream(ListOrganizationMemberships {
            organization_id: Some(ACME.into()),
            pagination: PaginationParams {
                limit: Some(1),
                ..Default::default()
            },
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(in_acme.len(), 3);

    client
        .delete_organization_membership(&member.id)
        .await
        .unwrap();
    assert_not_found(
        &client
            .get_organization_membership(&member.id)
            .await
            .unwrap_err(),
        &member.id,
    );
}

#[tokio::test]
async fn membership_errors_have_workos_shapes() {
    let emu = start().await;
    let client = emu.client();
    let empty = client
        .create_organization_membership(&CreateOrganizationMembership::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(&empty, 422), "invalid_request_parameters");
    let Error::Api(api) = &empty else {
        unreachable!()
    };
    assert_eq!(
        api.errors[0].code.as_deref(),
        Some("user_id_string_required")
    );

    let params = |role: &str| CreateOrganizationMembership {
        user_id: user_id(&emu, ALICE),
        organization_id: ACME.into(),
        role_slug: Some(role.into()),
        ..Default::default()
    };
    let no_role = client
        .create_organization_membership(&params("owner"))
        .await
        .unwrap_err();
    assert_not_found(&no_role, "owner");
    let duplicate = client
        .create_organization_membership(&params("member"))
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&duplicate, 409),
        "organization_membership_already_exists"
    );

    for err in [
        client
            .get_organization_membership("invalid")
            .await
            .unwrap_err(),
        client
            .delete_organization_membership("invalid")
            .await
            .unwrap_err(),
        client
            .deactivate_organization_membership("invalid")
            .await
            .unwrap_err(),
        client
            .reactivate_organization_membership("invalid")
            .await
            .unwrap_err(),
        client
            .update_organization_membership(&UpdateOrganizationMembership {
                organization_membership_id: "invalid".into(),
                role_slug: Some("admin".into()),
                ..Default::default()
            })
            .await
            .unwrap_err(),
    ] {
        assert_not_found(&err, "invalid");
    }
    let listed = client
        .list_organization_memberships(&ListOrganizationMemberships {
            organization_id: Some("org_unknown".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(listed.data.is_empty());
}

// ---- invitations ----

#[tokio::test]
async fn invitations_are_sent_found_resent_revoked_and_accepted() {
    let emu = start().await;
    let client = emu.client();
    let invite = |email: &str| SendInvitation {
        email: email.into(),
        organization_id: Some(ACME.into()),
        role_slug: Some("admin".into()),
        inviter_user_id: Some(user_id(&emu, ALICE)),
        ..Default::default()
    };
    let sent = client.send_invitation(&invite(SOLO)).await.unwrap();
    assert!(sent.id.starts_with("invitation_"));
    assert_eq!(sent.state, InvitationState::Pending);
    assert!(sent.accept_invitation_url.contains(sent.token.expose()));
    let email = emu.last_email_to(SOLO).unwrap();
    assert_eq!(email.kind, EmailKind::Invitation);
    assert_eq!(email.secret.expose_secret(), sent.token.expose());

    assert_eq!(client.get_invitation(&sent.id).await.unwrap(), sent);
    assert_eq!(
        client
            .find_invitation_by_token(sent.token.expose())
            .await
            .unwrap()
            .id,
        sent.id
    );
    let duplicate = client.send_invitation(&invite(SOLO)).await.unwrap_err();
    assert_eq!(duplicate.status().unwrap().as_u16(), 409);

    let listed = client
        .list_invitations(&ListInvitations {
            organization_id: Some(ACME.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    let by_email: Vec<_> = client
        .list_invitations_stream(ListInvitations {
            email: Some(SOLO.into()),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_email.len(), 1);
    let bad_page = client
        .list_invitations(&ListInvitations {
            pagination: PaginationParams {
                limit: Some(0),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(api_code(&bad_page, 422), "invalid_request_parameters");

    assert_eq!(
        client.resend_invitation(&sent.id).await.unwrap().state,
        InvitationState::Pending
    );
    let accepted = client.accept_invitation(&sent.id).await.unwrap();
    assert_eq!(accepted.state, InvitationState::Accepted);
    assert!(accepted.accepted_at.is_some());
    // Solo is now an admin of Acme.
    let auth = sign_in(&client, SOLO, SOLO_PASSWORD).await.unwrap();
    assert_eq!(auth.organization_id.as_deref(), Some(ACME));
    assert_eq!(claims(auth.access_token.expose())["role"], "admin");
    let again = client.resend_invitation(&sent.id).await.unwrap_err();
    assert_eq!(api_code(&again, 400), "invite_accepted");

    let other = client
        .send_invitation(&invite("later@example.com"))
        .await
        .unwrap();
    let revoked = client.revoke_invitation(&other.id).await.unwrap();
    assert_eq!(revoked.state, InvitationState::Revoked);
    let err = client.resend_invitation(&other.id).await.unwrap_err();
    assert_eq!(api_code(&err, 400), "invite_revoked");

    let third = client
        .send_invitation(&invite("slow@example.com"))
        .await
        .unwrap();
    emu.clock().advance(Duration::from_secs(8 * 86_400));
    assert_eq!(
        client.get_invitation(&third.id).await.unwrap().state,
        InvitationState::Expired
    );
    let err = client.accept_invitation(&third.id).await.unwrap_err();
    assert_eq!(api_code(&err, 400), "invite_expired");
}

#[tokio::test]
async fn invitation_errors_and_sign_in_with_an_invitation_token() {
    let emu = start().await;
    let client = emu.client();
    assert_not_found(
        &client.get_invitation("invalid").await.unwrap_err(),
        "invalid",
    );
    assert_not_found(
        &client
            .find_invitation_by_token("invalid")
            .await
            .unwrap_err(),
        "invalid",
    );
    for err in [
        client.revoke_invitation("invalid_id").await.unwrap_err(),
        client.resend_invitation("invalid_id").await.unwrap_err(),
        client.accept_invitation("invalid_id").await.unwrap_err(),
    ] {
        assert_not_found(&err, "invalid_id");
    }
    let globex = org(&emu, "Globex");
    let sent = client
        .send_invitation(&SendInvitation {
            email: ALICE.into(),
            organization_id: Some(globex.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let pick = client
        .authenticate_with_password(&AuthenticateWithPassword {
            email: ALICE.into(),
            password: ALICE_PASSWORD.into(),
            invitation_token: Some(sent.token.clone()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    // Accepting made Alice a member of a second organization.
    let Error::OrganizationSelectionRequired(choice) = pick else {
        panic!("{pick:?}")
    };
    assert_eq!(choice.organizations.len(), 2);
    assert_eq!(
        client.get_invitation(&sent.id).await.unwrap().state,
        InvitationState::Accepted
    );
}

// ---- magic auth ----

#[tokio::test]
async fn magic_auth_codes_sign_users_in_once() {
    let emu = start().await;
    let client = emu.client();
    let magic = client
        .create_magic_auth(&CreateMagicAuth {
            email: ALICE.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(magic.id.starts_with("magic_auth_"));
    assert_eq!(magic.code.len(), 6);
    assert_eq!(client.get_magic_auth(&magic.id).await.unwrap(), magic);
    assert_eq!(
        emu.last_email_to(ALICE).unwrap().secret.expose_secret(),
        magic.code.expose()
    );

    let params = AuthenticateWithMagicAuth {
        code: magic.code.clone(),
        email: ALICE.into(),
        ..Default::default()
    };
    let auth = client.authenticate_with_magic_auth(&params).await.unwrap();
    assert_eq!(auth.user.id, magic.user_id);
    assert_eq!(
        auth.authentication_method,
        Some(AuthenticationMethod::MagicAuth)
    );
    let reused = client
        .authenticate_with_magic_auth(&params)
        .await
        .unwrap_err();
    assert_oauth(&reused, OAuthErrorCode::InvalidGrant);

    let unknown = client
        .authenticate_with_magic_auth(&AuthenticateWithMagicAuth {
            code: "123456".into(),
            email: "nobody@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_not_found(&unknown, "nobody@example.com");
    assert_not_found(
        &client.get_magic_auth("invalid").await.unwrap_err(),
        "invalid",
    );

    // A code for a new address creates the user, verified once signed in.
    let fresh = client
        .create_magic_auth(&CreateMagicAuth {
            email: "newcomer@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let auth = client
        .authenticate_with_magic_auth(&AuthenticateWithMagicAuth {
            code: fresh.code,
            email: "newcomer@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(auth.user.email_verified);

    #[allow(deprecated)]
    {
        client.send_magic_auth_code(SOLO).await.unwrap();
        assert_eq!(emu.last_email_to(SOLO).unwrap().kind, EmailKind::MagicAuth);
        let empty = client.send_magic_auth_code("").await.unwrap_err();
        assert_eq!(api_code(&empty, 422), "invalid_request_parameters");
    }
}

// ---- password reset ----

#[tokio::test]
async fn password_resets_set_a_new_password_once() {
    let emu = start().await;
    let client = emu.client();
    let reset = client.create_password_reset(ALICE).await.unwrap();
    assert!(reset.id.starts_with("password_reset_"));
    assert!(
        reset
            .password_reset_url
            .ends_with(&format!("?token={}", reset.password_reset_token.expose()))
    );
    assert_eq!(client.get_password_reset(&reset.id).await.unwrap(), reset);

    let params = ResetPassword {
        token: reset.password_reset_token.clone(),
        new_password: "a-brand-new-password".into(),
    };
    let user = client.reset_password(&params).await.unwrap();
    assert_eq!(user.email, ALICE);
    sign_in(&client, ALICE, "a-brand-new-password")
        .await
        .unwrap();
    let old = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap_err();
    assert_eq!(api_code(&old, 400), "invalid_credentials");

    let reused = client.reset_password(&params).await.unwrap_err();
    assert_eq!(api_code(&reused, 404), "password_reset_token_not_found");
    assert_not_found(
        &client
            .create_password_reset("nobody@example.com")
            .await
            .unwrap_err(),
        "nobody@example.com",
    );
    assert_not_found(
        &client.get_password_reset("invalid").await.unwrap_err(),
        "invalid",
    );

    #[allow(deprecated)]
    {
        client
            .send_password_reset_email(&SendPasswordResetEmail {
                email: MULTI.into(),
                password_reset_url: "https://app.example.com/reset".into(),
            })
            .await
            .unwrap();
        let link = emu.last_email_to(MULTI).unwrap().link.unwrap();
        assert!(link.starts_with("https://app.example.com/reset?token="));
        let missing_url = client
            .send_password_reset_email(&SendPasswordResetEmail {
                email: MULTI.into(),
                password_reset_url: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(api_code(&missing_url, 422), "invalid_request_parameters");
    }
}

// ---- email verification ----

#[tokio::test]
async fn email_verification_is_sent_read_and_confirmed() {
    let emu = start().await;
    let client = emu.client();
    let unverified = user_id(&emu, UNVERIFIED);
    let user = client.send_verification_email(&unverified).await.unwrap();
    assert!(!user.email_verified);
    let code = emu.last_email_to(UNVERIFIED).unwrap().secret;

    let wrong = client
        .verify_email(&VerifyEmail {
            user_id: unverified.clone(),
            code: "000000".into(),
        })
        .await;
    if let Err(wrong) = wrong {
        assert_eq!(api_code(&wrong, 400), "email_verification_code_incorrect");
    }
    let verified = client
        .verify_email(&VerifyEmail {
            user_id: unverified.clone(),
            code: code.expose_secret().into(),
        })
        .await
        .unwrap();
    assert!(verified.email_verified);
    // Verified, the user signs in without a challenge now.
    sign_in(&client, UNVERIFIED, UNVERIFIED_PASSWORD)
        .await
        .unwrap();

    assert_not_found(
        &client.send_verification_email("bad_id").await.unwrap_err(),
        "bad_id",
    );
    assert_not_found(
        &client
            .verify_email(&VerifyEmail {
                user_id: "bad_id".into(),
                code: "1".into(),
            })
            .await
            .unwrap_err(),
        "bad_id",
    );
    assert_not_found(
        &client.get_email_verification("invalid").await.unwrap_err(),
        "invalid",
    );
}

// ---- the seven grants and their challenges ----

#[tokio::test]
async fn password_grant_signs_in_or_fails_typed() {
    let emu = start().await;
    let client = emu.client();
    let auth = client
        .authenticate_with_password(&AuthenticateWithPassword {
            email: ALICE.into(),
            password: ALICE_PASSWORD.into(),
            ip_address: Some("203.0.113.9".into()),
            user_agent: Some("emulator-test".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.email, ALICE);
    assert!(auth.user.last_sign_in_at.is_some());
    assert_eq!(auth.organization_id.as_deref(), Some(ACME));
    assert_eq!(
        auth.authentication_method,
        Some(AuthenticationMethod::Password)
    );
    assert_eq!(auth.refresh_token.len(), 25);

    let wrong = sign_in(&client, ALICE, "wrong").await.unwrap_err();
    assert_eq!(api_code(&wrong, 400), "invalid_credentials");
    let unknown = sign_in(&client, "other@blips.app", "pw").await.unwrap_err();
    assert_not_found(&unknown, "other@blips.app");
    let empty = sign_in(&client, "", "").await.unwrap_err();
    assert_eq!(api_code(&empty, 422), "invalid_request_parameters");
}

#[tokio::test]
async fn code_grant_exchanges_a_hosted_code_or_fails_invalid_grant() {
    let emu = start().await;
    let client = emu.client();
    let response = hosted_login(&emu, &authorize_url(&emu, None, "s"), ALICE, ALICE_PASSWORD).await;
    let code = location_param(&response, "code").unwrap();
    let auth = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: code.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.email, ALICE);
    let invalid = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: "invalid".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_oauth(&invalid, OAuthErrorCode::InvalidGrant);
}

#[tokio::test]
async fn refresh_grant_rotates_or_fails_invalid_grant() {
    let emu = start().await;
    let client = emu.client();
    let auth = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    let refreshed = client
        .authenticate_with_refresh_token(&AuthenticateWithRefreshToken {
            refresh_token: auth.refresh_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(refreshed.user.id, auth.user.id);
    let invalid = client
        .authenticate_with_refresh_token(&AuthenticateWithRefreshToken {
            refresh_token: "invalid".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_oauth(&invalid, OAuthErrorCode::InvalidGrant);
}

#[tokio::test]
async fn email_verification_challenge_then_grant() {
    let emu = start().await;
    let client = emu.client();
    let err = sign_in(&client, UNVERIFIED, UNVERIFIED_PASSWORD)
        .await
        .unwrap_err();
    let Error::EmailVerificationRequired(challenge) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(challenge.status, 403);
    assert_eq!(challenge.email.as_deref(), Some(UNVERIFIED));
    let verification = client
        .get_email_verification(challenge.email_verification_id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(verification.email, UNVERIFIED);

    let params = |code: Secret| AuthenticateWithEmailVerification {
        code,
        pending_authentication_token: challenge.pending_authentication_token.clone(),
        ..Default::default()
    };
    let wrong = client
        .authenticate_with_email_verification(&params("not-it".into()))
        .await
        .unwrap_err();
    assert_oauth(&wrong, OAuthErrorCode::InvalidGrant);
    let auth = client
        .authenticate_with_email_verification(&params(verification.code.clone()))
        .await
        .unwrap();
    assert!(auth.user.email_verified);
    let replay = client
        .authenticate_with_email_verification(&params(verification.code))
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&replay, 400),
        "invalid_pending_authentication_token"
    );
}

#[tokio::test]
async fn organization_selection_challenge_then_grant() {
    let emu = start().await;
    let client = emu.client();
    let globex = org(&emu, "Globex");
    let err = sign_in(&client, MULTI, MULTI_PASSWORD).await.unwrap_err();
    let Error::OrganizationSelectionRequired(choice) = &err else {
        panic!("{err:?}")
    };
    let mut names: Vec<_> = choice
        .organizations
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["Acme", "Globex"]);
    assert_eq!(choice.user.as_ref().unwrap().email, MULTI);

    let params = |org: &str| AuthenticateWithOrganizationSelection {
        organization_id: org.into(),
        pending_authentication_token: choice.pending_authentication_token.clone(),
        ..Default::default()
    };
    let outsider = client
        .authenticate_with_organization_selection(&params("invalid_org_id"))
        .await
        .unwrap_err();
    assert_not_found(&outsider, "invalid_org_id");
    let auth = client
        .authenticate_with_organization_selection(&params(&globex))
        .await
        .unwrap();
    assert_eq!(auth.organization_id.as_deref(), Some(globex.as_str()));
    let replay = client
        .authenticate_with_organization_selection(&params(&globex))
        .await
        .unwrap_err();
    assert_eq!(
        api_code(&replay, 400),
        "invalid_pending_authentication_token"
    );
}

#[tokio::test]
async fn mfa_challenge_then_totp_grant() {
    let emu = start().await;
    let client = emu.client();
    let err = sign_in(&client, MFA, MFA_PASSWORD).await.unwrap_err();
    let Error::MfaChallenge(mfa) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(mfa.status, 403);
    let challenge_id = challenge(&emu, &mfa.authentication_factors[0].id).await;
    let params = |challenge: &str, code: &str| AuthenticateWithTotp {
        code: code.into(),
        authentication_challenge_id: challenge.into(),
        pending_authentication_token: mfa.pending_authentication_token.clone(),
        ..Default::default()
    };
    let code = emu.totp_code("JBSWY3DPEHPK3PXP").unwrap();
    let unknown = client
        .authenticate_with_totp(&params("auth_challenge_nope", &code))
        .await
        .unwrap_err();
    assert_not_found(&unknown, "auth_challenge_nope");
    let auth = client
        .authenticate_with_totp(&params(&challenge_id, &code))
        .await
        .unwrap();
    assert_eq!(auth.user.email, MFA);
}

#[tokio::test]
async fn mfa_enrollment_is_a_typed_challenge() {
    let emu = start().await;
    let err = sign_in(&emu.client(), ENROLL, ENROLL_PASSWORD)
        .await
        .unwrap_err();
    let Error::MfaEnrollment(enrollment) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(enrollment.user.as_ref().unwrap().email, ENROLL);
    assert_eq!(err.code(), Some("mfa_enrollment"));
}

#[tokio::test]
async fn a_wrong_api_key_or_client_secret_is_401() {
    let emu = start().await;
    let with = |key: &str, client_id: &str| {
        UserManagement::builder(key, client_id)
            .with_base_url(emu.base_url())
            .with_retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    };
    let wrong_key = with("sk_test_wrong", emu.client_id());
    let err = wrong_key.get_user(&user_id(&emu, ALICE)).await.unwrap_err();
    assert_eq!(err.status().unwrap().as_u16(), 401);
    assert!(
        matches!(&err, Error::Api(api) if api.message == "Unauthorized"),
        "{err:?}"
    );
    let err = sign_in(&wrong_key, ALICE, ALICE_PASSWORD)
        .await
        .unwrap_err();
    assert_oauth(&err, OAuthErrorCode::InvalidClient);
    assert_eq!(err.status().unwrap().as_u16(), 401);

    let other_client = with(emu.api_key(), "client_other");
    let err = sign_in(&other_client, ALICE, ALICE_PASSWORD)
        .await
        .unwrap_err();
    assert_oauth(&err, OAuthErrorCode::InvalidClient);
}

// ---- sessions ----

#[tokio::test]
async fn sessions_are_listed_and_revoked() {
    let emu = start().await;
    let client = emu.client();
    let first = client
        .authenticate_with_password(&AuthenticateWithPassword {
            email: ALICE.into(),
            password: ALICE_PASSWORD.into(),
            ip_address: Some("198.51.100.7".into()),
            user_agent: Some("Firefox".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    let listed = client
        .list_sessions(&ListSessions::new(first.user.id.clone()))
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 2);
    let oldest = listed.data.last().unwrap();
    assert!(oldest.id.starts_with("session_"));
    assert_eq!(oldest.status, SessionStatus::Active);
    assert_eq!(oldest.ip_address.as_deref(), Some("198.51.100.7"));
    assert_eq!(oldest.user_agent.as_deref(), Some("Firefox"));
    assert_eq!(oldest.organization_id.as_deref(), Some(ACME));

    client.revoke_session(&oldest.id).await.unwrap();
    let streamed: Vec<_> = client
        .list_sessions_stream(ListSessions::new(first.user.id.clone()))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        streamed
            .iter()
            .filter(|s| s.status == SessionStatus::Revoked)
            .count(),
        1
    );

    assert_not_found(
        &client.revoke_session("session_missing").await.unwrap_err(),
        "session_missing",
    );
    assert_not_found(
        &client
            .list_sessions(&ListSessions::new("user_missing"))
            .await
            .unwrap_err(),
        "user_missing",
    );
}

// ---- authentication factors ----

#[tokio::test]
async fn auth_factors_are_enrolled_and_listed() {
    let emu = start().await;
    let client = emu.client();
    let solo = user_id(&emu, SOLO);
    let enrolled = client
        .enroll_auth_factor(&EnrollAuthFactor {
            totp_issuer: Some("Foo Corp".into()),
            ..EnrollAuthFactor::totp(solo.clone())
        })
        .await
        .unwrap();
    let factor = &enrolled.authentication_factor;
    assert!(factor.id.starts_with("auth_factor_"));
    let totp = factor.totp.as_ref().unwrap();
    assert_eq!(totp.issuer.as_deref(), Some("Foo Corp"));
    assert_eq!(totp.user.as_deref(), Some(SOLO));
    assert_eq!(totp.secret.as_ref().unwrap().len(), 32);
    assert_eq!(
        enrolled.authentication_challenge.authentication_factor_id,
        factor.id
    );

    let listed = client
        .list_auth_factors(&ListAuthFactors::new(solo.clone()))
        .await
        .unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].id, factor.id);
    assert!(
        listed.data[0].totp.as_ref().unwrap().secret.is_none(),
        "no secret in lists"
    );
    let streamed: Vec<_> = client
        .list_auth_factors_stream(ListAuthFactors::new(solo))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 1);

    assert_not_found(
        &client
            .enroll_auth_factor(&EnrollAuthFactor::totp("user_missing"))
            .await
            .unwrap_err(),
        "user_missing",
    );
    assert_not_found(
        &client
            .list_auth_factors(&ListAuthFactors::new("user_missing"))
            .await
            .unwrap_err(),
        "user_missing",
    );
}

// ---- URLs and keys ----

#[tokio::test]
async fn urls_point_at_the_emulator_and_the_jwks_has_its_key() {
    let emu = start().await;
    let client = emu.client();
    assert_eq!(
        client.get_jwks_url(),
        format!("{}/sso/jwks/{}", emu.base_url(), emu.client_id())
    );
    let jwks = client.get_jwks().await.unwrap();
    assert_eq!(jwks.keys.len(), 1);
    let raw: serde_json::Value = reqwest::get(client.get_jwks_url())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &raw["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["e"], "AQAB");
    assert!(key["n"].as_str().unwrap().len() > 300, "2048-bit modulus");
    let token = sign_in(&client, ALICE, ALICE_PASSWORD).await.unwrap();
    let header = jsonwebtoken::decode_header(token.access_token.expose()).unwrap();
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());

    let other = reqwest::get(format!("{}/sso/jwks/client_other", emu.base_url()))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let stranger = UserManagement::builder(emu.api_key(), "client_other")
        .with_base_url(emu.base_url())
        .build()
        .unwrap();
    assert_not_found(&stranger.get_jwks().await.unwrap_err(), "client_other");
    assert!(
        client
            .get_logout_url("session_1", Some("http://localhost/x"))
            .starts_with(&format!(
                "{}/user_management/sessions/logout?",
                emu.base_url()
            ))
    );
}

#[tokio::test]
async fn seeds_are_checked_at_start() {
    let seed = Seed::new()
        .with_user(SeedUser::new("dup@example.com", "pw"))
        .with_user(SeedUser::new("DUP@example.com", "pw"));
    let err = Emulator::builder()
        .with_seed(seed)
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("duplicate user"), "{err}");
    let err = Emulator::builder()
        .with_seed(
            Seed::new().with_membership(authkit_axum::emulator::SeedMembership::new(
                "ghost@example.com",
                "Acme",
                "admin",
            )),
        )
        .start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown user"), "{err}");
    let demo = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    sign_in(
        &demo.client(),
        "demo@example.com",
        authkit_axum::emulator::DEMO_PASSWORD,
    )
    .await
    .unwrap();
}
