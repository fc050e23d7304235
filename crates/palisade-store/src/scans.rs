//! Results of other scanners, stored per artifact and tool.
//!
//! Component findings (a vulnerability in a package) join the `findings`
//! table, so that the same vulnerability reported by Palisade's matcher and
//! by Trivy is one finding listing both sources. Everything else (code,
//! dynamic, runtime, misconfiguration, secret) goes to `scan_findings`, keyed
//! by a stable fingerprint. In both, a newer scan of the artifact by the same
//! tool that no longer reports something withdraws that tool's claim; a
//! finding no source reports any more is resolved, with the reason.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::findings::{NewFinding, insert_event, notify};
use crate::{Store, StoreError, new_id, now_ms};

/// A non-component finding to store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanFindingRow {
    /// `code`, `dast`, `runtime`, `misconfiguration`, `secret`, `license`...
    pub kind: String,
    /// Stable fingerprint (within the tool).
    pub fingerprint: String,
    /// The rule or advisory id.
    pub rule_id: String,
    /// Other ids.
    pub aliases: Vec<String>,
    /// Title.
    pub title: String,
    /// Severity word.
    pub severity: String,
    /// Score.
    pub score: Option<f64>,
    /// Where (JSON).
    pub location: serde_json::Value,
    /// Where, for people.
    pub location_text: String,
}

/// A stored non-component finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanFinding {
    /// Id.
    pub id: String,
    /// The artifact.
    pub artifact_digest: String,
    /// The tool.
    pub tool: String,
    /// The finding.
    #[serde(flatten)]
    pub row: ScanFindingRow,
    /// `open` or `resolved`.
    pub state: String,
    /// First seen, ms.
    pub first_seen: i64,
    /// Last reported, ms.
    pub last_seen: i64,
    /// Why it was resolved.
    pub resolution: Option<String>,
}

/// What a scan upload changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanOutcome {
    /// Component findings new to the store.
    pub new_findings: u64,
    /// Component findings already known (this tool added as a source).
    pub confirmed_findings: u64,
    /// Component findings this tool no longer reports and nobody else does.
    pub resolved_findings: u64,
    /// Other findings new.
    pub new_scan_findings: u64,
    /// Other findings reported again.
    pub seen_scan_findings: u64,
    /// Other findings resolved.
    pub resolved_scan_findings: u64,
}

fn scan_from(r: &AnyRow) -> Result<ScanFinding, StoreError> {
    let aliases: String = r.try_get("aliases")?;
    let location: String = r.try_get("location")?;
    Ok(ScanFinding {
        id: r.try_get("id")?,
        artifact_digest: r.try_get("artifact_digest")?,
        tool: r.try_get("tool")?,
        row: ScanFindingRow {
            kind: r.try_get("kind")?,
            fingerprint: r.try_get("fingerprint")?,
            rule_id: r.try_get("rule_id")?,
            aliases: serde_json::from_str(&aliases).map_err(|source| StoreError::Json {
                what: "scan_findings.aliases",
                source,
            })?,
            title: r.try_get("title")?,
            severity: r.try_get("severity")?,
            score: r.try_get("score")?,
            location: serde_json::from_str(&location).map_err(|source| StoreError::Json {
                what: "scan_findings.location",
                source,
            })?,
            location_text: r.try_get("location_text")?,
        },
        state: r.try_get("state")?,
        first_seen: r.try_get("first_seen")?,
        last_seen: r.try_get("last_seen")?,
        resolution: r.try_get("resolution")?,
    })
}

impl Store {
    /// Stores one scan of `artifact` by `tool`, in one transaction (see the
    /// module documentation).
    #[allow(clippy::too_many_arguments)]
    pub async fn apply_scan(
        &self,
        artifact: &str,
        artifact_name: &str,
        team_id: Option<&str>,
        tool: &str,
        components: &[NewFinding],
        others: &[ScanFindingRow],
        actor: &str,
    ) -> Result<ScanOutcome, StoreError> {
        let now = now_ms();
        let reason = format!("no longer reported by {tool} scan at {now}");
        let mut out = ScanOutcome::default();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO artifacts (digest, name, team_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(artifact)
        .bind(artifact_name)
        .bind(team_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;

        // Component findings: merge by component and any id or alias.
        let rows = sqlx::query(
            "SELECT f.id, f.component_key, f.advisory_id, f.aliases, f.sources, f.state FROM findings f WHERE f.artifact_digest = $1",
        )
        .bind(artifact)
        .fetch_all(&mut *tx)
        .await?;
        struct Stored {
            id: String,
            component_key: String,
            ids: BTreeSet<String>,
            sources: Vec<String>,
            state: String,
        }
        let mut stored = Vec::new();
        for r in &rows {
            let aliases: String = r.try_get("aliases")?;
            let sources: String = r.try_get("sources")?;
            let mut ids: BTreeSet<String> = serde_json::from_str::<Vec<String>>(&aliases)
                .unwrap_or_default()
                .into_iter()
                .collect();
            ids.insert(r.try_get("advisory_id")?);
            stored.push(Stored {
                id: r.try_get("id")?,
                component_key: r.try_get("component_key")?,
                ids,
                sources: serde_json::from_str(&sources).unwrap_or_default(),
                state: r.try_get("state")?,
            });
        }
        let mut reported: BTreeSet<String> = BTreeSet::new();
        for nf in components {
            let mut ids: BTreeSet<String> = nf.aliases.iter().cloned().collect();
            ids.insert(nf.advisory_id.clone());
            match stored
                .iter_mut()
                .find(|s| s.component_key == nf.component_key && !s.ids.is_disjoint(&ids))
            {
                Some(s) => {
                    reported.insert(s.id.clone());
                    let mut sources: BTreeSet<String> = s.sources.iter().cloned().collect();
                    let added = sources.insert(tool.to_owned());
                    let merged: BTreeSet<String> = s.ids.union(&ids).cloned().collect();
                    for id in merged.difference(&s.ids) {
                        sqlx::query(
                            "INSERT INTO finding_ids (finding_id, vuln_id) VALUES ($1, $2)",
                        )
                        .bind(&s.id)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let reopen = s.state == "resolved";
                    if added || reopen || merged != s.ids {
                        let sources: Vec<String> = sources.into_iter().collect();
                        sqlx::query(
                            "UPDATE findings SET sources = $2, updated_at = $3,
                             state = CASE WHEN state = 'resolved' THEN 'open' ELSE state END,
                             resolved_at = NULL, resolution = NULL WHERE id = $1",
                        )
                        .bind(&s.id)
                        .bind(serde_json::to_string(&sources).unwrap_or_else(|_| "[]".into()))
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        s.sources = sources;
                        s.ids = merged;
                    }
                    out.confirmed_findings += 1;
                }
                None => {
                    let id = new_id();
                    let n = sqlx::query(
                        "INSERT INTO findings (id, artifact_digest, component_key, component_name, component_version, purl,
                            package_key, advisory_id, aliases, summary, severity, score, fix_version, fixed_versions,
                            sources, state, first_seen, updated_at, rank, vector)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CAST($12 AS DOUBLE PRECISION), $13, $14, $15, 'open', $16, $16, $17, $18)
                         ON CONFLICT (artifact_digest, component_key, advisory_id) DO NOTHING",
                    )
                    .bind(&id)
                    .bind(artifact)
                    .bind(&nf.component_key)
                    .bind(&nf.component_name)
                    .bind(nf.component_version.as_deref())
                    .bind(nf.purl.as_deref())
                    .bind(nf.package_key.as_deref())
                    .bind(&nf.advisory_id)
                    .bind(serde_json::to_string(&nf.aliases).unwrap_or_else(|_| "[]".into()))
                    .bind(&nf.summary)
                    .bind(&nf.severity)
                    .bind(crate::sql::real(nf.score))
                    .bind(nf.fix_version.as_deref())
                    .bind(serde_json::to_string(&nf.fixed_versions).unwrap_or_else(|_| "[]".into()))
                    .bind(serde_json::to_string(&[tool]).unwrap_or_else(|_| "[]".into()))
                    .bind(now)
                    .bind(nf.rank)
                    .bind(nf.vector.as_deref())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        continue;
                    }
                    for vid in &ids {
                        sqlx::query(
                            "INSERT INTO finding_ids (finding_id, vuln_id) VALUES ($1, $2)",
                        )
                        .bind(&id)
                        .bind(vid)
                        .execute(&mut *tx)
                        .await?;
                    }
                    insert_event(
                        &mut tx,
                        &id,
                        now,
                        actor,
                        "detected",
                        None,
                        Some("open"),
                        None,
                        Some(&format!("reported by {tool}")),
                    )
                    .await?;
                    notify(&mut tx, "finding.new", &id, serde_json::json!({"artifact": artifact, "advisory": nf.advisory_id, "component": nf.component_key, "severity": nf.severity, "tool": tool})).await?;
                    reported.insert(id.clone());
                    stored.push(Stored {
                        id,
                        component_key: nf.component_key.clone(),
                        ids,
                        sources: vec![tool.to_owned()],
                        state: "open".to_owned(),
                    });
                    out.new_findings += 1;
                }
            }
        }
        for s in &stored {
            if reported.contains(&s.id) || !s.sources.iter().any(|t| t == tool) {
                continue;
            }
            let sources: Vec<String> = s.sources.iter().filter(|t| *t != tool).cloned().collect();
            let resolve = sources.is_empty() && s.state != "resolved";
            sqlx::query(
                "UPDATE findings SET sources = $2, updated_at = $3,
                 state = CASE WHEN $4 = 1 THEN 'resolved' ELSE state END,
                 resolved_at = CASE WHEN $4 = 1 THEN $3 ELSE resolved_at END,
                 resolution = CASE WHEN $4 = 1 THEN $5 ELSE resolution END WHERE id = $1",
            )
            .bind(&s.id)
            .bind(serde_json::to_string(&sources).unwrap_or_else(|_| "[]".into()))
            .bind(now)
            .bind(i64::from(resolve))
            .bind(&reason)
            .execute(&mut *tx)
            .await?;
            if resolve {
                insert_event(
                    &mut tx,
                    &s.id,
                    now,
                    actor,
                    "resolved",
                    Some(&s.state),
                    Some("resolved"),
                    None,
                    Some(&reason),
                )
                .await?;
                notify(
                    &mut tx,
                    "finding.resolved",
                    &s.id,
                    serde_json::json!({"artifact": artifact, "reason": reason}),
                )
                .await?;
                out.resolved_findings += 1;
            }
        }

        // Other findings: by fingerprint within the tool.
        let existing: BTreeMap<String, (String, String)> = sqlx::query(
            "SELECT id, fingerprint, state FROM scan_findings WHERE artifact_digest = $1 AND tool = $2",
        )
        .bind(artifact)
        .bind(tool)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("fingerprint")?, (r.try_get("id")?, r.try_get("state")?))))
        .collect::<Result<_, sqlx::Error>>()?;
        let mut seen = BTreeSet::new();
        for f in others {
            if !seen.insert(f.fingerprint.clone()) {
                continue;
            }
            match existing.get(&f.fingerprint) {
                Some((id, _)) => {
                    sqlx::query(
                        "UPDATE scan_findings SET last_seen = $2, state = 'open', resolved_at = NULL, resolution = NULL,
                         title = $3, severity = $4, score = CAST($5 AS DOUBLE PRECISION), location = $6, location_text = $7 WHERE id = $1",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(&f.title)
                    .bind(&f.severity)
                    .bind(crate::sql::real(f.score))
                    .bind(f.location.to_string())
                    .bind(&f.location_text)
                    .execute(&mut *tx)
                    .await?;
                    out.seen_scan_findings += 1;
                }
                None => {
                    sqlx::query(
                        "INSERT INTO scan_findings (id, artifact_digest, tool, kind, fingerprint, rule_id, aliases, title,
                            severity, score, location, location_text, state, first_seen, last_seen)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CAST($10 AS DOUBLE PRECISION), $11, $12, 'open', $13, $13)",
                    )
                    .bind(new_id())
                    .bind(artifact)
                    .bind(tool)
                    .bind(&f.kind)
                    .bind(&f.fingerprint)
                    .bind(&f.rule_id)
                    .bind(serde_json::to_string(&f.aliases).unwrap_or_else(|_| "[]".into()))
                    .bind(&f.title)
                    .bind(&f.severity)
                    .bind(crate::sql::real(f.score))
                    .bind(f.location.to_string())
                    .bind(&f.location_text)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    out.new_scan_findings += 1;
                }
            }
        }
        for (fp, (id, state)) in &existing {
            if seen.contains(fp) || state == "resolved" {
                continue;
            }
            sqlx::query(
                "UPDATE scan_findings SET state = 'resolved', resolved_at = $2, resolution = $3 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .bind(&reason)
            .execute(&mut *tx)
            .await?;
            out.resolved_scan_findings += 1;
        }
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The non-component findings of an artifact, open ones first.
    pub async fn scan_findings_of(&self, artifact: &str) -> Result<Vec<ScanFinding>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, artifact_digest, tool, kind, fingerprint, rule_id, aliases, title, severity, score, location,
                location_text, state, first_seen, last_seen, resolution
             FROM scan_findings WHERE artifact_digest = $1 ORDER BY state DESC, score DESC, id",
        )
        .bind(artifact)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(scan_from).collect()
    }
}
