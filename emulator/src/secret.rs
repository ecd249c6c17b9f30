//! Secrets the emulator holds or hands out (its API key, users' passwords,
//! emailed codes) are [`secrecy::SecretString`]s: redacted in `Debug`, read
//! with `expose_secret()`. This module compares them in constant time.

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

/// Whether `secret` holds `candidate`, compared in constant time.
pub(crate) fn matches(secret: &SecretString, candidate: &str) -> bool {
    secret
        .expose_secret()
        .as_bytes()
        .ct_eq(candidate.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_compares_the_whole_value() {
        let s = SecretString::from("hunter2");
        assert!(matches(&s, "hunter2"));
        assert!(!matches(&s, "hunter"));
        assert!(!matches(&s, "hunter22"));
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
