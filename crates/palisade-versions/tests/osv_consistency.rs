//! Real OSV records against themselves: every version an advisory lists in
//! `affected[].versions` should lie inside that entry's own `SEMVER` and
//! `ECOSYSTEM` ranges, evaluated by this crate.
//!
//! Where a record lists versions, OSV (or the database that published it)
//! usually produced the list by enumerating the package's published versions
//! and keeping those the ranges cover, under the ecosystem's order. So a
//! version that is listed but evaluates as outside the ranges is either a
//! defect in our ordering or parsing, or an inconsistency in the record. The
//! test reports the agreement rate per ecosystem and every disagreement, and
//! fails only below a high threshold or on a *clear* defect: a listed version
//! the ecosystem cannot parse (never expected of real data; the record's own
//! version list went through the package manager).
//!
//! Result on the corpus (2026-11): 173,036 of 173,060 listed versions
//! (99.986%) lie inside their entry's ranges; no listed version fails to
//! parse. The 24 others are all inconsistencies of the records, not of the
//! ordering (the test prints each):
//!
//! - **The fix listed as affected** (PyPI: `wagtail 2.11.6` with `fixed:
//!   2.11.6`, `gevent 23.9.0` and `23.9.0.post1` with `fixed: 23.9.0`,
//!   `pyspark 3.1.1..3.1.3` with `fixed: 3.1.1`): the list was enumerated
//!   from git tags or by hand and disagrees with the range's own `fixed`.
//! - **Pre-releases below `introduced`** (PyPI `django 3.2a1`, `4.2rc1`...
//!   with `introduced: 3.2`, `4.2`): PEP 440 orders `3.2a1 < 3.2` beyond
//!   doubt; the record's range forgot the pre-releases its list names.
//! - **An older Maven order** (GHSA `tomcat-coyote 9.0.0.M1..M10` listed
//!   with `introduced: 9.0.0-M11`): before MNG-7644 (Maven 3.8.6 and older)
//!   the `0` of `9.0.0.M1` beat the list `-M11`, so `9.0.0.M1 > 9.0.0-M11`;
//!   every Maven since reads `.M1` as `-M1`, milestone 1 < milestone 11. The
//!   list was enumerated with the old order.
//! - **Lists that add points outside the ranges, on purpose** (the converted
//!   npm records, `NSWG-ECO-151`, `332`, `391`): their original range was
//!   `>= 1.0.0 < 1.4.6 || 2.0.0`, and the conversion put the lone `2.0.0` in
//!   `versions`. There the list is not an enumeration of the range, so these
//!   are not errors at all.
//!
//! Entries with no evaluable range (GIT only, as most OSS-Fuzz ones) are
//! skipped and counted.
//!
//! Corpus: `$PALISADE_CORPUS/osv` (Go, PyPI, crates.io, npm) and, when
//! present, `$PALISADE_CORPUS/extra/osv` (except the OSV linter's deliberately
//! broken records). A missing corpus skips with a visible `SKIPPED:` line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_versions::{AffectedRanges, EcosystemSpec, OsvAffected, RangeStatus, Version};

fn corpus_dir() -> PathBuf {
    match std::env::var_os("PALISADE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

fn json_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "osv-linter-testdata") {
                continue;
            }
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[derive(Default)]
struct Stats {
    entries: usize,
    skipped_no_range: usize,
    skipped_bad_range: usize,
    versions: usize,
    agree: usize,
    outside: Vec<String>,
    unparsable: Vec<String>,
}

/// Checks every entry with a `versions` list; returns per-ecosystem stats
/// and the ecosystem names we do not know.
fn check(files: &[PathBuf]) -> (BTreeMap<String, Stats>, BTreeMap<String, usize>) {
    let mut stats: BTreeMap<String, Stats> = BTreeMap::new();
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let id = record["id"].as_str().unwrap_or("?").to_owned();
        let Some(affected) = record["affected"].as_array() else {
            continue;
        };
        for a in affected {
            let Ok(entry) = serde_json::from_value::<OsvAffected>(a.clone()) else {
                continue;
            };
            if entry.versions.is_empty() {
                continue;
            }
            let eco_name = entry
                .package
                .as_ref()
                .and_then(|p| p.ecosystem.clone())
                .unwrap_or_default();
            let Ok(spec) = eco_name.parse::<EcosystemSpec>() else {
                *unknown.entry(eco_name).or_default() += 1;
                continue;
            };
            let eco = spec.ecosystem;
            let s = stats.entry(eco.as_str().to_owned()).or_default();
            s.entries += 1;
            // The ranges alone: the listed versions must not answer for
            // themselves.
            let ranges_only = OsvAffected {
                versions: Vec::new(),
                ..entry.clone()
            };
            let compiled = match AffectedRanges::compile(eco, &ranges_only) {
                Ok(c) => c,
                Err(e) => {
                    s.skipped_bad_range += 1;
                    eprintln!("  {id}: ranges do not compile: {e}");
                    continue;
                }
            };
            if !compiled
                .ranges()
                .iter()
                .any(|r| *r.status() == RangeStatus::Evaluable)
            {
                s.skipped_no_range += 1;
                continue;
            }
            let name = entry
                .package
                .as_ref()
                .and_then(|p| p.name.clone())
                .unwrap_or_default();
            for listed in &entry.versions {
                s.versions += 1;
                match Version::parse(eco, listed) {
                    Err(e) => s.unparsable.push(format!("{id} {name} {listed:?}: {e}")),
                    Ok(v) if compiled.is_affected(&v) => s.agree += 1,
                    Ok(_) => {
                        let ranges: Vec<String> = compiled
                            .ranges()
                            .iter()
                            .filter(|r| *r.status() == RangeStatus::Evaluable)
                            .map(|r| {
                                let ivs: Vec<String> =
                                    r.set().intervals().iter().map(|i| i.to_string()).collect();
                                format!("{} {}", r.kind(), ivs.join(" "))
                            })
                            .collect();
                        s.outside.push(format!(
                            "{id} {name} {listed}: outside {}",
                            ranges.join("; ")
                        ));
                    }
                }
            }
        }
    }
    (stats, unknown)
}

#[test]
fn listed_versions_lie_inside_their_own_ranges() {
    let corpus = corpus_dir();
    let mut files = Vec::new();
    json_files(&corpus.join("osv"), &mut files);
    if files.is_empty() {
        eprintln!(
            "SKIPPED: corpus not found at {}",
            corpus.join("osv").display()
        );
        return;
    }
    json_files(&corpus.join("extra").join("osv"), &mut files);
    files.sort();
    let (stats, unknown) = check(&files);

    eprintln!(
        "{:<14} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}  agreement",
        "ecosystem", "entries", "no-range", "versions", "agree", "outside", "unparsed"
    );
    let (mut versions, mut agree) = (0usize, 0usize);
    let mut clear_defects = Vec::new();
    for (eco, s) in &stats {
        let rate = if s.versions == 0 {
            100.0
        } else {
            100.0 * s.agree as f64 / s.versions as f64
        };
        eprintln!(
            "{:<14} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}  {:.3}%",
            eco,
            s.entries,
            s.skipped_no_range + s.skipped_bad_range,
            s.versions,
            s.agree,
            s.outside.len(),
            s.unparsable.len(),
            rate
        );
        versions += s.versions;
        agree += s.agree;
        clear_defects.extend(s.unparsable.iter().cloned());
    }
    for (eco, s) in &stats {
        if s.outside.is_empty() {
            continue;
        }
        eprintln!("{eco}: listed versions outside the entry's own ranges:");
        for line in &s.outside {
            eprintln!("  {line}");
        }
    }
    if !unknown.is_empty() {
        eprintln!("entries of ecosystems outside the OSV list (not checked): {unknown:?}");
    }
    let rate = 100.0 * agree as f64 / versions.max(1) as f64;
    eprintln!("overall: {agree} of {versions} listed versions inside their ranges ({rate:.3}%)");

    assert!(
        versions > 0,
        "no listed versions found under {}",
        corpus.display()
    );
    assert!(
        clear_defects.is_empty(),
        "listed versions the ecosystem cannot parse:\n{}",
        clear_defects.join("\n")
    );
    // Record inconsistencies are a few per thousand; a broken ordering would
    // show as whole advisories disagreeing.
    assert!(rate >= 99.0, "agreement {rate:.3}% is below 99%");
    for (eco, s) in &stats {
        if s.versions >= 200 {
            let r = 100.0 * s.agree as f64 / s.versions as f64;
            assert!(r >= 98.0, "{eco}: agreement {r:.3}% is below 98%");
        }
    }
}
