//! Snapshots of the emitted formats: a decision as JSON and its decision-log line.

// Test helpers may panic on set-up failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_policy::input::{Artifact, Finding, PackageRef, Severity, Workload};
use palisade_policy::{Engine, EngineOptions, Exception, ExceptionScope, PolicyInput};
use time::macros::datetime;

fn decision() -> palisade_policy::Decision {
    let engine = Engine::builtin(EngineOptions::default()).unwrap();
    let digest = format!("sha256:{}", "d".repeat(64));
    let mut input = PolicyInput::new(Artifact {
        name: "registry.example/shop/web".into(),
        digest: digest.clone(),
        reference: Some("registry.example/shop/web:2.0".into()),
        ..Default::default()
    });
    input.workload = Some(Workload {
        name: "web".into(),
        namespace: Some("shop".into()),
        ..Default::default()
    });
    input.findings = vec![Finding {
        id: "CVE-2026-0001".into(),
        aliases: vec!["GHSA-1111-2222-3333".into()],
        severity: Severity::High,
        priority: None,
        kev: true,
        epss: Some(0.9),
        published: Some("2026-05-01T00:00:00Z".into()),
        age_days: None,
        fix_available: true,
        fixed_versions: vec!["1.0.1".into()],
        fix_published: Some("2026-05-02T00:00:00Z".into()),
        fix_age_days: None,
        package: Some(PackageRef {
            name: "libfoo".into(),
            version: Some("1.0.0".into()),
            ..Default::default()
        }),
    }];
    let exceptions = vec![
        Exception {
            id: "EX-7".into(),
            scope: ExceptionScope {
                policy: Some("palisade.image_digest".into()),
                ..Default::default()
            },
            reason: "migration to digests in progress".into(),
            requested_by: "carol".into(),
            requested_at: datetime!(2026-05-20 0:00 UTC),
            approved_by: Some("dave".into()),
            approved_at: Some(datetime!(2026-05-21 0:00 UTC)),
            expires_at: datetime!(2026-06-30 0:00 UTC),
        },
        Exception {
            id: "EX-8".into(),
            scope: ExceptionScope {
                vulnerability: Some("CVE-2026-0001".into()),
                ..Default::default()
            },
            reason: "self-approved".into(),
            requested_by: "erin".into(),
            requested_at: datetime!(2026-05-20 0:00 UTC),
            approved_by: Some("Erin".into()),
            approved_at: Some(datetime!(2026-05-20 1:00 UTC)),
            expires_at: datetime!(2026-06-30 0:00 UTC),
        },
    ];
    engine.decide(&input, "prod", &exceptions, datetime!(2026-06-01 0:00 UTC))
}

#[test]
fn decision_json() {
    insta::assert_json_snapshot!(decision());
}

#[test]
fn decision_log_line() {
    insta::assert_snapshot!(decision().record().to_json_line());
}

#[test]
fn decisions_are_deterministic() {
    assert_eq!(
        serde_json::to_string(&decision()).unwrap(),
        serde_json::to_string(&decision()).unwrap()
    );
}
