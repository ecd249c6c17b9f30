//! What the layer does with a request's credentials: verify its Bearer
//! token, or else authenticate the session cookie, refresh it when the
//! access token is expired or about to expire (one refresh per token, shared
//! by concurrent requests), and say which `Set-Cookie` headers the response
//! needs.
//!
//! A Bearer credential wins over the cookie: the header is an explicit
//! credential of this one request, the cookie an ambient one the browser
//! adds to every request. Falling back to the cookie when the token is bad
//! would hide the client's error and could mix two identities, so a request
//! with a Bearer token is judged by it alone, and its cookie is neither
//! read, refreshed nor cleared.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue};

use super::bearer::{self, Credential};
use crate::cookies;
use crate::session::{
    AuthenticatedSession, Authentication, CookieKey, RefreshError, RefreshOptions, SessionData,
    SingleFlightOutcome, TokenError, UnauthenticatedReason,
};
use crate::shared::Shared;
use crate::state::{AuthStatus, CredentialSource};

pub(crate) struct Resolved {
    pub(crate) status: AuthStatus,
    pub(crate) set_cookie: Vec<HeaderValue>,
    pub(crate) source: Option<CredentialSource>,
}

/// Authenticates a request: its Bearer token if it has one (and they are
/// accepted), else its cookie, refreshing when the token is expired or
/// about to expire. `known_miss`: what [`resolve_cached`] found not cached.
pub(crate) async fn resolve(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    refresh: bool,
    known_miss: Option<CookieKey>,
) -> Resolved {
    let settings = &shared.settings;
    if settings.bearer_tokens {
        match bearer::credential(headers) {
            Credential::None => {}
            // Boxed, as the refresh is: a key fetch would otherwise make
            // every request's future kilobytes larger.
            Credential::Token(token) => return Box::pin(verify_bearer(shared, token)).await,
            Credential::Malformed => {
                return from_bearer(AuthStatus::Unauthenticated(
                    UnauthenticatedReason::InvalidAuthorizationHeader,
                ));
            }
        }
    }
    if !settings.session_cookies {
        return Resolved {
            status: AuthStatus::Unauthenticated(UnauthenticatedReason::NoBearerTokenProvided),
            set_cookie: Vec::new(),
            source: None,
        };
    }
    let mut resolved = resolve_cookie(shared, headers, refresh, known_miss).await;
    if !matches!(
        resolved.status,
        AuthStatus::Unauthenticated(UnauthenticatedReason::NoSessionCookieProvided)
    ) {
        resolved.source = Some(CredentialSource::Cookie);
    }
    resolved
}

/// What [`resolve`] would answer, when it can be had without waiting: a
/// Bearer token or a plain session cookie the caches vouch for, still
/// valid and not due for a refresh. `None` for everything else, which
/// `resolve` then decides; so the two never disagree, and this is only
/// the common case made cheap (no future, no allocation). `Err` holds the
/// cache key of a plain cookie that was looked up and not found, for
/// `resolve` not to look it up again.
pub(crate) fn resolve_cached(
    shared: &Shared,
    headers: &HeaderMap,
    refresh: bool,
) -> Result<Resolved, Option<CookieKey>> {
    let settings = &shared.settings;
    if settings.bearer_tokens {
        // Unchecked bytes: only a token that verified can be found.
        match bearer::raw_token(headers) {
            Ok(None) => {}
            Ok(Some(token)) => {
                let (claims, access_token) =
                    shared.sessions.cached_bearer_claims(token).ok_or(None)?;
                return Ok(from_bearer(AuthStatus::Bearer {
                    access_token,
                    claims,
                }));
            }
            Err(()) => return Err(None),
        }
    }
    if !settings.session_cookies || !shared.sessions.caches_cookies() {
        return Err(None);
    }
    let cookie = cookies::single_session_value(headers, &settings.cookie.name).ok_or(None)?;
    // The clock read once, for the token's expiry and the refresh's.
    let now = shared.sessions.now_secs();
    let session = shared.sessions.cached_session(cookie, now)?;
    if refresh && expires_soon(shared, &session, now) {
        return Err(None);
    }
    Ok(Resolved {
        status: AuthStatus::Authenticated(session),
        set_cookie: Vec::new(),
        source: Some(CredentialSource::Cookie),
    })
}

/// A Bearer token, verified as a cookie's token is, plus its issuer. There
/// is nothing to refresh and no cookie to write.
async fn verify_bearer(shared: &Shared, token: &str) -> Resolved {
    let status = match shared.sessions.verify_bearer_token(token).await {
        Ok(claims) => AuthStatus::Bearer {
            access_token: token.into(),
            claims,
        },
        Err(TokenError::Expired(_)) => {
            AuthStatus::Unauthenticated(UnauthenticatedReason::BearerTokenExpired)
        }
        Err(TokenError::Keys(e)) if e.is_transient() => {
            tracing::warn!(error = %e, "a Bearer token could not be verified: WorkOS's keys are unavailable");
            AuthStatus::Unavailable {
                retry_after: e.retry_after(),
            }
        }
        // Tampered, malformed, not yet valid, another issuer's, or signed
        // by a key WorkOS does not publish.
        Err(_) => AuthStatus::Unauthenticated(UnauthenticatedReason::InvalidBearerToken),
    };
    from_bearer(status)
}

fn from_bearer(status: AuthStatus) -> Resolved {
    Resolved {
        status,
        set_cookie: Vec::new(),
        source: Some(CredentialSource::Bearer),
    }
}

/// Authenticates a request's cookie, refreshing when the token is expired or
/// about to expire (unless `allow_refresh` is false: then an expired session
/// is signed out for this request only, its cookie kept).
async fn resolve_cookie(
    shared: &Arc<Shared>,
    headers: &HeaderMap,
    allow_refresh: bool,
    known_miss: Option<CookieKey>,
) -> Resolved {
    let settings = &shared.settings;
    let candidates = cookies::read_session(headers, &settings.cookie.name);
    // The plain cookie the fast path missed is not looked up again.
    let known_miss = known_miss.and_then(|key| {
        let cookie = cookies::single_session_value(headers, &settings.cookie.name)?;
        Some((cookie, key))
    });
    let outcome = match shared
        .sessions
        .authenticate_candidates(&candidates, known_miss)
        .await
    {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(error = %e, "session could not be verified; keeping the cookie");
            return unavailable(e.retry_after());
        }
    };
    match outcome {
        Authentication::Authenticated(session) => {
            if !allow_refresh || !expires_soon(shared, &session, shared.sessions.now_secs()) {
                return authenticated(session, Vec::new());
            }
            let data = session.to_data();
            match Box::pin(refresh(shared, data)).await.as_ref() {
                Ok(r) => authenticated(
                    Arc::new(r.session.clone()),
                    cookies::write_session(&settings.cookie_for(headers), &r.sealed, headers),
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
            (UnauthenticatedReason::Expired, Some(data)) if allow_refresh => {
                match Box::pin(refresh(shared, *data)).await.as_ref() {
                    Ok(r) => authenticated(
                        Arc::new(r.session.clone()),
                        cookies::write_session(&settings.cookie_for(headers), &r.sealed, headers),
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
    let started = Instant::now();
    // Shared::refresh runs the refresh hook: inside the flight, so once per
    // refresh made, not once per waiting request.
    let (outcome, shared) = shared
        .refreshes
        .run_joined(&token, async move {
            owner.refresh(&data, RefreshOptions::default()).await
        })
        .await;
    // Info once per refresh made (by the request that made it); the
    // requests that joined it at debug, so a storm is one info line.
    if let Ok(r) = outcome.as_ref() {
        // `event!` takes its level as a constant: one expansion per level.
        macro_rules! refreshed {
            ($level:expr) => {
                tracing::event!(
                    $level,
                    user_id = %r.session.user.id,
                    session_id = %r.session.session_id(),
                    duration = ?started.elapsed(),
                    shared,
                    "session refreshed"
                )
            };
        }
        if shared {
            refreshed!(tracing::Level::DEBUG);
        } else {
            refreshed!(tracing::Level::INFO);
        }
    }
    outcome
}

/// The cookie a failed but not terminal refresh still hands out: the new
/// pair WorkOS answered with, when only its verification is pending.
fn kept_cookie(shared: &Shared, request: &HeaderMap, e: &RefreshError) -> Vec<HeaderValue> {
    match e.new_session_cookie() {
        Some(sealed) => {
            cookies::write_session(&shared.settings.cookie_for(request), sealed, request)
        }
        None => Vec::new(),
    }
}

/// Whether the session's access token is due for a refresh at `now`
/// (seconds since the epoch).
fn expires_soon(shared: &Shared, session: &AuthenticatedSession, now: i64) -> bool {
    let claims = &session.claims;
    let lifetime = claims.exp.saturating_sub(claims.iat);
    let buffer = shared.settings.refresh_buffer_for(lifetime);
    claims.exp - now <= buffer.as_secs() as i64
}

fn authenticated(session: Arc<AuthenticatedSession>, set_cookie: Vec<HeaderValue>) -> Resolved {
    Resolved {
        status: AuthStatus::Authenticated(session),
        set_cookie,
        source: None,
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
            cookies::clear_session(&shared.settings.cookie_for(request), request)
        } else {
            Vec::new()
        },
        source: None,
    }
}

fn unavailable(retry_after: Option<Duration>) -> Resolved {
    Resolved {
        status: AuthStatus::Unavailable { retry_after },
        set_cookie: Vec::new(),
        source: None,
    }
}
