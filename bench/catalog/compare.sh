#!/usr/bin/env bash
# Compares Palisade's lockfile inventory with cdxgen's on the same inputs:
# the purl sets (normalised: percent-decoded, qualifiers and subpath
# dropped, since the tools add different qualifiers) and the wall time of one
# run each, with their ratio. Every purl found by one tool only is printed
# with its explanation; a difference the script cannot explain is counted as
# "unexplained" and makes the script exit 1.
#
# cdxgen (pinned: $CDXGEN_VERSION) is installed with npm into ./node_modules
# (git-ignored, as are the package.json and package-lock.json npm writes
# beside it) on first use. Inputs are lockfiles that exist or can be produced
# without network access to anything but the package registries: this
# repository's own Cargo.lock, a package-lock.json resolved by `npm install
# --package-lock-only` for a fixed package.json, and a fixed pinned
# requirements.txt. Work files go to $WORK.
#
# Times: "palisade" is the wall time of the `inventory` example process
# (start-up included; its in-process inventory time is printed too),
# "cdxgen" the wall time of the cdxgen process (Node start-up included).
#
# Usage: bench/catalog/compare.sh            (from anywhere)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
WORK="${WORK:-/tmp/palisade-catalog-compare}"
CDXGEN_VERSION="${CDXGEN_VERSION:-12.8.4}"
mkdir -p "$WORK"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

cdxgen="$here/node_modules/.bin/cdxgen"
if [ ! -x "$cdxgen" ] || ! grep -q "\"version\": \"$CDXGEN_VERSION\"" \
    "$here/node_modules/@cyclonedx/cdxgen/package.json" 2>/dev/null; then
  npm install --no-audit --no-fund --prefix "$here" "@cyclonedx/cdxgen@$CDXGEN_VERSION" >&2
fi
cargo build --release -p palisade-catalog --example inventory >&2
inv="$CARGO_TARGET_DIR/release/examples/inventory"

# Inputs: one directory per case, holding only the lockfile.
mkdir -p "$WORK/cargo" "$WORK/npm" "$WORK/python"
cp "$root/Cargo.lock" "$WORK/cargo/Cargo.lock"
if [ ! -f "$WORK/npm/package-lock.json" ]; then
  cat > "$WORK/npm/package.json" <<'JSON'
{"name": "compare", "version": "1.0.0",
 "dependencies": {"express": "4.19.2", "react": "18.3.1", "lodash": "4.17.21", "axios": "1.7.2"},
 "devDependencies": {"jest": "29.7.0", "typescript": "5.4.5"}}
JSON
  (cd "$WORK/npm" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund >&2)
fi
# Pinned requirements, spelled as people write them (mixed case, `_`, `.`).
cat > "$WORK/python/requirements.txt" <<'REQ'
Django==4.2.11
requests==2.31.0
charset_normalizer==3.3.2
idna==3.6
urllib3==2.2.1
certifi==2024.2.2
PyYAML==6.0.1
zope.interface==6.2
asgiref==3.7.2
sqlparse==0.4.4
Jinja2==3.1.3
MarkupSafe==2.1.5
typing_extensions==4.10.0
REQ

normalise() {
  # Percent-decode, drop qualifiers/subpath, sort, unique.
  python3 -c '
import sys, urllib.parse
out = set()
for line in sys.stdin:
    p = line.strip()
    if not p.startswith("pkg:"):
        continue
    p = p.split("#")[0].split("?")[0]
    out.add(urllib.parse.unquote(p))
print("\n".join(sorted(out)))'
}

# Explains each purl found by one tool only. Known, deliberate differences:
# - pypi names: Palisade writes the PEP 503 normal form (runs of `-`, `_`,
#   `.` become `-`, lower case), cdxgen the purl-spec form (lower case, `_`
#   to `-`, dots kept); `zope.interface` vs `zope-interface` is one package.
# Anything else is printed as unexplained.
explain() {
  python3 - "$1" "$2" <<'PY'
import re, sys
pal = set(filter(None, open(sys.argv[1]).read().split("\n")))
cdx = set(filter(None, open(sys.argv[2]).read().split("\n")))
def pep503(p):
    m = re.match(r"pkg:pypi/([^@]+)(@.*)?$", p)
    if not m:
        return p
    return "pkg:pypi/" + re.sub(r"[-_.]+", "-", m.group(1)).lower() + (m.group(2) or "")
only_p, only_c = sorted(pal - cdx), sorted(cdx - pal)
cdx_keys = {pep503(p): p for p in only_c}
unexplained = 0
explained_c = set()
for p in only_p:
    other = cdx_keys.get(pep503(p))
    if other is not None and p.startswith("pkg:pypi/"):
        print(f"     {p}  ~ cdxgen {other}: same package, PEP 503 name normalisation")
        explained_c.add(other)
    else:
        print(f"     only palisade: {p}  UNEXPLAINED")
        unexplained += 1
for c in only_c:
    if c not in explained_c:
        print(f"     only cdxgen: {c}  UNEXPLAINED")
        unexplained += 1
print(f"   differences: {len(only_p)} only palisade, {len(only_c)} only cdxgen, {unexplained} unexplained")
sys.exit(1 if unexplained else 0)
PY
}

status=0
for case in cargo npm python; do
  dir="$WORK/$case"
  lock=$(ls "$dir" | grep -E 'lock|requirements' | grep -v '^package.json$' | head -1)
  t0=$(date +%s.%N)
  "$inv" "$dir/$lock" --purls >"$WORK/$case.palisade.raw" 2>"$WORK/$case.palisade.err"
  t1=$(date +%s.%N)
  normalise < "$WORK/$case.palisade.raw" > "$WORK/$case.palisade.txt"
  if ! "$cdxgen" -t "$case" --no-install-deps --no-recurse -o "$WORK/$case.cdx.json" "$dir" \
      >"$WORK/$case.cdxgen.log" 2>&1; then
    echo "cdxgen failed on $case; see $WORK/$case.cdxgen.log" >&2
    status=1
  fi
  t2=$(date +%s.%N)
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for c in d.get("components", []):
    if c.get("purl"): print(c["purl"])' "$WORK/$case.cdx.json" | normalise > "$WORK/$case.cdxgen.txt"
  p=$(grep -c . "$WORK/$case.palisade.txt" || true); c=$(grep -c . "$WORK/$case.cdxgen.txt" || true)
  both=$(comm -12 "$WORK/$case.palisade.txt" "$WORK/$case.cdxgen.txt" | grep -c . || true)
  inproc=$(grep -o 'elapsed_ms=[0-9.]*' "$WORK/$case.palisade.err" | cut -d= -f2)
  tp=$(python3 -c "print(f'{$t1-$t0:.3f}')"); tc=$(python3 -c "print(f'{$t2-$t1:.3f}')")
  ratio=$(python3 -c "print(f'{($t2-$t1)/max($t1-$t0,1e-9):.1f}')")
  echo "== $case/$lock: palisade $p purls in ${tp}s (inventory ${inproc} ms in process), cdxgen $c purls in ${tc}s (cdxgen/palisade = ${ratio}x), common $both"
  explain "$WORK/$case.palisade.txt" "$WORK/$case.cdxgen.txt" || status=1
done
exit $status
