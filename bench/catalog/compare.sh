#!/usr/bin/env bash
# Compares Palisade's lockfile inventory with cdxgen's on the same inputs:
# the purl sets (normalised: percent-decoded, qualifiers and subpath
# dropped, since the tools add different qualifiers) and the wall time of one
# run each, with their ratio.
#
# cdxgen is installed from the npm registry into ./node_modules (git-ignored)
# on first use. Inputs are lockfiles that exist or can be produced without
# network access to anything but the package registries: this repository's
# own Cargo.lock, and a package-lock.json resolved by `npm install
# --package-lock-only` for a fixed package.json. Work files go to $WORK.
#
# Usage: bench/catalog/compare.sh            (from the repository root)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
WORK="${WORK:-/tmp/palisade-catalog-compare}"
mkdir -p "$WORK"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

if [ ! -x "$here/node_modules/.bin/cdxgen" ]; then
  npm install --no-audit --no-fund --prefix "$here" @cyclonedx/cdxgen >&2
fi
cargo build --release -p palisade-catalog --example inventory >&2
inv="$CARGO_TARGET_DIR/release/examples/inventory"

# Inputs: one directory per case, holding only the lockfile.
mkdir -p "$WORK/cargo" "$WORK/npm"
cp "$root/Cargo.lock" "$WORK/cargo/Cargo.lock"
if [ ! -f "$WORK/npm/package-lock.json" ]; then
  cat > "$WORK/npm/package.json" <<'JSON'
{"name": "compare", "version": "1.0.0",
 "dependencies": {"express": "4.19.2", "react": "18.3.1", "lodash": "4.17.21", "axios": "1.7.2"},
 "devDependencies": {"jest": "29.7.0", "typescript": "5.4.5"}}
JSON
  (cd "$WORK/npm" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund >&2)
fi

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

for case in cargo npm; do
  dir="$WORK/$case"
  lock=$(ls "$dir" | grep -E 'lock' | head -1)
  t0=$(date +%s.%N)
  "$inv" "$dir/$lock" --purls 2>/dev/null | normalise > "$WORK/$case.palisade.txt"
  t1=$(date +%s.%N)
  "$here/node_modules/.bin/cdxgen" -t "$case" --no-install-deps --no-recurse -o "$WORK/$case.cdx.json" "$dir" >/dev/null 2>&1 || true
  t2=$(date +%s.%N)
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for c in d.get("components", []):
    if c.get("purl"): print(c["purl"])' "$WORK/$case.cdx.json" | normalise > "$WORK/$case.cdxgen.txt"
  p=$(wc -l < "$WORK/$case.palisade.txt"); c=$(wc -l < "$WORK/$case.cdxgen.txt")
  both=$(comm -12 "$WORK/$case.palisade.txt" "$WORK/$case.cdxgen.txt" | wc -l)
  tp=$(python3 -c "print(f'{$t1-$t0:.3f}')"); tc=$(python3 -c "print(f'{$t2-$t1:.3f}')")
  ratio=$(python3 -c "print(f'{($t2-$t1)/max($t1-$t0,1e-9):.1f}')")
  echo "== $case/$lock: palisade $p purls in ${tp}s, cdxgen $c purls in ${tc}s (cdxgen/palisade = ${ratio}x), common $both"
  echo "   only palisade:"; comm -23 "$WORK/$case.palisade.txt" "$WORK/$case.cdxgen.txt" | sed 's/^/     /' | head -20
  echo "   only cdxgen:";   comm -13 "$WORK/$case.palisade.txt" "$WORK/$case.cdxgen.txt" | sed 's/^/     /' | head -20
done
