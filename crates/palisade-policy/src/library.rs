//! The built-in policy library, embedded in the binary.
//!
//! Design: the library is ordinary Rego in `crates/palisade-policy/policies/`,
//! one package per policy under `palisade.`, each with its `_test.rego`
//! unit tests and a header comment that documents its parameters
//! (`docs/policy-library.md` has the full reference). The files are embedded
//! with `include_str!` and form an ordinary [`Bundle`], so the built-in library
//! has a digest like any other bundle, runs through the same engine, and can
//! be exported (`palisade policy export`) to start a bundle of one's own.
//! `environments.yaml` defines `base`, `dev`, `staging` and `prod`.

use crate::bundle::Bundle;
use crate::error::Result;

/// The library's files: (path inside the bundle, contents).
pub const FILES: &[(&str, &str)] = &[
    (
        "environments.yaml",
        include_str!("../policies/environments.yaml"),
    ),
    (
        "palisade/lib.rego",
        include_str!("../policies/palisade/lib.rego"),
    ),
    (
        "palisade/lib_test.rego",
        include_str!("../policies/palisade/lib_test.rego"),
    ),
    (
        "palisade/slsa_provenance.rego",
        include_str!("../policies/palisade/slsa_provenance.rego"),
    ),
    (
        "palisade/slsa_provenance_test.rego",
        include_str!("../policies/palisade/slsa_provenance_test.rego"),
    ),
    (
        "palisade/sbom_attestation.rego",
        include_str!("../policies/palisade/sbom_attestation.rego"),
    ),
    (
        "palisade/sbom_attestation_test.rego",
        include_str!("../policies/palisade/sbom_attestation_test.rego"),
    ),
    (
        "palisade/vulnerabilities.rego",
        include_str!("../policies/palisade/vulnerabilities.rego"),
    ),
    (
        "palisade/vulnerabilities_test.rego",
        include_str!("../policies/palisade/vulnerabilities_test.rego"),
    ),
    (
        "palisade/code_review.rego",
        include_str!("../policies/palisade/code_review.rego"),
    ),
    (
        "palisade/code_review_test.rego",
        include_str!("../policies/palisade/code_review_test.rego"),
    ),
    (
        "palisade/image_digest.rego",
        include_str!("../policies/palisade/image_digest.rego"),
    ),
    (
        "palisade/image_digest_test.rego",
        include_str!("../policies/palisade/image_digest_test.rego"),
    ),
    (
        "palisade/max_severity.rego",
        include_str!("../policies/palisade/max_severity.rego"),
    ),
    (
        "palisade/max_severity_test.rego",
        include_str!("../policies/palisade/max_severity_test.rego"),
    ),
    (
        "palisade/license.rego",
        include_str!("../policies/palisade/license.rego"),
    ),
    (
        "palisade/license_test.rego",
        include_str!("../policies/palisade/license_test.rego"),
    ),
];

/// The ids of the built-in policies.
pub const POLICY_IDS: [&str; 7] = [
    "palisade.code_review",
    "palisade.image_digest",
    "palisade.license",
    "palisade.max_severity",
    "palisade.sbom_attestation",
    "palisade.slsa_provenance",
    "palisade.vulnerabilities",
];

/// The built-in library as a bundle.
pub fn builtin_bundle() -> Result<Bundle> {
    Bundle::from_files(FILES.iter().map(|(p, t)| (*p, t.as_bytes().to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, EngineOptions};

    #[test]
    fn every_policy_is_discovered_with_metadata() {
        let engine = Engine::builtin(EngineOptions::default()).unwrap();
        let ids: Vec<&str> = engine.policies().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, POLICY_IDS.to_vec());
        for p in engine.policies() {
            assert!(p.title().is_some(), "{} has no title", p.id);
        }
        assert_eq!(
            engine.environment_names(),
            vec!["base", "dev", "prod", "staging"]
        );
    }

    #[test]
    fn every_policy_has_a_test_file() {
        for id in POLICY_IDS {
            let file = format!("{}_test.rego", id.replace('.', "/"));
            assert!(FILES.iter().any(|(p, _)| *p == file), "{file} is missing");
        }
    }
}
