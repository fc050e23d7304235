//! Public and private keys: generation, PEM and securesystemslib formats, key
//! ids, signing and verification.
//!
//! Design: a key is identified by its algorithm (read from the
//! SubjectPublicKeyInfo, never guessed from a file name) and a signature
//! *scheme* spelled as securesystemslib spells it (`ed25519`,
//! `ecdsa-sha2-nistp256`, `rsassa-pss-sha256`, ...), because the in-toto
//! metadata names keys that way. All primitives come from `aws-lc-rs`; the
//! public key is parsed once into an `aws-lc-rs` `ParsedPublicKey` so that
//! repeated verifications (one per admission) skip the parsing cost.
//!
//! Key ids follow securesystemslib: the SHA-256 of the OLPC canonical JSON of
//! `{"keytype", "scheme", "keyval": {"public"}}`. Older releases (those that
//! wrote the in-toto demo metadata) also put `"keyid_hash_algorithms":
//! ["sha256", "sha512"]` into the hashed object; [`PublicKey::matches_keyid`]
//! accepts either form, and nothing else.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair as _, ParsedPublicKey, VerificationAlgorithm};
use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Reader};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::cjson;

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// The smallest RSA modulus accepted, in bits.
pub const RSA_MIN_BITS: u32 = 2048;
/// The largest RSA modulus accepted, in bits.
pub const RSA_MAX_BITS: u32 = 4096;
/// The largest PEM or JSON key document accepted.
pub const MAX_KEY_BYTES: usize = 64 * 1024;

/// A key's algorithm, read from its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA over NIST P-256.
    EcdsaP256,
    /// ECDSA over NIST P-384.
    EcdsaP384,
    /// RSA with a modulus of the given size in bits.
    Rsa {
        /// Modulus size.
        bits: u32,
    },
}

impl KeyAlgorithm {
    /// The securesystemslib `keytype`.
    pub fn keytype(self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => "ecdsa",
            KeyAlgorithm::Rsa { .. } => "rsa",
        }
    }

    /// The scheme used when none is specified (securesystemslib's defaults).
    pub fn default_scheme(self) -> Scheme {
        match self {
            KeyAlgorithm::Ed25519 => Scheme::Ed25519,
            KeyAlgorithm::EcdsaP256 => Scheme::EcdsaSha2Nistp256,
            KeyAlgorithm::EcdsaP384 => Scheme::EcdsaSha2Nistp384,
            KeyAlgorithm::Rsa { .. } => Scheme::RsassaPssSha256,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Ed25519 => f.write_str("Ed25519"),
            KeyAlgorithm::EcdsaP256 => f.write_str("ECDSA P-256"),
            KeyAlgorithm::EcdsaP384 => f.write_str("ECDSA P-384"),
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
        }
    }
}

/// A signature scheme, named as securesystemslib names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scheme {
    /// Ed25519 over the message.
    #[serde(rename = "ed25519")]
    Ed25519,
    /// ECDSA P-256 with SHA-256, DER-encoded signature.
    #[serde(rename = "ecdsa-sha2-nistp256")]
    EcdsaSha2Nistp256,
    /// ECDSA P-384 with SHA-384, DER-encoded signature.
    #[serde(rename = "ecdsa-sha2-nistp384")]
    EcdsaSha2Nistp384,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256, salt as long as the digest.
    #[serde(rename = "rsassa-pss-sha256")]
    RsassaPssSha256,
    /// RSASSA-PSS with SHA-384.
    #[serde(rename = "rsassa-pss-sha384")]
    RsassaPssSha384,
    /// RSASSA-PSS with SHA-512.
    #[serde(rename = "rsassa-pss-sha512")]
    RsassaPssSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "rsa-pkcs1v15-sha256")]
    RsaPkcs1v15Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    #[serde(rename = "rsa-pkcs1v15-sha384")]
    RsaPkcs1v15Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    #[serde(rename = "rsa-pkcs1v15-sha512")]
    RsaPkcs1v15Sha512,
}

impl Scheme {
    /// Every scheme, for help texts and tests.
    pub const ALL: [Scheme; 9] = [
        Scheme::Ed25519,
        Scheme::EcdsaSha2Nistp256,
        Scheme::EcdsaSha2Nistp384,
        Scheme::RsassaPssSha256,
        Scheme::RsassaPssSha384,
        Scheme::RsassaPssSha512,
        Scheme::RsaPkcs1v15Sha256,
        Scheme::RsaPkcs1v15Sha384,
        Scheme::RsaPkcs1v15Sha512,
    ];

    /// The securesystemslib name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Ed25519 => "ed25519",
            Scheme::EcdsaSha2Nistp256 => "ecdsa-sha2-nistp256",
            Scheme::EcdsaSha2Nistp384 => "ecdsa-sha2-nistp384",
            Scheme::RsassaPssSha256 => "rsassa-pss-sha256",
            Scheme::RsassaPssSha384 => "rsassa-pss-sha384",
            Scheme::RsassaPssSha512 => "rsassa-pss-sha512",
            Scheme::RsaPkcs1v15Sha256 => "rsa-pkcs1v15-sha256",
            Scheme::RsaPkcs1v15Sha384 => "rsa-pkcs1v15-sha384",
            Scheme::RsaPkcs1v15Sha512 => "rsa-pkcs1v15-sha512",
        }
    }

    /// Whether this scheme can be used with a key of `algorithm`.
    pub fn fits(self, algorithm: KeyAlgorithm) -> bool {
        matches!(
            (self, algorithm),
            (Scheme::Ed25519, KeyAlgorithm::Ed25519)
                | (Scheme::EcdsaSha2Nistp256, KeyAlgorithm::EcdsaP256)
                | (Scheme::EcdsaSha2Nistp384, KeyAlgorithm::EcdsaP384)
                | (
                    Scheme::RsassaPssSha256
                        | Scheme::RsassaPssSha384
                        | Scheme::RsassaPssSha512
                        | Scheme::RsaPkcs1v15Sha256
                        | Scheme::RsaPkcs1v15Sha384
                        | Scheme::RsaPkcs1v15Sha512,
                    KeyAlgorithm::Rsa { .. }
                )
        )
    }

    fn verification_algorithm(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Scheme::Ed25519 => &sig::ED25519,
            Scheme::EcdsaSha2Nistp256 => &sig::ECDSA_P256_SHA256_ASN1,
            Scheme::EcdsaSha2Nistp384 => &sig::ECDSA_P384_SHA384_ASN1,
            Scheme::RsassaPssSha256 => &sig::RSA_PSS_2048_8192_SHA256,
            Scheme::RsassaPssSha384 => &sig::RSA_PSS_2048_8192_SHA384,
            Scheme::RsassaPssSha512 => &sig::RSA_PSS_2048_8192_SHA512,
            Scheme::RsaPkcs1v15Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Scheme::RsaPkcs1v15Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Scheme::RsaPkcs1v15Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Scheme {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Scheme::ALL
            .into_iter()
            .find(|scheme| scheme.as_str() == s)
            .ok_or_else(|| Error::Key(format!("unknown signature scheme {s:?}")))
    }
}

/// A public key ready to verify signatures.
#[derive(Clone)]
pub struct PublicKey {
    algorithm: KeyAlgorithm,
    scheme: Scheme,
    spki: Vec<u8>,
    keyid: String,
    /// Every key id this key is known by: the current computation over the
    /// PEM with and without its final newline (securesystemslib keeps it,
    /// older releases stripped it), and the legacy computation.
    keyids: Vec<String>,
    parsed: Arc<ParsedPublicKey>,
    /// For ECDSA, the same key for fixed-width `r || s` signatures (the form
    /// of the DSSE specification's test vector and of WebCrypto).
    parsed_fixed: Option<Arc<ParsedPublicKey>>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm)
            .field("scheme", &self.scheme)
            .field("keyid", &self.keyid)
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.scheme == other.scheme && self.spki == other.spki
    }
}

/// The securesystemslib JSON form of a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslibKey {
    /// The key id, if the document carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
    /// `ed25519`, `ecdsa`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384` or `rsa`.
    pub keytype: String,
    /// The signature scheme.
    pub scheme: String,
    /// Hash algorithms of the legacy key id computation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid_hash_algorithms: Option<Vec<String>>,
    /// The key material.
    pub keyval: SslibKeyVal,
}

/// The `keyval` member of a securesystemslib key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslibKeyVal {
    /// PEM (SPKI) for RSA and ECDSA; 64 hex digits for Ed25519.
    pub public: String,
    /// The private key, when present (PEM, or 64 hex digits of seed for Ed25519).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
}

fn key_err(msg: impl Into<String>) -> Error {
    Error::Key(msg.into())
}

/// Reads the algorithm and the bare key bytes out of an SPKI.
fn parse_spki(spki: &[u8]) -> Result<(KeyAlgorithm, Vec<u8>), Error> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(spki)
        .map_err(|e| key_err(format!("not a DER SubjectPublicKeyInfo: {e}")))?;
    let raw = info
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| key_err("public key bit string has unused bits"))?
        .to_vec();
    let oid = info.algorithm.oid;
    let algorithm = if oid == OID_ED25519 {
        if raw.len() != 32 {
            return Err(key_err(format!(
                "Ed25519 public key is {} bytes, expected 32",
                raw.len()
            )));
        }
        KeyAlgorithm::Ed25519
    } else if oid == OID_EC_PUBLIC_KEY {
        let curve: ObjectIdentifier = info
            .algorithm
            .parameters
            .ok_or_else(|| key_err("EC public key without a named curve"))?
            .decode_as()
            .map_err(|e| key_err(format!("EC curve parameter is not a named curve: {e}")))?;
        if curve == OID_P256 {
            KeyAlgorithm::EcdsaP256
        } else if curve == OID_P384 {
            KeyAlgorithm::EcdsaP384
        } else {
            return Err(key_err(format!(
                "EC curve {curve} is not supported (P-256 and P-384 are)"
            )));
        }
    } else if oid == OID_RSA {
        let bits = rsa_modulus_bits(&raw)?;
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return Err(key_err(format!(
                "RSA modulus of {bits} bits is outside the supported {RSA_MIN_BITS} to {RSA_MAX_BITS}"
            )));
        }
        KeyAlgorithm::Rsa { bits }
    } else {
        return Err(key_err(format!(
            "public key algorithm {oid} is not supported (Ed25519, ECDSA P-256/P-384 and RSA are)"
        )));
    };
    Ok((algorithm, raw))
}

/// The modulus size of a PKCS#1 `RSAPublicKey`.
fn rsa_modulus_bits(pkcs1: &[u8]) -> Result<u32, Error> {
    let mut reader = der::SliceReader::new(pkcs1)
        .map_err(|e| key_err(format!("RSA public key is not DER: {e}")))?;
    let modulus = reader
        .sequence(|r| {
            let n = UintRef::decode(r)?;
            let _e = UintRef::decode(r)?;
            Ok(n.as_bytes().to_vec())
        })
        .map_err(|e| key_err(format!("RSA public key is not a PKCS#1 RSAPublicKey: {e}")))?;
    let first = modulus.first().copied().unwrap_or(0);
    let bytes = u32::try_from(modulus.len()).map_err(|_| key_err("RSA modulus too long"))?;
    Ok(bytes
        .saturating_mul(8)
        .saturating_sub(first.leading_zeros()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl PublicKey {
    /// Reads a DER SubjectPublicKeyInfo with an explicit scheme (or the
    /// algorithm's default).
    pub fn from_spki_der(spki: &[u8], scheme: Option<Scheme>) -> Result<Self, Error> {
        let (algorithm, raw) = parse_spki(spki)?;
        let scheme = scheme.unwrap_or_else(|| algorithm.default_scheme());
        if !scheme.fits(algorithm) {
            return Err(key_err(format!(
                "scheme {scheme} cannot be used with a {algorithm} key"
            )));
        }
        let parsed = ParsedPublicKey::new(scheme.verification_algorithm(), &raw)
            .map_err(|e| key_err(format!("{algorithm} public key rejected: {e}")))?;
        let fixed_alg: Option<&'static dyn VerificationAlgorithm> = match scheme {
            Scheme::EcdsaSha2Nistp256 => Some(&sig::ECDSA_P256_SHA256_FIXED),
            Scheme::EcdsaSha2Nistp384 => Some(&sig::ECDSA_P384_SHA384_FIXED),
            _ => None,
        };
        let parsed_fixed = match fixed_alg {
            Some(alg) => {
                Some(Arc::new(ParsedPublicKey::new(alg, &raw).map_err(|e| {
                    key_err(format!("{algorithm} public key rejected: {e}"))
                })?))
            }
            None => None,
        };
        let public = Self::public_field(algorithm, spki, &raw)?;
        let (keyid, keyids) = keyid_candidates(algorithm.keytype(), scheme.as_str(), &public)?;
        Ok(PublicKey {
            algorithm,
            scheme,
            spki: spki.to_vec(),
            keyid,
            keyids,
            parsed: Arc::new(parsed),
            parsed_fixed,
        })
    }

    /// Reads a PEM `PUBLIC KEY` (SPKI) document.
    pub fn from_pem(pem_text: &[u8], scheme: Option<Scheme>) -> Result<Self, Error> {
        if pem_text.len() > MAX_KEY_BYTES {
            return Err(Error::TooLarge {
                what: "public key",
                size: pem_text.len(),
                limit: MAX_KEY_BYTES,
            });
        }
        let doc = pem::parse(pem_text).map_err(|e| key_err(format!("not a PEM document: {e}")))?;
        match doc.tag() {
            "PUBLIC KEY" => Self::from_spki_der(doc.contents(), scheme),
            "RSA PUBLIC KEY" => Err(key_err(
                "PKCS#1 `RSA PUBLIC KEY` PEM is not supported; convert it to SPKI (`PUBLIC KEY`)",
            )),
            tag if tag.contains("PRIVATE KEY") => Err(key_err(format!(
                "expected a public key, found a `{tag}` PEM block"
            ))),
            tag => Err(key_err(format!(
                "expected a `PUBLIC KEY` PEM block, found `{tag}`"
            ))),
        }
    }

    /// Reads a key in any format this crate knows: PEM SPKI, or a
    /// securesystemslib JSON key (public part).
    pub fn from_bytes(bytes: &[u8], scheme: Option<Scheme>) -> Result<Self, Error> {
        let trimmed = bytes.trim_ascii_start();
        if trimmed.starts_with(b"{") {
            let key: SslibKey = cjson::parse_bounded(bytes, "securesystemslib key")?;
            let public = Self::from_sslib(&key)?;
            match scheme {
                Some(s) if s != public.scheme => Err(key_err(format!(
                    "the key says scheme {}, but {s} was requested",
                    public.scheme
                ))),
                _ => Ok(public),
            }
        } else {
            Self::from_pem(bytes, scheme)
        }
    }

    /// Reads a securesystemslib key. A `keyid` in the document must match
    /// the key (in the current or legacy computation).
    pub fn from_sslib(key: &SslibKey) -> Result<Self, Error> {
        let scheme: Scheme = key.scheme.parse()?;
        let public = if key.keytype == "ed25519" {
            let raw = hex::decode(key.keyval.public.trim())
                .map_err(|e| key_err(format!("Ed25519 public key is not hex: {e}")))?;
            let raw: [u8; 32] = raw.try_into().map_err(|v: Vec<u8>| {
                key_err(format!(
                    "Ed25519 public key is {} bytes, expected 32",
                    v.len()
                ))
            })?;
            Self::from_spki_der(&ed25519_spki(&raw), Some(scheme))?
        } else if matches!(
            key.keytype.as_str(),
            "rsa" | "ecdsa" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384"
        ) {
            let doc = pem::parse(key.keyval.public.as_bytes())
                .map_err(|e| key_err(format!("keyval.public is not PEM: {e}")))?;
            if doc.tag() != "PUBLIC KEY" {
                return Err(key_err(format!(
                    "keyval.public must be a `PUBLIC KEY` PEM block, found `{}`",
                    doc.tag()
                )));
            }
            Self::from_spki_der(doc.contents(), Some(scheme))?
        } else {
            return Err(key_err(format!("unsupported keytype {:?}", key.keytype)));
        };
        let keytype_ok = match public.algorithm {
            KeyAlgorithm::Ed25519 => key.keytype == "ed25519",
            KeyAlgorithm::EcdsaP256 => {
                matches!(key.keytype.as_str(), "ecdsa" | "ecdsa-sha2-nistp256")
            }
            KeyAlgorithm::EcdsaP384 => {
                matches!(key.keytype.as_str(), "ecdsa" | "ecdsa-sha2-nistp384")
            }
            KeyAlgorithm::Rsa { .. } => key.keytype == "rsa",
        };
        if !keytype_ok {
            return Err(key_err(format!(
                "keytype {:?} does not match the {} key it holds",
                key.keytype, public.algorithm
            )));
        }
        // The key id is recomputed from the document exactly as written, so
        // that a key whose `public` string differs in formatting keeps the id
        // its signer computed.
        let keyid = compute_keyid(&key.keytype, &key.scheme, &key.keyval.public, false)?;
        let mut keyids = vec![
            keyid.clone(),
            compute_keyid(&key.keytype, &key.scheme, &key.keyval.public, true)?,
        ];
        keyids.extend(public.keyids.iter().cloned());
        let public = PublicKey {
            keyid,
            keyids,
            ..public
        };
        if let Some(declared) = &key.keyid
            && !public.matches_keyid(declared)
        {
            return Err(key_err(format!(
                "declared keyid {declared} does not match the key (computed {})",
                public.keyid
            )));
        }
        Ok(public)
    }

    fn public_field(algorithm: KeyAlgorithm, spki: &[u8], raw: &[u8]) -> Result<String, Error> {
        Ok(match algorithm {
            KeyAlgorithm::Ed25519 => hex::encode(raw),
            _ => format!("{}\n", spki_pem(spki)),
        })
    }

    /// The securesystemslib JSON form (public part only).
    pub fn to_sslib(&self) -> SslibKey {
        let public = match self.algorithm {
            KeyAlgorithm::Ed25519 => {
                let raw = parse_spki(&self.spki)
                    .map(|(_, raw)| raw)
                    .unwrap_or_default();
                hex::encode(raw)
            }
            _ => format!("{}\n", spki_pem(&self.spki)),
        };
        SslibKey {
            keyid: Some(self.keyid.clone()),
            keytype: self.algorithm.keytype().to_string(),
            scheme: self.scheme.as_str().to_string(),
            keyid_hash_algorithms: None,
            keyval: SslibKeyVal {
                public,
                private: None,
            },
        }
    }

    /// The PEM `PUBLIC KEY` form, LF line endings, with a final newline.
    pub fn to_pem(&self) -> String {
        let mut s = spki_pem(&self.spki);
        s.push('\n');
        s
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The signature scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The securesystemslib key id (current computation).
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// Every key id this key is known by (see [`PublicKey::matches_keyid`]).
    pub fn keyids(&self) -> &[String] {
        &self.keyids
    }

    /// Whether `keyid` names this key: the securesystemslib computation over
    /// the PEM with or without its final newline, or the legacy computation
    /// with `keyid_hash_algorithms`.
    pub fn matches_keyid(&self, keyid: &str) -> bool {
        self.keyids.iter().any(|k| k == keyid)
    }

    /// A copy with another scheme, checked against the algorithm.
    pub fn with_scheme(&self, scheme: Scheme) -> Result<Self, Error> {
        Self::from_spki_der(&self.spki, Some(scheme))
    }

    /// Verifies `signature` over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        if signature.is_empty() {
            return Err(SignatureError::Empty);
        }
        if self.parsed.verify_sig(message, signature).is_ok() {
            return Ok(());
        }
        // ECDSA signatures are DER by default (securesystemslib, cosign);
        // the fixed-width form is accepted when its length is exact.
        match &self.parsed_fixed {
            Some(fixed)
                if signature.len() == self.ecdsa_fixed_len()
                    && fixed.verify_sig(message, signature).is_ok() =>
            {
                Ok(())
            }
            _ => Err(SignatureError::Invalid),
        }
    }

    fn ecdsa_fixed_len(&self) -> usize {
        match self.algorithm {
            KeyAlgorithm::EcdsaP256 => 64,
            KeyAlgorithm::EcdsaP384 => 96,
            _ => 0,
        }
    }
}

/// Why a signature did not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature is empty.
    #[error("the signature is empty")]
    Empty,
    /// The signature does not verify with the key.
    #[error("the signature does not verify with the key")]
    Invalid,
}

fn spki_pem(spki: &[u8]) -> String {
    let doc = pem::Pem::new("PUBLIC KEY", spki.to_vec());
    let text = pem::encode_config(
        &doc,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    );
    text.trim_end().to_string()
}

/// The primary key id and every accepted variant for a `public` value.
fn keyid_candidates(
    keytype: &str,
    scheme: &str,
    public: &str,
) -> Result<(String, Vec<String>), Error> {
    let primary = compute_keyid(keytype, scheme, public, false)?;
    let mut all = vec![
        primary.clone(),
        compute_keyid(keytype, scheme, public, true)?,
    ];
    if let Some(trimmed) = public.strip_suffix('\n') {
        all.push(compute_keyid(keytype, scheme, trimmed, false)?);
        all.push(compute_keyid(keytype, scheme, trimmed, true)?);
    }
    Ok((primary, all))
}

/// Computes a securesystemslib key id.
pub fn compute_keyid(
    keytype: &str,
    scheme: &str,
    public: &str,
    legacy: bool,
) -> Result<String, Error> {
    let mut obj = serde_json::json!({
        "keytype": keytype,
        "scheme": scheme,
        "keyval": {"public": public},
    });
    if legacy && let Some(map) = obj.as_object_mut() {
        map.insert(
            "keyid_hash_algorithms".into(),
            serde_json::json!(["sha256", "sha512"]),
        );
    }
    Ok(sha256_hex(&cjson::canonical_bytes(&obj)?))
}

fn ed25519_spki(raw: &[u8; 32]) -> Vec<u8> {
    // SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (0 unused) key }
    let mut out = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    out.extend_from_slice(raw);
    out
}

enum PrivateInner {
    Ed25519(sig::Ed25519KeyPair),
    Ecdsa(sig::EcdsaKeyPair),
    Rsa(sig::RsaKeyPair),
}

/// A private key able to sign.
pub struct PrivateKey {
    inner: PrivateInner,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// The algorithms a key can be generated for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenerateAlgorithm {
    /// Ed25519.
    Ed25519,
    /// ECDSA P-256.
    EcdsaP256,
    /// ECDSA P-384.
    EcdsaP384,
    /// RSA 3072 (for RSASSA-PSS; the in-toto reference's default size).
    Rsa3072,
}

impl PrivateKey {
    /// Generates a fresh key.
    pub fn generate(algorithm: GenerateAlgorithm) -> Result<Self, Error> {
        let gen_err =
            |e: aws_lc_rs::error::Unspecified| Error::Key(format!("key generation failed: {e}"));
        let inner = match algorithm {
            GenerateAlgorithm::Ed25519 => {
                PrivateInner::Ed25519(sig::Ed25519KeyPair::generate().map_err(gen_err)?)
            }
            GenerateAlgorithm::EcdsaP256 => PrivateInner::Ecdsa(
                sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING)
                    .map_err(gen_err)?,
            ),
            GenerateAlgorithm::EcdsaP384 => PrivateInner::Ecdsa(
                sig::EcdsaKeyPair::generate(&sig::ECDSA_P384_SHA384_ASN1_SIGNING)
                    .map_err(gen_err)?,
            ),
            GenerateAlgorithm::Rsa3072 => PrivateInner::Rsa(
                sig::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa3072).map_err(gen_err)?,
            ),
        };
        Self::from_inner(inner, None)
    }

    fn from_inner(inner: PrivateInner, scheme: Option<Scheme>) -> Result<Self, Error> {
        let der_err =
            |e: aws_lc_rs::error::Unspecified| Error::Key(format!("cannot encode public key: {e}"));
        let spki: PublicKeyX509Der<'static> = match &inner {
            PrivateInner::Ed25519(k) => k.public_key().as_der().map_err(der_err)?,
            PrivateInner::Ecdsa(k) => k.public_key().as_der().map_err(der_err)?,
            PrivateInner::Rsa(k) => k.public_key().as_der().map_err(der_err)?,
        };
        let public = PublicKey::from_spki_der(spki.as_ref(), scheme)?;
        Ok(PrivateKey { inner, public })
    }

    /// Reads a PEM private key: PKCS#8 `PRIVATE KEY`, PKCS#1 `RSA PRIVATE
    /// KEY` or SEC1 `EC PRIVATE KEY`. Encrypted keys are refused with an
    /// explanation.
    pub fn from_pem(pem_text: &[u8], scheme: Option<Scheme>) -> Result<Self, Error> {
        if pem_text.len() > MAX_KEY_BYTES {
            return Err(Error::TooLarge {
                what: "private key",
                size: pem_text.len(),
                limit: MAX_KEY_BYTES,
            });
        }
        let doc = pem::parse(pem_text).map_err(|e| key_err(format!("not a PEM document: {e}")))?;
        let der = doc.contents();
        let inner = match doc.tag() {
            "PRIVATE KEY" => Self::from_pkcs8(der)?,
            "RSA PRIVATE KEY" => PrivateInner::Rsa(
                sig::RsaKeyPair::from_der(der)
                    .map_err(|e| key_err(format!("PKCS#1 RSA private key rejected: {e}")))?,
            ),
            "EC PRIVATE KEY" => {
                let p256 = sig::EcdsaKeyPair::from_private_key_der(
                    &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
                    der,
                );
                match p256 {
                    Ok(k) => PrivateInner::Ecdsa(k),
                    Err(_) => PrivateInner::Ecdsa(
                        sig::EcdsaKeyPair::from_private_key_der(
                            &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
                            der,
                        )
                        .map_err(|e| key_err(format!("SEC1 EC private key rejected: {e}")))?,
                    ),
                }
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(key_err(
                    "encrypted private keys are not supported; decrypt it first (openssl pkcs8 -in KEY -out PLAIN)",
                ));
            }
            tag => {
                return Err(key_err(format!(
                    "expected a private key PEM block, found `{tag}`"
                )));
            }
        };
        Self::from_inner(inner, scheme)
    }

    fn from_pkcs8(der: &[u8]) -> Result<PrivateInner, Error> {
        if let Ok(k) = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return Ok(PrivateInner::Ed25519(k));
        }
        if let Ok(k) = sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            return Ok(PrivateInner::Ecdsa(k));
        }
        if let Ok(k) = sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_ASN1_SIGNING, der) {
            return Ok(PrivateInner::Ecdsa(k));
        }
        sig::RsaKeyPair::from_pkcs8(der)
            .map(PrivateInner::Rsa)
            .map_err(|e| {
                key_err(format!(
                    "PKCS#8 private key is not a supported Ed25519, ECDSA P-256/P-384 or RSA key ({e})"
                ))
            })
    }

    /// Reads a private key in any format this crate knows: PEM, or a
    /// securesystemslib JSON key with a `private` member.
    pub fn from_bytes(bytes: &[u8], scheme: Option<Scheme>) -> Result<Self, Error> {
        if !bytes.trim_ascii_start().starts_with(b"{") {
            return Self::from_pem(bytes, scheme);
        }
        let key: SslibKey = cjson::parse_bounded(bytes, "securesystemslib key")?;
        let private = key
            .keyval
            .private
            .as_deref()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| key_err("the key document has no private part"))?;
        let own_scheme: Scheme = key.scheme.parse()?;
        if let Some(s) = scheme
            && s != own_scheme
        {
            return Err(key_err(format!(
                "the key says scheme {own_scheme}, but {s} was requested"
            )));
        }
        let mut me = if key.keytype == "ed25519" {
            let seed = hex::decode(private.trim())
                .map_err(|e| key_err(format!("Ed25519 private key is not hex: {e}")))?;
            let public = hex::decode(key.keyval.public.trim())
                .map_err(|e| key_err(format!("Ed25519 public key is not hex: {e}")))?;
            let pair = sig::Ed25519KeyPair::from_seed_and_public_key(&seed, &public)
                .map_err(|e| key_err(format!("Ed25519 key pair rejected: {e}")))?;
            Self::from_inner(PrivateInner::Ed25519(pair), Some(own_scheme))?
        } else {
            Self::from_pem(private.as_bytes(), Some(own_scheme))?
        };
        // Keep the key id the document's signer used.
        let public = PublicKey::from_sslib(&SslibKey {
            keyval: SslibKeyVal {
                public: key.keyval.public.clone(),
                private: None,
            },
            ..key
        })?;
        if public.spki != me.public.spki {
            return Err(key_err(
                "the private key does not belong to the public key beside it",
            ));
        }
        me.public = public;
        Ok(me)
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The key id of the public half.
    pub fn keyid(&self) -> &str {
        self.public.keyid()
    }

    /// A copy of this key that signs with another scheme.
    pub fn with_scheme(self, scheme: Scheme) -> Result<Self, Error> {
        let public = self.public.with_scheme(scheme)?;
        Ok(PrivateKey {
            inner: self.inner,
            public,
        })
    }

    /// Signs `message` with the key's scheme.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        let fail = |e: aws_lc_rs::error::Unspecified| Error::Signing(e.to_string());
        match &self.inner {
            PrivateInner::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            PrivateInner::Ecdsa(k) => Ok(k.sign(&rng, message).map_err(fail)?.as_ref().to_vec()),
            PrivateInner::Rsa(k) => {
                let padding: &'static dyn sig::RsaEncoding = match self.public.scheme {
                    Scheme::RsassaPssSha256 => &sig::RSA_PSS_SHA256,
                    Scheme::RsassaPssSha384 => &sig::RSA_PSS_SHA384,
                    Scheme::RsassaPssSha512 => &sig::RSA_PSS_SHA512,
                    Scheme::RsaPkcs1v15Sha256 => &sig::RSA_PKCS1_SHA256,
                    Scheme::RsaPkcs1v15Sha384 => &sig::RSA_PKCS1_SHA384,
                    Scheme::RsaPkcs1v15Sha512 => &sig::RSA_PKCS1_SHA512,
                    other => {
                        return Err(Error::Signing(format!(
                            "scheme {other} cannot sign with an RSA key"
                        )));
                    }
                };
                let mut out = vec![0u8; k.public_modulus_len()];
                k.sign(padding, &rng, message, &mut out).map_err(fail)?;
                Ok(out)
            }
        }
    }

    /// The PKCS#8 PEM form (unencrypted), LF line endings.
    pub fn to_pkcs8_pem(&self) -> Result<String, Error> {
        use aws_lc_rs::encoding::Pkcs8V1Der;
        let fail = |e: aws_lc_rs::error::Unspecified| {
            Error::Key(format!("cannot encode private key: {e}"))
        };
        let der: Vec<u8> = match &self.inner {
            PrivateInner::Ed25519(k) => k.to_pkcs8v1().map_err(fail)?.as_ref().to_vec(),
            PrivateInner::Ecdsa(k) => k.to_pkcs8v1().map_err(fail)?.as_ref().to_vec(),
            PrivateInner::Rsa(k) => {
                let d: Pkcs8V1Der<'static> = k.as_der().map_err(fail)?;
                d.as_ref().to_vec()
            }
        };
        Ok(pem::encode_config(
            &pem::Pem::new("PRIVATE KEY", der),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_for_every_algorithm() -> Result<(), Error> {
        for alg in [
            GenerateAlgorithm::Ed25519,
            GenerateAlgorithm::EcdsaP256,
            GenerateAlgorithm::EcdsaP384,
        ] {
            let key = PrivateKey::generate(alg)?;
            let sig = key.sign(b"hello")?;
            assert_eq!(key.public().verify(b"hello", &sig), Ok(()));
            assert_eq!(
                key.public().verify(b"hellO", &sig),
                Err(SignatureError::Invalid)
            );
            // PEM round trip of both halves.
            let pem = key.to_pkcs8_pem()?;
            let again = PrivateKey::from_pem(pem.as_bytes(), None)?;
            assert_eq!(again.public(), key.public());
            let public = PublicKey::from_pem(key.public().to_pem().as_bytes(), None)?;
            assert_eq!(public.keyid(), key.keyid());
            // securesystemslib JSON round trip.
            let json = serde_json::to_vec(&key.public().to_sslib()).unwrap_or_default();
            let back = PublicKey::from_bytes(&json, None)?;
            assert_eq!(back.keyid(), key.keyid());
        }
        Ok(())
    }

    #[test]
    fn rsa_pss_and_pkcs1_sign_and_verify() -> Result<(), Error> {
        let key = PrivateKey::generate(GenerateAlgorithm::Rsa3072)?;
        assert_eq!(key.public().algorithm(), KeyAlgorithm::Rsa { bits: 3072 });
        let sig = key.sign(b"m")?;
        assert_eq!(key.public().verify(b"m", &sig), Ok(()));
        let pkcs1 = key.with_scheme(Scheme::RsaPkcs1v15Sha256)?;
        let sig2 = pkcs1.sign(b"m")?;
        assert_eq!(pkcs1.public().verify(b"m", &sig2), Ok(()));
        // A PKCS#1 v1.5 signature does not pass as PSS.
        let pss = pkcs1.public().with_scheme(Scheme::RsassaPssSha256)?;
        assert_eq!(pss.verify(b"m", &sig2), Err(SignatureError::Invalid));
        Ok(())
    }

    #[test]
    fn wrong_scheme_for_key_type_is_refused() -> Result<(), Error> {
        let key = PrivateKey::generate(GenerateAlgorithm::Ed25519)?;
        let r = key.public().with_scheme(Scheme::RsassaPssSha256);
        assert!(matches!(r, Err(Error::Key(m)) if m.contains("cannot be used")));
        Ok(())
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(
            PublicKey::from_pem(b"nonsense", None),
            Err(Error::Key(_))
        ));
        assert!(matches!(
            PublicKey::from_spki_der(&[0x30, 0x03, 0x02, 0x01, 0x00], None),
            Err(Error::Key(_))
        ));
        assert!(matches!(
            PrivateKey::from_pem(b"", None),
            Err(Error::Key(_))
        ));
        let encrypted =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(
            matches!(PrivateKey::from_pem(encrypted, None), Err(Error::Key(m)) if m.contains("encrypted"))
        );
    }

    #[test]
    fn keyid_matches_the_securesystemslib_computation() -> Result<(), Error> {
        // sha256 of {"keytype":"ed25519","keyval":{"public":"00..00"},"scheme":"ed25519"}.
        let public = "00".repeat(32);
        let expected = sha256_hex(
            format!(
                r#"{{"keytype":"ed25519","keyval":{{"public":"{public}"}},"scheme":"ed25519"}}"#
            )
            .as_bytes(),
        );
        assert_eq!(
            compute_keyid("ed25519", "ed25519", &public, false)?,
            expected
        );
        Ok(())
    }

    #[test]
    fn declared_keyid_must_match() -> Result<(), Error> {
        let key = PrivateKey::generate(GenerateAlgorithm::Ed25519)?;
        let mut sslib = key.public().to_sslib();
        sslib.keyid = Some("ab".repeat(32));
        assert!(
            matches!(PublicKey::from_sslib(&sslib), Err(Error::Key(m)) if m.contains("does not match"))
        );
        Ok(())
    }
}
