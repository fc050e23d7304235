//! Scan orchestration: run configured external scanners beside Palisade's
//! own matcher.
//!
//! A scanners configuration file ([`Config`], TOML) names, per scanner, a
//! command template as an argument list with placeholders (`{target}`,
//! `{output}`, `{kind}`, `{tmpdir}`), the format of what it produces (read
//! by `palisade-findings`: SARIF, Trivy, Grype, osv-scanner, ZAP, Falco),
//! the target kinds it applies to (directory, image, artifact), a time
//! limit, the exit codes that mean success and extra environment.
//!
//! [`run()`] spawns one scanner against one [`Target`]: no shell, its own
//! process group (killed whole on timeout), stdout and stderr captured
//! under caps, then the output parsed into an
//! [`Import`](palisade_findings::Import). Every failure is a [`RunError`]
//! naming the scanner and the reason; [`run_all`] runs several and keeps
//! each one's result, so one failing scanner never loses the others'.
//!
//! Used by `palisade scan --scanners FILE` and by the server's `scan` job.

pub mod config;
mod run;

pub use config::{Config, ConfigError, Scanner, TargetKind};
pub use run::{RunError, ScanRun, Target, run};

/// Runs every scanner in `scanners` against `target`, one after the other,
/// calling `progress` before each with its name. The results are in the
/// same order.
pub fn run_all<'a>(
    scanners: &[&'a Scanner],
    target: &Target,
    mut progress: impl FnMut(&'a Scanner),
) -> Vec<(&'a Scanner, Result<ScanRun, RunError>)> {
    scanners
        .iter()
        .map(|s| {
            progress(s);
            (*s, run(s, target))
        })
        .collect()
}
