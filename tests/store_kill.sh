#!/bin/sh
# The kill test (docs/design.md 4): a bulk writer killed with SIGKILL at
# random moments, many times, while reader processes (two threads each)
# look tokens up.  No reader may block (a watchdog in each ends it if a
# check takes 5 s) or answer wrongly; the store must keep working; every
# revocation the writer acknowledged must be there afterwards.  A reader
# is killed now and then too: that must not matter to anyone.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
S=$tmp/store
READER=$top_builddir/tests/store_reader
WRITER=$top_builddir/tests/store_writer
SECONDS_MAX=30
KILLS_MAX=100
READ_SECONDS=$((SECONDS_MAX + 6))

[ -x "$READER" ] && [ -x "$WRITER" ]
ok $? "the reader and writer programs are built"

# p0..p99 (issuer k) revoked, n0..n99 never; 20000 more so that a base
# rewrite takes a while and kills land inside them too.
"$JWTREV" --db "$S" init >/dev/null &&
    awk 'BEGIN {
        for (i = 0; i < 100; i++)
            printf "{\"kind\":\"token\",\"iss\":\"k\",\"jti\":\"p%d\"}\n", i
        for (i = 0; i < 20000; i++)
            printf "{\"kind\":\"token\",\"iss\":\"f\",\"jti\":\"f%d\",\"until\":4000000000}\n", i
    }' | "$JWTREV" --db "$S" load >/dev/null
ok $? "a store of 20100 entries"

# rand_ms LOW SPAN: a random number of milliseconds in [LOW, LOW+SPAN).
rand_ms() {
    echo $(($1 + $(od -An -N2 -tu2 /dev/urandom) % $2))
}

for r in 1 2 3; do
    "$READER" hammer "$S" $READ_SECONDS >"$tmp/reader.$r" 2>"$tmp/reader.$r.err" &
    eval "reader_$r=$!"
    pids="$pids $!"
done

kills=0
reader_kills=0
midwrite=0
start=$(date +%s)
while [ $kills -lt $KILLS_MAX ] && [ $(($(date +%s) - start)) -lt $SECONDS_MAX ]; do
    "$WRITER" "$S" $((kills * 1000000)) 1000000 >"$tmp/acks.$kills" 2>>"$tmp/writer.err" &
    w=$!
    ms=$(rand_ms 20 330)
    sleep "$(printf '0.%03d' "$ms")"
    kill -9 $w 2>/dev/null && kills=$((kills + 1))
    wait $w 2>/dev/null
    ls "$S" | grep -q '\.tmp\.' && midwrite=$((midwrite + 1))
    if [ $((kills % 25)) -eq 24 ]; then
        # A reader killed mid-lookup; its replacement must work at once.
        eval "kill -9 \$reader_3"
        reader_kills=$((reader_kills + 1))
        "$READER" hammer "$S" $((READ_SECONDS - $(date +%s) + start)) \
            >"$tmp/reader.3b.$reader_kills" 2>&1 &
        eval "reader_3=$!"
        pids="$pids $!"
    fi
done
diag "$kills writers killed with SIGKILL in $(($(date +%s) - start)) s ($midwrite in the middle of writing a file), $reader_kills readers killed"
[ $kills -ge 50 ]
ok $? "at least 50 kills ($kills)"
[ $midwrite -gt 0 ]
ok $? "some kills hit a writer in the middle of a file ($midwrite)"

sleep 1 # readers run on past the last kill
for p in $pids; do
    kill -TERM "$p" 2>/dev/null
    wait "$p"
done
pids=""
calls=0
# Readers 1 and 2 ran throughout; of the third's line only the last
# was not killed.
last3=$tmp/reader.3
[ $reader_kills -gt 0 ] && last3=$tmp/reader.3b.$reader_kills
for f in "$tmp"/reader.1 "$tmp"/reader.2 "$last3"; do
    if grep -q blocked "$f"; then
        ok 1 "$(basename "$f"): a check blocked"
        continue
    fi
    line=$(grep '^calls' "$f" | tail -1)
    set -- $line
    calls=$((calls + $2))
    is "$4:$6" "0:0" "$(basename "$f"): $2 calls, no wrong answer, no store error (max ${8} us)"
done
ls "$tmp"/reader.3b.* >/dev/null 2>&1
ok $? "readers were killed and replaced ($reader_kills)"
diag "$calls reader calls in all"
[ $calls -gt 10000 ]
ok $? "readers were busy ($calls calls)"

# Every acknowledged id; a killed writer's output ends at a whole line.
cat "$tmp"/acks.* | grep -E '^w[0-9-]+$' >"$tmp/acked"
acked=$(wc -l <"$tmp/acked")
diag "$acked revocations acknowledged"
[ "$acked" -gt 100 ]
ok $? "the writers got work done ($acked acknowledged)"
is "$("$READER" verify "$S" "$tmp/acked")" "checked $acked missing 0" \
    "nothing acknowledged is lost"
"$JWTREV" --db "$S" revoke --jti after --iss w >/dev/null &&
    echo after >"$tmp/after" && "$READER" verify "$S" "$tmp/after" | grep -q "missing 0"
ok $? "the store still takes and serves revocations"
is "$(ls "$S" | grep -c tmp)" 0 "the next writer removed the dead writers' files"
total=$("$JWTREV" --db "$S" stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"]["total"])')
[ "$total" -ge $((20100 + acked + 1)) ]
ok $? "stats: $total entries"
is "$(cat "$tmp/writer.err" 2>/dev/null)" "" "no writer reported an error"

done_testing
