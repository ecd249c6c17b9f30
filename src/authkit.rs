//! [`AuthKit`]: the configured whole — client, sessions, cookie settings —
//! from which the layer and the routes are made.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use url::Url;

use crate::Secret;
use crate::client::{AuthenticationResponse, UserManagement, base_url_from_env};
use crate::config::{ConfigError, SameSite, optional_var, parse_bool, required_var};
use crate::middleware::refresh::SingleFlight;
use crate::routes::CallbackError;
use crate::seal::{Passwords, SealError};
use crate::session::{Clock, JwksCache, SessionManager};

/// 400 days: the longest cookie lifetime browsers accept, and authkit-nextjs's default.
pub const DEFAULT_COOKIE_MAX_AGE: Duration = Duration::from_secs(400 * 24 * 3600);

/// WorkOS AuthKit for one axum app: make it once at startup, then mount
/// [`AuthKit::layer`] and [`AuthKit::routes`]. Cheap to clone.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use authkit_axum::{AuthKit, AuthUser};
///
/// async fn account(user: AuthUser) -> String {
///     format!("signed in as {}", user.user.email)
/// }
///
/// async fn home(user: Option<AuthUser>) -> String {
///     match user {
///         Some(user) => format!("hello {}", user.user.email),
///         None => "hello, stranger".into(),
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let authkit = AuthKit::from_env()?;
/// let app = Router::new()
///     .route("/account", get(account))
///     .route("/", get(home))
///     .merge(authkit.routes())
///     .layer(authkit.layer());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AuthKit {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) sessions: Arc<SessionManager>,
    pub(crate) config: Config,
    pub(crate) refreshes: Arc<SingleFlight>,
    pub(crate) hooks: Hooks,
    /// Handles that must live as long as the app (e.g. an emulator it runs against).
    #[allow(dead_code, reason = "held for its Drop, never read")]
    pub(crate) keep_alive: Vec<Arc<dyn std::any::Any + Send + Sync>>,
}

/// Called after every successful sign-in, before the redirect (e.g. to
/// upsert the user in your database).
pub(crate) type SignInHook =
    Arc<dyn Fn(&AuthenticationResponse) -> BoxFuture<'static, ()> + Send + Sync>;

/// Renders the callback's error page instead of the built-in one.
pub(crate) type CallbackErrorHook = Arc<dyn Fn(&CallbackError) -> Option<Response> + Send + Sync>;

#[derive(Default, Clone)]
pub(crate) struct Hooks {
    pub(crate) on_sign_in: Option<SignInHook>,
    pub(crate) on_callback_error: Option<CallbackErrorHook>,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) cookie: CookieConfig,
    pub(crate) redirect_uri: Url,
    pub(crate) callback_path: String,
    pub(crate) base_path: String,
    pub(crate) after_login: String,
    pub(crate) after_logout: String,
    pub(crate) refresh_buffer: Option<Duration>,
    pub(crate) public_paths: Vec<String>,
    pub(crate) protect_by_default: bool,
    pub(crate) api_prefixes: Vec<String>,
    pub(crate) logout_via_get: bool,
}

/// Cookie attributes.
#[derive(Debug, Clone)]
pub(crate) struct CookieConfig {
    pub(crate) name: String,
    pub(crate) max_age: Duration,
    pub(crate) domain: Option<String>,
    pub(crate) same_site: SameSite,
    pub(crate) secure: bool,
}

impl fmt::Debug for AuthKit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKit")
            .field("sessions", &self.inner.sessions)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl AuthKit {
    /// Everything from the environment, with authkit-nextjs's names:
    /// `WORKOS_API_KEY`, `WORKOS_CLIENT_ID`, `WORKOS_COOKIE_PASSWORD`,
    /// `WORKOS_REDIRECT_URI` (required) and `WORKOS_COOKIE_NAME`,
    /// `WORKOS_COOKIE_MAX_AGE` (seconds), `WORKOS_COOKIE_DOMAIN`,
    /// `WORKOS_COOKIE_SAMESITE`, `WORKOS_API_HOSTNAME`, `WORKOS_API_PORT`,
    /// `WORKOS_API_HTTPS` (optional). A mistake fails here, naming the variable.
    pub fn from_env() -> Result<AuthKit, ConfigError> {
        AuthKitBuilder::from_env()?.build()
    }

    /// A builder for every setting.
    pub fn builder() -> AuthKitBuilder {
        AuthKitBuilder::default()
    }

    /// The session manager (load, verify, refresh, seal).
    pub fn sessions(&self) -> &SessionManager {
        &self.inner.sessions
    }

    /// The WorkOS client.
    pub fn client(&self) -> &UserManagement {
        self.inner.sessions.client()
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.inner.config.cookie.name
    }

    /// The path of the login route (e.g. `/auth/login`).
    pub fn login_path(&self) -> String {
        format!("{}/login", self.inner.config.base_path)
    }

    /// The path of the callback route (the redirect URI's path).
    pub fn callback_path(&self) -> &str {
        &self.inner.config.callback_path
    }
}

/// Builds an [`AuthKit`]; every setting has a `with_*` method, and
/// [`build`](AuthKitBuilder::build) checks them all.
#[must_use]
pub struct AuthKitBuilder {
    api_key: Option<Secret>,
    client_id: Option<String>,
    api_base_url: Option<String>,
    client: Option<UserManagement>,
    cookie_passwords: Vec<(String, Secret)>,
    redirect_uri: Option<String>,
    cookie_name: String,
    cookie_max_age: Duration,
    cookie_domain: Option<String>,
    same_site: SameSite,
    secure: Option<bool>,
    base_path: String,
    after_login: String,
    after_logout: Option<String>,
    refresh_buffer: Option<Duration>,
    leeway: Duration,
    public_paths: Vec<String>,
    protect_by_default: bool,
    api_prefixes: Vec<String>,
    logout_via_get: bool,
    clock: Option<Clock>,
    jwks: Option<JwksCache>,
    hooks: Hooks,
    keep_alive: Vec<Arc<dyn std::any::Any + Send + Sync>>,
}

impl Default for AuthKitBuilder {
    fn default() -> Self {
        AuthKitBuilder {
            api_key: None,
            client_id: None,
            api_base_url: None,
            client: None,
            cookie_passwords: Vec::new(),
            redirect_uri: None,
            cookie_name: "wos-session".into(),
            cookie_max_age: DEFAULT_COOKIE_MAX_AGE,
            cookie_domain: None,
            same_site: SameSite::Lax,
            secure: None,
            base_path: "/auth".into(),
            after_login: "/".into(),
            after_logout: None,
            refresh_buffer: None,
            leeway: Duration::ZERO,
            public_paths: Vec::new(),
            protect_by_default: false,
            api_prefixes: Vec::new(),
            logout_via_get: false,
            clock: None,
            jwks: None,
            hooks: Hooks::default(),
            keep_alive: Vec::new(),
        }
    }
}

impl fmt::Debug for AuthKitBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKitBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("cookie_name", &self.cookie_name)
            .field(
                "cookie_password_ids",
                &self
                    .cookie_passwords
                    .iter()
                    .map(|(id, _)| id)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl AuthKitBuilder {
    /// A builder pre-filled from the environment (see [`AuthKit::from_env`]);
    /// later `with_*` calls override it.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut b = AuthKitBuilder::default()
            .with_api_key(required_var("WORKOS_API_KEY")?)
            .with_client_id(required_var("WORKOS_CLIENT_ID")?)
            .with_cookie_password(required_var("WORKOS_COOKIE_PASSWORD")?)
            .with_redirect_uri(required_var("WORKOS_REDIRECT_URI")?)
            .with_api_base_url(base_url_from_env()?);
        if let Some(name) = optional_var("WORKOS_COOKIE_NAME")? {
            b = b.with_cookie_name(name);
        }
        if let Some(max_age) = optional_var("WORKOS_COOKIE_MAX_AGE")? {
            let secs: u64 = max_age.trim().parse().map_err(|_| {
                ConfigError::invalid("WORKOS_COOKIE_MAX_AGE", "expected a number of seconds")
            })?;
            b = b.with_cookie_max_age(Duration::from_secs(secs));
        }
        if let Some(domain) = optional_var("WORKOS_COOKIE_DOMAIN")? {
            b = b.with_cookie_domain(domain);
        }
        if let Some(same_site) = optional_var("WORKOS_COOKIE_SAMESITE")? {
            b = b.with_same_site(SameSite::parse("WORKOS_COOKIE_SAMESITE", &same_site)?);
        }
        if let Some(secure) = optional_var("WORKOS_COOKIE_SECURE")? {
            b = b.with_secure_cookies(parse_bool("WORKOS_COOKIE_SECURE", &secure)?);
        }
        Ok(b)
    }

    /// The WorkOS API key (`sk_…`).
    pub fn with_api_key(mut self, api_key: impl Into<Secret>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The WorkOS client id (`client_…`).
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The API base URL (default `https://api.workos.com`).
    pub fn with_api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = Some(url.into());
        self
    }

    /// A ready client (instead of api key, client id and base URL).
    pub fn with_client(mut self, client: UserManagement) -> Self {
        self.client = Some(client);
        self
    }

    /// The cookie password (at least 32 characters), id `"1"`.
    pub fn with_cookie_password(mut self, password: impl Into<Secret>) -> Self {
        self.cookie_passwords = vec![("1".into(), password.into())];
        self
    }

    /// Adds a password for rotation: new cookies are sealed with the highest
    /// id, old ones still unseal with theirs.
    pub fn with_additional_cookie_password(
        mut self,
        id: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        self.cookie_passwords.push((id.into(), password.into()));
        self
    }

    /// Where AuthKit sends users back (`WORKOS_REDIRECT_URI`); the callback
    /// route is mounted at its path.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The session cookie's name (default `wos-session`).
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// The session cookie's lifetime (default 400 days).
    pub fn with_cookie_max_age(mut self, max_age: Duration) -> Self {
        self.cookie_max_age = max_age;
        self
    }

    /// The session cookie's `Domain` (default: host-only).
    pub fn with_cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie_domain = Some(domain.into());
        self
    }

    /// The session cookie's `SameSite` (default `Lax`).
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Whether cookies are `Secure` (default: when the redirect URI is https).
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure = Some(secure);
        self
    }

    /// Where the auth routes live (default `/auth`).
    pub fn with_base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// Where to go after login when no `return_to` was given (default `/`).
    pub fn with_after_login(mut self, path: impl Into<String>) -> Self {
        self.after_login = path.into();
        self
    }

    /// Where WorkOS sends the browser after logout (default: the redirect
    /// URI's origin + `/`). Must be allowed in the WorkOS dashboard.
    pub fn with_after_logout(mut self, url: impl Into<String>) -> Self {
        self.after_logout = Some(url.into());
        self
    }

    /// Refresh tokens expiring within this margin (default 60 s; 30 s for
    /// tokens living 5 minutes or less).
    pub fn with_refresh_buffer(mut self, buffer: Duration) -> Self {
        self.refresh_buffer = Some(buffer);
        self
    }

    /// Tolerance for token `exp`/`nbf` (default none).
    pub fn with_jwt_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Makes the layer itself require a session on every path except the
    /// public ones (and the auth routes, which are always public).
    pub fn with_protect_by_default(mut self, protect: bool) -> Self {
        self.protect_by_default = protect;
        self
    }

    /// A path (exact, or a prefix when it ends with `/*`) that needs no
    /// session under [`with_protect_by_default`](Self::with_protect_by_default).
    pub fn with_public_path(mut self, path: impl Into<String>) -> Self {
        self.public_paths.push(path.into());
        self
    }

    /// A path prefix whose unauthenticated requests always get 401 JSON,
    /// never a redirect (e.g. `/api`).
    pub fn with_api_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.api_prefixes.push(prefix.into());
        self
    }

    /// Also accept `GET` on the logout route (default: `POST` only, so a
    /// cross-site image tag cannot sign users out).
    pub fn with_logout_via_get(mut self, enabled: bool) -> Self {
        self.logout_via_get = enabled;
        self
    }

    /// A clock of your own, for tests.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A JWKS cache of your own.
    pub fn with_jwks(mut self, jwks: JwksCache) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Runs `hook` after every successful sign-in, before the redirect.
    pub fn with_on_sign_in<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&AuthenticationResponse) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.hooks.on_sign_in = Some(Arc::new(move |auth| hook(auth).boxed()));
        self
    }

    /// Renders callback errors yourself: return `Some(response)` to replace
    /// the built-in page, `None` to keep it.
    pub fn with_on_callback_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(&CallbackError) -> Option<Response> + Send + Sync + 'static,
    {
        self.hooks.on_callback_error = Some(Arc::new(hook));
        self
    }

    /// Keeps `handle` alive as long as the built [`AuthKit`] (and its layer
    /// and routes) is: an emulator the app runs against, for instance.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn with_keep_alive(mut self, handle: Arc<dyn std::any::Any + Send + Sync>) -> Self {
        self.keep_alive.push(handle);
        self
    }

    /// Checks every setting and builds the [`AuthKit`].
    pub fn build(self) -> Result<AuthKit, ConfigError> {
        let client = match self.client {
            Some(client) => client,
            None => {
                let api_key = self.api_key.ok_or(ConfigError::Missing {
                    var: "WORKOS_API_KEY",
                })?;
                let client_id = self.client_id.ok_or(ConfigError::Missing {
                    var: "WORKOS_CLIENT_ID",
                })?;
                let mut b = UserManagement::builder(api_key, client_id);
                if let Some(url) = self.api_base_url {
                    b = b.with_base_url(url);
                }
                b.build()?
            }
        };
        if self.cookie_passwords.is_empty() {
            return Err(ConfigError::Missing {
                var: "WORKOS_COOKIE_PASSWORD",
            });
        }
        let passwords = Passwords::new(self.cookie_passwords).map_err(|e| match e {
            SealError::PasswordTooShort { len, .. } => ConfigError::invalid(
                "WORKOS_COOKIE_PASSWORD",
                format!("must be at least 32 characters long (it is {len})"),
            ),
            other => ConfigError::invalid("WORKOS_COOKIE_PASSWORD", other.to_string()),
        })?;
        let raw_redirect = self.redirect_uri.ok_or(ConfigError::Missing {
            var: "WORKOS_REDIRECT_URI",
        })?;
        let redirect_uri = Url::parse(&raw_redirect)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ConfigError::invalid(
                    "WORKOS_REDIRECT_URI",
                    "expected an absolute http(s) URL such as http://localhost:3000/auth/callback",
                )
            })?;
        if self.cookie_name.is_empty()
            || !self
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(ConfigError::invalid(
                "WORKOS_COOKIE_NAME",
                "use letters, digits, '-', '_' and '.'",
            ));
        }
        let secure = self.secure.unwrap_or(redirect_uri.scheme() == "https");
        if self.same_site == SameSite::None && !secure {
            return Err(ConfigError::invalid(
                "WORKOS_COOKIE_SAMESITE",
                "SameSite=None requires Secure cookies (an https redirect URI)",
            ));
        }
        let base_path = normalize_path("base path", &self.base_path)?;
        if !self.after_login.starts_with('/') {
            return Err(ConfigError::invalid(
                "after_login",
                "expected a path starting with '/'",
            ));
        }
        let after_logout = match self.after_logout {
            Some(url) => url,
            None => {
                let mut origin = redirect_uri.clone();
                origin.set_path("/");
                origin.set_query(None);
                origin.set_fragment(None);
                origin.to_string()
            }
        };
        let mut sessions = SessionManager::new(client, passwords).with_leeway(self.leeway);
        if let Some(clock) = self.clock {
            sessions = sessions.with_clock(clock);
        }
        if let Some(jwks) = self.jwks {
            sessions = sessions.with_jwks(jwks);
        }
        let config = Config {
            cookie: CookieConfig {
                name: self.cookie_name,
                max_age: self.cookie_max_age,
                domain: self.cookie_domain,
                same_site: self.same_site,
                secure,
            },
            callback_path: redirect_uri.path().to_owned(),
            redirect_uri,
            base_path,
            after_login: self.after_login,
            after_logout,
            refresh_buffer: self.refresh_buffer,
            public_paths: self.public_paths,
            protect_by_default: self.protect_by_default,
            api_prefixes: self.api_prefixes,
            logout_via_get: self.logout_via_get,
        };
        Ok(AuthKit {
            inner: Arc::new(Inner {
                sessions: Arc::new(sessions),
                config,
                refreshes: Arc::new(SingleFlight::default()),
                hooks: self.hooks,
                keep_alive: self.keep_alive,
            }),
        })
    }
}

fn normalize_path(what: &'static str, path: &str) -> Result<String, ConfigError> {
    if !path.starts_with('/') {
        return Err(ConfigError::invalid(
            what,
            "expected a path starting with '/'",
        ));
    }
    Ok(path.trim_end_matches('/').to_owned())
}
