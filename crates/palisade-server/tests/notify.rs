//! Notifications end to end, on SQLite and PostgreSQL: targets managed over
//! the API (secrets never returned), an SBOM upload and an advisory import
//! make a `finding.new` event, and the `notify` job delivers it, signed, to
//! a local receiver; a rebuild trigger sends one GitHub
//! `repository_dispatch` per fix; a loopback target without
//! `allow_private` is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{call, call_raw, start_working};
use palisade_notify::test_support::{Received, Receiver};
use palisade_server::AppState;
use palisade_store::test_support;
use palisade_store::tokens::Role;
use serde_json::{Value, json};

const SBOM: &str = include_str!("fixtures/shop-web.cdx.json");
const ADV_LODASH: &str = include_str!("fixtures/advisory-lodash.osv.json");
const WEB: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

const ADMIN: &str = "t-admin-0000000000000";
const SEC: &str = "t-security-0000000000";
const CI: &str = "t-ci-00000000000000000";

/// The requests to `path` whose JSON `kind` is `kind`.
fn of_kind(rx: &Receiver, path: &str, kind: &str) -> Vec<Received> {
    rx.on(path)
        .into_iter()
        .filter(|r| r.json()["kind"] == kind)
        .collect()
}

/// Waits until `path` got a request of `kind` (or 30 s).
async fn wait_kind(rx: &Receiver, path: &str, kind: &str) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = of_kind(rx, path, kind);
        if !got.is_empty() || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `path` got at least `n` requests (or 30 s).
async fn wait_for(rx: &Receiver, path: &str, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = rx.on(path);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finding_new_is_delivered_signed_and_fixes_trigger_one_rebuild() {
    for db in test_support::all().await {
        let store = db.store.clone();
        let state = AppState::new(store.clone()).unwrap();
        palisade_server::sync_environments(&store, &state.engine, &["prod".to_owned()])
            .await
            .unwrap();
        for (name, role, secret) in [
            ("admin", Role::Admin, ADMIN),
            ("sam", Role::Security, SEC),
            ("ci", Role::Ci, CI),
        ] {
            store.insert_token(name, role, None, secret).await.unwrap();
        }
        let srv = start_working(state).await;
        let rx = Receiver::start(Vec::new());

        // Settings: look for events every second.
        let (s, b) = call(
            "PUT",
            srv.url("/api/v1/notify/settings"),
            Some(ADMIN),
            Some(
                json!({"interval_secs": 1, "scan_every_secs": 1, "dedup_window_secs": 3600,
                "expiring_within_days": 7, "allow_cidrs": []}),
            ),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let (s, _) = call(
            "PUT",
            srv.url("/api/v1/notify/settings"),
            Some(ADMIN),
            Some(json!({"allow_cidrs": ["not-a-cidr"]})),
        )
        .await;
        assert_eq!(s, 400);

        // Targets. Only admins manage them.
        let (s, _) = call(
            "POST",
            srv.url("/api/v1/notify/targets"),
            Some(SEC),
            Some(json!({"name": "x", "kind": "webhook", "url": rx.url("/x")})),
        )
        .await;
        assert_eq!(s, 403);
        let (s, hook) = call(
            "POST",
            srv.url("/api/v1/notify/targets"),
            Some(ADMIN),
            Some(
                // By severity: the finding below is critical by CVSS but
                // P3 by priority (no EPSS or KEV data), below the default
                // minimum of P2.
                json!({"name": "security alerts", "kind": "webhook", "url": rx.url("/hook"),
                "allow_private": true,
                "filter": {"kinds": ["finding.new", "decision.deny"], "min_severity": "high",
                    "min_priority": null}}),
            ),
        )
        .await;
        assert_eq!(s, 201, "{hook}");
        let secret = hook["secret"].as_str().unwrap().to_owned();
        assert_eq!(secret.len(), 64, "a generated key, shown once");
        assert_eq!(hook["has_secret"], true);
        let hook_id = hook["id"].as_str().unwrap().to_owned();
        let (s, blocked) = call(
            "POST",
            srv.url("/api/v1/notify/targets"),
            Some(ADMIN),
            Some(
                json!({"name": "not allowed", "kind": "slack", "url": rx.url("/services/blocked"), "filter": {"kinds": ["finding.new"], "min_priority": "P3"}}),
            ),
        )
        .await;
        assert_eq!(s, 201, "{blocked}");
        assert!(blocked.get("secret").is_none(), "slack: no key by default");
        assert_eq!(
            blocked["url"],
            format!("http://{}/…", rx.addr()),
            "origin only"
        );
        let blocked_id = blocked["id"].as_str().unwrap().to_owned();
        let (s, gh) = call(
            "POST",
            srv.url("/api/v1/notify/targets"),
            Some(ADMIN),
            Some(json!({"name": "shop CI", "kind": "github_dispatch",
                "api_base": format!("http://{}", rx.addr()), "owner": "acme", "repo": "shop-web",
                "token": "ghp_e2e_token", "environments": ["prod"], "allow_private": true})),
        )
        .await;
        assert_eq!(s, 201, "{gh}");
        assert_eq!(gh["has_token"], true);
        let gh_id = gh["id"].as_str().unwrap().to_owned();
        // Bad configurations are refused.
        for bad in [
            json!({"name": "a", "kind": "webhook", "url": "ftp://x/"}),
            json!({"name": "b", "kind": "github_dispatch", "owner": "acme", "repo": "r"}),
            json!({"name": "c", "kind": "webhook", "url": rx.url("/"), "filter": {"kinds": ["nope"]}}),
            json!({"name": "d", "kind": "pigeon", "url": rx.url("/")}),
            json!({"name": "e", "kind": "webhook", "url": rx.url("/"), "colour": "red"}),
        ] {
            let (s, b) = call(
                "POST",
                srv.url("/api/v1/notify/targets"),
                Some(ADMIN),
                Some(bad.clone()),
            )
            .await;
            assert_eq!(s, 400, "{bad}: {b}");
        }
        let (s, _) = call(
            "POST",
            srv.url("/api/v1/notify/targets"),
            Some(ADMIN),
            Some(json!({"name": "security alerts", "kind": "webhook", "url": rx.url("/")})),
        )
        .await;
        assert_eq!(s, 409);
        // Secrets never come back.
        let (s, list) = call("GET", srv.url("/api/v1/notify/targets"), Some(ADMIN), None).await;
        assert_eq!(s, 200);
        assert_eq!(list.as_array().unwrap().len(), 3);
        let (_, one) = call(
            "GET",
            srv.url(&format!("/api/v1/notify/targets/{hook_id}")),
            Some(ADMIN),
            None,
        )
        .await;
        for text in [list.to_string(), one.to_string()] {
            assert!(!text.contains(&secret), "{text}");
            assert!(!text.contains("ghp_e2e_token"), "{text}");
        }
        assert!(one.get("secret").is_none());

        // Evidence: a workload runs the artifact; its SBOM; an advisory.
        let (s, b) = call(
            "POST",
            srv.url("/api/v1/deployments"),
            Some(CI),
            Some(
                json!({"team": "shop", "application": "web", "environment": "prod",
                "namespace": "shop", "name": "web", "image": "registry.example/shop/web:1.4.0",
                "digest": WEB}),
            ),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = call_raw(
            "POST",
            srv.url(&format!("/api/v1/sboms?artifact={WEB}")),
            Some(CI),
            Some(SBOM.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        let (s, b) = call_raw(
            "POST",
            srv.url("/api/v1/advisories"),
            Some(SEC),
            Some(ADV_LODASH.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(b["new_findings"], 1, "{b}");

        // The job delivers the new finding, signed.
        let hooks = wait_kind(&rx, "/hook", "finding.new").await;
        assert_eq!(hooks.len(), 1, "one finding.new notification");
        let r = &hooks[0];
        let now = palisade_store::now_ms() / 1000;
        palisade_notify::verify(
            secret.as_bytes(),
            r.header("X-Palisade-Timestamp").unwrap(),
            r.header("X-Palisade-Signature").unwrap(),
            &r.body,
            now,
            300,
        )
        .unwrap();
        let doc = r.json();
        assert_eq!(doc["kind"], "finding.new", "{doc}");
        assert_eq!(doc["data"]["component_name"], "lodash", "{doc}");
        assert_eq!(doc["data"]["fix_version"], "4.17.21");
        assert_eq!(doc["data"]["environments"], json!(["prod"]));
        assert_eq!(doc["data"]["workloads"], json!(["shop/web"]));
        assert_eq!(doc["data"]["advisory"], "PAL-TEST-0001");

        // The fix triggers one repository_dispatch.
        let dispatches = wait_for(&rx, "/repos/acme/shop-web/dispatches", 1).await;
        assert_eq!(dispatches.len(), 1);
        let d = &dispatches[0];
        assert_eq!(d.header("authorization"), Some("Bearer ghp_e2e_token"));
        let body = d.json();
        assert_eq!(body["event_type"], "palisade-rebuild");
        assert_eq!(body["client_payload"]["upgrade"]["component"], "lodash");
        assert_eq!(body["client_payload"]["upgrade"]["from"], "4.17.15");
        assert_eq!(body["client_payload"]["upgrade"]["to"], "4.17.21");
        assert_eq!(body["client_payload"]["workload"]["name"], "shop/web");
        assert_eq!(
            body["client_payload"]["advisories"],
            json!(["PAL-TEST-0001"])
        );

        // The loopback Slack target was refused, never called.
        assert!(rx.on("/services/blocked").is_empty());

        // Running again (and re-importing) sends nothing new.
        let (s, b) = call_raw(
            "POST",
            srv.url("/api/v1/advisories"),
            Some(SEC),
            Some(ADV_LODASH.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let (s, _) = call("POST", srv.url("/api/v1/notify/run"), Some(ADMIN), None).await;
        assert_eq!(s, 202);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(of_kind(&rx, "/hook", "finding.new").len(), 1);
        // Re-decisions may deny the running workload (it has no provenance):
        // at most one notification per place, whatever the number of
        // decisions.
        let denials = of_kind(&rx, "/hook", "decision.deny");
        assert!(denials.len() <= 1, "{}", denials.len());
        for d in denials {
            assert_eq!(d.json()["data"]["workload"], "shop/web");
        }
        assert_eq!(
            rx.on("/repos/acme/shop-web/dispatches").len(),
            1,
            "once per fix"
        );

        // The delivery log.
        let (s, log) = call(
            "GET",
            srv.url(&format!("/api/v1/notify/deliveries?target={hook_id}")),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let log = log.as_array().unwrap();
        assert!(
            log.iter()
                .any(|d| d["outcome"] == "delivered" && d["kind"] == "finding.new"),
            "{log:?}"
        );
        let (_, log) = call(
            "GET",
            srv.url(&format!("/api/v1/notify/deliveries?target={blocked_id}")),
            Some(ADMIN),
            None,
        )
        .await;
        let refused = log
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["outcome"] == "refused")
            .unwrap_or_else(|| panic!("{log}"));
        assert!(
            refused["error"].as_str().unwrap().contains("loopback"),
            "{refused}"
        );
        let (_, log) = call(
            "GET",
            srv.url(&format!("/api/v1/notify/deliveries?target={gh_id}")),
            Some(ADMIN),
            None,
        )
        .await;
        let rebuilds: Vec<&Value> = log
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"] == "rebuild" && d["outcome"] == "delivered")
            .collect();
        assert_eq!(rebuilds.len(), 1, "{log}");
        assert!(!log.to_string().contains("ghp_e2e_token"));

        // A test call; then allowing the blocked target and deleting one.
        let (s, t) = call(
            "POST",
            srv.url(&format!("/api/v1/notify/targets/{hook_id}/test")),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["outcome"], "delivered");
        assert_eq!(rx.on("/hook").last().unwrap().json()["kind"], "test");
        let (s, _) = call(
            "POST",
            srv.url(&format!("/api/v1/notify/targets/{gh_id}/test")),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(s, 400, "no test builds");
        let (s, t) = call(
            "PATCH",
            srv.url(&format!("/api/v1/notify/targets/{blocked_id}")),
            Some(ADMIN),
            Some(json!({"allow_private": true, "enabled": false})),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["config"]["allow_private"], true);
        assert_eq!(t["enabled"], false);
        let (s, _) = call(
            "DELETE",
            srv.url(&format!("/api/v1/notify/targets/{gh_id}")),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(s, 204);
        let (s, _) = call(
            "GET",
            srv.url(&format!("/api/v1/notify/targets/{gh_id}")),
            Some(ADMIN),
            None,
        )
        .await;
        assert_eq!(s, 404);

        srv.stop().await;
        db.finish().await;
    }
}
