//! A job queue in the database, shared by every server process.
//!
//! Workers claim one ready job at a time. On PostgreSQL the claim uses
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers never take the same job
//! and never wait on each other; on SQLite the claiming `UPDATE` runs under
//! the database's single write lock, which gives the same guarantee for the
//! one process SQLite serves.
//!
//! A claimed job carries a lease. A worker that dies mid-job (killed, crashed)
//! stops renewing it; when the lease runs out the job is ready again, so no
//! job is lost. Completing or failing a job checks that the worker still holds
//! it, so a job is never finished twice. A handler should therefore be
//! idempotent: a job that outlives its lease may run again.

use sqlx::Row;

use crate::{Backend, Store, StoreError, new_id, now_ms};

/// A job as claimed by a worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// What to do (`rematch`, `sync-advisories`, `notify`...).
    pub kind: String,
    /// The handler's input, JSON.
    pub payload: String,
    /// How many times it has been claimed, this time included.
    pub attempts: i64,
}

/// Counts of jobs by state, for metrics and readiness.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Waiting to run.
    pub queued: i64,
    /// Claimed by a worker.
    pub running: i64,
    /// Finished.
    pub done: i64,
    /// Given up after too many attempts.
    pub failed: i64,
}

/// The claim on PostgreSQL: rows locked by another transaction are skipped.
const CLAIM_POSTGRES: &str = "UPDATE jobs SET state = 'running', locked_by = $1, lease_until = $2, attempts = attempts + 1
     WHERE id = (SELECT id FROM jobs
                 WHERE (state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until < $3)
                 ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
     RETURNING id, kind, payload, attempts";

/// The claim on SQLite: the UPDATE holds the database's only write lock.
const CLAIM_SQLITE: &str = "UPDATE jobs SET state = 'running', locked_by = $1, lease_until = $2, attempts = attempts + 1
     WHERE id = (SELECT id FROM jobs
                 WHERE (state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until < $3)
                 ORDER BY run_at, id LIMIT 1)
     RETURNING id, kind, payload, attempts";

/// How often a job is tried before it is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;

impl Store {
    /// Queues a job to run at `run_at` (ms). With a `dedup_key`, a job with the
    /// same key that is still queued or running absorbs this one; returns
    /// whether a new job was queued.
    pub async fn enqueue(
        &self,
        kind: &str,
        payload: &str,
        dedup_key: Option<&str>,
        run_at: i64,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO jobs (id, kind, payload, dedup_key, state, attempts, run_at, created_at)
             VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6)
             ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(kind)
        .bind(payload)
        .bind(dedup_key)
        .bind(run_at)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Claims the oldest ready job for `worker`, with a lease of `lease_ms`.
    /// Ready means queued and due, or running with an expired lease.
    pub async fn claim(&self, worker: &str, lease_ms: i64) -> Result<Option<Job>, StoreError> {
        let now = now_ms();
        let sql = match self.backend() {
            Backend::Postgres => CLAIM_POSTGRES,
            Backend::Sqlite => CLAIM_SQLITE,
        };
        let row = sqlx::query(sql)
            .bind(worker)
            .bind(now.saturating_add(lease_ms))
            .bind(now)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok(Job {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Extends the lease of a job `worker` still holds; false if it lost it.
    pub async fn renew(
        &self,
        job_id: &str,
        worker: &str,
        lease_ms: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(now_ms().saturating_add(lease_ms))
        .bind(job_id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Marks a job done; false if `worker` no longer held it (another worker
    /// took it over after the lease ran out), in which case nothing changes.
    pub async fn complete(&self, job_id: &str, worker: &str) -> Result<bool, StoreError> {
        self.complete_with(job_id, worker, None).await
    }

    /// Marks a job done with a result (JSON); see [`Store::complete`].
    pub async fn complete_with(
        &self,
        job_id: &str,
        worker: &str,
        result: Option<&str>,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $1, dedup_key = NULL, lease_until = NULL, result = $4
             WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        )
        .bind(now_ms())
        .bind(job_id)
        .bind(worker)
        .bind(result)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a failure: the job runs again after `retry_in_ms`, or is
    /// marked failed once it has been tried [`MAX_ATTEMPTS`] times.
    pub async fn fail(
        &self,
        job_id: &str,
        worker: &str,
        error: &str,
        retry_in_ms: i64,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let r = sqlx::query(
            "UPDATE jobs SET
                state = CASE WHEN attempts >= $1 THEN 'failed' ELSE 'queued' END,
                dedup_key = CASE WHEN attempts >= $1 THEN NULL ELSE dedup_key END,
                finished_at = CASE WHEN attempts >= $1 THEN $2 ELSE NULL END,
                run_at = $3, last_error = $4, locked_by = NULL, lease_until = NULL
             WHERE id = $5 AND locked_by = $6 AND state = 'running'",
        )
        .bind(MAX_ATTEMPTS)
        .bind(now)
        .bind(now.saturating_add(retry_in_ms))
        .bind(error)
        .bind(job_id)
        .bind(worker)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// A job's state (`queued`, `running`, `done`, `failed`) and result.
    pub async fn job_status(
        &self,
        job_id: &str,
    ) -> Result<Option<(String, Option<String>, Option<String>)>, StoreError> {
        let row = sqlx::query("SELECT state, result, last_error FROM jobs WHERE id = $1")
            .bind(job_id)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            Ok((
                r.try_get("state")?,
                r.try_get("result")?,
                r.try_get("last_error")?,
            ))
        })
        .transpose()
    }

    /// Jobs by state.
    pub async fn queue_stats(&self) -> Result<QueueStats, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(self.pool())
            .await?;
        let mut stats = QueueStats::default();
        for row in rows {
            let state: String = row.try_get("state")?;
            let n: i64 = row.try_get("n")?;
            match state.as_str() {
                "queued" => stats.queued = n,
                "running" => stats.running = n,
                "done" => stats.done = n,
                "failed" => stats.failed = n,
                _ => {}
            }
        }
        Ok(stats)
    }
}

impl Store {
    /// How many jobs of `kind` are queued or running.
    pub async fn pending_jobs(&self, kind: &str) -> Result<i64, StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n FROM jobs WHERE kind = $1 AND state IN ('queued', 'running')",
        )
        .bind(kind)
        .fetch_one(self.pool())
        .await?;
        Ok(r.try_get("n")?)
    }
}
