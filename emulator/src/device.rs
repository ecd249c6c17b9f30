//! CLI Auth (the OAuth 2.0 device authorization grant, RFC 8628), the
//! emulator's side: `POST /user_management/authorize/device`, and the device
//! page at its `verification_uri`, where a user enters the code, signs in
//! through the hosted login pages, and approves or denies the device. The
//! token endpoint's `device_code` grant is in `grants.rs`.
//!
//! Shapes follow WorkOS's CLI Auth reference
//! (<https://workos.com/docs/reference/authkit/cli-auth>): the request takes
//! `client_id` alone (JSON or a form, no API key), the answer is
//! `{device_code, user_code, verification_uri, verification_uri_complete,
//! expires_in, interval}`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Form;
use axum::extract::{Query, State as AxumState};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use super::paths::DEVICE_PATH;
use super::reply::{Failure, JsonBody, Reply, ok};
use super::store::{
    AuthMethod, AuthorizationRec, DEVICE_KEPT_AFTER_EXPIRY, DeviceRec, DeviceStatus, SHORT_LIVED,
    SignIn, State, find,
};
use super::{Shared, ids, pages};

type Shr = AxumState<Arc<Shared>>;
type Fields = Form<HashMap<String, String>>;

/// `POST /user_management/authorize/device`'s body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AuthorizeDeviceBody {
    client_id: Option<String>,
}

/// `POST /user_management/authorize/device`: a new device code and user code.
pub(crate) async fn authorize_device(
    AxumState(s): Shr,
    JsonBody(body): JsonBody<AuthorizeDeviceBody>,
) -> Reply {
    let config = &s.config;
    if body.client_id.as_deref() != Some(config.client_id.as_str()) {
        return Err(Failure::invalid_client("Invalid client ID."));
    }
    let now = s.now();
    let mut st = s.lock();
    // Bounded memory: authorizations long expired are forgotten.
    st.devices
        .retain(|_, d| d.expires_at + DEVICE_KEPT_AFTER_EXPIRY > now);
    let user_code = loop {
        let code = ids::user_code();
        if !st.devices.values().any(|d| d.user_code == code) {
            break code;
        }
    };
    let device_code = ids::token(64);
    st.devices.insert(
        device_code.clone(),
        DeviceRec {
            client_id: config.client_id.clone(),
            user_code: user_code.clone(),
            interval: config.device_interval,
            last_poll: None,
            expires_at: now + config.device_code_ttl,
            status: DeviceStatus::Pending,
        },
    );
    let verification_uri = format!("{}{DEVICE_PATH}", config.base_url);
    // The user code is letters and a dash: nothing to escape in a query.
    let verification_uri_complete = format!("{verification_uri}?user_code={user_code}");
    ok(json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "verification_uri_complete": verification_uri_complete,
        "expires_in": config.device_code_ttl.as_secs(),
        "interval": config.device_interval.as_secs(),
    }))
}

fn get<'a>(fields: &'a HashMap<String, String>, name: &str) -> &'a str {
    fields.get(name).map(|v| v.trim()).unwrap_or_default()
}

/// `GET /emulator/device[?user_code=…]`: the form for the code.
pub(crate) async fn device_page(Query(q): Query<HashMap<String, String>>) -> Response {
    pages::device_code(StatusCode::OK, get(&q, "user_code"), None)
}

/// `POST /emulator/device`: a code waiting for a user opens the sign-in.
pub(crate) async fn enter_code(AxumState(s): Shr, Form(f): Fields) -> Response {
    let typed = get(&f, "user_code");
    let now = s.now();
    let mut st = s.lock();
    let found = ids::normalize_user_code(typed).and_then(|code| {
        st.devices
            .iter()
            .find(|(_, d)| d.user_code == code && d.awaiting_user(now))
            .map(|(device_code, d)| (device_code.clone(), d.client_id.clone(), d.expires_at))
    });
    let Some((device_code, client_id, expires_at)) = found else {
        return pages::device_code(
            StatusCode::BAD_REQUEST,
            typed,
            Some("That code is not valid, or it has expired. Check the code your terminal shows."),
        );
    };
    let id = ids::token(32);
    st.authorizations.insert(
        id.clone(),
        AuthorizationRec {
            client_id,
            redirect_uri: String::new(),
            state: None,
            code_challenge: None,
            organization_id: None,
            login_hint: None,
            user_id: None,
            expires_at: (now + SHORT_LIVED).min(expires_at),
            device_code: Some(device_code),
        },
    );
    pages::login(StatusCode::OK, &id, "", None)
}

fn code_expired() -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        "This code has expired",
        "Start the sign-in on your device again.",
    )
}

fn sign_in_expired() -> Response {
    pages::error(
        StatusCode::BAD_REQUEST,
        "This sign-in has expired",
        "Enter the code from your device again.",
    )
}

/// Where the hosted sign-in ends for the device page: the user (and the
/// organization, when picked) is known; show the code again, to approve or
/// deny.
pub(crate) fn confirm_page(
    st: &mut State,
    id: &str,
    organization_id: Option<String>,
    now: SystemTime,
) -> Response {
    let Some(auth) = st.authorizations.get_mut(id).filter(|a| a.expires_at > now) else {
        return sign_in_expired();
    };
    auth.organization_id = organization_id;
    let (Some(user_id), Some(device_code)) = (auth.user_id.clone(), auth.device_code.clone())
    else {
        return pages::login(StatusCode::BAD_REQUEST, id, "", Some("Sign in first."));
    };
    let organization = auth.organization_id.clone();
    let Some(device) = st
        .devices
        .get(&device_code)
        .filter(|d| d.awaiting_user(now))
    else {
        return code_expired();
    };
    let email = find(&st.users, &user_id)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    // The organization the session will be in: the one picked, or the only one.
    let organization = match organization {
        Some(org) => find(&st.organizations, &org).ok().map(|o| o.name.clone()),
        None => match st.active_organizations(&user_id).as_slice() {
            [only] => Some(only.name.clone()),
            _ => None,
        },
    };
    pages::device_confirm(
        StatusCode::OK,
        id,
        &device.user_code,
        &email,
        organization.as_deref(),
    )
}

/// `POST /emulator/device/confirm`: the user's decision.
pub(crate) async fn confirm(AxumState(s): Shr, Form(f): Fields) -> Response {
    let id = get(&f, "authorization_id");
    let now = s.now();
    let mut st = s.lock();
    let Some(auth) = st
        .authorizations
        .get(id)
        .filter(|a| a.expires_at > now && a.device_code.is_some())
        .cloned()
    else {
        return sign_in_expired();
    };
    let Some(user_id) = auth.user_id else {
        return pages::login(StatusCode::BAD_REQUEST, id, "", Some("Sign in first."));
    };
    let approve = match get(&f, "decision") {
        "approve" => true,
        "deny" => false,
        _ => {
            return pages::error(
                StatusCode::BAD_REQUEST,
                "Approve or deny",
                "Choose one of the two buttons.",
            );
        }
    };
    st.authorizations.remove(id);
    let device_code = auth.device_code.unwrap_or_default();
    let Some(device) = st
        .devices
        .get_mut(&device_code)
        .filter(|d| d.awaiting_user(now))
    else {
        return code_expired();
    };
    if approve {
        // The hosted pages stand for AuthKit's, which finish every step of
        // the sign-in (email verification, MFA) before the approval: the
        // token endpoint answers tokens, never a challenge, to a device.
        device.status = DeviceStatus::Approved(SignIn {
            organization_id: auth.organization_id,
            email_verified_now: true,
            mfa_passed: true,
            ..SignIn::new(user_id, AuthMethod::Password)
        });
        pages::page(
            StatusCode::OK,
            "Device approved",
            "<p>Your device is signed in. You can close this window and go back to your terminal.</p>",
        )
    } else {
        device.status = DeviceStatus::Denied;
        pages::page(
            StatusCode::OK,
            "Sign-in denied",
            "<p>The device was not signed in. You can close this window.</p>",
        )
    }
}
