#!/bin/bash
# jwtrevd fetching key sets from an identity provider (docs/design.md 10)
# on a local HTTPS server (tests/keys_server.py, a test CA made here): a
# set by OpenID discovery and two by URL; a rotation picked up by a
# running httpd within seconds without a restart; a token with a kid the
# files lack makes httpd (and PAM) ask the daemon for an early fetch, and
# the next request passes; a bad answer (invalid JSON, HTML, no usable
# key, duplicate kids, the server down) keeps the last good file, is
# logged once, and the next good answer is taken.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"
. "$top_srcdir/tests/pam/once.sh"
. "$top_srcdir/tests/daemon.sh"

ap_setup
SRV=
trap '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null; jd_stop KILL; ap_cleanup' EXIT
W=$S/www
mkdir -p "$W/idp/.well-known" "$S/keys/p"
(
    cd "$S/keys/p" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout ca.key -out ca.pem -days 2 -subj /CN=ca 2>/dev/null &&
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null &&
        printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
        openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
            -CAcreateserial -days 2 -extfile srv.ext -out srv.pem 2>/dev/null
)
ok $? "a test CA and a server certificate for 127.0.0.1"
# EC keys a1 a2 (httpd, by discovery), b1 b2 (httpd, by URL), c1 c2 (PAM)
/usr/bin/python3 - "$S/keys/p" <<'PY'
import json, sys
from jwcrypto import jwk
d = sys.argv[1]
for kid in ("a1", "a2", "b1", "b2", "c1", "c2", "x1"):
    k = jwk.JWK.generate(kty="EC", crv="P-256", kid=kid)
    open("%s/%s.pem" % (d, kid), "wb").write(k.export_to_pem(private_key=True,
                                                             password=None))
    pub = json.loads(k.export_public())
    pub.update(use="sig", alg="ES256")
    json.dump(pub, open("%s/%s.jwk" % (d, kid), "w"))
enc = jwk.JWK.generate(kty="OKP", crv="X25519", kid="e1")
pub = json.loads(enc.export_public())
pub.update(use="enc")
json.dump(pub, open("%s/e1.jwk" % d, "w"))
PY
ok $? "keys made with jwcrypto"
# serve FILE KID...: the set of those keys as www/FILE
serve() {
    local f=$1 k sep=
    shift
    {
        printf '{"keys": ['
        for k in "$@"; do printf '%s' "$sep"; cat "$S/keys/p/$k.jwk"; sep=,; done
        printf ']}\n'
    } >"$W/$f.tmp" && mv "$W/$f.tmp" "$W/$f"
}
serve idp/jwks.json a1
serve b.json b1
serve c.json c1
PORT_IDP=$(free_port)
BASE=https://127.0.0.1:$PORT_IDP
ISSUER=$BASE/nocache/idp
printf '{"issuer": "%s", "jwks_uri": "%s/jwks.json"}\n' "$ISSUER" "$ISSUER" \
    >"$W/idp/.well-known/openid-configuration"
start_server() {
    /usr/bin/python3 "$top_srcdir/tests/keys_server.py" "$PORT_IDP" "$W" \
        "$S/keys/p/srv.pem" "$S/keys/p/srv.key" &
    SRV=$!
    for i in $(seq 50); do
        /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT_IDP), 1)" \
            2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
start_server
ok $? "the identity provider serves on $BASE"

DS=$S/dstore
"$JWTREV" --db "$DS" init --group www-data >/dev/null
mkdir -p "$S/idpkeys"
chmod 755 "$S/idpkeys"
jd_config "$S/jwtrevd.conf" "$DS" "$S/run/jwtrevd.sock" purge_interval=0 \
    "issuer=$ISSUER $S/idpkeys/a.jwks" "jwks=$BASE/b.json $S/idpkeys/b.jwks" \
    "jwks=$BASE/c.json $S/idpkeys/c.jwks" "jwks_ca=$S/keys/p/ca.pem" \
    jwks_refresh=1
L=$S/jwtrevd.log
jd_start "$S/jwtrevd.conf" "$L"
ok $? "jwtrevd starts"
# until_log PATTERN [SECONDS]: wait until the daemon's log has it
until_log() {
    for i in $(seq $((${2:-5} * 10))); do
        grep -q -- "$1" "$L" && return 0
        sleep 0.1
    done
    return 1
}
until_log "keys: $S/idpkeys/c.jwks from" &&
    [ -s "$S/idpkeys/a.jwks" ] && [ -s "$S/idpkeys/b.jwks" ]
ok $? "the three sets fetched at start"
grep -q "keys: $S/idpkeys/a.jwks from $ISSUER: 1 keys; added: a1" "$L"
ok $? "logged with the kids added (discovery for the issuer)"

mkfile a/ok.txt
mkfile b/ok.txt
ap_start "
AuthJWTRevocationDB $DS
Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
<Location /a>
    AuthType Bearer
    AuthName a
    AuthJWTKeyFile $S/idpkeys/a.jwks
    Require valid-user
</Location>
<Location /b>
    AuthType Bearer
    AuthName b
    AuthJWTKeyFile $S/idpkeys/b.jwks
    Require valid-user
</Location>
" "warn auth_jwtrev:info"
tok() { "$JWTREV" sign --key "$S/keys/p/$1.pem" --kid "$1" --alg ES256 --sub u; }
# until_code PATH TOKEN CODE: requests until the answer is CODE (5 s)
until_code() {
    for i in $(seq 50); do
        bearer "$1" "$2"
        [ "$CODE" = "$3" ] && return 0
        sleep 0.1
    done
    return 1
}
A1=$(tok a1)
A2=$(tok a2)
bearer /a/ok.txt "$A1"
is "$CODE" 200 "httpd takes a1's token from the fetched set"

# A rotation on the identity provider: seen by the daemon, then httpd.
serve idp/jwks.json a1 a2
until_code /a/ok.txt "$A2" 200
ok $? "a2 added at the provider: httpd takes its token within seconds, no restart"
grep -q "a.jwks from $ISSUER: 2 keys; added: a2; removed: none" "$L"
ok $? "the daemon logged a2 added"

# Bad answers: the last good file stays, each failure logged once.
cp "$S/idpkeys/a.jwks" "$S/a.good"
fails() { grep -c "a.jwks from $ISSUER: .*stays as it was" "$L"; }
bad() { # DESC LOGGED_TEXT: the served set is broken from now on
    local before=$1 i
    shift
    for i in $(seq 50); do
        [ "$(fails)" -gt "$before" ] && break
        sleep 0.1
    done
    grep "a.jwks from $ISSUER: .*stays as it was" "$L" | tail -1 | grep -q -- "$2"
    ok $? "$1: logged ($(grep -o "a.jwks from [^;]*: [^;]*$2[^;]*" "$L" | tail -1 | cut -c1-120))"
    cmp -s "$S/idpkeys/a.jwks" "$S/a.good"
    ok $? "$1: the last good file stays"
    bearer /a/ok.txt "$A2"
    is "$CODE" 200 "$1: httpd goes on taking a2's token"
}
n=$(fails)
# (each bad answer put in place whole: a fetch never sees half of it)
printf '{"keys": [{"kty": "EC",' >"$W/idp/jwks.tmp" && mv "$W/idp/jwks.tmp" "$W/idp/jwks.json"
bad "$n" "invalid JSON" "JSON"
sleep 2
is "$(grep -c 'a.jwks from .*JSON' "$L")" 1 "logged once, not at every try"
n=$(fails)
printf '<html><body>Sign in</body></html>\n' >"$W/idp/jwks.tmp" &&
    mv "$W/idp/jwks.tmp" "$W/idp/jwks.json"
bad "$n" "an HTML page" "not JSON ("
n=$(fails)
serve idp/jwks.json e1
bad "$n" "a set of only unusable keys" "does not load"
n=$(fails)
/usr/bin/python3 - "$S/keys/p" "$W/idp/jwks.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1] + "/a1.jwk"))
b = json.load(open(sys.argv[1] + "/a2.jwk"))
b["kid"] = "a1"
json.dump({"keys": [a, b]}, open(sys.argv[2] + ".tmp", "w"))
PY
mv "$W/idp/jwks.json.tmp" "$W/idp/jwks.json"
bad "$n" "two keys with one kid" "kid used twice"
n=$(fails)
kill "$SRV"
wait "$SRV" 2>/dev/null
SRV=
bad "$n" "the server down" "onnect"
serve idp/jwks.json a1 a2
start_server
until_log "a.jwks from $ISSUER works again" 5
ok $? "the server back with a good set: the daemon says it works again"

# A kid the files lack: httpd asks the daemon for an early fetch.
serve b.json b1 b2
B2=$(tok b2)
bearer /b/ok.txt "$B2"
is "$CODE:$(hdr X-Reason)" 401:key_not_found "b2 not yet in httpd's file: refused"
until_log "keys: $S/idpkeys/b.jwks: a token's kid is unknown"
ok $? "httpd asked the daemon, which fetches now (max-age 600 had it wait)"
until_code /b/ok.txt "$B2" 200
ok $? "and b2's token passes moments later"
grep -q "asked jwtrevd .* to fetch the key sets now" "$S/error.log"
ok $? "httpd's error log says it asked"
X1=$(tok x1)
bearer /b/ok.txt "$X1"
bearer /b/ok.txt "$X1"
sleep 1
is "$(grep -c "b.jwks: a token's kid is unknown" "$L")" 1 \
    "asks again within the minute are not taken"

# PAM too.
mkdir -p "$S/pam.d"
echo "auth required $PAM_JWTREV key=$S/idpkeys/c.jwks db=$DS user_claim=sub" \
    >"$S/pam.d/jwt"
echo "auth required pam_deny.so" >"$S/pam.d/other"
serve c.json c1 c2
tok c2 | tr -d '\n' >"$S/c2.jwt"
pam_once "$S" u "$S/c2.jwt"
is "$PAM_CODE:$PAM_REASON" PAM_AUTH_ERR:key_not_found "PAM: c2 not yet in its file"
until_log "keys: $S/idpkeys/c.jwks: a token's kid is unknown"
ok $? "PAM asked the daemon"
for i in $(seq 50); do
    pam_once "$S" u "$S/c2.jwt"
    [ "$PAM_CODE" = PAM_SUCCESS ] && break
    sleep 0.1
done
is "$PAM_CODE" PAM_SUCCESS "PAM's next call takes c2's token"
jd_stop TERM
done_testing
