//! The hosted AuthKit flow: `/authorize` → login (or sign-up) page →
//! organization picker when needed → redirect with a single-use code (or,
//! for a sign-in begun on the device page, its approve-or-deny page); and
//! `/sessions/logout`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Form;
use axum::extract::{Query, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::grants::check_password;
use super::reply::Failure;
use super::store::{
    AuthMethod, AuthorizationRec, CodeRec, SHORT_LIVED, SignIn, State, UserRec, find,
    invitation_by_token,
};
use super::{Shared, device, ids, pages};

type Shr = AxumState<Arc<Shared>>;
type Fields = Form<HashMap<String, String>>;

/// `GET /user_management/authorize`'s parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    screen_hint: Option<String>,
    login_hint: Option<String>,
    organization_id: Option<String>,
    prompt: Option<String>,
    max_age: Option<String>,
    invitation_token: Option<String>,
    provider: Option<String>,
    connection_id: Option<String>,
}

/// The `prompt` values OpenID Connect defines, which WorkOS takes.
const PROMPTS: [&str; 4] = ["login", "consent", "none", "select_account"];

/// A redirect to `uri` with `params` added to its query.
fn redirect(status: StatusCode, uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(uri) {
        Ok(url) => url,
        Err(_) => {
            return pages::error(StatusCode::BAD_REQUEST, "Invalid redirect URI", uri);
        }
    };
    if !params.is_empty() {
        url.query_pairs_mut().extend_pairs(params);
    }
    let mut response = status.into_response();
    if let Ok(location) = HeaderValue::from_str(url.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// An OAuth error sent back to an already validated redirect URI.
fn redirect_error(uri: &str, state: Option<&str>, error: &str, description: &str) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    redirect(StatusCode::SEE_OTHER, uri, &params)
}

pub(crate) async fn authorize(AxumState(s): Shr, Query(q): Query<AuthorizeQuery>) -> Response {
    let config = &s.config;
    if q.client_id.as_deref() != Some(config.client_id.as_str()) {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Unknown application",
            &format!(
                "The client_id '{}' is not this emulator's.",
                q.client_id.as_deref().unwrap_or_default()
            ),
        );
    }
    // Never redirect to a URI that is not allow-listed: errors stay on a page.
    let Some(redirect_uri) = q
        .redirect_uri
        .clone()
        .filter(|uri| config.redirect_allowed(uri))
    else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Invalid redirect URI",
            &format!(
                "'{}' is not an allowed redirect URI for this application.",
                q.redirect_uri.as_deref().unwrap_or_default()
            ),
        );
    };
    let state = q.state.as_deref();
    if q.response_type.as_deref() != Some("code") {
        return redirect_error(
            &redirect_uri,
            state,
            "unsupported_response_type",
            "Only response_type=code is supported.",
        );
    }
    if q.code_challenge.is_some() && q.code_challenge_method.as_deref() != Some("S256") {
        return redirect_error(
            &redirect_uri,
            state,
            "invalid_request",
            "code_challenge_method must be S256.",
        );
    }
    if let Some(prompt) = &q.prompt
        && !prompt.split(' ').all(|p| PROMPTS.contains(&p))
    {
        return redirect_error(
            &redirect_uri,
            state,
            "invalid_request",
            "prompt must be login, consent, none or select_account.",
        );
    }
    if let Some(max_age) = &q.max_age
        && max_age.parse::<u64>().is_err()
    {
        return redirect_error(
            &redirect_uri,
            state,
            "invalid_request",
            "max_age must be a non-negative integer.",
        );
    }
    // The emulator has no single sign-on to skip: every sign-in is
    // interactive, so `prompt=none` cannot be honoured.
    if q.prompt.as_deref() == Some("none") {
        return redirect_error(
            &redirect_uri,
            state,
            "login_required",
            "The user must sign in.",
        );
    }
    if q.provider.is_none() && q.organization_id.is_none() && q.connection_id.is_none() {
        return redirect_error(
            &redirect_uri,
            state,
            "invalid_request",
            "A provider, connection_id or organization_id is required.",
        );
    }
    let now = s.now();
    let mut st = s.lock();
    // An invitation opens sign-up with its email, and must be pending.
    let mut login_hint = q.login_hint.clone();
    let mut screen_hint = q.screen_hint.clone();
    if let Some(token) = &q.invitation_token {
        match invitation_by_token(&st, token) {
            Ok(invitation) if invitation.state_at(now) == "pending" => {
                login_hint = login_hint.or_else(|| Some(invitation.email.clone()));
                if st.user_by_email(&invitation.email).is_none() {
                    screen_hint = Some("sign-up".into());
                }
            }
            _ => {
                return redirect_error(
                    &redirect_uri,
                    state,
                    "invalid_request",
                    "The invitation is not valid.",
                );
            }
        }
    }
    if let Some(org) = &q.organization_id
        && find(&st.organizations, org).is_err()
    {
        return redirect_error(
            &redirect_uri,
            state,
            "invalid_request",
            &format!("Organization '{org}' not found."),
        );
    }
    let id = ids::token(32);
    st.authorizations.insert(
        id.clone(),
        AuthorizationRec {
            client_id: config.client_id.clone(),
            redirect_uri,
            state: q.state,
            code_challenge: q.code_challenge,
            organization_id: q.organization_id,
            login_hint: login_hint.clone(),
            user_id: None,
            expires_at: now + SHORT_LIVED,
            device_code: None,
        },
    );
    let hint = login_hint.as_deref().unwrap_or_default();
    if screen_hint.as_deref() == Some("sign-up") {
        pages::sign_up(StatusCode::OK, &id, hint, None)
    } else {
        pages::login(StatusCode::OK, &id, hint, None)
    }
}

/// The live authorization `id`.
fn authorization<'a>(
    st: &'a mut State,
    id: &str,
    now: SystemTime,
) -> Option<&'a mut AuthorizationRec> {
    st.authorizations.get_mut(id).filter(|a| a.expires_at > now)
}

/// The page for an unknown or expired authorization.
fn expired() -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        "This sign-in has expired",
        "Go back to the application and sign in again.",
    )
}

fn get<'a>(fields: &'a HashMap<String, String>, name: &str) -> &'a str {
    fields.get(name).map(|v| v.trim()).unwrap_or_default()
}

/// `GET /emulator/login?authorization_id=…`: the sign-in page again.
pub(crate) async fn login_page(
    AxumState(s): Shr,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show(&s, get(&q, "authorization_id"), pages::login)
}

/// `GET /emulator/sign-up?authorization_id=…`: the sign-up page.
pub(crate) async fn sign_up_page(
    AxumState(s): Shr,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    show(&s, get(&q, "authorization_id"), pages::sign_up)
}

type Screen = fn(StatusCode, &str, &str, Option<&str>) -> Response;

fn show(s: &Shared, id: &str, screen: Screen) -> Response {
    let now = s.now();
    let mut st = s.lock();
    match authorization(&mut st, id, now) {
        Some(auth) => screen(
            StatusCode::OK,
            id,
            auth.login_hint.as_deref().unwrap_or_default(),
            None,
        ),
        None => expired(),
    }
}

/// `POST /emulator/login`: checks the credentials.
pub(crate) async fn login(AxumState(s): Shr, headers: HeaderMap, Form(f): Fields) -> Response {
    let (id, email) = (get(&f, "authorization_id"), get(&f, "email"));
    let now = s.now();
    let mut st = s.lock();
    if authorization(&mut st, id, now).is_none() {
        return expired();
    }
    match check_password(&st, email, f.get("password").map_or("", String::as_str)) {
        Ok(user_id) => signed_in(&s, &mut st, id, &user_id, &headers, now),
        Err(Failure::NotFound { .. }) => pages::login(
            StatusCode::UNAUTHORIZED,
            id,
            email,
            Some(&format!("There is no account for {email}.")),
        ),
        Err(_) => pages::login(
            StatusCode::UNAUTHORIZED,
            id,
            email,
            Some("Incorrect password."),
        ),
    }
}

/// `POST /emulator/sign-up`: creates the user, then signs them in.
pub(crate) async fn sign_up(AxumState(s): Shr, headers: HeaderMap, Form(f): Fields) -> Response {
    let (id, email) = (get(&f, "authorization_id"), get(&f, "email"));
    let password = f.get("password").map_or("", String::as_str);
    let now = s.now();
    let mut st = s.lock();
    if authorization(&mut st, id, now).is_none() {
        return expired();
    }
    let problem = if !email.contains('@') {
        Some("Enter a valid email address.".to_owned())
    } else if password.chars().count() < 8 {
        Some("Passwords must be at least 8 characters.".to_owned())
    } else if st.user_by_email(email).is_some() {
        Some(format!(
            "An account for {email} already exists. Sign in instead."
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        return pages::sign_up(StatusCode::BAD_REQUEST, id, email, Some(&problem));
    }
    let name = |field: &str| Some(get(&f, field).to_owned()).filter(|v| !v.is_empty());
    let user = UserRec {
        first_name: name("first_name"),
        last_name: name("last_name"),
        password: Some(password.into()),
        ..UserRec::new(email)
    };
    let user_id = st.insert_user(user, now).id.clone();
    signed_in(&s, &mut st, id, &user_id, &headers, now)
}

/// After the credentials: check the requested organization, or offer the
/// picker when the user belongs to several (unless the picker is off: then
/// the code exchange asks for the choice), or finish.
fn signed_in(
    s: &Shared,
    st: &mut State,
    id: &str,
    user_id: &str,
    headers: &HeaderMap,
    now: SystemTime,
) -> Response {
    let requested = match authorization(st, id, now) {
        Some(auth) => {
            auth.user_id = Some(user_id.to_owned());
            auth.organization_id.clone()
        }
        None => return expired(),
    };
    if let Some(org) = requested {
        return choose(st, id, &org, headers, now);
    }
    let organizations = choices(st, user_id);
    if organizations.len() > 1 && s.config.hosted_organization_picker {
        return pages::organization_picker(StatusCode::OK, id, &organizations, None);
    }
    finish(st, id, None, headers, now)
}

/// The picker's entries: the user's active organizations, `(id, name)`.
fn choices(st: &State, user_id: &str) -> Vec<(String, String)> {
    st.active_organizations(user_id)
        .iter()
        .map(|o| (o.id.clone(), o.name.clone()))
        .collect()
}

/// `POST /emulator/organization`: the picker's answer.
pub(crate) async fn choose_organization(
    AxumState(s): Shr,
    headers: HeaderMap,
    Form(f): Fields,
) -> Response {
    let now = s.now();
    let mut st = s.lock();
    choose(
        &mut st,
        get(&f, "authorization_id"),
        get(&f, "organization_id"),
        &headers,
        now,
    )
}

fn choose(
    st: &mut State,
    id: &str,
    organization_id: &str,
    headers: &HeaderMap,
    now: SystemTime,
) -> Response {
    let user_id = match authorization(st, id, now) {
        Some(AuthorizationRec {
            user_id: Some(user_id),
            ..
        }) => user_id.clone(),
        Some(_) => return pages::login(StatusCode::BAD_REQUEST, id, "", Some("Sign in first.")),
        None => return expired(),
    };
    if st.active_membership(&user_id, organization_id).is_none() {
        let organizations = choices(st, &user_id);
        let name = find(&st.organizations, organization_id)
            .map_or(organization_id, |o| o.name.as_str())
            .to_owned();
        let message = format!("You are not a member of {name}.");
        return if organizations.is_empty() {
            pages::login(StatusCode::FORBIDDEN, id, "", Some(&message))
        } else {
            pages::organization_picker(StatusCode::FORBIDDEN, id, &organizations, Some(&message))
        };
    }
    finish(st, id, Some(organization_id.to_owned()), headers, now)
}

/// Issues the code and sends the browser back to the application.
fn finish(
    st: &mut State,
    id: &str,
    organization_id: Option<String>,
    headers: &HeaderMap,
    now: SystemTime,
) -> Response {
    // A sign-in on the device page ends on its approve-or-deny page.
    if st
        .authorizations
        .get(id)
        .is_some_and(|a| a.device_code.is_some())
    {
        return device::confirm_page(st, id, organization_id, now);
    }
    let Some(auth) = st.authorizations.remove(id) else {
        return expired();
    };
    let Some(user_id) = auth.user_id else {
        return pages::error(StatusCode::BAD_REQUEST, "Sign in first", "");
    };
    let code = ids::random_id();
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    st.codes.insert(
        code.clone(),
        CodeRec {
            client_id: auth.client_id,
            redirect_uri: auth.redirect_uri.clone(),
            code_challenge: auth.code_challenge,
            sign_in: SignIn {
                organization_id,
                user_agent,
                ..SignIn::new(user_id, AuthMethod::Password)
            },
            expires_at: now + SHORT_LIVED,
            used: false,
        },
    );
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &auth.state {
        params.push(("state", state));
    }
    redirect(StatusCode::SEE_OTHER, &auth.redirect_uri, &params)
}

/// `GET /user_management/sessions/logout?session_id&return_to`: ends the
/// session (and so its refresh tokens) and redirects to `return_to`, which
/// must be an allowed redirect URI.
pub(crate) async fn logout(
    AxumState(s): Shr,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let return_to = q.get("return_to").filter(|r| !r.is_empty());
    if let Some(uri) = return_to
        && !s.config.redirect_allowed(uri)
    {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Invalid return_to",
            &format!("'{uri}' is not an allowed redirect URI for this application."),
        );
    }
    let Some(session_id) = q.get("session_id").filter(|s| !s.is_empty()) else {
        return pages::error(
            StatusCode::BAD_REQUEST,
            "Missing session",
            "No session_id was given.",
        );
    };
    let now = s.now();
    let mut st = s.lock();
    if let Some(i) = st.sessions.iter().position(|x| &x.id == session_id) {
        st.end_session(i, now);
    }
    drop(st);
    match return_to {
        Some(uri) => redirect(StatusCode::FOUND, uri, &[]),
        None => pages::page(
            StatusCode::OK,
            "Signed out",
            "<p>You have been signed out.</p>",
        ),
    }
}
