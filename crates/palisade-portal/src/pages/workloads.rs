//! Workloads: the list, and one workload's page — what to fix first, the
//! artifact it runs in each environment, its integrity, SBOM, findings and
//! policy decisions.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use maud::{Markup, html};
use palisade_server::AppState;
use palisade_store::findings::FindingFilter;
use palisade_store::governance::{AttestationRow, DecisionFilter};
use serde_json::Value;

use crate::auth::Viewer;
use crate::data::{self, Ctx, FindingQuery};
use crate::html::{self as h, Nav, seg};
use crate::pages::teams::workloads_table;
use crate::pages::{findings_table, fix_first};
use crate::{PageError, PageResult, Portal};

/// `GET /workloads`.
pub async fn list(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let rows = data::load(&s.store, &scope, &ctx, &FindingFilter::default()).await?;
    let mut workloads = s.store.list_workloads(&scope, None, None, 500).await?.items;
    let envs = crate::pages::ordered_envs(s.store.list_environments().await?);
    // By team and application, then each workload in its environments,
    // production first.
    workloads.sort_by(|a, b| {
        (
            &a.team,
            &a.application,
            &a.workload.namespace,
            &a.workload.name,
        )
            .cmp(&(
                &b.team,
                &b.application,
                &b.workload.namespace,
                &b.workload.name,
            ))
            .then_with(|| prod_first(&envs, &a.environment, &b.environment))
    });
    let body = html! {
        h1 { "Workloads" }
        p.lead { "Each workload is an application running in one environment. Open one to see what to fix first." }
        (workloads_table(&ctx, &rows, &workloads, "Workloads with their open findings by priority"))
    };
    Ok(h::page(&viewer, "Workloads", Nav::Workloads, body))
}

fn prod_first(envs: &[palisade_store::model::Environment], a: &str, b: &str) -> std::cmp::Ordering {
    let pos = |n: &str| envs.iter().position(|e| e.name == n).unwrap_or(usize::MAX);
    pos(a).cmp(&pos(b))
}

/// What an SLSA provenance statement says of the build: (builder, source,
/// build type). Reads SLSA v1 and v0.2.
pub fn provenance(statement: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let p = &statement["predicate"];
    let s = |v: &Value| v.as_str().map(str::to_owned);
    let builder = s(&p["runDetails"]["builder"]["id"]).or_else(|| s(&p["builder"]["id"]));
    let build_type = s(&p["buildDefinition"]["buildType"]).or_else(|| s(&p["buildType"]));
    let with_commit = |uri: Option<String>, digest: &Value| {
        uri.map(|u| {
            match digest["gitCommit"]
                .as_str()
                .or_else(|| digest["sha1"].as_str())
            {
                Some(c) => format!("{u}@{}", c.chars().take(12).collect::<String>()),
                None => u,
            }
        })
    };
    let ext = &p["buildDefinition"]["externalParameters"];
    let dep0 = &p["buildDefinition"]["resolvedDependencies"][0];
    let source = s(&ext["workflow"]["repository"])
        .or_else(|| s(&ext["source"]))
        .map(|u| with_commit(Some(u), &dep0["digest"]).unwrap_or_default())
        .or_else(|| with_commit(s(&dep0["uri"]), &dep0["digest"]))
        .or_else(|| {
            with_commit(
                s(&p["invocation"]["configSource"]["uri"]),
                &p["invocation"]["configSource"]["digest"],
            )
        })
        .or_else(|| with_commit(s(&p["materials"][0]["uri"]), &p["materials"][0]["digest"]));
    (builder, source, build_type)
}

fn integrity(now: i64, atts: &[AttestationRow]) -> Markup {
    html! {
        @if atts.is_empty() {
            p.warn { "No verified attestation: nothing proves where this artifact came from." }
        } @else {
            table {
                caption { "Attestations verified when they were uploaded" }
                thead { tr { th scope="col" { "Predicate" } th scope="col" { "Verified" } th scope="col" { "Signed by" } th scope="col" { "Builder" } th scope="col" { "Source" } th scope="col" { "Uploaded" } } }
                tbody {
                    @for a in atts {
                        @let (builder, source, _) = a.statement.as_ref().map(provenance).unwrap_or((None, None, None));
                        tr {
                            td { code { (a.predicate_type) } }
                            td { @if a.verified { span.badge.outcome-allow { "verified" } } @else { span.badge.outcome-deny { "not verified" } } }
                            td { (a.signer.as_deref().unwrap_or("unknown")) }
                            td { (builder.as_deref().unwrap_or("—")) }
                            td { (source.as_deref().unwrap_or("—")) }
                            td { (h::ago(now, a.created_at)) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /workloads/{id}`.
pub async fn page(
    State(s): State<AppState>,
    Extension(portal): Extension<Arc<Portal>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let ctx = Ctx::new(&portal.config.priority);
    let scope = viewer.scope();
    let w = s
        .store
        .workload(&scope, &id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("workload {id}")))?;
    let deployments = s.store.deployments_of(&id).await?;
    let running_all = s.store.running_workloads(&scope).await?;
    let siblings: Vec<_> = running_all
        .iter()
        .filter(|r| {
            r.application_id == w.workload.application_id
                && r.namespace == w.workload.namespace
                && r.name == w.workload.name
        })
        .collect();
    let rows = data::load(
        &s.store,
        &scope,
        &ctx,
        &FindingFilter {
            workload: Some(id.clone()),
            states: [
                "open",
                "in_triage",
                "affected",
                "not_affected",
                "false_positive",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            ..FindingFilter::default()
        },
    )
    .await?;
    let q = FindingQuery::default().with("workload", id.clone());
    let open = q.apply(&ctx, &rows);
    let suppressed_q = q.clone().with("state", "suppressed");
    let suppressed = suppressed_q.apply(&ctx, &rows);
    let actions = data::actions(&ctx, &q, &open);
    let current: Vec<_> = deployments
        .iter()
        .filter(|d| d.ended_at.is_none())
        .collect();
    let mut artifacts = Vec::new();
    for d in &current {
        artifacts.push((
            (*d).clone(),
            s.store.artifact_name(&d.artifact_digest).await?,
            s.store.attestations_of(&d.artifact_digest).await?,
            s.store.components_of(&d.artifact_digest).await?,
            s.store.sboms_of(&d.artifact_digest).await?,
        ));
    }
    let decisions = s
        .store
        .list_decisions(
            &scope,
            &DecisionFilter {
                workload_id: Some(id.clone()),
                ..DecisionFilter::default()
            },
            None,
            20,
        )
        .await?;
    let title = format!(
        "{}/{} in {}",
        w.workload.namespace, w.workload.name, w.environment
    );
    let body = html! {
        p.crumbs { a href=(format!("/teams/{}", seg(&w.team))) { (w.team) } " › "
            a href=(format!("/applications/{}", seg(&w.workload.application_id))) { (w.application) } " › " (w.environment) }
        h1 { "Workload " (w.workload.namespace) "/" (w.workload.name) " " span.muted { "in " (w.environment) } }
        p.lead { (w.workload.kind)
            @if w.workload.internet_facing { " · " span.badge { "internet-facing" } }
            " · " a href=(q.url()) { (h::plural(open.len() as u64, "open finding")) }
            @let breached = q.clone().with("sla", "breached");
            @let nb = breached.count(&ctx, &rows);
            @if nb > 0 { " · " a href=(breached.url()) { (nb) " past their SLA" } } }
        section.fixfirst aria-labelledby="fix" {
            h2 id="fix" { "Fix first" }
            (fix_first(&ctx, &actions, &q, 5))
        }
        section aria-labelledby="envs" {
            h2 id="envs" { "In each environment" }
            table {
                caption { "What this workload runs in each environment now" }
                thead { tr { th scope="col" { "Environment" } th scope="col" { "Container" } th scope="col" { "Artifact" } th scope="col" { "Digest" } th scope="col" { "Running since" } } }
                tbody {
                    @for r in &siblings {
                        tr {
                            th scope="row" {
                                @if r.workload_id == id { (r.environment) " (this page)" }
                                @else { a href=(format!("/workloads/{}", seg(&r.workload_id))) { (r.environment) } }
                            }
                            td { (r.container) }
                            td { (r.artifact_name) }
                            td { (h::digest(&r.artifact_digest)) }
                            td { (h::time_el(ctx.now, r.since)) }
                        }
                    }
                }
            }
            @if deployments.len() > current.len() {
                details {
                    summary { "Deployment history (" (deployments.len()) ")" }
                    ul { @for d in &deployments { li { (h::digest(&d.artifact_digest)) " in " (d.container) ": " (h::when(d.started_at)) " – "
                        @match d.ended_at { Some(e) => { (h::when(e)) } None => { "now" } } } } }
                }
            }
        }
        @for (d, name, atts, components, sboms) in &artifacts {
            section aria-label=(format!("Artifact {}", d.artifact_digest)) {
                h2 { "Artifact " (name.as_deref().unwrap_or("")) }
                p { (h::digest(&d.artifact_digest)) " in container " code { (d.container) } ", running since " (h::time_el(ctx.now, d.started_at)) }
                h3 { "Integrity" }
                (integrity(ctx.now, atts))
                h3 { "SBOM" }
                @if sboms.is_empty() {
                    p.warn { "No SBOM uploaded: its findings are unknown." }
                } @else {
                    p { (h::plural(components.len() as u64, "component")) " from "
                        @for (i, sb) in sboms.iter().enumerate() { @if i > 0 { ", " } (sb.source_format) " uploaded " (h::ago(ctx.now, sb.created_at)) } }
                    details {
                        summary { "Components (" (components.len()) ")" }
                        table {
                            caption { "SBOM components" }
                            thead { tr { th scope="col" { "Name" } th scope="col" { "Version" } th scope="col" { "Package URL" } th scope="col" { "Licence" } } }
                            tbody { @for c in components.iter() {
                                tr { td { a href=(FindingQuery::default().with("package", c.component.name.clone()).with("workload", id.clone()).with("state", "all").url()) { (c.component.name) } }
                                     td { (c.component.version.as_deref().unwrap_or("")) }
                                     td { code { (c.component.purl.as_deref().unwrap_or("")) } }
                                     td { (c.component.license.as_deref().unwrap_or("")) } }
                            } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="findings" {
            h2 id="findings" { "Findings" }
            (findings_table(&ctx, &q, &open, 200, &format!("Open findings of {title}, most urgent first")))
            @if !suppressed.is_empty() {
                details {
                    summary { "Triaged as not affected or false positive (" (suppressed.len()) ")" }
                    (findings_table(&ctx, &suppressed_q, &suppressed, 200, "Suppressed findings"))
                }
            }
        }
        section aria-labelledby="decisions" {
            h2 id="decisions" { "Policy decisions over time" }
            @if decisions.items.is_empty() {
                p.muted { "No policy decision recorded yet." }
            } @else {
                ol.timeline aria-label="Decisions, newest first" {
                    @for d in &decisions.items {
                        li { (h::outcome(&d.outcome)) " " (h::time_el(ctx.now, d.at)) span.muted { " · " (d.source) }
                            @if !d.reasons.is_empty() { ul.reasons { @for r in &d.reasons { li { (r) } } } } }
                    }
                }
                p { a href=(format!("/decisions?workload={}", seg(&id))) { "All decisions of this workload" } }
            }
        }
    };
    Ok(h::page(&viewer, &title, Nav::Workloads, body))
}

#[cfg(test)]
mod tests {
    use super::provenance;
    use serde_json::json;

    #[test]
    fn reads_slsa_v1_and_v02() {
        let v1 = json!({"predicate": {"buildDefinition": {"buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
            "externalParameters": {"workflow": {"repository": "https://git.example/payments/checkout"}},
            "resolvedDependencies": [{"uri": "git+https://git.example/payments/checkout@refs/heads/main", "digest": {"gitCommit": "0123456789abcdef"}}]},
            "runDetails": {"builder": {"id": "https://ci.example/builder@v1"}}}});
        let (b, s, _) = provenance(&v1);
        assert_eq!(b.as_deref(), Some("https://ci.example/builder@v1"));
        assert_eq!(
            s.as_deref(),
            Some("https://git.example/payments/checkout@0123456789ab")
        );
        let v02 = json!({"predicate": {"builder": {"id": "b"}, "invocation": {"configSource": {"uri": "git+x", "digest": {"sha1": "abc"}}}}});
        assert_eq!(
            provenance(&v02),
            (Some("b".into()), Some("git+x@abc".into()), None)
        );
    }
}
