//! A bounded, expiring cache of organizations, for handlers that show the
//! session's organization.
//!
//! An access token carries only its organization's id (`org_id`); the name
//! a page shows costs a `GET /organizations/{id}`. The answer is kept for
//! a while (5 minutes by default): at most one call per organization per
//! five minutes, whoever asks, and concurrent misses for one organization
//! share one call. A 404 (a deleted organization) is kept as well; any other
//! failed call is not kept: the next request tries again.
//! A rename shows once the entry expires, or at once after
//! [`SessionManager::forget_organization`](super::SessionManager::forget_organization)
//! (e.g. on an `organization.updated` webhook).
//!
//! Memory bound: at most [`DEFAULT_CAPACITY`] organizations (a few hundred
//! bytes each, more with many domains or much metadata).

use std::sync::Arc;
use std::time::Duration;

use super::fetch_cache::FetchCache;
use crate::client::Organization;

/// Organizations kept at most.
pub const DEFAULT_CAPACITY: usize = 1024;

/// How long a fetched organization is kept.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// `None`: WorkOS answered 404 (a deleted organization), kept like a
/// value, so a session naming one does not cost a call per request.
pub(crate) type OrganizationCache = FetchCache<Option<Arc<Organization>>>;
