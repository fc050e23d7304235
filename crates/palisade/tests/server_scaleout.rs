//! Scale-out: several `palisade server` processes on one PostgreSQL behave
//! as one. A process killed in the middle of a re-analysis job loses
//! nothing: the job's lease runs out, another process runs it again, and the
//! findings come out exactly as if it had run once. Jobs queued while both
//! run are each run once.
//!
//! Needs PostgreSQL (`PALISADE_TEST_POSTGRES`); skips visibly without it.

#![cfg(feature = "server")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use palisade_store::findings::{ComponentRow, SbomIngest};
use palisade_store::test_support;
use palisade_store::tokens::Role;
use sqlx::Row;

const TOKEN: &str = "scaleout-admin-token-0000";

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db_url: &str, data_dir: &std::path::Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args([
                "server",
                "--database",
                db_url,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--workers",
                "1",
                "--job-lease-seconds",
                "2",
                "--data-dir",
            ])
            .arg(data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = ureq::get(&format!("{base}/readyz")).call()
                && r.status() == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, base }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn advisory(id: &str, package: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id, "modified": "2026-11-01T00:00:00Z", "summary": "scale-out test",
        "affected": [{"package": {"ecosystem": "npm", "name": package},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "9.0.0"}]}]}]
    })
}

fn import(base: &str, doc: &serde_json::Value) -> serde_json::Value {
    let body = serde_json::to_string(doc).unwrap();
    let resp = ureq::post(&format!("{base}/api/v1/advisories?wait=false"))
        .header("Authorization", &format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .unwrap();
    serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap()
}

async fn job(store: &palisade_store::Store, id: &str) -> (String, i64, Option<String>) {
    let r = sqlx::query("SELECT state, attempts, locked_by FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    (
        r.try_get("state").unwrap(),
        r.try_get("attempts").unwrap(),
        r.try_get("locked_by").unwrap(),
    )
}

async fn count(store: &palisade_store::Store, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_loses_no_job_and_no_job_runs_twice() {
    let Some(db) = test_support::postgres().await else {
        return;
    };
    let store = db.store.clone();
    store
        .insert_token("admin", Role::Admin, None, TOKEN)
        .await
        .unwrap();
    // A portfolio big enough that re-analysing it takes a while.
    const ARTIFACTS: usize = 1500;
    for i in 0..ARTIFACTS {
        let digest = format!("sha256:{i:064x}");
        let components = ["left-pad", "is-odd", "tiny-lib"]
            .iter()
            .map(|n| ComponentRow {
                component_key: format!("pkg:npm/{n}@1.0.{}", i % 7),
                bom_ref: (*n).to_owned(),
                name: (*n).to_owned(),
                version: Some(format!("1.0.{}", i % 7)),
                purl: Some(format!("pkg:npm/{n}@1.0.{}", i % 7)),
                package_key: Some(format!("npm/{n}")),
                release: None,
                match_version: Some(format!("1.0.{}", i % 7)),
                license: None,
            })
            .collect();
        store
            .ingest_sbom(&SbomIngest {
                artifact_digest: digest.clone(),
                artifact_name: format!("registry.example/app{i}"),
                team_id: None,
                document_digest: digest,
                source_format: "CycloneDX 1.6".to_owned(),
                inventory: "{}".to_owned(),
                components,
                findings: Vec::new(),
                actor: "test".to_owned(),
            })
            .await
            .unwrap();
    }
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();

    // Process A takes the re-analysis job; it is killed while it runs.
    let a = Server::start(&db.url, dir_a.path());
    let out = import(&a.base, &advisory("SCALE-1", "left-pad"));
    let job_id = out["job"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (state, _, locked_by) = job(&store, &job_id).await;
        if state == "running" {
            assert!(
                locked_by
                    .as_deref()
                    .unwrap()
                    .contains(&format!("-{}-", a.pid())),
                "{locked_by:?}"
            );
            break;
        }
        assert_ne!(
            state, "done",
            "the job finished before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "job never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let partial = count(&store, "SELECT COUNT(*) FROM findings").await;
    a.kill();
    assert!(
        (partial as usize) < ARTIFACTS,
        "A finished {partial} of {ARTIFACTS} before the kill"
    );

    // Process B runs it again once the lease has run out.
    let b = Server::start(&db.url, dir_b.path());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (state, attempts, locked_by) = job(&store, &job_id).await;
        if state == "done" {
            assert_eq!(attempts, 2, "ran once in A, once in B");
            assert!(
                locked_by
                    .as_deref()
                    .unwrap()
                    .contains(&format!("-{}-", b.pid())),
                "{locked_by:?}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "job never finished ({state})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Exactly one finding per artifact, and one `new` event each: what A
    // committed before dying is kept, not duplicated.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM findings").await,
        ARTIFACTS as i64
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM events WHERE kind = 'finding.new'"
        )
        .await,
        ARTIFACTS as i64
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM findings f WHERE NOT EXISTS (SELECT 1 FROM components c WHERE c.artifact_digest = f.artifact_digest AND c.component_key = f.component_key)"
        )
        .await,
        0,
        "no orphan findings"
    );

    // Two processes, many jobs: each runs exactly once.
    let a2 = Server::start(&db.url, dir_a.path());
    let mut jobs = Vec::new();
    for i in 0..12 {
        let base = if i % 2 == 0 { &a2.base } else { &b.base };
        // Packages nobody runs: the jobs are quick, so the two processes
        // race for them.
        let out = import(
            base,
            &advisory(&format!("SCALE-{}", i + 2), &format!("absent-{i}")),
        );
        jobs.push(out["job"].as_str().unwrap().to_owned());
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    for id in &jobs {
        loop {
            let (state, attempts, _) = job(&store, id).await;
            if state == "done" {
                assert_eq!(attempts, 1, "job {id} ran {attempts} times");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "job {id} never finished ({state})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM jobs WHERE state <> 'done' AND kind = 'reanalyse'"
        )
        .await,
        0
    );
    a2.kill();
    b.kill();
    db.finish().await;
}

/// A CycloneDX SBOM of `n` npm packages, `left-pad` among them.
fn big_sbom(n: usize, seed: usize) -> Vec<u8> {
    let mut components: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({"type": "library", "bom-ref": format!("c{i}"), "name": format!("pkg-{seed}-{i}"),
                "version": "1.0.0", "purl": format!("pkg:npm/pkg-{seed}-{i}@1.0.0")})
        })
        .collect();
    components.push(
        serde_json::json!({"type": "library", "bom-ref": "lp", "name": "left-pad",
        "version": "1.0.0", "purl": "pkg:npm/left-pad@1.0.0"}),
    );
    serde_json::to_vec(
        &serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6",
        "version": 1, "components": components}),
    )
    .unwrap()
}

/// Concurrent SBOM uploads, and the server killed (SIGKILL) while they run:
/// every upload that was answered 201 is stored whole; none is stored in
/// part (an SBOM's components all there, no finding without its
/// component); a restarted server on the same database takes the
/// remaining uploads. On SQLite and, when configured, PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_in_the_middle_of_uploads_nothing_partial_is_stored() {
    for db in test_support::all().await {
        let store = db.store.clone();
        store
            .insert_token("admin", Role::Admin, None, TOKEN)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&db.url, dir.path());
        let adv = import(&server.base, &advisory("PAL-KILL-0001", "left-pad"));
        assert!(adv.get("error").is_none(), "{adv}");

        const UPLOADS: usize = 24;
        let upload = |base: String, i: usize| -> u16 {
            let body = big_sbom(3000, i);
            match ureq::post(&format!(
                "{base}/api/v1/sboms?artifact=sha256:{i:064x}&name=registry.example/kill{i}"
            ))
            .header("Authorization", &format!("Bearer {TOKEN}"))
            .header("Content-Type", "application/json")
            .send(&body[..])
            {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            }
        };
        let answered = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for t in 0..4 {
            let base = server.base.clone();
            let answered = answered.clone();
            threads.push(std::thread::spawn(move || {
                for i in (t..UPLOADS).step_by(4) {
                    let status = upload(base.clone(), i);
                    if status == 201 || status == 200 {
                        answered.lock().unwrap().push(i);
                    }
                }
            }));
        }
        // Kill once a few uploads are through and others are in flight.
        let deadline = Instant::now() + Duration::from_secs(120);
        while answered.lock().unwrap().len() < 3 {
            assert!(
                Instant::now() < deadline,
                "[{}] no upload answered",
                db.label
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.kill();
        for t in threads {
            t.join().unwrap();
        }
        let answered = answered.lock().unwrap().clone();
        assert!(
            answered.len() < UPLOADS,
            "[{}] the kill came too late",
            db.label
        );

        let check = |label: &'static str| {
            let store = store.clone();
            async move {
                // No SBOM stored in part.
                let partial = count(
                    &store,
                    "SELECT COUNT(*) FROM sboms s WHERE s.component_count <> \
                     (SELECT COUNT(*) FROM components c WHERE c.sbom_id = s.id)",
                )
                .await;
                assert_eq!(partial, 0, "[{label}] partial SBOMs");
                // No finding without the component it is about.
                let orphans = count(
                    &store,
                    "SELECT COUNT(*) FROM findings f WHERE NOT EXISTS \
                     (SELECT 1 FROM components c WHERE c.artifact_digest = f.artifact_digest \
                      AND c.component_key = f.component_key)",
                )
                .await;
                assert_eq!(orphans, 0, "[{label}] orphan findings");
                // One finding (left-pad) per stored SBOM.
                let sboms = count(&store, "SELECT COUNT(*) FROM sboms").await;
                let findings = count(&store, "SELECT COUNT(*) FROM findings").await;
                assert_eq!(findings, sboms, "[{label}] findings per SBOM");
                sboms
            }
        };
        let stored = check(db.label).await;
        assert!(
            stored >= i64::try_from(answered.len()).unwrap(),
            "[{}] {stored} stored, {} answered",
            db.label,
            answered.len()
        );
        for i in &answered {
            let digest = format!("sha256:{i:064x}");
            assert_eq!(
                store.sboms_of(&digest).await.unwrap().len(),
                1,
                "[{}] answered upload {i} lost",
                db.label
            );
        }

        // A restarted server takes every upload again; the answered ones are
        // not duplicated.
        let server = Server::start(&db.url, dir.path());
        for i in 0..UPLOADS {
            let status = upload(server.base.clone(), i);
            assert!(
                status == 201 || status == 200,
                "[{}] upload {i}: {status}",
                db.label
            );
        }
        server.kill();
        assert_eq!(check(db.label).await, i64::try_from(UPLOADS).unwrap());
        db.finish().await;
    }
}
