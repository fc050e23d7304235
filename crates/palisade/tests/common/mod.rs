//! Shared by the command-line tests: running the binary and the fixtures
//! that several of them use (written for these tests).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

/// An advisory for lodash below 4.17.21.
pub const ADVISORY: &str = r#"{"id": "PAL-TEST-0001", "modified": "2026-11-01T00:00:00Z", "aliases": ["CVE-2099-0001"],
  "summary": "test advisory", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}"#;

/// A package-lock.json (v3) with lodash 4.17.15.
pub const LOCKFILE: &str = r#"{"name": "shop", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "shop", "version": "1.0.0", "dependencies": {"lodash": "^4.17.0"}},
    "node_modules/lodash": {"version": "4.17.15", "resolved": "https://registry.example/lodash/-/lodash-4.17.15.tgz"}
  }}"#;

/// The `palisade` binary, without log or colour settings from the
/// environment.
pub fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_palisade"));
    c.env_remove("PALISADE_LOG").env("NO_COLOR", "1");
    c
}

/// Runs `palisade --data-dir DATA ARGS...`.
pub fn palisade_in(data: &Path, args: &[&str]) -> Output {
    command()
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run palisade")
}
