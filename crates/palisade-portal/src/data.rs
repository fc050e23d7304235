//! What the pages show, computed once from the store: each finding with the
//! workloads that run it now and its priority there (`palisade-risk`'s
//! model: severity, production, internet exposure; SLA due date from first
//! sighting), and the queries that filter them.
//!
//! Every number a page shows is the size of a [`FindingQuery`]'s result over
//! these rows, and links to the findings list with that same query: the
//! number and the list behind it cannot disagree.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use palisade_advisory::Rating;
use palisade_risk::priority::{EpssSignal, KevSignal, RuntimeContext, Signals};
use palisade_risk::{Assessment, Policy, Priority};
use palisade_store::findings::{ACTIONABLE_STATES, Finding, FindingFilter};
use palisade_store::model::Scope;
use palisade_store::portal_queries::{RunningWorkload, StateChange};
use palisade_store::risk::{EpssRow, KevRow};
use palisade_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The UTC date of a time in ms.
pub fn date_of(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date()
}

fn parse_day(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Exploitation evidence known to the store (EPSS scores and CISA KEV
/// listings), by CVE.
#[derive(Clone, Debug, Default)]
pub struct Exploitation {
    /// EPSS by CVE.
    pub epss: BTreeMap<String, EpssRow>,
    /// KEV by CVE.
    pub kev: BTreeMap<String, KevRow>,
}

impl Exploitation {
    /// Loads what the store holds for the CVEs among `findings`' ids.
    pub async fn load(store: &Store, findings: &[Finding]) -> Result<Exploitation, StoreError> {
        let ids: Vec<String> = findings
            .iter()
            .flat_map(|f| std::iter::once(&f.advisory_id).chain(f.aliases.iter()))
            .filter(|i| i.starts_with("CVE-"))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if ids.is_empty() {
            return Ok(Exploitation::default());
        }
        Ok(Exploitation {
            epss: store.epss_for(&ids).await?,
            kev: store.kev_for(&ids).await?,
        })
    }
}

/// Whether a state still needs attention.
pub fn actionable(state: &str) -> bool {
    ACTIONABLE_STATES.contains(&state)
}

/// Whether a state was triaged away (VEX `not_affected`, false positive).
pub fn suppressed(state: &str) -> bool {
    matches!(state, "not_affected" | "false_positive")
}

/// Where a finding runs, and how urgent it is there.
#[derive(Clone, Debug)]
pub struct Instance {
    /// The workload running the affected artifact.
    pub run: RunningWorkload,
    /// The finding's priority in that workload.
    pub assessment: Assessment,
}

/// A finding with its context.
#[derive(Clone, Debug)]
pub struct Row {
    /// The stored finding.
    pub finding: Finding,
    /// The workloads running its artifact now.
    pub instances: Vec<Instance>,
    /// Its priority where nothing is known of where it runs.
    pub unplaced: Assessment,
    /// The teams whose artifact this is (uploader, and every team that runs
    /// or ran it).
    pub teams: BTreeSet<String>,
}

impl Row {
    /// The most urgent assessment among its running instances, else the
    /// unplaced one.
    pub fn top(&self) -> &Assessment {
        self.instances
            .iter()
            .map(|i| &i.assessment)
            .max_by(|a, b| cmp_assessment(a, b))
            .unwrap_or(&self.unplaced)
    }
}

/// Orders assessments by priority, then score.
pub fn cmp_assessment(a: &Assessment, b: &Assessment) -> std::cmp::Ordering {
    a.priority
        .cmp(&b.priority)
        .then(a.score.total_cmp(&b.score))
}

/// What a page needs to compute with.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Now, ms.
    pub now: i64,
    /// Today (UTC).
    pub today: Date,
    /// The prioritisation settings.
    pub policy: Policy,
}

impl Ctx {
    /// Now, under `policy`.
    pub fn new(policy: &Policy) -> Ctx {
        let now = palisade_store::now_ms();
        Ctx {
            now,
            today: date_of(now),
            policy: policy.clone(),
        }
    }

    /// The assessment of `f` in `runtime`: the same signals the server's
    /// prioritisation reads (CVSS vector, EPSS, KEV), with the runtime
    /// context of one workload instead of the artifact's worst.
    pub fn assess(&self, f: &Finding, x: &Exploitation, runtime: RuntimeContext) -> Assessment {
        let names = || std::iter::once(&f.advisory_id).chain(f.aliases.iter());
        let signals = Signals {
            cvss: f
                .vector
                .as_deref()
                .and_then(|v| palisade_risk::cvss::score(v).ok()),
            rating: Rating::from_word(&f.severity),
            epss: names()
                .filter_map(|n| x.epss.get(n))
                .max_by(|a, b| a.score.total_cmp(&b.score))
                .map(|e| EpssSignal {
                    cve: e.cve.clone(),
                    epss: e.score,
                    percentile: e.percentile,
                }),
            kev: names().find_map(|n| x.kev.get(n)).and_then(|k| {
                Some(KevSignal {
                    cve: k.cve.clone(),
                    date_added: parse_day(&k.date_added)?,
                    due_date: k.due_date.as_deref().and_then(parse_day),
                    ransomware: k.ransomware,
                })
            }),
            runtime,
            first_seen: Some(date_of(f.first_seen)),
        };
        palisade_risk::assess(&signals, &self.policy)
    }

    /// Whether an assessment's due date has passed.
    pub fn breached(&self, a: &Assessment) -> bool {
        a.due.is_some_and(|d| d < self.today)
    }
}

/// Loads the findings `scope` may see that pass `filter` (store-side),
/// with their running workloads and teams, most urgent first.
pub async fn load(
    store: &Store,
    scope: &Scope,
    ctx: &Ctx,
    filter: &FindingFilter,
) -> Result<Vec<Row>, StoreError> {
    let findings = store.list_findings(scope, filter, None, 100_000).await?;
    let running = store.running_workloads(scope).await?;
    let owners = store.artifact_teams(scope).await?;
    let x = Exploitation::load(store, &findings.items).await?;
    Ok(rows_of(ctx, &x, findings.items, &running, &owners))
}

/// Builds rows from loaded parts.
pub fn rows_of(
    ctx: &Ctx,
    x: &Exploitation,
    findings: Vec<Finding>,
    running: &[RunningWorkload],
    owners: &[(String, String)],
) -> Vec<Row> {
    let mut by_artifact: HashMap<&str, Vec<&RunningWorkload>> = HashMap::new();
    for r in running {
        by_artifact.entry(&r.artifact_digest).or_default().push(r);
    }
    let mut teams: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for (digest, team) in owners {
        teams.entry(digest).or_default().insert(team.clone());
    }
    let mut rows: Vec<Row> = findings
        .into_iter()
        .map(|f| {
            let instances = by_artifact
                .get(f.artifact_digest.as_str())
                .map(|runs| {
                    runs.iter()
                        .map(|r| Instance {
                            assessment: ctx.assess(
                                &f,
                                x,
                                RuntimeContext {
                                    production: Some(r.production),
                                    internet_facing: Some(r.internet_facing),
                                    loaded_at_runtime: None,
                                },
                            ),
                            run: (*r).clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            Row {
                unplaced: ctx.assess(&f, x, RuntimeContext::default()),
                teams: teams
                    .get(f.artifact_digest.as_str())
                    .cloned()
                    .unwrap_or_default(),
                instances,
                finding: f,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        cmp_assessment(b.top(), a.top())
            .then(a.finding.first_seen.cmp(&b.finding.first_seen))
            .then(a.finding.id.cmp(&b.finding.id))
    });
    rows
}

/// A filter over rows, as the findings page's query string carries it.
/// Empty strings count as unset (that is what an HTML form sends).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FindingQuery {
    /// `P1`..`P4`.
    pub priority: Option<String>,
    /// `critical`, `high`, `medium`, `low`, `none`, `unknown`.
    pub severity: Option<String>,
    /// Environment name.
    pub environment: Option<String>,
    /// Team name.
    pub team: Option<String>,
    /// Application id.
    pub application: Option<String>,
    /// Workload id.
    pub workload: Option<String>,
    /// `yes`: runs somewhere now; `no`: runs nowhere.
    pub deployed: Option<String>,
    /// `breached`: past its SLA due date.
    pub sla: Option<String>,
    /// `open` (default: open, in triage, affected), `suppressed`,
    /// `resolved`, `all`, or one state.
    pub state: Option<String>,
    /// An advisory id or alias.
    pub advisory: Option<String>,
    /// A package name or purl (without version).
    pub package: Option<String>,
    /// Resolved within this many days.
    pub resolved_days: Option<i64>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl FindingQuery {
    /// The state filter, defaulting to `open`.
    pub fn state(&self) -> &str {
        set(&self.state).unwrap_or("open")
    }

    /// The store-side part of the filter (states, advisory), so that only
    /// what may match is loaded.
    pub fn store_filter(&self) -> FindingFilter {
        let states = match self.state() {
            "open" => Vec::new(),
            "suppressed" => vec!["not_affected".to_owned(), "false_positive".to_owned()],
            "all" => vec!["all".to_owned()],
            other => vec![other.to_owned()],
        };
        FindingFilter {
            states,
            advisory: set(&self.advisory).map(str::to_owned),
            ..FindingFilter::default()
        }
    }

    fn has_location(&self) -> bool {
        set(&self.environment).is_some()
            || set(&self.workload).is_some()
            || set(&self.application).is_some()
    }

    /// The instances of `row` in the query's environment, workload and
    /// application.
    pub fn instances<'a>(&self, row: &'a Row) -> impl Iterator<Item = &'a Instance> {
        let env = set(&self.environment).map(str::to_owned);
        let wl = set(&self.workload).map(str::to_owned);
        let app = set(&self.application).map(str::to_owned);
        row.instances.iter().filter(move |i| {
            env.as_deref().is_none_or(|e| i.run.environment == e)
                && wl.as_deref().is_none_or(|w| i.run.workload_id == w)
                && app.as_deref().is_none_or(|a| i.run.application_id == a)
        })
    }

    /// The row's assessment under this query: the most urgent among the
    /// matching instances; `None` when a location is asked and the finding
    /// does not run there.
    pub fn effective<'a>(&self, row: &'a Row) -> Option<&'a Assessment> {
        if self.has_location() {
            self.instances(row)
                .map(|i| &i.assessment)
                .max_by(|a, b| cmp_assessment(a, b))
        } else {
            Some(row.top())
        }
    }

    /// Whether `row` passes.
    pub fn matches(&self, ctx: &Ctx, row: &Row) -> bool {
        let f = &row.finding;
        let state_ok = match self.state() {
            "open" => actionable(&f.state),
            "suppressed" => suppressed(&f.state),
            "all" => true,
            other => f.state == other,
        };
        if !state_ok {
            return false;
        }
        if let Some(t) = set(&self.team)
            && !row.teams.contains(t)
        {
            return false;
        }
        match set(&self.deployed) {
            Some("yes") if row.instances.is_empty() => return false,
            Some("no") if !row.instances.is_empty() => return false,
            _ => {}
        }
        let Some(eff) = self.effective(row) else {
            return false;
        };
        if let Some(p) = set(&self.priority)
            && !eff.priority.as_str().eq_ignore_ascii_case(p)
        {
            return false;
        }
        if let Some(s) = set(&self.severity)
            && f.severity != s
        {
            return false;
        }
        if set(&self.sla) == Some("breached") && !(actionable(&f.state) && ctx.breached(eff)) {
            return false;
        }
        if let Some(a) = set(&self.advisory)
            && !(f.advisory_id.eq_ignore_ascii_case(a)
                || f.aliases.iter().any(|x| x.eq_ignore_ascii_case(a)))
        {
            return false;
        }
        if let Some(p) = set(&self.package)
            && !(f.component_name == p
                || f.purl.as_deref() == Some(p)
                || f.purl
                    .as_deref()
                    .is_some_and(|u| u.starts_with(&format!("{p}@"))))
        {
            return false;
        }
        if let Some(d) = self.resolved_days
            && f.resolved_at
                .is_none_or(|r| r < ctx.now - d.saturating_mul(DAY_MS))
        {
            return false;
        }
        true
    }

    /// The rows that pass.
    pub fn apply<'a>(&self, ctx: &Ctx, rows: &'a [Row]) -> Vec<&'a Row> {
        rows.iter().filter(|r| self.matches(ctx, r)).collect()
    }

    /// How many rows pass.
    pub fn count(&self, ctx: &Ctx, rows: &[Row]) -> usize {
        rows.iter().filter(|r| self.matches(ctx, r)).count()
    }

    /// The findings page showing exactly these rows.
    pub fn url(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("priority", &self.priority),
            ("severity", &self.severity),
            ("environment", &self.environment),
            ("team", &self.team),
            ("application", &self.application),
            ("workload", &self.workload),
            ("deployed", &self.deployed),
            ("sla", &self.sla),
            ("state", &self.state),
            ("advisory", &self.advisory),
            ("package", &self.package),
        ] {
            if let Some(v) = set(v) {
                pairs.push((k, v.to_owned()));
            }
        }
        if let Some(d) = self.resolved_days {
            pairs.push(("resolved_days", d.to_string()));
        }
        if pairs.is_empty() {
            "/findings".to_owned()
        } else {
            format!(
                "/findings?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        }
    }

    /// Builder helpers.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> FindingQuery {
        let v = Some(value.into());
        match key {
            "priority" => self.priority = v,
            "severity" => self.severity = v,
            "environment" => self.environment = v,
            "team" => self.team = v,
            "application" => self.application = v,
            "workload" => self.workload = v,
            "deployed" => self.deployed = v,
            "sla" => self.sla = v,
            "state" => self.state = v,
            "advisory" => self.advisory = v,
            "package" => self.package = v,
            _ => {}
        }
        self
    }
}

/// One fix: upgrading a component, and the findings it closes.
#[derive(Clone, Debug)]
pub struct Action {
    /// The component's name.
    pub component: String,
    /// Its version now.
    pub version: Option<String>,
    /// The version to upgrade to (the greatest fix version of its findings).
    pub fix_to: Option<String>,
    /// Findings with no known fix.
    pub unfixed: usize,
    /// The findings it closes.
    pub findings: Vec<String>,
    /// Their advisories.
    pub advisories: BTreeSet<String>,
    /// The most urgent of them.
    pub top: Assessment,
    /// Whether any is past its SLA.
    pub breached: bool,
    /// The workloads it affects (ids).
    pub workloads: BTreeSet<String>,
}

/// The greater of two versions, in the package's ecosystem when it is
/// known (`npm/lodash` → npm's order), else the later-listed.
fn greater_version(package_key: Option<&str>, a: &str, b: &str) -> bool {
    let eco = package_key
        .and_then(|k| k.split_once('/'))
        .and_then(|(e, _)| palisade_versions::Ecosystem::from_osv_name(e));
    match eco.map(|e| palisade_versions::compare(e, b, a)) {
        Some(Ok(o)) => o == std::cmp::Ordering::Greater,
        _ => b > a,
    }
}

/// The fixes that close `rows`, most urgent first: each groups the
/// findings of one component version, and says what to upgrade to.
pub fn actions(ctx: &Ctx, q: &FindingQuery, rows: &[&Row]) -> Vec<Action> {
    let mut groups: BTreeMap<(String, Option<String>), Action> = BTreeMap::new();
    for row in rows {
        let f = &row.finding;
        let Some(eff) = q.effective(row) else {
            continue;
        };
        let key = (f.component_name.clone(), f.component_version.clone());
        let a = groups.entry(key).or_insert_with(|| Action {
            component: f.component_name.clone(),
            version: f.component_version.clone(),
            fix_to: None,
            unfixed: 0,
            findings: Vec::new(),
            advisories: BTreeSet::new(),
            top: eff.clone(),
            breached: false,
            workloads: BTreeSet::new(),
        });
        a.findings.push(f.id.clone());
        a.advisories.insert(f.advisory_id.clone());
        if cmp_assessment(eff, &a.top).is_gt() {
            a.top = eff.clone();
        }
        a.breached |= actionable(&f.state) && ctx.breached(eff);
        a.workloads
            .extend(q.instances(row).map(|i| i.run.workload_id.clone()));
        match (&f.fix_version, &a.fix_to) {
            (None, _) => a.unfixed += 1,
            (Some(v), None) => a.fix_to = Some(v.clone()),
            (Some(v), Some(cur)) => {
                if greater_version(f.package_key.as_deref(), cur, v) {
                    a.fix_to = Some(v.clone());
                }
            }
        }
    }
    let mut out: Vec<Action> = groups.into_values().collect();
    out.sort_by(|a, b| {
        cmp_assessment(&b.top, &a.top)
            .then(b.breached.cmp(&a.breached))
            .then(b.findings.len().cmp(&a.findings.len()))
            .then(a.component.cmp(&b.component))
    });
    out
}

/// One day of the trend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendPoint {
    /// The day.
    pub day: Date,
    /// Findings needing attention at the end of it.
    pub open: usize,
}

/// Open findings at the end of each of the last `days` days (and today,
/// now), replaying the state changes backwards from the current states:
/// a finding counts on a day when it was first seen by then and its state
/// then was open, in triage or affected.
pub fn trend(ctx: &Ctx, rows: &[Row], changes: &[StateChange], days: i64) -> Vec<TrendPoint> {
    let mut by_finding: HashMap<&str, Vec<&StateChange>> = HashMap::new();
    for c in changes {
        by_finding.entry(&c.finding_id).or_default().push(c);
    }
    let midnight = ctx.now - ctx.now.rem_euclid(DAY_MS);
    // Day ends, newest first: now, then each midnight before.
    let ends: Vec<i64> = std::iter::once(ctx.now)
        .chain((0..days).map(|k| midnight - k * DAY_MS - 1))
        .collect();
    let mut counts = vec![0usize; ends.len()];
    for row in rows {
        let f = &row.finding;
        let mut state: Option<&str> = Some(f.state.as_str());
        let events = by_finding
            .get(f.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut j = events.len();
        for (k, end) in ends.iter().enumerate() {
            while j > 0 && events[j - 1].at > *end {
                j -= 1;
                // Detection is first_seen's business (it may have been
                // moved); other events undo to the state before them.
                if events[j].from_state.is_some() {
                    state = events[j].from_state.as_deref();
                }
            }
            if f.first_seen <= *end && state.is_some_and(actionable) {
                counts[k] += 1;
            }
        }
    }
    let mut out: Vec<TrendPoint> = ends
        .iter()
        .zip(counts)
        .map(|(end, open)| TrendPoint {
            day: date_of(*end),
            open,
        })
        .collect();
    out.reverse();
    out
}

/// Time to fix of one team.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeToFix {
    /// The team.
    pub team: String,
    /// Findings fixed in the window.
    pub fixed: usize,
    /// Median days from first seen to resolved.
    pub median_days: f64,
    /// Mean days.
    pub mean_days: f64,
}

/// Time from first sighting to resolution of the findings resolved in the
/// last `window_days`, per team.
pub fn time_to_fix(ctx: &Ctx, rows: &[Row], window_days: i64) -> Vec<TimeToFix> {
    let since = ctx.now - window_days * DAY_MS;
    let mut per_team: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for row in rows {
        let f = &row.finding;
        let Some(resolved) = f.resolved_at.filter(|r| *r >= since) else {
            continue;
        };
        if f.state != "resolved" {
            continue;
        }
        let days = (resolved - f.first_seen).max(0) as f64 / DAY_MS as f64;
        for t in &row.teams {
            per_team.entry(t).or_default().push(days);
        }
    }
    per_team
        .into_iter()
        .map(|(team, mut d)| {
            d.sort_by(f64::total_cmp);
            let n = d.len();
            let median = if n == 0 {
                0.0
            } else if n % 2 == 1 {
                d[n / 2]
            } else {
                (d[n / 2 - 1] + d[n / 2]) / 2.0
            };
            TimeToFix {
                team: team.to_owned(),
                fixed: n,
                median_days: median,
                mean_days: d.iter().sum::<f64>() / n.max(1) as f64,
            }
        })
        .collect()
}

/// Priorities, most urgent first.
pub const PRIORITIES: [Priority; 4] = Priority::ALL;

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, severity: &str, state: &str, first_seen: i64) -> Finding {
        Finding {
            id: id.to_owned(),
            artifact_digest: "sha256:a".to_owned(),
            component_key: "pkg:npm/x@1".to_owned(),
            component_name: "x".to_owned(),
            component_version: Some("1".to_owned()),
            purl: Some("pkg:npm/x@1".to_owned()),
            package_key: Some("npm/x".to_owned()),
            advisory_id: format!("ADV-{id}"),
            aliases: vec![],
            summary: String::new(),
            severity: severity.to_owned(),
            score: None,
            fix_version: Some("2".to_owned()),
            fixed_versions: vec![],
            sources: vec![],
            state: state.to_owned(),
            justification: None,
            first_seen,
            updated_at: first_seen,
            resolved_at: None,
            resolution: None,
            rank: 0,
            vector: None,
            priority: String::new(),
            due_at: None,
            factors: serde_json::Value::Null,
        }
    }

    #[test]
    fn trend_replays_states_backwards() {
        let ctx = Ctx::new(&Policy::default());
        let t0 = ctx.now - 5 * DAY_MS;
        let mut resolved = finding("b", "high", "resolved", t0);
        resolved.resolved_at = Some(ctx.now - 2 * DAY_MS);
        let rows = rows_of(
            &ctx,
            &Exploitation::default(),
            vec![finding("a", "critical", "open", t0), resolved],
            &[],
            &[],
        );
        let changes = vec![StateChange {
            finding_id: "b".to_owned(),
            at: ctx.now - 2 * DAY_MS,
            from_state: Some("open".to_owned()),
            to_state: Some("resolved".to_owned()),
        }];
        let t = trend(&ctx, &rows, &changes, 7);
        assert_eq!(t.len(), 8);
        assert_eq!(t.last().map(|p| p.open), Some(1));
        assert_eq!(t.first().map(|p| p.open), Some(0));
        // Four days ago both were open.
        assert_eq!(t[t.len() - 5].open, 2);
    }

    #[test]
    fn queries_round_trip_and_filter() {
        let ctx = Ctx::new(&Policy::default());
        let rows = rows_of(
            &ctx,
            &Exploitation::default(),
            vec![
                finding("a", "critical", "open", ctx.now - 200 * DAY_MS),
                finding("b", "low", "not_affected", ctx.now),
            ],
            &[],
            &[],
        );
        let q = FindingQuery::default().with("sla", "breached");
        assert_eq!(q.count(&ctx, &rows), 1);
        assert_eq!(q.url(), "/findings?sla=breached");
        let q = FindingQuery::default().with("state", "suppressed");
        assert_eq!(q.count(&ctx, &rows), 1);
        let q = FindingQuery::default().with("environment", "prod");
        assert_eq!(q.count(&ctx, &rows), 0);
        let acts = actions(
            &ctx,
            &FindingQuery::default(),
            &rows.iter().collect::<Vec<_>>(),
        );
        assert_eq!(acts.len(), 1);
        assert_eq!(acts[0].findings.len(), 2);
    }
}
