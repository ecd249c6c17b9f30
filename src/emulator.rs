//! The WorkOS emulator ([`authkit_emulator`], re-exported here) and the
//! one-call ways to run an app against it.
//!
//! The emulator is an offline WorkOS: the User Management API, AuthKit's
//! hosted login page and the JWKS on 127.0.0.1. Its own crate documents what
//! it serves; this module adds what an `authkit-axum` app needs:
//!
//! - [`AuthKitBuilder::with_emulator`]: point an app at a running emulator
//!   (its client, its clock, and the emulator kept alive as long as the app);
//! - [`AuthKitBuilder::from_env_or_emulator`]: your WorkOS when
//!   `WORKOS_API_KEY` is set, a fresh seeded emulator otherwise — what the
//!   quickstart does;
//! - [`EmulatorExt`]: a [`UserManagement`] client and a session
//!   [`Clock`] for an [`Emulator`], for tests.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authkit_axum::AuthKitBuilder;
//! use authkit_axum::emulator::{Backend, DEMO_PASSWORD, Seed};
//! use axum::Router;
//!
//! let (builder, backend) = AuthKitBuilder::from_env_or_emulator(3000, Seed::demo()).await?;
//! if let Backend::Emulator(emulator) = &backend {
//!     println!("WorkOS emulator at {}", emulator.base_url());
//!     println!("Demo user: demo@example.com / {DEMO_PASSWORD}");
//! }
//! let authkit = builder.build()?;
//! let app: Router = Router::new().merge(authkit.routes()).layer(authkit.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use authkit_emulator::*;

use crate::client::{RetryPolicy, UserManagement, UserManagementBuilder, base_url_from_env_all};
use crate::config::{self, optional_var, required_var};
use crate::session::Clock;
use crate::{AuthKitBuilder, ConfigErrors};

/// What `authkit-axum` adds to an [`Emulator`]: a client pointed at it and
/// its clock as a session [`Clock`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use authkit_axum::client::AuthenticateWithPassword;
/// use authkit_axum::emulator::{DEMO_PASSWORD, Emulator, EmulatorExt, Seed};
///
/// let emulator = Emulator::builder().with_seed(Seed::demo()).start().await?;
/// let workos = emulator.client();
/// let auth = workos
///     .authenticate_with_password(&AuthenticateWithPassword {
///         email: "demo@example.com".into(),
///         password: DEMO_PASSWORD.into(),
///         ..Default::default()
///     })
///     .await?;
/// assert_eq!(auth.user.email, "demo@example.com");
/// assert!(emulator.session_clock()() >= emulator.clock().now() - std::time::Duration::from_secs(1));
/// emulator.stop().await;
/// # Ok(()) }
/// ```
pub trait EmulatorExt: sealed::Sealed {
    /// A client pointed at the emulator, with quick retries (10 ms base,
    /// 1 s cap) since the server is local. Every call returns a clone of the
    /// same client (one connection pool per emulator).
    fn client(&self) -> UserManagement;

    /// A client builder pointed at the emulator, to adjust (timeouts, retries).
    fn client_builder(&self) -> UserManagementBuilder;

    /// The emulator's clock as a session [`Clock`], for
    /// [`SessionManager::with_clock`](crate::session::SessionManager::with_clock)
    /// and [`AuthKitBuilder::with_clock`], so the app and the emulator agree
    /// on time when a test moves it.
    fn session_clock(&self) -> Clock;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Emulator {}
}

/// The one client of an emulator, kept in its extension slot.
#[derive(Clone)]
struct EmulatorClient(UserManagement);

impl EmulatorExt for Emulator {
    fn client(&self) -> UserManagement {
        self.extension(|| {
            EmulatorClient(
                self.client_builder()
                    .with_retry_policy(
                        RetryPolicy::default()
                            .with_base_delay(Duration::from_millis(10))
                            .with_max_delay(Duration::from_secs(1)),
                    )
                    .build()
                    .expect("the emulator's settings make a valid client"),
            )
        })
        .0
    }

    fn client_builder(&self) -> UserManagementBuilder {
        UserManagement::builder(self.api_key(), self.client_id()).with_base_url(self.base_url())
    }

    fn session_clock(&self) -> Clock {
        let clock = self.clock().clone();
        Arc::new(move || clock.now())
    }
}

/// Which WorkOS [`AuthKitBuilder::from_env_or_emulator`] chose.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Backend {
    /// The WorkOS API configured by `WORKOS_API_KEY` and `WORKOS_CLIENT_ID`
    /// (and `WORKOS_API_HOSTNAME/PORT/HTTPS`).
    WorkOs,
    /// A fresh emulator, kept alive by the built [`AuthKit`](crate::AuthKit);
    /// this handle is for printing its address or driving it in tests.
    Emulator(Emulator),
}

impl Backend {
    /// The emulator, if one was started.
    pub fn emulator(&self) -> Option<&Emulator> {
        match self {
            Backend::Emulator(emulator) => Some(emulator),
            Backend::WorkOs => None,
        }
    }
}

/// Why [`AuthKitBuilder::from_env_or_emulator`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// Environment variables are missing or invalid: every one of them,
    /// found before any emulator starts.
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    /// The emulator could not start.
    #[error(transparent)]
    Emulator(#[from] StartError),
    /// No random cookie password could be made (the OS random source failed).
    #[error("could not generate a cookie password: {0}")]
    Random(String),
}

impl AuthKitBuilder {
    /// Runs the app against `emulator`: its [client](EmulatorExt::client),
    /// its [clock](EmulatorExt::session_clock), and a clone of the handle kept
    /// alive as long as the built [`AuthKit`](crate::AuthKit) (its layer and
    /// routes included), so the caller need not hold it.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKit;
    /// use authkit_axum::emulator::{Emulator, Seed};
    ///
    /// let emulator = Emulator::builder().with_seed(Seed::demo()).start().await?;
    /// let authkit = AuthKit::builder()
    ///     .with_emulator(&emulator)
    ///     .with_cookie_password("a-demo-cookie-password-of-32-chars+")
    ///     .with_redirect_uri("http://localhost:3000/auth/callback")
    ///     .build()?;
    /// drop(emulator); // still serving: `authkit` keeps it
    /// # let _ = authkit;
    /// # Ok(()) }
    /// ```
    pub fn with_emulator(self, emulator: &Emulator) -> Self {
        self.with_client(emulator.client())
            .with_clock(emulator.session_clock())
            .with_keep_alive(Arc::new(emulator.clone()))
    }

    /// Your WorkOS when `WORKOS_API_KEY` is set, a fresh emulator seeded
    /// with `seed` otherwise; returns the builder and which one it chose.
    ///
    /// - With `WORKOS_API_KEY`: the client comes from `WORKOS_API_KEY`,
    ///   `WORKOS_CLIENT_ID` and `WORKOS_API_HOSTNAME/PORT/HTTPS` (see
    ///   [`UserManagement::from_env`]).
    /// - Without: an emulator starts on a free port of 127.0.0.1 and the
    ///   builder is [`with_emulator`](Self::with_emulator) it; it lives as
    ///   long as the built [`AuthKit`](crate::AuthKit).
    ///
    /// Either way `WORKOS_COOKIE_PASSWORD` and `WORKOS_REDIRECT_URI` are used
    /// when set; otherwise the cookie password is random (sessions do not
    /// survive a restart) and the redirect URI is
    /// `http://localhost:{app_port}/auth/callback`. Later `with_*` calls
    /// override any of it.
    ///
    /// The variables are checked before an emulator starts, and every
    /// mistake among them is reported at once ([`SetupError::Config`]).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use authkit_axum::AuthKitBuilder;
    /// use authkit_axum::emulator::{Backend, Seed};
    ///
    /// let (builder, backend) = AuthKitBuilder::from_env_or_emulator(3000, Seed::demo()).await?;
    /// let authkit = builder.with_api_prefix("/api").build()?;
    /// match backend {
    ///     Backend::Emulator(emulator) => println!("offline: {}", emulator.base_url()),
    ///     _ => println!("against WorkOS"),
    /// }
    /// # let _ = authkit;
    /// # Ok(()) }
    /// ```
    pub async fn from_env_or_emulator(
        app_port: u16,
        seed: Seed,
    ) -> Result<(AuthKitBuilder, Backend), SetupError> {
        // Everything the environment can get wrong, checked before an
        // emulator starts and reported together.
        let mut errors = Vec::new();
        let e = &mut errors;
        let redirect_uris: Vec<String> =
            match config::collect(e, optional_var(config::REDIRECT_URI)) {
                Some(Some(list)) => config::split_list(&list).map(str::to_owned).collect(),
                _ => vec![format!("http://localhost:{app_port}/auth/callback")],
            };
        config::collect(e, crate::authkit::check_redirect_uris(&redirect_uris));
        let cookie_password = match config::collect(e, optional_var(config::COOKIE_PASSWORD)) {
            Some(Some(password)) => {
                config::collect(e, crate::authkit::check_cookie_password(&password));
                password
            }
            _ => random_cookie_password()?,
        };
        let workos = matches!(
            config::collect(e, optional_var(config::API_KEY)),
            Some(Some(_))
        );
        let client = if workos {
            config::collect(e, required_var(config::CLIENT_ID));
            if let Err(mut all) = base_url_from_env_all() {
                e.append(&mut all);
            }
            if errors.is_empty() {
                Some(UserManagement::from_env().map_err(ConfigErrors::from)?)
            } else {
                None
            }
        } else {
            None
        };
        if let Some(errors) = ConfigErrors::from_vec(errors) {
            return Err(errors.into());
        }
        let builder = AuthKitBuilder::default()
            .with_cookie_password(cookie_password)
            .with_redirect_uris(redirect_uris.clone());
        if let Some(client) = client {
            return Ok((builder.with_client(client), Backend::WorkOs));
        }
        let emulator = Emulator::builder()
            .with_seed(seed)
            .with_redirect_uris(redirect_uris)
            .start()
            .await?;
        let builder = builder.with_emulator(&emulator);
        Ok((builder, Backend::Emulator(emulator)))
    }
}

/// 24 random bytes in hex: 48 characters, above the 32 the seal needs.
fn random_cookie_password() -> Result<String, SetupError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| SetupError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::WorkOs => f.write_str("the WorkOS API configured by WORKOS_API_KEY"),
            Backend::Emulator(emulator) => {
                write!(f, "the WorkOS emulator at {}", emulator.base_url())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuthKit;

    #[tokio::test]
    async fn the_authkit_keeps_its_emulator_serving_after_the_handle_is_dropped() {
        let emulator = Emulator::builder().start().await.unwrap();
        let authkit = AuthKit::builder()
            .with_emulator(&emulator)
            .with_cookie_password("a-unit-test-cookie-password-of-32+chars")
            .with_redirect_uri("http://localhost:3000/auth/callback")
            .build()
            .unwrap();
        drop(emulator);
        assert_eq!(authkit.client().get_jwks().await.unwrap().keys.len(), 1);
    }
}
