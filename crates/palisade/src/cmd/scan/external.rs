//! `palisade scan PATH --scanners FILE`: configured external scanners
//! (`palisade-scanners`) beside the built-in matcher, their findings
//! reported together with it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use palisade_advisory::Rating;
use palisade_advisory::report::ScanReport;
use palisade_findings::{Format, ImportStats};
use palisade_scanners::{Config, RunError, ScanRun, Target, TargetKind};
use serde::Serialize;

use crate::output;

/// Reads the configuration and decides what the scanners are pointed at.
pub fn plan(
    path: &Path,
    kind: Option<TargetKind>,
    file: &Path,
    only: &[String],
) -> anyhow::Result<(Config, Target)> {
    let config = Config::load(file)?;
    let target = match kind {
        Some(TargetKind::Image) if !path.exists() => image(path)?,
        Some(k) => Target::path(k, path).with_context(|| format!("{}", path.display()))?,
        None if path.is_dir() => Target::path(TargetKind::Directory, path)
            .with_context(|| format!("{}", path.display()))?,
        None if path.exists() => Target::path(TargetKind::Artifact, path)
            .with_context(|| format!("{}", path.display()))?,
        None => image(path).with_context(|| {
            format!(
                "{} does not exist (name an image reference with --target-kind image)",
                path.display()
            )
        })?,
    };
    // Unknown names are an error now, before anything runs.
    config.select(target.kind, only)?;
    Ok((config, target))
}

fn image(path: &Path) -> anyhow::Result<Target> {
    Target::image(&path.to_string_lossy()).map_err(anyhow::Error::msg)
}

/// One scanner's result in the report.
#[derive(Debug, Serialize)]
pub struct ScannerResult {
    /// The scanner.
    pub name: String,
    /// The format its output is read as.
    pub format: Format,
    /// `ok` or `failed`.
    pub status: &'static str,
    /// Why it failed (`timed-out`, `failed`, `parse`, `spawn`...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its exit code, when it ran to the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// How long it took.
    pub duration_ms: u64,
    /// Findings it reported.
    pub findings: usize,
    /// Counts from reading its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<ImportStats>,
    /// Warnings from reading its output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The end of its stderr.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
}

/// One finding in the combined list, from whichever tool.
#[derive(Debug, Serialize)]
pub struct Row {
    /// The tool that reported it (`palisade` for the built-in matcher).
    pub tool: String,
    /// The configured scanner that ran the tool (absent for the built-in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scanner: Option<String>,
    /// `vulnerability`, `code`, `misconfiguration`...
    pub kind: String,
    /// The advisory or rule id.
    pub id: String,
    /// Other ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The rating (`critical`...`none`, or `unknown`).
    pub severity: String,
    /// A score, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Where (component, file and line, URL...).
    pub location: String,
    /// A title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The fixing version, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip)]
    rating: Option<Rating>,
}

#[derive(Debug, Serialize)]
struct TargetOut<'a> {
    path: &'a str,
    kind: TargetKind,
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct Summary {
    findings: usize,
    by_tool: BTreeMap<String, usize>,
    by_severity: BTreeMap<String, usize>,
    scanners_run: usize,
    scanners_failed: usize,
}

/// The combined report (`--format json` with `--scanners`).
#[derive(Debug, Serialize)]
pub struct Combined<'a> {
    schema_version: &'static str,
    config: &'a str,
    target: TargetOut<'a>,
    /// The built-in matcher's full report; absent when it could not run on
    /// the target (an image reference).
    builtin: Option<&'a ScanReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    scanners: Vec<ScannerResult>,
    summary: Summary,
    findings: Vec<Row>,
}

/// Runs the selected scanners one after the other under a progress bar.
pub fn run(
    config: &Config,
    target: &Target,
    only: &[String],
) -> Vec<(String, Format, Result<ScanRun, RunError>)> {
    let selected = match config.select(target.kind, only) {
        Ok(s) => s,
        Err(_) => return Vec::new(),
    };
    let bar = ProgressBar::new(selected.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} scanners {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut out = Vec::with_capacity(selected.len());
    for s in selected {
        bar.set_message(format!("running {}", s.name));
        let r = palisade_scanners::run(s, target);
        // Failures are reported once, after the bar (see report_failures).
        if let Ok(run) = &r {
            bar.println(format!(
                "scanner {}: {} findings in {:.1}s",
                s.name,
                run.import.findings.len(),
                run.duration.as_secs_f64()
            ));
        }
        bar.inc(1);
        out.push((s.name.clone(), s.format, r));
    }
    bar.finish_and_clear();
    out
}

/// Puts the built-in report and the scanners' results together.
pub fn combine<'a>(
    config: &'a Config,
    path: &'a str,
    target: &'a Target,
    builtin: Option<&'a ScanReport>,
    notes: Vec<String>,
    runs: Vec<(String, Format, Result<ScanRun, RunError>)>,
) -> Combined<'a> {
    let mut rows = Vec::new();
    if let Some(b) = builtin {
        for f in &b.findings {
            rows.push(Row {
                tool: b.tool.name.clone(),
                scanner: None,
                kind: "vulnerability".into(),
                id: f.id.clone(),
                aliases: f.aliases.clone(),
                severity: f
                    .severity
                    .as_ref()
                    .map_or("unknown", |s| s.rating.as_str())
                    .to_owned(),
                score: f.severity.as_ref().and_then(|s| s.score),
                location: match (&f.component.purl, &f.component.version) {
                    (Some(p), _) => p.clone(),
                    (None, Some(v)) => format!("{}@{v}", f.component.name),
                    (None, None) => f.component.name.clone(),
                },
                title: f.summary.clone(),
                fix: f.fix.clone(),
                rating: f.severity.as_ref().map(|s| s.rating),
            });
        }
    }
    let mut scanners = Vec::new();
    for (name, format, r) in runs {
        match r {
            Ok(run) => {
                for f in &run.import.findings {
                    let rating = f.severity.as_ref().and_then(|s| s.rating);
                    rows.push(Row {
                        tool: f.tool.name.clone(),
                        scanner: Some(name.clone()),
                        kind: f.kind.as_str().to_owned(),
                        id: f.rule_id.clone(),
                        aliases: f.aliases.clone(),
                        severity: rating.map_or("unknown", |r| r.as_str()).to_owned(),
                        score: f.severity.as_ref().and_then(|s| s.score),
                        location: f.location.summary(),
                        title: f.title.clone(),
                        fix: None,
                        rating,
                    });
                }
                scanners.push(ScannerResult {
                    name,
                    format,
                    status: "ok",
                    reason: None,
                    error: None,
                    exit_code: run.exit_code,
                    duration_ms: u64::try_from(run.duration.as_millis()).unwrap_or(u64::MAX),
                    findings: run.import.findings.len(),
                    warnings: run
                        .import
                        .warnings
                        .iter()
                        .map(|w| format!("{}: {}", w.path, w.reason))
                        .collect(),
                    stats: Some(run.import.stats),
                    stderr: None,
                });
            }
            Err(e) => scanners.push(ScannerResult {
                name,
                format,
                status: "failed",
                reason: Some(e.reason()),
                error: Some(e.to_string()),
                exit_code: match &e {
                    RunError::Failed { code, .. } => *code,
                    _ => None,
                },
                duration_ms: 0,
                findings: 0,
                stats: None,
                warnings: Vec::new(),
                stderr: e.stderr().filter(|s| !s.is_empty()).map(str::to_owned),
            }),
        }
    }
    let mut by_tool: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_severity: BTreeMap<String, usize> =
        ["critical", "high", "medium", "low", "none", "unknown"]
            .into_iter()
            .map(|k| (k.to_owned(), 0))
            .collect();
    for r in &rows {
        *by_tool.entry(r.tool.clone()).or_default() += 1;
        *by_severity.entry(r.severity.clone()).or_default() += 1;
    }
    Combined {
        schema_version: "1",
        config: &config.file,
        target: TargetOut {
            path,
            kind: target.kind,
            value: &target.value,
        },
        builtin,
        notes,
        summary: Summary {
            findings: rows.len(),
            by_tool,
            by_severity,
            scanners_run: scanners.len(),
            scanners_failed: scanners.iter().filter(|s| s.status != "ok").count(),
        },
        scanners,
        findings: rows,
    }
}

impl Combined<'_> {
    /// Whether any finding, from any tool, is rated at or above `t`.
    pub fn has_findings_at_or_above(&self, t: Rating) -> bool {
        self.findings.iter().any(|r| match r.rating {
            Some(rating) => rating >= t,
            None => t == Rating::None,
        })
    }

    /// Whether a scanner failed or timed out.
    pub fn any_failed(&self) -> bool {
        self.summary.scanners_failed > 0
    }

    /// Prints the combined table.
    pub fn print_table(&self) {
        for n in &self.notes {
            eprintln!("note: {n}");
        }
        if self.findings.is_empty() {
            println!("no findings");
        } else {
            let mut t = output::table(["tool", "severity", "kind", "id", "location", "fix"]);
            for r in &self.findings {
                let sev = match r.score {
                    Some(s) => format!("{} {s:.1}", r.severity),
                    None => r.severity.clone(),
                };
                let mut id = r.id.clone();
                for a in r.aliases.iter().take(2) {
                    id.push('\n');
                    id.push_str(a);
                }
                t.add_row([
                    r.tool.clone(),
                    sev,
                    r.kind.clone(),
                    id,
                    cut(&r.location, 70),
                    r.fix.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            println!("{t}");
        }
        for s in &self.scanners {
            match &s.error {
                None => println!(
                    "scanner {}: {} findings ({}, exit {}, {:.1}s)",
                    s.name,
                    s.findings,
                    s.format,
                    s.exit_code.map_or_else(|| "-".into(), |c| c.to_string()),
                    s.duration_ms as f64 / 1000.0
                ),
                Some(e) => println!("scanner {}: FAILED ({})", s.name, short(e)),
            }
        }
        let s = &self.summary;
        let sev = |k: &str| s.by_severity.get(k).copied().unwrap_or(0);
        let tools: Vec<String> = s.by_tool.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{} findings (critical {}, high {}, medium {}, low {}, none {}, unknown {}) by tool: {}; {} scanners run, {} failed",
            s.findings,
            sev("critical"),
            sev("high"),
            sev("medium"),
            sev("low"),
            sev("none"),
            sev("unknown"),
            if tools.is_empty() {
                "-".to_owned()
            } else {
                tools.join(", ")
            },
            s.scanners_run,
            s.scanners_failed,
        );
    }

    /// Prints each failure on stderr.
    pub fn report_failures(&self) {
        for s in &self.scanners {
            if let Some(e) = &s.error {
                eprintln!("error: {e}");
            }
        }
    }
}

fn short(s: &str) -> String {
    cut(s.lines().next().unwrap_or_default(), 160)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}
