//! CVSS base scores against the scores published beside the vectors in the
//! corpus: advisories (the OSV npm records' `database_specific.cvss_score`,
//! the Node.js security WG's native records, GitHub's GraphQL advisories),
//! scanner reports (Trivy `CVSS.*.V2Score/V3Score/V40Score`, Grype
//! `cvss[].metrics.baseScore`) and CycloneDX `ratings[]`.
//!
//! Every pair is scored three ways: published, ours (the workspace's CVSS
//! implementation) and an independent implementation of the v2 and v3.x
//! base-score formulas written here from the specifications. Ours must
//! equal the independent one on every v2/v3 vector; a published score may
//! differ from ours only where the independent one agrees with ours (the
//! publisher's arithmetic, or a score that is not the base score, such as a
//! vendor's environmental score). v4.0 has no independent check here, so a
//! v4.0 score must equal the published one.
//!
//! The corpus is found through `PALISADE_CORPUS` (default: the shared
//! corpus beside the repository); without it the test prints `SKIPPED`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_risk::cvss::{self, CvssVersion};
use serde_json::Value;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

// ---------------------------------------------------------------------------
// The independent implementation (CVSS v3.1 specification section 7 and
// appendix A; v3.0 section 8.1; v2 guide section 3.2.1).
// ---------------------------------------------------------------------------

fn metrics(vector: &str) -> BTreeMap<&str, &str> {
    vector
        .split('/')
        .filter_map(|m| m.split_once(':'))
        .collect()
}

fn roundup_31(x: f64) -> f64 {
    let i = (x * 100_000.0).round() as i64;
    if i % 10_000 == 0 {
        i as f64 / 100_000.0
    } else {
        ((i / 10_000) + 1) as f64 / 10.0
    }
}

fn roundup_30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

fn independent_v3(vector: &str, v31: bool) -> Option<f64> {
    let m = metrics(vector);
    let scope_changed = *m.get("S")? == "C";
    let av = match *m.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (*m.get("PR")?, scope_changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match *m.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        Some(match *m.get(k)? {
            "H" => 0.56,
            "L" => 0.22,
            "N" => 0.0,
            _ => return None,
        })
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if scope_changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if scope_changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Some(if v31 {
        roundup_31(raw)
    } else {
        roundup_30(raw)
    })
}

fn independent_v2(vector: &str) -> Option<f64> {
    let m = metrics(vector.trim_start_matches('(').trim_end_matches(')'));
    let av = match *m.get("AV")? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match *m.get("Au")? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        Some(match *m.get(k)? {
            "N" => 0.0,
            "P" => 0.275,
            "C" => 0.660,
            _ => return None,
        })
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let raw = (0.6 * impact + 0.4 * exploitability - 1.5) * f;
    Some((raw * 10.0 + 1e-9).round() / 10.0)
}

fn independent(vector: &str, version: CvssVersion) -> Option<f64> {
    match version {
        CvssVersion::V2 => independent_v2(vector),
        CvssVersion::V3_0 => independent_v3(vector, false),
        CvssVersion::V3_1 => independent_v3(vector, true),
        CvssVersion::V4_0 => None,
    }
}

// ---------------------------------------------------------------------------
// Collecting the pairs.
// ---------------------------------------------------------------------------

#[derive(Debug)]
struct Pair {
    source: String,
    file: String,
    vector: String,
    hint: Option<CvssVersion>,
    published: f64,
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn walk(v: &Value, file: &str, area: &str, out: &mut Vec<Pair>) {
    match v {
        Value::Object(o) => {
            let mut push = |source: &str, vector: &Value, score: &Value, hint| {
                if let (Some(vector), Some(published)) = (vector.as_str(), num(score)) {
                    if vector.trim().is_empty() {
                        return;
                    }
                    out.push(Pair {
                        source: format!("{source} ({area})"),
                        file: file.to_owned(),
                        vector: vector.to_owned(),
                        hint,
                        published,
                    });
                }
            };
            // OSV records keeping the publisher's score (the npm set).
            if let (Some(sev), Some(score)) = (
                o.get("severity").and_then(Value::as_array),
                o.get("database_specific").and_then(|d| d.get("cvss_score")),
            ) {
                for e in sev {
                    if e["type"].as_str().is_some_and(|t| t.starts_with("CVSS_V")) {
                        push(
                            "OSV severity[] + database_specific.cvss_score",
                            &e["score"],
                            score,
                            None,
                        );
                    }
                }
            }
            if let (Some(vector), Some(score)) = (o.get("cvss_vector"), o.get("cvss_score")) {
                push(
                    "Node.js security WG cvss_vector/cvss_score",
                    vector,
                    score,
                    None,
                );
            }
            if let (Some(vector), Some(score)) = (o.get("vectorString"), o.get("score")) {
                push(
                    "GitHub advisory cvss.vectorString/score",
                    vector,
                    score,
                    None,
                );
            }
            for (vk, sk, hint) in [
                ("V2Vector", "V2Score", CvssVersion::V2),
                ("V3Vector", "V3Score", CvssVersion::V3_1),
                ("V40Vector", "V40Score", CvssVersion::V4_0),
            ] {
                if let (Some(vector), Some(score)) = (o.get(vk), o.get(sk)) {
                    push("Trivy CVSS", vector, score, Some(hint));
                }
            }
            if let (Some(vector), Some(score)) = (
                o.get("vector"),
                o.get("metrics").and_then(|m| m.get("baseScore")),
            ) {
                let hint = o
                    .get("version")
                    .and_then(Value::as_str)
                    .and_then(CvssVersion::from_method);
                push("Grype cvss[]", vector, score, hint);
            }
            if let (Some(vector), Some(score), Some(method)) = (
                o.get("vector"),
                o.get("score"),
                o.get("method").and_then(Value::as_str),
            ) && let Some(hint) = CvssVersion::from_method(method)
            {
                push("CycloneDX ratings[]", vector, score, Some(hint));
            }
            for child in o.values() {
                walk(child, file, area, out);
            }
        }
        Value::Array(a) => {
            for child in a {
                walk(child, file, area, out);
            }
        }
        _ => {}
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            // The Node.js WG's `index.json` repeats every record of its
            // folder; counting it would count each pair twice.
            .is_some_and(|n| (n.ends_with(".json") || n.ends_with(".golden")) && n != "index.json")
        {
            out.push(p);
        }
    }
}

/// The corpus area a file is in (its first two or three folders).
fn area(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let depth = if parts.first().is_some_and(|p| p == "extra") {
        3
    } else {
        2
    };
    parts
        .iter()
        .take(depth.min(parts.len().saturating_sub(1)))
        .cloned()
        .collect::<Vec<_>>()
        .join("/")
}

#[derive(Default, Debug)]
struct Tally {
    pairs: usize,
    equal: usize,
    /// The published score is not the base score: the vector carries
    /// temporal or environmental metrics and the publisher scored those.
    not_base: usize,
    publisher_differs: Vec<String>,
    unscorable: Vec<String>,
}

/// Whether a vector carries temporal, threat, environmental or
/// supplemental metrics with a value (not `X`, "not defined").
fn has_non_base_metrics(vector: &str) -> bool {
    const NON_BASE: &[&str] = &[
        "E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC",
        "MI", "MA", "MAT", "MVC", "MVI", "MVA", "MSC", "MSI", "MSA",
    ];
    metrics(vector)
        .iter()
        .any(|(k, v)| NON_BASE.contains(k) && *v != "X" && *v != "ND")
}

#[test]
fn independent_implementation_matches_known_scores() {
    // Published by NVD / FIRST: a sanity check of the checker itself.
    assert_eq!(
        independent_v3("AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", true),
        Some(10.0)
    );
    assert_eq!(
        independent_v3("AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N", true),
        Some(7.5)
    );
    assert_eq!(
        independent_v3("AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", true),
        Some(7.8)
    );
    assert_eq!(
        independent_v3("AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L", false),
        Some(1.8)
    );
    assert_eq!(
        independent_v3("AV:N/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L", false),
        Some(2.0)
    );
    assert_eq!(independent_v2("AV:N/AC:M/Au:N/C:C/I:C/A:C"), Some(9.3));
    assert_eq!(independent_v2("AV:N/AC:L/Au:N/C:P/I:P/A:P"), Some(7.5));
    assert_eq!(independent_v2("AV:L/AC:L/Au:N/C:P/I:N/A:N"), Some(2.1));
}

#[test]
fn cvss_scores_equal_the_published_scores() {
    let Some(root) = corpus() else { return };
    let mut paths = Vec::new();
    files(&root, &mut paths);
    let mut pairs = Vec::new();
    for p in &paths {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        if bytes.len() > 20 * 1024 * 1024 {
            continue;
        }
        let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let rel = p.strip_prefix(&root).unwrap_or(p).display().to_string();
        walk(&v, &rel, &area(&root, p), &mut pairs);
    }

    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for pair in &pairs {
        let t = tallies.entry(pair.source.clone()).or_default();
        t.pairs += 1;
        let scored = match pair.hint {
            Some(h) => cvss::score_as(&pair.vector, h),
            None => cvss::score(&pair.vector),
        };
        let ours = match scored {
            Ok(s) => s,
            Err(e) => {
                t.unscorable.push(format!("{}: {e}", pair.file));
                continue;
            }
        };
        let reference = independent(&ours.vector, ours.version);
        if let Some(r) = reference
            && (r - ours.base_score).abs() > 0.05
        {
            disagreements.push(format!(
                "{}: {} ours {} independent {r}",
                pair.file, ours.vector, ours.base_score
            ));
            continue;
        }
        if (ours.base_score - pair.published).abs() < 0.05 {
            t.equal += 1;
        } else if reference.is_some() && has_non_base_metrics(&ours.vector) {
            t.not_base += 1;
        } else if reference.is_some() {
            // Ours and the independent implementation agree: the published
            // number is not this vector's base score.
            t.publisher_differs.push(format!(
                "{}: {} scores {}, published {}",
                pair.file, ours.vector, ours.base_score, pair.published
            ));
        } else {
            disagreements.push(format!(
                "{}: {} (v4, no independent check) ours {} published {}",
                pair.file, ours.vector, ours.base_score, pair.published
            ));
        }
    }

    let total: usize = tallies.values().map(|t| t.pairs).sum();
    eprintln!("CVSS vector/score pairs in the corpus: {total}");
    for (source, t) in &tallies {
        eprintln!(
            "  {source}: {} pairs: {} equal; {} published a non-base (environmental) score; {} published a different base score (ours independently confirmed); {} unscorable",
            t.pairs,
            t.equal,
            t.not_base,
            t.publisher_differs.len(),
            t.unscorable.len()
        );
        for d in t.publisher_differs.iter().take(40) {
            eprintln!("      differs: {d}");
        }
        for u in &t.unscorable {
            eprintln!("      unscorable: {u}");
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    assert!(total > 1000, "only {total} pairs found");
    // Where the corpus states a score, we compute it for all but a few
    // vectors the CVSS specification does not allow (and those are refused,
    // never guessed).
    let unscorable: usize = tallies.values().map(|t| t.unscorable.len()).sum();
    assert!(
        unscorable * 100 <= total,
        "{unscorable} of {total} unscorable"
    );
    // Advisory databases state the base score: they agree with us nearly
    // always (the npm working group's hand arithmetic is off on a few).
    for (source, t) in &tallies {
        if source.starts_with("OSV")
            || source.starts_with("Node.js")
            || source.starts_with("GitHub")
        {
            assert!(
                t.publisher_differs.len() * 20 <= t.pairs,
                "{source}: {} of {} differ",
                t.publisher_differs.len(),
                t.pairs
            );
        }
    }
}
