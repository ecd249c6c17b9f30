//! What a user has beyond the user object: the OAuth identities linked to
//! them, a pending change of email address, and the groups their
//! organization memberships belong to. Shapes as workos-ruby's
//! `get_user_identities` / `send_email_change` / `confirm_email_change` and
//! workos-node's `listGroupsForOrganizationMembership` read them (no
//! recorded fixture exists for these endpoints).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::handlers::{check_email_format, ensure_unique};
use super::reply::{Failure, JsonBody, Reply, Validator, ok};
use super::seed::{Seed, SeedError};
use super::store::{
    EmailChangeRec, GroupRec, IdentityRec, MembershipRec, State, find, find_mut, page,
};
use super::{EmailKind, Shared};

type Shr = AxumState<Arc<Shared>>;

/// Loads the seed's identities and groups (after its users and memberships).
pub(crate) fn load_seed(st: &mut State, seed: &Seed, now: SystemTime) -> Result<(), SeedError> {
    let invalid = |m: String| SeedError::Invalid(m);
    for user in &seed.users {
        let user_id = st.user_id_by_email(&user.email).ok().unwrap_or_default();
        for identity in &user.identities {
            if identity.provider.is_empty() || identity.idp_id.is_empty() {
                return Err(invalid(format!(
                    "an identity of {:?} has no provider or idp_id",
                    user.email
                )));
            }
            st.identities.push(IdentityRec {
                user_id: user_id.clone(),
                idp_id: identity.idp_id.clone(),
                provider: identity.provider.clone(),
            });
        }
    }
    for group in &seed.groups {
        let org = st
            .organizations
            .iter()
            .find(|o| o.id == group.organization || o.name == group.organization)
            .ok_or_else(|| {
                invalid(format!(
                    "group {:?} of unknown organization {:?}",
                    group.name, group.organization
                ))
            })?;
        let organization_id = org.id.clone();
        let mut membership_ids = Vec::new();
        for email in &group.members {
            let membership = st
                .user_by_email(email)
                .and_then(|u| {
                    st.memberships
                        .iter()
                        .find(|m| m.user_id == u.id && m.organization_id == organization_id)
                })
                .ok_or_else(|| {
                    invalid(format!(
                        "group {:?}: {email:?} is not a member of its organization",
                        group.name
                    ))
                })?;
            membership_ids.push(membership.id.clone());
        }
        let id = st.ids.next("group", now);
        st.groups.push(GroupRec {
            id,
            organization_id,
            name: group.name.clone(),
            description: group.description.clone(),
            membership_ids,
            created_at: now,
        });
    }
    Ok(())
}

/// `GET /user_management/users/{id}/identities`: a bare JSON array.
pub(crate) async fn get_user_identities(AxumState(s): Shr, Path(user_id): Path<String>) -> Reply {
    let st = s.lock();
    find(&st.users, &user_id)?;
    let identities: Vec<Value> = st
        .identities
        .iter()
        .filter(|i| i.user_id == user_id)
        .map(|i| json!({"idp_id": i.idp_id, "type": "OAuth", "provider": i.provider}))
        .collect();
    ok(Value::Array(identities))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SendBody {
    new_email: Option<String>,
}

/// `POST /user_management/users/{id}/email_change/send`: a code to the new
/// address; the user keeps the old one until it is confirmed.
pub(crate) async fn send_email_change(
    AxumState(s): Shr,
    Path(user_id): Path<String>,
    JsonBody(b): JsonBody<SendBody>,
) -> Reply {
    let mut v = Validator::default();
    let new_email = v
        .required("new_email", b.new_email.as_deref())
        .trim()
        .to_owned();
    check_email_format(&mut v, &new_email);
    v.finish()?;
    let now = s.now();
    let mut st = s.lock();
    let user = find(&st.users, &user_id)?;
    if user.email.eq_ignore_ascii_case(&new_email) {
        return Err(Failure::invalid(
            "email_unchanged",
            "The new email is the user's current email.",
        ));
    }
    ensure_unique(&st, Some(&new_email), None, Some(&user_id))?;
    let mut code = st.new_code("email_change", &user_id, now);
    code.email = new_email.clone();
    st.send_email(&new_email, EmailKind::EmailChange, &code.code, None, now);
    let answer = json!({
        "object": "email_change",
        "user": st.user_json(&user_id, now)?,
        "new_email": new_email,
        "expires_at": rfc3339(code.expires_at),
        "created_at": rfc3339(code.created_at),
    });
    st.email_changes.push(EmailChangeRec(code));
    ok(answer)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ConfirmBody {
    code: Option<String>,
}

/// `POST /user_management/users/{id}/email_change/confirm`: the latest
/// unused, unexpired code sets the new (and so verified) address; a wrong
/// code is 400 `email_change_code_incorrect` (modelled on the email
/// verification's `email_verification_code_incorrect`).
pub(crate) async fn confirm_email_change(
    AxumState(s): Shr,
    Path(user_id): Path<String>,
    JsonBody(b): JsonBody<ConfirmBody>,
) -> Reply {
    let now = s.now();
    let mut st = s.lock();
    find(&st.users, &user_id)?;
    let code = b.code.unwrap_or_default();
    let change = st
        .email_changes
        .iter_mut()
        .rev()
        .find(|c| c.0.user_id == user_id && c.0.usable(&code, now))
        .ok_or_else(|| {
            Failure::coded(
                StatusCode::BAD_REQUEST,
                "email_change_code_incorrect",
                "Email change code is incorrect.",
            )
        })?;
    change.0.used = true;
    let new_email = change.0.email.clone();
    ensure_unique(&st, Some(&new_email), None, Some(&user_id))?;
    let user = find_mut(&mut st.users, &user_id)?;
    user.email = new_email;
    user.email_verified = true;
    user.updated_at = now;
    ok(json!({
        "object": "email_change_confirmation",
        "user": st.user_json(&user_id, now)?,
    }))
}

/// `GET /user_management/organization_memberships/{id}/groups`, paginated.
pub(crate) async fn list_groups_for_membership(
    AxumState(s): Shr,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let now = s.now();
    let st = s.lock();
    find::<MembershipRec>(&st.memberships, &id)?;
    let groups = st
        .groups
        .iter()
        .filter(|g| g.membership_ids.contains(&id))
        .collect();
    ok(page(groups, &q, now)?)
}
