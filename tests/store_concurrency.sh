#!/bin/sh
# Several reader processes look tokens up in a loop while two writers
# revoke them one by one with `jwtrev revoke` (and compact now and then).
# Each revocation must be visible to every reader as soon as the writing
# command returns: no reader may answer "not revoked" in a check that
# started after the writer returned.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
S=$tmp/store
READER=$top_builddir/tests/store_reader
N=40        # ids c0..c39
READERS=4

[ -x "$READER" ]
ok $? "the reader program is built"
"$JWTREV" --db "$S" init >/dev/null
ok $? "init"

for r in $(seq 1 $READERS); do
    "$READER" watch "$S" $N 60 >"$tmp/reader.$r" 2>"$tmp/reader.$r.err" &
    pids="$pids $!"
done
sleep 0.5

# writer FIRST: revoke c<FIRST>, c<FIRST+2>, ...; log "ID ACK_NS" after
# each command returned.
writer() {
    i=$1
    while [ "$i" -lt $N ]; do
        "$JWTREV" --db "$S" revoke --jti "c$i" --iss t >/dev/null || return 1
        echo "c$i $(date +%s%N)" >>"$tmp/acks.$1"
        [ $((i % 10)) -eq 9 ] && { "$JWTREV" --db "$S" compact >/dev/null || return 1; }
        i=$((i + 2))
    done
}
writer 0 &
w0=$!
writer 1 &
w1=$!
wait $w0
ok $? "writer of the even ids"
wait $w1
ok $? "writer of the odd ids"
for p in $pids; do
    wait "$p"
done
pids=""
cat "$tmp"/acks.* >"$tmp/acks"
is "$(wc -l <"$tmp/acks")" $N "$N acknowledged revocations"

for r in $(seq 1 $READERS); do
    is "$(sed -n 's/^errors //p' "$tmp/reader.$r")" 0 "reader $r: no store errors"
    # ID LAST_NEG FIRST_POS joined with ID ACK.
    awk 'NR == FNR { ack[$1] = $2; next }
         $1 in ack {
             seen++
             if ($3 == 0) { print "never saw " $1; bad++ }
             else if ($2 >= ack[$1]) {
                 print $1 ": not revoked in a check started " \
                     ($2 - ack[$1]) / 1000 " us after the writer returned"
                 bad++
             }
             lag = $3 - ack[$1]
             if (lag > max) max = lag
         }
         END {
             printf "# reader: %d ids, latest first sighting %.0f us after the ack\n", seen, max / 1000
             exit (seen == '$N' && bad == 0) ? 0 : 1
         }' "$tmp/acks" "$tmp/reader.$r" >"$tmp/check.$r"
    st=$?
    cat "$tmp/check.$r" | sed 's/^\([^#]\)/# \1/'
    ok $st "reader $r saw every revocation as soon as its writer returned"
done

done_testing
