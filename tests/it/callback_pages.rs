//! The pages the crate renders itself (callback errors, refused sign-out and
//! switch): what they say, and the headers that keep them from being framed,
//! scripted or sniffed.

use crate::support::app::{self, App, EMAIL, Jar};
use authkit_axum::emulator::{Emulator, Seed};
use axum::Router;
use reqwest::header::{
    ACCEPT, CONTENT_SECURITY_POLICY, COOKIE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};

async fn start() -> App {
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .start()
        .await
        .unwrap();
    app::start_with(emulator, |b| b, Router::new()).await
}

fn assert_hardened(r: &reqwest::Response, what: &str) {
    assert_hardened_headers(r.headers(), what);
}

fn assert_hardened_headers(h: &reqwest::header::HeaderMap, what: &str) {
    let csp = h
        .get(CONTENT_SECURITY_POLICY)
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert_eq!(h[X_FRAME_OPTIONS], "DENY", "{what}");
    assert_eq!(h[X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
    assert_eq!(h[REFERRER_POLICY], "no-referrer", "{what}");
}

#[tokio::test]
async fn a_callback_error_page_shows_a_fixed_sentence_not_the_links_text() {
    let app = start().await;
    let spoof = "Your account is suspended: call +1-555-0100";
    for (code, expected) in [
        (
            "access_denied",
            "Sign-in was cancelled or access was denied.",
        ),
        ("login_required", "Sign-in needs you to sign in again."),
        (spoof, "Sign-in was not completed."),
    ] {
        let url = url::Url::parse_with_params(
            &format!("{}/auth/callback", app.base),
            [("error", code), ("error_description", spoof)],
        )
        .unwrap();
        let r = app
            .http
            .get(url)
            .header(ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let headers = r.headers().clone();
        let body = r.text().await.unwrap();
        assert!(body.contains(expected), "{code}: {body}");
        assert!(
            !body.contains("555") && !body.contains("suspended"),
            "{body}"
        );
        assert_hardened_headers(&headers, code);
    }
}

#[tokio::test]
async fn every_page_the_crate_renders_forbids_framing_scripts_and_sniffing() {
    let app = start().await;
    let r = app
        .http
        .get(format!("{}/auth/callback", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_hardened(&r, "callback without code");
    for path in ["/auth/logout", "/auth/switch-organization"] {
        let r = app
            .http
            .post(format!("{}{path}", app.base))
            .header("sec-fetch-site", "cross-site")
            .form(&[("organization_id", "org_1")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
        assert_hardened(&r, path);
    }
}

#[tokio::test]
async fn a_callback_without_its_flow_cookie_says_to_start_on_the_redirect_uris_host() {
    let app = start().await;
    // The browser started on another host: its flow cookie stayed there.
    let pending = app.start_login(Jar::default(), "/auth/login", EMAIL).await;
    let path = pending
        .callback
        .strip_prefix(&app.origin)
        .unwrap()
        .to_owned();
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("No sign-in is in progress in this browser for this host"),
        "{body}"
    );
    assert!(
        body.contains("redirect URI&#39;s host, 127.0.0.1"),
        "{body}"
    );
    assert!(!body.contains("already used"), "{body}");

    // A flow cookie that is there but does not unseal is another story.
    let (name, _) = pending.jar.flows().remove(0);
    let r = app
        .http
        .get(format!("{}{path}", app.base))
        .header(COOKIE, format!("{name}=Fe26.2**tampered"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("expired or was already used"), "{body}");
}
