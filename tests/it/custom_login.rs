//! `examples/custom_login.rs` — the app's own email + password form — driven
//! over HTTP against the emulator through every step WorkOS can ask for:
//! email verification code, TOTP enrollment, TOTP challenge, organization
//! choice; then signed in by `AuthKit::save_session`, with the callback's
//! cookie. The challenges follow WorkOS's documented shapes (User
//! Management "authentication errors": `email_verification_required`,
//! `mfa_enrollment`, `mfa_challenge`, `organization_selection_required`; the
//! MFA API's `POST /auth/factors/{id}/challenge`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::app::{self, App, Jar, location, set_cookies};
use authkit_axum::client::ListAuthFactors;
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, ExposeSecret};
use reqwest::header::{ACCEPT, COOKIE, ORIGIN, SET_COOKIE};

#[path = "../../examples/custom_login.rs"]
#[allow(dead_code, unused_imports)]
mod example;

use example::{
    ENROLLING_USER, EVERY_STEP_USER, PENDING_COOKIE, PLAIN_USER, TOTP_SECRET, TOTP_USER,
    TWO_ORGANIZATIONS_USER, UNVERIFIED_USER,
};

struct Started {
    app: App,
    sign_ins: Arc<AtomicUsize>,
}

async fn start() -> Started {
    let emulator = Emulator::builder()
        .with_seed(example::seed())
        .start()
        .await
        .unwrap();
    let sign_ins = Arc::new(AtomicUsize::new(0));
    let counter = sign_ins.clone();
    let app = app::serve(
        emulator,
        move |b| {
            b.with_on_sign_in(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
                async {}
            })
        },
        example::app,
    )
    .await;
    Started { app, sign_ins }
}

/// A same-origin form post, as the browser sends the example's forms.
async fn post(app: &App, jar: &mut Jar, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .header(ACCEPT, "text/html")
        .header(ORIGIN, &app.base)
        .header(COOKIE, jar.header())
        .form(form)
        .send()
        .await
        .unwrap();
    jar.absorb(&r);
    r
}

/// The text between `start` and the next `<` of `html`.
/// The form's first step: email and the demo password.
async fn log_in(app: &App, jar: &mut Jar, email: &str) -> reqwest::Response {
    post(
        app,
        jar,
        "/login",
        &[("email", email), ("password", DEMO_PASSWORD)],
    )
    .await
}

fn between(html: &str, start: &str) -> String {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} in {html}"))
        + start.len();
    html[from..from + html[from..].find('<').unwrap()].to_owned()
}

/// The `value` of the hidden `organization_id` next to the button `name`.
fn organization_button(html: &str, name: &str) -> String {
    let button = html
        .find(&format!(">{name}</button>"))
        .unwrap_or_else(|| panic!("a button for {name} in {html}"));
    let before = &html[..button];
    let marker = "name=\"organization_id\" value=\"";
    let at = before.rfind(marker).unwrap() + marker.len();
    before[at..at + before[at..].find('"').unwrap()].to_owned()
}

/// Signed in: `/` names the user and the organization.
async fn home(app: &App, jar: &mut Jar) -> String {
    let r = app.get(jar, "/").await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_plain_user_signs_in_through_the_form_with_the_callbacks_cookie() {
    let Started { app, sign_ins } = start().await;
    let mut jar = Jar::default();
    let r = log_in(&app, &mut jar, PLAIN_USER).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let session = r
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("wos-session="))
        .expect("the session cookie");
    // The callback's attributes: HttpOnly, Path=/, SameSite=Lax, 400 days;
    // not Secure on an http redirect URI.
    for attribute in ["HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=34560000"] {
        assert!(session.contains(attribute), "{attribute}: {session}");
    }
    assert!(!session.contains("Secure"), "{session}");
    assert_eq!(sign_ins.load(Ordering::SeqCst), 1, "the sign-in hook ran");
    let page = home(&app, &mut jar).await;
    assert!(
        page.contains(&format!("id=\"email\">{PLAIN_USER}<")),
        "{page}"
    );
    let demo_org = &app.emulator.organizations()[0].id;
    assert!(
        page.contains(demo_org.as_str()),
        "one organization: chosen for them"
    );
    // The layer authenticates the saved session on every later request.
    let r = app.get(&mut jar, "/login").await;
    assert_eq!(r.status(), 303, "signed in, the form sends the user home");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_sets_no_cookie() {
    let Started { app, sign_ins } = start().await;
    let mut jar = Jar::default();
    let r = post(
        &app,
        &mut jar,
        "/login",
        &[("email", PLAIN_USER), ("password", "not-the-password")],
    )
    .await;
    assert_eq!(r.status(), 401);
    assert!(set_cookies(&r).is_empty());
    let html = r.text().await.unwrap();
    assert!(html.contains("Incorrect email or password."), "{html}");
    assert!(
        html.contains(&format!("value=\"{PLAIN_USER}\"")),
        "the email is kept"
    );
    assert_eq!(sign_ins.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_cross_site_post_of_the_form_is_refused_and_signs_nobody_in() {
    let Started { app, sign_ins } = start().await;
    for path in [
        "/login",
        "/login/email-code",
        "/login/totp",
        "/login/organization",
    ] {
        let r = app
            .http
            .post(format!("{}{path}", app.base))
            .header(ORIGIN, "http://evil.example")
            .form(&[("email", PLAIN_USER), ("password", DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
        assert!(set_cookies(&r).is_empty(), "{path}");
    }
    assert_eq!(
        app.emulator.grant_count("password"),
        0,
        "WorkOS never asked"
    );
    assert_eq!(sign_ins.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_unverified_user_types_the_emailed_code_then_is_signed_in() {
    let Started { app, .. } = start().await;
    let mut jar = Jar::default();
    let r = log_in(&app, &mut jar, UNVERIFIED_USER).await;
    assert_eq!(r.status(), 200);
    assert!(
        jar.0.contains_key(PENDING_COOKIE),
        "the step is kept in its cookie"
    );
    assert!(jar.session().is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("We emailed a code to"), "{html}");
    let code = app
        .emulator
        .last_email_to(UNVERIFIED_USER)
        .expect("the verification email")
        .secret
        .expose_secret()
        .to_owned();
    // The page never holds WorkOS's pending token, only the cookie does (sealed).
    assert!(!html.contains(&code));

    let r = post(&app, &mut jar, "/login/email-code", &[("code", "000000")]).await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("That code is not right"));
    let r = post(&app, &mut jar, "/login/email-code", &[("code", &code)]).await;
    assert_eq!(r.status(), 303);
    assert!(jar.session().is_some());
    assert!(
        !jar.0.contains_key(PENDING_COOKIE),
        "the step's cookie is cleared"
    );
    assert!(home(&app, &mut jar).await.contains(UNVERIFIED_USER));
}

#[tokio::test]
async fn a_user_without_a_factor_enrolls_one_with_the_shown_secret() {
    let Started { app, .. } = start().await;
    let mut jar = Jar::default();
    let r = log_in(&app, &mut jar, ENROLLING_USER).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let secret = between(&html, "<code id=\"totp-secret\">");
    let uri = between(&html, "<code id=\"totp-uri\">");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    let code = app.emulator.totp_code(&secret).unwrap();
    let r = post(&app, &mut jar, "/login/totp", &[("code", &code)]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    assert!(home(&app, &mut jar).await.contains(ENROLLING_USER));
    // The factor stays: the next sign-in is a challenge, not an enrollment.
    let mut again = Jar::default();
    let r = post(
        &app,
        &mut again,
        "/login",
        &[("email", ENROLLING_USER), ("password", DEMO_PASSWORD)],
    )
    .await;
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Type the code your authenticator app shows"),
        "{html}"
    );
    assert!(
        !html.contains("totp-secret"),
        "the secret is shown at enrollment only"
    );
}

#[tokio::test]
async fn a_user_with_a_factor_answers_the_challenge_and_a_wrong_code_is_asked_again() {
    let Started { app, sign_ins } = start().await;
    let mut jar = Jar::default();
    let r = log_in(&app, &mut jar, TOTP_USER).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Two-factor authentication")
    );
    let user = app.emulator.user_by_email(TOTP_USER).unwrap();
    let factors = app
        .emulator
        .client()
        .list_auth_factors(&ListAuthFactors::new(&user.id))
        .await
        .unwrap();
    let challenge_path = format!("/auth/factors/{}/challenge", factors.data[0].id);
    assert_eq!(
        app.emulator.request_count(&challenge_path),
        1,
        "the app challenged the factor"
    );
    let r = post(&app, &mut jar, "/login/totp", &[("code", "123456x")]).await;
    assert_eq!(r.status(), 401);
    assert!(jar.session().is_none());
    let code = app.emulator.totp_code(TOTP_SECRET).unwrap();
    let r = post(&app, &mut jar, "/login/totp", &[("code", &code)]).await;
    assert_eq!(r.status(), 303);
    assert!(home(&app, &mut jar).await.contains(TOTP_USER));
    assert_eq!(sign_ins.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_user_of_two_organizations_picks_one_and_the_session_is_in_it() {
    let Started { app, .. } = start().await;
    let mut jar = Jar::default();
    let r = post(
        &app,
        &mut jar,
        "/login",
        &[
            ("email", TWO_ORGANIZATIONS_USER),
            ("password", DEMO_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let globex = organization_button(&html, "Globex");
    organization_button(&html, "Demo Organization");
    let r = post(
        &app,
        &mut jar,
        "/login/organization",
        &[("organization_id", &globex)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = home(&app, &mut jar).await;
    assert!(
        page.contains(&format!("id=\"organization\">{globex}<")),
        "{page}"
    );
}

#[tokio::test]
async fn every_step_in_a_row_email_code_totp_enrollment_and_organization_choice() {
    let Started { app, sign_ins } = start().await;
    let mut jar = Jar::default();
    let r = log_in(&app, &mut jar, EVERY_STEP_USER).await;
    assert!(r.text().await.unwrap().contains("Verify your email"));
    let code = app
        .emulator
        .last_email_to(EVERY_STEP_USER)
        .unwrap()
        .secret
        .expose_secret()
        .to_owned();
    let r = post(&app, &mut jar, "/login/email-code", &[("code", &code)]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    let secret = between(&html, "<code id=\"totp-secret\">");
    let code = app.emulator.totp_code(&secret).unwrap();
    let r = post(&app, &mut jar, "/login/totp", &[("code", &code)]).await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Choose an organization"), "{html}");
    assert!(
        jar.session().is_none(),
        "not signed in before the last step"
    );
    let demo = organization_button(&html, "Demo Organization");
    let r = post(
        &app,
        &mut jar,
        "/login/organization",
        &[("organization_id", &demo)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let page = home(&app, &mut jar).await;
    assert!(page.contains(EVERY_STEP_USER), "{page}");
    assert!(page.contains(&demo), "{page}");
    assert_eq!(
        sign_ins.load(Ordering::SeqCst),
        1,
        "one sign-in, one hook call"
    );
}

#[tokio::test]
async fn a_step_without_its_cookie_or_with_a_forged_one_is_a_400_not_a_500() {
    let Started { app, .. } = start().await;
    for cookie in [None, Some("Fe26.2**forged"), Some("garbage")] {
        let mut jar = Jar::default();
        if let Some(value) = cookie {
            jar.0.insert(PENDING_COOKIE.to_owned(), value.to_owned());
        }
        for path in ["/login/email-code", "/login/totp", "/login/organization"] {
            let r = post(
                &app,
                &mut jar,
                path,
                &[("code", "123456"), ("organization_id", "org_x")],
            )
            .await;
            assert_eq!(r.status(), 400, "{path} with {cookie:?}");
            assert!(jar.session().is_none());
        }
    }
    // A step's cookie does not open another step.
    let mut jar = Jar::default();
    log_in(&app, &mut jar, UNVERIFIED_USER).await;
    let r = post(
        &app,
        &mut jar,
        "/login/organization",
        &[("organization_id", "org_x")],
    )
    .await;
    assert_eq!(r.status(), 400);
}

/// The step cookie's `Set-Cookie` line in `r`.
fn pending_set_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with(&format!("{PENDING_COOKIE}=")))
        .unwrap_or_else(|| panic!("a {PENDING_COOKIE} cookie in {:?}", r.headers()))
}

fn max_age(cookie: &str) -> u64 {
    cookie
        .split(';')
        .find_map(|a| a.trim().strip_prefix("Max-Age="))
        .unwrap_or_else(|| panic!("Max-Age in {cookie}"))
        .parse()
        .unwrap()
}

fn attributes(cookie: &str) -> Vec<String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_owned())
        .collect()
}

/// Answered "start again", with the step's cookie deleted.
async fn assert_started_over(r: reqwest::Response, jar: &Jar) {
    assert_eq!(r.status(), 400);
    let cleared = pending_set_cookie(&r);
    assert_eq!(max_age(&cleared), 0, "{cleared}");
    assert!(!jar.0.contains_key(PENDING_COOKIE));
    assert!(jar.session().is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("That sign-in has expired"), "{html}");
}

#[tokio::test]
async fn the_step_cookie_is_httponly_lax_on_login_and_secure_only_on_an_https_redirect_uri() {
    // Plain http (the default app): not Secure, as the session cookie.
    let Started { app, .. } = start().await;
    let mut jar = Jar::default();
    let r = log_in(&app, &mut jar, UNVERIFIED_USER).await;
    assert_eq!(r.status(), 200);
    let cookie = attributes(&pending_set_cookie(&r));
    for attribute in ["Path=/login", "HttpOnly", "SameSite=Lax"] {
        assert!(
            cookie.iter().any(|a| a == attribute),
            "{attribute}: {cookie:?}"
        );
    }
    assert!(!cookie.iter().any(|a| a == "Secure"), "{cookie:?}");

    // An https redirect URI (the app behind TLS): Secure, on every answer.
    let emulator = Emulator::builder()
        .with_seed(example::seed())
        .start()
        .await
        .unwrap();
    let secure = app::serve(
        emulator,
        |b| b.with_redirect_uri("https://app.example.test/auth/callback"),
        example::app,
    )
    .await;
    let mut jar = Jar::default();
    let send = |path: &str, jar: &Jar, form: &[(&str, &str)]| {
        secure
            .http
            .post(format!("{}{path}", secure.base))
            .header(ACCEPT, "text/html")
            .header(ORIGIN, "https://app.example.test")
            .header(COOKIE, jar.header())
            .form(form)
            .send()
    };
    let r = send(
        "/login",
        &jar,
        &[("email", UNVERIFIED_USER), ("password", DEMO_PASSWORD)],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    jar.absorb(&r);
    let cookie = attributes(&pending_set_cookie(&r));
    for attribute in ["Path=/login", "HttpOnly", "SameSite=Lax", "Secure"] {
        assert!(
            cookie.iter().any(|a| a == attribute),
            "{attribute}: {cookie:?}"
        );
    }
    // The step shown again after a wrong code, and the cookie cleared at the end.
    let r = send("/login/email-code", &jar, &[("code", "000000")])
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        attributes(&pending_set_cookie(&r))
            .iter()
            .any(|a| a == "Secure")
    );
    let code = secure
        .emulator
        .last_email_to(UNVERIFIED_USER)
        .unwrap()
        .secret
        .expose_secret()
        .to_owned();
    let r = send("/login/email-code", &jar, &[("code", &code)])
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cleared = pending_set_cookie(&r);
    assert_eq!(max_age(&cleared), 0);
    assert!(
        attributes(&cleared).iter().any(|a| a == "Secure"),
        "{cleared}"
    );
}

#[tokio::test]
async fn a_retry_keeps_the_pending_tokens_deadline_and_an_expired_token_starts_over() {
    let Started { app, sign_ins } = start().await;
    let mut jar = Jar::default();
    let r = log_in(&app, &mut jar, TOTP_USER).await;
    assert_eq!(r.status(), 200);
    assert_eq!(max_age(&pending_set_cookie(&r)), 600);
    // Six minutes later a wrong code: the step again, with 4 minutes left,
    // not a fresh 10.
    app.emulator.clock().advance(Duration::from_secs(6 * 60));
    let r = post(&app, &mut jar, "/login/totp", &[("code", "000000")]).await;
    assert_eq!(r.status(), 401);
    let left = max_age(&pending_set_cookie(&r));
    assert!((230..=240).contains(&left), "Max-Age={left}");
    let html = r.text().await.unwrap();
    assert!(html.contains("authenticator app shows now"), "{html}");
    // Past WorkOS's 10 minutes even a right code cannot finish: start again.
    app.emulator.clock().advance(Duration::from_secs(5 * 60));
    let code = app.emulator.totp_code(TOTP_SECRET).unwrap();
    let r = post(&app, &mut jar, "/login/totp", &[("code", &code)]).await;
    assert_started_over(r, &jar).await;
    assert_eq!(sign_ins.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_step_whose_pending_token_workos_already_spent_starts_over_not_a_wrong_code() {
    let Started { app, .. } = start().await;
    let mut jar = Jar::default();
    log_in(&app, &mut jar, UNVERIFIED_USER).await;
    let spent = jar.clone();
    let code = app
        .emulator
        .last_email_to(UNVERIFIED_USER)
        .unwrap()
        .secret
        .expose_secret()
        .to_owned();
    let r = post(&app, &mut jar, "/login/email-code", &[("code", &code)]).await;
    assert_eq!(r.status(), 303);
    // The step's old cookie, replayed (a second tab, the back button): the
    // cookie is still sealed and alive, but WorkOS spent its token.
    let mut replay = spent;
    let grants = app
        .emulator
        .grant_count("urn:workos:oauth:grant-type:email-verification:code");
    let r = post(&app, &mut replay, "/login/email-code", &[("code", &code)]).await;
    assert_eq!(
        app.emulator
            .grant_count("urn:workos:oauth:grant-type:email-verification:code"),
        grants + 1,
        "WorkOS was asked, and refused the spent token"
    );
    assert_started_over(r, &replay).await;
}

#[tokio::test]
async fn an_organization_that_was_not_offered_is_refused_and_the_step_stays() {
    let Started { app, sign_ins } = start().await;
    let outsider = app
        .emulator
        .client()
        .create_organization(&authkit_axum::client::CreateOrganization::new("Initech"))
        .await
        .unwrap()
        .id;
    let mut jar = Jar::default();
    let r = post(
        &app,
        &mut jar,
        "/login",
        &[
            ("email", TWO_ORGANIZATIONS_USER),
            ("password", DEMO_PASSWORD),
        ],
    )
    .await;
    let html = r.text().await.unwrap();
    assert!(!html.contains(&outsider));
    let grant = "urn:workos:oauth:grant-type:organization-selection";
    for forged in [outsider.as_str(), "org_x", ""] {
        let r = post(
            &app,
            &mut jar,
            "/login/organization",
            &[("organization_id", forged)],
        )
        .await;
        assert_eq!(r.status(), 400, "{forged}");
        assert!(jar.session().is_none());
        let html = r.text().await.unwrap();
        assert!(html.contains("Choose one of these organizations"), "{html}");
    }
    assert_eq!(app.emulator.grant_count(grant), 0, "WorkOS never asked");
    // The offered ones still work.
    let globex = organization_button(&html, "Globex");
    let r = post(
        &app,
        &mut jar,
        "/login/organization",
        &[("organization_id", &globex)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(sign_ins.load(Ordering::SeqCst), 1);
}
