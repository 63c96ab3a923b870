#!/bin/sh
# mod_auth_jwtrev against a real httpd: every directive taking effect and
# its inheritance (server -> Location -> nested Location -> .htaccess
# with AllowOverride AuthConfig), and bad values refused by `apache2 -t`
# (and, in .htaccess, by a 500 with the directive in the error log).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"

ap_setup
I1=https://one.example.com
I2=https://two.example.com
I3=https://three.example.com
printf 'a-secret-of-at-least-32-bytes-for-HS256!' >"$S/keys/hs.key"
chmod 644 "$S/keys/hs.key"
for d in inherit over over/nested over/nested/user algs hs leeway0 maxage \
    require types env-off hdr-off; do
    mkfile $d/ok.txt
done
mkfile ht/ok.txt
mkfile dir/ok.txt
mkfile vh/ok.txt
PORT2=$(free_port)
cat >"$S/htdocs/ht/.htaccess" <<EOF
AuthType Bearer
AuthName ht
AuthJWTIssuer $I3
Require valid-user
EOF

# Echo what the module produced, for assertions without a backend.
ECHO='Header always set X-User "expr=%{REMOTE_USER}"
    Header always set X-Env "expr=%{env:JWT_CLAIM_sub}"
    Header always set X-Hdr "expr=%{req:X-JWT-sub}"
    Header always set X-Reason "expr=%{note:JWTREV_REASON}"'
BEARER='AuthType Bearer
    AuthName cfg
    Require valid-user'
ap_start "
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $I1
AuthJWTRevocationDB Off
AuthJWTClaimsEnv On
AuthJWTClaimsHeaders X-JWT-
Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
<Location /inherit>
    $BEARER
    $ECHO
</Location>
<Location /over>
    $BEARER
    AuthJWTIssuer $I2
    $ECHO
</Location>
<Location /over/nested>
    AuthJWTAudience api
</Location>
<Location /over/nested/user>
    AuthJWTUserClaim email
</Location>
<Location /algs>
    $BEARER
    AuthJWTKeyFile $S/keys/ec.pub.pem
    AuthJWTAlgorithms ES256
</Location>
<Location /hs>
    $BEARER
    AuthJWTSecretFile $S/keys/hs.key
</Location>
<Location /leeway0>
    $BEARER
    AuthJWTLeeway 0
</Location>
<Location /maxage>
    $BEARER
    AuthJWTMaxAge 600
</Location>
<Location /require>
    $BEARER
    AuthJWTRequireClaims exp jti
</Location>
<Location /types>
    $BEARER
    AuthJWTTypes at+jwt
</Location>
<Location /env-off>
    $BEARER
    AuthJWTClaimsEnv Off
    $ECHO
</Location>
<Location /hdr-off>
    $BEARER
    AuthJWTClaimsHeaders Off
    $ECHO
</Location>
<Directory $S/htdocs/dir>
    $BEARER
    AuthJWTAudience dir
    $ECHO
</Directory>
Listen 127.0.0.1:$PORT2
<VirtualHost 127.0.0.1:$PORT2>
    AuthJWTIssuer $I2
    AuthJWTClaimsEnv Off
    <Location /vh>
        $BEARER
        $ECHO
    </Location>
</VirtualHost>
<Directory $S/htdocs/ht>
    AllowOverride AuthConfig
</Directory>
<Location /ht>
    $ECHO
</Location>
"

T1=$(sign --iss $I1 --sub alice --jti t1)
T2=$(sign --iss $I2 --sub bob --jti t2)
T2AUD=$(sign --iss $I2 --sub bob --aud api --jti t2a \
    --claims '{"email":"bob@example.com"}')
T1AUD=$(sign --iss $I1 --sub alice --aud api --jti t1a)
T3=$(sign --iss $I3 --sub carol --jti t3)
NOJTI=$(sign --iss $I1 --sub alice)
EXP30=$(sign --iss $I1 --sub alice --jti e30 --now $(($(now) - 630)) --ttl 600)
OLD=$(sign --iss $I1 --sub alice --jti old --now $(($(now) - 3600)) --ttl 7200)
HS=$("$JWTREV" sign --secret "$S/keys/hs.key" --iss $I1 --sub hank --jti h1)
ES=$(pyjwt "$S/keys/ec.pem" ES256 \
    "{\"sub\":\"erin\",\"iss\":\"$I1\",\"exp\":$(($(now) + 600))}")

# expect PATH TOKEN CODE WHAT [REASON]
expect() {
    bearer "$1" "$2"
    is "$CODE" "$3" "$4: $3"
    if [ -n "${5:-}" ]; then
        is "$(hdr X-Reason)" "$5" "$4: reason $5"
    fi
}

# --- inheritance: server -> Location -> nested -> deeper -------------------
expect /inherit/ok.txt "$T1" 200 "server-level key and issuer inherited"
is "$(hdr X-User)" alice "inherited: REMOTE_USER"
expect /inherit/ok.txt "$T2" 401 "server-level issuer enforced" bad_issuer
expect /over/ok.txt "$T2" 200 "Location overrides the issuer"
expect /over/ok.txt "$T1" 401 "overridden issuer no longer accepted" \
    bad_issuer
expect /over/nested/ok.txt "$T2AUD" 200 \
    "nested Location adds an audience, keeps the parent's issuer"
expect /over/nested/ok.txt "$T2" 401 "nested audience enforced" missing_claim
expect /over/nested/ok.txt "$T1AUD" 401 "nested keeps the parent's issuer" \
    bad_issuer
expect /over/nested/user/ok.txt "$T2AUD" 200 \
    "deeper Location inherits issuer and audience"
is "$(hdr X-User)" bob@example.com "AuthJWTUserClaim email: REMOTE_USER"
expect /over/nested/user/ok.txt "$T2" 401 \
    "AuthJWTUserClaim: audience still inherited" missing_claim
expect /ht/ok.txt "$T3" 200 ".htaccess AuthType and issuer take effect"
is "$(hdr X-Env)" carol ".htaccess inherits AuthJWTClaimsEnv from the server"
is "$(hdr X-Hdr)" carol ".htaccess inherits AuthJWTClaimsHeaders"
expect /ht/ok.txt "$T1" 401 ".htaccess overrides the server's issuer" \
    bad_issuer

DIRTOK=$(sign --iss $I1 --sub dora --aud dir --jti d1)
expect /dir/ok.txt "$DIRTOK" 200 "<Directory> adds an audience to the server's issuer"
expect /dir/ok.txt "$T1" 401 "<Directory> audience enforced" missing_claim
PORT_SAVE=$PORT
PORT=$PORT2
expect /vh/ok.txt "$T2" 200 "virtual host overrides the issuer, keeps the key"
is "$(hdr X-Env)" "" "virtual host overrides AuthJWTClaimsEnv"
is "$(hdr X-Hdr)" bob "virtual host inherits AuthJWTClaimsHeaders"
expect /vh/ok.txt "$T1" 401 "virtual host: the server's issuer replaced" \
    bad_issuer
PORT=$PORT_SAVE
expect /inherit/ok.txt "$T2" 401 "the main server keeps its own issuer"

# --- each directive takes effect --------------------------------------------
expect /algs/ok.txt "$ES" 200 "AuthJWTAlgorithms ES256: ES256 token"
expect /algs/ok.txt "$T1" 401 "AuthJWTAlgorithms ES256: RS256 token" \
    alg_not_allowed
expect /hs/ok.txt "$HS" 200 "AuthJWTSecretFile: HS256 token"
expect /inherit/ok.txt "$EXP30" 200 "expired 30 s ago: inside the default leeway"
expect /leeway0/ok.txt "$EXP30" 401 "AuthJWTLeeway 0: expired" expired
expect /inherit/ok.txt "$OLD" 200 "issued an hour ago: no default max age"
expect /maxage/ok.txt "$OLD" 401 "AuthJWTMaxAge 600" too_old
expect /maxage/ok.txt "$T1" 200 "AuthJWTMaxAge 600: a fresh token"
expect /inherit/ok.txt "$NOJTI" 200 "default required claims: exp only"
expect /require/ok.txt "$NOJTI" 401 "AuthJWTRequireClaims exp jti" \
    missing_claim
expect /require/ok.txt "$T1" 200 "AuthJWTRequireClaims: token with jti"
expect /types/ok.txt "$T1" 401 "AuthJWTTypes at+jwt refuses typ JWT" \
    typ_not_allowed
expect /inherit/ok.txt "$T1" 200 "default typ rule accepts JWT"
is "$(hdr X-Env)" alice "AuthJWTClaimsEnv On (server level)"
is "$(hdr X-Hdr)" alice "AuthJWTClaimsHeaders X-JWT- (server level)"
expect /env-off/ok.txt "$T1" 200 "AuthJWTClaimsEnv Off in a Location"
is "$(hdr X-Env)" "" "AuthJWTClaimsEnv Off: no env"
is "$(hdr X-Hdr)" alice "AuthJWTClaimsEnv Off: headers still on"
expect /hdr-off/ok.txt "$T1" 200 "AuthJWTClaimsHeaders Off in a Location"
is "$(hdr X-Hdr)" "" "AuthJWTClaimsHeaders Off: no headers"
is "$(hdr X-Env)" alice "AuthJWTClaimsHeaders Off: env still on"

# --- .htaccess: a bad value fails that request, naming the directive --------
printf 'AuthType Bearer\nAuthJWTLeeway soon\nRequire valid-user\n' \
    >"$S/htdocs/ht/.htaccess"
expect /ht/ok.txt "$T3" 500 ".htaccess with a bad AuthJWTLeeway"
grep -q "AuthJWTLeeway: .*soon" "$S/error.log"
ok $? ".htaccess error names AuthJWTLeeway and the value"
printf 'AuthType Bearer\nAuthJWTKeyFile %s/keys/missing.pem\nRequire valid-user\n' \
    "$S" >"$S/htdocs/ht/.htaccess"
expect /ht/ok.txt "$T3" 500 ".htaccess with a missing key file"
grep -q "AuthJWTKeyFile: .*missing.pem" "$S/error.log"
ok $? ".htaccess error names AuthJWTKeyFile and the file"
ap_stop

# --- apache2 -t refuses bad values, naming the directive --------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 \
    -out "$S/keys/weak.pem" 2>/dev/null &&
    openssl pkey -in "$S/keys/weak.pem" -pubout -out "$S/keys/weak.pub.pem"
printf 'short' >"$S/keys/short.key"
while IFS='|' read -r line name; do
    printf '<Location /x>\n    AuthType Bearer\n    %b\n    Require valid-user\n</Location>\n' \
        "$(printf '%s' "$line" | sed "s|@S@|$S|g")" >"$S/site.conf"
    ap_httpd -t -f "$S/httpd.conf" >"$S/t.out" 2>&1
    is $? 1 "apache2 -t refuses: $line"
    grep -q "$name" "$S/t.out"
    ok $? "  and names $name"
done <<'EOF'
AuthJWTKeyFile @S@/keys/none.pem|AuthJWTKeyFile
AuthJWTKeyFile @S@/keys/weak.pub.pem|AuthJWTKeyFile.*weak.pub.pem: RSA key of 1024 bits
AuthJWTKeyFile @S@/keys/rsa.pem|AuthJWTKeyFile.*rsa.pem: private key given
AuthJWTSecretFile @S@/keys/short.key|AuthJWTSecretFile.*short.key: HS256 key of 5 bytes is shorter
AuthJWTSecretFile @S@/keys/none.key|AuthJWTSecretFile
AuthJWTKeyFile @S@/keys/rsa.pub.pem\n    AuthJWTAlgorithms ES256|AuthJWTAlgorithms
AuthJWTAlgorithms none|AuthJWTAlgorithms
AuthJWTAlgorithms RS257|AuthJWTAlgorithms
AuthJWTLeeway -5|AuthJWTLeeway
AuthJWTLeeway 1m|AuthJWTLeeway
AuthJWTMaxAge forever|AuthJWTMaxAge
AuthJWTOnDBError ignore|AuthJWTOnDBError
AuthJWTClaimsEnv maybe|AuthJWTClaimsEnv
AuthJWTClaimsHeaders X:JWT|AuthJWTClaimsHeaders
AuthJWTCookie a;b|AuthJWTCookie
AuthJWTCacheSize -1|AuthJWTCacheSize
AuthJWTCacheSize 10k|AuthJWTCacheSize
AuthJWTCacheSize 100000000|AuthJWTCacheSize
Require jwt-claim role|jwt-claim
EOF
# A key inherited from the server that a section's allow-list leaves
# without a usable algorithm: judged at start-up, naming the section.
printf 'AuthJWTKeyFile %s\n<Location /y>\n    AuthType Bearer\n    AuthJWTAlgorithms ES256\n    Require valid-user\n</Location>\n' \
    "$S/keys/rsa.pub.pem" >"$S/site.conf"
ap_httpd -t -f "$S/httpd.conf" >"$S/t.out" 2>&1
is $? 1 "apache2 -t refuses an inherited key the section's algorithms exclude"
grep -q "AuthJWTAlgorithms as merged for <Location /y>" "$S/t.out"
ok $? "  and names the directives and the section"
printf 'AuthJWTRevocationDB %s\n<Location /x>\n    AuthType Bearer\n    AuthJWTKeyFile %s\n    Require jwt-scope read\n</Location>\n' \
    "$S/store" "$S/keys/rsa.pub.pem" >"$S/site.conf"
ap_httpd -t -f "$S/httpd.conf" >"$S/t.out" 2>&1
ok $? "apache2 -t accepts a good configuration (control)"

# --- the shipped examples pass apache2 -t ------------------------------------
# (their paths made the scratch dir's: apache2 -t judges keys and store)
sed "s|/etc/jwtrev/issuer.jwks|$S/keys/ec.pub.pem|" \
    "$top_srcdir/examples/apache/site-api.conf" >"$S/site-api.conf"
sed "s|/var/lib/jwtrev|$S/store|" \
    "$top_srcdir/examples/apache/auth_jwtrev.conf" >"$S/auth_jwtrev.conf"
cat >"$S/examples.conf" <<EOF
ServerRoot "$S"
ServerName 127.0.0.1
DefaultRuntimeDir "$S/run"
PidFile "$S/examples.pid"
ErrorLog "$S/examples.log"
Define APACHE_LOG_DIR $S
Listen 127.0.0.1:$PORT
LoadModule mpm_event_module $MODDIR/mod_mpm_event.so
LoadModule authn_core_module $MODDIR/mod_authn_core.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_user_module $MODDIR/mod_authz_user.so
LoadModule auth_basic_module $MODDIR/mod_auth_basic.so
LoadModule proxy_module $MODDIR/mod_proxy.so
LoadModule proxy_http_module $MODDIR/mod_proxy_http.so
$(sed "s|/usr/lib/apache2/modules/mod_auth_jwtrev.so|$MOD_AUTH_JWTREV|" \
    "$top_srcdir/examples/apache/auth_jwtrev.load")
Include "$S/auth_jwtrev.conf"
Include "$S/site-api.conf"
EOF
ap_httpd -t -f "$S/examples.conf" >"$S/t.out" 2>&1
rc=$?
ok $rc "examples/apache (.load, .conf, site-api.conf) pass apache2 -t"
[ $rc -eq 0 ] ||
    sed 's/^/# /' "$S/t.out"

no_secret_in_log "$T1" "$T2" "$T2AUD" "$T1AUD" "$T3" "$NOJTI" "$EXP30" \
    "$OLD" "$HS" "$ES" "$DIRTOK"
done_testing
