//! Outbound notifications and rebuild triggers.
//!
//! Events (`finding.new`, `decision.deny`, `exception.expiring`...) go to
//! targets (a generic JSON webhook or a Slack-compatible message) whose
//! filter wants them ([`filter`]); each request is signed with HMAC-SHA256
//! when the target has a secret ([`sign`]); the same notification (target
//! and [`event::Event::dedup_key`]) is sent once per window
//! ([`deliver::MemoryDedup`], or the server's table); a delivery is retried
//! with exponential backoff and jitter on 5xx, 429 (after `Retry-After`),
//! timeouts and connection errors ([`retry`]), and every delivery with its
//! attempts is logged ([`deliver::Delivery`]).
//!
//! A target's address is checked after DNS resolution and the connection
//! is pinned to the checked addresses; private, loopback, link-local and
//! similar addresses are refused unless allowed ([`net`], [`http`]).
//! Redirects are never followed.
//!
//! Rebuild triggers ([`rebuild`]) ask CI (a GitHub `repository_dispatch` or
//! a webhook) to rebuild a workload when a fix is available for one of its
//! components, once per (workload, component, fix version).
//!
//! Everything but [`http::HttpTransport`] is pure; delivery blocks, so an
//! async caller runs it on a blocking thread.

pub mod deliver;
pub mod event;
pub mod expiring;
pub mod filter;
pub mod http;
pub mod net;
pub mod rebuild;
pub mod retry;
pub mod sign;
pub mod target;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use deliver::{Deliverer, Delivery, Notifier, Outcome};
pub use event::{Event, Priority, Severity};
pub use filter::Filter;
pub use http::{HttpTransport, OutboundRequest, Transport};
pub use net::NetPolicy;
pub use rebuild::{FixAvailable, RebuildKind, RebuildTarget};
pub use retry::RetryPolicy;
pub use sign::{SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};
pub use target::{Target, TargetKind};

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// Errors of configuration and address checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The URL cannot be used.
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The host resolves to an address that may not be reached.
    #[error(
        "refused: {host} resolves to {addr}, a {reason} address (set allow_private on the target, or add the range to the allow-list, to allow it)"
    )]
    Refused {
        /// The host.
        host: String,
        /// The address.
        addr: IpAddr,
        /// What kind of address.
        reason: &'static str,
    },
    /// The host could not be resolved.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host.
        host: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// No random numbers for a secret.
    #[error("no random source: {0}")]
    Random(String),
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A new HMAC secret: 32 random bytes, hex.
pub fn generate_secret() -> Result<String, NotifyError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| NotifyError::Random(e.to_string()))?;
    Ok(hex::encode(b))
}

/// A new delivery id: `d-` and 16 random hex digits after the time.
pub fn new_delivery_id() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    format!("d-{:012x}-{}", now_ms(), hex::encode(b))
}
