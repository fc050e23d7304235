//! Group commit for decision records.
//!
//! Every admission review records a decision. On SQLite one writer holds the
//! database at a time and the others wait in the busy handler, which sleeps
//! in steps of milliseconds: a hundred concurrent reviews would spend more
//! time queueing for the lock than deciding. Instead each process has one
//! writer task: callers hand it their row and wait; it takes everything
//! queued, writes it in one transaction and answers each caller only once
//! that transaction has committed. A decision is therefore never reported
//! before it is stored, and a burst costs one commit.

use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::governance::DecisionRow;

/// At most this many rows go into one transaction.
const MAX_BATCH: usize = 512;

/// One caller's row and where to send the outcome.
pub(crate) struct Pending {
    pub(crate) row: DecisionRow,
    pub(crate) done: oneshot::Sender<Result<(), StoreError>>,
}

/// The sending side, kept by the [`crate::Store`].
pub(crate) type Writer = mpsc::UnboundedSender<Pending>;

/// Starts the writer task of `pool` on the current runtime.
pub(crate) fn spawn(pool: sqlx::AnyPool, backend: crate::Backend) -> Writer {
    let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let rows: Vec<&DecisionRow> = batch.iter().map(|p| &p.row).collect();
            if write(&pool, backend, &rows).await.is_ok() {
                for p in batch {
                    let _ = p.done.send(Ok(()));
                }
                continue;
            }
            // One bad row must not fail the others: each on its own, with
            // its own error.
            for p in batch {
                let result = write(&pool, backend, &[&p.row]).await;
                let _ = p.done.send(result);
            }
        }
    });
    tx
}

/// Writes `rows` and their `decision.deny` events in one transaction.
/// Idempotent by decision id, so that a caller whose writer vanished
/// mid-batch can write its row again.
pub(crate) async fn write(
    pool: &sqlx::AnyPool,
    backend: crate::Backend,
    rows: &[&DecisionRow],
) -> Result<(), StoreError> {
    let mut tx = crate::begin_write(pool, backend).await?;
    for d in rows {
        let reasons = serde_json::to_string(&d.reasons).unwrap_or_else(|_| "[]".to_owned());
        let inserted = sqlx::query(
            "INSERT INTO decisions (id, at, source, environment, team_id, workload_id, workload, artifact_digest,
                input_digest, bundle_digest, outcome, reasons, record)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&d.id)
        .bind(d.at)
        .bind(&d.source)
        .bind(&d.environment)
        .bind(d.team_id.as_deref())
        .bind(d.workload_id.as_deref())
        .bind(d.workload.as_deref())
        .bind(d.artifact_digest.as_deref())
        .bind(&d.input_digest)
        .bind(&d.bundle_digest)
        .bind(&d.outcome)
        .bind(reasons)
        .bind(d.record.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted > 0 && d.outcome == "deny" {
            sqlx::query("INSERT INTO events (id, at, kind, subject, payload) VALUES ($1, $2, 'decision.deny', $3, $4)")
                .bind(crate::new_id())
                .bind(d.at)
                .bind(&d.id)
                .bind(serde_json::json!({"environment": d.environment, "workload": d.workload, "artifact": d.artifact_digest, "reasons": d.reasons}).to_string())
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
