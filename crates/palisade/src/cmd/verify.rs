//! `palisade verify`: check attestations, provenance, Sigstore bundles and
//! in-toto layouts.
//!
//! Every subcommand reads its inputs, calls one `palisade-attest` function
//! and prints the typed [`Verification`]: a verdict and one line per check
//! for people, the whole structure with `--format json`. Exit codes: 0
//! verified, 1 verification failed, 2 usage or input error (unreadable file,
//! malformed key or trusted root).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use palisade_attest::attestation::{AttestationPolicy, verify_envelope};
use palisade_attest::dsse::Envelope;
use palisade_attest::inspection::CommandRunner;
use palisade_attest::layout::{NoInspections, verify_layout};
use palisade_attest::provenance::{
    ProvenanceExpectations, ProvenanceFacts, VsaRecord, check_expectations,
};
use palisade_attest::sigstore::{ArtifactInput, BundleVerifier, SignerPolicy};
use palisade_attest::statement::{DigestRef, ResourceDescriptor, Statement};
use palisade_attest::{CheckStatus, PrivateKey, PublicKey, Verification};

use crate::GlobalArgs;
use crate::output::OutputFormat;

/// The largest input file read (attestations, bundles, layouts, links).
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, clap::Subcommand)]
pub enum VerifyCommand {
    /// Verify a DSSE-signed in-toto attestation against trusted keys.
    Attestation(AttestationArgs),
    /// Verify signed SLSA provenance against expectations, like slsa-verifier.
    Provenance(ProvenanceArgs),
    /// Verify a Sigstore bundle offline against a trusted root.
    Bundle(BundleArgs),
    /// Verify an in-toto layout (v0.9 format) and its link metadata.
    Layout(LayoutArgs),
}

#[derive(Debug, clap::Args)]
pub struct SubjectArgs {
    /// The artifact the statement must be about (its SHA-256 is compared).
    #[arg(long, value_name = "FILE", conflicts_with = "digest")]
    pub artifact: Option<PathBuf>,
    /// The subject digest the statement must carry (`sha256:<hex>`).
    #[arg(long, value_name = "ALG:HEX")]
    pub digest: Option<String>,
}

impl SubjectArgs {
    fn expected(&self) -> anyhow::Result<Option<DigestRef>> {
        if let Some(path) = &self.artifact {
            return Ok(Some(DigestRef::sha256_of(&read_input(path)?)));
        }
        self.digest
            .as_deref()
            .map(DigestRef::parse)
            .transpose()
            .map_err(Into::into)
    }
}

#[derive(Debug, clap::Args)]
pub struct AttestationArgs {
    /// A trusted public key (PEM SPKI or securesystemslib JSON); repeatable.
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<PathBuf>,
    /// How many distinct trusted keys must have signed.
    #[arg(long, default_value_t = 1)]
    pub threshold: usize,
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// The predicate type the statement must have (URI or short name such as `slsaprovenance`).
    #[arg(long, value_name = "TYPE")]
    pub predicate_type: Option<String>,
    /// For a code-review attestation: how many approvers other than the
    /// author are required (1 is the two-person rule).
    #[arg(long, value_name = "N")]
    pub required_approvals: Option<usize>,
    /// The DSSE envelope (JSON).
    pub envelope: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ProvenanceArgs {
    /// A trusted public key of the builder; repeatable.
    #[arg(long = "key", value_name = "KEY", required = true)]
    pub keys: Vec<PathBuf>,
    #[command(flatten)]
    pub subject: SubjectArgs,
    /// The expected builder id (without `@version`, any version matches).
    #[arg(long)]
    pub builder_id: Option<String>,
    /// The expected source repository (`github.com/org/repo`).
    #[arg(long)]
    pub source_uri: Option<String>,
    /// The expected branch.
    #[arg(long, conflicts_with = "tag")]
    pub branch: Option<String>,
    /// The expected tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Sign a VSA for the verified artifact with this private key when everything passed.
    #[arg(long, value_name = "KEY", requires = "vsa_out")]
    pub vsa_key: Option<PathBuf>,
    /// Where to write the signed VSA (a DSSE envelope).
    #[arg(long, value_name = "FILE", requires = "vsa_key")]
    pub vsa_out: Option<PathBuf>,
    /// The verifier id written into the VSA.
    #[arg(long, default_value = "https://palisade.dev/verifier/palisade")]
    pub verifier_id: String,
    /// The SLSA build level the VSA records.
    #[arg(long, default_value = "SLSA_BUILD_LEVEL_2")]
    pub verified_level: String,
    /// The signed provenance (a DSSE envelope).
    pub provenance: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct BundleArgs {
    /// The Sigstore bundle (`.sigstore.json`).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// The expected certificate SAN (e-mail or URI), exact.
    #[arg(long, requires = "certificate_oidc_issuer", conflicts_with = "key")]
    pub certificate_identity: Option<String>,
    /// The expected OIDC issuer, exact.
    #[arg(long, requires = "certificate_identity")]
    pub certificate_oidc_issuer: Option<String>,
    /// A managed public key (PEM) instead of a certificate identity.
    #[arg(long, value_name = "PEM")]
    pub key: Option<PathBuf>,
    /// The `trusted_root.json`; default: $PALISADE_TRUSTED_ROOT, else the built-in Sigstore public-good root.
    #[arg(long, value_name = "FILE", env = "PALISADE_TRUSTED_ROOT")]
    pub trusted_root: Option<PathBuf>,
    /// Use the built-in Sigstore staging trusted root.
    #[arg(long, conflicts_with = "trusted_root")]
    pub staging: bool,
    /// The artifact: a file, or `sha256:<hex>`.
    pub artifact: String,
}

#[derive(Debug, clap::Args)]
pub struct LayoutArgs {
    /// The signed layout.
    #[arg(long, value_name = "FILE")]
    pub layout: PathBuf,
    /// A layout owner's public key; every one given must have signed. Repeatable.
    #[arg(long = "layout-key", value_name = "PUB", required = true)]
    pub layout_keys: Vec<PathBuf>,
    /// The directory holding the link files (`STEP.KEYID8.link`).
    #[arg(long, value_name = "DIR")]
    pub links: PathBuf,
    /// The directory holding the final product, where inspections run.
    #[arg(long, value_name = "DIR")]
    pub product: Option<PathBuf>,
    /// Allow the layout's inspections to run their commands (in --product).
    #[arg(long, requires = "product")]
    pub allow_inspections: bool,
}

pub fn run(cmd: VerifyCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let v = match cmd {
        VerifyCommand::Attestation(a) => attestation(a)?,
        VerifyCommand::Provenance(a) => provenance(a)?,
        VerifyCommand::Bundle(a) => bundle(a)?,
        VerifyCommand::Layout(a) => layout(a)?,
    };
    report(&v, global)
}

/// Reads a file with the input size limit.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > MAX_INPUT_BYTES {
        bail!(
            "{} is {} bytes, over the {MAX_INPUT_BYTES}-byte limit",
            path.display(),
            meta.len()
        );
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

pub fn read_public_keys(paths: &[PathBuf]) -> anyhow::Result<Vec<PublicKey>> {
    paths
        .iter()
        .map(|p| {
            PublicKey::from_bytes(&read_input(p)?, None)
                .with_context(|| format!("public key {}", p.display()))
        })
        .collect()
}

pub fn read_private_key(path: &Path) -> anyhow::Result<PrivateKey> {
    PrivateKey::from_bytes(&read_input(path)?, None)
        .with_context(|| format!("private key {}", path.display()))
}

fn attestation(a: AttestationArgs) -> anyhow::Result<Verification> {
    let keys = read_public_keys(&a.keys)?;
    let envelope = Envelope::from_json(&read_input(&a.envelope)?)
        .with_context(|| format!("envelope {}", a.envelope.display()))?;
    let policy = AttestationPolicy {
        threshold: a.threshold,
        expected_subject: a.subject.expected()?,
        expected_predicate_type: a
            .predicate_type
            .as_deref()
            .map(|t| palisade_attest::statement::predicate_types::resolve(t).to_string()),
        required_approvals: a.required_approvals,
    };
    Ok(verify_envelope(&envelope, &keys, &policy)?)
}

fn provenance(a: ProvenanceArgs) -> anyhow::Result<Verification> {
    let keys = read_public_keys(&a.keys)?;
    let raw = read_input(&a.provenance)?;
    let envelope = Envelope::from_json(&raw)
        .with_context(|| format!("envelope {}", a.provenance.display()))?;
    let policy = AttestationPolicy {
        threshold: 1,
        expected_subject: a.subject.expected()?,
        expected_predicate_type: None,
        required_approvals: None,
    };
    let mut v = verify_envelope(&envelope, &keys, &policy)?;
    v.kind = "slsa-provenance".into();
    let statement = v
        .statement
        .as_ref()
        .and_then(|s| serde_json::from_value::<Statement>(s.clone()).ok());
    match statement.as_ref().map(ProvenanceFacts::from_statement) {
        None => v.push(palisade_attest::Check::fail(
            "provenance",
            None,
            "No authenticated provenance statement to check.",
        )),
        Some(Err(e)) => v.push(palisade_attest::Check::fail(
            "provenance",
            None,
            format!("{e}."),
        )),
        Some(Ok(facts)) => {
            v.push(palisade_attest::Check::pass(
                "provenance",
                None,
                format!(
                    "SLSA provenance {} from builder {:?}.",
                    facts.version,
                    facts.builder_id.as_deref().unwrap_or("?")
                ),
            ));
            let exp = ProvenanceExpectations {
                builder_id: a.builder_id.clone(),
                source_uri: a.source_uri.clone(),
                branch: a.branch.clone(),
                tag: a.tag.clone(),
            };
            for c in check_expectations(&facts, &exp) {
                v.push(c);
            }
        }
    }
    if let (Some(key_path), Some(out)) = (&a.vsa_key, &a.vsa_out) {
        if !v.verified {
            eprintln!("note: no VSA was issued because the provenance did not verify");
        } else {
            let key = read_private_key(key_path)?;
            let subjects: Vec<ResourceDescriptor> = statement
                .as_ref()
                .map(|s| s.subject.clone())
                .unwrap_or_default();
            let now = palisade_attest::time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .unwrap_or(palisade_attest::time::OffsetDateTime::UNIX_EPOCH)
                .format(&palisade_attest::time::format_description::well_known::Rfc3339)
                .context("formatting the current time")?;
            let vsa = VsaRecord {
                verifier_id: a.verifier_id.clone(),
                time_verified: now,
                resource_uri: subjects.first().map(|s| s.name.clone()).unwrap_or_default(),
                policy_uri: "https://palisade.dev/policy/verify-provenance".into(),
                input_attestations: vec![ResourceDescriptor::with_digest(
                    &a.provenance.display().to_string(),
                    &DigestRef::sha256_of(&raw),
                )],
                passed: true,
                verified_levels: vec![a.verified_level.clone()],
                subjects,
            }
            .to_statement()?;
            let env = palisade_attest::attestation::sign_statement(&vsa, &[&key])?;
            std::fs::write(out, env.to_json()? + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("wrote a signed VSA to {}", out.display());
        }
    }
    Ok(v)
}

fn bundle(a: BundleArgs) -> anyhow::Result<Verification> {
    let verifier = match &a.trusted_root {
        Some(p) => BundleVerifier::new(&read_input(p)?)
            .with_context(|| format!("trusted root {}", p.display()))?,
        None if a.staging => BundleVerifier::staging()?,
        None => BundleVerifier::public_good()?,
    };
    let policy = match (&a.key, &a.certificate_identity, &a.certificate_oidc_issuer) {
        (Some(k), _, _) => SignerPolicy::Key(
            PublicKey::from_pem(&read_input(k)?, None)
                .with_context(|| format!("key {}", k.display()))?,
        ),
        (None, Some(identity), Some(issuer)) => SignerPolicy::Identity {
            identity: identity.clone(),
            issuer: issuer.clone(),
        },
        _ => bail!("give --certificate-identity and --certificate-oidc-issuer, or --key"),
    };
    let bundle = read_input(&a.bundle)?;
    let v = if a.artifact.starts_with("sha256:") && !Path::new(&a.artifact).exists() {
        let digest = DigestRef::parse(&a.artifact)?;
        verifier.verify(&bundle, ArtifactInput::Digest(&digest), &policy)
    } else {
        let artifact = read_input(Path::new(&a.artifact))?;
        verifier.verify(&bundle, ArtifactInput::Bytes(&artifact), &policy)
    };
    Ok(v)
}

fn layout(a: LayoutArgs) -> anyhow::Result<Verification> {
    let keys = read_public_keys(&a.layout_keys)?;
    let layout = read_input(&a.layout)?;
    let mut links = BTreeMap::new();
    let entries = std::fs::read_dir(&a.links)
        .with_context(|| format!("cannot list {}", a.links.display()))?;
    for entry in entries {
        let path = entry?.path();
        let is_link = path.extension().is_some_and(|e| e == "link");
        if let (true, Some(name)) = (is_link, path.file_name().and_then(|n| n.to_str())) {
            links.insert(name.to_string(), read_input(&path)?);
        }
    }
    let now = palisade_attest::time::OffsetDateTime::now_utc();
    let v = match (&a.product, a.allow_inspections) {
        (Some(dir), true) => {
            verify_layout(&layout, &keys, &links, now, &mut CommandRunner::new(dir))?
        }
        _ => verify_layout(&layout, &keys, &links, now, &mut NoInspections)?,
    };
    Ok(v)
}

/// Prints a verification and returns the exit code (0 verified, 1 not).
pub fn report(v: &Verification, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match global.format {
        OutputFormat::Json => write_stdout(&(serde_json::to_string_pretty(v)? + "\n"))?,
        OutputFormat::Table => {
            use std::fmt::Write as _;
            let mut out = String::new();
            writeln!(
                out,
                "{}: {}",
                v.kind,
                if v.verified { "VERIFIED" } else { "FAILED" }
            )?;
            for s in &v.signers {
                let who = s
                    .certificate_identity
                    .as_ref()
                    .map(|i| {
                        format!(
                            "{i} (issuer {})",
                            s.certificate_issuer.as_deref().unwrap_or("?")
                        )
                    })
                    .or_else(|| {
                        s.keyid
                            .as_ref()
                            .map(|k| format!("key {k} ({})", s.scheme.as_deref().unwrap_or("?")))
                    })
                    .unwrap_or_default();
                writeln!(out, "signer: {who}")?;
            }
            if let Some(t) = &v.signed_at {
                writeln!(out, "signed at: {t}")?;
            }
            if let Some(t) = &v.predicate_type {
                writeln!(out, "predicate type: {t}")?;
            }
            for s in &v.subjects {
                let digests: Vec<String> =
                    s.digest.iter().map(|(k, d)| format!("{k}:{d}")).collect();
                writeln!(out, "subject: {} {}", s.name, digests.join(" "))?;
            }
            let mut table = crate::output::table(["check", "target", "result", "reason"]);
            for c in &v.checks {
                let status = match c.status {
                    CheckStatus::Passed => "pass",
                    CheckStatus::Failed => "FAIL",
                    CheckStatus::Skipped => "skip",
                };
                table.add_row([
                    c.name.as_str(),
                    c.target.as_deref().unwrap_or(""),
                    status,
                    c.reason.as_str(),
                ]);
            }
            writeln!(out, "{table}")?;
            if v.verified
                && let Some(st) = &v.statement
            {
                writeln!(out, "statement:\n{}", serde_json::to_string_pretty(st)?)?;
            }
            write_stdout(&out)?;
            for c in v.failures() {
                eprintln!(
                    "verification failed: {}{}: {}",
                    c.name,
                    c.target
                        .as_deref()
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default(),
                    c.reason
                );
            }
        }
    }
    Ok(if v.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
