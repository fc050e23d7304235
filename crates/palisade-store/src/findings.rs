//! SBOMs, their components, findings, triage and the blast radius.
//!
//! The store does not match: the caller matches components against
//! advisories and hands over the findings of a *scope* (an artifact and a
//! set of its components). [`Store::reconcile_artifacts`] then makes the
//! stored findings of that scope equal to the given ones: new findings are
//! inserted, known ones updated (a finding is known when it shares a
//! component and any id or alias with a stored one, so that a CVE record
//! arriving after its GHSA twin does not duplicate it), and stored ones that
//! are no longer reported are resolved with the reason. Every change is an
//! `events` row for notifications and a `finding_events` row for the
//! history, except a detection: the finding's own `detected_by` and
//! `first_seen` are its detection event (one row less per new finding, which
//! is most of what re-analysis after an advisory writes).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::model::{Page, Scope};
use crate::sql::{CHUNK, Sql, Val, batched_values};
use crate::{Store, StoreError, new_id, now_ms};

/// Triage states a person may set.
pub const TRIAGE_STATES: &[&str] = &[
    "open",
    "in_triage",
    "affected",
    "not_affected",
    "false_positive",
];

/// Justifications for `not_affected`, as in VEX (CISA's minimum
/// requirements; OpenVEX and CycloneDX map to them).
pub const JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// States in which a finding still needs attention.
pub const ACTIONABLE_STATES: &[&str] = &["open", "in_triage", "affected"];

/// A component of an SBOM, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentRow {
    /// The purl, or `name@version`: unique within an artifact.
    pub component_key: String,
    /// The SBOM's reference for it.
    pub bom_ref: String,
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// `<ecosystem>/<normalised name>`, when it can be matched.
    pub package_key: Option<String>,
    /// The distribution release, for OS packages.
    pub release: Option<String>,
    /// The version matched (the source package's for Debian and Alpine).
    pub match_version: Option<String>,
    /// Licence expression.
    pub license: Option<String>,
}

/// A finding to store, as matched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewFinding {
    /// The component's key.
    pub component_key: String,
    /// The component's name.
    pub component_name: String,
    /// The component's version.
    pub component_version: Option<String>,
    /// The component's purl.
    pub purl: Option<String>,
    /// The component's package key.
    pub package_key: Option<String>,
    /// The primary advisory id.
    pub advisory_id: String,
    /// Every other id and alias.
    pub aliases: Vec<String>,
    /// Summary.
    pub summary: String,
    /// `critical`, `high`, `medium`, `low`, `none` or `unknown`.
    pub severity: String,
    /// The numeric score, when known.
    pub score: Option<f64>,
    /// The smallest fixing version.
    pub fix_version: Option<String>,
    /// Every fixed version.
    pub fixed_versions: Vec<String>,
    /// Who reported it (`palisade`, `trivy`...).
    pub sources: Vec<String>,
    /// Sort rank: higher is more urgent.
    pub rank: i64,
    /// The CVSS vector the severity comes from, when there is one.
    #[serde(default)]
    pub vector: Option<String>,
}

/// One artifact's part of a reconciliation: the components whose findings
/// are decided again, and what matching finds for them now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArtifactFindings {
    /// The artifact's digest.
    pub artifact: String,
    /// The components (keys) in scope.
    pub component_keys: BTreeSet<String>,
    /// Their findings as matched now.
    pub findings: Vec<NewFinding>,
}

/// Which stored findings of the components in scope a reconciliation
/// decides again.
#[derive(Clone, Copy, Debug)]
pub enum Reach<'a> {
    /// All of them: the findings given are everything matched for the
    /// components (an SBOM upload, a full re-match).
    All,
    /// Those known by one of these ids: after advisories changed, their ids
    /// closed under aliasing (every advisory and stored finding sharing an
    /// id with the set has all its ids in it), and the findings given are
    /// the matches of exactly the advisories known by one of them. Nothing
    /// outside the set can have changed.
    Ids(&'a BTreeSet<String>),
}

/// Computes the priority of a finding about to be stored: the artifact, the
/// finding and when it was first seen (ms). The store knows nothing of the
/// priority model; the caller does.
pub type Prioritiser<'a> =
    &'a (dyn Fn(&str, &NewFinding, i64) -> Option<crate::risk::PriorityFields> + Send + Sync);

/// At most this many findings (given plus one per artifact) go into one
/// transaction of [`Store::reconcile_artifacts`].
const RECONCILE_BATCH: usize = 5_000;

/// A stored finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Id.
    pub id: String,
    /// The artifact's digest.
    pub artifact_digest: String,
    /// The component's key.
    pub component_key: String,
    /// The component's name.
    pub component_name: String,
    /// The component's version.
    pub component_version: Option<String>,
    /// The component's purl.
    pub purl: Option<String>,
    /// The package key.
    pub package_key: Option<String>,
    /// The primary advisory id.
    pub advisory_id: String,
    /// Other ids and aliases.
    pub aliases: Vec<String>,
    /// Summary.
    pub summary: String,
    /// Severity.
    pub severity: String,
    /// Score.
    pub score: Option<f64>,
    /// The smallest fixing version.
    pub fix_version: Option<String>,
    /// Every fixed version.
    pub fixed_versions: Vec<String>,
    /// Reporting tools.
    pub sources: Vec<String>,
    /// Triage state.
    pub state: String,
    /// VEX justification, for `not_affected`.
    pub justification: Option<String>,
    /// First seen, ms.
    pub first_seen: i64,
    /// Last change, ms.
    pub updated_at: i64,
    /// When it was resolved, ms.
    pub resolved_at: Option<i64>,
    /// Why it was resolved.
    pub resolution: Option<String>,
    /// Sort rank.
    pub rank: i64,
    /// The CVSS vector.
    pub vector: Option<String>,
    /// `P1` to `P4` (empty until prioritised).
    pub priority: String,
    /// When the fix is due (ms), by the SLA of its priority.
    pub due_at: Option<i64>,
    /// Why it ranks where it does (JSON list of factors).
    pub factors: serde_json::Value,
}

/// One event in a finding's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEvent {
    /// Id.
    pub id: String,
    /// The finding.
    pub finding_id: String,
    /// When, ms.
    pub at: i64,
    /// Who (`token:ci`, `user:alice`, `palisade` for automatic changes).
    pub actor: String,
    /// `detected`, `changed`, `resolved`, `reopened` or `triaged`.
    pub kind: String,
    /// State before.
    pub from_state: Option<String>,
    /// State after.
    pub to_state: Option<String>,
    /// Justification.
    pub justification: Option<String>,
    /// Comment or reason.
    pub comment: Option<String>,
}

/// What a reconciliation changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingChanges {
    /// Ids of new findings.
    pub new: Vec<String>,
    /// Ids of findings whose details changed.
    pub changed: Vec<String>,
    /// Ids of findings resolved.
    pub resolved: Vec<String>,
    /// Ids of findings re-opened.
    pub reopened: Vec<String>,
    /// How many stayed as they were.
    pub unchanged: u64,
}

impl FindingChanges {
    fn absorb(&mut self, other: FindingChanges) {
        self.new.extend(other.new);
        self.changed.extend(other.changed);
        self.resolved.extend(other.resolved);
        self.reopened.extend(other.reopened);
        self.unchanged += other.unchanged;
    }
}

/// An SBOM to ingest with its components and their findings.
#[derive(Clone, Debug)]
pub struct SbomIngest {
    /// The artifact's digest.
    pub artifact_digest: String,
    /// The artifact's name.
    pub artifact_name: String,
    /// The team that owns the artifact, when the uploader is team-scoped.
    pub team_id: Option<String>,
    /// The SBOM document's digest (re-uploading the same one is a no-op).
    pub document_digest: String,
    /// `CycloneDX 1.6`, `SPDX 2.3`...
    pub source_format: String,
    /// The normalised inventory, JSON.
    pub inventory: String,
    /// Its components.
    pub components: Vec<ComponentRow>,
    /// Their findings.
    pub findings: Vec<NewFinding>,
    /// Who uploads it.
    pub actor: String,
}

/// The result of an SBOM ingest.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbomOutcome {
    /// The SBOM's id.
    pub sbom_id: String,
    /// Whether this exact document was already stored for the artifact.
    pub duplicate: bool,
    /// Components stored.
    pub components: u64,
    /// Finding changes.
    pub findings: FindingChanges,
}

/// A stored SBOM.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbomInfo {
    /// Id.
    pub id: String,
    /// The artifact.
    pub artifact_digest: String,
    /// The document's digest.
    pub document_digest: String,
    /// Its format.
    pub source_format: String,
    /// How many components.
    pub component_count: i64,
    /// Uploaded by.
    pub uploaded_by: String,
    /// Uploaded at, ms.
    pub created_at: i64,
}

/// A stored component with its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredComponent {
    /// The artifact.
    pub artifact_digest: String,
    /// The component.
    #[serde(flatten)]
    pub component: ComponentRow,
}

/// Filters of a findings query; unset fields match anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFilter {
    /// Team name.
    pub team: Option<String>,
    /// Application name.
    pub application: Option<String>,
    /// Workload id.
    pub workload: Option<String>,
    /// Environment name.
    pub environment: Option<String>,
    /// An advisory id or alias.
    pub advisory: Option<String>,
    /// A package: its name, or a purl (without version) prefix.
    pub package: Option<String>,
    /// An artifact digest.
    pub artifact: Option<String>,
    /// States to include; empty means the actionable ones.
    pub states: Vec<String>,
}

/// A workload running something affected by an advisory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlastRadiusEntry {
    /// Team name.
    pub team: String,
    /// Application name.
    pub application: String,
    /// Environment name.
    pub environment: String,
    /// Whether the environment is production.
    pub production: bool,
    /// Workload id.
    pub workload_id: String,
    /// Namespace.
    pub namespace: String,
    /// Workload name.
    pub workload: String,
    /// Internet-facing.
    pub internet_facing: bool,
    /// The container.
    pub container: String,
    /// The artifact's digest.
    pub artifact_digest: String,
    /// The artifact's name.
    pub artifact_name: String,
    /// Running since, ms.
    pub since: i64,
    /// The finding.
    pub finding_id: String,
    /// The affected component.
    pub component_name: String,
    /// Its version.
    pub component_version: Option<String>,
    /// Its purl.
    pub purl: Option<String>,
    /// The version that fixes it.
    pub fix_version: Option<String>,
    /// The finding's triage state.
    pub state: String,
    /// The severity.
    pub severity: String,
}

const FINDING_COLUMNS: &str =
    "f.id, f.artifact_digest, f.component_key, f.component_name, f.component_version,
    f.purl, f.package_key, f.advisory_id, f.aliases, f.summary, f.severity, f.score, f.fix_version,
    f.fixed_versions, f.sources, f.state, f.justification, f.first_seen, f.updated_at,
    f.resolved_at, f.resolution, f.rank, f.vector, f.priority, f.due_at, f.factors";

fn json_list(r: &AnyRow, col: &'static str) -> Result<Vec<String>, StoreError> {
    let s: String = r.try_get(col)?;
    serde_json::from_str(&s).map_err(|source| StoreError::Json { what: col, source })
}

fn to_json(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

fn finding_from(r: &AnyRow) -> Result<Finding, StoreError> {
    Ok(Finding {
        id: r.try_get("id")?,
        artifact_digest: r.try_get("artifact_digest")?,
        component_key: r.try_get("component_key")?,
        component_name: r.try_get("component_name")?,
        component_version: r.try_get("component_version")?,
        purl: r.try_get("purl")?,
        package_key: r.try_get("package_key")?,
        advisory_id: r.try_get("advisory_id")?,
        aliases: json_list(r, "aliases")?,
        summary: r.try_get("summary")?,
        severity: r.try_get("severity")?,
        score: r.try_get("score")?,
        fix_version: r.try_get("fix_version")?,
        fixed_versions: json_list(r, "fixed_versions")?,
        sources: json_list(r, "sources")?,
        state: r.try_get("state")?,
        justification: r.try_get("justification")?,
        first_seen: r.try_get("first_seen")?,
        updated_at: r.try_get("updated_at")?,
        resolved_at: r.try_get("resolved_at")?,
        resolution: r.try_get("resolution")?,
        rank: r.try_get("rank")?,
        vector: r.try_get("vector")?,
        priority: r.try_get("priority")?,
        due_at: r.try_get("due_at")?,
        factors: {
            let text: String = r.try_get("factors")?;
            serde_json::from_str(&text).map_err(|source| StoreError::Json {
                what: "findings.factors",
                source,
            })?
        },
    })
}

fn event_from(r: &AnyRow) -> Result<FindingEvent, sqlx::Error> {
    Ok(FindingEvent {
        id: r.try_get("id")?,
        finding_id: r.try_get("finding_id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        kind: r.try_get("kind")?,
        from_state: r.try_get("from_state")?,
        to_state: r.try_get("to_state")?,
        justification: r.try_get("justification")?,
        comment: r.try_get("comment")?,
    })
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// The detection events of findings stored since migration 0004, as
/// `finding_events` rows (the finding's id serves as the event's), for
/// queries to extend with `AND ...` and union with that table.
pub(crate) const DETECTIONS: &str =
    "SELECT f.id AS id, f.id AS finding_id, f.first_seen AS at, f.detected_by AS actor,
        'detected' AS kind, NULL AS from_state, 'open' AS to_state, NULL AS justification,
        NULL AS comment
     FROM findings f WHERE f.detected_by IS NOT NULL";

/// The team-visibility clause for findings aliased `f`: the artifact belongs
/// to the team, or ran (or runs) in one of its workloads.
pub(crate) fn scope_clause(q: &mut Sql, scope: &Scope, digest_col: &str) {
    if let Scope::Team(team) = scope {
        let p = q.bind_text(team.clone());
        q.and(&format!(
            "({digest_col} IN (SELECT digest FROM artifacts WHERE team_id = {p})
              OR {digest_col} IN (SELECT d.artifact_digest FROM deployments d
                 JOIN workloads w ON w.id = d.workload_id
                 JOIN applications ap ON ap.id = w.application_id WHERE ap.team_id = {p}))"
        ));
    }
}

impl Store {
    /// Stores an SBOM, its components and their findings in one transaction:
    /// either all of it is stored or nothing is. Re-uploading a document
    /// already stored for the artifact changes nothing.
    pub async fn ingest_sbom(&self, ing: &SbomIngest) -> Result<SbomOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO artifacts (digest, name, team_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&ing.artifact_digest)
        .bind(&ing.artifact_name)
        .bind(ing.team_id.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(team) = &ing.team_id {
            sqlx::query("UPDATE artifacts SET team_id = $2 WHERE digest = $1 AND team_id IS NULL")
                .bind(&ing.artifact_digest)
                .bind(team)
                .execute(&mut *tx)
                .await?;
        }
        let existing =
            sqlx::query("SELECT id FROM sboms WHERE artifact_digest = $1 AND document_digest = $2")
                .bind(&ing.artifact_digest)
                .bind(&ing.document_digest)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            tx.commit().await?;
            return Ok(SbomOutcome {
                sbom_id: row.try_get("id")?,
                duplicate: true,
                ..SbomOutcome::default()
            });
        }
        let sbom_id = new_id();
        sqlx::query(
            "INSERT INTO sboms (id, artifact_digest, document_digest, source_format, inventory, component_count, uploaded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&sbom_id)
        .bind(&ing.artifact_digest)
        .bind(&ing.document_digest)
        .bind(&ing.source_format)
        .bind(&ing.inventory)
        .bind(i64::try_from(ing.components.len()).unwrap_or(i64::MAX))
        .bind(&ing.actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut seen = BTreeSet::new();
        let rows: Vec<Vec<Val>> = ing
            .components
            .iter()
            .filter(|c| seen.insert(c.component_key.as_str()))
            .map(|c| {
                vec![
                    Val::from(new_id()),
                    Val::from(sbom_id.as_str()),
                    Val::from(ing.artifact_digest.as_str()),
                    Val::from(c.component_key.as_str()),
                    Val::from(c.bom_ref.as_str()),
                    Val::from(c.name.as_str()),
                    Val::from(c.version.as_deref()),
                    Val::from(c.purl.as_deref()),
                    Val::from(c.package_key.as_deref()),
                    Val::from(c.release.as_deref()),
                    Val::from(c.match_version.as_deref()),
                    Val::from(c.license.as_deref()),
                ]
            })
            .collect();
        let stored = rows.len() as u64;
        batched_values(
            &mut tx,
            "INSERT INTO components (id, sbom_id, artifact_digest, component_key, bom_ref, name, version, purl, package_key, release, match_version, license)",
            "",
            rows,
        )
        .await?;
        let part = ArtifactFindings {
            artifact: ing.artifact_digest.clone(),
            component_keys: seen.into_iter().map(str::to_owned).collect(),
            findings: ing.findings.clone(),
        };
        let findings = reconcile(
            &mut tx,
            &[&part],
            None,
            &ing.actor,
            "no longer matched",
            None,
        )
        .await?;
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        Ok(SbomOutcome {
            sbom_id,
            duplicate: false,
            components: stored,
            findings,
        })
    }

    /// Reconciles many artifacts at once (re-analysis after advisories
    /// changed): the stored findings of each part that `reach` covers are
    /// made equal to the part's findings, in transactions of a few thousand
    /// findings, each written with a few multi-row statements. New and
    /// changed findings get their priority from `prioritise` when given.
    pub async fn reconcile_artifacts(
        &self,
        parts: &[ArtifactFindings],
        reach: Reach<'_>,
        actor: &str,
        reason: &str,
        prioritise: Option<Prioritiser<'_>>,
    ) -> Result<FindingChanges, StoreError> {
        let mut changes = FindingChanges::default();
        // After advisories changed, the stored findings known by their ids
        // are read once, before anything is written: read per batch, the
        // ids also found the findings this re-analysis had just stored, and
        // the reads grew with every batch. The batches cover distinct
        // artifacts, so none changes what another knows; a concurrent
        // upload's finding is still caught by the unique key on insert.
        let preloaded = match reach {
            Reach::Ids(ids) => {
                let artifacts: BTreeSet<&str> = parts.iter().map(|p| p.artifact.as_str()).collect();
                Some(known_by_ids(&self.pool, ids, &artifacts).await?)
            }
            Reach::All => None,
        };
        let mut batch: Vec<&ArtifactFindings> = Vec::new();
        let mut size = 0usize;
        let mut rest = parts.iter().peekable();
        while let Some(part) = rest.next() {
            size += part.findings.len() + 1;
            batch.push(part);
            if size < RECONCILE_BATCH && rest.peek().is_some() {
                continue;
            }
            let mut tx = self.begin_write().await?;
            let c = reconcile(
                &mut tx,
                &batch,
                preloaded.as_ref(),
                actor,
                reason,
                prioritise,
            )
            .await?;
            crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
            tx.commit().await?;
            changes.absorb(c);
            batch.clear();
            size = 0;
        }
        Ok(changes)
    }

    /// Every id (advisory id or alias) of the stored findings known by one
    /// of `ids`: one step of closing a set of ids under aliasing.
    pub async fn ids_of_findings_named(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, StoreError> {
        let ids: Vec<&String> = ids.iter().collect();
        let mut out = BTreeSet::new();
        for chunk in ids.chunks(CHUNK) {
            let mut q = Sql::new(
                "SELECT DISTINCT b.vuln_id AS id FROM finding_ids a
                 JOIN finding_ids b ON b.finding_id = a.finding_id WHERE a.vuln_id IN ",
            );
            let list = q.in_list(chunk.iter().map(|i| (*i).clone()));
            q.push(&list);
            for r in q.fetch_all(self.pool()).await? {
                out.insert(r.try_get::<String, _>("id")?);
            }
        }
        Ok(out)
    }

    /// Every stored component under one of `package_keys`, with its artifact.
    pub async fn components_with_keys(
        &self,
        package_keys: &[String],
    ) -> Result<Vec<StoredComponent>, StoreError> {
        let mut out = Vec::new();
        for chunk in package_keys.chunks(CHUNK) {
            let mut q = Sql::new(
                "SELECT artifact_digest, component_key, bom_ref, name, version, purl, package_key, release, match_version, license
                 FROM components WHERE package_key IN ",
            );
            let list = q.in_list(chunk.iter().cloned());
            q.push(&list)
                .push(" ORDER BY artifact_digest, component_key");
            for r in q.fetch_all(self.pool()).await? {
                out.push(stored_component_from(&r)?);
            }
        }
        // One component may be listed by several SBOMs of the artifact.
        out.dedup_by(|a, b| {
            a.artifact_digest == b.artifact_digest
                && a.component.component_key == b.component.component_key
        });
        Ok(out)
    }

    /// The components of an artifact (deduplicated across its SBOMs).
    pub async fn components_of(&self, artifact: &str) -> Result<Vec<StoredComponent>, StoreError> {
        let rows = sqlx::query(
            "SELECT artifact_digest, component_key, bom_ref, name, version, purl, package_key, release, match_version, license
             FROM components WHERE artifact_digest = $1 ORDER BY component_key",
        )
        .bind(artifact)
        .fetch_all(self.pool())
        .await?;
        let mut out = rows
            .iter()
            .map(stored_component_from)
            .collect::<Result<Vec<_>, _>>()?;
        out.dedup_by(|a, b| a.component.component_key == b.component.component_key);
        Ok(out)
    }

    /// The SBOMs stored for an artifact, newest first.
    pub async fn sboms_of(&self, artifact: &str) -> Result<Vec<SbomInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, artifact_digest, document_digest, source_format, component_count, uploaded_by, created_at
             FROM sboms WHERE artifact_digest = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(artifact)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SbomInfo {
                    id: r.try_get("id")?,
                    artifact_digest: r.try_get("artifact_digest")?,
                    document_digest: r.try_get("document_digest")?,
                    source_format: r.try_get("source_format")?,
                    component_count: r.try_get("component_count")?,
                    uploaded_by: r.try_get("uploaded_by")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The inventories (JSON) of an artifact's SBOMs, newest first.
    pub async fn inventories_of(&self, artifact: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT inventory FROM sboms WHERE artifact_digest = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(artifact)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("inventory"))
            .collect::<Result<_, _>>()?)
    }

    /// Findings visible in `scope` that pass `filter`, most urgent first
    /// (by rank, then id), a page after the cursor `after`.
    pub async fn list_findings(
        &self,
        scope: &Scope,
        filter: &FindingFilter,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<Finding>, StoreError> {
        let mut q = Sql::new(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings f WHERE 1 = 1"
        ));
        scope_clause(&mut q, scope, "f.artifact_digest");
        let states: Vec<String> = if filter.states.is_empty() {
            ACTIONABLE_STATES.iter().map(|s| (*s).to_owned()).collect()
        } else if filter.states.iter().any(|s| s == "all") {
            Vec::new()
        } else {
            filter.states.clone()
        };
        if !states.is_empty() {
            let list = q.in_list(states);
            q.and(&format!("f.state IN {list}"));
        }
        if let Some(a) = &filter.artifact {
            let p = q.bind_text(a.clone());
            q.and(&format!("f.artifact_digest = {p}"));
        }
        if let Some(v) = &filter.advisory {
            let p = q.bind_text(v.clone());
            q.and(&format!(
                "f.id IN (SELECT finding_id FROM finding_ids WHERE vuln_id = {p})"
            ));
        }
        if let Some(pkg) = &filter.package {
            let p = q.bind_text(pkg.clone());
            let prefix = q.bind_text(format!("{pkg}@%"));
            q.and(&format!(
                "(f.component_name = {p} OR f.purl = {p} OR f.purl LIKE {prefix})"
            ));
        }
        if filter.team.is_some()
            || filter.application.is_some()
            || filter.workload.is_some()
            || filter.environment.is_some()
        {
            let mut sub = String::from(
                "f.artifact_digest IN (SELECT d.artifact_digest FROM deployments d
                 JOIN workloads w ON w.id = d.workload_id
                 JOIN environments e ON e.id = w.environment_id
                 JOIN applications ap ON ap.id = w.application_id
                 JOIN teams t ON t.id = ap.team_id WHERE d.ended_at IS NULL",
            );
            if let Some(t) = &filter.team {
                let p = q.bind_text(t.clone());
                sub.push_str(&format!(" AND t.name = {p}"));
            }
            if let Some(a) = &filter.application {
                let p = q.bind_text(a.clone());
                sub.push_str(&format!(" AND ap.name = {p}"));
            }
            if let Some(w) = &filter.workload {
                let p = q.bind_text(w.clone());
                sub.push_str(&format!(" AND w.id = {p}"));
            }
            if let Some(e) = &filter.environment {
                let p = q.bind_text(e.clone());
                sub.push_str(&format!(" AND e.name = {p}"));
            }
            sub.push(')');
            q.and(&sub);
        }
        if let Some(cursor) = after {
            let (rank, id) = parse_cursor(cursor)?;
            let r1 = q.bind_int(rank);
            let r2 = q.bind_int(rank);
            let i = q.bind_text(id);
            q.and(&format!(
                "(f.rank < {r1} OR (f.rank = {r2} AND f.id > {i}))"
            ));
        }
        let l = q.bind_int(limit + 1);
        q.push(&format!(" ORDER BY f.rank DESC, f.id ASC LIMIT {l}"));
        let rows = q.fetch_all(self.pool()).await?;
        let mut items = rows
            .iter()
            .map(finding_from)
            .collect::<Result<Vec<_>, _>>()?;
        let limit_usize = usize::try_from(limit).unwrap_or(50);
        let next = if items.len() > limit_usize {
            items.truncate(limit_usize);
            items.last().map(|f| format!("{}:{}", f.rank, f.id))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// One finding, if `scope` may see it.
    pub async fn finding(&self, scope: &Scope, id: &str) -> Result<Option<Finding>, StoreError> {
        let mut q = Sql::new(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings f WHERE 1 = 1"
        ));
        let p = q.bind_text(id);
        q.and(&format!("f.id = {p}"));
        scope_clause(&mut q, scope, "f.artifact_digest");
        let rows = q.fetch_all(self.pool()).await?;
        rows.first().map(finding_from).transpose()
    }

    /// A finding's history, oldest first.
    pub async fn finding_history(&self, id: &str) -> Result<Vec<FindingEvent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, finding_id, at, actor, kind, from_state, to_state, justification, comment
             FROM finding_events WHERE finding_id = $1
             UNION ALL {DETECTIONS} AND f.id = $1 ORDER BY at, id"
        )))
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(event_from).collect::<Result<_, _>>()?)
    }

    /// Sets a finding's triage state. `not_affected` needs a VEX
    /// justification; `resolved` is set only by re-analysis.
    pub async fn triage(
        &self,
        scope: &Scope,
        id: &str,
        state: &str,
        justification: Option<&str>,
        comment: Option<&str>,
        actor: &str,
    ) -> Result<Finding, StoreError> {
        if !TRIAGE_STATES.contains(&state) {
            return Err(StoreError::Invalid(format!(
                "state {state:?} is not one of {}",
                TRIAGE_STATES.join(", ")
            )));
        }
        if let Some(j) = justification
            && !JUSTIFICATIONS.contains(&j)
        {
            return Err(StoreError::Invalid(format!(
                "justification {j:?} is not one of {}",
                JUSTIFICATIONS.join(", ")
            )));
        }
        if state == "not_affected" && justification.is_none() {
            return Err(StoreError::Invalid(
                "state not_affected needs a justification (VEX)".to_owned(),
            ));
        }
        let current = self
            .finding(scope, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("finding {id}")))?;
        if current.state == "resolved" {
            return Err(StoreError::Conflict(format!(
                "finding {id} is resolved ({}); it re-opens by itself if it is matched again",
                current.resolution.as_deref().unwrap_or("no longer matched")
            )));
        }
        let now = now_ms();
        let justification = if state == "not_affected" {
            justification
        } else {
            None
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE findings SET state = $2, justification = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(justification)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_event(
            &mut tx,
            id,
            now,
            actor,
            "triaged",
            Some(&current.state),
            Some(state),
            justification,
            comment,
        )
        .await?;
        crate::bump_counter(&mut *tx, crate::EVIDENCE_GENERATION).await?;
        tx.commit().await?;
        self.finding(scope, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("finding {id}")))
    }

    /// Which workloads, in which environments, run something affected by the
    /// advisory `vuln_id` (any id or alias) right now.
    pub async fn blast_radius(
        &self,
        scope: &Scope,
        vuln_id: &str,
    ) -> Result<Vec<BlastRadiusEntry>, StoreError> {
        let mut q = Sql::new(
            "SELECT t.name AS team, ap.name AS application, e.name AS environment, e.production,
                w.id AS workload_id, w.namespace, w.name AS workload, w.internet_facing,
                d.container, d.artifact_digest, a.name AS artifact_name, d.started_at,
                f.id AS finding_id, f.component_name, f.component_version, f.purl, f.fix_version,
                f.state, f.severity
             FROM findings f
             JOIN deployments d ON d.artifact_digest = f.artifact_digest AND d.ended_at IS NULL
             JOIN artifacts a ON a.digest = d.artifact_digest
             JOIN workloads w ON w.id = d.workload_id
             JOIN environments e ON e.id = w.environment_id
             JOIN applications ap ON ap.id = w.application_id
             JOIN teams t ON t.id = ap.team_id
             WHERE f.state <> 'resolved'",
        );
        let p = q.bind_text(vuln_id);
        q.and(&format!(
            "f.id IN (SELECT finding_id FROM finding_ids WHERE vuln_id = {p})"
        ));
        if let Scope::Team(team) = scope {
            let p = q.bind_text(team.clone());
            q.and(&format!("t.id = {p}"));
        }
        q.push(" ORDER BY e.production DESC, e.name, t.name, w.namespace, w.name, d.container, f.component_name");
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(BlastRadiusEntry {
                    team: r.try_get("team")?,
                    application: r.try_get("application")?,
                    environment: r.try_get("environment")?,
                    production: r.try_get::<i64, _>("production")? != 0,
                    workload_id: r.try_get("workload_id")?,
                    namespace: r.try_get("namespace")?,
                    workload: r.try_get("workload")?,
                    internet_facing: r.try_get::<i64, _>("internet_facing")? != 0,
                    container: r.try_get("container")?,
                    artifact_digest: r.try_get("artifact_digest")?,
                    artifact_name: r.try_get("artifact_name")?,
                    since: r.try_get("started_at")?,
                    finding_id: r.try_get("finding_id")?,
                    component_name: r.try_get("component_name")?,
                    component_version: r.try_get("component_version")?,
                    purl: r.try_get("purl")?,
                    fix_version: r.try_get("fix_version")?,
                    state: r.try_get("state")?,
                    severity: r.try_get("severity")?,
                })
            })
            .collect()
    }

    /// Events for notifications after `after` (an event id), oldest first.
    pub async fn events_after(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(String, i64, String, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, kind, subject, payload FROM events WHERE ($1 IS NULL OR id > $1)
             ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("at")?,
                    r.try_get("kind")?,
                    r.try_get("subject")?,
                    r.try_get("payload")?,
                ))
            })
            .collect()
    }
}

fn parse_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    let (rank, id) = cursor
        .split_once(':')
        .ok_or_else(|| StoreError::Invalid(format!("cursor {cursor:?} is not <rank>:<id>")))?;
    let rank = rank
        .parse()
        .map_err(|_| StoreError::Invalid(format!("cursor {cursor:?} is not <rank>:<id>")))?;
    Ok((rank, id.to_owned()))
}

fn stored_component_from(r: &AnyRow) -> Result<StoredComponent, StoreError> {
    Ok(StoredComponent {
        artifact_digest: r.try_get("artifact_digest")?,
        component: ComponentRow {
            component_key: r.try_get("component_key")?,
            bom_ref: r.try_get("bom_ref")?,
            name: r.try_get("name")?,
            version: r.try_get("version")?,
            purl: r.try_get("purl")?,
            package_key: r.try_get("package_key")?,
            release: r.try_get("release")?,
            match_version: r.try_get("match_version")?,
            license: r.try_get("license")?,
        },
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_event(
    tx: &mut Tx<'_>,
    finding_id: &str,
    at: i64,
    actor: &str,
    kind: &str,
    from_state: Option<&str>,
    to_state: Option<&str>,
    justification: Option<&str>,
    comment: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO finding_events (id, finding_id, at, actor, kind, from_state, to_state, justification, comment)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(finding_id)
    .bind(at)
    .bind(actor)
    .bind(kind)
    .bind(from_state)
    .bind(to_state)
    .bind(justification)
    .bind(comment)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn notify(
    tx: &mut Tx<'_>,
    kind: &str,
    subject: &str,
    payload: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO events (id, at, kind, subject, payload) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(now_ms())
        .bind(kind)
        .bind(subject)
        .bind(payload.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A finding's advisory id and aliases, as one set.
fn all_ids(advisory_id: &str, aliases: &[String]) -> BTreeSet<String> {
    let mut ids: BTreeSet<String> = aliases.iter().cloned().collect();
    ids.insert(advisory_id.to_owned());
    ids
}

/// A stored finding as reconciliation sees it: the finding and every id it
/// is known by.
type Known = (Finding, BTreeSet<String>);

/// Stored findings by (artifact, component), each with every id it is
/// known by.
type KnownMap = BTreeMap<(String, String), Vec<Known>>;

/// Groups stored finding rows by artifact and component, once each.
fn group_known<'r>(rows: impl IntoIterator<Item = &'r AnyRow>) -> Result<KnownMap, StoreError> {
    let mut known: KnownMap = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for r in rows {
        let f = finding_from(r)?;
        if !seen.insert(f.id.clone()) {
            continue;
        }
        let ids = all_ids(&f.advisory_id, &f.aliases);
        known
            .entry((f.artifact_digest.clone(), f.component_key.clone()))
            .or_default()
            .push((f, ids));
    }
    Ok(known)
}

/// Loads every stored finding of `artifacts` (a reconciliation that decides
/// all of their findings again).
async fn load_known(tx: &mut Tx<'_>, artifacts: &[&str]) -> Result<KnownMap, StoreError> {
    let mut rows = Vec::new();
    for chunk in artifacts.chunks(CHUNK) {
        let mut q = Sql::new(&format!(
            "SELECT {FINDING_COLUMNS} FROM findings f WHERE f.artifact_digest IN "
        ));
        let list = q.in_list(chunk.iter().map(|a| (*a).to_owned()));
        q.push(&list);
        rows.extend(q.fetch_all_in(tx).await?);
    }
    group_known(&rows)
}

/// Loads the stored findings of `artifacts` known by one of `ids`: driven by
/// the ids (`CROSS JOIN` keeps SQLite's join order), since few findings carry
/// them while an artifact can hold hundreds.
async fn known_by_ids(
    pool: &sqlx::AnyPool,
    ids: &BTreeSet<String>,
    artifacts: &BTreeSet<&str>,
) -> Result<KnownMap, StoreError> {
    let ids: Vec<&String> = ids.iter().collect();
    let mut rows = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut q = Sql::new(&format!(
            "SELECT {FINDING_COLUMNS} FROM finding_ids i CROSS JOIN findings f
             WHERE f.id = i.finding_id AND i.vuln_id IN "
        ));
        let list = q.in_list(chunk.iter().map(|i| (*i).clone()));
        q.push(&list);
        rows.extend(q.fetch_all(pool).await?);
    }
    group_known(rows.iter().filter(|r| {
        r.try_get::<String, _>("artifact_digest")
            .is_ok_and(|a| artifacts.contains(a.as_str()))
    }))
}

/// What a reconciliation writes, planned before anything is written.
#[derive(Default)]
struct Plan<'a> {
    /// New findings: id, artifact, the finding, its ids, its priority.
    inserts: Vec<(String, &'a str, &'a NewFinding, BTreeSet<String>)>,
    /// Known findings that changed or are matched again.
    updates: Vec<Update<'a>>,
    /// Known findings no longer matched.
    resolves: Vec<&'a Finding>,
    unchanged: u64,
}

struct Update<'a> {
    artifact: &'a str,
    known: &'a Finding,
    new: &'a NewFinding,
    aliases: Vec<String>,
    sources: Vec<String>,
    added_ids: Vec<String>,
    reopen: bool,
}

/// Plans one artifact's reconciliation (see the module documentation):
/// pure, so that the rules are one piece of code whatever the batch size.
fn plan_artifact<'a>(
    plan: &mut Plan<'a>,
    part: &'a ArtifactFindings,
    known: &'a BTreeMap<(String, String), Vec<Known>>,
) {
    let artifact = part.artifact.as_str();
    let stored = |component: &str| known.get(&(artifact.to_owned(), component.to_owned()));
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    for nf in &part.findings {
        if !part.component_keys.contains(&nf.component_key) {
            continue;
        }
        let ids = all_ids(&nf.advisory_id, &nf.aliases);
        let found = stored(&nf.component_key).and_then(|list| {
            list.iter()
                .find(|(f, sids)| !kept.contains(f.id.as_str()) && !sids.is_disjoint(&ids))
        });
        let Some((f, sids)) = found else {
            plan.inserts.push((new_id(), artifact, nf, ids));
            continue;
        };
        kept.insert(f.id.as_str());
        let merged: BTreeSet<String> = sids.union(&ids).cloned().collect();
        let aliases: Vec<String> = merged
            .iter()
            .filter(|i| **i != f.advisory_id)
            .cloned()
            .collect();
        let mut sources: BTreeSet<String> = f.sources.iter().cloned().collect();
        sources.extend(nf.sources.iter().cloned());
        let sources: Vec<String> = sources.into_iter().collect();
        let changed = f.severity != nf.severity
            || f.fix_version != nf.fix_version
            || f.fixed_versions != nf.fixed_versions
            || f.aliases != aliases
            || f.summary != nf.summary
            || f.sources != sources
            || f.score != nf.score
            || f.vector != nf.vector;
        let reopen = f.state == "resolved";
        if !changed && !reopen {
            plan.unchanged += 1;
            continue;
        }
        plan.updates.push(Update {
            artifact,
            known: f,
            new: nf,
            aliases,
            sources,
            added_ids: merged.difference(sids).cloned().collect(),
            reopen,
        });
    }
    for key in &part.component_keys {
        for (f, _) in stored(key).into_iter().flatten() {
            if !kept.contains(f.id.as_str()) && f.state != "resolved" {
                plan.resolves.push(f);
            }
        }
    }
}

/// Reconciles `parts` inside `tx` (see the module documentation): plans
/// every artifact, then writes the plan with a few multi-row statements.
async fn reconcile(
    tx: &mut Tx<'_>,
    parts: &[&ArtifactFindings],
    preloaded: Option<&KnownMap>,
    actor: &str,
    reason: &str,
    prioritise: Option<Prioritiser<'_>>,
) -> Result<FindingChanges, StoreError> {
    let mut changes = FindingChanges::default();
    let now = now_ms();
    let loaded;
    let known = match preloaded {
        Some(known) => known,
        None => {
            let artifacts: Vec<&str> = parts.iter().map(|p| p.artifact.as_str()).collect();
            loaded = load_known(tx, &artifacts).await?;
            &loaded
        }
    };
    let mut plan = Plan::default();
    for part in parts {
        plan_artifact(&mut plan, part, known);
    }
    changes.unchanged = plan.unchanged;
    let priority = |artifact: &str, nf: &NewFinding, first_seen: i64| {
        prioritise.and_then(|p| p(artifact, nf, first_seen))
    };

    let mut ids_rows: Vec<Vec<Val>> = Vec::new();
    let mut event_rows: Vec<Vec<Val>> = Vec::new();
    let mut notify_rows: Vec<Vec<Val>> = Vec::new();
    let event = |finding: &str, kind: &str, from: Option<&str>, to: &str, comment: Option<&str>| {
        vec![
            Val::from(new_id()),
            Val::from(finding),
            Val::from(now),
            Val::from(actor),
            Val::from(kind),
            Val::from(from),
            Val::from(to),
            Val::Text(None),
            Val::from(comment),
        ]
    };
    let notice = |kind: &str, subject: &str, payload: serde_json::Value| {
        vec![
            Val::from(new_id()),
            Val::from(now),
            Val::from(kind),
            Val::from(subject),
            Val::from(payload.to_string()),
        ]
    };

    // New findings. `RETURNING` names the rows stored: a row a concurrent
    // writer stored first is not ours to announce.
    let insert_rows: Vec<Vec<Val>> = plan
        .inserts
        .iter()
        .map(|(id, artifact, nf, _)| {
            let p = priority(artifact, nf, now);
            vec![
                Val::from(id.as_str()),
                Val::from(*artifact),
                Val::from(nf.component_key.as_str()),
                Val::from(nf.component_name.as_str()),
                Val::from(nf.component_version.as_deref()),
                Val::from(nf.purl.as_deref()),
                Val::from(nf.package_key.as_deref()),
                Val::from(nf.advisory_id.as_str()),
                Val::from(to_json(&nf.aliases)),
                Val::from(nf.summary.as_str()),
                Val::from(nf.severity.as_str()),
                Val::Real(nf.score),
                Val::from(nf.fix_version.as_deref()),
                Val::from(to_json(&nf.fixed_versions)),
                Val::from(to_json(&nf.sources)),
                Val::from("open"),
                Val::from(now),
                Val::from(now),
                Val::from(p.as_ref().map_or(nf.rank, |p| p.rank)),
                Val::from(nf.vector.as_deref()),
                Val::from(p.as_ref().map_or("", |p| p.priority.as_str())),
                Val::from(p.as_ref().and_then(|p| p.due_at)),
                Val::from(
                    p.as_ref()
                        .map_or_else(|| "[]".to_owned(), |p| p.factors.to_string()),
                ),
                Val::from(actor),
            ]
        })
        .collect();
    let stored: BTreeSet<String> = batched_values(
        &mut *tx,
        "INSERT INTO findings (id, artifact_digest, component_key, component_name, component_version, purl,
            package_key, advisory_id, aliases, summary, severity, score, fix_version, fixed_versions,
            sources, state, first_seen, updated_at, rank, vector, priority, due_at, factors, detected_by)",
        "ON CONFLICT (artifact_digest, component_key, advisory_id) DO NOTHING RETURNING id",
        insert_rows,
    )
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>("id"))
    .collect::<Result<_, _>>()?;
    for (id, artifact, nf, ids) in &plan.inserts {
        if !stored.contains(id) {
            changes.unchanged += 1;
            continue;
        }
        for vid in ids {
            ids_rows.push(vec![Val::from(id.as_str()), Val::from(vid.as_str())]);
        }
        notify_rows.push(notice(
            "finding.new",
            id.as_str(),
            serde_json::json!({"artifact": artifact, "advisory": nf.advisory_id, "aliases": nf.aliases, "component": nf.component_key, "severity": nf.severity, "rank": nf.rank}),
        ));
        changes.new.push(id.clone());
    }

    // Known findings whose details changed, or matched again: rare, one
    // statement each.
    for u in &plan.updates {
        let (f, nf) = (u.known, u.new);
        let p = priority(u.artifact, nf, f.first_seen);
        sqlx::query(
            "UPDATE findings SET aliases = $2, summary = $3, severity = $4, score = CAST($5 AS DOUBLE PRECISION),
             fix_version = $6, fixed_versions = $7, sources = $8, rank = $9, updated_at = $10,
             state = CASE WHEN state = 'resolved' THEN 'open' ELSE state END,
             resolved_at = NULL, resolution = NULL,
             component_version = $11, purl = $12, vector = $13,
             priority = COALESCE($14, priority), due_at = CASE WHEN $15 = 1 THEN $16 ELSE due_at END,
             factors = COALESCE($17, factors)
             WHERE id = $1",
        )
        .bind(&f.id)
        .bind(to_json(&u.aliases))
        .bind(&nf.summary)
        .bind(&nf.severity)
        .bind(crate::sql::real(nf.score))
        .bind(nf.fix_version.as_deref())
        .bind(to_json(&nf.fixed_versions))
        .bind(to_json(&u.sources))
        .bind(p.as_ref().map_or(nf.rank, |p| p.rank))
        .bind(now)
        .bind(nf.component_version.as_deref())
        .bind(nf.purl.as_deref())
        .bind(nf.vector.as_deref())
        .bind(p.as_ref().map(|p| p.priority.clone()))
        .bind(i64::from(p.is_some()))
        .bind(p.as_ref().and_then(|p| p.due_at))
        .bind(p.as_ref().map(|p| p.factors.to_string()))
        .execute(&mut **tx)
        .await?;
        for id in &u.added_ids {
            ids_rows.push(vec![Val::from(f.id.as_str()), Val::from(id.as_str())]);
        }
        let payload = serde_json::json!({"artifact": u.artifact, "advisory": f.advisory_id, "component": f.component_key, "severity": nf.severity});
        if u.reopen {
            event_rows.push(event(
                &f.id,
                "reopened",
                Some("resolved"),
                "open",
                Some("matched again"),
            ));
            notify_rows.push(notice("finding.reopened", &f.id, payload));
            changes.reopened.push(f.id.clone());
        } else {
            event_rows.push(event(
                &f.id,
                "changed",
                Some(f.state.as_str()),
                &f.state,
                Some("advisory details changed"),
            ));
            notify_rows.push(notice("finding.changed", &f.id, payload));
            changes.changed.push(f.id.clone());
        }
    }

    // Known findings no longer matched.
    for chunk in plan.resolves.chunks(CHUNK) {
        let mut q = Sql::new("UPDATE findings SET state = 'resolved', resolved_at = ");
        let at = q.bind_int(now);
        let why = q.bind_text(reason);
        let at2 = q.bind_int(now);
        q.push(&format!(
            "{at}, resolution = {why}, updated_at = {at2} WHERE id IN "
        ));
        let list = q.in_list(chunk.iter().map(|f| f.id.clone()));
        q.push(&list);
        q.execute_in(tx).await?;
        for f in chunk {
            event_rows.push(event(
                &f.id,
                "resolved",
                Some(f.state.as_str()),
                "resolved",
                Some(reason),
            ));
            notify_rows.push(notice(
                "finding.resolved",
                &f.id,
                serde_json::json!({"artifact": f.artifact_digest, "advisory": f.advisory_id, "component": f.component_key, "reason": reason}),
            ));
            changes.resolved.push(f.id.clone());
        }
    }

    batched_values(
        &mut *tx,
        "INSERT INTO finding_ids (finding_id, vuln_id)",
        "",
        ids_rows,
    )
    .await?;
    batched_values(
        &mut *tx,
        "INSERT INTO finding_events (id, finding_id, at, actor, kind, from_state, to_state, justification, comment)",
        "",
        event_rows,
    )
    .await?;
    batched_values(
        &mut *tx,
        "INSERT INTO events (id, at, kind, subject, payload)",
        "",
        notify_rows,
    )
    .await?;
    Ok(changes)
}

impl FindingChanges {
    /// Adds another reconciliation's changes.
    pub fn merge(&mut self, other: FindingChanges) {
        self.absorb(other);
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.changed.is_empty()
            && self.resolved.is_empty()
            && self.reopened.is_empty()
    }
}

impl Store {
    /// Moves a finding's first sighting (its detection) back to `at`: for
    /// demo data and for importing history from another tool. A finding
    /// stored before migration 0004 has its `detected` row moved too.
    pub async fn backdate_finding(&self, id: &str, at: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE findings SET first_seen = $2 WHERE id = $1 AND first_seen > $2")
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE finding_events SET at = $2 WHERE finding_id = $1 AND kind = 'detected' AND at > $2",
        )
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        assert_eq!(parse_cursor("12:abc").unwrap(), (12, "abc".to_owned()));
        assert_eq!(parse_cursor("-3:x:y").unwrap(), (-3, "x:y".to_owned()));
        assert!(parse_cursor("abc").is_err());
        assert!(parse_cursor("a:b").is_err());
    }
}
