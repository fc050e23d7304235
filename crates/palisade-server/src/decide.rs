//! Policy decisions from stored evidence: the one path that the admission
//! webhook, the CI gate endpoint and background audit share.
//!
//! Evidence was verified when it arrived (SBOMs matched, attestations
//! verified and their verdicts stored); a decision assembles the policy
//! input from those stored verdicts, evaluates the compiled policy bundle
//! and records the decision. No network, no signature checking here.

use palisade_policy::decision::ArtifactRef;
use palisade_policy::input::{
    Artifact, Component, Finding as PolicyFinding, PackageRef, SbomSummary, Severity, Signer,
    VerifiedAttestation, Workload,
};
use palisade_policy::{
    Decision, Effect, Engine, Exception, ExceptionScope, PolicyInput, RuleKind, Violation,
};
use palisade_store::governance::{DecisionRow, ExceptionRow};
use palisade_store::model::Scope;
use palisade_store::{Store, StoreError, now_ms};

use crate::AppState;
use time::OffsetDateTime;

/// What a decision is about.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    /// The environment (a name the policy bundle defines).
    pub environment: String,
    /// The image reference as written (`repo:tag`, `repo@sha256:...`).
    pub reference: String,
    /// The digest, when known (from the reference or the store).
    pub digest: Option<String>,
    /// The workload, when deploying.
    pub workload: Option<Workload>,
    /// The workload's id in the store, when registered.
    pub workload_id: Option<String>,
    /// The team owning the workload.
    pub team_id: Option<String>,
    /// `admission`, `gate`, `audit`.
    pub source: String,
}

/// Splits an image reference into name, tag and digest.
pub fn parse_reference(reference: &str) -> (String, Option<String>, Option<String>) {
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d.to_owned())),
        None => (reference, None),
    };
    // A tag follows the last ':' after the last '/' (a registry port has a
    // '/' after it).
    let slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (
            rest[..slash + i].to_owned(),
            Some(rest[slash + i + 1..].to_owned()),
        ),
        None => (rest.to_owned(), None),
    };
    (name, tag, digest)
}

/// Resolves a reference to a digest without network: the digest it pins,
/// else the newest artifact stored under the reference (`repo:tag`) or its
/// name.
pub async fn resolve_digest(store: &Store, reference: &str) -> Result<Option<String>, StoreError> {
    let (name, _tag, digest) = parse_reference(reference);
    if let Some(d) = digest {
        return Ok(Some(d));
    }
    if let Some(d) = store.artifact_digest_by_name(reference).await? {
        return Ok(Some(d));
    }
    store.artifact_digest_by_name(&name).await
}

fn millis_to_time(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A stored exception as the policy engine reads it.
pub fn policy_exception(e: &ExceptionRow) -> Exception {
    Exception {
        id: e.id.clone(),
        scope: ExceptionScope {
            workload: e.workload.clone(),
            artifact: e.artifact.clone(),
            vulnerability: e.vulnerability.clone(),
            policy: e.policy.clone(),
        },
        reason: e.reason.clone(),
        requested_by: e.requested_by.clone(),
        requested_at: millis_to_time(e.requested_at),
        approved_by: e.approved_by.clone(),
        approved_at: e.approved_at.map(millis_to_time),
        expires_at: millis_to_time(e.expires_at),
    }
}

/// Assembles the policy input for an artifact from the store.
pub async fn input_for(
    store: &Store,
    subject: &Subject,
    digest: &str,
) -> Result<PolicyInput, StoreError> {
    let (name, tag, _) = parse_reference(&subject.reference);
    let mut input = PolicyInput::new(Artifact {
        name,
        digest: digest.to_owned(),
        reference: Some(subject.reference.clone()),
        tag,
        source: None,
    });
    input.workload = subject.workload.clone();
    for a in store.attestations_of(digest).await? {
        if !a.verified {
            continue;
        }
        let Some(statement) = a.statement else {
            continue;
        };
        let signer = a.verdict.get("signers").and_then(|s| s.get(0));
        let text = |k: &str| {
            signer
                .and_then(|s| s.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        input.attestations.push(VerifiedAttestation {
            predicate_type: a.predicate_type,
            signer: Signer {
                identity: text("identity")
                    .or_else(|| text("key_id"))
                    .or(a.signer)
                    .unwrap_or_default(),
                issuer: text("issuer"),
                key_id: text("key_id"),
                method: text("method"),
            },
            subject_matches_artifact: true,
            verified_at: Some(format_time(a.created_at)),
            statement,
        });
    }
    if let Some(json) = store.inventories_of(digest).await?.into_iter().next()
        && let Ok(inv) = serde_json::from_str::<palisade_inventory::Inventory>(&json)
    {
        input.sbom = Some(SbomSummary {
            format: inv
                .metadata
                .source_format
                .as_deref()
                .and_then(|f| f.split_whitespace().next())
                .unwrap_or("unknown")
                .to_owned(),
            spec_version: inv
                .metadata
                .source_format
                .as_deref()
                .and_then(|f| f.split_whitespace().nth(1))
                .map(str::to_owned),
            component_count: u64::try_from(inv.components.len()).unwrap_or(u64::MAX),
            components: inv
                .components
                .iter()
                .map(|c| Component {
                    name: c.name.clone(),
                    version: c.version.clone(),
                    purl: c.purl.clone(),
                    licenses: c.license.iter().cloned().collect(),
                })
                .collect(),
        });
    }
    let filter = palisade_store::findings::FindingFilter {
        artifact: Some(digest.to_owned()),
        ..Default::default()
    };
    let mut after: Option<String> = None;
    let mut stored = Vec::new();
    loop {
        let page = store
            .list_findings(&Scope::All, &filter, after.as_deref(), 500)
            .await?;
        stored.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let cves: Vec<String> = stored
        .iter()
        .flat_map(|f| std::iter::once(f.advisory_id.clone()).chain(f.aliases.iter().cloned()))
        .filter(|i| i.starts_with("CVE-"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let epss = store.epss_for(&cves).await?;
    let kev = store.kev_for(&cves).await?;
    {
        for f in stored {
            let names: Vec<&String> = std::iter::once(&f.advisory_id)
                .chain(f.aliases.iter())
                .collect();
            let in_kev = names.iter().any(|n| kev.contains_key(*n));
            let best_epss = names
                .iter()
                .filter_map(|n| epss.get(*n).map(|e| e.score))
                .fold(None, |acc: Option<f64>, s| {
                    Some(acc.map_or(s, |a| a.max(s)))
                });
            input.findings.push(PolicyFinding {
                id: f.advisory_id,
                aliases: f.aliases,
                severity: Severity::parse(&f.severity).unwrap_or(Severity::Unknown),
                priority: (!f.priority.is_empty()).then(|| f.priority.to_lowercase()),
                kev: in_kev,
                epss: best_epss,
                published: None,
                age_days: None,
                fix_available: f.fix_version.is_some() || !f.fixed_versions.is_empty(),
                fixed_versions: f.fixed_versions,
                fix_published: None,
                fix_age_days: None,
                package: Some(PackageRef {
                    name: f.component_name,
                    version: f.component_version,
                    purl: f.purl,
                    ecosystem: f
                        .package_key
                        .as_deref()
                        .and_then(|k| k.split_once('/'))
                        .map(|(e, _)| e.to_owned()),
                }),
            });
        }
    }
    Ok(input)
}

/// The reasons of a decision, for people: violations in force, then errors.
pub fn reasons(d: &Decision) -> Vec<String> {
    let mut out: Vec<String> = d
        .violations
        .iter()
        .map(|v| format!("[{}] {}: {}", v.effect.as_str(), v.policy, v.message))
        .collect();
    out.extend(d.errors.iter().map(|e| format!("[error] {}", e.message)));
    out
}

/// Decisions already taken, by what they were taken on, so that a burst of
/// admissions for the same images costs one evaluation.
///
/// An entry is right while the store's evidence generation (bumped in the
/// same transaction as every write to what [`input_for`] and the exceptions
/// read, by any process sharing the database) is unchanged, no exception it
/// saw has expired, and for at most [`DecisionCache::MAX_AGE_MS`] (policies
/// may read the time). Every decision is still recorded, with its own time.
#[derive(Debug, Default)]
pub struct DecisionCache {
    inner: std::sync::Mutex<CacheInner>,
    /// Artifacts known to the store. Artifacts are never deleted, so a
    /// digest once known stays known whatever the generation.
    known: std::sync::Mutex<std::collections::HashSet<String>>,
}

#[derive(Debug, Default)]
struct CacheInner {
    generation: i64,
    exceptions: Option<(std::sync::Arc<Vec<Exception>>, i64)>,
    decisions: std::collections::HashMap<CacheKey, CachedDecision>,
    /// (cluster, namespace) → (environment name, application id).
    namespaces: std::collections::HashMap<(String, String), Option<(String, String)>>,
    /// (application id, environment, namespace, name) → the registered
    /// workload. Workloads are only ever inserted, never changed; the
    /// generation still scopes them, as environments can be redefined.
    workloads: std::collections::HashMap<WorkloadKey, palisade_store::model::WorkloadView>,
    /// (reference, digest) → the artifact's policy input, prepared once for
    /// every decision about it under this generation (each workload and
    /// environment, and each decision after another's cache entry expired).
    prepared: std::collections::HashMap<(String, String), PreparedInput>,
}

/// An artifact's policy input prepared for many decisions.
type PreparedInput = std::sync::Arc<palisade_policy::PreparedArtifact<'static>>;

type WorkloadKey = (String, String, String, String);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    bundle: String,
    environment: String,
    reference: String,
    digest: Option<String>,
    workload: String,
}

#[derive(Debug, Clone)]
struct CachedDecision {
    digest: Option<String>,
    decision: Decision,
    valid_until: i64,
}

impl DecisionCache {
    /// The longest a decision is reused, in milliseconds.
    pub const MAX_AGE_MS: i64 = 60_000;
    /// At most this many decisions are kept (the oldest generation's are
    /// dropped together when it is exceeded).
    const CAPACITY: usize = 50_000;
    /// At most this many prepared inputs are kept: each holds an artifact's
    /// findings and components converted, and their canonical text (about
    /// 0.5 MB for 500 findings and 300 components; several MB for an image
    /// with thousands of components).
    const PREPARED_CAPACITY: usize = 256;

    /// Whether `digest` was seen in the store before (see [`Self::remember_known`]).
    pub fn is_known(&self, digest: &str) -> bool {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(digest)
    }

    /// Remembers that the store knows `digest`.
    pub fn remember_known(&self, digest: &str) {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.len() >= Self::CAPACITY {
            known.clear();
        }
        known.insert(digest.to_owned());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A poisoned lock only means another request panicked while holding
        // it; the map is still a valid cache.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Drops everything when the generation moved on.
    fn at(inner: &mut CacheInner, generation: i64) {
        if inner.generation != generation {
            inner.generation = generation;
            inner.exceptions = None;
            inner.decisions.clear();
            inner.namespaces.clear();
            inner.workloads.clear();
            inner.prepared.clear();
        }
    }

    fn prepared(&self, generation: i64, key: &(String, String)) -> Option<PreparedInput> {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        inner.prepared.get(key).cloned()
    }

    fn put_prepared(&self, generation: i64, key: (String, String), value: PreparedInput) {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        if inner.prepared.len() >= Self::PREPARED_CAPACITY {
            inner.prepared.clear();
        }
        inner.prepared.insert(key, value);
    }

    fn workload(
        &self,
        generation: i64,
        key: &WorkloadKey,
    ) -> Option<palisade_store::model::WorkloadView> {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        inner.workloads.get(key).cloned()
    }

    fn put_workload(
        &self,
        generation: i64,
        key: WorkloadKey,
        value: palisade_store::model::WorkloadView,
    ) {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        if inner.workloads.len() >= Self::CAPACITY {
            inner.workloads.clear();
        }
        inner.workloads.insert(key, value);
    }

    fn decision(&self, generation: i64, key: &CacheKey, now: i64) -> Option<CachedDecision> {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        inner
            .decisions
            .get(key)
            .filter(|c| now < c.valid_until)
            .cloned()
    }

    fn put_decision(&self, generation: i64, key: CacheKey, value: CachedDecision) {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        if inner.decisions.len() >= Self::CAPACITY {
            inner.decisions.clear();
        }
        inner.decisions.insert(key, value);
    }

    fn namespace(
        &self,
        generation: i64,
        key: &(String, String),
    ) -> Option<Option<(String, String)>> {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        inner.namespaces.get(key).cloned()
    }

    fn put_namespace(
        &self,
        generation: i64,
        key: (String, String),
        value: Option<(String, String)>,
    ) {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        if inner.namespaces.len() >= Self::CAPACITY {
            inner.namespaces.clear();
        }
        inner.namespaces.insert(key, value);
    }

    fn exceptions(
        &self,
        generation: i64,
        now: i64,
    ) -> Option<(std::sync::Arc<Vec<Exception>>, i64)> {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        inner
            .exceptions
            .clone()
            .filter(|(_, valid_until)| now < *valid_until)
    }

    fn put_exceptions(&self, generation: i64, value: (std::sync::Arc<Vec<Exception>>, i64)) {
        let mut inner = self.lock();
        Self::at(&mut inner, generation);
        inner.exceptions = Some(value);
    }
}

/// The exceptions in force now, and until when that list holds (the first
/// expiry among them).
async fn live_exceptions(
    s: &AppState,
    generation: i64,
    now: i64,
) -> Result<(std::sync::Arc<Vec<Exception>>, i64), StoreError> {
    if let Some(hit) = s.decisions.exceptions(generation, now) {
        return Ok(hit);
    }
    let rows = s.store.live_exceptions(now).await?;
    let valid_until = rows
        .iter()
        .map(|e| e.expires_at)
        .fold(now + DecisionCache::MAX_AGE_MS, i64::min);
    let list = std::sync::Arc::new(rows.iter().map(policy_exception).collect::<Vec<_>>());
    s.decisions
        .put_exceptions(generation, (list.clone(), valid_until));
    Ok((list, valid_until))
}

/// The environment (by name) and application a namespace of a cluster is
/// mapped to, read under `generation` (see [`DecisionCache`]).
pub async fn namespace_environment(
    s: &AppState,
    generation: i64,
    cluster: &str,
    namespace: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let key = (cluster.to_owned(), namespace.to_owned());
    if let Some(hit) = s.decisions.namespace(generation, &key) {
        return Ok(hit);
    }
    let value = match s.store.namespace_mapping(cluster, namespace).await? {
        Some((env_id, app_id)) => {
            let environments = s.store.list_environments().await?;
            let name = environments
                .iter()
                .find(|e| e.id == env_id)
                .map(|e| e.name.clone())
                .unwrap_or_default();
            Some((name, app_id))
        }
        None => None,
    };
    s.decisions.put_namespace(generation, key, value.clone());
    Ok(value)
}

/// The workload `name` of an application in `namespace` and `environment`,
/// registered on first sight (see [`Store::workload_for_application`]),
/// read under `generation`: admission asks for it on every review.
pub async fn registered_workload(
    s: &AppState,
    generation: i64,
    application_id: &str,
    environment: &str,
    namespace: &str,
    name: &str,
    kind: &str,
) -> Result<Option<palisade_store::model::WorkloadView>, StoreError> {
    let key = (
        application_id.to_owned(),
        environment.to_owned(),
        namespace.to_owned(),
        name.to_owned(),
    );
    if let Some(hit) = s.decisions.workload(generation, &key) {
        return Ok(Some(hit));
    }
    let found = s
        .store
        .workload_for_application(application_id, environment, namespace, name, kind)
        .await?;
    if let Some(w) = &found {
        s.decisions.put_workload(generation, key, w.clone());
    }
    Ok(found)
}

/// The policy input of the artifact `digest` named by `subject`'s
/// reference, prepared once per evidence generation (see
/// [`palisade_policy::PreparedArtifact`]); the workload is the decision's.
async fn prepared_input(
    s: &AppState,
    generation: i64,
    subject: &Subject,
    digest: &str,
) -> Result<PreparedInput, StoreError> {
    let key = (subject.reference.clone(), digest.to_owned());
    if let Some(hit) = s.decisions.prepared(generation, &key) {
        return Ok(hit);
    }
    let mut input = input_for(&s.store, subject, digest).await?;
    input.workload = None;
    let prepared = std::sync::Arc::new(palisade_policy::PreparedArtifact::owned(input));
    s.decisions.put_prepared(generation, key, prepared.clone());
    Ok(prepared)
}

/// Decides about `subject` and records the decision. Returns the decision
/// and its id.
pub async fn decide(s: &AppState, subject: &Subject) -> Result<(Decision, String), StoreError> {
    let generation = s.store.evidence_generation().await?;
    decide_at(s, subject, generation).await
}

/// [`decide`] with the evidence generation the caller has read already.
pub async fn decide_at(
    s: &AppState,
    subject: &Subject,
    generation: i64,
) -> Result<(Decision, String), StoreError> {
    let store = &s.store;
    let engine = &s.engine;
    let now = now_ms();
    let key = CacheKey {
        bundle: engine.bundle_digest().to_owned(),
        environment: subject.environment.clone(),
        reference: subject.reference.clone(),
        digest: subject.digest.clone(),
        workload: subject
            .workload
            .as_ref()
            .and_then(|w| serde_json::to_string(w).ok())
            .unwrap_or_default(),
    };
    let (digest, decision) = match s.decisions.decision(generation, &key, now) {
        Some(hit) => {
            let mut decision = hit.decision;
            decision.time = format_time(now);
            (hit.digest, decision)
        }
        None => {
            let (exceptions, valid_until) = live_exceptions(s, generation, now).await?;
            let digest = match &subject.digest {
                Some(d) => Some(d.clone()),
                None => resolve_digest(store, &subject.reference).await?,
            };
            let decision = match &digest {
                Some(d) => {
                    let prepared = prepared_input(s, generation, subject, d).await?;
                    engine.decide_prepared(
                        &prepared,
                        subject.workload.as_ref(),
                        &subject.environment,
                        &exceptions,
                        millis_to_time(now),
                    )
                }
                None => unresolved(engine, subject, now),
            };
            s.decisions.put_decision(
                generation,
                key,
                CachedDecision {
                    digest: digest.clone(),
                    decision: decision.clone(),
                    valid_until,
                },
            );
            (digest, decision)
        }
    };
    let id = store
        .record_decision(&DecisionRow {
            id: String::new(),
            at: now,
            source: subject.source.clone(),
            environment: subject.environment.clone(),
            team_id: subject.team_id.clone(),
            workload_id: subject.workload_id.clone(),
            workload: subject.workload.as_ref().map(|w| w.qualified_name()),
            artifact_digest: digest,
            input_digest: decision.input_digest.clone().unwrap_or_default(),
            bundle_digest: decision.bundle_digest.clone(),
            outcome: decision.outcome.as_str().to_owned(),
            reasons: reasons(&decision),
            record: serde_json::to_value(&decision).unwrap_or(serde_json::Value::Null),
        })
        .await?;
    let used: Vec<String> = decision
        .exceptions_applied
        .iter()
        .map(|e| e.id.clone())
        .collect();
    store.record_exception_uses(&used, &id).await?;
    Ok((decision, id))
}

/// The decision for an image whose digest nobody knows: nothing can be
/// said of its evidence. It is a `palisade.image_digest` violation with the
/// effect that policy has in the environment (deny where it enforces).
fn unresolved(engine: &Engine, subject: &Subject, now: i64) -> Decision {
    let (name, _, _) = parse_reference(&subject.reference);
    let mode = engine
        .environment(&subject.environment)
        .map(|e| e.mode_of("palisade.image_digest"));
    let message = format!(
        "{} is not pinned by digest and no artifact of that name is known to Palisade, so its evidence cannot be checked",
        subject.reference
    );
    let mut errors = Vec::new();
    let mut violations = Vec::new();
    match mode {
        None => errors.push(palisade_policy::decision::DecisionError {
            policy: None,
            rule: None,
            kind: palisade_policy::decision::ErrorKind::Environment,
            message: format!(
                "environment {:?} is not defined by the policy bundle",
                subject.environment
            ),
        }),
        Some(mode) => {
            if let Some(effect) = Effect::of(mode, RuleKind::Deny) {
                violations.push(Violation {
                    policy: "palisade.image_digest".to_owned(),
                    rule: RuleKind::Deny,
                    message,
                    severity: Severity::High,
                    effect,
                    vulnerability: None,
                    details: None,
                    waived_by: None,
                });
            }
        }
    }
    Decision {
        outcome: Decision::compute_outcome(&violations, &errors),
        environment: subject.environment.clone(),
        time: format_time(now),
        artifact: ArtifactRef {
            name,
            digest: String::new(),
        },
        workload: subject.workload.as_ref().map(|w| w.qualified_name()),
        input_digest: None,
        bundle_digest: engine.bundle_digest().to_owned(),
        policies: Vec::new(),
        violations,
        waived: Vec::new(),
        exceptions_applied: Vec::new(),
        exceptions_ignored: Vec::new(),
        errors,
    }
}

/// Milliseconds as RFC 3339, UTC.
pub fn format_time(ms: i64) -> String {
    millis_to_time(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| ms.to_string())
}
