//! Cross-site checks for the state-changing routes (logout, organization
//! switch).

use http::HeaderMap;

use crate::settings::{Settings, default_port};

/// Refuses cross-site state-changing requests (logout, organization switch):
/// `Sec-Fetch-Site: cross-site`, or an `Origin` that is neither the origin
/// of the request's own redirect URI ([`Settings::redirect_uri_for`]) nor
/// the request's own origin (its host, with the scheme a trusted proxy
/// forwarded or else that redirect URI's). The app's other configured
/// origins do not count: a page on a preview deployment cannot sign users
/// out of production. `Sec-Fetch-Site: same-origin` passes whatever the
/// `Origin`.
pub(crate) fn is_cross_site(settings: &Settings, headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match header("sec-fetch-site") {
        Some("cross-site") => return true,
        // The browser's own word, which no page can forge; it stands even
        // when `Origin` is `null` (a form posted from a page served with
        // `Referrer-Policy: no-referrer` sends `Origin: null`).
        Some("same-origin") => return false,
        _ => {}
    }
    let Some(origin) = header("origin") else {
        return false;
    };
    let Ok(origin) = url::Url::parse(origin) else {
        return true; // `Origin: null` and garbage.
    };
    let redirect = settings.redirect_uri_for(headers);
    let same_as_redirect = origin.origin() == redirect.origin();
    let same_as_request = settings.request_origin(headers).is_some_and(|own| {
        let scheme = own.scheme.unwrap_or(redirect.scheme());
        origin.scheme() == scheme
            && origin
                .host_str()
                .is_some_and(|h| h.eq_ignore_ascii_case(&own.host))
            && origin.port_or_known_default() == Some(own.port.unwrap_or(default_port(scheme)))
    });
    !(same_as_redirect || same_as_request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::{headers, origins, settings};

    #[test]
    fn same_origin_requests_pass() {
        let s = settings();
        for h in [
            headers(&[]),
            headers(&[("sec-fetch-site", "same-origin")]),
            // A form of a page served with `Referrer-Policy: no-referrer`.
            headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")]),
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
            // A sibling subdomain is same-site, not same-origin.
            headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "http://other.localhost:3000"),
            ]),
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

    #[test]
    fn of_several_origins_only_the_requests_own_passes() {
        let s = origins(false);
        let own = headers(&[
            ("origin", "https://preview.example.com"),
            ("host", "preview.example.com"),
        ]);
        assert!(!is_cross_site(&s, &own));
        // Another configured origin is another site: a preview deployment's
        // page cannot sign users out of production.
        for other in [
            headers(&[
                ("origin", "https://preview.example.com"),
                ("host", "app.example.com"),
            ]),
            headers(&[
                ("origin", "http://localhost:3000"),
                ("host", "app.example.com"),
            ]),
            headers(&[
                ("origin", "https://app.example.com"),
                ("host", "preview.example.com"),
            ]),
        ] {
            assert!(is_cross_site(&s, &other), "{other:?}");
        }
    }

    #[test]
    fn behind_a_trusted_proxy_the_forwarded_origin_is_the_requests_own() {
        let forwarded = headers(&[
            ("origin", "https://preview.example.com"),
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "preview.example.com"),
            ("x-forwarded-proto", "https"),
        ]);
        assert!(!is_cross_site(&origins(true), &forwarded));
        assert!(
            is_cross_site(&origins(false), &forwarded),
            "untrusted: ignored"
        );
    }
}
