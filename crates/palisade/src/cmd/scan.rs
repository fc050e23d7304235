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
//! Exit codes: 0 no finding at or above `--fail-on` (or no `--fail-on`);
//! 1 findings at or above it; 2 error.

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
    let fmt = args.output_format.unwrap_or(match global.format {
        OutputFormat::Table => ScanFormat::Table,
        OutputFormat::Json => ScanFormat::Json,
    });
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
