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
//!   so how long a miss takes says nothing about the stored credential's
//!   bytes (a length that differs is a miss before any is read). A
//!   slot is chosen by a hash of the credential's last bytes under a random
//!   seed; a slot shared by two credentials only costs one of them the cache
//!   behind.
//! - **Second chance.** A slot's entry is replaced by an offer only if it
//!   was not used since the last offer (one bit, CLOCK's), so a credential in
//!   use keeps its slot against a stream of others.
//! - **Admitted on evidence.** An empty slot, or one of an older generation,
//!   is taken at once; an unused entry gives way only to a credential offered
//!   twice in a row ([`Front::offer`]), so more credentials in use than slots
//!   do not copy one in on every request. The entry it displaces is handed
//!   back for the cache behind, which saw none of its hits and may have let
//!   it go: a credential in use never falls out of both.
//! - **Bounded.** [`SLOTS`] entries, each a credential of at most
//!   [`MAX_CREDENTIAL`] bytes and an `Arc` of its session or claims, which
//!   the entry keeps alive while it is there (evicted from the cache behind
//!   or not): 64 × 4 KiB of credentials at worst.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Entries the table holds.
pub(crate) const SLOTS: usize = 64;

/// The longest credential kept: a longer one is answered by the cache behind.
pub(crate) const MAX_CREDENTIAL: usize = 4096;

/// What a slot holds: a credential's bytes and what a hit hands out.
pub(crate) trait Held {
    /// What a hit hands out (`Arc`s: counted, not copied).
    type Out;
    /// The credential, compared in full on every lookup.
    fn bytes(&self) -> &[u8];
    /// A hit's answer.
    fn out(&self) -> Self::Out;
}

struct Entry<H> {
    held: H,
    generation: u64,
    /// Used since the last offer for this slot.
    used: AtomicBool,
}

struct Slot<H> {
    entry: RwLock<Option<Entry<H>>>,
    /// The fingerprint of the last credential offered for a slot in use:
    /// it gets in only if offered again next (one offer is not enough).
    candidate: AtomicU64,
}

/// The table: [`SLOTS`] slots, each behind its own lock.
pub(crate) struct Front<H> {
    slots: Box<[Slot<H>]>,
    seed: [u64; 2],
}

impl<H: Held> Front<H> {
    /// An empty table; `None` without randomness for its seed.
    pub(crate) fn new() -> Option<Self> {
        let mut seed = [0u8; 16];
        aws_lc_rs::rand::fill(&mut seed).ok()?;
        let (a, b) = seed.split_at(8);
        Some(Front {
            slots: (0..SLOTS)
                .map(|_| Slot {
                    entry: RwLock::new(None),
                    candidate: AtomicU64::new(0),
                })
                .collect(),
            seed: [
                u64::from_ne_bytes(a.try_into().ok()?),
                u64::from_ne_bytes(b.try_into().ok()?),
            ],
        })
    }

    /// What was offered with exactly these bytes under this generation.
    pub(crate) fn get(&self, bytes: &[u8], generation: u64) -> Option<H::Out> {
        let (index, _) = self.place(bytes);
        // A poisoned lock (a panic while replacing) only loses the entry.
        let slot = self.slots[index].entry.read().ok()?;
        let entry = slot.as_ref()?;
        if entry.generation != generation || !same_bytes(entry.held.bytes(), bytes) {
            return None;
        }
        if !entry.used.load(Ordering::Relaxed) {
            entry.used.store(true, Ordering::Relaxed);
        }
        Some(entry.held.out())
    }

    /// Offers what the cache behind just answered for `bytes` under the
    /// current generation (`make` builds it, called only once the offer is
    /// admitted, before the slot's lock is taken: if another request holds
    /// the lock, it is dropped). It takes an empty slot, or one whose entry
    /// is of an older generation, at once; an entry used since the last offer
    /// keeps its slot (and loses its bit); an unused one gives way to a
    /// credential offered twice in a row, so a stream of credentials each
    /// seen now and then (more sessions in use than slots) does not copy one
    /// into the table on every request. An offer older than the entry (the
    /// key set changed meanwhile) changes nothing.
    ///
    /// Returns the entry it displaced when that was of this generation: its
    /// hits were answered here, unseen by the cache behind, which may have
    /// let it go meanwhile; the caller puts it back there.
    #[must_use]
    pub(crate) fn offer(
        &self,
        bytes: &[u8],
        generation: u64,
        make: impl FnOnce() -> H,
    ) -> Option<H> {
        if bytes.len() > MAX_CREDENTIAL {
            return None;
        }
        let (index, fingerprint) = self.place(bytes);
        let slot = &self.slots[index];
        let occupied = match slot.entry.read() {
            Ok(entry) => match entry.as_ref() {
                Some(entry) if entry.generation > generation => return None,
                Some(entry) if entry.generation == generation => {
                    if entry.used.swap(false, Ordering::Relaxed) {
                        slot.candidate.store(fingerprint, Ordering::Relaxed);
                        return None;
                    }
                    true
                }
                _ => false,
            },
            Err(_) => false,
        };
        if occupied && slot.candidate.swap(fingerprint, Ordering::Relaxed) != fingerprint {
            return None;
        }
        let entry = Entry {
            held: make(),
            generation,
            used: AtomicBool::new(false),
        };
        // Another request holds the slot: this offer is not worth a wait.
        let old = match slot.entry.try_write() {
            Ok(mut slot) => slot.replace(entry),
            Err(_) => return None,
        };
        // Out of the lock.
        old.filter(|old| old.generation == generation)
            .map(|old| old.held)
    }

    /// Whether two credentials share a slot.
    #[cfg(test)]
    pub(crate) fn same_slot(&self, a: &[u8], b: &[u8]) -> bool {
        self.place(a).0 == self.place(b).0
    }

    /// The slot of a credential and its fingerprint: its length and last 16
    /// bytes (the end of a MAC or a signature) under the seed.
    fn place(&self, bytes: &[u8]) -> (usize, u64) {
        let mut tail = [0u8; 16];
        let n = bytes.len().min(16);
        tail[16 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
        let (a, b) = tail.split_at(8);
        let a = u64::from_ne_bytes(a.try_into().unwrap_or_default()) ^ self.seed[0];
        let b = u64::from_ne_bytes(b.try_into().unwrap_or_default()) ^ self.seed[1];
        let mixed = (a ^ bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ b.wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
        // The high bits are the well-mixed ones.
        ((mixed >> (64 - SLOTS.trailing_zeros())) as usize, mixed)
    }

    /// Whether these bytes have an entry, without marking it used.
    #[cfg(test)]
    pub(crate) fn holds(&self, bytes: &[u8]) -> bool {
        self.slots[self.place(bytes).0]
            .entry
            .read()
            .is_ok_and(|s| s.as_ref().is_some_and(|e| e.held.bytes() == bytes))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| s.entry.read().is_ok_and(|s| s.is_some()))
            .count()
    }
}

/// Whether `a` and `b` are the same bytes, in a time that depends on their
/// lengths only: every byte is read, differences are OR-ed, nothing branches
/// on them. Eight bytes at a time (the compiler makes it sixteen or more),
/// where `subtle`'s slice comparison goes byte by byte behind an optimisation
/// barrier each: kilobytes on every request.
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
    use std::cell::Cell;

    use super::*;

    /// A credential and a number, as a test's slot content.
    struct Pair(Vec<u8>, usize);

    impl Held for Pair {
        type Out = usize;
        fn bytes(&self) -> &[u8] {
            &self.0
        }
        fn out(&self) -> usize {
            self.1
        }
    }

    fn credential(i: usize) -> Vec<u8> {
        // What differs between two seals is everywhere, the end included
        // (the MAC).
        format!("Fe26.2**{}*{i:064}~2", "x".repeat(1600)).into_bytes()
    }

    fn offer(front: &Front<Pair>, bytes: &[u8], value: usize, generation: u64) -> Option<usize> {
        front
            .offer(bytes, generation, || Pair(bytes.to_vec(), value))
            .map(|displaced| displaced.1)
    }

    /// The first two credentials after the first of the same slot as `of`.
    fn neighbours(front: &Front<Pair>, of: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut same = (2..)
            .map(credential)
            .filter(|c| front.place(c).0 == front.place(of).0);
        (same.next().unwrap(), same.next().unwrap())
    }

    #[test]
    fn only_the_very_bytes_offered_under_their_generation_are_found() {
        let front = Front::new().unwrap();
        let cookie = credential(1);
        assert_eq!(front.get(&cookie, 7), None);
        offer(&front, &cookie, 42, 7);
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
    fn an_entry_in_use_keeps_its_slot_and_an_unused_one_gives_way_to_a_credential_offered_twice() {
        let front = Front::new().unwrap();
        let a = credential(1);
        // An empty slot is taken at once.
        offer(&front, &a, 1, 0);
        assert!(front.holds(&a));
        let (b, c) = neighbours(&front, &a);
        assert_eq!(front.get(&a, 0), Some(1));
        // Used since the last offer: kept, its bit cleared.
        offer(&front, &b, 2, 0);
        assert!(front.holds(&a) && !front.holds(&b));
        // Not used since, but `b` is offered once more only after `c`: each
        // offer alone is not enough.
        offer(&front, &c, 3, 0);
        offer(&front, &b, 2, 0);
        assert!(front.holds(&a));
        // Offered twice in a row: in, and `a` handed back for the cache
        // behind.
        assert_eq!(offer(&front, &b, 2, 0), Some(1));
        assert_eq!(front.get(&b, 0), Some(2));
        assert_eq!(front.get(&a, 0), None);
        // In use between every two offers: it keeps its slot for good.
        for _ in 0..3 {
            assert_eq!(front.get(&b, 0), Some(2));
            offer(&front, &c, 3, 0);
        }
        assert!(front.holds(&b) && !front.holds(&c));
        // An entry of an older generation gives way at once, whatever its
        // bit; an offer older than the entry changes nothing.
        assert_eq!(front.get(&b, 0), Some(2));
        assert_eq!(offer(&front, &a, 1, 1), None, "void under the new key set");
        assert_eq!(front.get(&a, 1), Some(1));
        offer(&front, &b, 2, 0);
        offer(&front, &b, 2, 0);
        assert!(front.holds(&a) && !front.holds(&b));
    }

    #[test]
    fn an_offer_builds_its_entry_only_when_it_gets_in() {
        let front = Front::new().unwrap();
        let a = credential(1);
        let (b, c) = neighbours(&front, &a);
        offer(&front, &a, 1, 0);
        assert_eq!(front.get(&a, 0), Some(1));
        let built = Cell::new(0);
        let make = |value| {
            built.set(built.get() + 1);
            Pair(b.clone(), value)
        };
        assert!(front.offer(&b, 0, || make(2)).is_none()); // refused: `a` was used
        assert_eq!(offer(&front, &c, 3, 0), None); // refused: offered once
        assert!(front.offer(&b, 0, || make(2)).is_none()); // refused: `c` came between
        assert_eq!(built.get(), 0);
        let displaced = front.offer(&b, 0, || make(2)); // twice in a row: in
        assert_eq!(displaced.map(|p| p.1), Some(1));
        assert_eq!(built.get(), 1);
        assert_eq!(front.get(&b, 0), Some(2));
        let long = vec![b'a'; MAX_CREDENTIAL + 1];
        let _ = front.offer(&long, 0, || unreachable!("longer than any entry"));
        assert_eq!(front.get(&long, 0), None);
    }

    #[test]
    fn credentials_spread_over_the_slots() {
        let front = Front::new().unwrap();
        for i in 0..4 * SLOTS {
            offer(&front, &credential(i), i, 0);
        }
        assert!(front.len() > SLOTS / 2, "{} slots in use", front.len());
        let short = b"ab";
        offer(&front, short, 5, 1);
        assert_eq!(front.get(short, 1), Some(5));
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
