//! Reading the request's cookies and writing `Set-Cookie` headers.
//!
//! The layer reads and writes headers directly instead of going through a
//! cookie jar, so it works next to (or without) a `CookieManagerLayer` of the
//! app's own.

use std::borrow::Cow;
use std::time::Duration;

use cookie::{Cookie, SameSite as CookieSameSite};
use http::{HeaderMap, HeaderValue, header};

use crate::authkit::CookieConfig;
use crate::config::SameSite;

/// Browsers cap a cookie header at about 4 KiB; longer `Cookie` request
/// headers than this are not parsed (they cannot hold a valid session).
pub(crate) const MAX_COOKIE_HEADER: usize = 64 * 1024;

/// Every cookie of the request, name and value, in order.
pub(crate) fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter(|v| v.len() <= MAX_COOKIE_HEADER)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.trim(), value.trim().trim_matches('"')))
        })
}

/// The value of the first cookie named `name`, percent-decoded if needed.
pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<Cow<'a, str>> {
    let (_, value) = request_cookies(headers).find(|(n, _)| *n == name)?;
    if value.contains('%') {
        percent_decode(value).map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(value))
    }
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Attributes of one cookie to write.
pub(crate) struct CookieSpec<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
    pub(crate) path: &'a str,
    pub(crate) max_age: Option<Duration>,
    pub(crate) same_site: SameSite,
}

pub(crate) fn set_cookie_header(config: &CookieConfig, spec: CookieSpec<'_>) -> HeaderValue {
    let mut cookie = Cookie::build((spec.name.to_owned(), spec.value.to_owned()))
        .path(spec.path.to_owned())
        .http_only(true)
        .secure(config.secure)
        .same_site(match spec.same_site {
            SameSite::Lax => CookieSameSite::Lax,
            SameSite::Strict => CookieSameSite::Strict,
            SameSite::None => CookieSameSite::None,
        });
    if let Some(domain) = &config.domain {
        cookie = cookie.domain(domain.clone());
    }
    if let Some(max_age) = spec.max_age {
        cookie = cookie.max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ));
    }
    HeaderValue::from_str(&cookie.build().to_string())
        .expect("cookie names and sealed values are header-safe")
}

/// `Set-Cookie` for the session cookie.
pub(crate) fn session_cookie(config: &CookieConfig, value: &str) -> HeaderValue {
    set_cookie_header(
        config,
        CookieSpec {
            name: &config.name,
            value,
            path: "/",
            max_age: Some(config.max_age),
            same_site: config.same_site,
        },
    )
}

/// `Set-Cookie` that deletes the session cookie.
pub(crate) fn clear_session_cookie(config: &CookieConfig) -> HeaderValue {
    clear_cookie(config, &config.name, "/", config.same_site)
}

/// `Set-Cookie` that deletes a cookie.
pub(crate) fn clear_cookie(
    config: &CookieConfig,
    name: &str,
    path: &str,
    same_site: SameSite,
) -> HeaderValue {
    set_cookie_header(
        config,
        CookieSpec {
            name,
            value: "",
            path,
            max_age: Some(Duration::ZERO),
            same_site,
        },
    )
}

/// Whether a response already sets the cookie `name` (then the layer leaves it alone).
pub(crate) fn response_sets_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers.get_all(header::SET_COOKIE).iter().any(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.split_once('='))
            .is_some_and(|(n, _)| n.trim() == name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(secure: bool) -> CookieConfig {
        CookieConfig {
            name: "wos-session".into(),
            max_age: Duration::from_secs(60),
            domain: Some("example.com".into()),
            same_site: SameSite::Lax,
            secure,
        }
    }

    #[test]
    fn reads_the_named_cookie_among_others_and_decodes_percent_escapes() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            "a=1; wos-session=Fe26.2*1*x~2".parse().unwrap(),
        );
        h.append(header::COOKIE, "b=%7E".parse().unwrap());
        assert_eq!(
            read_cookie(&h, "wos-session").as_deref(),
            Some("Fe26.2*1*x~2")
        );
        assert_eq!(read_cookie(&h, "b").as_deref(), Some("~"));
        assert_eq!(read_cookie(&h, "missing"), None);
    }

    #[test]
    fn session_cookie_carries_every_attribute() {
        let v = session_cookie(&config(true), "sealed");
        let s = v.to_str().unwrap();
        for part in [
            "wos-session=sealed",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=60",
            "Domain=example.com",
        ] {
            assert!(s.contains(part), "{s} lacks {part}");
        }
        let cleared = clear_session_cookie(&config(false));
        let s = cleared.to_str().unwrap();
        assert!(s.contains("Max-Age=0") && !s.contains("Secure"), "{s}");
    }
}
