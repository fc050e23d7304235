#!/usr/bin/env bash
# Differential test and speed comparison of Palisade's version ordering
# against Python references (`packaging` for PyPI, `univers` for the rest).
#
#   bench/versions/run.sh                 # builds the release binary first
#   PALISADE_CORPUS=/path bench/versions/run.sh
#   ONLY=PyPI,Maven bench/versions/run.sh  # a subset of ecosystems
#
# Creates a venv in bench/versions/.venv (git-ignored) with the references,
# then prints per-ecosystem agreement rates with the disagreements, and the
# reference's and Palisade's parse+compare rates with their ratio. Full
# disagreement lists go to $OUT (default: a temporary directory). See
# README.md beside this script for the recorded results and why each class
# of disagreement exists.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="${PALISADE_CORPUS:-$root/../shared/corpus}"
if [ ! -d "$corpus/versions" ]; then
  echo "SKIPPED: corpus not found at $corpus" >&2
  exit 0
fi
target="${CARGO_TARGET_DIR:-$root/target}"
out="${OUT:-$(mktemp -d)}"

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check packaging univers

# The version command needs no optional capability.
(cd "$root" && cargo build --release -p palisade --no-default-features) >&2
bin="$target/release/palisade"

args=(--palisade "$bin" --corpus "$corpus" --out "$out")
if [ -n "${ONLY:-}" ]; then
  args+=(--only "$ONLY")
fi
"$venv/bin/python" "$here/differential.py" "${args[@]}"
