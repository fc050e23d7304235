//! The sigstore-conformance `bundle-verify` cases from the corpus: every
//! case verifies or fails as its name says, and each `_fail` case fails on
//! the check its README names. Then the happy v0.3 bundle is tampered
//! element by element, and each tamper must fail on its own check.

mod common;

use std::path::Path;

use palisade_attest::sigstore::{ArtifactInput, BundleVerifier, SignerPolicy};
use palisade_attest::statement::DigestRef;
use palisade_attest::{PublicKey, Verification};

const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// The check each failing case must fail on (the reason its README gives).
const EXPECTED_FAILURE: &[(&str, &[&str])] = &[
    ("bundle-malformed-json_fail", &["bundle"]),
    ("bundle-unknown-version_fail", &["bundle"]),
    ("bundle-with-root-cert_fail", &["certificate-chain"]),
    (
        "checkpoint-wrong-roothash_fail",
        &["tlog-checkpoint", "tlog-inclusion-proof"],
    ),
    ("dsse-invalid-sig_fail", &["signature"]),
    (
        "integrated-time-in-future_fail",
        &["tlog-integrated-time", "certificate-validity"],
    ),
    ("intoto-expired-certificate_fail", &["certificate-validity"]),
    (
        "invalid-inclusion-proof_fail",
        &["tlog-inclusion-proof", "tlog-checkpoint"],
    ),
    ("managed-key-wrong-key_fail", &["signature", "key"]),
    (
        "message-digest-mismatch_fail",
        &["artifact-digest", "signature"],
    ),
    ("rekor2-checkpoint-missing-size_fail", &["tlog-checkpoint"]),
    ("signature-mismatch_fail", &["signature"]),
];

struct Case {
    bundle: Vec<u8>,
    artifact: Vec<u8>,
    /// `Err` when the case's key cannot be read: the case fails on "key",
    /// as the command line fails with an input error.
    policy: Result<SignerPolicy, String>,
    verifier: BundleVerifier,
}

impl Case {
    fn verify(&self, bundle: &[u8], artifact: ArtifactInput<'_>) -> Verification {
        match &self.policy {
            Ok(p) => self.verifier.verify(bundle, artifact, p),
            Err(e) => {
                let mut v = Verification::new("sigstore-bundle");
                v.push(palisade_attest::Check::fail("key", None, e.clone()));
                v
            }
        }
    }

    #[allow(clippy::panic)]
    fn policy(&self) -> &SignerPolicy {
        match &self.policy {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }
}

#[allow(clippy::panic)]
fn load(root: &Path, dir: &Path) -> Case {
    let read_opt = |name: &str| std::fs::read(dir.join(name)).ok();
    let text = |name: &str, default: &str| {
        read_opt(name)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let trusted_root = read_opt("trusted_root.json")
        .unwrap_or_else(|| common::read(&root.join("../trust/public-good-trusted_root.json")));
    let verifier = match BundleVerifier::new(&trusted_root) {
        Ok(v) => v,
        Err(e) => panic!("{}: trusted root: {e:?}", dir.display()),
    };
    let policy = match read_opt("key.pub") {
        Some(pem) => PublicKey::from_pem(&pem, None)
            .map(SignerPolicy::Key)
            .map_err(|e| e.to_string()),
        None => Ok(SignerPolicy::Identity {
            identity: text("identity", DEFAULT_IDENTITY),
            issuer: text("issuer", DEFAULT_ISSUER),
        }),
    };
    Case {
        bundle: common::read(&dir.join("bundle.sigstore.json")),
        artifact: read_opt("artifact").unwrap_or_else(|| common::read(&root.join("a.txt"))),
        policy,
        verifier,
    }
}

fn failed_names(v: &Verification) -> Vec<String> {
    v.failures().map(|c| c.name.clone()).collect()
}

#[test]
fn conformance_cases_verify_or_fail_for_the_right_reason() {
    let Some(root) = common::corpus("sigstore/bundle-verify") else {
        return;
    };
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("bundle.sigstore.json").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 20,
        "expected the 20 corpus cases, found {}",
        dirs.len()
    );
    let mut wrong = Vec::new();
    let (mut pass, mut fail) = (0, 0);
    for dir in &dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let case = load(&root, dir);
        let v = case.verify(&case.bundle, ArtifactInput::Bytes(&case.artifact));
        let should_fail = name.ends_with("_fail");
        let failed = failed_names(&v);
        eprintln!(
            "{name}: verified={} failed={failed:?} {:?}",
            v.verified,
            v.failures().map(|c| &c.reason).collect::<Vec<_>>()
        );
        if should_fail {
            fail += 1;
            if v.verified {
                wrong.push(format!("{name}: verified but must fail"));
            } else if let Some((_, allowed)) = EXPECTED_FAILURE.iter().find(|(n, _)| *n == name)
                && !failed.iter().any(|f| allowed.contains(&f.as_str()))
            {
                wrong.push(format!(
                    "{name}: failed on {failed:?}, expected one of {allowed:?}: {:?}",
                    v.failures().collect::<Vec<_>>()
                ));
            }
        } else {
            pass += 1;
            if !v.verified {
                wrong.push(format!(
                    "{name}: must verify but {:?}",
                    v.failures().collect::<Vec<_>>()
                ));
            }
        }
        // The same case checked by digest gives the same verdict.
        let digest = DigestRef::sha256_of(&case.artifact);
        let by_digest = case.verify(&case.bundle, ArtifactInput::Digest(&digest));
        if by_digest.verified != v.verified {
            wrong.push(format!("{name}: verdict by digest differs"));
        }
    }
    eprintln!("{pass} passing cases, {fail} failing cases");
    assert!(wrong.is_empty(), "{wrong:#?}");
}

fn tamper(json: &[u8], f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(json).unwrap_or_default();
    f(&mut v);
    serde_json::to_vec(&v).unwrap_or_default()
}

fn flip_b64(s: &str) -> String {
    // Change one character in the middle of a base64 string.
    let mut chars: Vec<char> = s.chars().collect();
    let i = chars.len() / 2;
    if let Some(c) = chars.get_mut(i) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}

#[test]
fn each_tampered_element_fails_its_own_check() {
    let Some(root) = common::corpus("sigstore/bundle-verify") else {
        return;
    };
    let case = load(&root, &root.join("happy-path-v0.3"));
    let ok = case.verify(&case.bundle, ArtifactInput::Bytes(&case.artifact));
    assert!(ok.verified, "{:?}", ok.checks);
    let names: Vec<_> = ok.checks.iter().map(|c| c.name.as_str()).collect();
    for required in [
        "certificate-chain",
        "sct",
        "certificate-identity",
        "transparency-log",
        "signing-time",
        "signature",
    ] {
        assert!(
            names.contains(&required),
            "{required} missing from {names:?}"
        );
    }
    let entry = "/verificationMaterial/tlogEntries/0";
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "signature",
            tamper(&case.bundle, |v| {
                if let Some(s) = v.pointer_mut("/messageSignature/signature") {
                    *s = serde_json::json!(flip_b64(s.as_str().unwrap_or("")));
                }
            }),
            &["signature", "tlog-entry-match"],
        ),
        (
            "certificate",
            tamper(&case.bundle, |v| {
                if let Some(s) = v.pointer_mut("/verificationMaterial/certificate/rawBytes") {
                    *s = serde_json::json!(flip_b64(s.as_str().unwrap_or("")));
                }
            }),
            &[
                "certificate-chain",
                "bundle",
                "sct",
                "tlog-entry-match",
                "signature",
            ],
        ),
        (
            "inclusion proof",
            tamper(&case.bundle, |v| {
                if let Some(s) = v.pointer_mut(&format!("{entry}/inclusionProof/hashes/0")) {
                    *s = serde_json::json!(flip_b64(s.as_str().unwrap_or("")));
                }
            }),
            &["tlog-inclusion-proof"],
        ),
        (
            "checkpoint",
            tamper(&case.bundle, |v| {
                if let Some(s) =
                    v.pointer_mut(&format!("{entry}/inclusionProof/checkpoint/envelope"))
                {
                    *s = serde_json::json!(s.as_str().unwrap_or("").replacen("rekor", "rekxr", 1));
                }
            }),
            &["tlog-checkpoint", "tlog-inclusion-proof"],
        ),
        (
            "integrated time",
            tamper(&case.bundle, |v| {
                if let Some(s) = v.pointer_mut(&format!("{entry}/integratedTime")) {
                    *s = serde_json::json!("1710869187");
                }
            }),
            &["tlog-inclusion-promise"],
        ),
        (
            "signed entry timestamp",
            tamper(&case.bundle, |v| {
                if let Some(s) =
                    v.pointer_mut(&format!("{entry}/inclusionPromise/signedEntryTimestamp"))
                {
                    *s = serde_json::json!(flip_b64(s.as_str().unwrap_or("")));
                }
            }),
            &["tlog-inclusion-promise"],
        ),
        (
            "log entry body",
            tamper(&case.bundle, |v| {
                if let Some(s) = v.pointer_mut(&format!("{entry}/canonicalizedBody")) {
                    *s = serde_json::json!(flip_b64(s.as_str().unwrap_or("")));
                }
            }),
            &[
                "tlog-inclusion-promise",
                "tlog-inclusion-proof",
                "tlog-entry-match",
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for (what, bundle, allowed) in cases {
        let v = case.verify(&bundle, ArtifactInput::Bytes(&case.artifact));
        let failed = failed_names(&v);
        eprintln!(
            "tampered {what}: {failed:?} {:?}",
            v.failures().map(|c| &c.reason).collect::<Vec<_>>()
        );
        if v.verified || !failed.iter().any(|f| allowed.contains(&f.as_str())) {
            wrong.push(format!(
                "tampered {what}: verified={} failed={failed:?}, expected one of {allowed:?}",
                v.verified
            ));
        }
    }
    // The artifact, the identity and the issuer.
    let v = case.verify(&case.bundle, ArtifactInput::Bytes(b"other artifact"));
    if v.verified
        || !failed_names(&v)
            .iter()
            .any(|f| f == "artifact-digest" || f == "signature")
    {
        wrong.push(format!("other artifact: {:?}", failed_names(&v)));
    }
    let wrong_identity = SignerPolicy::Identity {
        identity: "https://example.com/not-me".into(),
        issuer: DEFAULT_ISSUER.into(),
    };
    let v = case.verifier.verify(
        &case.bundle,
        ArtifactInput::Bytes(&case.artifact),
        &wrong_identity,
    );
    if v.verified || failed_names(&v) != ["certificate-identity"] {
        wrong.push(format!("wrong identity: {:?}", failed_names(&v)));
    }
    let wrong_issuer = SignerPolicy::Identity {
        identity: DEFAULT_IDENTITY.into(),
        issuer: "https://accounts.example.com".into(),
    };
    let v = case.verifier.verify(
        &case.bundle,
        ArtifactInput::Bytes(&case.artifact),
        &wrong_issuer,
    );
    if v.verified || failed_names(&v) != ["certificate-issuer"] {
        wrong.push(format!("wrong issuer: {:?}", failed_names(&v)));
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_trusted_root_without_the_fulcio_ca_refuses_the_bundle() {
    let Some(root) = common::corpus("sigstore/bundle-verify") else {
        return;
    };
    let case = load(&root, &root.join("happy-path-v0.3"));
    // The staging root does not trust production certificates or logs.
    let staging = common::read(&root.join("../trust/staging-trusted_root.json"));
    let Ok(verifier) = BundleVerifier::new(&staging) else {
        return;
    };
    let v = verifier.verify(
        &case.bundle,
        ArtifactInput::Bytes(&case.artifact),
        case.policy(),
    );
    assert!(!v.verified);
}

#[test]
fn an_absurdly_long_certificate_chain_is_refused() {
    let Some(root) = common::corpus("sigstore/bundle-verify") else {
        return;
    };
    let case = load(&root, &root.join("happy-path-v0.1"));
    let long = tamper(&case.bundle, |v| {
        if let Some(certs) = v
            .pointer_mut("/verificationMaterial/x509CertificateChain/certificates")
            .and_then(|c| c.as_array_mut())
            && let Some(first) = certs.first().cloned()
        {
            certs.extend(std::iter::repeat_n(first, 100));
        }
    });
    let v = case.verify(&long, ArtifactInput::Bytes(&case.artifact));
    assert!(!v.verified);
    assert_eq!(failed_names(&v), ["certificate-chain"], "{:?}", v.checks);
}
