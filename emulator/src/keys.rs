//! The access-token signing key: RSA-2048 generated at start, published as
//! a JWK, used to sign RS256 JWTs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// An RSA key pair with its `kid` and public JWK.
pub(crate) struct SigningKey {
    kid: String,
    pair: KeyPair,
    jwk: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh RSA-2048 key.
    pub(crate) fn generate() -> Result<Self, String> {
        let pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|e| format!("RSA key generation failed: {e}"))?;
        let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        // The kid is a digest of the modulus: stable for the key, unique across keys.
        let kid = format!(
            "sso_oidc_key_pair_{}",
            URL_SAFE_NO_PAD.encode(&Sha256::digest(&public.n)[..12])
        );
        let jwk = json!({
            "alg": "RS256",
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        });
        Ok(SigningKey { kid, pair, jwk })
    }

    /// The key id tokens name in their header.
    #[cfg(test)]
    pub(crate) fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS document: `{"keys": [jwk]}`.
    pub(crate) fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }

    /// A compact RS256 JWT of `claims`.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .expect("RSA signing with a valid key does not fail");
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::jwk::Jwk;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    #[test]
    fn tokens_verify_with_the_published_jwk() {
        let key = SigningKey::generate().unwrap();
        let jwk: Jwk = serde_json::from_value(key.jwks()["keys"][0].clone()).unwrap();
        assert_eq!(jwk.common.key_id.as_deref(), Some(key.kid()));
        let token = key.sign(&json!({"sub": "user_1", "exp": 4_000_000_000u64}));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        let decoded = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_jwk(&jwk).unwrap(),
            &Validation::new(Algorithm::RS256),
        )
        .unwrap();
        assert_eq!(decoded.claims["sub"], "user_1");
    }
}
