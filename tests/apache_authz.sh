#!/bin/sh
# mod_auth_jwtrev against a real httpd: Require jwt-claim and jwt-scope,
# alone and in <RequireAll> / <RequireAny>, with their RFC 6750 answers
# (403 insufficient_scope with AuthzSendForbiddenOnFailure On, httpd's
# 401 otherwise, and no stale challenge when access is granted).
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"

ap_setup
ISS=https://id.example.com
for d in claim groups level scope all any not no403 user; do
    mkfile $d/ok.txt
done
BEARER='AuthType Bearer
    AuthName authz
    AuthzSendForbiddenOnFailure On'
ap_start "
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $ISS
AuthJWTRevocationDB Off
Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
<Location /claim>
    $BEARER
    Require jwt-claim role admin
</Location>
<Location /groups>
    $BEARER
    Require jwt-claim groups ops sre
</Location>
<Location /level>
    $BEARER
    Require jwt-claim level 3
</Location>
<Location /scope>
    $BEARER
    Require jwt-scope read write
</Location>
<Location /all>
    $BEARER
    <RequireAll>
        Require jwt-scope read
        Require jwt-claim role admin
    </RequireAll>
</Location>
<Location /any>
    $BEARER
    <RequireAny>
        Require jwt-scope admin
        Require jwt-claim role admin
    </RequireAny>
</Location>
<Location /not>
    $BEARER
    <RequireAll>
        Require valid-user
        Require not jwt-claim role banned
    </RequireAll>
</Location>
<Location /no403>
    AuthType Bearer
    AuthName authz
    Require jwt-scope read
</Location>
<Location /user>
    $BEARER
    <RequireAny>
        Require user alice
        Require jwt-claim role admin
    </RequireAny>
</Location>
"

t() { sign --iss $ISS --jti "j$(date +%s%N)" "$@"; }
ADMIN=$(t --sub alice --claims '{"role":"admin","scope":"read write","level":3}')
USER=$(t --sub bob --claims '{"role":"user","scope":"read","groups":["dev","sre"]}')
SCP=$(t --sub carol --claims '{"scp":["write","read"],"role":"user"}')
NONE=$(t --sub dave)
BANNED=$(t --sub eve --claims '{"role":"banned"}')
LEVEL=$(t --sub frank --claims '{"level":"3"}')

CHAL='Bearer realm="authz", error="insufficient_scope"'
# expect PATH TOKEN CODE CHALLENGE WHAT
expect() {
    bearer "$1" "$2"
    is "$CODE" "$3" "$5: $3"
    is "$(hdr WWW-Authenticate)" "$4" "$5: challenge"
}

while IFS='|' read -r path var code chal what; do
    eval "tok=\$$var"
    chal=$(printf '%s' "$chal" | sed "s|@C@|$CHAL|")
    expect "$path/ok.txt" "$tok" "$code" "$chal" "$what"
done <<'EOF'
/claim|ADMIN|200||jwt-claim role admin: role admin
/claim|USER|403|@C@|jwt-claim role admin: role user
/claim|NONE|403|@C@|jwt-claim role admin: no role claim
/groups|USER|200||jwt-claim groups ops sre: array element sre
/groups|ADMIN|403|@C@|jwt-claim groups: no groups claim
/level|ADMIN|200||jwt-claim level 3: integer claim 3
/level|LEVEL|200||jwt-claim level 3: string claim "3"
/scope|ADMIN|200||jwt-scope read write: scope "read write"
/scope|SCP|200||jwt-scope read write: scp array
/scope|USER|403|@C@, scope="read write"|jwt-scope read write: only read
/all|ADMIN|200||RequireAll scope+claim: both
/all|USER|403|@C@|RequireAll scope+claim: scope only
/all|SCP|403|@C@|RequireAll scope+claim: claim missing
/any|ADMIN|200||RequireAny: the claim grants, no scope admin
/any|USER|403|@C@, scope="admin"|RequireAny: neither
/not|ADMIN|200||Require not jwt-claim: other role
/not|BANNED|403||Require not jwt-claim role banned
/user|ADMIN|200||RequireAny user alice or claim: both
/user|USER|403|@C@|RequireAny user alice or claim: neither
EOF
bearer /scope/ok.txt "$USER"
is "$(hdr X-Reason)" insufficient_scope "jwt-scope denial: JWTREV_REASON"

get /scope/ok.txt
is "$CODE" 401 "no token on a jwt-scope location: 401"
is "$(hdr WWW-Authenticate)" 'Bearer realm="authz"' \
    "no token: authentication comes first, plain challenge"
bearer /scope/ok.txt "$(printf '%s' "$ADMIN" | sed 's/\.[^.]*$/.AAAA/')"
is "$CODE" 401 "bad token on a jwt-scope location: 401 invalid_token"

# Without AuthzSendForbiddenOnFailure, httpd answers a failed Require of an
# authenticated user with 401; the challenge still says why.
bearer /no403/ok.txt "$NONE"
is "$CODE" 401 "no AuthzSendForbiddenOnFailure: httpd's 401"
is "$(hdr WWW-Authenticate)" "$CHAL, scope=\"read\"" \
    "no AuthzSendForbiddenOnFailure: insufficient_scope challenge"
bearer /no403/ok.txt "$USER"
is "$CODE" 200 "no AuthzSendForbiddenOnFailure: granted"

no_secret_in_log "$ADMIN" "$USER" "$SCP" "$NONE" "$BANNED" "$LEVEL"
done_testing
