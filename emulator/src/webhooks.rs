//! Webhook deliveries: every event the state records after start is posted
//! to each configured endpoint, signed as WorkOS signs (`WorkOS-Signature:
//! t=<unix ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`), from a task per
//! endpoint (in order; never in the way of the API call that made the
//! event), retried with a doubling backoff a bounded number of times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::{mpsc, watch};

use super::clock::unix_millis;

/// Where to deliver, and how persistently.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) secret: SecretString,
}

/// How many times a delivery is tried, and the first wait between tries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) attempts: u32,
    pub(crate) first_delay: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `n + 1` (after `n` failures): doubling, at most 5 s.
    fn delay(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.first_delay
            .saturating_mul(factor)
            .min(Duration::from_secs(5))
    }
}

/// One event's delivery to one endpoint, as far as it got.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The endpoint's URL.
    pub endpoint: String,
    /// The event's id.
    pub event_id: String,
    /// The event's name (`user.created`, …).
    pub event: String,
    /// How many requests were made.
    pub attempts: u32,
    /// The status of the last answer (`None`: no answer, e.g. refused connection).
    pub last_status: Option<u16>,
    /// Whether an answer was 2xx.
    pub delivered: bool,
}

/// The events waiting to go out, fanned out to the endpoints' tasks; the
/// state holds it and [`Outbox::send`] never waits.
#[derive(Debug, Clone)]
pub(crate) struct Outbox {
    queues: Vec<mpsc::UnboundedSender<Arc<Value>>>,
    hub: Arc<Hub>,
}

impl Outbox {
    pub(crate) fn send(&self, event: &Value) {
        let event = Arc::new(event.clone());
        for queue in &self.queues {
            self.hub.queued.fetch_add(1, Ordering::SeqCst);
            if queue.send(event.clone()).is_err() {
                self.hub.settle(None);
            }
        }
    }
}

/// What the handle reads: the deliveries and how many are settled.
#[derive(Debug)]
pub(crate) struct Hub {
    queued: AtomicU64,
    settled: watch::Sender<u64>,
    deliveries: Mutex<Vec<WebhookDelivery>>,
}

impl Hub {
    fn settle(&self, record: Option<WebhookDelivery>) {
        if let Some(record) = record {
            self.deliveries
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(record);
        }
        self.settled.send_modify(|n| *n += 1);
    }

    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits until every delivery queued so far is delivered or given up.
    pub(crate) async fn settled(&self) {
        let target = self.queued.load(Ordering::SeqCst);
        let mut rx = self.settled.subscribe();
        let _ = rx.wait_for(|n| *n >= target).await;
    }
}

/// Starts a delivery task per endpoint on the current runtime; the tasks
/// end when the outbox (the state) is dropped.
pub(crate) fn start(endpoints: Vec<Endpoint>, retry: RetryPolicy) -> (Outbox, Arc<Hub>) {
    let hub = Arc::new(Hub {
        queued: AtomicU64::new(0),
        settled: watch::Sender::new(0),
        deliveries: Mutex::new(Vec::new()),
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .user_agent("authkit-emulator webhooks")
        .build()
        .unwrap_or_default();
    let mut queues = Vec::new();
    for endpoint in endpoints {
        let (tx, mut rx) = mpsc::unbounded_channel::<Arc<Value>>();
        queues.push(tx);
        let (hub, http) = (hub.clone(), http.clone());
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                let record = deliver(&http, &endpoint, &event, retry).await;
                hub.settle(Some(record));
            }
        });
    }
    (
        Outbox {
            queues,
            hub: hub.clone(),
        },
        hub,
    )
}

/// Posts one event until a 2xx answer or the attempts run out.
async fn deliver(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    event: &Value,
    retry: RetryPolicy,
) -> WebhookDelivery {
    let body = event.to_string();
    let mut record = WebhookDelivery {
        endpoint: endpoint.url.clone(),
        event_id: event["id"].as_str().unwrap_or_default().to_owned(),
        event: event["event"].as_str().unwrap_or_default().to_owned(),
        attempts: 0,
        last_status: None,
        delivered: false,
    };
    while record.attempts < retry.attempts.max(1) {
        if record.attempts > 0 {
            tokio::time::sleep(retry.delay(record.attempts)).await;
        }
        record.attempts += 1;
        // Signed at the real time of sending, as WorkOS signs: an app's
        // verifier reads the real clock, whatever the emulator's says.
        let signature = signature_header(&endpoint.secret, body.as_bytes(), SystemTime::now());
        let answer = http
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("workos-signature", signature)
            .body(body.clone())
            .send()
            .await;
        match answer {
            Ok(response) => {
                let status = response.status();
                record.last_status = Some(status.as_u16());
                if status.is_success() {
                    record.delivered = true;
                    break;
                }
            }
            Err(_) => record.last_status = None,
        }
        tracing::debug!(
            endpoint = %endpoint.url,
            event_id = %record.event_id,
            attempt = record.attempts,
            status = ?record.last_status,
            "webhook delivery failed"
        );
    }
    record
}

/// `t=<unix ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub(crate) fn signature_header(secret: &SecretString, body: &[u8], at: SystemTime) -> String {
    let t = unix_millis(at).to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t}, v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_and_is_capped() {
        let retry = RetryPolicy {
            attempts: 10,
            first_delay: Duration::from_millis(100),
        };
        assert_eq!(retry.delay(1), Duration::from_millis(100));
        assert_eq!(retry.delay(2), Duration::from_millis(200));
        assert_eq!(retry.delay(3), Duration::from_millis(400));
        assert_eq!(retry.delay(30), Duration::from_secs(5));
    }

    #[test]
    fn the_signature_is_the_documented_hmac() {
        let secret = SecretString::from("whsec");
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let header = signature_header(&secret, b"{}", at);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec").unwrap();
        mac.update(b"1700000000123.{}");
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(header, format!("t=1700000000123, v1={hex}"));
    }
}
