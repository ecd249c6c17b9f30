//! Password resets.

use serde::Serialize;

use super::types::UserEnvelope;
use super::{Call, Error, PasswordReset, User, UserManagement};
use crate::Secret;

/// Parameters of [`UserManagement::reset_password`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResetPassword {
    /// The token from the reset email / [`PasswordReset`].
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub token: Secret,
    /// The new password.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub new_password: Secret,
}

/// Parameters of [`UserManagement::send_password_reset_email`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct SendPasswordResetEmail {
    /// The user's email address.
    pub email: String,
    /// Your reset page; WorkOS appends `?token=…`.
    pub password_reset_url: String,
}

#[derive(Serialize)]
struct CreatePasswordReset<'a> {
    email: &'a str,
}

impl UserManagement {
    /// Creates a password reset token (and emails it).
    /// `POST /user_management/password_reset`
    pub async fn create_password_reset(&self, email: &str) -> Result<PasswordReset, Error> {
        self.send(
            Call::post(&["user_management", "password_reset"]).json(&CreatePasswordReset { email }),
        )
        .await
    }

    /// Gets a password reset. `GET /user_management/password_reset/{id}`
    pub async fn get_password_reset(
        &self,
        password_reset_id: &str,
    ) -> Result<PasswordReset, Error> {
        self.send(Call::get(&[
            "user_management",
            "password_reset",
            password_reset_id,
        ]))
        .await
    }

    /// Sets a new password with a reset token.
    /// `POST /user_management/password_reset/confirm`
    pub async fn reset_password(&self, params: &ResetPassword) -> Result<User, Error> {
        let envelope: UserEnvelope = self
            .send(Call::post(&["user_management", "password_reset", "confirm"]).json(params))
            .await?;
        Ok(envelope.user)
    }

    /// Emails a password reset link. `POST /user_management/password_reset/send`
    #[deprecated(note = "use create_password_reset, as the WorkOS SDKs do")]
    pub async fn send_password_reset_email(
        &self,
        params: &SendPasswordResetEmail,
    ) -> Result<(), Error> {
        self.send(Call::post(&["user_management", "password_reset", "send"]).json(params))
            .await
    }
}
