//! Data-driven scenario tests of the built-in library.
//!
//! Every `tests/scenarios/*.yaml` file holds cases: an environment, a change
//! to the base input (`base-input.json`, which every policy allows in
//! `prod`) as an RFC 7386 merge patch and/or RFC 6902 operations, the
//! exceptions on offer, and the expected decision. The expectation is
//! exact: the listed violations, waived violations, applied and ignored
//! exceptions and errors must be all there are. The bundle is the built-in
//! library with `scenarios/environments.yaml` as its environments file.
//!
//! A case may name, in `covers`, the policies it shows passing at a boundary
//! (evaluated, not `off`, and without any violation); every built-in policy
//! must have an `allow` case that covers it, a `warn` violation and a `deny`
//! violation somewhere in the files.

// Test helpers may panic on set-up failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_policy::decision::{PolicyStatus, Violation};
use palisade_policy::{Bundle, Engine, EngineOptions, Exception, PolicyInput};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    #[allow(dead_code)] // Holds YAML anchors only.
    defaults: Option<serde_yaml_ng::Value>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    environment: String,
    /// Policies this case shows passing: each must be evaluated and violation-free.
    #[serde(default)]
    covers: Vec<String>,
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    merge: Option<Value>,
    #[serde(default)]
    patch: Vec<PatchOp>,
    #[serde(default)]
    exceptions: Vec<Exception>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchOp {
    op: String,
    path: String,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    decision: String,
    violations: Vec<ExpectedViolation>,
    #[serde(default)]
    waived: Vec<ExpectedViolation>,
    #[serde(default)]
    applied: Vec<String>,
    #[serde(default)]
    ignored: BTreeMap<String, String>,
    #[serde(default)]
    errors: Vec<ExpectedError>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedViolation {
    policy: String,
    #[serde(default)]
    effect: Option<String>,
    #[serde(default)]
    vulnerability: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    by: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    kind: String,
    message: String,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios")
}

fn engine() -> Engine {
    let mut files: Vec<(String, Vec<u8>)> = palisade_policy::library::FILES
        .iter()
        .filter(|(p, _)| *p != "environments.yaml")
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .collect();
    files.push((
        "environments.yaml".into(),
        std::fs::read(dir().join("environments.yaml")).unwrap(),
    ));
    Engine::new(
        &Bundle::from_files(files).unwrap(),
        EngineOptions::default(),
    )
    .unwrap()
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn apply(doc: &mut Value, op: &PatchOp) {
    let (parent_path, last) = op.path.rsplit_once('/').expect("a JSON pointer");
    let parent = doc
        .pointer_mut(parent_path)
        .unwrap_or_else(|| panic!("no {parent_path}"));
    match (op.op.as_str(), parent) {
        ("remove", Value::Array(a)) => {
            a.remove(last.parse::<usize>().unwrap());
        }
        ("remove", Value::Object(o)) => {
            o.remove(last).unwrap_or_else(|| panic!("no {}", op.path));
        }
        ("add", Value::Array(a)) if last == "-" => a.push(op.value.clone().unwrap()),
        ("add", Value::Array(a)) => a.insert(last.parse().unwrap(), op.value.clone().unwrap()),
        ("add" | "replace", Value::Object(o)) => {
            if op.op == "replace" {
                assert!(o.contains_key(last), "replace of a missing {}", op.path);
            }
            o.insert(last.to_string(), op.value.clone().unwrap());
        }
        ("replace", Value::Array(a)) => {
            a[last.parse::<usize>().unwrap()] = op.value.clone().unwrap()
        }
        (other, _) => panic!("unsupported patch {other} at {}", op.path),
    }
}

fn matches(v: &Violation, e: &ExpectedViolation) -> bool {
    v.policy == e.policy
        && e.effect.as_deref().is_none_or(|x| x == v.effect.as_str())
        && e.vulnerability
            .as_deref()
            .is_none_or(|x| Some(x) == v.vulnerability.as_deref())
        && e.message.as_deref().is_none_or(|x| v.message.contains(x))
        && e.by
            .as_deref()
            .is_none_or(|x| Some(x) == v.waived_by.as_deref())
}

/// Pairs every expected violation with a distinct actual one; returns what is left over.
fn compare(actual: &[Violation], expected: &[ExpectedViolation]) -> Result<(), String> {
    let mut left: Vec<&Violation> = actual.iter().collect();
    for e in expected {
        match left.iter().position(|v| matches(v, e)) {
            Some(i) => {
                left.remove(i);
            }
            None => return Err(format!("expected {e:?}, not found among {left:#?}")),
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!("unexpected violations: {left:#?}"))
    }
}

#[test]
fn scenarios() {
    let engine = engine();
    let base: Value =
        serde_json::from_slice(&std::fs::read(dir().join("base-input.json")).unwrap()).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("environments.yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "scenario files are missing");
    let mut failures = Vec::new();
    let mut count = 0;
    for path in files {
        let file: File = serde_yaml_ng::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in file.cases {
            count += 1;
            let mut doc = base.clone();
            if let Some(m) = &case.merge {
                merge(&mut doc, m);
            }
            for op in &case.patch {
                apply(&mut doc, op);
            }
            let input =
                PolicyInput::from_value(doc).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let now = time::OffsetDateTime::parse(
                case.now.as_deref().unwrap_or("2026-06-01T00:00:00Z"),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap();
            let d = engine.decide(&input, &case.environment, &case.exceptions, now);
            let label = format!(
                "{} / {}",
                path.file_name().unwrap().to_string_lossy(),
                case.name
            );
            let mut problems = Vec::new();
            // The decision's fast digest is the reference RFC 8785 digest.
            if let Ok(prepared) =
                engine.prepared_input(&input, &case.environment, &case.exceptions, now)
            {
                // For comparisons outside this test (bench/policy/rvm): the
                // prepared input of every case, one file per case.
                if let Some(dir) = std::env::var_os("PALISADE_SCENARIO_INPUTS") {
                    let file = Path::new(&dir).join(format!("{count:03}.json"));
                    std::fs::write(file, serde_json::to_vec(&prepared).unwrap()).unwrap();
                }
                let reference = palisade_policy::canonical_digest(&prepared).unwrap();
                if d.input_digest.as_deref() != Some(reference.as_str()) {
                    problems.push(format!(
                        "input digest {:?}, reference {reference}",
                        d.input_digest
                    ));
                }
            }
            if d.outcome.as_str() != case.expect.decision {
                problems.push(format!(
                    "decision {} (reasons: {:?})",
                    d.outcome,
                    d.reasons()
                ));
            }
            if let Err(e) = compare(&d.violations, &case.expect.violations) {
                problems.push(e);
            }
            if let Err(e) = compare(&d.waived, &case.expect.waived) {
                problems.push(format!("waived: {e}"));
            }
            let applied: Vec<&str> = d.exceptions_applied.iter().map(|a| a.id.as_str()).collect();
            if applied
                != case
                    .expect
                    .applied
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
            {
                problems.push(format!("applied {applied:?}"));
            }
            let ignored: BTreeMap<String, String> = d
                .exceptions_ignored
                .iter()
                .map(|i| (i.id.clone(), i.status.as_str().to_string()))
                .collect();
            if ignored != case.expect.ignored {
                problems.push(format!("ignored {ignored:?}"));
            }
            let errors_ok = d.errors.len() == case.expect.errors.len()
                && case.expect.errors.iter().zip(&d.errors).all(|(e, a)| {
                    serde_json::to_value(a.kind).unwrap() == e.kind
                        && a.message.contains(&e.message)
                });
            if !errors_ok {
                problems.push(format!("errors {:?}", d.errors));
            }
            for id in &case.covers {
                match d.policies.iter().find(|p| &p.policy == id) {
                    Some(p) if p.status == PolicyStatus::Passed => {}
                    Some(p) => {
                        problems.push(format!("covers {id}, whose status is {:?}", p.status))
                    }
                    None => problems.push(format!("covers {id}, which was not evaluated")),
                }
            }
            if !problems.is_empty() {
                failures.push(format!("{label}:\n  {}", problems.join("\n  ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} scenarios failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{count} scenarios passed");
}

#[test]
fn every_builtin_policy_is_covered_in_allow_warn_and_deny() {
    let mut seen: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut allowed: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut statuses: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") || path.ends_with("environments.yaml") {
            continue;
        }
        let file: File = serde_yaml_ng::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for case in file.cases {
            if case.expect.decision == "allow" {
                allowed.extend(case.covers.iter().cloned());
            }
            if !case.expect.applied.is_empty() {
                statuses.insert("applied".into());
            }
            statuses.extend(case.expect.ignored.values().cloned());
            for v in &case.expect.violations {
                seen.entry(v.policy.clone())
                    .or_default()
                    .insert(v.effect.clone().unwrap_or_default());
            }
        }
    }
    for id in palisade_policy::library::POLICY_IDS {
        let effects = seen.get(id).cloned().unwrap_or_default();
        assert!(
            effects.contains("deny") && effects.contains("warn"),
            "{id} lacks a deny or warn scenario: {effects:?}"
        );
        assert!(
            allowed.contains(id),
            "{id} lacks an allow scenario that covers it"
        );
    }
    // Unexpired (applied), expired and self-approved exceptions.
    for status in ["applied", "expired", "self_approved"] {
        assert!(
            statuses.contains(status),
            "no scenario has an exception {status}: {statuses:?}"
        );
    }
}
