//! A `tracing` layer that keeps every event and every closed span with its
//! fields as text, for the suites that check what the crate logs.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One event, or one span when it closed.
#[derive(Debug, Clone)]
pub struct Logged {
    pub level: Level,
    pub target: String,
    /// The event's message, or the span's name.
    pub message: String,
    pub fields: BTreeMap<String, String>,
    pub span: bool,
}

impl Logged {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// What was captured; clones share it.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<Logged>>>);

/// Makes `subscriber` this thread's default, as `tracing::subscriber::set_default`
/// does, so that what this thread logs is captured even while other test
/// threads log with no subscriber.
///
/// With one thread-local subscriber alone, tracing-core judges a callsite
/// that another thread reaches first by that thread's default (none) and
/// caches "never": the capturing thread then misses the event or span. A
/// global do-nothing subscriber, set once, makes every callsite be judged
/// by all subscribers, this one included.
pub fn capture(
    subscriber: impl Subscriber + Send + Sync + 'static,
) -> tracing::subscriber::DefaultGuard {
    static GLOBAL: std::sync::Once = std::sync::Once::new();
    GLOBAL.call_once(|| {
        // Another global subscriber already there does as well.
        let _ =
            tracing::subscriber::set_global_default(tracing::subscriber::NoSubscriber::default());
    });
    let guard = tracing::subscriber::set_default(subscriber);
    // Callsites judged before this subscriber existed are judged again.
    tracing::callsite::rebuild_interest_cache();
    guard
}

impl Logs {
    /// A subscriber capturing everything from `level` up into `self`.
    pub fn subscriber(&self, level: Level) -> impl Subscriber + Send + Sync {
        tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::from_level(level))
            .with(self.clone())
    }

    pub fn all(&self) -> Vec<Logged> {
        self.0.lock().unwrap().clone()
    }

    /// The events (not spans) with this message.
    pub fn events(&self, message: &str) -> Vec<Logged> {
        self.all()
            .into_iter()
            .filter(|l| !l.span && l.message == message)
            .collect()
    }

    /// The closed spans of this name.
    pub fn spans(&self, name: &str) -> Vec<Logged> {
        self.all()
            .into_iter()
            .filter(|l| l.span && l.message == name)
            .collect()
    }

    /// Everything as lines of text (for a failure's message).
    pub fn text(&self) -> String {
        self.all()
            .iter()
            .map(|l| format!("{} {} {}: {:?}\n", l.level, l.target, l.message, l.fields))
            .collect()
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Logs {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        let meta = event.metadata();
        self.0.lock().unwrap().push(Logged {
            level: *meta.level(),
            target: meta.target().to_owned(),
            message,
            fields: fields.0,
            span: false,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let fields = span
            .extensions_mut()
            .remove::<Fields>()
            .map(|f| f.0)
            .unwrap_or_default();
        let meta = span.metadata();
        self.0.lock().unwrap().push(Logged {
            level: *meta.level(),
            target: meta.target().to_owned(),
            message: meta.name().to_owned(),
            fields,
            span: true,
        });
    }
}
