//! WorkOS-style identifiers (`user_01H…`: a prefix and a 26-character ULID)
//! and random secrets (tokens, one-time codes).

use std::time::SystemTime;

use super::clock::unix_millis;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_BITS: u32 = 80;

/// Monotonic ULIDs: ids sort in creation order, even within one millisecond,
/// so list cursors can compare ids.
#[derive(Debug, Default)]
pub(crate) struct IdGen {
    last_millis: u64,
    last_random: u128,
}

impl IdGen {
    /// `prefix_` followed by a ULID for `now`.
    pub(crate) fn next(&mut self, prefix: &str, now: SystemTime) -> String {
        let millis = unix_millis(now);
        if millis > self.last_millis {
            self.last_millis = millis;
            // Keep headroom so increments within a millisecond never overflow.
            self.last_random = random_u128() & ((1u128 << (RANDOM_BITS - 1)) - 1);
        } else {
            self.last_random += 1;
        }
        let value = (u128::from(self.last_millis & 0xFFFF_FFFF_FFFF) << RANDOM_BITS)
            | (self.last_random & ((1u128 << RANDOM_BITS) - 1));
        format!("{prefix}_{}", crockford(value))
    }
}

/// 26 Crockford base32 characters for a 128-bit value (the ULID text form).
fn crockford(value: u128) -> String {
    (0..26)
        .map(|i| CROCKFORD[((value >> (5 * (25 - i))) & 31) as usize] as char)
        .collect()
}

fn random_u128() -> u128 {
    let mut bytes = [0u8; 16];
    fill(&mut bytes);
    u128::from_be_bytes(bytes)
}

/// Fills `bytes` from the OS's random source.
pub(crate) fn fill(bytes: &mut [u8]) {
    getrandom::fill(bytes).expect("the OS random source is available");
}

/// An unguessable token of `len` alphanumeric characters (WorkOS's tokens are 25).
pub(crate) fn token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut bytes = [0u8; 32];
        fill(&mut bytes);
        // 248 = 4 * 62: rejecting larger bytes keeps the choice uniform.
        out.extend(
            bytes
                .iter()
                .filter(|b| **b < 248)
                .map(|b| ALPHANUMERIC[(*b % 62) as usize] as char)
                .take(len - out.len()),
        );
    }
    out
}

/// 26 random Crockford characters: shaped like the ULIDs WorkOS uses for
/// authorization codes and token ids, but entirely random.
pub(crate) fn random_id() -> String {
    crockford(random_u128())
}

/// The letters of device user codes: consonants only (no vowels, so no
/// words; no look-alike digits), as RFC 8628 §6.1 suggests.
const USER_CODE_LETTERS: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A device user code: eight letters as `XXXX-XXXX` (20^8 ≈ 2.6·10^10).
pub(crate) fn user_code() -> String {
    let mut out = String::with_capacity(9);
    while out.len() < 9 {
        let mut bytes = [0u8; 16];
        fill(&mut bytes);
        // 240 = 12 * 20: rejecting larger bytes keeps the choice uniform.
        for b in bytes.iter().filter(|b| **b < 240) {
            if out.len() == 4 {
                out.push('-');
            }
            if out.len() == 9 {
                break;
            }
            out.push(USER_CODE_LETTERS[(*b % 20) as usize] as char);
        }
    }
    out
}

/// What a user typed as a user code, in its canonical `XXXX-XXXX` form:
/// case, spaces and dashes do not matter. `None` when it cannot be one.
pub(crate) fn normalize_user_code(typed: &str) -> Option<String> {
    let letters: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if letters.len() != 8 || !letters.bytes().all(|b| USER_CODE_LETTERS.contains(&b)) {
        return None;
    }
    Some(format!("{}-{}", &letters[..4], &letters[4..]))
}

/// A six-digit one-time code.
pub(crate) fn six_digits() -> String {
    loop {
        let mut bytes = [0u8; 4];
        fill(&mut bytes);
        let n = u32::from_be_bytes(bytes);
        // Reject the biased tail so every code is equally likely.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_user_codes_are_read_whatever_their_case_and_separators() {
        use super::normalize_user_code as n;
        assert_eq!(n("bcdf-ghjk").as_deref(), Some("BCDF-GHJK"));
        assert_eq!(n(" BCDF GHJK ").as_deref(), Some("BCDF-GHJK"));
        assert_eq!(n("BCDFGHJK").as_deref(), Some("BCDF-GHJK"));
        // Too short, too long, or a letter that is never in a code.
        for bad in [
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-GHJK",
            "BCDF-GHJ1",
            "<b>x</b>",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    use super::*;
    use std::time::Duration;

    #[test]
    fn ids_are_prefixed_ulids_in_creation_order() {
        let mut ids = IdGen::default();
        let now = SystemTime::now();
        let a = ids.next("user", now);
        let b = ids.next("user", now);
        let c = ids.next("user", now + Duration::from_millis(1));
        assert!(a.starts_with("user_01") || a.starts_with("user_0"));
        assert_eq!(a.len(), "user_".len() + 26);
        assert!(a < b && b < c, "{a} {b} {c}");
        assert!(a[5..].bytes().all(|b| CROCKFORD.contains(&b)));
    }

    #[test]
    fn tokens_and_codes_have_their_shapes() {
        let t = token(25);
        assert_eq!(t.len(), 25);
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric()));
        let code = six_digits();
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(random_id().len(), 26);
        let user_code = user_code();
        assert_eq!(user_code.len(), 9, "{user_code}");
        assert_eq!(
            normalize_user_code(&user_code).as_deref(),
            Some(&*user_code)
        );
    }
}
