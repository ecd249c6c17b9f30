//! The rest of workos-node's and workos-ruby's user management: public
//! clients (PKCE without the API key), identities, email change, the groups
//! of a membership, the invitation locale and `User::name`.
//!
//! No WorkOS recording exists for these endpoints; each test says which
//! documented shape it follows: workos-ruby's `UserManagement`
//! (`get_user_identities`, `send_email_change`, `confirm_email_change`,
//! `authenticate_with_code_pkce`, `resend_invitation(locale:)`) and
//! workos-node's (`getUserIdentities` and its `identity.json` fixture,
//! `listGroupsForOrganizationMembership` and `groups/fixtures/list-groups.json`,
//! `authenticateWithCode` / `authenticateWithRefreshToken` for public
//! clients with `skipApiKeyCheck`).

use crate::support::emulator::*;
use crate::support::recording::{API_KEY, CLIENT_ID, MockServer, Recorded};
use authkit_axum::Secret;
use authkit_axum::client::{
    AuthenticateWithCode, AuthenticateWithRefreshToken, AuthorizationUrl, Error, IdentityType,
    ListGroupsForOrganizationMembership, ListOrganizationMemberships, ListUsers, OAuthErrorCode,
    Pkce, Provider, SendInvitation, User, UserManagement,
};
use authkit_axum::emulator::{
    EmailKind, Emulator, EmulatorExt, ExposeSecret, SeedGroup, SeedIdentity, SeedUser,
};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

const AUTHENTICATE: &str = "/user_management/authenticate";
const LINKED: &str = "linked@example.com";

fn public_client(base_url: &str, client_id: &str) -> UserManagement {
    UserManagement::public_builder(client_id)
        .with_base_url(base_url)
        .build()
        .unwrap()
}

/// The emulator's test seed plus a user with two linked OAuth accounts and
/// two groups in Acme.
async fn start_with_profiles() -> Emulator {
    let seed = seed()
        .with_user(SeedUser {
            identities: vec![
                SeedIdentity::new("GitHubOAuth", "108872335"),
                SeedIdentity::new("GoogleOAuth", "111966195055680542408"),
            ],
            ..SeedUser::new(LINKED, "linked-password")
        })
        .with_group(SeedGroup::new("Acme", "Engineering", [ALICE, MULTI]))
        .with_group(SeedGroup::new("Acme", "Admins", [ALICE]));
    Emulator::builder()
        .with_seed(seed)
        .start()
        .await
        .expect("the emulator starts")
}

fn assert_no_api_key(r: &Recorded) {
    assert_eq!(r.header("authorization"), None, "{} {}", r.method, r.path);
}

// ---------------------------------------------------------------------------
// Public clients: the requests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_public_code_exchange_sends_the_verifier_and_neither_secret_nor_authorization() {
    // workos-ruby's authenticate_with_code_pkce: auth: false, body without client_secret.
    let server = MockServer::start().await;
    server.reply_json(
        400,
        json!({"error": "invalid_grant", "error_description": "no"}),
    );
    let client = public_client(&server.base_url, CLIENT_ID);
    let err = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: "01HCODE".into(),
            code_verifier: Some("the-verifier".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OAuth(_)), "{err:?}");
    let r = server.single_request();
    assert_no_api_key(&r);
    assert_eq!(
        r.body,
        Some(
            json!({"client_id": CLIENT_ID, "grant_type": "authorization_code",
                    "code": "01HCODE", "code_verifier": "the-verifier"})
        )
    );
}

#[tokio::test]
async fn a_confidential_code_exchange_with_a_verifier_still_sends_the_secret() {
    let server = MockServer::start().await;
    server.reply_json(
        400,
        json!({"error": "invalid_grant", "error_description": "no"}),
    );
    let _ = server
        .client()
        .authenticate_with_code(&AuthenticateWithCode {
            code: "01HCODE".into(),
            code_verifier: Some("the-verifier".into()),
            ..Default::default()
        })
        .await;
    let r = server.single_request();
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(r.body.unwrap()["client_secret"], API_KEY);
}

#[tokio::test]
async fn a_public_refresh_and_jwks_fetch_send_no_api_key() {
    // workos-node: authenticateWithRefreshToken's public-client body, getJWKS.
    let server = MockServer::start().await;
    server.reply_json(
        400,
        json!({"error": "invalid_grant", "error_description": "no"}),
    );
    server.reply_json(200, json!({"keys": []}));
    let client = public_client(&server.base_url, CLIENT_ID);
    let _ = client
        .authenticate_with_refresh_token(&AuthenticateWithRefreshToken {
            refresh_token: "rt".into(),
            ..Default::default()
        })
        .await;
    assert!(client.get_jwks().await.unwrap().keys.is_empty());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    requests.iter().for_each(assert_no_api_key);
    assert_eq!(
        requests[0].body,
        Some(json!({"client_id": CLIENT_ID, "grant_type": "refresh_token", "refresh_token": "rt"}))
    );
    assert_eq!(requests[1].path, format!("/sso/jwks/{CLIENT_ID}"));
}

#[tokio::test]
async fn a_public_client_refuses_calls_that_need_the_key_without_sending_anything() {
    let server = MockServer::start().await;
    let client = public_client(&server.base_url, CLIENT_ID);
    let err = client.list_users(&ListUsers::default()).await.unwrap_err();
    let Error::MissingApiKey { call } = &err else {
        panic!("expected MissingApiKey, got {err:?}")
    };
    assert_eq!(call, "GET /user_management/users");
    assert!(err.to_string().contains("WORKOS_API_KEY"), "{err}");
    assert!(!err.is_transient());
    let err = client
        .authenticate_with_password(&Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MissingApiKey { .. }), "{err:?}");
    // A code exchange with no verifier is a confidential client's: refused too.
    let err = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: "c".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingApiKey { call } if call.contains("code_verifier")),
        "{err:?}"
    );
    let err = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: "c".into(),
            code_verifier: Some(" ".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.requests().is_empty(), "{:#?}", server.requests());
}

// ---------------------------------------------------------------------------
// Public clients: end to end against the emulator
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_public_client_signs_in_with_pkce_and_refreshes_with_no_api_key_in_any_request() {
    let emu = start().await;
    let client = public_client(emu.base_url(), emu.client_id());
    let start = client
        .authorization_url_with_pkce(&AuthorizationUrl {
            redirect_uri: CALLBACK.into(),
            provider: Some(Provider::AuthKit),
            ..Default::default()
        })
        .unwrap();
    let keys = client.get_jwks().await.unwrap();
    assert!(!keys.keys.is_empty());
    let redirect = hosted_login(&emu, &start.url, ALICE, ALICE_PASSWORD).await;
    assert_eq!(
        location_param(&redirect, "state").as_deref(),
        Some(start.state.as_str())
    );
    let code = location_param(&redirect, "code").expect("a code");
    let auth = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: code.into(),
            code_verifier: Some(start.code_verifier.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.email, ALICE);
    let refreshed = client
        .authenticate_with_refresh_token(&AuthenticateWithRefreshToken {
            refresh_token: auth.refresh_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(refreshed.user.id, auth.user.id);
    assert_ne!(refreshed.refresh_token, auth.refresh_token);
    // The emulator saw the exchange, the refresh and the JWKS fetch, none
    // of them with an Authorization header.
    let jwks = format!("/sso/jwks/{}", emu.client_id());
    assert_eq!(emu.grant_count("authorization_code"), 1);
    assert_eq!(emu.grant_count("refresh_token"), 1);
    assert_eq!(emu.request_count(&jwks), 1);
    assert_eq!(emu.authorized_request_count(AUTHENTICATE), 0);
    assert_eq!(emu.authorized_request_count(&jwks), 0);
    // …and nothing at all for a call that needs the key.
    assert!(matches!(
        client.get_user(&auth.user.id).await,
        Err(Error::MissingApiKey { .. })
    ));
    assert_eq!(
        emu.request_count(&format!("/user_management/users/{}", auth.user.id)),
        0
    );
}

#[tokio::test]
async fn the_emulator_refuses_a_public_exchange_with_a_wrong_verifier_or_of_a_code_without_challenge()
 {
    let emu = start().await;
    let client = public_client(emu.base_url(), emu.client_id());
    let start = client
        .authorization_url_with_pkce(&AuthorizationUrl {
            redirect_uri: CALLBACK.into(),
            provider: Some(Provider::AuthKit),
            ..Default::default()
        })
        .unwrap();
    let redirect = hosted_login(&emu, &start.url, ALICE, ALICE_PASSWORD).await;
    let code = location_param(&redirect, "code").unwrap();
    let wrong = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: code.into(),
            code_verifier: Some(Pkce::new().code_verifier),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&wrong, Error::OAuth(o) if o.error == OAuthErrorCode::InvalidGrant),
        "{wrong:?}"
    );
    // A code the flow made without a challenge is a confidential client's:
    // a public client cannot spend it, whatever verifier it makes up.
    let plain = hosted_login(&emu, &authorize_url(&emu, None, "s"), ALICE, ALICE_PASSWORD).await;
    let code = location_param(&plain, "code").unwrap();
    let refused = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: code.into(),
            code_verifier: Some(Pkce::new().code_verifier),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, Error::OAuth(o) if o.status == 401),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_public_client_cannot_refresh_a_confidential_clients_session() {
    let emu = start().await;
    let auth = sign_in(&emu.client(), ALICE, ALICE_PASSWORD).await.unwrap();
    let err = public_client(emu.base_url(), emu.client_id())
        .authenticate_with_refresh_token(&AuthenticateWithRefreshToken {
            refresh_token: auth.refresh_token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OAuth(o) if o.status == 401),
        "{err:?}"
    );
    // The confidential sign-in carried the key; the public refresh did not.
    assert_eq!(emu.request_count(AUTHENTICATE), 2);
    assert_eq!(emu.authorized_request_count(AUTHENTICATE), 1);
}

// ---------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_user_identities_reads_the_sdks_array_of_identities() {
    // workos-node src/user-management/fixtures/identity.json, verbatim.
    let server = MockServer::start().await;
    server.reply_json(
        200,
        json!([{"idp_id": "108872335", "type": "OAuth", "provider": "GithubOAuth"},
               {"idp_id": "111966195055680542408", "type": "OAuth", "provider": "GoogleOAuth"}]),
    );
    let ids = server.client().get_user_identities("user_1").await.unwrap();
    let r = server.single_request();
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("GET", "/user_management/users/user_1/identities")
    );
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0].provider, "GithubOAuth");
    assert_eq!(ids[1].idp_id, "111966195055680542408");
    assert!(ids.iter().all(|i| i.kind == IdentityType::OAuth));
}

#[tokio::test]
async fn the_emulator_lists_a_users_linked_identities_and_404s_an_unknown_user() {
    let emu = start_with_profiles().await;
    let client = emu.client();
    let linked = client
        .get_user_identities(&user_id(&emu, LINKED))
        .await
        .unwrap();
    let providers: Vec<&str> = linked.iter().map(|i| i.provider.as_str()).collect();
    assert_eq!(providers, ["GitHubOAuth", "GoogleOAuth"]);
    assert_eq!(linked[0].idp_id, "108872335");
    let none = client
        .get_user_identities(&user_id(&emu, ALICE))
        .await
        .unwrap();
    assert!(none.is_empty());
    let err = client
        .get_user_identities("user_unknown")
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
}

// ---------------------------------------------------------------------------
// Email change
// ---------------------------------------------------------------------------

#[tokio::test]
async fn email_change_calls_send_the_new_address_then_the_code() {
    // workos-ruby send_email_change / confirm_email_change: paths and bodies.
    let user = json!({"object": "user", "id": "user_1", "email": "new@example.com",
                      "email_verified": true, "created_at": "t", "updated_at": "t"});
    let server = MockServer::start().await;
    server.reply_json(
        200,
        json!({"object": "email_change", "user": user, "new_email": "new@example.com",
               "expires_at": "2026-01-01T00:10:00.000Z", "created_at": "2026-01-01T00:00:00.000Z"}),
    );
    server.reply_json(
        200,
        json!({"object": "email_change_confirmation", "user": user}),
    );
    let client = server.client();
    let change = client
        .send_email_change("user_1", "new@example.com")
        .await
        .unwrap();
    assert_eq!(change.new_email, "new@example.com");
    let confirmed = client
        .confirm_email_change("user_1", &Secret::from("123456"))
        .await
        .unwrap();
    assert_eq!(confirmed.user.email, "new@example.com");
    let requests = server.requests();
    assert_eq!(
        requests[0].path,
        "/user_management/users/user_1/email_change/send"
    );
    assert_eq!(
        requests[0].body,
        Some(json!({"new_email": "new@example.com"}))
    );
    assert_eq!(
        requests[1].path,
        "/user_management/users/user_1/email_change/confirm"
    );
    assert_eq!(requests[1].body, Some(json!({"code": "123456"})));
}

#[tokio::test]
async fn an_email_change_takes_effect_only_with_the_code_sent_to_the_new_address() {
    let emu = start().await;
    let client = emu.client();
    let alice = user_id(&emu, ALICE);
    let new = "alice.new@example.com";
    let change = client.send_email_change(&alice, new).await.unwrap();
    assert_eq!(change.new_email, new);
    assert_eq!(
        change.user.email, ALICE,
        "the old address stands until confirmed"
    );
    assert_eq!(client.get_user(&alice).await.unwrap().email, ALICE);
    let email = emu.last_email_to(new).expect("a code to the new address");
    assert_eq!(email.kind, EmailKind::EmailChange);
    let code = email.secret.expose_secret().to_owned();
    let wrong = client
        .confirm_email_change(&alice, &Secret::from("000000"))
        .await
        .unwrap_err();
    assert_eq!(
        wrong.code(),
        Some("email_change_code_incorrect"),
        "{wrong:?}"
    );
    assert_eq!(wrong.status().map(|s| s.as_u16()), Some(400));
    let confirmed = client
        .confirm_email_change(&alice, &Secret::from(code.as_str()))
        .await
        .unwrap();
    assert_eq!(confirmed.user.email, new);
    assert!(confirmed.user.email_verified);
    assert_eq!(client.get_user(&alice).await.unwrap().email, new);
    // The new address signs in; a code works once.
    sign_in(&client, new, ALICE_PASSWORD).await.unwrap();
    let again = client
        .confirm_email_change(&alice, &Secret::from(code.as_str()))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("email_change_code_incorrect"));
}

#[tokio::test]
async fn an_email_change_to_a_taken_or_malformed_address_is_a_422() {
    let emu = start().await;
    let client = emu.client();
    let alice = user_id(&emu, ALICE);
    // As create_user's and update_user's: 422 with the field error inside.
    let taken = client.send_email_change(&alice, MULTI).await.unwrap_err();
    let Error::Api(api) = &taken else {
        panic!("expected an API error, got {taken:?}")
    };
    assert_eq!(api.status, 422);
    assert_eq!(api.errors[0].code.as_deref(), Some("email_not_available"));
    let malformed = client
        .send_email_change(&alice, "not-an-address")
        .await
        .unwrap_err();
    assert_eq!(
        malformed.status().map(|s| s.as_u16()),
        Some(422),
        "{malformed:?}"
    );
    assert!(emu.last_email_to(MULTI).is_none());
}

// ---------------------------------------------------------------------------
// Groups of a membership
// ---------------------------------------------------------------------------

#[tokio::test]
async fn groups_of_a_membership_are_listed_with_the_sdks_shape_and_cursors() {
    // workos-node src/groups/fixtures/list-groups.json.
    let server = MockServer::start().await;
    server.reply_json(
        200,
        json!({"object": "list", "data": [
            {"object": "group", "id": "group_01HXYZ123456789ABCDEFGHIJ",
             "organization_id": "org_01EHT88Z8J8795GZNQ4ZP1J81T", "name": "Engineering",
             "description": "The engineering team",
             "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"},
            {"object": "group", "id": "group_01HXYZ123456789ABCDEFGHIK",
             "organization_id": "org_01EHT88Z8J8795GZNQ4ZP1J81T", "name": "Sales",
             "description": null,
             "created_at": "2026-01-02T00:00:00.000Z", "updated_at": "2026-01-02T00:00:00.000Z"}],
            "list_metadata": {"before": null, "after": "group_01HXYZ123456789ABCDEFGHIK"}}),
    );
    let mut params = ListGroupsForOrganizationMembership::new("om_1");
    params.pagination.limit = Some(2);
    let page = server
        .client()
        .list_groups_for_organization_membership(&params)
        .await
        .unwrap();
    let r = server.single_request();
    assert_eq!(
        r.path,
        "/user_management/organization_memberships/om_1/groups"
    );
    assert_eq!(r.query.get("limit").map(String::as_str), Some("2"));
    assert_eq!(page.data[1].description, None);
    assert_eq!(
        page.list_metadata.after.as_deref(),
        Some("group_01HXYZ123456789ABCDEFGHIK")
    );
}

#[tokio::test]
async fn the_emulator_lists_only_the_groups_a_membership_is_in_across_pages() {
    let emu = start_with_profiles().await;
    let client = emu.client();
    let membership = |email: &str| {
        let client = client.clone();
        let user = user_id(&emu, email);
        async move {
            client
                .list_organization_memberships(&ListOrganizationMemberships {
                    user_id: Some(user),
                    organization_id: Some(ACME.into()),
                    ..Default::default()
                })
                .await
                .unwrap()
                .data
                .remove(0)
                .id
        }
    };
    let alice = membership(ALICE).await;
    let mut one_a_page = ListGroupsForOrganizationMembership::new(alice.clone());
    one_a_page.pagination.limit = Some(1);
    let mut names: Vec<String> = client
        .list_groups_for_organization_membership_stream(one_a_page)
        .map_ok(|g| g.name)
        .try_collect()
        .await
        .unwrap();
    names.sort();
    assert_eq!(names, ["Admins", "Engineering"]);
    let multi = membership(MULTI).await;
    let groups = client
        .list_groups_for_organization_membership(&ListGroupsForOrganizationMembership::new(multi))
        .await
        .unwrap();
    assert_eq!(groups.data.len(), 1);
    assert_eq!(groups.data[0].name, "Engineering");
    assert_eq!(groups.data[0].organization_id, ACME);
    let err = client
        .list_groups_for_organization_membership(&ListGroupsForOrganizationMembership::new(
            "om_unknown",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
}

// ---------------------------------------------------------------------------
// Invitation locale
// ---------------------------------------------------------------------------

#[tokio::test]
async fn resend_with_a_locale_sends_it_in_the_body() {
    // workos-ruby resend_invitation(id:, locale:).
    let fx = crate::support::recording::Fixture::load("resend_invitation__valid");
    let server = MockServer::start().await;
    server.reply_json(200, fx.response_body);
    server
        .client()
        .resend_invitation_with_locale("invitation_1", "de")
        .await
        .unwrap();
    let r = server.single_request();
    assert_eq!(r.path, "/user_management/invitations/invitation_1/resend");
    assert_eq!(r.body, Some(json!({"locale": "de"})));
}

#[tokio::test]
async fn the_invitation_email_is_written_in_the_locale_asked_for_and_resent_in_it() {
    let emu = start().await;
    let client = emu.client();
    let invitation = client
        .send_invitation(&SendInvitation {
            email: "invitee@example.com".into(),
            locale: Some("fr".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let sent = emu.last_email_to("invitee@example.com").unwrap();
    assert_eq!(
        (sent.kind, sent.locale.as_deref()),
        (EmailKind::Invitation, Some("fr"))
    );
    client.resend_invitation(&invitation.id).await.unwrap();
    assert_eq!(
        emu.last_email_to("invitee@example.com")
            .unwrap()
            .locale
            .as_deref(),
        Some("fr")
    );
    client
        .resend_invitation_with_locale(&invitation.id, "de")
        .await
        .unwrap();
    assert_eq!(
        emu.last_email_to("invitee@example.com")
            .unwrap()
            .locale
            .as_deref(),
        Some("de")
    );
}

// ---------------------------------------------------------------------------
// User::name
// ---------------------------------------------------------------------------

#[test]
fn a_users_name_is_workos_name_if_sent_else_first_and_last() {
    let user = |extra: Value| -> User {
        let mut json = json!({"object": "user", "id": "user_1", "email": "a@b.c",
            "first_name": "Ada", "last_name": "Lovelace", "created_at": "t", "updated_at": "t"});
        json.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(json).unwrap()
    };
    assert_eq!(user(json!({})).name().as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        user(json!({"name": "Countess of Lovelace"}))
            .name()
            .as_deref(),
        Some("Countess of Lovelace")
    );
    assert_eq!(
        user(json!({"first_name": null, "last_name": null})).name(),
        None
    );
}
