//! The platform server's end-to-end benchmark (run by `bench/server/run.sh`):
//! a synthetic portfolio built from the corpus SBOMs, on SQLite and on
//! PostgreSQL, measuring
//! - SBOM ingest rate through the API (upload, parse, match, store);
//! - the time from importing one new advisory to updated findings across
//!   the portfolio (the API call waits for the re-analysis job);
//! - admission webhook latency, p50 and p99, under concurrent clients: closed
//!   loop (each client sends again as soon as it is answered: saturation)
//!   and open loop at `--rate` reviews per second in all (0: skip).
//!
//! Usage: bench_server [--artifacts N] [--clients C] [--reviews R] [--rate PER_S]
//!        [--new-advisories K] [--sqlite FILE] [--postgres ADMIN_URL] [--corpus DIR]
//! `--new-advisories K` imports K new advisories one after the other (each
//! touching the same packages) and reports each. `--sqlite FILE` keeps the
//! SQLite database in FILE; when FILE already holds a portfolio, the import
//! and ingest are skipped, so the later phases can be profiled again
//! without rebuilding it (`--reviews 0` skips admission).
//! `BENCH_SKIP_SQLITE=1` runs only PostgreSQL; the server's warnings and
//! errors go to stderr (`RUST_LOG` to change).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_server::worker::WorkerOptions;
use palisade_server::{AppState, Router, bind, serve_with};
use palisade_store::tokens::Role;
use serde_json::{Value, json};

// The allocator of the `palisade` binary, so that the bench measures what
// the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "bench-admin-token-000000";

struct Args {
    artifacts: usize,
    clients: usize,
    reviews: usize,
    rate: u64,
    postgres: Option<String>,
    corpus: PathBuf,
    new_advisories: usize,
    sqlite: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = Args {
        artifacts: 10_000,
        clients: 100,
        reviews: 10_000,
        rate: 1_000,
        postgres: std::env::var("PALISADE_TEST_POSTGRES").ok(),
        corpus: std::env::var("PALISADE_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("../shared/corpus")),
        new_advisories: 1,
        sqlite: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--artifacts" => a.artifacts = v.parse().unwrap(),
            "--clients" => a.clients = v.parse().unwrap(),
            "--reviews" => a.reviews = v.parse().unwrap(),
            "--rate" => a.rate = v.parse().unwrap(),
            "--postgres" => a.postgres = Some(v).filter(|v| !v.is_empty()),
            "--corpus" => a.corpus = PathBuf::from(v),
            "--new-advisories" => a.new_advisories = v.parse().unwrap(),
            "--sqlite" => a.sqlite = Some(PathBuf::from(v)),
            other => panic!("unknown option {other}"),
        }
    }
    a
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(300)))
        .build()
        .into()
}

fn post(agent: &ureq::Agent, url: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = agent
        .post(url)
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .send(&body[..])
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The corpus SBOMs the portfolio is built from (CycloneDX JSON with
/// components).
fn corpus_sboms(corpus: &Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for rel in [
        "sbom/cyclonedx/juice-shop/v11.1.2/bom.json",
        "sbom/cyclonedx/dropwizard-1.3.15/bom.json",
        "sbom/cyclonedx/laravel-7.12.0/bom.1.4.json",
        "sbom/cyclonedx/proton-bridge/proton-bridge-v1.8.0.bom.json",
        "sbom/cyclonedx/cern-lhc-vdm-editor-e564943/bom.json",
        "sbom/cyclonedx/juice-shop/via_npm/flat/bom.1.4.json",
    ] {
        if let Ok(b) = std::fs::read(corpus.join(rel)) {
            out.push(b);
        }
    }
    out
}

fn corpus_advisories(corpus: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for eco in ["npm", "PyPI", "Go", "crates.io"] {
        let Ok(dir) = std::fs::read_dir(corpus.join("osv").join(eco)) else {
            continue;
        };
        for e in dir.flatten() {
            if e.path().extension().is_some_and(|x| x == "json")
                && let Ok(b) = std::fs::read(e.path())
                && let Ok(v) = serde_json::from_slice::<Value>(&b)
                && v.get("id").is_some()
            {
                out.push(v);
            }
        }
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run(label: &str, store: palisade_store::Store, a: &Args, reuse: bool) {
    let sboms = corpus_sboms(&a.corpus);
    assert!(
        !sboms.is_empty(),
        "no corpus SBOMs under {}",
        a.corpus.display()
    );
    let advisories = corpus_advisories(&a.corpus);
    let state = AppState::new(store.clone()).unwrap();
    palisade_server::sync_environments(&store, &state.engine, &["prod".to_owned()])
        .await
        .unwrap();
    if !reuse {
        store
            .insert_token("bench", Role::Admin, None, TOKEN)
            .await
            .unwrap();
    }
    let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with(
        listener,
        state,
        Router::new(),
        async {
            let _ = rx.await;
        },
        Duration::from_secs(10),
        Some(WorkerOptions {
            workers: 1,
            sweep_every: Duration::from_secs(86_400),
            ..WorkerOptions::default()
        }),
    ));

    if reuse {
        println!("[{label}] reusing the stored portfolio");
    } else {
        // Advisories first, so every upload is matched.
        let b = base.clone();
        let adv = advisories.clone();
        let (t_adv, n_adv) = tokio::task::spawn_blocking(move || {
            let agent = agent();
            let started = Instant::now();
            for chunk in adv.chunks(500) {
                let (s, body) = post(
                    &agent,
                    &format!("{b}/api/v1/advisories"),
                    serde_json::to_vec(chunk).unwrap(),
                );
                assert_eq!(s, 200, "{body}");
            }
            (started.elapsed(), adv.len())
        })
        .await
        .unwrap();
        println!(
            "[{label}] imported {n_adv} advisories in {:.1} s",
            t_adv.as_secs_f64()
        );

        // The portfolio: N artifacts, each one of the corpus SBOMs under its own
        // digest, uploaded by 4 concurrent CI clients.
        let sboms = Arc::new(sboms);
        let n = a.artifacts;
        let started = Instant::now();
        let mut handles = Vec::new();
        let uploaders = 4;
        let components = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for u in 0..uploaders {
            let b = base.clone();
            let sboms = sboms.clone();
            let components = components.clone();
            handles.push(tokio::task::spawn_blocking(move || {
                let agent = agent();
                for i in (u..n).step_by(uploaders) {
                    let digest = format!("sha256:{i:064x}");
                    let doc = &sboms[i % sboms.len()];
                    let (s, body) = post(
                        &agent,
                        &format!(
                            "{b}/api/v1/sboms?artifact={digest}&name=registry.example/app{i}:1.0"
                        ),
                        doc.clone(),
                    );
                    assert!(s == 201 || s == 200, "{s} {body}");
                    components.fetch_add(
                        body["components"].as_u64().unwrap_or(0),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let t_ingest = started.elapsed();
        let comps = components.load(std::sync::atomic::Ordering::Relaxed);
        println!(
            "[{label}] ingested {n} SBOMs ({comps} components) in {:.1} s: {:.1} SBOMs/s, {:.0} components/s",
            t_ingest.as_secs_f64(),
            n as f64 / t_ingest.as_secs_f64(),
            comps as f64 / t_ingest.as_secs_f64()
        );
    }

    // New advisories, one after the other, each touching packages most of
    // the portfolio runs.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut times = Vec::new();
    for k in 0..a.new_advisories.max(1) {
        let b = base.clone();
        let id = format!("BENCH-{nonce}-{k}");
        let (t_new, result) = tokio::task::spawn_blocking(move || {
            let agent = agent();
            let doc = json!({"id": id, "modified": "2026-11-25T00:00:00Z", "summary": "bench",
                "affected": [
                    {"package": {"ecosystem": "npm", "name": "lodash"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "99.0.0"}]}]},
                    {"package": {"ecosystem": "Maven", "name": "com.fasterxml.jackson.core:jackson-databind"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0.0"}]}]},
                    {"package": {"ecosystem": "Packagist", "name": "symfony/http-foundation"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0.0"}]}]},
                    {"package": {"ecosystem": "Go", "name": "golang.org/x/net"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "99.0.0"}]}]}
                ]});
            let started = Instant::now();
            let (s, body) = post(&agent, &format!("{b}/api/v1/advisories"), serde_json::to_vec(&doc).unwrap());
            assert_eq!(s, 200, "{body}");
            (started.elapsed(), body)
        })
        .await
        .unwrap();
        println!(
            "[{label}] new advisory {} -> updated findings across the portfolio: {:.0} ms ({} new findings)",
            k + 1,
            t_new.as_secs_f64() * 1000.0,
            result["new_findings"]
        );
        times.push(t_new);
    }
    if times.len() > 1 {
        times.sort();
        println!(
            "[{label}] new advisory -> updated findings, {} advisories: median {:.0} ms, min {:.0} ms, max {:.0} ms",
            times.len(),
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[times.len() - 1].as_secs_f64() * 1000.0
        );
    }
    if a.reviews == 0 {
        let _ = tx.send(());
        let _ = server.await;
        return;
    }

    // Admission: 500 workloads in prod run portfolio artifacts; clients send
    // reviews for pinned images.
    let workloads = 500.min(a.artifacts);
    let b = base.clone();
    tokio::task::spawn_blocking(move || {
        let agent = agent();
        for i in 0..workloads {
            let digest = format!("sha256:{i:064x}");
            let (s, body) = post(
                &agent,
                &format!("{b}/api/v1/deployments"),
                serde_json::to_vec(&json!({"team": format!("team{}", i % 10), "application": format!("app{i}"),
                    "environment": "prod", "namespace": format!("ns{}", i % 10), "name": format!("w{i}"),
                    "image": format!("registry.example/app{i}:1.0"), "digest": digest}))
                .unwrap(),
            );
            assert_eq!(s, 201, "{body}");
        }
    })
    .await
    .unwrap();
    // Closed loop: every client sends its next review as soon as the last
    // one is answered (saturation: the latency is mostly queueing).
    admission(label, &base, workloads, a.reviews, a.clients, None);
    // Open loop: the same clients at a fixed total rate, each review timed
    // from when it was due (no coordinated omission).
    if a.rate > 0 {
        admission(label, &base, workloads, a.reviews, a.clients, Some(a.rate));
    }
    let _ = tx.send(());
    let _ = server.await;
}

/// Sends `reviews` AdmissionReviews from `clients` threads, closed loop or
/// at `rate` reviews per second in all, and prints p50/p99.
fn admission(
    label: &str,
    base: &str,
    workloads: usize,
    reviews: usize,
    clients: usize,
    rate: Option<u64>,
) {
    let started = Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let b = base.to_owned();
        handles.push(std::thread::spawn(move || {
            let agent = agent();
            let mut lat = Vec::new();
            let mut outcomes = [0usize; 2];
            for r in (c..reviews).step_by(clients) {
                let i = r % workloads;
                let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                    "request": {"uid": format!("r{r}"), "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "namespace": format!("ns{}", i % 10), "operation": "CREATE",
                        "object": {"metadata": {"name": format!("w{i}")},
                            "spec": {"containers": [{"name": "app", "image": format!("registry.example/app{i}@sha256:{i:064x}")}]}}}});
                let body = serde_json::to_vec(&review).unwrap();
                // Review r is due at r / rate seconds.
                let due = match rate {
                    Some(rate) => {
                        let due = started + Duration::from_secs_f64(r as f64 / rate as f64);
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                        due
                    }
                    None => Instant::now(),
                };
                let resp = agent
                    .post(&format!("{b}/k8s/admission?environment=prod"))
                    .header("Content-Type", "application/json")
                    .send(&body[..])
                    .unwrap();
                let text = resp.into_body().read_to_string().unwrap();
                lat.push(due.elapsed());
                let v: Value = serde_json::from_str(&text).unwrap();
                outcomes[usize::from(v["response"]["allowed"].as_bool().unwrap_or(false))] += 1;
            }
            (lat, outcomes)
        }));
    }
    let mut lat = Vec::new();
    let mut outcomes = [0usize; 2];
    for h in handles {
        let (l, o) = h.join().unwrap();
        lat.extend(l);
        outcomes[0] += o[0];
        outcomes[1] += o[1];
    }
    let wall = started.elapsed();
    lat.sort();
    let mode = match rate {
        Some(r) => format!("open loop at {r}/s"),
        None => "closed loop".to_owned(),
    };
    println!(
        "[{label}] admission, {mode}: {} reviews from {clients} clients in {:.1} s ({:.0}/s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} allowed, {} denied)",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        percentile(&lat, 0.50).as_secs_f64() * 1000.0,
        percentile(&lat, 0.99).as_secs_f64() * 1000.0,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        outcomes[1],
        outcomes[0],
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let a = args();
    let dir = tempfile::tempdir().unwrap();
    let path = a
        .sqlite
        .clone()
        .unwrap_or_else(|| dir.path().join("bench.db"));
    let reuse = path.exists();
    let url = format!("sqlite://{}", path.display());
    let store = palisade_store::Store::open(&url).await.unwrap();
    if std::env::var_os("BENCH_SKIP_SQLITE").is_none() {
        run("sqlite", store.clone(), &a, reuse).await;
    }
    store.close().await;
    if let Some(admin) = &a.postgres {
        use sqlx::Connection;
        let name = format!("palisade_bench_{}", std::process::id());
        let mut conn = sqlx::postgres::PgConnection::connect(admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\""
        )))
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        let store = palisade_store::Store::open(&format!("{base}/{name}"))
            .await
            .unwrap();
        run("postgres", store.clone(), &a, false).await;
        store.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    } else {
        println!("[postgres] SKIPPED: pass --postgres ADMIN_URL or set PALISADE_TEST_POSTGRES");
    }
}
