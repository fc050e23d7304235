//! Decision latency of the built-in library on a realistic input: 500
//! findings, 5 attestations, 300 SBOM components, in `prod`.
//!
//! Criterion measures the mean; the bench then takes 2,000 more samples of
//! one decision each and prints p50 and p99, the numbers the target is set
//! in (p99 under 2 ms). With `PALISADE_BENCH_OUT=DIR` it also writes the
//! prepared input, the environment and the percentiles there, for
//! `bench/policy/run.sh` to replay the same policy and input in rego-cpp.
//!
//! Performance notes (2026-11-25): the issue's last measurement was p99
//! 47.6 ms. Measured while profiling on this shared 2-core machine (load
//! about 9): the input path (typed input -> `serde_json::Value` -> RFC 8785
//! digest + regorus conversion) took 10-19 ms of each decision; `decide` now
//! canonicalises the typed input directly and hands regorus one JSON text
//! (`Value::from_json_str`), and evaluates all rules of an environment in
//! one generated rule (`data.palisade_engine_internal.env_N`) instead of one
//! `eval_rule` per rule, falling back to the per-rule pass when anything
//! fails. With both changes, under that load: p50 47.9 ms, p99 88.2 ms; no
//! clean before/after pair was measured yet, the target (p99 < 2 ms) is not
//! met, and the canonical digest is the next cost to cut.
//!

// A bench may panic on set-up failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use palisade_policy::{Bundle, Engine, EngineOptions, PolicyInput};

fn hex(n: usize, width: usize) -> String {
    format!("{n:0width$x}")
}

const LICENSES: [&str; 5] = [
    "MIT",
    "Apache-2.0",
    "MIT OR Apache-2.0",
    "BSD-3-Clause",
    "ISC",
];

/// The realistic input.
pub fn realistic_input() -> PolicyInput {
    let digest_hex = "a".repeat(64);
    let digest = format!("sha256:{digest_hex}");
    let severities = [
        "low", "medium", "medium", "high", "low", "unknown", "medium", "critical",
    ];
    let findings: Vec<serde_json::Value> = (0..500)
        .map(|i| {
            let severity = severities[i % severities.len()];
            serde_json::json!({
                "id": format!("CVE-2025-{:05}", 10000 + i),
                "aliases": [format!("GHSA-{}-{}-{}", hex(i, 4), hex(i * 7, 4), hex(i * 13, 4))],
                "severity": severity,
                "kev": false,
                "epss": (i % 100) as f64 / 1000.0,
                "published": "2026-03-01T00:00:00Z",
                "fix_available": i % 3 == 0,
                "fixed_versions": if i % 3 == 0 { vec![format!("1.{}.1", i % 40)] } else { vec![] },
                "fix_published": "2026-05-25T00:00:00Z",
                "package": {"name": format!("pkg-{}", i % 300), "version": format!("1.{}.0", i % 40),
                            "purl": format!("pkg:npm/pkg-{}@1.{}.0", i % 300, i % 40), "ecosystem": "npm"}
            })
        })
        .collect();
    let components: Vec<serde_json::Value> = (0..300)
        .map(|i| {
            serde_json::json!({
                "name": format!("pkg-{i}"), "version": format!("1.{}.0", i % 40),
                "purl": format!("pkg:npm/pkg-{i}@1.{}.0", i % 40),
                "licenses": [LICENSES[i % LICENSES.len()]]
            })
        })
        .collect();
    let subject =
        serde_json::json!([{"name": "registry.example/app", "digest": {"sha256": digest_hex}}]);
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let att = |ptype: &str, predicate: serde_json::Value, about: bool| {
        serde_json::json!({
            "predicate_type": ptype,
            "signer": {"identity": "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main", "method": "keyless"},
            "subject_matches_artifact": about,
            "statement": {"_type": "https://in-toto.io/Statement/v1", "subject": subject, "predicateType": ptype, "predicate": predicate}
        })
    };
    let attestations = vec![
        att(
            "https://slsa.dev/provenance/v1",
            serde_json::json!({
            "buildDefinition": {"externalParameters": {"workflow": {"repository": "https://github.com/acme/app"}},
                "resolvedDependencies": [{"uri": "git+https://github.com/acme/app@refs/heads/main", "digest": {"gitCommit": commit}}]},
            "runDetails": {"builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"}}}),
            true,
        ),
        att(
            "https://cyclonedx.org/bom",
            serde_json::json!({"bomFormat": "CycloneDX"}),
            true,
        ),
        att(
            "https://palisade.dev/attestation/code-review/v1",
            serde_json::json!({
            "repository": "https://github.com/acme/app", "revision": commit, "author": "alice",
            "approvals": [{"approver": "bob"}, {"approver": "carol"}]}),
            false,
        ),
        att(
            "https://in-toto.io/attestation/vulns/v0.2",
            serde_json::json!({"scanner": {"uri": "palisade"}}),
            true,
        ),
        att(
            "https://in-toto.io/attestation/test-result/v0.1",
            serde_json::json!({"result": "PASSED"}),
            true,
        ),
    ];
    PolicyInput::from_value(serde_json::json!({
        "version": palisade_policy::INPUT_VERSION,
        "workload": {"name": "api", "namespace": "payments"},
        "artifact": {"name": "registry.example/app", "digest": digest, "reference": format!("registry.example/app@{digest}"),
                     "source": {"repository": "https://github.com/acme/app", "revision": commit}},
        "attestations": attestations,
        "sbom": {"format": "CycloneDX", "spec_version": "1.6", "component_count": 300, "components": components},
        "findings": findings
    }))
    .unwrap_or_else(|e| panic!("the bench input is invalid: {e}"))
}

const ENVIRONMENTS: &str = r#"
environments:
  prod:
    default: enforce
    params:
      allowed_builders: ["https://github.com/slsa-framework/slsa-github-generator/*"]
      allowed_source_repositories: ["https://github.com/acme/app"]
      critical_fix_grace_days: 30
      max_severity: critical
      unknown_severity: high
      denied_licenses: [AGPL-3.0-only, SSPL-1.0]
      min_approvers: 1
"#;

pub fn engine() -> Engine {
    let files = palisade_policy::library::FILES
        .iter()
        .filter(|(p, _)| *p != "environments.yaml")
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .chain([(
            "environments.yaml".to_string(),
            ENVIRONMENTS.as_bytes().to_vec(),
        )]);
    let bundle = Bundle::from_files(files).unwrap_or_else(|e| panic!("{e}"));
    Engine::new(&bundle, EngineOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-06-01 0:00 UTC)
}

fn bench(c: &mut Criterion) {
    let engine = engine();
    let input = realistic_input();
    c.bench_function("decide/builtin-library/500-findings", |b| {
        b.iter(|| black_box(engine.decide(black_box(&input), "prod", &[], now())))
    });
    c.bench_function("engine/clone", |b| b.iter(|| black_box(engine.clone())));
}

fn percentiles() {
    let engine = engine();
    let input = realistic_input();
    let first = engine.decide(&input, "prod", &[], now());
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    for _ in 0..200 {
        black_box(engine.decide(&input, "prod", &[], now()));
    }
    let mut samples: Vec<Duration> = (0..2000)
        .map(|_| {
            let t = Instant::now();
            black_box(engine.decide(black_box(&input), "prod", &[], now()));
            t.elapsed()
        })
        .collect();
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let (p50, p99) = (p(0.50), p(0.99));
    println!(
        "palisade decide (regorus, built-in library, 500 findings, 5 attestations): p50 {:.3} ms, p99 {:.3} ms, outcome {}, {} violations",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        first.outcome,
        first.violations.len()
    );
    if let Ok(dir) = std::env::var("PALISADE_BENCH_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let prepared = engine
            .prepared_input(&input, "prod", &[], now())
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.join("input.json"),
            serde_json::to_vec(&prepared).unwrap_or_default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let summary = serde_json::json!({
            "engine": "regorus (in-process, palisade Engine::decide)",
            "p50_ms": p50.as_secs_f64() * 1e3, "p99_ms": p99.as_secs_f64() * 1e3,
            "samples": samples.len(), "outcome": first.outcome, "violations": first.violations.len(),
        });
        std::fs::write(dir.join("palisade.json"), summary.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    percentiles();
}
