//! Background workers: they claim jobs from the database queue (shared by
//! every server process), run them under a renewed lease and record the
//! result. A process killed mid-job stops renewing; the lease runs out and
//! another worker runs the job again, so handlers are idempotent.
//!
//! Jobs:
//! - `reanalyse` (`{"keys": [...], "reason": "..."}`): re-match the stored
//!   components of those packages after an advisory change;
//! - `sweep`: record expired exceptions, then re-decide every running
//!   deployment (decisions follow the evidence: an expired exception or a
//!   new finding shows up in what already runs, not only at the next
//!   admission);
//! - `audit`: re-decide every running deployment.
//! - `fetch-evidence` (`{"image": "..."}`): resolve an image in its
//!   registry and ingest the attestations attached to it (see
//!   [`crate::evidence`]).

use std::collections::BTreeSet;
use std::time::Duration;

use palisade_store::advisories::REANALYSE_JOB;
use palisade_store::queue::Job;
use palisade_store::{StoreError, now_ms};
use serde::Deserialize;

use crate::AppState;
use crate::analysis;

/// How long a claimed job is held, by default, before another worker may
/// take it.
pub const LEASE_MS: i64 = 30_000;

/// How often idle workers look for jobs queued by other processes.
pub const POLL: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
struct ReanalysePayload {
    keys: BTreeSet<String>,
    /// The advisories that changed (absent in jobs queued by older
    /// versions: then every finding of the packages is decided again).
    #[serde(default)]
    advisories: Option<BTreeSet<String>>,
    #[serde(default)]
    reason: Option<String>,
}

/// Runs one job; returns its result (JSON).
pub async fn run_job(state: &AppState, job: &Job) -> Result<serde_json::Value, String> {
    match job.kind.as_str() {
        REANALYSE_JOB => {
            let p: ReanalysePayload = serde_json::from_str(&job.payload)
                .map_err(|e| format!("payload of {}: {e}", job.kind))?;
            let reason = p
                .reason
                .unwrap_or_else(|| "no longer affected according to the current advisories".into());
            let (changes, artifacts) =
                analysis::reanalyse_keys(&state.store, &p.keys, p.advisories.as_ref(), &reason)
                    .await
                    .map_err(|e| e.to_string())?;
            Ok(serde_json::json!({
                "artifacts": artifacts,
                "new": changes.new.len() + changes.reopened.len(),
                "changed": changes.changed.len(),
                "resolved": changes.resolved.len(),
            }))
        }
        "sweep" => {
            let expired = state
                .store
                .sweep_expired_exceptions(now_ms())
                .await
                .map_err(|e| e.to_string())?;
            let audited = audit(state).await.map_err(|e| e.to_string())?;
            Ok(serde_json::json!({"expired_exceptions": expired, "decisions": audited}))
        }
        "prioritise" => {
            let n = crate::prioritise::prioritise_all(
                &state.store,
                &palisade_risk::priority::Policy::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            Ok(serde_json::json!({"findings": n}))
        }
        "advisory-sync" => {
            let Some(sync) = state.sync.clone() else {
                return Ok(serde_json::json!({"skipped": "no advisory sync configured"}));
            };
            let report = tokio::task::spawn_blocking(move || sync_advisories(&sync))
                .await
                .map_err(|e| e.to_string())??;
            let upsert = state
                .store
                .upsert_advisories(&report.rows)
                .await
                .map_err(|e| e.to_string())?;
            if upsert.job.is_some() {
                state.jobs_ready.notify_waiters();
            }
            Ok(serde_json::json!({
                "downloaded": report.downloaded,
                "not_modified": report.not_modified,
                "rejected": report.rejected,
                "new": upsert.new,
                "updated": upsert.updated,
                "unchanged": upsert.unchanged,
                "reanalysis": upsert.job,
            }))
        }
        "audit" => {
            let audited = audit(state).await.map_err(|e| e.to_string())?;
            Ok(serde_json::json!({"decisions": audited}))
        }
        crate::api::notify::JOB => crate::api::notify::run_job(state).await,
        crate::evidence::FETCH_JOB => crate::evidence::fetch_job(state, &job.payload).await,
        crate::scan_job::SCAN_JOB => crate::scan_job::scan_job(state, &job.payload).await,
        other => Err(format!("unknown job kind {other:?}")),
    }
}

/// Where and what the periodic advisory sync downloads.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// The export bucket's base URL (`<base>/<ecosystem>/all.zip`).
    pub base_url: String,
    /// The ecosystems to download.
    pub ecosystems: Vec<String>,
    /// Where the downloads are kept (conditional requests and resumption
    /// need the previous copy).
    pub dir: std::path::PathBuf,
    /// How often.
    pub every: Duration,
}

struct SyncReport {
    rows: Vec<palisade_store::advisories::AdvisoryRow>,
    downloaded: Vec<String>,
    not_modified: Vec<String>,
    rejected: usize,
}

/// Downloads the exports (conditional requests, resumable) and reads the
/// changed ones into store rows.
fn sync_advisories(sync: &SyncConfig) -> Result<SyncReport, String> {
    use palisade_advisory::sync::{Downloader, Outcome};
    let downloader = Downloader::new(&sync.base_url, &sync.dir);
    let mut report = SyncReport {
        rows: Vec::new(),
        downloaded: Vec::new(),
        not_modified: Vec::new(),
        rejected: 0,
    };
    for eco in &sync.ecosystems {
        match downloader
            .fetch(eco, &mut |_, _| {})
            .map_err(|e| format!("{eco}: {e}"))?
        {
            Outcome::NotModified => report.not_modified.push(eco.clone()),
            Outcome::Downloaded { .. } => {
                report.downloaded.push(eco.clone());
                let source = palisade_advisory::Source::open(&downloader.zip_path(eco))
                    .map_err(|e| format!("{eco}: {e}"))?;
                source
                    .for_each(
                        |item| match item.bytes.and_then(|b| analysis::advisory_row(&b)) {
                            Ok(r) => report.rows.push(r),
                            Err(_) => report.rejected += 1,
                        },
                    )
                    .map_err(|e| format!("{eco}: {e}"))?;
            }
        }
    }
    Ok(report)
}

/// Re-decides every running deployment; returns how many decisions were
/// recorded.
pub async fn audit(state: &AppState) -> Result<usize, StoreError> {
    let running = state.store.running_deployments().await?;
    let mut n = 0;
    for r in running {
        let subject = crate::decide::Subject {
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
            source: "audit".to_owned(),
        };
        crate::decide::decide(state, &subject).await?;
        n += 1;
    }
    Ok(n)
}

/// Claims and runs jobs until none is ready, holding each for `lease_ms`
/// (renewed every third of it while the job runs).
pub async fn drain(state: &AppState, worker: &str, lease_ms: i64) -> Result<usize, StoreError> {
    let mut ran = 0;
    while let Some(job) = state.store.claim(worker, lease_ms).await? {
        ran += 1;
        let renew = {
            let store = state.store.clone();
            let id = job.id.clone();
            let worker = worker.to_owned();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(
                        u64::try_from(LEASE_MS / 3).unwrap_or(10_000),
                    ))
                    .await;
                    match store.renew(&id, &worker, LEASE_MS).await {
                        Ok(true) => {}
                        _ => break,
                    }
                }
            })
        };
        let started = std::time::Instant::now();
        let result = run_job(state, &job).await;
        renew.abort();
        metrics::histogram!("palisade_job_seconds", "kind" => job.kind.clone())
            .record(started.elapsed().as_secs_f64());
        match result {
            Ok(v) => {
                tracing::info!(job = %job.id, kind = %job.kind, result = %v, "job done");
                state
                    .store
                    .complete_with(&job.id, worker, Some(&v.to_string()))
                    .await?;
            }
            Err(e) => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %e, "job failed");
                let backoff = 1000 * (1i64 << job.attempts.clamp(0, 6));
                state.store.fail(&job.id, worker, &e, backoff).await?;
            }
        }
    }
    Ok(ran)
}

/// Options of the background workers.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// How many worker tasks.
    pub workers: usize,
    /// How often to sweep exceptions and audit running deployments.
    pub sweep_every: Duration,
    /// How long a claimed job is held before another worker may take it.
    pub lease: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            workers: 2,
            sweep_every: Duration::from_secs(300),
            lease: Duration::from_millis(LEASE_MS.unsigned_abs()),
        }
    }
}

/// Starts the workers and the scheduler; they stop when `stop` is notified.
pub fn spawn(
    state: AppState,
    options: WorkerOptions,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let process = format!("{}-{}", hostname(), std::process::id());
    let lease_ms = i64::try_from(options.lease.as_millis())
        .unwrap_or(LEASE_MS)
        .max(1000);
    let mut handles = Vec::new();
    for i in 0..options.workers.max(1) {
        let state = state.clone();
        let mut stop = stop.clone();
        let name = format!("{process}-w{i}");
        handles.push(tokio::spawn(async move {
            loop {
                if *stop.borrow() {
                    break;
                }
                if let Err(e) = drain(&state, &name, lease_ms).await {
                    tracing::warn!(worker = %name, error = %e, "worker error");
                }
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = state.jobs_ready.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        }));
    }
    handles.push(crate::api::notify::schedule(state.clone(), stop.clone()));
    // The scheduler queues the periodic sweep (deduplicated across
    // processes by its key).
    let mut stop2 = stop.clone();
    handles.push(tokio::spawn(async move {
        loop {
            if *stop2.borrow() {
                break;
            }
            let slot = now_ms()
                / i64::try_from(options.sweep_every.as_millis())
                    .unwrap_or(300_000)
                    .max(1);
            let key = format!("sweep-{slot}");
            match state
                .store
                .enqueue("sweep", "{}", Some(&key), now_ms())
                .await
            {
                Ok(true) => state.jobs_ready.notify_waiters(),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "cannot queue the sweep"),
            }
            if let Some(sync) = &state.sync {
                let slot = now_ms()
                    / i64::try_from(sync.every.as_millis())
                        .unwrap_or(3_600_000)
                        .max(1);
                let key = format!("advisory-sync-{slot}");
                match state
                    .store
                    .enqueue("advisory-sync", "{}", Some(&key), now_ms())
                    .await
                {
                    Ok(true) => state.jobs_ready.notify_waiters(),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot queue the advisory sync"),
                }
            }
            let tick = match &state.sync {
                Some(s) => options.sweep_every.min(s.every),
                None => options.sweep_every,
            };
            tokio::select! {
                _ = stop2.changed() => break,
                _ = tokio::time::sleep(tick) => {}
            }
        }
    }));
    handles
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "palisade".to_owned())
}
