# Images are referenced by digest, not by tag.
#
# `input.artifact.reference` (the reference as written in the deployment)
# must end in `@sha256:<hex>` (or `@sha384:`/`@sha512:`) and that digest must
# be the artifact's digest. A reference with both a tag and a digest
# (`app:1.2@sha256:...`) is pinned and passes. An unknown reference denies.
package palisade.image_digest

metadata := {"title": "Images by digest, not tag"}

pinned_digest := d if {
	parts := split(input.artifact.reference, "@")
	count(parts) == 2
	d := parts[1]
	regex.match(`^sha(256:[0-9a-f]{64}|384:[0-9a-f]{96}|512:[0-9a-f]{128})$`, d)
}

deny contains msg if {
	not input.artifact.reference
	msg := "the artifact's reference is unknown, so it cannot be shown to be pinned by digest"
}

deny contains msg if {
	input.artifact.reference
	not pinned_digest
	msg := sprintf("%s is not pinned by digest; use %s@%s", [input.artifact.reference, input.artifact.name, input.artifact.digest])
}

deny contains msg if {
	pinned_digest
	pinned_digest != input.artifact.digest
	msg := sprintf("%s pins %s, but the artifact under decision is %s", [input.artifact.reference, pinned_digest, input.artifact.digest])
}
