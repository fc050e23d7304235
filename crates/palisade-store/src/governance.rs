//! Exceptions (with the two-person rule), policy decisions, attestation
//! verdicts and the namespace-to-environment map of the admission webhook.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::model::{Page, Scope};
use crate::sql::Sql;
use crate::{Store, StoreError, new_id, now_ms};

/// A stored exception.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRow {
    /// Id.
    pub id: String,
    /// The owning team.
    pub team_id: Option<String>,
    /// Workload scope (`namespace/name`).
    pub workload: Option<String>,
    /// Artifact scope (digest or name).
    pub artifact: Option<String>,
    /// Vulnerability scope (id or alias).
    pub vulnerability: Option<String>,
    /// Policy scope (policy id).
    pub policy: Option<String>,
    /// Why.
    pub reason: String,
    /// Requester.
    pub requested_by: String,
    /// Requested at, ms.
    pub requested_at: i64,
    /// Approver.
    pub approved_by: Option<String>,
    /// Approved at, ms.
    pub approved_at: Option<i64>,
    /// Expiry, ms.
    pub expires_at: i64,
    /// Who revoked it.
    pub revoked_by: Option<String>,
    /// Revoked at, ms.
    pub revoked_at: Option<i64>,
}

impl ExceptionRow {
    /// `pending`, `active`, `expired` or `revoked` at `now`.
    pub fn status(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else if self.approved_at.is_some() {
            "active"
        } else {
            "pending"
        }
    }
}

/// A request for an exception.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRequest {
    /// The owning team.
    pub team_id: Option<String>,
    /// Workload scope.
    pub workload: Option<String>,
    /// Artifact scope.
    pub artifact: Option<String>,
    /// Vulnerability scope.
    pub vulnerability: Option<String>,
    /// Policy scope.
    pub policy: Option<String>,
    /// Why.
    pub reason: String,
    /// Expiry, ms.
    pub expires_at: i64,
}

/// One event of an exception's life.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionEventRow {
    /// When, ms.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// `requested`, `approved`, `approval_refused`, `revoked`, `expired`, `used`.
    pub kind: String,
    /// Detail.
    pub detail: Option<String>,
}

/// A policy decision to record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// Id (set by the store when empty).
    pub id: String,
    /// When, ms.
    pub at: i64,
    /// `admission`, `gate`, `audit`, `api`.
    pub source: String,
    /// The environment.
    pub environment: String,
    /// The team of the workload.
    pub team_id: Option<String>,
    /// The workload id.
    pub workload_id: Option<String>,
    /// The workload's qualified name.
    pub workload: Option<String>,
    /// The artifact's digest.
    pub artifact_digest: Option<String>,
    /// The input's digest.
    pub input_digest: String,
    /// The policy bundle's digest.
    pub bundle_digest: String,
    /// `allow`, `warn` or `deny`.
    pub outcome: String,
    /// Human-readable reasons.
    pub reasons: Vec<String>,
    /// The whole decision record, JSON.
    pub record: serde_json::Value,
}

/// Filters of the decision log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionFilter {
    /// Environment name.
    pub environment: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Workload id.
    pub workload_id: Option<String>,
    /// Artifact digest.
    pub artifact: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Text that a reason, workload or artifact contains.
    pub text: Option<String>,
}

/// A stored attestation verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationRow {
    /// Id.
    pub id: String,
    /// The subject artifact's digest.
    pub artifact_digest: String,
    /// The envelope's or bundle's digest.
    pub envelope_digest: String,
    /// The predicate type.
    pub predicate_type: String,
    /// Whether its signature verified.
    pub verified: bool,
    /// The verified signer's identity.
    pub signer: Option<String>,
    /// The verification result, JSON.
    pub verdict: serde_json::Value,
    /// The in-toto statement, JSON, when verified.
    pub statement: Option<serde_json::Value>,
    /// When, ms.
    pub created_at: i64,
}

fn exception_from(r: &AnyRow) -> Result<ExceptionRow, sqlx::Error> {
    Ok(ExceptionRow {
        id: r.try_get("id")?,
        team_id: r.try_get("team_id")?,
        workload: r.try_get("scope_workload")?,
        artifact: r.try_get("scope_artifact")?,
        vulnerability: r.try_get("scope_vulnerability")?,
        policy: r.try_get("scope_policy")?,
        reason: r.try_get("reason")?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        approved_by: r.try_get("approved_by")?,
        approved_at: r.try_get("approved_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_by: r.try_get("revoked_by")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const EXCEPTION_COLUMNS: &str =
    "id, team_id, scope_workload, scope_artifact, scope_vulnerability, scope_policy, reason,
    requested_by, requested_at, approved_by, approved_at, expires_at, revoked_by, revoked_at";

/// Whether two actor names are the same person (case and spaces ignored).
pub fn same_person(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Store {
    /// Records a request for an exception (pending until a second person
    /// approves it).
    pub async fn request_exception(
        &self,
        req: &ExceptionRequest,
        actor: &str,
    ) -> Result<ExceptionRow, StoreError> {
        if req.workload.is_none()
            && req.artifact.is_none()
            && req.vulnerability.is_none()
            && req.policy.is_none()
        {
            return Err(StoreError::Invalid(
                "an exception needs a scope: at least one of workload, artifact, vulnerability, policy".to_owned(),
            ));
        }
        if req.reason.trim().is_empty() {
            return Err(StoreError::Invalid(
                "an exception needs a reason".to_owned(),
            ));
        }
        let now = now_ms();
        if req.expires_at <= now {
            return Err(StoreError::Invalid("expires_at is in the past".to_owned()));
        }
        let id = new_id();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO exceptions (id, team_id, scope_workload, scope_artifact, scope_vulnerability, scope_policy,
                reason, requested_by, requested_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(req.team_id.as_deref())
        .bind(req.workload.as_deref())
        .bind(req.artifact.as_deref())
        .bind(req.vulnerability.as_deref())
        .bind(req.policy.as_deref())
        .bind(&req.reason)
        .bind(actor)
        .bind(now)
        .bind(req.expires_at)
        .execute(&mut *tx)
        .await?;
        exception_event(&mut tx, &id, actor, "requested", Some(&req.reason)).await?;
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        self.exception(&Scope::All, &id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("exception {id}")))
    }

    /// Approves a pending exception. The approver must differ from the
    /// requester; a refused self-approval is recorded.
    pub async fn approve_exception(
        &self,
        scope: &Scope,
        id: &str,
        actor: &str,
    ) -> Result<ExceptionRow, StoreError> {
        let e = self
            .exception(scope, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("exception {id}")))?;
        let now = now_ms();
        match e.status(now) {
            "pending" => {}
            other => {
                return Err(StoreError::Conflict(format!(
                    "exception {id} is {other}; only a pending exception can be approved"
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        if same_person(&e.requested_by, actor) {
            exception_event(
                &mut tx,
                id,
                actor,
                "approval_refused",
                Some("the requester may not approve their own exception"),
            )
            .await?;
            tx.commit().await?;
            return Err(StoreError::Forbidden(format!(
                "{actor} requested exception {id} and may not approve it: a second person must"
            )));
        }
        let changed = sqlx::query(
            "UPDATE exceptions SET approved_by = $2, approved_at = $3 WHERE id = $1 AND approved_at IS NULL AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(StoreError::Conflict(format!(
                "exception {id} was approved or revoked meanwhile"
            )));
        }
        exception_event(&mut tx, id, actor, "approved", None).await?;
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        self.exception(scope, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("exception {id}")))
    }

    /// Revokes an exception.
    pub async fn revoke_exception(
        &self,
        scope: &Scope,
        id: &str,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<ExceptionRow, StoreError> {
        let e = self
            .exception(scope, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("exception {id}")))?;
        if e.revoked_at.is_some() {
            return Err(StoreError::Conflict(format!(
                "exception {id} is already revoked"
            )));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE exceptions SET revoked_by = $2, revoked_at = $3 WHERE id = $1")
            .bind(id)
            .bind(actor)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        exception_event(&mut tx, id, actor, "revoked", reason).await?;
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        self.exception(scope, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("exception {id}")))
    }

    /// One exception, if `scope` may see it.
    pub async fn exception(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<ExceptionRow>, StoreError> {
        let mut q = Sql::new(&format!(
            "SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE 1 = 1"
        ));
        let p = q.bind_text(id);
        q.and(&format!("id = {p}"));
        if let Scope::Team(t) = scope {
            let p = q.bind_text(t.clone());
            q.and(&format!("team_id = {p}"));
        }
        let rows = q.fetch_all(self.pool()).await?;
        Ok(rows.first().map(exception_from).transpose()?)
    }

    /// Exceptions visible in `scope`, newest first.
    pub async fn list_exceptions(&self, scope: &Scope) -> Result<Vec<ExceptionRow>, StoreError> {
        let mut q = Sql::new(&format!(
            "SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE 1 = 1"
        ));
        if let Scope::Team(t) = scope {
            let p = q.bind_text(t.clone());
            q.and(&format!("team_id = {p}"));
        }
        q.push(" ORDER BY id DESC LIMIT 1000");
        let rows = q.fetch_all(self.pool()).await?;
        Ok(rows.iter().map(exception_from).collect::<Result<_, _>>()?)
    }

    /// Every exception neither revoked nor expired at `now` (pending ones
    /// included: the policy engine reports them as not in force).
    pub async fn live_exceptions(&self, now: i64) -> Result<Vec<ExceptionRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EXCEPTION_COLUMNS} FROM exceptions WHERE revoked_at IS NULL AND expires_at > $1 ORDER BY id"
        )))
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(exception_from).collect::<Result<_, _>>()?)
    }

    /// An exception's history, oldest first.
    pub async fn exception_history(&self, id: &str) -> Result<Vec<ExceptionEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor, kind, detail FROM exception_events WHERE exception_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExceptionEventRow {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    kind: r.try_get("kind")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Records, once each, the exceptions that expired by `now`; returns
    /// their ids (re-evaluation of what they covered follows).
    pub async fn sweep_expired_exceptions(&self, now: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM exceptions e WHERE e.expires_at <= $1 AND e.revoked_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM exception_events v WHERE v.exception_id = e.id AND v.kind = 'expired')",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.try_get("id")?;
            let mut tx = self.begin_write().await?;
            exception_event(&mut tx, &id, "palisade", "expired", None).await?;
            sqlx::query("INSERT INTO events (id, at, kind, subject, payload) VALUES ($1, $2, 'exception.expired', $3, '{}')")
                .bind(new_id())
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
            tx.commit().await?;
            out.push(id);
        }
        Ok(out)
    }

    /// Records uses of exceptions by a decision.
    pub async fn record_exception_uses(
        &self,
        ids: &[String],
        decision_id: &str,
    ) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for id in ids {
            exception_event(&mut tx, id, "palisade", "used", Some(decision_id)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a policy decision; returns its id once it is stored. Rows
    /// from concurrent callers are committed together (see
    /// [`crate::decision_log`]).
    pub async fn record_decision(&self, d: &DecisionRow) -> Result<String, StoreError> {
        let mut row = d.clone();
        if row.id.is_empty() {
            row.id = new_id();
        }
        let id = row.id.clone();
        let (done, wait) = tokio::sync::oneshot::channel();
        let writer = self.decision_writer();
        if writer
            .send(crate::decision_log::Pending {
                row: row.clone(),
                done,
            })
            .is_ok()
            && let Ok(result) = wait.await
        {
            return result.map(|()| id);
        }
        // The writer task is gone (the runtime that started it has shut
        // down): write directly.
        crate::decision_log::write(self.pool(), self.backend, &[&row]).await?;
        Ok(id)
    }

    /// The decision log, newest first, a page before the id `before`.
    pub async fn list_decisions(
        &self,
        scope: &Scope,
        filter: &DecisionFilter,
        before: Option<&str>,
        limit: i64,
    ) -> Result<Page<DecisionRow>, StoreError> {
        let mut q = Sql::new(
            "SELECT id, at, source, environment, team_id, workload_id, workload, artifact_digest, input_digest,
                bundle_digest, outcome, reasons, record FROM decisions WHERE 1 = 1",
        );
        if let Scope::Team(t) = scope {
            let p = q.bind_text(t.clone());
            q.and(&format!("team_id = {p}"));
        }
        for (col, val) in [
            ("environment", &filter.environment),
            ("outcome", &filter.outcome),
            ("workload_id", &filter.workload_id),
            ("artifact_digest", &filter.artifact),
            ("source", &filter.source),
        ] {
            if let Some(v) = val {
                let p = q.bind_text(v.clone());
                q.and(&format!("{col} = {p}"));
            }
        }
        if let Some(text) = &filter.text {
            let p = q.bind_text(format!("%{}%", text.to_lowercase()));
            q.and(&format!(
                "(LOWER(reasons) LIKE {p} OR LOWER(COALESCE(workload, '')) LIKE {p} OR LOWER(COALESCE(artifact_digest, '')) LIKE {p})"
            ));
        }
        if let Some(b) = before {
            let p = q.bind_text(b);
            q.and(&format!("id < {p}"));
        }
        let l = q.bind_int(limit + 1);
        q.push(&format!(" ORDER BY id DESC LIMIT {l}"));
        let rows = q.fetch_all(self.pool()).await?;
        let mut items = Vec::new();
        for r in &rows {
            let reasons: String = r.try_get("reasons")?;
            let record: String = r.try_get("record")?;
            items.push(DecisionRow {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                source: r.try_get("source")?,
                environment: r.try_get("environment")?,
                team_id: r.try_get("team_id")?,
                workload_id: r.try_get("workload_id")?,
                workload: r.try_get("workload")?,
                artifact_digest: r.try_get("artifact_digest")?,
                input_digest: r.try_get("input_digest")?,
                bundle_digest: r.try_get("bundle_digest")?,
                outcome: r.try_get("outcome")?,
                reasons: serde_json::from_str(&reasons).map_err(|source| StoreError::Json {
                    what: "decisions.reasons",
                    source,
                })?,
                record: serde_json::from_str(&record).map_err(|source| StoreError::Json {
                    what: "decisions.record",
                    source,
                })?,
            });
        }
        let limit_usize = usize::try_from(limit).unwrap_or(50);
        let next = if items.len() > limit_usize {
            items.truncate(limit_usize);
            items.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Stores an attestation verdict (idempotent per artifact and envelope).
    /// Returns false when it was already stored.
    pub async fn record_attestation(
        &self,
        a: &AttestationRow,
        artifact_name: &str,
        team_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO artifacts (digest, name, team_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&a.artifact_digest)
        .bind(artifact_name)
        .bind(team_id)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "INSERT INTO attestations (id, artifact_digest, envelope_digest, predicate_type, verified, signer, verdict, statement, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (artifact_digest, envelope_digest) DO NOTHING",
        )
        .bind(if a.id.is_empty() { new_id() } else { a.id.clone() })
        .bind(&a.artifact_digest)
        .bind(&a.envelope_digest)
        .bind(&a.predicate_type)
        .bind(i64::from(a.verified))
        .bind(a.signer.as_deref())
        .bind(a.verdict.to_string())
        .bind(a.statement.as_ref().map(|s| s.to_string()))
        .bind(a.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        Ok(n > 0)
    }

    /// The attestation verdicts stored for an artifact, oldest first.
    pub async fn attestations_of(&self, digest: &str) -> Result<Vec<AttestationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, artifact_digest, envelope_digest, predicate_type, verified, signer, verdict, statement, created_at
             FROM attestations WHERE artifact_digest = $1 ORDER BY created_at, id",
        )
        .bind(digest)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let verdict: String = r.try_get("verdict")?;
            let statement: Option<String> = r.try_get("statement")?;
            out.push(AttestationRow {
                id: r.try_get("id")?,
                artifact_digest: r.try_get("artifact_digest")?,
                envelope_digest: r.try_get("envelope_digest")?,
                predicate_type: r.try_get("predicate_type")?,
                verified: r.try_get::<i64, _>("verified")? != 0,
                signer: r.try_get("signer")?,
                verdict: serde_json::from_str(&verdict).map_err(|source| StoreError::Json {
                    what: "attestations.verdict",
                    source,
                })?,
                statement: statement
                    .map(|s| serde_json::from_str(&s))
                    .transpose()
                    .map_err(|source| StoreError::Json {
                        what: "attestations.statement",
                        source,
                    })?,
                created_at: r.try_get("created_at")?,
            });
        }
        Ok(out)
    }

    /// The newest artifact digest recorded under `name` (an image reference
    /// without digest, e.g. `registry/app:1.2`), for resolving tags without
    /// network.
    pub async fn artifact_digest_by_name(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT digest FROM artifacts WHERE name = $1 ORDER BY created_at DESC, digest LIMIT 1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("digest")).transpose()?)
    }

    /// The name recorded for an artifact digest.
    pub async fn artifact_name(&self, digest: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT name FROM artifacts WHERE digest = $1")
            .bind(digest)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("name")).transpose()?)
    }

    /// Maps a Kubernetes namespace (of a cluster, `""` for any) to an
    /// environment and an application.
    pub async fn put_namespace(
        &self,
        cluster: &str,
        namespace: &str,
        environment_id: &str,
        application_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO namespaces (cluster, namespace, environment_id, application_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (cluster, namespace) DO UPDATE SET environment_id = $3, application_id = $4",
        )
        .bind(cluster)
        .bind(namespace)
        .bind(environment_id)
        .bind(application_id)
        .execute(self.pool())
        .await?;
        // Admission reads the mapping under the evidence generation.
        crate::bump_counter(self.pool(), crate::EVIDENCE_GENERATION).await?;
        Ok(())
    }

    /// The environment and application ids of a namespace: the cluster's own
    /// mapping first, then the cluster-independent one.
    pub async fn namespace_mapping(
        &self,
        cluster: &str,
        namespace: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query(
            "SELECT environment_id, application_id FROM namespaces WHERE namespace = $1 AND (cluster = $2 OR cluster = '')
             ORDER BY cluster DESC LIMIT 1",
        )
        .bind(namespace)
        .bind(cluster)
        .fetch_optional(self.pool())
        .await?;
        Ok(row
            .map(|r| {
                Ok::<_, sqlx::Error>((r.try_get("environment_id")?, r.try_get("application_id")?))
            })
            .transpose()?)
    }
}

async fn exception_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    actor: &str,
    kind: &str,
    detail: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO exception_events (id, exception_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(id)
    .bind(now_ms())
    .bind(actor)
    .bind(kind)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Whether `scope` may see an artifact: every artifact for [`Scope::All`];
    /// for a team, one it uploaded evidence for, or runs (or ran).
    pub async fn artifact_visible(&self, scope: &Scope, digest: &str) -> Result<bool, StoreError> {
        let Scope::Team(team) = scope else {
            return Ok(true);
        };
        let row = sqlx::query(
            "SELECT 1 AS one FROM artifacts WHERE digest = $1 AND (team_id = $2 OR digest IN
               (SELECT d.artifact_digest FROM deployments d JOIN workloads w ON w.id = d.workload_id
                JOIN applications ap ON ap.id = w.application_id WHERE ap.team_id = $2))",
        )
        .bind(digest)
        .bind(team)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }
}
