#!/usr/bin/env bash
# Entry point for the sigstore-conformance suite's client protocol: it calls
# `ENTRYPOINT verify-bundle --bundle FILE (--certificate-identity ID
# --certificate-oidc-issuer URL | --key PEM) [--trusted-root FILE] [--staging]
# FILE_OR_DIGEST`. Verification is offline; signing is not supported.
set -euo pipefail
palisade="${PALISADE_BIN:-palisade}"
cmd="${1:-}"
shift || true
case "$cmd" in
  verify-bundle) exec "$palisade" verify bundle "$@" ;;
  *) echo "unsupported conformance command: $cmd (only verify-bundle is offered)" >&2; exit 2 ;;
esac
