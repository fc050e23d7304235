//! Hostile policies and inputs: the engine stops them with a clear error and
//! the decision fails closed.

// Test helpers may panic on set-up failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use palisade_policy::decision::{ErrorKind, PolicyStatus};
use palisade_policy::input::Artifact;
use palisade_policy::{Bundle, Engine, EngineOptions, Outcome, PolicyError, PolicyInput};

const ENVS: &str =
    "environments:\n  prod: {default: enforce}\n  dev: {default: warn}\n  lab: {default: audit}\n";

fn engine_with(policy: &str, budget: Duration) -> Engine {
    let bundle = Bundle::from_files([("p.rego", policy), ("environments.yaml", ENVS)]).unwrap();
    Engine::new(
        &bundle,
        EngineOptions {
            time_budget: budget,
            ..EngineOptions::default()
        },
    )
    .unwrap()
}

fn input() -> PolicyInput {
    PolicyInput::new(Artifact {
        name: "app".into(),
        digest: format!("sha256:{}", "c".repeat(64)),
        ..Default::default()
    })
}

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-06-01 0:00 UTC)
}

#[test]
fn an_exponential_policy_is_stopped_and_denies() {
    let e = engine_with(
        "package hostile\ndeny contains \"never\" if {\n  count([1 | some a in numbers.range(1, 1000); some b in numbers.range(1, 1000); some c in numbers.range(1, 1000); some d in numbers.range(1, 1000)]) < 0\n}\n",
        Duration::from_millis(200),
    );
    let started = Instant::now();
    let d = e.decide(&input(), "prod", &[], now());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the limit did not stop it: {:?}",
        started.elapsed()
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
    assert_eq!(d.errors[0].kind, ErrorKind::Limit);
    assert!(
        d.errors[0].message.contains("evaluation limit reached"),
        "{}",
        d.errors[0].message
    );
    assert!(
        d.reasons()[0].starts_with("error in hostile.deny: evaluation limit reached"),
        "{:?}",
        d.reasons()
    );
}

#[test]
fn a_runaway_policy_denies_even_where_it_would_only_warn() {
    let e = engine_with(
        "package hostile\ndeny contains \"x\" if {\n  count([1 | some a in numbers.range(1, 1000); some b in numbers.range(1, 1000); some c in numbers.range(1, 1000); some d in numbers.range(1, 1000)]) < 0\n}\n",
        Duration::from_millis(100),
    );
    for env in ["dev", "lab"] {
        let d = e.decide(&input(), env, &[], now());
        assert_eq!(d.outcome, Outcome::Deny, "{env}");
    }
}

#[test]
fn the_budget_is_for_the_whole_decision() {
    let slow = "count([1 | some a in numbers.range(1, 150); some b in numbers.range(1, 150); some c in numbers.range(1, 150)]) < 0";
    let bundle = Bundle::from_files([
        (
            "a.rego",
            format!("package a\ndeny contains \"x\" if {{ {slow} }}\n"),
        ),
        (
            "b.rego",
            format!("package b\ndeny contains \"x\" if {{ {slow} }}\n"),
        ),
        (
            "c.rego",
            format!("package c\ndeny contains \"x\" if {{ {slow} }}\n"),
        ),
    ])
    .unwrap();
    let e = Engine::new(
        &bundle,
        EngineOptions {
            time_budget: Duration::from_millis(30),
            ..EngineOptions::default()
        },
    )
    .unwrap();
    let d = e.decide(&input(), "prod", &[], now());
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(
        d.errors.iter().all(|e| e.kind == ErrorKind::Limit),
        "{:?}",
        d.errors
    );
    assert!(d.policies.iter().any(|p| p.status == PolicyStatus::Error));
}

#[test]
fn sleeping_is_refused_at_load() {
    let bundle = Bundle::from_files([(
        "p.rego",
        "package p\ndeny contains \"x\" if { test.sleep(\"1h\") }\n",
    )])
    .unwrap();
    let err = Engine::new(&bundle, EngineOptions::default()).unwrap_err();
    assert!(matches!(err, PolicyError::Rego { .. }));
    assert!(err.to_string().contains("test.sleep"), "{err}");
}

#[test]
fn an_undefined_allow_denies() {
    let e = engine_with(
        "package p\nallow if input.artifact.name == \"other\"\n",
        Duration::from_secs(1),
    );
    let d = e.decide(&input(), "prod", &[], now());
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(
        d.violations[0]
            .message
            .contains("undefined never means allow"),
        "{:?}",
        d.violations
    );
    let e = engine_with(
        "package p\nallow if input.artifact.name == \"app\"\n",
        Duration::from_secs(1),
    );
    assert_eq!(
        e.decide(&input(), "prod", &[], now()).outcome,
        Outcome::Allow
    );
    let e = engine_with(
        "package p\ndefault allow := false\nallow if input.x\n",
        Duration::from_secs(1),
    );
    assert_eq!(
        e.decide(&input(), "prod", &[], now()).outcome,
        Outcome::Deny
    );
}

#[test]
fn an_undefined_deny_set_is_an_error_not_a_pass() {
    let e = engine_with(
        "package p\ndeny := {\"x\"} if input.never\n",
        Duration::from_secs(1),
    );
    let d = e.decide(&input(), "prod", &[], now());
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.errors[0].kind, ErrorKind::Protocol);
}

#[test]
fn wrong_shapes_are_protocol_errors() {
    for (policy, what) in [
        ("package p\ndeny := true\n", "must be a set"),
        (
            "package p\ndeny contains 42 if true\n",
            "string or an object",
        ),
        (
            "package p\ndeny contains {\"reason\": \"x\"} if true\n",
            "has no msg",
        ),
        (
            "package p\ndeny contains {\"msg\": \"x\", \"severity\": \"apocalyptic\"} if true\n",
            "unknown severity",
        ),
        ("package p\nallow := \"yes\"\n", "must be a boolean"),
    ] {
        let e = engine_with(policy, Duration::from_secs(1));
        let d = e.decide(&input(), "prod", &[], now());
        assert_eq!(d.outcome, Outcome::Deny, "{policy}");
        assert!(
            d.errors
                .iter()
                .any(|e| e.kind == ErrorKind::Protocol && e.message.contains(what)),
            "{policy}: {:?}",
            d.errors
        );
    }
}

#[test]
fn builtin_errors_fail_closed() {
    // In OPA's default mode, to_number("x") makes the body undefined and the
    // deny silently disappears; here it is an error and the decision denies.
    let e = engine_with(
        "package p\ndeny contains \"x\" if { to_number(\"not a number\") > 1 }\n",
        Duration::from_secs(1),
    );
    let d = e.decide(&input(), "prod", &[], now());
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.errors[0].kind, ErrorKind::Evaluation);
}

#[test]
fn conflicting_values_fail_closed() {
    let e = engine_with(
        "package p\nallow := true\nallow := false if true\n",
        Duration::from_secs(1),
    );
    let d = e.decide(&input(), "prod", &[], now());
    assert_eq!(d.outcome, Outcome::Deny, "{:?}", d);
}

#[test]
fn a_bundle_without_policies_is_refused() {
    let bundle = Bundle::from_files([("lib.rego", "package lib\nx := 1\n")]).unwrap();
    assert!(
        Engine::new(&bundle, EngineOptions::default())
            .unwrap_err()
            .to_string()
            .contains("no policy")
    );
}

#[test]
fn a_syntax_error_names_the_file() {
    let bundle = Bundle::from_files([("broken.rego", "package p\ndeny contains if {\n")]).unwrap();
    let err = Engine::new(&bundle, EngineOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("policy broken.rego:"), "{err}");
}

#[test]
fn hostile_inputs_are_rejected_cleanly() {
    let mut deep = serde_json::json!("x");
    for _ in 0..200 {
        deep = serde_json::json!({ "a": deep });
    }
    let doc = serde_json::json!({
        "version": palisade_policy::INPUT_VERSION,
        "artifact": {"name": "app", "digest": format!("sha256:{}", "c".repeat(64))},
        "attestations": [{"predicate_type": "x", "signer": {"identity": "i"}, "subject_matches_artifact": true, "statement": deep}]
    });
    let text = serde_json::to_vec(&doc).unwrap_or_default();
    // serde_json's own recursion limit or ours: either way a typed error, no panic.
    assert!(PolicyInput::from_json(&text).is_err());
    let too_many = serde_json::json!({
        "version": palisade_policy::INPUT_VERSION,
        "artifact": {"name": "app", "digest": format!("sha256:{}", "c".repeat(64))},
        "findings": vec![serde_json::json!({"id": "X", "severity": "low"}); palisade_policy::input::limits::MAX_FINDINGS + 1]
    });
    assert!(matches!(
        PolicyInput::from_value(too_many),
        Err(PolicyError::Limit(_))
    ));
}

#[test]
fn an_invalid_input_given_directly_to_decide_denies() {
    let e = engine_with(
        "package p\ndeny contains \"x\" if false\n",
        Duration::from_secs(1),
    );
    let mut bad = input();
    bad.artifact.digest = "latest".into();
    let d = e.decide(&bad, "prod", &[], now());
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.errors[0].kind, ErrorKind::Input);
    assert!(d.input_digest.is_none());
}

#[test]
fn regex_builtins_follow_re2_classes_whatever_the_binary_links() {
    // regorus takes `regex` without Unicode features; without our own
    // dependency on them, `\s` would be an "invalid regex" error in some builds.
    let e = engine_with(
        "package p\ndeny contains \"matched\" if regex.match(`^\\s\\d\\p{L}$`, \" 1\u{e9}\")\n",
        Duration::from_secs(1),
    );
    let d = e.decide(&input(), "prod", &[], now());
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert_eq!(d.violations.len(), 1);
}

/// The built-in library plus one runaway module, as a gate would load a
/// policy directory that someone added a bad policy to.
fn library_with(extra: &str, budget: Duration) -> Engine {
    let mut files: Vec<(String, Vec<u8>)> = palisade_policy::library::FILES
        .iter()
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .collect();
    files.push(("hostile/runaway.rego".into(), extra.as_bytes().to_vec()));
    Engine::new(
        &Bundle::from_files(files).unwrap(),
        EngineOptions {
            time_budget: budget,
            ..EngineOptions::default()
        },
    )
    .unwrap()
}

const EXPONENTIAL: &str = "package hostile.runaway\n\nwarn contains \"never\" if {\n  count([1 | some a in numbers.range(1, 1000); some b in numbers.range(1, 1000); some c in numbers.range(1, 1000); some d in numbers.range(1, 1000)]) < 0\n}\n";

#[test]
fn the_gate_fails_closed_on_a_runaway_policy_and_says_why() {
    // In `dev` every policy only warns, and the runaway one only declares
    // `warn`: without the limit it would never finish, and a limit that
    // merely dropped it would let the artifact through.
    let budget = Duration::from_millis(150);
    let e = library_with(EXPONENTIAL, budget);
    let exception = palisade_policy::Exception {
        id: "EX-RUNAWAY".into(),
        scope: palisade_policy::ExceptionScope {
            policy: Some("hostile.runaway".into()),
            ..Default::default()
        },
        reason: "try to waive the failure".into(),
        requested_by: "alice".into(),
        requested_at: palisade_policy::parse_rfc3339("2026-05-01T00:00:00Z").unwrap(),
        approved_by: Some("bob".into()),
        approved_at: Some(palisade_policy::parse_rfc3339("2026-05-02T00:00:00Z").unwrap()),
        expires_at: palisade_policy::parse_rfc3339("2026-07-01T00:00:00Z").unwrap(),
    };
    let started = Instant::now();
    let d = e.decide(&input(), "dev", &[exception], now());
    let took = started.elapsed();
    // The single pass and the per-rule pass that names the culprit each get
    // the budget at most; generous slack for a loaded machine.
    assert!(took < Duration::from_secs(10), "not stopped: {took:?}");
    assert_eq!(d.outcome, Outcome::Deny, "{:?}", d.reasons());
    let limit: Vec<_> = d
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::Limit)
        .collect();
    assert_eq!(limit.len(), 1, "{:?}", d.errors);
    assert_eq!(limit[0].policy.as_deref(), Some("hostile.runaway"));
    let runaway = d
        .policies
        .iter()
        .find(|p| p.policy == "hostile.runaway")
        .unwrap();
    assert_eq!(runaway.status, PolicyStatus::Error);
    // The exception cannot waive an error.
    assert!(
        d.exceptions_applied.is_empty(),
        "{:?}",
        d.exceptions_applied
    );
    // What the gate prints and logs: the first reason names the policy and the limit.
    let reasons = d.reasons();
    assert!(
        reasons[0].starts_with("error in hostile.runaway.warn: evaluation limit reached"),
        "{reasons:?}"
    );
    assert!(reasons[0].contains("budget 150 ms"), "{reasons:?}");
    let line: serde_json::Value = serde_json::from_str(&d.record().to_json_line()).unwrap();
    assert_eq!(line["decision"], "deny");
    assert!(
        line["reasons"][0]
            .as_str()
            .unwrap()
            .contains("evaluation limit reached"),
        "{line}"
    );
}

#[test]
fn recursive_functions_are_refused_at_load() {
    // Rego forbids recursion. regorus 0.14 does not detect a function that
    // calls itself and would overflow the stack, aborting the process; the
    // engine refuses such a bundle when compiling it, naming the cycle.
    for (files, cycle) in [
        (
            vec![(
                "p.rego",
                "package p\n\nf(x) := y if { y := f(x) }\n\ndeny contains \"x\" if { f(1) == 2 }\n",
            )],
            "p.f -> p.f",
        ),
        (
            vec![
                (
                    "a.rego",
                    "package a\n\nimport data.b as other\n\ng(x) := [y | some y in other.h(x)]\n",
                ),
                (
                    "b.rego",
                    "package b\n\nh(x) := {data.a.g(x)}\n\ndeny contains \"x\" if { count(h(1)) > 1 }\n",
                ),
            ],
            "a.g -> b.h -> a.g",
        ),
    ] {
        let bundle = Bundle::from_files(files).unwrap();
        let err = Engine::new(&bundle, EngineOptions::default()).unwrap_err();
        assert!(matches!(err, PolicyError::Rego { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("recursion"), "{text}");
        assert!(text.contains(cycle), "{text}");
    }
    // The test runner compiles the same way.
    let bundle =
        Bundle::from_files([("p.rego", "package p\n\nf(x) := f(x)\n\ntest_f if f(1)\n")]).unwrap();
    assert!(
        palisade_policy::testing::run_tests(
            &bundle,
            &palisade_policy::testing::TestOptions::default()
        )
        .is_err()
    );
}

#[test]
fn recursive_rules_fail_closed() {
    // A rule that depends on itself is caught by regorus while evaluating:
    // an error, and the decision denies.
    let e = engine_with(
        "package p\n\na := b\n\nb := a\n\nwarn contains \"x\" if a == 1\n",
        Duration::from_secs(1),
    );
    let d = e.decide(&input(), "dev", &[], now());
    assert_eq!(d.outcome, Outcome::Deny, "{:?}", d);
    assert!(
        d.errors.iter().any(|e| e.message.contains("recursion")),
        "{:?}",
        d.errors
    );
}

#[test]
fn a_hostile_input_to_the_library_is_bounded_by_the_budget() {
    // Many components with long licence expressions: the licence policy's
    // regular expressions run per component. Whatever it costs, the
    // decision ends within the budget's reach and never allows by timing out.
    let budget = Duration::from_millis(100);
    let e = library_with(
        "package hostile.runaway\n\ndeny contains \"x\" if false\n",
        budget,
    );
    // Every alternative names a denied id, so nothing short-cuts the work.
    let expression = vec!["SSPL-1.0 AND MIT"; 500].join(" OR ");
    let components: Vec<serde_json::Value> = (0..200)
        .map(|i| serde_json::json!({"name": format!("c{i}"), "version": "1", "licenses": [expression]}))
        .collect();
    let doc = serde_json::json!({
        "version": palisade_policy::INPUT_VERSION,
        "artifact": {"name": "app", "digest": format!("sha256:{}", "c".repeat(64))},
        "sbom": {"format": "CycloneDX", "component_count": 200, "components": components}
    });
    let input = PolicyInput::from_value(doc).unwrap();
    let started = Instant::now();
    let d = e.decide(&input, "dev", &[], now());
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // In dev the missing attestations only warn; stopped by the limit, the
    // decision denies. It never allows.
    if d.errors.iter().any(|e| e.kind == ErrorKind::Limit) {
        assert_eq!(d.outcome, Outcome::Deny);
    } else {
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(d.outcome, Outcome::Warn, "{:?}", d.reasons());
    }
}
