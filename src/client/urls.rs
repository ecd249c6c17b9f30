//! URLs the browser is sent to: AuthKit's authorization page, the logout
//! endpoint, and the JWKS document that signs access tokens.

use std::collections::BTreeMap;

use super::{Error, UserManagement};

/// An OAuth provider to sign in with: AuthKit's hosted page, or one of the
/// OAuth providers WorkOS connects to (the `provider` parameter of
/// `/user_management/authorize`), with [`Provider::Other`] for one this
/// crate does not know yet.
///
/// ```
/// use authkit_axum::client::Provider;
/// assert_eq!(Provider::GitHub.as_str(), "GitHubOAuth");
/// assert_eq!(Provider::parse("GoogleOAuth"), Some(Provider::Google));
/// assert_eq!(Provider::parse("authkit"), Some(Provider::AuthKit));
/// assert_eq!(Provider::parse("NewOAuth"), None);
/// assert_eq!(Provider::Other("NewOAuth".into()).as_str(), "NewOAuth");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// AuthKit's hosted login page (email/password, social, SSO, …).
    AuthKit,
    /// Sign in with Apple (`AppleOAuth`).
    Apple,
    /// Bitbucket (`BitbucketOAuth`).
    Bitbucket,
    /// Discord (`DiscordOAuth`).
    Discord,
    /// GitHub (`GitHubOAuth`).
    GitHub,
    /// GitLab (`GitLabOAuth`).
    GitLab,
    /// Google (`GoogleOAuth`).
    Google,
    /// Intuit (`IntuitOAuth`).
    Intuit,
    /// LinkedIn (`LinkedInOAuth`).
    LinkedIn,
    /// Microsoft (`MicrosoftOAuth`).
    Microsoft,
    /// Salesforce (`SalesforceOAuth`).
    Salesforce,
    /// Slack (`SlackOAuth`).
    Slack,
    /// Vercel (`VercelOAuth`).
    Vercel,
    /// Vercel Marketplace (`VercelMarketplaceOAuth`).
    VercelMarketplace,
    /// Xero (`XeroOAuth`).
    Xero,
    /// A provider this crate does not list yet, by its wire name.
    Other(String),
}

/// The known providers and their wire names.
const PROVIDERS: [(Provider, &str); 15] = [
    (Provider::AuthKit, "authkit"),
    (Provider::Apple, "AppleOAuth"),
    (Provider::Bitbucket, "BitbucketOAuth"),
    (Provider::Discord, "DiscordOAuth"),
    (Provider::GitHub, "GitHubOAuth"),
    (Provider::GitLab, "GitLabOAuth"),
    (Provider::Google, "GoogleOAuth"),
    (Provider::Intuit, "IntuitOAuth"),
    (Provider::LinkedIn, "LinkedInOAuth"),
    (Provider::Microsoft, "MicrosoftOAuth"),
    (Provider::Salesforce, "SalesforceOAuth"),
    (Provider::Slack, "SlackOAuth"),
    (Provider::Vercel, "VercelOAuth"),
    (Provider::VercelMarketplace, "VercelMarketplaceOAuth"),
    (Provider::Xero, "XeroOAuth"),
];

impl Provider {
    /// The wire name (`authkit`, `GoogleOAuth`, …).
    pub fn as_str(&self) -> &str {
        match self {
            Provider::Other(name) => name,
            known => PROVIDERS
                .iter()
                .find(|(p, _)| p == known)
                .map_or("", |(_, name)| name),
        }
    }

    /// The known provider with this wire name (exactly as WorkOS spells it);
    /// `None` for any other name.
    pub fn parse(name: &str) -> Option<Provider> {
        PROVIDERS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(p, _)| p.clone())
    }
}

/// Which AuthKit screen to open first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenHint {
    /// The sign-up form.
    SignUp,
    /// The sign-in form.
    SignIn,
}

impl ScreenHint {
    fn as_str(self) -> &'static str {
        match self {
            ScreenHint::SignUp => "sign-up",
            ScreenHint::SignIn => "sign-in",
        }
    }
}

/// Parameters of [`UserManagement::authorization_url`]. At least one of
/// `provider`, `connection_id` and `organization_id` is required.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationUrl {
    /// Where AuthKit sends the user back with a code (required).
    pub redirect_uri: String,
    /// An OAuth provider, or AuthKit itself.
    pub provider: Option<Provider>,
    /// An SSO connection.
    pub connection_id: Option<String>,
    /// An organization (its SSO connection, or AuthKit scoped to it).
    pub organization_id: Option<String>,
    /// Opaque value returned to the redirect URI unchanged.
    pub state: Option<String>,
    /// Pre-selects the organization's domain.
    pub domain_hint: Option<String>,
    /// Pre-fills the email address.
    pub login_hint: Option<String>,
    /// Sign-up or sign-in screen (AuthKit only).
    pub screen_hint: Option<ScreenHint>,
    /// Extra scopes to request from the OAuth provider.
    pub provider_scopes: Vec<String>,
    /// Extra query parameters for the OAuth provider.
    pub provider_query_params: BTreeMap<String, String>,
    /// The PKCE S256 challenge; sends `code_challenge_method=S256` with it.
    pub code_challenge: Option<String>,
    /// `prompt`, e.g. `consent` or `login`.
    pub prompt: Option<String>,
    /// An invitation's token: the user signs up or in to accept it.
    pub invitation_token: Option<String>,
    /// `max_age` in seconds: how long ago the user may have last signed in
    /// interactively for that sign-in to count (OpenID Connect's `max_age`).
    pub max_age: Option<u64>,
}

impl UserManagement {
    /// Builds the URL that starts a sign-in. No request is made; the
    /// arguments are checked first (a provider, connection or organization is
    /// required; a screen hint needs the AuthKit provider).
    ///
    /// ```
    /// use authkit_axum::client::{AuthorizationUrl, Provider, UserManagement};
    /// let workos = UserManagement::builder("sk_test", "client_123").build().unwrap();
    /// let url = workos.authorization_url(&AuthorizationUrl {
    ///     redirect_uri: "https://example.com/auth/callback".into(),
    ///     provider: Some(Provider::AuthKit),
    ///     state: Some("xyz".into()),
    ///     ..Default::default()
    /// }).unwrap();
    /// assert!(url.starts_with("https://api.workos.com/user_management/authorize?"));
    /// assert!(url.contains("client_id=client_123") && url.contains("provider=authkit"));
    /// ```
    pub fn authorization_url(&self, params: &AuthorizationUrl) -> Result<String, Error> {
        if params.provider.is_none()
            && params.connection_id.is_none()
            && params.organization_id.is_none()
        {
            return Err(Error::InvalidRequest(
                "authorization_url needs a provider, connection_id or organization_id".into(),
            ));
        }
        if params.screen_hint.is_some() && params.provider != Some(Provider::AuthKit) {
            return Err(Error::InvalidRequest(
                "screen_hint is only supported with the AuthKit provider".into(),
            ));
        }
        if params.redirect_uri.is_empty() {
            return Err(Error::InvalidRequest(
                "authorization_url needs a redirect_uri".into(),
            ));
        }
        // Sorted keys, as the Node SDK's query strings are.
        let mut query: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                query.push((k.to_owned(), v.to_owned()));
            }
        };
        push("client_id", Some(self.client_id()));
        push("code_challenge", params.code_challenge.as_deref());
        push(
            "code_challenge_method",
            params.code_challenge.as_ref().map(|_| "S256"),
        );
        push("connection_id", params.connection_id.as_deref());
        push("domain_hint", params.domain_hint.as_deref());
        push("invitation_token", params.invitation_token.as_deref());
        push("login_hint", params.login_hint.as_deref());
        let max_age = params.max_age.map(|secs| secs.to_string());
        push("max_age", max_age.as_deref());
        push("organization_id", params.organization_id.as_deref());
        push("prompt", params.prompt.as_deref());
        push("provider", params.provider.as_ref().map(Provider::as_str));
        for (k, v) in &params.provider_query_params {
            query.push((format!("provider_query_params[{k}]"), v.clone()));
        }
        for scope in &params.provider_scopes {
            query.push(("provider_scopes".to_owned(), scope.clone()));
        }
        let mut push = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                query.push((k.to_owned(), v.to_owned()));
            }
        };
        push("redirect_uri", Some(&params.redirect_uri));
        push("response_type", Some("code"));
        push("screen_hint", params.screen_hint.map(ScreenHint::as_str));
        push("state", params.state.as_deref());
        let mut url = self.url(&["user_management", "authorize"]);
        url.query_pairs_mut().extend_pairs(query);
        Ok(url.into())
    }

    /// The URL that ends a session at WorkOS and then sends the browser to
    /// `return_to` (or the dashboard's default logout redirect).
    pub fn get_logout_url(&self, session_id: &str, return_to: Option<&str>) -> String {
        let mut url = self.url(&["user_management", "sessions", "logout"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("session_id", session_id);
            if let Some(return_to) = return_to {
                q.append_pair("return_to", return_to);
            }
        }
        url.into()
    }

    /// The JWKS document whose keys sign this client's access tokens.
    pub fn get_jwks_url(&self) -> String {
        self.url(&["sso", "jwks", self.client_id()]).into()
    }
}

impl UserManagement {
    /// Fetches the JWKS document ([`get_jwks_url`](Self::get_jwks_url)); a
    /// public client may too (no API key is sent).
    /// Keys this crate cannot use (an unknown `kty`) are skipped rather than
    /// failing the whole set.
    pub async fn get_jwks(&self) -> Result<jsonwebtoken::jwk::JwkSet, Error> {
        self.get_jwks_within(None).await
    }

    /// [`get_jwks`](Self::get_jwks), making no retry whose wait would end
    /// after `budget` (the key cache's, which requests wait for).
    pub(crate) async fn get_jwks_within(
        &self,
        budget: Option<std::time::Duration>,
    ) -> Result<jsonwebtoken::jwk::JwkSet, Error> {
        #[derive(serde::Deserialize)]
        struct RawSet {
            #[serde(default)]
            keys: Vec<serde_json::Value>,
        }
        let raw: RawSet = self
            .send(
                super::Call::get(&["sso", "jwks", self.client_id()])
                    .without_api_key()
                    .within(budget),
            )
            .await?;
        let keys = raw
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value(k).ok())
            .collect();
        Ok(jsonwebtoken::jwk::JwkSet { keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> UserManagement {
        UserManagement::builder("sk_test", "client_123")
            .build()
            .unwrap()
    }

    fn pairs(url: &str) -> Vec<(String, String)> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    #[test]
    fn invitation_token_max_age_and_prompt_are_sent_in_sorted_order() {
        let url = client()
            .authorization_url(&AuthorizationUrl {
                redirect_uri: "https://example.com/auth/callback".into(),
                provider: Some(Provider::AuthKit),
                invitation_token: Some("Z1uX3RbwcIl5fIGJJJCXXisdI".into()),
                max_age: Some(0),
                prompt: Some("login".into()),
                ..Default::default()
            })
            .unwrap();
        let keys: Vec<String> = pairs(&url).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "client_id",
                "invitation_token",
                "max_age",
                "prompt",
                "provider",
                "redirect_uri",
                "response_type"
            ]
        );
        let q = pairs(&url);
        assert!(q.contains(&(
            "invitation_token".into(),
            "Z1uX3RbwcIl5fIGJJJCXXisdI".into()
        )));
        assert!(q.contains(&("max_age".into(), "0".into())));
        assert!(q.contains(&("prompt".into(), "login".into())));
    }

    #[test]
    fn every_known_provider_round_trips_its_wire_name_and_others_pass_verbatim() {
        for (provider, name) in &PROVIDERS {
            assert_eq!(provider.as_str(), *name);
            assert_eq!(Provider::parse(name).as_ref(), Some(provider));
        }
        assert_eq!(Provider::parse("googleoauth"), None, "names are exact");
        let url = client()
            .authorization_url(&AuthorizationUrl {
                redirect_uri: "https://example.com/cb".into(),
                provider: Some(Provider::Other("NewOAuth".into())),
                ..Default::default()
            })
            .unwrap();
        assert!(pairs(&url).contains(&("provider".into(), "NewOAuth".into())));
    }

    #[test]
    fn a_connection_alone_is_enough_and_a_screen_hint_needs_authkit() {
        let base = || AuthorizationUrl {
            redirect_uri: "https://example.com/cb".into(),
            ..Default::default()
        };
        let url = client()
            .authorization_url(&AuthorizationUrl {
                connection_id: Some("conn_01H".into()),
                ..base()
            })
            .unwrap();
        assert!(!pairs(&url).iter().any(|(k, _)| k == "provider"));
        let err = client()
            .authorization_url(&AuthorizationUrl {
                provider: Some(Provider::GitLab),
                screen_hint: Some(ScreenHint::SignUp),
                ..base()
            })
            .unwrap_err();
        assert!(err.to_string().contains("screen_hint"), "{err}");
        assert!(client().authorization_url(&base()).is_err());
    }
}
