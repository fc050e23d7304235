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
