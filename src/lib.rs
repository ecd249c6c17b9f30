//! # authkit-axum
//!
//! WorkOS AuthKit for axum: what `@workos-inc/authkit-nextjs` is to Next.js.
//!
//! This release carries the foundation: a complete, typed client for the
//! WorkOS User Management API ([`client::UserManagement`]), with typed errors
//! (authentication challenges included), retries with backoff, and
//! auto-paginating lists.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authkit_axum::client::{AuthenticateWithPassword, Error, UserManagement};
//!
//! let workos = UserManagement::from_env()?;
//! match workos
//!     .authenticate_with_password(&AuthenticateWithPassword {
//!         email: "alice@example.com".into(),
//!         password: "correct horse battery staple".into(),
//!         ..Default::default()
//!     })
//!     .await
//! {
//!     Ok(auth) => println!("signed in as {}", auth.user.email),
//!     Err(Error::EmailVerificationRequired(challenge)) => {
//!         println!("check {:?} for a code", challenge.email)
//!     }
//!     Err(other) => return Err(other.into()),
//! }
//! # Ok(()) }
//! ```
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
mod hooks;
mod middleware;
mod rejection;
mod routes;
pub mod seal;
mod secret;
pub mod session;
mod settings;
mod shared;
mod state;

pub use authkit::{AuthKit, AuthKitBuilder, DEFAULT_COOKIE_MAX_AGE};
pub use config::{ConfigError, SameSite};
pub use extract::AuthUser;
pub use hooks::CallbackError;
pub use middleware::{AuthKitLayer, AuthKitService, ResponseFuture};
pub use rejection::{
    AuthRejection, AuthRejectionReason, Forbidden, ForbiddenReason, RejectionMode,
};
pub use secret::Secret;
pub use state::{AuthState, AuthStatus};

// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
