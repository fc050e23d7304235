//! An advisory: its details and its blast radius — every workload, in every
//! environment, that runs something it affects right now.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use maud::html;
use palisade_advisory::osv::Advisory;
use palisade_server::AppState;

use crate::auth::Viewer;
use crate::data::{Ctx, FindingQuery};
use crate::html::{self as h, Nav, seg};
use crate::{PageError, PageResult, Portal};

fn ranges(a: &palisade_advisory::osv::Affected) -> String {
    let mut parts = Vec::new();
    for r in &a.ranges {
        let mut lo: Option<&str> = None;
        for e in &r.events {
            if let Some(i) = &e.introduced {
                lo = Some(i);
            }
            let hi = e
                .fixed
                .as_deref()
                .map(|f| format!("< {f}"))
                .or_else(|| e.last_affected.as_deref().map(|l| format!("<= {l}")))
                .or_else(|| e.limit.as_deref().map(|l| format!("< {l} (limit)")));
            if let Some(hi) = hi {
                parts.push(match lo.take() {
                    Some("0") | None => hi,
                    Some(l) => format!(">= {l}, {hi}"),
                });
            }
        }
        if let Some(l) = lo {
            parts.push(if l == "0" {
                "every version".to_owned()
            } else {
                format!(">= {l}")
            });
        }
    }
    if !a.versions.is_empty() {
        parts.push(format!("{} listed versions", a.versions.len()));
    }
    parts.join("; ")
}

/// `GET /advisories/{id}` (an OSV id or any alias).
pub async fn page(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let mut record = s.store.advisory_record(&id).await?;
    let mut primary = id.clone();
    if record.is_none()
        && let Some(first) = s.store.advisory_ids_named(&id).await?.into_iter().next()
    {
        record = s.store.advisory_record(&first).await?;
        primary = first;
    }
    let advisory: Option<Advisory> = record.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let radius = s.store.blast_radius(&viewer.scope(), &id).await?;
    if advisory.is_none() && radius.is_empty() {
        return Err(PageError::not_found(format!("advisory {id}")));
    }
    // Open findings per environment (production first), as the findings
    // list counts them.
    let mut per_env: BTreeMap<(bool, &str), std::collections::BTreeSet<&str>> = BTreeMap::new();
    for e in radius.iter().filter(|e| crate::data::actionable(&e.state)) {
        per_env
            .entry((!e.production, e.environment.as_str()))
            .or_default()
            .insert(e.finding_id.as_str());
    }
    let workloads: std::collections::BTreeSet<&str> =
        radius.iter().map(|e| e.workload_id.as_str()).collect();
    let all = FindingQuery::default().with("advisory", primary.clone());
    let body = html! {
        h1 { "Advisory " (primary) }
        @match &advisory {
            Some(a) => {
                @if let Some(sm) = &a.summary { p.lead.summary { (sm) } }
                @if a.is_withdrawn() { p.warn { "Withdrawn " (a.withdrawn.as_deref().unwrap_or("")) ": it no longer matches anything." } }
                dl.facts {
                    @if !a.aliases.is_empty() { dt { "Also known as" } dd { (a.aliases.join(", ")) } }
                    @if let Some(p) = &a.published { dt { "Published" } dd { (p) } }
                    dt { "Modified" } dd { (a.modified) }
                    @if !a.severity.is_empty() || a.database_severity.is_some() {
                        dt { "Severity" } dd {
                            @for sv in &a.severity { code { (sv.kind) " " (sv.score) } " " }
                            @if let Some(d) = &a.database_severity { "(database: " (d) ")" }
                        }
                    }
                }
                @if let Some(d) = &a.details { h2 { "Details" } div.details { (d) } }
                h2 { "Affected packages" }
                table {
                    caption { "Packages and versions this advisory names" }
                    thead { tr { th scope="col" { "Ecosystem" } th scope="col" { "Package" } th scope="col" { "Affected versions" } } }
                    tbody { @for af in &a.affected {
                        tr { td { (af.ecosystem) } td { code { (af.name) } } td { (ranges(af)) } }
                    } }
                }
                @if !a.references.is_empty() {
                    h2 { "References" }
                    ul { @for r in &a.references { li { (r.kind) ": " (h::external(&r.url)) } } }
                }
            }
            None => { p.muted { "The advisory record is not stored; its findings are." } }
        }
        section aria-labelledby="radius" {
            h2 id="radius" { "Blast radius" }
            p { "Running now in " strong { (h::plural(workloads.len() as u64, "workload")) } ": "
                @for (i, ((_, env), n)) in per_env.iter().enumerate() {
                    @if i > 0 { ", " }
                    @let q = all.clone().with("environment", *env);
                    a href=(q.url()) { (h::plural(n.len() as u64, "open finding")) " in " (env) }
                }
                ". " a href=(all.clone().with("state", "all").url()) { "Every finding of this advisory" } "." }
            @if radius.is_empty() {
                p.good { "Nothing you can see runs an affected package now." }
            } @else {
                table {
                    caption { "Every workload running an affected package, production first" }
                    thead { tr { th scope="col" { "Environment" } th scope="col" { "Team" } th scope="col" { "Workload" } th scope="col" { "Artifact" } th scope="col" { "Package" } th scope="col" { "Fix" } th scope="col" { "State" } } }
                    tbody { @for e in &radius {
                        tr {
                            td { (e.environment) @if e.production { " " span.badge { "production" } } }
                            td { a href=(format!("/teams/{}", seg(&e.team))) { (e.team) } }
                            td { a href=(format!("/workloads/{}", seg(&e.workload_id))) { (e.namespace) "/" (e.workload) }
                                @if e.internet_facing { " " span.badge { "internet-facing" } } }
                            td { (e.artifact_name) br; (h::digest(&e.artifact_digest)) }
                            td { a href=(format!("/findings/{}", seg(&e.finding_id))) { code { (e.component_name) } " " (e.component_version.as_deref().unwrap_or("")) } }
                            td { (e.fix_version.as_deref().unwrap_or("none yet")) }
                            td { (h::state(&e.state)) " " (h::severity(&e.severity)) }
                        }
                    } }
                }
            }
        }
    };
    let _ = ctx;
    Ok(h::page(
        &viewer,
        &format!("Advisory {primary}"),
        Nav::Findings,
        body,
    ))
}
