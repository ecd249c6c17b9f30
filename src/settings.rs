//! The resolved settings: what [`AuthKitBuilder::build`](crate::AuthKitBuilder::build)
//! checked and filled in, read by the layer, the rejections and the routes,
//! and the pure policies that follow from them (which paths need a session,
//! which are API paths, where the auth routes live).

use std::time::Duration;

use url::Url;

use crate::cookies::CookieSettings;

/// Every setting, checked and with its default applied.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) cookie: CookieSettings,
    pub(crate) redirect_uri: Url,
    pub(crate) callback_path: String,
    /// Where the auth routes live, without a trailing slash (`/auth`).
    pub(crate) base_path: String,
    pub(crate) after_login: String,
    pub(crate) after_logout: String,
    pub(crate) refresh_buffer: Option<Duration>,
    pub(crate) public_paths: Vec<String>,
    pub(crate) protect_by_default: bool,
    pub(crate) api_prefixes: Vec<String>,
    pub(crate) logout_via_get: bool,
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
        const ROUTES: [&str; 5] = [
            "/login",
            "/signup",
            "/logout",
            "/switch-organization",
            "/access-token",
        ];
        path == self.callback_path
            || if self.base_path.is_empty() {
                ROUTES.contains(&path)
            } else {
                under(path, &self.base_path)
            }
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
            redirect_uri: Url::parse("http://localhost:3000/auth/callback").unwrap(),
            callback_path: "/auth/callback".into(),
            base_path: "/auth".into(),
            after_login: "/".into(),
            after_logout: "http://localhost:3000/".into(),
            refresh_buffer: None,
            public_paths: vec!["/".into(), "/docs/*".into()],
            protect_by_default: true,
            api_prefixes: vec!["/api".into(), "/v2/".into()],
            logout_via_get: false,
        }
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
