//! Users in several organizations: `cargo run --example organizations`.
//!
//! The emulator is seeded with a user who belongs to two organizations, with
//! different roles. AuthKit asks which one to sign in to; `/` shows the
//! current one by name ([`CurrentOrganization`]: fetched once, then cached
//! for five minutes, not a WorkOS call per page), the user's other
//! organizations with a button that switches with
//! `POST /auth/switch-organization` (a refresh into the other organization,
//! no new login needed), and a form that creates an organization (the
//! Organizations API) and makes the user its member. That form, like every
//! post of an app's own, is refused when another site sends it
//! (`AuthKit::is_cross_site`): `SameSite=Lax` keeps the session cookie off
//! posts from other *sites*, but a sibling subdomain is the same site.

mod support;

use authkit_axum::client::{
    CreateOrganization, CreateOrganizationMembership, ListOrganizationMemberships,
    OrganizationMembershipStatus, UserManagement,
};
use authkit_axum::emulator::{Seed, SeedMembership, SeedOrganization, SeedRole, SeedUser};
use authkit_axum::{AuthKit, AuthUser, CurrentOrganization};
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, http::StatusCode};
use serde::Deserialize;
use support::{escape, page};

/// The seeded user's password.
pub const PASSWORD: &str = "two-orgs-password-123";

/// ada@example.com, in Acme (admin) and Globex (member).
pub fn seed() -> Seed {
    Seed {
        users: vec![SeedUser::new("ada@example.com", PASSWORD)],
        organizations: vec![
            SeedOrganization::new("Acme").with_role(SeedRole::new("admin", ["billing:manage"])),
            SeedOrganization::new("Globex").with_role(SeedRole::new("member", ["reports:read"])),
        ],
        memberships: vec![
            SeedMembership::new("ada@example.com", "Acme", "admin"),
            SeedMembership::new("ada@example.com", "Globex", "member"),
        ],
        ..Seed::default()
    }
}

/// The app: `/`, the create form's `POST /organizations`, AuthKit's routes,
/// behind its layer.
pub fn app(authkit: &AuthKit) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/organizations", post(create))
        .with_state(authkit.clone())
        .merge(authkit.routes())
        .layer(authkit.layer())
}

async fn home(
    State(authkit): State<AuthKit>,
    user: Option<AuthUser>,
    org: Option<CurrentOrganization>,
) -> Html<String> {
    let Some(user) = user else {
        return page(
            "Organizations",
            "<h1>Organizations</h1><p><a href=\"/auth/login\">Sign in</a> as ada@example.com</p>",
        );
    };
    let current = org.as_ref().map_or("no organization", |o| o.name.as_str());
    // The memberships carry each organization's name: one call, for the
    // switcher only (the current organization's name came from the cache).
    let memberships = authkit
        .client()
        .list_organization_memberships(&ListOrganizationMemberships {
            user_id: Some(user.user.id.clone()),
            statuses: vec![OrganizationMembershipStatus::Active],
            ..Default::default()
        })
        .await
        .map(|list| list.data)
        .unwrap_or_default();
    let others: String = memberships
        .iter()
        .filter(|m| Some(m.organization_id.as_str()) != user.organization_id())
        .map(|m| {
            format!(
                "<form method=\"post\" action=\"/auth/switch-organization\">\
                 <input type=\"hidden\" name=\"organization_id\" value=\"{id}\">\
                 <input type=\"hidden\" name=\"return_to\" value=\"/\">\
                 <button>Switch to {name}</button></form>",
                id = escape(&m.organization_id),
                name = escape(m.organization_name.as_deref().unwrap_or(&m.organization_id)),
            )
        })
        .collect();
    page(
        "Organizations",
        &format!(
            "<h1>Hello {email}</h1>\
             <p>Current organization: <strong>{org}</strong>, role <code>{role}</code>, permissions <code>{perms}</code></p>\
             {others}\
             <form method=\"post\" action=\"/organizations\">\
             <label>New organization <input name=\"name\" required></label> <button>Create</button></form>\
             <form method=\"post\" action=\"/auth/logout\"><button>Sign out</button></form>",
            email = escape(&user.user.email),
            org = escape(current),
            role = escape(user.role().unwrap_or("none")),
            perms = escape(&user.permissions().join(", ")),
        ),
    )
}

#[derive(Deserialize)]
struct NewOrganization {
    name: String,
}

/// Creates an organization and makes the signed-in user its member; the
/// switcher on `/` then offers it. Refused (403) when posted from another
/// site, sibling subdomains included, which `SameSite=Lax` lets through.
async fn create(
    State(authkit): State<AuthKit>,
    headers: HeaderMap,
    user: AuthUser,
    Form(form): Form<NewOrganization>,
) -> Response {
    if authkit.is_cross_site(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "this form was posted from another site",
        )
            .into_response();
    }
    let workos: &UserManagement = authkit.client();
    let name = form.name.trim();
    if name.is_empty() {
        return (StatusCode::BAD_REQUEST, "the organization needs a name").into_response();
    }
    let created = async {
        let org = workos
            .create_organization(&CreateOrganization::new(name))
            .await?;
        workos
            .create_organization_membership(&CreateOrganizationMembership {
                user_id: user.user.id.clone(),
                organization_id: org.id.clone(),
                ..Default::default()
            })
            .await
    };
    match created.await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(e) if e.is_transient() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "WorkOS is unavailable; try again shortly",
        )
            .into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

#[allow(
    dead_code,
    reason = "the test includes this file and calls `app` instead"
)]
#[tokio::main]
async fn main() -> Result<(), support::Report> {
    let port = support::port();
    let (authkit, emulator) = support::authkit(port, seed()).await?;
    if let Some(emulator) = &emulator {
        println!("User: ada@example.com / {PASSWORD}");
        for org in emulator.organizations() {
            println!("Organization {} = {}", org.name, org.id);
        }
    }
    Ok(support::serve(app(&authkit), port).await?)
}
