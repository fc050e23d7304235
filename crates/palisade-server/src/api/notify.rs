//! Outbound notifications: targets (admin), the delivery log, settings, and
//! the `notify` background job that delivers events and rebuild triggers
//! (`palisade-notify` does the signing, filtering, retries and SSRF checks;
//! `docs/notifications.md` documents the payloads).
//!
//! The job reads `events` after a cursor kept in `meta` (`notify.cursor`,
//! ms). It reads from a few minutes before the cursor and skips events it
//! already handled (`notify_seen`), so an event committed late with an
//! older id is still delivered. Each (target, dedup key) is claimed in
//! `notify_dedup` before sending, so several server processes never send
//! the same notification twice within the window. Secrets (HMAC keys, CI
//! tokens) are accepted by the API and never returned, except a generated
//! secret, once, in the response that creates it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use palisade_notify::deliver::{Deliverer, Delivery, DeliveryInfo, SystemClock};
use palisade_notify::event::{
    DECISION_DENY, EXCEPTION_EXPIRED, EXCEPTION_EXPIRING, Event, FINDING_CHANGED, FINDING_NEW,
    FINDING_REOPENED, TEST,
};
use palisade_notify::expiring::ExceptionInfo;
use palisade_notify::net::{Cidr, NetPolicy};
use palisade_notify::rebuild::{FixCandidate, GITHUB_API, REBUILD_KIND, RebuildKind};
use palisade_notify::{
    Filter, HttpTransport, Outcome, RebuildTarget, RetryPolicy, Severity, Target, TargetKind,
};
use palisade_store::Store;
use palisade_store::StoreError;
use palisade_store::model::Scope;
use palisade_store::notify::{NotifyDeliveryRow, NotifyTargetPatch, NotifyTargetRow};
use palisade_store::now_ms;
use palisade_store::tokens::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// The job kind.
pub const JOB: &str = "notify";
/// The job's dedup key: at most one notify job is queued or running.
pub const JOB_KEY: &str = "notify";
/// Extra ranges allowed although private (comma-separated CIDRs), beside
/// the settings' `allow_cidrs`.
pub const ALLOW_ENV: &str = "PALISADE_NOTIFY_ALLOW";

const CURSOR_KEY: &str = "notify.cursor";
const LAST_SCAN_KEY: &str = "notify.last_scan";
const SETTINGS_KEY: &str = "notify.settings";
/// How far before the cursor events are read again (late commits).
const LOOKBACK_MS: i64 = 300_000;
/// Events handled per job run.
const BATCH: i64 = 500;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_targets, create_target))
        .routes(routes!(get_target, update_target, delete_target))
        .routes(routes!(test_target))
        .routes(routes!(list_deliveries))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(run_now))
}

// ---------------------------------------------------------------------------
// Settings

/// Notification settings, shared by every server process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Private ranges targets may reach (CIDRs such as `10.20.0.0/16`),
    /// for every target; `PALISADE_NOTIFY_ALLOW` adds to them.
    #[serde(default)]
    pub allow_cidrs: Vec<String>,
    /// The same notification goes to a target once per this many seconds.
    #[serde(default = "default_window")]
    pub dedup_window_secs: u64,
    /// `exception.expiring` is raised this many days before expiry.
    #[serde(default = "default_expiring_days")]
    pub expiring_within_days: u32,
    /// How often new events are looked for, seconds.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// How often expiring exceptions and available fixes are scanned,
    /// seconds.
    #[serde(default = "default_scan_every")]
    pub scan_every_secs: u64,
}

fn default_window() -> u64 {
    3600
}
fn default_expiring_days() -> u32 {
    7
}
fn default_interval() -> u64 {
    10
}
fn default_scan_every() -> u64 {
    300
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            allow_cidrs: Vec::new(),
            dedup_window_secs: default_window(),
            expiring_within_days: default_expiring_days(),
            interval_secs: default_interval(),
            scan_every_secs: default_scan_every(),
        }
    }
}

impl NotifySettings {
    fn validate(&self) -> Result<(), String> {
        for c in &self.allow_cidrs {
            c.parse::<Cidr>()?;
        }
        if self.interval_secs == 0 || self.scan_every_secs == 0 {
            return Err("interval_secs and scan_every_secs must be at least 1".into());
        }
        if self.expiring_within_days > 366 {
            return Err("expiring_within_days: at most 366".into());
        }
        Ok(())
    }

    /// The address policy: the settings' ranges and `PALISADE_NOTIFY_ALLOW`.
    pub fn net_policy(&self) -> NetPolicy {
        let env = std::env::var(ALLOW_ENV).unwrap_or_default();
        let allow = self
            .allow_cidrs
            .iter()
            .map(String::as_str)
            .chain(env.split(',').map(str::trim).filter(|s| !s.is_empty()))
            .filter_map(|c| match c.parse::<Cidr>() {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "ignoring an allow-list entry");
                    None
                }
            })
            .collect();
        NetPolicy {
            allow_private: false,
            allow,
        }
    }
}

/// The stored settings (defaults when none).
pub async fn load_settings(store: &Store) -> Result<NotifySettings, StoreError> {
    match store.notify_meta(SETTINGS_KEY).await? {
        Some(text) => Ok(serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored notification settings are invalid; using defaults");
            NotifySettings::default()
        })),
        None => Ok(NotifySettings::default()),
    }
}

/// The notification settings.
#[utoipa::path(get, path = "/api/v1/notify/settings", tag = "notifications",
    responses((status = 200, body = NotifySettings), (status = 403, body = ErrorBody)))]
async fn get_settings(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<NotifySettings>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(load_settings(&s.store).await?))
}

/// Replaces the notification settings.
#[utoipa::path(put, path = "/api/v1/notify/settings", tag = "notifications", request_body = NotifySettings,
    responses((status = 200, body = NotifySettings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_settings(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<NotifySettings>,
) -> ApiResult<Json<NotifySettings>> {
    caller.require(&[Role::Admin])?;
    b.validate().map_err(ApiError::invalid)?;
    let text = serde_json::to_string(&b).map_err(ApiError::internal)?;
    s.store.put_notify_meta(SETTINGS_KEY, &text).await?;
    s.store
        .audit(&caller.actor(), "notify.settings", "notify", Some(&text))
        .await?;
    Ok(Json(b))
}

// ---------------------------------------------------------------------------
// Targets

/// A target's stored configuration (everything but the URL and secrets).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    filter: Option<Filter>,
    #[serde(default)]
    allow_private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_base: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    environments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    workloads: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_severity: Option<Severity>,
    #[serde(default)]
    backfill: bool,
}

const CONFIG_KEYS: &[&str] = &[
    "filter",
    "allow_private",
    "owner",
    "repo",
    "event_type",
    "api_base",
    "environments",
    "workloads",
    "min_severity",
    "backfill",
];
const TOP_KEYS: &[&str] = &[
    "name",
    "kind",
    "url",
    "secret",
    "generate_secret",
    "token",
    "enabled",
];

/// A target to create. `webhook` and `slack` receive events (`filter`);
/// `github_dispatch` and `rebuild_webhook` receive rebuild requests
/// (`environments`, `workloads`, `min_severity`, `backfill`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTarget {
    /// A unique name.
    name: String,
    /// `webhook`, `slack`, `github_dispatch` or `rebuild_webhook`.
    kind: String,
    /// Where to POST (not for `github_dispatch`).
    #[serde(default)]
    url: Option<String>,
    /// The HMAC key (write-only). A `webhook` without one gets a generated
    /// key, returned once in this call's response.
    #[serde(default)]
    secret: Option<String>,
    /// Generate a key (for `slack` and the rebuild kinds, which have none
    /// by default).
    #[serde(default)]
    generate_secret: bool,
    /// A bearer token (write-only): required for `github_dispatch`.
    #[serde(default)]
    token: Option<String>,
    /// Whether it is active (default true).
    #[serde(default)]
    enabled: Option<bool>,
    /// Which events (`webhook`, `slack`): kinds, min_severity,
    /// min_priority, environments.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    filter: Option<Filter>,
    /// Whether the URL may resolve to a private or loopback address.
    #[serde(default)]
    allow_private: bool,
    /// GitHub repository owner (`github_dispatch`).
    #[serde(default)]
    owner: Option<String>,
    /// GitHub repository (`github_dispatch`).
    #[serde(default)]
    repo: Option<String>,
    /// The dispatch's `event_type` (default `palisade-rebuild`).
    #[serde(default)]
    event_type: Option<String>,
    /// GitHub's API base URL (default the public API).
    #[serde(default)]
    api_base: Option<String>,
    /// Rebuild only workloads in these environments.
    #[serde(default)]
    environments: Vec<String>,
    /// Rebuild only these workloads (`namespace/name`).
    #[serde(default)]
    workloads: Vec<String>,
    /// Rebuild only for fixes of findings at least this severe.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    min_severity: Option<Severity>,
    /// Also rebuild for fixes that were known before the target existed.
    #[serde(default)]
    backfill: bool,
}

/// Changes to a target: the fields given replace the stored ones. An
/// empty `secret` or `token` removes it.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TargetChanges {
    /// New name.
    #[serde(default)]
    name: Option<String>,
    /// New URL.
    #[serde(default)]
    url: Option<String>,
    /// New HMAC key (empty: none).
    #[serde(default)]
    secret: Option<String>,
    /// New token (empty: none).
    #[serde(default)]
    token: Option<String>,
    /// Enable or disable.
    #[serde(default)]
    enabled: Option<bool>,
    /// Any configuration field of [`NewTarget`] (`filter`,
    /// `allow_private`, `owner`, ...).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    config: serde_json::Map<String, Value>,
}

/// A target as the API shows it: never its secrets.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetView {
    /// Id.
    id: String,
    /// Name.
    name: String,
    /// Kind.
    kind: String,
    /// The URL called (a Slack URL, whose path is a secret, shows its
    /// origin only; query strings and passwords are never shown).
    url: String,
    /// Whether it has an HMAC key.
    has_secret: bool,
    /// Whether it has a token.
    has_token: bool,
    /// Whether it is active.
    enabled: bool,
    /// Its configuration.
    #[schema(value_type = Object)]
    config: Value,
    /// Who created it.
    created_by: String,
    /// Created (RFC 3339).
    created_at: String,
    /// Last changed (RFC 3339).
    updated_at: String,
    /// The generated HMAC key: only in the response that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn shown_url(kind: &str, url: &str) -> String {
    palisade_notify::net::shown_url(url, kind == "slack")
}

fn view(row: &NotifyTargetRow, secret: Option<String>) -> TargetView {
    let url = match configured(row) {
        Ok(Configured::Rebuild(t, ..)) => t.url(),
        _ => row.url.clone(),
    };
    TargetView {
        id: row.id.clone(),
        name: row.name.clone(),
        kind: row.kind.clone(),
        url: shown_url(&row.kind, &url),
        has_secret: row.secret.as_deref().is_some_and(|s| !s.is_empty()),
        has_token: row.token.as_deref().is_some_and(|s| !s.is_empty()),
        enabled: row.enabled,
        config: row.config.clone(),
        created_by: row.created_by.clone(),
        created_at: palisade_notify::target::rfc3339(row.created_at),
        updated_at: palisade_notify::target::rfc3339(row.updated_at),
        secret,
    }
}

/// A stored target, ready to use.
#[derive(Debug)]
enum Configured {
    /// Receives events.
    Events(Target),
    /// Receives rebuild requests; with `backfill`.
    Rebuild(RebuildTarget, bool),
}

fn check_url(url: &str) -> Result<(), String> {
    palisade_notify::net::validate_url(url)
}

fn configured(row: &NotifyTargetRow) -> Result<Configured, String> {
    let config: TargetConfig =
        serde_json::from_value(row.config.clone()).map_err(|e| format!("configuration: {e}"))?;
    let secret = row.secret.clone().filter(|s| !s.is_empty());
    let token = row.token.clone().filter(|s| !s.is_empty());
    match row.kind.as_str() {
        "webhook" | "slack" => {
            check_url(&row.url)?;
            let filter = config.filter.unwrap_or_default();
            filter.validate()?;
            Ok(Configured::Events(Target {
                id: row.id.clone(),
                name: row.name.clone(),
                kind: if row.kind == "slack" {
                    TargetKind::Slack
                } else {
                    TargetKind::Webhook
                },
                url: row.url.clone(),
                secret,
                filter,
                allow_private: config.allow_private,
            }))
        }
        "github_dispatch" | "rebuild_webhook" => {
            let kind = if row.kind == "github_dispatch" {
                let api_base = config.api_base.unwrap_or_else(|| GITHUB_API.to_owned());
                check_url(&api_base).map_err(|e| format!("api_base: {e}"))?;
                RebuildKind::GithubDispatch {
                    api_base,
                    owner: config.owner.unwrap_or_default(),
                    repo: config.repo.unwrap_or_default(),
                    event_type: config
                        .event_type
                        .unwrap_or_else(|| palisade_notify::rebuild::DEFAULT_EVENT_TYPE.into()),
                }
            } else {
                check_url(&row.url)?;
                RebuildKind::Webhook {
                    url: row.url.clone(),
                }
            };
            let t = RebuildTarget {
                id: row.id.clone(),
                name: row.name.clone(),
                kind,
                token,
                secret,
                environments: config.environments,
                workloads: config.workloads,
                min_severity: config.min_severity,
                allow_private: config.allow_private,
            };
            t.validate().map_err(|e| e.to_string())?;
            Ok(Configured::Rebuild(t, config.backfill))
        }
        other => Err(format!("unknown kind {other:?}")),
    }
}

fn unknown_keys(body: &Value, allowed: &[&[&str]]) -> Result<(), ApiError> {
    if let Some(map) = body.as_object() {
        for k in map.keys() {
            if !allowed.iter().any(|list| list.contains(&k.as_str())) {
                return Err(ApiError::invalid(format!("unknown field {k:?}")));
            }
        }
    }
    Ok(())
}

/// Notification and rebuild targets.
#[utoipa::path(get, path = "/api/v1/notify/targets", tag = "notifications",
    responses((status = 200, body = Vec<TargetView>), (status = 403, body = ErrorBody)))]
async fn list_targets(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TargetView>>> {
    caller.require(&[Role::Admin])?;
    let rows = s.store.notify_targets().await?;
    Ok(Json(rows.iter().map(|r| view(r, None)).collect()))
}

/// Creates a target. Secrets are write-only: a generated HMAC key is in
/// this response and never again.
#[utoipa::path(post, path = "/api/v1/notify/targets", tag = "notifications", request_body = NewTarget,
    responses((status = 201, body = TargetView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_target(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<TargetView>)> {
    caller.require(&[Role::Admin])?;
    unknown_keys(&body, &[TOP_KEYS, CONFIG_KEYS])?;
    let b: NewTarget =
        serde_json::from_value(body).map_err(|e| ApiError::invalid(e.to_string()))?;
    if b.name.trim().is_empty() || b.name.len() > 200 {
        return Err(ApiError::invalid("name: 1 to 200 characters"));
    }
    let generated = match (&b.secret, b.kind.as_str()) {
        (Some(_), _) => None,
        (None, "webhook") => Some(()),
        (None, _) if b.generate_secret => Some(()),
        _ => None,
    }
    .map(|()| palisade_notify::generate_secret())
    .transpose()
    .map_err(ApiError::internal)?;
    let config = TargetConfig {
        filter: b.filter,
        allow_private: b.allow_private,
        owner: b.owner,
        repo: b.repo,
        event_type: b.event_type,
        api_base: b.api_base,
        environments: b.environments,
        workloads: b.workloads,
        min_severity: b.min_severity,
        backfill: b.backfill,
    };
    let row = NotifyTargetRow {
        id: String::new(),
        name: b.name.trim().to_owned(),
        kind: b.kind,
        url: b.url.unwrap_or_default(),
        secret: b.secret.or_else(|| generated.clone()),
        token: b.token,
        config: serde_json::to_value(&config).map_err(ApiError::internal)?,
        enabled: b.enabled.unwrap_or(true),
        created_by: caller.actor(),
        created_at: 0,
        updated_at: 0,
    };
    configured(&row).map_err(ApiError::invalid)?;
    let stored = s.store.create_notify_target(&row).await?;
    s.store
        .audit(
            &caller.actor(),
            "notify.target.create",
            &stored.id,
            Some(&stored.name),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view(&stored, generated))))
}

async fn target_or_404(s: &AppState, id: &str) -> ApiResult<NotifyTargetRow> {
    s.store
        .notify_target(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("notification target {id}")))
}

/// One target.
#[utoipa::path(get, path = "/api/v1/notify/targets/{id}", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = TargetView), (status = 404, body = ErrorBody)))]
async fn get_target(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<TargetView>> {
    caller.require(&[Role::Admin])?;
    Ok(Json(view(&target_or_404(&s, &id).await?, None)))
}

/// Changes a target.
#[utoipa::path(patch, path = "/api/v1/notify/targets/{id}", tag = "notifications", params(("id" = String, Path)),
    request_body = TargetChanges,
    responses((status = 200, body = TargetView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_target(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Json<TargetView>> {
    caller.require(&[Role::Admin])?;
    unknown_keys(
        &body,
        &[&["name", "url", "secret", "token", "enabled"], CONFIG_KEYS],
    )?;
    let b: TargetChanges =
        serde_json::from_value(body).map_err(|e| ApiError::invalid(e.to_string()))?;
    let current = target_or_404(&s, &id).await?;
    let mut config = current.config.as_object().cloned().unwrap_or_default();
    for (k, v) in b.config {
        config.insert(k, v);
    }
    let blank_is_none = |v: Option<String>| v.map(|s| Some(s).filter(|s| !s.is_empty()));
    let patch = NotifyTargetPatch {
        name: b.name.map(|n| n.trim().to_owned()),
        url: b.url,
        secret: blank_is_none(b.secret),
        token: blank_is_none(b.token),
        config: Some(Value::Object(config)),
        enabled: b.enabled,
    };
    // Check the result before storing it.
    let mut next = current.clone();
    if let Some(n) = &patch.name {
        next.name.clone_from(n);
    }
    if let Some(u) = &patch.url {
        next.url.clone_from(u);
    }
    if let Some(sec) = &patch.secret {
        next.secret.clone_from(sec);
    }
    if let Some(t) = &patch.token {
        next.token.clone_from(t);
    }
    if let Some(c) = &patch.config {
        next.config = c.clone();
    }
    configured(&next).map_err(ApiError::invalid)?;
    let stored = s.store.update_notify_target(&id, &patch).await?;
    s.store
        .audit(&caller.actor(), "notify.target.update", &id, None)
        .await?;
    Ok(Json(view(&stored, None)))
}

/// Deletes a target and its delivery log.
#[utoipa::path(delete, path = "/api/v1/notify/targets/{id}", tag = "notifications", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_target(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require(&[Role::Admin])?;
    if !s.store.delete_notify_target(&id).await? {
        return Err(ApiError::not_found(format!("notification target {id}")));
    }
    s.store
        .audit(&caller.actor(), "notify.target.delete", &id, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A delivery as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    delivery: NotifyDeliveryRow,
    /// When (RFC 3339).
    at_time: String,
}

/// Sends a `test` event to a `webhook` or `slack` target now (ignoring
/// its filter and deduplication) and returns the delivery.
#[utoipa::path(post, path = "/api/v1/notify/targets/{id}/test", tag = "notifications", params(("id" = String, Path)),
    responses((status = 200, body = DeliveryView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn test_target(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryView>> {
    caller.require(&[Role::Admin])?;
    let row = target_or_404(&s, &id).await?;
    let Configured::Events(target) = configured(&row).map_err(ApiError::invalid)? else {
        return Err(ApiError::invalid(
            "rebuild targets are not sent test calls (they would start a build)",
        ));
    };
    let settings = load_settings(&s.store).await?;
    let event = Event {
        id: palisade_store::new_id(),
        at: now_ms(),
        kind: TEST.to_owned(),
        subject: target.id.clone(),
        payload: json!({"message": "a test notification from Palisade", "requested_by": caller.actor()}),
    };
    let deliverer = deliverer(&settings);
    let delivery = send_event(&deliverer, &target, &event, &event.dedup_key()).await?;
    let row = log_row(&delivery);
    s.store.record_notify_delivery(&row).await?;
    Ok(Json(DeliveryView {
        at_time: palisade_notify::target::rfc3339(row.at),
        delivery: row,
    }))
}

/// Which deliveries.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryParams {
    /// One target's.
    target: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<i64>,
    /// Finished before this time (ms), for paging.
    before: Option<i64>,
}

/// The delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/notify/deliveries", tag = "notifications", params(DeliveryParams),
    responses((status = 200, body = Vec<DeliveryView>), (status = 403, body = ErrorBody)))]
async fn list_deliveries(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<DeliveryParams>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    caller.require(&[Role::Admin])?;
    let rows = s
        .store
        .notify_deliveries(p.target.as_deref(), p.before, p.limit.unwrap_or(100))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| DeliveryView {
                at_time: palisade_notify::target::rfc3339(r.at),
                delivery: r,
            })
            .collect(),
    ))
}

/// Whether a job was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// False when a notify job was already queued or running.
    queued: bool,
}

/// Runs the notify job now (new events, expiring exceptions, available
/// fixes) instead of at the next interval.
#[utoipa::path(post, path = "/api/v1/notify/run", tag = "notifications",
    responses((status = 202, body = Queued), (status = 403, body = ErrorBody)))]
async fn run_now(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<(StatusCode, Json<Queued>)> {
    caller.require(&[Role::Admin])?;
    // Scan now too.
    s.store.put_notify_meta(LAST_SCAN_KEY, "0").await?;
    let queued = s.store.enqueue(JOB, "{}", Some(JOB_KEY), now_ms()).await?;
    s.jobs_ready.notify_waiters();
    Ok((StatusCode::ACCEPTED, Json(Queued { queued })))
}

// ---------------------------------------------------------------------------
// The job

fn deliverer(settings: &NotifySettings) -> Deliverer {
    Deliverer {
        transport: Arc::new(HttpTransport::with_policy(settings.net_policy())),
        retry: RetryPolicy::default(),
        clock: Arc::new(SystemClock),
    }
}

fn log_row(d: &Delivery) -> NotifyDeliveryRow {
    NotifyDeliveryRow {
        id: palisade_store::new_id(),
        target_id: d.target_id.clone(),
        event_id: d.event_id.clone(),
        kind: d.kind.clone(),
        dedup_key: d.dedup_key.clone(),
        outcome: d.outcome.as_str().to_owned(),
        status: d.status.map(i64::from),
        attempts: i64::try_from(d.attempts.len()).unwrap_or(i64::MAX),
        error: d.error.clone(),
        detail: json!({"delivery_id": d.id, "attempts": d.attempts, "response": d.response}),
        at: now_ms(),
    }
}

async fn send_event(
    deliverer: &Deliverer,
    target: &Target,
    event: &Event,
    key: &str,
) -> ApiResult<Delivery> {
    let deliverer = deliverer.clone();
    let target = target.clone();
    let event = event.clone();
    let key = key.to_owned();
    tokio::task::spawn_blocking(move || {
        let id = palisade_notify::new_delivery_id();
        let req = target.request(&event, &id, now_ms() / 1000);
        deliverer.send(
            &DeliveryInfo {
                id: &id,
                target_id: &target.id,
                event_id: Some(&event.id),
                kind: &event.kind,
                dedup_key: &key,
            },
            &req,
        )
    })
    .await
    .map_err(ApiError::internal)
}

/// The smallest event id made at `ms` (ids are lower-case ULIDs).
fn id_floor(ms: i64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let t = u64::try_from(ms.max(0)).unwrap_or(0) & ((1u64 << 48) - 1);
    let mut s = String::with_capacity(26);
    for i in (0..10u32).rev() {
        let idx = usize::try_from((t >> (i * 5)) & 31).unwrap_or(0);
        s.push(char::from(ALPHABET[idx]));
    }
    s.push_str("0000000000000000");
    s
}

/// The time (ms) of an event id, when it is a ULID.
fn id_time(id: &str) -> Option<i64> {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut t: i64 = 0;
    for c in id.get(..10)?.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c.to_ascii_lowercase())?;
        t = t.checked_mul(32)?.checked_add(i64::try_from(v).ok()?)?;
    }
    Some(t)
}

/// Adds what a notification needs to an event's payload; returns false
/// when the event should not be sent (a finding triaged or resolved
/// before it was notified as new).
async fn enrich(store: &Store, e: &mut Event) -> Result<bool, StoreError> {
    let Some(obj) = e.payload.as_object_mut() else {
        return Ok(true);
    };
    if e.kind.starts_with("finding.") {
        if let Some(c) = store.notify_finding_context(&e.subject).await? {
            if matches!(
                e.kind.as_str(),
                FINDING_NEW | FINDING_REOPENED | FINDING_CHANGED
            ) && matches!(
                c.state.as_str(),
                "not_affected" | "false_positive" | "resolved"
            ) {
                return Ok(false);
            }
            obj.insert("finding".into(), json!(e.subject));
            obj.insert("artifact_name".into(), json!(c.artifact_name));
            obj.insert("component_name".into(), json!(c.component_name));
            obj.insert("component_version".into(), json!(c.component_version));
            obj.insert("purl".into(), json!(c.purl));
            obj.insert("summary".into(), json!(c.summary));
            obj.entry("severity").or_insert(json!(c.severity));
            obj.insert("priority".into(), json!(c.priority));
            obj.insert("fix_version".into(), json!(c.fix_version));
            obj.insert("state".into(), json!(c.state));
            obj.insert("environments".into(), json!(c.environments));
            obj.insert("workloads".into(), json!(c.workloads));
        }
    } else if e.kind == DECISION_DENY {
        if let Some(digest) = obj
            .get("artifact")
            .and_then(|a| a.as_str())
            .map(str::to_owned)
            && let Some(name) = store.artifact_name(&digest).await?
        {
            obj.insert("artifact_name".into(), json!(name));
        }
    } else if e.kind == EXCEPTION_EXPIRED
        && let Some(x) = store.exception(&Scope::All, &e.subject).await?
    {
        obj.insert("expires_at".into(), json!(x.expires_at));
        obj.insert("team".into(), json!(x.team_id));
        obj.insert("workload".into(), json!(x.workload));
        obj.insert("artifact".into(), json!(x.artifact));
        obj.insert("vulnerability".into(), json!(x.vulnerability));
        obj.insert("policy".into(), json!(x.policy));
        obj.insert("reason".into(), json!(x.reason));
    }
    Ok(true)
}

struct Targets {
    events: Vec<(Target, i64)>,
    rebuild: Vec<(RebuildTarget, bool, i64)>,
}

async fn load_targets(store: &Store) -> Result<Targets, StoreError> {
    let mut t = Targets {
        events: Vec::new(),
        rebuild: Vec::new(),
    };
    for row in store.notify_targets().await? {
        if !row.enabled {
            continue;
        }
        match configured(&row) {
            Ok(Configured::Events(target)) => t.events.push((target, row.created_at)),
            Ok(Configured::Rebuild(target, backfill)) => {
                t.rebuild.push((target, backfill, row.created_at))
            }
            Err(e) => {
                tracing::warn!(target_id = %row.id, error = %e, "skipping a misconfigured notification target")
            }
        }
    }
    Ok(t)
}

async fn floor(store: &Store, targets: &Targets) -> Result<String, StoreError> {
    let oldest_target = targets
        .events
        .iter()
        .map(|(_, c)| *c)
        .min()
        .unwrap_or_else(now_ms);
    let cursor = store
        .notify_meta(CURSOR_KEY)
        .await?
        .and_then(|c| c.parse::<i64>().ok());
    let from = match cursor {
        Some(c) => c.max(oldest_target),
        None => oldest_target,
    };
    Ok(id_floor(from.saturating_sub(LOOKBACK_MS)))
}

/// Whether the scheduler should queue the job: some target is enabled, and
/// events are waiting or a scan is due.
pub async fn due(store: &Store, settings: &NotifySettings) -> Result<bool, StoreError> {
    let targets = load_targets(store).await?;
    if targets.events.is_empty() && targets.rebuild.is_empty() {
        return Ok(false);
    }
    if !targets.events.is_empty() {
        let f = floor(store, &targets).await?;
        if !store.notify_pending_events(&f, 1).await?.is_empty() {
            return Ok(true);
        }
    }
    scan_due(store, settings).await
}

async fn scan_due(store: &Store, settings: &NotifySettings) -> Result<bool, StoreError> {
    let last = store
        .notify_meta(LAST_SCAN_KEY)
        .await?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let every = i64::try_from(settings.scan_every_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    Ok(now_ms().saturating_sub(last) >= every)
}

/// Counts of one run.
#[derive(Debug, Default, Serialize)]
struct RunReport {
    events: usize,
    expiring_recorded: usize,
    delivered: usize,
    failed: usize,
    refused: usize,
    duplicates: usize,
    rebuilds: usize,
}

impl RunReport {
    fn count(&mut self, d: &Delivery) {
        match d.outcome {
            Outcome::Delivered => self.delivered += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Refused => self.refused += 1,
            Outcome::Duplicate => self.duplicates += 1,
        }
    }
}

/// The `notify` job: records `exception.expiring` events (when a scan is
/// due), delivers new events to the targets that want them, and triggers
/// rebuilds for available fixes (when a scan is due).
pub async fn run_job(state: &AppState) -> Result<Value, String> {
    run(&state.store).await.map_err(|e| e.to_string())
}

async fn run(store: &Store) -> Result<Value, StoreError> {
    let settings = load_settings(store).await?;
    let targets = load_targets(store).await?;
    let mut report = RunReport::default();
    if targets.events.is_empty() && targets.rebuild.is_empty() {
        return Ok(json!(report));
    }
    let deliverer = deliverer(&settings);
    let window =
        Some(i64::try_from(settings.dedup_window_secs.saturating_mul(1000)).unwrap_or(i64::MAX));
    let scan = scan_due(store, &settings).await?;
    if scan {
        store
            .put_notify_meta(LAST_SCAN_KEY, &now_ms().to_string())
            .await?;
    }

    // Expiring exceptions become events, once each.
    if scan
        && targets
            .events
            .iter()
            .any(|(t, _)| t.filter.wants_kind(EXCEPTION_EXPIRING))
    {
        let now = now_ms();
        let live: Vec<ExceptionInfo> = store
            .live_exceptions(now)
            .await?
            .into_iter()
            .map(|x| ExceptionInfo {
                revoked: x.revoked_at.is_some(),
                id: x.id,
                team_id: x.team_id,
                workload: x.workload,
                artifact: x.artifact,
                vulnerability: x.vulnerability,
                policy: x.policy,
                reason: x.reason,
                requested_by: x.requested_by,
                approved_by: x.approved_by,
                expires_at: x.expires_at,
            })
            .collect();
        for x in palisade_notify::expiring::scan(&live, now, settings.expiring_within_days) {
            if store
                .record_event_once(EXCEPTION_EXPIRING, &x.subject, &x.payload)
                .await?
            {
                report.expiring_recorded += 1;
            }
        }
    }

    // Events.
    let mut down: HashSet<String> = HashSet::new();
    if !targets.events.is_empty() {
        let floor_id = floor(store, &targets).await?;
        let pending = store.notify_pending_events(&floor_id, BATCH).await?;
        let mut cursor = store
            .notify_meta(CURSOR_KEY)
            .await?
            .and_then(|c| c.parse::<i64>().ok())
            .unwrap_or(0);
        for row in pending {
            report.events += 1;
            let mut event = Event {
                payload: serde_json::from_str(&row.payload).unwrap_or_else(|_| json!({})),
                id: row.id.clone(),
                at: row.at,
                kind: row.kind,
                subject: row.subject,
            };
            let created = id_time(&row.id).unwrap_or(row.at);
            let wanted: Vec<&Target> = targets
                .events
                .iter()
                .filter(|(t, since)| created >= *since && t.filter.wants_kind(&event.kind))
                .map(|(t, _)| t)
                .collect();
            if !wanted.is_empty() && enrich(store, &mut event).await? {
                let key = event.dedup_key();
                for t in wanted.into_iter().filter(|t| t.filter.matches(&event)) {
                    let d = if down.contains(&t.id) {
                        palisade_notify::deliver::refused(
                            &DeliveryInfo {
                                id: &palisade_notify::new_delivery_id(),
                                target_id: &t.id,
                                event_id: Some(&event.id),
                                kind: &event.kind,
                                dedup_key: &key,
                            },
                            "skipped: the target failed earlier in this run".into(),
                        )
                    } else if !store
                        .claim_notify_dedup(&t.id, &key, now_ms(), window)
                        .await?
                    {
                        palisade_notify::deliver::duplicate(&DeliveryInfo {
                            id: &palisade_notify::new_delivery_id(),
                            target_id: &t.id,
                            event_id: Some(&event.id),
                            kind: &event.kind,
                            dedup_key: &key,
                        })
                    } else {
                        let d = send_event(&deliverer, t, &event, &key)
                            .await
                            .map_err(|e| StoreError::Invalid(e.message))?;
                        if d.outcome != Outcome::Delivered {
                            store.release_notify_dedup(&t.id, &key).await?;
                            if d.outcome == Outcome::Failed {
                                down.insert(t.id.clone());
                            }
                        }
                        d
                    };
                    report.count(&d);
                    store.record_notify_delivery(&log_row(&d)).await?;
                }
            }
            store.mark_notify_seen(&row.id).await?;
            cursor = cursor.max(created);
        }
        if cursor > 0 {
            store
                .put_notify_meta(CURSOR_KEY, &cursor.to_string())
                .await?;
        }
        store.prune_notify_seen(&floor_id).await?;
    }

    // Rebuilds for available fixes.
    if scan && !targets.rebuild.is_empty() {
        let since = targets
            .rebuild
            .iter()
            .map(|(_, backfill, created)| if *backfill { 0 } else { *created })
            .min()
            .unwrap_or(0);
        let rows = store.notify_fix_candidates(since).await?;
        for (t, backfill, created) in &targets.rebuild {
            let candidates: Vec<FixCandidate> = rows
                .iter()
                .filter(|r| *backfill || r.updated_at >= *created)
                .map(|r| FixCandidate {
                    workload_id: r.workload_id.clone(),
                    workload: r.workload.clone(),
                    environment: r.environment.clone(),
                    artifact_digest: r.artifact_digest.clone(),
                    artifact_name: r.artifact_name.clone(),
                    component_key: r.component_key.clone(),
                    component_name: r.component_name.clone(),
                    component_version: r.component_version.clone(),
                    purl: r.purl.clone(),
                    fix_version: r.fix_version.clone(),
                    advisory: r.advisory.clone(),
                    severity: r.severity.clone(),
                })
                .collect();
            for fix in palisade_notify::rebuild::group(&candidates) {
                if !t.matches(&fix) || down.contains(&t.id) {
                    continue;
                }
                let key = fix.dedup_key();
                if !store
                    .claim_notify_dedup(&t.id, &key, now_ms(), None)
                    .await?
                {
                    continue;
                }
                let deliverer = deliverer.clone();
                let target = t.clone();
                let d = tokio::task::spawn_blocking(move || {
                    let id = palisade_notify::new_delivery_id();
                    let info = DeliveryInfo {
                        id: &id,
                        target_id: &target.id,
                        event_id: None,
                        kind: REBUILD_KIND,
                        dedup_key: &key,
                    };
                    match target.request(&fix, &id, now_ms() / 1000) {
                        Ok(req) => deliverer.send(&info, &req),
                        Err(e) => palisade_notify::deliver::refused(&info, e.to_string()),
                    }
                })
                .await
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
                if d.outcome != Outcome::Delivered {
                    store.release_notify_dedup(&t.id, &d.dedup_key).await?;
                    if d.outcome == Outcome::Failed {
                        down.insert(t.id.clone());
                    }
                } else {
                    report.rebuilds += 1;
                }
                report.count(&d);
                store.record_notify_delivery(&log_row(&d)).await?;
            }
        }
    }
    Ok(json!(report))
}

/// Queues the notify job every `interval_secs` (from the settings) when it
/// is due; stops when `stop` turns true.
pub fn schedule(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *stop.borrow() {
                break;
            }
            let settings = load_settings(&state.store).await.unwrap_or_default();
            match due(&state.store, &settings).await {
                Ok(true) => match state
                    .store
                    .enqueue(JOB, "{}", Some(JOB_KEY), now_ms())
                    .await
                {
                    Ok(true) => state.jobs_ready.notify_waiters(),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot queue the notify job"),
                },
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot check for notifications"),
            }
            tokio::select! {
                _ = stop.changed() => break,
                _ = tokio::time::sleep(Duration::from_secs(settings.interval_secs.max(1))) => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_floor_orders_with_ulids() {
        let id = palisade_store::new_id();
        let t = id_time(&id).unwrap();
        assert!((t - now_ms()).abs() < 5_000);
        assert!(id_floor(t) <= id);
        assert!(id_floor(t + 1) > id);
        assert_eq!(id_time(&id_floor(123_456_789)), Some(123_456_789));
        assert_eq!(id_floor(0), "00000000000000000000000000");
    }

    #[test]
    fn urls_are_shown_without_secrets() {
        assert_eq!(
            shown_url("slack", "https://hooks.slack.example/services/T/B/xyz"),
            "https://hooks.slack.example/…"
        );
        assert_eq!(
            shown_url("webhook", "https://u:pw@hooks.example/in?token=abc#x"),
            "https://u@hooks.example/in"
        );
    }
}
