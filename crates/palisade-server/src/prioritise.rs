//! Findings ranked by the documented priority model (`docs/prioritisation.md`,
//! `palisade_risk::priority`): CVSS, EPSS, KEV and where the artifact runs
//! (production, internet-facing). Recomputed when an artifact's findings or
//! deployments change, and for everything when new EPSS or KEV data arrives.

use std::collections::{BTreeMap, BTreeSet};

use palisade_advisory::Rating;
use palisade_risk::priority::{
    EpssSignal, KevSignal, Policy, Priority, RuntimeContext, Signals, assess,
};
use palisade_store::findings::FindingFilter;
use palisade_store::model::Scope;
use palisade_store::risk::{ArtifactContext, EpssRow, KevRow, PriorityFields, PriorityUpdate};
use palisade_store::{Store, StoreError};
use time::{Date, OffsetDateTime};

fn date(ms: i64) -> Option<Date> {
    OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .map(OffsetDateTime::date)
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

fn date_ms(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

/// The rank stored for sorting: the score (0 to 100, one decimal) in tenths,
/// so higher is more urgent.
pub fn rank_of(score: f64) -> i64 {
    (score * 10.0).round() as i64
}

/// EPSS scores and KEV listings of a set of ids, read once for many
/// findings.
#[derive(Debug, Default)]
pub struct Feeds {
    epss: BTreeMap<String, EpssRow>,
    kev: BTreeMap<String, KevRow>,
}

impl Feeds {
    /// The CVEs among `ids`, each once: what [`Feeds::load`] takes.
    pub fn cves<'a>(ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        ids.into_iter()
            .filter(|i| i.starts_with("CVE-"))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// The feed entries of `cves` (see [`Feeds::cves`]).
    pub async fn load(store: &Store, cves: &[String]) -> Result<Feeds, StoreError> {
        Ok(Feeds {
            epss: store.epss_for(cves).await?,
            kev: store.kev_for(cves).await?,
        })
    }
}

/// What the priority of one finding is computed from.
#[derive(Debug)]
pub struct FindingFacts<'a> {
    /// The primary advisory id.
    pub advisory_id: &'a str,
    /// Its other ids.
    pub aliases: &'a [String],
    /// The CVSS vector, when there is one.
    pub vector: Option<&'a str>,
    /// The severity word.
    pub severity: &'a str,
    /// First seen, ms.
    pub first_seen: i64,
}

/// The priority of one finding of an artifact running in `context`.
pub fn assess_finding(
    policy: &Policy,
    context: &ArtifactContext,
    feeds: &Feeds,
    f: &FindingFacts<'_>,
) -> PriorityFields {
    let names: Vec<&str> = std::iter::once(f.advisory_id)
        .chain(f.aliases.iter().map(String::as_str))
        .collect();
    let best_epss = names
        .iter()
        .filter_map(|n| feeds.epss.get(*n))
        .max_by(|a, b| a.score.total_cmp(&b.score));
    let listed = names.iter().find_map(|n| feeds.kev.get(*n));
    let signals = Signals {
        cvss: f.vector.and_then(|v| palisade_risk::cvss::score(v).ok()),
        rating: Rating::from_word(f.severity),
        epss: best_epss.map(|e| EpssSignal {
            cve: e.cve.clone(),
            epss: e.score,
            percentile: e.percentile,
        }),
        kev: listed.and_then(|k| {
            Some(KevSignal {
                cve: k.cve.clone(),
                date_added: parse_date(&k.date_added)?,
                due_date: k.due_date.as_deref().and_then(parse_date),
                ransomware: k.ransomware,
            })
        }),
        runtime: RuntimeContext {
            production: Some(context.production),
            internet_facing: Some(context.internet_facing),
            loaded_at_runtime: None,
        },
        first_seen: date(f.first_seen),
    };
    let a = assess(&signals, policy);
    PriorityFields {
        rank: rank_of(a.score),
        priority: a.priority.as_str().to_owned(),
        due_at: a.due.map(date_ms),
        factors: serde_json::to_value(&a.factors).unwrap_or(serde_json::Value::Null),
    }
}

/// Recomputes the priority of every finding of `digest`. Returns how many
/// were updated.
pub async fn prioritise_artifact(
    store: &Store,
    policy: &Policy,
    digest: &str,
) -> Result<usize, StoreError> {
    let context = store.artifact_context(digest).await?;
    let filter = FindingFilter {
        artifact: Some(digest.to_owned()),
        states: vec!["all".to_owned()],
        ..FindingFilter::default()
    };
    let mut findings = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_findings(&Scope::All, &filter, after.as_deref(), 500)
            .await?;
        findings.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let cves = Feeds::cves(
        findings
            .iter()
            .flat_map(|f| std::iter::once(&f.advisory_id).chain(f.aliases.iter())),
    );
    let feeds = Feeds::load(store, &cves).await?;
    let updates: Vec<PriorityUpdate> = findings
        .iter()
        .map(|f| PriorityUpdate {
            finding_id: f.id.clone(),
            fields: assess_finding(
                policy,
                &context,
                &feeds,
                &FindingFacts {
                    advisory_id: &f.advisory_id,
                    aliases: &f.aliases,
                    vector: f.vector.as_deref(),
                    severity: &f.severity,
                    first_seen: f.first_seen,
                },
            ),
        })
        .collect();
    store.set_priorities(&updates).await?;
    Ok(updates.len())
}

/// Recomputes every artifact's findings (after new EPSS or KEV data).
pub async fn prioritise_all(store: &Store, policy: &Policy) -> Result<usize, StoreError> {
    let mut n = 0;
    for digest in store.artifacts_with_findings().await? {
        n += prioritise_artifact(store, policy, &digest).await?;
    }
    Ok(n)
}

/// The label of a priority (`P1` → `urgent`...).
pub fn label(priority: &str) -> &'static str {
    match priority {
        "P1" => Priority::P1.label(),
        "P2" => Priority::P2.label(),
        "P3" => Priority::P3.label(),
        "P4" => Priority::P4.label(),
        _ => "not yet prioritised",
    }
}
