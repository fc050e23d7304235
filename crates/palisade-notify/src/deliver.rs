//! Delivering a request with retries, the delivery log, and
//! deduplication.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::event::Event;
use crate::http::{OutboundRequest, Transport};
use crate::rebuild::{FixAvailable, RebuildTarget};
use crate::retry::{RetryPolicy, Verdict, classify};
use crate::target::Target;

/// Time, for retries: the real clock, or a recording one in tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, ms since the Unix epoch.
    fn now_ms(&self) -> i64;
    /// Waits.
    fn sleep(&self, d: Duration);
    /// A random number in `[0, 1)` (for the jitter).
    fn random(&self) -> f64;
}

/// The system clock; jitter from the operating system's random source.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::now_ms()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
    fn random(&self) -> f64 {
        let mut b = [0u8; 8];
        if getrandom::fill(&mut b).is_err() {
            return 0.5;
        }
        // 53 random bits in [0, 1).
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How a delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx response.
    Delivered,
    /// Gave up (a 4xx, a redirect, or retries exhausted).
    Failed,
    /// Not sent: the target is not allowed (SSRF protection) or invalid.
    Refused,
    /// Not sent: the same notification went to the target within the
    /// deduplication window.
    Duplicate,
}

impl Outcome {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Failed => "failed",
            Outcome::Refused => "refused",
            Outcome::Duplicate => "duplicate",
        }
    }
}

/// One attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it started, ms.
    pub at: i64,
    /// How long it took, ms.
    pub duration_ms: u64,
    /// The status, when there was a response.
    pub status: Option<u16>,
    /// The error, when there was none (or the status is an error).
    pub error: Option<String>,
    /// The wait before the next attempt, ms, when there is one.
    pub wait_ms: Option<u64>,
}

/// A delivery: one notification to one target, with every attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Its id (the `X-Palisade-Delivery` header).
    pub id: String,
    /// The target.
    pub target_id: String,
    /// The event, when it notifies one.
    pub event_id: Option<String>,
    /// What it is (`finding.new`, `rebuild`...).
    pub kind: String,
    /// The deduplication key.
    pub dedup_key: String,
    /// How it ended.
    pub outcome: Outcome,
    /// The attempts, in order.
    pub attempts: Vec<Attempt>,
    /// The last status received.
    pub status: Option<u16>,
    /// Why it failed or was refused.
    pub error: Option<String>,
    /// The start of the last response body.
    pub response: Option<String>,
}

/// Sends requests with retries.
#[derive(Clone, Debug)]
pub struct Deliverer {
    /// The client.
    pub transport: Arc<dyn Transport>,
    /// When to retry.
    pub retry: RetryPolicy,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// Details of a delivery being made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryInfo<'a> {
    /// Its id.
    pub id: &'a str,
    /// The target.
    pub target_id: &'a str,
    /// The event.
    pub event_id: Option<&'a str>,
    /// What it is.
    pub kind: &'a str,
    /// Its dedup key.
    pub dedup_key: &'a str,
}

impl Deliverer {
    /// A deliverer over `transport` with the default retries and clock.
    pub fn new(transport: Arc<dyn Transport>) -> Deliverer {
        Deliverer {
            transport,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// Sends `req`, retrying as the policy says; blocks while waiting.
    pub fn send(&self, info: &DeliveryInfo<'_>, req: &OutboundRequest) -> Delivery {
        let mut attempts = Vec::new();
        let mut retries = 0u32;
        let max = self.retry.max_attempts.max(1);
        loop {
            let at = self.clock.now_ms();
            let started = Instant::now();
            let result = self.transport.send(req);
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let verdict = classify(&result, at / 1000);
            let (status, response, error) = match &result {
                Ok(r) => (
                    Some(r.status),
                    Some(r.body.clone()),
                    (!(200..300).contains(&r.status)).then(|| format!("HTTP {}", r.status)),
                ),
                Err(e) => (None, None, Some(e.to_string())),
            };
            let mut attempt = Attempt {
                at,
                duration_ms,
                status,
                error: error.clone(),
                wait_ms: None,
            };
            let finish =
                |outcome: Outcome, error: Option<String>, attempts: Vec<Attempt>| Delivery {
                    id: info.id.to_owned(),
                    target_id: info.target_id.to_owned(),
                    event_id: info.event_id.map(str::to_owned),
                    kind: info.kind.to_owned(),
                    dedup_key: info.dedup_key.to_owned(),
                    outcome,
                    attempts,
                    status,
                    error,
                    response: response.clone(),
                };
            match verdict {
                Verdict::Delivered => {
                    attempts.push(attempt);
                    return finish(Outcome::Delivered, None, attempts);
                }
                Verdict::Permanent(why) => {
                    attempts.push(attempt);
                    let outcome = match &result {
                        Err(crate::http::SendError::Refused(_)) => Outcome::Refused,
                        _ => Outcome::Failed,
                    };
                    return finish(outcome, Some(why), attempts);
                }
                Verdict::Retry(asked) => {
                    if retries + 1 >= max {
                        attempts.push(attempt);
                        let why = format!(
                            "gave up after {max} attempts: {}",
                            error.unwrap_or_default()
                        );
                        return finish(Outcome::Failed, Some(why), attempts);
                    }
                    let wait = match asked {
                        Some(d) if d > self.retry.max_retry_after => {
                            attempts.push(attempt);
                            let why = format!(
                                "the receiver asked to retry after {} s (more than {} s)",
                                d.as_secs(),
                                self.retry.max_retry_after.as_secs()
                            );
                            return finish(Outcome::Failed, Some(why), attempts);
                        }
                        Some(d) => d,
                        None => self.retry.backoff(retries, self.clock.random()),
                    };
                    attempt.wait_ms = Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
                    attempts.push(attempt);
                    self.clock.sleep(wait);
                    retries += 1;
                }
            }
        }
    }
}

/// Whether a notification last sent at `last_sent` may be sent again at
/// `now` (`window_ms`: `None` means never again).
pub fn window_allows(last_sent: Option<i64>, now: i64, window_ms: Option<i64>) -> bool {
    match (last_sent, window_ms) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(last), Some(w)) => now.saturating_sub(last) >= w,
    }
}

/// Deduplication in memory: a (target, key) pair is claimed once per
/// window. (The server keeps the same in its database, shared by every
/// process.)
#[derive(Debug, Default)]
pub struct MemoryDedup {
    sent: Mutex<HashMap<(String, String), i64>>,
}

impl MemoryDedup {
    /// Claims (target, key) at `now`: true if it may be sent.
    pub fn claim(&self, target: &str, key: &str, now: i64, window_ms: Option<i64>) -> bool {
        let Ok(mut sent) = self.sent.lock() else {
            return true;
        };
        let k = (target.to_owned(), key.to_owned());
        if window_allows(sent.get(&k).copied(), now, window_ms) {
            sent.insert(k, now);
            true
        } else {
            false
        }
    }

    /// Forgets a claim (after a failed delivery, so a later one may try).
    pub fn release(&self, target: &str, key: &str) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.remove(&(target.to_owned(), key.to_owned()));
        }
    }
}

/// Notifications in one process: filtering, deduplication, delivery and
/// an in-memory delivery log. The server uses the same parts with its
/// database for deduplication and the log.
#[derive(Debug)]
pub struct Notifier {
    /// Sends with retries.
    pub deliverer: Deliverer,
    /// The deduplication window of events (rebuilds are sent once ever).
    pub window: Duration,
    dedup: MemoryDedup,
    log: Mutex<Vec<Delivery>>,
}

impl Notifier {
    /// A notifier with a deduplication window.
    pub fn new(deliverer: Deliverer, window: Duration) -> Notifier {
        Notifier {
            deliverer,
            window,
            dedup: MemoryDedup::default(),
            log: Mutex::new(Vec::new()),
        }
    }

    fn window_ms(&self) -> Option<i64> {
        Some(i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX))
    }

    fn record(&self, d: Delivery) -> Delivery {
        tracing::info!(target_id = %d.target_id, kind = %d.kind, outcome = d.outcome.as_str(), attempts = d.attempts.len(), "notification");
        if let Ok(mut log) = self.log.lock() {
            log.push(d.clone());
        }
        d
    }

    /// Notifies `event` to every target whose filter matches; returns the
    /// deliveries (duplicates included, with outcome `duplicate`).
    pub fn notify(&self, targets: &[Target], event: &Event) -> Vec<Delivery> {
        let key = event.dedup_key();
        let mut out = Vec::new();
        for t in targets.iter().filter(|t| t.filter.matches(event)) {
            let id = crate::new_delivery_id();
            let info = DeliveryInfo {
                id: &id,
                target_id: &t.id,
                event_id: Some(&event.id),
                kind: &event.kind,
                dedup_key: &key,
            };
            let now = self.deliverer.clock.now_ms();
            if !self.dedup.claim(&t.id, &key, now, self.window_ms()) {
                out.push(self.record(duplicate(&info)));
                continue;
            }
            let req = t.request(event, &id, now / 1000);
            let d = self.deliverer.send(&info, &req);
            if d.outcome != Outcome::Delivered {
                self.dedup.release(&t.id, &key);
            }
            out.push(self.record(d));
        }
        out
    }

    /// Triggers a rebuild on every rebuild target that wants `fix`, once
    /// per (target, workload, component, fix version).
    pub fn trigger_rebuild(&self, targets: &[RebuildTarget], fix: &FixAvailable) -> Vec<Delivery> {
        let key = fix.dedup_key();
        let mut out = Vec::new();
        for t in targets.iter().filter(|t| t.matches(fix)) {
            let id = crate::new_delivery_id();
            let info = DeliveryInfo {
                id: &id,
                target_id: &t.id,
                event_id: None,
                kind: crate::rebuild::REBUILD_KIND,
                dedup_key: &key,
            };
            let now = self.deliverer.clock.now_ms();
            if !self.dedup.claim(&t.id, &key, now, None) {
                out.push(self.record(duplicate(&info)));
                continue;
            }
            let d = match t.request(fix, &id, now / 1000) {
                Ok(req) => self.deliverer.send(&info, &req),
                Err(e) => refused(&info, e.to_string()),
            };
            if d.outcome != Outcome::Delivered {
                self.dedup.release(&t.id, &key);
            }
            out.push(self.record(d));
        }
        out
    }

    /// Every delivery so far, oldest first.
    pub fn log(&self) -> Vec<Delivery> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// The log entry of a notification not sent because it is a duplicate.
pub fn duplicate(info: &DeliveryInfo<'_>) -> Delivery {
    skipped(info, Outcome::Duplicate, None)
}

/// The log entry of a notification refused before sending.
pub fn refused(info: &DeliveryInfo<'_>, why: String) -> Delivery {
    skipped(info, Outcome::Refused, Some(why))
}

fn skipped(info: &DeliveryInfo<'_>, outcome: Outcome, error: Option<String>) -> Delivery {
    Delivery {
        id: info.id.to_owned(),
        target_id: info.target_id.to_owned(),
        event_id: info.event_id.map(str::to_owned),
        kind: info.kind.to_owned(),
        dedup_key: info.dedup_key.to_owned(),
        outcome,
        attempts: Vec::new(),
        status: None,
        error,
        response: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HttpResponse, SendError};

    #[derive(Debug)]
    struct Script(Mutex<Vec<Result<HttpResponse, SendError>>>);
    impl Transport for Script {
        fn send(&self, _: &OutboundRequest) -> Result<HttpResponse, SendError> {
            let mut s = self.0.lock().unwrap();
            if s.is_empty() {
                Ok(ok(200))
            } else {
                s.remove(0)
            }
        }
    }
    #[derive(Debug, Default)]
    struct FakeClock(Mutex<Vec<Duration>>);
    impl Clock for FakeClock {
        fn now_ms(&self) -> i64 {
            1_000_000
        }
        fn sleep(&self, d: Duration) {
            self.0.lock().unwrap().push(d);
        }
        fn random(&self) -> f64 {
            0.0
        }
    }
    fn ok(status: u16) -> HttpResponse {
        HttpResponse {
            status,
            retry_after: None,
            location: None,
            body: String::new(),
        }
    }
    fn run(script: Vec<Result<HttpResponse, SendError>>) -> (Delivery, Vec<Duration>) {
        let clock = Arc::new(FakeClock::default());
        let d = Deliverer {
            transport: Arc::new(Script(Mutex::new(script))),
            retry: RetryPolicy {
                base_delay: Duration::from_millis(100),
                ..RetryPolicy::default()
            },
            clock: clock.clone(),
        };
        let info = DeliveryInfo {
            id: "d",
            target_id: "t",
            event_id: None,
            kind: "k",
            dedup_key: "k:x",
        };
        let req = OutboundRequest {
            url: "http://x/".into(),
            headers: vec![],
            body: vec![],
            allow_private: false,
        };
        let out = d.send(&info, &req);
        let waits = clock.0.lock().unwrap().clone();
        (out, waits)
    }

    #[test]
    fn retries_with_exponential_backoff() {
        let (d, waits) = run(vec![
            Ok(ok(500)),
            Err(SendError::Timeout("t".into())),
            Ok(ok(503)),
            Ok(ok(202)),
        ]);
        assert_eq!(d.outcome, Outcome::Delivered);
        assert_eq!(d.attempts.len(), 4);
        assert_eq!(
            waits,
            vec![
                Duration::from_millis(100),
                Duration::from_millis(200),
                Duration::from_millis(400)
            ]
        );
    }

    #[test]
    fn gives_up() {
        let (d, waits) = run(vec![Ok(ok(500)); 9]);
        assert_eq!(d.outcome, Outcome::Failed);
        assert_eq!(d.attempts.len(), 5);
        assert_eq!(waits.len(), 4);
        let (d, waits) = run(vec![Ok(ok(404))]);
        assert_eq!(
            (d.outcome, d.attempts.len(), waits.len()),
            (Outcome::Failed, 1, 0)
        );
        let (d, _) = run(vec![Err(SendError::Refused("private".into()))]);
        assert_eq!(d.outcome, Outcome::Refused);
        let mut too_long = ok(429);
        too_long.retry_after = Some("3600".into());
        let (d, waits) = run(vec![Ok(too_long)]);
        assert_eq!((d.outcome, waits.len()), (Outcome::Failed, 0));
    }

    #[test]
    fn honours_retry_after() {
        let mut r = ok(429);
        r.retry_after = Some("7".into());
        let (d, waits) = run(vec![Ok(r)]);
        assert_eq!(d.outcome, Outcome::Delivered);
        assert_eq!(waits, vec![Duration::from_secs(7)]);
    }

    #[test]
    fn dedup_window() {
        let m = MemoryDedup::default();
        assert!(m.claim("t", "k", 0, Some(1000)));
        assert!(!m.claim("t", "k", 999, Some(1000)));
        assert!(m.claim("t2", "k", 999, Some(1000)));
        assert!(m.claim("t", "k", 1000, Some(1000)));
        assert!(m.claim("t", "once", 0, None));
        assert!(!m.claim("t", "once", i64::MAX, None));
        m.release("t", "once");
        assert!(m.claim("t", "once", 5, None));
    }
}
