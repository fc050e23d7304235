//! Shared helpers for the integration tests: locating the public corpus.
#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus directory, or `None` after printing a visible SKIPPED line.
pub fn corpus(sub: &str) -> Option<PathBuf> {
    let base = std::env::var_os("PALISADE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus"
            ))
        });
    let dir = base.join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}

/// Reads a file, panicking with its path (test set-up only).
#[allow(clippy::panic)]
pub fn read(path: &std::path::Path) -> Vec<u8> {
    match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}
