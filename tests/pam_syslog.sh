#!/bin/sh
# pam_jwtrev's decisions reach the real syslog(3) socket: facility
# authpriv, one datagram per decision, priority by outcome, never the
# token.  /dev/log is a test sink inside a private mount namespace, so the
# host's /dev is untouched.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/pam/common.sh"
set -u
pam_setup
command -v unshare >/dev/null
ok $? "unshare is installed"

ISS=https://id.example
mktokens <<EOF2
valid|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","exp":"@+600","jti":"sys-1"}
expired|es256.key|ES256|{}|{"sub":"alice","iss":"$ISS","exp":"@-3600"}
EOF2
ok $? "test tokens made"
M=$PAM_JWTREV
opts="key=$K/es256.pub iss=$ISS db=$DB"
svc jwt "auth required $M $opts" "account required $M $opts"
svc broken "auth required $M key=$S/missing.pem"

# Inside the namespace: a tmpfs /dev with the few device nodes needed, the
# sink on /dev/log, then the PAM runs with pam_wrapper's syslog pass-through.
cat >"$S/inside.sh" <<EOF2
set -e
mkdir "$S/hostdev"
mount --rbind /dev "$S/hostdev"
mount -t tmpfs -o mode=755 tmpfs /dev
for d in null zero random urandom; do
    touch /dev/\$d
    mount --bind "$S/hostdev/\$d" /dev/\$d
done
/usr/bin/python3 "$top_srcdir/tests/pam/syslogd.py" /dev/log "$S/syslog" &
sink=\$!
while [ ! -e "$S/syslog" ]; do sleep 0.05; done
run() {
    flock "$PAM_LOCK" env LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 \
        PAM_WRAPPER_USE_SYSLOG=1 PAM_WRAPPER_SERVICE_DIR="$S/pam.d" "$PAMDRV" -t "$S/t/\$1.jwt" \$2 alice \$3 \$4
}
run valid jwt auth acct >"$S/out1"
run expired jwt auth >"$S/out2"
run valid broken auth >"$S/out3"
sleep 0.3
kill \$sink
EOF2
unshare -m --propagation private sh "$S/inside.sh"
ok $? "PAM runs in a namespace with a syslog sink on /dev/log"

lines=$(grep -c 'pam_jwtrev(' "$S/syslog")
is "$lines" 4 "four decisions, four syslog messages"
is "$(grep -c '^<86>.*pam_jwtrev(jwt:auth): service="jwt" user="alice" result=success reason=ok id="jti=sys-1"' "$S/syslog")" 1 \
    "success: authpriv.info, service, user, result, reason, jti"
is "$(grep -c '^<86>.*pam_jwtrev(jwt:account): .*result=success reason=ok' "$S/syslog")" 1 \
    "account: authpriv.info"
is "$(grep -c '^<85>.*pam_jwtrev(jwt:auth): .*result=denied reason=expired id="sha256:[0-9a-f]\{16\}"' "$S/syslog")" 1 \
    "token failure: authpriv.notice with reason and hash prefix"
is "$(grep -c '^<83>.*pam_jwtrev(broken:auth): .*result=error reason=config_error .*missing.pem' "$S/syslog")" 1 \
    "config trouble: authpriv.err naming the file"
is "$(grep -v '^<8[0-7]>' "$S/syslog" | grep -c 'pam_jwtrev')" 0 \
    "no pam_jwtrev message outside authpriv"
cp "$S/syslog" "$S/all.log"
no_token_in "$S/all.log"
ok $? "no token payload or signature in syslog"
done_testing
