//! Notification targets, the delivery log, deduplication and the event
//! cursor of the `notify` job (`palisade-notify` does the sending).
//!
//! Secrets (HMAC keys, CI tokens) are stored with the target; the API
//! accepts them and never returns them.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError, new_id, now_ms};

/// The target kinds.
pub const TARGET_KINDS: &[&str] = &["webhook", "slack", "github_dispatch", "rebuild_webhook"];

/// A stored target.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyTargetRow {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// One of [`TARGET_KINDS`].
    pub kind: String,
    /// Where to POST (empty for a GitHub dispatch, whose URL is built).
    pub url: String,
    /// The HMAC key.
    pub secret: Option<String>,
    /// A bearer token.
    pub token: Option<String>,
    /// The rest of the configuration, JSON.
    pub config: serde_json::Value,
    /// Whether it receives anything.
    pub enabled: bool,
    /// Who created it.
    pub created_by: String,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
}

impl std::fmt::Debug for NotifyTargetRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifyTargetRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("config", &self.config)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// Changes to a target (`None`: unchanged; `Some(None)`: removed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NotifyTargetPatch {
    /// New name.
    pub name: Option<String>,
    /// New URL.
    pub url: Option<String>,
    /// New or removed HMAC key.
    pub secret: Option<Option<String>>,
    /// New or removed token.
    pub token: Option<Option<String>>,
    /// New configuration.
    pub config: Option<serde_json::Value>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A delivery, as logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyDeliveryRow {
    /// Id.
    pub id: String,
    /// The target.
    pub target_id: String,
    /// The event, for event notifications.
    pub event_id: Option<String>,
    /// `finding.new`, `rebuild`...
    pub kind: String,
    /// The deduplication key.
    pub dedup_key: String,
    /// `delivered`, `failed`, `refused`, `duplicate`.
    pub outcome: String,
    /// The last status received.
    pub status: Option<i64>,
    /// How many attempts.
    pub attempts: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// Attempts and response, JSON.
    pub detail: serde_json::Value,
    /// When it finished, ms.
    pub at: i64,
}

/// An `events` row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    /// Id (sortable by time).
    pub id: String,
    /// When, ms.
    pub at: i64,
    /// Kind.
    pub kind: String,
    /// Subject id.
    pub subject: String,
    /// Payload, JSON text.
    pub payload: String,
}

/// What a finding notification says besides the event's payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingContext {
    /// The artifact's name.
    pub artifact_name: String,
    /// The component's name.
    pub component_name: String,
    /// Its version.
    pub component_version: Option<String>,
    /// Its purl.
    pub purl: Option<String>,
    /// The advisory's summary.
    pub summary: String,
    /// Severity.
    pub severity: String,
    /// `P1`..`P4`, empty until prioritised.
    pub priority: String,
    /// The smallest fixing version.
    pub fix_version: Option<String>,
    /// The finding's state.
    pub state: String,
    /// Environments where the artifact runs now.
    pub environments: Vec<String>,
    /// Workloads (`namespace/name`) that run it now.
    pub workloads: Vec<String>,
}

/// An open finding with a fix, on an artifact a workload runs now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixCandidateRow {
    /// The workload's id.
    pub workload_id: String,
    /// `namespace/name`.
    pub workload: String,
    /// Its environment.
    pub environment: String,
    /// The artifact.
    pub artifact_digest: String,
    /// The artifact's name.
    pub artifact_name: String,
    /// The component's key.
    pub component_key: String,
    /// The component's name.
    pub component_name: String,
    /// Its version.
    pub component_version: Option<String>,
    /// Its purl.
    pub purl: Option<String>,
    /// The fixing version.
    pub fix_version: String,
    /// The advisory.
    pub advisory: String,
    /// Severity.
    pub severity: String,
    /// When the finding last changed (a fix appearing changes it), ms.
    pub updated_at: i64,
}

const TARGET_COLUMNS: &str =
    "id, name, kind, url, secret, token, config, enabled, created_by, created_at, updated_at";

fn target_from(r: &AnyRow) -> Result<NotifyTargetRow, StoreError> {
    let config: String = r.try_get("config")?;
    Ok(NotifyTargetRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        url: r.try_get("url")?,
        secret: r.try_get("secret")?,
        token: r.try_get("token")?,
        config: serde_json::from_str(&config).map_err(|source| StoreError::Json {
            what: "notify_targets.config",
            source,
        })?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation() || d.message().to_ascii_lowercase().contains("unique")
        }
        _ => false,
    }
}

impl Store {
    /// Creates a target (its `id`, `created_at` and `updated_at` are set
    /// here). A name already used is a conflict.
    pub async fn create_notify_target(
        &self,
        t: &NotifyTargetRow,
    ) -> Result<NotifyTargetRow, StoreError> {
        if !TARGET_KINDS.contains(&t.kind.as_str()) {
            return Err(StoreError::Invalid(format!(
                "kind {:?}: expected one of {}",
                t.kind,
                TARGET_KINDS.join(", ")
            )));
        }
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO notify_targets (id, name, kind, url, secret, token, config, enabled, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(&t.name)
        .bind(&t.kind)
        .bind(&t.url)
        .bind(t.secret.as_deref())
        .bind(t.token.as_deref())
        .bind(t.config.to_string())
        .bind(i64::from(t.enabled))
        .bind(&t.created_by)
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("a notification target named {:?} exists", t.name))
            } else {
                StoreError::Query(e)
            }
        })?;
        self.notify_target(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("notification target {id}")))
    }

    /// Every target, by name.
    pub async fn notify_targets(&self) -> Result<Vec<NotifyTargetRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TARGET_COLUMNS} FROM notify_targets ORDER BY name, id"
        )))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(target_from).collect()
    }

    /// One target.
    pub async fn notify_target(&self, id: &str) -> Result<Option<NotifyTargetRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TARGET_COLUMNS} FROM notify_targets WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(target_from).transpose()
    }

    /// Changes a target; returns it as stored.
    pub async fn update_notify_target(
        &self,
        id: &str,
        patch: &NotifyTargetPatch,
    ) -> Result<NotifyTargetRow, StoreError> {
        let current = self
            .notify_target(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("notification target {id}")))?;
        let name = patch.name.clone().unwrap_or(current.name);
        let url = patch.url.clone().unwrap_or(current.url);
        let secret = patch.secret.clone().unwrap_or(current.secret);
        let token = patch.token.clone().unwrap_or(current.token);
        let config = patch.config.clone().unwrap_or(current.config);
        let enabled = patch.enabled.unwrap_or(current.enabled);
        sqlx::query(
            "UPDATE notify_targets SET name = $2, url = $3, secret = $4, token = $5, config = $6, enabled = $7, updated_at = $8
             WHERE id = $1",
        )
        .bind(id)
        .bind(&name)
        .bind(&url)
        .bind(secret.as_deref())
        .bind(token.as_deref())
        .bind(config.to_string())
        .bind(i64::from(enabled))
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("a notification target named {name:?} exists"))
            } else {
                StoreError::Query(e)
            }
        })?;
        self.notify_target(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("notification target {id}")))
    }

    /// Deletes a target with its log and dedup rows; false if unknown.
    pub async fn delete_notify_target(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM notify_deliveries WHERE target_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM notify_dedup WHERE target_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query("DELETE FROM notify_targets WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Logs a delivery.
    pub async fn record_notify_delivery(&self, d: &NotifyDeliveryRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notify_deliveries (id, target_id, event_id, kind, dedup_key, outcome, status, attempts, error, detail, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(if d.id.is_empty() { new_id() } else { d.id.clone() })
        .bind(&d.target_id)
        .bind(d.event_id.as_deref())
        .bind(&d.kind)
        .bind(&d.dedup_key)
        .bind(&d.outcome)
        .bind(d.status)
        .bind(d.attempts)
        .bind(d.error.as_deref())
        .bind(d.detail.to_string())
        .bind(d.at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The delivery log, newest first (of one target, or all), at most
    /// `limit` rows, finished before `before` (ms) when given.
    pub async fn notify_deliveries(
        &self,
        target: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<NotifyDeliveryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, target_id, event_id, kind, dedup_key, outcome, status, attempts, error, detail, at
             FROM notify_deliveries
             WHERE ($1 IS NULL OR target_id = $1) AND ($2 IS NULL OR at < $2)
             ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(target)
        .bind(before)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let detail: String = r.try_get("detail")?;
                Ok(NotifyDeliveryRow {
                    id: r.try_get("id")?,
                    target_id: r.try_get("target_id")?,
                    event_id: r.try_get("event_id")?,
                    kind: r.try_get("kind")?,
                    dedup_key: r.try_get("dedup_key")?,
                    outcome: r.try_get("outcome")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    error: r.try_get("error")?,
                    detail: serde_json::from_str(&detail).map_err(|source| StoreError::Json {
                        what: "notify_deliveries.detail",
                        source,
                    })?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// Claims (target, key) for sending at `now`: true when it was never
    /// sent, or last sent `window_ms` or more ago (`None`: never again).
    /// Atomic across processes.
    pub async fn claim_notify_dedup(
        &self,
        target: &str,
        key: &str,
        now: i64,
        window_ms: Option<i64>,
    ) -> Result<bool, StoreError> {
        // With no window the cut-off is before any time: nothing is
        // re-claimed.
        let cutoff = match window_ms {
            Some(w) => now.saturating_sub(w.max(0)),
            None => i64::MIN,
        };
        let r = sqlx::query(
            "INSERT INTO notify_dedup (target_id, dedup_key, sent_at) VALUES ($1, $2, $3)
             ON CONFLICT (target_id, dedup_key) DO UPDATE SET sent_at = EXCLUDED.sent_at
             WHERE notify_dedup.sent_at <= $4",
        )
        .bind(target)
        .bind(key)
        .bind(now)
        .bind(cutoff)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Releases a claim (the delivery failed: a later one may try).
    pub async fn release_notify_dedup(&self, target: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM notify_dedup WHERE target_id = $1 AND dedup_key = $2")
            .bind(target)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Events with ids after `floor` that have not been handled, oldest
    /// first.
    pub async fn notify_pending_events(
        &self,
        floor: &str,
        limit: i64,
    ) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT e.id, e.at, e.kind, e.subject, e.payload FROM events e
             WHERE e.id > $1 AND NOT EXISTS (SELECT 1 FROM notify_seen s WHERE s.event_id = e.id)
             ORDER BY e.id LIMIT $2",
        )
        .bind(floor)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EventRow {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    kind: r.try_get("kind")?,
                    subject: r.try_get("subject")?,
                    payload: r.try_get("payload")?,
                })
            })
            .collect()
    }

    /// Marks an event handled.
    pub async fn mark_notify_seen(&self, event_id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notify_seen (event_id, seen_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Forgets handled events with ids before `floor` (they are never read
    /// again).
    pub async fn prune_notify_seen(&self, floor: &str) -> Result<u64, StoreError> {
        let r = sqlx::query("DELETE FROM notify_seen WHERE event_id < $1")
            .bind(floor)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }

    /// Records an event unless one of the same kind and subject exists;
    /// returns whether it was recorded.
    pub async fn record_event_once(
        &self,
        kind: &str,
        subject: &str,
        payload: &serde_json::Value,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let exists =
            sqlx::query("SELECT 1 AS one FROM events WHERE kind = $1 AND subject = $2 LIMIT 1")
                .bind(kind)
                .bind(subject)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if exists {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO events (id, at, kind, subject, payload) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id())
        .bind(now_ms())
        .bind(kind)
        .bind(subject)
        .bind(payload.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A value of the `meta` table.
    pub async fn notify_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    /// Sets a value of the `meta` table.
    pub async fn put_notify_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// What a notification about finding `id` says: the finding, its
    /// artifact and where it runs now.
    pub async fn notify_finding_context(
        &self,
        id: &str,
    ) -> Result<Option<FindingContext>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT f.artifact_digest, a.name AS artifact_name, f.component_name, f.component_version, f.purl,
                f.summary, f.severity, f.priority, f.fix_version, f.state
             FROM findings f JOIN artifacts a ON a.digest = f.artifact_digest WHERE f.id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let digest: String = r.try_get("artifact_digest")?;
        let places = sqlx::query(
            "SELECT DISTINCT e.name AS environment, w.namespace, w.name
             FROM deployments d JOIN workloads w ON w.id = d.workload_id
             JOIN environments e ON e.id = w.environment_id
             WHERE d.artifact_digest = $1 AND d.ended_at IS NULL
             ORDER BY e.name, w.namespace, w.name",
        )
        .bind(&digest)
        .fetch_all(self.pool())
        .await?;
        let mut environments: Vec<String> = Vec::new();
        let mut workloads: Vec<String> = Vec::new();
        for p in &places {
            let env: String = p.try_get("environment")?;
            let ns: String = p.try_get("namespace")?;
            let name: String = p.try_get("name")?;
            if !environments.contains(&env) {
                environments.push(env);
            }
            let w = format!("{ns}/{name}");
            if !workloads.contains(&w) {
                workloads.push(w);
            }
        }
        Ok(Some(FindingContext {
            artifact_name: r.try_get("artifact_name")?,
            component_name: r.try_get("component_name")?,
            component_version: r.try_get("component_version")?,
            purl: r.try_get("purl")?,
            summary: r.try_get("summary")?,
            severity: r.try_get("severity")?,
            priority: r.try_get("priority")?,
            fix_version: r.try_get("fix_version")?,
            state: r.try_get("state")?,
            environments,
            workloads,
        }))
    }

    /// Open findings with a fix on artifacts that workloads run now,
    /// changed at or after `since` (ms).
    pub async fn notify_fix_candidates(
        &self,
        since: i64,
    ) -> Result<Vec<FixCandidateRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT w.id AS workload_id, w.namespace, w.name AS workload, e.name AS environment,
                d.artifact_digest, a.name AS artifact_name, f.component_key, f.component_name,
                f.component_version, f.purl, f.fix_version, f.advisory_id, f.severity, f.updated_at
             FROM findings f
             JOIN deployments d ON d.artifact_digest = f.artifact_digest AND d.ended_at IS NULL
             JOIN artifacts a ON a.digest = d.artifact_digest
             JOIN workloads w ON w.id = d.workload_id
             JOIN environments e ON e.id = w.environment_id
             WHERE f.state IN ('open', 'in_triage', 'affected')
               AND f.fix_version IS NOT NULL AND f.fix_version <> '' AND f.updated_at >= $1
             ORDER BY w.id, f.component_key, f.fix_version, f.advisory_id",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let ns: String = r.try_get("namespace")?;
                let name: String = r.try_get("workload")?;
                Ok(FixCandidateRow {
                    workload_id: r.try_get("workload_id")?,
                    workload: format!("{ns}/{name}"),
                    environment: r.try_get("environment")?,
                    artifact_digest: r.try_get("artifact_digest")?,
                    artifact_name: r.try_get("artifact_name")?,
                    component_key: r.try_get("component_key")?,
                    component_name: r.try_get("component_name")?,
                    component_version: r.try_get("component_version")?,
                    purl: r.try_get("purl")?,
                    fix_version: r.try_get("fix_version")?,
                    advisory: r.try_get("advisory_id")?,
                    severity: r.try_get("severity")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support;

    fn target(name: &str) -> NotifyTargetRow {
        NotifyTargetRow {
            id: String::new(),
            name: name.into(),
            kind: "webhook".into(),
            url: "https://hooks.example/in".into(),
            secret: Some("s".into()),
            token: None,
            config: serde_json::json!({"allow_private": false}),
            enabled: true,
            created_by: "test".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[tokio::test]
    async fn targets_dedup_log_and_events() {
        for db in test_support::all().await {
            let s = &db.store;
            let t = s.create_notify_target(&target("a")).await.unwrap();
            assert!(matches!(
                s.create_notify_target(&target("a")).await,
                Err(StoreError::Conflict(_))
            ));
            let mut bad = target("b");
            bad.kind = "carrier-pigeon".into();
            assert!(matches!(
                s.create_notify_target(&bad).await,
                Err(StoreError::Invalid(_))
            ));
            let t2 = s
                .update_notify_target(
                    &t.id,
                    &NotifyTargetPatch {
                        enabled: Some(false),
                        secret: Some(None),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert!(!t2.enabled);
            assert_eq!(t2.secret, None);
            assert_eq!(s.notify_targets().await.unwrap().len(), 1);

            // Dedup: once per window; never again without one.
            assert!(
                s.claim_notify_dedup(&t.id, "k", 1000, Some(100))
                    .await
                    .unwrap()
            );
            assert!(
                !s.claim_notify_dedup(&t.id, "k", 1050, Some(100))
                    .await
                    .unwrap()
            );
            assert!(
                s.claim_notify_dedup(&t.id, "k", 1100, Some(100))
                    .await
                    .unwrap()
            );
            assert!(s.claim_notify_dedup(&t.id, "once", 1, None).await.unwrap());
            assert!(
                !s.claim_notify_dedup(&t.id, "once", i64::MAX, None)
                    .await
                    .unwrap()
            );
            s.release_notify_dedup(&t.id, "once").await.unwrap();
            assert!(s.claim_notify_dedup(&t.id, "once", 2, None).await.unwrap());

            // The log.
            for i in 0..3 {
                s.record_notify_delivery(&NotifyDeliveryRow {
                    id: String::new(),
                    target_id: t.id.clone(),
                    event_id: None,
                    kind: "test".into(),
                    dedup_key: format!("test:{i}"),
                    outcome: "delivered".into(),
                    status: Some(200),
                    attempts: 1,
                    error: None,
                    detail: serde_json::json!({"attempts": []}),
                    at: i,
                })
                .await
                .unwrap();
            }
            let log = s.notify_deliveries(Some(&t.id), None, 2).await.unwrap();
            assert_eq!(log.len(), 2);
            assert_eq!(log[0].dedup_key, "test:2");
            let older = s
                .notify_deliveries(None, Some(log[1].at), 10)
                .await
                .unwrap();
            assert_eq!(older.len(), 1);

            // Events once; pending until seen.
            let p = serde_json::json!({"days_left": 3});
            assert!(
                s.record_event_once("exception.expiring", "x1", &p)
                    .await
                    .unwrap()
            );
            assert!(
                !s.record_event_once("exception.expiring", "x1", &p)
                    .await
                    .unwrap()
            );
            let pending = s.notify_pending_events("0", 100).await.unwrap();
            assert_eq!(pending.len(), 1);
            s.mark_notify_seen(&pending[0].id).await.unwrap();
            s.mark_notify_seen(&pending[0].id).await.unwrap();
            assert!(s.notify_pending_events("0", 100).await.unwrap().is_empty());
            assert_eq!(s.prune_notify_seen("zzzz").await.unwrap(), 1);

            // Meta.
            assert_eq!(s.notify_meta("notify.cursor").await.unwrap(), None);
            s.put_notify_meta("notify.cursor", "a").await.unwrap();
            s.put_notify_meta("notify.cursor", "b").await.unwrap();
            assert_eq!(
                s.notify_meta("notify.cursor").await.unwrap().as_deref(),
                Some("b")
            );

            assert!(s.delete_notify_target(&t.id).await.unwrap());
            assert!(!s.delete_notify_target(&t.id).await.unwrap());
            assert!(
                s.notify_deliveries(None, None, 10)
                    .await
                    .unwrap()
                    .is_empty()
            );
            db.finish().await;
        }
    }
}
