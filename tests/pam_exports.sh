#!/bin/sh
# pam_jwtrev.so exports only its pam_sm_* entry points, resolves every
# library symbol inside itself, and installs as one .so in the PAM module
# directory (no libtool archive).
. "$top_srcdir/tests/tap.sh"
set -u
S=$(mktemp -d)
trap 'rm -rf "$S"' EXIT

test -f "$PAM_JWTREV"
ok $? "the module is built"
is "$(nm -D --defined-only "$PAM_JWTREV" | awk '{print $3}' | sort | tr '\n' ' ')" \
    "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_setcred " \
    "exports exactly pam_sm_acct_mgmt, pam_sm_authenticate, pam_sm_setcred"
is "$(nm -D --undefined-only "$PAM_JWTREV" | grep -c 'jwtrev')" 0 \
    "no jwtrev symbol left for the loader to resolve"
/usr/bin/python3 -c 'import ctypes, os, sys; ctypes.CDLL(sys.argv[1], os.RTLD_NOW)' \
    "$PAM_JWTREV"
ok $? "the module loads with every symbol bound (RTLD_NOW)"
! readelf -d "$PAM_JWTREV" | grep -qE 'NEEDED.*(libpq|libcurl)'
ok $? "the module does not link libpq (fleet mode is jwtrevd's)"

make -s -C "$top_builddir" DESTDIR="$S/inst" install-pammodLTLIBRARIES \
    install-data-hook-pam >"$S/make.log" 2>&1
ok $? "make install of the module into a DESTDIR"
installed=$(find "$S/inst" -name 'pam_jwtrev*' | sed "s|^$S/inst||")
is "$(echo "$installed" | grep -c .)" 1 "one file installed"
case $installed in
*/security/pam_jwtrev.so) r=0 ;;
*) r=1 ;;
esac
ok $r "installed as .../security/pam_jwtrev.so ($installed)"
done_testing
