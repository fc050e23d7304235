#!/usr/bin/env bash
# End-to-end timing of `palisade scan` (store open included) on the largest
# corpus CycloneDX SBOM, against a store holding the whole OSV corpus.
#
#   bench/advisory/scan.sh            # builds the release binary first
#   PALISADE_CORPUS=/path bench/advisory/scan.sh
#
# Prints the import time, the store size, and the wall time of each of
# RUNS scans (default 10) with the median. Target: < 0.5 s per scan.
set -euo pipefail

here="$(cd "$(dirname "$0")/../.." && pwd)"
corpus="${PALISADE_CORPUS:-$here/../shared/corpus}"
if [ ! -d "$corpus/osv" ]; then
  echo "SKIPPED: corpus not found at $corpus" >&2
  exit 0
fi
target="${CARGO_TARGET_DIR:-$here/target}"
runs="${RUNS:-10}"

cargo build --release -p palisade --no-default-features --features advisory,sbom >&2
bin="$target/release/palisade"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT

start=$(date +%s.%N)
"$bin" --data-dir "$data" db import "$corpus/osv/Go" "$corpus/osv/PyPI" "$corpus/osv/crates.io" "$corpus/osv/npm" >/dev/null
end=$(date +%s.%N)
records=$("$bin" --data-dir "$data" --format json db status | sed -n 's/.*"advisories": \([0-9]*\).*/\1/p' | head -1)
echo "import: $records records in $(echo "$end - $start" | bc) s"
du -h "$data/advisories/store.v1" | awk '{print "store: " $1}'

sbom="$corpus/sbom/cyclonedx/juice-shop/v11.1.2/bom.json"
times=()
for _ in $(seq "$runs"); do
  s=$(date +%s.%N)
  "$bin" --data-dir "$data" scan "$sbom" -o json >/dev/null
  e=$(date +%s.%N)
  times+=("$(echo "$e - $s" | bc)")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "scan juice-shop (%d runs): min %.3f s, median %.3f s, max %.3f s\n", NR, a[1], a[int((NR+1)/2)], a[NR]}'
