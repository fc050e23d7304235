//! An `opa test`-like runner for Rego unit tests.
//!
//! Design: regorus has no test runner, so this is ours, following the
//! semantics of OPA's `tester` package: every rule whose name starts with
//! `test_` in any module of the bundle (tests included, unlike decisions) is
//! a test; it passes when it evaluates to `true`, fails when it is `false`,
//! undefined or any other value, and errors when evaluation fails (strict
//! builtin errors, the per-test time limit). A test whose value is an object
//! (OPA's partial-object tests, `test_x[name] if ...`) passes when every
//! value is `true`, and the failing keys are reported. Rules named
//! `todo_test_*` are reported as skipped. Results come in package, then
//! name order.
//!
//! One difference from OPA is deliberate: OPA renames a second definition of
//! the same test (`test_x#01`) and runs each separately; regorus would merge
//! them into one rule that passes when any definition passes, hiding a
//! failing one, so the runner reports such a test as an error asking for
//! distinct names instead of letting it pass.
//!
//! Rule names are read from the parsed modules through `regorus::unstable`,
//! which is why the regorus version is pinned exactly.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::bundle::Bundle;
use crate::engine::{
    EngineOptions, error_text, is_limit_error, load_rego, panic_text, rule_path, timer,
};
use crate::error::{PolicyError, Result};

/// The prefix of test rules.
pub const TEST_PREFIX: &str = "test_";
/// The prefix of skipped test rules.
pub const SKIP_PREFIX: &str = "todo_test_";

/// How to run tests.
#[derive(Clone, Debug)]
pub struct TestOptions {
    /// Run only tests whose `package.name` contains this text.
    pub filter: Option<String>,
    /// The time limit of each test.
    pub timeout: Duration,
    /// Parse modules as Rego v0.
    pub rego_v0: bool,
}

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            filter: None,
            timeout: Duration::from_secs(5),
            rego_v0: false,
        }
    }
}

/// A test's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    /// Evaluated to `true`.
    Pass,
    /// Evaluated to something else, or undefined.
    Fail,
    /// Evaluation failed.
    Error,
    /// A `todo_test_` rule.
    Skip,
}

impl TestStatus {
    /// OPA's word for it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
            Self::Error => "ERROR",
            Self::Skip => "SKIPPED",
        }
    }
}

/// One test's result.
#[derive(Clone, Debug, Serialize)]
pub struct TestResult {
    /// The package, without `data.`.
    pub package: String,
    /// The rule name.
    pub name: String,
    /// The module it is defined in.
    pub file: String,
    /// The outcome.
    pub status: TestStatus,
    /// Why it failed or errored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What `print` wrote during the test.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub output: Vec<String>,
    /// How long it took, in microseconds.
    pub duration_us: u64,
}

/// All results and their counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TestReport {
    /// The results.
    pub results: Vec<TestResult>,
    /// Passed tests.
    pub passed: usize,
    /// Failed tests.
    pub failed: usize,
    /// Tests that errored.
    pub errors: usize,
    /// Skipped tests.
    pub skipped: usize,
}

impl TestReport {
    /// Whether every test that ran passed and at least one ran.
    pub fn success(&self) -> bool {
        self.failed == 0 && self.errors == 0 && self.passed > 0
    }
}

struct Discovered {
    package: Vec<String>,
    name: Vec<String>,
    file: String,
    definitions: usize,
}

/// Finds the test rules of the loaded modules.
fn discover(rego: &mut regorus::Engine) -> Result<Vec<Discovered>> {
    use regorus::unstable::{Parser, Rule, RuleHead};
    let mut found: BTreeMap<(Vec<String>, Vec<String>), Discovered> = BTreeMap::new();
    for module in rego.get_modules().iter() {
        let file = module.package.span.source.get_path().to_string();
        let package: Vec<String> = Parser::get_path_ref_components(&module.package.refr)
            .map_err(|e| PolicyError::Rego {
                path: file.clone(),
                message: error_text(&e),
            })?
            .iter()
            .map(|s| s.text().to_string())
            .collect();
        // `package a.b` parses as the reference `data.a.b` in some versions; drop a leading `data`.
        let package: Vec<String> = match package.split_first() {
            Some((first, rest)) if first == "data" => rest.to_vec(),
            _ => package,
        };
        for rule in &module.policy {
            let refr = match rule.as_ref() {
                Rule::Spec {
                    head: RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. },
                    ..
                } => refr,
                Rule::Default { refr, .. } => refr,
                Rule::Spec {
                    head: RuleHead::Func { .. },
                    ..
                } => continue,
            };
            let comps: Vec<String> = Parser::get_path_ref_components(refr)
                .map_err(|e| PolicyError::Rego {
                    path: file.clone(),
                    message: error_text(&e),
                })?
                .iter()
                .map(|s| s.text().to_string())
                .collect();
            let Some(pos) = comps
                .iter()
                .position(|c| c.starts_with(TEST_PREFIX) || c.starts_with(SKIP_PREFIX))
            else {
                continue;
            };
            let name: Vec<String> = comps.iter().take(pos + 1).cloned().collect();
            found
                .entry((package.clone(), name.clone()))
                .and_modify(|d| d.definitions += 1)
                .or_insert(Discovered {
                    package: package.clone(),
                    name,
                    file: file.clone(),
                    definitions: 1,
                });
        }
    }
    Ok(found.into_values().collect())
}

/// Runs the tests of a bundle.
pub fn run_tests(bundle: &Bundle, options: &TestOptions) -> Result<TestReport> {
    let engine_options = EngineOptions {
        rego_v0: options.rego_v0,
        ..EngineOptions::default()
    };
    let mut rego = load_rego(bundle.all_modules(), bundle.data()?, &engine_options)?;
    let tests = discover(&mut rego)?;
    let mut report = TestReport::default();
    for t in tests {
        let package = t.package.join(".");
        let name = t.name.join(".");
        let full = format!("{package}.{name}");
        if options.filter.as_deref().is_some_and(|f| !full.contains(f)) {
            continue;
        }
        let mut result = TestResult {
            package,
            name,
            file: t.file,
            status: TestStatus::Pass,
            message: None,
            output: Vec::new(),
            duration_us: 0,
        };
        if t.name.last().is_some_and(|n| n.starts_with(SKIP_PREFIX)) {
            result.status = TestStatus::Skip;
        } else if t.definitions > 1 {
            result.status = TestStatus::Error;
            result.message = Some(format!(
                "defined {} times in this package; give each definition its own name (they would be merged, and one passing definition would hide a failing one)",
                t.definitions
            ));
        } else {
            let mut path: Vec<String> = t.package.clone();
            path.extend(t.name.iter().cloned());
            let mut engine = rego.clone();
            engine.set_execution_timer_config(timer(options.timeout));
            let started = Instant::now();
            let outcome =
                std::panic::catch_unwind(AssertUnwindSafe(|| engine.eval_rule(rule_path(&path))));
            result.duration_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            result.output = engine.take_prints().unwrap_or_default();
            match outcome {
                Ok(Ok(value)) => {
                    if let Some(why) = failure_of(&value) {
                        result.status = TestStatus::Fail;
                        result.message = Some(why);
                    }
                }
                Ok(Err(e)) => {
                    result.status = TestStatus::Error;
                    result.message = Some(if is_limit_error(&e) {
                        format!(
                            "stopped by the {} ms test time limit: {}",
                            options.timeout.as_millis(),
                            error_text(&e)
                        )
                    } else {
                        error_text(&e)
                    });
                }
                Err(panic) => {
                    result.status = TestStatus::Error;
                    result.message = Some(format!(
                        "the Rego engine panicked: {}",
                        panic_text(panic.as_ref())
                    ));
                }
            }
        }
        match result.status {
            TestStatus::Pass => report.passed += 1,
            TestStatus::Fail => report.failed += 1,
            TestStatus::Error => report.errors += 1,
            TestStatus::Skip => report.skipped += 1,
        }
        report.results.push(result);
    }
    Ok(report)
}

/// Why a test value is not a pass, or `None` when it is one.
fn failure_of(value: &regorus::Value) -> Option<String> {
    match value {
        regorus::Value::Bool(true) => None,
        regorus::Value::Bool(false) => Some("evaluated to false".into()),
        regorus::Value::Undefined => {
            Some("undefined: a condition in the test body did not hold".into())
        }
        regorus::Value::Object(map) => {
            let failing: Vec<String> = map
                .iter()
                .filter(|(_, v)| !matches!(v, regorus::Value::Bool(true)))
                .map(|(k, _)| match k {
                    regorus::Value::String(s) => s.to_string(),
                    other => serde_json::to_string(other).unwrap_or_default(),
                })
                .collect();
            if failing.is_empty() && !map.is_empty() {
                None
            } else if map.is_empty() {
                Some("no test case was produced".into())
            } else {
                Some(format!("failing cases: {}", failing.join(", ")))
            }
        }
        other => Some(format!(
            "evaluated to {}, expected true",
            serde_json::to_string(other).unwrap_or_else(|_| "a value".into())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle(text: &str) -> Bundle {
        Bundle::from_files([("t_test.rego", text)]).unwrap()
    }

    #[test]
    fn outcomes_follow_opa() {
        let b = bundle(
            r#"package t
test_pass if { 1 == 1 }
test_false := false
test_undefined if { 1 == 2 }
test_number := 7
todo_test_later if { false }
test_error if { to_number("x") == 1 }
not_a_test if { false }
test_cases[name] := ok if {
    some name, ok in {"a": true, "b": false}
}
"#,
        );
        let r = run_tests(&b, &TestOptions::default()).unwrap();
        let got: Vec<(&str, TestStatus)> = r
            .results
            .iter()
            .map(|t| (t.name.as_str(), t.status))
            .collect();
        assert_eq!(
            got,
            vec![
                ("test_cases", TestStatus::Fail),
                ("test_error", TestStatus::Error),
                ("test_false", TestStatus::Fail),
                ("test_number", TestStatus::Fail),
                ("test_pass", TestStatus::Pass),
                ("test_undefined", TestStatus::Fail),
                ("todo_test_later", TestStatus::Skip),
            ]
        );
        assert_eq!((r.passed, r.failed, r.errors, r.skipped), (1, 4, 1, 1));
        assert!(!r.success());
        let cases = r.results.iter().find(|t| t.name == "test_cases").unwrap();
        assert_eq!(cases.message.as_deref(), Some("failing cases: b"));
    }

    #[test]
    fn duplicate_definitions_cannot_hide_a_failure() {
        let b = bundle("package t\ntest_x if { false }\ntest_x if { true }\n");
        let r = run_tests(&b, &TestOptions::default()).unwrap();
        assert_eq!(r.results[0].status, TestStatus::Error);
    }

    #[test]
    fn filter_and_timeout() {
        let b = bundle(
            "package t\ntest_fast if { true }\ntest_slow if { count([1 | some a in numbers.range(1, 300); some b in numbers.range(1, 300); some c in numbers.range(1, 300)]) > 0 }\n",
        );
        let opts = TestOptions {
            filter: Some("fast".into()),
            ..TestOptions::default()
        };
        let r = run_tests(&b, &opts).unwrap();
        assert_eq!(r.results.len(), 1);
        assert!(r.success());
        let opts = TestOptions {
            filter: Some("slow".into()),
            timeout: Duration::from_millis(50),
            ..TestOptions::default()
        };
        let r = run_tests(&b, &opts).unwrap();
        assert_eq!(r.results[0].status, TestStatus::Error);
        assert!(
            r.results[0]
                .message
                .as_deref()
                .unwrap_or_default()
                .contains("time limit"),
            "{:?}",
            r.results[0].message
        );
    }

    #[test]
    fn with_input_works_and_prints_are_captured() {
        let b = bundle(
            "package t\nallow if input.user == \"root\"\ntest_with if { print(\"hello\"); allow with input as {\"user\": \"root\"} }\n",
        );
        let r = run_tests(&b, &TestOptions::default()).unwrap();
        assert_eq!(
            r.results[0].status,
            TestStatus::Pass,
            "{:?}",
            r.results[0].message
        );
        assert_eq!(r.results[0].output.len(), 1);
    }
}
