//! `palisade version`: compare, sort and range-check versions.

use std::cmp::Ordering;
use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use palisade_versions::{
    AffectedBy, AffectedRanges, Ecosystem, RangeStatus, SetMatch, VersRange, Version,
};

use crate::GlobalArgs;
use crate::output::OutputFormat;

#[derive(Debug, clap::Subcommand)]
pub enum VersionCommand {
    /// Compare two versions; prints `<`, `=` or `>`.
    ///
    /// With `--stdin`, reads one tab-separated pair per line and prints one
    /// symbol per line; an unparsable pair prints `error: <reason>` on its
    /// line, and the run exits 1 after the rest are done (a line that is not
    /// UTF-8 is one such pair). With `--format json`, prints one document
    /// holding a result or an error per line.
    Compare(CompareArgs),
    /// Sort versions read from stdin (one per line), ascending.
    Sort(SortArgs),
    /// Check whether a version is inside a range; prints `affected` or
    /// `not-affected` (exit 0 either way, 2 on an error).
    ///
    /// The range is a purl `vers:` range (`vers:npm/>=1.0.0|<1.2.3`) or OSV
    /// JSON: one `ranges[]` object, or a whole `affected[]` entry with
    /// `ranges` and `versions`. `@FILE` reads it from a file. With
    /// `--format json`, prints the matched interval and the fixed versions.
    Affected(AffectedArgs),
}

#[derive(Debug, clap::Args)]
pub struct EcosystemArg {
    /// OSV ecosystem name (`PyPI`, `npm`, `Maven`, `Debian:12`...).
    #[arg(long, short = 'e', value_parser = parse_ecosystem)]
    pub ecosystem: Ecosystem,
}

fn parse_ecosystem(s: &str) -> Result<Ecosystem, String> {
    s.parse::<Ecosystem>().map_err(|e| e.to_string())
}

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub eco: EcosystemArg,
    /// Read tab-separated pairs from stdin instead of A and B.
    #[arg(long, conflicts_with_all = ["a", "b"])]
    pub stdin: bool,
    /// The first version.
    #[arg(required_unless_present = "stdin")]
    pub a: Option<String>,
    /// The second version.
    #[arg(required_unless_present = "stdin")]
    pub b: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SortArgs {
    #[command(flatten)]
    pub eco: EcosystemArg,
}

#[derive(Debug, clap::Args)]
pub struct AffectedArgs {
    #[command(flatten)]
    pub eco: EcosystemArg,
    /// The range: `vers:<scheme>/<constraints>`, OSV range JSON, or `@FILE`.
    #[arg(long, short = 'r', value_name = "RANGE")]
    pub range: String,
    /// The version to check.
    #[arg(value_name = "VERSION")]
    pub candidate: String,
}

pub fn run(cmd: VersionCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match cmd {
        VersionCommand::Compare(args) => compare(args, global),
        VersionCommand::Sort(args) => sort(args, global),
        VersionCommand::Affected(args) => affected(args, global),
    }
}

fn symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

fn compare(args: CompareArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let eco = args.eco.ecosystem;
    if !args.stdin {
        let (a, b) = (args.a.unwrap_or_default(), args.b.unwrap_or_default());
        let ord = palisade_versions::compare(eco, &a, &b)?;
        match global.format {
            OutputFormat::Table => println!("{}", symbol(ord)),
            OutputFormat::Json => crate::output::print_json(&serde_json::json!({
                "ecosystem": eco.as_str(), "a": a, "b": b, "result": symbol(ord),
            }))?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = false;
    let mut results = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0usize;
    loop {
        buf.clear();
        let read = input
            .read_until(b'\n', &mut buf)
            .with_context(|| format!("reading stdin line {}", n + 1))?;
        if read == 0 {
            break;
        }
        n += 1;
        let raw = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // A line that is not UTF-8 is one bad pair, not the end of the run.
        let result = match std::str::from_utf8(raw) {
            Err(_) => Err(format!("line {n}: not valid UTF-8")),
            Ok(line) => match line.split_once('\t') {
                Some((a, b)) => palisade_versions::compare(eco, a, b)
                    .map(|ord| (a.to_owned(), b.to_owned(), ord))
                    .map_err(|e| e.to_string()),
                None => Err(format!(
                    "line {n}: expected two versions separated by a tab"
                )),
            },
        };
        failed |= result.is_err();
        match global.format {
            OutputFormat::Table => match &result {
                Ok((_, _, ord)) => writeln!(out, "{}", symbol(*ord))?,
                Err(reason) => writeln!(out, "error: {reason}")?,
            },
            OutputFormat::Json => results.push(match result {
                Ok((a, b, ord)) => serde_json::json!({
                    "line": n, "a": a, "b": b, "result": symbol(ord),
                }),
                Err(reason) => serde_json::json!({"line": n, "error": reason}),
            }),
        }
    }
    out.flush()?;
    drop(out);
    if global.format == OutputFormat::Json {
        crate::output::print_json(&serde_json::json!({
            "ecosystem": eco.as_str(), "results": results,
        }))?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn sort(args: SortArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let eco = args.eco.ecosystem;
    let mut versions = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.with_context(|| format!("reading stdin line {}", n + 1))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v = Version::parse(eco, line).with_context(|| format!("stdin line {}", n + 1))?;
        versions.push((v, line.to_owned()));
    }
    // A stable sort keeps equal versions (`1.0` and `1.0.0`) in input order.
    versions.sort_by(|a, b| a.0.cmp(&b.0));
    match global.format {
        OutputFormat::Table => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            for (_, s) in &versions {
                writeln!(out, "{s}")?;
            }
            out.flush()?;
        }
        OutputFormat::Json => {
            let list: Vec<&str> = versions.iter().map(|(_, s)| s.as_str()).collect();
            crate::output::print_json(&list)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The largest range text `affected` accepts (a whole OSV entry with a long
/// `versions` list fits comfortably).
const MAX_RANGE_TEXT: u64 = 8 * 1024 * 1024;

fn read_range_text(arg: &str) -> anyhow::Result<String> {
    let Some(path) = arg.strip_prefix('@') else {
        return Ok(arg.to_owned());
    };
    let file = std::fs::File::open(path).with_context(|| format!("opening range file {path}"))?;
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(file, MAX_RANGE_TEXT + 1),
        &mut text,
    )
    .with_context(|| format!("reading range file {path}"))?;
    if text.len() as u64 > MAX_RANGE_TEXT {
        anyhow::bail!("range file {path} is larger than {MAX_RANGE_TEXT} bytes");
    }
    Ok(text)
}

fn affected(args: AffectedArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let eco = args.eco.ecosystem;
    let text = read_range_text(&args.range)?;
    let trimmed = text.trim();
    let parsed = Version::parse(eco, &args.candidate);
    let mut details = serde_json::Map::new();
    details.insert("ecosystem".into(), eco.as_str().into());
    details.insert("version".into(), args.candidate.clone().into());
    let is_affected = if trimmed.starts_with("vers:") {
        let vers = VersRange::parse(trimmed).context("parsing the --range vers")?;
        if let Some(vers_eco) = vers.ecosystem()
            && vers_eco.scheme() != eco.scheme()
        {
            anyhow::bail!(
                "the vers scheme {:?} orders versions like {} ({:?}), but ecosystem {} uses {:?}; \
                 pass a vers scheme of the same ordering",
                vers.scheme_name(),
                vers_eco,
                vers_eco.scheme(),
                eco,
                eco.scheme()
            );
        }
        details.insert("range".into(), vers.to_string().into());
        let version = parsed?;
        let found = vers.find(&version);
        let hit = vers.contains(&version);
        match found {
            Some(SetMatch::Interval(iv)) => {
                details.insert(
                    "matched".into(),
                    serde_json::json!({"kind": "interval", "interval": iv.to_string()}),
                );
            }
            Some(SetMatch::Exact(v)) => {
                details.insert(
                    "matched".into(),
                    serde_json::json!({"kind": "exact", "version": v.to_string()}),
                );
            }
            None if hit => {
                details.insert("matched".into(), serde_json::json!({"kind": "all"}));
            }
            None => {}
        }
        hit
    } else if trimmed.starts_with('{') {
        let compiled =
            AffectedRanges::from_json(eco, trimmed).context("parsing the --range OSV JSON")?;
        // A version the ecosystem cannot parse is still affected when the
        // entry lists that very string (and cannot parse it either).
        let version = match parsed {
            Ok(v) => v,
            Err(e) => {
                if compiled
                    .unparsed_versions()
                    .iter()
                    .any(|(_, s, _)| s == &args.candidate)
                {
                    details.insert(
                        "matched".into(),
                        serde_json::json!({"kind": "listed-verbatim"}),
                    );
                    return print_affected(true, details, global);
                }
                return Err(e.into());
            }
        };
        let eval = compiled.evaluate(&version);
        match eval.affected_by {
            Some(AffectedBy::Range {
                range,
                interval,
                fixed,
            }) => {
                details.insert(
                    "matched".into(),
                    serde_json::json!({
                        "kind": "range", "range": range, "interval": interval.to_string(),
                        "fixed": fixed,
                    }),
                );
            }
            Some(AffectedBy::Listed { index }) => {
                details.insert(
                    "matched".into(),
                    serde_json::json!({"kind": "listed", "index": index}),
                );
            }
            None => {}
        }
        details.insert("fixed".into(), compiled.fixed_versions().into());
        let unevaluable: Vec<serde_json::Value> = eval
            .unevaluable
            .iter()
            .map(|(i, status)| {
                let reason = match status {
                    RangeStatus::Git { .. } => {
                        "GIT range: commits cannot be compared with package versions".to_owned()
                    }
                    RangeStatus::Unordered(e) => format!("{e} versions have no defined order"),
                    RangeStatus::Evaluable => "evaluable".to_owned(),
                };
                serde_json::json!({"range": i, "reason": reason})
            })
            .collect();
        if eval.affected_by.is_none() {
            for u in &unevaluable {
                eprintln!(
                    "warning: ranges[{}] was not evaluated ({}); the answer covers the other ranges and the versions list only",
                    u["range"],
                    u["reason"].as_str().unwrap_or_default()
                );
            }
        }
        details.insert("unevaluable".into(), unevaluable.into());
        for (i, s, reason) in compiled.unparsed_versions() {
            eprintln!(
                "warning: versions[{i}] {s:?} is not a valid {eco} version ({reason}); it only matches the same string"
            );
        }
        eval.affected_by.is_some()
            || compiled
                .unparsed_versions()
                .iter()
                .any(|(_, s, _)| s == &args.candidate)
    } else {
        anyhow::bail!(
            "--range must be a vers range (\"vers:npm/>=1.0.0|<2.0.0\"), OSV JSON (a range object or an affected entry), or @FILE"
        );
    };
    print_affected(is_affected, details, global)
}

fn print_affected(
    is_affected: bool,
    mut details: serde_json::Map<String, serde_json::Value>,
    global: &GlobalArgs,
) -> anyhow::Result<ExitCode> {
    let word = if is_affected {
        "affected"
    } else {
        "not-affected"
    };
    match global.format {
        OutputFormat::Table => println!("{word}"),
        OutputFormat::Json => {
            details.insert("result".into(), word.into());
            crate::output::print_json(&serde_json::Value::Object(details))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
