//! Evidence ingest: one path for attestations uploaded to the API and for
//! those fetched from registries by the `fetch-evidence` job.
//!
//! A document (a DSSE envelope or a Sigstore bundle) is verified here, once,
//! against the server's [`crate::trust::Trust`]; a verified one has its
//! verdict stored per subject digest, an unverified one is reported and not
//! stored. Decisions later read the stored verdicts: the admission webhook
//! never reaches a registry. When it meets an image the store cannot
//! resolve, it queues `fetch-evidence` (see [`request_fetch`]) so that the
//! next admission finds the digest and the evidence.

use std::sync::Arc;

use palisade_oci::{Evidence, FetchOptions, Reference};
use palisade_store::now_ms;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::trust::{EvidenceKind, claimed_subjects, detect};

/// The job kind that fetches an image's evidence from its registry.
pub const FETCH_JOB: &str = "fetch-evidence";

/// Who sent a document, and what it is about.
#[derive(Clone, Debug, Default)]
pub struct IngestContext<'a> {
    /// The artifact (`sha256:<hex>`) it is for, when known.
    pub artifact: Option<&'a str>,
    /// The artifact's name, when it is new to Palisade.
    pub name: Option<&'a str>,
    /// Who, for the audit log.
    pub actor: &'a str,
    /// The audit action (`attestation.upload`, `attestation.fetch`).
    pub action: &'a str,
    /// The team the artifact belongs to.
    pub team_id: Option<&'a str>,
}

/// The outcome of ingesting one document.
#[derive(Clone, Debug)]
pub struct Ingested {
    /// Whether it verified (and so was stored).
    pub verified: bool,
    /// The predicate type.
    pub predicate_type: Option<String>,
    /// The artifacts it was stored for.
    pub artifacts: Vec<String>,
    /// The verification, every check with its result.
    pub verification: serde_json::Value,
}

/// Verifies a DSSE envelope or Sigstore bundle with the server's trust
/// settings and, when it verifies, stores its verdict for each subject.
/// An error means the document is unusable (not JSON, no subject, ...);
/// a document that does not verify is `Ok` with `verified: false`.
pub async fn ingest(s: &AppState, body: &[u8], cx: &IngestContext<'_>) -> ApiResult<Ingested> {
    let doc: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("body is not JSON: {e}")))?;
    let kind = detect(&doc).ok_or_else(|| {
        ApiError::invalid("body is neither a DSSE envelope (payloadType, payload, signatures) nor a Sigstore bundle (mediaType)")
    })?;
    let claimed = claimed_subjects(&doc);
    let trust = s.trust.clone();
    let artifact_param = cx.artifact.map(str::to_owned);
    let bytes = body.to_vec();
    let verification = tokio::task::spawn_blocking(move || match kind {
        EvidenceKind::Dsse => trust.verify_dsse(&bytes),
        EvidenceKind::SigstoreBundle => {
            let artifact = artifact_param
                .or_else(|| claimed.first().cloned())
                .ok_or_else(|| {
                    "give ?artifact=sha256:<hex>: the bundle names no subject".to_owned()
                })?;
            trust.verify_bundle(&bytes, &artifact)
        }
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::invalid)?;
    let verdict = serde_json::to_value(&verification).map_err(ApiError::internal)?;
    if !verification.verified {
        return Ok(Ingested {
            verified: false,
            predicate_type: verification.predicate_type.clone(),
            artifacts: Vec::new(),
            verification: verdict,
        });
    }
    let mut subjects: Vec<String> = verification
        .subjects
        .iter()
        .filter_map(|s| s.digest.get("sha256"))
        .map(|h| format!("sha256:{}", h.to_ascii_lowercase()))
        .collect();
    if let Some(a) = cx.artifact {
        crate::api::check_digest(a)?;
        if kind == EvidenceKind::SigstoreBundle || subjects.is_empty() {
            subjects = vec![a.to_owned()];
        } else if !subjects.iter().any(|s| s == a) {
            return Err(ApiError::invalid(format!(
                "the statement's subjects ({}) do not include {a}",
                subjects.join(", ")
            )));
        }
    }
    if subjects.is_empty() {
        return Err(ApiError::invalid(
            "the verified statement names no sha256 subject",
        ));
    }
    let signer = verification.signers.first().and_then(|sg| {
        sg.certificate_identity.clone().or_else(|| {
            sg.keyid
                .as_deref()
                .map(|k| s.trust.key_name(k).unwrap_or(k).to_owned())
        })
    });
    let envelope_digest = crate::analysis::sha256_digest(body);
    let predicate_type = verification
        .predicate_type
        .clone()
        .unwrap_or_else(|| "https://palisade.dev/unknown".to_owned());
    for subject in &subjects {
        let name = cx
            .name
            .map(str::to_owned)
            .or_else(|| {
                verification
                    .subjects
                    .iter()
                    .find(|x| {
                        x.digest
                            .get("sha256")
                            .map(|h| format!("sha256:{h}"))
                            .as_ref()
                            == Some(subject)
                    })
                    .map(|x| x.name.clone())
            })
            .unwrap_or_else(|| subject.clone());
        s.store
            .record_attestation(
                &palisade_store::governance::AttestationRow {
                    id: String::new(),
                    artifact_digest: subject.clone(),
                    envelope_digest: envelope_digest.clone(),
                    predicate_type: predicate_type.clone(),
                    verified: true,
                    signer: signer.clone(),
                    verdict: verdict.clone(),
                    statement: verification.statement.clone(),
                    created_at: now_ms(),
                },
                &name,
                cx.team_id,
            )
            .await?;
        s.store
            .audit(cx.actor, cx.action, subject, Some(&predicate_type))
            .await?;
    }
    Ok(Ingested {
        verified: true,
        predicate_type: Some(predicate_type),
        artifacts: subjects,
        verification: verdict,
    })
}

/// The payload of a `fetch-evidence` job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchPayload {
    /// The image reference, as the workload or the gate wrote it.
    pub image: String,
}

/// Queues `fetch-evidence` for `image` after a decision that could not use
/// stored evidence: the digest was unknown (`digest` empty), or the
/// reference pins a digest the store has never seen. Does nothing when the
/// server has no registry client. Never fails the caller: a decision has
/// been made already; the fetch only helps the next one.
pub async fn request_fetch(s: &AppState, image: &str, digest: &str) {
    if s.oci.is_none() || image.is_empty() {
        return;
    }
    if !digest.is_empty() {
        // A tag resolved from the store: the artifact is known.
        if !image.contains('@') || s.decisions.is_known(digest) {
            return;
        }
        match s.store.artifact_name(digest).await {
            Ok(Some(_)) => {
                s.decisions.remember_known(digest);
                return;
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
    let payload = match serde_json::to_string(&FetchPayload {
        image: image.to_owned(),
    }) {
        Ok(p) => p,
        Err(_) => return,
    };
    let dedup = format!("{FETCH_JOB}:{image}");
    match s
        .store
        .enqueue(FETCH_JOB, &payload, Some(&dedup), now_ms())
        .await
    {
        Ok(true) => s.jobs_ready.notify_waiters(),
        Ok(false) => {}
        Err(e) => tracing::warn!(image, error = %e, "cannot queue fetch-evidence"),
    }
}

/// What a `fetch-evidence` job found and did, for its result.
#[derive(Debug, Default, Serialize)]
struct FetchReport {
    image: String,
    digest: String,
    referrers: Option<String>,
    artifacts: usize,
    stored: Vec<serde_json::Value>,
    refused: Vec<serde_json::Value>,
    skipped: Vec<serde_json::Value>,
    problems: Vec<String>,
}

/// Runs a `fetch-evidence` job: resolves the image to its digest, records
/// the name → digest mapping, fetches what is attached to it (cosign tags
/// and OCI referrers), verifies each attestation with the server's trust
/// settings and stores the verdicts of those that verify, exactly as an
/// upload would. Idempotent: a rerun stores nothing new.
pub async fn fetch_job(s: &AppState, payload: &str) -> Result<serde_json::Value, String> {
    let p: FetchPayload =
        serde_json::from_str(payload).map_err(|e| format!("payload of {FETCH_JOB}: {e}"))?;
    let client: Arc<palisade_oci::Client> = s.oci.clone().ok_or_else(|| {
        "this server has no registry client (it was started with --no-registry)".to_owned()
    })?;
    let reference = Reference::parse(&p.image).map_err(|e| e.to_string())?;
    let (digest, attached) = tokio::task::spawn_blocking(move || {
        let resolved = client.resolve(&reference)?;
        let attached = client.attached(&reference, &resolved.digest, FetchOptions::default())?;
        Ok::<_, palisade_oci::Error>((resolved.digest, attached))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let digest = digest.to_string();
    s.store
        .ensure_artifact(&digest, &p.image)
        .await
        .map_err(|e| e.to_string())?;
    let mut report = FetchReport {
        image: p.image.clone(),
        digest: digest.clone(),
        referrers: attached.referrers_path.as_ref().map(ToString::to_string),
        artifacts: attached.artifacts.len(),
        problems: attached.problems.clone(),
        ..FetchReport::default()
    };
    let cx = IngestContext {
        artifact: Some(digest.as_str()),
        name: Some(p.image.as_str()),
        actor: "worker:fetch-evidence",
        action: "attestation.fetch",
        team_id: None,
    };
    // The same document is often attached both ways (a referrer and
    // cosign's `.att`): ingest it once.
    let mut seen = std::collections::BTreeSet::new();
    for (artifact, evidence) in attached.evidence() {
        let from = serde_json::json!({
            "manifest": artifact.manifest.digest.to_string(),
            "source": artifact.source,
            "kind": evidence.kind(),
        });
        let document = match &evidence {
            Evidence::Dsse { envelope, .. } => envelope,
            Evidence::SigstoreBundle { bundle, .. } => bundle,
            Evidence::CosignSignature { .. } => {
                report.skipped.push(serde_json::json!({
                    "from": from,
                    "reason": "cosign simple-signing signatures are listed, not verified, by the server",
                }));
                continue;
            }
            Evidence::Sbom { .. } => {
                report.skipped.push(serde_json::json!({
                    "from": from,
                    "reason": "SBOMs attached to images are listed, not imported, by the server",
                }));
                continue;
            }
        };
        if !seen.insert(crate::analysis::sha256_digest(document)) {
            continue;
        }
        match ingest(s, document, &cx).await {
            Ok(i) if i.verified => report.stored.push(serde_json::json!({
                "from": from,
                "predicate_type": i.predicate_type,
                "artifacts": i.artifacts,
            })),
            Ok(i) => report.refused.push(serde_json::json!({
                "from": from,
                "reason": "it does not verify with the trusted keys and identities",
                "verification": i.verification,
            })),
            // The store failed: run the job again later.
            Err(e) if e.status.is_server_error() => return Err(e.message),
            Err(e) => report.refused.push(serde_json::json!({
                "from": from,
                "reason": e.message,
            })),
        }
    }
    serde_json::to_value(&report).map_err(|e| e.to_string())
}
