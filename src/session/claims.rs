//! The claims of a WorkOS access token.
//!
//! Their `Deserialize` is written out rather than derived: a derived one
//! with `#[serde(flatten)]` buffers every claim into serde's generic content
//! before reading the known ones, on every token. This one reads each known
//! claim straight into its field and parses a claim it does not know into
//! `extra`, so a typical WorkOS token (only known claims) costs no buffering
//! and no map.

use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, Visitor};
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
///
/// Read from a JSON object: `sub`, `sid` and `exp` are required; a claim
/// named twice, or of another type than its field's, is refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// The claims' names, and the field each goes to.
#[derive(Clone, Copy)]
enum Field {
    Sub,
    Sid,
    OrgId,
    Role,
    Roles,
    Permissions,
    Entitlements,
    FeatureFlags,
    Exp,
    Iat,
    Nbf,
    Iss,
    Jti,
    Act,
}

impl Field {
    fn of(name: &str) -> Option<Field> {
        Some(match name {
            "sub" => Field::Sub,
            "sid" => Field::Sid,
            "org_id" => Field::OrgId,
            "role" => Field::Role,
            "roles" => Field::Roles,
            "permissions" => Field::Permissions,
            "entitlements" => Field::Entitlements,
            "feature_flags" => Field::FeatureFlags,
            "exp" => Field::Exp,
            "iat" => Field::Iat,
            "nbf" => Field::Nbf,
            "iss" => Field::Iss,
            "jti" => Field::Jti,
            "act" => Field::Act,
            _ => return None,
        })
    }
}

/// A claim's name: one of the fields (no allocation), or another one's.
enum Name {
    Known(Field),
    Other(String),
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NameVisitor;

        impl Visitor<'_> for NameVisitor {
            type Value = Name;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name, E> {
                Ok(Field::of(v).map_or_else(|| Name::Other(v.to_owned()), Name::Known))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Name, E> {
                Ok(match Field::of(&v) {
                    Some(field) => Name::Known(field),
                    None => Name::Other(v),
                })
            }
        }

        d.deserialize_identifier(NameVisitor)
    }
}

/// Fills `slot` once: a claim named twice is refused, as a derived
/// `Deserialize` refuses a repeated field.
fn once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Deserialize<'de> for AccessTokenClaims {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = AccessTokenClaims;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the claims of an access token")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut sub = None;
        let mut sid = None;
        let mut org_id: Option<Option<String>> = None;
        let mut role: Option<Option<String>> = None;
        let mut roles = None;
        let mut permissions = None;
        let mut entitlements = None;
        let mut feature_flags = None;
        let mut exp = None;
        let mut iat = None;
        let mut nbf: Option<Option<i64>> = None;
        let mut iss: Option<Option<String>> = None;
        let mut jti: Option<Option<String>> = None;
        let mut act: Option<Option<Actor>> = None;
        let mut extra = serde_json::Map::new();
        while let Some(name) = map.next_key::<Name>()? {
            match name {
                Name::Known(Field::Sub) => once(&mut map, &mut sub, "sub")?,
                Name::Known(Field::Sid) => once(&mut map, &mut sid, "sid")?,
                Name::Known(Field::OrgId) => once(&mut map, &mut org_id, "org_id")?,
                Name::Known(Field::Role) => once(&mut map, &mut role, "role")?,
                Name::Known(Field::Roles) => once(&mut map, &mut roles, "roles")?,
                Name::Known(Field::Permissions) => once(&mut map, &mut permissions, "permissions")?,
                Name::Known(Field::Entitlements) => {
                    once(&mut map, &mut entitlements, "entitlements")?
                }
                Name::Known(Field::FeatureFlags) => {
                    once(&mut map, &mut feature_flags, "feature_flags")?
                }
                Name::Known(Field::Exp) => once(&mut map, &mut exp, "exp")?,
                Name::Known(Field::Iat) => once(&mut map, &mut iat, "iat")?,
                Name::Known(Field::Nbf) => once(&mut map, &mut nbf, "nbf")?,
                Name::Known(Field::Iss) => once(&mut map, &mut iss, "iss")?,
                Name::Known(Field::Jti) => once(&mut map, &mut jti, "jti")?,
                Name::Known(Field::Act) => once(&mut map, &mut act, "act")?,
                Name::Other(name) => {
                    if extra.contains_key(&name) {
                        return Err(de::Error::custom(format_args!("duplicate claim `{name}`")));
                    }
                    let value = map.next_value()?;
                    extra.insert(name, value);
                }
            }
        }
        Ok(AccessTokenClaims {
            sub: sub.ok_or_else(|| de::Error::missing_field("sub"))?,
            sid: sid.ok_or_else(|| de::Error::missing_field("sid"))?,
            org_id: org_id.flatten(),
            role: role.flatten(),
            roles: roles.unwrap_or_default(),
            permissions: permissions.unwrap_or_default(),
            entitlements: entitlements.unwrap_or_default(),
            feature_flags: feature_flags.unwrap_or_default(),
            exp: exp.ok_or_else(|| de::Error::missing_field("exp"))?,
            iat: iat.unwrap_or_default(),
            nbf: nbf.flatten(),
            iss: iss.flatten(),
            jti: jti.flatten(),
            act: act.flatten(),
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The derived `Deserialize` this one replaces, to compare against.
    #[derive(Debug, Deserialize)]
    struct Derived {
        sub: String,
        sid: String,
        #[serde(default)]
        org_id: Option<String>,
        #[serde(default)]
        role: Option<String>,
        #[serde(default)]
        roles: Vec<String>,
        #[serde(default)]
        permissions: Vec<String>,
        #[serde(default)]
        entitlements: Vec<String>,
        #[serde(default)]
        feature_flags: Vec<String>,
        exp: i64,
        #[serde(default)]
        iat: i64,
        #[serde(default)]
        nbf: Option<i64>,
        #[serde(default)]
        iss: Option<String>,
        #[serde(default)]
        jti: Option<String>,
        #[serde(default)]
        act: Option<Actor>,
        #[serde(flatten)]
        extra: serde_json::Map<String, serde_json::Value>,
    }

    impl From<Derived> for AccessTokenClaims {
        fn from(d: Derived) -> Self {
            AccessTokenClaims {
                sub: d.sub,
                sid: d.sid,
                org_id: d.org_id,
                role: d.role,
                roles: d.roles,
                permissions: d.permissions,
                entitlements: d.entitlements,
                feature_flags: d.feature_flags,
                exp: d.exp,
                iat: d.iat,
                nbf: d.nbf,
                iss: d.iss,
                jti: d.jti,
                act: d.act,
                extra: d.extra,
            }
        }
    }

    fn both(json: &str) -> (Option<AccessTokenClaims>, Option<AccessTokenClaims>) {
        let ours = serde_json::from_str::<AccessTokenClaims>(json).ok();
        let derived = serde_json::from_str::<Derived>(json).ok().map(Into::into);
        (ours, derived)
    }

    const WORKOS: &str = r#"{"iss":"https://api.workos.com/user_management/client_1","sub":"user_1",
        "sid":"session_1","jti":"01J","org_id":"org_1","role":"admin","roles":["admin","member"],
        "permissions":["posts:write"],"entitlements":["sso"],"feature_flags":["beta"],
        "act":{"sub":"admin@example.com"},"exp":1700000300,"iat":1700000000}"#;

    #[test]
    fn a_workos_token_reads_as_the_derived_parser_read_it_with_no_extra_claims() {
        let (ours, derived) = both(WORKOS);
        let ours = ours.unwrap();
        assert_eq!(Some(&ours), derived.as_ref());
        assert_eq!(ours.sub, "user_1");
        assert_eq!(
            ours.act.as_ref().map(|a| a.sub.as_str()),
            Some("admin@example.com")
        );
        assert_eq!(ours.roles, ["admin", "member"]);
        assert!(ours.extra.is_empty());
    }

    #[test]
    fn unknown_claims_still_reach_custom() {
        let json = r#"{"sub":"u","sid":"s","exp":5,"tenant_tier":"gold","seats":12,
            "nested":{"a":[1,2]},"aud":"client_1","n":null}"#;
        let (ours, derived) = both(json);
        let ours = ours.unwrap();
        assert_eq!(Some(&ours), derived.as_ref());
        assert_eq!(
            ours.custom::<String>("tenant_tier").unwrap().unwrap(),
            "gold"
        );
        assert_eq!(ours.custom::<u32>("seats").unwrap().unwrap(), 12);
        assert_eq!(
            ours.custom::<serde_json::Value>("nested").unwrap().unwrap(),
            json!({"a": [1, 2]})
        );
        assert!(ours.custom::<u32>("tenant_tier").unwrap().is_err());
        assert!(ours.custom::<u32>("missing").is_none());
        assert_eq!(ours.extra.len(), 5);
    }

    #[test]
    fn it_reads_what_the_derived_parser_read_and_refuses_what_it_refused() {
        for json in [
            r#"{"sub":"u","sid":"s","exp":5}"#,
            r#"{"sub":"u","sid":"s","exp":-5,"iat":-1,"nbf":-2}"#,
            r#"{"sub":"u","sid":"s","exp":5,"org_id":null,"role":null,"iss":null,"jti":null,"act":null,"nbf":null}"#,
            r#"{"sub":"u\u0041","sid":"s","exp":5,"ro\u006ce":"r"}"#,
            r#"{"sub":"u","sid":"s","exp":5,"act":{"sub":"a","extra":1}}"#,
            // Missing required claims.
            r#"{"sid":"s","exp":5}"#,
            r#"{"sub":"u","exp":5}"#,
            r#"{"sub":"u","sid":"s"}"#,
            // Of another type.
            r#"{"sub":1,"sid":"s","exp":5}"#,
            r#"{"sub":null,"sid":"s","exp":5}"#,
            r#"{"sub":"u","sid":"s","exp":"5"}"#,
            r#"{"sub":"u","sid":"s","exp":5.5}"#,
            r#"{"sub":"u","sid":"s","exp":1e3}"#,
            r#"{"sub":"u","sid":"s","exp":null}"#,
            r#"{"sub":"u","sid":"s","exp":18446744073709551615}"#,
            r#"{"sub":"u","sid":"s","exp":5,"iat":null}"#,
            r#"{"sub":"u","sid":"s","exp":5,"roles":null}"#,
            r#"{"sub":"u","sid":"s","exp":5,"roles":"admin"}"#,
            r#"{"sub":"u","sid":"s","exp":5,"permissions":[1]}"#,
            r#"{"sub":"u","sid":"s","exp":5,"act":{"email":"a"}}"#,
            r#"{"sub":"u","sid":"s","exp":5,"act":"a"}"#,
            r#"{"sub":"u","sid":"s","exp":5,"org_id":{"id":"o"}}"#,
            // Repeated known claims.
            r#"{"sub":"u","sub":"v","sid":"s","exp":5}"#,
            r#"{"sub":"u","sid":"s","exp":5,"exp":6}"#,
            r#"{"sub":"u","sid":"s","exp":5,"roles":[],"roles":[]}"#,
            // Not an object.
            r#"["u","s",5]"#,
            "null",
            "5",
            r#""claims""#,
            "",
            r#"{"sub":"u","sid":"s","exp":5} trailing"#,
        ] {
            let (ours, derived) = both(json);
            assert_eq!(ours, derived, "{json}");
        }
    }

    #[test]
    fn a_repeated_custom_claim_is_refused() {
        // The derived parser kept the last; RFC 7519 allows either, and a
        // repeated `aud` was refused when verifying (by jsonwebtoken's own
        // pass over the claims): refusing every repeated name keeps that.
        let json = r#"{"sub":"u","sid":"s","exp":5,"aud":"a","aud":"b"}"#;
        assert!(serde_json::from_str::<AccessTokenClaims>(json).is_err());
        let json = r#"{"sub":"u","sid":"s","exp":5,"tier":1,"tier":2}"#;
        assert!(serde_json::from_str::<AccessTokenClaims>(json).is_err());
    }

    #[test]
    fn claims_read_from_a_value_and_round_trip_through_serialize() {
        let (ours, _) = both(WORKOS);
        let mut ours = ours.unwrap();
        ours.extra.insert("tier".into(), json!("gold"));
        let value = serde_json::to_value(&ours).unwrap();
        let back: AccessTokenClaims = serde_json::from_value(value).unwrap();
        assert_eq!(back, ours);
    }
}
