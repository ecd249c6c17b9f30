//! Signing in to an app that runs elsewhere (another process, behind a load
//! balancer) the way a browser does, with the [`Jar`] of [`super::app`]:
//! the app's login route, AuthKit's hosted page (the emulator's form), the
//! redirect back to the app's callback.

use reqwest::header::{ACCEPT, COOKIE};

use super::app::{self, Jar, absolute, location};

/// A finished sign-in.
pub struct SignedIn {
    /// The browser's cookies for the app's origin, the session among them.
    pub jar: Jar,
    /// The value of `replica_header` on the login and on the callback
    /// responses (which replica served each, behind a balancer).
    pub login_by: Option<String>,
    pub callback_by: Option<String>,
}

/// Signs `email` in at the app on `origin` (`http://host:port`), through
/// whatever AuthKit login page the app sends the browser to. `http` must not
/// follow redirects.
pub async fn sign_in(
    http: &reqwest::Client,
    origin: &str,
    email: &str,
    password: &str,
    replica_header: &str,
) -> SignedIn {
    let by = |r: &reqwest::Response| {
        r.headers()
            .get(replica_header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut jar = Jar::default();

    // The app's login route: a flow cookie and a redirect to AuthKit.
    let r = http
        .get(format!("{origin}/auth/login"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{origin}/auth/login");
    jar.absorb(&r);
    assert!(
        !jar.flows().is_empty(),
        "the login route sets a flow cookie"
    );
    let login_by = by(&r);

    // AuthKit's hosted page (on another origin: the app's cookies stay home).
    let mut page = location(&r);
    let html = loop {
        let r = http.get(&page).send().await.unwrap();
        if r.status().is_redirection() {
            page = absolute(&origin_of(&page), &location(&r));
            continue;
        }
        assert_eq!(r.status(), 200, "{page}");
        break r.text().await.unwrap();
    };
    let marker = "name=\"authorization_id\" value=\"";
    let start = html
        .find(marker)
        .expect("the login form's authorization id")
        + marker.len();
    let id = &html[start..start + html[start..].find('"').unwrap()];
    let r = app::post_login_form(http, &origin_of(&page), id, email, password).await;
    assert!(r.status().is_redirection(), "login form: {}", r.status());
    let callback = location(&r);
    assert!(
        callback.starts_with(&format!("{origin}/auth/callback?")),
        "AuthKit sends the browser back to the app: {callback}"
    );

    // The callback, with the flow cookie.
    let r = http
        .get(&callback)
        .header(ACCEPT, "text/html")
        .header(COOKIE, jar.header())
        .send()
        .await
        .unwrap();
    let callback_by = by(&r);
    let status = r.status();
    jar.absorb(&r);
    assert_eq!(
        status,
        303,
        "callback on {callback_by:?}: {}",
        r.text().await.unwrap_or_default()
    );
    assert!(
        jar.session().is_some(),
        "the callback set the session cookie"
    );
    SignedIn {
        jar,
        login_by,
        callback_by,
    }
}

/// `scheme://host:port` of a URL.
fn origin_of(url: &str) -> String {
    url::Url::parse(url).unwrap().origin().ascii_serialization()
}
