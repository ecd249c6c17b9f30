//! Events: what WorkOS posts to webhooks and serves at `GET /events`.
//!
//! Both carry the same object, `{"object": "event", "id", "event", "data",
//! "created_at", "context"?}`; [`Event`] reads it, with the data typed by the
//! event's name ([`EventData`]). A webhook is verified and parsed by
//! [`crate::webhooks`]; a catch-up reads [`UserManagement::list_events`].
//!
//! The shapes follow workos-node's `common/interfaces/event.interface.ts`
//! (the `*EventResponse` types) and the Events API reference.

use futures_util::Stream;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::pagination::{PaginationParams, paginated};
use super::types::string_enum;
use super::{
    Call, Error, List, Organization, OrganizationMembership, Session, User, UserManagement,
};

/// One event, as a webhook delivers it and the Events API lists it.
///
/// ```
/// use authkit_axum::client::{Event, EventData};
///
/// let event: Event = serde_json::from_str(r#"{
///     "object": "event", "id": "event_01", "event": "user.deleted",
///     "created_at": "2025-01-01T00:00:00.000Z",
///     "data": {"object": "user", "id": "user_01", "email": "a@example.com",
///              "email_verified": true, "created_at": "t", "updated_at": "t"}
/// }"#).unwrap();
/// assert_eq!(event.event, "user.deleted");
/// match &event.data {
///     EventData::UserDeleted(user) => assert_eq!(user.id, "user_01"),
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event's id (`event_…`): the cursor of the Events API, and the key
    /// to deduplicate webhook deliveries with (WorkOS retries them).
    pub id: String,
    /// The event's name as WorkOS sent it (`user.created`, …).
    pub event: String,
    /// The payload, typed by [`event`](Self::event).
    pub data: EventData,
    /// When it happened (RFC 3339).
    pub created_at: String,
    /// Extra context WorkOS attaches to some events, as sent.
    pub context: Option<Value>,
}

/// An event's data, by the event's name.
///
/// A name this crate does not know, and a known one whose data does not have
/// the documented shape, are [`Other`](Self::Other) with the data as sent, so
/// a new event never fails a webhook; match [`Event::event`] to tell them
/// apart.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventData {
    /// `user.created`
    UserCreated(User),
    /// `user.updated`
    UserUpdated(User),
    /// `user.deleted`: the user as it was.
    UserDeleted(User),
    /// `organization_membership.created`
    OrganizationMembershipCreated(OrganizationMembership),
    /// `organization_membership.updated`
    OrganizationMembershipUpdated(OrganizationMembership),
    /// `organization_membership.deleted`
    OrganizationMembershipDeleted(OrganizationMembership),
    /// `session.created`
    SessionCreated(Session),
    /// `session.revoked`
    SessionRevoked(Session),
    /// `organization.created`
    OrganizationCreated(Organization),
    /// `organization.updated`
    OrganizationUpdated(Organization),
    /// `organization.deleted`
    OrganizationDeleted(Organization),
    /// `authentication.<type>_succeeded` and `authentication.<type>_failed`
    /// (`password`, `sso`, `oauth`, `mfa`, `magic_auth`,
    /// `email_verification`, `passkey`).
    Authentication(AuthenticationEventData),
    /// `email_verification.created`
    EmailVerificationCreated(EmailVerificationEventData),
    /// `magic_auth.created`
    MagicAuthCreated(MagicAuthEventData),
    /// `password_reset.created`
    PasswordResetCreated(PasswordResetEventData),
    /// `password_reset.succeeded`
    PasswordResetSucceeded(PasswordResetEventData),
    /// `invitation.created`
    InvitationCreated(InvitationEventData),
    /// `invitation.accepted`
    InvitationAccepted(InvitationEventData),
    /// `invitation.revoked`
    InvitationRevoked(InvitationEventData),
    /// `invitation.resent`
    InvitationResent(InvitationEventData),
    /// Any other event (`dsync.*`, `connection.*`, `role.*`, new ones), or a
    /// known one whose data did not parse: the data as sent.
    Other(Value),
}

impl EventData {
    /// Types `data` by the event's `name`; anything that does not fit is
    /// [`EventData::Other`].
    pub fn from_parts(name: &str, data: Value) -> EventData {
        fn typed<T: serde::de::DeserializeOwned>(
            data: Value,
            wrap: fn(T) -> EventData,
        ) -> EventData {
            match serde_json::from_value::<T>(data.clone()) {
                Ok(t) => wrap(t),
                Err(_) => EventData::Other(data),
            }
        }
        match name {
            "user.created" => typed(data, EventData::UserCreated),
            "user.updated" => typed(data, EventData::UserUpdated),
            "user.deleted" => typed(data, EventData::UserDeleted),
            "organization_membership.created" => {
                typed(data, EventData::OrganizationMembershipCreated)
            }
            "organization_membership.updated" => {
                typed(data, EventData::OrganizationMembershipUpdated)
            }
            "organization_membership.deleted" => {
                typed(data, EventData::OrganizationMembershipDeleted)
            }
            "session.created" => typed(data, EventData::SessionCreated),
            "session.revoked" => typed(data, EventData::SessionRevoked),
            "organization.created" => typed(data, EventData::OrganizationCreated),
            "organization.updated" => typed(data, EventData::OrganizationUpdated),
            "organization.deleted" => typed(data, EventData::OrganizationDeleted),
            "email_verification.created" => typed(data, EventData::EmailVerificationCreated),
            "magic_auth.created" => typed(data, EventData::MagicAuthCreated),
            "password_reset.created" => typed(data, EventData::PasswordResetCreated),
            "password_reset.succeeded" => typed(data, EventData::PasswordResetSucceeded),
            "invitation.created" => typed(data, EventData::InvitationCreated),
            "invitation.accepted" => typed(data, EventData::InvitationAccepted),
            "invitation.revoked" => typed(data, EventData::InvitationRevoked),
            "invitation.resent" => typed(data, EventData::InvitationResent),
            name if is_authentication_outcome(name) => typed(data, EventData::Authentication),
            _ => EventData::Other(data),
        }
    }

    /// The data as JSON, as WorkOS sent it (for the typed variants: as this
    /// crate's types write it).
    pub fn to_json(&self) -> Value {
        let json = match self {
            EventData::UserCreated(u) | EventData::UserUpdated(u) | EventData::UserDeleted(u) => {
                serde_json::to_value(u)
            }
            EventData::OrganizationMembershipCreated(m)
            | EventData::OrganizationMembershipUpdated(m)
            | EventData::OrganizationMembershipDeleted(m) => serde_json::to_value(m),
            EventData::SessionCreated(s) | EventData::SessionRevoked(s) => serde_json::to_value(s),
            EventData::OrganizationCreated(o)
            | EventData::OrganizationUpdated(o)
            | EventData::OrganizationDeleted(o) => serde_json::to_value(o),
            EventData::Authentication(a) => serde_json::to_value(a),
            EventData::EmailVerificationCreated(e) => serde_json::to_value(e),
            EventData::MagicAuthCreated(m) => serde_json::to_value(m),
            EventData::PasswordResetCreated(p) | EventData::PasswordResetSucceeded(p) => {
                serde_json::to_value(p)
            }
            EventData::InvitationCreated(i)
            | EventData::InvitationAccepted(i)
            | EventData::InvitationRevoked(i)
            | EventData::InvitationResent(i) => serde_json::to_value(i),
            EventData::Other(v) => Ok(v.clone()),
        };
        json.unwrap_or(Value::Null)
    }
}

/// `authentication.<word>_succeeded` or `authentication.<word>_failed`.
fn is_authentication_outcome(name: &str) -> bool {
    name.strip_prefix("authentication.")
        .is_some_and(|rest| rest.ends_with("_succeeded") || rest.ends_with("_failed"))
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    event: String,
    #[serde(default)]
    data: Value,
    created_at: String,
    #[serde(default)]
    context: Option<Value>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawEvent::deserialize(d)?;
        Ok(Event {
            data: EventData::from_parts(&raw.event, raw.data),
            id: raw.id,
            event: raw.event,
            created_at: raw.created_at,
            context: raw.context,
        })
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("object", "event")?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("event", &self.event)?;
        map.serialize_entry("data", &self.data.to_json())?;
        map.serialize_entry("created_at", &self.created_at)?;
        if let Some(context) = &self.context {
            map.serialize_entry("context", context)?;
        }
        map.end()
    }
}

string_enum! {
    /// How an authentication event's user tried to sign in.
    pub enum AuthenticationEventType {
        /// Enterprise single sign-on.
        Sso => "sso",
        /// Email and password.
        Password => "password",
        /// A social OAuth provider.
        OAuth => "oauth",
        /// A second factor.
        Mfa => "mfa",
        /// A magic-auth code.
        MagicAuth => "magic_auth",
        /// An email verification code.
        EmailVerification => "email_verification",
        /// A passkey.
        Passkey => "passkey",
    }
}

string_enum! {
    /// Whether an authentication succeeded.
    pub enum AuthenticationEventStatus {
        /// It succeeded.
        Succeeded => "succeeded",
        /// It failed ([`AuthenticationEventData::error`] says why).
        Failed => "failed",
    }
}

/// Why an authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationEventError {
    /// A machine-readable code.
    pub code: String,
    /// A human-readable message.
    pub message: String,
}

/// The data of `authentication.*_succeeded` / `_failed` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationEventData {
    /// How the user tried to sign in.
    #[serde(rename = "type")]
    pub kind: AuthenticationEventType,
    /// Succeeded or failed.
    pub status: AuthenticationEventStatus,
    /// The user, when WorkOS knows who it was.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The email address tried.
    #[serde(default)]
    pub email: Option<String>,
    /// The client's IP address.
    #[serde(default)]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<AuthenticationEventError>,
}

/// The data of `email_verification.created`: the verification without its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailVerificationEventData {
    /// The email verification's id.
    pub id: String,
    /// The user being verified.
    pub user_id: String,
    /// The address being verified.
    pub email: String,
    /// When the code expires.
    pub expires_at: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The data of `magic_auth.created`: the magic auth without its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MagicAuthEventData {
    /// The magic auth's id.
    pub id: String,
    /// The user it signs in.
    pub user_id: String,
    /// The address the code went to.
    pub email: String,
    /// When the code expires.
    pub expires_at: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The data of `password_reset.*`: the reset without its token or URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetEventData {
    /// The password reset's id.
    pub id: String,
    /// The user whose password it resets.
    pub user_id: String,
    /// The user's email address.
    pub email: String,
    /// When it expires.
    pub expires_at: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// The data of `invitation.*`: the invitation without its token or URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationEventData {
    /// The invitation's id.
    pub id: String,
    /// The invitee's email address.
    pub email: String,
    /// `pending`, `accepted`, `expired` or `revoked`.
    pub state: super::InvitationState,
    /// When it was accepted.
    #[serde(default)]
    pub accepted_at: Option<String>,
    /// When it was revoked.
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// When it expires.
    pub expires_at: String,
    /// The organization it invites to.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// Parameters of [`UserManagement::list_events`].
///
/// The Events API pages forward only, oldest first: of the pagination
/// parameters, `limit` and `after` are sent (`before` and `order` are not).
///
/// ```
/// use authkit_axum::client::ListEvents;
///
/// let catch_up = ListEvents::new(["user.created", "user.updated", "user.deleted"])
///     .with_after("event_01H7WRJBPAAHX1BYRQHEK7QC4A");
/// assert_eq!(catch_up.events.len(), 3);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ListEvents {
    /// Only events with these names (sent as `events=a,b`).
    pub events: Vec<String>,
    /// Only events of this organization.
    pub organization_id: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub range_start: Option<String>,
    /// Only events before this time (RFC 3339).
    pub range_end: Option<String>,
    /// Page size (`limit`) and the cursor (`after`: the last event id seen).
    pub pagination: PaginationParams,
}

impl ListEvents {
    /// The events with these names, from the oldest WorkOS keeps.
    pub fn new<I, S>(events: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ListEvents {
            events: events.into_iter().map(Into::into).collect(),
            ..ListEvents::default()
        }
    }

    /// Only the events after this one (the last id a previous catch-up saw).
    ///
    /// ```
    /// # use authkit_axum::client::ListEvents;
    /// let next = ListEvents::new(["user.created"]).with_after("event_01");
    /// assert_eq!(next.pagination.after.as_deref(), Some("event_01"));
    /// ```
    pub fn with_after(mut self, event_id: impl Into<String>) -> Self {
        self.pagination.after = Some(event_id.into());
        self
    }

    /// Only events at or after this time (RFC 3339).
    ///
    /// ```
    /// # use authkit_axum::client::ListEvents;
    /// let recent = ListEvents::new(["session.created"]).with_range_start("2025-01-01T00:00:00Z");
    /// assert!(recent.range_start.is_some());
    /// ```
    pub fn with_range_start(mut self, at: impl Into<String>) -> Self {
        self.range_start = Some(at.into());
        self
    }

    /// Page size (WorkOS allows 1–100).
    ///
    /// ```
    /// # use authkit_axum::client::ListEvents;
    /// let big = ListEvents::new(["user.created"]).with_limit(100);
    /// assert_eq!(big.pagination.limit, Some(100));
    /// ```
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.pagination.limit = Some(limit);
        self
    }
}

paginated!(ListEvents);

impl Serialize for ListEvents {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if !self.events.is_empty() {
            map.serialize_entry("events", &self.events)?;
        }
        if let Some(v) = &self.organization_id {
            map.serialize_entry("organization_id", v)?;
        }
        if let Some(v) = &self.range_start {
            map.serialize_entry("range_start", v)?;
        }
        if let Some(v) = &self.range_end {
            map.serialize_entry("range_end", v)?;
        }
        if let Some(v) = &self.pagination.limit {
            map.serialize_entry("limit", v)?;
        }
        if let Some(v) = &self.pagination.after {
            map.serialize_entry("after", v)?;
        }
        map.end()
    }
}

impl UserManagement {
    /// Lists events, one page, oldest first. `GET /events`
    pub async fn list_events(&self, params: &ListEvents) -> Result<List<Event>, Error> {
        self.send(Call::get(&["events"]).query(params)).await
    }

    /// Lists every event from `params` on, walking every page: the catch-up
    /// after downtime. Keep the last id seen for the next catch-up's
    /// [`ListEvents::with_after`].
    pub fn list_events_stream(
        &self,
        params: ListEvents,
    ) -> impl Stream<Item = Result<Event, Error>> + Send + 'static + use<> {
        self.list_stream(&["events"], params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({"object": "user", "id": "user_1", "email": "a@b.c", "email_verified": false,
               "first_name": "Ada", "last_name": null, "profile_picture_url": null,
               "created_at": "t", "updated_at": "t"})
    }

    #[test]
    fn known_events_are_typed_by_name() {
        assert!(matches!(
            EventData::from_parts("user.created", user()),
            EventData::UserCreated(u) if u.id == "user_1"
        ));
        let auth = json!({"type": "password", "status": "failed", "email": "a@b.c",
            "user_id": null, "ip_address": null, "user_agent": null,
            "error": {"code": "invalid_credentials", "message": "Invalid credentials"}});
        let EventData::Authentication(a) =
            EventData::from_parts("authentication.password_failed", auth)
        else {
            panic!()
        };
        assert_eq!(a.kind, AuthenticationEventType::Password);
        assert_eq!(a.status, AuthenticationEventStatus::Failed);
        assert_eq!(a.error.unwrap().code, "invalid_credentials");
    }

    #[test]
    fn unknown_names_and_unexpected_shapes_are_other_with_the_data_kept() {
        let dsync = json!({"id": "directory_user_1"});
        assert_eq!(
            EventData::from_parts("dsync.user.created", dsync.clone()),
            EventData::Other(dsync)
        );
        let odd = json!({"id": 5});
        assert_eq!(
            EventData::from_parts("user.created", odd.clone()),
            EventData::Other(odd)
        );
        // Not an outcome: its data has another shape.
        let radar = json!({"type": "password", "status": "succeeded"});
        assert!(matches!(
            EventData::from_parts("authentication.radar_risk_detected", radar),
            EventData::Other(_)
        ));
    }

    #[test]
    fn an_event_round_trips_through_json() {
        let wire = json!({"object": "event", "id": "event_1", "event": "user.updated",
            "data": user(), "created_at": "2025-01-01T00:00:00Z", "context": {"k": 1}});
        let event: Event = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap(), wire);
    }

    #[test]
    fn the_query_sends_filters_limit_and_after_only() {
        let mut params = ListEvents::new(["user.created", "user.deleted"])
            .with_after("event_9")
            .with_limit(5);
        params.pagination.before = Some("event_1".into());
        let mut query = crate::client::to_query(&params);
        query.sort();
        assert_eq!(
            query,
            vec![
                ("after".to_owned(), "event_9".to_owned()),
                ("events".to_owned(), "user.created,user.deleted".to_owned()),
                ("limit".to_owned(), "5".to_owned()),
            ]
        );
    }
}
