//! A bounded, expiring cache of users fetched for Bearer requests.
//!
//! A session cookie carries its user; a Bearer access token carries only the
//! user's id. A handler that takes the full [`User`] for a Bearer request
//! costs a `GET /user_management/users/{id}`, so the answer is kept for a
//! short while (60 s by default): at most one call per user per minute,
//! and concurrent misses for one user share one call. A failed call is not
//! kept: the next request tries again.
//!
//! Memory bound: at most [`DEFAULT_CAPACITY`] users (about 1 KiB each).
//! When full, expired entries are dropped first, then arbitrary ones.

use std::time::Duration;

use super::fetch_cache::FetchCache;
use crate::client::User;

/// Users kept at most.
pub const DEFAULT_CAPACITY: usize = 1024;

/// How long a fetched user is kept.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

pub(crate) type UserCache = FetchCache<User>;
