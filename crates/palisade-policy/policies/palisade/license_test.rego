package palisade.license_test

import data.palisade.license as p

comp(name, licenses) := {"name": name, "version": "1.0", "licenses": licenses}

inp(components, params) := {
	"artifact": {"name": "app", "digest": "sha256:00"},
	"sbom": {"format": "CycloneDX", "component_count": count(components), "components": components},
	"environment": {"name": "prod", "params": params},
}

deny_list := {"denied_licenses": ["GPL-3.0-only", "AGPL-3.0-or-later"]}

test_permissive_passes if {
	count(p.deny) == 0 with input as inp([comp("a", ["MIT"]), comp("b", ["Apache-2.0"])], deny_list)
}

test_denied_licence_denies if {
	some v in p.deny with input as inp([comp("a", ["GPL-3.0-only"])], deny_list)
	v.component == "a"
	contains(v.msg, "a@1.0 is licensed GPL-3.0-only")
}

test_case_is_ignored if {
	count(p.deny) == 1 with input as inp([comp("a", ["agpl-3.0-or-later"])], deny_list)
}

test_or_with_an_allowed_choice_passes if {
	count(p.deny) == 0 with input as inp([comp("a", ["MIT OR GPL-3.0-only"])], deny_list)
}

test_and_with_a_denied_id_denies if {
	count(p.deny) == 1 with input as inp([comp("a", ["MIT AND GPL-3.0-only"])], deny_list)
}

test_or_of_denied_ids_denies if {
	count(p.deny) == 1 with input as inp([comp("a", ["GPL-3.0-only OR AGPL-3.0-or-later"])], deny_list)
}

test_similar_ids_do_not_match if {
	count(p.deny) == 0 with input as inp([comp("a", ["GPL-3.0-or-later", "LGPL-3.0-only"])], deny_list)
}

test_no_sbom_denies if {
	some msg in p.deny with input as {"artifact": {"name": "app", "digest": "sha256:00"}}
	contains(msg, "no SBOM summary")
}

test_empty_deny_list_allows_everything if {
	count(p.deny) == 0 with input as inp([comp("a", ["GPL-3.0-only"])], {})
}

test_missing_licence_warns_only_when_required if {
	count(p.warn) == 0 with input as inp([comp("a", [])], deny_list)
	some w in p.warn with input as inp([comp("a", [])], object.union(deny_list, {"require_license_info": true}))
	contains(w.msg, "declares no licence")
}
