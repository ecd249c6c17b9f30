//! Magic auth: one-time sign-in codes sent by email.

use serde::Serialize;

use super::{Call, Error, MagicAuth, UserManagement};
use crate::Secret;

/// Parameters of [`UserManagement::create_magic_auth`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateMagicAuth {
    /// Who to send the code to.
    pub email: String,
    /// Invitation to accept with the sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub invitation_token: Option<Secret>,
}

#[derive(Serialize)]
struct SendMagicAuthCode<'a> {
    email: &'a str,
}

impl UserManagement {
    /// Creates a magic-auth code (and emails it, unless you send your own
    /// email). `POST /user_management/magic_auth`
    pub async fn create_magic_auth(&self, params: &CreateMagicAuth) -> Result<MagicAuth, Error> {
        self.send(Call::post(&["user_management", "magic_auth"]).json(params))
            .await
    }

    /// Gets a magic-auth code. `GET /user_management/magic_auth/{id}`
    pub async fn get_magic_auth(&self, magic_auth_id: &str) -> Result<MagicAuth, Error> {
        self.send(Call::get(&["user_management", "magic_auth", magic_auth_id]))
            .await
    }

    /// Emails a magic-auth code. `POST /user_management/magic_auth/send`
    #[deprecated(note = "use create_magic_auth, as the WorkOS SDKs do")]
    pub async fn send_magic_auth_code(&self, email: &str) -> Result<(), Error> {
        self.send(
            Call::post(&["user_management", "magic_auth", "send"])
                .json(&SendMagicAuthCode { email }),
        )
        .await
    }
}
