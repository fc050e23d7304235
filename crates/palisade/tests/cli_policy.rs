//! `palisade policy test`, `palisade policy eval` and `palisade gate` as CI
//! runs them: exit codes (0 allow or warn, 1 deny, 2 unusable input), the
//! reasons on the terminal, one decision-log line per decision, and a runaway
//! policy that is stopped by the evaluation budget and makes the gate deny
//! (fail closed) with the reason.

#![cfg(feature = "policy")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::palisade_in as palisade;

use std::path::{Path, PathBuf};
use std::process::Output;

const DIGEST: &str = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// A KEV-listed critical vulnerability with a fix: production must refuse
/// it, development only warns.
const FINDINGS: &str = r#"{"findings": [{"id": "CVE-2099-0001", "aliases": ["GHSA-xxxx-yyyy-zzzz"],
  "severity": "critical", "kev": true, "epss": 0.97, "fix_available": true, "fixed_versions": ["4.17.21"],
  "package": {"name": "lodash", "version": "4.17.15", "purl": "pkg:npm/lodash@4.17.15", "ecosystem": "npm"}}]}"#;

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-policy/policies")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn policy_test_runs_the_library_tests() {
    let dir = tempfile::tempdir().unwrap();
    let out = palisade(
        dir.path(),
        &["policy", "test", policies().to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // "PASS: n/n" with every test of the library passing.
    let t = text(&out);
    let counts = t
        .split("PASS: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.split_once('/'))
        .unwrap_or_else(|| panic!("no PASS count in {t}"));
    assert_eq!(counts.0, counts.1, "{t}");
    assert!(counts.0.parse::<u32>().unwrap() > 10, "{t}");

    // A failing test fails the run, by name.
    let own = dir.path().join("own");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("p.rego"),
        "package own.p\n\ndeny contains \"no\" if input.x == 1\n",
    )
    .unwrap();
    std::fs::write(
        own.join("p_test.rego"),
        "package own.p_test\n\nimport data.own.p\n\n\
         test_denies_one if count(p.deny) == 1 with input as {\"x\": 1}\n\n\
         test_wrongly_expects_nothing if count(p.deny) == 0 with input as {\"x\": 1}\n",
    )
    .unwrap();
    let out = palisade(dir.path(), &["policy", "test", own.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("test_wrongly_expects_nothing"), "{t}");
}

#[test]
fn gate_warns_in_dev_and_denies_in_prod_with_reasons_and_a_log_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings.json");
    std::fs::write(&findings, FINDINGS).unwrap();
    let log = dir.path().join("decisions.jsonl");
    let reference = format!("registry.example/shop/web@{DIGEST}");
    let gate = |env: &str| {
        palisade(
            dir.path(),
            &[
                "gate",
                "--env",
                env,
                "--artifact",
                &reference,
                "--findings",
                findings.to_str().unwrap(),
                "--decision-log",
                log.to_str().unwrap(),
            ],
        )
    };

    let dev = gate("dev");
    assert_eq!(dev.status.code(), Some(0), "{}", text(&dev));
    assert!(text(&dev).contains("WARN"), "{}", text(&dev));
    assert!(text(&dev).contains("CVE-2099-0001"), "{}", text(&dev));

    let prod = gate("prod");
    assert_eq!(prod.status.code(), Some(1), "{}", text(&prod));
    let t = text(&prod);
    assert!(t.contains("DENY"), "{t}");
    assert!(t.contains("palisade.vulnerabilities"), "{t}");
    assert!(t.contains("CVE-2099-0001"), "{t}");

    let lines = log_lines(&log);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, outcome) in lines.iter().zip(["warn", "deny"]) {
        assert_eq!(line["decision"], outcome, "{line}");
        for key in ["time", "input_digest", "bundle_digest", "reasons"] {
            assert!(!line[key].is_null(), "{key} missing in {line}");
        }
        assert!(
            line["input_digest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:"),
            "{line}"
        );
    }
    assert_eq!(lines[0]["bundle_digest"], lines[1]["bundle_digest"]);
}

#[test]
fn eval_reads_an_input_document() {
    let dir = tempfile::tempdir().unwrap();
    let gate_input = dir.path().join("input.json");
    let findings = dir.path().join("findings.json");
    std::fs::write(&findings, FINDINGS).unwrap();
    // The gate saves the input it assembled; eval decides on the same
    // document, the same way.
    let out = palisade(
        dir.path(),
        &[
            "gate",
            "--env",
            "prod",
            "--artifact",
            &format!("registry.example/shop/web@{DIGEST}"),
            "--findings",
            findings.to_str().unwrap(),
            "--save-input",
            gate_input.to_str().unwrap(),
            "--no-decision-log",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = palisade(
        dir.path(),
        &[
            "--format",
            "json",
            "policy",
            "eval",
            "--input",
            gate_input.to_str().unwrap(),
            "--env",
            "prod",
            "--no-decision-log",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["outcome"], "deny", "{d}");
}

#[test]
fn a_runaway_policy_is_stopped_and_the_gate_denies_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle/hostile");
    std::fs::create_dir_all(&bundle).unwrap();
    std::fs::write(
        bundle.join("runaway.rego"),
        "package hostile.runaway\n\n\
         warn contains msg if {\n\
         \tn := count([x | some a in numbers.range(1, 1000); some b in numbers.range(1, 1000); some c in numbers.range(1, 1000); x := a + b + c])\n\
         \tmsg := sprintf(\"%d\", [n])\n\
         }\n",
    )
    .unwrap();
    let log = dir.path().join("decisions.jsonl");
    let out = palisade(
        dir.path(),
        &[
            "gate",
            "--policy",
            dir.path().join("bundle").to_str().unwrap(),
            "--budget-ms",
            "200",
            "--env",
            "dev",
            "--artifact",
            &format!("registry.example/shop/web@{DIGEST}"),
            "--decision-log",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("hostile.runaway"), "{t}");
    assert!(t.contains("limit"), "{t}");
    let lines = log_lines(&log);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["decision"], "deny");
    assert!(
        lines[0]["reasons"].to_string().contains("hostile.runaway"),
        "{}",
        lines[0]
    );
}

#[test]
fn unreadable_input_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let findings = dir.path().join("findings.json");
    std::fs::write(&findings, "{\"findings\": [{\"id\": 3}]}").unwrap();
    let out = palisade(
        dir.path(),
        &[
            "gate",
            "--env",
            "prod",
            "--artifact",
            &format!("registry.example/shop/web@{DIGEST}"),
            "--findings",
            findings.to_str().unwrap(),
            "--no-decision-log",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("findings.json"),
        "{}",
        text(&out)
    );
}
