//! The router: API routes behind the API key, the public ones (authenticate,
//! authorize and the login pages, logout, JWKS, CLI Auth's device
//! authorization and page), and the fault layer in front.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use super::paths::{DEVICE_CONFIRM_PATH, DEVICE_PATH, LOGIN_PATH, ORGANIZATION_PATH, SIGN_UP_PATH};
use super::reply::Failure;
use super::{
    Shared, device, events, faults, grants, handlers as h, hosted, organizations as orgs, profile,
};
use crate::secret;

/// The emulator's routes: the API, the public endpoints and the hosted
/// flow's pages and forms (whose paths are in `paths.rs`).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    const UM: &str = "/user_management";
    let api = Router::new()
        .route(
            &format!("{UM}/users"),
            get(h::list_users).post(h::create_user),
        )
        .route(
            &format!("{UM}/users/{{id}}"),
            get(h::get_user).put(h::update_user).delete(h::delete_user),
        )
        .route(
            &format!("{UM}/users/external_id/{{id}}"),
            get(h::get_user_by_external_id),
        )
        .route(
            &format!("{UM}/users/{{id}}/sessions"),
            get(h::list_sessions),
        )
        .route(
            &format!("{UM}/users/{{id}}/auth_factors"),
            get(h::list_auth_factors).post(h::enroll_auth_factor),
        )
        .route(
            &format!("{UM}/users/{{id}}/email_verification/send"),
            post(h::send_verification_email),
        )
        .route(
            &format!("{UM}/users/{{id}}/email_verification/confirm"),
            post(h::verify_email),
        )
        .route(
            &format!("{UM}/email_verification/{{id}}"),
            get(h::get_email_verification),
        )
        .route(&format!("{UM}/magic_auth"), post(h::create_magic_auth))
        .route(
            &format!("{UM}/magic_auth/send"),
            post(h::send_magic_auth_code),
        )
        .route(&format!("{UM}/magic_auth/{{id}}"), get(h::get_magic_auth))
        .route(
            &format!("{UM}/password_reset"),
            post(h::create_password_reset),
        )
        .route(
            &format!("{UM}/password_reset/send"),
            post(h::send_password_reset_email),
        )
        .route(
            &format!("{UM}/password_reset/confirm"),
            post(h::reset_password),
        )
        .route(
            &format!("{UM}/password_reset/{{id}}"),
            get(h::get_password_reset),
        )
        .route(
            &format!("{UM}/invitations"),
            get(h::list_invitations).post(h::send_invitation),
        )
        .route(&format!("{UM}/invitations/{{id}}"), get(h::get_invitation))
        .route(
            &format!("{UM}/invitations/by_token/{{token}}"),
            get(h::find_invitation_by_token),
        )
        .route(
            &format!("{UM}/invitations/{{id}}/revoke"),
            post(h::revoke_invitation),
        )
        .route(
            &format!("{UM}/invitations/{{id}}/resend"),
            post(h::resend_invitation),
        )
        .route(
            &format!("{UM}/invitations/{{id}}/accept"),
            post(h::accept_invitation),
        )
        .route(
            &format!("{UM}/organization_memberships"),
            get(h::list_memberships).post(h::create_membership),
        )
        .route(
            &format!("{UM}/organization_memberships/{{id}}"),
            get(h::get_membership)
                .put(h::update_membership)
                .delete(h::delete_membership),
        )
        .route(
            &format!("{UM}/organization_memberships/{{id}}/deactivate"),
            put(h::deactivate_membership),
        )
        .route(
            &format!("{UM}/organization_memberships/{{id}}/reactivate"),
            put(h::reactivate_membership),
        )
        .route(&format!("{UM}/sessions/revoke"), post(h::revoke_session))
        // The MFA API.
        .route("/auth/factors/{id}/challenge", post(h::challenge_factor))
        .route(
            "/auth/factors/{id}",
            get(h::get_factor).delete(h::delete_factor),
        )
        .route("/auth/challenges/{id}/verify", post(h::verify_challenge))
        // ---- organizations ----
        .route(
            "/organizations",
            get(orgs::list_organizations).post(orgs::create_organization),
        )
        .route(
            "/organizations/{id}",
            get(orgs::get_organization)
                .put(orgs::update_organization)
                .delete(orgs::delete_organization),
        )
        .route(
            "/organizations/external_id/{id}",
            get(orgs::get_organization_by_external_id),
        )
        // Area "the rest of user management": identities, email change, groups.
        .route(
            &format!("{UM}/users/{{id}}/identities"),
            get(profile::get_user_identities),
        )
        .route(
            &format!("{UM}/users/{{id}}/email_change/send"),
            post(profile::send_email_change),
        )
        .route(
            &format!("{UM}/users/{{id}}/email_change/confirm"),
            post(profile::confirm_email_change),
        )
        .route(
            &format!("{UM}/organization_memberships/{{id}}/groups"),
            get(profile::list_groups_for_membership),
        )
        // Events (the Events API; webhooks are sent from webhooks.rs).
        .route("/events", get(events::list_events))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            require_api_key,
        ));
    let public = Router::new()
        .route(&format!("{UM}/authenticate"), post(grants::authenticate))
        .route(&format!("{UM}/authorize"), get(hosted::authorize))
        .route(&format!("{UM}/sessions/logout"), get(hosted::logout))
        .route("/sso/jwks/{client_id}", get(jwks))
        .route(LOGIN_PATH, get(hosted::login_page).post(hosted::login))
        .route(
            SIGN_UP_PATH,
            get(hosted::sign_up_page).post(hosted::sign_up),
        )
        .route(ORGANIZATION_PATH, post(hosted::choose_organization))
        // CLI Auth: public (a CLI holds no API key), as the device code grant.
        .route(
            &format!("{UM}/authorize/device"),
            post(device::authorize_device),
        )
        .route(
            DEVICE_PATH,
            get(device::device_page).post(device::enter_code),
        )
        .route(DEVICE_CONFIRM_PATH, post(device::confirm));
    api.merge(public)
        .fallback(|| async { Failure::message(StatusCode::NOT_FOUND, "Not found").into_response() })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            faults::layer,
        ))
        .with_state(shared)
}

/// 401 unless the request carries `Authorization: Bearer <api key>`.
async fn require_api_key(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if presented.is_some_and(|key| secret::matches(&shared.config.api_key, key)) {
        next.run(request).await
    } else {
        Failure::unauthorized().into_response()
    }
}

async fn jwks(
    State(shared): State<Arc<Shared>>,
    axum::extract::Path(client_id): axum::extract::Path<String>,
) -> Response {
    if client_id != shared.config.client_id {
        return Failure::not_found("Client", client_id).into_response();
    }
    axum::Json(shared.keys.jwks()).into_response()
}
