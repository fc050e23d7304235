//! `palisade gate`: the CI gate. Assembles the policy input on the local
//! machine, decides, prints the decision with its reasons, logs it, and exits
//! 0 (allow or warn) or 1 (deny).
//!
//! Design: the gate calls the same `Engine::decide` as every other decision
//! point; this module only turns files into a `PolicyInput`:
//! `--artifact` (and `--digest`, `--reference`) give the artifact, `--findings`
//! the findings (the input schema's `findings` list, or an object holding
//! one), `--sbom` an SBOM summary (the schema's `sbom` object; with the `sbom`
//! feature also a CycloneDX or SPDX document, summarised here), and
//! `--attestation` files of already verified attestations (the schema's
//! `attestations[]` objects, as a verifier emits them). An evaluation failure
//! is a `deny` with its reason, like any violation; a file that cannot be
//! read is a usage error (exit 2), which CI treats as a failure too.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use palisade_policy::input::{
    Artifact, Finding, SbomSummary, SourceRef, VerifiedAttestation, Workload, is_valid_digest,
    limits,
};
use palisade_policy::{INPUT_VERSION, PolicyInput};

use crate::GlobalArgs;
use crate::cmd::policy::{
    BundleArgs, LogArgs, exit_code, log_decision, parse_now, print_decision, read_exceptions,
    read_input_file,
};

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    #[command(flatten)]
    pub bundle: BundleArgs,
    /// The environment to decide for.
    #[arg(long, short = 'e', value_name = "ENV")]
    pub env: String,
    /// The artifact: `name@sha256:<hex>`, or `name[:tag]` together with `--digest`.
    #[arg(long, short = 'a', value_name = "REF")]
    pub artifact: String,
    /// The artifact's digest, when `--artifact` has none.
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<String>,
    /// The reference as the deployment writes it (default: `--artifact` as given).
    #[arg(long, value_name = "REF")]
    pub reference: Option<String>,
    /// The workload, `namespace/name` or `name`.
    #[arg(long, value_name = "NAME")]
    pub workload: Option<String>,
    /// The source repository the artifact is built from.
    #[arg(long, value_name = "URI")]
    pub source_repository: Option<String>,
    /// The source revision (commit) the artifact is built from.
    #[arg(long, value_name = "COMMIT", requires = "source_repository")]
    pub source_revision: Option<String>,
    /// Findings: a JSON list of findings (input schema), or an object with a `findings` list.
    #[arg(long, value_name = "FILE")]
    pub findings: Option<PathBuf>,
    /// The SBOM: a JSON SBOM summary (input schema), or a CycloneDX/SPDX document.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// A file of verified attestations (one object or a list, input schema). Repeatable.
    #[arg(long = "attestation", value_name = "FILE")]
    pub attestations: Vec<PathBuf>,
    /// Exceptions on offer (a JSON or YAML list).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Decide as of this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Write the assembled input document to this file (for `policy eval` or a bug report).
    #[arg(long, value_name = "FILE")]
    pub save_input: Option<PathBuf>,
    #[command(flatten)]
    pub log: LogArgs,
}

/// Splits `name[:tag][@digest]` into name, tag and digest.
pub fn parse_artifact(text: &str) -> anyhow::Result<(String, Option<String>, Option<String>)> {
    let (rest, digest) = match text.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (text, None),
    };
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (
            rest[..last_slash + i].to_string(),
            Some(rest[last_slash + i + 1..].to_string()),
        ),
        None => (rest.to_string(), None),
    };
    if name.is_empty() {
        bail!("--artifact {text:?} has no name");
    }
    Ok((name, tag.filter(|t| !t.is_empty()), digest))
}

fn read_json(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let bytes = read_input_file(path, limits::MAX_INPUT_BYTES)?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn read_findings(path: &std::path::Path) -> anyhow::Result<Vec<Finding>> {
    let value = read_json(path)?;
    let list = match value {
        serde_json::Value::Object(mut o) => o.remove("findings").unwrap_or(serde_json::Value::Null),
        other => other,
    };
    serde_json::from_value(list)
        .with_context(|| format!("{} does not hold a list of findings", path.display()))
}

fn read_attestations(path: &std::path::Path) -> anyhow::Result<Vec<VerifiedAttestation>> {
    let value = read_json(path)?;
    let list = match value {
        serde_json::Value::Array(a) => a,
        one => vec![one],
    };
    list.into_iter()
        .map(|v| {
            serde_json::from_value(v).with_context(|| {
                format!(
                    "{} holds something that is not a verified attestation",
                    path.display()
                )
            })
        })
        .collect()
}

fn read_sbom(path: &std::path::Path) -> anyhow::Result<SbomSummary> {
    let bytes = read_input_file(path, limits::MAX_INPUT_BYTES)?;
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && value.get("component_count").is_some()
    {
        return serde_json::from_value(value)
            .with_context(|| format!("{} is not an SBOM summary", path.display()));
    }
    summarise_sbom(&bytes, path)
}

#[cfg(feature = "sbom")]
fn summarise_sbom(bytes: &[u8], path: &std::path::Path) -> anyhow::Result<SbomSummary> {
    let name = path.display().to_string();
    let format = match palisade_sbom::detect(bytes, &name)? {
        palisade_sbom::Detected::SpdxJson | palisade_sbom::Detected::SpdxTagValue => "SPDX",
        _ => "CycloneDX",
    };
    let inventory = palisade_sbom::read(bytes, &name)
        .with_context(|| format!("cannot read the SBOM {name}"))?;
    let components: Vec<palisade_policy::input::Component> = inventory
        .components
        .iter()
        .map(|c| palisade_policy::input::Component {
            name: c.name.clone(),
            version: c.version.clone(),
            purl: c.purl.clone(),
            licenses: c.license.iter().cloned().collect(),
        })
        .collect();
    Ok(SbomSummary {
        format: format.to_string(),
        spec_version: None,
        component_count: components.len() as u64,
        components,
    })
}

#[cfg(not(feature = "sbom"))]
fn summarise_sbom(_bytes: &[u8], path: &std::path::Path) -> anyhow::Result<SbomSummary> {
    bail!(
        "{} is not an SBOM summary, and this build cannot read CycloneDX or SPDX (feature `sbom` is off)",
        path.display()
    )
}

/// Builds the input document from the arguments.
pub fn assemble(args: &GateArgs) -> anyhow::Result<PolicyInput> {
    let (name, tag, in_ref) = parse_artifact(&args.artifact)?;
    let digest = match (in_ref, args.digest.clone()) {
        (Some(a), Some(b)) if a != b => bail!("--artifact pins {a} but --digest says {b}"),
        (Some(d), _) | (None, Some(d)) => d,
        (None, None) => {
            bail!("the artifact digest is needed: pass --artifact NAME@sha256:... or --digest")
        }
    };
    if !is_valid_digest(&digest) {
        bail!("{digest:?} is not a sha256/sha384/sha512 digest in lower-case hex");
    }
    let mut input = PolicyInput::new(Artifact {
        name,
        digest,
        reference: Some(
            args.reference
                .clone()
                .unwrap_or_else(|| args.artifact.clone()),
        ),
        tag,
        source: args.source_repository.as_ref().map(|r| SourceRef {
            repository: r.clone(),
            revision: args.source_revision.clone(),
        }),
    });
    input.version = INPUT_VERSION.to_string();
    input.workload = args.workload.as_ref().map(|w| match w.split_once('/') {
        Some((ns, n)) => Workload {
            name: n.to_string(),
            namespace: Some(ns.to_string()),
            ..Default::default()
        },
        None => Workload {
            name: w.clone(),
            ..Default::default()
        },
    });
    if let Some(f) = &args.findings {
        input.findings = read_findings(f)?;
    }
    if let Some(s) = &args.sbom {
        input.sbom = Some(read_sbom(s)?);
    }
    for a in &args.attestations {
        input.attestations.extend(read_attestations(a)?);
    }
    input.validate().context("the assembled input is invalid")?;
    Ok(input)
}

pub fn run(args: GateArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let engine = args.bundle.engine()?;
    let input = assemble(&args)?;
    if let Some(path) = &args.save_input {
        let text = serde_json::to_vec_pretty(&input)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let exceptions = read_exceptions(args.exceptions.as_deref())?;
    let now = parse_now(args.now.as_deref())?;
    let decision = engine.decide(&input, &args.env, &exceptions, now);
    log_decision(&decision, &args.log, global)?;
    print_decision(&decision, global.format)?;
    if decision.outcome == palisade_policy::Outcome::Deny
        && global.format != crate::output::OutputFormat::Json
    {
        eprintln!("gate: deny ({} reason(s))", decision.reasons().len());
    }
    Ok(exit_code(decision.outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_references_split() {
        let d = format!("sha256:{}", "a".repeat(64));
        let (n, t, g) = parse_artifact(&format!("registry.example:5000/team/app:1.2@{d}")).unwrap();
        assert_eq!(
            (n.as_str(), t.as_deref(), g.as_deref()),
            (
                "registry.example:5000/team/app",
                Some("1.2"),
                Some(d.as_str())
            )
        );
        let (n, t, g) = parse_artifact("registry.example:5000/team/app").unwrap();
        assert_eq!(
            (n.as_str(), t, g),
            ("registry.example:5000/team/app", None, None)
        );
        let (n, t, _) = parse_artifact("app:latest").unwrap();
        assert_eq!((n.as_str(), t.as_deref()), ("app", Some("latest")));
        assert!(parse_artifact(":x").is_err());
    }
}
