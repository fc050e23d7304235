//! Runs every osv-scalibr version-ordering fixture of the shared corpus
//! (`$PALISADE_CORPUS/versions`, default `../shared/corpus` beside the
//! workspace) through the scheme(s) that must answer it, prints a report per
//! file, and fails on any unexpected mismatch: a failing line that is not a
//! documented disagreement, a documented disagreement that now passes, or a
//! fixture file that no scheme checks.
//!
//! The checker and the table of files, schemes and known disagreements (each
//! with its reason) are `palisade_versions::fixture`, shared with the unit
//! tests. A missing corpus skips with a visible `SKIPPED:` line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use palisade_versions::fixture::{FIXTURES, run_spec, specs_for};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("PALISADE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

#[test]
fn every_version_fixture_matches() {
    let dir = corpus_dir().join("versions");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        return;
    };
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.ends_with(".txt"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixture files in {}", dir.display());

    let mut problems = Vec::new();
    let (mut total_passed, mut total_known, mut total_failed) = (0, 0, 0);
    eprintln!(
        "{:<24} {:<9} {:>6} {:>6} {:>6}",
        "file", "scheme", "passed", "failed", "known"
    );
    for file in &files {
        let specs: Vec<_> = specs_for(file).collect();
        if specs.is_empty() {
            problems.push(format!(
                "{file}: no scheme checks this fixture (add it to fixture::FIXTURES)"
            ));
            continue;
        }
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for spec in specs {
            let report = run_spec(spec, &text);
            let failed = report.failures.len() + report.unexpectedly_passing.len();
            eprintln!(
                "{:<24} {:<9} {:>6} {:>6} {:>6}",
                file,
                format!("{:?}", spec.scheme),
                report.passed,
                failed,
                report.known
            );
            for known in spec.known {
                eprintln!("    known: {}\n      why: {}", known.line, known.reason);
            }
            total_passed += report.passed;
            total_known += report.known;
            total_failed += failed;
            if !report.is_ok() {
                problems.push(format!(
                    "{file} ({:?}):\n{}",
                    spec.scheme,
                    report.problems()
                ));
            }
        }
    }
    eprintln!(
        "total: {total_passed} passed, {total_failed} failed, {total_known} known disagreements"
    );
    // Every table entry names a file that exists, so a renamed fixture is
    // not silently skipped.
    for spec in FIXTURES {
        if !files.iter().any(|f| f == spec.file) {
            problems.push(format!("{}: listed in FIXTURES but not found", spec.file));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
