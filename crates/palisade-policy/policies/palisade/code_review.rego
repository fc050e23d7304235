# A two-person review attestation for the source revision the artifact was
# built from.
#
# The revisions are `input.artifact.source.revision` and the git commits that
# verified SLSA provenance for the artifact names. Each revision needs a
# verified code-review attestation
# (`https://palisade.dev/attestation/code-review/v1`) for that revision
# with at least `min_approvers` (default 1) distinct approvers other than the
# change's author (identities compared without case). When
# `input.artifact.source.repository` is known, the review must be for that
# repository. No known revision denies.
package palisade.code_review

import data.palisade.lib

metadata := {
	"title": "Two-person review of the source revision",
	"params": ["min_approvers"],
}

review_type := "https://palisade.dev/attestation/code-review/v1"

min_approvers := lib.param("min_approvers", 1)

provenance_types := {"https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v0.2"}

revisions contains input.artifact.source.revision

revisions contains commit if {
	some a in lib.attestations_of(provenance_types)
	some d in a.statement.predicate.buildDefinition.resolvedDependencies
	commit := d.digest.gitCommit
}

revisions contains commit if {
	some a in lib.attestations_of(provenance_types)
	some m in a.statement.predicate.materials
	commit := m.digest.sha1
}

reviews := [a | some a in input.attestations; a.predicate_type == review_type]

repository_ok(review) if not input.artifact.source.repository

repository_ok(review) if lib.repository(review.statement.predicate.repository) == lib.repository(input.artifact.source.repository)

independent(review) := {lower(x.approver) |
	some x in review.statement.predicate.approvals
	lower(x.approver) != lower(review.statement.predicate.author)
}

reviewed(revision) if {
	some r in reviews
	r.statement.predicate.revision == revision
	repository_ok(r)
	count(independent(r)) >= max([min_approvers, 1])
}

deny contains msg if {
	count(revisions) == 0
	msg := "the source revision is unknown: neither artifact.source.revision nor a verified provenance names a commit"
}

deny contains msg if {
	some revision in revisions
	not reviewed(revision)
	msg := sprintf("revision %s has no verified review with at least %d approver(s) other than its author", [revision, max([min_approvers, 1])])
}
