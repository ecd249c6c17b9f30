//! # authkit-axum
//!
//! WorkOS [AuthKit](https://workos.com/docs/user-management) for axum: what
//! `@workos-inc/authkit-nextjs` is to Next.js. Add one layer to a router, take
//! the signed-in user as a handler argument, mount ready-made `/auth/*`
//! routes — done.
//!
//! ## The five-minute tour
//!
//! ```no_run
//! use authkit_axum::{AuthKit, AuthUser, Forbidden};
//! use axum::{Router, routing::get};
//!
//! // Required: a browser is sent to /auth/login and back; an API call gets 401.
//! async fn account(user: AuthUser) -> String {
//!     format!("signed in as {} in {:?}", user.user.email, user.organization_id())
//! }
//!
//! // Optional.
//! async fn home(user: Option<AuthUser>) -> String {
//!     user.map_or("hello, stranger".into(), |u| format!("hello {}", u.user.email))
//! }
//!
//! // Signed in and allowed, or 403.
//! async fn widgets(user: AuthUser) -> Result<&'static str, Forbidden> {
//!     user.require_permission("widgets:write")?;
//!     Ok("sprocket, gear")
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // WORKOS_API_KEY, WORKOS_CLIENT_ID, WORKOS_COOKIE_PASSWORD, WORKOS_REDIRECT_URI;
//! // or AuthKit::builder().with_…().build()?
//! let authkit = AuthKit::from_env()?;
//! let app = Router::new()
//!     .route("/", get(home))
//!     .route("/account", get(account))
//!     .route("/api/widgets", get(widgets))
//!     // /auth/login, /auth/signup, the callback, /auth/logout,
//!     // /auth/switch-organization, /auth/access-token
//!     .merge(authkit.routes())
//!     .layer(authkit.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! No WorkOS account at hand? With the `emulator` feature, [`emulator`] runs
//! a local WorkOS with a real login page; `cargo run --example quickstart` in
//! this crate's repository is the app above against it.
//!
//! What happens on each request:
//!
//! 1. The [layer](AuthKit::layer) reads the `wos-session` cookie, unseals it
//!    (iron `Fe26.2`, the format `@workos-inc/node` and `authkit-nextjs`
//!    write) and verifies the access token against WorkOS's JWKS (RS256
//!    only, `kid` required).
//! 2. If the token has expired or expires soon, it refreshes it — once for
//!    all concurrent requests carrying the same refresh token — and sets the
//!    new cookie on the response. The handler already sees the new session.
//! 3. [`AuthUser`] gives the handler the user, session id, organization,
//!    role(s), permissions, entitlements, feature flags, impersonator and the
//!    access token. Without a session it rejects with an [`AuthRejection`]:
//!    a redirect to login for browser navigations (307, or 303 for form
//!    posts), 401 JSON for API calls ([`RejectionMode`],
//!    [`AuthKitBuilder::with_api_prefix`]).
//! 4. If WorkOS is unreachable, nobody is signed out: a still-valid session
//!    carries on, an expired one gets 503 with `Retry-After`, and the cookie
//!    is kept.
//! 5. Responses for a session get `Cache-Control: no-store` and `Vary: Cookie`.
//!
//! ## APIs called with a Bearer token
//!
//! A front end that signed in with AuthKit calls the API with
//! `Authorization: Bearer <access token>`, and the same layer accepts it
//! ([`AuthKitBuilder::with_bearer_tokens`]): verified as the cookie's token
//! is, plus its issuer ([`AuthKitBuilder::with_token_issuer`]), never
//! refreshed (an expired one is 401 `WWW-Authenticate: Bearer
//! error="invalid_token"`), never answered with a redirect or a
//! `Set-Cookie`. The header wins over the cookie (see [`AuthKitService`]).
//! [`AuthClaims`] gives a handler the token's claims for either source at no
//! cost; [`AuthUser`] on a Bearer request fetches the user (cached).
//!
//! ```
//! use authkit_axum::{AuthClaims, Forbidden};
//!
//! async fn widgets(claims: AuthClaims) -> Result<String, Forbidden> {
//!     claims.require_permission("widgets:read")?;
//!     Ok(format!("widgets of {}", claims.user_id()))
//! }
//! # let _: axum::Router = axum::Router::new().route("/api/widgets", axum::routing::get(widgets));
//! ```
//!
//! ## The pieces
//!
//! | item | what it is |
//! |---|---|
//! | [`AuthKit`], [`AuthKitBuilder`] | the configured whole: make it once at startup ([`AuthKit::from_env`] lists the variables) |
//! | [`AuthKitLayer`], [`AuthKitService`] | the tower middleware ([`AuthKit::layer`]) |
//! | [`AuthKit::routes`] | login and sign-up (state + PKCE, validated sign-in options), the callback, logout (with `return_to`), organization switch, the access token for the page's scripts |
//! | [`AuthKit::save_session`], [`SessionCookies`], [`SaveSessionError`] | your own sign-in forms: any `authenticate_with_*` answer into the session cookies (the SDKs' `saveSession`) |
//! | [`SignIn`], [`RefreshEvent`], [`SignOut`], [`CallbackError`], [`ErrorPageContext`] | what the hooks receive |
//! | [`PageContext`], [`PageKind`], [`PageAction`] | the crate's pages, as the page renderer receives them |
//! | [`AuthUser`], [`AuthClaims`], [`Forbidden`], [`AuthRejection`], [`AuthState`] | what handlers take and answer |
//! | [`CurrentOrganization`], [`OrganizationRejection`] | the session's organization (name included), cached |
//! | [`RequireAuth`] | guards for `route_layer`: a session, a permission, a role, an organization |
//! | [`client`] | the WorkOS SDKs' user management (the README lists, method by method, what is covered and what is not), the Organizations API's CRUD, the MFA calls a second factor needs, CLI Auth and the Events API: typed, paginated, typed errors (each challenge with what its next step needs), retries |
//! | [`client::UserManagement::authorize_device`], [`client::DevicePoll`] | command-line sign-in: CLI Auth's device flow, with a poller |
//! | [`session`] | the SDKs' `loadSealedSession`: authenticate, refresh, logout URL, without axum |
//! | [`seal`] | iron `Fe26.2` seal and unseal, with password rotation |
//! | [`webhooks`] | WorkOS webhooks: [`WebhookVerifier`](webhooks::WebhookVerifier) (signature, tolerance, typed [`Event`](client::Event)s) and the [`Webhook`](webhooks::Webhook) extractor |
//! | [`telemetry`] | the `tracing` events and spans, and the metrics of the `metrics` feature |
//! | [`emulator`] (feature `emulator`) | an offline WorkOS with a login page, for quickstarts and tests |
//!
//! Every item has one path. The axum integration is at the crate root: it is
//! a handful of types that handler signatures name, one `use` away. The
//! client (a hundred request and answer types), the sessions and the seal
//! are modules of their own, usable without axum, and nothing of theirs is
//! repeated at the root.
//!
//! ## Features
//!
//! - `emulator`: re-exports the `authkit-emulator` crate as [`emulator`], with
//!   the one-call ways to run an app against it.
//! - `metrics`: counters and histograms (sign-ins, sign-outs, refreshes,
//!   rejected cookies, WorkOS calls) through the `metrics` facade; the
//!   [`telemetry`] module lists them, and the `tracing` events the crate
//!   emits with or without the feature.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules, from the top down: the façade (`authkit`) builds the
// shared parts; the layer (`middleware`) and the routes use the session
// manager, the cookie codec and the per-request state; the extractors and
// rejections read that state; `session` sits on `client` and `seal`.
// ARCHITECTURE.md draws the graph.
mod authkit;
pub mod client;
mod config;
mod cookies;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
mod extract;
mod guard;
mod hooks;
mod middleware;
mod pages;
mod rejection;
mod routes;
pub mod seal;
mod secret;
pub mod session;
mod session_cookies;
mod settings;
mod shared;
mod state;
pub mod telemetry;
pub mod webhooks;

pub use authkit::{AuthKit, AuthKitBuilder, DEFAULT_COOKIE_MAX_AGE};
pub use config::{ConfigError, ConfigErrors, SameSite};
pub use extract::{AuthClaims, AuthUser, CurrentOrganization, OrganizationRejection};
pub use guard::{RequireAuth, RequireAuthFuture, RequireAuthService};
pub use hooks::{
    CallbackError, ErrorPageContext, ErrorPageKind, RefreshEvent, RefreshFailure, SignIn, SignOut,
};
pub use middleware::{AuthKitLayer, AuthKitService, ResponseFuture};
pub use pages::{PageAction, PageContext, PageKind};
pub use rejection::{
    AuthRejection, AuthRejectionReason, Forbidden, ForbiddenReason, RejectionMode,
};
pub use secret::{Secret, SecretField};
pub use session_cookies::{SaveSessionError, SessionCookies};
pub use state::{AuthState, AuthStatus, CredentialSource};

// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
