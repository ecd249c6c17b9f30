//! What the emulator starts with: users, organizations (with roles,
//! entitlements and feature flags) and memberships, from Rust, JSON or TOML.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The password of [`Seed::demo`]'s user `demo@example.com`.
pub const DEMO_PASSWORD: &str = "demo-password-123";

/// The emulator's initial data.
///
/// In JSON (see [`Seed::from_json_file`]), every field but a user's `email`,
/// an organization's `name` and a membership's `user`/`organization` may be
/// left out:
///
/// ```
/// use authkit_emulator::Seed;
///
/// let seed = Seed::from_json_str(r#"{
///   "users": [
///     {"email": "ada@example.com", "password": "correct horse", "first_name": "Ada"},
///     {"email": "bob@example.com", "password": "battery staple",
///      "require_email_verification": true}
///   ],
///   "organizations": [
///     {"name": "Acme", "id": "org_01ACME",
///      "roles": [{"slug": "admin", "permissions": ["widgets:write"]}],
///      "entitlements": ["audit-logs"], "feature_flags": ["new-ui"]}
///   ],
///   "memberships": [{"user": "ada@example.com", "organization": "Acme", "role": "admin"}]
/// }"#).unwrap();
/// assert_eq!(seed.users.len(), 2);
/// assert!(seed.users[0].email_verified);
/// ```
///
/// The same in TOML (see [`Seed::from_toml_str`]), with a TOTP factor:
///
/// ```
/// use authkit_emulator::Seed;
///
/// let seed = Seed::from_toml_str(r#"
/// [[users]]
/// email = "ada@example.com"
/// password = "correct horse"
/// first_name = "Ada"
/// totp_secret = "JBSWY3DPEHPK3PXP"
///
/// [[organizations]]
/// name = "Acme"
/// roles = [{ slug = "admin", permissions = ["widgets:write"] }]
///
/// [[memberships]]
/// user = "ada@example.com"
/// organization = "Acme"
/// roles = ["admin", "member"]
/// "#).unwrap();
/// assert_eq!(seed.users[0].totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
/// assert_eq!(seed.memberships[0].roles, ["admin", "member"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Seed {
    /// The users.
    pub users: Vec<SeedUser>,
    /// The organizations.
    pub organizations: Vec<SeedOrganization>,
    /// Who belongs to which organization, with which roles.
    pub memberships: Vec<SeedMembership>,
    /// Groups of an organization's members.
    pub groups: Vec<SeedGroup>,
}

/// A seeded user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedUser {
    /// The id (`user_…`); generated when absent.
    pub id: Option<String>,
    /// The email address (required, unique).
    pub email: String,
    /// The password; a user without one can only sign in by magic auth.
    pub password: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Whether the email address is verified (default `true`).
    pub email_verified: bool,
    /// Sign-ins by password or code answer `email_verification_required`
    /// until the address is verified; implies `email_verified: false`.
    pub require_email_verification: bool,
    /// A base32 TOTP secret: the user has an MFA factor, and sign-ins answer
    /// `mfa_challenge`.
    pub totp_secret: Option<String>,
    /// Sign-ins of a user without a factor answer `mfa_enrollment`.
    pub require_mfa: bool,
    /// Your own identifier for the user.
    pub external_id: Option<String>,
    /// Key-value metadata.
    pub metadata: HashMap<String, String>,
    /// OAuth accounts linked to the user (what `GET
    /// /user_management/users/{id}/identities` lists).
    pub identities: Vec<SeedIdentity>,
}

/// An OAuth account linked to a seeded user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedIdentity {
    /// The provider's wire name (`GoogleOAuth`, `GitHubOAuth`, …).
    pub provider: String,
    /// The user's id at the provider.
    pub idp_id: String,
}

impl SeedIdentity {
    /// The account `idp_id` at `provider`.
    pub fn new(provider: impl Into<String>, idp_id: impl Into<String>) -> Self {
        SeedIdentity {
            provider: provider.into(),
            idp_id: idp_id.into(),
        }
    }
}

/// A seeded group: some of an organization's members.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedGroup {
    /// The organization (its id or name).
    pub organization: String,
    /// The group's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its members, by email: each must be a member of the organization.
    pub members: Vec<String>,
}

impl SeedGroup {
    /// A group `name` of `organization` (an id or name) with these members (emails).
    pub fn new<M: Into<String>>(
        organization: impl Into<String>,
        name: impl Into<String>,
        members: impl IntoIterator<Item = M>,
    ) -> Self {
        SeedGroup {
            organization: organization.into(),
            name: name.into(),
            description: None,
            members: members.into_iter().map(Into::into).collect(),
        }
    }
}

impl Default for SeedUser {
    fn default() -> Self {
        SeedUser {
            id: None,
            email: String::new(),
            password: None,
            first_name: None,
            last_name: None,
            email_verified: true,
            require_email_verification: false,
            totp_secret: None,
            require_mfa: false,
            external_id: None,
            metadata: HashMap::new(),
            identities: Vec::new(),
        }
    }
}

impl SeedUser {
    /// A verified user with a password.
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> Self {
        SeedUser {
            email: email.into(),
            password: Some(password.into()),
            ..Default::default()
        }
    }
}

/// A seeded organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedOrganization {
    /// The id (`org_…`); generated when absent.
    pub id: Option<String>,
    /// The name (required, unique).
    pub name: String,
    /// Its roles. `member` always exists (without permissions) unless listed here.
    pub roles: Vec<SeedRole>,
    /// Entitlements, copied into its members' access tokens.
    pub entitlements: Vec<String>,
    /// Feature flags, copied into its members' access tokens.
    pub feature_flags: Vec<String>,
}

impl SeedOrganization {
    /// An organization with only the `member` role.
    pub fn new(name: impl Into<String>) -> Self {
        SeedOrganization {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Adds a role.
    pub fn with_role(mut self, role: SeedRole) -> Self {
        self.roles.push(role);
        self
    }
}

/// A role of an organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedRole {
    /// The slug (`admin`, `member`, …).
    pub slug: String,
    /// The permissions it grants.
    pub permissions: Vec<String>,
}

impl SeedRole {
    /// A role granting `permissions`.
    pub fn new<P: Into<String>>(
        slug: impl Into<String>,
        permissions: impl IntoIterator<Item = P>,
    ) -> Self {
        SeedRole {
            slug: slug.into(),
            permissions: permissions.into_iter().map(Into::into).collect(),
        }
    }
}

/// A seeded membership.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeedMembership {
    /// The user's email address.
    pub user: String,
    /// The organization's id or name.
    pub organization: String,
    /// The role's slug (default `member`).
    pub role: Option<String>,
    /// Several role slugs, instead of `role`.
    pub roles: Vec<String>,
}

impl SeedMembership {
    /// `user` (an email) in `organization` (an id or name) with `role`.
    pub fn new(
        user: impl Into<String>,
        organization: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        SeedMembership {
            user: user.into(),
            organization: organization.into(),
            role: Some(role.into()),
            roles: Vec::new(),
        }
    }
}

/// Why a seed could not be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The file could not be read.
    #[error("could not read the seed file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The JSON does not describe a seed.
    #[error("invalid seed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The TOML does not describe a seed.
    #[error("invalid seed TOML: {0}")]
    Toml(#[from] toml::de::Error),
    /// The file's contents do not describe a seed.
    #[error("invalid seed file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with its contents.
        #[source]
        source: Box<SeedError>,
    },
    /// The seed is inconsistent (duplicate email, unknown organization, …).
    #[error("invalid seed: {0}")]
    Invalid(String),
}

impl Seed {
    /// An empty seed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a seed from a JSON file.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Seed, SeedError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_str(&text)
    }

    /// Parses a seed from JSON text.
    pub fn from_json_str(json: &str) -> Result<Seed, SeedError> {
        Ok(serde_json::from_str(json)?)
    }

    /// Parses a seed from TOML text: the JSON's fields, as tables and arrays
    /// of tables (`[[users]]`, `[[organizations]]`, `[[memberships]]`).
    pub fn from_toml_str(toml: &str) -> Result<Seed, SeedError> {
        Ok(toml::from_str(toml)?)
    }

    /// Reads a seed file: TOML if its name ends in `.toml`, JSON otherwise.
    /// Errors name the file.
    ///
    /// ```no_run
    /// let seed = authkit_emulator::Seed::from_file("seed.toml")?;
    /// # Ok::<(), authkit_emulator::SeedError>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Seed, SeedError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Io {
            path: name.clone(),
            source,
        })?;
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let parsed = if is_toml {
            Self::from_toml_str(&text)
        } else {
            Self::from_json_str(&text)
        };
        parsed.map_err(|e| SeedError::File {
            path: name,
            source: Box::new(e),
        })
    }

    /// A demo: `demo@example.com` (password [`DEMO_PASSWORD`]), admin of
    /// "Demo Organization", whose `admin` role grants `widgets:read` and
    /// `widgets:write` and whose `member` role grants `widgets:read`.
    pub fn demo() -> Seed {
        Seed {
            users: vec![SeedUser {
                first_name: Some("Demo".into()),
                last_name: Some("User".into()),
                ..SeedUser::new("demo@example.com", DEMO_PASSWORD)
            }],
            organizations: vec![SeedOrganization {
                entitlements: vec!["audit-logs".into()],
                feature_flags: vec!["new-dashboard".into()],
                ..SeedOrganization::new("Demo Organization")
                    .with_role(SeedRole::new("admin", ["widgets:read", "widgets:write"]))
                    .with_role(SeedRole::new("member", ["widgets:read"]))
            }],
            memberships: vec![SeedMembership::new(
                "demo@example.com",
                "Demo Organization",
                "admin",
            )],
            ..Seed::default()
        }
    }

    /// Adds a user.
    pub fn with_user(mut self, user: SeedUser) -> Self {
        self.users.push(user);
        self
    }

    /// Adds an organization.
    pub fn with_organization(mut self, organization: SeedOrganization) -> Self {
        self.organizations.push(organization);
        self
    }

    /// Adds a group (after the memberships it names, whatever the order of calls).
    pub fn with_group(mut self, group: SeedGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// Adds a membership.
    pub fn with_membership(mut self, membership: SeedMembership) -> Self {
        self.memberships.push(membership);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_round_trips_through_json() {
        let demo = Seed::demo();
        let json = serde_json::to_string(&demo).unwrap();
        assert_eq!(Seed::from_json_str(&json).unwrap(), demo);
    }

    #[test]
    fn demo_round_trips_through_toml() {
        let demo = Seed::demo();
        let text = toml::to_string(&demo).unwrap();
        assert_eq!(Seed::from_toml_str(&text).unwrap(), demo);
    }

    #[test]
    fn a_bad_seed_file_is_named_in_the_error() {
        let dir = std::env::temp_dir().join(format!("seed-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broken.toml");
        std::fs::write(&path, "[[users]]\nemial = \"a@b.c\"\n").unwrap();
        let err = Seed::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("broken.toml"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = Seed::from_json_str(r#"{"users": [{"email": "a@b.c", "pasword": "x"}]}"#);
        assert!(matches!(err, Err(SeedError::Json(_))));
    }
}
