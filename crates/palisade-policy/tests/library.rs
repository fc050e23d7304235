//! The built-in library's own Rego unit tests, run by our `opa test`-like runner.

// Test helpers may panic on set-up failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use palisade_policy::testing::{TestOptions, TestStatus, run_tests};

#[test]
fn builtin_library_rego_tests_pass() {
    let bundle = palisade_policy::library::builtin_bundle().unwrap();
    let report = run_tests(&bundle, &TestOptions::default()).unwrap();
    let bad: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.status != TestStatus::Pass)
        .map(|r| {
            format!(
                "{}.{}: {} {}",
                r.package,
                r.name,
                r.status.label(),
                r.message.clone().unwrap_or_default()
            )
        })
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for id in palisade_policy::library::POLICY_IDS {
        let package = format!("{id}_test");
        let n = report
            .results
            .iter()
            .filter(|r| r.package == package)
            .count();
        assert!(n >= 5, "{package} has only {n} tests");
    }
    println!("{} Rego tests passed", report.passed);
}

#[test]
fn a_broken_policy_fails_its_test() {
    // The runner must be able to fail: break one check and its test goes red.
    let files = palisade_policy::library::FILES.iter().map(|(p, t)| {
        let t = if *p == "palisade/image_digest.rego" {
            t.replace(
                "pinned_digest != input.artifact.digest",
                "pinned_digest == \"never\"",
            )
        } else {
            t.to_string()
        };
        (p.to_string(), t.into_bytes())
    });
    let bundle = palisade_policy::Bundle::from_files(files).unwrap();
    let report = run_tests(
        &bundle,
        &TestOptions {
            filter: Some("image_digest".into()),
            ..TestOptions::default()
        },
    )
    .unwrap();
    assert!(!report.success());
}
