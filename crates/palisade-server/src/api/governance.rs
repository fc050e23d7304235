//! Attestations, exceptions, policy decisions (the CI gate and the decision
//! log), namespace mapping and the Kubernetes admission webhook.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use palisade_store::governance::{DecisionFilter, DecisionRow, ExceptionEventRow, ExceptionRow};
use palisade_store::model::{Scope, page_limit};
use palisade_store::now_ms;
use palisade_store::tokens::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::admission;
use crate::auth::Caller;
use crate::decide::{self, Subject};
use crate::error::{ApiError, ApiResult, ErrorBody};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_attestation))
        .routes(routes!(list_exceptions, request_exception))
        .routes(routes!(get_exception))
        .routes(routes!(approve_exception))
        .routes(routes!(revoke_exception))
        .routes(routes!(list_decisions, evaluate))
        .routes(routes!(put_namespace))
        .routes(routes!(admission_review))
        .routes(routes!(what_if))
}

/// A candidate policy bundle, as files.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CandidateBundle {
    /// Path (`palisade/max_severity.rego`, `environments.yaml`...) to content.
    files: std::collections::BTreeMap<String, String>,
}

/// Evaluates a candidate policy bundle against everything running now,
/// beside the current one, and reports what would newly be denied (and what
/// would no longer be), per environment. Nothing is recorded.
#[utoipa::path(post, path = "/api/v1/policy/what-if", tag = "guardrails", request_body = CandidateBundle,
    responses((status = 200, description = "one what-if report per environment"), (status = 400, body = ErrorBody)))]
async fn what_if(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<CandidateBundle>,
) -> ApiResult<Json<serde_json::Value>> {
    caller.require(&[Role::Admin, Role::Security])?;
    let bundle =
        palisade_policy::Bundle::from_files(b.files.into_iter().map(|(p, c)| (p, c.into_bytes())))
            .map_err(|e| ApiError::invalid(e.to_string()))?;
    let candidate = palisade_policy::Engine::new(&bundle, *s.engine.options())
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let now = now_ms();
    let exceptions: Vec<palisade_policy::Exception> = s
        .store
        .live_exceptions(now)
        .await?
        .iter()
        .map(decide::policy_exception)
        .collect();
    let mut by_env: std::collections::BTreeMap<
        String,
        Vec<(String, palisade_policy::PolicyInput)>,
    > = std::collections::BTreeMap::new();
    for r in s.store.running_deployments().await? {
        let subject = Subject {
            environment: r.environment.clone(),
            reference: r.artifact_name.clone(),
            digest: Some(r.artifact_digest.clone()),
            workload: Some(palisade_policy::input::Workload {
                name: r.workload.clone(),
                namespace: Some(r.namespace.clone()),
                kind: Some(r.kind.clone()),
                ..Default::default()
            }),
            workload_id: Some(r.workload_id.clone()),
            team_id: Some(r.team_id.clone()),
            source: "what-if".to_owned(),
        };
        let input = decide::input_for(&s.store, &subject, &r.artifact_digest).await?;
        by_env.entry(r.environment.clone()).or_default().push((
            format!(
                "{}/{} ({}, {})",
                r.namespace, r.workload, r.container, r.artifact_digest
            ),
            input,
        ));
    }
    let when = time::OffsetDateTime::from_unix_timestamp(now / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut reports = Vec::new();
    for (env, inputs) in &by_env {
        let report =
            palisade_policy::whatif::what_if(&s.engine, &candidate, inputs, env, &exceptions, when);
        reports.push(serde_json::to_value(&report).map_err(ApiError::internal)?);
    }
    let newly: usize = reports
        .iter()
        .filter_map(|r| r["newly_denied"].as_u64())
        .map(|n| n as usize)
        .sum();
    Ok(Json(serde_json::json!({
        "candidate_bundle": candidate.bundle_digest(),
        "newly_denied": newly,
        "environments": reports,
    })))
}

/// Where an attestation belongs.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AttestationParams {
    /// The artifact (`sha256:<hex>`) a Sigstore bundle is verified against;
    /// defaults to the subjects its statement names.
    artifact: Option<String>,
    /// The artifact's name, when it is new to Palisade.
    name: Option<String>,
}

/// An attestation's verification, as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttestationStored {
    /// Whether its signature verified (unverified ones are not stored).
    verified: bool,
    /// The predicate type.
    predicate_type: Option<String>,
    /// The artifacts it is stored for.
    artifacts: Vec<String>,
    /// The verification, every check with its result.
    #[schema(value_type = Object)]
    verification: serde_json::Value,
}

/// Uploads a DSSE envelope or a Sigstore bundle. It is verified now, against
/// the server's trusted keys and identities, and its verdict stored for
/// each subject digest; decisions later read the verdict. A document that
/// does not verify is refused (422) and nothing is stored.
#[utoipa::path(post, path = "/api/v1/attestations", tag = "integrity", params(AttestationParams),
    request_body(content = String, description = "a DSSE envelope or a Sigstore bundle (JSON)", content_type = "application/json"),
    responses((status = 201, body = AttestationStored), (status = 400, body = ErrorBody), (status = 422, body = AttestationStored)))]
async fn upload_attestation(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<AttestationParams>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<AttestationStored>)> {
    caller.require(&[Role::Admin, Role::Ci, Role::Security])?;
    let actor = caller.actor();
    let cx = crate::evidence::IngestContext {
        artifact: p.artifact.as_deref(),
        name: p.name.as_deref(),
        actor: &actor,
        action: "attestation.upload",
        team_id: caller.0.team_id.as_deref(),
    };
    let i = crate::evidence::ingest(&s, &body, &cx).await?;
    let status = if i.verified {
        StatusCode::CREATED
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        Json(AttestationStored {
            verified: i.verified,
            predicate_type: i.predicate_type,
            artifacts: i.artifacts,
            verification: i.verification,
        }),
    ))
}

/// An exception with its status and history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExceptionDto {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    exception: ExceptionRow,
    /// `pending`, `active`, `expired` or `revoked`.
    status: String,
    #[schema(value_type = Vec<Object>)]
    history: Vec<ExceptionEventRow>,
}

async fn exception_dto(s: &AppState, e: ExceptionRow) -> ApiResult<ExceptionDto> {
    let history = s.store.exception_history(&e.id).await?;
    Ok(ExceptionDto {
        status: e.status(now_ms()).to_owned(),
        exception: e,
        history,
    })
}

/// A request for an exception.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewException {
    /// Workload scope, `namespace/name`.
    #[serde(default)]
    workload: Option<String>,
    /// Artifact scope: a digest or an artifact name.
    #[serde(default)]
    artifact: Option<String>,
    /// Vulnerability scope: an advisory id or alias.
    #[serde(default)]
    vulnerability: Option<String>,
    /// Policy scope: a policy id (`palisade.vulnerabilities`).
    #[serde(default)]
    policy: Option<String>,
    /// Why it is needed.
    reason: String,
    /// Expiry, RFC 3339 (at most 366 days ahead).
    expires_at: String,
    /// The team it belongs to (by name); defaults to the caller's team.
    #[serde(default)]
    team: Option<String>,
}

/// Requests an exception. It applies only once a second person approves it.
#[utoipa::path(post, path = "/api/v1/exceptions", tag = "guardrails", request_body = NewException,
    responses((status = 201, body = ExceptionDto), (status = 400, body = ErrorBody)))]
async fn request_exception(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<NewException>,
) -> ApiResult<(StatusCode, Json<ExceptionDto>)> {
    caller.require(&[Role::Admin, Role::Security, Role::Developer])?;
    let expires = time::OffsetDateTime::parse(
        &b.expires_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map_err(|e| {
        ApiError::invalid(format!(
            "expires_at: {:?} is not an RFC 3339 time: {e}",
            b.expires_at
        ))
    })?;
    let expires_ms = i64::try_from(expires.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let max = now_ms() + palisade_policy::exception::MAX_LIFETIME_DAYS * 86_400_000;
    if expires_ms > max {
        return Err(ApiError::invalid(format!(
            "expires_at: at most {} days ahead",
            palisade_policy::exception::MAX_LIFETIME_DAYS
        )));
    }
    let team_id = match (&b.team, caller.scope()) {
        (_, Scope::Team(own)) => Some(own),
        (Some(t), Scope::All) => Some(
            s.store
                .team_by_name(t)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("team {t:?}")))?
                .id,
        ),
        (None, Scope::All) => None,
    };
    let req = palisade_store::governance::ExceptionRequest {
        team_id,
        workload: b.workload,
        artifact: b.artifact,
        vulnerability: b.vulnerability,
        policy: b.policy,
        reason: b.reason,
        expires_at: expires_ms,
    };
    let e = s.store.request_exception(&req, &caller.actor()).await?;
    s.store
        .audit(&caller.actor(), "exception.request", &e.id, Some(&e.reason))
        .await?;
    Ok((StatusCode::CREATED, Json(exception_dto(&s, e).await?)))
}

/// Lists the exceptions the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "guardrails", responses((status = 200, body = Vec<ExceptionDto>)))]
async fn list_exceptions(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ExceptionDto>>> {
    let mut out = Vec::new();
    for e in s.store.list_exceptions(&caller.scope()).await? {
        out.push(exception_dto(&s, e).await?);
    }
    Ok(Json(out))
}

/// Gets an exception with its history.
#[utoipa::path(get, path = "/api/v1/exceptions/{id}", tag = "guardrails", params(("id" = String, Path)),
    responses((status = 200, body = ExceptionDto), (status = 404, body = ErrorBody)))]
async fn get_exception(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ExceptionDto>> {
    let e = s
        .store
        .exception(&caller.scope(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("exception {id}")))?;
    Ok(Json(exception_dto(&s, e).await?))
}

/// Approves a pending exception. The approver must not be the requester
/// (refused with 403, and the refusal is recorded) and must hold the
/// security or admin role.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/approve", tag = "guardrails", params(("id" = String, Path)),
    responses((status = 200, body = ExceptionDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn approve_exception(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ExceptionDto>> {
    caller.require(&[Role::Admin, Role::Security])?;
    let e = s
        .store
        .approve_exception(&caller.scope(), &id, &caller.actor())
        .await?;
    s.store
        .audit(&caller.actor(), "exception.approve", &id, None)
        .await?;
    // What runs may now be allowed: re-decide it.
    let _ = s
        .store
        .enqueue("audit", "{}", Some("audit"), now_ms())
        .await;
    s.jobs_ready.notify_waiters();
    Ok(Json(exception_dto(&s, e).await?))
}

/// Why an exception is revoked.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct Revocation {
    #[serde(default)]
    reason: Option<String>,
}

/// Revokes an exception.
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/revoke", tag = "guardrails", params(("id" = String, Path)),
    request_body = Revocation,
    responses((status = 200, body = ExceptionDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn revoke_exception(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Option<Json<Revocation>>,
) -> ApiResult<Json<ExceptionDto>> {
    caller.require(&[Role::Admin, Role::Security, Role::Developer])?;
    let reason = body.and_then(|Json(r)| r.reason);
    let e = s
        .store
        .revoke_exception(&caller.scope(), &id, &caller.actor(), reason.as_deref())
        .await?;
    s.store
        .audit(&caller.actor(), "exception.revoke", &id, reason.as_deref())
        .await?;
    let _ = s
        .store
        .enqueue("audit", "{}", Some("audit"), now_ms())
        .await;
    s.jobs_ready.notify_waiters();
    Ok(Json(exception_dto(&s, e).await?))
}

/// Filters of the decision log.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DecisionQuery {
    environment: Option<String>,
    /// `allow`, `warn` or `deny`.
    outcome: Option<String>,
    workload: Option<String>,
    artifact: Option<String>,
    /// `admission`, `gate`, `audit`.
    source: Option<String>,
    /// Text in the reasons, workload or artifact.
    q: Option<String>,
    /// The `next` of the previous page.
    before: Option<String>,
    limit: Option<i64>,
}

/// A page of decisions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionPage {
    #[schema(value_type = Vec<Object>)]
    items: Vec<DecisionRow>,
    next: Option<String>,
}

/// The decision log: every decision with its input digest, bundle digest,
/// outcome and reasons.
#[utoipa::path(get, path = "/api/v1/decisions", tag = "guardrails", params(DecisionQuery),
    responses((status = 200, body = DecisionPage)))]
async fn list_decisions(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<DecisionQuery>,
) -> ApiResult<Json<DecisionPage>> {
    let filter = DecisionFilter {
        environment: q.environment,
        outcome: q.outcome,
        workload_id: q.workload,
        artifact: q.artifact,
        source: q.source,
        text: q.q,
    };
    let page = s
        .store
        .list_decisions(
            &caller.scope(),
            &filter,
            q.before.as_deref(),
            page_limit(q.limit),
        )
        .await?;
    Ok(Json(DecisionPage {
        items: page.items,
        next: page.next,
    }))
}

/// What to decide about (the CI gate).
#[derive(Debug, Deserialize, ToSchema)]
pub struct Evaluate {
    /// The environment (as the policy bundle names it).
    environment: String,
    /// The image reference (`repo:tag` or `repo@sha256:...`).
    image: String,
    /// The digest, when the reference does not pin it.
    #[serde(default)]
    digest: Option<String>,
    /// The workload it will run as, `namespace/name`.
    #[serde(default)]
    workload: Option<String>,
}

/// A decision and its id in the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionDto {
    id: String,
    /// `allow`, `warn` or `deny`.
    outcome: String,
    reasons: Vec<String>,
    #[schema(value_type = Object)]
    decision: serde_json::Value,
}

/// Decides about an artifact with the same policies, exceptions and stored
/// evidence as the admission webhook (the CI gate calls this).
#[utoipa::path(post, path = "/api/v1/decisions", tag = "guardrails", request_body = Evaluate,
    responses((status = 200, body = DecisionDto), (status = 400, body = ErrorBody)))]
async fn evaluate(
    State(s): State<AppState>,
    caller: Caller,
    Json(b): Json<Evaluate>,
) -> ApiResult<Json<DecisionDto>> {
    caller.require(&[Role::Admin, Role::Ci, Role::Security, Role::Developer])?;
    if let Some(d) = &b.digest {
        super::check_digest(d)?;
    }
    let workload = b.workload.as_deref().map(|w| match w.split_once('/') {
        Some((ns, name)) => palisade_policy::input::Workload {
            name: name.to_owned(),
            namespace: Some(ns.to_owned()),
            ..Default::default()
        },
        None => palisade_policy::input::Workload {
            name: w.to_owned(),
            ..Default::default()
        },
    });
    let subject = Subject {
        environment: b.environment,
        reference: b.image,
        digest: b.digest,
        workload,
        workload_id: None,
        team_id: caller.0.team_id.clone(),
        source: "gate".to_owned(),
    };
    let (d, id) = decide::decide(&s, &subject).await?;
    crate::evidence::request_fetch(&s, &subject.reference, &d.artifact.digest).await;
    Ok(Json(DecisionDto {
        id,
        outcome: d.outcome.as_str().to_owned(),
        reasons: decide::reasons(&d),
        decision: serde_json::to_value(&d).map_err(ApiError::internal)?,
    }))
}

/// Where a namespace belongs.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NamespaceMapping {
    /// The environment.
    environment: String,
    /// The owning team.
    team: String,
    /// The application.
    application: String,
    /// The cluster (empty: any cluster).
    #[serde(default)]
    cluster: String,
}

/// Maps a Kubernetes namespace to an environment and application, so the
/// admission webhook knows which policies apply and registers deployments.
#[utoipa::path(put, path = "/api/v1/namespaces/{namespace}", tag = "guardrails", params(("namespace" = String, Path)),
    request_body = NamespaceMapping, responses((status = 204), (status = 404, body = ErrorBody)))]
async fn put_namespace(
    State(s): State<AppState>,
    caller: Caller,
    Path(namespace): Path<String>,
    Json(b): Json<NamespaceMapping>,
) -> ApiResult<StatusCode> {
    caller.require(&[Role::Admin])?;
    let env = s
        .store
        .environment_by_name(&b.environment)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("environment {:?}", b.environment)))?;
    let team = s.store.ensure_team(&b.team).await?;
    let app = s.store.ensure_application(&team.id, &b.application).await?;
    s.store
        .put_namespace(&b.cluster, &namespace, &env.id, &app.id)
        .await?;
    s.store
        .audit(
            &caller.actor(),
            "namespace.put",
            &namespace,
            Some(&b.environment),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where the webhook is called from.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AdmissionParams {
    /// The environment of namespaces not mapped explicitly.
    environment: Option<String>,
    /// The cluster's name, for namespace mappings per cluster.
    #[serde(default)]
    cluster: String,
}

/// The Kubernetes validating admission webhook (AdmissionReview v1).
#[utoipa::path(post, path = "/k8s/admission", tag = "guardrails", params(AdmissionParams),
    request_body(content = Object, description = "an AdmissionReview v1"),
    responses((status = 200, description = "an AdmissionReview v1 with the response"), (status = 400, body = ErrorBody)))]
async fn admission_review(
    State(s): State<AppState>,
    Query(p): Query<AdmissionParams>,
    body: Bytes,
) -> ApiResult<Json<admission::AdmissionReviewResponse>> {
    let started = std::time::Instant::now();
    let req = admission::parse_review(&body).map_err(|e| ApiError::invalid(e.to_string()))?;
    let uid = req.uid.clone();
    let out = admit(&s, &p, &req).await;
    metrics::histogram!("palisade_admission_seconds").record(started.elapsed().as_secs_f64());
    match out {
        Ok(resp) => Ok(Json(resp)),
        Err(e) => {
            // Fail closed, with the reason.
            tracing::error!(error = %e.message, "admission failed");
            Ok(Json(admission::respond(
                uid,
                false,
                Vec::new(),
                Some(format!("Palisade could not decide: {}", e.message)),
            )))
        }
    }
}

async fn admit(
    s: &AppState,
    p: &AdmissionParams,
    req: &admission::AdmissionRequest,
) -> ApiResult<admission::AdmissionReviewResponse> {
    let uid = req.uid.clone();
    if req.operation == "DELETE" || req.operation == "CONNECT" {
        return Ok(admission::respond(uid, true, Vec::new(), None));
    }
    let Some(object) = &req.object else {
        return Ok(admission::respond(uid, true, Vec::new(), None));
    };
    let Some(spec) = admission::pod_spec(&req.kind.kind, object) else {
        return Ok(admission::respond(
            uid,
            true,
            vec![format!(
                "palisade: kind {} runs no pods; not checked",
                req.kind.kind
            )],
            None,
        ));
    };
    let namespace = req
        .namespace
        .clone()
        .or_else(|| {
            object
                .get("metadata")
                .and_then(|m| m.get("namespace"))
                .and_then(|n| n.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "default".to_owned());
    let generation = s.store.evidence_generation().await?;
    let mapping = decide::namespace_environment(s, generation, &p.cluster, &namespace).await?;
    let (environment, application_id) = match mapping {
        Some((environment, app_id)) => (environment, Some(app_id)),
        None => match &p.environment {
            Some(e) => (e.clone(), None),
            None => {
                return Ok(admission::respond(
                    uid,
                    false,
                    Vec::new(),
                    Some(format!(
                        "namespace {namespace} is mapped to no environment, and the webhook URL names none (?environment=)"
                    )),
                ));
            }
        },
    };
    let name = admission::workload_name(req, object);
    let workload = palisade_policy::input::Workload {
        name: name.clone(),
        namespace: Some(namespace.clone()),
        kind: Some(req.kind.kind.clone()),
        cluster: (!p.cluster.is_empty()).then(|| p.cluster.clone()),
        labels: admission::labels(object),
    };
    let registered = match &application_id {
        Some(app_id) => {
            decide::registered_workload(
                s,
                generation,
                app_id,
                &environment,
                &namespace,
                &name,
                &req.kind.kind,
            )
            .await?
        }
        None => None,
    };
    let mut warnings = Vec::new();
    let mut denials = Vec::new();
    let mut admitted = Vec::new();
    for c in admission::containers(spec) {
        if c.image.is_empty() {
            denials.push(format!("container {}: no image", c.name));
            continue;
        }
        let subject = Subject {
            environment: environment.clone(),
            reference: c.image.clone(),
            digest: None,
            workload: Some(workload.clone()),
            workload_id: registered.as_ref().map(|w| w.workload.id.clone()),
            team_id: registered.as_ref().map(|w| w.team_id.clone()),
            source: "admission".to_owned(),
        };
        let (d, id) = decide::decide_at(s, &subject, generation).await?;
        crate::evidence::request_fetch(s, &c.image, &d.artifact.digest).await;
        let reasons = decide::reasons(&d);
        match d.outcome {
            palisade_policy::Outcome::Deny => {
                denials.push(format!(
                    "container {} ({}): {} [decision {id}]",
                    c.name,
                    c.image,
                    reasons.join("; ")
                ));
            }
            palisade_policy::Outcome::Warn => {
                for r in reasons {
                    warnings.push(format!("palisade: container {}: {r}", c.name));
                }
                admitted.push((c, d.artifact.digest.clone()));
            }
            palisade_policy::Outcome::Allow => admitted.push((c, d.artifact.digest.clone())),
        }
    }
    let allowed = denials.is_empty();
    if allowed
        && req.dry_run != Some(true)
        && let Some(w) = &registered
    {
        for (c, digest) in admitted {
            if digest.is_empty() {
                continue;
            }
            s.store
                .record_deployment(&w.workload.id, &c.name, &digest, &c.image, now_ms())
                .await?;
        }
    }
    let message = (!allowed).then(|| format!("denied by Palisade: {}", denials.join(" | ")));
    Ok(admission::respond(uid, allowed, warnings, message))
}
