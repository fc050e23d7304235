//! `cargo run --release --example inventory -- PATH [--purls]`: inventories
//! PATH with `palisade-catalog` and prints either the inventory JSON or, with
//! `--purls`, one purl per line (sorted), followed on stderr by the elapsed
//! time. The bench scripts under `bench/catalog/` use it to compare purl sets
//! with other tools without building the whole `palisade` binary.

#![allow(clippy::print_stdout, missing_docs)]

use std::process::ExitCode;
use std::time::Instant;

use palisade_catalog::{CatalogOptions, catalog_path};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: inventory PATH [--purls]");
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
            return ExitCode::from(2);
        }
    };
    let elapsed = start.elapsed();
    if args.iter().any(|a| a == "--purls") {
        let mut purls: Vec<&str> = inv
            .components
            .iter()
            .filter_map(|c| c.purl.as_deref())
            .collect();
        purls.sort_unstable();
        purls.dedup();
        for p in purls {
            println!("{p}");
        }
    } else {
        match serde_json::to_string_pretty(&inv) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    for w in &inv.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "elapsed_ms={:.3} components={}",
        elapsed.as_secs_f64() * 1000.0,
        inv.components.len()
    );
    ExitCode::SUCCESS
}
