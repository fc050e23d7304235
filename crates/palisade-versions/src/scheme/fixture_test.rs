//! Test helpers: inline comparison tables checked with the fixture checker
//! of [`crate::fixture`], and the versions of the real OSV records in the
//! corpus.
//!
//! The osv-scalibr fixture files themselves are run by the integration test
//! `tests/corpus.rs`, from the table in [`crate::fixture::FIXTURES`]. The
//! corpus lives outside the repository (found through `PALISADE_CORPUS`), so a
//! missing corpus skips with a visible line on stderr instead of failing or
//! silently passing.

use std::fmt::Debug;
use std::hash::Hash;
use std::path::PathBuf;

use crate::fixture::check_line;

/// The corpus directory: `PALISADE_CORPUS`, or the shared checkout beside the
/// repository.
pub(crate) fn corpus_dir() -> PathBuf {
    match std::env::var_os("PALISADE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

/// Asserts that every `(a, op, b)` comparison of an inline table holds.
pub(crate) fn assert_table<T, F>(cases: &[&str], parse: F)
where
    T: Ord + Hash + Debug,
    F: Fn(&str) -> Result<T, String>,
{
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|line| {
            check_line(line, &parse)
                .err()
                .map(|e| format!("{line}: {e}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
}

/// Every version named in the OSV records under `osv/<dir>` of the corpus
/// (range events other than `introduced: "0"`, and `versions` lists), with
/// the file it came from, or `None` when the corpus is absent. `GIT` ranges
/// are skipped: their events are commits.
pub(crate) fn osv_versions(dir: &str) -> Option<Vec<(String, String)>> {
    let root = corpus_dir().join(dir);
    let Ok(entries) = std::fs::read_dir(&root) else {
        eprintln!("SKIPPED: corpus not found at {}", root.display());
        return None;
    };
    let mut stack: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let mut out = Vec::new();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        let name = path.display().to_string();
        let affected = record["affected"].as_array().cloned().unwrap_or_default();
        for a in &affected {
            for range in a["ranges"].as_array().into_iter().flatten() {
                if range["type"] == "GIT" {
                    continue;
                }
                for event in range["events"].as_array().into_iter().flatten() {
                    for key in ["introduced", "fixed", "last_affected"] {
                        if let Some(v) = event[key].as_str()
                            && v != "0"
                        {
                            out.push((v.to_owned(), name.clone()));
                        }
                    }
                }
            }
            for v in a["versions"].as_array().into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    out.push((v.to_owned(), name.clone()));
                }
            }
        }
    }
    Some(out)
}
