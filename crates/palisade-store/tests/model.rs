//! The portfolio model on SQLite and PostgreSQL.

// Test code: a failed set-up should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_store::model::{Scope, WorkloadSpec};
use palisade_store::test_support;
use palisade_store::tokens::Role;

fn spec(team: &str, env: &str, name: &str) -> WorkloadSpec {
    WorkloadSpec {
        team: team.into(),
        application: "shop".into(),
        environment: env.into(),
        namespace: "default".into(),
        name: name.into(),
        kind: "Deployment".into(),
        internet_facing: true,
    }
}

#[tokio::test]
async fn workloads_are_scoped_to_their_team_and_paginate() {
    for db in test_support::all().await {
        let s = &db.store;
        s.put_environment("prod", None, &serde_json::json!({"slsa": "enforce"}), true)
            .await
            .unwrap();
        let a = s
            .ensure_workload(&spec("payments", "prod", "api"))
            .await
            .unwrap();
        let again = s
            .ensure_workload(&spec("payments", "prod", "api"))
            .await
            .unwrap();
        assert_eq!(a, again, "{}: idempotent", db.label);
        for i in 0..5 {
            s.ensure_workload(&spec("search", "prod", &format!("w{i}")))
                .await
                .unwrap();
        }
        // The same namespace/name in the same environment cannot move teams.
        assert!(
            s.ensure_workload(&spec("search", "prod", "api"))
                .await
                .is_err()
        );

        let payments = Scope::Team(a.team_id.clone());
        let seen = s.list_workloads(&payments, None, None, 50).await.unwrap();
        assert_eq!(seen.items.len(), 1, "{}", db.label);
        assert!(
            s.workload(&payments, &a.workload.id)
                .await
                .unwrap()
                .is_some()
        );
        let search_team = s.team_by_name("search").await.unwrap().unwrap();
        let other = Scope::Team(search_team.id);
        assert!(
            s.workload(&other, &a.workload.id).await.unwrap().is_none(),
            "{}: invisible to other teams",
            db.label
        );

        let first = s
            .list_workloads(&Scope::All, Some("prod"), None, 4)
            .await
            .unwrap();
        assert_eq!(first.items.len(), 4);
        let second = s
            .list_workloads(&Scope::All, Some("prod"), first.next.as_deref(), 4)
            .await
            .unwrap();
        assert_eq!(second.items.len(), 2);
        assert!(second.next.is_none());
        db.finish().await;
    }
}

#[tokio::test]
async fn deployments_end_when_the_artifact_changes() {
    for db in test_support::all().await {
        let s = &db.store;
        s.put_environment("dev", None, &serde_json::json!({}), false)
            .await
            .unwrap();
        let w = s
            .ensure_workload(&spec("payments", "dev", "api"))
            .await
            .unwrap();
        let id = &w.workload.id;
        let d1 = s
            .record_deployment(id, "app", "sha256:aa", "shop:1", 1000)
            .await
            .unwrap();
        let same = s
            .record_deployment(id, "app", "sha256:aa", "shop:1", 1500)
            .await
            .unwrap();
        assert_eq!(d1, same, "{}: re-reporting changes nothing", db.label);
        let d2 = s
            .record_deployment(id, "app", "sha256:bb", "shop:2", 2000)
            .await
            .unwrap();
        let history = s.deployments_of(id).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].id, d2.id);
        assert_eq!(history[1].ended_at, Some(2000));
        assert_eq!(history[0].ended_at, None);
        db.finish().await;
    }
}

#[tokio::test]
async fn tokens_are_hashed_and_revocable() {
    for db in test_support::all().await {
        let s = &db.store;
        let team = s.ensure_team("payments").await.unwrap();
        let (p, secret) = s
            .create_token("ci-bot", Role::Ci, Some(&team.id))
            .await
            .unwrap();
        assert!(secret.starts_with("pal_"));
        let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_tokens")
            .fetch_all(s.pool())
            .await
            .unwrap();
        assert!(
            stored.iter().all(|(h,)| h != &secret),
            "{}: the secret is not stored",
            db.label
        );
        assert_eq!(s.authenticate(&secret).await.unwrap(), Some(p.clone()));
        assert_eq!(s.authenticate("pal_wrong").await.unwrap(), None);
        assert!(s.revoke_token(&p.token_id).await.unwrap());
        assert_eq!(s.authenticate(&secret).await.unwrap(), None);
        db.finish().await;
    }
}

/// A component `pkg:npm/{name}@1.0.0` and a finding of `advisory` on it
/// (high, no score, no fix), for tests to adjust.
fn component_with_finding(
    name: &str,
    advisory: String,
) -> (
    palisade_store::findings::ComponentRow,
    palisade_store::findings::NewFinding,
) {
    let key = format!("pkg:npm/{name}@1.0.0");
    let component = palisade_store::findings::ComponentRow {
        component_key: key.clone(),
        bom_ref: name.to_owned(),
        name: name.to_owned(),
        version: Some("1.0.0".into()),
        purl: Some(key.clone()),
        package_key: Some(format!("npm/{name}")),
        release: None,
        match_version: Some("1.0.0".into()),
        license: None,
    };
    let finding = palisade_store::findings::NewFinding {
        component_key: key.clone(),
        component_name: name.to_owned(),
        component_version: Some("1.0.0".into()),
        purl: Some(key),
        package_key: Some(format!("npm/{name}")),
        advisory_id: advisory,
        aliases: Vec::new(),
        summary: "test".into(),
        severity: "high".into(),
        score: None,
        fix_version: None,
        fixed_versions: Vec::new(),
        sources: vec!["palisade".into()],
        rank: 0,
        vector: None,
    };
    (component, finding)
}

/// Stores an SBOM of `artifact` (document `document`) with these components
/// and findings, and returns the artifact's stored findings.
async fn ingest_and_list(
    db: &test_support::TestDb,
    artifact: &str,
    document: usize,
    components: Vec<palisade_store::findings::ComponentRow>,
    findings: Vec<palisade_store::findings::NewFinding>,
) -> Vec<palisade_store::findings::Finding> {
    db.store
        .ingest_sbom(&palisade_store::findings::SbomIngest {
            artifact_digest: artifact.to_owned(),
            artifact_name: "registry.example/test".into(),
            team_id: None,
            document_digest: format!("sha256:{document:064x}"),
            source_format: "CycloneDX 1.6".into(),
            inventory: "{}".into(),
            components,
            findings,
            actor: "test".into(),
        })
        .await
        .unwrap_or_else(|e| panic!("[{}] {e}", db.label));
    db.store
        .list_findings(
            &Scope::All,
            &palisade_store::findings::FindingFilter {
                artifact: Some(artifact.to_owned()),
                ..Default::default()
            },
            None,
            100,
        )
        .await
        .unwrap_or_else(|e| panic!("[{}] {e}", db.label))
        .items
}

/// Findings with and without a score, in one transaction (one connection):
/// sqlx's `Any` driver declares a missing float as `real`, and PostgreSQL
/// then refused the next `f64` on that prepared statement.
#[tokio::test]
async fn findings_with_and_without_a_score_are_stored_on_one_connection() {
    for db in test_support::all().await {
        let mut components = Vec::new();
        let mut findings = Vec::new();
        for (i, score) in [None, Some(9.8), None, Some(5.3), Some(0.1)]
            .into_iter()
            .enumerate()
        {
            let (component, mut finding) =
                component_with_finding(&format!("p{i}"), format!("PAL-SCORE-{i}"));
            finding.score = score;
            components.push(component);
            findings.push(finding);
        }
        let digest = format!("sha256:{:064x}", 7);
        let mut stored: Vec<Option<f64>> = Vec::new();
        for attempt in 0..2 {
            // The second upload (another document of the same artifact)
            // changes the scores, so the findings go through the UPDATE.
            if attempt == 1 {
                let scores: Vec<Option<f64>> = findings.iter().rev().map(|f| f.score).collect();
                for (f, score) in findings.iter_mut().zip(scores) {
                    f.score = score;
                }
            }
            stored = ingest_and_list(&db, &digest, attempt, components.clone(), findings.clone())
                .await
                .into_iter()
                .map(|f| f.score)
                .collect();
        }
        stored.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(
            stored,
            vec![None, None, Some(0.1), Some(5.3), Some(9.8)],
            "[{}]",
            db.label
        );
        db.finish().await;
    }
}

/// Text, integers and floats come back exactly as written, whatever the
/// batched insert carries them in (on PostgreSQL one JSON parameter per
/// statement): quotes, backslashes, control characters, non-ASCII text,
/// the extreme integers and a float without a short decimal form.
#[tokio::test]
async fn batched_finding_rows_keep_every_value_exactly() {
    let texts = [
        "plain",
        "quote \" and backslash \\ and slash /",
        "line\nbreak\ttab\r\u{1}\u{1f}",
        "unicode é ü 漢字 🙂 \u{2028}\u{2029}",
        "",
        "{\"json\": [1, 2]}",
    ];
    for db in test_support::all().await {
        let mut components = Vec::new();
        let mut findings = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let (component, mut finding) =
                component_with_finding(&format!("t{i}"), format!("PAL-TEXT-{i}"));
            finding.aliases = vec![format!("ALIAS-{i} {text}")];
            finding.summary = (*text).to_owned();
            finding.score = Some(0.1 + 0.2 + i as f64);
            finding.fix_version = Some((*text).to_owned());
            finding.fixed_versions = vec![(*text).to_owned()];
            finding.rank = if i % 2 == 0 {
                i64::MAX - i as i64
            } else {
                i64::MIN + i as i64
            };
            components.push(component);
            findings.push(finding);
        }
        let digest = format!("sha256:{:064x}", 8);
        let stored = ingest_and_list(&db, &digest, 9, components, findings.clone()).await;
        assert_eq!(stored.len(), findings.len(), "[{}]", db.label);
        for nf in &findings {
            let f = stored
                .iter()
                .find(|f| f.advisory_id == nf.advisory_id)
                .unwrap_or_else(|| panic!("[{}] {} not stored", db.label, nf.advisory_id));
            assert_eq!(f.summary, nf.summary, "[{}]", db.label);
            assert_eq!(f.aliases, nf.aliases, "[{}]", db.label);
            assert_eq!(f.fix_version, nf.fix_version, "[{}]", db.label);
            assert_eq!(f.fixed_versions, nf.fixed_versions, "[{}]", db.label);
            assert_eq!(f.score, nf.score, "[{}]", db.label);
            assert_eq!(f.rank, nf.rank, "[{}]", db.label);
        }
        db.finish().await;
    }
}

/// A detection is the finding's own `detected_by` and `first_seen` (no
/// history row since migration 0004): the history and the state changes
/// the metrics read still begin with it, and backdating moves it.
#[tokio::test]
async fn a_detection_is_the_first_event_of_history_and_metrics() {
    use palisade_store::findings::SbomIngest;
    for db in test_support::all().await {
        let s = &db.store;
        let (component, mut finding) = component_with_finding("left-pad", "PAL-DETECT-1".into());
        finding.aliases = vec!["CVE-2026-0001".into()];
        let digest = format!("sha256:{:064x}", 11);
        let outcome = s
            .ingest_sbom(&SbomIngest {
                artifact_digest: digest.clone(),
                artifact_name: "registry.example/detect".into(),
                team_id: None,
                document_digest: format!("sha256:{:064x}", 12),
                source_format: "CycloneDX 1.6".into(),
                inventory: "{}".into(),
                components: vec![component],
                findings: vec![finding],
                actor: "token:ci".into(),
            })
            .await
            .unwrap_or_else(|e| panic!("[{}] {e}", db.label));
        let id = outcome.findings.new[0].clone();
        s.triage(
            &Scope::All,
            &id,
            "in_triage",
            None,
            Some("looking"),
            "user:alice",
        )
        .await
        .unwrap();
        s.backdate_finding(&id, 1_000).await.unwrap();

        let history = s.finding_history(&id).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["detected", "triaged"], "[{}]", db.label);
        assert_eq!(history[0].actor, "token:ci", "[{}]", db.label);
        assert_eq!(history[0].at, 1_000, "[{}]", db.label);
        assert_eq!(history[0].to_state.as_deref(), Some("open"));

        let changes = s.finding_state_changes(&Scope::All, 0).await.unwrap();
        let ours: Vec<(i64, Option<&str>, Option<&str>)> = changes
            .iter()
            .filter(|c| c.finding_id == id)
            .map(|c| (c.at, c.from_state.as_deref(), c.to_state.as_deref()))
            .collect();
        assert_eq!(ours[0], (1_000, None, Some("open")), "[{}]", db.label);
        assert_eq!(ours.len(), 2, "[{}] {ours:?}", db.label);
        db.finish().await;
    }
}
