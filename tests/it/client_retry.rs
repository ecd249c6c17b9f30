//! Retries (429 with Retry-After, 5xx then success, the give-up bound) and
//! auto-pagination, against a real HTTP server on 127.0.0.1.

use std::time::{Duration, Instant};

use crate::support::recording::{API_KEY, CLIENT_ID, Canned, Fixture, MockServer};
use authkit_axum::client::{
    AuthenticateWithPassword, AuthenticateWithRefreshToken, Error, ListUsers, RetryPolicy,
    UserManagement,
};
use futures_util::TryStreamExt;
use serde_json::{Value, json};

fn user(id: &str) -> Value {
    json!({"object": "user", "id": id, "email": format!("{id}@example.com"), "email_verified": true,
           "first_name": null, "last_name": null, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"})
}

#[tokio::test]
async fn rate_limited_get_waits_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    server.reply(
        Canned::json(429, json!({"message": "Too many requests"})).with_header("retry-after", "1"),
    );
    server.reply_json(200, user("user_1"));
    let started = Instant::now();
    let got = server.client().get_user("user_1").await.unwrap();
    assert_eq!(got.id, "user_1");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After was not honoured"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn rate_limited_post_is_retried_because_workos_did_not_act() {
    let server = MockServer::start().await;
    server.reply(Canned::json(429, json!({})).with_header("retry-after", "0"));
    server.replay("authenticate_with_password__valid");
    let auth = server
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "test@workos.app".into(),
            password: "pw".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.email, "test@workos.app");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn service_unavailable_then_success_is_retried_for_gets() {
    let server = MockServer::start().await;
    server.reply_json(503, json!({"message": "Service Unavailable"}));
    server.reply_json(502, json!({"message": "Bad Gateway"}));
    server.reply_json(200, user("user_2"));
    let got = server.client().get_user("user_2").await.unwrap();
    assert_eq!(got.id, "user_2");
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn server_error_on_a_password_login_is_not_repeated() {
    let server = MockServer::start().await;
    server.reply_json(500, json!({"message": "boom"}));
    let err = server
        .client()
        .authenticate_with_password(&AuthenticateWithPassword {
            email: "a@b.c".into(),
            password: "pw".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(err.is_transient());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn refresh_is_retried_after_a_server_error_since_replays_are_safe() {
    let server = MockServer::start().await;
    server.reply_json(500, json!({"message": "boom"}));
    server.replay("authenticate_with_refresh_token__valid");
    let auth = server
        .client()
        .authenticate_with_refresh_token(&AuthenticateWithRefreshToken {
            refresh_token: "rt".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(auth.user.id, "user_01H93WD0R0KWF8Q7BK02C0RPYJ");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "the retry must send the same body"
    );
}

#[tokio::test]
async fn retries_give_up_after_the_bound_with_the_last_error() {
    let server = MockServer::start().await;
    for _ in 0..10 {
        server.reply_json(503, json!({"message": "down"}));
    }
    let client = UserManagement::builder(API_KEY, CLIENT_ID)
        .with_base_url(&server.base_url)
        .with_retry_policy(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_base_delay(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let err = client.get_user("user_1").await.unwrap_err();
    assert!(matches!(&err, Error::Api(e) if e.status == 503), "{err:?}");
    assert_eq!(server.requests().len(), 3, "one attempt plus two retries");
}

#[tokio::test]
async fn persistent_rate_limit_surfaces_retry_after_to_the_caller() {
    let server = MockServer::start().await;
    for _ in 0..5 {
        server.reply(
            Canned::json(429, json!({}))
                .with_header("retry-after", "0")
                .with_header("x-request-id", "req_429"),
        );
    }
    let client = UserManagement::builder(API_KEY, CLIENT_ID)
        .with_base_url(&server.base_url)
        .with_retry_policy(RetryPolicy::default().with_max_retries(1))
        .build()
        .unwrap();
    let err = client.get_user("u").await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    assert_eq!(err.request_id(), Some("req_429"));
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_is_not_waited_out() {
    let server = MockServer::start().await;
    server.reply(Canned::json(429, json!({})).with_header("retry-after", "3600"));
    let started = Instant::now();
    let err = server.client().get_user("u").await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn timeouts_are_typed_and_bounded() {
    let server = MockServer::start().await;
    server.reply(Canned::json(200, user("u")).with_delay(Duration::from_secs(5)));
    let client = UserManagement::builder(API_KEY, CLIENT_ID)
        .with_base_url(&server.base_url)
        .with_timeout(Duration::from_millis(200))
        .with_retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.get_user("u").await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_after_retries() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = UserManagement::builder(API_KEY, CLIENT_ID)
        .with_base_url(format!("http://127.0.0.1:{port}"))
        .with_retry_policy(
            RetryPolicy::default()
                .with_max_retries(2)
                .with_base_delay(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let err = client.get_user("u").await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.is_transient());
    assert!(!err.to_string().contains(API_KEY));
}

#[tokio::test]
async fn list_stream_walks_three_pages_by_after_cursor() {
    let server = MockServer::start().await;
    server.reply_json(200, json!({"object": "list", "data": [user("u1"), user("u2")], "list_metadata": {"before": null, "after": "u2"}}));
    server.reply_json(200, json!({"object": "list", "data": [user("u3"), user("u4")], "list_metadata": {"before": "u3", "after": "u4"}}));
    server.reply_json(200, json!({"object": "list", "data": [user("u5")], "list_metadata": {"before": "u5", "after": null}}));
    let mut params = ListUsers {
        organization_id: Some("org_1".into()),
        ..Default::default()
    };
    params.pagination.limit = Some(2);
    let users: Vec<_> = server
        .client()
        .list_users_stream(params)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<_> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["u1", "u2", "u3", "u4", "u5"]);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let afters: Vec<_> = requests
        .iter()
        .map(|r| r.query.get("after").cloned())
        .collect();
    assert_eq!(afters, [None, Some("u2".into()), Some("u4".into())]);
    for r in &requests {
        assert_eq!(r.query["limit"], "2");
        assert_eq!(r.query["order"], "desc");
        assert_eq!(r.query["organization_id"], "org_1");
    }
}

#[tokio::test]
async fn list_stream_yields_the_error_of_a_failing_page_and_stops() {
    let server = MockServer::start().await;
    server.reply_json(
        200,
        json!({"object": "list", "data": [user("u1")], "list_metadata": {"after": "u1"}}),
    );
    server.reply_json(404, json!({"code": "entity_not_found", "message": "gone"}));
    let results: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(
        server.client().list_users_stream(ListUsers::default()),
    )
    .await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(
        matches!(&results[1], Err(Error::Api(e)) if e.code.as_deref() == Some("entity_not_found"))
    );
}

#[tokio::test]
async fn recorded_list_fixture_streams_to_its_end() {
    let server = MockServer::start().await;
    let fx: Fixture = server.replay("list_users__no_options");
    let users: Vec<_> = server
        .client()
        .list_users_stream(ListUsers::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        users.len(),
        fx.response_body["data"].as_array().unwrap().len()
    );
}
