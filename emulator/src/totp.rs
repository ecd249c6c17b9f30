//! Time-based one-time passwords (RFC 6238): HMAC-SHA1, 30-second steps,
//! six digits, base32 secrets (RFC 4648).

use std::time::SystemTime;

use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::clock::unix_secs;

const STEP_SECS: i64 = 30;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The six-digit TOTP code for a base32 `secret` at time `at` (RFC 6238 with
/// HMAC-SHA1 and 30-second steps, as authenticator apps compute it), or
/// `None` when `secret` is not base32.
///
/// Use it in tests to answer an `mfa_challenge` with the emulator's clock:
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use authkit_emulator::totp_code;
///
/// // RFC 6238's test secret, "12345678901234567890" in base32, at T = 59 s.
/// let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
/// assert_eq!(totp_code(secret, UNIX_EPOCH + Duration::from_secs(59)).unwrap(), "287082");
/// ```
pub fn totp_code(secret: &str, at: SystemTime) -> Option<String> {
    let key = base32_decode(secret)?;
    Some(code_for_step(&key, unix_secs(at).div_euclid(STEP_SECS)))
}

/// Whether `code` is valid for `secret` at `at`, one step either way.
pub(crate) fn verify(secret: &str, code: &str, at: SystemTime) -> bool {
    let Some(key) = base32_decode(secret) else {
        return false;
    };
    let code = code.trim();
    let step = unix_secs(at).div_euclid(STEP_SECS);
    (step - 1..=step + 1).any(|s| {
        let expected = code_for_step(&key, s);
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into()
    })
}

fn code_for_step(key: &[u8], step: i64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    format!("{:06}", bin % 1_000_000)
}

/// A fresh 160-bit secret, base32 (32 characters).
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    super::ids::fill(&mut bytes);
    base32_encode(&bytes)
}

/// The `otpauth://` URI authenticator apps scan.
pub(crate) fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        percent(issuer),
        percent(account),
        percent(issuer),
    )
}

/// Percent-encoding for URI components (spaces as `%20`, not `+`).
fn percent(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// RFC 4648 base32 without padding.
pub(crate) fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// RFC 4648 base32, case-insensitive, ignoring spaces, dashes and padding.
pub(crate) fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    let mut any = false;
    for c in s.bytes().filter(|c| !matches!(c, b' ' | b'-' | b'=')) {
        let value = BASE32.iter().position(|&a| a == c.to_ascii_uppercase())?;
        any = true;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    any.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc6238_vectors_truncated_to_six_digits() {
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            let at = UNIX_EPOCH + Duration::from_secs(t);
            assert_eq!(totp_code(RFC_SECRET, at).unwrap(), code, "T={t}");
        }
    }

    #[test]
    fn verification_allows_one_step_of_drift() {
        let at = UNIX_EPOCH + Duration::from_secs(1_111_111_109);
        let code = totp_code(RFC_SECRET, at).unwrap();
        assert!(verify(RFC_SECRET, &code, at + Duration::from_secs(30)));
        assert!(verify(RFC_SECRET, &code, at - Duration::from_secs(30)));
        assert!(!verify(RFC_SECRET, &code, at + Duration::from_secs(90)));
        assert!(!verify("not base32!", &code, at));
    }

    #[test]
    fn base32_round_trips() {
        assert_eq!(base32_encode(b"12345678901234567890"), RFC_SECRET);
        assert_eq!(
            base32_decode(&RFC_SECRET.to_lowercase()).unwrap(),
            b"12345678901234567890"
        );
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_decode("MY======").unwrap(), b"f");
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(base32_decode(&secret).unwrap().len(), 20);
    }

    #[test]
    fn otpauth_uri_names_issuer_and_account() {
        let uri = otpauth_uri("Foo Corp", "user@foo-corp.com", "ABC");
        assert_eq!(
            uri,
            "otpauth://totp/Foo%20Corp:user%40foo-corp.com?secret=ABC&issuer=Foo%20Corp&algorithm=SHA1&digits=6&period=30"
        );
    }
}
