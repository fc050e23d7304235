//! SBOM upload, advisories, findings, triage and the blast radius.

use std::collections::BTreeSet;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use palisade_store::findings::{BlastRadiusEntry, Finding, FindingEvent, FindingFilter};
use palisade_store::model::page_limit;
use palisade_store::tokens::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::analysis;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_sbom))
        .routes(routes!(get_artifact))
        .routes(routes!(import_advisories, advisory_status))
        .routes(routes!(get_advisory))
        .routes(routes!(blast_radius))
        .routes(routes!(list_findings))
        .routes(routes!(get_finding))
        .routes(routes!(triage_finding))
        .routes(routes!(import_epss))
        .routes(routes!(import_kev))
        .routes(routes!(feed_status))
        .routes(routes!(upload_scan))
        .routes(routes!(run_scan))
        .routes(routes!(artifact_scan_findings))
}

/// What a feed import stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedImported {
    /// Records stored.
    records: usize,
    /// The feed's own date or version.
    version: Option<String>,
    /// Whether every finding was re-prioritised before the answer (false:
    /// it goes on in the background).
    reprioritised: bool,
    /// Warnings (a count that disagrees with the content...).
    warnings: Vec<String>,
}

/// Queues the re-prioritisation of every finding and waits (up to a
/// minute) until no such job is pending. Returns whether it finished.
async fn reprioritise(s: &AppState) -> ApiResult<bool> {
    s.store
        .enqueue(
            "prioritise",
            "{}",
            Some("prioritise"),
            palisade_store::now_ms(),
        )
        .await?;
    s.jobs_ready.notify_waiters();
    let started = std::time::Instant::now();
    loop {
        if s.store.pending_jobs("prioritise").await? == 0 {
            return Ok(true);
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            return Ok(false);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Imports FIRST's EPSS scores (the published CSV, plain or gzipped); all
/// findings are re-prioritised.
#[utoipa::path(post, path = "/api/v1/feeds/epss", tag = "vulnerabilities",
    request_body(content = String, description = "epss_scores-YYYY-MM-DD.csv(.gz)", content_type = "text/csv"),
    responses((status = 200, body = FeedImported), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_epss(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<FeedImported>> {
    caller.require(&[Role::Admin, Role::Security])?;
    let data = tokio::task::spawn_blocking(move || palisade_risk::epss::parse_csv(&body))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::invalid(e.to_string()))?;
    let rows: Vec<palisade_store::risk::EpssRow> = data
        .scores
        .iter()
        .map(|(cve, sc)| palisade_store::risk::EpssRow {
            cve: cve.clone(),
            score: sc.epss,
            percentile: sc.percentile,
        })
        .collect();
    s.store
        .replace_epss(&rows, data.score_date.as_deref())
        .await?;
    s.store
        .audit(
            &caller.actor(),
            "feeds.epss",
            &format!("{} scores", rows.len()),
            data.score_date.as_deref(),
        )
        .await?;
    let reprioritised = reprioritise(&s).await?;
    Ok(Json(FeedImported {
        records: rows.len(),
        version: data.score_date.clone().or(data.model_version.clone()),
        reprioritised,
        warnings: Vec::new(),
    }))
}

/// Imports CISA's Known Exploited Vulnerabilities catalogue (its JSON);
/// all findings are re-prioritised.
#[utoipa::path(post, path = "/api/v1/feeds/kev", tag = "vulnerabilities",
    request_body(content = Object, description = "known_exploited_vulnerabilities.json"),
    responses((status = 200, body = FeedImported), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_kev(
    State(s): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<FeedImported>> {
    caller.require(&[Role::Admin, Role::Security])?;
    let catalog =
        palisade_risk::kev::parse_catalog(&body).map_err(|e| ApiError::invalid(e.to_string()))?;
    let rows: Vec<palisade_store::risk::KevRow> = catalog
        .vulnerabilities
        .iter()
        .map(|k| palisade_store::risk::KevRow {
            cve: k.cve_id.clone(),
            date_added: k.date_added.to_string(),
            due_date: k.due_date.map(|d| d.to_string()),
            ransomware: matches!(
                k.known_ransomware_campaign_use,
                palisade_risk::kev::RansomwareUse::Known
            ),
            name: k.vulnerability_name.clone(),
        })
        .collect();
    s.store.replace_kev(&rows).await?;
    s.store
        .audit(
            &caller.actor(),
            "feeds.kev",
            &format!("{} entries", rows.len()),
            Some(&catalog.catalog_version),
        )
        .await?;
    let reprioritised = reprioritise(&s).await?;
    Ok(Json(FeedImported {
        records: rows.len(),
        version: Some(catalog.catalog_version.clone()),
        reprioritised,
        warnings: catalog.warnings.clone(),
    }))
}

/// What the prioritisation feeds hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedStatus {
    epss_scores: i64,
    kev_entries: i64,
}

/// Counts of stored EPSS scores and KEV listings.
#[utoipa::path(get, path = "/api/v1/feeds", tag = "vulnerabilities", responses((status = 200, body = FeedStatus)))]
async fn feed_status(State(s): State<AppState>, _caller: Caller) -> ApiResult<Json<FeedStatus>> {
    let (epss_scores, kev_entries) = s.store.feed_counts().await?;
    Ok(Json(FeedStatus {
        epss_scores,
        kev_entries,
    }))
}

/// Where an uploaded SBOM belongs.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SbomParams {
    /// The artifact's digest (`sha256:<hex>`); defaults to the digest the
    /// SBOM names for its subject.
    artifact: Option<String>,
    /// The artifact's name (image reference without digest); defaults to the
    /// SBOM's subject name.
    name: Option<String>,
}

/// What an SBOM upload stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct SbomUploaded {
    /// The SBOM's id.
    sbom_id: String,
    /// The artifact it describes.
    artifact: String,
    /// Its format as read (`CycloneDX 1.6`, `SPDX 2.3`...).
    format: String,
    /// Whether the same document was already stored (nothing changed).
    duplicate: bool,
    /// Components stored.
    components: u64,
    /// Components that cannot be matched (no purl, unknown ecosystem...).
    unmatchable_components: usize,
    /// New findings.
    new_findings: usize,
    /// Findings resolved (no longer matched).
    resolved_findings: usize,
    /// Warnings from reading the document.
    warnings: Vec<String>,
}

/// Uploads an SBOM (CycloneDX JSON or XML, SPDX JSON or tag-value; the
/// format is detected) for an artifact, matches its components against the
/// stored advisories and records the findings. All or nothing: a document
/// that cannot be read changes nothing.
#[utoipa::path(post, path = "/api/v1/sboms", tag = "vulnerabilities", params(SbomParams),
    request_body(content = String, description = "the SBOM document", content_type = "application/octet-stream"),
    responses((status = 201, body = SbomUploaded), (status = 200, body = SbomUploaded, description = "already stored"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn upload_sbom(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<SbomParams>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SbomUploaded>)> {
    caller.require(&[Role::Admin, Role::Ci, Role::Security, Role::Developer])?;
    let inventory = tokio::task::spawn_blocking(move || {
        palisade_sbom::read(&body, "upload").map(|inv| (inv, body))
    })
    .await
    .map_err(ApiError::internal)?;
    let (inventory, body) = inventory.map_err(|e| ApiError::invalid(e.to_string()))?;
    let subject = inventory.metadata.subject.as_ref();
    let artifact = match p.artifact {
        Some(a) => a,
        None => subject
            .and_then(|s| s.digests.get("sha256").or_else(|| s.digests.get("SHA-256")))
            .map(|hex| format!("sha256:{}", hex.to_ascii_lowercase()))
            .ok_or_else(|| {
                ApiError::invalid(
                    "the SBOM names no sha256 digest for its subject: pass ?artifact=sha256:<hex>",
                )
            })?,
    };
    super::check_digest(&artifact)?;
    let name = p
        .name
        .or_else(|| subject.map(|s| s.name.clone()))
        .unwrap_or_else(|| artifact.clone());
    let (components, findings) = analysis::analyse(&s.store, &inventory).await?;
    let unmatchable = components
        .iter()
        .filter(|c| c.package_key.is_none())
        .count();
    let format = inventory
        .metadata
        .source_format
        .clone()
        .unwrap_or_else(|| "unknown".to_owned());
    let ingest = palisade_store::findings::SbomIngest {
        artifact_digest: artifact.clone(),
        artifact_name: name,
        team_id: caller.0.team_id.clone(),
        document_digest: analysis::sha256_digest(&body),
        source_format: format.clone(),
        inventory: serde_json::to_string(&inventory).map_err(ApiError::internal)?,
        components,
        findings,
        actor: caller.actor(),
    };
    let out = s.store.ingest_sbom(&ingest).await?;
    if !out.duplicate {
        crate::prioritise::prioritise_artifact(
            &s.store,
            &palisade_risk::priority::Policy::default(),
            &artifact,
        )
        .await?;
    }
    if !out.duplicate {
        s.store
            .audit(
                &caller.actor(),
                "sbom.upload",
                &artifact,
                Some(&out.sbom_id),
            )
            .await?;
    }
    let status = if out.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(SbomUploaded {
            sbom_id: out.sbom_id,
            artifact,
            format,
            duplicate: out.duplicate,
            components: out.components,
            unmatchable_components: unmatchable,
            new_findings: out.findings.new.len(),
            resolved_findings: out.findings.resolved.len(),
            warnings: inventory.warnings.clone(),
        }),
    ))
}

/// An artifact with its evidence.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArtifactDetail {
    digest: String,
    name: Option<String>,
    #[schema(value_type = Vec<Object>)]
    sboms: Vec<palisade_store::findings::SbomInfo>,
    #[schema(value_type = Vec<Object>)]
    attestations: Vec<palisade_store::governance::AttestationRow>,
    open_findings: usize,
}

/// Gets an artifact's SBOMs, attestation verdicts and open finding count.
#[utoipa::path(get, path = "/api/v1/artifacts/{digest}", tag = "vulnerabilities", params(("digest" = String, Path)),
    responses((status = 200, body = ArtifactDetail), (status = 404, body = ErrorBody)))]
async fn get_artifact(
    State(s): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<ArtifactDetail>> {
    let name = s.store.artifact_name(&digest).await?;
    if name.is_none() {
        return Err(ApiError::not_found(format!("artifact {digest}")));
    }
    let filter = FindingFilter {
        artifact: Some(digest.clone()),
        ..FindingFilter::default()
    };
    let findings = s
        .store
        .list_findings(&caller.scope(), &filter, None, 500)
        .await?;
    let sboms = s.store.sboms_of(&digest).await?;
    if matches!(caller.scope(), palisade_store::model::Scope::Team(_))
        && findings.items.is_empty()
        && !super::artifact_visible(&s, &caller, &digest).await?
    {
        return Err(ApiError::not_found(format!("artifact {digest}")));
    }
    Ok(Json(ArtifactDetail {
        attestations: s.store.attestations_of(&digest).await?,
        digest,
        name,
        sboms,
        open_findings: findings.items.len(),
    }))
}

/// What an advisory import changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryImported {
    new: u64,
    updated: u64,
    unchanged: u64,
    /// Records that could not be read, with the reason.
    rejected: Vec<String>,
    /// Package keys whose components are re-matched.
    touched_packages: usize,
    /// The re-analysis job (runs in the background on every server process).
    job: Option<String>,
    /// Findings the re-analysis created or re-opened (absent when not
    /// waited for).
    new_findings: Option<usize>,
    /// Findings whose details changed.
    changed_findings: Option<usize>,
    /// Findings resolved.
    resolved_findings: Option<usize>,
}

/// Options of an advisory import.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportParams {
    /// Wait for the re-analysis to finish (default true) and report its
    /// counts.
    wait: Option<bool>,
}

/// Imports OSV records (one record, or a JSON array of records) and
/// re-matches every stored component of the packages they name: new
/// findings appear and withdrawn or narrowed advisories resolve findings,
/// with events for notifications.
#[utoipa::path(post, path = "/api/v1/advisories", tag = "vulnerabilities", params(ImportParams),
    request_body(content = String, description = "an OSV record or an array of them", content_type = "application/json"),
    responses((status = 200, body = AdvisoryImported), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn import_advisories(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<ImportParams>,
    body: Bytes,
) -> ApiResult<Json<AdvisoryImported>> {
    caller.require(&[Role::Admin, Role::Security])?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::invalid(format!("body is not JSON: {e}")))?;
    let records = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let bytes = serde_json::to_vec(r).map_err(ApiError::internal)?;
        match analysis::advisory_row(&bytes) {
            Ok(row) => rows.push(row),
            Err(e) => rejected.push(format!("[{i}]: {e}")),
        }
    }
    if rows.is_empty() && !rejected.is_empty() {
        return Err(ApiError::invalid(format!(
            "no record could be read: {}",
            rejected.join("; ")
        )));
    }
    let upsert = s.store.upsert_advisories(&rows).await?;
    s.jobs_ready.notify_waiters();
    let result = match (&upsert.job, p.wait.unwrap_or(true)) {
        (Some(job), true) => Some(super::wait_for_job(&s, job).await?),
        _ => None,
    };
    let count = |k: &str| {
        result
            .as_ref()
            .and_then(|r| r.get(k))
            .and_then(serde_json::Value::as_u64)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    };
    s.store
        .audit(
            &caller.actor(),
            "advisories.import",
            &format!("{} records", rows.len()),
            Some(&upsert.changed_ids.join(",")),
        )
        .await?;
    Ok(Json(AdvisoryImported {
        new: upsert.new,
        updated: upsert.updated,
        unchanged: upsert.unchanged,
        rejected,
        touched_packages: upsert.touched_keys.len(),
        job: upsert.job.clone(),
        new_findings: count("new"),
        changed_findings: count("changed"),
        resolved_findings: count("resolved"),
    }))
}

/// What the advisory database holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryStatus {
    count: i64,
    withdrawn: i64,
    newest_modified: Option<i64>,
    last_import: Option<i64>,
}

/// Counts and freshness of the stored advisories.
#[utoipa::path(get, path = "/api/v1/advisories", tag = "vulnerabilities", responses((status = 200, body = AdvisoryStatus)))]
async fn advisory_status(
    State(s): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<AdvisoryStatus>> {
    let st = s.store.advisory_stats().await?;
    Ok(Json(AdvisoryStatus {
        count: st.count,
        withdrawn: st.withdrawn,
        newest_modified: st.newest_modified,
        last_import: st.last_import,
    }))
}

/// An advisory: the OSV records known under an id or alias.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdvisoryDetail {
    /// The id asked for.
    id: String,
    /// The stored records that are, or alias, that id (normalised OSV).
    #[schema(value_type = Vec<Object>)]
    records: Vec<serde_json::Value>,
}

/// Gets an advisory by id or alias.
#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "vulnerabilities", params(("id" = String, Path)),
    responses((status = 200, body = AdvisoryDetail), (status = 404, body = ErrorBody)))]
async fn get_advisory(
    State(s): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AdvisoryDetail>> {
    let mut records = Vec::new();
    for aid in s.store.advisory_ids_named(&id).await? {
        if let Some(json) = s.store.advisory_record(&aid).await? {
            records.push(serde_json::from_str(&json).map_err(ApiError::internal)?);
        }
    }
    if records.is_empty() {
        return Err(ApiError::not_found(format!("advisory {id}")));
    }
    Ok(Json(AdvisoryDetail { id, records }))
}

/// The blast radius of an advisory.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlastRadius {
    /// The advisory asked for.
    advisory: String,
    /// Workloads running something affected right now (excluding findings
    /// triaged as not affected or false positives).
    affected_workloads: usize,
    /// Environments among them.
    environments: Vec<String>,
    /// One entry per workload, container and affected component.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<BlastRadiusEntry>,
}

/// Which workloads, in which environments, run something affected by the
/// advisory (by any of its ids or aliases) right now.
#[utoipa::path(get, path = "/api/v1/advisories/{id}/blast-radius", tag = "vulnerabilities", params(("id" = String, Path)),
    responses((status = 200, body = BlastRadius)))]
async fn blast_radius(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<BlastRadius>> {
    let entries = s.store.blast_radius(&caller.scope(), &id).await?;
    let affected: Vec<&BlastRadiusEntry> = entries
        .iter()
        .filter(|e| e.state != "not_affected" && e.state != "false_positive")
        .collect();
    let workloads: BTreeSet<&str> = affected.iter().map(|e| e.workload_id.as_str()).collect();
    let environments: BTreeSet<String> = affected.iter().map(|e| e.environment.clone()).collect();
    Ok(Json(BlastRadius {
        advisory: id,
        affected_workloads: workloads.len(),
        environments: environments.into_iter().collect(),
        entries,
    }))
}

/// Filters and paging of findings.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FindingQuery {
    /// Team name.
    team: Option<String>,
    /// Application name.
    application: Option<String>,
    /// Workload id.
    workload: Option<String>,
    /// Environment name.
    environment: Option<String>,
    /// Advisory id or alias.
    advisory: Option<String>,
    /// Package name or purl (without version).
    package: Option<String>,
    /// Artifact digest.
    artifact: Option<String>,
    /// Comma-separated states (default: open, in_triage, affected; `all` for every state).
    state: Option<String>,
    /// The `next` of the previous page.
    after: Option<String>,
    /// Page size (1-500, default 50).
    limit: Option<i64>,
}

/// A page of findings, most urgent first.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingPage {
    #[schema(value_type = Vec<Object>)]
    items: Vec<Finding>,
    next: Option<String>,
}

impl FindingQuery {
    pub(crate) fn filter(&self) -> FindingFilter {
        FindingFilter {
            team: self.team.clone(),
            application: self.application.clone(),
            workload: self.workload.clone(),
            environment: self.environment.clone(),
            advisory: self.advisory.clone(),
            package: self.package.clone(),
            artifact: self.artifact.clone(),
            states: self
                .state
                .as_deref()
                .map(|s| {
                    s.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Queries findings by team, application, workload, environment, advisory
/// or package.
#[utoipa::path(get, path = "/api/v1/findings", tag = "vulnerabilities", params(FindingQuery),
    responses((status = 200, body = FindingPage), (status = 400, body = ErrorBody)))]
async fn list_findings(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<FindingQuery>,
) -> ApiResult<Json<FindingPage>> {
    let page = s
        .store
        .list_findings(
            &caller.scope(),
            &q.filter(),
            q.after.as_deref(),
            page_limit(q.limit),
        )
        .await?;
    Ok(Json(FindingPage {
        items: page.items,
        next: page.next,
    }))
}

/// A finding with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDetail {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    finding: Finding,
    #[schema(value_type = Vec<Object>)]
    history: Vec<FindingEvent>,
}

/// Gets a finding and its triage history.
#[utoipa::path(get, path = "/api/v1/findings/{id}", tag = "vulnerabilities", params(("id" = String, Path)),
    responses((status = 200, body = FindingDetail), (status = 404, body = ErrorBody)))]
async fn get_finding(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<FindingDetail>> {
    let finding = s
        .store
        .finding(&caller.scope(), &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("finding {id}")))?;
    let history = s.store.finding_history(&id).await?;
    Ok(Json(FindingDetail { finding, history }))
}

/// A triage decision.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Triage {
    /// `open`, `in_triage`, `affected`, `not_affected` or `false_positive`.
    state: String,
    /// For `not_affected`: `component_not_present`, `vulnerable_code_not_present`,
    /// `vulnerable_code_not_in_execute_path`, `vulnerable_code_cannot_be_controlled_by_adversary`
    /// or `inline_mitigations_already_exist`.
    #[serde(default)]
    justification: Option<String>,
    /// Why.
    #[serde(default)]
    comment: Option<String>,
}

/// Sets a finding's triage state, with a VEX justification and a comment;
/// the change is appended to the finding's history.
#[utoipa::path(post, path = "/api/v1/findings/{id}/triage", tag = "vulnerabilities", params(("id" = String, Path)),
    request_body = Triage,
    responses((status = 200, body = FindingDetail), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn triage_finding(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(t): Json<Triage>,
) -> ApiResult<Json<FindingDetail>> {
    caller.require(&[Role::Admin, Role::Security, Role::Developer])?;
    let finding = s
        .store
        .triage(
            &caller.scope(),
            &id,
            &t.state,
            t.justification.as_deref(),
            t.comment.as_deref(),
            &caller.actor(),
        )
        .await?;
    s.store
        .audit(&caller.actor(), "finding.triage", &id, Some(&t.state))
        .await?;
    let history = s.store.finding_history(&id).await?;
    Ok(Json(FindingDetail { finding, history }))
}

/// Where a scan belongs.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ScanParams {
    /// The artifact scanned (`sha256:<hex>`).
    artifact: String,
    /// The artifact's name, when it is new to Palisade.
    name: Option<String>,
    /// `sarif`, `trivy`, `grype`, `osv-scanner`, `zap` or `falco`; detected
    /// when absent.
    format: Option<String>,
}

/// What a scan upload changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanUploaded {
    /// The format read.
    format: String,
    /// The tool that produced it.
    tool: String,
    /// Results in the document.
    raw: usize,
    /// After merging duplicates and aliases within the document.
    merged: usize,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    outcome: palisade_store::scans::ScanOutcome,
    /// Warnings from reading it, with JSON paths.
    warnings: Vec<String>,
}

/// Uploads another scanner's results for an artifact (SARIF, Trivy, Grype,
/// osv-scanner, ZAP or Falco). Vulnerabilities in components merge with
/// Palisade's own findings (one finding, several sources); code, dynamic and
/// runtime findings are kept by fingerprint. A newer scan by the same tool
/// that no longer reports something withdraws its claim, resolving what no
/// source reports any more. All or nothing.
#[utoipa::path(post, path = "/api/v1/scans", tag = "vulnerabilities", params(ScanParams),
    request_body(content = String, description = "the scanner's native output", content_type = "application/json"),
    responses((status = 200, body = ScanUploaded), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn upload_scan(
    State(s): State<AppState>,
    caller: Caller,
    Query(p): Query<ScanParams>,
    body: Bytes,
) -> ApiResult<Json<ScanUploaded>> {
    caller.require(&[Role::Admin, Role::Ci, Role::Security])?;
    super::check_digest(&p.artifact)?;
    let format = match &p.format {
        Some(f) => Some(
            f.parse::<palisade_findings::Format>()
                .map_err(|e| ApiError::invalid(format!("format: {e}")))?,
        ),
        None => None,
    };
    let doc = tokio::task::spawn_blocking(move || {
        palisade_findings::import(
            &body,
            "upload",
            format,
            &palisade_findings::ImportOptions::default(),
        )
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::invalid(e.to_string()))?;
    let name = p.name.clone().unwrap_or_else(|| p.artifact.clone());
    let uploaded = import_document(
        &s,
        &p.artifact,
        &name,
        caller.0.team_id.as_deref(),
        &doc,
        &caller.actor(),
        "scan.upload",
    )
    .await?;
    Ok(Json(uploaded))
}

/// Stores one scanner output for `artifact` (the upload API and the `scan`
/// job share it): component vulnerabilities merge with Palisade's own
/// findings, the rest are kept by fingerprint, what the tool no longer
/// reports is resolved, the artifact is re-prioritised and the import
/// audited as `action`.
pub(crate) async fn import_document(
    s: &AppState,
    artifact: &str,
    name: &str,
    team_id: Option<&str>,
    doc: &palisade_findings::Import,
    actor: &str,
    action: &str,
) -> ApiResult<ScanUploaded> {
    use palisade_findings::{FindingKind, Location};
    let tool = doc
        .tools
        .first()
        .map(|t| t.name.to_lowercase())
        .unwrap_or_else(|| doc.format.to_string());
    let raw = doc.findings.len();
    let merged = palisade_findings::merge(doc.findings.clone());
    let mut components = Vec::new();
    let mut others = Vec::new();
    for f in &merged.findings {
        let severity = f
            .severity
            .as_ref()
            .and_then(|s| s.rating)
            .map(|r| r.as_str().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let score = f.severity.as_ref().and_then(|s| s.score);
        match (&f.location, f.kind) {
            (Location::Component(c), FindingKind::Vulnerability) => {
                let component = palisade_inventory::Component {
                    bom_ref: c.name.clone(),
                    name: c.name.clone(),
                    version: c.version.clone(),
                    purl: c.purl.clone(),
                    ..Default::default()
                };
                let query = palisade_advisory::matcher::resolve(&component, None).ok();
                components.push(palisade_store::findings::NewFinding {
                    component_key: analysis::component_key(&component),
                    component_name: c.name.clone(),
                    component_version: c.version.clone(),
                    purl: c.purl.clone(),
                    package_key: query
                        .as_ref()
                        .map(|q| analysis::key_string(q.ecosystem, &q.name)),
                    advisory_id: f.id.clone(),
                    aliases: f.aliases.clone(),
                    summary: f.title.clone().unwrap_or_default(),
                    rank: analysis::rank(&severity, score),
                    severity,
                    score,
                    fix_version: c.fixed_versions.first().cloned(),
                    fixed_versions: c.fixed_versions.clone(),
                    sources: vec![tool.clone()],
                    vector: f.severity.as_ref().and_then(|s| s.vector.clone()),
                });
            }
            (location, kind) => others.push(palisade_store::scans::ScanFindingRow {
                kind: kind.as_str().to_owned(),
                fingerprint: f.fingerprint.clone(),
                rule_id: f.id.clone(),
                aliases: f.aliases.clone(),
                title: f.title.clone().unwrap_or_default(),
                severity,
                score,
                location: serde_json::to_value(location).map_err(ApiError::internal)?,
                location_text: location.summary(),
            }),
        }
    }
    let outcome = s
        .store
        .apply_scan(artifact, name, team_id, &tool, &components, &others, actor)
        .await?;
    crate::prioritise::prioritise_artifact(
        &s.store,
        &palisade_risk::priority::Policy::default(),
        artifact,
    )
    .await?;
    s.store.audit(actor, action, artifact, Some(&tool)).await?;
    Ok(ScanUploaded {
        format: doc.format.to_string(),
        tool,
        raw,
        merged: merged.findings.len(),
        outcome,
        warnings: doc
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.path, w.reason))
            .collect(),
    })
}

/// What to scan with the configured scanners.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RunScanRequest {
    /// An absolute path on the server (directory or file) or an image
    /// reference.
    target: String,
    /// `directory`, `image` or `artifact`; guessed when absent (an
    /// absolute path that is a directory or a file, else an image).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    kind: Option<palisade_scanners::TargetKind>,
    /// The artifact the findings belong to (`sha256:<hex>`).
    artifact: String,
    /// The artifact's name, when it is new to Palisade.
    #[serde(default)]
    name: Option<String>,
    /// The scanners to run; absent or empty: every enabled one that
    /// applies to the target.
    #[serde(default)]
    scanners: Vec<String>,
}

/// A queued scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanQueued {
    /// False when the same scan was already waiting.
    queued: bool,
    /// The target kind.
    kind: String,
    /// The scanners the job will run.
    scanners: Vec<String>,
}

/// Queues a `scan` job: the server's configured external scanners
/// (`palisade server --scanners FILE`) run against the target and each
/// one's output is imported for the artifact exactly as an upload to
/// `POST /api/v1/scans` would be.
#[utoipa::path(post, path = "/api/v1/scans/run", tag = "vulnerabilities",
    request_body = RunScanRequest,
    responses((status = 202, body = ScanQueued), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the server has no scanners configuration")))]
async fn run_scan(
    State(s): State<AppState>,
    caller: Caller,
    Json(r): Json<RunScanRequest>,
) -> ApiResult<(StatusCode, Json<ScanQueued>)> {
    use crate::scan_job::{SCAN_JOB, ScanPayload, target_of};
    caller.require(&[Role::Admin, Role::Ci])?;
    super::check_digest(&r.artifact)?;
    let config = s.scanners.clone().ok_or_else(|| {
        ApiError::conflict(
            "this server has no scanners configuration (start it with --scanners FILE)",
        )
    })?;
    let target = target_of(&r.target, r.kind).map_err(ApiError::invalid)?;
    let selected: Vec<String> = config
        .select(target.kind, &r.scanners)
        .map_err(|e| ApiError::invalid(e.to_string()))?
        .into_iter()
        .map(|sc| sc.name.clone())
        .collect();
    if selected.is_empty() {
        return Err(ApiError::invalid(format!(
            "no configured scanner applies to a {} target",
            target.kind
        )));
    }
    let payload = serde_json::to_string(&ScanPayload {
        target: target.value.clone(),
        kind: target.kind,
        artifact: r.artifact.clone(),
        name: r.name.clone(),
        scanners: r.scanners.clone(),
        team_id: caller.0.team_id.clone(),
        actor: Some(caller.actor()),
    })
    .map_err(ApiError::internal)?;
    let dedup = format!(
        "{SCAN_JOB}:{}:{}:{}",
        r.artifact,
        target.value,
        selected.join(",")
    );
    let queued = s
        .store
        .enqueue(SCAN_JOB, &payload, Some(&dedup), palisade_store::now_ms())
        .await?;
    if queued {
        s.jobs_ready.notify_waiters();
    }
    s.store
        .audit(
            &caller.actor(),
            "scan.queue",
            &r.artifact,
            Some(&selected.join(",")),
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ScanQueued {
            queued,
            kind: target.kind.to_string(),
            scanners: selected,
        }),
    ))
}

/// An artifact's findings from other scanners that are not about a
/// component (code, dynamic, runtime...).
#[utoipa::path(get, path = "/api/v1/artifacts/{digest}/scan-findings", tag = "vulnerabilities", params(("digest" = String, Path)),
    responses((status = 200, description = "the findings"), (status = 404, body = ErrorBody)))]
async fn artifact_scan_findings(
    State(s): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> ApiResult<Json<Vec<palisade_store::scans::ScanFinding>>> {
    if !s.store.artifact_visible(&caller.scope(), &digest).await? {
        return Err(ApiError::not_found(format!("artifact {digest}")));
    }
    Ok(Json(s.store.scan_findings_of(&digest).await?))
}
