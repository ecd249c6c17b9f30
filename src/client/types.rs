//! The objects WorkOS User Management returns.
//!
//! Unknown fields are ignored (WorkOS adds fields over time), and every enum
//! has an `Other` variant so a value this crate does not know yet parses
//! instead of failing.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::Secret;

/// Declares a string enum that serializes to its wire name and parses
/// unknown names into `Other(String)`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version of the crate does not know.
            Other(String),
        }

        impl $name {
            /// The name WorkOS uses on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Ok($name::from(&*s))
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// How a user signed in (`authentication_method` / `authenticationMethod`).
    pub enum AuthenticationMethod {
        /// Enterprise single sign-on.
        Sso => "SSO",
        /// Email and password.
        Password => "Password",
        /// A passkey.
        Passkey => "Passkey",
        /// Sign in with Apple.
        AppleOAuth => "AppleOAuth",
        /// Sign in with GitHub.
        GitHubOAuth => "GitHubOAuth",
        /// Sign in with Google.
        GoogleOAuth => "GoogleOAuth",
        /// Sign in with Microsoft.
        MicrosoftOAuth => "MicrosoftOAuth",
        /// A magic-auth code sent by email.
        MagicAuth => "MagicAuth",
        /// An admin impersonating the user.
        Impersonation => "Impersonation",
    }
}

string_enum! {
    /// An organization membership's status.
    pub enum OrganizationMembershipStatus {
        /// The membership is in force.
        Active => "active",
        /// The membership was deactivated.
        Inactive => "inactive",
        /// The user was invited and has not accepted yet.
        Pending => "pending",
    }
}

string_enum! {
    /// An invitation's state.
    pub enum InvitationState {
        /// Sent, not yet accepted.
        Pending => "pending",
        /// Accepted by the invitee.
        Accepted => "accepted",
        /// Past its expiry.
        Expired => "expired",
        /// Revoked by an admin.
        Revoked => "revoked",
    }
}

string_enum! {
    /// An authentication factor's type.
    pub enum AuthenticationFactorType {
        /// Time-based one-time passwords (RFC 6238).
        Totp => "totp",
        /// SMS codes.
        Sms => "sms",
        /// Generic one-time passwords.
        GenericOtp => "generic_otp",
    }
}

string_enum! {
    /// A session's status.
    pub enum SessionStatus {
        /// The session is live.
        Active => "active",
        /// The session ran out.
        Expired => "expired",
        /// The session was revoked or signed out.
        Revoked => "revoked",
    }
}

string_enum! {
    /// How a session was started, as [`Session::auth_method`] reports it
    /// (lowercase, unlike [`AuthenticationMethod`]).
    pub enum SessionAuthMethod {
        /// Email and password.
        Password => "password",
        /// Enterprise single sign-on.
        Sso => "sso",
        /// A social OAuth provider.
        OAuth => "oauth",
        /// A magic-auth code.
        MagicCode => "magic_code",
        /// A passkey.
        Passkey => "passkey",
        /// An admin impersonating the user.
        Impersonation => "impersonation",
        /// An external authentication provider.
        ExternalAuth => "external_auth",
        /// A session migrated from another system.
        MigratedSession => "migrated_session",
        /// WorkOS does not know.
        Unknown => "unknown",
    }
}

string_enum! {
    /// The algorithm of an imported password hash.
    pub enum PasswordHashType {
        /// bcrypt.
        Bcrypt => "bcrypt",
        /// Firebase's scrypt variant.
        FirebaseScrypt => "firebase-scrypt",
        /// Salted SHA-1.
        Ssha => "ssha",
        /// scrypt.
        Scrypt => "scrypt",
        /// PBKDF2.
        Pbkdf2 => "pbkdf2",
        /// Argon2.
        Argon2 => "argon2",
    }
}

/// A user.
///
/// It reads the snake_case names WorkOS answers and the camelCase ones the
/// Node SDKs keep in the session cookie; fields it does not model go into
/// [`extra`](User::extra).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    // Serialize is derived; Deserialize is by hand (`UserVisitor`: the
    // names, aliases and defaults it reads).
    /// Always `"user"`.
    pub object: String,
    /// The user's id (`user_…`).
    pub id: String,
    /// The user's email address.
    pub email: String,
    /// Whether the email address was verified.
    pub email_verified: bool,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Profile picture URL.
    pub profile_picture_url: Option<String>,
    /// When the user last signed in (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<String>,
    /// Your own identifier for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Key-value metadata, as WorkOS sent it.
    ///
    /// WorkOS stores strings (and [`CreateUser`](crate::client::CreateUser) /
    /// [`UpdateUser`](crate::client::UpdateUser) write strings), but a value
    /// of another JSON type (a number, a boolean, an object) is kept as it
    /// came rather than failing the whole answer: read strings with
    /// `user.metadata.get("plan").and_then(|v| v.as_str())`. A `null` or
    /// non-object `metadata` reads as empty.
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub metadata: HashMap<String, serde_json::Value>,
    /// Preferred locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
    /// Fields this crate does not model, kept so a user object read from a
    /// session cookie is written back unchanged.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl User {
    /// The name to show: a `name` WorkOS sent, else the first and last
    /// names joined by a space (either alone when the other is unset);
    /// `None` when there is none. WorkOS's user object has no `name` field
    /// today (neither workos-node's `User` nor workos-ruby's has one), so
    /// this is the SDKs' `firstName`/`lastName` put together.
    ///
    /// ```
    /// # let user = |first: Option<&str>, last: Option<&str>| -> authkit_axum::client::User {
    /// #     serde_json::from_value(serde_json::json!({"id": "user_1", "email": "a@b.c",
    /// #         "first_name": first, "last_name": last, "created_at": "t", "updated_at": "t"})).unwrap()
    /// # };
    /// assert_eq!(user(Some("Ada"), Some("Lovelace")).name().as_deref(), Some("Ada Lovelace"));
    /// assert_eq!(user(None, Some("Lovelace")).name().as_deref(), Some("Lovelace"));
    /// assert_eq!(user(Some(" "), None).name(), None);
    /// ```
    pub fn name(&self) -> Option<String> {
        if let Some(name) = self.extra.get("name").and_then(|v| v.as_str())
            && !name.trim().is_empty()
        {
            return Some(name.trim().to_owned());
        }
        let parts: Vec<&str> = [&self.first_name, &self.last_name]
            .into_iter()
            .filter_map(|p| p.as_deref().map(str::trim))
            .filter(|p| !p.is_empty())
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

fn user_object() -> String {
    "user".to_owned()
}

/// The fields of [`User`] by the names (and camelCase aliases) it reads.
enum UserField {
    Object,
    Id,
    Email,
    EmailVerified,
    FirstName,
    LastName,
    ProfilePictureUrl,
    LastSignInAt,
    ExternalId,
    Metadata,
    Locale,
    CreatedAt,
    UpdatedAt,
}

impl UserField {
    /// The field a key names, if any. Matched on the key as borrowed from
    /// the input: a known key is never copied.
    fn of(key: &[u8]) -> Option<Self> {
        Some(match key {
            b"object" => Self::Object,
            b"id" => Self::Id,
            b"email" => Self::Email,
            b"email_verified" | b"emailVerified" => Self::EmailVerified,
            b"first_name" | b"firstName" => Self::FirstName,
            b"last_name" | b"lastName" => Self::LastName,
            b"profile_picture_url" | b"profilePictureUrl" => Self::ProfilePictureUrl,
            b"last_sign_in_at" | b"lastSignInAt" => Self::LastSignInAt,
            b"external_id" | b"externalId" => Self::ExternalId,
            b"metadata" => Self::Metadata,
            b"locale" => Self::Locale,
            b"created_at" | b"createdAt" => Self::CreatedAt,
            b"updated_at" | b"updatedAt" => Self::UpdatedAt,
            _ => return None,
        })
    }

    /// The name the derive reported in its `duplicate field` errors.
    fn name(&self) -> &'static str {
        match self {
            Self::Object => "object",
            Self::Id => "id",
            Self::Email => "email",
            Self::EmailVerified => "email_verified",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::ProfilePictureUrl => "profile_picture_url",
            Self::LastSignInAt => "last_sign_in_at",
            Self::ExternalId => "external_id",
            Self::Metadata => "metadata",
            Self::Locale => "locale",
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
        }
    }
}

/// A key of a user object: a field of [`User`], or one for `extra`.
enum UserKey {
    Known(UserField),
    Other(String),
}

impl<'de> Deserialize<'de> for UserKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_identifier(UserKeyVisitor)
    }
}

struct UserKeyVisitor;

impl serde::de::Visitor<'_> for UserKeyVisitor {
    type Value = UserKey;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("field identifier")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<UserKey, E> {
        Ok(match UserField::of(key.as_bytes()) {
            Some(field) => UserKey::Known(field),
            None => UserKey::Other(key.to_owned()),
        })
    }

    fn visit_string<E: serde::de::Error>(self, key: String) -> Result<UserKey, E> {
        Ok(match UserField::of(key.as_bytes()) {
            Some(field) => UserKey::Known(field),
            None => UserKey::Other(key),
        })
    }

    fn visit_bytes<E: serde::de::Error>(self, key: &[u8]) -> Result<UserKey, E> {
        match UserField::of(key) {
            Some(field) => Ok(UserKey::Known(field)),
            None => std::str::from_utf8(key)
                .map(|key| UserKey::Other(key.to_owned()))
                .map_err(|_| E::invalid_value(serde::de::Unexpected::Bytes(key), &self)),
        }
    }
}

/// `metadata` through [`metadata_or_empty`], as a value of its own.
struct Metadata(HashMap<String, serde_json::Value>);

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        metadata_or_empty(d).map(Metadata)
    }
}

/// Reads a [`User`] from a map, field by field, as
/// `#[derive(Deserialize)]` with `#[serde(flatten)] extra` did (the unit
/// tests compare the two on every shape): the snake_case names and their
/// camelCase aliases, the same defaults, `duplicate field` and
/// `missing field` errors, every other key into `extra` (the last of a
/// repeated one wins). The derive read every key through serde's private
/// `Content` (to keep the unknown ones) and buffered every unknown entry
/// there before handing them to `extra`; this matches known keys as they
/// are read, copies none of them, and reads each value straight into its
/// field or into `extra`.
struct UserVisitor;

impl<'de> serde::de::Visitor<'de> for UserVisitor {
    type Value = User;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("struct User")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<User, A::Error> {
        use serde::de::Error;

        /// Reads one field's value, refusing a second one.
        fn once<'de, A: serde::de::MapAccess<'de>, T: Deserialize<'de>>(
            map: &mut A,
            slot: &mut Option<T>,
            field: &UserField,
        ) -> Result<(), A::Error> {
            if slot.is_some() {
                return Err(A::Error::duplicate_field(field.name()));
            }
            *slot = Some(map.next_value()?);
            Ok(())
        }

        let mut object: Option<String> = None;
        let mut id: Option<String> = None;
        let mut email: Option<String> = None;
        let mut email_verified: Option<bool> = None;
        let mut first_name: Option<Option<String>> = None;
        let mut last_name: Option<Option<String>> = None;
        let mut profile_picture_url: Option<Option<String>> = None;
        let mut last_sign_in_at: Option<Option<String>> = None;
        let mut external_id: Option<Option<String>> = None;
        let mut metadata: Option<Metadata> = None;
        let mut locale: Option<Option<String>> = None;
        let mut created_at: Option<String> = None;
        let mut updated_at: Option<String> = None;
        let mut extra = serde_json::Map::new();

        while let Some(key) = map.next_key::<UserKey>()? {
            let field = match key {
                UserKey::Known(field) => field,
                UserKey::Other(key) => {
                    extra.insert(key, map.next_value()?);
                    continue;
                }
            };
            match field {
                UserField::Object => once(&mut map, &mut object, &field)?,
                UserField::Id => once(&mut map, &mut id, &field)?,
                UserField::Email => once(&mut map, &mut email, &field)?,
                UserField::EmailVerified => once(&mut map, &mut email_verified, &field)?,
                UserField::FirstName => once(&mut map, &mut first_name, &field)?,
                UserField::LastName => once(&mut map, &mut last_name, &field)?,
                UserField::ProfilePictureUrl => once(&mut map, &mut profile_picture_url, &field)?,
                UserField::LastSignInAt => once(&mut map, &mut last_sign_in_at, &field)?,
                UserField::ExternalId => once(&mut map, &mut external_id, &field)?,
                UserField::Metadata => once(&mut map, &mut metadata, &field)?,
                UserField::Locale => once(&mut map, &mut locale, &field)?,
                UserField::CreatedAt => once(&mut map, &mut created_at, &field)?,
                UserField::UpdatedAt => once(&mut map, &mut updated_at, &field)?,
            }
        }

        Ok(User {
            object: object.unwrap_or_else(user_object),
            id: id.ok_or_else(|| A::Error::missing_field("id"))?,
            email: email.ok_or_else(|| A::Error::missing_field("email"))?,
            email_verified: email_verified.unwrap_or_default(),
            first_name: first_name.flatten(),
            last_name: last_name.flatten(),
            profile_picture_url: profile_picture_url.flatten(),
            last_sign_in_at: last_sign_in_at.flatten(),
            external_id: external_id.flatten(),
            metadata: metadata.map(|m| m.0).unwrap_or_default(),
            locale: locale.flatten(),
            created_at: created_at.ok_or_else(|| A::Error::missing_field("created_at"))?,
            updated_at: updated_at.ok_or_else(|| A::Error::missing_field("updated_at"))?,
            extra,
        })
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A map, as the derive with `flatten` asked for (no sequence form).
        d.deserialize_map(UserVisitor)
    }
}

/// Metadata whatever its values; `null` or anything but an object is empty.
pub(crate) fn metadata_or_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<HashMap<String, serde_json::Value>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        _ => HashMap::new(),
    })
}

/// Writes `"[redacted]"` for a URL that carries a token.
fn redacted_url<S: serde::Serializer>(_url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(crate::secret::REDACTED)
}

/// The admin impersonating a user, when a session is an impersonation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impersonator {
    /// The admin's email address.
    pub email: String,
    /// The reason the admin gave.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Tokens from the upstream OAuth provider (Google, GitHub, …), when requested.
///
/// Serializing it writes `"[redacted]"` in place of the tokens, so answering it
/// as JSON does not hand them to the browser; read them with [`Secret::expose`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokens {
    /// The provider's access token.
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub access_token: Secret,
    /// The provider's refresh token.
    #[serde(default)]
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub refresh_token: Secret,
    /// Granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// The answer to every `authenticate_with_*` call.
///
/// Serializing it writes `"[redacted]"` in place of the access, refresh and
/// upstream OAuth tokens, so a handler answering `Json(auth)` does not hand
/// them to the browser. To keep the session, seal it
/// ([`seal_session`](AuthenticationResponse::seal_session)); to send a token
/// on, read it with [`Secret::expose`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationResponse {
    /// The signed-in user.
    pub user: User,
    /// The organization the session is scoped to.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// The access token (a JWT).
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub access_token: Secret,
    /// The refresh token (single use).
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub refresh_token: Secret,
    /// Who is impersonating the user, if anyone.
    #[serde(default)]
    pub impersonator: Option<Impersonator>,
    /// How the user signed in.
    #[serde(default)]
    pub authentication_method: Option<AuthenticationMethod>,
    /// Upstream OAuth tokens, when the provider scopes asked for them.
    #[serde(default)]
    pub oauth_tokens: Option<OAuthTokens>,
}

/// A role reference on a membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRef {
    /// The role's slug.
    pub slug: String,
}

/// A user's membership in an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationMembership {
    /// The membership's id (`om_…`).
    pub id: String,
    /// The member.
    pub user_id: String,
    /// The organization.
    pub organization_id: String,
    /// The organization's name, when WorkOS includes it.
    #[serde(default)]
    pub organization_name: Option<String>,
    /// Active, inactive or pending.
    pub status: OrganizationMembershipStatus,
    /// The primary role.
    pub role: RoleRef,
    /// All roles, when the membership has several.
    #[serde(default)]
    pub roles: Option<Vec<RoleRef>>,
    /// Whether a directory manages the membership.
    #[serde(default)]
    pub directory_managed: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// An invitation to sign up (and join an organization).
///
/// Serializing it writes `"[redacted]"` in place of the token and of the
/// accept URL that carries it, so answering it as JSON does not hand them
/// out; read the token with [`Secret::expose`], the URL as the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    /// The invitation's id.
    pub id: String,
    /// The invitee's email address.
    pub email: String,
    /// Pending, accepted, expired or revoked.
    pub state: InvitationState,
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
    /// Who sent it.
    #[serde(default)]
    pub inviter_user_id: Option<String>,
    /// The user who accepted it.
    #[serde(default)]
    pub accepted_user_id: Option<String>,
    /// The invitation token.
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub token: Secret,
    /// The URL the invitee opens to accept. It carries the token, so it too
    /// serializes as `"[redacted]"`.
    #[serde(serialize_with = "redacted_url")]
    pub accept_invitation_url: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// A magic-auth code.
///
/// Serializing it writes `"[redacted]"` in place of the code, so answering it
/// as JSON does not hand it to the browser; read it with [`Secret::expose`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MagicAuth {
    /// The magic-auth id.
    pub id: String,
    /// The user it signs in.
    pub user_id: String,
    /// The email address it was sent to.
    pub email: String,
    /// The one-time code.
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub code: Secret,
    /// When the code expires.
    pub expires_at: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// A password reset.
///
/// Serializing it writes `"[redacted]"` in place of the token and of the
/// reset URL that carries it, so answering it as JSON does not hand them
/// out; read the token with [`Secret::expose`], the URL as the field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordReset {
    /// The password reset's id.
    pub id: String,
    /// The user whose password it resets.
    pub user_id: String,
    /// The user's email address.
    pub email: String,
    /// The token that [`reset_password`](crate::client::UserManagement::reset_password) takes.
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub password_reset_token: Secret,
    /// The link to send the user. It carries the token, so it too
    /// serializes as `"[redacted]"`.
    #[serde(serialize_with = "redacted_url")]
    pub password_reset_url: String,
    /// When it expires.
    pub expires_at: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// An email verification.
///
/// Serializing it writes `"[redacted]"` in place of the code, so answering it
/// as JSON does not hand it to the browser; read it with [`Secret::expose`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailVerification {
    /// The email verification's id.
    pub id: String,
    /// The user being verified.
    pub user_id: String,
    /// The email address being verified.
    pub email: String,
    /// The one-time code.
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub code: Secret,
    /// When the code expires.
    pub expires_at: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// TOTP details of an authentication factor.
///
/// Serializing it writes `"[redacted]"` in place of the shared secret and the URI, so answering it
/// as JSON does not hand them to the browser; read them with [`Secret::expose`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totp {
    /// The issuer shown in authenticator apps.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The account name shown in authenticator apps.
    #[serde(default)]
    pub user: Option<String>,
    /// A QR code as a `data:` URL (only right after enrollment). It encodes
    /// the secret: it is for the user's authenticator app, once, and is the
    /// one field here that serializes as it is.
    #[serde(default)]
    pub qr_code: Option<String>,
    /// The shared secret (only right after enrollment).
    #[serde(default)]
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub secret: Option<Secret>,
    /// The `otpauth://` URI (only right after enrollment).
    #[serde(default)]
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub uri: Option<Secret>,
}

/// A second factor enrolled for a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationFactor {
    /// The factor's id.
    pub id: String,
    /// The user it belongs to.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The factor's type.
    #[serde(rename = "type")]
    pub kind: AuthenticationFactorType,
    /// TOTP details, for TOTP factors.
    #[serde(default)]
    pub totp: Option<Totp>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// A challenge issued against an authentication factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthenticationChallenge {
    /// The challenge's id (what `authenticate_with_totp` takes).
    pub id: String,
    /// The factor it challenges.
    pub authentication_factor_id: String,
    /// When it expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The code itself, only for challenges of `generic_otp` factors (the
    /// app delivers it); TOTP and SMS challenges never carry it.
    /// Serializes as `"[redacted]"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_redacted")]
    pub code: Option<Secret>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// The answer to [`enroll_auth_factor`](crate::client::UserManagement::enroll_auth_factor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrolledAuthFactor {
    /// The new factor.
    pub authentication_factor: AuthenticationFactor,
    /// A first challenge for it.
    pub authentication_challenge: AuthenticationChallenge,
}

/// A user's session, as listed by [`list_sessions`](crate::client::UserManagement::list_sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The session's id (the access token's `sid`).
    pub id: String,
    /// The user.
    pub user_id: String,
    /// The organization it is scoped to.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// Active, expired or revoked.
    pub status: SessionStatus,
    /// How the user signed in.
    #[serde(default)]
    pub auth_method: Option<SessionAuthMethod>,
    /// The client's IP address at sign-in.
    #[serde(default)]
    pub ip_address: Option<String>,
    /// The client's user agent at sign-in.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Who is impersonating the user, if anyone.
    #[serde(default)]
    pub impersonator: Option<Impersonator>,
    /// When it expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// When it ended.
    #[serde(default)]
    pub ended_at: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// Cursors of a list page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMetadata {
    /// Cursor for the previous page.
    #[serde(default)]
    pub before: Option<String>,
    /// Cursor for the next page; `None` on the last page.
    #[serde(default)]
    pub after: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    /// The items.
    pub data: Vec<T>,
    /// The cursors.
    #[serde(default)]
    pub list_metadata: ListMetadata,
}

/// A response that wraps a user (`{"user": …}`).
#[derive(Debug, Deserialize)]
pub(crate) struct UserEnvelope {
    pub(crate) user: User,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The derived `Deserialize` the hand-written one replaces, to compare
    /// against: `User`'s fields and serde attributes as they were (named
    /// `User` too, so that the error messages match word for word).
    mod derived {
        use super::*;

        #[derive(Debug, Deserialize)]
        pub(super) struct User {
            #[serde(default = "user_object")]
            pub(super) object: String,
            pub(super) id: String,
            pub(super) email: String,
            #[serde(default, alias = "emailVerified")]
            pub(super) email_verified: bool,
            #[serde(default, alias = "firstName")]
            pub(super) first_name: Option<String>,
            #[serde(default, alias = "lastName")]
            pub(super) last_name: Option<String>,
            #[serde(default, alias = "profilePictureUrl")]
            pub(super) profile_picture_url: Option<String>,
            #[serde(default, alias = "lastSignInAt")]
            pub(super) last_sign_in_at: Option<String>,
            #[serde(default, alias = "externalId")]
            pub(super) external_id: Option<String>,
            #[serde(default, deserialize_with = "metadata_or_empty")]
            pub(super) metadata: HashMap<String, serde_json::Value>,
            #[serde(default)]
            pub(super) locale: Option<String>,
            #[serde(alias = "createdAt")]
            pub(super) created_at: String,
            #[serde(alias = "updatedAt")]
            pub(super) updated_at: String,
            #[serde(flatten)]
            pub(super) extra: serde_json::Map<String, serde_json::Value>,
        }
    }

    impl From<derived::User> for User {
        fn from(d: derived::User) -> Self {
            User {
                object: d.object,
                id: d.id,
                email: d.email,
                email_verified: d.email_verified,
                first_name: d.first_name,
                last_name: d.last_name,
                profile_picture_url: d.profile_picture_url,
                last_sign_in_at: d.last_sign_in_at,
                external_id: d.external_id,
                metadata: d.metadata,
                locale: d.locale,
                created_at: d.created_at,
                updated_at: d.updated_at,
                extra: d.extra,
            }
        }
    }

    /// Reads `json` both ways, from text and from a `Value`, and checks the
    /// two agree: the same user, or the same error.
    fn assert_reads_as_the_derive(json: &str) -> Result<User, String> {
        let ours = serde_json::from_str::<User>(json).map_err(|e| e.to_string());
        let derived = serde_json::from_str::<derived::User>(json)
            .map(User::from)
            .map_err(|e| e.to_string());
        assert_eq!(ours, derived, "from text: {json}");
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(json) {
            let ours = serde_json::from_value::<User>(value.clone()).map_err(|e| e.to_string());
            let derived = serde_json::from_value::<derived::User>(value)
                .map(User::from)
                .map_err(|e| e.to_string());
            assert_eq!(ours, derived, "from a Value: {json}");
        }
        ours
    }

    /// Every `"object": "user"` in the recorded WorkOS answers.
    fn recorded_users() -> Vec<serde_json::Value> {
        fn walk(value: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
            match value {
                serde_json::Value::Object(map) => {
                    if map.get("object").and_then(|o| o.as_str()) == Some("user") {
                        out.push(value.clone());
                    }
                    map.values().for_each(|v| walk(v, out));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/workos-recorded"
        );
        let mut users = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            walk(&serde_json::from_str(&text).unwrap(), &mut users);
        }
        users
    }

    #[test]
    fn every_recorded_user_reads_as_the_derive_read_it_by_snake_and_camel_case_names() {
        let users = recorded_users();
        assert!(users.len() > 10, "the fixtures hold users: {}", users.len());
        for json in users {
            let user = assert_reads_as_the_derive(&json.to_string()).unwrap();
            // The camelCase names the session cookie keeps it under.
            let camel: serde_json::Map<String, serde_json::Value> = json
                .as_object()
                .unwrap()
                .iter()
                .map(|(key, value)| {
                    let mut words = key.split('_');
                    let mut camel = words.next().unwrap_or_default().to_owned();
                    for word in words {
                        let mut chars = word.chars();
                        camel.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                        camel.push_str(chars.as_str());
                    }
                    (camel, value.clone())
                })
                .collect();
            let again =
                assert_reads_as_the_derive(&serde_json::Value::Object(camel).to_string()).unwrap();
            assert_eq!(
                (
                    &again.id,
                    &again.email_verified,
                    &again.first_name,
                    &again.created_at
                ),
                (
                    &user.id,
                    &user.email_verified,
                    &user.first_name,
                    &user.created_at
                ),
                "the cookie's names read back the same user"
            );
        }
    }

    #[test]
    fn hand_written_user_reading_accepts_and_refuses_what_the_derive_did() {
        let ok = [
            // The emulator's user.
            r#"{"object":"user","id":"user_1","email":"a@b.c","email_verified":true,
                "first_name":"Alice","last_name":null,"profile_picture_url":null,
                "last_sign_in_at":"2026-01-01T00:00:00.000Z","external_id":null,
                "metadata":{"plan":"pro"},"locale":null,
                "created_at":"2026-01-01T00:00:00.000Z","updated_at":"2026-01-01T00:00:00.000Z"}"#,
            // The fewest fields.
            r#"{"id":"u","email":"e","created_at":"c","updated_at":"u"}"#,
            // Every alias.
            r#"{"object":"user","id":"u","email":"e","emailVerified":true,"firstName":"F",
                "lastName":"L","profilePictureUrl":"p","lastSignInAt":"s","externalId":"x",
                "metadata":{},"locale":"fr","createdAt":"c","updatedAt":"u"}"#,
            // Nulls where an option is.
            r#"{"id":"u","email":"e","first_name":null,"last_name":null,"profile_picture_url":null,
                "last_sign_in_at":null,"external_id":null,"locale":null,"created_at":"c","updated_at":"u"}"#,
            // Metadata that is not an object, or of mixed values.
            r#"{"id":"u","email":"e","metadata":null,"created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","metadata":"x","created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","metadata":[1,{"a":2}],"created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","metadata":7,"created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","metadata":{"n":1,"b":true,"o":{"x":[1]},"s":"v","z":null,"s":"w"},
                "created_at":"c","updated_at":"u"}"#,
            // Unknown fields, of every type, one repeated, one `name`.
            r#"{"zeta":1,"id":"u","user_type":"managed","email":"e","nested":{"a":[1,2.5,-3]},
                "created_at":"c","alpha":null,"updated_at":"u","zeta":2,"name":"Ada","big":18446744073709551615,
                "neg":-9223372036854775808,"float":1e300,"esc":"a\"b\\c\u00e9"}"#,
            // Escaped keys, known and unknown; non-ASCII.
            r#"{"\u0069d":"u","email":"\u00e9@b.c","created_\u0061t":"c","updated_at":"u","k\u00e9y":"v"}"#,
            r#"{"object":"something_else","id":"","email":"","created_at":"","updated_at":""}"#,
        ];
        for json in ok {
            assert_reads_as_the_derive(json).unwrap();
        }
        let refused = [
            // A required field missing.
            r#"{"email":"e","created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","created_at":"c"}"#,
            "{}",
            // Repeated, also under its alias.
            r#"{"id":"u","id":"v","email":"e","created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","created_at":"c","createdAt":"d","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","firstName":"a","first_name":"b","created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","metadata":{},"metadata":{},"created_at":"c","updated_at":"u"}"#,
            // Of another type, nulls where no option is.
            r#"{"id":1,"email":"e","created_at":"c","updated_at":"u"}"#,
            r#"{"id":null,"email":"e","created_at":"c","updated_at":"u"}"#,
            r#"{"object":null,"id":"u","email":"e","created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","email_verified":null,"created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","email_verified":"yes","created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","first_name":5,"created_at":"c","updated_at":"u"}"#,
            r#"{"id":"u","email":"e","locale":[],"created_at":"c","updated_at":"u"}"#,
            // Not an object at all.
            r#"["u","e","c","u"]"#,
            r#""user""#,
            "null",
            "7",
            // Broken JSON.
            r#"{"id":"u","email":"e","created_at":"c","updated_at":"u""#,
            r#"{"id":"u","email":"e","x":tru,"created_at":"c","updated_at":"u"}"#,
        ];
        for json in refused {
            assert!(assert_reads_as_the_derive(json).is_err(), "refused: {json}");
        }
    }

    #[test]
    fn a_user_read_and_written_back_keeps_its_unknown_fields() {
        let json = r#"{"object":"user","id":"u","email":"e","email_verified":false,
            "first_name":null,"last_name":null,"profile_picture_url":null,
            "created_at":"c","updated_at":"u","b_field":{"x":[1,2]},"a_field":"kept"}"#;
        let user = assert_reads_as_the_derive(json).unwrap();
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
        assert_eq!(
            user.extra.keys().collect::<Vec<_>>(),
            ["a_field", "b_field"]
        );
    }

    #[test]
    fn unknown_enum_values_parse_into_other() {
        let m: AuthenticationMethod = serde_json::from_str("\"CrossAppAuth\"").unwrap();
        assert_eq!(m, AuthenticationMethod::Other("CrossAppAuth".into()));
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"CrossAppAuth\"");
        let s: OrganizationMembershipStatus = serde_json::from_str("\"active\"").unwrap();
        assert_eq!(s, OrganizationMembershipStatus::Active);
    }

    #[test]
    fn user_keeps_unknown_fields_for_round_trips() {
        let json = serde_json::json!({
            "object": "user", "id": "user_1", "email": "a@b.c", "email_verified": true,
            "first_name": null, "last_name": null, "profile_picture_url": null,
            "created_at": "t", "updated_at": "t", "user_type": "managed"
        });
        let user: User = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(user.extra["user_type"], "managed");
        assert_eq!(serde_json::to_value(&user).unwrap(), json);
    }
}
