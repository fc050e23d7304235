//! `POST /api/v1/scans/run` queues a `scan` job; a worker runs the
//! configured script scanners against a directory and imports their output
//! like an upload to `POST /api/v1/scans`. On SQLite and PostgreSQL.

#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{call, start_working};
use palisade_server::AppState;
use palisade_store::test_support;
use palisade_store::tokens::Role;
use serde_json::{Value, json};

const ADMIN: &str = "t-admin-0000000000000";
const CI: &str = "t-ci-00000000000000000";
const DEV: &str = "t-dev-0000000000000000";
const ART: &str = "sha256:4444444444444444444444444444444444444444444444444444444444444444";

const SARIF: &str = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"testscan","version":"1.0"}},
"results":[
 {"ruleId":"R1","level":"error","message":{"text":"first"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/a.py"},"region":{"startLine":3}}}]},
 {"ruleId":"R2","level":"warning","message":{"text":"second"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"src/b.py"},"region":{"startLine":9}}}]}
]}]}"#;

fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_scan_runs_the_script_scanner_and_imports_its_findings() {
    let bin = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(bin.path().join("r.sarif"), SARIF).unwrap();
    let sarif = script(
        bin.path(),
        "sarif.sh",
        &format!(
            "test -d \"$2\" || exit 9\ncp '{}' \"$1\"\nexit 1",
            bin.path().join("r.sarif").display()
        ),
    );
    let config = palisade_scanners::Config::parse(
        &format!(
            "[[scanner]]\nname = \"sarif\"\ncommand = ['{sarif}', '{{output}}', '{{target}}']\nformat = \"sarif\"\ntargets = [\"directory\"]\nsuccess_exit_codes = [0, 1]\ntimeout = \"30s\"\n\n[[scanner]]\nname = \"img\"\ncommand = ['{sarif}']\nformat = \"sarif\"\ntargets = [\"image\"]\n"
        ),
        "scanners.toml",
    )
    .unwrap();
    for db in test_support::all().await {
        let store = db.store.clone();
        for (name, role, secret) in [
            ("admin", Role::Admin, ADMIN),
            ("ci", Role::Ci, CI),
            ("dev", Role::Developer, DEV),
        ] {
            store.insert_token(name, role, None, secret).await.unwrap();
        }
        let mut state = AppState::new(store.clone()).unwrap();
        state.scanners = Some(Arc::new(config.clone()));
        let srv = start_working(state).await;
        let target = project.path().display().to_string();

        // Who may, and what is refused.
        let (s, b) = call(
            "POST",
            srv.url("/api/v1/scans/run"),
            Some(DEV),
            Some(json!({"target": target, "artifact": ART})),
        )
        .await;
        assert_eq!(s, 403, "{}: {b}", db.label);
        let (s, b) = call(
            "POST",
            srv.url("/api/v1/scans/run"),
            Some(CI),
            Some(json!({"target": target, "artifact": ART, "scanners": ["nope"]})),
        )
        .await;
        assert_eq!(s, 400, "{}: {b}", db.label);
        assert!(b.to_string().contains("nope"), "{b}");
        let (s, b) = call(
            "POST",
            srv.url("/api/v1/scans/run"),
            Some(CI),
            Some(json!({"target": "/no/such/dir", "kind": "directory", "artifact": ART})),
        )
        .await;
        assert_eq!(s, 400, "{}: {b}", db.label);

        let (s, b) = call(
            "POST",
            srv.url("/api/v1/scans/run"),
            Some(CI),
            Some(json!({"target": target, "artifact": ART, "name": "shop"})),
        )
        .await;
        assert_eq!(s, 202, "{}: {b}", db.label);
        assert_eq!(b["kind"], "directory");
        assert_eq!(b["scanners"], json!(["sarif"]));

        let deadline = Instant::now() + Duration::from_secs(60);
        let findings: Value = loop {
            let (s, b) = call(
                "GET",
                srv.url(&format!("/api/v1/artifacts/{ART}/scan-findings")),
                Some(ADMIN),
                None,
            )
            .await;
            if s == 200 && b.as_array().is_some_and(|a| a.len() == 2) {
                break b;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no findings imported: {s} {b}",
                db.label
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut rules: Vec<&str> = findings
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap())
            .collect();
        rules.sort();
        assert_eq!(rules, ["R1", "R2"], "{}", db.label);
        assert!(
            findings
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["tool"] == "testscan"),
            "{findings}"
        );
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configuration_the_endpoint_says_so() {
    let db = test_support::sqlite().await;
    db.store
        .insert_token("admin", Role::Admin, None, ADMIN)
        .await
        .unwrap();
    let srv = common::start(db.store.clone()).await;
    let (s, b) = call(
        "POST",
        srv.url("/api/v1/scans/run"),
        Some(ADMIN),
        Some(json!({"target": "/tmp", "artifact": ART})),
    )
    .await;
    assert_eq!(s, 409, "{b}");
    assert!(b.to_string().contains("--scanners"), "{b}");
    // The endpoint is in the OpenAPI document.
    let (_, doc) = call("GET", srv.url("/api/openapi.json"), None, None).await;
    let op = &doc["paths"]["/api/v1/scans/run"]["post"];
    assert!(op["responses"]["202"].is_object(), "{op}");
    assert!(
        doc["components"]["schemas"]["RunScanRequest"].is_object(),
        "{}",
        doc["components"]["schemas"]
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_scanner_is_in_the_result_and_the_others_are_imported() {
    let bin = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    std::fs::write(bin.path().join("r.sarif"), SARIF).unwrap();
    let good = script(
        bin.path(),
        "good.sh",
        &format!("cat '{}'", bin.path().join("r.sarif").display()),
    );
    let bad = script(bin.path(), "bad.sh", "echo 'no database' >&2\nexit 2");
    let config = palisade_scanners::Config::parse(
        &format!(
            "[[scanner]]\nname = \"bad\"\ncommand = ['{bad}']\nformat = \"trivy\"\n\n[[scanner]]\nname = \"good\"\ncommand = ['{good}']\nformat = \"sarif\"\n"
        ),
        "scanners.toml",
    )
    .unwrap();
    let db = test_support::sqlite().await;
    let mut state = AppState::new(db.store.clone()).unwrap();
    state.scanners = Some(Arc::new(config));
    let payload = json!({"target": project.path().display().to_string(), "kind": "directory", "artifact": ART});
    let result = palisade_server::scan_job::scan_job(&state, &payload.to_string())
        .await
        .unwrap();
    assert_eq!(result["failed"], 1, "{result}");
    assert_eq!(result["scanners"][0]["scanner"], "bad");
    assert_eq!(result["scanners"][0]["reason"], "failed");
    assert!(
        result["scanners"][0]["error"]
            .as_str()
            .unwrap()
            .contains("no database"),
        "{result}"
    );
    assert_eq!(result["scanners"][1]["status"], "ok");
    let stored = db.store.scan_findings_of(ART).await.unwrap();
    assert_eq!(stored.len(), 2);
    // A second run is idempotent.
    palisade_server::scan_job::scan_job(&state, &payload.to_string())
        .await
        .unwrap();
    assert_eq!(db.store.scan_findings_of(ART).await.unwrap().len(), 2);
}
