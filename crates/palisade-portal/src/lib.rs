//! The portal: one web UI for developers, platform and security engineers,
//! served by `palisade server` itself beside the REST API.
//!
//! The design decision: server-rendered HTML, no JavaScript. Every page is a
//! plain document of links, tables and forms, drawn from the same store
//! queries as the API and scoped the same way ([`palisade_store::model::Scope`]):
//! a developer's pages never read another team's rows. Charts are SVG drawn
//! here, with a title, a description and a data table beside them. Templates
//! are `maud` macros, checked at compile time and escaping every value by
//! default, so advisory text or package names cannot inject markup.
//!
//! Sign-in is with a local user (argon2id password hash) or an API token; the
//! session lives in the database and the browser holds only a random id in
//! an `HttpOnly`, `SameSite=Lax` cookie (`Secure` when served over TLS).
//! Every form carries the session's synchronizer token, checked before the
//! form is read ([`auth::Posted`]); the sign-in form, before a session
//! exists, uses a double-submit cookie.
//!
//! Priorities and SLA due dates come from `palisade-risk`'s model
//! ([`palisade_risk::priority`]), so the portal and the CLI agree.

pub mod auth;
pub mod chart;
pub mod data;
mod html;
mod pages;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use palisade_server::AppState;
use palisade_store::StoreError;

/// Settings of the portal.
#[derive(Clone, Debug)]
pub struct PortalConfig {
    /// Mark cookies `Secure` (the portal is served over TLS, directly or
    /// behind a proxy that terminates it).
    pub secure_cookies: bool,
    /// Believe `X-Forwarded-Proto: https` from the client side (only behind
    /// a proxy that sets it; off by default, since anyone can send it).
    pub trust_forwarded_proto: bool,
    /// How long a session lives, in seconds.
    pub session_seconds: i64,
    /// Priorities and SLA days.
    pub priority: palisade_risk::Policy,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            secure_cookies: false,
            trust_forwarded_proto: false,
            session_seconds: 12 * 3600,
            priority: palisade_risk::Policy::default(),
        }
    }
}

/// Errors reading the portal's configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The prioritisation policy file could not be read.
    #[error("cannot read the prioritisation policy {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The prioritisation policy is invalid.
    #[error(transparent)]
    Policy(#[from] palisade_risk::PolicyError),
    /// A number is not a number.
    #[error("{name}: {value:?} is not a positive whole number")]
    Number {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
}

fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"))
}

impl PortalConfig {
    /// Reads the settings from the environment:
    ///
    /// - `PALISADE_PORTAL_SECURE_COOKIES=1`: the portal is served over TLS.
    /// - `PALISADE_PORTAL_TRUST_FORWARDED_PROTO=1`: a proxy in front sets
    ///   `X-Forwarded-Proto`; cookies are `Secure` when it says `https`.
    /// - `PALISADE_PORTAL_SESSION_SECONDS`: session lifetime (default 12 h).
    /// - `PALISADE_PRIORITY_POLICY`: a JSON file with `palisade-risk`'s
    ///   prioritisation settings (SLA days per priority, thresholds).
    pub fn from_env() -> Result<PortalConfig, ConfigError> {
        let mut c = PortalConfig {
            secure_cookies: env_flag("PALISADE_PORTAL_SECURE_COOKIES"),
            trust_forwarded_proto: env_flag("PALISADE_PORTAL_TRUST_FORWARDED_PROTO"),
            ..PortalConfig::default()
        };
        if let Ok(v) = std::env::var("PALISADE_PORTAL_SESSION_SECONDS") {
            c.session_seconds =
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::Number {
                        name: "PALISADE_PORTAL_SESSION_SECONDS",
                        value: v,
                    })?;
        }
        if let Ok(path) = std::env::var("PALISADE_PRIORITY_POLICY") {
            let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            c.priority = palisade_risk::Policy::from_json(&bytes)?;
        }
        Ok(c)
    }
}

/// What every portal handler shares beside [`AppState`].
#[derive(Debug)]
pub(crate) struct Portal {
    pub(crate) config: PortalConfig,
    pub(crate) limiter: auth::SignInLimiter,
}

/// The portal's routes with the settings from the environment
/// ([`PortalConfig::from_env`]); an invalid setting is logged and the
/// default used.
pub fn routes() -> Router<AppState> {
    let config = PortalConfig::from_env().unwrap_or_else(|e| {
        tracing::error!(error = %e, "portal configuration ignored; using the defaults");
        PortalConfig::default()
    });
    routes_with(config)
}

/// The portal's routes with the settings from the environment, for a
/// server that speaks TLS itself when `served_over_tls` (cookies are then
/// always `Secure`).
pub fn routes_tls(served_over_tls: bool) -> Router<AppState> {
    let mut config = PortalConfig::from_env().unwrap_or_else(|e| {
        tracing::error!(error = %e, "portal configuration ignored; using the defaults");
        PortalConfig::default()
    });
    config.secure_cookies |= served_over_tls;
    routes_with(config)
}

/// The portal's routes with explicit settings.
pub fn routes_with(config: PortalConfig) -> Router<AppState> {
    let portal = Arc::new(Portal {
        config,
        limiter: auth::SignInLimiter::default(),
    });
    Router::new()
        .route("/", get(pages::overview::page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/assets/portal.css", get(stylesheet))
        .route("/teams", get(pages::teams::list))
        .route("/teams/{name}", get(pages::teams::team))
        .route("/applications/{id}", get(pages::teams::application))
        .route("/workloads", get(pages::workloads::list))
        .route("/workloads/{id}", get(pages::workloads::page))
        .route("/findings", get(pages::findings::list))
        .route("/findings/{id}", get(pages::findings::page))
        .route("/findings/{id}/triage", post(pages::findings::triage))
        .route("/advisories/{id}", get(pages::advisories::page))
        .route(
            "/exceptions",
            get(pages::exceptions::list).post(pages::exceptions::request),
        )
        .route("/exceptions/{id}", get(pages::exceptions::page))
        .route("/exceptions/{id}/approve", post(pages::exceptions::approve))
        .route("/exceptions/{id}/revoke", post(pages::exceptions::revoke))
        .route("/decisions", get(pages::decisions::list))
        .route("/search", get(pages::search::page))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::Extension(portal))
}

const STYLESHEET: &str = include_str!("../assets/portal.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// No scripts at all, nothing from elsewhere, no framing, no caching of
/// pages that hold team data.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// An error answered as a page.
#[derive(Debug)]
pub(crate) struct PageError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }
    pub(crate) fn not_found(what: impl std::fmt::Display) -> PageError {
        PageError::new(
            StatusCode::NOT_FOUND,
            format!("{what} not found (or not visible to you)"),
        )
    }
    pub(crate) fn forbidden(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::FORBIDDEN, message)
    }
    pub(crate) fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        match e {
            StoreError::NotFound(what) => PageError::not_found(what),
            StoreError::Forbidden(what) => PageError::forbidden(what),
            StoreError::Invalid(what) => PageError::bad_request(what),
            StoreError::Conflict(what) => PageError::new(StatusCode::CONFLICT, what),
            other => {
                tracing::error!(error = %other, "portal: store error");
                PageError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; the server log has the details",
                )
            }
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::BAD_REQUEST => "Cannot do that",
            StatusCode::CONFLICT => "Conflict",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            _ => "Error",
        };
        let body = html::bare_page(title, &self.message);
        (self.status, body).into_response()
    }
}

/// The result of a page handler.
pub(crate) type PageResult = Result<Response, PageError>;
