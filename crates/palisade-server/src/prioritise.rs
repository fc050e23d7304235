//! Findings ranked by the documented priority model (`docs/prioritisation.md`,
//! `palisade_risk::priority`): CVSS, EPSS, KEV and where the artifact runs
//! (production, internet-facing). Recomputed when an artifact's findings or
//! deployments change, and for everything when new EPSS or KEV data arrives.

use std::collections::BTreeSet;

use palisade_advisory::Rating;
use palisade_risk::priority::{
    EpssSignal, KevSignal, Policy, Priority, RuntimeContext, Signals, assess,
};
use palisade_store::findings::FindingFilter;
use palisade_store::model::Scope;
use palisade_store::risk::PriorityUpdate;
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

/// Recomputes the priority of every finding of `digest`. Returns how many
/// were updated.
pub async fn prioritise_artifact(
    store: &Store,
    policy: &Policy,
    digest: &str,
) -> Result<usize, StoreError> {
    let context = store.artifact_context(digest).await?;
    let runtime = RuntimeContext {
        production: Some(context.production),
        internet_facing: Some(context.internet_facing),
        loaded_at_runtime: None,
    };
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
    let ids: Vec<String> = findings
        .iter()
        .flat_map(|f| std::iter::once(f.advisory_id.clone()).chain(f.aliases.iter().cloned()))
        .filter(|i| i.starts_with("CVE-"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let epss = store.epss_for(&ids).await?;
    let kev = store.kev_for(&ids).await?;
    let mut updates = Vec::with_capacity(findings.len());
    for f in &findings {
        let names: Vec<&String> = std::iter::once(&f.advisory_id)
            .chain(f.aliases.iter())
            .collect();
        let best_epss = names
            .iter()
            .filter_map(|n| epss.get(*n))
            .max_by(|a, b| a.score.total_cmp(&b.score));
        let listed = names.iter().find_map(|n| kev.get(*n));
        let signals = Signals {
            cvss: f
                .vector
                .as_deref()
                .and_then(|v| palisade_risk::cvss::score(v).ok()),
            rating: Rating::from_word(&f.severity),
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
            runtime,
            first_seen: date(f.first_seen),
        };
        let a = assess(&signals, policy);
        updates.push(PriorityUpdate {
            finding_id: f.id.clone(),
            rank: rank_of(a.score),
            priority: a.priority.as_str().to_owned(),
            due_at: a.due.map(date_ms),
            factors: serde_json::to_value(&a.factors).unwrap_or(serde_json::Value::Null),
        });
    }
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
