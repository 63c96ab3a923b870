#!/bin/sh
# keys_fetch.sh - jwtrev keys fetch against a local HTTPS identity
# provider (tests/keys_server.py on 127.0.0.1, a test CA made here): a set
# installed, a rotation reported, discovery, and every bad input of issue
# 12, each leaving FILE byte for byte as it was, with its exit code.
set -u
. "$top_srcdir/tests/tap.sh"

dir=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir" || exit 1
mkdir -p www/.well-known www/other/.well-known

# a test CA, a server certificate for 127.0.0.1 and localhost, another CA
mkca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" 2>/dev/null
}
mkca ca && mkca otherca || exit 1
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 2>/dev/null &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >srv.ext &&
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key \
        -CAcreateserial -days 2 -extfile srv.ext -out srv.pem 2>/dev/null ||
    exit 1

# the sets: P-256 keys a, b, c; an X25519 encryption key (unusable)
/usr/bin/python3 - <<'PY' || exit 1
import json
from jwcrypto import jwk
def pub(kid, **kw):
    k = jwk.JWK.generate(**kw, kid=kid)
    d = json.loads(k.export_public())
    d.update(use="enc") if kw.get("crv") == "X25519" else d.update(
        use="sig", alg="ES256")
    return d
a, b, c = (pub(k, kty="EC", crv="P-256") for k in "abc")
x = pub("x", kty="OKP", crv="X25519")
def put(name, keys):
    with open("www/" + name, "w") as f:
        json.dump({"keys": keys}, f)
put("set1.json", [a, b])
put("set2.json", [b, c])
put("dup.json", [a, dict(b, kid="a")])
put("enc.json", [x])
PY
printf '{"keys": [{"kty": "EC",' >www/broken.json
printf '<html><body>Sign in</body></html>\n' >www/login.html

port=$(free_port)
down=$(free_port)
base=https://127.0.0.1:$port
printf '{"issuer": "%s", "jwks_uri": "%s/set2.json"}\n' "$base" "$base" \
    >www/.well-known/openid-configuration
printf '{"issuer": "https://idp.example", "jwks_uri": "%s/set1.json"}\n' \
    "$base" >www/other/.well-known/openid-configuration
/usr/bin/python3 "$top_srcdir/tests/keys_server.py" "$port" www srv.pem \
    srv.key &
pid=$!
i=0
until /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 50 ] || { echo "Bail out! the test server did not start"; exit 1; }
    sleep 0.1
done

fetch() { "$JWTREV" keys fetch "$@" >out 2>err; }

# a good set, then the same again
fetch "$base/set1.json" keys.json --ca ca.pem
ok $? "a good set is installed (exit 0)"
cmp -s keys.json www/set1.json
ok $? "FILE holds the fetched set"
grep -q '^keys.json: replaced (2 keys); added: a b$' out
ok $? "the output says replaced, kids added" || sed 's/^/# /' out err
is "$(stat -c %a keys.json)" 644 "a new FILE is 0644"
chmod 640 keys.json
fetch "$base/set1.json" keys.json --ca ca.pem
ok $? "the same set again: exit 0"
grep -q '^keys.json: unchanged (2 keys)$' out
ok $? "the output says unchanged"

# rotation: c added, a removed; FILE's mode kept
fetch "$base/set2.json" keys.json --ca ca.pem
ok $? "a rotated set is installed (exit 0)"
grep -q '^keys.json: replaced (2 keys); added: c; removed: a$' out
ok $? "the rotation is reported: c added, a removed" || sed 's/^/# /' out
cmp -s keys.json www/set2.json
ok $? "FILE holds the rotated set"
is "$(stat -c %a keys.json)" 640 "FILE's mode is kept"
grep -q '"x":' out err
ok $((!$?)) "no key material printed"

# discovery
fetch "$base" disc.json --issuer --ca ca.pem
ok $? "--issuer: discovery, then its jwks_uri (exit 0)"
cmp -s disc.json www/set2.json
ok $? "--issuer: FILE holds the set jwks_uri names"
rm -f disc.json
fetch "$base/.well-known/openid-configuration" disc.json --ca ca.pem
ok $? "a .well-known URL is taken as discovery (exit 0)"
cmp -s disc.json www/set2.json
ok $? "a .well-known URL: FILE holds the set"

# the library as jwtrevd calls it: max-age, whose fault, threads at once
probe="$top_builddir/tests/fetch_probe"
is "$("$probe" get "$base/set1.json" ca.pem)" "$(wc -c <www/set1.json) 600" \
    "the body and Cache-Control max-age are returned"
is "$("$probe" discover "$base" ca.pem)" "$base/set2.json" \
    "discovery returns the jwks_uri"
is "$("$probe" discover "$base/" ca.pem | cut -d: -f1)" why=3 \
    "discovery: the issuer must match exactly (a trailing slash is another)"
is "$("$probe" get "https://127.0.0.1:$down/" ca.pem | cut -d: -f1)" why=2 \
    "a server down is the network's fault (JWTREV_FETCH_NETWORK)"
is "$("$probe" get "$base/login.html" ca.pem | cut -d: -f1)" why=3 \
    "HTML is the answer's fault (JWTREV_FETCH_ANSWER)"
is "$("$probe" get "http://192.0.2.1/" ca.pem | cut -d: -f1)" why=1 \
    "plain http off loopback is refused (JWTREV_FETCH_REFUSED)"
is "$("$probe" threads "$base/set1.json" ca.pem 8)" "8 ok" \
    "eight threads fetch at once"

# every bad input: FILE byte for byte as it was, and the exit code
cp keys.json before.json
bad() { # WANT_EXIT WHAT GREP ARGS...
    want=$1 what=$2 pat=$3
    shift 3
    fetch "$@" keys.json
    is $? "$want" "$what: exit $want"
    cmp -s keys.json before.json && grep -q -- "$pat" err
    ok $? "$what: FILE unchanged, error says '$pat'"
    sed 's/^/# /' err
}
bad 3 "issuer mismatch" "issuer is not" "$base/other" --issuer --ca ca.pem
bad 3 "server down" "connect" "https://127.0.0.1:$down/set1.json" --ca ca.pem
bad 3 "slow server" "timeout" "$base/slow/set1.json" --timeout 1 --ca ca.pem
bad 3 "HTML body" "not JSON" "$base/login.html" --ca ca.pem
bad 3 "a 10 MB body" "too large" "$base/big" --ca ca.pem
bad 3 "status 404" "status 404" "$base/nothing.json" --ca ca.pem
bad 1 "invalid JSON" "not JSON" "$base/broken.json" --ca ca.pem
bad 1 "duplicate kids" "kid used twice" "$base/dup.json" --ca ca.pem
bad 1 "only unusable keys" "does not load" "$base/enc.json" --ca ca.pem
bad 3 "no --ca: certificate does not verify" "TLS" "$base/set1.json"
bad 3 "another CA" "TLS" "$base/set1.json" --ca otherca.pem
bad 2 "plain http off loopback" "refused" "http://192.0.2.1/jwks.json" \
    --timeout 1
bad 2 "usage: an unknown option" "bogus" "$base/set1.json" --bogus
is "$(ls | grep -c 'keys.json.new')" 0 "no temporary file left"

done_testing
