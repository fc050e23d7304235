//! Advisories shared by every server process: OSV records as raw JSON, with
//! the package keys they name (the reverse index that re-analysis uses) and
//! every id and alias (for look-ups by CVE, GHSA...).
//!
//! The store does not parse OSV: the caller (which owns the advisory logic)
//! hands over rows with their keys and ids already extracted.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::sql::{CHUNK, Sql};
use crate::{Store, StoreError, now_ms};

/// An advisory to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdvisoryRow {
    /// The OSV id.
    pub id: String,
    /// `modified`, ms since the epoch: a newer record replaces an older one.
    pub modified: i64,
    /// `published`, ms.
    pub published: Option<i64>,
    /// Whether it is withdrawn.
    pub withdrawn: bool,
    /// The summary.
    pub summary: String,
    /// The record as JSON.
    pub record: String,
    /// The package keys it names (`<ecosystem>/<normalised name>`).
    pub keys: Vec<String>,
    /// Its id and aliases.
    pub ids: Vec<String>,
}

/// What an upsert changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryUpsert {
    /// Records not stored before.
    pub new: u64,
    /// Records replaced by a newer `modified`.
    pub updated: u64,
    /// Records already stored at this or a newer `modified`.
    pub unchanged: u64,
    /// Package keys of new and updated records, before and after the change:
    /// every component under these keys must be matched again.
    pub touched_keys: BTreeSet<String>,
    /// Ids of new and updated records.
    pub changed_ids: Vec<String>,
    /// The re-analysis job queued for the touched keys, if any.
    pub job: Option<String>,
}

/// The kind of the job that re-matches components after advisories change;
/// its payload is `{"keys": [...], "reason": "..."}`.
pub const REANALYSE_JOB: &str = "reanalyse";

/// What the advisory table holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryStats {
    /// How many records.
    pub count: i64,
    /// How many are withdrawn.
    pub withdrawn: i64,
    /// The newest `modified`, ms.
    pub newest_modified: Option<i64>,
    /// The last import, ms.
    pub last_import: Option<i64>,
}

impl Store {
    /// Inserts or replaces advisories in one transaction: a record replaces a
    /// stored one only when its `modified` is newer.
    pub async fn upsert_advisories(
        &self,
        rows: &[AdvisoryRow],
    ) -> Result<AdvisoryUpsert, StoreError> {
        let mut out = AdvisoryUpsert::default();
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        for chunk in rows.chunks(CHUNK) {
            let mut q = Sql::new("SELECT id, modified FROM advisories WHERE id IN ");
            let list = q.in_list(chunk.iter().map(|r| r.id.clone()));
            q.push(&list);
            let existing: BTreeMap<String, i64> = q
                .fetch_all_in(&mut tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("modified")?)))
                .collect::<Result<_, sqlx::Error>>()?;
            for row in chunk {
                match existing.get(&row.id) {
                    Some(m) if *m >= row.modified => {
                        out.unchanged += 1;
                        continue;
                    }
                    Some(_) => {
                        let old = sqlx::query(
                            "SELECT package_key FROM advisory_keys WHERE advisory_id = $1",
                        )
                        .bind(&row.id)
                        .fetch_all(&mut *tx)
                        .await?;
                        for k in old {
                            out.touched_keys.insert(k.try_get("package_key")?);
                        }
                        sqlx::query("DELETE FROM advisory_keys WHERE advisory_id = $1")
                            .bind(&row.id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM advisory_ids WHERE advisory_id = $1")
                            .bind(&row.id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(
                            "UPDATE advisories SET modified = $2, published = $3, withdrawn = $4,
                             summary = $5, record = $6, imported_at = $7 WHERE id = $1",
                        )
                        .bind(&row.id)
                        .bind(row.modified)
                        .bind(row.published)
                        .bind(i64::from(row.withdrawn))
                        .bind(&row.summary)
                        .bind(&row.record)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        out.updated += 1;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO advisories (id, modified, published, withdrawn, summary, record, imported_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7)",
                        )
                        .bind(&row.id)
                        .bind(row.modified)
                        .bind(row.published)
                        .bind(i64::from(row.withdrawn))
                        .bind(&row.summary)
                        .bind(&row.record)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        out.new += 1;
                    }
                }
                out.changed_ids.push(row.id.clone());
                for k in row.keys.iter().collect::<BTreeSet<_>>() {
                    sqlx::query(
                        "INSERT INTO advisory_keys (advisory_id, package_key) VALUES ($1, $2)",
                    )
                    .bind(&row.id)
                    .bind(k)
                    .execute(&mut *tx)
                    .await?;
                    out.touched_keys.insert(k.clone());
                }
                let mut ids: BTreeSet<&String> = row.ids.iter().collect();
                ids.insert(&row.id);
                for id in ids {
                    sqlx::query("INSERT INTO advisory_ids (vuln_id, advisory_id) VALUES ($1, $2)")
                        .bind(id)
                        .bind(&row.id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        if out.new + out.updated > 0 {
            crate::bump_counter(&mut *tx, crate::ADVISORY_GENERATION).await?;
        }
        if !out.touched_keys.is_empty() {
            // Queued in the same transaction: stored advisories always get
            // their re-analysis, even if this process dies right after.
            let id = crate::new_id();
            let payload = serde_json::json!({
                "keys": out.touched_keys,
                "advisories": out.changed_ids,
                "reason": "no longer affected according to the current advisories",
            });
            sqlx::query(
                "INSERT INTO jobs (id, kind, payload, state, attempts, run_at, created_at)
                 VALUES ($1, $2, $3, 'queued', 0, $4, $4)",
            )
            .bind(&id)
            .bind(REANALYSE_JOB)
            .bind(payload.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            out.job = Some(id);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The records (id, JSON) of every advisory naming one of `keys`.
    pub async fn advisories_for_keys(
        &self,
        keys: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let mut q = Sql::new(
                "SELECT a.id, a.record FROM advisories a WHERE a.id IN
                 (SELECT k.advisory_id FROM advisory_keys k WHERE k.package_key IN ",
            );
            let list = q.in_list(chunk.iter().cloned());
            q.push(&list).push(")");
            for r in q.fetch_all(self.pool()).await? {
                let id: String = r.try_get("id")?;
                if seen.insert(id.clone()) {
                    out.push((id, r.try_get("record")?));
                }
            }
        }
        Ok(out)
    }

    /// The ids of stored advisories that are, or have as an alias, `vuln_id`.
    pub async fn advisory_ids_named(&self, vuln_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT advisory_id FROM advisory_ids WHERE vuln_id = $1 ORDER BY advisory_id",
        )
        .bind(vuln_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("advisory_id"))
            .collect::<Result<_, _>>()?)
    }

    /// One advisory's record by id.
    pub async fn advisory_record(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT record FROM advisories WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("record")).transpose()?)
    }

    /// Counts and freshness.
    pub async fn advisory_stats(&self) -> Result<AdvisoryStats, StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, COALESCE(SUM(withdrawn), 0) AS w, MAX(modified) AS m, MAX(imported_at) AS i FROM advisories",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(AdvisoryStats {
            count: r.try_get("n")?,
            withdrawn: r.try_get("w")?,
            newest_modified: r.try_get("m")?,
            last_import: r.try_get("i")?,
        })
    }

    /// A counter bumped by every advisory change, so that processes holding
    /// a cache of parsed advisories know when it is stale.
    pub async fn advisory_generation(&self) -> Result<i64, StoreError> {
        self.counter(crate::ADVISORY_GENERATION).await
    }
}
