package palisade.code_review_test

import data.palisade.code_review as p

review(revision, author, approvers) := {
	"predicate_type": "https://palisade.dev/attestation/code-review/v1",
	"signer": {"identity": "review-bot@acme.example"},
	"subject_matches_artifact": false,
	"statement": {
		"subject": [{"name": "git", "digest": {"gitCommit": revision}}],
		"predicate": {
			"repository": "https://github.com/acme/app",
			"revision": revision,
			"author": author,
			"approvals": [{"approver": a} | some a in approvers],
		},
	},
}

inp(attestations, params) := {
	"artifact": {
		"name": "app",
		"digest": "sha256:55",
		"source": {"repository": "https://github.com/acme/app", "revision": "abc123"},
	},
	"attestations": attestations,
	"environment": {"name": "prod", "params": params},
}

test_reviewed_revision_passes if {
	count(p.deny) == 0 with input as inp([review("abc123", "alice", ["bob"])], {})
}

test_missing_review_denies if {
	some msg in p.deny with input as inp([], {})
	contains(msg, "revision abc123 has no verified review")
}

test_self_review_denies if {
	count(p.deny) == 1 with input as inp([review("abc123", "alice", ["Alice", "alice"])], {})
}

test_review_of_another_revision_denies if {
	count(p.deny) == 1 with input as inp([review("def456", "alice", ["bob"])], {})
}

test_two_approvers_required if {
	count(p.deny) == 1 with input as inp([review("abc123", "alice", ["bob", "BOB"])], {"min_approvers": 2})
	count(p.deny) == 0 with input as inp([review("abc123", "alice", ["bob", "carol"])], {"min_approvers": 2})
}

test_review_of_another_repository_denies if {
	r := json.patch(review("abc123", "alice", ["bob"]), [{"op": "replace", "path": "/statement/predicate/repository", "value": "https://github.com/evil/app"}])
	count(p.deny) == 1 with input as inp([r], {})
}

test_unknown_revision_denies if {
	some msg in p.deny with input as {"artifact": {"name": "app", "digest": "sha256:55"}, "attestations": []}
	contains(msg, "source revision is unknown")
}

test_revision_from_provenance if {
	prov := {
		"predicate_type": "https://slsa.dev/provenance/v1",
		"signer": {"identity": "ci"},
		"subject_matches_artifact": true,
		"statement": {
			"subject": [{"name": "app", "digest": {"sha256": "55"}}],
			"predicate": {"buildDefinition": {"resolvedDependencies": [{"uri": "git+https://github.com/acme/app", "digest": {"gitCommit": "fedcba"}}]}},
		},
	}
	base := {"artifact": {"name": "app", "digest": "sha256:55"}}
	some msg in p.deny with input as object.union(base, {"attestations": [prov]})
	contains(msg, "revision fedcba")
	count(p.deny) == 0 with input as object.union(base, {"attestations": [prov, review("fedcba", "alice", ["bob"])]})
}
