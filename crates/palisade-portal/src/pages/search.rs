//! Search across workloads, packages and advisories.

use axum::extract::{Query, State};
use maud::html;
use palisade_server::AppState;
use serde::Deserialize;

use crate::PageResult;
use crate::auth::Viewer;
use crate::data::FindingQuery;
use crate::html::{self as h, Nav, seg};

/// Results per kind.
const LIMIT: i64 = 50;

/// The query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    q: Option<String>,
}

/// `GET /search?q=`.
pub async fn page(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(sq): Query<SearchQuery>,
) -> PageResult {
    let text: String =
        sq.q.as_deref()
            .unwrap_or("")
            .trim()
            .chars()
            .take(200)
            .collect();
    let scope = viewer.scope();
    let (workloads, packages, advisories) = if text.is_empty() {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        let ids = s.store.search_workload_ids(&scope, &text, LIMIT).await?;
        let mut ws = Vec::new();
        for id in ids {
            if let Some(w) = s.store.workload(&scope, &id).await? {
                ws.push(w);
            }
        }
        (
            ws,
            s.store.search_packages(&scope, &text, LIMIT).await?,
            s.store.search_advisories(&text, LIMIT).await?,
        )
    };
    let body = html! {
        h1 { "Search" }
        form.filters role="search" method="get" action="/search" {
            p { label for="q-main" { "Workloads, packages and advisories" }
                input id="q-main" type="search" name="q" value=(text) autofocus; }
            button type="submit" { "Search" }
        }
        @if !text.is_empty() {
            p.lead { (h::plural(workloads.len() as u64, "workload")) ", " (h::plural(packages.len() as u64, "package")) ", "
                (h::plural(advisories.len() as u64, "advisory")) " match " q { (text) } "." }
            section aria-labelledby="r-w" {
                h2 id="r-w" { "Workloads" }
                @if workloads.is_empty() { p.muted { "None." } } @else {
                    ul.results { @for w in &workloads {
                        li { a href=(format!("/workloads/{}", seg(&w.workload.id))) { (w.workload.namespace) "/" (w.workload.name) " in " (w.environment) }
                             span.muted { " · " (w.team) " › " (w.application) } }
                    } }
                }
            }
            section aria-labelledby="r-p" {
                h2 id="r-p" { "Packages" }
                @if packages.is_empty() { p.muted { "None." } } @else {
                    table {
                        caption { "Packages in artifacts you can see" }
                        thead { tr { th scope="col" { "Package" } th scope="col" { "Version" } th scope="col" { "Package URL" } th scope="col" class="num" { "Artifacts" } th scope="col" { "Findings" } } }
                        tbody { @for p in &packages {
                            tr { td { code { (p.name) } } td { (p.version.as_deref().unwrap_or("")) } td { code { (p.purl.as_deref().unwrap_or("")) } }
                                 td.num { (p.artifacts) }
                                 td { a href=(FindingQuery::default().with("package", p.name.clone()).url()) { "open findings of " (p.name) } } }
                        } }
                    }
                }
            }
            section aria-labelledby="r-a" {
                h2 id="r-a" { "Advisories" }
                @if advisories.is_empty() { p.muted { "None." } } @else {
                    ul.results { @for a in &advisories {
                        li { a href=(format!("/advisories/{}", seg(&a.id))) { (a.id) } " — " span.summary { (a.summary) }
                             @if a.withdrawn { " " span.badge { "withdrawn" } } }
                    } }
                }
            }
        }
    };
    Ok(h::page(&viewer, "Search", Nav::Search, body))
}
