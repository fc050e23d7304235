//! OCI image manifests, image indexes and descriptors (and their Docker v2
//! counterparts, which share the shape), with the media types and the
//! annotations this crate reads.
//!
//! Manifests are kept as the bytes the registry served: the digest is over
//! those bytes, so they are parsed for reading but never re-serialised to
//! compute one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::reference::Digest;

/// Media types.
pub mod media {
    /// An OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// An OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// A Docker image manifest, schema 2.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// A Docker manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// The empty descriptor's media type (`{}`), the config of artifacts.
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// An OCI image configuration.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// A gzip-compressed layer tarball.
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// A DSSE envelope (cosign's `.att` layers; in-toto attestations).
    pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
    /// Cosign's simple-signing payload (`.sig` layers).
    pub const COSIGN_SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    /// The prefix of Sigstore bundle media types
    /// (`application/vnd.dev.sigstore.bundle.v0.3+json`, `...bundle+json;version=0.3`).
    pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
    /// An in-toto statement, unsigned.
    pub const IN_TOTO: &str = "application/vnd.in-toto+json";

    /// Media types of SBOM documents (cosign `attach sbom`, ORAS, notation).
    pub const SBOM: &[&str] = &[
        "text/spdx",
        "text/spdx+json",
        "text/spdx+xml",
        "application/spdx+json",
        "application/vnd.cyclonedx",
        "application/vnd.cyclonedx+json",
        "application/vnd.cyclonedx+xml",
        "application/vnd.syft+json",
    ];

    /// Whether `media_type` (parameters ignored) is an SBOM type.
    pub fn is_sbom(media_type: &str) -> bool {
        let base = essence(media_type);
        SBOM.iter().any(|m| m.eq_ignore_ascii_case(base))
    }

    /// Whether `media_type` is a Sigstore bundle.
    pub fn is_sigstore_bundle(media_type: &str) -> bool {
        media_type.starts_with(SIGSTORE_BUNDLE_PREFIX)
    }

    /// A media type without its parameters (`; charset=...`).
    pub fn essence(media_type: &str) -> &str {
        media_type.split(';').next().unwrap_or_default().trim()
    }
}

/// Annotations of cosign's layouts.
pub mod annotations {
    /// The base64 signature of a `.sig` layer over its payload.
    pub const COSIGN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
    /// The Rekor bundle of a cosign signature or attestation (JSON).
    pub const COSIGN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
    /// The signing certificate (PEM) of a keyless signature.
    pub const COSIGN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
    /// The certificate chain (PEM).
    pub const COSIGN_CHAIN: &str = "dev.sigstore.cosign/chain";
    /// The RFC 3161 timestamp of a signature (JSON).
    pub const COSIGN_TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";
    /// The predicate type of a `.att` layer.
    pub const PREDICATE_TYPE: &str = "predicateType";
    /// When an artifact was created (RFC 3339).
    pub const CREATED: &str = "org.opencontainers.image.created";
}

/// The `Accept` header for manifests: OCI index and manifest, Docker list
/// and manifest.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// The content of the empty descriptor.
pub const EMPTY_JSON: &[u8] = b"{}";

/// A content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the referenced content.
    pub media_type: String,
    /// Its digest.
    #[serde(with = "digest_string")]
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// The artifact type (in an index or a referrers list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform, in indexes of multi-platform images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<serde_json::Value>,
    /// Alternative locations (non-distributable layers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

impl Descriptor {
    /// A descriptor of `bytes`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: Digest::sha256(bytes),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            artifact_type: None,
            annotations: BTreeMap::new(),
            platform: None,
            urls: Vec::new(),
        }
    }

    /// The empty descriptor (`{}`, `application/vnd.oci.empty.v1+json`).
    pub fn empty() -> Descriptor {
        Descriptor::of(media::OCI_EMPTY, EMPTY_JSON)
    }
}

mod digest_string {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::reference::Digest;

    pub fn serialize<S: Serializer>(d: &Digest, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let text = String::deserialize(d)?;
        Digest::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An image manifest (OCI, or Docker schema 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type (OCI 1.1 artifacts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The configuration blob.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// The artifact type: `artifactType`, else the config's media type
    /// (as the referrers API defines it).
    pub fn effective_artifact_type(&self) -> &str {
        self.artifact_type
            .as_deref()
            .unwrap_or(&self.config.media_type)
    }
}

/// An image index (OCI, or a Docker manifest list); also the referrers list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// An empty OCI index.
    pub fn new() -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        }
    }
}

impl Default for ImageIndex {
    fn default() -> Self {
        ImageIndex::new()
    }
}

/// A parsed manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// An image manifest (or an artifact manifest in its shape).
    Image(Box<ImageManifest>),
    /// An index or manifest list.
    Index(Box<ImageIndex>),
}

/// A manifest as the registry served it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The bytes, exactly as served.
    pub bytes: Vec<u8>,
    /// The media type (from `Content-Type`, else the document's
    /// `mediaType`).
    pub media_type: String,
    /// The digest of the bytes (verified).
    pub digest: Digest,
}

impl Manifest {
    /// The descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: u64::try_from(self.bytes.len()).unwrap_or(u64::MAX),
            artifact_type: None,
            annotations: BTreeMap::new(),
            platform: None,
            urls: Vec::new(),
        }
    }

    /// Parses the manifest by its media type; a document whose `mediaType`
    /// contradicts the served `Content-Type` is refused, as the
    /// distribution specification asks.
    pub fn parse(&self) -> Result<Parsed, Error> {
        let doc: serde_json::Value =
            serde_json::from_slice(&self.bytes).map_err(|e| Error::Format {
                what: "manifest",
                reason: e.to_string(),
            })?;
        let declared = doc.get("mediaType").and_then(|m| m.as_str());
        if let Some(declared) = declared
            && declared != self.media_type
            && !self.media_type.is_empty()
        {
            return Err(Error::Format {
                what: "manifest",
                reason: format!(
                    "its mediaType {declared:?} contradicts the Content-Type {:?}",
                    self.media_type
                ),
            });
        }
        let kind = if self.media_type.is_empty() {
            declared.unwrap_or_default()
        } else {
            self.media_type.as_str()
        };
        let is_index = match kind {
            media::OCI_INDEX | media::DOCKER_MANIFEST_LIST => true,
            media::OCI_MANIFEST | media::DOCKER_MANIFEST => false,
            // No usable media type: an index has "manifests".
            _ => doc.get("manifests").is_some() && doc.get("config").is_none(),
        };
        let bad = |e: serde_json::Error| Error::Format {
            what: if is_index {
                "image index"
            } else {
                "image manifest"
            },
            reason: e.to_string(),
        };
        if is_index {
            serde_json::from_value(doc)
                .map(|i| Parsed::Index(Box::new(i)))
                .map_err(bad)
        } else {
            serde_json::from_value(doc)
                .map(|m| Parsed::Image(Box::new(m)))
                .map_err(bad)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_by_media_type_and_refuse_contradictions() -> Result<(), Error> {
        let config = Descriptor::empty();
        let m = ImageManifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.into()),
            artifact_type: Some(media::DSSE_ENVELOPE.into()),
            config,
            layers: vec![],
            subject: None,
            annotations: BTreeMap::new(),
        };
        let bytes = serde_json::to_vec(&m).map_err(|e| Error::Format {
            what: "t",
            reason: e.to_string(),
        })?;
        let served = Manifest {
            digest: Digest::sha256(&bytes),
            bytes: bytes.clone(),
            media_type: media::OCI_MANIFEST.into(),
        };
        match served.parse()? {
            Parsed::Image(back) => {
                assert_eq!(*back, m);
                assert_eq!(back.effective_artifact_type(), media::DSSE_ENVELOPE);
            }
            Parsed::Index(_) => panic!("not an index"),
        }
        let lying = Manifest {
            media_type: media::OCI_INDEX.into(),
            ..served
        };
        assert!(lying.parse().is_err());
        Ok(())
    }

    #[test]
    fn malformed_descriptors_are_errors_not_panics() {
        for doc in [
            r#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:zz","size":1}]}"#,
            r#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:00","size":-1}]}"#,
            r#"{"schemaVersion":2,"config":7}"#,
            "[]",
            "",
        ] {
            let m = Manifest {
                bytes: doc.as_bytes().to_vec(),
                media_type: String::new(),
                digest: Digest::sha256(doc.as_bytes()),
            };
            assert!(m.parse().is_err(), "{doc}");
        }
    }
}
