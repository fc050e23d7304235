//! Parse throughput (MB/s) on the largest corpus SBOMs: the biggest
//! CycloneDX JSON and XML documents (OWASP Juice Shop via npm, ~2 MB) and
//! the biggest SPDX tag-value and JSON documents (istio-release and
//! constellation from bom-shelter). The target is at least 150 MB/s on the
//! largest one. Run with `cargo bench -p palisade-sbom --bench parse`.
//! Without the corpus the benchmarks print a `SKIPPED` line and do nothing.

use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

const FILES: &[(&str, &str)] = &[
    (
        "cyclonedx-json-1.4",
        "sbom/cyclonedx/juice-shop/via_npm/bare/bom.1.4.json",
    ),
    (
        "cyclonedx-xml-1.4",
        "sbom/cyclonedx/juice-shop/via_npm/bare/bom.1.4.xml",
    ),
    (
        "spdx-tag-value-istio",
        "extra/sbom/spdx-bom-shelter-in-the-wild/istio-release.spdx",
    ),
    (
        "spdx-json-constellation",
        "extra/sbom/spdx-bom-shelter-in-the-wild/constellation-spdx.json",
    ),
];

fn parse(c: &mut Criterion) {
    let Some(root) = corpus() else { return };
    let mut group = c.benchmark_group("read");
    for (name, rel) in FILES {
        let Ok(bytes) = std::fs::read(root.join(rel)) else {
            eprintln!("SKIPPED: {rel} not in the corpus");
            continue;
        };
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                palisade_sbom::read(std::hint::black_box(&bytes), rel).map(|i| i.components.len())
            })
        });
    }
    group.finish();
}

fn write(c: &mut Criterion) {
    let Some(root) = corpus() else { return };
    let Ok(bytes) = std::fs::read(root.join("sbom/cyclonedx/juice-shop/via_npm/bare/bom.1.4.json"))
    else {
        return;
    };
    let Ok(inv) = palisade_sbom::read(&bytes, "juice-shop") else {
        return;
    };
    let mut group = c.benchmark_group("write");
    for format in palisade_sbom::Format::ALL {
        group.bench_function(format.as_str(), |b| {
            b.iter(|| {
                palisade_sbom::write(
                    std::hint::black_box(&inv),
                    *format,
                    &palisade_sbom::WriteOptions::default(),
                )
                .map(|v| v.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse, write);
criterion_main!(benches);
