//! Health, readiness and metrics: unauthenticated, for probes and scrapers.

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(prometheus))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", security(), responses((status = 200, description = "alive", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and shutdown has not begun.
#[utoipa::path(get, path = "/readyz", tag = "system", security(), responses(
    (status = 200, description = "ready", body = String),
    (status = 503, description = "not ready", body = String)))]
async fn readyz(State(state): State<AppState>) -> Response {
    if state.shutting_down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}")).into_response(),
    }
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "system", security(), responses((status = 200, description = "metrics", body = String)))]
async fn prometheus(State(state): State<AppState>) -> Response {
    if let Ok(stats) = state.store.queue_stats().await {
        metrics::gauge!("palisade_jobs", "state" => "queued").set(stats.queued as f64);
        metrics::gauge!("palisade_jobs", "state" => "running").set(stats.running as f64);
        metrics::gauge!("palisade_jobs", "state" => "failed").set(stats.failed as f64);
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Counts requests and their latency by route and status.
pub async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("palisade_http_requests_total", &labels).increment(1);
    metrics::histogram!("palisade_http_request_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
}
