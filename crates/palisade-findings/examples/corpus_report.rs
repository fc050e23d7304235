//! Prints, for each scanner output under a directory, how many raw results
//! were read and how many findings they merge into.
//!
//! `cargo run -p palisade-findings --example corpus_report -- DIR...`
//! (default: the shared corpus' `scanners/` folder, found through
//! `PALISADE_CORPUS`).

use std::path::{Path, PathBuf};

use palisade_findings::{ImportOptions, import, merge};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let dirs = if args.is_empty() {
        let corpus = std::env::var_os("PALISADE_CORPUS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
            });
        vec![corpus.join("scanners")]
    } else {
        args
    };
    let mut files = Vec::new();
    for d in &dirs {
        if d.is_file() {
            files.push(d.clone());
        } else {
            walk(d, &mut files);
        }
    }
    files.sort();
    let mut all = Vec::new();
    for f in files {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let name = f.display().to_string();
        match import(&bytes, &name, None, &ImportOptions::default()) {
            Ok(i) => {
                let merged = merge(i.findings.iter().cloned());
                println!(
                    "{name}\t{}\t{}\t{}",
                    i.format,
                    i.findings.len(),
                    merged.findings.len()
                );
                all.extend(i.findings);
            }
            Err(e) => eprintln!("skipped: {e}"),
        }
    }
    let raw = all.len();
    let merged = merge(all);
    println!("total\t-\t{raw}\t{}", merged.findings.len());
}
