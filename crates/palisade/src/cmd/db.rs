//! `palisade db`: import OSV records, sync osv.dev exports, show the store.
//!
//! The store lives in `<data-dir>/advisories/`; downloads are kept in
//! `<data-dir>/advisories/downloads/` so that an interrupted sync resumes and
//! an unchanged export is not fetched again.
//!
//! Exit codes: 0 success; 1 the command ran but records were rejected (they
//! are listed on stderr, or in the JSON report); 2 usage, I/O or network
//! error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use palisade_advisory::Source;
use palisade_advisory::store::{AdvisoryStore, ImportReport};
use palisade_advisory::sync::{DEFAULT_BASE_URL, Downloader, Outcome, SyncState};

use crate::GlobalArgs;
use crate::output::{self, OutputFormat};

#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Import OSV records from JSON files (one record or an array), directory
    /// trees of JSON files, or zip archives (osv.dev's `all.zip` layout).
    ///
    /// Import is idempotent: records are upserted by id and a newer
    /// `modified` wins. Bad records are rejected with their file and JSON
    /// path and the rest goes on (exit code 1 when any was rejected). The
    /// store is replaced atomically: an interrupted import leaves the
    /// previous one intact.
    Import(ImportArgs),
    /// Download osv.dev's per-ecosystem exports and import them.
    ///
    /// Downloads are conditional (`If-None-Match`, `If-Modified-Since`) and
    /// resumable (`Range`): run it again after an interruption.
    Sync(SyncArgs),
    /// Show what the store holds and how fresh it is.
    Status,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files, directories or zip archives.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also list warnings about accepted records (dropped entries, ranges
    /// that cannot be evaluated).
    #[arg(long)]
    pub warnings: bool,
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Ecosystems to sync, as osv.dev names them (`PyPI`, `npm`, `Go`,
    /// `crates.io`, `Debian`...). Repeatable.
    #[arg(long = "ecosystem", short = 'e', required = true, value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// Base URL of the exports: `<URL>/<ecosystem>/all.zip`.
    #[arg(long, env = "PALISADE_OSV_URL", default_value = DEFAULT_BASE_URL, value_name = "URL")]
    pub source_url: String,
    /// Do not touch the network: re-import the exports downloaded before.
    #[arg(long)]
    pub offline: bool,
    /// Import even when every export is unchanged.
    #[arg(long)]
    pub force: bool,
}

pub fn store_dir(global: &GlobalArgs) -> anyhow::Result<PathBuf> {
    Ok(global.data_dir()?.join("advisories"))
}

pub fn run(cmd: DbCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match cmd {
        DbCommand::Import(args) => import(args, global),
        DbCommand::Sync(args) => sync(args, global),
        DbCommand::Status => status(global),
    }
}

fn bar(total: Option<u64>, what: &str) -> ProgressBar {
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    let template = if total.is_some() {
        format!("{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} ({{per_sec}}, {{eta}})")
    } else {
        format!("{{spinner}} {what} {{pos}} ({{per_sec}})")
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn run_import(store: &mut AdvisoryStore, sources: &[Source]) -> anyhow::Result<ImportReport> {
    let total: Option<u64> = sources.iter().map(Source::len_hint).sum();
    let pb = bar(total, "importing");
    let report = store.import(sources, &mut |done| {
        if done % 256 == 0 {
            pb.set_position(done);
        }
    });
    pb.finish_and_clear();
    Ok(report?)
}

fn print_import(report: &ImportReport, global: &GlobalArgs, warnings: bool) -> anyhow::Result<()> {
    match global.format {
        OutputFormat::Json => output::print_json(report)?,
        OutputFormat::Table => {
            let c = &report.counts;
            let mut t = output::table([
                "new",
                "updated",
                "unchanged",
                "older",
                "withdrawn",
                "rejected",
                "total",
            ]);
            t.add_row([
                c.new.to_string(),
                c.updated.to_string(),
                c.unchanged.to_string(),
                c.older.to_string(),
                c.withdrawn.to_string(),
                c.rejected.to_string(),
                report.total.to_string(),
            ]);
            println!("{t}");
            if !report.warnings.is_empty() && !warnings {
                eprintln!(
                    "{} warning(s) about accepted records; --warnings lists them",
                    report.warnings.len()
                );
            }
        }
    }
    for r in &report.rejected {
        eprintln!("rejected: {} at {}: {}", r.origin, r.path, r.reason);
    }
    if warnings && global.format == OutputFormat::Table {
        for w in &report.warnings {
            eprintln!("warning: {} ({}): {}", w.origin, w.id, w.warning);
        }
    }
    Ok(())
}

fn import(args: ImportArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let dir = store_dir(global)?;
    let mut store = AdvisoryStore::open(&dir)?;
    let sources = args
        .paths
        .iter()
        .map(|p| Source::open(p))
        .collect::<Result<Vec<_>, _>>()?;
    let report = run_import(&mut store, &sources)?;
    print_import(&report, global, args.warnings)?;
    Ok(if report.counts.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn sync(args: SyncArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let dir = store_dir(global)?;
    let downloads = dir.join("downloads");
    let downloader = Downloader::new(&args.source_url, &downloads);
    let mut changed = Vec::new();
    let mut outcomes = Vec::new();
    for eco in &args.ecosystems {
        let zip = downloader.zip_path(eco);
        if args.offline {
            if !zip.exists() {
                anyhow::bail!(
                    "--offline: no downloaded export for {eco} at {}; run `palisade db sync -e {eco}` with network first",
                    zip.display()
                );
            }
            changed.push(zip);
            outcomes.push(serde_json::json!({"ecosystem": eco, "result": "offline"}));
            continue;
        }
        let pb = bar(None, &format!("downloading {eco}"));
        let mut last_len = None;
        let outcome = downloader.fetch(eco, &mut |done, total| {
            if total != last_len {
                if let Some(t) = total {
                    pb.set_length(t);
                }
                last_len = total;
            }
            pb.set_position(done);
        });
        pb.finish_and_clear();
        let outcome = outcome.with_context(|| format!("syncing {eco}"))?;
        if matches!(outcome, Outcome::Downloaded { .. }) || args.force {
            changed.push(zip);
        }
        eprintln!("{eco}: {}", describe(&outcome));
        outcomes.push(serde_json::json!({"ecosystem": eco, "outcome": outcome}));
    }
    let mut store = AdvisoryStore::open(&dir)?;
    let report = if changed.is_empty() {
        None
    } else {
        let sources = changed
            .iter()
            .map(|p| Source::open(p))
            .collect::<Result<Vec<_>, _>>()?;
        Some(run_import(&mut store, &sources)?)
    };
    match (global.format, &report) {
        (OutputFormat::Json, _) => output::print_json(&serde_json::json!({
            "downloads": outcomes, "import": report,
        }))?,
        (OutputFormat::Table, Some(r)) => print_import(r, global, false)?,
        (OutputFormat::Table, None) => println!("every export is unchanged; nothing to import"),
    }
    Ok(if report.is_some_and(|r| r.counts.rejected > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe(o: &Outcome) -> String {
    match o {
        Outcome::NotModified => "not modified".to_owned(),
        Outcome::Downloaded {
            bytes,
            resumed_from: 0,
        } => format!("downloaded {bytes} bytes"),
        Outcome::Downloaded {
            bytes,
            resumed_from,
        } => format!("downloaded {bytes} bytes (resumed at {resumed_from})"),
    }
}

fn status(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let dir = store_dir(global)?;
    let store = AdvisoryStore::open(&dir)?;
    let sync = SyncState::load(&dir.join("downloads"));
    let meta = store.meta();
    match global.format {
        OutputFormat::Json => output::print_json(&serde_json::json!({
            "store": dir_display(&dir),
            "meta": meta,
            "package_keys": store.key_count(),
            "exports": sync.exports,
        }))?,
        OutputFormat::Table => {
            println!("store: {}", dir_display(&dir));
            if store.is_empty() {
                println!("empty: run `palisade db import PATH` or `palisade db sync -e ECOSYSTEM`");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{} advisories ({} withdrawn), {} package keys; written {}; newest record modified {}",
                meta.advisories,
                meta.withdrawn,
                store.key_count(),
                meta.written_at,
                meta.newest_modified.as_deref().unwrap_or("-"),
            );
            let mut t = output::table(["ecosystem", "advisories"]);
            for (eco, n) in &meta.by_ecosystem {
                t.add_row([eco.clone(), n.to_string()]);
            }
            println!("{t}");
            if !sync.exports.is_empty() {
                let mut t = output::table(["export", "bytes", "last modified", "checked", "etag"]);
                for (eco, e) in &sync.exports {
                    t.add_row([
                        eco.clone(),
                        e.bytes.to_string(),
                        e.last_modified.clone().unwrap_or_default(),
                        e.checked_at.clone().unwrap_or_default(),
                        e.etag.clone().unwrap_or_default(),
                    ]);
                }
                println!("{t}");
            }
            if let Some(last) = meta.imports.last() {
                println!(
                    "last import {}: {} new, {} updated, {} rejected",
                    last.at, last.counts.new, last.counts.updated, last.counts.rejected
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dir_display(p: &Path) -> String {
    p.display().to_string()
}
