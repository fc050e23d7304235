//! Test helper that runs an osv-scalibr version-ordering fixture against one
//! scheme's parser.
//!
//! The fixtures live outside the repository (in the shared corpus, found
//! through `PALISADE_CORPUS`), so a missing corpus skips the run with a visible
//! line on stderr instead of failing or silently passing. Every comparison is
//! checked both ways round (`A < B` also asserts `B > A`), and every `=` line
//! also asserts that the two values hash alike, because `Eq` and `Hash` must
//! agree with `Ord`.
//!
//! A scheme may list lines it knowingly disagrees with (each with a reason in
//! the caller's test); such a line must really fail, so that a fix which makes
//! it pass is noticed and the exemption removed.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

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

fn hash_of<T: Hash>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Checks one comparison; `Err` describes the disagreement.
pub(crate) fn check_line<T, F>(line: &str, parse: &F) -> Result<(), String>
where
    T: Ord + Hash + Debug,
    F: Fn(&str) -> Result<T, String>,
{
    let parts: Vec<&str> = line.split(' ').filter(|p| !p.is_empty()).collect();
    let [a, op, b] = parts.as_slice() else {
        return Err(format!("malformed fixture line {line:?}"));
    };
    let expected = match *op {
        "<" => Ordering::Less,
        "=" => Ordering::Equal,
        ">" => Ordering::Greater,
        other => return Err(format!("unknown operator {other:?}")),
    };
    let va = parse(a).map_err(|e| format!("cannot parse {a:?}: {e}"))?;
    let vb = parse(b).map_err(|e| format!("cannot parse {b:?}: {e}"))?;
    let got = va.cmp(&vb);
    if got != expected {
        return Err(format!("{a} cmp {b} gave {got:?}, expected {expected:?}"));
    }
    let back = vb.cmp(&va);
    if back != expected.reverse() {
        return Err(format!("{b} cmp {a} gave {back:?}, not the reverse"));
    }
    if (va == vb) != (expected == Ordering::Equal) {
        return Err(format!("{a} == {b} disagrees with Ord"));
    }
    if expected == Ordering::Equal && hash_of(&va) != hash_of(&vb) {
        return Err(format!("{a} and {b} are equal but hash differently"));
    }
    Ok(())
}

/// Runs every comparison of `versions/<file>` through `parse`. Lines listed in
/// `known_failures` (exact text) must fail; all others must pass. Returns the
/// number of lines that passed, or `None` when the corpus is absent.
pub(crate) fn run_fixture<T, F>(file: &str, parse: F, known_failures: &[&str]) -> Option<usize>
where
    T: Ord + Hash + Debug,
    F: Fn(&str) -> Result<T, String>,
{
    let path = corpus_dir().join("versions").join(file);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("SKIPPED: corpus not found at {}", path.display());
        return None;
    };
    let mut passed = 0;
    let mut failures = Vec::new();
    let mut unexpectedly_passing = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let outcome = check_line(line, &parse);
        let known = known_failures.contains(&line);
        match (outcome, known) {
            (Ok(()), false) => passed += 1,
            (Ok(()), true) => unexpectedly_passing.push(line.to_owned()),
            (Err(_), true) => {}
            (Err(e), false) => failures.push(format!("{line}: {e}")),
        }
    }
    eprintln!(
        "{file}: {passed} lines pass, {} known disagreements",
        known_failures.len()
    );
    assert!(
        failures.is_empty(),
        "{file}: {} failing lines:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        unexpectedly_passing.is_empty(),
        "{file}: lines listed as known failures now pass:\n{}",
        unexpectedly_passing.join("\n")
    );
    for known in known_failures {
        assert!(
            text.lines().any(|l| l.trim() == *known),
            "{file}: known failure {known:?} is not in the fixture"
        );
    }
    Some(passed)
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
