//! Real data: the OSV corpus (Go, PyPI, crates.io, npm) imported into a
//! store, CVSS scores checked against the scores npm advisories published,
//! and the corpus CycloneDX SBOMs scanned against it (insta snapshots).
//!
//! The corpus is found through `PALISADE_CORPUS` (default: the shared corpus
//! beside the repository); without it each test prints `SKIPPED` and returns.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use palisade_advisory::matcher::resolve;
use palisade_advisory::severity::score_vector;
use palisade_advisory::{AdvisoryStore, ImportReport, Source};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        });
    if dir.join("osv").is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

const ECOSYSTEMS: [&str; 4] = ["Go", "PyPI", "crates.io", "npm"];

struct Imported {
    _tmp: tempfile::TempDir,
    store: AdvisoryStore,
    report: ImportReport,
    files: usize,
}

fn imported() -> Option<&'static Imported> {
    static STORE: OnceLock<Option<Imported>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let corpus = corpus()?;
            let tmp = tempfile::tempdir().unwrap();
            let mut store = AdvisoryStore::open(&tmp.path().join("advisories")).unwrap();
            let sources: Vec<Source> = ECOSYSTEMS
                .iter()
                .map(|e| Source::open(&corpus.join("osv").join(e)).unwrap())
                .collect();
            let files = sources.iter().map(|s| s.len_hint().unwrap() as usize).sum();
            let start = std::time::Instant::now();
            let report = store.import(&sources, &mut |_| {}).unwrap();
            eprintln!(
                "imported {} records in {:.2?}",
                report.total,
                start.elapsed()
            );
            Some(Imported {
                _tmp: tmp,
                store,
                report,
                files,
            })
        })
        .as_ref()
}

#[test]
fn the_whole_corpus_imports() {
    let Some(i) = imported() else { return };
    for r in &i.report.rejected {
        eprintln!("rejected: {} at {}: {}", r.origin, r.path, r.reason);
    }
    assert_eq!(i.report.counts.rejected, 0);
    assert_eq!(i.report.counts.new, i.files);
    assert_eq!(i.store.len(), i.files);
    assert!(
        i.store.meta().withdrawn > 0,
        "the corpus holds withdrawn records"
    );
    for eco in ECOSYSTEMS {
        assert!(
            i.store.meta().by_ecosystem.get(eco).copied().unwrap_or(0) > 100,
            "{eco}: {:?}",
            i.store.meta().by_ecosystem
        );
    }
    // Alias lookup and the reverse index on a known record.
    let a = i.store.get("CVE-2015-5688").unwrap().unwrap();
    assert_eq!(a.id, "NSWG-ECO-10");
    let keys = i.store.package_keys("NSWG-ECO-10").unwrap();
    assert_eq!(
        keys.iter().map(ToString::to_string).collect::<Vec<_>>(),
        vec!["npm/geddy"]
    );
}

#[test]
fn reimport_is_unchanged() {
    let Some(corpus) = corpus() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut store = AdvisoryStore::open(tmp.path()).unwrap();
    let src = || vec![Source::open(&corpus.join("osv/crates.io")).unwrap()];
    let first = store.import(&src(), &mut |_| {}).unwrap();
    let second = store.import(&src(), &mut |_| {}).unwrap();
    assert_eq!(second.counts.unchanged, first.counts.new);
    assert_eq!(second.counts.new + second.counts.updated, 0);
    assert_eq!(first.total, second.total);
}

/// Vectors whose score the Node.js security WG published by hand and got
/// wrong, with the base score computed by an independent implementation
/// (Red Hat's Python `cvss` 3.6, `CVSS3(vector).scores()[0]`), which ours
/// must equal.
const REFERENCE: &[(&str, f64)] = &[
    ("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L", 1.8),
    ("CVSS:3.0/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:N/A:N", 4.2),
    ("CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:C/C:L/I:L/A:N", 5.7),
    ("CVSS:3.0/AV:L/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", 5.1),
    ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N", 7.7),
    ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N", 7.7),
    ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", 8.1),
    ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:L", 6.3),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N", 8.6),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N", 8.6),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
    ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:N/A:N", 7.4),
];

/// The npm records keep the score the Node.js security WG published beside
/// the CVSS v3 vector; our computed base score must agree.
#[test]
fn cvss_scores_agree_with_published_npm_scores() {
    let Some(corpus) = corpus() else { return };
    let mut checked = 0;
    let mut mismatches = Vec::new();
    let mut unscorable = Vec::new();
    for entry in std::fs::read_dir(corpus.join("osv/npm")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let Some(published) = v["database_specific"]["cvss_score"].as_f64() else {
            continue;
        };
        let Some(vector) = v["severity"]
            .as_array()
            .and_then(|s| s.iter().find(|e| e["type"] == "CVSS_V3"))
            .and_then(|e| e["score"].as_str())
        else {
            continue;
        };
        let score = match score_vector(vector) {
            Ok((score, _)) => score,
            Err(reason) => {
                // A vector the CVSS specification does not allow has no
                // score; it must be refused, never guessed.
                unscorable.push(format!("{}: {vector}: {reason}", path.display()));
                continue;
            }
        };
        checked += 1;
        if let Some((_, reference)) = REFERENCE.iter().find(|(v, _)| *v == vector) {
            assert!(
                (score - reference).abs() < 0.05,
                "{vector}: {score}, reference {reference}"
            );
        } else if (score - published).abs() > 0.05 {
            mismatches.push(format!(
                "{}: {vector} scores {score}, published {published}",
                path.display()
            ));
        }
    }
    eprintln!("checked {checked} npm CVSS scores; refused {unscorable:#?}");
    assert!(unscorable.len() <= 5, "{unscorable:#?}");
    assert!(checked > 100, "only {checked} scores checked");
    // Every disagreement with the published score is one of the vectors
    // checked against the reference above.
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// A compact, reviewable rendering of a scan: findings and upgrades.
fn render(report: &palisade_advisory::MatchReport) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "components {} evaluated {} findings {} affected {}",
        report.components,
        report.evaluated,
        report.findings.len(),
        report.upgrades.len()
    )
    .unwrap();
    for f in &report.findings {
        let sev = f
            .severity
            .as_ref()
            .map_or("unknown".to_owned(), |s| match s.score {
                Some(x) => format!("{} {x:.1}", s.rating),
                None => s.rating.to_string(),
            });
        writeln!(
            out,
            "{} | {} | aliases {} | {} | fix {} | {}",
            f.component.purl.as_deref().unwrap_or(&f.component.name),
            f.ids.join(","),
            f.aliases.join(","),
            sev,
            f.fix.as_deref().unwrap_or("-"),
            f.matches
                .iter()
                .map(|m| format!(
                    "{} {}",
                    m.path,
                    m.interval.as_deref().or(m.version.as_deref()).unwrap_or("")
                ))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .unwrap();
    }
    for u in &report.upgrades {
        writeln!(
            out,
            "upgrade {} {} -> {}{}",
            u.component.purl.as_deref().unwrap_or(&u.component.name),
            u.current,
            u.to.as_deref().unwrap_or("none"),
            if u.still_affected_by.is_empty() {
                String::new()
            } else {
                format!(" (still affected by {})", u.still_affected_by.join(","))
            }
        )
        .unwrap();
    }
    out
}

fn scan(rel: &str) -> Option<String> {
    let i = imported()?;
    let corpus = corpus()?;
    let path = corpus.join("sbom/cyclonedx").join(rel);
    let bytes = std::fs::read(&path).unwrap();
    let inventory = palisade_sbom::read(&bytes, rel).unwrap();
    let distro = inventory.metadata.distro.as_ref();
    let queries: Vec<_> = inventory
        .components
        .iter()
        .filter_map(|c| resolve(c, distro).ok())
        .collect();
    let matcher = i
        .store
        .matcher_for(queries.iter().map(|q| (q.ecosystem, q.name.as_str())))
        .unwrap();
    let report = matcher.match_inventory(&inventory);
    // The lazily loaded matcher must agree with the full one.
    let full = i.store.matcher().unwrap().match_inventory(&inventory);
    assert_eq!(report.findings, full.findings, "{rel}");
    Some(render(&report))
}

#[test]
fn scan_juice_shop() {
    let Some(out) = scan("juice-shop/v11.1.2/bom.json") else {
        return;
    };
    insta::assert_snapshot!("juice_shop", out);
}

#[test]
fn scan_proton_bridge() {
    let Some(out) = scan("proton-bridge/proton-bridge-v1.8.0.bom.json") else {
        return;
    };
    insta::assert_snapshot!("proton_bridge_1_8_0", out);
}

#[test]
fn scan_cern_web_app() {
    let Some(out) = scan("cern-lhc-vdm-editor-e564943/bom.json") else {
        return;
    };
    insta::assert_snapshot!("cern_vdm_editor", out);
}
