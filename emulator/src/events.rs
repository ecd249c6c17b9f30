//! `GET /events`: the Events API, for catching up on what webhooks missed.
//!
//! Documented parameters (WorkOS API reference, "Events"; workos-node's
//! `ListEventOptions`): `events` (comma-separated names), `organization_id`,
//! `range_start` / `range_end` (RFC 3339), `limit` (1–100, default 10) and
//! `after` (an event id). Events come oldest first; the answer is
//! `{"object": "list", "data": [event…], "list_metadata": {"after"}}`, with
//! `after` the last event's id while more follow, else `null`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State as AxumState};
use serde_json::{Value, json};

use super::Shared;
use super::clock::parse_rfc3339;
use super::reply::{Failure, Reply, ok};
use super::store::{Entity, page_limit};

pub(crate) async fn list_events(
    AxumState(s): AxumState<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let limit = page_limit(&q)?;
    let time = |name: &str| match q.get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_rfc3339(v).map(Some).ok_or_else(|| {
            Failure::invalid(
                format!("{name}_invalid"),
                format!("{name} should be an ISO 8601 timestamp."),
            )
        }),
    };
    let (start, end) = (time("range_start")?, time("range_end")?);
    let names: Vec<&str> = q
        .get("events")
        .map(|e| {
            e.split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let organization = q.get("organization_id").filter(|o| !o.is_empty());
    let after = q.get("after").filter(|a| !a.is_empty());
    let now = s.now();
    let st = s.lock();
    let matching = st.events.iter().filter(|e| {
        (names.is_empty() || names.contains(&e.name.as_str()))
            && start.is_none_or(|t| e.created_at >= t)
            && end.is_none_or(|t| e.created_at < t)
            && organization.is_none_or(|o| e.data["organization_id"].as_str() == Some(o))
            // Ids sort in creation order, so a cursor positions the page even
            // when its event has left the log.
            && after.is_none_or(|a| e.id.as_str() > a.as_str())
    });
    let mut page: Vec<Value> = Vec::with_capacity(limit);
    let mut more = false;
    for e in matching {
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(e.json(now));
    }
    let after = if more {
        page.last().map(|e| e["id"].clone())
    } else {
        None
    };
    ok(json!({
        "object": "list",
        "data": page,
        "list_metadata": {"before": null, "after": after},
    }))
}
