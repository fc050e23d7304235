# No component under a denied licence.
#
# `denied_licenses` lists SPDX licence ids. A component's licence is an SPDX
# expression; it is denied when every alternative of its top-level `OR`
# contains a denied id (so `MIT OR GPL-3.0-only` is allowed: MIT can be
# chosen, while `MIT AND GPL-3.0-only` is denied). Parentheses are not
# parsed: `OR` inside parentheses is treated as top-level, which can only
# allow a choice the expression really offers or, within an `AND`, miss a
# forced denied id; write ids to deny precisely. An input without an SBOM
# summary denies, since licences cannot then be checked.
#
# With `require_license_info: true`, components without any licence warn.
package palisade.license

import data.palisade.lib

metadata := {
	"title": "Licence deny-list",
	"params": ["denied_licenses", "require_license_info"],
}

denied := {lower(id) | some id in lib.param("denied_licenses", [])}

ids(expression) := {lower(t) |
	some t in regex.find_n(`[A-Za-z0-9.+:-]+`, expression, -1)
	not t in {"AND", "OR", "WITH", "and", "or", "with"}
}

alternatives(expression) := regex.split(`[ \t]+OR[ \t]+`, expression)

# A cheap necessary condition, checked first: a denied expression contains a
# denied id, so its lower-case text does. The regular expressions below are
# otherwise run on every licence of every component, which made them the
# largest cost of a decision on a 300-component SBOM.
mentions_denied(lowered) if {
	some id in denied
	contains(lowered, id)
}

expression_denied(expression) if {
	mentions_denied(lower(expression))
	every alternative in alternatives(expression) {
		some id in ids(alternative)
		id in denied
	}
}

deny contains msg if {
	not input.sbom
	msg := "the input has no SBOM summary, so licences cannot be checked"
}

# The distinct licence expressions of the SBOM, and those denied: an SBOM
# has hundreds of components but few distinct expressions, so each one is
# examined once, and the components are only walked again when one is
# denied.
expressions contains expression if {
	some c in input.sbom.components
	some expression in c.licenses
}

denied_expressions contains expression if {
	some expression in expressions
	expression_denied(expression)
}

deny contains {"msg": msg, "severity": "high", "component": c.name} if {
	count(denied_expressions) > 0
	some c in input.sbom.components
	some expression in c.licenses
	expression in denied_expressions
	msg := sprintf("%s@%s is licensed %s, which the deny-list excludes", [c.name, object.get(c, "version", "?"), expression])
}

warn contains {"msg": msg, "severity": "low", "component": c.name} if {
	lib.param("require_license_info", false) == true
	some c in input.sbom.components
	count(object.get(c, "licenses", [])) == 0
	msg := sprintf("%s@%s declares no licence", [c.name, object.get(c, "version", "?")])
}
