//! The test harness: a server on a scratch database, and HTTP calls.

// Test code: a failed set-up should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::time::Duration;

use palisade_server::worker::WorkerOptions;
use palisade_server::{AppState, Router, bind, serve_with};
use serde_json::Value;

pub struct Running {
    pub base: String,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
}

/// A server without background workers.
pub async fn start(store: palisade_store::Store) -> Running {
    start_with(AppState::new(store).unwrap(), None).await
}

/// A server over `state` with one background worker and no periodic sweep
/// during the test.
pub async fn start_working(state: AppState) -> Running {
    start_with(
        state,
        Some(WorkerOptions {
            workers: 1,
            sweep_every: Duration::from_secs(3600),
            ..WorkerOptions::default()
        }),
    )
    .await
}

/// A server over `state`, with workers when given.
pub async fn start_with(state: AppState, workers: Option<WorkerOptions>) -> Running {
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    let handle = tokio::spawn(async move {
        serve_with(
            listener,
            st,
            Router::new(),
            async {
                let _ = rx.await;
            },
            Duration::from_secs(5),
            workers,
        )
        .await
        .unwrap();
    });
    Running {
        base,
        state,
        stop: Some(tx),
        handle,
    }
}

impl Running {
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.handle.await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// One HTTP call with a JSON body: (status, JSON or text body).
pub async fn call(
    method: &str,
    url: String,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    call_raw(method, url, token, body.map(|b| b.to_string().into_bytes())).await
}

/// One HTTP call with raw bytes: (status, JSON or text body).
pub async fn call_raw(
    method: &str,
    url: String,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> (u16, Value) {
    let method = method.to_owned();
    let token = token.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(&url);
        if let Some(t) = &token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = match body {
            Some(b) => agent
                .run(
                    req.header("Content-Type", "application/json")
                        .body(b)
                        .unwrap(),
                )
                .unwrap(),
            None => agent.run(req.body(()).unwrap()).unwrap(),
        };
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    })
    .await
    .unwrap()
}
