//! Peak memory and time of inventorying a large `docker save` archive:
//! `cargo run --release -p palisade-catalog --example image_peak -- [--oci]
//! [LAYERS] [FILES_PER_LAYER] [FILE_KIB]` (default 6 x 50 x 1024 KiB, about
//! 310 MiB). With `--oci` the archive is an OCI image layout tar with
//! gzip-compressed layers instead.
//!
//! It writes a synthetic archive (pseudo-random file layers, each with a
//! 10,000-package dpkg `status`; the generator is the catalog bench's) to a
//! temporary directory, then inventories it in a child process so that the
//! generator's buffers do not count, and prints the archive size, the wall
//! time and the child's peak resident set (`VmHWM`). Streaming means the peak
//! should track the largest file read (the status file), not the archive.

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs
)]

use std::process::{Command, ExitCode};
use std::time::Instant;

use palisade_catalog::{CatalogOptions, catalog_path};

#[path = "../benches/support/synth.rs"]
mod synth;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--read") {
        // Child: inventory the archive and report.
        let Some(path) = args.get(1) else {
            return ExitCode::from(2);
        };
        let start = Instant::now();
        let inv = match catalog_path(
            std::path::Path::new(path),
            &CatalogOptions::default(),
            &mut |_| {},
        ) {
            Ok(inv) => inv,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        println!(
            "components={} elapsed_ms={:.0} peak_rss_mib={:.1}",
            inv.components.len(),
            start.elapsed().as_secs_f64() * 1000.0,
            peak_rss_kib() as f64 / 1024.0
        );
        return ExitCode::SUCCESS;
    }
    let oci = args.iter().any(|a| a == "--oci");
    let nums: Vec<usize> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .filter_map(|v| v.parse().ok())
        .collect();
    let num = |i: usize, default: usize| nums.get(i).copied().unwrap_or(default);
    let (layers, files, kib) = (num(0, 6), num(1, 50), num(2, 1024));
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("image.tar");
    let (kind, size) = if oci {
        let size = synth::write_oci(&path, layers, files, kib * 1024);
        ("OCI layout tar, gzip layers", size)
    } else {
        let size = synth::write_image(&path, layers, files, kib * 1024);
        ("docker save", size)
    };
    println!(
        "archive: {kind}, {layers} layers x {files} files x {kib} KiB = {size} bytes ({:.0} MiB)",
        size as f64 / (1 << 20) as f64
    );
    let status = Command::new(std::env::current_exe().expect("own path"))
        .arg("--read")
        .arg(&path)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}
