#!/bin/sh
# mod_auth_jwtrev against a real httpd: the revocation store on every
# request (logout, logout-all, a CLI revocation seen on the very next
# request, the cache never serving a revoked or expired token), failing
# closed on a missing store unless AuthJWTOnDBError allow, and key
# rotation without a restart (a half-written key file ignored).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"

ap_setup
ISS=https://id.example.com
for d in api nocache short off nostore nostore-allow rot; do
    mkfile $d/ok.txt
done
mkfile logout
mkfile logout-all
cp "$S/keys/rsa.pub.pem" "$S/keys/rot.pub.pem"
BEARER='AuthType Bearer
    AuthName api
    Require valid-user'
# apache2 -t refuses a missing store (tests/apache_store_config.sh): this
# one goes away once httpd has started, before its first request.
"$JWTREV" --db "$S/gone" init --group www-data >/dev/null
ap_start "
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $ISS
AuthJWTRevocationDB $S/store
Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
<Location /api>
    $BEARER
</Location>
<Location /nocache>
    $BEARER
    AuthJWTCacheSize 0
</Location>
<Location /short>
    $BEARER
    AuthJWTLeeway 0
</Location>
<Location /off>
    $BEARER
    AuthJWTRevocationDB Off
</Location>
<Location /nostore>
    $BEARER
    AuthJWTRevocationDB $S/gone
</Location>
<Location /nostore-allow>
    $BEARER
    AuthJWTRevocationDB $S/missing
    AuthJWTOnDBError allow
</Location>
<Location /rot>
    $BEARER
    AuthJWTKeyFile $S/keys/rot.pub.pem
</Location>
<Location /logout>
    SetHandler jwtrev-logout
    $BEARER
</Location>
<Location /logout-all>
    SetHandler jwtrev-logout-all
    $BEARER
</Location>
"
t() { sign --iss $ISS --jti auto "$@"; }

# --- logout ------------------------------------------------------------------
A=$(t --sub alice)
bearer /api/ok.txt "$A"
is "$CODE" 200 "token A accepted (and now cached)"
bearer /logout "$A"
is "$CODE" 405 "GET on jwtrev-logout: 405"
is "$(hdr Allow)" POST "405 says Allow: POST"
bearer /api/ok.txt "$A"
is "$CODE" 200 "GET on the logout handler revoked nothing"
TAMPERED=$(printf '%s' "$A" | sed 's/\.[^.]*$/.AAAA/')
bearer /logout "$TAMPERED" -X POST
is "$CODE" 401 "POST logout with a tampered token: 401"
bearer /logout "" -X POST
is "$CODE" 400 "POST logout with an empty Bearer: 400"
get /logout -X POST
is "$CODE" 401 "POST logout without a token: 401"
bearer /api/ok.txt "$A"
is "$CODE" 200 "a failed logout revoked nothing"
bearer /logout "$A" -X POST
is "$CODE" 204 "POST logout with token A: 204"
bearer /api/ok.txt "$A"
is "$CODE" 401 "after logout, token A (cached before): 401"
is "$(hdr WWW-Authenticate)" \
    'Bearer realm="api", error="invalid_token", error_description="the token was revoked"' \
    "revoked: invalid_token challenge"
is "$(hdr X-Reason)" revoked "revoked: JWTREV_REASON"
bearer /nocache/ok.txt "$A"
is "$CODE" 401 "after logout, token A without the cache: 401"
"$JWTREV" --db "$S/store" status <<EOF >/dev/null
$A
EOF
is $? 1 "jwtrev status sees the httpd child's revocation"
bearer /logout "$A" -X POST
is "$CODE" 401 "logging out a revoked token again: 401"

# --- logout-all --------------------------------------------------------------
B1=$(t --sub bob --now $(($(now) - 10)))
B2=$(t --sub bob --now $(($(now) - 5)))
C=$(t --sub carol)
for tok in "$B1" "$B2" "$C"; do bearer /api/ok.txt "$tok"; done
is "$CODE" 200 "bob's and carol's tokens accepted"
get /logout-all -H "Authorization: Bearer $B2"
is "$CODE" 405 "GET on jwtrev-logout-all: 405"
bearer /logout-all "$B2" -X POST
is "$CODE" 204 "POST logout-all with bob's newer token: 204"
bearer /api/ok.txt "$B1"
is "$CODE" 401 "logout-all: bob's older token refused"
is "$(hdr X-Reason)" subject_revoked "logout-all: reason subject_revoked"
bearer /api/ok.txt "$B2"
is "$CODE" 401 "logout-all: the token that logged out refused"
bearer /api/ok.txt "$C"
is "$CODE" 200 "logout-all: another subject untouched"
B3=$(t --sub bob --now $(($(now) + 2)))
bearer /api/ok.txt "$B3"
is "$CODE" 200 "logout-all: a token issued afterwards accepted"

# --- a CLI revocation is seen on the very next request ----------------------
D=$(t --sub dave)
bearer /api/ok.txt "$D"
is "$CODE" 200 "token D accepted (cached)"
printf '%s\n' "$D" | "$JWTREV" --db "$S/store" revoke --reason test >/dev/null
is $? 0 "jwtrev revoke D"
bearer /api/ok.txt "$D"
is "$CODE" 401 "the very next request with D: 401"
E=$(t --sub erin)
bearer /api/ok.txt "$E"
"$JWTREV" --db "$S/store" revoke-subject erin --iss $ISS \
    --before $(($(now) + 1)) >/dev/null
bearer /api/ok.txt "$E"
is "$CODE" 401 "jwtrev revoke-subject: next request 401"
"$JWTREV" --db "$S/store" unrevoke --subject erin --iss $ISS >/dev/null
bearer /api/ok.txt "$E"
is "$CODE" 200 "jwtrev unrevoke: next request 200 again"
bearer /off/ok.txt "$D"
is "$CODE" 200 "AuthJWTRevocationDB Off: no revocation check"

# --- the cache never serves an expired token ---------------------------------
F=$(t --sub frank --ttl 3)
bearer /short/ok.txt "$F"
is "$CODE" 200 "short-lived token accepted (cached)"
sleep 4
bearer /short/ok.txt "$F"
is "$CODE" 401 "after exp, the cached token: 401"
is "$(hdr X-Reason)" expired "after exp: reason expired"

# --- store faults: fail closed, or open where configured ---------------------
rm -rf "$S/gone"
G=$(t --sub gina)
bearer /nostore/ok.txt "$G"
is "$CODE" 500 "missing store: 500 (fail closed)"
is "$(hdr WWW-Authenticate)" "" "missing store: no challenge (not the token's fault)"
grep -q "cannot decide on the token: db_error" "$S/error.log"
ok $? "missing store: db_error in the error log"
# docs/security-checklist.md 30: the store is asked only for a token that
# passed every check
bearer /nostore/ok.txt "$(printf '%s' "$G" | sed 's/\.[^.]*$/.AAAA/')"
is "$CODE:$(hdr X-Reason)" 401:bad_signature \
    "missing store, forged token: 401 bad_signature, the store not asked"
bearer /nostore/ok.txt "$(t --sub gina --now $(($(now) - 7200)) --ttl 600)"
is "$CODE:$(hdr X-Reason)" 401:expired \
    "missing store, expired token: 401 expired, the store not asked"
bearer /nostore-allow/ok.txt "$G"
is "$CODE" 200 "missing store with AuthJWTOnDBError allow: 200"
grep -q "token accepted (AuthJWTOnDBError allow)" "$S/error.log"
ok $? "allow: the fault is logged"
# back for the graceful restart below, whose configuration check needs it
"$JWTREV" --db "$S/gone" init --group www-data >/dev/null

# --- key rotation without a restart ------------------------------------------
OLD=$(t --sub olga)
bearer /rot/ok.txt "$OLD"
is "$CODE" 200 "rotation: token of the current key accepted (cached)"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$S/keys/new.pem" 2>/dev/null
openssl pkey -in "$S/keys/new.pem" -pubout -out "$S/keys/new.pub.pem"
NEW=$("$JWTREV" sign --key "$S/keys/new.pem" --iss $ISS --sub nina --jti new1)
# until_code PATH TOKEN CODE: poll up to 6 s (the module checks key files
# at most once a second and waits for a changed file to settle).
until_code() {
    i=0
    while [ $i -lt 30 ]; do
        bearer "$1" "$2"
        [ "$CODE" = "$3" ] && return 0
        sleep 0.2
        i=$((i + 1))
    done
    return 1
}
cat "$S/keys/new.pub.pem" >"$S/keys/rot.pub.pem"
until_code /rot/ok.txt "$NEW" 200
ok $? "rotation: the new key is accepted without a restart"
bearer /rot/ok.txt "$OLD"
is "$CODE" 401 "rotation: the old key's (cached) token refused"
grep -q "key files changed: reloaded 1 key" "$S/error.log"
ok $? "rotation: the reload is logged"

head -c 200 "$S/keys/rsa.pub.pem" >"$S/keys/rot.pub.pem"
sleep 2.5
for i in 1 2 3; do
    bearer /rot/ok.txt "$NEW"
    sleep 0.5
done
is "$CODE" 200 "half-written key file: the previous keys stay in force"
bearer /rot/ok.txt "$OLD"
is "$CODE" 401 "half-written key file: not used"
is "$(grep -c 'do not load, keeping the previous keys' "$S/error.log")" 1 \
    "half-written key file: logged once"
cat "$S/keys/rsa.pub.pem" >"$S/keys/rot.pub.pem"
until_code /rot/ok.txt "$OLD" 200
ok $? "completed key file: loaded"

# --- a graceful restart: new children, same answers -------------------------
old_child=$(pgrep -P "$AP_PID" | head -n 1)
kill -USR1 "$AP_PID"
i=0
while [ $i -lt 50 ] && pgrep -P "$AP_PID" | grep -qx "$old_child"; do
    sleep 0.1
    i=$((i + 1))
done
H=$(t --sub hugo)
until_code /api/ok.txt "$H" 200
ok $? "after a graceful restart: a valid token accepted"
bearer /api/ok.txt "$D"
is "$CODE" 401 "after a graceful restart: a revoked token still refused"

no_secret_in_log "$A" "$B1" "$B2" "$B3" "$C" "$D" "$E" "$F" "$G" "$OLD" \
    "$NEW" "$TAMPERED" "$H"
done_testing
