#!/bin/sh
# The kill test with jwtrevd as the writer (docs/design.md 4 and 7): the
# daemon killed with SIGKILL at random moments, many times, while a
# client writes through it (with a compact now and then, and background
# folds: fold_at=300) and reader processes look tokens up.  No reader
# may block or answer wrongly, every write the daemon acknowledged must
# be there afterwards, and the next daemon starts over whatever the dead
# one left (its socket, a fold's temporary file).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/daemon.sh"
set -u

tmp=$(mktemp -d)
pids=""
trap 'jd_stop KILL; for p in $pids; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
S=$tmp/store
SOCK=$tmp/jwtrevd.sock
READER=$top_builddir/tests/store_reader
SECONDS_MAX=20
KILLS_MAX=60
READ_SECONDS=$((SECONDS_MAX + 8))

"$JWTREV" --db "$S" init >/dev/null &&
    awk 'BEGIN {
        for (i = 0; i < 100; i++)
            printf "{\"kind\":\"token\",\"iss\":\"k\",\"jti\":\"p%d\"}\n", i
        for (i = 0; i < 20000; i++)
            printf "{\"kind\":\"token\",\"iss\":\"f\",\"jti\":\"f%d\",\"until\":4000000000}\n", i
    }' | "$JWTREV" --db "$S" load >/dev/null
ok $? "a store of 20100 entries"
jd_config "$tmp/jwtrevd.conf" "$S" "$SOCK" purge_interval=0 fold_at=300 \
    fold_retry=1

# client START: puts w<START>-0, w<START>-1, ... through the daemon, one
# per request, printing each id the daemon acknowledged; a compact every
# 30 (a fold of 20000 entries: kills land inside them); stops at the
# first failure (the daemon killed).
client() {
    /usr/bin/python3 -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
i = 0
while True:
    if i % 30 == 29:
        f.write("{\"op\":\"compact\"}\n")
    else:
        jti = "w%s-%d" % (sys.argv[2], i)
        f.write(json.dumps({"op": "put", "entry":
                {"kind": "token", "iss": "w", "jti": jti}}) + "\n")
    f.flush()
    line = f.readline()
    if not line or "\"ok\":true" not in line:
        break
    if i % 30 != 29:
        print(jti, flush=True)
    i += 1' "$SOCK" "$1"
}

rand_ms() {
    echo $(($1 + $(od -An -N2 -tu2 /dev/urandom) % $2))
}

for r in 1 2 3; do
    "$READER" hammer "$S" $READ_SECONDS >"$tmp/reader.$r" 2>"$tmp/reader.$r.err" &
    pids="$pids $!"
done

kills=0
fails=0
midfold=0
start=$(date +%s)
while [ $kills -lt $KILLS_MAX ] && [ $(($(date +%s) - start)) -lt $SECONDS_MAX ]; do
    if ! jd_start "$tmp/jwtrevd.conf" "$tmp/d.log"; then
        fails=$((fails + 1))
        break
    fi
    client "$kills" >"$tmp/acks.$kills" 2>/dev/null &
    c=$!
    sleep "$(printf '0.%03d' "$(rand_ms 50 450)")"
    jd_stop KILL
    kills=$((kills + 1))
    ls "$S" | grep -q '\.tmp\.' && midfold=$((midfold + 1))
    wait $c 2>/dev/null
done
diag "jwtrevd killed with SIGKILL $kills times in $(($(date +%s) - start)) s"
is "$fails" 0 "every restart over what the dead daemon left worked"
[ $kills -ge 20 ]
ok $? "at least 20 kills ($kills)"
[ $midfold -gt 0 ]
ok $? "some kills hit the daemon writing a file, a fold's base or a delta ($midfold)"

sleep 1
for p in $pids; do
    kill -TERM "$p" 2>/dev/null
    wait "$p"
done
pids=""
calls=0
for f in "$tmp"/reader.1 "$tmp"/reader.2 "$tmp"/reader.3; do
    if grep -q blocked "$f"; then
        ok 1 "$(basename "$f"): a check blocked"
        continue
    fi
    line=$(grep '^calls' "$f" | tail -1)
    set -- $line
    calls=$((calls + $2))
    is "$4:$6" "0:0" "$(basename "$f"): $2 calls, no wrong answer, no store error (max ${8} us)"
done
[ $calls -gt 10000 ]
ok $? "readers were busy ($calls calls)"

cat "$tmp"/acks.* | grep -E '^w[0-9-]+$' >"$tmp/acked"
acked=$(wc -l <"$tmp/acked")
diag "$acked writes acknowledged by the daemon"
[ "$acked" -gt 100 ]
ok $? "the daemon got work done ($acked acknowledged)"
is "$("$READER" verify "$S" "$tmp/acked")" "checked $acked missing 0" \
    "nothing it acknowledged is lost"
jd_start "$tmp/jwtrevd.conf" "$tmp/d.log" &&
    "$JWTREV" --db "$S" revoke --jti after --iss w >/dev/null &&
    echo after >"$tmp/after" && "$READER" verify "$S" "$tmp/after" | grep -q "missing 0"
ok $? "a new daemon takes and serves revocations"
"$JWTREV" --db "$S" compact >/dev/null
ok $? "and folds through the dead ones' leftovers"
"$JWTREV" --db "$S" check >"$tmp/check" 2>&1
ok $? "jwtrev check: the store is intact"
jd_stop TERM
done_testing
