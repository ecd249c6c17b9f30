//! PKCE (RFC 7636, S256) for public clients: a verifier and its challenge,
//! and an authorization URL that carries the challenge, as workos-node's
//! `getAuthorizationUrlWithPKCE` and workos-ruby's
//! `get_authorization_url_with_pkce` make them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{AuthorizationUrl, Error, UserManagement};
use crate::Secret;

/// A PKCE pair: keep the verifier (secret) until the code exchange, send the
/// challenge in the authorization URL.
///
/// ```
/// use authkit_axum::client::Pkce;
/// let pkce = Pkce::new();
/// assert_eq!(pkce.code_verifier.expose().len(), 43);
/// assert_eq!(pkce.code_challenge, Pkce::challenge_of(pkce.code_verifier.expose()));
/// ```
#[derive(Debug, Clone)]
pub struct Pkce {
    /// 32 random bytes, base64url (43 characters).
    pub code_verifier: Secret,
    /// `base64url(sha256(code_verifier))`, sent with `code_challenge_method=S256`.
    pub code_challenge: String,
}

impl Pkce {
    /// A fresh pair from the OS random source.
    pub fn new() -> Self {
        let verifier = random_43();
        Pkce {
            code_challenge: Self::challenge_of(&verifier),
            code_verifier: Secret::from(verifier),
        }
    }

    /// The S256 challenge of a verifier.
    pub fn challenge_of(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Self::new()
    }
}

/// 32 bytes from the OS, base64url without padding.
fn random_43() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What [`UserManagement::authorization_url_with_pkce`] answers: open `url`,
/// keep `state` and `code_verifier` until the redirect comes back.
#[derive(Debug, Clone)]
pub struct PkceAuthorizationUrl {
    /// The authorization URL, with the challenge and the state.
    pub url: String,
    /// The `state` in the URL (yours, or a random one): compare it with the
    /// redirect's before exchanging the code.
    pub state: String,
    /// The verifier [`authenticate_with_code`](UserManagement::authenticate_with_code) takes.
    pub code_verifier: Secret,
}

impl UserManagement {
    /// [`authorization_url`](Self::authorization_url) with a fresh PKCE pair
    /// (any `code_challenge` in `params` is replaced) and, unless `params`
    /// has one, a random `state`. No request is made; works for a public
    /// client.
    ///
    /// ```
    /// use authkit_axum::client::{AuthorizationUrl, Provider, UserManagement};
    /// let workos = UserManagement::public("client_123").unwrap();
    /// let start = workos.authorization_url_with_pkce(&AuthorizationUrl {
    ///     redirect_uri: "myapp://callback".into(),
    ///     provider: Some(Provider::AuthKit),
    ///     ..Default::default()
    /// }).unwrap();
    /// assert!(start.url.contains("code_challenge_method=S256"));
    /// assert!(start.url.contains(&format!("state={}", start.state)));
    /// ```
    pub fn authorization_url_with_pkce(
        &self,
        params: &AuthorizationUrl,
    ) -> Result<PkceAuthorizationUrl, Error> {
        let pkce = Pkce::new();
        let state = params.state.clone().unwrap_or_else(random_43);
        let url = self.authorization_url(&AuthorizationUrl {
            code_challenge: Some(pkce.code_challenge),
            state: Some(state.clone()),
            ..params.clone()
        })?;
        Ok(PkceAuthorizationUrl {
            url,
            state,
            code_verifier: pkce.code_verifier,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        // RFC 7636, appendix B.
        assert_eq!(
            Pkce::challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn each_pair_and_state_is_fresh_and_a_given_state_is_kept() {
        let workos = UserManagement::public("client_1").unwrap();
        let params = AuthorizationUrl {
            redirect_uri: "myapp://callback".into(),
            provider: Some(super::super::Provider::AuthKit),
            ..Default::default()
        };
        let a = workos.authorization_url_with_pkce(&params).unwrap();
        let b = workos.authorization_url_with_pkce(&params).unwrap();
        assert_ne!(a.code_verifier, b.code_verifier);
        assert_ne!(a.state, b.state);
        let challenge = Pkce::challenge_of(a.code_verifier.expose());
        assert!(
            a.url.contains(&format!("code_challenge={challenge}")),
            "{}",
            a.url
        );
        let mine = workos
            .authorization_url_with_pkce(&AuthorizationUrl {
                state: Some("mine".into()),
                ..params
            })
            .unwrap();
        assert_eq!(mine.state, "mine");
    }
}
