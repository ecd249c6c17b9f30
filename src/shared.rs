//! What the layer and the routes share at run time: the session manager,
//! the resolved settings, the single flight of refreshes and the app's
//! hooks. The façade ([`AuthKit`](crate::AuthKit)) builds it once and hands
//! each part an `Arc` of it.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use futures_util::FutureExt;

use crate::hooks::{Hooks, RefreshEvent, RefreshFailure};
use crate::session::{
    RefreshError, RefreshOptions, Refreshed, SessionData, SessionManager, SingleFlight,
};
use crate::settings::Settings;
use crate::telemetry;

pub(crate) struct Shared {
    pub(crate) sessions: Arc<SessionManager>,
    pub(crate) settings: Arc<Settings>,
    /// The two above, for every request's [`AuthState`](crate::AuthState):
    /// one `Arc` to count a request instead of two.
    pub(crate) context: Arc<RequestContext>,
    pub(crate) refreshes: Arc<SingleFlight>,
    pub(crate) hooks: Hooks,
    /// Handles that must live as long as the app (e.g. an emulator it runs against).
    #[allow(dead_code, reason = "held for its Drop, never read")]
    pub(crate) keep_alive: Vec<Arc<dyn Any + Send + Sync>>,
}

/// What every request's [`AuthState`](crate::AuthState) refers to, made
/// once.
pub(crate) struct RequestContext {
    pub(crate) settings: Arc<Settings>,
    /// For what extractors fetch lazily (the user of a Bearer token, the
    /// session's organization); `None` only in tests of what reads a state.
    pub(crate) sessions: Option<Arc<SessionManager>>,
}

impl Shared {
    /// The shared state of a layer and its routes.
    pub(crate) fn new(
        sessions: Arc<SessionManager>,
        settings: Arc<Settings>,
        hooks: Hooks,
        keep_alive: Vec<Arc<dyn Any + Send + Sync>>,
    ) -> Self {
        Shared {
            context: Arc::new(RequestContext {
                settings: settings.clone(),
                sessions: Some(sessions.clone()),
            }),
            sessions,
            settings,
            refreshes: Arc::new(SingleFlight::default()),
            hooks,
            keep_alive,
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKit")
            .field("sessions", &self.sessions)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Refreshes `data` at WorkOS, then runs the app's refresh hook with how
    /// it went: every refresh the crate makes (the layer's single flight, the
    /// organization switch) goes through here, so the hook runs once per
    /// refresh actually made.
    pub(crate) async fn refresh(
        &self,
        data: &SessionData,
        options: RefreshOptions,
    ) -> Result<Refreshed, RefreshError> {
        let started = std::time::Instant::now();
        let outcome = self.sessions.refresh_data(data, options).await;
        telemetry::refresh(refresh_outcome(&outcome), started.elapsed());
        if let Some(hook) = &self.hooks.on_refresh {
            // The new pair is what matters now (WorkOS has spent the old
            // refresh token): a panicking hook must not lose it.
            let run = std::panic::AssertUnwindSafe(hook(&refresh_event(data, &outcome)));
            if run.catch_unwind().await.is_err() {
                tracing::error!("the refresh hook panicked; the refreshed session is kept");
            }
        }
        outcome
    }
}

/// The `outcome` label of a refresh: `ok`, `session_ended`, `unavailable`.
fn refresh_outcome(outcome: &Result<Refreshed, RefreshError>) -> &'static str {
    match outcome {
        Ok(_) => "ok",
        Err(e) if e.is_terminal() => "session_ended",
        Err(_) => "unavailable",
    }
}

/// What the refresh hook is told: ids and a reason, never a token or
/// WorkOS's text.
fn refresh_event(before: &SessionData, outcome: &Result<Refreshed, RefreshError>) -> RefreshEvent {
    match outcome {
        Ok(r) => RefreshEvent::Refreshed {
            user_id: r.session.user.id.clone(),
            session_id: r.session.session_id().to_owned(),
            organization_id: r.session.organization_id().map(str::to_owned),
        },
        Err(e) => RefreshEvent::Failed {
            user_id: before.user.id.clone(),
            session_id: before.session_id(),
            reason: if e.is_terminal() {
                RefreshFailure::SessionEnded
            } else {
                RefreshFailure::Unavailable
            },
            error_code: e.client_error().and_then(|c| c.code()).map(str::to_owned),
        },
    }
}
