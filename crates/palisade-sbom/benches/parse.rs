//! Parse throughput (MB/s) on the largest corpus SBOMs. `read/largest` is
//! whichever file under `sbom/` is biggest when the bench runs (today the
//! Juice Shop CycloneDX 1.4 XML, 1,997,770 bytes), so a changed corpus is
//! measured too; the others are the biggest CycloneDX JSON and XML documents
//! (OWASP Juice Shop via npm, ~2 MB) and the biggest SPDX tag-value and JSON
//! documents (istio-release and constellation from bom-shelter). The target
//! is at least 150 MB/s on the largest one. Run with `cargo bench -p
//! palisade-sbom --bench parse`. The `read-cpu` group repeats `read`
//! measuring the thread's CPU time (see `support/cputime.rs`), which other
//! load on a shared machine does not inflate. Without the corpus the
//! benchmarks print a `SKIPPED` line and do nothing.

use std::path::{Path, PathBuf};

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/cputime.rs"]
mod cputime;

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

/// The biggest file under `sbom/` (any format), relative to the corpus root.
fn largest(root: &Path) -> Option<String> {
    let mut best: Option<(u64, PathBuf)> = None;
    let mut stack = vec![root.join("sbom")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if best
                .as_ref()
                .is_none_or(|(size, p)| meta.len() > *size || (meta.len() == *size && path < *p))
            {
                best = Some((meta.len(), path));
            }
        }
    }
    let (_, path) = best?;
    Some(path.strip_prefix(root).ok()?.to_string_lossy().into_owned())
}

fn parse(c: &mut Criterion) {
    parse_in(c, "read");
}

fn parse_cpu(c: &mut Criterion<cputime::CpuTime>) {
    if cputime::available() {
        parse_in(c, "read-cpu");
    }
}

fn parse_in<M: Measurement>(c: &mut Criterion<M>, group: &str) {
    let Some(root) = corpus() else { return };
    let mut files: Vec<(String, String)> = Vec::new();
    if let Some(rel) = largest(&root) {
        eprintln!("largest corpus SBOM: {rel}");
        files.push(("largest".to_owned(), rel));
    }
    files.extend(
        FILES
            .iter()
            .map(|(n, r)| ((*n).to_owned(), (*r).to_owned())),
    );
    let mut group = c.benchmark_group(group);
    for (name, rel) in &files {
        let Ok(bytes) = std::fs::read(root.join(rel)) else {
            eprintln!("SKIPPED: {rel} not in the corpus");
            continue;
        };
        // Decimal: criterion then reports MB/s, the unit of the target.
        group.throughput(Throughput::BytesDecimal(bytes.len() as u64));
        group.bench_function(name.as_str(), |b| {
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
criterion_group! {
    name = benches_cpu;
    config = Criterion::default().with_measurement(cputime::CpuTime);
    targets = parse_cpu
}
criterion_main!(benches, benches_cpu);
