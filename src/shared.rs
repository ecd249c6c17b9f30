//! What the layer and the routes share at run time: the session manager,
//! the resolved settings, the single flight of refreshes and the app's
//! hooks. The façade ([`AuthKit`](crate::AuthKit)) builds it once and hands
//! each part an `Arc` of it.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::hooks::Hooks;
use crate::session::{SessionManager, SingleFlight};
use crate::settings::Settings;

pub(crate) struct Shared {
    pub(crate) sessions: Arc<SessionManager>,
    pub(crate) settings: Arc<Settings>,
    pub(crate) refreshes: Arc<SingleFlight>,
    pub(crate) hooks: Hooks,
    /// Handles that must live as long as the app (e.g. an emulator it runs against).
    #[allow(dead_code, reason = "held for its Drop, never read")]
    pub(crate) keep_alive: Vec<Arc<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthKit")
            .field("sessions", &self.sessions)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
