//! A small table in front of the session and token caches for the
//! credentials in use right now: the credential's bytes themselves, compared
//! in full, instead of its MAC.
//!
//! Keying a credential ([`digest`](super::digest)) reads every byte through
//! GHASH and AES, a fifth of a microsecond for a 1.7 KB cookie; comparing it
//! with a stored copy reads the same bytes at memory speed. So the cache a
//! hit was found in offers the credential here ([`Front::offer`]), and the
//! next request with the same bytes is answered from the table
//! ([`Front::get`]) without keying it at all.
//!
//! - **Exact.** An entry answers only for the very bytes it was offered with
//!   (same length, every byte equal), and only under the JWKS generation it
//!   was offered under: a tampered credential can no more hit here than in
//!   the cache behind. The caller checks expiry as it does for a cache hit.
//! - **Constant time.** The comparison reads every byte whatever they hold,
//!   so how long a miss takes says nothing about the stored credential. A
//!   slot is chosen by a hash of the credential's last bytes under a random
//!   seed; a slot shared by two credentials only costs one of them the cache
//!   behind.
//! - **Second chance.** A slot's entry is replaced by an offer only if it
//!   was not used since the last offer (one bit, CLOCK's), so a credential in
//!   use keeps its slot against a stream of others.
//! - **Bounded.** [`SLOTS`] entries, each a copy of at most
//!   [`MAX_CREDENTIAL`] bytes and an `Arc` of what the cache behind holds
//!   anyway: about 110 KiB for typical 1.7 KB cookies, 256 KiB at worst.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Entries the table holds.
pub(crate) const SLOTS: usize = 64;

/// The longest credential kept: a longer one is answered by the cache behind.
pub(crate) const MAX_CREDENTIAL: usize = 4096;

struct Entry<V> {
    bytes: Box<[u8]>,
    value: V,
    generation: u64,
    /// Used since the last offer for this slot.
    used: AtomicBool,
}

/// The table: [`SLOTS`] slots, each behind its own lock.
pub(crate) struct Front<V> {
    slots: Box<[RwLock<Option<Entry<V>>>]>,
    seed: [u64; 2],
}

impl<V: Clone> Front<V> {
    /// An empty table; `None` without randomness for its seed (the cache
    /// behind is off then too).
    pub(crate) fn new() -> Option<Self> {
        let mut seed = [0u8; 16];
        aws_lc_rs::rand::fill(&mut seed).ok()?;
        let (a, b) = seed.split_at(8);
        Some(Front {
            slots: (0..SLOTS).map(|_| RwLock::new(None)).collect(),
            seed: [
                u64::from_ne_bytes(a.try_into().ok()?),
                u64::from_ne_bytes(b.try_into().ok()?),
            ],
        })
    }

    /// What was offered with exactly these bytes under this generation.
    pub(crate) fn get(&self, bytes: &[u8], generation: u64) -> Option<V> {
        // A poisoned lock (a panic while replacing) only loses the entry.
        let slot = self.slots[self.index(bytes)].read().ok()?;
        let entry = slot.as_ref()?;
        if entry.generation != generation || !same_bytes(&entry.bytes, bytes) {
            return None;
        }
        if !entry.used.load(Ordering::Relaxed) {
            entry.used.store(true, Ordering::Relaxed);
        }
        Some(entry.value.clone())
    }

    /// Offers what the cache behind just answered for `bytes`: it takes the
    /// slot unless the slot's entry of this generation was used since the
    /// last offer (that entry then loses its bit instead).
    pub(crate) fn offer(&self, bytes: &[u8], value: V, generation: u64) {
        if bytes.len() > MAX_CREDENTIAL {
            return;
        }
        let lock = &self.slots[self.index(bytes)];
        if let Ok(slot) = lock.read()
            && let Some(entry) = slot.as_ref()
            && entry.generation == generation
            && entry.used.swap(false, Ordering::Relaxed)
        {
            return;
        }
        let entry = Entry {
            bytes: bytes.into(),
            value,
            generation,
            used: AtomicBool::new(false),
        };
        // Another request holds the slot: this offer is not worth a wait.
        let old = match lock.try_write() {
            Ok(mut slot) => slot.replace(entry),
            Err(_) => return,
        };
        // Dropped out of the lock.
        drop(old);
    }

    /// The slot of a credential: its length and last 16 bytes (the end of a
    /// MAC or a signature) under the seed.
    fn index(&self, bytes: &[u8]) -> usize {
        let mut tail = [0u8; 16];
        let n = bytes.len().min(16);
        tail[16 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
        let (a, b) = tail.split_at(8);
        let a = u64::from_ne_bytes(a.try_into().unwrap_or_default()) ^ self.seed[0];
        let b = u64::from_ne_bytes(b.try_into().unwrap_or_default()) ^ self.seed[1];
        let mixed = (a ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ b.wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        // The high bits are the well-mixed ones.
        (mixed >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// Whether these bytes have an entry, without marking it used.
    #[cfg(test)]
    fn holds(&self, bytes: &[u8]) -> bool {
        self.slots[self.index(bytes)]
            .read()
            .is_ok_and(|s| s.as_ref().is_some_and(|e| *e.bytes == *bytes))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.read().is_ok_and(|s| s.is_some()))
            .count()
    }
}

/// Whether `a` and `b` are the same bytes, in a time that depends on their
/// lengths only: every byte is read, differences are OR-ed, nothing branches
/// on them.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, a_rest) = a.as_chunks::<8>();
    let (b_words, b_rest) = b.as_chunks::<8>();
    let mut diff = a_words.iter().zip(b_words).fold(0u64, |d, (x, y)| {
        d | (u64::from_ne_bytes(*x) ^ u64::from_ne_bytes(*y))
    });
    for (x, y) in a_rest.iter().zip(b_rest) {
        diff |= u64::from(x ^ y);
    }
    // Kept from being turned into an early exit.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(i: usize) -> Vec<u8> {
        // What differs between two seals is everywhere, the end included
        // (the MAC).
        format!("Fe26.2**{}*{i:064}~2", "x".repeat(1600)).into_bytes()
    }

    #[test]
    fn only_the_very_bytes_offered_under_their_generation_are_found() {
        let front = Front::new().unwrap();
        let cookie = credential(1);
        assert_eq!(front.get(&cookie, 7), None);
        front.offer(&cookie, 42, 7);
        assert_eq!(front.get(&cookie, 7), Some(42));
        assert_eq!(front.get(&cookie, 8), None, "another JWKS generation");
        // Any byte changed, a byte more or less: a miss.
        for at in [0, 9, 500, cookie.len() - 3, cookie.len() - 1] {
            let mut tampered = cookie.clone();
            tampered[at] ^= 1;
            assert_eq!(front.get(&tampered, 7), None, "byte {at}");
        }
        assert_eq!(front.get(&cookie[..cookie.len() - 1], 7), None);
        let mut longer = cookie.clone();
        longer.push(b'x');
        assert_eq!(front.get(&longer, 7), None);
        assert_eq!(front.get(b"", 7), None);
    }

    #[test]
    fn an_entry_in_use_keeps_its_slot_and_an_unused_one_gives_it_up() {
        let front = Front::new().unwrap();
        let a = credential(1);
        front.offer(&a, 1, 0);
        // A credential of the same slot.
        let b = (2..)
            .map(credential)
            .find(|c| front.index(c) == front.index(&a))
            .unwrap();
        assert_eq!(front.get(&a, 0), Some(1));
        // Used since the last offer: kept, its bit cleared.
        front.offer(&b, 2, 0);
        assert!(front.holds(&a) && !front.holds(&b));
        // Not used since: the next offer takes the slot.
        front.offer(&b, 2, 0);
        assert_eq!(front.get(&b, 0), Some(2));
        assert_eq!(front.get(&a, 0), None);
        front.offer(&a, 1, 0);
        assert_eq!(front.get(&b, 0), Some(2), "used since the last offer: kept");
        // An entry of an old generation gives way whatever its bit.
        front.offer(&a, 1, 1);
        assert_eq!(front.get(&a, 1), Some(1));
    }

    #[test]
    fn the_table_is_bounded_and_long_credentials_stay_out() {
        let front = Front::new().unwrap();
        for i in 0..10 * SLOTS {
            front.offer(&credential(i), i, 0);
        }
        assert!(front.len() <= SLOTS);
        assert!(
            front.len() > SLOTS / 2,
            "the slots are spread: {}",
            front.len()
        );
        let long = vec![b'a'; MAX_CREDENTIAL + 1];
        front.offer(&long, 0, 0);
        assert_eq!(front.get(&long, 0), None);
        let short = b"ab";
        front.offer(short, 5, 0);
        assert_eq!(front.get(short, 0), Some(5));
    }

    #[test]
    fn same_bytes_is_equality() {
        for len in [0, 1, 7, 8, 9, 63, 64, 65, 1700] {
            let a: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            assert!(same_bytes(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x80;
                assert!(!same_bytes(&a, &b), "{len} {at}");
            }
            assert!(!same_bytes(&a, &[a.as_slice(), b"x"].concat()));
        }
    }
}
