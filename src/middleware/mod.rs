//! The Tower layer: loads, verifies and refreshes the session once per
//! request, hands the result to extractors, and writes the cookie back.
//!
//! ```text
//! request ─▶ Authorization: Bearer? ─▶ verify it (+ issuer); no refresh, no cookie
//!         ─▶ else read `wos-session` ─▶ unseal + verify ─▶ expiring? refresh (single flight)
//!         ─▶ AuthState in the request's extensions ─▶ handler (AuthUser / Option<AuthUser>)
//! response ◀─ Set-Cookie (rotated or cleared), Cache-Control: no-store, Vary: Cookie
//! ```
//!
//! Like tower-http's middleware, it is a [`Layer`](tower_layer::Layer)
//! ([`AuthKitLayer`]), a [`Service`](tower_service::Service)
//! ([`AuthKitService`]) and a named [`ResponseFuture`], each in its own file;
//! [`resolve`] is what the service does with a request's credentials (the
//! cached case without a future, the rest with one), [`finish`] what it does
//! to the response on its way out, and [`bearer`] what counts as a Bearer
//! credential.

mod bearer;
mod finish;
mod future;
mod layer;
mod resolve;
mod service;

pub use future::ResponseFuture;
pub use layer::AuthKitLayer;
pub use service::AuthKitService;
