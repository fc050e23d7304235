//! The REST API over real HTTP, on SQLite and PostgreSQL.

// Test code: a failed set-up should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{call, start};
use palisade_store::test_support;
use palisade_store::tokens::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_metrics_and_openapi() {
    for db in test_support::all().await {
        let srv = start(db.store.clone()).await;
        assert_eq!(
            call("GET", format!("{}/healthz", srv.base), None, None).await,
            (200, json!("ok"))
        );
        assert_eq!(
            call("GET", format!("{}/readyz", srv.base), None, None).await,
            (200, json!("ready"))
        );
        let (status, doc) = call("GET", format!("{}/api/openapi.json", srv.base), None, None).await;
        assert_eq!(status, 200);
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        for path in [
            "/api/v1/workloads",
            "/api/v1/deployments",
            "/api/v1/teams",
            "/healthz",
        ] {
            assert!(
                doc["paths"].get(path).is_some(),
                "{}: OpenAPI lacks {path}",
                db.label
            );
        }
        let (status, metrics) = call("GET", format!("{}/metrics", srv.base), None, None).await;
        assert_eq!(status, 200);
        assert!(
            metrics
                .as_str()
                .unwrap()
                .contains("palisade_http_requests_total"),
            "{metrics}"
        );
        srv.stop().await;
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_roles_and_team_scoping() {
    for db in test_support::all().await {
        let store = db.store.clone();
        let admin = store
            .insert_token("admin", Role::Admin, None, "pal_test_admin")
            .await
            .unwrap();
        assert_eq!(admin.role, Role::Admin);
        let srv = start(store.clone()).await;
        let b = &srv.base;

        // No token, a bad token: 401 with a stable code.
        let (s, body) = call("GET", format!("{b}/api/v1/workloads"), None, None).await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (401, Some("unauthorized"))
        );
        let (s, _) = call(
            "GET",
            format!("{b}/api/v1/workloads"),
            Some("pal_nope"),
            None,
        )
        .await;
        assert_eq!(s, 401);

        let adm = Some("pal_test_admin");
        let (s, _) = call(
            "PUT",
            format!("{b}/api/v1/environments/prod"),
            adm,
            Some(json!({"name": "prod", "policy_modes": {"slsa": "enforce"}, "production": true})),
        )
        .await;
        assert_eq!(s, 200, "{}", db.label);
        let (s, body) = call(
            "PUT",
            format!("{b}/api/v1/environments/dev"),
            adm,
            Some(json!({"name": "dev", "policy_modes": {"slsa": "sometimes"}})),
        )
        .await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (400, Some("invalid_input"))
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("policy_modes.slsa")
        );

        for (team, name) in [
            ("payments", "api"),
            ("payments", "worker"),
            ("search", "indexer"),
        ] {
            let (s, _) = call("POST", format!("{b}/api/v1/workloads"), adm, Some(json!({
                "team": team, "application": "app", "environment": "prod", "namespace": team, "name": name
            }))).await;
            assert_eq!(s, 201);
        }
        let (s, tok) = call(
            "POST",
            format!("{b}/api/v1/tokens"),
            adm,
            Some(json!({"name": "pay-dev", "role": "developer", "team": "payments"})),
        )
        .await;
        assert_eq!(s, 201);
        let dev = tok["secret"].as_str().unwrap().to_owned();

        // The developer sees only their team's workloads, and cannot reach
        // another team's by id.
        let (_, page) = call("GET", format!("{b}/api/v1/workloads"), Some(&dev), None).await;
        let names: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["api", "worker"], "{}", db.label);
        let (_, all) = call("GET", format!("{b}/api/v1/workloads?limit=2"), adm, None).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        let next = all["next"].as_str().unwrap();
        let (_, rest) = call(
            "GET",
            format!("{b}/api/v1/workloads?limit=2&after={next}"),
            adm,
            None,
        )
        .await;
        let indexer = rest["items"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(rest["items"][0]["name"], "indexer");
        let (s, _) = call(
            "GET",
            format!("{b}/api/v1/workloads/{indexer}"),
            Some(&dev),
            None,
        )
        .await;
        assert_eq!(s, 404, "{}: another team's workload is invisible", db.label);
        let (s, _) = call("GET", format!("{b}/api/v1/workloads/{indexer}"), adm, None).await;
        assert_eq!(s, 200);

        // Developers may not report deployments or create tokens.
        let (s, body) = call("POST", format!("{b}/api/v1/deployments"), Some(&dev), Some(json!({
            "team": "payments", "application": "app", "environment": "prod", "namespace": "payments",
            "name": "api", "image": "shop:1", "digest": format!("sha256:{}", "a".repeat(64))
        }))).await;
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (403, Some("forbidden"))
        );

        // CI reports a deployment; a bad digest is refused with the field named.
        let (_, ci) = call(
            "POST",
            format!("{b}/api/v1/tokens"),
            adm,
            Some(json!({"name": "pay-ci", "role": "ci", "team": "payments"})),
        )
        .await;
        let ci = ci["secret"].as_str().unwrap().to_owned();
        let report = |digest: String, team: &str| {
            json!({
                "team": team, "application": "app", "environment": "prod", "namespace": team,
                "name": "api", "image": "shop:1", "digest": digest
            })
        };
        let (s, body) = call(
            "POST",
            format!("{b}/api/v1/deployments"),
            Some(&ci),
            Some(report("sha256:xyz".into(), "payments")),
        )
        .await;
        assert_eq!(s, 400);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("digest:")
        );
        let (s, _) = call(
            "POST",
            format!("{b}/api/v1/deployments"),
            Some(&ci),
            Some(report(format!("sha256:{}", "b".repeat(64)), "search")),
        )
        .await;
        assert_eq!(
            s, 403,
            "{}: CI of payments cannot write to search",
            db.label
        );
        let (s, d) = call(
            "POST",
            format!("{b}/api/v1/deployments"),
            Some(&ci),
            Some(report(format!("sha256:{}", "b".repeat(64)), "payments")),
        )
        .await;
        assert_eq!(s, 201);
        assert_eq!(d["artifact_digest"], format!("sha256:{}", "b".repeat(64)));

        // Every mutating call is in the audit log.
        let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(n.0 >= 7, "{}: audit rows {}", db.label, n.0);
        srv.stop().await;
        db.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_data_seeds_idempotently_and_is_team_scoped() {
    for db in test_support::all().await {
        palisade_server::demo::seed(&db.store).await.unwrap();
        palisade_server::demo::seed(&db.store).await.unwrap();
        let srv = start(db.store.clone()).await;
        let (_, all) = call(
            "GET",
            format!("{}/api/v1/workloads?limit=500", srv.base),
            Some("pal_demo_admin"),
            None,
        )
        .await;
        assert_eq!(all["items"].as_array().unwrap().len(), 15, "{}", db.label);
        let (_, alice) = call(
            "GET",
            format!("{}/api/v1/workloads?limit=500", srv.base),
            Some("pal_demo_alice"),
            None,
        )
        .await;
        let items = alice["items"].as_array().unwrap();
        assert_eq!(items.len(), 9);
        assert!(items.iter().all(|w| w["team"] == "payments"));
        // The demo's evidence: Log4Shell runs in every environment of checkout.
        let (_, radius) = call(
            "GET",
            format!("{}/api/v1/advisories/CVE-2021-44228/blast-radius", srv.base),
            Some("pal_demo_security"),
            None,
        )
        .await;
        assert_eq!(radius["affected_workloads"], 3, "{radius}");
        assert_eq!(radius["environments"], json!(["dev", "prod", "staging"]));
        let (_, findings) = call(
            "GET",
            format!("{}/api/v1/findings?state=all&limit=500", srv.base),
            Some("pal_demo_security"),
            None,
        )
        .await;
        let findings = findings["items"].as_array().unwrap();
        // log4j, commons-text x2, x/net, requests, lodash, semver (triaged).
        assert_eq!(findings.len(), 7, "{findings:?}");
        assert!(findings.iter().any(|f| f["state"] == "not_affected"));
        let atts = db
            .store
            .attestations_of(
                "sha256:1b6f0c1a9f6a7c1d6d7b9f1d0c7e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b",
            )
            .await
            .unwrap();
        assert_eq!(atts.len(), 1);
        assert!(atts[0].verified);
        srv.stop().await;
        db.finish().await;
    }
}
