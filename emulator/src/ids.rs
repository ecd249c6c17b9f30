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
    }
}
