//! `palisade sbom generate PATH`: inventory a directory, lockfile, package
//! database, executable or container image, and write it as an SBOM.
//!
//! The inventory comes from `palisade-catalog` and the document from
//! `palisade-sbom`'s writer; this module only wires them to the terminal:
//! a progress bar on stderr while images stream or trees are walked, the
//! SBOM on stdout or in `-o FILE`, warnings and a summary on stderr (or the
//! summary as JSON on stdout with the global `--format json` when the SBOM
//! goes to a file).
//!
//! The SBOM format is chosen with `--sbom-format` because the global
//! `--format` switch (table or JSON) is shared by every command and clap does
//! not allow a subcommand to redefine it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use palisade_catalog::{CatalogOptions, Progress, catalog_path};
use palisade_sbom::{Format, WriteOptions};
use serde::Serialize;

use crate::GlobalArgs;
use crate::output::{self, OutputFormat};

/// Arguments of `palisade sbom generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// What to inventory: a directory (walked, honouring .gitignore), a
    /// lockfile, a dpkg/apk/rpm database, an executable, a `docker save`
    /// tarball, or an OCI image layout (directory or tar).
    pub path: PathBuf,
    /// SBOM format: cyclonedx-json (CycloneDX 1.7), cyclonedx-1.6-json, or
    /// spdx-json (SPDX 2.3).
    #[arg(long = "sbom-format", value_name = "FORMAT", default_value = "cyclonedx-json", value_parser = parse_format)]
    pub sbom_format: Format,
    /// Write the SBOM to this file instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// For a multi-platform image index: the platform to inventory
    /// (`linux/amd64`, `linux/arm64/v8`). Default: this machine's.
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,
    /// Do not inspect executables found in a directory for embedded Go or
    /// cargo-auditable build information.
    #[arg(long)]
    pub no_binaries: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::from_str(s).map_err(|e| e.to_string())
}

#[derive(Serialize)]
struct Summary<'a> {
    path: String,
    sbom_format: String,
    output: Option<String>,
    subject: Option<&'a palisade_inventory::Subject>,
    distro: Option<&'a palisade_inventory::Distro>,
    components: usize,
    by_ecosystem: BTreeMap<String, usize>,
    dependency_edges: usize,
    warnings: &'a [String],
}

/// Runs `palisade sbom generate`.
pub fn run(args: GenerateArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let opts = CatalogOptions {
        platform: args.platform.clone(),
        scan_binaries: !args.no_binaries,
        ..CatalogOptions::default()
    };
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} {wide_bar} {binary_bytes}/{binary_total_bytes}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut on_progress = |p: &Progress| {
        if p.total > 0 {
            bar.set_length(p.total);
            bar.set_position(p.done);
        } else {
            bar.set_style(ProgressStyle::default_spinner());
            bar.set_position(p.done);
        }
        bar.set_message(short(&p.message));
    };
    let result = catalog_path(&args.path, &opts, &mut on_progress);
    bar.finish_and_clear();
    let inventory = result.with_context(|| format!("cannot inventory {}", args.path.display()))?;
    let doc = palisade_sbom::write(&inventory, args.sbom_format, &WriteOptions::default())
        .with_context(|| format!("cannot write {}", args.sbom_format))?;
    match &args.output {
        Some(file) => {
            std::fs::write(file, &doc)
                .with_context(|| format!("cannot write {}", file.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(&doc)?;
            if !doc.ends_with(b"\n") {
                out.write_all(b"\n")?;
            }
        }
    }
    let mut by_ecosystem: BTreeMap<String, usize> = BTreeMap::new();
    for c in &inventory.components {
        let key = c
            .ecosystem
            .map(|e| e.as_str().to_owned())
            .or_else(|| {
                c.purl
                    .as_deref()
                    .and_then(|p| p.strip_prefix("pkg:"))
                    .and_then(|p| p.split('/').next())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "unknown".to_owned());
        *by_ecosystem.entry(key).or_default() += 1;
    }
    let summary = Summary {
        path: args.path.display().to_string(),
        sbom_format: args.sbom_format.to_string(),
        output: args.output.as_ref().map(|p| p.display().to_string()),
        subject: inventory.metadata.subject.as_ref(),
        distro: inventory.metadata.distro.as_ref(),
        components: inventory.components.len(),
        by_ecosystem,
        dependency_edges: inventory.dependencies.values().map(|v| v.len()).sum(),
        warnings: &inventory.warnings,
    };
    if global.format == OutputFormat::Json && args.output.is_some() {
        output::print_json(&summary)?;
    } else {
        print_summary(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

fn short(s: &str) -> String {
    let n = s.chars().count();
    if n <= 40 {
        s.to_owned()
    } else {
        format!("…{}", s.chars().skip(n - 39).collect::<String>())
    }
}

/// The human summary, on stderr so that an SBOM on stdout stays clean.
fn print_summary(s: &Summary<'_>) {
    let mut t = output::table(["ecosystem", "components"]);
    for (e, n) in &s.by_ecosystem {
        t.add_row([e.clone(), n.to_string()]);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{t}");
    let subject = s
        .subject
        .map(|x| x.name.clone())
        .unwrap_or_else(|| s.path.clone());
    let _ = writeln!(
        err,
        "{} components, {} dependency edges from {subject}; written as {}{}",
        s.components,
        s.dependency_edges,
        s.sbom_format,
        s.output
            .as_ref()
            .map(|o| format!(" to {o}"))
            .unwrap_or_default()
    );
    const SHOWN: usize = 20;
    for w in s.warnings.iter().take(SHOWN) {
        let _ = writeln!(err, "warning: {w}");
    }
    if s.warnings.len() > SHOWN {
        let _ = writeln!(
            err,
            "warning: … and {} more (see --format json with -o)",
            s.warnings.len() - SHOWN
        );
    }
}
