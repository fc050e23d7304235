//! Teams, environments, workloads, deployments and tokens.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use palisade_store::model::{
    Deployment, Environment, Page, Scope, Team, WorkloadSpec, WorkloadView, page_limit,
};
use palisade_store::now_ms;
use palisade_store::tokens::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::check_digest;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_teams, create_team))
        .routes(routes!(list_environments))
        .routes(routes!(put_environment))
        .routes(routes!(list_workloads, create_workload))
        .routes(routes!(get_workload))
        .routes(routes!(report_deployment))
        .routes(routes!(create_token))
}

/// A team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamDto {
    id: String,
    name: String,
    created_at: i64,
}

impl From<Team> for TeamDto {
    fn from(t: Team) -> Self {
        TeamDto {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
        }
    }
}

/// Create a team.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeam {
    name: String,
}

/// Lists the teams the caller may see.
#[utoipa::path(get, path = "/api/v1/teams", tag = "portfolio", responses(
    (status = 200, body = Vec<TeamDto>), (status = 401, body = ErrorBody)))]
async fn list_teams(State(s): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<TeamDto>>> {
    Ok(Json(
        s.store
            .list_teams(&caller.scope())
            .await?
            .into_iter()
            .map(TeamDto::from)
            .collect(),
    ))
}

/// Creates a team (admin).
#[utoipa::path(post, path = "/api/v1/teams", tag = "portfolio", request_body = NewTeam, responses(
    (status = 201, body = TeamDto), (status = 403, body = ErrorBody)))]
async fn create_team(
    State(s): State<AppState>,
    caller: Caller,
    Json(body): Json<NewTeam>,
) -> ApiResult<(StatusCode, Json<TeamDto>)> {
    caller.require(&[Role::Admin])?;
    let name = non_empty("name", &body.name)?;
    let team = s.store.ensure_team(name).await?;
    s.store
        .audit(&caller.actor(), "team.create", &team.id, None)
        .await?;
    Ok((StatusCode::CREATED, Json(team.into())))
}

/// An environment and its policy modes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentDto {
    /// Name (dev, staging, prod...).
    name: String,
    /// The environment whose policy modes this one inherits.
    #[serde(default)]
    parent: Option<String>,
    /// Policy name -> `off`, `audit`, `warn` or `enforce`.
    #[serde(default)]
    policy_modes: serde_json::Map<String, serde_json::Value>,
    /// Whether it is production.
    #[serde(default)]
    production: bool,
}

/// Lists environments.
#[utoipa::path(get, path = "/api/v1/environments", tag = "portfolio", responses((status = 200, body = Vec<EnvironmentDto>)))]
async fn list_environments(
    State(s): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<EnvironmentDto>>> {
    let envs = s.store.list_environments().await?;
    let by_id: std::collections::BTreeMap<String, String> = envs
        .iter()
        .map(|e| (e.id.clone(), e.name.clone()))
        .collect();
    Ok(Json(envs.into_iter().map(|e| env_dto(e, &by_id)).collect()))
}

fn env_dto(e: Environment, names: &std::collections::BTreeMap<String, String>) -> EnvironmentDto {
    EnvironmentDto {
        parent: e.parent_id.and_then(|p| names.get(&p).cloned()),
        name: e.name,
        policy_modes: e.policy_modes.as_object().cloned().unwrap_or_default(),
        production: e.production,
    }
}

/// Creates or replaces an environment (admin).
#[utoipa::path(put, path = "/api/v1/environments/{name}", tag = "portfolio", request_body = EnvironmentDto,
    params(("name" = String, Path, description = "environment name")),
    responses((status = 200, body = EnvironmentDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn put_environment(
    State(s): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<EnvironmentDto>,
) -> ApiResult<Json<EnvironmentDto>> {
    caller.require(&[Role::Admin])?;
    if body.name != name {
        return Err(ApiError::invalid(format!(
            "body name {:?} differs from path {name:?}",
            body.name
        )));
    }
    for (policy, mode) in &body.policy_modes {
        match mode.as_str() {
            Some("off" | "audit" | "warn" | "enforce") => {}
            _ => {
                return Err(ApiError::invalid(format!(
                    "policy_modes.{policy}: expected \"off\", \"audit\", \"warn\" or \"enforce\", got {mode}"
                )));
            }
        }
    }
    let modes = serde_json::Value::Object(body.policy_modes.clone());
    let env = s
        .store
        .put_environment(&name, body.parent.as_deref(), &modes, body.production)
        .await?;
    s.store
        .audit(
            &caller.actor(),
            "environment.put",
            &env.id,
            Some(&modes.to_string()),
        )
        .await?;
    let names = s
        .store
        .list_environments()
        .await?
        .into_iter()
        .map(|e| (e.id, e.name))
        .collect();
    Ok(Json(env_dto(env, &names)))
}

/// A workload with its team, application and environment.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkloadDto {
    id: String,
    team: String,
    application: String,
    environment: String,
    namespace: String,
    name: String,
    kind: String,
    internet_facing: bool,
    created_at: i64,
}

impl From<WorkloadView> for WorkloadDto {
    fn from(v: WorkloadView) -> Self {
        WorkloadDto {
            id: v.workload.id,
            team: v.team,
            application: v.application,
            environment: v.environment,
            namespace: v.workload.namespace,
            name: v.workload.name,
            kind: v.workload.kind,
            internet_facing: v.workload.internet_facing,
            created_at: v.workload.created_at,
        }
    }
}

/// A page of workloads.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkloadPage {
    items: Vec<WorkloadDto>,
    /// Pass as `after` for the next page.
    next: Option<String>,
}

/// Paging and filters.
#[derive(Debug, Deserialize, IntoParams)]
pub struct WorkloadQuery {
    /// Only this environment.
    environment: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
    /// Page size (1-500, default 50).
    limit: Option<i64>,
}

/// Lists the workloads the caller may see.
#[utoipa::path(get, path = "/api/v1/workloads", tag = "portfolio", params(WorkloadQuery), responses((status = 200, body = WorkloadPage)))]
async fn list_workloads(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<WorkloadQuery>,
) -> ApiResult<Json<WorkloadPage>> {
    let Page { items, next } = s
        .store
        .list_workloads(
            &caller.scope(),
            q.environment.as_deref(),
            q.after.as_deref(),
            page_limit(q.limit),
        )
        .await?;
    Ok(Json(WorkloadPage {
        items: items.into_iter().map(WorkloadDto::from).collect(),
        next,
    }))
}

/// Create (or find) a workload.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewWorkload {
    team: String,
    application: String,
    environment: String,
    namespace: String,
    name: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    internet_facing: bool,
}

/// Creates a workload (idempotent). Team-scoped tokens may only create their
/// own team's workloads.
#[utoipa::path(post, path = "/api/v1/workloads", tag = "portfolio", request_body = NewWorkload, responses(
    (status = 201, body = WorkloadDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_workload(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<NewWorkload>,
) -> ApiResult<(StatusCode, Json<WorkloadDto>)> {
    caller.require(&[Role::Admin, Role::Ci, Role::Developer, Role::Webhook])?;
    let spec = WorkloadSpec {
        team: non_empty("team", &b.team)?.to_owned(),
        application: non_empty("application", &b.application)?.to_owned(),
        environment: non_empty("environment", &b.environment)?.to_owned(),
        namespace: non_empty("namespace", &b.namespace)?.to_owned(),
        name: non_empty("name", &b.name)?.to_owned(),
        kind: b.kind.unwrap_or_else(|| "Deployment".to_owned()),
        internet_facing: b.internet_facing,
    };
    check_team_write(&s, &caller, &spec.team).await?;
    let w = s.store.ensure_workload(&spec).await?;
    s.store
        .audit(&caller.actor(), "workload.create", &w.workload.id, None)
        .await?;
    Ok((StatusCode::CREATED, Json(w.into())))
}

/// A workload and its deployment history.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkloadDetail {
    #[serde(flatten)]
    workload: WorkloadDto,
    deployments: Vec<DeploymentDto>,
}

/// Gets a workload with its deployments, newest first.
#[utoipa::path(get, path = "/api/v1/workloads/{id}", tag = "portfolio", params(("id" = String, Path)), responses(
    (status = 200, body = WorkloadDetail), (status = 404, body = ErrorBody)))]
async fn get_workload(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkloadDetail>> {
    let w = s
        .store
        .workload(&caller.scope(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("workload {id}")))?;
    let deployments = s
        .store
        .deployments_of(&id)
        .await?
        .into_iter()
        .map(DeploymentDto::from)
        .collect();
    Ok(Json(WorkloadDetail {
        workload: w.into(),
        deployments,
    }))
}

/// A deployment.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentDto {
    id: String,
    workload_id: String,
    artifact_digest: String,
    container: String,
    started_at: i64,
    ended_at: Option<i64>,
}

impl From<Deployment> for DeploymentDto {
    fn from(d: Deployment) -> Self {
        DeploymentDto {
            id: d.id,
            workload_id: d.workload_id,
            artifact_digest: d.artifact_digest,
            container: d.container,
            started_at: d.started_at,
            ended_at: d.ended_at,
        }
    }
}

/// A deployment reported by CI/CD.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeploymentReport {
    team: String,
    application: String,
    environment: String,
    namespace: String,
    name: String,
    /// Container name within the workload (default `app`).
    #[serde(default)]
    container: Option<String>,
    /// Image reference as deployed (`registry/repo:tag@sha256:...`).
    image: String,
    /// The image digest, `sha256:<64 hex>`.
    digest: String,
}

/// Records that a workload now runs an artifact (CI/CD, webhook, admin).
#[utoipa::path(post, path = "/api/v1/deployments", tag = "portfolio", request_body = DeploymentReport, responses(
    (status = 201, body = DeploymentDto), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn report_deployment(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<DeploymentReport>,
) -> ApiResult<(StatusCode, Json<DeploymentDto>)> {
    caller.require(&[Role::Admin, Role::Ci, Role::Webhook])?;
    check_digest(&b.digest)?;
    check_team_write(&s, &caller, &b.team).await?;
    let spec = WorkloadSpec {
        team: b.team,
        application: b.application,
        environment: b.environment,
        namespace: b.namespace,
        name: b.name,
        kind: "Deployment".to_owned(),
        internet_facing: false,
    };
    let w = s.store.ensure_workload(&spec).await?;
    let container = b.container.unwrap_or_else(|| "app".to_owned());
    let d = s
        .store
        .record_deployment(&w.workload.id, &container, &b.digest, &b.image, now_ms())
        .await?;
    s.store
        .audit(&caller.actor(), "deployment.report", &d.id, Some(&b.digest))
        .await?;
    // Where it runs changes how urgent its findings are.
    crate::prioritise::prioritise_artifact(
        &s.store,
        &palisade_risk::priority::Policy::default(),
        &b.digest,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// Create an API token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    /// Who or what holds it.
    name: String,
    /// `admin`, `security`, `developer`, `ci` or `webhook`.
    role: String,
    /// The team it is scoped to (by name); none for organisation-wide.
    #[serde(default)]
    team: Option<String>,
}

/// A created token; the secret is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    id: String,
    name: String,
    role: String,
    team_id: Option<String>,
    /// The secret: store it now, it cannot be shown again.
    secret: String,
}

/// Creates an API token (admin).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "access", request_body = NewToken, responses(
    (status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    caller.require(&[Role::Admin])?;
    let role = Role::parse(&b.role)
        .ok_or_else(|| ApiError::invalid(format!("role: unknown role {:?}", b.role)))?;
    let team_id = match &b.team {
        Some(t) => Some(
            s.store
                .team_by_name(t)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("team {t:?}")))?
                .id,
        ),
        None => None,
    };
    let (p, secret) = s
        .store
        .create_token(non_empty("name", &b.name)?, role, team_id.as_deref())
        .await?;
    s.store
        .audit(
            &caller.actor(),
            "token.create",
            &p.token_id,
            Some(role.as_str()),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: p.token_id,
            name: p.name,
            role: role.as_str().to_owned(),
            team_id: p.team_id,
            secret,
        }),
    ))
}

fn non_empty<'a>(field: &str, value: &'a str) -> ApiResult<&'a str> {
    let v = value.trim();
    if v.is_empty() || v.len() > 253 {
        return Err(ApiError::invalid(format!(
            "{field}: must be 1 to 253 characters"
        )));
    }
    Ok(v)
}

/// A team-scoped caller may write only its own team's data.
async fn check_team_write(s: &AppState, caller: &Caller, team: &str) -> ApiResult<()> {
    if let Scope::Team(own) = caller.scope() {
        let target = s.store.team_by_name(team).await?;
        if target.map(|t| t.id) != Some(own) {
            return Err(ApiError::forbidden(format!(
                "this token may not write to team {team:?}"
            )));
        }
    }
    Ok(())
}
