//! Cross-site checks for the state-changing routes (logout, organization
//! switch).

use http::HeaderMap;

use crate::settings::Settings;

/// Refuses cross-site state-changing requests (logout, organization switch):
/// `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither the request's
/// own host nor the redirect URI's origin.
pub(crate) fn is_cross_site(settings: &Settings, headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    let Some(origin) = header("origin") else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return true; // `Origin: null` and garbage.
    };
    let redirect = &settings.redirect_uri;
    let same_as_redirect = origin.scheme() == redirect.scheme()
        && origin.host_str() == redirect.host_str()
        && origin.port_or_known_default() == redirect.port_or_known_default();
    let host = header("host");
    // The Host header carries no scheme: the app's scheme is the redirect URI's.
    let same_as_host = origin.scheme() == redirect.scheme()
        && host.is_some_and(|h| {
            let authority = match origin.port() {
                Some(port) => format!("{}:{port}", origin.host_str().unwrap_or_default()),
                None => origin.host_str().unwrap_or_default().to_owned(),
            };
            h.eq_ignore_ascii_case(&authority)
        });
    !(same_as_redirect || same_as_host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{headers, settings};

    #[test]
    fn same_origin_requests_pass() {
        let s = settings();
        for h in [
            headers(&[]),
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("origin", "http://localhost:3000")]),
            // The app's own host, reached by another name than the redirect URI's.
            headers(&[
                ("origin", "http://127.0.0.1:3000"),
                ("host", "127.0.0.1:3000"),
            ]),
        ] {
            assert!(!is_cross_site(&s, &h), "{h:?}");
        }
    }

    #[test]
    fn cross_site_and_opaque_origins_are_refused() {
        let s = settings();
        for h in [
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("origin", "http://evil.example")]),
            headers(&[("origin", "null")]),
            // Same host, other scheme or port.
            headers(&[("origin", "https://localhost:3000")]),
            headers(&[
                ("origin", "http://localhost:4000"),
                ("host", "localhost:3000"),
            ]),
        ] {
            assert!(is_cross_site(&s, &h), "{h:?}");
        }
    }
}
