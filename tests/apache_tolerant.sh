#!/bin/sh
# DESIGN 10's tolerance through a real httpd: a JWKS whose one good RS256
# key sits beside keys that cannot be used loads; apache2 -t and the start
# of httpd log one warning per skipped key (kid or position, and reason);
# the good key's token is accepted; a set of unusable keys only stops
# apache2 -t naming why each key was refused.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"

ap_setup
K=$top_srcdir/tests/data/keys
cp "$K/tolerant.jwks" "$K/unusable.jwks" "$S/keys/"
chmod 644 "$S"/keys/*.jwks
mkfile api/ok.txt
SITE="<Location /api>
    AuthType Bearer
    AuthName api
    AuthJWTKeyFile $S/keys/tolerant.jwks
    AuthJWTRevocationDB Off
    Require valid-user
</Location>"
ap_start "$SITE"
WARNS='key 1 (kid "x-enc") skipped: key is not meant for signature
key 3 (kid "small") skipped: RSA key of 1024 bits
key 4 (kid "legacy") skipped: JWK alg "RS1" is not a supported
key 5 (kid "dsa") skipped: JWK kty "DSA" is not supported
key 6 (kid "p192") skipped: EC JWK curve P-192 is not supported
key 7 skipped: OKP curve X448 is not supported'
while IFS= read -r w; do
    grep -F "$S/keys/tolerant.jwks: $w" "$S/configtest.log" |
        grep -q 'warn'
    ok $? "apache2 -t warns: $w"
    cat "$S/error.log" "$S/httpd.out" |
        grep -F "AuthJWTKeyFile $S/keys/tolerant.jwks: $w" | grep -q 'warn'
    ok $? "httpd start logs: $w"
done <<EOF
$WARNS
EOF

TOK=$("$JWTREV" sign --key "$K/rsa2048.priv.jwk" --sub alice --ttl 300)
bearer /api/ok.txt "$TOK"
is "$CODE" 200 "the good key's token is accepted"
# Another last character (one that stays canonical base64url: A and Q
# differ in the signature's last bits), never the same one.
last=${TOK#"${TOK%?}"}
[ "$last" = A ] && other=Q || other=A
bearer /api/ok.txt "${TOK%?}$other"
is "$CODE" 401 "a tampered token is refused"
n=$(grep -c 'skipped' "$S/error.log")
bearer /api/ok.txt "$TOK"
is "$(grep -c 'skipped' "$S/error.log")" "$n" "no warning on the request path"
ap_stop

printf '%s\n' "$SITE" | sed 's/tolerant.jwks/unusable.jwks/' >"$S/site.conf"
ap_httpd -t -f "$S/httpd.conf" >"$S/t.out" 2>&1
is $? 1 "apache2 -t refuses a set of unusable keys only"
grep -qF "unusable.jwks: no usable key in the set: key 1 (kid \"x-enc\") skipped" "$S/t.out"
ok $? "and names why each key was refused"
[ $? -eq 0 ] || sed 's/^/# /' "$S/t.out"

no_secret_in_log "$TOK"
done_testing
