# No KEV-listed vulnerability, and no critical vulnerability whose fix has
# been available for longer than `critical_fix_grace_days` (default 30).
#
# The fix's age is `fix_age_days` when the fix date is known, else
# `age_days` (days since the advisory was published); when neither is known
# the grace period is taken as exceeded (fail closed). Each violation names
# its vulnerability, so an exception can waive exactly one.
package palisade.vulnerabilities

import data.palisade.lib

metadata := {
	"title": "No known-exploited vulnerability; no critical one with an old fix",
	"params": ["critical_fix_grace_days"],
}

grace_days := lib.param("critical_fix_grace_days", 30)

deny contains {"msg": msg, "severity": "critical", "vulnerability": f.id} if {
	some f in input.findings
	f.kev == true
	msg := sprintf("%s is listed in CISA's Known Exploited Vulnerabilities catalogue", [lib.describe(f)])
}

deny contains {"msg": msg, "severity": "critical", "vulnerability": f.id} if {
	some f in input.findings
	f.severity == "critical"
	f.fix_available == true
	not within_grace(f)
	msg := sprintf("%s is critical and its fix (%s) has been available for %s, more than %d days", [lib.describe(f), fixes(f), fix_age_text(f), grace_days])
}

within_grace(f) if fix_age(f) <= grace_days

fix_age(f) := f.fix_age_days

fix_age(f) := f.age_days if not f.fix_age_days

fix_age_text(f) := sprintf("%d days", [fix_age(f)]) if fix_age(f)

fix_age_text(f) := "an unknown time" if not fix_age(f)

fixes(f) := concat(", ", f.fixed_versions) if count(f.fixed_versions) > 0

fixes(f) := "version unknown" if count(object.get(f, "fixed_versions", [])) == 0

deny contains msg if {
	not is_number(grace_days)
	msg := sprintf("parameter critical_fix_grace_days must be a number, not %v", [grace_days])
}
