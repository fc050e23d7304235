#!/usr/bin/env bash
# Interoperability both ways with the in-toto reference implementation and
# securesystemslib, and verification speed beside them and sigstore-python.
#
# Usage: bench/attest/run.sh [SECONDS_PER_RATE]   (from the repository root)
#
# It creates bench/attest/.venv (git-ignored) with the reference packages from
# the package registry, builds Palisade in release mode with only the attest
# feature, then:
#   1. the reference signs DSSE envelopes (Ed25519, ECDSA P-256, RSA-PSS) and
#      `palisade verify attestation` checks them;
#   2. `palisade attest` signs with Palisade keys and the reference verifies;
#   3. the reference signs the in-toto demo layout with alice's key and
#      `palisade verify layout` checks it with the demo links (running the
#      inspection with the system tar), and the reverse: Palisade signs the
#      layout and the reference's in_toto_verify accepts it;
#   4. verifications per second for a DSSE envelope (Ed25519, ECDSA P-256)
#      and a Sigstore bundle, Palisade and the reference in the same run, and
#      the ratio.
# Exit status: 0 when every interop check passed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="${PALISADE_CORPUS:-$root/../shared/corpus}"
seconds="${1:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
venv="$here/.venv"
py="$venv/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ ! -d "$corpus/intoto" ]; then
  echo "SKIPPED: corpus not found at $corpus" >&2
  exit 0
fi

if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet in-toto securesystemslib sigstore
fi
"$venv/bin/pip" list 2>/dev/null | grep -i -E '^(in-toto|securesystemslib|sigstore|cryptography) ' || true

(cd "$root" && cargo build --quiet --release -p palisade --no-default-features --features attest \
  && cargo build --quiet --release -p palisade-attest --example attest_rate)
pal="$CARGO_TARGET_DIR/release/palisade"
rate="$CARGO_TARGET_DIR/release/examples/attest_rate"

failures=0
checks=0
check() { # name, command...
  local name="$1"; shift
  checks=$((checks + 1))
  if "$@" >"$work/out" 2>&1; then
    echo "PASS  $name"
  else
    echo "FAIL  $name"; sed 's/^/      /' "$work/out"; failures=$((failures + 1))
  fi
}
ref_verified() { "$py" "$here/peer.py" "$@" | grep -q '"verified": true'; }

echo "== reference signs, Palisade verifies (DSSE)"
for alg in ed25519 ecdsa rsa; do
  "$py" "$here/peer.py" sign-dsse "$alg" "$work/ref-$alg" >/dev/null
  check "dsse $alg" "$pal" verify attestation --key "$work/ref-$alg/key.pub" "$work/ref-$alg/envelope.json"
done

echo "== Palisade signs, reference verifies (DSSE)"
printf 'artifact\n' >"$work/artifact"
for alg in ed25519 ecdsa-p256 rsa; do
  "$pal" attest keygen --type "$alg" -o "$work/pal-$alg" 2>/dev/null
  "$pal" attest --subject "$work/artifact" --predicate-type test-result \
    --key "$work/pal-$alg" -o "$work/pal-$alg.dsse.json"
  check "dsse $alg" ref_verified verify-dsse "$work/pal-$alg.dsse.json" "$work/pal-$alg.pub"
done

echo "== in-toto demo layout, both ways"
demo="$corpus/intoto/demo_files"
product="$work/product"
mkdir -p "$product/scripts"
cp "$demo/foo.tar.gz" "$product/"
# The demo inspection runs `python ./scripts/tar xfz foo.tar.gz`; this
# stand-in helper runs the system tar.
printf "import subprocess, sys\nsys.exit(subprocess.call(['tar'] + sys.argv[1:]))\n" >"$product/scripts/tar"
"$py" "$here/peer.py" sign-layout "$demo" "$work/ref.layout" >/dev/null
check "reference-signed layout verifies in Palisade" env PATH="$venv/bin:$PATH" \
  "$pal" verify layout --layout "$work/ref.layout" --layout-key "$demo/alice.pub" \
  --links "$demo" --product "$product" --allow-inspections
"$pal" attest sign-layout --layout "$demo/demo.layout.template" --key "$demo/alice" \
  --expires 2099-01-01T00:00:00Z -o "$work/pal.layout"
check "Palisade-signed layout verifies in the reference" ref_verified verify-layout "$work/pal.layout" "$demo"
cp "$work/pal.layout" "$work/tampered.layout"
sed -i 's/"threshold":1/"threshold":2/' "$work/tampered.layout"
check "tampered layout fails in the reference too" bash -c "! $py $here/peer.py verify-layout $work/tampered.layout $demo | grep -q '\"verified\": true'"

echo "== verifications per second (${seconds}s each)"
ratio() { "$py" -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print(f\"{sys.argv[3]:<22} palisade {a['per_second']:>10.1f}/s   reference {b['per_second']:>9.1f}/s   ratio {a['per_second']/b['per_second']:>6.1f}x\")" "$1" "$2" "$3"; }
for alg in ed25519 ecdsa; do
  ours="$("$rate" dsse "$work/ref-$alg/envelope.json" "$work/ref-$alg/key.pub" "$seconds")"
  theirs="$("$py" "$here/peer.py" rate-dsse "$work/ref-$alg/envelope.json" "$work/ref-$alg/key.pub" "$seconds")"
  ratio "$ours" "$theirs" "dsse-$alg (securesystemslib)"
done
b="$corpus/sigstore/bundle-verify"
identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
issuer="https://token.actions.githubusercontent.com"
trust="$corpus/sigstore/trust/public-good-trusted_root.json"
ours="$("$rate" bundle "$b/happy-path-v0.3/bundle.sigstore.json" "$b/a.txt" "$trust" "$identity" "$issuer" "$seconds")"
theirs="$("$py" "$here/peer.py" rate-bundle "$b/happy-path-v0.3/bundle.sigstore.json" "$b/a.txt" "$trust" "$identity" "$issuer" "$seconds")"
ratio "$ours" "$theirs" "sigstore bundle v0.3 (sigstore-python)"

echo "interop: $((checks - failures)) passed, $failures failed"
exit $((failures > 0))
