//! DSSE envelopes (Dead Simple Signing Envelope, v1.0.2).
//!
//! Design: signatures are computed over the pre-authentication encoding
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`,
//! never over the JSON. Decoding accepts standard and URL-safe base64, with or
//! without padding, as the specification requires; encoding writes standard
//! base64 with padding, as the reference implementations do. Verification
//! with a threshold counts *distinct keys*: one key signing twice is one
//! signer. Every signature gets its own check, so a failure names the
//! signature (index and key id) that did not verify.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};

use crate::keys::{PrivateKey, PublicKey};
use crate::verification::{Check, Signer, Verification};
use crate::{Error, cjson};

/// The payload type of in-toto statements and links.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The most signatures one envelope may carry.
pub const MAX_SIGNATURES: usize = 64;
/// The longest signature accepted, decoded (RSA-4096 needs 512 bytes).
pub const MAX_SIGNATURE_BYTES: usize = 1024;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decodes standard or URL-safe base64, padded or not.
pub fn decode_base64(text: &str, what: &'static str) -> Result<Vec<u8>, Error> {
    STANDARD_LENIENT
        .decode(text)
        .or_else(|_| URL_SAFE_LENIENT.decode(text))
        .map_err(|e| Error::Base64 {
            what,
            reason: e.to_string(),
        })
}

/// Encodes standard base64 with padding.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One signature of an envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signer's key id hint; empty or absent means "try every key".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The base64 signature.
    pub sig: String,
}

/// A DSSE envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The base64 payload.
    pub payload: String,
    /// The payload's media type.
    pub payload_type: String,
    /// The signatures.
    pub signatures: Vec<Signature>,
}

/// The pre-authentication encoding.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_type.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// The outcome of checking an envelope's signatures against keys.
#[derive(Clone, Debug, PartialEq)]
pub struct SignatureReport {
    /// The key ids of the distinct keys that verified a signature.
    pub verified_keyids: Vec<String>,
    /// The signers, in order of first verification.
    pub signers: Vec<Signer>,
    /// One check per signature, then the threshold check.
    pub checks: Vec<Check>,
    /// Whether the threshold was met.
    pub threshold_met: bool,
}

impl Envelope {
    /// Parses an envelope from JSON, with size and count limits.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let env: Envelope = cjson::parse_bounded(bytes, "DSSE envelope")?;
        if env.signatures.len() > MAX_SIGNATURES {
            return Err(Error::format(
                "DSSE envelope",
                format!(
                    "{} signatures, more than the {MAX_SIGNATURES} accepted",
                    env.signatures.len()
                ),
            ));
        }
        Ok(env)
    }

    /// Serialises to JSON (compact, deterministic field order).
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::Json {
            what: "DSSE envelope",
            reason: e.to_string(),
        })
    }

    /// Creates an envelope signed by every key in `keys`.
    pub fn sign(payload_type: &str, payload: &[u8], keys: &[&PrivateKey]) -> Result<Self, Error> {
        let message = pae(payload_type, payload);
        let signatures = keys
            .iter()
            .map(|k| {
                Ok(Signature {
                    keyid: k.keyid().to_string(),
                    sig: encode_base64(&k.sign(&message)?),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Envelope {
            payload: encode_base64(payload),
            payload_type: payload_type.to_string(),
            signatures,
        })
    }

    /// Adds a signature by `key` over the current payload.
    pub fn add_signature(&mut self, key: &PrivateKey) -> Result<(), Error> {
        let payload = self.decoded_payload()?;
        let sig = key.sign(&pae(&self.payload_type, &payload))?;
        self.signatures.push(Signature {
            keyid: key.keyid().to_string(),
            sig: encode_base64(&sig),
        });
        Ok(())
    }

    /// The decoded payload bytes (unauthenticated until verified).
    pub fn decoded_payload(&self) -> Result<Vec<u8>, Error> {
        decode_base64(&self.payload, "DSSE payload")
    }

    /// Checks the signatures against `keys`; the threshold counts distinct
    /// keys. A malformed signature fails its own check, not the whole call.
    pub fn verify_signatures(
        &self,
        keys: &[PublicKey],
        threshold: usize,
    ) -> Result<SignatureReport, Error> {
        let payload = self.decoded_payload()?;
        let message = pae(&self.payload_type, &payload);
        let mut report = SignatureReport {
            verified_keyids: Vec::new(),
            signers: Vec::new(),
            checks: Vec::new(),
            threshold_met: false,
        };
        if self.signatures.is_empty() {
            report.checks.push(Check::fail(
                "signature",
                None,
                "The envelope carries no signature.",
            ));
        }
        for (index, signature) in self.signatures.iter().enumerate() {
            let target = if signature.keyid.is_empty() {
                format!("signature {index}")
            } else {
                format!("signature {index} (keyid {})", signature.keyid)
            };
            let bytes = match decode_base64(&signature.sig, "DSSE signature") {
                Ok(b) if b.len() <= MAX_SIGNATURE_BYTES => b,
                Ok(b) => {
                    report.checks.push(Check::fail(
                        "signature",
                        Some(target),
                        format!("The signature is {} bytes long, over the {MAX_SIGNATURE_BYTES} accepted.", b.len()),
                    ));
                    continue;
                }
                Err(e) => {
                    report
                        .checks
                        .push(Check::fail("signature", Some(target), format!("{e}.")));
                    continue;
                }
            };
            let candidates: Vec<&PublicKey> = if signature.keyid.is_empty() {
                keys.iter().collect()
            } else {
                keys.iter()
                    .filter(|k| k.matches_keyid(&signature.keyid))
                    .collect()
            };
            if candidates.is_empty() {
                report.checks.push(Check::fail(
                    "signature",
                    Some(target),
                    "No trusted key has this key id.",
                ));
                continue;
            }
            match candidates
                .iter()
                .find(|k| k.verify(&message, &bytes).is_ok())
            {
                Some(key) => {
                    report.checks.push(Check::pass(
                        "signature",
                        Some(target),
                        format!(
                            "Verified with the {} key {} ({}).",
                            key.algorithm(),
                            key.keyid(),
                            key.scheme()
                        ),
                    ));
                    if !report.verified_keyids.iter().any(|k| k == key.keyid()) {
                        report.verified_keyids.push(key.keyid().to_string());
                        report.signers.push(Signer {
                            keyid: Some(key.keyid().to_string()),
                            scheme: Some(key.scheme().to_string()),
                            ..Signer::default()
                        });
                    }
                }
                None => report.checks.push(Check::fail(
                    "signature",
                    Some(target),
                    format!(
                        "The signature does not verify with {} candidate key(s).",
                        candidates.len()
                    ),
                )),
            }
        }
        let threshold = threshold.max(1);
        report.threshold_met = report.verified_keyids.len() >= threshold;
        let reason = format!(
            "{} distinct trusted key(s) signed; {threshold} required.",
            report.verified_keyids.len()
        );
        report.checks.push(if report.threshold_met {
            Check::pass("threshold", None, reason)
        } else {
            Check::fail("threshold", None, reason)
        });
        Ok(report)
    }

    /// Verifies the envelope and returns the typed outcome. Individual
    /// signature failures do not fail the envelope when the threshold is met
    /// by others: they are kept as skipped checks with their reason.
    pub fn verify(&self, keys: &[PublicKey], threshold: usize) -> Result<Verification, Error> {
        let report = self.verify_signatures(keys, threshold)?;
        let mut v = Verification::new("dsse-envelope");
        for mut check in report.checks {
            if report.threshold_met
                && check.name == "signature"
                && check.status == crate::CheckStatus::Failed
            {
                check.status = crate::CheckStatus::Skipped;
            }
            v.push(check);
        }
        v.signers = report.signers;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::GenerateAlgorithm;

    #[test]
    fn pae_matches_the_specification_example() {
        // From the DSSE protocol: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn base64_variants_are_accepted() -> Result<(), Error> {
        assert_eq!(decode_base64("+/8=", "t")?, vec![0xfb, 0xff]);
        assert_eq!(decode_base64("+/8", "t")?, vec![0xfb, 0xff]);
        assert_eq!(decode_base64("-_8", "t")?, vec![0xfb, 0xff]);
        assert!(decode_base64("!!", "t").is_err());
        Ok(())
    }

    #[test]
    fn threshold_counts_distinct_keys() -> Result<(), Error> {
        let a = PrivateKey::generate(GenerateAlgorithm::Ed25519)?;
        let b = PrivateKey::generate(GenerateAlgorithm::EcdsaP256)?;
        let env = Envelope::sign("t", b"x", &[&a, &a])?;
        let keys = vec![a.public().clone(), b.public().clone()];
        assert!(!env.verify(&keys, 2)?.verified);
        let env = Envelope::sign("t", b"x", &[&a, &b])?;
        let v = env.verify(&keys, 2)?;
        assert!(v.verified);
        assert_eq!(v.signers.len(), 2);
        Ok(())
    }

    #[test]
    fn tampering_fails_the_named_signature() -> Result<(), Error> {
        let a = PrivateKey::generate(GenerateAlgorithm::Ed25519)?;
        let mut env = Envelope::sign("t", b"x", &[&a])?;
        env.payload = encode_base64(b"y");
        let v = env.verify(&[a.public().clone()], 1)?;
        assert!(!v.verified);
        let failed: Vec<_> = v.failures().map(|c| c.target.clone()).collect();
        assert!(
            failed
                .iter()
                .any(|t| t.as_deref().is_some_and(|t| t.contains(a.keyid())))
        );
        // The payload type is authenticated too.
        let mut env = Envelope::sign("t", b"x", &[&a])?;
        env.payload_type = "u".into();
        assert!(!env.verify(&[a.public().clone()], 1)?.verified);
        Ok(())
    }

    #[test]
    fn unknown_key_and_bad_base64_fail_without_panic() -> Result<(), Error> {
        let a = PrivateKey::generate(GenerateAlgorithm::Ed25519)?;
        let b = PrivateKey::generate(GenerateAlgorithm::Ed25519)?;
        let mut env = Envelope::sign("t", b"x", &[&a])?;
        assert!(!env.verify(&[b.public().clone()], 1)?.verified);
        env.signatures[0].sig = "%%%".into();
        assert!(!env.verify(&[a.public().clone()], 1)?.verified);
        env.signatures.clear();
        assert!(!env.verify(&[a.public().clone()], 1)?.verified);
        Ok(())
    }
}
