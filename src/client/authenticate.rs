//! The seven `authenticate_with_*` grants: one endpoint, one body shape
//! (`client_id`, `client_secret`, `grant_type` + the grant's fields).
//!
//! A public client (no API key) sends no `client_secret` and no
//! `Authorization` header, as workos-node 8+ and workos-ruby do: WorkOS
//! accepts that for a code exchange with a PKCE verifier and for a refresh;
//! the other grants need the key and answer [`Error::MissingApiKey`]
//! without a request.

use std::time::Duration;

use serde::Serialize;

use super::{AuthenticationResponse, Call, Error, UserManagement};
use crate::Secret;

/// Parameters of [`UserManagement::authenticate_with_password`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithPassword {
    /// The user's email address.
    pub email: String,
    /// The user's password.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub password: Secret,
    /// Invitation to accept while signing in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub invitation_token: Option<Secret>,
    /// The client's IP address, for WorkOS's session records and Radar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// Parameters of [`UserManagement::authenticate_with_code`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithCode {
    /// The code AuthKit sent to the redirect URI.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub code: Secret,
    /// The PKCE verifier, when the authorization URL carried a challenge.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub code_verifier: Option<Secret>,
    /// Invitation to accept while signing in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub invitation_token: Option<Secret>,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// Parameters of [`UserManagement::authenticate_with_refresh_token`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithRefreshToken {
    /// The refresh token (single use).
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub refresh_token: Secret,
    /// Switch the session to this organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// Parameters of [`UserManagement::authenticate_with_magic_auth`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithMagicAuth {
    /// The one-time code from the email.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub code: Secret,
    /// The user's email address.
    pub email: String,
    /// Invitation to accept while signing in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub invitation_token: Option<Secret>,
    /// Links the sign-in to an earlier authorization code.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub link_authorization_code: Option<Secret>,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// Parameters of [`UserManagement::authenticate_with_email_verification`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithEmailVerification {
    /// The one-time code from the verification email.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub code: Secret,
    /// From [`Error::EmailVerificationRequired`].
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub pending_authentication_token: Secret,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// Parameters of [`UserManagement::authenticate_with_totp`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithTotp {
    /// The six-digit code from the authenticator app.
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub code: Secret,
    /// The challenge being answered.
    pub authentication_challenge_id: String,
    /// From [`Error::MfaChallenge`] or [`Error::MfaEnrollment`].
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub pending_authentication_token: Secret,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// Parameters of [`UserManagement::authenticate_with_organization_selection`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthenticateWithOrganizationSelection {
    /// The organization the user picked.
    pub organization_id: String,
    /// From [`Error::OrganizationSelectionRequired`].
    #[serde(serialize_with = "Secret::serialize_exposed")]
    pub pending_authentication_token: Secret,
    /// The client's IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The client's user agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// How long after a first refresh attempt a repeat is still sent: WorkOS is
/// understood to answer a replayed refresh token with the same new pair for
/// about 30 s after its first use (the emulator models exactly that). The
/// repeat must land well inside that window, so this is shorter.
pub const REFRESH_REPLAY_WINDOW: Duration = Duration::from_secs(20);

#[derive(Serialize)]
struct Grant<'a, P: Serialize> {
    client_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    grant_type: &'static str,
    #[serde(flatten)]
    params: &'a P,
}

impl UserManagement {
    /// One grant. `public`: a public client may make it without the key
    /// (the code exchange with a verifier, the refresh).
    async fn authenticate<P: Serialize>(
        &self,
        grant_type: &'static str,
        params: &P,
        replay_window: Option<Duration>,
        public: bool,
    ) -> Result<AuthenticationResponse, Error> {
        let body = Grant {
            client_id: self.client_id(),
            client_secret: self.api_key().map(Secret::expose),
            grant_type,
            params,
        };
        let mut call = Call::post(&["user_management", "authenticate"]).json(&body);
        if let Some(window) = replay_window {
            call = call.replayable_within(window);
        }
        if public {
            call = call.without_api_key();
        }
        self.send(call).await
    }

    /// Signs a user in with email and password.
    pub async fn authenticate_with_password(
        &self,
        params: &AuthenticateWithPassword,
    ) -> Result<AuthenticationResponse, Error> {
        self.authenticate("password", params, None, false).await
    }

    /// Exchanges the code AuthKit sent to your redirect URI (with the PKCE
    /// verifier, when the flow used one).
    ///
    /// A public client ([`UserManagement::public`]) must send the verifier
    /// ([`authorization_url_with_pkce`](Self::authorization_url_with_pkce)
    /// made it): without one the call is [`Error::MissingApiKey`], and an
    /// empty one [`Error::InvalidRequest`], both before any request.
    pub async fn authenticate_with_code(
        &self,
        params: &AuthenticateWithCode,
    ) -> Result<AuthenticationResponse, Error> {
        let verifier = params.code_verifier.as_ref().map(Secret::expose);
        if verifier.is_some_and(|v| v.trim().is_empty()) {
            return Err(Error::InvalidRequest(
                "code_verifier is empty: pass the verifier of the authorization URL's challenge"
                    .into(),
            ));
        }
        if verifier.is_none() && !self.has_api_key() {
            return Err(Error::MissingApiKey {
                call: "authenticate_with_code without a code_verifier".into(),
            });
        }
        self.authenticate("authorization_code", params, None, true)
            .await
    }

    /// Exchanges a refresh token for a new access/refresh pair, optionally
    /// switching organization.
    ///
    /// A refresh token is single use, so a lost answer (a timeout, a
    /// dropped connection) is repeated only while WorkOS is understood to
    /// answer the repeat as a replay, with the same new pair:
    /// [`REFRESH_REPLAY_WINDOW`] from the first attempt. If the repeat is
    /// refused all the same (`invalid_grant`: WorkOS spent the token on the
    /// attempt whose answer was lost and does not replay), the call fails with
    /// [`Error::AnswerLost`], which is transient: the session layer keeps
    /// the cookie rather than signing the user out for a lost answer.
    pub async fn authenticate_with_refresh_token(
        &self,
        params: &AuthenticateWithRefreshToken,
    ) -> Result<AuthenticationResponse, Error> {
        self.authenticate("refresh_token", params, Some(REFRESH_REPLAY_WINDOW), true)
            .await
    }

    /// Signs a user in with a magic-auth code.
    pub async fn authenticate_with_magic_auth(
        &self,
        params: &AuthenticateWithMagicAuth,
    ) -> Result<AuthenticationResponse, Error> {
        self.authenticate(
            "urn:workos:oauth:grant-type:magic-auth:code",
            params,
            None,
            false,
        )
        .await
    }

    /// Completes a sign-in that answered `email_verification_required`.
    pub async fn authenticate_with_email_verification(
        &self,
        params: &AuthenticateWithEmailVerification,
    ) -> Result<AuthenticationResponse, Error> {
        self.authenticate(
            "urn:workos:oauth:grant-type:email-verification:code",
            params,
            None,
            false,
        )
        .await
    }

    /// Completes a sign-in that answered `mfa_challenge` / `mfa_enrollment`.
    pub async fn authenticate_with_totp(
        &self,
        params: &AuthenticateWithTotp,
    ) -> Result<AuthenticationResponse, Error> {
        self.authenticate("urn:workos:oauth:grant-type:mfa-totp", params, None, false)
            .await
    }

    /// Completes a sign-in that answered `organization_selection_required`.
    pub async fn authenticate_with_organization_selection(
        &self,
        params: &AuthenticateWithOrganizationSelection,
    ) -> Result<AuthenticationResponse, Error> {
        self.authenticate(
            "urn:workos:oauth:grant-type:organization-selection",
            params,
            None,
            false,
        )
        .await
    }
}
