//! Decision latency of the built-in library on a realistic input: 500
//! findings, 5 attestations, 300 SBOM components, in `prod`.
//!
//! Criterion measures the mean; the bench then takes 2,000 more samples of
//! one decision each and prints p50 and p99, the numbers the target is set
//! in (p99 under 2 ms), for a decision from the typed input (`decide`) and
//! for one about an artifact prepared beforehand (`decide_prepared`). With `PALISADE_BENCH_OUT=DIR` it also writes the
//! prepared input, the environment and the percentiles there, for
//! `bench/policy/run.sh` to replay the same policy and input in rego-cpp.
//!
//! Besides the wall-clock percentiles, the bench prints this thread's mean
//! on-CPU time per decision (user + system clock ticks over the 2,000
//! samples): on a shared machine the wall clock also counts the time spent
//! waiting for a core.
//!
//! Performance history: see `bench/policy/RESULTS.md`.
//!

// A bench may panic on set-up failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use palisade_policy::{Bundle, Engine, EngineOptions, PolicyInput};

// The allocator of the `palisade` binary, so that the bench measures what
// the binary does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    let prepared = palisade_policy::PreparedArtifact::new(&input);
    c.bench_function("decide_prepared/builtin-library/500-findings", |b| {
        b.iter(|| {
            black_box(engine.decide_prepared(
                black_box(&prepared),
                input.workload.as_ref(),
                "prod",
                &[],
                now(),
            ))
        })
    });
    c.bench_function("engine/clone", |b| b.iter(|| black_box(engine.clone())));
}

/// What one series of single decisions measured.
struct Series {
    p50: Duration,
    p99: Duration,
    samples: usize,
    cpu_mean_ms: Option<f64>,
    wall_total: Duration,
}

/// 200 decisions to warm up, then 2,000 timed one by one; `decide(i)` makes
/// the `i`-th decision.
fn series(mut decide: impl FnMut(usize)) -> Series {
    for i in 0..200 {
        decide(i);
    }
    let cpu_before = thread_cpu_ticks();
    let started = Instant::now();
    let mut samples: Vec<Duration> = (200..2200)
        .map(|i| {
            let t = Instant::now();
            decide(i);
            t.elapsed()
        })
        .collect();
    let wall_total = started.elapsed();
    // On a shared machine the wall-clock samples include time spent waiting
    // for a core; the thread's own CPU time over all samples says what one
    // decision costs when it has a core (clock ticks of 10 ms, over seconds).
    let cpu_mean_ms = match (cpu_before, thread_cpu_ticks()) {
        (Some(a), Some(b)) => Some((b - a) as f64 * 10.0 / samples.len() as f64),
        _ => None,
    };
    samples.sort();
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Series {
        p50: p(0.50),
        p99: p(0.99),
        samples: samples.len(),
        cpu_mean_ms,
        wall_total,
    }
}

impl Series {
    fn print(&self, what: &str, load: &str) {
        println!(
            "palisade {what}: p50 {:.3} ms, p99 {:.3} ms (wall clock, {} samples); on-CPU mean {} ms per decision ({:.2} s wall; load average {load} on {} cores)",
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.samples,
            self.cpu_mean_ms.map_or("?".into(), |c| format!("{c:.3}")),
            self.wall_total.as_secs_f64(),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "p50_ms": self.p50.as_secs_f64() * 1e3, "p99_ms": self.p99.as_secs_f64() * 1e3,
            "samples": self.samples, "cpu_mean_ms": self.cpu_mean_ms,
        })
    }
}

/// Percentiles of single decisions, two ways:
///
/// * `decide`: everything from the typed input, as the CI gate does for
///   one artifact (the input is checked, converted and digested anew);
/// * `decide_prepared`: the artifact prepared once
///   ([`palisade_policy::PreparedArtifact`]), as the server keeps it per
///   artifact and evidence generation; the decision time advances by one
///   second per decision (so `now` changes every time; the finding ages,
///   whole days, do not change within the run).
///
/// Also the cost of a prepared decision at the moment every finding's age
/// changes (all 500 are re-converted): the first decision of a new day.
fn percentiles() {
    let engine = engine();
    let input = realistic_input();
    let first = engine.decide(&input, "prod", &[], now());
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?").to_string();
    println!(
        "decision outcome {}, {} violations (500 findings, 5 attestations, 300 components, built-in library, prod)",
        first.outcome,
        first.violations.len()
    );
    let cold = series(|_| {
        black_box(engine.decide(black_box(&input), "prod", &[], now()));
    });
    cold.print("decide (input converted every time)", &load);

    let prepared = palisade_policy::PreparedArtifact::new(&input);
    let workload = input.workload.as_ref();
    let at = |i: usize| now() + time::Duration::seconds(i as i64);
    // The prepared decision is the same decision.
    let same = engine.decide_prepared(&prepared, workload, "prod", &[], at(0));
    assert_eq!(same, first);
    let warm = series(|i| {
        black_box(engine.decide_prepared(black_box(&prepared), workload, "prod", &[], at(i)));
    });
    warm.print("decide_prepared (artifact prepared once)", &load);

    // Every finding's age changes at each new day.
    let day = |i: usize| now() + time::Duration::days(i as i64 + 1);
    let new_day = series(|i| {
        black_box(engine.decide_prepared(black_box(&prepared), workload, "prod", &[], day(i)));
    });
    new_day.print("decide_prepared when every finding's age changed", &load);
    let started = Instant::now();
    for _ in 0..200 {
        black_box(palisade_policy::PreparedArtifact::new(black_box(&input)));
    }
    println!(
        "PreparedArtifact::new: mean {:.3} ms (200 times)",
        started.elapsed().as_secs_f64() * 1e3 / 200.0
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
        let mut summary = cold.json();
        summary["engine"] = "regorus (in-process, palisade Engine::decide)".into();
        summary["outcome"] = serde_json::to_value(first.outcome).unwrap_or_default();
        summary["violations"] = first.violations.len().into();
        summary["load_average"] = load.into();
        summary["prepared"] = warm.json();
        summary["prepared_new_day"] = new_day.json();
        std::fs::write(dir.join("palisade.json"), summary.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// This thread's user + system CPU time in clock ticks (1/100 s on Linux).
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command: state is field 3, utime 14 and stime 15 (1-based).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

criterion_group!(benches, bench);

/// With `PALISADE_BENCH_PER_POLICY=1`: the mean decision time with only one
/// policy of the library enforced (the others `off`), and with none, to see
/// what each policy adds to the fixed cost of a decision.
fn per_policy() {
    let input = realistic_input();
    let ids = palisade_policy::library::POLICY_IDS;
    for only in ids.iter().map(|s| Some(*s)).chain([None]) {
        let mut envs = ENVIRONMENTS.to_string();
        envs.push_str("    policies:\n");
        for id in ids.iter().filter(|id| Some(**id) != only) {
            envs.push_str(&format!("      {id}: off\n"));
        }
        let files = palisade_policy::library::FILES
            .iter()
            .filter(|(p, _)| *p != "environments.yaml")
            .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
            .chain([("environments.yaml".to_string(), envs.into_bytes())]);
        let engine = Engine::new(
            &Bundle::from_files(files).unwrap(),
            EngineOptions::default(),
        )
        .unwrap();
        for _ in 0..50 {
            black_box(engine.decide(&input, "prod", &[], now()));
        }
        let started = Instant::now();
        for _ in 0..300 {
            black_box(engine.decide(black_box(&input), "prod", &[], now()));
        }
        println!(
            "only {}: mean {:.3} ms",
            only.unwrap_or("(none: every policy off)"),
            started.elapsed().as_secs_f64() * 1e3 / 300.0
        );
    }
}

/// With `PALISADE_BENCH_PREPARED_LOOP=N`: only N prepared decisions, for a
/// profiler.
fn prepared_loop(n: usize) {
    let engine = engine();
    let input = realistic_input();
    let prepared = palisade_policy::PreparedArtifact::new(&input);
    let started = Instant::now();
    for i in 0..n {
        let at = now() + time::Duration::seconds(i as i64);
        black_box(engine.decide_prepared(&prepared, input.workload.as_ref(), "prod", &[], at));
    }
    println!(
        "{n} prepared decisions: mean {:.3} ms",
        started.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}

/// With `PALISADE_BENCH_FULL_LOOP=N`: only N decisions from the typed
/// input (`decide`), for a profiler.
fn full_loop(n: usize) {
    let engine = engine();
    let input = realistic_input();
    let started = Instant::now();
    for i in 0..n {
        let at = now() + time::Duration::seconds(i as i64);
        black_box(engine.decide(&input, "prod", &[], at));
    }
    println!(
        "{n} decisions: mean {:.3} ms",
        started.elapsed().as_secs_f64() * 1e3 / n as f64
    );
}

fn main() {
    if let Some(n) = std::env::var("PALISADE_BENCH_FULL_LOOP")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        full_loop(n);
        return;
    }
    if let Some(n) = std::env::var("PALISADE_BENCH_PREPARED_LOOP")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        prepared_loop(n);
        return;
    }
    if std::env::var_os("PALISADE_BENCH_PER_POLICY").is_some() {
        per_policy();
        return;
    }
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
    percentiles();
}
