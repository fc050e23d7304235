//! The `scan` job: runs the configured external scanners
//! (`palisade server --scanners FILE`, see docs/scanners.md) against a
//! target for an artifact and imports each one's output exactly as an
//! upload to `POST /api/v1/scans` would.
//!
//! A scanner that fails (cannot start, bad exit code, timeout, unreadable
//! output) does not fail the job: the others' results are imported, the
//! failure is in the job's result, logged and audited (`scan.failed`).
//! Retrying would run a slow or broken scanner again up to five times. Only
//! store errors fail the job (and so retry it; imports are idempotent).

use std::sync::Arc;

use palisade_scanners::{Config, Target, TargetKind};
use serde::{Deserialize, Serialize};

use crate::AppState;

/// The job kind.
pub const SCAN_JOB: &str = "scan";

/// The payload of a `scan` job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScanPayload {
    /// The directory or file (a path on the server) or image reference.
    pub target: String,
    /// Its kind.
    pub kind: TargetKind,
    /// The artifact the findings belong to (`sha256:<hex>`).
    pub artifact: String,
    /// The artifact's name when it is new to Palisade.
    #[serde(default)]
    pub name: Option<String>,
    /// The scanners to run; empty: every enabled one that applies.
    #[serde(default)]
    pub scanners: Vec<String>,
    /// The team of the caller that queued it.
    #[serde(default)]
    pub team_id: Option<String>,
    /// Who queued it (for the audit log).
    #[serde(default)]
    pub actor: Option<String>,
}

/// Resolves what a request names into a target: `kind` when given,
/// otherwise a directory, a file (artifact) or an image reference.
pub fn target_of(target: &str, kind: Option<TargetKind>) -> Result<Target, String> {
    let path = std::path::Path::new(target);
    let on_disk = |k| Target::path(k, path).map_err(|e| format!("target {target:?}: {e}"));
    match kind {
        Some(TargetKind::Image) if !path.is_absolute() || !path.exists() => Target::image(target),
        Some(_) if !path.is_absolute() => Err(format!(
            "target {target:?}: a directory or artifact is an absolute path on the server"
        )),
        Some(k) => on_disk(k),
        None if path.is_absolute() && path.is_dir() => on_disk(TargetKind::Directory),
        None if path.is_absolute() && path.exists() => on_disk(TargetKind::Artifact),
        None if path.is_absolute() => Err(format!("target {target:?} does not exist")),
        None => Target::image(target),
    }
}

/// Runs a `scan` job.
pub async fn scan_job(s: &AppState, payload: &str) -> Result<serde_json::Value, String> {
    let p: ScanPayload =
        serde_json::from_str(payload).map_err(|e| format!("payload of {SCAN_JOB}: {e}"))?;
    let config: Arc<Config> = s.scanners.clone().ok_or_else(|| {
        "this server has no scanners configuration (start it with --scanners FILE)".to_owned()
    })?;
    let target = target_of(&p.target, Some(p.kind))?;
    let names = p.scanners.clone();
    let runs = {
        let config = config.clone();
        let target = target.clone();
        tokio::task::spawn_blocking(move || {
            let selected = config
                .select(target.kind, &names)
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(
                selected
                    .into_iter()
                    .map(|sc| (sc.name.clone(), palisade_scanners::run(sc, &target)))
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .map_err(|e| e.to_string())??
    };
    let name = p.name.clone().unwrap_or_else(|| p.artifact.clone());
    let actor = p
        .actor
        .clone()
        .unwrap_or_else(|| format!("worker:{SCAN_JOB}"));
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for (scanner, run) in runs {
        match run {
            Ok(r) => {
                let imported = crate::api::vulns::import_document(
                    s,
                    &p.artifact,
                    &name,
                    p.team_id.as_deref(),
                    &r.import,
                    &actor,
                    "scan.run",
                )
                .await
                .map_err(|e| format!("scanner {scanner}: importing: {}", e.message))?;
                results.push(serde_json::json!({
                    "scanner": scanner,
                    "status": "ok",
                    "exit_code": r.exit_code,
                    "duration_ms": u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
                    "imported": imported,
                }));
            }
            Err(e) => {
                tracing::warn!(scanner = %scanner, artifact = %p.artifact, error = %e, "scanner failed");
                s.store
                    .audit(&actor, "scan.failed", &p.artifact, Some(&e.to_string()))
                    .await
                    .map_err(|e| e.to_string())?;
                failures.push(e.to_string());
                results.push(serde_json::json!({
                    "scanner": scanner,
                    "status": "failed",
                    "reason": e.reason(),
                    "error": e.to_string(),
                }));
            }
        }
    }
    Ok(serde_json::json!({
        "artifact": p.artifact,
        "target": target,
        "failed": failures.len(),
        "scanners": results,
    }))
}
