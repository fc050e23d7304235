//! `palisade sbom`: read, convert and show SBOMs.
//!
//! `convert` reads any supported SBOM (format detected by content) and writes
//! CycloneDX 1.6/1.7 JSON or SPDX 2.3 JSON; `show` prints the components as a
//! table, or the normalised inventory with `--format json`. The work is in
//! `palisade-sbom`; this module reads files, prints, and maps outcomes to exit
//! codes (0 done, 2 unreadable or invalid input). Reader warnings (components
//! without a purl, relationships that name files...) go to stderr, so stdout
//! stays a clean document.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context;
use palisade_sbom::{Format, Inventory, ReadOptions, SerialNumber, WriteOptions};

use crate::GlobalArgs;
use crate::output::{self, OutputFormat};

/// `palisade sbom ...`
#[derive(Debug, clap::Subcommand)]
pub enum SbomCommand {
    /// Convert an SBOM (CycloneDX 1.0-1.7 JSON/XML, SPDX 2.2/2.3 JSON or
    /// tag-value; detected by content) to CycloneDX or SPDX JSON.
    Convert(ConvertArgs),
    /// Show the components of an SBOM as a table (`--format json`: the
    /// normalised inventory).
    Show(ShowArgs),
    /// Inventory a directory, lockfile, package database, executable or
    /// container image and write it as an SBOM.
    #[cfg(feature = "catalog")]
    Generate(crate::cmd::sbom_generate::GenerateArgs),
}

/// Arguments of `palisade sbom convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// The SBOM to read (`-` for standard input).
    pub input: PathBuf,
    /// Output format: cyclonedx-json (CycloneDX 1.7), cyclonedx-1.6-json,
    /// cyclonedx-1.7-json, or spdx-json (SPDX 2.3).
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    pub to: Format,
    /// Write to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Serial number (CycloneDX) or document namespace (SPDX): `derived`
    /// from the content (stable, the default) or `random`.
    #[arg(long, value_name = "MODE", default_value = "derived", value_parser = ["derived", "random"])]
    pub serial: String,
    /// Creation time to write (RFC 3339); default: the input's own.
    #[arg(long, value_name = "TIME")]
    pub timestamp: Option<String>,
}

/// Arguments of `palisade sbom show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The SBOM to read (`-` for standard input).
    pub input: PathBuf,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_str(s).map_err(|e| e.to_string())
}

/// Runs `palisade sbom ...`.
pub fn run(cmd: SbomCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match cmd {
        SbomCommand::Convert(args) => convert(args),
        SbomCommand::Show(args) => show(args, global),
        #[cfg(feature = "catalog")]
        SbomCommand::Generate(args) => crate::cmd::sbom_generate::run(args, global),
    }
}

/// Reads and parses the input, printing warnings on stderr.
fn load(path: &Path) -> anyhow::Result<Inventory> {
    let options = ReadOptions::default();
    let limit = options.limits.max_bytes;
    let (name, bytes) = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        ("<stdin>".to_owned(), buf)
    } else {
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.len() > u64::try_from(limit).unwrap_or(u64::MAX) {
            anyhow::bail!(
                "{}: {} bytes is more than the limit of {limit} bytes",
                path.display(),
                meta.len()
            );
        }
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        (path.display().to_string(), bytes)
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(format!("reading {name}"));
    let inventory = palisade_sbom::read_with(&bytes, &name, &options);
    bar.finish_and_clear();
    let inventory = inventory?;
    print_warnings(&name, &inventory.warnings);
    Ok(inventory)
}

fn print_warnings(name: &str, warnings: &[String]) {
    const SHOWN: usize = 20;
    let mut err = std::io::stderr().lock();
    for w in warnings.iter().take(SHOWN) {
        let _ = writeln!(err, "warning: {name}: {w}");
    }
    if warnings.len() > SHOWN {
        let _ = writeln!(
            err,
            "warning: {name}: {} more warnings (`palisade sbom show --format json` lists them all)",
            warnings.len() - SHOWN
        );
    }
}

fn convert(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let inventory = load(&args.input)?;
    let options = WriteOptions {
        serial_number: if args.serial == "random" {
            SerialNumber::Random
        } else {
            SerialNumber::Derived
        },
        timestamp: args.timestamp,
        ..WriteOptions::default()
    };
    let doc = palisade_sbom::write(&inventory, args.to, &options)?;
    match &args.output {
        Some(path) => std::fs::write(path, &doc)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&doc).context("writing standard output")?;
            out.flush().context("writing standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(args: ShowArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let inventory = load(&args.input)?;
    match global.format {
        OutputFormat::Json => output::print_json(&inventory)?,
        OutputFormat::Table => {
            let m = &inventory.metadata;
            if let Some(s) = &m.subject {
                println!(
                    "subject: {}{}",
                    s.name,
                    s.version
                        .as_deref()
                        .map(|v| format!(" {v}"))
                        .unwrap_or_default()
                );
            }
            if let Some(f) = &m.source_format {
                println!("format:  {f}");
            }
            let mut t = output::table(["name", "version", "ecosystem", "purl", "license", "scope"]);
            for c in &inventory.components {
                t.add_row([
                    c.name.clone(),
                    c.version.clone().unwrap_or_default(),
                    c.ecosystem
                        .map(|e| e.as_str().to_owned())
                        .unwrap_or_default(),
                    c.purl.clone().unwrap_or_default(),
                    c.license.clone().unwrap_or_default(),
                    c.scope
                        .map(|s| format!("{s:?}").to_lowercase())
                        .unwrap_or_default(),
                ]);
            }
            println!("{t}");
            println!(
                "{} components, {} with a dependency list, {} warnings",
                inventory.components.len(),
                inventory.dependencies.len(),
                inventory.warnings.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
