//! Read queries the portal's pages need beyond the API's: what runs where
//! with the context prioritisation reads (production, internet-facing), the
//! history that trend charts replay, who owns each artifact, and search.
//! Every query applies the caller's [`Scope`] inside the SQL, as the rest of
//! the store does.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::model::Scope;
use crate::sql::Sql;
use crate::{Store, StoreError};

/// A workload running an artifact now, with the context around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningWorkload {
    /// The artifact it runs.
    pub artifact_digest: String,
    /// The artifact's name.
    pub artifact_name: String,
    /// The container running it.
    pub container: String,
    /// Running since, ms.
    pub since: i64,
    /// Workload id.
    pub workload_id: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Environment name.
    pub environment: String,
    /// Whether the environment is production.
    pub production: bool,
    /// Whether the workload is internet-facing.
    pub internet_facing: bool,
    /// Application id.
    pub application_id: String,
    /// Application name.
    pub application: String,
    /// Team id.
    pub team_id: String,
    /// Team name.
    pub team: String,
}

/// A state change of a finding, for replaying history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// The finding.
    pub finding_id: String,
    /// When, ms.
    pub at: i64,
    /// The state before the change (`None` before detection).
    pub from_state: Option<String>,
    /// The state after the change (`None` for events that keep it).
    pub to_state: Option<String>,
}

/// A component found by search, with how many artifacts carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageHit {
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// Artifacts (visible to the caller) that contain it.
    pub artifacts: i64,
}

/// An advisory found by search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryHit {
    /// The OSV id.
    pub id: String,
    /// Summary.
    pub summary: String,
    /// Published, ms.
    pub published: Option<i64>,
    /// Whether it is withdrawn.
    pub withdrawn: bool,
}

/// An application with its team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRef {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Team id.
    pub team_id: String,
    /// Team name.
    pub team: String,
}

/// `%text%` for LIKE, lower-cased, with LIKE's wildcards escaped (pair the
/// pattern with `ESCAPE '\'`).
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Every deployment running now in `scope`'s workloads, with its
    /// workload, environment, application and team.
    pub async fn running_workloads(
        &self,
        scope: &Scope,
    ) -> Result<Vec<RunningWorkload>, StoreError> {
        let mut q = Sql::new(
            "SELECT d.artifact_digest, a.name AS artifact_name, d.container, d.started_at,
                w.id AS workload_id, w.namespace, w.name, e.name AS environment, e.production,
                w.internet_facing, ap.id AS application_id, ap.name AS application,
                t.id AS team_id, t.name AS team
             FROM deployments d
             JOIN artifacts a ON a.digest = d.artifact_digest
             JOIN workloads w ON w.id = d.workload_id
             JOIN environments e ON e.id = w.environment_id
             JOIN applications ap ON ap.id = w.application_id
             JOIN teams t ON t.id = ap.team_id
             WHERE d.ended_at IS NULL",
        );
        if let Scope::Team(team) = scope {
            let p = q.bind_text(team.clone());
            q.and(&format!("t.id = {p}"));
        }
        q.push(" ORDER BY e.production DESC, e.name, t.name, w.namespace, w.name, d.container");
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(RunningWorkload {
                    artifact_digest: r.try_get("artifact_digest")?,
                    artifact_name: r.try_get("artifact_name")?,
                    container: r.try_get("container")?,
                    since: r.try_get("started_at")?,
                    workload_id: r.try_get("workload_id")?,
                    namespace: r.try_get("namespace")?,
                    name: r.try_get("name")?,
                    environment: r.try_get("environment")?,
                    production: r.try_get::<i64, _>("production")? != 0,
                    internet_facing: r.try_get::<i64, _>("internet_facing")? != 0,
                    application_id: r.try_get("application_id")?,
                    application: r.try_get("application")?,
                    team_id: r.try_get("team_id")?,
                    team: r.try_get("team")?,
                })
            })
            .collect()
    }

    /// The state changes (detection, triage, resolution, re-opening) of the
    /// findings `scope` may see, at or after `since`, oldest first.
    pub async fn finding_state_changes(
        &self,
        scope: &Scope,
        since: i64,
    ) -> Result<Vec<StateChange>, StoreError> {
        // Detections since migration 0004 are the findings themselves.
        let mut q = Sql::new(&format!(
            "SELECT ev.finding_id, ev.at, ev.from_state, ev.to_state FROM (
                SELECT id, finding_id, at, from_state, to_state FROM finding_events
                WHERE kind <> 'changed'
                UNION ALL SELECT id, finding_id, at, from_state, to_state FROM ({}) d
             ) ev JOIN findings f ON f.id = ev.finding_id WHERE 1 = 1",
            crate::findings::DETECTIONS
        ));
        let p = q.bind_int(since);
        q.and(&format!("ev.at >= {p}"));
        crate::findings::scope_clause(&mut q, scope, "f.artifact_digest");
        q.push(" ORDER BY ev.at, ev.id");
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(StateChange {
                    finding_id: r.try_get("finding_id")?,
                    at: r.try_get("at")?,
                    from_state: r.try_get("from_state")?,
                    to_state: r.try_get("to_state")?,
                })
            })
            .collect()
    }

    /// The teams each visible artifact belongs to: the team that uploaded
    /// its evidence and every team that runs or ran it. Pairs of (digest,
    /// team name), sorted.
    pub async fn artifact_teams(&self, scope: &Scope) -> Result<Vec<(String, String)>, StoreError> {
        let mut q = Sql::new(
            "SELECT a.digest, t.name AS team FROM artifacts a JOIN teams t ON t.id = a.team_id WHERE 1 = 1",
        );
        if let Scope::Team(team) = scope {
            let p = q.bind_text(team.clone());
            q.and(&format!("t.id = {p}"));
        }
        q.push(
            " UNION SELECT d.artifact_digest AS digest, t.name AS team FROM deployments d
              JOIN workloads w ON w.id = d.workload_id
              JOIN applications ap ON ap.id = w.application_id
              JOIN teams t ON t.id = ap.team_id WHERE 1 = 1",
        );
        if let Scope::Team(team) = scope {
            let p = q.bind_text(team.clone());
            q.and(&format!("t.id = {p}"));
        }
        q.push(" ORDER BY digest, team");
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("digest")?, r.try_get("team")?)))
            .collect()
    }

    /// Applications visible in `scope`, by team and name.
    pub async fn list_applications(
        &self,
        scope: &Scope,
    ) -> Result<Vec<ApplicationRef>, StoreError> {
        let mut q = Sql::new(
            "SELECT ap.id, ap.name, t.id AS team_id, t.name AS team FROM applications ap
             JOIN teams t ON t.id = ap.team_id WHERE 1 = 1",
        );
        if let Scope::Team(team) = scope {
            let p = q.bind_text(team.clone());
            q.and(&format!("t.id = {p}"));
        }
        q.push(" ORDER BY t.name, ap.name");
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(ApplicationRef {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    team_id: r.try_get("team_id")?,
                    team: r.try_get("team")?,
                })
            })
            .collect()
    }

    /// Workload ids in `scope` whose namespace, name, application, team or
    /// environment contains `text` (any case).
    pub async fn search_workload_ids(
        &self,
        scope: &Scope,
        text: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let mut q = Sql::new(
            "SELECT w.id FROM workloads w
             JOIN applications ap ON ap.id = w.application_id
             JOIN teams t ON t.id = ap.team_id
             JOIN environments e ON e.id = w.environment_id WHERE 1 = 1",
        );
        if let Scope::Team(team) = scope {
            let p = q.bind_text(team.clone());
            q.and(&format!("t.id = {p}"));
        }
        let p = q.bind_text(like_pattern(text));
        q.and(&format!(
            "(LOWER(w.name) LIKE {p} ESCAPE '\\' OR LOWER(w.namespace) LIKE {p} ESCAPE '\\'
              OR LOWER(ap.name) LIKE {p} ESCAPE '\\' OR LOWER(t.name) LIKE {p} ESCAPE '\\'
              OR LOWER(e.name) LIKE {p} ESCAPE '\\')"
        ));
        let l = q.bind_int(limit);
        q.push(&format!(
            " ORDER BY t.name, ap.name, w.namespace, w.name, e.name LIMIT {l}"
        ));
        let rows = q.fetch_all(self.pool()).await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?)
    }

    /// Components of visible artifacts whose name or purl contains `text`,
    /// grouped by name, version and purl, with how many artifacts carry each.
    pub async fn search_packages(
        &self,
        scope: &Scope,
        text: &str,
        limit: i64,
    ) -> Result<Vec<PackageHit>, StoreError> {
        let mut q = Sql::new(
            "SELECT c.name, c.version, c.purl, COUNT(DISTINCT c.artifact_digest) AS n
             FROM components c WHERE 1 = 1",
        );
        let p = q.bind_text(like_pattern(text));
        q.and(&format!(
            "(LOWER(c.name) LIKE {p} ESCAPE '\\' OR LOWER(COALESCE(c.purl, '')) LIKE {p} ESCAPE '\\')"
        ));
        crate::findings::scope_clause(&mut q, scope, "c.artifact_digest");
        let l = q.bind_int(limit);
        q.push(&format!(
            " GROUP BY c.name, c.version, c.purl ORDER BY c.name, c.version LIMIT {l}"
        ));
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(PackageHit {
                    name: r.try_get("name")?,
                    version: r.try_get("version")?,
                    purl: r.try_get("purl")?,
                    artifacts: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// Advisories whose id, any alias or summary contains `text`. Advisories
    /// are public records: every caller may search them.
    pub async fn search_advisories(
        &self,
        text: &str,
        limit: i64,
    ) -> Result<Vec<AdvisoryHit>, StoreError> {
        let mut q = Sql::new(
            "SELECT a.id, a.summary, a.published, a.withdrawn FROM advisories a WHERE 1 = 1",
        );
        let p = q.bind_text(like_pattern(text));
        q.and(&format!(
            "(LOWER(a.summary) LIKE {p} ESCAPE '\\' OR a.id IN
               (SELECT i.advisory_id FROM advisory_ids i WHERE LOWER(i.vuln_id) LIKE {p} ESCAPE '\\'))"
        ));
        let l = q.bind_int(limit);
        q.push(&format!(" ORDER BY a.id LIMIT {l}"));
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(AdvisoryHit {
                    id: r.try_get("id")?,
                    summary: r.try_get("summary")?,
                    published: r.try_get("published")?,
                    withdrawn: r.try_get::<i64, _>("withdrawn")? != 0,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Log4J"), "%log4j%");
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }
}
