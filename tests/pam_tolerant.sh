#!/bin/sh
# DESIGN 10's tolerance through PAM: with key= a JWKS whose one good key
# sits beside keys that cannot be used, the login succeeds and each
# skipped key reaches the real syslog(3) socket as an authpriv.warning
# line naming its kid (or position) and the reason; a set of unusable
# keys only is config trouble (PAM_AUTHINFO_UNAVAIL) naming why.  As in
# pam_syslog.sh, /dev/log is a sink inside a private mount namespace.
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/tests/pam/common.sh"
set -u
pam_setup
command -v unshare >/dev/null
ok $? "unshare is installed"

D=$top_srcdir/tests/data/keys
tok=$("$JWTREV" sign --key "$D/rsa2048.priv.jwk" --sub alice --ttl 600)
ok $? "a token from the good key"
printf '%s' "$tok" >"$S/t/tol.jwt"
M=$PAM_JWTREV
svc tol "auth required $M key=$D/tolerant.jwks db=$DB"
svc none "auth required $M key=$D/unusable.jwks db=$DB"

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
        PAM_WRAPPER_USE_SYSLOG=1 PAM_WRAPPER_SERVICE_DIR="$S/pam.d" "$PAMDRV" -t "$S/t/\$1.jwt" \$2 alice \$3
}
run tol tol auth >"$S/out1" || true
run tol none auth >"$S/out2" || true
sleep 0.3
kill \$sink
EOF2
unshare -m --propagation private sh "$S/inside.sh"
ok $? "PAM runs in a namespace with a syslog sink on /dev/log"

grep -q 'PAM_SUCCESS' "$S/out1"
ok $? "the good key's token logs in ($(cat "$S/out1"))"
for w in 'key 1 (kid "x-enc") skipped: key is not meant for signature' \
    'key 3 (kid "small") skipped: RSA key of 1024 bits' \
    'key 4 (kid "legacy") skipped: JWK alg "RS1" is not a supported' \
    'key 5 (kid "dsa") skipped: JWK kty "DSA" is not supported' \
    'key 6 (kid "p192") skipped: EC JWK curve P-192 is not supported' \
    'key 7 skipped: OKP curve X448 is not supported'; do
    # <84>: authpriv (10 << 3) | LOG_WARNING (4); the log escapes quotes
    # (as \x22): compared without them
    grep '^<84>.*pam_jwtrev(tol:auth): key file warning: ' "$S/syslog" |
        sed 's/\\*x22//g' | grep -qF "tolerant.jwks: $(echo "$w" | tr -d '"')"
    ok $? "syslog authpriv.warning: $w"
done
grep -q 'PAM_AUTHINFO_UNAVAIL' "$S/out2"
ok $? "a set of unusable keys only: $(cat "$S/out2")"
grep '^<83>.*pam_jwtrev(none:auth): .*result=error reason=config_error' "$S/syslog" |
    sed 's/\\*x22//g' |
    grep -qF 'unusable.jwks: no usable key in the set: key 1 (kid x-enc)'
ok $? "and the error line names why"
grep -q 'key file warning' "$S/out1" "$S/out2"
[ $? -ne 0 ]
ok $? "no warning on the PAM conversation's output"
[ $? -eq 0 ] || sed 's/^/# /' "$S/syslog"
done_testing
