//! Policy bundles: the files, their digest, and the signature hook.
//!
//! Design: a bundle is an in-memory map from relative paths to bytes, built
//! by [`crate::load`] from a directory or a `.tar.gz`, or from the built-in
//! library. Everything a decision depends on is in it: Rego modules
//! (`*.rego`; `*_test.rego` are tests, run by [`crate::testing`] and not
//! loaded for decisions), data documents (`data.json` / `data.yaml` in any
//! directory, mounted at that directory's path under `data`, as in OPA
//! bundles) and the environments file (`environments.yaml` or
//! `environments.json` at the root). Other files (README, LICENSE) are
//! carried and digested but not interpreted.
//!
//! The bundle digest is defined over a manifest: the canonical JSON
//! (RFC 8785) of `{"files": {path: "sha256:<hex of contents>"}, "type":
//! "palisade.dev/policy-bundle/v1"}` over every file except the signature
//! file, and the digest is `sha256:` and the hex SHA-256 of those manifest
//! bytes. Paths are relative, `/`-separated, and unique; the canonical form
//! sorts them, so the digest does not depend on the order files were read.
//!
//! A signed bundle carries [`SIGNATURE_FILE`], a DSSE envelope whose payload
//! is the manifest (payload type [`MANIFEST_PAYLOAD_TYPE`]). This crate does
//! no cryptography: the caller passes a [`BundleVerifier`] (the binary wires
//! `palisade-attest`'s DSSE verifier), which checks the envelope's signatures
//! and returns the payload; [`Bundle::verify`] then requires that payload to
//! be exactly this bundle's manifest, so a signature over other files cannot
//! be reused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{PolicyError, Result};

/// The manifest's `type`.
pub const MANIFEST_TYPE: &str = "palisade.dev/policy-bundle/v1";
/// The DSSE payload type of a signed manifest.
pub const MANIFEST_PAYLOAD_TYPE: &str = "application/vnd.palisade.policy-bundle.manifest+json";
/// The file, at the bundle root, that holds the DSSE envelope.
pub const SIGNATURE_FILE: &str = "bundle.dsse.json";
/// The environments file names, tried in this order.
pub const ENVIRONMENT_FILES: [&str; 3] =
    ["environments.yaml", "environments.yml", "environments.json"];

/// Limits on bundles.
pub mod limits {
    /// The most files in a bundle.
    pub const MAX_FILES: usize = 10_000;
    /// The largest single file.
    pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
    /// The largest bundle (sum of file sizes).
    pub const MAX_TOTAL_BYTES: usize = 128 * 1024 * 1024;
    /// The longest path.
    pub const MAX_PATH_BYTES: usize = 1024;
    /// The most path components.
    pub const MAX_PATH_DEPTH: usize = 32;
}

/// The files of a bundle.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    files: BTreeMap<String, Vec<u8>>,
    signature: Option<Vec<u8>>,
    total: usize,
}

/// The bundle manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The digest of every file, by path.
    pub files: BTreeMap<String, String>,
    /// Always [`MANIFEST_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
}

/// What a [`BundleVerifier`] establishes about a DSSE envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedEnvelope {
    /// The envelope's payload type.
    pub payload_type: String,
    /// The payload, decoded.
    pub payload: Vec<u8>,
    /// The identities whose signatures verified (at least one).
    pub signers: Vec<String>,
}

/// Checks DSSE envelopes. Implementations do the cryptography and the trust
/// decision (which keys or identities count); they must return an error
/// unless enough signatures verify.
pub trait BundleVerifier {
    /// Verifies an envelope (its JSON bytes) and returns its payload and signers.
    fn verify_envelope(&self, envelope: &[u8]) -> std::result::Result<VerifiedEnvelope, String>;
}

/// A bundle's verified signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleSignature {
    /// The bundle digest the signature covers.
    pub digest: String,
    /// Who signed.
    pub signers: Vec<String>,
}

/// Checks a bundle path: relative, `/`-separated, no empty, `.` or `..`
/// component, no backslash or NUL, within the length and depth limits.
pub fn check_path(path: &str) -> Result<()> {
    let bad = |why: &str| Err(PolicyError::Bundle(format!("path {path:?} {why}")));
    if path.is_empty() {
        return bad("is empty");
    }
    if path.len() > limits::MAX_PATH_BYTES {
        return bad("is too long");
    }
    if path.starts_with('/') {
        return bad("is absolute");
    }
    if path.contains('\\') || path.contains('\0') {
        return bad("contains a backslash or NUL");
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() > limits::MAX_PATH_DEPTH {
        return bad("is nested too deeply");
    }
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return bad("has an empty, '.' or '..' component");
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Bundle {
    /// An empty bundle.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file; the signature file is kept apart from the others.
    pub fn insert(&mut self, path: &str, bytes: Vec<u8>) -> Result<()> {
        check_path(path)?;
        if bytes.len() > limits::MAX_FILE_BYTES {
            return Err(PolicyError::Limit(format!(
                "bundle file {path} is {} bytes, more than the {} allowed",
                bytes.len(),
                limits::MAX_FILE_BYTES
            )));
        }
        if path == SIGNATURE_FILE {
            self.signature = Some(bytes);
            return Ok(());
        }
        if self.files.contains_key(path) {
            return Err(PolicyError::Bundle(format!("path {path:?} appears twice")));
        }
        if self.files.len() >= limits::MAX_FILES {
            return Err(PolicyError::Limit(format!(
                "bundle has more than {} files",
                limits::MAX_FILES
            )));
        }
        self.total = self.total.saturating_add(bytes.len());
        if self.total > limits::MAX_TOTAL_BYTES {
            return Err(PolicyError::Limit(format!(
                "bundle is larger than {} bytes",
                limits::MAX_TOTAL_BYTES
            )));
        }
        self.files.insert(path.to_string(), bytes);
        Ok(())
    }

    /// A bundle from (path, bytes) pairs.
    pub fn from_files<I, P, B>(files: I) -> Result<Self>
    where
        I: IntoIterator<Item = (P, B)>,
        P: AsRef<str>,
        B: Into<Vec<u8>>,
    {
        let mut b = Self::new();
        for (p, bytes) in files {
            b.insert(p.as_ref(), bytes.into())?;
        }
        Ok(b)
    }

    /// The files, by path (without the signature file).
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    /// The signature envelope, if the bundle has one.
    pub fn signature(&self) -> Option<&[u8]> {
        self.signature.as_deref()
    }

    /// Sets the signature envelope.
    pub fn set_signature(&mut self, envelope: Vec<u8>) {
        self.signature = Some(envelope);
    }

    /// The manifest of the files.
    pub fn manifest(&self) -> Manifest {
        Manifest {
            files: self
                .files
                .iter()
                .map(|(p, b)| (p.clone(), format!("sha256:{}", sha256_hex(b))))
                .collect(),
            kind: MANIFEST_TYPE.to_string(),
        }
    }

    /// The manifest as canonical JSON: the bytes a bundle signature signs.
    pub fn manifest_bytes(&self) -> Result<Vec<u8>> {
        serde_json_canonicalizer::to_vec(&self.manifest())
            .map_err(|e| PolicyError::Bundle(format!("cannot canonicalise the manifest: {e}")))
    }

    /// The bundle digest, `sha256:<hex>` of [`Bundle::manifest_bytes`].
    pub fn digest(&self) -> Result<String> {
        Ok(format!("sha256:{}", sha256_hex(&self.manifest_bytes()?)))
    }

    /// The Rego modules for decisions (every `*.rego` except `*_test.rego`).
    pub fn policy_modules(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files
            .iter()
            .filter(|(p, _)| p.ends_with(".rego") && !p.ends_with("_test.rego"))
            .map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// Every Rego module, tests included.
    pub fn all_modules(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files
            .iter()
            .filter(|(p, _)| p.ends_with(".rego"))
            .map(|(p, b)| (p.as_str(), b.as_slice()))
    }

    /// The environments file, if present (an error if more than one is).
    pub fn environments_file(&self) -> Result<Option<(&str, &[u8])>> {
        let found: Vec<(&str, &[u8])> = ENVIRONMENT_FILES
            .iter()
            .filter_map(|n| {
                self.files
                    .get_key_value(*n)
                    .map(|(p, b)| (p.as_str(), b.as_slice()))
            })
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            _ => Err(PolicyError::Bundle(
                "more than one environments file at the bundle root".into(),
            )),
        }
    }

    /// The data document: every `data.json`/`data.yaml`/`data.yml` mounted
    /// at its directory's path. Two files that set the same key are an error.
    pub fn data(&self) -> Result<serde_json::Value> {
        let mut root = serde_json::Map::new();
        for (path, bytes) in &self.files {
            let (dir, name) = match path.rsplit_once('/') {
                Some((d, n)) => (Some(d), n),
                None => (None, path.as_str()),
            };
            let value: serde_json::Value = match name {
                "data.json" => serde_json::from_slice(bytes).map_err(|e| PolicyError::Data {
                    path: path.clone(),
                    message: e.to_string(),
                })?,
                "data.yaml" | "data.yml" => {
                    serde_yaml_ng::from_slice(bytes).map_err(|e| PolicyError::Data {
                        path: path.clone(),
                        message: e.to_string(),
                    })?
                }
                _ => continue,
            };
            crate::input::check_depth(&value, crate::input::limits::MAX_DEPTH).map_err(|e| {
                PolicyError::Data {
                    path: path.clone(),
                    message: e.to_string(),
                }
            })?;
            let serde_json::Value::Object(obj) = value else {
                return Err(PolicyError::Data {
                    path: path.clone(),
                    message: "the document is not an object".into(),
                });
            };
            let mut target = &mut root;
            for part in dir.into_iter().flat_map(|d| d.split('/')) {
                let entry = target
                    .entry(part.to_string())
                    .or_insert_with(|| serde_json::json!({}));
                let serde_json::Value::Object(next) = entry else {
                    return Err(PolicyError::Data {
                        path: path.clone(),
                        message: format!(
                            "data key {part:?} is set by another file and is not an object"
                        ),
                    });
                };
                target = next;
            }
            for (k, v) in obj {
                if target.contains_key(&k) {
                    return Err(PolicyError::Data {
                        path: path.clone(),
                        message: format!("data key {k:?} is also set by another file"),
                    });
                }
                target.insert(k, v);
            }
        }
        Ok(serde_json::Value::Object(root))
    }

    /// Verifies the bundle's signature with `verifier`: the envelope must
    /// verify, carry [`MANIFEST_PAYLOAD_TYPE`], and its payload must be this
    /// bundle's manifest (compared in canonical form).
    pub fn verify(&self, verifier: &dyn BundleVerifier) -> Result<BundleSignature> {
        let Some(envelope) = &self.signature else {
            return Err(PolicyError::Signature(format!(
                "the bundle has no {SIGNATURE_FILE}"
            )));
        };
        let verified = verifier
            .verify_envelope(envelope)
            .map_err(PolicyError::Signature)?;
        if verified.signers.is_empty() {
            return Err(PolicyError::Signature(
                "the verifier returned no signer".into(),
            ));
        }
        if verified.payload_type != MANIFEST_PAYLOAD_TYPE {
            return Err(PolicyError::Signature(format!(
                "payload type is {:?}, expected {MANIFEST_PAYLOAD_TYPE:?}",
                verified.payload_type
            )));
        }
        let signed: Manifest = serde_json::from_slice(&verified.payload).map_err(|e| {
            PolicyError::Signature(format!("the signed payload is not a bundle manifest: {e}"))
        })?;
        let ours = self.manifest();
        if signed != ours {
            let mut differing: Vec<&str> = Vec::new();
            for (p, d) in &ours.files {
                if signed.files.get(p) != Some(d) {
                    differing.push(p);
                }
            }
            for p in signed.files.keys() {
                if !ours.files.contains_key(p) {
                    differing.push(p);
                }
            }
            differing.sort_unstable();
            differing.dedup();
            return Err(PolicyError::Signature(format!(
                "the signed manifest does not match the bundle's files (differing: {})",
                if differing.is_empty() {
                    "the manifest type".to_string()
                } else {
                    differing.join(", ")
                }
            )));
        }
        Ok(BundleSignature {
            digest: self.digest()?,
            signers: verified.signers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Bundle {
        Bundle::from_files([
            ("a/policy.rego", b"package a\n".to_vec()),
            ("a/policy_test.rego", b"package a_test\n".to_vec()),
            ("a/data.json", br#"{"x": 1}"#.to_vec()),
            ("data.yaml", b"top: true\n".to_vec()),
            ("README.md", b"hello".to_vec()),
        ])
        .unwrap()
    }

    #[test]
    fn digest_is_order_independent_and_content_sensitive() {
        let a = sample();
        let mut files: Vec<(String, Vec<u8>)> = a
            .files()
            .iter()
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect();
        files.reverse();
        let b = Bundle::from_files(files).unwrap();
        assert_eq!(a.digest().unwrap(), b.digest().unwrap());
        let mut c = Bundle::new();
        for (p, bytes) in a.files() {
            let bytes = if p == "README.md" {
                b"hello!".to_vec()
            } else {
                bytes.clone()
            };
            c.insert(p, bytes).unwrap();
        }
        assert_ne!(a.digest().unwrap(), c.digest().unwrap());
        assert!(a.digest().unwrap().starts_with("sha256:"));
    }

    #[test]
    fn manifest_is_canonical_json() {
        let b = Bundle::from_files([("b.rego", "x"), ("a.rego", "y")]).unwrap();
        let text = String::from_utf8(b.manifest_bytes().unwrap()).unwrap();
        assert!(text.starts_with(r#"{"files":{"a.rego":"sha256:"#), "{text}");
        assert!(
            text.ends_with(r#""type":"palisade.dev/policy-bundle/v1"}"#),
            "{text}"
        );
    }

    #[test]
    fn paths_are_checked() {
        for bad in [
            "",
            "/etc/passwd",
            "../x.rego",
            "a//b.rego",
            "a/./b",
            "a\\b",
            "a/../b",
        ] {
            assert!(Bundle::new().insert(bad, vec![]).is_err(), "{bad:?}");
        }
        let mut b = Bundle::new();
        b.insert("x.rego", vec![]).unwrap();
        assert!(b.insert("x.rego", vec![]).is_err(), "duplicates");
    }

    #[test]
    fn modules_and_data_are_split() {
        let b = sample();
        let policies: Vec<&str> = b.policy_modules().map(|(p, _)| p).collect();
        assert_eq!(policies, vec!["a/policy.rego"]);
        assert_eq!(b.all_modules().count(), 2);
        assert_eq!(
            b.data().unwrap(),
            serde_json::json!({"a": {"x": 1}, "top": true})
        );
    }

    #[test]
    fn conflicting_data_is_an_error() {
        let b = Bundle::from_files([("data.json", r#"{"a": 1}"#), ("a/data.json", r#"{"x": 1}"#)])
            .unwrap();
        assert!(b.data().is_err());
        let b = Bundle::from_files([("data.json", r#"[1]"#)]).unwrap();
        assert!(b.data().is_err());
    }

    struct FakeVerifier(std::result::Result<VerifiedEnvelope, String>);
    impl BundleVerifier for FakeVerifier {
        fn verify_envelope(&self, _: &[u8]) -> std::result::Result<VerifiedEnvelope, String> {
            self.0.clone()
        }
    }

    #[test]
    fn signature_must_cover_this_manifest() {
        let mut b = sample();
        let v = |payload: Vec<u8>, t: &str| {
            FakeVerifier(Ok(VerifiedEnvelope {
                payload_type: t.into(),
                payload,
                signers: vec!["k1".into()],
            }))
        };
        assert!(
            b.verify(&v(vec![], MANIFEST_PAYLOAD_TYPE))
                .unwrap_err()
                .to_string()
                .contains("no bundle.dsse.json")
        );
        b.set_signature(b"{}".to_vec());
        let ok = b
            .verify(&v(b.manifest_bytes().unwrap(), MANIFEST_PAYLOAD_TYPE))
            .unwrap();
        assert_eq!(ok.signers, vec!["k1"]);
        assert_eq!(ok.digest, b.digest().unwrap());
        assert!(
            b.verify(&v(b.manifest_bytes().unwrap(), "text/plain"))
                .is_err()
        );
        let other = Bundle::from_files([("a/policy.rego", "package evil\n")]).unwrap();
        let err = b
            .verify(&v(other.manifest_bytes().unwrap(), MANIFEST_PAYLOAD_TYPE))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a/policy.rego") && err.contains("README.md"),
            "{err}"
        );
        assert!(
            b.verify(&FakeVerifier(Err("bad signature".into())))
                .unwrap_err()
                .to_string()
                .contains("bad signature")
        );
    }
}
