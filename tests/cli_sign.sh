#!/bin/sh
# jwtrev sign: every algorithm signs and verifies, claims are built as
# documented (--claims merged with the flags, iat/exp, --ttl, --aud,
# --jti auto), --kid reaches the header, bad keys and options exit 2.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
PY=/usr/bin/python3
NOW=1700000000

# ---- keys for every algorithm, made at test time ----------------------
genkey() { # NAME genpkey-args...
    name=$1
    shift
    openssl genpkey "$@" -out "$tmp/$name.key" 2>/dev/null &&
        openssl pkey -in "$tmp/$name.key" -pubout -out "$tmp/$name.pub"
}
genkey rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048 &&
    genkey p256 -algorithm EC -pkeyopt ec_paramgen_curve:P-256 &&
    genkey p384 -algorithm EC -pkeyopt ec_paramgen_curve:P-384 &&
    genkey p521 -algorithm EC -pkeyopt ec_paramgen_curve:P-521 &&
    genkey ed -algorithm ed25519 &&
    genkey weak -algorithm RSA -pkeyopt rsa_keygen_bits:1024 &&
    genkey x25519 -algorithm x25519 &&
    # hex text: 32, 48 and 64 bytes, no final newline to strip
    openssl rand -hex 16 | tr -d '\n' >"$tmp/hs256.secret" &&
    openssl rand -hex 24 | tr -d '\n' >"$tmp/hs384.secret" &&
    openssl rand -hex 32 | tr -d '\n' >"$tmp/hs512.secret" &&
    printf 'short' >"$tmp/short.secret"
ok $? "test keys generated with openssl"

# jfield FILE EXPR: a Python expression over the JSON in FILE (j).
jfield() {
    $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@" 2>/dev/null
}

# s [sign options]: sets rc, out (the token), err.
s() {
    "$JWTREV" sign "$@" >"$tmp/tok" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/tok")
    err=$(cat "$tmp/err")
}

# parts TOKEN: the decoded header and payload of $tmp/tok as JSON files
# $tmp/hdr and $tmp/claims (read without verifying, to see what was
# signed; verification is checked separately).
parts() {
    $PY - "$tmp" <<'EOF'
import base64, sys
d = sys.argv[1]
h, p, _ = open(d + "/tok").read().strip().split(".")
dec = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
open(d + "/hdr", "wb").write(dec(h))
open(d + "/claims", "wb").write(dec(p))
EOF
}

# ---- every algorithm: sign, then verify with the public key ------------
# alg|signing option|verification option
while IFS='|' read -r alg sopt vopt; do
    eval "set -- $sopt"
    s "$@" --alg "$alg" --sub alice --now $NOW
    [ "$rc" -eq 0 ] && [ -z "$err" ]
    ok $? "$alg: signed"
    eval "set -- $vopt"
    "$JWTREV" verify "$@" --alg "$alg" --now $NOW <"$tmp/tok" >"$tmp/out"
    is "$?:$(jfield "$tmp/out" 'j["sub"]')" "0:alice" "$alg: verifies"
    parts
    is "$(jfield "$tmp/hdr" 'j')" "{'alg': '$alg', 'typ': 'JWT'}" \
        "$alg: the header"
done <<EOF
HS256|--secret $tmp/hs256.secret|--secret $tmp/hs256.secret
HS384|--secret $tmp/hs384.secret|--secret $tmp/hs384.secret
HS512|--secret $tmp/hs512.secret|--secret $tmp/hs512.secret
RS256|--key $tmp/rsa.key|--key $tmp/rsa.pub
RS384|--key $tmp/rsa.key|--key $tmp/rsa.pub
RS512|--key $tmp/rsa.key|--key $tmp/rsa.pub
PS256|--key $tmp/rsa.key|--key $tmp/rsa.pub
PS384|--key $tmp/rsa.key|--key $tmp/rsa.pub
PS512|--key $tmp/rsa.key|--key $tmp/rsa.pub
ES256|--key $tmp/p256.key|--key $tmp/p256.pub
ES384|--key $tmp/p384.key|--key $tmp/p384.pub
ES512|--key $tmp/p521.key|--key $tmp/p521.pub
EdDSA|--key $tmp/ed.key|--key $tmp/ed.pub
EOF

# Without --alg the key type's default is used.
while IFS='|' read -r want key; do
    s --key "$tmp/$key" --now $NOW
    parts
    is "$(jfield "$tmp/hdr" 'j["alg"]')" "$want" "$key: default alg $want"
done <<EOF
RS256|rsa.key
ES256|p256.key
ES384|p384.key
ES512|p521.key
EdDSA|ed.key
EOF
s --secret "$tmp/hs512.secret" --now $NOW
parts
is "$(jfield "$tmp/hdr" 'j["alg"]')" HS256 "a secret: default alg HS256"

# A private key as a JWK (made with jwcrypto from the PEM).
$PY - "$tmp" <<'EOF'
import sys
from jwcrypto import jwk
d = sys.argv[1]
k = jwk.JWK.from_pem(open(d + "/p384.key", "rb").read())
open(d + "/p384.jwk", "w").write(k.export_private())
open(d + "/p384.pub.jwk", "w").write(k.export_public())
EOF
s --key "$tmp/p384.jwk" --sub alice --now $NOW
"$JWTREV" verify --key "$tmp/p384.pub.jwk" --now $NOW <"$tmp/tok" >/dev/null
is "$rc:$?" "0:0" "a JWK private key signs (ES384), its public JWK verifies"

# ---- claims -------------------------------------------------------------
s --key "$tmp/ed.key" --now $NOW
parts
is "$(jfield "$tmp/claims" 'j')" "{'iat': $NOW, 'exp': $((NOW + 3600))}" \
    "no options: iat = now, exp = now + 3600"
s --key "$tmp/ed.key" --now $NOW --iss I --sub S --aud A --jti J --ttl 60
parts
is "$(jfield "$tmp/claims" 'j')" \
    "{'iss': 'I', 'sub': 'S', 'aud': 'A', 'iat': $NOW, 'exp': $((NOW + 60)), 'jti': 'J'}" \
    "--iss --sub --aud --jti --ttl"
s --key "$tmp/ed.key" --now $NOW --aud A --aud B --aud C
parts
is "$(jfield "$tmp/claims" 'j["aud"]')" "['A', 'B', 'C']" \
    "--aud given three times: an array"
s --key "$tmp/ed.key" --now $NOW --sub bob \
    --claims '{"sub":"alice","scope":"a b","n":[1,{"x":null}],"iss":"I0"}'
parts
is "$(jfield "$tmp/claims" 'j')" \
    "{'sub': 'bob', 'scope': 'a b', 'n': [1, {'x': None}], 'iss': 'I0', 'iat': $NOW, 'exp': $((NOW + 3600))}" \
    "--claims merged: --sub replaces its sub, the rest kept in order"
s --key "$tmp/ed.key" --now $NOW --claims '{"iat":5,"exp":7}'
parts
is "$(jfield "$tmp/claims" '[j["iat"], j["exp"]]')" "[5, 7]" \
    "iat and exp from --claims are kept"
s --key "$tmp/ed.key" --now $NOW --claims '{"exp":7}' --ttl 10
parts
is "$(jfield "$tmp/claims" 'j["exp"]')" "$((NOW + 10))" \
    "--ttl replaces the exp of --claims"
s --key "$tmp/ed.key" --now $NOW --ttl 0 --claims '{"exp":7}'
parts
is "$(jfield "$tmp/claims" 'j')" "{'iat': $NOW}" "--ttl 0: no exp at all"
s --key "$tmp/ed.key" --sub alice
parts
t0=$(date +%s)
is "$(jfield "$tmp/claims" "abs(j['iat'] - $t0) <= 5 and j['exp'] - j['iat']")" \
    3600 "without --now: iat is the current time"
"$JWTREV" verify --key "$tmp/ed.pub" <"$tmp/tok" >/dev/null
is "$?" 0 "a fresh token verifies with the real clock"

# --jti auto: 16 random bytes, base64url (22 characters), unique.
: >"$tmp/jtis"
n=0
while [ $n -lt 20 ]; do
    s --key "$tmp/ed.key" --jti auto
    parts
    jfield "$tmp/claims" 'j["jti"]' >>"$tmp/jtis"
    n=$((n + 1))
done
is "$(grep -c '^[A-Za-z0-9_-]\{22\}$' "$tmp/jtis")" 20 \
    "--jti auto: 22 base64url characters"
is "$(sort -u "$tmp/jtis" | wc -l)" 20 "--jti auto: 20 tokens, 20 ids"

# --kid reaches the header; a verifier with that kid finds the key.
s --key "$tmp/ed.key" --kid "key-2026" --sub alice --now $NOW
parts
is "$(jfield "$tmp/hdr" 'j')" "{'alg': 'EdDSA', 'typ': 'JWT', 'kid': 'key-2026'}" \
    "--kid in the header"
"$JWTREV" verify --key "key-2026#$tmp/ed.pub" --now $NOW <"$tmp/tok" >/dev/null
is "$?" 0 "the token verifies with the key of that kid"
"$JWTREV" verify --key "other#$tmp/ed.pub" --now $NOW <"$tmp/tok" 2>"$tmp/err"
is "$?:$(cut -d: -f2 "$tmp/err")" "1: key_not_found" \
    "and not with a key of another kid"

# The output: the token and one newline, nothing else.
s --key "$tmp/ed.key" --now $NOW
is "$(od -An -c "$tmp/tok" | tr -d ' \n' | tail -c 2)" '\n' \
    "the token ends with a newline"
is "$(wc -l <"$tmp/tok") $(tr -cd . <"$tmp/tok" | wc -c)" "1 2" \
    "one line, three segments"

# ---- errors: exit 2 naming what is wrong --------------------------------
# want-rc|text the message must contain|options
while IFS='|' read -r want text desc opts; do
    eval "set -- $opts"
    s "$@"
    if [ -n "$text" ]; then
        echo "$err" | grep -qF -- "$text"
        is "$rc:$?:$out" "$want:0:" "$desc"
    else
        is "$rc:$out" "$want:" "$desc"
    fi
done <<EOF
2|nope.key|a missing key file|--key $tmp/nope.key
2|rsa.pub|a public key is not a signing key|--key $tmp/rsa.pub
2|tok|a file that is no key|--key $tmp/tok
2|weak.key|an RSA key under 2048 bits|--key $tmp/weak.key
2|x25519.key|an X25519 key|--key $tmp/x25519.key
2|short.secret|a secret shorter than the hash|--secret $tmp/short.secret
2|hs256.secret|a 32-byte secret for HS512|--secret $tmp/hs256.secret --alg HS512
2||an algorithm that does not fit the key|--key $tmp/ed.key --alg ES256
2||HS256 with a private key|--key $tmp/p256.key --alg HS256
2|FOO|an unknown algorithm|--key $tmp/ed.key --alg FOO
2|none|alg none|--key $tmp/ed.key --alg none
2|--key|no key|--sub alice
2||--key and --secret together|--key $tmp/ed.key --secret $tmp/hs256.secret
2|--claims|--claims that is not JSON|--key $tmp/ed.key --claims {sub:1}
2|object|--claims that is not an object|--key $tmp/ed.key --claims [1]
2||--claims with a duplicate member|--key $tmp/ed.key --claims '{"a":1,"a":2}'
2|--ttl|a negative --ttl|--key $tmp/ed.key --ttl -1
2|--ttl|a --ttl that is no number|--key $tmp/ed.key --ttl 1h
2|--now|a --now that is no number|--key $tmp/ed.key --now today
2||--now plus --ttl past the int64 range|--key $tmp/ed.key --now 9223372036854775000 --ttl 3600
2|--frobnicate|an unknown option|--key $tmp/ed.key --frobnicate
2|--kid|an option without its value|--key $tmp/ed.key --kid
2|extra|an argument sign does not take|--key $tmp/ed.key extra
EOF

"$JWTREV" sign --help >"$tmp/out" 2>"$tmp/err"
is "$?" 0 "sign --help: exit 0"
grep -q '^usage: jwtrev sign' "$tmp/out" && [ ! -s "$tmp/err" ]
ok $? "sign --help: usage on stdout"
done_testing
