//! What the server trusts when it verifies evidence at upload: public keys
//! (for DSSE attestations and key-signed Sigstore bundles), Sigstore signer
//! identities (certificate SAN and OIDC issuer) and the Sigstore trusted
//! root. Verification happens here, once, when evidence arrives; decisions
//! read the stored verdicts.

use palisade_attest::attestation::{AttestationPolicy, verify_envelope};
use palisade_attest::dsse::Envelope;
use palisade_attest::sigstore::{ArtifactInput, BundleVerifier, SignerPolicy};
use palisade_attest::statement::DigestRef;
use palisade_attest::{PublicKey, Verification};

/// Trusted keys and identities.
#[derive(Default)]
pub struct Trust {
    /// Named public keys.
    pub keys: Vec<(String, PublicKey)>,
    /// Trusted keyless signers: (certificate identity, OIDC issuer).
    pub identities: Vec<(String, String)>,
    /// The Sigstore trusted root; `None` refuses Sigstore bundles.
    pub sigstore: Option<BundleVerifier>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trust")
            .field(
                "keys",
                &self.keys.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("identities", &self.identities)
            .field("sigstore", &self.sigstore.is_some())
            .finish()
    }
}

/// The kind of evidence a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceKind {
    /// A DSSE envelope (`payloadType`, `payload`, `signatures`).
    Dsse,
    /// A Sigstore bundle (`mediaType` `application/vnd.dev.sigstore.bundle...`).
    SigstoreBundle,
}

/// Tells a DSSE envelope from a Sigstore bundle.
pub fn detect(doc: &serde_json::Value) -> Option<EvidenceKind> {
    if doc
        .get("mediaType")
        .and_then(|m| m.as_str())
        .is_some_and(|m| m.starts_with("application/vnd.dev.sigstore.bundle"))
    {
        Some(EvidenceKind::SigstoreBundle)
    } else if doc.get("payloadType").is_some() && doc.get("signatures").is_some() {
        Some(EvidenceKind::Dsse)
    } else {
        None
    }
}

/// The subject digests (`sha256:<hex>`) of the in-toto statement inside a
/// DSSE envelope or a Sigstore bundle's envelope, unverified (used only to
/// choose what to verify against).
pub fn claimed_subjects(doc: &serde_json::Value) -> Vec<String> {
    use base64::Engine as _;
    let envelope = doc.get("dsseEnvelope").unwrap_or(doc);
    let Some(payload) = envelope.get("payload").and_then(|p| p.as_str()) else {
        return Vec::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(payload) else {
        return Vec::new();
    };
    let Ok(statement) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    statement
        .get("subject")
        .and_then(|s| s.as_array())
        .map(|subjects| {
            subjects
                .iter()
                .filter_map(|s| s.get("digest")?.get("sha256")?.as_str())
                .map(|h| format!("sha256:{}", h.to_ascii_lowercase()))
                .collect()
        })
        .unwrap_or_default()
}

impl Trust {
    /// Verifies a DSSE envelope against the trusted keys.
    pub fn verify_dsse(&self, bytes: &[u8]) -> Result<Verification, String> {
        let envelope = Envelope::from_json(bytes).map_err(|e| e.to_string())?;
        let keys: Vec<PublicKey> = self.keys.iter().map(|(_, k)| k.clone()).collect();
        let policy = AttestationPolicy {
            threshold: 1,
            ..AttestationPolicy::default()
        };
        verify_envelope(&envelope, &keys, &policy).map_err(|e| e.to_string())
    }

    /// Verifies a Sigstore bundle for `artifact` against each trusted signer
    /// until one verifies; returns the last verification otherwise.
    pub fn verify_bundle(&self, bytes: &[u8], artifact: &str) -> Result<Verification, String> {
        let verifier = self.sigstore.as_ref().ok_or_else(|| {
            "this server has no Sigstore trusted root configured, so it cannot verify bundles"
                .to_owned()
        })?;
        let digest = DigestRef::parse(artifact).map_err(|e| e.to_string())?;
        let mut policies: Vec<SignerPolicy> = self
            .identities
            .iter()
            .map(|(identity, issuer)| SignerPolicy::Identity {
                identity: identity.clone(),
                issuer: issuer.clone(),
            })
            .collect();
        policies.extend(self.keys.iter().map(|(_, k)| SignerPolicy::Key(k.clone())));
        if policies.is_empty() {
            return Err(
                "no trusted signer is configured (give --trust-key or --trust-identity)".to_owned(),
            );
        }
        let mut last = None;
        for p in &policies {
            let v = verifier.verify(bytes, ArtifactInput::Digest(&digest), p);
            if v.verified {
                return Ok(v);
            }
            last = Some(v);
        }
        last.ok_or_else(|| "nothing verified".to_owned())
    }

    /// The name of the trusted key with `keyid`, if any.
    pub fn key_name(&self, keyid: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(_, k)| k.keyid() == keyid)
            .map(|(n, _)| n.as_str())
    }
}
