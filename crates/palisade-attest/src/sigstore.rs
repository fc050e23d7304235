//! Offline verification of Sigstore bundles (v0.1, v0.2 and v0.3).
//!
//! Design: the Sigstore verification procedure (certificate chain to a
//! Fulcio root valid at signing time, SCT against the CT log keys, Rekor
//! inclusion proof and signed checkpoint or signed entry timestamp,
//! integrated time and RFC 3161 timestamps inside the certificate's
//! validity, entry-to-content consistency, identity and issuer) is delegated
//! to the sigstore project's own `sigstore-verify` crate, pinned exactly,
//! which passes the sigstore-conformance suite. Re-implementing that
//! procedure would add risk, not value. This module wraps it: it parses the
//! inputs with size limits, builds the policy so that no check is skipped
//! (there is no "skip" knob in our API), and turns the outcome into a
//! [`Verification`] whose failed check names the step that failed.
//!
//! [`BundleVerifier`] prepares the trusted root once; reuse it to verify many
//! bundles (the admission path).

use der::Decode;
use sigstore_types::bundle::VerificationMaterialContent;
use sigstore_types::{Bundle, DerPublicKey, Sha256Hash, SignatureContent};
use sigstore_verify::{
    CertificateError, PublicKeyVerificationPolicy, TimestampError, TransparencyLogError,
    VerificationPolicy, Verifier,
};

use crate::keys::PublicKey;
use crate::statement::{DigestRef, Statement};
use crate::verification::{Check, Signer, Verification};
use crate::{Error, cjson};

/// The Sigstore public-good trusted root shipped with `sigstore-trust-root`,
/// used when no other is configured.
pub const PUBLIC_GOOD_TRUSTED_ROOT: &str =
    sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT;

/// The Sigstore staging trusted root shipped with `sigstore-trust-root`.
pub const STAGING_TRUSTED_ROOT: &str = sigstore_verify::trust_root::SIGSTORE_STAGING_TRUSTED_ROOT;

/// The largest bundle accepted (bundles are a few kilobytes).
pub const MAX_BUNDLE_BYTES: usize = 4 * 1024 * 1024;
/// The most certificates a bundle's chain may carry (leaf, intermediates).
pub const MAX_CHAIN_CERTIFICATES: usize = 8;

/// Who must have signed.
#[derive(Clone, Debug)]
pub enum SignerPolicy {
    /// A Fulcio certificate with exactly this SAN and OIDC issuer.
    Identity {
        /// The expected subject alternative name (e-mail or URI), exact.
        identity: String,
        /// The expected OIDC issuer URL, exact.
        issuer: String,
    },
    /// A managed key instead of a certificate.
    Key(PublicKey),
}

/// The artifact a bundle should describe.
#[derive(Clone, Copy, Debug)]
pub enum ArtifactInput<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// Its SHA-256 digest.
    Digest(&'a DigestRef),
}

/// A verifier with a prepared trusted root.
pub struct BundleVerifier {
    verifier: Verifier,
}

impl std::fmt::Debug for BundleVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleVerifier").finish_non_exhaustive()
    }
}

impl BundleVerifier {
    /// Prepares a trusted root (`trusted_root.json`).
    pub fn new(trusted_root_json: &[u8]) -> Result<Self, Error> {
        if trusted_root_json.len() > cjson::MAX_DOCUMENT_BYTES {
            return Err(Error::TooLarge {
                what: "trusted root",
                size: trusted_root_json.len(),
                limit: cjson::MAX_DOCUMENT_BYTES,
            });
        }
        let text = std::str::from_utf8(trusted_root_json)
            .map_err(|e| Error::format("trusted root", format!("not UTF-8: {e}")))?;
        let root = sigstore_verify::trust_root::TrustedRoot::from_json(text)
            .map_err(|e| Error::format("trusted root", e.to_string()))?;
        let verifier =
            Verifier::new(&root).map_err(|e| Error::format("trusted root", e.to_string()))?;
        Ok(BundleVerifier { verifier })
    }

    /// The public-good trusted root.
    pub fn public_good() -> Result<Self, Error> {
        Self::new(PUBLIC_GOOD_TRUSTED_ROOT.as_bytes())
    }

    /// The staging trusted root.
    pub fn staging() -> Result<Self, Error> {
        Self::new(STAGING_TRUSTED_ROOT.as_bytes())
    }

    /// Verifies a bundle (JSON) for an artifact under a signer policy. A
    /// malformed bundle is a failed verification (check `bundle`), not an
    /// input error: the bundle is the evidence under test.
    pub fn verify(
        &self,
        bundle_json: &[u8],
        artifact: ArtifactInput<'_>,
        signer: &SignerPolicy,
    ) -> Verification {
        let mut v = Verification::new("sigstore-bundle");
        let bundle = match parse_bundle(bundle_json) {
            Ok(b) => b,
            Err(reason) => {
                // A malformed checkpoint is caught while parsing; name it.
                let name = if reason.contains("checkpoint") {
                    "tlog-checkpoint"
                } else {
                    "bundle"
                };
                v.push(Check::fail(name, None, reason));
                return v;
            }
        };
        v.push(Check::pass(
            "bundle",
            None,
            format!(
                "The bundle is well formed ({}).",
                bundle.media_type.as_str()
            ),
        ));
        if let Err((check, reason)) = precheck_chain(&bundle) {
            v.push(Check::fail(check, None, reason));
            return v;
        }
        let outcome = match (artifact, signer) {
            (ArtifactInput::Bytes(b), SignerPolicy::Identity { identity, issuer }) => {
                self.verifier.verify(
                    b,
                    &bundle,
                    &VerificationPolicy::new(identity.as_str(), issuer.as_str()),
                )
            }
            (ArtifactInput::Digest(d), SignerPolicy::Identity { identity, issuer }) => {
                match sha256(d) {
                    Ok(h) => self.verifier.verify(
                        h,
                        &bundle,
                        &VerificationPolicy::new(identity.as_str(), issuer.as_str()),
                    ),
                    Err(reason) => {
                        v.push(Check::fail("artifact-digest", None, reason));
                        return v;
                    }
                }
            }
            (ArtifactInput::Bytes(b), SignerPolicy::Key(k)) => self.verifier.verify(
                b,
                &bundle,
                &PublicKeyVerificationPolicy::new(DerPublicKey::new(k.spki_der().to_vec())),
            ),
            (ArtifactInput::Digest(d), SignerPolicy::Key(k)) => match sha256(d) {
                Ok(h) => self.verifier.verify(
                    h,
                    &bundle,
                    &PublicKeyVerificationPolicy::new(DerPublicKey::new(k.spki_der().to_vec())),
                ),
                Err(reason) => {
                    v.push(Check::fail("artifact-digest", None, reason));
                    return v;
                }
            },
        };
        match outcome {
            Ok(result) => {
                let is_cert = matches!(signer, SignerPolicy::Identity { .. });
                if is_cert {
                    record(
                        &mut v,
                        result.certificate_verified(),
                        "certificate-chain",
                        "The signing certificate chains to a trusted Fulcio root, has the code-signing usage and was valid at the verified signing time.",
                    );
                    record(
                        &mut v,
                        result.sct_verified(),
                        "sct",
                        "The certificate's embedded SCT verifies against a trusted CT log key.",
                    );
                    record(
                        &mut v,
                        result.identity_policy_checked(),
                        "certificate-identity",
                        "The certificate's SAN and OIDC issuer match the expected identity and issuer.",
                    );
                }
                record(
                    &mut v,
                    result.tlog_verified(),
                    "transparency-log",
                    "The Rekor entry's inclusion proof and signed checkpoint (or its signed entry timestamp) verify, and the entry matches the bundle's content.",
                );
                record(
                    &mut v,
                    !result.verified_timestamps().is_empty() || !is_cert,
                    "signing-time",
                    "An authenticated signing time (integrated time or RFC 3161 timestamp) was established.",
                );
                v.push(Check::pass(
                    "signature",
                    None,
                    "The signature verifies over the artifact (or DSSE envelope) with the signing key, and the content matches the artifact.",
                ));
                let mut who = Signer::default();
                match signer {
                    SignerPolicy::Identity { .. } => {
                        who.certificate_identity =
                            result.identity().map(|s| s.as_str().to_string());
                        who.certificate_issuer = result.issuer().map(str::to_string);
                    }
                    SignerPolicy::Key(k) => {
                        who.keyid = Some(k.keyid().to_string());
                        who.scheme = Some(k.scheme().to_string());
                    }
                }
                v.signers.push(who);
                v.signed_at = result
                    .integrated_time()
                    .or_else(|| result.verified_timestamps().first().copied())
                    .map(|t| t.to_string());
                if let SignatureContent::DsseEnvelope(env) = &bundle.content
                    && let Ok(st) = Statement::from_json(env.payload.as_bytes())
                {
                    v.predicate_type = Some(st.predicate_type.clone());
                    v.subjects = st.subject_refs();
                    v.statement = serde_json::from_slice(env.payload.as_bytes()).ok();
                }
            }
            Err(e) => {
                let (name, reason) = classify(&e);
                v.push(Check::fail(name, None, reason));
            }
        }
        v
    }
}

fn record(v: &mut Verification, performed: bool, name: &str, reason: &str) {
    if performed {
        v.push(Check::pass(name, None, reason));
    } else {
        v.push(Check::fail(
            name,
            None,
            format!("This check was not performed, so the bundle is not trusted: {reason}"),
        ));
    }
}

/// Checks the bundle's certificate chain before the library does: a bounded
/// length, parseable certificates, and no self-signed (root) certificate,
/// since trust anchors come only from the trusted root.
fn precheck_chain(bundle: &Bundle) -> Result<(), (&'static str, String)> {
    let certs: Vec<&[u8]> = match &bundle.verification_material.content {
        VerificationMaterialContent::Certificate(c) => vec![c.raw_bytes.as_bytes()],
        VerificationMaterialContent::X509CertificateChain { certificates } => certificates
            .iter()
            .map(|c| c.raw_bytes.as_bytes())
            .collect(),
        _ => return Ok(()),
    };
    if certs.len() > MAX_CHAIN_CERTIFICATES {
        return Err((
            "certificate-chain",
            format!(
                "The bundle carries {} certificates, more than the {MAX_CHAIN_CERTIFICATES} accepted.",
                certs.len()
            ),
        ));
    }
    for (i, der) in certs.iter().enumerate() {
        let cert = x509_cert::Certificate::from_der(der).map_err(|e| {
            (
                "certificate-chain",
                format!("Certificate {i} of the bundle is not valid DER X.509: {e}."),
            )
        })?;
        if cert.tbs_certificate.subject == cert.tbs_certificate.issuer {
            return Err((
                "certificate-chain",
                format!(
                    "Certificate {i} of the bundle is self-signed ({}): a bundle must not carry a root certificate; roots come only from the trusted root.",
                    cert.tbs_certificate.subject
                ),
            ));
        }
    }
    Ok(())
}

fn sha256(d: &DigestRef) -> Result<Sha256Hash, String> {
    if d.algorithm != "sha256" {
        return Err(format!(
            "Sigstore bundles are checked against a SHA-256 digest; {} was given.",
            d.algorithm
        ));
    }
    Sha256Hash::from_hex(&d.hex).map_err(|e| format!("The digest is malformed: {e}."))
}

fn parse_bundle(bytes: &[u8]) -> Result<Bundle, String> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(format!(
            "The bundle is {} bytes, over the limit of {MAX_BUNDLE_BYTES}.",
            bytes.len()
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("The bundle is not UTF-8: {e}."))?;
    Bundle::from_json(text).map_err(|e| format!("The bundle is malformed: {e}."))
}

/// Maps a `sigstore-verify` error to our check name and a sentence.
fn classify(e: &sigstore_verify::Error) -> (&'static str, String) {
    use sigstore_verify::Error as E;
    let name = match e {
        E::IdentityMismatch { .. } => "certificate-identity",
        E::IssuerMismatch { .. } => "certificate-issuer",
        E::SignatureInvalid(_) => "signature",
        E::ArtifactMismatch(_) | E::UnsupportedArtifact(_) => "artifact-digest",
        E::Certificate(c) => match c {
            CertificateError::Sct(_) => "sct",
            CertificateError::NotYetValid { .. } | CertificateError::Expired { .. } => {
                "certificate-validity"
            }
            CertificateError::ChainInvalid(m)
                if m.contains("CertExpired") || m.contains("CertNotValidYet") =>
            {
                "certificate-validity"
            }
            _ => "certificate-chain",
        },
        E::TransparencyLog(t) => match t {
            TransparencyLogError::UnknownLog { .. } => "tlog-log-id",
            TransparencyLogError::InclusionProof(_) => "tlog-inclusion-proof",
            TransparencyLogError::Checkpoint(_) => "tlog-checkpoint",
            TransparencyLogError::InclusionPromise(_) => "tlog-inclusion-promise",
            TransparencyLogError::EntryMismatch(_) => "tlog-entry-match",
            TransparencyLogError::IntegratedTime(_) => "tlog-integrated-time",
            _ => "tlog-entry",
        },
        E::Timestamp(t) => match t {
            TimestampError::NoVerifiedTimestamp(_) => "signing-time",
            _ => "timestamp",
        },
        E::Bundle(b) => {
            // The bundle's own consistency rules (sigstore-bundle) name the
            // transparency-log element at fault in their message.
            let m = b.to_string();
            if m.contains("checkpoint") {
                "tlog-checkpoint"
            } else if m.contains("inclusion proof") || m.contains("log index") {
                "tlog-inclusion-proof"
            } else if m.contains("inclusion promise") {
                "tlog-inclusion-promise"
            } else if m.contains("certificate") {
                "certificate-chain"
            } else {
                "bundle"
            }
        }
        E::InvalidBundle(_) | E::UnsupportedBundle(_) | E::Types(_) => "bundle",
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => "trusted-root",
        _ => "verification",
    };
    (name, format!("{e}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_bundle_fails_the_bundle_check() -> Result<(), Error> {
        let verifier = BundleVerifier::public_good()?;
        let policy = SignerPolicy::Identity {
            identity: "a@example.com".into(),
            issuer: "https://issuer.example".into(),
        };
        for input in [&b"{"[..], b"null", b"{\"mediaType\": 5}", &[0xff, 0xfe][..]] {
            let v = verifier.verify(input, ArtifactInput::Bytes(b"x"), &policy);
            assert!(!v.verified);
            assert_eq!(
                v.failures().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                ["bundle"]
            );
        }
        Ok(())
    }

    #[test]
    fn garbage_trusted_root_is_an_input_error() {
        assert!(BundleVerifier::new(b"{}").is_err());
        assert!(BundleVerifier::new(b"not json").is_err());
    }
}
