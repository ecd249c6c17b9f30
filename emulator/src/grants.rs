//! `POST /user_management/authenticate`: the seven grants and CLI Auth's
//! device code grant, the challenges a
//! sign-in passes through (email verification, MFA, organization selection),
//! and the sessions and tokens it ends with.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::State as AxumState;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::clock::unix_secs;
use super::reply::{Failure, JsonBody, Reply, Validator, ok};
use super::store::{
    AuthMethod, Entity, PendingRec, RefreshRec, SHORT_LIVED, SessionRec, SignIn, State, find,
    find_mut,
};
use super::{Config, Shared, ids, store, totp};
use crate::secret;

const MAGIC_AUTH: &str = "urn:workos:oauth:grant-type:magic-auth:code";
const EMAIL_VERIFICATION: &str = "urn:workos:oauth:grant-type:email-verification:code";
const MFA_TOTP: &str = "urn:workos:oauth:grant-type:mfa-totp";
const ORGANIZATION_SELECTION: &str = "urn:workos:oauth:grant-type:organization-selection";
/// CLI Auth's grant (RFC 8628 §3.4).
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// How long a used refresh token still answers with the pair it was exchanged for.
const REFRESH_REPLAY_WINDOW: Duration = Duration::from_secs(30);

/// Every field any grant takes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct GrantBody {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    organization_id: Option<String>,
    email: Option<String>,
    password: Option<String>,
    pending_authentication_token: Option<String>,
    authentication_challenge_id: Option<String>,
    invitation_token: Option<String>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    device_code: Option<String>,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

pub(crate) async fn authenticate(
    AxumState(shared): AxumState<Arc<Shared>>,
    JsonBody(body): JsonBody<GrantBody>,
) -> Reply {
    let caller = check_client(&shared.config, &body)?;
    let now = shared.now();
    let mut st = shared.lock();
    let sign_in = match body.grant_type.as_deref().unwrap_or_default() {
        "password" => password(&mut st, &body, now)?,
        "authorization_code" => authorization_code(&shared.config, caller, &mut st, &body, now)?,
        "refresh_token" => return refresh(&shared, caller, &mut st, &body, now).and_then(ok),
        MAGIC_AUTH => magic_auth(&mut st, &body, now)?,
        EMAIL_VERIFICATION => email_verification(&mut st, &body, now)?,
        MFA_TOTP => mfa_totp(&mut st, &body, now)?,
        ORGANIZATION_SELECTION => organization_selection(&mut st, &body, now)?,
        DEVICE_CODE => device_code(caller, &mut st, &body, now)?,
        other => {
            return Err(Failure::OAuth {
                status: StatusCode::BAD_REQUEST,
                error: "unsupported_grant_type",
                description: format!("The grant_type '{other}' is not supported."),
            });
        }
    };
    let sign_in = advance(&mut st, sign_in, now)?;
    ok(complete(&shared, &mut st, sign_in, now)?)
}

/// Who is calling: a confidential client (with the right secret) or a
/// public one (no secret, which PKCE and session binding must make up for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Confidential,
    Public,
}

/// The client id must be ours; the client secret (the API key) must be
/// right, and may only be left out by public clients: a code exchange with a
/// PKCE verifier, a refresh of a session such an exchange began, or a
/// device code (CLI Auth is for public clients).
fn check_client(config: &Config, body: &GrantBody) -> Result<Caller, Failure> {
    if body.client_id.as_deref() != Some(config.client_id.as_str()) {
        return Err(Failure::invalid_client("Invalid client ID."));
    }
    match non_empty(&body.client_secret) {
        Some(presented) if secret::matches(&config.api_key, presented) => Ok(Caller::Confidential),
        Some(_) => Err(Failure::invalid_client("Invalid client secret.")),
        None => match body.grant_type.as_deref() {
            Some("authorization_code") if body.code_verifier.is_some() => Ok(Caller::Public),
            Some("refresh_token") => Ok(Caller::Public),
            Some(DEVICE_CODE) => Ok(Caller::Public),
            _ => Err(secret_required()),
        },
    }
}

fn secret_required() -> Failure {
    Failure::invalid_client("client_secret is required.")
}

/// A sign-in by `user_id`, with the client details the grant carries.
fn sign_in(user_id: String, method: AuthMethod, body: &GrantBody) -> SignIn {
    SignIn {
        ip_address: body.ip_address.clone(),
        user_agent: body.user_agent.clone(),
        ..SignIn::new(user_id, method)
    }
}

/// The user whose password this is: 404 for an unknown email (as WorkOS),
/// 400 `invalid_credentials` for a wrong password.
pub(crate) fn check_password(st: &State, email: &str, password: &str) -> Result<String, Failure> {
    let user_id = st.user_id_by_email(email)?;
    let user = find(&st.users, &user_id)?;
    if user
        .password
        .as_ref()
        .is_some_and(|p| secret::matches(p, password))
    {
        Ok(user_id)
    } else {
        Err(Failure::coded(
            StatusCode::BAD_REQUEST,
            "invalid_credentials",
            "Invalid credentials.",
        ))
    }
}

fn password(st: &mut State, body: &GrantBody, now: SystemTime) -> Result<SignIn, Failure> {
    let mut v = Validator::default();
    let email = v.required("email", body.email.as_deref());
    let password = v.required("password", body.password.as_deref());
    v.finish()?;
    let user_id = check_password(st, email, password)?;
    if let Some(token) = non_empty(&body.invitation_token) {
        store::accept_invitation_token(st, &user_id, token, now)?;
    }
    Ok(sign_in(user_id, AuthMethod::Password, body))
}

/// `base64url(sha256(verifier)) == challenge` (PKCE S256).
pub(crate) fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    subtle::ConstantTimeEq::ct_eq(computed.as_bytes(), challenge.as_bytes()).into()
}

fn authorization_code(
    config: &Config,
    caller: Caller,
    st: &mut State,
    body: &GrantBody,
    now: SystemTime,
) -> Result<SignIn, Failure> {
    let code = body.code.as_deref().unwrap_or_default();
    let rec = st
        .codes
        .get_mut(code)
        .filter(|c| !c.used && c.expires_at > now && c.client_id == config.client_id)
        .ok_or_else(|| Failure::bad_code(code))?;
    // Single use: any attempt spends it.
    rec.used = true;
    if caller == Caller::Public && rec.code_challenge.is_none() {
        return Err(secret_required());
    }
    if non_empty(&body.redirect_uri).is_some_and(|uri| uri != rec.redirect_uri) {
        return Err(Failure::bad_code(code));
    }
    if let Some(challenge) = &rec.code_challenge {
        let verifier = body
            .code_verifier
            .as_deref()
            .ok_or_else(|| Failure::invalid_grant("A code_verifier is required."))?;
        if !pkce_matches(verifier, challenge) {
            return Err(Failure::invalid_grant(
                "The code_verifier does not match the code_challenge.",
            ));
        }
    }
    let mut sign_in = rec.sign_in.clone();
    sign_in.public_client = caller == Caller::Public;
    sign_in.ip_address = body.ip_address.clone().or(sign_in.ip_address);
    sign_in.user_agent = body.user_agent.clone().or(sign_in.user_agent);
    if let Some(token) = non_empty(&body.invitation_token) {
        store::accept_invitation_token(st, &sign_in.user_id, token, now)?;
    }
    Ok(sign_in)
}

fn magic_auth(st: &mut State, body: &GrantBody, now: SystemTime) -> Result<SignIn, Failure> {
    let mut v = Validator::default();
    let email = v.required("email", body.email.as_deref());
    let code = v.required("code", body.code.as_deref());
    v.finish()?;
    let user_id = st.user_id_by_email(email)?;
    let rec = st
        .magic_auths
        .iter_mut()
        .rev()
        .find(|m| m.0.user_id == user_id && m.0.usable(code, now))
        .ok_or_else(|| Failure::bad_code(code))?;
    rec.0.used = true;
    // The code arrived by email: the address is proven.
    st.mark_verified(&user_id, now)?;
    if let Some(token) = non_empty(&body.invitation_token) {
        store::accept_invitation_token(st, &user_id, token, now)?;
    }
    Ok(SignIn {
        email_verified_now: true,
        ..sign_in(user_id, AuthMethod::MagicAuth, body)
    })
}

impl State {
    /// Parks a sign-in behind a challenge; the token resumes it.
    fn new_pending(&mut self, sign_in: SignIn, now: SystemTime) -> String {
        let token = ids::token(25);
        self.pending.insert(
            token.clone(),
            PendingRec {
                sign_in,
                expires_at: now + SHORT_LIVED,
            },
        );
        token
    }

    /// The sign-in behind a live pending token.
    fn pending_sign_in(&self, token: &str, now: SystemTime) -> Result<SignIn, Failure> {
        self.pending
            .get(token)
            .filter(|p| p.expires_at > now)
            .map(|p| p.sign_in.clone())
            .ok_or_else(|| Failure::bad_pending_token(token))
    }
}

fn email_verification(
    st: &mut State,
    body: &GrantBody,
    now: SystemTime,
) -> Result<SignIn, Failure> {
    let mut v = Validator::default();
    let token = v.required(
        "pending_authentication_token",
        body.pending_authentication_token.as_deref(),
    );
    let code = v.required("code", body.code.as_deref());
    v.finish()?;
    let mut sign_in = st.pending_sign_in(token, now)?;
    let rec = st
        .email_verifications
        .iter_mut()
        .rev()
        .find(|e| e.0.user_id == sign_in.user_id && e.0.usable(code, now))
        .ok_or_else(|| Failure::bad_code(code))?;
    rec.0.used = true;
    st.mark_verified(&sign_in.user_id, now)?;
    st.pending.remove(token);
    sign_in.email_verified_now = true;
    Ok(sign_in)
}

fn mfa_totp(st: &mut State, body: &GrantBody, now: SystemTime) -> Result<SignIn, Failure> {
    let mut v = Validator::default();
    let token = v.required(
        "pending_authentication_token",
        body.pending_authentication_token.as_deref(),
    );
    let challenge_id = v.required(
        "authentication_challenge_id",
        body.authentication_challenge_id.as_deref(),
    );
    let code = v.required("code", body.code.as_deref());
    v.finish()?;
    let mut sign_in = st.pending_sign_in(token, now)?;
    let challenge = find(&st.challenges, challenge_id)?;
    let factor = find(&st.factors, &challenge.factor_id)?;
    if factor.user_id != sign_in.user_id {
        return Err(Failure::not_found(
            super::store::ChallengeRec::KIND,
            challenge_id,
        ));
    }
    if challenge.used || challenge.expires_at <= now {
        return Err(Failure::invalid_grant(format!(
            "The authentication challenge '{challenge_id}' has expired or was already used."
        )));
    }
    if !totp::verify(&factor.secret, code, now) {
        return Err(Failure::bad_code(code));
    }
    find_mut(&mut st.challenges, challenge_id)?.used = true;
    st.pending.remove(token);
    sign_in.mfa_passed = true;
    Ok(sign_in)
}

fn organization_selection(
    st: &mut State,
    body: &GrantBody,
    now: SystemTime,
) -> Result<SignIn, Failure> {
    let mut v = Validator::default();
    let token = v.required(
        "pending_authentication_token",
        body.pending_authentication_token.as_deref(),
    );
    let organization_id = v.required("organization_id", body.organization_id.as_deref());
    v.finish()?;
    let mut sign_in = st.pending_sign_in(token, now)?;
    require_membership(st, &sign_in.user_id, organization_id)?;
    st.pending.remove(token);
    sign_in.organization_id = Some(organization_id.to_owned());
    Ok(sign_in)
}

/// A 400 OAuth error of the device grant (RFC 8628 §3.5).
fn device_error(error: &'static str, description: &str) -> Failure {
    Failure::OAuth {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.to_owned(),
    }
}

/// The device code grant: `authorization_pending` until the user approves on
/// the device page, `slow_down` (and 5 s more between polls from then on)
/// for a poll sooner than the interval after the last one, `access_denied`
/// once denied, `expired_token` after `expires_in`; approved, the sign-in
/// it stands for, once. WorkOS's CLI Auth reference lists these four codes;
/// their meaning and the 400 status are RFC 8628's.
fn device_code(
    caller: Caller,
    st: &mut State,
    body: &GrantBody,
    now: SystemTime,
) -> Result<SignIn, Failure> {
    let mut v = Validator::default();
    let code = v.required("device_code", body.device_code.as_deref());
    v.finish()?;
    let rec = st
        .devices
        .get_mut(code)
        .ok_or_else(|| Failure::invalid_grant("The device code is invalid."))?;
    if rec.expires_at <= now {
        return Err(device_error(
            "expired_token",
            "The device code has expired.",
        ));
    }
    let too_soon = rec
        .last_poll
        .is_some_and(|last| now.duration_since(last).map_or(true, |d| d < rec.interval));
    rec.last_poll = Some(now);
    match &rec.status {
        store::DeviceStatus::Pending if too_soon => {
            rec.interval += Duration::from_secs(5);
            Err(device_error(
                "slow_down",
                "Polling too frequently: wait 5 seconds more between requests.",
            ))
        }
        store::DeviceStatus::Pending => Err(device_error(
            "authorization_pending",
            "The user has not yet approved the device.",
        )),
        store::DeviceStatus::Denied => Err(device_error(
            "access_denied",
            "The user denied the device authorization.",
        )),
        store::DeviceStatus::Exchanged => Err(Failure::invalid_grant(
            "The device code was already exchanged.",
        )),
        store::DeviceStatus::Approved(sign_in) => {
            let sign_in = SignIn {
                public_client: caller == Caller::Public,
                ip_address: body.ip_address.clone(),
                user_agent: body.user_agent.clone(),
                ..sign_in.clone()
            };
            rec.status = store::DeviceStatus::Exchanged;
            Ok(sign_in)
        }
    }
}

/// 404 unless `user_id` is an active member of `organization_id`.
pub(crate) fn require_membership(
    st: &State,
    user_id: &str,
    organization_id: &str,
) -> Result<(), Failure> {
    match st.active_membership(user_id, organization_id) {
        Some(_) => Ok(()),
        None => Err(Failure::not_found(
            super::store::MembershipRec::KIND,
            organization_id,
        )),
    }
}

fn challenge(code: &str, message: &str, token: String, extra: Value) -> Failure {
    let mut body = json!({
        "code": code,
        "message": message,
        "pending_authentication_token": token,
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    Failure::Challenge(body)
}

/// Runs a sign-in through its gates, in WorkOS's order: email verification,
/// MFA, organization selection. Each unmet gate parks the sign-in under a
/// pending token and answers its challenge.
pub(crate) fn advance(
    st: &mut State,
    mut sign_in: SignIn,
    now: SystemTime,
) -> Result<SignIn, Failure> {
    let user = find(&st.users, &sign_in.user_id)?.clone();
    if user.require_email_verification && !user.email_verified && !sign_in.email_verified_now {
        let verification_id = st.new_email_verification(&user.id, now);
        let token = st.new_pending(sign_in, now);
        return Err(challenge(
            "email_verification_required",
            "Email ownership must be verified before authentication.",
            token,
            json!({"email": user.email, "email_verification_id": verification_id}),
        ));
    }
    if !sign_in.mfa_passed {
        let factors: Vec<Value> = st
            .factors
            .iter()
            .filter(|f| f.user_id == user.id)
            .map(|f| json!({"id": f.id, "type": "totp"}))
            .collect();
        if !factors.is_empty() {
            let token = st.new_pending(sign_in, now);
            return Err(challenge(
                "mfa_challenge",
                "The user must complete an MFA challenge to finish authenticating.",
                token,
                json!({"user": user.json(now), "authentication_factors": factors}),
            ));
        }
        if user.require_mfa {
            let token = st.new_pending(sign_in, now);
            return Err(challenge(
                "mfa_enrollment",
                "The user must enroll in MFA to finish authenticating.",
                token,
                json!({"user": user.json(now)}),
            ));
        }
    }
    match &sign_in.organization_id {
        Some(org) => require_membership(st, &user.id, org)?,
        None => {
            let organizations: Vec<Value> = st
                .active_organizations(&user.id)
                .iter()
                .map(|o| json!({"id": o.id, "name": o.name}))
                .collect();
            match organizations.as_slice() {
                [] => {}
                [only] => sign_in.organization_id = only["id"].as_str().map(str::to_owned),
                _ => {
                    let token = st.new_pending(sign_in, now);
                    return Err(challenge(
                        "organization_selection_required",
                        "The user must choose an organization to finish their authentication.",
                        token,
                        json!({"user": user.json(now), "organizations": organizations}),
                    ));
                }
            }
        }
    }
    Ok(sign_in)
}

/// Ends a sign-in that passed every gate: a new session and its tokens.
fn complete(
    shared: &Shared,
    st: &mut State,
    sign_in: SignIn,
    now: SystemTime,
) -> Result<Value, Failure> {
    let session_id = st.ids.next("session", now);
    st.sessions.push(SessionRec {
        id: session_id.clone(),
        user_id: sign_in.user_id.clone(),
        organization_id: sign_in.organization_id,
        method: sign_in.method,
        public_client: sign_in.public_client,
        ip_address: sign_in.ip_address,
        user_agent: sign_in.user_agent,
        created_at: now,
        updated_at: now,
        expires_at: now + shared.config.session_ttl,
        ended_at: None,
    });
    let user = find_mut(&mut st.users, &sign_in.user_id)?;
    user.last_sign_in_at = Some(now);
    user.updated_at = now;
    let authentication = json!({
        "type": sign_in.method.event_type(),
        "status": "succeeded",
        "user_id": user.id,
        "email": user.email,
        "ip_address": st.sessions.last().and_then(|s| s.ip_address.clone()),
        "user_agent": st.sessions.last().and_then(|s| s.user_agent.clone()),
    });
    let session = st.sessions.last().expect("just pushed").json(now);
    let name = format!("authentication.{}_succeeded", sign_in.method.event_type());
    st.emit(&name, authentication, now);
    st.emit("session.created", session, now);
    issue(shared, st, &session_id, now)
}

/// A fresh access token and refresh token for a session, as an authentication response.
fn issue(
    shared: &Shared,
    st: &mut State,
    session_id: &str,
    now: SystemTime,
) -> Result<Value, Failure> {
    let session = find(&st.sessions, session_id)?.clone();
    let config = &shared.config;
    let iat = unix_secs(now);
    let mut claims = json!({
        "iss": format!("{}/user_management/{}", config.base_url, config.client_id),
        "sub": session.user_id,
        "sid": session.id,
        "jti": ids::random_id(),
        "iat": iat,
        "exp": iat + config.access_token_ttl.as_secs() as i64,
    });
    if let Some(org_id) = &session.organization_id {
        claims["org_id"] = json!(org_id);
        if let (Some(membership), Ok(org)) = (
            st.active_membership(&session.user_id, org_id),
            find(&st.organizations, org_id),
        ) {
            claims["role"] = json!(membership.role_slugs[0]);
            claims["roles"] = json!(membership.role_slugs);
            claims["permissions"] = json!(org.permissions(&membership.role_slugs));
            claims["entitlements"] = json!(org.entitlements);
            claims["feature_flags"] = json!(org.feature_flags);
        }
    }
    forget_spent_refresh_tokens(st, now);
    let refresh_token = ids::token(25);
    st.refresh_tokens.insert(
        refresh_token.clone(),
        RefreshRec {
            session_id: session.id.clone(),
            used_at: None,
            answer: None,
        },
    );
    let mut answer = json!({
        "user": st.user_json(&session.user_id, now)?,
        "access_token": shared.keys.sign(&claims),
        "refresh_token": refresh_token,
        "authentication_method": session.method.response_name(),
    });
    // WorkOS leaves the field out (rather than `null`) outside an organization.
    if let Some(org_id) = &session.organization_id {
        answer["organization_id"] = json!(org_id);
    }
    Ok(answer)
}

/// Drops the refresh tokens that were exchanged longer than the replay
/// window ago: a replay of one is `invalid_grant` whether it is stored or
/// not, and keeping them (with the answer each gave) would grow the
/// emulator's memory with every refresh.
fn forget_spent_refresh_tokens(st: &mut State, now: SystemTime) {
    st.refresh_tokens.retain(|_, rec| match rec.used_at {
        None => true,
        Some(used_at) => now
            .duration_since(used_at)
            .map_or(true, |d| d <= REFRESH_REPLAY_WINDOW),
    });
}

/// The refresh grant: rotating, single-use tokens. A replay within 30 s
/// answers the same new pair (as WorkOS does, so a retried refresh whose
/// answer was lost does not end the session); a later one is `invalid_grant`.
/// `organization_id` switches the session's organization.
fn refresh(
    shared: &Shared,
    caller: Caller,
    st: &mut State,
    body: &GrantBody,
    now: SystemTime,
) -> Result<Value, Failure> {
    let token = body.refresh_token.as_deref().unwrap_or_default();
    let invalid = || Failure::invalid_grant("Invalid refresh token.");
    let rec = st.refresh_tokens.get(token).cloned().ok_or_else(invalid)?;
    let session = find(&st.sessions, &rec.session_id).map_err(|_| invalid())?;
    if caller == Caller::Public && !session.public_client {
        return Err(secret_required());
    }
    if !session.is_active(now) {
        return Err(Failure::invalid_grant("Session has already ended."));
    }
    if let Some(used_at) = rec.used_at {
        let within = now
            .duration_since(used_at)
            .map_or(true, |d| d <= REFRESH_REPLAY_WINDOW);
        return match rec.answer {
            Some(answer) if within => Ok(answer),
            _ => Err(Failure::invalid_grant("Refresh token already exchanged.")),
        };
    }
    let organization_id = non_empty(&body.organization_id)
        .map(str::to_owned)
        .or_else(|| session.organization_id.clone());
    if let Some(org) = &organization_id {
        require_membership(st, &session.user_id, org)?;
    }
    let session = find_mut(&mut st.sessions, &rec.session_id)?;
    session.organization_id = organization_id;
    session.updated_at = now;
    let answer = issue(shared, st, &rec.session_id, now)?;
    if let Some(rec) = st.refresh_tokens.get_mut(token) {
        rec.used_at = Some(now);
        rec.answer = Some(answer.clone());
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636, appendix B.
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "wrong",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }
}
