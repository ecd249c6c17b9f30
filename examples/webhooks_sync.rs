//! Keeping a local users table in sync with WorkOS: webhooks for each
//! change as it happens, the Events API to catch up on what was missed
//! while the app was down.
//!
//! ```sh
//! cargo run --example webhooks_sync
//! ```
//!
//! Offline, it starts the embedded emulator with a webhook endpoint pointing
//! at this app, catches up (the seeded demo user arrives through the Events
//! API), creates, renames and deletes users through the client (each change
//! arrives as a signed webhook), and prints the table after each step.
//!
//! Against your WorkOS environment: set `WORKOS_API_KEY`, `WORKOS_CLIENT_ID`
//! and `WORKOS_WEBHOOK_SECRET` (the endpoint's secret from the dashboard),
//! optionally `SYNC_DATABASE` (default `users.sqlite3`); the app catches up,
//! then serves `POST /webhooks/workos` on http://127.0.0.1:3000.
//!
//! The table is only ever written from events: `user.created` and
//! `user.updated` upsert, `user.deleted` deletes and leaves a tombstone.
//! WorkOS does not deliver webhooks in order, and retries them, so applying
//! an event must not depend on what came before it:
//!
//! - an upsert older than the row (its `updated_at`) changes nothing: a late
//!   retry of an update never undoes a newer one;
//! - a deleted user's id stays in `deleted_users` (with when it was deleted),
//!   and no later-arriving `user.created`/`user.updated` brings the user back
//!   (WorkOS never reuses a user id, so every such event predates the
//!   deletion);
//! - applying an event twice changes nothing.
//!
//! The catch-up cursor (the last event id, kept next to the table) moves
//! only during a catch-up, over the Events API's own oldest-first list, and
//! only past events applied in a row: it stops at the first one that fails.
//! Webhooks never move it. A webhook that failed (and whose retries ran
//! out) followed by a later one that succeeded must not push the cursor past
//! the failed one, or no catch-up would ever apply it; a catch-up re-reads
//! events the webhooks applied already, which the rules above make harmless.

use std::sync::{Arc, Mutex};

use authkit_axum::client::{
    CreateUser, Event, EventData, ListEvents, UpdateUser, User, UserManagement,
};
use authkit_axum::webhooks::{Webhook, WebhookVerifier};
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use futures_util::TryStreamExt;
use rusqlite::{Connection, OptionalExtension, params};

/// The events that change the table.
pub const USER_EVENTS: [&str; 3] = ["user.created", "user.updated", "user.deleted"];

/// One row of the local table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The WorkOS user id.
    pub id: String,
    /// The email address.
    pub email: String,
    /// First name, if any.
    pub first_name: Option<String>,
    /// Last name, if any.
    pub last_name: Option<String>,
}

/// The local users table (SQLite) and the last event applied to it.
#[derive(Clone)]
pub struct UsersTable {
    db: Arc<Mutex<Connection>>,
}

impl UsersTable {
    /// Opens (and if needed creates) the table in `db`.
    pub fn new(db: Connection) -> rusqlite::Result<Self> {
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS users (
                 id TEXT PRIMARY KEY,
                 email TEXT NOT NULL,
                 first_name TEXT,
                 last_name TEXT,
                 updated_at TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS deleted_users (
                 id TEXT PRIMARY KEY,
                 deleted_at TEXT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS sync_state (
                 key TEXT PRIMARY KEY,
                 value TEXT NOT NULL
             );",
        )?;
        Ok(UsersTable {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// Applies one event (a webhook's); other events than [`USER_EVENTS`]
    /// are ignored. Never moves the catch-up cursor (see the module docs).
    pub fn apply(&self, event: &Event) -> rusqlite::Result<()> {
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let tx = db.transaction()?;
        apply(&tx, event)?;
        tx.commit()
    }

    /// Applies one event of a catch-up and moves the cursor to it, both or
    /// neither.
    fn apply_and_advance(&self, event: &Event) -> rusqlite::Result<()> {
        let mut db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let tx = db.transaction()?;
        apply(&tx, event)?;
        tx.execute(
            "INSERT INTO sync_state (key, value) VALUES ('last_event_id', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![event.id],
        )?;
        tx.commit()
    }

    /// Where the next catch-up starts: the last event of the Events API
    /// that a catch-up applied, with every one before it applied too.
    pub fn last_event_id(&self) -> rusqlite::Result<Option<String>> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        db.query_row(
            "SELECT value FROM sync_state WHERE key = 'last_event_id'",
            [],
            |row| row.get(0),
        )
        .optional()
    }

    /// Every row, by email.
    pub fn rows(&self) -> rusqlite::Result<Vec<Row>> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let mut query =
            db.prepare("SELECT id, email, first_name, last_name FROM users ORDER BY email")?;
        let rows = query.query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                email: r.get(1)?,
                first_name: r.get(2)?,
                last_name: r.get(3)?,
            })
        })?;
        rows.collect()
    }

    /// Applies every user event after the cursor, oldest first, walking
    /// every page of the Events API, and moves the cursor past each one as
    /// it is applied. The first event that fails stops it, with the cursor
    /// just before that event: the next catch-up starts with it. Returns how
    /// many it applied (events the webhooks applied already included).
    pub async fn catch_up(
        &self,
        workos: &UserManagement,
    ) -> Result<usize, Box<dyn std::error::Error>> {
        let mut params = ListEvents::new(USER_EVENTS).with_limit(100);
        if let Some(last) = self.last_event_id()? {
            params = params.with_after(last);
        }
        let mut events = std::pin::pin!(workos.list_events_stream(params));
        let mut applied = 0;
        while let Some(event) = events.try_next().await? {
            self.apply_and_advance(&event)?;
            applied += 1;
        }
        Ok(applied)
    }
}

fn apply(tx: &rusqlite::Transaction<'_>, event: &Event) -> rusqlite::Result<()> {
    match &event.data {
        EventData::UserCreated(user) | EventData::UserUpdated(user) => upsert(tx, user),
        EventData::UserDeleted(user) => {
            tx.execute("DELETE FROM users WHERE id = ?1", params![user.id])?;
            // The tombstone: when the user was deleted (the event's time),
            // kept so that a late create or update is known to be stale. Old
            // tombstones could be pruned past WorkOS's retry window and the
            // Events API's retention.
            tx.execute(
                "INSERT INTO deleted_users (id, deleted_at) VALUES (?1, ?2)
                 ON CONFLICT (id) DO NOTHING",
                params![user.id, event.created_at],
            )?;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn upsert(tx: &rusqlite::Transaction<'_>, user: &User) -> rusqlite::Result<()> {
    // A deleted user stays deleted: WorkOS never reuses an id, so a create
    // or update arriving after the deletion is a late (or retried) one.
    let deleted: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM deleted_users WHERE id = ?1)",
        params![user.id],
        |r| r.get(0),
    )?;
    if deleted {
        return Ok(());
    }
    // An older version of the user (a late retry, or two updates delivered
    // out of order) never overwrites a newer one. WorkOS's timestamps are
    // all RFC 3339 UTC with milliseconds (`2024-01-01T00:00:00.000Z`), so
    // comparing them as text compares them as times.
    tx.execute(
        "INSERT INTO users (id, email, first_name, last_name, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET
             email = excluded.email, first_name = excluded.first_name,
             last_name = excluded.last_name, updated_at = excluded.updated_at
         WHERE excluded.updated_at >= users.updated_at",
        params![
            user.id,
            user.email,
            user.first_name,
            user.last_name,
            user.updated_at
        ],
    )?;
    Ok(())
}

/// The app's state: the table and the webhook verifier.
#[derive(Clone)]
pub struct AppState {
    /// The local table.
    pub users: UsersTable,
    /// Checks the `WorkOS-Signature` header.
    pub verifier: WebhookVerifier,
}

impl FromRef<AppState> for WebhookVerifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// `POST /webhooks/workos`: a verified event is applied; a refused one was
/// answered 400/401/413 by the extractor already.
async fn receive(State(state): State<AppState>, Webhook(event): Webhook) -> StatusCode {
    match state.users.apply(&event) {
        Ok(()) => StatusCode::OK,
        // Not 2xx: WorkOS delivers it again later.
        Err(e) => {
            eprintln!("could not apply {}: {e}", event.id);
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// The app: the webhook endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/workos", post(receive))
        .with_state(state)
}

fn print_table(title: &str, users: &UsersTable) -> rusqlite::Result<()> {
    println!("{title}");
    for row in users.rows()? {
        let name = [row.first_name.as_deref(), row.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        println!("  {:<32} {:<28} {name}", row.id, row.email);
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    // Display, not Debug: the message, not a dump of the error's fields.
    if let Err(error) = run().await {
        eprintln!("Error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("WORKOS_API_KEY").is_some() {
        return against_workos().await;
    }
    use authkit_axum::emulator::{Emulator, EmulatorExt, Seed};

    const SECRET: &str = "whsec_webhooks_sync_example";
    // Listen first: the emulator needs the endpoint's address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://{}/webhooks/workos", listener.local_addr()?);
    let emulator = Emulator::builder()
        .with_seed(Seed::demo())
        .with_webhook(&endpoint, SECRET)
        .start()
        .await?;
    let workos = emulator.client();
    let users = UsersTable::new(Connection::open_in_memory()?)?;
    let caught_up = users.catch_up(&workos).await?;
    print_table(&format!("after catching up ({caught_up} events):"), &users)?;

    let state = AppState {
        users: users.clone(),
        verifier: WebhookVerifier::new(SECRET),
    };
    tokio::spawn(async move { axum::serve(listener, router(state)).await });

    let ada = workos
        .create_user(&CreateUser {
            email: "ada@example.com".into(),
            first_name: Some("Ada".into()),
            ..CreateUser::default()
        })
        .await?;
    emulator.webhooks_settled().await;
    print_table("after creating ada@example.com:", &users)?;

    workos
        .update_user(&UpdateUser {
            user_id: ada.id.clone(),
            last_name: Some(Some("Lovelace".into())),
            ..UpdateUser::default()
        })
        .await?;
    emulator.webhooks_settled().await;
    print_table("after naming her Ada Lovelace:", &users)?;

    workos.delete_user(&ada.id).await?;
    emulator.webhooks_settled().await;
    print_table("after deleting her:", &users)?;
    for d in emulator.webhook_deliveries() {
        println!(
            "delivered {} {} after {} attempt(s)",
            d.event, d.event_id, d.attempts
        );
    }
    Ok(())
}

/// The same app against WorkOS: catch up, then serve the endpoint.
async fn against_workos() -> Result<(), Box<dyn std::error::Error>> {
    let workos = UserManagement::from_env()?;
    let path = std::env::var("SYNC_DATABASE").unwrap_or_else(|_| "users.sqlite3".into());
    let users = UsersTable::new(Connection::open(path)?)?;
    let caught_up = users.catch_up(&workos).await?;
    print_table(&format!("after catching up ({caught_up} events):"), &users)?;
    let state = AppState {
        users,
        verifier: WebhookVerifier::from_env()?,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("webhooks: POST http://127.0.0.1:3000/webhooks/workos");
    axum::serve(listener, router(state)).await?;
    Ok(())
}
