package palisade.slsa_provenance_test

import data.palisade.slsa_provenance as p

digest := "sha256:1111111111111111111111111111111111111111111111111111111111111111"

builder := "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0"

params := {
	"allowed_builders": ["https://github.com/slsa-framework/slsa-github-generator/*"],
	"allowed_source_repositories": ["https://github.com/acme/app"],
}

provenance(subject_hex, builder_id, repo) := {
	"predicate_type": "https://slsa.dev/provenance/v1",
	"signer": {"identity": "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"},
	"subject_matches_artifact": true,
	"statement": {
		"_type": "https://in-toto.io/Statement/v1",
		"subject": [{"name": "app", "digest": {"sha256": subject_hex}}],
		"predicateType": "https://slsa.dev/provenance/v1",
		"predicate": {
			"buildDefinition": {
				"buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
				"externalParameters": {"workflow": {"repository": repo, "path": ".github/workflows/release.yml"}},
				"resolvedDependencies": [{"uri": sprintf("git+%s@refs/heads/main", [repo]), "digest": {"gitCommit": "abc1234"}}],
			},
			"runDetails": {"builder": {"id": builder_id}},
		},
	},
}

hex := substring(digest, 7, -1)

good := provenance(hex, builder, "https://github.com/acme/app")

inp(attestations, prms) := {
	"artifact": {"name": "app", "digest": digest},
	"attestations": attestations,
	"environment": {"name": "prod", "params": prms},
}

test_allowed_provenance_passes if {
	count(p.deny) == 0 with input as inp([good], params)
}

test_missing_provenance_denies if {
	some msg in p.deny with input as inp([], params)
	contains(msg, "no verified SLSA provenance")
}

test_provenance_for_another_digest_denies if {
	other := provenance("2222222222222222222222222222222222222222222222222222222222222222", builder, "https://github.com/acme/app")
	some msg in p.deny with input as inp([other], params)
	contains(msg, "1 provenance attestation(s) are about other subjects")
}

test_verifier_flag_alone_is_not_enough if {
	lying := object.union(provenance("22", builder, "https://github.com/acme/app"), {"subject_matches_artifact": true})
	count(p.deny) == 1 with input as inp([lying], params)
}

test_disallowed_builder_denies if {
	bad := provenance(hex, "https://evil.example/builder", "https://github.com/acme/app")
	some msg in p.deny with input as inp([bad], params)
	contains(msg, "builder \"https://evil.example/builder\" is not in allowed_builders")
}

test_disallowed_source_denies if {
	bad := provenance(hex, builder, "https://github.com/evil/fork")
	some msg in p.deny with input as inp([bad], params)
	contains(msg, "https://github.com/evil/fork is not in allowed_source_repositories")
}

test_empty_allow_lists_deny if {
	count(p.deny) == 1 with input as inp([good], {})
}

test_one_good_provenance_is_enough if {
	bad := provenance(hex, "https://evil.example/builder", "https://github.com/acme/app")
	count(p.deny) == 0 with input as inp([bad, good], params)
}

test_signer_allow_list if {
	strict := object.union(params, {"allowed_provenance_signers": ["https://github.com/acme/*"]})
	count(p.deny) == 0 with input as inp([good], strict)
	other := object.union(params, {"allowed_provenance_signers": ["someone@example.com"]})
	count(p.deny) == 1 with input as inp([good], other)
}

test_v02_provenance if {
	old := {
		"predicate_type": "https://slsa.dev/provenance/v0.2",
		"signer": {"identity": "ci"},
		"subject_matches_artifact": true,
		"statement": {
			"subject": [{"name": "app", "digest": {"sha256": hex}}],
			"predicate": {
				"builder": {"id": builder},
				"invocation": {"configSource": {"uri": "git+https://github.com/acme/app@refs/heads/main"}},
			},
		},
	}
	count(p.deny) == 0 with input as inp([old], params)
}
