//! [`AuthKitLayer`]: what [`AuthKit::layer`](crate::AuthKit::layer) returns.

use std::sync::Arc;

use tower_layer::Layer;

use super::service::AuthKitService;
use crate::shared::Shared;

/// The layer that authenticates every request of the router it wraps; make
/// it with [`AuthKit::layer`](crate::AuthKit::layer).
///
/// ```
/// # fn run(authkit: authkit_axum::AuthKit) {
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/", get(|| async { "hello" }))
///     .merge(authkit.routes())
///     .layer(authkit.layer());
/// # }
/// ```
///
/// It also works as a `route_layer` (only the routes above it), and around
/// any tower service whose response is an `http::Response` (see
/// [`AuthKitService`]):
///
/// ```
/// # fn run(authkit: authkit_axum::AuthKit) {
/// use authkit_axum::AuthClaims;
/// use axum::{Router, routing::get};
///
/// let api: Router = Router::new()
///     .route("/api/me", get(|claims: AuthClaims| async move { claims.user_id().to_owned() }))
///     .route_layer(authkit.layer());
/// # }
/// ```
#[derive(Clone)]
pub struct AuthKitLayer {
    shared: Arc<Shared>,
}

impl AuthKitLayer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        AuthKitLayer { shared }
    }
}

impl std::fmt::Debug for AuthKitLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKitLayer")
            .field("authkit", &self.shared)
            .finish()
    }
}

impl<S> Layer<S> for AuthKitLayer {
    type Service = AuthKitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthKitService::new(inner, self.shared.clone())
    }
}
