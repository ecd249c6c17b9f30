//! What the layer does with a request's credentials: authenticate the
//! session cookie, refresh it when the access token is expired or about to
//! expire (one refresh per token, shared by concurrent requests), and say
//! which `Set-Cookie` headers the response needs.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

use crate::cookies;
use crate::session::{
    AuthenticatedSession, Authentication, RefreshError, RefreshOptions, SessionData,
    SingleFlightOutcome, UnauthenticatedReason,
};
use crate::shared::Shared;
use crate::state::AuthStatus;

pub(crate) struct Resolved {
    pub(crate) status: AuthStatus,
    pub(crate) set_cookie: Vec<HeaderValue>,
}

/// Authenticates a request's cookie, refreshing when the token is expired or
/// about to expire.
pub(crate) async fn resolve(shared: &Arc<Shared>, headers: &HeaderMap) -> Resolved {
    let settings = &shared.settings;
    let candidates = cookies::read_session(headers, &settings.cookie.name);
    let outcome = match shared.sessions.authenticate_candidates(&candidates).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(error = %e, "session could not be verified; keeping the cookie");
            return unavailable(None);
        }
    };
    match outcome {
        Authentication::Authenticated(session) => {
            if !expires_soon(shared, &session) {
                return authenticated(session, Vec::new());
            }
            let data = session.to_data();
            match refresh(shared, data).await.as_ref() {
                Ok(r) => authenticated(
                    Arc::new(r.session.clone()),
                    cookies::write_session(&settings.cookie, &r.sealed, headers),
                ),
                Err(e) if e.is_terminal() => {
                    tracing::info!(error = %e, "refresh refused; signing out");
                    signed_out(shared, headers, UnauthenticatedReason::InvalidJwt, true)
                }
                // Still valid for a while: carry on with it (and keep a new
                // pair WorkOS gave that could not be verified yet).
                Err(e) => {
                    tracing::warn!(error = %e, "early refresh failed; carrying on with the valid token");
                    authenticated(session, kept_cookie(shared, headers, e))
                }
            }
        }
        Authentication::Unauthenticated(u) => match (u.reason, u.session) {
            (UnauthenticatedReason::Expired, Some(data)) => {
                match refresh(shared, *data).await.as_ref() {
                    Ok(r) => authenticated(
                        Arc::new(r.session.clone()),
                        cookies::write_session(&settings.cookie, &r.sealed, headers),
                    ),
                    Err(e) if e.is_terminal() => {
                        tracing::info!(error = %e, "refresh refused; signing out");
                        signed_out(shared, headers, UnauthenticatedReason::Expired, true)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "refresh failed; keeping the cookie");
                        Resolved {
                            set_cookie: kept_cookie(shared, headers, e),
                            ..unavailable(e.retry_after())
                        }
                    }
                }
            }
            // Garbage, and a seal whose token can never verify (a key WorkOS
            // no longer publishes, an earlier emulator run's): both are
            // cleared. WorkOS's keys being unreachable never gets here.
            (
                reason @ (UnauthenticatedReason::InvalidSessionCookie
                | UnauthenticatedReason::InvalidJwt),
                _,
            ) => signed_out(shared, headers, reason, true),
            (reason, _) => signed_out(shared, headers, reason, false),
        },
    }
}

async fn refresh(shared: &Arc<Shared>, data: SessionData) -> SingleFlightOutcome {
    let owner = shared.clone();
    let token = data.refresh_token.expose().to_owned();
    // Shared::refresh runs the refresh hook: inside the flight, so once per
    // refresh made, not once per waiting request.
    shared
        .refreshes
        .run(&token, async move {
            owner.refresh(&data, RefreshOptions::default()).await
        })
        .await
}

/// The cookie a failed but not terminal refresh still hands out: the new
/// pair WorkOS answered with, when only its verification is pending.
fn kept_cookie(shared: &Shared, request: &HeaderMap, e: &RefreshError) -> Vec<HeaderValue> {
    match e.new_session_cookie() {
        Some(sealed) => cookies::write_session(&shared.settings.cookie, sealed, request),
        None => Vec::new(),
    }
}

fn expires_soon(shared: &Shared, session: &AuthenticatedSession) -> bool {
    let claims = &session.claims;
    let lifetime = claims.exp.saturating_sub(claims.iat);
    let buffer = shared.settings.refresh_buffer_for(lifetime);
    let now = shared
        .sessions
        .now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    claims.exp - now <= buffer.as_secs() as i64
}

fn authenticated(session: Arc<AuthenticatedSession>, set_cookie: Vec<HeaderValue>) -> Resolved {
    Resolved {
        status: AuthStatus::Authenticated(session),
        set_cookie,
    }
}

fn signed_out(
    shared: &Shared,
    request: &HeaderMap,
    reason: UnauthenticatedReason,
    clear: bool,
) -> Resolved {
    Resolved {
        status: AuthStatus::Unauthenticated(reason),
        set_cookie: if clear {
            cookies::clear_session(&shared.settings.cookie, request)
        } else {
            Vec::new()
        },
    }
}

fn unavailable(retry_after: Option<Duration>) -> Resolved {
    Resolved {
        status: AuthStatus::Unavailable { retry_after },
        set_cookie: Vec::new(),
    }
}
