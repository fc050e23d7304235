//! The policy decision log: searchable, with the reasons.

use axum::extract::{Query, State};
use maud::html;
use palisade_server::AppState;
use palisade_store::governance::DecisionFilter;
use palisade_store::now_ms;
use serde::Deserialize;

use crate::PageResult;
use crate::auth::Viewer;
use crate::html::{self as h, Nav, seg};
use crate::pages::ordered_envs;

/// The log's filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionQuery {
    q: Option<String>,
    outcome: Option<String>,
    environment: Option<String>,
    workload: Option<String>,
    source: Option<String>,
    before: Option<String>,
}

fn set(o: &Option<String>) -> Option<String> {
    o.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `GET /decisions`.
pub async fn list(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DecisionQuery>,
) -> PageResult {
    let now = now_ms();
    let filter = DecisionFilter {
        environment: set(&q.environment),
        outcome: set(&q.outcome),
        workload_id: set(&q.workload),
        artifact: None,
        source: set(&q.source),
        text: set(&q.q),
    };
    let page = s
        .store
        .list_decisions(&viewer.scope(), &filter, set(&q.before).as_deref(), 50)
        .await?;
    let envs = ordered_envs(s.store.list_environments().await?);
    let sel = |o: &Option<String>, v: &str| o.as_deref() == Some(v);
    let next_url = page.next.as_ref().map(|n| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("q", &filter.text),
            ("outcome", &filter.outcome),
            ("environment", &filter.environment),
            ("workload", &filter.workload_id),
            ("source", &filter.source),
        ] {
            if let Some(v) = v {
                pairs.push((k, v.clone()));
            }
        }
        pairs.push(("before", n.clone()));
        format!(
            "/decisions?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    });
    let body = html! {
        h1 { "Policy decisions" }
        p.lead { "Every decision of the admission webhook, the CI gate and background audit, newest first, with its reasons." }
        form.filters method="get" action="/decisions" aria-label="Search decisions" {
            @if let Some(w) = &filter.workload_id { input type="hidden" name="workload" value=(w); }
            p { label for="d-q" { "Text in reasons, workload or artifact" }
                input id="d-q" type="search" name="q" value=(filter.text.as_deref().unwrap_or("")); }
            p { label for="d-outcome" { "Outcome" }
                select id="d-outcome" name="outcome" { option value="" { "any" }
                    @for o in ["deny", "warn", "allow"] { option value=(o) selected[sel(&filter.outcome, o)] { (o) } } } }
            p { label for="d-env" { "Environment" }
                select id="d-env" name="environment" { option value="" { "any" }
                    @for e in &envs { option value=(e.name) selected[sel(&filter.environment, &e.name)] { (e.name) } } } }
            p { label for="d-source" { "Source" }
                select id="d-source" name="source" { option value="" { "any" }
                    @for o in ["admission", "gate", "audit", "api"] { option value=(o) selected[sel(&filter.source, o)] { (o) } } } }
            button type="submit" { "Search" }
            " " a href="/decisions" { "Clear" }
        }
        @if page.items.is_empty() {
            p.muted { "No decision matches." }
        } @else {
            table.decisions {
                caption { "Decisions, newest first" }
                thead { tr { th scope="col" { "When" } th scope="col" { "Outcome" } th scope="col" { "Environment" } th scope="col" { "Workload" } th scope="col" { "Artifact" } th scope="col" { "Source" } th scope="col" { "Reasons" } } }
                tbody { @for d in &page.items {
                    tr {
                        td { (h::when(d.at)) br; span.muted { (h::ago(now, d.at)) } }
                        td { (h::outcome(&d.outcome)) }
                        td { (d.environment) }
                        td { @match &d.workload_id {
                            Some(id) => { a href=(format!("/workloads/{}", seg(id))) { (d.workload.as_deref().unwrap_or(id)) } }
                            None => { (d.workload.as_deref().unwrap_or("—")) } } }
                        td { @if let Some(a) = &d.artifact_digest { (h::digest(a)) } }
                        td { (d.source) }
                        td { @if d.reasons.is_empty() { span.muted { "no violation" } } @else { ul.reasons { @for r in &d.reasons { li { (r) } } } } }
                    }
                } }
            }
            @if let Some(u) = &next_url { p { a href=(u) rel="next" { "Older decisions →" } } }
        }
    };
    Ok(h::page(&viewer, "Policy decisions", Nav::Decisions, body))
}
