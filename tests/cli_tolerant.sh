#!/bin/sh
# DESIGN 10's tolerance through the CLI: jwtrev verify and jwtrev revoke
# --key accept a token signed by the one good key of a JWKS whose other
# keys cannot be used, and print one warning per skipped key on stderr,
# naming its kid (or position) and the reason; a set with no usable key
# is refused (exit 2) naming why; single-key files stay strict.
. "$top_srcdir/tests/tap.sh"
set -u

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
K=$top_srcdir/tests/data/keys

"$JWTREV" sign --key "$K/rsa2048.priv.jwk" --sub alice --ttl 300 >"$tmp/tok"
ok $? "a token from the good key (kid rsa1)"

"$JWTREV" verify --key "$K/tolerant.jwks" --signature-only - <"$tmp/tok" \
    >"$tmp/out" 2>"$tmp/err"
is $? 0 "verify: the good key of tolerant.jwks verifies"
grep -q '"sub": "alice"' "$tmp/out"
ok $? "verify: the claims on stdout"
for w in 'key 1 (kid "x-enc") skipped: key is not meant for signature' \
    'key 3 (kid "small") skipped: RSA key of 1024 bits' \
    'key 4 (kid "legacy") skipped: JWK alg "RS1" is not a supported' \
    'key 5 (kid "dsa") skipped: JWK kty "DSA" is not supported' \
    'key 6 (kid "p192") skipped: EC JWK curve P-192 is not supported' \
    'key 7 skipped: OKP curve X448 is not supported'; do
    grep -qF "jwtrev: verify: warning: $K/tolerant.jwks: $w" "$tmp/err"
    ok $? "verify warns: $w"
done
is "$(wc -l <"$tmp/err")" 6 "verify: six warnings, nothing else"

/usr/bin/python3 -c 'import json, sys
print(json.dumps({"keys": [json.load(open(sys.argv[1]))]}))' \
    "$K/rsa2048-kid.jwk" >"$tmp/one.jwks"
"$JWTREV" verify --key "$tmp/one.jwks" --signature-only - <"$tmp/tok" \
    >/dev/null 2>"$tmp/err2"
[ ! -s "$tmp/err2" ]
ok $? "verify: a set without unusable keys prints no warning"

"$JWTREV" verify --key "$K/unusable.jwks" --signature-only - <"$tmp/tok" \
    >/dev/null 2>"$tmp/err"
is $? 2 "verify: a set of unusable keys only is a configuration error"
grep -qF "unusable.jwks: no usable key in the set: key 1 (kid \"x-enc\") skipped: key is not meant" "$tmp/err"
ok $? "verify: the refusal names why each key was skipped"

for f in rsa1024.jwk enc.jwk kty-unknown.jwk x25519.jwk rsa1024.pub.pem; do
    "$JWTREV" verify --key "$K/$f" --signature-only - <"$tmp/tok" \
        >/dev/null 2>"$tmp/err"
    rc=$?
    [ $rc = 2 ] && ! grep -q warning "$tmp/err"
    ok $? "verify: one key in $f is still refused (exit $rc)"
done

"$JWTREV" verify --key "$K/dupkid.jwks" --signature-only - <"$tmp/tok" \
    >/dev/null 2>"$tmp/err"
is $? 2 "verify: duplicate kids refuse the whole set"
grep -q 'duplicate kid "same".*whole set is refused' "$tmp/err"
ok $? "verify: and say so"

"$JWTREV" --db "$tmp/db" init >/dev/null 2>&1
"$JWTREV" --db "$tmp/db" revoke --key "$K/tolerant.jwks" - <"$tmp/tok" \
    >/dev/null 2>"$tmp/err"
is $? 0 "revoke --key: the token is checked against the tolerant set"
grep -qF "jwtrev: revoke: warning: $K/tolerant.jwks: key 3 (kid \"small\") skipped" "$tmp/err"
ok $? "revoke --key: the warnings on stderr too"

done_testing
