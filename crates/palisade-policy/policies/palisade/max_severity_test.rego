package palisade.max_severity_test

import data.palisade.max_severity as p

f(id, severity) := {"id": id, "severity": severity, "package": {"name": "lib", "version": "1"}}

inp(findings, params) := {
	"artifact": {"name": "app", "digest": "sha256:00"},
	"findings": findings,
	"environment": {"name": "prod", "params": params},
}

test_at_the_limit_passes if {
	count(p.deny) == 0 with input as inp([f("A", "high"), f("B", "low")], {"max_severity": "high"})
}

test_above_the_limit_denies_each if {
	denials := p.deny with input as inp([f("A", "critical"), f("B", "high"), f("C", "medium")], {"max_severity": "medium"})
	{v.vulnerability | some v in denials} == {"A", "B"}
}

test_default_limit_is_high if {
	count(p.deny) == 1 with input as inp([f("A", "critical"), f("B", "high")], {})
}

test_unknown_severity_counts_as_high_by_default if {
	count(p.deny) == 1 with input as inp([f("A", "unknown")], {"max_severity": "medium"})
	count(p.deny) == 0 with input as inp([f("A", "unknown")], {"max_severity": "medium", "unknown_severity": "low"})
}

test_bad_parameter_denies if {
	some msg in p.deny with input as inp([], {"max_severity": "severe"})
	contains(msg, "is not one of")
}

test_message_names_the_environment if {
	some v in p.deny with input as inp([f("A", "critical")], {})
	contains(v.msg, "above the high allowed in prod")
}
