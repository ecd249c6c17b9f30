//! Organization memberships.

use futures_util::Stream;
use serde::Serialize;

use super::pagination::{PaginationParams, paginated};
use super::{
    Call, Error, List, OrganizationMembership, OrganizationMembershipStatus, UserManagement,
};

/// Parameters of [`UserManagement::create_organization_membership`].
/// Give `role_slug` or `role_slugs`, not both.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateOrganizationMembership {
    /// The user.
    pub user_id: String,
    /// The organization.
    pub organization_id: String,
    /// One role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_slug: Option<String>,
    /// Several roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_slugs: Option<Vec<String>>,
}

/// Parameters of [`UserManagement::update_organization_membership`].
/// Give `role_slug` or `role_slugs`, not both.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateOrganizationMembership {
    /// The membership (part of the path).
    #[serde(skip)]
    pub organization_membership_id: String,
    /// One role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_slug: Option<String>,
    /// Several roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_slugs: Option<Vec<String>>,
}

/// Parameters of [`UserManagement::list_organization_memberships`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListOrganizationMemberships {
    /// Only this user's memberships.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Only this organization's memberships.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Only memberships in these states (sent as `statuses=a,b`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<OrganizationMembershipStatus>,
    /// Page size, cursors, order.
    #[serde(flatten)]
    pub pagination: PaginationParams,
}

paginated!(ListOrganizationMemberships);

fn check_roles(role_slug: &Option<String>, role_slugs: &Option<Vec<String>>) -> Result<(), Error> {
    if role_slug.is_some() && role_slugs.is_some() {
        return Err(Error::InvalidRequest(
            "give role_slug or role_slugs, not both".into(),
        ));
    }
    Ok(())
}

impl UserManagement {
    /// Adds a user to an organization. `POST /user_management/organization_memberships`
    pub async fn create_organization_membership(
        &self,
        params: &CreateOrganizationMembership,
    ) -> Result<OrganizationMembership, Error> {
        check_roles(&params.role_slug, &params.role_slugs)?;
        self.send(Call::post(&["user_management", "organization_memberships"]).json(params))
            .await
    }

    /// Gets a membership. `GET /user_management/organization_memberships/{id}`
    pub async fn get_organization_membership(
        &self,
        organization_membership_id: &str,
    ) -> Result<OrganizationMembership, Error> {
        self.send(Call::get(&[
            "user_management",
            "organization_memberships",
            organization_membership_id,
        ]))
        .await
    }

    /// Lists memberships, one page. `GET /user_management/organization_memberships`
    pub async fn list_organization_memberships(
        &self,
        params: &ListOrganizationMemberships,
    ) -> Result<List<OrganizationMembership>, Error> {
        self.send(Call::get(&["user_management", "organization_memberships"]).query(params))
            .await
    }

    /// Lists all memberships, walking every page.
    pub fn list_organization_memberships_stream(
        &self,
        params: ListOrganizationMemberships,
    ) -> impl Stream<Item = Result<OrganizationMembership, Error>> + Send + 'static + use<> {
        self.list_stream(&["user_management", "organization_memberships"], params)
    }

    /// Changes a membership's role(s). `PUT /user_management/organization_memberships/{id}`
    pub async fn update_organization_membership(
        &self,
        params: &UpdateOrganizationMembership,
    ) -> Result<OrganizationMembership, Error> {
        check_roles(&params.role_slug, &params.role_slugs)?;
        self.send(
            Call::put(&[
                "user_management",
                "organization_memberships",
                &params.organization_membership_id,
            ])
            .json(params),
        )
        .await
    }

    /// Removes a membership. `DELETE /user_management/organization_memberships/{id}`
    pub async fn delete_organization_membership(
        &self,
        organization_membership_id: &str,
    ) -> Result<(), Error> {
        self.send(Call::delete(&[
            "user_management",
            "organization_memberships",
            organization_membership_id,
        ]))
        .await
    }

    /// Deactivates a membership (kept, but no longer grants access).
    /// `PUT /user_management/organization_memberships/{id}/deactivate`
    pub async fn deactivate_organization_membership(
        &self,
        organization_membership_id: &str,
    ) -> Result<OrganizationMembership, Error> {
        self.send(Call::put(&[
            "user_management",
            "organization_memberships",
            organization_membership_id,
            "deactivate",
        ]))
        .await
    }

    /// Reactivates a deactivated membership.
    /// `PUT /user_management/organization_memberships/{id}/reactivate`
    pub async fn reactivate_organization_membership(
        &self,
        organization_membership_id: &str,
    ) -> Result<OrganizationMembership, Error> {
        self.send(Call::put(&[
            "user_management",
            "organization_memberships",
            organization_membership_id,
            "reactivate",
        ]))
        .await
    }
}
