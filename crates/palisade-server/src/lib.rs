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

pub mod admission;
pub mod analysis;
pub mod api;
pub mod auth;
pub mod decide;
pub mod demo;
pub mod demo_data;
pub mod error;
pub mod evidence;
pub mod prioritise;
pub mod scan_job;
pub mod trust;
pub mod worker;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub use axum::Router;
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
    /// The compiled policy bundle every decision point uses.
    pub engine: Arc<palisade_policy::Engine>,
    /// Verifies attestations at upload.
    pub trust: Arc<trust::Trust>,
    /// Wakes the background workers when a job is queued.
    pub jobs_ready: Arc<tokio::sync::Notify>,
    /// Registry client of the `fetch-evidence` job (never used on the
    /// decision path); `None`: no registry access.
    pub oci: Option<Arc<palisade_oci::Client>>,
    /// Decisions already taken, reused while the evidence is unchanged.
    pub decisions: Arc<decide::DecisionCache>,
    /// The periodic advisory sync, when switched on.
    pub sync: Option<Arc<worker::SyncConfig>>,
    /// External scanners the `scan` job runs (`--scanners FILE`); `None`:
    /// `POST /api/v1/scans/run` is refused.
    pub scanners: Option<Arc<palisade_scanners::Config>>,
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
    /// The configuration is inconsistent.
    #[error("configuration error: {0}")]
    Config(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] palisade_store::StoreError),
    /// The policy bundle could not be compiled.
    #[error("cannot compile the policy bundle: {0}")]
    Policy(#[from] palisade_policy::PolicyError),
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
    /// State over a store, with the built-in policy bundle and no trusted
    /// keys.
    pub fn new(store: Store) -> Result<AppState, ServerError> {
        let engine = palisade_policy::Engine::builtin(palisade_policy::EngineOptions::default())?;
        AppState::with(store, engine, trust::Trust::default())
    }

    /// State over a store with a policy engine and trust settings.
    pub fn with(
        store: Store,
        engine: palisade_policy::Engine,
        trust: trust::Trust,
    ) -> Result<AppState, ServerError> {
        Ok(AppState {
            store,
            metrics: metrics_handle()?,
            shutting_down: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            engine: Arc::new(engine),
            trust: Arc::new(trust),
            jobs_ready: Arc::new(tokio::sync::Notify::new()),
            oci: None,
            decisions: Arc::new(decide::DecisionCache::default()),
            sync: None,
            scanners: None,
        })
    }
}

/// The whole application: API routes, OpenAPI document, middleware.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The application with `extra` routes (the portal) beside the API, under
/// the same middleware and state.
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let (router, openapi) = api::router().split_for_parts();
    let router = router.merge(extra);
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
/// `grace`). Background workers run beside it when `workers` is given.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), ServerError> {
    serve_with(listener, state, Router::new(), shutdown, grace, None).await
}

/// [`serve`] with extra routes and background workers.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    extra: Router<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    workers: Option<worker::WorkerOptions>,
) -> Result<(), ServerError> {
    serve_tls(listener, None, state, extra, shutdown, grace, workers).await
}

/// TLS settings from a PEM certificate chain and private key.
pub async fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<axum_server::tls_rustls::RustlsConfig, ServerError> {
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
        .await
        .map_err(|e| {
            ServerError::Config(format!(
                "TLS certificate {} / key {}: {e}",
                cert.display(),
                key.display()
            ))
        })
}

/// [`serve_with`] over TLS when `tls` is given (the admission webhook must
/// be served over HTTPS).
pub async fn serve_tls(
    listener: TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    state: AppState,
    extra: Router<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    workers: Option<worker::WorkerOptions>,
) -> Result<(), ServerError> {
    let flag = state.shutting_down.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker_handles = match workers {
        Some(options) => worker::spawn(state.clone(), options, stop_rx),
        None => Vec::new(),
    };
    let router = app_with(state, extra);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = tx.send(());
    };
    let server = match tls {
        None => {
            let server = axum::serve(listener, router).with_graceful_shutdown(signal);
            tokio::spawn(async move { server.await })
        }
        Some(config) => {
            let handle = axum_server::Handle::new();
            let h2 = handle.clone();
            tokio::spawn(async move {
                signal.await;
                h2.graceful_shutdown(Some(grace));
            });
            let std_listener = listener.into_std().map_err(ServerError::Serve)?;
            let server = axum_server::from_tcp_rustls(std_listener, config)
                .map_err(ServerError::Serve)?
                .handle(handle)
                .serve(router.into_make_service());
            tokio::spawn(server)
        }
    };
    // Once shutdown begins, give in-flight requests `grace` to finish.
    let _ = rx.await;
    let _ = stop_tx.send(true);
    let result = match tokio::time::timeout(grace, server).await {
        Ok(Ok(result)) => result.map_err(ServerError::Serve),
        Ok(Err(join)) => Err(ServerError::Serve(std::io::Error::other(join))),
        Err(_) => {
            tracing::warn!("in-flight requests did not finish within {grace:?}; stopping");
            Ok(())
        }
    };
    // A job cut short here is not lost: its lease runs out and another
    // worker (or this server, restarted) runs it again.
    for h in worker_handles {
        let _ = tokio::time::timeout(grace, h).await;
    }
    result
}

/// The policy bundle's environments are the server's: each exists in the
/// store, with its parent, so workloads can name it.
pub async fn sync_environments(
    store: &Store,
    engine: &palisade_policy::Engine,
    production: &[String],
) -> Result<(), ServerError> {
    let names: Vec<String> = engine
        .environment_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    // Parents first.
    let mut pending = names.clone();
    let mut done: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::new();
        for name in pending {
            let parent = engine
                .environment(&name)
                .and_then(|e| e.chain.get(1).cloned());
            if parent.as_ref().is_some_and(|p| !done.contains(p)) {
                rest.push(name);
                continue;
            }
            let existing = store.environment_by_name(&name).await?;
            let modes = existing
                .map(|e| e.policy_modes)
                .unwrap_or_else(|| serde_json::json!({}));
            let is_prod = production.iter().any(|p| p.eq_ignore_ascii_case(&name));
            store
                .put_environment(&name, parent.as_deref(), &modes, is_prod)
                .await?;
            done.push(name);
        }
        if rest.len() == before {
            return Err(ServerError::Config(format!(
                "the policy bundle's environments inherit in a cycle: {rest:?}"
            )));
        }
        pending = rest;
    }
    Ok(())
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}
