//! Sessions: list a user's sessions, revoke one.

use futures_util::Stream;
use serde::Serialize;

use super::pagination::{PaginationParams, paginated};
use super::{Call, Error, List, Session, UserManagement};

/// Parameters of [`UserManagement::list_sessions`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct ListSessions {
    /// The user whose sessions to list (part of the path).
    #[serde(skip)]
    pub user_id: String,
    /// Page size, cursors, order.
    #[serde(flatten)]
    pub pagination: PaginationParams,
}

impl ListSessions {
    /// The first page of `user_id`'s sessions.
    pub fn new(user_id: impl Into<String>) -> Self {
        ListSessions {
            user_id: user_id.into(),
            pagination: PaginationParams::default(),
        }
    }
}

paginated!(ListSessions);

#[derive(Serialize)]
struct RevokeSession<'a> {
    session_id: &'a str,
}

impl UserManagement {
    /// Ends a session; its refresh token stops working.
    /// `POST /user_management/sessions/revoke`
    ///
    /// Retried like a GET: revoking twice has the effect of revoking once.
    pub async fn revoke_session(&self, session_id: &str) -> Result<(), Error> {
        self.send(
            Call::post(&["user_management", "sessions", "revoke"])
                .json(&RevokeSession { session_id })
                .idempotent(),
        )
        .await
    }

    /// Lists a user's sessions, one page. `GET /user_management/users/{id}/sessions`
    pub async fn list_sessions(&self, params: &ListSessions) -> Result<List<Session>, Error> {
        self.send(
            Call::get(&["user_management", "users", &params.user_id, "sessions"]).query(params),
        )
        .await
    }

    /// Lists all of a user's sessions, walking every page.
    pub fn list_sessions_stream(
        &self,
        params: ListSessions,
    ) -> impl Stream<Item = Result<Session, Error>> + Send + 'static + use<> {
        let user_id = params.user_id.clone();
        self.list_stream(&["user_management", "users", &user_id, "sessions"], params)
    }
}
