#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - run every benchmark part in order and print its
# table.  Parts: verify (library vs raw OpenSSL), store (lookups, revoke,
# load, size), apache (wrk: module vs no auth vs mod_auth_openidc), pam
# (pam_authenticate in-process).  Figures are medians of runs interleaved
# within this one invocation; compare ratios, not lone absolute times.
set -euo pipefail
build=$(cd "${1:?usage: bench/run.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export JWTREV_BUILD=$build JWTREV=$build/cli/jwtrev
echo "# jwtrev benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
rc=0
for part in verify store jwtrevd fleet apache pam; do
    [ -x "$here/$part.sh" ] || continue
    echo
    "$here/$part.sh" "$build" || { echo "bench part '$part' failed" >&2; rc=1; }
done
exit $rc
