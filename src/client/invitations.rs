//! Invitations.

use futures_util::Stream;
use serde::Serialize;

use super::pagination::{PaginationParams, paginated};
use super::{Call, Error, Invitation, List, UserManagement};

/// Parameters of [`UserManagement::send_invitation`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct SendInvitation {
    /// Who to invite.
    pub email: String,
    /// The organization to invite them to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Days until the invitation expires (WorkOS default 7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
    /// The user sending it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inviter_user_id: Option<String>,
    /// The role the invitee gets in the organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_slug: Option<String>,
    /// The language of the invitation email (`en`, `fr`, `de`, `es`, …: one
    /// of AuthKit's supported locales); WorkOS's default when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

#[derive(Serialize)]
struct Resend<'a> {
    locale: &'a str,
}

/// Parameters of [`UserManagement::list_invitations`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListInvitations {
    /// Only invitations to this address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Only invitations to this organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Page size, cursors, order.
    #[serde(flatten)]
    pub pagination: PaginationParams,
}

paginated!(ListInvitations);

impl UserManagement {
    /// Sends an invitation. `POST /user_management/invitations`
    pub async fn send_invitation(&self, params: &SendInvitation) -> Result<Invitation, Error> {
        self.send(Call::post(&["user_management", "invitations"]).json(params))
            .await
    }

    /// Gets an invitation. `GET /user_management/invitations/{id}`
    pub async fn get_invitation(&self, invitation_id: &str) -> Result<Invitation, Error> {
        self.send(Call::get(&[
            "user_management",
            "invitations",
            invitation_id,
        ]))
        .await
    }

    /// Finds an invitation by its token.
    /// `GET /user_management/invitations/by_token/{token}`
    pub async fn find_invitation_by_token(&self, token: &str) -> Result<Invitation, Error> {
        self.send(Call::get(&[
            "user_management",
            "invitations",
            "by_token",
            token,
        ]))
        .await
    }

    /// Lists invitations, one page. `GET /user_management/invitations`
    pub async fn list_invitations(
        &self,
        params: &ListInvitations,
    ) -> Result<List<Invitation>, Error> {
        self.send(Call::get(&["user_management", "invitations"]).query(params))
            .await
    }

    /// Lists all invitations, walking every page.
    pub fn list_invitations_stream(
        &self,
        params: ListInvitations,
    ) -> impl Stream<Item = Result<Invitation, Error>> + Send + 'static + use<> {
        self.list_stream(&["user_management", "invitations"], params)
    }

    /// Revokes an invitation. `POST /user_management/invitations/{id}/revoke`
    pub async fn revoke_invitation(&self, invitation_id: &str) -> Result<Invitation, Error> {
        self.send(Call::post(&[
            "user_management",
            "invitations",
            invitation_id,
            "revoke",
        ]))
        .await
    }

    /// Sends a pending invitation again. `POST /user_management/invitations/{id}/resend`
    pub async fn resend_invitation(&self, invitation_id: &str) -> Result<Invitation, Error> {
        self.send(Call::post(&[
            "user_management",
            "invitations",
            invitation_id,
            "resend",
        ]))
        .await
    }

    /// Sends a pending invitation again, in another language (`locale` as in
    /// [`SendInvitation::locale`]). `POST /user_management/invitations/{id}/resend`
    pub async fn resend_invitation_with_locale(
        &self,
        invitation_id: &str,
        locale: &str,
    ) -> Result<Invitation, Error> {
        self.send(
            Call::post(&["user_management", "invitations", invitation_id, "resend"])
                .json(&Resend { locale }),
        )
        .await
    }

    /// Accepts an invitation on the invitee's behalf.
    /// `POST /user_management/invitations/{id}/accept`
    pub async fn accept_invitation(&self, invitation_id: &str) -> Result<Invitation, Error> {
        self.send(Call::post(&[
            "user_management",
            "invitations",
            invitation_id,
            "accept",
        ]))
        .await
    }
}
