//! Signatures, attestations and SBOMs attached to an image, found both ways
//! they are attached in practice, and Palisade's own attestations pushed
//! the same ways.
//!
//! * **Cosign's tag scheme**: in the image's repository, the tags
//!   `sha256-<hex>.sig` (simple-signing payloads, the signature in the
//!   layer annotation `dev.cosignproject.cosign/signature`, maybe a Rekor
//!   bundle in `dev.sigstore.cosign/bundle`), `sha256-<hex>.att` (DSSE
//!   envelopes, `application/vnd.dsse.envelope.v1+json`, one per layer) and
//!   `sha256-<hex>.sbom` (SBOM documents).
//! * **OCI 1.1 referrers**: manifests whose `subject` is the image, listed
//!   by `GET /v2/<name>/referrers/<digest>`, or, where the registry does not
//!   implement that API (it answers 404), by the index under the fallback
//!   tag `sha256-<hex>`.
//!
//! Nothing here verifies a signature: the artifacts are returned typed, with
//! their bytes digest-checked, for `palisade-attest` (through the server's
//! trust settings) to verify at ingest.

use std::collections::{BTreeMap, BTreeSet};

use crate::Error;
use crate::client::{Client, PushedManifest, Referrers, ReferrersPath};
use crate::manifest::{
    Descriptor, EMPTY_JSON, ImageIndex, ImageManifest, Parsed, annotations, media,
};
use crate::reference::{Digest, Reference};

/// Cosign's tag suffixes.
pub const COSIGN_SUFFIXES: [(&str, CosignKind); 3] = [
    ("sig", CosignKind::Signatures),
    ("att", CosignKind::Attestations),
    ("sbom", CosignKind::Sbom),
];

/// What a cosign tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CosignKind {
    /// `.sig`
    Signatures,
    /// `.att`
    Attestations,
    /// `.sbom`
    Sbom,
}

/// The cosign tag of `digest` for `suffix` (`sig`, `att`, `sbom`).
pub fn cosign_tag(digest: &Digest, suffix: &str) -> String {
    format!("{}.{suffix}", digest.tag_prefix())
}

/// Where an artifact was found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "via", rename_all = "kebab-case")]
pub enum Source {
    /// Cosign's tag scheme.
    CosignTag {
        /// The tag.
        tag: String,
        /// What it holds.
        kind: CosignKind,
    },
    /// The OCI 1.1 referrers API.
    ReferrersApi,
    /// The referrers fallback tag.
    ReferrersTag {
        /// The tag.
        tag: String,
    },
}

/// One piece of evidence read from a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A DSSE envelope (an in-toto attestation).
    Dsse {
        /// The envelope JSON, as stored.
        envelope: Vec<u8>,
        /// The `predicateType` annotation (unverified, for display).
        predicate_type: Option<String>,
        /// Cosign's Rekor bundle annotation, if any.
        cosign_bundle: Option<String>,
        /// The signing certificate annotation, if any.
        certificate: Option<String>,
    },
    /// A Sigstore bundle (JSON).
    SigstoreBundle {
        /// The bundle, as stored.
        bundle: Vec<u8>,
        /// Its media type.
        media_type: String,
    },
    /// A cosign signature over a simple-signing payload.
    CosignSignature {
        /// The payload, as stored (the bytes that were signed).
        payload: Vec<u8>,
        /// The base64 signature.
        signature: String,
        /// The signing certificate (PEM), for keyless signatures.
        certificate: Option<String>,
        /// The certificate chain (PEM).
        chain: Option<String>,
        /// Cosign's Rekor bundle (JSON).
        bundle: Option<String>,
    },
    /// An SBOM document.
    Sbom {
        /// Its media type.
        media_type: String,
        /// The document.
        document: Vec<u8>,
    },
}

impl Evidence {
    /// A short name of the kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Evidence::Dsse { .. } => "dsse",
            Evidence::SigstoreBundle { .. } => "sigstore-bundle",
            Evidence::CosignSignature { .. } => "cosign-signature",
            Evidence::Sbom { .. } => "sbom",
        }
    }
}

/// A layer of an artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    /// Its descriptor.
    pub descriptor: Descriptor,
    /// Its content, when its media type is one this crate reads (and it was
    /// within the blob limit).
    pub content: Option<Vec<u8>>,
}

/// An artifact attached to an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// Where it was found.
    pub source: Source,
    /// The artifact manifest's descriptor.
    pub manifest: Descriptor,
    /// Its artifact type (`artifactType`, else the config media type).
    pub artifact_type: String,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Its `subject`, if it has one.
    pub subject: Option<Descriptor>,
    /// Its layers.
    pub layers: Vec<Layer>,
}

impl Artifact {
    /// The evidence in its layers.
    pub fn evidence(&self) -> Vec<Evidence> {
        self.layers.iter().filter_map(layer_evidence).collect()
    }
}

fn layer_evidence(layer: &Layer) -> Option<Evidence> {
    let content = layer.content.as_ref()?;
    let d = &layer.descriptor;
    let ann = |k: &str| d.annotations.get(k).cloned();
    let mt = media::essence(&d.media_type);
    if mt == media::DSSE_ENVELOPE {
        Some(Evidence::Dsse {
            envelope: content.clone(),
            predicate_type: ann(annotations::PREDICATE_TYPE),
            cosign_bundle: ann(annotations::COSIGN_BUNDLE),
            certificate: ann(annotations::COSIGN_CERTIFICATE),
        })
    } else if media::is_sigstore_bundle(&d.media_type) {
        Some(Evidence::SigstoreBundle {
            bundle: content.clone(),
            media_type: d.media_type.clone(),
        })
    } else if mt == media::COSIGN_SIMPLE_SIGNING {
        Some(Evidence::CosignSignature {
            payload: content.clone(),
            signature: ann(annotations::COSIGN_SIGNATURE)?,
            certificate: ann(annotations::COSIGN_CERTIFICATE),
            chain: ann(annotations::COSIGN_CHAIN),
            bundle: ann(annotations::COSIGN_BUNDLE),
        })
    } else if media::is_sbom(&d.media_type) {
        Some(Evidence::Sbom {
            media_type: d.media_type.clone(),
            document: content.clone(),
        })
    } else {
        None
    }
}

/// Whether a layer's content is read.
fn wanted(media_type: &str) -> bool {
    let mt = media::essence(media_type);
    mt == media::DSSE_ENVELOPE
        || mt == media::COSIGN_SIMPLE_SIGNING
        || mt == media::IN_TOTO
        || media::is_sigstore_bundle(media_type)
        || media::is_sbom(media_type)
}

/// What is attached to an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The image's digest.
    pub subject: Digest,
    /// How the referrers list was obtained (`None` if not asked).
    pub referrers_path: Option<ReferrersPath>,
    /// The artifacts, referrers first, then cosign's tags; each manifest
    /// once.
    pub artifacts: Vec<Artifact>,
    /// Artifacts that could not be read, with why; the rest is still
    /// returned.
    pub problems: Vec<String>,
}

impl Attached {
    /// Every piece of evidence, with the artifact it came from.
    pub fn evidence(&self) -> Vec<(&Artifact, Evidence)> {
        self.artifacts
            .iter()
            .flat_map(|a| a.evidence().into_iter().map(move |e| (a, e)))
            .collect()
    }
}

/// Which attachment schemes to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Read cosign's `.sig`, `.att`, `.sbom` tags.
    pub cosign: bool,
    /// Read the referrers (API, or fallback tag).
    pub referrers: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            cosign: true,
            referrers: true,
        }
    }
}

/// How to push an attestation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachOptions {
    /// Also add it to cosign's `.att` tag.
    pub cosign_tag: bool,
    /// Annotations of the artifact manifest.
    pub annotations: BTreeMap<String, String>,
    /// The predicate type, recorded as the layer's `predicateType`
    /// annotation (as cosign does).
    pub predicate_type: Option<String>,
}

/// An attestation pushed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedAttestation {
    /// The OCI 1.1 artifact manifest.
    pub artifact: PushedManifest,
    /// How referrers will find it: the registry indexes it (`OCI-Subject`),
    /// or the fallback tag was updated.
    pub referrers: ReferrersPath,
    /// The cosign tag it was added to, if asked.
    pub cosign_tag: Option<String>,
}

impl Client {
    /// Reads the artifact manifest `desc` and the layers this crate reads.
    fn read_artifact(
        &self,
        image: &Reference,
        source: Source,
        desc: &Descriptor,
        reference: &str,
    ) -> Result<Artifact, Error> {
        let m = self.get_manifest(image, reference)?;
        let manifest: ImageManifest = match m.parse()? {
            Parsed::Image(i) => *i,
            Parsed::Index(_) => {
                return Err(Error::Format {
                    what: "attached artifact",
                    reason: format!("{reference} is an index, not an artifact manifest"),
                });
            }
        };
        let mut layers = Vec::new();
        for l in manifest.layers.iter().take(self.options().max_referrers) {
            let content = if wanted(&l.media_type) {
                Some(self.get_blob(image, l)?)
            } else {
                None
            };
            layers.push(Layer {
                descriptor: l.clone(),
                content,
            });
        }
        let mut manifest_desc = m.descriptor();
        manifest_desc.artifact_type = desc.artifact_type.clone();
        Ok(Artifact {
            source,
            manifest: manifest_desc,
            artifact_type: manifest.effective_artifact_type().to_owned(),
            annotations: manifest.annotations.clone(),
            subject: manifest.subject.clone(),
            layers,
        })
    }

    /// The signatures, attestations and SBOMs attached to the image with
    /// digest `subject` in `image`'s repository.
    pub fn attached(
        &self,
        image: &Reference,
        subject: &Digest,
        options: FetchOptions,
    ) -> Result<Attached, Error> {
        let mut out = Attached {
            subject: subject.clone(),
            referrers_path: None,
            artifacts: Vec::new(),
            problems: Vec::new(),
        };
        let mut seen = BTreeSet::new();
        let limit = self.options().max_referrers;
        if options.referrers {
            let Referrers { path, descriptors } = match self.referrers(image, subject, None) {
                Ok(r) => r,
                Err(e) => {
                    out.problems.push(format!("referrers: {e}"));
                    Referrers {
                        path: ReferrersPath::Api,
                        descriptors: Vec::new(),
                    }
                }
            };
            if descriptors.len() > limit {
                out.problems.push(format!(
                    "{} referrers; only the first {limit} are read",
                    descriptors.len()
                ));
            }
            for d in descriptors.iter().take(limit) {
                if !seen.insert(d.digest.clone()) {
                    continue;
                }
                let source = match &path {
                    ReferrersPath::Api => Source::ReferrersApi,
                    ReferrersPath::FallbackTag { tag, .. } => {
                        Source::ReferrersTag { tag: tag.clone() }
                    }
                };
                match self.read_artifact(image, source, d, &d.digest.to_string()) {
                    Ok(a) => {
                        // A referrer must point back at the image.
                        if a.subject.as_ref().is_some_and(|s| s.digest == *subject) {
                            out.artifacts.push(a);
                        } else {
                            out.problems.push(format!(
                                "referrer {} does not name {subject} as its subject; ignored",
                                d.digest
                            ));
                        }
                    }
                    Err(e) => out.problems.push(format!("referrer {}: {e}", d.digest)),
                }
            }
            out.referrers_path = Some(path);
        }
        if options.cosign {
            for (suffix, kind) in COSIGN_SUFFIXES {
                let tag = cosign_tag(subject, suffix);
                let source = Source::CosignTag {
                    tag: tag.clone(),
                    kind,
                };
                let placeholder = Descriptor::empty();
                match self.read_artifact(image, source, &placeholder, &tag) {
                    Ok(a) => {
                        if seen.insert(a.manifest.digest.clone()) {
                            out.artifacts.push(a);
                        }
                    }
                    Err(e) if e.is_not_found() => {}
                    Err(e) => out.problems.push(format!("{tag}: {e}")),
                }
            }
        }
        Ok(out)
    }

    /// Pushes a DSSE envelope as an OCI 1.1 artifact whose `subject` is the
    /// image (`subject`, the image manifest's descriptor), in `image`'s
    /// repository. Where the registry does not index referrers itself (no
    /// `OCI-Subject` in its answer), the fallback tag `sha256-<hex>` is
    /// updated. With [`AttachOptions::cosign_tag`], the envelope is also
    /// added as a layer of cosign's `sha256-<hex>.att`.
    pub fn push_attestation(
        &self,
        image: &Reference,
        subject: &Descriptor,
        envelope: &[u8],
        options: &AttachOptions,
    ) -> Result<PushedAttestation, Error> {
        let config = self.push_blob(image, media::OCI_EMPTY, EMPTY_JSON)?;
        let mut layer = self.push_blob(image, media::DSSE_ENVELOPE, envelope)?;
        if let Some(p) = &options.predicate_type {
            layer
                .annotations
                .insert(annotations::PREDICATE_TYPE.to_owned(), p.clone());
        }
        let mut subject_desc = subject.clone();
        // A subject names the manifest only.
        subject_desc.annotations.clear();
        subject_desc.artifact_type = None;
        subject_desc.platform = None;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.to_owned()),
            artifact_type: Some(media::DSSE_ENVELOPE.to_owned()),
            config,
            layers: vec![layer.clone()],
            subject: Some(subject_desc),
            annotations: options.annotations.clone(),
        };
        let bytes = to_json(&manifest)?;
        let digest = Digest::sha256(&bytes);
        let artifact =
            self.push_manifest(image, &digest.to_string(), media::OCI_MANIFEST, &bytes)?;
        let referrers = if artifact
            .oci_subject
            .as_deref()
            .is_some_and(|s| s.trim() == subject.digest.to_string())
        {
            ReferrersPath::Api
        } else {
            let mut entry = artifact.descriptor.clone();
            entry.artifact_type = manifest.artifact_type.clone();
            entry.annotations = manifest.annotations.clone();
            self.add_to_fallback_index(image, &subject.digest, entry)?
        };
        let cosign_tag = if options.cosign_tag {
            Some(self.add_to_cosign_att(image, &subject.digest, layer)?)
        } else {
            None
        };
        Ok(PushedAttestation {
            artifact,
            referrers,
            cosign_tag,
        })
    }

    /// Adds `entry` to the referrers fallback index of `subject`.
    fn add_to_fallback_index(
        &self,
        image: &Reference,
        subject: &Digest,
        entry: Descriptor,
    ) -> Result<ReferrersPath, Error> {
        let tag = subject.tag_prefix();
        let mut index = match self.get_manifest(image, &tag) {
            Ok(m) => match m.parse()? {
                Parsed::Index(i) => *i,
                Parsed::Image(_) => {
                    return Err(Error::Format {
                        what: "referrers fallback tag",
                        reason: format!("{tag} is an image manifest, not an index"),
                    });
                }
            },
            Err(e) if e.is_not_found() => ImageIndex::new(),
            Err(e) => return Err(e),
        };
        if !index.manifests.iter().any(|d| d.digest == entry.digest) {
            index.manifests.push(entry);
            index.media_type = Some(media::OCI_INDEX.to_owned());
            let bytes = to_json(&index)?;
            self.push_manifest(image, &tag, media::OCI_INDEX, &bytes)?;
        }
        Ok(ReferrersPath::FallbackTag { tag, found: true })
    }

    /// Adds a DSSE layer to cosign's `.att` manifest of `subject`.
    fn add_to_cosign_att(
        &self,
        image: &Reference,
        subject: &Digest,
        layer: Descriptor,
    ) -> Result<String, Error> {
        let tag = cosign_tag(subject, "att");
        let mut layers = match self.get_manifest(image, &tag) {
            Ok(m) => match m.parse()? {
                Parsed::Image(i) => i.layers,
                Parsed::Index(_) => {
                    return Err(Error::Format {
                        what: "cosign attestation tag",
                        reason: format!("{tag} is an index, not a manifest"),
                    });
                }
            },
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        };
        if layers.iter().any(|l| l.digest == layer.digest) {
            return Ok(tag);
        }
        layers.push(layer);
        // Cosign's layout: an image configuration whose rootfs lists the
        // layers (they are not compressed, so diff ids are their digests).
        let config = serde_json::json!({
            "architecture": "",
            "os": "",
            "config": {},
            "rootfs": {
                "type": "layers",
                "diff_ids": layers.iter().map(|l| l.digest.to_string()).collect::<Vec<_>>(),
            },
        });
        let config_bytes = to_json(&config)?;
        let config = self.push_blob(image, media::OCI_CONFIG, &config_bytes)?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        };
        let bytes = to_json(&manifest)?;
        self.push_manifest(image, &tag, media::OCI_MANIFEST, &bytes)?;
        Ok(tag)
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Format {
        what: "manifest",
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(media_type: &str, ann: &[(&str, &str)], content: &[u8]) -> Layer {
        let mut descriptor = Descriptor::of(media_type, content);
        for (k, v) in ann {
            descriptor.annotations.insert((*k).into(), (*v).into());
        }
        Layer {
            descriptor,
            content: Some(content.to_vec()),
        }
    }

    #[test]
    fn layers_become_typed_evidence() {
        let dsse = layer(
            media::DSSE_ENVELOPE,
            &[(
                annotations::PREDICATE_TYPE,
                "https://slsa.dev/provenance/v1",
            )],
            b"{}",
        );
        assert!(matches!(
            layer_evidence(&dsse),
            Some(Evidence::Dsse { predicate_type: Some(p), .. }) if p == "https://slsa.dev/provenance/v1"
        ));
        let sig = layer(
            media::COSIGN_SIMPLE_SIGNING,
            &[
                (annotations::COSIGN_SIGNATURE, "c2ln"),
                (annotations::COSIGN_BUNDLE, "{}"),
            ],
            b"{\"critical\":{}}",
        );
        assert!(matches!(
            layer_evidence(&sig),
            Some(Evidence::CosignSignature {
                bundle: Some(_),
                ..
            })
        ));
        // A simple-signing layer without its signature is no evidence.
        let unsigned = layer(media::COSIGN_SIMPLE_SIGNING, &[], b"{}");
        assert_eq!(layer_evidence(&unsigned), None);
        let bundle = layer("application/vnd.dev.sigstore.bundle.v0.3+json", &[], b"{}");
        assert_eq!(
            layer_evidence(&bundle).map(|e| e.kind()),
            Some("sigstore-bundle")
        );
        let sbom = layer("application/vnd.cyclonedx+json", &[], b"{}");
        assert_eq!(layer_evidence(&sbom).map(|e| e.kind()), Some("sbom"));
        let tar = layer(media::OCI_LAYER_GZIP, &[], b"x");
        assert_eq!(layer_evidence(&tar), None);
        assert!(!wanted(media::OCI_LAYER_GZIP));
    }
}
