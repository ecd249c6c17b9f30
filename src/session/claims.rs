//! The claims of a WorkOS access token.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The actor of an impersonation (`act` claim).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Who is acting (the impersonating admin's email).
    pub sub: String,
}

/// What a WorkOS access token says: `sub, sid, org_id, role, roles,
/// permissions, entitlements, feature_flags, exp, iat`, and any custom claims
/// from your JWT template (see [`AccessTokenClaims::custom`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The organization the session is scoped to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The user's role in that organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// All the user's roles in that organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Permissions granted by the roles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permissions: Vec<String>,
    /// The organization's entitlements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<String>,
    /// Feature flags enabled for the user or organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feature_flags: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issue time, seconds since the epoch.
    #[serde(default)]
    pub iat: i64,
    /// Not-before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The impersonating admin, when the session is an impersonation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
    /// Every other claim, for [`AccessTokenClaims::custom`].
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl AccessTokenClaims {
    /// Whether the roles grant `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    /// Whether `role` is the token's role or among its roles.
    pub fn has_role(&self, role: &str) -> bool {
        self.role.as_deref() == Some(role) || self.roles.iter().any(|r| r == role)
    }

    /// Whether the token is scoped to `organization_id`.
    pub fn is_in_organization(&self, organization_id: &str) -> bool {
        self.org_id.as_deref() == Some(organization_id)
    }

    /// A custom claim, parsed into your type: `None` when absent,
    /// `Some(Err(_))` when present but of another shape.
    ///
    /// ```
    /// # use authkit_axum::session::AccessTokenClaims;
    /// let claims: AccessTokenClaims = serde_json::from_value(serde_json::json!({
    ///     "sub": "user_1", "sid": "session_1", "exp": 0, "iat": 0,
    ///     "tenant_tier": "gold", "seats": 12
    /// })).unwrap();
    /// assert_eq!(claims.custom::<String>("tenant_tier").unwrap().unwrap(), "gold");
    /// assert_eq!(claims.custom::<u32>("seats").unwrap().unwrap(), 12);
    /// assert!(claims.custom::<u32>("missing").is_none());
    /// ```
    pub fn custom<T: DeserializeOwned>(&self, name: &str) -> Option<Result<T, serde_json::Error>> {
        self.extra
            .get(name)
            .map(|v| serde_json::from_value(v.clone()))
    }
}
