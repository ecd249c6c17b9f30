//! [`ResponseFuture`]: the future [`AuthKitService`](super::AuthKitService) returns.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::response::Response;
use pin_project_lite::pin_project;

use super::finish::Finish;

type Boxed<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

pin_project! {
    /// The response future of [`AuthKitService`](super::AuthKitService).
    ///
    /// A request the caches vouch for runs the app's future in place,
    /// with nothing boxed; one whose authentication may wait on WorkOS (a
    /// refresh, a key fetch, a cookie seen for the first time) is boxed.
    /// Its error is the wrapped service's (`Infallible` under axum, as axum
    /// requires): the layer's own answers are responses, never errors.
    pub struct ResponseFuture<F, E = Infallible> {
        #[pin]
        kind: Kind<F, E>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, E> {
        // The app's future, then the layer's work on its response.
        Inner {
            #[pin]
            future: F,
            finish: Option<Finish>,
        },
        // The app's future alone: an outer layer authenticated the request.
        Passthrough {
            #[pin]
            future: F,
        },
        // The layer's own answer.
        Ready { response: Option<Response> },
        // The whole of it, boxed.
        Boxed { future: Boxed<E> },
    }
}

impl<F, E> ResponseFuture<F, E> {
    pub(crate) fn inner(future: F, finish: Finish) -> Self {
        ResponseFuture {
            kind: Kind::Inner {
                future,
                finish: Some(finish),
            },
        }
    }

    pub(crate) fn passthrough(future: F) -> Self {
        ResponseFuture {
            kind: Kind::Passthrough { future },
        }
    }

    pub(crate) fn ready(response: Response) -> Self {
        ResponseFuture {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn boxed(
        future: impl Future<Output = Result<Response, E>> + Send + 'static,
    ) -> Self {
        ResponseFuture {
            kind: Kind::Boxed {
                future: Box::pin(future),
            },
        }
    }
}

impl<F, E, B> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<http::Response<B>, E>>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future, finish } => {
                let response = ready!(future.poll(cx))?.map(Body::new);
                let finish = finish
                    .take()
                    .expect("ResponseFuture polled after it completed");
                Poll::Ready(Ok(finish.apply(response)))
            }
            KindProj::Passthrough { future } => {
                Poll::Ready(Ok(ready!(future.poll(cx))?.map(Body::new)))
            }
            KindProj::Ready { response } => Poll::Ready(Ok(response
                .take()
                .expect("ResponseFuture polled after it completed"))),
            KindProj::Boxed { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, E> fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
