package palisade.vulnerabilities_test

import data.palisade.vulnerabilities as p

finding(id, severity, kev, fix, fix_age) := {
	"id": id,
	"aliases": [],
	"severity": severity,
	"kev": kev,
	"fix_available": fix,
	"fixed_versions": ["1.2.4"],
	"fix_age_days": fix_age,
	"package": {"name": "openssl", "version": "1.2.3"},
}

inp(findings, params) := {
	"artifact": {"name": "app", "digest": "sha256:00"},
	"findings": findings,
	"environment": {"name": "prod", "params": params},
}

test_clean_passes if {
	count(p.deny) == 0 with input as inp([], {})
}

test_kev_denies_whatever_the_severity if {
	some v in p.deny with input as inp([finding("CVE-2024-1", "low", true, false, 0)], {})
	v.vulnerability == "CVE-2024-1"
	contains(v.msg, "Known Exploited")
}

test_critical_with_old_fix_denies if {
	some v in p.deny with input as inp([finding("CVE-2024-2", "critical", false, true, 45)], {})
	v.vulnerability == "CVE-2024-2"
	contains(v.msg, "available for 45 days, more than 30 days")
}

test_critical_within_grace_passes if {
	count(p.deny) == 0 with input as inp([finding("CVE-2024-2", "critical", false, true, 30)], {})
}

test_grace_is_a_parameter if {
	count(p.deny) == 1 with input as inp([finding("CVE-2024-2", "critical", false, true, 10)], {"critical_fix_grace_days": 7})
}

test_critical_without_fix_passes if {
	count(p.deny) == 0 with input as inp([finding("CVE-2024-3", "critical", false, false, 400)], {})
}

test_high_with_old_fix_passes if {
	count(p.deny) == 0 with input as inp([finding("CVE-2024-4", "high", false, true, 400)], {})
}

test_unknown_fix_age_fails_closed if {
	f := object.remove(finding("CVE-2024-5", "critical", false, true, 0), ["fix_age_days"])
	some v in p.deny with input as inp([f], {})
	contains(v.msg, "an unknown time")
}

test_age_days_is_the_fallback if {
	f := object.union(object.remove(finding("CVE-2024-6", "critical", false, true, 0), ["fix_age_days"]), {"age_days": 5})
	count(p.deny) == 0 with input as inp([f], {})
}

test_bad_parameter_denies if {
	some msg in p.deny with input as inp([], {"critical_fix_grace_days": "thirty"})
	contains(msg, "must be a number")
}
