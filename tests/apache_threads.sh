#!/bin/sh
# Many clients at once against the one child's threads (event MPM,
# tests/apache/httpd.conf.in): the verified-token cache (4 entries for 12
# tokens, so entries are replaced while other threads hold them), the
# keyring (its file replaced during the run: reloads while requests
# verify), the revocation store handle (reads, and logouts writing), and
# sites built on their first, concurrent, requests.  Every answer must be
# the expected one; under ./dev tsan and ./dev sanitize a report from
# httpd fails the test as well (tests/apache/lib.sh).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"

ap_setup
ISS=https://id.example.com
CLIENTS=8
ROUNDS=${APACHE_THREADS_ROUNDS:-40}
mkfile api/ok.txt
for s in 1 2 3 4; do mkfile s$s/ok.txt; done
mkfile logout
cp "$S/keys/rsa.pub.pem" "$S/keys/rot.pub.pem"
BEARER='AuthType Bearer
    AuthName api
    Require valid-user'
ap_start "
AuthJWTKeyFile $S/keys/rot.pub.pem
AuthJWTIssuer $ISS
AuthJWTRevocationDB $S/store
<Location /api>
    $BEARER
    AuthJWTCacheSize 4
</Location>
<Location /s1>
    $BEARER
</Location>
<Location /s2>
    $BEARER
</Location>
<Location /s3>
    $BEARER
    AuthJWTCacheSize 0
</Location>
<Location /s4>
    $BEARER
</Location>
<Location /logout>
    SetHandler jwtrev-logout
    $BEARER
</Location>
"

# tokens: good g0..g11, revoked r0..r2, one per client to log out
i=0
while [ $i -lt 12 ]; do
    sign --iss $ISS --sub "u$i" --jti "g$i" >"$S/g$i" || break
    i=$((i + 1))
done
for i in 0 1 2; do
    sign --iss $ISS --sub "r$i" --jti "r$i" >"$S/r$i" &&
        "$JWTREV" --db "$S/store" revoke --jti "r$i" --iss $ISS >/dev/null
done
for c in $(seq $CLIENTS); do
    sign --iss $ISS --sub "l$c" --jti "l$c" >"$S/l$c"
done
ls "$S"/g11 "$S"/r2 "$S/l$CLIENTS" >/dev/null
ok $? "tokens signed, three revoked"

# client C: requests over the tokens and sites, at least ROUNDS and until
# $S/stop exists, each line "WANT GOT PATH TOKEN"; then its own token:
# 200, logout 204, 401.
client() {
    c=$1 n=0
    while [ $n -lt $ROUNDS ] || [ ! -e "$S/stop" ]; do
        k=$(((n * 7 + c * 5) % 15))
        if [ $k -lt 12 ]; then tok=g$k want=200; else tok=r$((k - 12)) want=401; fi
        path=/api/ok.txt
        [ $((n % 4)) -eq 3 ] && path=/s$(((n + c) % 4 + 1))/ok.txt
        got=$(curl -s -o /dev/null -w '%{http_code}' \
            -H "Authorization: Bearer $(cat "$S/$tok")" \
            "http://127.0.0.1:$PORT$path")
        echo "$want $got $path $tok"
        n=$((n + 1))
    done
    tok=$(cat "$S/l$c")
    for step in "200 GET /api/ok.txt" "204 POST /logout" "401 GET /api/ok.txt"; do
        set -- $step
        got=$(curl -s -o /dev/null -w '%{http_code}' -X "$2" \
            -H "Authorization: Bearer $tok" "http://127.0.0.1:$PORT$3")
        echo "$1 $got $3 l$c"
    done
}

# the key file replaced twice (same key, a new file) while the clients
# run, each time until httpd has reloaded it (within 10 s); then stop.
rotate() {
    for i in 1 2; do
        sleep 0.5
        cp "$S/keys/rsa.pub.pem" "$S/keys/rot.new" &&
            mv "$S/keys/rot.new" "$S/keys/rot.pub.pem"
        t=0
        while [ "$(grep -c 'key files changed: reloaded 1 key' "$S/error.log")" -lt $i ] &&
            [ $t -lt 100 ]; do
            sleep 0.1
            t=$((t + 1))
        done
    done
    touch "$S/stop"
}

pids=
for c in $(seq $CLIENTS); do
    client "$c" >"$S/client.$c" &
    pids="$pids $!"
done
rotate
for p in $pids; do wait "$p"; done

cat "$S"/client.* >"$S/answers"
n=$(wc -l <"$S/answers" | tr -d ' ')
diag "$n requests from $CLIENTS clients at once"
[ "$n" -ge $((CLIENTS * (ROUNDS + 3))) ]
ok $? "every client made its requests (at least $CLIENTS x $((ROUNDS + 3)))"
is "$(grep -c ' l[0-9]*$' "$S/answers")" $((CLIENTS * 3)) \
    "every client logged its own token out"
awk '$1 != $2' "$S/answers" >"$S/wrong"
is "$(wc -l <"$S/wrong" | tr -d ' ')" 0 \
    "every answer is the expected one (good 200, revoked 401, logout 204, then 401)"
[ -s "$S/wrong" ] && sed 's/^/# wrong: /' "$S/wrong" | head -20
is "$(grep -c 'key files changed: reloaded 1 key' "$S/error.log")" 2 \
    "the key file was reloaded twice during the run"
grep -q 'exit signal' "$S/error.log"
is $? 1 "no child died of a signal"
no_secret_in_log "$(cat "$S/g0")" "$(cat "$S/l1")"
done_testing
