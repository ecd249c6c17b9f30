//! The Organizations API and the session's organization.
//!
//! No recorded WorkOS interaction covers `/organizations`, so the request
//! shapes follow the WorkOS API reference and workos-node's
//! `organizations.spec.ts` (`domain_data` of `{domain, state}`,
//! `external_id`, `metadata`, the `Idempotency-Key` header, `domains`
//! joined with commas, `order=desc` by default), and the answers its
//! fixtures (`get-organization.json`: `organization` with
//! `organization_domain`s). They are checked against a recording server;
//! then the calls go through the client to the emulator (create, get, list
//! and its stream, update, delete), and [`CurrentOrganization`] is served
//! over real HTTP: fetched once for many requests, for cookie sessions and
//! Bearer tokens alike, fetched again once its entry expires (the clock
//! moved), 403 without an organization, 503 when WorkOS is down.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::app::{self, App, EMAIL, Jar, set_cookies};
use crate::support::recording::{API_KEY, Canned, MockServer, Recorded};
use authkit_axum::client::{
    AuthenticateWithPassword, CreateOrganization, DomainData, Error, ListOrganizations, Order,
    Organization, OrganizationDomainState, OrganizationDomainVerificationStrategy,
    PaginationParams, UpdateOrganization,
};
use authkit_axum::emulator::{Emulator, EmulatorExt, Fault, Seed, SeedUser};
use authkit_axum::{AuthKitBuilder, CurrentOrganization};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::TryStreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, RETRY_AFTER};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Request shapes, against a recording server
// ---------------------------------------------------------------------------

/// An organization as workos-node's `get-organization.json` fixture has it,
/// plus the timestamps, external id and metadata current WorkOS sends.
fn organization_json(id: &str, name: &str) -> Value {
    json!({
        "object": "organization", "id": id, "name": name,
        "allow_profiles_outside_organization": false,
        "domains": [{"domain": "example.com", "object": "organization_domain",
            "id": "org_domain_01EHT88Z8WZEFWYPM6EC9BX2R8", "organization_id": id,
            "state": "verified", "verification_strategy": "dns",
            "verification_token": "xB8SeACdKJQP9DP4CahU4YuQZ",
            "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-01-01T00:00:00.000Z"}],
        "external_id": null, "metadata": {"tier": "gold"},
        "created_at": "2024-01-01T00:00:00.000Z", "updated_at": "2024-01-02T00:00:00.000Z"
    })
}

fn assert_request(r: &Recorded, method: &str, path: &str, query: &[(&str, &str)]) {
    assert_eq!(r.method.as_str(), method, "method of {path}");
    assert_eq!(r.path, path);
    let want: BTreeMap<String, String> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(r.query, want, "query of {method} {path}");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
}

#[tokio::test]
async fn create_organization_sends_domain_data_external_id_metadata_and_the_idempotency_key() {
    let server = MockServer::start().await;
    server.reply_json(201, organization_json("org_1", "Acme"));
    let params = CreateOrganization::new("Acme")
        .with_domain(DomainData::verified("example.com"))
        .with_domain(DomainData::pending("acme.io"))
        .with_external_id("crm-42")
        .with_metadata("tier", "gold")
        .with_idempotency_key("signup-7f3a");
    let org = server.client().create_organization(&params).await.unwrap();
    let r = server.single_request();
    assert_request(&r, "POST", "/organizations", &[]);
    assert_eq!(r.header("idempotency-key"), Some("signup-7f3a"));
    assert_eq!(
        r.body,
        Some(json!({
            "name": "Acme",
            "domain_data": [{"domain": "example.com", "state": "verified"},
                            {"domain": "acme.io", "state": "pending"}],
            "external_id": "crm-42",
            "metadata": {"tier": "gold"},
        }))
    );
    assert_eq!(org.id, "org_1");
    assert_eq!(org.name, "Acme");
    let domain = &org.domains[0];
    assert_eq!(domain.state, Some(OrganizationDomainState::Verified));
    assert_eq!(
        domain.verification_strategy,
        Some(OrganizationDomainVerificationStrategy::Dns)
    );
    assert_eq!(domain.organization_id.as_deref(), Some("org_1"));
    assert_eq!(org.metadata["tier"], "gold");
    assert_eq!(org.updated_at, "2024-01-02T00:00:00.000Z");
}

#[tokio::test]
async fn a_create_with_an_idempotency_key_is_retried_after_a_5xx_and_one_without_is_not() {
    let server = MockServer::start().await;
    server.reply_json(500, json!({"message": "Internal Server Error"}));
    server.reply_json(201, organization_json("org_1", "Acme"));
    let keyed = CreateOrganization::new("Acme").with_idempotency_key("k-1");
    let org = server.client().create_organization(&keyed).await.unwrap();
    assert_eq!(org.id, "org_1");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "retried once");
    assert!(
        requests
            .iter()
            .all(|r| r.header("idempotency-key") == Some("k-1")),
        "the same key on the repeat"
    );

    let server = MockServer::start().await;
    server.reply_json(500, json!({"message": "Internal Server Error"}));
    server.reply_json(201, organization_json("org_2", "Acme"));
    let err = server
        .client()
        .create_organization(&CreateOrganization::new("Acme"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    let r = server.single_request();
    assert_eq!(r.header("idempotency-key"), None);
    assert_eq!(r.body, Some(json!({"name": "Acme"})));
}

#[tokio::test]
async fn an_idempotency_key_a_header_cannot_carry_is_refused_before_sending() {
    let server = MockServer::start().await;
    let params = CreateOrganization::new("Acme").with_idempotency_key("bad\nkey");
    let err = server
        .client()
        .create_organization(&params)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn get_calls_use_the_id_or_the_escaped_external_id_in_the_path() {
    let server = MockServer::start().await;
    server.reply_json(200, organization_json("org_1", "Acme"));
    server.reply_json(200, organization_json("org_1", "Acme"));
    let client = server.client();
    assert_eq!(client.get_organization("org_1").await.unwrap().id, "org_1");
    client
        .get_organization_by_external_id("crm/42?x")
        .await
        .unwrap();
    let requests = server.requests();
    assert_request(&requests[0], "GET", "/organizations/org_1", &[]);
    assert_request(
        &requests[1],
        "GET",
        "/organizations/external_id/crm%2F42%3Fx",
        &[],
    );
    assert_eq!(requests[0].body, None);
}

#[tokio::test]
async fn list_organizations_sends_the_domains_joined_and_the_cursors() {
    let server = MockServer::start().await;
    let page = json!({"object": "list", "data": [organization_json("org_1", "Acme")],
        "list_metadata": {"before": "before-id", "after": null}});
    server.reply_json(200, page.clone());
    server.reply_json(200, page);
    let client = server.client();
    let list = client
        .list_organizations(&ListOrganizations::default())
        .await
        .unwrap();
    assert_eq!(list.data[0].name, "Acme");
    assert_eq!(list.list_metadata.before.as_deref(), Some("before-id"));
    let params = ListOrganizations {
        pagination: PaginationParams {
            limit: Some(5),
            after: Some("org_0".into()),
            order: Order::Asc,
            ..Default::default()
        },
        ..Default::default()
    }
    .with_domain("example.com")
    .with_domain("example2.com");
    client.list_organizations(&params).await.unwrap();
    let requests = server.requests();
    assert_request(&requests[0], "GET", "/organizations", &[("order", "desc")]);
    assert_request(
        &requests[1],
        "GET",
        "/organizations",
        &[
            ("domains", "example.com,example2.com"),
            ("limit", "5"),
            ("after", "org_0"),
            ("order", "asc"),
        ],
    );
}

#[tokio::test]
async fn update_organization_sends_only_what_changes_with_nulls_to_clear() {
    let server = MockServer::start().await;
    server.reply_json(200, organization_json("org_1", "Acme Inc."));
    let update = UpdateOrganization::new("org_1")
        .with_name("Acme Inc.")
        .with_domains([DomainData::verified("example.com")])
        .without_external_id()
        .without_metadata("trial");
    let org = server.client().update_organization(&update).await.unwrap();
    assert_eq!(org.name, "Acme Inc.");
    let r = server.single_request();
    assert_request(&r, "PUT", "/organizations/org_1", &[]);
    assert_eq!(
        r.body,
        Some(json!({
            "name": "Acme Inc.",
            "domain_data": [{"domain": "example.com", "state": "verified"}],
            "external_id": null,
            "metadata": {"trial": null},
        }))
    );
}

#[tokio::test]
async fn delete_organization_sends_a_delete_and_reads_not_found_as_an_api_error() {
    let server = MockServer::start().await;
    server.reply(Canned::json(202, Value::Null));
    server.reply_json(
        404,
        json!({"message": "Organization not found: 'org_gone'.", "code": "entity_not_found",
            "entity_id": "org_gone"}),
    );
    let client = server.client();
    client.delete_organization("org_1").await.unwrap();
    let err = client.get_organization("org_gone").await.unwrap_err();
    let requests = server.requests();
    assert_request(&requests[0], "DELETE", "/organizations/org_1", &[]);
    match err {
        Error::Api(e) => {
            assert_eq!(e.status, 404);
            assert_eq!(e.code.as_deref(), Some("entity_not_found"));
            assert_eq!(e.entity_id.as_deref(), Some("org_gone"));
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Through the client, against the emulator
// ---------------------------------------------------------------------------

#[tokio::test]
async fn organizations_are_created_read_updated_and_deleted_through_the_emulator() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = emulator.client();
    let created = client
        .create_organization(
            &CreateOrganization::new("Initech")
                .with_domain(DomainData::verified("initech.com"))
                .with_external_id("crm-1")
                .with_metadata("tier", "gold"),
        )
        .await
        .unwrap();
    assert!(created.id.starts_with("org_"));
    assert_eq!(created.domains[0].domain, "initech.com");
    assert_eq!(created.metadata["tier"], "gold");
    assert_eq!(client.get_organization(&created.id).await.unwrap(), created);
    assert_eq!(
        client
            .get_organization_by_external_id("crm-1")
            .await
            .unwrap(),
        created
    );

    let updated = client
        .update_organization(
            &UpdateOrganization::new(&created.id)
                .with_name("Initrode")
                .with_metadata("tier", "platinum"),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Initrode");
    assert_eq!(updated.metadata["tier"], "platinum");
    assert_eq!(
        updated.domains, created.domains,
        "domains left as they were"
    );

    client.delete_organization(&created.id).await.unwrap();
    let err = client.get_organization(&created.id).await.unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
    assert_eq!(err.code(), Some("entity_not_found"));
}

#[tokio::test]
async fn the_stream_walks_every_page_of_organizations_in_order() {
    let emulator = Emulator::builder().start().await.unwrap();
    let client = emulator.client();
    let mut made = Vec::new();
    for i in 0..7 {
        let org = client
            .create_organization(&CreateOrganization::new(format!("Org {i}")))
            .await
            .unwrap();
        made.push(org.id);
    }
    emulator.reset_counters();
    let params = ListOrganizations {
        pagination: PaginationParams {
            limit: Some(3),
            order: Order::Asc,
            ..Default::default()
        },
        ..Default::default()
    };
    let all: Vec<Organization> = client
        .list_organizations_stream(params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = all.into_iter().map(|o| o.id).collect();
    assert_eq!(ids, made);
    assert_eq!(
        emulator.request_count("/organizations"),
        3,
        "pages of 3, 3, 1"
    );
}

// ---------------------------------------------------------------------------
// CurrentOrganization over HTTP
// ---------------------------------------------------------------------------

const LONER: &str = "loner@example.com";

async fn organization(org: CurrentOrganization) -> Json<Value> {
    Json(json!({"id": org.id, "name": org.name}))
}

async fn maybe_organization(org: Option<CurrentOrganization>) -> String {
    org.map_or_else(|| "none".to_owned(), |org| org.name.clone())
}

async fn start(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    let seed = Seed::demo().with_user(SeedUser::new(LONER, app::PASSWORD));
    let emulator = Emulator::builder().with_seed(seed).start().await.unwrap();
    let routes = Router::new()
        .route("/api/organization", get(organization))
        .route("/api/maybe-organization", get(maybe_organization))
        .route("/organization", get(organization));
    app::start_with(emulator, configure, routes).await
}

async fn signed_in(app: &App, email: &str) -> Jar {
    app.sign_in(Jar::default(), "/auth/login", email).await.0
}

fn demo_org(app: &App) -> String {
    app.emulator.organizations()[0].id.clone()
}

#[tokio::test]
async fn the_session_organization_is_fetched_once_for_many_requests() {
    let app = start(|b| b).await;
    let mut jar = signed_in(&app, EMAIL).await;
    let id = demo_org(&app);
    let path = format!("/organizations/{id}");
    app.emulator.reset_counters();
    for _ in 0..5 {
        let r = app.get_json(&mut jar, "/api/organization").await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body, json!({"id": id, "name": "Demo Organization"}));
    }
    assert_eq!(app.emulator.request_count(&path), 1);
    // Concurrent first requests of another app share one fetch too.
    let other = start(|b| b).await;
    let jar = signed_in(&other, EMAIL).await;
    let path = format!("/organizations/{}", demo_org(&other));
    other.emulator.reset_counters();
    let answers = futures_util::future::join_all((0..8).map(|_| {
        let mut jar = jar.clone();
        let other = &other;
        async move { other.get_json(&mut jar, "/api/organization").await.status() }
    }))
    .await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    assert_eq!(other.emulator.request_count(&path), 1);
}

#[tokio::test]
async fn a_bearer_token_gets_its_organization_from_the_same_cache() {
    let app = start(|b| b).await;
    let auth = app
        .emulator
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: EMAIL.into(),
            password: app::PASSWORD.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let id = demo_org(&app);
    app.emulator.reset_counters();
    for _ in 0..3 {
        let r = app
            .http
            .get(format!("{}/api/organization", app.base))
            .header(
                AUTHORIZATION,
                format!("Bearer {}", auth.access_token.expose()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["name"], "Demo Organization");
    }
    let mut jar = signed_in(&app, EMAIL).await;
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.emulator.request_count(&format!("/organizations/{id}")),
        1,
        "one fetch for the Bearer requests and the cookie session"
    );
}

#[tokio::test]
async fn a_renamed_organization_shows_once_its_cache_entry_expires() {
    let app = start(|b| b.with_organization_cache_ttl(Duration::from_secs(120))).await;
    let mut jar = signed_in(&app, EMAIL).await;
    let id = demo_org(&app);
    let name = |r: Value| r["name"].as_str().unwrap().to_owned();
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(name(r.json().await.unwrap()), "Demo Organization");
    app.emulator
        .client()
        .update_organization(&UpdateOrganization::new(&id).with_name("Renamed"))
        .await
        .unwrap();
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(name(r.json().await.unwrap()), "Demo Organization", "cached");

    app.emulator.clock().advance(Duration::from_secs(121));
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(r.status(), 200);
    assert_eq!(name(r.json().await.unwrap()), "Renamed");

    // And at once after forget_organization.
    app.emulator
        .client()
        .update_organization(&UpdateOrganization::new(&id).with_name("Renamed again"))
        .await
        .unwrap();
    app.authkit.sessions().forget_organization(&id);
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(name(r.json().await.unwrap()), "Renamed again");
}

#[tokio::test]
async fn workos_down_is_503_with_retry_after_and_the_session_kept() {
    let app = start(|b| b).await;
    let mut jar = signed_in(&app, EMAIL).await;
    let session = jar.session().cloned().unwrap();
    app.emulator.faults().inject(
        "/organizations",
        Fault::status(503)
            .with_retry_after(Duration::from_secs(12))
            .forever(),
    );
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()[RETRY_AFTER], "12", "WorkOS's wait, passed on");
    assert!(
        set_cookies(&r).is_empty(),
        "the cookie is neither set nor cleared"
    );
    let body: Value = r.json().await.unwrap();
    assert!(
        body.to_string().contains("temporarily unavailable"),
        "{body}"
    );
    // The optional form answers the outage too, rather than "no organization".
    let r = app.get_json(&mut jar, "/api/maybe-organization").await;
    assert_eq!(r.status(), 503);
    // A browser navigation gets the 503 page.
    let r = app.get(&mut jar, "/organization").await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("Try again"));

    app.emulator.faults().clear();
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(r.status(), 200);
    assert_eq!(jar.session(), Some(&session));
}

#[tokio::test]
async fn a_session_without_an_organization_is_403_and_none_for_the_optional_form() {
    let app = start(|b| b).await;
    let mut jar = signed_in(&app, LONER).await;
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "forbidden");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("needs a session in an organization"),
        "{body}"
    );
    let r = app.get_json(&mut jar, "/api/maybe-organization").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "none");
    assert_eq!(
        app.emulator.request_count("/organizations"),
        0,
        "no call without an organization"
    );
}

#[tokio::test]
async fn a_deleted_organization_is_403_not_a_server_error() {
    let app = start(|b| b).await;
    let mut jar = signed_in(&app, EMAIL).await;
    let id = demo_org(&app);
    app.emulator
        .client()
        .delete_organization(&id)
        .await
        .unwrap();
    app.emulator.reset_counters();
    let r = app.get_json(&mut jar, "/api/organization").await;
    assert_eq!(r.status(), 403);
    let r = app.get_json(&mut jar, "/api/maybe-organization").await;
    assert_eq!(r.text().await.unwrap(), "none");
    // The 404 is kept like a value: a page naming it costs no call per request.
    for _ in 0..3 {
        app.get_json(&mut jar, "/api/maybe-organization").await;
    }
    assert_eq!(
        app.emulator.request_count(&format!("/organizations/{id}")),
        1
    );
}

#[tokio::test]
async fn signed_out_is_401_for_apis_a_login_redirect_for_pages_and_none_when_optional() {
    let app = start(|b| b).await;
    let r = app
        .http
        .get(format!("{}/api/organization", app.base))
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let mut jar = Jar::default();
    let r = app.get(&mut jar, "/organization").await;
    assert_eq!(r.status(), 307);
    assert!(app::location(&r).starts_with("/auth/login?return_to="));
    let r = app.get_json(&mut jar, "/api/maybe-organization").await;
    assert_eq!(r.text().await.unwrap(), "none");
    // A refused Bearer token is still 401 for the optional form.
    let r = app
        .http
        .get(format!("{}/api/maybe-organization", app.base))
        .header(AUTHORIZATION, "Bearer not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

// ---------------------------------------------------------------------------
// examples/organizations.rs: its create form refuses other sites
// ---------------------------------------------------------------------------

#[path = "../../examples/organizations.rs"]
#[allow(
    dead_code,
    unused_imports,
    clippy::duplicate_mod,
    reason = "each example brings its own copy of examples/support (custom_login's too)"
)]
mod example;

#[tokio::test]
async fn the_examples_create_form_refuses_a_post_from_another_site_or_a_sibling_subdomain() {
    let emulator = Emulator::builder()
        .with_seed(example::seed())
        .start()
        .await
        .unwrap();
    let app = app::serve(emulator, |b| b, example::app).await;
    // Ada signs in to Acme (she belongs to two organizations).
    let workos = app.emulator.client();
    let pending = match workos
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "ada@example.com".into(),
            password: example::PASSWORD.into(),
            ..Default::default()
        })
        .await
    {
        Err(Error::OrganizationSelectionRequired(e)) => e,
        other => panic!("{other:?}"),
    };
    let acme = pending
        .organizations
        .iter()
        .find(|o| o.name == "Acme")
        .unwrap()
        .id
        .clone();
    let auth = workos
        .authenticate_with_organization_selection(
            &authkit_axum::client::AuthenticateWithOrganizationSelection {
                organization_id: acme,
                pending_authentication_token: pending.pending_authentication_token.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let cookies = app
        .authkit
        .save_session(&auth, &axum::http::HeaderMap::new())
        .await
        .unwrap();
    let response = axum::response::IntoResponse::into_response((cookies, ()));
    let mut jar = Jar::default();
    for value in response.headers().get_all("set-cookie") {
        let (name, rest) = value.to_str().unwrap().split_once('=').unwrap();
        jar.0
            .insert(name.to_owned(), rest.split(';').next().unwrap().to_owned());
    }
    let organizations = app.emulator.organizations().len();
    let post = |origin: String, fetch_site: &'static str, name: &'static str| {
        app.http
            .post(format!("{}/organizations", app.base))
            .header(ACCEPT, "text/html")
            .header("cookie", jar.header())
            .header("origin", origin)
            .header("sec-fetch-site", fetch_site)
            .form(&[("name", name)])
            .send()
    };
    // Another site, and a sibling subdomain (same site: a Lax cookie goes along).
    for (origin, site) in [
        ("https://evil.example", "cross-site"),
        ("http://evil.127.0.0.1.example", "same-site"),
    ] {
        let r = post(origin.to_owned(), site, "Evil Corp").await.unwrap();
        assert_eq!(r.status(), 403, "{origin}");
    }
    assert_eq!(
        app.emulator.organizations().len(),
        organizations,
        "nothing was created"
    );
    // The app's own page posts it.
    let r = post(app.base.clone(), "same-origin", "Initech")
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert!(
        app.emulator
            .organizations()
            .iter()
            .any(|o| o.name == "Initech")
    );
}
