//! Sending one request: the SSRF check, the connection pinned to the
//! checked addresses, no redirects, no proxy, bounded time.

use std::fmt;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::NotifyError;
use crate::net::{NetPolicy, Resolve, SystemResolver, check_url, redact_url};

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("palisade-notify/", env!("CARGO_PKG_VERSION"));

/// How much of a response body is kept (for the delivery log).
pub const MAX_RESPONSE_BODY: u64 = 2048;

/// A request to send.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundRequest {
    /// The URL (http or https).
    pub url: String,
    /// Headers besides `Content-Type` and `User-Agent`.
    pub headers: Vec<(String, String)>,
    /// The body (JSON).
    pub body: Vec<u8>,
    /// Whether non-public addresses may be reached.
    pub allow_private: bool,
}

impl fmt::Debug for OutboundRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // URLs and headers carry secrets (Slack paths, tokens).
        f.debug_struct("OutboundRequest")
            .field("url", &redact_url(&self.url))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

impl OutboundRequest {
    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What came back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The `Retry-After` header.
    pub retry_after: Option<String>,
    /// The `Location` header (redirects are reported, never followed).
    pub location: Option<String>,
    /// The start of the body.
    pub body: String,
}

/// Why a request got no response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The target is not allowed (SSRF protection) or its URL is invalid:
    /// never retried.
    #[error("{0}")]
    Refused(String),
    /// No answer in time: retried.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The connection failed (refused, reset, name not found): retried.
    #[error("connection failed: {0}")]
    Connect(String),
    /// Anything else (TLS, protocol): not retried.
    #[error("{0}")]
    Other(String),
}

impl SendError {
    /// Whether trying again may help.
    pub fn retryable(&self) -> bool {
        matches!(self, SendError::Timeout(_) | SendError::Connect(_))
    }
}

/// Sends requests (the real HTTP client, or a fake in tests).
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `req` once.
    fn send(&self, req: &OutboundRequest) -> Result<HttpResponse, SendError>;
}

/// The HTTP client: checks the target's addresses, then connects to those
/// addresses only.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    /// The global allow-list (a request's `allow_private` adds to it).
    pub policy: NetPolicy,
    /// Resolves host names.
    pub resolver: Arc<dyn Resolve>,
    /// Time for the whole exchange.
    pub timeout: Duration,
    /// Time to connect.
    pub connect_timeout: Duration,
}

impl Default for HttpTransport {
    fn default() -> Self {
        HttpTransport {
            policy: NetPolicy::default(),
            resolver: Arc::new(SystemResolver),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Resolves every host to the addresses checked beforehand.
#[derive(Debug)]
struct Pinned(Vec<SocketAddr>);

impl Resolver for Pinned {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut out = self.empty();
        for a in self.0.iter().take(16) {
            out.push(*a);
        }
        if out.is_empty() {
            Err(ureq::Error::HostNotFound)
        } else {
            Ok(out)
        }
    }
}

impl HttpTransport {
    /// A client with a global allow-list.
    pub fn with_policy(policy: NetPolicy) -> HttpTransport {
        HttpTransport {
            policy,
            ..HttpTransport::default()
        }
    }

    /// Checks `url` as a request would be checked (for validating
    /// configuration): returns the addresses it would connect to.
    pub fn check(&self, url: &str, allow_private: bool) -> Result<Vec<SocketAddr>, NotifyError> {
        let mut policy = self.policy.clone();
        policy.allow_private |= allow_private;
        Ok(check_url(url, &policy, self.resolver.as_ref())?.addrs)
    }
}

impl Transport for HttpTransport {
    fn send(&self, req: &OutboundRequest) -> Result<HttpResponse, SendError> {
        let mut policy = self.policy.clone();
        policy.allow_private |= req.allow_private;
        let checked =
            check_url(&req.url, &policy, self.resolver.as_ref()).map_err(|e| match e {
                NotifyError::Resolve { .. } => SendError::Connect(e.to_string()),
                other => SendError::Refused(other.to_string()),
            })?;
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(None)
            .user_agent(USER_AGENT)
            .timeout_global(Some(self.timeout))
            .timeout_connect(Some(self.connect_timeout))
            .max_idle_connections(0)
            .build();
        let agent = ureq::Agent::with_parts(config, DefaultConnector::new(), Pinned(checked.addrs));
        let mut builder = ureq::http::Request::builder()
            .method("POST")
            .uri(checked.url.as_str())
            .header("Content-Type", "application/json");
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let request = builder
            .body(req.body.clone())
            .map_err(|e| SendError::Refused(format!("cannot build the request: {e}")))?;
        let response = agent.run(request).map_err(classify_error)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let retry_after = header("retry-after");
        let location = header("location");
        let mut body = Vec::new();
        let _ = response
            .into_body()
            .into_reader()
            .take(MAX_RESPONSE_BODY)
            .read_to_end(&mut body);
        Ok(HttpResponse {
            status,
            retry_after,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

fn classify_error(e: ureq::Error) -> SendError {
    match e {
        ureq::Error::Timeout(t) => SendError::Timeout(t.to_string()),
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                SendError::Timeout(io.to_string())
            }
            _ => SendError::Connect(io.to_string()),
        },
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            SendError::Connect(e.to_string())
        }
        ureq::Error::Protocol(p) => SendError::Connect(format!("protocol error: {p}")),
        other => SendError::Other(other.to_string()),
    }
}
