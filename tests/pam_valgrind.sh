#!/bin/sh
# pam_jwtrev frees what it allocates and reads no uninitialised memory, on
# the success path (keys, policy, store, exported claims, account state)
# and on failure paths, under valgrind with the real libpam.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/pam/common.sh"
set -u
pam_setup
command -v valgrind >/dev/null
ok $? "valgrind is installed"

ISS=https://id.example
mktokens <<EOF2
valid|es256.key|ES256|{"kid":"es1"}|{"sub":"alice","iss":"$ISS","exp":"@+600","role":"admin","jti":"vg-1"}
rs|rs2048.key|RS256|{"kid":"rs1"}|{"sub":"alice","iss":"$ISS","exp":"@+600"}
tampered|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","exp":"@+600"}|tamper
expired|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","exp":"@-3600"}
EOF2
ok $? "test tokens made"
printf 'hunter2' >"$S/t/password.jwt"
M=$PAM_JWTREV
opts="key=$K/jwks.json iss=$ISS db=$DB export_claims=sub,role"
svc jwt "auth required $M $opts" "$(visible account "$opts")"
svc broken "auth required $M key=$S/missing.pem"
svc nodb "auth required $M key=$K/jwks.json db=$S/missing"

# pam_wrapper's deep binding confuses valgrind; its man page says to disable
# it.  Under valgrind pam_wrapper also sets itself up more than once and
# leaves copies of the service files in /tmp/pam.? (marked with the pid):
# remove those of our run.
vg() {
    (
        flock 9 # see PAM_LOCK in tests/pam/common.sh
        LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_DISABLE_DEEPBIND=1 \
            PAM_WRAPPER_SERVICE_DIR="$S/pam.d" \
            valgrind -q --error-exitcode=99 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect \
            --show-leak-kinds=definite,indirect \
            "$PAMDRV" "$@" >"$S/out" 2>"$S/vg.log" &
        pid=$!
        wait $pid
        rc=$?
        for d in /tmp/pam.?; do
            [ "$(cat "$d/pid" 2>/dev/null)" = "$pid" ] && rm -rf "$d"
        done
        exit $rc
    ) 9>"$PAM_LOCK"
}

# service | token | steps | expected results
while IFS='|' read -r name tok steps want; do
    [ -n "$name" ] || continue
    vg -t "$S/t/$tok.jwt" "$name" alice $steps
    r=$?
    [ $r -eq 0 ] || sed 's/^/# /' "$S/vg.log"
    ok $r "valgrind clean: $name $tok ($steps)"
    is "$(sed -n 's/^\(auth\|acct\) //p' "$S/out" |
        sed 's/^PAM_TRY_AGAIN$/PAM_IGNORE/' | tr '\n' ' ')" "$want" \
        "$name $tok: $want"
done <<EOF2
jwt|valid|auth acct env|PAM_SUCCESS PAM_SUCCESS 
jwt|rs|auth acct|PAM_SUCCESS PAM_SUCCESS 
jwt|tampered|auth acct|PAM_AUTH_ERR PAM_IGNORE 
jwt|expired|auth|PAM_AUTH_ERR 
jwt|password|auth|PAM_AUTH_ERR 
broken|valid|auth|PAM_AUTHINFO_UNAVAIL 
nodb|valid|auth|PAM_AUTHINFO_UNAVAIL 
EOF2
done_testing
