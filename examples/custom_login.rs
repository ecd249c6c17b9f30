//! Your own sign-in form instead of AuthKit's hosted page:
//! `cargo run --example custom_login`, then open http://localhost:3000.
//!
//! The app renders an email + password form and calls
//! `authenticate_with_password` itself. WorkOS answers with the user's
//! session, or with the next step — each one a page here:
//!
//! - `email_verification_required`: WorkOS emailed a code; the user types it
//!   (`authenticate_with_email_verification`);
//! - `mfa_enrollment`: the app enrolls a TOTP factor (`enroll_auth_factor`)
//!   and shows its secret and `otpauth://` URI for an authenticator app; the
//!   user types the app's code (`authenticate_with_totp`, with the challenge
//!   the enrollment made);
//! - `mfa_challenge`: the app challenges the user's factor
//!   (`challenge_auth_factor`) and the user types the code;
//! - `organization_selection_required`: the user picks an organization
//!   (`authenticate_with_organization_selection`).
//!
//! Each step can lead to the next; the last one's answer is signed in with
//! `AuthKit::save_session`, which writes the same cookie as the hosted
//! callback. Between steps, WorkOS's pending token (and the challenge) is
//! kept sealed with the cookie password in a short-lived `HttpOnly`,
//! `SameSite=Lax` cookie (`Secure` whenever the session cookie is:
//! `AuthKit::secure_cookies_for`), never in the page. The cookie keeps the
//! pending token's own deadline: a refused try shows the step again without
//! extending it, and once WorkOS says the token is spent or expired the
//! sign-in starts over. Every post is refused when it comes from another site
//! (`AuthKit::is_cross_site`): a forged sign-in form would sign the victim
//! into the attacker's account.
//!
//! Offline it runs against the embedded emulator, seeded with a user per
//! step (all with the demo password); with `WORKOS_API_KEY` and
//! `WORKOS_CLIENT_ID` set, against your WorkOS environment.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authkit_axum::client::{
    AuthenticateWithEmailVerification, AuthenticateWithOrganizationSelection,
    AuthenticateWithPassword, AuthenticateWithTotp, AuthenticationResponse, ChallengeAuthFactor,
    EnrollAuthFactor, Error,
};
use authkit_axum::emulator::{
    Backend, DEMO_PASSWORD, Seed, SeedMembership, SeedOrganization, SeedUser,
};
use authkit_axum::seal::{self, SealOptions, UnsealOptions};
use authkit_axum::{AuthKit, AuthKitBuilder, AuthUser};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::{Deserialize, Serialize};
use support::{escape, page};

/// The cookie that carries a sign-in between its steps.
pub const PENDING_COOKIE: &str = "custom-login-pending";
/// How long a sign-in may wait at a step (WorkOS's pending tokens live 10 minutes).
const PENDING_TTL: Duration = Duration::from_secs(600);

/// The emulator's users, one per step a sign-in can pass through.
pub const PLAIN_USER: &str = "demo@example.com";
/// Must verify their email address first.
pub const UNVERIFIED_USER: &str = "new@example.com";
/// Must set up a second factor.
pub const ENROLLING_USER: &str = "enroll@example.com";
/// Has a TOTP factor (secret [`TOTP_SECRET`]).
pub const TOTP_USER: &str = "totp@example.com";
/// The TOTP user's secret (base32).
pub const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";
/// Belongs to two organizations.
pub const TWO_ORGANIZATIONS_USER: &str = "consultant@example.com";
/// Passes every step: unverified, no factor yet but MFA required, two organizations.
pub const EVERY_STEP_USER: &str = "everything@example.com";

/// The demo seed plus a user for each step.
pub fn seed() -> Seed {
    let user = |email: &str| SeedUser::new(email, DEMO_PASSWORD);
    Seed::demo()
        .with_organization(SeedOrganization::new("Globex"))
        .with_user(SeedUser {
            require_email_verification: true,
            ..user(UNVERIFIED_USER)
        })
        .with_user(SeedUser {
            require_mfa: true,
            ..user(ENROLLING_USER)
        })
        .with_user(SeedUser {
            totp_secret: Some(TOTP_SECRET.into()),
            ..user(TOTP_USER)
        })
        .with_user(user(TWO_ORGANIZATIONS_USER))
        .with_membership(SeedMembership::new(
            TWO_ORGANIZATIONS_USER,
            "Demo Organization",
            "member",
        ))
        .with_membership(SeedMembership::new(
            TWO_ORGANIZATIONS_USER,
            "Globex",
            "member",
        ))
        .with_user(SeedUser {
            require_email_verification: true,
            require_mfa: true,
            ..user(EVERY_STEP_USER)
        })
        .with_membership(SeedMembership::new(
            EVERY_STEP_USER,
            "Demo Organization",
            "member",
        ))
        .with_membership(SeedMembership::new(EVERY_STEP_USER, "Globex", "member"))
}

/// The app: `/` (who is signed in), the form at `/login` and its steps'
/// posts, and AuthKit's routes (sign-out) behind its layer.
pub fn app(authkit: &AuthKit) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/login/email-code", post(email_code))
        .route("/login/totp", post(totp_code))
        .route("/login/organization", post(organization))
        .with_state(authkit.clone())
        .merge(authkit.routes())
        .layer(authkit.layer())
}

// ---- pages ----

async fn home(user: Option<AuthUser>) -> Html<String> {
    let body = match user {
        Some(user) => format!(
            "<h1>Signed in</h1><p>You are <strong id=\"email\">{email}</strong> \
             in organization <code id=\"organization\">{org}</code>.</p>\
             <form method=\"post\" action=\"/auth/logout\"><button type=\"submit\">Sign out</button></form>",
            email = escape(&user.user.email),
            org = escape(user.organization_id().unwrap_or("none")),
        ),
        None => "<h1>Custom sign-in</h1><p>You are not signed in.</p>\
                 <p><a href=\"/login\">Sign in with the app's own form</a></p>"
            .to_owned(),
    };
    page("Custom sign-in", &body)
}

fn alert(message: Option<&str>) -> String {
    message.map_or_else(String::new, |m| {
        format!("<p role=\"alert\"><strong>{}</strong></p>", escape(m))
    })
}

fn password_page(status: StatusCode, email: &str, error: Option<&str>) -> Response {
    let body = format!(
        "<h1>Sign in</h1>{alert}\
         <form method=\"post\" action=\"/login\">\
         <p><label>Email <input type=\"email\" name=\"email\" value=\"{email}\" required autocomplete=\"username\"></label></p>\
         <p><label>Password <input type=\"password\" name=\"password\" required autocomplete=\"current-password\"></label></p>\
         <p><button type=\"submit\">Sign in</button></p></form>",
        alert = alert(error),
        email = escape(email),
    );
    (status, page("Sign in", &body)).into_response()
}

fn code_form(action: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{action}\">\
         <p><label>{label} <input name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required></label></p>\
         <p><button type=\"submit\">Continue</button></p></form>"
    )
}

/// The page of a step, with an error when the last try was refused.
fn step_page(status: StatusCode, pending: &Pending, error: Option<&str>) -> Response {
    let alert = alert(error);
    let (title, body) = match &pending.step {
        Step::EmailCode => (
            "Verify your email",
            format!(
                "<h1>Verify your email</h1>{alert}<p>We emailed a code to <strong>{}</strong>.</p>{}",
                escape(&pending.email),
                code_form("/login/email-code", "Code")
            ),
        ),
        Step::EnrollTotp { secret, uri, .. } => (
            "Set up two-factor authentication",
            format!(
                "<h1>Set up two-factor authentication</h1>{alert}\
                 <p>Add this account to your authenticator app with the key \
                 <code id=\"totp-secret\">{}</code> (or the link <code id=\"totp-uri\">{}</code>), \
                 then type the code it shows.</p>{}",
                escape(secret),
                escape(uri),
                code_form("/login/totp", "Code")
            ),
        ),
        Step::TotpCode { .. } => (
            "Two-factor authentication",
            format!(
                "<h1>Two-factor authentication</h1>{alert}<p>Type the code your authenticator app shows.</p>{}",
                code_form("/login/totp", "Code")
            ),
        ),
        Step::Organization { organizations } => {
            let buttons: String = organizations
                .iter()
                .map(|(id, name)| {
                    format!(
                        "<li><form method=\"post\" action=\"/login/organization\">\
                         <input type=\"hidden\" name=\"organization_id\" value=\"{}\">\
                         <button type=\"submit\">{}</button></form></li>",
                        escape(id),
                        escape(name)
                    )
                })
                .collect();
            (
                "Choose an organization",
                format!("<h1>Choose an organization</h1>{alert}<ul>{buttons}</ul>"),
            )
        }
    };
    (status, page(title, &body)).into_response()
}

fn refused_cross_site() -> Response {
    (
        StatusCode::FORBIDDEN,
        page(
            "Refused",
            "<h1>Refused</h1><p>This form was posted from another site.</p>",
        ),
    )
        .into_response()
}

fn unavailable() -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            "Try again",
            "<h1>Sign-in is unavailable</h1><p>Please <a href=\"/login\">try again</a> shortly.</p>",
        ),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// The sign-in's pending token is gone (expired, spent, or the cookie is
/// missing or forged): start again, and drop the step's cookie.
fn expired(authkit: &AuthKit, headers: &HeaderMap) -> Response {
    let mut response = password_page(
        StatusCode::BAD_REQUEST,
        "",
        Some("That sign-in has expired; please sign in again."),
    );
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear_pending_cookie(authkit, headers));
    response
}

// ---- the sign-in between steps ----

/// A sign-in waiting at a step: WorkOS's pending token and what the step needs.
#[derive(Serialize, Deserialize)]
struct Pending {
    token: String,
    /// When WorkOS's pending token dies (Unix seconds): set once, when
    /// WorkOS hands out the token, and kept when the step is shown again, so
    /// that retries never outlive the token.
    expires_at: u64,
    email: String,
    user_agent: Option<String>,
    step: Step,
}

#[derive(Serialize, Deserialize)]
enum Step {
    EmailCode,
    /// The enrollment's secret is shown again only while the user has not
    /// typed a good code (it is sealed like the rest).
    EnrollTotp {
        challenge_id: String,
        secret: String,
        uri: String,
    },
    TotpCode {
        challenge_id: String,
    },
    Organization {
        organizations: Vec<(String, String)>,
    },
}

impl Step {
    /// What a refused try of this step says.
    fn refused(&self) -> &'static str {
        match self {
            Step::EmailCode => "That code is not right; type the code of the latest email.",
            Step::EnrollTotp { .. } | Step::TotpCode { .. } => {
                "That code is not right; type the code your authenticator app shows now."
            }
            Step::Organization { .. } => "You cannot sign in to that organization; choose another.",
        }
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// How long `pending` has left (zero: WorkOS's token is dead).
fn time_left(authkit: &AuthKit, pending: &Pending) -> Duration {
    let now = unix_secs(authkit.sessions().now());
    Duration::from_secs(pending.expires_at.saturating_sub(now))
}

/// `HttpOnly; SameSite=Lax`, and `Secure` exactly when the session cookie
/// is (an https redirect URI, or `with_secure_cookies(true)`). `Path=/login`
/// covers the form and every step's post, nothing else.
fn pending_cookie_attributes(authkit: &AuthKit, headers: &HeaderMap) -> &'static str {
    if authkit.secure_cookies_for(headers) {
        "Path=/login; HttpOnly; SameSite=Lax; Secure"
    } else {
        "Path=/login; HttpOnly; SameSite=Lax"
    }
}

/// The step's cookie, sealed until the pending token's own deadline; `None`
/// when that deadline has passed (or sealing failed).
fn pending_cookie(
    authkit: &AuthKit,
    headers: &HeaderMap,
    pending: &Pending,
) -> Option<HeaderValue> {
    let ttl = time_left(authkit, pending);
    if ttl.is_zero() {
        return None;
    }
    let sealed = seal::seal(
        pending,
        authkit.sessions().passwords(),
        SealOptions::default()
            .with_ttl(ttl)
            .with_now(authkit.sessions().now()),
    )
    .ok()?;
    HeaderValue::from_str(&format!(
        "{PENDING_COOKIE}={sealed}; Max-Age={}; {}",
        ttl.as_secs(),
        pending_cookie_attributes(authkit, headers),
    ))
    .ok()
}

fn clear_pending_cookie(authkit: &AuthKit, headers: &HeaderMap) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{PENDING_COOKIE}=; Max-Age=0; {}",
        pending_cookie_attributes(authkit, headers)
    ))
    .expect("a valid header value")
}

/// Whether WorkOS refused because the sign-in itself is over: the pending
/// token expired or was spent (`invalid_pending_authentication_token`, or an
/// `invalid_grant` that names the pending token), or the step's challenge
/// did. Retrying the step cannot help; the sign-in starts again. A wrong code
/// is an `invalid_grant` too, about the code: that one is worth retrying.
fn pending_token_gone(e: &Error) -> bool {
    let names_the_sign_in = |text: &str| {
        let text = text.to_ascii_lowercase();
        text.contains("pending") || text.contains("challenge")
    };
    match e {
        Error::Api(e) => e
            .code
            .as_deref()
            .is_some_and(|c| c.contains("pending_authentication_token")),
        Error::OAuth(e) => {
            e.error.as_str() == "invalid_grant"
                && e.description.as_deref().is_some_and(names_the_sign_in)
        }
        _ => false,
    }
}

/// The step's cookie, if it unseals and its pending token is still alive.
fn read_pending(authkit: &AuthKit, headers: &HeaderMap) -> Option<Pending> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == PENDING_COOKIE)
        .find_map(|(_, value)| {
            seal::unseal(
                value,
                authkit.sessions().passwords(),
                UnsealOptions::default().with_now(authkit.sessions().now()),
            )
            .ok()
        })
        .filter(|pending| !time_left(authkit, pending).is_zero())
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Shows `pending`'s step, and keeps it in the cookie until its deadline
/// (or starts again when that has passed).
fn show_step(
    authkit: &AuthKit,
    headers: &HeaderMap,
    status: StatusCode,
    pending: &Pending,
    error: Option<&str>,
) -> Response {
    if time_left(authkit, pending).is_zero() {
        return expired(authkit, headers);
    }
    let mut response = step_page(status, pending, error);
    match pending_cookie(authkit, headers, pending) {
        Some(cookie) => {
            response.headers_mut().append(header::SET_COOKIE, cookie);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Where a refused try goes back to.
enum Retry<'a> {
    Password { email: &'a str },
    Step(&'a Pending),
}

/// The answer to one call of a sign-in: signed in, the next step, or the
/// same step again with why.
async fn next(
    authkit: &AuthKit,
    headers: &HeaderMap,
    email: &str,
    answer: Result<AuthenticationResponse, Error>,
    retry: Retry<'_>,
) -> Response {
    let workos = authkit.client();
    // A token WorkOS just handed out: its 10 minutes start now.
    let expires_at = unix_secs(authkit.sessions().now()) + PENDING_TTL.as_secs();
    let pending = |token: &authkit_axum::Secret, step| Pending {
        token: token.expose().to_owned(),
        expires_at,
        email: email.to_owned(),
        user_agent: user_agent(headers),
        step,
    };
    let step = match answer {
        Ok(auth) => {
            return match authkit.save_session(&auth, headers).await {
                Ok(cookies) => {
                    let mut response = (cookies, Redirect::to("/")).into_response();
                    response
                        .headers_mut()
                        .append(header::SET_COOKIE, clear_pending_cookie(authkit, headers));
                    response
                }
                Err(e) => e.into_response(),
            };
        }
        Err(Error::EmailVerificationRequired(e)) => {
            pending(&e.pending_authentication_token, Step::EmailCode)
        }
        Err(Error::MfaEnrollment(e)) => {
            let Some(user_id) = e.user_id() else {
                return unavailable();
            };
            let enroll = EnrollAuthFactor {
                totp_issuer: Some("Custom login example".into()),
                totp_user: Some(email.to_owned()),
                ..EnrollAuthFactor::totp(user_id)
            };
            let enrolled = match workos.enroll_auth_factor(&enroll).await {
                Ok(enrolled) => enrolled,
                Err(_) => return unavailable(),
            };
            let totp = enrolled.authentication_factor.totp;
            let exposed = |s: Option<&authkit_axum::Secret>| {
                s.map(|s| s.expose().to_owned()).unwrap_or_default()
            };
            pending(
                &e.pending_authentication_token,
                Step::EnrollTotp {
                    challenge_id: enrolled.authentication_challenge.id,
                    secret: exposed(totp.as_ref().and_then(|t| t.secret.as_ref())),
                    uri: exposed(totp.as_ref().and_then(|t| t.uri.as_ref())),
                },
            )
        }
        Err(Error::MfaChallenge(e)) => {
            let challenge = match (&e.authentication_challenge, e.totp_factor()) {
                (Some(challenge), _) => challenge.clone(),
                (None, Some(factor)) => {
                    match workos
                        .challenge_auth_factor(&ChallengeAuthFactor::new(&factor.id))
                        .await
                    {
                        Ok(challenge) => challenge,
                        Err(_) => return unavailable(),
                    }
                }
                (None, None) => {
                    return password_page(
                        StatusCode::BAD_REQUEST,
                        email,
                        Some("This account's second factor cannot be used here."),
                    );
                }
            };
            pending(
                &e.pending_authentication_token,
                Step::TotpCode {
                    challenge_id: challenge.id,
                },
            )
        }
        Err(Error::OrganizationSelectionRequired(e)) => pending(
            &e.pending_authentication_token,
            Step::Organization {
                organizations: e
                    .organizations
                    .iter()
                    .map(|o| (o.id.clone(), o.name.clone()))
                    .collect(),
            },
        ),
        Err(e) if e.is_transient() => return unavailable(),
        Err(e) => {
            tracing::info!(code = e.code(), "sign-in refused");
            return match retry {
                Retry::Password { email } => password_page(
                    StatusCode::UNAUTHORIZED,
                    email,
                    Some("Incorrect email or password."),
                ),
                Retry::Step(_) if pending_token_gone(&e) => expired(authkit, headers),
                Retry::Step(pending) => show_step(
                    authkit,
                    headers,
                    StatusCode::UNAUTHORIZED,
                    pending,
                    Some(pending.step.refused()),
                ),
            };
        }
    };
    show_step(authkit, headers, StatusCode::OK, &step, None)
}

// ---- the handlers ----

async fn login_form(user: Option<AuthUser>) -> Response {
    if user.is_some() {
        return Redirect::to("/").into_response();
    }
    password_page(StatusCode::OK, "", None)
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(authkit): State<AuthKit>,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Response {
    if authkit.is_cross_site(&headers) {
        return refused_cross_site();
    }
    let email = form.email.trim().to_owned();
    let answer = authkit
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: email.clone(),
            password: form.password.into(),
            user_agent: user_agent(&headers),
            ..Default::default()
        })
        .await;
    next(
        &authkit,
        &headers,
        &email,
        answer,
        Retry::Password { email: &email },
    )
    .await
}

#[derive(Deserialize)]
struct Code {
    #[serde(default)]
    code: String,
}

async fn email_code(
    State(authkit): State<AuthKit>,
    headers: HeaderMap,
    Form(form): Form<Code>,
) -> Response {
    if authkit.is_cross_site(&headers) {
        return refused_cross_site();
    }
    let Some(
        pending @ Pending {
            step: Step::EmailCode,
            ..
        },
    ) = read_pending(&authkit, &headers)
    else {
        return expired(&authkit, &headers);
    };
    let answer = authkit
        .client()
        .authenticate_with_email_verification(&AuthenticateWithEmailVerification {
            code: form.code.trim().into(),
            pending_authentication_token: pending.token.clone().into(),
            user_agent: pending.user_agent.clone(),
            ..Default::default()
        })
        .await;
    next(
        &authkit,
        &headers,
        &pending.email,
        answer,
        Retry::Step(&pending),
    )
    .await
}

async fn totp_code(
    State(authkit): State<AuthKit>,
    headers: HeaderMap,
    Form(form): Form<Code>,
) -> Response {
    if authkit.is_cross_site(&headers) {
        return refused_cross_site();
    }
    let Some(pending) = read_pending(&authkit, &headers) else {
        return expired(&authkit, &headers);
    };
    let challenge_id = match &pending.step {
        Step::EnrollTotp { challenge_id, .. } | Step::TotpCode { challenge_id } => {
            challenge_id.clone()
        }
        _ => return expired(&authkit, &headers),
    };
    let answer = authkit
        .client()
        .authenticate_with_totp(&AuthenticateWithTotp {
            code: form.code.trim().into(),
            authentication_challenge_id: challenge_id,
            pending_authentication_token: pending.token.clone().into(),
            user_agent: pending.user_agent.clone(),
            ..Default::default()
        })
        .await;
    next(
        &authkit,
        &headers,
        &pending.email,
        answer,
        Retry::Step(&pending),
    )
    .await
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    organization_id: String,
}

async fn organization(
    State(authkit): State<AuthKit>,
    headers: HeaderMap,
    Form(form): Form<Choice>,
) -> Response {
    if authkit.is_cross_site(&headers) {
        return refused_cross_site();
    }
    let Some(
        pending @ Pending {
            step: Step::Organization { .. },
            ..
        },
    ) = read_pending(&authkit, &headers)
    else {
        return expired(&authkit, &headers);
    };
    // Only an organization WorkOS offered: the form is the user's to edit.
    let offered = matches!(
        &pending.step,
        Step::Organization { organizations }
            if organizations.iter().any(|(id, _)| *id == form.organization_id)
    );
    if !offered {
        return show_step(
            &authkit,
            &headers,
            StatusCode::BAD_REQUEST,
            &pending,
            Some("Choose one of these organizations."),
        );
    }
    let answer = authkit
        .client()
        .authenticate_with_organization_selection(&AuthenticateWithOrganizationSelection {
            organization_id: form.organization_id,
            pending_authentication_token: pending.token.clone().into(),
            user_agent: pending.user_agent.clone(),
            ..Default::default()
        })
        .await;
    next(
        &authkit,
        &headers,
        &pending.email,
        answer,
        Retry::Step(&pending),
    )
    .await
}

#[allow(
    dead_code,
    reason = "the test includes this file and calls `app` instead"
)]
#[tokio::main]
async fn main() -> Result<(), support::Report> {
    let port = support::port();
    let (builder, backend) = AuthKitBuilder::from_env_or_emulator(port, seed()).await?;
    let authkit = builder.build()?;
    match &backend {
        Backend::Emulator(emulator) => {
            println!(
                "No WORKOS_API_KEY: using the WorkOS emulator at {}",
                emulator.base_url()
            );
            println!("Demo user: {PLAIN_USER} / {DEMO_PASSWORD}");
            println!(
                "Users for each step (same password): {UNVERIFIED_USER} (email code), \
                 {ENROLLING_USER} (TOTP set-up), {TOTP_USER} (TOTP, secret {TOTP_SECRET}), \
                 {TWO_ORGANIZATIONS_USER} (organization choice), {EVERY_STEP_USER} (all of them)"
            );
        }
        _ => println!("Using {backend}."),
    }
    Ok(support::serve(app(&authkit), port).await?)
}
