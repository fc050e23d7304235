//! `palisade scan PATH`: match an inventory against the advisory store.
//!
//! PATH is an SBOM (CycloneDX or SPDX, through `palisade-sbom`, when the
//! binary has the `sbom` feature) or a Palisade inventory JSON document.
//! Only the records of the packages the inventory names are read from the
//! store, so a scan costs the index plus what it touches.
//!
//! The scan never touches the network: it reads the local store only
//! (`palisade db sync` updates it). `--offline` states that explicitly and
//! is accepted for scripts that want the guarantee spelled out.
//!
//! With `--scanners FILE` the configured external scanners
//! (`palisade-scanners`, docs/scanners.md) that apply to the target run
//! too, one after the other under a progress bar, and their findings are
//! reported with the built-in matcher's, each naming its tool. PATH is then
//! a directory, a file (an artifact: SBOM, lockfile, binary, image archive)
//! or, with `--target-kind image` or when no such path exists, an image
//! reference (the built-in matcher is skipped for an image reference).
//!
//! Exit codes: 0 no finding at or above `--fail-on` (or no `--fail-on`);
//! 1 findings at or above it; 2 error (unreadable input, bad scanners
//! configuration, unknown `--scanner`); 3 a configured scanner failed or
//! timed out (reported on stderr and in the JSON; the other results are
//! still reported). 3 wins over 1: a scan with a failed scanner is
//! incomplete, whatever it found.

#[cfg(feature = "findings")]
mod external;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use palisade_advisory::matcher::resolve;
use palisade_advisory::report::{ScanReport, StoreInfo, Target, Tool};
use palisade_advisory::{AdvisoryStore, Rating};
use palisade_inventory::Inventory;

use crate::GlobalArgs;
use crate::output::{self, OutputFormat};

/// The scan's output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    /// Human-readable tables.
    Table,
    /// Palisade's scan JSON (docs/scan-output.schema.json).
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The SBOM or inventory JSON to scan.
    pub path: PathBuf,
    /// Output format; defaults to the global `--format` (table or json).
    #[arg(long, short = 'o', value_enum, value_name = "FORMAT")]
    pub output_format: Option<ScanFormat>,
    /// Exit with code 1 when a finding is rated at or above this severity
    /// (none, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_rating)]
    pub fail_on: Option<Rating>,
    /// Never touch the network (the scan reads only the local store anyway).
    #[arg(long)]
    pub offline: bool,
    /// Also run the external scanners configured in this file (TOML, see
    /// docs/scanners.md) that apply to the target.
    #[arg(long, value_name = "FILE")]
    pub scanners: Option<PathBuf>,
    /// Run only this configured scanner (repeatable; also runs it when it
    /// is disabled in the file).
    #[arg(long = "scanner", value_name = "NAME", requires = "scanners")]
    pub scanner: Vec<String>,
    /// What PATH is for the external scanners: directory, image or
    /// artifact. Default: directory for a directory, artifact for a file,
    /// image when no such path exists.
    #[arg(long, value_name = "KIND", requires = "scanners", value_parser = parse_kind)]
    pub target_kind: Option<TargetKind>,
}

#[cfg(feature = "findings")]
use palisade_scanners::TargetKind;

/// Without the `findings` feature there are no external scanners.
#[cfg(not(feature = "findings"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {}

#[cfg(feature = "findings")]
fn parse_kind(s: &str) -> Result<TargetKind, String> {
    s.parse()
}

#[cfg(not(feature = "findings"))]
fn parse_kind(_: &str) -> Result<TargetKind, String> {
    Err("external scanners need the `findings` feature".into())
}

fn parse_rating(s: &str) -> Result<Rating, String> {
    s.parse()
}

fn read_inventory(path: &std::path::Path) -> anyhow::Result<(Inventory, Option<String>)> {
    if path.is_dir() {
        return catalog(path, None);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match decode(&bytes, &path.display().to_string()) {
        Ok(found) => Ok(found),
        // Not an SBOM: a lockfile, an OS package database, a binary or an
        // image archive, inventoried the way `sbom generate` does.
        Err(e) => catalog(path, Some(e)),
    }
}

/// Inventories a directory, lockfile, package database, binary or image
/// archive with `palisade-catalog`.
#[cfg(feature = "catalog")]
fn catalog(
    path: &std::path::Path,
    not_sbom: Option<anyhow::Error>,
) -> anyhow::Result<(Inventory, Option<String>)> {
    let opts = palisade_catalog::CatalogOptions::default();
    match palisade_catalog::catalog_path(path, &opts, &mut |_| {}) {
        Ok(inv) if !inv.components.is_empty() || not_sbom.is_none() => {
            Ok((inv, Some("catalog".to_owned())))
        }
        Ok(_) | Err(_) if not_sbom.is_some() => Err(not_sbom
            .unwrap_or_else(|| anyhow::anyhow!("nothing to scan"))
            .context(format!(
                "{} is neither an SBOM nor something Palisade can inventory (lockfile, package database, binary, image archive)",
                path.display()
            ))),
        Ok(inv) => Ok((inv, Some("catalog".to_owned()))),
        Err(e) => Err(anyhow::Error::new(e).context(format!("cannot inventory {}", path.display()))),
    }
}

#[cfg(not(feature = "catalog"))]
fn catalog(
    path: &std::path::Path,
    not_sbom: Option<anyhow::Error>,
) -> anyhow::Result<(Inventory, Option<String>)> {
    Err(not_sbom.unwrap_or_else(|| {
        anyhow::anyhow!(
            "{} is a directory; scanning directories needs the `catalog` feature",
            path.display()
        )
    }))
}

/// An SBOM through `palisade-sbom`, or else a Palisade inventory document.
#[cfg(feature = "sbom")]
fn decode(bytes: &[u8], name: &str) -> anyhow::Result<(Inventory, Option<String>)> {
    match palisade_sbom::read(bytes, name) {
        Ok(inv) => {
            let format = inv.metadata.source_format.clone();
            Ok((inv, format))
        }
        Err(sbom_err) => match serde_json::from_slice::<Inventory>(bytes) {
            Ok(inv) => Ok((inv, Some("palisade-inventory".into()))),
            Err(_) => Err(anyhow::Error::new(sbom_err).context(format!("reading {name}"))),
        },
    }
}

/// Without the `sbom` feature only Palisade inventory documents are read.
#[cfg(not(feature = "sbom"))]
fn decode(bytes: &[u8], name: &str) -> anyhow::Result<(Inventory, Option<String>)> {
    let inv: Inventory = serde_json::from_slice(bytes).with_context(|| {
        format!(
            "{name}: not a Palisade inventory JSON document (SBOM formats need the `sbom` feature)"
        )
    })?;
    Ok((inv, Some("palisade-inventory".into())))
}

pub fn run(args: ScanArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match &args.scanners {
        None => {
            let report = builtin(&args, global)?;
            let fmt = output_format(&args, global);
            match fmt {
                ScanFormat::Json => output::print_json(&report)?,
                ScanFormat::Sarif => output::print_json(&report.to_sarif())?,
                ScanFormat::Table => print_table(&report),
            }
            Ok(match args.fail_on {
                Some(t) if report.has_findings_at_or_above(t) => ExitCode::from(1),
                _ => ExitCode::SUCCESS,
            })
        }
        #[cfg(feature = "findings")]
        Some(file) => with_scanners(&args, file, global),
        #[cfg(not(feature = "findings"))]
        Some(_) => anyhow::bail!("--scanners needs the `findings` feature"),
    }
}

fn output_format(args: &ScanArgs, global: &GlobalArgs) -> ScanFormat {
    args.output_format.unwrap_or(match global.format {
        OutputFormat::Table => ScanFormat::Table,
        OutputFormat::Json => ScanFormat::Json,
    })
}

/// The built-in matcher and the configured scanners, reported together.
#[cfg(feature = "findings")]
fn with_scanners(
    args: &ScanArgs,
    file: &std::path::Path,
    global: &GlobalArgs,
) -> anyhow::Result<ExitCode> {
    let fmt = output_format(args, global);
    if fmt == ScanFormat::Sarif {
        anyhow::bail!(
            "--scanners reports in table or json; SARIF is for the built-in matcher alone"
        );
    }
    let (config, target) = external::plan(&args.path, args.target_kind, file, &args.scanner)?;
    let mut notes = Vec::new();
    let report = if args.path.exists() {
        Some(builtin(args, global)?)
    } else {
        notes.push(format!(
            "the built-in matcher was skipped: {} is an image reference (scan an SBOM or image archive of it for Palisade's own findings)",
            args.path.display()
        ));
        None
    };
    let runs = external::run(&config, &target, &args.scanner);
    let path = args.path.display().to_string();
    let combined = external::combine(&config, &path, &target, report.as_ref(), notes, runs);
    combined.report_failures();
    match fmt {
        ScanFormat::Json => output::print_json(&combined)?,
        ScanFormat::Table | ScanFormat::Sarif => combined.print_table(),
    }
    Ok(if combined.any_failed() {
        ExitCode::from(3)
    } else {
        match args.fail_on {
            Some(t) if combined.has_findings_at_or_above(t) => ExitCode::from(1),
            _ => ExitCode::SUCCESS,
        }
    })
}

/// Runs the built-in matcher on PATH.
fn builtin(args: &ScanArgs, global: &GlobalArgs) -> anyhow::Result<ScanReport> {
    let (inventory, format) = read_inventory(&args.path)?;
    let dir = super::db::store_dir(global)?;
    let store = AdvisoryStore::open(&dir)?;
    if store.is_empty() {
        eprintln!(
            "warning: the advisory store at {} is empty; run `palisade db sync` or `palisade db import`",
            dir.display()
        );
    }
    let distro = inventory.metadata.distro.as_ref();
    let queries: Vec<_> = inventory
        .components
        .iter()
        .filter_map(|c| resolve(c, distro).ok())
        .collect();
    let matcher = store.matcher_for(queries.iter().map(|q| (q.ecosystem, q.name.as_str())))?;
    let matched = matcher.match_inventory(&inventory);
    let meta = store.meta();
    let report = ScanReport::new(
        Tool {
            name: "palisade".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        Target {
            path: args.path.display().to_string(),
            format,
        },
        StoreInfo {
            advisories: store.len(),
            written_at: (!meta.written_at.is_empty()).then(|| meta.written_at.clone()),
            newest_modified: meta.newest_modified.clone(),
        },
        matched,
    );
    Ok(report)
}

fn print_table(report: &ScanReport) {
    if report.findings.is_empty() {
        println!("no findings");
    } else {
        let mut t = output::table(["package", "version", "id", "aliases", "severity", "fix"]);
        for f in &report.findings {
            let sev = match &f.severity {
                Some(s) => match s.score {
                    Some(score) => format!("{} {score:.1}", s.rating),
                    None => s.rating.to_string(),
                },
                None => "unknown".to_owned(),
            };
            t.add_row([
                f.component
                    .purl
                    .clone()
                    .unwrap_or_else(|| f.component.name.clone()),
                f.component.version.clone().unwrap_or_default(),
                f.ids.join("\n"),
                f.aliases.join("\n"),
                sev,
                f.fix.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        println!("{t}");
        let mut u = output::table(["package", "installed", "upgrade to", "fixes"]);
        for up in &report.upgrades {
            u.add_row([
                up.component
                    .purl
                    .clone()
                    .unwrap_or_else(|| up.component.name.clone()),
                up.current.clone(),
                match (&up.to, up.still_affected_by.is_empty()) {
                    (Some(v), true) => v.clone(),
                    (Some(v), false) => {
                        format!(
                            "{v} (still affected by {})",
                            up.still_affected_by.join(", ")
                        )
                    }
                    (None, _) => "no known fix".into(),
                },
                up.fixes.len().to_string(),
            ]);
        }
        println!("{u}");
    }
    let s = &report.summary;
    println!(
        "{} components, {} evaluated, {} not evaluated; {} findings in {} components (critical {}, high {}, medium {}, low {}, unknown {})",
        s.components,
        s.evaluated,
        s.not_evaluated,
        s.findings,
        s.affected_components,
        s.by_severity.get("critical").copied().unwrap_or(0),
        s.by_severity.get("high").copied().unwrap_or(0),
        s.by_severity.get("medium").copied().unwrap_or(0),
        s.by_severity.get("low").copied().unwrap_or(0),
        s.by_severity.get("unknown").copied().unwrap_or(0),
    );
    if s.not_evaluated > 0 {
        eprintln!(
            "{} components could not be evaluated (no OSV ecosystem or no parsable version); `--format json` lists them with reasons",
            s.not_evaluated
        );
    }
}
