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
#   4. the in-toto demo supply chain fails, in Palisade and in the
#      reference alike, when a link, the product or the layout key is
#      tampered with (Palisade must name the check that failed);
#   5. verifications per second for a DSSE envelope (Ed25519, ECDSA P-256)
#      and a Sigstore bundle, Palisade and the reference in the same run, and
#      the ratio. Each rate is measured ROUNDS times (default 3), the two
#      implementations alternating, and the median is reported, since the
#      machine may be shared. The signature primitive alone (aws-lc in
#      Palisade, OpenSSL through `cryptography` in the reference) is timed
#      too: it bounds the DSSE ratio.
# Exit status: 0 when every interop check passed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="${PALISADE_CORPUS:-$root/../shared/corpus}"
seconds="${1:-3}"
rounds="${ROUNDS:-3}"
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

# The machine's cores are shared: build politely.
(cd "$root" && nice -n 10 cargo build --quiet --release -p palisade --no-default-features --features attest \
  && nice -n 10 cargo build --quiet --release -p palisade-attest --example attest_rate)
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
check "tampered layout fails in the reference too" bash -c "$py $here/peer.py verify-layout $work/tampered.layout $demo | grep -q '\"verified\": false'"

echo "== in-toto demo, DSSE layout and DSSE links (demo_dsse_files), both ways"
dsse_demo="$work/dsse-demo"
mkdir -p "$dsse_demo/scripts"
cp "$corpus/intoto/demo_dsse_files"/*.link "$demo/foo.tar.gz" "$demo/alice.pub" "$dsse_demo/"
cp "$product/scripts/tar" "$dsse_demo/scripts/"
"$py" "$here/peer.py" sign-layout-dsse "$demo" "$corpus/intoto/demo_dsse_files/demo.layout.template" "$work/ref-dsse.layout" >/dev/null
check "reference-signed DSSE layout verifies in Palisade (DSSE links)" env PATH="$venv/bin:$PATH" \
  "$pal" verify layout --layout "$work/ref-dsse.layout" --layout-key "$demo/alice.pub" \
  --links "$dsse_demo" --product "$dsse_demo" --allow-inspections
# `palisade attest sign-layout` takes an unsigned layout or a {"signed": ...}
# template; the DSSE template's payload is the unsigned layout.
"$py" -c "import json, base64, sys; sys.stdout.write(base64.b64decode(json.load(open(sys.argv[1]))['payload']).decode())" \
  "$corpus/intoto/demo_dsse_files/demo.layout.template" >"$work/dsse-unsigned.layout"
"$pal" attest sign-layout --dsse --layout "$work/dsse-unsigned.layout" --key "$demo/alice" \
  --expires 2099-01-01T00:00:00Z -o "$work/pal-dsse.layout"
check "Palisade-signed DSSE layout verifies in the reference (DSSE links)" ref_verified verify-layout "$work/pal-dsse.layout" "$dsse_demo"
# A DSSE link whose payload is edited (re-encoded, so still valid base64).
dsse_tampered="$work/dsse-tampered"
cp -r "$dsse_demo" "$dsse_tampered"
"$py" - "$dsse_tampered"/package.*.link <<'PY'
import base64, json, sys
d = json.load(open(sys.argv[1]))
d["payload"] = base64.b64encode(base64.b64decode(d["payload"]).replace(b"foo.py", b"bar.py")).decode()
json.dump(d, open(sys.argv[1], "w"))
PY
check "tampered DSSE link fails in Palisade (link-signature)" bash -c "env PATH=\"$venv/bin:\$PATH\" \"$pal\" verify layout \
  --layout \"$work/pal-dsse.layout\" --layout-key \"$demo/alice.pub\" --links \"$dsse_tampered\" --product \"$dsse_tampered\" \
  --allow-inspections 2>&1 | grep -q 'verification failed: link-signature (link package'"
check "tampered DSSE link fails in the reference" bash -c "\"$py\" \"$here/peer.py\" verify-layout \"$work/pal-dsse.layout\" \"$dsse_tampered\" | grep -q '\"verified\": false'"

echo "== in-toto demo supply chain, tampered (must fail in both)"
# Palisade must fail on the named check: `fails_on CHECK command...`.
fails_on() {
  local want="$1"; shift
  ! "$@" >"$work/fail.out" 2>&1 && grep -q "verification failed: $want" "$work/fail.out"
}
# The reference must run to the end and say no (a crash is not a failure).
ref_fails() { "$py" "$here/peer.py" "$@" | grep -q '"verified": false'; }
pal_layout() { # layout, key, links dir, product dir
  env PATH="$venv/bin:$PATH" "$pal" verify layout --layout "$1" --layout-key "$2" \
    --links "$3" --product "$4" --allow-inspections
}
# A scratch copy of the demo (links, product, alice.pub) for each tamper.
scratch() {
  local d="$work/tamper-$1"
  rm -rf "$d"; mkdir -p "$d/scripts"
  cp "$demo"/*.link "$demo/foo.tar.gz" "$demo/alice.pub" "$d/"
  cp "$product/scripts/tar" "$d/scripts/"
  echo "$d"
}
# A link: bob's write-code output renamed inside carl's signed package link.
t="$(scratch link)"
sed -i 's/foo\.py/bar.py/' "$t/package.2f89b927.link"
check "tampered link fails in Palisade (link-signature)" fails_on "link-signature (link package.2f89b927.link)" \
  pal_layout "$work/pal.layout" "$demo/alice.pub" "$t" "$t"
check "tampered link fails in the reference" ref_fails verify-layout "$work/pal.layout" "$t"
# A product corrupted so that the inspection itself fails.
t="$(scratch product-corrupt)"
printf 'x' >>"$t/foo.tar.gz"
check "corrupted product fails in Palisade (inspection)" fails_on "inspection (inspection untar)" \
  pal_layout "$work/pal.layout" "$demo/alice.pub" "$t" "$t"
check "corrupted product fails in the reference" ref_fails verify-layout "$work/pal.layout" "$t"
# A product rebuilt from a modified foo.py: a valid tarball. The corpus
# template has no DISALLOW rules, so (in the reference too) unmatched
# artifacts pass; the in-toto demo's own layout adds DISALLOW rules to the
# inspection, and with them both implementations must reject it.
"$py" - "$demo/demo.layout.template" "$work/strict.template" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
insp = d["signed"]["inspect"][0]
insp["expected_materials"].append(["DISALLOW", "foo.tar.gz"])
insp["expected_products"].append(["DISALLOW", "foo.py"])
json.dump(d, open(sys.argv[2], "w"))
PY
"$pal" attest sign-layout --layout "$work/strict.template" --key "$demo/alice" \
  --expires 2099-01-01T00:00:00Z -o "$work/strict.layout"
"$py" "$here/peer.py" sign-layout "$demo" "$work/ref-strict.layout" "$work/strict.template" >/dev/null
t="$(scratch product)"
mkdir "$t/x" && tar -xzf "$demo/foo.tar.gz" -C "$t/x" && printf '# tampered\n' >>"$t/x/foo.py"
tar -czf "$t/foo.tar.gz" -C "$t/x" foo.py && rm -rf "$t/x"
check "strict layout: untampered demo verifies in Palisade" pal_layout "$work/strict.layout" "$demo/alice.pub" "$demo" "$product"
check "strict layout (reference-signed): untampered demo verifies in Palisade" pal_layout "$work/ref-strict.layout" "$demo/alice.pub" "$demo" "$product"
check "strict layout: untampered demo verifies in the reference" ref_verified verify-layout "$work/strict.layout" "$demo"
check "strict layout: tampered product fails in Palisade (expected-materials)" fails_on "expected-materials (inspection untar)" \
  pal_layout "$work/strict.layout" "$demo/alice.pub" "$t" "$t"
check "strict layout: tampered product fails in the reference" ref_fails verify-layout "$work/strict.layout" "$t"
# A key: the layout checked against bob's key instead of alice's.
check "wrong layout key fails in Palisade (layout-signature)" fails_on "layout-signature" \
  pal_layout "$work/pal.layout" "$demo/bob.pub" "$demo" "$product"
check "wrong layout key fails in the reference" ref_fails verify-layout "$work/pal.layout" "$demo" "$demo/bob.pub"
# A key: a functionary key swapped in the (re-signed) layout.
"$py" - "$demo/demo.layout.template" "$work/swapped.template" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
keys = d["signed"]["keys"]
bob, carl = "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5", "2f89b9272acfc8f4a0a0f094d789fdb0ba798b0fe41f2f5f417c12f0085ff498"
keys[bob] = dict(keys[carl], keyid=bob)
json.dump(d, open(sys.argv[2], "w"))
PY
"$pal" attest sign-layout --layout "$work/swapped.template" --key "$demo/alice" \
  --expires 2099-01-01T00:00:00Z -o "$work/swapped.layout" 2>"$work/swapped.err" || true
if [ -s "$work/swapped.layout" ]; then
  check "swapped functionary key fails in Palisade (link-signature)" fails_on "link-signature (link write-code" \
    pal_layout "$work/swapped.layout" "$demo/alice.pub" "$demo" "$product"
  check "swapped functionary key fails in the reference" ref_fails verify-layout "$work/swapped.layout" "$demo"
else
  check "Palisade refuses to sign a layout whose key id does not match its key" grep -qi "key" "$work/swapped.err"
fi

echo "== verifications per second (${seconds}s each, median of ${rounds} alternating rounds)"
median() { "$py" -c "import json,sys,statistics; print(statistics.median(json.loads(l)['per_second'] for l in sys.stdin if l.strip()))"; }
# compare NAME 'palisade command' 'reference command'
compare() {
  local name="$1" ours="$2" theirs="$3" r
  : >"$work/ours" ; : >"$work/theirs"
  for r in $(seq "$rounds"); do
    eval "$ours" >>"$work/ours"
    eval "$theirs" >>"$work/theirs"
  done
  "$py" -c "
import sys
a, b = float(sys.argv[1]), float(sys.argv[2])
print(f'{sys.argv[3]:<44} palisade {a:>9.1f}/s   reference {b:>8.1f}/s   ratio {a/b:>5.1f}x')
" "$(median <"$work/ours")" "$(median <"$work/theirs")" "$name"
}
for alg in ed25519 ecdsa; do
  e="$work/ref-$alg/envelope.json" k="$work/ref-$alg/key.pub"
  compare "dsse-$alg (securesystemslib)" "\"$rate\" dsse $e $k $seconds" "\"$py\" \"$here/peer.py\" rate-dsse $e $k $seconds"
  compare "  primitive only: aws-lc vs OpenSSL" "\"$rate\" raw $e $k $seconds" "\"$py\" \"$here/peer.py\" rate-raw $e $k $seconds"
done
b="$corpus/sigstore/bundle-verify"
identity="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
issuer="https://token.actions.githubusercontent.com"
trust="$corpus/sigstore/trust/public-good-trusted_root.json"
args="$b/happy-path-v0.3/bundle.sigstore.json $b/a.txt $trust $identity $issuer $seconds"
compare "sigstore bundle v0.3 (sigstore-python)" "\"$rate\" bundle $args" "\"$py\" \"$here/peer.py\" rate-bundle $args"

echo "interop: $((checks - failures)) passed, $failures failed"
exit $((failures > 0))
