//! `palisade oci`: images in OCI registries.
//!
//! * `oci resolve REF`: the digest a tag (or `latest`) names;
//! * `oci referrers REF`: the signatures, attestations and SBOMs attached to
//!   the image, by the OCI 1.1 referrers API (or its fallback tag) and by
//!   cosign's `.sig`/`.att`/`.sbom` tags;
//! * `oci attach --attestation FILE REF`: pushes a DSSE envelope as an OCI
//!   1.1 artifact whose subject is the image (and, with `--cosign-tag`, into
//!   cosign's `.att` tag).
//!
//! Credentials come from the Docker configuration (`--docker-config`,
//! `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, with its
//! credential helpers). Exit codes: 0 done; 2 usage error, unreadable input,
//! or a registry error (each names the registry, repository and HTTP
//! status).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use palisade_oci::{
    AttachOptions, Client, ClientOptions, DockerConfigSource, Evidence, FetchOptions, Reference,
    Source,
};
use serde::Serialize;

use crate::GlobalArgs;
use crate::output::{self, OutputFormat};

/// Registry access options (shared by every `oci` command).
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// A registry reached over plain HTTP (`host[:port]`); repeatable.
    /// Loopback registries always are.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
    /// The Docker configuration file with registry credentials (default:
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
    #[arg(long, env = "PALISADE_DOCKER_CONFIG", value_name = "FILE")]
    pub docker_config: Option<PathBuf>,
    /// Contact HOST for registry NAME (a mirror, or a registry whose API
    /// host differs from its name); repeatable.
    #[arg(long = "registry-endpoint", value_name = "NAME=HOST")]
    pub endpoints: Vec<String>,
    /// The largest blob (attestation, SBOM) read, in bytes.
    #[arg(long, default_value_t = palisade_oci::client::DEFAULT_MAX_BLOB_BYTES)]
    pub max_blob_bytes: u64,
}

impl RegistryArgs {
    /// The client options these arguments describe.
    pub fn options(&self) -> anyhow::Result<ClientOptions> {
        let mut endpoints = BTreeMap::new();
        for e in &self.endpoints {
            let (name, host) = e
                .split_once('=')
                .with_context(|| format!("--registry-endpoint {e:?}: expected NAME=HOST"))?;
            endpoints.insert(name.to_owned(), host.to_owned());
        }
        Ok(ClientOptions {
            insecure_registries: self.insecure_registries.clone(),
            docker_config: match &self.docker_config {
                Some(p) => DockerConfigSource::Path(p.clone()),
                None => DockerConfigSource::Default,
            },
            endpoints,
            max_blob_bytes: self.max_blob_bytes,
            ..ClientOptions::default()
        })
    }

    fn client(&self) -> anyhow::Result<Client> {
        Ok(Client::new(self.options()?)?)
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum OciCommand {
    /// Resolve an image reference to the digest of its manifest.
    Resolve {
        /// `registry/repo:tag`, `repo@sha256:...`, or a Docker Hub name.
        reference: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// List the signatures, attestations and SBOMs attached to an image.
    Referrers {
        /// The image.
        reference: String,
        /// Skip cosign's `.sig`/`.att`/`.sbom` tags.
        #[arg(long)]
        no_cosign: bool,
        /// Skip the OCI referrers (API and fallback tag).
        #[arg(long)]
        no_referrers: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Push a DSSE envelope as an OCI 1.1 artifact attached to an image.
    Attach {
        /// The DSSE envelope (JSON) to push.
        #[arg(long, value_name = "FILE")]
        attestation: PathBuf,
        /// The image it is about.
        reference: String,
        /// Also add it to cosign's `sha256-<hex>.att` tag.
        #[arg(long)]
        cosign_tag: bool,
        /// An annotation of the artifact manifest, `KEY=VALUE`; repeatable.
        #[arg(long = "annotation", value_name = "KEY=VALUE")]
        annotations: Vec<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

pub fn run(command: OciCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        OciCommand::Resolve {
            reference,
            registry,
        } => resolve(&reference, &registry, global.format),
        OciCommand::Referrers {
            reference,
            no_cosign,
            no_referrers,
            registry,
        } => referrers(
            &reference,
            FetchOptions {
                cosign: !no_cosign,
                referrers: !no_referrers,
            },
            &registry,
            global.format,
        ),
        OciCommand::Attach {
            attestation,
            reference,
            cosign_tag,
            annotations,
            registry,
        } => attach(
            &attestation,
            &reference,
            cosign_tag,
            &annotations,
            &registry,
            global.format,
        ),
    }
}

#[derive(Serialize)]
struct ResolvedOut {
    reference: String,
    digest: String,
    media_type: String,
    size: u64,
}

fn resolve(
    reference: &str,
    registry: &RegistryArgs,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let image = Reference::parse(reference)?;
    let client = registry.client()?;
    let r = client.resolve(&image)?;
    let out = ResolvedOut {
        reference: image.to_string(),
        digest: r.digest.to_string(),
        media_type: r.media_type.clone(),
        size: r.size,
    };
    match format {
        OutputFormat::Json => output::print_json(&out)?,
        OutputFormat::Table => println!("{}@{}", image.name(), out.digest),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct ArtifactOut {
    source: Source,
    manifest: String,
    artifact_type: String,
    annotations: BTreeMap<String, String>,
    evidence: Vec<EvidenceOut>,
}

#[derive(Serialize)]
struct EvidenceOut {
    kind: &'static str,
    media_type: Option<String>,
    predicate_type: Option<String>,
    bytes: usize,
}

#[derive(Serialize)]
struct ReferrersOut {
    image: String,
    digest: String,
    referrers_path: Option<String>,
    artifacts: Vec<ArtifactOut>,
    problems: Vec<String>,
}

fn evidence_out(e: &Evidence) -> EvidenceOut {
    match e {
        Evidence::Dsse {
            envelope,
            predicate_type,
            ..
        } => EvidenceOut {
            kind: e.kind(),
            media_type: Some(palisade_oci::manifest::media::DSSE_ENVELOPE.to_owned()),
            predicate_type: predicate_type.clone(),
            bytes: envelope.len(),
        },
        Evidence::SigstoreBundle { bundle, media_type } => EvidenceOut {
            kind: e.kind(),
            media_type: Some(media_type.clone()),
            predicate_type: None,
            bytes: bundle.len(),
        },
        Evidence::CosignSignature { payload, .. } => EvidenceOut {
            kind: e.kind(),
            media_type: Some(palisade_oci::manifest::media::COSIGN_SIMPLE_SIGNING.to_owned()),
            predicate_type: None,
            bytes: payload.len(),
        },
        Evidence::Sbom {
            media_type,
            document,
        } => EvidenceOut {
            kind: e.kind(),
            media_type: Some(media_type.clone()),
            predicate_type: None,
            bytes: document.len(),
        },
    }
}

fn source_text(s: &Source) -> String {
    match s {
        Source::CosignTag { tag, .. } => format!("cosign tag {tag}"),
        Source::ReferrersApi => "referrers API".to_owned(),
        Source::ReferrersTag { tag } => format!("referrers tag {tag}"),
    }
}

fn referrers(
    reference: &str,
    fetch: FetchOptions,
    registry: &RegistryArgs,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let image = Reference::parse(reference)?;
    let client = registry.client()?;
    let resolved = client.resolve(&image)?;
    let attached = client.attached(&image, &resolved.digest, fetch)?;
    let out = ReferrersOut {
        image: image.to_string(),
        digest: resolved.digest.to_string(),
        referrers_path: attached.referrers_path.as_ref().map(ToString::to_string),
        artifacts: attached
            .artifacts
            .iter()
            .map(|a| ArtifactOut {
                source: a.source.clone(),
                manifest: a.manifest.digest.to_string(),
                artifact_type: a.artifact_type.clone(),
                annotations: a.annotations.clone(),
                evidence: a.evidence().iter().map(evidence_out).collect(),
            })
            .collect(),
        problems: attached.problems.clone(),
    };
    match format {
        OutputFormat::Json => output::print_json(&out)?,
        OutputFormat::Table => {
            println!("{}@{}", image.name(), out.digest);
            if let Some(p) = &out.referrers_path {
                println!("referrers: {p}");
            }
            let mut t = output::table(["FOUND BY", "MANIFEST", "ARTIFACT TYPE", "EVIDENCE"]);
            for (a, src) in out.artifacts.iter().zip(&attached.artifacts) {
                let evidence = a
                    .evidence
                    .iter()
                    .map(|e| match &e.predicate_type {
                        Some(p) => format!("{} ({p})", e.kind),
                        None => e.kind.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                t.add_row([
                    source_text(&src.source),
                    a.manifest.clone(),
                    a.artifact_type.clone(),
                    evidence,
                ]);
            }
            if out.artifacts.is_empty() {
                println!("nothing attached");
            } else {
                println!("{t}");
            }
            for p in &out.problems {
                eprintln!("warning: {p}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct AttachOut {
    image: String,
    subject: String,
    artifact: String,
    referrers: String,
    cosign_tag: Option<String>,
}

/// The largest envelope file read.
const MAX_ENVELOPE_BYTES: u64 = 16 * 1024 * 1024;

fn attach(
    file: &std::path::Path,
    reference: &str,
    cosign_tag: bool,
    annotations: &[String],
    registry: &RegistryArgs,
    format: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let image = Reference::parse(reference)?;
    let len = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    if len > MAX_ENVELOPE_BYTES {
        anyhow::bail!(
            "{} is {len} bytes, over the {MAX_ENVELOPE_BYTES} accepted",
            file.display()
        );
    }
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    // It must be a DSSE envelope; its statement's predicate type is noted
    // on the layer, as cosign does.
    let envelope = palisade_attest::Envelope::from_json(&bytes)
        .with_context(|| format!("{} is not a DSSE envelope", file.display()))?;
    let predicate_type = envelope
        .decoded_payload()
        .ok()
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|s| s.get("predicateType")?.as_str().map(str::to_owned));
    let mut ann = BTreeMap::new();
    for a in annotations {
        let (k, v) = a
            .split_once('=')
            .with_context(|| format!("--annotation {a:?}: expected KEY=VALUE"))?;
        ann.insert(k.to_owned(), v.to_owned());
    }
    let client = registry.client()?;
    let resolved = client.resolve(&image)?;
    let pushed = client.push_attestation(
        &image,
        &resolved.descriptor(),
        &bytes,
        &AttachOptions {
            cosign_tag,
            annotations: ann,
            predicate_type,
        },
    )?;
    let out = AttachOut {
        image: image.to_string(),
        subject: resolved.digest.to_string(),
        artifact: pushed.artifact.descriptor.digest.to_string(),
        referrers: pushed.referrers.to_string(),
        cosign_tag: pushed.cosign_tag.clone(),
    };
    match format {
        OutputFormat::Json => output::print_json(&out)?,
        OutputFormat::Table => {
            println!(
                "pushed {}@{} (subject {}; found by {})",
                image.name(),
                out.artifact,
                out.subject,
                out.referrers
            );
            if let Some(t) = &out.cosign_tag {
                println!("added to cosign tag {t}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
