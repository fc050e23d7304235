# A signed SBOM attestation for the exact artifact digest.
#
# Passes when at least one verified attestation with a CycloneDX or SPDX
# predicate type names the artifact's digest as a subject and, when
# `allowed_sbom_signers` is set, is signed by an identity matching it.
package palisade.sbom_attestation

import data.palisade.lib

metadata := {
	"title": "Signed SBOM attestation for the artifact",
	"params": ["allowed_sbom_signers"],
}

types := {
	"https://cyclonedx.org/bom",
	"https://cyclonedx.org/bom/v1.4",
	"https://cyclonedx.org/bom/v1.5",
	"https://cyclonedx.org/bom/v1.6",
	"https://cyclonedx.org/bom/v1.7",
	"https://spdx.dev/Document",
	"https://spdx.dev/Document/v2.2",
	"https://spdx.dev/Document/v2.3",
	"https://spdx.dev/Document/v3",
}

sboms := lib.attestations_of(types)

signers := lib.param("allowed_sbom_signers", [])

signer_ok(a) if count(signers) == 0

signer_ok(a) if lib.matches_any(a.signer.identity, signers)

deny contains msg if {
	count(sboms) == 0
	msg := sprintf("no verified SBOM attestation (CycloneDX or SPDX) names %s as its subject (%d are about other subjects)", [input.artifact.digest, count(lib.elsewhere(types))])
}

deny contains msg if {
	count(sboms) > 0
	not any_signer_ok
	msg := sprintf("no SBOM attestation is signed by an allowed signer (signed by %s)", [concat(", ", sort({a.signer.identity | some a in sboms}))])
}

any_signer_ok if {
	some a in sboms
	signer_ok(a)
}
