#!/bin/sh
# mod_auth_jwtrev's logout handlers writing through jwtrevd: the store is
# readable by the web server's group and writable by root only, so an
# httpd child (or a PHP page) cannot unrevoke; logout and logout-all
# still work, are logged by the daemon as a writer's, are refused on the
# next request, and fail with a 500 naming the daemon when it is down;
# AuthJWTDaemonSocket overrides the store's marker.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/apache/lib.sh"
. "$top_srcdir/tests/daemon.sh"

ap_setup
trap 'jd_stop KILL; ap_cleanup' EXIT
ISS=https://id.example.com
DS=$S/dstore
SOCK=$S/run/jwtrevd.sock
"$JWTREV" --db "$DS" init --group www-data >/dev/null
ok $? "a store writable by root only"
jd_config "$S/jwtrevd.conf" "$DS" "$SOCK" writers=www-data purge_interval=0
jd_start "$S/jwtrevd.conf" "$S/jwtrevd.log"
ok $? "jwtrevd owns it"
mkfile api/ok.txt
mkfile logout
BEARER='AuthType Bearer
    AuthName api
    Require valid-user'
ap_start "
AuthJWTKeyFile $S/keys/rsa.pub.pem
AuthJWTIssuer $ISS
AuthJWTRevocationDB $DS
Header always set X-Reason \"expr=%{note:JWTREV_REASON}\"
<Location /api>
    $BEARER
</Location>
<Location /logout>
    SetHandler jwtrev-logout
    $BEARER
</Location>
<Location /logout-all>
    SetHandler jwtrev-logout-all
    $BEARER
</Location>
<Location /logout-elsewhere>
    SetHandler jwtrev-logout
    AuthJWTDaemonSocket $S/run/other.sock
    $BEARER
</Location>
"
t() { sign --iss $ISS --jti auto "$@"; }

A=$(t --sub alice)
bearer /api/ok.txt "$A"
is "$CODE" 200 "token A accepted"
bearer /logout "$A" -X POST
is "$CODE" 204 "logout through the daemon: 204"
bearer /api/ok.txt "$A"
is "$CODE:$(hdr X-Reason)" 401:revoked "the next request with A: 401 revoked"
grep -q "uid $(id -u www-data) (writer) revoke-token" "$S/jwtrevd.log"
ok $? "the daemon wrote it as www-data's, a writer"
printf '%s\n' "$A" >"$S/a.jwt"
chmod 644 "$S/a.jwt"
runuser -u www-data -- "$JWTREV" --db "$DS" unrevoke - <"$S/a.jwt" \
    >"$S/out" 2>&1
[ $? -ne 0 ] && grep -q 'remove refused' "$S/out"
ok $? "www-data cannot unrevoke it: $(cat "$S/out")"

B1=$(t --sub bob --now $(($(now) - 5)))
B2=$(t --sub bob)
bearer /logout-all "$B2" -X POST
is "$CODE" 204 "logout-all through the daemon: 204"
bearer /api/ok.txt "$B1"
is "$CODE:$(hdr X-Reason)" 401:subject_revoked \
    "bob's older token: subject_revoked"
grep -q "(writer) revoke-subject: {\"kind\":\"subject\",\"iss\":\"$ISS\",\"sub\":\"bob\"" \
    "$S/jwtrevd.log"
ok $? "logged as a writer's subject entry"

C=$(t --sub carol)
bearer /logout-elsewhere "$C" -X POST
is "$CODE" 500 "AuthJWTDaemonSocket names a socket nobody serves: 500"
grep -q "jwtrevd at $S/run/other.sock" "$S/error.log"
ok $? "the error log names that socket"
bearer /api/ok.txt "$C"
is "$CODE" 200 "and carol is not logged out"

jd_stop TERM
bearer /logout "$C" -X POST
is "$CODE" 500 "the daemon down: logout is a 500"
grep -q "is jwtrevd running" "$S/error.log"
ok $? "the error log says why"
bearer /api/ok.txt "$A"
is "$CODE" 401 "readers go on refusing A with the daemon down"
bearer /api/ok.txt "$C"
is "$CODE" 200 "and accepting C"
no_secret_in_log "$A" "$B2" "$C"
! grep -qF "$A" "$S/jwtrevd.log"
ok $? "no token in the daemon's log"
done_testing
