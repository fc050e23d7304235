//! The `palisade` command. It parses arguments, wires the capability crates
//! together and turns their typed errors into messages and exit codes; the
//! work itself lives in the `palisade-*` library crates.
//!
//! Exit codes: 0 success; 1 the command ran and the answer is "no" (a
//! comparison line failed, findings at or above `--fail-on`, a gate denied, a
//! verification failed); 2 usage or input error.

mod cmd;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::output::OutputFormat;

/// mimalloc instead of the system allocator: policy evaluation (regorus)
/// and the server allocate many small, short-lived values, and glibc's
/// `malloc`/`free` were 14% of a prepared decision's profile. With mimalloc
/// a decision from a typed input went from 3.15 to 2.26 ms at the median
/// (`bench/policy/RESULTS.md`, fourth round); the benches that stand for
/// the binary set the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Software supply-chain trust: vulnerabilities mapped to workloads, provable
/// integrity, guardrails.
#[derive(Debug, Parser)]
#[command(
    name = "palisade",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Where Palisade keeps its state (advisory store, decision log, server
    /// database). Default: the user's data directory, `palisade/` inside it.
    #[arg(long, global = true, env = "PALISADE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Output format: human tables, or JSON for machines.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Log level filter for diagnostics on stderr (`info`, `debug`, `palisade=trace`...).
    #[arg(long, global = true, env = "PALISADE_LOG", default_value = "warn")]
    pub log: String,
    /// Log lines as text, or as JSON objects (one per line) for log shippers.
    #[arg(long, global = true, env = "PALISADE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How diagnostics are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl GlobalArgs {
    /// The data directory, created if missing.
    #[allow(dead_code)] // Used by the commands that keep state.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        let dir = match &self.data_dir {
            Some(d) => d.clone(),
            None => dirs::data_dir()
                .ok_or_else(|| anyhow::anyhow!("no user data directory is known here; pass --data-dir or set PALISADE_DATA_DIR"))?
                .join("palisade"),
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("cannot create data directory {}: {e}", dir.display()))?;
        Ok(dir)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare, sort and range-check versions by an ecosystem's own rules.
    #[command(subcommand)]
    Version(cmd::version::VersionCommand),
    /// Manage the advisory store: import OSV records, sync osv.dev exports, status.
    #[cfg(feature = "advisory")]
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// Scan an SBOM or inventory for known vulnerabilities; exit 1 at `--fail-on`.
    #[cfg(feature = "advisory")]
    Scan(cmd::scan::ScanArgs),
    /// Import other scanners' outputs (SARIF, Trivy, Grype, osv-scanner, ZAP, Falco) and merge them.
    #[cfg(feature = "findings")]
    Import(cmd::import::ImportArgs),
    /// Evaluate, test, list and compare Rego policies.
    #[cfg(feature = "policy")]
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// The CI gate: decide about an artifact from local evidence; exit 1 on deny.
    #[cfg(feature = "policy")]
    Gate(Box<cmd::gate::GateArgs>),
    /// Images in OCI registries: resolve tags, list and push attached evidence.
    #[cfg(feature = "oci")]
    #[command(subcommand)]
    Oci(cmd::oci::OciCommand),
    /// Run the platform server: REST API, webhooks and background workers.
    #[cfg(feature = "server")]
    Server(cmd::server::ServerArgs),
    /// Read, convert and show SBOMs (CycloneDX and SPDX).
    #[cfg(feature = "sbom")]
    #[command(subcommand)]
    Sbom(cmd::sbom::SbomCommand),
    /// Create and sign in-toto attestations, SLSA provenance and layouts; generate keys.
    #[cfg(feature = "attest")]
    Attest(cmd::attest::AttestArgs),
    /// Verify attestations, provenance, Sigstore bundles and in-toto layouts.
    #[cfg(feature = "attest")]
    #[command(subcommand)]
    Verify(cmd::verify::VerifyCommand),
}

fn main() -> ExitCode {
    // `import --format sarif` names the input format (see cmd::import).
    #[cfg(feature = "findings")]
    let cli = Cli::parse_from(cmd::import::scanner_format_args(std::env::args_os()));
    #[cfg(not(feature = "findings"))]
    let cli = Cli::parse();
    init_logging(&cli.global.log, cli.global.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            output::print_error(&err);
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let global = cli.global;
    match cli.command {
        Command::Version(c) => cmd::version::run(c, &global),
        #[cfg(feature = "advisory")]
        Command::Db(c) => cmd::db::run(c, &global),
        #[cfg(feature = "advisory")]
        Command::Scan(a) => cmd::scan::run(a, &global),
        #[cfg(feature = "findings")]
        Command::Import(a) => cmd::import::run(a, &global),
        #[cfg(feature = "policy")]
        Command::Policy(c) => cmd::policy::run(c, &global),
        #[cfg(feature = "policy")]
        Command::Gate(a) => cmd::gate::run(*a, &global),
        #[cfg(feature = "oci")]
        Command::Oci(c) => cmd::oci::run(c, &global),
        #[cfg(feature = "server")]
        Command::Server(a) => cmd::server::run(a, &global),
        #[cfg(feature = "sbom")]
        Command::Sbom(c) => cmd::sbom::run(c, &global),
        #[cfg(feature = "attest")]
        Command::Attest(a) => cmd::attest::run(a, &global),
        #[cfg(feature = "attest")]
        Command::Verify(c) => cmd::verify::run(c, &global),
    }
}

fn init_logging(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
