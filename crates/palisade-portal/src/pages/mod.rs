//! The pages, one module per family, and the pieces they share: the
//! findings table, the "fix first" list and the priority-by-environment
//! matrix.

pub mod advisories;
pub mod decisions;
pub mod exceptions;
pub mod findings;
pub mod overview;
pub mod search;
pub mod teams;
pub mod workloads;

use maud::{Markup, html};
use palisade_store::model::Environment;

use crate::data::{Action, Ctx, FindingQuery, PRIORITIES, Row};
use crate::html::{self as h, count, seg};

/// Environments in display order: production first, then those closest to
/// it (an environment inheriting from another comes before its parent:
/// prod, staging, dev), then by name.
pub(crate) fn ordered_envs(mut envs: Vec<Environment>) -> Vec<Environment> {
    let depth = |e: &Environment| {
        let mut d = 0usize;
        let mut parent = e.parent_id.clone();
        while let Some(p) = parent {
            d += 1;
            if d > envs.len() {
                break;
            }
            parent = envs
                .iter()
                .find(|x| x.id == p)
                .and_then(|x| x.parent_id.clone());
        }
        d
    };
    let mut keyed: Vec<(bool, usize, Environment)> = envs
        .iter()
        .map(|e| (e.production, depth(e), e.clone()))
        .collect();
    keyed.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.name.cmp(&b.2.name))
    });
    envs = keyed.into_iter().map(|(_, _, e)| e).collect();
    envs
}

/// Open findings by priority (rows) and environment (columns), each cell a
/// link to its findings. `base` narrows every cell (a team, an application).
pub(crate) fn priority_matrix(
    ctx: &Ctx,
    rows: &[Row],
    base: &FindingQuery,
    envs: &[String],
    caption: &str,
) -> Markup {
    html! {
        table.matrix {
            caption { (caption) }
            thead {
                tr {
                    th scope="col" { "Priority" }
                    @for e in envs { th scope="col" class="num" { (e) } }
                    th scope="col" class="num" { "Not running" }
                    th scope="col" class="num" { "All" }
                }
            }
            tbody {
                @for p in PRIORITIES {
                    tr {
                        th scope="row" { (h::priority(p)) }
                        @for e in envs {
                            @let q = base.clone().with("priority", p.as_str()).with("environment", e.clone());
                            td.num { (count(q.count(ctx, rows), &q.url(), &format!("open {} findings in {e}", p.as_str()))) }
                        }
                        @let q = base.clone().with("priority", p.as_str()).with("deployed", "no");
                        td.num { (count(q.count(ctx, rows), &q.url(), &format!("open {} findings in artifacts not running", p.as_str()))) }
                        @let q = base.clone().with("priority", p.as_str());
                        td.num { (count(q.count(ctx, rows), &q.url(), &format!("open {} findings", p.as_str()))) }
                    }
                }
            }
        }
    }
}

/// The fixes to make first.
pub(crate) fn fix_first(_ctx: &Ctx, actions: &[Action], base: &FindingQuery, n: usize) -> Markup {
    html! {
        @if actions.is_empty() {
            p.good { "Nothing to fix: no open findings here." }
        } @else {
            ol.actions {
                @for a in actions.iter().take(n) {
                    @let q = base.clone().with("package", a.component.clone());
                    li {
                        (h::priority(a.top.priority)) " "
                        @match &a.fix_to {
                            Some(v) => { strong { "Upgrade " (a.component) " " (a.version.as_deref().unwrap_or("?")) " → " (v) } }
                            None => { strong { (a.component) " " (a.version.as_deref().unwrap_or("?")) ": no fixed version yet" } }
                        }
                        " — closes "
                        a href=(q.url()) { (h::plural(a.findings.len() as u64, "finding")) }
                        @if a.unfixed > 0 && a.fix_to.is_some() { " (" (a.unfixed) " without a fix)" }
                        " ("
                        @for (i, adv) in a.advisories.iter().take(4).enumerate() {
                            @if i > 0 { ", " }
                            a href=(format!("/advisories/{}", seg(adv))) { (adv) }
                        }
                        @if a.advisories.len() > 4 { ", …" }
                        ")"
                        @if a.breached { " " span.badge.breach { "past SLA" } }
                        @if let Some(d) = a.top.due { span.muted { " · due " (d) } }
                        @if !a.workloads.is_empty() { span.muted { " · " (h::plural(a.workloads.len() as u64, "workload")) } }
                    }
                }
            }
            @if actions.len() > n {
                p { a href=(base.url()) { "All " (actions.len()) " fixes' findings" } }
            }
        }
    }
}

/// A table of findings.
pub(crate) fn findings_table(
    ctx: &Ctx,
    q: &FindingQuery,
    rows: &[&Row],
    limit: usize,
    caption: &str,
) -> Markup {
    html! {
        @if rows.is_empty() {
            p.good { "No findings match." }
        } @else {
            table.findings {
                caption { (caption) }
                thead {
                    tr {
                        th scope="col" { "Priority" }
                        th scope="col" { "Advisory" }
                        th scope="col" { "Package" }
                        th scope="col" { "Fix" }
                        th scope="col" { "Where" }
                        th scope="col" { "State" }
                        th scope="col" { "Due" }
                    }
                }
                tbody {
                    @for row in rows.iter().take(limit) {
                        @let f = &row.finding;
                        @let eff = q.effective(row).unwrap_or(row.top());
                        tr {
                            td { (h::priority(eff.priority)) br; (h::severity(&f.severity)) }
                            td {
                                a href=(format!("/findings/{}", seg(&f.id))) { (f.advisory_id) }
                                @if !f.summary.is_empty() { br; span.summary { (f.summary) } }
                            }
                            td { code { (f.component_name) } " " (f.component_version.as_deref().unwrap_or("")) }
                            td { @match &f.fix_version { Some(v) => { code { (v) } } None => { span.muted { "none yet" } } } }
                            td {
                                @let inst: Vec<_> = q.instances(row).collect();
                                @if inst.is_empty() { span.muted { "not running" } }
                                @for (i, it) in inst.iter().take(3).enumerate() {
                                    @if i > 0 { br; }
                                    a href=(format!("/workloads/{}", seg(&it.run.workload_id))) {
                                        (it.run.namespace) "/" (it.run.name)
                                    }
                                    " in " (it.run.environment)
                                }
                                @if inst.len() > 3 { br; span.muted { "and " (inst.len() - 3) " more" } }
                            }
                            td { (h::state(&f.state)) }
                            td {
                                @if let Some(d) = eff.due {
                                    @if crate::data::actionable(&f.state) && ctx.breached(eff) {
                                        span.badge.breach { "overdue " ((ctx.today - d).whole_days()) "d" }
                                    } @else { (d) }
                                }
                            }
                        }
                    }
                }
            }
            @if rows.len() > limit {
                p.muted { "Showing the first " (limit) " of " (rows.len()) "; narrow the filters to see the rest." }
            }
        }
    }
}
