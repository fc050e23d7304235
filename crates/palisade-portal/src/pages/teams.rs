//! Teams and applications: their workloads and what to fix first.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use maud::{Markup, html};
use palisade_server::AppState;
use palisade_store::findings::FindingFilter;
use palisade_store::model::{Scope, WorkloadView};

use crate::auth::Viewer;
use crate::data::{self, Ctx, FindingQuery, PRIORITIES, Row};
use crate::html::{self as h, Nav, count, seg};
use crate::pages::{findings_table, fix_first, ordered_envs, priority_matrix};
use crate::{PageError, PageResult, Portal};

/// A table of workloads with their open findings by priority.
pub(crate) fn workloads_table(
    ctx: &Ctx,
    rows: &[Row],
    workloads: &[WorkloadView],
    caption: &str,
) -> Markup {
    html! {
        @if workloads.is_empty() {
            p.muted { "No workloads." }
        } @else {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Workload" } th scope="col" { "Team" } th scope="col" { "Application" } th scope="col" { "Environment" }
                    @for p in PRIORITIES { th scope="col" class="num" { (p.as_str()) } }
                    th scope="col" class="num" { "Past SLA" }
                } }
                tbody {
                    @for w in workloads {
                        @let base = FindingQuery::default().with("workload", w.workload.id.clone());
                        tr {
                            th scope="row" { a href=(format!("/workloads/{}", seg(&w.workload.id))) { (w.workload.namespace) "/" (w.workload.name) } }
                            td { a href=(format!("/teams/{}", seg(&w.team))) { (w.team) } }
                            td { a href=(format!("/applications/{}", seg(&w.workload.application_id))) { (w.application) } }
                            td { (w.environment) @if w.workload.internet_facing { " " span.badge { "internet-facing" } } }
                            @for p in PRIORITIES {
                                @let q = base.clone().with("priority", p.as_str());
                                td.num { (count(q.count(ctx, rows), &q.url(), &format!("open {} findings in {}/{} ({})", p.as_str(), w.workload.namespace, w.workload.name, w.environment))) }
                            }
                            @let q = base.clone().with("sla", "breached");
                            td.num { (count(q.count(ctx, rows), &q.url(), &format!("findings past their SLA in {}/{} ({})", w.workload.namespace, w.workload.name, w.environment))) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /teams`.
pub async fn list(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let teams = s.store.list_teams(&scope).await?;
    let rows = data::load(&s.store, &scope, &ctx, &FindingFilter::default()).await?;
    let workloads = s.store.list_workloads(&scope, None, None, 500).await?.items;
    let body = html! {
        h1 { "Teams" }
        table {
            caption { "Teams with their open findings" }
            thead { tr {
                th scope="col" { "Team" } th scope="col" class="num" { "Workloads" }
                @for p in PRIORITIES { th scope="col" class="num" { (p.as_str()) } }
                th scope="col" class="num" { "Past SLA" }
            } }
            tbody {
                @for t in &teams {
                    @let base = FindingQuery::default().with("team", t.name.clone());
                    tr {
                        th scope="row" { a href=(format!("/teams/{}", seg(&t.name))) { (t.name) } }
                        td.num { (workloads.iter().filter(|w| w.team_id == t.id).count()) }
                        @for p in PRIORITIES {
                            @let q = base.clone().with("priority", p.as_str());
                            td.num { (count(q.count(&ctx, &rows), &q.url(), &format!("open {} findings of team {}", p.as_str(), t.name))) }
                        }
                        @let q = base.clone().with("sla", "breached");
                        td.num { (count(q.count(&ctx, &rows), &q.url(), &format!("findings of team {} past their SLA", t.name))) }
                    }
                }
            }
        }
    };
    Ok(h::page(&viewer, "Teams", Nav::Teams, body))
}

/// `GET /teams/{name}`.
pub async fn team(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let team = s
        .store
        .list_teams(&scope)
        .await?
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| PageError::not_found(format!("team {name}")))?;
    let rows = data::load(&s.store, &scope, &ctx, &FindingFilter::default()).await?;
    let workloads: Vec<WorkloadView> = s
        .store
        .list_workloads(&Scope::Team(team.id.clone()), None, None, 500)
        .await?
        .items;
    let apps: Vec<_> = s
        .store
        .list_applications(&Scope::Team(team.id.clone()))
        .await?;
    let envs: Vec<String> = ordered_envs(s.store.list_environments().await?)
        .into_iter()
        .map(|e| e.name)
        .collect();
    let base = FindingQuery::default().with("team", team.name.clone());
    let mine = base.apply(&ctx, &rows);
    let actions = data::actions(&ctx, &base, &mine);
    let body = html! {
        h1 { "Team " (team.name) }
        p.lead {
            (h::plural(apps.len() as u64, "application")) ", " (h::plural(workloads.len() as u64, "workload")) ", "
            a href=(base.url()) { (h::plural(mine.len() as u64, "open finding")) } "."
        }
        section aria-labelledby="fix" {
            h2 id="fix" { "Fix first" }
            (fix_first(&ctx, &actions, &base, 10))
        }
        section aria-labelledby="apps" {
            h2 id="apps" { "Applications" }
            ul { @for a in &apps { li { a href=(format!("/applications/{}", seg(&a.id))) { (a.name) } } } }
        }
        section aria-labelledby="wl" {
            h2 id="wl" { "Workloads" }
            (workloads_table(&ctx, &rows, &workloads, &format!("Workloads of team {}", team.name)))
        }
        section aria-labelledby="matrix" {
            h2 id="matrix" { "Open findings by priority and environment" }
            (priority_matrix(&ctx, &rows, &base, &envs, &format!("Open findings of team {}", team.name)))
        }
    };
    Ok(h::page(
        &viewer,
        &format!("Team {}", team.name),
        Nav::Teams,
        body,
    ))
}

/// `GET /applications/{id}`.
pub async fn application(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let app = s
        .store
        .list_applications(&scope)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| PageError::not_found(format!("application {id}")))?;
    let rows = data::load(&s.store, &scope, &ctx, &FindingFilter::default()).await?;
    let workloads: Vec<WorkloadView> = s
        .store
        .list_workloads(&scope, None, None, 500)
        .await?
        .items
        .into_iter()
        .filter(|w| w.workload.application_id == app.id)
        .collect();
    let base = FindingQuery::default().with("application", app.id.clone());
    let mine = base.apply(&ctx, &rows);
    let actions = data::actions(&ctx, &base, &mine);
    let body = html! {
        h1 { "Application " (app.name) }
        p.lead { "Team " a href=(format!("/teams/{}", seg(&app.team))) { (app.team) } " · "
            (h::plural(workloads.len() as u64, "workload")) " · "
            a href=(base.url()) { (h::plural(mine.len() as u64, "open finding")) } }
        section aria-labelledby="fix" {
            h2 id="fix" { "Fix first" }
            (fix_first(&ctx, &actions, &base, 10))
        }
        section aria-labelledby="wl" {
            h2 id="wl" { "Workloads in each environment" }
            (workloads_table(&ctx, &rows, &workloads, &format!("Workloads of application {}", app.name)))
        }
        section aria-labelledby="f" {
            h2 id="f" { "Open findings" }
            (findings_table(&ctx, &base, &mine, 100, &format!("Open findings of application {}, most urgent first", app.name)))
        }
    };
    Ok(h::page(
        &viewer,
        &format!("Application {}", app.name),
        Nav::Teams,
        body,
    ))
}
