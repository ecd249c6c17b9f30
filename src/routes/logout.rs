//! `POST /auth/logout` (with an optional `return_to`, as authkit-nextjs's
//! `signOut({ returnTo })`), and the answer to a `GET` of it when sign-out
//! by `GET` is off: 405 with a page whose button signs out.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use url::Url;

use super::csrf::is_cross_site;
use super::return_to;
use crate::cookies;
use crate::hooks::SignOut;
use crate::pages::{self, PageKind};
use crate::settings::Settings;
use crate::shared::Shared;
use crate::state::AuthState;
use crate::telemetry;

/// The longest `return_to` taken.
const MAX_RETURN_TO: usize = 2048;

/// The logout form (or, for `GET` when allowed, query).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LogoutForm {
    return_to: Option<String>,
}

pub(crate) async fn logout(
    State(shared): State<Arc<Shared>>,
    state: Option<Extension<AuthState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let config = &shared.settings;
    if is_cross_site(&shared.settings, &headers) {
        return pages::error_page(
            shared.hooks.page.as_ref(),
            PageKind::SignOutRefused,
            StatusCode::FORBIDDEN,
            "Sign-out refused",
            "Sign-out must be requested from this site.",
            "/",
        );
    }
    // The form's field, else the query's; anything unsafe is ignored.
    let requested = form
        .ok()
        .and_then(|Form(f)| f.return_to)
        .or_else(|| query_return_to(query.as_deref()));
    let destination = sign_out_destination(config, &headers, requested.as_deref());
    // The session the layer resolved is the one to end at WorkOS (of several
    // session cookies, a stale copy may be sent first). Without it (signed
    // out, WorkOS unavailable, the routes mounted without the layer), the
    // first of the cookies that names a session.
    let resolved = state.as_ref().and_then(|Extension(state)| state.session());
    let (target, user_id, session_id) = match resolved {
        Some(session) => (
            shared
                .sessions
                .client()
                .get_logout_url(session.session_id(), Some(&destination)),
            Some(session.user.id.clone()),
            Some(session.session_id().to_owned()),
        ),
        None => cookies::read_session(&headers, &config.cookie.name)
            .iter()
            .find_map(|cookie| {
                let url = shared
                    .sessions
                    .logout_url(Some(cookie), Some(&destination))
                    .ok()?;
                let data = shared.sessions.unseal(cookie).ok()?;
                Some((url, Some(data.user.id.clone()), data.session_id()))
            })
            .unwrap_or_else(|| (destination.clone(), None, None)),
    };
    tracing::info!(
        user_id = user_id.as_deref(),
        session_id = session_id.as_deref(),
        "user signed out"
    );
    telemetry::sign_out();
    let mut response = Redirect::to(&target).into_response();
    for value in cookies::clear_session(&config.cookie_for(&headers), &headers) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    if let Some(hook) = &shared.hooks.on_sign_out {
        hook(&SignOut {
            user_id,
            session_id,
            return_to: destination,
        })
        .await;
    }
    response
}

/// `GET` of the logout route while sign-out by `GET` is off: 405, `Allow:
/// POST`, and a page with a button that posts the sign-out (carrying the
/// query's `return_to` along, checked when posted).
pub(crate) async fn confirm(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let action = format!("{}/logout", shared.settings.base_path);
    let return_to = query_return_to(query.as_deref()).filter(|r| r.len() <= MAX_RETURN_TO);
    pages::sign_out_page(shared.hooks.page.as_ref(), &action, return_to.as_deref())
}

fn query_return_to(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "return_to")
        .map(|(_, v)| v.into_owned())
}

/// Where WorkOS sends the browser once the session is ended: `requested`
/// when it is a same-origin path (made absolute on the request's origin,
/// its redirect URI's) or an absolute URL on one of the app's origins (any
/// configured redirect URI's, the after-logout URL's); otherwise the
/// after-logout URL.
pub(crate) fn sign_out_destination(
    settings: &Settings,
    request: &HeaderMap,
    requested: Option<&str>,
) -> String {
    let fallback = || settings.after_logout_for(request).into_owned();
    let Some(requested) = requested.filter(|r| r.len() <= MAX_RETURN_TO) else {
        return fallback();
    };
    if requested.starts_with('/') {
        let app = settings.redirect_uri_for(request);
        return match return_to::is_safe(requested).then(|| app.join(requested)) {
            Some(Ok(url)) => url.into(),
            _ => fallback(),
        };
    }
    // An absolute URL: written plainly (no whitespace or control character
    // a browser would strip), http(s), no credentials, on an allowed origin.
    if requested
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
        || requested.contains('\\')
    {
        return fallback();
    }
    let Ok(url) = Url::parse(requested) else {
        return fallback();
    };
    let after_logout = Url::parse(&settings.after_logout).ok().map(|u| u.origin());
    let on_allowed_origin = matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && (settings
            .redirect_uris
            .iter()
            .any(|u| u.origin() == url.origin())
            || after_logout.is_some_and(|o| o == url.origin()));
    if on_allowed_origin {
        url.into()
    } else {
        fallback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::settings;

    #[test]
    fn same_origin_paths_and_the_apps_origins_are_taken() {
        let s = Settings {
            after_logout: "https://www.example.com/bye".into(),
            ..settings()
        };
        for (requested, expected) in [
            ("/", "http://localhost:3000/"),
            (
                "/goodbye?from=app#top",
                "http://localhost:3000/goodbye?from=app#top",
            ),
            (
                "http://localhost:3000/signed-out",
                "http://localhost:3000/signed-out",
            ),
            (
                "https://www.example.com/other",
                "https://www.example.com/other",
            ),
            ("HTTPS://WWW.EXAMPLE.COM:443/x", "https://www.example.com/x"),
        ] {
            assert_eq!(
                sign_out_destination(&s, &HeaderMap::new(), Some(requested)),
                expected,
                "{requested}"
            );
        }
        assert_eq!(
            sign_out_destination(&s, &HeaderMap::new(), None),
            "https://www.example.com/bye"
        );
    }

    #[test]
    fn open_redirect_attempts_get_the_after_logout_url() {
        let s = settings();
        for attack in [
            "//evil.example",
            "/\\evil.example",
            "/%2f%2fevil.example",
            "/\t/evil.example",
            "https://evil.example/",
            "http://localhost:3000.evil.example/",
            "http://localhost:3000@evil.example/",
            "http://user@localhost:3000/",
            "https://localhost:3000/",
            "http://localhost:4000/",
            "javascript:alert(1)",
            "data:text/html,x",
            " http://localhost:3000/",
            "http://localhost:3000/\n",
            "evil.example",
            "",
        ] {
            assert_eq!(
                sign_out_destination(&s, &HeaderMap::new(), Some(attack)),
                s.after_logout,
                "{attack:?} passed"
            );
        }
        let long = format!("/{}", "a".repeat(MAX_RETURN_TO));
        assert_eq!(
            sign_out_destination(&s, &HeaderMap::new(), Some(&long)),
            s.after_logout
        );
    }
}
