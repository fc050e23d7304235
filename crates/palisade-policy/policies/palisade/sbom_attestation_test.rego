package palisade.sbom_attestation_test

import data.palisade.sbom_attestation as p

hex := "3333333333333333333333333333333333333333333333333333333333333333"

sbom(type, subject_hex, signer) := {
	"predicate_type": type,
	"signer": {"identity": signer},
	"subject_matches_artifact": subject_hex == hex,
	"statement": {"subject": [{"name": "app", "digest": {"sha256": subject_hex}}], "predicate": {}},
}

inp(attestations, params) := {
	"artifact": {"name": "app", "digest": concat(":", ["sha256", hex])},
	"attestations": attestations,
	"environment": {"name": "prod", "params": params},
}

test_cyclonedx_attestation_passes if {
	count(p.deny) == 0 with input as inp([sbom("https://cyclonedx.org/bom", hex, "ci@acme.example")], {})
}

test_spdx_attestation_passes if {
	count(p.deny) == 0 with input as inp([sbom("https://spdx.dev/Document", hex, "ci@acme.example")], {})
}

test_missing_sbom_denies if {
	some msg in p.deny with input as inp([], {})
	contains(msg, "no verified SBOM attestation")
}

test_sbom_for_other_digest_denies if {
	other := "4444444444444444444444444444444444444444444444444444444444444444"
	some msg in p.deny with input as inp([sbom("https://cyclonedx.org/bom", other, "ci@acme.example")], {})
	contains(msg, "1 are about other subjects")
}

test_provenance_is_not_an_sbom if {
	count(p.deny) == 1 with input as inp([sbom("https://slsa.dev/provenance/v1", hex, "ci@acme.example")], {})
}

test_signer_allow_list if {
	a := sbom("https://cyclonedx.org/bom", hex, "ci@acme.example")
	count(p.deny) == 0 with input as inp([a], {"allowed_sbom_signers": ["*@acme.example"]})
	some msg in p.deny with input as inp([a], {"allowed_sbom_signers": ["release@acme.example"]})
	contains(msg, "signed by ci@acme.example")
}
