//! Findings: the filterable list every number links to, and one finding's
//! page with its priority explained, where it runs, triage and history.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use maud::html;
use palisade_server::AppState;
use palisade_store::findings::{JUSTIFICATIONS, TRIAGE_STATES};
use serde::Deserialize;

use crate::auth::{Posted, Viewer};
use crate::data::{self, Ctx, FindingQuery, PRIORITIES};
use crate::html::{self as h, Nav, seg};
use crate::pages::{findings_table, fix_first, ordered_envs};
use crate::{PageError, PageResult, Portal};

fn describe(q: &FindingQuery) -> Vec<String> {
    let mut out = Vec::new();
    let v = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    out.push(match q.state() {
        "open" => "open (open, in triage, affected)".to_owned(),
        "suppressed" => "triaged as not affected or false positive".to_owned(),
        other => format!("state {other}"),
    });
    if let Some(p) = v(&q.priority) {
        out.push(format!("priority {p}"));
    }
    if let Some(p) = v(&q.severity) {
        out.push(format!("severity {p}"));
    }
    if let Some(p) = v(&q.environment) {
        out.push(format!("running in {p}"));
    }
    if let Some(p) = v(&q.team) {
        out.push(format!("of team {p}"));
    }
    if v(&q.application).is_some() {
        out.push("of one application".to_owned());
    }
    if v(&q.workload).is_some() {
        out.push("in one workload".to_owned());
    }
    match v(&q.deployed).as_deref() {
        Some("yes") => out.push("running somewhere".to_owned()),
        Some("no") => out.push("in artifacts not running anywhere".to_owned()),
        _ => {}
    }
    if v(&q.sla).as_deref() == Some("breached") {
        out.push("past their SLA due date".to_owned());
    }
    if let Some(p) = v(&q.advisory) {
        out.push(format!("advisory {p}"));
    }
    if let Some(p) = v(&q.package) {
        out.push(format!("package {p}"));
    }
    if let Some(d) = q.resolved_days {
        out.push(format!("resolved in the last {d} days"));
    }
    out
}

/// `GET /findings`.
pub async fn list(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
    Query(q): Query<FindingQuery>,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let rows = data::load(&s.store, &scope, &ctx, &q.store_filter()).await?;
    let hits = q.apply(&ctx, &rows);
    let actions = data::actions(&ctx, &q, &hits);
    let envs = ordered_envs(s.store.list_environments().await?);
    let teams = s.store.list_teams(&scope).await?;
    let sel = |o: &Option<String>, v: &str| o.as_deref() == Some(v);
    let body = html! {
        h1 { "Findings" }
        p.lead { strong { (hits.len()) } " findings: " (describe(&q).join(", ")) ". "
            a href="/findings" { "Clear filters" } }
        form.filters method="get" action="/findings" aria-label="Filter findings" {
            @if let Some(w) = &q.workload { input type="hidden" name="workload" value=(w); }
            @if let Some(a) = &q.application { input type="hidden" name="application" value=(a); }
            @if let Some(d) = &q.deployed { input type="hidden" name="deployed" value=(d); }
            @if let Some(d) = q.resolved_days { input type="hidden" name="resolved_days" value=(d); }
            p { label for="f-priority" { "Priority" }
                select id="f-priority" name="priority" { option value="" { "any" }
                    @for p in PRIORITIES { option value=(p.as_str()) selected[sel(&q.priority, p.as_str())] { (p.as_str()) " " (p.label()) } } } }
            p { label for="f-severity" { "Severity" }
                select id="f-severity" name="severity" { option value="" { "any" }
                    @for v in ["critical", "high", "medium", "low", "unknown"] { option value=(v) selected[sel(&q.severity, v)] { (v) } } } }
            p { label for="f-env" { "Environment" }
                select id="f-env" name="environment" { option value="" { "any" }
                    @for e in &envs { option value=(e.name) selected[sel(&q.environment, &e.name)] { (e.name) } } } }
            p { label for="f-team" { "Team" }
                select id="f-team" name="team" { option value="" { "any" }
                    @for t in &teams { option value=(t.name) selected[sel(&q.team, &t.name)] { (t.name) } } } }
            p { label for="f-state" { "State" }
                select id="f-state" name="state" {
                    @for (v, l) in [("open", "open (needs attention)"), ("suppressed", "not affected / false positive"), ("resolved", "resolved"), ("all", "all")] {
                        option value=(v) selected[q.state() == v] { (l) } }
                    @for v in TRIAGE_STATES { option value=(v) selected[q.state() == *v] { "only " (v.replace('_', " ")) } } } }
            p { label for="f-sla" { "SLA" }
                select id="f-sla" name="sla" { option value="" { "any" } option value="breached" selected[sel(&q.sla, "breached")] { "past due" } } }
            p { label for="f-adv" { "Advisory" } input id="f-adv" name="advisory" value=(q.advisory.as_deref().unwrap_or("")) placeholder="CVE-… or GHSA-…"; }
            p { label for="f-pkg" { "Package" } input id="f-pkg" name="package" value=(q.package.as_deref().unwrap_or("")) placeholder="name or purl"; }
            button type="submit" { "Apply filters" }
        }
        @if q.state() == "open" && !hits.is_empty() {
            section aria-labelledby="fix" {
                h2 id="fix" { "Fixes for these findings" }
                (fix_first(&ctx, &actions, &q, 5))
            }
        }
        section aria-labelledby="list" {
            h2 id="list" { "The findings" }
            (findings_table(&ctx, &q, &hits, 500, "Findings, most urgent first"))
        }
    };
    Ok(h::page(&viewer, "Findings", Nav::Findings, body))
}

async fn render(
    s: &AppState,
    portal: &Portal,
    viewer: &Viewer,
    id: &str,
    error: Option<PageError>,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let f = s
        .store
        .finding(&scope, id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("finding {id}")))?;
    let running = s.store.running_workloads(&scope).await?;
    let owners = s.store.artifact_teams(&scope).await?;
    let x = data::Exploitation::load(&s.store, std::slice::from_ref(&f)).await?;
    let rows = data::rows_of(&ctx, &x, vec![f], &running, &owners);
    let Some(row) = rows.first() else {
        return Err(PageError::not_found(format!("finding {id}")));
    };
    let f = &row.finding;
    let history = s.store.finding_history(id).await?;
    let top = row.top();
    let status = error.as_ref().map(|e| e.status);
    let first_workload = row
        .instances
        .first()
        .map(|i| format!("{}/{}", i.run.namespace, i.run.name))
        .unwrap_or_default();
    let exception_link = format!(
        "/exceptions?{}#request",
        serde_urlencoded::to_string([
            ("vulnerability", f.advisory_id.as_str()),
            ("workload", first_workload.as_str()),
        ])
        .unwrap_or_default()
    );
    let body = html! {
        h1 { (f.advisory_id) " in " (f.component_name) " " (f.component_version.as_deref().unwrap_or("")) }
        @if let Some(e) = &error { p.error role="alert" { (e.message) } }
        p.lead { (h::priority(top.priority)) " " (h::severity(&f.severity)) " " (h::state(&f.state))
            @if let Some(j) = &f.justification { " (" (j.replace('_', " ")) ")" } }
        @if !f.summary.is_empty() { p.summary { (f.summary) } }
        dl.facts {
            dt { "Advisory" } dd { a href=(format!("/advisories/{}", seg(&f.advisory_id))) { (f.advisory_id) }
                @if !f.aliases.is_empty() { " (also " (f.aliases.join(", ")) ")" } }
            dt { "Package" } dd { code { (f.purl.as_deref().unwrap_or(&f.component_key)) } }
            dt { "Fix" } dd { @match &f.fix_version { Some(v) => { "upgrade to " code { (v) } } None => { "no fixed version is known" } } }
            dt { "Artifact" } dd { (h::digest(&f.artifact_digest)) }
            dt { "First seen" } dd { (h::time_el(ctx.now, f.first_seen)) }
            dt { "Due" } dd { @match top.due { Some(d) => { (d) " (" (top.priority.as_str()) " SLA " (top.sla_days) " days)"
                @if data::actionable(&f.state) && ctx.breached(top) { " " span.badge.breach { "overdue" } } } None => { "—" } } }
            @if let Some(r) = f.resolved_at { dt { "Resolved" } dd { (h::time_el(ctx.now, r)) " — " (f.resolution.as_deref().unwrap_or("")) } }
        }
        section aria-labelledby="where" {
            h2 id="where" { "Where it runs, and why this priority" }
            @if row.instances.is_empty() {
                p.muted { "Its artifact runs nowhere now. " (top.explain()) }
            } @else {
                table {
                    caption { "Workloads running the affected artifact" }
                    thead { tr { th scope="col" { "Workload" } th scope="col" { "Environment" } th scope="col" { "Priority" } th scope="col" { "Why" } } }
                    tbody { @for i in &row.instances {
                        tr { td { a href=(format!("/workloads/{}", seg(&i.run.workload_id))) { (i.run.namespace) "/" (i.run.name) } }
                             td { (i.run.environment) }
                             td { (h::priority(i.assessment.priority)) }
                             td.explain { (i.assessment.explain()) } }
                    } }
                }
            }
        }
        section aria-labelledby="triage" {
            h2 id="triage" { "Triage" }
            @if f.state == "resolved" {
                p.muted { "Resolved findings re-open by themselves if they are matched again." }
            } @else if viewer.can_triage() {
                form.card method="post" action=(format!("/findings/{}/triage", seg(&f.id))) {
                    (h::csrf(viewer))
                    p { label for="t-state" { "New state" }
                        select id="t-state" name="state" { @for st in TRIAGE_STATES { option value=(st) selected[*st == f.state] { (st.replace('_', " ")) } } } }
                    p { label for="t-just" { "VEX justification (needed for “not affected”)" }
                        select id="t-just" name="justification" { option value="" { "— none —" }
                            @for j in JUSTIFICATIONS { option value=(j) selected[f.justification.as_deref() == Some(*j)] { (j.replace('_', " ")) } } } }
                    p { label for="t-comment" { "Comment" }
                        textarea id="t-comment" name="comment" rows="3" maxlength="4000" {} }
                    button type="submit" { "Save triage" }
                }
                p { a href=(exception_link) { "Request an exception for this vulnerability" } }
            } @else {
                p.muted { "Your role cannot triage." }
            }
        }
        section aria-labelledby="history" {
            h2 id="history" { "History" }
            table {
                caption { "Every change of this finding, oldest first" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "State" } th scope="col" { "Justification" } th scope="col" { "Comment" } } }
                tbody { @for e in &history {
                    tr { td { (h::when(e.at)) } td { (e.actor) } td { (e.kind) }
                         td { (e.from_state.as_deref().unwrap_or("—")) " → " (e.to_state.as_deref().unwrap_or("—")) }
                         td { (e.justification.as_deref().unwrap_or("")) }
                         td { (e.comment.as_deref().unwrap_or("")) } }
                } }
            }
        }
    };
    let mut resp = h::page(
        viewer,
        &format!("{} in {}", f.advisory_id, f.component_name),
        Nav::Findings,
        body,
    );
    if let Some(st) = status {
        *resp.status_mut() = st;
    }
    Ok(resp)
}

/// `GET /findings/{id}`.
pub async fn page(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    render(&s, &portal, &viewer, &id, None).await
}

/// The triage form.
#[derive(Debug, Deserialize)]
pub struct TriageForm {
    state: String,
    #[serde(default)]
    justification: String,
    #[serde(default)]
    comment: String,
}

/// `POST /findings/{id}/triage`.
pub async fn triage(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<TriageForm>,
) -> PageResult {
    viewer.require_triage()?;
    let justification = Some(form.justification.trim()).filter(|j| !j.is_empty());
    let comment = Some(form.comment.trim()).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.len() > 4000) {
        return render(
            &s,
            &portal,
            &viewer,
            &id,
            Some(PageError::bad_request(
                "the comment is longer than 4000 characters",
            )),
        )
        .await;
    }
    let result = s
        .store
        .triage(
            &viewer.scope(),
            &id,
            form.state.trim(),
            justification,
            comment,
            &viewer.actor(),
        )
        .await;
    match result {
        Ok(f) => {
            s.store
                .audit(&viewer.actor(), "finding.triage", &f.id, Some(&f.state))
                .await?;
            Ok(Redirect::to(&format!("/findings/{}#history", seg(&id))).into_response())
        }
        Err(palisade_store::StoreError::NotFound(w)) => Err(PageError::not_found(w)),
        Err(e) => render(&s, &portal, &viewer, &id, Some(e.into())).await,
    }
}
