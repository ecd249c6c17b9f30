//! Users in several organizations: `cargo run --example organizations`.
//!
//! The emulator is seeded with a user who belongs to two organizations, with
//! different roles. AuthKit asks which one to sign in to; `/` shows the
//! current one and a form that switches with `POST /auth/switch-organization`
//! (a refresh into the other organization, no new login needed).

mod support;

use authkit_axum::AuthUser;
use authkit_axum::emulator::{Seed, SeedMembership, SeedOrganization, SeedRole, SeedUser};
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use support::{escape, page};

const PASSWORD: &str = "two-orgs-password-123";

fn seed() -> Seed {
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

async fn home(user: Option<AuthUser>) -> Html<String> {
    let Some(user) = user else {
        return page(
            "Organizations",
            "<h1>Organizations</h1><p><a href=\"/auth/login\">Sign in</a> as ada@example.com</p>",
        );
    };
    let current = user.organization_id().unwrap_or("none").to_owned();
    page(
        "Organizations",
        &format!(
            "<h1>Hello {email}</h1>\
             <p>Current organization: <code>{org}</code>, role <code>{role}</code>, permissions <code>{perms}</code></p>\
             <form method=\"post\" action=\"/auth/switch-organization\">\
             <label>Switch to organization id <input name=\"organization_id\" required></label>\
             <input type=\"hidden\" name=\"return_to\" value=\"/\"><button>Switch</button></form>\
             <form method=\"post\" action=\"/auth/logout\"><button>Sign out</button></form>",
            email = escape(&user.user.email),
            org = escape(&current),
            role = escape(user.role().unwrap_or("none")),
            perms = escape(&user.permissions().join(", ")),
        ),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = support::port();
    let (authkit, emulator) = support::authkit(port, seed()).await?;
    if let Some(emulator) = &emulator {
        println!("User: ada@example.com / {PASSWORD}");
        for org in emulator.organizations() {
            println!("Organization {} = {}", org.name, org.id);
        }
    }
    let app = Router::new()
        .route("/", get(home))
        .merge(authkit.routes())
        .layer(authkit.layer());
    support::serve(app, port).await
}
