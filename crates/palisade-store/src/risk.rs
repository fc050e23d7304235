//! Prioritisation inputs and outputs: EPSS scores and KEV listings as
//! imported, the runtime context of an artifact, and each finding's
//! priority, due date and factors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::sql::{CHUNK, Sql, Val, batched_values};
use crate::{Store, StoreError};

/// One EPSS score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpssRow {
    /// The CVE.
    pub cve: String,
    /// Probability of exploitation in the next 30 days.
    pub score: f64,
    /// Percentile.
    pub percentile: f64,
}

/// One KEV listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevRow {
    /// The CVE.
    pub cve: String,
    /// When CISA added it (YYYY-MM-DD).
    pub date_added: String,
    /// CISA's due date (YYYY-MM-DD).
    pub due_date: Option<String>,
    /// Known ransomware use.
    pub ransomware: bool,
    /// The vulnerability's name.
    pub name: String,
}

/// Where an artifact runs now, as far as prioritisation cares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactContext {
    /// Runs anywhere at all.
    pub deployed: bool,
    /// Runs in a production environment.
    pub production: bool,
    /// Runs in an internet-facing workload.
    pub internet_facing: bool,
}

/// A finding's computed priority.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorityFields {
    /// Sort rank (higher is more urgent).
    pub rank: i64,
    /// `P1` to `P4`.
    pub priority: String,
    /// Due, ms.
    pub due_at: Option<i64>,
    /// The factors, JSON.
    pub factors: serde_json::Value,
}

/// A finding's computed priority, to store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorityUpdate {
    /// The finding.
    pub finding_id: String,
    /// Its priority.
    #[serde(flatten)]
    pub fields: PriorityFields,
}

impl Store {
    /// Replaces the EPSS scores with a new day's file.
    pub async fn replace_epss(
        &self,
        rows: &[EpssRow],
        score_date: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM epss_scores")
            .execute(&mut *tx)
            .await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO epss_scores (cve, score, percentile, score_date) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (cve) DO UPDATE SET score = $2, percentile = $3, score_date = $4",
            )
            .bind(&r.cve)
            .bind(r.score)
            .bind(r.percentile)
            .bind(score_date)
            .execute(&mut *tx)
            .await?;
        }
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replaces the KEV catalogue.
    pub async fn replace_kev(&self, rows: &[KevRow]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM kev_entries")
            .execute(&mut *tx)
            .await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO kev_entries (cve, date_added, due_date, ransomware, name) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (cve) DO UPDATE SET date_added = $2, due_date = $3, ransomware = $4, name = $5",
            )
            .bind(&r.cve)
            .bind(&r.date_added)
            .bind(r.due_date.as_deref())
            .bind(i64::from(r.ransomware))
            .bind(&r.name)
            .execute(&mut *tx)
            .await?;
        }
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        Ok(())
    }

    /// EPSS scores of the given ids that have one.
    pub async fn epss_for(&self, ids: &[String]) -> Result<BTreeMap<String, EpssRow>, StoreError> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(CHUNK) {
            let mut q = Sql::new("SELECT cve, score, percentile FROM epss_scores WHERE cve IN ");
            let list = q.in_list(chunk.iter().cloned());
            q.push(&list);
            for r in q.fetch_all(self.pool()).await? {
                let row = EpssRow {
                    cve: r.try_get("cve")?,
                    score: r.try_get("score")?,
                    percentile: r.try_get("percentile")?,
                };
                out.insert(row.cve.clone(), row);
            }
        }
        Ok(out)
    }

    /// KEV listings of the given ids that are listed.
    pub async fn kev_for(&self, ids: &[String]) -> Result<BTreeMap<String, KevRow>, StoreError> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(CHUNK) {
            let mut q = Sql::new(
                "SELECT cve, date_added, due_date, ransomware, name FROM kev_entries WHERE cve IN ",
            );
            let list = q.in_list(chunk.iter().cloned());
            q.push(&list);
            for r in q.fetch_all(self.pool()).await? {
                let row = KevRow {
                    cve: r.try_get("cve")?,
                    date_added: r.try_get("date_added")?,
                    due_date: r.try_get("due_date")?,
                    ransomware: r.try_get::<i64, _>("ransomware")? != 0,
                    name: r.try_get("name")?,
                };
                out.insert(row.cve.clone(), row);
            }
        }
        Ok(out)
    }

    /// How many EPSS scores and KEV listings are stored.
    pub async fn feed_counts(&self) -> Result<(i64, i64), StoreError> {
        let e = sqlx::query("SELECT COUNT(*) AS n FROM epss_scores")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        let k = sqlx::query("SELECT COUNT(*) AS n FROM kev_entries")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        Ok((e, k))
    }

    /// Where an artifact runs now.
    pub async fn artifact_context(&self, digest: &str) -> Result<ArtifactContext, StoreError> {
        Ok(self
            .artifact_contexts(&[digest.to_owned()])
            .await?
            .remove(digest)
            .unwrap_or_default())
    }

    /// Where each of `digests` runs now; artifacts that run nowhere are
    /// absent.
    pub async fn artifact_contexts(
        &self,
        digests: &[String],
    ) -> Result<BTreeMap<String, ArtifactContext>, StoreError> {
        let mut out = BTreeMap::new();
        for chunk in digests.chunks(CHUNK) {
            let mut q = Sql::new(
                "SELECT d.artifact_digest AS digest, COUNT(*) AS n, MAX(e.production) AS prod,
                 MAX(w.internet_facing) AS net
                 FROM deployments d JOIN workloads w ON w.id = d.workload_id
                 JOIN environments e ON e.id = w.environment_id
                 WHERE d.ended_at IS NULL AND d.artifact_digest IN ",
            );
            let list = q.in_list(chunk.iter().cloned());
            q.push(&list).push(" GROUP BY d.artifact_digest");
            for r in q.fetch_all(self.pool()).await? {
                out.insert(
                    r.try_get::<String, _>("digest")?,
                    ArtifactContext {
                        deployed: r.try_get::<i64, _>("n")? > 0,
                        production: r.try_get::<Option<i64>, _>("prod")?.unwrap_or(0) != 0,
                        internet_facing: r.try_get::<Option<i64>, _>("net")?.unwrap_or(0) != 0,
                    },
                );
            }
        }
        Ok(out)
    }

    /// Stores computed priorities, in one transaction.
    pub async fn set_priorities(&self, updates: &[PriorityUpdate]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        // A multi-row update: the new values as a table joined by id
        // (`UPDATE ... FROM`, which SQLite and PostgreSQL both have).
        let rows: Vec<Vec<Val>> = updates
            .iter()
            .map(|u| {
                vec![
                    Val::from(u.finding_id.as_str()),
                    Val::from(u.fields.rank),
                    Val::from(u.fields.priority.as_str()),
                    Val::from(u.fields.due_at),
                    Val::from(u.fields.factors.to_string()),
                ]
            })
            .collect();
        batched_values(
            &mut tx,
            "WITH v (id, rank, priority, due_at, factors) AS (",
            ") UPDATE findings SET rank = v.rank, priority = v.priority, due_at = v.due_at,
               factors = v.factors FROM v WHERE findings.id = v.id",
            rows,
        )
        .await?;
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every artifact that has findings.
    pub async fn artifacts_with_findings(&self) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT DISTINCT artifact_digest FROM findings ORDER BY artifact_digest")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("artifact_digest"))
            .collect::<Result<_, _>>()?)
    }
}
