//! A user's identities: the OAuth accounts (Google, GitHub, …) linked to
//! them. `GET /user_management/users/{id}/identities`, as workos-node's
//! `getUserIdentities` and workos-ruby's `get_user_identities` call it.

use serde::{Deserialize, Serialize};

use super::types::string_enum;
use super::{Call, Error, UserManagement};

string_enum! {
    /// What kind of identity it is (WorkOS lists OAuth ones only, for now).
    pub enum IdentityType {
        /// An account at an OAuth provider.
        OAuth => "OAuth",
    }
}

/// An identity linked to a user (`{idp_id, type, provider}`).
///
/// ```
/// use authkit_axum::client::{Identity, IdentityType};
/// let id: Identity = serde_json::from_str(
///     r#"{"idp_id": "108872335", "type": "OAuth", "provider": "GitHubOAuth"}"#,
/// ).unwrap();
/// assert_eq!(id.kind, IdentityType::OAuth);
/// assert_eq!(id.provider, "GitHubOAuth");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user's id at the provider.
    pub idp_id: String,
    /// The identity's type.
    #[serde(rename = "type")]
    pub kind: IdentityType,
    /// The provider's wire name (`GoogleOAuth`, `GitHubOAuth`, …; WorkOS
    /// has also written GitHub's as `GithubOAuth`).
    pub provider: String,
}

impl UserManagement {
    /// The identities linked to a user. `GET /user_management/users/{id}/identities`
    pub async fn get_user_identities(&self, user_id: &str) -> Result<Vec<Identity>, Error> {
        if user_id.is_empty() {
            return Err(Error::InvalidRequest(
                "get_user_identities needs a user id".into(),
            ));
        }
        self.send(Call::get(&[
            "user_management",
            "users",
            user_id,
            "identities",
        ]))
        .await
    }
}
