# Helpers shared by the built-in policies.
#
# This package declares no deny, violation, warn or allow rule, so the engine
# does not treat it as a policy. Every helper is written so that missing data
# makes a check fail (and so deny) rather than pass.
package palisade.lib

# The artifact digest's algorithm and hex (the input schema guarantees the form).
# The parts are named before they are indexed: regorus evaluates an index into
# a call's result (`split(...)[1]`) through a slower path.
artifact_alg := parts[0] if parts := split(input.artifact.digest, ":")

artifact_hex := parts[1] if parts := split(input.artifact.digest, ":")

# Whether an in-toto statement lists the artifact digest among its subjects.
covers_artifact(statement) if {
	some subject in statement.subject
	subject.digest[artifact_alg] == artifact_hex
}

# Whether a verified attestation is about the artifact: the verifier says so
# and the statement's subjects agree.
about_artifact(a) if {
	a.subject_matches_artifact == true
	covers_artifact(a.statement)
}

# Verified attestations with a predicate type in `types` about the artifact.
attestations_of(types) := [a |
	some a in input.attestations
	a.predicate_type in types
	about_artifact(a)
]

# Attestations with a predicate type in `types` that are about something else.
elsewhere(types) := [a |
	some a in input.attestations
	a.predicate_type in types
	not about_artifact(a)
]

# An environment parameter, or `fallback` when no environment sets it.
param(name, fallback) := object.get(object.get(object.get(input, "environment", {}), "params", {}), name, fallback)

# Whether `value` matches a pattern: equal, or, for a pattern with `*`, a
# glob match without delimiters (`*` matches any text, `/` and `.` included).
matches(value, pattern) if {
	not contains(pattern, "*")
	value == pattern
}

matches(value, pattern) if {
	contains(pattern, "*")
	glob.match(pattern, null, value)
}

matches_any(value, patterns) if {
	some p in patterns
	matches(value, p)
}

# A source repository URI without `git+`, a trailing `@ref` or `@commit`, `.git` or `/`.
repository(uri) := trim_suffix(trim_suffix(regex.replace(trim_prefix(uri, "git+"), "@(refs/.+|[0-9a-fA-F]{7,64})$", ""), ".git"), "/")

# Severity ranks.
severity_rank := {"none": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}

# A finding's rank; `unknown` counts as the environment's `unknown_severity` (default high).
rank(severity) := severity_rank[severity]

rank("unknown") := severity_rank[param("unknown_severity", "high")]

# A finding as text: `CVE-1 in name@version`.
describe(f) := sprintf("%s in %s@%s", [f.id, f.package.name, object.get(f.package, "version", "?")]) if f.package

describe(f) := f.id if not f.package
