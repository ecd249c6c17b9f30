//! Sign-out over real HTTP against the emulator: `return_to` (a same-origin
//! path or one of the app's origins, as authkit-nextjs's
//! `signOut({ returnTo })`), open-redirect attempts, and the 405 page a
//! `GET` gets.

use crate::support::app::{self, App, EMAIL, Jar, absolute, location};
use authkit_axum::AuthKitBuilder;
use authkit_axum::emulator::{Emulator, Seed};
use axum::Router;
use reqwest::header::{ALLOW, CONTENT_SECURITY_POLICY, COOKIE, ORIGIN};

async fn start(configure: impl FnOnce(AuthKitBuilder) -> AuthKitBuilder) -> App {
    app::start_demo(configure).await
}

/// Signs out with `form` (and `query`), then follows WorkOS's logout:
/// where the browser ends up.
async fn sign_out(app: &App, jar: &Jar, query: &str, form: &[(&str, &str)]) -> String {
    let r = app
        .http
        .post(format!("{}/auth/logout{query}", app.base))
        .header(COOKIE, jar.header())
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let target = location(&r);
    if !target.starts_with(app.emulator.base_url()) {
        return target;
    }
    let r = app.http.get(&target).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    location(&r)
}

#[tokio::test]
async fn return_to_a_same_origin_path_comes_back_there_through_workos() {
    let app = start(|b| b).await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let landed = sign_out(&app, &jar, "", &[("return_to", "/goodbye?from=menu")]).await;
    assert_eq!(landed, format!("{}/goodbye?from=menu", app.base));
    // In the query too.
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let landed = sign_out(&app, &jar, "?return_to=%2Fbye", &[]).await;
    assert_eq!(landed, format!("{}/bye", app.base));
}

#[tokio::test]
async fn return_to_the_after_logout_origin_is_taken() {
    // WorkOS, like the emulator, redirects only to URLs allowed for the app.
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_redirect_uris(["https://www.example.com/see-you"])
        .start()
        .await
        .unwrap();
    let app = app::start_with(
        emulator,
        |b| b.with_after_logout("https://www.example.com/"),
        Router::new(),
    )
    .await;
    let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let landed = sign_out(
        &app,
        &jar,
        "",
        &[("return_to", "https://www.example.com/see-you")],
    )
    .await;
    assert_eq!(landed, "https://www.example.com/see-you");
}

#[tokio::test]
async fn open_redirect_attempts_in_return_to_get_the_after_logout_url() {
    let app = start(|b| b).await;
    let home = format!("{}/", app.base);
    for attack in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "javascript:alert(1)",
        "http://user@127.0.0.1/",
        " https://evil.example",
    ] {
        let (jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
        assert_eq!(
            sign_out(&app, &jar, "", &[("return_to", attack)]).await,
            home,
            "{attack:?}"
        );
    }
}

#[tokio::test]
async fn signed_out_browsers_go_straight_to_the_chosen_return_to() {
    let app = start(|b| b).await;
    let landed = sign_out(&app, &Jar::default(), "", &[("return_to", "/bye")]).await;
    assert_eq!(landed, format!("{}/bye", app.base));
}

#[tokio::test]
async fn get_on_logout_is_405_with_allow_post_and_a_button_that_signs_out() {
    let app = start(|b| b).await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = app.get(&mut jar, "/auth/logout?return_to=%2Fbye").await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()[ALLOW], "POST");
    let csp = r.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    // No form-action (it would stop the redirects after the post), and the
    // post keeps its Origin for the cross-site check.
    assert!(!csp.contains("form-action"), "{csp}");
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    assert!(jar.session().is_some(), "a GET signs nobody out");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\" action=\"/auth/logout\">"),
        "{html}"
    );
    assert!(html.contains("name=\"return_to\" value=\"/bye\""), "{html}");
    // The button: a same-origin form post (the real browser test clicks it).
    let r = app
        .http
        .post(absolute(&app.base, "/auth/logout"))
        .header(COOKIE, jar.header())
        .header(ORIGIN, &app.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[("return_to", "/bye")])
        .send()
        .await
        .unwrap();
    jar.absorb(&r);
    assert_eq!(r.status(), 303);
    assert!(jar.session().is_none());
}

#[tokio::test]
async fn with_logout_via_get_a_get_still_signs_out() {
    let app = start(|b| b.with_logout_via_get(true)).await;
    let (mut jar, _) = app.sign_in(Jar::default(), "/auth/login", EMAIL).await;
    let r = app.get(&mut jar, "/auth/logout?return_to=%2Fbye").await;
    assert_eq!(r.status(), 303);
    assert!(jar.session().is_none());
    let r = app.http.get(location(&r)).send().await.unwrap();
    assert_eq!(location(&r), format!("{}/bye", app.base));
}
