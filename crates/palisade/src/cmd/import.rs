//! `palisade import FILE...`: read other scanners' outputs (SARIF, Trivy,
//! Grype, osv-scanner, ZAP, Falco), merge what is the same, and print the
//! findings.
//!
//! Each file's format is detected from its content unless one is named.
//! The scanner format is named with `--format auto|sarif|trivy|grype|
//! osv-scanner|zap|falco` after `import` (or `--input-format`); the global
//! `--format table|json` still chooses the output, before or after `import`.
//!
//! Exit codes: 0 every file was read; 1 a file could not be parsed (each
//! error names the file and the JSON path on stderr; the files that could
//! be read are still reported); 2 usage error or unreadable file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use palisade_findings::{
    DEFAULT_MAX_BYTES, Finding, Format, Import, ImportError, ImportOptions, ImportStats,
    ImportWarning, Tool, merge,
};
use serde::Serialize;

use crate::GlobalArgs;
use crate::output::{self, OutputFormat};

/// Which scanner format to read the files as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// Detect each file's format from its content.
    Auto,
    /// One format for every file.
    Named(Format),
}

fn parse_input_format(s: &str) -> Result<InputFormat, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(InputFormat::Auto);
    }
    s.parse::<Format>()
        .map(InputFormat::Named)
        .map_err(|e| format!("{e}, or auto"))
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Scanner output files.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Their format: auto (detect from content), sarif, trivy, grype,
    /// osv-scanner, zap or falco. `--format` after `import` names it too.
    #[arg(
        long = "input-format",
        visible_alias = "from",
        value_name = "FORMAT",
        default_value = "auto",
        value_parser = parse_input_format
    )]
    pub input_format: InputFormat,
    /// The artifact the scans are about (an image or file digest such as
    /// `sha256:...`), recorded in the output.
    #[arg(long, value_name = "DIGEST")]
    pub artifact: Option<String>,
    /// The largest file accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BYTES)]
    pub max_bytes: usize,
}

/// Scanner format words that `--format` may carry after `import`.
const SCANNER_FORMATS: [&str; 8] = [
    "auto",
    "sarif",
    "trivy",
    "grype",
    "osv-scanner",
    "osv",
    "zap",
    "falco",
];

/// The global `--format` chooses the output (`table`, `json`); after
/// `import`, a scanner format word there names the input format instead.
/// This turns `import ... --format sarif` into `--input-format sarif`
/// before clap sees it, and leaves everything else alone.
pub fn scanner_format_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // Find the subcommand: the first word that is neither an option nor the
    // value of a global option taking one.
    let mut i = 1;
    let mut sub = None;
    while let Some(a) = args.get(i) {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        }
        if s.starts_with('-') {
            let takes_value = matches!(s.as_ref(), "--data-dir" | "--format" | "--log");
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        sub = (s == "import").then_some(i);
        break;
    }
    let Some(start) = sub else {
        return args;
    };
    let is_scanner = |v: &str| SCANNER_FORMATS.contains(&v.to_ascii_lowercase().as_str());
    let mut j = start + 1;
    while j < args.len() {
        let s = args
            .get(j)
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        if s == "--" {
            break;
        }
        if s == "--format" {
            let next = args.get(j + 1).map(|a| a.to_string_lossy().into_owned());
            if next.as_deref().is_some_and(is_scanner)
                && let Some(slot) = args.get_mut(j)
            {
                *slot = OsString::from("--input-format");
            }
            j += 2;
            continue;
        }
        if let Some(v) = s.strip_prefix("--format=")
            && is_scanner(v)
            && let Some(slot) = args.get_mut(j)
        {
            *slot = OsString::from(format!("--input-format={v}"));
        }
        j += 1;
    }
    args
}

/// One file that was read.
#[derive(Debug, Serialize)]
struct Document {
    file: String,
    format: Format,
    tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    stats: ImportStats,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<ImportWarning>,
}

/// One file that could not be parsed.
#[derive(Debug, Serialize)]
struct FileError {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    message: String,
}

#[derive(Debug, Serialize)]
struct Summary {
    documents: usize,
    errors: usize,
    raw: usize,
    findings: usize,
    /// Findings reported by more than one tool.
    multi_tool: usize,
    by_severity: BTreeMap<String, usize>,
    by_kind: BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
struct Report {
    schema_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    artifact: Option<String>,
    summary: Summary,
    documents: Vec<Document>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FileError>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    findings: Vec<Finding>,
}

fn read_limited(path: &Path, max: usize) -> anyhow::Result<Vec<u8>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes)
}

pub fn run(args: ImportArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = ImportOptions {
        max_bytes: args.max_bytes,
        ..ImportOptions::default()
    };
    let format = match args.input_format {
        InputFormat::Auto => None,
        InputFormat::Named(f) => Some(f),
    };
    let mut imports: Vec<Import> = Vec::new();
    let mut errors: Vec<FileError> = Vec::new();
    for path in &args.files {
        if path.is_dir() {
            anyhow::bail!(
                "{} is a directory; name the scanner output files",
                path.display()
            );
        }
        let name = path.display().to_string();
        let bytes = read_limited(path, args.max_bytes)?;
        match palisade_findings::import(&bytes, &name, format, &options) {
            Ok(i) => imports.push(i),
            Err(e) => errors.push(file_error(&e)),
        }
    }
    for e in &errors {
        eprintln!("error: {}", e.message);
    }
    for i in &imports {
        for w in i.warnings.iter().take(20) {
            eprintln!("warning: {}: {w}", i.document);
        }
        if i.warnings.len() > 20 {
            eprintln!(
                "warning: {}: {} more warnings (see --format json)",
                i.document,
                i.warnings.len() - 20
            );
        }
    }

    let raw: usize = imports.iter().map(|i| i.findings.len()).sum();
    let merged = merge(imports.iter().flat_map(|i| i.findings.iter().cloned()));
    let mut by_severity: BTreeMap<String, usize> =
        ["critical", "high", "medium", "low", "none", "unknown"]
            .into_iter()
            .map(|k| (k.to_owned(), 0))
            .collect();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for f in &merged.findings {
        let rating = f
            .severity
            .as_ref()
            .and_then(|s| s.rating)
            .map_or("unknown", |r| r.as_str());
        *by_severity.entry(rating.to_owned()).or_default() += 1;
        *by_kind.entry(f.kind.as_str().to_owned()).or_default() += 1;
    }
    let report = Report {
        schema_version: "1",
        artifact: args.artifact.clone(),
        summary: Summary {
            documents: imports.len(),
            errors: errors.len(),
            raw,
            findings: merged.findings.len(),
            multi_tool: merged.findings.iter().filter(|f| f.tools.len() > 1).count(),
            by_severity,
            by_kind,
        },
        documents: imports
            .into_iter()
            .map(|i| Document {
                file: i.document,
                format: i.format,
                tools: i.tools,
                target: i.target,
                created_at: i.created_at,
                stats: i.stats,
                warnings: i.warnings,
            })
            .collect(),
        errors,
        notes: merged.notes,
        findings: merged.findings,
    };
    match global.format {
        OutputFormat::Json => output::print_json(&report)?,
        OutputFormat::Table => print_table(&report),
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn file_error(e: &ImportError) -> FileError {
    FileError {
        file: e.document().to_owned(),
        path: e.path().map(str::to_owned),
        message: e.to_string(),
    }
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

fn print_table(report: &Report) {
    if let Some(a) = &report.artifact {
        println!("artifact {a}");
    }
    if report.findings.is_empty() {
        println!("no findings");
    } else {
        let mut t = output::table(["severity", "kind", "id", "location", "tools", "fingerprint"]);
        for f in &report.findings {
            let sev = match &f.severity {
                Some(s) => match (s.rating, s.score) {
                    (Some(r), Some(score)) => format!("{r} {score:.1}"),
                    (Some(r), None) => r.to_string(),
                    (None, Some(score)) => format!("{score:.1}"),
                    (None, None) => s.label.clone().unwrap_or_else(|| "unknown".into()),
                },
                None => "unknown".to_owned(),
            };
            let mut id = cut(&f.id, 60);
            let shown: Vec<&str> = f.aliases.iter().take(3).map(String::as_str).collect();
            if !shown.is_empty() {
                id.push('\n');
                id.push_str(&shown.join("\n"));
            }
            if f.aliases.len() > 3 {
                id.push_str(&format!("\n+{} more", f.aliases.len() - 3));
            }
            let tools = if f.sources.len() > f.tools.len() {
                format!("{}\n({} reports)", f.tools.join("\n"), f.sources.len())
            } else {
                f.tools.join("\n")
            };
            t.add_row([
                sev,
                f.kind.to_string(),
                id,
                cut(&f.location.summary(), 70),
                tools,
                f.fingerprint.chars().take(12).collect(),
            ]);
        }
        println!("{t}");
    }
    for d in &report.documents {
        let tools: Vec<String> = d
            .tools
            .iter()
            .map(|t| match &t.version {
                Some(v) => format!("{} {v}", t.name),
                None => t.name.clone(),
            })
            .collect();
        let skipped: usize = d.stats.skipped.values().sum();
        println!(
            "{}: {} ({}), {} results, {} imported{}",
            d.file,
            d.format,
            tools.join(", "),
            d.stats.results,
            d.stats.imported,
            if skipped > 0 {
                format!(", {skipped} skipped")
            } else {
                String::new()
            }
        );
    }
    let s = &report.summary;
    let sev = |k: &str| s.by_severity.get(k).copied().unwrap_or(0);
    println!(
        "{} raw results from {} files -> {} findings (critical {}, high {}, medium {}, low {}, none {}, unknown {}); {} reported by more than one tool",
        s.raw,
        s.documents,
        s.findings,
        sev("critical"),
        sev("high"),
        sev("medium"),
        sev("low"),
        sev("none"),
        sev("unknown"),
        s.multi_tool,
    );
    if s.errors > 0 {
        eprintln!("{} files could not be read", s.errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(args: &[&str]) -> Vec<String> {
        scanner_format_args(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn scanner_formats_after_import_become_input_formats() {
        assert_eq!(
            rewrite(&["p", "import", "a.sarif", "--format", "sarif"]),
            ["p", "import", "a.sarif", "--input-format", "sarif"]
        );
        assert_eq!(
            rewrite(&[
                "p",
                "--format",
                "json",
                "import",
                "--format=osv-scanner",
                "x"
            ]),
            [
                "p",
                "--format",
                "json",
                "import",
                "--input-format=osv-scanner",
                "x"
            ]
        );
        // The output format is left to the global option.
        assert_eq!(
            rewrite(&["p", "import", "x", "--format", "json"]),
            ["p", "import", "x", "--format", "json"]
        );
        // Other commands are untouched.
        assert_eq!(
            rewrite(&["p", "scan", "x", "--format", "sarif"]),
            ["p", "scan", "x", "--format", "sarif"]
        );
        assert_eq!(
            rewrite(&["p", "--data-dir", "import", "scan", "--format", "sarif"]),
            ["p", "--data-dir", "import", "scan", "--format", "sarif"]
        );
    }
}
