#!/usr/bin/env bash
# bench/pam.sh BUILD_DIR - one full pam_jwtrev authentication in-process
# through the real libpam under pam_wrapper: pam_authenticate (options,
# key loading, store opening, verification, lookup; target <= 1 ms) with
# the module held resident and with libpam loading it afresh each time
# (as a one-shot process such as su does), the whole pam_start .. pam_end
# around it, and jwtrev_verify alone with a preloaded key, for ES256 and
# RS256.  N per round from $BENCH_PAM_N (default 2000).
set -euo pipefail
build=$(cd "${1:?usage: bench/pam.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
n=${BENCH_PAM_N:-2000}
target_us=1000

make -s -C "$build" bench/bench_pam >&2
bench=$build/bench/bench_pam
module=$build/pam_jwtrev/.libs/pam_jwtrev.so
jwtrev=$build/cli/jwtrev
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT

/usr/bin/python3 "$src/tests/pam/jwtmaker.py" keys "$S/keys"
iss=https://id.example
/usr/bin/python3 "$src/tests/pam/jwtmaker.py" tokens "$S/keys" "$S/t" <<EOF2
es256|es256.key|ES256|{}|{"sub":"alice","iss":"$iss","aud":"bench","exp":"@+3600","iat":"@-5","jti":"b-1"}
rs256|rs2048.key|RS256|{}|{"sub":"alice","iss":"$iss","aud":"bench","exp":"@+3600","iat":"@-5","jti":"b-2"}
EOF2
"$jwtrev" --db "$S/db" init >/dev/null
# A store with entries, so that the lookup is a real one.
for i in $(seq 1 50); do
    "$jwtrev" --db "$S/db" revoke --jti "other-$i" --iss "$iss" >/dev/null
done
mkdir "$S/pam.d"
echo "auth required pam_deny.so" >"$S/pam.d/other"
declare -A key=([es256]=$S/keys/es256.pub [rs256]=$S/keys/rs2048.pub)
for alg in es256 rs256; do
    echo "auth required $module key=${key[$alg]} iss=$iss aud=bench db=$S/db" \
        >"$S/pam.d/bench-$alg"
done

verdict() { awk -v m="$1" -v t="$2" 'BEGIN { print (m <= t) ? "ok" : "over" }'; }

echo "## pam_jwtrev: one authentication in-process ($n per round, median of 5)"
echo
echo "| figure | target | measured | verdict |"
echo "|---|---|---|---|"
pam() { # service token [module]: "AUTH_US FULL_US"
    LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$S/pam.d" \
        "$bench" pam "$1" alice "$2" "$n" ${3:+"$3"}
}
for alg in es256 rs256; do
    ALG=${alg^^}
    read -r warm _ < <(pam "bench-$alg" "$S/t/$alg.jwt" "$module")
    read -r cold full < <(pam "bench-$alg" "$S/t/$alg.jwt")
    read -r vmed < <("$bench" verify "${key[$alg]}" "$S/t/$alg.jwt" "$((n * 5))")
    echo "| $ALG: pam_authenticate, module resident (options, keys, store, verify, lookup) | <= ${target_us} us | ${warm} us | $(verdict "$warm" $target_us) |"
    echo "| $ALG: pam_authenticate, module loaded afresh by each pam_start (adds first-touch page faults of the module and libdb) | <= ${target_us} us | ${cold} us | $(verdict "$cold" $target_us) |"
    echo "| $ALG: pam_start + pam_authenticate + pam_end, module loaded afresh (adds libpam's service file, dlopen, dlclose) | - | ${full} us | - |"
    echo "| $ALG: jwtrev_verify alone (key preloaded) | - | ${vmed} us | - |"
done
