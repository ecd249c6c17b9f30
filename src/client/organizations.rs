//! Organizations: create, get (by id or external id), list, update, delete,
//! as the WorkOS SDKs' `Organizations` module has them (`/organizations`,
//! outside `/user_management`).

use std::collections::HashMap;

use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::pagination::{PaginationParams, paginated};
use super::types::{metadata_or_empty, string_enum};
use super::{Call, Error, List, UserManagement};

string_enum! {
    /// The state of an organization's domain. `Verified` and `Pending` are
    /// the two a domain can be created with ([`DomainData`]).
    pub enum OrganizationDomainState {
        /// Waiting for its DNS verification.
        Pending => "pending",
        /// Verified: sign-ins with this domain belong to the organization.
        Verified => "verified",
        /// Verification failed.
        Failed => "failed",
        /// Verified before WorkOS checked domains by DNS.
        LegacyVerified => "legacy_verified",
    }
}

string_enum! {
    /// How an organization's domain is (to be) verified.
    pub enum OrganizationDomainVerificationStrategy {
        /// A DNS TXT record holding the `verification_token`.
        Dns => "dns",
        /// Verified by hand, in the WorkOS dashboard or `domain_data`.
        Manual => "manual",
    }
}

/// A domain of an organization (`"object": "organization_domain"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationDomain {
    /// Always `"organization_domain"`.
    #[serde(default = "domain_object")]
    pub object: String,
    /// The domain's id (`org_domain_…`).
    pub id: String,
    /// The domain name, e.g. `example.com`.
    pub domain: String,
    /// The organization it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Its state (absent in some older answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<OrganizationDomainState>,
    /// How it is verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_strategy: Option<OrganizationDomainVerificationStrategy>,
    /// The value of the DNS TXT record that verifies it (a public value,
    /// published in DNS; not a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_token: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Last update time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

fn domain_object() -> String {
    "organization_domain".to_owned()
}

/// An organization (`"object": "organization"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    /// Always `"organization"`.
    #[serde(default = "organization_object")]
    pub object: String,
    /// The organization's id (`org_…`).
    pub id: String,
    /// Its name, what pages show (not necessarily unique).
    pub name: String,
    /// Its domains.
    #[serde(default)]
    pub domains: Vec<OrganizationDomain>,
    /// Your own identifier for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Key-value metadata, as WorkOS sent it (strings; a value of another
    /// JSON type is kept as it came, a `null` or non-object reads as empty).
    #[serde(
        default,
        deserialize_with = "metadata_or_empty",
        skip_serializing_if = "HashMap::is_empty"
    )]
    pub metadata: HashMap<String, serde_json::Value>,
    /// Deprecated by WorkOS: whether users outside its domains may sign in to it.
    #[serde(default)]
    pub allow_profiles_outside_organization: bool,
    /// Its Stripe customer id, when the Stripe integration is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_customer_id: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: String,
    /// Last update time (RFC 3339).
    #[serde(default)]
    pub updated_at: String,
}

fn organization_object() -> String {
    "organization".to_owned()
}

/// A domain to give an organization, with the state to create it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainData {
    /// The domain name, e.g. `example.com`.
    pub domain: String,
    /// [`Verified`](OrganizationDomainState::Verified) (you vouch for it) or
    /// [`Pending`](OrganizationDomainState::Pending) (to verify by DNS).
    pub state: OrganizationDomainState,
}

impl DomainData {
    /// A domain you vouch for.
    ///
    /// ```
    /// use authkit_axum::client::{DomainData, OrganizationDomainState};
    /// assert_eq!(DomainData::verified("acme.com").state, OrganizationDomainState::Verified);
    /// ```
    pub fn verified(domain: impl Into<String>) -> Self {
        DomainData {
            domain: domain.into(),
            state: OrganizationDomainState::Verified,
        }
    }

    /// A domain to verify by DNS.
    ///
    /// ```
    /// use authkit_axum::client::{DomainData, OrganizationDomainState};
    /// assert_eq!(DomainData::pending("acme.com").state, OrganizationDomainState::Pending);
    /// ```
    pub fn pending(domain: impl Into<String>) -> Self {
        DomainData {
            domain: domain.into(),
            state: OrganizationDomainState::Pending,
        }
    }
}

/// Parameters of [`UserManagement::create_organization`]. Unset fields are
/// left out of the request.
///
/// ```
/// use authkit_axum::client::{CreateOrganization, DomainData};
/// let params = CreateOrganization::new("Acme")
///     .with_domain(DomainData::verified("acme.com"))
///     .with_external_id("crm-42")
///     .with_metadata("plan", "pro");
/// assert_eq!(serde_json::to_value(&params).unwrap(), serde_json::json!({
///     "name": "Acme",
///     "domain_data": [{"domain": "acme.com", "state": "verified"}],
///     "external_id": "crm-42",
///     "metadata": {"plan": "pro"},
/// }));
/// ```
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateOrganization {
    /// The name (required).
    pub name: String,
    /// Its domains.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domain_data: Vec<DomainData>,
    /// Your own identifier for it (unique).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Key-value metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HashMap<String, String>>,
    /// Sent as the `Idempotency-Key` header, not in the body: WorkOS answers
    /// a repeat with the same key with the organization the first made, so
    /// the call is retried after any failure (without it, only when WorkOS
    /// certainly did not act).
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl CreateOrganization {
    /// An organization with just a name.
    ///
    /// ```
    /// use authkit_axum::client::CreateOrganization;
    /// assert_eq!(CreateOrganization::new("Acme").name, "Acme");
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        CreateOrganization {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Adds a domain.
    ///
    /// ```
    /// use authkit_axum::client::{CreateOrganization, DomainData};
    /// let params = CreateOrganization::new("Acme").with_domain(DomainData::pending("acme.com"));
    /// assert_eq!(params.domain_data.len(), 1);
    /// ```
    pub fn with_domain(mut self, domain: DomainData) -> Self {
        self.domain_data.push(domain);
        self
    }

    /// Sets your own identifier for it.
    ///
    /// ```
    /// use authkit_axum::client::CreateOrganization;
    /// let params = CreateOrganization::new("Acme").with_external_id("crm-42");
    /// assert_eq!(params.external_id.as_deref(), Some("crm-42"));
    /// ```
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// Sets a metadata key.
    ///
    /// ```
    /// use authkit_axum::client::CreateOrganization;
    /// let params = CreateOrganization::new("Acme").with_metadata("plan", "pro");
    /// assert_eq!(params.metadata.unwrap()["plan"], "pro");
    /// ```
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(HashMap::new)
            .insert(key.into(), value.into());
        self
    }

    /// Sends an `Idempotency-Key` header (e.g. your sign-up form's id), so
    /// that a retried or repeated create makes one organization.
    ///
    /// ```
    /// use authkit_axum::client::CreateOrganization;
    /// let params = CreateOrganization::new("Acme").with_idempotency_key("signup-7f3a");
    /// assert_eq!(params.idempotency_key.as_deref(), Some("signup-7f3a"));
    /// ```
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// Parameters of [`UserManagement::update_organization`].
///
/// A field left `None` is left unchanged; `Some(None)` clears it (sent as
/// `null`). `domain_data`, when given, replaces the organization's domains.
///
/// ```
/// use authkit_axum::client::UpdateOrganization;
/// let update = UpdateOrganization::new("org_123")
///     .with_name("Acme Inc.")
///     .with_metadata("plan", "enterprise")
///     .without_metadata("trial")
///     .without_external_id();
/// assert_eq!(serde_json::to_value(&update).unwrap(), serde_json::json!({
///     "name": "Acme Inc.",
///     "external_id": null,
///     "metadata": {"plan": "enterprise", "trial": null},
/// }));
/// ```
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateOrganization {
    /// The organization to update (part of the path, not the body).
    #[serde(skip)]
    pub organization_id: String,
    /// A new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The domains it should have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_data: Option<Vec<DomainData>>,
    /// Your own identifier for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Option<String>>,
    /// Key-value metadata (a key set to `null` is removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HashMap<String, Option<String>>>,
    /// Its Stripe customer id (needs the Stripe integration).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_customer_id: Option<Option<String>>,
}

impl UpdateOrganization {
    /// An update of `organization_id` that changes nothing yet.
    ///
    /// ```
    /// use authkit_axum::client::UpdateOrganization;
    /// let update = UpdateOrganization::new("org_123");
    /// assert_eq!(serde_json::to_value(&update).unwrap(), serde_json::json!({}));
    /// ```
    pub fn new(organization_id: impl Into<String>) -> Self {
        UpdateOrganization {
            organization_id: organization_id.into(),
            ..Default::default()
        }
    }

    /// Renames it.
    ///
    /// ```
    /// use authkit_axum::client::UpdateOrganization;
    /// let update = UpdateOrganization::new("org_123").with_name("Acme Inc.");
    /// assert_eq!(update.name.as_deref(), Some("Acme Inc."));
    /// ```
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Replaces its domains with these.
    ///
    /// ```
    /// use authkit_axum::client::{DomainData, UpdateOrganization};
    /// let update = UpdateOrganization::new("org_123").with_domains([DomainData::verified("acme.com")]);
    /// assert_eq!(update.domain_data.unwrap().len(), 1);
    /// ```
    pub fn with_domains(mut self, domains: impl IntoIterator<Item = DomainData>) -> Self {
        self.domain_data = Some(domains.into_iter().collect());
        self
    }

    /// Sets your own identifier for it.
    ///
    /// ```
    /// use authkit_axum::client::UpdateOrganization;
    /// let update = UpdateOrganization::new("org_123").with_external_id("crm-42");
    /// assert_eq!(update.external_id, Some(Some("crm-42".to_owned())));
    /// ```
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(Some(external_id.into()));
        self
    }

    /// Clears its external id (sends `null`).
    ///
    /// ```
    /// use authkit_axum::client::UpdateOrganization;
    /// let update = UpdateOrganization::new("org_123").without_external_id();
    /// assert_eq!(update.external_id, Some(None));
    /// ```
    pub fn without_external_id(mut self) -> Self {
        self.external_id = Some(None);
        self
    }

    /// Sets a metadata key.
    ///
    /// ```
    /// use authkit_axum::client::UpdateOrganization;
    /// let update = UpdateOrganization::new("org_123").with_metadata("plan", "pro");
    /// assert_eq!(update.metadata.unwrap()["plan"].as_deref(), Some("pro"));
    /// ```
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(HashMap::new)
            .insert(key.into(), Some(value.into()));
        self
    }

    /// Removes a metadata key (sends it as `null`).
    ///
    /// ```
    /// use authkit_axum::client::UpdateOrganization;
    /// let update = UpdateOrganization::new("org_123").without_metadata("trial");
    /// assert_eq!(update.metadata.unwrap()["trial"], None);
    /// ```
    pub fn without_metadata(mut self, key: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_with(HashMap::new)
            .insert(key.into(), None);
        self
    }
}

/// Parameters of [`UserManagement::list_organizations`].
///
/// ```
/// use authkit_axum::client::ListOrganizations;
/// let params = ListOrganizations::default().with_domain("acme.com");
/// assert_eq!(params.domains, ["acme.com"]);
/// ```
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListOrganizations {
    /// Only organizations with one of these domains (sent as `domains=a,b`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// Page size, cursors, order.
    #[serde(flatten)]
    pub pagination: PaginationParams,
}

impl ListOrganizations {
    /// Adds a domain to the filter.
    ///
    /// ```
    /// use authkit_axum::client::ListOrganizations;
    /// let params = ListOrganizations::default().with_domain("a.com").with_domain("b.com");
    /// assert_eq!(params.domains, ["a.com", "b.com"]);
    /// ```
    pub fn with_domain(mut self, domain: impl Into<String>) -> Self {
        self.domains.push(domain.into());
        self
    }
}

paginated!(ListOrganizations);

/// The `Idempotency-Key` header.
const IDEMPOTENCY_KEY: http::HeaderName = http::HeaderName::from_static("idempotency-key");

impl UserManagement {
    /// Creates an organization. `POST /organizations` (with the
    /// `Idempotency-Key` header when
    /// [`with_idempotency_key`](CreateOrganization::with_idempotency_key)
    /// set one).
    pub async fn create_organization(
        &self,
        params: &CreateOrganization,
    ) -> Result<Organization, Error> {
        let mut call = Call::post(&["organizations"]).json(params);
        if let Some(key) = &params.idempotency_key {
            let value = http::HeaderValue::from_str(key).map_err(|_| {
                Error::InvalidRequest(
                    "the idempotency key holds characters an HTTP header cannot carry".into(),
                )
            })?;
            // WorkOS answers a repeated key with the first answer: safe to retry.
            call = call.header(IDEMPOTENCY_KEY, value).idempotent();
        }
        self.send(call).await
    }

    /// Gets an organization by id. `GET /organizations/{id}`
    pub async fn get_organization(&self, organization_id: &str) -> Result<Organization, Error> {
        self.send(Call::get(&["organizations", organization_id]))
            .await
    }

    /// Gets an organization by your external id.
    /// `GET /organizations/external_id/{external_id}`
    pub async fn get_organization_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Organization, Error> {
        self.send(Call::get(&["organizations", "external_id", external_id]))
            .await
    }

    /// Lists organizations, one page. `GET /organizations`
    pub async fn list_organizations(
        &self,
        params: &ListOrganizations,
    ) -> Result<List<Organization>, Error> {
        self.send(Call::get(&["organizations"]).query(params)).await
    }

    /// Lists all organizations, walking every page.
    pub fn list_organizations_stream(
        &self,
        params: ListOrganizations,
    ) -> impl Stream<Item = Result<Organization, Error>> + Send + 'static + use<> {
        self.list_stream(&["organizations"], params)
    }

    /// Updates an organization. `PUT /organizations/{id}`
    pub async fn update_organization(
        &self,
        params: &UpdateOrganization,
    ) -> Result<Organization, Error> {
        self.send(Call::put(&["organizations", &params.organization_id]).json(params))
            .await
    }

    /// Deletes an organization (for good). `DELETE /organizations/{id}`
    pub async fn delete_organization(&self, organization_id: &str) -> Result<(), Error> {
        self.send(Call::delete(&["organizations", organization_id]))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_reads_the_sdk_fixture_shape_without_timestamps() {
        // workos-node's src/organizations/fixtures/get-organization.json shape.
        let org: Organization = serde_json::from_value(serde_json::json!({
            "name": "Test Organization 3", "object": "organization",
            "id": "org_01EHT88Z8J8795GZNQ4ZP1J81T",
            "allow_profiles_outside_organization": false,
            "domains": [{"domain": "example.com", "object": "organization_domain",
                "id": "org_domain_01EHT88Z8WZEFWYPM6EC9BX2R8", "state": "verified",
                "verification_strategy": "dns", "verification_token": "xB8SeACdKJQP9DP4CahU4YuQZ"}],
            "metadata": null
        }))
        .unwrap();
        assert_eq!(org.name, "Test Organization 3");
        let domain = &org.domains[0];
        assert_eq!(domain.state, Some(OrganizationDomainState::Verified));
        assert_eq!(
            domain.verification_strategy,
            Some(OrganizationDomainVerificationStrategy::Dns)
        );
        assert!(org.metadata.is_empty());
        assert_eq!(org.created_at, "");
    }

    #[test]
    fn an_unknown_domain_state_parses_into_other() {
        let s: OrganizationDomainState = serde_json::from_str("\"quarantined\"").unwrap();
        assert_eq!(s, OrganizationDomainState::Other("quarantined".into()));
    }
}
