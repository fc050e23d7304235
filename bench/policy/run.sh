#!/usr/bin/env bash
# Decision latency of the built-in policy library on a realistic input
# (500 findings, 5 attestations, 300 components), in-process with regorus,
# and the same policies and input in Microsoft's rego-cpp (PyPI `regopy`),
# in the same run. Prints p50/p99 of both and the ratio.
#
# Usage: bench/policy/run.sh            (from the repository root)
# Needs: cargo, python3 with venv; installs regopy into bench/policy/.venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/out"
mkdir -p "$out"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

echo "== machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "== palisade (regorus, in-process)"
( cd "$root" && PALISADE_BENCH_OUT="$out" cargo bench -p palisade-policy --bench decide -- --warm-up-time 1 --measurement-time 3 )

echo "== exporting the built-in library"
rm -rf "$out/library"
mkdir -p "$out/library"
( cd "$root/crates/palisade-policy/policies" && cp -r palisade "$out/library/" )

echo "== rego-cpp (regopy), same policies, same input"
if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet --upgrade regopy
"$here/.venv/bin/python" "$here/regocpp.py" "$out"
