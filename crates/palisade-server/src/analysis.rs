//! Matching stored inventories against stored advisories: at SBOM ingest
//! and, when advisories change, for exactly the components they touch.
//!
//! The matching itself is `palisade_advisory::Matcher` (the same code the
//! CLI's `scan` runs, so the server and the CLI never disagree); this module
//! chooses what to match and turns the results into store rows. Advisories
//! are stored normalised (the `Advisory` JSON), indexed by the package keys
//! they name, so a match loads only the advisories of the components'
//! packages.

use std::collections::{BTreeMap, BTreeSet};

use palisade_advisory::matcher::{Query, resolve};
use palisade_advisory::osv::{Advisory, parse_record, parse_time};
use palisade_advisory::{Matcher, PackageKey};
use palisade_inventory::{Component, Inventory};
use palisade_store::advisories::AdvisoryRow;
use palisade_store::findings::{
    ArtifactFindings, ComponentRow, FindingChanges, NewFinding, Reach, StoredComponent,
};
use palisade_store::risk::ArtifactContext;
use palisade_store::{Store, StoreError};
use palisade_versions::Ecosystem;

use crate::prioritise::{Feeds, FindingFacts, assess_finding};

/// The package key column: `<OSV ecosystem>/<normalised name>` (release
/// kept apart, in its own column, and filtered by the matcher).
pub fn key_string(ecosystem: Ecosystem, name: &str) -> String {
    format!("{}/{}", ecosystem.as_str(), name)
}

/// A record prepared for the store, or why it was rejected.
pub fn advisory_row(bytes: &[u8]) -> Result<AdvisoryRow, String> {
    let parsed = parse_record(bytes).map_err(|e| format!("{}: {}", e.path, e.reason))?;
    row_of(&parsed.advisory)
}

/// A record given as a JSON value, prepared for the store.
pub fn row_of_value(v: &serde_json::Value) -> Result<AdvisoryRow, String> {
    let bytes = serde_json::to_vec(v).map_err(|e| e.to_string())?;
    advisory_row(&bytes)
}

/// `sha256:<hex>` of bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// The store row of a parsed advisory.
pub fn row_of(a: &Advisory) -> Result<AdvisoryRow, String> {
    let millis = |s: &str| {
        parse_time(s).map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0))
    };
    let modified = millis(&a.modified)
        .ok_or_else(|| format!("modified: {:?} is not an RFC 3339 time", a.modified))?;
    let keys: BTreeSet<String> = a
        .affected
        .iter()
        .filter_map(PackageKey::of)
        .map(|k| key_string(k.ecosystem, &k.name))
        .collect();
    let mut ids: BTreeSet<String> = a.aliases.iter().cloned().collect();
    ids.insert(a.id.clone());
    Ok(AdvisoryRow {
        id: a.id.clone(),
        modified,
        published: a.published.as_deref().and_then(millis),
        withdrawn: a.is_withdrawn(),
        summary: a.summary.clone().unwrap_or_default(),
        record: serde_json::to_string(a).map_err(|e| e.to_string())?,
        keys: keys.into_iter().collect(),
        ids: ids.into_iter().collect(),
    })
}

/// The stored advisories naming any of `keys`.
async fn advisories_for_keys(store: &Store, keys: &[String]) -> Result<Vec<Advisory>, StoreError> {
    let records = store.advisories_for_keys(keys).await?;
    let mut advisories = Vec::with_capacity(records.len());
    for (id, json) in records {
        match serde_json::from_str::<Advisory>(&json) {
            Ok(a) => advisories.push(a),
            Err(e) => {
                tracing::warn!(advisory = %id, error = %e, "stored advisory unreadable; skipped")
            }
        }
    }
    Ok(advisories)
}

/// Loads the advisories naming any of `keys` into a matcher.
pub async fn matcher_for_keys(store: &Store, keys: &[String]) -> Result<Matcher, StoreError> {
    Ok(Matcher::new(advisories_for_keys(store, keys).await?))
}

/// The component key: its purl, else `name@version`.
pub fn component_key(c: &Component) -> String {
    match &c.purl {
        Some(p) => p.clone(),
        None => format!("{}@{}", c.name, c.version.as_deref().unwrap_or("")),
    }
}

/// A sort rank from a severity: higher is more urgent.
pub fn rank(severity: &str, score: Option<f64>) -> i64 {
    let base = match severity {
        "critical" => 4000,
        "high" => 3000,
        "medium" => 2000,
        "unknown" => 1500,
        "low" => 1000,
        _ => 0,
    };
    // The score (0 to 10) orders within a rating.
    base + score.map(|s| (s * 10.0).round() as i64).unwrap_or(0)
}

/// An inventory's components as rows, with the resolved queries of those
/// that can be matched.
pub fn component_rows(inventory: &Inventory) -> Vec<(ComponentRow, Option<Query>)> {
    let distro = inventory.metadata.distro.as_ref();
    inventory
        .components
        .iter()
        .map(|c| {
            let q = resolve(c, distro).ok();
            let row = ComponentRow {
                component_key: component_key(c),
                bom_ref: c.bom_ref.clone(),
                name: c.name.clone(),
                version: c.version.clone(),
                purl: c.purl.clone(),
                package_key: q.as_ref().map(|q| key_string(q.ecosystem, &q.name)),
                release: q.as_ref().and_then(|q| q.release.clone()),
                match_version: q.as_ref().map(|q| q.version_string.clone()),
                license: c.license.clone(),
            };
            (row, q)
        })
        .collect()
}

fn new_finding(row: &ComponentRow, f: &palisade_advisory::Finding) -> NewFinding {
    let severity = f
        .severity
        .as_ref()
        .map(|s| s.rating.as_str().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let score = f.severity.as_ref().and_then(|s| s.score);
    let vector = f
        .severity
        .as_ref()
        .filter(|s| s.vector.starts_with("CVSS:") || s.vector.starts_with("AV:"))
        .map(|s| s.vector.clone());
    NewFinding {
        component_key: row.component_key.clone(),
        component_name: row.name.clone(),
        component_version: row.version.clone(),
        purl: row.purl.clone(),
        package_key: row.package_key.clone(),
        advisory_id: f.id.clone(),
        aliases: f
            .ids
            .iter()
            .chain(f.aliases.iter())
            .filter(|i| **i != f.id)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        summary: f.summary.clone().unwrap_or_default(),
        rank: rank(&severity, score),
        severity,
        score,
        fix_version: f.fix.clone(),
        fixed_versions: f.fixed_versions.clone(),
        sources: vec!["palisade".to_owned()],
        vector,
    }
}

/// Matches rows whose queries are resolved.
fn match_rows(matcher: &Matcher, rows: &[(ComponentRow, Query)]) -> Vec<NewFinding> {
    let mut out = Vec::new();
    for (row, q) in rows {
        let component = Component {
            bom_ref: row.bom_ref.clone(),
            name: row.name.clone(),
            version: row.version.clone(),
            purl: row.purl.clone(),
            ..Component::default()
        };
        let (findings, _) = matcher.match_component(&component, q);
        out.extend(findings.iter().map(|f| new_finding(row, f)));
    }
    out
}

/// The components of an inventory and their findings against the stored
/// advisories.
pub async fn analyse(
    store: &Store,
    inventory: &Inventory,
) -> Result<(Vec<ComponentRow>, Vec<NewFinding>), StoreError> {
    let rows = component_rows(inventory);
    let keys: Vec<String> = rows
        .iter()
        .filter_map(|(r, _)| r.package_key.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let matcher = matcher_for_keys(store, &keys).await?;
    let resolved: Vec<(ComponentRow, Query)> = rows
        .iter()
        .filter_map(|(r, q)| q.clone().map(|q| (r.clone(), q)))
        .collect();
    let findings = match_rows(&matcher, &resolved);
    Ok((rows.into_iter().map(|(r, _)| r).collect(), findings))
}

/// A component row with its resolved query.
type Resolved = (ComponentRow, Query);

fn query_of(c: &StoredComponent) -> Option<Query> {
    let key = c.component.package_key.as_deref()?;
    let (eco, name) = key.split_once('/')?;
    let ecosystem = Ecosystem::from_osv_name(eco)?;
    let version = c.component.match_version.as_deref()?;
    Query::new(ecosystem, c.component.release.as_deref(), name, version).ok()
}

/// Closes the ids of the `changed` advisories under aliasing: every
/// advisory of `all` and every stored finding sharing an id with the set
/// brings all its ids into it, until nothing more does.
async fn alias_closure(
    store: &Store,
    all: &[Advisory],
    changed: &BTreeSet<String>,
) -> Result<BTreeSet<String>, StoreError> {
    let mut ids = changed.clone();
    loop {
        let before = ids.len();
        loop {
            let round = ids.len();
            for a in all {
                if ids.contains(&a.id) || a.aliases.iter().any(|x| ids.contains(x)) {
                    ids.insert(a.id.clone());
                    ids.extend(a.aliases.iter().cloned());
                }
            }
            if ids.len() == round {
                break;
            }
        }
        let stored = store.ids_of_findings_named(&ids).await?;
        ids.extend(stored);
        if ids.len() == before {
            return Ok(ids);
        }
    }
}

/// Re-matches every stored component under `keys` (the package keys an
/// advisory change touched) and reconciles their findings, set-based: one
/// read of the components, one match, and a few multi-row statements per
/// few thousand findings. When `changed` names the advisories that changed,
/// only the findings sharing an id with them (closed under aliasing) are
/// decided again, against exactly the advisories sharing one; otherwise
/// every finding of those components. New and changed findings are
/// prioritised as they are stored. Returns the changes and how many
/// artifacts were re-analysed.
pub async fn reanalyse_keys(
    store: &Store,
    keys: &BTreeSet<String>,
    changed: Option<&BTreeSet<String>>,
    reason: &str,
) -> Result<(FindingChanges, usize), StoreError> {
    let started = std::time::Instant::now();
    let keys: Vec<String> = keys.iter().cloned().collect();
    let components = store.components_with_keys(&keys).await?;
    let t_read = started.elapsed();
    if components.is_empty() {
        return Ok((FindingChanges::default(), 0));
    }
    let all = advisories_for_keys(store, &keys).await?;
    let closure;
    let (advisories, reach) = match changed {
        Some(changed) => {
            closure = alias_closure(store, &all, changed).await?;
            let selected: Vec<Advisory> = all
                .into_iter()
                .filter(|a| {
                    closure.contains(&a.id) || a.aliases.iter().any(|x| closure.contains(x))
                })
                .collect();
            (selected, Reach::Ids(&closure))
        }
        None => (all, Reach::All),
    };
    let matcher = Matcher::new(advisories);
    let mut parts: BTreeMap<&str, (ArtifactFindings, Vec<Resolved>)> = BTreeMap::new();
    for c in &components {
        let (part, rows) = parts.entry(c.artifact_digest.as_str()).or_insert_with(|| {
            (
                ArtifactFindings {
                    artifact: c.artifact_digest.clone(),
                    ..ArtifactFindings::default()
                },
                Vec::new(),
            )
        });
        part.component_keys
            .insert(c.component.component_key.clone());
        if let Some(q) = query_of(c) {
            rows.push((c.component.clone(), q));
        }
    }
    let parts: Vec<ArtifactFindings> = parts
        .into_values()
        .map(|(mut part, rows)| {
            part.findings = match_rows(&matcher, &rows);
            part
        })
        .collect();
    let t_match = started.elapsed();

    // Priorities: where each artifact runs and the feeds of every id
    // matched, read once.
    let digests: Vec<String> = parts.iter().map(|p| p.artifact.clone()).collect();
    let contexts = store.artifact_contexts(&digests).await?;
    let cves = Feeds::cves(
        parts
            .iter()
            .flat_map(|p| &p.findings)
            .flat_map(|f| std::iter::once(&f.advisory_id).chain(f.aliases.iter())),
    );
    let feeds = Feeds::load(store, &cves).await?;
    let t_context = started.elapsed();
    let policy = palisade_risk::priority::Policy::default();
    let nowhere = ArtifactContext::default();
    let prioritise = |artifact: &str, nf: &NewFinding, first_seen: i64| {
        Some(assess_finding(
            &policy,
            contexts.get(artifact).unwrap_or(&nowhere),
            &feeds,
            &FindingFacts {
                advisory_id: &nf.advisory_id,
                aliases: &nf.aliases,
                vector: nf.vector.as_deref(),
                severity: &nf.severity,
                first_seen,
            },
        ))
    };
    let changes = store
        .reconcile_artifacts(&parts, reach, "palisade", reason, Some(&prioritise))
        .await?;
    // Where the time of one re-analysis goes, for operators and the bench.
    tracing::info!(
        packages = keys.len(),
        components = components.len(),
        artifacts = parts.len(),
        new = changes.new.len(),
        changed = changes.changed.len(),
        resolved = changes.resolved.len(),
        read_ms = t_read.as_millis() as u64,
        match_ms = (t_match - t_read).as_millis() as u64,
        context_ms = (t_context - t_match).as_millis() as u64,
        write_ms = (started.elapsed() - t_context).as_millis() as u64,
        "re-analysis done"
    );
    Ok((changes, parts.len()))
}
