//! Second factors (TOTP): enrolling and listing a user's factors (User
//! Management), and the MFA API's calls a sign-in with a second factor
//! needs: challenge a factor, verify a challenge, get and delete a factor.

use futures_util::Stream;
use serde::{Deserialize, Serialize};

use super::pagination::{PaginationParams, paginated};
use super::{
    AuthenticationChallenge, AuthenticationFactor, AuthenticationFactorType, Call,
    EnrolledAuthFactor, Error, List, UserManagement,
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

/// Parameters of [`UserManagement::challenge_auth_factor`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChallengeAuthFactor {
    /// The factor to challenge (part of the path): one of
    /// [`MfaChallenge::authentication_factors`](super::MfaChallenge::authentication_factors).
    #[serde(skip)]
    pub authentication_factor_id: String,
    /// For SMS factors: the message, with `{{code}}` where the code goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_template: Option<String>,
}

impl ChallengeAuthFactor {
    /// A challenge of the factor `authentication_factor_id`.
    pub fn new(authentication_factor_id: impl Into<String>) -> Self {
        ChallengeAuthFactor {
            authentication_factor_id: authentication_factor_id.into(),
            sms_template: None,
        }
    }
}

/// Parameters of [`UserManagement::verify_auth_challenge`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyAuthChallenge {
    /// The challenge (part of the path).
    #[serde(skip)]
    pub authentication_challenge_id: String,
    /// The code the user typed.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub code: Secret,
}

/// The answer to [`UserManagement::verify_auth_challenge`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifiedAuthChallenge {
    /// The challenge that was verified.
    pub challenge: AuthenticationChallenge,
    /// Whether the code was right.
    pub valid: bool,
}

impl UserManagement {
    // ---- the MFA API (`/auth/factors`, `/auth/challenges`) ----

    /// Creates a challenge for a factor: what
    /// [`authenticate_with_totp`](Self::authenticate_with_totp) answers
    /// after an [`Error::MfaChallenge`].
    /// `POST /auth/factors/{id}/challenge`
    ///
    /// ```no_run
    /// # async fn run(workos: authkit_axum::client::UserManagement, e: authkit_axum::client::MfaChallenge) -> Result<(), authkit_axum::client::Error> {
    /// use authkit_axum::client::ChallengeAuthFactor;
    /// let factor = &e.authentication_factors[0];
    /// let challenge = workos.challenge_auth_factor(&ChallengeAuthFactor::new(&factor.id)).await?;
    /// // then authenticate_with_totp with challenge.id, the code and e.pending_authentication_token
    /// # let _ = challenge; Ok(()) }
    /// ```
    pub async fn challenge_auth_factor(
        &self,
        params: &ChallengeAuthFactor,
    ) -> Result<AuthenticationChallenge, Error> {
        self.send(
            Call::post(&[
                "auth",
                "factors",
                &params.authentication_factor_id,
                "challenge",
            ])
            .json(params),
        )
        .await
    }

    /// Checks a code against a challenge, outside a sign-in (e.g. to confirm
    /// a new factor, or to re-check a signed-in user).
    /// `POST /auth/challenges/{id}/verify`
    pub async fn verify_auth_challenge(
        &self,
        params: &VerifyAuthChallenge,
    ) -> Result<VerifiedAuthChallenge, Error> {
        self.send(
            Call::post(&[
                "auth",
                "challenges",
                &params.authentication_challenge_id,
                "verify",
            ])
            .json(params),
        )
        .await
    }

    /// Gets a factor. `GET /auth/factors/{id}`
    pub async fn get_auth_factor(&self, factor_id: &str) -> Result<AuthenticationFactor, Error> {
        self.send(Call::get(&["auth", "factors", factor_id])).await
    }

    /// Deletes a factor for good. `DELETE /auth/factors/{id}`
    pub async fn delete_auth_factor(&self, factor_id: &str) -> Result<(), Error> {
        self.send(Call::delete(&["auth", "factors", factor_id]))
            .await
    }
}

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
