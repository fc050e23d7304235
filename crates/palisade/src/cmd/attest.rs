//! `palisade attest`: create and sign in-toto statements, SLSA provenance and
//! in-toto layouts, and generate keys.
//!
//! The signed output is written to `--output` (default stdout) as compact
//! JSON; messages go to stderr. Exit codes: 0 done, 2 usage or input error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use palisade_attest::PrivateKey;
use palisade_attest::attestation::sign_statement;
use palisade_attest::keys::GenerateAlgorithm;
use palisade_attest::layout::Signed;
use palisade_attest::provenance::{BuildRecord, SourceInfo};
use palisade_attest::statement::{DigestRef, ResourceDescriptor, Statement, predicate_types};

use super::verify::{read_input, read_private_key};
use crate::GlobalArgs;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub command: Option<AttestCommand>,
    #[command(flatten)]
    pub statement: StatementArgs,
}

// Parsed once per process: the size difference between variants is irrelevant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, clap::Subcommand)]
pub enum AttestCommand {
    /// Record SLSA v1 provenance for a build step and sign it.
    Provenance(ProvenanceArgs),
    /// Sign an in-toto layout (v0.9 format) with one or more keys.
    SignLayout(SignLayoutArgs),
    /// Generate a key pair: PKCS#8 PEM private key and SPKI PEM public key.
    Keygen(KeygenArgs),
}

#[derive(Debug, clap::Args)]
pub struct SubjectInput {
    /// A subject file (its SHA-256 is recorded under its file name); repeatable.
    #[arg(long = "subject", value_name = "FILE")]
    pub subjects: Vec<PathBuf>,
    /// A subject given by digest (`sha256:<hex>`); repeatable.
    #[arg(long = "digest", value_name = "ALG:HEX")]
    pub digests: Vec<String>,
    /// The name recorded for `--digest` subjects.
    #[arg(long, default_value = "")]
    pub name: String,
}

impl SubjectInput {
    fn descriptors(&self) -> anyhow::Result<Vec<ResourceDescriptor>> {
        let mut out = Vec::new();
        for path in &self.subjects {
            out.push(ResourceDescriptor::with_digest(
                &file_name(path),
                &DigestRef::sha256_of(&read_input(path)?),
            ));
        }
        for d in &self.digests {
            out.push(ResourceDescriptor::with_digest(
                &self.name,
                &DigestRef::parse(d)?,
            ));
        }
        Ok(out)
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| path.display().to_string())
}

#[derive(Debug, clap::Args)]
pub struct StatementArgs {
    #[command(flatten)]
    pub subject: SubjectInput,
    /// The predicate type: a URI, or one of slsaprovenance, slsaprovenance02, vsa, spdx, spdx3,
    /// cyclonedx, vuln, test-result, code-review, link.
    #[arg(long, value_name = "TYPE", required = true)]
    pub predicate_type: Option<String>,
    /// The predicate (a JSON file, e.g. an SPDX or CycloneDX document); default `{}`.
    #[arg(long, value_name = "FILE")]
    pub predicate: Option<PathBuf>,
    /// A private key to sign with (PEM or securesystemslib JSON); repeatable.
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<PathBuf>,
    /// Where to write the signed envelope; default stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ProvenanceArgs {
    /// The builder id (a URI).
    #[arg(long)]
    pub builder_id: String,
    /// The build type (a URI).
    #[arg(long, default_value = "https://palisade.dev/build/script/v1")]
    pub build_type: String,
    /// A product of the build (becomes a subject); repeatable.
    #[arg(long = "product", value_name = "FILE", required = true)]
    pub products: Vec<PathBuf>,
    /// A material the build consumed; repeatable.
    #[arg(long = "material", value_name = "FILE")]
    pub materials: Vec<PathBuf>,
    /// The source repository URI.
    #[arg(long, requires = "source_revision")]
    pub source_repo: Option<String>,
    /// The source revision (commit id).
    #[arg(long, requires = "source_repo")]
    pub source_revision: Option<String>,
    /// The source ref (`refs/heads/main`, `refs/tags/v1`).
    #[arg(long, requires = "source_repo")]
    pub source_ref: Option<String>,
    /// An invocation parameter `KEY=VALUE`; repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// The invocation id.
    #[arg(long)]
    pub invocation_id: Option<String>,
    /// Start time (RFC 3339).
    #[arg(long)]
    pub started_on: Option<String>,
    /// Finish time (RFC 3339).
    #[arg(long)]
    pub finished_on: Option<String>,
    /// A private key to sign with; repeatable.
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<PathBuf>,
    /// Where to write the signed envelope; default stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SignLayoutArgs {
    /// The layout: an unsigned layout, or a `{"signed": ...}` template.
    #[arg(long, value_name = "FILE")]
    pub layout: PathBuf,
    /// A private key to sign with; repeatable.
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<PathBuf>,
    /// Set the expiry (RFC 3339); required when the layout has none.
    #[arg(long)]
    pub expires: Option<String>,
    /// Write a DSSE envelope instead of the classic metablock.
    #[arg(long)]
    pub dsse: bool,
    /// Where to write the signed layout; default stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KeyType {
    Ed25519,
    EcdsaP256,
    EcdsaP384,
    Rsa,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// The key type (RSA keys are 3072 bits, RSASSA-PSS).
    #[arg(long = "type", value_enum, default_value_t = KeyType::Ed25519)]
    pub key_type: KeyType,
    /// Output path prefix: writes PREFIX (private) and PREFIX.pub.
    #[arg(long, short = 'o', value_name = "PREFIX")]
    pub output: PathBuf,
}

pub fn run(args: AttestArgs, _global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(AttestCommand::Provenance(a)) => provenance(a),
        Some(AttestCommand::SignLayout(a)) => sign_layout(a),
        Some(AttestCommand::Keygen(a)) => keygen(a),
        None => statement(args.statement),
    }
}

fn load_keys(paths: &[PathBuf]) -> anyhow::Result<Vec<PrivateKey>> {
    paths.iter().map(|p| read_private_key(p)).collect()
}

fn write_output(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(p) => std::fs::write(p, format!("{text}\n"))
            .with_context(|| format!("cannot write {}", p.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{text}")?;
        }
    }
    Ok(())
}

fn statement(a: StatementArgs) -> anyhow::Result<ExitCode> {
    let subjects = a.subject.descriptors()?;
    if subjects.is_empty() {
        bail!("give at least one --subject FILE or --digest sha256:<hex>");
    }
    let Some(predicate_type) = a.predicate_type.as_deref() else {
        bail!("--predicate-type is required");
    };
    let predicate = match &a.predicate {
        Some(p) => palisade_attest::cjson::parse_bounded(&read_input(p)?, "predicate")
            .with_context(|| format!("predicate {}", p.display()))?,
        None => serde_json::json!({}),
    };
    let predicate_type = predicate_types::resolve(predicate_type);
    if predicate_type == predicate_types::CODE_REVIEW_V1 {
        serde_json::from_value::<palisade_attest::statement::CodeReview>(predicate.clone())
            .context(
                "the code-review predicate needs repository, revision, author and approvals",
            )?;
    }
    let st = Statement::new(subjects, predicate_type, predicate);
    let keys = load_keys(&a.keys)?;
    let refs: Vec<&PrivateKey> = keys.iter().collect();
    let env = sign_statement(&st, &refs)?;
    write_output(a.output.as_deref(), &env.to_json()?)?;
    Ok(ExitCode::SUCCESS)
}

fn provenance(a: ProvenanceArgs) -> anyhow::Result<ExitCode> {
    let describe = |paths: &[PathBuf]| -> anyhow::Result<Vec<ResourceDescriptor>> {
        paths
            .iter()
            .map(|p| {
                Ok(ResourceDescriptor::with_digest(
                    &p.display().to_string(),
                    &DigestRef::sha256_of(&read_input(p)?),
                ))
            })
            .collect()
    };
    let mut params = serde_json::Map::new();
    for p in &a.params {
        let Some((k, v)) = p.split_once('=') else {
            bail!("--param {p:?} is not KEY=VALUE");
        };
        params.insert(k.to_string(), serde_json::json!(v));
    }
    let record = BuildRecord {
        builder_id: a.builder_id,
        build_type: a.build_type,
        external_parameters: params,
        source: match (a.source_repo, a.source_revision) {
            (Some(repository), Some(revision)) => Some(SourceInfo {
                repository,
                revision,
                git_ref: a.source_ref,
            }),
            _ => None,
        },
        materials: describe(&a.materials)?,
        products: describe(&a.products)?,
        invocation_id: a.invocation_id,
        started_on: a.started_on,
        finished_on: a.finished_on,
    };
    let st = record.to_statement()?;
    let keys = load_keys(&a.keys)?;
    let refs: Vec<&PrivateKey> = keys.iter().collect();
    let env = sign_statement(&st, &refs)?;
    write_output(a.output.as_deref(), &env.to_json()?)?;
    Ok(ExitCode::SUCCESS)
}

fn sign_layout(a: SignLayoutArgs) -> anyhow::Result<ExitCode> {
    let value: serde_json::Value =
        palisade_attest::cjson::parse_bounded(&read_input(&a.layout)?, "layout")
            .with_context(|| format!("layout {}", a.layout.display()))?;
    let mut layout = value.get("signed").cloned().unwrap_or(value);
    let Some(obj) = layout.as_object_mut() else {
        bail!("the layout is not a JSON object");
    };
    if obj.get("_type").and_then(|t| t.as_str()) != Some("layout") {
        bail!("the document is not a layout (_type must be \"layout\")");
    }
    if let Some(exp) = &a.expires {
        palisade_attest::time::OffsetDateTime::parse(
            exp,
            &palisade_attest::time::format_description::well_known::Rfc3339,
        )
        .with_context(|| format!("--expires {exp:?} is not an RFC 3339 time"))?;
        obj.insert("expires".into(), serde_json::json!(exp));
    }
    if !obj.contains_key("expires") {
        bail!("the layout has no expiry; give --expires");
    }
    let keys = load_keys(&a.keys)?;
    let refs: Vec<&PrivateKey> = keys.iter().collect();
    let text = if a.dsse {
        let payload = serde_json::to_vec(&layout)?;
        palisade_attest::dsse::Envelope::sign(
            palisade_attest::dsse::INTOTO_PAYLOAD_TYPE,
            &payload,
            &refs,
        )?
        .to_json()?
    } else {
        serde_json::to_string(&Signed::sign_metablock(&layout, &refs)?)?
    };
    write_output(a.output.as_deref(), &text)?;
    Ok(ExitCode::SUCCESS)
}

fn keygen(a: KeygenArgs) -> anyhow::Result<ExitCode> {
    let alg = match a.key_type {
        KeyType::Ed25519 => GenerateAlgorithm::Ed25519,
        KeyType::EcdsaP256 => GenerateAlgorithm::EcdsaP256,
        KeyType::EcdsaP384 => GenerateAlgorithm::EcdsaP384,
        KeyType::Rsa => GenerateAlgorithm::Rsa3072,
    };
    let key = PrivateKey::generate(alg)?;
    let public_path = PathBuf::from(format!("{}.pub", a.output.display()));
    for p in [&a.output, &public_path] {
        if p.exists() {
            bail!("{} exists; not overwriting a key", p.display());
        }
    }
    write_private(&a.output, key.to_pkcs8_pem()?.as_bytes())
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    std::fs::write(&public_path, key.public().to_pem())
        .with_context(|| format!("cannot write {}", public_path.display()))?;
    eprintln!(
        "wrote {} and {} (keyid {})",
        a.output.display(),
        public_path.display(),
        key.keyid()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes a private key readable by its owner only, refusing to overwrite.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}
