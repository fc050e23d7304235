//! Benchmarks on the OSV corpus (Go, PyPI, crates.io, npm): import rate,
//! store open time, matching rate with the index built, and an end-to-end
//! scan of the largest corpus CycloneDX SBOM (store open included).
//!
//! Run: `cargo bench -p palisade-advisory --bench matcher`. The corpus is
//! found through `PALISADE_CORPUS` (default: the shared corpus beside the
//! repository); without it the benchmarks print `SKIPPED` and do nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use palisade_advisory::matcher::resolve;
use palisade_advisory::{AdvisoryStore, Query, Source};

const ECOSYSTEMS: [&str; 4] = ["Go", "PyPI", "crates.io", "npm"];
const BIG_SBOM: &str = "sbom/cyclonedx/juice-shop/v11.1.2/bom.json";

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

fn sources(corpus: &std::path::Path) -> Vec<Source> {
    ECOSYSTEMS
        .iter()
        .map(|e| Source::open(&corpus.join("osv").join(e)).unwrap())
        .collect()
}

fn benches(c: &mut Criterion) {
    let Some(corpus) = corpus() else { return };
    let records: u64 = sources(&corpus).iter().map(|s| s.len_hint().unwrap()).sum();

    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.throughput(Throughput::Elements(records));
    g.bench_function("corpus_into_empty_store", |b| {
        b.iter(|| {
            let tmp = tempfile::tempdir().unwrap();
            let mut store = AdvisoryStore::open(tmp.path()).unwrap();
            store.import(&sources(&corpus), &mut |_| {}).unwrap()
        });
    });
    g.finish();

    let tmp = tempfile::tempdir().unwrap();
    let mut store = AdvisoryStore::open(tmp.path()).unwrap();
    store.import(&sources(&corpus), &mut |_| {}).unwrap();
    c.bench_function("store_open", |b| {
        b.iter(|| AdvisoryStore::open(tmp.path()).unwrap())
    });

    // Queries: every component of the corpus SBOMs that resolves, plus, for
    // every indexed package, its first fixed version and a version below it.
    let matcher = store.matcher().unwrap();
    let mut queries: Vec<Query> = Vec::new();
    for rel in [
        BIG_SBOM,
        "sbom/cyclonedx/proton-bridge/proton-bridge-v1.8.0.bom.json",
    ] {
        let bytes = std::fs::read(corpus.join(rel)).unwrap();
        let inv = palisade_sbom::read(&bytes, rel).unwrap();
        queries.extend(inv.components.iter().filter_map(|c| resolve(c, None).ok()));
    }
    for a in matcher.advisories() {
        for aff in &a.affected {
            let Some(spec) = aff.ecosystem_spec() else {
                continue;
            };
            let fixed = aff
                .ranges
                .iter()
                .flat_map(|r| &r.events)
                .find_map(|e| e.fixed.clone());
            for v in fixed.into_iter().chain(["0.0.1".to_owned()]) {
                if let Ok(q) = Query::new(spec.ecosystem, None, &aff.name, &v) {
                    queries.push(q);
                }
            }
        }
    }
    let mut g = c.benchmark_group("match");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function("is_affected", |b| {
        b.iter(|| queries.iter().filter(|q| matcher.is_affected(q)).count());
    });
    g.bench_function("match_query", |b| {
        b.iter(|| {
            queries
                .iter()
                .map(|q| matcher.match_query(q).len())
                .sum::<usize>()
        });
    });
    g.finish();

    let mut g = c.benchmark_group("scan");
    g.sample_size(20);
    g.bench_function("juice_shop_end_to_end", |b| {
        b.iter(|| {
            let store = AdvisoryStore::open(tmp.path()).unwrap();
            let bytes = std::fs::read(corpus.join(BIG_SBOM)).unwrap();
            let inv = palisade_sbom::read(&bytes, BIG_SBOM).unwrap();
            let qs: Vec<Query> = inv
                .components
                .iter()
                .filter_map(|c| resolve(c, None).ok())
                .collect();
            let m = store
                .matcher_for(qs.iter().map(|q| (q.ecosystem, q.name.as_str())))
                .unwrap();
            m.match_inventory(&inv).findings.len()
        });
    });
    g.finish();
}

criterion_group!(all, benches);
criterion_main!(all);
