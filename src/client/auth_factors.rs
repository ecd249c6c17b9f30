//! Second factors (TOTP).

use futures_util::Stream;
use serde::Serialize;

use super::pagination::{PaginationParams, paginated};
use super::{
    AuthenticationFactor, AuthenticationFactorType, Call, EnrolledAuthFactor, Error, List,
    UserManagement,
};
use crate::Secret;

/// Parameters of [`UserManagement::enroll_auth_factor`].
#[derive(Debug, Clone, Serialize)]
pub struct EnrollAuthFactor {
    /// The user (part of the path).
    #[serde(skip)]
    pub user_id: String,
    /// The factor type; only TOTP can be enrolled through User Management.
    #[serde(rename = "type")]
    pub kind: AuthenticationFactorType,
    /// The issuer authenticator apps show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_issuer: Option<String>,
    /// The account name authenticator apps show.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_user: Option<String>,
    /// A shared secret to use instead of a generated one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub totp_secret: Option<Secret>,
}

impl EnrollAuthFactor {
    /// A TOTP factor for `user_id`.
    pub fn totp(user_id: impl Into<String>) -> Self {
        EnrollAuthFactor {
            user_id: user_id.into(),
            kind: AuthenticationFactorType::Totp,
            totp_issuer: None,
            totp_user: None,
            totp_secret: None,
        }
    }
}

/// Parameters of [`UserManagement::list_auth_factors`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListAuthFactors {
    /// The user (part of the path).
    #[serde(skip)]
    pub user_id: String,
    /// Page size, cursors, order.
    #[serde(flatten)]
    pub pagination: PaginationParams,
}

impl ListAuthFactors {
    /// The first page of `user_id`'s factors.
    pub fn new(user_id: impl Into<String>) -> Self {
        ListAuthFactors {
            user_id: user_id.into(),
            pagination: PaginationParams::default(),
        }
    }
}

paginated!(ListAuthFactors);

impl UserManagement {
    /// Enrolls a TOTP factor and returns it with a first challenge.
    /// `POST /user_management/users/{id}/auth_factors`
    pub async fn enroll_auth_factor(
        &self,
        params: &EnrollAuthFactor,
    ) -> Result<EnrolledAuthFactor, Error> {
        if params.kind != AuthenticationFactorType::Totp {
            return Err(Error::InvalidRequest(format!(
                "unsupported factor type {:?}: only totp can be enrolled",
                params.kind.as_str()
            )));
        }
        self.send(
            Call::post(&["user_management", "users", &params.user_id, "auth_factors"]).json(params),
        )
        .await
    }

    /// Lists a user's factors, one page.
    /// `GET /user_management/users/{id}/auth_factors`
    pub async fn list_auth_factors(
        &self,
        params: &ListAuthFactors,
    ) -> Result<List<AuthenticationFactor>, Error> {
        self.send(
            Call::get(&["user_management", "users", &params.user_id, "auth_factors"]).query(params),
        )
        .await
    }

    /// Lists all of a user's factors, walking every page.
    pub fn list_auth_factors_stream(
        &self,
        params: ListAuthFactors,
    ) -> impl Stream<Item = Result<AuthenticationFactor, Error>> + Send + 'static + use<> {
        let user_id = params.user_id.clone();
        self.list_stream(
            &["user_management", "users", &user_id, "auth_factors"],
            params,
        )
    }
}
