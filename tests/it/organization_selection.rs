//! The hosted callback's organization picker: when the code exchange
//! answers `organization_selection_required` (WorkOS's documented shape:
//! `pending_authentication_token`, `organizations: [{id, name}]`, `user`),
//! the callback shows the organizations, and `POST /auth/organization-selection`
//! finishes the sign-in with `authenticate_with_organization_selection`
//! exactly as the callback does (cookie, sign-in hook, `return_to`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::app::{self, App, Jar, location, set_cookies};
use authkit_axum::CallbackError;
use authkit_axum::emulator::{
    DEMO_PASSWORD, Emulator, Fault, Seed, SeedMembership, SeedOrganization, SeedUser,
};
use axum::Router;
use axum::response::{Html, IntoResponse};
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, ORIGIN, REFERRER_POLICY, RETRY_AFTER};
use serde_json::Value;

const USER: &str = "consultant@example.com";
const SELECTION_COOKIE: &str = "wos-auth-organization-selection";

fn seed() -> Seed {
    Seed::default()
        .with_user(SeedUser::new(USER, DEMO_PASSWORD))
        .with_organization(SeedOrganization::new("Acme <Corp>"))
        .with_organization(SeedOrganization::new("Globex"))
        .with_membership(SeedMembership::new(USER, "Acme <Corp>", "member"))
        .with_membership(SeedMembership::new(USER, "Globex", "member"))
}

type SignIns = Arc<Mutex<Vec<(Option<String>, String, Option<String>)>>>;

/// The app, against an emulator whose hosted pages leave the choice to the
/// code exchange; records each sign-in hook call (state, return_to, org).
async fn start(
    configure: impl FnOnce(authkit_axum::AuthKitBuilder) -> authkit_axum::AuthKitBuilder,
) -> (App, SignIns) {
    let emulator = Emulator::builder()
        .with_seed(seed())
        .with_hosted_organization_picker(false)
        .start()
        .await
        .unwrap();
    let sign_ins: SignIns = Arc::default();
    let record = sign_ins.clone();
    let app = app::start_with(
        emulator,
        move |b| {
            configure(b.with_on_sign_in(move |s| {
                record.lock().unwrap().push((
                    s.state().map(str::to_owned),
                    s.return_to().to_owned(),
                    s.organization_id.clone(),
                ));
                async {}
            }))
        },
        Router::new(),
    )
    .await;
    (app, sign_ins)
}

/// Through the hosted login to the callback, which answers the picker.
async fn to_the_picker(app: &App) -> (Jar, reqwest::Response) {
    let pending = app
        .start_login(
            Jar::default(),
            "/auth/login?return_to=%2Faccount%3Ftab%3D1&state=plan-pro",
            USER,
        )
        .await;
    let mut jar = pending.jar.clone();
    let path = pending
        .callback
        .strip_prefix(&app.origin)
        .unwrap()
        .to_owned();
    let r = app.get(&mut jar, &path).await;
    (jar, r)
}

fn org_id(app: &App, name: &str) -> String {
    app.emulator
        .organizations()
        .into_iter()
        .find(|o| o.name == name)
        .unwrap()
        .id
}

async fn choose(
    app: &App,
    jar: &mut Jar,
    organization_id: &str,
    origin: &str,
) -> reqwest::Response {
    let r = app
        .http
        .post(format!("{}/auth/organization-selection", app.base))
        .header(ORIGIN, origin)
        .header(COOKIE, jar.header())
        .form(&[("organization_id", organization_id)])
        .send()
        .await
        .unwrap();
    jar.absorb(&r);
    r
}

#[tokio::test]
async fn the_callback_lists_the_organizations_and_the_chosen_one_signs_in() {
    let (app, sign_ins) = start(|b| b).await;
    let (mut jar, r) = to_the_picker(&app).await;
    assert_eq!(r.status(), 200);
    assert!(jar.session().is_none(), "not signed in before the choice");
    assert!(jar.flows().is_empty(), "the login flow's cookie is spent");
    assert!(jar.0.contains_key(SELECTION_COOKIE));
    let headers = r.headers().clone();
    assert_eq!(headers[REFERRER_POLICY], "same-origin");
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("form-action 'self'"), "{csp}");
    assert_eq!(headers["cache-control"], "no-store");
    let html = r.text().await.unwrap();
    assert!(html.contains("Acme &lt;Corp&gt;"), "escaped names: {html}");
    assert!(html.contains(">Globex</button>"), "{html}");
    assert!(html.contains(USER), "{html}");
    assert!(
        html.contains("action=\"/auth/organization-selection\""),
        "{html}"
    );
    // The pending token stays in the sealed cookie, never in the page.
    let sealed = jar.0[SELECTION_COOKIE].clone();
    assert!(sealed.starts_with("Fe26.2*"), "{sealed}");
    let pending: serde_json::Value = authkit_axum::seal::unseal(
        &sealed,
        app.authkit.sessions().passwords(),
        authkit_axum::seal::UnsealOptions::default().with_now(app.authkit.sessions().now()),
    )
    .expect("the selection cookie unseals with the app's password");
    let token = pending["token"].as_str().expect("the pending token");
    assert!(token.len() > 8, "{pending}");
    assert!(
        !html.contains(token),
        "the pending token is in the page: {html}"
    );

    let globex = org_id(&app, "Globex");
    let r = choose(&app, &mut jar, &globex, &app.base).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/account?tab=1", "the login's return_to");
    assert!(jar.session().is_some());
    assert!(
        !jar.0.contains_key(SELECTION_COOKIE),
        "the selection is spent"
    );
    let r = app.get_json(&mut jar, "/account").await;
    let account: Value = r.json().await.unwrap();
    assert_eq!(account["org"], globex.as_str());
    assert_eq!(
        *sign_ins.lock().unwrap(),
        [(
            Some("plan-pro".to_owned()),
            "/account?tab=1".to_owned(),
            Some(globex)
        )],
        "the sign-in hook ran once, with the login's state"
    );
    // The same choice again: nothing is waiting any more.
    let mut replay = Jar::default();
    replay.0.insert(SELECTION_COOKIE.into(), sealed.clone());
    let r = choose(&app, &mut replay, &org_id(&app, "Globex"), &app.base).await;
    assert_eq!(r.status(), 400, "WorkOS spent the pending token");
    assert!(replay.session().is_none());
}

#[tokio::test]
async fn workos_down_when_the_choice_is_posted_is_a_503_page_with_its_wait_and_a_retry() {
    let (app, sign_ins) = start(|b| b).await;
    let (mut jar, _) = to_the_picker(&app).await;
    let globex = org_id(&app, "Globex");
    app.emulator.faults().inject(
        "/user_management/authenticate",
        Fault::status(503)
            .with_retry_after(Duration::from_secs(25))
            .forever()
            .for_grant("urn:workos:oauth:grant-type:organization-selection"),
    );
    let r = choose(&app, &mut jar, &globex, &app.base).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()[RETRY_AFTER], "25", "WorkOS's wait, passed on");
    assert!(jar.session().is_none(), "not signed in");
    assert!(sign_ins.lock().unwrap().is_empty());
    // The pending choice is kept: once WorkOS is back, the same choice signs in.
    app.emulator.faults().clear();
    let r = choose(&app, &mut jar, &globex, &app.base).await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(jar.session().is_some(), "signed in");
}

#[tokio::test]
async fn an_organization_that_was_not_offered_is_refused() {
    let (app, sign_ins) = start(|b| b).await;
    let (mut jar, _) = to_the_picker(&app).await;
    let r = choose(&app, &mut jar, "org_01NOTOFFERED", &app.base).await;
    assert_eq!(r.status(), 400);
    assert!(jar.session().is_none());
    assert!(sign_ins.lock().unwrap().is_empty());
    assert_eq!(
        app.emulator
            .grant_count("urn:workos:oauth:grant-type:organization-selection"),
        0,
        "refused before WorkOS"
    );
}

#[tokio::test]
async fn a_cross_site_choice_is_refused_and_a_missing_selection_is_a_400() {
    let (app, _) = start(|b| b).await;
    let (mut jar, _) = to_the_picker(&app).await;
    let r = choose(
        &app,
        &mut jar,
        &org_id(&app, "Globex"),
        "http://evil.example",
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(jar.session().is_none());
    assert!(
        jar.0.contains_key(SELECTION_COOKIE),
        "kept for the real choice"
    );

    for cookie in [None, Some("Fe26.2**forged"), Some("%ff")] {
        let mut other = Jar::default();
        if let Some(value) = cookie {
            other.0.insert(SELECTION_COOKIE.into(), value.into());
        }
        let r = choose(&app, &mut other, &org_id(&app, "Globex"), &app.base).await;
        assert_eq!(r.status(), 400, "{cookie:?}");
        assert!(set_cookies(&r).iter().all(|(n, _, _)| n != "wos-session"));
    }
}

#[tokio::test]
async fn the_callback_error_hook_can_replace_the_picker_and_its_form_still_works() {
    let (app, _) = start(|b| {
        b.with_on_callback_error(|e| match e {
            CallbackError::OrganizationSelectionRequired { organizations, .. } => Some(
                Html(format!(
                    "<h1>Pick a workspace</h1>{}",
                    organizations
                        .iter()
                        .map(|o| format!("<button value=\"{}\">{}</button>", o.id, o.name))
                        .collect::<String>()
                ))
                .into_response(),
            ),
            _ => None,
        })
    })
    .await;
    let (mut jar, r) = to_the_picker(&app).await;
    assert_eq!(r.status(), 200);
    assert!(
        jar.0.contains_key(SELECTION_COOKIE),
        "the hook's page posts to the same route"
    );
    assert!(r.text().await.unwrap().contains("Pick a workspace"));
    let r = choose(&app, &mut jar, &org_id(&app, "Acme <Corp>"), &app.base).await;
    assert_eq!(r.status(), 303);
    assert!(jar.session().is_some());
}
