package palisade.lib_test

import data.palisade.lib

test_matches_exact_and_prefix if {
	lib.matches("https://a/b", "https://a/b")
	lib.matches("https://a/b/c@v1", "https://a/b/*")
	lib.matches("ci@acme.example", "*@acme.example")
	not lib.matches("https://a/bc", "https://a/b")
	not lib.matches("https://x/b", "https://a/*")
}

test_repository_normalisation if {
	lib.repository("git+https://github.com/acme/app@refs/heads/main") == "https://github.com/acme/app"
	lib.repository("https://github.com/acme/app.git") == "https://github.com/acme/app"
	lib.repository("git+https://github.com/acme/app@0123456789abcdef0123456789abcdef01234567") == "https://github.com/acme/app"
	lib.repository("https://github.com/acme/app/") == "https://github.com/acme/app"
}

test_param_falls_back if {
	lib.param("x", 5) == 5 with input as {}
	lib.param("x", 5) == 7 with input as {"environment": {"name": "dev", "params": {"x": 7}}}
}

test_unknown_severity_rank if {
	lib.rank("unknown") == 3 with input as {}
	lib.rank("unknown") == 4 with input as {"environment": {"params": {"unknown_severity": "critical"}}}
	lib.rank("critical") == 4
}

test_covers_artifact if {
	lib.covers_artifact({"subject": [{"name": "x", "digest": {"sha256": "ab"}}]}) with input as {"artifact": {"digest": "sha256:ab"}}
	not lib.covers_artifact({"subject": [{"name": "x", "digest": {"sha256": "cd"}}]}) with input as {"artifact": {"digest": "sha256:ab"}}
	not lib.covers_artifact({"subject": [{"name": "x", "digest": {"sha512": "ab"}}]}) with input as {"artifact": {"digest": "sha256:ab"}}
}

test_artifact_digest_parts if {
	lib.artifact_alg == "sha256" with input as {"artifact": {"digest": "sha256:ab"}}
	lib.artifact_hex == "ab" with input as {"artifact": {"digest": "sha256:ab"}}
	lib.artifact_alg == "ab" with input as {"artifact": {"digest": "ab"}}
	not lib.artifact_hex with input as {"artifact": {"digest": "ab"}}
	not lib.artifact_alg with input as {}
	not lib.artifact_hex with input as {}
	not lib.covers_artifact({"subject": [{"name": "x", "digest": {"ab": "ab"}}]}) with input as {"artifact": {"digest": "ab"}}
}
