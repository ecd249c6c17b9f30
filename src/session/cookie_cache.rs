//! A bounded cache of session cookies that unsealed and verified.
//!
//! The same cookie comes back on every request until it is rotated, and
//! unsealing it (two key derivations, HMAC-SHA256 and AES-CBC over a
//! kilobyte or two, then JSON) costs several microseconds. A cookie that
//! authenticated is remembered with its session, keyed by the seal's MAC
//! field; a hit also compares the whole cookie, so a cookie that differs in
//! any byte is a miss and goes through the full check. Entries are void when
//! the JWKS changes, and the access token's `exp`/`nbf` are still checked on
//! every use. Seals carrying their own expiry are not cached.
//!
//! Memory bound: at most [`DEFAULT_CAPACITY`] entries, each the cookie (at
//! most 4 KiB, as browsers cap cookies) and a shared session (about 1–2 KiB),
//! so about 25 MiB in the worst case and a few MiB for typical sessions.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::AuthenticatedSession;

/// Entries kept at most.
pub const DEFAULT_CAPACITY: usize = 4096;

struct Entry {
    cookie: Box<str>,
    session: Arc<AuthenticatedSession>,
    generation: u64,
}

pub(crate) struct CookieCache {
    entries: RwLock<HashMap<Box<str>, Entry>>,
    capacity: usize,
}

/// The MAC field of a seal (`…*<mac>` or `…*<mac>~2`), and whether the seal
/// has no expiry of its own (the only seals worth caching).
fn mac_of(cookie: &str) -> Option<&str> {
    let body = cookie.strip_suffix("~2").unwrap_or(cookie);
    let mut fields = body.rsplit('*');
    let mac = fields.next()?;
    let _mac_salt = fields.next()?;
    let expiry = fields.next()?;
    (expiry.is_empty() && mac.len() >= 32).then_some(mac)
}

impl CookieCache {
    pub(crate) fn new(capacity: usize) -> Self {
        CookieCache {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    pub(crate) fn get(&self, cookie: &str, generation: u64) -> Option<Arc<AuthenticatedSession>> {
        if self.capacity == 0 {
            return None;
        }
        let mac = mac_of(cookie)?;
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(mac)?;
        (entry.generation == generation && *entry.cookie == *cookie).then(|| entry.session.clone())
    }

    pub(crate) fn insert(
        &self,
        cookie: &str,
        session: Arc<AuthenticatedSession>,
        generation: u64,
        now_secs: i64,
    ) {
        if self.capacity == 0 {
            return;
        }
        let Some(mac) = mac_of(cookie) else { return };
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.session.claims.exp > now_secs && e.generation == generation);
            if entries.len() >= self.capacity {
                let excess = entries.len() + 1 - self.capacity + self.capacity / 10;
                let victims: Vec<Box<str>> = entries.keys().take(excess).cloned().collect();
                for k in victims {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(
            mac.into(),
            Entry {
                cookie: cookie.into(),
                session,
                generation,
            },
        );
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(exp: i64) -> Arc<AuthenticatedSession> {
        let claims: super::super::AccessTokenClaims =
            serde_json::from_value(serde_json::json!({"sub": "u", "sid": "s", "exp": exp}))
                .unwrap();
        let user = serde_json::from_value(serde_json::json!({"id": "u", "email": "e",
            "created_at": "t", "updated_at": "t"}))
        .unwrap();
        Arc::new(AuthenticatedSession {
            user,
            impersonator: None,
            authentication_method: None,
            access_token: Default::default(),
            claims: Arc::new(claims),
            refresh_token: Default::default(),
            organization_id: None,
        })
    }

    fn cookie(i: usize) -> String {
        format!("Fe26.2*1*s*iv*ct**ms*{i:043}~2")
    }

    #[test]
    fn hits_need_the_whole_cookie_and_the_same_jwks_generation() {
        let cache = CookieCache::new(10);
        cache.insert(&cookie(1), session(100), 7, 0);
        assert!(cache.get(&cookie(1), 7).is_some());
        assert!(cache.get(&cookie(1), 8).is_none());
        let same_mac_other_body = cookie(1).replace("*ct*", "*cT*");
        assert!(cache.get(&same_mac_other_body, 7).is_none());
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = CookieCache::new(50);
        for i in 0..500 {
            cache.insert(&cookie(i), session(i64::MAX), 1, 0);
            assert!(cache.len() <= 50);
        }
    }

    #[test]
    fn only_seals_without_their_own_expiry_have_a_cache_key() {
        let mac = "m".repeat(43);
        assert_eq!(
            mac_of(&format!("Fe26.2*1*s*iv*ct**ms*{mac}~2")),
            Some(mac.as_str())
        );
        assert_eq!(
            mac_of(&format!("Fe26.2*1*s*iv*ct**ms*{mac}")),
            Some(mac.as_str())
        );
        assert_eq!(mac_of(&format!("Fe26.2*1*s*iv*ct*123*ms*{mac}~2")), None);
        assert_eq!(mac_of("garbage"), None);
        assert_eq!(mac_of("Fe26.2*1*s*iv*ct**ms*short"), None);
    }
}
