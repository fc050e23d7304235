//! Demo data written by us: a small organisation with teams, environments,
//! workloads and deployments, so a newcomer sees a populated server at once.
//! Seeding is idempotent.

use palisade_store::model::WorkloadSpec;
use palisade_store::tokens::Role;
use palisade_store::{Store, StoreError, now_ms};
use serde_json::json;

/// Well-known demo tokens (demo only: never use these secrets elsewhere).
pub const DEMO_TOKENS: &[(&str, Role, Option<&str>, &str)] = &[
    ("demo-admin", Role::Admin, None, "pal_demo_admin"),
    ("demo-security", Role::Security, None, "pal_demo_security"),
    (
        "alice (payments developer)",
        Role::Developer,
        Some("payments"),
        "pal_demo_alice",
    ),
    (
        "bob (search developer)",
        Role::Developer,
        Some("search"),
        "pal_demo_bob",
    ),
    ("payments-ci", Role::Ci, Some("payments"), "pal_demo_ci"),
    ("admission-webhook", Role::Webhook, None, "pal_demo_webhook"),
];

/// A demo user: (username, display name, role, team, password, hash).
pub type DemoUser = (
    &'static str,
    &'static str,
    Role,
    Option<&'static str>,
    &'static str,
    &'static str,
);

/// Demo users of the portal: (username, display name, role, team, password,
/// argon2id hash of the password). Demo only: never use these elsewhere.
/// The hashes are precomputed so that seeding needs no hashing code here.
pub const DEMO_USERS: &[DemoUser] = &[
    (
        "admin",
        "Ada Admin",
        Role::Admin,
        None,
        "admin-demo-password",
        "$argon2id$v=19$m=19456,t=2,p=1$GZt9X+O0I46oo0EGcbG4GQ$qpsGdEsjwqNlVo8r6yjjlhA21mpGZRbXcj05AWm39ME",
    ),
    (
        "sam",
        "Sam Security",
        Role::Security,
        None,
        "sam-demo-password",
        "$argon2id$v=19$m=19456,t=2,p=1$De03Gw+woOiikFAcYRlLcA$xtz9n/m3oGUmKOarvSTi2AU14u2orcCCJrui1hT8uGQ",
    ),
    (
        "alice",
        "Alice (payments)",
        Role::Developer,
        Some("payments"),
        "alice-demo-password",
        "$argon2id$v=19$m=19456,t=2,p=1$eb/9+1HBOKbZHnLm1KL4mQ$EAnFAVKx/1H2iRsUEU+6k6TwQtKENS1e2RVg2o+vXsY",
    ),
    (
        "bob",
        "Bob (search)",
        Role::Developer,
        Some("search"),
        "bob-demo-password",
        "$argon2id$v=19$m=19456,t=2,p=1$fYx9irMKJ4l63MBL7JQt/g$w4LmrRPQ5kWTFdrfeEuSnFenxsDpvf+it+Rkx6hyGI0",
    ),
];

/// Seeds the demo organisation.
pub async fn seed(store: &Store) -> Result<(), StoreError> {
    // The environments come from the policy bundle (`sync_environments`);
    // create them here only when seeding a bare store.
    for (env, parent, production) in [
        ("dev", None, false),
        ("staging", Some("dev"), false),
        ("prod", Some("staging"), true),
    ] {
        if store.environment_by_name(env).await?.is_none() {
            store
                .put_environment(env, parent, &json!({}), production)
                .await?;
        }
    }
    let workloads = [
        (
            "payments",
            "checkout",
            "api",
            true,
            "sha256:1b6f0c1a9f6a7c1d6d7b9f1d0c7e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b",
            "registry.example/payments/checkout:1.4.2",
        ),
        (
            "payments",
            "checkout",
            "worker",
            false,
            "sha256:2c7f1d2b0a7b8d2e7e8c0a2e1d8f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c",
            "registry.example/payments/checkout-worker:1.4.2",
        ),
        (
            "payments",
            "ledger",
            "ledger",
            false,
            "sha256:3d8a2e3c1b8c9e3f8f9d1b3f2e9a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
            "registry.example/payments/ledger:2.0.0",
        ),
        (
            "search",
            "indexer",
            "indexer",
            false,
            "sha256:4e9b3f4d2c9daf4a9a0e2c4a3f0b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e",
            "registry.example/search/indexer:0.9.1",
        ),
        (
            "search",
            "frontend",
            "web",
            true,
            "sha256:5fa04a5e3d0eb05b0b1f3d5b4a1c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f",
            "registry.example/search/web:3.2.0",
        ),
    ];
    let now = now_ms();
    for env in ["dev", "staging", "prod"] {
        for (team, app, name, internet, digest, image) in workloads {
            let w = store
                .ensure_workload(&WorkloadSpec {
                    team: team.to_owned(),
                    application: app.to_owned(),
                    environment: env.to_owned(),
                    namespace: team.to_owned(),
                    name: name.to_owned(),
                    kind: "Deployment".to_owned(),
                    internet_facing: internet,
                })
                .await?;
            if store.deployments_of(&w.workload.id).await?.is_empty() {
                store
                    .record_deployment(&w.workload.id, "app", digest, image, now - 86_400_000)
                    .await?;
            }
        }
    }
    for (name, role, team, secret) in DEMO_TOKENS {
        let team_id = match team {
            Some(t) => Some(store.ensure_team(t).await?.id),
            None => None,
        };
        store
            .insert_token(name, *role, team_id.as_deref(), secret)
            .await?;
    }
    for (username, display, role, team, _password, hash) in DEMO_USERS {
        let team_id = match team {
            Some(t) => Some(store.ensure_team(t).await?.id),
            None => None,
        };
        store
            .ensure_user(username, display, *role, team_id.as_deref(), hash)
            .await?;
    }
    crate::demo_data::seed_evidence(store).await?;
    Ok(())
}
