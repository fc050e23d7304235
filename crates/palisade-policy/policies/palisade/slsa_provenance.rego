# SLSA provenance for the exact artifact digest, from an allowed builder and
# an allowed source repository.
#
# Passes when at least one verified SLSA provenance attestation (v1 or v0.2)
# names the artifact's digest as a subject, its builder id matches
# `allowed_builders`, one of its source repositories matches
# `allowed_source_repositories`, and, when `allowed_provenance_signers` is set,
# its signer identity matches that list. Patterns may end in `*`.
# An empty allow-list allows nothing (fail closed).
package palisade.slsa_provenance

import data.palisade.lib

metadata := {
	"title": "SLSA provenance from an allowed builder and source",
	"params": ["allowed_builders", "allowed_source_repositories", "allowed_provenance_signers"],
}

v1 := "https://slsa.dev/provenance/v1"

v02 := "https://slsa.dev/provenance/v0.2"

types := {v1, v02}

provenances := lib.attestations_of(types)

builders := lib.param("allowed_builders", [])

repositories := lib.param("allowed_source_repositories", [])

signers := lib.param("allowed_provenance_signers", [])

builder(a) := a.statement.predicate.runDetails.builder.id if a.predicate_type == v1

builder(a) := a.statement.predicate.builder.id if a.predicate_type == v02

raw_sources(a) := array.concat(
	array.concat(
		[u | a.predicate_type == v1; u := a.statement.predicate.buildDefinition.externalParameters.workflow.repository],
		[d.uri | a.predicate_type == v1; some d in a.statement.predicate.buildDefinition.resolvedDependencies; d.uri],
	),
	array.concat(
		[u | a.predicate_type == v02; u := a.statement.predicate.invocation.configSource.uri],
		[m.uri | a.predicate_type == v02; some m in a.statement.predicate.materials; m.uri],
	),
)

sources(a) := {lib.repository(u) | some u in raw_sources(a)}

# A provenance is acceptable when every check holds. The checks are written
# positively, so anything missing or undefined makes it unacceptable.
acceptable(a) if {
	lib.matches_any(builder(a), builders)
	any_allowed_source(a)
	signer_ok(a)
}

any_allowed_source(a) if {
	some s in sources(a)
	lib.matches_any(s, repositories)
}

signer_ok(a) if count(signers) == 0

signer_ok(a) if lib.matches_any(a.signer.identity, signers)

any_acceptable if {
	some a in provenances
	acceptable(a)
}

# Why a provenance is not acceptable, for the message only.
problems(a) := {p |
	some check in ["builder", "source", "signer"]
	p := problem(check, a)
}

problem("builder", a) := "it names no builder" if not builder(a)

problem("builder", a) := sprintf("builder %q is not in allowed_builders", [builder(a)]) if {
	builder(a)
	not lib.matches_any(builder(a), builders)
}

problem("source", a) := "it names no source repository" if count(sources(a)) == 0

problem("source", a) := sprintf("source %s is not in allowed_source_repositories", [concat(", ", sort(sources(a)))]) if {
	count(sources(a)) > 0
	not any_allowed_source(a)
}

problem("signer", a) := sprintf("signer %q is not in allowed_provenance_signers", [a.signer.identity]) if not signer_ok(a)

explanation := concat(" | ", reasons) if {
	reasons := sort([sprintf("provenance signed by %s: %s", [a.signer.identity, concat("; ", sort(problems(a)))]) |
		some a in provenances
		count(problems(a)) > 0
	])
	count(reasons) > 0
} else := "every provenance fails the builder, source or signer check"

deny contains msg if {
	count(provenances) == 0
	msg := sprintf("no verified SLSA provenance names %s as its subject (%d provenance attestation(s) are about other subjects)", [input.artifact.digest, count(lib.elsewhere(types))])
}

deny contains msg if {
	count(provenances) > 0
	not any_acceptable
	msg := sprintf("no acceptable SLSA provenance for %s: %s", [input.artifact.digest, explanation])
}
