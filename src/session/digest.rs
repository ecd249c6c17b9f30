//! The session and token caches' keys: a 128-bit MAC of the whole credential
//! under a key random for the process (GMAC: AES-128-GCM's tag over the
//! credential as associated data, sealing nothing, from aws-lc-rs).
//!
//! A credential that differs in any byte has another key. Without the MAC
//! key, which never leaves the process (nor does any tag), an attacker's
//! chance that a forged credential of `n` 16-byte blocks lands on one
//! cached entry is at most `(n + 1) / 2^128` a try, and on any of a full
//! cache's at most `capacity · (n + 1) / 2^128` (below 2^-100 for 10 000
//! entries of 4 KiB), so no collision can forge an entry. The nonce is the
//! same for every credential, which is sound only because no tag is ever
//! shown: the constant it adds is the same for all, and equal tags still
//! mean equal GHASHes.
//!
//! A MAC rather than SHA-256 because a key is computed on every request
//! whose credential is not in the caches' [front](super::front) tables:
//! over a 1–2 KiB cookie or token GHASH (carry-less multiplication, many
//! blocks an instruction on CPUs with VPCLMULQDQ) costs a fraction of
//! SHA-256's time, and the key is 16 bytes instead of 32.

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

/// A credential's cache key.
pub(crate) type Digest = [u8; 16];

/// Keys credentials under one random key.
pub(crate) struct Digester {
    mac: LessSafeKey,
    /// Whether the key is random: without randomness, no cache (never a
    /// guessable key).
    random: bool,
}

impl Digester {
    /// A new random key.
    pub(crate) fn new() -> Self {
        let mut key = [0u8; 16];
        let random = aws_lc_rs::rand::fill(&mut key).is_ok();
        let mac = LessSafeKey::new(
            UnboundKey::new(&AES_128_GCM, &key).expect("a 16-byte key is an AES-128 key"),
        );
        Digester { mac, random }
    }

    /// Whether the key is random, so that the caches may be on.
    pub(crate) fn is_random(&self) -> bool {
        self.random
    }

    /// The credential's key; `None` only if aws-lc refuses (it does not
    /// for any length a request can carry).
    pub(crate) fn digest(&self, credential: &[u8]) -> Option<Digest> {
        let tag = self
            .mac
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key([0; 12]),
                Aad::from(credential),
                &mut [],
            )
            .ok()?;
        tag.as_ref().try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_credentials_share_a_key_and_any_changed_byte_or_other_process_key_does_not() {
        let digester = Digester::new();
        assert!(digester.is_random());
        let token = "eyJhbGciOiJSUzI1NiJ9.e30.c2ln".repeat(40);
        let key = digester.digest(token.as_bytes()).unwrap();
        assert_eq!(digester.digest(token.as_bytes()), Some(key));
        let mut other = token.clone().into_bytes();
        for at in [0, 17, other.len() - 1] {
            other[at] ^= 1;
            assert_ne!(digester.digest(&other), Some(key), "byte {at}");
            other[at] ^= 1;
        }
        assert_ne!(digester.digest(&token.as_bytes()[1..]), Some(key));
        assert_ne!(Digester::new().digest(token.as_bytes()), Some(key));
    }
}
