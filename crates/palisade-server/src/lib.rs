//! The platform server: one process serving the REST API (and, as they land,
//! the portal and the admission webhook), plus background workers, over
//! [`palisade_store::Store`].
//!
//! The design decision: handlers are thin. They authenticate, check the role,
//! translate HTTP to store calls and back; everything they decide with lives
//! in the pure crates (versions, advisory matching, policy) or the store, so
//! that the CLI, the server and the webhook share one truth.
//!
//! The OpenAPI 3.1 document at `/api/openapi.json` is generated from the
//! handlers' annotations, so it cannot drift from the code.

pub mod analysis;
pub mod api;
pub mod auth;
pub mod decide;
pub mod demo;
pub mod error;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use palisade_store::Store;
use tokio::net::TcpListener;

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Renders Prometheus metrics.
    pub metrics: PrometheusHandle,
    /// Set once shutdown has begun: readiness turns false so load balancers
    /// stop sending new requests while in-flight ones finish.
    pub shutting_down: Arc<std::sync::atomic::AtomicBool>,
}

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
    /// The metrics recorder could not be installed.
    #[error("cannot install the metrics recorder: {0}")]
    Metrics(String),
}

/// The process-wide Prometheus recorder (the `metrics` facade is global).
pub fn metrics_handle() -> Result<PrometheusHandle, ServerError> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = match PrometheusBuilder::new().install_recorder() {
        Ok(h) => h,
        // Another thread won the race, or a test installed one: build a
        // detached recorder so this server still renders its own metrics.
        Err(_) => PrometheusBuilder::new().build_recorder().handle(),
    };
    Ok(HANDLE.get_or_init(|| handle).clone())
}

impl AppState {
    /// State over a store.
    pub fn new(store: Store) -> Result<AppState, ServerError> {
        Ok(AppState {
            store,
            metrics: metrics_handle()?,
            shutting_down: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        })
    }
}

/// The whole application: API routes, OpenAPI document, middleware.
pub fn app(state: AppState) -> Router {
    let (router, openapi) = api::router().split_for_parts();
    let openapi = Arc::new(openapi);
    router
        .route(
            "/api/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .layer(axum::middleware::from_fn(api::system::track_metrics))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            api::MAX_BODY_BYTES,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// accepting connections and lets in-flight requests finish (up to
/// `grace`).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), ServerError> {
    let flag = state.shutting_down.clone();
    let router = app(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let server = tokio::spawn(async move { server.await });
    // Once shutdown begins, give in-flight requests `grace` to finish.
    let _ = rx.await;
    match tokio::time::timeout(grace, server).await {
        Ok(Ok(result)) => result.map_err(ServerError::Serve),
        Ok(Err(join)) => Err(ServerError::Serve(std::io::Error::other(join))),
        Err(_) => {
            tracing::warn!("in-flight requests did not finish within {grace:?}; stopping");
            Ok(())
        }
    }
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}
