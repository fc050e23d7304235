//! The portfolio: teams, applications, environments, workloads, artifacts and
//! deployments, plus API tokens and the audit log.
//!
//! Every list is keyset-paginated by id (ids sort by creation time), so pages
//! stay stable while rows are added. Team scoping is applied here, in the
//! query, not by filtering afterwards: a caller passes the teams it may see
//! ([`Scope`]), and rows of other teams are never read.

use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Store, StoreError, new_id, now_ms};

/// Which teams' data a caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every team (admin and security roles).
    All,
    /// Only this team.
    Team(String),
}

impl Scope {
    fn team(&self) -> Option<&str> {
        match self {
            Scope::All => None,
            Scope::Team(t) => Some(t),
        }
    }
}

/// A page of results and the cursor for the next one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Clamps a requested page size.
pub fn page_limit(limit: Option<i64>) -> i64 {
    limit.unwrap_or(50).clamp(1, 500)
}

fn page<T>(mut items: Vec<T>, limit: i64, id: impl Fn(&T) -> String) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(50);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(&id)
    } else {
        None
    };
    Page { items, next }
}

/// A team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Creation time, ms.
    pub created_at: i64,
}

/// An application, owned by a team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    /// Id.
    pub id: String,
    /// Owning team.
    pub team_id: String,
    /// Name, unique within the team.
    pub name: String,
    /// Creation time, ms.
    pub created_at: i64,
}

/// An environment (dev, staging, prod...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Environment {
    /// Id.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// The environment it inherits policy modes from.
    pub parent_id: Option<String>,
    /// Policy name -> mode (`off`, `audit`, `warn`, `enforce`), JSON object.
    pub policy_modes: serde_json::Value,
    /// Whether it is production (prioritisation uses this).
    pub production: bool,
    /// Creation time, ms.
    pub created_at: i64,
}

/// A workload: an application running in an environment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    /// Id.
    pub id: String,
    /// The application.
    pub application_id: String,
    /// The environment.
    pub environment_id: String,
    /// Kubernetes namespace (or any grouping).
    pub namespace: String,
    /// Name within the namespace.
    pub name: String,
    /// Kind (`Deployment`, `StatefulSet`...).
    pub kind: String,
    /// Reachable from the internet.
    pub internet_facing: bool,
    /// Creation time, ms.
    pub created_at: i64,
}

/// A workload with the names around it, for listings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadView {
    /// The workload.
    #[serde(flatten)]
    pub workload: Workload,
    /// Its application's name.
    pub application: String,
    /// Its team's id.
    pub team_id: String,
    /// Its team's name.
    pub team: String,
    /// Its environment's name.
    pub environment: String,
}

/// What a workload runs, from when to when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Id.
    pub id: String,
    /// The workload.
    pub workload_id: String,
    /// The artifact's digest (`sha256:...`).
    pub artifact_digest: String,
    /// The container name within the workload.
    pub container: String,
    /// Start, ms.
    pub started_at: i64,
    /// End, ms; `None` while it runs.
    pub ended_at: Option<i64>,
}

/// Fields to create or find a workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    /// Team name.
    pub team: String,
    /// Application name.
    pub application: String,
    /// Environment name.
    pub environment: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Kind.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Internet-facing.
    #[serde(default)]
    pub internet_facing: bool,
}

fn default_kind() -> String {
    "Deployment".to_owned()
}

fn team_from(r: &AnyRow) -> Result<Team, sqlx::Error> {
    Ok(Team {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
    })
}

fn environment_from(r: &AnyRow) -> Result<Environment, StoreError> {
    let modes: String = r.try_get("policy_modes")?;
    Ok(Environment {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        parent_id: r.try_get("parent_id")?,
        policy_modes: serde_json::from_str(&modes).map_err(|source| StoreError::Json {
            what: "environments.policy_modes",
            source,
        })?,
        production: r.try_get::<i64, _>("production")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn workload_view_from(r: &AnyRow) -> Result<WorkloadView, sqlx::Error> {
    Ok(WorkloadView {
        workload: Workload {
            id: r.try_get("id")?,
            application_id: r.try_get("application_id")?,
            environment_id: r.try_get("environment_id")?,
            namespace: r.try_get("namespace")?,
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            internet_facing: r.try_get::<i64, _>("internet_facing")? != 0,
            created_at: r.try_get("created_at")?,
        },
        application: r.try_get("application")?,
        team_id: r.try_get("team_id")?,
        team: r.try_get("team")?,
        environment: r.try_get("environment")?,
    })
}

fn deployment_from(r: &AnyRow) -> Result<Deployment, sqlx::Error> {
    Ok(Deployment {
        id: r.try_get("id")?,
        workload_id: r.try_get("workload_id")?,
        artifact_digest: r.try_get("artifact_digest")?,
        container: r.try_get("container")?,
        started_at: r.try_get("started_at")?,
        ended_at: r.try_get("ended_at")?,
    })
}

const WORKLOAD_VIEW: &str =
    "SELECT w.id, w.application_id, w.environment_id, w.namespace, w.name, w.kind,
        w.internet_facing, w.created_at, a.name AS application, t.id AS team_id, t.name AS team,
        e.name AS environment
     FROM workloads w
     JOIN applications a ON a.id = w.application_id
     JOIN teams t ON t.id = a.team_id
     JOIN environments e ON e.id = w.environment_id";

impl Store {
    /// Creates a team, or returns the one of that name.
    pub async fn ensure_team(&self, name: &str) -> Result<Team, StoreError> {
        sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(new_id())
            .bind(name)
            .bind(now_ms())
            .execute(self.pool())
            .await?;
        let row = sqlx::query("SELECT id, name, created_at FROM teams WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await?;
        Ok(team_from(&row)?)
    }

    /// Teams visible in `scope`.
    pub async fn list_teams(&self, scope: &Scope) -> Result<Vec<Team>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, created_at FROM teams WHERE ($1 IS NULL OR id = $1) ORDER BY name",
        )
        .bind(scope.team())
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(team_from).collect::<Result<_, _>>()?)
    }

    /// A team by name.
    pub async fn team_by_name(&self, name: &str) -> Result<Option<Team>, StoreError> {
        let row = sqlx::query("SELECT id, name, created_at FROM teams WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(team_from).transpose()?)
    }

    /// Creates an application of a team, or returns the existing one.
    pub async fn ensure_application(
        &self,
        team_id: &str,
        name: &str,
    ) -> Result<Application, StoreError> {
        sqlx::query(
            "INSERT INTO applications (id, team_id, name, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (team_id, name) DO NOTHING",
        )
        .bind(new_id())
        .bind(team_id)
        .bind(name)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        let r = sqlx::query("SELECT id, team_id, name, created_at FROM applications WHERE team_id = $1 AND name = $2")
            .bind(team_id)
            .bind(name)
            .fetch_one(self.pool())
            .await?;
        Ok(Application {
            id: r.try_get("id")?,
            team_id: r.try_get("team_id")?,
            name: r.try_get("name")?,
            created_at: r.try_get("created_at")?,
        })
    }

    /// Creates an environment or updates its parent, modes and production flag.
    pub async fn put_environment(
        &self,
        name: &str,
        parent: Option<&str>,
        policy_modes: &serde_json::Value,
        production: bool,
    ) -> Result<Environment, StoreError> {
        let parent_id = match parent {
            Some(p) => Some(
                self.environment_by_name(p)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("parent environment {p:?}")))?
                    .id,
            ),
            None => None,
        };
        let modes = policy_modes.to_string();
        sqlx::query(
            "INSERT INTO environments (id, name, parent_id, policy_modes, production, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (name) DO UPDATE SET parent_id = $3, policy_modes = $4, production = $5",
        )
        .bind(new_id())
        .bind(name)
        .bind(parent_id)
        .bind(modes)
        .bind(i64::from(production))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        crate::bump_counter(self.pool(), crate::EVIDENCE_GENERATION).await?;
        self.environment_by_name(name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("environment {name:?}")))
    }

    /// An environment by name.
    pub async fn environment_by_name(&self, name: &str) -> Result<Option<Environment>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, parent_id, policy_modes, production, created_at FROM environments WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(environment_from).transpose()
    }

    /// All environments, by name.
    pub async fn list_environments(&self) -> Result<Vec<Environment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, parent_id, policy_modes, production, created_at FROM environments ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(environment_from).collect()
    }

    /// Finds or creates the team, application, environment (which must exist)
    /// and workload of `spec`.
    pub async fn ensure_workload(&self, spec: &WorkloadSpec) -> Result<WorkloadView, StoreError> {
        let team = self.ensure_team(&spec.team).await?;
        let app = self.ensure_application(&team.id, &spec.application).await?;
        let env = self
            .environment_by_name(&spec.environment)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("environment {:?}", spec.environment)))?;
        sqlx::query(
            "INSERT INTO workloads (id, application_id, environment_id, namespace, name, kind, internet_facing, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (environment_id, namespace, name) DO NOTHING",
        )
        .bind(new_id())
        .bind(&app.id)
        .bind(&env.id)
        .bind(&spec.namespace)
        .bind(&spec.name)
        .bind(&spec.kind)
        .bind(i64::from(spec.internet_facing))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        let sql = format!(
            "{WORKLOAD_VIEW} WHERE w.environment_id = $1 AND w.namespace = $2 AND w.name = $3"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&env.id)
            .bind(&spec.namespace)
            .bind(&spec.name)
            .fetch_one(self.pool())
            .await?;
        let view = workload_view_from(&row)?;
        if view.team_id != team.id {
            return Err(StoreError::Conflict(format!(
                "workload {}/{} in {} belongs to team {}",
                spec.namespace, spec.name, spec.environment, view.team
            )));
        }
        Ok(view)
    }

    /// A workload by id, if `scope` may see it.
    pub async fn workload(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Option<WorkloadView>, StoreError> {
        let sql = format!("{WORKLOAD_VIEW} WHERE w.id = $1 AND ($2 IS NULL OR t.id = $2)");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(scope.team())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(workload_view_from).transpose()?)
    }

    /// A workload by environment, namespace and name, if `scope` may see it.
    pub async fn workload_by_name(
        &self,
        scope: &Scope,
        environment: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<WorkloadView>, StoreError> {
        let sql = format!(
            "{WORKLOAD_VIEW} WHERE e.name = $1 AND w.namespace = $2 AND w.name = $3 AND ($4 IS NULL OR t.id = $4)"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(environment)
            .bind(namespace)
            .bind(name)
            .bind(scope.team())
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(workload_view_from).transpose()?)
    }

    /// Workloads visible in `scope`, optionally of one environment, a page
    /// after the id `after`.
    pub async fn list_workloads(
        &self,
        scope: &Scope,
        environment: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Page<WorkloadView>, StoreError> {
        let sql = format!(
            "{WORKLOAD_VIEW} WHERE ($1 IS NULL OR t.id = $1) AND ($2 IS NULL OR e.name = $2)
             AND ($3 IS NULL OR w.id > $3) ORDER BY w.id LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.team())
            .bind(environment)
            .bind(after)
            .bind(limit + 1)
            .fetch_all(self.pool())
            .await?;
        let items = rows
            .iter()
            .map(workload_view_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page(items, limit, |w| w.workload.id.clone()))
    }

    /// Records an artifact (idempotent).
    pub async fn ensure_artifact(&self, digest: &str, name: &str) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO artifacts (digest, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest)
        .bind(name)
        .bind(now_ms())
        .execute(self.pool())
        .await?
        .rows_affected();
        if inserted > 0 {
            // A name now resolves to this digest.
            crate::bump_counter(self.pool(), crate::EVIDENCE_GENERATION).await?;
        }
        Ok(())
    }

    /// Records that `workload` now runs `digest` in `container`: the previous
    /// deployment of that container ends now. Re-reporting the running
    /// artifact changes nothing. Returns the current deployment.
    pub async fn record_deployment(
        &self,
        workload_id: &str,
        container: &str,
        digest: &str,
        artifact_name: &str,
        at: i64,
    ) -> Result<Deployment, StoreError> {
        // The usual case, a container reported again with what it runs, is
        // one read: admission reports every pod it admits, and a write would
        // take SQLite's one write lock for nothing.
        if let Some(d) = self.current_deployment(workload_id, container).await?
            && d.artifact_digest == digest
        {
            return Ok(d);
        }
        self.ensure_artifact(digest, artifact_name).await?;
        let mut tx = self.begin_write().await?;
        let current = sqlx::query(
            "SELECT id, workload_id, artifact_digest, container, started_at, ended_at FROM deployments
             WHERE workload_id = $1 AND container = $2 AND ended_at IS NULL",
        )
        .bind(workload_id)
        .bind(container)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = current {
            let d = deployment_from(&row)?;
            if d.artifact_digest == digest {
                tx.commit().await?;
                return Ok(d);
            }
            sqlx::query("UPDATE deployments SET ended_at = $1 WHERE id = $2")
                .bind(at)
                .bind(&d.id)
                .execute(&mut *tx)
                .await?;
        }
        let d = Deployment {
            id: new_id(),
            workload_id: workload_id.to_owned(),
            artifact_digest: digest.to_owned(),
            container: container.to_owned(),
            started_at: at,
            ended_at: None,
        };
        sqlx::query(
            "INSERT INTO deployments (id, workload_id, artifact_digest, container, started_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&d.id)
        .bind(&d.workload_id)
        .bind(&d.artifact_digest)
        .bind(&d.container)
        .bind(d.started_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(d)
    }

    /// What a container of a workload runs now.
    async fn current_deployment(
        &self,
        workload_id: &str,
        container: &str,
    ) -> Result<Option<Deployment>, StoreError> {
        let row = sqlx::query(
            "SELECT id, workload_id, artifact_digest, container, started_at, ended_at FROM deployments
             WHERE workload_id = $1 AND container = $2 AND ended_at IS NULL",
        )
        .bind(workload_id)
        .bind(container)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(deployment_from).transpose()?)
    }

    /// Deployments of a workload, newest first.
    pub async fn deployments_of(&self, workload_id: &str) -> Result<Vec<Deployment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, workload_id, artifact_digest, container, started_at, ended_at FROM deployments
             WHERE workload_id = $1 ORDER BY started_at DESC, id DESC",
        )
        .bind(workload_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(deployment_from).collect::<Result<_, _>>()?)
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO audit_log (id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(new_id())
            .bind(now_ms())
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(detail)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// A running deployment with what a policy decision needs to know of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningDeployment {
    /// The deployment.
    pub deployment_id: String,
    /// The workload.
    pub workload_id: String,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub workload: String,
    /// Its kind.
    pub kind: String,
    /// Its team.
    pub team_id: String,
    /// Its environment's name.
    pub environment: String,
    /// The container.
    pub container: String,
    /// The artifact's digest.
    pub artifact_digest: String,
    /// The artifact's name.
    pub artifact_name: String,
}

impl Store {
    /// Every deployment running now.
    pub async fn running_deployments(&self) -> Result<Vec<RunningDeployment>, StoreError> {
        let rows = sqlx::query(
            "SELECT d.id, d.workload_id, w.namespace, w.name, w.kind, ap.team_id, e.name AS environment,
                d.container, d.artifact_digest, a.name AS artifact_name
             FROM deployments d
             JOIN workloads w ON w.id = d.workload_id
             JOIN applications ap ON ap.id = w.application_id
             JOIN environments e ON e.id = w.environment_id
             JOIN artifacts a ON a.digest = d.artifact_digest
             WHERE d.ended_at IS NULL ORDER BY d.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RunningDeployment {
                    deployment_id: r.try_get("id")?,
                    workload_id: r.try_get("workload_id")?,
                    namespace: r.try_get("namespace")?,
                    workload: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    team_id: r.try_get("team_id")?,
                    environment: r.try_get("environment")?,
                    container: r.try_get("container")?,
                    artifact_digest: r.try_get("artifact_digest")?,
                    artifact_name: r.try_get("artifact_name")?,
                })
            })
            .collect()
    }
}

impl Store {
    /// Finds or creates the workload `namespace/name` of an application in
    /// an environment (the admission webhook registers what it admits).
    /// `None` when the environment does not exist.
    pub async fn workload_for_application(
        &self,
        application_id: &str,
        environment: &str,
        namespace: &str,
        name: &str,
        kind: &str,
    ) -> Result<Option<WorkloadView>, StoreError> {
        let Some(env) = self.environment_by_name(environment).await? else {
            return Ok(None);
        };
        let sql = format!(
            "{WORKLOAD_VIEW} WHERE w.environment_id = $1 AND w.namespace = $2 AND w.name = $3"
        );
        let find = || {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&env.id)
                .bind(namespace)
                .bind(name)
                .fetch_optional(self.pool())
        };
        // Known workloads (every admission after the first) cost one read.
        if let Some(row) = find().await? {
            return Ok(Some(workload_view_from(&row)?));
        }
        sqlx::query(
            "INSERT INTO workloads (id, application_id, environment_id, namespace, name, kind, internet_facing, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7)
             ON CONFLICT (environment_id, namespace, name) DO NOTHING",
        )
        .bind(new_id())
        .bind(application_id)
        .bind(&env.id)
        .bind(namespace)
        .bind(name)
        .bind(kind)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        let row = find().await?;
        Ok(row.as_ref().map(workload_view_from).transpose()?)
    }
}
