#!/bin/sh
# The libFuzzer targets of fuzz/ replayed over their seed corpora
# (docs/security-checklist.md 35): each fuzz/seed_NAME.sh draws its inputs
# from the vectors ($JWTREV_VECTORS), each target runs once per seed through
# tests/fuzz_replay.c and aborts when one of its invariants breaks.
# ./dev fuzz mutates from the same seeds; this keeps the targets and the
# seeds working in every make check, and under ASan and UBSan in
# ./dev sanitize.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name | the fewest seeds the vectors give it (today: 1844, 62, 708)
while IFS='|' read -r name least; do
    "$top_srcdir/fuzz/seed_$name.sh" "$tmp/$name" >/dev/null
    ok $? "seed_$name.sh wrote its corpus"
    n=$(find "$tmp/$name" -type f | wc -l)
    [ "$n" -ge "$least" ]
    ok $? "seed_$name.sh: $n seeds from the vectors (at least $least)"
    out=$("$top_builddir/tests/fuzz_replay_$name" "$tmp/$name" 2>"$tmp/err")
    is "$?:$out" "0:$n inputs" "fuzz_$name: every seed replayed, no violation"
    [ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err"
done <<EOF
token|1500
json|50
keys|600
EOF
done_testing
