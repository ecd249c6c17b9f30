//! The emulator's Organizations API over raw HTTP. No recorded fixtures
//! exist for `/organizations`: the shapes followed are the WorkOS API
//! reference's `organization` object (`object, id, name, domains,
//! external_id, metadata, allow_profiles_outside_organization,
//! stripe_customer_id, created_at, updated_at`) and `organization_domain`
//! object (`object, id, organization_id, domain, state,
//! verification_strategy, verification_token, created_at, updated_at`), as
//! workos-node's `OrganizationResponse` and `OrganizationDomainResponse`
//! read them; errors are the API's `entity_not_found` (404), validation
//! (422) and domain conflict (409, workos-node's
//! `create-organization-invalid.json` message).

mod support;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

#[tokio::test]
async fn create_answers_the_reference_shapes_of_an_organization_and_its_domains() {
    let emu = start().await;
    let (status, org) = api(
        &emu,
        Method::POST,
        "/organizations",
        Some(
            json!({"name": "Initech", "external_id": "crm-1", "metadata": {"tier": "gold"},
            "domain_data": [{"domain": "Initech.com", "state": "verified"},
                            {"domain": "initech.io", "state": "pending"}]}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{org}");
    assert_eq!(
        keys(&org),
        set(&[
            "object",
            "id",
            "name",
            "domains",
            "external_id",
            "metadata",
            "allow_profiles_outside_organization",
            "stripe_customer_id",
            "created_at",
            "updated_at"
        ])
    );
    assert_eq!(org["object"], "organization");
    assert!(org["id"].as_str().unwrap().starts_with("org_"));
    assert_eq!(org["name"], "Initech");
    assert_eq!(org["external_id"], "crm-1");
    assert_eq!(org["metadata"], json!({"tier": "gold"}));
    let domains = org["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 2);
    for d in domains {
        assert_eq!(
            keys(d),
            set(&[
                "object",
                "id",
                "organization_id",
                "domain",
                "state",
                "verification_strategy",
                "verification_token",
                "created_at",
                "updated_at"
            ])
        );
        assert_eq!(d["object"], "organization_domain");
        assert!(d["id"].as_str().unwrap().starts_with("org_domain_"));
        assert_eq!(d["organization_id"], org["id"]);
    }
    assert_eq!(domains[0]["domain"], "initech.com", "lower-cased");
    assert_eq!(domains[0]["state"], "verified");
    assert_eq!(domains[0]["verification_token"], Value::Null);
    assert_eq!(domains[1]["state"], "pending");
    assert_eq!(domains[1]["verification_strategy"], "dns");
    assert!(domains[1]["verification_token"].is_string());

    let id = org["id"].as_str().unwrap();
    let got = api_ok(&emu, Method::GET, &format!("/organizations/{id}"), None).await;
    assert_eq!(got, org);
    let by_external = api_ok(&emu, Method::GET, "/organizations/external_id/crm-1", None).await;
    assert_eq!(by_external, org);
}

#[tokio::test]
async fn unknown_organizations_are_entity_not_found() {
    let emu = start().await;
    for (method, path) in [
        (Method::GET, "/organizations/org_nope"),
        (Method::PUT, "/organizations/org_nope"),
        (Method::DELETE, "/organizations/org_nope"),
        (Method::GET, "/organizations/external_id/nope"),
    ] {
        let body = (method == Method::PUT).then(|| json!({"name": "x"}));
        let (status, answer) = api(&emu, method.clone(), path, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
        assert_eq!(answer["code"], "entity_not_found");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .starts_with("Organization not found")
        );
    }
}

#[tokio::test]
async fn bad_bodies_are_validation_errors_and_taken_domains_conflict() {
    let emu = start().await;
    let (status, answer) = api(&emu, Method::POST, "/organizations", Some(json!({}))).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["code"], "name_string_required");
    let (status, answer) = api(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "X", "domain_data": [{"domain": "not a domain", "state": "sure"}]})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    let codes: Vec<&str> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["domain_invalid", "state_invalid"]);

    let body = json!({"name": "A", "external_id": "ext-a",
        "domain_data": [{"domain": "a.example", "state": "verified"}]});
    api_ok(&emu, Method::POST, "/organizations", Some(body)).await;
    let (status, answer) = api(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "B", "domain_data": [{"domain": "a.example", "state": "pending"}]})),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(
        answer["message"],
        "An Organization with the domain a.example already exists."
    );
    let (status, answer) = api(
        &emu,
        Method::POST,
        "/organizations",
        Some(json!({"name": "B", "external_id": "ext-a"})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["errors"][0]["code"], "external_id_not_available");
}

#[tokio::test]
async fn a_repeated_idempotency_key_answers_the_first_organization() {
    let emu = start().await;
    let http = reqwest::Client::new();
    let create = || {
        http.post(format!("{}/organizations", emu.base_url()))
            .bearer_auth(emu.api_key())
            .header("Idempotency-Key", "signup-1")
            .json(&json!({"name": "Once"}))
            .send()
    };
    let first: Value = create().await.unwrap().json().await.unwrap();
    let second = create().await.unwrap();
    assert_eq!(second.status(), 201);
    let second: Value = second.json().await.unwrap();
    assert_eq!(first["id"], second["id"]);
    let named_once = emu
        .organizations()
        .iter()
        .filter(|o| o.name == "Once")
        .count();
    assert_eq!(named_once, 1);
}

#[tokio::test]
async fn list_pages_through_organizations_and_filters_by_domain() {
    let emu = start().await; // the seed has Acme and Globex
    for i in 0..3 {
        let body = json!({"name": format!("Org {i}"),
            "domain_data": [{"domain": format!("org{i}.example"), "state": "verified"}]});
        api_ok(&emu, Method::POST, "/organizations", Some(body)).await;
    }
    let first = api_ok(&emu, Method::GET, "/organizations?limit=2", None).await;
    assert_eq!(first["object"], "list");
    let names = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["Org 2", "Org 1"], "newest first");
    let after = first["list_metadata"]["after"].as_str().unwrap();
    let second = api_ok(
        &emu,
        Method::GET,
        &format!("/organizations?limit=2&after={after}"),
        None,
    )
    .await;
    assert_eq!(names(&second), ["Org 0", "Globex"]);
    let filtered = api_ok(
        &emu,
        Method::GET,
        "/organizations?domains=org0.example,ORG2.example",
        None,
    )
    .await;
    assert_eq!(names(&filtered), ["Org 2", "Org 0"]);
}

#[tokio::test]
async fn update_renames_replaces_domains_and_edits_metadata_and_memberships_follow() {
    let emu = start().await;
    let created = api_ok(
        &emu,
        Method::POST,
        "/organizations",
        Some(
            json!({"name": "Old", "metadata": {"keep": "1", "drop": "2"}, "external_id": "e1",
            "domain_data": [{"domain": "keep.example", "state": "verified"},
                            {"domain": "drop.example", "state": "verified"}]}),
        ),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let alice = user_id(&emu, ALICE);
    api_ok(
        &emu,
        Method::POST,
        &format!("{UM}/organization_memberships"),
        Some(json!({"user_id": alice, "organization_id": id})),
    )
    .await;
    let updated = api_ok(
        &emu,
        Method::PUT,
        &format!("/organizations/{id}"),
        Some(
            json!({"name": "New", "external_id": null, "metadata": {"drop": null, "add": "3"},
            "domain_data": [{"domain": "keep.example", "state": "verified"},
                            {"domain": "new.example", "state": "pending"}]}),
        ),
    )
    .await;
    assert_eq!(updated["name"], "New");
    assert_eq!(updated["external_id"], Value::Null);
    assert_eq!(updated["metadata"], json!({"keep": "1", "add": "3"}));
    let domains: Vec<&str> = updated["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["keep.example", "new.example"]);
    assert_eq!(
        updated["domains"][0]["id"], created["domains"][0]["id"],
        "a kept domain keeps its id"
    );
    let memberships = api_ok(
        &emu,
        Method::GET,
        &format!("{UM}/organization_memberships?organization_id={id}"),
        None,
    )
    .await;
    assert_eq!(memberships["data"][0]["organization_name"], "New");
    let (status, _) = api(
        &emu,
        Method::PUT,
        &format!("/organizations/{id}"),
        Some(json!({"name": "  "})),
    )
    .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn delete_removes_the_organization_and_its_memberships() {
    let emu = start().await;
    let memberships = |emu: &authkit_emulator::Emulator| {
        let path = format!("{UM}/organization_memberships?organization_id={ACME}");
        let emu = emu.clone();
        async move { api_ok(&emu, Method::GET, &path, None).await }
    };
    assert!(
        !memberships(&emu).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let (status, _) = api(
        &emu,
        Method::DELETE,
        &format!("/organizations/{ACME}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = api(&emu, Method::GET, &format!("/organizations/{ACME}"), None).await;
    assert_eq!(status, 404);
    assert!(
        memberships(&emu).await["data"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_organizations_api_wants_the_api_key() {
    let emu = start().await;
    let (status, _) = api_with_key(&emu, "sk_wrong", Method::GET, "/organizations", None).await;
    assert_eq!(status, 401);
}
