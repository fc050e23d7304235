//! Inventory speed on large generated inputs: 10,000-entry lockfiles of each
//! common format (target: under 100 ms each), and a multi-hundred-megabyte
//! `docker save` archive streamed from disk.
//!
//! Inputs are generated here, deterministically, so no large fixture is
//! committed. The image bench writes its archive to a temporary directory
//! once and times `catalog_path` on it; memory use stays bounded because
//! layers are streamed (see `bench/catalog/README.md` for a peak-RSS check).
//!
//! The `lockfile-10k-cpu` group repeats the lockfile benches measuring the
//! thread's CPU time instead of wall time (see `palisade-sbom/benches/support/cputime.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{Criterion, criterion_group, criterion_main};
use palisade_catalog::lockfile::{self, LockfileKind};
use palisade_catalog::{CatalogOptions, Limits, catalog_path};

// One implementation, shared with the SBOM bench.
#[path = "../../palisade-sbom/benches/support/cputime.rs"]
mod cputime;
#[path = "support/synth.rs"]
mod synth;

use synth::{N, dpkg_status, write_image};

fn npm_lock() -> String {
    let mut s = String::from(
        r#"{"name":"big","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"big","version":"1.0.0"}"#,
    );
    for i in 0..N {
        let dep = (i * 7 + 1) % N;
        write!(
            s,
            r#","node_modules/pkg-{i}":{{"version":"1.{}.{}","resolved":"https://registry.example/pkg-{i}/-/pkg-{i}-1.0.0.tgz","integrity":"sha512-3vVYFn6ErSVtyj9nrBRxjY2gOu7pGr1SkxJ2c9tThxnu6q1Bs+VbUHDZX5GXo6vOpk6Oaa0i3CqQpm4J0YRLdQ==","dependencies":{{"pkg-{dep}":"^1.0.0"}}{}}}"#,
            i % 50,
            i % 7,
            if i % 5 == 0 { r#","dev":true"# } else { "" }
        )
        .unwrap();
    }
    s.push_str("}}");
    s
}

fn cargo_lock() -> String {
    let mut s = String::from("version = 4\n");
    for i in 0..N {
        let dep = (i * 7 + 1) % N;
        write!(
            s,
            "\n[[package]]\nname = \"crate-{i}\"\nversion = \"0.{}.{}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f\"\ndependencies = [\"crate-{dep}\"]\n",
            i % 50,
            i % 7
        )
        .unwrap();
    }
    s
}

fn yarn_lock() -> String {
    let mut s = String::from("# yarn lockfile v1\n\n");
    for i in 0..N {
        let dep = (i * 7 + 1) % N;
        write!(
            s,
            "\"pkg-{i}@^1.0.0\":\n  version \"1.{}.0\"\n  resolved \"https://registry.yarnpkg.com/pkg-{i}/-/pkg-{i}-1.0.0.tgz\"\n  integrity sha512-3vVYFn6ErSVtyj9nrBRxjY2gOu7pGr1SkxJ2c9tThxnu6q1Bs+VbUHDZX5GXo6vOpk6Oaa0i3CqQpm4J0YRLdQ==\n  dependencies:\n    pkg-{dep} \"^1.0.0\"\n\n",
            i % 50
        )
        .unwrap();
    }
    s
}

fn pnpm_lock() -> String {
    let mut s = String::from(
        "lockfileVersion: '9.0'\n\nimporters:\n  .:\n    dependencies:\n      pkg-0:\n        specifier: ^1.0.0\n        version: 1.0.0\n\npackages:\n",
    );
    for i in 0..N {
        write!(s, "  pkg-{i}@1.{}.0:\n    resolution: {{integrity: sha512-3vVYFn6ErSVtyj9nrBRxjY2gOu7pGr1SkxJ2c9tThxnu6q1Bs+VbUHDZX5GXo6vOpk6Oaa0i3CqQpm4J0YRLdQ==}}\n\n", i % 50).unwrap();
    }
    s.push_str("snapshots:\n");
    for i in 0..N {
        let dep = (i * 7 + 1) % N;
        write!(
            s,
            "  pkg-{i}@1.{}.0:\n    dependencies:\n      pkg-{dep}: 1.{}.0\n\n",
            i % 50,
            dep % 50
        )
        .unwrap();
    }
    s
}

fn poetry_lock() -> String {
    let mut s = String::new();
    for i in 0..N {
        let dep = (i * 7 + 1) % N;
        write!(s, "[[package]]\nname = \"pkg-{i}\"\nversion = \"1.{}.0\"\noptional = false\npython-versions = \">=3.8\"\ngroups = [\"main\"]\n\n[package.dependencies]\npkg-{dep} = \">=1.0\"\n\n", i % 50).unwrap();
    }
    s
}

fn requirements() -> String {
    (0..N).map(|i| format!("pkg-{i}==1.{}.0 --hash=sha256:ddc6f9cc94d67c0e21aaf7eda3a010fd3af78ebf6e096aa6e2e13c79749cce4f\n", i % 50)).collect()
}

fn lockfiles(c: &mut Criterion) {
    lockfiles_in(c, "lockfile-10k");
}

fn lockfiles_cpu(c: &mut Criterion<cputime::CpuTime>) {
    if cputime::available() {
        lockfiles_in(c, "lockfile-10k-cpu");
    }
}

fn lockfiles_in<M: Measurement>(c: &mut Criterion<M>, group: &str) {
    let limits = Limits::default();
    let inputs: Vec<(&str, LockfileKind, String)> = vec![
        ("package-lock.json", LockfileKind::NpmLock, npm_lock()),
        ("Cargo.lock", LockfileKind::CargoLock, cargo_lock()),
        ("yarn.lock", LockfileKind::YarnLock, yarn_lock()),
        ("pnpm-lock.yaml", LockfileKind::PnpmLock, pnpm_lock()),
        ("poetry.lock", LockfileKind::PoetryLock, poetry_lock()),
        (
            "requirements.txt",
            LockfileKind::Requirements,
            requirements(),
        ),
    ];
    let mut g = c.benchmark_group(group);
    for (name, kind, text) in &inputs {
        let inv = lockfile::parse(*kind, name, text.as_bytes(), None, &limits)
            .expect("bench input parses");
        assert_eq!(inv.components.len(), N, "{name}");
        g.bench_function(*name, |b| {
            b.iter(|| {
                lockfile::parse(*kind, name, black_box(text.as_bytes()), None, &limits)
                    .expect("parses")
            })
        });
    }
    let status = dpkg_status();
    g.bench_function("dpkg-status", |b| {
        b.iter(|| {
            palisade_catalog::os::dpkg::parse("status", black_box(status.as_bytes()), None, &limits)
                .expect("parses")
        })
    });
    g.finish();
}

fn image(c: &mut Criterion) {
    // The ~300 MiB archive is written lazily, on the first iteration, so that
    // running only the lockfile benches (`-- lockfile`) does not pay for it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench-image.tar");
    let written = std::cell::OnceCell::new();
    let opts = CatalogOptions::default();
    let mut g = c.benchmark_group("image");
    g.sample_size(10);
    g.bench_function("docker-save-300MiB", |b| {
        written.get_or_init(|| {
            // 6 layers x 50 files x 1 MiB = about 300 MiB.
            let size = write_image(&path, 6, 50, 1 << 20);
            eprintln!("image archive: {size} bytes");
        });
        b.iter(|| {
            let inv = catalog_path(&path, &opts, &mut |_| {}).expect("image inventories");
            assert_eq!(inv.components.len(), N);
            inv
        })
    });
    g.finish();
}

criterion_group!(benches, lockfiles, image);
criterion_group! {
    name = benches_cpu;
    config = Criterion::default().with_measurement(cputime::CpuTime);
    targets = lockfiles_cpu
}
criterion_main!(benches, benches_cpu);
