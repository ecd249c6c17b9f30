//! The emulator's in-memory state: entities, their WorkOS JSON, lookups,
//! pagination, and the seed loader.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::clock::rfc3339;
use super::ids::IdGen;
use super::reply::Failure;
use super::seed::{Seed, SeedError};
use super::{EmailKind, SentEmail};
use secrecy::SecretString;

/// The role every organization has, whether seeded or not.
pub(crate) const DEFAULT_ROLE: &str = "member";

/// Something with an id, a name for "not found" errors, and a WorkOS JSON form.
pub(crate) trait Entity {
    /// The name in `"<KIND> not found: '<id>'."`.
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn json(&self, now: SystemTime) -> Value;
}

/// The entity with `id`, or 404 `entity_not_found`.
pub(crate) fn find<'a, T: Entity>(items: &'a [T], id: &str) -> Result<&'a T, Failure> {
    items
        .iter()
        .find(|e| e.id() == id)
        .ok_or_else(|| Failure::not_found(T::KIND, id))
}

/// [`find`], mutably.
pub(crate) fn find_mut<'a, T: Entity>(items: &'a mut [T], id: &str) -> Result<&'a mut T, Failure> {
    items
        .iter_mut()
        .find(|e| e.id() == id)
        .ok_or_else(|| Failure::not_found(T::KIND, id))
}

fn time(t: Option<SystemTime>) -> Value {
    t.map(rfc3339).map_or(Value::Null, Value::String)
}

/// How a session began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthMethod {
    Password,
    MagicAuth,
}

impl AuthMethod {
    /// The `authentication_method` of an authentication response.
    pub(crate) fn response_name(self) -> &'static str {
        match self {
            AuthMethod::Password => "Password",
            AuthMethod::MagicAuth => "MagicAuth",
        }
    }

    /// The `type` of its `authentication.*` events.
    pub(crate) fn event_type(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::MagicAuth => "magic_auth",
        }
    }

    /// The `auth_method` of a session.
    fn session_name(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::MagicAuth => "magic_code",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) email_verified: bool,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) last_sign_in_at: Option<SystemTime>,
    pub(crate) external_id: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) locale: Option<String>,
    pub(crate) password: Option<SecretString>,
    pub(crate) require_email_verification: bool,
    pub(crate) require_mfa: bool,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
}

impl UserRec {
    /// A user with just an email address (unverified, no password); the id
    /// and timestamps are set by [`State::insert_user`].
    pub(crate) fn new(email: &str) -> Self {
        UserRec {
            id: String::new(),
            email: email.trim().to_owned(),
            email_verified: false,
            first_name: None,
            last_name: None,
            last_sign_in_at: None,
            external_id: None,
            metadata: BTreeMap::new(),
            locale: None,
            password: None,
            require_email_verification: false,
            require_mfa: false,
            created_at: SystemTime::UNIX_EPOCH,
            updated_at: SystemTime::UNIX_EPOCH,
        }
    }
}

impl Entity for UserRec {
    const KIND: &'static str = "User";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "user",
            "id": self.id,
            "email": self.email,
            "email_verified": self.email_verified,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "profile_picture_url": null,
            "last_sign_in_at": time(self.last_sign_in_at),
            "external_id": self.external_id,
            "metadata": self.metadata,
            "locale": self.locale,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RoleRec {
    pub(crate) slug: String,
    pub(crate) permissions: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct OrgRec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) roles: Vec<RoleRec>,
    pub(crate) entitlements: Vec<String>,
    pub(crate) feature_flags: Vec<String>,
    pub(crate) domains: Vec<DomainRec>,
    pub(crate) external_id: Option<String>,
    pub(crate) metadata: BTreeMap<String, String>,
    pub(crate) stripe_customer_id: Option<String>,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
}

/// An organization's domain (`"object": "organization_domain"`).
#[derive(Debug, Clone)]
pub(crate) struct DomainRec {
    pub(crate) id: String,
    pub(crate) domain: String,
    /// `verified` or `pending` (what `domain_data` may ask for).
    pub(crate) state: &'static str,
    /// A DNS TXT value for a pending domain (public, like WorkOS's).
    pub(crate) verification_token: Option<String>,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
}

impl DomainRec {
    fn json(&self, organization_id: &str) -> Value {
        json!({
            "object": "organization_domain",
            "id": self.id,
            "organization_id": organization_id,
            "domain": self.domain,
            "state": self.state,
            "verification_strategy": if self.state == "verified" { "manual" } else { "dns" },
            "verification_token": self.verification_token,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

impl OrgRec {
    /// An organization with only a name (and the `member` role).
    pub(crate) fn new(id: String, name: &str, now: SystemTime) -> Self {
        OrgRec {
            id,
            name: name.to_owned(),
            roles: Vec::new(),
            entitlements: Vec::new(),
            feature_flags: Vec::new(),
            domains: Vec::new(),
            external_id: None,
            metadata: BTreeMap::new(),
            stripe_customer_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub(crate) fn has_role(&self, slug: &str) -> bool {
        slug == DEFAULT_ROLE || self.roles.iter().any(|r| r.slug == slug)
    }

    /// The permissions `slugs` grant, deduplicated, in role order.
    pub(crate) fn permissions(&self, slugs: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for role in self.roles.iter().filter(|r| slugs.contains(&r.slug)) {
            for p in &role.permissions {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
        out
    }
}

impl Entity for OrgRec {
    const KIND: &'static str = "Organization";
    fn id(&self) -> &str {
        &self.id
    }
    /// WorkOS's `organization` object.
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "organization",
            "id": self.id,
            "name": self.name,
            "allow_profiles_outside_organization": false,
            "domains": self.domains.iter().map(|d| d.json(&self.id)).collect::<Vec<_>>(),
            "external_id": self.external_id,
            "metadata": self.metadata,
            "stripe_customer_id": self.stripe_customer_id,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MembershipStatus {
    Active,
    Inactive,
    Pending,
}

impl MembershipStatus {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            "pending" => Some(Self::Pending),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Pending => "pending",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MembershipRec {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) organization_id: String,
    /// The organization's name (kept in step when it is renamed).
    pub(crate) organization_name: String,
    pub(crate) status: MembershipStatus,
    /// The first is the primary role (`role`); all are `roles`.
    pub(crate) role_slugs: Vec<String>,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
}

impl Entity for MembershipRec {
    const KIND: &'static str = "Organization Membership";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "organization_membership",
            "id": self.id,
            "user_id": self.user_id,
            "organization_id": self.organization_id,
            "organization_name": self.organization_name,
            "status": self.status.as_str(),
            "role": {"slug": self.role_slugs[0]},
            "roles": self.role_slugs.iter().map(|s| json!({"slug": s})).collect::<Vec<_>>(),
            "directory_managed": false,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvitationState {
    Pending,
    Accepted,
    Revoked,
}

#[derive(Debug, Clone)]
pub(crate) struct InvitationRec {
    pub(crate) id: String,
    pub(crate) email: String,
    pub(crate) state: InvitationState,
    pub(crate) accepted_at: Option<SystemTime>,
    /// The user who accepted it (when they had, or made, an account).
    pub(crate) accepted_user_id: Option<String>,
    pub(crate) revoked_at: Option<SystemTime>,
    pub(crate) expires_at: SystemTime,
    pub(crate) organization_id: Option<String>,
    pub(crate) inviter_user_id: Option<String>,
    pub(crate) role_slug: Option<String>,
    /// The language of its emails.
    pub(crate) locale: Option<String>,
    pub(crate) token: String,
    pub(crate) accept_invitation_url: String,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
}

impl InvitationRec {
    /// The state as WorkOS reports it: a pending invitation past its expiry is `expired`.
    pub(crate) fn state_at(&self, now: SystemTime) -> &'static str {
        match self.state {
            InvitationState::Pending if self.expires_at <= now => "expired",
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Revoked => "revoked",
        }
    }

    /// `Ok` when the invitation can still be acted on, else WorkOS's 400.
    pub(crate) fn ensure_pending(&self, now: SystemTime) -> Result<(), Failure> {
        let (code, message) = match self.state_at(now) {
            "pending" => return Ok(()),
            "accepted" => ("invite_accepted", "Invite has already been accepted."),
            "revoked" => ("invite_revoked", "Invite has been revoked."),
            _ => ("invite_expired", "Invite has expired."),
        };
        Err(Failure::coded(
            axum::http::StatusCode::BAD_REQUEST,
            code,
            message,
        ))
    }
}

impl Entity for InvitationRec {
    const KIND: &'static str = "Invitation";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, now: SystemTime) -> Value {
        json!({
            "object": "invitation",
            "id": self.id,
            "email": self.email,
            "state": self.state_at(now),
            "accepted_at": time(self.accepted_at),
            "accepted_user_id": self.accepted_user_id,
            "revoked_at": time(self.revoked_at),
            "expires_at": rfc3339(self.expires_at),
            "organization_id": self.organization_id,
            "inviter_user_id": self.inviter_user_id,
            "role_slug": self.role_slug,
            "token": self.token,
            "accept_invitation_url": self.accept_invitation_url,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

/// A one-time code sent by email: magic auth and email verification share the shape.
#[derive(Debug, Clone)]
pub(crate) struct OneTimeCode {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) email: String,
    pub(crate) code: String,
    pub(crate) expires_at: SystemTime,
    pub(crate) created_at: SystemTime,
    pub(crate) used: bool,
}

impl OneTimeCode {
    pub(crate) fn usable(&self, code: &str, now: SystemTime) -> bool {
        !self.used && self.expires_at > now && self.code == code.trim()
    }

    fn json(&self, object: &str) -> Value {
        json!({
            "object": object,
            "id": self.id,
            "user_id": self.user_id,
            "email": self.email,
            "code": self.code,
            "expires_at": rfc3339(self.expires_at),
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.created_at),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct MagicAuthRec(pub(crate) OneTimeCode);

impl Entity for MagicAuthRec {
    const KIND: &'static str = "MagicAuth";
    fn id(&self) -> &str {
        &self.0.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        self.0.json("magic_auth")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct EmailVerificationRec(pub(crate) OneTimeCode);

impl Entity for EmailVerificationRec {
    const KIND: &'static str = "Email Verification";
    fn id(&self) -> &str {
        &self.0.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        self.0.json("email_verification")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct PasswordResetRec {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) email: String,
    pub(crate) token: String,
    pub(crate) url: String,
    pub(crate) expires_at: SystemTime,
    pub(crate) created_at: SystemTime,
    pub(crate) used: bool,
}

impl Entity for PasswordResetRec {
    const KIND: &'static str = "Password Reset";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "password_reset",
            "id": self.id,
            "user_id": self.user_id,
            "email": self.email,
            "password_reset_token": self.token,
            "password_reset_url": self.url,
            "expires_at": rfc3339(self.expires_at),
            "created_at": rfc3339(self.created_at),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FactorRec {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) secret: String,
    pub(crate) issuer: String,
    pub(crate) account: String,
    pub(crate) created_at: SystemTime,
}

impl Entity for FactorRec {
    const KIND: &'static str = "Authentication Factor";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "authentication_factor",
            "id": self.id,
            "user_id": self.user_id,
            "type": "totp",
            "totp": {"issuer": self.issuer, "user": self.account},
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.created_at),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ChallengeRec {
    pub(crate) id: String,
    pub(crate) factor_id: String,
    pub(crate) expires_at: SystemTime,
    pub(crate) created_at: SystemTime,
    pub(crate) used: bool,
}

impl Entity for ChallengeRec {
    const KIND: &'static str = "Authentication Challenge";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "authentication_challenge",
            "id": self.id,
            "authentication_factor_id": self.factor_id,
            "expires_at": rfc3339(self.expires_at),
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.created_at),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SessionRec {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) organization_id: Option<String>,
    pub(crate) method: AuthMethod,
    pub(crate) public_client: bool,
    pub(crate) ip_address: Option<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
    pub(crate) expires_at: SystemTime,
    pub(crate) ended_at: Option<SystemTime>,
}

impl SessionRec {
    pub(crate) fn is_active(&self, now: SystemTime) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }

    /// Ends the session (revocation, logout, user deletion); whether it was live.
    pub(crate) fn end(&mut self, now: SystemTime) -> bool {
        if self.ended_at.is_none() {
            self.ended_at = Some(now);
            self.updated_at = now;
            return true;
        }
        false
    }
}

impl Entity for SessionRec {
    const KIND: &'static str = "Session";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, now: SystemTime) -> Value {
        let status = match (self.ended_at, self.expires_at > now) {
            (Some(_), _) => "revoked",
            (None, false) => "expired",
            (None, true) => "active",
        };
        json!({
            "object": "session",
            "id": self.id,
            "user_id": self.user_id,
            "organization_id": self.organization_id,
            "status": status,
            "auth_method": self.method.session_name(),
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "expires_at": rfc3339(self.expires_at),
            "ended_at": time(self.ended_at),
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

/// A sign-in in progress: who, how, and which gates it has passed.
#[derive(Debug, Clone)]
pub(crate) struct SignIn {
    pub(crate) user_id: String,
    pub(crate) method: AuthMethod,
    /// The organization asked for or picked; resolved at the end when `None`.
    pub(crate) organization_id: Option<String>,
    pub(crate) email_verified_now: bool,
    pub(crate) mfa_passed: bool,
    /// Began by a code exchange without a client secret (PKCE): its refresh
    /// tokens may be used without one too.
    pub(crate) public_client: bool,
    pub(crate) ip_address: Option<String>,
    pub(crate) user_agent: Option<String>,
}

impl SignIn {
    /// A sign-in that has passed no gate yet.
    pub(crate) fn new(user_id: String, method: AuthMethod) -> Self {
        SignIn {
            user_id,
            method,
            organization_id: None,
            email_verified_now: false,
            mfa_passed: false,
            public_client: false,
            ip_address: None,
            user_agent: None,
        }
    }
}

/// A sign-in waiting on a challenge (`pending_authentication_token`).
#[derive(Debug, Clone)]
pub(crate) struct PendingRec {
    pub(crate) sign_in: SignIn,
    pub(crate) expires_at: SystemTime,
}

/// An authorization code from the hosted flow.
#[derive(Debug, Clone)]
pub(crate) struct CodeRec {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) code_challenge: Option<String>,
    pub(crate) sign_in: SignIn,
    pub(crate) expires_at: SystemTime,
    pub(crate) used: bool,
}

/// A refresh token: single use, with the answer it gave, for replays.
#[derive(Debug, Clone)]
pub(crate) struct RefreshRec {
    pub(crate) session_id: String,
    pub(crate) used_at: Option<SystemTime>,
    pub(crate) answer: Option<Value>,
}

/// The hosted flow between `/authorize` and the redirect.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationRec {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) state: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) organization_id: Option<String>,
    pub(crate) login_hint: Option<String>,
    /// Set once the credentials are checked (the organization picker is next).
    pub(crate) user_id: Option<String>,
    pub(crate) expires_at: SystemTime,
    /// A sign-in on the device page: the device code it approves or denies
    /// (instead of a redirect with a code).
    pub(crate) device_code: Option<String>,
}

// Device authorization (CLI Auth, RFC 8628).

/// Where a device authorization stands.
#[derive(Debug, Clone)]
pub(crate) enum DeviceStatus {
    /// Waiting for the user to enter the code and approve.
    Pending,
    /// Approved by a signed-in user: the next poll gets the tokens.
    Approved(SignIn),
    /// Denied by the user.
    Denied,
    /// Exchanged for tokens: the device code is spent.
    Exchanged,
}

/// A device authorization (`POST /user_management/authorize/device`), keyed
/// by its device code.
#[derive(Debug, Clone)]
pub(crate) struct DeviceRec {
    pub(crate) client_id: String,
    /// `XXXX-XXXX`, what the user types on the device page.
    pub(crate) user_code: String,
    /// The least time between two polls; grows by 5 s with each `slow_down`.
    pub(crate) interval: Duration,
    pub(crate) last_poll: Option<SystemTime>,
    pub(crate) expires_at: SystemTime,
    pub(crate) status: DeviceStatus,
}

impl DeviceRec {
    /// Still waiting for the user, and not expired.
    pub(crate) fn awaiting_user(&self, now: SystemTime) -> bool {
        matches!(self.status, DeviceStatus::Pending) && self.expires_at > now
    }
}

/// How long an expired device authorization is kept, so that its polls
/// answer `expired_token` rather than `invalid_grant`.
pub(crate) const DEVICE_KEPT_AFTER_EXPIRY: Duration = Duration::from_secs(3600);

// ---- the rest of user management (served by profile.rs) ----

/// An OAuth account linked to a user.
#[derive(Debug, Clone)]
pub(crate) struct IdentityRec {
    pub(crate) user_id: String,
    pub(crate) idp_id: String,
    pub(crate) provider: String,
}

/// A change of email address waiting for its code (sent to the new address,
/// which `code.email` holds).
#[derive(Debug, Clone)]
pub(crate) struct EmailChangeRec(pub(crate) OneTimeCode);

/// A group of an organization's memberships.
#[derive(Debug, Clone)]
pub(crate) struct GroupRec {
    pub(crate) id: String,
    pub(crate) organization_id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) membership_ids: Vec<String>,
    pub(crate) created_at: SystemTime,
}

impl Entity for GroupRec {
    const KIND: &'static str = "Group";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "group",
            "id": self.id,
            "organization_id": self.organization_id,
            "name": self.name,
            "description": self.description,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.created_at),
        })
    }
}

/// An event, as the Events API lists it and webhooks deliver it.
#[derive(Debug, Clone)]
pub(crate) struct EventRec {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) data: Value,
    pub(crate) created_at: SystemTime,
}

impl Entity for EventRec {
    const KIND: &'static str = "Event";
    fn id(&self) -> &str {
        &self.id
    }
    fn json(&self, _now: SystemTime) -> Value {
        json!({
            "object": "event",
            "id": self.id,
            "event": self.name,
            "data": self.data,
            "created_at": rfc3339(self.created_at),
        })
    }
}

/// How many events the log keeps (the oldest are dropped first), so memory
/// stays bounded in a long run.
pub(crate) const EVENT_LOG_CAPACITY: usize = 10_000;

/// Everything the emulator knows.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) ids: IdGen,
    pub(crate) users: Vec<UserRec>,
    pub(crate) organizations: Vec<OrgRec>,
    pub(crate) memberships: Vec<MembershipRec>,
    pub(crate) invitations: Vec<InvitationRec>,
    pub(crate) magic_auths: Vec<MagicAuthRec>,
    pub(crate) email_verifications: Vec<EmailVerificationRec>,
    pub(crate) password_resets: Vec<PasswordResetRec>,
    pub(crate) factors: Vec<FactorRec>,
    pub(crate) challenges: Vec<ChallengeRec>,
    pub(crate) sessions: Vec<SessionRec>,
    pub(crate) refresh_tokens: HashMap<String, RefreshRec>,
    pub(crate) codes: HashMap<String, CodeRec>,
    pub(crate) pending: HashMap<String, PendingRec>,
    pub(crate) authorizations: HashMap<String, AuthorizationRec>,
    pub(crate) outbox: Vec<SentEmail>,
    /// `Idempotency-Key`s of organization creates → the organization made.
    pub(crate) organization_keys: HashMap<String, String>,
    /// Device authorizations by device code.
    pub(crate) devices: HashMap<String, DeviceRec>,
    // Area "the rest of user management" (profile.rs).
    pub(crate) identities: Vec<IdentityRec>,
    pub(crate) email_changes: Vec<EmailChangeRec>,
    pub(crate) groups: Vec<GroupRec>,
    /// The event log, oldest first (at most [`EVENT_LOG_CAPACITY`]).
    pub(crate) events: std::collections::VecDeque<EventRec>,
    /// Where new events go out as webhooks (set after the seed is loaded).
    pub(crate) webhooks: Option<super::webhooks::Outbox>,
}

impl State {
    /// Records an event: into the log for `GET /events`, and out to the
    /// webhook endpoints (without waiting).
    pub(crate) fn emit(&mut self, name: &str, data: Value, now: SystemTime) {
        let rec = EventRec {
            id: self.ids.next("event", now),
            name: name.to_owned(),
            data,
            created_at: now,
        };
        if let Some(webhooks) = &self.webhooks {
            webhooks.send(&rec.json(now));
        }
        if self.events.len() >= EVENT_LOG_CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back(rec);
    }

    /// Emits `user.updated` with the user as it is now.
    pub(crate) fn user_updated(&mut self, user_id: &str, now: SystemTime) {
        if let Ok(json) = self.user_json(user_id, now) {
            self.emit("user.updated", json, now);
        }
    }

    /// Marks a user's email verified (a code proved it), emitting `user.updated`.
    pub(crate) fn mark_verified(&mut self, user_id: &str, now: SystemTime) -> Result<(), Failure> {
        let user = find_mut(&mut self.users, user_id)?;
        if !user.email_verified {
            user.email_verified = true;
            user.updated_at = now;
            self.user_updated(user_id, now);
        }
        Ok(())
    }

    /// Ends session `i` if it is live, emitting `session.revoked`.
    pub(crate) fn end_session(&mut self, i: usize, now: SystemTime) {
        if self.sessions[i].end(now) {
            let json = self.sessions[i].json(now);
            self.emit("session.revoked", json, now);
        }
    }

    /// Emits `organization_membership.<what>` for membership `i`.
    pub(crate) fn membership_event(&mut self, what: &str, i: usize, now: SystemTime) {
        let json = self.memberships[i].json(now);
        self.emit(&format!("organization_membership.{what}"), json, now);
    }

    pub(crate) fn user_by_email(&self, email: &str) -> Option<&UserRec> {
        let email = email.trim();
        self.users
            .iter()
            .find(|u| u.email.eq_ignore_ascii_case(email))
    }

    /// The user with `email`, or 404 naming the address (as WorkOS does).
    pub(crate) fn user_id_by_email(&self, email: &str) -> Result<String, Failure> {
        self.user_by_email(email)
            .map(|u| u.id.clone())
            .ok_or_else(|| Failure::not_found(UserRec::KIND, email))
    }

    pub(crate) fn user_json(&self, user_id: &str, now: SystemTime) -> Result<Value, Failure> {
        Ok(find(&self.users, user_id)?.json(now))
    }

    /// `user_id`'s active membership in `organization_id`.
    pub(crate) fn active_membership(
        &self,
        user_id: &str,
        organization_id: &str,
    ) -> Option<&MembershipRec> {
        self.memberships.iter().find(|m| {
            m.user_id == user_id
                && m.organization_id == organization_id
                && m.status == MembershipStatus::Active
        })
    }

    /// The organizations `user_id` is an active member of.
    pub(crate) fn active_organizations(&self, user_id: &str) -> Vec<&OrgRec> {
        self.memberships
            .iter()
            .filter(|m| m.user_id == user_id && m.status == MembershipStatus::Active)
            .filter_map(|m| find(&self.organizations, &m.organization_id).ok())
            .collect()
    }

    /// Adds a membership (or reactivates and re-roles an existing one).
    pub(crate) fn add_membership(
        &mut self,
        user_id: &str,
        organization_id: &str,
        role_slugs: Vec<String>,
        now: SystemTime,
    ) -> &MembershipRec {
        if let Some(i) = self
            .memberships
            .iter()
            .position(|m| m.user_id == user_id && m.organization_id == organization_id)
        {
            let m = &mut self.memberships[i];
            m.status = MembershipStatus::Active;
            m.role_slugs = role_slugs;
            m.updated_at = now;
            self.membership_event("updated", i, now);
            return &self.memberships[i];
        }
        let id = self.ids.next("om", now);
        let organization_name = self
            .organizations
            .iter()
            .find(|o| o.id == organization_id)
            .map(|o| o.name.clone())
            .unwrap_or_default();
        self.memberships.push(MembershipRec {
            id,
            user_id: user_id.to_owned(),
            organization_id: organization_id.to_owned(),
            organization_name,
            status: MembershipStatus::Active,
            role_slugs,
            created_at: now,
            updated_at: now,
        });
        self.membership_event("created", self.memberships.len() - 1, now);
        self.memberships.last().expect("just pushed")
    }

    /// Creates a user (ids, timestamps); the caller has checked the email is free.
    pub(crate) fn insert_user(&mut self, mut user: UserRec, now: SystemTime) -> &UserRec {
        if user.id.is_empty() {
            user.id = self.ids.next("user", now);
        }
        user.created_at = now;
        user.updated_at = now;
        let json = user.json(now);
        self.users.push(user);
        self.emit("user.created", json, now);
        self.users.last().expect("just pushed")
    }

    /// Records an email the emulator "sends".
    pub(crate) fn send_email(
        &mut self,
        to: &str,
        kind: EmailKind,
        secret: &str,
        link: Option<String>,
        now: SystemTime,
    ) {
        self.outbox.push(SentEmail {
            to: to.to_owned(),
            kind,
            secret: SecretString::from(secret),
            link,
            sent_at: now,
            locale: None,
        });
    }

    /// Marks the last email "sent" as written in `locale`.
    pub(crate) fn last_email_in(&mut self, locale: Option<String>) {
        if let Some(email) = self.outbox.last_mut() {
            email.locale = locale;
        }
    }

    /// A fresh email verification code for `user_id` (10 minutes), "emailed".
    pub(crate) fn new_email_verification(&mut self, user_id: &str, now: SystemTime) -> String {
        let code = self.new_code("email_verification", user_id, now);
        self.send_email(
            &code.email,
            EmailKind::EmailVerification,
            &code.code,
            None,
            now,
        );
        let id = code.id.clone();
        self.email_verifications.push(EmailVerificationRec(code));
        id
    }

    /// A one-time code record for `user_id`, valid 10 minutes.
    pub(crate) fn new_code(&mut self, prefix: &str, user_id: &str, now: SystemTime) -> OneTimeCode {
        let email = find(&self.users, user_id)
            .map(|u| u.email.clone())
            .unwrap_or_default();
        OneTimeCode {
            id: self.ids.next(prefix, now),
            user_id: user_id.to_owned(),
            email,
            code: super::ids::six_digits(),
            expires_at: now + Duration::from_secs(600),
            created_at: now,
            used: false,
        }
    }

    /// Loads a seed into an empty state.
    pub(crate) fn from_seed(seed: &Seed, now: SystemTime) -> Result<State, SeedError> {
        let invalid = |m: String| SeedError::Invalid(m);
        let mut st = State::default();
        for org in &seed.organizations {
            if org.name.trim().is_empty() {
                return Err(invalid("an organization has no name".into()));
            }
            if st.organizations.iter().any(|o| o.name == org.name) {
                return Err(invalid(format!("duplicate organization {:?}", org.name)));
            }
            let id = match &org.id {
                Some(id) if st.organizations.iter().any(|o| &o.id == id) => {
                    return Err(invalid(format!("duplicate organization id {id:?}")));
                }
                Some(id) => id.clone(),
                None => st.ids.next("org", now),
            };
            st.organizations.push(OrgRec {
                roles: org
                    .roles
                    .iter()
                    .map(|r| RoleRec {
                        slug: r.slug.clone(),
                        permissions: r.permissions.clone(),
                    })
                    .collect(),
                entitlements: org.entitlements.clone(),
                feature_flags: org.feature_flags.clone(),
                ..OrgRec::new(id, &org.name, now)
            });
        }
        for user in &seed.users {
            if !user.email.contains('@') {
                return Err(invalid(format!("user email {:?} is invalid", user.email)));
            }
            if st.user_by_email(&user.email).is_some() {
                return Err(invalid(format!("duplicate user {:?}", user.email)));
            }
            if let Some(id) = &user.id
                && st.users.iter().any(|u| &u.id == id)
            {
                return Err(invalid(format!("duplicate user id {id:?}")));
            }
            let rec = UserRec {
                id: user.id.clone().unwrap_or_default(),
                email_verified: user.email_verified && !user.require_email_verification,
                first_name: user.first_name.clone(),
                last_name: user.last_name.clone(),
                external_id: user.external_id.clone(),
                metadata: user.metadata.clone().into_iter().collect(),
                password: user.password.as_deref().map(SecretString::from),
                require_email_verification: user.require_email_verification,
                require_mfa: user.require_mfa,
                ..UserRec::new(&user.email)
            };
            let user_id = st.insert_user(rec, now).id.clone();
            if let Some(secret) = &user.totp_secret {
                if super::totp::base32_decode(secret).is_none() {
                    return Err(invalid(format!(
                        "the TOTP secret of {:?} is not base32",
                        user.email
                    )));
                }
                let id = st.ids.next("auth_factor", now);
                st.factors.push(FactorRec {
                    id,
                    user_id,
                    secret: secret.clone(),
                    issuer: super::DEFAULT_TOTP_ISSUER.to_owned(),
                    account: user.email.clone(),
                    created_at: now,
                });
            }
        }
        for m in &seed.memberships {
            let user_id = st
                .user_by_email(&m.user)
                .map(|u| u.id.clone())
                .ok_or_else(|| invalid(format!("membership of unknown user {:?}", m.user)))?;
            let org = st
                .organizations
                .iter()
                .find(|o| o.id == m.organization || o.name == m.organization)
                .ok_or_else(|| {
                    invalid(format!(
                        "membership in unknown organization {:?}",
                        m.organization
                    ))
                })?;
            let mut slugs: Vec<String> = m.role.iter().chain(&m.roles).cloned().collect();
            if slugs.is_empty() {
                slugs.push(DEFAULT_ROLE.to_owned());
            }
            if let Some(bad) = slugs.iter().find(|s| !org.has_role(s)) {
                return Err(invalid(format!(
                    "organization {:?} has no role {bad:?}",
                    org.name
                )));
            }
            let org_id = org.id.clone();
            st.add_membership(&user_id, &org_id, slugs, now);
        }
        Ok(st)
    }
}

/// A list's `limit` query parameter: 1–100, 10 when absent, as WorkOS's
/// list endpoints take it.
pub(crate) fn page_limit(query: &HashMap<String, String>) -> Result<usize, Failure> {
    match query.get("limit") {
        None => Ok(10),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| {
                Failure::invalid(
                    "limit_invalid",
                    "Limit should be a number between 1 and 100.",
                )
            }),
    }
}

/// One page of a list, as WorkOS answers it: `{"object": "list", "data",
/// "list_metadata": {"before", "after"}}`, with `limit` (1–100, default 10),
/// `before`/`after` cursors (ids) and `order` (`desc` by default).
pub(crate) fn page<T: Entity>(
    items: Vec<&T>,
    query: &HashMap<String, String>,
    now: SystemTime,
) -> Result<Value, Failure> {
    let limit = page_limit(query)?;
    let descending = match query.get("order").map(String::as_str) {
        None | Some("desc" | "") => true,
        Some("asc" | "normal") => false,
        Some(_) => {
            return Err(Failure::invalid(
                "order_invalid",
                "Order should be either 'asc' or 'desc'.",
            ));
        }
    };
    let mut items = items;
    if descending {
        items.reverse();
    }
    // Where a cursor falls in this ordering: its index when present, else
    // by id comparison (ids sort in creation order), for deleted cursors.
    let split = |cursor: &str| -> usize {
        items
            .iter()
            .position(|e| e.id() == cursor)
            .unwrap_or_else(|| {
                items
                    .iter()
                    .take_while(|e| (e.id() > cursor) == descending)
                    .count()
            })
    };
    let (start, end) = if let Some(after) = query.get("after").filter(|a| !a.is_empty()) {
        let at = split(after);
        let start = if items.get(at).is_some_and(|e| e.id() == after) {
            at + 1
        } else {
            at
        };
        (start, (start + limit).min(items.len()))
    } else if let Some(before) = query.get("before").filter(|b| !b.is_empty()) {
        let end = split(before);
        (end.saturating_sub(limit), end)
    } else {
        (0, limit.min(items.len()))
    };
    let data: Vec<Value> = items[start..end].iter().map(|e| e.json(now)).collect();
    let before = (start > 0 && end > start).then(|| items[start].id().to_owned());
    let after = (end < items.len() && end > start).then(|| items[end - 1].id().to_owned());
    Ok(json!({
        "object": "list",
        "data": data,
        "list_metadata": {"before": before, "after": after},
    }))
}

// ---- shared operations: the API and the sign-ins both use them ----

/// How long pending authentication tokens and codes live.
pub(crate) const SHORT_LIVED: Duration = Duration::from_secs(600);

pub(crate) fn invitation_by_token<'a>(
    st: &'a State,
    token: &str,
) -> Result<&'a InvitationRec, Failure> {
    st.invitations
        .iter()
        .find(|i| i.token == token)
        .ok_or_else(|| Failure::not_found(InvitationRec::KIND, token))
}

/// Marks an invitation accepted and, when the invitee has an account and the
/// invitation names an organization, makes them a member.
pub(crate) fn accept_invitation(
    st: &mut State,
    id: &str,
    user_id: Option<&str>,
    now: SystemTime,
) -> Result<(), Failure> {
    let rec = find_mut(&mut st.invitations, id)?;
    rec.state = InvitationState::Accepted;
    rec.accepted_at = Some(now);
    rec.accepted_user_id = user_id.map(str::to_owned);
    rec.updated_at = now;
    let (org, role) = (rec.organization_id.clone(), rec.role_slug.clone());
    if let (Some(user_id), Some(org)) = (user_id, org) {
        let roles = vec![role.unwrap_or_else(|| DEFAULT_ROLE.to_owned())];
        st.add_membership(user_id, &org, roles, now);
    }
    Ok(())
}

/// Accepts the invitation behind `token` for `user_id`, as a sign-in with
/// `invitation_token` does.
pub(crate) fn accept_invitation_token(
    st: &mut State,
    user_id: &str,
    token: &str,
    now: SystemTime,
) -> Result<(), Failure> {
    let invitation = invitation_by_token(st, token)?;
    invitation.ensure_pending(now)?;
    let email = &find(&st.users, user_id)?.email;
    if !invitation.email.eq_ignore_ascii_case(email) {
        return Err(Failure::coded(
            axum::http::StatusCode::BAD_REQUEST,
            "invitation_email_mismatch",
            "The invitation was sent to another email address.",
        ));
    }
    let id = invitation.id.clone();
    accept_invitation(st, &id, Some(user_id), now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orgs(n: usize) -> Vec<OrgRec> {
        let mut ids = IdGen::default();
        let now = SystemTime::now();
        (0..n)
            .map(|i| OrgRec::new(ids.next("org", now), &format!("org {i}"), now))
            .collect()
    }

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn names(page: &Value) -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn pages_walk_forward_and_back_with_cursors() {
        let all = orgs(5);
        let now = SystemTime::now();
        let refs = || all.iter().collect::<Vec<_>>();
        let first = page(refs(), &q(&[("limit", "2")]), now).unwrap();
        assert_eq!(names(&first), ["org 4", "org 3"]);
        assert_eq!(first["list_metadata"]["before"], Value::Null);
        let after = first["list_metadata"]["after"].as_str().unwrap().to_owned();
        let second = page(refs(), &q(&[("limit", "2"), ("after", &after)]), now).unwrap();
        assert_eq!(names(&second), ["org 2", "org 1"]);
        let before = second["list_metadata"]["before"]
            .as_str()
            .unwrap()
            .to_owned();
        let back = page(refs(), &q(&[("limit", "2"), ("before", &before)]), now).unwrap();
        assert_eq!(names(&back), ["org 4", "org 3"]);
        let asc = page(refs(), &q(&[("order", "asc"), ("limit", "10")]), now).unwrap();
        assert_eq!(names(&asc), ["org 0", "org 1", "org 2", "org 3", "org 4"]);
        assert_eq!(asc["list_metadata"]["after"], Value::Null);
    }

    #[test]
    fn a_deleted_cursor_still_positions_the_page() {
        let mut all = orgs(4);
        let gone = all.remove(2).id; // "org 2"
        let now = SystemTime::now();
        let next = page(all.iter().collect(), &q(&[("after", &gone)]), now).unwrap();
        assert_eq!(names(&next), ["org 1", "org 0"]);
    }

    #[test]
    fn bad_limits_and_orders_are_validation_errors() {
        let all = orgs(1);
        let now = SystemTime::now();
        assert!(page(all.iter().collect(), &q(&[("limit", "0")]), now).is_err());
        assert!(page(all.iter().collect(), &q(&[("order", "up")]), now).is_err());
    }
}
