# No finding above the environment's maximum severity.
#
# `max_severity` (default `high`) is the highest severity allowed; every
# finding ranked above it is a violation naming its vulnerability. Findings
# of `unknown` severity rank as `unknown_severity` (default `high`). A
# parameter that is not a severity denies.
package palisade.max_severity

import data.palisade.lib

metadata := {
	"title": "Maximum severity per environment",
	"params": ["max_severity", "unknown_severity"],
}

max_severity := lib.param("max_severity", "high")

# The severities above the limit, computed once per decision, so that each
# finding costs one set lookup rather than a function call.
above := {s |
	some s in {"none", "low", "medium", "high", "critical", "unknown"}
	lib.rank(s) > lib.severity_rank[max_severity]
}

deny contains {"msg": msg, "severity": f.severity, "vulnerability": f.id} if {
	count(above) > 0
	some f in input.findings
	f.severity in above
	msg := sprintf("%s has severity %s, above the %s allowed in %s", [lib.describe(f), f.severity, max_severity, object.get(object.get(input, "environment", {}), "name", "this environment")])
}

deny contains msg if {
	not lib.severity_rank[max_severity]
	msg := sprintf("parameter max_severity %v is not one of none, low, medium, high, critical", [max_severity])
}

deny contains msg if {
	u := lib.param("unknown_severity", "high")
	not lib.severity_rank[u]
	msg := sprintf("parameter unknown_severity %v is not one of none, low, medium, high, critical", [u])
}
