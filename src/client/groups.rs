//! The groups an organization membership belongs to:
//! `GET /user_management/organization_memberships/{id}/groups`, as
//! workos-node's `listGroupsForOrganizationMembership` calls it (the Groups
//! API itself — creating groups, adding members — is not covered).

use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::pagination::{PaginationParams, paginated};
use super::{Call, Error, List, UserManagement};

/// A group of an organization's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group's id (`group_…`).
    pub id: String,
    /// The organization it belongs to.
    pub organization_id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update time (RFC 3339).
    pub updated_at: String,
}

/// Parameters of [`UserManagement::list_groups_for_organization_membership`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListGroupsForOrganizationMembership {
    /// The membership (`om_…`; part of the path).
    #[serde(skip)]
    pub organization_membership_id: String,
    /// Page size, cursors, order.
    #[serde(flatten)]
    pub pagination: PaginationParams,
}

impl ListGroupsForOrganizationMembership {
    /// The first page of `organization_membership_id`'s groups.
    pub fn new(organization_membership_id: impl Into<String>) -> Self {
        ListGroupsForOrganizationMembership {
            organization_membership_id: organization_membership_id.into(),
            pagination: PaginationParams::default(),
        }
    }
}

paginated!(ListGroupsForOrganizationMembership);

impl UserManagement {
    /// Lists the groups a membership belongs to, one page.
    /// `GET /user_management/organization_memberships/{id}/groups`
    pub async fn list_groups_for_organization_membership(
        &self,
        params: &ListGroupsForOrganizationMembership,
    ) -> Result<List<Group>, Error> {
        let id = &params.organization_membership_id;
        self.send(
            Call::get(&["user_management", "organization_memberships", id, "groups"]).query(params),
        )
        .await
    }

    /// Lists all the groups a membership belongs to, walking every page.
    pub fn list_groups_for_organization_membership_stream(
        &self,
        params: ListGroupsForOrganizationMembership,
    ) -> impl Stream<Item = Result<Group, Error>> + Send + 'static + use<> {
        let id = params.organization_membership_id.clone();
        self.list_stream(
            &["user_management", "organization_memberships", &id, "groups"],
            params,
        )
    }
}
