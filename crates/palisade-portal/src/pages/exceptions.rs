//! Exceptions: request one, approve it as a second person (security or
//! admin; the store refuses the requester and records the refusal), revoke
//! it, and see when it expires.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use maud::{Markup, html};
use palisade_server::AppState;
use palisade_store::governance::{ExceptionRequest, ExceptionRow};
use palisade_store::model::Scope;
use palisade_store::now_ms;
use serde::Deserialize;

use crate::auth::{Posted, Viewer};
use crate::data::{DAY_MS, date_of};
use crate::html::{self as h, Nav, seg};
use crate::{PageError, PageResult};

/// Fields that prefill the request form (links from a finding).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Prefill {
    workload: Option<String>,
    artifact: Option<String>,
    vulnerability: Option<String>,
    policy: Option<String>,
}

fn status_badge(e: &ExceptionRow, now: i64) -> Markup {
    let st = e.status(now);
    let class = match st {
        "active" => "outcome-allow",
        "pending" => "outcome-warn",
        _ => "outcome-deny",
    };
    html! { span class=(format!("badge {class}")) { (st) } }
}

fn scope_text(e: &ExceptionRow) -> Markup {
    html! {
        ul.scope {
            @if let Some(v) = &e.workload { li { "workload " code { (v) } } }
            @if let Some(v) = &e.artifact { li { "artifact " code { (v) } } }
            @if let Some(v) = &e.vulnerability { li { "vulnerability " a href=(format!("/advisories/{}", seg(v))) { (v) } } }
            @if let Some(v) = &e.policy { li { "policy " code { (v) } } }
        }
    }
}

fn expiry(e: &ExceptionRow, now: i64) -> Markup {
    html! {
        @if e.expires_at <= now { "expired " (h::ago(now, e.expires_at)) }
        @else { "expires " (h::ago(now, e.expires_at)) }
        span.muted { " (" (h::when(e.expires_at)) ")" }
    }
}

fn approve_button(viewer: &Viewer, e: &ExceptionRow, now: i64) -> Markup {
    html! {
        @if e.status(now) == "pending" && viewer.can_approve() {
            form.inline method="post" action=(format!("/exceptions/{}/approve", seg(&e.id))) {
                (h::csrf(viewer))
                button type="submit" aria-label=(format!("Approve exception {}", e.id)) { "Approve" }
            }
            @if palisade_store::governance::same_person(&e.requested_by, &viewer.actor()) {
                span.muted { " You requested it: a second person must approve." }
            }
        }
    }
}

async fn render_list(
    s: &AppState,
    viewer: &Viewer,
    prefill: &Prefill,
    error: Option<PageError>,
) -> PageResult {
    let now = now_ms();
    let scope = viewer.scope();
    let list = s.store.list_exceptions(&scope).await?;
    let workloads = s.store.list_workloads(&scope, None, None, 500).await?.items;
    let mut names: Vec<String> = workloads
        .iter()
        .map(|w| format!("{}/{}", w.workload.namespace, w.workload.name))
        .collect();
    names.sort();
    names.dedup();
    let teams = s.store.list_teams(&scope).await?;
    let default_expiry = date_of(now + 30 * DAY_MS);
    let max_expiry = date_of(now + palisade_policy::exception::MAX_LIFETIME_DAYS * DAY_MS);
    let status = error.as_ref().map(|e| e.status);
    let body = html! {
        h1 { "Exceptions" }
        p.lead { "An exception waives policy violations in its scope until it expires. It applies only once a second person — security or admin, not the requester — approves it." }
        @if let Some(e) = &error { p.error role="alert" { (e.message) } }
        section aria-labelledby="all" {
            h2 id="all" { "Exceptions you can see" }
            @if list.is_empty() { p.muted { "None yet." } } @else {
                table {
                    caption { "Exceptions, newest first" }
                    thead { tr { th scope="col" { "Status" } th scope="col" { "Scope" } th scope="col" { "Reason" } th scope="col" { "Requested" } th scope="col" { "Approved" } th scope="col" { "Expiry" } th scope="col" { "Action" } } }
                    tbody { @for e in &list {
                        tr {
                            td { (status_badge(e, now)) }
                            td { a href=(format!("/exceptions/{}", seg(&e.id))) { "Exception " (e.id.chars().rev().take(6).collect::<String>().chars().rev().collect::<String>()) } (scope_text(e)) }
                            td { (e.reason) }
                            td { (e.requested_by) br; span.muted { (h::ago(now, e.requested_at)) } }
                            td { @match (&e.approved_by, e.approved_at) { (Some(b), Some(at)) => { (b) br; span.muted { (h::ago(now, at)) } } _ => { "—" } } }
                            td { (expiry(e, now)) }
                            td { (approve_button(viewer, e, now)) }
                        }
                    } }
                }
            }
        }
        @if viewer.can_triage() {
            section aria-labelledby="request" {
                h2 id="request" { "Request an exception" }
                form.card method="post" action="/exceptions" {
                    (h::csrf(viewer))
                    p.muted { "Give at least one of workload, artifact, vulnerability or policy." }
                    p { label for="x-workload" { "Workload" }
                        select id="x-workload" name="workload" { option value="" { "any workload" }
                            @for n in &names { option value=(n) selected[prefill.workload.as_deref() == Some(n.as_str())] { (n) } } } }
                    p { label for="x-vuln" { "Vulnerability (advisory id or alias)" }
                        input id="x-vuln" name="vulnerability" value=(prefill.vulnerability.as_deref().unwrap_or("")); }
                    p { label for="x-artifact" { "Artifact (digest or name)" }
                        input id="x-artifact" name="artifact" value=(prefill.artifact.as_deref().unwrap_or("")); }
                    p { label for="x-policy" { "Policy (e.g. palisade.vulnerabilities)" }
                        input id="x-policy" name="policy" value=(prefill.policy.as_deref().unwrap_or("")); }
                    @if matches!(scope, Scope::All) {
                        p { label for="x-team" { "Team" }
                            select id="x-team" name="team" { option value="" { "organisation-wide" }
                                @for t in &teams { option value=(t.name) { (t.name) } } } }
                    }
                    p { label for="x-reason" { "Reason" }
                        textarea id="x-reason" name="reason" rows="3" required maxlength="4000" {} }
                    p { label for="x-expires" { "Expires on (UTC, at most " (palisade_policy::exception::MAX_LIFETIME_DAYS) " days ahead)" }
                        input id="x-expires" name="expires" type="date" required value=(default_expiry) min=(date_of(now + DAY_MS)) max=(max_expiry); }
                    button type="submit" { "Request exception" }
                }
            }
        }
    };
    let mut resp = h::page(viewer, "Exceptions", Nav::Exceptions, body);
    if let Some(st) = status {
        *resp.status_mut() = st;
    }
    Ok(resp)
}

/// `GET /exceptions`.
pub async fn list(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(prefill): Query<Prefill>,
) -> PageResult {
    render_list(&s, &viewer, &prefill, None).await
}

/// The request form.
#[derive(Debug, Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    workload: String,
    #[serde(default)]
    artifact: String,
    #[serde(default)]
    vulnerability: String,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: String,
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// `POST /exceptions`.
pub async fn request(
    State(s): State<AppState>,
    Posted { viewer, form }: Posted<RequestForm>,
) -> PageResult {
    viewer.require_triage()?;
    let prefill = Prefill {
        workload: opt(&form.workload),
        artifact: opt(&form.artifact),
        vulnerability: opt(&form.vulnerability),
        policy: opt(&form.policy),
    };
    let fail = |m: String| PageError::bad_request(m);
    let expires = match time::Date::parse(
        form.expires.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        Ok(d) => d,
        Err(_) => {
            return render_list(
                &s,
                &viewer,
                &prefill,
                Some(fail(format!(
                    "expiry {:?} is not a date (YYYY-MM-DD)",
                    form.expires
                ))),
            )
            .await;
        }
    };
    let expires_ms =
        i64::try_from(expires.midnight().assume_utc().unix_timestamp_nanos() / 1_000_000)
            .unwrap_or(i64::MAX);
    let now = now_ms();
    if expires_ms > now + palisade_policy::exception::MAX_LIFETIME_DAYS * DAY_MS {
        return render_list(
            &s,
            &viewer,
            &prefill,
            Some(fail(format!(
                "an exception lasts at most {} days",
                palisade_policy::exception::MAX_LIFETIME_DAYS
            ))),
        )
        .await;
    }
    if form.reason.len() > 4000 {
        return render_list(
            &s,
            &viewer,
            &prefill,
            Some(fail("the reason is longer than 4000 characters".to_owned())),
        )
        .await;
    }
    let team_id = match (viewer.scope(), opt(&form.team)) {
        (Scope::Team(own), _) => Some(own),
        (Scope::All, Some(t)) => match s.store.team_by_name(&t).await? {
            Some(team) => Some(team.id),
            None => return Err(PageError::not_found(format!("team {t}"))),
        },
        (Scope::All, None) => None,
    };
    let req = ExceptionRequest {
        team_id,
        workload: prefill.workload.clone(),
        artifact: prefill.artifact.clone(),
        vulnerability: prefill.vulnerability.clone(),
        policy: prefill.policy.clone(),
        reason: form.reason.trim().to_owned(),
        expires_at: expires_ms,
    };
    match s.store.request_exception(&req, &viewer.actor()).await {
        Ok(e) => {
            s.store
                .audit(&viewer.actor(), "exception.request", &e.id, Some(&e.reason))
                .await?;
            Ok(Redirect::to(&format!("/exceptions/{}", seg(&e.id))).into_response())
        }
        Err(e) => render_list(&s, &viewer, &prefill, Some(e.into())).await,
    }
}

async fn render_one(
    s: &AppState,
    viewer: &Viewer,
    id: &str,
    error: Option<PageError>,
) -> PageResult {
    let now = now_ms();
    let e = s
        .store
        .exception(&viewer.scope(), id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("exception {id}")))?;
    let history = s.store.exception_history(id).await?;
    let status = error.as_ref().map(|e| e.status);
    let body = html! {
        p.crumbs { a href="/exceptions" { "Exceptions" } " › " (e.id) }
        h1 { "Exception " (status_badge(&e, now)) }
        @if let Some(err) = &error { p.error role="alert" data-testid="error" { (err.message) } }
        dl.facts {
            dt { "Scope" } dd { (scope_text(&e)) }
            dt { "Reason" } dd { (e.reason) }
            dt { "Requested by" } dd { (e.requested_by) ", " (h::when(e.requested_at)) }
            dt { "Approved by" } dd { @match (&e.approved_by, e.approved_at) { (Some(b), Some(at)) => { (b) ", " (h::when(at)) } _ => { "not yet" } } }
            dt { "Expiry" } dd { (expiry(&e, now)) }
            @if let (Some(b), Some(at)) = (&e.revoked_by, e.revoked_at) { dt { "Revoked" } dd { (b) ", " (h::when(at)) } }
        }
        (approve_button(viewer, &e, now))
        @if e.revoked_at.is_none() && viewer.can_triage() {
            form.inline method="post" action=(format!("/exceptions/{}/revoke", seg(&e.id))) {
                (h::csrf(viewer))
                label for="r-reason" { "Reason to revoke" }
                input id="r-reason" name="reason" maxlength="1000";
                button type="submit" { "Revoke" }
            }
        }
        h2 { "History" }
        table {
            caption { "Every event of this exception, oldest first" }
            thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } th scope="col" { "Detail" } } }
            tbody { @for ev in &history {
                tr { td { (h::when(ev.at)) } td { (ev.actor) } td { (ev.kind.replace('_', " ")) } td { (ev.detail.as_deref().unwrap_or("")) } }
            } }
        }
    };
    let mut resp = h::page(viewer, "Exception", Nav::Exceptions, body);
    if let Some(st) = status {
        *resp.status_mut() = st;
    }
    Ok(resp)
}

/// `GET /exceptions/{id}`.
pub async fn page(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> PageResult {
    render_one(&s, &viewer, &id, None).await
}

/// Nothing but the CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// `POST /exceptions/{id}/approve`.
pub async fn approve(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Posted { viewer, .. }: Posted<Empty>,
) -> PageResult {
    if !viewer.can_approve() {
        return render_one(
            &s,
            &viewer,
            &id,
            Some(PageError::forbidden(format!(
                "only the security and admin roles approve exceptions; your role is {}",
                viewer.role().as_str()
            ))),
        )
        .await;
    }
    match s
        .store
        .approve_exception(&viewer.scope(), &id, &viewer.actor())
        .await
    {
        Ok(e) => {
            s.store
                .audit(&viewer.actor(), "exception.approve", &e.id, None)
                .await?;
            // What runs may now be allowed: re-decide it, as the API does.
            let _ = s
                .store
                .enqueue("audit", "{}", Some("audit"), now_ms())
                .await;
            s.jobs_ready.notify_waiters();
            Ok(Redirect::to(&format!("/exceptions/{}", seg(&id))).into_response())
        }
        Err(palisade_store::StoreError::NotFound(w)) => Err(PageError::not_found(w)),
        Err(e) => render_one(&s, &viewer, &id, Some(e.into())).await,
    }
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    reason: String,
}

/// `POST /exceptions/{id}/revoke`.
pub async fn revoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Posted { viewer, form }: Posted<RevokeForm>,
) -> PageResult {
    viewer.require_triage()?;
    let reason = opt(&form.reason);
    match s
        .store
        .revoke_exception(&viewer.scope(), &id, &viewer.actor(), reason.as_deref())
        .await
    {
        Ok(e) => {
            s.store
                .audit(
                    &viewer.actor(),
                    "exception.revoke",
                    &e.id,
                    reason.as_deref(),
                )
                .await?;
            let _ = s
                .store
                .enqueue("audit", "{}", Some("audit"), now_ms())
                .await;
            s.jobs_ready.notify_waiters();
            Ok(Redirect::to(&format!("/exceptions/{}", seg(&id))).into_response())
        }
        Err(palisade_store::StoreError::NotFound(w)) => Err(PageError::not_found(w)),
        Err(e) => render_one(&s, &viewer, &id, Some(e.into())).await,
    }
}
