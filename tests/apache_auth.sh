#!/bin/sh
# mod_auth_jwtrev against a real httpd: token sources (Authorization
# Bearer, cookie, Basic password), every response and WWW-Authenticate
# form, claims to the backend (env, headers), forged-header and forged-env
# scrubbing, CR/LF in claims, and no token text in the error log.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"

ap_setup
for d in api basic open ec noname proxyish; do mkfile $d/ok.txt; done
ISS=https://id.example.com
ap_start "
# SetEnvIf puts client-chosen values into the env names the module sets
LoadModule setenvif_module $MODDIR/mod_setenvif.so
AuthJWTRevocationDB $S/store
AuthJWTClaimsHeaders X-JWT-
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $ISS
<Location /api>
    AuthType Bearer
    AuthName api
    AuthJWTCookie jwt
    AuthJWTClaimsEnv On
    Require valid-user
    Header always set X-User \"expr=%{REMOTE_USER}\"
    Header always set X-Auth-Type \"expr=%{AUTH_TYPE}\"
    Header always set X-Env \"expr=%{env:JWT_CLAIM_sub}\"
    Header always set X-Env-Mail \"expr=%{env:JWT_CLAIM_e_mail}\"
    Header always set X-Claims \"expr=%{env:JWT_CLAIMS}\"
    Header always set X-Hdr \"expr=%{req:X-JWT-sub}\"
    Header always set X-Hdr-Mail \"expr=%{req:X-JWT-e-mail}\"
    Header always set X-Hdr-Admin \"expr=%{req:X-JWT-admin}\"
    Header always set X-Hdr-Name \"expr=%{req:X-JWT-name}\"
    Header always set X-Env-Name \"expr=%{env:JWT_CLAIM_name}\"
    Header always set X-Hdr-Long \"expr=%{req:X-JWT-long}\"
    Header always set X-Hdr-Role \"expr=%{req:X-JWT-role}\"
    Header always set X-Env-Rx \"expr=%{env:JWT_CLAIM_r_x}\"
    Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
    SetEnvIf X-Forge ^(.+)$ JWT_CLAIM_sub=\$1 JWT_CLAIM_admin=\$1
    Header always set X-Env-Admin \"expr=%{env:JWT_CLAIM_admin}\"
</Location>
<Location /basic>
    AuthType Basic
    AuthName git
    AuthBasicProvider jwt
    Require valid-user
    Header always set X-User \"expr=%{REMOTE_USER}\"
    Header always set X-Hdr \"expr=%{req:X-JWT-sub}\"
</Location>
<Location /open>
    AuthJWTClaimsEnv On
    SetEnvIf X-Forge ^(.+)$ JWT_CLAIM_sub=\$1 JWT_CLAIMS=\$1
    Header always set X-Seen \"expr=%{req:X-JWT-sub}\"
    Header always set X-Seen-U \"expr=%{req:X_JWT_sub}\"
    Header always set X-Seen-Env \"expr=%{env:JWT_CLAIM_sub}%{env:JWT_CLAIMS}\"
</Location>
<Location /ec>
    AuthType JWT
    AuthName ec
    AuthJWTKeyFile $S/keys/ec.pub.pem
    AuthJWTAlgorithms ES256
    Require valid-user
    Header always set X-User \"expr=%{REMOTE_USER}\"
</Location>
<Location /noname>
    AuthType Bearer
    Require valid-user
</Location>
"

A=$(sign --iss $ISS --sub alice --jti a1 --claims '{"e-mail":"alice@example.com"}')
ok $? "jwtrev sign made a token"
B=$(sign --iss $ISS --sub bob --jti b1)
EXPIRED=$(sign --iss $ISS --sub alice --jti x1 --now $(($(now) - 7200)) --ttl 600)
OTHER_ISS=$(sign --iss https://evil.example.com --sub alice --jti o1)
TAMPERED=$(printf '%s' "$A" | sed 's/\.[^.]*$/.AAAA/')
CRLF=$(sign --iss $ISS --sub carol --claims '{"name":"x\r\nX-Evil: 1"}')
LONG=$(sign --iss $ISS --sub dave --claims "{\"long\":\"$(head -c 4500 /dev/zero | tr '\0' a)\"}")
CRLF_SUB=$(sign --iss $ISS --sub "$(printf 'eve\r\nX-Evil: 1')" --jti crlf)
COLLIDE=$(sign --iss $ISS --sub gus \
    --claims '{"role":"admin","ROLE":"user","r.x":"1","r_x":"2"}')
PY=$(pyjwt "$S/keys/ec.pem" ES256 \
    "{\"sub\":\"erin\",\"iss\":\"$ISS\",\"exp\":$(($(now) + 600))}")
ok $? "PyJWT made an ES256 token"

# --- no token, and the forms of the Authorization header ----------------
get /api/ok.txt
is "$CODE" 401 "no token: 401"
is "$(hdr WWW-Authenticate)" 'Bearer realm="api"' \
    "no token: challenge without an error"
is "$(hdr X-Reason)" no_token "no token: JWTREV_REASON note"

bearer /api/ok.txt "$A"
is "$CODE" 200 "valid token: 200"
is "$(hdr X-User)" alice "REMOTE_USER is the sub claim"
is "$(hdr X-Auth-Type)" Bearer "AUTH_TYPE is Bearer"
is "$(hdr WWW-Authenticate)" "" "no challenge on success"

for scheme in bearer BEARER bEaReR; do
    get /api/ok.txt -H "Authorization: $scheme $A"
    is "$CODE" 200 "scheme '$scheme' accepted (case-insensitive)"
done
get /api/ok.txt -H "Authorization: Bearer   $A"
is "$CODE" 200 "several spaces after the scheme accepted (1*SP)"

# malformed credentials: RFC 6750 invalid_request
while IFS='|' read -r value what; do
    get /api/ok.txt -H "Authorization: $(printf "$value" "$A")"
    is "$CODE" 400 "$what: 400"
    is "$(hdr WWW-Authenticate)" \
        'Bearer realm="api", error="invalid_request", error_description="malformed or repeated credentials"' \
        "$what: invalid_request challenge"
done <<'EOF'
Bearer|scheme without a token
Bearer %s extra|two words after Bearer
Bearer a$b|a character outside b64token
Bearer	%s|a tab instead of a space
EOF
get /api/ok.txt -H "Authorization: Bearer $A" -H "Authorization: Bearer $B"
is "$CODE" 400 "two Authorization headers (httpd joins them): 400"
get /api/ok.txt -H "Authorization: Basic YWxpY2U6c2VjcmV0"
is "$CODE" 401 "another scheme: 401"
is "$(hdr WWW-Authenticate)" 'Bearer realm="api"' \
    "another scheme counts as no token"

# --- token failures: 401 invalid_token with a short description ---------
while IFS='|' read -r var desc reason; do
    eval "tok=\$$var"
    bearer /api/ok.txt "$tok"
    is "$CODE" 401 "$var: 401"
    is "$(hdr WWW-Authenticate)" \
        "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"$desc\"" \
        "$var: invalid_token challenge"
    is "$(hdr X-Reason)" "$reason" "$var: JWTREV_REASON is $reason"
    grep -q "rejected: $reason (" "$S/error.log"
    ok $? "$var: the error log names reason $reason"
done <<'EOF'
EXPIRED|the token expired|expired
OTHER_ISS|the token is not meant for this resource|bad_issuer
TAMPERED|the token is invalid|bad_signature
EOF
bearer /api/ok.txt "not-a-jwt"
is "$CODE" 401 "garbage token: 401"
grep -q "rejected: malformed (token-sha256:" "$S/error.log"
ok $? "a malformed token is logged by hash prefix"
grep -q "rejected: expired (jti=x1)" "$S/error.log"
ok $? "a verified-then-refused token is logged by jti"

# --- cookie source, and two different tokens ----------------------------
get /api/ok.txt -H "Cookie: theme=dark; jwt=$A; lang=en"
is "$CODE" 200 "token from the cookie: 200"
is "$(hdr X-User)" alice "cookie token: user"
get /api/ok.txt -H "Cookie: jwt=\"$A\""
is "$CODE" 200 "quoted cookie value accepted"
get /api/ok.txt -H "Cookie: jwt=$A" -H "Authorization: Bearer $A"
is "$CODE" 200 "same token in cookie and header: 200"
get /api/ok.txt -H "Cookie: jwt=$B" -H "Authorization: Bearer $A"
is "$CODE" 400 "different tokens in cookie and header: 400"
is "$(hdr X-Reason)" invalid_request "two tokens: JWTREV_REASON"
get /api/ok.txt -H "Cookie: jwt=$A; jwt=$B"
is "$CODE" 400 "two different jwt cookies: 400"
get /api/ok.txt -H "Cookie: xjwt=$A"
is "$CODE" 401 "a cookie with another name is not a token"
get /open/ok.txt -H "Cookie: jwt=$A"
is "$CODE" 200 "cookie on a location without auth: untouched"

# --- Basic password source ----------------------------------------------
get /basic/ok.txt -u "alice:$A"
is "$CODE" 200 "Basic: user = user claim, token as password: 200"
is "$(hdr X-User)" alice "Basic: REMOTE_USER"
is "$(hdr X-Hdr)" alice "Basic: claims exported as headers too"
get /basic/ok.txt -u "bob:$A"
is "$CODE" 401 "Basic: user name differs from the claim: 401"
is "$(hdr WWW-Authenticate)" 'Basic realm="git"' "Basic: Basic challenge"
grep -q "rejected: user_mismatch" "$S/error.log"
ok $? "Basic: user_mismatch logged"
get /basic/ok.txt -u "alice:$EXPIRED"
is "$CODE" 401 "Basic: expired token as password: 401"
get /basic/ok.txt
is "$CODE" 401 "Basic: no credentials: 401"

# --- claims to the backend ----------------------------------------------
bearer /api/ok.txt "$A" -H "X-JWT-sub: mallory" -H "X-JWT-admin: true" \
    -H "X_JWT_admin: true"
is "$(hdr X-Hdr)" alice "header X-JWT-sub from the token, not the client"
is "$(hdr X-Hdr-Admin)" "" "forged X-JWT-admin removed"
is "$(hdr X-Env)" alice "env JWT_CLAIM_sub"
is "$(hdr X-Env-Mail)" alice@example.com "env name sanitized (e-mail -> e_mail)"
is "$(hdr X-Hdr-Mail)" alice@example.com "header name sanitized (X-JWT-e-mail)"
case $(hdr X-Claims) in
*'"sub":"alice"'*'"jti":"a1"'* | *'"jti":"a1"'*'"sub":"alice"'*) r=0 ;;
*) r=1 ;;
esac
ok $r "JWT_CLAIMS holds the claims as compact JSON"

get /open/ok.txt -H "X-JWT-sub: mallory" -H "X_JWT_sub: mallory" \
    -H "x-jwt-SUB: m2"
is "$CODE" 200 "location without auth: 200"
is "$(hdr X-Seen)" "" "forged X-JWT-sub removed where no auth runs"
is "$(hdr X-Seen-U)" "" "forged X_JWT_sub (underscore) removed too"

# Env vars of the names the module sets, put there from client input
# before the module runs (SetEnvIf on a request header), are removed too.
bearer /api/ok.txt "$A" -H "X-Forge: mallory"
is "$CODE:$(hdr X-Env):$(hdr X-Env-Admin)" 200:alice: \
    "forged JWT_CLAIM_sub and JWT_CLAIM_admin env vars removed"
get /open/ok.txt -H "X-Forge: mallory"
is "$CODE:$(hdr X-Seen-Env)" 200: \
    "forged JWT_CLAIM_sub and JWT_CLAIMS removed where no auth runs"

bearer /api/ok.txt "$CRLF"
is "$CODE" 200 "token with CR/LF in a claim: still accepted"
is "$(hdr X-Hdr-Name)" "" "CR/LF claim never reaches a header"
is "$(hdr X-Env-Name)" "" "CR/LF claim never reaches an env var"
is "$(hdr X-Evil)" "" "no header injected"
case $(hdr X-Claims) in *'x\r\nX-Evil: 1'*) r=0 ;; *) r=1 ;; esac
ok $r "JWT_CLAIMS keeps CR/LF as JSON escapes"

bearer /api/ok.txt "$CRLF_SUB"
is "$CODE" 401 "CR/LF in the user claim: refused"
is "$(hdr X-Reason)" bad_claims "CR/LF in the user claim: bad_claims"
is "$(hdr X-User)" "" "CR/LF in the user claim: no REMOTE_USER"

bearer /api/ok.txt "$COLLIDE"
is "$(hdr X-Hdr-Role)" admin "claims colliding on a header name: the first one kept"
is "$(hdr X-Env-Rx)" 1 "claims colliding on an env name: the first one kept"

bearer /api/ok.txt "$LONG"
is "$CODE" 200 "token with a 4500-byte claim: 200"
is "$(hdr X-Hdr-Long | wc -c)" 4097 "long claim value capped at 4096 bytes"

# --- AuthType JWT alias, an independent signer, no AuthName ----------------
bearer /ec/ok.txt "$PY"
is "$CODE" 200 "PyJWT ES256 token under AuthType JWT: 200"
is "$(hdr X-User)" erin "PyJWT token: user"
bearer /ec/ok.txt "$A"
is "$CODE" 401 "RS256 token where only ES256 is allowed: 401"
get /noname/ok.txt
is "$(hdr WWW-Authenticate)" Bearer "no AuthName: plain Bearer challenge"
bearer /noname/ok.txt "$TAMPERED"
is "$(hdr WWW-Authenticate)" \
    'Bearer error="invalid_token", error_description="the token is invalid"' \
    "no AuthName: error challenge without realm"

# --- LogLevel auth_jwtrev:debug explains the decisions ---------------------
while IFS='|' read -r pattern what; do
    grep -q "auth_jwtrev:debug.*$pattern" "$S/error.log"
    ok $? "debug log: $what"
done <<'EOF'
no token in the request: challenge|no token
token from the Authorization header accepted for user alice (jti=a1)|accepted, with source and jti
token from the cookie accepted for user alice|the cookie as source
token found in the cache of verified tokens|a cache hit
claim not exported (control characters in its value)|a claim held back
EOF

no_secret_in_log "$A" "$B" "$EXPIRED" "$OTHER_ISS" "$TAMPERED" "$CRLF" \
    "$LONG" "$PY" "$COLLIDE" "$CRLF_SUB"
done_testing
