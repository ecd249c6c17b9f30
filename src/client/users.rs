//! Users: create, get, list, update, delete.

use std::collections::HashMap;

use futures_util::Stream;
use serde::Serialize;

use super::pagination::{PaginationParams, paginated};
use super::{Call, Error, List, PasswordHashType, User, UserManagement};
use crate::Secret;

/// Parameters of [`UserManagement::create_user`]. Unset fields are left out
/// of the request.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CreateUser {
    /// Email address (required).
    pub email: String,
    /// A password to set.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub password: Option<Secret>,
    /// An imported password hash, instead of a password.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub password_hash: Option<Secret>,
    /// The imported hash's algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash_type: Option<PasswordHashType>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Mark the email address as verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Your own identifier for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Key-value metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HashMap<String, String>>,
}

impl CreateUser {
    /// A user with just an email address.
    pub fn new(email: impl Into<String>) -> Self {
        CreateUser {
            email: email.into(),
            ..Default::default()
        }
    }
}

/// Parameters of [`UserManagement::update_user`].
///
/// Each field is `None` to leave it unchanged, `Some(None)` to clear it
/// (sent as `null`) and `Some(Some(v))` to set it; the builder methods say the
/// same more readably.
///
/// ```
/// use authkit_axum::client::UpdateUser;
/// let update = UpdateUser::new("user_123").first_name("Jane").clear_external_id();
/// let body = serde_json::to_value(&update).unwrap();
/// assert_eq!(body, serde_json::json!({"first_name": "Jane", "external_id": null}));
/// ```
#[derive(Debug, Clone, Default, Serialize)]
pub struct UpdateUser {
    /// The user to update (part of the path, not the body).
    #[serde(skip)]
    pub user_id: String,
    /// Email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// First name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Option<String>>,
    /// Last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Option<String>>,
    /// Whether the email address is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// A new password.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub password: Option<Secret>,
    /// An imported password hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub password_hash: Option<Secret>,
    /// The imported hash's algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash_type: Option<PasswordHashType>,
    /// Your own identifier for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Option<String>>,
    /// Key-value metadata (a key set to `null` is removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<HashMap<String, Option<String>>>,
    /// Preferred locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<Option<String>>,
}

impl UpdateUser {
    /// An update of `user_id` that changes nothing yet.
    pub fn new(user_id: impl Into<String>) -> Self {
        UpdateUser {
            user_id: user_id.into(),
            ..Default::default()
        }
    }

    /// Sets the email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the first name.
    pub fn first_name(mut self, v: impl Into<String>) -> Self {
        self.first_name = Some(Some(v.into()));
        self
    }

    /// Sets the last name.
    pub fn last_name(mut self, v: impl Into<String>) -> Self {
        self.last_name = Some(Some(v.into()));
        self
    }

    /// Sets whether the email address is verified.
    pub fn email_verified(mut self, v: bool) -> Self {
        self.email_verified = Some(v);
        self
    }

    /// Sets a new password.
    pub fn password(mut self, v: impl Into<Secret>) -> Self {
        self.password = Some(v.into());
        self
    }

    /// Sets the external id.
    pub fn external_id(mut self, v: impl Into<String>) -> Self {
        self.external_id = Some(Some(v.into()));
        self
    }

    /// Clears the external id (sends `null`).
    pub fn clear_external_id(mut self) -> Self {
        self.external_id = Some(None);
        self
    }

    /// Sets the locale.
    pub fn locale(mut self, v: impl Into<String>) -> Self {
        self.locale = Some(Some(v.into()));
        self
    }
}

/// Parameters of [`UserManagement::list_users`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListUsers {
    /// Only the user with this email address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Only members of this organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// Page size, cursors, order.
    #[serde(flatten)]
    pub pagination: PaginationParams,
}

paginated!(ListUsers);

impl UserManagement {
    /// Creates a user. `POST /user_management/users`
    pub async fn create_user(&self, params: &CreateUser) -> Result<User, Error> {
        self.send(Call::post(&["user_management", "users"]).json(params))
            .await
    }

    /// Gets a user by id. `GET /user_management/users/{id}`
    pub async fn get_user(&self, user_id: &str) -> Result<User, Error> {
        self.send(Call::get(&["user_management", "users", user_id]))
            .await
    }

    /// Gets a user by your external id. `GET /user_management/users/external_id/{id}`
    pub async fn get_user_by_external_id(&self, external_id: &str) -> Result<User, Error> {
        self.send(Call::get(&[
            "user_management",
            "users",
            "external_id",
            external_id,
        ]))
        .await
    }

    /// Lists users, one page. `GET /user_management/users`
    pub async fn list_users(&self, params: &ListUsers) -> Result<List<User>, Error> {
        self.send(Call::get(&["user_management", "users"]).query(params))
            .await
    }

    /// Lists all users, walking every page.
    pub fn list_users_stream(
        &self,
        params: ListUsers,
    ) -> impl Stream<Item = Result<User, Error>> + Send + 'static + use<> {
        self.list_stream(&["user_management", "users"], params)
    }

    /// Updates a user. `PUT /user_management/users/{id}`
    pub async fn update_user(&self, params: &UpdateUser) -> Result<User, Error> {
        self.send(Call::put(&["user_management", "users", &params.user_id]).json(params))
            .await
    }

    /// Deletes a user. `DELETE /user_management/users/{id}`
    pub async fn delete_user(&self, user_id: &str) -> Result<(), Error> {
        self.send(Call::delete(&["user_management", "users", user_id]))
            .await
    }
}
