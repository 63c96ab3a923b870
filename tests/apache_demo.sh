#!/bin/sh
# examples/demo.sh (./dev demo --once) runs the whole walkthrough of
# docs/design.md section 6 against a private httpd and every step answers as
# narrated.
. "$top_srcdir/tests/tap.sh"
set -u
out=$(mktemp /tmp/jwtrev-demo-test.XXXXXX)
trap 'rm -f "$out"' EXIT
# A new port when another process took the free one before httpd bound it.
for try in 1 2 3; do
    PORT=$(free_port) "$top_srcdir/examples/demo.sh" "$top_builddir" --once \
        >"$out" 2>&1
    rc=$?
    [ $rc -eq 2 ] && grep -q 'Address already in use' "$out" || break
done
is $rc 0 "demo.sh --once exits 0"
[ $rc -eq 0 ] || sed 's/^/# /' "$out"
grep -q '"sub": "alice"' "$out"
ok $? "the CLI shows the verified claims"
grep -q '^rejected: bad_signature:' "$out"
ok $? "the tampered token is rejected as bad_signature"
grep -q '^rejected: expired:' "$out"
ok $? "the expired token is rejected as expired"
codes=$(sed -n 's/^  -> \([0-9][0-9][0-9]\).*/\1/p' "$out" | tr '\n' ' ')
# no token, alice, logout, alice again, two new tokens, logout-all, both
# again, bob, bob after the CLI revocation
is "$codes" "401 200 204 401 200 200 204 401 401 200 401 " \
    "httpd answers each step as narrated"
grep -q 'error_description="the token was revoked"' "$out"
ok $? "a revoked token gets invalid_token 'the token was revoked'"
grep -q 'rejected: subject_revoked' "$out"
ok $? "httpd logged subject_revoked after logout-all"
[ "$(grep -c '^token iss=\|^subject iss=' "$out")" -eq 3 ]
ok $? "jwtrev list shows the logout, the admin revocation and logout-all"
done_testing
