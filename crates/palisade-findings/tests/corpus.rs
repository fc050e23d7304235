//! Real scanner outputs from the shared corpus: every sample is read with
//! the count of results the sample itself states, computed here
//! independently from the raw JSON (`serde_json::Value`); samples that are
//! not scanner reports (SBOMs, XML, JUnit, tar files mislabelled `.json`,
//! empty files) must be refused with an error, never a panic.
//!
//! `corpus_report` prints how many raw results become how many merged
//! findings, per tool and combined:
//! `cargo test -p palisade-findings --test corpus corpus_report -- --nocapture`.
//!
//! The corpus is found through `PALISADE_CORPUS` (default: the shared
//! corpus beside the repository); without it each test prints `SKIPPED`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use palisade_findings::{Format, Import, ImportError, ImportOptions, import, merge};
use serde_json::Value;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.join("scanners").is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("LICENSE") || name.ends_with(".license") || name.ends_with(".md") {
            continue;
        }
        out.push(p);
    }
    out.sort();
    out
}

/// What a sample says about itself: its format and the number of results
/// that are findings (and the number of results in all), computed from the
/// raw JSON without the library.
#[derive(Debug, PartialEq)]
struct Stated {
    format: Format,
    findings: usize,
    results: usize,
}

fn arr<'a>(v: &'a Value, k: &str) -> &'a [Value] {
    v.get(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn stated(bytes: &[u8]) -> Option<Stated> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let v: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => return stated_falco_lines(bytes),
    };
    if v.get("runs").is_some_and(Value::is_array) {
        let mut results = 0;
        let mut findings = 0;
        for run in arr(&v, "runs") {
            for r in arr(run, "results") {
                results += 1;
                let kind = r.get("kind").and_then(Value::as_str).unwrap_or("fail");
                let absent = r.get("baselineState").and_then(Value::as_str) == Some("absent");
                if kind != "pass" && kind != "notApplicable" && !absent {
                    findings += 1;
                }
            }
        }
        return Some(Stated {
            format: Format::Sarif,
            findings,
            results,
        });
    }
    if v.get("SchemaVersion").is_some() {
        let (mut results, mut findings) = (0, 0);
        for r in arr(&v, "Results") {
            let n = arr(r, "Vulnerabilities").len()
                + arr(r, "Secrets").len()
                + arr(r, "Licenses").len();
            let m = arr(r, "Misconfigurations");
            let failed = m
                .iter()
                .filter(|m| m.get("Status").and_then(Value::as_str).unwrap_or("FAIL") == "FAIL")
                .count();
            results += n + m.len();
            findings += n + failed;
        }
        return Some(Stated {
            format: Format::Trivy,
            findings,
            results,
        });
    }
    if v.get("matches").is_some_and(Value::is_array) {
        let n = arr(&v, "matches").len();
        return Some(Stated {
            format: Format::Grype,
            findings: n,
            results: n,
        });
    }
    if v.get("site").is_some() && v.get("@version").is_some() {
        let sites: Vec<&Value> = match v.get("site") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(o) => vec![o],
            None => vec![],
        };
        let n: usize = sites
            .iter()
            .flat_map(|s| arr(s, "alerts"))
            .map(|a| arr(a, "instances").len().max(1))
            .sum();
        // ZAP states the instance count of each alert in `count`.
        let counted: usize = sites
            .iter()
            .flat_map(|s| arr(s, "alerts"))
            .map(|a| {
                a.get("count")
                    .and_then(|c| {
                        c.as_str()
                            .and_then(|s| s.parse().ok())
                            .or(c.as_u64().map(|u| u as usize))
                    })
                    .unwrap_or(1)
            })
            .sum();
        assert_eq!(n, counted, "ZAP instances vs stated counts");
        return Some(Stated {
            format: Format::Zap,
            findings: n,
            results: n,
        });
    }
    let results = arr(&v, "results");
    if v.get("results").is_some_and(Value::is_array)
        && v.get("errors").is_none()
        && results
            .iter()
            .all(|r| r.get("packages").is_some() || r.get("source").is_some())
    {
        let n: usize = results
            .iter()
            .flat_map(|r| arr(r, "packages"))
            .map(|p| arr(p, "vulnerabilities").len())
            .sum();
        return Some(Stated {
            format: Format::OsvScanner,
            findings: n,
            results: n,
        });
    }
    if v.get("rule").is_some() && v.get("priority").is_some() {
        return Some(Stated {
            format: Format::Falco,
            findings: 1,
            results: 1,
        });
    }
    None
}

fn stated_falco_lines(bytes: &[u8]) -> Option<Stated> {
    let text = std::str::from_utf8(bytes).ok()?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let events = lines
        .iter()
        .filter(|l| {
            serde_json::from_str::<Value>(l)
                .ok()
                .is_some_and(|v| v.get("rule").is_some() && v.get("priority").is_some())
        })
        .count();
    (events > 0).then_some(Stated {
        format: Format::Falco,
        findings: events,
        results: lines.len(),
    })
}

struct Checked {
    imports: Vec<Import>,
    refused: Vec<(String, ImportError)>,
}

/// Reads every file under `dirs`; each must be imported with its stated
/// count, or refused when it states no supported format.
fn check(corpus: &Path, dirs: &[&str]) -> Checked {
    let mut out = Checked {
        imports: Vec::new(),
        refused: Vec::new(),
    };
    let options = ImportOptions::default();
    for d in dirs {
        let dir = corpus.join(d);
        if !dir.is_dir() {
            eprintln!("SKIPPED: {} is absent", dir.display());
            continue;
        }
        for path in files(&dir) {
            let name = path.strip_prefix(corpus).unwrap().display().to_string();
            let bytes = std::fs::read(&path).unwrap();
            let expect = stated(&bytes);
            let got = import(&bytes, &name, None, &options);
            match (expect, got) {
                (Some(s), Ok(i)) => {
                    assert_eq!(i.format, s.format, "{name}: format");
                    assert_eq!(i.findings.len(), s.findings, "{name}: findings");
                    assert_eq!(i.stats.imported, s.findings, "{name}: imported");
                    assert_eq!(i.stats.results, s.results, "{name}: results");
                    eprintln!(
                        "ok {name}: {} {} results, {} findings{}",
                        i.format,
                        i.stats.results,
                        i.findings.len(),
                        if i.warnings.is_empty() {
                            String::new()
                        } else {
                            format!(", {} warnings", i.warnings.len())
                        }
                    );
                    out.imports.push(i);
                }
                (Some(s), Err(e)) => panic!("{name}: states {s:?} but was refused: {e}"),
                (None, Ok(i)) => panic!(
                    "{name}: states no supported format but was read as {} with {} findings",
                    i.format,
                    i.findings.len()
                ),
                (None, Err(e)) => {
                    assert_eq!(e.document(), name);
                    eprintln!("refused {name}: {e}");
                    out.refused.push((name, e));
                }
            }
        }
    }
    out
}

#[test]
fn sarif_samples() {
    let Some(c) = corpus() else { return };
    let r = check(&c, &["scanners/sarif", "extra/scanners/sarif"]);
    assert!(r.imports.len() >= 200, "{}", r.imports.len());
    // Only the empty files, the validator's syntax-error input and an
    // external property file (no results of its own) are refused.
    for (name, e) in &r.refused {
        let external =
            name.contains("external-properties") && matches!(e, ImportError::UnknownFormat { .. });
        assert!(
            external || matches!(e, ImportError::Empty { .. } | ImportError::Syntax { .. }),
            "{name}: {e}"
        );
    }
    let results: usize = r.imports.iter().map(|i| i.stats.results).sum();
    eprintln!("{} SARIF documents, {results} results", r.imports.len());
}

#[test]
fn trivy_samples() {
    let Some(c) = corpus() else { return };
    let r = check(&c, &["scanners/trivy"]);
    let reports = r
        .imports
        .iter()
        .filter(|i| i.format == Format::Trivy)
        .count();
    assert!(reports >= 55, "{reports}");
    for (name, e) in &r.refused {
        assert!(
            matches!(e, ImportError::UnknownFormat { .. }),
            "{name}: {e}"
        );
    }
}

#[test]
fn grype_samples() {
    let Some(c) = corpus() else { return };
    let r = check(&c, &["scanners/grype", "extra/scanners/grype"]);
    let reports = r
        .imports
        .iter()
        .filter(|i| i.format == Format::Grype)
        .count();
    assert!(reports >= 3, "{reports}");
    // The two image fixtures named `.json` are tar archives.
    let tars = r
        .refused
        .iter()
        .filter(|(_, e)| e.to_string().contains("tar archive"))
        .count();
    assert_eq!(tars, 2, "{:?}", r.refused);
}

#[test]
fn osv_scanner_samples() {
    let Some(c) = corpus() else { return };
    let r = check(&c, &["extra/scanners/osv-scanner"]);
    let reports = r
        .imports
        .iter()
        .filter(|i| i.format == Format::OsvScanner)
        .count();
    assert!(reports >= 10 || r.imports.is_empty(), "{reports}");
}

#[test]
fn zap_samples() {
    let Some(c) = corpus() else { return };
    let r = check(&c, &["extra/scanners/zap"]);
    for (name, e) in &r.refused {
        assert!(
            e.to_string().contains("XML"),
            "{name}: only ZAP's XML reports may be refused: {e}"
        );
    }
}

#[test]
fn falco_samples() {
    let Some(c) = corpus() else { return };
    let r = check(&c, &["extra/scanners/falco"]);
    assert!(r.refused.is_empty(), "{:?}", r.refused);
}

#[test]
fn other_formats_in_the_corpus_never_panic() {
    let Some(c) = corpus() else { return };
    // Native Semgrep and Bandit JSON and SBOMs: refused with a reason.
    for d in [
        "extra/scanners/semgrep",
        "extra/scanners/bandit",
        "sbom/cyclonedx",
    ] {
        for path in files(&c.join(d)) {
            let bytes = std::fs::read(&path).unwrap();
            if let Err(e) = import(&bytes, "x", None, &ImportOptions::default()) {
                assert!(!e.to_string().is_empty());
            }
        }
    }
}

/// Raw results → merged findings, per tool and combined: "merged per
/// document" merges each file on its own (one upload), "merged together"
/// merges every file of the row as if uploaded for one artifact (re-uploads
/// and overlapping tools collapse).
#[test]
fn corpus_report() {
    let Some(c) = corpus() else { return };
    let groups: [(&str, &[&str]); 8] = [
        ("scanners/sarif", &["scanners/sarif"]),
        ("scanners/trivy", &["scanners/trivy"]),
        ("scanners/grype", &["scanners/grype"]),
        ("extra/scanners/sarif", &["extra/scanners/sarif"]),
        ("extra/scanners/grype", &["extra/scanners/grype"]),
        (
            "extra/scanners/osv-scanner",
            &["extra/scanners/osv-scanner"],
        ),
        ("extra/scanners/zap", &["extra/scanners/zap"]),
        ("extra/scanners/falco", &["extra/scanners/falco"]),
    ];
    let mut primary = Vec::new();
    let mut all = Vec::new();
    let mut rows = Vec::new();
    for (label, dirs) in groups {
        let r = check(&c, dirs);
        // By the format actually read (Grype's folder holds SARIF too).
        let mut by_format: BTreeMap<Format, Vec<&Import>> = BTreeMap::new();
        for i in &r.imports {
            by_format.entry(i.format).or_default().push(i);
        }
        for (format, imports) in by_format {
            let raw: usize = imports.iter().map(|i| i.findings.len()).sum();
            let per_doc: usize = imports
                .iter()
                .map(|i| merge(i.findings.iter().cloned()).findings.len())
                .sum();
            let merged = merge(imports.iter().flat_map(|i| i.findings.iter().cloned()));
            assert!(merged.findings.len() <= per_doc && per_doc <= raw);
            rows.push((
                format!("{label} ({format})"),
                imports.len(),
                raw,
                per_doc,
                merged.findings.len(),
            ));
            let these = imports.iter().flat_map(|i| i.findings.iter().cloned());
            if label.starts_with("scanners/") {
                primary.extend(these.clone());
            }
            all.extend(these);
        }
    }
    let line = |label: &str, docs: String, raw: usize, per_doc: String, merged: usize| {
        eprintln!("{label:<42} {docs:>5} {raw:>8} {per_doc:>15} {merged:>16}");
    };
    eprintln!();
    eprintln!(
        "{:<42} {:>5} {:>8} {:>15} {:>16}",
        "corpus folder (format read)", "docs", "raw", "merged per doc", "merged together"
    );
    for (label, docs, raw, per_doc, merged) in &rows {
        line(label, docs.to_string(), *raw, per_doc.to_string(), *merged);
    }
    let primary_raw = primary.len();
    let primary_merged = merge(primary);
    line(
        "combined scanners/ (sarif, trivy, grype)",
        "-".into(),
        primary_raw,
        "-".into(),
        primary_merged.findings.len(),
    );
    let raw = all.len();
    let merged = merge(all);
    line(
        "combined, every folder",
        rows.iter().map(|r| r.1).sum::<usize>().to_string(),
        raw,
        rows.iter().map(|r| r.3).sum::<usize>().to_string(),
        merged.findings.len(),
    );
    let multi_tool = merged.findings.iter().filter(|f| f.tools.len() > 1).count();
    eprintln!(
        "{multi_tool} merged findings are reported by more than one tool; {} alias links refused by the CVE guard",
        merged.notes.len()
    );
    assert!(merged.findings.len() < raw);
}
