//! Changing a user's email address with a code sent to the new one:
//! `POST /user_management/users/{id}/email_change/send`, then
//! `…/email_change/confirm`, as workos-ruby's `send_email_change` and
//! `confirm_email_change` call them (workos-node has the same shapes as
//! `SendEmailChange` / `EmailChangeConfirmation`).

use serde::{Deserialize, Serialize};

use super::{Call, Error, User, UserManagement};
use crate::Secret;

/// The answer to [`UserManagement::send_email_change`]: the code is on its
/// way to `new_email`; the user keeps the old address until it is confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailChange {
    /// The user, still with the old address.
    pub user: User,
    /// The address the code was sent to.
    pub new_email: String,
    /// When the code expires (RFC 3339).
    pub expires_at: String,
    /// When the change was started (RFC 3339).
    pub created_at: String,
}

/// The answer to [`UserManagement::confirm_email_change`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailChangeConfirmation {
    /// The user, with the new address.
    pub user: User,
}

#[derive(Serialize)]
struct SendBody<'a> {
    new_email: &'a str,
}

#[derive(Serialize)]
struct ConfirmBody<'a> {
    code: &'a str,
}

impl UserManagement {
    /// Emails a one-time code to `new_email`, which becomes the user's
    /// address once [`confirm_email_change`](Self::confirm_email_change)
    /// gets the code. `POST /user_management/users/{id}/email_change/send`
    pub async fn send_email_change(
        &self,
        user_id: &str,
        new_email: &str,
    ) -> Result<EmailChange, Error> {
        self.send(
            Call::post(&["user_management", "users", user_id, "email_change", "send"])
                .json(&SendBody { new_email }),
        )
        .await
    }

    /// Confirms an email change with the code sent to the new address.
    /// `POST /user_management/users/{id}/email_change/confirm`
    pub async fn confirm_email_change(
        &self,
        user_id: &str,
        code: &Secret,
    ) -> Result<EmailChangeConfirmation, Error> {
        self.send(
            Call::post(&[
                "user_management",
                "users",
                user_id,
                "email_change",
                "confirm",
            ])
            .json(&ConfirmBody {
                code: code.expose(),
            }),
        )
        .await
    }
}
