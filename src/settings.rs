//! The resolved settings: what [`AuthKitBuilder::build`](crate::AuthKitBuilder::build)
//! checked and filled in, read by the layer, the rejections and the routes,
//! and the pure policies that follow from them (which paths need a session,
//! which are API paths, where the auth routes live, which of the redirect
//! URIs a request is for).

use std::borrow::Cow;
use std::time::Duration;

use http::{HeaderMap, header};
use url::Url;

use crate::cookies::CookieSettings;

/// Every setting, checked and with its default applied.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The cookie attributes for the default redirect URI; a request for
    /// another one gets [`cookie_for`](Self::cookie_for)'s.
    pub(crate) cookie: CookieSettings,
    /// `Secure` as the app forced it (`with_secure_cookies`); `None`: each
    /// redirect URI's scheme decides.
    pub(crate) secure_cookies: Option<bool>,
    /// The default redirect URI: the first of `redirect_uris`.
    pub(crate) redirect_uri: Url,
    /// Every redirect URI, the default first; all share `callback_path`.
    pub(crate) redirect_uris: Vec<Url>,
    /// Whether `Forwarded` / `X-Forwarded-*` say which origin a request is for.
    pub(crate) trust_forwarded: bool,
    pub(crate) callback_path: String,
    /// Where the auth routes live, without a trailing slash (`/auth`).
    pub(crate) base_path: String,
    pub(crate) after_login: String,
    /// Where WorkOS sends the browser after logout: the app's
    /// `with_after_logout`, or the default redirect URI's origin + `/` (see
    /// [`after_logout_for`](Self::after_logout_for)).
    pub(crate) after_logout: String,
    /// Whether `after_logout` is the app's own (else it follows the request's origin).
    pub(crate) after_logout_fixed: bool,
    pub(crate) refresh_buffer: Option<Duration>,
    pub(crate) public_paths: Vec<String>,
    pub(crate) protect_by_default: bool,
    pub(crate) api_prefixes: Vec<String>,
    pub(crate) logout_via_get: bool,
    /// Whether `GET <base>/access-token` is mounted.
    pub(crate) access_token_route: bool,
    /// Whether `Authorization: Bearer` access tokens are accepted.
    pub(crate) bearer_tokens: bool,
    /// Whether the session cookie is read.
    pub(crate) session_cookies: bool,
}

impl Settings {
    /// The login route (`/auth/login`).
    pub(crate) fn login_path(&self) -> String {
        format!("{}/login", self.base_path)
    }

    /// A path of one of the crate's own routes (`/auth/...` or the callback):
    /// always public, so that a misconfiguration cannot make login redirect
    /// to login.
    ///
    /// A root base path (refused by `build()`) would put every path under
    /// it: then only the routes themselves count, so nothing fails open.
    pub(crate) fn is_auth_route(&self, path: &str) -> bool {
        const ROUTES: [&str; 6] = [
            "/login",
            "/signup",
            "/logout",
            "/switch-organization",
            "/access-token",
            "/organization-selection",
        ];
        path == self.callback_path
            || if self.base_path.is_empty() {
                ROUTES.contains(&path)
            } else {
                under(path, &self.base_path)
            }
    }

    /// The logout route (`/auth/logout`), where an expired session is not
    /// refreshed: signing out needs its id, not a new token.
    pub(crate) fn is_logout_route(&self, path: &str) -> bool {
        path.strip_prefix(self.base_path.as_str()) == Some("/logout")
    }

    /// Whether the layer itself must refuse a request for `path` that has no
    /// session: only under [`protect_by_default`](crate::AuthKitBuilder::with_protect_by_default),
    /// and never for the auth routes or a public path.
    pub(crate) fn requires_session(&self, path: &str) -> bool {
        self.protect_by_default
            && !self.is_auth_route(path)
            && !self
                .public_paths
                .iter()
                .any(|p| match p.strip_suffix("/*") {
                    Some(prefix) => under(path, prefix),
                    None => path == p,
                })
    }

    /// Whether `path` is under one of the API prefixes, whose requests are
    /// answered 401, never redirected.
    pub(crate) fn is_api_path(&self, path: &str) -> bool {
        self.api_prefixes
            .iter()
            .any(|p| under(path, p.trim_end_matches('/')))
    }

    /// How long before its expiry a token of `lifetime_secs` is refreshed:
    /// the configured buffer, or by default 60 s (30 s for tokens living
    /// 5 minutes or less) but never more than half the token's life, so a
    /// short-lived token is not refreshed on every request from the moment
    /// it is issued.
    pub(crate) fn refresh_buffer_for(&self, lifetime_secs: i64) -> Duration {
        if let Some(buffer) = self.refresh_buffer {
            return buffer;
        }
        let default = if lifetime_secs <= 300 { 30 } else { 60 };
        let half = u64::try_from(lifetime_secs / 2).unwrap_or(0);
        Duration::from_secs(default.min(half))
    }

    /// The longest path both the login route and the callback are under:
    /// where the per-flow verifier cookies are scoped.
    pub(crate) fn verifier_cookie_path(&self) -> String {
        let login = self.login_path();
        let callback = &self.callback_path;
        let mut common = String::from("/");
        for (a, b) in login.split('/').zip(callback.split('/')).skip(1) {
            if a != b {
                break;
            }
            // Only whole segments that both paths continue past.
            if login.len() > common.len() + a.len() && callback.len() > common.len() + a.len() {
                common.push_str(a);
                common.push('/');
            }
        }
        if common.len() > 1 {
            common.pop();
        }
        common
    }
}

/// The origin a request was sent to, as far as it tells: its scheme only
/// when a trusted proxy says, its host (lowercase) and its port when one is
/// written or follows from the scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestOrigin {
    pub(crate) scheme: Option<&'static str>,
    pub(crate) host: String,
    pub(crate) port: Option<u16>,
}

impl RequestOrigin {
    /// Whether `url` is on this origin: the same host and port, and the
    /// same scheme when it is known. Without a port, the request is on its
    /// scheme's default port (or, scheme unknown, on `url`'s).
    fn matches(&self, url: &Url) -> bool {
        let host = url
            .host_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(&self.host));
        let port = match self.port {
            Some(port) => url.port_or_known_default() == Some(port),
            None => url.port().is_none(),
        };
        host && port && self.scheme.is_none_or(|s| s == url.scheme())
    }
}

impl Settings {
    /// The origin `headers` say the request was sent to: the `Host` header
    /// (the layer copies an HTTP/2 request's `:authority` there) or, when
    /// the proxy is trusted, what it forwarded. `None` when that is missing
    /// or not a plain `host[:port]` (userinfo, paths, spaces, bad ports).
    ///
    /// Behind a trusted proxy, `Forwarded`'s `host=`/`proto=` count first,
    /// then `X-Forwarded-Host` / `X-Forwarded-Proto` / `X-Forwarded-Port`;
    /// of a list (several hops), the last value: the one the proxy next to
    /// the app wrote. Earlier values came from further away, the client
    /// included, if that proxy appends instead of replacing.
    pub(crate) fn request_origin(&self, headers: &HeaderMap) -> Option<RequestOrigin> {
        let (forwarded_host, scheme, forwarded_port) = if self.trust_forwarded {
            let proto =
                forwarded(headers, "proto").or_else(|| last_value(headers, "x-forwarded-proto"));
            let host =
                forwarded(headers, "host").or_else(|| last_value(headers, "x-forwarded-host"));
            let port = last_value(headers, "x-forwarded-port");
            (host, proto.and_then(|p| scheme(&p)), port)
        } else {
            (None, None, None)
        };
        let (host, mut port) = match forwarded_host {
            Some(host) => authority(&host)?,
            None => authority(headers.get(header::HOST)?.to_str().ok()?)?,
        };
        if port.is_none()
            && let Some(forwarded_port) = forwarded_port
        {
            port = Some(forwarded_port.parse().ok()?);
        }
        let port = port.or_else(|| scheme.map(default_port));
        Some(RequestOrigin { scheme, host, port })
    }

    /// The redirect URI for a request: the configured one on the request's
    /// origin, else the default (the first). Chosen only among the
    /// configured ones, never built from the request. When several share
    /// the request's host and port (`http://` and `https://` of one host),
    /// the scheme a trusted proxy forwarded wins, else the default's.
    pub(crate) fn redirect_uri_for(&self, headers: &HeaderMap) -> &Url {
        let default = &self.redirect_uri;
        if self.redirect_uris.len() < 2 {
            return default;
        }
        let Some(origin) = self.request_origin(headers) else {
            return default;
        };
        let scheme = origin.scheme.unwrap_or(default.scheme());
        let mut on_origin = self.redirect_uris.iter().filter(|u| origin.matches(u));
        let first = on_origin.clone().next();
        on_origin
            .find(|u| u.scheme() == scheme)
            .or(first)
            .unwrap_or(default)
    }

    /// The cookie attributes for a request: `Secure` when its redirect URI
    /// is https (unless the app forced it either way).
    pub(crate) fn cookie_for(&self, headers: &HeaderMap) -> Cow<'_, CookieSettings> {
        if self.secure_cookies.is_some() || self.redirect_uris.len() < 2 {
            return Cow::Borrowed(&self.cookie);
        }
        let secure = self.redirect_uri_for(headers).scheme() == "https";
        if secure == self.cookie.secure {
            Cow::Borrowed(&self.cookie)
        } else {
            Cow::Owned(CookieSettings {
                secure,
                ..self.cookie.clone()
            })
        }
    }

    /// Where WorkOS sends the browser after a logout: the app's
    /// `with_after_logout`, or the request's redirect URI's origin + `/`.
    pub(crate) fn after_logout_for(&self, headers: &HeaderMap) -> Cow<'_, str> {
        if self.after_logout_fixed || self.redirect_uris.len() < 2 {
            return Cow::Borrowed(&self.after_logout);
        }
        Cow::Owned(origin_root(self.redirect_uri_for(headers)))
    }
}

/// `scheme://host[:port]/` of `url`.
pub(crate) fn origin_root(url: &Url) -> String {
    let mut root = url.clone();
    root.set_path("/");
    root.set_query(None);
    root.set_fragment(None);
    root.to_string()
}

/// The port of `scheme` (`http` or `https`) when a URL names none.
pub(crate) fn default_port(scheme: &str) -> u16 {
    if scheme == "https" { 443 } else { 80 }
}

/// `http` or `https` (any case); other schemes are ignored.
fn scheme(proto: &str) -> Option<&'static str> {
    if proto.eq_ignore_ascii_case("https") {
        Some("https")
    } else if proto.eq_ignore_ascii_case("http") {
        Some("http")
    } else {
        None
    }
}

/// The last comma-separated value of every `name` header, trimmed.
fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    let last = headers.get_all(name).iter().next_back()?;
    let value = last.to_str().ok()?.rsplit(',').next()?.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// The parameter `name` of the last element of the `Forwarded` headers
/// (RFC 7239: `for=…;host=…;proto=…, …`), without its quotes.
fn forwarded(headers: &HeaderMap, name: &str) -> Option<String> {
    let last = headers.get_all(header::FORWARDED).iter().next_back()?;
    let element = last.to_str().ok()?.rsplit(',').next()?;
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| {
            let value = value.trim();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
                .to_owned()
        })
    })
}

/// A `Host`-style `host[:port]`, lowercase, if it is nothing else: a
/// registered name or IPv4 address of letters, digits, `-`, `.` and `_`,
/// or an IPv6 address in brackets, and an optional numeric port.
fn authority(raw: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if raw.starts_with('[') {
        let end = raw.find(']')?;
        let (host, rest) = raw.split_at(end + 1);
        let inner = &host[1..host.len() - 1];
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        (host, rest)
    } else {
        let end = raw.find(':').unwrap_or(raw.len());
        let (host, rest) = raw.split_at(end);
        let name = |b: u8| b.is_ascii_alphanumeric() || b"-._".contains(&b);
        if host.is_empty() || host.len() > 253 || !host.bytes().all(name) {
            return None;
        }
        (host, rest)
    };
    let port = match port {
        "" => None,
        rest => {
            let digits = rest.strip_prefix(':')?;
            if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            Some(digits.parse().ok()?)
        }
    };
    Some((host.to_ascii_lowercase(), port))
}

/// `path` is `prefix` itself or below it (`/api`, `/api/x`, not `/apix`).
/// An empty prefix (the root, `/` trimmed) covers every path.
fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.is_empty(),
        None => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::SameSite;

    /// What `run` logs at `level` and above, as text (targets included):
    /// for the tests of this and other modules that pin a log line.
    pub(crate) fn logs_of(level: tracing::Level, run: impl FnOnce()) -> String {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        // With one thread-local subscriber alone, a callsite another test
        // thread reaches first is judged by that thread's default (none)
        // and cached as disabled: a global do-nothing subscriber, set once,
        // makes every callsite be judged by all subscribers, this one too.
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let _ = tracing::subscriber::set_global_default(
                tracing::subscriber::NoSubscriber::default(),
            );
        });
        tracing::subscriber::with_default(subscriber, || {
            tracing::callsite::rebuild_interest_cache();
            run()
        });
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    /// Request headers for the policy tests of this and other modules.
    pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, http::HeaderValue::from_static(value));
        }
        h
    }

    /// Settings for the policy tests of this and other modules.
    pub(crate) fn settings() -> Settings {
        Settings {
            cookie: CookieSettings {
                name: "wos-session".into(),
                max_age: Duration::from_secs(60),
                domain: None,
                same_site: SameSite::Lax,
                secure: false,
            },
            secure_cookies: None,
            redirect_uri: Url::parse("http://localhost:3000/auth/callback").unwrap(),
            redirect_uris: vec![Url::parse("http://localhost:3000/auth/callback").unwrap()],
            trust_forwarded: false,
            callback_path: "/auth/callback".into(),
            base_path: "/auth".into(),
            after_login: "/".into(),
            after_logout: "http://localhost:3000/".into(),
            after_logout_fixed: false,
            refresh_buffer: None,
            public_paths: vec!["/".into(), "/docs/*".into()],
            protect_by_default: true,
            api_prefixes: vec!["/api".into(), "/v2/".into()],
            logout_via_get: false,
            access_token_route: true,
            bearer_tokens: true,
            session_cookies: true,
        }
    }

    /// Settings with several origins: production (https, the default), a
    /// preview deployment, and local development on plain HTTP.
    pub(crate) fn origins(trust_forwarded: bool) -> Settings {
        let uris: Vec<Url> = [
            "https://app.example.com/auth/callback",
            "https://preview.example.com/auth/callback",
            "http://localhost:3000/auth/callback",
        ]
        .iter()
        .map(|u| Url::parse(u).unwrap())
        .collect();
        Settings {
            cookie: CookieSettings {
                secure: true,
                ..settings().cookie
            },
            redirect_uri: uris[0].clone(),
            redirect_uris: uris,
            trust_forwarded,
            after_logout: "https://app.example.com/".into(),
            ..settings()
        }
    }

    fn chosen(s: &Settings, pairs: &[(&'static str, &'static str)]) -> String {
        s.redirect_uri_for(&headers(pairs)).to_string()
    }

    const APP: &str = "https://app.example.com/auth/callback";
    const PREVIEW: &str = "https://preview.example.com/auth/callback";
    const LOCAL: &str = "http://localhost:3000/auth/callback";

    #[test]
    fn the_redirect_uri_on_the_requests_host_is_chosen_else_the_default() {
        let s = origins(false);
        assert_eq!(chosen(&s, &[("host", "preview.example.com")]), PREVIEW);
        assert_eq!(chosen(&s, &[("host", "app.example.com")]), APP);
        assert_eq!(chosen(&s, &[("host", "localhost:3000")]), LOCAL);
        assert_eq!(chosen(&s, &[]), APP, "no Host at all");
        for unknown in [
            "evil.example",
            "preview.example.com.evil.example",
            "localhost", // port 80, not 3000
            "localhost:4000",
            "app.example.com:8443",
            "example.com",
        ] {
            let h = headers(&[("host", unknown)]);
            assert_eq!(s.redirect_uri_for(&h).as_str(), APP, "{unknown}");
        }
    }

    #[test]
    fn hosts_match_in_any_case_and_with_their_default_port_written_out() {
        let s = origins(false);
        assert_eq!(chosen(&s, &[("host", "PREVIEW.Example.COM")]), PREVIEW);
        assert_eq!(chosen(&s, &[("host", "preview.example.com:443")]), PREVIEW);
        assert_eq!(chosen(&s, &[("host", "LocalHost:3000")]), LOCAL);
        // :80 is http's port: no https URI is there.
        assert_eq!(chosen(&s, &[("host", "preview.example.com:80")]), APP);
    }

    #[test]
    fn a_host_that_is_not_a_plain_host_and_port_gets_the_default() {
        let s = origins(false);
        for garbage in [
            "user@preview.example.com",
            "preview.example.com@evil.example",
            "preview.example.com/evil",
            "preview.example.com:443:443",
            "preview.example.com:",
            "preview.example.com:99999",
            "preview.example.com:+443",
            "preview.example.com, evil.example",
            "preview.example.com evil",
            "[::1",
            "[]",
            "",
        ] {
            let h = headers(&[("host", garbage)]);
            assert_eq!(s.redirect_uri_for(&h).as_str(), APP, "{garbage:?}");
        }
        let mut h = http::HeaderMap::new();
        h.insert(
            "host",
            http::HeaderValue::from_bytes(b"preview.example.com\xff").unwrap(),
        );
        assert_eq!(s.redirect_uri_for(&h).as_str(), APP, "not UTF-8");
    }

    #[test]
    fn forwarded_headers_are_ignored_completely_unless_the_proxy_is_trusted() {
        let s = origins(false);
        for spoof in [
            headers(&[
                ("host", "app.example.com"),
                ("x-forwarded-host", "preview.example.com"),
            ]),
            headers(&[
                ("host", "app.example.com"),
                ("forwarded", "host=preview.example.com;proto=https"),
            ]),
            headers(&[("host", "localhost:3000"), ("x-forwarded-proto", "https")]),
        ] {
            let chosen = s.redirect_uri_for(&spoof).as_str();
            let host = spoof["host"].to_str().unwrap();
            assert!(chosen.contains(host), "{spoof:?} chose {chosen}");
        }
        // Not even the cookies' Secure follows an untrusted proto.
        let h = headers(&[("host", "localhost:3000"), ("x-forwarded-proto", "https")]);
        assert!(!s.cookie_for(&h).secure);
    }

    #[test]
    fn a_trusted_proxy_says_which_origin_and_its_last_hop_counts() {
        let s = origins(true);
        // The proxy's upstream Host is not the public one.
        let upstream = ("host", "127.0.0.1:8080");
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("x-forwarded-host", "preview.example.com"),
                    ("x-forwarded-proto", "https")
                ]
            ),
            PREVIEW
        );
        assert_eq!(
            chosen(&s, &[upstream, ("x-forwarded-host", "preview.example.com")]),
            PREVIEW
        );
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    (
                        "forwarded",
                        "for=192.0.2.1;host=preview.example.com;proto=https"
                    )
                ]
            ),
            PREVIEW
        );
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("forwarded", "host=\"localhost:3000\";proto=http")
                ]
            ),
            LOCAL
        );
        // Several hops: the last one (the proxy next to the app) wins.
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("x-forwarded-host", "localhost:3000, preview.example.com")
                ]
            ),
            PREVIEW
        );
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("x-forwarded-host", "preview.example.com,evil.example")
                ]
            ),
            APP
        );
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("forwarded", "host=localhost:3000, host=preview.example.com")
                ]
            ),
            PREVIEW
        );
        // Forwarded before X-Forwarded-*.
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("forwarded", "host=preview.example.com"),
                    ("x-forwarded-host", "localhost:3000")
                ]
            ),
            PREVIEW
        );
        // X-Forwarded-Port completes a host without a port (nginx's $host).
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("x-forwarded-host", "localhost"),
                    ("x-forwarded-port", "3000"),
                    ("x-forwarded-proto", "http")
                ]
            ),
            LOCAL
        );
        // The proto is part of the origin: https is not on localhost:3000.
        assert_eq!(
            chosen(
                &s,
                &[
                    upstream,
                    ("x-forwarded-host", "localhost:3000"),
                    ("x-forwarded-proto", "https")
                ]
            ),
            APP
        );
        // A forwarded host not in the list, or garbage, gets the default, not the upstream Host.
        for bad in [
            "evil.example",
            "user@preview.example.com",
            "preview.example.com/x",
            "",
        ] {
            let h = headers(&[("host", "localhost:3000"), ("x-forwarded-host", bad)]);
            let expected = if bad.is_empty() { LOCAL } else { APP };
            assert_eq!(s.redirect_uri_for(&h).as_str(), expected, "{bad:?}");
        }
        // Without forwarded headers, the Host header still counts.
        assert_eq!(chosen(&s, &[("host", "preview.example.com")]), PREVIEW);
    }

    #[test]
    fn of_two_uris_on_one_host_and_port_the_forwarded_scheme_wins_else_the_defaults() {
        let uris: Vec<Url> = [
            "https://app.example.com/cb",
            "http://app.example.com:443/cb",
            "http://x.example/cb",
        ]
        .iter()
        .map(|u| Url::parse(u).unwrap())
        .collect();
        let s = Settings {
            redirect_uri: uris[0].clone(),
            redirect_uris: uris,
            ..settings()
        };
        let h = &[("host", "app.example.com:443")];
        assert_eq!(
            chosen(&s, h),
            "https://app.example.com/cb",
            "the default's scheme"
        );
        let trusted = Settings {
            trust_forwarded: true,
            ..s.clone()
        };
        let h = &[
            ("host", "app.example.com:443"),
            ("x-forwarded-proto", "http"),
        ];
        assert_eq!(chosen(&trusted, h), "http://app.example.com:443/cb");
        assert_eq!(
            chosen(&s, h),
            "https://app.example.com/cb",
            "untrusted proto"
        );
        // The default's scheme on no URI of that host: the first there.
        let s = Settings {
            redirect_uri: s.redirect_uris[2].clone(),
            redirect_uris: vec![s.redirect_uris[2].clone(), s.redirect_uris[1].clone()],
            ..s
        };
        assert_eq!(
            chosen(&s, &[("host", "app.example.com:443")]),
            "http://app.example.com:443/cb"
        );
    }

    #[test]
    fn cookies_are_secure_for_https_origins_unless_the_app_forced_secure() {
        let s = origins(false);
        assert!(
            s.cookie_for(&headers(&[("host", "preview.example.com")]))
                .secure
        );
        assert!(s.cookie_for(&headers(&[("host", "evil.example")])).secure);
        assert!(!s.cookie_for(&headers(&[("host", "localhost:3000")])).secure);
        let forced = Settings {
            secure_cookies: Some(true),
            ..origins(false)
        };
        assert!(
            forced
                .cookie_for(&headers(&[("host", "localhost:3000")]))
                .secure
        );
        let forced_off = Settings {
            secure_cookies: Some(false),
            cookie: CookieSettings {
                secure: false,
                ..settings().cookie
            },
            ..origins(false)
        };
        assert!(
            !forced_off
                .cookie_for(&headers(&[("host", "preview.example.com")]))
                .secure
        );
    }

    #[test]
    fn the_default_after_logout_url_follows_the_origin_unless_the_app_set_one() {
        let s = origins(false);
        let h = headers(&[("host", "preview.example.com")]);
        assert_eq!(s.after_logout_for(&h), "https://preview.example.com/");
        assert_eq!(
            s.after_logout_for(&headers(&[("host", "evil.example")])),
            "https://app.example.com/"
        );
        let fixed = Settings {
            after_logout: "https://example.com/bye".into(),
            after_logout_fixed: true,
            ..origins(false)
        };
        assert_eq!(fixed.after_logout_for(&h), "https://example.com/bye");
    }

    #[test]
    fn protect_by_default_spares_the_auth_routes_and_the_public_paths() {
        let s = settings();
        for public in [
            "/",
            "/docs",
            "/docs/intro",
            "/auth",
            "/auth/login",
            "/auth/callback",
        ] {
            assert!(!s.requires_session(public), "{public}");
        }
        for private in ["/account", "/docs2", "/authx", "/api/me", "/docsintro"] {
            assert!(s.requires_session(private), "{private}");
        }
    }

    #[test]
    fn a_root_base_path_makes_only_the_auth_routes_public_not_every_path() {
        let s = Settings {
            base_path: String::new(),
            callback_path: "/callback".into(),
            public_paths: Vec::new(),
            ..settings()
        };
        for public in [
            "/login",
            "/signup",
            "/logout",
            "/switch-organization",
            "/callback",
        ] {
            assert!(!s.requires_session(public), "{public}");
        }
        for private in ["/", "/account", "/login/x", "/api/me"] {
            assert!(s.requires_session(private), "{private}");
        }
    }

    #[test]
    fn nothing_requires_a_session_unless_protect_by_default_is_on() {
        let s = Settings {
            protect_by_default: false,
            ..settings()
        };
        assert!(!s.requires_session("/account"));
    }

    #[test]
    fn a_callback_outside_the_base_path_is_still_an_auth_route() {
        let s = Settings {
            callback_path: "/oauth/done".into(),
            ..settings()
        };
        assert!(s.is_auth_route("/oauth/done"));
        assert!(!s.requires_session("/oauth/done"));
        assert!(s.requires_session("/oauth/done/x"));
    }

    #[test]
    fn api_prefixes_match_whole_segments_with_or_without_a_trailing_slash() {
        let s = settings();
        for api in ["/api", "/api/me", "/v2", "/v2/x"] {
            assert!(s.is_api_path(api), "{api}");
        }
        for page in ["/apis", "/", "/v2x", "/account"] {
            assert!(!s.is_api_path(page), "{page}");
        }
    }

    #[test]
    fn the_default_refresh_buffer_never_exceeds_half_a_tokens_life() {
        let s = settings();
        assert_eq!(s.refresh_buffer_for(3600), Duration::from_secs(60));
        assert_eq!(s.refresh_buffer_for(300), Duration::from_secs(30));
        assert_eq!(s.refresh_buffer_for(30), Duration::from_secs(15));
        assert_eq!(s.refresh_buffer_for(5), Duration::from_secs(2));
        assert_eq!(s.refresh_buffer_for(0), Duration::ZERO);
        let configured = Settings {
            refresh_buffer: Some(Duration::from_secs(120)),
            ..settings()
        };
        assert_eq!(configured.refresh_buffer_for(30), Duration::from_secs(120));
    }

    #[test]
    fn verifier_cookies_are_scoped_to_what_login_and_callback_share() {
        let mut s = settings();
        assert_eq!(s.verifier_cookie_path(), "/auth");
        s.callback_path = "/callback".into();
        assert_eq!(s.verifier_cookie_path(), "/");
        s.base_path = "/app/auth".into();
        s.callback_path = "/app/auth/callback".into();
        assert_eq!(s.verifier_cookie_path(), "/app/auth");
        s.callback_path = "/app/callback".into();
        assert_eq!(s.verifier_cookie_path(), "/app");
    }
}
