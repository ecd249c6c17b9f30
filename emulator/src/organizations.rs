//! The Organizations API (`/organizations`): create (with `Idempotency-Key`),
//! get, get by external id, list (filtered by domain), update, delete, in
//! WorkOS's shapes (the API reference's `organization` and
//! `organization_domain` objects; there are no recorded fixtures for them).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;

use super::Shared;
use super::reply::{Failure, JsonBody, Reply, Validator, created, empty, nullable, ok};
use super::store::{DomainRec, Entity, OrgRec, State, find, find_mut, page};

type Shr = AxumState<Arc<Shared>>;

fn run(shared: &Shared, f: impl FnOnce(&mut State, SystemTime) -> Reply) -> Reply {
    let now = shared.now();
    let mut st = shared.lock();
    f(&mut st, now)
}

/// One entry of `domain_data`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DomainDataBody {
    domain: Option<String>,
    state: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CreateOrganizationBody {
    name: Option<String>,
    domain_data: Option<Vec<DomainDataBody>>,
    external_id: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct UpdateOrganizationBody {
    name: Option<String>,
    domain_data: Option<Vec<DomainDataBody>>,
    #[serde(deserialize_with = "nullable")]
    external_id: Option<Option<String>>,
    metadata: Option<BTreeMap<String, Option<String>>>,
    #[serde(deserialize_with = "nullable")]
    stripe_customer_id: Option<Option<String>>,
}

/// The checked `domain_data`: lower-cased names with their state.
fn check_domains(v: &mut Validator, data: &[DomainDataBody]) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for d in data {
        let domain = d
            .domain
            .as_deref()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let valid = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        v.check(
            valid,
            "domain_invalid",
            "Domain should be a valid domain name such as example.com.",
        );
        let state = match d.state.as_deref() {
            Some("verified") => Some("verified"),
            Some("pending") => Some("pending"),
            _ => None,
        };
        v.check(
            state.is_some(),
            "state_invalid",
            "State should be either 'verified' or 'pending'.",
        );
        if let (true, Some(state)) = (valid, state)
            && !out.iter().any(|(d, _)| *d == domain)
        {
            out.push((domain, state));
        }
    }
    out
}

/// 409 when another organization (than `except`) has one of these domains;
/// 422 when another has this external id.
fn ensure_unique(
    st: &State,
    domains: &[(String, &'static str)],
    external_id: Option<&str>,
    except: Option<&str>,
) -> Result<(), Failure> {
    let others = || {
        st.organizations
            .iter()
            .filter(|o| Some(o.id.as_str()) != except)
    };
    for (domain, _) in domains {
        if others().any(|o| o.domains.iter().any(|d| &d.domain == domain)) {
            return Err(Failure::message(
                StatusCode::CONFLICT,
                format!("An Organization with the domain {domain} already exists."),
            ));
        }
    }
    if let Some(external_id) = external_id
        && others().any(|o| o.external_id.as_deref() == Some(external_id))
    {
        return Err(Failure::invalid(
            "external_id_not_available",
            format!("The external_id '{external_id}' is already in use."),
        ));
    }
    Ok(())
}

/// The organization's new domain list: kept records for domains it already
/// has, new ones (with ids) for the rest.
fn domain_records(
    st: &mut State,
    existing: &[DomainRec],
    wanted: Vec<(String, &'static str)>,
    now: SystemTime,
) -> Vec<DomainRec> {
    wanted
        .into_iter()
        .map(
            |(domain, state)| match existing.iter().find(|d| d.domain == domain) {
                Some(kept) if kept.state == state => kept.clone(),
                Some(kept) => DomainRec {
                    state,
                    verification_token: (state == "pending").then(|| super::ids::token(25)),
                    updated_at: now,
                    ..kept.clone()
                },
                None => DomainRec {
                    id: st.ids.next("org_domain", now),
                    domain,
                    state,
                    verification_token: (state == "pending").then(|| super::ids::token(25)),
                    created_at: now,
                    updated_at: now,
                },
            },
        )
        .collect()
}

pub(crate) async fn create_organization(
    AxumState(s): Shr,
    headers: HeaderMap,
    JsonBody(b): JsonBody<CreateOrganizationBody>,
) -> Reply {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let mut v = Validator::default();
    let name = v.required("name", b.name.as_deref()).trim().to_owned();
    let domains = check_domains(&mut v, b.domain_data.as_deref().unwrap_or_default());
    v.finish()?;
    run(&s, |st, now| {
        // A repeated key answers the organization the first request made.
        if let Some(id) = key.as_ref().and_then(|k| st.organization_keys.get(k))
            && let Ok(org) = find(&st.organizations, id)
        {
            return created(org.json(now));
        }
        ensure_unique(st, &domains, b.external_id.as_deref(), None)?;
        let id = st.ids.next("org", now);
        let domains = domain_records(st, &[], domains, now);
        st.organizations.push(OrgRec {
            domains,
            external_id: b.external_id,
            metadata: b.metadata.unwrap_or_default(),
            ..OrgRec::new(id.clone(), &name, now)
        });
        if let Some(key) = key {
            st.organization_keys.insert(key, id.clone());
        }
        let json = find(&st.organizations, &id)?.json(now);
        st.emit("organization.created", json.clone(), now);
        created(json)
    })
}

pub(crate) async fn get_organization(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| ok(find(&st.organizations, &id)?.json(now)))
}

pub(crate) async fn get_organization_by_external_id(
    AxumState(s): Shr,
    Path(id): Path<String>,
) -> Reply {
    run(&s, |st, now| {
        let org = st
            .organizations
            .iter()
            .find(|o| o.external_id.as_deref() == Some(&id))
            .ok_or_else(|| Failure::not_found(OrgRec::KIND, &id))?;
        ok(org.json(now))
    })
}

pub(crate) async fn list_organizations(
    AxumState(s): Shr,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    run(&s, |st, now| {
        let domains: Vec<String> = q
            .get("domains")
            .map(|d| {
                d.split(',')
                    .map(|d| d.trim().to_ascii_lowercase())
                    .filter(|d| !d.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let orgs = st
            .organizations
            .iter()
            .filter(|o| domains.is_empty() || o.domains.iter().any(|d| domains.contains(&d.domain)))
            .collect();
        ok(page(orgs, &q, now)?)
    })
}

pub(crate) async fn update_organization(
    AxumState(s): Shr,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UpdateOrganizationBody>,
) -> Reply {
    let mut v = Validator::default();
    let name = b
        .name
        .as_deref()
        .map(|n| v.required("name", Some(n)).trim().to_owned());
    let domains = b.domain_data.as_deref().map(|d| check_domains(&mut v, d));
    v.finish()?;
    run(&s, |st, now| {
        find(&st.organizations, &id)?;
        ensure_unique(
            st,
            domains.as_deref().unwrap_or_default(),
            b.external_id.as_ref().and_then(Option::as_deref),
            Some(&id),
        )?;
        let domains = match domains {
            Some(wanted) => {
                let existing = find(&st.organizations, &id)?.domains.clone();
                Some(domain_records(st, &existing, wanted, now))
            }
            None => None,
        };
        let org = find_mut(&mut st.organizations, &id)?;
        if let Some(name) = &name {
            org.name.clone_from(name);
        }
        if let Some(domains) = domains {
            org.domains = domains;
        }
        if let Some(v) = b.external_id {
            org.external_id = v;
        }
        if let Some(v) = b.stripe_customer_id {
            org.stripe_customer_id = v;
        }
        for (key, value) in b.metadata.unwrap_or_default() {
            match value {
                Some(value) => org.metadata.insert(key, value),
                None => org.metadata.remove(&key),
            };
        }
        org.updated_at = now;
        let answer = org.json(now);
        if let Some(name) = name {
            st.memberships
                .iter_mut()
                .filter(|m| m.organization_id == id)
                .for_each(|m| m.organization_name.clone_from(&name));
        }
        st.emit("organization.updated", answer.clone(), now);
        ok(answer)
    })
}

pub(crate) async fn delete_organization(AxumState(s): Shr, Path(id): Path<String>) -> Reply {
    run(&s, |st, now| {
        let json = find(&st.organizations, &id)?.json(now);
        st.organizations.retain(|o| o.id != id);
        st.emit("organization.deleted", json, now);
        st.memberships.retain(|m| m.organization_id != id);
        st.organization_keys.retain(|_, org| *org != id);
        empty(StatusCode::OK)
    })
}
