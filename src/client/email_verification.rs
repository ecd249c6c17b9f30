//! Email verification.

use serde::Serialize;

use super::types::UserEnvelope;
use super::{Call, EmailVerification, Error, User, UserManagement};
use crate::Secret;

/// Parameters of [`UserManagement::verify_email`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyEmail {
    /// The user being verified (part of the path).
    #[serde(skip)]
    pub user_id: String,
    /// The one-time code from the email.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub code: Secret,
}

impl UserManagement {
    /// Emails the user a verification code.
    /// `POST /user_management/users/{id}/email_verification/send`
    pub async fn send_verification_email(&self, user_id: &str) -> Result<User, Error> {
        let envelope: UserEnvelope = self
            .send(Call::post(&[
                "user_management",
                "users",
                user_id,
                "email_verification",
                "send",
            ]))
            .await?;
        Ok(envelope.user)
    }

    /// Verifies the user's email address with the code.
    /// `POST /user_management/users/{id}/email_verification/confirm`
    pub async fn verify_email(&self, params: &VerifyEmail) -> Result<User, Error> {
        let envelope: UserEnvelope = self
            .send(
                Call::post(&[
                    "user_management",
                    "users",
                    &params.user_id,
                    "email_verification",
                    "confirm",
                ])
                .json(params),
            )
            .await?;
        Ok(envelope.user)
    }

    /// Gets an email verification. `GET /user_management/email_verification/{id}`
    pub async fn get_email_verification(
        &self,
        email_verification_id: &str,
    ) -> Result<EmailVerification, Error> {
        self.send(Call::get(&[
            "user_management",
            "email_verification",
            email_verification_id,
        ]))
        .await
    }
}
