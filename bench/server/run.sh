#!/usr/bin/env bash
# The platform server end to end, on SQLite and on PostgreSQL: SBOM ingest
# rate through the API, the time from one new advisory to updated findings
# across the portfolio, and admission webhook latency (p50/p99) under
# concurrent clients. The portfolio is built from the corpus SBOMs.
#
# Usage: bench/server/run.sh [--artifacts N] [--clients C] [--reviews R]
#          [--rate PER_S] [--new-advisories K] [--sqlite FILE]
#   (options: crates/palisade-server/examples/bench_server.rs);
#   RUST_LOG=warn,palisade_server::analysis=info logs where each
#   re-analysis spends its time.
#   PALISADE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres adds
#   the PostgreSQL run; PALISADE_CORPUS points at the corpus (default
#   ../shared/corpus).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PALISADE_CORPUS="${PALISADE_CORPUS:-$(cd "$root/.." && pwd)/shared/corpus}"
if [ ! -d "$PALISADE_CORPUS/sbom" ]; then
  echo "SKIPPED: no corpus at $PALISADE_CORPUS" >&2
  exit 0
fi
cd "$root"
cargo run --release --quiet -p palisade-server --example bench_server -- \
  --corpus "$PALISADE_CORPUS" "$@"
