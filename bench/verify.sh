#!/usr/bin/env bash
# bench/verify.sh BUILD_DIR - per-token cost of jwtrev_verify with a
# pre-loaded key next to the raw OpenSSL EVP verification of the same
# signature, for HS256, RS256-2048, PS256-2048, ES256, ES384, EdDSA
# (Ed25519 and Ed448) and ES256K (target: ours <= raw + 3 us).
# BENCH_QUICK=1 for a short run.
set -euo pipefail
build=$(cd "${1:?usage: bench/verify.sh BUILD_DIR}" && pwd)
make -C "$build" -s bench/bench_verify >&2
args=(-r 7 -m 200)
[ "${BENCH_QUICK:-0}" = 1 ] && args=(-r 3 -m 40)
echo "## verify: jwtrev_verify next to raw OpenSSL (per token)"
echo
"$build/bench/bench_verify" "${args[@]}"
