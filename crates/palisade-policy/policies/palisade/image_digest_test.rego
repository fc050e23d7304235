package palisade.image_digest_test

import data.palisade.image_digest as p

digest := "sha256:6666666666666666666666666666666666666666666666666666666666666666"

inp(reference) := {"artifact": {"name": "registry.example/app", "digest": digest, "reference": reference}}

test_digest_reference_passes if {
	count(p.deny) == 0 with input as inp(concat("@", ["registry.example/app", digest]))
}

test_tag_and_digest_passes if {
	count(p.deny) == 0 with input as inp(concat("@", ["registry.example/app:1.2", digest]))
}

test_tag_only_denies if {
	some msg in p.deny with input as inp("registry.example/app:1.2")
	contains(msg, "is not pinned by digest")
}

test_latest_denies if {
	count(p.deny) == 1 with input as inp("registry.example/app")
}

test_other_digest_denies if {
	other := "sha256:7777777777777777777777777777777777777777777777777777777777777777"
	some msg in p.deny with input as inp(concat("@", ["registry.example/app", other]))
	contains(msg, "but the artifact under decision is")
}

test_malformed_digest_denies if {
	count(p.deny) == 1 with input as inp("registry.example/app@sha256:abc")
}

test_unknown_reference_denies if {
	some msg in p.deny with input as {"artifact": {"name": "app", "digest": digest}}
	contains(msg, "reference is unknown")
}
