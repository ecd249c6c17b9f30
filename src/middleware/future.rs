//! [`ResponseFuture`]: the future [`AuthKitService`](super::AuthKitService) returns.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::response::Response;

/// The response future of [`AuthKitService`](super::AuthKitService).
///
/// Authentication may wait on WorkOS (a refresh, a key fetch), so the future
/// is boxed; its error type is `Infallible`, as axum requires.
pub struct ResponseFuture {
    inner: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>,
}

impl ResponseFuture {
    pub(crate) fn new(
        future: impl Future<Output = Result<Response, Infallible>> + Send + 'static,
    ) -> Self {
        ResponseFuture {
            inner: Box::pin(future),
        }
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
