//! PKCE (RFC 7636, S256) and the login state, and the short-lived sealed
//! cookie that carries them from `/auth/login` to the callback.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Prefix of the per-flow verifier cookies.
pub(crate) const VERIFIER_COOKIE_PREFIX: &str = "wos-auth-verifier-";

/// At most this many sign-ins may be pending in one browser; older ones are evicted.
pub(crate) const MAX_PENDING: usize = 5;

/// 32 random bytes, base64url: 43 characters (a valid PKCE verifier, and an
/// unguessable state).
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 challenge of a verifier.
pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The name of the verifier cookie of the flow with this state.
pub(crate) fn cookie_name(state: &str) -> String {
    let digest = Sha256::digest(state.as_bytes());
    let mut name = String::with_capacity(VERIFIER_COOKIE_PREFIX.len() + 16);
    name.push_str(VERIFIER_COOKIE_PREFIX);
    for b in &digest[..8] {
        name.push_str(&format!("{b:02x}"));
    }
    name
}

/// What the verifier cookie holds (sealed, 10-minute ttl).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PendingLogin {
    pub(crate) state: String,
    pub(crate) verifier: String,
    pub(crate) return_to: String,
    /// The app's own opaque `state`, returned to its sign-in hook (never
    /// sent to WorkOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) app_state: Option<String>,
    /// Milliseconds since the epoch, for evicting the oldest.
    pub(crate) created_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(cookie_name(&a).len(), VERIFIER_COOKIE_PREFIX.len() + 16);
    }
}
