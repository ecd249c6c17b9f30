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

mod authkit;
pub mod client;
pub mod config;
#[cfg(feature = "emulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "emulator")))]
pub mod emulator;
pub mod extract;
pub mod middleware;
pub mod routes;
pub mod seal;
mod secret;
pub mod session;

pub use authkit::{AuthKit, AuthKitBuilder, DEFAULT_COOKIE_MAX_AGE};
pub use config::{ConfigError, SameSite};
pub use extract::{AuthRejection, AuthUser, Forbidden, RejectionMode};
pub use middleware::{AuthKitLayer, AuthKitService, AuthState, AuthStatus};
pub use secret::Secret;

// Compiles the README's Rust examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
