//! The User Management resources: users, sessions, authentication factors,
//! email verification, magic auth, password resets, invitations and
//! organization memberships.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State as AxumState};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::reply::{Failure, JsonBody, Reply, Validator, created, empty, nullable, ok};
use super::store::{
    self, ChallengeRec, EmailVerificationRec, Entity, FactorRec, InvitationRec, InvitationState,
    MagicAuthRec, MembershipRec, MembershipStatus, OrgRec, PasswordResetRec, SHORT_LIVED, State,
    UserRec, find, find_mut, page,
};
use super::{EmailKind, Shared, totp};
use secrecy::SecretString;

type Shr = AxumState<Arc<Shared>>;
type Params = Query<HashMap<String, String>>;

/// Runs `f` on the locked state at the emulator's current time.
fn run(shared: &Shared, f: impl FnOnce(&mut State, SystemTime) -> Reply) -> Reply {
    let now = shared.now();
    let mut st = shared.lock();
    f(&mut st, now)
}

/// `{"user": …}`, the answer of the email verification and reset calls.
fn user_envelope(st: &State, user_id: &str, now: SystemTime) -> Reply {
    created(json!({"user": st.user_json(user_id, now)?}))
}

// ---- users ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CreateUserBody {
    email: Option<String>,
    password: Option<String>,
    password_hash: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email_verified: Option<bool>,
    external_id: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
}

pub(crate) fn check_email_format(v: &mut Validator, email: &str) {
    v.check(
        email.is_empty() || email.contains('@'),
        "email_invalid",
        "Email should be a valid email address.",
    );
}

fn check_no_hash(v: &mut Validator, hash: &Option<String>) {
    v.check(
        hash.is_none(),
        "password_hash_unsupported",
        "The emulator cannot import password hashes; set a password instead.",
    );
}

/// 422 when another user (than `except`) has this email or external id.
pub(crate) fn ensure_unique(
    st: &State,
    email: Option<&str>,
    external_id: Option<&str>,
    except: Option<&str>,
) -> Result<(), Failure> {
    let others = || st.users.iter().filter(|u| Some(u.id.as_str()) != except);
    if let Some(email) = email
        && others().any(|u| u.email.eq_ignore_ascii_case(email.trim()))
    {
        return Err(Failure::invalid(
            "email_not_available",
            format!("The email '{email}' is already in use."),
        ));
    }
    if let Some(external_id) = external_id
        && others().any(|u| u.external_id.as_deref() == Some(external_id))
    {
        return Err(Failure::invalid(
            "external_id_not_available",
            format!("The external_id '{external_id}' is already in use."),
        ));
    }
    Ok(())
}

pub(crate) async fn create_user(AxumState(s): Shr, JsonBody(b): JsonBody<CreateUserBody>) -> Reply {
    let mut v = Validator::default();
    let email = v.required("email", b.email.as_deref()).trim().to_owned();
    check_email_format(&mut v, &email);
    check_no_hash(&mut v, &b.password_hash);
    v.finish()?;
    run(&s, |st, now| {
        ensure_unique(st, Some(&email), b.external_id.as_deref(), None)?;
        let user = UserRec {
            email_verified: b.email_verified.unwrap_or(false),
            first_name: b.first_name,
            last_name: b.last_name,
            external_id: b.external_id,
            metadata: b.metadata.unwrap_or_default(),
            password: b.password.map(SecretString::from),
            ..UserRec::new(&email)
        };
        created(st.insert_user(user, now).json(now))
    })
}

pub(crate) async fn get_user(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| ok(find(&st.users, &id)?.json(now)))
}

pub(crate) async fn get_user_by_external_id(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| {
        let user = st
            .users
            .iter()
            .find(|u| u.external_id.as_deref() == Some(&id))
            .ok_or_else(|| Failure::not_found(UserRec::KIND, &id))?;
        ok(user.json(now))
    })
}

pub(crate) async fn list_users(AxumState(s): Shr, Query(q): Params) -> Reply {
    run(&s, |st, now| {
        let email = q.get("email").filter(|e| !e.is_empty());
        let org = q.get("organization_id").filter(|o| !o.is_empty());
        let users = st
            .users
            .iter()
            .filter(|u| email.is_none_or(|e| u.email.eq_ignore_ascii_case(e)))
            .filter(|u| org.is_none_or(|o| st.active_membership(&u.id, o).is_some()))
            .collect();
        ok(page(users, &q, now)?)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct UpdateUserBody {
    email: Option<String>,
    #[serde(deserialize_with = "nullable")]
    first_name: Option<Option<String>>,
    #[serde(deserialize_with = "nullable")]
    last_name: Option<Option<String>>,
    email_verified: Option<bool>,
    password: Option<String>,
    password_hash: Option<String>,
    #[serde(deserialize_with = "nullable")]
    external_id: Option<Option<String>>,
    metadata: Option<BTreeMap<String, Option<String>>>,
    #[serde(deserialize_with = "nullable")]
    locale: Option<Option<String>>,
}

pub(crate) async fn update_user(
    AxumState(s): Shr,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateUserBody>,
) -> Reply {
    let mut v = Validator::default();
    if let Some(email) = &b.email {
        v.required("email", Some(email));
        check_email_format(&mut v, email);
    }
    check_no_hash(&mut v, &b.password_hash);
    v.finish()?;
    run(&s, |st, now| {
        find(&st.users, &id)?;
        ensure_unique(
            st,
            b.email.as_deref(),
            b.external_id.as_ref().and_then(Option::as_deref),
            Some(&id),
        )?;
        let user = find_mut(&mut st.users, &id)?;
        if let Some(email) = b.email
            && !email.trim().eq_ignore_ascii_case(&user.email)
        {
            user.email = email.trim().to_owned();
            user.email_verified = false;
        }
        if let Some(v) = b.first_name {
            user.first_name = v;
        }
        if let Some(v) = b.last_name {
            user.last_name = v;
        }
        if let Some(v) = b.email_verified {
            user.email_verified = v;
        }
        if let Some(p) = b.password {
            user.password = Some(SecretString::from(p));
        }
        if let Some(v) = b.external_id {
            user.external_id = v;
        }
        if let Some(v) = b.locale {
            user.locale = v;
        }
        for (key, value) in b.metadata.unwrap_or_default() {
            match value {
                Some(value) => user.metadata.insert(key, value),
                None => user.metadata.remove(&key),
            };
        }
        user.updated_at = now;
        let json = user.json(now);
        st.emit("user.updated", json.clone(), now);
        ok(json)
    })
}

pub(crate) async fn delete_user(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| {
        let user = find(&st.users, &id)?.json(now);
        for i in 0..st.sessions.len() {
            if st.sessions[i].user_id == id {
                st.end_session(i, now);
            }
        }
        for i in 0..st.memberships.len() {
            if st.memberships[i].user_id == id {
                st.membership_event("deleted", i, now);
            }
        }
        st.users.retain(|u| u.id != id);
        st.memberships.retain(|m| m.user_id != id);
        st.factors.retain(|f| f.user_id != id);
        st.emit("user.deleted", user, now);
        empty(StatusCode::OK)
    })
}

// ---- sessions ----

pub(crate) async fn list_sessions(
    AxumState(s): Shr,
    Path(id): Path<String>,
    Query(q): Params,
) -> Reply {
    run(&s, |st, now| {
        find(&st.users, &id)?;
        let sessions = st.sessions.iter().filter(|s| s.user_id == id).collect();
        ok(page(sessions, &q, now)?)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RevokeSessionBody {
    session_id: Option<String>,
}

pub(crate) async fn revoke_session(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<RevokeSessionBody>,
) -> Reply {
    let mut v = Validator::default();
    let session_id = v.required("session_id", b.session_id.as_deref()).to_owned();
    v.finish()?;
    run(&s, |st, now| {
        find(&st.sessions, &session_id)?;
        if let Some(i) = st.sessions.iter().position(|s| s.id == session_id) {
            st.end_session(i, now);
        }
        empty(StatusCode::OK)
    })
}

// ---- authentication factors ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EnrollBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    totp_issuer: Option<String>,
    totp_user: Option<String>,
    totp_secret: Option<String>,
}

impl State {
    /// A challenge against a factor, valid 10 minutes.
    fn new_challenge(&mut self, factor_id: &str, now: SystemTime) -> &ChallengeRec {
        let id = self.ids.next("auth_challenge", now);
        self.challenges.push(ChallengeRec {
            id,
            factor_id: factor_id.to_owned(),
            expires_at: now + SHORT_LIVED,
            created_at: now,
            used: false,
        });
        self.challenges.last().expect("just pushed")
    }
}

pub(crate) async fn enroll_auth_factor(
    AxumState(s): Shr,
    Path(user_id): Path<String>,
    JsonBody(b): JsonBody<EnrollBody>,
) -> Reply {
    let mut v = Validator::default();
    let kind = v.required("type", b.kind.as_deref());
    v.check(
        kind.is_empty() || kind == "totp",
        "type_invalid",
        "Only totp factors can be enrolled.",
    );
    v.check(
        b.totp_secret
            .as_deref()
            .is_none_or(|s| totp::base32_decode(s).is_some()),
        "totp_secret_invalid",
        "The TOTP secret should be base32.",
    );
    v.finish()?;
    run(&s, |st, now| {
        let email = find(&st.users, &user_id)?.email.clone();
        let factor = FactorRec {
            id: st.ids.next("auth_factor", now),
            user_id: user_id.clone(),
            secret: b.totp_secret.unwrap_or_else(totp::new_secret),
            issuer: b
                .totp_issuer
                .unwrap_or_else(|| super::DEFAULT_TOTP_ISSUER.to_owned()),
            account: b.totp_user.unwrap_or(email),
            created_at: now,
        };
        let mut factor_json = factor.json(now);
        factor_json["totp"]["secret"] = json!(factor.secret);
        factor_json["totp"]["uri"] = json!(totp::otpauth_uri(
            &factor.issuer,
            &factor.account,
            &factor.secret
        ));
        // A QR code image is out of scope; the URI carries the same data.
        factor_json["totp"]["qr_code"] = Value::Null;
        let factor_id = factor.id.clone();
        st.factors.push(factor);
        let challenge = st.new_challenge(&factor_id, now).json(now);
        created(json!({
            "authentication_factor": factor_json,
            "authentication_challenge": challenge,
        }))
    })
}

pub(crate) async fn list_auth_factors(
    AxumState(s): Shr,
    Path(user_id): Path<String>,
    Query(q): Params,
) -> Reply {
    run(&s, |st, now| {
        find(&st.users, &user_id)?;
        let factors = st.factors.iter().filter(|f| f.user_id == user_id).collect();
        ok(page(factors, &q, now)?)
    })
}

// The MFA API (`/auth/factors`, `/auth/challenges`), in WorkOS's shapes
// (workos-node's `mfa` module: `authentication_challenge` and
// `authentication_factor` objects, `{challenge, valid}` for a verify).

/// `POST /auth/factors/{id}/challenge`, to answer an `mfa_challenge`. The
/// body's `sms_template` is for SMS factors, which the emulator has not.
pub(crate) async fn challenge_factor(AxumState(s): Shr, Path(factor_id): Path<String>) -> Reply {
    run(&s, |st, now| {
        find(&st.factors, &factor_id)?;
        created(st.new_challenge(&factor_id, now).json(now))
    })
}

/// `GET /auth/factors/{id}`.
pub(crate) async fn get_factor(AxumState(s): Shr, Path(factor_id): Path<String>) -> Reply {
    run(&s, |st, now| ok(find(&st.factors, &factor_id)?.json(now)))
}

/// `DELETE /auth/factors/{id}`: the factor and its challenges go.
pub(crate) async fn delete_factor(AxumState(s): Shr, Path(factor_id): Path<String>) -> Reply {
    run(&s, |st, _| {
        find(&st.factors, &factor_id)?;
        st.factors.retain(|f| f.id != factor_id);
        st.challenges.retain(|c| c.factor_id != factor_id);
        empty(StatusCode::NO_CONTENT)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VerifyChallengeBody {
    code: Option<String>,
}

/// `POST /auth/challenges/{id}/verify`: `{challenge, valid}`. A right code
/// spends the challenge; an expired or spent one is refused with 422.
pub(crate) async fn verify_challenge(
    AxumState(s): Shr,
    Path(challenge_id): Path<String>,
    JsonBody(b): JsonBody<VerifyChallengeBody>,
) -> Reply {
    let mut v = Validator::default();
    let code = v.required("code", b.code.as_deref()).to_owned();
    v.finish()?;
    run(&s, |st, now| {
        let challenge = find(&st.challenges, &challenge_id)?.clone();
        if challenge.used {
            return Err(Failure::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                "authentication_challenge_previously_verified",
                format!("The authentication challenge '{challenge_id}' has already been verified."),
            ));
        }
        if challenge.expires_at <= now {
            return Err(Failure::coded(
                StatusCode::UNPROCESSABLE_ENTITY,
                "authentication_challenge_expired",
                format!("The authentication challenge '{challenge_id}' has expired."),
            ));
        }
        let factor = find(&st.factors, &challenge.factor_id)?;
        let valid = totp::verify(&factor.secret, &code, now);
        if valid {
            find_mut(&mut st.challenges, &challenge_id)?.used = true;
        }
        let challenge = find(&st.challenges, &challenge_id)?.json(now);
        ok(json!({"challenge": challenge, "valid": valid}))
    })
}

// ---- email verification ----

pub(crate) async fn send_verification_email(
    AxumState(s): Shr,
    Path(user_id): Path<String>,
) -> Reply {
    run(&s, |st, now| {
        find(&st.users, &user_id)?;
        st.new_email_verification(&user_id, now);
        user_envelope(st, &user_id, now)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeBody {
    code: Option<String>,
}

pub(crate) async fn verify_email(
    AxumState(s): Shr,
    Path(user_id): Path<String>,
    JsonBody(b): JsonBody<CodeBody>,
) -> Reply {
    run(&s, |st, now| {
        find(&st.users, &user_id)?;
        let code = b.code.unwrap_or_default();
        let rec = st
            .email_verifications
            .iter_mut()
            .rev()
            .find(|e| e.0.user_id == user_id && e.0.usable(&code, now))
            .ok_or_else(|| {
                Failure::coded(
                    StatusCode::BAD_REQUEST,
                    "email_verification_code_incorrect",
                    "Email verification code is incorrect.",
                )
            })?;
        rec.0.used = true;
        st.mark_verified(&user_id, now)?;
        user_envelope(st, &user_id, now)
    })
}

pub(crate) async fn get_email_verification(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| {
        ok(find::<EmailVerificationRec>(&st.email_verifications, &id)?.json(now))
    })
}

// ---- magic auth ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EmailBody {
    email: Option<String>,
    password_reset_url: Option<String>,
}

/// A magic-auth code for `email`, creating the user if needed (as WorkOS does).
fn new_magic_auth(st: &mut State, email: &str, now: SystemTime) -> Value {
    let user_id = match st.user_by_email(email) {
        Some(u) => u.id.clone(),
        None => {
            let user = UserRec::new(email);
            st.insert_user(user, now).id.clone()
        }
    };
    let code = st.new_code("magic_auth", &user_id, now);
    st.send_email(&code.email, EmailKind::MagicAuth, &code.code, None, now);
    let rec = MagicAuthRec(code);
    let json = rec.json(now);
    st.magic_auths.push(rec);
    json
}

fn required_email(b: &EmailBody) -> Result<String, Failure> {
    let mut v = Validator::default();
    let email = v.required("email", b.email.as_deref()).trim().to_owned();
    check_email_format(&mut v, &email);
    v.finish()?;
    Ok(email)
}

pub(crate) async fn create_magic_auth(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<EmailBody>,
) -> Reply {
    let email = required_email(&b)?;
    run(&s, |st, now| created(new_magic_auth(st, &email, now)))
}

pub(crate) async fn send_magic_auth_code(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<EmailBody>,
) -> Reply {
    let email = required_email(&b)?;
    run(&s, |st, now| {
        new_magic_auth(st, &email, now);
        empty(StatusCode::OK)
    })
}

pub(crate) async fn get_magic_auth(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| {
        ok(find::<MagicAuthRec>(&st.magic_auths, &id)?.json(now))
    })
}

// ---- password reset ----

/// A reset token for `email`'s user (15 minutes), "emailed" with a link to
/// `url?token=…` (default: the emulator's `/reset-password`).
fn new_password_reset(
    shared: &Shared,
    st: &mut State,
    email: &str,
    url: Option<&str>,
    now: SystemTime,
) -> Result<Value, Failure> {
    let user_id = st.user_id_by_email(email)?;
    let email = find(&st.users, &user_id)?.email.clone();
    let token = super::ids::token(25);
    let base = url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}/reset-password", shared.config.base_url));
    let separator = if base.contains('?') { '&' } else { '?' };
    let rec = PasswordResetRec {
        id: st.ids.next("password_reset", now),
        user_id,
        email,
        url: format!("{base}{separator}token={token}"),
        token,
        expires_at: now + Duration::from_secs(900),
        created_at: now,
        used: false,
    };
    st.send_email(
        &rec.email,
        EmailKind::PasswordReset,
        &rec.token,
        Some(rec.url.clone()),
        now,
    );
    let json = rec.json(now);
    st.password_resets.push(rec);
    Ok(json)
}

pub(crate) async fn create_password_reset(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<EmailBody>,
) -> Reply {
    let email = required_email(&b)?;
    run(&s, |st, now| {
        created(new_password_reset(&s, st, &email, None, now)?)
    })
}

pub(crate) async fn send_password_reset_email(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<EmailBody>,
) -> Reply {
    let mut v = Validator::default();
    let email = v.required("email", b.email.as_deref()).to_owned();
    let url = v
        .required("password_reset_url", b.password_reset_url.as_deref())
        .to_owned();
    v.finish()?;
    run(&s, |st, now| {
        new_password_reset(&s, st, &email, Some(&url), now)?;
        empty(StatusCode::CREATED)
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ResetPasswordBody {
    token: Option<String>,
    new_password: Option<String>,
}

pub(crate) async fn reset_password(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<ResetPasswordBody>,
) -> Reply {
    let mut v = Validator::default();
    let token = v.required("token", b.token.as_deref()).to_owned();
    let new_password = v
        .required("new_password", b.new_password.as_deref())
        .to_owned();
    v.finish()?;
    run(&s, |st, now| {
        let rec = st
            .password_resets
            .iter_mut()
            .find(|r| r.token == token && !r.used && r.expires_at > now)
            .ok_or_else(|| {
                Failure::coded(
                    StatusCode::NOT_FOUND,
                    "password_reset_token_not_found",
                    format!("Could not locate user with provided token: '{token}'"),
                )
            })?;
        rec.used = true;
        let user_id = rec.user_id.clone();
        let user = find_mut(&mut st.users, &user_id)?;
        user.password = Some(SecretString::from(new_password));
        user.updated_at = now;
        user_envelope(st, &user_id, now)
    })
}

pub(crate) async fn get_password_reset(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| {
        ok(find::<PasswordResetRec>(&st.password_resets, &id)?.json(now))
    })
}

// ---- invitations ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct InvitationBody {
    email: Option<String>,
    organization_id: Option<String>,
    expires_in_days: Option<u32>,
    inviter_user_id: Option<String>,
    role_slug: Option<String>,
    locale: Option<String>,
}

pub(crate) async fn send_invitation(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<InvitationBody>,
) -> Reply {
    let mut v = Validator::default();
    let email = v.required("email", b.email.as_deref()).trim().to_owned();
    check_email_format(&mut v, &email);
    let days = b.expires_in_days.unwrap_or(7);
    v.check(
        (1..=30).contains(&days),
        "expires_in_days_invalid",
        "Expires In Days should be between 1 and 30.",
    );
    v.check(
        b.role_slug.is_none() || b.organization_id.is_some(),
        "role_slug_requires_organization",
        "A role_slug needs an organization_id.",
    );
    v.finish()?;
    run(&s, |st, now| {
        if let Some(org_id) = &b.organization_id {
            check_roles(find(&st.organizations, org_id)?, b.role_slug.iter())?;
        }
        if let Some(inviter) = &b.inviter_user_id {
            find(&st.users, inviter)?;
        }
        if st.invitations.iter().any(|i| {
            i.email.eq_ignore_ascii_case(&email)
                && i.organization_id == b.organization_id
                && i.state_at(now) == "pending"
        }) {
            return Err(Failure::message(
                StatusCode::CONFLICT,
                format!("An Invitation with the email {email} already exists."),
            ));
        }
        let token = super::ids::token(25);
        let url = format!("{}/invite?invitation_token={token}", s.config.base_url);
        let rec = InvitationRec {
            id: st.ids.next("invitation", now),
            email,
            state: InvitationState::Pending,
            accepted_at: None,
            accepted_user_id: None,
            revoked_at: None,
            expires_at: now + Duration::from_secs(u64::from(days) * 86_400),
            organization_id: b.organization_id,
            inviter_user_id: b.inviter_user_id,
            role_slug: b.role_slug,
            locale: b.locale,
            token,
            accept_invitation_url: url,
            created_at: now,
            updated_at: now,
        };
        st.send_email(
            &rec.email,
            EmailKind::Invitation,
            &rec.token,
            Some(rec.accept_invitation_url.clone()),
            now,
        );
        st.last_email_in(rec.locale.clone());
        let json = rec.json(now);
        st.invitations.push(rec);
        created(json)
    })
}

pub(crate) async fn get_invitation(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| ok(find(&st.invitations, &id)?.json(now)))
}

pub(crate) async fn find_invitation_by_token(
    AxumState(s): Shr,
    Path(token): Path<String>,
) -> Reply {
    run(&s, |st, now| {
        ok(store::invitation_by_token(st, &token)?.json(now))
    })
}

pub(crate) async fn list_invitations(AxumState(s): Shr, Query(q): Params) -> Reply {
    run(&s, |st, now| {
        let email = q.get("email").filter(|e| !e.is_empty());
        let org = q.get("organization_id").filter(|o| !o.is_empty());
        let invitations = st
            .invitations
            .iter()
            .filter(|i| email.is_none_or(|e| i.email.eq_ignore_ascii_case(e)))
            .filter(|i| org.is_none_or(|o| i.organization_id.as_ref() == Some(o)))
            .collect();
        ok(page(invitations, &q, now)?)
    })
}

/// Applies `change` to a pending invitation (400 `invite_*` otherwise).
fn change_invitation(
    shared: &Shared,
    id: &str,
    change: impl FnOnce(&mut State, &str, SystemTime) -> Result<(), Failure>,
) -> Reply {
    run(shared, |st, now| {
        find(&st.invitations, id)?.ensure_pending(now)?;
        change(st, id, now)?;
        let rec = find_mut(&mut st.invitations, id)?;
        rec.updated_at = now;
        ok(rec.json(now))
    })
}

pub(crate) async fn revoke_invitation(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    change_invitation(&s, &id, |st, id, now| {
        let rec = find_mut(&mut st.invitations, id)?;
        rec.state = InvitationState::Revoked;
        rec.revoked_at = Some(now);
        Ok(())
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ResendBody {
    locale: Option<String>,
}

pub(crate) async fn resend_invitation(
    AxumState(s): Shr,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ResendBody>,
) -> Reply {
    change_invitation(&s, &id, |st, id, now| {
        let rec = find(&st.invitations, id)?;
        let (email, token, link) = (
            rec.email.clone(),
            rec.token.clone(),
            rec.accept_invitation_url.clone(),
        );
        let locale = b.locale.or_else(|| rec.locale.clone());
        st.send_email(&email, EmailKind::Invitation, &token, Some(link), now);
        st.last_email_in(locale);
        Ok(())
    })
}

pub(crate) async fn accept_invitation(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    change_invitation(&s, &id, |st, id, now| {
        let email = find(&st.invitations, id)?.email.clone();
        let user_id = st.user_by_email(&email).map(|u| u.id.clone());
        store::accept_invitation(st, id, user_id.as_deref(), now)
    })
}

// ---- organization memberships ----

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MembershipBody {
    user_id: Option<String>,
    organization_id: Option<String>,
    role_slug: Option<String>,
    role_slugs: Option<Vec<String>>,
}

impl MembershipBody {
    /// The roles asked for: `role_slug` or `role_slugs` (422 for both).
    fn roles(&self, v: &mut Validator) -> Option<Vec<String>> {
        v.check(
            self.role_slug.is_none() || self.role_slugs.is_none(),
            "role_slug_and_role_slugs",
            "Give role_slug or role_slugs, not both.",
        );
        v.check(
            self.role_slugs.as_ref().is_none_or(|r| !r.is_empty()),
            "role_slugs_empty",
            "Role Slugs should not be empty.",
        );
        match (&self.role_slug, &self.role_slugs) {
            (Some(one), _) => Some(vec![one.clone()]),
            (None, Some(many)) => Some(many.clone()),
            (None, None) => None,
        }
    }
}

/// 404 `Role not found` for a slug the organization does not have.
fn check_roles<'a>(
    org: &OrgRec,
    slugs: impl IntoIterator<Item = &'a String>,
) -> Result<(), Failure> {
    match slugs.into_iter().find(|s| !org.has_role(s)) {
        Some(slug) => Err(Failure::not_found("Role", slug.as_str())),
        None => Ok(()),
    }
}

pub(crate) async fn create_membership(
    AxumState(s): Shr,
    JsonBody(b): JsonBody<MembershipBody>,
) -> Reply {
    let mut v = Validator::default();
    let user_id = v.required("user_id", b.user_id.as_deref()).to_owned();
    let org_id = v
        .required("organization_id", b.organization_id.as_deref())
        .to_owned();
    let roles = b
        .roles(&mut v)
        .unwrap_or_else(|| vec![super::store::DEFAULT_ROLE.to_owned()]);
    v.finish()?;
    run(&s, |st, now| {
        find(&st.users, &user_id)?;
        check_roles(find(&st.organizations, &org_id)?, &roles)?;
        if st
            .memberships
            .iter()
            .any(|m| m.user_id == user_id && m.organization_id == org_id)
        {
            return Err(Failure::coded(
                StatusCode::CONFLICT,
                "organization_membership_already_exists",
                format!("The user '{user_id}' is already a member of '{org_id}'."),
            ));
        }
        created(st.add_membership(&user_id, &org_id, roles, now).json(now))
    })
}

pub(crate) async fn get_membership(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| ok(find(&st.memberships, &id)?.json(now)))
}

pub(crate) async fn list_memberships(AxumState(s): Shr, Query(q): Params) -> Reply {
    let statuses = match q.get("statuses").filter(|s| !s.is_empty()) {
        None => None,
        Some(list) => Some(
            list.split(',')
                .map(|s| {
                    MembershipStatus::parse(s.trim()).ok_or_else(|| {
                        Failure::invalid(
                            "statuses_invalid",
                            format!("Unknown status '{s}': use active, inactive or pending."),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    run(&s, |st, now| {
        let user = q.get("user_id").filter(|u| !u.is_empty());
        let org = q.get("organization_id").filter(|o| !o.is_empty());
        let memberships: Vec<&MembershipRec> = st
            .memberships
            .iter()
            .filter(|m| user.is_none_or(|u| &m.user_id == u))
            .filter(|m| org.is_none_or(|o| &m.organization_id == o))
            .filter(|m| statuses.as_ref().is_none_or(|s| s.contains(&m.status)))
            .collect();
        ok(page(memberships, &q, now)?)
    })
}

pub(crate) async fn update_membership(
    AxumState(s): Shr,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<MembershipBody>,
) -> Reply {
    let mut v = Validator::default();
    let roles = b.roles(&mut v);
    v.finish()?;
    run(&s, |st, now| {
        let org_id = find(&st.memberships, &id)?.organization_id.clone();
        if let Some(roles) = &roles {
            check_roles(find(&st.organizations, &org_id)?, roles)?;
        }
        let m = find_mut(&mut st.memberships, &id)?;
        if let Some(roles) = roles {
            m.role_slugs = roles;
        }
        m.updated_at = now;
        let json = m.json(now);
        st.emit("organization_membership.updated", json.clone(), now);
        ok(json)
    })
}

pub(crate) async fn delete_membership(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| {
        let json = find(&st.memberships, &id)?.json(now);
        st.memberships.retain(|m| m.id != id);
        st.emit("organization_membership.deleted", json, now);
        empty(StatusCode::OK)
    })
}

fn set_status(shared: &Shared, id: &str, status: MembershipStatus) -> Reply {
    run(shared, |st, now| {
        let m = find_mut(&mut st.memberships, id)?;
        m.status = status;
        m.updated_at = now;
        let json = m.json(now);
        st.emit("organization_membership.updated", json.clone(), now);
        ok(json)
    })
}

pub(crate) async fn deactivate_membership(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    set_status(&s, &id, MembershipStatus::Inactive)
}

pub(crate) async fn reactivate_membership(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    set_status(&s, &id, MembershipStatus::Active)
}
