//! Guards for `route_layer`: [`RequireAuth`] refuses a request before its
//! handler runs unless it is signed in (and has a permission, a role, an
//! organization), answering as the extractors do.
//!
//! Like axum-login's `login_required!` and `permission_required!`, without
//! repeating the login URL: the guard reads the [`AuthState`] the layer put
//! in the request, and answers with the crate's rejections.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use http::Request;
use http::request::Parts;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::rejection::{AuthRejection, Forbidden, ForbiddenReason};
use crate::session::AccessTokenClaims;
use crate::state::AuthState;

/// A [`Layer`] for `Router::route_layer` (or `MethodRouter::route_layer`)
/// that lets a request reach the routes only when it is signed in and passes
/// every check — the guards of axum-login's `login_required!` and
/// `permission_required!`, with the crate's own answers. The handler does
/// not run when the guard refuses.
///
/// | the request | the answer |
/// |---|---|
/// | signed out | [`AuthRejection`]: a redirect to login for a browser navigation, 401 JSON for an API call |
/// | WorkOS unavailable | 503 with `Retry-After` (a page or JSON); the cookie is kept |
/// | signed in, not allowed | [`Forbidden`]: 403, a page or JSON |
/// | signed in, allowed | the routes' answer |
/// | no [`AuthKit::layer`](crate::AuthKit::layer) around it | 500, naming the missing layer |
///
/// A page or JSON, a redirect or 401: as [`RejectionMode`](crate::RejectionMode)
/// describes (a router's `.layer(Extension(RejectionMode::Api))` must come
/// after its `route_layer(RequireAuth::…)`, so that it wraps the guard; a
/// request that sent a Bearer token always gets 401 / JSON). The checks read
/// the verified access-token claims (role, roles, permissions,
/// organization) of a session cookie or a Bearer token alike, as
/// [`AuthClaims`](crate::AuthClaims)' and [`AuthUser`](crate::AuthUser)'s
/// `require_*` methods do. `route_layer` guards the routes added before it:
///
/// ```
/// use authkit_axum::RequireAuth;
/// use axum::{Router, routing::{get, post}};
///
/// let admin: Router = Router::new()
///     .route("/users", get(|| async { "the users" }))
///     .route("/users/delete", post(|| async { "deleted" }))
///     // Every route above needs the admin role.
///     .route_layer(RequireAuth::role("admin"))
///     // Not guarded: added after the route_layer.
///     .route("/help", get(|| async { "ask an admin" }));
/// ```
///
/// Checks add up (all must hold):
///
/// ```
/// use authkit_axum::RequireAuth;
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new()
///     .route("/reports", get(|| async { "reports" }))
///     .route_layer(
///         RequireAuth::organization("org_01HXYZ").and_permission("reports:read"),
///     );
/// ```
#[derive(Clone)]
pub struct RequireAuth {
    checks: Arc<[Check]>,
}

/// One condition on a signed-in session.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    Permission(String),
    /// One of these roles (as its role or among its roles).
    AnyRole(Vec<String>),
    Organization(String),
}

impl RequireAuth {
    /// Signed in, nothing more.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// use axum::{Router, routing::get};
    ///
    /// let app: Router = Router::new()
    ///     .route("/account", get(|| async { "your account" }))
    ///     .route_layer(RequireAuth::session());
    /// ```
    pub fn session() -> Self {
        RequireAuth {
            checks: Arc::from([]),
        }
    }

    /// Signed in, with `permission` among the session's permissions.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// use axum::{Router, routing::post};
    ///
    /// let app: Router = Router::new()
    ///     .route("/widgets", post(|| async { "created" }))
    ///     .route_layer(RequireAuth::permission("widgets:write"));
    /// ```
    pub fn permission(permission: impl Into<String>) -> Self {
        Self::session().and_permission(permission)
    }

    /// Signed in, with `role` as the session's role or among its roles.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// use axum::{Router, routing::get};
    ///
    /// let app: Router = Router::new()
    ///     .route("/admin", get(|| async { "admin" }))
    ///     .route_layer(RequireAuth::role("admin"));
    /// ```
    pub fn role(role: impl Into<String>) -> Self {
        Self::session().and_role(role)
    }

    /// Signed in, with at least one of `roles`.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// use axum::{Router, routing::get};
    ///
    /// let app: Router = Router::new()
    ///     .route("/billing", get(|| async { "billing" }))
    ///     .route_layer(RequireAuth::any_role(["admin", "billing"]));
    /// ```
    pub fn any_role<I, R>(roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        Self::session().and(Check::AnyRole(roles.into_iter().map(Into::into).collect()))
    }

    /// Signed in, with the session scoped to `organization_id`.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// use axum::{Router, routing::get};
    ///
    /// let app: Router = Router::new()
    ///     .route("/acme", get(|| async { "Acme's page" }))
    ///     .route_layer(RequireAuth::organization("org_01HXYZ"));
    /// ```
    pub fn organization(organization_id: impl Into<String>) -> Self {
        Self::session().and_organization(organization_id)
    }

    /// Also requires `permission`.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// // Both: the admin role and the permission.
    /// let guard = RequireAuth::role("admin").and_permission("users:delete");
    /// # let _ = guard;
    /// ```
    pub fn and_permission(self, permission: impl Into<String>) -> Self {
        self.and(Check::Permission(permission.into()))
    }

    /// Also requires `role`.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// let guard = RequireAuth::permission("reports:read").and_role("analyst");
    /// # let _ = guard;
    /// ```
    pub fn and_role(self, role: impl Into<String>) -> Self {
        self.and(Check::AnyRole(vec![role.into()]))
    }

    /// Also requires the session to be scoped to `organization_id`.
    ///
    /// ```
    /// use authkit_axum::RequireAuth;
    /// let guard = RequireAuth::role("admin").and_organization("org_01HXYZ");
    /// # let _ = guard;
    /// ```
    pub fn and_organization(self, organization_id: impl Into<String>) -> Self {
        self.and(Check::Organization(organization_id.into()))
    }

    fn and(self, check: Check) -> Self {
        let mut checks = self.checks.to_vec();
        checks.push(check);
        RequireAuth {
            checks: checks.into(),
        }
    }
}

impl fmt::Debug for RequireAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireAuth")
            .field("checks", &self.checks)
            .finish()
    }
}

/// What a guard decides for a request.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Allowed,
    /// Signed out, or WorkOS unavailable: as [`AuthRejection::from_state`] says.
    NoSession,
    Forbidden(ForbiddenReason),
    MissingLayer,
}

/// The one place the checks are made: on the request's state, against the
/// session's verified claims.
fn judge(state: Option<&AuthState>, checks: &[Check]) -> Verdict {
    let Some(state) = state else {
        return Verdict::MissingLayer;
    };
    // Signed in by the cookie or a Bearer token: the verified claims decide.
    let Some(claims) = state.claims() else {
        return Verdict::NoSession;
    };
    match checks.iter().find(|check| !passes(claims, check)) {
        None => Verdict::Allowed,
        Some(Check::Permission(p)) => {
            Verdict::Forbidden(ForbiddenReason::MissingPermission(p.clone()))
        }
        Some(Check::AnyRole(roles)) => {
            Verdict::Forbidden(ForbiddenReason::MissingRole(roles.join(" or ")))
        }
        Some(Check::Organization(_)) => Verdict::Forbidden(ForbiddenReason::WrongOrganization),
    }
}

fn passes(claims: &AccessTokenClaims, check: &Check) -> bool {
    match check {
        Check::Permission(p) => claims.has_permission(p),
        Check::AnyRole(roles) => roles.iter().any(|r| claims.has_role(r)),
        Check::Organization(o) => claims.is_in_organization(o),
    }
}

/// The refusal of a request that did not pass.
fn refuse(verdict: Verdict, parts: &Parts) -> Response {
    let state = parts.extensions.get::<AuthState>();
    match (verdict, state) {
        (Verdict::Forbidden(reason), Some(state)) => Forbidden::because(reason)
            .for_request(state.settings(), parts)
            .into_response(),
        (Verdict::NoSession, Some(state)) => {
            AuthRejection::from_state(state, parts).into_response()
        }
        _ => AuthRejection::missing_layer().into_response(),
    }
}

impl<S> Layer<S> for RequireAuth {
    type Service = RequireAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireAuthService {
            inner,
            checks: self.checks.clone(),
        }
    }
}

/// The service [`RequireAuth`] wraps around the routes it guards.
#[derive(Clone)]
pub struct RequireAuthService<S> {
    inner: S,
    checks: Arc<[Check]>,
}

impl<S> RequireAuthService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: fmt::Debug> fmt::Debug for RequireAuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireAuthService")
            .field("inner", &self.inner)
            .field("checks", &self.checks)
            .finish()
    }
}

impl<S, B> Service<Request<B>> for RequireAuthService<S>
where
    S: Service<Request<B>>,
    S::Response: IntoResponse,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RequireAuthFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match judge(request.extensions().get::<AuthState>(), &self.checks) {
            Verdict::Allowed => RequireAuthFuture {
                state: FutureState::Inner {
                    future: self.inner.call(request),
                },
            },
            // The handler never runs; the request's parts say how to answer.
            verdict => RequireAuthFuture {
                state: FutureState::Refused {
                    response: Some(refuse(verdict, &request.into_parts().0)),
                },
            },
        }
    }
}

pin_project! {
    /// The response future of [`RequireAuthService`]: the routes' answer,
    /// or the guard's refusal.
    pub struct RequireAuthFuture<F> {
        #[pin]
        state: FutureState<F>,
    }
}

pin_project! {
    #[project = FutureStateProj]
    enum FutureState<F> {
        Inner { #[pin] future: F },
        Refused { response: Option<Response> },
    }
}

impl<F, R, E> Future for RequireAuthFuture<F>
where
    F: Future<Output = Result<R, E>>,
    R: IntoResponse,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            FutureStateProj::Inner { future } => {
                future.poll(cx).map_ok(IntoResponse::into_response)
            }
            FutureStateProj::Refused { response } => Poll::Ready(Ok(response
                .take()
                .expect("RequireAuthFuture polled after it completed"))),
        }
    }
}

impl<F> fmt::Debug for RequireAuthFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireAuthFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::session::UnauthenticatedReason;
    use crate::settings::tests::settings;
    use crate::state::AuthStatus;

    fn signed_out() -> AuthState {
        AuthState::new(
            AuthStatus::Unauthenticated(UnauthenticatedReason::NoSessionCookieProvided),
            Arc::new(settings()),
        )
    }

    #[test]
    fn without_the_layer_a_guard_says_so() {
        assert_eq!(judge(None, &[]), Verdict::MissingLayer);
    }

    #[test]
    fn a_signed_out_request_has_no_session_whatever_the_checks() {
        let state = signed_out();
        assert_eq!(judge(Some(&state), &[]), Verdict::NoSession);
        let unavailable = AuthState::new(
            AuthStatus::Unavailable { retry_after: None },
            Arc::new(settings()),
        );
        let checks = RequireAuth::permission("x").checks;
        assert_eq!(judge(Some(&unavailable), &checks), Verdict::NoSession);
    }

    #[test]
    fn checks_add_up_in_order() {
        let guard = RequireAuth::role("admin")
            .and_permission("a")
            .and_organization("org_1");
        assert_eq!(
            &*guard.checks,
            [
                Check::AnyRole(vec!["admin".into()]),
                Check::Permission("a".into()),
                Check::Organization("org_1".into()),
            ]
        );
        assert!(RequireAuth::session().checks.is_empty());
    }
}
