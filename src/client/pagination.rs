//! List parameters shared by every `list_*` call, and the auto-paginating
//! streams that walk `after` cursors to the end.

use std::collections::VecDeque;
use std::future::Future;

use futures_util::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Call, Error, List, UserManagement};

/// Sort order of a list, by creation time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    /// Newest first (the WorkOS SDKs' default).
    #[default]
    Desc,
    /// Oldest first.
    Asc,
}

/// `limit`, `before`, `after` and `order`, common to every list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PaginationParams {
    /// Page size (WorkOS allows 1–100; default 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Return the page before this cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Return the page after this cursor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Sort order; `desc` unless set.
    pub order: Order,
}

/// A list's parameters, whose `after` cursor the stream advances.
pub(crate) trait Paginated: Clone + Send + 'static {
    fn pagination(&self) -> &PaginationParams;
    fn pagination_mut(&mut self) -> &mut PaginationParams;
}

macro_rules! paginated {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::client::pagination::Paginated for $t {
            fn pagination(&self) -> &$crate::client::PaginationParams {
                &self.pagination
            }
            fn pagination_mut(&mut self) -> &mut $crate::client::PaginationParams {
                &mut self.pagination
            }
        })*
    };
}
pub(crate) use paginated;

/// Walks every page of a list, one request per page, yielding items in order.
/// Stops at the first page without an `after` cursor, or at the first error
/// (which it yields).
pub(crate) fn paginate<P, T, F, Fut>(params: P, fetch: F) -> impl Stream<Item = Result<T, Error>>
where
    P: Paginated,
    T: Send + 'static,
    F: FnMut(P) -> Fut + Send + 'static,
    Fut: Future<Output = Result<List<T>, Error>> + Send,
{
    struct State<P, T, F> {
        params: Option<P>,
        buffer: VecDeque<T>,
        fetch: F,
    }
    let state = State {
        params: Some(params),
        buffer: VecDeque::new(),
        fetch,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.buffer.pop_front() {
                return Some((Ok(item), state));
            }
            let params = state.params.take()?;
            match (state.fetch)(params.clone()).await {
                Ok(page) => {
                    state.buffer.extend(page.data);
                    // A cursor equal to the one just used would loop forever: stop there.
                    let previous = params.pagination().after.clone();
                    if let Some(after) = page
                        .list_metadata
                        .after
                        .filter(|a| Some(a) != previous.as_ref())
                    {
                        let mut next = params;
                        let p = next.pagination_mut();
                        p.after = Some(after);
                        p.before = None;
                        state.params = Some(next);
                    }
                }
                Err(e) => return Some((Err(e), state)),
            }
        }
    })
}

impl UserManagement {
    /// The auto-paginating form of a `GET` list at `path`.
    pub(crate) fn list_stream<P, T>(
        &self,
        path: &[&str],
        params: P,
    ) -> impl Stream<Item = Result<T, Error>> + Send + 'static + use<P, T>
    where
        P: Paginated + Serialize + Sync,
        T: DeserializeOwned + Send + 'static,
    {
        let client = self.clone();
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        paginate(params, move |p| {
            let client = client.clone();
            let path = path.clone();
            async move {
                let segments: Vec<&str> = path.iter().map(String::as_str).collect();
                client.send(Call::get(&segments).query(&p)).await
            }
        })
    }
}
