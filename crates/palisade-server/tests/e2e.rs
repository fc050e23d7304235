//! End to end over HTTP, on SQLite and PostgreSQL: upload SBOMs, import
//! advisories (re-analysis through the job queue), query findings and the
//! blast radius, triage, exceptions with two-person approval, and
//! admission reviews that allow, warn and deny.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Running, call, call_raw, start_with, start_working};
use palisade_server::AppState;
use palisade_store::test_support;
use palisade_store::tokens::Role;
use serde_json::{Value, json};

const SBOM: &str = include_str!("fixtures/shop-web.cdx.json");
const ADV_LODASH: &str = include_str!("fixtures/advisory-lodash.osv.json");
const ADV_REQUESTS: &str = include_str!("fixtures/advisory-requests.osv.json");
const KEV: &str = include_str!("fixtures/kev.json");
const TRIVY: &str = include_str!("fixtures/trivy.json");
const SARIF: &str = include_str!("fixtures/semgrep.sarif");
const EPSS: &str = include_str!("fixtures/epss.csv");

const WEB: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const WEB_DEV: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const PAY: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

struct Org {
    srv: Running,
}

const ADMIN: &str = "t-admin-0000000000000";
const SEC: &str = "t-security-0000000000";
const SEC2: &str = "t-security-1111111111";
const ALICE: &str = "t-alice-0000000000000";
const BOB: &str = "t-bob-000000000000000";
const CI: &str = "t-ci-00000000000000000";

async fn org(store: palisade_store::Store) -> Org {
    let state = AppState::new(store.clone()).unwrap();
    palisade_server::sync_environments(&store, &state.engine, &["prod".to_owned()])
        .await
        .unwrap();
    let shop = store.ensure_team("shop").await.unwrap();
    let pay = store.ensure_team("payments").await.unwrap();
    for (name, role, team, secret) in [
        ("admin", Role::Admin, None, ADMIN),
        ("sam", Role::Security, None, SEC),
        ("sue", Role::Security, None, SEC2),
        ("alice", Role::Developer, Some(&shop.id), ALICE),
        ("bob", Role::Developer, Some(&pay.id), BOB),
        ("ci", Role::Ci, None, CI),
    ] {
        store
            .insert_token(name, role, team.map(String::as_str), secret)
            .await
            .unwrap();
    }
    let srv = start_working(state).await;
    Org { srv }
}

async fn deploy(o: &Org, team: &str, app: &str, env: &str, name: &str, digest: &str, image: &str) {
    let (s, b) = call(
        "POST",
        o.srv.url("/api/v1/deployments"),
        Some(CI),
        Some(
            json!({"team": team, "application": app, "environment": env, "namespace": team,
            "name": name, "image": image, "digest": digest}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{b}");
}

async fn upload(o: &Org, digest: &str, sbom: &str) -> (u16, Value) {
    call_raw(
        "POST",
        o.srv.url(&format!("/api/v1/sboms?artifact={digest}")),
        Some(CI),
        Some(sbom.as_bytes().to_vec()),
    )
    .await
}

fn review(uid: &str, namespace: &str, kind: &str, object: Value) -> Value {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": uid, "kind": {"group": "", "version": "v1", "kind": kind},
            "namespace": namespace, "operation": "CREATE", "object": object}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sboms_advisories_findings_triage_and_blast_radius() {
    for db in test_support::all().await {
        let o = org(db.store.clone()).await;
        deploy(
            &o,
            "shop",
            "web",
            "prod",
            "web",
            WEB,
            "registry.example/shop/web:1.4.0",
        )
        .await;
        deploy(
            &o,
            "shop",
            "web",
            "dev",
            "web",
            WEB_DEV,
            "registry.example/shop/web:1.5.0-rc1",
        )
        .await;
        deploy(
            &o,
            "payments",
            "api",
            "prod",
            "api",
            PAY,
            "registry.example/pay/api:2.0",
        )
        .await;

        // Upload: the artifact comes from the query; re-uploading is a no-op.
        let (s, b) = upload(&o, WEB, SBOM).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["components"], 4);
        assert_eq!(b["unmatchable_components"], 1, "the component without purl");
        assert_eq!(b["new_findings"], 0, "no advisories yet");
        let (s, b) = upload(&o, WEB, SBOM).await;
        assert_eq!((s, b["duplicate"].as_bool()), (200, Some(true)), "{b}");
        let (s, _) = upload(&o, WEB_DEV, SBOM).await;
        assert_eq!(s, 201);
        // Payments runs requests only.
        let pay_sbom = SBOM
            .replace("pkg:npm/lodash@4.17.15", "pkg:npm/lodash@4.17.21")
            .replace("\"4.17.15\"", "\"4.17.21\"");
        let (s, _) = upload(&o, PAY, &pay_sbom).await;
        assert_eq!(s, 201);

        // Bad input: a clear error, and nothing stored.
        let (s, b) = upload(&o, WEB, "{\"bomFormat\": \"CycloneDX\", \"specVersion\": 7").await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(b["error"]["code"], "invalid_input");
        let (s, b) = upload(&o, "sha256:nothex", SBOM).await;
        assert_eq!(s, 400, "{b}");
        assert_eq!(db.store.sboms_of(WEB).await.unwrap().len(), 1);

        // A new advisory re-analyses what is stored: two lodash findings.
        let (s, b) = call_raw(
            "POST",
            o.srv.url("/api/v1/advisories"),
            Some(SEC),
            Some(ADV_LODASH.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["new"], 1);
        assert_eq!(b["new_findings"], 2, "{b}");
        let (s, b) = call_raw(
            "POST",
            o.srv.url("/api/v1/advisories"),
            Some(SEC),
            Some(ADV_REQUESTS.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["new_findings"], 3, "requests in all three artifacts: {b}");
        // Developers cannot import advisories.
        let (s, _) = call_raw(
            "POST",
            o.srv.url("/api/v1/advisories"),
            Some(ALICE),
            Some(ADV_LODASH.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 403);

        // Findings, most urgent first, by alias, environment, team, package.
        let (s, b) = call("GET", o.srv.url("/api/v1/findings"), Some(SEC), None).await;
        assert_eq!(s, 200);
        let items = b["items"].as_array().unwrap();
        assert_eq!(items.len(), 5);
        assert_eq!(items[0]["severity"], "critical", "{}", items[0]);
        assert_eq!(items[0]["fix_version"], "4.17.21");
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/findings?advisory=CVE-2099-0001"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["items"].as_array().unwrap().len(), 2);
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/findings?environment=prod"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["items"].as_array().unwrap().len(), 3);
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/findings?team=payments"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["items"].as_array().unwrap().len(), 1);
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/findings?package=pkg:pypi/requests"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["items"].as_array().unwrap().len(), 3);
        // Pagination.
        let (_, p1) = call(
            "GET",
            o.srv.url("/api/v1/findings?limit=2"),
            Some(SEC),
            None,
        )
        .await;
        let next = p1["next"].as_str().unwrap().to_owned();
        let (_, p2) = call(
            "GET",
            o.srv.url(&format!("/api/v1/findings?limit=2&after={next}")),
            Some(SEC),
            None,
        )
        .await;
        let (_, p3) = call(
            "GET",
            o.srv.url(&format!(
                "/api/v1/findings?limit=2&after={}",
                p2["next"].as_str().unwrap()
            )),
            Some(SEC),
            None,
        )
        .await;
        let mut ids: Vec<String> = [&p1, &p2, &p3]
            .iter()
            .flat_map(|p| {
                p["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_str().unwrap().to_owned())
            })
            .collect();
        assert_eq!(ids.len(), 5);
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 5, "pages do not overlap");

        // Every finding is prioritised, with its reasons; production and
        // the critical CVSS put lodash in prod first.
        assert!(
            items
                .iter()
                .all(|f| f["priority"].as_str().unwrap().starts_with('P')),
            "{items:?}"
        );
        assert!(!items[0]["factors"].as_array().unwrap().is_empty());
        // New exploitation data re-ranks: requests (KEV-listed) rises.
        let before = items
            .iter()
            .find(|f| f["component_name"] == "requests")
            .unwrap()["priority"]
            .clone();
        let (s, b) = call_raw(
            "POST",
            o.srv.url("/api/v1/feeds/kev"),
            Some(SEC),
            Some(KEV.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["records"].as_u64(), b["reprioritised"].as_bool()),
            (Some(1), Some(true)),
            "{b}"
        );
        let (s, b) = call_raw(
            "POST",
            o.srv.url("/api/v1/feeds/epss"),
            Some(SEC),
            Some(EPSS.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["records"], 2);
        let (s, b) = call_raw(
            "POST",
            o.srv.url("/api/v1/feeds/kev"),
            Some(SEC),
            Some(b"{\"vulnerabilities\": 3}".to_vec()),
        )
        .await;
        assert_eq!(s, 400, "{b}");
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/findings?package=pkg:pypi/requests"),
            Some(SEC),
            None,
        )
        .await;
        let req = &b["items"][0];
        assert!(
            req["priority"].as_str().unwrap() <= "P2",
            "KEV is never below P2: {req}"
        );
        assert!(
            req["priority"].as_str().unwrap() < before.as_str().unwrap(),
            "{before} -> {req}"
        );
        assert!(
            req["factors"].to_string().contains("KEV"),
            "{}",
            req["factors"]
        );
        let (_, b) = call("GET", o.srv.url("/api/v1/findings"), Some(SEC), None).await;
        let items: Vec<Value> = b["items"].as_array().unwrap().clone();
        let ranks: Vec<i64> = items.iter().map(|f| f["rank"].as_i64().unwrap()).collect();
        assert!(
            ranks.windows(2).all(|w| w[0] >= w[1]),
            "most urgent first: {ranks:?}"
        );

        // Another scanner's results merge with Palisade's: one lodash
        // finding with two sources, one new minimist finding, one code finding.
        let (s, b) = call_raw(
            "POST",
            o.srv.url(&format!("/api/v1/scans?artifact={WEB}")),
            Some(CI),
            Some(TRIVY.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            (b["confirmed_findings"].as_u64(), b["new_findings"].as_u64()),
            (Some(1), Some(1)),
            "{b}"
        );
        let (_, b) = call(
            "GET",
            o.srv.url(&format!(
                "/api/v1/findings?artifact={WEB}&advisory=CVE-2099-0001"
            )),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(
            b["items"][0]["sources"],
            json!(["palisade", "trivy"]),
            "{b}"
        );
        let (s, b) = call_raw(
            "POST",
            o.srv.url(&format!("/api/v1/scans?artifact={WEB}")),
            Some(CI),
            Some(SARIF.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["new_scan_findings"], 1, "{b}");
        let (s, b) = call_raw(
            "POST",
            o.srv.url(&format!("/api/v1/scans?artifact={WEB}")),
            Some(CI),
            Some(SARIF.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(
            (
                s,
                b["new_scan_findings"].as_u64(),
                b["seen_scan_findings"].as_u64()
            ),
            (200, Some(0), Some(1)),
            "re-upload: {b}"
        );
        let (_, code) = call(
            "GET",
            o.srv.url(&format!("/api/v1/artifacts/{WEB}/scan-findings")),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(
            code[0]["location_text"]
                .as_str()
                .map(|t| t.contains("src/routes/search.js")),
            Some(true),
            "{code}"
        );
        // Trivy's next scan no longer reports either: minimist (trivy only)
        // resolves, lodash stays (Palisade still reports it).
        let empty = TRIVY.replace("\"Vulnerabilities\"", "\"VulnerabilitiesGone\"");
        let (s, b) = call_raw(
            "POST",
            o.srv.url(&format!("/api/v1/scans?artifact={WEB}")),
            Some(CI),
            Some(empty.into_bytes()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["resolved_findings"], 1, "{b}");
        let (_, b) = call(
            "GET",
            o.srv.url(&format!(
                "/api/v1/findings?artifact={WEB}&advisory=CVE-2099-0001"
            )),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["items"][0]["sources"], json!(["palisade"]), "{b}");
        let (s, b) = call_raw(
            "POST",
            o.srv.url(&format!("/api/v1/scans?artifact={WEB}")),
            Some(CI),
            Some(b"{\"runs\": 5}".to_vec()),
        )
        .await;
        assert_eq!(s, 400, "{b}");

        // Team isolation: alice (shop) sees shop's findings only.
        let (_, b) = call("GET", o.srv.url("/api/v1/findings"), Some(ALICE), None).await;
        assert_eq!(b["items"].as_array().unwrap().len(), 4);
        let (_, b) = call("GET", o.srv.url("/api/v1/findings"), Some(BOB), None).await;
        let bob_items = b["items"].as_array().unwrap().clone();
        assert_eq!(bob_items.len(), 1);
        let (s, _) = call(
            "GET",
            o.srv.url(&format!(
                "/api/v1/findings/{}",
                items[0]["id"].as_str().unwrap()
            )),
            Some(BOB),
            None,
        )
        .await;
        assert_eq!(s, 404, "bob cannot read shop's finding");

        // Blast radius by alias: the shop web workload in prod and dev.
        let (s, b) = call(
            "GET",
            o.srv.url("/api/v1/advisories/CVE-2099-0001/blast-radius"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["affected_workloads"], 2, "{b}");
        assert_eq!(b["environments"], json!(["dev", "prod"]));
        assert_eq!(b["entries"][0]["environment"], "prod", "production first");
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/advisories/CVE-2099-0001/blast-radius"),
            Some(BOB),
            None,
        )
        .await;
        assert_eq!(
            b["affected_workloads"], 0,
            "payments does not run lodash 4.17.15"
        );
        let (s, b) = call(
            "GET",
            o.srv.url("/api/v1/advisories/CVE-2099-0001"),
            Some(BOB),
            None,
        )
        .await;
        assert_eq!(
            (s, b["records"][0]["id"].as_str()),
            (200, Some("PAL-TEST-0001"))
        );

        // Triage with a VEX justification; the history records it.
        let fid = items[0]["id"].as_str().unwrap().to_owned();
        let url = o.srv.url(&format!("/api/v1/findings/{fid}/triage"));
        let (s, b) = call(
            "POST",
            url.clone(),
            Some(ALICE),
            Some(json!({"state": "not_affected"})),
        )
        .await;
        assert_eq!(s, 400, "not_affected needs a justification: {b}");
        let (s, b) = call(
            "POST",
            url.clone(),
            Some(ALICE),
            Some(json!({"state": "wontfix"})),
        )
        .await;
        assert_eq!(s, 400, "{b}");
        let (s, b) = call(
            "POST",
            url.clone(),
            Some(BOB),
            Some(json!({"state": "in_triage"})),
        )
        .await;
        assert_eq!(s, 404, "{b}");
        let (s, b) = call("POST", url, Some(ALICE), Some(json!({"state": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path", "comment": "we never call merge()"}))).await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["state"], "not_affected");
        let history = b["history"].as_array().unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0]["kind"], "detected");
        assert_eq!(history[1]["kind"], "triaged");
        assert_eq!(history[1]["actor"], "token:alice");
        assert_eq!(history[1]["comment"], "we never call merge()");
        // A suppressed finding leaves the default (actionable) list and the blast radius count.
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/advisories/CVE-2099-0001/blast-radius"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["affected_workloads"], 1, "{b}");

        // The advisory is withdrawn: findings resolve, with the reason.
        let mut withdrawn: Value = serde_json::from_str(ADV_LODASH).unwrap();
        withdrawn["modified"] = json!("2026-11-20T00:00:00Z");
        withdrawn["withdrawn"] = json!("2026-11-20T00:00:00Z");
        let (s, b) = call(
            "POST",
            o.srv.url("/api/v1/advisories"),
            Some(SEC),
            Some(withdrawn),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["updated"], 1);
        assert_eq!(b["resolved_findings"], 2, "{b}");
        let (_, b) = call(
            "GET",
            o.srv.url(&format!("/api/v1/findings/{fid}")),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["state"], "resolved", "{b}");
        assert_eq!(
            b["history"].as_array().unwrap().last().unwrap()["kind"],
            "resolved"
        );
        let (_, b) = call(
            "GET",
            o.srv.url("/api/v1/advisories/CVE-2099-0001/blast-radius"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(b["affected_workloads"], 0);
        // Events for notifications were recorded.
        let events = db.store.events_after(None, 1000).await.unwrap();
        assert!(events.iter().filter(|e| e.2 == "finding.new").count() >= 5);
        assert!(events.iter().filter(|e| e.2 == "finding.resolved").count() >= 2);

        o.srv.stop().await;
        db.finish().await;
    }
}

/// Re-analysis after an advisory changes decides again exactly the findings
/// sharing an id with it, closed under aliasing: a twin record (another id
/// naming the same CVE) joins the stored finding instead of duplicating it;
/// narrowing one twin keeps the finding while the other still matches; a
/// finding is resolved only when no twin matches any more; and a finding of
/// an unrelated advisory on the same package is left alone throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisory_twins_reanalyse_together() {
    for db in test_support::all().await {
        let o = org(db.store.clone()).await;
        let (s, b) = upload(&o, WEB, SBOM).await;
        assert_eq!(s, 201, "{b}");
        let import = |doc: Value| {
            let url = o.srv.url("/api/v1/advisories");
            async move {
                let (s, b) = call("POST", url, Some(SEC), Some(doc)).await;
                assert_eq!(s, 200, "{b}");
                (
                    b["new_findings"].as_u64().unwrap(),
                    b["changed_findings"].as_u64().unwrap(),
                    b["resolved_findings"].as_u64().unwrap(),
                )
            }
        };
        let findings = |advisory: &str| {
            let url = o.srv.url(&format!(
                "/api/v1/findings?artifact={WEB}&advisory={advisory}&state=all"
            ));
            async move {
                let (s, b) = call("GET", url, Some(SEC), None).await;
                assert_eq!(s, 200, "{b}");
                b["items"].as_array().unwrap().clone()
            }
        };
        let lodash: Value = serde_json::from_str(ADV_LODASH).unwrap();
        let mut other = json!({"id": "PAL-TEST-0099", "modified": "2026-11-01T00:00:00Z",
            "summary": "another lodash advisory",
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]});
        assert_eq!(import(other.clone()).await, (1, 0, 0));
        assert_eq!(import(lodash.clone()).await, (1, 0, 0));

        // The twin names the same CVE: the finding learns its id.
        let mut twin = lodash.clone();
        twin["id"] = json!("GHSA-test-twin-0001");
        assert_eq!(import(twin.clone()).await, (0, 1, 0));
        let f = findings("GHSA-test-twin-0001").await;
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0]["advisory_id"], "PAL-TEST-0001");
        assert_eq!(findings("CVE-2099-0001").await.len(), 1);

        // One twin narrows its range: the other still matches.
        let mut narrowed = lodash.clone();
        narrowed["modified"] = json!("2026-11-10T00:00:00Z");
        narrowed["affected"][0]["ranges"][0]["events"][1]["fixed"] = json!("4.17.10");
        let (new, _, resolved) = import(narrowed).await;
        assert_eq!((new, resolved), (0, 0));
        let f = findings("CVE-2099-0001").await;
        assert_eq!(
            (f.len(), f[0]["state"].as_str()),
            (1, Some("open")),
            "{f:?}"
        );

        // The other twin is withdrawn: now nothing matches.
        twin["modified"] = json!("2026-11-11T00:00:00Z");
        twin["withdrawn"] = json!("2026-11-11T00:00:00Z");
        assert_eq!(import(twin).await, (0, 0, 1));
        let f = findings("CVE-2099-0001").await;
        assert_eq!(f[0]["state"], "resolved", "{f:?}");
        // The unrelated advisory's finding never moved.
        let f = findings("PAL-TEST-0099").await;
        assert_eq!(
            (f.len(), f[0]["state"].as_str()),
            (1, Some("open")),
            "{f:?}"
        );
        // Re-importing it unchanged re-analyses nothing.
        other["summary"] = json!("another lodash advisory");
        let (s, b) = call(
            "POST",
            o.srv.url("/api/v1/advisories"),
            Some(SEC),
            Some(other),
        )
        .await;
        assert_eq!((s, b["unchanged"].as_u64()), (200, Some(1)), "{b}");
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions_need_a_second_person_and_admission_decides_from_the_store() {
    for db in test_support::all().await {
        let o = org(db.store.clone()).await;
        deploy(
            &o,
            "shop",
            "web",
            "prod",
            "web",
            WEB,
            "registry.example/shop/web:1.4.0",
        )
        .await;
        let (s, _) = upload(&o, WEB, SBOM).await;
        assert_eq!(s, 201);
        let (s, _) = call_raw(
            "POST",
            o.srv.url("/api/v1/advisories"),
            Some(SEC),
            Some(ADV_LODASH.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200);
        let (s, _) = call(
            "PUT",
            o.srv.url("/api/v1/namespaces/shop"),
            Some(ADMIN),
            Some(json!({"environment": "prod", "team": "shop", "application": "web"})),
        )
        .await;
        assert_eq!(s, 204);
        let (s, _) = call(
            "PUT",
            o.srv.url("/api/v1/namespaces/shop-dev"),
            Some(ADMIN),
            Some(json!({"environment": "dev", "team": "shop", "application": "web"})),
        )
        .await;
        assert_eq!(s, 204);

        let pod = |image: &str| {
            json!({"metadata": {"name": "web", "namespace": "shop"},
            "spec": {"containers": [{"name": "app", "image": image}]}})
        };
        let pinned = format!("registry.example/shop/web@{WEB}");
        // Prod: a critical vulnerability (and no provenance) denies.
        let (s, b) = call(
            "POST",
            o.srv.url("/k8s/admission"),
            None,
            Some(review("u1", "shop", "Pod", pod(&pinned))),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(b["response"]["uid"], "u1");
        assert_eq!(b["response"]["allowed"], false, "{b}");
        let msg = b["response"]["status"]["message"].as_str().unwrap();
        assert!(
            msg.contains("PAL-TEST-0001") || msg.contains("CVE-2099-0001"),
            "{msg}"
        );
        assert_eq!(b["response"]["status"]["code"], 403);
        // Dev: the same image warns.
        let (_, b) = call("POST", o.srv.url("/k8s/admission"), None,
            Some(review("u2", "shop-dev", "Deployment", json!({"metadata": {"name": "web"},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": pinned}]}}}})))).await;
        assert_eq!(b["response"]["allowed"], true, "{b}");
        assert!(
            !b["response"]["warnings"].as_array().unwrap().is_empty(),
            "{b}"
        );
        // An unknown, unpinned image in prod is denied with the reason.
        let (_, b) = call(
            "POST",
            o.srv.url("/k8s/admission"),
            None,
            Some(review(
                "u3",
                "shop",
                "Pod",
                pod("registry.example/unknown:latest"),
            )),
        )
        .await;
        assert_eq!(b["response"]["allowed"], false);
        assert!(
            b["response"]["status"]["message"]
                .as_str()
                .unwrap()
                .contains("not pinned by digest"),
            "{b}"
        );
        // An unmapped namespace with no default environment is refused.
        let (_, b) = call(
            "POST",
            o.srv.url("/k8s/admission"),
            None,
            Some(review("u4", "elsewhere", "Pod", pod(&pinned))),
        )
        .await;
        assert_eq!(b["response"]["allowed"], false);
        // Malformed reviews are a clear 400.
        let (s, b) = call(
            "POST",
            o.srv.url("/k8s/admission"),
            None,
            Some(json!({"request": {"uid": 5}})),
        )
        .await;
        assert_eq!(s, 400, "{b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("request.uid"),
            "{b}"
        );

        // Exceptions: requested by alice, she cannot approve it (role), sam
        // requests one and cannot approve his own, sue can.
        let expires = time::OffsetDateTime::now_utc() + time::Duration::days(7);
        let expires = expires
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let (s, b) = call("POST", o.srv.url("/api/v1/exceptions"), Some(ALICE),
            Some(json!({"vulnerability": "CVE-2099-0001", "workload": "shop/web", "reason": "fix ships next sprint", "expires_at": expires}))).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(b["status"], "pending");
        let alice_exc = b["id"].as_str().unwrap().to_owned();
        let (s, _) = call(
            "POST",
            o.srv
                .url(&format!("/api/v1/exceptions/{alice_exc}/approve")),
            Some(ALICE),
            None,
        )
        .await;
        assert_eq!(s, 403);
        let (s, b) = call("POST", o.srv.url("/api/v1/exceptions"), Some(SEC),
            Some(json!({"policy": "palisade.slsa_provenance", "artifact": WEB, "reason": "provenance pipeline not live yet", "expires_at": expires, "team": "shop"}))).await;
        assert_eq!(s, 201, "{b}");
        let sam_exc = b["id"].as_str().unwrap().to_owned();
        let (s, b) = call(
            "POST",
            o.srv.url(&format!("/api/v1/exceptions/{sam_exc}/approve")),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(s, 403, "self-approval: {b}");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains("second person")
        );
        let (s, b) = call(
            "GET",
            o.srv.url(&format!("/api/v1/exceptions/{sam_exc}")),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert!(
            b["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "approval_refused"),
            "{b}"
        );
        for id in [&alice_exc, &sam_exc] {
            let (s, b) = call(
                "POST",
                o.srv.url(&format!("/api/v1/exceptions/{id}/approve")),
                Some(SEC2),
                None,
            )
            .await;
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["status"], "active");
        }
        // Bob (payments) sees none of shop's exceptions.
        let (_, b) = call("GET", o.srv.url("/api/v1/exceptions"), Some(BOB), None).await;
        assert_eq!(b.as_array().unwrap().len(), 0);

        // The CI gate sees the same truth as the webhook: the waived
        // violations no longer deny.
        let (s, gate) = call(
            "POST",
            o.srv.url("/api/v1/decisions"),
            Some(CI),
            Some(json!({"environment": "prod", "image": pinned, "workload": "shop/web"})),
        )
        .await;
        assert_eq!(s, 200, "{gate}");
        let waived = gate["decision"]["waived"].as_array().unwrap();
        assert!(!waived.is_empty(), "{gate}");
        let (_, adm) = call(
            "POST",
            o.srv.url("/k8s/admission"),
            None,
            Some(review("u5", "shop", "Pod", pod(&pinned))),
        )
        .await;
        assert_eq!(
            adm["response"]["allowed"].as_bool().unwrap(),
            gate["outcome"] != "deny",
            "gate {gate} vs admission {adm}"
        );

        // Every decision is recorded with its digests and reasons.
        let (_, log) = call(
            "GET",
            o.srv.url("/api/v1/decisions?environment=prod&limit=100"),
            Some(SEC),
            None,
        )
        .await;
        let items = log["items"].as_array().unwrap();
        assert!(items.len() >= 4, "{log}");
        for d in items {
            assert!(
                d["bundle_digest"].as_str().unwrap().starts_with("sha256:"),
                "{d}"
            );
        }
        assert!(items.iter().any(|d| d["source"] == "gate"));
        assert!(items.iter().any(|d| d["outcome"] == "deny"
            && d["input_digest"].as_str().unwrap().starts_with("sha256:")));
        let (_, found) = call(
            "GET",
            o.srv.url("/api/v1/decisions?q=pinned"),
            Some(SEC),
            None,
        )
        .await;
        assert!(
            !found["items"].as_array().unwrap().is_empty(),
            "search by reason text"
        );

        // Admitted pods are registered as deployments of the mapped application.
        let (_, dev_w) = call(
            "GET",
            o.srv.url("/api/v1/workloads?environment=dev"),
            Some(SEC),
            None,
        )
        .await;
        assert_eq!(dev_w["items"].as_array().unwrap().len(), 1, "{dev_w}");

        o.srv.stop().await;
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_webhook_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-days",
            "1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    let curl = std::process::Command::new("curl").arg("--version").output();
    if !matches!(&made, Ok(o) if o.status.success()) || curl.is_err() {
        eprintln!("SKIPPED: TLS test needs the openssl and curl commands");
        return;
    }
    let db = test_support::sqlite().await;
    let state = AppState::new(db.store.clone()).unwrap();
    let listener = palisade_server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = palisade_server::tls_config(&cert, &key).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(palisade_server::serve_tls(
        listener,
        Some(tls),
        state,
        palisade_server::Router::new(),
        async {
            let _ = rx.await;
        },
        Duration::from_secs(5),
        None,
    ));
    let body = review(
        "tls-1",
        "default",
        "Pod",
        json!({"spec": {"containers": [{"name": "a", "image": "x:1"}]}}),
    )
    .to_string();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(&cert)
            .args([
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                &body,
            ])
            .arg(format!(
                "https://127.0.0.1:{port}/k8s/admission?environment=prod"
            ))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resp: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(resp["response"]["uid"], "tls-1");
    assert_eq!(
        resp["response"]["allowed"], false,
        "an unknown tag in prod: {resp}"
    );
    let _ = tx.send(());
    server.await.unwrap().unwrap();
    db.finish().await;
}

/// Serves one file at any path, with an ETag, answering conditional
/// requests with 304.
fn serve_export(body: Vec<u8>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut conditional = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if line.to_ascii_lowercase().starts_with("if-none-match:") {
                    conditional = true;
                }
            }
            let head = if conditional {
                "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
            } else {
                format!(
                    "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Type: application/zip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
            };
            let _ = stream.write_all(head.as_bytes());
            if !conditional {
                let _ = stream.write_all(&body);
            }
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_sync_downloads_exports_and_reanalyses() {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        w.start_file(
            "PAL-TEST-0001.json",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        w.write_all(ADV_LODASH.as_bytes()).unwrap();
        w.finish().unwrap();
    }
    let url = serve_export(buf.into_inner());
    for db in test_support::all().await {
        let dir = tempfile::tempdir().unwrap();
        let mut state = AppState::new(db.store.clone()).unwrap();
        state.sync = Some(std::sync::Arc::new(palisade_server::worker::SyncConfig {
            base_url: url.clone(),
            ecosystems: vec!["npm".to_owned()],
            dir: dir.path().to_owned(),
            every: Duration::from_secs(3600),
        }));
        palisade_server::sync_environments(&db.store, &state.engine, &["prod".to_owned()])
            .await
            .unwrap();
        db.store
            .insert_token("ci", Role::Ci, None, CI)
            .await
            .unwrap();
        let srv = start_with(state.clone(), None).await;
        let (s, _) = call(
            "POST",
            srv.url("/api/v1/deployments"),
            Some(CI),
            Some(json!({"team": "shop", "application": "web", "environment": "prod", "namespace": "shop",
                "name": "web", "image": "registry.example/shop/web:1.4.0", "digest": WEB})),
        )
        .await;
        assert_eq!(s, 201);
        let (s, _) = call_raw(
            "POST",
            srv.url(&format!("/api/v1/sboms?artifact={WEB}")),
            Some(CI),
            Some(SBOM.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 201);
        // The scheduler queues the sync; run the queue as a worker would.
        db.store
            .enqueue("advisory-sync", "{}", None, 0)
            .await
            .unwrap();
        palisade_server::worker::drain(&state, "test", 10_000)
            .await
            .unwrap();
        let results =
            sqlx::query("SELECT kind, result FROM jobs WHERE state = 'done' ORDER BY created_at")
                .fetch_all(db.store.pool())
                .await
                .unwrap();
        use sqlx::Row;
        let sync: Value = serde_json::from_str(&results[0].get::<String, _>("result")).unwrap();
        assert_eq!(sync["downloaded"], json!(["npm"]), "{sync}");
        assert_eq!(sync["new"], 1);
        let found = db
            .store
            .blast_radius(&palisade_store::model::Scope::All, "CVE-2099-0001")
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "the re-analysis job ran after the sync");
        // The second sync is a conditional request: nothing re-imported.
        db.store
            .enqueue("advisory-sync", "{}", None, 0)
            .await
            .unwrap();
        palisade_server::worker::drain(&state, "test", 10_000)
            .await
            .unwrap();
        let last = sqlx::query("SELECT result FROM jobs WHERE kind = 'advisory-sync' AND state = 'done' ORDER BY finished_at DESC LIMIT 1")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        let sync: Value = serde_json::from_str(&last.get::<String, _>("result")).unwrap();
        assert_eq!(sync["not_modified"], json!(["npm"]), "{sync}");
        srv.stop().await;
        db.finish().await;
    }
}
