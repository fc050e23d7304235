//! Comparison speed: pre-parsed versions (target: at least 20 million
//! comparisons per second on one core) and parse-plus-compare of strings
//! (target: at least 3 million pairs per second), per scheme.
//!
//! The versions are real: every version named in the corpus's OSV records
//! of the scheme's ecosystems and in the osv-scalibr fixture of the scheme
//! (`$PALISADE_CORPUS`, default `../shared/corpus`), or a built-in list of
//! typical versions when the corpus is absent. The pairs are a fixed
//! pseudo-random sample of that list, so neighbours in the list (often
//! sharing a prefix) and distant versions are both measured.
//!
//! Run: `cargo bench -p palisade-versions --bench compare`. Criterion prints
//! the rate per benchmark as `thrpt: [.. Melem/s ..]` (one element is one
//! comparison, or one parse of each side plus the comparison).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use palisade_versions::fixture::comparisons;
use palisade_versions::{EcosystemSpec, Scheme, Version};

/// How many pairs each benchmark iteration compares.
const PAIRS: usize = 4096;
/// The most distinct versions kept per scheme.
const MAX_VERSIONS: usize = 5000;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("PALISADE_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    }
}

/// A scheme to measure: where its real versions are, and a fallback list.
struct Case {
    name: &'static str,
    scheme: Scheme,
    osv_dirs: &'static [&'static str],
    fixture: &'static str,
    builtin: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "semver",
        scheme: Scheme::SemVer,
        osv_dirs: &["osv/crates.io", "extra/osv/bitnami"],
        fixture: "semver-versions.txt",
        builtin: &[
            "0.1.0",
            "0.2.3",
            "1.0.0",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-beta.2",
            "1.0.0-rc.1",
            "1.2.3",
            "1.2.10",
            "1.10.0",
            "2.0.0",
            "2.0.0+build.5",
            "0.9.17",
            "3.4.5-pre.0",
        ],
    },
    Case {
        name: "pep440",
        scheme: Scheme::Pep440,
        osv_dirs: &["osv/PyPI"],
        fixture: "pypi-versions.txt",
        builtin: &[
            "1.0",
            "1.0.0",
            "1.0a1",
            "1.0b2",
            "1.0rc1",
            "1.0.post1",
            "1.0.dev3",
            "2.0",
            "2.1.3",
            "1!0.5",
            "0.9.8",
            "1.0+local.1",
            "3.2.19",
            "4.1.9",
            "22.3.1",
            "2023.1",
        ],
    },
    Case {
        name: "maven",
        scheme: Scheme::Maven,
        osv_dirs: &[
            "extra/osv/ghsa-samples",
            "extra/osv/ghsa-to-osv-conversion-pairs",
        ],
        fixture: "maven-versions.txt",
        builtin: &[
            "1.0",
            "1.0.0",
            "1.0-SNAPSHOT",
            "1.0-alpha-1",
            "1.0-beta-2",
            "1.0-RC1",
            "1.0.RC1",
            "2.13.4.2",
            "9.0.44",
            "9.0.0.M11",
            "5.3.18.RELEASE",
            "1.2.3.Final",
            "31.1-jre",
            "2.17.1",
            "1.0-sp1",
            "3.0.0-M5",
        ],
    },
    Case {
        name: "dpkg",
        scheme: Scheme::Dpkg,
        osv_dirs: &[
            "extra/osv/osv-scanner-offline-db-samples",
            "extra/osv/osv-dev-website-samples",
        ],
        fixture: "debian-versions.txt",
        builtin: &[
            "1.0-1",
            "1:2.3.4-5",
            "2.36.1-8+deb11u1",
            "1.1.1n-0+deb11u3",
            "3.0.2-0ubuntu1.10",
            "7.74.0-1.3+deb11u7",
            "1.0~rc1-1",
            "2:8.2.2434-3+deb11u1",
            "0.9.8",
            "5.1-6",
            "2.31-13+deb11u5",
            "1.2.11.dfsg-2+deb11u2",
        ],
    },
    Case {
        name: "rpm",
        scheme: Scheme::Rpm,
        osv_dirs: &["extra/osv/almalinux"],
        fixture: "redhat-versions.txt",
        builtin: &[
            "1.0-1.el8",
            "0:2.28-189.el9",
            "1:1.1.1k-7.el8_6",
            "3.6.8-47.el8_6",
            "4.18.0-372.9.1.el8",
            "2.9.6-15.el8",
            "1.0~rc1-1",
            "1.0^20200101git-1",
            "7.61.1-22.el8_6.4",
            "2.02-123.el8",
        ],
    },
    Case {
        name: "npm",
        scheme: Scheme::Npm,
        osv_dirs: &["osv/npm"],
        fixture: "semver-versions.txt",
        builtin: &[
            "1.0.0",
            "1.2.3",
            "4.17.21",
            "0.0.1-security",
            "2.0.0-beta.1",
            "3.0.0-rc.0",
        ],
    },
    Case {
        name: "go",
        scheme: Scheme::Go,
        osv_dirs: &["osv/Go"],
        fixture: "",
        builtin: &[
            "v1.0.0",
            "v1.2.3",
            "v0.0.0-20191109021931-daa7c04131f5",
            "v2.0.0+incompatible",
            "v1.19.4",
            "v0.3.8-0.20201222200000-abcdefabcdef",
        ],
    },
];

fn json_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Every version of `case`'s scheme named in its OSV records and fixture.
fn corpus_versions(case: &Case) -> Vec<String> {
    let corpus = corpus_dir();
    let mut out = Vec::new();
    let mut files = Vec::new();
    for dir in case.osv_dirs {
        json_files(&corpus.join(dir), &mut files);
    }
    files.sort();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(record) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        for a in record["affected"].as_array().into_iter().flatten() {
            let eco = a["package"]["ecosystem"].as_str().unwrap_or_default();
            let Ok(spec) = eco.parse::<EcosystemSpec>() else {
                continue;
            };
            if spec.ecosystem.scheme() != case.scheme {
                continue;
            }
            for range in a["ranges"].as_array().into_iter().flatten() {
                if range["type"] == "GIT" {
                    continue;
                }
                for event in range["events"].as_array().into_iter().flatten() {
                    for key in ["introduced", "fixed", "last_affected"] {
                        if let Some(v) = event[key].as_str()
                            && v != "0"
                        {
                            out.push(v.to_owned());
                        }
                    }
                }
            }
            for v in a["versions"].as_array().into_iter().flatten() {
                if let Some(v) = v.as_str() {
                    out.push(v.to_owned());
                }
            }
        }
    }
    if !case.fixture.is_empty()
        && let Ok(text) = std::fs::read_to_string(corpus.join("versions").join(case.fixture))
    {
        for line in comparisons(&text) {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if let [a, _, b] = parts.as_slice() {
                out.push((*a).to_owned());
                out.push((*b).to_owned());
            }
        }
    }
    out
}

/// The versions to measure: real ones when the corpus has enough, the
/// built-in list otherwise; only those the scheme parses, deduplicated.
fn versions(case: &Case) -> Vec<String> {
    let mut list = corpus_versions(case);
    let source = if list.len() >= 50 {
        "corpus"
    } else {
        "built-in"
    };
    if list.len() < 50 {
        list = case.builtin.iter().map(|s| (*s).to_owned()).collect();
    }
    list.sort();
    list.dedup();
    list.retain(|s| {
        let s = if case.scheme == Scheme::Go && !s.starts_with('v') {
            format!("v{s}")
        } else {
            s.clone()
        };
        Version::parse_scheme(case.scheme, &s).is_ok()
    });
    if case.scheme == Scheme::Go {
        for s in &mut list {
            if !s.starts_with('v') {
                s.insert(0, 'v');
            }
        }
    }
    // Keep a spread-out subset, in a fixed order.
    let step = list.len().div_ceil(MAX_VERSIONS).max(1);
    let list: Vec<String> = list.into_iter().step_by(step).collect();
    eprintln!("{}: {} distinct versions ({source})", case.name, list.len());
    list
}

/// A fixed pseudo-random sample of index pairs.
fn pairs(n: usize) -> Vec<(usize, usize)> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % n.max(1) as u64).unwrap_or(0)
    };
    (0..PAIRS)
        .map(|i| {
            // Half neighbours (shared prefixes), half anywhere.
            let a = next();
            let b = if i % 2 == 0 {
                (a + 1) % n.max(1)
            } else {
                next()
            };
            (a, b)
        })
        .collect()
}

fn bench_compare(c: &mut Criterion) {
    for case in CASES {
        let list = versions(case);
        if list.len() < 2 {
            continue;
        }
        let parsed: Vec<Version> = list
            .iter()
            .map(|s| Version::parse_scheme(case.scheme, s).unwrap())
            .collect();
        let idx = pairs(list.len());
        let parsed_pairs: Vec<(&Version, &Version)> =
            idx.iter().map(|&(a, b)| (&parsed[a], &parsed[b])).collect();
        let string_pairs: Vec<(&str, &str)> = idx
            .iter()
            .map(|&(a, b)| (list[a].as_str(), list[b].as_str()))
            .collect();

        let mut group = c.benchmark_group("compare");
        group.throughput(Throughput::Elements(PAIRS as u64));
        group.bench_with_input(
            BenchmarkId::new("pre-parsed", case.name),
            &parsed_pairs,
            |b, pairs| {
                b.iter(|| {
                    let mut less = 0usize;
                    for (x, y) in pairs {
                        less += usize::from(black_box(*x).cmp(black_box(*y)).is_lt());
                    }
                    less
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("parse+compare", case.name),
            &string_pairs,
            |b, pairs| {
                let scheme = case.scheme;
                b.iter(|| {
                    let mut less = 0usize;
                    for (x, y) in pairs {
                        let x = Version::parse_scheme(scheme, black_box(x)).unwrap();
                        let y = Version::parse_scheme(scheme, black_box(y)).unwrap();
                        less += usize::from(x.cmp(&y).is_lt());
                    }
                    less
                });
            },
        );
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(700))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = bench_compare
}
criterion_main!(benches);
