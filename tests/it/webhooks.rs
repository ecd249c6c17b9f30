//! Webhooks end to end: the emulator posts signed events over real HTTP to
//! an app on 127.0.0.1, the `Webhook` extractor verifies them, and the
//! `webhooks_sync` example's SQLite table follows; the Events API catches
//! up on what a down app missed. Plus the verifier's and the extractor's
//! refusals.
//!
//! Shapes: the event object (`{object: "event", id, event, data,
//! created_at}`) and the Events API list (`{object: "list", data,
//! list_metadata: {after}}`, `events`/`range_start`/`limit`/`after`) follow
//! WorkOS's API reference ("Events") and workos-node's
//! `event.interface.ts` / `ListEventOptions`; the signature follows
//! workos-node's `SignatureProvider` (`t=<ms>, v1=<hex HMAC-SHA256 of
//! "<t>.<body>">`). The recorded fixtures hold no events.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use authkit_axum::client::{
    AuthenticateWithPassword, CreateOrganizationMembership, CreateUser, Event, EventData,
    ListEvents, UpdateUser, UserManagement,
};
use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
use authkit_axum::webhooks::{Webhook, WebhookError, WebhookVerifier};
use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use futures_util::TryStreamExt;
use proptest::prelude::*;
use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../../examples/webhooks_sync.rs"]
mod webhooks_sync;

use crate::support::emulator::claims;
use webhooks_sync::{AppState, Row, UsersTable};

const SECRET: &str = "whsec_it_suite_8d1f0c2b7a";

/// Guards against a hang only; nothing here is timed.
async fn settled(emulator: &Emulator) {
    tokio::time::timeout(Duration::from_secs(60), emulator.webhooks_settled())
        .await
        .expect("the deliveries settle");
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (listener, base)
}

fn serve(listener: tokio::net::TcpListener, app: Router) {
    tokio::spawn(async move { axum::serve(listener, app).await });
}

async fn emulator_to(endpoint: &str, retries: u32) -> Emulator {
    Emulator::builder()
        .with_seed(Seed::demo())
        .with_webhook(endpoint, SECRET)
        .with_webhook_retries(retries, Duration::from_millis(5))
        .start()
        .await
        .expect("the emulator starts")
}

fn emails(rows: &[Row]) -> Vec<(&str, Option<&str>)> {
    rows.iter()
        .map(|r| (r.email.as_str(), r.last_name.as_deref()))
        .collect()
}

async fn create(workos: &UserManagement, email: &str) -> String {
    workos
        .create_user(&CreateUser {
            email: email.into(),
            ..CreateUser::default()
        })
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn the_example_table_follows_creates_updates_and_deletes_delivered_as_webhooks() {
    let (listener, base) = listener().await;
    let emulator = emulator_to(&format!("{base}/webhooks/workos"), 3).await;
    let workos = emulator.client();
    let users = UsersTable::new(rusqlite::Connection::open_in_memory().unwrap()).unwrap();
    // The seeded demo user predates the endpoint: it comes from the Events API.
    assert_eq!(users.catch_up(&workos).await.unwrap(), 1);
    assert_eq!(
        emails(&users.rows().unwrap()),
        [("demo@example.com", Some("User"))]
    );
    let state = AppState {
        users: users.clone(),
        verifier: WebhookVerifier::new(SECRET),
    };
    serve(listener, webhooks_sync::router(state));

    let ada = create(&workos, "ada@example.com").await;
    settled(&emulator).await;
    assert_eq!(
        emails(&users.rows().unwrap()),
        [
            ("ada@example.com", None),
            ("demo@example.com", Some("User"))
        ]
    );
    workos
        .update_user(&UpdateUser {
            user_id: ada.clone(),
            last_name: Some(Some("Lovelace".into())),
            ..UpdateUser::default()
        })
        .await
        .unwrap();
    settled(&emulator).await;
    assert_eq!(
        emails(&users.rows().unwrap()),
        [
            ("ada@example.com", Some("Lovelace")),
            ("demo@example.com", Some("User"))
        ]
    );
    workos.delete_user(&ada).await.unwrap();
    settled(&emulator).await;
    assert_eq!(
        emails(&users.rows().unwrap()),
        [("demo@example.com", Some("User"))]
    );

    let deliveries = emulator.webhook_deliveries();
    let names: Vec<&str> = deliveries.iter().map(|d| d.event.as_str()).collect();
    assert_eq!(names, ["user.created", "user.updated", "user.deleted"]);
    assert!(
        deliveries
            .iter()
            .all(|d| d.delivered && d.last_status == Some(200))
    );
    // Webhooks never move the catch-up cursor: a catch-up goes over what
    // they applied, in the Events API's order, which changes nothing…
    let cursor = users.last_event_id().unwrap();
    assert_ne!(cursor.as_deref(), Some(deliveries[2].event_id.as_str()));
    assert_eq!(users.catch_up(&workos).await.unwrap(), 3);
    assert_eq!(
        emails(&users.rows().unwrap()),
        [("demo@example.com", Some("User"))]
    );
    // …and leaves the cursor at the last one; nothing new since.
    assert_eq!(
        users.last_event_id().unwrap().as_deref(),
        Some(deliveries[2].event_id.as_str())
    );
    assert_eq!(users.catch_up(&workos).await.unwrap(), 0);
}

#[tokio::test]
async fn a_catch_up_applies_what_an_unreachable_app_missed_and_only_that() {
    // An endpoint nobody listens on: every delivery is refused.
    let (listener, base) = listener().await;
    drop(listener);
    let emulator = emulator_to(&format!("{base}/webhooks/workos"), 2).await;
    let workos = emulator.client();
    let users = UsersTable::new(rusqlite::Connection::open_in_memory().unwrap()).unwrap();
    users.catch_up(&workos).await.unwrap();
    let before = users.last_event_id().unwrap().unwrap();

    let grace = create(&workos, "grace@example.com").await;
    create(&workos, "alan@example.com").await;
    workos.delete_user(&grace).await.unwrap();
    settled(&emulator).await;
    let deliveries = emulator.webhook_deliveries();
    assert_eq!(deliveries.len(), 3);
    assert!(
        deliveries
            .iter()
            .all(|d| !d.delivered && d.attempts == 2 && d.last_status.is_none()),
        "{deliveries:?}"
    );
    assert_eq!(
        emails(&users.rows().unwrap()),
        [("demo@example.com", Some("User"))]
    );

    assert_eq!(users.catch_up(&workos).await.unwrap(), 3);
    assert_eq!(
        emails(&users.rows().unwrap()),
        [
            ("alan@example.com", None),
            ("demo@example.com", Some("User"))
        ]
    );
    assert!(users.last_event_id().unwrap().unwrap() > before);
}

/// An endpoint that records what it got and answers `fail_first` times 500.
#[derive(Clone, Default)]
struct Recorder {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    fail_first: Arc<Mutex<u32>>,
}

async fn record(
    axum::extract::State(r): axum::extract::State<Recorder>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    r.got.lock().unwrap().push((headers, body));
    let mut fail = r.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn recording_endpoint(fail_first: u32) -> (Recorder, String) {
    let recorder = Recorder::default();
    *recorder.fail_first.lock().unwrap() = fail_first;
    let (listener, base) = listener().await;
    let app = Router::new()
        .route("/hook", post(record))
        .with_state(recorder.clone());
    serve(listener, app);
    (recorder, format!("{base}/hook"))
}

#[tokio::test]
async fn a_delivery_answered_5xx_is_retried_until_a_2xx_with_the_same_event() {
    let (recorder, endpoint) = recording_endpoint(2).await;
    let emulator = emulator_to(&endpoint, 5).await;
    create(&emulator.client(), "retry@example.com").await;
    settled(&emulator).await;
    let deliveries = emulator.webhook_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!((deliveries[0].attempts, deliveries[0].delivered), (3, true));
    assert_eq!(deliveries[0].last_status, Some(204));
    let got = recorder.got.lock().unwrap();
    assert_eq!(got.len(), 3);
    let ids: Vec<Value> = got
        .iter()
        .map(|(_, body)| serde_json::from_slice::<Value>(body).unwrap()["id"].clone())
        .collect();
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
}

#[tokio::test]
async fn deliveries_are_signed_as_workos_signs_and_replays_tampering_and_other_secrets_fail() {
    let (recorder, endpoint) = recording_endpoint(0).await;
    let emulator = emulator_to(&endpoint, 1).await;
    create(&emulator.client(), "signed@example.com").await;
    settled(&emulator).await;
    let (headers, body) = recorder.got.lock().unwrap()[0].clone();
    assert_eq!(headers["content-type"], "application/json");
    let header = headers["workos-signature"].to_str().unwrap().to_owned();
    assert!(
        header.starts_with("t=") && header.contains(", v1="),
        "{header}"
    );

    let verifier = WebhookVerifier::new(SECRET);
    let event = verifier.verify(&body, &header).unwrap();
    assert_eq!(event.event, "user.created");
    let EventData::UserCreated(user) = &event.data else {
        panic!("{:?}", event.data)
    };
    assert_eq!(user.email, "signed@example.com");

    let mut tampered = body.to_vec();
    let at = tampered.iter().position(|b| *b == b'@').unwrap();
    tampered[at - 1] ^= 1;
    assert_eq!(
        verifier.verify(&tampered, &header).unwrap_err(),
        WebhookError::BadSignature
    );
    assert_eq!(
        WebhookVerifier::new("whsec_someone_else")
            .verify(&body, &header)
            .unwrap_err(),
        WebhookError::BadSignature
    );
    // The same delivery replayed after the tolerance is refused.
    let later = SystemTime::now() + Duration::from_secs(181);
    let replay = WebhookVerifier::new(SECRET).with_clock(move || later);
    assert_eq!(
        replay.verify(&body, &header).unwrap_err(),
        WebhookError::StaleTimestamp
    );
}

#[tokio::test]
async fn sign_ins_sessions_and_memberships_are_delivered_as_typed_events() {
    let (recorder, endpoint) = recording_endpoint(0).await;
    let emulator = emulator_to(&endpoint, 1).await;
    let workos = emulator.client();
    let auth = workos
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "demo@example.com".into(),
            password: DEMO_PASSWORD.into(),
            ..AuthenticateWithPassword::default()
        })
        .await
        .unwrap();
    let sid = claims(auth.access_token.expose())["sid"]
        .as_str()
        .expect("the access token names its session")
        .to_owned();
    let user = create(&workos, "member@example.com").await;
    let org = emulator.organizations()[0].id.clone();
    let membership = workos
        .create_organization_membership(&CreateOrganizationMembership {
            user_id: user.clone(),
            organization_id: org.clone(),
            ..CreateOrganizationMembership::default()
        })
        .await
        .unwrap();
    workos.revoke_session(&sid).await.unwrap();
    settled(&emulator).await;
    let verifier = WebhookVerifier::new(SECRET);
    let events: Vec<Event> = recorder
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(h, b)| {
            verifier
                .verify(b, h["workos-signature"].to_str().unwrap())
                .unwrap()
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "authentication.password_succeeded",
            "session.created",
            "user.created",
            "organization_membership.created",
            "session.revoked",
        ]
    );
    let EventData::Authentication(a) = &events[0].data else {
        panic!("{:?}", events[0].data)
    };
    assert_eq!(a.user_id.as_deref(), Some(auth.user.id.as_str()));
    assert_eq!(a.kind.as_str(), "password");
    let EventData::SessionCreated(s) = &events[1].data else {
        panic!("{:?}", events[1].data)
    };
    assert_eq!(s.user_id, auth.user.id);
    let EventData::OrganizationMembershipCreated(m) = &events[3].data else {
        panic!("{:?}", events[3].data)
    };
    assert_eq!(
        (m.id.as_str(), m.organization_id.as_str()),
        (membership.id.as_str(), org.as_str())
    );
    let EventData::SessionRevoked(s) = &events[4].data else {
        panic!("{:?}", events[4].data)
    };
    assert_eq!(s.id, sid);
}

#[tokio::test]
async fn the_events_api_pages_oldest_first_and_filters_by_name_and_time() {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    let workos = emulator.client();
    for i in 0..4 {
        create(&workos, &format!("user{i}@example.com")).await;
    }
    let first = workos
        .list_events(&ListEvents::new(["user.created"]).with_limit(2))
        .await
        .unwrap();
    assert_eq!(first.data.len(), 2);
    let after = first.list_metadata.after.clone().expect("more follow");
    assert_eq!(after, first.data[1].id);
    let all: Vec<Event> = workos
        .list_events_stream(ListEvents::new(["user.created"]).with_limit(2))
        .try_collect()
        .await
        .unwrap();
    let emails: Vec<String> = all
        .iter()
        .map(|e| match &e.data {
            EventData::UserCreated(u) => u.email.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        emails,
        [
            "demo@example.com",
            "user0@example.com",
            "user1@example.com",
            "user2@example.com",
            "user3@example.com"
        ]
    );
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    // The seed's membership is an event too, but not a user.created one.
    let memberships = workos
        .list_events(&ListEvents::new(["organization_membership.created"]))
        .await
        .unwrap();
    assert_eq!(memberships.data.len(), 1);
    assert_eq!(memberships.list_metadata.after, None);
    // Nothing after the future.
    let future = workos
        .list_events(&ListEvents::new(["user.created"]).with_range_start("2999-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(future.data.is_empty());
    let bad = workos
        .list_events(&ListEvents::new(["user.created"]).with_limit(500))
        .await
        .unwrap_err();
    assert_eq!(bad.status().map(|s| s.as_u16()), Some(422));
    let bad_time = workos
        .list_events(&ListEvents::new(["user.created"]).with_range_start("yesterday"))
        .await
        .unwrap_err();
    assert_eq!(bad_time.status().map(|s| s.as_u16()), Some(422));
}

// ---- the extractor's refusals, over HTTP ----

async fn extractor_app(verifier: WebhookVerifier) -> String {
    async fn ok(Webhook(event): Webhook) -> String {
        event.id
    }
    let (listener, base) = listener().await;
    serve(
        listener,
        Router::new().route("/hook", post(ok)).with_state(verifier),
    );
    format!("{base}/hook")
}

async fn post_to(url: &str, body: Vec<u8>, signature: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(url).body(body);
    if let Some(signature) = signature {
        request = request.header("WorkOS-Signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn the_extractor_answers_401_json_for_missing_malformed_wrong_and_stale_signatures() {
    let verifier = WebhookVerifier::new(SECRET);
    let url = extractor_app(verifier.clone()).await;
    let body = br#"{"id":"event_1","event":"user.deleted","created_at":"t","data":{}}"#.to_vec();
    let now = SystemTime::now();
    let stale = verifier.signature_header(&body, now - Duration::from_secs(181));
    let other = WebhookVerifier::new("whsec_other").signature_header(&body, now);
    for (signature, code) in [
        (None, "missing_signature"),
        (Some("t=abc"), "malformed_signature"),
        (Some(other.as_str()), "invalid_signature"),
        (Some(stale.as_str()), "stale_signature"),
    ] {
        let (status, json) = post_to(&url, body.clone(), signature).await;
        assert_eq!(
            (status, json["error"].as_str()),
            (401, Some(code)),
            "{json}"
        );
        assert!(json["message"].is_string());
        assert!(!json.to_string().contains(SECRET));
    }
    let good = verifier.signature_header(&body, now);
    assert_eq!(
        post_to(&url, body, Some(&good)).await,
        (200, json!("event_1"))
    );
}

#[tokio::test]
async fn the_extractor_answers_400_json_for_a_signed_body_that_is_not_an_event() {
    let verifier = WebhookVerifier::new(SECRET);
    let url = extractor_app(verifier.clone()).await;
    for body in [&b"not json"[..], br#"{"id":"event_1"}"#, b"[]"] {
        let header = verifier.signature_header(body, SystemTime::now());
        let (status, json) = post_to(&url, body.to_vec(), Some(&header)).await;
        assert_eq!(
            (status, json["error"].as_str()),
            (400, Some("invalid_body")),
            "{json}"
        );
    }
}

#[tokio::test]
async fn the_extractor_answers_413_json_past_the_body_limit_declared_or_streamed() {
    let verifier = WebhookVerifier::new(SECRET).with_max_body_size(1024);
    let url = extractor_app(verifier.clone()).await;
    let big = vec![b' '; 1025];
    let header = verifier.signature_header(&big, SystemTime::now());
    let (status, json) = post_to(&url, big.clone(), Some(&header)).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (413, Some("body_too_large"))
    );
    // Without a Content-Length (chunked): refused as it passes the limit.
    let chunks: Vec<Result<hyper::body::Frame<Bytes>, std::io::Error>> = big
        .chunks(100)
        .map(|c| Ok(hyper::body::Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    let stream = http_body_util::StreamBody::new(futures_util::stream::iter(chunks));
    let response = reqwest::Client::new()
        .post(&url)
        .header("WorkOS-Signature", &header)
        .body(reqwest::Body::wrap(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    // At the limit exactly: read and verified.
    let event = r#"{"id":"event_1","event":"x","created_at":"t","data":{}}"#;
    let body = format!("{event}{}", " ".repeat(1024 - event.len()));
    assert_eq!(body.len(), 1024);
    let header = verifier.signature_header(body.as_bytes(), SystemTime::now());
    assert_eq!(post_to(&url, body.into_bytes(), Some(&header)).await.0, 200);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_header_and_body_is_a_verdict_never_a_panic(header in ".{0,80}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let verifier = WebhookVerifier::new(SECRET);
        prop_assert!(verifier.verify(&body, &header).is_err());
    }

    #[test]
    fn a_fresh_timestamp_with_a_garbage_signature_is_a_bad_signature(
        skew_ms in -179_000i64..179_000,
        v1 in "[0-9a-zA-Z=]{0,70}",
        body in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let verifier = WebhookVerifier::new(SECRET).with_clock(move || now);
        let t = 1_700_000_000_000i64 + skew_ms;
        // The right signature for that `t`, to be sure the garbage is not it.
        let good = verifier.signature_header(&body, SystemTime::UNIX_EPOCH + Duration::from_millis(t as u64));
        prop_assume!(!good.ends_with(&format!("v1={v1}")));
        let verdict = verifier.verify_signature(&body, &format!("t={t}, v1={v1}"));
        prop_assert!(matches!(verdict, Err(WebhookError::BadSignature)), "{:?}", verdict);
        // The same header with the right signature passes: the clock and `t` are in tolerance.
        prop_assert!(verifier.verify_signature(&body, &good).is_ok());
    }

    #[test]
    fn a_timestamp_that_is_not_a_number_is_a_malformed_header(
        t in "[0-9]{0,5}[a-zA-Z.:+-][0-9a-zA-Z.:+ -]{0,12}",
    ) {
        let now = SystemTime::now();
        let verifier = WebhookVerifier::new(SECRET);
        let signed = verifier.signature_header(b"{}", now);
        let v1 = signed.split_once("v1=").unwrap().1;
        let verdict = verifier.verify_signature(b"{}", &format!("t={t}, v1={v1}"));
        prop_assert!(
            matches!(
                verdict,
                Err(WebhookError::MalformedHeader("the timestamp is not a number of milliseconds"))
            ),
            "{:?}", verdict
        );
    }
}

/// The Organizations API's changes are events too (the API reference's
/// `organization.created/updated/deleted`, whose data is the organization).
#[tokio::test]
async fn organization_changes_are_delivered_as_typed_organization_events() {
    let (recorder, endpoint) = recording_endpoint(0).await;
    let emulator = emulator_to(&endpoint, 1).await;
    let workos = emulator.client();
    let org = workos
        .create_organization(&authkit_axum::client::CreateOrganization::new("Acme"))
        .await
        .unwrap();
    let rename =
        authkit_axum::client::UpdateOrganization::new(org.id.clone()).with_name("Acme Corp");
    workos.update_organization(&rename).await.unwrap();
    workos.delete_organization(&org.id).await.unwrap();
    settled(&emulator).await;
    let verifier = WebhookVerifier::new(SECRET);
    let events: Vec<Event> = recorder
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(h, b)| {
            verifier
                .verify(b, h["workos-signature"].to_str().unwrap())
                .unwrap()
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "organization.created",
            "organization.updated",
            "organization.deleted"
        ]
    );
    let EventData::OrganizationCreated(created) = &events[0].data else {
        panic!("{:?}", events[0].data)
    };
    assert_eq!(
        (created.id.as_str(), created.name.as_str()),
        (org.id.as_str(), "Acme")
    );
    let EventData::OrganizationUpdated(updated) = &events[1].data else {
        panic!("{:?}", events[1].data)
    };
    assert_eq!(updated.name, "Acme Corp");
    assert!(matches!(&events[2].data, EventData::OrganizationDeleted(o) if o.id == org.id));
}

// ---- the example's table against deliveries out of order, and failures ----

/// Every event body the emulator delivered to `recorder`, by event name.
fn recorded_bodies(recorder: &Recorder) -> Vec<(String, Bytes)> {
    recorder
        .got
        .lock()
        .unwrap()
        .iter()
        .map(|(_, body)| {
            let name = serde_json::from_slice::<Value>(body).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned();
            (name, body.clone())
        })
        .collect()
}

#[tokio::test]
async fn late_updates_neither_undo_a_newer_one_nor_bring_back_a_deleted_user() {
    // Real events, recorded as the emulator delivered them…
    let (recorder, endpoint) = recording_endpoint(0).await;
    let emulator = emulator_to(&endpoint, 1).await;
    let workos = emulator.client();
    let ada = create(&workos, "ada@example.com").await;
    for last_name in ["Byron", "Lovelace"] {
        emulator.clock().advance(Duration::from_secs(1));
        workos
            .update_user(&UpdateUser {
                user_id: ada.clone(),
                last_name: Some(Some(last_name.into())),
                ..UpdateUser::default()
            })
            .await
            .unwrap();
    }
    emulator.clock().advance(Duration::from_secs(1));
    workos.delete_user(&ada).await.unwrap();
    settled(&emulator).await;
    let bodies = recorded_bodies(&recorder);
    let names: Vec<&str> = bodies.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "user.created",
            "user.updated",
            "user.updated",
            "user.deleted"
        ]
    );
    let [created, byron, lovelace, deleted] = [0, 1, 2, 3].map(|i| bodies[i].1.clone());

    // …delivered to the example's endpoint out of order, signed like WorkOS.
    let users = UsersTable::new(rusqlite::Connection::open_in_memory().unwrap()).unwrap();
    let verifier = WebhookVerifier::new(SECRET);
    let (listener, base) = listener().await;
    serve(
        listener,
        webhooks_sync::router(AppState {
            users: users.clone(),
            verifier: verifier.clone(),
        }),
    );
    let url = format!("{base}/webhooks/workos");
    let deliver = |body: Bytes| {
        let header = verifier.signature_header(&body, SystemTime::now());
        let url = url.clone();
        async move { post_to(&url, body.to_vec(), Some(&header)).await.0 }
    };
    for body in [created.clone(), lovelace.clone(), byron.clone()] {
        assert_eq!(deliver(body).await, 200);
    }
    assert_eq!(
        emails(&users.rows().unwrap()),
        [("ada@example.com", Some("Lovelace"))],
        "the older update arrived last and changed nothing"
    );
    assert_eq!(deliver(deleted.clone()).await, 200);
    assert!(users.rows().unwrap().is_empty());
    // Retries of every earlier event, after the deletion: she stays deleted.
    for body in [byron, lovelace, created, deleted] {
        assert_eq!(deliver(body).await, 200);
        assert!(users.rows().unwrap().is_empty());
    }
}

/// A file database the test can open a second connection to.
struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        TempDb(std::env::temp_dir().join(format!(
            "authkit-webhooks-sync-{}-{nanos}.sqlite3",
            std::process::id()
        )))
    }

    fn open(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.0).unwrap()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test]
async fn the_catch_up_cursor_never_moves_past_an_event_that_failed_to_apply() {
    let db = TempDb::new();
    let users = UsersTable::new(db.open()).unwrap();
    let (listener, base) = listener().await;
    // One attempt per delivery: a failed one is not retried into success.
    let emulator = emulator_to(&format!("{base}/webhooks/workos"), 1).await;
    let workos = emulator.client();
    serve(
        listener,
        webhooks_sync::router(AppState {
            users: users.clone(),
            verifier: WebhookVerifier::new(SECRET),
        }),
    );
    assert_eq!(users.catch_up(&workos).await.unwrap(), 1);
    let before = users.last_event_id().unwrap();

    // The database refuses Grace (a full disk, a lock) for a while.
    let admin = db.open();
    admin
        .execute_batch(
            "CREATE TRIGGER refuse_grace BEFORE INSERT ON users
             WHEN NEW.email = 'grace@example.com'
             BEGIN SELECT RAISE(ABORT, 'refused for the test'); END;",
        )
        .unwrap();
    create(&workos, "grace@example.com").await;
    create(&workos, "alan@example.com").await;
    settled(&emulator).await;
    let deliveries = emulator.webhook_deliveries();
    let outcome: Vec<(bool, Option<u16>)> = deliveries
        .iter()
        .map(|d| (d.delivered, d.last_status))
        .collect();
    assert_eq!(outcome, [(false, Some(503)), (true, Some(200))]);
    assert_eq!(
        emails(&users.rows().unwrap()),
        [
            ("alan@example.com", None),
            ("demo@example.com", Some("User"))
        ]
    );
    // Alan's later webhook did not move the cursor past Grace's event; a
    // catch-up while the database still refuses stops at it, and stays.
    assert_eq!(users.last_event_id().unwrap(), before);
    assert!(users.catch_up(&workos).await.is_err());
    assert_eq!(users.last_event_id().unwrap(), before);

    admin.execute_batch("DROP TRIGGER refuse_grace").unwrap();
    assert_eq!(users.catch_up(&workos).await.unwrap(), 2);
    assert_eq!(
        emails(&users.rows().unwrap()),
        [
            ("alan@example.com", None),
            ("demo@example.com", Some("User")),
            ("grace@example.com", None)
        ]
    );
    assert_eq!(
        users.last_event_id().unwrap().as_deref(),
        Some(deliveries[1].event_id.as_str())
    );
}
