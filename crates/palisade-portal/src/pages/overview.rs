//! The overview: open findings by priority and environment, their trend,
//! SLA breaches, time to fix per team, and what policy denies or warns
//! about.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use maud::html;
use palisade_server::AppState;
use palisade_store::findings::FindingFilter;
use palisade_store::governance::{DecisionFilter, DecisionRow};
use palisade_store::model::Scope;

use crate::auth::Viewer;
use crate::chart::{self, Bar};
use crate::data::{self, Ctx, DAY_MS, FindingQuery, PRIORITIES};
use crate::html::{self as h, Nav, count, seg};
use crate::pages::{ordered_envs, priority_matrix};
use crate::{PageResult, Portal};

/// Days of the trend chart.
pub const TREND_DAYS: i64 = 30;
/// Days over which time to fix is measured.
pub const FIX_WINDOW_DAYS: i64 = 90;

/// The latest decision of each workload, newest first.
pub(crate) fn latest_per_workload(decisions: Vec<DecisionRow>) -> Vec<DecisionRow> {
    let mut seen = BTreeSet::new();
    decisions
        .into_iter()
        .filter(|d| {
            let key = d
                .workload_id
                .clone()
                .or_else(|| d.workload.clone().map(|w| format!("{w}@{}", d.environment)))
                .unwrap_or_else(|| d.id.clone());
            seen.insert(key)
        })
        .collect()
}

/// `GET /`.
pub async fn page(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let rows = data::load(
        &s.store,
        &scope,
        &ctx,
        &FindingFilter {
            states: vec!["all".to_owned()],
            ..FindingFilter::default()
        },
    )
    .await?;
    let changes = s
        .store
        .finding_state_changes(&scope, ctx.now - (TREND_DAYS + 1) * DAY_MS)
        .await?;
    let envs: Vec<String> = ordered_envs(s.store.list_environments().await?)
        .into_iter()
        .map(|e| e.name)
        .collect();
    let decisions = s
        .store
        .list_decisions(&scope, &DecisionFilter::default(), None, 500)
        .await?;
    let flagged: Vec<DecisionRow> = latest_per_workload(decisions.items)
        .into_iter()
        .filter(|d| d.outcome != "allow")
        .collect();
    let trend = data::trend(&ctx, &rows, &changes, TREND_DAYS);
    let fixes = data::time_to_fix(&ctx, &rows, FIX_WINDOW_DAYS);
    let open = FindingQuery::default();
    let breached = open.clone().with("sla", "breached");
    let breached_rows = breached.apply(&ctx, &rows);
    let mut overdue: Vec<_> = breached_rows
        .iter()
        .filter_map(|r| r.top().due.map(|d| (d, *r)))
        .collect();
    overdue.sort_by_key(|(d, r)| (*d, r.finding.id.clone()));
    let p1 = open.clone().with("priority", "P1");
    let severities = ["critical", "high", "medium", "low", "unknown"];
    let who = match (&scope, &viewer.session.team_name) {
        (Scope::Team(_), Some(t)) => format!("You see team {t}'s workloads and findings."),
        (Scope::Team(_), None) => "You see one team's workloads and findings.".to_owned(),
        (Scope::All, _) => "You see every team's workloads and findings.".to_owned(),
    };
    let body = html! {
        h1 { "Overview" }
        p.lead { (who) " Priorities follow the prioritisation model (severity, production, internet exposure); SLA: "
            (ctx.policy.sla_days.p1) " days for P1, " (ctx.policy.sla_days.p2) " for P2, "
            (ctx.policy.sla_days.p3) " for P3, " (ctx.policy.sla_days.p4) " for P4, from first sighting." }
        section.cards aria-label="Summary" {
            div.card { p.big { (count(open.count(&ctx, &rows), &open.url(), "open findings")) } p { "open findings" } }
            div.card { p.big { (count(p1.count(&ctx, &rows), &p1.url(), "open P1 findings")) } p { "P1 (fix now)" } }
            div.card { p.big { (count(breached_rows.len(), &breached.url(), "findings past their SLA")) } p { "past their SLA" } }
            div.card { p.big { (count(flagged.iter().filter(|d| d.outcome == "deny").count(), "/decisions?outcome=deny", "workloads denied by policy")) } p { "workloads denied by policy" } }
        }
        section aria-labelledby="by-priority" {
            h2 id="by-priority" { "Open findings by priority and environment" }
            (priority_matrix(&ctx, &rows, &open, &envs, "Open findings by priority (rows) and environment (columns); a finding running in several environments counts in each"))
            table.matrix {
                caption { "Open findings by severity" }
                thead { tr { @for sev in severities { th scope="col" class="num" { (sev) } } } }
                tbody { tr { @for sev in severities {
                    @let q = open.clone().with("severity", sev);
                    td.num { (count(q.count(&ctx, &rows), &q.url(), &format!("open {sev} findings"))) }
                } } }
            }
        }
        section aria-labelledby="trend" {
            h2 id="trend" { "Open findings over the last " (TREND_DAYS) " days" }
            (chart::trend("trend-chart", "Open findings per day", &trend))
        }
        section aria-labelledby="sla" {
            h2 id="sla" { "SLA breaches" }
            table.matrix {
                caption { "Open findings past their due date, by priority" }
                thead { tr { @for p in PRIORITIES { th scope="col" class="num" { (p.as_str()) " (" (ctx.policy.sla_days.days(p)) " days)" } } } }
                tbody { tr { @for p in PRIORITIES {
                    @let q = breached.clone().with("priority", p.as_str());
                    td.num { (count(q.count(&ctx, &rows), &q.url(), &format!("{} findings past their SLA", p.as_str()))) }
                } } }
            }
            @if !breached_rows.is_empty() {
                h3 { "Most overdue" }
                ol {
                    @for (d, r) in overdue.iter().take(8) {
                        li {
                            (h::priority(r.top().priority)) " "
                            a href=(format!("/findings/{}", seg(&r.finding.id))) { (r.finding.advisory_id) " in " (r.finding.component_name) " " (r.finding.component_version.as_deref().unwrap_or("")) }
                            " — overdue " ((ctx.today - *d).whole_days()) " days"
                            @if let Some(i) = r.instances.first() { span.muted { " · " (i.run.namespace) "/" (i.run.name) " in " (i.run.environment) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="ttf" {
            h2 id="ttf" { "Time to fix per team (findings resolved in the last " (FIX_WINDOW_DAYS) " days)" }
            @if fixes.is_empty() {
                p.muted { "No finding was resolved in the last " (FIX_WINDOW_DAYS) " days." }
            } @else {
                @let bars: Vec<Bar> = fixes.iter().map(|t| Bar {
                    label: t.team.clone(),
                    value: t.median_days,
                    text: format!("median {:.1} days ({} fixed, mean {:.1})", t.median_days, t.fixed, t.mean_days),
                    href: FindingQuery { resolved_days: Some(FIX_WINDOW_DAYS), ..FindingQuery::default() }.with("state", "resolved").with("team", t.team.clone()).url(),
                }).collect();
                (chart::bars("ttf-chart", "Median days from first sighting to fix, per team", "Median days", &bars))
            }
        }
        section aria-labelledby="policy" {
            h2 id="policy" { "Workloads denied or warned by policy" }
            @if flagged.is_empty() {
                p.good { "Every workload's latest decision allows it." }
            } @else {
                table {
                    caption { "The latest policy decision of each workload, where it is not allow" }
                    thead { tr { th scope="col" { "Outcome" } th scope="col" { "Workload" } th scope="col" { "Environment" } th scope="col" { "Reasons" } th scope="col" { "When" } } }
                    tbody {
                        @for d in &flagged {
                            tr {
                                td { (h::outcome(&d.outcome)) }
                                td { @match &d.workload_id {
                                    Some(id) => { a href=(format!("/workloads/{}", seg(id))) { (d.workload.as_deref().unwrap_or(id)) } }
                                    None => { (d.workload.as_deref().unwrap_or("(no workload)")) }
                                } }
                                td { (d.environment) }
                                td { ul.reasons { @for r in d.reasons.iter().take(3) { li { (r) } } } @if d.reasons.len() > 3 { span.muted { "and " (d.reasons.len() - 3) " more" } } }
                                td { a href=(format!("/decisions?workload={}", d.workload_id.as_deref().map(seg).unwrap_or_default())) { (h::ago(ctx.now, d.at)) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(h::page(&viewer, "Overview", Nav::Overview, body))
}
