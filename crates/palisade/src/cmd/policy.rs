//! `palisade policy`: evaluate, test, list, compare and export Rego policies.
//!
//! Design: a thin edge over `palisade-policy`. Files are read here (bundle,
//! input, exceptions), the library decides, and every decision is appended
//! to the decision log (`<data dir>/decisions.jsonl` unless
//! `--decision-log` says otherwise). Exit codes: 0 allow or warn (or all
//! tests passed), 1 deny (or a test failed), 2 usage or input error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use palisade_policy::decision::Effect;
use palisade_policy::testing::{TestOptions, TestStatus, run_tests};
use palisade_policy::{Bundle, Decision, Engine, EngineOptions, Exception, Outcome, PolicyInput};

use crate::GlobalArgs;
use crate::output::{OutputFormat, print_json, table};

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Decide about one input document in one environment.
    Eval(EvalArgs),
    /// Run the `test_*` rules of a bundle, like `opa test`.
    Test(TestArgs),
    /// List the policies of a bundle and their mode in every environment.
    List(BundleArgs),
    /// Show what a policy change would newly deny over a set of inputs.
    WhatIf(WhatIfArgs),
    /// Write the built-in library's files to a directory, to start a bundle.
    Export(ExportArgs),
}

/// Which bundle to use.
#[derive(Debug, Clone, clap::Args)]
pub struct BundleArgs {
    /// A bundle: a directory, a `.tar.gz`, or one `.rego` file. Default: the built-in library.
    #[arg(long, short = 'p', value_name = "DIR|FILE")]
    pub policy: Option<PathBuf>,
    /// The evaluation budget of one decision, in milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub budget_ms: u64,
    /// Parse modules as Rego v0 (OPA's `--v0-compatible`).
    #[arg(long)]
    pub v0_compatible: bool,
    /// Builtin errors make an expression undefined, as in OPA's default,
    /// instead of failing the decision (not recommended: a failing builtin
    /// can then silently drop a violation).
    #[arg(long)]
    pub lenient_builtin_errors: bool,
}

impl BundleArgs {
    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            time_budget: Duration::from_millis(self.budget_ms.max(1)),
            strict_builtin_errors: !self.lenient_builtin_errors,
            rego_v0: self.v0_compatible,
        }
    }

    pub fn bundle(&self) -> anyhow::Result<Bundle> {
        match &self.policy {
            Some(path) => palisade_policy::load::load(path)
                .with_context(|| format!("cannot read the policy bundle {}", path.display())),
            None => Ok(palisade_policy::library::builtin_bundle()?),
        }
    }

    pub fn engine(&self) -> anyhow::Result<Engine> {
        let bundle = self.bundle()?;
        Engine::new(&bundle, self.options()).context("cannot compile the policy bundle")
    }
}

/// Where decisions are logged.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    /// Append decisions to this JSON-lines file (default: `decisions.jsonl` in the data directory).
    #[arg(long, value_name = "FILE")]
    pub decision_log: Option<PathBuf>,
    /// Do not append to the decision log.
    #[arg(long, conflicts_with = "decision_log")]
    pub no_decision_log: bool,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub bundle: BundleArgs,
    /// The input document (JSON, `docs/policy-input.schema.json`); `-` reads stdin.
    #[arg(long, short = 'i', value_name = "FILE")]
    pub input: PathBuf,
    /// The environment.
    #[arg(long, short = 'e', value_name = "ENV")]
    pub env: String,
    /// Exceptions on offer (a JSON or YAML list).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Decide as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Print the input exactly as the policies see it, and do not decide.
    #[arg(long)]
    pub show_input: bool,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The bundle to test (directory, `.tar.gz` or `.rego`). Default: the built-in library.
    pub dir: Option<PathBuf>,
    /// Run only tests whose `package.name` contains this text.
    #[arg(long, value_name = "TEXT")]
    pub run: Option<String>,
    /// The time limit of each test, in milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub timeout_ms: u64,
    /// Parse modules as Rego v0.
    #[arg(long)]
    pub v0_compatible: bool,
    /// List every test, not only failures.
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

#[derive(Debug, clap::Args)]
pub struct WhatIfArgs {
    #[command(flatten)]
    pub current: BundleArgs,
    /// The changed bundle.
    #[arg(long, value_name = "DIR|FILE")]
    pub candidate: PathBuf,
    /// Input documents: files, or directories of `*.json` files.
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub inputs: Vec<PathBuf>,
    /// The environment.
    #[arg(long, short = 'e', value_name = "ENV")]
    pub env: String,
    /// Exceptions on offer.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Decide as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The directory to write to (must not exist or be empty).
    pub dir: PathBuf,
}

pub fn run(cmd: PolicyCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match cmd {
        PolicyCommand::Eval(args) => eval(args, global),
        PolicyCommand::Test(args) => test(args, global),
        PolicyCommand::List(args) => list(args, global),
        PolicyCommand::WhatIf(args) => what_if(args, global),
        PolicyCommand::Export(args) => export(args),
    }
}

/// Reads a file, or stdin for `-`, within a size limit.
pub fn read_input_file(path: &Path, limit: usize) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let reader: Box<dyn std::io::Read> = if path == Path::new("-") {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        )
    };
    std::io::Read::read_to_end(
        &mut std::io::Read::take(reader, limit as u64 + 1),
        &mut bytes,
    )
    .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > limit {
        bail!("{} is larger than {limit} bytes", path.display());
    }
    Ok(bytes)
}

pub fn read_exceptions(path: Option<&Path>) -> anyhow::Result<Vec<Exception>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let bytes = read_input_file(path, 16 * 1024 * 1024)?;
    palisade_policy::exception::parse_exceptions(&bytes)
        .with_context(|| format!("invalid exceptions file {}", path.display()))
}

pub fn parse_now(now: Option<&str>) -> anyhow::Result<palisade_policy::OffsetDateTime> {
    match now {
        Some(s) => {
            palisade_policy::parse_rfc3339(s).with_context(|| format!("invalid --now {s:?}"))
        }
        None => Ok(palisade_policy::OffsetDateTime::now_utc()),
    }
}

/// Appends one record to the decision log.
pub fn log_decision(decision: &Decision, log: &LogArgs, global: &GlobalArgs) -> anyhow::Result<()> {
    if log.no_decision_log {
        return Ok(());
    }
    let path = match &log.decision_log {
        Some(p) => p.clone(),
        None => global.data_dir()?.join("decisions.jsonl"),
    };
    let mut line = decision.record().to_json_line();
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open the decision log {}", path.display()))?;
    // One write of the whole line, so concurrent writers do not interleave lines.
    file.write_all(line.as_bytes())
        .with_context(|| format!("cannot append to the decision log {}", path.display()))?;
    Ok(())
}

/// Prints a decision as tables or JSON.
pub fn print_decision(decision: &Decision, format: OutputFormat) -> anyhow::Result<()> {
    if format == OutputFormat::Json {
        return print_json(decision);
    }
    println!(
        "decision: {}  (environment {}, artifact {}@{})",
        decision.outcome.as_str().to_uppercase(),
        decision.environment,
        decision.artifact.name,
        decision.artifact.digest
    );
    if !decision.errors.is_empty() {
        let mut t = table(["error", "policy", "message"]);
        for e in &decision.errors {
            let kind = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let policy = match (&e.policy, e.rule) {
                (Some(p), Some(r)) => format!("{p}.{}", r.name()),
                (Some(p), None) => p.clone(),
                _ => "-".into(),
            };
            t.add_row([kind, policy, e.message.clone()]);
        }
        println!("{t}");
    }
    if !decision.violations.is_empty() {
        let mut t = table(["effect", "policy", "severity", "vulnerability", "message"]);
        for effect in [Effect::Deny, Effect::Warn, Effect::Audit] {
            for v in decision.violations.iter().filter(|v| v.effect == effect) {
                t.add_row([
                    effect.as_str().to_string(),
                    v.policy.clone(),
                    v.severity.as_str().to_string(),
                    v.vulnerability.clone().unwrap_or_else(|| "-".into()),
                    v.message.clone(),
                ]);
            }
        }
        println!("{t}");
    }
    if !decision.waived.is_empty() {
        let mut t = table(["waived by", "policy", "vulnerability", "message"]);
        for v in &decision.waived {
            t.add_row([
                v.waived_by.clone().unwrap_or_default(),
                v.policy.clone(),
                v.vulnerability.clone().unwrap_or_else(|| "-".into()),
                v.message.clone(),
            ]);
        }
        println!("{t}");
    }
    for a in &decision.exceptions_applied {
        println!(
            "exception {} applied ({} violation(s)): {} (requested by {}, approved by {}, expires {})",
            a.id, a.waived, a.reason, a.requested_by, a.approved_by, a.expires_at
        );
    }
    for i in &decision.exceptions_ignored {
        println!("exception {} ignored: {}", i.id, i.status.as_str());
    }
    println!(
        "input {}  bundle {}",
        decision.input_digest.as_deref().unwrap_or("-"),
        decision.bundle_digest
    );
    Ok(())
}

pub fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Allow | Outcome::Warn => ExitCode::SUCCESS,
        Outcome::Deny => ExitCode::from(1),
    }
}

fn eval(args: EvalArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let engine = args.bundle.engine()?;
    let bytes = read_input_file(&args.input, palisade_policy::input::limits::MAX_INPUT_BYTES)?;
    let input = PolicyInput::from_json(&bytes)
        .with_context(|| format!("invalid input {}", args.input.display()))?;
    let exceptions = read_exceptions(args.exceptions.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    if args.show_input {
        print_json(&engine.prepared_input(&input, &args.env, &exceptions, now)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let decision = engine.decide(&input, &args.env, &exceptions, now);
    log_decision(&decision, &args.log, global)?;
    print_decision(&decision, global.format)?;
    Ok(exit_code(decision.outcome))
}

fn test(args: TestArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let bundle = match &args.dir {
        Some(p) => palisade_policy::load::load(p)
            .with_context(|| format!("cannot read {}", p.display()))?,
        None => palisade_policy::library::builtin_bundle()?,
    };
    let options = TestOptions {
        filter: args.run.clone(),
        timeout: Duration::from_millis(args.timeout_ms.max(1)),
        rego_v0: args.v0_compatible,
    };
    let report = run_tests(&bundle, &options)?;
    if global.format == OutputFormat::Json {
        print_json(&report)?;
    } else {
        for r in &report.results {
            if args.verbose || !matches!(r.status, TestStatus::Pass | TestStatus::Skip) {
                let time = if r.status == TestStatus::Skip {
                    String::new()
                } else {
                    format!(" ({:.3} ms)", r.duration_us as f64 / 1000.0)
                };
                println!("data.{}.{}: {}{time}", r.package, r.name, r.status.label());
                if let Some(m) = &r.message {
                    println!("  {m}");
                }
                for line in &r.output {
                    println!("  print: {line}");
                }
            }
        }
        println!("{}", "-".repeat(80));
        println!("PASS: {}/{}", report.passed, report.results.len());
        if report.failed > 0 {
            println!("FAIL: {}/{}", report.failed, report.results.len());
        }
        if report.errors > 0 {
            println!("ERROR: {}/{}", report.errors, report.results.len());
        }
        if report.skipped > 0 {
            println!("SKIPPED: {}/{}", report.skipped, report.results.len());
        }
    }
    if report.results.is_empty() {
        eprintln!("error: no tests found");
        return Ok(ExitCode::from(2));
    }
    Ok(if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn list(args: BundleArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let engine = args.engine()?;
    let envs = engine.environment_names();
    if global.format == OutputFormat::Json {
        let modes: serde_json::Map<String, serde_json::Value> = envs
            .iter()
            .filter_map(|e| {
                engine.environment(e).map(|r| {
                    (
                        e.to_string(),
                        serde_json::to_value(&r.modes).unwrap_or_default(),
                    )
                })
            })
            .collect();
        print_json(&serde_json::json!({
            "bundle_digest": engine.bundle_digest(),
            "policies": engine.policies(),
            "modes": modes,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut header = vec!["policy".to_string(), "title".to_string()];
    header.extend(envs.iter().map(|e| e.to_string()));
    let mut t = table(header);
    for p in engine.policies() {
        let mut row = vec![p.id.clone(), p.title().unwrap_or("-").to_string()];
        for e in &envs {
            row.push(
                engine
                    .environment(e)
                    .map(|r| r.mode_of(&p.id).as_str().to_string())
                    .unwrap_or_default(),
            );
        }
        t.add_row(row);
    }
    println!("{t}");
    println!("bundle {}", engine.bundle_digest());
    Ok(ExitCode::SUCCESS)
}

fn collect_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<(String, PolicyInput)>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("cannot list {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "json"))
                .collect();
            inner.sort();
            files.extend(inner);
        } else {
            files.push(p.clone());
        }
    }
    files
        .into_iter()
        .map(|f| {
            let bytes = read_input_file(&f, palisade_policy::input::limits::MAX_INPUT_BYTES)?;
            let input = PolicyInput::from_json(&bytes)
                .with_context(|| format!("invalid input {}", f.display()))?;
            Ok((f.display().to_string(), input))
        })
        .collect()
}

fn what_if(args: WhatIfArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let current = args.current.engine()?;
    let candidate_bundle = palisade_policy::load::load(&args.candidate).with_context(|| {
        format!(
            "cannot read the candidate bundle {}",
            args.candidate.display()
        )
    })?;
    let candidate = Engine::new(&candidate_bundle, args.current.options())
        .context("cannot compile the candidate bundle")?;
    let inputs = collect_inputs(&args.inputs)?;
    let exceptions = read_exceptions(args.exceptions.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    let report = palisade_policy::whatif::what_if(
        &current,
        &candidate,
        &inputs,
        &args.env,
        &exceptions,
        now,
    );
    if global.format == OutputFormat::Json {
        print_json(&report)?;
    } else {
        let mut t = table(["input", "current", "candidate", "change", "new violations"]);
        for c in &report.cases {
            let change = serde_json::to_value(c.change)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default();
            let added: Vec<String> = c
                .added
                .iter()
                .map(|v| format!("{}: {}", v.policy, v.message))
                .collect();
            t.add_row([
                c.name.clone(),
                c.current.to_string(),
                c.candidate.to_string(),
                change,
                added.join("\n"),
            ]);
        }
        println!("{t}");
        println!(
            "{} of {} newly denied, {} no longer denied (environment {})",
            report.newly_denied,
            report.cases.len(),
            report.no_longer_denied,
            report.environment
        );
    }
    Ok(if report.newly_denied > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    if args.dir.exists() && std::fs::read_dir(&args.dir)?.next().is_some() {
        bail!("{} exists and is not empty", args.dir.display());
    }
    for (path, text) in palisade_policy::library::FILES {
        let target = args.dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, text)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    println!(
        "wrote {} files to {}",
        palisade_policy::library::FILES.len(),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
