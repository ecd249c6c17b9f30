//! The exact request every `UserManagement` method sends (method, path,
//! query, JSON body, headers), and how every recorded WorkOS answer in
//! `tests/fixtures/workos-recorded/` is read back: the right type, or the
//! right error variant with its details.
//!
//! The recordings were made by the Ruby SDK. Where a recorded request body
//! carries explicit nulls, we compare after dropping them (this crate leaves
//! unset fields out); every other difference is spelled out in the test.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::future::Future;

use crate::support::recording::{API_KEY, CLIENT_ID, Canned, Fixture, MockServer, Recorded};
use authkit_axum::client::{
    ApiError, AuthenticateWithCode, AuthenticateWithEmailVerification, AuthenticateWithMagicAuth,
    AuthenticateWithOrganizationSelection, AuthenticateWithPassword, AuthenticateWithRefreshToken,
    AuthenticateWithTotp, AuthenticationFactorType, AuthenticationResponse, AuthorizationUrl,
    CreateMagicAuth, CreateOrganizationMembership, CreateUser, EnrollAuthFactor, Error, FieldError,
    Invitation, InvitationState, List, ListAuthFactors, ListInvitations,
    ListOrganizationMemberships, ListSessions, ListUsers, OAuthError, OAuthErrorCode, Order,
    OrganizationMembershipStatus, PaginationParams, PasswordHashType, Provider, ResetPassword,
    ScreenHint, SendInvitation, SendPasswordResetEmail, SessionAuthMethod, SessionStatus,
    UpdateOrganizationMembership, UpdateUser, User, UserManagement, VerifyEmail,
};
use serde_json::{Value, json};

/// The client address and agent the recordings were made with.
const IP: &str = "200.240.210.16";
const UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Chrome/108.0.0.0 Safari/537.36";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Asserts one request exactly: method, path, the whole query, the whole JSON
/// body (`None`: no body at all) and the headers every call carries.
fn assert_request(
    r: &Recorded,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    body: Option<Value>,
) {
    assert_eq!(r.method.as_str(), method, "method of {path}");
    assert_eq!(r.path, path, "path");
    let want: BTreeMap<String, String> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(r.query, want, "query of {method} {path}");
    let pairs = r
        .raw_query
        .as_deref()
        .map_or(0, |q| url::form_urlencoded::parse(q.as_bytes()).count());
    assert_eq!(pairs, want.len(), "repeated query keys: {:?}", r.raw_query);
    assert_eq!(r.body, body, "body of {method} {path}");
    let bearer = format!("Bearer {API_KEY}");
    assert_eq!(r.header("authorization"), Some(bearer.as_str()));
    let agent = r.header("user-agent").unwrap_or_default();
    assert!(agent.starts_with("authkit-axum/"), "user-agent {agent:?}");
    if r.body.is_some() {
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

/// Drops explicit nulls (at every depth) and fills in the `<API_KEY>` placeholder.
fn normalise(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normalise(v)))
                .collect(),
        ),
        Value::String(s) if s == "<API_KEY>" => Value::String(API_KEY.to_owned()),
        other => other,
    }
}

/// The body the Ruby SDK recorded, normalised; `None` for no body.
fn recorded_body(fx: &Fixture) -> Option<Value> {
    match &fx.request_body {
        Value::Null => None,
        Value::String(s) => panic!("{}: the recorded body is a string: {s}", fx.name),
        other => Some(normalise(other.clone())),
    }
}

/// Asserts the request is the one the fixture recorded (explicit nulls dropped).
fn assert_as_recorded(r: &Recorded, fx: &Fixture) {
    let query: Vec<(&str, &str)> = fx
        .request_query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_request(
        r,
        &fx.request_method,
        &fx.request_path,
        &query,
        recorded_body(fx),
    );
}

/// Serves `name`'s recorded answer to one call made with the default test
/// client; returns the call's result, the one request it sent and the fixture.
async fn replay<T, F, Fut>(name: &str, call: F) -> (Result<T, Error>, Recorded, Fixture)
where
    F: FnOnce(UserManagement) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    replay_as(name, CLIENT_ID, call).await
}

/// [`replay`] with a client of another client id (some recordings used one).
async fn replay_as<T, F, Fut>(
    name: &str,
    client_id: &str,
    call: F,
) -> (Result<T, Error>, Recorded, Fixture)
where
    F: FnOnce(UserManagement) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let server = MockServer::start().await;
    let fx = server.replay(name);
    let client = if client_id == CLIENT_ID {
        server.client()
    } else {
        UserManagement::builder(API_KEY, client_id)
            .with_base_url(&server.base_url)
            .build()
            .unwrap()
    };
    let result = call(client).await;
    (result, server.single_request(), fx)
}

/// Answers one call with `status` and `body`; returns the result and the request.
async fn answer<T, F, Fut>(status: u16, body: Value, call: F) -> (Result<T, Error>, Recorded)
where
    F: FnOnce(UserManagement) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    let server = MockServer::start().await;
    server.reply_json(status, body);
    let result = call(server.client()).await;
    (result, server.single_request())
}

/// Asserts `result` is the `Error::Api` the fixture's answer describes.
fn expect_api_error<T: Debug>(fx: &Fixture, result: Result<T, Error>) -> ApiError {
    let e = match result {
        Err(Error::Api(e)) => *e,
        other => panic!("{}: expected Error::Api, got {other:?}", fx.name),
    };
    let b = &fx.response_body;
    let errors: Vec<FieldError> = serde_json::from_value(b["errors"].clone()).unwrap_or_default();
    let expected = (
        fx.response_status,
        b["code"].as_str().map(str::to_owned),
        b["message"].as_str().unwrap().to_owned(),
        errors,
        b["entity_id"].as_str().map(str::to_owned),
        fx.request_id.clone(),
    );
    assert_eq!(
        (
            e.status,
            e.code.clone(),
            e.message.clone(),
            e.errors.clone(),
            e.entity_id.clone(),
            e.request_id.clone(),
        ),
        expected,
        "{}",
        fx.name
    );
    assert!(fx.request_id.is_some(), "{} has no x-request-id", fx.name);
    e
}

/// Asserts `result` is the `invalid_grant` OAuth error the fixture's answer describes.
fn expect_invalid_grant<T: Debug>(fx: &Fixture, result: Result<T, Error>) -> OAuthError {
    let e = match result {
        Err(Error::OAuth(e)) => *e,
        other => panic!("{}: expected Error::OAuth, got {other:?}", fx.name),
    };
    assert_eq!(
        e,
        OAuthError {
            status: 400,
            error: OAuthErrorCode::InvalidGrant,
            description: fx.response_body["error_description"]
                .as_str()
                .map(str::to_owned),
            request_id: fx.request_id.clone(),
            retry_after: None,
        },
        "{}",
        fx.name
    );
    e
}

/// An authenticate body: the client credentials and grant type, plus `fields`.
fn grant(grant_type: &str, fields: Value) -> Value {
    grant_as(CLIENT_ID, grant_type, fields)
}

fn grant_as(client_id: &str, grant_type: &str, fields: Value) -> Value {
    let mut body =
        json!({"client_id": client_id, "client_secret": API_KEY, "grant_type": grant_type});
    let Value::Object(fields) = fields else {
        panic!("fields must be an object")
    };
    body.as_object_mut().unwrap().extend(fields);
    body
}

/// Asserts a successful authentication carries the recorded user and tokens.
fn assert_authenticated(
    result: Result<AuthenticationResponse, Error>,
    user_id: &str,
) -> AuthenticationResponse {
    let auth = result.unwrap();
    assert_eq!(auth.user.id, user_id);
    assert_eq!(auth.access_token.expose(), "<ACCESS_TOKEN>");
    assert_eq!(auth.refresh_token.expose(), "<REFRESH_TOKEN>");
    auth
}

fn ids<T>(list: &List<T>, id: impl Fn(&T) -> &str) -> Vec<String> {
    list.data.iter().map(|x| id(x).to_owned()).collect()
}

fn user_json(id: &str) -> Value {
    json!({"object": "user", "id": id, "email": "a@example.com", "email_verified": true,
           "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
}

fn membership_json(id: &str) -> Value {
    json!({"object": "organization_membership", "id": id, "user_id": "user_1",
           "organization_id": "org_1", "status": "active", "role": {"slug": "admin"},
           "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
}

fn empty_list() -> Value {
    json!({"object": "list", "data": [], "list_metadata": {"before": null, "after": null}})
}

/// A client that talks to nobody: for the URL builders.
fn offline_client() -> UserManagement {
    UserManagement::builder(API_KEY, CLIENT_ID).build().unwrap()
}

// ---------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_user_sends_only_the_fields_that_are_set() {
    let params = CreateUser {
        first_name: Some("Foo".into()),
        last_name: Some("Bar".into()),
        email_verified: Some(true),
        ..CreateUser::new("foo@example.com")
    };
    let (result, req, fx) = replay("create_user_valid", |c| async move {
        c.create_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users",
        &[],
        Some(
            json!({"email": "foo@example.com", "first_name": "Foo", "last_name": "Bar", "email_verified": true}),
        ),
    );
    assert_as_recorded(&req, &fx);
    let user = result.unwrap();
    assert_eq!(user.id, "user_01H81XWBPCV7Y9Q3DHCZHZ9SF8");
    assert_eq!(user.first_name.as_deref(), Some("Foo"));
}

#[tokio::test]
async fn create_user_sends_the_external_id() {
    let params = CreateUser {
        first_name: Some("External".into()),
        last_name: Some("User".into()),
        external_id: Some("ext_user_123".into()),
        ..CreateUser::new("external@example.com")
    };
    let (result, req, fx) = replay("create_user_with_external_id", |c| async move {
        c.create_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users",
        &[],
        Some(
            json!({"email": "external@example.com", "first_name": "External", "last_name": "User",
                    "external_id": "ext_user_123"}),
        ),
    );
    assert_as_recorded(&req, &fx);
    let user = result.unwrap();
    assert_eq!(user.id, "user_01K0SR53HJ58M957MYAB6TDZ9X");
    assert_eq!(user.external_id.as_deref(), Some("ext_user_123"));
}

#[tokio::test]
async fn create_user_validation_failure_is_an_api_error_with_field_errors() {
    let params = CreateUser::new("");
    let (result, req, fx) = replay("create_user_invalid", |c| async move {
        c.create_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users",
        &[],
        Some(json!({"email": ""})),
    );
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(e.status, 422);
    assert_eq!(e.code.as_deref(), Some("invalid_request_parameters"));
    assert_eq!(e.errors[0].code.as_deref(), Some("email_string_required"));
    assert_eq!(
        e.request_id.as_deref(),
        Some("2613d428-dfcc-4a40-8a32-d8b5634ad25e")
    );
}

#[tokio::test]
async fn create_user_sends_password_hash_and_metadata() {
    let params = CreateUser {
        password: Some("pw-123".into()),
        password_hash: Some("$2b$10$hash".into()),
        password_hash_type: Some(PasswordHashType::Bcrypt),
        metadata: Some(HashMap::from([("plan".to_owned(), "pro".to_owned())])),
        ..CreateUser::new("a@example.com")
    };
    let (result, req) = answer(201, user_json("user_1"), |c| async move {
        c.create_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users",
        &[],
        Some(
            json!({"email": "a@example.com", "password": "pw-123", "password_hash": "$2b$10$hash",
                    "password_hash_type": "bcrypt", "metadata": {"plan": "pro"}}),
        ),
    );
    assert_eq!(result.unwrap().id, "user_1");
}

#[tokio::test]
async fn get_user_gets_the_user_by_id() {
    let (result, req, fx) = replay("get_user", |c| async move {
        c.get_user("user_01HP0B4ZV2FWWVY0BF16GFDAER").await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/users/user_01HP0B4ZV2FWWVY0BF16GFDAER",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let user = result.unwrap();
    assert_eq!(user.id, "user_01HP0B4ZV2FWWVY0BF16GFDAER");
    assert_eq!(user.email, "bob@example.com");
    assert_eq!(
        user.last_sign_in_at.as_deref(),
        Some("2024-02-06T23:13:18.137Z")
    );
}

#[tokio::test]
async fn get_user_by_external_id_escapes_the_id_in_the_path() {
    let (result, req) = answer(200, user_json("user_9"), |c| async move {
        c.get_user_by_external_id("crm/42?x").await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/users/external_id/crm%2F42%3Fx",
        &[],
        None,
    );
    assert_eq!(result.unwrap().id, "user_9");
}

#[tokio::test]
async fn list_users_defaults_to_descending_order() {
    let (result, req, fx) = replay("list_users__no_options", |c| async move {
        c.list_users(&ListUsers::default()).await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/users",
        &[("order", "desc")],
        None,
    );
    assert_as_recorded(&req, &fx);
    let list = result.unwrap();
    assert_eq!(
        ids(&list, |u: &User| &u.id),
        [
            "user_01H7WRJBPAAHX1BYRQHEK7QC4A",
            "user_01H7TVSKS45SDHN5V9XPSM6H44"
        ]
    );
    assert_eq!(list.list_metadata.before.as_deref(), Some("before-id"));
    assert_eq!(list.list_metadata.after, None);
}

#[tokio::test]
async fn list_users_reads_a_page_where_metadata_values_are_not_all_strings() {
    let mut odd = user_json("user_odd");
    odd["metadata"] = json!({"n": 1, "ok": true, "s": "x", "nested": {"a": [1]}});
    let mut plain = user_json("user_plain");
    plain["metadata"] = json!({"plan": "pro"});
    let mut unset = user_json("user_null");
    unset["metadata"] = Value::Null;
    let page = json!({"object": "list", "data": [odd, plain, unset],
        "list_metadata": {"before": null, "after": null}});
    let (result, _) = answer(200, page, |c| async move {
        c.list_users(&ListUsers::default()).await
    })
    .await;
    let list = result.unwrap();
    assert_eq!(
        ids(&list, |u: &User| &u.id),
        ["user_odd", "user_plain", "user_null"]
    );
    let m = &list.data[0].metadata;
    assert_eq!(m["n"], json!(1));
    assert_eq!(m["ok"], json!(true));
    assert_eq!(m["s"], "x");
    assert_eq!(m["nested"], json!({"a": [1]}));
    assert_eq!(list.data[1].metadata["plan"], "pro");
    assert!(list.data[2].metadata.is_empty());
}

#[tokio::test]
async fn list_users_sends_the_email_filter_and_limit() {
    let params = ListUsers {
        email: Some("lucy.lawless@example.com".into()),
        pagination: PaginationParams {
            limit: Some(5),
            ..Default::default()
        },
        ..Default::default()
    };
    let (result, req, fx) = replay("list_users__with_options", |c| async move {
        c.list_users(&params).await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/users",
        &[
            ("email", "lucy.lawless@example.com"),
            ("limit", "5"),
            ("order", "desc"),
        ],
        None,
    );
    assert_as_recorded(&req, &fx);
    let list = result.unwrap();
    assert_eq!(
        ids(&list, |u: &User| &u.id),
        ["user_01H7WRJBPAAHX1BYRQHEK7QC4A"]
    );
    assert_eq!(list.list_metadata, Default::default());
}

#[tokio::test]
async fn list_users_sends_organization_cursors_and_ascending_order() {
    let params = ListUsers {
        organization_id: Some("org_1".into()),
        pagination: PaginationParams {
            limit: Some(100),
            before: Some("user_b".into()),
            after: Some("user_a".into()),
            order: Order::Asc,
        },
        ..Default::default()
    };
    let (result, req) = answer(
        200,
        empty_list(),
        |c| async move { c.list_users(&params).await },
    )
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/users",
        &[
            ("organization_id", "org_1"),
            ("limit", "100"),
            ("before", "user_b"),
            ("after", "user_a"),
            ("order", "asc"),
        ],
        None,
    );
    assert!(result.unwrap().data.is_empty());
}

#[tokio::test]
async fn update_user_sends_only_the_changed_fields() {
    let params = UpdateUser::new("user_01H7TVSKS45SDHN5V9XPSM6H44")
        .first_name("Jane")
        .last_name("Doe")
        .email_verified(false)
        .external_id("123");
    let (result, req, fx) = replay("update_user__valid", |c| async move {
        c.update_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/users/user_01H7TVSKS45SDHN5V9XPSM6H44",
        &[],
        Some(
            json!({"first_name": "Jane", "last_name": "Doe", "email_verified": false, "external_id": "123"}),
        ),
    );
    assert_as_recorded(&req, &fx);
    let user = result.unwrap();
    assert_eq!(user.id, "user_01H7TVSKS45SDHN5V9XPSM6H44");
    assert_eq!(user.external_id.as_deref(), Some("123"));
}

#[tokio::test]
async fn update_user_changes_the_email_address() {
    let params = UpdateUser::new("user_01H7TVSKS45SDHN5V9XPSM6H44").email("jane@example.com");
    let (result, req, fx) = replay("update_user__email", |c| async move {
        c.update_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/users/user_01H7TVSKS45SDHN5V9XPSM6H44",
        &[],
        Some(json!({"email": "jane@example.com"})),
    );
    assert_as_recorded(&req, &fx);
    assert_eq!(result.unwrap().email, "jane@example.com");
}

#[tokio::test]
async fn update_user_sets_the_locale() {
    let params = UpdateUser::new("user_01K78B3ZB5B7119MYEXTQE5KNE").locale("en-US");
    let (result, req, fx) = replay("update_user__locale", |c| async move {
        c.update_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/users/user_01K78B3ZB5B7119MYEXTQE5KNE",
        &[],
        Some(json!({"locale": "en-US"})),
    );
    assert_as_recorded(&req, &fx);
    let user = result.unwrap();
    assert_eq!(user.id, "user_01K78B3ZB5B7119MYEXTQE5KNE");
    assert_eq!(user.locale.as_deref(), Some("en-US"));
}

#[tokio::test]
async fn update_user_sends_null_to_clear_external_id() {
    let params = UpdateUser::new("user_01K0SR53HJ58M957MYAB6TDZ9X")
        .first_name("John")
        .clear_external_id();
    let (result, req, fx) = replay("update_user_external_id_null", |c| async move {
        c.update_user(&params).await
    })
    .await;
    let body = json!({"first_name": "John", "external_id": null});
    assert_request(
        &req,
        "PUT",
        "/user_management/users/user_01K0SR53HJ58M957MYAB6TDZ9X",
        &[],
        Some(body.clone()),
    );
    // The null is deliberate here, so the recording is compared as it is.
    assert_eq!(fx.request_body, body);
    let user = result.unwrap();
    assert_eq!(user.id, "user_01K0SR53HJ58M957MYAB6TDZ9X");
    assert_eq!(user.external_id, None);
}

#[tokio::test]
async fn update_user_clears_names_and_metadata_keys_with_nulls() {
    let params = UpdateUser {
        first_name: Some(None),
        metadata: Some(HashMap::from([
            ("gone".to_owned(), None),
            ("kept".to_owned(), Some("v".to_owned())),
        ])),
        password_hash: Some("$argon2id$hash".into()),
        password_hash_type: Some(PasswordHashType::Argon2),
        ..UpdateUser::new("user_1")
    };
    let (result, req) = answer(200, user_json("user_1"), |c| async move {
        c.update_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/users/user_1",
        &[],
        Some(
            json!({"first_name": null, "metadata": {"gone": null, "kept": "v"},
                    "password_hash": "$argon2id$hash", "password_hash_type": "argon2"}),
        ),
    );
    assert_eq!(result.unwrap().id, "user_1");
}

#[tokio::test]
async fn update_user_with_nothing_set_sends_an_empty_object_and_reads_not_found() {
    let params = UpdateUser::new("invalid");
    let (result, req, fx) = replay("update_user__invalid", |c| async move {
        c.update_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/users/invalid",
        &[],
        Some(json!({})),
    );
    // Ruby sent {"first_name": null, "last_name": null, "email_verified": null}.
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!((e.status, e.entity_id.as_deref()), (404, Some("invalid")));
}

/// `update_user_password__*` recorded the legacy `PUT /users/{id}/password`,
/// which this crate does not offer: `update_user` with a password replaces it.
#[tokio::test]
async fn update_user_sets_a_password_where_the_legacy_password_endpoint_did() {
    let params = UpdateUser::new("user_01H7TVSKS45SDHN5V9XPSM6H44").password("7YtYic00VWcXatPb");
    let (result, req, fx) = replay("update_user_password__valid", |c| async move {
        c.update_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/users/user_01H7TVSKS45SDHN5V9XPSM6H44",
        &[],
        Some(json!({"password": "7YtYic00VWcXatPb"})),
    );
    assert_eq!(
        fx.request_path,
        "/users/user_01H7TVSKS45SDHN5V9XPSM6H44/password"
    );
    assert_eq!(recorded_body(&fx), req.body);
    assert_eq!(result.unwrap().id, "user_01H7TVSKS45SDHN5V9XPSM6H44");
    // The recorded answer is a plain user object.
    let parsed: User = serde_json::from_value(fx.response_body).unwrap();
    assert_eq!(parsed.id, "user_01H7TVSKS45SDHN5V9XPSM6H44");
    assert_eq!(parsed.extra["user_type"], "unmanaged");
}

#[tokio::test]
async fn update_user_password_for_an_unknown_user_is_entity_not_found() {
    let params = UpdateUser::new("invalid").password("7YtYic00VWcXatPb");
    let (result, req, fx) = replay("update_user_password__invalid", |c| async move {
        c.update_user(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/users/invalid",
        &[],
        Some(json!({"password": "7YtYic00VWcXatPb"})),
    );
    assert_eq!(fx.request_path, "/users/invalid/password");
    let e = expect_api_error(&fx, result);
    assert_eq!(e.code.as_deref(), Some("entity_not_found"));
}

#[tokio::test]
async fn delete_user_reads_an_empty_answer_as_unit() {
    let (result, req, fx) = replay("delete_user__valid", |c| async move {
        c.delete_user("user_01H7WRJBPAAHX1BYRQHEK7QC4A").await
    })
    .await;
    assert_request(
        &req,
        "DELETE",
        "/user_management/users/user_01H7WRJBPAAHX1BYRQHEK7QC4A",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    result.unwrap();
}

#[tokio::test]
#[allow(deprecated)] // send_password_reset_email answers nothing too
async fn calls_that_answer_nothing_ignore_whatever_body_comes_back() {
    let bodies = ["", r#"{"success":true}"#, "{}", "OK", r#"{"data": [1, 2]}"#];
    for body in bodies {
        let server = MockServer::start().await;
        for _ in 0..5 {
            server.reply(Canned {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: body.to_owned(),
                delay: None,
            });
        }
        let c = server.client();
        let results = [
            ("delete_user", c.delete_user("user_1").await),
            ("revoke_session", c.revoke_session("session_1").await),
            (
                "send_magic_auth_code",
                c.send_magic_auth_code("a@example.com").await,
            ),
            (
                "send_password_reset_email",
                c.send_password_reset_email(&SendPasswordResetEmail {
                    email: "a@example.com".into(),
                    password_reset_url: "https://example.com/reset".into(),
                })
                .await,
            ),
            (
                "delete_organization_membership",
                c.delete_organization_membership("om_1").await,
            ),
        ];
        for (call, result) in results {
            assert!(result.is_ok(), "{call} with body {body:?}: {result:?}");
        }
        assert_eq!(server.requests().len(), 5, "one request each, no retries");
    }
}

#[tokio::test]
async fn calls_that_answer_an_object_still_fail_to_decode_a_wrong_body() {
    let (result, _) = answer(200, json!({"success": true}), |c| async move {
        c.get_user("user_1").await
    })
    .await;
    assert!(
        matches!(result, Err(Error::Decode { status: 200, .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn delete_user_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("delete_user__invalid", |c| async move {
        c.delete_user("invalid").await
    })
    .await;
    assert_request(&req, "DELETE", "/user_management/users/invalid", &[], None);
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(e.entity_id.as_deref(), Some("invalid"));
}

// ---------------------------------------------------------------------------
// Authenticate
// ---------------------------------------------------------------------------

#[tokio::test]
async fn authenticate_with_password_sends_the_password_grant() {
    let params = AuthenticateWithPassword {
        email: "test@workos.app".into(),
        password: "7YtYic00VWcXatPb".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_password__valid", |c| async move {
        c.authenticate_with_password(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "password",
            json!({"email": "test@workos.app", "password": "7YtYic00VWcXatPb", "ip_address": IP, "user_agent": UA}),
        )),
    );
    assert_as_recorded(&req, &fx);
    let auth = assert_authenticated(result, "user_01H7TVSKS45SDHN5V9XPSM6H44");
    assert_eq!(auth.organization_id, None);
    assert_eq!(auth.impersonator, None);
}

#[tokio::test]
async fn authenticate_with_password_sends_the_invitation_token_and_leaves_out_unset_fields() {
    let params = AuthenticateWithPassword {
        email: "a@example.com".into(),
        password: "pw".into(),
        invitation_token: Some("inv_tok".into()),
        ..Default::default()
    };
    let fx = Fixture::load("authenticate_with_password__valid");
    let (result, req) = answer(200, fx.response_body, |c| async move {
        c.authenticate_with_password(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "password",
            json!({"email": "a@example.com", "password": "pw", "invitation_token": "inv_tok"}),
        )),
    );
    result.unwrap();
}

#[tokio::test]
async fn authenticate_with_password_unknown_user_is_entity_not_found() {
    let params = AuthenticateWithPassword {
        email: "invalid@workos.app".into(),
        password: "invalid".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_password__invalid", |c| async move {
        c.authenticate_with_password(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(
        (e.status, e.entity_id.as_deref()),
        (404, Some("other@blips.app"))
    );
}

#[tokio::test]
async fn authenticate_with_password_unverified_email_is_an_email_verification_challenge() {
    let params = AuthenticateWithPassword {
        email: "unverified@workos.app".into(),
        password: "7YtYic00VWcXatPb".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_password__unverified", |c| async move {
        c.authenticate_with_password(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let err = result.unwrap_err();
    assert_eq!(err.code(), Some("email_verification_required"));
    assert_eq!(
        err.pending_authentication_token().unwrap().expose(),
        "RWx94aFHwanPOebv7tKbBkJm0"
    );
    assert!(!format!("{err:?} {err}").contains("RWx94aFHwanPOebv7tKbBkJm0"));
    let Error::EmailVerificationRequired(challenge) = err else {
        panic!("expected EmailVerificationRequired, got {err:?}")
    };
    assert_eq!(challenge.status, 403);
    assert_eq!(
        challenge.message,
        "Email ownership must be verified before authentication."
    );
    assert_eq!(challenge.email.as_deref(), Some("unverified@workos.app"));
    assert_eq!(
        challenge.email_verification_id.as_deref(),
        Some("email_verification_01JG43A0WYAFAPHMNBV5XF2R4M")
    );
    assert_eq!(challenge.request_id, fx.request_id);
    assert_eq!(
        challenge.request_id.as_deref(),
        Some("62990367-ddaf-46b3-a32f-38fc4f29d581")
    );
}

/// A user object with a field WorkOS may one day send in another type.
fn user_with_a_broken_field() -> Value {
    let mut user = user_json("user_1");
    user["email_verified"] = json!("yes");
    user
}

#[tokio::test]
async fn a_challenge_whose_user_does_not_parse_keeps_its_code_and_pending_token() {
    let challenges = [
        (
            "email_verification_required",
            json!({"email": "a@example.com", "email_verification_id": "email_verification_1"}),
        ),
        ("mfa_enrollment", json!({})),
        (
            "mfa_challenge",
            json!({"authentication_factors": [{"id": "auth_factor_1", "type": "totp"}, {"type": 7}]}),
        ),
        (
            "organization_selection_required",
            json!({"organizations": [{"id": "org_1", "name": "Acme"}, {"name": ["not", "an", "org"]}]}),
        ),
    ];
    for (code, fields) in challenges {
        let mut body = json!({"code": code, "message": "One more step.",
            "pending_authentication_token": "pending_token_1", "user": user_with_a_broken_field()});
        body.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        let (result, _) = answer(403, body, |c| async move {
            c.authenticate_with_password(&AuthenticateWithPassword {
                email: "a@example.com".into(),
                password: "pw".into(),
                ..Default::default()
            })
            .await
        })
        .await;
        let err = result.unwrap_err();
        assert_eq!(err.code(), Some(code), "{err:?}");
        assert_eq!(
            err.pending_authentication_token().map(|t| t.expose()),
            Some("pending_token_1"),
            "{code}"
        );
        match err {
            Error::EmailVerificationRequired(c) => {
                assert_eq!(c.user, None);
                assert_eq!(c.message, "One more step.");
                assert_eq!(c.email.as_deref(), Some("a@example.com"));
                assert_eq!(
                    c.email_verification_id.as_deref(),
                    Some("email_verification_1")
                );
            }
            Error::MfaEnrollment(c) => assert_eq!(c.user, None),
            Error::MfaChallenge(c) => {
                assert_eq!(c.user, None);
                let ids: Vec<&str> = c
                    .authentication_factors
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect();
                assert_eq!(ids, ["auth_factor_1"]);
            }
            Error::OrganizationSelectionRequired(c) => {
                assert_eq!(c.user, None);
                let ids: Vec<&str> = c.organizations.iter().map(|o| o.id.as_str()).collect();
                assert_eq!(ids, ["org_1"]);
            }
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_challenge_keeps_a_user_that_parses() {
    let body = json!({"code": "mfa_enrollment", "message": "Enroll.",
        "pending_authentication_token": "pending_token_1", "user": user_json("user_1")});
    let (result, _) = answer(403, body, |c| async move {
        c.authenticate_with_password(&AuthenticateWithPassword {
            email: "a@example.com".into(),
            password: "pw".into(),
            ..Default::default()
        })
        .await
    })
    .await;
    let Err(Error::MfaEnrollment(c)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(c.user.map(|u| u.id).as_deref(), Some("user_1"));
}

#[tokio::test]
async fn an_api_error_keeps_its_code_when_one_field_error_does_not_parse() {
    let body = json!({"code": "invalid_request_parameters", "message": "Validation failed.",
        "errors": [{"code": "email_string_required", "field": "email"}, {"code": 12}]});
    let (result, _) = answer(422, body, |c| async move { c.get_user("user_1").await }).await;
    let Err(Error::Api(e)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(e.code.as_deref(), Some("invalid_request_parameters"));
    assert_eq!(e.message, "Validation failed.");
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].field.as_deref(), Some("email"));
}

#[tokio::test]
async fn authenticate_with_code_sends_the_authorization_code_grant() {
    let params = AuthenticateWithCode {
        code: "01H93ZZHA0JBHFJH9RR11S83YN".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_code__valid", |c| async move {
        c.authenticate_with_code(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "authorization_code",
            json!({"code": "01H93ZZHA0JBHFJH9RR11S83YN", "ip_address": IP, "user_agent": UA}),
        )),
    );
    assert_as_recorded(&req, &fx);
    let auth = assert_authenticated(result, "user_01H93ZY4F80YZRRS6N59Z2HFVS");
    assert_eq!(
        auth.user.extra["sso_profile_id"],
        "prof_01H93ZTVWYPAT4RKDSPFPPXH0J"
    );
    assert_eq!(auth.oauth_tokens, None);
}

#[tokio::test]
async fn authenticate_with_code_sends_the_pkce_verifier_and_invitation_token() {
    let params = AuthenticateWithCode {
        code: "code_1".into(),
        code_verifier: Some("verifier-43-chars-long-aaaaaaaaaaaaaaaaaaaaa".into()),
        invitation_token: Some("inv_tok".into()),
        ..Default::default()
    };
    let fx = Fixture::load("authenticate_with_code__valid");
    let (result, req) = answer(200, fx.response_body, |c| async move {
        c.authenticate_with_code(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "authorization_code",
            json!({"code": "code_1", "code_verifier": "verifier-43-chars-long-aaaaaaaaaaaaaaaaaaaaa",
                   "invitation_token": "inv_tok"}),
        )),
    );
    result.unwrap();
}

#[tokio::test]
async fn authenticate_with_code_invalid_code_is_invalid_grant() {
    let params = AuthenticateWithCode {
        code: "invalid".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_code__invalid", |c| async move {
        c.authenticate_with_code(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_invalid_grant(&fx, result);
    assert_eq!(
        e.description.as_deref(),
        Some("The code '452079' has expired or is invalid.")
    );
}

#[tokio::test]
async fn authenticate_with_code_reads_the_impersonator() {
    // Recorded with another client id, and without ip_address / user_agent
    // (sent as nulls by Ruby, left out by us).
    let client_id = "client_01GS91XFB2YPR1C0NR5SH758Q0";
    let params = AuthenticateWithCode {
        code: "01HRX85ATQB2MN40K4FZ9C2HFR".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay_as(
        "authenticate_with_code__valid_with_impersonator",
        client_id,
        |c| async move { c.authenticate_with_code(&params).await },
    )
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant_as(
            client_id,
            "authorization_code",
            json!({"code": "01HRX85ATQB2MN40K4FZ9C2HFR"}),
        )),
    );
    assert_as_recorded(&req, &fx);
    let auth = assert_authenticated(result, "user_01HP0B4ZV2FWWVY0BF16GFDAER");
    let impersonator = auth.impersonator.unwrap();
    assert_eq!(impersonator.email, "admin@foocorp.com");
    assert_eq!(impersonator.reason.as_deref(), Some("For testing."));
}

#[tokio::test]
async fn authenticate_with_code_reads_upstream_oauth_tokens() {
    let params = AuthenticateWithCode {
        code: "01H93ZZHA0JBHFJH9RR11S83YN".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay(
        "authenticate_with_code__valid_with_oauth_tokens",
        |c| async move { c.authenticate_with_code(&params).await },
    )
    .await;
    assert_as_recorded(&req, &fx);
    let tokens = assert_authenticated(result, "user_01H93ZY4F80YZRRS6N59Z2HFVS")
        .oauth_tokens
        .unwrap();
    assert_eq!(tokens.access_token.expose(), "oauth_access_token");
    assert_eq!(tokens.refresh_token.expose(), "oauth_refresh_token");
    assert_eq!(tokens.scopes, ["read", "write"]);
    assert_eq!(tokens.expires_at, Some(1234567890));
}

#[tokio::test]
async fn authenticate_with_refresh_token_sends_the_refresh_grant() {
    let params = AuthenticateWithRefreshToken {
        refresh_token: "some_refresh_token".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_refresh_token__valid", |c| async move {
        c.authenticate_with_refresh_token(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "refresh_token",
            json!({"refresh_token": "some_refresh_token", "ip_address": IP, "user_agent": UA}),
        )),
    );
    assert_as_recorded(&req, &fx);
    assert_authenticated(result, "user_01H93WD0R0KWF8Q7BK02C0RPYJ");
}

#[tokio::test]
async fn authenticate_with_refresh_token_sends_the_organization_to_switch_to() {
    let params = AuthenticateWithRefreshToken {
        refresh_token: "rt_1".into(),
        organization_id: Some("org_2".into()),
        ..Default::default()
    };
    let fx = Fixture::load("authenticate_with_refresh_token__valid");
    let (result, req) = answer(200, fx.response_body, |c| async move {
        c.authenticate_with_refresh_token(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "refresh_token",
            json!({"refresh_token": "rt_1", "organization_id": "org_2"}),
        )),
    );
    result.unwrap();
}

#[tokio::test]
async fn authenticate_with_refresh_token_invalid_token_is_invalid_grant() {
    let params = AuthenticateWithRefreshToken {
        refresh_token: "invalid".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_refresh_code__invalid", |c| async move {
        c.authenticate_with_refresh_token(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_invalid_grant(&fx, result);
    assert_eq!(e.description.as_deref(), Some("Invalid refresh token."));
}

#[tokio::test]
async fn authenticate_with_magic_auth_sends_the_magic_auth_grant() {
    let params = AuthenticateWithMagicAuth {
        code: "452079".into(),
        email: "test@workos.com".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_magic_auth__valid", |c| async move {
        c.authenticate_with_magic_auth(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "urn:workos:oauth:grant-type:magic-auth:code",
            json!({"code": "452079", "email": "test@workos.com", "ip_address": IP, "user_agent": UA}),
        )),
    );
    assert_as_recorded(&req, &fx);
    assert_authenticated(result, "user_01H93WD0R0KWF8Q7BK02C0RPYJ");
}

#[tokio::test]
async fn authenticate_with_magic_auth_sends_invitation_and_link_codes() {
    let params = AuthenticateWithMagicAuth {
        code: "123456".into(),
        email: "a@example.com".into(),
        invitation_token: Some("inv_tok".into()),
        link_authorization_code: Some("link_code".into()),
        ..Default::default()
    };
    let fx = Fixture::load("authenticate_with_magic_auth__valid");
    let (result, req) = answer(200, fx.response_body, |c| async move {
        c.authenticate_with_magic_auth(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "urn:workos:oauth:grant-type:magic-auth:code",
            json!({"code": "123456", "email": "a@example.com", "invitation_token": "inv_tok",
                   "link_authorization_code": "link_code"}),
        )),
    );
    result.unwrap();
}

#[tokio::test]
async fn authenticate_with_magic_auth_unknown_user_is_entity_not_found() {
    let params = AuthenticateWithMagicAuth {
        code: "invalid".into(),
        email: "test@workos.com".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_magic_auth__invalid", |c| async move {
        c.authenticate_with_magic_auth(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(
        e.entity_id.as_deref(),
        Some("user_01H93WD0R0KWF8Q7BK02C0RPY")
    );
}

/// The email-verification and TOTP recordings stored their bodies as broken
/// strings, so the expected bodies are the grants' documented fields.
fn assert_recorded_body_is_a_broken_string(fx: &Fixture) {
    assert!(
        fx.request_body.is_string(),
        "{} has a JSON body now",
        fx.name
    );
}

#[tokio::test]
async fn authenticate_with_email_verification_sends_the_code_and_pending_token() {
    let params = AuthenticateWithEmailVerification {
        code: "123456".into(),
        pending_authentication_token: "pending_authentication_token_1234".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay(
        "authenticate_with_email_verification__valid",
        |c| async move { c.authenticate_with_email_verification(&params).await },
    )
    .await;
    assert_recorded_body_is_a_broken_string(&fx);
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "urn:workos:oauth:grant-type:email-verification:code",
            json!({"code": "123456", "pending_authentication_token": "pending_authentication_token_1234"}),
        )),
    );
    assert_authenticated(result, "user_01H93ZY4F80YZRRS6N59Z2HFVS");
}

#[tokio::test]
async fn authenticate_with_email_verification_invalid_code_is_invalid_grant() {
    let params = AuthenticateWithEmailVerification {
        code: "invalid".into(),
        pending_authentication_token: "pending_authentication_token_1234".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay(
        "authenticate_with_email_verification__invalid",
        |c| async move { c.authenticate_with_email_verification(&params).await },
    )
    .await;
    assert_recorded_body_is_a_broken_string(&fx);
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "urn:workos:oauth:grant-type:email-verification:code",
            json!({"code": "invalid", "pending_authentication_token": "pending_authentication_token_1234"}),
        )),
    );
    expect_invalid_grant(&fx, result);
}

#[tokio::test]
async fn authenticate_with_totp_sends_the_challenge_and_pending_token() {
    let params = AuthenticateWithTotp {
        code: "123456".into(),
        authentication_challenge_id: "authentication_challenge_id_1234".into(),
        pending_authentication_token: "pending_authentication_token_1234".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_totp__valid", |c| async move {
        c.authenticate_with_totp(&params).await
    })
    .await;
    assert_recorded_body_is_a_broken_string(&fx);
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "urn:workos:oauth:grant-type:mfa-totp",
            json!({"code": "123456", "authentication_challenge_id": "authentication_challenge_id_1234",
                   "pending_authentication_token": "pending_authentication_token_1234"}),
        )),
    );
    assert_authenticated(result, "user_01H93ZY4F80YZRRS6N59Z2HFVS");
}

#[tokio::test]
async fn authenticate_with_totp_invalid_code_is_invalid_grant() {
    let params = AuthenticateWithTotp {
        code: "invalid".into(),
        authentication_challenge_id: "authentication_challenge_id_1234".into(),
        pending_authentication_token: "pending_authentication_token_1234".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay("authenticate_with_totp__invalid", |c| async move {
        c.authenticate_with_totp(&params).await
    })
    .await;
    assert_recorded_body_is_a_broken_string(&fx);
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(grant(
            "urn:workos:oauth:grant-type:mfa-totp",
            json!({"code": "invalid", "authentication_challenge_id": "authentication_challenge_id_1234",
                   "pending_authentication_token": "pending_authentication_token_1234"}),
        )),
    );
    expect_invalid_grant(&fx, result);
}

#[tokio::test]
async fn authenticate_with_email_verification_and_totp_send_ip_address_and_user_agent() {
    let answer_body = Fixture::load("authenticate_with_totp__valid").response_body;
    let verification = AuthenticateWithEmailVerification {
        code: "1".into(),
        pending_authentication_token: "pat".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
    };
    let (result, req) = answer(200, answer_body.clone(), |c| async move {
        c.authenticate_with_email_verification(&verification).await
    })
    .await;
    let fields = json!({"code": "1", "pending_authentication_token": "pat", "ip_address": IP, "user_agent": UA});
    let body = grant(
        "urn:workos:oauth:grant-type:email-verification:code",
        fields,
    );
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(body),
    );
    result.unwrap();

    let totp = AuthenticateWithTotp {
        code: "2".into(),
        authentication_challenge_id: "auth_challenge_1".into(),
        pending_authentication_token: "pat".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
    };
    let (result, req) = answer(200, answer_body, |c| async move {
        c.authenticate_with_totp(&totp).await
    })
    .await;
    let fields = json!({"code": "2", "authentication_challenge_id": "auth_challenge_1",
                        "pending_authentication_token": "pat", "ip_address": IP, "user_agent": UA});
    let body = grant("urn:workos:oauth:grant-type:mfa-totp", fields);
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(body),
    );
    result.unwrap();
}

/// The organization-selection recordings used a `project_…` client id and an
/// empty API key (`client_secret: ""`), which this crate's builder refuses:
/// we send the key.
const PROJECT_CLIENT_ID: &str = "project_01EGKAEB7G5N88E83MF99J785F";

fn recorded_with_our_secret(fx: &Fixture) -> Value {
    assert_eq!(fx.request_body["client_secret"], "", "{}", fx.name);
    let mut body = recorded_body(fx).unwrap();
    body["client_secret"] = json!(API_KEY);
    body
}

#[tokio::test]
async fn authenticate_with_organization_selection_sends_the_chosen_organization() {
    let params = AuthenticateWithOrganizationSelection {
        organization_id: "org_01H5JQDV7R7ATEYZDEG0W5PRYS".into(),
        pending_authentication_token: "pending_authentication_token_1234".into(),
        ip_address: Some(IP.into()),
        user_agent: Some(UA.into()),
    };
    let (result, req, fx) = replay_as(
        "authenticate_with_organization_selection__valid",
        PROJECT_CLIENT_ID,
        |c| async move { c.authenticate_with_organization_selection(&params).await },
    )
    .await;
    let body = grant_as(
        PROJECT_CLIENT_ID,
        "urn:workos:oauth:grant-type:organization-selection",
        json!({"organization_id": "org_01H5JQDV7R7ATEYZDEG0W5PRYS",
               "pending_authentication_token": "pending_authentication_token_1234",
               "ip_address": IP, "user_agent": UA}),
    );
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(body),
    );
    assert_eq!(req.body, Some(recorded_with_our_secret(&fx)));
    let auth = assert_authenticated(result, "user_01H93WD0R0KWF8Q7BK02C0RPYJ");
    assert_eq!(
        auth.organization_id.as_deref(),
        Some("org_01H5JQDV7R7ATEYZDEG0W5PRYS")
    );
}

#[tokio::test]
async fn authenticate_with_organization_selection_expired_token_is_an_api_error() {
    let params = AuthenticateWithOrganizationSelection {
        organization_id: "invalid_org_id".into(),
        pending_authentication_token: "pending_authentication_token_1234".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay_as(
        "authenticate_with_organization_selection__invalid",
        PROJECT_CLIENT_ID,
        |c| async move { c.authenticate_with_organization_selection(&params).await },
    )
    .await;
    let body = grant_as(
        PROJECT_CLIENT_ID,
        "urn:workos:oauth:grant-type:organization-selection",
        json!({"organization_id": "invalid_org_id", "pending_authentication_token": "pending_authentication_token_1234"}),
    );
    assert_request(
        &req,
        "POST",
        "/user_management/authenticate",
        &[],
        Some(body),
    );
    assert_eq!(req.body, Some(recorded_with_our_secret(&fx)));
    let e = expect_api_error(&fx, result);
    assert_eq!(
        (e.status, e.code.as_deref()),
        (400, Some("invalid_pending_authentication_token"))
    );
}

// ---------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------

#[tokio::test]
async fn revoke_session_posts_the_session_id() {
    let (result, req, fx) = replay("revoke_session__valid", |c| async move {
        c.revoke_session("session_01HRX85ATNADY1GQ053AHRFFN6").await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/sessions/revoke",
        &[],
        Some(json!({"session_id": "session_01HRX85ATNADY1GQ053AHRFFN6"})),
    );
    assert_as_recorded(&req, &fx);
    result.unwrap();
}

#[tokio::test]
async fn revoke_session_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("revoke_session__not_found", |c| async move {
        c.revoke_session("session_01H5JQDV7R7ATEYZDEG0W5PRYS").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(
        e.entity_id.as_deref(),
        Some("session_01H5JQDV7R7ATEYZDEG0W5PRYS")
    );
}

#[tokio::test]
async fn list_sessions_lists_a_users_sessions_newest_first() {
    let params = ListSessions::new("user_01H7TVSKS45SDHN5V9XPSM6H44");
    let (result, req, fx) = replay("list_sessions__valid", |c| async move {
        c.list_sessions(&params).await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/users/user_01H7TVSKS45SDHN5V9XPSM6H44/sessions",
        &[("order", "desc")],
        None,
    );
    assert_as_recorded(&req, &fx);
    let list = result.unwrap();
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.list_metadata, Default::default());
    let session = &list.data[0];
    assert_eq!(session.id, "session_01H96FETXGTW2S0V5V9XPSM6H44");
    assert_eq!(session.status, SessionStatus::Active);
    assert_eq!(session.ip_address.as_deref(), Some("192.168.1.1"));
    assert_eq!(
        session.organization_id.as_deref(),
        Some("org_01H96FETXGTW2SXRA136PCMAQJ0")
    );
    assert_eq!(session.ended_at, None);
}

#[tokio::test]
async fn list_sessions_recognises_the_recorded_auth_method() {
    let params = ListSessions::new("user_01H7TVSKS45SDHN5V9XPSM6H44");
    let (result, _, _) = replay("list_sessions__valid", |c| async move {
        c.list_sessions(&params).await
    })
    .await;
    assert_eq!(
        result.unwrap().data[0].auth_method,
        Some(SessionAuthMethod::Password)
    );
}

#[tokio::test]
async fn list_sessions_sends_limit_and_cursor() {
    let params = ListSessions {
        pagination: PaginationParams {
            limit: Some(2),
            after: Some("session_x".into()),
            ..Default::default()
        },
        ..ListSessions::new("user_1")
    };
    let (result, req) = answer(200, empty_list(), |c| async move {
        c.list_sessions(&params).await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/users/user_1/sessions",
        &[("limit", "2"), ("after", "session_x"), ("order", "desc")],
        None,
    );
    assert!(result.unwrap().data.is_empty());
}

// ---------------------------------------------------------------------------
// Magic auth
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_magic_auth_leaves_out_an_unset_invitation_token() {
    let params = CreateMagicAuth {
        email: "test@workos.com".into(),
        invitation_token: None,
    };
    let (result, req, fx) = replay("create_magic_auth__valid", |c| async move {
        c.create_magic_auth(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/magic_auth",
        &[],
        Some(json!({"email": "test@workos.com"})),
    );
    assert_as_recorded(&req, &fx);
    let magic = result.unwrap();
    assert_eq!(magic.id, "magic_auth_01HWXVEWWSMR5HS8M6FBGMBJJ9");
    assert_eq!(magic.code.expose(), "500013");
}

#[tokio::test]
async fn create_magic_auth_sends_the_invitation_token() {
    let params = CreateMagicAuth {
        email: "test@workos.com".into(),
        invitation_token: Some("inv_tok".into()),
    };
    let fx = Fixture::load("create_magic_auth__valid");
    let (result, req) = answer(201, fx.response_body, |c| async move {
        c.create_magic_auth(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/magic_auth",
        &[],
        Some(json!({"email": "test@workos.com", "invitation_token": "inv_tok"})),
    );
    result.unwrap();
}

#[tokio::test]
async fn get_magic_auth_gets_by_id() {
    let (result, req, fx) = replay("get_magic_auth__valid", |c| async move {
        c.get_magic_auth("magic_auth_01HWXVEWWSMR5HS8M6FBGMBJJ9")
            .await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/magic_auth/magic_auth_01HWXVEWWSMR5HS8M6FBGMBJJ9",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let magic = result.unwrap();
    assert_eq!(magic.user_id, "user_01HWXVEWSWSJ66VE29AD14KZ0C");
    assert_eq!(magic.code.expose(), "500013");
}

#[tokio::test]
async fn get_magic_auth_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("get_magic_auth__invalid", |c| async move {
        c.get_magic_auth("invalid").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(e.entity_id.as_deref(), Some("magic_auth_invalid"));
}

#[tokio::test]
#[allow(deprecated)]
async fn send_magic_auth_code_posts_the_email() {
    let (result, req, fx) = replay("send_magic_auth_code__valid", |c| async move {
        c.send_magic_auth_code("test@gmail.com").await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/magic_auth/send",
        &[],
        Some(json!({"email": "test@gmail.com"})),
    );
    assert_as_recorded(&req, &fx);
    result.unwrap();
}

// ---------------------------------------------------------------------------
// Password reset
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_password_reset_posts_the_email() {
    let (result, req, fx) = replay("create_password_reset__valid", |c| async move {
        c.create_password_reset("blair@workos.com").await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/password_reset",
        &[],
        Some(json!({"email": "blair@workos.com"})),
    );
    assert_as_recorded(&req, &fx);
    let reset = result.unwrap();
    assert_eq!(reset.id, "password_reset_01HYKA8DTF8TW5YD30MF0ZXZKT");
    assert_eq!(
        reset.password_reset_token.expose(),
        "DmNQt1ZWOz7k5hulOoGDN0TZd"
    );
}

#[tokio::test]
async fn get_password_reset_gets_by_id() {
    let (result, req, fx) = replay("get_password_reset__valid", |c| async move {
        c.get_password_reset("password_reset_01HYKA8DTF8TW5YD30MF0ZXZKT")
            .await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/password_reset/password_reset_01HYKA8DTF8TW5YD30MF0ZXZKT",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let reset = result.unwrap();
    assert_eq!(reset.email, "blair@workos.com");
    assert!(
        reset
            .password_reset_url
            .ends_with("?token=DmNQt1ZWOz7k5hulOoGDN0TZd")
    );
}

#[tokio::test]
async fn get_password_reset_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("get_password_reset__invalid", |c| async move {
        c.get_password_reset("invalid").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    expect_api_error(&fx, result);
}

#[tokio::test]
async fn reset_password_posts_the_token_and_new_password_and_reads_the_user() {
    let params = ResetPassword {
        token: "eEgAgvAE0blvU1zWV3yWVAD22".into(),
        new_password: "very_cool_new_pa$$word".into(),
    };
    let (result, req, fx) = replay("reset_password__valid", |c| async move {
        c.reset_password(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/password_reset/confirm",
        &[],
        Some(
            json!({"token": "eEgAgvAE0blvU1zWV3yWVAD22", "new_password": "very_cool_new_pa$$word"}),
        ),
    );
    assert_as_recorded(&req, &fx);
    assert_eq!(result.unwrap().id, "user_01H7WRJBPAAHX1BYRQHEK7QC4A");
}

#[tokio::test]
async fn reset_password_unknown_token_is_an_api_error_without_entity() {
    let params = ResetPassword {
        token: "bogus_token".into(),
        new_password: "new_password".into(),
    };
    let (result, req, fx) = replay("reset_password__invalid", |c| async move {
        c.reset_password(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(
        (e.code.as_deref(), e.entity_id),
        (Some("password_reset_token_not_found"), None)
    );
}

/// Both `confirm_password_reset__*` recordings answered 401 (even `__valid`).
#[tokio::test]
async fn reset_password_unauthorized_is_an_api_error_without_code() {
    for (name, token, new_password) in [
        (
            "confirm_password_reset__valid",
            "eEgAgvAE0blvU1zWV3yWVAD22",
            "very_cool_new_pa$$word",
        ),
        (
            "confirm_password_reset__invalid",
            "bogus_token",
            "new_password",
        ),
    ] {
        let params = ResetPassword {
            token: token.into(),
            new_password: new_password.into(),
        };
        let (result, req, fx) =
            replay(name, |c| async move { c.reset_password(&params).await }).await;
        assert_as_recorded(&req, &fx);
        let e = expect_api_error(&fx, result);
        assert_eq!(
            (e.status, e.code, e.message.as_str()),
            (401, None, "Unauthorized")
        );
    }
}

#[tokio::test]
#[allow(deprecated)]
async fn send_password_reset_email_posts_the_email_and_reset_url() {
    let params = SendPasswordResetEmail {
        email: "lucy.lawless@example.com".into(),
        password_reset_url: "https://example.com/reset".into(),
    };
    let (result, req, fx) = replay("send_password_reset_email__valid", |c| async move {
        c.send_password_reset_email(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/password_reset/send",
        &[],
        Some(
            json!({"email": "lucy.lawless@example.com", "password_reset_url": "https://example.com/reset"}),
        ),
    );
    assert_as_recorded(&req, &fx);
    result.unwrap();
}

#[tokio::test]
#[allow(deprecated)]
async fn send_password_reset_email_without_url_is_a_validation_error() {
    let params = SendPasswordResetEmail {
        email: "foo@bar.com".into(),
        password_reset_url: String::new(),
    };
    let (result, req, fx) = replay("send_password_reset_email__invalid", |c| async move {
        c.send_password_reset_email(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(
        e.errors[0].code.as_deref(),
        Some("password_reset_url_string_required")
    );
}

// ---------------------------------------------------------------------------
// Email verification
// ---------------------------------------------------------------------------

#[tokio::test]
async fn send_verification_email_posts_without_a_body_and_reads_the_user() {
    let (result, req, fx) = replay("send_verification_email__valid", |c| async move {
        c.send_verification_email("user_01H93WD0R0KWF8Q7BK02C0RPYJ")
            .await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users/user_01H93WD0R0KWF8Q7BK02C0RPYJ/email_verification/send",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    assert_eq!(result.unwrap().email, "test@gmail.com");
}

#[tokio::test]
async fn send_verification_email_unknown_user_is_entity_not_found() {
    let (result, req, fx) = replay("send_verification_email__invalid", |c| async move {
        c.send_verification_email("bad_id").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(e.entity_id.as_deref(), Some("bad_id"));
}

#[tokio::test]
async fn verify_email_posts_the_code_and_reads_the_user() {
    let params = VerifyEmail {
        user_id: "user_01H968BR1R84DSPYS9QR5PM6RZ".into(),
        code: "333495".into(),
    };
    let (result, req, fx) = replay("verify_email__valid", |c| async move {
        c.verify_email(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users/user_01H968BR1R84DSPYS9QR5PM6RZ/email_verification/confirm",
        &[],
        Some(json!({"code": "333495"})),
    );
    assert_as_recorded(&req, &fx);
    let user = result.unwrap();
    assert_eq!(user.id, "user_01H968BR1R84DSPYS9QR5PM6RZ");
    assert!(user.email_verified);
}

#[tokio::test]
async fn verify_email_wrong_code_is_an_api_error() {
    let params = VerifyEmail {
        user_id: "user_01H93WD0R0KWF8Q7BK02C0RPYJ".into(),
        code: "000000".into(),
    };
    let (result, req, fx) = replay("verify_email__invalid_code", |c| async move {
        c.verify_email(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(
        (e.status, e.code.as_deref()),
        (400, Some("email_verification_code_incorrect"))
    );
}

#[tokio::test]
async fn verify_email_unknown_user_is_entity_not_found() {
    let params = VerifyEmail {
        user_id: "bad_id".into(),
        code: "966451".into(),
    };
    let (result, req, fx) = replay(
        "verify_email__invalid_magic_auth_challenge",
        |c| async move { c.verify_email(&params).await },
    )
    .await;
    assert_as_recorded(&req, &fx);
    expect_api_error(&fx, result);
}

#[tokio::test]
async fn get_email_verification_gets_by_id() {
    let (result, req, fx) = replay("get_email_verification__valid", |c| async move {
        c.get_email_verification("email_verification_01HYK9VKNJQ0MJDXEXQP0DA1VK")
            .await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/email_verification/email_verification_01HYK9VKNJQ0MJDXEXQP0DA1VK",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let v = result.unwrap();
    assert_eq!(v.user_id, "user_01HYK9VAAW34TPP0KSYXCX44SB");
    assert_eq!(v.code.expose(), "561814");
}

#[tokio::test]
async fn get_email_verification_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("get_email_verification__invalid", |c| async move {
        c.get_email_verification("invalid").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    expect_api_error(&fx, result);
}

// ---------------------------------------------------------------------------
// Invitations
// ---------------------------------------------------------------------------

#[tokio::test]
async fn send_invitation_sends_only_the_email_when_nothing_else_is_set() {
    let params = SendInvitation {
        email: "test@workos.com".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay("send_invitation__valid", |c| async move {
        c.send_invitation(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/invitations",
        &[],
        Some(json!({"email": "test@workos.com"})),
    );
    assert_as_recorded(&req, &fx);
    let inv = result.unwrap();
    assert_eq!(inv.id, "invitation_01H5JQDV7R7ATEYZDEG0W5PRYS");
    assert_eq!(inv.state, InvitationState::Pending);
}

#[tokio::test]
async fn send_invitation_sends_every_option() {
    let params = SendInvitation {
        email: "a@example.com".into(),
        organization_id: Some("org_1".into()),
        expires_in_days: Some(3),
        inviter_user_id: Some("user_1".into()),
        role_slug: Some("admin".into()),
        locale: Some("fr".into()),
    };
    let fx = Fixture::load("send_invitation__valid");
    let (result, req) = answer(201, fx.response_body, |c| async move {
        c.send_invitation(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/invitations",
        &[],
        Some(
            json!({"email": "a@example.com", "organization_id": "org_1", "expires_in_days": 3,
                    "inviter_user_id": "user_1", "role_slug": "admin", "locale": "fr"}),
        ),
    );
    result.unwrap();
}

#[tokio::test]
async fn send_invitation_duplicate_is_a_conflict_without_code() {
    let params = SendInvitation {
        email: "invalid@workos.com".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay("send_invitation__invalid", |c| async move {
        c.send_invitation(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!((e.status, e.code), (409, None));
}

#[tokio::test]
async fn get_invitation_gets_by_id() {
    let (result, req, fx) = replay("get_invitation__valid", |c| async move {
        c.get_invitation("invitation_01H5JQDV7R7ATEYZDEG0W5PRYS")
            .await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/invitations/invitation_01H5JQDV7R7ATEYZDEG0W5PRYS",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let inv = result.unwrap();
    assert_eq!(inv.email, "dane@workos.com");
    assert_eq!(inv.token.expose(), "Z1uX3RbwcIl5fIGJJJCXXisdI");
}

#[tokio::test]
async fn get_invitation_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("get_invitation__invalid", |c| async move {
        c.get_invitation("invalid").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    expect_api_error(&fx, result);
}

#[tokio::test]
async fn find_invitation_by_token_gets_by_token() {
    let (result, req, fx) = replay("find_invitation_by_token__valid", |c| async move {
        c.find_invitation_by_token("iUV3XbYajpJlbpw1Qt3ZKlaKx")
            .await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/invitations/by_token/iUV3XbYajpJlbpw1Qt3ZKlaKx",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let inv = result.unwrap();
    assert_eq!(inv.id, "invitation_01HZFVRAJ7EV7935K7H8NX2MRH");
    assert_eq!((inv.organization_id, inv.inviter_user_id), (None, None));
}

#[tokio::test]
async fn find_invitation_by_token_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("find_invitation_by_token__invalid", |c| async move {
        c.find_invitation_by_token("invalid").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    expect_api_error(&fx, result);
}

/// Replays a `list_invitations__*` recording and checks the query against it.
async fn list_invitations_as_recorded(
    name: &str,
    params: ListInvitations,
    query: &[(&str, &str)],
) -> List<Invitation> {
    let (result, req, fx) =
        replay(name, |c| async move { c.list_invitations(&params).await }).await;
    assert_request(&req, "GET", "/user_management/invitations", query, None);
    assert_as_recorded(&req, &fx);
    result.unwrap()
}

fn page(limit: Option<u32>, before: Option<&str>, after: Option<&str>) -> PaginationParams {
    PaginationParams {
        limit,
        before: before.map(str::to_owned),
        after: after.map(str::to_owned),
        order: Order::Desc,
    }
}

#[tokio::test]
async fn list_invitations_defaults_to_descending_order() {
    let list = list_invitations_as_recorded(
        "list_invitations__with_no_options",
        Default::default(),
        &[("order", "desc")],
    )
    .await;
    assert_eq!(list.data.len(), 5);
    assert_eq!(list.data[4].id, "invitation_05H5JQDV7R7ATEYZDEG0W5PRYS");
    assert_eq!(list.list_metadata.before.as_deref(), Some("before_id"));
    assert_eq!(list.list_metadata.after, None);
}

#[tokio::test]
async fn list_invitations_sends_the_after_cursor() {
    let inv = "invitation_01H5JQDV7R7ATEYZDEG0W5PRYS";
    let params = ListInvitations {
        pagination: page(None, None, Some(inv)),
        ..Default::default()
    };
    let list = list_invitations_as_recorded(
        "list_invitations__with_after",
        params,
        &[("after", inv), ("order", "desc")],
    )
    .await;
    assert_eq!(list.data.len(), 2);
    assert_eq!(list.list_metadata, Default::default());
}

#[tokio::test]
async fn list_invitations_sends_the_before_cursor() {
    let inv = "invitation_01H5JQDV7R7ATEYZDEG0W5PRYS";
    let params = ListInvitations {
        pagination: page(None, Some(inv), None),
        ..Default::default()
    };
    let list = list_invitations_as_recorded(
        "list_invitations__with_before",
        params,
        &[("before", inv), ("order", "desc")],
    )
    .await;
    assert_eq!(list.data.len(), 2);
}

#[tokio::test]
async fn list_invitations_sends_the_limit() {
    let params = ListInvitations {
        pagination: page(Some(2), None, None),
        ..Default::default()
    };
    let list = list_invitations_as_recorded(
        "list_invitations__with_limit",
        params,
        &[("limit", "2"), ("order", "desc")],
    )
    .await;
    // The recorded answer has three items despite limit=2; we read what came.
    assert_eq!(list.data.len(), 3);
}

#[tokio::test]
async fn list_invitations_filters_by_organization() {
    let params = ListInvitations {
        organization_id: Some("org_01H5JQDV7R7ATEYZDEG0W5PRYS".into()),
        ..Default::default()
    };
    let list = list_invitations_as_recorded(
        "list_invitations__with_organization_id",
        params,
        &[
            ("order", "desc"),
            ("organization_id", "org_01H5JQDV7R7ATEYZDEG0W5PRYS"),
        ],
    )
    .await;
    assert_eq!(list.data.len(), 1);
    assert_eq!(
        list.data[0].organization_id.as_deref(),
        Some("org_01H5JQDV7R7ATEYZDEG0W5PRYS")
    );
}

#[tokio::test]
async fn list_invitations_filters_by_email() {
    let params = ListInvitations {
        email: Some("a+b@example.com".into()),
        ..Default::default()
    };
    let (result, req) = answer(200, empty_list(), |c| async move {
        c.list_invitations(&params).await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/invitations",
        &[("email", "a+b@example.com"), ("order", "desc")],
        None,
    );
    assert!(result.unwrap().data.is_empty());
}

#[tokio::test]
async fn revoke_invitation_posts_without_a_body() {
    let (result, req, fx) = replay("revoke_invitation__valid", |c| async move {
        c.revoke_invitation("invitation_01H5JQDV7R7ATEYZDEG0W5PRYS")
            .await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/invitations/invitation_01H5JQDV7R7ATEYZDEG0W5PRYS/revoke",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    assert_eq!(
        result.unwrap().revoked_at.as_deref(),
        Some("2023-07-18T02:07:19.911Z")
    );
}

#[tokio::test]
async fn revoke_invitation_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("revoke_invitation__invalid", |c| async move {
        c.revoke_invitation("invalid_id").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(e.entity_id.as_deref(), Some("bad_id"));
}

#[tokio::test]
async fn resend_invitation_posts_without_a_body() {
    let (result, req, fx) = replay("resend_invitation__valid", |c| async move {
        c.resend_invitation("invitation_01H5JQDV7R7ATEYZDEG0W5PRYS")
            .await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/invitations/invitation_01H5JQDV7R7ATEYZDEG0W5PRYS/resend",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let inv = result.unwrap();
    assert_eq!(inv.state, InvitationState::Pending);
    assert_eq!(inv.accepted_at, None);
}

#[tokio::test]
async fn resend_invitation_refusals_are_api_errors_with_their_code() {
    for (name, id, code) in [
        (
            "resend_invitation__accepted",
            "invitation_01H5JQDV7R7ATEYZDEG0W5PRYS",
            "invite_accepted",
        ),
        (
            "resend_invitation__expired",
            "invitation_01H5JQDV7R7ATEYZDEG0W5PRYS",
            "invite_expired",
        ),
        (
            "resend_invitation__revoked",
            "invitation_01H5JQDV7R7ATEYZDEG0W5PRYS",
            "invite_revoked",
        ),
        (
            "resend_invitation__invalid",
            "invalid_id",
            "entity_not_found",
        ),
    ] {
        let (result, req, fx) =
            replay(name, |c| async move { c.resend_invitation(id).await }).await;
        assert_as_recorded(&req, &fx);
        let e = expect_api_error(&fx, result);
        assert_eq!(e.code.as_deref(), Some(code), "{name}");
    }
}

#[tokio::test]
async fn accept_invitation_posts_without_a_body() {
    let mut body = Fixture::load("get_invitation__valid").response_body;
    body["state"] = json!("accepted");
    body["accepted_user_id"] = json!("user_1");
    let (result, req) = answer(200, body, |c| async move {
        c.accept_invitation("invitation_1").await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/invitations/invitation_1/accept",
        &[],
        None,
    );
    let inv = result.unwrap();
    assert_eq!(inv.state, InvitationState::Accepted);
    assert_eq!(inv.accepted_user_id.as_deref(), Some("user_1"));
}

// ---------------------------------------------------------------------------
// Organization memberships
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_organization_membership_sends_user_and_organization() {
    let params = CreateOrganizationMembership {
        user_id: "user_01H5JQDV7R7ATEYZDEG0W5PRYS".into(),
        organization_id: "org_01H5JQDV7R7ATEYZDEG0W5PRYS".into(),
        ..Default::default()
    };
    let (result, req, fx) = replay("create_organization_membership__valid", |c| async move {
        c.create_organization_membership(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/organization_memberships",
        &[],
        Some(
            json!({"user_id": "user_01H5JQDV7R7ATEYZDEG0W5PRYS", "organization_id": "org_01H5JQDV7R7ATEYZDEG0W5PRYS"}),
        ),
    );
    assert_as_recorded(&req, &fx);
    let m = result.unwrap();
    assert_eq!(m.id, "om_01H5JQDV7R7ATEYZDEG0W5PRYS");
    assert_eq!(
        (m.status, m.role.slug.as_str(), m.roles),
        (OrganizationMembershipStatus::Active, "member", None)
    );
}

#[tokio::test]
async fn create_organization_membership_sends_several_roles() {
    let params = CreateOrganizationMembership {
        user_id: "user_01H5JQDV7R7ATEYZDEG0W5PRYS".into(),
        organization_id: "org_01H5JQDV7R7ATEYZDEG0W5PRYS".into(),
        role_slugs: Some(vec!["admin".into(), "member".into()]),
        ..Default::default()
    };
    let (result, req, fx) = replay(
        "create_organization_membership__valid_multiple_roles",
        |c| async move { c.create_organization_membership(&params).await },
    )
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/organization_memberships",
        &[],
        Some(
            json!({"user_id": "user_01H5JQDV7R7ATEYZDEG0W5PRYS", "organization_id": "org_01H5JQDV7R7ATEYZDEG0W5PRYS",
                    "role_slugs": ["admin", "member"]}),
        ),
    );
    assert_as_recorded(&req, &fx);
    let roles: Vec<String> = result
        .unwrap()
        .roles
        .unwrap()
        .into_iter()
        .map(|r| r.slug)
        .collect();
    assert_eq!(roles, ["member", "admin"]);
}

#[tokio::test]
async fn create_organization_membership_sends_one_role() {
    let params = CreateOrganizationMembership {
        user_id: "user_1".into(),
        organization_id: "org_1".into(),
        role_slug: Some("admin".into()),
        ..Default::default()
    };
    let (result, req) = answer(201, membership_json("om_1"), |c| async move {
        c.create_organization_membership(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/organization_memberships",
        &[],
        Some(json!({"user_id": "user_1", "organization_id": "org_1", "role_slug": "admin"})),
    );
    assert_eq!(result.unwrap().role.slug, "admin");
}

#[tokio::test]
async fn create_organization_membership_validation_failure_carries_field_errors() {
    let params = CreateOrganizationMembership::default();
    let (result, req, fx) = replay("create_organization_membership__invalid", |c| async move {
        c.create_organization_membership(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/organization_memberships",
        &[],
        Some(json!({"user_id": "", "organization_id": ""})),
    );
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!(e.errors[0].code.as_deref(), Some("user_id_string_required"));
}

#[tokio::test]
async fn create_organization_membership_with_role_slug_and_role_slugs_is_refused_before_any_request()
 {
    let server = MockServer::start().await;
    let err = server
        .client()
        .create_organization_membership(&CreateOrganizationMembership {
            user_id: "user_1".into(),
            organization_id: "org_1".into(),
            role_slug: Some("admin".into()),
            role_slugs: Some(vec!["member".into()]),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn get_organization_membership_gets_by_id() {
    let (result, req, fx) = replay("get_organization_membership", |c| async move {
        c.get_organization_membership("om_01H5JQDV7R7ATEYZDEG0W5PRYS")
            .await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/organization_memberships/om_01H5JQDV7R7ATEYZDEG0W5PRYS",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    let m = result.unwrap();
    assert_eq!(m.user_id, "user_01H5JQDV7R7ATEYZDEG0W5PRYS");
    assert!(!m.directory_managed);
}

#[tokio::test]
async fn list_organization_memberships_defaults_to_descending_order() {
    let (result, req, fx) = replay(
        "list_organization_memberships__no_options",
        |c| async move { c.list_organization_memberships(&Default::default()).await },
    )
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/organization_memberships",
        &[("order", "desc")],
        None,
    );
    assert_as_recorded(&req, &fx);
    let list = result.unwrap();
    assert_eq!(list.data.len(), 2);
    assert_eq!(list.list_metadata.before.as_deref(), Some("before-id"));
    assert_eq!(list.list_metadata.after, None);
}

#[tokio::test]
async fn list_organization_memberships_sends_user_and_limit() {
    let params = ListOrganizationMemberships {
        user_id: Some("user_01H5JQDV7R7ATEYZDEG0W5PRYS".into()),
        pagination: page(Some(5), None, None),
        ..Default::default()
    };
    let (result, req, fx) = replay(
        "list_organization_memberships__with_options",
        |c| async move { c.list_organization_memberships(&params).await },
    )
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/organization_memberships",
        &[
            ("limit", "5"),
            ("order", "desc"),
            ("user_id", "user_01H5JQDV7R7ATEYZDEG0W5PRYS"),
        ],
        None,
    );
    assert_as_recorded(&req, &fx);
    assert_eq!(result.unwrap().data.len(), 1);
}

#[tokio::test]
async fn list_organization_memberships_sends_one_status() {
    let params = ListOrganizationMemberships {
        user_id: Some("user_01HXYSZBKQE2N3NHBKZHDP1X5X".into()),
        statuses: vec![OrganizationMembershipStatus::Inactive],
        pagination: page(Some(5), None, None),
        ..Default::default()
    };
    let (result, req, fx) = replay(
        "list_organization_memberships__with_statuses_option",
        |c| async move { c.list_organization_memberships(&params).await },
    )
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/organization_memberships",
        &[
            ("limit", "5"),
            ("order", "desc"),
            ("statuses", "inactive"),
            ("user_id", "user_01HXYSZBKQE2N3NHBKZHDP1X5X"),
        ],
        None,
    );
    assert_as_recorded(&req, &fx);
    let list = result.unwrap();
    assert_eq!(ids(&list, |m| &m.id), ["om_01HXYT0G3H5QG9YTSHSHFZQE6D"]);
}

#[tokio::test]
async fn list_organization_memberships_joins_statuses_with_commas() {
    let params = ListOrganizationMemberships {
        organization_id: Some("org_1".into()),
        statuses: vec![
            OrganizationMembershipStatus::Active,
            OrganizationMembershipStatus::Inactive,
        ],
        ..Default::default()
    };
    let (result, req) = answer(200, empty_list(), |c| async move {
        c.list_organization_memberships(&params).await
    })
    .await;
    assert_request(
        &req,
        "GET",
        "/user_management/organization_memberships",
        &[
            ("organization_id", "org_1"),
            ("order", "desc"),
            ("statuses", "active,inactive"),
        ],
        None,
    );
    assert_eq!(
        req.raw_query
            .as_deref()
            .map(|q| q.contains("statuses=active%2Cinactive")),
        Some(true)
    );
    result.unwrap();
}

#[tokio::test]
async fn update_organization_membership_sends_the_role_but_not_the_id() {
    let params = UpdateOrganizationMembership {
        organization_membership_id: "om_01H5JQDV7R7ATEYZDEG0W5PRYS".into(),
        role_slug: Some("admin".into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("update_organization_membership__valid", |c| async move {
        c.update_organization_membership(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/organization_memberships/om_01H5JQDV7R7ATEYZDEG0W5PRYS",
        &[],
        Some(json!({"role_slug": "admin"})),
    );
    assert_eq!(req.body, recorded_without_id(&fx));
    assert_eq!(result.unwrap().role.slug, "admin");
}

/// The Ruby SDK also put the membership id in the update body; it belongs in the path only.
fn recorded_without_id(fx: &Fixture) -> Option<Value> {
    let mut body = recorded_body(fx).unwrap();
    let id = body.as_object_mut().unwrap().remove("id").unwrap();
    assert!(
        fx.request_path.ends_with(id.as_str().unwrap()),
        "{}",
        fx.name
    );
    Some(body)
}

#[tokio::test]
async fn update_organization_membership_sends_several_roles() {
    let params = UpdateOrganizationMembership {
        organization_membership_id: "om_01H5JQDV7R7ATEYZDEG0W5PRYS".into(),
        role_slugs: Some(vec!["admin".into(), "editor".into()]),
        ..Default::default()
    };
    let (result, req, fx) = replay(
        "update_organization_membership__valid_multiple_roles",
        |c| async move { c.update_organization_membership(&params).await },
    )
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/organization_memberships/om_01H5JQDV7R7ATEYZDEG0W5PRYS",
        &[],
        Some(json!({"role_slugs": ["admin", "editor"]})),
    );
    assert_eq!(req.body, recorded_without_id(&fx));
    assert_eq!(result.unwrap().roles.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn update_organization_membership_unknown_is_entity_not_found() {
    let params = UpdateOrganizationMembership {
        organization_membership_id: "invalid".into(),
        role_slug: Some("admin".into()),
        ..Default::default()
    };
    let (result, req, fx) = replay("update_organization_membership__invalid", |c| async move {
        c.update_organization_membership(&params).await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/organization_memberships/invalid",
        &[],
        Some(json!({"role_slug": "admin"})),
    );
    assert_eq!(req.body, recorded_without_id(&fx));
    let e = expect_api_error(&fx, result);
    assert_eq!(e.entity_id.as_deref(), Some("invalid"));
}

#[tokio::test]
async fn update_organization_membership_with_role_slug_and_role_slugs_is_refused_before_any_request()
 {
    let server = MockServer::start().await;
    let err = server
        .client()
        .update_organization_membership(&UpdateOrganizationMembership {
            organization_membership_id: "om_1".into(),
            role_slug: Some("admin".into()),
            role_slugs: Some(vec!["member".into()]),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn delete_organization_membership_reads_an_empty_answer_as_unit() {
    let (result, req, fx) = replay("delete_organization_membership__valid", |c| async move {
        c.delete_organization_membership("om_01H5JQDV7R7ATEYZDEG0W5PRYS")
            .await
    })
    .await;
    assert_request(
        &req,
        "DELETE",
        "/user_management/organization_memberships/om_01H5JQDV7R7ATEYZDEG0W5PRYS",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    result.unwrap();
}

#[tokio::test]
async fn delete_organization_membership_unknown_is_entity_not_found() {
    let (result, req, fx) = replay("delete_organization_membership__invalid", |c| async move {
        c.delete_organization_membership("invalid").await
    })
    .await;
    assert_as_recorded(&req, &fx);
    expect_api_error(&fx, result);
}

#[tokio::test]
async fn deactivate_organization_membership_puts_without_a_body() {
    let (result, req, fx) = replay("deactivate_organization_membership", |c| async move {
        c.deactivate_organization_membership("om_01HXYT0G3H5QG9YTSHSHFZQE6D")
            .await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/organization_memberships/om_01HXYT0G3H5QG9YTSHSHFZQE6D/deactivate",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    assert_eq!(
        result.unwrap().status,
        OrganizationMembershipStatus::Inactive
    );
}

#[tokio::test]
async fn reactivate_organization_membership_puts_without_a_body() {
    let (result, req, fx) = replay("reactivate_organization_membership", |c| async move {
        c.reactivate_organization_membership("om_01HXYT0G3H5QG9YTSHSHFZQE6D")
            .await
    })
    .await;
    assert_request(
        &req,
        "PUT",
        "/user_management/organization_memberships/om_01HXYT0G3H5QG9YTSHSHFZQE6D/reactivate",
        &[],
        None,
    );
    assert_as_recorded(&req, &fx);
    assert_eq!(result.unwrap().status, OrganizationMembershipStatus::Active);
}

// ---------------------------------------------------------------------------
// Auth factors
// ---------------------------------------------------------------------------

#[tokio::test]
async fn enroll_auth_factor_sends_the_totp_type_and_reads_factor_and_challenge() {
    let params = EnrollAuthFactor::totp("user_01H7TVSKS45SDHN5V9XPSM6H44");
    let (result, req, fx) = replay("enroll_auth_factor__valid", |c| async move {
        c.enroll_auth_factor(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users/user_01H7TVSKS45SDHN5V9XPSM6H44/auth_factors",
        &[],
        Some(json!({"type": "totp"})),
    );
    assert_as_recorded(&req, &fx);
    let enrolled = result.unwrap();
    let factor = &enrolled.authentication_factor;
    assert_eq!(factor.id, "auth_factor_01H96FETXENNY99ARX0GRC804C");
    assert_eq!(factor.kind, AuthenticationFactorType::Totp);
    let totp = factor.totp.as_ref().unwrap();
    assert_eq!(
        totp.secret.as_ref().unwrap().expose(),
        "OFAFOQAPHR6XMQKAIYMWU72XIE3DGI3P"
    );
    assert_eq!(totp.issuer.as_deref(), Some("Foo Corp"));
    assert_eq!(
        enrolled.authentication_challenge.id,
        "auth_challenge_01H96FETXGTW1QMBSBT2T36PW0"
    );
    assert_eq!(
        enrolled.authentication_challenge.authentication_factor_id,
        factor.id
    );
}

#[tokio::test]
async fn enroll_auth_factor_sends_the_totp_options() {
    let params = EnrollAuthFactor {
        totp_issuer: Some("Foo Corp".into()),
        totp_user: Some("user@foo-corp.com".into()),
        totp_secret: Some("JBSWY3DPEHPK3PXP".into()),
        ..EnrollAuthFactor::totp("user_1")
    };
    let fx = Fixture::load("enroll_auth_factor__valid");
    let (result, req) = answer(201, fx.response_body, |c| async move {
        c.enroll_auth_factor(&params).await
    })
    .await;
    assert_request(
        &req,
        "POST",
        "/user_management/users/user_1/auth_factors",
        &[],
        Some(
            json!({"type": "totp", "totp_issuer": "Foo Corp", "totp_user": "user@foo-corp.com",
                    "totp_secret": "JBSWY3DPEHPK3PXP"}),
        ),
    );
    result.unwrap();
}

#[tokio::test]
async fn enroll_auth_factor_rejection_is_an_api_error() {
    let params = EnrollAuthFactor::totp("user_01H7TVSKS45SDHN5V9XPSM6H44");
    let (result, req, fx) = replay("enroll_auth_factor__invalid", |c| async move {
        c.enroll_auth_factor(&params).await
    })
    .await;
    assert_as_recorded(&req, &fx);
    let e = expect_api_error(&fx, result);
    assert_eq!((e.status, e.message.as_str()), (400, "Unauthorized"));
}

#[tokio::test]
async fn enroll_auth_factor_other_than_totp_is_refused_before_any_request() {
    let server = MockServer::start().await;
    for kind in [
        AuthenticationFactorType::Sms,
        AuthenticationFactorType::GenericOtp,
    ] {
        let params = EnrollAuthFactor {
            kind,
            ..EnrollAuthFactor::totp("user_1")
        };
        let err = server
            .client()
            .enroll_auth_factor(&params)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
    assert!(server.requests().is_empty());
}

/// Ruby recorded `list_auth_factors` without a query; we send the default
/// order, as every list does. Method, path and (absent) body agree.
fn assert_list_auth_factors_request(req: &Recorded, fx: &Fixture) {
    assert_request(
        req,
        "GET",
        "/user_management/users/user_01H7TVSKS45SDHN5V9XPSM6H44/auth_factors",
        &[("order", "desc")],
        None,
    );
    assert!(fx.request_query.is_empty(), "{}", fx.name);
    assert_eq!(
        (fx.request_method.as_str(), fx.request_path.as_str()),
        ("GET", req.path.as_str())
    );
    assert_eq!(recorded_body(fx), None);
}

#[tokio::test]
async fn list_auth_factors_lists_a_users_factors() {
    let params = ListAuthFactors::new("user_01H7TVSKS45SDHN5V9XPSM6H44");
    let (result, req, fx) = replay("list_auth_factors__valid", |c| async move {
        c.list_auth_factors(&params).await
    })
    .await;
    assert_list_auth_factors_request(&req, &fx);
    let list = result.unwrap();
    assert_eq!(list.data.len(), 1);
    assert_eq!(list.data[0].totp.as_ref().unwrap().secret, None);
    assert_eq!(list.list_metadata, Default::default());
}

#[tokio::test]
async fn list_auth_factors_rejection_is_an_api_error() {
    let params = ListAuthFactors::new("user_01H7TVSKS45SDHN5V9XPSM6H44");
    let (result, req, fx) = replay("list_auth_factors__invalid", |c| async move {
        c.list_auth_factors(&params).await
    })
    .await;
    assert_list_auth_factors_request(&req, &fx);
    expect_api_error(&fx, result);
}

// ---------------------------------------------------------------------------
// JWKS, authorization, logout URLs
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_jwks_fetches_the_clients_key_set_and_skips_unusable_keys() {
    let mut set: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/keys/jwks.json"
        ))
        .unwrap(),
    )
    .unwrap();
    set["keys"]
        .as_array_mut()
        .unwrap()
        .push(json!({"kty": "QUANTUM", "kid": "future"}));
    let (result, req) = answer(200, set, |c| async move { c.get_jwks().await }).await;
    assert_request(&req, "GET", "/sso/jwks/client_123", &[], None);
    let kids: Vec<Option<String>> = result
        .unwrap()
        .keys
        .into_iter()
        .map(|k| k.common.key_id)
        .collect();
    assert_eq!(
        kids,
        [Some("test_key_1".to_owned()), Some("test_key_2".to_owned())]
    );
}

/// The query pairs of a URL, sorted (repeated keys kept).
fn sorted_pairs(url: &url::Url) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    pairs.sort();
    pairs
}

fn owned_sorted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    v.sort();
    v
}

#[test]
fn authorization_url_carries_every_parameter() {
    let params = AuthorizationUrl {
        redirect_uri: "https://example.com/auth/callback?from=a b".into(),
        provider: Some(Provider::AuthKit),
        connection_id: Some("conn_1".into()),
        organization_id: Some("org_1".into()),
        state: Some("st&te=1".into()),
        domain_hint: Some("example.com".into()),
        login_hint: Some("a+b@example.com".into()),
        screen_hint: Some(ScreenHint::SignUp),
        provider_scopes: vec!["openid".into(), "profile".into()],
        provider_query_params: [("hd", "example.com"), ("prompt", "select_account")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        prompt: Some("consent".into()),
        invitation_token: Some("Z1uX3RbwcIl5fIGJJJCXXisdI".into()),
        max_age: Some(3600),
    };
    let raw = offline_client().authorization_url(&params).unwrap();
    let url = url::Url::parse(&raw).unwrap();
    assert_eq!(
        (url.scheme(), url.host_str(), url.path()),
        (
            "https",
            Some("api.workos.com"),
            "/user_management/authorize"
        )
    );
    assert_eq!(
        sorted_pairs(&url),
        owned_sorted(&[
            ("client_id", CLIENT_ID),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            ),
            ("code_challenge_method", "S256"),
            ("connection_id", "conn_1"),
            ("domain_hint", "example.com"),
            ("invitation_token", "Z1uX3RbwcIl5fIGJJJCXXisdI"),
            ("login_hint", "a+b@example.com"),
            ("max_age", "3600"),
            ("organization_id", "org_1"),
            ("prompt", "consent"),
            ("provider", "authkit"),
            ("provider_query_params[hd]", "example.com"),
            ("provider_query_params[prompt]", "select_account"),
            ("provider_scopes", "openid"),
            ("provider_scopes", "profile"),
            ("redirect_uri", "https://example.com/auth/callback?from=a b"),
            ("response_type", "code"),
            ("screen_hint", "sign-up"),
            ("state", "st&te=1"),
        ])
    );
}

#[test]
fn authorization_url_with_only_a_provider_sends_the_required_parameters() {
    let params = AuthorizationUrl {
        redirect_uri: "https://example.com/cb".into(),
        provider: Some(Provider::Google),
        ..Default::default()
    };
    let url = url::Url::parse(&offline_client().authorization_url(&params).unwrap()).unwrap();
    assert_eq!(
        sorted_pairs(&url),
        owned_sorted(&[
            ("client_id", CLIENT_ID),
            ("provider", "GoogleOAuth"),
            ("redirect_uri", "https://example.com/cb"),
            ("response_type", "code"),
        ])
    );
}

#[test]
fn authorization_url_without_provider_connection_or_organization_is_refused() {
    let params = AuthorizationUrl {
        redirect_uri: "https://example.com/cb".into(),
        state: Some("s".into()),
        ..Default::default()
    };
    let err = offline_client().authorization_url(&params).unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[test]
fn authorization_url_screen_hint_without_authkit_is_refused() {
    for (provider, connection_id) in [
        (Some(Provider::GitHub), None),
        (None, Some("conn_1".to_owned())),
    ] {
        let params = AuthorizationUrl {
            redirect_uri: "https://example.com/cb".into(),
            provider,
            connection_id,
            screen_hint: Some(ScreenHint::SignIn),
            ..Default::default()
        };
        let err = offline_client().authorization_url(&params).unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    }
}

#[test]
fn get_logout_url_carries_the_session_id() {
    let url = offline_client().get_logout_url("session_01HRX85ATNADY1GQ053AHRFFN6", None);
    assert_eq!(
        url,
        "https://api.workos.com/user_management/sessions/logout?session_id=session_01HRX85ATNADY1GQ053AHRFFN6"
    );
}

#[test]
fn get_logout_url_encodes_return_to() {
    let return_to = "https://example.com/signed out?x=1&y=2";
    let raw = offline_client().get_logout_url("session_1", Some(return_to));
    let url = url::Url::parse(&raw).unwrap();
    assert_eq!(url.path(), "/user_management/sessions/logout");
    assert_eq!(
        sorted_pairs(&url),
        owned_sorted(&[("session_id", "session_1"), ("return_to", return_to)])
    );
    let query = url.query().unwrap();
    assert!(
        !query.contains("://") && !query.contains("&y=") && !query.contains(' '),
        "{query}"
    );
}

#[test]
fn get_jwks_url_is_under_the_base_url() {
    assert_eq!(
        offline_client().get_jwks_url(),
        "https://api.workos.com/sso/jwks/client_123"
    );
    let local = UserManagement::builder(API_KEY, CLIENT_ID)
        .with_base_url("http://127.0.0.1:4010")
        .build()
        .unwrap();
    assert_eq!(
        local.get_jwks_url(),
        "http://127.0.0.1:4010/sso/jwks/client_123"
    );
}

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

#[tokio::test]
async fn debug_output_never_shows_the_api_key_or_tokens() {
    const ACCESS: &str = "eyJhbGciOiJSUzI1NiJ9.secret-access-token-value";
    const REFRESH: &str = "secret-refresh-token-value";
    const OAUTH_ACCESS: &str = "ya29.secret-upstream-access";
    const OAUTH_REFRESH: &str = "1//secret-upstream-refresh";
    let mut body = Fixture::load("authenticate_with_code__valid_with_oauth_tokens").response_body;
    body["access_token"] = json!(ACCESS);
    body["refresh_token"] = json!(REFRESH);
    body["oauth_tokens"]["access_token"] = json!(OAUTH_ACCESS);
    body["oauth_tokens"]["refresh_token"] = json!(OAUTH_REFRESH);
    let server = MockServer::start().await;
    server.reply_json(200, body);
    let client = server.client();
    let result = client
        .authenticate_with_code(&AuthenticateWithCode {
            code: "code".into(),
            ..Default::default()
        })
        .await;
    let auth = result.as_ref().unwrap();
    assert_eq!(
        (auth.access_token.expose(), auth.refresh_token.expose()),
        (ACCESS, REFRESH)
    );
    for shown in [
        format!("{result:?}"),
        format!("{result:#?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
    ] {
        for secret in [API_KEY, ACCESS, REFRESH, OAUTH_ACCESS, OAUTH_REFRESH] {
            assert!(!shown.contains(secret), "{secret:?} shows in {shown}");
        }
    }
}

// ---------------------------------------------------------------------------
// Coverage of the recordings
// ---------------------------------------------------------------------------

#[test]
fn every_recorded_fixture_is_exercised() {
    let source = include_str!("client_requests.rs");
    let names = Fixture::all_names();
    assert!(names.len() >= 91, "only {} fixtures found", names.len());
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !source.contains(&format!("\"{name}\"")))
        .collect();
    assert!(missing.is_empty(), "fixtures no test uses: {missing:?}");
}

// ---------------------------------------------------------------------------
// Secrets in answers handed to the app
// ---------------------------------------------------------------------------

/// Asserts that answering `value` as JSON (what `axum::Json` does) shows
/// none of `secrets`, and says `[redacted]` in their place.
fn assert_serializes_without_secrets(what: &str, value: &impl serde::Serialize, secrets: &[&str]) {
    let json = serde_json::to_string(value).unwrap();
    for secret in secrets {
        assert!(
            !json.contains(secret),
            "{what} serialized {secret:?}: {json}"
        );
    }
    assert!(json.contains("[redacted]"), "{what}: {json}");
}

#[tokio::test]
async fn answering_an_authentication_response_as_json_shows_no_token() {
    let mut body = Fixture::load("authenticate_with_code__valid_with_oauth_tokens").response_body;
    body["access_token"] = json!("eyJhbGciOiJSUzI1NiJ9.access.sig");
    body["refresh_token"] = json!("refresh_token_value_1");
    let (result, _) = answer(200, body, |c| async move {
        c.authenticate_with_code(&AuthenticateWithCode {
            code: "code_1".into(),
            ..Default::default()
        })
        .await
    })
    .await;
    let auth = result.unwrap();
    assert_serializes_without_secrets(
        "AuthenticationResponse",
        &auth,
        &[
            "eyJhbGciOiJSUzI1NiJ9",
            "refresh_token_value_1",
            "oauth_access_token",
            "oauth_refresh_token",
        ],
    );
    let shown: Value = serde_json::to_value(&auth).unwrap();
    assert_eq!(shown["user"]["id"], "user_01H93ZY4F80YZRRS6N59Z2HFVS");
    assert_eq!(shown["access_token"], "[redacted]");
    // The session still seals with the real tokens.
    let passwords =
        authkit_axum::seal::Passwords::single("a-cookie-password-of-at-least-32-chars!").unwrap();
    let sealed = auth.seal_session(&passwords).unwrap();
    let data: authkit_axum::session::SessionData =
        authkit_axum::seal::unseal(&sealed, &passwords, Default::default()).unwrap();
    assert_eq!(
        data.access_token.expose(),
        "eyJhbGciOiJSUzI1NiJ9.access.sig"
    );
    assert_eq!(data.refresh_token.expose(), "refresh_token_value_1");
}

#[tokio::test]
async fn answering_objects_that_hold_codes_or_tokens_as_json_shows_none_of_them() {
    let (invitation, _, _) = replay("get_invitation__valid", |c| async move {
        c.get_invitation("invitation_01H5JQDV7R7ATEYZDEG0W5PRYS")
            .await
    })
    .await;
    assert_serializes_without_secrets(
        "Invitation",
        &invitation.unwrap(),
        &["Z1uX3RbwcIl5fIGJJJCXXisdI"],
    );
    let (magic, _, _) = replay("get_magic_auth__valid", |c| async move {
        c.get_magic_auth("magic_auth_01HWXVEWWSMR5HS8M6FBGMBJJ9")
            .await
    })
    .await;
    assert_serializes_without_secrets("MagicAuth", &magic.unwrap(), &["500013"]);
    let (reset, _, _) = replay("get_password_reset__valid", |c| async move {
        c.get_password_reset("password_reset_01HYKA8DTF8TW5YD30MF0ZXZKT")
            .await
    })
    .await;
    assert_serializes_without_secrets(
        "PasswordReset",
        &reset.unwrap(),
        &["DmNQt1ZWOz7k5hulOoGDN0TZd"],
    );
    let (verification, _, _) = replay("get_email_verification__valid", |c| async move {
        c.get_email_verification("email_verification_01HYK9VKNJQ0MJDXEXQP0DA1VK")
            .await
    })
    .await;
    assert_serializes_without_secrets("EmailVerification", &verification.unwrap(), &["561814"]);
    let (enrolled, _, _) = replay("enroll_auth_factor__valid", |c| async move {
        c.enroll_auth_factor(&EnrollAuthFactor::totp("user_01H7TVSKS45SDHN5V9XPSM6H44"))
            .await
    })
    .await;
    let enrolled = enrolled.unwrap();
    assert_serializes_without_secrets(
        "EnrolledAuthFactor",
        &enrolled,
        &["OFAFOQAPHR6XMQKAIYMWU72XIE3DGI3P"],
    );
    let totp = enrolled.authentication_factor.totp.unwrap();
    assert_eq!(
        totp.secret.unwrap().expose(),
        "OFAFOQAPHR6XMQKAIYMWU72XIE3DGI3P"
    );
}
