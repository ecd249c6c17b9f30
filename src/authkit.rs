//! The façade: [`AuthKit`], the configured whole (client, sessions,
//! settings) from which the layer and the routes are made, and
//! [`AuthKitBuilder`], which checks every setting once at startup.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::Response;
use futures_util::FutureExt;
use http::HeaderMap;
use url::Url;

use crate::Secret;
use crate::client::{
    AuthenticationResponse, UserManagement, base_url_from_env_all, parse_base_url,
};
use crate::config::{
    self, ConfigError, ConfigErrors, SameSite, optional_var, parse_bool, required_var,
};
use crate::cookies::CookieSettings;
use crate::hooks::{CallbackError, ErrorPageContext, Hooks, RefreshEvent, SignIn, SignOut};
use crate::middleware::AuthKitLayer;
use crate::pages::PageContext;
use crate::routes;
use crate::seal::{Passwords, SealError};
use crate::session::{Clock, JwksCache, SessionManager};
use crate::session_cookies::{self, SaveSessionError, SessionCookies};
use crate::settings::{Settings, origin_root};
use crate::shared::Shared;

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
    shared: Arc<Shared>,
}

impl fmt::Debug for AuthKit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl AuthKit {
    /// Everything from the environment, with authkit-nextjs's names. Every
    /// mistake fails here at once, each naming its variable (never its value).
    ///
    /// | variable | builder method | required | default |
    /// |---|---|---|---|
    /// | `WORKOS_API_KEY` | [`with_api_key`](AuthKitBuilder::with_api_key) | yes | |
    /// | `WORKOS_CLIENT_ID` | [`with_client_id`](AuthKitBuilder::with_client_id) | yes | |
    /// | `WORKOS_COOKIE_PASSWORD` | [`with_cookie_password`](AuthKitBuilder::with_cookie_password) | yes (≥ 32 characters) | |
    /// | `WORKOS_REDIRECT_URI` (several: comma-separated, the first is the default) | [`with_redirect_uri`](AuthKitBuilder::with_redirect_uri), [`with_redirect_uris`](AuthKitBuilder::with_redirect_uris) | yes | |
    /// | `WORKOS_COOKIE_NAME` | [`with_cookie_name`](AuthKitBuilder::with_cookie_name) | | `wos-session` |
    /// | `WORKOS_COOKIE_MAX_AGE` (seconds) | [`with_cookie_max_age`](AuthKitBuilder::with_cookie_max_age) | | 400 days |
    /// | `WORKOS_COOKIE_DOMAIN` | [`with_cookie_domain`](AuthKitBuilder::with_cookie_domain) | | host-only |
    /// | `WORKOS_COOKIE_SAMESITE` (`lax`, `strict`, `none`) | [`with_same_site`](AuthKitBuilder::with_same_site) | | `lax` |
    /// | `WORKOS_COOKIE_SECURE` (`true`/`false`) | [`with_secure_cookies`](AuthKitBuilder::with_secure_cookies) | | when the request's redirect URI is https |
    /// | `WORKOS_ISSUER` (comma-separated) | [`with_token_issuers`](AuthKitBuilder::with_token_issuers) | | the API base URL and `<API base URL>/user_management/<client id>` |
    /// | `WORKOS_API_HOSTNAME` | [`with_api_base_url`](AuthKitBuilder::with_api_base_url) | | `api.workos.com` |
    /// | `WORKOS_API_PORT` | [`with_api_base_url`](AuthKitBuilder::with_api_base_url) | | the scheme's |
    /// | `WORKOS_API_HTTPS` (`false` for plain HTTP) | [`with_api_base_url`](AuthKitBuilder::with_api_base_url) | | `true` |
    ///
    /// ```no_run
    /// # fn run() -> Result<(), authkit_axum::ConfigErrors> {
    /// let authkit = authkit_axum::AuthKit::from_env()?;
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Result<AuthKit, ConfigErrors> {
        // The builder's own checks too, so that one run reports a missing
        // variable and a too-short cookie password together.
        let (builder, mut errors) = AuthKitBuilder::from_env_collecting();
        match builder.build() {
            Ok(authkit) => ConfigErrors::or_ok(errors, authkit),
            Err(more) => {
                ConfigErrors::merge(&mut errors, more);
                Err(ConfigErrors::from_vec(errors).unwrap_or_else(|| unreachable!()))
            }
        }
    }

    /// A builder for every setting.
    pub fn builder() -> AuthKitBuilder {
        AuthKitBuilder::default()
    }

    /// The session manager (load, verify, refresh, seal).
    pub fn sessions(&self) -> &SessionManager {
        &self.shared.sessions
    }

    /// The WorkOS client.
    pub fn client(&self) -> &UserManagement {
        self.shared.sessions.client()
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.shared.settings.cookie.name
    }

    /// The path of the login route (e.g. `/auth/login`).
    pub fn login_path(&self) -> String {
        self.shared.settings.login_path()
    }

    /// The path of the callback route (the redirect URI's path).
    pub fn callback_path(&self) -> &str {
        &self.shared.settings.callback_path
    }

    /// The layer that authenticates every request of the router it wraps
    /// (see [`AuthKitLayer`]).
    ///
    /// ```
    /// # fn run(authkit: authkit_axum::AuthKit) {
    /// use axum::{Router, routing::get};
    /// let app: Router = Router::new()
    ///     .route("/", get(|| async { "hello" }))
    ///     .layer(authkit.layer());
    /// # }
    /// ```
    pub fn layer(&self) -> AuthKitLayer {
        AuthKitLayer::new(self.shared.clone())
    }

    /// The auth routes, to `merge` into the app's router: `GET <base>/login`,
    /// `GET <base>/signup`, the callback (at the redirect URI's path),
    /// `POST <base>/logout`, `POST <base>/switch-organization` and
    /// `GET <base>/access-token`. They need the layer too, so mount them
    /// inside it.
    ///
    /// Login and sign-up create a random `state` and a PKCE verifier, keep
    /// them sealed in a short-lived cookie named per flow
    /// (`wos-auth-verifier-<hash>`, 10 minutes, at most 5 pending per
    /// browser), and redirect to AuthKit. They pass on, validated, the
    /// options of their query — `organization_id`, `connection_id`,
    /// `provider`, `login_hint`, `domain_hint`, `screen_hint` (login only),
    /// `prompt`, `max_age`, `invitation_token` — and keep the app's own
    /// opaque `state` (at most 512 bytes) sealed with the flow, for the
    /// [sign-in hook](AuthKitBuilder::with_on_sign_in); a bad value is a
    /// 400 page. The callback checks the state against that cookie in
    /// constant time, exchanges the code with the verifier, sets the session
    /// cookie and redirects to the saved `return_to`: a same-origin path, or
    /// the after-login path.
    ///
    /// Logout takes a `return_to` (form field or query): a same-origin path
    /// or a URL on the redirect URI's or the after-logout URL's origin,
    /// else the after-logout URL. A `GET` of it answers 405 with a sign-out
    /// button, unless [`with_logout_via_get`](AuthKitBuilder::with_logout_via_get).
    ///
    /// `GET <base>/access-token` answers the session's access token to the
    /// site's own scripts: `{"accessToken": "…", "expiresAt": <exp, seconds
    /// since the Unix epoch>}` (refreshed first when it is about to expire),
    /// `Cache-Control: no-store`; 401 JSON when signed out, 503 when WorkOS
    /// is unavailable, 403 JSON for a cross-site request. Turn it off with
    /// [`with_access_token_route(false)`](AuthKitBuilder::with_access_token_route)
    /// when no script of yours needs the token.
    ///
    /// ```
    /// # fn run(authkit: authkit_axum::AuthKit) {
    /// use axum::Router;
    /// let app: Router = Router::new()
    ///     .merge(authkit.routes())
    ///     .layer(authkit.layer());
    /// # }
    /// ```
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        routes::router(self.shared.clone())
    }

    /// Signs the browser in with a sign-in of your own — the answer of any
    /// `authenticate_with_*` call (password, magic auth, email verification,
    /// TOTP, organization selection) — as the callback does: the session
    /// sealed with the cookie password, in the session cookie (chunked when
    /// large) with the attributes of the request's origin (`Secure` when its
    /// redirect URI is https, the cookie domain, `SameSite`), stale session
    /// cookies deleted. authkit-nextjs calls this `saveSession`.
    ///
    /// It runs the [sign-in hook](AuthKitBuilder::with_on_sign_in) first, as
    /// every sign-in does, with no app `state` and the after-login path as
    /// [`return_to`](crate::SignIn::return_to) (where you send the browser is
    /// yours to choose). Answer with the cookies as part of the response
    /// ([`SessionCookies`] also sets `Cache-Control: no-store`); the layer
    /// leaves a response that sets the session cookie alone. Refuse
    /// cross-site posts of your form first ([`is_cross_site`](Self::is_cross_site)).
    ///
    /// Handlers reach the `AuthKit` through the router's state (below) or an
    /// `Extension(authkit.clone())` layer.
    ///
    /// ```
    /// use authkit_axum::client::AuthenticateWithPassword;
    /// use authkit_axum::{AuthKit, SaveSessionError};
    /// use axum::extract::State;
    /// use axum::http::{HeaderMap, StatusCode};
    /// use axum::response::{IntoResponse, Redirect, Response};
    /// use axum::{Form, Router, routing::post};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Credentials { email: String, password: String }
    ///
    /// async fn sign_in(
    ///     State(authkit): State<AuthKit>,
    ///     headers: HeaderMap,
    ///     Form(form): Form<Credentials>,
    /// ) -> Result<Response, SaveSessionError> {
    ///     if authkit.is_cross_site(&headers) {
    ///         return Ok(StatusCode::FORBIDDEN.into_response());
    ///     }
    ///     let params = AuthenticateWithPassword {
    ///         email: form.email,
    ///         password: form.password.into(),
    ///         ..Default::default()
    ///     };
    ///     match authkit.client().authenticate_with_password(&params).await {
    ///         Ok(auth) => {
    ///             let cookies = authkit.save_session(&auth, &headers).await?;
    ///             Ok((cookies, Redirect::to("/")).into_response())
    ///         }
    ///         // Challenges (email verification, MFA, organization selection)
    ///         // are errors with what the next step needs: see examples/custom_login.rs.
    ///         Err(_) => Ok((StatusCode::UNAUTHORIZED, "sign-in failed").into_response()),
    ///     }
    /// }
    ///
    /// # fn run(authkit: AuthKit) {
    /// let app: Router = Router::new()
    ///     .route("/sign-in", post(sign_in))
    ///     .with_state(authkit.clone())
    ///     .merge(authkit.routes())
    ///     .layer(authkit.layer());
    /// # }
    /// ```
    pub async fn save_session(
        &self,
        auth: &AuthenticationResponse,
        request_headers: &HeaderMap,
    ) -> Result<SessionCookies, SaveSessionError> {
        let after_login = self.shared.settings.after_login.clone();
        session_cookies::save(&self.shared, auth, request_headers, None, after_login).await
    }

    /// The cookies that sign this browser out of the app: the session
    /// cookie (and its chunks) deleted with the request's attributes. The
    /// session stays alive at WorkOS; the logout route
    /// (`POST <base>/logout`) ends it there too, and is what a sign-out
    /// button should post to. This is for flows of your own that drop a
    /// session (an account deletion, say).
    ///
    /// ```
    /// # fn run(authkit: authkit_axum::AuthKit, headers: axum::http::HeaderMap) {
    /// use axum::response::{IntoResponse, Redirect};
    /// let response = (authkit.clear_session(&headers), Redirect::to("/goodbye")).into_response();
    /// # let _ = response; }
    /// ```
    pub fn clear_session(&self, request_headers: &HeaderMap) -> SessionCookies {
        session_cookies::clear(&self.shared, request_headers)
    }

    /// Whether a request comes from another site, judged as the crate's
    /// logout and organization switch judge theirs: `Sec-Fetch-Site:
    /// cross-site`, or an `Origin` that is neither the request's own nor its
    /// redirect URI's. Refuse such posts of your own sign-in forms (a login
    /// CSRF would sign the victim into the attacker's account).
    ///
    /// ```
    /// # fn run(authkit: authkit_axum::AuthKit) {
    /// use axum::http::HeaderMap;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("origin", "https://evil.example".parse().unwrap());
    /// assert!(authkit.is_cross_site(&headers));
    /// # }
    /// ```
    pub fn is_cross_site(&self, request_headers: &HeaderMap) -> bool {
        routes::is_cross_site(&self.shared.settings, request_headers)
    }

    /// Whether the session cookie set in answer to this request is `Secure`:
    /// when the request's redirect URI is https, unless the app forced it
    /// either way ([`with_secure_cookies`](AuthKitBuilder::with_secure_cookies)).
    /// Give cookies of your own (a custom sign-in's pending step, say) the
    /// same attribute.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use axum::http::HeaderMap;
    /// let authkit = AuthKit::builder()
    ///     .with_api_key("sk_test_123")
    ///     .with_client_id("client_123")
    ///     .with_cookie_password("a cookie password of 32 characters+")
    ///     .with_redirect_uris([
    ///         "https://app.example.com/auth/callback",
    ///         "http://localhost:3000/auth/callback",
    ///     ])
    ///     .build()?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("host", "app.example.com".parse()?);
    /// assert!(authkit.secure_cookies_for(&headers));
    /// headers.insert("host", "localhost:3000".parse()?);
    /// assert!(!authkit.secure_cookies_for(&headers));
    /// # Ok(()) }
    /// ```
    pub fn secure_cookies_for(&self, request_headers: &HeaderMap) -> bool {
        self.shared.settings.cookie_for(request_headers).secure
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
    redirect_uris: Vec<String>,
    trust_forwarded: bool,
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
    access_token_route: bool,
    bearer_tokens: bool,
    session_cookies: bool,
    token_issuers: Vec<String>,
    /// Whether `token_issuers` replaces the default issuers.
    only_token_issuers: bool,
    clock: Option<Clock>,
    jwks: Option<JwksCache>,
    /// The session's organization cache (`CurrentOrganization`): capacity, TTL.
    organization_cache: (Option<usize>, Option<Duration>),
    /// The verified-cookie cache's capacity.
    session_cache: Option<usize>,
    /// The verified-token cache's capacity.
    token_cache: Option<usize>,
    /// The Bearer requests' user cache: capacity, TTL.
    user_cache: (Option<usize>, Option<Duration>),
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
            redirect_uris: Vec::new(),
            trust_forwarded: false,
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
            access_token_route: true,
            bearer_tokens: true,
            session_cookies: true,
            token_issuers: Vec::new(),
            only_token_issuers: false,
            clock: None,
            jwks: None,
            organization_cache: (None, None),
            session_cache: None,
            token_cache: None,
            user_cache: (None, None),
            hooks: Hooks::default(),
            keep_alive: Vec::new(),
        }
    }
}

impl fmt::Debug for AuthKitBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKitBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uris", &self.redirect_uris)
            .field("trust_forwarded_headers", &self.trust_forwarded)
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
    /// later `with_*` calls override it. Every variable that is missing or
    /// invalid is reported at once.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), authkit_axum::ConfigErrors> {
    /// let authkit = authkit_axum::AuthKitBuilder::from_env()?
    ///     .with_api_prefix("/api")
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Result<Self, ConfigErrors> {
        let (builder, errors) = Self::from_env_collecting();
        ConfigErrors::or_ok(errors, builder)
    }

    /// The builder from the environment, with what could be read, and every
    /// variable's mistake.
    fn from_env_collecting() -> (Self, Vec<ConfigError>) {
        let mut errors = Vec::new();
        let e = &mut errors;
        let mut b = AuthKitBuilder::default();
        if let Some(key) = config::collect(e, required_var(config::API_KEY)) {
            b = b.with_api_key(key);
        }
        if let Some(id) = config::collect(e, required_var(config::CLIENT_ID)) {
            b = b.with_client_id(id);
        }
        // Checked here too, as build will: a short password is a variable's
        // mistake, reported with the others even by a builder never built.
        if let Some(password) = config::collect(e, required_var(config::COOKIE_PASSWORD)) {
            config::collect(e, check_cookie_password(&password));
            b = b.with_cookie_password(password);
        }
        if let Some(uris) = config::collect(e, required_var(config::REDIRECT_URI)) {
            let uris: Vec<String> = config::split_list(&uris).map(str::to_owned).collect();
            config::collect(e, check_redirect_uris(&uris));
            b = b.with_redirect_uris(uris);
        }
        match base_url_from_env_all() {
            Ok(url) => b = b.with_api_base_url(url),
            Err(mut all) => e.append(&mut all),
        }
        if let Some(Some(name)) = config::collect(e, optional_var(config::COOKIE_NAME)) {
            b = b.with_cookie_name(name);
        }
        if let Some(Some(max_age)) = config::collect(e, optional_var(config::COOKIE_MAX_AGE)) {
            let secs = max_age.trim().parse().map_err(|_| {
                ConfigError::invalid(config::COOKIE_MAX_AGE, "expected a number of seconds")
            });
            if let Some(secs) = config::collect(e, secs) {
                b = b.with_cookie_max_age(Duration::from_secs(secs));
            }
        }
        if let Some(Some(domain)) = config::collect(e, optional_var(config::COOKIE_DOMAIN)) {
            b = b.with_cookie_domain(domain);
        }
        if let Some(Some(same_site)) = config::collect(e, optional_var(config::COOKIE_SAMESITE)) {
            let same_site = SameSite::parse(config::COOKIE_SAMESITE, &same_site);
            if let Some(same_site) = config::collect(e, same_site) {
                b = b.with_same_site(same_site);
            }
        }
        if let Some(Some(secure)) = config::collect(e, optional_var(config::COOKIE_SECURE))
            && let Some(secure) = config::collect(e, parse_bool(config::COOKIE_SECURE, &secure))
        {
            b = b.with_secure_cookies(secure);
        }
        if let Some(Some(issuers)) = config::collect(e, optional_var(config::TOKEN_ISSUER)) {
            b = b.with_token_issuers(config::split_list(&issuers));
        }
        (b, errors)
    }

    /// The WorkOS API key (`sk_…`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_api_key(std::env::var("MY_WORKOS_KEY").unwrap_or_default());
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_api_key(mut self, api_key: impl Into<Secret>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The WorkOS client id (`client_…`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_client_id("client_01HXYZ");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The API base URL (default `https://api.workos.com`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // A WorkOS-compatible server of your own (the SDKs' WORKOS_API_HOSTNAME/PORT/HTTPS).
    /// let builder = AuthKit::builder().with_api_base_url("http://localhost:4100");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = Some(url.into());
        self
    }

    /// A ready client (instead of api key, client id and base URL).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use authkit_axum::client::UserManagement;
    /// use std::time::Duration;
    ///
    /// let client = UserManagement::builder("sk_test_123", "client_123")
    ///     .with_timeout(Duration::from_secs(5))
    ///     .build()?;
    /// let builder = AuthKit::builder().with_client(client);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_client(mut self, client: UserManagement) -> Self {
        self.client = Some(client);
        self
    }

    /// The cookie password (at least 32 characters), id `"1"`.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_cookie_password("at least 32 characters of randomness!");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_cookie_password(mut self, password: impl Into<Secret>) -> Self {
        self.cookie_passwords = vec![("1".into(), password.into())];
        self
    }

    /// Adds a password for rotation: new cookies are sealed with the highest
    /// id, old ones still unseal with theirs.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // Rotation: cookies sealed with "1" still unseal; new ones are sealed with "2".
    /// let builder = AuthKit::builder()
    ///     .with_cookie_password("the old password, 32 characters or more")
    ///     .with_additional_cookie_password("2", "the new password, 32 characters or more");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
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
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // The callback route is mounted at /auth/callback.
    /// let builder = AuthKit::builder().with_redirect_uri("https://app.example.com/auth/callback");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris = vec![uri.into()];
        self
    }

    /// Several redirect URIs, for an app answering on several origins
    /// (`app.example.com` and its preview deployments, a custom domain next
    /// to the platform's): `WORKOS_REDIRECT_URI` with the URIs separated by
    /// commas. Replaces what [`with_redirect_uri`](Self::with_redirect_uri)
    /// set; each must be allowed in the WorkOS dashboard.
    ///
    /// Each request uses the one on its own origin (its `Host`, or what a
    /// [trusted proxy](Self::with_trust_forwarded_headers) forwarded) for
    /// the sign-in's `redirect_uri`, the cookies' `Secure`, the cross-site
    /// check and the default after-logout URL; a request for any other host
    /// uses the first, the default. None is ever made from the request: an
    /// unknown or forged host gets the default.
    ///
    /// They share one path, where the callback route is mounted: `build()`
    /// refuses URIs with different paths, and two on the same origin.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let authkit = AuthKit::builder()
    ///     .with_api_key("sk_test_123")
    ///     .with_client_id("client_123")
    ///     .with_cookie_password("a cookie password of 32 characters+")
    ///     .with_redirect_uris([
    ///         "https://app.example.com/auth/callback",     // the default
    ///         "https://preview.example.com/auth/callback",
    ///         "http://localhost:3000/auth/callback",
    ///     ])
    ///     .build()?;
    /// assert_eq!(authkit.callback_path(), "/auth/callback");
    /// # Ok(()) }
    /// ```
    pub fn with_redirect_uris<I, S>(mut self, uris: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.redirect_uris = uris.into_iter().map(Into::into).collect();
        self
    }

    /// Trusts the reverse proxy in front of the app to say which origin a
    /// request was sent to (default `false`): RFC 7239 `Forwarded`'s
    /// `host=` and `proto=`, else `X-Forwarded-Host`, `X-Forwarded-Proto`
    /// and `X-Forwarded-Port`. Of a list (several hops), the last value
    /// counts: the one written by the proxy next to the app.
    ///
    /// Turn it on only when every request reaches the app through a proxy
    /// that sets (not appends to) these headers, such as nginx with
    /// `proxy_set_header X-Forwarded-Host $host;`: anyone who can reach the
    /// app directly could send them. Untrusted, they are ignored entirely
    /// and the `Host` header alone decides. Either way the result only
    /// chooses among the [redirect URIs](Self::with_redirect_uris).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // Behind nginx, which answers https://app.example.com and
    /// // https://preview.example.com and proxies both to this app.
    /// let builder = AuthKit::builder()
    ///     .with_redirect_uris([
    ///         "https://app.example.com/auth/callback",
    ///         "https://preview.example.com/auth/callback",
    ///     ])
    ///     .with_trust_forwarded_headers(true);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_trust_forwarded_headers(mut self, trust: bool) -> Self {
        self.trust_forwarded = trust;
        self
    }

    /// The session cookie's name (default `wos-session`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// # fn required() -> authkit_axum::AuthKitBuilder {
    /// #     AuthKit::builder()
    /// #         .with_api_key("sk_test_123")
    /// #         .with_client_id("client_123")
    /// #         .with_cookie_password("a cookie password of 32 characters+")
    /// #         .with_redirect_uri("http://localhost:3000/auth/callback")
    /// # }
    /// let authkit = required().with_cookie_name("app-session").build()?;
    /// assert_eq!(authkit.cookie_name(), "app-session");
    /// # Ok(()) }
    /// ```
    ///
    /// A name starting `__Host-` makes browsers keep the cookie only when it
    /// is `Secure`, has `Path=/` and no `Domain`: no sibling subdomain (and no
    /// plain-HTTP page) can then set or shadow the session. `build()` refuses
    /// it with a cookie domain or without Secure cookies; `__Secure-` requires
    /// Secure cookies.
    ///
    /// ```
    /// # use authkit_axum::AuthKit;
    /// # fn required() -> authkit_axum::AuthKitBuilder {
    /// #     AuthKit::builder()
    /// #         .with_api_key("sk_test_123")
    /// #         .with_client_id("client_123")
    /// #         .with_cookie_password("a cookie password of 32 characters+")
    /// # }
    /// let authkit = required()
    ///     .with_redirect_uri("https://app.example.com/auth/callback")
    ///     .with_cookie_name("__Host-session")
    ///     .build();
    /// assert!(authkit.is_ok());
    ///
    /// let err = required()
    ///     .with_redirect_uri("https://app.example.com/auth/callback")
    ///     .with_cookie_name("__Host-session")
    ///     .with_cookie_domain("example.com")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.var(), Some("WORKOS_COOKIE_NAME"));
    /// ```
    pub fn with_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// The session cookie's lifetime (default 400 days).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use std::time::Duration;
    /// let builder = AuthKit::builder().with_cookie_max_age(Duration::from_secs(30 * 24 * 3600));
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_cookie_max_age(mut self, max_age: Duration) -> Self {
        self.cookie_max_age = max_age;
        self
    }

    /// The session cookie's `Domain` (default: host-only).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // Shared by app.example.com and api.example.com.
    /// let builder = AuthKit::builder().with_cookie_domain("example.com");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie_domain = Some(domain.into());
        self
    }

    /// The session cookie's `SameSite` (default `Lax`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use authkit_axum::SameSite;
    /// let builder = AuthKit::builder().with_same_site(SameSite::Strict);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Whether cookies are `Secure` (default: when the request's redirect URI
    /// is https; see [`with_redirect_uris`](Self::with_redirect_uris)).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // Behind a TLS-terminating proxy that forwards plain HTTP to a http:// redirect URI.
    /// let builder = AuthKit::builder().with_secure_cookies(true);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure = Some(secure);
        self
    }

    /// Where the auth routes live (default `/auth`). Not `/`: every path
    /// below the base path is public, so `build()` refuses it.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// # fn required() -> authkit_axum::AuthKitBuilder {
    /// #     AuthKit::builder()
    /// #         .with_api_key("sk_test_123")
    /// #         .with_client_id("client_123")
    /// #         .with_cookie_password("a cookie password of 32 characters+")
    /// #         .with_redirect_uri("http://localhost:3000/auth/callback")
    /// # }
    /// let authkit = required().with_base_path("/account/auth").build()?;
    /// assert_eq!(authkit.login_path(), "/account/auth/login");
    /// # Ok(()) }
    /// ```
    pub fn with_base_path(mut self, path: impl Into<String>) -> Self {
        self.base_path = path.into();
        self
    }

    /// Where to go after login when no `return_to` was given (default `/`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_after_login("/dashboard");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_after_login(mut self, path: impl Into<String>) -> Self {
        self.after_login = path.into();
        self
    }

    /// Where WorkOS sends the browser after logout (default: the origin of
    /// the request's redirect URI + `/`). Must be allowed in the WorkOS dashboard.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_after_logout("https://example.com/goodbye");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_after_logout(mut self, url: impl Into<String>) -> Self {
        self.after_logout = Some(url.into());
        self
    }

    /// Refresh tokens expiring within this margin (default 60 s; 30 s for
    /// tokens living 5 minutes or less; the default is never more than half
    /// a token's life). A margin you set is used as it is.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use std::time::Duration;
    /// let builder = AuthKit::builder().with_refresh_buffer(Duration::from_secs(120));
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_refresh_buffer(mut self, buffer: Duration) -> Self {
        self.refresh_buffer = Some(buffer);
        self
    }

    /// Tolerance for token `exp`/`nbf` (default none).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use std::time::Duration;
    /// // Servers whose clocks may lag WorkOS's by a few seconds.
    /// let builder = AuthKit::builder().with_jwt_leeway(Duration::from_secs(5));
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_jwt_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How many organizations [`CurrentOrganization`](crate::CurrentOrganization)
    /// keeps (default 1 024; 0 fetches on every request).
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_organization_cache_capacity(10_000);
    /// # let _ = builder;
    /// ```
    pub fn with_organization_cache_capacity(mut self, capacity: usize) -> Self {
        self.organization_cache.0 = Some(capacity);
        self
    }

    /// How long [`CurrentOrganization`](crate::CurrentOrganization) keeps a
    /// fetched organization (default 5 minutes): how long a rename may take
    /// to show, unless [`SessionManager::forget_organization`] is called.
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    /// use std::time::Duration;
    /// let builder = AuthKit::builder().with_organization_cache_ttl(Duration::from_secs(60));
    /// # let _ = builder;
    /// ```
    pub fn with_organization_cache_ttl(mut self, ttl: Duration) -> Self {
        self.organization_cache.1 = Some(ttl);
        self
    }

    /// How many authenticated session cookies the layer remembers, so that
    /// an unchanged cookie is not unsealed and verified again on every
    /// request (default
    /// [`DEFAULT_SESSION_CACHE_CAPACITY`](crate::session::DEFAULT_SESSION_CACHE_CAPACITY),
    /// 2 048; 0 turns the cache off: every request unseals its cookie and
    /// checks its token).
    ///
    /// Memory: about 80 bytes an entry (a MAC of the cookie, not the
    /// cookie) plus the session it holds (the user, the tokens, the claims,
    /// kept here only, not in the token cache too: about 1.9 KiB for a
    /// typical session, `cargo bench --bench memory`), so about 4 MiB at
    /// the default for typical sessions. Eviction is O(1); a session in use
    /// outlives cookies seen once. A process with more sessions active
    /// within an access token's lifetime than it holds checks the others'
    /// cookies in full (one RS256 verification each): raise it for them.
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    /// // Many users, one replica: remember more of them.
    /// let builder = AuthKit::builder().with_session_cache_capacity(20_000);
    /// # let _ = builder;
    /// ```
    pub fn with_session_cache_capacity(mut self, capacity: usize) -> Self {
        self.session_cache = Some(capacity);
        self
    }

    /// How many access tokens whose RS256 signature verified the layer
    /// remembers, so a token is checked once rather than on every request:
    /// Bearer tokens, and the tokens of cookies the session cache does not
    /// hold (default
    /// [`DEFAULT_TOKEN_CACHE_CAPACITY`](crate::session::DEFAULT_TOKEN_CACHE_CAPACITY),
    /// 10 000; 0 turns the cache off). `exp` and `nbf` are still checked on
    /// every request.
    ///
    /// Memory: a 128-bit MAC of the token and its claims, about 550 bytes
    /// in all for a typical token (`cargo bench --bench memory`), so about
    /// 5.5 MB at the default when it is full. An app whose requests carry only session cookies
    /// leaves it empty.
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_token_cache_capacity(50_000);
    /// # let _ = builder;
    /// ```
    pub fn with_token_cache_capacity(mut self, capacity: usize) -> Self {
        self.token_cache = Some(capacity);
        self
    }

    /// How many users fetched for Bearer requests' [`AuthUser`](crate::AuthUser)
    /// are kept (default
    /// [`DEFAULT_USER_CACHE_CAPACITY`](crate::session::DEFAULT_USER_CACHE_CAPACITY),
    /// 1 024; 0 fetches on every request). Memory: about 1 KiB a user, so
    /// about 1 MiB at the default.
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_user_cache_capacity(10_000);
    /// # let _ = builder;
    /// ```
    pub fn with_user_cache_capacity(mut self, capacity: usize) -> Self {
        self.user_cache.0 = Some(capacity);
        self
    }

    /// How long a user fetched for a Bearer request is kept (default
    /// [`DEFAULT_USER_CACHE_TTL`](crate::session::DEFAULT_USER_CACHE_TTL),
    /// 60 s; zero fetches on every request): how long a change to the user
    /// (a new email, a deletion) may take to show to Bearer requests.
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    /// use std::time::Duration;
    /// let builder = AuthKit::builder().with_user_cache_ttl(Duration::from_secs(10));
    /// # let _ = builder;
    /// ```
    pub fn with_user_cache_ttl(mut self, ttl: Duration) -> Self {
        self.user_cache.1 = Some(ttl);
        self
    }

    /// Makes the layer itself require a session on every path except the
    /// public ones (and the auth routes, which are always public).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // Every page needs a session except the home page and the docs.
    /// let builder = AuthKit::builder()
    ///     .with_protect_by_default(true)
    ///     .with_public_path("/")
    ///     .with_public_path("/docs/*");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_protect_by_default(mut self, protect: bool) -> Self {
        self.protect_by_default = protect;
        self
    }

    /// A path (exact, or a prefix when it ends with `/*`) that needs no
    /// session under [`with_protect_by_default`](Self::with_protect_by_default).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder()
    ///     .with_protect_by_default(true)
    ///     .with_public_path("/pricing")       // exactly /pricing
    ///     .with_public_path("/assets/*");     // /assets and everything below it
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_public_path(mut self, path: impl Into<String>) -> Self {
        self.public_paths.push(path.into());
        self
    }

    /// A path prefix whose unauthenticated requests always get 401 JSON,
    /// never a redirect (e.g. `/api`).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // GET /api/me without a session is 401 JSON, even from a browser tab.
    /// let builder = AuthKit::builder().with_api_prefix("/api");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_api_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.api_prefixes.push(prefix.into());
        self
    }

    /// Also accept `GET` on the logout route (default: `POST` only, so a
    /// cross-site image tag cannot sign users out).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_logout_via_get(true);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_logout_via_get(mut self, enabled: bool) -> Self {
        self.logout_via_get = enabled;
        self
    }

    /// Whether to mount `GET <base>/access-token` (default on), which hands
    /// the session's access token to the site's own scripts (as
    /// authkit-nextjs's `useAccessToken`). The session cookie is `HttpOnly`;
    /// the token this route gives a script is not, so a script injected into
    /// one of your pages (XSS) could read it and use it as a Bearer token
    /// until it expires (minutes). Turn the route off when no script of yours
    /// calls an API with the token.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_access_token_route(false);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_access_token_route(mut self, enabled: bool) -> Self {
        self.access_token_route = enabled;
        self
    }

    /// Whether the layer accepts `Authorization: Bearer <access token>`
    /// (default `true`): the access token a front end signed in with
    /// AuthKit holds (authkit-nextjs, authkit-react, a mobile SDK).
    ///
    /// A Bearer token is verified as a session cookie's token is (RS256
    /// only, `kid` in WorkOS's JWKS, signature, `exp`/`nbf` with the leeway,
    /// through the same cache) and must also name an accepted issuer
    /// ([`with_token_issuer`](Self::with_token_issuer)). It is never
    /// refreshed: an expired one is 401 `WWW-Authenticate: Bearer
    /// error="invalid_token"`, never a redirect, never a `Set-Cookie`. When
    /// a request carries both a token and a cookie, the token alone decides
    /// (see [`AuthKitService`](crate::AuthKitService)). Turned off, the
    /// header is ignored and only the cookie counts.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // A server-rendered site that only ever wants its own cookie.
    /// let builder = AuthKit::builder().with_bearer_tokens(false);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_bearer_tokens(mut self, accept: bool) -> Self {
        self.bearer_tokens = accept;
        self
    }

    /// Whether the layer reads the session cookie (default `true`). Turn it
    /// off for an API that only accepts Bearer tokens (and mount no
    /// [`routes`](AuthKit::routes)); `build()` refuses turning off both
    /// sources.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// // An API behind a single-page app that sends its access token.
    /// let builder = AuthKit::builder().with_session_cookies(false);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_session_cookies(mut self, read: bool) -> Self {
        self.session_cookies = read;
        self
    }

    /// Also accept Bearer tokens whose `iss` is `issuer`. By default the
    /// two issuers WorkOS uses are accepted: the API base URL
    /// (`https://api.workos.com`, environments created before mid-2025) and
    /// `<API base URL>/user_management/<client id>` (newer ones); add your
    /// custom auth domain's issuer here. A token without `iss` or from
    /// another issuer is refused. (The WorkOS SDKs check the issuer only
    /// when `WORKOS_ISSUER` is set; this crate always does.)
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder()
    ///     .with_token_issuer("https://auth.example.com/user_management/client_01HXYZ");
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_token_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.token_issuers.push(issuer.into());
        self
    }

    /// Accept Bearer tokens from exactly these issuers instead of the
    /// defaults (`WORKOS_ISSUER`, comma-separated, as authkit-nextjs reads it).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder()
    ///     .with_token_issuers(["https://api.workos.com/user_management/client_01HXYZ"]);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_token_issuers<I, T>(mut self, issuers: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.token_issuers = issuers.into_iter().map(Into::into).collect();
        self.only_token_issuers = true;
        self
    }

    /// A clock of your own, for tests.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use std::sync::Arc;
    /// use std::time::{Duration, SystemTime};
    ///
    /// // A clock an hour ahead, to see how expired sessions are handled.
    /// let builder = AuthKit::builder()
    ///     .with_clock(Arc::new(|| SystemTime::now() + Duration::from_secs(3600)));
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A JWKS cache of your own.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use authkit_axum::client::UserManagement;
    /// use authkit_axum::session::JwksCache;
    ///
    /// use std::time::Duration;
    ///
    /// // Refetch WorkOS's keys every hour, and at most once a minute on an unknown `kid`.
    /// let client = UserManagement::builder("sk_test_123", "client_123").build()?;
    /// let jwks = JwksCache::new(client.clone())
    ///     .with_max_age(Duration::from_secs(3600))
    ///     .with_min_refetch_interval(Duration::from_secs(60));
    /// let builder = AuthKit::builder().with_client(client).with_jwks(jwks);
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_jwks(mut self, jwks: JwksCache) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Runs `hook` after every successful sign-in, before the redirect. It
    /// receives the [`SignIn`]: WorkOS's answer (`sign_in.user`,
    /// `sign_in.organization_id`, … through `Deref`), the app's own opaque
    /// [`state`](SignIn::state) given to the login route, and the
    /// [`return_to`](SignIn::return_to) the browser goes to next.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_on_sign_in(|sign_in| {
    ///     let user_id = sign_in.user.id.clone();
    ///     // `/auth/login?state=…`: the app's value, back after the callback.
    ///     let invite = sign_in.state().map(str::to_owned);
    ///     async move {
    ///         // upsert user_id into your database, redeem `invite`, …
    ///         let _ = (user_id, invite);
    ///     }
    /// });
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_on_sign_in<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&SignIn) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.hooks.on_sign_in = Some(Arc::new(move |sign_in| hook(sign_in).boxed()));
        self
    }

    /// Runs `hook` after every refresh made at WorkOS — by the layer when an
    /// access token expires or is about to, and by the organization switch —
    /// whether it succeeded ([`RefreshEvent::Refreshed`]: user, session,
    /// organization) or failed ([`RefreshEvent::Failed`]: whether the
    /// session ended or WorkOS was unavailable, and WorkOS's error code).
    /// It runs once per refresh made, however many concurrent requests
    /// shared it, and before they go on: keep it short, or spawn.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::{AuthKit, RefreshEvent, RefreshFailure};
    /// let builder = AuthKit::builder().with_on_refresh(|event| {
    ///     if let RefreshEvent::Failed { reason: RefreshFailure::SessionEnded, .. } = event {
    ///         tracing::info!(user_id = event.user_id(), "session ended at refresh");
    ///     }
    ///     async {}
    /// });
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_on_refresh<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&RefreshEvent) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.hooks.on_refresh = Some(Arc::new(move |event| hook(event).boxed()));
        self
    }

    /// Runs `hook` after the logout route signed a browser out (the cookie
    /// cleared, before the redirect to WorkOS's logout), with the user and
    /// session when the request carried one ([`SignOut`]).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// let builder = AuthKit::builder().with_on_sign_out(|sign_out| {
    ///     let user_id = sign_out.user_id.clone();
    ///     async move {
    ///         // forget user_id's server-side state
    ///         let _ = user_id;
    ///     }
    /// });
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_on_sign_out<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(&SignOut) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.hooks.on_sign_out = Some(Arc::new(move |sign_out| hook(sign_out).boxed()));
        self
    }

    /// Renders callback errors yourself: return `Some(response)` to replace
    /// the built-in page, `None` to keep it. It gets the typed
    /// [`CallbackError`]; for the page alone,
    /// [`with_page_renderer`](Self::with_page_renderer) is the one hook for
    /// every page (it runs after this one).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use axum::response::{Html, IntoResponse};
    ///
    /// let builder = AuthKit::builder().with_on_callback_error(|error| {
    ///     Some(Html(format!("<h1>Sign-in failed</h1><p>{error}</p>")).into_response())
    /// });
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_on_callback_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(&CallbackError) -> Option<Response> + Send + Sync + 'static,
    {
        self.hooks.on_callback_error = Some(Arc::new(hook));
        self
    }

    /// Renders the 403 ([`Forbidden`](crate::Forbidden)) and 503 (WorkOS
    /// unavailable) answers yourself: return `Some(response)` to replace the
    /// built-in answer — an HTML page for a browser navigation, JSON for an
    /// API call ([`ErrorPageContext::is_navigation`]) — or `None` to keep it.
    /// The 503's `Retry-After` and the session cookie are kept on yours.
    /// For pages alone, [`with_page_renderer`](Self::with_page_renderer)
    /// renders these and every other page of the crate from one hook.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::{AuthKit, ErrorPageKind};
    /// use axum::response::{Html, IntoResponse};
    ///
    /// let builder = AuthKit::builder().with_error_page(|page| {
    ///     match (page.kind(), page.is_navigation()) {
    ///         (ErrorPageKind::Forbidden, true) => Some(
    ///             (page.status(), Html("<h1>Ask an admin for access</h1>")).into_response(),
    ///         ),
    ///         _ => None,
    ///     }
    /// });
    /// # let _ = builder;
    /// # Ok(()) }
    /// ```
    pub fn with_error_page<F>(mut self, hook: F) -> Self
    where
        F: Fn(&ErrorPageContext) -> Option<Response> + Send + Sync + 'static,
    {
        self.hooks.error_page = Some(Arc::new(hook));
        self
    }

    /// Renders every page of the crate yourself — the callback's errors, the
    /// sign-in refusals, the 405 sign-out page, the organization picker, the
    /// refused switch and sign-out, the 403/503 pages of a navigation — from
    /// one [`PageContext`]: which page ([`PageKind`](crate::PageKind)), its
    /// status, title, message and actions. Return `Some(response)` to answer
    /// with yours, `None` to keep the built-in page. The one hook for pages:
    /// [`with_on_callback_error`](Self::with_on_callback_error) and
    /// [`with_error_page`](Self::with_error_page) still run first where they
    /// apply (and the latter alone can answer an API call's JSON).
    ///
    /// Your page keeps what the answer needs besides its body: `Allow: POST`
    /// on the 405, `Retry-After` on a 503, the cookies the crate sets, and —
    /// unless you set them — `Cache-Control: no-store`,
    /// `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and the
    /// built-in page's `Referrer-Policy`. The built-in pages'
    /// strict `Content-Security-Policy` is yours to set (your page may load
    /// your own assets); escape [`message`](PageContext::message) and the
    /// actions' text, and keep a form's hidden fields.
    ///
    /// ```
    /// use authkit_axum::{AuthKit, PageAction};
    /// use axum::response::{Html, IntoResponse};
    ///
    /// fn escape(s: &str) -> String {
    ///     s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    /// }
    ///
    /// let builder = AuthKit::builder().with_page_renderer(|page| {
    ///     // Links only; the forms (sign-out, picker) stay the crate's.
    ///     let [PageAction::Link { href, label, .. }] = page.actions() else {
    ///         return None;
    ///     };
    ///     let html = format!(
    ///         "<!doctype html><html lang=\"en\"><title>{t} · Acme</title>\
    ///          <main><h1>{t}</h1><p>{m}</p><a href=\"{h}\">{l}</a></main>",
    ///         t = escape(page.title()),
    ///         m = escape(page.message()),
    ///         h = escape(href),
    ///         l = escape(label),
    ///     );
    ///     Some((page.status(), Html(html)).into_response())
    /// });
    /// # let _ = builder;
    /// ```
    pub fn with_page_renderer<F>(mut self, renderer: F) -> Self
    where
        F: Fn(&PageContext) -> Option<Response> + Send + Sync + 'static,
    {
        self.hooks.page = Some(Arc::new(renderer));
        self
    }

    /// Keeps `handle` alive as long as the built [`AuthKit`] (and its layer
    /// and routes) is: an emulator the app runs against, for instance.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn with_keep_alive(mut self, handle: Arc<dyn std::any::Any + Send + Sync>) -> Self {
        self.keep_alive.push(handle);
        self
    }

    /// Checks every setting and builds the [`AuthKit`]; every mistake is
    /// reported at once (see [`ConfigErrors`]). Plausible mistakes that
    /// still work are logged as warnings (target `authkit_axum::config`): a
    /// redirect URI at `/`, a refresh buffer at least as long as WorkOS's 5-minute
    /// access tokens, an `http` redirect URI on a host other than loopback.
    ///
    /// ```
    /// use authkit_axum::AuthKit;
    ///
    /// let authkit = AuthKit::builder()
    ///     .with_api_key("sk_test_123")
    ///     .with_client_id("client_123")
    ///     .with_cookie_password("a cookie password of at least 32 chars")
    ///     .with_redirect_uri("http://localhost:3000/auth/callback")
    ///     .build();
    /// assert!(authkit.is_ok());
    /// ```
    pub fn build(self) -> Result<AuthKit, ConfigErrors> {
        let mut errors = Vec::new();
        let client = match self.client {
            Some(client) => Some(client),
            None => {
                let api_key = config::collect(
                    &mut errors,
                    self.api_key.ok_or(ConfigError::missing(config::API_KEY)),
                );
                let client_id = config::collect(
                    &mut errors,
                    self.client_id
                        .ok_or(ConfigError::missing(config::CLIENT_ID)),
                );
                match (api_key, client_id) {
                    (Some(api_key), Some(client_id)) => {
                        let mut b = UserManagement::builder(api_key, client_id);
                        if let Some(url) = self.api_base_url {
                            b = b.with_base_url(url);
                        }
                        config::collect(
                            &mut errors,
                            b.build()
                                .map_err(|e| e.renamed(config::BASE_URL, config::API_BASE_URL)),
                        )
                    }
                    (api_key, client_id) => {
                        // The one given, and the base URL, still checked as
                        // the client would, so their mistakes are listed too.
                        if api_key.is_some_and(|key| key.expose().is_empty()) {
                            errors.push(ConfigError::missing(config::API_KEY));
                        }
                        if client_id.is_some_and(|id| id.trim().is_empty()) {
                            errors.push(ConfigError::missing(config::CLIENT_ID));
                        }
                        if let Some(url) = &self.api_base_url {
                            config::collect(
                                &mut errors,
                                parse_base_url(url)
                                    .map_err(|e| e.renamed(config::BASE_URL, config::API_BASE_URL)),
                            );
                        }
                        None
                    }
                }
            }
        };
        let passwords = if self.cookie_passwords.is_empty() {
            errors.push(ConfigError::missing(config::COOKIE_PASSWORD));
            None
        } else {
            config::collect(&mut errors, cookie_passwords(self.cookie_passwords))
        };
        let redirect_uris = config::collect(&mut errors, redirect_uris(&self.redirect_uris));
        if self.cookie_name.is_empty()
            || !self
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            errors.push(ConfigError::invalid(
                config::COOKIE_NAME,
                "use letters, digits, '-', '_' and '.'",
            ));
        }
        let secure_for = |uri: &Url| self.secure.unwrap_or(uri.scheme() == "https");
        // Every origin's cookies must be kept by browsers, not only the default's.
        let insecure = redirect_uris.as_ref().and_then(|uris| {
            let i = uris.iter().position(|u| !secure_for(u))?;
            Some(which_uri(i, uris.len()))
        });
        if self.same_site == SameSite::None
            && let Some(which) = &insecure
        {
            errors.push(ConfigError::invalid(
                config::COOKIE_SAMESITE,
                format!("SameSite=None requires Secure cookies (an https redirect URI); {which}"),
            ));
        }

        let base_path = config::collect(
            &mut errors,
            normalize_path(config::BASE_PATH, &self.base_path).and_then(|path| {
                if path.is_empty() {
                    // Every path would be under it, so an auth route, so
                    // public: protect_by_default would protect nothing.
                    Err(ConfigError::invalid(
                        config::BASE_PATH,
                        "the auth routes need a path of their own such as /auth, not /",
                    ))
                } else {
                    Ok(path)
                }
            }),
        );
        if let (Some(base), Some(uris)) = (&base_path, &redirect_uris)
            && let Some(route) = own_route(base, uris[0].path(), self.access_token_route)
        {
            errors.push(ConfigError::invalid(
                config::REDIRECT_URI,
                format!(
                    "its path is the {route} route's, so the callback cannot be mounted there \
                     (use e.g. {base}/callback)"
                ),
            ));
        }
        if !self.after_login.starts_with('/')
            || self.after_login.starts_with("//")
            || http::HeaderValue::from_str(&self.after_login).is_err()
        {
            errors.push(ConfigError::invalid(
                config::AFTER_LOGIN,
                "expected a path of this site starting with a single '/'",
            ));
        }
        let cookie_domain = match &self.cookie_domain {
            Some(domain) => config::collect(&mut errors, cookie_domain(domain)).map(Some),
            None => Some(None),
        };
        // A browser drops a cookie whose Domain its host is not within:
        // sign-in would never stick on that origin.
        if let (Some(Some(domain)), Some(uris)) = (&cookie_domain, &redirect_uris) {
            let outside = uris
                .iter()
                .position(|uri| !uri.host_str().is_some_and(|h| domain_matches(h, domain)));
            if let Some(i) = outside {
                errors.push(ConfigError::invalid(
                    config::COOKIE_DOMAIN,
                    format!(
                        "a redirect URI's host is not within the cookie domain, so browsers \
                         would drop the session cookie there ({})",
                        which_uri(i, uris.len())
                    ),
                ));
            }
        }
        config::collect(
            &mut errors,
            check_cookie_prefix(&self.cookie_name, insecure, self.cookie_domain.is_some()),
        );
        let after_logout_fixed = self.after_logout.is_some();
        let after_logout = match self.after_logout {
            Some(url) => {
                let valid =
                    absolute_http_url(&url).is_some() && http::HeaderValue::from_str(&url).is_ok();
                if !valid {
                    errors.push(ConfigError::invalid(
                        config::AFTER_LOGOUT,
                        "expected an absolute http(s) URL allowed in the WorkOS dashboard",
                    ));
                }
                Some(url)
            }
            None => redirect_uris.as_ref().map(|uris| origin_root(&uris[0])),
        };
        if !self.bearer_tokens && !self.session_cookies {
            errors.push(ConfigError::invalid(
                config::SESSION_COOKIES,
                "with_session_cookies(false) and with_bearer_tokens(false) leave no way to sign in",
            ));
        }
        if self
            .token_issuers
            .iter()
            .any(|issuer| absolute_http_url(issuer).is_none())
        {
            errors.push(ConfigError::invalid(
                config::TOKEN_ISSUER,
                "expected an absolute http(s) URL, the `iss` of your tokens",
            ));
        }
        let (
            Some(client),
            Some(passwords),
            Some(redirect_uris),
            Some(base_path),
            Some(cookie_domain),
            Some(after_logout),
        ) = (
            client,
            passwords,
            redirect_uris,
            base_path,
            cookie_domain,
            after_logout,
        )
        else {
            return Err(ConfigErrors::from_vec(errors)
                .expect("a setting left unresolved recorded its mistake"));
        };
        if let Some(errors) = ConfigErrors::from_vec(errors) {
            return Err(errors);
        }
        warn_plausible_mistakes(&redirect_uris, self.secure, self.refresh_buffer);
        let redirect_uri = redirect_uris[0].clone();
        let secure = secure_for(&redirect_uri);
        let mut sessions = SessionManager::new(client, passwords).with_leeway(self.leeway);
        if self.only_token_issuers {
            sessions = sessions.with_token_issuers(Vec::<String>::new());
        }
        for issuer in self.token_issuers {
            sessions = sessions.with_token_issuer(issuer);
        }
        if let Some(clock) = self.clock {
            sessions = sessions.with_clock(clock);
        }
        if let Some(jwks) = self.jwks {
            sessions = sessions.with_jwks(jwks);
        }
        if let Some(capacity) = self.organization_cache.0 {
            sessions = sessions.with_organization_cache_capacity(capacity);
        }
        if let Some(ttl) = self.organization_cache.1 {
            sessions = sessions.with_organization_cache_ttl(ttl);
        }
        if let Some(capacity) = self.session_cache {
            sessions = sessions.with_session_cache_capacity(capacity);
        }
        if let Some(capacity) = self.token_cache {
            sessions = sessions.with_token_cache_capacity(capacity);
        }
        if let Some(capacity) = self.user_cache.0 {
            sessions = sessions.with_user_cache_capacity(capacity);
        }
        if let Some(ttl) = self.user_cache.1 {
            sessions = sessions.with_user_cache_ttl(ttl);
        }
        let settings = Settings {
            cookie: CookieSettings {
                name: self.cookie_name,
                max_age: self.cookie_max_age,
                domain: cookie_domain,
                same_site: self.same_site,
                secure,
            },
            secure_cookies: self.secure,
            callback_path: redirect_uri.path().to_owned(),
            redirect_uri,
            redirect_uris,
            trust_forwarded: self.trust_forwarded,
            base_path,
            after_login: self.after_login,
            after_logout,
            after_logout_fixed,
            refresh_buffer: self.refresh_buffer,
            public_paths: self.public_paths,
            protect_by_default: self.protect_by_default,
            api_prefixes: self.api_prefixes,
            logout_via_get: self.logout_via_get,
            access_token_route: self.access_token_route,
            bearer_tokens: self.bearer_tokens,
            session_cookies: self.session_cookies,
        };
        Ok(AuthKit {
            shared: Arc::new(Shared::new(
                Arc::new(sessions),
                Arc::new(settings),
                self.hooks,
                self.keep_alive,
            )),
        })
    }
}

/// Checks redirect URIs as [`AuthKitBuilder::build`] will (for checking the
/// environment before starting anything).
pub(crate) fn check_redirect_uris(raw: &[String]) -> Result<(), ConfigError> {
    redirect_uris(raw).map(drop)
}

/// Checks a cookie password as [`AuthKitBuilder::build`] will.
pub(crate) fn check_cookie_password(password: &str) -> Result<(), ConfigError> {
    cookie_passwords(vec![("1".to_owned(), Secret::from(password.to_owned()))]).map(drop)
}

/// The cookie passwords, checked (at least one, each long enough).
fn cookie_passwords(passwords: Vec<(String, Secret)>) -> Result<Passwords, ConfigError> {
    Passwords::new(passwords).map_err(|e| match e {
        SealError::PasswordTooShort { len, .. } => ConfigError::invalid(
            config::COOKIE_PASSWORD,
            format!("must be at least 32 characters long (it is {len})"),
        ),
        other => ConfigError::invalid(config::COOKIE_PASSWORD, other.to_string()),
    })
}

/// The crate's own route (other than the callback) at `path`, if any: the
/// callback cannot be mounted on it too.
fn own_route(base: &str, path: &str, access_token_route: bool) -> Option<&'static str> {
    let rest = path.strip_prefix(base)?;
    let routes: &[&'static str] = &[
        "/login",
        "/signup",
        "/logout",
        "/switch-organization",
        "/organization-selection",
        "/access-token",
    ];
    routes
        .iter()
        .filter(|r| access_token_route || **r != "/access-token")
        .find(|r| rest == **r)
        .copied()
}

/// How long WorkOS's access tokens live by default.
const TYPICAL_TOKEN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Settings that work but are likely mistakes, each with what to do about
/// it (a pure policy; [`warn_plausible_mistakes`] logs them).
fn plausible_mistakes(
    redirect_uris: &[Url],
    secure: Option<bool>,
    refresh_buffer: Option<Duration>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if redirect_uris[0].path() == "/" {
        warnings.push(
            "WORKOS_REDIRECT_URI (`with_redirect_uri`): its path is /, so the callback takes the \
             site's home page and no other route can be mounted there; use e.g. /auth/callback"
                .to_owned(),
        );
    }
    if let Some(buffer) = refresh_buffer
        && buffer >= TYPICAL_TOKEN_LIFETIME
    {
        warnings.push(format!(
            "`with_refresh_buffer`: {} s is not shorter than WorkOS's {} s access tokens, so \
             every request would refresh the session; use a buffer of a minute or less",
            buffer.as_secs(),
            TYPICAL_TOKEN_LIFETIME.as_secs()
        ));
    }
    for (i, uri) in redirect_uris.iter().enumerate() {
        let loopback = match uri.host() {
            Some(url::Host::Domain(host)) => {
                host.eq_ignore_ascii_case("localhost")
                    || host.to_ascii_lowercase().ends_with(".localhost")
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if uri.scheme() == "http" && !loopback {
            let cookies = if secure == Some(true) {
                "with_secure_cookies(true) makes them Secure, which browsers refuse over http"
            } else {
                "session cookies will not be Secure"
            };
            warnings.push(format!(
                "WORKOS_REDIRECT_URI (`with_redirect_uri`): http on a host other than \
                 loopback ({}), so {cookies}; use https",
                which_uri(i, redirect_uris.len())
            ));
        }
    }
    warnings
}

/// Logs [`plausible_mistakes`] as warnings, target `authkit_axum::config`.
fn warn_plausible_mistakes(
    redirect_uris: &[Url],
    secure: Option<bool>,
    refresh_buffer: Option<Duration>,
) {
    for warning in plausible_mistakes(redirect_uris, secure, refresh_buffer) {
        tracing::warn!(target: "authkit_axum::config", "{warning}");
    }
}

/// The rules browsers enforce for the `__Host-` and `__Secure-` name
/// prefixes: a cookie that breaks them is dropped silently, so a sign-in
/// would never stick. (Every cookie of the crate already has `Path=/` where
/// it matters: the session cookie always does.)
///
/// `insecure` names the redirect URI whose cookies would not be `Secure`, if any.
fn check_cookie_prefix(
    name: &str,
    insecure: Option<String>,
    domain: bool,
) -> Result<(), ConfigError> {
    let prefix = if name.starts_with("__Host-") {
        "__Host-"
    } else if name.starts_with("__Secure-") {
        "__Secure-"
    } else {
        return Ok(());
    };
    if let Some(which) = insecure {
        return Err(ConfigError::invalid(
            config::COOKIE_NAME,
            format!(
                "a {prefix} cookie requires Secure cookies: an https redirect URI or \
                 with_secure_cookies(true) (WORKOS_COOKIE_SECURE); {which}"
            ),
        ));
    }
    if domain && prefix == "__Host-" {
        return Err(ConfigError::invalid(
            config::COOKIE_NAME,
            "a __Host- cookie cannot have a Domain: remove with_cookie_domain (WORKOS_COOKIE_DOMAIN)",
        ));
    }
    Ok(())
}

/// The redirect URIs, checked: at least one, each an absolute http(s) URL,
/// all with one path (the callback is mounted once), no two on one origin.
fn redirect_uris(raw: &[String]) -> Result<Vec<Url>, ConfigError> {
    let invalid = |reason: String| ConfigError::invalid(config::REDIRECT_URI, reason);
    let raw: Vec<&str> = raw.iter().map(|u| u.trim()).collect();
    if raw.iter().all(|u| u.is_empty()) {
        return Err(ConfigError::missing(config::REDIRECT_URI));
    }
    let mut uris: Vec<Url> = Vec::with_capacity(raw.len());
    for (i, uri) in raw.iter().enumerate() {
        let which = which_uri(i, raw.len());
        let uri = absolute_http_url(uri).ok_or_else(|| {
            invalid(format!(
                "expected an absolute http(s) URL such as http://localhost:3000/auth/callback; {which}"
            ))
        })?;
        if let Some(first) = uris.first()
            && first.path() != uri.path()
        {
            return Err(invalid(format!(
                "every redirect URI needs the same path, where the callback is mounted \
                 ({} for the first, {} for {which})",
                first.path(),
                uri.path()
            )));
        }
        if uris.iter().any(|u| u.origin() == uri.origin()) {
            return Err(invalid(format!(
                "two redirect URIs on one origin (scheme, host and port); {which} repeats one"
            )));
        }
        uris.push(uri);
    }
    Ok(uris)
}

/// How an error names one of `count` redirect URIs: `it is the redirect
/// URI`, `it is redirect URI 2 of 3`.
fn which_uri(index: usize, count: usize) -> String {
    if count == 1 {
        "it is the redirect URI".into()
    } else {
        format!("it is redirect URI {} of {count}", index + 1)
    }
}

/// `raw` as an absolute http(s) URL with a host, if it is one.
fn absolute_http_url(raw: &str) -> Option<Url> {
    Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Whether a browser on `host` keeps a cookie with `Domain=domain`: the
/// host is the domain or below it (RFC 6265 §5.1.3), in any case.
fn domain_matches(host: &str, domain: &str) -> bool {
    let domain = domain.strip_prefix('.').unwrap_or(domain);
    host.eq_ignore_ascii_case(domain)
        || host.len() > domain.len()
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

/// A cookie `Domain`: trimmed, a hostname of letters, digits, '-' and '.'
/// (a leading '.' is allowed and ignored by browsers), no port, no
/// attribute separators.
fn cookie_domain(domain: &str) -> Result<String, ConfigError> {
    let domain = domain.trim();
    let host = domain.strip_prefix('.').unwrap_or(domain);
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with('.')
        && !host.ends_with('.');
    if valid {
        Ok(domain.to_owned())
    } else {
        Err(ConfigError::invalid(
            config::COOKIE_DOMAIN,
            "expected a domain such as example.com (no scheme, port or path)",
        ))
    }
}

fn normalize_path(setting: config::Setting, path: &str) -> Result<String, ConfigError> {
    if !path.starts_with('/') {
        return Err(ConfigError::invalid(
            setting,
            "expected a path starting with '/'",
        ));
    }
    Ok(path.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder() -> AuthKitBuilder {
        AuthKit::builder()
            .with_api_key("sk_test")
            .with_client_id("client_test")
            .with_cookie_password("a cookie password of at least 32 chars")
            .with_redirect_uri("http://localhost:3000/auth/callback")
    }

    #[test]
    fn turning_off_both_credential_sources_fails_at_startup() {
        let err = builder()
            .with_bearer_tokens(false)
            .with_session_cookies(false)
            .build()
            .unwrap_err();
        assert_eq!(err.setting(), "with_session_cookies");
        assert!(
            err.to_string().contains("with_bearer_tokens(false)"),
            "{err}"
        );
        assert!(builder().with_bearer_tokens(false).build().is_ok());
        assert!(builder().with_session_cookies(false).build().is_ok());
    }

    #[test]
    fn token_issuers_are_urls_added_to_the_defaults_or_replacing_them() {
        let err = builder().with_token_issuer("auth").build().unwrap_err();
        assert_eq!(err.setting(), "with_token_issuers");
        let authkit = builder()
            .with_api_base_url("http://localhost:4100/")
            .with_token_issuer("https://auth.example.com/user_management/client_test")
            .build()
            .unwrap();
        assert_eq!(
            authkit.sessions().token_issuers(),
            [
                "http://localhost:4100",
                "http://localhost:4100/user_management/client_test",
                "https://auth.example.com/user_management/client_test"
            ]
        );
        // WORKOS_ISSUER's form: exactly the list.
        let authkit = builder()
            .with_token_issuers(["https://auth.example.com", "https://api.workos.com"])
            .with_token_issuer("https://api.workos.com/sso/client_test")
            .build()
            .unwrap();
        assert_eq!(
            authkit.sessions().token_issuers(),
            [
                "https://auth.example.com",
                "https://api.workos.com",
                "https://api.workos.com/sso/client_test"
            ]
        );
    }

    #[test]
    fn a_bad_api_base_url_is_reported_as_that_setting_not_as_an_env_variable() {
        let err = builder()
            .with_api_base_url("not a url")
            .build()
            .unwrap_err();
        assert_eq!(err.setting(), "with_api_base_url");
        assert_eq!(err.var(), None);
    }

    #[test]
    fn a_cookie_domain_that_cannot_go_in_a_header_fails_at_startup() {
        for bad in [
            "exa\rmple.com",
            "a.com; Secure",
            "example.com:8080",
            "http://x.com",
            ".",
        ] {
            let err = builder().with_cookie_domain(bad).build().unwrap_err();
            assert_eq!(err.var(), Some("WORKOS_COOKIE_DOMAIN"), "{bad:?}");
        }
        // Whitespace around it (a CRLF .env file) is trimmed.
        let authkit = builder()
            .with_redirect_uri("http://app.example.com/auth/callback")
            .with_cookie_domain(" example.com\n")
            .build();
        assert!(authkit.is_ok());
    }

    #[test]
    fn a_cookie_domain_must_hold_every_redirect_uris_host() {
        let uris = |hosts: &[&str]| {
            hosts
                .iter()
                .map(|h| format!("https://{h}/auth/callback"))
                .collect::<Vec<_>>()
        };
        for ok in [
            &["example.com"][..],
            &["app.example.com", "preview.EXAMPLE.com"],
        ] {
            assert!(
                builder()
                    .with_redirect_uris(uris(ok))
                    .with_cookie_domain(".example.com")
                    .build()
                    .is_ok(),
                "{ok:?}"
            );
        }
        for outside in [
            &["app.example.com", "my-app.vercel.app"][..],
            &["badexample.com"],
            &["localhost"],
        ] {
            let err = builder()
                .with_redirect_uris(uris(outside))
                .with_cookie_domain("example.com")
                .build()
                .unwrap_err();
            assert_eq!(err.var(), Some("WORKOS_COOKIE_DOMAIN"), "{outside:?}");
        }
    }

    #[test]
    fn after_login_and_after_logout_are_checked_at_startup() {
        let err = builder()
            .with_after_login("//evil.example")
            .build()
            .unwrap_err();
        assert_eq!(err.setting(), "with_after_login");
        let err = builder()
            .with_after_logout("not a url")
            .build()
            .unwrap_err();
        assert_eq!(err.setting(), "with_after_logout");
        assert!(
            builder()
                .with_after_logout("https://example.com/bye")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn settings_without_a_variable_are_named_by_their_method() {
        let err = builder().with_after_login("home").build().unwrap_err();
        assert_eq!(err.setting(), "with_after_login");
        let err = builder().with_base_path("auth").build().unwrap_err();
        assert_eq!(err.setting(), "with_base_path");
    }

    #[test]
    fn a_root_base_path_is_refused_so_protect_by_default_cannot_fail_open() {
        for root in ["/", "//"] {
            let err = builder()
                .with_base_path(root)
                .with_protect_by_default(true)
                .build()
                .unwrap_err();
            assert_eq!(err.setting(), "with_base_path", "{root}");
        }
        assert!(builder().with_base_path("/auth/").build().is_ok());
    }

    #[test]
    fn a_host_prefixed_cookie_name_requires_secure_cookies_and_no_domain() {
        let https = || builder().with_redirect_uri("https://app.example.com/auth/callback");
        assert!(https().with_cookie_name("__Host-session").build().is_ok());
        assert!(https().with_cookie_name("__Secure-session").build().is_ok());
        assert!(
            https()
                .with_cookie_name("__Secure-session")
                .with_cookie_domain("example.com")
                .build()
                .is_ok()
        );
        for refused in [
            https()
                .with_cookie_name("__Host-session")
                .with_cookie_domain("example.com"),
            https()
                .with_cookie_name("__Host-session")
                .with_secure_cookies(false),
            builder().with_cookie_name("__Host-session"),
            builder().with_cookie_name("__Secure-session"),
        ] {
            let err = refused.build().unwrap_err();
            assert_eq!(err.setting(), "with_cookie_name");
            assert_eq!(err.var(), Some("WORKOS_COOKIE_NAME"));
        }
    }

    #[test]
    fn several_redirect_uris_are_each_checked_and_share_one_callback_path() {
        let two = |a: &str, b: &str| builder().with_redirect_uris([a, b]).build();
        let authkit = two(
            "https://app.example.com/auth/callback",
            " https://preview.example.com/auth/callback ",
        )
        .unwrap();
        assert_eq!(authkit.callback_path(), "/auth/callback");
        for (a, b, reason) in [
            (
                "https://app.example.com/auth/callback",
                "preview.example.com/auth/callback",
                "absolute",
            ),
            (
                "https://app.example.com/auth/callback",
                "https://preview.example.com/callback",
                "same path",
            ),
            (
                "https://app.example.com/auth/callback",
                "https://app.example.com:443/auth/callback?x",
                "one origin",
            ),
        ] {
            let err = two(a, b).unwrap_err();
            assert_eq!(err.var(), Some("WORKOS_REDIRECT_URI"), "{b}");
            let message = err.to_string();
            assert!(message.contains(reason), "{message}");
            assert!(message.contains("redirect URI 2 of 2"), "{message}");
        }
        let err = builder()
            .with_redirect_uris(Vec::<String>::new())
            .build()
            .unwrap_err();
        assert!(matches!(err.first(), ConfigError::Missing { .. }));
        assert_eq!(err.var(), Some("WORKOS_REDIRECT_URI"));
    }

    #[test]
    fn secure_only_cookie_settings_must_hold_for_every_redirect_uri() {
        let mixed = || {
            builder().with_redirect_uris([
                "https://app.example.com/auth/callback",
                "http://localhost:3000/auth/callback",
            ])
        };
        let err = mixed().with_same_site(SameSite::None).build().unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_COOKIE_SAMESITE"));
        assert!(err.to_string().contains("redirect URI 2 of 2"), "{err}");
        let err = mixed()
            .with_cookie_name("__Host-session")
            .build()
            .unwrap_err();
        assert_eq!(err.var(), Some("WORKOS_COOKIE_NAME"));
        assert!(err.to_string().contains("redirect URI 2 of 2"), "{err}");
        // Forcing Secure makes them hold everywhere.
        let forced = mixed().with_secure_cookies(true);
        assert!(
            forced
                .with_same_site(SameSite::None)
                .with_cookie_name("__Host-s")
                .build()
                .is_ok()
        );
    }

    /// The warnings `build` logs, captured (target included).
    fn warnings_of(builder: AuthKitBuilder) -> String {
        crate::settings::tests::logs_of(tracing::Level::WARN, || {
            builder.build().expect("a working configuration");
        })
    }

    #[test]
    fn every_mistake_is_reported_at_once_by_name_and_never_by_value() {
        let errors = AuthKit::builder()
            .with_api_key("sk_test_value")
            .with_cookie_password("short-secret")
            .with_redirect_uri("not a url")
            .with_cookie_name("bad name;")
            .with_after_login("home")
            .with_token_issuer("issuer")
            .with_api_base_url("ftp://files.example.com")
            .build()
            .unwrap_err();
        let named: Vec<_> = errors.iter().map(|e| e.setting()).collect();
        assert_eq!(
            named,
            [
                "with_client_id",
                "with_api_base_url",
                "with_cookie_password",
                "with_redirect_uri",
                "with_cookie_name",
                "with_after_login",
                "with_token_issuers",
            ]
        );
        assert_eq!(errors.var(), Some("WORKOS_CLIENT_ID"));
        let shown = errors.to_string();
        assert_eq!(shown.lines().count(), errors.len(), "{shown}");
        for (line, error) in shown.lines().zip(&errors) {
            assert_eq!(line, error.to_string());
        }
        for value in [
            "sk_test_value",
            "short-secret",
            "not a url",
            "bad name;",
            "files.example.com",
        ] {
            assert!(!shown.contains(value), "{shown}");
        }
    }

    #[test]
    fn an_empty_api_key_is_listed_even_when_the_client_id_is_missing_too() {
        let errors = AuthKit::builder()
            .with_api_key("")
            .with_cookie_password("a cookie password of at least 32 chars")
            .with_redirect_uri("http://localhost:3000/auth/callback")
            .build()
            .unwrap_err();
        let named: Vec<_> = errors.iter().map(|e| e.setting()).collect();
        assert_eq!(named, ["with_client_id", "with_api_key"]);
    }

    #[test]
    fn a_redirect_uri_on_one_of_the_auth_routes_is_refused_instead_of_panicking_in_routes() {
        for path in ["/auth/login", "/auth/logout", "/auth/access-token"] {
            let err = builder()
                .with_redirect_uri(format!("http://localhost:3000{path}"))
                .build()
                .unwrap_err();
            assert_eq!(err.var(), Some("WORKOS_REDIRECT_URI"), "{path}");
            assert!(err.to_string().contains("/auth/callback"), "{err}");
        }
        // Without the access-token route, its path is free.
        let authkit = builder()
            .with_access_token_route(false)
            .with_redirect_uri("http://localhost:3000/auth/access-token")
            .build()
            .unwrap();
        let _: Router = authkit.routes();
    }

    #[test]
    fn a_redirect_uri_at_the_root_is_warned_about() {
        let logged = warnings_of(builder().with_redirect_uri("http://localhost:3000/"));
        assert!(logged.contains("WARN authkit_axum::config"), "{logged}");
        assert!(logged.contains("its path is /"), "{logged}");
        assert!(warnings_of(builder()).is_empty());
    }

    #[test]
    fn a_refresh_buffer_as_long_as_a_token_is_warned_about() {
        let logged = warnings_of(builder().with_refresh_buffer(Duration::from_secs(300)));
        assert!(logged.contains("WARN authkit_axum::config"), "{logged}");
        assert!(logged.contains("every request would refresh"), "{logged}");
        let fine = warnings_of(builder().with_refresh_buffer(Duration::from_secs(60)));
        assert!(fine.is_empty(), "{fine}");
    }

    #[test]
    fn an_http_redirect_uri_off_loopback_is_warned_about_and_loopback_is_not() {
        let logged =
            warnings_of(builder().with_redirect_uri("http://app.example.com/auth/callback"));
        assert!(logged.contains("WARN authkit_axum::config"), "{logged}");
        assert!(logged.contains("will not be Secure"), "{logged}");
        assert!(!logged.contains("app.example.com"), "{logged}");
        let forced = warnings_of(
            builder()
                .with_redirect_uri("http://10.0.0.5:3000/auth/callback")
                .with_secure_cookies(true),
        );
        assert!(forced.contains("browsers refuse over http"), "{forced}");
        for local in [
            "http://localhost:3000/auth/callback",
            "http://127.0.0.1:3000/auth/callback",
            "http://[::1]:3000/auth/callback",
            "http://app.localhost/auth/callback",
            "https://app.example.com/auth/callback",
        ] {
            let quiet = warnings_of(builder().with_redirect_uri(local));
            assert!(quiet.is_empty(), "{local}: {quiet}");
        }
    }
}
